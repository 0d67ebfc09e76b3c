/* strategy.c — the parameter table of each strategy kind, config defaults and the validation
 * every engine_config passes before an engine runs it (ranges and the rules between fields). */
#include "strategy.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define STRAT_PERIOD_MAX 512 /* IND_MAX_PERIOD: the indicators' ring buffers */

static const param_spec strat_sma_params[] = {
    {"fast", PARAM_INT, 1, STRAT_PERIOD_MAX - 1, 10, "strategy.param.fast"},
    {"slow", PARAM_INT, 2, STRAT_PERIOD_MAX, 30, "strategy.param.slow"},
};
static const param_spec strat_ema_params[] = {
    {"fast", PARAM_INT, 1, STRAT_PERIOD_MAX - 1, 12, "strategy.param.fast"},
    {"slow", PARAM_INT, 2, STRAT_PERIOD_MAX, 26, "strategy.param.slow"},
};
static const param_spec strat_rsi_params[] = {
    {"period", PARAM_INT, 2, STRAT_PERIOD_MAX, 14, "strategy.param.period"},
    {"oversold", PARAM_DOUBLE, 1, 50, 30, "strategy.param.oversold"},
    {"overbought", PARAM_DOUBLE, 50, 99, 70, "strategy.param.overbought"},
};
static const param_spec strat_bb_params[] = {
    {"period", PARAM_INT, 2, STRAT_PERIOD_MAX, 20, "strategy.param.period"},
    {"k", PARAM_DOUBLE, 0.5, 5, 2, "strategy.param.k"},
    {"exit_on_middle", PARAM_BOOL, 0, 1, 1, "strategy.param.exit_on_middle"},
};
static const param_spec strat_macd_params[] = {
    {"fast", PARAM_INT, 1, STRAT_PERIOD_MAX - 1, 12, "strategy.param.fast"},
    {"slow", PARAM_INT, 2, STRAT_PERIOD_MAX, 26, "strategy.param.slow"},
    {"signal", PARAM_INT, 1, STRAT_PERIOD_MAX, 9, "strategy.param.signal"},
    {"above_zero", PARAM_BOOL, 0, 1, 0, "strategy.param.above_zero"},
};
static const param_spec strat_grid_params[] = {
    {"levels", PARAM_INT, 1, STRATEGY_MAX_GRID_LEVELS, 10, "strategy.param.levels"},
    {"spacing_pct", PARAM_DOUBLE, 0.1, 50, 1, "strategy.param.spacing_pct"},
    {"reference", PARAM_DOUBLE, 0, 1e12, 0, "strategy.param.reference"},
};
static const param_spec strat_dca_params[] = {
    {"interval", PARAM_INT, 1, 100000, 24, "strategy.param.interval"},
    {"max_buys", PARAM_INT, 1, 1000, 10, "strategy.param.max_buys"},
    {"safety_orders", PARAM_INT, 0, 20, 3, "strategy.param.safety_orders"},
    {"safety_step_pct", PARAM_DOUBLE, 0.1, 50, 2, "strategy.param.safety_step_pct"},
    {"take_profit_pct", PARAM_DOUBLE, 0.1, 1000, 3, "strategy.param.take_profit_pct"},
};

/* The model is named by its id; its predictions reach the engine as the external value of each
 * candle (engine_set_external), so the engine itself stays free of I/O. */
static const param_spec strat_ml_params[] = {
    {"model_id", PARAM_INT, 1, 1e15, 1, "strategy.param.model_id"},
    {"buy_above", PARAM_DOUBLE, 0.5, 0.99, 0.55, "strategy.param.buy_above"},
    {"sell_below", PARAM_DOUBLE, 0.01, 0.5, 0.45, "strategy.param.sell_below"},
};

#define STRAT_INFO(name, params) {name, "strategy.kind." name, (int)(sizeof params / sizeof params[0]), params}
static const strategy_info strat_table[STRATEGY_KIND_COUNT] = {
    [STRATEGY_SMA_CROSS] = STRAT_INFO("sma_cross", strat_sma_params),
    [STRATEGY_EMA_CROSS] = STRAT_INFO("ema_cross", strat_ema_params),
    [STRATEGY_RSI_REVERSION] = STRAT_INFO("rsi_reversion", strat_rsi_params),
    [STRATEGY_BOLLINGER_BREAKOUT] = STRAT_INFO("bollinger_breakout", strat_bb_params),
    [STRATEGY_MACD_TREND] = STRAT_INFO("macd_trend", strat_macd_params),
    [STRATEGY_GRID] = STRAT_INFO("grid", strat_grid_params),
    [STRATEGY_DCA] = STRAT_INFO("dca", strat_dca_params),
    [STRATEGY_ML_SIGNAL] = STRAT_INFO("ml_signal", strat_ml_params),
};

const strategy_info *strategy_get(int kind)
{
    if (kind < 0 || kind >= STRATEGY_KIND_COUNT)
        return NULL;
    return &strat_table[kind];
}

int strategy_kind_parse(const char *name, int *out)
{
    if (!name)
        return -1;
    for (int k = 0; k < STRATEGY_KIND_COUNT; k++)
        if (strcmp(strat_table[k].name, name) == 0) {
            *out = k;
            return 0;
        }
    return -1;
}

static const struct {
    const char *name;
    int64_t ms;
} strat_timeframes[] = {
    {"1m", 60000}, {"5m", 300000}, {"15m", 900000}, {"1h", 3600000}, {"4h", 14400000}, {"1d", 86400000},
};

const char *strategy_timeframe_name(int64_t ms)
{
    for (size_t i = 0; i < sizeof strat_timeframes / sizeof strat_timeframes[0]; i++)
        if (strat_timeframes[i].ms == ms)
            return strat_timeframes[i].name;
    return NULL;
}

int engine_config_defaults(engine_config *c, int kind)
{
    const strategy_info *info = strategy_get(kind);
    if (!info)
        return -1;
    memset(c, 0, sizeof *c);
    c->kind = kind;
    for (int i = 0; i < info->nparams; i++)
        c->params[i] = info->params[i].def;
    c->risk.stake_pct = 100;
    c->risk.max_open_trades = 1;
    if (kind == STRATEGY_GRID) {
        /* each level is its own trade: room for all of them, equity split evenly */
        int levels = (int)c->params[STRAT_GRID_LEVELS];
        c->risk.max_open_trades = levels;
        c->risk.stake_pct = floor(10000.0 / levels) / 100.0;
    } else if (kind == STRATEGY_DCA) {
        c->risk.stake_pct = 10; /* one buy; the periodic and safety buys repeat it */
    }
    c->costs.fee_bps = 10;
    c->costs.slippage_bps = 5;
    c->timeframe_ms = 3600000;
    return 0;
}

static int strat_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int strat_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* lo <= v <= hi (NaN fails) */
static int strat_in(double v, double lo, double hi)
{
    return v >= lo && v <= hi;
}

static int strat_check_params(const engine_config *c, const strategy_info *info, char *err, size_t errlen)
{
    for (int i = 0; i < info->nparams; i++) {
        const param_spec *p = &info->params[i];
        double v = c->params[i];
        if (p->type == PARAM_BOOL) {
            if (v != 0 && v != 1)
                return strat_fail(err, errlen, "params.%s: must be true or false", p->name);
            continue;
        }
        if (!strat_in(v, p->min, p->max))
            return strat_fail(err, errlen, "params.%s: must be between %g and %g", p->name, p->min, p->max);
        if (p->type == PARAM_INT && v != floor(v))
            return strat_fail(err, errlen, "params.%s: must be a whole number", p->name);
    }
    for (int i = info->nparams; i < STRATEGY_MAX_PARAMS; i++)
        if (c->params[i] != 0)
            return strat_fail(err, errlen, "params: %s takes %d parameters", info->name, info->nparams);
    const double *p = c->params;
    switch (c->kind) {
    case STRATEGY_SMA_CROSS:
    case STRATEGY_EMA_CROSS:
        if (p[STRAT_CROSS_SLOW] <= p[STRAT_CROSS_FAST])
            return strat_fail(err, errlen, "params.slow: must be greater than params.fast");
        break;
    case STRATEGY_MACD_TREND:
        if (p[STRAT_MACD_SLOW] <= p[STRAT_MACD_FAST])
            return strat_fail(err, errlen, "params.slow: must be greater than params.fast");
        break;
    case STRATEGY_RSI_REVERSION:
        if (p[STRAT_RSI_OVERBOUGHT] <= p[STRAT_RSI_OVERSOLD])
            return strat_fail(err, errlen, "params.overbought: must be greater than params.oversold");
        break;
    case STRATEGY_GRID:
        /* the lowest level must stay above zero */
        if (p[STRAT_GRID_LEVELS] * p[STRAT_GRID_SPACING] >= 100)
            return strat_fail(err, errlen, "params.spacing_pct: levels × spacing_pct must be below 100");
        break;
    case STRATEGY_DCA:
        if (p[STRAT_DCA_SAFETY_ORDERS] * p[STRAT_DCA_SAFETY_STEP] >= 100)
            return strat_fail(err, errlen,
                              "params.safety_step_pct: safety_orders × safety_step_pct must be below 100");
        break;
    default:
        break;
    }
    return 0;
}

int engine_config_check(const engine_config *c, char *err, size_t errlen)
{
    const strategy_info *info = strategy_get(c->kind);
    if (!info)
        return strat_fail(err, errlen, "strategy: unknown strategy");
    if (c->reserved != 0 || c->risk.reserved != 0)
        return strat_fail(err, errlen, "config: reserved fields must be 0");
    if (strat_check_params(c, info, err, errlen) < 0)
        return -1;
    const risk_config *r = &c->risk;
    if (!strat_in(r->stop_loss_pct, 0, 99.99))
        return strat_fail(err, errlen, "risk.stop_loss_pct: must be between 0 and 99.99");
    if (!strat_in(r->take_profit_pct, 0, 100000))
        return strat_fail(err, errlen, "risk.take_profit_pct: must be between 0 and 100000");
    if (!strat_in(r->trailing_stop_pct, 0, 99.99))
        return strat_fail(err, errlen, "risk.trailing_stop_pct: must be between 0 and 99.99");
    if (!strat_in(r->trailing_offset_pct, 0, 100000))
        return strat_fail(err, errlen, "risk.trailing_offset_pct: must be between 0 and 100000");
    if (!strat_in(r->stake_pct, 0.01, 100))
        return strat_fail(err, errlen, "risk.stake_pct: must be between 0.01 and 100");
    if (r->max_open_trades < 1 || r->max_open_trades > STRATEGY_MAX_OPEN_TRADES)
        return strat_fail(err, errlen, "risk.max_open_trades: must be between 1 and %d", STRATEGY_MAX_OPEN_TRADES);
    if (r->cooldown_candles < 0 || r->cooldown_candles > 100000)
        return strat_fail(err, errlen, "risk.cooldown_candles: must be between 0 and 100000");
    if (r->roi_count < 0 || r->roi_count > RISK_MAX_ROI)
        return strat_fail(err, errlen, "risk.roi: at most %d rows", RISK_MAX_ROI);
    for (int i = 0; i < r->roi_count; i++) {
        if (r->roi[i].minutes < 0 || r->roi[i].minutes > 100LL * 366 * 24 * 60)
            return strat_fail(err, errlen, "risk.roi[%d].minutes: must be between 0 and 52704000", i);
        if (i > 0 && r->roi[i].minutes <= r->roi[i - 1].minutes)
            return strat_fail(err, errlen, "risk.roi[%d].minutes: must be greater than the row before", i);
        if (!strat_in(r->roi[i].profit_pct, -99.99, 100000))
            return strat_fail(err, errlen, "risk.roi[%d].profit_pct: must be between -99.99 and 100000", i);
    }
    for (int i = r->roi_count; i < RISK_MAX_ROI; i++)
        if (r->roi[i].minutes != 0 || r->roi[i].profit_pct != 0)
            return strat_fail(err, errlen, "risk.roi[%d]: unused rows must be 0", i);
    if (!strat_in(c->costs.fee_bps, 0, 1000))
        return strat_fail(err, errlen, "costs.fee_bps: must be between 0 and 1000");
    if (!strat_in(c->costs.slippage_bps, 0, 1000))
        return strat_fail(err, errlen, "costs.slippage_bps: must be between 0 and 1000");
    if (!strategy_timeframe_name(c->timeframe_ms))
        return strat_fail(err, errlen, "timeframe: must be one of 1m, 5m, 15m, 1h, 4h, 1d");
    return 0;
}
