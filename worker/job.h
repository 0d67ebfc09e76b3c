/* job.h — what a job handler sees and may call: the job's id, tenant, params and attempt,
 * progress reports (which also keep its lease and tell it to stop), its result and its error. */
#ifndef BCF_JOB_H
#define BCF_JOB_H
#include <jansson.h>
#include "queue.h"

/* A handler returns one of these. */
enum job_outcome {
    JOB_OK = 0,      /* done; the result (job_set_result) is stored */
    JOB_RETRY = 1,   /* a transient error: retried after a backoff, dead after max_attempts */
    JOB_FAIL = 2,    /* a permanent error (bad params...): 'failed' at once, no retry */
    JOB_STOPPED = 3, /* it stopped because job_progress returned nonzero */
};

/* Why job_progress asked the handler to stop. */
enum job_stop { JOB_STOP_NONE = 0, JOB_STOP_CANCEL, JOB_STOP_LOST, JOB_STOP_SHUTDOWN };

typedef struct job_ctx {
    const queue_job *job; /* id, tenant_id, user_id, type, params (text), attempt, max_attempts */
    json_t *params;       /* the params object, parsed (borrowed: do not decref) */
    char *result;         /* JSON text set by job_set_result (malloc'd) */
    char error[512];      /* set by job_error; stored with JOB_RETRY / JOB_FAIL */
    int stop;             /* enum job_stop, once job_progress returned nonzero */
    double last_write;    /* monotonic seconds of the last progress write */
} job_ctx;

typedef int (*job_handler_fn)(job_ctx *j);

/* Reports progress (0..1). Written at most every queue.progress_ms (and always at the first
 * call), each write extending the lease by queue.visibility_ms. Returns nonzero when the
 * handler must stop and return JOB_STOPPED: cancel requested, the job was reclaimed (lease
 * lost), or the worker is shutting down past its grace. A long handler calls it often; one
 * that never does cannot be cancelled and loses its lease after queue.visibility_ms. */
int job_progress(job_ctx *j, double fraction);
/* The result: JSON text (copied) or a json_t (stolen). -1 when it is not valid JSON. */
int job_set_result(job_ctx *j, const char *json);
int job_set_result_json(job_ctx *j, json_t *result);
/* The row a job works on: params[key] must be a positive integer (its text goes to id), and sql
 * is run with $1 = that id and $2 = the job's tenant under the prepared name stmt. Returns the
 * result when it has exactly one row (PQclear it), else NULL with the error recorded and
 * *outcome set: JOB_FAIL for a bad param or no such row ("<what> <id> does not exist"),
 * JOB_RETRY when the database is unavailable. */
struct pg_result *job_load_row(job_ctx *j, const char *key, const char *what, const char *stmt, const char *sql,
                               char *id, size_t idlen, int *outcome);
/* The error message kept with the job when the handler returns JOB_RETRY or JOB_FAIL. */
void job_error(job_ctx *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
