/* test_stripe_api.c — unit tests of lib/stripe_api.c's parts that need no Stripe: form encoding with
 * Stripe's bracket keys, the plan's price, and the refusals made before anything is sent. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "stripe_api.h"

static void teardown(void)
{
    unsetenv("BCF_STRIPE_SECRET_KEY");
    unsetenv("BCF_STRIPE_API_BASE");
    unsetenv("BCF_HTTP_CLIENT_STRIPE_MAX_ATTEMPTS");
    config_free();
}

START_TEST(test_form_encoding)
{
    buf b;
    buf_init(&b);
    ck_assert_int_eq(stripe_form_add(&b, "mode", "subscription"), 0);
    ck_assert_int_eq(stripe_form_add(&b, "line_items[0][price]", "price_1Abc"), 0);
    ck_assert_int_eq(stripe_form_add(&b, "skipped", NULL), 0);
    ck_assert_int_eq(stripe_form_add(&b, "success_url", "https://x.dev/a?b=c&d={ID} é"), 0);
    ck_assert_int_eq(stripe_form_add(&b, "odd[key]=&", "a+b"), 0);
    ck_assert_str_eq(b.data, "mode=subscription&line_items[0][price]=price_1Abc"
                             "&success_url=https%3A%2F%2Fx.dev%2Fa%3Fb%3Dc%26d%3D%7BID%7D%20%C3%A9"
                             "&odd[key]%3D%26=a%2Bb");
    buf_free(&b);
}
END_TEST

START_TEST(test_price_for_plan)
{
    char err[256], out[64];
    ck_assert_msg(config_parse_text("stripe.price.pro =  price_pm , price_py\nstripe.price.enterprise = price_e\n", err,
                                    sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(stripe_price_for_plan("pro", out, sizeof out), 0);
    ck_assert_str_eq(out, "price_pm");
    ck_assert_int_eq(stripe_price_for_plan("enterprise", out, sizeof out), 0);
    ck_assert_str_eq(out, "price_e");
    ck_assert_int_eq(stripe_price_for_plan("free", out, sizeof out), -1);
    ck_assert_int_eq(stripe_price_for_plan("pro.x", out, sizeof out), -1);
    ck_assert_int_eq(stripe_price_for_plan("", out, sizeof out), -1);
    ck_assert_int_eq(stripe_price_for_plan("pro", out, 4), -1);
}
END_TEST

START_TEST(test_refused_before_sending)
{
    char err[256], id[64];
    ck_assert_msg(config_parse_text("", err, sizeof err) == 0, "%s", err);
    stripe_error e;
    /* no secret key: nothing is sent */
    ck_assert_int_eq(stripe_create_customer("customer:1", 1, NULL, id, sizeof id, &e), STRIPE_ERR_CONFIG);
    ck_assert_int_eq(e.attempts, 0);
    ck_assert_ptr_null(strstr(e.message, "sk_"));
    setenv("BCF_STRIPE_SECRET_KEY", "sk_test_unit", 1);
    ck_assert_msg(config_parse_text("", err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(stripe_create_customer("", 1, NULL, id, sizeof id, &e), STRIPE_ERR_INVALID);
    ck_assert_int_eq(stripe_create_customer("a\r\nX-Evil: 1", 1, NULL, id, sizeof id, &e), STRIPE_ERR_INVALID);
    char longkey[300];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    ck_assert_int_eq(stripe_create_customer(longkey, 1, NULL, id, sizeof id, &e), STRIPE_ERR_INVALID);
    stripe_checkout co = {.tenant_id = 1, .customer = "cus_1", .price = NULL, .success_url = "x", .cancel_url = "y"};
    char url[64];
    ck_assert_int_eq(stripe_create_checkout_session("k", &co, id, sizeof id, url, sizeof url, &e), STRIPE_ERR_INVALID);
    ck_assert_int_eq(stripe_create_portal_session("k", NULL, "x", url, sizeof url, &e), STRIPE_ERR_INVALID);
    /* a subscription id goes into the URL path: only sub_ and letters or digits */
    stripe_subscription sub;
    stripe_subscription_change cancel = {.cancel_at_period_end = 1};
    ck_assert_int_eq(stripe_get_subscription("sub_1/../../v1/customers", &sub, &e), STRIPE_ERR_INVALID);
    ck_assert_int_eq(stripe_update_subscription("k", "cus_1", &cancel, NULL, &e), STRIPE_ERR_INVALID);
    ck_assert_int_eq(stripe_update_subscription("k", "sub_1?x=1", &cancel, NULL, &e), STRIPE_ERR_INVALID);
    /* a price change needs the item and the proration; nothing to change is refused too */
    stripe_subscription_change no_item = {.price = "price_1", .proration_behavior = "none", .cancel_at_period_end = -1};
    stripe_subscription_change nothing = {.cancel_at_period_end = -1};
    ck_assert_int_eq(stripe_update_subscription("k", "sub_1", &no_item, NULL, &e), STRIPE_ERR_INVALID);
    ck_assert_int_eq(stripe_update_subscription("k", "sub_1", &nothing, NULL, &e), STRIPE_ERR_INVALID);
    /* a POST without an idempotency key is refused */
    ck_assert_int_eq(stripe_update_subscription("", "sub_1", &cancel, NULL, &e), STRIPE_ERR_INVALID);
    ck_assert_int_eq(e.attempts, 0);
}
END_TEST

START_TEST(test_unreachable_is_unavailable)
{
    char err[256], id[64];
    setenv("BCF_STRIPE_SECRET_KEY", "sk_test_unit", 1);
    /* port 1 on loopback: connection refused at once */
    setenv("BCF_STRIPE_API_BASE", "http://127.0.0.1:1", 1);
    setenv("BCF_HTTP_CLIENT_STRIPE_MAX_ATTEMPTS", "1", 1);
    ck_assert_msg(config_parse_text("", err, sizeof err) == 0, "%s", err);
    stripe_error e;
    ck_assert_int_eq(stripe_create_customer("customer:1", 1, "a@b.c", id, sizeof id, &e), STRIPE_ERR_UNAVAILABLE);
    ck_assert_int_eq(e.status, 0);
    ck_assert_int_ne(e.transport, HTTP_OK);
    ck_assert_ptr_null(strstr(e.message, "sk_test_unit"));
    ck_assert_str_eq(stripe_result_name(e.result), "unavailable");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stripe_api");
    TCase *tc = tcase_create("client");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_form_encoding);
    tcase_add_test(tc, test_price_for_plan);
    tcase_add_test(tc, test_refused_before_sending);
    tcase_add_test(tc, test_unreachable_is_unavailable);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
