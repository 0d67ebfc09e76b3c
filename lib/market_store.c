/* market_store.c — stores validated candles for botctl and the web upload in one audited,
 * idempotent transaction, and keeps the per-series summary the markets page lists. */
#include "market_store.h"
#include "audit.h"
#include "cache.h"
#include "db.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARKET_STORE_BATCH 2000 /* rows per INSERT statement */

static int market_chars_ok(const char *s, size_t lo, size_t hi, int lower)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n < lo || n > hi)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int letter = lower ? (ch >= 'a' && ch <= 'z') : (ch >= 'A' && ch <= 'Z');
        if (!letter && !(ch >= '0' && ch <= '9') && !(lower && ch == '_'))
            return 0;
    }
    return 1;
}

int market_exchange_ok(const char *s)
{
    return market_chars_ok(s, 1, 32, 1);
}

int market_symbol_ok(const char *s)
{
    return market_chars_ok(s, 2, 32, 0);
}

int market_asset_ok(const char *s)
{
    return market_chars_ok(s, 1, 16, 0);
}

int market_assets(arena *a, const char *symbol, const char *base, const char *quote, const char **base_out,
                  const char **quote_out)
{
    static const char *quotes[] = {"USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BRL", "EUR", "USD", "BTC", "ETH", "BNB"};
    if (!market_symbol_ok(symbol))
        return -1;
    size_t sl = strlen(symbol);
    for (size_t i = 0; !quote && i < sizeof quotes / sizeof quotes[0]; i++) {
        size_t ql = strlen(quotes[i]);
        if (sl > ql && !strcmp(symbol + sl - ql, quotes[i]))
            quote = quotes[i];
    }
    if (quote && !base && sl > strlen(quote) && !strcmp(symbol + sl - strlen(quote), quote))
        base = arena_strndup(a, symbol, sl - strlen(quote));
    if (!market_asset_ok(base) || !market_asset_ok(quote))
        return -1;
    *base_out = base;
    *quote_out = quote;
    return 0;
}

/* One store: its inputs and what it learnt on the way. */
typedef struct market_job {
    const ctx *c;
    const market_ref *m;
    const char *base, *quote, *timeframe, *action;
    const candle *rows;
    size_t n;
    const json_t *extra;
    market_store_result res;
} market_job;

/* The market's id, the row locked until the commit: a second import of the same market waits,
 * so the "new rows" count below cannot be raced. */
static int market_row(market_job *j)
{
    const char *p[] = {j->m->exchange, j->m->symbol, j->base, j->quote};
    PGresult *r = db_query(j->c->a, NULL,
                           "INSERT INTO markets (exchange, symbol, base, quote) VALUES ($1, $2, $3, $4) "
                           "ON CONFLICT (exchange, symbol) DO NOTHING RETURNING id",
                           4, p);
    if (!r)
        return -1;
    j->res.market_created = PQntuples(r) == 1;
    if (!j->res.market_created) {
        r = db_query(j->c->a, NULL, "SELECT id FROM markets WHERE exchange = $1 AND symbol = $2 FOR UPDATE", 2, p);
        if (!r || PQntuples(r) != 1)
            return -1;
    }
    j->res.market_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    return 0;
}

/* Rows [from, to) field f as a PostgreSQL array literal "{v,v,...}" in the arena. */
static char *market_array(arena *a, const candle *rows, size_t from, size_t to, int f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    fputc('{', m);
    for (size_t i = from; i < to; i++) {
        const candle *c = &rows[i];
        if (i > from)
            fputc(',', m);
        if (f == 0)
            fprintf(m, "%" PRId64, c->open_time);
        else {
            /* 17 significant digits give back the same double after the round trip */
            double v = f == 1 ? c->open : f == 2 ? c->high : f == 3 ? c->low : f == 4 ? c->close : c->volume;
            fprintf(m, "%.17g", v);
        }
    }
    fputc('}', m);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    char *out = arena_strndup(a, buf, len);
    free(buf);
    return out;
}

static int market_insert_batch(market_job *j, const char *mid, size_t from, size_t to)
{
    const char *arr[6];
    for (int f = 0; f < 6; f++)
        if (!(arr[f] = market_array(j->c->a, j->rows, from, to, f)))
            return -1;
    const char *p[] = {mid, j->timeframe, arr[0], arr[1], arr[2], arr[3], arr[4], arr[5]};
    /* new rows are counted before the upsert: RETURNING cannot read xmax on a partitioned table */
    PGresult *r = db_query(j->c->a, NULL,
                           "SELECT count(*) FROM candles WHERE market_id = $1::bigint AND timeframe = $2 "
                           "AND open_time = ANY ($3::bigint[])",
                           3, p);
    if (!r || PQntuples(r) != 1)
        return -1;
    long existing = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    if (db_exec(j->c->a, NULL,
                "INSERT INTO candles (market_id, timeframe, open_time, open, high, low, close, volume) "
                "SELECT $1::bigint, $2, t.* FROM unnest($3::bigint[], $4::float8[], $5::float8[], $6::float8[], "
                "$7::float8[], $8::float8[]) AS t "
                "ON CONFLICT (market_id, timeframe, open_time) DO UPDATE SET open = EXCLUDED.open, "
                "high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume",
                8, p) != (long)(to - from))
        return -1;
    j->res.inserted += (long)(to - from) - existing;
    return 0;
}

/* The summary the markets list reads instead of counting candles on every view. */
static int market_series_update(market_job *j, const char *mid)
{
    char n[32], first[32], last[32], close[40];
    snprintf(n, sizeof n, "%ld", j->res.inserted);
    snprintf(first, sizeof first, "%" PRId64, j->rows[0].open_time);
    snprintf(last, sizeof last, "%" PRId64, j->rows[j->n - 1].open_time);
    snprintf(close, sizeof close, "%.17g", j->rows[j->n - 1].close);
    const char *p[] = {mid, j->timeframe, n, first, last, close};
    return db_exec(j->c->a, "market_series_upsert",
                   "INSERT INTO market_series (market_id, timeframe, candles, first_open_time, last_open_time, "
                   "last_close) VALUES ($1::bigint, $2, $3::bigint, $4::bigint, $5::bigint, $6::float8) "
                   "ON CONFLICT (market_id, timeframe) DO UPDATE SET "
                   "candles = market_series.candles + EXCLUDED.candles, "
                   "first_open_time = least(market_series.first_open_time, EXCLUDED.first_open_time), "
                   "last_open_time = greatest(market_series.last_open_time, EXCLUDED.last_open_time), "
                   "last_close = CASE WHEN EXCLUDED.last_open_time >= market_series.last_open_time "
                   "THEN EXCLUDED.last_close ELSE market_series.last_close END, updated_at = now()",
                   6, p) == 1
               ? 0
               : -1;
}

static int market_store_tx(void *arg)
{
    market_job *j = arg;
    j->res.inserted = 0;
    j->res.market_created = 0;
    if (market_row(j) < 0)
        return -1;
    char mid[32];
    snprintf(mid, sizeof mid, "%lld", j->res.market_id);
    /* rows are in time order, so each month shows up as one run */
    int64_t month = -1;
    for (size_t i = 0; i < j->n; i++) {
        int64_t m = candle_month_start_ms(j->rows[i].open_time);
        if (m == month)
            continue;
        month = m;
        char ms[32];
        snprintf(ms, sizeof ms, "%" PRId64, m);
        const char *p[] = {ms};
        if (!db_query(j->c->a, "candles_ensure_partition", "SELECT candles_ensure_partition($1::bigint)", 1, p))
            return -1;
    }
    for (size_t from = 0; from < j->n; from += MARKET_STORE_BATCH)
        if (market_insert_batch(j, mid, from, from + MARKET_STORE_BATCH < j->n ? from + MARKET_STORE_BATCH : j->n) < 0)
            return -1;
    if (market_series_update(j, mid) < 0)
        return -1;
    json_t *after = json_object();
    if (!after)
        return -1;
    if (j->extra)
        json_object_update(after, (json_t *)(uintptr_t)j->extra);
    json_object_set_new(after, "exchange", json_string(j->m->exchange));
    json_object_set_new(after, "symbol", json_string(j->m->symbol));
    json_object_set_new(after, "timeframe", json_string(j->timeframe));
    json_object_set_new(after, "rows", json_integer((json_int_t)j->n));
    json_object_set_new(after, "first_open_time", json_integer(j->rows[0].open_time));
    json_object_set_new(after, "last_open_time", json_integer(j->rows[j->n - 1].open_time));
    json_object_set_new(after, "new", json_integer(j->res.inserted));
    json_object_set_new(after, "market_created", json_boolean(j->res.market_created));
    int rc = audit_record(j->c, j->action, "market", mid, NULL, after);
    json_decref(after);
    return rc == 0 ? 0 : -1;
}

int market_store_candles(const ctx *c, const market_ref *m, const char *timeframe, const char *action,
                         const candle *rows, size_t n, const json_t *extra, market_store_result *out)
{
    market_job j = {.c = c, .m = m, .timeframe = timeframe, .action = action, .rows = rows, .n = n, .extra = extra};
    if (!c || !m || !rows || n == 0 || !action || !market_exchange_ok(m->exchange) ||
        candle_timeframe_ms(timeframe) == 0 || market_assets(c->a, m->symbol, m->base, m->quote, &j.base, &j.quote) != 0)
        return MARKET_STORE_EINVAL;
    if (db_tx(market_store_tx, &j) != 0)
        return MARKET_STORE_DB;
    /* the list is cached: drop it (best effort; its TTL bounds staleness when Redis is away) */
    cache_invalidate_tag("markets");
    *out = j.res;
    return 0;
}
