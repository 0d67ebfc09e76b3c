/* train.cu — the CUDA trainer behind cuda_api.h: one GPU thread per mini-batch row runs lib/ml's
 * row kernel, then one thread per parameter sums the rows in the CPU trainer's shard order. */
#include "ml/gru_kernel.h"
#include "ml/logreg_kernel.h"
#include "ml/row_reduce.h"
#include "plugin_errors.h"
#include <stdlib.h>

/*
 * What runs where: X and y stay in device memory for the whole training; a step uploads θ and
 * the batch's row indices, and downloads the summed gradient and the shard losses — Adam, the L2
 * term, clipping, the shuffles and the validation pass stay on the CPU (lib/ml/trainer.c).
 *
 * A row's gradient is computed on its own (the kernel called with rows = {that row}, into a
 * zeroed buffer) and the reduction adds the rows in the CPU's order (row_reduce.h), so logistic
 * regression differs from the CPU only where the device's exp/log1p round differently; the GRU
 * also sums each row's time steps before adding the row, where the CPU adds every step straight
 * into the shard's sum. The rows of a batch go through in pieces that fit PIECE_BYTES of scratch;
 * the reduction carries each column's open shard from one piece to the next.
 */

#define ROW_BLOCK 64       /* threads per block of the row kernel: a GRU row is one long serial chain */
#define REDUCE_BLOCK 256   /* threads per block of the reduction (one per parameter) */
#define PIECE_BYTES ((size_t)256 << 20) /* per-row gradients and GRU scratch of one launch */

struct bcf_cuda_train {
    ml_net net;
    int shards;
    size_t max_batch, piece, nrows;
    double *X;
    signed char *y;
    double *theta;      /* n_params */
    size_t *rows;       /* max_batch */
    double *vals;       /* piece × (n_params + 1): each row's gradient, then its loss */
    double *work;       /* piece × work_len: the GRU's scratch, one slice per thread */
    double *acc;        /* n_params + 1: the open shard's running sums */
    double *grad;       /* n_params */
    double *shard_loss; /* shards */
};

/* Row a + i of the batch: its loss and gradient into vals[i]. */
__global__ void __launch_bounds__(ROW_BLOCK) train_rows(ml_net net, const double *__restrict__ theta,
                                                        const double *__restrict__ X,
                                                        const signed char *__restrict__ y, const size_t *rows,
                                                        size_t a, size_t b, double *vals, double *work)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (a + i >= b)
        return;
    size_t P = net.n_params;
    double *g = vals + i * (P + 1);
    for (size_t p = 0; p < P; p++)
        g[p] = 0;
    const size_t *row = rows + a + i;
    g[P] = net.kind == ML_GRU
               ? gru_kernel_loss_grad(&net.shape, theta, X, y, row, 1, g, work + i * net.work_len)
               : logreg_kernel_loss_grad(net.shape.F, theta, X, y, row, 1, g);
}

/* Column p of vals (a parameter's gradient, or the loss for p = P) added in the CPU's order. */
__global__ void __launch_bounds__(REDUCE_BLOCK) reduce_rows(const double *__restrict__ vals, size_t P, size_t a,
                                                            size_t b, size_t count, int shards, double *acc,
                                                            double *grad, double *shard_loss)
{
    size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (p > P)
        return;
    ml_reduce_rows(vals + p, P + 1, a, b, count, shards, &acc[p], p < P ? &grad[p] : NULL,
                   p == P ? shard_loss : NULL);
}

BCF_EXPORT void bcf_cuda_train_end(bcf_cuda_train *t)
{
    if (!t)
        return;
    cudaFree(t->X);
    cudaFree(t->y);
    cudaFree(t->theta);
    cudaFree(t->rows);
    cudaFree(t->vals);
    cudaFree(t->work);
    cudaFree(t->acc);
    cudaFree(t->grad);
    cudaFree(t->shard_loss);
    free(t);
}

BCF_EXPORT bcf_cuda_train *bcf_cuda_train_begin(const ml_net *net, int shards, size_t max_batch, const double *X,
                                                const signed char *y, size_t nrows, char *err, size_t errlen)
{
    if (!net || (net->kind != ML_LOGREG && net->kind != ML_GRU) || net->n_params < 1 || net->work_len < 1 ||
        shards < 1 || max_batch < 1 || !X || !y || nrows < 1) {
        fail(err, errlen, "bcf_cuda_train_begin: invalid arguments");
        return NULL;
    }
    bcf_cuda_train *t = (bcf_cuda_train *)calloc(1, sizeof *t);
    if (!t) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    t->net = *net;
    t->shards = shards;
    t->max_batch = max_batch;
    t->nrows = nrows;
    size_t P = net->n_params, F = (size_t)net->shape.F;
    size_t per_row = (P + 1 + (net->kind == ML_GRU ? net->work_len : 0)) * sizeof(double);
    t->piece = PIECE_BYTES / per_row;
    if (t->piece < 1)
        t->piece = 1;
    if (t->piece > max_batch)
        t->piece = max_batch;
    size_t work = net->kind == ML_GRU ? t->piece * net->work_len : 1;
    cudaError_t e;
    if ((e = cudaMalloc((void **)&t->X, nrows * F * sizeof *t->X)) != cudaSuccess ||
        (e = cudaMalloc((void **)&t->y, nrows)) != cudaSuccess ||
        (e = cudaMalloc((void **)&t->theta, P * sizeof *t->theta)) != cudaSuccess ||
        (e = cudaMalloc((void **)&t->rows, max_batch * sizeof *t->rows)) != cudaSuccess ||
        (e = cudaMalloc((void **)&t->vals, t->piece * (P + 1) * sizeof *t->vals)) != cudaSuccess ||
        (e = cudaMalloc((void **)&t->work, work * sizeof *t->work)) != cudaSuccess ||
        (e = cudaMalloc((void **)&t->acc, (P + 1) * sizeof *t->acc)) != cudaSuccess ||
        (e = cudaMalloc((void **)&t->grad, P * sizeof *t->grad)) != cudaSuccess ||
        (e = cudaMalloc((void **)&t->shard_loss, (size_t)shards * sizeof *t->shard_loss)) != cudaSuccess) {
        cuda_fail(err, errlen, "cudaMalloc (training)", e);
        bcf_cuda_train_end(t);
        return NULL;
    }
    if ((e = cudaMemcpy(t->X, X, nrows * F * sizeof *X, cudaMemcpyHostToDevice)) != cudaSuccess ||
        (e = cudaMemcpy(t->y, y, nrows, cudaMemcpyHostToDevice)) != cudaSuccess) {
        cuda_fail(err, errlen, "cudaMemcpy (features and labels)", e);
        bcf_cuda_train_end(t);
        return NULL;
    }
    return t;
}

BCF_EXPORT int bcf_cuda_train_batch(bcf_cuda_train *t, const double *theta, const size_t *rows, size_t count,
                                    double *grad, double *shard_loss, char *err, size_t errlen)
{
    if (!t || !theta || !rows || !grad || !shard_loss || count < 1 || count > t->max_batch)
        return fail(err, errlen, "bcf_cuda_train_batch: invalid arguments");
    /* a row outside the uploaded matrix would read past it on the device: refused here */
    size_t first = (size_t)t->net.shape.L - 1;
    for (size_t k = 0; k < count; k++)
        if (rows[k] >= t->nrows || rows[k] < first)
            return fail(err, errlen, "bcf_cuda_train_batch: row %zu is outside the uploaded rows [%zu, %zu)",
                        rows[k], first, t->nrows);
    size_t P = t->net.n_params;
    cudaError_t e;
    if ((e = cudaMemcpy(t->theta, theta, P * sizeof *theta, cudaMemcpyHostToDevice)) != cudaSuccess ||
        (e = cudaMemcpy(t->rows, rows, count * sizeof *rows, cudaMemcpyHostToDevice)) != cudaSuccess)
        return cuda_fail(err, errlen, "cudaMemcpy (parameters and rows)", e);
    /* all-zero bytes are +0.0: the sums start where the CPU's do */
    if ((e = cudaMemset(t->grad, 0, P * sizeof *t->grad)) != cudaSuccess ||
        (e = cudaMemset(t->shard_loss, 0, (size_t)t->shards * sizeof *t->shard_loss)) != cudaSuccess)
        return cuda_fail(err, errlen, "cudaMemset", e);
    for (size_t a = 0; a < count; a += t->piece) {
        size_t b = count - a > t->piece ? a + t->piece : count;
        unsigned row_blocks = (unsigned)((b - a + ROW_BLOCK - 1) / ROW_BLOCK);
        unsigned reduce_blocks = (unsigned)((P + 1 + REDUCE_BLOCK - 1) / REDUCE_BLOCK);
        train_rows<<<row_blocks, ROW_BLOCK>>>(t->net, t->theta, t->X, t->y, t->rows, a, b, t->vals, t->work);
        if ((e = cudaGetLastError()) != cudaSuccess)
            return cuda_fail(err, errlen, "row kernel launch", e);
        reduce_rows<<<reduce_blocks, REDUCE_BLOCK>>>(t->vals, P, a, b, count, t->shards, t->acc, t->grad,
                                                     t->shard_loss);
        if ((e = cudaGetLastError()) != cudaSuccess)
            return cuda_fail(err, errlen, "reduction launch", e);
    }
    /* a blocking copy on the default stream: it waits for the kernels and reports their errors */
    if ((e = cudaMemcpy(grad, t->grad, P * sizeof *grad, cudaMemcpyDeviceToHost)) != cudaSuccess ||
        (e = cudaMemcpy(shard_loss, t->shard_loss, (size_t)t->shards * sizeof *shard_loss,
                        cudaMemcpyDeviceToHost)) != cudaSuccess)
        return cuda_fail(err, errlen, "training step", e);
    return 0;
}
