/* test_parse.c — unit tests of lib/parse.c: url_decode, urlencoded forms and query strings,
 * Cookie headers, JSON bodies (shape, UTF-8, depth, duplicates) and UTF-8 validation. */
#include "unit.h"
#include "parse.h"

/* Inputs are copied to exact-size heap blocks so ASan sees any read past the given length. */
static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, s, n);
    return p;
}

static int decode(arena *a, const char *s, size_t n, int plus, char **out, size_t *outlen)
{
    char *in = dup_exact(s, n);
    int rc = url_decode(a, in, n, plus, out, outlen);
    free(in);
    return rc;
}

static int urlenc(arena *a, const char *s, size_t max, kvlist *l)
{
    size_t n = strlen(s);
    char *in = dup_exact(s, n);
    memset(l, 0, sizeof *l);
    int rc = parse_urlencoded(a, in, n, max, l);
    free(in);
    return rc;
}

static int cookies(arena *a, const char *s, size_t max, kvlist *l)
{
    size_t n = strlen(s);
    char *in = dup_exact(s, n);
    memset(l, 0, sizeof *l);
    int rc = parse_cookies(a, in, n, max, l);
    free(in);
    return rc;
}

static int json(const char *s, size_t depth, json_t **out)
{
    size_t n = strlen(s);
    char *in = dup_exact(s, n);
    int rc = parse_json(in, n, depth, out);
    free(in);
    return rc;
}

static int utf8(const char *s, size_t n)
{
    char *in = dup_exact(s, n);
    int ok = utf8_valid(in, n);
    free(in);
    return ok;
}

/* ---- url_decode ---- */

START_TEST(test_ids_and_dates)
{
    ck_assert_int_eq(parse_id("42"), 1);
    ck_assert_int_eq(parse_id("999999999999999999"), 1);
    ck_assert_int_eq(parse_id("0"), 0);
    ck_assert_int_eq(parse_id("1234567890123456789"), 0);
    ck_assert_int_eq(parse_id("-1"), 0);
    ck_assert_int_eq(parse_id(""), 0);
    ck_assert_int_eq(parse_date_ymd("2026-12-07"), 1);
    ck_assert_int_eq(parse_date_ymd("2024-02-29"), 1);
    ck_assert_int_eq(parse_date_ymd("2026-02-29"), 0);
    ck_assert_int_eq(parse_date_ymd("2026-02-30"), 0);
    ck_assert_int_eq(parse_date_ymd("2026-13-01"), 0);
    ck_assert_int_eq(parse_date_ymd("1969-12-31"), 0);
    ck_assert_int_eq(parse_date_ymd("2026-1-01"), 0);
    ck_assert_int_eq(parse_date_ymd("2026/01/01"), 0);
    arena a;
    arena_init(&a, 1024);
    const char *names[] = {"a", "b", "c"}, *none[] = {NULL, NULL, NULL}, *vals[] = {"x y&", NULL, "2"};
    ck_assert_str_eq(url_query(&a, names, vals, 3), "a=x%20y%26&c=2");
    ck_assert_str_eq(url_query(&a, names, none, 3), "");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_decode_escapes)
{
    arena a;
    arena_init(&a, 0);
    char *out;
    size_t len;
    ck_assert_int_eq(decode(&a, "a%20b", 5, 0, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "a b");
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(decode(&a, "%41%42%43", 9, 0, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "ABC");
    ck_assert_int_eq(decode(&a, "%2f%2F%7e", 9, 0, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "//~");
    ck_assert_int_eq(decode(&a, "", 0, 1, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(decode(&a, "plain", 5, 1, &out, NULL), PARSE_OK);
    ck_assert_str_eq(out, "plain");
    /* only n bytes are read */
    ck_assert_int_eq(url_decode(&a, "%41XYZ", 3, 0, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "A");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_decode_plus)
{
    arena a;
    arena_init(&a, 0);
    char *out;
    size_t len;
    ck_assert_int_eq(decode(&a, "a+b+", 4, 1, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "a b ");
    ck_assert_int_eq(decode(&a, "a+b", 3, 0, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "a+b");
    ck_assert_int_eq(decode(&a, "1%2B1", 5, 1, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "1+1");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_decode_bad_escapes)
{
    static const char *bad[] = {"%", "%4", "%zz", "%4g", "%g4", "abc%", "abc%4", "%%41", "a%-1", "% 41", "%\xff\xff"};
    arena a;
    arena_init(&a, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = (char *)"untouched";
        ck_assert_msg(decode(&a, bad[i], strlen(bad[i]), 1, &out, NULL) == PARSE_EINVAL, "'%s' accepted", bad[i]);
        ck_assert_str_eq(out, "untouched");
    }
    /* a valid escape cut by the length */
    char *out;
    ck_assert_int_eq(url_decode(&a, "%41", 2, 0, &out, NULL), PARSE_EINVAL);
    arena_destroy(&a);
}
END_TEST

START_TEST(test_decode_nul_rejected)
{
    arena a;
    arena_init(&a, 0);
    char *out;
    ck_assert_int_eq(decode(&a, "%00", 3, 0, &out, NULL), PARSE_EINVAL);
    ck_assert_int_eq(decode(&a, "abc%00def", 9, 0, &out, NULL), PARSE_EINVAL);
    /* a raw NUL byte inside the given length too */
    ck_assert_int_eq(decode(&a, "a\0b", 3, 0, &out, NULL), PARSE_EINVAL);
    arena_destroy(&a);
}
END_TEST

START_TEST(test_decode_invalid_utf8)
{
    static const char *bad[] = {
        "%C0%80",          /* overlong NUL */
        "%C1%BF",          /* overlong 2-byte */
        "%E0%80%80",       /* overlong 3-byte */
        "%F0%8F%BF%BF",    /* overlong 4-byte */
        "%ED%A0%80",       /* surrogate U+D800 */
        "%ED%BF%BF",       /* surrogate U+DFFF */
        "%F4%90%80%80",    /* beyond U+10FFFF */
        "%F5%80%80%80",    /* F5 never appears */
        "%FF",             /* never appears */
        "%80",             /* lone continuation byte */
        "%C3",             /* truncated 2-byte */
        "%E2%82",          /* truncated 3-byte */
        "%C3%41",          /* bad continuation */
        "x%C3",            /* truncated at the end */
        "\xC0\x80",        /* raw bytes are validated too */
        "\xED\xA0\x80",
        "\xF5",
    };
    arena a;
    arena_init(&a, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out;
        ck_assert_msg(decode(&a, bad[i], strlen(bad[i]), 0, &out, NULL) == PARSE_EINVAL, "case %zu accepted", i);
    }
    arena_destroy(&a);
}
END_TEST

START_TEST(test_decode_valid_multibyte)
{
    arena a;
    arena_init(&a, 0);
    char *out;
    size_t len;
    ck_assert_int_eq(decode(&a, "Jo%C3%A3o", 9, 1, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "Jo\xC3\xA3o");
    ck_assert_uint_eq(len, 5);
    ck_assert_int_eq(decode(&a, "%e2%82%ac", 9, 0, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "\xE2\x82\xAC");
    ck_assert_int_eq(decode(&a, "%F0%9F%98%80", 12, 0, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "\xF0\x9F\x98\x80");
    ck_assert_uint_eq(len, 4);
    ck_assert_int_eq(decode(&a, "%F4%8F%BF%BF", 12, 0, &out, &len), PARSE_OK);
    ck_assert_int_eq(decode(&a, "%C2%80%DF%BF%E0%A0%80%EF%BF%BF", 30, 0, &out, &len), PARSE_OK);
    ck_assert_uint_eq(len, 10);
    /* raw UTF-8 mixed with escapes */
    ck_assert_int_eq(decode(&a, "\xC3\xA9%C3%A9", 8, 0, &out, &len), PARSE_OK);
    ck_assert_str_eq(out, "\xC3\xA9\xC3\xA9");
    arena_destroy(&a);
}
END_TEST

/* ---- parse_urlencoded ---- */

START_TEST(test_urlenc_basic)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(urlenc(&a, "a=1&b=two+words&c=%C3%A9", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(kv_get(&l, "a"), "1");
    ck_assert_str_eq(kv_get(&l, "b"), "two words");
    ck_assert_str_eq(kv_get(&l, "c"), "\xC3\xA9");
    ck_assert_uint_eq(l.items[1].value_len, 9);
    ck_assert_ptr_null(kv_get(&l, "d"));
    /* keys are decoded too; '=' inside the value is kept */
    ck_assert_int_eq(urlenc(&a, "my+key%21=x%3Dy&k==v", 10, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "my key!"), "x=y");
    ck_assert_str_eq(kv_get(&l, "k"), "=v");
    /* only n bytes are read */
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(parse_urlencoded(&a, "a=1&b=2", 3, 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(kv_get(&l, "a"), "1");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_urlenc_empty_pieces)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(urlenc(&a, "", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(urlenc(&a, "&&&", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(urlenc(&a, "&&a=1&&&b=2&", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.items[0].key, "a");
    ck_assert_str_eq(l.items[1].key, "b");
    /* empty pieces do not count against the limit */
    ck_assert_int_eq(urlenc(&a, "&&&&a=1&&&&", 1, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_int_eq(urlenc(&a, "", 0, &l), PARSE_OK);
    arena_destroy(&a);
}
END_TEST

START_TEST(test_urlenc_key_without_eq)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(urlenc(&a, "flag&x=1&other", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(kv_get(&l, "flag"), "");
    ck_assert_uint_eq(l.items[0].value_len, 0);
    ck_assert_str_eq(kv_get(&l, "other"), "");
    ck_assert_str_eq(kv_get(&l, "x"), "1");
    /* explicit empty value */
    ck_assert_int_eq(urlenc(&a, "e=", 10, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "e"), "");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_urlenc_duplicates)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(urlenc(&a, "a=first&b=x&a=second&a=third", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 4);
    ck_assert_str_eq(kv_get(&l, "a"), "first");
    ck_assert_str_eq(l.items[2].value, "second");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_urlenc_errors)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(urlenc(&a, "a=1&b=%zz", 10, &l), PARSE_EINVAL);
    ck_assert_int_eq(urlenc(&a, "a=%00", 10, &l), PARSE_EINVAL);
    ck_assert_int_eq(urlenc(&a, "%ED%A0%80=1", 10, &l), PARSE_EINVAL);
    ck_assert_int_eq(urlenc(&a, "a=%C0%80", 10, &l), PARSE_EINVAL);
    ck_assert_int_eq(urlenc(&a, "a=1%", 10, &l), PARSE_EINVAL);
    arena_destroy(&a);
}
END_TEST

START_TEST(test_urlenc_max_fields)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(urlenc(&a, "a=1&b=2&c=3", 2, &l), PARSE_ETOOMANY);
    ck_assert_int_eq(urlenc(&a, "a=1&b=2&c=3", 3, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_int_eq(urlenc(&a, "a", 0, &l), PARSE_ETOOMANY);
    /* many fields: the list grows past its initial capacity */
    char big[4000] = "";
    for (int i = 0; i < 300; i++) {
        char piece[16];
        snprintf(piece, sizeof piece, "%sk%d=%d", i ? "&" : "", i, i);
        strcat(big, piece);
    }
    ck_assert_int_eq(urlenc(&a, big, 300, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 300);
    ck_assert_str_eq(kv_get(&l, "k0"), "0");
    ck_assert_str_eq(kv_get(&l, "k299"), "299");
    ck_assert_int_eq(urlenc(&a, big, 299, &l), PARSE_ETOOMANY);
    arena_destroy(&a);
}
END_TEST

/* ---- parse_cookies ---- */

START_TEST(test_cookies_basic)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(cookies(&a, "a=1; b=2", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(kv_get(&l, "a"), "1");
    ck_assert_str_eq(kv_get(&l, "b"), "2");
    /* values are not decoded; '=' may appear in values (base64) */
    ck_assert_int_eq(cookies(&a, "__Host-bcf_session=abc%20def; t=QUJD==", 10, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "__Host-bcf_session"), "abc%20def");
    ck_assert_str_eq(kv_get(&l, "t"), "QUJD==");
    ck_assert_uint_eq(l.items[1].value_len, 6);
    ck_assert_int_eq(cookies(&a, "", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(cookies(&a, " ; ;; ", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 0);
    /* empty value */
    ck_assert_int_eq(cookies(&a, "e=; f=1", 10, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "e"), "");
    ck_assert_str_eq(kv_get(&l, "f"), "1");
    /* duplicate names: the first wins */
    ck_assert_int_eq(cookies(&a, "d=1; d=2", 10, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "d"), "1");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_cookies_spaces)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(cookies(&a, "   a=1;b=2   ;\tc=3\t;  ", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(kv_get(&l, "a"), "1");
    ck_assert_str_eq(kv_get(&l, "b"), "2");
    ck_assert_str_eq(kv_get(&l, "c"), "3");
    ck_assert_uint_eq(l.items[1].value_len, 1);
    /* trailing blanks after the name are dropped */
    ck_assert_int_eq(cookies(&a, "k =v", 10, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "k"), "v");
    /* whatever is done with "x = 1", it must not hide the next cookie */
    ck_assert_int_eq(cookies(&a, "x = 1; y=2", 10, &l), PARSE_OK);
    ck_assert_str_eq(kv_get(&l, "y"), "2");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_cookies_quoted)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(cookies(&a, "sid=\"abc123\"; q=\"\"", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(kv_get(&l, "sid"), "abc123");
    ck_assert_uint_eq(l.items[0].value_len, 6);
    ck_assert_str_eq(kv_get(&l, "q"), "");
    arena_destroy(&a);
}
END_TEST

START_TEST(test_cookies_without_eq)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(cookies(&a, "flag; a=1; other", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(kv_get(&l, "a"), "1");
    ck_assert_ptr_null(kv_get(&l, "flag"));
    ck_assert_int_eq(cookies(&a, "lonely", 10, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 0);
    arena_destroy(&a);
}
END_TEST

START_TEST(test_cookies_malformed_skipped)
{
    static const char *bad[] = {
        "bad=\"unterminated", "bad=a b",    "bad=a,b", "bad=a\\b", "bad=\xC3\xA9", "bad=\"",
        "b d=1",              "b,d=1",      "=1",      "b\"d=1",   "bad=a\"b\"",  "bad=\x7f",
    };
    arena a;
    arena_init(&a, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char hdr[128];
        kvlist l;
        /* malformed first, in the middle and last: the valid ones always survive */
        snprintf(hdr, sizeof hdr, "%s; good=1; ok=2", bad[i]);
        ck_assert_int_eq(cookies(&a, hdr, 10, &l), PARSE_OK);
        ck_assert_msg(l.n == 2, "'%s': %zu cookies", hdr, l.n);
        ck_assert_str_eq(kv_get(&l, "good"), "1");
        ck_assert_str_eq(kv_get(&l, "ok"), "2");
        snprintf(hdr, sizeof hdr, "good=1; %s; ok=2", bad[i]);
        ck_assert_int_eq(cookies(&a, hdr, 10, &l), PARSE_OK);
        ck_assert_msg(l.n == 2, "'%s': %zu cookies", hdr, l.n);
        snprintf(hdr, sizeof hdr, "good=1; ok=2; %s", bad[i]);
        ck_assert_int_eq(cookies(&a, hdr, 10, &l), PARSE_OK);
        ck_assert_msg(l.n == 2, "'%s': %zu cookies", hdr, l.n);
        ck_assert_str_eq(kv_get(&l, "ok"), "2");
    }
    arena_destroy(&a);
}
END_TEST

START_TEST(test_cookies_limit)
{
    arena a;
    arena_init(&a, 0);
    kvlist l;
    ck_assert_int_eq(cookies(&a, "a=1; b=2; c=3", 2, &l), PARSE_ETOOMANY);
    ck_assert_int_eq(cookies(&a, "a=1; b=2; c=3", 3, &l), PARSE_OK);
    /* skipped (malformed, no '=') pieces do not count */
    ck_assert_int_eq(cookies(&a, "x,y=1; a=1; flag; b=2", 2, &l), PARSE_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_int_eq(cookies(&a, "a=1", 0, &l), PARSE_ETOOMANY);
    arena_destroy(&a);
}
END_TEST

/* ---- parse_json ---- */

START_TEST(test_json_object_and_array)
{
    json_t *j = (json_t *)1;
    ck_assert_int_eq(json("{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":\"\xC3\xA9\"}}", 32, &j), PARSE_OK);
    ck_assert(json_is_object(j));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "a")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "c"), "d")), "\xC3\xA9");
    json_decref(j);
    ck_assert_int_eq(json("[1, 2, {\"k\": []}]", 32, &j), PARSE_OK);
    ck_assert(json_is_array(j));
    ck_assert_uint_eq(json_array_size(j), 3);
    json_decref(j);
    ck_assert_int_eq(json("  {}  \n", 32, &j), PARSE_OK);
    json_decref(j);
    ck_assert_int_eq(json("[]", 1, &j), PARSE_OK);
    json_decref(j);
}
END_TEST

START_TEST(test_json_scalar_rejected)
{
    static const char *bad[] = {"1", "\"s\"", "true", "false", "null", "1.5", "-0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = (json_t *)1;
        ck_assert_msg(json(bad[i], 32, &j) == PARSE_EINVAL, "scalar '%s' accepted", bad[i]);
        ck_assert_ptr_null(j);
    }
}
END_TEST

START_TEST(test_json_invalid_utf8)
{
    static const char *bad[] = {
        "{\"a\":\"\xC0\x80\"}", "{\"a\":\"\xED\xA0\x80\"}", "{\"a\":\"\xF5\x80\x80\x80\"}",
        "[\"\xC3\"]",           "{\"\xFF\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = (json_t *)1;
        ck_assert_msg(json(bad[i], 32, &j) == PARSE_EINVAL, "case %zu accepted", i);
        ck_assert_ptr_null(j);
    }
    /* escaped lone surrogates and \u0000 are rejected too */
    json_t *j;
    ck_assert_int_eq(json("{\"a\":\"\\ud800\"}", 32, &j), PARSE_EINVAL);
    ck_assert_int_eq(json("{\"a\":\"x\\u0000y\"}", 32, &j), PARSE_EINVAL);
    /* a proper escaped surrogate pair is fine */
    ck_assert_int_eq(json("{\"a\":\"\\ud83d\\ude00\"}", 32, &j), PARSE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(j, "a")), "\xF0\x9F\x98\x80");
    json_decref(j);
}
END_TEST

START_TEST(test_json_depth)
{
    json_t *j;
    ck_assert_int_eq(json("[[[1]]]", 3, &j), PARSE_OK);
    json_decref(j);
    ck_assert_int_eq(json("[[[[1]]]]", 3, &j), PARSE_ETOOBIG);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(json("{\"a\":{\"b\":{\"c\":{}}}}", 3, &j), PARSE_ETOOBIG);
    ck_assert_int_eq(json("{\"a\":{\"b\":{\"c\":{}}}}", 4, &j), PARSE_OK);
    json_decref(j);
    /* siblings do not add up */
    ck_assert_int_eq(json("[[1],[2],[3],{\"a\":[4]}]", 3, &j), PARSE_OK);
    json_decref(j);
    /* brackets inside strings (with escaped quotes) are not nesting */
    ck_assert_int_eq(json("{\"a\":\"[[[[{{{{\",\"b\":\"\\\"[[[[\"}", 1, &j), PARSE_OK);
    json_decref(j);
    /* very deep nesting is refused before jansson recurses */
    size_t n = 100000;
    char *deep = malloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    ck_assert_int_eq(json(deep, 32, &j), PARSE_ETOOBIG);
    ck_assert_ptr_null(j);
    /* and so is a deep prefix without the closing half */
    deep[n] = '\0';
    ck_assert_int_eq(json(deep, 32, &j), PARSE_ETOOBIG);
    free(deep);
}
END_TEST

START_TEST(test_json_duplicates_rejected)
{
    json_t *j = (json_t *)1;
    ck_assert_int_eq(json("{\"a\":1,\"a\":2}", 32, &j), PARSE_EINVAL);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(json("[{\"k\":{\"x\":1,\"y\":2,\"x\":3}}]", 32, &j), PARSE_EINVAL);
    ck_assert_int_eq(json("{\"a\":1,\"b\":{\"a\":2}}", 32, &j), PARSE_OK);
    json_decref(j);
}
END_TEST

START_TEST(test_json_truncated_rejected)
{
    static const char *bad[] = {"", " ", "{", "[", "{\"a\":1", "[1,2", "{\"a\":", "{\"a\"", "{\"a", "[\"abc",
                                "[1,]", "{\"a\":1,}", "{} x", "[] []", "{'a':1}", "[01]", "[NaN]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = (json_t *)1;
        ck_assert_msg(json(bad[i], 32, &j) == PARSE_EINVAL, "'%s' accepted", bad[i]);
        ck_assert_ptr_null(j);
    }
    /* only n bytes are parsed */
    json_t *j;
    ck_assert_int_eq(parse_json("{\"a\":1}garbage", 7, 32, &j), PARSE_OK);
    json_decref(j);
    ck_assert_int_eq(parse_json("{\"a\":1}", 6, 32, &j), PARSE_EINVAL);
}
END_TEST

/* ---- utf8_valid ---- */

START_TEST(test_utf8_label_ok)
{
    ck_assert(utf8_label_ok("Meu robô BTC", 80));
    ck_assert(utf8_label_ok("a", 1));
    ck_assert(!utf8_label_ok("", 80));
    ck_assert(!utf8_label_ok(NULL, 80));
    ck_assert(!utf8_label_ok("ab", 1));
    ck_assert(!utf8_label_ok("tab\there", 80));
    ck_assert(!utf8_label_ok("del\x7f", 80));
    ck_assert(!utf8_label_ok("bad \xc3\x28", 80));
    /* counted in characters, not bytes: 60 four-byte emoji fit 60, 61 do not */
    char buf[4 * 61 + 1] = "";
    for (int i = 0; i < 60; i++)
        strcat(buf, "\xf0\x9f\x9a\x80");
    ck_assert(utf8_label_ok(buf, 60));
    strcat(buf, "\xf0\x9f\x9a\x80");
    ck_assert(!utf8_label_ok(buf, 60));
}
END_TEST

START_TEST(test_utf8_valid_cases)
{
    ck_assert_int_eq(utf8("", 0), 1);
    ck_assert_int_eq(utf8("plain ascii", 11), 1);
    ck_assert_int_eq(utf8("a\0b", 3), 1); /* NUL is valid UTF-8; url_decode rejects it separately */
    ck_assert_int_eq(utf8("\xC2\x80", 2), 1);
    ck_assert_int_eq(utf8("\xDF\xBF", 2), 1);
    ck_assert_int_eq(utf8("\xE0\xA0\x80", 3), 1);
    ck_assert_int_eq(utf8("\xED\x9F\xBF", 3), 1); /* U+D7FF, just before the surrogates */
    ck_assert_int_eq(utf8("\xEE\x80\x80", 3), 1); /* U+E000, just after */
    ck_assert_int_eq(utf8("\xEF\xBF\xBF", 3), 1);
    ck_assert_int_eq(utf8("\xF0\x90\x80\x80", 4), 1);
    ck_assert_int_eq(utf8("\xF4\x8F\xBF\xBF", 4), 1); /* U+10FFFF */
    ck_assert_int_eq(utf8("Ol\xC3\xA1 \xE2\x82\xAC \xF0\x9F\x98\x80", 13), 1);

    ck_assert_int_eq(utf8("\x80", 1), 0);
    ck_assert_int_eq(utf8("\xBF", 1), 0);
    ck_assert_int_eq(utf8("\xC0\x80", 2), 0);
    ck_assert_int_eq(utf8("\xC1\xBF", 2), 0);
    ck_assert_int_eq(utf8("\xE0\x9F\xBF", 3), 0);
    ck_assert_int_eq(utf8("\xED\xA0\x80", 3), 0);
    ck_assert_int_eq(utf8("\xED\xBF\xBF", 3), 0);
    ck_assert_int_eq(utf8("\xF0\x8F\xBF\xBF", 4), 0);
    ck_assert_int_eq(utf8("\xF4\x90\x80\x80", 4), 0);
    ck_assert_int_eq(utf8("\xF5\x80\x80\x80", 4), 0);
    ck_assert_int_eq(utf8("\xF8\x88\x80\x80\x80", 5), 0);
    ck_assert_int_eq(utf8("\xFE", 1), 0);
    ck_assert_int_eq(utf8("\xFF", 1), 0);
    ck_assert_int_eq(utf8("\xC3", 1), 0);
    ck_assert_int_eq(utf8("\xE2\x82", 2), 0);
    ck_assert_int_eq(utf8("\xF0\x9F\x98", 3), 0);
    ck_assert_int_eq(utf8("\xC3\x41", 2), 0);
    ck_assert_int_eq(utf8("\xE2\x28\xA1", 3), 0);
    /* the length bounds the check: a valid sequence cut short is invalid */
    ck_assert_int_eq(utf8_valid("\xC3\xA9", 1), 0);
    ck_assert_int_eq(utf8_valid("ab\xC3\xA9", 2), 1);
}
END_TEST

START_TEST(test_kv_list)
{
    arena a;
    arena_init(&a, 0);
    kvlist l = {0};
    ck_assert_ptr_null(kv_get(&l, "x"));
    for (int i = 0; i < 100; i++) {
        char *k = arena_printf(&a, "k%d", i), *v = arena_printf(&a, "v%d", i);
        ck_assert_int_eq(kv_add(&a, &l, k, v, strlen(v)), PARSE_OK);
    }
    ck_assert_uint_eq(l.n, 100);
    ck_assert_uint_ge(l.cap, 100);
    for (int i = 0; i < 100; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "v%d", i);
        ck_assert_str_eq(kv_get(&l, k), v);
    }
    arena_destroy(&a);
}
END_TEST

START_TEST(test_url_encode_round_trip)
{
    arena a;
    arena_init(&a, 0);
    const char *in = "/bots/{id}?x=1&y=\xC3\xA9 z";
    char *enc = url_encode(&a, in);
    ck_assert_str_eq(enc, "/bots/%7Bid%7D%3Fx%3D1%26y%3D%C3%A9%20z");
    char *dec;
    size_t len;
    ck_assert_int_eq(url_decode(&a, enc, strlen(enc), 1, &dec, &len), PARSE_OK);
    ck_assert_str_eq(dec, in);
    arena_destroy(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tcase_create("url_decode");
    tcase_add_test(tc, test_ids_and_dates);
    tcase_add_test(tc, test_decode_escapes);
    tcase_add_test(tc, test_decode_plus);
    tcase_add_test(tc, test_decode_bad_escapes);
    tcase_add_test(tc, test_decode_nul_rejected);
    tcase_add_test(tc, test_decode_invalid_utf8);
    tcase_add_test(tc, test_decode_valid_multibyte);
    suite_add_tcase(s, tc);
    tc = tcase_create("urlencoded");
    tcase_add_test(tc, test_urlenc_basic);
    tcase_add_test(tc, test_urlenc_empty_pieces);
    tcase_add_test(tc, test_urlenc_key_without_eq);
    tcase_add_test(tc, test_urlenc_duplicates);
    tcase_add_test(tc, test_urlenc_errors);
    tcase_add_test(tc, test_urlenc_max_fields);
    suite_add_tcase(s, tc);
    tc = tcase_create("cookies");
    tcase_add_test(tc, test_cookies_basic);
    tcase_add_test(tc, test_cookies_spaces);
    tcase_add_test(tc, test_cookies_quoted);
    tcase_add_test(tc, test_cookies_without_eq);
    tcase_add_test(tc, test_cookies_malformed_skipped);
    tcase_add_test(tc, test_cookies_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("json");
    tcase_add_test(tc, test_json_object_and_array);
    tcase_add_test(tc, test_json_scalar_rejected);
    tcase_add_test(tc, test_json_invalid_utf8);
    tcase_add_test(tc, test_json_depth);
    tcase_add_test(tc, test_json_duplicates_rejected);
    tcase_add_test(tc, test_json_truncated_rejected);
    suite_add_tcase(s, tc);
    tc = tcase_create("utf8_kv");
    tcase_add_test(tc, test_utf8_valid_cases);
    tcase_add_test(tc, test_utf8_label_ok);
    tcase_add_test(tc, test_kv_list);
    tcase_add_test(tc, test_url_encode_round_trip);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
