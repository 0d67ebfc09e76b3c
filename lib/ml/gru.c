/* gru.c — the GRU's forward pass, backpropagation through time and streaming window; every sum
 * runs in a fixed index order so results are reproducible to the bit (and portable to CUDA). */
#include "gru.h"
#include "mlmath.h"
#include "synth.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Offsets of the parameter blocks in θ. */
typedef struct gru_layout {
    size_t W, U, v, b, c;
} gru_layout;

static gru_layout gru_offsets(const gru_shape *s)
{
    size_t F = (size_t)s->F, H = (size_t)s->H;
    gru_layout o;
    o.W = 0;
    o.U = o.W + 3 * H * F;
    o.v = o.U + 3 * H * H;
    o.b = o.v + H;
    o.c = o.b + 3 * H;
    return o;
}

size_t gru_n_params(const gru_shape *s)
{
    return gru_offsets(s).c + 1;
}

size_t gru_n_decay(const gru_shape *s)
{
    return gru_offsets(s).b;
}

/* Scratch: hs [L+1][H] (h before each step and the final h), z, r, n [L][H], then a [3H]
 * (pre-activations, then their gradients), rh, dh, dhp [H], and U transposed [3H][H] for the
 * backward pass. */
size_t gru_work_len(const gru_shape *s)
{
    size_t H = (size_t)s->H, L = (size_t)s->L;
    return (L + 1) * H + 3 * L * H + 3 * H + 3 * H + 3 * H * H;
}

static void glorot(synth_rng *rng, double *w, size_t count, int fan_in, int fan_out)
{
    double a = sqrt(6.0 / (double)(fan_in + fan_out));
    for (size_t i = 0; i < count; i++)
        w[i] = (2.0 * synth_rng_uniform(rng) - 1.0) * a;
}

void gru_init(const gru_shape *s, uint64_t seed, double *theta)
{
    gru_layout o = gru_offsets(s);
    size_t H = (size_t)s->H, F = (size_t)s->F;
    synth_rng rng;
    synth_rng_seed(&rng, seed);
    memset(theta, 0, gru_n_params(s) * sizeof *theta);
    glorot(&rng, theta + o.W, 3 * H * F, s->F, s->H);
    glorot(&rng, theta + o.U, 3 * H * H, s->H, s->H);
    glorot(&rng, theta + o.v, H, s->H, 1);
}

/* a[0..n) += w[0..n) · k: one input's contribution to n units, each sum keeping its own order */
static inline void axpy(double *restrict a, const double *restrict w, double k, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4) { /* four independent lanes: -O2's SLP vectoriser pairs them */
        a[i] += w[i] * k;
        a[i + 1] += w[i + 1] * k;
        a[i + 2] += w[i + 2] * k;
        a[i + 3] += w[i + 3] * k;
    }
    for (; i < n; i++)
        a[i] += w[i] * k;
}

/* Runs the window xs[0..L) (rows of F), keeping every step's h, z, r, n in work; returns the logit. */
static double gru_forward(const gru_shape *s, const double *theta, const double *xs, double *work)
{
    const int F = s->F, H = s->H, L = s->L, G = 3 * H;
    gru_layout o = gru_offsets(s);
    const double *W = theta + o.W, *U = theta + o.U, *v = theta + o.v, *b = theta + o.b;
    double *hs = work, *zs = hs + (size_t)(L + 1) * H, *rs = zs + (size_t)L * H, *ns = rs + (size_t)L * H;
    double *a = ns + (size_t)L * H, *rh = a + G;

    memset(hs, 0, (size_t)H * sizeof *hs);
    for (int k = 0; k < L; k++) {
        const double *x = xs + (size_t)k * F, *hp = hs + (size_t)k * H;
        double *z = zs + (size_t)k * H, *r = rs + (size_t)k * H, *n = ns + (size_t)k * H;
        double *hn = hs + (size_t)(k + 1) * H;
        memcpy(a, b, (size_t)G * sizeof *a);
        for (int j = 0; j < F; j++)
            axpy(a, W + (size_t)j * G, x[j], G);
        for (int j = 0; j < H; j++) /* z and r read h itself */
            axpy(a, U + (size_t)j * G, hp[j], 2 * H);
        for (int i = 0; i < H; i++) {
            z[i] = ml_sigmoid(a[i]);
            r[i] = ml_sigmoid(a[H + i]);
            rh[i] = r[i] * hp[i];
        }
        for (int j = 0; j < H; j++) /* the candidate reads r ⊙ h */
            axpy(a + 2 * H, U + (size_t)j * G + 2 * H, rh[j], H);
        for (int i = 0; i < H; i++) {
            n[i] = tanh(a[2 * H + i]);
            hn[i] = (1.0 - z[i]) * n[i] + z[i] * hp[i];
        }
    }
    const double *h = hs + (size_t)L * H;
    double logit = theta[o.c];
    for (int i = 0; i < H; i++)
        logit += v[i] * h[i];
    return logit;
}

double gru_logit(const gru_shape *s, const double *theta, const double *X, size_t t, double *work)
{
    return gru_forward(s, theta, X + (t + 1 - (size_t)s->L) * (size_t)s->F, work);
}

/* Adds to grad the gradient of one window's loss, given g = d loss / d logit, the forward pass's
 * values in work and UT = U transposed ([3H][H]: what unit g·H+i receives from each h_j), so
 * that sums over the units run as contiguous axpys too, in the same unit order. */
static void gru_backward(const gru_shape *s, const double *theta, const double *UT, const double *xs, double g,
                         double *grad, double *work)
{
    const int F = s->F, H = s->H, L = s->L, G = 3 * H;
    gru_layout o = gru_offsets(s);
    const double *v = theta + o.v;
    double *gW = grad + o.W, *gU = grad + o.U, *gv = grad + o.v, *gb = grad + o.b;
    double *hs = work, *zs = hs + (size_t)(L + 1) * H, *rs = zs + (size_t)L * H, *ns = rs + (size_t)L * H;
    double *da = ns + (size_t)L * H, *rh = da + G, *dh = rh + H, *drh = dh + H;
    double *daz = da, *dar = da + H, *dan = da + 2 * H;

    const double *hL = hs + (size_t)L * H;
    grad[o.c] += g;
    for (int i = 0; i < H; i++) {
        gv[i] += g * hL[i];
        dh[i] = g * v[i];
    }
    for (int k = L - 1; k >= 0; k--) {
        const double *x = xs + (size_t)k * F, *hp = hs + (size_t)k * H;
        const double *z = zs + (size_t)k * H, *r = rs + (size_t)k * H, *n = ns + (size_t)k * H;
        for (int i = 0; i < H; i++) {
            double dn = dh[i] * (1.0 - z[i]);
            double dz = dh[i] * (hp[i] - n[i]);
            dan[i] = dn * (1.0 - n[i] * n[i]);
            daz[i] = dz * z[i] * (1.0 - z[i]);
            rh[i] = r[i] * hp[i];
        }
        /* the candidate's U multiplies r ⊙ h, so the reset gate's gradient goes through it */
        memset(drh, 0, (size_t)H * sizeof *drh);
        for (int i = 0; i < H; i++)
            axpy(drh, UT + (size_t)(2 * H + i) * H, dan[i], H);
        for (int j = 0; j < H; j++)
            dar[j] = drh[j] * hp[j] * r[j] * (1.0 - r[j]);
        for (int j = 0; j < F; j++)
            axpy(gW + (size_t)j * G, da, x[j], G);
        for (int j = 0; j < H; j++) {
            axpy(gU + (size_t)j * G, da, hp[j], 2 * H);
            axpy(gU + (size_t)j * G + 2 * H, dan, rh[j], H);
        }
        for (int i = 0; i < G; i++)
            gb[i] += da[i];
        /* d h_prev: through the update gate's mix, r ⊙ h, and the z and r pre-activations */
        for (int j = 0; j < H; j++)
            dh[j] = dh[j] * z[j] + drh[j] * r[j];
        for (int i = 0; i < 2 * H; i++)
            axpy(dh, UT + (size_t)i * H, da[i], H);
    }
}

double gru_loss_grad(const gru_shape *s, const double *theta, const double *X, const signed char *y,
                     const size_t *rows, size_t nrows, double *grad, double *work)
{
    size_t H = (size_t)s->H, G = 3 * H;
    const double *U = theta + gru_offsets(s).U;
    double *UT = work + gru_work_len(s) - G * H;
    for (size_t j = 0; j < H; j++)
        for (size_t i = 0; i < G; i++)
            UT[i * H + j] = U[j * G + i];
    double loss = 0;
    for (size_t k = 0; k < nrows; k++) {
        const double *xs = X + (rows[k] + 1 - (size_t)s->L) * (size_t)s->F;
        int label = y[rows[k]];
        double logit = gru_forward(s, theta, xs, work);
        gru_backward(s, theta, UT, xs, ml_sigmoid(logit) - label, grad, work);
        loss += ml_logit_loss(logit, label);
    }
    return loss;
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
    *logit = gru_forward(&st->shape, st->theta, st->ring + (slot + 1) * F, st->work);
    return 1;
}
