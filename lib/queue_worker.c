/* queue_worker.c — the consumer side of the job queue: batch claim, progress with lease
 * extension, fenced outcomes, release, the backoff formula and the sweeper's statements. */
#include "buf.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "queue.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long queue_backoff_ms(int attempt, long base_ms, long max_ms, double jitter)
{
    if (attempt < 1)
        attempt = 1;
    if (base_ms < 0)
        base_ms = 0;
    if (max_ms < base_ms)
        max_ms = base_ms;
    double d = (double)base_ms;
    for (int i = 1; i < attempt && d < (double)max_ms; i++)
        d *= 2;
    if (d > (double)max_ms)
        d = (double)max_ms;
    if (!(jitter >= 0))
        jitter = 0;
    if (jitter > 1)
        jitter = 1;
    return (long)(d / 2 + d / 2 * jitter);
}

static double rand01(void)
{
    return (double)random() / 2147483647.0;
}

/* "{1,2,3}": a bigint[] literal. Caller frees. */
static char *id_array(const long long *ids, int n)
{
    buf b = {0};
    buf_putc(&b, '{');
    for (int i = 0; i < n; i++)
        buf_printf(&b, "%s%lld", i ? "," : "", ids[i]);
    buf_putc(&b, '}');
    if (b.oom) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}

static int by_id(const void *a, const void *b)
{
    const queue_job *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int queue_claim(const long long *ids, int n, const char *worker_id, int alone, queue_job *out)
{
    if (n <= 0)
        return 0;
    char *arr = id_array(ids, n);
    if (!arr)
        return -1;
    char vis[24];
    snprintf(vis, sizeof vis, "%ld", config_int("queue.visibility_ms"));
    const char *p[] = {arr, worker_id, vis, alone ? "t" : "f"};
    /* queued and due, or running under a lease that ran out (its runner died or hung); a
     * concurrent claim of the same row waits for the first and then finds it taken. A job that
     * lost a runner is only ever claimed alone: if it killed that runner, it kills no batch. */
    PGresult *r = db_query(NULL, "queue_claim",
                           "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker_id = $2, "
                           "run_alone = run_alone OR status = 'running', started_at = now(), "
                           "lease_until = now() + make_interval(secs => $3::float8 / 1000), updated_at = now() "
                           "WHERE id = ANY($1::bigint[]) AND attempts < max_attempts AND NOT cancel_requested "
                           "AND ((status = 'queued' AND run_after <= now() AND (NOT run_alone OR $4::bool)) "
                           "OR (status = 'running' AND lease_until < now() AND $4::bool)) "
                           "RETURNING id, coalesce(tenant_id, 0), coalesce(user_id, 0), type, params::text, attempts, "
                           "max_attempts, extract(epoch FROM now() - CASE WHEN attempts = 1 THEN created_at "
                           "ELSE run_after END) * 1000",
                           4, p);
    free(arr);
    if (!r)
        return -1;
    int k = 0;
    for (int i = 0; i < PQntuples(r) && k < n; i++) {
        queue_job *j = &out[k];
        memset(j, 0, sizeof *j);
        j->id = atoll(PQgetvalue(r, i, 0));
        j->tenant_id = atoll(PQgetvalue(r, i, 1));
        j->user_id = atoll(PQgetvalue(r, i, 2));
        snprintf(j->type, sizeof j->type, "%s", PQgetvalue(r, i, 3));
        j->params = strdup(PQgetvalue(r, i, 4));
        j->attempt = atoi(PQgetvalue(r, i, 5));
        j->max_attempts = atoi(PQgetvalue(r, i, 6));
        j->pickup_ms = atof(PQgetvalue(r, i, 7));
        if (!j->params) {
            /* claimed but unusable here: its lease runs out and it is reclaimed */
            log_error("queue: out of memory holding job %lld", j->id);
            continue;
        }
        k++;
    }
    PQclear(r);
    qsort(out, (size_t)k, sizeof *out, by_id);
    return k;
}

void queue_jobs_free(queue_job *jobs, int n)
{
    for (int i = 0; i < n; i++) {
        free(jobs[i].params);
        jobs[i].params = NULL;
    }
}

/* The fencing parameters every runner write carries: id, worker, attempt. */
typedef struct fence {
    char id[24], attempt[16];
} fence;

static void fence_of(const queue_job *j, fence *f)
{
    snprintf(f->id, sizeof f->id, "%lld", j->id);
    snprintf(f->attempt, sizeof f->attempt, "%d", j->attempt);
}

int queue_progress(const queue_job *j, const char *worker_id, double fraction)
{
    fence f;
    fence_of(j, &f);
    char frac[32], vis[24];
    if (!(fraction >= 0))
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    snprintf(frac, sizeof frac, "%.4f", fraction);
    snprintf(vis, sizeof vis, "%ld", config_int("queue.visibility_ms"));
    const char *p[] = {f.id, worker_id, f.attempt, frac, vis};
    PGresult *r = db_query(NULL, "queue_progress",
                           "UPDATE jobs SET progress = $4::real, lease_until = now() + make_interval(secs => "
                           "$5::float8 / 1000), updated_at = now() WHERE id = $1::bigint AND worker_id = $2 "
                           "AND attempts = $3::int AND status = 'running' RETURNING cancel_requested",
                           5, p);
    if (!r)
        return -1;
    int rc = PQntuples(r) != 1 ? 2 : !strcmp(PQgetvalue(r, 0, 0), "t") ? 1 : 0;
    PQclear(r);
    return rc;
}

int queue_finish_done(const queue_job *const *jobs, const char *const *results, int n, const char *worker_id)
{
    if (n <= 0)
        return 0;
    /* jsonb_to_recordset input: [{"id":1,"a":1,"r":{...}}, ...]; results were checked as JSON by
     * the caller, a NULL one stores NULL */
    buf b = {0};
    buf_putc(&b, '[');
    for (int i = 0; i < n; i++)
        buf_printf(&b, "%s{\"id\":%lld,\"a\":%d,\"r\":%s}", i ? "," : "", jobs[i]->id, jobs[i]->attempt,
                   results[i] ? results[i] : "null");
    buf_putc(&b, ']');
    if (b.oom) {
        buf_free(&b);
        return -1;
    }
    const char *p[] = {b.data, worker_id};
    long rows = db_exec(NULL, "queue_done",
                        "UPDATE jobs j SET status = 'done', progress = 1, result = x.r, error = NULL, "
                        "finished_at = now(), lease_until = NULL, updated_at = now() "
                        "FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, a int, r jsonb) "
                        "WHERE j.id = x.id AND j.attempts = x.a AND j.worker_id = $2 AND j.status = 'running'",
                        2, p);
    buf_free(&b);
    return rows < 0 ? -1 : (int)rows;
}

int queue_finish_retry(const queue_job *j, const char *worker_id, const char *error)
{
    fence f;
    fence_of(j, &f);
    char delay[24];
    snprintf(delay, sizeof delay, "%ld",
             queue_backoff_ms(j->attempt, config_int("queue.backoff_base_ms"), config_int("queue.backoff_max_ms"),
                              rand01()));
    const char *p[] = {f.id, worker_id, f.attempt, delay, error ? error : "error"};
    PGresult *r = db_query(NULL, "queue_retry_later",
                           "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, "
                           "run_after = now() + make_interval(secs => $4::float8 / 1000), error = $5, "
                           "lease_until = NULL, enqueued_at = NULL, finished_at = CASE WHEN attempts >= max_attempts "
                           "THEN now() END, updated_at = now() WHERE id = $1::bigint AND worker_id = $2 "
                           "AND attempts = $3::int AND status = 'running' RETURNING status",
                           5, p);
    if (!r)
        return -1;
    int rc = PQntuples(r) != 1 ? 0 : !strcmp(PQgetvalue(r, 0, 0), "dead") ? 2 : 1;
    PQclear(r);
    return rc;
}

static int finish_as(const queue_job *j, const char *worker_id, const char *status, const char *error)
{
    fence f;
    fence_of(j, &f);
    const char *p[] = {f.id, worker_id, f.attempt, status, error};
    long rows = db_exec(NULL, "queue_finish",
                        "UPDATE jobs SET status = $4, error = coalesce($5, error), lease_until = NULL, "
                        "finished_at = now(), updated_at = now() WHERE id = $1::bigint AND worker_id = $2 "
                        "AND attempts = $3::int AND status = 'running'",
                        5, p);
    return rows < 0 ? -1 : rows > 0;
}

int queue_finish_failed(const queue_job *j, const char *worker_id, const char *error)
{
    return finish_as(j, worker_id, "failed", error ? error : "failed");
}

int queue_finish_cancelled(const queue_job *j, const char *worker_id)
{
    return finish_as(j, worker_id, "cancelled", NULL);
}

int queue_release(const queue_job *const *jobs, int n, const char *worker_id)
{
    if (n <= 0)
        return 0;
    buf b = {0};
    buf_putc(&b, '[');
    for (int i = 0; i < n; i++)
        buf_printf(&b, "%s{\"id\":%lld,\"a\":%d}", i ? "," : "", jobs[i]->id, jobs[i]->attempt);
    buf_putc(&b, ']');
    if (b.oom) {
        buf_free(&b);
        return -1;
    }
    const char *p[] = {b.data, worker_id};
    /* the attempt is given back: the job did not fail, its runner stepped aside */
    PGresult *r = db_query(NULL, "queue_release",
                           "UPDATE jobs j SET status = 'queued', attempts = j.attempts - 1, run_after = now(), "
                           "progress = 0, lease_until = NULL, enqueued_at = now(), updated_at = now() "
                           "FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, a int) WHERE j.id = x.id "
                           "AND j.attempts = x.a AND j.worker_id = $2 AND j.status = 'running' RETURNING j.id",
                           2, p);
    buf_free(&b);
    if (!r)
        return -1;
    int k = PQntuples(r);
    long long *ids = malloc((size_t)(k ? k : 1) * sizeof *ids);
    for (int i = 0; ids && i < k; i++)
        ids[i] = atoll(PQgetvalue(r, i, 0));
    PQclear(r);
    /* straight back on the stream, so another worker takes them now */
    if (ids && k)
        queue_send(ids, k);
    free(ids);
    return k;
}

int queue_sweep_leases(void)
{
    char base[24], max[24];
    snprintf(base, sizeof base, "%ld", config_int("queue.backoff_base_ms"));
    snprintf(max, sizeof max, "%ld", config_int("queue.backoff_max_ms"));
    const char *p[] = {base, max};
    /* SKIP LOCKED: several workers sweep at once without waiting on (or doubling) each other.
     * The backoff is queue_backoff_ms()'s formula with random() as the jitter. */
    PGresult *r = db_query(NULL, "queue_sweep_leases",
                           "WITH due AS (SELECT id FROM jobs WHERE status = 'running' AND lease_until < now() "
                           "ORDER BY lease_until LIMIT 500 FOR UPDATE SKIP LOCKED) "
                           "UPDATE jobs j SET status = CASE WHEN j.cancel_requested THEN 'cancelled' "
                           "WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'queued' END, "
                           "error = CASE WHEN j.cancel_requested THEN j.error ELSE 'runner lost: lease expired during "
                           "attempt ' || j.attempts || ' on ' || coalesce(j.worker_id, '?') END, "
                           "run_after = now() + make_interval(secs => least($2::float8, $1::float8 * "
                           "power(2, greatest(j.attempts, 1) - 1)) * (0.5 + random() * 0.5) / 1000), "
                           "lease_until = NULL, enqueued_at = NULL, run_alone = true, finished_at = CASE WHEN "
                           "j.cancel_requested OR j.attempts >= j.max_attempts THEN now() END, updated_at = now() "
                           "FROM due WHERE j.id = due.id RETURNING j.id, j.status, j.attempts",
                           2, p);
    if (!r)
        return -1;
    int n = PQntuples(r);
    for (int i = 0; i < n; i++)
        log_warn("job %s: runner lost (lease expired) on attempt %s; now %s", PQgetvalue(r, i, 0),
                 PQgetvalue(r, i, 2), PQgetvalue(r, i, 1));
    PQclear(r);
    return n;
}

int queue_sweep_resend(long resend_ms, int all)
{
    char age[24], cutoff[64] = "";
    snprintf(age, sizeof age, "%ld", resend_ms);
    if (all) {
        /* "all" means all sent before now: a fixed cutoff, or the rows this pass sends would
         * qualify again on the next page */
        PGresult *t = db_query(NULL, NULL, "SELECT now()::text", 0, NULL);
        if (!t)
            return -1;
        snprintf(cutoff, sizeof cutoff, "%s", PQgetvalue(t, 0, 0));
        PQclear(t);
    }
    const char *p[] = {age, all ? cutoff : NULL};
    int total = 0;
    for (;;) {
        PGresult *r = db_query(NULL, "queue_sweep_resend",
                               "UPDATE jobs SET enqueued_at = now() WHERE id IN (SELECT id FROM jobs "
                               "WHERE status = 'queued' AND run_after <= now() AND (enqueued_at IS NULL OR "
                               "enqueued_at <= coalesce($2::timestamptz, now() - make_interval(secs => $1::float8 / 1000))) "
                               "ORDER BY run_after, id LIMIT 1000 FOR UPDATE SKIP LOCKED) RETURNING id",
                               2, p);
        if (!r)
            return total ? total : -1;
        int n = PQntuples(r);
        long long *ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
        for (int i = 0; ids && i < n; i++)
            ids[i] = atoll(PQgetvalue(r, i, 0));
        PQclear(r);
        int sent = ids && n ? queue_send(ids, n) : 0;
        free(ids);
        if (sent < 0)
            return total ? total : -1;
        total += n;
        /* a full page means more may be waiting: all goes on, a regular pass leaves them to the next */
        if (n < 1000 || !all)
            break;
    }
    return total;
}
