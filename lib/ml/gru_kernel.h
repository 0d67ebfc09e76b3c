/* gru_kernel.h — the GRU's forward pass, backpropagation through time and window gradient,
 * compiled for the CPU (gru.c) and the GPU (worker/cuda/train.cu) from this one source. */
#ifndef BCF_ML_GRU_KERNEL_H
#define BCF_ML_GRU_KERNEL_H
#include "gru.h"
#include "mlmath.h"
#include <string.h>

/* gru.h documents the model and θ's layout; every sum runs in a fixed index order, so results
 * are reproducible to the bit on the CPU and the GPU differs only where its exp/tanh/log1p round
 * differently (docs/ml.md, "GPU training"). */

/* Offsets of the parameter blocks in θ. */
typedef struct gru_layout {
    size_t W, U, v, b, c;
} gru_layout;

ML_KERNEL gru_layout gru_kernel_offsets(const gru_shape *s)
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

/* Scratch: hs [L+1][H] (h before each step and the final h), z, r, n [L][H], then a [3H]
 * (pre-activations, then their gradients), rh, dh, dhp [H], and U transposed [3H][H] for the
 * backward pass. */
ML_KERNEL size_t gru_kernel_work_len(const gru_shape *s)
{
    size_t H = (size_t)s->H, L = (size_t)s->L;
    return (L + 1) * H + 3 * L * H + 3 * H + 3 * H + 3 * H * H;
}

/* a[0..n) += w[0..n) · k: one input's contribution to n units, each sum keeping its own order */
ML_KERNEL void gru_kernel_axpy(double *ML_RESTRICT a, const double *ML_RESTRICT w, double k, int n)
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
ML_KERNEL double gru_kernel_forward(const gru_shape *s, const double *theta, const double *xs, double *work)
{
    const int F = s->F, H = s->H, L = s->L, G = 3 * H;
    gru_layout o = gru_kernel_offsets(s);
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
            gru_kernel_axpy(a, W + (size_t)j * G, x[j], G);
        for (int j = 0; j < H; j++) /* z and r read h itself */
            gru_kernel_axpy(a, U + (size_t)j * G, hp[j], 2 * H);
        for (int i = 0; i < H; i++) {
            z[i] = ml_sigmoid(a[i]);
            r[i] = ml_sigmoid(a[H + i]);
            rh[i] = r[i] * hp[i];
        }
        for (int j = 0; j < H; j++) /* the candidate reads r ⊙ h */
            gru_kernel_axpy(a + 2 * H, U + (size_t)j * G + 2 * H, rh[j], H);
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

/* Adds to grad the gradient of one window's loss, given g = d loss / d logit, the forward pass's
 * values in work and UT = U transposed ([3H][H]: what unit g·H+i receives from each h_j), so
 * that sums over the units run as contiguous axpys too, in the same unit order. */
ML_KERNEL void gru_kernel_backward(const gru_shape *s, const double *theta, const double *UT, const double *xs,
                                   double g, double *grad, double *work)
{
    const int F = s->F, H = s->H, L = s->L, G = 3 * H;
    gru_layout o = gru_kernel_offsets(s);
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
            gru_kernel_axpy(drh, UT + (size_t)(2 * H + i) * H, dan[i], H);
        for (int j = 0; j < H; j++)
            dar[j] = drh[j] * hp[j] * r[j] * (1.0 - r[j]);
        for (int j = 0; j < F; j++)
            gru_kernel_axpy(gW + (size_t)j * G, da, x[j], G);
        for (int j = 0; j < H; j++) {
            gru_kernel_axpy(gU + (size_t)j * G, da, hp[j], 2 * H);
            gru_kernel_axpy(gU + (size_t)j * G + 2 * H, dan, rh[j], H);
        }
        for (int i = 0; i < G; i++)
            gb[i] += da[i];
        /* d h_prev: through the update gate's mix, r ⊙ h, and the z and r pre-activations */
        for (int j = 0; j < H; j++)
            dh[j] = dh[j] * z[j] + drh[j] * r[j];
        for (int i = 0; i < 2 * H; i++)
            gru_kernel_axpy(dh, UT + (size_t)i * H, da[i], H);
    }
}

ML_KERNEL double gru_kernel_loss_grad(const gru_shape *s, const double *theta, const double *X,
                                      const signed char *y, const size_t *rows, size_t nrows, double *grad,
                                      double *work)
{
    size_t H = (size_t)s->H, G = 3 * H;
    const double *U = theta + gru_kernel_offsets(s).U;
    double *UT = work + gru_kernel_work_len(s) - G * H;
    for (size_t j = 0; j < H; j++)
        for (size_t i = 0; i < G; i++)
            UT[i * H + j] = U[j * G + i];
    double loss = 0;
    for (size_t k = 0; k < nrows; k++) {
        const double *xs = X + (rows[k] + 1 - (size_t)s->L) * (size_t)s->F;
        int label = y[rows[k]];
        double logit = gru_kernel_forward(s, theta, xs, work);
        gru_kernel_backward(s, theta, UT, xs, ml_sigmoid(logit) - label, grad, work);
        loss += ml_logit_loss(logit, label);
    }
    return loss;
}
#endif
