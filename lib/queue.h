/* queue.h — the job queue: PostgreSQL's jobs table is the truth, a Redis stream (consumer group)
 * carries job ids to workers. One API for the web app, botctl and the worker (docs/worker.md). */
#ifndef BCF_QUEUE_H
#define BCF_QUEUE_H
#include <jansson.h>
#include <stddef.h>
#include "ctx.h"

/* Errors (all negative). QUEUE_EQUOTA comes with a message from queue_error(). */
enum {
    QUEUE_ERR = -1,       /* PostgreSQL unavailable or a statement failed (db_error() says why) */
    QUEUE_EINVAL = -2,    /* bad type name, params not a JSON object, too big, bad option */
    QUEUE_EQUOTA = -3,    /* the tenant's quota for this type is used up */
    QUEUE_ENOTFOUND = -4, /* no such job in the caller's tenant */
    QUEUE_ESTATE = -5,    /* the job's status does not allow it (retry of a done job...) */
};

typedef struct queue_opts {
    int max_attempts;       /* 0 = queue.max_attempts */
    const char *dedupe_key; /* NULL = none; else one job per (tenant, key), for ever: a second
                             * enqueue returns the first job's id and queues nothing */
    long delay_ms;          /* not before now + delay_ms (0 = at once) */
    int defer_send;         /* 1 when called inside a transaction: the id goes on the stream only
                             * through queue_send() after COMMIT (or the sweeper's next pass) */
} queue_opts;

/* Queues a job of c's tenant (c->tenant_id 0 = a system job: no tenant, no quota) on behalf of
 * c->user_id (0 = none). params_json must be a JSON object (NULL = {}). The quota hook runs
 * first. Returns the job id (> 0) or a QUEUE_E* value. The row is committed before the id is
 * put on the stream; with Redis down the job stays queued and the sweeper sends it. */
long long queue_enqueue(const ctx *c, const char *type, const char *params_json, const queue_opts *opts);

/* The job of a row a page has just inserted in the caller's transaction (a backtest, a model):
 * queues type with params {"<key>": row_id} and defer_send (queue_send() it after COMMIT), and
 * stores the job id in the row's job_id (table has tenant_id, id and job_id). table and key are
 * the caller's constants, never user text; row_id is the row's numeric id. Returns the job id or
 * a QUEUE_E* value (QUEUE_ERR when the row was not found in c's tenant). */
long long queue_enqueue_for(const ctx *c, const char *type, const char *table, const char *key, const char *row_id);

/* Many jobs at once, for system schedulers (bot ticks of many tenants) and benchmarks: one
 * INSERT, one pipelined XADD. No quota hook (the caller decides). ids[i] gets each item's job
 * id (the existing one when its dedupe_key matched, 0 when that one could not be read back).
 * Returns how many rows were inserted, or a QUEUE_E* value. */
typedef struct queue_item {
    long long tenant_id; /* 0 = system */
    long long user_id;   /* 0 = none */
    const char *type;
    const char *params_json; /* NULL = {} */
    const char *dedupe_key;  /* NULL = none */
    int max_attempts;        /* 0 = queue.max_attempts */
} queue_item;
int queue_enqueue_batch(const queue_item *items, int n, long long *ids);

/* Puts job ids on the stream (after a transaction that used defer_send). Returns how many were
 * sent, -1 when Redis is down (the sweeper sends them later). */
int queue_send(const long long *ids, int n);

/* Cancels a job of c's tenant (0 = system jobs): a queued job ends 'cancelled' at once (returns
 * 1); a running one gets cancel_requested and its handler stops at its next progress report
 * (returns 2). One audit record (jobs.cancel). QUEUE_ENOTFOUND / QUEUE_ESTATE otherwise. */
int queue_cancel(const ctx *c, long long id);

/* Sends a dead, failed or cancelled job of c's tenant back to the queue with fresh attempts.
 * One audit record (jobs.retry). 0, or QUEUE_ENOTFOUND / QUEUE_ESTATE / QUEUE_ERR. */
int queue_retry(const ctx *c, long long id);

/* The per-plan quota hook: returns 0 to allow, QUEUE_EQUOTA to refuse (writing a message for
 * the user into why), QUEUE_ERR when it cannot tell (the enqueue then fails). Called for tenant
 * jobs only. NULL restores the default, which reads queue.quota.<type>.per_day (0 or unset =
 * unlimited) and counts the tenant's jobs of that type since 00:00 UTC, then applies the tenant
 * plan's daily limit where plans_job_limit() names one (backtest, optimize, walk_forward, ml_train). */
typedef int (*queue_quota_fn)(const ctx *c, const char *type, char *why, size_t whylen);
void queue_set_quota_hook(queue_quota_fn fn);
int queue_quota_default(const ctx *c, const char *type, char *why, size_t whylen);
/* The message of the last QUEUE_EQUOTA / QUEUE_EINVAL of this process. */
const char *queue_error(void);

/* A valid type name: [a-z][a-z0-9_]{0,39}. */
int queue_type_valid(const char *type);

/* ---- worker side: claim, report, finish; every write is fenced by (worker_id, attempt) so a
 * runner whose job was reclaimed cannot overwrite what the new runner does ---- */

typedef struct queue_job {
    long long id, tenant_id, user_id;
    char type[48];
    char *params;        /* JSON text (malloc'd; queue_jobs_free) */
    int attempt;         /* this claim's number, 1-based */
    int max_attempts;
    double pickup_ms;    /* claim time - created_at (first attempt) or - run_after (retries) */
} queue_job;

/* Claims the given ids for worker_id in one UPDATE: queued, due, with attempts left. A batch
 * (alone = 0) takes only jobs that never lost a runner; alone = 1 (one id, run at once) also
 * takes run_alone jobs and running ones whose lease expired (marking them run_alone). Fills
 * out[] (capacity n) with the jobs now ours, in id order; returns how many, or -1. */
int queue_claim(const long long *ids, int n, const char *worker_id, int alone, queue_job *out);
void queue_jobs_free(queue_job *jobs, int n);

/* Extends the lease and stores progress (0..1). Returns 0 to go on, 1 when cancel was
 * requested, 2 when the job is no longer ours (reclaimed after a lost lease), -1 on error. */
int queue_progress(const queue_job *j, const char *worker_id, double fraction);

/* Outcomes. done results are batched: queue_finish_done takes n (job, result JSON text or NULL)
 * pairs in one UPDATE; returns how many were still ours. */
int queue_finish_done(const queue_job *const *jobs, const char *const *results, int n, const char *worker_id);
/* A transient error: back to 'queued' after a backoff, or 'dead' when attempts are used up.
 * Returns 1 queued again, 2 dead, 0 no longer ours, -1 error. */
int queue_finish_retry(const queue_job *j, const char *worker_id, const char *error);
/* A permanent error ('failed'), a cancellation honoured ('cancelled'). 1 ours, 0 not, -1 error. */
int queue_finish_failed(const queue_job *j, const char *worker_id, const char *error);
int queue_finish_cancelled(const queue_job *j, const char *worker_id);
/* Gives jobs back untouched (shutdown, or a batch held too long): queued, due now, the attempt
 * not counted. Returns how many were still ours. */
int queue_release(const queue_job *const *jobs, int n, const char *worker_id);

/* Retry delay after failed attempt number `attempt` (1-based): base * 2^(attempt-1) capped at
 * max, with "equal jitter": half of it fixed, the other half scaled by jitter in [0, 1]. */
long queue_backoff_ms(int attempt, long base_ms, long max_ms, double jitter);

/* The sweeper's two passes. Expired leases: back to queued (after a backoff; the lost attempt
 * counts), dead when none are left, cancelled when a cancel was requested. Returns rows moved
 * or -1. Due queued jobs not sent within resend_ms (or all due ones when all != 0): put on the
 * stream again; returns how many, or -1. */
int queue_sweep_leases(void);
int queue_sweep_resend(long resend_ms, int all);
#endif
