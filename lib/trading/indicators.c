/* indicators.c — streaming technical indicators (no allocation, no I/O, no globals); the batch
 * functions only drive the streaming states, so both forms share every line of the math. */
#include "indicators.h"
#include "indicators_inline.h"
#include <math.h>
#include <string.h>

static int ind_period_ok(int period, int min)
{
    return period >= min && period <= IND_MAX_PERIOD;
}

/* True range; the first candle has no previous close, so its range is high - low (as Tulip). */
static double ind_true_range(double high, double low, double prev_close, int has_prev)
{
    double v = high - low;
    if (!has_prev)
        return v;
    double ych = fabs(high - prev_close), ycl = fabs(low - prev_close);
    if (ych > v)
        v = ych;
    if (ycl > v)
        v = ycl;
    return v;
}

/* ---- SMA ---- */

int ind_sma_init(ind_sma *s, int period)
{
    if (!s || !ind_period_ok(period, 1))
        return -1;
    memset(s, 0, sizeof *s);
    s->period = period;
    s->resync_in = period > IND_SMA_RESYNC ? period : IND_SMA_RESYNC;
    s->scale = 1.0 / period;
    return 0;
}

int ind_sma_update(ind_sma *s, double value, double *out)
{
    return ind_sma_step(s, value, out);
}

void ind_sma_resync(ind_sma *s)
{
    double sum = 0;
    for (int i = 0; i < s->period; i++)
        sum += s->ring[i];
    s->sum = sum;
    s->resync_in = s->period > IND_SMA_RESYNC ? s->period : IND_SMA_RESYNC;
}

int ind_sma_batch(const double *in, size_t n, int period, double *out)
{
    ind_sma s;
    if (ind_sma_init(&s, period) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        ind_sma_update(&s, in[i], &out[i]);
    return 0;
}

/* ---- EMA ---- */

int ind_ema_init(ind_ema *s, int period)
{
    if (!s || !ind_period_ok(period, 1))
        return -1;
    memset(s, 0, sizeof *s);
    s->alpha = 2.0 / ((double)period + 1.0);
    return 0;
}

int ind_ema_update(ind_ema *s, double value, double *out)
{
    if (!s->seeded) {
        s->value = value;
        s->seeded = 1;
    } else {
        s->value = (value - s->value) * s->alpha + s->value;
    }
    *out = s->value;
    return 1;
}

int ind_ema_batch(const double *in, size_t n, int period, double *out)
{
    ind_ema s;
    if (ind_ema_init(&s, period) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        ind_ema_update(&s, in[i], &out[i]);
    return 0;
}

/* ---- WMA ---- */

int ind_wma_init(ind_wma *s, int period)
{
    if (!s || !ind_period_ok(period, 1))
        return -1;
    memset(s, 0, sizeof *s);
    s->period = period;
    return 0;
}

int ind_wma_update(ind_wma *s, double value, double *out)
{
    int p = s->period;
    if (s->count < p) {
        s->ring[s->count++] = value;
        s->weighted += value * s->count;
        s->sum += value;
    } else {
        /* Sliding one step lowers every old weight by one: subtract the old window's sum. */
        s->weighted += value * p - s->sum;
        s->sum += value - s->ring[s->pos];
        s->ring[s->pos] = value;
        if (++s->pos == p)
            s->pos = 0;
        if (++s->since_resync >= p) {
            double sum = 0, weighted = 0;
            for (int i = 0; i < p; i++) {
                double v = s->ring[(s->pos + i) % p];
                sum += v;
                weighted += v * (i + 1);
            }
            s->sum = sum;
            s->weighted = weighted;
            s->since_resync = 0;
        }
    }
    if (s->count < p) {
        *out = NAN;
        return 0;
    }
    *out = s->weighted / ((double)p * (p + 1) / 2.0);
    return 1;
}

int ind_wma_batch(const double *in, size_t n, int period, double *out)
{
    ind_wma s;
    if (ind_wma_init(&s, period) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        ind_wma_update(&s, in[i], &out[i]);
    return 0;
}

/* ---- RSI ---- */

int ind_rsi_init(ind_rsi *s, int period)
{
    if (!s || !ind_period_ok(period, 1))
        return -1;
    memset(s, 0, sizeof *s);
    s->period = period;
    return 0;
}

int ind_rsi_update(ind_rsi *s, double value, double *out)
{
    int i = s->count++;
    *out = NAN;
    if (i == 0) {
        s->prev = value;
        return 0;
    }
    double up = value > s->prev ? value - s->prev : 0;
    double down = value < s->prev ? s->prev - value : 0;
    s->prev = value;
    if (i < s->period) {
        s->up += up;
        s->down += down;
        return 0;
    }
    if (i == s->period) {
        s->up = (s->up + up) / s->period;
        s->down = (s->down + down) / s->period;
    } else {
        s->up = (up - s->up) * (1.0 / s->period) + s->up;
        s->down = (down - s->down) * (1.0 / s->period) + s->down;
    }
    s->count = s->period + 1; /* saturate: the counter only tells warm-up from steady state */
    /* A window without any movement has no direction: 50, where Tulip would divide 0 by 0. */
    *out = s->up + s->down > 0 ? 100.0 * (s->up / (s->up + s->down)) : 50.0;
    return 1;
}

int ind_rsi_batch(const double *in, size_t n, int period, double *out)
{
    ind_rsi s;
    if (ind_rsi_init(&s, period) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        ind_rsi_update(&s, in[i], &out[i]);
    return 0;
}

/* ---- MACD ---- */

int ind_macd_init(ind_macd *s, int fast, int slow, int signal)
{
    if (!s || !ind_period_ok(fast, 1) || !ind_period_ok(slow, 2) || !ind_period_ok(signal, 1) || fast >= slow)
        return -1;
    memset(s, 0, sizeof *s);
    ind_ema_init(&s->fast, fast);
    ind_ema_init(&s->slow, slow);
    ind_ema_init(&s->signal, signal);
    s->slow_period = slow;
    return 0;
}

int ind_macd_update(ind_macd *s, double value, double *macd, double *signal, double *hist)
{
    double f, sl;
    ind_ema_update(&s->fast, value, &f);
    ind_ema_update(&s->slow, value, &sl);
    if (s->count < s->slow_period)
        s->count++;
    if (s->count < s->slow_period) {
        *macd = *signal = *hist = NAN;
        return 0;
    }
    /* The signal EMA starts at the first MACD value the slow EMA is trusted for (index slow-1). */
    double m = f - sl, sig;
    ind_ema_update(&s->signal, m, &sig);
    *macd = m;
    *signal = sig;
    *hist = m - sig;
    return 1;
}

int ind_macd_batch(const double *in, size_t n, int fast, int slow, int signal, double *macd,
                   double *sig, double *hist)
{
    ind_macd s;
    if (ind_macd_init(&s, fast, slow, signal) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        ind_macd_update(&s, in[i], &macd[i], &sig[i], &hist[i]);
    return 0;
}

/* ---- Bollinger Bands ---- */

int ind_bbands_init(ind_bbands *s, int period, double k)
{
    if (!s || !ind_period_ok(period, 1) || !isfinite(k) || k < 0)
        return -1;
    memset(s, 0, sizeof *s);
    s->period = period;
    s->k = k;
    return 0;
}

int ind_bbands_update(ind_bbands *s, double value, double *lower, double *middle, double *upper)
{
    int p = s->period;
    if (s->count < p) {
        /* Welford: mean and sum of squared deviations without the sum-of-squares cancellation. */
        s->ring[s->count++] = value;
        double delta = value - s->mean;
        s->mean += delta / s->count;
        s->m2 += delta * (value - s->mean);
    } else {
        double old = s->ring[s->pos];
        double mean = s->mean + (value - old) / p;
        s->m2 += (value - old) * (value - mean + old - s->mean);
        s->mean = mean;
        s->ring[s->pos] = value;
        if (++s->pos == p)
            s->pos = 0;
        if (++s->since_resync >= p) {
            double sum = 0, m2 = 0;
            for (int i = 0; i < p; i++)
                sum += s->ring[i];
            mean = sum / p;
            for (int i = 0; i < p; i++)
                m2 += (s->ring[i] - mean) * (s->ring[i] - mean);
            s->mean = mean;
            s->m2 = m2;
            s->since_resync = 0;
        }
    }
    if (s->count < p) {
        *lower = *middle = *upper = NAN;
        return 0;
    }
    double var = s->m2 / p;
    double sd = var > 0 ? sqrt(var) : 0; /* rounding can leave a flat window at -1e-17 */
    *middle = s->mean;
    *lower = s->mean - s->k * sd;
    *upper = s->mean + s->k * sd;
    return 1;
}

int ind_bbands_batch(const double *in, size_t n, int period, double k, double *lower, double *middle,
                     double *upper)
{
    ind_bbands s;
    if (ind_bbands_init(&s, period, k) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        ind_bbands_update(&s, in[i], &lower[i], &middle[i], &upper[i]);
    return 0;
}

/* ---- ATR ---- */

int ind_atr_init(ind_atr *s, int period)
{
    if (!s || !ind_period_ok(period, 1))
        return -1;
    memset(s, 0, sizeof *s);
    s->period = period;
    return 0;
}

int ind_atr_update(ind_atr *s, double high, double low, double close, double *out)
{
    double tr = ind_true_range(high, low, s->prev_close, s->count > 0);
    s->prev_close = close;
    if (s->count < s->period) {
        s->sum += tr;
        if (++s->count < s->period) {
            *out = NAN;
            return 0;
        }
        s->value = s->sum / s->period;
    } else {
        s->value = (tr - s->value) * (1.0 / s->period) + s->value;
    }
    *out = s->value;
    return 1;
}

int ind_atr_batch(const double *high, const double *low, const double *close, size_t n, int period,
                  double *out)
{
    ind_atr s;
    if (ind_atr_init(&s, period) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        ind_atr_update(&s, high[i], low[i], close[i], &out[i]);
    return 0;
}

/* ---- Stochastic ---- */

static void ind_minmax_init(ind_minmax *m, int period)
{
    memset(m, 0, sizeof *m);
    m->period = period;
}

/* Pushes value; *max and *min become the extremes of the last `period` values. Each deque keeps
 * only candidates that can still become the extreme, newest at the back, so every value enters
 * and leaves once. */
static void ind_minmax_push(ind_minmax *m, double value, double *max, double *min)
{
    int p = m->period;
    long long now = m->seen++;
    if (m->len_max && m->idx_max[m->head_max] <= now - p) {
        m->head_max = (m->head_max + 1) % p;
        m->len_max--;
    }
    while (m->len_max && m->val_max[(m->head_max + m->len_max - 1) % p] <= value)
        m->len_max--;
    int at = (m->head_max + m->len_max++) % p;
    m->idx_max[at] = now;
    m->val_max[at] = value;

    if (m->len_min && m->idx_min[m->head_min] <= now - p) {
        m->head_min = (m->head_min + 1) % p;
        m->len_min--;
    }
    while (m->len_min && m->val_min[(m->head_min + m->len_min - 1) % p] >= value)
        m->len_min--;
    at = (m->head_min + m->len_min++) % p;
    m->idx_min[at] = now;
    m->val_min[at] = value;

    *max = m->val_max[m->head_max];
    *min = m->val_min[m->head_min];
}

int ind_stoch_init(ind_stoch *s, int k_period, int k_slow, int d_period)
{
    if (!s || !ind_period_ok(k_period, 1) || !ind_period_ok(k_slow, 1) || !ind_period_ok(d_period, 1))
        return -1;
    memset(s, 0, sizeof *s);
    ind_minmax_init(&s->hi, k_period);
    ind_minmax_init(&s->lo, k_period);
    ind_sma_init(&s->k_sma, k_slow);
    ind_sma_init(&s->d_sma, d_period);
    s->k_period = k_period;
    return 0;
}

int ind_stoch_update(ind_stoch *s, double high, double low, double close, double *k, double *d)
{
    double hh, ll, unused;
    ind_minmax_push(&s->hi, high, &hh, &unused);
    ind_minmax_push(&s->lo, low, &unused, &ll);
    *k = *d = NAN;
    if (s->count < s->k_period)
        s->count++;
    if (s->count < s->k_period)
        return 0;
    double range = hh - ll;
    double fast = range == 0.0 ? 0.0 : 100.0 * ((close - ll) / range);
    double slow_k;
    if (!ind_sma_update(&s->k_sma, fast, &slow_k))
        return 0;
    double slow_d;
    if (!ind_sma_update(&s->d_sma, slow_k, &slow_d))
        return 0;
    *k = slow_k;
    *d = slow_d;
    return 1;
}

int ind_stoch_batch(const double *high, const double *low, const double *close, size_t n, int k_period,
                    int k_slow, int d_period, double *k, double *d)
{
    /* ~25 KiB of rings: static storage would break reentrancy, so it stays on the stack. */
    ind_stoch s;
    if (ind_stoch_init(&s, k_period, k_slow, d_period) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        ind_stoch_update(&s, high[i], low[i], close[i], &k[i], &d[i]);
    return 0;
}

/* ---- ADX / DI ---- */

int ind_adx_init(ind_adx *s, int period)
{
    if (!s || !ind_period_ok(period, 2))
        return -1;
    memset(s, 0, sizeof *s);
    s->period = period;
    return 0;
}

int ind_adx_update(ind_adx *s, double high, double low, double close, double *adx, double *plus_di,
                   double *minus_di)
{
    int p = s->period, i = s->count;
    *adx = *plus_di = *minus_di = NAN;
    if (i == 0) {
        s->prev_high = high;
        s->prev_low = low;
        s->prev_close = close;
        s->count = 1;
        return 0;
    }
    double tr = ind_true_range(high, low, s->prev_close, 1);
    /* Directional movement: only the larger of the two moves counts, and only if positive. */
    double dp = high - s->prev_high, dm = s->prev_low - low;
    if (dp < 0)
        dp = 0;
    else if (dp > dm)
        dm = 0;
    if (dm < 0)
        dm = 0;
    else if (dm > dp)
        dp = 0;
    s->prev_high = high;
    s->prev_low = low;
    s->prev_close = close;
    if (i < p) {
        s->tr += tr;
        s->dm_up += dp;
        s->dm_down += dm;
    } else {
        double per = ((double)p - 1) / (double)p;
        s->tr = s->tr * per + tr;
        s->dm_up = s->dm_up * per + dp;
        s->dm_down = s->dm_down * per + dm;
    }
    if (i < p - 1) {
        s->count++;
        return 0;
    }
    /* A range of zero over the whole window has no direction: DI and DX are 0, not 0/0. */
    double di_up = s->tr > 0 ? s->dm_up / s->tr : 0;
    double di_down = s->tr > 0 ? s->dm_down / s->tr : 0;
    *plus_di = 100.0 * di_up;
    *minus_di = 100.0 * di_down;
    double dsum = di_up + di_down;
    double dx = dsum > 0 ? fabs(di_up - di_down) / dsum * 100 : 0;
    /* s->adx holds Wilder's running sum: first the sum of `period` DX values, then sum*(p-1)/p+DX. */
    int ready = 0;
    if (i <= 2 * (p - 1)) {
        s->adx += dx;
        ready = i == 2 * (p - 1);
        s->count++;
    } else {
        s->adx = s->adx * (((double)p - 1) / (double)p) + dx;
        ready = 1;
    }
    if (!ready)
        return 0;
    *adx = s->adx * (1.0 / p);
    return 1;
}

int ind_adx_batch(const double *high, const double *low, const double *close, size_t n, int period,
                  double *adx, double *plus_di, double *minus_di)
{
    ind_adx s;
    if (ind_adx_init(&s, period) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        ind_adx_update(&s, high[i], low[i], close[i], &adx[i], &plus_di[i], &minus_di[i]);
    return 0;
}

/* ---- OBV ---- */

int ind_obv_init(ind_obv *s)
{
    if (!s)
        return -1;
    memset(s, 0, sizeof *s);
    return 0;
}

int ind_obv_update(ind_obv *s, double close, double volume, double *out)
{
    if (s->seeded) {
        if (close > s->prev_close)
            s->value += volume;
        else if (close < s->prev_close)
            s->value -= volume;
    }
    s->seeded = 1;
    s->prev_close = close;
    *out = s->value;
    return 1;
}

int ind_obv_batch(const double *close, const double *volume, size_t n, double *out)
{
    ind_obv s;
    ind_obv_init(&s);
    for (size_t i = 0; i < n; i++)
        ind_obv_update(&s, close[i], volume[i], &out[i]);
    return 0;
}

/* ---- VWAP ---- */

int ind_vwap_init(ind_vwap *s)
{
    if (!s)
        return -1;
    memset(s, 0, sizeof *s);
    return 0;
}

int ind_vwap_update(ind_vwap *s, double high, double low, double close, double volume, double *out)
{
    s->pv += (high + low + close) / 3.0 * volume;
    s->volume += volume;
    if (!(s->volume > 0)) {
        *out = NAN;
        return 0;
    }
    *out = s->pv / s->volume;
    return 1;
}

int ind_vwap_batch(const double *high, const double *low, const double *close, const double *volume,
                   size_t n, double *out)
{
    ind_vwap s;
    ind_vwap_init(&s);
    for (size_t i = 0; i < n; i++)
        ind_vwap_update(&s, high[i], low[i], close[i], volume[i], &out[i]);
    return 0;
}
