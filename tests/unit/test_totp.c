/* test_totp.c — unit tests of lib/totp.c and lib/qr.c: RFC 4226/6238/4648 vectors, agreement with
 * the real oathtool, the ±1 step window, replay and malformed codes, otpauth URIs, recovery codes, QR SVG. */
#include "unit.h"
#include <sodium.h>
#include "qr.h"
#include "totp.h"

static const unsigned char rfc_key[] = "12345678901234567890";
#define RFC_KLEN 20

START_TEST(test_rfc6238_vectors)
{
    /* RFC 6238 Appendix B, SHA-1 column: 8-digit values; we emit 6 digits, their last six */
    static const struct {
        long long t;
        uint32_t code8;
    } v[] = {{59, 94287082u},         {1111111109, 7081804u},  {1111111111, 14050471u},
             {1234567890, 89005924u}, {2000000000, 69279037u}, {20000000000LL, 65353130u}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint32_t got = totp_at(rfc_key, RFC_KLEN, (uint64_t)(v[i].t / TOTP_STEP_S));
        ck_assert_msg(got == v[i].code8 % 1000000u, "t=%lld: %06u != %06u", v[i].t, got, v[i].code8 % 1000000u);
    }
}
END_TEST

START_TEST(test_rfc4226_hotp)
{
    /* RFC 4226 Appendix D: HOTP values for counters 0..9 */
    static const uint32_t want[] = {755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489};
    for (uint64_t c = 0; c < 10; c++)
        ck_assert_msg(totp_at(rfc_key, RFC_KLEN, c) == want[c], "counter %llu", (unsigned long long)c);
}
END_TEST

START_TEST(test_base32_vectors)
{
    /* RFC 4648 section 10; we encode without padding */
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *enc[] = {"", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
    static const char *padded[] = {"", "MY======", "MZXQ====", "MZXW6===", "MZXW6YQ=", "MZXW6YTB", "MZXW6YTBOI======"};
    for (size_t i = 0; i < 7; i++) {
        char out[32];
        int n = base32_encode((const unsigned char *)plain[i], strlen(plain[i]), out, sizeof out);
        ck_assert_int_eq(n, (int)strlen(enc[i]));
        ck_assert_str_eq(out, enc[i]);
        unsigned char back[16];
        ck_assert_int_eq(base32_decode(enc[i], back, sizeof back), (int)strlen(plain[i]));
        ck_assert(memcmp(back, plain[i], strlen(plain[i])) == 0);
        ck_assert_int_eq(base32_decode(padded[i], back, sizeof back), (int)strlen(plain[i]));
        ck_assert(memcmp(back, plain[i], strlen(plain[i])) == 0);
    }
    /* lower case and spaces, as people type a secret from a screen */
    unsigned char back[16];
    ck_assert_int_eq(base32_decode("mzxw 6ytb oi", back, sizeof back), 6);
    ck_assert(memcmp(back, "foobar", 6) == 0);
    ck_assert_int_eq(base32_decode("MzXw6YtBoI==  ==", back, sizeof back), 6);
    ck_assert(memcmp(back, "foobar", 6) == 0);
    /* RFC 6238's key, as oathtool and authenticator apps see it */
    char out[64];
    ck_assert_int_eq(base32_encode(rfc_key, RFC_KLEN, out, sizeof out), 32);
    ck_assert_str_eq(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}
END_TEST

START_TEST(test_base32_round_trip)
{
    ck_assert_int_ge(sodium_init(), 0);
    for (size_t n = 0; n <= 64; n++) {
        unsigned char in[64], back[64];
        char enc[128];
        randombytes_buf(in, n);
        int e = base32_encode(in, n, enc, sizeof enc);
        ck_assert_int_eq(e, (int)((n * 8 + 4) / 5));
        ck_assert_uint_eq(strlen(enc), (size_t)e);
        ck_assert_int_eq(base32_decode(enc, back, sizeof back), (int)n);
        ck_assert(memcmp(in, back, n) == 0);
    }
}
END_TEST

START_TEST(test_base32_errors)
{
    unsigned char out[32];
    ck_assert_int_eq(base32_decode("MY1", out, sizeof out), -1);   /* '1' is not in the alphabet */
    ck_assert_int_eq(base32_decode("MZXQ8", out, sizeof out), -1); /* nor '8' */
    ck_assert_int_eq(base32_decode("MZ!Q", out, sizeof out), -1);
    ck_assert_int_eq(base32_decode("MZ-XQ", out, sizeof out), -1);
    ck_assert_int_eq(base32_decode("MY=A", out, sizeof out), -1); /* data after padding */
    ck_assert_int_eq(base32_decode("MZ\xc3\xa9Q", out, sizeof out), -1);
    ck_assert_int_eq(base32_decode(NULL, out, sizeof out), -1);
    /* the output buffer bounds the result */
    ck_assert_int_eq(base32_decode("MZXW6YTBOI", out, 5), -1);
    ck_assert_int_eq(base32_decode("MZXW6YTBOI", out, 6), 6);
    char enc[16];
    ck_assert_int_eq(base32_encode((const unsigned char *)"foobar", 6, enc, 10), -1); /* needs 10 + NUL */
    ck_assert_int_eq(base32_encode((const unsigned char *)"foobar", 6, enc, 11), 10);
}
END_TEST

/* A fixed key and time for the window tests: step 56666666, 15 s into it. */
static const unsigned char win_key[] = "window-test-key-0123";
#define WIN_NOW ((time_t)1699999980 + 15)

static void code_for(long long step, char out[8])
{
    snprintf(out, 8, "%06u", totp_at(win_key, 20, (uint64_t)step));
}

START_TEST(test_verify_window)
{
    long long s = (long long)(WIN_NOW / TOTP_STEP_S);
    char c[8];
    /* the five codes around now are distinct, so each check below tests exactly one step */
    char all[5][8];
    for (int d = -2; d <= 2; d++)
        code_for(s + d, all[d + 2]);
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            ck_assert_str_ne(all[i], all[j]);
    code_for(s, c);
    ck_assert_int_eq(totp_verify(win_key, 20, c, WIN_NOW, 0), s);
    code_for(s - 1, c);
    ck_assert_int_eq(totp_verify(win_key, 20, c, WIN_NOW, 0), s - 1);
    code_for(s + 1, c);
    ck_assert_int_eq(totp_verify(win_key, 20, c, WIN_NOW, 0), s + 1);
    code_for(s - 2, c);
    ck_assert_int_eq(totp_verify(win_key, 20, c, WIN_NOW, 0), 0);
    code_for(s + 2, c);
    ck_assert_int_eq(totp_verify(win_key, 20, c, WIN_NOW, 0), 0);
    /* the edges of the step: first and last second */
    code_for(s, c);
    ck_assert_int_eq(totp_verify(win_key, 20, c, (time_t)(s * TOTP_STEP_S), 0), s);
    ck_assert_int_eq(totp_verify(win_key, 20, c, (time_t)(s * TOTP_STEP_S + 29), 0), s);
    ck_assert_int_eq(totp_verify(win_key, 20, c, (time_t)((s + 2) * TOTP_STEP_S), 0), 0);
    /* spaces inside the code are ignored */
    char spaced[16];
    snprintf(spaced, sizeof spaced, " %.3s %.3s ", c, c + 3);
    ck_assert_int_eq(totp_verify(win_key, 20, spaced, WIN_NOW, 0), s);
    /* another key's code is wrong */
    ck_assert_int_eq(totp_verify((const unsigned char *)"another-key-45678901", 20, c, WIN_NOW, 0), 0);
}
END_TEST

START_TEST(test_verify_replay)
{
    long long s = (long long)(WIN_NOW / TOTP_STEP_S);
    char c[8];
    code_for(s, c);
    long long first = totp_verify(win_key, 20, c, WIN_NOW, 0);
    ck_assert_int_eq(first, s);
    /* the same code again, with the step it used recorded: refused */
    ck_assert_int_eq(totp_verify(win_key, 20, c, WIN_NOW, first), 0);
    ck_assert_int_eq(totp_verify(win_key, 20, c, WIN_NOW + 10, first), 0);
    /* an older code after a newer one was used: refused too */
    code_for(s - 1, c);
    ck_assert_int_eq(totp_verify(win_key, 20, c, WIN_NOW, first), 0);
    /* the next step is still fine */
    code_for(s + 1, c);
    ck_assert_int_eq(totp_verify(win_key, 20, c, WIN_NOW, first), s + 1);
}
END_TEST

START_TEST(test_verify_malformed)
{
    static const char *bad[] = {"", "12345", "1234567", "12345a", "abcdef", "12-345", "123\t456", "  ",
                                "１２３４５６" /* full-width digits */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(totp_verify(win_key, 20, bad[i], WIN_NOW, 0) == -1, "'%s' should be malformed", bad[i]);
    ck_assert_int_eq(totp_verify(win_key, 20, NULL, WIN_NOW, 0), -1);
}
END_TEST

/* Runs the real oathtool for a base32 secret at unix time t; writes its code into out. */
static int oathtool_code(const char *b32, long long t, char *out, size_t outlen)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "oathtool --totp -b -N @%lld %s 2>/dev/null", t, b32);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char *r = fgets(out, (int)outlen, p);
    int st = pclose(p);
    if (!r || st != 0)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

START_TEST(test_agrees_with_oathtool)
{
    FILE *v = popen("oathtool --version 2>/dev/null", "r");
    char line[128] = "";
    ck_assert_ptr_nonnull(v);
    char *got = fgets(line, sizeof line, v);
    int st = pclose(v);
    ck_assert_msg(got && st == 0 && strstr(line, "oathtool"),
                  "oathtool is missing: run dev/deps (Debian package oathtool) — this test needs the real tool");
    ck_assert_int_ge(sodium_init(), 0);
    static const long long times[] = {59, 1111111109, 1234567890, 1700000000, 1700000029, 1700000030, 2000000000,
                                      4102444800LL};
    static const size_t klens[] = {10, 20, 20, 32};
    for (size_t k = 0; k < sizeof klens / sizeof klens[0]; k++) {
        unsigned char key[32];
        char b32[64];
        randombytes_buf(key, klens[k]);
        ck_assert_int_gt(base32_encode(key, klens[k], b32, sizeof b32), 0);
        for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
            char theirs[32], ours[16];
            ck_assert_msg(oathtool_code(b32, times[i], theirs, sizeof theirs) == 0, "oathtool failed for t=%lld",
                          times[i]);
            snprintf(ours, sizeof ours, "%06u", totp_at(key, klens[k], (uint64_t)(times[i] / TOTP_STEP_S)));
            ck_assert_msg(strcmp(ours, theirs) == 0, "klen %zu t=%lld: ours %s, oathtool %s", klens[k], times[i],
                          ours, theirs);
            /* and oathtool's code is what totp_verify accepts at that time */
            ck_assert_int_eq(totp_verify(key, klens[k], theirs, (time_t)times[i], 0), times[i] / TOTP_STEP_S);
        }
    }
}
END_TEST

START_TEST(test_uri)
{
    arena a;
    arena_init(&a, 1024);
    char *u = totp_uri(&a, "BotCriptoFy", "ana@example.com", "JBSWY3DPEHPK3PXP");
    ck_assert_str_eq(u, "otpauth://totp/BotCriptoFy:ana%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=BotCriptoFy"
                        "&algorithm=SHA1&digits=6&period=30");
    /* ':' separates issuer from account and '/' would split the path: both are encoded */
    u = totp_uri(&a, "Bot Cripto:Fy", "a/b:c&d=e?f#g@x.io", "MZXW6");
    ck_assert_str_eq(u, "otpauth://totp/Bot%20Cripto%3AFy:a%2Fb%3Ac%26d%3De%3Ff%23g%40x.io?secret=MZXW6"
                        "&issuer=Bot%20Cripto%3AFy&algorithm=SHA1&digits=6&period=30");
    u = totp_uri(&a, "", "ana@example.com", "MZXW6");
    ck_assert_str_eq(u, "otpauth://totp/ana%40example.com?secret=MZXW6&algorithm=SHA1&digits=6&period=30");
    ck_assert_ptr_null(totp_uri(&a, "X", NULL, "MZXW6"));
    ck_assert_ptr_null(totp_uri(&a, "X", "a@b.c", ""));
    arena_destroy(&a);
}
END_TEST

START_TEST(test_recovery_codes)
{
    char c1[15], c2[15], h1[65], h2[65];
    totp_recovery_code(c1, sizeof c1);
    totp_recovery_code(c2, sizeof c2);
    ck_assert_uint_eq(strlen(c1), 14);
    ck_assert_str_ne(c1, c2);
    for (int i = 0; i < 14; i++) {
        if (i == 4 || i == 9)
            ck_assert_int_eq(c1[i], '-');
        else
            ck_assert_msg(strchr("abcdefghijklmnopqrstuvwxyz234567", c1[i]) && c1[i], "bad char in %s", c1);
    }
    ck_assert_int_eq(totp_recovery_hash(c1, h1), 0);
    ck_assert_int_eq(totp_recovery_hash(c2, h2), 0);
    ck_assert_str_ne(h1, h2);
    /* a buffer too small gets an empty string, not a truncated code */
    char small[10] = "x";
    totp_recovery_code(small, sizeof small);
    ck_assert_str_eq(small, "");
}
END_TEST

START_TEST(test_recovery_hash_normalises)
{
    char a[65], b[65], c[65];
    ck_assert_int_eq(totp_recovery_hash("abcd-efgh-ijkl", a), 0);
    ck_assert_int_eq(totp_recovery_hash("ABCD EFGH-IJKL", b), 0);
    ck_assert_int_eq(totp_recovery_hash(" abcdefghijkl ", c), 0);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, c);
    /* hex SHA-256 of the normalised code "abcdefghijkl" */
    ck_assert_str_eq(a, "d682ed4ca4d989c134ec94f1551e1ec580dd6d5a6ecde9f3d35e6e4a717fbde4");
    static const char *bad[] = {"", "abcd-efgh-ijk", "abcd-efgh-ijklm", "abcd-efgh-ij1l", "abcd_efgh_ijkl",
                                "123456", "abcd-efgh-ij\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(totp_recovery_hash(bad[i], a) == -1, "'%s' should be refused", bad[i]);
    ck_assert_int_eq(totp_recovery_hash(NULL, a), -1);
}
END_TEST

/* The side of the square viewBox of an SVG made by qr_svg, or -1. */
static int viewbox_side(const char *svg)
{
    const char *v = strstr(svg, "viewBox=\"0 0 ");
    int w = -1, h = -2;
    if (!v || sscanf(v, "viewBox=\"0 0 %d %d\"", &w, &h) != 2 || w != h)
        return -1;
    return w;
}

START_TEST(test_qr_svg)
{
    arena a;
    arena_init(&a, 4096);
    char *svg = qr_svg(&a, "hello");
    ck_assert_ptr_nonnull(svg);
    ck_assert(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
    size_t n = strlen(svg);
    ck_assert(n > 6 && strcmp(svg + n - 6, "</svg>") == 0);
    ck_assert_ptr_null(strstr(svg, "<script"));
    ck_assert_ptr_nonnull(strstr(svg, "role=\"img\""));
    /* a version-1 symbol (21 modules) plus 4 quiet modules each side */
    ck_assert_int_eq(viewbox_side(svg), 29);
    /* the top row starts with the two 7-module finder patterns, drawn inside the quiet zone */
    ck_assert_ptr_nonnull(strstr(svg, " d=\"M4 4h7v1h-7z"));
    ck_assert_ptr_nonnull(strstr(svg, "M18 4h7v1h-7z"));
    ck_assert_ptr_nonnull(strstr(svg, "M4 18h7v1h-7z")); /* bottom-left finder (rows 14-20) top edge */
    /* a full otpauth URI needs a bigger symbol */
    char *big = qr_svg(&a, "otpauth://totp/BotCriptoFy:ana%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                           "&issuer=BotCriptoFy&algorithm=SHA1&digits=6&period=30");
    ck_assert_ptr_nonnull(big);
    ck_assert_int_gt(viewbox_side(big), viewbox_side(svg));
    ck_assert_ptr_null(strstr(big, "<script"));
    /* markup in the text is encoded in modules, never copied into the SVG */
    char *m = qr_svg(&a, "<script>alert(1)</script>\"");
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(strstr(m, "script"));
    ck_assert_ptr_null(qr_svg(&a, NULL));
    ck_assert_ptr_null(qr_svg(&a, ""));
    arena_destroy(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("totp");
    UNIT_ADD(s, test_rfc6238_vectors);
    UNIT_ADD(s, test_rfc4226_hotp);
    UNIT_ADD(s, test_base32_vectors);
    UNIT_ADD(s, test_base32_round_trip);
    UNIT_ADD(s, test_base32_errors);
    UNIT_ADD(s, test_verify_window);
    UNIT_ADD(s, test_verify_replay);
    UNIT_ADD(s, test_verify_malformed);
    UNIT_ADD(s, test_agrees_with_oathtool);
    UNIT_ADD(s, test_uri);
    UNIT_ADD(s, test_recovery_codes);
    UNIT_ADD(s, test_recovery_hash_normalises);
    UNIT_ADD(s, test_qr_svg);
    return unit_run(s);
}
