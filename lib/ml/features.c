/* features.c — feature set 1 from the streaming indicators of lib/trading: every row is built
 * by one state fed candle by candle, so a live bot and a training job see the same numbers. */
#include "features.h"
#include <math.h>
#include <string.h>

const char *const ml_feature_names[ML_N_FEATURES] = {
    "ret_1", "ret_3", "ret_12", "sma20_gap", "rsi14", "macd_hist",
    "bb_pctb", "bb_width", "atr14", "vol_z20", "range", "body",
};

void ml_feature_state_init(ml_feature_state *s)
{
    memset(s, 0, sizeof *s);
    ind_sma_init(&s->sma20, 20);
    ind_rsi_init(&s->rsi14, 14);
    ind_macd_init(&s->macd, 12, 26, 9);
    ind_bbands_init(&s->bb20, 20, 2.0);
    ind_bbands_init(&s->vol20, 20, 1.0);
    ind_atr_init(&s->atr14, 14);
}

/* a / b, or 0 when b is 0: a flat window (no range, no volume change) carries no signal */
static double ratio_or_zero(double a, double b)
{
    return b != 0 ? a / b : 0.0;
}

int ml_feature_state_update(ml_feature_state *s, const candle *c, double *row)
{
    double sma, rsi, macd, sig, hist, lo, mid, up, vlo, vmid, vup, atr;
    ind_sma_update(&s->sma20, c->close, &sma);
    ind_rsi_update(&s->rsi14, c->close, &rsi);
    ind_macd_update(&s->macd, c->close, &macd, &sig, &hist);
    ind_bbands_update(&s->bb20, c->close, &lo, &mid, &up);
    ind_bbands_update(&s->vol20, c->volume, &vlo, &vmid, &vup);
    ind_atr_update(&s->atr14, c->high, c->low, c->close, &atr);

    const int ring = (int)(sizeof s->closes / sizeof s->closes[0]);
    long long t = s->count++;
    s->closes[t % ring] = c->close;
    if (t < ML_FEATURE_WARMUP) {
        for (int j = 0; j < ML_N_FEATURES; j++)
            row[j] = NAN;
        return 0;
    }
    double close = c->close;
    row[MLF_RET_1] = log(close / s->closes[(t - 1) % ring]);
    row[MLF_RET_3] = log(close / s->closes[(t - 3) % ring]);
    row[MLF_RET_12] = log(close / s->closes[(t - 12) % ring]);
    row[MLF_SMA20_GAP] = close / sma - 1.0;
    row[MLF_RSI14] = rsi / 100.0 - 0.5;
    row[MLF_MACD_HIST] = hist / close;
    row[MLF_BB_PCTB] = up > lo ? (close - lo) / (up - lo) - 0.5 : 0.0;
    row[MLF_BB_WIDTH] = (up - lo) / mid;
    row[MLF_ATR14] = atr / close;
    row[MLF_VOL_Z20] = ratio_or_zero(c->volume - vmid, vup - vmid);
    row[MLF_RANGE] = (c->high - c->low) / close;
    row[MLF_BODY] = ratio_or_zero(close - c->open, c->high - c->low);
    return 1;
}

void ml_features_batch(const candle *c, size_t n, double *X)
{
    ml_feature_state s;
    ml_feature_state_init(&s);
    for (size_t t = 0; t < n; t++)
        ml_feature_state_update(&s, &c[t], X + t * ML_N_FEATURES);
}
