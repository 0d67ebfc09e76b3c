/* sweep_bench.c — the optimizer's sweep benchmark: parameter sets × candles per second for the
 * engine (the baseline), the kernel on one core and on every core, printed as a table and JSON. */
#include "sweep.h"
#include "sweep_grid.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
    const char *name;
    double sets, seconds, steps_per_s;
    double cpu_seconds; /* CPU time of the process over the row: on a shared machine the wall clock
                           also counts the time other programs held the cores */
} row;

static double bench_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    size_t ncandles = 525600, nsets = 10000, base_sets = 8, one_sets = 200;
    int threads = 0;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--candles") && i + 1 < argc)
            ncandles = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--sets") && i + 1 < argc)
            nsets = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json = argv[++i];
        else {
            fprintf(stderr, "usage: sweep_bench [--candles N] [--sets N] [--threads N] [--json FILE]\n");
            return 2;
        }
    }
    if (ncandles < 1000 || nsets < 1)
        return 2;
    if (threads <= 0)
        threads = sweep_cpu_count();
    if (one_sets > nsets)
        one_sets = nsets;
    if (base_sets > nsets)
        base_sets = nsets;
    /* one year of 1-minute candles, plus the history the slowest set warms on */
    size_t start = SWEEP_GRID_HISTORY, n = ncandles + start;
    candle *c = sweep_grid_candles(ncandles);
    if (!c)
        return 1;
    sweep_data d;
    char err[128];
    if (sweep_data_init(&d, c, n, start, 60000, err, sizeof err) != 0) {
        fprintf(stderr, "sweep_bench: %s\n", err);
        return 1;
    }
    engine_config *cfgs = sweep_grid_configs(nsets);
    sweep_stats *out = malloc(nsets * sizeof *out);
    if (!cfgs || !out)
        return 1;
    row rows[3];
    int nrows = 0;
    double steps = (double)ncandles;

    /* the baseline: the engine, one backtest after another on one core */
    double t0 = bench_now(), c0 = bench_cpu();
    for (size_t i = 0; i < base_sets; i++)
        if (sweep_one_engine(&d, &cfgs[i], 10000, 1000, &out[i]) != 0)
            return 1;
    double dt = bench_now() - t0;
    rows[nrows++] = (row){"engine-1-core", (double)base_sets, dt, steps * (double)base_sets / dt, bench_cpu() - c0};

    sweep_opts o = {.initial_balance = 10000, .warmup_max = 1000, .threads = 1};
    t0 = bench_now();
    c0 = bench_cpu();
    if (sweep_run(&d, cfgs, one_sets, &o, out) != 0)
        return 1;
    dt = bench_now() - t0;
    rows[nrows++] = (row){"kernel-1-core", (double)one_sets, dt, steps * (double)one_sets / dt, bench_cpu() - c0};

    o.threads = threads;
    t0 = bench_now();
    c0 = bench_cpu();
    if (sweep_run(&d, cfgs, nsets, &o, out) != 0)
        return 1;
    dt = bench_now() - t0;
    char name[48];
    snprintf(name, sizeof name, "kernel-%d-threads", threads);
    rows[nrows++] = (row){name, (double)nsets, dt, steps * (double)nsets / dt, bench_cpu() - c0};

    /* a checksum of the scores, so the work cannot be optimised away and runs can be compared */
    double sum = 0;
    int64_t trades = 0;
    for (size_t i = 0; i < nsets; i++) {
        sum += out[i].final_equity;
        trades += out[i].trades;
    }
    printf("%-22s %10s %10s %16s %10s %18s\n", "row", "sets", "seconds", "candle-steps/s", "vs engine",
           "per CPU-second");
    for (int i = 0; i < nrows; i++)
        printf("%-22s %10.0f %10.3f %14.1f M %9.2fx %16.1f M\n", rows[i].name, rows[i].sets, rows[i].seconds,
               rows[i].steps_per_s / 1e6, rows[i].steps_per_s / rows[0].steps_per_s,
               steps * rows[i].sets / rows[i].cpu_seconds / 1e6);
    printf("candles %zu (1m), sets %zu, trades %lld, equity checksum %.6f\n", ncandles, nsets, (long long)trades,
           sum);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f)
            return 1;
        fprintf(f, "{\"candles\":%zu,\"sets\":%zu,\"threads\":%d,\"rows\":[", ncandles, nsets, threads);
        for (int i = 0; i < nrows; i++)
            fprintf(f, "%s{\"name\":\"%s\",\"sets\":%.0f,\"seconds\":%.6f,\"cpu_seconds\":%.6f,"
                       "\"candle_steps_per_s\":%.0f}",
                    i ? "," : "", rows[i].name, rows[i].sets, rows[i].seconds, rows[i].cpu_seconds, rows[i].steps_per_s);
        fprintf(f, "]}\n");
        fclose(f);
    }
    sweep_data_free(&d);
    free(cfgs);
    free(out);
    free(c);
    return 0;
}
