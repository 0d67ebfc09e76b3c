/* backtest.c — the trading engine benchmark: SMA-crossover backtest speed in candle-steps/s
 * against the bare cost of its two SMAs, and indicator throughput (batch and streaming) per value.
 *
 * Usage: backtest [--candles N] [--rounds R] [--series FILE] [--json FILE]
 *   --series FILE  also writes the synthetic OHLCV series (4 × N little-endian doubles: close,
 *                  high, low, volume) for tests/bench/tulind.mjs to time Tulip on the same data
 *   --json FILE    writes the results as JSON (read by tests/bench/tulind.mjs)
 * Built with -DBENCH_TULIP_C and Tulip's tiamalgamation.c, it also times Tulip's C functions
 * called directly (no Node), the core-to-core comparison. Every figure is the best of R rounds. */
#include "backtest.h"
#include "engine.h"
#include "indicators.h"
#include "indicators_inline.h"
#include "report.h"
#include "synth.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef BENCH_TULIP_C
#include "indicators_tulip.h"
#endif

static double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Keeps results alive so the compiler cannot drop the work. */
static volatile double bench_sink;

typedef struct bench_row {
    char name[48];
    double best_s;
    size_t items;
} bench_row;

static bench_row rows[64];
static int nrows;

static bench_row *bench_add(const char *name, size_t items)
{
    bench_row *r = &rows[nrows++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->best_s = 1e30;
    r->items = items;
    return r;
}

static void bench_time(bench_row *r, double t)
{
    if (t < r->best_s)
        r->best_s = t;
}

/* ---- the floor: the two SMAs of the crossover and the comparison, nothing else (the same
 * inline SMA step the engine's loop uses, so the ratio is the engine's own overhead) ---- */
static double floor_sma_pair(const candle *c, size_t n, int fast, int slow)
{
    static ind_sma a, b;
    ind_sma_init(&a, fast);
    ind_sma_init(&b, slow);
    double pa = 0, pb = 0;
    long crosses = 0;
    double t0 = bench_now();
    for (size_t i = 0; i < n; i++) {
        double x, y;
        ind_sma_step(&a, c[i].close, &x);
        if (ind_sma_step(&b, c[i].close, &y)) {
            crosses += x > y && pa <= pb;
            pa = x;
            pb = y;
        }
    }
    double t = bench_now() - t0;
    bench_sink = (double)crosses;
    return t;
}

/* ---- the engine alone: engine_run over the whole series, equity written per candle ---- */
static double engine_only(const engine_config *cfg, const candle *c, size_t n, double *equity, int64_t *times,
                          size_t *trades)
{
    static engine e;
    static trade_event ev[ENGINE_MAX_STEP_EVENTS];
    engine_init(&e, cfg, 1, 10000);
    size_t done = 0;
    *trades = 0;
    double t0 = bench_now();
    while (done < n) {
        size_t used;
        engine_curve curve = {equity + done, times + done, 0};
        int k = engine_run(&e, 0, c + done, n - done, &curve, &used, ev, ENGINE_MAX_STEP_EVENTS);
        if (k < 0) {
            fprintf(stderr, "engine_run failed: %d\n", k);
            exit(1);
        }
        for (int j = 0; j < k; j++)
            *trades += ev[j].kind == TEV_CLOSE;
        done += used;
    }
    double t = bench_now() - t0;
    bench_sink = engine_equity(&e);
    return t;
}

/* ---- indicators: batch and streaming, per value ---- */
typedef struct ohlcv {
    double *close, *high, *low, *volume;
    double *o1, *o2, *o3;
} ohlcv;

static void ind_rows(const ohlcv *d, size_t n, int rounds)
{
    bench_row *r[32];
    int k = 0;
    const char *names[] = {"sma", "ema", "wma", "rsi", "bbands", "macd", "atr", "stoch", "adx", "obv", "vwap"};
    enum { NIND = 11 };
    for (int i = 0; i < NIND; i++) {
        char b[48];
        snprintf(b, sizeof b, "ind-batch-%s", names[i]);
        r[k++] = bench_add(b, n);
    }
    for (int i = 0; i < NIND; i++) {
        char b[48];
        snprintf(b, sizeof b, "ind-stream-%s", names[i]);
        r[k++] = bench_add(b, n);
    }
    for (int round = 0; round < rounds; round++) {
        double t0;
#define T(idx, expr)                                                                                 \
    do {                                                                                             \
        t0 = bench_now();                                                                            \
        expr;                                                                                        \
        bench_time(r[idx], bench_now() - t0);                                                        \
        bench_sink = d->o1[n - 1];                                                                   \
    } while (0)
        T(0, ind_sma_batch(d->close, n, 20, d->o1));
        T(1, ind_ema_batch(d->close, n, 20, d->o1));
        T(2, ind_wma_batch(d->close, n, 20, d->o1));
        T(3, ind_rsi_batch(d->close, n, 14, d->o1));
        T(4, ind_bbands_batch(d->close, n, 20, 2, d->o1, d->o2, d->o3));
        T(5, ind_macd_batch(d->close, n, 12, 26, 9, d->o1, d->o2, d->o3));
        T(6, ind_atr_batch(d->high, d->low, d->close, n, 14, d->o1));
        T(7, ind_stoch_batch(d->high, d->low, d->close, n, 14, 3, 3, d->o1, d->o2));
        T(8, ind_adx_batch(d->high, d->low, d->close, n, 14, d->o1, d->o2, d->o3));
        T(9, ind_obv_batch(d->close, d->volume, n, d->o1));
        T(10, ind_vwap_batch(d->high, d->low, d->close, d->volume, n, d->o1));
        /* streaming: one update per value, the output kept as a live bot would */
        static ind_sma s_sma;
        static ind_ema s_ema;
        static ind_wma s_wma;
        static ind_rsi s_rsi;
        static ind_bbands s_bb;
        static ind_macd s_macd;
        static ind_atr s_atr;
        static ind_stoch s_st;
        static ind_adx s_adx;
        static ind_obv s_obv;
        static ind_vwap s_vwap;
        double *o1 = d->o1, *o2 = d->o2, *o3 = d->o3;
        T(11, ind_sma_init(&s_sma, 20); for (size_t i = 0; i < n; i++) ind_sma_update(&s_sma, d->close[i], &o1[i]));
        T(12, ind_ema_init(&s_ema, 20); for (size_t i = 0; i < n; i++) ind_ema_update(&s_ema, d->close[i], &o1[i]));
        T(13, ind_wma_init(&s_wma, 20); for (size_t i = 0; i < n; i++) ind_wma_update(&s_wma, d->close[i], &o1[i]));
        T(14, ind_rsi_init(&s_rsi, 14); for (size_t i = 0; i < n; i++) ind_rsi_update(&s_rsi, d->close[i], &o1[i]));
        T(15, ind_bbands_init(&s_bb, 20, 2);
          for (size_t i = 0; i < n; i++) ind_bbands_update(&s_bb, d->close[i], &o1[i], &o2[i], &o3[i]));
        T(16, ind_macd_init(&s_macd, 12, 26, 9);
          for (size_t i = 0; i < n; i++) ind_macd_update(&s_macd, d->close[i], &o1[i], &o2[i], &o3[i]));
        T(17, ind_atr_init(&s_atr, 14);
          for (size_t i = 0; i < n; i++) ind_atr_update(&s_atr, d->high[i], d->low[i], d->close[i], &o1[i]));
        T(18, ind_stoch_init(&s_st, 14, 3, 3);
          for (size_t i = 0; i < n; i++) ind_stoch_update(&s_st, d->high[i], d->low[i], d->close[i], &o1[i], &o2[i]));
        T(19, ind_adx_init(&s_adx, 14); for (size_t i = 0; i < n; i++)
                                           ind_adx_update(&s_adx, d->high[i], d->low[i], d->close[i], &o1[i], &o2[i], &o3[i]));
        T(20, ind_obv_init(&s_obv); for (size_t i = 0; i < n; i++) ind_obv_update(&s_obv, d->close[i], d->volume[i], &o1[i]));
        T(21, ind_vwap_init(&s_vwap);
          for (size_t i = 0; i < n; i++) ind_vwap_update(&s_vwap, d->high[i], d->low[i], d->close[i], d->volume[i], &o1[i]));
#undef T
    }
}

#ifdef BENCH_TULIP_C
/* Tulip's own C functions on the same arrays (what tulind calls after converting JS arrays). */
static void tulip_rows(const ohlcv *d, size_t n, int rounds)
{
    static const struct {
        const char *name;
        double opts[3];
        int in; /* 1: close; 3: high low close; 2: close volume; 4: h l c v */
    } defs[] = {
        {"sma", {20}, 1}, {"ema", {20}, 1}, {"wma", {20}, 1}, {"rsi", {14}, 1}, {"bbands", {20, 2}, 1},
        {"macd", {12, 26, 9}, 1}, {"atr", {14}, 3}, {"stoch", {14, 3, 3}, 3}, {"adx", {14}, 3}, {"obv", {0}, 2},
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        const ti_indicator_info *info = ti_find_indicator(defs[i].name);
        if (!info)
            continue;
        char b[48];
        snprintf(b, sizeof b, "tulip-c-%s", defs[i].name);
        bench_row *r = bench_add(b, n);
        const double *in[4];
        if (defs[i].in == 1)
            in[0] = d->close;
        else if (defs[i].in == 2) {
            in[0] = d->close;
            in[1] = d->volume;
        } else {
            in[0] = d->high;
            in[1] = d->low;
            in[2] = d->close;
        }
        double *out[3] = {d->o1, d->o2, d->o3};
        for (int round = 0; round < rounds; round++) {
            double t0 = bench_now();
            info->indicator((int)n, in, defs[i].opts, out);
            bench_time(r, bench_now() - t0);
            bench_sink = d->o1[0];
        }
    }
}
#endif

int main(int argc, char **argv)
{
    size_t n = 1000000;
    int rounds = 5;
    const char *series_file = NULL, *json_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--candles") == 0 && i + 1 < argc)
            n = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--series") == 0 && i + 1 < argc)
            series_file = argv[++i];
        else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
            json_file = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--candles N] [--rounds R] [--series FILE] [--json FILE]\n", argv[0]);
            return 2;
        }
    }
    if (n < 1000 || rounds < 1) {
        fprintf(stderr, "--candles must be >= 1000 and --rounds >= 1\n");
        return 2;
    }
    candle *c = malloc(n * sizeof *c);
    double *equity = malloc(n * sizeof *equity);
    int64_t *times = malloc(n * sizeof *times);
    ohlcv d;
    d.close = malloc(n * sizeof(double));
    d.high = malloc(n * sizeof(double));
    d.low = malloc(n * sizeof(double));
    d.volume = malloc(n * sizeof(double));
    d.o1 = malloc(n * sizeof(double));
    d.o2 = malloc(n * sizeof(double));
    d.o3 = malloc(n * sizeof(double));
    if (!c || !equity || !times || !d.close || !d.high || !d.low || !d.volume || !d.o1 || !d.o2 || !d.o3) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    synth_params sp;
    synth_defaults(&sp);
    sp.seed = 42;
    sp.tf_ms = 3600000;
    sp.start_ms = 1577836800000LL; /* 2020-01-01 */
    if (synth_generate(&sp, c, n, NULL) < 0)
        return 1;
    for (size_t i = 0; i < n; i++) {
        d.close[i] = c[i].close;
        d.high[i] = c[i].high;
        d.low[i] = c[i].low;
        d.volume[i] = c[i].volume;
    }
    memset(equity, 0, n * sizeof *equity); /* touch the pages once, outside the timings */
    memset(times, 0, n * sizeof *times);
    memset(d.o1, 0, n * sizeof(double));
    memset(d.o2, 0, n * sizeof(double));
    memset(d.o3, 0, n * sizeof(double));
    if (series_file) {
        FILE *f = fopen(series_file, "wb");
        if (!f || fwrite(d.close, sizeof(double), n, f) != n || fwrite(d.high, sizeof(double), n, f) != n ||
            fwrite(d.low, sizeof(double), n, f) != n || fwrite(d.volume, sizeof(double), n, f) != n ||
            fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", series_file);
            return 1;
        }
    }

    engine_config cfg;
    engine_config_defaults(&cfg, STRATEGY_SMA_CROSS); /* fast 10, slow 30, fee 10 bps, slippage 5 bps */
    bench_row *r_floor = bench_add("floor-sma-pair", n);
    bench_row *r_engine = bench_add("engine-run", n);
    bench_row *r_bt = bench_add("backtest-run", n);
    bench_row *r_metrics = bench_add("metrics+report-json", n);
    size_t trades = 0, bt_trades = 0;
    for (int round = 0; round < rounds; round++) {
        bench_time(r_floor, floor_sma_pair(c, n, 10, 30));
        bench_time(r_engine, engine_only(&cfg, c, n, equity, times, &trades));
        bt_series s = {c, n};
        bt_result res;
        char err[160];
        double t0 = bench_now();
        if (backtest_run(&cfg, &s, 1, 10000, NULL, NULL, &res, err, sizeof err) != 0) {
            fprintf(stderr, "backtest_run: %s\n", err);
            return 1;
        }
        bench_time(r_bt, bench_now() - t0);
        bt_trades = res.ntrades;
        t0 = bench_now();
        bt_metrics m;
        if (bt_metrics_compute(&res, &m) != 0)
            return 1;
        json_t *j = bt_report_json(&res, &m, NULL, 500);
        bench_time(r_metrics, bench_now() - t0);
        json_decref(j);
        bt_metrics_free(&m);
        bt_result_free(&res);
    }
    ind_rows(&d, n, rounds);
#ifdef BENCH_TULIP_C
    tulip_rows(&d, n, rounds);
#endif

    printf("%-24s %12s %14s\n", "row", "best ms", "M items/s");
    for (int i = 0; i < nrows; i++)
        printf("%-24s %12.3f %14.1f\n", rows[i].name, rows[i].best_s * 1e3, (double)rows[i].items / rows[i].best_s / 1e6);
    double floor_rate = (double)n / r_floor->best_s, bt_rate = (double)n / r_bt->best_s;
    printf("\nSMA crossover 10/30 over %zu candles (%zu trades; engine alone %zu): backtest %.1f M candle-steps/s, "
           "%.2fx the floor's time (floor %.1f M/s); target >= 100 M/s: %s\n",
           n, bt_trades, trades, bt_rate / 1e6, r_bt->best_s / r_floor->best_s, floor_rate / 1e6,
           bt_rate >= 100e6 ? "PASS" : "MISS");
    if (json_file) {
        FILE *f = fopen(json_file, "w");
        if (!f)
            return 1;
        fprintf(f, "{\"candles\":%zu,\"rounds\":%d,\"trades\":%zu,\"rows\":{", n, rounds, bt_trades);
        for (int i = 0; i < nrows; i++)
            fprintf(f, "%s\"%s\":{\"best_s\":%.9f,\"items\":%zu,\"per_s\":%.1f}", i ? "," : "", rows[i].name,
                    rows[i].best_s, rows[i].items, (double)rows[i].items / rows[i].best_s);
        fprintf(f, "}}\n");
        if (fclose(f) != 0)
            return 1;
    }
    free(c);
    free(equity);
    free(times);
    free(d.close);
    free(d.high);
    free(d.low);
    free(d.volume);
    free(d.o1);
    free(d.o2);
    free(d.o3);
    return 0;
}
