/* walkforward.c — cuts the windows, runs each in-sample search on a view that ends where its
 * out-of-sample window begins, trades the winner out of sample, and sums up the difference. */
#include "walkforward.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wf_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int wf_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int wf_count(const json_t *j, const char *key, int64_t lo, int64_t hi, int64_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(j, key);
    if (!v)
        return 1;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return wf_fail(err, errlen, "%s: must be a whole number of candles in %lld..%lld", key, (long long)lo,
                       (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

int wf_spec_from_json(wf_spec *s, const engine_config *base, const json_t *j, int64_t traded, int64_t max_sets,
                      char *err, size_t errlen)
{
    wf_spec t;
    memset(&t, 0, sizeof t);
    if (!json_is_object(j))
        return wf_fail(err, errlen, "walk_forward: must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) if (strcmp(key, "optimization") && strcmp(key, "in_sample") &&
                                                 strcmp(key, "out_of_sample") && strcmp(key, "step") &&
                                                 strcmp(key, "anchored"))
        return wf_fail(err, errlen, "%.40s: unknown field", key);
    if (opt_spec_from_json(&t.opt, base, json_object_get(j, "optimization"), max_sets, err, errlen) < 0)
        return -1;
    int rc;
    if ((rc = wf_count(j, "in_sample", 50, 100000000, &t.in_sample, err, errlen)) != 0)
        return rc < 0 ? -1 : wf_fail(err, errlen, "in_sample: required (candles)");
    if ((rc = wf_count(j, "out_of_sample", 10, 100000000, &t.out_of_sample, err, errlen)) != 0)
        return rc < 0 ? -1 : wf_fail(err, errlen, "out_of_sample: required (candles)");
    t.step = t.out_of_sample;
    if (wf_count(j, "step", 1, 100000000, &t.step, err, errlen) < 0)
        return -1;
    v = json_object_get(j, "anchored");
    if (v && !json_is_boolean(v))
        return wf_fail(err, errlen, "anchored: must be true or false");
    t.anchored = v && json_is_true(v);
    if (t.in_sample + t.out_of_sample > traded)
        return wf_fail(err, errlen, "in_sample: %lld + %lld candles do not fit in the %lld of the period",
                       (long long)t.in_sample, (long long)t.out_of_sample, (long long)traded);
    int64_t windows = (traded - t.in_sample + t.step - 1) / t.step;
    if (windows > WF_MAX_WINDOWS)
        return wf_fail(err, errlen, "step: %lld windows, more than %d", (long long)windows, WF_MAX_WINDOWS);
    *s = t;
    return 0;
}

size_t wf_windows(const wf_spec *s, const sweep_series *se, wf_window *w, size_t max)
{
    size_t n = 0;
    for (int64_t k = 0; n < max; k++) {
        int64_t from = se->start + k * s->step;
        int64_t is_to = from + s->in_sample;
        if (is_to >= se->n)
            break;
        memset(&w[n], 0, sizeof w[n]);
        w[n].is_from = s->anchored ? se->start : from;
        w[n].is_to = is_to;
        w[n].oos_to = is_to + s->out_of_sample < se->n ? is_to + s->out_of_sample : se->n;
        w[n].is_score = w[n].oos_score = NAN;
        n++;
    }
    return n;
}

double wf_objective(const opt_spec *s, const sweep_metrics *m)
{
    opt_spec free_ = *s;
    free_.min_trades = 0;
    free_.max_drawdown_pct = 0;
    return opt_score(&free_, m);
}

/* The data as seen from [from, to): candles before `from` are history, none after `to` exists. */
static sweep_data wf_view(const sweep_data *d, int64_t from, int64_t to)
{
    sweep_data v = *d;
    v.se.start = from;
    v.se.n = to;
    return v;
}

int wf_run(const wf_spec *s, const sweep_data *d, const sweep_opts *so, opt_eval_fn eval, wf_window *w, size_t n,
           size_t from, wf_tick_fn tick, void *ud)
{
    for (size_t k = from; k < n; k++) {
        wf_window *win = &w[k];
        optimizer *o = opt_new(&s->opt);
        if (!o)
            return SWEEP_ENOMEM;
        sweep_data is = wf_view(d, win->is_from, win->is_to);
        int rc = opt_run(o, &is, so, eval, 256, NULL, NULL);
        if (rc != 0) {
            opt_free(o);
            return rc;
        }
        size_t nt;
        const opt_result *top = opt_top(o, &nt);
        win->found = nt > 0;
        if (nt) {
            memcpy(win->values, top[0].values, sizeof win->values);
            win->is_m = top[0].m;
            win->is_score = top[0].score;
            engine_config cfg;
            opt_config(&s->opt, top[0].values, &cfg);
            sweep_data oos = wf_view(d, win->is_to, win->oos_to);
            sweep_stats st;
            sweep_opts one = *so;
            one.progress = NULL;
            if ((rc = eval(&oos, &cfg, 1, &one, &st)) != 0) {
                opt_free(o);
                return rc;
            }
            sweep_metrics_compute(&st, d->se.timeframe_ms, &win->oos_m);
            win->oos_score = wf_objective(&s->opt, &win->oos_m);
        }
        opt_free(o);
        if (tick && tick(k + 1, n, ud))
            return SWEEP_ECANCELLED;
    }
    return 0;
}

static json_t *wf_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static int64_t wf_time(const sweep_series *se, int64_t i)
{
    return i < se->n ? se->time[i] : se->time[se->n - 1] + se->timeframe_ms;
}

json_t *wf_report_json(const wf_spec *s, const sweep_series *se, const wf_window *w, size_t n)
{
    json_t *wins = json_array();
    double is_sum = 0, oos_sum = 0, is_ann_sum = 0, oos_ann_sum = 0, growth = 1;
    int scored = 0, nann = 0, profitable = 0, found = 0;
    for (size_t k = 0; k < n; k++) {
        const wf_window *x = &w[k];
        json_t *vals = json_object();
        for (int d = 0; x->found && d < s->opt.ndims; d++)
            json_object_set_new(vals, s->opt.dims[d].name, json_real(x->values[d]));
        json_t *j = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:o}", "is_from", (json_int_t)wf_time(se, x->is_from),
                              "is_to", (json_int_t)wf_time(se, x->is_to), "oos_to", (json_int_t)wf_time(se, x->oos_to),
                              "is_from_index", (json_int_t)x->is_from, "is_to_index", (json_int_t)x->is_to,
                              "oos_to_index", (json_int_t)x->oos_to, "found", x->found, "values", vals);
        if (x->found) {
            json_object_set_new(j, "in_sample",
                                json_pack("{s:o,s:o}", "score", wf_num(x->is_score), "metrics", opt_metrics_json(&x->is_m)));
            json_object_set_new(j, "out_of_sample", json_pack("{s:o,s:o}", "score", wf_num(x->oos_score), "metrics",
                                                              opt_metrics_json(&x->oos_m)));
            found++;
            growth *= 1 + x->oos_m.profit_pct / 100.0;
            profitable += x->oos_m.profit_pct > 0;
            if (isfinite(x->is_score) && isfinite(x->oos_score)) {
                is_sum += x->is_score;
                oos_sum += x->oos_score;
                scored++;
            }
            /* annualised simple returns (profit % per year of the window): compounding a month
             * into a year would turn the short out-of-sample windows' noise into giant numbers */
            double year = 365.0 * 86400000.0 / (double)se->timeframe_ms; /* candles per year */
            double is_ann = x->is_m.profit_pct / ((double)(x->is_to - x->is_from) / year);
            double oos_ann = x->oos_m.profit_pct / ((double)(x->oos_to - x->is_to) / year);
            if (isfinite(is_ann) && isfinite(oos_ann)) {
                is_ann_sum += is_ann;
                oos_ann_sum += oos_ann;
                nann++;
            }
        }
        json_array_append_new(wins, j);
    }
    double is_mean = scored ? is_sum / scored : NAN, oos_mean = scored ? oos_sum / scored : NAN;
    double efficiency = nann && is_ann_sum > 0 ? oos_ann_sum / is_ann_sum : NAN;
    double oos_return = found ? (growth - 1) * 100.0 : NAN;
    /* the verdict the report page explains: an edge found in sample that survives out of it */
    const char *verdict = "no_result";
    if (found) {
        if (!(is_ann_sum > 0))
            verdict = "no_edge";
        else if (efficiency >= 0.5 && oos_return > 0)
            verdict = "robust";
        else if (oos_return > 0)
            verdict = "degraded";
        else
            verdict = "overfit";
    }
    json_t *sum = json_pack("{s:s,s:i,s:i,s:i,s:o,s:o,s:o,s:o,s:s}", "objective",
                            opt_objective_name(s->opt.objective), "windows", (int)n, "windows_found", found,
                            "profitable_windows", profitable, "in_sample_mean_score", wf_num(is_mean),
                            "out_of_sample_mean_score", wf_num(oos_mean), "out_of_sample_return_pct",
                            wf_num(oos_return), "efficiency", wf_num(efficiency), "verdict", verdict);
    return json_pack("{s:o,s:o}", "windows", wins, "summary", sum);
}

long wf_windows_from_json(const wf_spec *s, const json_t *report, wf_window *w, size_t n)
{
    json_t *wins = json_object_get(report, "windows");
    if (!json_is_array(wins) || json_array_size(wins) > n)
        return -1;
    size_t k;
    for (k = 0; k < json_array_size(wins); k++) {
        json_t *j = json_array_get(wins, k);
        if (json_integer_value(json_object_get(j, "is_from_index")) != w[k].is_from ||
            json_integer_value(json_object_get(j, "is_to_index")) != w[k].is_to ||
            json_integer_value(json_object_get(j, "oos_to_index")) != w[k].oos_to)
            return -1; /* windows of other data or another spec */
        w[k].found = json_is_true(json_object_get(j, "found"));
        if (!w[k].found)
            continue;
        json_t *vals = json_object_get(j, "values");
        for (int d = 0; d < s->opt.ndims; d++) {
            json_t *v = json_object_get(vals, s->opt.dims[d].name);
            if (!json_is_number(v))
                return -1;
            w[k].values[d] = json_number_value(v);
        }
        json_t *is = json_object_get(j, "in_sample"), *oos = json_object_get(j, "out_of_sample");
        opt_metrics_from_json(json_object_get(is, "metrics"), &w[k].is_m);
        opt_metrics_from_json(json_object_get(oos, "metrics"), &w[k].oos_m);
        json_t *a = json_object_get(is, "score"), *b = json_object_get(oos, "score");
        w[k].is_score = json_is_number(a) ? json_number_value(a) : NAN;
        w[k].oos_score = json_is_number(b) ? json_number_value(b) : NAN;
    }
    return (long)k;
}
