/* password.h — password hashing and policy: argon2id PHC strings via libsodium (parameters from
 * config, rehash on login when they rise) and refusal of short or commonly used passwords. */
#ifndef BCF_PASSWORD_H
#define BCF_PASSWORD_H
#include <sodium.h>

#define PASSWORD_HASH_MAX crypto_pwhash_STRBYTES

/* Hashes with password.opslimit / password.memlimit_kib into out. 0 or -1. */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* 1 when password matches hash, 0 otherwise (also 0 for a malformed hash). */
int password_verify(const char *hash, const char *password);
/* 1 when hash was made with other parameters than the config asks for now (raised ones, in
 * practice), so the caller rehashes at this login. 0 otherwise, also for a malformed hash. */
int password_needs_rehash(const char *hash);
/* NULL when acceptable, else the i18n key of the reason: "password.too_short",
 * "password.too_long" (> 1024 bytes), "password.common" (in the bundled list, case-insensitive,
 * also when it merely repeats the e-mail address or its local part), "password.invalid" (not UTF-8).
 * The minimum is password.min_length code points. */
const char *password_policy_error(const char *password, const char *email);
/* Loads the list at path, replacing the one in use (0, or -1 leaving it as it was). The policy
 * check loads password.common_list by itself the first time; NULL forgets the list so that the
 * next check loads it again (after a config change, and in tests). */
int password_load_common(const char *path);
#endif
