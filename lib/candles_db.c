/* candles_db.c — stored candles into arrays for the engine. Markets and candles are platform-wide
 * data (sql/0009), so these reads carry no tenant filter; the (market, timeframe, open_time) key
 * makes each one an index range scan. */
#include "candles_db.h"
#include "db.h"
#include <stdio.h>
#include <stdlib.h>

/* Rows of (open_time, open, high, low, close, volume) into a malloc'd array in row order, or
 * reversed when reverse (a DESC query made oldest first). */
static int candles_db_rows(PGresult *r, int reverse, candle **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!r)
        return -1;
    int rows = PQntuples(r);
    if (!rows)
        return 0;
    candle *c = malloc((size_t)rows * sizeof *c);
    if (!c)
        return -1;
    for (int i = 0; i < rows; i++) {
        candle *d = &c[reverse ? rows - 1 - i : i];
        d->open_time = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        d->open = strtod(PQgetvalue(r, i, 1), NULL);
        d->high = strtod(PQgetvalue(r, i, 2), NULL);
        d->low = strtod(PQgetvalue(r, i, 3), NULL);
        d->close = strtod(PQgetvalue(r, i, 4), NULL);
        d->volume = strtod(PQgetvalue(r, i, 5), NULL);
    }
    *out = c;
    *n = (size_t)rows;
    return 0;
}

int candles_db_range(const char *exchange, const char *symbol, const char *timeframe, int64_t from_ms, int64_t to_ms,
                     size_t limit, int64_t closed_before_ms, candle **out, size_t *n)
{
    char from[24], to[24], lim[24], closed[24];
    snprintf(from, sizeof from, "%lld", (long long)from_ms);
    snprintf(to, sizeof to, "%lld", (long long)to_ms);
    snprintf(lim, sizeof lim, "%zu", limit ? limit : (size_t)100000000);
    snprintf(closed, sizeof closed, "%lld", (long long)closed_before_ms);
    const char *p[] = {exchange, symbol, timeframe, from, to, lim, closed};
    /* extra_float_digits = 3 (libpq's default since PostgreSQL 12) prints doubles exactly, so
     * the engine sees the very bits that were stored */
    PGresult *r = db_query(NULL, "candles_db_range",
                           "SELECT c.open_time, c.open, c.high, c.low, c.close, c.volume FROM candles c "
                           "JOIN markets m ON m.id = c.market_id WHERE m.exchange = $1 AND m.symbol = $2 "
                           "AND c.timeframe = $3 AND c.open_time >= $4::bigint AND c.open_time < $5::bigint "
                           "AND ($7::bigint = 0 OR c.open_time + (CASE $3 WHEN '1m' THEN 60000 WHEN '5m' THEN 300000 "
                           "WHEN '15m' THEN 900000 WHEN '1h' THEN 3600000 WHEN '4h' THEN 14400000 ELSE 86400000 END) "
                           "<= $7::bigint) ORDER BY c.open_time LIMIT $6::bigint",
                           7, p);
    int rc = candles_db_rows(r, 0, out, n);
    PQclear(r);
    return rc;
}

int candles_db_before(const char *exchange, const char *symbol, const char *timeframe, int64_t before_ms,
                      size_t count, candle **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!count)
        return 0;
    char before[24], lim[24];
    snprintf(before, sizeof before, "%lld", (long long)before_ms);
    snprintf(lim, sizeof lim, "%zu", count);
    const char *p[] = {exchange, symbol, timeframe, before, lim};
    PGresult *r = db_query(NULL, "candles_db_before",
                           "SELECT c.open_time, c.open, c.high, c.low, c.close, c.volume FROM candles c "
                           "JOIN markets m ON m.id = c.market_id WHERE m.exchange = $1 AND m.symbol = $2 "
                           "AND c.timeframe = $3 AND c.open_time < $4::bigint ORDER BY c.open_time DESC LIMIT $5::bigint",
                           5, p);
    int rc = candles_db_rows(r, 1, out, n);
    PQclear(r);
    return rc;
}
