/* backtest_job.c — the "backtest" job: loads the backtest's candles (with the warm-up before its
 * start), runs lib/trading's engine over them, and stores the report beside the backtest. */
#include "backtest.h"
#include "candles_db.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "ml_predictions.h"
#include "report.h"
#include "telegram_out.h"
#include "worker.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int backtest_progress(double fraction, void *ud)
{
    return job_progress(ud, fraction);
}

/* The symbols of a PostgreSQL text[] as text ("{BTCUSDT,ETHUSDT}") into names[]; returns how many. */
static int backtest_symbols(const char *arr, char names[][40], int max)
{
    int n = 0;
    const char *s = arr + (*arr == '{');
    while (*s && *s != '}' && n < max) {
        size_t k = strcspn(s, ",}");
        if (k == 0 || k >= 40)
            return -1;
        memcpy(names[n], s, k);
        names[n++][k] = '\0';
        s += k + (s[k] == ',');
    }
    return n;
}

int job_backtest(job_ctx *j)
{
    char id[24];
    int outcome;
    PGresult *r = job_load_row(j, "backtest_id", "backtest", "backtest_job_load",
                               "SELECT exchange, symbols, timeframe, from_ms, to_ms, initial_balance, config, report IS NOT NULL "
                               "FROM backtests WHERE id = $1::bigint AND tenant_id = $2::bigint",
                               id, sizeof id, &outcome);
    if (!r)
        return outcome;
    if (!strcmp(PQgetvalue(r, 0, 7), "t")) {
        /* already run: a redelivered job changes nothing */
        PQclear(r);
        char res[64];
        snprintf(res, sizeof res, "{\"backtest_id\":%s}", id);
        job_set_result(j, res);
        return JOB_OK;
    }
    int rc = JOB_FAIL;
    char names[ENGINE_MAX_SYMBOLS][40];
    const char *symp[ENGINE_MAX_SYMBOLS];
    candle *data[ENGINE_MAX_SYMBOLS] = {0};
    double *ext[ENGINE_MAX_SYMBOLS] = {0};
    bt_series series[ENGINE_MAX_SYMBOLS];
    bt_result res;
    bt_metrics m;
    memset(&res, 0, sizeof res);
    memset(&m, 0, sizeof m);
    int have_res = 0, have_m = 0;
    json_error_t je;
    json_t *cj = json_loads(PQgetvalue(r, 0, 6), 0, &je);
    engine_config cfg;
    char err[256] = "";
    const char *why = "error"; /* what a Telegram chat is told if this ends the job for good */
    int nsym = backtest_symbols(PQgetvalue(r, 0, 1), names, ENGINE_MAX_SYMBOLS);
    if (!cj || engine_config_from_json(&cfg, cj, err, sizeof err) != 0 || nsym < 1) {
        job_error(j, "the backtest's configuration cannot be read: %s", err);
        why = "invalid";
        goto out;
    }
    const char *exch = PQgetvalue(r, 0, 0), *tf = PQgetvalue(r, 0, 2);
    int64_t from = strtoll(PQgetvalue(r, 0, 3), NULL, 10), to = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
    size_t warm = (size_t)engine_warmup_candles(&cfg);
    if (warm > (size_t)config_int("backtests.warmup_max"))
        warm = (size_t)config_int("backtests.warmup_max");
    for (int s = 0; s < nsym; s++) {
        candle *w = NULL, *c = NULL;
        size_t nw = 0, nc = 0;
        if (candles_db_before(exch, names[s], tf, from, warm, &w, &nw) != 0 ||
            candles_db_range(exch, names[s], tf, from, to, 0, 0, &c, &nc) != 0) {
            free(w);
            free(c);
            job_error(j, "database unavailable");
            rc = JOB_RETRY;
            goto out;
        }
        data[s] = realloc(w, (nw + nc) * sizeof *w + 1);
        if (!data[s]) {
            free(w);
            free(c);
            job_error(j, "out of memory");
            rc = JOB_RETRY;
            goto out;
        }
        if (nc)
            memcpy(data[s] + nw, c, nc * sizeof *c);
        free(c);
        if (!nc) {
            job_error(j, "%s has no %s candles in the period", names[s], tf);
            why = "no_candles";
            goto out;
        }
        int mrc = mlpred_series(j->job->tenant_id, &cfg, exch, names[s], tf, data[s], nw + nc, &ext[s], err,
                                   sizeof err);
        if (mrc < 0) {
            job_error(j, "%s", err);
            rc = mrc == -2 ? JOB_FAIL : JOB_RETRY;
            why = mrc == -2 ? "no_predictions" : why;
            goto out;
        }
        series[s] = (bt_series){data[s], nw + nc, nw, ext[s]};
        symp[s] = names[s];
    }
    int brc = backtest_run(&cfg, series, nsym, strtod(PQgetvalue(r, 0, 5), NULL), backtest_progress, j, &res, err,
                           sizeof err);
    if (brc == BT_ECANCELLED) {
        rc = JOB_STOPPED;
        goto out;
    }
    if (brc != 0) {
        job_error(j, "%s", err);
        rc = brc == BT_ENOMEM ? JOB_RETRY : JOB_FAIL;
        why = brc == BT_EINVAL ? "invalid" : why;
        goto out;
    }
    have_res = 1;
    if (bt_metrics_compute(&res, &m) != 0) {
        job_error(j, "out of memory");
        rc = JOB_RETRY;
        goto out;
    }
    have_m = 1;
    json_t *report = bt_report_json(&res, &m, symp, 600);
    char *text = report ? json_dumps(report, JSON_COMPACT) : NULL;
    json_decref(report);
    if (!text) {
        job_error(j, "out of memory");
        rc = JOB_RETRY;
        goto out;
    }
    const char *u[] = {id, text};
    /* only the first run stores its report: a duplicate delivery computes the same one */
    long n = db_exec(NULL, "backtest_job_store",
                     "UPDATE backtests SET report = $2::jsonb, finished_at = now() WHERE id = $1::bigint AND report IS NULL",
                     2, u);
    free(text);
    if (n < 0) {
        job_error(j, "database unavailable");
        rc = JOB_RETRY;
        goto out;
    }
    char result[160];
    snprintf(result, sizeof result, "{\"backtest_id\":%s,\"trades\":%zu,\"final_equity\":%.2f}", id, res.ntrades,
             res.final_equity);
    job_set_result(j, result);
    telegram_backtest_done(id, (long)res.ntrades, res.final_equity); /* a /backtest from Telegram is told */
    rc = JOB_OK;
out:
    /* a /backtest from Telegram hears of the end too: a retry still to come is not one */
    if (rc == JOB_FAIL || (rc == JOB_RETRY && j->job->attempt >= j->job->max_attempts))
        telegram_backtest_failed(id, why);
    else if (rc == JOB_STOPPED && j->stop == JOB_STOP_CANCEL)
        telegram_backtest_failed(id, "cancelled");
    if (have_m)
        bt_metrics_free(&m);
    if (have_res)
        bt_result_free(&res);
    for (int s = 0; s < ENGINE_MAX_SYMBOLS; s++) {
        free(data[s]);
        free(ext[s]);
    }
    json_decref(cj);
    PQclear(r);
    return rc;
}
