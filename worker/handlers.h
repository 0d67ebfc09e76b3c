/* handlers.h — the registry of job types. Adding a type is one line in JOB_HANDLERS below:
 * X(type name, handler function, 1 when it exists only with app.env test or development). The
 * function, int fn(job_ctx *j), lives in its own worker/<thing>.c. */
#ifndef BCF_HANDLERS_H
#define BCF_HANDLERS_H
#include "job.h"

#define JOB_HANDLERS(X)                                                                                               \
    X("noop", job_noop, 0)                                                                                            \
    X("sleep", job_sleep, 1)                                                                                          \
    X("fail", job_fail, 1)                                                                                            \
    X("crash", job_crash, 1)                                                                                          \
    X("backtest", job_backtest, 0)                                                                                    \
    X("bot_tick", job_bot_tick, 0)                                                                                    \
    X("bot_cancel_orders", job_bot_cancel_orders, 0)                                                                   \
    X("optimize", job_optimize, 0)                                                                                    \
    X("walk_forward", job_walk_forward, 0)                                                                            \
    X("ml_train", job_ml_train, 0)                                                                                    \
    X("ml_predict", job_ml_predict, 0)

#define JOB_HANDLER_DECLARE(type, fn, dev_only) int fn(job_ctx *j);
JOB_HANDLERS(JOB_HANDLER_DECLARE)
#undef JOB_HANDLER_DECLARE

typedef struct job_handler {
    const char *type;
    job_handler_fn fn;
    int dev_only;
} job_handler;

/* The handler of type, or NULL (unknown here, or test-only outside test/development). */
const job_handler *handler_find(const char *type);
/* The bots' scheduler pass (worker/bots_job.c): queues the ticks of bots whose candle closed. */
void bots_scheduler_tick(void);
/* Voids pending ledger transfers past their timeout, every ledger.expire_poll_ms
 * (worker/ledger_expiry.c). */
void ledger_expiry_tick(void);

/* Ends trials, held plans and overdue subscriptions past their grace, every billing.expire_poll_ms
 * (worker/dunning.c). */
void dunning_tick(void);
/* Every worker's delivery pass over the notification outbox (Telegram, e-mail) and the bot's
 * telegram_outbox, every telegram.poll_ms (worker/notify_delivery.c). Returns the milliseconds
 * until it wants to run again: 0 when a pass used its telegram.tick_ms with messages still due,
 * less than the poll when paced messages become due sooner. */
long notify_delivery_tick(void);
#endif
