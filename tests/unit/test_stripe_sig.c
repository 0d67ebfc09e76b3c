/* test_stripe_sig.c — unit tests of lib/stripe_sig.c against tests/fixtures/stripe/signatures.json
 * (headers signed by the official stripe library) and its edges, and of the price-to-plan lists. */
#include "unit.h"
#include <jansson.h>
#include "config.h"
#include "stripe_events.h"
#include "stripe_sig.h"

START_TEST(test_stripe_library_fixtures)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/stripe/signatures.json", unit_srcdir());
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    ck_assert_msg(root != NULL,
                  "fixture %s cannot be read (%s, line %d) — regenerate with "
                  "`cd tests/fixtures/stripe && npm ci && node generate.mjs`",
                  path, err.text, err.line);
    json_t *cases = json_object_get(root, "cases");
    ck_assert_msg(json_array_size(cases) >= 20, "fixture %s has too few cases", path);
    size_t i, n_ok = 0, n_bad = 0;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *body = json_string_value(json_object_get(c, "body"));
        const char *header = json_string_value(json_object_get(c, "header"));
        const char *secret = json_string_value(json_object_get(c, "secret"));
        const char *expect = json_string_value(json_object_get(c, "expect"));
        ck_assert_msg(name && body && header && secret && expect, "case %zu is incomplete", i);
        long long now = json_integer_value(json_object_get(c, "now"));
        long tol = (long)json_integer_value(json_object_get(c, "tolerance"));
        long long t = -1;
        int rc = stripe_sig_verify(header, body, strlen(body), secret, now, tol, &t);
        ck_assert_msg(!strcmp(stripe_sig_reason(rc), expect), "%s: got %s, expected %s", name, stripe_sig_reason(rc),
                      expect);
        if (rc == STRIPE_SIG_OK) {
            ck_assert_msg(t > 0 && strstr(header, "t=") != NULL, "%s: timestamp not returned", name);
            n_ok++;
        } else
            n_bad++;
        /* where we are not deliberately stricter, the stripe library must have agreed */
        if (!json_is_true(json_object_get(c, "stricter")))
            ck_assert_msg(json_is_true(json_object_get(c, "stripe_accepts")) == (rc == STRIPE_SIG_OK),
                          "%s: disagrees with the stripe library", name);
    }
    ck_assert_uint_ge(n_ok, 4);
    ck_assert_uint_ge(n_bad, 10);
    json_decref(root);
}
END_TEST

START_TEST(test_timestamp_reported_and_tolerance_both_ways)
{
    /* the first fixture case reused with other clocks: its t is 10 s before its "now" */
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/stripe/signatures.json", unit_srcdir());
    json_t *root = json_load_file(path, 0, NULL);
    ck_assert_ptr_nonnull(root);
    json_t *c = json_array_get(json_object_get(root, "cases"), 0);
    const char *body = json_string_value(json_object_get(c, "body"));
    const char *header = json_string_value(json_object_get(c, "header"));
    const char *secret = json_string_value(json_object_get(c, "secret"));
    long long now = json_integer_value(json_object_get(c, "now"));
    long long t = 0;
    ck_assert_int_eq(stripe_sig_verify(header, body, strlen(body), secret, now, 300, &t), STRIPE_SIG_OK);
    ck_assert_int_eq(t, now - 10);
    t = 0;
    ck_assert_int_eq(stripe_sig_verify(header, body, strlen(body), secret, now + 291, 300, &t), STRIPE_SIG_TOO_OLD);
    ck_assert_int_eq(t, now - 10);
    ck_assert_int_eq(stripe_sig_verify(header, body, strlen(body), secret, now - 311, 300, NULL), STRIPE_SIG_TOO_NEW);
    ck_assert_int_eq(stripe_sig_verify(header, body, strlen(body), secret, now - 309, 300, NULL), STRIPE_SIG_OK);
    /* a body cut short by one byte (the length, not the text, is what is signed) */
    ck_assert_int_eq(stripe_sig_verify(header, body, strlen(body) - 1, secret, now, 300, NULL), STRIPE_SIG_NO_MATCH);
    json_decref(root);
}
END_TEST

START_TEST(test_missing_inputs)
{
    const char *h = "t=1,v1=0000000000000000000000000000000000000000000000000000000000000000";
    ck_assert_int_eq(stripe_sig_verify(h, "{}", 2, NULL, 1, 300, NULL), STRIPE_SIG_NO_SECRET);
    ck_assert_int_eq(stripe_sig_verify(h, "{}", 2, "", 1, 300, NULL), STRIPE_SIG_NO_SECRET);
    ck_assert_int_eq(stripe_sig_verify(NULL, "{}", 2, "whsec_x", 1, 300, NULL), STRIPE_SIG_NO_HEADER);
    ck_assert_int_eq(stripe_sig_verify(h, NULL, 0, "whsec_x", 1, 300, NULL), STRIPE_SIG_NO_MATCH);
    ck_assert_int_eq(stripe_sig_verify("t=1,v1=", "{}", 2, "whsec_x", 1, 300, NULL), STRIPE_SIG_NO_MATCH);
    ck_assert_int_eq(stripe_sig_verify("t=,v1=00", "{}", 2, "whsec_x", 1, 300, NULL), STRIPE_SIG_MALFORMED);
    ck_assert_int_eq(stripe_sig_verify("t=1,,v1=00", "{}", 2, "whsec_x", 1, 300, NULL), STRIPE_SIG_MALFORMED);
    ck_assert_int_eq(stripe_sig_verify("t=1234567890123456789,v1=00", "{}", 2, "whsec_x", 1, 300, NULL),
                     STRIPE_SIG_MALFORMED);
    /* an oversized header is refused before any work */
    static char big[9000];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "t=1,v1=", 7);
    ck_assert_int_eq(stripe_sig_verify(big, "{}", 2, "whsec_x", 1, 300, NULL), STRIPE_SIG_MALFORMED);
    ck_assert_str_eq(stripe_sig_reason(STRIPE_SIG_TOO_NEW), "too_new");
    ck_assert_str_eq(stripe_sig_reason(42), "unknown");
}
END_TEST

START_TEST(test_price_lists)
{
    char err[256];
    ck_assert_int_eq(config_parse_text("stripe.price.pro = price_pro_m, price_pro_y ,price_x\n"
                                       "stripe.price.enterprise = price_ent\n",
                                       err, sizeof err),
                     0);
    ck_assert_str_eq(stripe_plan_for_price("price_pro_m"), "pro");
    ck_assert_str_eq(stripe_plan_for_price("price_pro_y"), "pro");
    ck_assert_str_eq(stripe_plan_for_price("price_x"), "pro");
    ck_assert_str_eq(stripe_plan_for_price("price_ent"), "enterprise");
    /* whole ids only: a prefix or an extension of a listed id is another price */
    ck_assert_ptr_null(stripe_plan_for_price("price_pro"));
    ck_assert_ptr_null(stripe_plan_for_price("price_ent2"));
    ck_assert_ptr_null(stripe_plan_for_price(""));
    ck_assert_ptr_null(stripe_plan_for_price(NULL));
    config_free(); /* the defaults: no price grants a plan */
    ck_assert_ptr_null(stripe_plan_for_price("price_pro_m"));
    config_free();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stripe_sig");
    UNIT_ADD(s, test_stripe_library_fixtures);
    UNIT_ADD(s, test_timestamp_reported_and_tolerance_both_ways);
    UNIT_ADD(s, test_missing_inputs);
    UNIT_ADD(s, test_price_lists);
    return unit_run(s);
}
