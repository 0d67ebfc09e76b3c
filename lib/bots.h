/* bots.h — a bot's life outside the web pages: the tick that feeds newly closed candles to its
 * saved engine (paper fills, trades, live orders), the scheduler that queues ticks at candle close. */
#ifndef BCF_BOTS_H
#define BCF_BOTS_H
#include <jansson.h>
#include <stddef.h>
#include "ctx.h"

enum {
    BOTS_TICK_OK = 0,
    BOTS_TICK_RETRY = -1, /* database or exchange unavailable: run the tick again later */
    BOTS_TICK_FAIL = -2,  /* the bot cannot run (bad config, state of another build): it is set to 'error' */
};
/* Runs one tick of bot_id: in one transaction, with the bot's row locked, feeds every closed
 * candle after the last one it saw (at most bots.max_candles_per_tick) to its engine, stores the
 * trade events, the new engine state and equity, and writes one audit record when it traded.
 * A stopped bot, or a halted platform, makes a tick that changes nothing. tenant_id, when not 0,
 * must be the bot's tenant. Live bots then place the engine's pending orders on the exchange.
 * *result (may be NULL) gets a summary: {"candles":n,"events":n,"equity":x} or {"skipped":why}.
 * Idempotent: a tick run twice for the same candles finds nothing new the second time. */
int bots_tick(long long bot_id, long long tenant_id, json_t **result, char *err, size_t errlen);

/* Queues a tick of the bot now (a start asks for one; the scheduler queues the rest at each
 * candle close). 0, or -1 when it could not be queued (the scheduler will). */
int bots_schedule_tick(const ctx *c, long long bot_id);
/* Queues the cancellation of a live bot's open orders on its exchange (retried by the queue). */
void bots_cancel_orders_later(const ctx *c, long long bot_id);
/* The scheduler's pass: queues a tick for every running bot whose last closed candle it has not
 * seen yet. Returns the number of jobs queued, or -1 when the database is unavailable. */
int bots_schedule_due(void);
/* Cancels every open order of a live bot on its exchange (the bot_cancel_orders job). */
int bots_cancel_orders(long long bot_id, char *err, size_t errlen);
#endif
