/* ml_job.c — the "ml_train" and "ml_predict" jobs: train a price-direction model on a market's
 * candles (on the GPU when the backend is CUDA) and store it with its report; predict a period and
 * store the probabilities ml_signal trades. */
#include "backend.h"
#include "candles_db.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "ml_predictions.h"
#include "ml/ml.h"
#include "worker.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A training's progress as the job's: a CPU run after a failed GPU run goes on from where the GPU
 * had got to instead of starting again from 0. */
typedef struct train_progress {
    job_ctx *j;
    double from, reached;
} train_progress;

static int ml_job_progress(void *progress_ctx, double fraction)
{
    train_progress *p = progress_ctx;
    p->reached = p->from + (1.0 - p->from) * fraction;
    return job_progress(p->j, p->reached);
}

int job_ml_train(job_ctx *j)
{
    char id[24], tenant[24];
    int outcome;
    PGresult *r = job_load_row(j, "model_id", "model", "ml_train_load",
                               "SELECT exchange, symbol, timeframe, from_ms, to_ms, options, finished_at IS NOT NULL "
                               "FROM ml_models WHERE id = $1::bigint AND tenant_id = $2::bigint",
                               id, sizeof id, &outcome);
    if (!r)
        return outcome;
    snprintf(tenant, sizeof tenant, "%lld", j->job->tenant_id);
    int rc = JOB_FAIL;
    candle *c = NULL;
    ml_model *m = NULL;
    char *model_text = NULL, *report_text = NULL;
    if (!strcmp(PQgetvalue(r, 0, 6), "t")) {
        /* a redelivered job: the model is stored already */
        char res[64];
        snprintf(res, sizeof res, "{\"model_id\":%s}", id);
        job_set_result(j, res);
        rc = JOB_OK;
        goto out;
    }
    json_error_t je;
    json_t *oj = json_loads(PQgetvalue(r, 0, 5), 0, &je);
    ml_train_opts o;
    memset(&o, 0, sizeof o);
    char err[256] = "";
    int bad = ml_opts_from_json(oj, &o, err, sizeof err);
    json_decref(oj);
    if (bad) {
        job_error(j, "the model's options cannot be read: %s", err);
        goto out;
    }
    train_progress tp = {j, 0, 0};
    o.threads = (int)config_int("worker.compute_threads");
    o.progress = ml_job_progress;
    o.progress_ctx = &tp;
    o.engine = backend_ml_engine();
    size_t n = 0;
    if (candles_db_range(PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
                         strtoll(PQgetvalue(r, 0, 3), NULL, 10), strtoll(PQgetvalue(r, 0, 4), NULL, 10), 0, 0, &c,
                         &n) != 0) {
        job_error(j, "database unavailable");
        rc = JOB_RETRY;
        goto out;
    }
    int mrc = ml_train(c, n, &o, &m, NULL, err, sizeof err);
    if (mrc == ML_ERR_ENGINE) {
        /* a GPU that failed mid-way (out of memory, reset): the CPU gives the same model within the
         * GPU's tolerance, and a job that fails here would fail again on this worker */
        log_warn("model %s: training on the GPU failed (%s): training on the CPU instead", id, err);
        o.engine = NULL;
        tp.from = tp.reached;
        mrc = ml_train(c, n, &o, &m, NULL, err, sizeof err);
    }
    if (mrc == ML_ERR_CANCELLED) {
        rc = JOB_STOPPED;
        goto out;
    }
    if (mrc != ML_OK) {
        job_error(j, "training failed: %s", err);
        rc = mrc == ML_ERR_NOMEM ? JOB_RETRY : JOB_FAIL;
        goto out;
    }
    json_t *rep = ml_report_to_json(m);
    model_text = ml_model_dumps(m);
    report_text = rep ? json_dumps(rep, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(rep);
    if (!model_text || !report_text) {
        job_error(j, "out of memory");
        rc = JOB_RETRY;
        goto out;
    }
    const char *backend = o.engine ? "cuda" : "cpu";
    const char *u[] = {id, model_text, report_text, backend};
    if (db_exec(NULL, "ml_train_store",
                "UPDATE ml_models SET model = $2::jsonb, report = $3::jsonb, backend = $4, finished_at = now() "
                "WHERE id = $1::bigint AND finished_at IS NULL",
                4, u) < 0) {
        job_error(j, "database unavailable");
        rc = JOB_RETRY;
        goto out;
    }
    json_t *res = json_pack("{s:I,s:I,s:i,s:s,s:o,s:o}", "model_id", (json_int_t)atoll(id), "candles",
                            (json_int_t)n, "epochs", m->report.epochs_run, "backend", backend, "test_auc",
                            isfinite(m->report.test.auc) ? json_real(m->report.test.auc) : json_null(),
                            "baseline_test_log_loss",
                            isfinite(m->report.baseline_test.logloss) ? json_real(m->report.baseline_test.logloss)
                                                                      : json_null());
    job_set_result_json(j, res);
    rc = JOB_OK;
out:
    free(model_text);
    free(report_text);
    ml_model_free(m);
    free(c);
    PQclear(r);
    return rc;
}

int job_ml_predict(job_ctx *j)
{
    char id[24], tenant[24];
    int outcome;
    PGresult *r = job_load_row(j, "run_id", "prediction run", "ml_predict_load",
                               "SELECT r.model_id, r.exchange, r.symbol, r.timeframe, r.from_ms, r.to_ms, m.model, "
                               "r.finished_at IS NOT NULL "
                               "FROM ml_prediction_runs r JOIN ml_models m ON m.id = r.model_id AND m.tenant_id = r.tenant_id "
                               "WHERE r.id = $1::bigint AND r.tenant_id = $2::bigint",
                               id, sizeof id, &outcome);
    if (!r)
        return outcome;
    snprintf(tenant, sizeof tenant, "%lld", j->job->tenant_id);
    int rc = JOB_FAIL;
    candle *w = NULL, *c = NULL;
    double *prob = NULL;
    ml_model *m = NULL;
    char err[256] = "";
    if (!strcmp(PQgetvalue(r, 0, 7), "t")) {
        char res[64];
        snprintf(res, sizeof res, "{\"run_id\":%s}", id);
        job_set_result(j, res);
        rc = JOB_OK;
        goto out;
    }
    if (PQgetisnull(r, 0, 6)) {
        job_error(j, "model %s is not trained yet", PQgetvalue(r, 0, 0));
        goto out;
    }
    const char *mt = PQgetvalue(r, 0, 6);
    if (ml_model_loads(mt, strlen(mt), &m, err, sizeof err) != ML_OK) {
        job_error(j, "the model cannot be read: %s", err);
        goto out;
    }
    const char *exch = PQgetvalue(r, 0, 1), *sym = PQgetvalue(r, 0, 2), *tf = PQgetvalue(r, 0, 3);
    int64_t from = strtoll(PQgetvalue(r, 0, 4), NULL, 10), to = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
    /* the model's warm-up before the period, so its first candle already has a prediction */
    size_t nw = 0, nc = 0;
    if (candles_db_before(exch, sym, tf, from, ml_model_first_row(m), &w, &nw) != 0 ||
        candles_db_range(exch, sym, tf, from, to, 0, 0, &c, &nc) != 0) {
        job_error(j, "database unavailable");
        rc = JOB_RETRY;
        goto out;
    }
    if (!nc) {
        job_error(j, "%s has no %s candles in the period", sym, tf);
        goto out;
    }
    candle *all = realloc(w, (nw + nc) * sizeof *w);
    if (!all) {
        job_error(j, "out of memory");
        rc = JOB_RETRY;
        goto out;
    }
    w = all;
    memcpy(w + nw, c, nc * sizeof *c);
    prob = malloc((nw + nc) * sizeof *prob);
    if (!prob) {
        job_error(j, "out of memory");
        rc = JOB_RETRY;
        goto out;
    }
    if (job_progress(j, 0.1)) {
        rc = JOB_STOPPED;
        goto out;
    }
    int prc = ml_predict_series(m, w, nw + nc, (int)config_int("worker.compute_threads"), prob);
    if (prc != ML_OK) {
        job_error(j, "prediction failed (%s)", prc == ML_ERR_NOMEM ? "out of memory" : "an invalid candle");
        rc = prc == ML_ERR_NOMEM ? JOB_RETRY : JOB_FAIL;
        goto out;
    }
    if (job_progress(j, 0.6)) {
        rc = JOB_STOPPED;
        goto out;
    }
    long stored = mlpred_store(PQgetvalue(r, 0, 0), tenant, exch, sym, tf, w, prob, nw, nw + nc);
    char cnt[24];
    snprintf(cnt, sizeof cnt, "%ld", stored);
    const char *u[] = {id, cnt};
    if (stored < 0 || db_exec(NULL, "ml_predict_done",
                              "UPDATE ml_prediction_runs SET predictions = $2::bigint, finished_at = now() "
                              "WHERE id = $1::bigint AND finished_at IS NULL",
                              2, u) < 0) {
        job_error(j, "database unavailable");
        rc = JOB_RETRY;
        goto out;
    }
    json_t *res = json_pack("{s:I,s:I,s:I}", "run_id", (json_int_t)atoll(id), "candles", (json_int_t)nc,
                            "predictions", (json_int_t)stored);
    job_set_result_json(j, res);
    rc = JOB_OK;
out:
    ml_model_free(m);
    free(prob);
    free(w);
    free(c);
    PQclear(r);
    return rc;
}
