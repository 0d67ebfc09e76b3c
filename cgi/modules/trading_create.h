/* trading_create.h — creating a backtest or a bot from another page (an optimization's result):
 * the very paths POST /backtests and POST /bots take once their input is checked. */
#ifndef BCF_TRADING_CREATE_H
#define BCF_TRADING_CREATE_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "ctx.h"
#include "request.h"

/* A checked backtest request. */
typedef struct backtest_new {
    const char *name, *exchange, *timeframe;
    const char *symbols; /* a PostgreSQL array literal: "{BTCUSDT,ETHUSDT}" */
    int64_t from_ms, to_ms;
    double initial_balance;
    const json_t *config; /* engine_config_to_json form */
} backtest_new;

/* Stores the backtest of the request's user, queues its "backtest" job and writes the
 * backtests.create audit record in one transaction, puts the job on the stream, and answers as
 * POST /backtests does: 201 {id, job_id} (API) or a redirect to the report; 429 past the tenant's
 * daily quota. 0 when answered, -1 on a database error (the caller's 500). */
int backtests_start(request *req, response *res, const backtest_new *b);

/* The same without a request, for another channel (Telegram): stores and queues in one
 * transaction (joining the caller's) but leaves queue_send(&out->job_id, 1) to the caller after
 * its COMMIT. 0, BACKTESTS_QUOTA (out->quota says why), or -1 on a database error. */
enum { BACKTESTS_QUOTA = -3 };
typedef struct backtest_queued {
    char id[24];
    long long job_id;
    char quota[256];
} backtest_queued;
int backtests_queue(const ctx *c, const backtest_new *b, backtest_queued *out);

/* Starts or stops (action "start"/"stop"/"delete") bot id of c's tenant as POST /bots/{id}/start
 * and /stop do, with its bots.<action> audit record: a running bot is not started again, a
 * stopped one not stopped again (nothing audited then). start_ms: a past candle to paper-trade
 * from (0 = now). The caller checks the trading halt and, after COMMIT, queues the first tick
 * (bots_schedule_tick) or the order cancellation (bots_cancel_orders_later). Returns 1 when the
 * bot exists (*refused = 0 or a BOTS_REFUSED_* reason), 0 when c's tenant has no such bot, -1. */
enum { BOTS_REFUSED_RUNNING = 1, BOTS_REFUSED_PLAN, BOTS_REFUSED_KEY };
int bots_set_state(const ctx *c, const char *id, const char *action, long long start_ms, int *refused);

/* A checked bot, ready for SQL (every field text as stored). */
typedef struct bots_input {
    const char *name, *exchange, *symbol, *timeframe, *mode, *credential_id, *balance, *strategy;
    json_t *config; /* engine configuration (owned by the caller) */
} bots_input;

/* Stores a new bot of the request's user (stopped) with its bots.create audit record and answers
 * as POST /bots does: 201 {id} (API) or a redirect to the bot. 0 when answered, or -1. */
int bots_insert(request *req, response *res, const bots_input *in);
#endif
