/* totp.h — RFC 6238 time-based one-time passwords (HMAC-SHA-1, 6 digits, 30 s steps, ±1 step)
 * as Google Authenticator and oathtool use them, plus the base32 and otpauth:// helpers. */
#ifndef BCF_TOTP_H
#define BCF_TOTP_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "arena.h"

#define TOTP_SECRET_BYTES 20
#define TOTP_STEP_S 30

/* RFC 4648 base32 without padding, upper case. Returns length written or -1 when too small. */
int base32_encode(const unsigned char *in, size_t n, char *out, size_t outlen);
/* Accepts upper/lower case, spaces and '=' padding (only padding and spaces after the first '=').
 * Returns bytes written, or -1 on any other character or when outlen is too small. */
int base32_decode(const char *in, unsigned char *out, size_t outlen);
/* The code for one step (RFC 4226 HOTP over the step counter), 0..999999; UINT32_MAX (never a
 * valid code) when HMAC fails or klen is over 1024. */
uint32_t totp_at(const unsigned char *key, size_t klen, uint64_t step);
/* Checks code ("123456", spaces allowed) at now within ±1 step. A match at a step <= last_step
 * is a replay and refused. Returns the matched step (> 0), 0 when wrong, -1 when malformed. */
long long totp_verify(const unsigned char *key, size_t klen, const char *code, time_t now, long long last_step);
/* otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30 */
char *totp_uri(arena *a, const char *issuer, const char *account, const char *secret_b32);
/* Recovery code "xxxx-xxxx-xxxx" (base32 alphabet, 60 bits) into out (>= 15 bytes). */
void totp_recovery_code(char *out, size_t outlen);
/* Normalises a typed recovery code (case, spaces, dashes) and hashes it (hex SHA-256, 65 bytes). */
int totp_recovery_hash(const char *typed, char out[65]);
#endif
