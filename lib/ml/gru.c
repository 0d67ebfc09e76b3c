/* gru.c — the GRU's sizes, seeded init and streaming window around gru_kernel.h's forward pass and
 * backpropagation through time (the source the CUDA trainer compiles too). */
#include "gru.h"
#include "gru_kernel.h"
#include "synth.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t gru_n_params(const gru_shape *s)
{
    return gru_kernel_offsets(s).c + 1;
}

size_t gru_n_decay(const gru_shape *s)
{
    return gru_kernel_offsets(s).b;
}

size_t gru_work_len(const gru_shape *s)
{
    return gru_kernel_work_len(s);
}

static void glorot(synth_rng *rng, double *w, size_t count, int fan_in, int fan_out)
{
    double a = sqrt(6.0 / (double)(fan_in + fan_out));
    for (size_t i = 0; i < count; i++)
        w[i] = (2.0 * synth_rng_uniform(rng) - 1.0) * a;
}

void gru_init(const gru_shape *s, uint64_t seed, double *theta)
{
    gru_layout o = gru_kernel_offsets(s);
    size_t H = (size_t)s->H, F = (size_t)s->F;
    synth_rng rng;
    synth_rng_seed(&rng, seed);
    memset(theta, 0, gru_n_params(s) * sizeof *theta);
    glorot(&rng, theta + o.W, 3 * H * F, s->F, s->H);
    glorot(&rng, theta + o.U, 3 * H * H, s->H, s->H);
    glorot(&rng, theta + o.v, H, s->H, 1);
}

double gru_logit(const gru_shape *s, const double *theta, const double *X, size_t t, double *work)
{
    return gru_kernel_forward(s, theta, X + (t + 1 - (size_t)s->L) * (size_t)s->F, work);
}

double gru_loss_grad(const gru_shape *s, const double *theta, const double *X, const signed char *y,
                     const size_t *rows, size_t nrows, double *grad, double *work)
{
    return gru_kernel_loss_grad(s, theta, X, y, rows, nrows, grad, work);
}

int gru_stream_init(gru_stream *st, const gru_shape *s, const double *theta)
{
    memset(st, 0, sizeof *st);
    st->shape = *s;
    st->theta = theta;
    st->ring = malloc(2 * (size_t)s->L * (size_t)s->F * sizeof *st->ring);
    st->work = malloc(gru_work_len(s) * sizeof *st->work);
    if (!st->ring || !st->work) {
        gru_stream_free(st);
        return -1;
    }
    return 0;
}

void gru_stream_free(gru_stream *st)
{
    free(st->ring);
    free(st->work);
    st->ring = st->work = NULL;
}

int gru_stream_push(gru_stream *st, const double *x, double *logit)
{
    size_t L = (size_t)st->shape.L, F = (size_t)st->shape.F;
    size_t slot = st->count % L;
    /* each row lives at slot and slot + L: the last L rows are then rows slot+1 .. slot+L */
    memcpy(st->ring + slot * F, x, F * sizeof *x);
    memcpy(st->ring + (slot + L) * F, x, F * sizeof *x);
    st->count++;
    if (st->count < L)
        return 0;
    *logit = gru_kernel_forward(&st->shape, st->theta, st->ring + (slot + 1) * F, st->work);
    return 1;
}
