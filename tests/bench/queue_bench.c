/* queue_bench.c — the job queue benchmark's driver (run by tests/bench/queue): the round trip
 * enqueue → worker → done with noop jobs, and two baselines measured in the same run.
 *
 *   queue_bench -c CONF throughput N      N noop jobs through queue_enqueue_batch, until all done
 *   queue_bench -c CONF latency N RATE    N single queue_enqueue calls paced at RATE/s
 *   queue_bench -c CONF redis N RATE      baseline: XADD → XREADGROUP → XACK, no PostgreSQL
 *   queue_bench -c CONF pg N              baseline: one INSERT + one UPDATE per job, no Redis
 *
 * Each prints one line "BENCH_JSON {...}". Times of the queue rows come from PostgreSQL's own
 * clock (created_at, started_at, finished_at), so the driver's scheduling does not enter them. */
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "queue.h"
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    double d = t - mono();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

static PGresult *q(const char *sql, int n, const char *const *p)
{
    PGresult *r = db_query(NULL, NULL, sql, n, p);
    if (!r) {
        fprintf(stderr, "queue_bench: %s\n", db_error());
        exit(1);
    }
    return r;
}

static long long q_int(const char *sql, int n, const char *const *p)
{
    PGresult *r = q(sql, n, p);
    long long v = PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return v;
}

/* Waits until every job in [lo, hi] is done (or 120 s). Returns 0 when all are. */
static int wait_done(long long lo, long long hi)
{
    char a[24], b[24];
    snprintf(a, sizeof a, "%lld", lo);
    snprintf(b, sizeof b, "%lld", hi);
    const char *p[] = {a, b};
    double end = mono() + 120;
    while (mono() < end) {
        if (q_int("SELECT count(*) FROM jobs WHERE id BETWEEN $1::bigint AND $2::bigint AND status <> 'done'", 2, p) ==
            0)
            return 0;
        usleep(20000);
    }
    return -1;
}

/* Latency percentiles (ms) and the span of jobs [lo, hi] as JSON members. */
static void report_jobs(long long lo, long long hi, long n, double enqueue_s)
{
    char a[24], b[24];
    snprintf(a, sizeof a, "%lld", lo);
    snprintf(b, sizeof b, "%lld", hi);
    const char *p[] = {a, b};
    PGresult *r = q("SELECT count(*), extract(epoch FROM max(finished_at) - min(created_at)), "
                    "percentile_cont(ARRAY[0.5, 0.9, 0.99, 0.999]) WITHIN GROUP (ORDER BY extract(epoch FROM "
                    "started_at - created_at) * 1000), max(extract(epoch FROM started_at - created_at) * 1000), "
                    "percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - "
                    "created_at) * 1000), sum(attempts), count(DISTINCT worker_id) "
                    "FROM jobs WHERE id BETWEEN $1::bigint AND $2::bigint AND status = 'done'",
                    2, p);
    long done = atol(PQgetvalue(r, 0, 0));
    double span = atof(PQgetvalue(r, 0, 1));
    double pk[4] = {0}, e2e[2] = {0};
    sscanf(PQgetvalue(r, 0, 2), "{%lf,%lf,%lf,%lf}", &pk[0], &pk[1], &pk[2], &pk[3]);
    sscanf(PQgetvalue(r, 0, 4), "{%lf,%lf}", &e2e[0], &e2e[1]);
    printf("\"jobs\":%ld,\"done\":%ld,\"attempts\":%s,\"workers\":%s,\"span_s\":%.4f,\"jobs_per_s\":%.0f,"
           "\"enqueue_s\":%.4f,\"enqueue_per_s\":%.0f,"
           "\"pickup_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},"
           "\"done_ms\":{\"p50\":%.3f,\"p99\":%.3f}",
           n, done, PQgetvalue(r, 0, 5), PQgetvalue(r, 0, 6), span, span > 0 ? (double)done / span : 0, enqueue_s,
           enqueue_s > 0 ? (double)n / enqueue_s : 0, pk[0], pk[1], pk[2], pk[3], atof(PQgetvalue(r, 0, 3)), e2e[0],
           e2e[1]);
    PQclear(r);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench_throughput(long n)
{
    enum { CHUNK = 500 };
    queue_item items[CHUNK];
    long long ids[CHUNK], lo = 0, hi = 0;
    double t0 = mono();
    for (long done = 0; done < n;) {
        int k = n - done > CHUNK ? CHUNK : (int)(n - done);
        for (int i = 0; i < k; i++)
            items[i] = (queue_item){0, 0, "noop", NULL, NULL, 0};
        if (queue_enqueue_batch(items, k, ids) != k) {
            fprintf(stderr, "queue_bench: enqueue failed: %s\n", db_error());
            return 1;
        }
        if (!lo)
            lo = ids[0];
        hi = ids[k - 1];
        done += k;
    }
    double enq = mono() - t0;
    if (wait_done(lo, hi) < 0)
        fprintf(stderr, "queue_bench: not all jobs done within 120 s\n");
    printf("BENCH_JSON {\"row\":\"queue-throughput\",");
    report_jobs(lo, hi, n, enq);
    printf("}\n");
    return 0;
}

static int bench_latency(long n, double rate)
{
    long long lo = 0, hi = 0;
    ctx c = {NULL, 0, 0, "", ""};
    double *call = malloc((size_t)n * sizeof *call);
    if (!call)
        return 1;
    double t0 = mono(), next = t0;
    for (long i = 0; i < n; i++) {
        sleep_until(next);
        next += 1.0 / rate;
        double c0 = mono();
        long long id = queue_enqueue(&c, "noop", NULL, NULL);
        call[i] = (mono() - c0) * 1000.0;
        if (id <= 0) {
            fprintf(stderr, "queue_bench: enqueue failed: %s\n", db_error());
            return 1;
        }
        if (!lo)
            lo = id;
        hi = id;
    }
    double enq = mono() - t0;
    if (wait_done(lo, hi) < 0)
        fprintf(stderr, "queue_bench: not all jobs done within 120 s\n");
    qsort(call, (size_t)n, sizeof *call, cmp_double);
    printf("BENCH_JSON {\"row\":\"queue-latency\",\"rate\":%.0f,\"enqueue_call_ms\":{\"p50\":%.3f,\"p99\":%.3f},",
           rate, call[n / 2], call[n * 99 / 100]);
    free(call);
    report_jobs(lo, hi, n, enq);
    printf("}\n");
    return 0;
}

static redisContext *redis_connect(void)
{
    redisContext *c = redisConnect(config_get("redis.host"), (int)config_int("redis.port"));
    if (!c || c->err) {
        fprintf(stderr, "queue_bench: redis: %s\n", c ? c->errstr : "no memory");
        exit(1);
    }
    return c;
}

/* Baseline without PostgreSQL: a producer XADDs one entry per job (paced at rate/s, 0 = as fast
 * as it can) carrying its send time; a consumer process reads with XREADGROUP (COUNT 16) and
 * XACKs each batch, as our worker does, and records send → receive latency. */
static int bench_redis(long n, double rate)
{
    const char *stream = "bench:raw";
    redisContext *c = redis_connect();
    freeReplyObject(redisCommand(c, "DEL %s", stream));
    freeReplyObject(redisCommand(c, "XGROUP CREATE %s g $ MKSTREAM", stream));
    int fds[2];
    if (pipe(fds) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        redisContext *k = redis_connect();
        double *lat = malloc((size_t)n * sizeof *lat);
        long got = 0;
        double first = 0, last = 0;
        while (got < n) {
            redisReply *r = redisCommand(k, "XREADGROUP GROUP g c COUNT 16 BLOCK 1000 STREAMS %s >", stream);
            if (!r)
                _exit(1);
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
                redisReply *msgs = r->element[0]->element[1];
                double now = mono();
                for (size_t i = 0; i < msgs->elements && got < n; i++) {
                    redisReply *m = msgs->element[i];
                    double sent = atof(m->element[1]->element[1]->str);
                    lat[got++] = (now - sent) * 1000.0;
                    if (!first)
                        first = sent;
                    last = now;
                    redisAppendCommand(k, "XACK %s g %s", stream, m->element[0]->str);
                }
                for (size_t i = 0; i < msgs->elements; i++) {
                    redisReply *a;
                    if (redisGetReply(k, (void **)&a) == REDIS_OK)
                        freeReplyObject(a);
                }
            }
            freeReplyObject(r);
        }
        qsort(lat, (size_t)got, sizeof *lat, cmp_double);
        char out[512];
        int len = snprintf(out, sizeof out,
                           "BENCH_JSON {\"row\":\"baseline-redis\",\"rate\":%.0f,\"jobs\":%ld,\"span_s\":%.4f,"
                           "\"jobs_per_s\":%.0f,\"pickup_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
                           "\"max\":%.3f}}\n",
                           rate, got, last - first, (double)got / (last - first), lat[got / 2], lat[got * 9 / 10],
                           lat[got * 99 / 100], lat[got * 999 / 1000], lat[got - 1]);
        if (write(fds[1], out, (size_t)len) != len)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    usleep(100000); /* the consumer is blocked in XREADGROUP */
    double next = mono();
    for (long i = 0; i < n; i++) {
        if (rate > 0) {
            sleep_until(next);
            next += 1.0 / rate;
        }
        char t[40];
        snprintf(t, sizeof t, "%.9f", mono());
        redisReply *r = redisCommand(c, "XADD %s * t %s", stream, t);
        if (!r)
            return 1;
        freeReplyObject(r);
    }
    char out[512] = "";
    ssize_t len = read(fds[0], out, sizeof out - 1);
    int st;
    waitpid(pid, &st, 0);
    if (len > 0)
        fputs(out, stdout);
    freeReplyObject(redisCommand(c, "DEL %s", stream));
    redisFree(c);
    return len > 0 ? 0 : 1;
}

/* Baseline without Redis: the floor of a PostgreSQL-backed queue, one INSERT and one UPDATE per
 * job on one connection (what enqueue plus completion cost when nothing is batched). */
static int bench_pg(long n)
{
    PQclear(q("CREATE TEMP TABLE bench_jobs (id bigserial PRIMARY KEY, status text NOT NULL DEFAULT 'queued', "
              "created_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz)",
              0, NULL));
    double t0 = mono();
    for (long i = 0; i < n; i++) {
        PGresult *r = db_query(NULL, "bench_ins", "INSERT INTO bench_jobs DEFAULT VALUES RETURNING id", 0, NULL);
        if (!r)
            return 1;
        const char *p[] = {PQgetvalue(r, 0, 0)};
        db_exec(NULL, "bench_upd", "UPDATE bench_jobs SET status = 'done', finished_at = now() WHERE id = $1::bigint",
                1, p);
        PQclear(r);
    }
    double s = mono() - t0;
    printf("BENCH_JSON {\"row\":\"baseline-pg\",\"jobs\":%ld,\"span_s\":%.4f,\"jobs_per_s\":%.0f}\n", n, s,
           (double)n / s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || strcmp(argv[1], "-c")) {
        fprintf(stderr, "usage: queue_bench -c CONF throughput N | latency N RATE | redis N RATE | pg N\n");
        return 2;
    }
    char err[256];
    if (config_load(argv[2], err, sizeof err) != 0) {
        fprintf(stderr, "queue_bench: %s\n", err);
        return 1;
    }
    log_open(NULL, "warn", "queue_bench");
    db_configure(NULL);
    kv_configure(NULL, 0);
    const char *mode = argv[3];
    long n = atol(argv[4]);
    double rate = argc > 5 ? atof(argv[5]) : 0;
    if (n < 1)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "throughput"))
        return bench_throughput(n);
    if (!strcmp(mode, "latency") && rate > 0)
        return bench_latency(n, rate);
    if (!strcmp(mode, "redis"))
        return bench_redis(n, rate);
    if (!strcmp(mode, "pg"))
        return bench_pg(n);
    fprintf(stderr, "queue_bench: unknown mode %s\n", mode);
    return 2;
}
