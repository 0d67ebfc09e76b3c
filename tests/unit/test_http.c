/* test_http.c — unit tests of lib/http.c: full-jitter backoff bounds, Retry-After parsing, the
 * circuit breaker's state machine driven by injected time, and refusals that never touch the network. */
#include "unit.h"
#include "config.h"
#include "http.h"
#include <stdint.h>

START_TEST(backoff_ceiling_doubles_up_to_the_cap)
{
    /* the largest pick (rnd = 2^32-1) is the ceiling: base, 2×, 4×, ... then the cap */
    const long want[] = {100, 200, 400, 800, 1000, 1000, 1000};
    for (int r = 1; r <= 7; r++)
        ck_assert_int_eq(http_backoff_ms(r, 100, 1000, UINT32_MAX), want[r - 1]);
    /* far retries neither overflow nor exceed the cap */
    ck_assert_int_eq(http_backoff_ms(63, 100, 1000, UINT32_MAX), 1000);
    ck_assert_int_eq(http_backoff_ms(1000, 100, 1000, UINT32_MAX), 1000);
    ck_assert_int_eq(http_backoff_ms(40, 1, 9000000, UINT32_MAX), 9000000);
    /* the smallest pick is zero: full jitter, not "equal jitter" */
    for (int r = 1; r <= 7; r++)
        ck_assert_int_eq(http_backoff_ms(r, 100, 1000, 0), 0);
    /* nonsense inputs give no wait rather than a negative one */
    ck_assert_int_eq(http_backoff_ms(0, 100, 1000, UINT32_MAX), 0);
    ck_assert_int_eq(http_backoff_ms(1, 0, 1000, UINT32_MAX), 0);
    ck_assert_int_eq(http_backoff_ms(1, 100, 0, UINT32_MAX), 0);
}
END_TEST

START_TEST(backoff_picks_spread_over_the_whole_range)
{
    /* a fixed xorshift stream: every pick within [0, ceiling], and the picks reach both ends */
    uint32_t x = 2463534242u;
    for (int r = 1; r <= 6; r++) {
        long ceiling = http_backoff_ms(r, 50, 1200, UINT32_MAX);
        int low = 0, high = 0;
        double sum = 0;
        for (int i = 0; i < 20000; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            long d = http_backoff_ms(r, 50, 1200, x);
            ck_assert_int_ge(d, 0);
            ck_assert_int_le(d, ceiling);
            low += d <= ceiling / 10;
            high += d >= ceiling - ceiling / 10;
            sum += (double)d;
        }
        ck_assert_int_gt(low, 1000);
        ck_assert_int_gt(high, 1000);
        /* uniform: the mean sits near half the ceiling */
        double mean = sum / 20000;
        ck_assert(mean > ceiling * 0.45 && mean < ceiling * 0.55);
    }
}
END_TEST

START_TEST(retry_after_seconds_and_dates)
{
    ck_assert_int_eq(http_parse_retry_after("120", 0), 120000);
    ck_assert_int_eq(http_parse_retry_after(" 5\r\n", 0), 5000);
    ck_assert_int_eq(http_parse_retry_after("0", 0), 0);
    /* 2015-10-21T07:28:00Z is 1445412480 */
    ck_assert_int_eq(http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 30), 30000);
    ck_assert_int_eq(http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 + 5), 0);
    /* a week at most, however far the server points */
    ck_assert_int_eq(http_parse_retry_after("99999999", 0), 7L * 86400 * 1000);
    ck_assert_int_eq(http_parse_retry_after("-1", 0), -1);
    ck_assert_int_eq(http_parse_retry_after("soon", 0), -1);
    ck_assert_int_eq(http_parse_retry_after("12abc", 0), -1);
    ck_assert_int_eq(http_parse_retry_after(NULL, 0), -1);
}
END_TEST

START_TEST(retryable_statuses)
{
    const long yes[] = {429, 500, 502, 503, 504};
    const long no[] = {200, 201, 301, 400, 401, 403, 404, 409, 418, 422, 501};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        ck_assert(http_status_retryable(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        ck_assert(!http_status_retryable(no[i]));
}
END_TEST

START_TEST(breaker_opens_after_consecutive_failures)
{
    http_breaker b = {0};
    const int threshold = 3;
    const long cool = 1000;
    int64_t t = 5000;
    /* failures broken by a success do not add up */
    ck_assert(http_breaker_allow(&b, t, cool));
    ck_assert_int_eq(http_breaker_record(&b, 0, t, threshold), HTTP_BREAKER_CLOSED);
    ck_assert_int_eq(http_breaker_record(&b, 0, t, threshold), HTTP_BREAKER_CLOSED);
    ck_assert_int_eq(http_breaker_record(&b, 1, t, threshold), HTTP_BREAKER_CLOSED);
    ck_assert_int_eq(http_breaker_record(&b, 0, t, threshold), HTTP_BREAKER_CLOSED);
    ck_assert_int_eq(http_breaker_record(&b, 0, t, threshold), HTTP_BREAKER_CLOSED);
    ck_assert_int_eq(http_breaker_record(&b, 0, t, threshold), HTTP_BREAKER_OPEN);
    /* open: refused for the whole cool-down */
    ck_assert(!http_breaker_allow(&b, t, cool));
    ck_assert(!http_breaker_allow(&b, t + cool - 1, cool));
    ck_assert_int_eq(b.state, HTTP_BREAKER_OPEN);
    /* a late failure of a request let through earlier does not extend it */
    ck_assert_int_eq(http_breaker_record(&b, 0, t + 500, threshold), HTTP_BREAKER_OPEN);
    ck_assert_int_eq(b.opened_ms, t);
}
END_TEST

START_TEST(breaker_half_open_lets_one_probe_through)
{
    http_breaker b = {0};
    int64_t t = 0;
    for (int i = 0; i < 2; i++)
        http_breaker_record(&b, 0, t, 2);
    ck_assert_int_eq(b.state, HTTP_BREAKER_OPEN);
    /* after the cool-down: one probe, and only one */
    ck_assert(http_breaker_allow(&b, t + 1000, 1000));
    ck_assert_int_eq(b.state, HTTP_BREAKER_HALF_OPEN);
    ck_assert(!http_breaker_allow(&b, t + 1001, 1000));
    ck_assert(!http_breaker_allow(&b, t + 5000, 1000));
    /* the probe fails: open again, for a fresh cool-down from now */
    ck_assert_int_eq(http_breaker_record(&b, 0, t + 1200, 2), HTTP_BREAKER_OPEN);
    ck_assert(!http_breaker_allow(&b, t + 2100, 1000));
    ck_assert(http_breaker_allow(&b, t + 2200, 1000));
    ck_assert_int_eq(b.state, HTTP_BREAKER_HALF_OPEN);
    /* the probe succeeds: closed, and the failure count starts over */
    ck_assert_int_eq(http_breaker_record(&b, 1, t + 2300, 2), HTTP_BREAKER_CLOSED);
    ck_assert(http_breaker_allow(&b, t + 2301, 1000));
    ck_assert(http_breaker_allow(&b, t + 2302, 1000));
    ck_assert_int_eq(http_breaker_record(&b, 0, t + 2400, 2), HTTP_BREAKER_CLOSED);
    ck_assert_int_eq(http_breaker_record(&b, 0, t + 2500, 2), HTTP_BREAKER_OPEN);
    ck_assert_str_eq(http_breaker_state_name(HTTP_BREAKER_HALF_OPEN), "half_open");
}
END_TEST

START_TEST(breaker_ready_looks_without_taking_the_probe)
{
    http_breaker b = {0};
    int64_t t = 1000000;
    ck_assert(http_breaker_ready(&b, t, 1000));
    http_breaker_record(&b, 0, t, 1);
    ck_assert(!http_breaker_ready(&b, t + 999, 1000));
    /* past the cool-down it says yes as often as asked, and the state stays open */
    ck_assert(http_breaker_ready(&b, t + 1000, 1000));
    ck_assert(http_breaker_ready(&b, t + 1000, 1000));
    ck_assert_int_eq(b.state, HTTP_BREAKER_OPEN);
    ck_assert(http_breaker_allow(&b, t + 1000, 1000));
    /* the probe is out: no more until its outcome */
    ck_assert(!http_breaker_ready(&b, t + 1001, 1000));
    http_breaker_record(&b, 1, t + 1002, 1);
    ck_assert(http_breaker_ready(&b, t + 1003, 1000));
}
END_TEST

/* A channel outside http_do (SMTP) uses the process's table with its service's config keys. */
START_TEST(service_breaker_for_a_channel_outside_http_do)
{
    char err[200];
    ck_assert_int_eq(config_parse_text("http.client.unit_mail.breaker_failures = 2\n"
                                       "http.client.unit_mail.breaker_cooldown_ms = 600000\n"
                                       "http.client.unit_probe.breaker_failures = 1\n"
                                       "http.client.unit_probe.breaker_cooldown_ms = 0\n",
                                       err, sizeof err),
                     0);
    ck_assert(http_service_ready("unit_mail"));
    ck_assert(http_service_allow("unit_mail"));
    http_service_record("unit_mail", 0);
    ck_assert_int_eq(http_breaker_state_of("unit_mail"), HTTP_BREAKER_CLOSED);
    ck_assert(http_service_allow("unit_mail"));
    http_service_record("unit_mail", 0);
    ck_assert_int_eq(http_breaker_state_of("unit_mail"), HTTP_BREAKER_OPEN);
    ck_assert(!http_service_ready("unit_mail"));
    ck_assert(!http_service_allow("unit_mail"));
    /* an HTTP request to the same service name meets the same open breaker */
    http_request rq = {.service = "unit_mail", .method = "GET", .url = "http://127.0.0.1:1/"};
    http_response rs;
    ck_assert_int_eq(http_do(&rq, &rs), HTTP_ERR_OPEN);
    http_response_free(&rs);

    /* a zero cool-down: the probe goes at once, and one at a time */
    ck_assert(http_service_allow("unit_probe"));
    http_service_record("unit_probe", 0);
    ck_assert_int_eq(http_breaker_state_of("unit_probe"), HTTP_BREAKER_OPEN);
    ck_assert(http_service_ready("unit_probe"));
    ck_assert(http_service_allow("unit_probe"));
    ck_assert_int_eq(http_breaker_state_of("unit_probe"), HTTP_BREAKER_HALF_OPEN);
    ck_assert(!http_service_ready("unit_probe"));
    ck_assert(!http_service_allow("unit_probe"));
    http_service_record("unit_probe", 1);
    ck_assert_int_eq(http_breaker_state_of("unit_probe"), HTTP_BREAKER_CLOSED);
    config_free();
}
END_TEST

START_TEST(bad_requests_are_refused_before_sending)
{
    http_response rs;
    const http_request bad[] = {
        {.service = "Binance", .method = "GET", .url = "http://127.0.0.1:1/"}, /* upper case: not a label */
        {.service = "", .method = "GET", .url = "http://127.0.0.1:1/"},
        {.service = "x", .method = "TRACE", .url = "http://127.0.0.1:1/"},
        {.service = "x", .method = "GET", .url = "file:///etc/passwd"},
        {.service = "x", .method = "GET", .url = "ftp://127.0.0.1/"},
        {.service = "x", .method = "GET", .url = NULL},
        {.service = "x", .method = "GET", .url = "http://127.0.0.1:1/", .nheaders = 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(http_do(&bad[i], &rs), HTTP_ERR_INVALID);
        ck_assert_int_eq(rs.attempts, 0);
        http_response_free(&rs);
    }
}
END_TEST

START_TEST(connect_failures_retry_then_open_the_breaker)
{
    char err[200];
    /* port 1 on loopback refuses at once; tiny backoff keeps the test quick */
    ck_assert_int_eq(config_parse_text("http.client.unit_conn.max_attempts = 3\n"
                                       "http.client.unit_conn.backoff_base_ms = 1\n"
                                       "http.client.unit_conn.backoff_max_ms = 2\n"
                                       "http.client.unit_conn.breaker_failures = 4\n"
                                       "http.client.unit_conn.breaker_cooldown_ms = 600000\n",
                                       err, sizeof err),
                     0);
    http_request rq = {.service = "unit_conn", .method = "POST", .url = "http://127.0.0.1:1/api/v3/order?signature=x"};
    http_response rs;
    /* nothing was sent, so even a POST without an idempotency promise is tried again */
    ck_assert_int_eq(http_do(&rq, &rs), HTTP_ERR_CONNECT);
    ck_assert_int_eq(rs.attempts, 3);
    ck_assert_int_eq(rs.status, 0);
    ck_assert_ptr_null(strchr(rs.error, '?'));
    http_response_free(&rs);
    ck_assert_int_eq(http_breaker_state_of("unit_conn"), HTTP_BREAKER_CLOSED);
    /* the fourth consecutive failure opens it in the middle of this call's retries */
    ck_assert_int_eq(http_do(&rq, &rs), HTTP_ERR_CONNECT);
    ck_assert_int_eq(rs.attempts, 1);
    http_response_free(&rs);
    ck_assert_int_eq(http_breaker_state_of("unit_conn"), HTTP_BREAKER_OPEN);
    ck_assert_int_eq(http_do(&rq, &rs), HTTP_ERR_OPEN);
    ck_assert_int_eq(rs.attempts, 0);
    ck_assert_str_eq(http_err_name(rs.err), "open");
    http_response_free(&rs);
    /* another service has its own breaker */
    ck_assert_int_eq(http_breaker_state_of("unit_other"), HTTP_BREAKER_CLOSED);
    config_free();
}
END_TEST

START_TEST(per_service_keys_are_known_to_the_config)
{
    char err[200];
    ck_assert_int_eq(config_parse_text("http.client.stripe.timeout_ms = 2500\n", err, sizeof err), 0);
    ck_assert_str_eq(config_get("http.client.stripe.timeout_ms"), "2500");
    ck_assert_str_eq(config_get("http.client.timeout_ms"), "10000");
    /* only keys the client reads: a typo is still an error */
    ck_assert_int_eq(config_parse_text("http.client.stripe.timeout = 2500\n", err, sizeof err), -1);
    ck_assert_int_eq(config_parse_text("http.client.nonsense = 1\n", err, sizeof err), -1);
    config_free();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    UNIT_ADD(s, backoff_ceiling_doubles_up_to_the_cap);
    UNIT_ADD(s, backoff_picks_spread_over_the_whole_range);
    UNIT_ADD(s, retry_after_seconds_and_dates);
    UNIT_ADD(s, retryable_statuses);
    UNIT_ADD(s, breaker_opens_after_consecutive_failures);
    UNIT_ADD(s, breaker_half_open_lets_one_probe_through);
    UNIT_ADD(s, breaker_ready_looks_without_taking_the_probe);
    UNIT_ADD(s, service_breaker_for_a_channel_outside_http_do);
    UNIT_ADD(s, bad_requests_are_refused_before_sending);
    UNIT_ADD(s, connect_failures_retry_then_open_the_breaker);
    UNIT_ADD(s, per_service_keys_are_known_to_the_config);
    return unit_run(s);
}
