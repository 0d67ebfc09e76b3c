/* test_queue.c — unit tests of lib/queue without a database: the retry backoff (doubling, ceiling,
 * equal jitter), job type names, input checks refused before any statement, quota config keys. */
#include "unit.h"
#include "config.h"
#include "queue.h"

static char err[256];

static void teardown(void)
{
    unsetenv("BCF_QUEUE_QUOTA_SLEEP_PER_DAY");
    config_free();
}

START_TEST(test_backoff_doubles_to_ceiling)
{
    /* jitter 1 gives the full step, jitter 0 half of it */
    ck_assert_int_eq(queue_backoff_ms(1, 1000, 300000, 1.0), 1000);
    ck_assert_int_eq(queue_backoff_ms(2, 1000, 300000, 1.0), 2000);
    ck_assert_int_eq(queue_backoff_ms(3, 1000, 300000, 1.0), 4000);
    ck_assert_int_eq(queue_backoff_ms(9, 1000, 300000, 1.0), 256000);
    ck_assert_int_eq(queue_backoff_ms(10, 1000, 300000, 1.0), 300000);
    ck_assert_int_eq(queue_backoff_ms(1000, 1000, 300000, 1.0), 300000);
    ck_assert_int_eq(queue_backoff_ms(1, 1000, 300000, 0.0), 500);
    ck_assert_int_eq(queue_backoff_ms(3, 1000, 300000, 0.0), 2000);
    ck_assert_int_eq(queue_backoff_ms(3, 1000, 300000, 0.5), 3000);
    ck_assert_int_eq(queue_backoff_ms(1000, 1000, 300000, 0.0), 150000);
}
END_TEST

START_TEST(test_backoff_edges)
{
    /* attempt < 1 counts as the first; jitter outside [0, 1] (or NaN) is clamped */
    ck_assert_int_eq(queue_backoff_ms(0, 1000, 5000, 1.0), 1000);
    ck_assert_int_eq(queue_backoff_ms(-3, 1000, 5000, 1.0), 1000);
    ck_assert_int_eq(queue_backoff_ms(1, 1000, 5000, 7.0), 1000);
    ck_assert_int_eq(queue_backoff_ms(1, 1000, 5000, -2.0), 500);
    ck_assert_int_eq(queue_backoff_ms(1, 1000, 5000, 0.0 / 0.0), 500);
    /* a ceiling under the base is raised to it; a zero base never waits */
    ck_assert_int_eq(queue_backoff_ms(5, 1000, 10, 1.0), 1000);
    ck_assert_int_eq(queue_backoff_ms(7, 0, 5000, 1.0), 0);
    /* every jitter stays within [step/2, step] */
    for (int a = 1; a <= 12; a++)
        for (int k = 0; k <= 10; k++) {
            long step = queue_backoff_ms(a, 250, 60000, 1.0);
            long d = queue_backoff_ms(a, 250, 60000, k / 10.0);
            ck_assert_msg(d >= step / 2 && d <= step, "attempt %d jitter %d: %ld outside [%ld, %ld]", a, k, d,
                          step / 2, step);
        }
}
END_TEST

START_TEST(test_type_names)
{
    const char *good[] = {"noop", "sleep", "bot_tick", "backtest", "a", "x9", "abcdefghijabcdefghijabcdefghijabcdefghij"};
    const char *bad[] = {"", "Noop", "9x", "_x", "no-such-type", "a b", "bot.tick", "ação",
                         "abcdefghijabcdefghijabcdefghijabcdefghijk", NULL};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(queue_type_valid(good[i]), "'%s' refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!queue_type_valid(bad[i]), "'%s' accepted", bad[i] ? bad[i] : "(null)");
}
END_TEST

START_TEST(test_enqueue_refuses_bad_input_before_the_database)
{
    /* no database is configured: each of these must be refused by the checks alone */
    ctx c = {NULL, 0, 0, "", ""};
    ck_assert_int_eq(queue_enqueue(&c, "Bad-Type", "{}", NULL), QUEUE_EINVAL);
    ck_assert_ptr_nonnull(strstr(queue_error(), "type"));
    ck_assert_int_eq(queue_enqueue(&c, "noop", "[1,2]", NULL), QUEUE_EINVAL);
    ck_assert_int_eq(queue_enqueue(&c, "noop", "{not json", NULL), QUEUE_EINVAL);
    ck_assert_int_eq(queue_enqueue(&c, "noop", "{\"a\":1,\"a\":2}", NULL), QUEUE_EINVAL);
    ck_assert_int_eq(queue_enqueue(&c, "noop", "\"text\"", NULL), QUEUE_EINVAL);
    queue_opts o = {101, NULL, 0, 0};
    ck_assert_int_eq(queue_enqueue(&c, "noop", "{}", &o), QUEUE_EINVAL);
    o = (queue_opts){0, "", 0, 0};
    ck_assert_int_eq(queue_enqueue(&c, "noop", "{}", &o), QUEUE_EINVAL);
    o = (queue_opts){0, NULL, -1, 0};
    ck_assert_int_eq(queue_enqueue(&c, "noop", "{}", &o), QUEUE_EINVAL);
    char big[300];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    o = (queue_opts){0, big, 0, 0};
    ck_assert_int_eq(queue_enqueue(&c, "noop", "{}", &o), QUEUE_EINVAL);
    /* params bigger than queue.max_params_bytes */
    ck_assert_int_eq(config_parse_text("queue.max_params_bytes = 16\n", err, sizeof err), 0);
    ck_assert_int_eq(queue_enqueue(&c, "noop", "{\"k\":\"0123456789abcdef\"}", NULL), QUEUE_EINVAL);
    queue_item it = {0, 0, "noop", "{\"k\":\"0123456789abcdef\"}", NULL, 0};
    long long id = 99;
    ck_assert_int_eq(queue_enqueue_batch(&it, 1, &id), QUEUE_EINVAL);
    ck_assert_int_eq(queue_enqueue_batch(&it, 0, &id), 0);
}
END_TEST

START_TEST(test_quota_keys)
{
    /* queue.quota.<type>.per_day is a known key for any type, in a file or the environment */
    ck_assert_msg(config_parse_text("queue.quota.backtest.per_day = 3\n", err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(config_int("queue.quota.backtest.per_day"), 3);
    ck_assert_int_ne(config_parse_text("queue.quotas = 3\n", err, sizeof err), 0);
    setenv("BCF_QUEUE_QUOTA_SLEEP_PER_DAY", "2", 1);
    config_free();
    ck_assert_int_eq(config_int("queue.quota.sleep.per_day"), 2);
    /* no limit configured: the default hook allows without asking the database */
    ctx c = {NULL, 1, 1, "", ""};
    char why[64] = "";
    ck_assert_int_eq(queue_quota_default(&c, "noop", why, sizeof why), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("queue");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_backoff_doubles_to_ceiling);
    tcase_add_test(tc, test_backoff_edges);
    tcase_add_test(tc, test_type_names);
    tcase_add_test(tc, test_enqueue_refuses_bad_input_before_the_database);
    tcase_add_test(tc, test_quota_keys);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
