/* ml_predictions.c — the predictions ml_signal trades on: read back from ml_predictions beside
 * the candles, the missing ones computed with the tenant's model and stored, bulk upserts. */
#include "ml_predictions.h"
#include "candles_db.h"
#include "db.h"
#include "ml/ml.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ML_PREDICT_CHUNK 20000 /* predictions per INSERT statement */

int mlpred_series(long long tenant_id, const engine_config *cfg, const char *exch, const char *sym,
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

/* Writes prob[i] of candles c[i] (those not NAN) in statements of ML_PREDICT_CHUNK rows. */
long mlpred_store(const char *model, const char *tenant, const char *exch, const char *sym,
                                 const char *tf, const candle *c, const double *prob, size_t from, size_t n)
{
    long stored = 0;
    size_t i = from;
    char *times = malloc(ML_PREDICT_CHUNK * 21 + 3), *probs = malloc(ML_PREDICT_CHUNK * 26 + 3);
    if (!times || !probs) {
        free(times);
        free(probs);
        return -1;
    }
    while (i < n) {
        size_t tl = 0, pl = 0, rows = 0;
        times[tl++] = '{';
        probs[pl++] = '{';
        for (; i < n && rows < ML_PREDICT_CHUNK; i++) {
            if (!isfinite(prob[i]))
                continue;
            tl += (size_t)sprintf(times + tl, "%s%lld", rows ? "," : "", (long long)c[i].open_time);
            pl += (size_t)sprintf(probs + pl, "%s%.17g", rows ? "," : "", prob[i]);
            rows++;
        }
        times[tl++] = '}';
        probs[pl++] = '}';
        times[tl] = probs[pl] = '\0';
        if (!rows)
            continue;
        const char *p[] = {model, tenant, exch, sym, tf, times, probs};
        long k = db_exec(NULL, "ml_predict_store",
                         "INSERT INTO ml_predictions (model_id, tenant_id, exchange, symbol, timeframe, open_time, prob) "
                         "SELECT $1::bigint, $2::bigint, $3, $4, $5, t, p "
                         "FROM unnest($6::bigint[], $7::float8[]) AS x(t, p) "
                         "ON CONFLICT (model_id, exchange, symbol, timeframe, open_time) DO UPDATE SET prob = EXCLUDED.prob",
                         7, p);
        if (k < 0) {
            stored = -1;
            break;
        }
        stored += k;
    }
    free(times);
    free(probs);
    return stored;
}

long mlpred_complete(long long tenant_id, const engine_config *cfg, const char *exch, const char *sym,
                     const char *tf, const candle *c, size_t n, double *ext, char *err, size_t errlen)
{
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += isnan(ext[i]);
    if (!missing || cfg->kind != STRATEGY_ML_SIGNAL)
        return 0;
    char model[24], tenant[24];
    snprintf(model, sizeof model, "%.0f", cfg->params[STRAT_ML_MODEL]);
    snprintf(tenant, sizeof tenant, "%lld", tenant_id);
    const char *p[] = {model, tenant};
    PGresult *r = db_query(NULL, "mlpred_model",
                           "SELECT model FROM ml_models WHERE id = $1::bigint AND tenant_id = $2::bigint AND model IS NOT NULL",
                           2, p);
    if (!r) {
        snprintf(err, errlen, "database unavailable");
        return -1;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        snprintf(err, errlen, "model %s does not exist or is not trained", model);
        return -2;
    }
    ml_model *m = NULL;
    const char *text = PQgetvalue(r, 0, 0);
    int lrc = ml_model_loads(text, strlen(text), &m, err, errlen);
    PQclear(r);
    if (lrc != ML_OK)
        return lrc == ML_ERR_NOMEM ? -1 : -2;
    /* the model's warm-up before the first candle, then the candles themselves */
    candle *all = NULL;
    size_t nh = 0;
    long rc = -1;
    double *prob = NULL;
    if (candles_db_before(exch, sym, tf, c[0].open_time, ml_model_first_row(m), &all, &nh) != 0) {
        snprintf(err, errlen, "database unavailable");
        goto out;
    }
    candle *grown = realloc(all, (nh + n) * sizeof *all);
    prob = malloc((nh + n) * sizeof *prob);
    if (!grown || !prob) {
        free(grown ? grown : all);
        all = NULL;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    all = grown;
    memcpy(all + nh, c, n * sizeof *c);
    if (ml_predict_series(m, all, nh + n, 1, prob) != ML_OK) {
        snprintf(err, errlen, "the model could not predict these candles");
        rc = -2;
        goto out;
    }
    /* only the missing ones: a stored prediction is what earlier runs traded on */
    for (size_t i = 0; i < n; i++)
        if (!isnan(ext[i]))
            prob[nh + i] = NAN;
    if (mlpred_store(model, tenant, exch, sym, tf, all, prob, nh, nh + n) < 0) {
        snprintf(err, errlen, "database unavailable");
        goto out;
    }
    rc = 0;
    for (size_t i = 0; i < n; i++)
        if (isnan(ext[i]) && !isnan(prob[nh + i])) {
            ext[i] = prob[nh + i];
            rc++;
        }
out:
    free(prob);
    free(all);
    ml_model_free(m);
    return rc;
}
