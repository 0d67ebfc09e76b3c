/* optimize_job.c — the "optimize" and "walk_forward" jobs: load the market's candles once, run the
 * search (or each window's) on the worker's compute backend, checkpoint as it goes, store results. */
#include "candles_db.h"
#include "config.h"
#include "backend.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "ml_predictions.h"
#include "optimize.h"
#include "sweep.h"
#include "walkforward.h"
#include "worker.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What both jobs read of their row. */
typedef struct opt_job {
    job_ctx *j;
    char id[24];
    char kind[16];
    engine_config base;
    json_t *spec, *checkpoint, *results;
    double initial_balance;
    candle *candles;
    size_t ncandles, start;
    sweep_data data;
    double *ext; /* ml_signal: the model's predictions beside the candles */
    int have_data;
    double last_save; /* monotonic seconds of the last checkpoint written */
} opt_job;

static double opt_job_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void opt_job_free(opt_job *o)
{
    if (o->have_data)
        sweep_data_free(&o->data);
    free(o->candles);
    free(o->ext);
    json_decref(o->spec);
    json_decref(o->checkpoint);
    json_decref(o->results);
}

/* Loads the row and its candles (with warmup_max candles of history before the start, the most
 * any parameter set can ask for). JOB_OK when ready, 1 when already finished, else the outcome. */
static int opt_job_load(opt_job *o, const char *want_kind)
{
    job_ctx *j = o->j;
    int outcome;
    PGresult *r = job_load_row(j, "optimization_id", "optimization", "optimize_job_load",
                               "SELECT kind, exchange, symbol, timeframe, from_ms, to_ms, initial_balance, config, spec, "
                               "checkpoint, results, finished_at IS NOT NULL "
                               "FROM optimizations WHERE id = $1::bigint AND tenant_id = $2::bigint",
                               o->id, sizeof o->id, &outcome);
    if (!r)
        return outcome;
    int rc = JOB_FAIL;
    if (!strcmp(PQgetvalue(r, 0, 11), "t")) {
        rc = 1; /* a redelivered job: already done */
        goto out;
    }
    snprintf(o->kind, sizeof o->kind, "%s", PQgetvalue(r, 0, 0));
    if (strcmp(o->kind, want_kind)) {
        job_error(j, "optimization %s is a %s, not a %s", o->id, o->kind, want_kind);
        goto out;
    }
    json_error_t je;
    json_t *cfg = json_loads(PQgetvalue(r, 0, 7), 0, &je);
    char err[256] = "";
    if (!cfg || engine_config_from_json(&o->base, cfg, err, sizeof err) != 0) {
        json_decref(cfg);
        job_error(j, "the optimization's strategy cannot be read: %s", err);
        goto out;
    }
    json_decref(cfg);
    o->spec = json_loads(PQgetvalue(r, 0, 8), 0, &je);
    o->checkpoint = PQgetisnull(r, 0, 9) ? NULL : json_loads(PQgetvalue(r, 0, 9), 0, &je);
    o->results = PQgetisnull(r, 0, 10) ? NULL : json_loads(PQgetvalue(r, 0, 10), 0, &je);
    o->initial_balance = strtod(PQgetvalue(r, 0, 6), NULL);
    const char *exch = PQgetvalue(r, 0, 1), *sym = PQgetvalue(r, 0, 2), *tf = PQgetvalue(r, 0, 3);
    int64_t from = strtoll(PQgetvalue(r, 0, 4), NULL, 10), to = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
    candle *w = NULL, *c = NULL;
    size_t nw = 0, nc = 0;
    if (candles_db_before(exch, sym, tf, from, (size_t)config_int("backtests.warmup_max"), &w, &nw) != 0 ||
        candles_db_range(exch, sym, tf, from, to, 0, 0, &c, &nc) != 0) {
        free(w);
        free(c);
        job_error(j, "database unavailable");
        rc = JOB_RETRY;
        goto out;
    }
    if (!nc) {
        free(w);
        free(c);
        job_error(j, "%s has no %s candles in the period", sym, tf);
        goto out;
    }
    o->candles = realloc(w, (nw + nc) * sizeof *w);
    if (!o->candles) {
        free(w);
        free(c);
        job_error(j, "out of memory");
        rc = JOB_RETRY;
        goto out;
    }
    memcpy(o->candles + nw, c, nc * sizeof *c);
    free(c);
    o->ncandles = nw + nc;
    o->start = nw;
    if (sweep_data_init(&o->data, o->candles, o->ncandles, o->start, candle_timeframe_ms(tf), err, sizeof err) != 0) {
        job_error(j, "%s", err);
        goto out;
    }
    o->have_data = 1;
    int mrc = mlpred_series(j->job->tenant_id, &o->base, exch, sym, tf, o->candles, o->ncandles, &o->ext, err,
                               sizeof err);
    if (mrc < 0) {
        job_error(j, "%s", err);
        rc = mrc == -2 ? JOB_FAIL : JOB_RETRY;
        goto out;
    }
    o->data.ext = o->ext;
    rc = JOB_OK;
out:
    PQclear(r);
    return rc;
}

/* Loads o for job j. -1 when it is ready to run; otherwise the outcome to return at once (a
 * redelivered job of a finished optimization is JOB_OK with its id as the result). */
static int opt_job_begin(opt_job *o, job_ctx *j, const char *kind)
{
    memset(o, 0, sizeof *o);
    o->j = j;
    int rc = opt_job_load(o, kind);
    if (rc == JOB_OK)
        return -1;
    opt_job_free(o);
    if (rc == 1) {
        char res[64];
        snprintf(res, sizeof res, "{\"optimization_id\":%s}", o->id);
        job_set_result(j, res);
        return JOB_OK;
    }
    return rc;
}

/* Stores results (and the checkpoint, NULL when finished) in one statement. */
static int opt_job_store(opt_job *o, json_t *results, json_t *checkpoint, int finished)
{
    char *res = json_dumps(results, JSON_COMPACT | JSON_REAL_PRECISION(17));
    char *ck = checkpoint ? json_dumps(checkpoint, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    const char *p[] = {o->id, res, ck, finished ? "t" : "f", worker_backend};
    long n = res && (ck || !checkpoint)
                 ? db_exec(NULL, "optimize_job_store",
                           "UPDATE optimizations SET results = $2::jsonb, checkpoint = $3::jsonb, backend = $5, "
                           "finished_at = CASE WHEN $4::boolean THEN now() END "
                           "WHERE id = $1::bigint AND finished_at IS NULL",
                           5, p)
                 : -1;
    free(res);
    free(ck);
    return n < 0 ? -1 : 0;
}

/* Progress inside a batch: the job's lease, and its cancel. */
typedef struct opt_job_tick {
    opt_job *o;
    optimizer *opt;
    int64_t base_done, total; /* the search's sets done before this batch, and in all */
    size_t window, windows;   /* walk-forward: the window in progress */
    int failed;               /* a checkpoint could not be written */
} opt_job_tick;

static int opt_job_sweep_progress(size_t done, size_t total, void *ud)
{
    opt_job_tick *t = ud;
    double f;
    if (t->windows)
        f = ((double)t->window + (total ? (double)done / (double)total : 0)) / (double)t->windows;
    else
        f = t->total ? (double)(t->base_done + (int64_t)done) / (double)t->total : 0;
    return job_progress(t->o->j, f > 1 ? 1 : f);
}

/* After each batch of a search: progress, and every optimize.checkpoint_ms the state. */
static int opt_job_batch(optimizer *opt, void *ud)
{
    opt_job_tick *t = ud;
    opt_progress p;
    opt_get_progress(opt, &p);
    t->base_done = p.done;
    double now = opt_job_now();
    if (now - t->o->last_save >= config_int("optimize.checkpoint_ms") / 1000.0) {
        json_t *res = opt_results_json(opt), *ck = opt_checkpoint(opt);
        if (opt_job_store(t->o, res, ck, 0) != 0)
            t->failed = 1; /* not fatal: the next one tries again */
        else
            t->o->last_save = now;
        json_decref(res);
        json_decref(ck);
    }
    return job_progress(t->o->j, p.total ? (double)p.done / (double)p.total : 1);
}

static sweep_opts opt_job_sweep_opts(opt_job_tick *t)
{
    sweep_opts so = {.initial_balance = t->o->initial_balance,
                     .warmup_max = (int)config_int("backtests.warmup_max"),
                     .threads = (int)config_int("worker.compute_threads"),
                     .progress = opt_job_sweep_progress,
                     .ud = t};
    return so;
}

int job_optimize(job_ctx *j)
{
    opt_job o;
    int rc = opt_job_begin(&o, j, "search");
    if (rc >= 0)
        return rc;
    opt_spec spec;
    char err[256] = "";
    optimizer *opt = NULL;
    if (opt_spec_from_json(&spec, &o.base, o.spec, config_int("optimize.max_sets"), err, sizeof err) != 0) {
        job_error(j, "the optimization's search cannot be read: %s", err);
        rc = JOB_FAIL;
        goto out;
    }
    opt = opt_new(&spec);
    if (!opt) {
        job_error(j, "out of memory");
        rc = JOB_RETRY;
        goto out;
    }
    /* a retried job resumes where its last checkpoint left it */
    if (o.checkpoint && opt_restore(opt, o.checkpoint) == 0)
        log_info("optimization %s resumes from its checkpoint", o.id);
    opt_job_tick t = {&o, opt, 0, opt_total(&spec), 0, 0, 0};
    opt_progress p;
    opt_get_progress(opt, &p);
    t.base_done = p.done;
    o.last_save = opt_job_now();
    sweep_opts so = opt_job_sweep_opts(&t);
    int src = opt_run(opt, &o.data, &so, backend_sweep, 256, opt_job_batch, &t);
    if (src == SWEEP_ECANCELLED) {
        rc = JOB_STOPPED; /* the last checkpoint stays: a retry resumes from it */
        goto out;
    }
    if (src != 0) {
        job_error(j, "the search failed (%s)", src == SWEEP_ENOMEM ? "out of memory" : "invalid data");
        rc = src == SWEEP_ENOMEM ? JOB_RETRY : JOB_FAIL;
        goto out;
    }
    json_t *res = opt_results_json(opt);
    int st = opt_job_store(&o, res, NULL, 1);
    json_decref(res);
    if (st != 0) {
        job_error(j, "database unavailable");
        rc = JOB_RETRY;
        goto out;
    }
    opt_get_progress(opt, &p);
    size_t ntop;
    const opt_result *top = opt_top(opt, &ntop);
    json_t *jr = json_pack("{s:I,s:I,s:I,s:s}", "optimization_id", (json_int_t)atoll(o.id), "evaluated",
                           (json_int_t)p.done, "feasible", (json_int_t)p.feasible, "backend", worker_backend);
    if (ntop)
        json_object_set_new(jr, "best_score", json_real(top[0].score));
    job_set_result_json(j, jr);
    rc = JOB_OK;
out:
    opt_free(opt);
    opt_job_free(&o);
    return rc;
}

/* After each walk-forward window: the report so far, so a retry resumes after it. */
typedef struct wf_job_tick {
    opt_job_tick t;
    const wf_spec *spec;
    const wf_window *w;
} wf_job_tick;

static int wf_job_window(size_t done, size_t total, void *ud)
{
    wf_job_tick *wt = ud;
    wt->t.window = done;
    json_t *rep = wf_report_json(wt->spec, &wt->t.o->data.se, wt->w, done);
    if (opt_job_store(wt->t.o, rep, NULL, 0) != 0)
        wt->t.failed = 1;
    json_decref(rep);
    return job_progress(wt->t.o->j, (double)done / (double)total);
}

int job_walk_forward(job_ctx *j)
{
    opt_job o;
    int rc = opt_job_begin(&o, j, "walk_forward");
    if (rc >= 0)
        return rc;
    wf_spec spec;
    char err[256] = "";
    wf_window *w = calloc(WF_MAX_WINDOWS, sizeof *w);
    if (!w) {
        opt_job_free(&o);
        job_error(j, "out of memory");
        return JOB_RETRY;
    }
    if (wf_spec_from_json(&spec, &o.base, o.spec, (int64_t)(o.ncandles - o.start), config_int("optimize.max_sets"),
                          err, sizeof err) != 0) {
        job_error(j, "the walk-forward cannot be read: %s", err);
        rc = JOB_FAIL;
        goto out;
    }
    size_t nw = wf_windows(&spec, &o.data.se, w, WF_MAX_WINDOWS);
    if (!nw) {
        job_error(j, "the period holds no whole window");
        rc = JOB_FAIL;
        goto out;
    }
    /* windows already reported by an earlier attempt are kept */
    long done = o.results ? wf_windows_from_json(&spec, o.results, w, nw) : 0;
    if (done < 0)
        done = 0;
    wf_job_tick wt = {{&o, NULL, 0, 0, (size_t)done, nw, 0}, &spec, w};
    sweep_opts so = opt_job_sweep_opts(&wt.t);
    int src = wf_run(&spec, &o.data, &so, backend_sweep, w, nw, (size_t)done, wf_job_window, &wt);
    if (src == SWEEP_ECANCELLED) {
        rc = JOB_STOPPED;
        goto out;
    }
    if (src != 0) {
        job_error(j, "the walk-forward failed (%s)", src == SWEEP_ENOMEM ? "out of memory" : "invalid data");
        rc = src == SWEEP_ENOMEM ? JOB_RETRY : JOB_FAIL;
        goto out;
    }
    json_t *rep = wf_report_json(&spec, &o.data.se, w, nw);
    int st = opt_job_store(&o, rep, NULL, 1);
    json_t *sum = json_incref(json_object_get(rep, "summary"));
    json_decref(rep);
    if (st != 0) {
        json_decref(sum);
        job_error(j, "database unavailable");
        rc = JOB_RETRY;
        goto out;
    }
    job_set_result_json(j, json_pack("{s:I,s:i,s:o,s:s}", "optimization_id", (json_int_t)atoll(o.id), "windows",
                                     (int)nw, "summary", sum, "backend", worker_backend));
    rc = JOB_OK;
out:
    free(w);
    opt_job_free(&o);
    return rc;
}
