/* notify_delivery.c — the worker's delivery of the notification outbox (Telegram and e-mail) and of the
 * bot's own telegram_outbox: leased claims with SKIP LOCKED, one shared pacing, backoff, failed rows kept for the admins. */
#include "arena.h"
#include "config.h"
#include "ctx.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "mail.h"
#include "notify_template.h"
#include "telegram_api.h"
#include "telegram_pace.h"
#include "worker.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEASE "interval '60 seconds'"
#define BATCH "10"
/* a wait this short is slept through; a longer one gives the row back with its time */
#define SLEEP_MAX_US 150000LL

enum { OUT_NOTIFY, OUT_BOT };
static const char *const table_of[] = {"notification_deliveries", "telegram_outbox"};

static void sleep_us(long long us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Delay before the next attempt: a random pick in the upper half of base·2^(attempts-1), capped,
 * so many failures spread out but none is retried at once. */
static long long backoff_ms(int attempts)
{
    long long cap = config_int("telegram.backoff_max_ms"), ceil = config_int("telegram.backoff_base_ms");
    for (int i = 1; i < attempts && ceil < cap; i++)
        ceil *= 2;
    if (ceil > cap)
        ceil = cap;
    if (ceil < 2)
        ceil = 2;
    return ceil / 2 + (long long)(randombytes_uniform((uint32_t)(ceil / 2 > 0x7fffffff ? 0x7fffffff : ceil / 2)));
}

static void set_row(int table, const char *id, const char *status, const char *error, long long delay_ms, int give_back)
{
    char sql[512], delay[32];
    snprintf(delay, sizeof delay, "%lld", delay_ms);
    /* give_back: the row was not tried (pacing, a 429, the breaker), so its attempt is returned */
    snprintf(sql, sizeof sql,
             "UPDATE %s SET status = $2, last_error = CASE WHEN $3 = '' THEN last_error ELSE left($3, 500) END, "
             "next_attempt_at = now() + make_interval(secs => $4::bigint / 1000.0), "
             "attempts = attempts - $5::int, sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END "
             "WHERE id = $1::bigint",
             table_of[table]);
    const char *p[] = {id, status, error ? error : "", delay, give_back ? "1" : "0"};
    if (db_exec(NULL, NULL, sql, 5, p) < 0)
        log_warn("telegram delivery: cannot record %s of %s %s: %s", status, table_of[table], id, db_error());
}

/* ids: one id, or a Postgres array literal of them ("{1,2,3}") */
static void mark_sent(int table, const char *ids)
{
    char sql[192];
    snprintf(sql, sizeof sql,
             "UPDATE %s SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = ANY($1::bigint[])",
             table_of[table]);
    const char *p[] = {ids[0] == '{' ? ids : NULL};
    char one[32];
    if (!p[0]) {
        snprintf(one, sizeof one, "{%s}", ids);
        p[0] = one;
    }
    if (db_exec(NULL, NULL, sql, 1, p) < 0)
        log_warn("telegram delivery: cannot record sent of %s %s: %s", table_of[table], ids, db_error());
}

/* What a failed attempt leaves: pending with backoff, or failed after the maximum or on a refusal
 * that a repeat would not change (400 chat not found, 403 blocked by the user). */
static void record_failure(int table, const char *id, int attempts, const tg_error *e)
{
    int give_up = e->result == TG_ERR_REFUSED || e->result == TG_ERR_BAD_ANSWER || e->result == TG_ERR_INVALID ||
                  attempts >= config_int("telegram.max_attempts");
    set_row(table, id, give_up ? "failed" : "pending", e->description, give_up ? 0 : backoff_ms(attempts), 0);
    log_warn("telegram delivery: %s %s attempt %d: %s%s", table_of[table], id, attempts, e->description,
             give_up ? ", giving up" : "");
}

/* What send_paced did with a row. */
enum { PACED_STOP = -1, PACED_LATER = 0, PACED_SENT = 1, PACED_SETTLED = 2 };

/* Sends one call under the pacing: PACED_SENT (Telegram took it; the caller records it),
 * PACED_SETTLED (a failure, recorded), PACED_LATER (given back for later) or PACED_STOP (stop the
 * pass: Redis down, breaker open). */
static int send_paced(int table, const char *id, int attempts, long long chat_id, const char *method,
                      const json_t *params, double deadline, long long *soonest_us)
{
    long long pace_chat = strcmp(method, "answerCallbackQuery") ? chat_id : 0;
    for (;;) {
        long long wait = telegram_pace_reserve(pace_chat);
        if (wait < 0) {
            set_row(table, id, "pending", "", 1000, 1);
            return PACED_STOP;
        }
        if (wait == 0)
            break;
        if (wait > SLEEP_MAX_US || now_s() + (double)wait / 1e6 > deadline) {
            set_row(table, id, "pending", "", wait / 1000 + 1, 1);
            if (*soonest_us < 0 || wait < *soonest_us)
                *soonest_us = wait;
            return PACED_LATER;
        }
        sleep_us(wait);
    }
    json_t *result = NULL;
    tg_error e;
    int rc = telegram_call(method, params, 1, &result, &e);
    json_decref(result);
    if (rc == TG_OK)
        return PACED_SENT;
    if (rc == TG_ERR_RATE_LIMITED) {
        long ra = e.retry_after_s > 0 ? e.retry_after_s : 1;
        telegram_pace_hold(pace_chat, ra);
        set_row(table, id, "pending", e.description, (long long)ra * 1000, 1);
        return PACED_LATER;
    }
    if (!e.sent || rc == TG_ERR_CONFIG) {
        /* never went out (breaker open, no token): not this message's failure */
        set_row(table, id, "pending", e.description, rc == TG_ERR_CONFIG ? 60000 : 5000, 1);
        return PACED_STOP;
    }
    record_failure(table, id, attempts, &e);
    return PACED_SETTLED;
}

/* A claimed row of the pass: enough to send it or to give it back. */
typedef struct claimed {
    char id[24];
    int attempts;
    long long chat_id;
    int table;
    int skip;      /* settled before sending (suppressed, failed to render) */
    char *method;
    json_t *params;
} claimed;

/* Fills c from row i of a claim whose first two columns are id and attempts. */
static claimed *claimed_from(claimed *c, PGresult *r, int i, int table)
{
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", PQgetvalue(r, i, 0));
    c->attempts = atoi(PQgetvalue(r, i, 1));
    c->table = table;
    return c;
}

static int claim_bot(arena *a, claimed *rows, int max)
{
    /* one row per chat at a time: a chat's next call waits until the one before it is settled, so
     * replies arrive in the order they were written */
    PGresult *r = db_query(
        NULL, "tg_outbox_claim",
        "UPDATE telegram_outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = now() + " LEASE " "
        "WHERE id IN (SELECT o.id FROM telegram_outbox o WHERE o.status IN ('pending', 'sending') "
        "AND o.next_attempt_at <= now() AND NOT EXISTS (SELECT 1 FROM telegram_outbox b WHERE b.chat_id = o.chat_id "
        "AND b.id < o.id AND b.status IN ('pending', 'sending')) ORDER BY o.id LIMIT " BATCH " FOR UPDATE SKIP LOCKED) "
        "RETURNING id, attempts, chat_id, method, params::text",
        0, NULL);
    if (!r)
        return -1;
    int n = 0;
    for (int i = 0; i < PQntuples(r) && n < max; i++) {
        claimed *c = claimed_from(&rows[n++], r, i, OUT_BOT);
        c->chat_id = atoll(PQgetvalue(r, i, 2));
        c->method = arena_strdup(a, PQgetvalue(r, i, 3));
        c->params = json_loads(PQgetvalue(r, i, 4), 0, NULL);
        if (!json_is_object(c->params)) {
            tg_error e = {.result = TG_ERR_INVALID, .description = "params are not a JSON object"};
            record_failure(OUT_BOT, c->id, c->attempts, &e);
            c->skip = 1;
        }
    }
    PQclear(r);
    return n;
}

/* The text of a notification for channel: the template's part in the user's language, or the
 * stored title and body of a message written without one. */
static char *render(arena *a, PGresult *r, int i, const char *channel, const char *part)
{
    const char *tmpl = PQgetvalue(r, i, 2);
    if (!*tmpl) {
        if (!strcmp(part, "subject"))
            return arena_strdup(a, PQgetvalue(r, i, 4));
        if (!strcmp(part, "body"))
            return arena_strdup(a, PQgetvalue(r, i, 5));
        return arena_printf(a, "%s\n%s", PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
    }
    json_t *data = json_loads(PQgetvalue(r, i, 3), 0, NULL);
    char *s = notify_render(a, tmpl, PQgetvalue(r, i, 6), channel, part, data);
    json_decref(data);
    return s;
}

/* Claims due deliveries of channel with what sending needs: the notification, the user's language
 * and address, the linked chat and the preference now in force. */
static PGresult *claim_notify(const char *channel, const char *lease, const char *limit)
{
    const char *p[] = {channel, lease, limit};
    return db_query(
        NULL, "notify_delivery_claim",
        "WITH claimed AS (UPDATE notification_deliveries SET status = 'sending', attempts = attempts + 1, "
        "next_attempt_at = now() + $2::interval WHERE id IN (SELECT id FROM notification_deliveries "
        "WHERE channel = $1 AND status IN ('pending', 'sending') AND next_attempt_at <= now() "
        "ORDER BY next_attempt_at LIMIT $3::int FOR UPDATE SKIP LOCKED) RETURNING id, notification_id, user_id, attempts) "
        "SELECT c.id, c.attempts, n.template, n.data::text, n.title, n.body, u.lang, u.email, "
        "(u.email_verified_at IS NOT NULL), l.chat_id, "
        "coalesce(p.enabled, CASE WHEN $1 = 'email' THEN cat.email_default ELSE cat.telegram_default END), n.tenant_id "
        "FROM claimed c JOIN notifications n ON n.id = c.notification_id JOIN users u ON u.id = c.user_id "
        "JOIN notification_categories cat ON cat.key = n.category "
        "LEFT JOIN telegram_links l ON l.user_id = c.user_id "
        "LEFT JOIN notification_preferences p ON p.user_id = c.user_id AND p.category = n.category AND p.channel = $1 "
        "ORDER BY c.id",
        3, p);
}

static int claim_notify_telegram(arena *a, claimed *rows, int max)
{
    PGresult *r = claim_notify("telegram", "60 seconds", BATCH);
    if (!r)
        return -1;
    int n = 0;
    for (int i = 0; i < PQntuples(r) && n < max; i++) {
        claimed *c = claimed_from(&rows[n++], r, i, OUT_NOTIFY);
        c->method = "sendMessage";
        /* unlinked since, or the channel turned off: nothing to send any more */
        if (PQgetisnull(r, i, 9) || strcmp(PQgetvalue(r, i, 10), "t") != 0) {
            set_row(OUT_NOTIFY, c->id, "suppressed", PQgetisnull(r, i, 9) ? "no linked chat" : "channel off", 0, 0);
            c->skip = 1;
            continue;
        }
        c->chat_id = atoll(PQgetvalue(r, i, 9));
        char *text = render(a, r, i, "telegram", "text");
        if (!text || !*text) {
            tg_error e = {.result = TG_ERR_INVALID, .description = "template missing or empty"};
            record_failure(OUT_NOTIFY, c->id, c->attempts, &e);
            c->skip = 1;
            continue;
        }
        c->params = json_pack("{s:I, s:s, s:s, s:b}", "chat_id", (json_int_t)c->chat_id, "text",
                              telegram_html_escape(a, text), "parse_mode", "HTML", "disable_web_page_preview", 1);
    }
    PQclear(r);
    return n;
}

/* Sends the claimed rows; those left when the pass must stop are given back. The rows Telegram took
 * are recorded together, one statement per table instead of a commit per message (a worker that
 * dies before it leaves them to be sent again when their lease ends: delivery is at-least-once).
 * Returns the rows sent or settled. */
static int send_rows(claimed *rows, int n, double deadline, int *stop, long long *soonest_us)
{
    int done = 0;
    char ids[2][20 * 24 + 3] = {"{", "{"};
    for (int i = 0; i < n; i++) {
        claimed *c = &rows[i];
        if (!c->skip && *stop)
            set_row(c->table, c->id, "pending", "", 0, 1);
        else if (!c->skip) {
            int rc = send_paced(c->table, c->id, c->attempts, c->chat_id, c->method, c->params, deadline, soonest_us);
            if (rc == PACED_STOP)
                *stop = 1;
            if (rc == PACED_SENT) {
                char *list = ids[c->table];
                size_t len = strlen(list);
                snprintf(list + len, sizeof ids[0] - len, "%s%s", len > 1 ? "," : "", c->id);
            }
            done += rc == PACED_SENT || rc == PACED_SETTLED;
        }
        json_decref(c->params);
        c->params = NULL;
    }
    for (int t = 0; t < 2; t++)
        if (ids[t][1]) {
            strcat(ids[t], "}");
            mark_sent(t, ids[t]);
        }
    return done;
}

/* Sends due rows until none is due or the deadline. Returns when the next pass should run, in
 * microseconds from now: 0 when the deadline ended this one with rows still due, the shortest
 * pacing wait when every row claimed last had to wait for its chat, or -1 (nothing known to be
 * due soon: the usual telegram.poll_ms). */
static long long telegram_pass(double deadline)
{
    arena a;
    arena_init(&a, 16384);
    claimed rows[20];
    int stop = 0;
    long long again_us = -1, soonest_us = -1; /* soonest: the shortest wait of a row given back */
    while (!stop && !worker_stopping) {
        if (now_s() >= deadline) {
            again_us = 0;
            break;
        }
        int nb = claim_bot(&a, rows, 10);
        int nn = nb < 0 ? -1 : claim_notify_telegram(&a, rows + nb, 10);
        if (nb < 0 || nn < 0) {
            if (nb > 0)
                send_rows(rows, nb, deadline, &(int){1}, &soonest_us);
            break;
        }
        if (nb + nn == 0) { /* nothing due now: rows given back earlier in this pass are due soonest */
            again_us = soonest_us;
            break;
        }
        int done = send_rows(rows, nb + nn, deadline, &stop, &soonest_us);
        arena_reset(&a);
        if (done == 0) { /* every row waits for its chat or a retry_after: nothing more is due now */
            again_us = stop ? -1 : soonest_us;
            break;
        }
    }
    arena_destroy(&a);
    return again_us;
}

/* ---- e-mail: handed to the mail outbox in the claim's transaction ---- */

static int email_batch(void *arg)
{
    int *queued = arg;
    *queued = 0;
    arena a;
    arena_init(&a, 16384);
    PGresult *r = claim_notify("email", "60 seconds", "50");
    if (!r) {
        arena_destroy(&a);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        const char *id = PQgetvalue(r, i, 0);
        if (strcmp(PQgetvalue(r, i, 8), "t") != 0 || strcmp(PQgetvalue(r, i, 10), "t") != 0) {
            set_row(OUT_NOTIFY, id, "suppressed",
                    strcmp(PQgetvalue(r, i, 8), "t") ? "address not verified" : "channel off", 0, 0);
            continue;
        }
        char *subject = render(&a, r, i, "email", "subject"), *body = render(&a, r, i, "email", "body");
        if (!subject || !body) {
            set_row(OUT_NOTIFY, id, "failed", "template missing", 0, 0);
            continue;
        }
        ctx c = {.a = &a, .tenant_id = atoll(PQgetvalue(r, i, 11)), .ip = "", .request_id = ""};
        if (mail_queue(&c, PQgetvalue(r, i, 7), subject, body) < 0) {
            if (strcmp(db_sqlstate(), "22023") != 0) {
                rc = -1; /* the database failed: the whole batch rolls back and is claimed again */
                break;
            }
            /* an address or text mail_queue refuses will not improve with time */
            set_row(OUT_NOTIFY, id, "failed", db_error(), 0, 0);
            continue;
        }
        mark_sent(OUT_NOTIFY, id);
        (*queued)++;
    }
    PQclear(r);
    arena_destroy(&a);
    return rc;
}

long notify_delivery_tick(void)
{
    static double email_at, telegram_at;
    double now = now_s(), poll_s = (double)config_int("telegram.poll_ms") / 1000.0;
    if (now >= email_at) {
        email_at = now + poll_s;
        int queued = 0;
        if (db_tx(email_batch, &queued) == 0 && queued > 0)
            log_info("notifications: %d e-mail(s) handed to the mail outbox", queued);
    }
    if (now >= telegram_at) {
        telegram_at = now + poll_s;
        /* without a token nothing is claimed: the deliveries wait, pending, until the bot is set up */
        char *token = config_secret("telegram.bot_token");
        int configured = token && *token;
        if (token) {
            sodium_memzero(token, strlen(token));
            free(token);
        }
        /* a backlog under the pacing comes back when its next slot opens, not after a whole poll:
         * an idle wait there is rate Telegram would have allowed */
        long long again_us = configured ? telegram_pass(now + (double)config_int("telegram.tick_ms") / 1000.0) : -1;
        if (again_us >= 0 && now_s() + (double)again_us / 1e6 < telegram_at)
            telegram_at = now_s() + (double)again_us / 1e6;
    }
    double next = email_at < telegram_at ? email_at : telegram_at;
    now = now_s();
    return next <= now ? 0 : (long)((next - now) * 1000.0) + 1;
}
