/* ml_signal.c — the predictions an ml_signal backtest or optimization trades on, read back from
 * ml_predictions and laid beside the candles: one probability per candle, NAN where none. */
#include "db.h"
#include "worker.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int ml_signal_series(long long tenant_id, const engine_config *cfg, const char *exch, const char *sym,
                     const char *tf, const candle *c, size_t n, double **ext, char *err, size_t errlen)
{
    *ext = NULL;
    if (cfg->kind != STRATEGY_ML_SIGNAL || !n)
        return 0;
    char model[24], tenant[24], lo[24], hi[24];
    snprintf(model, sizeof model, "%.0f", cfg->params[STRAT_ML_MODEL]);
    snprintf(tenant, sizeof tenant, "%lld", tenant_id);
    snprintf(lo, sizeof lo, "%lld", (long long)c[0].open_time);
    snprintf(hi, sizeof hi, "%lld", (long long)c[n - 1].open_time);
    const char *p[] = {model, tenant, exch, sym, tf, lo, hi};
    /* the tenant's own model only: another tenant's id finds nothing */
    PGresult *r = db_query(NULL, "ml_signal_load",
                           "SELECT open_time, prob FROM ml_predictions WHERE model_id = $1::bigint AND "
                           "tenant_id = $2::bigint AND exchange = $3 AND symbol = $4 AND timeframe = $5 AND "
                           "open_time BETWEEN $6::bigint AND $7::bigint ORDER BY open_time",
                           7, p);
    if (!r) {
        snprintf(err, errlen, "database unavailable");
        return -1;
    }
    int rows = PQntuples(r);
    if (!rows) {
        PQclear(r);
        snprintf(err, errlen, "model %s has no predictions for %s %s in this period: run a prediction first", model,
                 sym, tf);
        return -2;
    }
    double *x = malloc(n * sizeof *x);
    if (!x) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = NAN;
        while (k < (size_t)rows && strtoll(PQgetvalue(r, (int)k, 0), NULL, 10) < c[i].open_time)
            k++;
        if (k < (size_t)rows && strtoll(PQgetvalue(r, (int)k, 0), NULL, 10) == c[i].open_time)
            x[i] = strtod(PQgetvalue(r, (int)k, 1), NULL);
    }
    PQclear(r);
    *ext = x;
    return 0;
}
