/* test_money.c — unit tests of money formatting and the revenue figures: separators per language,
 * every currency's decimals, negatives and the extremes; MRR, churn, ARPU and LTV by hand. */
#include "unit.h"
#include "money.h"
#include "revenue.h"
#include <limits.h>

static const char *fmt(long long minor, const char *cur, const char *lang)
{
    static char out[80];
    ck_assert_int_ge(money_format(out, sizeof out, minor, cur, lang), 0);
    return out;
}

START_TEST(test_brl)
{
    ck_assert_str_eq(fmt(123456, "BRL", "pt-BR"), "R$ 1.234,56");
    ck_assert_str_eq(fmt(123456, "BRL", "en"), "BRL 1,234.56");
    ck_assert_str_eq(fmt(0, "BRL", "pt-BR"), "R$ 0,00");
    ck_assert_str_eq(fmt(5, "BRL", "pt-BR"), "R$ 0,05");
    ck_assert_str_eq(fmt(9900, "BRL", "pt-BR"), "R$ 99,00");
    ck_assert_str_eq(fmt(-123456789, "BRL", "pt-BR"), "-R$ 1.234.567,89");
    ck_assert_str_eq(fmt(100000000, "BRL", "en"), "BRL 1,000,000.00");
    ck_assert_str_eq(fmt(99999, "BRL", "en"), "BRL 999.99");
}
END_TEST

START_TEST(test_crypto)
{
    ck_assert_str_eq(fmt(12500000, "USDT", "pt-BR"), "USDT 12,500000");
    ck_assert_str_eq(fmt(1234500000, "USDT", "en"), "USDT 1,234.500000");
    ck_assert_str_eq(fmt(100000, "BTC", "en"), "BTC 0.00100000");
    ck_assert_str_eq(fmt(-2100000000000000LL, "BTC", "pt-BR"), "-BTC 21.000.000,00000000");
    ck_assert_int_eq(money_decimals("USDT"), 6);
    ck_assert_int_eq(money_decimals("BTC"), 8);
    char out[40];
    ck_assert_int_eq(money_plain(out, sizeof out, -123456, "BRL"), 8);
    ck_assert_str_eq(out, "-1234.56");
    money_plain(out, sizeof out, 100000, "BTC");
    ck_assert_str_eq(out, "0.00100000");
    ck_assert_int_eq(money_plain(out, sizeof out, 1, "EUR"), -1);
}
END_TEST

START_TEST(test_extremes_and_errors)
{
    ck_assert_str_eq(fmt(LLONG_MIN, "BRL", "en"), "-BRL 92,233,720,368,547,758.08");
    ck_assert_str_eq(fmt(LLONG_MAX, "BRL", "pt-BR"), "R$ 92.233.720.368.547.758,07");
    char out[8];
    ck_assert_int_eq(money_format(out, sizeof out, 1, "EUR", "en"), -1);
    ck_assert_int_eq(money_format(out, sizeof out, 1, NULL, "en"), -1);
    /* cut like snprintf, still terminated */
    ck_assert_int_eq(money_format(out, sizeof out, 123456, "BRL", "en"), 12);
    ck_assert_str_eq(out, "BRL 1,2");
    arena a;
    arena_init(&a, 1024);
    ck_assert_str_eq(money_format_a(&a, 1, "XYZ", "en"), "—");
    ck_assert_str_eq(money_format_a(&a, 1, "BRL", "pt-BR"), "R$ 0,01");
    arena_destroy(&a);
}
END_TEST

#define DAY 86400LL

START_TEST(test_revenue)
{
    const long long end = 100 * DAY, start = end - 30 * DAY;
    /* ordered by tenant: tenant 1 holds two pro subscriptions, tenant 2 an enterprise one */
    revenue_sub subs[] = {
        {1, "pro", "active", 9900, 10 * DAY, 0},
        {1, "pro", "past_due", 9900, 50 * DAY, 0},
        {2, "enterprise", "active", 49900, 80 * DAY, 0},
        {3, "pro", "canceled", 9900, 20 * DAY, 90 * DAY},   /* churned in the period */
        {4, "pro", "canceled", 9900, 5 * DAY, 40 * DAY},    /* churned before it */
        {5, "pro", "trialing", 9900, 95 * DAY, 0},          /* not paying yet */
        {6, NULL, "active", 0, 10 * DAY, 0},                /* price of no plan */
    };
    revenue_summary r;
    revenue_summarize(subs, sizeof subs / sizeof subs[0], start, end, &r);
    ck_assert_int_eq(r.mrr_cents, 9900 + 9900 + 49900);
    ck_assert_int_eq(r.arr_cents, 12 * 69700);
    ck_assert_int_eq(r.paying_subs, 3);
    ck_assert_int_eq(r.paying_tenants, 2);
    ck_assert_int_eq(r.arpu_cents, 34850);
    /* paying at the start: tenant 1's two and tenant 3's; the enterprise one came later */
    ck_assert_int_eq(r.active_at_start, 3);
    ck_assert_int_eq(r.canceled_in_period, 1);
    ck_assert_double_eq_tol(r.churn, 1.0 / 3, 1e-12);
    ck_assert_int_eq(r.ltv_cents, 104550);
    ck_assert_int_eq(revenue_mrr_at(subs, 7, 30 * DAY), 3 * 9900);
    ck_assert_int_eq(revenue_mrr_at(subs, 7, 4 * DAY), 0);
    ck_assert_int_eq(revenue_mrr_at(subs, 7, end), 69700);
    /* no churn: no LTV; nothing at all: no churn either */
    revenue_summarize(subs, 3, start, end, &r);
    ck_assert_int_eq(r.ltv_cents, -1);
    ck_assert_double_eq(r.churn, 0);
    revenue_summarize(subs, 0, start, end, &r);
    ck_assert_double_eq(r.churn, -1);
    ck_assert_int_eq(r.arpu_cents, 0);
}
END_TEST

/* What people type: either decimal mark, the currency's decimals at most, nothing else. */
START_TEST(test_parse)
{
    long long v = -1;
    ck_assert_int_eq(money_parse("12,50", "BRL", &v), 0);
    ck_assert_int_eq(v, 1250);
    ck_assert_int_eq(money_parse("12.5", "BRL", &v), 0);
    ck_assert_int_eq(v, 1250);
    ck_assert_int_eq(money_parse("7", "BRL", &v), 0);
    ck_assert_int_eq(v, 700);
    ck_assert_int_eq(money_parse("0.00000001", "BTC", &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(money_parse("1.5", "USDT", &v), 0);
    ck_assert_int_eq(v, 1500000);
    ck_assert_int_eq(money_parse("0", "BRL", &v), 0);
    ck_assert_int_eq(v, 0);
    v = 42;
    const char *bad[] = {"", "-1", "+1", "1,234.56", "1.234", "1e3", "abc", ".5", "5.", "1 000", "0x10",
                         "92233720368547758.08", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(money_parse(bad[i], "BRL", &v) == -1, "accepted %s", bad[i]);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(money_parse("1", "EUR", &v), -1);
    ck_assert_int_eq(money_parse(NULL, "BRL", &v), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("money");
    TCase *tc = tcase_create("money");
    tcase_add_test(tc, test_brl);
    tcase_add_test(tc, test_crypto);
    tcase_add_test(tc, test_extremes_and_errors);
    tcase_add_test(tc, test_revenue);
    tcase_add_test(tc, test_parse);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
