/* models_report.c — one model's page and JSON: status, metrics of the model and the naive baseline,
 * the training curve, the split with its dates, options, other versions and prediction runs. */
#include "app.h"
#include "bots_view.h"
#include "buf.h"
#include "db.h"
#include "models.h"
#include "parse.h"
#include "render.h"
#include "svg.h"
#include "tenant.h"
#include "trading_form.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODELS_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"

const char *models_iso(arena *a, int64_t ms)
{
    int y, mo, d, h, mi;
    svg_civil(ms, &y, &mo, &d, &h, &mi);
    return h || mi ? arena_printf(a, "%04d-%02d-%02dT%02d:%02d:00Z", y, mo, d, h, mi)
                   : arena_printf(a, "%04d-%02d-%02d", y, mo, d);
}

static const char *models_text(arena *a, int have, double v, int decimals, const char *suffix)
{
    return have ? arena_printf(a, "%.*f%s", decimals, v, suffix) : "—";
}

void models_scores(request *req, json_t *row, PGresult *r, int row_i, int col)
{
    int have[3];
    double v[3];
    for (int k = 0; k < 3; k++) {
        have[k] = !PQgetisnull(r, row_i, col + k);
        v[k] = have[k] ? atof(PQgetvalue(r, row_i, col + k)) : NAN;
    }
    json_object_set_new(row, "test_auc", have[0] ? json_real(v[0]) : json_null());
    json_object_set_new(row, "test_logloss", have[1] ? json_real(v[1]) : json_null());
    json_object_set_new(row, "baseline_test_logloss", have[2] ? json_real(v[2]) : json_null());
    json_object_set_new(row, "test_auc_text", json_string(models_text(req->a, have[0], v[0], 3, "")));
    json_object_set_new(row, "test_logloss_text", json_string(models_text(req->a, have[1], v[1], 4, "")));
    json_object_set_new(row, "baseline_test_logloss_text", json_string(models_text(req->a, have[2], v[2], 4, "")));
    if (!have[1] || !have[2]) {
        json_object_set_new(row, "logloss_gain", json_null());
        json_object_set_new(row, "verdict", json_null());
        return;
    }
    double gain = v[2] - v[1];
    const char *verdict = gain >= MODELS_EDGE_LOGLOSS && have[0] && v[0] > 0.5 ? "beats" : gain > 0 ? "marginal" : "no_edge";
    json_object_set_new(row, "logloss_gain", json_real(gain));
    json_object_set_new(row, "logloss_gain_text", json_string(arena_printf(req->a, "%+.4f", gain)));
    json_object_set_new(row, "verdict", json_string(verdict));
}

/* ---------------------------------------------------------------- the report's parts */

/* Model against baseline on validation and test, per measure; "better" marks where the model wins. */
static json_t *models_metric_rows(request *req, const json_t *metrics)
{
    static const struct {
        const char *key, *suffix;
        int decimals;
        double scale;
        int better; /* 1 higher, -1 lower, 0 neither */
    } ms[] = {{"accuracy", "%", 1, 100, 1}, {"auc", "", 3, 1, 1}, {"logloss", "", 4, 1, -1}, {"n", "", 0, 1, 0}};
    static const char *const cols[][2] = {{"val", "baseline_val"}, {"test", "baseline_test"}};
    json_t *rows = json_array();
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        json_t *row = json_pack("{s:s}", "key", ms[i].key);
        for (int c = 0; c < 2; c++) {
            const json_t *m = json_object_get(json_object_get(metrics, cols[c][0]), ms[i].key);
            const json_t *b = json_object_get(json_object_get(metrics, cols[c][1]), ms[i].key);
            json_object_set_new(row, cols[c][0],
                                json_string(models_text(req->a, json_is_number(m), json_number_value(m) * ms[i].scale,
                                                        ms[i].decimals, ms[i].suffix)));
            json_object_set_new(row, cols[c][1],
                                json_string(models_text(req->a, json_is_number(b), json_number_value(b) * ms[i].scale,
                                                        ms[i].decimals, ms[i].suffix)));
            int better = ms[i].better && json_is_number(m) && json_is_number(b) &&
                         (json_number_value(m) - json_number_value(b)) * ms[i].better > 0;
            json_object_set_new(row, c ? "test_better" : "val_better", json_boolean(better));
        }
        json_array_append_new(rows, row);
    }
    return rows;
}

/* The training curve: training and validation loss per epoch, and a vertical line through the
 * best epoch (the one whose parameters were kept). The x axis counts epochs; the page hides the
 * chart's time labels and names the epochs below it. NULL when there is no curve. */
static char *models_curve_svg(request *req, const json_t *curve)
{
    const json_t *tl = json_object_get(curve, "train_loss"), *vl = json_object_get(curve, "val_loss");
    size_t n = json_array_size(tl);
    json_int_t best = json_integer_value(json_object_get(curve, "best_epoch"));
    if (!n || json_array_size(vl) != n)
        return NULL;
    int marked = best >= 1 && (size_t)best <= n;
    /* the best epoch appears twice on the x axis, so the marker can rise straight up at it */
    size_t m = n + (size_t)marked;
    int64_t *x = arena_alloc(req->a, m * sizeof *x);
    double *tr = arena_alloc(req->a, m * sizeof *tr), *va = arena_alloc(req->a, m * sizeof *va);
    double *mark = arena_alloc(req->a, m * sizeof *mark);
    if (!x || !tr || !va || !mark)
        return NULL;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0, k = 0; i < n; i++) {
        const json_t *a = json_array_get(tl, i), *b = json_array_get(vl, i);
        double av = json_is_number(a) ? json_number_value(a) : NAN, bv = json_is_number(b) ? json_number_value(b) : NAN;
        for (int rep = 0; rep < 1 + (marked && i + 1 == (size_t)best); rep++, k++) {
            x[k] = (int64_t)i + 1;
            tr[k] = av;
            va[k] = bv;
            mark[k] = NAN;
        }
        if (isfinite(av))
            lo = fmin(lo, av), hi = fmax(hi, av);
        if (isfinite(bv))
            lo = fmin(lo, bv), hi = fmax(hi, bv);
    }
    if (marked && isfinite(lo)) {
        mark[best - 1] = lo;
        mark[best] = hi;
    }
    svg_series s[3] = {
        {render_lang_string(req->lang, "models.curve_train"), "ov2", tr, SVG_LINE, 0},
        {render_lang_string(req->lang, "models.curve_val"), "ov5", va, SVG_LINE, 0},
        {arena_printf(req->a, "%s (%lld)", render_lang_string(req->lang, "models.best_epoch"), (long long)best), "s-best",
         mark, SVG_LINE, 0},
    };
    svg_line_chart ch = {x, m, s, marked ? 3 : 2, 0, 0, 280, render_lang_string(req->lang, "models.curve"), NULL, NULL};
    buf b = {0};
    svg_lines(&ch, bots_svg_sink, &b);
    char *out = b.data && !b.oom ? arena_strndup(req->a, b.data, b.len) : NULL;
    buf_free(&b);
    return out;
}

/* The split: each set's candle numbers (counted from the period's first candle), rows and the open
 * times of its first and last candle as the series holds them now. Sets *test_from to the test
 * set's first candle (the model's out-of-sample start) when known. */
static json_t *models_split_rows(request *req, const json_t *model, const json_t *split, int64_t *test_from)
{
    static const char *const sets[] = {"train", "val", "test"};
    long long idx[6];
    json_t *rows = json_array();
    for (int s = 0; s < 3; s++) {
        const json_t *r = json_object_get(split, sets[s]);
        idx[2 * s] = json_integer_value(json_array_get(r, 0));
        idx[2 * s + 1] = json_integer_value(json_array_get(r, 1)) - 1;
    }
    char arr[160], from[24], to[24];
    snprintf(arr, sizeof arr, "{%lld,%lld,%lld,%lld,%lld,%lld}", idx[0], idx[1], idx[2], idx[3], idx[4], idx[5]);
    snprintf(from, sizeof from, "%lld", (long long)json_integer_value(json_object_get(model, "from_ms")));
    snprintf(to, sizeof to, "%lld", (long long)json_integer_value(json_object_get(model, "to_ms")));
    const char *p[] = {json_string_value(json_object_get(model, "exchange")),
                       json_string_value(json_object_get(model, "symbol")),
                       json_string_value(json_object_get(model, "timeframe")), from, to, arr};
    /* cross-tenant: candles are platform-wide data */
    PGresult *r = db_query(req->a, "models_split_times",
                           "SELECT s.i, s.open_time FROM (SELECT c.open_time, row_number() OVER (ORDER BY c.open_time) - 1 "
                           "AS i FROM candles c JOIN markets m ON m.id = c.market_id WHERE m.exchange = $1 AND "
                           "m.symbol = $2 AND c.timeframe = $3 AND c.open_time >= $4::bigint AND c.open_time < $5::bigint) s "
                           "WHERE s.i = ANY($6::bigint[])",
                           6, p);
    int64_t at[6];
    for (int k = 0; k < 6; k++)
        at[k] = -1;
    for (int i = 0; r && i < PQntuples(r); i++)
        for (int k = 0; k < 6; k++)
            if (atoll(PQgetvalue(r, i, 0)) == idx[k])
                at[k] = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    for (int s = 0; s < 3; s++)
        json_array_append_new(rows, json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "set", sets[s], "first",
                                              (json_int_t)idx[2 * s], "last", (json_int_t)idx[2 * s + 1], "rows",
                                              (json_int_t)(idx[2 * s + 1] - idx[2 * s] + 1), "from",
                                              at[2 * s] >= 0 ? bots_time_text(req->a, at[2 * s]) : "—", "to",
                                              at[2 * s + 1] >= 0 ? bots_time_text(req->a, at[2 * s + 1]) : "—"));
    *test_from = at[4];
    return rows;
}

/* The options as label/value rows: horizon, fractions, then every hyperparameter. */
static json_t *models_option_rows(const json_t *options)
{
    json_t *rows = json_array();
    static const char *const top[] = {"horizon", "train_frac", "val_frac"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        json_t *v = json_object_get(options, top[i]);
        if (v)
            json_array_append_new(rows, json_pack("{s:s, s:O}", "key", top[i], "value", v));
    }
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(options, "hyperparameters"), key, v)
        json_array_append_new(rows, json_pack("{s:s, s:O}", "key", key, "value", v));
    return rows;
}

/* /backtests/new with strategy ml_signal, this model and a market and period filled in. */
static const char *models_backtest_url(request *req, const json_t *model, const char *market, int64_t from,
                                       int64_t to)
{
    const char *name = arena_printf(req->a, "%s v%lld", json_string_value(json_object_get(model, "name")),
                                    (long long)json_integer_value(json_object_get(model, "version")));
    return arena_printf(req->a, "/backtests/new?strategy=ml_signal&p.model_id=%lld&name=%s&market=%s&from=%s&to=%s",
                        (long long)json_integer_value(json_object_get(model, "id")), url_encode(req->a, name),
                        url_encode(req->a, market), url_encode(req->a, models_iso(req->a, from)),
                        url_encode(req->a, models_iso(req->a, to)));
}

/* ---------------------------------------------------------------- loading */

static json_t *models_load(request *req, const char *id)
{
    const char *p[] = {id};
    PGresult *r = tq_query(&req->cx, "models_show",
                           "SELECT m.id, m.name, m.version, m.kind, m.exchange, m.symbol, m.timeframe, m.from_ms, m.to_ms, "
                           MODELS_STATUS_SQL ", coalesce(j.progress, 0), coalesce(j.error, ''), coalesce(m.job_id, 0), "
                           "coalesce(m.backend, ''), " MODELS_TIME("m.created_at") ", coalesce(" MODELS_TIME("m.finished_at")
                           ", ''), m.options, m.report, m.report->'metrics'->'test'->>'auc', "
                           "m.report->'metrics'->'test'->>'logloss', m.report->'metrics'->'baseline_test'->>'logloss' "
                           "FROM ml_models m LEFT JOIN jobs j ON j.id = m.job_id AND j.tenant_id = $1 "
                           "WHERE m.tenant_id = $1 AND m.id = $2::bigint",
                           1, p);
    if (!r)
        return NULL;
    if (PQntuples(r) != 1)
        return json_object(); /* empty: not found */
    json_error_t je;
    int64_t from = strtoll(PQgetvalue(r, 0, 7), NULL, 10), to = strtoll(PQgetvalue(r, 0, 8), NULL, 10);
    const char *status = PQgetvalue(r, 0, 9);
    json_t *options = json_loads(PQgetvalue(r, 0, 16), 0, &je);
    json_t *report = PQgetisnull(r, 0, 17) ? NULL : json_loads(PQgetvalue(r, 0, 17), 0, &je);
    json_t *m = json_pack("{s:I, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:i, s:s, s:I, s:s, "
                          "s:s, s:s, s:o, s:o}",
                          "id", (json_int_t)atoll(PQgetvalue(r, 0, 0)), "name", PQgetvalue(r, 0, 1), "version",
                          atoi(PQgetvalue(r, 0, 2)), "kind", PQgetvalue(r, 0, 3), "exchange", PQgetvalue(r, 0, 4),
                          "symbol", PQgetvalue(r, 0, 5), "timeframe", PQgetvalue(r, 0, 6), "market",
                          arena_printf(req->a, "%s:%s:%s", PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 5), PQgetvalue(r, 0, 6)),
                          "from", bots_time_text(req->a, from), "to", bots_time_text(req->a, to), "from_ms",
                          (json_int_t)from, "to_ms", (json_int_t)to, "status", status, "progress_pct",
                          !strcmp(status, "done") ? 100 : (int)(atof(PQgetvalue(r, 0, 10)) * 100 + 0.5), "error",
                          PQgetvalue(r, 0, 11), "job_id", (json_int_t)atoll(PQgetvalue(r, 0, 12)), "backend",
                          PQgetvalue(r, 0, 13), "created", PQgetvalue(r, 0, 14), "finished", PQgetvalue(r, 0, 15),
                          "options", options ? options : json_null(), "report", report ? report : json_null());
    if (m)
        models_scores(req, m, r, 0, 18);
    return m;
}

static json_t *models_versions(request *req, const json_t *model)
{
    const char *p[] = {json_string_value(json_object_get(model, "name"))};
    PGresult *r = tq_query(&req->cx, "models_versions",
                           "SELECT m.id, m.version, " MODELS_STATUS_SQL ", coalesce(j.progress, 0), "
                           MODELS_TIME("m.created_at") ", m.report->'metrics'->'test'->>'auc', "
                           "m.report->'metrics'->'test'->>'logloss', m.report->'metrics'->'baseline_test'->>'logloss' "
                           "FROM ml_models m LEFT JOIN jobs j ON j.id = m.job_id AND j.tenant_id = $1 "
                           "WHERE m.tenant_id = $1 AND m.name = $2 ORDER BY m.version DESC LIMIT 100",
                           1, p);
    json_t *list = json_array();
    json_int_t self = json_integer_value(json_object_get(model, "id"));
    for (int i = 0; r && i < PQntuples(r); i++) {
        const char *status = PQgetvalue(r, i, 2);
        json_int_t vid = atoll(PQgetvalue(r, i, 0));
        json_t *row = json_pack("{s:I, s:i, s:s, s:i, s:s, s:b}", "id", vid, "version", atoi(PQgetvalue(r, i, 1)),
                                "status", status, "progress_pct",
                                !strcmp(status, "done") ? 100 : (int)(atof(PQgetvalue(r, i, 3)) * 100 + 0.5), "created",
                                PQgetvalue(r, i, 4), "current", vid == self);
        models_scores(req, row, r, i, 5);
        json_array_append_new(list, row);
    }
    return list;
}

/* The model's prediction runs, newest first; *latest_done is the newest finished one (NULL if none). */
static json_t *models_runs(request *req, const json_t *model, const json_t **latest_done)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(model, "id")));
    const char *p[] = {id};
    PGresult *r = tq_query(&req->cx, "models_runs",
                           "SELECT r.id, r.exchange, r.symbol, r.timeframe, r.from_ms, r.to_ms, r.predictions, "
                           "CASE WHEN r.finished_at IS NOT NULL THEN 'done' WHEN j.status IS NULL OR j.status = 'done' "
                           "THEN 'failed' ELSE j.status END, coalesce(j.progress, 0), coalesce(j.error, ''), "
                           "coalesce(r.job_id, 0), " MODELS_TIME("r.created_at")
                           " FROM ml_prediction_runs r LEFT JOIN jobs j ON j.id = r.job_id AND j.tenant_id = $1 "
                           "WHERE r.tenant_id = $1 AND r.model_id = $2::bigint ORDER BY r.id DESC LIMIT 50",
                           1, p);
    json_t *list = json_array();
    *latest_done = NULL;
    for (int i = 0; r && i < PQntuples(r); i++) {
        const char *status = PQgetvalue(r, i, 7);
        int64_t from = strtoll(PQgetvalue(r, i, 4), NULL, 10), to = strtoll(PQgetvalue(r, i, 5), NULL, 10);
        const char *market = arena_printf(req->a, "%s:%s:%s", PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
        json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:i, s:s, s:I, s:s}", "id",
                                (json_int_t)atoll(PQgetvalue(r, i, 0)), "exchange", PQgetvalue(r, i, 1), "symbol",
                                PQgetvalue(r, i, 2), "timeframe", PQgetvalue(r, i, 3), "market", market, "from",
                                bots_time_text(req->a, from), "to", bots_time_text(req->a, to), "from_ms",
                                (json_int_t)from, "to_ms", (json_int_t)to, "status", status, "progress_pct",
                                !strcmp(status, "done") ? 100 : (int)(atof(PQgetvalue(r, i, 8)) * 100 + 0.5), "error",
                                PQgetvalue(r, i, 9), "job_id", (json_int_t)atoll(PQgetvalue(r, i, 10)), "created",
                                PQgetvalue(r, i, 11));
        json_object_set_new(row, "predictions",
                            PQgetisnull(r, i, 6) ? json_null() : json_integer(atoll(PQgetvalue(r, i, 6))));
        if (!strcmp(status, "done")) {
            json_object_set_new(row, "backtest_url", json_string(models_backtest_url(req, model, market, from, to)));
            if (!*latest_done)
                *latest_done = row;
        }
        json_array_append_new(list, row);
    }
    return list;
}

static int models_live(const char *status)
{
    return !strcmp(status, "queued") || !strcmp(status, "running");
}

int models_show_page(request *req, response *res, const char *id, json_t *predict_form, json_t *predict_errors)
{
    json_t *model = models_load(req, id);
    if (!model || !json_object_size(model)) {
        json_decref(predict_form);
        json_decref(predict_errors);
        if (!model)
            return -1;
        json_decref(model);
        res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
        return 0;
    }
    const json_t *latest = NULL;
    json_t *runs = models_runs(req, model, &latest);
    const char *market = json_string_value(json_object_get(model, "market"));
    int64_t from = json_integer_value(json_object_get(model, "from_ms")), to = json_integer_value(json_object_get(model, "to_ms"));
    /* the backtest reads stored predictions: the newest finished run's market and period, else the model's own */
    const char *bt_url = latest ? json_string_value(json_object_get(latest, "backtest_url"))
                                : models_backtest_url(req, model, market, from, to);
    int live = models_live(json_string_value(json_object_get(model, "status")));
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run) live |= models_live(json_string_value(json_object_get(run, "status")));
    json_t *d = json_pack("{s:O, s:o, s:o, s:s, s:b}", "model", model, "versions", models_versions(req, model),
                          "prediction_runs", runs, "backtest_url", bt_url, "live", live);
    if (!req->api) {
        const json_t *report = json_object_get(model, "report");
        int64_t test_from = -1;
        if (json_is_object(report)) {
            json_object_set_new(d, "metric_rows", models_metric_rows(req, json_object_get(report, "metrics")));
            char *svg = models_curve_svg(req, json_object_get(report, "curve"));
            json_object_set_new(d, "curve_svg", json_string(svg ? svg : ""));
            json_object_set_new(d, "split_rows", models_split_rows(req, model, json_object_get(report, "split"), &test_from));
        }
        json_object_set_new(d, "option_rows", models_option_rows(json_object_get(model, "options")));
        if (!predict_form)
            predict_form = json_pack("{s:s, s:s, s:s}", "market", market, "from",
                                     models_iso(req->a, test_from >= 0 ? test_from : from), "to", models_iso(req->a, to));
        json_t *selected = json_pack("[O]", json_object_get(predict_form, "market") ? json_object_get(predict_form, "market")
                                                                                     : json_null());
        json_object_set_new(d, "markets", tform_markets(req, selected));
        json_decref(selected);
        json_object_set_new(d, "predict_form", predict_form);
        json_object_set_new(d, "predict_errors", predict_errors ? predict_errors : json_object());
    } else {
        json_decref(predict_form);
        json_decref(predict_errors);
    }
    json_decref(model);
    res_page(res, "models/show.cs", "models.model", d);
    return 0;
}
