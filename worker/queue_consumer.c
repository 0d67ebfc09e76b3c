/* queue_consumer.c — the worker's side of the stream: XREADGROUP batches and XAUTOCLAIM of
 * stalled entries; ids claimed in one UPDATE; each job run through its handler; outcomes
 * written (done ones batched) before the entries are acknowledged. */
#include "queue_consumer.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "kv.h"
#include "log.h"
#include "queue.h"
#include "worker.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDS_PER_ENTRY 64

static int group_ready;
static char autoclaim_cursor[64] = "0-0";

/* Done outcomes waiting for one UPDATE: flushed at the end of a batch, before a slow job's
 * progress write, and before anything is given back. */
static struct {
    const queue_job **jobs;
    char **results;
    int n, cap;
} pending;

static const char *stream(void)
{
    return config_get("queue.stream");
}

static const char *group(void)
{
    return config_get("queue.group");
}

int consumer_ready(void)
{
    if (group_ready)
        return 1;
    /* from 0, not $: ids sent before the group existed must still be read */
    redisReply *r = kv_cmd(NULL, "XGROUP CREATE %s %s 0 MKSTREAM", stream(), group());
    if (!r)
        return 0;
    int created = r->type != REDIS_REPLY_ERROR;
    group_ready = created || (r->str && strstr(r->str, "BUSYGROUP") != NULL);
    freeReplyObject(r);
    if (created) {
        /* a new stream: Redis is new, or was flushed or restarted empty. PostgreSQL knows what
         * is queued; send it all now rather than after queue.resend_ms */
        int n = queue_sweep_resend(0, 1);
        log_info("consumer group %s created on %s; %d queued job(s) sent again", group(), stream(), n < 0 ? 0 : n);
    }
    return group_ready;
}

void consumer_reset(void)
{
    group_ready = 0;
}

/* Writes the pending done outcomes. 0, or -1 when PostgreSQL refused (they stay running and
 * their leases run out: at-least-once). */
int consumer_flush(void)
{
    if (!pending.n)
        return 0;
    int rows = queue_finish_done(pending.jobs, (const char *const *)pending.results, pending.n, worker_id);
    int rc = 0;
    if (rows < 0) {
        log_warn("%d done outcome(s) not written: %s; their leases will run out and they run again", pending.n,
                 db_error());
        rc = -1;
    } else {
        for (int i = 0; i < pending.n; i++)
            worker_count(pending.jobs[i]->type, WO_DONE);
        if (rows < pending.n)
            log_warn("%d of %d finished job(s) were no longer ours (reclaimed): outcome discarded", pending.n - rows,
                     pending.n);
    }
    for (int i = 0; i < pending.n; i++)
        free(pending.results[i]);
    pending.n = 0;
    return rc;
}

static void pending_add(const queue_job *j, char *result)
{
    if (pending.n == pending.cap) {
        int cap = pending.cap ? pending.cap * 2 : 64;
        const queue_job **nj = realloc(pending.jobs, (size_t)cap * sizeof *nj);
        if (nj)
            pending.jobs = nj;
        char **nr = realloc(pending.results, (size_t)cap * sizeof *nr);
        if (nr)
            pending.results = nr;
        if (!nj || !nr) {
            /* cannot hold it: written alone */
            const char *one[] = {result};
            queue_finish_done(&j, one, 1, worker_id);
            free(result);
            return;
        }
        pending.cap = cap;
    }
    pending.jobs[pending.n] = j;
    pending.results[pending.n++] = result;
}

static void give_back(const queue_job *jobs, int n)
{
    if (n <= 0)
        return;
    consumer_flush();
    const queue_job **list = malloc((size_t)n * sizeof *list);
    if (!list)
        return; /* their leases run out instead */
    for (int i = 0; i < n; i++)
        list[i] = &jobs[i];
    int k = queue_release(list, n, worker_id);
    for (int i = 0; i < n; i++)
        worker_count(jobs[i].type, WO_RELEASED);
    if (k > 0)
        log_info("gave %d job(s) back to the queue", k);
    free(list);
}

/* Runs one claimed job through its handler and records what happened (done ones go to the
 * pending batch). Returns the handler's wall time in ms. */
static double run_job(const queue_job *qj)
{
    double t0 = now_s();
    worker_set_current(qj->id);
    worker_pickup(qj->pickup_ms);
    job_ctx j;
    memset(&j, 0, sizeof j);
    j.job = qj;
    j.last_write = t0; /* the first progress write comes queue.progress_ms into the job */
    const job_handler *h = handler_find(qj->type);
    int outcome;
    if (!h) {
        job_error(&j, "unknown job type");
        outcome = JOB_FAIL;
    } else {
        json_error_t e;
        j.params = json_loads(qj->params, 0, &e);
        if (!json_is_object(j.params)) {
            job_error(&j, "params are not a JSON object");
            outcome = JOB_FAIL;
        } else {
            outcome = h->fn(&j);
        }
    }
    double ms = (now_s() - t0) * 1000.0;
    int rc;
    switch (outcome) {
    case JOB_OK:
        pending_add(qj, j.result);
        j.result = NULL;
        log_info("job %lld (%s) done in %.1f ms, attempt %d, picked up after %.1f ms", qj->id, qj->type, ms,
                 qj->attempt, qj->pickup_ms);
        break;
    case JOB_RETRY:
        rc = queue_finish_retry(qj, worker_id, j.error[0] ? j.error : "error");
        worker_count(qj->type, rc == 2 ? WO_DEAD : rc == 1 ? WO_RETRIED : WO_LOST);
        log_fmt(rc == 2 ? LOG_WARN : LOG_INFO, "job %lld (%s) attempt %d/%d failed: %s%s", qj->id, qj->type,
                qj->attempt, qj->max_attempts, j.error, rc == 2 ? " — dead" : rc == 1 ? " — will retry" : "");
        break;
    case JOB_STOPPED:
        if (j.stop == JOB_STOP_CANCEL) {
            rc = queue_finish_cancelled(qj, worker_id);
            worker_count(qj->type, rc == 1 ? WO_CANCELLED : WO_LOST);
            log_info("job %lld (%s) cancelled while running", qj->id, qj->type);
        } else if (j.stop == JOB_STOP_SHUTDOWN) {
            give_back(qj, 1);
            log_info("job %lld (%s) given back: shutdown grace over", qj->id, qj->type);
        } else if (j.stop == JOB_STOP_LOST) {
            worker_count(qj->type, WO_LOST);
            log_warn("job %lld (%s) stopped: it was reclaimed after its lease ran out", qj->id, qj->type);
        } else {
            rc = queue_finish_retry(qj, worker_id, "handler stopped without being asked");
            worker_count(qj->type, rc == 2 ? WO_DEAD : WO_RETRIED);
        }
        break;
    default:
        rc = queue_finish_failed(qj, worker_id, j.error[0] ? j.error : "failed");
        worker_count(qj->type, rc == 1 ? WO_FAILED : WO_LOST);
        log_warn("job %lld has failed for good: %s", qj->id, j.error[0] ? j.error : "failed");
        break;
    }
    free(j.result);
    json_decref(j.params);
    worker_set_current(0);
    return ms;
}

/* Job ids of a stream entry: "ids" = "1,2,3" (queue_send) or "id" = "1" (older producers). */
static int entry_ids(const redisReply *fields, long long *out, int cap)
{
    int n = 0;
    if (!fields || fields->type != REDIS_REPLY_ARRAY)
        return 0;
    for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        const redisReply *k = fields->element[f], *v = fields->element[f + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(k->str, "ids") && strcmp(k->str, "id"))
            continue;
        for (const char *p = v->str; *p && n < cap;) {
            char *end;
            long long id = strtoll(p, &end, 10);
            if (end == p)
                break;
            if (id > 0)
                out[n++] = id;
            p = *end == ',' ? end + 1 : end;
        }
    }
    return n;
}

/* Claims one id alone and runs it at once. Returns 1 when it ran, 0 when it was not claimable
 * (done, taken, not due), -1 when the claim failed. */
static int run_alone(long long id)
{
    queue_job j;
    int k = queue_claim(&id, 1, worker_id, 1, &j);
    if (k <= 0)
        return k;
    run_job(&j);
    int rc = consumer_flush();
    queue_jobs_free(&j, 1);
    return rc < 0 ? -1 : 1;
}

static int in_claimed(const queue_job *jobs, int n, long long id)
{
    for (int i = 0; i < n; i++)
        if (jobs[i].id == id)
            return 1;
    return 0;
}

/* Claims and runs the jobs of an array of stream entries, then acknowledges the entries. The
 * batch is claimed in one UPDATE; what it did not take (a job that once lost its runner, a
 * reclaim after an expired lease — or, mostly, a duplicate id of a finished job) is claimed
 * one by one afterwards, each right before it runs. */
static int run_entries(const redisReply *entries)
{
    if (!entries || entries->type != REDIS_REPLY_ARRAY || entries->elements == 0)
        return 0;
    size_t ne = entries->elements;
    long long *ids = malloc(ne * MAX_IDS_PER_ENTRY * sizeof *ids);
    const char **ack = malloc((ne + 3) * sizeof *ack);
    queue_job *jobs = NULL;
    int nids = 0, nack = 3, ran = 0, claimed = 0, failed = 0;
    if (!ids || !ack)
        goto out;
    ack[0] = "XACK";
    ack[1] = stream();
    ack[2] = group();
    for (size_t i = 0; i < ne; i++) {
        const redisReply *m = entries->element[i];
        if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 || m->element[0]->type != REDIS_REPLY_STRING)
            continue;
        ack[nack++] = m->element[0]->str;
        nids += entry_ids(m->element[1], ids + nids, MAX_IDS_PER_ENTRY);
    }
    if (nids) {
        jobs = calloc((size_t)nids, sizeof *jobs);
        if (!jobs)
            goto out;
        claimed = queue_claim(ids, nids, worker_id, nids == 1, jobs);
        if (claimed < 0) {
            /* not acknowledged: XAUTOCLAIM delivers them again after queue.visibility_ms */
            log_warn("claim of %d job(s) failed: %s", nids, db_error());
            claimed = 0;
            goto out;
        }
    }
    long hold = config_int("queue.hold_ms");
    int gave_back = 0;
    for (int i = 0; i < claimed; i++) {
        if (worker_stopping) {
            give_back(jobs + i, claimed - i);
            gave_back = 1;
            break;
        }
        double ms = run_job(&jobs[i]);
        ran++;
        /* a slow job: the rest of the batch has waited long enough; others may take it now */
        if (ms > (double)hold && i + 1 < claimed) {
            give_back(jobs + i + 1, claimed - i - 1);
            gave_back = 1;
            break;
        }
    }
    if (consumer_flush() < 0)
        failed = 1;
    for (int i = 0; nids > 1 && !gave_back && !failed && i < nids; i++) {
        if (worker_stopping)
            break; /* the sweeper re-sends them: they are still queued */
        if (in_claimed(jobs, claimed, ids[i]) || (i > 0 && ids[i] == ids[i - 1]))
            continue;
        int rc = run_alone(ids[i]);
        if (rc < 0)
            failed = 1;
        else
            ran += rc;
    }
    if (!failed) {
        redisReply *r = kv_cmdv(NULL, nack, ack, NULL);
        if (r)
            freeReplyObject(r);
    }
out:
    /* pending outcomes point into jobs: flushed above before this */
    queue_jobs_free(jobs, claimed);
    free(jobs);
    free(ids);
    free(ack);
    return ran;
}

static int redis_failed(redisReply *r)
{
    if (!r) {
        consumer_reset();
        return 1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        if (r->str && strstr(r->str, "NOGROUP"))
            consumer_reset();
        else
            log_warn("queue: redis error: %s", r->str);
        freeReplyObject(r);
        return 1;
    }
    return 0;
}

int consumer_poll(long block_ms)
{
    if (!consumer_ready())
        return -1;
    char count[24], block[24];
    snprintf(count, sizeof count, "%ld", config_int("queue.batch"));
    snprintf(block, sizeof block, "%ld", block_ms > 0 ? block_ms : 1);
    const char *argv[] = {"XREADGROUP", "GROUP", group(), worker_id, "COUNT", count, "BLOCK", block, "STREAMS",
                          stream(), ">"};
    /* the socket may wait the block plus Redis's timer resolution plus the usual timeout */
    redisReply *r = kv_cmdv_timeout(NULL, block_ms + 250 + config_int("redis.timeout_ms"), 11, argv, NULL);
    if (redis_failed(r))
        return -1;
    int ran = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
        r->element[0]->elements == 2)
        ran = run_entries(r->element[0]->element[1]);
    freeReplyObject(r);
    return ran;
}

int consumer_autoclaim(void)
{
    if (!consumer_ready())
        return -1;
    char idle[24], count[24];
    snprintf(idle, sizeof idle, "%ld", config_int("queue.visibility_ms"));
    snprintf(count, sizeof count, "%ld", config_int("queue.batch"));
    const char *argv[] = {"XAUTOCLAIM", stream(), group(), worker_id, idle, autoclaim_cursor, "COUNT", count};
    redisReply *r = kv_cmdv(NULL, 8, argv, NULL);
    if (redis_failed(r))
        return -1;
    int ran = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
        if (r->element[0]->type == REDIS_REPLY_STRING)
            snprintf(autoclaim_cursor, sizeof autoclaim_cursor, "%s", r->element[0]->str);
        const redisReply *entries = r->element[1];
        if (entries->type == REDIS_REPLY_ARRAY && entries->elements) {
            log_info("took over %zu stalled stream entr%s", entries->elements, entries->elements == 1 ? "y" : "ies");
            ran = run_entries(entries);
        }
    }
    freeReplyObject(r);
    return ran;
}

void consumer_drop_idle(void)
{
    redisReply *r = kv_cmd(NULL, "XINFO CONSUMERS %s %s", stream(), group());
    if (!r)
        return;
    long long drop_ms = (long long)config_int("queue.consumer_drop_s") * 1000;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *c = r->element[i];
        const char *name = NULL;
        long long pend = -1, idle = -1;
        for (size_t k = 0; c->type == REDIS_REPLY_ARRAY && k + 1 < c->elements; k += 2) {
            const redisReply *key = c->element[k], *val = c->element[k + 1];
            if (key->type != REDIS_REPLY_STRING)
                continue;
            if (!strcmp(key->str, "name") && val->type == REDIS_REPLY_STRING)
                name = val->str;
            else if (!strcmp(key->str, "pending") && val->type == REDIS_REPLY_INTEGER)
                pend = val->integer;
            else if (!strcmp(key->str, "idle") && val->type == REDIS_REPLY_INTEGER)
                idle = val->integer;
        }
        if (name && strcmp(name, worker_id) && pend == 0 && idle > drop_ms) {
            redisReply *d = kv_cmd(NULL, "XGROUP DELCONSUMER %s %s %s", stream(), group(), name);
            if (d)
                freeReplyObject(d);
            log_info("removed idle consumer %s from group %s", name, group());
        }
    }
    freeReplyObject(r);
}
