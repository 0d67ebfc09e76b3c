/* test_telegram_update.c — unit tests of reading Telegram updates: messages, callbacks, other
 * kinds, malformed shapes, and splitting commands (with @bot, arguments, non-commands). */
#include "unit.h"
#include "telegram_update.h"

static tg_kind parse(const char *text, tg_update *u)
{
    json_t *j = json_loads(text, 0, NULL);
    tg_kind k = tg_update_parse(j, u);
    /* the fields borrowed from j are read before it is freed by the caller's checks below */
    static json_t *keep[16];
    static int n;
    json_decref(keep[n % 16]);
    keep[n++ % 16] = j;
    return k;
}

START_TEST(test_message_and_callback)
{
    tg_update u;
    ck_assert_int_eq(parse("{\"update_id\":7,\"message\":{\"message_id\":3,\"chat\":{\"id\":-100},"
                           "\"from\":{\"language_code\":\"en\"},\"text\":\"/bots\"}}",
                           &u),
                     TG_MESSAGE);
    ck_assert_int_eq(u.update_id, 7);
    ck_assert_int_eq(u.chat_id, -100);
    ck_assert_int_eq(u.message_id, 3);
    ck_assert_str_eq(u.text, "/bots");
    ck_assert_str_eq(u.language_code, "en");
    ck_assert_str_eq(tg_kind_name(u.kind), "message");
    ck_assert_int_eq(parse("{\"update_id\":8,\"callback_query\":{\"id\":\"cb1\",\"data\":\"bot:start:4\","
                           "\"message\":{\"message_id\":9,\"chat\":{\"id\":55}}}}",
                           &u),
                     TG_CALLBACK);
    ck_assert_str_eq(u.callback_id, "cb1");
    ck_assert_str_eq(u.callback_data, "bot:start:4");
    ck_assert_int_eq(u.chat_id, 55);
    ck_assert_int_eq(u.message_id, 9);
    /* a message without text (a photo) is a message with "" as text */
    ck_assert_int_eq(parse("{\"update_id\":9,\"message\":{\"message_id\":1,\"chat\":{\"id\":1}}}", &u), TG_MESSAGE);
    ck_assert_str_eq(u.text, "");
    ck_assert_int_eq(parse("{\"update_id\":10,\"my_chat_member\":{}}", &u), TG_OTHER);
}
END_TEST

START_TEST(test_malformed)
{
    tg_update u;
    ck_assert_int_eq(parse("[1,2]", &u), TG_MALFORMED);
    ck_assert_int_eq(u.update_id, -1);
    ck_assert_int_eq(parse("{\"update_id\":\"7\",\"message\":{}}", &u), TG_MALFORMED);
    ck_assert_int_eq(u.update_id, -1);
    /* with an id but a broken message: malformed, and the id is kept to record it */
    ck_assert_int_eq(parse("{\"update_id\":11,\"message\":{\"message_id\":1}}", &u), TG_MALFORMED);
    ck_assert_int_eq(u.update_id, 11);
    ck_assert_int_eq(parse("{\"update_id\":12,\"message\":{\"message_id\":1,\"chat\":{\"id\":1},\"text\":5}}", &u),
                     TG_MALFORMED);
    ck_assert_int_eq(parse("{\"update_id\":13,\"callback_query\":{\"message\":{\"message_id\":1,\"chat\":{\"id\":1}}}}", &u),
                     TG_MALFORMED);
    ck_assert_int_eq(tg_update_parse(NULL, &u), TG_MALFORMED);
}
END_TEST

START_TEST(test_commands)
{
    tg_command c;
    ck_assert_int_eq(tg_command_parse("/StartBot@MyBot  12  ", &c), 1);
    ck_assert_str_eq(c.name, "startbot");
    ck_assert_str_eq(c.args, "12");
    ck_assert_int_eq(tg_command_parse("/start abc123", &c), 1);
    ck_assert_str_eq(c.name, "start");
    ck_assert_str_eq(c.args, "abc123");
    ck_assert_int_eq(tg_command_parse("/help", &c), 1);
    ck_assert_str_eq(c.args, "");
    ck_assert_int_eq(tg_command_parse("hello", &c), 0);
    ck_assert_str_eq(c.name, "");
    ck_assert_int_eq(tg_command_parse("/", &c), 0);
    ck_assert_int_eq(tg_command_parse("/bad-name", &c), 0);
    ck_assert_int_eq(tg_command_parse("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &c), 0);
    const char *s = "  sma_cross   btcusdt extra";
    char w[8];
    ck_assert_int_eq(tg_next_word(&s, w, sizeof w), 1);
    ck_assert_str_eq(w, "sma_cro"); /* truncated to the buffer, the word still consumed */
    ck_assert_int_eq(tg_next_word(&s, w, sizeof w), 1);
    ck_assert_str_eq(w, "btcusdt");
    ck_assert_int_eq(tg_next_word(&s, w, sizeof w), 1);
    ck_assert_int_eq(tg_next_word(&s, w, sizeof w), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("telegram_update");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_message_and_callback);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_commands);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
