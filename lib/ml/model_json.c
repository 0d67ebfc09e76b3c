/* model_json.c — a model to and from JSON (format ML_FORMAT, docs/ml.md): every double written
 * with 17 significant digits so it reads back to the same bits; the loader checks every field. */
#include "ml.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ---- */

/* json_object_set_new that remembers a failure, so the builder checks once at its end */
static void put(json_t *obj, const char *key, json_t *v, int *bad)
{
    if (!v || json_object_set_new(obj, key, v) < 0)
        *bad = 1;
}

/* A number, or null for NAN (JSON has no NaN): an undefined metric such as a one-class AUC. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *num_array(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, num(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *range_json(size_t lo, size_t hi)
{
    return json_pack("[II]", (json_int_t)lo, (json_int_t)hi);
}

static json_t *metrics_json(const ml_metrics *m)
{
    json_t *o = json_object();
    int bad = !o;
    if (o) {
        put(o, "n", json_integer((json_int_t)m->n), &bad);
        put(o, "accuracy", num(m->accuracy), &bad);
        put(o, "auc", num(m->auc), &bad);
        put(o, "logloss", num(m->logloss), &bad);
        put(o, "positive_rate", num(m->positive_rate), &bad);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *ml_model_to_json(const ml_model *m)
{
    json_t *o = json_object(), *hp = json_object(), *sp = json_object(), *st = json_object();
    json_t *me = json_object(), *cu = json_object(), *names = json_array();
    int bad = !o || !hp || !sp || !st || !me || !cu || !names;
    if (bad) {
        json_decref(o), json_decref(hp), json_decref(sp), json_decref(st);
        json_decref(me), json_decref(cu), json_decref(names);
        return NULL;
    }
    put(o, "format", json_integer(m->format), &bad);
    put(o, "kind", json_string(ml_kind_name(m->kind)), &bad);
    put(o, "feature_set", json_integer(m->feature_set), &bad);
    for (int j = 0; j < m->n_features; j++)
        if (json_array_append_new(names, json_string(ml_feature_names[j])) < 0)
            bad = 1;
    put(o, "features", names, &bad);
    put(o, "horizon", json_integer(m->horizon), &bad);

    put(hp, "hidden", json_integer(m->hp.hidden), &bad);
    put(hp, "seq_len", json_integer(m->hp.seq_len), &bad);
    put(hp, "epochs", json_integer(m->hp.epochs), &bad);
    put(hp, "batch_size", json_integer(m->hp.batch_size), &bad);
    put(hp, "patience", json_integer(m->hp.patience), &bad);
    put(hp, "shards", json_integer(m->hp.shards), &bad);
    put(hp, "learning_rate", json_real(m->hp.learning_rate), &bad);
    put(hp, "l2", json_real(m->hp.l2), &bad);
    put(hp, "clip", json_real(m->hp.clip), &bad);
    put(hp, "seed", json_integer((json_int_t)m->hp.seed), &bad);
    put(o, "hyperparameters", hp, &bad);

    const ml_split *s = &m->report.split;
    put(sp, "train_frac", json_real(m->train_frac), &bad);
    put(sp, "val_frac", json_real(m->val_frac), &bad);
    put(sp, "first", json_integer((json_int_t)s->first), &bad);
    put(sp, "train", range_json(s->train_lo, s->train_hi), &bad);
    put(sp, "val", range_json(s->val_lo, s->val_hi), &bad);
    put(sp, "test", range_json(s->test_lo, s->test_hi), &bad);
    put(o, "split", sp, &bad);

    put(st, "mean", num_array(m->scaler.mean, (size_t)m->n_features), &bad);
    put(st, "std", num_array(m->scaler.std, (size_t)m->n_features), &bad);
    put(o, "standardization", st, &bad);
    put(o, "weights", num_array(m->params, m->net.n_params), &bad);

    const ml_report *r = &m->report;
    put(me, "base_rate", num(r->base_rate), &bad);
    put(me, "train", metrics_json(&r->train), &bad);
    put(me, "val", metrics_json(&r->val), &bad);
    put(me, "test", metrics_json(&r->test), &bad);
    put(me, "baseline_val", metrics_json(&r->baseline_val), &bad);
    put(me, "baseline_test", metrics_json(&r->baseline_test), &bad);
    put(o, "metrics", me, &bad);

    put(cu, "best_epoch", json_integer(m->curve.best_epoch), &bad);
    put(cu, "train_loss", num_array(m->curve.train_loss, (size_t)m->curve.len), &bad);
    put(cu, "val_loss", num_array(m->curve.val_loss, (size_t)m->curve.len), &bad);
    put(o, "curve", cu, &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *ml_model_dumps(const ml_model *m)
{
    json_t *j = ml_model_to_json(m);
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
    return s;
}

/* ---- reading ---- */

typedef struct reader {
    char *err;
    size_t errlen;
} reader;

/* Records the reason and returns -1. */
#define bad(rd, ...) ml_errorf((rd)->err, (rd)->errlen, -1, __VA_ARGS__)

static int read_int(reader *rd, const json_t *obj, const char *key, long long lo, long long hi, long long *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return bad(rd, "%s: expected an integer", key);
    long long x = json_integer_value(v);
    if (x < lo || x > hi)
        return bad(rd, "%s: %lld is outside %lld..%lld", key, x, lo, hi);
    *out = x;
    return 0;
}

/* A finite number (integer or real); with allow_null, null reads as NAN. */
static int read_num_value(reader *rd, const json_t *v, const char *what, int allow_null, double *out)
{
    if (allow_null && json_is_null(v)) {
        *out = NAN;
        return 0;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return bad(rd, "%s: expected a number", what);
    *out = json_number_value(v);
    return 0;
}

static int read_num(reader *rd, const json_t *obj, const char *key, int allow_null, double *out)
{
    return read_num_value(rd, json_object_get(obj, key), key, allow_null, out);
}

/* An array of exactly n numbers. */
static int read_nums(reader *rd, const json_t *obj, const char *key, size_t n, int allow_null, double *out)
{
    json_t *a = json_object_get(obj, key);
    if (!json_is_array(a) || json_array_size(a) != n)
        return bad(rd, "%s: expected an array of %zu numbers", key, n);
    for (size_t i = 0; i < n; i++)
        if (read_num_value(rd, json_array_get(a, i), key, allow_null, &out[i]) < 0)
            return -1;
    return 0;
}

static int read_range(reader *rd, const json_t *obj, const char *key, size_t *lo, size_t *hi)
{
    json_t *a = json_object_get(obj, key);
    json_t *x = json_array_get(a, 0), *y = json_array_get(a, 1);
    if (!json_is_array(a) || json_array_size(a) != 2 || !json_is_integer(x) || !json_is_integer(y) ||
        json_integer_value(x) < 0 || json_integer_value(y) < json_integer_value(x))
        return bad(rd, "split.%s: expected [lo, hi] with 0 <= lo <= hi", key);
    *lo = (size_t)json_integer_value(x);
    *hi = (size_t)json_integer_value(y);
    return 0;
}

static int read_object(reader *rd, const json_t *obj, const char *key, json_t **out)
{
    *out = json_object_get(obj, key);
    return json_is_object(*out) ? 0 : bad(rd, "%s: expected an object", key);
}

static int read_hparams(reader *rd, const json_t *o, ml_kind kind, ml_hparams *hp)
{
    long long v[7];
    static const char *const keys[7] = {"hidden", "seq_len", "epochs", "batch_size", "patience", "shards", "seed"};
    for (int i = 0; i < 7; i++)
        if (read_int(rd, o, keys[i], 0, i == 6 ? INT64_MAX : 1048576, &v[i]) < 0)
            return -1;
    hp->hidden = (int)v[0];
    hp->seq_len = (int)v[1];
    hp->epochs = (int)v[2];
    hp->batch_size = (int)v[3];
    hp->patience = (int)v[4];
    hp->shards = (int)v[5];
    hp->seed = (uint64_t)v[6];
    if (read_num(rd, o, "learning_rate", 0, &hp->learning_rate) < 0 || read_num(rd, o, "l2", 0, &hp->l2) < 0 ||
        read_num(rd, o, "clip", 0, &hp->clip) < 0)
        return -1;
    return ml_hparams_check(kind, hp, rd->err, rd->errlen);
}

static int read_metrics(reader *rd, const json_t *parent, const char *key, ml_metrics *m)
{
    json_t *o;
    long long n = 0;
    if (read_object(rd, parent, key, &o) < 0 || read_int(rd, o, "n", 0, INT64_MAX, &n) < 0 ||
        read_num(rd, o, "accuracy", 1, &m->accuracy) < 0 || read_num(rd, o, "auc", 1, &m->auc) < 0 ||
        read_num(rd, o, "logloss", 1, &m->logloss) < 0 || read_num(rd, o, "positive_rate", 1, &m->positive_rate) < 0)
        return -1;
    m->n = (size_t)n;
    return 0;
}

static int read_split(reader *rd, const json_t *o, ml_model *m)
{
    ml_split *s = &m->report.split;
    long long first = 0;
    if (read_num(rd, o, "train_frac", 0, &m->train_frac) < 0 || read_num(rd, o, "val_frac", 0, &m->val_frac) < 0 ||
        read_int(rd, o, "first", 0, INT64_MAX, &first) < 0 ||
        read_range(rd, o, "train", &s->train_lo, &s->train_hi) < 0 ||
        read_range(rd, o, "val", &s->val_lo, &s->val_hi) < 0 ||
        read_range(rd, o, "test", &s->test_lo, &s->test_hi) < 0)
        return -1;
    s->first = (size_t)first;
    s->horizon = m->horizon;
    if (!(m->train_frac > 0 && m->val_frac > 0 && m->train_frac + m->val_frac < 1))
        return bad(rd, "split: fractions must be > 0 with train_frac + val_frac < 1");
    if (s->train_lo < s->first || s->val_lo < s->train_hi || s->test_lo < s->val_hi)
        return bad(rd, "split: sets must follow each other in time");
    return 0;
}

static int read_curve(reader *rd, const json_t *o, ml_model *m)
{
    json_t *tr = json_object_get(o, "train_loss");
    long long best = 0;
    size_t len = json_array_size(tr);
    if (!json_is_array(tr) || len > (size_t)m->hp.epochs)
        return bad(rd, "curve.train_loss: expected an array of at most %d numbers", m->hp.epochs);
    if (read_int(rd, o, "best_epoch", 0, (long long)len, &best) < 0)
        return -1;
    m->curve.len = (int)len;
    m->curve.best_epoch = (int)best;
    m->curve.train_loss = malloc((len ? len : 1) * sizeof(double));
    m->curve.val_loss = malloc((len ? len : 1) * sizeof(double));
    if (!m->curve.train_loss || !m->curve.val_loss)
        return bad(rd, "out of memory");
    return read_nums(rd, o, "train_loss", len, 1, m->curve.train_loss) < 0 ||
                   read_nums(rd, o, "val_loss", len, 1, m->curve.val_loss) < 0
               ? -1
               : 0;
}

int ml_model_from_json(const json_t *j, ml_model **out, char *err, size_t errlen)
{
    reader rd = {err, errlen};
    *out = NULL;
    if (!json_is_object(j))
        return bad(&rd, "model: expected an object"), ML_ERR_INVALID;
    ml_model *m = calloc(1, sizeof *m);
    if (!m)
        return bad(&rd, "out of memory"), ML_ERR_NOMEM;
    int rc = ML_ERR_INVALID;
    long long format = 0, fs = 0, horizon = 0;
    json_t *hp, *sp, *st, *me, *cu, *names = json_object_get(j, "features");
    ml_kind kind = ml_kind_parse(json_string_value(json_object_get(j, "kind")));
    if (read_int(&rd, j, "format", 0, INT32_MAX, &format) < 0)
        goto out;
    if (format != ML_FORMAT) {
        bad(&rd, "format: %lld is not supported (this build reads %d)", format, ML_FORMAT);
        goto out;
    }
    if (!kind) {
        bad(&rd, "kind: expected \"logreg\" or \"gru\"");
        goto out;
    }
    if (read_int(&rd, j, "feature_set", 0, INT32_MAX, &fs) < 0)
        goto out;
    if (fs != ML_FEATURE_SET) {
        bad(&rd, "feature_set: %lld is not supported (this build computes %d)", fs, ML_FEATURE_SET);
        goto out;
    }
    if (!json_is_array(names) || json_array_size(names) != ML_N_FEATURES) {
        bad(&rd, "features: expected the %d names of feature set %d", ML_N_FEATURES, ML_FEATURE_SET);
        goto out;
    }
    for (size_t i = 0; i < ML_N_FEATURES; i++) {
        const char *name = json_string_value(json_array_get(names, i));
        if (!name || strcmp(name, ml_feature_names[i]) != 0) {
            bad(&rd, "features[%zu]: expected \"%s\"", i, ml_feature_names[i]);
            goto out;
        }
    }
    if (read_int(&rd, j, "horizon", 1, ML_MAX_HORIZON, &horizon) < 0)
        goto out;
    m->kind = kind;
    m->format = ML_FORMAT;
    m->feature_set = ML_FEATURE_SET;
    m->n_features = ML_N_FEATURES;
    m->horizon = (int)horizon;
    if (read_object(&rd, j, "hyperparameters", &hp) < 0 || read_hparams(&rd, hp, kind, &m->hp) < 0)
        goto out;
    if (ml_net_make(&m->net, kind, ML_N_FEATURES, m->hp.hidden, m->hp.seq_len) < 0) {
        bad(&rd, "hyperparameters: bad model shape");
        goto out;
    }
    if (read_object(&rd, j, "split", &sp) < 0 || read_split(&rd, sp, m) < 0)
        goto out;
    if (read_object(&rd, j, "standardization", &st) < 0 ||
        read_nums(&rd, st, "mean", ML_N_FEATURES, 0, m->scaler.mean) < 0 ||
        read_nums(&rd, st, "std", ML_N_FEATURES, 0, m->scaler.std) < 0)
        goto out;
    for (int i = 0; i < ML_N_FEATURES; i++)
        if (!(m->scaler.std[i] > 0)) {
            bad(&rd, "std: every value must be > 0");
            goto out;
        }
    m->params = malloc(m->net.n_params * sizeof *m->params);
    if (!m->params) {
        bad(&rd, "out of memory");
        rc = ML_ERR_NOMEM;
        goto out;
    }
    if (read_nums(&rd, j, "weights", m->net.n_params, 0, m->params) < 0)
        goto out;
    ml_report *r = &m->report;
    if (read_object(&rd, j, "metrics", &me) < 0 || read_num(&rd, me, "base_rate", 1, &r->base_rate) < 0 ||
        read_metrics(&rd, me, "train", &r->train) < 0 || read_metrics(&rd, me, "val", &r->val) < 0 ||
        read_metrics(&rd, me, "test", &r->test) < 0 || read_metrics(&rd, me, "baseline_val", &r->baseline_val) < 0 ||
        read_metrics(&rd, me, "baseline_test", &r->baseline_test) < 0)
        goto out;
    if (read_object(&rd, j, "curve", &cu) < 0 || read_curve(&rd, cu, m) < 0)
        goto out;
    r->epochs_run = m->curve.len;
    r->best_epoch = m->curve.best_epoch;
    rc = ML_OK;
out:
    if (rc != ML_OK) {
        ml_model_free(m);
        return rc;
    }
    *out = m;
    return ML_OK;
}

int ml_model_loads(const char *text, size_t len, ml_model **out, char *err, size_t errlen)
{
    *out = NULL;
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        if (err && errlen)
            snprintf(err, errlen, "model JSON: %s (line %d)", je.text, je.line);
        return ML_ERR_INVALID;
    }
    int rc = ml_model_from_json(j, out, err, errlen);
    json_decref(j);
    return rc;
}
