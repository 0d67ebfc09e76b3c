/* telegram_out.c — writes the bot's Bot API calls into telegram_outbox (deduplicated by key), the
 * staff chat's copy of Segurança/Financeiro alerts and the "backtest done" reply. */
#include "telegram_out.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "notify_template.h"
#include "buf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int telegram_out_queue(arena *a, long long chat_id, const char *method, json_t *params, const char *dedupe_key)
{
    if (!params)
        return -1;
    if (strcmp(method, "answerCallbackQuery"))
        json_object_set_new(params, "chat_id", json_integer((json_int_t)chat_id));
    char *pj = json_dumps(params, JSON_COMPACT);
    json_decref(params);
    if (!pj)
        return -1;
    char chat[24];
    snprintf(chat, sizeof chat, "%lld", chat_id);
    const char *p[] = {chat, method, pj, dedupe_key};
    long n = db_exec(a, "telegram_out_queue",
                     "INSERT INTO telegram_outbox (chat_id, method, params, dedupe_key) VALUES ($1::bigint, $2, $3::jsonb, "
                     "coalesce($4, 'r:' || gen_random_uuid()::text)) "
                     "ON CONFLICT (dedupe_key) DO NOTHING",
                     4, p);
    free(pj);
    return n < 0 ? -1 : (int)n;
}

int telegram_out_message(arena *a, long long chat_id, const char *text, json_t *keyboard, const char *dedupe_key)
{
    json_t *params = json_pack("{s:s, s:s, s:b}", "text", text, "parse_mode", "HTML", "disable_web_page_preview", 1);
    if (params && keyboard)
        json_object_set_new(params, "reply_markup", json_pack("{s:o}", "inline_keyboard", keyboard));
    else
        json_decref(keyboard);
    return telegram_out_queue(a, chat_id, "sendMessage", params, dedupe_key);
}

char *telegram_html(arena *a, const char *s)
{
    buf b = {0};
    for (; s && *s; s++) {
        if (*s == '&')
            buf_puts(&b, "&amp;");
        else if (*s == '<')
            buf_puts(&b, "&lt;");
        else if (*s == '>')
            buf_puts(&b, "&gt;");
        else
            buf_putc(&b, *s);
    }
    char *out = arena_strdup(a, b.data ? b.data : "");
    buf_free(&b);
    return out;
}

static long long staff_chat(void)
{
    const char *v = config_get("telegram.staff_chat_id");
    return v && *v ? atoll(v) : 0;
}

int telegram_staff_alert(const ctx *c, const notify_msg *m)
{
    long long chat = staff_chat();
    if (!chat || !m->category || (strcmp(m->category, "seguranca") && strcmp(m->category, "financeiro")))
        return 0;
    char *t = notify_render(c->a, m->template_name, "pt-BR", "telegram", "text", m->data);
    if (!t)
        return 0;
    const char *text = telegram_html(c->a, t);
    /* a retried send with a dedupe key tells the staff chat once; without one, every send is new */
    const char *key = m->dedupe_key ? arena_printf(c->a, "staff:%s:%s", m->category, m->dedupe_key)
                                    : NULL;
    return telegram_out_message(c->a, chat, text, NULL, key) < 0 ? -1 : 0;
}

/* Tells the chat that queued backtest_id from Telegram (if one did) the template tmpl, rendered in
 * the user's language from data plus the backtest's id, strategy, symbol and timeframe; when
 * reason is set, its words (part "reason_<reason>" of tmpl) become data's "reason". Sent once per
 * dedupe key bt:<id>:<what>. Steals data. */
static int backtest_reply(const char *backtest_id, const char *what, const char *tmpl, const char *reason, json_t *data)
{
    arena a;
    arena_init(&a, 4096);
    int rc = 0;
    const char *p[] = {backtest_id};
    PGresult *r = db_query(&a, "telegram_backtest_reply",
                           "SELECT t.chat_id, u.lang, b.config->>'strategy', array_to_string(b.symbols, ','), b.timeframe "
                           "FROM telegram_backtests t JOIN backtests b ON b.id = t.backtest_id "
                           "JOIN users u ON u.id = b.user_id WHERE t.backtest_id = $1::bigint",
                           1, p);
    if (!r || !data)
        rc = -1;
    else if (PQntuples(r) == 1) {
        const char *lang = PQgetvalue(r, 0, 1);
        json_object_set_new(data, "id", json_string(backtest_id));
        json_object_set_new(data, "strategy", json_string(PQgetvalue(r, 0, 2)));
        json_object_set_new(data, "symbol", json_string(PQgetvalue(r, 0, 3)));
        json_object_set_new(data, "timeframe", json_string(PQgetvalue(r, 0, 4)));
        if (reason) {
            char *words = notify_render(&a, tmpl, lang, "telegram", arena_printf(&a, "reason_%s", reason), data);
            json_object_set_new(data, "reason", json_string(words ? words : ""));
        }
        char *t = notify_render(&a, tmpl, lang, "telegram", "text", data);
        if (t && telegram_out_message(&a, atoll(PQgetvalue(r, 0, 0)), telegram_html(&a, t), NULL,
                                      arena_printf(&a, "bt:%s:%s", backtest_id, what)) < 0)
            rc = -1;
    }
    json_decref(data);
    if (rc < 0)
        log_warn("telegram: backtest %s %s, the chat could not be told: %s", backtest_id, what, db_error());
    arena_destroy(&a);
    return rc;
}

int telegram_backtest_done(const char *backtest_id, long trades, double final_equity)
{
    char eq[48];
    snprintf(eq, sizeof eq, "%.2f", final_equity);
    return backtest_reply(backtest_id, "done", "telegram.backtest_done", NULL,
                          json_pack("{s:I, s:s}", "trades", (json_int_t)trades, "final_equity", eq));
}

int telegram_backtest_failed(const char *backtest_id, const char *reason)
{
    return backtest_reply(backtest_id, "failed", "telegram.backtest_failed", reason, json_object());
}
