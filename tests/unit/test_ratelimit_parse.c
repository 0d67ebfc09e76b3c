/* test_ratelimit_parse.c — unit tests of lib/ratelimit.c without Redis: the rate syntax, policies
 * read from config and the environment, the global off switch, the fail-closed list, Redis down. */
#include "unit.h"
#include "config.h"
#include "kv.h"
#include "ratelimit.h"

static char err[256];

static void load(const char *text)
{
    config_free();
    ck_assert_msg(config_parse_text(text, err, sizeof err) == 0, "config: %s", err);
}

static void teardown(void)
{
    unsetenv("BCF_RATELIMIT_ENABLED");
    unsetenv("BCF_RATELIMIT_P2P_CREATE_ORDER");
    unsetenv("BCF_RATELIMIT_BANCO_TRANSFER");
    unsetenv("BCF_RATELIMIT_FAIL_CLOSED");
    unsetenv("BCF_RATELIMIT_DEFAULT");
    config_free();
}

START_TEST(test_parse_good)
{
    static const struct {
        const char *text;
        long limit, period;
    } good[] = {
        {"10/min", 10, 60},     {"5/h", 5, 3600},          {"3/hour", 3, 3600},   {"100/s", 100, 1},
        {"1/sec", 1, 1},        {"2/day", 2, 86400},       {"7/d", 7, 86400},     {"4/minute", 4, 60},
        {"9/second", 9, 1},     {"  10 / min  ", 10, 60},  {"\t20/MIN\n", 20, 60}, {"1000000/min", 1000000, 60},
        {"off", 0, 0},          {" OFF ", 0, 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        rl_policy p = {-5, -5};
        ck_assert_msg(rl_parse(good[i].text, &p) == 0, "'%s' refused", good[i].text);
        ck_assert_msg(p.limit == good[i].limit && p.period_s == good[i].period, "'%s' -> %ld/%lds", good[i].text,
                      p.limit, p.period_s);
    }
}
END_TEST

START_TEST(test_parse_bad)
{
    static const char *bad[] = {"",        "   ",      "0/min",   "-1/min",  "10",      "10/",     "/min",
                                "10/min/", "10/mins",  "10/m",    "10/week", "ten/min", "10 min",  "10/5min",
                                "1.5/s",   "+3/s",     "10//min", "10/min x", "offf",   "of",      "99999999999999999999/s",
                                "2000000000/s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rl_policy p = {42, 43};
        ck_assert_msg(rl_parse(bad[i], &p) == -1, "'%s' accepted", bad[i]);
        ck_assert_msg(p.limit == 42 && p.period_s == 43, "'%s' changed the output", bad[i]);
    }
    rl_policy p;
    ck_assert_int_eq(rl_parse(NULL, &p), -1);
}
END_TEST

START_TEST(test_policy_from_config_and_env)
{
    load("ratelimit.default = 5/s\nratelimit.p2p.create_order = 7/h\nratelimit.custom.thing = 3/min\n"
         "ratelimit.custom.off = off\nratelimit.custom.bad = lots\n");
    rl_policy p = rl_policy_for("default");
    ck_assert_int_eq(p.limit, 5);
    ck_assert_int_eq(p.period_s, 1);
    p = rl_policy_for("custom.thing");
    ck_assert_int_eq(p.limit, 3);
    ck_assert_int_eq(p.period_s, 60);
    /* off, unparseable and absent all mean no limit */
    ck_assert_int_eq(rl_policy_for("custom.off").limit, 0);
    ck_assert_int_eq(rl_policy_for("custom.bad").limit, 0);
    ck_assert_int_eq(rl_policy_for("custom.bad").limit, 0); /* the second look (warned once) agrees */
    ck_assert_int_eq(rl_policy_for("no.such_action").limit, 0);
    ck_assert_int_eq(rl_policy_for(NULL).limit, 0);
    /* a built-in default applies when the file says nothing */
    p = rl_policy_for("account.reset");
    ck_assert_int_eq(p.limit, 5);
    ck_assert_int_eq(p.period_s, 3600);
    /* the environment wins over the file (read once per load, hence the reload) */
    ck_assert_int_eq(rl_policy_for("p2p.create_order").limit, 7);
    setenv("BCF_RATELIMIT_P2P_CREATE_ORDER", "2/day", 1);
    setenv("BCF_RATELIMIT_BANCO_TRANSFER", "1/s", 1);
    load("ratelimit.p2p.create_order = 7/h\n");
    p = rl_policy_for("p2p.create_order");
    ck_assert_int_eq(p.limit, 2);
    ck_assert_int_eq(p.period_s, 86400);
    p = rl_policy_for("banco.transfer");
    ck_assert_int_eq(p.limit, 1);
    ck_assert_int_eq(p.period_s, 1);
    setenv("BCF_RATELIMIT_P2P_CREATE_ORDER", "garbage", 1);
    load("");
    ck_assert_int_eq(rl_policy_for("p2p.create_order").limit, 0);
}
END_TEST

START_TEST(test_enabled_switch)
{
    load("ratelimit.enabled = 0\nratelimit.default = 5/s\n");
    ck_assert_int_eq(rl_policy_for("default").limit, 0);
    ck_assert_int_eq(rl_policy_for("user").limit, 0);
    ck_assert_int_eq(rl_policy_for("auth.login").limit, 0);
    ck_assert_int_eq(rl_policy_for("p2p.create_order").limit, 0);
    setenv("BCF_RATELIMIT_ENABLED", "1", 1);
    load("ratelimit.enabled = 0\nratelimit.default = 5/s\n");
    ck_assert_int_eq(rl_policy_for("default").limit, 5);
    setenv("BCF_RATELIMIT_ENABLED", "0", 1);
    load("ratelimit.default = 5/s\n");
    ck_assert_int_eq(rl_policy_for("default").limit, 0);
}
END_TEST

START_TEST(test_fail_closed_exact)
{
    load("");
    /* the built-in list: money moves only */
    ck_assert_int_eq(rl_fail_closed("p2p.create_order"), 1);
    ck_assert_int_eq(rl_fail_closed("banco.transfer"), 1);
    ck_assert_int_eq(rl_fail_closed("financeiro.create_transaction"), 1);
    ck_assert_int_eq(rl_fail_closed("auth.login"), 0);
    ck_assert_int_eq(rl_fail_closed("default"), 0);
    load("ratelimit.fail_closed = a.one, b.two ,c.three\n");
    ck_assert_int_eq(rl_fail_closed("a.one"), 1);
    ck_assert_int_eq(rl_fail_closed("b.two"), 1);
    ck_assert_int_eq(rl_fail_closed("c.three"), 1);
    /* no prefix, suffix or substring matches */
    ck_assert_int_eq(rl_fail_closed("a.on"), 0);
    ck_assert_int_eq(rl_fail_closed("a.one2"), 0);
    ck_assert_int_eq(rl_fail_closed("two"), 0);
    ck_assert_int_eq(rl_fail_closed("b.two ,c"), 0);
    ck_assert_int_eq(rl_fail_closed("a.one, b.two"), 0);
    ck_assert_int_eq(rl_fail_closed(""), 0);
    ck_assert_int_eq(rl_fail_closed(NULL), 0);
    ck_assert_int_eq(rl_fail_closed("p2p.create_order"), 0);
    setenv("BCF_RATELIMIT_FAIL_CLOSED", "", 1);
    load("");
    ck_assert_int_eq(rl_fail_closed("p2p.create_order"), 0);
}
END_TEST

START_TEST(test_check_without_redis)
{
    load("redis.timeout_ms = 200\n");
    /* nothing listens on port 1: the connection is refused at once */
    kv_configure("127.0.0.1", 1);
    rl_policy p = {10, 60};
    rl_result r = {7, 7, 7};
    ck_assert_int_eq(rl_check("default", "ip:192.0.2.1", &p, &r), -1);
    ck_assert_int_eq(rl_reset("ip:192.0.2.1"), -1);
    /* an unlimited policy needs no Redis and always allows */
    rl_policy off = {0, 0};
    ck_assert_int_eq(rl_check("default", "ip:192.0.2.1", &off, &r), 0);
    ck_assert_int_eq(r.allowed, 1);
    kv_close();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("ratelimit");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_parse_good);
    tcase_add_test(tc, test_parse_bad);
    tcase_add_test(tc, test_policy_from_config_and_env);
    tcase_add_test(tc, test_enabled_switch);
    tcase_add_test(tc, test_fail_closed_exact);
    tcase_add_test(tc, test_check_without_redis);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
