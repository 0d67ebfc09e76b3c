/* optimizations.c — parameter searches queued as "optimize" jobs: the form, the list, one search's
 * best results (sortable, a heatmap for two-parameter grids), each one click from a backtest or a bot. */
#include "app.h"
#include "buf.h"
#include "bots_view.h"
#include "config.h"
#include "modules.h"
#include "optimize.h"
#include "optimize_pages.h"
#include "render.h"
#include "svg.h"
#include "trading_create.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns of the results table: the objective's score, then the metrics (keys of a result's
 * "metrics"), each with its decimals and suffix. */
typedef struct optimizations_col {
    const char *key;
    int decimals;
    const char *suffix;
} optimizations_col;

static const optimizations_col optimizations_cols[] = {
    {"score", 3, ""},        {"profit_pct", 2, "%"},   {"cagr_pct", 2, "%"},       {"sharpe", 3, ""},
    {"sortino", 3, ""},      {"calmar", 3, ""},        {"max_drawdown_pct", 2, "%"}, {"profit_dd", 3, ""},
    {"win_rate_pct", 1, "%"}, {"exposure_pct", 1, "%"}, {"trades", 0, ""},          {"final_equity", 2, ""},
    {"fees", 2, ""},
};
#define OPTIMIZATIONS_NCOLS (sizeof optimizations_cols / sizeof optimizations_cols[0])

static void optimizations_not_found(request *req, response *res)
{
    res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
}

/* ---------------------------------------------------------------- create */

/* The search of the request (the JSON body's "spec", or the form), checked with the limit the
 * worker applies; its total is the number of parameter sets it evaluates. */
static json_t *optimizations_spec(request *req, const optp_input *in, int64_t *total, char *err, size_t errlen)
{
    json_t *spec;
    if (req->api && req->json) {
        spec = json_incref(json_object_get(req->json, "spec"));
        if (!spec) {
            snprintf(err, errlen, "spec: required (the search: method, objective, space, ...)");
            return NULL;
        }
    } else if (!(spec = optp_search_from_form(req, &in->base, err, errlen))) {
        return NULL;
    }
    opt_spec s;
    if (opt_spec_from_json(&s, &in->base, spec, config_int("optimize.max_sets"), err, errlen) != 0) {
        json_decref(spec);
        return NULL;
    }
    *total = opt_total(&s);
    if (optp_plan_sets(req, *total, err, errlen) != 0) {
        json_decref(spec);
        return NULL;
    }
    return spec;
}

static int optimizations_create(request *req, response *res)
{
    return optp_create(req, res, &optp_search, optimizations_spec);
}

static int optimizations_new(request *req, response *res)
{
    return optp_new(req, res, &optp_search);
}

static int optimizations_list(request *req, response *res)
{
    return optp_list(req, res, &optp_search);
}

/* ---------------------------------------------------------------- one search */

typedef struct optimizations_sort {
    const char *key;
    int desc;
} optimizations_sort;

/* The value a row sorts by: its score, rank or one of its metrics (NAN when absent). */
static double optimizations_sort_value(const json_t *row, const char *key)
{
    const json_t *v = !strcmp(key, "score") || !strcmp(key, "rank") ? json_object_get(row, key)
                                                                     : json_object_get(json_object_get(row, "metrics"), key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Missing values last whichever the direction; equal values in rank order. */
static int optimizations_cmp(const void *a, const void *b, void *arg)
{
    const optimizations_sort *s = arg;
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    double vx = optimizations_sort_value(x, s->key), vy = optimizations_sort_value(y, s->key);
    if (isnan(vx) != isnan(vy))
        return isnan(vx) ? 1 : -1;
    if (!isnan(vx) && vx != vy)
        return (vx < vy) == !s->desc ? -1 : 1;
    double rx = optimizations_sort_value(x, "rank"), ry = optimizations_sort_value(y, "rank");
    return (rx > ry) - (rx < ry);
}

/* The best results sorted as asked: a new array holding the same objects. */
static json_t *optimizations_sorted(const json_t *top, const optimizations_sort *s)
{
    size_t n = json_array_size(top);
    json_t **v = n ? malloc(n * sizeof *v) : NULL, *out = json_array();
    for (size_t i = 0; v && i < n; i++)
        v[i] = json_array_get(top, i);
    if (v)
        qsort_r(v, n, sizeof *v, optimizations_cmp, (void *)s);
    for (size_t i = 0; v && i < n; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

static const char *optimizations_col_label(request *req, const char *key)
{
    char k[80];
    snprintf(k, sizeof k, "optimizations.col_%s", key);
    return render_lang_string(req->lang, k);
}

/* The table for the page: sortable headers (links, no script) and each row's texts. */
static void optimizations_table(request *req, json_t *d, const json_t *meta, const json_t *space, int kind,
                                const json_t *rows, const optimizations_sort *s)
{
    json_int_t id = json_integer_value(json_object_get(meta, "id"));
    json_t *cols = json_array(), *dims = json_array();
    for (size_t c = 0; c < OPTIMIZATIONS_NCOLS; c++) {
        const char *key = optimizations_cols[c].key;
        int current = !strcmp(key, s->key);
        /* a click on the sorted column turns it around; on another sorts it best first */
        const char *dir = current ? (s->desc ? "asc" : "desc") : !strcmp(key, "max_drawdown_pct") ? "asc" : "desc";
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s}", "key", key, "label",
                                              optimizations_col_label(req, key), "href",
                                              arena_printf(req->a, "/optimizations/%lld?sort=%s&dir=%s", (long long)id,
                                                           key, dir),
                                              "sorted", current ? (s->desc ? "descending" : "ascending") : ""));
    }
    const char *name;
    json_t *dim;
    json_object_foreach((json_t *)space, name, dim) {
        (void)dim;
        json_array_append_new(dims, json_pack("{s:s, s:s}", "name", name, "label", optp_dim_label(req, kind, name)));
    }
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_t *values = json_array(), *cells = json_array();
        json_object_foreach((json_t *)space, name, dim) {
            const json_t *v = json_object_get(json_object_get(row, "values"), name);
            json_array_append_new(values, json_string(json_is_number(v) ? arena_printf(req->a, "%.10g", json_number_value(v))
                                                                        : "—"));
        }
        for (size_t c = 0; c < OPTIMIZATIONS_NCOLS; c++) {
            const optimizations_col *col = &optimizations_cols[c];
            const json_t *v = !strcmp(col->key, "score") ? json_object_get(row, "score")
                                                         : json_object_get(json_object_get(row, "metrics"), col->key);
            json_array_append_new(cells, json_string(optp_num(req->a, v, col->decimals, col->suffix)));
        }
        json_array_append_new(out, json_pack("{s:O, s:o, s:o}", "rank", json_object_get(row, "rank"), "values", values,
                                             "cells", cells));
    }
    json_object_set_new(d, "columns", cols);
    json_object_set_new(d, "dims", dims);
    json_object_set_new(d, "table", out);
}

/* The heatmap of a two-parameter grid as SVG ("" when the results have none). */
static const char *optimizations_heatmap(request *req, const json_t *heat, int kind, const char *objective)
{
    const json_t *xs = json_object_get(heat, "xs"), *ys = json_object_get(heat, "ys"), *rows = json_object_get(heat, "scores");
    size_t nx = json_array_size(xs), ny = json_array_size(ys);
    if (!nx || !ny || json_array_size(rows) != ny)
        return "";
    double *x = arena_alloc(req->a, nx * sizeof *x), *y = arena_alloc(req->a, ny * sizeof *y);
    double *z = arena_alloc(req->a, nx * ny * sizeof *z);
    if (!x || !y || !z)
        return "";
    for (size_t i = 0; i < nx; i++)
        x[i] = json_number_value(json_array_get(xs, i));
    for (size_t k = 0; k < ny; k++) {
        y[k] = json_number_value(json_array_get(ys, k));
        const json_t *row = json_array_get(rows, k);
        for (size_t i = 0; i < nx; i++) {
            const json_t *v = json_array_get(row, i);
            z[k * nx + i] = json_is_number(v) ? json_number_value(v) : NAN;
        }
    }
    const char *xl = optp_dim_label(req, kind, json_string_value(json_object_get(heat, "x")) ?: "");
    const char *yl = optp_dim_label(req, kind, json_string_value(json_object_get(heat, "y")) ?: "");
    const char *zl = optp_objective_label(req, objective);
    svg_heatmap_chart c = {x, nx, y, ny, z, xl, yl, zl, 0, 0,
                           arena_printf(req->a, "%s — %s × %s", zl, xl, yl),
                           render_lang_string(req->lang, "optimizations.heatmap_empty")};
    buf b = {0};
    svg_heatmap(&c, bots_svg_sink, &b);
    const char *out = b.data && !b.oom ? arena_strndup(req->a, b.data, b.len) : "";
    buf_free(&b);
    return out;
}

static int optimizations_show(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    optp_row row;
    int found = id ? optp_load(req, &optp_search, id, &row) : 0;
    if (found < 0)
        return -1;
    if (!found) {
        optimizations_not_found(req, res);
        return 0;
    }
    optimizations_sort s = {"rank", 0};
    const char *sort = req_query(req, "sort"), *dir = req_query(req, "dir");
    for (size_t c = 0; sort && c < OPTIMIZATIONS_NCOLS; c++)
        if (!strcmp(sort, optimizations_cols[c].key)) {
            s.key = optimizations_cols[c].key;
            s.desc = 1;
        }
    if (dir && !strcmp(dir, "asc"))
        s.desc = 0;
    else if (dir && !strcmp(dir, "desc"))
        s.desc = 1;
    json_t *rows = optimizations_sorted(json_object_get(row.results, "top"), &s);
    const char *objective = json_string_value(json_object_get(row.spec, "objective")) ?: "sharpe";
    const char *method = json_string_value(json_object_get(row.spec, "method")) ?: "grid";
    json_t *d = json_pack("{s:O, s:O, s:O, s:O, s:o, s:s, s:s}", "optimization", row.meta, "config", row.config, "spec",
                          row.spec, "results", row.results ? row.results : json_null(), "rows", rows, "sort", s.key,
                          "dir", s.desc ? "desc" : "asc");
    if (!req->api) {
        int kind = 0;
        strategy_kind_parse(json_string_value(json_object_get(row.config, "strategy")), &kind);
        const json_t *space = json_object_get(row.spec, "space");
        optimizations_table(req, d, row.meta, space, kind, rows, &s);
        char mkey[64];
        snprintf(mkey, sizeof mkey, "optimizations.method_%s", method);
        json_object_set_new(d, "method_label", json_string(render_lang_string(req->lang, mkey)));
        json_object_set_new(d, "objective_label", json_string(optp_objective_label(req, objective)));
        json_object_set_new(d, "heatmap_svg", json_string(optimizations_heatmap(req, json_object_get(row.results, "heatmap"),
                                                                                kind, objective)));
        const json_t *p = json_object_get(row.results, "progress");
        json_object_set_new(d, "progress", p ? json_incref((json_t *)p) : json_pack("{s:i, s:O}", "done", 0, "total",
                                                                                 json_object_get(row.meta, "total")));
        /* the page shows the table and the picture built above, not the raw results */
        json_object_del(d, "results");
        json_object_del(d, "rows");
    }
    optp_row_free(&row);
    res_page(res, "optimizations/show.cs", "optimizations.report", d);
    return 0;
}

/* ---------------------------------------------------------------- a result, used */

/* The config of the result ranked `rank`: the base strategy with the result's values, set the way
 * the search set them (opt_config), so a backtest of it runs what the search scored. */
static json_t *optimizations_result_config(const optp_row *row, long rank)
{
    engine_config base, cfg;
    opt_spec s;
    char err[256];
    if (engine_config_from_json(&base, row->config, err, sizeof err) != 0 ||
        opt_spec_from_json(&s, &base, row->spec, INT64_MAX, err, sizeof err) != 0)
        return NULL;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(row->results, "top"), i, r)
    {
        if (json_integer_value(json_object_get(r, "rank")) != rank)
            continue;
        double v[OPT_MAX_DIMS];
        for (int k = 0; k < s.ndims; k++) {
            const json_t *x = json_object_get(json_object_get(r, "values"), s.dims[k].name);
            if (!json_is_number(x))
                return NULL;
            v[k] = json_number_value(x);
        }
        opt_config(&s, v, &cfg);
        return engine_config_to_json(&cfg);
    }
    return NULL;
}

/* "<name> #<rank>", within the 80 characters names may have. */
static const char *optimizations_derived_name(arena *a, const char *name, long rank)
{
    size_t bytes = 0, chars = 0;
    while (name[bytes] && chars < 70) {
        unsigned char ch = (unsigned char)name[bytes];
        bytes += ch < 0x80 ? 1 : ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : 2; /* the name is valid UTF-8 */
        chars++;
    }
    return arena_printf(a, "%.*s #%ld", (int)bytes, name, rank);
}

/* Loads the search of the path and the config of the result the request names ("rank"). 1 ready,
 * 0 answered (404 / 422), -1 error. */
static int optimizations_pick(request *req, response *res, optp_row *row, json_t **config, long *rank)
{
    const char *id = req_id_param(req, "id");
    int found = id ? optp_load(req, &optp_search, id, row) : 0;
    if (found <= 0) {
        if (found == 0)
            optimizations_not_found(req, res);
        return found;
    }
    const char *rs = req_field(req, "rank");
    char *end = NULL;
    *rank = rs ? strtol(rs, &end, 10) : 0;
    *config = rs && end != rs && !*end && *rank >= 1 && *rank <= OPT_TOP_MAX ? optimizations_result_config(row, *rank) : NULL;
    if (!*config) {
        optp_row_free(row);
        res_error(req, res, 422, "invalid_rank", render_lang_string(req->lang, "optimizations.err_rank"));
        return 0;
    }
    return 1;
}

/* One result put to use, through the very path that creates a backtest or a bot: a backtest of
 * the result over the search's market, period and balance, or a stopped paper bot trading it. */
static int optimizations_use(request *req, response *res, int as_bot)
{
    optp_row row;
    json_t *config;
    long rank;
    int rc = optimizations_pick(req, res, &row, &config, &rank);
    if (rc <= 0)
        return rc;
    const json_t *m = row.meta;
    const char *name = optimizations_derived_name(req->a, json_string_value(json_object_get(m, "name")), rank);
    const char *exchange = json_string_value(json_object_get(m, "exchange"));
    const char *symbol = json_string_value(json_object_get(m, "symbol"));
    const char *timeframe = json_string_value(json_object_get(m, "timeframe"));
    double balance = json_number_value(json_object_get(m, "initial_balance"));
    if (as_bot) {
        bots_input in = {name, exchange, symbol, timeframe, "paper", NULL, arena_printf(req->a, "%.17g", balance),
                         json_string_value(json_object_get(m, "strategy")), config};
        rc = bots_insert(req, res, &in);
    } else {
        backtest_new b = {name, exchange, timeframe, arena_printf(req->a, "{%s}", symbol),
                          json_integer_value(json_object_get(m, "from_ms")), json_integer_value(json_object_get(m, "to_ms")),
                          balance, config};
        rc = backtests_start(req, res, &b);
    }
    json_decref(config);
    optp_row_free(&row);
    return rc;
}

/* POST /optimizations/{id}/backtest (field rank) */
static int optimizations_backtest(request *req, response *res)
{
    return optimizations_use(req, res, 0);
}

/* POST /optimizations/{id}/deploy (field rank) */
static int optimizations_deploy(request *req, response *res)
{
    return optimizations_use(req, res, 1);
}

static int optimizations_cancel(request *req, response *res)
{
    return optp_cancel(req, res, &optp_search);
}

static int optimizations_delete(request *req, response *res)
{
    return optp_delete(req, res, &optp_search);
}

#define OPTIMIZATIONS_WRITE (R_AUTH | R_CSRF | R_PAGE)

static const route routes[] = {
    {"GET", "/optimizations", optimizations_list, R_AUTH | R_PAGE, "trading.use", NULL},
    {"GET", "/optimizations/new", optimizations_new, R_AUTH | R_PAGE, "trading.use", NULL},
    {"POST", "/optimizations", optimizations_create, OPTIMIZATIONS_WRITE, "trading.use", "optimizations.create"},
    {"GET", "/optimizations/{id}", optimizations_show, R_AUTH | R_PAGE, "trading.use", NULL},
    {"POST", "/optimizations/{id}/backtest", optimizations_backtest, OPTIMIZATIONS_WRITE, "trading.use", "backtests.create"},
    {"POST", "/optimizations/{id}/deploy", optimizations_deploy, OPTIMIZATIONS_WRITE, "trading.use", "bots.write"},
    {"POST", "/optimizations/{id}/cancel", optimizations_cancel, OPTIMIZATIONS_WRITE, "trading.use", NULL},
    {"POST", "/optimizations/{id}/delete", optimizations_delete, OPTIMIZATIONS_WRITE, "trading.use", NULL},
};

const module optimizations_module = {"optimizations", NULL, NULL, ROUTES(routes)};
