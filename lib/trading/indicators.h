/* indicators.h — technical indicators (SMA, EMA, WMA, RSI, MACD, Bollinger, ATR, Stochastic, ADX,
 * OBV, VWAP), each as an O(1) streaming state and a batch function built on that same state. */
#ifndef BCF_TRADING_INDICATORS_H
#define BCF_TRADING_INDICATORS_H
#include <stddef.h>

/*
 * Prices here are doubles. Money in the ledger is integer minor units, but indicator math is
 * statistics over prices (averages, ratios, square roots), so it is floating point on purpose;
 * nothing computed here is ever booked as an amount.
 *
 * Conventions shared by every indicator:
 *  - ind_X_init(state, params...) returns 0, or -1 for invalid parameters. Every period must be
 *    in 1..IND_MAX_PERIOD (ADX: 2..IND_MAX_PERIOD). The ring buffers live inside the state, so a
 *    state is a plain value (stack, struct member, array) and updates never allocate.
 *  - ind_X_update(state, values..., outputs...) returns 1 when the outputs are valid, 0 during the
 *    warm-up (outputs are then NAN). Cost is O(1) per update; SMA, WMA and Bollinger recompute
 *    their running sums from the ring once per `period` updates (amortised O(1)) so rounding
 *    error cannot accumulate over millions of candles.
 *  - ind_X_batch(inputs..., n, params..., outputs...) fills outputs[0..n) by running the
 *    streaming state over the inputs, so batch and streaming share one code path. Positions in
 *    the warm-up are NAN. Returns 0, or -1 for invalid parameters (outputs untouched).
 *  - The conventions follow Tulip Indicators (see docs/trading.md, "Indicators"), except where
 *    that document says otherwise (MACD 12/26 factors, zero-range guards, VWAP).
 *  - Inputs are not validated per update: a NAN in gives NAN out until it leaves the window
 *    (forever, for the recursive ones).
 */

#define IND_MAX_PERIOD 512

/* Simple moving average over `period` values: sum × (1/period), as Tulip computes it. The
 * running sum is recomputed from the ring once every max(period, 1024) updates, often enough to
 * bound the drift to a few ulps and rarely enough to cost well under one add per update. */
typedef struct ind_sma {
    int period, count, pos, resync_in; /* resync_in: updates left before the next resync */
    double sum, scale;
    double ring[IND_MAX_PERIOD];
} ind_sma;
int ind_sma_init(ind_sma *s, int period);
int ind_sma_update(ind_sma *s, double value, double *out);
int ind_sma_batch(const double *in, size_t n, int period, double *out);

/* Exponential moving average, alpha = 2/(period+1), seeded with the first value (ready at once). */
typedef struct ind_ema {
    double alpha, value;
    int seeded;
} ind_ema;
int ind_ema_init(ind_ema *s, int period);
int ind_ema_update(ind_ema *s, double value, double *out);
int ind_ema_batch(const double *in, size_t n, int period, double *out);

/* Linearly weighted moving average: newest value weight `period`, oldest weight 1. */
typedef struct ind_wma {
    int period, count, pos, since_resync;
    double sum, weighted;
    double ring[IND_MAX_PERIOD];
} ind_wma;
int ind_wma_init(ind_wma *s, int period);
int ind_wma_update(ind_wma *s, double value, double *out);
int ind_wma_batch(const double *in, size_t n, int period, double *out);

/* Relative strength index with Wilder smoothing; the first value needs period+1 inputs. */
typedef struct ind_rsi {
    int period, count;
    double prev, up, down;
} ind_rsi;
int ind_rsi_init(ind_rsi *s, int period);
int ind_rsi_update(ind_rsi *s, double value, double *out);
int ind_rsi_batch(const double *in, size_t n, int period, double *out);

/* MACD: fast EMA - slow EMA (both seeded with the first value), signal = EMA of MACD seeded with
 * the first MACD value at index slow-1, histogram = MACD - signal. Requires fast < slow. */
typedef struct ind_macd {
    ind_ema fast, slow, signal;
    int slow_period, count;
} ind_macd;
int ind_macd_init(ind_macd *s, int fast, int slow, int signal);
int ind_macd_update(ind_macd *s, double value, double *macd, double *signal, double *hist);
int ind_macd_batch(const double *in, size_t n, int fast, int slow, int signal, double *macd,
                   double *sig, double *hist);

/* Bollinger Bands: middle = SMA(period), upper/lower = middle ± k × population stddev. */
typedef struct ind_bbands {
    int period, count, pos, since_resync;
    double k, mean, m2;
    double ring[IND_MAX_PERIOD];
} ind_bbands;
int ind_bbands_init(ind_bbands *s, int period, double k);
int ind_bbands_update(ind_bbands *s, double value, double *lower, double *middle, double *upper);
int ind_bbands_batch(const double *in, size_t n, int period, double k, double *lower, double *middle,
                     double *upper);

/* Average true range: mean of the first `period` true ranges, then Wilder smoothing. */
typedef struct ind_atr {
    int period, count;
    double prev_close, sum, value;
} ind_atr;
int ind_atr_init(ind_atr *s, int period);
int ind_atr_update(ind_atr *s, double high, double low, double close, double *out);
int ind_atr_batch(const double *high, const double *low, const double *close, size_t n, int period,
                  double *out);

/* Rolling maximum and minimum of the last `period` values (monotonic deques, amortised O(1)). */
typedef struct ind_minmax {
    int period, head_max, len_max, head_min, len_min;
    long long seen;
    long long idx_max[IND_MAX_PERIOD], idx_min[IND_MAX_PERIOD];
    double val_max[IND_MAX_PERIOD], val_min[IND_MAX_PERIOD];
} ind_minmax;

/* Stochastic oscillator: fast %K over k_period (0 when the range is flat), %K = SMA(k_slow) of
 * fast %K, %D = SMA(d_period) of %K. Ready (both outputs) after k_period+k_slow+d_period-2 inputs. */
typedef struct ind_stoch {
    ind_minmax hi, lo;
    ind_sma k_sma, d_sma;
    int k_period;
    long long count;
} ind_stoch;
int ind_stoch_init(ind_stoch *s, int k_period, int k_slow, int d_period);
int ind_stoch_update(ind_stoch *s, double high, double low, double close, double *k, double *d);
int ind_stoch_batch(const double *high, const double *low, const double *close, size_t n, int k_period,
                    int k_slow, int d_period, double *k, double *d);

/* ADX with +DI/-DI (Wilder). +DI/-DI are written from input index period-1 on (NAN before);
 * ADX from index 2×(period-1) on, and update() returns 1 only once ADX is ready. */
typedef struct ind_adx {
    int period, count;
    double prev_high, prev_low, prev_close;
    double tr, dm_up, dm_down, adx;
} ind_adx;
int ind_adx_init(ind_adx *s, int period);
int ind_adx_update(ind_adx *s, double high, double low, double close, double *adx, double *plus_di,
                   double *minus_di);
int ind_adx_batch(const double *high, const double *low, const double *close, size_t n, int period,
                  double *adx, double *plus_di, double *minus_di);

/* On-balance volume, 0 at the first candle. */
typedef struct ind_obv {
    int seeded;
    double prev_close, value;
} ind_obv;
int ind_obv_init(ind_obv *s);
int ind_obv_update(ind_obv *s, double close, double volume, double *out);
int ind_obv_batch(const double *close, const double *volume, size_t n, double *out);

/* VWAP cumulative over the whole series: Σ(typical price × volume) / Σ volume, typical price
 * (high+low+close)/3. Not ready (NAN) while the cumulative volume is still zero. */
typedef struct ind_vwap {
    double pv, volume;
} ind_vwap;
int ind_vwap_init(ind_vwap *s);
int ind_vwap_update(ind_vwap *s, double high, double low, double close, double volume, double *out);
int ind_vwap_batch(const double *high, const double *low, const double *close, const double *volume,
                   size_t n, double *out);

#endif
