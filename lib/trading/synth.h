/* synth.h — deterministic synthetic candles for tests, demos and backtests: a seeded PRNG driving
 * geometric Brownian motion whose drift and volatility switch between bull, bear and sideways regimes. */
#ifndef BCF_TRADING_SYNTH_H
#define BCF_TRADING_SYNTH_H
#include "candles.h"
#include <stddef.h>
#include <stdint.h>

typedef enum synth_regime { SYNTH_SIDEWAYS = 0, SYNTH_BULL = 1, SYNTH_BEAR = 2 } synth_regime;

/* xoshiro256** state, seeded through splitmix64 (both public-domain algorithms by Vigna et al.). */
typedef struct synth_rng {
    uint64_t s[4];
} synth_rng;

void synth_rng_seed(synth_rng *r, uint64_t seed);
uint64_t synth_rng_next(synth_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double synth_rng_uniform(synth_rng *r);
/* Standard normal (Marsaglia's polar method: only sqrt and log). */
double synth_rng_normal(synth_rng *r);

typedef struct synth_params {
    uint64_t seed;
    int64_t start_ms;       /* open time of the first candle (aligned to tf_ms by the caller) */
    int64_t tf_ms;          /* candle length */
    double start_price;     /* first open */
    double base_volume;     /* typical volume per candle */
    double switch_prob;     /* chance per candle of leaving the current regime */
} synth_params;

/* Defaults: start price 40000, base volume 100, switch probability 0.002 (a regime lasts about
 * 500 candles on average), start regime sideways. seed, start_ms and tf_ms are left to the caller. */
void synth_defaults(synth_params *p);

/* Fills out[0..n) (and regimes[0..n) when not NULL: the regime each candle was drawn in).
 * Returns 0, or -1 for bad parameters (tf_ms <= 0, start_ms < 0, start_price <= 0, switch_prob
 * outside [0, 1], base_volume < 0). The same params and n give the same bytes. */
int synth_generate(const synth_params *p, candle *out, size_t n, unsigned char *regimes);
#endif
