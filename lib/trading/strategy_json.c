/* strategy_json.c — engine_config from and to JSON: every field checked for name, JSON type and
 * range, errors naming the field ("risk.roi[1].minutes: ..."), and a full form that reads back equal. */
#include "strategy.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int sj_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sj_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Rejects any key of obj that is not in names (NULL-terminated). */
static int sj_known_keys(const json_t *obj, const char *const *names, const char *where, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int ok = 0;
        for (int i = 0; names[i]; i++)
            if (strcmp(key, names[i]) == 0)
                ok = 1;
        if (!ok)
            return sj_fail(err, errlen, "%s%s: unknown field", where, key);
    }
    return 0;
}

static int sj_number(const json_t *v, const char *path, double *out, char *err, size_t errlen)
{
    if (!json_is_number(v))
        return sj_fail(err, errlen, "%s: must be a number", path);
    double d = json_number_value(v);
    if (!isfinite(d))
        return sj_fail(err, errlen, "%s: must be a finite number", path);
    *out = d;
    return 0;
}

/* A whole number in [lo, hi]; a real with no fraction (10.0) is accepted as the same number. */
static int sj_int(const json_t *v, const char *path, double lo, double hi, double *out, char *err, size_t errlen)
{
    double d;
    if (!json_is_number(v))
        return sj_fail(err, errlen, "%s: must be a whole number", path);
    d = json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
    if (!isfinite(d) || d != floor(d))
        return sj_fail(err, errlen, "%s: must be a whole number", path);
    if (d < lo || d > hi)
        return sj_fail(err, errlen, "%s: must be between %g and %g", path, lo, hi);
    *out = d;
    return 0;
}

static int sj_params(engine_config *c, const strategy_info *info, const json_t *obj, char *err, size_t errlen)
{
    if (!json_is_object(obj))
        return sj_fail(err, errlen, "params: must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int idx = -1;
        for (int i = 0; i < info->nparams; i++)
            if (strcmp(info->params[i].name, key) == 0)
                idx = i;
        char path[96];
        snprintf(path, sizeof path, "params.%s", key);
        if (idx < 0)
            return sj_fail(err, errlen, "%s: unknown parameter for %s", path, info->name);
        const param_spec *p = &info->params[idx];
        double d = 0;
        switch (p->type) {
        case PARAM_BOOL:
            if (!json_is_boolean(v))
                return sj_fail(err, errlen, "%s: must be true or false", path);
            d = json_is_true(v) ? 1 : 0;
            break;
        case PARAM_INT:
            if (sj_int(v, path, p->min, p->max, &d, err, errlen) < 0)
                return -1;
            break;
        default:
            if (sj_number(v, path, &d, err, errlen) < 0)
                return -1;
            if (d < p->min || d > p->max)
                return sj_fail(err, errlen, "%s: must be between %g and %g", path, p->min, p->max);
            break;
        }
        c->params[idx] = d;
    }
    return 0;
}

static int sj_roi(risk_config *r, const json_t *arr, char *err, size_t errlen)
{
    static const char *const names[] = {"minutes", "profit_pct", NULL};
    if (!json_is_array(arr))
        return sj_fail(err, errlen, "risk.roi: must be an array");
    if (json_array_size(arr) > RISK_MAX_ROI)
        return sj_fail(err, errlen, "risk.roi: at most %d rows", RISK_MAX_ROI);
    memset(r->roi, 0, sizeof r->roi);
    r->roi_count = 0;
    size_t i;
    json_t *row;
    json_array_foreach((json_t *)arr, i, row)
    {
        char where[48], path[64];
        snprintf(where, sizeof where, "risk.roi[%zu].", i);
        if (!json_is_object(row))
            return sj_fail(err, errlen, "risk.roi[%zu]: must be an object", i);
        if (sj_known_keys(row, names, where, err, errlen) < 0)
            return -1;
        json_t *m = json_object_get(row, "minutes"), *p = json_object_get(row, "profit_pct");
        double minutes, pct;
        snprintf(path, sizeof path, "%sminutes", where);
        if (!m)
            return sj_fail(err, errlen, "%s: is required", path);
        if (sj_int(m, path, 0, 100.0 * 366 * 24 * 60, &minutes, err, errlen) < 0)
            return -1;
        snprintf(path, sizeof path, "%sprofit_pct", where);
        if (!p)
            return sj_fail(err, errlen, "%s: is required", path);
        if (sj_number(p, path, &pct, err, errlen) < 0)
            return -1;
        r->roi[i].minutes = (int64_t)minutes;
        r->roi[i].profit_pct = pct;
        r->roi_count = (int32_t)(i + 1);
    }
    return 0;
}

static int sj_risk(engine_config *c, const json_t *obj, int *set_trades, int *set_stake, char *err, size_t errlen)
{
    static const char *const names[] = {"stop_loss_pct", "take_profit_pct", "trailing_stop_pct",
                                        "trailing_offset_pct", "stake_pct", "max_open_trades",
                                        "cooldown_candles", "roi", NULL};
    if (!json_is_object(obj))
        return sj_fail(err, errlen, "risk: must be an object");
    if (sj_known_keys(obj, names, "risk.", err, errlen) < 0)
        return -1;
    risk_config *r = &c->risk;
    struct {
        const char *name;
        double *dst;
    } reals[] = {
        {"stop_loss_pct", &r->stop_loss_pct},
        {"take_profit_pct", &r->take_profit_pct},
        {"trailing_stop_pct", &r->trailing_stop_pct},
        {"trailing_offset_pct", &r->trailing_offset_pct},
        {"stake_pct", &r->stake_pct},
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        json_t *v = json_object_get(obj, reals[i].name);
        char path[64];
        snprintf(path, sizeof path, "risk.%s", reals[i].name);
        if (v && sj_number(v, path, reals[i].dst, err, errlen) < 0)
            return -1;
    }
    double d;
    json_t *v = json_object_get(obj, "max_open_trades");
    if (v) {
        if (sj_int(v, "risk.max_open_trades", 1, STRATEGY_MAX_OPEN_TRADES, &d, err, errlen) < 0)
            return -1;
        r->max_open_trades = (int32_t)d;
        *set_trades = 1;
    }
    *set_stake = json_object_get(obj, "stake_pct") != NULL;
    v = json_object_get(obj, "cooldown_candles");
    if (v) {
        if (sj_int(v, "risk.cooldown_candles", 0, 100000, &d, err, errlen) < 0)
            return -1;
        r->cooldown_candles = (int32_t)d;
    }
    v = json_object_get(obj, "roi");
    if (v && sj_roi(r, v, err, errlen) < 0)
        return -1;
    return 0;
}

static int sj_costs(engine_config *c, const json_t *obj, char *err, size_t errlen)
{
    static const char *const names[] = {"fee_bps", "slippage_bps", NULL};
    if (!json_is_object(obj))
        return sj_fail(err, errlen, "costs: must be an object");
    if (sj_known_keys(obj, names, "costs.", err, errlen) < 0)
        return -1;
    json_t *v = json_object_get(obj, "fee_bps");
    if (v && sj_number(v, "costs.fee_bps", &c->costs.fee_bps, err, errlen) < 0)
        return -1;
    v = json_object_get(obj, "slippage_bps");
    if (v && sj_number(v, "costs.slippage_bps", &c->costs.slippage_bps, err, errlen) < 0)
        return -1;
    return 0;
}

int engine_config_from_json(engine_config *out, const json_t *j, char *err, size_t errlen)
{
    static const char *const names[] = {"strategy", "timeframe", "params", "risk", "costs", NULL};
    if (!json_is_object(j))
        return sj_fail(err, errlen, "config: must be a JSON object");
    if (sj_known_keys(j, names, "", err, errlen) < 0)
        return -1;
    json_t *s = json_object_get(j, "strategy");
    if (!s)
        return sj_fail(err, errlen, "strategy: is required");
    int kind;
    if (!json_is_string(s) || strategy_kind_parse(json_string_value(s), &kind) < 0)
        return sj_fail(err, errlen,
                       "strategy: must be one of sma_cross, ema_cross, rsi_reversion, bollinger_breakout, "
                       "macd_trend, grid, dca");
    engine_config c;
    engine_config_defaults(&c, kind);
    const strategy_info *info = strategy_get(kind);

    json_t *tf = json_object_get(j, "timeframe");
    if (tf) {
        static const char *const tfs[] = {"1m", "5m", "15m", "1h", "4h", "1d"};
        static const int64_t tfms[] = {60000, 300000, 900000, 3600000, 14400000, 86400000};
        int found = -1;
        for (int i = 0; i < 6 && json_is_string(tf); i++)
            if (strcmp(json_string_value(tf), tfs[i]) == 0)
                found = i;
        if (found < 0)
            return sj_fail(err, errlen, "timeframe: must be one of 1m, 5m, 15m, 1h, 4h, 1d");
        c.timeframe_ms = tfms[found];
    }
    json_t *params = json_object_get(j, "params");
    if (params && sj_params(&c, info, params, err, errlen) < 0)
        return -1;
    int set_trades = 0, set_stake = 0;
    json_t *risk = json_object_get(j, "risk");
    if (risk && sj_risk(&c, risk, &set_trades, &set_stake, err, errlen) < 0)
        return -1;
    if (kind == STRATEGY_GRID) {
        /* the grid's defaults follow its number of levels, as in engine_config_defaults */
        int levels = (int)c.params[STRAT_GRID_LEVELS];
        if (!set_trades)
            c.risk.max_open_trades = levels;
        if (!set_stake)
            c.risk.stake_pct = floor(10000.0 / levels) / 100.0;
    }
    json_t *costs = json_object_get(j, "costs");
    if (costs && sj_costs(&c, costs, err, errlen) < 0)
        return -1;
    if (engine_config_check(&c, err, errlen) < 0)
        return -1;
    *out = c;
    return 0;
}

/* json_object_set_new that remembers a failure, so the builder checks once at the end */
static void sj_set(json_t *obj, const char *key, json_t *v, int *bad)
{
    if (!v || json_object_set_new(obj, key, v) < 0)
        *bad = 1;
}

json_t *engine_config_to_json(const engine_config *c)
{
    if (engine_config_check(c, NULL, 0) < 0)
        return NULL;
    const strategy_info *info = strategy_get(c->kind);
    int bad = 0;
    json_t *root = json_object(), *params = json_object(), *risk = json_object(), *costs = json_object(),
           *roi = json_array();
    if (!root || !params || !risk || !costs || !roi) {
        json_decref(root);
        json_decref(params);
        json_decref(risk);
        json_decref(costs);
        json_decref(roi);
        return NULL;
    }
    sj_set(root, "strategy", json_string(info->name), &bad);
    sj_set(root, "timeframe", json_string(strategy_timeframe_name(c->timeframe_ms)), &bad);
    for (int i = 0; i < info->nparams; i++) {
        const param_spec *p = &info->params[i];
        json_t *v = p->type == PARAM_BOOL  ? json_boolean(c->params[i] != 0)
                    : p->type == PARAM_INT ? json_integer((json_int_t)c->params[i])
                                           : json_real(c->params[i]);
        sj_set(params, p->name, v, &bad);
    }
    sj_set(root, "params", params, &bad);
    const risk_config *r = &c->risk;
    sj_set(risk, "stop_loss_pct", json_real(r->stop_loss_pct), &bad);
    sj_set(risk, "take_profit_pct", json_real(r->take_profit_pct), &bad);
    sj_set(risk, "trailing_stop_pct", json_real(r->trailing_stop_pct), &bad);
    sj_set(risk, "trailing_offset_pct", json_real(r->trailing_offset_pct), &bad);
    sj_set(risk, "stake_pct", json_real(r->stake_pct), &bad);
    sj_set(risk, "max_open_trades", json_integer(r->max_open_trades), &bad);
    sj_set(risk, "cooldown_candles", json_integer(r->cooldown_candles), &bad);
    for (int i = 0; i < r->roi_count; i++) {
        json_t *row = json_object();
        if (!row) {
            bad = 1;
            break;
        }
        sj_set(row, "minutes", json_integer((json_int_t)r->roi[i].minutes), &bad);
        sj_set(row, "profit_pct", json_real(r->roi[i].profit_pct), &bad);
        if (json_array_append_new(roi, row) < 0)
            bad = 1;
    }
    sj_set(risk, "roi", roi, &bad);
    sj_set(root, "risk", risk, &bad);
    sj_set(costs, "fee_bps", json_real(c->costs.fee_bps), &bad);
    sj_set(costs, "slippage_bps", json_real(c->costs.slippage_bps), &bad);
    sj_set(root, "costs", costs, &bad);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}
