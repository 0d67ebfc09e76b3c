/* mlmath.h — the two scalar functions every model shares: the logistic sigmoid and the log-loss
 * of a logit, written once so logistic regression, the GRU and a CUDA port round alike. */
#ifndef BCF_ML_MLMATH_H
#define BCF_ML_MLMATH_H
#include <math.h>

static inline double ml_sigmoid(double s)
{
    return 1.0 / (1.0 + exp(-s));
}

/* -[y ln σ(s) + (1-y) ln(1-σ(s))] computed from the logit, so it stays finite when σ(s) rounds
 * to 0 or 1: max(s, 0) - y·s + ln(1 + e^-|s|). */
static inline double ml_logit_loss(double s, int y)
{
    double pos = s > 0 ? s : 0.0;
    return pos - (y ? s : 0.0) + log1p(exp(-fabs(s)));
}
#endif
