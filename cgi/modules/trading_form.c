/* trading_form.c — strategy parameters, risk controls and costs as form inputs and back: one
 * reading of the engine's param_spec tables for the bot and the backtest pages alike. */
#include "trading_form.h"
#include "db.h"
#include "render.h"
#include "strategy.h"
#include "tenant.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The risk controls and costs, as the forms show them (the engine validates the ranges). */
typedef struct tform_field {
    const char *group; /* "risk" or "costs": the member of the config JSON */
    const char *name;
    const char *type;  /* "double", "int" or "text" (the ROI table) */
    double min, max;
} tform_field;

static const tform_field tform_risk[] = {
    {"risk", "stop_loss_pct", "double", 0, 99.99},
    {"risk", "take_profit_pct", "double", 0, 10000},
    {"risk", "trailing_stop_pct", "double", 0, 99.99},
    {"risk", "trailing_offset_pct", "double", 0, 10000},
    {"risk", "stake_pct", "double", 0.01, 100},
    {"risk", "max_open_trades", "int", 1, STRATEGY_MAX_OPEN_TRADES},
    {"risk", "cooldown_candles", "int", 0, 100000},
    {"risk", "roi", "text", 0, 0},
    {"costs", "fee_bps", "double", 0, 1000},
    {"costs", "slippage_bps", "double", 0, 1000},
};
#define TFORM_NRISK (sizeof tform_risk / sizeof tform_risk[0])

const char *tform_strategy_label(request *req, const char *key)
{
    int kind;
    if (!key || strategy_kind_parse(key, &kind) != 0)
        return "";
    return render_lang_string(req->lang, strategy_get(kind)->label_key);
}

/* A config value (number, boolean, string as typed, or the ROI array) as the input's text. */
static json_t *tform_text(const json_t *v)
{
    char s[64];
    if (json_is_string(v))
        return json_string(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(s, sizeof s, "%lld", (long long)json_integer_value(v));
        return json_string(s);
    }
    if (json_is_real(v)) {
        snprintf(s, sizeof s, "%.10g", json_real_value(v));
        return json_string(s);
    }
    if (json_is_boolean(v))
        return json_string(json_is_true(v) ? "1" : "0");
    if (json_is_array(v)) {
        /* the ROI table: "0:5, 60:2" */
        char out[512] = "";
        size_t i, len = 0;
        json_t *row;
        json_array_foreach(v, i, row)
        {
            int w = snprintf(out + len, sizeof out - len, "%s%lld:%.10g", i ? ", " : "",
                             (long long)json_integer_value(json_object_get(row, "minutes")),
                             json_number_value(json_object_get(row, "profit_pct")));
            if (w < 0 || (size_t)w >= sizeof out - len)
                break;
            len += (size_t)w;
        }
        return json_string(out);
    }
    return json_string("");
}

/* The message for one field when errors.config ("group.name: reason") names it. */
static const char *tform_error_for(const json_t *errors, const char *group, const char *name)
{
    const char *msg = errors ? json_string_value(json_object_get(errors, "config")) : NULL;
    size_t g = strlen(group), n = strlen(name);
    if (!msg || strncmp(msg, group, g) || msg[g] != '.' || strncmp(msg + g + 1, name, n))
        return NULL;
    return msg[g + 1 + n] == ':' || msg[g + 1 + n] == '[' ? msg : NULL;
}

int tform_fill(request *req, json_t *d, const char *strategy, const json_t *config, const json_t *errors)
{
    if (!strategy && config)
        strategy = json_string_value(json_object_get(config, "strategy"));
    int kind = 0;
    if (strategy && strategy_kind_parse(strategy, &kind) != 0)
        return -1;
    engine_config defaults;
    if (engine_config_defaults(&defaults, kind) != 0)
        return -1;
    json_t *def = engine_config_to_json(&defaults);
    if (!def)
        return -1;
    json_t *kinds = json_array();
    for (int k = 0; k < STRATEGY_KIND_COUNT; k++) {
        const strategy_info *si = strategy_get(k);
        json_array_append_new(kinds, json_pack("{s:s, s:s}", "key", si->name, "label",
                                               render_lang_string(req->lang, si->label_key)));
    }
    const strategy_info *info = strategy_get(kind);
    json_t *params = json_array(), *risk = json_array();
    for (int i = 0; i < info->nparams; i++) {
        const param_spec *ps = &info->params[i];
        const json_t *v = config ? json_object_get(json_object_get(config, "params"), ps->name) : NULL;
        if (!v)
            v = json_object_get(json_object_get(def, "params"), ps->name);
        json_t *row = json_pack("{s:s, s:s, s:s, s:o, s:f, s:f}", "name", ps->name, "label",
                                render_lang_string(req->lang, ps->label_key), "type",
                                ps->type == PARAM_INT ? "int" : ps->type == PARAM_BOOL ? "bool" : "double", "value",
                                tform_text(v), "min", ps->min, "max", ps->max);
        const char *e = tform_error_for(errors, "params", ps->name);
        if (e)
            json_object_set_new(row, "error", json_string(e));
        json_array_append_new(params, row);
    }
    for (size_t i = 0; i < TFORM_NRISK; i++) {
        const tform_field *f = &tform_risk[i];
        const json_t *v = config ? json_object_get(json_object_get(config, f->group), f->name) : NULL;
        if (!v)
            v = json_object_get(json_object_get(def, f->group), f->name);
        char key[64];
        snprintf(key, sizeof key, "strategy.risk.%s", f->name);
        json_t *row = json_pack("{s:s, s:s, s:s, s:o, s:f, s:f}", "name", f->name, "label",
                                render_lang_string(req->lang, key), "type", f->type, "value", tform_text(v), "min",
                                f->min, "max", f->max);
        if (!strcmp(f->name, "roi"))
            json_object_set_new(row, "hint", json_string(render_lang_string(req->lang, "strategy.risk.roi_hint")));
        const char *e = tform_error_for(errors, f->group, f->name);
        if (e)
            json_object_set_new(row, "error", json_string(e));
        json_array_append_new(risk, row);
    }
    json_decref(def);
    json_object_set_new(d, "strategies", kinds);
    json_object_set_new(d, "strategy", json_string(info->name));
    json_object_set_new(d, "params", params);
    json_object_set_new(d, "risk", risk);
    return 0;
}

/* A whole decimal number (optionally integral), or -1. */
static int tform_number(const char *s, int integral, double *out)
{
    char *end;
    if (!s || !*s || strlen(s) > 40)
        return -1;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || (integral && v != floor(v)))
        return -1;
    *out = v;
    return 0;
}

/* "0:5, 60:2" into [{"minutes":0,"profit_pct":5}, ...]; NULL when malformed. */
static json_t *tform_roi(const char *s)
{
    json_t *rows = json_array();
    char text[512];
    if (!s || strlen(s) >= sizeof text) {
        json_decref(rows);
        return NULL;
    }
    snprintf(text, sizeof text, "%s", s);
    for (char *save = NULL, *tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *colon = strchr(tok, ':');
        size_t n = strlen(tok);
        while (n && tok[n - 1] == ' ')
            tok[--n] = '\0';
        if (!n)
            continue;
        double m, p;
        if (!colon)
            goto bad;
        *colon = '\0';
        if (tform_number(tok, 1, &m) != 0 || tform_number(colon + 1, 0, &p) != 0 || m < 0 || m > 1e9)
            goto bad;
        json_array_append_new(rows, json_pack("{s:I, s:f}", "minutes", (json_int_t)m, "profit_pct", p));
    }
    return rows;
bad:
    json_decref(rows);
    return NULL;
}

/* The form's fields as a config JSON, numbers parsed; NULL with err when one is not a number. */
static json_t *tform_from_fields(request *req, const strategy_info *info, const char *timeframe, char *err,
                                 size_t errlen)
{
    json_t *cfg = json_pack("{s:s, s:s, s:{}, s:{}, s:{}}", "strategy", info->name, "timeframe", timeframe, "params",
                            "risk", "costs");
    char name[64];
    for (int i = 0; i < info->nparams; i++) {
        const param_spec *ps = &info->params[i];
        snprintf(name, sizeof name, "p.%s", ps->name);
        const char *v = req_field(req, name);
        json_t *params = json_object_get(cfg, "params");
        if (ps->type == PARAM_BOOL) {
            /* an unticked checkbox sends nothing: absent means false on the form */
            json_object_set_new(params, ps->name, json_boolean(v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "on"))));
            continue;
        }
        if (!v || !*v)
            continue;
        double x;
        if (tform_number(v, ps->type == PARAM_INT, &x) != 0) {
            snprintf(err, errlen, "params.%s: %s", ps->name, ps->type == PARAM_INT ? "must be a whole number" : "must be a number");
            json_decref(cfg);
            return NULL;
        }
        json_object_set_new(params, ps->name, ps->type == PARAM_INT ? json_integer((json_int_t)x) : json_real(x));
    }
    for (size_t i = 0; i < TFORM_NRISK; i++) {
        const tform_field *f = &tform_risk[i];
        snprintf(name, sizeof name, "r.%s", f->name);
        const char *v = req_field(req, name);
        if (!v || !*v)
            continue;
        json_t *group = json_object_get(cfg, f->group), *val;
        if (!strcmp(f->type, "text")) {
            val = tform_roi(v);
            if (!val) {
                snprintf(err, errlen, "risk.roi: write minutes:profit%% pairs separated by commas");
                json_decref(cfg);
                return NULL;
            }
        } else {
            double x;
            if (tform_number(v, !strcmp(f->type, "int"), &x) != 0) {
                snprintf(err, errlen, "%s.%s: must be a number", f->group, f->name);
                json_decref(cfg);
                return NULL;
            }
            val = !strcmp(f->type, "int") ? json_integer((json_int_t)x) : json_real(x);
        }
        json_object_set_new(group, f->name, val);
    }
    return cfg;
}

json_t *tform_config(request *req, const char *strategy, const char *timeframe, char *err, size_t errlen)
{
    json_t *given = req->api && req->json ? json_object_get(req->json, "config") : NULL;
    json_t *cfg;
    if (given) {
        if (!json_is_object(given)) {
            snprintf(err, errlen, "config: must be an object");
            return NULL;
        }
        cfg = json_deep_copy(given);
        /* the market decides the timeframe; the strategy may come beside the config */
        if (timeframe)
            json_object_set_new(cfg, "timeframe", json_string(timeframe));
        if (strategy && !json_object_get(cfg, "strategy"))
            json_object_set_new(cfg, "strategy", json_string(strategy));
    } else {
        int kind;
        if (!strategy || strategy_kind_parse(strategy, &kind) != 0) {
            snprintf(err, errlen, "strategy: unknown");
            return NULL;
        }
        cfg = tform_from_fields(req, strategy_get(kind), timeframe ? timeframe : "1h", err, errlen);
        if (!cfg)
            return NULL;
    }
    engine_config c;
    int rc = engine_config_from_json(&c, cfg, err, errlen);
    json_decref(cfg);
    if (rc == 0 && c.kind == STRATEGY_ML_SIGNAL) {
        /* the model must be one of the tenant's, trained: another tenant's id is refused here as
         * one that does not exist */
        char id[24];
        snprintf(id, sizeof id, "%.0f", c.params[STRAT_ML_MODEL]);
        const char *p[] = {id};
        PGresult *r = tq_query(&req->cx, "tform_ml_model",
                               "SELECT 1 FROM ml_models WHERE tenant_id = $1 AND id = $2::bigint AND model IS NOT NULL", 1,
                               p);
        if (!r || PQntuples(r) != 1) {
            snprintf(err, errlen, "params.model_id: %s",
                     r ? "no trained model of yours has this id" : "the models cannot be read now, try again");
            return NULL;
        }
    }
    return rc == 0 ? engine_config_to_json(&c) : NULL;
}

json_t *tform_submitted(request *req, const char *strategy)
{
    int kind;
    if (!strategy || strategy_kind_parse(strategy, &kind) != 0)
        return NULL;
    const strategy_info *info = strategy_get(kind);
    json_t *cfg = json_pack("{s:s, s:{}, s:{}, s:{}}", "strategy", info->name, "params", "risk", "costs");
    char name[64];
    for (int i = 0; i < info->nparams; i++) {
        snprintf(name, sizeof name, "p.%s", info->params[i].name);
        const char *v = req_field(req, name);
        if (info->params[i].type == PARAM_BOOL)
            v = v ? "1" : "0";
        if (v && strlen(v) <= 40)
            json_object_set_new(json_object_get(cfg, "params"), info->params[i].name, json_string(v));
    }
    for (size_t i = 0; i < TFORM_NRISK; i++) {
        snprintf(name, sizeof name, "r.%s", tform_risk[i].name);
        const char *v = req_field(req, name);
        if (v && strlen(v) <= 200)
            json_object_set_new(json_object_get(cfg, tform_risk[i].group), tform_risk[i].name, json_string(v));
    }
    return cfg;
}

json_t *tform_markets(request *req, const json_t *selected)
{
    /* cross-tenant: markets and their series summary are platform-wide data */
    PGresult *r = db_query(req->a, "tform_markets",
                           "SELECT m.exchange, m.symbol, s.timeframe, "
                           "to_char(to_timestamp(s.first_open_time / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), "
                           "to_char(to_timestamp(s.last_open_time / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') "
                           "FROM market_series s JOIN markets m ON m.id = s.market_id "
                           "ORDER BY m.exchange, m.symbol, s.timeframe",
                           0, NULL);
    json_t *list = json_array();
    for (int i = 0; r && i < PQntuples(r); i++) {
        char *key = arena_printf(req->a, "%s:%s:%s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
        int sel = 0;
        size_t k;
        json_t *v;
        json_array_foreach(selected, k, v) sel |= json_is_string(v) && !strcmp(json_string_value(v), key);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "exchange", PQgetvalue(r, i, 0),
                                              "symbol", PQgetvalue(r, i, 1), "timeframe", PQgetvalue(r, i, 2), "first",
                                              PQgetvalue(r, i, 3), "last", PQgetvalue(r, i, 4), "key", key, "selected",
                                              sel));
    }
    return list;
}

int tform_market(request *req, const char *key, char *exchange, char *symbol, char *timeframe, int64_t *first,
                 int64_t *last)
{
    char ex[40], sym[40], tf[8];
    if (!key || strlen(key) > 100 || sscanf(key, "%39[a-z0-9_]:%39[A-Z0-9]:%7[0-9mhd]", ex, sym, tf) != 3)
        return 0;
    const char *p[] = {ex, sym, tf};
    /* cross-tenant: markets and their series summary are platform-wide data */
    PGresult *r = db_query(req->a, "tform_market",
                           "SELECT s.first_open_time, s.last_open_time FROM market_series s "
                           "JOIN markets m ON m.id = s.market_id "
                           "WHERE m.exchange = $1 AND m.symbol = $2 AND s.timeframe = $3",
                           3, p);
    if (!r || PQntuples(r) != 1)
        return 0;
    snprintf(exchange, 40, "%s", ex);
    snprintf(symbol, 40, "%s", sym);
    snprintf(timeframe, 8, "%s", tf);
    if (first)
        *first = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    if (last)
        *last = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    return 1;
}
