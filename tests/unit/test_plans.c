/* test_plans.c — unit tests of the plans catalog without a database: the documented defaults,
 * overrides from the file and the environment, "unlimited", plans added by operators, refusals. */
#include "unit.h"
#include "config.h"
#include "plans.h"

static char err[256];

static void teardown(void)
{
    unsetenv("BCF_PLANS_PRO_BOTS");
    config_free();
}

static long long limit_of(const char *plan, plan_limit which)
{
    long long v = -99;
    ck_assert_msg(plans_catalog_limit(plan, which, &v) == 0, "%s.%s unreadable", plan, plans_limit_name(which));
    return v;
}

START_TEST(test_defaults)
{
    config_free();
    ck_assert_int_eq(limit_of("free", PLAN_BOTS), 2);
    ck_assert_int_eq(limit_of("free", PLAN_LIVE_TRADING), 0);
    ck_assert_int_eq(limit_of("pro", PLAN_LIVE_TRADING), 1);
    ck_assert_int_eq(limit_of("pro", PLAN_PRICE_BRL_CENTS), 9900);
    ck_assert_int_eq(limit_of("pro", PLAN_TRIAL_DAYS), 14);
    ck_assert_int_eq(limit_of("enterprise", PLAN_BACKTESTS_PER_DAY), PLAN_UNLIMITED);
    ck_assert_int_eq(limit_of("internal", PLAN_BOTS), PLAN_UNLIMITED);
    /* every plan of the tenants table has every limit */
    const char *plans[] = {"free", "pro", "enterprise", "influencer", "internal"};
    for (size_t i = 0; i < 5; i++)
        for (int w = 0; w < PLAN_LIMIT_COUNT; w++)
            limit_of(plans[i], (plan_limit)w);
    /* the pricing page sells three */
    char name[32];
    ck_assert_int_eq(plans_public_at(0, name, sizeof name), 1);
    ck_assert_str_eq(name, "free");
    ck_assert_int_eq(plans_public_at(2, name, sizeof name), 1);
    ck_assert_str_eq(name, "enterprise");
    ck_assert_int_eq(plans_public_at(3, name, sizeof name), 0);
}
END_TEST

START_TEST(test_overrides)
{
    ck_assert_msg(config_parse_text("plans.free.bots = 5\nplans.pro.backtests_per_day = unlimited\n"
                                    "plans.live_trading = free\nplans.public = pro, free\n",
                                    err, sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(limit_of("free", PLAN_BOTS), 5);
    ck_assert_int_eq(limit_of("pro", PLAN_BACKTESTS_PER_DAY), PLAN_UNLIMITED);
    ck_assert_int_eq(limit_of("free", PLAN_LIVE_TRADING), 1);
    ck_assert_int_eq(limit_of("pro", PLAN_LIVE_TRADING), 0);
    char name[32];
    ck_assert_int_eq(plans_public_at(0, name, sizeof name), 1);
    ck_assert_str_eq(name, "pro");
    ck_assert_int_eq(plans_public_at(1, name, sizeof name), 1);
    ck_assert_str_eq(name, "free");
    /* the environment wins over the file */
    setenv("BCF_PLANS_PRO_BOTS", "7", 1);
    config_free();
    ck_assert_int_eq(limit_of("pro", PLAN_BOTS), 7);
}
END_TEST

START_TEST(test_operator_plans_and_bad_values)
{
    /* a plan the operator adds takes any limit the free plan has; unknown limits stay refused */
    ck_assert_msg(config_parse_text("plans.team.bots = 40\n", err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(limit_of("team", PLAN_BOTS), 40);
    long long v;
    ck_assert_int_eq(plans_catalog_limit("team", PLAN_API_TOKENS, &v), -1);
    ck_assert_int_ne(config_parse_text("plans.team.colour = 1\n", err, sizeof err), 0);
    ck_assert_int_ne(config_parse_text("plans.free.bogus = 1\n", err, sizeof err), 0);
    /* a value that is not a whole number >= 0 is unreadable, never taken as unlimited */
    ck_assert_int_eq(config_parse_text("plans.free.bots = -3\nplans.pro.bots = 2x\n", err, sizeof err), 0);
    ck_assert_int_eq(plans_catalog_limit("free", PLAN_BOTS, &v), -1);
    ck_assert_int_eq(plans_catalog_limit("pro", PLAN_BOTS, &v), -1);
    ck_assert_int_eq(plans_catalog_limit("Free; DROP", PLAN_BOTS, &v), -1);
    ck_assert_int_eq(plans_catalog_limit(NULL, PLAN_BOTS, &v), -1);
}
END_TEST

START_TEST(test_check_and_explain)
{
    config_free();
    plan_refusal r;
    ck_assert_int_eq(plans_allows("free", PLAN_BOTS, 1, 1, &r), 1);
    ck_assert_int_eq(plans_allows("free", PLAN_BOTS, 2, 1, &r), 0);
    ck_assert_str_eq(r.plan, "free");
    ck_assert_int_eq(r.limit, 2);
    ck_assert_int_eq(r.used, 2);
    ck_assert_str_eq(r.why, "the free plan allows 2 bots; 2 already used");
    /* a size asked for at once names the total */
    ck_assert_int_eq(plans_allows("free", PLAN_OPTIMIZATION_SETS, 0, 10001, &r), 0);
    ck_assert_str_eq(r.why, "the free plan allows 10000 parameter sets per optimization; this asks for 10001");
    ck_assert_int_eq(plans_allows("free", PLAN_OPTIMIZATION_SETS, 0, 10000, &r), 1);
    ck_assert_int_eq(plans_allows("internal", PLAN_BOTS, 1000000, 1, NULL), 1);
    ck_assert_int_eq(plans_allows("free", PLAN_LIVE_TRADING, 0, 1, &r), 0);
    ck_assert_str_eq(r.why, "the free plan does not include live trading");
    /* an unknown plan allows nothing */
    ck_assert_int_eq(plans_allows("nosuch", PLAN_BOTS, 0, 1, &r), -1);
    ck_assert_ptr_nonnull(strstr(r.why, "not configured"));
}
END_TEST

START_TEST(test_job_types)
{
    plan_limit w;
    const char *types;
    ck_assert_int_eq(plans_job_limit("backtest", &w, &types), 1);
    ck_assert_int_eq(w, PLAN_BACKTESTS_PER_DAY);
    ck_assert_int_eq(plans_job_limit("walk_forward", &w, &types), 1);
    ck_assert_int_eq(w, PLAN_OPTIMIZATIONS_PER_DAY);
    ck_assert_str_eq(types, "optimize,walk_forward");
    ck_assert_int_eq(plans_job_limit("ml_train", &w, &types), 1);
    ck_assert_int_eq(w, PLAN_ML_TRAININGS_PER_DAY);
    ck_assert_int_eq(plans_job_limit("bot_tick", &w, &types), 0);
    ck_assert_int_eq(plans_job_limit(NULL, &w, &types), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plans");
    TCase *tc = tcase_create("catalog");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_overrides);
    tcase_add_test(tc, test_operator_plans_and_bad_values);
    tcase_add_test(tc, test_check_and_explain);
    tcase_add_test(tc, test_job_types);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
