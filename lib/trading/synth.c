/* synth.c — the synthetic candle generator: xoshiro256** numbers, polar-method normals and a
 * regime-switching geometric Brownian motion with consistent intra-candle high, low and volume. */
/* Determinism across machines needs each a*b+c rounded twice, as written: a fused multiply-add
 * (what GCC emits on aarch64 by default) rounds once and changes the last bits. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "synth.h"
#include <math.h>

static uint64_t synth_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void synth_rng_seed(synth_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = synth_splitmix64(&x);
}

static uint64_t synth_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t synth_rng_next(synth_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = synth_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = synth_rotl(s[3], 45);
    return result;
}

double synth_rng_uniform(synth_rng *r)
{
    return (double)(synth_rng_next(r) >> 11) * 0x1.0p-53;
}

double synth_rng_normal(synth_rng *r)
{
    /* polar method rather than Box-Muller: no sin/cos, whose libm results differ more between
     * libraries than sqrt (exact under IEEE 754) and log; the second normal is dropped so the
     * generator keeps no hidden state beyond the PRNG */
    for (;;) {
        double u = 2.0 * synth_rng_uniform(r) - 1.0;
        double v = 2.0 * synth_rng_uniform(r) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0)
            return u * sqrt(-2.0 * log(s) / s);
    }
}

void synth_defaults(synth_params *p)
{
    p->seed = 0;
    p->start_ms = 0;
    p->tf_ms = 0;
    p->start_price = 40000.0;
    p->base_volume = 100.0;
    p->switch_prob = 0.002;
}

/* Annualised drift and volatility per regime: crypto-like magnitudes, bear markets more volatile. */
static const struct {
    double mu, sigma;
} synth_regimes[3] = {
    [SYNTH_SIDEWAYS] = {0.0, 0.35},
    [SYNTH_BULL] = {0.9, 0.55},
    [SYNTH_BEAR] = {-0.8, 0.75},
};

#define SYNTH_YEAR_MS 31536000000.0 /* 365 days */

int synth_generate(const synth_params *p, candle *out, size_t n, unsigned char *regimes)
{
    if (p->tf_ms <= 0 || p->start_ms < 0 || !(p->start_price > 0) || !isfinite(p->start_price) ||
        !(p->switch_prob >= 0 && p->switch_prob <= 1) || !(p->base_volume >= 0) || !isfinite(p->base_volume))
        return -1;
    synth_rng rng;
    synth_rng_seed(&rng, p->seed);
    double dt = (double)p->tf_ms / SYNTH_YEAR_MS;
    double sqdt = sqrt(dt);
    int regime = SYNTH_SIDEWAYS;
    double price = p->start_price;
    for (size_t i = 0; i < n; i++) {
        /* the draws happen in a fixed order every candle, whatever the branch, so one extra
         * draw never shifts the rest of the series */
        double u_switch = synth_rng_uniform(&rng);
        double u_pick = synth_rng_uniform(&rng);
        double z_close = synth_rng_normal(&rng);
        double z_high = synth_rng_normal(&rng);
        double z_low = synth_rng_normal(&rng);
        double z_vol = synth_rng_normal(&rng);
        if (u_switch < p->switch_prob)
            regime = (regime + 1 + (u_pick < 0.5 ? 0 : 1)) % 3; /* one of the other two, evenly */
        double mu = synth_regimes[regime].mu, sigma = synth_regimes[regime].sigma;
        double sig_c = sigma * sqdt;
        /* GBM step: log return (mu - sigma^2/2) dt + sigma sqrt(dt) Z */
        double ret = (mu - 0.5 * sigma * sigma) * dt + sig_c * z_close;
        double open = price;
        double close = open * exp(ret);
        /* wicks: half-normal excursions beyond the body, on the candle's own volatility scale */
        double high = fmax(open, close) * exp(0.5 * sig_c * fabs(z_high));
        double low = fmin(open, close) * exp(-0.5 * sig_c * fabs(z_low));
        /* volume: log-normal noise, heavier on big moves */
        double volume = p->base_volume * exp(0.4 * z_vol) * (1.0 + fabs(ret) / sig_c);
        out[i].open_time = p->start_ms + (int64_t)i * p->tf_ms;
        out[i].open = open;
        out[i].high = high;
        out[i].low = low;
        out[i].close = close;
        out[i].volume = volume;
        if (regimes)
            regimes[i] = (unsigned char)regime;
        price = close;
    }
    return 0;
}
