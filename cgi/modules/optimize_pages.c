/* optimize_pages.c — the parts of the optimization and walk-forward pages that are the same for
 * both: reading and storing a request, the form, the list, one row with its job status, cancel, delete. */
#include "optimize_pages.h"
#include "plans.h"
#include "app.h"
#include "audit.h"
#include "candles.h"
#include "config.h"
#include "db.h"
#include "queue.h"
#include "render.h"
#include "svg.h"
#include "tenant.h"
#include "trading_form.h"
#include "utf8.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const optp_kind optp_search = {"search", "optimize", "/optimizations", "optimizations", "optimizations",
                               "invalid_optimization"};
const optp_kind optp_walk_forward = {"walk_forward", "walk_forward", "/walk-forward", "walkforward", "walkforward",
                                     "invalid_walk_forward"};

/* The risk controls a search may vary (lib/trading/optimize_spec.c takes the same names). */
static const char *const optp_risk_dims[] = {"stop_loss_pct", "take_profit_pct", "trailing_stop_pct",
                                             "trailing_offset_pct", "stake_pct"};
#define OPTP_NRISK (sizeof optp_risk_dims / sizeof optp_risk_dims[0])

static const char *const optp_methods[] = {"grid", "random", "genetic"};
static const char *const optp_objectives[] = {"sharpe", "sortino", "calmar", "profit", "profit_dd"};

/* The form's own fields and their defaults (the strategy's come from trading_form). */
static const char *const optp_fields[][2] = {
    {"name", ""},         {"market", ""},          {"from", ""},           {"to", ""},
    {"initial_balance", "10000"}, {"method", "grid"}, {"objective", "sharpe"}, {"min_trades", "1"},
    {"max_drawdown_pct", ""}, {"top", "50"},      {"seed", "1"},          {"samples", "200"},
    {"population", "40"},  {"generations", "20"},  {"mutation", "0.2"},     {"in_sample", "500"},
    {"out_of_sample", "100"}, {"step", ""},       {"anchored", ""},
};
#define OPTP_NFIELDS (sizeof optp_fields / sizeof optp_fields[0])

static void optp_not_found(request *req, response *res)
{
    res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
}

const char *optp_num(arena *a, const json_t *v, int decimals, const char *suffix)
{
    if (!json_is_number(v))
        return "—";
    return arena_printf(a, "%.*f%s", decimals, json_number_value(v), suffix ? suffix : "");
}

const char *optp_date(arena *a, int64_t ms)
{
    int y, mo, d, h, mi;
    svg_civil(ms, &y, &mo, &d, &h, &mi);
    return h || mi ? arena_printf(a, "%04d-%02d-%02d %02d:%02d", y, mo, d, h, mi)
                   : arena_printf(a, "%04d-%02d-%02d", y, mo, d);
}

const char *optp_dim_label(request *req, int kind, const char *name)
{
    const strategy_info *info = strategy_get(kind);
    for (int i = 0; info && i < info->nparams; i++)
        if (!strcmp(info->params[i].name, name))
            return render_lang_string(req->lang, info->params[i].label_key);
    char key[80];
    snprintf(key, sizeof key, "strategy.risk.%s", name);
    return render_lang_string(req->lang, key);
}

const char *optp_objective_label(request *req, const char *objective)
{
    char key[80];
    snprintf(key, sizeof key, "optimizations.objective_%s", objective ? objective : "sharpe");
    return render_lang_string(req->lang, key);
}

const char *optp_values_text(request *req, int kind, const json_t *space, const json_t *values)
{
    buf b = {0};
    const char *name;
    json_t *dim;
    json_object_foreach((json_t *)space, name, dim) {
        (void)dim;
        const json_t *v = json_object_get(values, name);
        buf_printf(&b, "%s%s = %s", b.len ? ", " : "", optp_dim_label(req, kind, name),
                   json_is_number(v) ? arena_printf(req->a, "%.10g", json_number_value(v)) : "—");
    }
    const char *out = b.data && !b.oom ? arena_strndup(req->a, b.data, b.len) : "";
    buf_free(&b);
    return out;
}

/* ---------------------------------------------------------------- the request */

static void optp_err(request *req, json_t *errors, const char *field, const char *key)
{
    char k[80];
    snprintf(k, sizeof k, "optimizations.err_%s", key);
    json_object_set_new(errors, field, json_string(render_lang_string(req->lang, k)));
}

/* Reads and checks the common fields; messages into errors. in->config is set whenever the base
 * strategy is valid, even when other fields are not (the spec can still be checked). */
static void optp_read(request *req, optp_input *in, json_t *errors)
{
    memset(in, 0, sizeof *in);
    in->name = req_field(req, "name");
    in->strategy = req_field(req, "strategy");
    if (!utf8_label_ok(in->name, 80))
        optp_err(req, errors, "name", "name");
    int64_t first = 0, last = 0;
    int market_ok = tform_market(req, req_field(req, "market"), in->exchange, in->symbol, in->timeframe, &first, &last);
    if (!market_ok)
        optp_err(req, errors, "market", "market");
    const char *from = req_field(req, "from"), *to = req_field(req, "to"), *bal = req_field(req, "initial_balance");
    if (!from || !to || candle_parse_time(from, strlen(from), &in->from_ms) != 0 ||
        candle_parse_time(to, strlen(to), &in->to_ms) != 0 || in->to_ms <= in->from_ms) {
        optp_err(req, errors, "range", "range");
    } else if (market_ok) {
        int64_t tf = candle_timeframe_ms(in->timeframe);
        int64_t lo = in->from_ms > first ? in->from_ms : first;
        int64_t hi = in->to_ms < last + tf ? in->to_ms : last + tf;
        in->traded = hi > lo ? (hi - lo + tf - 1) / tf : 0;
        if (in->traded <= 0)
            optp_err(req, errors, "range", "no_candles");
        else if ((in->to_ms - in->from_ms) / tf > config_int("backtests.max_candles"))
            optp_err(req, errors, "range", "too_many");
    }
    char *end = NULL;
    in->initial_balance = bal ? strtod(bal, &end) : NAN;
    if (!bal || end == bal || *end || !isfinite(in->initial_balance) || in->initial_balance < 1 ||
        in->initial_balance > 1e9)
        optp_err(req, errors, "initial_balance", "initial_balance");
    char err[200] = "";
    in->config = tform_config(req, in->strategy, market_ok ? in->timeframe : "1h", err, sizeof err);
    if (in->config && engine_config_from_json(&in->base, in->config, err, sizeof err) != 0) {
        json_decref(in->config);
        in->config = NULL;
    }
    if (!in->config)
        json_object_set_new(errors, "config", json_string(err));
}

int optp_field_number(request *req, const char *field, int integral, json_t **out)
{
    const char *v = req_field(req, field);
    *out = NULL;
    if (!v || !*v)
        return 0;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || strlen(v) > 40 || (integral && x != floor(x)))
        return -1;
    *out = x == floor(x) && fabs(x) < 9e15 ? json_integer((json_int_t)x) : json_real(x);
    return 0;
}

json_t *optp_search_from_form(request *req, const engine_config *base, char *err, size_t errlen)
{
    json_t *s = json_object(), *v;
    const char *method = req_field(req, "method"), *objective = req_field(req, "objective");
    if (method && *method)
        json_object_set_new(s, "method", json_string(method));
    if (objective && *objective)
        json_object_set_new(s, "objective", json_string(objective));
    json_t *constraints = json_object();
    json_object_set_new(s, "constraints", constraints);
    static const struct {
        const char *field;
        int integral;
        int constraint;
    } nums[] = {{"min_trades", 1, 1}, {"max_drawdown_pct", 0, 1}, {"top", 1, 0},         {"seed", 1, 0},
                {"samples", 1, 0},    {"population", 1, 0},       {"generations", 1, 0}, {"mutation", 0, 0}};
    int m = 0;
    while (method && m < 3 && strcmp(method, optp_methods[m]))
        m++;
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        /* a method's own settings only with that method: the others' hidden defaults would be refused */
        if ((!strcmp(nums[i].field, "samples") && m != 1) ||
            ((!strcmp(nums[i].field, "population") || !strcmp(nums[i].field, "generations") ||
              !strcmp(nums[i].field, "mutation")) &&
             m != 2))
            continue;
        if (optp_field_number(req, nums[i].field, nums[i].integral, &v) != 0) {
            snprintf(err, errlen, "%s: must be %s", nums[i].field, nums[i].integral ? "a whole number" : "a number");
            json_decref(s);
            return NULL;
        }
        if (v)
            json_object_set_new(nums[i].constraint ? constraints : s, nums[i].field, v);
    }
    json_t *space = json_object();
    json_object_set_new(s, "space", space);
    const strategy_info *info = strategy_get(base->kind);
    int nnames = (info ? info->nparams : 0) + (int)OPTP_NRISK;
    for (int i = 0; i < nnames; i++) {
        const char *name = info && i < info->nparams ? info->params[i].name : optp_risk_dims[i - (info ? info->nparams : 0)];
        json_t *lo, *hi, *step;
        char f[80];
        int bad = 0;
        snprintf(f, sizeof f, "s.%s.min", name);
        bad |= optp_field_number(req, f, 0, &lo);
        snprintf(f, sizeof f, "s.%s.max", name);
        bad |= optp_field_number(req, f, 0, &hi);
        snprintf(f, sizeof f, "s.%s.step", name);
        bad |= optp_field_number(req, f, 0, &step);
        if (!bad && !lo && !hi && !step)
            continue;
        if (bad || !lo || !hi) {
            snprintf(err, errlen, "space.%s: give numbers for min and max (and optionally step)", name);
            json_decref(lo);
            json_decref(hi);
            json_decref(step);
            json_decref(s);
            return NULL;
        }
        json_t *dim = json_pack("{s:o, s:o}", "min", lo, "max", hi);
        if (step)
            json_object_set_new(dim, "step", step);
        json_object_set_new(space, name, dim);
    }
    return s;
}

/* ---------------------------------------------------------------- the form */

/* Renders the form; config and errors are stolen (NULL = defaults, none). refill: show what the
 * request submitted instead of the defaults. */
static int optp_form_page(request *req, response *res, const optp_kind *k, const char *strategy, int refill,
                          json_t *config, json_t *errors)
{
    json_t *d = json_object();
    if (tform_fill(req, d, strategy, config, errors) != 0) {
        json_decref(d);
        json_decref(config);
        json_decref(errors);
        res_error(req, res, 400, "bad_strategy", render_lang_string(req->lang, "strategy.unknown"));
        return 0;
    }
    json_decref(config);
    int kind = 0;
    strategy_kind_parse(json_string_value(json_object_get(d, "strategy")), &kind);
    json_t *form = json_object();
    for (size_t i = 0; i < OPTP_NFIELDS; i++) {
        const char *v = refill ? req_field(req, optp_fields[i][0]) : NULL;
        int ok = v && strlen(v) <= 80 && utf8_valid(v, strlen(v));
        json_object_set_new(form, optp_fields[i][0], json_string(ok ? v : refill ? "" : optp_fields[i][1]));
    }
    const char *spec_err = errors ? json_string_value(json_object_get(errors, "spec")) : NULL;
    json_t *dims = json_array();
    const strategy_info *info = strategy_get(kind);
    for (int i = 0; i < info->nparams + (int)OPTP_NRISK; i++) {
        const char *name = i < info->nparams ? info->params[i].name : optp_risk_dims[i - info->nparams];
        json_t *row = json_pack("{s:s, s:s}", "name", name, "label", optp_dim_label(req, kind, name));
        static const char *const parts[] = {"min", "max", "step"};
        for (int p = 0; p < 3; p++) {
            char f[80];
            snprintf(f, sizeof f, "s.%s.%s", name, parts[p]);
            const char *v = refill ? req_field(req, f) : NULL;
            json_object_set_new(row, parts[p], json_string(v && strlen(v) <= 40 && utf8_valid(v, strlen(v)) ? v : ""));
        }
        if (i < info->nparams)
            json_object_set_new(row, "range", json_string(arena_printf(req->a, "%g – %g", info->params[i].min,
                                                                       info->params[i].max)));
        size_t n = strlen(name);
        if (spec_err && !strncmp(spec_err, "space.", 6) && !strncmp(spec_err + 6, name, n) &&
            (spec_err[6 + n] == '.' || spec_err[6 + n] == ':'))
            json_object_set_new(row, "error", json_string(spec_err));
        json_array_append_new(dims, row);
    }
    json_t *methods = json_array(), *objectives = json_array();
    for (size_t i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "optimizations.method_%s", optp_methods[i]);
        json_array_append_new(methods, json_pack("{s:s, s:s}", "key", optp_methods[i], "label",
                                                 render_lang_string(req->lang, key)));
    }
    for (size_t i = 0; i < 5; i++)
        json_array_append_new(objectives, json_pack("{s:s, s:s}", "key", optp_objectives[i], "label",
                                                    optp_objective_label(req, optp_objectives[i])));
    json_t *selected = json_pack("[O]", json_object_get(form, "market"));
    json_object_set_new(d, "markets", tform_markets(req, selected));
    json_decref(selected);
    json_object_set_new(d, "form", form);
    json_object_set_new(d, "dims", dims);
    json_object_set_new(d, "methods", methods);
    json_object_set_new(d, "objectives", objectives);
    json_object_set_new(d, "errors", errors ? errors : json_object());
    char tpl[64], title[64];
    snprintf(tpl, sizeof tpl, "%s/new.cs", k->tpl_dir);
    snprintf(title, sizeof title, "%s.new", k->lang);
    res_page(res, arena_strdup(req->a, tpl), arena_strdup(req->a, title), d);
    return 0;
}

int optp_new(request *req, response *res, const optp_kind *k)
{
    return optp_form_page(req, res, k, req_query(req, "strategy"), 0, NULL, NULL);
}

int optp_plan_sets(request *req, int64_t sets, char *err, size_t errlen)
{
    plan_refusal r;
    if (plans_check(req->a, req->cx.tenant_id, PLAN_OPTIMIZATION_SETS, 0, sets, &r) == 1)
        return 0;
    snprintf(err, errlen, "space: %s", r.why);
    return -1;
}

/* ---------------------------------------------------------------- storing */

typedef struct optp_store_arg {
    const ctx *c;
    const optp_kind *k;
    const optp_input *in;
    const char *config, *spec;
    int64_t total;
    char id[24];
    long long job_id;
    char quota[256];
} optp_store_arg;

static int optp_store_tx(void *arg)
{
    optp_store_arg *s = arg;
    const optp_input *in = s->in;
    char uid[24], from[24], to[24], bal[40], total[24];
    snprintf(uid, sizeof uid, "%lld", s->c->user_id);
    snprintf(from, sizeof from, "%lld", (long long)in->from_ms);
    snprintf(to, sizeof to, "%lld", (long long)in->to_ms);
    snprintf(bal, sizeof bal, "%.17g", in->initial_balance);
    snprintf(total, sizeof total, "%lld", (long long)s->total);
    const char *p[] = {uid, s->k->kind, in->name, in->exchange, in->symbol, in->timeframe, from, to,
                       bal, s->config, s->spec, total};
    PGresult *r = tq_query(s->c, "optp_insert",
                           "INSERT INTO optimizations (tenant_id, user_id, kind, name, exchange, symbol, timeframe, "
                           "from_ms, to_ms, initial_balance, config, spec, total) SELECT u.tenant_id, u.id, $3, $4, $5, "
                           "$6, $7, $8::bigint, $9::bigint, $10::float8, $11::jsonb, $12::jsonb, $13::bigint "
                           "FROM users u WHERE u.id = $2::bigint AND u.tenant_id = $1 RETURNING id",
                           12, p);
    if (!r || PQntuples(r) != 1)
        return -1;
    snprintf(s->id, sizeof s->id, "%s", PQgetvalue(r, 0, 0));
    s->job_id = queue_enqueue_for(s->c, s->k->job_type, "optimizations", "optimization_id", s->id);
    if (s->job_id == QUEUE_EQUOTA) {
        snprintf(s->quota, sizeof s->quota, "%s", queue_error());
        return -3;
    }
    if (s->job_id <= 0)
        return -1;
    json_t *after = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "kind", s->k->kind, "name", in->name, "exchange",
                              in->exchange, "symbol", in->symbol, "timeframe", in->timeframe, "total",
                              (json_int_t)s->total, "job", (json_int_t)s->job_id);
    int rc = after ? audit_record(s->c, "optimizations.create", "optimization", s->id, NULL, after) : -1;
    json_decref(after);
    return rc;
}

int optp_create(request *req, response *res, const optp_kind *k, optp_spec_fn spec_fn)
{
    optp_input in;
    json_t *errors = json_object();
    optp_read(req, &in, errors);
    json_t *spec = NULL;
    int64_t total = 0;
    if (in.config) {
        char err[256] = "";
        spec = spec_fn(req, &in, &total, err, sizeof err);
        if (!spec)
            json_object_set_new(errors, "spec", json_string(err));
    }
    if (json_object_size(errors)) {
        json_decref(in.config);
        json_decref(spec);
        if (req->api) {
            json_t *body = json_pack("{s:{s:s, s:s, s:s, s:o}}", "error", "code", k->error_code, "message",
                                     render_lang_string(req->lang, "optimizations.invalid"), "request_id",
                                     req->request_id, "fields", errors);
            res_json(res, 422, body);
            return 0;
        }
        res->status = 422;
        return optp_form_page(req, res, k, in.strategy, 1, tform_submitted(req, in.strategy), errors);
    }
    json_decref(errors);
    char *cfg = json_dumps(in.config, JSON_COMPACT | JSON_SORT_KEYS);
    char *sp = json_dumps(spec, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(in.config);
    json_decref(spec);
    optp_store_arg s = {&req->cx, k, &in, cfg, sp, total, "", 0, ""};
    int rc = cfg && sp ? db_tx(optp_store_tx, &s) : -1;
    free(cfg);
    free(sp);
    if (rc == -3) {
        res_error(req, res, 429, "quota_exceeded", s.quota);
        return 0;
    }
    if (rc != 0)
        return -1;
    queue_send(&s.job_id, 1);
    if (req->api) {
        res_json(res, 201, json_pack("{s:I, s:I, s:I}", "id", (json_int_t)atoll(s.id), "job_id", (json_int_t)s.job_id,
                                     "total", (json_int_t)total));
        return 0;
    }
    res_redirect(res, arena_printf(req->a, "%s/%s", k->path, s.id));
    return 0;
}

/* ---------------------------------------------------------------- rows */

/* A row's status: done once finished, else its job's (a job gone, or done without results, failed). */
static const char *optp_status(PGresult *r, int row, int job_status_col, int finished_col)
{
    if (!strcmp(PQgetvalue(r, row, finished_col), "t"))
        return "done";
    if (PQgetisnull(r, row, job_status_col))
        return "failed";
    const char *s = PQgetvalue(r, row, job_status_col);
    return !strcmp(s, "done") ? "failed" : s;
}

#define OPTP_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"

int optp_list(request *req, response *res, const optp_kind *k)
{
    const char *p[] = {k->kind};
    PGresult *r = tq_query(&req->cx, "optp_list",
                           "SELECT o.id, o.name, o.exchange, o.symbol, o.timeframe, o.config->>'strategy', j.status, "
                           "coalesce(j.progress, 0), o.finished_at IS NOT NULL, o.total, "
                           "o.results->'top'->0->'score', o.results->'summary'->>'verdict', "
                           "coalesce(o.spec->>'objective', o.spec->'optimization'->>'objective', 'sharpe'), "
                           "coalesce(o.spec->>'method', o.spec->'optimization'->>'method', 'grid'), " OPTP_TIME("o.created_at")
                           " FROM optimizations o LEFT JOIN jobs j ON j.id = o.job_id AND j.tenant_id = $1 "
                           "WHERE o.tenant_id = $1 AND o.kind = $2 ORDER BY o.id DESC LIMIT 200",
                           1, p);
    if (!r)
        return -1;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *status = optp_status(r, i, 6, 8);
        json_error_t je;
        json_t *best = PQgetisnull(r, i, 10) ? NULL : json_loads(PQgetvalue(r, i, 10), JSON_DECODE_ANY, &je);
        char mkey[64];
        snprintf(mkey, sizeof mkey, "optimizations.method_%s", PQgetvalue(r, i, 13));
        json_t *row = json_pack(
            "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:s}", "id",
            (json_int_t)atoll(PQgetvalue(r, i, 0)), "name", PQgetvalue(r, i, 1), "exchange", PQgetvalue(r, i, 2),
            "symbol", PQgetvalue(r, i, 3), "timeframe", PQgetvalue(r, i, 4), "strategy", PQgetvalue(r, i, 5),
            "strategy_label", tform_strategy_label(req, PQgetvalue(r, i, 5)), "status", status, "progress_pct",
            !strcmp(status, "done") ? 100 : (int)lround(atof(PQgetvalue(r, i, 7)) * 100), "total",
            (json_int_t)atoll(PQgetvalue(r, i, 9)), "objective", PQgetvalue(r, i, 12), "objective_label",
            optp_objective_label(req, PQgetvalue(r, i, 12)), "method_label", render_lang_string(req->lang, mkey),
            "best_score_text", optp_num(req->a, best, 3, ""), "created", PQgetvalue(r, i, 14));
        json_object_set_new(row, "best_score", best ? best : json_null());
        if (!PQgetisnull(r, i, 11)) {
            char vkey[80];
            snprintf(vkey, sizeof vkey, "walkforward.verdict_%s", PQgetvalue(r, i, 11));
            json_object_set_new(row, "verdict", json_string(PQgetvalue(r, i, 11)));
            json_object_set_new(row, "verdict_label", json_string(render_lang_string(req->lang, vkey)));
        }
        json_array_append_new(list, row);
    }
    char tpl[64], title[64];
    snprintf(tpl, sizeof tpl, "%s/index.cs", k->tpl_dir);
    snprintf(title, sizeof title, "%s.title", k->lang);
    res_page(res, arena_strdup(req->a, tpl), arena_strdup(req->a, title), json_pack("{s:o}", "optimizations", list));
    return 0;
}

int optp_load(request *req, const optp_kind *k, const char *id, optp_row *out)
{
    memset(out, 0, sizeof *out);
    const char *p[] = {id, k->kind};
    PGresult *r = tq_query(&req->cx, "optp_show",
                           "SELECT o.id, o.name, o.exchange, o.symbol, o.timeframe, o.from_ms, o.to_ms, "
                           "o.initial_balance, j.status, coalesce(j.progress, 0), coalesce(j.error, ''), "
                           "coalesce(o.job_id, 0), o.finished_at IS NOT NULL, o.total, coalesce(o.backend, ''), "
                           OPTP_TIME("o.created_at") ", coalesce(" OPTP_TIME("o.finished_at") ", ''), "
                           "coalesce(j.cancel_requested, false), o.config, o.spec, o.results "
                           "FROM optimizations o LEFT JOIN jobs j ON j.id = o.job_id AND j.tenant_id = $1 "
                           "WHERE o.tenant_id = $1 AND o.id = $2::bigint AND o.kind = $3",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return 0;
    json_error_t je;
    out->config = json_loads(PQgetvalue(r, 0, 18), 0, &je);
    out->spec = json_loads(PQgetvalue(r, 0, 19), 0, &je);
    out->results = PQgetisnull(r, 0, 20) ? NULL : json_loads(PQgetvalue(r, 0, 20), 0, &je);
    if (!out->config || !out->spec) {
        optp_row_free(out);
        return -1;
    }
    const char *status = optp_status(r, 0, 8, 12);
    const char *strategy = json_string_value(json_object_get(out->config, "strategy"));
    int can_cancel = !strcmp(status, "queued") || (!strcmp(status, "running") && strcmp(PQgetvalue(r, 0, 17), "t"));
    int64_t from = atoll(PQgetvalue(r, 0, 5)), to = atoll(PQgetvalue(r, 0, 6));
    out->meta = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:f, s:s, s:i, s:s, s:I, s:I, s:s, s:s, s:s, s:b}",
        "id", (json_int_t)atoll(PQgetvalue(r, 0, 0)), "name", PQgetvalue(r, 0, 1), "exchange", PQgetvalue(r, 0, 2),
        "symbol", PQgetvalue(r, 0, 3), "timeframe", PQgetvalue(r, 0, 4), "strategy", strategy ? strategy : "",
        "strategy_label", tform_strategy_label(req, strategy), "from_ms", (json_int_t)from, "to_ms", (json_int_t)to,
        "from", optp_date(req->a, from), "to", optp_date(req->a, to), "initial_balance", atof(PQgetvalue(r, 0, 7)),
        "status", status, "progress_pct",
        !strcmp(status, "done") ? 100 : (int)lround(atof(PQgetvalue(r, 0, 9)) * 100), "error", PQgetvalue(r, 0, 10),
        "job_id", (json_int_t)atoll(PQgetvalue(r, 0, 11)), "total", (json_int_t)atoll(PQgetvalue(r, 0, 13)),
        "backend", PQgetvalue(r, 0, 14), "created", PQgetvalue(r, 0, 15), "finished", PQgetvalue(r, 0, 16),
        "can_cancel", can_cancel);
    if (!out->meta) {
        optp_row_free(out);
        return -1;
    }
    return 1;
}

void optp_row_free(optp_row *r)
{
    json_decref(r->meta);
    json_decref(r->config);
    json_decref(r->spec);
    json_decref(r->results);
    memset(r, 0, sizeof *r);
}

/* The row of the path and its job, for cancel and delete: 1 found (*id, *job_id, *live: the job is
 * queued or running), 0 answered with a 404, -1 on a database error. */
static int optp_target(request *req, response *res, const optp_kind *k, const char **id, long long *job_id, int *live)
{
    *id = req_id_param(req, "id");
    const char *p[] = {*id ? *id : "0", k->kind};
    PGresult *r = *id ? tq_query(&req->cx, "optp_job_of",
                                 "SELECT coalesce(o.job_id, 0), coalesce(j.status IN ('queued', 'running'), false) "
                                 "FROM optimizations o LEFT JOIN jobs j ON j.id = o.job_id AND j.tenant_id = $1 "
                                 "WHERE o.tenant_id = $1 AND o.id = $2::bigint AND o.kind = $3",
                                 2, p)
                      : NULL;
    if (*id && !r)
        return -1;
    if (!r || PQntuples(r) != 1) {
        optp_not_found(req, res);
        return 0;
    }
    *job_id = atoll(PQgetvalue(r, 0, 0));
    *live = !strcmp(PQgetvalue(r, 0, 1), "t");
    return 1;
}

int optp_cancel(request *req, response *res, const optp_kind *k)
{
    const char *id;
    long long job = 0;
    int live = 0, found = optp_target(req, res, k, &id, &job, &live);
    if (found <= 0)
        return found;
    int rc = job ? queue_cancel(&req->cx, job) : QUEUE_ESTATE;
    if (rc == QUEUE_ENOTFOUND || rc == QUEUE_ESTATE) {
        res_error(req, res, 409, "job_state", render_lang_string(req->lang, "optimizations.err_cancel_state"));
        return 0;
    }
    if (rc < 0)
        return -1;
    if (req->api) {
        res_json(res, 200, json_pack("{s:I, s:I, s:s}", "id", (json_int_t)atoll(id), "job_id", (json_int_t)job, "cancel",
                                     rc == 1 ? "cancelled" : "requested"));
        return 0;
    }
    res_redirect(res, arena_printf(req->a, "%s/%s", k->path, id));
    return 0;
}

int optp_delete(request *req, response *res, const optp_kind *k)
{
    const char *id;
    long long job = 0;
    int live = 0, found = optp_target(req, res, k, &id, &job, &live);
    if (found <= 0)
        return found;
    /* a job still queued or running would go on computing for a row that is gone */
    if (live)
        queue_cancel(&req->cx, job);
    const char *p[] = {id, k->kind};
    PGresult *r = audit_tq(&req->cx, "optp_delete",
                           "DELETE FROM optimizations WHERE tenant_id = $1 AND id = $2::bigint AND kind = $3 RETURNING id",
                           2, p, "optimizations.delete", "optimization", id, NULL);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        optp_not_found(req, res);
        return 0;
    }
    if (req->api) {
        res_json(res, 200, json_pack("{s:b}", "deleted", 1));
        return 0;
    }
    res_redirect(res, k->path);
    return 0;
}
