/* mlmath.h — the two scalar functions every model shares: the logistic sigmoid and the log-loss
 * of a logit, written once so logistic regression, the GRU and the CUDA trainer round alike. */
#ifndef BCF_ML_MLMATH_H
#define BCF_ML_MLMATH_H
#include <math.h>

/* The per-row kernels (these, logreg_kernel.h, gru_kernel.h, row_reduce.h) are compiled by the C
 * compiler for lib/ml and by nvcc for worker/cuda/train.cu from this one source, so the GPU runs
 * the CPU's operations in the CPU's order (no FMA on either side: -ffp-contract=off, --fmad=false). */
#ifdef __CUDACC__
#define ML_KERNEL static __host__ __device__ inline
#define ML_RESTRICT __restrict__
#else
#define ML_KERNEL static inline
#define ML_RESTRICT restrict
#endif

ML_KERNEL double ml_sigmoid(double s)
{
    return 1.0 / (1.0 + exp(-s));
}

/* -[y ln σ(s) + (1-y) ln(1-σ(s))] computed from the logit, so it stays finite when σ(s) rounds
 * to 0 or 1: max(s, 0) - y·s + ln(1 + e^-|s|). */
ML_KERNEL double ml_logit_loss(double s, int y)
{
    double pos = s > 0 ? s : 0.0;
    return pos - (y ? s : 0.0) + log1p(exp(-fabs(s)));
}
#endif
