/* telegram_out.h — the bot's side of telegram_outbox: one Bot API call per row, written in the
 * caller's transaction and sent later by the worker; plus the staff chat and backtest replies. */
#ifndef BCF_TELEGRAM_OUT_H
#define BCF_TELEGRAM_OUT_H
#include <jansson.h>
#include "arena.h"
#include "ctx.h"
#include "notify.h"

/* Queues method (sendMessage, editMessageText, answerCallbackQuery) with params (stolen; chat_id
 * is added for the first two) under dedupe_key: a second call with the same key writes nothing
 * (NULL = a fresh random key).
 * Returns 1 written, 0 deduplicated, -1 on a database error. */
int telegram_out_queue(arena *a, long long chat_id, const char *method, json_t *params, const char *dedupe_key);
/* sendMessage of text (already HTML: escape user data with telegram_html) with an optional
 * inline keyboard (stolen, NULL = none). */
int telegram_out_message(arena *a, long long chat_id, const char *text, json_t *keyboard, const char *dedupe_key);
/* s with &, < and > escaped for parse_mode HTML. */
char *telegram_html(arena *a, const char *s);

/* Called by notify for an audience (staff) notification: Segurança and Financeiro alerts also go
 * to the staff chat (config telegram.staff_chat_id; unset or 0 = none), m's template rendered in
 * pt-BR. 0, or -1 on a database error. */
int telegram_staff_alert(const ctx *c, const notify_msg *m);

/* Called by the worker when a backtest's report is stored: when it was queued from Telegram
 * (telegram_backtests), tells that chat, once. 0, or -1 on a database error. */
int telegram_backtest_done(const char *backtest_id, long trades, double final_equity);
/* Called by the worker when a backtest ends without a report for good (failed, retries used up,
 * cancelled): when it was queued from Telegram, tells that chat, once (dedupe key bt:<id>:failed).
 * reason names the words shown, part "reason_<reason>" of templates/notify/telegram.backtest_failed.txt
 * ("no_candles", "no_predictions", "invalid", "cancelled", "error"): never the internal error.
 * 0, or -1 on a database error. */
int telegram_backtest_failed(const char *backtest_id, const char *reason);
#endif
