/* telegram_cmd.c — the bot's commands: /start (and linking by code), /help, /status, /balance,
 * /bots, /startbot and /stopbot with their confirmation, trades and profit reports, /backtest,
 * /notifications and /unlink; only ever about the linked user's tenant (docs/telegram.md). */
#include "telegram_cmd.h"
#include "audit.h"
#include "bots.h"
#include "candles.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "money.h"
#include "plans.h"
#include "queue.h"
#include "render.h"
#include "strategy.h"
#include "telegram_out.h"
#include "tenant.h"
#include "trading_create.h"
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct tg_conv {
    request *req;
    const tg_update *u;
    ctx c;             /* the linked user (user_id 0 when the chat is not linked) */
    const char *lang;
    int n;             /* replies written so far: the n of their dedupe key */
    const char *outcome;
    long long job_id;  /* after COMMIT: a backtest job to put on the stream */
    long long tick_bot, cancel_bot;
    int duplicate;     /* the update was stored before: nothing done */
} tg_conv;

void tgc_code_hash(const char *code, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)code, strlen(code));
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* the string telegram.<key> in the conversation's language, HTML-safe as written in the files */
static const char *S(tg_conv *cv, const char *key)
{
    return render_lang_string(cv->lang, arena_printf(cv->req->a, "telegram.%s", key));
}

/* fmt with {1}..{9} replaced by the arguments (NULL-terminated list), each HTML-escaped */
static char *fill(tg_conv *cv, const char *fmt, ...)
{
    const char *args[9] = {0};
    va_list ap;
    va_start(ap, fmt);
    int n = 0;
    for (const char *s; n < 9 && (s = va_arg(ap, const char *)) != NULL;)
        args[n++] = telegram_html(cv->req->a, s);
    va_end(ap);
    buf b = {0};
    for (const char *p = fmt; *p; p++) {
        if (p[0] == '{' && p[1] >= '1' && p[1] <= '9' && p[2] == '}' && p[1] - '1' < n) {
            buf_puts(&b, args[p[1] - '1']);
            p += 2;
        } else
            buf_putc(&b, *p);
    }
    char *out = arena_strdup(cv->req->a, b.data ? b.data : "");
    buf_free(&b);
    return out;
}

static int reply_kb(tg_conv *cv, const char *text, json_t *keyboard)
{
    const char *key = arena_printf(cv->req->a, "upd:%lld:%d", cv->u->update_id, cv->n++);
    return telegram_out_message(cv->req->a, cv->u->chat_id, text, keyboard, key) < 0 ? -1 : 0;
}

static int reply(tg_conv *cv, const char *text)
{
    return reply_kb(cv, text, NULL);
}

static const char *lang_of_code(const char *code)
{
    return !strncmp(code, "en", 2) ? "en" : "pt-BR";
}

/* ---------------------------------------------------------------- linking */

static int link_chat(tg_conv *cv, const char *code)
{
    char hash[65];
    tgc_code_hash(code, hash);
    const char *p[] = {hash};
    /* cross-tenant: the code names the user and tenant; nothing else is read before it matched */
    PGresult *r = db_query(cv->req->a, "tgc_code_lock",
                           "SELECT k.user_id, k.tenant_id, (k.expires_at > now() AND k.used_at IS NULL)::int, u.lang "
                           "FROM telegram_link_codes k JOIN users u ON u.id = k.user_id AND u.status = 'active' "
                           "WHERE k.code_hash = $1 FOR UPDATE OF k",
                           1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1 || !atoi(PQgetvalue(r, 0, 2))) {
        cv->outcome = "ignored";
        return reply(cv, S(cv, "code_invalid"));
    }
    ctx who = {cv->req->a, atoll(PQgetvalue(r, 0, 0)), atoll(PQgetvalue(r, 0, 1)), cv->c.ip, cv->c.request_id};
    cv->lang = PQgetvalue(r, 0, 3);
    if (cv->c.user_id && cv->c.user_id != who.user_id) {
        cv->outcome = "ignored";
        return reply(cv, S(cv, "chat_taken"));
    }
    char chat[24];
    snprintf(chat, sizeof chat, "%lld", cv->u->chat_id);
    const char *q[] = {hash, chat};
    if (tq_exec(&who, "tgc_link",
                "WITH used AS (UPDATE telegram_link_codes SET used_at = now() WHERE code_hash = $2 AND tenant_id = $1 "
                "RETURNING user_id, tenant_id) INSERT INTO telegram_links (user_id, tenant_id, chat_id) "
                "SELECT user_id, tenant_id, $3::bigint FROM used ON CONFLICT (user_id) DO UPDATE SET "
                "chat_id = EXCLUDED.chat_id, linked_at = now()",
                2, q) != 1)
        return -1;
    json_t *after = json_pack("{s:s}", "chat_id", chat);
    int rc = audit_record(&who, "telegram.link", "user", arena_printf(cv->req->a, "%lld", who.user_id), NULL, after);
    json_decref(after);
    if (rc < 0)
        return -1;
    cv->c = who;
    return reply(cv, S(cv, "linked"));
}

static int unlink_chat(tg_conv *cv)
{
    if (!cv->c.user_id)
        return reply(cv, S(cv, "not_linked"));
    char chat[24];
    snprintf(chat, sizeof chat, "%lld", cv->u->chat_id);
    const char *p[] = {chat};
    if (tq_exec(&cv->c, "tgc_unlink", "DELETE FROM telegram_links WHERE tenant_id = $1 AND chat_id = $2::bigint", 1, p) < 0)
        return -1;
    json_t *before = json_pack("{s:s}", "chat_id", chat);
    int rc = audit_record(&cv->c, "telegram.unlink", "user", arena_printf(cv->req->a, "%lld", cv->c.user_id), before, NULL);
    json_decref(before);
    return rc < 0 ? -1 : reply(cv, S(cv, "unlinked"));
}

/* ---------------------------------------------------------------- reading the tenant's data */

static const char *money2(tg_conv *cv, double v)
{
    return arena_printf(cv->req->a, "%.2f", v);
}

static int wallets_text(tg_conv *cv, buf *b)
{
    PGresult *r = tq_query(&cv->c, "tgc_wallets",
                           "SELECT currency, credits_posted - debits_posted - debits_pending FROM ledger_accounts "
                           "WHERE tenant_id = $1 AND code = 'wallet' "
                           "ORDER BY array_position(ARRAY['BRL', 'USDT', 'BTC'], currency), id",
                           0, NULL);
    if (!r)
        return -1;
    if (!PQntuples(r))
        buf_printf(b, "%s\n", S(cv, "no_wallets"));
    for (int i = 0; i < PQntuples(r); i++)
        buf_printf(b, "• %s\n",
                   telegram_html(cv->req->a, money_format_a(cv->req->a, atoll(PQgetvalue(r, i, 1)), PQgetvalue(r, i, 0), cv->lang)));
    return 0;
}

static int cmd_balance(tg_conv *cv)
{
    buf b = {0};
    buf_printf(&b, "<b>%s</b>\n", S(cv, "balance_title"));
    int rc = wallets_text(cv, &b);
    if (rc == 0)
        rc = reply(cv, b.data);
    buf_free(&b);
    return rc;
}

static int cmd_status(tg_conv *cv)
{
    const char *plan = plans_of(cv->req->a, cv->c.tenant_id);
    PGresult *r = tq_query(&cv->c, "tgc_bot_counts",
                           "SELECT count(*) FILTER (WHERE status = 'running'), count(*) FROM bots WHERE tenant_id = $1", 0, NULL);
    if (!plan || !r)
        return -1;
    buf b = {0};
    buf_printf(&b, "%s\n", fill(cv, S(cv, "status_line"), plan, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), NULL));
    buf_printf(&b, "<b>%s</b>\n", S(cv, "balance_title"));
    int rc = wallets_text(cv, &b);
    if (rc == 0)
        rc = reply(cv, b.data);
    buf_free(&b);
    return rc;
}

/* A list reply: the rows of r as lines under a bold title, or the `empty` string when there are
 * none (NULL: the title alone). The shape of /bots, /trades, /daily.. and /performance. */
typedef const char *(*row_line)(tg_conv *cv, PGresult *r, int i);

static int reply_rows(tg_conv *cv, PGresult *r, const char *empty, const char *title, row_line line)
{
    if (!r)
        return -1;
    if (!PQntuples(r) && empty)
        return reply(cv, S(cv, empty));
    buf b = {0};
    buf_printf(&b, "<b>%s</b>\n", S(cv, title));
    for (int i = 0; i < PQntuples(r); i++)
        buf_printf(&b, "%s\n", line(cv, r, i));
    int rc = reply(cv, b.data);
    buf_free(&b);
    return rc;
}

static const char *bot_line(tg_conv *cv, PGresult *r, int i)
{
    return fill(cv, "#{1} {2} — {3} {4} ({5}) — <b>{6}</b>", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
                S(cv, arena_printf(cv->req->a, "state_%s", PQgetvalue(r, i, 5))), NULL);
}

static int cmd_bots(tg_conv *cv)
{
    PGresult *r = tq_query(&cv->c, "tgc_bots",
                           "SELECT id, name, symbol, timeframe, mode, status FROM bots WHERE tenant_id = $1 ORDER BY id LIMIT 50",
                           0, NULL);
    return reply_rows(cv, r, "no_bots", "bots_title", bot_line);
}

static const char *trade_line(tg_conv *cv, PGresult *r, int i)
{
    const char *pnl = PQgetvalue(r, i, 6)[0] == 't' ? arena_printf(cv->req->a, " PnL %.2f", atof(PQgetvalue(r, i, 5))) : "";
    return fill(cv, "{1} UTC · #{2} {3} {4} {5} @ {6}{7}", PQgetvalue(r, i, 7), PQgetvalue(r, i, 0),
                S(cv, arena_printf(cv->req->a, "trade_%s", PQgetvalue(r, i, 1))), PQgetvalue(r, i, 4),
                PQgetvalue(r, i, 2), money2(cv, atof(PQgetvalue(r, i, 3))), pnl, NULL);
}

static int cmd_trades(tg_conv *cv)
{
    PGresult *r = tq_query(&cv->c, "tgc_trades",
                           "SELECT t.bot_id, t.kind, t.symbol, t.price, t.qty, coalesce(t.pnl, 0), t.pnl IS NOT NULL, "
                           "to_char(to_timestamp(t.time_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
                           "FROM bot_trades t WHERE t.tenant_id = $1 ORDER BY t.time_ms DESC, t.id DESC LIMIT 10",
                           0, NULL);
    return reply_rows(cv, r, "no_trades", "trades_title", trade_line);
}

static int cmd_profit(tg_conv *cv)
{
    PGresult *r = tq_query(&cv->c, "tgc_profit",
                           "SELECT count(*), coalesce(sum(pnl), 0), count(*) FILTER (WHERE pnl > 0), "
                           "coalesce(sum(pnl) FILTER (WHERE created_at > now() - interval '1 day'), 0) "
                           "FROM bot_trades WHERE tenant_id = $1 AND kind = 'close'",
                           0, NULL);
    if (!r)
        return -1;
    long n = atol(PQgetvalue(r, 0, 0)), wins = atol(PQgetvalue(r, 0, 2));
    return reply(cv, fill(cv, S(cv, "profit_line"), PQgetvalue(r, 0, 0), money2(cv, atof(PQgetvalue(r, 0, 1))),
                          arena_printf(cv->req->a, "%.0f", n ? 100.0 * (double)wins / (double)n : 0.0),
                          money2(cv, atof(PQgetvalue(r, 0, 3))), NULL));
}

static const char *period_line(tg_conv *cv, PGresult *r, int i)
{
    return fill(cv, S(cv, "period_line"), PQgetvalue(r, i, 0), money2(cv, atof(PQgetvalue(r, i, 2))),
                PQgetvalue(r, i, 1), NULL);
}

/* profit per period (day/week/month) over the last `count` of them, newest first */
static int cmd_periods(tg_conv *cv, const char *unit, const char *count, const char *title)
{
    const char *p[] = {unit, count};
    PGresult *r = tq_query(&cv->c, "tgc_periods",
                           "SELECT to_char(g.d, 'YYYY-MM-DD'), count(t.id), coalesce(sum(t.pnl), 0) "
                           "FROM generate_series(date_trunc($2, now() AT TIME ZONE 'UTC') - ($3::int - 1) * ('1 ' || $2)::interval, "
                           "date_trunc($2, now() AT TIME ZONE 'UTC'), ('1 ' || $2)::interval) g(d) "
                           "LEFT JOIN bot_trades t ON t.tenant_id = $1 AND t.kind = 'close' "
                           "AND to_timestamp(t.time_ms / 1000.0) AT TIME ZONE 'UTC' >= g.d "
                           "AND to_timestamp(t.time_ms / 1000.0) AT TIME ZONE 'UTC' < g.d + ('1 ' || $2)::interval "
                           "GROUP BY g.d ORDER BY g.d DESC",
                           2, p);
    return reply_rows(cv, r, NULL, title, period_line);
}

static const char *performance_line(tg_conv *cv, PGresult *r, int i)
{
    long n = atol(PQgetvalue(r, i, 2)), w = atol(PQgetvalue(r, i, 3));
    double eq = atof(PQgetvalue(r, i, 5)), init = atof(PQgetvalue(r, i, 6));
    return fill(cv, S(cv, "performance_line"), PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                arena_printf(cv->req->a, "%.0f", n ? 100.0 * (double)w / (double)n : 0.0),
                money2(cv, atof(PQgetvalue(r, i, 4))),
                arena_printf(cv->req->a, "%+.2f", init > 0 ? 100.0 * (eq - init) / init : 0.0), NULL);
}

static int cmd_performance(tg_conv *cv)
{
    PGresult *r = tq_query(&cv->c, "tgc_performance",
                           "SELECT b.id, b.name, count(t.id), count(t.id) FILTER (WHERE t.pnl > 0), coalesce(sum(t.pnl), 0), "
                           "coalesce(b.equity, b.initial_balance), b.initial_balance FROM bots b "
                           "LEFT JOIN bot_trades t ON t.tenant_id = $1 AND t.bot_id = b.id AND t.kind = 'close' "
                           "WHERE b.tenant_id = $1 GROUP BY b.id ORDER BY b.id LIMIT 50",
                           0, NULL);
    return reply_rows(cv, r, "no_bots", "performance_title", performance_line);
}

/* ---------------------------------------------------------------- start/stop with confirmation */

static int cmd_bot_confirm(tg_conv *cv, const char *action, const char *args)
{
    char id[24];
    const char *s = args;
    if (!tg_next_word(&s, id, sizeof id) || !req_is_id(id))
        return reply(cv, S(cv, arena_printf(cv->req->a, "%sbot_usage", action)));
    const char *p[] = {id};
    PGresult *r = tq_query(&cv->c, "tgc_bot_one", "SELECT name, status FROM bots WHERE tenant_id = $1 AND id = $2::bigint", 1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        cv->outcome = "ignored";
        return reply(cv, fill(cv, S(cv, "bot_not_found"), id, NULL));
    }
    json_t *kb = json_pack("[[{s:s, s:s}, {s:s, s:s}]]", "text", S(cv, "confirm_yes"), "callback_data",
                           arena_printf(cv->req->a, "bot:%s:%s", action, id), "text", S(cv, "confirm_no"),
                           "callback_data", "cancel");
    return reply_kb(cv, fill(cv, S(cv, arena_printf(cv->req->a, "%s_confirm", action)), id, PQgetvalue(r, 0, 0), NULL), kb);
}

static int answer_callback(tg_conv *cv, const char *text)
{
    json_t *params = json_pack("{s:s, s:s}", "callback_query_id", cv->u->callback_id, "text", text);
    return telegram_out_queue(cv->req->a, cv->u->chat_id, "answerCallbackQuery", params,
                              arena_printf(cv->req->a, "upd:%lld:cb", cv->u->update_id)) < 0
               ? -1
               : 0;
}

/* the confirmation message becomes the outcome, its buttons gone */
static int edit_confirmation(tg_conv *cv, const char *text)
{
    json_t *params = json_pack("{s:I, s:s, s:s}", "message_id", (json_int_t)cv->u->message_id, "text", text, "parse_mode", "HTML");
    return telegram_out_queue(cv->req->a, cv->u->chat_id, "editMessageText", params,
                              arena_printf(cv->req->a, "upd:%lld:%d", cv->u->update_id, cv->n++)) < 0
               ? -1
               : 0;
}

static int trading_halted(tg_conv *cv)
{
    /* cross-tenant: the halt is one platform-wide row */
    PGresult *r = db_query(cv->req->a, "tgc_halt", "SELECT halted FROM trading_halt", 0, NULL);
    return !r || PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, 0), "t");
}

static int on_callback(tg_conv *cv)
{
    const char *d = cv->u->callback_data;
    char action[8] = "", id[24] = "";
    const char *text;
    if (!cv->c.user_id) {
        text = S(cv, "not_linked_short");
        cv->outcome = "ignored";
    } else if (!strcmp(d, "cancel")) {
        text = S(cv, "cancelled");
    } else if (sscanf(d, "bot:%7[a-z]:%23[0-9]", action, id) != 2 || (strcmp(action, "start") && strcmp(action, "stop")) ||
               !req_is_id(id)) {
        text = S(cv, "unknown_button");
        cv->outcome = "ignored";
    } else if (!strcmp(action, "start") && trading_halted(cv)) {
        text = S(cv, "halted");
    } else {
        int refused = 0;
        int found = bots_set_state(&cv->c, id, action, 0, &refused);
        if (found < 0)
            return -1;
        if (!found) {
            cv->outcome = "ignored";
            text = fill(cv, S(cv, "bot_not_found"), id, NULL);
        } else if (refused) {
            text = S(cv, refused == BOTS_REFUSED_PLAN ? "refused_plan" : "refused_key");
        } else {
            if (!strcmp(action, "start"))
                cv->tick_bot = atoll(id);
            else
                cv->cancel_bot = atoll(id);
            text = fill(cv, S(cv, arena_printf(cv->req->a, "%s_done", action)), id, NULL);
        }
    }
    if (answer_callback(cv, text) < 0)
        return -1;
    return edit_confirmation(cv, text);
}

/* ---------------------------------------------------------------- /backtest */

static int cmd_backtest(tg_conv *cv, const char *args)
{
    char strategy[40], symbol[40];
    const char *s = args;
    int kind;
    if (!tg_next_word(&s, strategy, sizeof strategy) || !tg_next_word(&s, symbol, sizeof symbol))
        return reply(cv, S(cv, "backtest_usage"));
    if (strategy_kind_parse(strategy, &kind) != 0) {
        cv->outcome = "ignored";
        return reply(cv, fill(cv, S(cv, "backtest_strategy"), strategy, NULL));
    }
    for (char *c = symbol; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    /* the symbol's stored series, 1h preferred: the last 90 days of it (at most 2000 candles) */
    const char *p[] = {symbol};
    /* cross-tenant: markets and candles are platform-wide data */
    PGresult *r = db_query(cv->req->a, "tgc_bt_market",
                           "SELECT m.exchange, c.timeframe, max(c.open_time) FROM markets m JOIN candles c ON c.market_id = m.id "
                           "WHERE m.symbol = $1 GROUP BY m.exchange, c.timeframe "
                           "ORDER BY c.timeframe = '1h' DESC, c.timeframe = '4h' DESC, c.timeframe = '1d' DESC, m.exchange LIMIT 1",
                           1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        cv->outcome = "ignored";
        return reply(cv, fill(cv, S(cv, "backtest_symbol"), symbol, NULL));
    }
    const char *tf = PQgetvalue(r, 0, 1);
    long long tfms = candle_timeframe_ms(tf), last = atoll(PQgetvalue(r, 0, 2));
    long long span = 90LL * 86400000LL < 2000 * tfms ? 90LL * 86400000LL : 2000 * tfms;
    engine_config ec;
    engine_config_defaults(&ec, kind);
    ec.timeframe_ms = tfms;
    json_t *config = engine_config_to_json(&ec);
    if (!config)
        return -1;
    const char *symbols = arena_printf(cv->req->a, "{%s}", symbol);
    const char *name = arena_printf(cv->req->a, "Telegram: %s %s", strategy, symbol);
    backtest_new b = {name, PQgetvalue(r, 0, 0), tf, symbols, last + tfms - span, last + tfms, 10000.0, config};
    backtest_queued q;
    int rc = backtests_queue(&cv->c, &b, &q);
    json_decref(config);
    if (rc == BACKTESTS_QUOTA) {
        cv->outcome = "ignored";
        return reply(cv, fill(cv, S(cv, "backtest_quota"), q.quota, NULL));
    }
    if (rc != 0)
        return -1;
    char chat[24];
    snprintf(chat, sizeof chat, "%lld", cv->u->chat_id);
    const char *t[] = {q.id, chat};
    if (tq_exec(&cv->c, "tgc_bt_track",
                "INSERT INTO telegram_backtests (backtest_id, tenant_id, chat_id) SELECT b.id, b.tenant_id, $3::bigint "
                "FROM backtests b WHERE b.tenant_id = $1 AND b.id = $2::bigint",
                2, t) != 1)
        return -1;
    cv->job_id = q.job_id;
    return reply(cv, fill(cv, S(cv, "backtest_queued"), q.id, strategy, symbol, tf, NULL));
}

/* ---------------------------------------------------------------- /notifications */

static int cmd_notifications(tg_conv *cv, const char *args)
{
    const char *mode = args;
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", cv->c.user_id);
    const char *p[] = {uid, !strcmp(mode, "off") ? "false" : "true"};
    int on = !strcmp(mode, "on"), off = !strcmp(mode, "off"), silent = !strcmp(mode, "silent");
    if (!on && !off && !silent)
        return reply(cv, S(cv, "notifications_usage"));
    /* every category's Telegram channel on (on, silent) or off; silent adds quiet hours 22:00-07:00 */
    if (tq_exec(&cv->c, "tgc_notify_prefs",
                "INSERT INTO notification_preferences (user_id, tenant_id, category, channel, enabled) "
                "SELECT u.id, u.tenant_id, c.key, 'telegram', $3::boolean FROM users u, notification_categories c "
                "WHERE u.id = $2::bigint AND u.tenant_id = $1 ON CONFLICT (user_id, category, channel) "
                "DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()",
                2, p) < 0)
        return -1;
    long n = silent ? tq_exec(&cv->c, "tgc_notify_quiet_on",
                              "INSERT INTO notification_quiet_hours (user_id, tenant_id, start_min, end_min) "
                              "SELECT u.id, u.tenant_id, 1320, 420 FROM users u WHERE u.id = $2::bigint AND u.tenant_id = $1 "
                              "ON CONFLICT (user_id) DO UPDATE SET start_min = 1320, end_min = 420, updated_at = now()",
                              1, p)
             : on ? tq_exec(&cv->c, "tgc_notify_quiet_off",
                            "DELETE FROM notification_quiet_hours WHERE tenant_id = $1 AND user_id = $2::bigint", 1, p)
                  : 0;
    if (n < 0)
        return -1;
    json_t *after = json_pack("{s:s, s:s}", "telegram", mode, "source", "telegram");
    int rc = audit_record(&cv->c, "notifications.preferences_update", "user", uid, NULL, after);
    json_decref(after);
    return rc < 0 ? -1 : reply(cv, S(cv, arena_printf(cv->req->a, "notifications_%s", mode)));
}

/* ---------------------------------------------------------------- dispatch */

static int on_message(tg_conv *cv)
{
    tg_command cmd;
    if (!tg_command_parse(cv->u->text, &cmd)) {
        cv->outcome = "unknown_command";
        return reply(cv, S(cv, cv->c.user_id ? "free_text" : "how_to_link"));
    }
    const char *n = cmd.name;
    if (!strcmp(n, "start") && cmd.args[0])
        return link_chat(cv, cmd.args);
    if (!strcmp(n, "help") || !strcmp(n, "start"))
        return reply(cv, cv->c.user_id ? S(cv, "help") : S(cv, "how_to_link"));
    if (!strcmp(n, "unlink") || !strcmp(n, "stop"))
        return unlink_chat(cv);
    static const char *const known[] = {"status", "balance", "bots", "startbot", "stopbot", "trades", "profit", "daily",
                                        "weekly", "monthly", "performance", "backtest", "notifications", NULL};
    int is_known = 0;
    for (int i = 0; known[i]; i++)
        is_known |= !strcmp(n, known[i]);
    if (!is_known) {
        cv->outcome = "unknown_command";
        return reply(cv, fill(cv, S(cv, "unknown_command"), n, NULL));
    }
    if (!cv->c.user_id) {
        cv->outcome = "ignored";
        return reply(cv, S(cv, "how_to_link"));
    }
    if (!strcmp(n, "status"))
        return cmd_status(cv);
    if (!strcmp(n, "balance"))
        return cmd_balance(cv);
    if (!strcmp(n, "bots"))
        return cmd_bots(cv);
    if (!strcmp(n, "startbot"))
        return cmd_bot_confirm(cv, "start", cmd.args);
    if (!strcmp(n, "stopbot"))
        return cmd_bot_confirm(cv, "stop", cmd.args);
    if (!strcmp(n, "trades"))
        return cmd_trades(cv);
    if (!strcmp(n, "profit"))
        return cmd_profit(cv);
    if (!strcmp(n, "daily"))
        return cmd_periods(cv, "day", "7", "daily_title");
    if (!strcmp(n, "weekly"))
        return cmd_periods(cv, "week", "4", "weekly_title");
    if (!strcmp(n, "monthly"))
        return cmd_periods(cv, "month", "6", "monthly_title");
    if (!strcmp(n, "performance"))
        return cmd_performance(cv);
    if (!strcmp(n, "backtest"))
        return cmd_backtest(cv, cmd.args);
    return cmd_notifications(cv, cmd.args);
}

static int handle_tx(void *arg)
{
    tg_conv *cv = arg;
    char uid[24], chat[24];
    snprintf(uid, sizeof uid, "%lld", cv->u->update_id);
    snprintf(chat, sizeof chat, "%lld", cv->u->chat_id);
    cv->n = 0;
    cv->outcome = "handled";
    cv->job_id = cv->tick_bot = cv->cancel_bot = 0;
    cv->duplicate = 0;
    cv->c = (ctx){cv->req->a, 0, 0, cv->req->remote_addr ? cv->req->remote_addr : "", cv->req->request_id};
    cv->lang = lang_of_code(cv->u->language_code);
    const char *p[] = {uid};
    /* cross-tenant: updates belong to no tenant */
    PGresult *seen = db_query(cv->req->a, "tgc_seen", "SELECT 1 FROM telegram_updates WHERE update_id = $1::bigint", 1, p);
    if (!seen)
        return -1;
    if (PQntuples(seen)) {
        cv->duplicate = 1;
        return 0;
    }
    /* cross-tenant: the chat id names the tenant, and every later read filters on it */
    const char *q[] = {chat};
    PGresult *l = db_query(cv->req->a, "tgc_link_of",
                           "SELECT l.user_id, l.tenant_id, u.lang FROM telegram_links l JOIN users u ON u.id = l.user_id "
                           "AND u.status = 'active' WHERE l.chat_id = $1::bigint",
                           1, q);
    if (!l)
        return -1;
    if (PQntuples(l) == 1) {
        cv->c.user_id = atoll(PQgetvalue(l, 0, 0));
        cv->c.tenant_id = atoll(PQgetvalue(l, 0, 1));
        cv->lang = PQgetvalue(l, 0, 2);
    }
    int rc = cv->u->kind == TG_CALLBACK ? on_callback(cv) : cv->u->kind == TG_MESSAGE ? on_message(cv) : 0;
    if (cv->u->kind == TG_OTHER)
        cv->outcome = "ignored";
    if (rc < 0)
        return -1;
    const char *w[] = {uid, chat, tg_kind_name(cv->u->kind), cv->outcome};
    /* cross-tenant: updates belong to no tenant */
    return db_exec(cv->req->a, "tgc_store",
                   "INSERT INTO telegram_updates (update_id, chat_id, kind, outcome) VALUES ($1::bigint, $2::bigint, $3, $4)",
                   4, w) == 1
               ? 0
               : -1;
}

int tgc_handle(request *req, const tg_update *u)
{
    tg_conv cv = {req, u, {0}, "pt-BR", 0, "handled", 0, 0, 0, 0};
    int rc = db_tx(handle_tx, &cv);
    if (rc == 0 && cv.duplicate)
        return 1;
    if (rc < 0) {
        /* a redelivery that raced this one stored it first: the unique key refused ours */
        if (!strcmp(db_sqlstate(), "23505"))
            return 1;
        log_warn("telegram: update %lld not handled: %s", u->update_id, db_error());
        return -1;
    }
    if (cv.job_id > 0)
        queue_send(&cv.job_id, 1);
    if (cv.tick_bot)
        bots_schedule_tick(&cv.c, cv.tick_bot);
    if (cv.cancel_bot)
        bots_cancel_orders_later(&cv.c, cv.cancel_bot);
    return 0;
}
