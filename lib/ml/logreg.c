/* logreg.c — logistic regression's forward pass and gradient; sums run in index order so a CUDA
 * port that keeps the order (and no FMA contraction) gets the same bits. */
#include "logreg.h"
#include "mlmath.h"
#include <string.h>

size_t logreg_n_params(int F)
{
    return (size_t)F + 1;
}

size_t logreg_n_decay(int F)
{
    return (size_t)F;
}

void logreg_init(int F, double *theta)
{
    memset(theta, 0, logreg_n_params(F) * sizeof *theta);
}

double logreg_logit(int F, const double *theta, const double *x)
{
    double s = theta[F];
    for (int j = 0; j < F; j++)
        s += theta[j] * x[j];
    return s;
}

double logreg_loss_grad(int F, const double *theta, const double *X, const signed char *y, const size_t *rows,
                        size_t nrows, double *grad)
{
    double loss = 0;
    for (size_t k = 0; k < nrows; k++) {
        const double *x = X + rows[k] * (size_t)F;
        int label = y[rows[k]];
        double s = logreg_logit(F, theta, x);
        double g = ml_sigmoid(s) - label; /* d loss / d s */
        for (int j = 0; j < F; j++)
            grad[j] += g * x[j];
        grad[F] += g;
        loss += ml_logit_loss(s, label);
    }
    return loss;
}
