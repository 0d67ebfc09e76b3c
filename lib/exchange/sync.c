/* sync.c — exchange klines into the candles table: reads a range page by page (closed candles
 * only), then upserts it in one audited transaction, making month partitions as they are needed. */
#include "sync.h"
#include "arena.h"
#include "audit.h"
#include "db.h"
#include "log.h"
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SYNC_BATCH 2000         /* rows per INSERT statement */
#define SYNC_RATE_RETRIES 3     /* pages retried after a rate-limit answer */
#define SYNC_RATE_WAIT_MAX 60000 /* longest wait for one of them, ms */

typedef struct sync_job {
    arena *a;
    const char *exchange, *symbol, *timeframe;
    const exchange_symbol *si;
    const candle *rows;
    size_t n;
    exchange_sync_result *res;
} sync_job;

/* "{v,v,...}" of rows[from..to) field f (0 open_time, 1..5 open..volume), in the arena. */
static char *sync_array(arena *a, const candle *rows, size_t from, size_t to, int f)
{
    char *s = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&s, &len);
    if (!m)
        return NULL;
    fputc('{', m);
    for (size_t i = from; i < to; i++) {
        const candle *c = &rows[i];
        if (i > from)
            fputc(',', m);
        if (f == 0)
            fprintf(m, "%" PRId64, c->open_time);
        else /* 17 significant digits give back the same double */
            fprintf(m, "%.17g", f == 1 ? c->open : f == 2 ? c->high : f == 3 ? c->low : f == 4 ? c->close : c->volume);
    }
    fputc('}', m);
    if (fclose(m) != 0) {
        free(s);
        return NULL;
    }
    char *r = arena_strndup(a, s, len);
    free(s);
    return r;
}

static int sync_market(sync_job *j)
{
    const char *p[] = {j->exchange, j->symbol, j->si->base, j->si->quote};
    PGresult *r = db_query(j->a, NULL,
                           "INSERT INTO markets (exchange, symbol, base, quote) VALUES ($1, $2, $3, $4) "
                           "ON CONFLICT (exchange, symbol) DO NOTHING RETURNING id",
                           4, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        r = db_query(j->a, NULL, "SELECT id FROM markets WHERE exchange = $1 AND symbol = $2", 2, p);
        if (!r || PQntuples(r) != 1)
            return -1;
    }
    j->res->market_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    return 0;
}

static int sync_batch(sync_job *j, size_t from, size_t to)
{
    char mid[32];
    snprintf(mid, sizeof mid, "%lld", j->res->market_id);
    const char *p[8] = {mid, j->timeframe};
    for (int f = 0; f < 6; f++)
        if (!(p[2 + f] = sync_array(j->a, j->rows, from, to, f)))
            return -1;
    /* new rows are counted first: RETURNING cannot read xmax on a partitioned table */
    PGresult *r = db_query(j->a, NULL,
                           "SELECT count(*) FROM candles WHERE market_id = $1::bigint AND timeframe = $2 "
                           "AND open_time = ANY ($3::bigint[])",
                           3, p);
    if (!r || PQntuples(r) != 1)
        return -1;
    long existing = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    if (db_exec(j->a, NULL,
                "INSERT INTO candles (market_id, timeframe, open_time, open, high, low, close, volume) "
                "SELECT $1::bigint, $2, t.* FROM unnest($3::bigint[], $4::float8[], $5::float8[], $6::float8[], "
                "$7::float8[], $8::float8[]) AS t "
                "ON CONFLICT (market_id, timeframe, open_time) DO UPDATE SET open = EXCLUDED.open, "
                "high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume",
                8, p) != (long)(to - from))
        return -1;
    j->res->inserted += (long)(to - from) - existing;
    return 0;
}

static int sync_store_tx(void *arg)
{
    sync_job *j = arg;
    j->res->inserted = 0;
    if (sync_market(j) < 0)
        return -1;
    /* rows are in time order: each month shows up as one run */
    int64_t month = -1;
    for (size_t i = 0; i < j->n; i++) {
        int64_t m = candle_month_start_ms(j->rows[i].open_time);
        if (m == month)
            continue;
        month = m;
        char ms[32];
        snprintf(ms, sizeof ms, "%" PRId64, m);
        const char *p[] = {ms};
        if (!db_query(j->a, "candles_ensure_partition", "SELECT candles_ensure_partition($1::bigint)", 1, p))
            return -1;
    }
    for (size_t from = 0; from < j->n; from += SYNC_BATCH)
        if (sync_batch(j, from, from + SYNC_BATCH < j->n ? from + SYNC_BATCH : j->n) < 0)
            return -1;
    json_t *after = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:i}", "exchange", j->exchange, "symbol", j->symbol,
                              "timeframe", j->timeframe, "rows", (json_int_t)j->n, "new", (json_int_t)j->res->inserted,
                              "first_open_time", (json_int_t)j->rows[0].open_time, "last_open_time",
                              (json_int_t)j->rows[j->n - 1].open_time, "pages", j->res->pages);
    if (!after)
        return -1;
    ctx c = {.a = j->a, .user_id = 0, .tenant_id = 0, .ip = "", .request_id = ""};
    char id[32];
    snprintf(id, sizeof id, "%lld", j->res->market_id);
    int rc = audit_record(&c, "candles.sync", "market", id, NULL, after);
    json_decref(after);
    return rc == 0 ? 0 : -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int exchange_sync_klines(exchange *ex, const char *symbol, const char *timeframe, int64_t from_ms, int64_t to_ms,
                         exchange_sync_result *out)
{
    memset(out, 0, sizeof *out);
    out->first_ms = out->last_ms = -1;
    int64_t tf = candle_timeframe_ms(timeframe);
    if (!tf || from_ms < 0 || to_ms <= from_ms)
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "need a timeframe (1m..1d) and a range with from < to");
    from_ms -= from_ms % tf; /* the candle holding from_ms */
    if ((to_ms - from_ms) / tf > EXCHANGE_SYNC_MAX_CANDLES)
        return exchange_fail(ex, EXCHANGE_ERR_INVALID, 0, 0, "the range holds more than %d candles; sync it in parts",
                             EXCHANGE_SYNC_MAX_CANDLES);
    exchange_symbol si;
    int rc = exchange_symbol_info(ex, symbol, &si);
    int64_t now = 0;
    if (rc == 0)
        rc = exchange_server_time(ex, &now);
    if (rc != 0)
        return rc;
    /* a candle still open would be stored half made */
    int64_t end = to_ms < now - tf + 1 ? to_ms : now - tf + 1;
    candle *all = NULL;
    size_t n = 0, cap = 0;
    int64_t cursor = from_ms;
    int rate_retries = 0;
    while (cursor < end) {
        candle *page = NULL;
        size_t got = 0;
        rc = exchange_klines(ex, symbol, timeframe, cursor, end - 1, 0, &page, &got);
        if (rc == EXCHANGE_ERR_RATE_LIMIT && rate_retries < SYNC_RATE_RETRIES) {
            long wait = exchange_last_error(ex)->retry_after_ms;
            if (wait >= 0 && wait <= SYNC_RATE_WAIT_MAX) {
                rate_retries++;
                sleep_ms(wait > 0 ? wait : 1000);
                continue;
            }
        }
        if (rc != 0) {
            free(all);
            return rc;
        }
        out->pages++;
        size_t kept = 0;
        for (size_t i = 0; i < got; i++)
            if (page[i].open_time >= cursor && page[i].open_time < end)
                page[kept++] = page[i];
        if (n + kept > cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            while (ncap < n + kept)
                ncap *= 2;
            candle *g = realloc(all, ncap * sizeof *g);
            if (!g) {
                free(page);
                free(all);
                return exchange_fail(ex, EXCHANGE_ERR_PROTOCOL, 0, 0, "out of memory");
            }
            all = g;
            cap = ncap;
        }
        memcpy(all + n, page, kept * sizeof *page);
        n += kept;
        free(page);
        if (!kept)
            break; /* nothing more in the range (a gap to its end, or a market not yet listed) */
        cursor = all[n - 1].open_time + tf;
    }
    out->fetched = (long)n;
    if (!n)
        return 0;
    out->first_ms = all[0].open_time;
    out->last_ms = all[n - 1].open_time;
    arena a;
    arena_init(&a, 16384);
    sync_job j = {&a, ex->ops->name, si.symbol, timeframe, &si, all, n, out};
    int drc = db_tx(sync_store_tx, &j);
    arena_destroy(&a);
    free(all);
    if (drc != 0) {
        log_error("candles sync %s %s %s: nothing stored: %s", ex->ops->name, symbol, timeframe, db_error());
        return EXCHANGE_SYNC_ERR_DB;
    }
    return 0;
}
