/* cuda_bench.c — the sweep benchmark's CUDA row: sweep_bench.c's 10,000-set sma_cross grid over a
 * year of 1-minute candles through the worker's backend (worker/backend.c) on the GPU; none without one. */
#include "backend.h"
#include "sweep.h"
#include "sweep_grid.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Usage: tests/bench/cuda_bench [--candles N] [--sets N] [--check N] [--plugin PATH] [--json FILE]
 * Without a usable GPU (no plugin, no driver, no device) it prints why the CUDA row is left out
 * and exits 0. Otherwise it warms the device up (context, upload), then times backend_sweep over
 * the grid — candles uploaded, every set run, results copied back — and checks the first
 * --check sets (default 64) against the CPU sweep: the GPU must agree to the bit.
 */

int main(int argc, char **argv)
{
    size_t ncandles = 525600, nsets = 10000, ncheck = 64;
    const char *json = NULL, *plugin = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--candles") && i + 1 < argc)
            ncandles = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--sets") && i + 1 < argc)
            nsets = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--check") && i + 1 < argc)
            ncheck = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--plugin") && i + 1 < argc)
            plugin = argv[++i];
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json = argv[++i];
        else {
            fprintf(stderr, "usage: cuda_bench [--candles N] [--sets N] [--check N] [--plugin PATH] [--json FILE]\n");
            return 2;
        }
    }
    if (ncandles < 1000 || nsets < 1)
        return 2;
    if (ncheck > nsets)
        ncheck = nsets;
    char err[512], path[4096];
    if (!plugin) {
        /* the build tree's plugin: this program lives in tests/bench */
        const char *b = getenv("BCF_BUILDDIR");
        snprintf(path, sizeof path, "%s/worker/cuda/botcriptofy-cuda.so", b && *b ? b : ".");
        plugin = path;
    }
    if (backend_init("cuda", plugin, err, sizeof err) != 0) {
        printf("cuda_bench: the CUDA row is left out: %s\n", err);
        return 0;
    }
    size_t start = SWEEP_GRID_HISTORY, n = ncandles + start;
    candle *c = sweep_grid_candles(ncandles);
    engine_config *cfgs = sweep_grid_configs(nsets);
    sweep_stats *out = malloc(nsets * sizeof *out), *cpu = malloc((ncheck ? ncheck : 1) * sizeof *cpu);
    sweep_data d;
    if (!c || !cfgs || !out || !cpu || sweep_data_init(&d, c, n, start, 60000, err, sizeof err) != 0) {
        fprintf(stderr, "cuda_bench: setup failed\n");
        return 1;
    }
    sweep_opts o = {.initial_balance = 10000, .warmup_max = 1000, .threads = 0};
    /* the first call pays for the CUDA context and the kernels' loading: not part of the row */
    if (backend_sweep(&d, cfgs, nsets < 256 ? nsets : 256, &o, out) != 0)
        return 1;
    double t0 = bench_now();
    if (backend_sweep(&d, cfgs, nsets, &o, out) != 0)
        return 1;
    double dt = bench_now() - t0;
    double steps_per_s = (double)ncandles * (double)nsets / dt;

    /* the CPU's answer for the first sets: bit for bit the same */
    char device[320];
    snprintf(device, sizeof device, "%s", backend_detail());
    backend_reset();
    size_t equal = 0;
    if (ncheck && sweep_run(&d, cfgs, ncheck, &o, cpu) != 0)
        return 1;
    for (size_t i = 0; i < ncheck; i++)
        equal += memcmp(&cpu[i], &out[i], sizeof cpu[i]) == 0;

    double sum = 0;
    int64_t trades = 0;
    for (size_t i = 0; i < nsets; i++) {
        sum += out[i].final_equity;
        trades += out[i].trades;
    }
    printf("%-22s %10s %10s %16s\n", "row", "sets", "seconds", "candle-steps/s");
    printf("%-22s %10zu %10.3f %14.1f G\n", "cuda", nsets, dt, steps_per_s / 1e9);
    printf("device %s\n", device);
    printf("candles %zu (1m), sets %zu, trades %lld, equity checksum %.6f, CPU agreement %zu/%zu sets bit-equal\n",
           ncandles, nsets, (long long)trades, sum, equal, ncheck);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f)
            return 1;
        fprintf(f,
                "{\"candles\":%zu,\"sets\":%zu,\"rows\":[{\"name\":\"cuda\",\"sets\":%zu,\"seconds\":%.6f,"
                "\"candle_steps_per_s\":%.0f}],\"checked\":%zu,\"bit_equal\":%zu}\n",
                ncandles, nsets, nsets, dt, steps_per_s, ncheck, equal);
        fclose(f);
    }
    sweep_data_free(&d);
    free(c);
    free(cfgs);
    free(out);
    free(cpu);
    return equal == ncheck ? 0 : 1;
}
