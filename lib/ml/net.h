/* net.h — one face for the two model kinds, so the trainer, the predictor and the JSON code
 * handle logistic regression and the GRU alike: sizes, init, logit and shard gradient. */
#ifndef BCF_ML_NET_H
#define BCF_ML_NET_H
#include "gru.h"
#include "pool.h"
#include <stddef.h>
#include <stdint.h>

typedef enum ml_kind { ML_LOGREG = 1, ML_GRU = 2 } ml_kind;

typedef struct ml_net {
    ml_kind kind;
    gru_shape shape;  /* F always; H and L for the GRU (logreg: H = 0, L = 1) */
    size_t n_params;  /* length of θ */
    size_t n_decay;   /* θ[0 .. n_decay) are weights and take the L2 penalty */
    size_t work_len;  /* doubles of per-thread scratch */
} ml_net;

/* Fills net for a kind and shape; returns 0, or -1 for an unknown kind or a size out of range. */
int ml_net_make(ml_net *net, ml_kind kind, int F, int H, int L);
/* "logreg" / "gru" and back (0 when unknown). */
const char *ml_kind_name(ml_kind kind);
ml_kind ml_kind_parse(const char *name);
/* Rows before the first one whose input is complete: the model's context beyond the features'
 * warm-up (L - 1 for the GRU, 0 for logistic regression). */
size_t ml_net_context(const ml_net *net);

void ml_net_init(const ml_net *net, uint64_t seed, double *theta);
/* The logit for row t of the standardised X (and, for the GRU, its L - 1 predecessors). */
double ml_net_logit(const ml_net *net, const double *theta, const double *X, size_t t, double *work);
/* Adds the gradient of the summed loss over rows[0..nrows) into grad; returns the summed loss. */
double ml_net_loss_grad(const ml_net *net, const double *theta, const double *X, const signed char *y,
                        const size_t *rows, size_t nrows, double *grad, double *work);
/* prob[t - lo] = σ(logit of row t) for t in [lo, hi), spread over the pool (rows are independent, so the
 * result does not depend on the thread count). Returns 0, or -1 when out of memory. */
int ml_net_predict(const ml_net *net, const double *theta, const double *X, size_t lo, size_t hi, ml_pool *pool,
                   double *prob);
#endif
