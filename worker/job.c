/* job.c — the calls a handler makes while it runs: progress (throttled, lease-extending, the
 * channel through which cancel, a lost lease and shutdown reach it), result and error. */
#include "job.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "queue_consumer.h"
#include "worker.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int job_progress(job_ctx *j, double fraction)
{
    if (j->stop)
        return j->stop;
    if (worker_grace_over) {
        j->stop = JOB_STOP_SHUTDOWN;
        return j->stop;
    }
    double now = now_s();
    if (j->last_write > 0 && (now - j->last_write) * 1000.0 < (double)config_int("queue.progress_ms"))
        return 0;
    j->last_write = now;
    /* jobs of the same batch that finished before this one must not wait for it */
    consumer_flush();
    int rc = queue_progress(j->job, worker_id, fraction);
    /* a failed write changes nothing: the lease runs on and the next report tries again */
    if (rc == 1)
        j->stop = JOB_STOP_CANCEL;
    else if (rc == 2)
        j->stop = JOB_STOP_LOST;
    worker_heartbeat(0);
    return j->stop;
}

int job_set_result_json(job_ctx *j, json_t *result)
{
    char *s = result ? json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(result);
    if (!s)
        return -1;
    free(j->result);
    j->result = s;
    return 0;
}

int job_set_result(job_ctx *j, const char *json)
{
    json_error_t e;
    json_t *v = json ? json_loads(json, JSON_DECODE_ANY, &e) : NULL;
    if (!v)
        return -1;
    /* stored as compact text re-encoded by jansson: what reaches jsonb is always valid */
    return job_set_result_json(j, v);
}

void job_error(job_ctx *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->error, sizeof j->error, fmt, ap);
    va_end(ap);
}

PGresult *job_load_row(job_ctx *j, const char *key, const char *what, const char *stmt, const char *sql, char *id,
                       size_t idlen, int *outcome)
{
    json_t *v = json_object_get(j->params, key);
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        job_error(j, "params.%s: a positive integer is required", key);
        *outcome = JOB_FAIL;
        return NULL;
    }
    char tenant[24];
    snprintf(id, idlen, "%lld", (long long)json_integer_value(v));
    snprintf(tenant, sizeof tenant, "%lld", j->job->tenant_id);
    const char *p[] = {id, tenant};
    PGresult *r = db_query(NULL, stmt, sql, 2, p);
    if (!r) {
        job_error(j, "database unavailable");
        *outcome = JOB_RETRY;
        return NULL;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        job_error(j, "%s %s does not exist (deleted?)", what, id);
        *outcome = JOB_FAIL;
        return NULL;
    }
    return r;
}
