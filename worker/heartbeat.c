/* heartbeat.c — the worker's liveness row (worker_heartbeats: seen_at, the job in hand, counters
 * by job type and outcome, a pickup-latency histogram) and its Redis key, every worker.heartbeat_s. */
#include "buf.h"
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "worker.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HB_TYPES 32
static const char *const outcome_names[WO_N] = {"done", "retried", "dead", "failed", "cancelled", "released", "lost"};
/* upper bounds (ms) of the pickup-latency buckets; the last one is +Inf */
static const double pickup_le[] = {1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000};
#define HB_BUCKETS (sizeof pickup_le / sizeof pickup_le[0])

static struct {
    char type[48];
    unsigned long long n[WO_N];
} counts[HB_TYPES];
static unsigned long long pickup_bucket[HB_BUCKETS + 1], pickup_count;
static double pickup_sum;
static long long current_job, jobs_done;
static double last_beat;

void worker_count(const char *type, int outcome)
{
    if (outcome < 0 || outcome >= WO_N)
        return;
    if (outcome == WO_DONE)
        jobs_done++;
    for (int i = 0; i < HB_TYPES; i++) {
        if (!counts[i].type[0])
            snprintf(counts[i].type, sizeof counts[i].type, "%s", type);
        if (!strcmp(counts[i].type, type)) {
            counts[i].n[outcome]++;
            return;
        }
    }
    /* more types than slots: the last slot counts the rest */
    counts[HB_TYPES - 1].n[outcome]++;
}

void worker_pickup(double ms)
{
    size_t b = 0;
    while (b < HB_BUCKETS && ms > pickup_le[b])
        b++;
    pickup_bucket[b]++;
    pickup_count++;
    pickup_sum += ms;
}

void worker_set_current(long long job_id)
{
    current_job = job_id;
}

/* {"jobs":{"noop":{"done":3}},"pickup_ms":{"le":[1,...],"buckets":[...],"count":n,"sum":s}} */
static void stats_json(buf *b)
{
    buf_puts(b, "{\"jobs\":{");
    int first = 1;
    for (int i = 0; i < HB_TYPES && counts[i].type[0]; i++) {
        buf_printf(b, "%s\"", first ? "" : ",");
        buf_json_escape(b, counts[i].type, strlen(counts[i].type));
        buf_puts(b, "\":{");
        int f2 = 1;
        for (int o = 0; o < WO_N; o++)
            if (counts[i].n[o]) {
                buf_printf(b, "%s\"%s\":%llu", f2 ? "" : ",", outcome_names[o], counts[i].n[o]);
                f2 = 0;
            }
        buf_putc(b, '}');
        first = 0;
    }
    buf_puts(b, "},\"pickup_ms\":{\"le\":[");
    for (size_t i = 0; i < HB_BUCKETS; i++)
        buf_printf(b, "%s%g", i ? "," : "", pickup_le[i]);
    buf_puts(b, "],\"buckets\":[");
    for (size_t i = 0; i <= HB_BUCKETS; i++)
        buf_printf(b, "%s%llu", i ? "," : "", pickup_bucket[i]);
    buf_printf(b, "],\"count\":%llu,\"sum\":%.3f}}", pickup_count, pickup_sum);
}

void worker_heartbeat(int force)
{
    double now = now_s();
    if (!force && last_beat > 0 && now - last_beat < (double)config_int("worker.heartbeat_s"))
        return;
    last_beat = now;
    char done[24], cur[24];
    snprintf(done, sizeof done, "%lld", jobs_done);
    snprintf(cur, sizeof cur, "%lld", current_job);
    buf stats = {0};
    stats_json(&stats);
    const char *p[] = {worker_id, worker_backend, done, cur, stats.oom ? "{}" : stats.data};
    db_exec(NULL, "worker_heartbeat",
            "INSERT INTO worker_heartbeats (worker_id, backend, started_at, seen_at, jobs_done, current_job_id, stats) "
            "VALUES ($1, $2, now(), now(), $3::bigint, nullif($4::bigint, 0), $5::jsonb) "
            "ON CONFLICT (worker_id) DO UPDATE SET seen_at = now(), backend = $2, jobs_done = $3::bigint, "
            "current_job_id = nullif($4::bigint, 0), stats = $5::jsonb",
            5, p);
    buf_free(&stats);
    redisReply *r = kv_cmd(NULL, "SET worker:hb:%s %lld EX %ld", worker_id, (long long)time(NULL),
                           config_int("worker.stale_s"));
    if (r)
        freeReplyObject(r);
}
