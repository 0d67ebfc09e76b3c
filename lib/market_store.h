/* market_store.h — the one way candles reach PostgreSQL (botctl and the web upload alike): the
 * market row, monthly partitions, an idempotent upsert, the series summary and one audit record. */
#ifndef BCF_MARKET_STORE_H
#define BCF_MARKET_STORE_H
#include <jansson.h>
#include <stddef.h>
#include "candles.h"
#include "ctx.h"

/* Markets and candles are platform-wide data, not tenant data (sql/0009): every tenant reads the
 * same rows, so these statements carry no tenant filter. */

/* The spellings sql/0009 enforces: exchange ^[a-z0-9_]{1,32}$ (binance, demo), symbol
 * ^[A-Z0-9]{2,32}$ (BTCUSDT), asset ^[A-Z0-9]{1,16}$ (BTC). 1 when s fits, else 0 (NULL too). */
int market_exchange_ok(const char *s);
int market_symbol_ok(const char *s);
int market_asset_ok(const char *s);

/* Base and quote asset of symbol: base/quote when given, else split at a known quote-asset
 * suffix (USDT, USDC, FDUSD, BUSD, TUSD, BRL, EUR, USD, BTC, ETH, BNB). 0 with both set (base
 * may be an arena copy), or -1 when they cannot be told or are not valid asset names. */
int market_assets(arena *a, const char *symbol, const char *base, const char *quote, const char **base_out,
                  const char **quote_out);

typedef struct market_ref {
    const char *exchange, *symbol;
    const char *base, *quote; /* NULL = from the symbol (market_assets) */
} market_ref;

typedef struct market_store_result {
    long long market_id;
    long inserted;      /* rows that did not exist before (the rest were overwritten) */
    int market_created; /* the market row was made by this call */
} market_store_result;

enum { MARKET_STORE_DB = -1, MARKET_STORE_EINVAL = -2 };

/* Stores rows[0..n) (n >= 1; validated by candles_parse or made by synth_generate: strictly
 * increasing open times aligned to timeframe) in one transaction: creates the market when
 * missing (its row is locked, so imports of one market run one after another), makes each
 * month's partition (candles_ensure_partition), upserts in batches (ON CONFLICT: the file's
 * values win, so a re-import changes nothing and a corrected one overwrites), updates the
 * market_series summary, and appends one audit record `action` (e.g. "candles.import") on
 * object market/<id> by actor c (user 0 and tenant 0 for the operator) whose `after` holds
 * exchange, symbol, timeframe, rows, new, first/last open time, market_created and the members
 * of extra (borrowed; may be NULL). After the commit the "markets" cache tag is dropped.
 * Returns 0 with *out filled; MARKET_STORE_EINVAL for a bad exchange, symbol, assets or
 * timeframe, or n == 0; MARKET_STORE_DB when the database failed (nothing stored; db_error()). */
int market_store_candles(const ctx *c, const market_ref *m, const char *timeframe, const char *action,
                         const candle *rows, size_t n, const json_t *extra, market_store_result *out);
#endif
