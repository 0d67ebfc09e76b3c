/* dataset.c — labels, the time split with gaps and the training-rows-only standardisation; the
 * order of every sum is fixed so a model trained twice on the same candles is the same model. */
#include "dataset.h"
#include <math.h>

void ml_labels(const candle *c, size_t n, int horizon, signed char *y)
{
    size_t h = (size_t)horizon;
    for (size_t t = 0; t < n; t++)
        y[t] = t + h < n ? (signed char)(c[t + h].close > c[t].close) : ML_LABEL_UNKNOWN;
}

int ml_split_make(size_t n, size_t first, int horizon, double train_frac, double val_frac, ml_split *out)
{
    if (horizon < 1 || horizon > ML_MAX_HORIZON || !(train_frac > 0 && train_frac < 1) ||
        !(val_frac > 0 && val_frac < 1) || !(train_frac + val_frac < 1))
        return -1;
    size_t h = (size_t)horizon;
    if (n <= first + h)
        return -1;
    size_t usable = n - h - first;
    size_t ntrain = (size_t)floor((double)usable * train_frac);
    size_t nval = (size_t)floor((double)usable * val_frac);
    if (ntrain == 0 || nval == 0 || ntrain + nval + 2 * h >= usable)
        return -1;
    out->first = first;
    out->horizon = horizon;
    out->train_lo = first;
    out->train_hi = first + ntrain;
    out->val_lo = out->train_hi + h;
    out->val_hi = out->val_lo + nval;
    out->test_lo = out->val_hi + h;
    out->test_hi = n - h;
    return 0;
}

void ml_scaler_fit(ml_scaler *s, const double *X, size_t lo, size_t hi)
{
    const int F = ML_N_FEATURES;
    double count = (double)(hi - lo);
    for (int j = 0; j < F; j++) {
        double sum = 0;
        for (size_t t = lo; t < hi; t++)
            sum += X[t * F + j];
        double mean = count > 0 ? sum / count : 0;
        double ss = 0; /* two passes: no cancellation of sum-of-squares minus square-of-sum */
        for (size_t t = lo; t < hi; t++) {
            double d = X[t * F + j] - mean;
            ss += d * d;
        }
        double sd = count > 0 ? sqrt(ss / count) : 0;
        s->mean[j] = mean;
        s->std[j] = sd > 1e-12 ? sd : 1.0;
    }
}

void ml_scaler_apply(const ml_scaler *s, double *X, size_t lo, size_t hi)
{
    const int F = ML_N_FEATURES;
    for (size_t t = lo; t < hi; t++)
        for (int j = 0; j < F; j++)
            X[t * F + j] = (X[t * F + j] - s->mean[j]) / s->std[j];
}
