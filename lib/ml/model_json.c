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

/* The object when every put succeeded; otherwise NULL (and the object is released). */
static json_t *finish(json_t *o, int bad)
{
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *metrics_json(const ml_metrics *m)
{
    json_t *o = json_object();
    int bad = !o;
    put(o, "n", json_integer((json_int_t)m->n), &bad);
    put(o, "accuracy", num(m->accuracy), &bad);
    put(o, "auc", num(m->auc), &bad);
    put(o, "logloss", num(m->logloss), &bad);
    put(o, "positive_rate", num(m->positive_rate), &bad);
    return finish(o, bad);
}

static json_t *hparams_json(const ml_hparams *hp)
{
    json_t *o = json_object();
    int bad = !o;
    put(o, "hidden", json_integer(hp->hidden), &bad);
    put(o, "seq_len", json_integer(hp->seq_len), &bad);
    put(o, "epochs", json_integer(hp->epochs), &bad);
    put(o, "batch_size", json_integer(hp->batch_size), &bad);
    put(o, "patience", json_integer(hp->patience), &bad);
    put(o, "shards", json_integer(hp->shards), &bad);
    put(o, "learning_rate", json_real(hp->learning_rate), &bad);
    put(o, "l2", json_real(hp->l2), &bad);
    put(o, "clip", json_real(hp->clip), &bad);
    put(o, "seed", json_integer((json_int_t)hp->seed), &bad);
    return finish(o, bad);
}

static json_t *split_json(const ml_model *m)
{
    const ml_split *s = &m->report.split;
    json_t *o = json_object();
    int bad = !o;
    put(o, "train_frac", json_real(m->train_frac), &bad);
    put(o, "val_frac", json_real(m->val_frac), &bad);
    put(o, "first", json_integer((json_int_t)s->first), &bad);
    put(o, "train", range_json(s->train_lo, s->train_hi), &bad);
    put(o, "val", range_json(s->val_lo, s->val_hi), &bad);
    put(o, "test", range_json(s->test_lo, s->test_hi), &bad);
    return finish(o, bad);
}

static json_t *report_metrics_json(const ml_report *r)
{
    json_t *o = json_object();
    int bad = !o;
    put(o, "base_rate", num(r->base_rate), &bad);
    put(o, "train", metrics_json(&r->train), &bad);
    put(o, "val", metrics_json(&r->val), &bad);
    put(o, "test", metrics_json(&r->test), &bad);
    put(o, "baseline_val", metrics_json(&r->baseline_val), &bad);
    put(o, "baseline_test", metrics_json(&r->baseline_test), &bad);
    return finish(o, bad);
}

static json_t *curve_json(const ml_curve *c)
{
    json_t *o = json_object();
    int bad = !o;
    put(o, "best_epoch", json_integer(c->best_epoch), &bad);
    put(o, "train_loss", num_array(c->train_loss, (size_t)c->len), &bad);
    put(o, "val_loss", num_array(c->val_loss, (size_t)c->len), &bad);
    return finish(o, bad);
}

json_t *ml_model_to_json(const ml_model *m)
{
    json_t *o = json_object(), *names = json_array(), *st = json_object();
    int bad = !o || !names || !st;
    for (int j = 0; names && j < m->n_features; j++)
        if (json_array_append_new(names, json_string(ml_feature_names[j])) < 0)
            bad = 1;
    put(st, "mean", num_array(m->scaler.mean, (size_t)m->n_features), &bad);
    put(st, "std", num_array(m->scaler.std, (size_t)m->n_features), &bad);
    put(o, "format", json_integer(m->format), &bad);
    put(o, "kind", json_string(ml_kind_name(m->kind)), &bad);
    put(o, "feature_set", json_integer(m->feature_set), &bad);
    put(o, "features", names, &bad);
    put(o, "horizon", json_integer(m->horizon), &bad);
    put(o, "hyperparameters", hparams_json(&m->hp), &bad);
    put(o, "split", split_json(m), &bad);
    put(o, "standardization", st, &bad);
    put(o, "weights", num_array(m->params, m->net.n_params), &bad);
    put(o, "metrics", report_metrics_json(&m->report), &bad);
    put(o, "curve", curve_json(&m->curve), &bad);
    return finish(o, bad);
}

json_t *ml_report_to_json(const ml_model *m)
{
    json_t *o = json_object();
    int bad = !o;
    put(o, "kind", json_string(ml_kind_name(m->kind)), &bad);
    put(o, "horizon", json_integer(m->horizon), &bad);
    put(o, "epochs_run", json_integer(m->report.epochs_run), &bad);
    put(o, "split", split_json(m), &bad);
    put(o, "metrics", report_metrics_json(&m->report), &bad);
    put(o, "curve", curve_json(&m->curve), &bad);
    return finish(o, bad);
}

json_t *ml_opts_to_json(const ml_train_opts *opts)
{
    json_t *o = json_object();
    int bad = !o;
    put(o, "kind", json_string(ml_kind_name(opts->kind)), &bad);
    put(o, "horizon", json_integer(opts->horizon), &bad);
    put(o, "train_frac", json_real(opts->train_frac), &bad);
    put(o, "val_frac", json_real(opts->val_frac), &bad);
    put(o, "hyperparameters", hparams_json(&opts->hp), &bad);
    return finish(o, bad);
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

/* ---- training options (what a job asks for) ---- */

/* Refuses keys outside keys[0..n): a misspelt option must not silently train with a default. */
static int only_keys(reader *rd, const json_t *obj, const char *const *keys, size_t n, const char *where)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t i = 0;
        while (i < n && strcmp(key, keys[i]) != 0)
            i++;
        if (i == n)
            return bad(rd, "%s: unknown option \"%s\"", where, key);
    }
    return 0;
}

/* Optional integer: a missing key leaves *out as it was. */
static int opt_int(reader *rd, const json_t *obj, const char *key, long long lo, long long hi, long long *out)
{
    return json_object_get(obj, key) ? read_int(rd, obj, key, lo, hi, out) : 0;
}

static int opt_num(reader *rd, const json_t *obj, const char *key, double *out)
{
    return json_object_get(obj, key) ? read_num(rd, obj, key, 0, out) : 0;
}

static int opts_hparams(reader *rd, const json_t *o, ml_hparams *hp)
{
    static const char *const keys[] = {"hidden", "seq_len", "epochs", "batch_size", "patience",
                                       "shards", "learning_rate", "l2", "clip", "seed"};
    long long v[6] = {hp->hidden, hp->seq_len, hp->epochs, hp->batch_size, hp->patience, hp->shards};
    long long seed = (long long)hp->seed;
    if (only_keys(rd, o, keys, sizeof keys / sizeof keys[0], "hyperparameters") < 0)
        return -1;
    for (int i = 0; i < 6; i++)
        if (opt_int(rd, o, keys[i], 0, 1048576, &v[i]) < 0)
            return -1;
    if (opt_int(rd, o, "seed", 0, INT64_MAX, &seed) < 0 || opt_num(rd, o, "learning_rate", &hp->learning_rate) < 0 ||
        opt_num(rd, o, "l2", &hp->l2) < 0 || opt_num(rd, o, "clip", &hp->clip) < 0)
        return -1;
    hp->hidden = (int)v[0];
    hp->seq_len = (int)v[1];
    hp->epochs = (int)v[2];
    hp->batch_size = (int)v[3];
    hp->patience = (int)v[4];
    hp->shards = (int)v[5];
    hp->seed = (uint64_t)seed;
    return 0;
}

int ml_opts_from_json(const json_t *j, ml_train_opts *o, char *err, size_t errlen)
{
    static const char *const keys[] = {"kind", "horizon", "train_frac", "val_frac", "hyperparameters"};
    reader rd = {err, errlen};
    if (!json_is_object(j))
        return bad(&rd, "options: expected an object"), ML_ERR_INVALID;
    ml_kind kind = ml_kind_parse(json_string_value(json_object_get(j, "kind")));
    if (!kind)
        return bad(&rd, "kind: expected \"logreg\" or \"gru\""), ML_ERR_INVALID;
    ml_train_opts t;
    ml_train_opts_defaults(&t, kind);
    long long horizon = t.horizon;
    json_t *hp = json_object_get(j, "hyperparameters");
    if (only_keys(&rd, j, keys, sizeof keys / sizeof keys[0], "options") < 0 ||
        opt_int(&rd, j, "horizon", 1, ML_MAX_HORIZON, &horizon) < 0 ||
        opt_num(&rd, j, "train_frac", &t.train_frac) < 0 || opt_num(&rd, j, "val_frac", &t.val_frac) < 0)
        return ML_ERR_INVALID;
    if (hp && !json_is_object(hp))
        return bad(&rd, "hyperparameters: expected an object"), ML_ERR_INVALID;
    if (hp && opts_hparams(&rd, hp, &t.hp) < 0)
        return ML_ERR_INVALID;
    t.horizon = (int)horizon;
    if (!(t.train_frac > 0 && t.val_frac > 0 && t.train_frac + t.val_frac < 1))
        return bad(&rd, "train_frac and val_frac must be > 0 with train_frac + val_frac < 1"), ML_ERR_INVALID;
    if (ml_hparams_check(kind, &t.hp, err, errlen) < 0)
        return ML_ERR_INVALID;
    t.threads = o->threads; /* the worker's choice, not the job's */
    t.progress = o->progress;
    t.progress_ctx = o->progress_ctx;
    t.engine = o->engine;
    *o = t;
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
