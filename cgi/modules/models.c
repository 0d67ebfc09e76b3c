/* models.c — ML price-direction models: the training form queued as an `ml_train` job (versioned
 * per name), the list with test metrics against the naive baseline, prediction runs, deletion. */
#include "app.h"
#include "audit.h"
#include "candles.h"
#include "config.h"
#include "db.h"
#include "ml/ml.h"
#include "models.h"
#include "modules.h"
#include "optimize_pages.h"
#include "queue.h"
#include "render.h"
#include "tenant.h"
#include "trading_form.h"
#include "utf8.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Attempts at storing a new version when another request took the same number meanwhile. */
#define MODELS_VERSION_TRIES 5

/* The training options the form shows: the key in ml_opts_to_json's JSON (and the form field,
 * "hp." + key for a hyperparameter), whether it is a whole number, and whether only the GRU has it. */
typedef struct models_opt {
    const char *key;
    int hyper, integral, gru_only;
} models_opt;

static const models_opt models_opts[] = {
    {"horizon", 0, 1, 0},      {"train_frac", 0, 0, 0}, {"val_frac", 0, 0, 0}, {"hidden", 1, 1, 1},
    {"seq_len", 1, 1, 1},      {"epochs", 1, 1, 0},     {"batch_size", 1, 1, 0}, {"learning_rate", 1, 0, 0},
    {"l2", 1, 0, 0},           {"patience", 1, 1, 0},   {"clip", 1, 0, 0},     {"seed", 1, 1, 0},
};
#define MODELS_NOPTS (sizeof models_opts / sizeof models_opts[0])

static void models_not_found(request *req, response *res)
{
    res_error(req, res, 404, "not_found", render_lang_string(req->lang, "error.not_found"));
}

static void models_err(request *req, json_t *errors, const char *field, const char *what)
{
    char key[64];
    snprintf(key, sizeof key, "models.err_%s", what);
    json_object_set_new(errors, field, json_string(render_lang_string(req->lang, key)));
}

static const char *models_field_name(const models_opt *f, char *out, size_t len)
{
    snprintf(out, len, "%s%s", f->hyper ? "hp." : "", f->key);
    return out;
}

/* ---------------------------------------------------------------- list */

static int models_list(request *req, response *res)
{
    PGresult *r = tq_query(&req->cx, "models_list",
                           "SELECT m.id, m.name, m.version, m.kind, m.exchange, m.symbol, m.timeframe, " MODELS_STATUS_SQL
                           ", coalesce(j.progress, 0), to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
                           "m.report->'metrics'->'test'->>'auc', m.report->'metrics'->'test'->>'logloss', "
                           "m.report->'metrics'->'baseline_test'->>'logloss' "
                           "FROM ml_models m LEFT JOIN jobs j ON j.id = m.job_id AND j.tenant_id = $1 "
                           "WHERE m.tenant_id = $1 ORDER BY m.id DESC LIMIT 200",
                           0, NULL);
    if (!r)
        return -1;
    json_t *list = json_array();
    int live = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *status = PQgetvalue(r, i, 7);
        live |= !strcmp(status, "queued") || !strcmp(status, "running");
        json_t *row = json_pack("{s:I, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "id",
                                (json_int_t)atoll(PQgetvalue(r, i, 0)), "name", PQgetvalue(r, i, 1), "version",
                                atoi(PQgetvalue(r, i, 2)), "kind", PQgetvalue(r, i, 3), "exchange", PQgetvalue(r, i, 4),
                                "symbol", PQgetvalue(r, i, 5), "timeframe", PQgetvalue(r, i, 6), "status", status,
                                "progress_pct", !strcmp(status, "done") ? 100 : (int)(atof(PQgetvalue(r, i, 8)) * 100 + 0.5),
                                "created", PQgetvalue(r, i, 9));
        models_scores(req, row, r, i, 10);
        json_array_append_new(list, row);
    }
    res_page(res, "models/index.cs", "models.title", json_pack("{s:o, s:b}", "models", list, "live", live));
    return 0;
}

/* ---------------------------------------------------------------- the form */

/* An option's value as the form shows it. */
static json_t *models_value_text(const json_t *v)
{
    char s[48] = "";
    if (json_is_integer(v))
        snprintf(s, sizeof s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(s, sizeof s, "%.10g", json_real_value(v));
    return json_string(s);
}

/* Renders the training form for a kind (unknown: logistic regression) with the kind's defaults,
 * or what was typed (typed: field -> text) and the errors; form, typed and errors are stolen. */
static int models_form_page(request *req, response *res, const char *kind_name, json_t *form, json_t *typed,
                            json_t *errors)
{
    ml_kind kind = ml_kind_parse(kind_name);
    if (!kind)
        kind = ML_LOGREG;
    ml_train_opts o;
    ml_train_opts_defaults(&o, kind);
    json_t *def = ml_opts_to_json(&o);
    json_t *fields = json_array();
    for (size_t i = 0; def && i < MODELS_NOPTS; i++) {
        const models_opt *f = &models_opts[i];
        if (f->gru_only && kind != ML_GRU)
            continue;
        char name[40];
        models_field_name(f, name, sizeof name);
        json_t *dv = models_value_text(json_object_get(f->hyper ? json_object_get(def, "hyperparameters") : def, f->key));
        const json_t *tv = typed ? json_object_get(typed, name) : NULL;
        json_array_append_new(fields, json_pack("{s:s, s:s, s:O, s:o, s:s}", "name", name, "key", f->key, "value",
                                                tv ? tv : dv, "default", dv, "step", f->integral ? "1" : "any"));
    }
    json_decref(def);
    json_decref(typed);
    if (!form)
        form = json_object();
    json_t *selected = json_array();
    if (json_is_string(json_object_get(form, "market")))
        json_array_append(selected, json_object_get(form, "market"));
    json_t *d = json_pack("{s:[s, s], s:s, s:o, s:o, s:o, s:o}", "kinds", "logreg", "gru", "kind", ml_kind_name(kind),
                          "markets", tform_markets(req, selected), "form", form, "fields", fields, "errors",
                          errors ? errors : json_object());
    json_decref(selected);
    res_page(res, "models/new.cs", "models.new", d);
    return 0;
}

static int models_new(request *req, response *res)
{
    return models_form_page(req, res, req_query(req, "kind"), NULL, NULL, NULL);
}

/* The training options asked for: the JSON body's "options" object as it is, or the form's
 * fields (kind, horizon, train_frac, val_frac, hp.<name>) shaped like it; NULL with "field: reason"
 * in err when a field is not a number. ml_opts_from_json checks everything else. */
static json_t *models_options(request *req, char *err, size_t errlen)
{
    json_t *given = req->api && req->json ? json_object_get(req->json, "options") : NULL;
    if (given)
        return json_incref(given);
    const char *kind = req_field(req, "kind");
    json_t *o = json_pack("{s:s, s:{}}", "kind", ml_kind_parse(kind) ? kind : "", "hyperparameters");
    for (size_t i = 0; o && i < MODELS_NOPTS; i++) {
        const models_opt *f = &models_opts[i];
        char name[40];
        json_t *v;
        if (optp_field_number(req, models_field_name(f, name, sizeof name), f->integral, &v) != 0) {
            snprintf(err, errlen, "%s%s: %s", f->hyper ? "hyperparameters." : "", f->key,
                     f->integral ? "must be a whole number" : "must be a number");
            json_decref(o);
            return NULL;
        }
        if (v)
            json_object_set_new(f->hyper ? json_object_get(o, "hyperparameters") : o, f->key, v);
    }
    return o;
}

/* The option fields as typed, to show a refused form again. */
static json_t *models_typed(request *req)
{
    json_t *t = json_object();
    for (size_t i = 0; i < MODELS_NOPTS; i++) {
        char name[40];
        const char *v = req_field(req, models_field_name(&models_opts[i], name, sizeof name));
        if (v && strlen(v) <= 40)
            json_object_set_new(t, name, json_string(v));
    }
    return t;
}

/* Candles of a series with from_ms <= open_time < to_ms (what the jobs read), or -1. */
static long long models_count_candles(request *req, const char *ex, const char *sym, const char *tf, int64_t from_ms,
                                      int64_t to_ms)
{
    char f[24], t[24];
    snprintf(f, sizeof f, "%lld", (long long)from_ms);
    snprintf(t, sizeof t, "%lld", (long long)to_ms);
    const char *p[] = {ex, sym, tf, f, t};
    /* cross-tenant: candles are platform-wide data */
    PGresult *r = db_query(req->a, "models_count_candles",
                           "SELECT count(*) FROM candles c JOIN markets m ON m.id = c.market_id WHERE m.exchange = $1 "
                           "AND m.symbol = $2 AND c.timeframe = $3 AND c.open_time >= $4::bigint AND c.open_time < $5::bigint",
                           5, p);
    return r && PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : -1;
}

/* Whether n candles split into non-empty train, validation and test sets as ml_train will cut them. */
static int models_trainable(const ml_train_opts *o, long long n)
{
    ml_net net;
    ml_split sp;
    if (ml_net_make(&net, o->kind, ML_N_FEATURES, o->hp.hidden, o->hp.seq_len) != 0)
        return 0;
    return ml_split_make((size_t)n, ML_FEATURE_WARMUP + ml_net_context(&net), o->horizon, o->train_frac, o->val_frac,
                         &sp) == 0;
}

/* The market ("exchange:symbol:timeframe") and period shared by training and prediction: sets the
 * parts and bounds, and their errors under "market" and "range" (too_few is left to the caller). */
static long long models_read_series(request *req, json_t *errors, char *ex, char *sym, char *tf, int64_t *from_ms,
                                    int64_t *to_ms)
{
    const char *from = req_field(req, "from"), *to = req_field(req, "to");
    int market_ok = tform_market(req, req_field(req, "market"), ex, sym, tf, NULL, NULL);
    if (!market_ok)
        models_err(req, errors, "market", "market");
    if (!from || !to || candle_parse_time(from, strlen(from), from_ms) != 0 ||
        candle_parse_time(to, strlen(to), to_ms) != 0 || *to_ms <= *from_ms) {
        models_err(req, errors, "range", "range");
        return 0;
    }
    if (!market_ok)
        return 0;
    long long n = models_count_candles(req, ex, sym, tf, *from_ms, *to_ms);
    if (n == 0)
        models_err(req, errors, "range", "no_candles");
    else if (n > config_int("ml.max_candles"))
        models_err(req, errors, "range", "too_many");
    return n;
}

/* The form's own fields as typed (name, market, from, to), to show a refused form again. */
static json_t *models_form_typed(request *req)
{
    json_t *form = json_object();
    static const char *const keys[] = {"name", "market", "from", "to"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = req_field(req, keys[i]);
        if (v && utf8_label_ok(v, 100))
            json_object_set_new(form, keys[i], json_string(v));
    }
    return form;
}

static int models_refused(request *req, response *res, const char *code, json_t *errors)
{
    json_t *body = json_pack("{s:{s:s, s:s, s:s, s:o}}", "error", "code", code, "message",
                             render_lang_string(req->lang, "models.invalid"), "request_id", req->request_id, "fields",
                             errors);
    res_json(res, 422, body);
    return 0;
}

/* A write transaction's input and output: the statement's parameters ($2..), the new row's id (and
 * version, for a model), its job, and the reason when the tenant's daily quota refused the job. */
typedef struct models_tx {
    const ctx *c;
    const char *p[9];
    char id[24];
    int version;
    long long job_id;
    char quota[256];
} models_tx;

/* The new row's job queued (sent after COMMIT) and linked to it: 0, -3 past the quota, -1. */
static int models_queue(models_tx *n, const char *type, const char *table, const char *key)
{
    n->job_id = queue_enqueue_for(n->c, type, table, key, n->id);
    if (n->job_id == QUEUE_EQUOTA) {
        snprintf(n->quota, sizeof n->quota, "%s", queue_error());
        return -3;
    }
    return n->job_id > 0 ? 0 : -1;
}

/* Runs a write transaction, again while it asks for another try (-4, at most tries times), and
 * answers: 429 past the quota; else the job goes on the stream and the answer is 201 {id,
 * job_id, and a model's version} (API) or a redirect to location (NULL: the new model's page). */
static int models_commit(request *req, response *res, models_tx *a, int (*tx)(void *), int tries,
                         const char *location)
{
    int rc = -4;
    for (int i = 0; i < tries && rc == -4; i++)
        rc = db_tx(tx, a);
    if (rc == -3) {
        res_error(req, res, 429, "quota_exceeded", a->quota);
        return 0;
    }
    if (rc != 0)
        return -1;
    queue_send(&a->job_id, 1);
    if (req->api) {
        json_t *body = json_pack("{s:I, s:I}", "id", (json_int_t)atoll(a->id), "job_id", (json_int_t)a->job_id);
        if (a->version)
            json_object_set_new(body, "version", json_integer(a->version));
        res_json(res, 201, body);
        return 0;
    }
    res_redirect(res, location ? location : arena_printf(req->a, "/models/%s", a->id));
    return 0;
}

/* p: user, name, kind, exchange, symbol, timeframe, from, to, options */
static int models_new_tx(void *arg)
{
    models_tx *n = arg;
    /* the next version of the name; two requests racing for it meet the unique key and one retries */
    PGresult *r = tq_query(n->c, "models_insert",
                           "INSERT INTO ml_models (tenant_id, user_id, name, version, kind, exchange, symbol, timeframe, "
                           "from_ms, to_ms, options) SELECT u.tenant_id, u.id, $3, (SELECT coalesce(max(v.version), 0) + 1 "
                           "FROM ml_models v WHERE v.tenant_id = $1 AND v.name = $3), $4, $5, $6, $7, $8::bigint, "
                           "$9::bigint, $10::jsonb FROM users u WHERE u.id = $2::bigint AND u.tenant_id = $1 "
                           "RETURNING id, version",
                           9, n->p);
    if (!r)
        return !strcmp(db_sqlstate(), "23505") ? -4 : -1;
    if (PQntuples(r) != 1)
        return -1;
    snprintf(n->id, sizeof n->id, "%s", PQgetvalue(r, 0, 0));
    n->version = atoi(PQgetvalue(r, 0, 1));
    int q = models_queue(n, "ml_train", "ml_models", "model_id");
    if (q)
        return q;
    json_error_t je;
    json_t *after = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I}", "name", n->p[1], "version",
                              n->version, "kind", n->p[2], "exchange", n->p[3], "symbol", n->p[4], "timeframe", n->p[5],
                              "from", n->p[6], "to", n->p[7], "options", json_loads(n->p[8], 0, &je), "job",
                              (json_int_t)n->job_id);
    int rc = after ? audit_record(n->c, "models.create", "ml_model", n->id, NULL, after) : -1;
    json_decref(after);
    return rc;
}

static int models_create(request *req, response *res)
{
    json_t *errors = json_object();
    const char *name = req_field(req, "name");
    if (!utf8_label_ok(name, 80))
        models_err(req, errors, "name", "name");
    char ex[40] = "", sym[40] = "", tf[8] = "";
    int64_t from_ms = 0, to_ms = 0;
    long long n = models_read_series(req, errors, ex, sym, tf, &from_ms, &to_ms);
    if (n < 0) {
        json_decref(errors);
        return -1;
    }
    char err[256] = "";
    ml_train_opts o;
    memset(&o, 0, sizeof o);
    json_t *oj = models_options(req, err, sizeof err);
    int opts_ok = oj && ml_opts_from_json(oj, &o, err, sizeof err) == ML_OK;
    json_decref(oj);
    if (!opts_ok)
        json_object_set_new(errors, "options", json_string(err));
    else if (n > 0 && !json_object_get(errors, "range") && !models_trainable(&o, n))
        models_err(req, errors, "range", "too_few");
    if (json_object_size(errors)) {
        if (req->api)
            return models_refused(req, res, "invalid_model", errors);
        res->status = 422;
        return models_form_page(req, res, req_field(req, "kind"), models_form_typed(req), models_typed(req), errors);
    }
    json_decref(errors);
    json_t *canon = ml_opts_to_json(&o);
    char *opts = canon ? json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(canon);
    if (!opts)
        return -1;
    char uid[24], f[24], t[24];
    snprintf(uid, sizeof uid, "%lld", req->cx.user_id);
    snprintf(f, sizeof f, "%lld", (long long)from_ms);
    snprintf(t, sizeof t, "%lld", (long long)to_ms);
    models_tx a = {&req->cx, {uid, name, ml_kind_name(o.kind), ex, sym, tf, f, t, opts}, "", 0, 0, ""};
    int rc = models_commit(req, res, &a, models_new_tx, MODELS_VERSION_TRIES, NULL);
    free(opts);
    return rc;
}

/* ---------------------------------------------------------------- one model */

static int models_show(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    if (!id) {
        models_not_found(req, res);
        return 0;
    }
    return models_show_page(req, res, id, NULL, NULL);
}

/* ---------------------------------------------------------------- predictions */

/* p: user, model, exchange, symbol, timeframe, from, to */
static int models_predict_tx(void *arg)
{
    models_tx *n = arg;
    PGresult *r = tq_query(n->c, "models_run_insert",
                           "INSERT INTO ml_prediction_runs (tenant_id, user_id, model_id, exchange, symbol, timeframe, "
                           "from_ms, to_ms) SELECT m.tenant_id, $2::bigint, m.id, $4, $5, $6, $7::bigint, $8::bigint "
                           "FROM ml_models m WHERE m.tenant_id = $1 AND m.id = $3::bigint RETURNING id",
                           7, n->p);
    if (!r || PQntuples(r) != 1)
        return -1;
    snprintf(n->id, sizeof n->id, "%s", PQgetvalue(r, 0, 0));
    int q = models_queue(n, "ml_predict", "ml_prediction_runs", "run_id");
    if (q)
        return q;
    json_t *after = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I}", "model_id", (json_int_t)atoll(n->p[1]), "exchange",
                              n->p[2], "symbol", n->p[3], "timeframe", n->p[4], "from", n->p[5], "to", n->p[6], "job",
                              (json_int_t)n->job_id);
    int rc = after ? audit_record(n->c, "models.predict", "ml_prediction_run", n->id, NULL, after) : -1;
    json_decref(after);
    return rc;
}

/* POST /models/{id}/predict (market, from, to): a prediction run of a trained model. */
static int models_predict(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    PGresult *r = id ? tq_query(&req->cx, "models_predict_model",
                                "SELECT report IS NOT NULL FROM ml_models WHERE tenant_id = $1 AND id = $2::bigint", 1, &id)
                     : NULL;
    if (!r || PQntuples(r) != 1) {
        if (id && !r)
            return -1;
        models_not_found(req, res);
        return 0;
    }
    json_t *errors = json_object();
    if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
        models_err(req, errors, "model", "not_trained");
    char ex[40] = "", sym[40] = "", tf[8] = "";
    int64_t from_ms = 0, to_ms = 0;
    if (models_read_series(req, errors, ex, sym, tf, &from_ms, &to_ms) < 0) {
        json_decref(errors);
        return -1;
    }
    if (json_object_size(errors)) {
        if (req->api)
            return models_refused(req, res, "invalid_prediction", errors);
        res->status = 422;
        return models_show_page(req, res, id, models_form_typed(req), errors);
    }
    json_decref(errors);
    char uid[24], f[24], t[24];
    snprintf(uid, sizeof uid, "%lld", req->cx.user_id);
    snprintf(f, sizeof f, "%lld", (long long)from_ms);
    snprintf(t, sizeof t, "%lld", (long long)to_ms);
    models_tx a = {&req->cx, {uid, id, ex, sym, tf, f, t}, "", 0, 0, ""};
    return models_commit(req, res, &a, models_predict_tx, 1, arena_printf(req->a, "/models/%s", id));
}

/* ---------------------------------------------------------------- delete */

static int models_delete(request *req, response *res)
{
    const char *id = req_id_param(req, "id");
    const char *p[] = {id ? id : "0"};
    /* its training and prediction jobs still queued or running would compute for a model that is gone */
    PGresult *live = id ? tq_query(&req->cx, "models_live_jobs",
                                   "SELECT j.id FROM jobs j WHERE j.tenant_id = $1 AND j.status IN ('queued', 'running') "
                                   "AND (j.id = (SELECT m.job_id FROM ml_models m WHERE m.tenant_id = $1 AND m.id = $2::bigint) "
                                   "OR j.id IN (SELECT r.job_id FROM ml_prediction_runs r WHERE r.tenant_id = $1 "
                                   "AND r.model_id = $2::bigint))",
                                   1, p)
                        : NULL;
    for (int i = 0; live && i < PQntuples(live); i++)
        queue_cancel(&req->cx, atoll(PQgetvalue(live, i, 0)));
    PGresult *r = id ? audit_tq(&req->cx, "models_delete",
                                "DELETE FROM ml_models WHERE tenant_id = $1 AND id = $2::bigint RETURNING id", 1, p,
                                "models.delete", "ml_model", id, NULL)
                     : NULL;
    if (id && !r)
        return -1;
    if (!r || PQntuples(r) != 1) {
        models_not_found(req, res);
        return 0;
    }
    if (req->api) {
        res_json(res, 200, json_pack("{s:b}", "deleted", 1));
        return 0;
    }
    res_redirect(res, "/models");
    return 0;
}

#define MODELS_WRITE (R_AUTH | R_CSRF | R_PAGE)

static const route routes[] = {
    {"GET", "/models", models_list, R_AUTH | R_PAGE, "trading.use", NULL},
    {"GET", "/models/new", models_new, R_AUTH | R_PAGE, "trading.use", NULL},
    {"POST", "/models", models_create, MODELS_WRITE, "trading.use", "models.write"},
    {"GET", "/models/{id}", models_show, R_AUTH | R_PAGE, "trading.use", NULL},
    {"POST", "/models/{id}/predict", models_predict, MODELS_WRITE, "trading.use", "models.write"},
    {"POST", "/models/{id}/delete", models_delete, MODELS_WRITE, "trading.use", "models.write"},
};

const module models_module = {"models", NULL, NULL, ROUTES(routes)};
