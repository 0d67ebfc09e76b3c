/* ml_bench.c — training throughput of the ML models on CPU (samples/s), one thread against all
 * cores, plus batch prediction speed; prints a table and one "BENCH_JSON {...}" line. No pass/fail.
 *
 *   ml_bench [--candles N] [--epochs E] [--hidden H] [--seq L] [--threads T]
 *
 * A sample is one training row through forward and backward pass (a GRU sample is L steps). The
 * candles are synthetic (lib/trading/synth.c, 1-minute); the timed part is ml_fit alone, so the
 * feature pass and the final metrics do not dilute the figure. */
#include "ml/ml.h"
#include "synth.h"
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
    const char *model;
    int threads;
    size_t rows;
    int epochs;
    double seconds, samples_per_s, predict_rows_per_s;
    int identical; /* parameters equal to the 1-thread run's, bit for bit */
} bench_row;

/* Trains net on the prepared data with `threads` workers; fills the row, returns the params. */
static double *run_fit(const ml_net *net, const ml_hparams *hp, const double *X, const signed char *y,
                       const ml_split *sp, size_t n, int threads, bench_row *row)
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
    if (ml_fit(net, hp, X, y, sp, pool, theta, &curve, NULL, NULL, 0, 1, err, sizeof err) != ML_OK) {
        fprintf(stderr, "ml_bench: %s\n", err);
        exit(1);
    }
    double t1 = mono();
    ml_net_predict(net, theta, X, sp->first, n, pool, prob);
    double t2 = mono();
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

int main(int argc, char **argv)
{
    size_t n = 50000;
    int epochs = 2, hidden = 32, seq = 32, threads = ml_cpu_count();
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
        else {
            fprintf(stderr, "usage: ml_bench [--candles N] [--epochs E] [--hidden H] [--seq L] [--threads T]\n");
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

    bench_row rows[4];
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
        int counts[2] = {1, threads};
        double *first = NULL;
        for (int k = 0; k < (threads > 1 ? 2 : 1); k++) {
            bench_row *r = &rows[nrows++];
            r->model = ml_kind_name((ml_kind)kind);
            double *theta = run_fit(&net, &o.hp, Xs, y, &split, n, counts[k], r);
            r->identical = !first || memcmp(first, theta, net.n_params * sizeof *theta) == 0;
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
    printf("%-7s %7s %9s %7s %9s %14s %9s %16s %10s\n", "model", "threads", "rows", "epochs", "seconds", "samples/s",
           "speedup", "predict rows/s", "identical");
    for (int i = 0; i < nrows; i++) {
        const bench_row *r = &rows[i];
        double base = r->threads == 1 ? r->samples_per_s : rows[i - 1].samples_per_s;
        printf("%-7s %7d %9zu %7d %9.3f %14.0f %8.2fx %16.0f %10s\n", r->model, r->threads, r->rows, r->epochs,
               r->seconds, r->samples_per_s, r->samples_per_s / base, r->predict_rows_per_s,
               r->identical ? "yes" : "NO");
    }
    printf("BENCH_JSON {\"bench\":\"ml_train\",\"candles\":%zu,\"epochs\":%d,\"hidden\":%d,\"seq_len\":%d,"
           "\"rows\":[",
           n, epochs, hidden, seq);
    for (int i = 0; i < nrows; i++)
        printf("%s{\"model\":\"%s\",\"threads\":%d,\"train_rows\":%zu,\"seconds\":%.6f,\"samples_per_s\":%.1f,"
               "\"predict_rows_per_s\":%.1f,\"identical\":%s}",
               i ? "," : "", rows[i].model, rows[i].threads, rows[i].rows, rows[i].seconds, rows[i].samples_per_s,
               rows[i].predict_rows_per_s, rows[i].identical ? "true" : "false");
    printf("]}\n");
    free(c);
    free(X);
    free(y);
    return 0;
}
