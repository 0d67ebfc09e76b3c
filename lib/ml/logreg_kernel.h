/* logreg_kernel.h — logistic regression's logit and row gradient, compiled for the CPU (logreg.c)
 * and the GPU (worker/cuda/train.cu) from this one source; logreg.h documents them. */
#ifndef BCF_ML_LOGREG_KERNEL_H
#define BCF_ML_LOGREG_KERNEL_H
#include "mlmath.h"
#include <stddef.h>

ML_KERNEL double logreg_kernel_logit(int F, const double *theta, const double *x)
{
    double s = theta[F];
    for (int j = 0; j < F; j++)
        s += theta[j] * x[j];
    return s;
}

ML_KERNEL double logreg_kernel_loss_grad(int F, const double *theta, const double *X, const signed char *y,
                                         const size_t *rows, size_t nrows, double *grad)
{
    double loss = 0;
    for (size_t k = 0; k < nrows; k++) {
        const double *x = X + rows[k] * (size_t)F;
        int label = y[rows[k]];
        double s = logreg_kernel_logit(F, theta, x);
        double g = ml_sigmoid(s) - label; /* d loss / d s */
        for (int j = 0; j < F; j++)
            grad[j] += g * x[j];
        grad[F] += g;
        loss += ml_logit_loss(s, label);
    }
    return loss;
}
#endif
