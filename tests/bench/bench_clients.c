/* bench_clients.c — forks the benchmark clients, gathers every operation's latency through one pipe
 * and prints the throughput line the bench scripts parse (tests/bench/billing, tests/bench/notify). */
#include "bench_clients.h"
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bench_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_die(const char *prog, const char *msg)
{
    fprintf(stderr, "%s: %s\n", prog, msg);
    exit(2);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The child's whole life: init, the timed operations, the latencies down the pipe. */
static void client_main(int w, long ops, const bench_ops *o, int fd)
{
    void *st = o->init(w, o->arg);
    double *lat = malloc(sizeof *lat * (size_t)ops);
    if (!st || !lat)
        _exit(3);
    for (long op = 0; op < ops; op++) {
        double s = bench_mono_s();
        if (o->op(st, op) < 0)
            _exit(3);
        lat[op] = bench_mono_s() - s;
    }
    /* chunks of at most PIPE_BUF bytes are written atomically: the clients' doubles never interleave */
    for (long i = 0; i < ops; i += 512) {
        size_t len = sizeof *lat * (size_t)(ops - i < 512 ? ops - i : 512);
        if (write(fd, lat + i, len) != (ssize_t)len)
            _exit(4);
    }
    _exit(0);
}

int bench_clients_run(int clients, long ops, int units_per_op, const bench_ops *o)
{
    if (clients < 1 || clients > 256 || ops < 1 || units_per_op < 1)
        bench_die("bench", "CLIENTS(1..256) OPS(>0)");
    int fds[2];
    if (pipe(fds) < 0)
        bench_die("bench", "pipe");
    fflush(stdout);
    double t0 = bench_mono_s();
    for (int w = 0; w < clients; w++) {
        pid_t pid = fork();
        if (pid < 0)
            bench_die("bench", "fork");
        if (pid == 0) {
            close(fds[0]);
            client_main(w, ops, o, fds[1]);
        }
    }
    close(fds[1]);
    size_t total = (size_t)clients * (size_t)ops, got = 0;
    double *all = malloc(sizeof *all * total);
    if (!all)
        bench_die("bench", "out of memory");
    while (got < total * sizeof *all) {
        ssize_t n = read(fds[0], (char *)all + got, total * sizeof *all - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    int failed = 0;
    for (int w = 0; w < clients; w++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
            failed++;
    }
    double secs = bench_mono_s() - t0;
    if (failed || got != total * sizeof *all)
        bench_die("bench", "a client failed");
    qsort(all, total, sizeof *all, cmp_double);
    printf("ops %zu seconds %.3f per_s %.0f p50_ms %.3f p99_ms %.3f\n", total * (size_t)units_per_op, secs,
           (double)total * units_per_op / secs, all[total / 2] * 1e3, all[(size_t)((double)total * 0.99)] * 1e3);
    free(all);
    return 0;
}

static void *floor_init(int client, void *arg)
{
    (void)client, (void)arg;
    PGconn *pg = PQconnectdb(getenv("BCF_TEST_DSN"));
    if (PQstatus(pg) != CONNECTION_OK)
        return NULL;
    PGresult *r = PQexec(pg, "CREATE TEMP TABLE floor_rows (id bigint, amount bigint, at timestamptz)");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? pg : NULL;
}

static int floor_op(void *st, long op)
{
    (void)op;
    PGresult *r = PQexec(st, "INSERT INTO floor_rows VALUES (1, 2, now())");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

int bench_clients_floor(int clients, long ops)
{
    bench_ops o = {floor_init, floor_op, NULL};
    return bench_clients_run(clients, ops, 1, &o);
}
