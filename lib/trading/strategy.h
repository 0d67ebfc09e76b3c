/* strategy.h — strategy kinds with typed parameter tables, risk controls, costs, and the
 * engine_config that holds them all (validated; JSON in and out for forms, jobs and bots). */
#ifndef BCF_TRADING_STRATEGY_H
#define BCF_TRADING_STRATEGY_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An engine_config is a plain value (no pointers, fixed-width fields, no padding holes) because
 * the engine stores it inside its own state, and that state is saved as bytes between the ticks
 * of a paper bot. See docs/trading.md, "Strategies" and "Risk controls", for what each field does.
 */

typedef enum strategy_kind {
    STRATEGY_SMA_CROSS = 0,      /* "sma_cross": fast SMA crosses the slow SMA */
    STRATEGY_EMA_CROSS,          /* "ema_cross": the same with EMAs */
    STRATEGY_RSI_REVERSION,      /* "rsi_reversion": buy oversold, sell overbought */
    STRATEGY_BOLLINGER_BREAKOUT, /* "bollinger_breakout": buy a close above the upper band */
    STRATEGY_MACD_TREND,         /* "macd_trend": buy MACD crossing above its signal line */
    STRATEGY_GRID,               /* "grid": buy levels below a reference, sell one level up */
    STRATEGY_DCA,                /* "dca": periodic buys, safety orders, take-profit on the average */
    STRATEGY_ML_SIGNAL,          /* "ml_signal": a trained model's up-probability crosses thresholds */
    STRATEGY_KIND_COUNT
} strategy_kind;

#define STRATEGY_MAX_PARAMS 6
#define STRATEGY_MAX_OPEN_TRADES 64 /* the engine's trade slots, shared by the whole portfolio */
#define STRATEGY_MAX_GRID_LEVELS 32 /* one bit per level in the engine's order masks */
#define RISK_MAX_ROI 8

typedef enum param_type { PARAM_INT = 0, PARAM_DOUBLE = 1, PARAM_BOOL = 2 } param_type;

/* One parameter of a strategy kind: what forms are built from and what validation checks. */
typedef struct param_spec {
    const char *name;      /* JSON key and form field name, e.g. "fast" */
    param_type type;       /* int and bool values are still stored as double (exactly) */
    double min, max;       /* inclusive bounds (bool: 0 and 1) */
    double def;            /* default value */
    const char *label_key; /* i18n key of the label, e.g. "strategy.param.fast" */
} param_spec;

typedef struct strategy_info {
    const char *name;      /* "sma_cross" */
    const char *label_key; /* "strategy.kind.sma_cross" */
    int nparams;
    const param_spec *params; /* nparams entries, in the order of engine_config.params */
} strategy_info;

/* Indexes into engine_config.params for each kind (the order of its param_spec table). */
enum { STRAT_CROSS_FAST = 0, STRAT_CROSS_SLOW };                      /* sma_cross, ema_cross */
enum { STRAT_RSI_PERIOD = 0, STRAT_RSI_OVERSOLD, STRAT_RSI_OVERBOUGHT }; /* rsi_reversion */
enum { STRAT_BB_PERIOD = 0, STRAT_BB_K, STRAT_BB_EXIT_MIDDLE };       /* bollinger_breakout */
enum { STRAT_MACD_FAST = 0, STRAT_MACD_SLOW, STRAT_MACD_SIGNAL, STRAT_MACD_ZERO_FILTER };
enum { STRAT_GRID_LEVELS = 0, STRAT_GRID_SPACING, STRAT_GRID_REFERENCE };
enum { STRAT_DCA_INTERVAL = 0, STRAT_DCA_MAX_BUYS, STRAT_DCA_SAFETY_ORDERS, STRAT_DCA_SAFETY_STEP,
       STRAT_DCA_TAKE_PROFIT };
enum { STRAT_ML_MODEL = 0, STRAT_ML_BUY_ABOVE, STRAT_ML_SELL_BELOW }; /* ml_signal */

/* The table for kind k, or NULL when k is not a kind. */
const strategy_info *strategy_get(int kind);
/* "sma_cross" ... "dca" into *out: 0, or -1 when unknown. */
int strategy_kind_parse(const char *name, int *out);

/* One row of the ROI table: from a trade age of `minutes` on, exit once the price is
 * profit_pct above the average entry price. */
typedef struct roi_row {
    int64_t minutes;
    double profit_pct;
} roi_row;

/* Risk controls; a percentage of 0 turns its control off. All percentages are of the trade's
 * average entry price (before fees), except stake_pct (of the portfolio's equity). */
typedef struct risk_config {
    double stop_loss_pct;       /* 0..<100: exit when the low reaches entry × (1 − sl) */
    double take_profit_pct;     /* exit when the high reaches entry × (1 + tp) */
    double trailing_stop_pct;   /* 0..<100: stop at peak × (1 − trail), peak = highest high since entry */
    double trailing_offset_pct; /* the trailing stop is armed once the peak reached entry × (1 + offset) */
    double stake_pct;           /* (0, 100]: each new trade spends this share of equity (capped by cash) */
    int32_t max_open_trades;    /* 1..STRATEGY_MAX_OPEN_TRADES, across every symbol */
    int32_t cooldown_candles;   /* after a losing trade, no entry on that symbol for this many candles */
    int32_t roi_count;          /* rows used in roi[], 0..RISK_MAX_ROI */
    int32_t reserved;           /* always 0 (keeps the struct free of padding) */
    roi_row roi[RISK_MAX_ROI];  /* minutes strictly increasing */
} risk_config;

/* Costs, in basis points (1 bp = 0.01%). */
typedef struct cost_config {
    double fee_bps;      /* charged on every fill's notional, in the quote currency */
    double slippage_bps; /* every fill is moved this much against us (buys higher, sells lower) */
} cost_config;

typedef struct engine_config {
    int32_t kind;     /* strategy_kind */
    int32_t reserved; /* always 0 */
    double params[STRATEGY_MAX_PARAMS]; /* the kind's parameters in param_spec order; unused ones 0 */
    risk_config risk;
    cost_config costs;
    int64_t timeframe_ms; /* candle length: one of 1m 5m 15m 1h 4h 1d */
} engine_config;

/* The defaults for kind k: every parameter at its default, risk controls off, one open trade
 * and 100% stake (grid: one trade per level and 100/levels % each; dca: 10% per buy), fee
 * 10 bps, slippage 5 bps, timeframe 1h. Returns 0, or -1 when k is not a kind. */
int engine_config_defaults(engine_config *c, int kind);

/* Checks every field (range, integral ints, 0/1 bools, the rules that tie fields together such
 * as fast < slow). Returns 0, or -1 with "field: reason" in err (e.g. "params.slow: must be
 * greater than params.fast"). */
int engine_config_check(const engine_config *c, char *err, size_t errlen);

/* Reads {"strategy":"sma_cross","timeframe":"1h","params":{...},"risk":{...},"costs":{...}}.
 * Only "strategy" is required; a missing field takes its default. An unknown field, a value of
 * the wrong JSON type or out of range gives -1 with "field: reason" in err, and *c unchanged. */
int engine_config_from_json(engine_config *c, const json_t *j, char *err, size_t errlen);
/* The full form of c (every field, defaults included); NULL when out of memory or c is invalid. */
json_t *engine_config_to_json(const engine_config *c);

/* "1h" for 3600000 and so on; NULL for a length that is not a supported timeframe. */
const char *strategy_timeframe_name(int64_t ms);
#endif
