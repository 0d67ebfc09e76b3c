/* stripe_sig.c — Stripe webhook signatures (https://docs.stripe.com/webhooks#verify-manually), a
 * little stricter than Stripe's libraries: exactly one decimal t, every item "key=value", no future t. */
#include "stripe_sig.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

enum { SIG_HEX_LEN = 64, HEADER_MAX = 8192, T_DIGITS_MAX = 18 };

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A v1 value of exactly 64 lower-case hex digits (what Stripe sends and its libraries compare as
 * text) into 32 bytes; anything else can never match. */
static int decode_sig(const char *v, size_t n, unsigned char out[32])
{
    if (n != SIG_HEX_LEN)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int parse_t(const char *v, size_t n, long long *t)
{
    if (n == 0 || n > T_DIGITS_MAX)
        return -1;
    long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    *t = x;
    return 0;
}

/* HMAC-SHA256 over "<t>.<body>", fed in pieces so the body is never copied. */
static int expected_mac(const char *secret, const char *t, size_t tlen, const char *body, size_t body_len,
                        unsigned char mac[32])
{
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
    size_t outl = 0;
    int ok = c && EVP_MAC_init(c, (const unsigned char *)secret, strlen(secret), params) &&
             EVP_MAC_update(c, (const unsigned char *)t, tlen) && EVP_MAC_update(c, (const unsigned char *)".", 1) &&
             (body_len == 0 || EVP_MAC_update(c, (const unsigned char *)body, body_len)) &&
             EVP_MAC_final(c, mac, &outl, 32) && outl == 32;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(m);
    return ok ? 0 : -1;
}

int stripe_sig_verify(const char *header, const char *body, size_t body_len, const char *secret, long long now,
                      long tolerance_s, long long *timestamp)
{
    if (!secret || !*secret)
        return STRIPE_SIG_NO_SECRET;
    if (!header || !*header)
        return STRIPE_SIG_NO_HEADER;
    size_t hlen = strlen(header);
    if (hlen > HEADER_MAX)
        return STRIPE_SIG_MALFORMED;
    const char *tval = NULL;
    size_t tlen = 0;
    int n_t = 0, n_v1 = 0;
    long long t = 0;
    /* first pass: the timestamp, which every v1 is checked against */
    for (const char *p = header; p <= header + hlen;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = header + hlen;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return STRIPE_SIG_MALFORMED;
        size_t klen = (size_t)(eq - p);
        if (klen == 1 && p[0] == 't') {
            tval = eq + 1;
            tlen = (size_t)(end - tval);
            n_t++;
        } else if (klen == 2 && p[0] == 'v' && p[1] == '1')
            n_v1++;
        p = end + 1;
    }
    if (n_t != 1 || parse_t(tval, tlen, &t) != 0)
        return STRIPE_SIG_MALFORMED;
    if (n_v1 == 0)
        return STRIPE_SIG_NO_V1;
    unsigned char want[32];
    if (expected_mac(secret, tval, tlen, body ? body : "", body ? body_len : 0, want) != 0)
        return STRIPE_SIG_NO_MATCH;
    /* every v1 is compared, matched or not, so the time taken does not tell which one matched */
    int matched = 0;
    for (const char *p = header; p <= header + hlen;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = header + hlen;
        if (end - p > 3 && p[0] == 'v' && p[1] == '1' && p[2] == '=') {
            unsigned char got[32];
            if (decode_sig(p + 3, (size_t)(end - p - 3), got) == 0 && CRYPTO_memcmp(got, want, sizeof want) == 0)
                matched = 1;
        }
        p = end + 1;
    }
    if (!matched)
        return STRIPE_SIG_NO_MATCH;
    if (timestamp)
        *timestamp = t;
    if (tolerance_s > 0 && now - t > tolerance_s)
        return STRIPE_SIG_TOO_OLD;
    if (tolerance_s > 0 && t - now > tolerance_s)
        return STRIPE_SIG_TOO_NEW;
    return STRIPE_SIG_OK;
}

const char *stripe_sig_reason(int result)
{
    switch (result) {
    case STRIPE_SIG_OK: return "ok";
    case STRIPE_SIG_NO_SECRET: return "no_secret";
    case STRIPE_SIG_NO_HEADER: return "no_header";
    case STRIPE_SIG_MALFORMED: return "malformed_header";
    case STRIPE_SIG_NO_V1: return "no_v1_signature";
    case STRIPE_SIG_NO_MATCH: return "no_match";
    case STRIPE_SIG_TOO_OLD: return "too_old";
    case STRIPE_SIG_TOO_NEW: return "too_new";
    default: return "unknown";
    }
}
