/* metrics.h — how good a direction forecast is: accuracy, ROC AUC, log-loss, and the naive
 * baseline (always the training base rate) measured on the same rows. */
#ifndef BCF_ML_METRICS_H
#define BCF_ML_METRICS_H
#include <stddef.h>

/* Probabilities are clipped to [ML_PROB_EPS, 1 - ML_PROB_EPS] inside the log-loss. */
#define ML_PROB_EPS 1e-15

typedef struct ml_metrics {
    size_t n;             /* rows measured */
    double accuracy;      /* share of rows where (p >= 0.5) equals the label */
    double auc;           /* ROC AUC; NAN when all labels are equal (or n = 0) */
    double logloss;       /* mean clipped log-loss; NAN when n = 0 */
    double positive_rate; /* share of label 1 */
} ml_metrics;

/* Mean log-loss of p[i] against y[i] (0/1), i in 0..n-1, summed in index order. */
double ml_logloss(const double *p, const signed char *y, size_t n);
double ml_accuracy(const double *p, const signed char *y, size_t n);
/* Mann-Whitney: P(p of a random positive > p of a random negative), ties counted half (tied
 * scores share their average rank). Returns NAN without both classes, or when out of memory. */
double ml_auc(const double *p, const signed char *y, size_t n);
void ml_metrics_compute(const double *p, const signed char *y, size_t n, ml_metrics *out);
/* The naive baseline: every row gets probability base_rate (so it predicts the training
 * majority class, and its AUC is 0.5), measured through the same functions. */
void ml_metrics_baseline(double base_rate, const signed char *y, size_t n, ml_metrics *out);
#endif
