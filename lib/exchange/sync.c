/* sync.c — exchange klines into the candles table: reads a range page by page (closed candles
 * only), then hands them to the candle store (lib/market_store.h) in one audited transaction. */
#include "sync.h"
#include "arena.h"
#include "db.h"
#include "log.h"
#include "market_store.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SYNC_RATE_RETRIES 3     /* pages retried after a rate-limit answer */
#define SYNC_RATE_WAIT_MAX 60000 /* longest wait for one of them, ms */

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
        if (!kept) {
            /* nothing more in the range (a gap to its end, or a market not yet listed); an empty
             * page may come as no array at all, which memcpy must never be handed */
            free(page);
            break;
        }
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
        cursor = all[n - 1].open_time + tf;
    }
    out->fetched = (long)n;
    if (!n)
        return 0;
    out->first_ms = all[0].open_time;
    out->last_ms = all[n - 1].open_time;
    /* the one candle store: the market row, partitions, the upsert, the market_series summary
     * that bots, backtests and the markets page read, one audit record, the cache tag */
    arena a;
    arena_init(&a, 16384);
    ctx c = {.a = &a, .user_id = 0, .tenant_id = 0, .ip = "", .request_id = ""};
    market_ref m = {ex->ops->name, si.symbol, si.base[0] ? si.base : NULL, si.quote[0] ? si.quote : NULL};
    json_t *extra = json_pack("{s:i}", "pages", out->pages);
    market_store_result res;
    int drc = extra ? market_store_candles(&c, &m, timeframe, "candles.sync", all, n, extra, &res) : MARKET_STORE_DB;
    json_decref(extra);
    arena_destroy(&a);
    free(all);
    if (drc == 0) {
        out->market_id = res.market_id;
        out->inserted = res.inserted;
    } else {
        log_error("candles sync %s %s %s: nothing stored: %s", ex->ops->name, symbol, timeframe,
                  drc == MARKET_STORE_EINVAL ? "the exchange named assets that are not valid here" : db_error());
        return EXCHANGE_SYNC_ERR_DB;
    }
    return 0;
}
