/* ml_bench.c — training throughput of the ML models (samples/s): one CPU thread, every core, and
 * the GPU when the CUDA plugin finds one; batch prediction speed; a table and one "BENCH_JSON" line.
 *
 *   ml_bench [--candles N] [--epochs E] [--hidden H] [--seq L] [--threads T] [--plugin PATH]
 *
 * A sample is one training row through forward and backward pass (a GRU sample is L steps). The
 * candles are synthetic (lib/trading/synth.c, 1-minute); the timed part is ml_fit alone, so the
 * feature pass and the final metrics do not dilute the figure. The CUDA row (the worker's engine,
 * worker/backend.h) needs the plugin (--plugin, default: $BCF_BUILDDIR or . /worker/cuda/) and a
 * device; without them the row is left out and the reason printed. No pass/fail. */
#include "backend.h"
#include "ml/ml.h"
#include "synth.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct bench_row {
    const char *model, *backend;
    int threads;
    size_t rows;
    int epochs;
    double seconds, samples_per_s, predict_rows_per_s;
    int identical;   /* parameters equal to the 1-thread run's, bit for bit */
    double max_diff; /* largest parameter difference from the 1-thread run's, relative to its largest */
} bench_row;

/* Trains net on the prepared data with `threads` workers (and the gradients from ge, when not
 * NULL, the CPU); fills the row, returns the params. */
static double *run_fit(const ml_net *net, const ml_hparams *hp, const double *X, const signed char *y,
                       const ml_split *sp, size_t n, int threads, const ml_grad_engine *ge, bench_row *row)
{
    ml_pool *pool = ml_pool_new(threads);
    double *theta = malloc(net->n_params * sizeof *theta);
    double *prob = malloc(n * sizeof *prob);
    if (!pool || !theta || !prob) {
        fprintf(stderr, "ml_bench: out of memory\n");
        exit(1);
    }
    ml_net_init(net, hp->seed, theta);
    ml_curve curve;
    char err[256];
    double t0 = mono();
    if (ml_fit(net, hp, X, y, sp, pool, ge, theta, &curve, NULL, NULL, 0, 1, err, sizeof err) != ML_OK) {
        fprintf(stderr, "ml_bench: %s\n", err);
        exit(1);
    }
    double t1 = mono();
    ml_net_predict(net, theta, X, sp->first, n, pool, prob);
    double t2 = mono();
    row->backend = ge ? ge->name : "cpu";
    row->threads = ml_pool_threads(pool);
    row->rows = sp->train_hi - sp->train_lo;
    row->epochs = curve.len;
    row->seconds = t1 - t0;
    row->samples_per_s = (double)row->rows * curve.len / row->seconds;
    row->predict_rows_per_s = (double)(n - sp->first) / (t2 - t1);
    ml_curve_free(&curve);
    ml_pool_free(pool);
    free(prob);
    return theta;
}

/* The largest |a - b| over the largest |b|. */
static double max_rel_diff(const double *a, const double *b, size_t n)
{
    double top = 0, diff = 0;
    for (size_t i = 0; i < n; i++) {
        top = fmax(top, fabs(b[i]));
        diff = fmax(diff, fabs(a[i] - b[i]));
    }
    return top > 0 ? diff / top : diff;
}

/* The worker's CUDA engine, its context already created (not part of any row), or NULL with why. */
static const ml_grad_engine *cuda_engine(const char *plugin, char *why, size_t whylen)
{
    char path[4096];
    if (!plugin) {
        const char *b = getenv("BCF_BUILDDIR");
        snprintf(path, sizeof path, "%s/worker/cuda/botcriptofy-cuda.so", b && *b ? b : ".");
        plugin = path;
    }
    if (backend_init("cuda", plugin, why, whylen) != 0)
        return NULL;
    const ml_grad_engine *e = backend_ml_engine();
    ml_net net;
    double X[ML_N_FEATURES] = {0};
    signed char y[1] = {0};
    ml_net_make(&net, ML_LOGREG, ML_N_FEATURES, 0, 1);
    void *st = e->begin(e->ctx, &net, 1, 1, X, y, 1, why, whylen);
    if (!st)
        return NULL;
    e->end(st);
    return e;
}

int main(int argc, char **argv)
{
    size_t n = 50000;
    int epochs = 2, hidden = 32, seq = 32, threads = ml_cpu_count();
    const char *plugin = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--candles") == 0)
            n = (size_t)strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--epochs") == 0)
            epochs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--hidden") == 0)
            hidden = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seq") == 0)
            seq = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--plugin") == 0)
            plugin = argv[i + 1];
        else {
            fprintf(stderr, "usage: ml_bench [--candles N] [--epochs E] [--hidden H] [--seq L] [--threads T] "
                            "[--plugin PATH]\n");
            return 2;
        }
    }
    candle *c = malloc(n * sizeof *c);
    double *X = malloc(n * ML_N_FEATURES * sizeof *X);
    signed char *y = malloc(n);
    synth_params sp;
    synth_defaults(&sp);
    sp.seed = 42;
    sp.start_ms = 1704067200000LL;
    sp.tf_ms = 60000;
    if (!c || !X || !y || synth_generate(&sp, c, n, NULL) < 0) {
        fprintf(stderr, "ml_bench: cannot make %zu candles\n", n);
        return 1;
    }
    ml_features_batch(c, n, X);
    ml_labels(c, n, 1, y);

    char why[512] = "";
    const ml_grad_engine *gpu = cuda_engine(plugin, why, sizeof why);
    bench_row rows[6];
    int nrows = 0;
    for (int kind = ML_LOGREG; kind <= ML_GRU; kind++) {
        ml_train_opts o;
        ml_train_opts_defaults(&o, (ml_kind)kind);
        o.hp.epochs = epochs;
        o.hp.patience = 0;
        if (kind == ML_GRU) {
            o.hp.hidden = hidden;
            o.hp.seq_len = seq;
        }
        ml_net net;
        ml_split split;
        if (ml_net_make(&net, (ml_kind)kind, ML_N_FEATURES, o.hp.hidden, o.hp.seq_len) < 0 ||
            ml_split_make(n, ML_FEATURE_WARMUP + ml_net_context(&net), 1, o.train_frac, o.val_frac, &split) < 0) {
            fprintf(stderr, "ml_bench: bad sizes\n");
            return 1;
        }
        /* standardise a private copy with the training rows' scale, as ml_train does */
        double *Xs = malloc(n * ML_N_FEATURES * sizeof *Xs);
        memcpy(Xs, X, n * ML_N_FEATURES * sizeof *Xs);
        ml_scaler sc;
        ml_scaler_fit(&sc, Xs, split.train_lo, split.train_hi);
        ml_scaler_apply(&sc, Xs, ML_FEATURE_WARMUP, n);
        /* 1 thread, every core, the GPU (its validation pass on every core) */
        int counts[3] = {1, threads, threads};
        const ml_grad_engine *engines[3] = {NULL, NULL, gpu};
        double *first = NULL;
        for (int k = 0; k < 3; k++) {
            if ((k == 1 && threads <= 1) || (k == 2 && !gpu))
                continue;
            bench_row *r = &rows[nrows++];
            r->model = ml_kind_name((ml_kind)kind);
            double *theta = run_fit(&net, &o.hp, Xs, y, &split, n, counts[k], engines[k], r);
            r->identical = !first || memcmp(first, theta, net.n_params * sizeof *theta) == 0;
            r->max_diff = first ? max_rel_diff(theta, first, net.n_params) : 0;
            if (first)
                free(theta);
            else
                first = theta;
        }
        free(first);
        free(Xs);
    }

    printf("ML training throughput: %zu candles, %d epochs, GRU H=%d L=%d, %d cores\n", n, epochs, hidden, seq,
           ml_cpu_count());
    if (!gpu)
        printf("ml_bench: the CUDA rows are left out: %s\n", why);
    /* "identical": the parameters equal the 1-thread CPU run's to the bit; the GPU's are held to a
     * tolerance (docs/ml.md, "GPU training"), so "max diff" shows how far they are */
    printf("%-7s %-7s %7s %9s %7s %9s %14s %9s %16s %10s %9s\n", "model", "backend", "threads", "rows", "epochs",
           "seconds", "samples/s", "speedup", "predict rows/s", "identical", "max diff");
    for (int i = 0, base = 0; i < nrows; i++) {
        const bench_row *r = &rows[i];
        if (r->threads == 1 && !strcmp(r->backend, "cpu"))
            base = i; /* speedups against the 1-thread CPU row of the same model */
        printf("%-7s %-7s %7d %9zu %7d %9.3f %14.0f %8.2fx %16.0f %10s %9.1e\n", r->model, r->backend, r->threads,
               r->rows, r->epochs, r->seconds, r->samples_per_s, r->samples_per_s / rows[base].samples_per_s,
               r->predict_rows_per_s, r->identical ? "yes" : "NO", r->max_diff);
    }
    printf("BENCH_JSON {\"bench\":\"ml_train\",\"candles\":%zu,\"epochs\":%d,\"hidden\":%d,\"seq_len\":%d,"
           "\"cuda\":%s,\"rows\":[",
           n, epochs, hidden, seq, gpu ? "true" : "false");
    for (int i = 0; i < nrows; i++)
        printf("%s{\"model\":\"%s\",\"backend\":\"%s\",\"threads\":%d,\"train_rows\":%zu,\"seconds\":%.6f,"
               "\"samples_per_s\":%.1f,\"predict_rows_per_s\":%.1f,\"identical\":%s,\"max_param_diff\":%.3g}",
               i ? "," : "", rows[i].model, rows[i].backend, rows[i].threads, rows[i].rows, rows[i].seconds,
               rows[i].samples_per_s, rows[i].predict_rows_per_s, rows[i].identical ? "true" : "false",
               rows[i].max_diff);
    printf("]}\n");
    free(c);
    free(X);
    free(y);
    return 0;
}
