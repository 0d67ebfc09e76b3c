/* vault.h — the credential vault: third-party secrets (exchange API keys, TOTP seeds, tokens)
 * sealed with XChaCha20-Poly1305 under master keys kept in a key file outside the database. */
#ifndef BCF_VAULT_H
#define BCF_VAULT_H
#include <stddef.h>
#include "arena.h"

/* Loads vault.keyfile: lines "<key_id> <base64 32-byte key>", '#' comments; the highest id is
 * the current key (new seals use it). Refuses a file readable by group/others. 0 or -1 with err.
 * Keys live in sodium_malloc'd (locked, guarded) memory; the previous set is wiped once the new
 * one is in place, and a failed load keeps it. Processes need not call this: the first seal or
 * open loads the configured file, and a replaced file (botctl keys rotate) is picked up within
 * a second, or at once when an envelope names a key not yet known. Thread-safe. */
int vault_load(const char *path, char *err, size_t errlen);
int vault_loaded(void);
/* The current key id (0 when none loaded). */
unsigned vault_current_key(void);
/* Seals plain into the text envelope "<key_id>|<nonce b64>|<ciphertext b64>", with additional
 * data key_id‖tenant_id‖column ("credentials.api_secret") so a sealed value cannot be moved to
 * another tenant or column. NULL on failure. */
char *vault_seal(arena *a, const char *column, long long tenant_id, const void *plain, size_t n);
/* Opens an envelope; *out is NUL-terminated (length in *n), wiped when the arena is reset or
 * destroyed. -1 when malformed, under an unknown key, tampered, or sealed for another tenant or
 * column (*out is then NULL). */
int vault_open(arena *a, const char *column, long long tenant_id, const char *envelope, char **out, size_t *n);
/* The column name to seal and open with, bound to the row's owner: "<table>.<column>#<user id>".
 * With it an envelope copied to another user's row, even in the same tenant, does not open. */
char *vault_context(arena *a, const char *column, long long owner_id);
/* The key id an envelope was sealed with (0 when malformed). */
unsigned vault_envelope_key(const char *envelope);
/* "abcd…wxyz"-style mask for display: at most the first 4 and last 4 characters, never more
 * than a quarter of the secret; short secrets are fully hidden ("••••"). */
char *vault_mask(arena *a, const char *plain);
/* Generates a key file line "<key_id> <base64 of 32 random bytes>" (no newline) for a new key
 * id (used by botctl keys). 0, or -1 when out is too small. */
int vault_new_key_line(unsigned key_id, char *out, size_t outlen);
#endif
