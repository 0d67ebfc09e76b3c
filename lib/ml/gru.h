/* gru.h — a one-layer GRU over a window of L feature rows with a sigmoid output: forward pass,
 * backpropagation through time (the trainer's per-shard kernel), seeded init, streaming state. */
#ifndef BCF_ML_GRU_H
#define BCF_ML_GRU_H
#include <stddef.h>
#include <stdint.h>

#define GRU_MAX_HIDDEN 256
#define GRU_MAX_SEQ 256

/*
 * For k = 0..L-1 over the window's rows x_k, from h = 0 (Cho et al. 2014, reset before U):
 *   z = σ(Wz x + Uz h + bz)     r = σ(Wr x + Ur h + br)
 *   n = tanh(Wn x + Un (r ⊙ h) + bn)
 *   h = (1 - z) ⊙ n + z ⊙ h
 * then logit = v·h + c and p = σ(logit). The prediction for row t reads rows t-L+1..t only and
 * starts from h = 0, exactly as in training, so it never depends on where a series began.
 *
 * θ layout, input-major (each input's weights to the 3H gate units are contiguous; gates in
 * the order z, r, n, unit i of gate g at column g·H + i):
 *   W [F][3H] | U [H][3H] | v [H] | b [3H] | c
 * The first 3H(F+H) + H values are weights (they take the L2 penalty), the rest biases.
 * Every pre-activation starts from its bias and adds the W·x terms, then the U·h terms, each in
 * input index order; the input-major layout lets the compiler run the 3H units side by side
 * without changing that order, so vectorised and scalar code give the same bits.
 */
typedef struct gru_shape {
    int F, H, L; /* features per row, hidden units, window length */
} gru_shape;

size_t gru_n_params(const gru_shape *s);
size_t gru_n_decay(const gru_shape *s);
/* Doubles of scratch that gru_logit and gru_loss_grad need (one buffer per thread). */
size_t gru_work_len(const gru_shape *s);
/* Glorot-uniform W, U and v from the seed (xoshiro256**, lib/trading/synth.h); biases 0. */
void gru_init(const gru_shape *s, uint64_t seed, double *theta);

/* The logit for the window whose last row is X row t (rows t-L+1..t must exist). */
double gru_logit(const gru_shape *s, const double *theta, const double *X, size_t t, double *work);
/* For each rows[k] (label y[rows[k]] in {0,1}): adds d loss / d θ into grad through time and
 * returns the summed log-loss. */
double gru_loss_grad(const gru_shape *s, const double *theta, const double *X, const signed char *y,
                     const size_t *rows, size_t nrows, double *grad, double *work);

/* One feature row at a time: keeps the last L rows (a double-length ring, so the window is
 * always contiguous) and runs gru_logit over them, equal to the batch logit bit for bit. */
typedef struct gru_stream {
    gru_shape shape;
    const double *theta; /* borrowed */
    double *ring;        /* 2L rows */
    double *work;
    size_t count;
} gru_stream;

/* Returns 0, or -1 when out of memory. theta must outlive the stream. */
int gru_stream_init(gru_stream *st, const gru_shape *s, const double *theta);
void gru_stream_free(gru_stream *st);
/* Pushes row x; returns 1 with *logit once L rows were pushed, else 0. */
int gru_stream_push(gru_stream *st, const double *x, double *logit);
#endif
