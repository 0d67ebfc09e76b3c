/* sync.h — market data from an exchange into the candles table: pages through klines and upserts
 * the closed candles of a range, so a job (or botctl candles sync) keeps a market fresh. */
#ifndef BCF_EXCHANGE_SYNC_H
#define BCF_EXCHANGE_SYNC_H
#include <stdint.h>
#include "exchange.h"

enum { EXCHANGE_SYNC_ERR_DB = -100 }; /* the database refused; db_error() says why */
enum { EXCHANGE_SYNC_MAX_CANDLES = 5000000 };

typedef struct exchange_sync_result {
    long long market_id;
    long fetched;          /* closed candles read from the exchange */
    long inserted;         /* of those, new rows (the others updated existing ones) */
    int pages;             /* klines requests */
    int64_t first_ms, last_ms; /* open times of the first and last candle stored; -1 when none */
} exchange_sync_result;

/* Reads the candles of symbol/timeframe whose open time is in [from_ms, to_ms) and that have
 * closed by the exchange's clock, and upserts them (markets row made when missing, month
 * partitions ensured) in one transaction with one "candles.sync" audit record; nothing is written
 * when nothing was read. Returns 0, a negative exchange_err (nothing written; see
 * exchange_last_error), or EXCHANGE_SYNC_ERR_DB. Ranges of more than EXCHANGE_SYNC_MAX_CANDLES
 * candles are refused (EXCHANGE_ERR_INVALID). */
int exchange_sync_klines(exchange *ex, const char *symbol, const char *timeframe, int64_t from_ms, int64_t to_ms,
                         exchange_sync_result *out);
#endif
