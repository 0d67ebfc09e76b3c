/* walkforward.c — walk-forward analyses queued as "walk_forward" jobs: the form (a search plus the
 * windows in candles), the list, and the report setting each in-sample fit against its next window. */
#include "app.h"
#include "buf.h"
#include "bots_view.h"
#include "config.h"
#include "modules.h"
#include "optimize_pages.h"
#include "render.h"
#include "svg.h"
#include "walkforward.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The windows' sizes on the form, in candles of the market's timeframe. */
static const char *const walkforward_counts[] = {"in_sample", "out_of_sample", "step"};

/* The walk-forward of the request (the JSON body's "spec", or the form), checked against the
 * candles of the period; its total is the number of windows. */
static json_t *walkforward_spec(request *req, const optp_input *in, int64_t *total, char *err, size_t errlen)
{
    json_t *spec;
    if (req->api && req->json) {
        spec = json_incref(json_object_get(req->json, "spec"));
        if (!spec) {
            snprintf(err, errlen, "spec: required (optimization, in_sample, out_of_sample, step, anchored)");
            return NULL;
        }
    } else {
        json_t *search = optp_search_from_form(req, &in->base, err, errlen);
        if (!search)
            return NULL;
        spec = json_pack("{s:o}", "optimization", search);
        for (size_t i = 0; i < sizeof walkforward_counts / sizeof walkforward_counts[0]; i++) {
            json_t *v;
            if (optp_field_number(req, walkforward_counts[i], 1, &v) != 0) {
                snprintf(err, errlen, "%s: must be a whole number of candles", walkforward_counts[i]);
                json_decref(spec);
                return NULL;
            }
            if (v)
                json_object_set_new(spec, walkforward_counts[i], v);
        }
        const char *a = req_field(req, "anchored");
        json_object_set_new(spec, "anchored", json_boolean(a && (!strcmp(a, "1") || !strcmp(a, "on"))));
    }
    int64_t max_sets = config_int("optimize.max_sets");
    if (in->traded <= 0) {
        /* the period is refused already: the search alone can still be checked */
        opt_spec os;
        if (!json_is_object(spec) ||
            opt_spec_from_json(&os, &in->base, json_object_get(spec, "optimization"), max_sets, err, errlen) != 0) {
            if (!json_is_object(spec))
                snprintf(err, errlen, "spec: must be an object");
            json_decref(spec);
            return NULL;
        }
        if (optp_plan_sets(req, opt_total(&os), err, errlen) != 0) {
            json_decref(spec);
            return NULL;
        }
        return spec;
    }
    wf_spec w;
    if (wf_spec_from_json(&w, &in->base, spec, in->traded, max_sets, err, errlen) != 0 ||
        optp_plan_sets(req, opt_total(&w.opt), err, errlen) != 0) {
        json_decref(spec);
        return NULL;
    }
    /* as wf_windows cuts them: window k starts k steps in and needs its whole in-sample part */
    int64_t n = 0;
    while (n < WF_MAX_WINDOWS && n * w.step + w.in_sample < in->traded)
        n++;
    *total = n;
    return spec;
}

static int walkforward_create(request *req, response *res)
{
    return optp_create(req, res, &optp_walk_forward, walkforward_spec);
}

static int walkforward_new(request *req, response *res)
{
    return optp_new(req, res, &optp_walk_forward);
}

static int walkforward_list(request *req, response *res)
{
    return optp_list(req, res, &optp_walk_forward);
}

/* The in-sample against out-of-sample scores of every window, as grouped bars. */
static const char *walkforward_chart(request *req, const json_t *windows, const char *objective)
{
    size_t n = json_array_size(windows);
    const char **labels = arena_alloc(req->a, (n ? n : 1) * sizeof *labels);
    double *is = arena_alloc(req->a, (n ? n : 1) * sizeof *is), *oos = arena_alloc(req->a, (n ? n : 1) * sizeof *oos);
    if (!labels || !is || !oos)
        return "";
    for (size_t i = 0; i < n; i++) {
        const json_t *w = json_array_get(windows, i);
        const json_t *a = json_object_get(json_object_get(w, "in_sample"), "score");
        const json_t *b = json_object_get(json_object_get(w, "out_of_sample"), "score");
        labels[i] = arena_printf(req->a, "W%zu", i + 1);
        is[i] = json_is_number(a) ? json_number_value(a) : NAN;
        oos[i] = json_is_number(b) ? json_number_value(b) : NAN;
    }
    svg_series s[] = {{render_lang_string(req->lang, "walkforward.in_sample"), "s-is", is, SVG_BARS, 0},
                      {render_lang_string(req->lang, "walkforward.out_of_sample"), "s-oos", oos, SVG_BARS, 0}};
    svg_bar_chart c = {labels, n, s, 2, 0, 280,
                       arena_printf(req->a, "%s: %s", render_lang_string(req->lang, "walkforward.chart_title"),
                                    optp_objective_label(req, objective)),
                       render_lang_string(req->lang, "walkforward.chart_empty"), NULL};
    buf b = {0};
    svg_bars(&c, bots_svg_sink, &b);
    const char *out = b.data && !b.oom ? arena_strndup(req->a, b.data, b.len) : "";
    buf_free(&b);
    return out;
}

/* The report's windows and summary as the page shows them. */
static void walkforward_view(request *req, json_t *d, const optp_row *row)
{
    int kind = 0;
    strategy_kind_parse(json_string_value(json_object_get(row->config, "strategy")), &kind);
    const json_t *search = json_object_get(row->spec, "optimization");
    const char *objective = json_string_value(json_object_get(search, "objective")) ?: "sharpe";
    const json_t *space = json_object_get(search, "space"), *windows = json_object_get(row->results, "windows");
    json_t *rows = json_array();
    size_t i;
    json_t *w;
    json_array_foreach(windows, i, w)
    {
        const json_t *is = json_object_get(w, "in_sample"), *oos = json_object_get(w, "out_of_sample");
        const json_t *ism = json_object_get(is, "metrics"), *oosm = json_object_get(oos, "metrics");
        double r = json_number_value(json_object_get(oosm, "profit_pct"));
        json_array_append_new(
            rows, json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "n", (int)i + 1, "is_from",
                            optp_date(req->a, json_integer_value(json_object_get(w, "is_from"))), "is_to",
                            optp_date(req->a, json_integer_value(json_object_get(w, "is_to"))), "oos_to",
                            optp_date(req->a, json_integer_value(json_object_get(w, "oos_to"))), "values",
                            optp_values_text(req, kind, space, json_object_get(w, "values")), "found",
                            json_is_true(json_object_get(w, "found")), "is_score",
                            optp_num(req->a, json_object_get(is, "score"), 3, ""), "oos_score",
                            optp_num(req->a, json_object_get(oos, "score"), 3, ""), "is_return",
                            optp_num(req->a, json_object_get(ism, "profit_pct"), 2, "%"), "oos_return",
                            optp_num(req->a, json_object_get(oosm, "profit_pct"), 2, "%"), "is_trades",
                            optp_num(req->a, json_object_get(ism, "trades"), 0, ""), "oos_trades",
                            optp_num(req->a, json_object_get(oosm, "trades"), 0, ""), "oos_sign",
                            r > 0 ? 1 : r < 0 ? -1 : 0));
    }
    json_object_set_new(d, "window_rows", rows);
    json_object_set_new(d, "chart_svg", json_string(walkforward_chart(req, windows, objective)));
    json_object_set_new(d, "objective_label", json_string(optp_objective_label(req, objective)));
    const json_t *sum = json_object_get(row->results, "summary");
    if (sum) {
        const char *verdict = json_string_value(json_object_get(sum, "verdict")) ?: "no_result";
        char k1[80], k2[80];
        snprintf(k1, sizeof k1, "walkforward.verdict_%s", verdict);
        snprintf(k2, sizeof k2, "walkforward.explain_%s", verdict);
        json_object_set_new(
            d, "summary_view",
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O?, s:O?, s:O?}", "verdict", verdict, "verdict_label",
                      render_lang_string(req->lang, k1), "verdict_text", render_lang_string(req->lang, k2), "is_mean",
                      optp_num(req->a, json_object_get(sum, "in_sample_mean_score"), 3, ""), "oos_mean",
                      optp_num(req->a, json_object_get(sum, "out_of_sample_mean_score"), 3, ""), "oos_return",
                      optp_num(req->a, json_object_get(sum, "out_of_sample_return_pct"), 2, "%"), "efficiency",
                      optp_num(req->a, json_object_get(sum, "efficiency"), 2, ""), "windows",
                      json_object_get(sum, "windows"), "windows_found", json_object_get(sum, "windows_found"),
                      "profitable_windows", json_object_get(sum, "profitable_windows")));
    }
}

static int walkforward_show(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    optp_row row;
    int found = id ? optp_load(req, &optp_walk_forward, id, &row) : 0;
    if (found < 0)
        return -1;
    if (!found) {
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    json_t *d = json_pack("{s:O, s:O, s:O, s:O}", "optimization", row.meta, "config", row.config, "spec", row.spec,
                          "results", row.results ? row.results : json_null());
    if (!req->api) {
        walkforward_view(req, d, &row);
        json_object_del(d, "results"); /* the page shows the rows built from it */
    }
    optp_row_free(&row);
    res_page(res, "walkforward/show.cs", "walkforward.report", d);
    return 0;
}

static int walkforward_cancel(request *req, response *res)
{
    return optp_cancel(req, res, &optp_walk_forward);
}

static int walkforward_delete(request *req, response *res)
{
    return optp_delete(req, res, &optp_walk_forward);
}

#define WALKFORWARD_WRITE (R_AUTH | R_CSRF | R_PAGE)

static const route routes[] = {
    {"GET", "/walk-forward", walkforward_list, R_AUTH | R_PAGE, "trading.use", NULL},
    {"GET", "/walk-forward/new", walkforward_new, R_AUTH | R_PAGE, "trading.use", NULL},
    {"POST", "/walk-forward", walkforward_create, WALKFORWARD_WRITE, "trading.use", "optimizations.create"},
    {"GET", "/walk-forward/{id}", walkforward_show, R_AUTH | R_PAGE, "trading.use", NULL},
    {"POST", "/walk-forward/{id}/cancel", walkforward_cancel, WALKFORWARD_WRITE, "trading.use", NULL},
    {"POST", "/walk-forward/{id}/delete", walkforward_delete, WALKFORWARD_WRITE, "trading.use", NULL},
};

const module walkforward_module = {"walkforward", NULL, NULL, ROUTES(routes)};
