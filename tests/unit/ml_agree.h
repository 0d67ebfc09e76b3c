/* ml_agree.h — what the ML tests share: synthetic candles with a plantable signal, and the checks
 * that a gradient engine (the CPU row engine, the CUDA trainer) agrees with the CPU shards. */
#ifndef BCF_TEST_ML_AGREE_H
#define BCF_TEST_ML_AGREE_H
#include "ml/ml.h"
#include "ml/row_reduce.h"
#include "synth.h"
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Candles whose log returns follow r_t = phi·r_{t-1} + 1% noise: phi < 0 plants a signal the
 * features show (the last return predicts the next one's sign), phi = 0 is a pure random walk. */
static inline candle *ml_test_candles(size_t n, double phi, uint64_t seed)
{
    candle *c = malloc(n * sizeof *c);
    ck_assert_ptr_nonnull(c);
    synth_rng rng;
    synth_rng_seed(&rng, seed);
    double price = 100, r = 0;
    for (size_t t = 0; t < n; t++) {
        r = phi * r + 0.01 * synth_rng_normal(&rng);
        double open = price, close = price * exp(r);
        c[t].open_time = 1704067200000LL + (int64_t)t * 60000;
        c[t].open = open;
        c[t].close = close;
        c[t].high = (open > close ? open : close) * exp(0.002 * fabs(synth_rng_normal(&rng)));
        c[t].low = (open < close ? open : close) * exp(-0.002 * fabs(synth_rng_normal(&rng)));
        c[t].volume = 100 * exp(0.3 * synth_rng_normal(&rng));
        price = close;
    }
    return c;
}

/*
 * The tolerance an engine's training is held to (docs/ml.md, "GPU training"): the per-epoch
 * training and validation losses, the test log-loss and every parameter (relative to the
 * largest) within `rel`; the test AUC within 1e-6 and the test accuracy within one row.
 *
 * Why these numbers: an engine that computes rows apart and reduces them (row_reduce.h) adds the
 * GRU's time steps in another grouping than the CPU, and a GPU's exp/tanh/log1p may be 1 ulp
 * off glibc's. Emulating both on the CPU (every exp/tanh/log1p result moved by one ulp at random)
 * moved these figures by at most 1e-15 over 10 logistic-regression epochs and 12 GRU epochs:
 * logistic regression is convex and forgets a perturbation. A GRU that overfits for longer is
 * chaotic — the same emulation grew to 1e-10 after 18 epochs and to percents after 23 — so the
 * GRU is compared after ML_AGREE_GRU_EPOCHS epochs only. A real fault (a row or a shard lost, a
 * wrong index, a gradient term left out) moves the losses by 1e-3 or more.
 */
#define ML_AGREE_LOGREG_REL 1e-6
#define ML_AGREE_GRU_REL 1e-5
#define ML_AGREE_LOGREG_EPOCHS 10
#define ML_AGREE_GRU_EPOCHS 2
#define ML_AGREE_CANDLES 3000

/* Small settings every epoch of which runs (no early stop), so both trainings have the same
 * curve length. */
static inline void ml_agree_opts(ml_train_opts *o, ml_kind kind)
{
    ml_train_opts_defaults(o, kind);
    o->threads = 2;
    o->train_frac = 0.5;
    o->val_frac = 0.2;
    o->hp.patience = 0;
    o->hp.epochs = kind == ML_GRU ? ML_AGREE_GRU_EPOCHS : ML_AGREE_LOGREG_EPOCHS;
    if (kind == ML_GRU) {
        o->hp.hidden = 8;
        o->hp.seq_len = 8;
        o->hp.batch_size = 32;
        o->hp.learning_rate = 0.01;
    }
}

static inline void ml_assert_close(double a, double b, double rel, const char *what, int i)
{
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    ck_assert_msg(isfinite(a) && isfinite(b) && fabs(a - b) <= rel * scale, "%s %d: %.17g vs %.17g (tolerance %g)",
                  what, i, a, b, rel);
}

/* Trains `kind` on c[0..n) on the CPU shards and through the engine; the two models must agree
 * within the kind's tolerance. Returns the engine's model's test AUC (for the caller's messages). */
static inline double ml_assert_engine_trains_alike(const candle *c, size_t n, ml_kind kind,
                                                   const ml_grad_engine *ge)
{
    ml_train_opts o;
    ml_agree_opts(&o, kind);
    double rel = kind == ML_GRU ? ML_AGREE_GRU_REL : ML_AGREE_LOGREG_REL;
    ml_model *cpu = NULL, *eng = NULL;
    char err[256] = "";
    ck_assert_msg(ml_train(c, n, &o, &cpu, NULL, err, sizeof err) == ML_OK, "cpu: %s", err);
    o.engine = ge;
    ck_assert_msg(ml_train(c, n, &o, &eng, NULL, err, sizeof err) == ML_OK, "%s: %s", ge->name, err);
    ck_assert_int_eq(eng->curve.len, o.hp.epochs);
    ck_assert_int_eq(eng->curve.len, cpu->curve.len);
    ck_assert_int_eq(eng->curve.best_epoch, cpu->curve.best_epoch);
    for (int e = 0; e < cpu->curve.len; e++) {
        ml_assert_close(eng->curve.train_loss[e], cpu->curve.train_loss[e], rel, "train loss, epoch", e + 1);
        ml_assert_close(eng->curve.val_loss[e], cpu->curve.val_loss[e], rel, "validation loss, epoch", e + 1);
    }
    double top = 0;
    for (size_t i = 0; i < cpu->net.n_params; i++)
        top = fabs(cpu->params[i]) > top ? fabs(cpu->params[i]) : top;
    for (size_t i = 0; i < cpu->net.n_params; i++)
        ck_assert_msg(fabs(eng->params[i] - cpu->params[i]) <= rel * top, "parameter %zu: %.17g vs %.17g", i,
                      eng->params[i], cpu->params[i]);
    const ml_metrics *a = &eng->report.test, *b = &cpu->report.test;
    ml_assert_close(a->logloss, b->logloss, rel, "test log-loss", 0);
    ck_assert_msg(fabs(a->auc - b->auc) <= 1e-6, "test AUC %.17g vs %.17g", a->auc, b->auc);
    ck_assert_msg(fabs(a->accuracy - b->accuracy) <= 1.0 / (double)a->n + 1e-12, "test accuracy %.17g vs %.17g",
                  a->accuracy, b->accuracy);
    double auc = a->auc;
    ml_model_free(cpu);
    ml_model_free(eng);
    return auc;
}

/*
 * One mini-batch through the engine against the CPU trainer's arithmetic for the same θ and
 * rows (shards summed from 0 row by row, then added in order): every gradient component within
 * grad_rel of the largest, every shard loss within loss_rel. θ is the kind's seeded init moved by
 * a little noise, so no component is zero by symmetry.
 */
static inline void ml_assert_engine_batch_alike(const ml_grad_engine *ge, ml_kind kind, double grad_rel,
                                                double loss_rel)
{
    const size_t n = 1200, B = 100;
    const int shards = 16;
    candle *c = ml_test_candles(n, -0.3, 21);
    ml_train_opts o;
    ml_agree_opts(&o, kind);
    ml_net net;
    ck_assert_int_eq(ml_net_make(&net, kind, ML_N_FEATURES, o.hp.hidden, o.hp.seq_len), 0);
    double *X = malloc(n * ML_N_FEATURES * sizeof *X);
    signed char *y = malloc(n);
    size_t P = net.n_params, *rows = malloc(B * sizeof *rows);
    double *theta = malloc(P * sizeof *theta), *want = calloc(P, sizeof *want), *got = malloc(P * sizeof *got);
    double *shard = malloc(P * sizeof *shard), *work = malloc(net.work_len * sizeof *work);
    double want_loss[16], got_loss[16];
    ck_assert(X && y && rows && theta && want && got && shard && work);
    ml_features_batch(c, n, X);
    ml_labels(c, n, 1, y);
    ml_scaler sc;
    ml_scaler_fit(&sc, X, 100, 1000);
    ml_scaler_apply(&sc, X, ML_FEATURE_WARMUP, n);
    synth_rng rng;
    synth_rng_seed(&rng, 5);
    ml_net_init(&net, 3, theta);
    for (size_t i = 0; i < P; i++)
        theta[i] += 0.1 * synth_rng_normal(&rng);
    for (size_t k = 0; k < B; k++) /* scattered rows, as a shuffled epoch gives */
        rows[k] = 100 + (k * 337) % 900;
    for (int s = 0; s < shards; s++) {
        size_t lo = ml_shard_lo(B, shards, s), hi = ml_shard_lo(B, shards, s + 1);
        memset(shard, 0, P * sizeof *shard);
        want_loss[s] = ml_net_loss_grad(&net, theta, X, y, rows + lo, hi - lo, shard, work);
        for (size_t i = 0; i < P; i++)
            want[i] += shard[i];
    }
    char err[256] = "";
    void *st = ge->begin(ge->ctx, &net, shards, B, X, y, 1000, err, sizeof err);
    ck_assert_msg(st != NULL, "%s begin: %s", ge->name, err);
    ck_assert_msg(ge->batch(st, theta, rows, B, got, got_loss, err, sizeof err) == 0, "%s batch: %s",
                  ge->name, err);
    /* a second step with the same θ gives the same answer: nothing is left over from the first */
    double *again = malloc(P * sizeof *again);
    double again_loss[16];
    ck_assert_ptr_nonnull(again);
    ck_assert(ge->batch(st, theta, rows, B, again, again_loss, err, sizeof err) == 0);
    ck_assert_int_eq(memcmp(again, got, P * sizeof *got), 0);
    ck_assert_int_eq(memcmp(again_loss, got_loss, sizeof got_loss), 0);
    ge->end(st);
    double top = 0;
    for (size_t i = 0; i < P; i++)
        top = fabs(want[i]) > top ? fabs(want[i]) : top;
    ck_assert(top > 0);
    for (size_t i = 0; i < P; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= grad_rel * top, "gradient %zu: %.17g vs %.17g", i, got[i], want[i]);
    for (int s = 0; s < shards; s++)
        ml_assert_close(got_loss[s], want_loss[s], loss_rel, "shard loss", s);
    free(again);
    free(c);
    free(X);
    free(y);
    free(rows);
    free(theta);
    free(want);
    free(got);
    free(shard);
    free(work);
}
#endif
