/* main.c — botcriptofy-worker: consumes job ids from the Redis stream (consumer group), runs
 * each job recorded in PostgreSQL, delivers queued e-mail and heartbeats. Real job types arrive with the trading engine. */
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "mail.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "autoconfig.h"

static volatile sig_atomic_t stopping;
static char worker_id[128];
static const char *backend = "cpu";

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

static void heartbeat(long long jobs_done)
{
    char done[24];
    snprintf(done, sizeof done, "%lld", jobs_done);
    const char *p[] = {worker_id, backend, done};
    db_exec(NULL, "worker_heartbeat",
            "INSERT INTO worker_heartbeats (worker_id, backend, started_at, seen_at, jobs_done) "
            "VALUES ($1, $2, now(), now(), $3::bigint) "
            "ON CONFLICT (worker_id) DO UPDATE SET seen_at = now(), backend = $2, jobs_done = $3::bigint",
            3, p);
    redisReply *r = kv_cmd(NULL, "SET worker:hb:%s %lld EX %ld", worker_id, (long long)time(NULL),
                           config_int("worker.stale_s"));
    if (r)
        freeReplyObject(r);
}

/* PostgreSQL is the truth: queued jobs whose stream entry was never written or was lost with
 * Redis are sent again. A duplicate is harmless because claiming a job is idempotent. */
static void sweep(const char *stream)
{
    PGresult *r = db_query(NULL, "job_sweep",
                           "UPDATE jobs SET enqueued_at = now() WHERE id IN (SELECT id FROM jobs "
                           "WHERE status = 'queued' AND coalesce(enqueued_at, created_at) < now() - interval '10 seconds' "
                           "ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED) RETURNING id",
                           0, NULL);
    if (!r)
        return;
    for (int i = 0; i < PQntuples(r); i++) {
        redisReply *x = kv_cmd(NULL, "XADD %s MAXLEN ~ 100000 * id %s", stream, PQgetvalue(r, i, 0));
        if (!x)
            break;
        freeReplyObject(x);
    }
    if (PQntuples(r))
        log_info("sweeper re-sent %d queued jobs", PQntuples(r));
    PQclear(r);
}

/* Runs one job by id; returns 1 when it was ours to run. Idempotent: a job that is no longer
 * queued (already done, or taken by another worker) is skipped. */
static int run_job(const char *id)
{
    const char *p[] = {id, worker_id};
    PGresult *r = db_query(NULL, "job_claim",
                           "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = now(), "
                           "worker_id = $2 WHERE id = $1::bigint AND status = 'queued' RETURNING type",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return 0;
    }
    char type[64];
    snprintf(type, sizeof type, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!strcmp(type, "noop")) {
        db_exec(NULL, "job_done",
                "UPDATE jobs SET status = 'done', progress = 1, result = '{\"ok\":true}', finished_at = now() "
                "WHERE id = $1::bigint",
                1, p);
        log_info("job %s (noop) done", id);
    } else {
        db_exec(NULL, "job_unknown",
                "UPDATE jobs SET status = 'failed', error = 'unknown job type', finished_at = now() WHERE id = $1::bigint",
                1, p);
        log_warn("job %s has unknown type %s", id, type);
    }
    return 1;
}

/* E-mail lives in PostgreSQL, so it is delivered every mail.poll_ms even while Redis is down. */
static void mail_tick(double *last)
{
    static int was_down;
    double now = now_s();
    if ((now - *last) * 1000.0 < (double)config_int("mail.poll_ms"))
        return;
    *last = now;
    int down = mail_deliver_due(50) < 0;
    if (down != was_down)
        log_fmt(down ? LOG_WARN : LOG_INFO, "mail delivery %s", down ? "paused: database unavailable" : "resumed");
    was_down = down;
}

int main(int argc, char **argv)
{
    const char *cfg = getenv("BCF_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc)
            cfg = argv[++i];
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc)
            backend = argv[++i];
        else {
            fprintf(stderr, "usage: %s [-c config] [--backend auto|cpu|cuda]\n", argv[0]);
            return 2;
        }
    }
    if (strcmp(backend, "auto") && strcmp(backend, "cpu") && strcmp(backend, "cuda")) {
        fprintf(stderr, "botcriptofy-worker: unknown backend %s\n", backend);
        return 2;
    }
#ifndef HAVE_CUDA
    if (!strcmp(backend, "cuda")) {
        fprintf(stderr, "botcriptofy-worker: built without CUDA (configure found no nvcc)\n");
        return 2;
    }
    backend = "cpu";
#else
    if (!strcmp(backend, "auto"))
        backend = "cuda";
#endif
    char err[256];
    if (config_load(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "botcriptofy-worker: %s\n", err);
        return 1;
    }
    log_open(config_get("log.file"), config_get("log.level"), "worker");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (config_get("worker.id")) {
        snprintf(worker_id, sizeof worker_id, "%s", config_get("worker.id"));
    } else {
        char host[64] = "localhost";
        gethostname(host, sizeof host - 1);
        snprintf(worker_id, sizeof worker_id, "%s:%d", host, (int)getpid());
    }
    db_configure(NULL);
    kv_configure(NULL, 0);
    const char *stream = config_get("queue.stream"), *group = config_get("queue.group");
    log_info("worker %s starting (backend %s)", worker_id, backend);
    long long done = 0;
    time_t last_hb = 0;
    int group_ready = 0;
    double last_mail = 0;
    while (!stopping) {
        mail_tick(&last_mail);
        time_t now = time(NULL);
        if (now - last_hb >= config_int("worker.heartbeat_s")) {
            heartbeat(done);
            if (kv_is_up())
                sweep(stream);
            last_hb = now;
        }
        if (!group_ready) {
            /* from 0, not $: ids re-sent before the group existed must still be read */
            redisReply *r = kv_cmd(NULL, "XGROUP CREATE %s %s 0 MKSTREAM", stream, group);
            if (r) {
                group_ready = r->type != REDIS_REPLY_ERROR || strstr(r->str, "BUSYGROUP") != NULL;
                freeReplyObject(r);
            }
            if (!group_ready) {
                sleep(1);
                continue;
            }
        }
        /* the read timeout must stay under redis.timeout_ms, and under mail.poll_ms so e-mail
         * is not held up by an idle stream: block briefly and loop */
        long block = config_int("redis.timeout_ms") / 2;
        if (block > config_int("mail.poll_ms"))
            block = config_int("mail.poll_ms");
        redisReply *r = kv_cmd(NULL, "XREADGROUP GROUP %s %s COUNT 1 BLOCK %ld STREAMS %s >", group, worker_id,
                               block > 0 ? block : 50, stream);
        if (!r) {
            group_ready = 0;
            sleep(1);
            continue;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            if (strstr(r->str, "NOGROUP"))
                group_ready = 0;
            freeReplyObject(r);
            sleep(1);
            continue;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
            redisReply *msgs = r->element[0]->element[1];
            for (size_t i = 0; i < msgs->elements; i++) {
                redisReply *m = msgs->element[i];
                const char *msg_id = m->element[0]->str;
                redisReply *fields = m->element[1];
                const char *job = NULL;
                for (size_t f = 0; f + 1 < fields->elements; f += 2)
                    if (!strcmp(fields->element[f]->str, "id"))
                        job = fields->element[f + 1]->str;
                int ran = job ? run_job(job) : 0;
                if (ran >= 0) {
                    /* acknowledged only once PostgreSQL has the outcome */
                    redisReply *a = kv_cmd(NULL, "XACK %s %s %s", stream, group, msg_id);
                    if (a)
                        freeReplyObject(a);
                    if (ran > 0)
                        done++;
                }
            }
        }
        freeReplyObject(r);
    }
    log_info("worker %s stopping after %lld jobs", worker_id, done);
    db_close();
    kv_close();
    return 0;
}
