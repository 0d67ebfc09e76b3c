/* backtests.c — backtests: the form (strategy, markets, period, balance), queued as a job the
 * worker runs with the bots' engine; the report with its curves, and two reports side by side. */
#include "app.h"
#include "audit.h"
#include "bots_view.h"
#include "buf.h"
#include "candles.h"
#include "config.h"
#include "db.h"
#include "modules.h"
#include "queue.h"
#include "render.h"
#include "svg.h"
#include "tenant.h"
#include "trading_create.h"
#include "trading_form.h"
#include "utf8.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKTESTS_MAX_SYMBOLS 8

static void backtests_not_found(request *req, response *res)
{
    res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
}

/* A number of the report as text ("—" when null), with the given decimals and suffix. */
static const char *backtests_num(arena *a, const json_t *v, int decimals, const char *suffix)
{
    if (!json_is_number(v))
        return "—";
    return arena_printf(a, "%.*f%s", decimals, json_number_value(v), suffix);
}

static const char *backtests_duration(arena *a, const json_t *v)
{
    if (!json_is_number(v))
        return "—";
    double h = json_number_value(v) / 3600000.0;
    return h >= 48 ? arena_printf(a, "%.1f d", h / 24) : arena_printf(a, "%.1f h", h);
}

/* The job's status as the page shows it: done once the report is stored. */
static const char *backtests_status(PGresult *r, int row, int status_col, int report_col)
{
    if (!PQgetisnull(r, row, report_col))
        return "done";
    if (PQgetisnull(r, row, status_col))
        return "failed";
    const char *s = PQgetvalue(r, row, status_col);
    return !strcmp(s, "done") ? "failed" : s; /* a job done without a report did not produce one */
}

/* ---------------------------------------------------------------- list */

static int backtests_list(request *req, response *res)
{
    PGresult *r = tq_query(&req->cx, "backtests_list",
                           "SELECT b.id, b.name, b.exchange, array_to_string(b.symbols, ', '), b.timeframe, "
                           "b.config->>'strategy', j.status, coalesce(j.progress, 0), "
                           "b.report->'summary'->'profit_pct', b.report->'summary'->'max_drawdown_pct', "
                           "b.report->'summary'->'trades', to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
                           "b.report IS NULL "
                           "FROM backtests b LEFT JOIN jobs j ON j.id = b.job_id AND j.tenant_id = $1 "
                           "WHERE b.tenant_id = $1 ORDER BY b.id DESC LIMIT 200",
                           0, NULL);
    if (!r)
        return -1;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        int has_report = strcmp(PQgetvalue(r, i, 12), "t") != 0;
        const char *status = has_report ? "done" : PQgetisnull(r, i, 6) ? "failed" : PQgetvalue(r, i, 6);
        if (!has_report && !strcmp(status, "done"))
            status = "failed";
        json_error_t je;
        json_t *pp = json_loads(PQgetvalue(r, i, 8), JSON_DECODE_ANY, &je);
        json_t *dd = json_loads(PQgetvalue(r, i, 9), JSON_DECODE_ANY, &je);
        json_t *tr = json_loads(PQgetvalue(r, i, 10), JSON_DECODE_ANY, &je);
        json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "id",
                                (json_int_t)atoll(PQgetvalue(r, i, 0)), "name", PQgetvalue(r, i, 1), "exchange",
                                PQgetvalue(r, i, 2), "symbols_text", PQgetvalue(r, i, 3), "timeframe",
                                PQgetvalue(r, i, 4), "strategy", PQgetvalue(r, i, 5), "strategy_label",
                                tform_strategy_label(req, PQgetvalue(r, i, 5)), "status", status, "progress_pct",
                                (int)lround(atof(PQgetvalue(r, i, 7)) * 100), "created", PQgetvalue(r, i, 11),
                                "profit_pct_text", backtests_num(req->a, pp, 2, "%"), "max_drawdown_pct_text",
                                backtests_num(req->a, dd, 2, "%"));
        json_object_set_new(row, "profit_pct", pp ? pp : json_null());
        json_object_set_new(row, "max_drawdown_pct", dd ? dd : json_null());
        json_object_set_new(row, "trades", tr ? tr : json_null());
        json_array_append_new(list, row);
    }
    res_page(res, "backtests/index.cs", "backtests.title", json_pack("{s:o}", "backtests", list));
    return 0;
}

/* ---------------------------------------------------------------- the form */

/* Renders the form; form/config/errors are stolen (NULL = empty). */
static int backtests_form_page(request *req, response *res, const char *strategy, json_t *form, json_t *config,
                               json_t *errors)
{
    json_t *d = json_object();
    if (tform_fill(req, d, strategy, config, errors) != 0) {
        json_decref(d);
        json_decref(form);
        json_decref(config);
        json_decref(errors);
        res_error(req, res, 400, "bad_strategy", render_lang_string(req->lang, "strategy.unknown"));
        return 0;
    }
    json_decref(config);
    if (!form)
        form = json_pack("{s:s, s:[]}", "initial_balance", "10000", "markets");
    json_object_set_new(d, "markets", tform_markets(req, json_object_get(form, "markets")));
    json_object_set_new(d, "form", form);
    json_object_set_new(d, "errors", errors ? errors : json_object());
    res_page(res, "backtests/new.cs", "backtests.new", d);
    return 0;
}

/* GET /backtests/new?strategy=: another page may send people here with the form filled in
 * (a model's "backtest with this model"): name, market, from, to and p.<param> values, which
 * the form shows for checking before anything runs. */
static int backtests_new(request *req, response *res)
{
    json_t *form = json_pack("{s:s, s:[]}", "initial_balance", "10000", "markets");
    json_t *config = json_pack("{s:{}}", "params");
    static const char *const fields[] = {"name", "from", "to"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = req_query(req, fields[i]);
        if (v && utf8_label_ok(v, 80))
            json_object_set_new(form, fields[i], json_string(v));
    }
    const char *market = req_query(req, "market");
    if (market && utf8_label_ok(market, 100))
        json_array_append_new(json_object_get(form, "markets"), json_string(market));
    for (size_t i = 0; i < req->query.n; i++) {
        const char *k = req->query.items[i].key, *v = req->query.items[i].value;
        if (!strncmp(k, "p.", 2) && utf8_label_ok(k, 64) && utf8_label_ok(v, 40))
            json_object_set_new(json_object_get(config, "params"), k + 2, json_string(v));
    }
    return backtests_form_page(req, res, req_query(req, "strategy"), form, config, NULL);
}

static void backtests_err(request *req, json_t *errors, const char *field)
{
    char key[64];
    snprintf(key, sizeof key, "backtests.err_%s", field);
    json_object_set_new(errors, field, json_string(render_lang_string(req->lang, key)));
}

/* The chosen markets: every form field "market" (a multiple select), or the JSON body's
 * "markets" array; each "exchange:symbol:timeframe". */
static json_t *backtests_market_keys(request *req)
{
    json_t *keys = json_array();
    if (req->api && req->json) {
        json_t *m = json_object_get(req->json, "markets");
        size_t i;
        json_t *v;
        json_array_foreach(m, i, v) if (json_is_string(v)) json_array_append(keys, v);
        return keys;
    }
    for (size_t i = 0; i < req->form.n; i++)
        if (!strcmp(req->form.items[i].key, "market"))
            json_array_append_new(keys, json_string(req->form.items[i].value));
    return keys;
}

static int backtests_name_ok(const char *s)
{
    return utf8_label_ok(s, 80);
}

typedef struct backtests_new_tx_arg {
    const ctx *c;
    const char *params[8]; /* $2..: user, name, exchange, symbols {..}, timeframe, from, to, balance */
    const char *config;
    char id[24];
    long long job_id;
    char quota[256];
} backtests_new_tx_arg;

static int backtests_new_tx(void *arg)
{
    backtests_new_tx_arg *n = arg;
    const char *p[] = {n->params[0], n->params[1], n->params[2], n->params[3], n->params[4],
                       n->params[5], n->params[6], n->params[7], n->config};
    PGresult *r = tq_query(n->c, "backtests_insert",
                           "INSERT INTO backtests (tenant_id, user_id, name, exchange, symbols, timeframe, from_ms, to_ms, "
                           "initial_balance, config) SELECT u.tenant_id, u.id, $3, $4, $5::text[], $6, $7::bigint, "
                           "$8::bigint, $9::float8, $10::jsonb FROM users u WHERE u.id = $2::bigint AND u.tenant_id = $1 "
                           "RETURNING id",
                           9, p);
    if (!r || PQntuples(r) != 1)
        return -1;
    snprintf(n->id, sizeof n->id, "%s", PQgetvalue(r, 0, 0));
    n->job_id = queue_enqueue_for(n->c, "backtest", "backtests", "backtest_id", n->id);
    if (n->job_id == QUEUE_EQUOTA) {
        snprintf(n->quota, sizeof n->quota, "%s", queue_error());
        return -3;
    }
    if (n->job_id <= 0)
        return -1;
    json_t *after = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "name", n->params[1], "exchange", n->params[2],
                              "symbols", n->params[3], "timeframe", n->params[4], "config", n->config, "job",
                              (json_int_t)n->job_id);
    int rc = after ? audit_record(n->c, "backtests.create", "backtest", n->id, NULL, after) : -1;
    json_decref(after);
    return rc;
}

int backtests_queue(const ctx *c, const backtest_new *b, backtest_queued *out)
{
    char uid[24], f[24], t[24], bal[40];
    snprintf(uid, sizeof uid, "%lld", c->user_id);
    snprintf(f, sizeof f, "%lld", (long long)b->from_ms);
    snprintf(t, sizeof t, "%lld", (long long)b->to_ms);
    snprintf(bal, sizeof bal, "%.17g", b->initial_balance);
    char *cfg = json_dumps(b->config, JSON_COMPACT | JSON_SORT_KEYS);
    backtests_new_tx_arg n = {c, {uid, b->name, b->exchange, b->symbols, b->timeframe, f, t, bal}, cfg, "", 0, ""};
    int rc = cfg ? db_tx(backtests_new_tx, &n) : -1;
    free(cfg);
    snprintf(out->id, sizeof out->id, "%s", n.id);
    snprintf(out->quota, sizeof out->quota, "%s", n.quota);
    out->job_id = n.job_id;
    return rc == -3 ? BACKTESTS_QUOTA : rc != 0 ? -1 : 0;
}

int backtests_start(request *req, response *res, const backtest_new *b)
{
    backtest_queued n;
    int rc = backtests_queue(&req->cx, b, &n);
    if (rc == BACKTESTS_QUOTA) {
        res_error(req, res, 429, "quota_exceeded", n.quota);
        return 0;
    }
    if (rc != 0)
        return -1;
    queue_send(&n.job_id, 1);
    if (req->api) {
        res_json(res, 201, json_pack("{s:I, s:I}", "id", (json_int_t)atoll(n.id), "job_id", (json_int_t)n.job_id));
        return 0;
    }
    res_redirect(res, arena_printf(req->a, "/backtests/%s", n.id));
    return 0;
}

static int backtests_create(request *req, response *res)
{
    json_t *errors = json_object();
    const char *name = req_field(req, "name"), *strategy = req_field(req, "strategy");
    const char *from = req_field(req, "from"), *to = req_field(req, "to"), *bal = req_field(req, "initial_balance");
    if (!backtests_name_ok(name))
        backtests_err(req, errors, "name");
    json_t *keys = backtests_market_keys(req);
    /* all of one exchange and timeframe, 1..8 distinct symbols that have candles */
    char exchange[40] = "", timeframe[8] = "";
    buf symbols = {0};
    buf_putc(&symbols, '{');
    int market_ok = json_array_size(keys) >= 1 && json_array_size(keys) <= BACKTESTS_MAX_SYMBOLS;
    size_t i;
    json_t *v;
    json_array_foreach(keys, i, v)
    {
        if (!market_ok)
            break;
        char ex[40], sym[40], tf[8];
        if (!tform_market(req, json_string_value(v), ex, sym, tf, NULL, NULL) ||
            (i && (strcmp(ex, exchange) || strcmp(tf, timeframe))) || (symbols.data && strstr(symbols.data, sym))) {
            market_ok = 0;
            break;
        }
        snprintf(exchange, sizeof exchange, "%s", ex);
        snprintf(timeframe, sizeof timeframe, "%s", tf);
        buf_printf(&symbols, "%s%s", i ? "," : "", sym);
    }
    buf_putc(&symbols, '}');
    if (!market_ok)
        backtests_err(req, errors, "market");
    int64_t from_ms = 0, to_ms = 0;
    if (!from || !to || candle_parse_time(from, strlen(from), &from_ms) != 0 ||
        candle_parse_time(to, strlen(to), &to_ms) != 0 || to_ms <= from_ms)
        backtests_err(req, errors, "range");
    else if (market_ok && (to_ms - from_ms) / candle_timeframe_ms(timeframe) * (int64_t)json_array_size(keys) >
                              config_int("backtests.max_candles"))
        backtests_err(req, errors, "too_many");
    char *end = NULL;
    double balance = bal ? strtod(bal, &end) : NAN;
    if (!bal || end == bal || *end || !isfinite(balance) || balance < 1 || balance > 1e9)
        backtests_err(req, errors, "initial_balance");
    char err[200] = "";
    json_t *config = tform_config(req, strategy, market_ok ? timeframe : "1h", err, sizeof err);
    if (!config)
        json_object_set_new(errors, "config", json_string(err));
    if (json_object_size(errors)) {
        json_decref(config);
        buf_free(&symbols);
        if (req->api) {
            json_t *body = json_pack("{s:{s:s, s:s, s:s, s:o}}", "error", "code", "invalid_backtest", "message",
                                     render_lang_string(req->lang, "backtests.invalid"), "request_id", req->request_id,
                                     "fields", errors);
            json_decref(keys);
            res_json(res, 422, body);
            return 0;
        }
        json_t *form = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", backtests_name_ok(name) ? name : "", "from",
                                 from && strlen(from) < 40 ? from : "", "to", to && strlen(to) < 40 ? to : "",
                                 "initial_balance", bal && strlen(bal) < 24 ? bal : "", "markets", keys);
        res->status = 422;
        return backtests_form_page(req, res, strategy, form, tform_submitted(req, strategy), errors);
    }
    json_decref(errors);
    json_decref(keys);
    backtest_new b = {name, exchange, timeframe, symbols.data, from_ms, to_ms, balance, config};
    int rc = backtests_start(req, res, &b);
    json_decref(config);
    buf_free(&symbols);
    return rc;
}

/* ---------------------------------------------------------------- one report */

/* The backtest row and its report (parsed) for the tenant; NULL when it does not exist. */
typedef struct backtests_row {
    json_t *meta;   /* id, name, exchange, symbols_text, timeframe, strategy(_label), from, to, status, ... */
    json_t *report; /* NULL until done */
} backtests_row;

static int backtests_load(request *req, const char *id, backtests_row *out)
{
    out->meta = out->report = NULL;
    const char *p[] = {id};
    PGresult *r = tq_query(&req->cx, "backtests_show",
                           "SELECT b.id, b.name, b.exchange, array_to_string(b.symbols, ', '), b.timeframe, "
                           "b.config->>'strategy', to_char(to_timestamp(b.from_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
                           "to_char(to_timestamp(b.to_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
                           "j.status, coalesce(j.progress, 0), coalesce(j.error, ''), coalesce(b.job_id, 0), b.report, "
                           "b.initial_balance, b.config "
                           "FROM backtests b LEFT JOIN jobs j ON j.id = b.job_id AND j.tenant_id = $1 "
                           "WHERE b.tenant_id = $1 AND b.id = $2::bigint",
                           1, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return 0;
    json_error_t je;
    const char *status = backtests_status(r, 0, 8, 12);
    out->report = PQgetisnull(r, 0, 12) ? NULL : json_loads(PQgetvalue(r, 0, 12), 0, &je);
    json_t *config = json_loads(PQgetvalue(r, 0, 14), 0, &je);
    out->meta = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:f, s:o}", "id",
                          (json_int_t)atoll(PQgetvalue(r, 0, 0)), "name", PQgetvalue(r, 0, 1), "exchange",
                          PQgetvalue(r, 0, 2), "symbols_text", PQgetvalue(r, 0, 3), "timeframe", PQgetvalue(r, 0, 4),
                          "strategy", PQgetvalue(r, 0, 5), "strategy_label", tform_strategy_label(req, PQgetvalue(r, 0, 5)),
                          "from", PQgetvalue(r, 0, 6), "to", PQgetvalue(r, 0, 7), "status", status, "progress_pct",
                          (int)lround(atof(PQgetvalue(r, 0, 9)) * 100), "error", PQgetvalue(r, 0, 10), "job_id",
                          (json_int_t)atoll(PQgetvalue(r, 0, 11)), "initial_balance", atof(PQgetvalue(r, 0, 13)),
                          "config", config ? config : json_null());
    return out->meta ? 1 : -1;
}

/* The metrics the pages list, in order: key in the report's summary, decimals, suffix, and which
 * way is better for the comparison (1 higher, -1 lower, 0 neither). */
typedef struct backtests_metric {
    const char *key, *label;
    int decimals;
    const char *suffix;
    int better;
} backtests_metric;

static const backtests_metric backtests_metrics[] = {
    {"final_equity", "final_equity", 2, "", 1},
    {"profit_abs", "profit_abs", 2, "", 1},
    {"profit_pct", "profit_pct", 2, "%", 1},
    {"cagr_pct", "cagr_pct", 2, "%", 1},
    {"sharpe", "sharpe", 2, "", 1},
    {"sortino", "sortino", 2, "", 1},
    {"calmar", "calmar", 2, "", 1},
    {"max_drawdown_abs", "max_drawdown_abs", 2, "", -1},
    {"max_drawdown_pct", "max_drawdown_pct", 2, "%", -1},
    {"profit_factor", "profit_factor", 2, "", 1},
    {"expectancy", "expectancy", 2, "", 1},
    {"win_rate_pct", "win_rate_pct", 1, "%", 1},
    {"trades", "trades", 0, "", 0},
    {"avg_win_duration_ms", "avg_win_duration", -1, "", 0},
    {"avg_loss_duration_ms", "avg_loss_duration", -1, "", 0},
    {"best_trade_pct", "best_trade_pct", 2, "%", 1},
    {"worst_trade_pct", "worst_trade_pct", 2, "%", 1},
    {"max_consecutive_wins", "max_consecutive_wins", 0, "", 0},
    {"max_consecutive_losses", "max_consecutive_losses", 0, "", -1},
    {"exposure_pct", "exposure_pct", 1, "%", 0},
    {"market_change_pct", "market_change_pct", 2, "%", 0},
    {"total_fees", "total_fees", 2, "", -1},
};
#define BACKTESTS_NMETRICS (sizeof backtests_metrics / sizeof backtests_metrics[0])

static const char *backtests_metric_text(arena *a, const backtests_metric *m, const json_t *v)
{
    return m->decimals < 0 ? backtests_duration(a, v) : backtests_num(a, v, m->decimals, m->suffix);
}

static const char *backtests_metric_label(request *req, const backtests_metric *m)
{
    char key[80];
    snprintf(key, sizeof key, "backtests.m.%s", m->label);
    return render_lang_string(req->lang, key);
}

/* A curve of the report ({"time":[...], field:[...]}) as an SVG line chart; scale multiplies the
 * values (and base, when not NaN, turns them into % of it). */
static char *backtests_curve_svg(request *req, const json_t *const *curves, const char *const *fields,
                                 const double *bases, const char *const *labels, int ncurves, const char *suffix,
                                 int area)
{
    /* every curve on the first one's time axis when their times differ: the chart needs one x */
    const json_t *t0 = json_object_get(curves[0], "time");
    size_t n = json_array_size(t0);
    if (!n)
        return NULL;
    int64_t *x = arena_alloc(req->a, n * sizeof *x);
    svg_series *s = arena_alloc(req->a, (size_t)ncurves * sizeof *s);
    if (!x || !s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        x[i] = json_integer_value(json_array_get(t0, i));
    for (int c = 0; c < ncurves; c++) {
        const json_t *tc = json_object_get(curves[c], "time"), *yc = json_object_get(curves[c], fields[c]);
        double *y = arena_alloc(req->a, n * sizeof *y);
        if (!y)
            return NULL;
        /* step interpolation: the last value at or before each x */
        size_t j = 0, m = json_array_size(tc);
        double last = NAN;
        for (size_t i = 0; i < n; i++) {
            while (j < m && json_integer_value(json_array_get(tc, j)) <= x[i]) {
                const json_t *v = json_array_get(yc, j);
                last = json_is_number(v) ? json_number_value(v) : NAN;
                j++;
            }
            y[i] = isnan(bases[c]) ? last : (last / bases[c] - 1.0) * 100.0;
        }
        s[c] = (svg_series){labels[c], c == 0 ? "s-equity" : "s-compare", y, area ? SVG_AREA : SVG_LINE, 0};
    }
    svg_line_chart ch = {x, n, s, (size_t)ncurves, 1, 0, 280, NULL, NULL, suffix};
    buf b = {0};
    svg_lines(&ch, bots_svg_sink, &b);
    char *out = b.data && !b.oom ? arena_strndup(req->a, b.data, b.len) : NULL;
    buf_free(&b);
    return out;
}

static int backtests_show(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    backtests_row row;
    int found = id ? backtests_load(req, id, &row) : 0;
    if (found < 0)
        return -1;
    if (!found) {
        backtests_not_found(req, res);
        return 0;
    }
    json_t *d = json_pack("{s:o, s:o}", "backtest", row.meta, "report", row.report ? row.report : json_null());
    if (!req->api && row.report) {
        const json_t *summary = json_object_get(row.report, "summary");
        json_t *metrics = json_array();
        for (size_t i = 0; i < BACKTESTS_NMETRICS; i++) {
            const backtests_metric *m = &backtests_metrics[i];
            json_array_append_new(metrics, json_pack("{s:s, s:s}", "label", backtests_metric_label(req, m), "text",
                                                     backtests_metric_text(req->a, m, json_object_get(summary, m->key))));
        }
        json_object_set_new(d, "metric_rows", metrics);
        const json_t *eq = json_object_get(row.report, "equity_curve"), *dd = json_object_get(row.report, "drawdown_curve");
        const char *ef[] = {"equity"}, *df[] = {"drawdown_pct"}, *lab[] = {NULL};
        double nobase[] = {NAN};
        char *es = backtests_curve_svg(req, &eq, ef, nobase, lab, 1, NULL, 1);
        char *ds = backtests_curve_svg(req, &dd, df, nobase, lab, 1, "%", 1);
        json_object_set_new(d, "equity_svg", json_string(es ? es : ""));
        json_object_set_new(d, "drawdown_svg", json_string(ds ? ds : ""));
        json_t *months = json_array();
        size_t i;
        json_t *mo;
        json_array_foreach(json_object_get(row.report, "monthly"), i, mo)
        {
            const json_t *ret = json_object_get(mo, "return_pct");
            double rv = json_is_number(ret) ? json_number_value(ret) : 0;
            json_array_append_new(months, json_pack("{s:s, s:O, s:s, s:s, s:i}", "month",
                                                    json_string_value(json_object_get(mo, "month")) ?: "", "trades",
                                                    json_object_get(mo, "trades"), "pnl",
                                                    backtests_num(req->a, json_object_get(mo, "pnl"), 2, ""), "return",
                                                    backtests_num(req->a, ret, 2, "%"), "sign", rv > 0 ? 1 : rv < 0 ? -1 : 0));
        }
        json_object_set_new(d, "month_rows", months);
        json_t *trades = json_array(), *t;
        json_array_foreach(json_object_get(row.report, "trades"), i, t)
        {
            if (i >= 500) {
                json_object_set_new(d, "more_trades", json_true());
                break;
            }
            double pnl = json_number_value(json_object_get(t, "profit_abs"));
            json_array_append_new(
                trades, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "symbol",
                                  json_string_value(json_object_get(t, "symbol")) ?: "", "entry",
                                  bots_time_text(req->a, json_integer_value(json_object_get(t, "entry_time"))), "exit",
                                  bots_time_text(req->a, json_integer_value(json_object_get(t, "exit_time"))), "prices",
                                  arena_printf(req->a, "%.8g → %.8g", json_number_value(json_object_get(t, "entry_price")),
                                               json_number_value(json_object_get(t, "exit_price"))),
                                  "pnl", backtests_num(req->a, json_object_get(t, "profit_abs"), 2, ""), "reason",
                                  json_string_value(json_object_get(t, "exit_reason")) ?: "", "sign",
                                  pnl > 0 ? 1 : pnl < 0 ? -1 : 0));
        }
        json_object_set_new(d, "trade_rows", trades);
        json_t *reasons = json_array(), *rr;
        json_array_foreach(json_object_get(row.report, "exit_reasons"), i, rr)
        {
            if (json_integer_value(json_object_get(rr, "trades")) <= 0)
                continue;
            json_array_append_new(reasons, json_pack("{s:s, s:O, s:O, s:O, s:s}", "reason",
                                                     json_string_value(json_object_get(rr, "reason")) ?: "", "trades",
                                                     json_object_get(rr, "trades"), "wins", json_object_get(rr, "wins"),
                                                     "losses", json_object_get(rr, "losses"), "pnl",
                                                     backtests_num(req->a, json_object_get(rr, "pnl"), 2, "")));
        }
        json_object_set_new(d, "reason_rows", reasons);
    }
    res_page(res, "backtests/show.cs", "backtests.report", d);
    return 0;
}

/* ---------------------------------------------------------------- compare */

static int backtests_compare(request *req, response *res)
{
    /* ?id=1&id=2 (the list's checkboxes) or ?a=1&b=2 */
    const char *ids[2] = {req_query(req, "a"), req_query(req, "b")};
    if (!ids[0] || !ids[1]) {
        int k = 0;
        for (size_t i = 0; i < req->query.n && k < 2; i++)
            if (!strcmp(req->query.items[i].key, "id"))
                ids[k++] = req->query.items[i].value;
        if (k < 2)
            ids[0] = ids[1] = NULL;
    }
    backtests_row a = {0}, b = {0};
    int fa = ids[0] && req_is_id(ids[0]) ? backtests_load(req, ids[0], &a) : 0;
    int fb = fa > 0 && ids[1] && req_is_id(ids[1]) ? backtests_load(req, ids[1], &b) : 0;
    if (fa < 0 || fb < 0) {
        json_decref(a.meta);
        json_decref(a.report);
        return -1;
    }
    if (fa <= 0 || fb <= 0 || !a.report || !b.report) {
        json_decref(a.meta);
        json_decref(a.report);
        json_decref(b.meta);
        json_decref(b.report);
        res_error(req, res, 400, "bad_comparison", render_lang_string(req->lang, "backtests.err_compare"));
        return 0;
    }
    const json_t *sa = json_object_get(a.report, "summary"), *sb = json_object_get(b.report, "summary");
    json_t *rows = json_array();
    for (size_t i = 0; i < BACKTESTS_NMETRICS; i++) {
        const backtests_metric *m = &backtests_metrics[i];
        const json_t *va = json_object_get(sa, m->key), *vb = json_object_get(sb, m->key);
        const char *better = "";
        if (m->better && json_is_number(va) && json_is_number(vb) && json_number_value(va) != json_number_value(vb))
            better = (json_number_value(va) > json_number_value(vb)) == (m->better > 0) ? "a" : "b";
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O}", "key", m->key, "label",
                                              backtests_metric_label(req, m), "a", backtests_metric_text(req->a, m, va),
                                              "b", backtests_metric_text(req->a, m, vb), "better", better, "value_a",
                                              va ? va : json_null(), "value_b", vb ? vb : json_null()));
    }
    json_t *d = json_pack("{s:o, s:o, s:o}", "a", a.meta, "b", b.meta, "rows", rows);
    if (!req->api) {
        const json_t *curves[] = {json_object_get(a.report, "equity_curve"), json_object_get(b.report, "equity_curve")};
        const char *fields[] = {"equity", "equity"};
        double bases[] = {json_number_value(json_object_get(a.meta, "initial_balance")),
                          json_number_value(json_object_get(b.meta, "initial_balance"))};
        const char *labels[] = {json_string_value(json_object_get(a.meta, "name")),
                                json_string_value(json_object_get(b.meta, "name"))};
        char *svg = backtests_curve_svg(req, curves, fields, bases, labels, 2, "%", 0);
        json_object_set_new(d, "equity_svg", json_string(svg ? svg : ""));
    }
    json_decref(a.report);
    json_decref(b.report);
    res_page(res, "backtests/compare.cs", "backtests.compare", d);
    return 0;
}

/* ---------------------------------------------------------------- delete */

static int backtests_delete(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    const char *p[] = {id ? id : "0"};
    PGresult *r = id ? audit_tq(&req->cx, "backtests_delete",
                                "DELETE FROM backtests WHERE tenant_id = $1 AND id = $2::bigint RETURNING id", 1, p,
                                "backtests.delete", "backtest", id, NULL)
                     : NULL;
    if (id && !r)
        return -1;
    if (!r || PQntuples(r) != 1) {
        backtests_not_found(req, res);
        return 0;
    }
    if (req->api) {
        res_json(res, 200, json_pack("{s:b}", "deleted", 1));
        return 0;
    }
    res_redirect(res, "/backtests");
    return 0;
}

static const route routes[] = {
    {"GET", "/backtests", backtests_list, R_AUTH | R_PAGE, "trading.use", NULL},
    {"GET", "/backtests/new", backtests_new, R_AUTH | R_PAGE, "trading.use", NULL},
    {"GET", "/backtests/compare", backtests_compare, R_AUTH | R_PAGE, "trading.use", NULL},
    {"POST", "/backtests", backtests_create, R_AUTH | R_CSRF | R_PAGE, "trading.use", "backtests.create"},
    {"GET", "/backtests/{id}", backtests_show, R_AUTH | R_PAGE, "trading.use", NULL},
    {"POST", "/backtests/{id}/delete", backtests_delete, R_AUTH | R_CSRF | R_PAGE, "trading.use", NULL},
};

const module backtests_module = {"backtests", NULL, NULL, ROUTES(routes)};
