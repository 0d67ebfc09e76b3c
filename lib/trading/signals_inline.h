/* signals_inline.h — sig_update's body as an inline function specialised by strategy kind,
 * private to lib/trading: the engine's per-candle loop inlines it for its own kind. */
#ifndef BCF_TRADING_SIGNALS_INLINE_H
#define BCF_TRADING_SIGNALS_INLINE_H
#include "indicators_inline.h"
#include "signals.h"

/* Crossover of a over b: BUY on the candle a rises above b, SELL while a is below b. */
static inline int sig_cross(sig_state *s, double a, double b)
{
    int sig = SIG_NONE;
    if (a < b)
        sig = SIG_SELL;
    else if (a > b && s->prev_a <= s->prev_b) /* false while prev_* are still NAN */
        sig = SIG_BUY;
    s->prev_a = a;
    s->prev_b = b;
    return sig;
}

static inline __attribute__((always_inline)) int sig_update_kind(sig_state *s, const candle *c, const int kind)
{
    double close = c->close;
    s->candles++;
    switch (kind) {
    case STRATEGY_SMA_CROSS: {
        double a, b;
        ind_sma_step(&s->u.sma.fast, close, &a);
        /* the slow window is the longer one: once it is full, so is the fast one */
        if (!ind_sma_step(&s->u.sma.slow, close, &b))
            return SIG_NONE;
        return sig_cross(s, a, b);
    }
    case STRATEGY_EMA_CROSS: {
        double a, b;
        ind_ema_update(&s->u.ema.fast, close, &a);
        ind_ema_update(&s->u.ema.slow, close, &b);
        /* an EMA is seeded with the first close: trust it after one slow period */
        if (s->candles < (int64_t)s->p[STRAT_CROSS_SLOW])
            return SIG_NONE;
        return sig_cross(s, a, b);
    }
    case STRATEGY_RSI_REVERSION: {
        double r;
        if (!ind_rsi_update(&s->u.rsi, close, &r))
            return SIG_NONE;
        if (r < s->p[STRAT_RSI_OVERSOLD])
            return SIG_BUY;
        if (r > s->p[STRAT_RSI_OVERBOUGHT])
            return SIG_SELL;
        return SIG_NONE;
    }
    case STRATEGY_BOLLINGER_BREAKOUT: {
        double lo, mid, up;
        if (!ind_bbands_update(&s->u.bb, close, &lo, &mid, &up))
            return SIG_NONE;
        int sig = SIG_NONE;
        if (close < (s->p[STRAT_BB_EXIT_MIDDLE] != 0 ? mid : lo))
            sig = SIG_SELL;
        else if (close > up && s->prev_a <= s->prev_b)
            sig = SIG_BUY;
        s->prev_a = close;
        s->prev_b = up;
        return sig;
    }
    case STRATEGY_MACD_TREND: {
        double m, sg, h;
        if (!ind_macd_update(&s->u.macd, close, &m, &sg, &h))
            return SIG_NONE;
        int sig = SIG_NONE;
        if (h < 0)
            sig = SIG_SELL;
        else if (h > 0 && s->prev_a <= 0 && (s->p[STRAT_MACD_ZERO_FILTER] == 0 || m > 0))
            sig = SIG_BUY;
        s->prev_a = h;
        return sig;
    }
    case STRATEGY_ML_SIGNAL: {
        /* entries are events (the probability rises above buy_above), exits are states (it is
         * below sell_below), as for the crossovers; no prediction, no signal */
        double p = s->u.ext.value;
        int sig = SIG_NONE;
        if (p < s->p[STRAT_ML_SELL_BELOW])
            sig = SIG_SELL;
        else if (p > s->p[STRAT_ML_BUY_ABOVE] && !(s->prev_a > s->p[STRAT_ML_BUY_ABOVE]))
            sig = SIG_BUY;
        s->prev_a = p;
        return sig;
    }
    default:
        return SIG_NONE;
    }
}
#endif
