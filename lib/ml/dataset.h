/* dataset.h — what the models learn from besides the features: direction labels at a horizon,
 * the train/validation/test split by time with gaps, and standardisation fitted on training rows. */
#ifndef BCF_ML_DATASET_H
#define BCF_ML_DATASET_H
#include "candles.h"
#include "features.h"
#include <stddef.h>

#define ML_LABEL_UNKNOWN (-1)
#define ML_MAX_HORIZON 1000

/* y[t] = 1 when close[t+h] > close[t], else 0; ML_LABEL_UNKNOWN for t + h >= n (the future is not
 * there yet). horizon must be >= 1. */
void ml_labels(const candle *c, size_t n, int horizon, signed char *y);

/*
 * Row t is candle t. Usable rows are [first, n - horizon): first is the feature warm-up plus the
 * model's own context (a GRU reads L rows), and later rows have no label yet. The usable rows
 * are cut in time order into train, validation and test, with `horizon` rows left out between
 * two sets: the label of the last training row reads close[train_hi - 1 + horizon], which is
 * candle val_lo - 1, so no label of an earlier set looks at a candle of a later set.
 */
typedef struct ml_split {
    size_t first;             /* first usable row */
    size_t train_lo, train_hi; /* [lo, hi) rows */
    size_t val_lo, val_hi;
    size_t test_lo, test_hi;
    int horizon; /* the gap between two sets, in rows */
} ml_split;

/* Train gets floor(usable × train_frac) rows, validation floor(usable × val_frac), test the rest
 * after the two gaps. Returns 0, or -1 when a fraction is out of range (each in (0, 1), their sum
 * < 1) or any set would be empty. */
int ml_split_make(size_t n, size_t first, int horizon, double train_frac, double val_frac, ml_split *out);

/* Per-feature mean and population standard deviation (1 when a feature is constant). */
typedef struct ml_scaler {
    double mean[ML_N_FEATURES];
    double std[ML_N_FEATURES];
} ml_scaler;

/* Fits on rows [lo, hi) of X only: the training rows, so nothing later leaks into the scale. */
void ml_scaler_fit(ml_scaler *s, const double *X, size_t lo, size_t hi);
/* (x - mean) / std, in place, for rows [lo, hi) of X. */
void ml_scaler_apply(const ml_scaler *s, double *X, size_t lo, size_t hi);

#endif
