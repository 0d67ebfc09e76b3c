/* test_telegram_api.c — unit tests of lib/telegram_api.c's parts that need no Telegram: reading Bot API
 * answers (results, 429 retry_after, refusals, 5xx, junk), HTML escaping, and refusals before sending. */
#include "unit.h"
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "telegram_api.h"

static void teardown(void)
{
    unsetenv("BCF_TELEGRAM_BOT_TOKEN");
    config_free();
}

static int parse(long status, const char *body, json_t **result, tg_error *e)
{
    memset(e, 0, sizeof *e);
    return telegram_parse_answer(status, body, strlen(body), result, e);
}

START_TEST(test_ok_answer)
{
    json_t *r;
    tg_error e;
    ck_assert_int_eq(parse(200, "{\"ok\":true,\"result\":{\"message_id\":7}}", &r, &e), TG_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "message_id")), 7);
    json_decref(r);
    ck_assert_int_eq(parse(200, "{\"ok\":true,\"result\":true}", &r, &e), TG_OK);
    ck_assert(json_is_true(r));
    json_decref(r);
}
END_TEST

START_TEST(test_errors)
{
    json_t *r;
    tg_error e;
    ck_assert_int_eq(parse(429, "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 35\","
                                "\"parameters\":{\"retry_after\":35}}", &r, &e),
                     TG_ERR_RATE_LIMITED);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(e.retry_after_s, 35);
    ck_assert_int_eq(e.error_code, 429);
    ck_assert_int_eq(parse(403, "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was blocked by the user\"}",
                           &r, &e),
                     TG_ERR_REFUSED);
    ck_assert_str_eq(e.description, "403 Forbidden: bot was blocked by the user");
    ck_assert_int_eq(e.retry_after_s, 0);
    ck_assert_int_eq(parse(502, "<html>Bad Gateway</html>", &r, &e), TG_ERR_UNAVAILABLE);
    ck_assert_int_eq(parse(500, "{\"ok\":false,\"error_code\":500,\"description\":\"Internal\"}", &r, &e), TG_ERR_UNAVAILABLE);
    ck_assert_int_eq(parse(200, "not json", &r, &e), TG_ERR_BAD_ANSWER);
    ck_assert_int_eq(parse(200, "{\"ok\":\"yes\"}", &r, &e), TG_ERR_BAD_ANSWER);
    ck_assert_int_eq(parse(429, "", &r, &e), TG_ERR_RATE_LIMITED);
}
END_TEST

START_TEST(test_html_escape)
{
    char *s = telegram_html_escape(NULL, "a < b && c > d \"q\"");
    ck_assert_str_eq(s, "a &lt; b &amp;&amp; c &gt; d \"q\"");
    free(s);
    s = telegram_html_escape(NULL, "");
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(test_refused_before_sending)
{
    json_t *r;
    tg_error e;
    ck_assert_int_eq(telegram_call("sendMessage", NULL, 1, &r, &e), TG_ERR_CONFIG);
    ck_assert_int_eq(e.sent, 0);
    setenv("BCF_TELEGRAM_BOT_TOKEN", "123:abc", 1);
    ck_assert_int_eq(telegram_call("../getMe", NULL, 1, &r, &e), TG_ERR_INVALID);
    ck_assert_int_eq(telegram_call("send Message", NULL, 1, &r, &e), TG_ERR_INVALID);
    json_t *arr = json_array();
    ck_assert_int_eq(telegram_call("sendMessage", arr, 1, &r, &e), TG_ERR_INVALID);
    json_decref(arr);
    setenv("BCF_TELEGRAM_BOT_TOKEN", "123:a/b", 1);
    ck_assert_int_eq(telegram_call("getMe", NULL, 1, &r, &e), TG_ERR_CONFIG);
    ck_assert_ptr_null(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("telegram_api");
    TCase *tc = tcase_create("client");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_ok_answer);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_html_escape);
    tcase_add_test(tc, test_refused_before_sending);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
