/* handlers.c — the job type registry (JOB_HANDLERS in handlers.h) and the built-in types: noop,
 * and the test types sleep, fail and crash that exist only with app.env test or development. */
#include "handlers.h"
#include "config.h"
#include "log.h"
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define JOB_HANDLER_ENTRY(type, fn, dev_only) {type, fn, dev_only},
static const job_handler handlers[] = {JOB_HANDLERS(JOB_HANDLER_ENTRY)};
#undef JOB_HANDLER_ENTRY

const job_handler *handler_find(const char *type)
{
    const char *env = config_get("app.env");
    int dev = env && (!strcmp(env, "test") || !strcmp(env, "development"));
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (!strcmp(handlers[i].type, type))
            return handlers[i].dev_only && !dev ? NULL : &handlers[i];
    return NULL;
}

/* Proves the path from enqueue to done; "workers are alive" from the jobs page. */
int job_noop(job_ctx *j)
{
    return job_set_result(j, "{\"ok\":true}") == 0 ? JOB_OK : JOB_FAIL;
}

/* {"ms": N} (0..600000): sleeps in slices, reporting progress between them, so it can be
 * cancelled, reclaimed or shut down while it runs. */
int job_sleep(job_ctx *j)
{
    json_t *ms = json_object_get(j->params, "ms");
    if (!json_is_integer(ms) || json_integer_value(ms) < 0 || json_integer_value(ms) > 600000) {
        job_error(j, "params.ms must be an integer from 0 to 600000");
        return JOB_FAIL;
    }
    long total = (long)json_integer_value(ms), slept = 0;
    while (slept < total) {
        if (job_progress(j, (double)slept / (double)total))
            return JOB_STOPPED;
        long step = total - slept < 20 ? total - slept : 20;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        slept += step;
    }
    json_t *r = json_pack("{s:I, s:i}", "slept_ms", (json_int_t)total, "attempt", j->job->attempt);
    return job_set_result_json(j, r) == 0 ? JOB_OK : JOB_FAIL;
}

/* Always a transient error: shows retries, backoff and the dead-letter state. */
int job_fail(job_ctx *j)
{
    json_t *m = json_object_get(j->params, "message");
    job_error(j, "%s (attempt %d of %d)", json_is_string(m) ? json_string_value(m) : "fail job failed as asked",
              j->job->attempt, j->job->max_attempts);
    return JOB_RETRY;
}

/* A poison job: kills its worker, as a handler bug would. No core file is written. */
int job_crash(job_ctx *j)
{
    log_warn("job %lld (crash): aborting the worker as asked", j->job->id);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    abort();
}
