/* fuzz_tokens.c — fuzz target for the text people type or send as credentials: base32 secrets,
 * TOTP codes, recovery codes, API tokens and the otpauth URI built from any text. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fuzz.h"
#include "session.h"
#include "totp.h"

#define DEC_MAX 256
#define CANARY 0xa5
#define NOW ((time_t)1700000000)

static const unsigned char fuzz_key[TOTP_SECRET_BYTES] = "fuzz-key-0123456789";

static int b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void check_base32(const char *s)
{
    unsigned char out[DEC_MAX + 16];
    memset(out, CANARY, sizeof out);
    int n = base32_decode(s, out, DEC_MAX);
    if (n < -1 || n > DEC_MAX || (n > 0 && (size_t)n * 8 > strlen(s) * 5))
        abort();
    for (size_t i = DEC_MAX; i < sizeof out; i++)
        if (out[i] != CANARY)
            abort(); /* wrote past outlen */
    if (n < 0)
        return;
    /* re-encoding and decoding again gives the same bytes; canonical text is a fixed point */
    char enc[DEC_MAX * 2];
    int e = base32_encode(out, (size_t)n, enc, sizeof enc);
    if (e != (n * 8 + 4) / 5 || strlen(enc) != (size_t)e)
        abort();
    unsigned char back[DEC_MAX];
    if (base32_decode(enc, back, (size_t)n) != n || memcmp(back, out, (size_t)n) != 0)
        abort();
    char enc2[DEC_MAX * 2];
    if (base32_encode(back, (size_t)n, enc2, sizeof enc2) != e || strcmp(enc, enc2) != 0)
        abort();
    /* one byte too few is refused rather than overflowed */
    if (n > 0 && base32_decode(enc, back, (size_t)n - 1) != -1)
        abort();
}

/* 1 when s is six ASCII digits once spaces are removed (the only well-formed code). */
static int six_digits(const char *s)
{
    size_t d = 0;
    for (; *s; s++) {
        if (*s == ' ')
            continue;
        if (*s < '0' || *s > '9')
            return 0;
        d++;
    }
    return d == 6;
}

static void check_totp(const char *s)
{
    long long step = (long long)(NOW / TOTP_STEP_S);
    long long r = totp_verify(fuzz_key, sizeof fuzz_key, s, NOW, 0);
    if (r != -1 && r != 0 && (r < step - 1 || r > step + 1))
        abort();
    if ((r == -1) != !six_digits(s))
        abort();
    /* once a step is used, the same code never matches that step again */
    if (r > 0) {
        long long again = totp_verify(fuzz_key, sizeof fuzz_key, s, NOW, r);
        if (again != 0 && again <= r)
            abort();
    }
}

static void check_recovery(const char *s)
{
    char h[65 + 8];
    memset(h, CANARY, sizeof h);
    int rc = totp_recovery_hash(s, h);
    if (rc != 0 && rc != -1)
        abort();
    if ((unsigned char)h[65] != CANARY)
        abort();
    if (rc < 0)
        return;
    if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
        abort();
    /* the normalised form (no spaces or dashes, lower case) hashes the same */
    char norm[16];
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (n >= 12)
            abort(); /* accepted more than 12 code characters */
        norm[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
    }
    norm[n] = '\0';
    char h2[65];
    if (n != 12 || strspn(norm, "abcdefghijklmnopqrstuvwxyz234567") != 12 || totp_recovery_hash(norm, h2) != 0 ||
        strcmp(h, h2) != 0)
        abort();
}

static void check_api_token(const char *s)
{
    char prefix[13 + 8], secret[64 + 8];
    memset(prefix, CANARY, sizeof prefix);
    memset(secret, CANARY, sizeof secret);
    int rc = api_token_split(s, prefix, 13, secret, 64);
    if (rc != 0 && rc != -1)
        abort();
    for (size_t i = 13; i < sizeof prefix; i++)
        if ((unsigned char)prefix[i] != CANARY)
            abort();
    for (size_t i = 64; i < sizeof secret; i++)
        if ((unsigned char)secret[i] != CANARY)
            abort();
    if (rc < 0)
        return;
    size_t pl = strnlen(prefix, 13), sl = strnlen(secret, 64);
    if (pl == 0 || pl >= 13 || sl == 0 || sl >= 64)
        abort();
    for (size_t i = 0; i < pl; i++)
        if (!b64url(prefix[i]))
            abort();
    for (size_t i = 0; i < sl; i++)
        if (!b64url(secret[i]))
            abort();
    /* the parts put back together are the token */
    if (strncmp(s, "bcf_", 4) != 0 || strncmp(s + 4, prefix, pl) != 0 || s[4 + pl] != '_' ||
        strcmp(s + 5 + pl, secret) != 0)
        abort();
    /* a secret buffer too small is refused, never truncated */
    char tiny[8];
    if (sl + 1 > sizeof tiny && api_token_split(s, prefix, 13, tiny, sizeof tiny) != -1)
        abort();
}

static void check_uri(const char *s)
{
    arena a;
    arena_init(&a, 1024);
    char *u = totp_uri(&a, s, s, *s ? s : "A");
    if (!u || strncmp(u, "otpauth://totp/", 15) != 0)
        abort();
    /* everything taken from the input arrives percent-encoded: no spaces, quotes, markup or controls */
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\'' || *p == '#')
            abort();
    arena_destroy(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0'; /* text up to the first NUL, as a C caller would pass it */
    check_base32(s);
    check_totp(s);
    check_recovery(s);
    check_api_token(s);
    check_uri(s);
    free(s);
    return 0;
}
