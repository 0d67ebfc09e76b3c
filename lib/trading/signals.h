/* signals.h — the indicator-driven strategies as streaming signal states: one closed candle in,
 * "buy", "sell" or nothing out, with no knowledge of positions (the engine decides what to do). */
#ifndef BCF_TRADING_SIGNALS_H
#define BCF_TRADING_SIGNALS_H
#include "candles.h"
#include "indicators.h"
#include "strategy.h"
#include <stdint.h>

typedef enum sig_value {
    SIG_NONE = 0, /* warm-up, or nothing to do */
    SIG_BUY = 1,  /* an entry event (a cross, a breakout, an oversold reading) */
    SIG_SELL = 2, /* the exit condition holds (it stays SELL while it holds) */
} sig_value;

/*
 * Entries are events and exits are states: sma_cross buys on the candle where the fast average
 * crosses above the slow one, and says SELL on every candle where fast < slow. So a position
 * opened on a cross is closed on the first candle of the opposite cross, and a skipped entry
 * (no free trade slot) is not taken later in the middle of a trend.
 *
 * A plain value: no pointers, so it lives inside the engine's saved state. grid and dca have
 * no indicators (their rules depend on positions); for them sig_update returns SIG_NONE.
 */
typedef struct sig_state {
    int32_t kind;
    int32_t reserved; /* always 0 */
    int64_t candles;  /* candles seen */
    double prev_a, prev_b; /* the previous candle's values; NAN before (no cross from nothing) */
    double p[STRATEGY_MAX_PARAMS]; /* the strategy's parameters */
    union {
        struct {
            ind_sma fast, slow;
        } sma;
        struct {
            ind_ema fast, slow;
        } ema;
        ind_rsi rsi;
        ind_bbands bb;
        ind_macd macd;
        struct {
            double value; /* ml_signal: this candle's up-probability (NAN: none) */
        } ext;
    } u;
} sig_state;

/* Initialises for cfg (which must have passed engine_config_check): 0, or -1. */
int sig_init(sig_state *s, const engine_config *cfg);

/* 1 when a state restored from bytes belongs to cfg and every ring index is in range (what
 * sig_update needs to stay inside its arrays); 0 otherwise. */
int sig_valid(const sig_state *s, const engine_config *cfg);
/* Feeds one closed candle; returns a sig_value. O(1). */
int sig_update(sig_state *s, const candle *c);
#endif
