/* features.h — the price-direction models' inputs: a fixed, versioned list of scale-free indicator
 * features computed causally from candles, as a streaming state and a batch built on that state. */
#ifndef BCF_ML_FEATURES_H
#define BCF_ML_FEATURES_H
#include "candles.h"
#include "indicators.h"
#include <stddef.h>

/*
 * Feature set 1 (docs/ml.md lists the formulas). Row t is computed from candles 0..t only. The
 * list never changes under this id: a new or reordered feature is a new ML_FEATURE_SET, and a
 * stored model names the set it was trained on.
 */
#define ML_FEATURE_SET 1
#define ML_N_FEATURES 12

/* Rows 0..ML_FEATURE_WARMUP-1 are warm-up (NAN). Every indicator is ready by row 25 (MACD
 * 12/26/9); the rest lets the seeded EMAs and Wilder averages forget their seed (weight < 2%). */
#define ML_FEATURE_WARMUP 50

enum ml_feature {
    MLF_RET_1,     /* ln(close_t / close_t-1) */
    MLF_RET_3,     /* ln(close_t / close_t-3) */
    MLF_RET_12,    /* ln(close_t / close_t-12) */
    MLF_SMA20_GAP, /* close / SMA(20) - 1 */
    MLF_RSI14,     /* RSI(14) / 100 - 0.5 */
    MLF_MACD_HIST, /* MACD(12,26,9) histogram / close */
    MLF_BB_PCTB,   /* Bollinger(20,2) %B - 0.5 */
    MLF_BB_WIDTH,  /* (upper - lower) / middle */
    MLF_ATR14,     /* ATR(14) / close */
    MLF_VOL_Z20,   /* (volume - mean20) / std20 of volume */
    MLF_RANGE,     /* (high - low) / close */
    MLF_BODY,      /* (close - open) / (high - low) */
};

/* The names, in column order ("ret_1", ...), as the model JSON lists them. */
extern const char *const ml_feature_names[ML_N_FEATURES];

/* One candle in, one feature row out. A plain value (no allocation); about 13 KB. */
typedef struct ml_feature_state {
    ind_sma sma20;
    ind_rsi rsi14;
    ind_macd macd;
    ind_bbands bb20;
    ind_bbands vol20; /* k = 1 over volume: middle = mean, upper - middle = std */
    ind_atr atr14;
    double closes[13]; /* ring of the last 13 closes, for the 1/3/12-candle returns */
    long long count;   /* candles seen */
} ml_feature_state;

void ml_feature_state_init(ml_feature_state *s);
/* Feeds candle c (the next one in time) and writes row[0..ML_N_FEATURES). Returns 1 when the row
 * is valid, 0 during the warm-up (the row is then all NAN). */
int ml_feature_state_update(ml_feature_state *s, const candle *c, double *row);

/* Row-major X[t * ML_N_FEATURES + j] for t in 0..n-1, by running one state over the candles, so
 * it equals the streaming rows bit for bit. Warm-up rows are NAN. */
void ml_features_batch(const candle *c, size_t n, double *X);

#endif
