/* test_ml.c — unit tests of lib/ml: causal features equal to their streaming form, labels, the
 * leak-free time split, gradients against finite differences, planted signal against pure noise,
 * thread-count determinism, streaming prediction, metrics and the model JSON (round trip, garbage). */
#include "ml/gru.h"
#include "ml/logreg.h"
#include "ml/ml.h"
#include "ml_agree.h"
#include "synth.h"
#include "unit.h"
#include <math.h>
#include <stddef.h>

/* Small, fast settings for the tests (the defaults are sized for real series). */
static void test_opts(ml_train_opts *o, ml_kind kind)
{
    ml_train_opts_defaults(o, kind);
    o->threads = 2;
    o->train_frac = 0.5;
    o->val_frac = 0.2;
    if (kind == ML_GRU) {
        o->hp.hidden = 8;
        o->hp.seq_len = 8;
        o->hp.epochs = 15;
        o->hp.batch_size = 32;
        o->hp.learning_rate = 0.01;
    }
}

static ml_model *train_ok(const candle *c, size_t n, const ml_train_opts *o)
{
    ml_model *m = NULL;
    ml_report rep;
    char err[256] = "";
    int rc = ml_train(c, n, o, &m, &rep, err, sizeof err);
    ck_assert_msg(rc == ML_OK, "ml_train: %d %s", rc, err);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(rep.epochs_run, m->report.epochs_run);
    return m;
}

/* Equal to the bit, NAN equal to NAN. */
static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

START_TEST(features_causal_and_streaming)
{
    const size_t n = 400, F = ML_N_FEATURES;
    candle *c = ml_test_candles(n, -0.2, 11);
    double *X = malloc(n * F * sizeof *X), *X2 = malloc(n * F * sizeof *X2);
    ml_features_batch(c, n, X);

    ml_feature_state st;
    ml_feature_state_init(&st);
    double row[ML_N_FEATURES];
    for (size_t t = 0; t < n; t++) {
        int ready = ml_feature_state_update(&st, &c[t], row);
        ck_assert_int_eq(ready, t >= ML_FEATURE_WARMUP);
        for (size_t j = 0; j < F; j++) {
            ck_assert_msg(same_bits(row[j], X[t * F + j]), "row %zu feature %zu", t, j);
            ck_assert(ready ? isfinite(row[j]) : isnan(row[j]));
        }
    }
    /* the formulas, checked against the indicators on their own */
    double sma[400];
    double close[400];
    for (size_t t = 0; t < n; t++)
        close[t] = c[t].close;
    ind_sma_batch(close, n, 20, sma);
    size_t t = 300;
    ck_assert_double_eq_tol(X[t * F + MLF_RET_1], log(c[t].close / c[t - 1].close), 1e-15);
    ck_assert_double_eq_tol(X[t * F + MLF_RET_12], log(c[t].close / c[t - 12].close), 1e-15);
    ck_assert_double_eq_tol(X[t * F + MLF_SMA20_GAP], c[t].close / sma[t] - 1, 1e-15);
    ck_assert_double_eq_tol(X[t * F + MLF_RANGE], (c[t].high - c[t].low) / c[t].close, 1e-15);

    /* causal: rewriting the future leaves every earlier row as it was */
    const size_t cut = 200;
    candle *d = ml_test_candles(n, 0.3, 99);
    memcpy(d, c, (cut + 1) * sizeof *c);
    ml_features_batch(d, n, X2);
    ck_assert_int_eq(memcmp(X, X2, (cut + 1) * F * sizeof *X), 0);
    ck_assert_int_ne(memcmp(X + (cut + 1) * F, X2 + (cut + 1) * F, F * sizeof *X), 0);
    free(X);
    free(X2);
    free(c);
    free(d);
}
END_TEST

START_TEST(labels_and_horizon)
{
    candle c[6];
    double closes[6] = {10, 11, 11, 9, 12, 12};
    for (int i = 0; i < 6; i++)
        c[i].close = closes[i];
    signed char y[6];
    ml_labels(c, 6, 1, y);
    signed char want1[6] = {1, 0, 0, 1, 0, ML_LABEL_UNKNOWN};
    ck_assert_int_eq(memcmp(y, want1, 6), 0);
    ml_labels(c, 6, 2, y);
    signed char want2[6] = {1, 0, 1, 1, ML_LABEL_UNKNOWN, ML_LABEL_UNKNOWN};
    ck_assert_int_eq(memcmp(y, want2, 6), 0);
}
END_TEST

/* No label of an earlier set reads a candle of a later set, for many sizes and horizons. */
START_TEST(split_has_gaps_and_no_leak)
{
    size_t sizes[] = {400, 1000, 4321};
    int horizons[] = {1, 3, 24};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            ml_split s;
            size_t n = sizes[a], first = 57;
            int h = horizons[b];
            ck_assert_int_eq(ml_split_make(n, first, h, 0.6, 0.2, &s), 0);
            ck_assert_uint_eq(s.train_lo, first);
            ck_assert(s.train_lo < s.train_hi && s.val_lo < s.val_hi && s.test_lo < s.test_hi);
            ck_assert_uint_eq(s.val_lo - s.train_hi, (size_t)h);
            ck_assert_uint_eq(s.test_lo - s.val_hi, (size_t)h);
            /* the last label of a set reads close[hi - 1 + h]: strictly before the next set */
            ck_assert(s.train_hi - 1 + (size_t)h < s.val_lo);
            ck_assert(s.val_hi - 1 + (size_t)h < s.test_lo);
            ck_assert(s.test_hi - 1 + (size_t)h < n); /* every test label is known */
        }
    ml_split s;
    ck_assert_int_eq(ml_split_make(62, 57, 1, 0.6, 0.2, &s), -1); /* too few rows for three sets */
    ck_assert_int_eq(ml_split_make(4000, 57, 1, 0.8, 0.2, &s), -1); /* nothing left for test */
    ck_assert_int_eq(ml_split_make(4000, 57, 0, 0.6, 0.2, &s), -1);
}
END_TEST

/* Training sees only the training rows: candles from the validation set on can be anything and
 * the standardisation and the training losses stay the same to the bit. */
START_TEST(training_does_not_see_later_sets)
{
    const size_t n = 3000;
    candle *a = ml_test_candles(n, -0.4, 5);
    ml_train_opts o;
    test_opts(&o, ML_LOGREG);
    o.hp.patience = 0; /* run every epoch in both: validation only picks the kept epoch */
    o.hp.epochs = 8;
    ml_model *ma = train_ok(a, n, &o);
    size_t val_lo = ma->report.split.val_lo;

    candle *b = ml_test_candles(n, 0.4, 77);
    memcpy(b, a, val_lo * sizeof *a);
    double scale = a[val_lo - 1].close / b[val_lo - 1].close; /* keep the prices continuous */
    for (size_t t = val_lo; t < n; t++) {
        b[t].open *= scale;
        b[t].high *= scale;
        b[t].low *= scale;
        b[t].close *= scale;
    }
    ml_model *mb = train_ok(b, n, &o);
    ck_assert_int_eq(memcmp(&ma->scaler, &mb->scaler, sizeof ma->scaler), 0);
    ck_assert_int_eq(ma->curve.len, mb->curve.len);
    ck_assert_int_eq(memcmp(ma->curve.train_loss, mb->curve.train_loss, (size_t)ma->curve.len * sizeof(double)), 0);
    ck_assert_int_ne(memcmp(ma->curve.val_loss, mb->curve.val_loss, (size_t)ma->curve.len * sizeof(double)), 0);
    ml_model_free(ma);
    ml_model_free(mb);
    free(a);
    free(b);
}
END_TEST

/* Summed log-loss of rows[] under theta, for the finite differences. */
static double net_loss(const ml_net *net, const double *theta, const double *X, const signed char *y,
                       const size_t *rows, size_t nrows, double *scratch_grad, double *work)
{
    return ml_net_loss_grad(net, theta, X, y, rows, nrows, scratch_grad, work);
}

/* Central differences against the analytic gradient, component by component. */
static void check_gradient(const ml_net *net, uint64_t seed)
{
    const size_t nrow = 12, F = (size_t)net->shape.F, P = net->n_params;
    synth_rng rng;
    synth_rng_seed(&rng, seed);
    double *X = malloc(nrow * F * sizeof *X), *theta = malloc(P * sizeof *theta);
    double *g = calloc(P, sizeof *g), *scratch = calloc(P, sizeof *scratch);
    double *work = malloc(net->work_len * sizeof *work);
    signed char y[12];
    for (size_t i = 0; i < nrow * F; i++)
        X[i] = synth_rng_normal(&rng);
    for (size_t i = 0; i < nrow; i++)
        y[i] = (signed char)(synth_rng_uniform(&rng) < 0.5);
    for (size_t i = 0; i < P; i++)
        theta[i] = 0.6 * synth_rng_normal(&rng);
    size_t L = (size_t)net->shape.L, rows[12], nrows = 0;
    for (size_t t = L - 1; t < nrow; t++)
        rows[nrows++] = t;
    ml_net_loss_grad(net, theta, X, y, rows, nrows, g, work);
    double worst = 0;
    for (size_t i = 0; i < P; i++) {
        double keep = theta[i], eps = 1e-5;
        theta[i] = keep + eps;
        double up = net_loss(net, theta, X, y, rows, nrows, scratch, work);
        theta[i] = keep - eps;
        double down = net_loss(net, theta, X, y, rows, nrows, scratch, work);
        theta[i] = keep;
        double numeric = (up - down) / (2 * eps);
        /* relative where the gradient is large, absolute (1e-6) where it is near zero */
        double err = fabs(numeric - g[i]) / (1.0 + fabs(numeric) + fabs(g[i]));
        ck_assert_msg(err < 1e-6, "param %zu: analytic %.12g numeric %.12g", i, g[i], numeric);
        worst = fmax(worst, fabs(g[i]));
    }
    ck_assert(worst > 1e-3); /* the check did look at a real gradient */
    free(X);
    free(theta);
    free(g);
    free(scratch);
    free(work);
}

START_TEST(gradient_check_logreg)
{
    ml_net net;
    ck_assert_int_eq(ml_net_make(&net, ML_LOGREG, ML_N_FEATURES, 0, 1), 0);
    check_gradient(&net, 3);
}
END_TEST

START_TEST(gradient_check_gru)
{
    ml_net net;
    ck_assert_int_eq(ml_net_make(&net, ML_GRU, 5, 4, 6), 0);
    check_gradient(&net, 4);
    ck_assert_int_eq(ml_net_make(&net, ML_GRU, ML_N_FEATURES, 3, 1), 0); /* one step: no recurrence */
    check_gradient(&net, 5);
}
END_TEST

static void assert_beats_baseline(const ml_model *m, const char *what)
{
    const ml_report *r = &m->report;
    ck_assert_uint_gt(r->test.n, 500);
    ck_assert_uint_eq(r->test.n, r->baseline_test.n);
    ck_assert_msg(r->test.auc > 0.6, "%s: test AUC %.4f", what, r->test.auc);
    ck_assert_msg(r->test.logloss < r->baseline_test.logloss - 0.02, "%s: log-loss %.5f vs baseline %.5f", what,
                  r->test.logloss, r->baseline_test.logloss);
    ck_assert_msg(r->test.accuracy > r->baseline_test.accuracy + 0.05, "%s: accuracy %.4f vs baseline %.4f", what,
                  r->test.accuracy, r->baseline_test.accuracy);
    ck_assert_double_eq(r->baseline_test.auc, 0.5);
}

/* On noise the honest answer is "no edge": AUC near 0.5 and no log-loss gain worth the name. */
static void assert_no_edge(const ml_model *m, const char *what)
{
    const ml_report *r = &m->report;
    ck_assert_uint_gt(r->test.n, 2000);
    ck_assert_msg(fabs(r->test.auc - 0.5) < 0.05, "%s: test AUC %.4f on noise", what, r->test.auc);
    ck_assert_msg(r->test.logloss > r->baseline_test.logloss - 0.003, "%s: log-loss %.5f vs baseline %.5f on noise",
                  what, r->test.logloss, r->baseline_test.logloss);
}

/* Trains a kind with the test settings on n synthetic candles (phi as in make_candles). */
static ml_model *train_synthetic(ml_kind kind, size_t n, double phi, uint64_t seed)
{
    candle *c = ml_test_candles(n, phi, seed);
    ml_train_opts o;
    test_opts(&o, kind);
    ml_model *m = train_ok(c, n, &o);
    free(c);
    return m;
}

START_TEST(logreg_finds_planted_signal)
{
    ml_model *m = train_synthetic(ML_LOGREG, 4000, -0.5, 7);
    assert_beats_baseline(m, "logreg");
    ck_assert_int_ge(m->curve.best_epoch, 1);
    ck_assert_int_le(m->curve.best_epoch, m->curve.len);
    ml_model_free(m);
}
END_TEST

START_TEST(gru_finds_planted_signal)
{
    ml_model *m = train_synthetic(ML_GRU, 4000, -0.5, 7);
    assert_beats_baseline(m, "gru");
    ml_model_free(m);
}
END_TEST

START_TEST(logreg_no_edge_on_random_walk)
{
    ml_model *m = train_synthetic(ML_LOGREG, 8000, 0, 8);
    assert_no_edge(m, "logreg");
    ml_model_free(m);
}
END_TEST

START_TEST(gru_no_edge_on_random_walk)
{
    ml_model *m = train_synthetic(ML_GRU, 8000, 0, 8);
    assert_no_edge(m, "gru");
    ml_model_free(m);
}
END_TEST

/* One thread or four: the same weights, curve and metrics, to the bit. */
START_TEST(threads_do_not_change_results)
{
    const size_t n = 1500;
    candle *c = ml_test_candles(n, -0.4, 21);
    for (int kind = ML_LOGREG; kind <= ML_GRU; kind++) {
        ml_train_opts o;
        test_opts(&o, (ml_kind)kind);
        o.hp.epochs = 3;
        o.hp.batch_size = 50; /* not a multiple of the 16 shards */
        o.threads = 1;
        ml_model *a = train_ok(c, n, &o);
        o.threads = 4;
        ml_model *b = train_ok(c, n, &o);
        ck_assert_uint_eq(a->net.n_params, b->net.n_params);
        ck_assert_int_eq(memcmp(a->params, b->params, a->net.n_params * sizeof(double)), 0);
        ck_assert_int_eq(a->curve.len, b->curve.len);
        ck_assert_int_eq(memcmp(a->curve.train_loss, b->curve.train_loss, (size_t)a->curve.len * sizeof(double)), 0);
        ck_assert_int_eq(memcmp(a->curve.val_loss, b->curve.val_loss, (size_t)a->curve.len * sizeof(double)), 0);
        ck_assert(same_bits(a->report.test.logloss, b->report.test.logloss));
        /* and the seed matters: another seed is another model (the GRU's init, both shuffles) */
        o.hp.seed = 2;
        ml_model *d = train_ok(c, n, &o);
        ck_assert_int_ne(memcmp(a->params, d->params, a->net.n_params * sizeof(double)), 0);
        ml_model_free(a);
        ml_model_free(b);
        ml_model_free(d);
    }
    free(c);
}
END_TEST

/* A live bot fed one candle at a time gets exactly the batch series. */
START_TEST(stream_equals_batch)
{
    const size_t n = 1200;
    candle *c = ml_test_candles(n, -0.3, 31);
    double *batch = malloc(n * sizeof *batch), *batch4 = malloc(n * sizeof *batch4);
    for (int kind = ML_LOGREG; kind <= ML_GRU; kind++) {
        ml_train_opts o;
        test_opts(&o, (ml_kind)kind);
        o.hp.epochs = 2;
        ml_model *m = train_ok(c, n, &o);
        ck_assert_int_eq(ml_predict_series(m, c, n, 1, batch), ML_OK);
        ck_assert_int_eq(ml_predict_series(m, c, n, 4, batch4), ML_OK);
        ck_assert_int_eq(memcmp(batch, batch4, n * sizeof *batch), 0);
        ml_stream *s = ml_stream_new(m);
        ck_assert_ptr_nonnull(s);
        size_t first = ml_model_first_row(m);
        ck_assert_uint_eq(first, ML_FEATURE_WARMUP + (kind == ML_GRU ? (size_t)o.hp.seq_len - 1 : 0));
        for (size_t t = 0; t < n; t++) {
            double p;
            int rc = ml_stream_update(s, &c[t], &p);
            ck_assert_int_eq(rc, t >= first);
            ck_assert_msg(same_bits(p, batch[t]), "candle %zu: stream %.17g batch %.17g", t, p, batch[t]);
            ck_assert(t >= first ? p > 0 && p < 1 : isnan(p));
        }
        double last;
        ck_assert_int_eq(ml_predict_last(m, c, 700, &last), ML_OK); /* from a shorter history too */
        ck_assert_int_eq(ml_predict_series(m, c, 700, 1, batch4), ML_OK);
        ck_assert(same_bits(last, batch4[699]));
        ck_assert_int_eq(ml_predict_last(m, c, first, &last), ML_OK);
        ck_assert(isnan(last));
        candle bad = c[0];
        bad.close = NAN;
        double p = 0;
        ck_assert_int_eq(ml_stream_update(s, &bad, &p), ML_ERR_INVALID);
        ck_assert_int_eq(ml_predict_series(m, &bad, 1, 1, batch), ML_ERR_INVALID);
        ml_stream_free(s);
        ml_model_free(m);
    }
    free(batch);
    free(batch4);
    free(c);
}
END_TEST

/* Rewrites a stream blob's checksum after an edit (FNV-1a 64 of the payload after the 48-byte
 * header, stored in the header's last 8 bytes), so the edit reaches the validation pass. */
static void reseal(unsigned char *blob, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 48; i < size; i++)
        h = (h ^ blob[i]) * 0x100000001b3ULL;
    memcpy(blob + 40, &h, sizeof h);
}

/* A bot that stops after any candle and resumes from the saved bytes goes on exactly as one that
 * never stopped; damaged blobs and blobs of another model are refused and change nothing. */
START_TEST(stream_save_and_resume)
{
    const size_t n = 400;
    candle *c = ml_test_candles(n, -0.3, 33);
    for (int kind = ML_LOGREG; kind <= ML_GRU; kind++) {
        ml_train_opts o;
        test_opts(&o, (ml_kind)kind);
        o.hp.epochs = 1;
        ml_model *m = train_ok(c, n, &o);
        o.hp.seed = 99;
        o.hp.learning_rate = 0.02;
        ml_model *other = train_ok(c, n, &o);
        ml_stream *live = ml_stream_new(m), *foreign = ml_stream_new(other);
        size_t size = ml_stream_state_size(live);
        unsigned char *blob = malloc(size), *copy = malloc(size);
        double p, q;
        for (size_t t = 0; t < n; t++) {
            if (t % 37 == 0 || t == ML_FEATURE_WARMUP + 3) {
                ck_assert_int_eq(ml_stream_save(live, blob, size), (long)size);
                ml_stream *resumed = ml_stream_new(m);
                ck_assert_int_eq(ml_stream_load(resumed, blob, size), ML_OK);
                ml_stream_free(live);
                live = resumed;
            }
            ck_assert_int_ge(ml_stream_update(live, &c[t], &p), 0);
        }
        ml_stream *straight = ml_stream_new(m);
        for (size_t t = 0; t < n; t++)
            ml_stream_update(straight, &c[t], &q);
        ck_assert(same_bits(p, q) && !isnan(p));

        ck_assert_int_eq(ml_stream_save(live, blob, size), (long)size);
        ck_assert_int_eq(ml_stream_save(live, blob, size - 1), ML_ERR_INVALID);
        ck_assert_int_eq(ml_stream_load(foreign, blob, size), ML_ERR_INVALID); /* another model */
        ck_assert_int_eq(ml_stream_load(live, blob, size - 1), ML_ERR_INVALID);
        for (size_t i = 0; i < size; i += 97) { /* one damaged byte anywhere */
            memcpy(copy, blob, size);
            copy[i] ^= 0x5A;
            ck_assert_msg(ml_stream_load(live, copy, size) == ML_ERR_INVALID, "byte %zu", i);
        }
        /* a right checksum over a ring index out of range: the validation pass refuses it */
        memcpy(copy, blob, size);
        int bad_pos = 9999;
        memcpy(copy + 48 + offsetof(ml_feature_state, sma20.pos), &bad_pos, sizeof bad_pos);
        reseal(copy, size);
        ck_assert_int_eq(ml_stream_load(live, copy, size), ML_ERR_INVALID);
        memcpy(copy + 48 + offsetof(ml_feature_state, sma20.pos), blob + 48 + offsetof(ml_feature_state, sma20.pos),
               sizeof bad_pos);
        reseal(copy, size);
        ck_assert_int_eq(ml_stream_load(live, copy, size), ML_OK); /* the same bytes, checked the same way */
        /* refused loads left it as it was: the next candle still matches */
        candle next = c[n - 1];
        next.open_time += 60000;
        ml_stream_update(live, &next, &p);
        ml_stream_update(straight, &next, &q);
        ck_assert(same_bits(p, q));
        free(blob);
        free(copy);
        ml_stream_free(live);
        ml_stream_free(straight);
        ml_stream_free(foreign);
        ml_model_free(m);
        ml_model_free(other);
    }
    free(c);
}
END_TEST

/* The GRU's own stream: rows pushed one at a time, logits equal to the batch window's. */
START_TEST(gru_stream_equals_window)
{
    gru_shape sh = {4, 5, 7};
    size_t P = gru_n_params(&sh), n = 40;
    double *theta = malloc(P * sizeof *theta), *X = malloc(n * 4 * sizeof *X);
    double *work = malloc(gru_work_len(&sh) * sizeof *work);
    gru_init(&sh, 9, theta);
    synth_rng rng;
    synth_rng_seed(&rng, 10);
    for (size_t i = 0; i < n * 4; i++)
        X[i] = synth_rng_normal(&rng);
    gru_stream st;
    ck_assert_int_eq(gru_stream_init(&st, &sh, theta), 0);
    for (size_t t = 0; t < n; t++) {
        double logit = NAN;
        int ready = gru_stream_push(&st, X + t * 4, &logit);
        ck_assert_int_eq(ready, t + 1 >= 7);
        if (ready)
            ck_assert(same_bits(logit, gru_logit(&sh, theta, X, t, work)));
    }
    gru_stream_free(&st);
    free(theta);
    free(X);
    free(work);
}
END_TEST

START_TEST(metrics_by_hand)
{
    double p[6] = {0.9, 0.8, 0.8, 0.3, 0.2, 0.5};
    signed char y[6] = {1, 1, 0, 0, 1, 0};
    /* positives 0.9, 0.8, 0.2 vs negatives 0.8, 0.3, 0.5: pairs won 3 + 2.5 (a tie) + 0 of 9 */
    ck_assert_double_eq_tol(ml_auc(p, y, 6), 5.5 / 9.0, 1e-15);
    /* p >= 0.5 says up: right on 0.9, 0.8, 0.3 */
    ck_assert_double_eq_tol(ml_accuracy(p, y, 6), 3.0 / 6.0, 1e-15);
    double want = -(log(0.9) + log(0.8) + log(0.2) + log(0.7) + log(0.2) + log(0.5)) / 6;
    ck_assert_double_eq_tol(ml_logloss(p, y, 6), want, 1e-15);
    /* clipping keeps a confident miss finite */
    double sure[2] = {0.0, 1.0};
    signed char wrong[2] = {1, 0};
    ck_assert_double_eq_tol(ml_logloss(sure, wrong, 2), -log(ML_PROB_EPS), 1e-2);
    ck_assert(isnan(ml_auc(p, wrong + 1, 1)));
    ml_metrics base;
    ml_metrics_baseline(0.4, y, 6, &base); /* says "down" everywhere: right on the 3 zeros */
    ck_assert_double_eq(base.auc, 0.5);
    ck_assert_double_eq_tol(base.accuracy, 0.5, 1e-15);
    ck_assert_double_eq_tol(base.logloss, -(3 * log(0.4) + 3 * log(0.6)) / 6, 1e-15);
    ck_assert_double_eq_tol(base.positive_rate, 0.5, 1e-15);
}
END_TEST

/* Dump, load, dump: the same text, and predictions equal to the bit. */
START_TEST(json_round_trip)
{
    const size_t n = 1200;
    candle *c = ml_test_candles(n, -0.3, 41);
    double *before = malloc(n * sizeof *before), *after = malloc(n * sizeof *after);
    for (int kind = ML_LOGREG; kind <= ML_GRU; kind++) {
        ml_train_opts o;
        test_opts(&o, (ml_kind)kind);
        o.hp.epochs = 2;
        o.hp.seed = 0x7FFFFFFFFFFFFFF1ULL;
        o.horizon = 3;
        ml_model *m = train_ok(c, n, &o);
        char *text = ml_model_dumps(m);
        ck_assert_ptr_nonnull(text);
        ml_model *back = NULL;
        char err[256] = "";
        ck_assert_msg(ml_model_loads(text, strlen(text), &back, err, sizeof err) == ML_OK, "%s", err);
        ck_assert_int_eq(back->kind, m->kind);
        ck_assert_int_eq(back->horizon, 3);
        ck_assert_uint_eq(back->hp.seed, o.hp.seed);
        ck_assert_int_eq(memcmp(back->params, m->params, m->net.n_params * sizeof(double)), 0);
        ck_assert_int_eq(memcmp(&back->scaler, &m->scaler, sizeof m->scaler), 0);
        ck_assert(same_bits(back->report.test.auc, m->report.test.auc));
        ck_assert_int_eq(back->curve.len, m->curve.len);
        char *again = ml_model_dumps(back);
        ck_assert_str_eq(again, text);
        json_t *rep = ml_report_to_json(m), *whole = ml_model_to_json(m);
        ck_assert(json_equal(json_object_get(rep, "metrics"), json_object_get(whole, "metrics")));
        ck_assert(json_equal(json_object_get(rep, "curve"), json_object_get(whole, "curve")));
        ck_assert_ptr_null(json_object_get(rep, "weights"));
        json_decref(rep);
        json_decref(whole);
        ck_assert_int_eq(ml_predict_series(m, c, n, 2, before), ML_OK);
        ck_assert_int_eq(ml_predict_series(back, c, n, 2, after), ML_OK);
        ck_assert_int_eq(memcmp(before, after, n * sizeof *before), 0);
        free(text);
        free(again);
        ml_model_free(m);
        ml_model_free(back);
    }
    free(before);
    free(after);
    free(c);
}
END_TEST

/* Loads text that must be refused: an error code, a reason, no model, no crash. */
static void refuse(const char *text, size_t len, const char *what)
{
    ml_model *m = (ml_model *)1;
    char err[256] = "";
    int rc = ml_model_loads(text, len, &m, err, sizeof err);
    ck_assert_msg(rc == ML_ERR_INVALID, "%s: accepted (rc %d)", what, rc);
    ck_assert_ptr_null(m);
    ck_assert_msg(err[0] != '\0', "%s: no reason given", what);
}

/* Replaces the first `from` in text with `to` and checks the result is refused. */
static void refuse_edit(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "'%s' not in the model text", from);
    size_t head = (size_t)(at - text), len = strlen(text) - strlen(from) + strlen(to);
    char *edited = malloc(len + 1);
    memcpy(edited, text, head);
    memcpy(edited + head, to, strlen(to));
    strcpy(edited + head + strlen(to), at + strlen(from));
    refuse(edited, len, from);
    free(edited);
}

START_TEST(json_malformed_is_refused)
{
    const size_t n = 900;
    candle *c = ml_test_candles(n, -0.3, 51);
    ml_train_opts o;
    test_opts(&o, ML_GRU);
    o.hp.hidden = 2;
    o.hp.seq_len = 3;
    o.hp.epochs = 1;
    ml_model *m = train_ok(c, n, &o);
    char *text = ml_model_dumps(m);
    size_t len = strlen(text);

    /* every truncation */
    for (size_t cut = 0; cut < len; cut++)
        refuse(text, cut, "truncated");
    /* garbled bytes: whatever still parses must load cleanly or be refused, never crash */
    char *copy = malloc(len + 1);
    const char junk[] = {'x', '"', '}', '[', '-', '9', 'e', ',', '\0'};
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, text, len + 1);
        copy[i] = junk[i % sizeof junk];
        ml_model *g = NULL;
        char err[256] = "";
        int rc = ml_model_loads(copy, len, &g, err, sizeof err);
        ck_assert(rc == ML_OK ? g != NULL : g == NULL && err[0] != '\0');
        ml_model_free(g);
    }
    free(copy);
    refuse_edit(text, "\"format\":1", "\"format\":2");
    refuse_edit(text, "\"kind\":\"gru\"", "\"kind\":\"lstm\"");
    refuse_edit(text, "\"feature_set\":1", "\"feature_set\":7");
    refuse_edit(text, "\"ret_1\"", "\"ret_2\"");
    refuse_edit(text, "\"horizon\":1", "\"horizon\":0");
    refuse_edit(text, "\"hidden\":2", "\"hidden\":3");     /* the weights no longer fit */
    refuse_edit(text, "\"seq_len\":3", "\"seq_len\":9999");
    refuse_edit(text, "\"learning_rate\":", "\"learning_rate\":-");
    refuse_edit(text, "\"standardization\":", "\"standardisation\":");
    refuse_edit(text, "\"metrics\":{", "\"metrics\":[");

    /* edits inside the tree, each on a fresh copy */
    for (int e = 0; e < 8; e++) {
        json_t *j = ml_model_to_json(m);
        json_t *st = json_object_get(j, "standardization"), *w = json_object_get(j, "weights");
        switch (e) {
        case 0: json_array_set_new(json_object_get(st, "std"), 0, json_real(0.0)); break;
        case 1: json_array_set_new(json_object_get(st, "std"), 4, json_real(-2.0)); break;
        case 2: json_array_set_new(json_object_get(st, "mean"), 3, json_null()); break;
        case 3: json_array_remove(w, json_array_size(w) - 1); break;
        case 4: json_array_append_new(w, json_real(1.0)); break;
        case 5: json_array_set_new(w, 5, json_string("1")); break;
        case 6: json_object_set_new(json_object_get(j, "split"), "train", json_pack("[ii]", 500, 60)); break;
        case 7: json_object_del(json_object_get(j, "metrics"), "test"); break;
        }
        ml_model *bad = (ml_model *)1;
        char err[256] = "";
        ck_assert_msg(ml_model_from_json(j, &bad, err, sizeof err) == ML_ERR_INVALID, "edit %d accepted", e);
        ck_assert_ptr_null(bad);
        ck_assert(err[0] != '\0');
        json_decref(j);
    }
    refuse("[]", 2, "an array");
    refuse("{}", 2, "an empty object");
    refuse("{\"format\":1,\"format\":1}", 23, "duplicate keys");

    ml_model_free(m);
    free(text);
    free(c);
}
END_TEST

/* Job options: defaults fill what a job leaves out, a round trip keeps everything, and a typo or
 * an out-of-range value is refused with a reason. */
START_TEST(options_json)
{
    ml_train_opts o, back;
    char err[256] = "";
    ml_train_opts_defaults(&o, ML_GRU);
    o.horizon = 6;
    o.hp.hidden = 24;
    o.hp.learning_rate = 0.0042;
    o.hp.seed = 77;
    json_t *j = ml_opts_to_json(&o);
    ck_assert_ptr_nonnull(j);
    memset(&back, 0, sizeof back);
    back.threads = 3;
    ck_assert_msg(ml_opts_from_json(j, &back, err, sizeof err) == ML_OK, "%s", err);
    ck_assert_int_eq(back.threads, 3); /* the caller's */
    back.threads = o.threads;
    ck_assert_int_eq(memcmp(&back.hp, &o.hp, sizeof o.hp), 0);
    ck_assert_int_eq(back.kind, ML_GRU);
    ck_assert_int_eq(back.horizon, 6);
    ck_assert(back.train_frac == o.train_frac && back.val_frac == o.val_frac);
    json_decref(j);

    json_error_t je;
    j = json_loads("{\"kind\":\"gru\",\"hyperparameters\":{\"hidden\":8}}", 0, &je);
    ck_assert_int_eq(ml_opts_from_json(j, &back, err, sizeof err), ML_OK);
    ml_train_opts_defaults(&o, ML_GRU);
    o.hp.hidden = 8;
    ck_assert_int_eq(memcmp(&back.hp, &o.hp, sizeof o.hp), 0);
    json_decref(j);

    const char *refused[] = {
        "{\"horizon\":3}",                                            /* no kind */
        "{\"kind\":\"svm\"}",
        "{\"kind\":\"gru\",\"horizn\":3}",                           /* a typo */
        "{\"kind\":\"gru\",\"hyperparameters\":{\"hiden\":8}}",
        "{\"kind\":\"logreg\",\"hyperparameters\":{\"hidden\":8}}",  /* logreg has no hidden layer */
        "{\"kind\":\"gru\",\"horizon\":0}",
        "{\"kind\":\"gru\",\"train_frac\":0.7,\"val_frac\":0.3}",
        "{\"kind\":\"gru\",\"hyperparameters\":{\"learning_rate\":\"fast\"}}",
        "{\"kind\":\"gru\",\"hyperparameters\":[]}",
        "{\"kind\":\"gru\",\"hyperparameters\":{\"seed\":-1}}",
        "[1]",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        j = json_loads(refused[i], 0, &je);
        ck_assert_ptr_nonnull(j);
        ml_train_opts keep = back;
        err[0] = '\0';
        ck_assert_msg(ml_opts_from_json(j, &back, err, sizeof err) == ML_ERR_INVALID, "accepted %s", refused[i]);
        ck_assert_msg(err[0] != '\0', "no reason for %s", refused[i]);
        ck_assert_int_eq(memcmp(&keep, &back, sizeof keep), 0);
        json_decref(j);
    }
}
END_TEST

static int cancel_at_once(void *ctx, double fraction)
{
    int *calls = ctx;
    ++*calls;
    return fraction > 0.1;
}

static int count_progress(void *ctx, double fraction)
{
    double *last = ctx;
    ck_assert(fraction >= *last && fraction <= 1.0);
    *last = fraction;
    return 0;
}

START_TEST(progress_and_cancel)
{
    const size_t n = 1500;
    candle *c = ml_test_candles(n, -0.3, 61);
    ml_train_opts o;
    test_opts(&o, ML_LOGREG);
    o.hp.batch_size = 8;
    o.hp.patience = 0;
    int calls = 0;
    o.progress = cancel_at_once;
    o.progress_ctx = &calls;
    ml_model *m = (ml_model *)1;
    char err[128] = "";
    ck_assert_int_eq(ml_train(c, n, &o, &m, NULL, err, sizeof err), ML_ERR_CANCELLED);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(err, "cancelled");
    ck_assert_int_gt(calls, 1);

    double last = 0;
    o.progress = count_progress;
    o.progress_ctx = &last;
    o.hp.epochs = 3;
    m = train_ok(c, n, &o);
    ck_assert_double_eq(last, 1.0);
    ml_model_free(m);
    free(c);
}
END_TEST

START_TEST(bad_input_is_refused)
{
    const size_t n = 600;
    candle *c = ml_test_candles(n, 0, 71);
    ml_train_opts o;
    test_opts(&o, ML_GRU);
    ml_model *m = (ml_model *)1;
    char err[256] = "";
    ck_assert_int_eq(ml_train(c, 62, &o, &m, NULL, err, sizeof err), ML_ERR_INVALID); /* too short */
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err, "cannot split"));
    c[300].low = -1;
    ck_assert_int_eq(ml_train(c, n, &o, &m, NULL, err, sizeof err), ML_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "candle 300"));
    c[300].low = c[300].close * 0.99;
    o.hp.hidden = 0;
    ck_assert_int_eq(ml_train(c, n, &o, &m, NULL, err, sizeof err), ML_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "hidden"));
    o.hp.hidden = 4;
    o.val_frac = 0.5; /* 0.5 + 0.5 leaves no test set */
    ck_assert_int_eq(ml_train(c, n, &o, &m, NULL, err, sizeof err), ML_ERR_INVALID);
    o.val_frac = 0.2;
    o.kind = (ml_kind)9;
    ck_assert_int_eq(ml_train(c, n, &o, &m, NULL, err, sizeof err), ML_ERR_INVALID);
    free(c);
}
END_TEST

/* Each test in its own case, with a generous ceiling for sanitizer builds on a busy machine (the
 * training tests take about a second): a guard against hangs, not a speed assertion. */
#define ML_ADD(suite, fn)                                                                          \
    do {                                                                                           \
        TCase *tc_ = tcase_create(#fn);                                                            \
        tcase_add_test(tc_, fn);                                                                   \
        tcase_set_timeout(tc_, 120);                                                               \
        suite_add_tcase((suite), tc_);                                                             \
    } while (0)

int main(void)
{
    Suite *s = suite_create("ml");
    ML_ADD(s, features_causal_and_streaming);
    ML_ADD(s, labels_and_horizon);
    ML_ADD(s, split_has_gaps_and_no_leak);
    ML_ADD(s, training_does_not_see_later_sets);
    ML_ADD(s, gradient_check_logreg);
    ML_ADD(s, gradient_check_gru);
    ML_ADD(s, logreg_finds_planted_signal);
    ML_ADD(s, gru_finds_planted_signal);
    ML_ADD(s, logreg_no_edge_on_random_walk);
    ML_ADD(s, gru_no_edge_on_random_walk);
    ML_ADD(s, threads_do_not_change_results);
    ML_ADD(s, stream_equals_batch);
    ML_ADD(s, stream_save_and_resume);
    ML_ADD(s, gru_stream_equals_window);
    ML_ADD(s, metrics_by_hand);
    ML_ADD(s, json_round_trip);
    ML_ADD(s, json_malformed_is_refused);
    ML_ADD(s, options_json);
    ML_ADD(s, progress_and_cancel);
    ML_ADD(s, bad_input_is_refused);
    return unit_run(s);
}
