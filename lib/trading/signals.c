/* signals.c — entry and exit signals of the indicator strategies (crossovers, RSI levels, band
 * breakouts, MACD crosses) computed on closed candles only, so no signal can see the future. */
#include "signals.h"
#include "signals_inline.h"
#include <math.h>
#include <string.h>

int sig_init(sig_state *s, const engine_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->kind = cfg->kind;
    memcpy(s->p, cfg->params, sizeof s->p);
    s->prev_a = s->prev_b = NAN;
    const double *p = cfg->params;
    switch (cfg->kind) {
    case STRATEGY_SMA_CROSS:
        return ind_sma_init(&s->u.sma.fast, (int)p[STRAT_CROSS_FAST]) < 0 ||
                       ind_sma_init(&s->u.sma.slow, (int)p[STRAT_CROSS_SLOW]) < 0
                   ? -1
                   : 0;
    case STRATEGY_EMA_CROSS:
        return ind_ema_init(&s->u.ema.fast, (int)p[STRAT_CROSS_FAST]) < 0 ||
                       ind_ema_init(&s->u.ema.slow, (int)p[STRAT_CROSS_SLOW]) < 0
                   ? -1
                   : 0;
    case STRATEGY_RSI_REVERSION:
        return ind_rsi_init(&s->u.rsi, (int)p[STRAT_RSI_PERIOD]);
    case STRATEGY_BOLLINGER_BREAKOUT:
        return ind_bbands_init(&s->u.bb, (int)p[STRAT_BB_PERIOD], p[STRAT_BB_K]);
    case STRATEGY_MACD_TREND:
        return ind_macd_init(&s->u.macd, (int)p[STRAT_MACD_FAST], (int)p[STRAT_MACD_SLOW],
                             (int)p[STRAT_MACD_SIGNAL]);
    case STRATEGY_GRID:
    case STRATEGY_DCA:
        return 0;
    case STRATEGY_ML_SIGNAL:
        s->u.ext.value = NAN;
        return 0;
    default:
        return -1;
    }
}

/* A ring position and fill count that index inside a ring of `period`, for that period. */
static int sig_ring_ok(int period, int want_period, int count, int pos)
{
    return period == want_period && count >= 0 && count <= period && pos >= 0 && pos < period;
}

static int sig_sma_ok(const ind_sma *m, int want_period)
{
    int cadence = want_period > IND_SMA_RESYNC ? want_period : IND_SMA_RESYNC;
    return sig_ring_ok(m->period, want_period, m->count, m->pos) && m->resync_in >= 1 && m->resync_in <= cadence;
}

int sig_valid(const sig_state *s, const engine_config *cfg)
{
    if (s->kind != cfg->kind || s->candles < 0 || memcmp(s->p, cfg->params, sizeof s->p) != 0)
        return 0;
    const double *p = cfg->params;
    switch (cfg->kind) {
    case STRATEGY_SMA_CROSS:
        return sig_sma_ok(&s->u.sma.fast, (int)p[STRAT_CROSS_FAST]) &&
               sig_sma_ok(&s->u.sma.slow, (int)p[STRAT_CROSS_SLOW]);
    case STRATEGY_BOLLINGER_BREAKOUT:
        return sig_ring_ok(s->u.bb.period, (int)p[STRAT_BB_PERIOD], s->u.bb.count, s->u.bb.pos) &&
               s->u.bb.since_resync >= 0 && s->u.bb.since_resync < s->u.bb.period;
    case STRATEGY_RSI_REVERSION:
        return s->u.rsi.period == (int)p[STRAT_RSI_PERIOD];
    case STRATEGY_MACD_TREND:
        return s->u.macd.slow_period == (int)p[STRAT_MACD_SLOW];
    default:
        return 1; /* EMAs, grid and dca keep no ring */
    }
}

int sig_update(sig_state *s, const candle *c)
{
    return sig_update_kind(s, c, s->kind);
}
