/* indicators_inline.h — the SMA update as an inline function, private to lib/trading: the
 * engine's hot loop inlines it; everyone else calls ind_sma_update() (indicators.h). */
#ifndef BCF_TRADING_INDICATORS_INLINE_H
#define BCF_TRADING_INDICATORS_INLINE_H
#include "indicators.h"

/* Only files of lib/trading include this: they are compiled with -ffp-contract=off, so the
 * multiplication below can never be fused with a caller's addition into one rounding. */

#define IND_SMA_RESYNC 1024

/* Recomputes the running sum from the ring and re-arms the countdown (indicators.c). */
void ind_sma_resync(ind_sma *s);

static inline __attribute__((always_inline)) int ind_sma_step(ind_sma *s, double value, double *out)
{
    if (s->count < s->period) {
        s->ring[s->count++] = value;
        s->sum += value;
        if (s->count < s->period) {
            *out = __builtin_nan("");
            return 0;
        }
    } else {
        s->sum += value - s->ring[s->pos];
        s->ring[s->pos] = value;
        if (++s->pos == s->period)
            s->pos = 0;
        if (--s->resync_in == 0)
            ind_sma_resync(s);
    }
    *out = s->sum * s->scale;
    return 1;
}
#endif
