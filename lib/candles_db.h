/* candles_db.h — reads stored candles of one market and timeframe into a plain array for the
 * engine (backtests, bot ticks): a time range, or the last N before a time (indicator warm-up). */
#ifndef BCF_CANDLES_DB_H
#define BCF_CANDLES_DB_H
#include <stddef.h>
#include <stdint.h>
#include "candles.h"

/* Candles with from_ms <= open_time < to_ms, oldest first, at most limit (0 = no limit) and
 * only those closed by closed_before_ms (open_time + timeframe <= it; 0 = no such rule).
 * *out is malloc'd (the caller frees; NULL when none). Returns 0, or -1 when the database
 * failed or the market does not exist (*n = 0). */
int candles_db_range(const char *exchange, const char *symbol, const char *timeframe, int64_t from_ms, int64_t to_ms,
                     size_t limit, int64_t closed_before_ms, candle **out, size_t *n);
/* The last `count` candles with open_time < before_ms, oldest first; fewer when the history is
 * shorter. Same ownership and returns as candles_db_range. */
int candles_db_before(const char *exchange, const char *symbol, const char *timeframe, int64_t before_ms,
                      size_t count, candle **out, size_t *n);
#endif
