/* metrics.c — accuracy, rank-based AUC with ties and clipped log-loss, each summed in row order
 * so the numbers stored with a model are reproducible. */
#include "metrics.h"
#include <math.h>
#include <stdlib.h>

double ml_logloss(const double *p, const signed char *y, size_t n)
{
    if (n == 0)
        return NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double q = p[i] < ML_PROB_EPS ? ML_PROB_EPS : p[i] > 1 - ML_PROB_EPS ? 1 - ML_PROB_EPS : p[i];
        sum -= y[i] ? log(q) : log1p(-q);
    }
    return sum / (double)n;
}

double ml_accuracy(const double *p, const signed char *y, size_t n)
{
    if (n == 0)
        return NAN;
    size_t hit = 0;
    for (size_t i = 0; i < n; i++)
        hit += (p[i] >= 0.5) == (y[i] != 0);
    return (double)hit / (double)n;
}

typedef struct scored {
    double p;
    int y;
} scored;

static int scored_cmp(const void *a, const void *b)
{
    double x = ((const scored *)a)->p, z = ((const scored *)b)->p;
    return (x > z) - (x < z);
}

double ml_auc(const double *p, const signed char *y, size_t n)
{
    size_t npos = 0;
    for (size_t i = 0; i < n; i++)
        npos += y[i] != 0;
    size_t nneg = n - npos;
    if (npos == 0 || nneg == 0)
        return NAN;
    scored *s = malloc(n * sizeof *s);
    if (!s)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        s[i].p = p[i];
        s[i].y = y[i] != 0;
    }
    qsort(s, n, sizeof *s, scored_cmp);
    double rank_sum = 0; /* sum of the positives' 1-based ranks, ties at their average rank */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        size_t pos = 0;
        while (j < n && s[j].p == s[i].p)
            pos += (size_t)s[j++].y;
        double avg_rank = ((double)(i + 1) + (double)j) / 2.0;
        rank_sum += avg_rank * (double)pos;
        i = j;
    }
    free(s);
    double u = rank_sum - (double)npos * ((double)npos + 1.0) / 2.0;
    return u / ((double)npos * (double)nneg);
}

void ml_metrics_compute(const double *p, const signed char *y, size_t n, ml_metrics *out)
{
    size_t npos = 0;
    for (size_t i = 0; i < n; i++)
        npos += y[i] != 0;
    out->n = n;
    out->accuracy = ml_accuracy(p, y, n);
    out->auc = ml_auc(p, y, n);
    out->logloss = ml_logloss(p, y, n);
    out->positive_rate = n ? (double)npos / (double)n : NAN;
}

void ml_metrics_baseline(double base_rate, const signed char *y, size_t n, ml_metrics *out)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        out->n = n;
        out->accuracy = out->auc = out->logloss = out->positive_rate = NAN;
        return;
    }
    for (size_t i = 0; i < n; i++)
        p[i] = base_rate;
    ml_metrics_compute(p, y, n, out);
    free(p);
}
