/* totp.c — RFC 4648 base32, RFC 4226 HOTP / RFC 6238 TOTP (HMAC-SHA-1 from OpenSSL, 6 digits,
 * ±1 step, replay guard), the otpauth:// URI for authenticator apps, and recovery codes. */
#include "totp.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "parse.h"

#define TOTP_DIGITS 6
#define TOTP_MOD 1000000u
#define RECOVERY_CHARS 12

static const char b32_upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char b32_lower[] = "abcdefghijklmnopqrstuvwxyz234567";

int base32_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
    size_t need = (n * 8 + 4) / 5;
    if (!out || outlen < need + 1 || need > (size_t)2147483647 || (!in && n))
        return -1;
    size_t o = 0;
    unsigned buffer = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        buffer = (buffer << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_upper[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32_upper[(buffer << (5 - bits)) & 31];
    out[o] = '\0';
    return (int)o;
}

/* Value of one base32 character (either case), or -1. */
static int b32_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

int base32_decode(const char *in, unsigned char *out, size_t outlen)
{
    if (!in || (!out && outlen))
        return -1;
    size_t o = 0;
    unsigned buffer = 0;
    int bits = 0, padding = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (*p == ' ')
            continue;
        if (*p == '=') {
            padding = 1;
            continue;
        }
        int v = b32_value(*p);
        if (v < 0 || padding) /* nothing but padding and spaces may follow padding */
            return -1;
        buffer = ((buffer << 5) | (unsigned)v) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            if (o >= outlen)
                return -1;
            out[o++] = (unsigned char)(buffer >> (bits - 8));
            bits -= 8;
        }
    }
    return o > 2147483647 ? -1 : (int)o;
}

uint32_t totp_at(const unsigned char *key, size_t klen, uint64_t step)
{
    unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    for (int i = 7; i >= 0; i--, step >>= 8)
        msg[i] = (unsigned char)(step & 0xff);
    static const unsigned char empty = 0;
    if (klen > 1024 || !HMAC(EVP_sha1(), klen ? key : &empty, (int)klen, msg, sizeof msg, mac, &maclen) || maclen < 20)
        return UINT32_MAX; /* never a 6-digit code, so nothing can match it */
    /* RFC 4226 5.3 dynamic truncation */
    unsigned off = mac[maclen - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    sodium_memzero(mac, sizeof mac);
    return bin % TOTP_MOD;
}

/* Copies the digits of code without spaces into out; 0 when exactly TOTP_DIGITS digits, else -1. */
static int code_digits(const char *code, char out[TOTP_DIGITS + 1])
{
    size_t n = 0;
    if (!code)
        return -1;
    for (const char *p = code; *p; p++) {
        if (*p == ' ')
            continue;
        if (*p < '0' || *p > '9' || n == TOTP_DIGITS)
            return -1;
        out[n++] = *p;
    }
    out[n] = '\0';
    return n == TOTP_DIGITS ? 0 : -1;
}

long long totp_verify(const unsigned char *key, size_t klen, const char *code, time_t now, long long last_step)
{
    char typed[TOTP_DIGITS + 1];
    if (code_digits(code, typed) < 0 || now < 0)
        return -1;
    long long step = (long long)(now / TOTP_STEP_S), found = 0;
    /* all three windows are computed and compared, so timing does not tell which one matched */
    for (long long s = step + 1; s >= step - 1; s--) {
        if (s <= 0)
            continue;
        char want[16];
        snprintf(want, sizeof want, "%06u", (unsigned)totp_at(key, klen, (uint64_t)s));
        int same = strlen(want) == TOTP_DIGITS && sodium_memcmp(want, typed, TOTP_DIGITS) == 0;
        sodium_memzero(want, sizeof want);
        /* the earliest fresh step wins; a step already used is a replay */
        if (same && s > last_step)
            found = s;
    }
    sodium_memzero(typed, sizeof typed);
    return found;
}

/* Percent-encodes a label or query part; '/' too, which url_encode keeps for paths. */
static char *uri_part(arena *a, const char *s)
{
    char *e = url_encode(a, s);
    if (!e || !strchr(e, '/'))
        return e;
    size_t slashes = 0;
    for (const char *p = e; *p; p++)
        slashes += *p == '/';
    char *out = arena_alloc(a, strlen(e) + slashes * 2 + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = e; *p; p++) {
        if (*p == '/') {
            memcpy(o, "%2F", 3);
            o += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

char *totp_uri(arena *a, const char *issuer, const char *account, const char *secret_b32)
{
    if (!a || !account || !secret_b32 || !*secret_b32)
        return NULL;
    char *acc = uri_part(a, account), *sec = uri_part(a, secret_b32);
    if (!acc || !sec)
        return NULL;
    if (!issuer || !*issuer)
        return arena_printf(a, "otpauth://totp/%s?secret=%s&algorithm=SHA1&digits=%d&period=%d", acc, sec,
                            TOTP_DIGITS, TOTP_STEP_S);
    char *iss = uri_part(a, issuer);
    if (!iss)
        return NULL;
    /* the issuer both prefixes the label and is a parameter: older apps read one, newer the other */
    return arena_printf(a, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d", iss, acc,
                        sec, iss, TOTP_DIGITS, TOTP_STEP_S);
}

void totp_recovery_code(char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    out[0] = '\0';
    if (outlen < RECOVERY_CHARS + 3 || sodium_init() < 0)
        return;
    unsigned char r[RECOVERY_CHARS];
    randombytes_buf(r, sizeof r);
    size_t o = 0;
    for (int i = 0; i < RECOVERY_CHARS; i++) {
        if (i && i % 4 == 0)
            out[o++] = '-';
        out[o++] = b32_lower[r[i] & 31]; /* 256 is a multiple of 32: every character equally likely */
    }
    out[o] = '\0';
    sodium_memzero(r, sizeof r);
}

int totp_recovery_hash(const char *typed, char out[65])
{
    char norm[RECOVERY_CHARS];
    size_t n = 0;
    int rc = -1;
    if (!typed || !out)
        return -1;
    for (const unsigned char *p = (const unsigned char *)typed; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        int v = b32_value(*p);
        if (v < 0 || n == RECOVERY_CHARS)
            goto out;
        norm[n++] = b32_lower[v];
    }
    if (n != RECOVERY_CHARS)
        goto out;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)norm, n);
    sodium_bin2hex(out, 65, digest, sizeof digest);
    rc = 0;
out:
    sodium_memzero(norm, sizeof norm);
    return rc;
}
