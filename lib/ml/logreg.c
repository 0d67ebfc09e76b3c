/* logreg.c — logistic regression's sizes and init; the logit and gradient are logreg_kernel.h's,
 * which the CUDA trainer compiles too (sums in index order, no FMA contraction). */
#include "logreg.h"
#include "logreg_kernel.h"
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
    return logreg_kernel_logit(F, theta, x);
}

double logreg_loss_grad(int F, const double *theta, const double *X, const signed char *y, const size_t *rows,
                        size_t nrows, double *grad)
{
    return logreg_kernel_loss_grad(F, theta, X, y, rows, nrows, grad);
}
