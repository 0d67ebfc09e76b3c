/* bots_job.c — the bots' jobs: "bot_tick" runs one tick of a bot (lib/bots.c) and
 * "bot_cancel_orders" cancels a stopped live bot's open orders on its exchange. */
#include "bots.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "handlers.h"
#include <stdio.h>

static long long bots_job_id(job_ctx *j)
{
    json_t *v = json_object_get(j->params, "bot_id");
    return json_is_integer(v) && json_integer_value(v) > 0 ? (long long)json_integer_value(v) : 0;
}

int job_bot_tick(job_ctx *j)
{
    long long id = bots_job_id(j);
    if (!id) {
        job_error(j, "params.bot_id: a positive integer is required");
        return JOB_FAIL;
    }
    json_t *result = NULL;
    char err[256] = "";
    int rc = bots_tick(id, j->job->tenant_id, &result, err, sizeof err);
    if (rc == BOTS_TICK_OK) {
        job_set_result_json(j, result);
        return JOB_OK;
    }
    job_error(j, "%s", err);
    return rc == BOTS_TICK_RETRY ? JOB_RETRY : JOB_FAIL;
}

int job_bot_cancel_orders(job_ctx *j)
{
    long long id = bots_job_id(j);
    if (!id) {
        job_error(j, "params.bot_id: a positive integer is required");
        return JOB_FAIL;
    }
    char err[256] = "";
    if (bots_cancel_orders(id, err, sizeof err) != 0) {
        job_error(j, "%s", err);
        return JOB_RETRY;
    }
    return JOB_OK;
}

void bots_scheduler_tick(void)
{
    static double last;
    double now = now_s();
    if ((now - last) * 1000.0 < (double)config_int("bots.schedule_poll_ms"))
        return;
    last = now;
    int n = bots_schedule_due();
    if (n > 0)
        log_info("scheduler queued %d bot tick(s)", n);
}
