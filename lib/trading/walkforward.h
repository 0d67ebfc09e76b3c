/* walkforward.h — walk-forward optimization: optimize on each in-sample window, trade the next
 * out-of-sample window with the chosen parameters, and set the two side by side to expose overfitting. */
#ifndef BCF_TRADING_WALKFORWARD_H
#define BCF_TRADING_WALKFORWARD_H
#include "optimize.h"
#include "sweep.h"
#include <jansson.h>

/*
 * Windows are counted in candles of the traded range [start, n) of the sweep data. Window k:
 *   in-sample      [is_from, is_to)    is_from = start + k × step (anchored: always start)
 *   out-of-sample  [is_to, oos_to)     oos_to = min(is_to + out_of_sample, n)
 * The in-sample search runs on a view of the data that ENDS at is_to: no candle at or after it
 * exists for the optimizer, so nothing out-of-sample can leak into the fit. The indicators of
 * both phases warm on the candles before their window (the past only).
 */

#define WF_MAX_WINDOWS 100

typedef struct wf_spec {
    opt_spec opt;
    int64_t in_sample, out_of_sample, step; /* candles */
    int anchored;
} wf_spec;

/* {"optimization": {optimize.h's spec}, "in_sample": 2000, "out_of_sample": 500, "step": 500,
 *  "anchored": false} with `traded` candles to cut (step defaults to out_of_sample). max_sets
 * bounds the search of each window. 0, or -1 with "field: reason" in err. */
int wf_spec_from_json(wf_spec *s, const engine_config *base, const json_t *j, int64_t traded, int64_t max_sets,
                      char *err, size_t errlen);

typedef struct wf_window {
    int64_t is_from, is_to, oos_to; /* candle indexes (see above) */
    int found;                      /* the in-sample search found a feasible set */
    double values[OPT_MAX_DIMS];
    double is_score, oos_score;     /* the objective in and out of sample (NAN: undefined) */
    sweep_metrics is_m, oos_m;
} wf_window;

/* The windows of s over the traded range of se (at most WF_MAX_WINDOWS); how many. */
size_t wf_windows(const wf_spec *s, const sweep_series *se, wf_window *w, size_t max);

/* Called after each window: windows done, of total; non-zero stops (wf_run returns
 * SWEEP_ECANCELLED; the windows done stay filled). */
typedef int (*wf_tick_fn)(size_t done, size_t total, void *ud);

/* Optimizes and trades windows w[from..n) (from > 0 resumes after windows already done). */
int wf_run(const wf_spec *s, const sweep_data *d, const sweep_opts *so, opt_eval_fn eval, wf_window *w, size_t n,
           size_t from, wf_tick_fn tick, void *ud);

/* The objective of m under s, constraints not applied (out-of-sample windows are shorter, so a
 * minimum trade count would make most of them undefined). */
double wf_objective(const opt_spec *s, const sweep_metrics *m);

/* {"windows": [{"is_from","is_to","oos_to" (epoch ms), "found", "values":{...}, "in_sample":
 * {score, metrics}, "out_of_sample": {score, metrics}}], "summary": {...}} — the summary sets
 * in-sample against out-of-sample: mean scores, compounded out-of-sample return, walk-forward
 * efficiency (mean annualised out-of-sample return / mean annualised in-sample return, simple
 * returns per year of each window), profitable windows, a verdict: robust (efficiency >= 0.5 and
 * the out-of-sample windows made money), degraded (money, efficiency < 0.5), overfit (lost money
 * out of sample), no_edge (nothing gained even in sample), no_result (no window found a set). */
json_t *wf_report_json(const wf_spec *s, const sweep_series *se, const wf_window *w, size_t n);
/* Reads back the windows of a report (to resume); returns how many were read, or -1. */
long wf_windows_from_json(const wf_spec *s, const json_t *report, wf_window *w, size_t n);
#endif
