/* ml_predictions.h — a model's stored predictions for a market: read back beside the candles
 * (ml_signal backtests, optimizations and bots), completed on demand, and written in bulk. */
#ifndef BCF_ML_PREDICTIONS_H
#define BCF_ML_PREDICTIONS_H
#include "candles.h"
#include "strategy.h"
#include <stddef.h>

/* ml_signal: the stored predictions of cfg's model (of this tenant) for the candles c[0..n) of
 * a market, one per candle (NAN where none), into *ext (malloc'd; the caller frees). Other
 * strategies: *ext = NULL. 0; -1 when the database is down or out of memory; -2 when the model
 * has no prediction at all in the period. err says which. */
int mlpred_series(long long tenant_id, const engine_config *cfg, const char *exch, const char *sym, const char *tf,
                  const candle *c, size_t n, double **ext, char *err, size_t errlen);

/* Fills the NAN entries of ext[0..n) (the candles c[0..n)) with cfg's model, from the candles
 * before c[0] the model needs and c itself, and stores what it computed, so a later backtest
 * reads the very values a bot traded on. Returns how many it computed, -1 (database, memory),
 * or -2 (the model is missing, not this tenant's, or not trained). */
long mlpred_complete(long long tenant_id, const engine_config *cfg, const char *exch, const char *sym,
                     const char *tf, const candle *c, size_t n, double *ext, char *err, size_t errlen);

/* Upserts prob[i] of candles c[i], i in [from, n), skipping NAN; rows written or -1. */
long mlpred_store(const char *model, const char *tenant, const char *exch, const char *sym, const char *tf,
                  const candle *c, const double *prob, size_t from, size_t n);
#endif
