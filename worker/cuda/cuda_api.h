/* cuda_api.h — the plain C interface of the CUDA plugin (botcriptofy-cuda.so) that the worker
 * loads with dlopen (worker/backend.c): sweeps and ML training; no CUDA type crosses it. */
#ifndef BCF_CUDA_API_H
#define BCF_CUDA_API_H
#include "ml/net.h"
#include "strategy.h"
#include "sweep_kernel.h"
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Why a plugin: the worker binary must run where no CUDA runtime is installed and in sanitizer
 * builds, so CUDA lives in a shared object of its own, linked with the static CUDA runtime and
 * needing only the driver (libcuda.so.1) when it runs. The structures handed across are the
 * lib/trading and lib/ml ones, so both sides must be built from the same sources: bcf_cuda_abi() returns
 * BCF_CUDA_ABI as the plugin saw it, and the loader refuses a plugin whose value differs from
 * its own (a plugin left over from another build, or structures changed since).
 */
#define BCF_CUDA_ABI_VERSION 2u
#define BCF_CUDA_ABI                                                                                          \
    ((uint64_t)BCF_CUDA_ABI_VERSION << 56 | (uint64_t)sizeof(ml_net) << 48 |                               \
     (uint64_t)sizeof(engine_config) << 32 |                                                                 \
     (uint64_t)sizeof(sweep_stats) << 16 | (uint64_t)sizeof(sweep_series) << 8 |                             \
     (uint64_t)sizeof(bcf_cuda_sweep_opts))

/* Candles held in device memory; opaque to the caller. */
typedef struct bcf_cuda_series bcf_cuda_series;

/* Between two slices of candles: steps done out of total (parameter sets × traded candles).
 * Non-zero stops the sweep (bcf_cuda_sweep returns BCF_CUDA_ECANCELLED). */
typedef int (*bcf_cuda_progress_fn)(double done, double total, void *ud);

#define BCF_CUDA_EFAIL (-1)      /* a CUDA error or a bad argument: the reason is in err */
#define BCF_CUDA_ECANCELLED (-2) /* the progress callback asked to stop */

/* BCF_CUDA_ABI of the plugin's build. */
uint64_t bcf_cuda_abi(void);

/* The package version the plugin was built from (PACKAGE_VERSION). */
const char *bcf_cuda_version(void);

/* CUDA devices visible to this process (CUDA_VISIBLE_DEVICES applies); the first device's name
 * into name, or when there is none, why (no driver, no device). Never fails: 0 is an answer. */
int bcf_cuda_probe(char *name, size_t namelen);

/* Copies se's candles [0, n) to device memory; the host arrays may be freed afterwards. NULL with
 * the reason in err when it fails (no device, out of memory). */
bcf_cuda_series *bcf_cuda_series_upload(const sweep_series *se, char *err, size_t errlen);
void bcf_cuda_series_free(bcf_cuda_series *s);

typedef struct bcf_cuda_sweep_opts {
    double initial_balance;
    int64_t slice_candles; /* candles per launch; 0: about 2^30 candle-steps per launch (~20 ms on an H100) */
    size_t chunk_sets;     /* parameter sets in device memory at once (~750 bytes each); 0: 262,144, the most */
    bcf_cuda_progress_fn progress; /* may be NULL */
    void *ud;
} bcf_cuda_sweep_opts;

/* Scores cfgs[0..n) over the uploaded candles into out[0..n), one GPU thread per parameter set:
 * the statistics sweep_init / sweep_advance / sweep_finish give on the CPU. warm[i] is the warm-up
 * of cfgs[i] (sweep_warmup). Only configs that sweep_kernel_covers accepts: any other makes the
 * whole call fail (the caller runs those on the CPU). 0 or BCF_CUDA_E*. */
int bcf_cuda_sweep(bcf_cuda_series *s, const engine_config *cfgs, const int64_t *warm, size_t n,
                   const bcf_cuda_sweep_opts *o, sweep_stats *out, char *err, size_t errlen);

/*
 * ML training (lib/ml's ml_grad_engine, adapted by worker/backend.c). The standardised feature
 * matrix and the labels go to device memory once per training; each mini-batch step uploads θ
 * and the rows, runs one GPU thread per row (logreg_kernel.h / gru_kernel.h, the CPU's source,
 * each row's gradient on its own), sums the rows per shard in row order and the shards in shard
 * order (row_reduce.h), and downloads the gradient and the shard losses.
 */
typedef struct bcf_cuda_train bcf_cuda_train;

/* Copies X rows [0, nrows) (net->shape.F doubles each) and y[0, nrows) to device memory and
 * sizes the buffers for mini-batches of at most max_batch rows cut into `shards` shards. NULL
 * with the reason in err (no device, out of device memory, a bad argument). */
bcf_cuda_train *bcf_cuda_train_begin(const ml_net *net, int shards, size_t max_batch, const double *X,
                                     const signed char *y, size_t nrows, char *err, size_t errlen);
/* For θ (net->n_params) and rows[0..count) (each < nrows, with its GRU window inside X): the summed
 * gradient into grad (n_params) and each shard's summed loss into shard_loss (shards). 0 or
 * BCF_CUDA_EFAIL with the reason in err. */
int bcf_cuda_train_batch(bcf_cuda_train *t, const double *theta, const size_t *rows, size_t count, double *grad,
                         double *shard_loss, char *err, size_t errlen);
void bcf_cuda_train_end(bcf_cuda_train *t);

#ifdef __cplusplus
}
#endif
#endif
