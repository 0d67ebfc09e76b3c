/* ml.c — the entry points a job calls: ml_train (features → split → standardise → fit →
 * metrics against the naive baseline) and the batch predictors ml_predict_series / _last. */
#include "ml.h"
#include "mlmath.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* docs/ml.md, "Hyperparameters": sized for real series of tens of thousands of candles. */
static const ml_hparams logreg_defaults = {
    .hidden = 0, .seq_len = 1, .epochs = 50, .batch_size = 256, .patience = 5, .shards = 16,
    .learning_rate = 0.01, .l2 = 1e-4, .clip = 5.0, .seed = 1,
};
static const ml_hparams gru_defaults = {
    .hidden = 16, .seq_len = 16, .epochs = 30, .batch_size = 64, .patience = 5, .shards = 16,
    .learning_rate = 0.003, .l2 = 1e-5, .clip = 5.0, .seed = 1,
};

void ml_train_opts_defaults(ml_train_opts *o, ml_kind kind)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->horizon = 1;
    o->train_frac = 0.6;
    o->val_frac = 0.2;
    o->threads = 0;
    o->hp = kind == ML_GRU ? gru_defaults : logreg_defaults;
}

int ml_candle_ok(const candle *c)
{
    int finite = isfinite(c->open) && isfinite(c->high) && isfinite(c->low) && isfinite(c->close) &&
                 isfinite(c->volume);
    return finite && c->open > 0 && c->low > 0 && c->close > 0 && c->high >= c->low && c->volume >= 0 ? 0 : -1;
}

/* Index of the first bad candle, or n when all are good. */
static size_t first_bad_candle(const candle *c, size_t n)
{
    for (size_t t = 0; t < n; t++)
        if (ml_candle_ok(&c[t]) < 0)
            return t;
    return n;
}

void ml_model_free(ml_model *m)
{
    if (!m)
        return;
    free(m->params);
    ml_curve_free(&m->curve);
    free(m);
}

size_t ml_model_first_row(const ml_model *m)
{
    return ML_FEATURE_WARMUP + ml_net_context(&m->net);
}

/* The feature matrix of c[0..n) (malloc'd; NULL when out of memory). */
static double *feature_matrix(const candle *c, size_t n)
{
    double *X = malloc((n ? n : 1) * ML_N_FEATURES * sizeof *X);
    if (X)
        ml_features_batch(c, n, X);
    return X;
}

/* Standardises every row after the warm-up (warm-up rows stay NAN). */
static void standardise(const ml_scaler *sc, double *X, size_t n)
{
    if (n > ML_FEATURE_WARMUP)
        ml_scaler_apply(sc, X, ML_FEATURE_WARMUP, n);
}

/* Model and baseline metrics of one set of rows [lo, hi), from prob indexed from `base`. */
static void set_metrics(const double *prob, size_t base, const signed char *y, size_t lo, size_t hi,
                        double base_rate, ml_metrics *model, ml_metrics *baseline)
{
    ml_metrics_compute(prob + (lo - base), y + lo, hi - lo, model);
    if (baseline)
        ml_metrics_baseline(base_rate, y + lo, hi - lo, baseline);
}

int ml_train(const candle *c, size_t n, const ml_train_opts *o, ml_model **out, ml_report *rep, char *err,
             size_t errlen)
{
    *out = NULL;
    if (!c || !o)
        return ml_errorf(err, errlen, ML_ERR_INVALID, "no candles or options");
    if (o->kind != ML_LOGREG && o->kind != ML_GRU)
        return ml_errorf(err, errlen, ML_ERR_INVALID, "unknown model kind %d", (int)o->kind);
    if (o->horizon < 1 || o->horizon > ML_MAX_HORIZON)
        return ml_errorf(err, errlen, ML_ERR_INVALID, "horizon must be 1..%d", ML_MAX_HORIZON);
    if (o->threads < 0)
        return ml_errorf(err, errlen, ML_ERR_INVALID, "threads must be >= 0");
    if (ml_hparams_check(o->kind, &o->hp, err, errlen) < 0)
        return ML_ERR_INVALID;
    ml_net net;
    if (ml_net_make(&net, o->kind, ML_N_FEATURES, o->hp.hidden, o->hp.seq_len) < 0)
        return ml_errorf(err, errlen, ML_ERR_INVALID, "bad model shape");
    size_t bad = first_bad_candle(c, n);
    if (bad < n)
        return ml_errorf(err, errlen, ML_ERR_INVALID,
                         "candle %zu is not valid (prices must be finite and > 0, high >= low, volume >= 0)", bad);
    ml_split sp;
    size_t first = ML_FEATURE_WARMUP + ml_net_context(&net);
    if (ml_split_make(n, first, o->horizon, o->train_frac, o->val_frac, &sp) < 0)
        return ml_errorf(err, errlen, ML_ERR_INVALID,
                         "cannot split %zu candles: fractions must be in (0, 1) with train + val < 1, and every set "
                         "needs rows after %zu warm-up candles and gaps of %d",
                         n, first, o->horizon);

    int rc = ML_OK;
    ml_pool *pool = NULL;
    double *X = NULL, *prob = NULL;
    signed char *y = malloc(n);
    ml_model *m = calloc(1, sizeof *m);
    if (!y || !m)
        goto nomem;
    X = feature_matrix(c, n);
    if (!X)
        goto nomem;
    ml_scaler_fit(&m->scaler, X, sp.train_lo, sp.train_hi);
    standardise(&m->scaler, X, n);
    for (size_t i = ML_FEATURE_WARMUP * ML_N_FEATURES; i < n * ML_N_FEATURES; i++)
        if (!isfinite(X[i])) {
            rc = ml_errorf(err, errlen, ML_ERR_INVALID, "feature %s is not finite at candle %zu",
                           ml_feature_names[i % ML_N_FEATURES], i / ML_N_FEATURES);
            goto out;
        }
    ml_labels(c, n, o->horizon, y);

    m->kind = o->kind;
    m->format = ML_FORMAT;
    m->feature_set = ML_FEATURE_SET;
    m->n_features = ML_N_FEATURES;
    m->horizon = o->horizon;
    m->train_frac = o->train_frac;
    m->val_frac = o->val_frac;
    m->hp = o->hp;
    m->net = net;
    m->params = malloc(net.n_params * sizeof *m->params);
    pool = ml_pool_new(o->threads);
    if (!m->params || !pool)
        goto nomem;
    ml_net_init(&net, o->hp.seed, m->params);
    if (o->progress && o->progress(o->progress_ctx, 0.0)) {
        rc = ml_errorf(err, errlen, ML_ERR_CANCELLED, "cancelled");
        goto out;
    }
    rc = ml_fit(&net, &o->hp, X, y, &sp, pool, o->engine, m->params, &m->curve, o->progress, o->progress_ctx, 0.0, 0.95,
                err, errlen);
    if (rc != ML_OK)
        goto out;

    prob = malloc((sp.test_hi - sp.train_lo) * sizeof *prob);
    if (!prob || ml_net_predict(&net, m->params, X, sp.train_lo, sp.test_hi, pool, prob) < 0)
        goto nomem;
    ml_report *r = &m->report;
    size_t pos = 0;
    for (size_t t = sp.train_lo; t < sp.train_hi; t++)
        pos += y[t] != 0;
    r->split = sp;
    r->base_rate = (double)pos / (double)(sp.train_hi - sp.train_lo);
    set_metrics(prob, sp.train_lo, y, sp.train_lo, sp.train_hi, r->base_rate, &r->train, NULL);
    set_metrics(prob, sp.train_lo, y, sp.val_lo, sp.val_hi, r->base_rate, &r->val, &r->baseline_val);
    set_metrics(prob, sp.train_lo, y, sp.test_lo, sp.test_hi, r->base_rate, &r->test, &r->baseline_test);
    r->epochs_run = m->curve.len;
    r->best_epoch = m->curve.best_epoch;
    if (o->progress)
        o->progress(o->progress_ctx, 1.0); /* done: too late to cancel */
    goto out;
nomem:
    rc = ml_errorf(err, errlen, ML_ERR_NOMEM, "out of memory");
out:
    ml_pool_free(pool);
    free(X);
    free(y);
    free(prob);
    if (rc != ML_OK) {
        ml_model_free(m);
        return rc;
    }
    if (rep)
        *rep = m->report;
    *out = m;
    return ML_OK;
}

int ml_predict_series(const ml_model *m, const candle *c, size_t n, int threads, double *prob_out)
{
    if (!m || (!c && n) || !prob_out || threads < 0 || first_bad_candle(c, n) < n)
        return ML_ERR_INVALID;
    size_t first = ml_model_first_row(m);
    for (size_t t = 0; t < n && t < first; t++)
        prob_out[t] = NAN;
    if (n <= first)
        return ML_OK;
    double *X = feature_matrix(c, n);
    if (X)
        standardise(&m->scaler, X, n);
    ml_pool *pool = ml_pool_new(threads);
    int rc = ML_OK;
    if (!X || !pool || ml_net_predict(&m->net, m->params, X, first, n, pool, prob_out + first) < 0)
        rc = ML_ERR_NOMEM;
    ml_pool_free(pool);
    free(X);
    return rc;
}

int ml_predict_last(const ml_model *m, const candle *c, size_t n, double *prob)
{
    if (!m || !c || !prob || first_bad_candle(c, n) < n)
        return ML_ERR_INVALID;
    *prob = NAN;
    if (n <= ml_model_first_row(m))
        return ML_OK;
    double *X = feature_matrix(c, n);
    if (X)
        standardise(&m->scaler, X, n);
    double *work = malloc(m->net.work_len * sizeof *work);
    int rc = ML_ERR_NOMEM;
    if (X && work) {
        *prob = ml_sigmoid(ml_net_logit(&m->net, m->params, X, n - 1, work));
        rc = ML_OK;
    }
    free(X);
    free(work);
    return rc;
}
