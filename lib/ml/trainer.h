/* trainer.h — mini-batch Adam with gradient clipping, L2 and early stopping on validation
 * log-loss, for either model kind; bit-identical results whatever the number of threads. */
#ifndef BCF_ML_TRAINER_H
#define BCF_ML_TRAINER_H
#include "dataset.h"
#include "net.h"
#include "pool.h"
#include <stddef.h>
#include <stdint.h>

typedef struct ml_hparams {
    int hidden;           /* GRU hidden units H (1..256); 0 for logreg */
    int seq_len;          /* GRU window L (1..256); 1 for logreg */
    int epochs;           /* at most this many passes over the training rows (1..100000) */
    int batch_size;       /* rows per Adam step (1..1048576) */
    int patience;         /* stop after this many epochs without a better validation loss; 0 = never */
    int shards;           /* each mini-batch is cut into this many shards (1..256), whatever the threads */
    double learning_rate; /* Adam step size (> 0) */
    double l2;            /* penalty l2/2·|w|² on weights, not biases (>= 0) */
    double clip;          /* the gradient's global L2 norm is scaled down to this; 0 = no clipping */
    uint64_t seed;        /* initial weights and the epochs' shuffles (0..2^63-1) */
} ml_hparams;

/* Returns 0, or -1 with the reason in err when a value is out of range for the kind. */
int ml_hparams_check(ml_kind kind, const ml_hparams *hp, char *err, size_t errlen);

/* Called on the thread that called ml_train, at least once per epoch and every 16 mini-batches,
 * with the share of the work done; a non-zero return cancels the training. */
typedef int (*ml_progress_fn)(void *ctx, double fraction);

/* Per-epoch mean training loss (over the epoch's mini-batches, before each step) and
 * validation log-loss (after the epoch). Arrays malloc'd with room for hp.epochs entries. */
typedef struct ml_curve {
    int len;        /* epochs run */
    int best_epoch; /* 1-based epoch whose parameters were kept */
    double *train_loss, *val_loss;
} ml_curve;

void ml_curve_free(ml_curve *c);

/* ML_ERR_ENGINE: a gradient engine (ml_grad_engine) failed; the same training without it can work. */
enum {
    ML_OK = 0,
    ML_ERR_INVALID = -1,
    ML_ERR_NOMEM = -2,
    ML_ERR_CANCELLED = -3,
    ML_ERR_DIVERGED = -4,
    ML_ERR_ENGINE = -5
};

/* Writes the reason into err (when err and errlen are set) and returns code: every lib/ml
 * failure path reports this way. */
int ml_errorf(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Where the mini-batch gradients are computed when not on the CPU threads (the CUDA trainer,
 * worker/backend.h). begin is called once per ml_fit, before the first step, with everything
 * that stays the same during the training (the engine copies what it needs: X rows [0, nrows)
 * of net->shape.F columns and their labels; no mini-batch has more than max_batch rows); it
 * returns the engine's state, or NULL with the reason in err. batch then gives, for θ and the
 * rows rows[0..count), the summed gradient into grad (n_params) and each shard's summed loss
 * into shard_loss (shards values), the shards cut as the CPU cuts them (row_reduce.h); 0, or -1
 * with the reason in err. end frees the state (after a failure too). ml_fit returns
 * ML_ERR_ENGINE when begin or batch fails.
 *
 * The CPU sums each row's gradient into its shard in place; an engine that computes rows apart
 * and then reduces them (row_reduce.h) adds the same numbers grouped differently, and a GPU's
 * exp/tanh/log1p may round differently from glibc's: its training agrees with the CPU's within
 * a tolerance, not to the bit (docs/ml.md, "GPU training").
 */
typedef struct ml_grad_engine {
    const char *name; /* for logs: "cuda" */
    void *ctx;        /* the engine's own, passed to begin */
    void *(*begin)(void *ctx, const ml_net *net, int shards, size_t max_batch, const double *X,
                   const signed char *y, size_t nrows, char *err, size_t errlen);
    int (*batch)(void *state, const double *theta, const size_t *rows, size_t count, double *grad,
                 double *shard_loss, char *err, size_t errlen);
    void (*end)(void *state);
} ml_grad_engine;

/*
 * Trains θ (initialised by the caller) on the rows sp->train_lo..train_hi of the standardised X
 * with labels y, stops early on the rows val_lo..val_hi, and leaves the best epoch's θ.
 * Determinism: each mini-batch's rows are cut into hp->shards contiguous shards; a shard's
 * gradient is summed row by row by one thread, and the shard gradients are added in shard
 * order, so the pool's size changes only the speed. engine: NULL for the pool's threads, else
 * the mini-batch gradients come from it (the validation predictions stay on the pool).
 * `progress_lo/hi` map this call's share of the work onto the fraction reported.
 */
int ml_fit(const ml_net *net, const ml_hparams *hp, const double *X, const signed char *y, const ml_split *sp,
           ml_pool *pool, const ml_grad_engine *engine, double *theta, ml_curve *curve, ml_progress_fn progress,
           void *progress_ctx, double progress_lo, double progress_hi, char *err, size_t errlen);
#endif
