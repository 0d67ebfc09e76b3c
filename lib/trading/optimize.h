/* optimize.h — parameter optimization: a search space over a strategy's parameters and risk
 * controls, grid / random / genetic search, objectives and constraints, bounded memory, resumable. */
#ifndef BCF_TRADING_OPTIMIZE_H
#define BCF_TRADING_OPTIMIZE_H
#include "strategy.h"
#include "sweep.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Memory does not grow with the length of a search: an optimizer keeps the best `top` results
 * (at most OPT_TOP_MAX), for a two-dimensional grid one score per cell (at most OPT_HEATMAP_MAX
 * cells), and for the genetic search one generation. Everything else is counted, not kept.
 *
 * Resuming: opt_checkpoint() writes that whole state as JSON and opt_restore() takes it back;
 * the search then continues where it stopped and ends with the same results as a run that never
 * stopped (grid and random are addressed by index, the genetic search by generation, each with
 * its own seeded generator). See docs/optimization.md.
 */

#define OPT_MAX_DIMS 6
#define OPT_TOP_MAX 200
#define OPT_HEATMAP_MAX 10000
#define OPT_POPULATION_MAX 1000

typedef enum opt_method { OPT_GRID = 0, OPT_RANDOM, OPT_GENETIC, OPT_METHOD_COUNT } opt_method;
typedef enum opt_objective {
    OBJ_SHARPE = 0,
    OBJ_SORTINO,
    OBJ_CALMAR,
    OBJ_PROFIT,    /* profit_pct */
    OBJ_PROFIT_DD, /* profit_pct / max(max_drawdown_pct, 1) */
    OBJ_COUNT
} opt_objective;

/* Dimension targets beyond the strategy's own parameters (0..STRATEGY_MAX_PARAMS-1). */
enum { OPT_T_STOP_LOSS = 100, OPT_T_TAKE_PROFIT, OPT_T_TRAILING_STOP, OPT_T_TRAILING_OFFSET, OPT_T_STAKE };

/* One searched dimension: the values min, min + step, ... up to max (count of them). */
typedef struct opt_dim {
    char name[32]; /* "fast", "stop_loss_pct", ... */
    int target;    /* a params index, or OPT_T_* */
    int is_int;    /* integer parameter: every value is integral */
    double min, max, step;
    int64_t count;
} opt_dim;

typedef struct opt_spec {
    engine_config base; /* every field not searched */
    int ndims;
    opt_dim dims[OPT_MAX_DIMS];
    int method;    /* opt_method */
    int objective; /* opt_objective */
    int64_t min_trades;      /* a result with fewer trades is infeasible */
    double max_drawdown_pct; /* 0: no limit; else a deeper drawdown is infeasible */
    int64_t samples;         /* random: parameter sets drawn */
    int population, generations; /* genetic */
    double mutation;         /* genetic: chance per gene, 0..1 */
    uint64_t seed;
    int top;                 /* results kept, 1..OPT_TOP_MAX */
} opt_spec;

/* {"method":"grid","objective":"sharpe","constraints":{"min_trades":5,"max_drawdown_pct":40},
 *  "space":{"fast":{"min":5,"max":50,"step":5},"stop_loss_pct":{"min":1,"max":5,"step":1}},
 *  "samples":500,"population":40,"generations":20,"mutation":0.2,"seed":1,"top":50}
 * over the base config (whose kind names the parameters). Only "space" is required. Checks every
 * field and that the search evaluates at most max_sets parameter sets. 0, or -1 with
 * "field: reason" in err. */
int opt_spec_from_json(opt_spec *s, const engine_config *base, const json_t *j, int64_t max_sets, char *err,
                       size_t errlen);
json_t *opt_spec_to_json(const opt_spec *s);

const char *opt_method_name(int m);
const char *opt_objective_name(int o);
/* Parameter sets the search evaluates (grid: the product of the counts, valid or not). */
int64_t opt_total(const opt_spec *s);

/* One result: the searched values, the objective (NAN when infeasible), the metrics. */
typedef struct opt_result {
    double values[OPT_MAX_DIMS];
    double score;
    sweep_metrics m;
} opt_result;

typedef struct optimizer optimizer;

optimizer *opt_new(const opt_spec *s);
void opt_free(optimizer *o);

/* The next parameter sets to score, at most max: their configs and values. 0 when the search is
 * over. Sets whose config fails engine_config_check (fast >= slow) are skipped and counted. */
size_t opt_next(optimizer *o, engine_config *cfgs, double (*values)[OPT_MAX_DIMS], size_t max);
/* The scores of the sets the last opt_next gave, in its order. */
void opt_feed(optimizer *o, const sweep_stats *st, int64_t timeframe_ms);

typedef struct opt_progress {
    int64_t done;       /* sets scored or skipped as invalid */
    int64_t total;
    int64_t feasible;   /* scored and within the constraints */
    int64_t invalid;    /* skipped: not a valid config */
    int generation;     /* genetic: generations finished */
} opt_progress;
void opt_get_progress(const optimizer *o, opt_progress *p);

/* The best results, best first (score descending, then the order found); *n of them. */
const opt_result *opt_top(const optimizer *o, size_t *n);
/* The k-th value of a dimension (0 <= k < count): min + k × step, rounded for an integer. */
double opt_dim_value(const opt_dim *d, int64_t k);
/* The config of a result's values (the base with the values set). */
void opt_config(const opt_spec *s, const double *values, engine_config *out);
/* The objective of metrics m under s: NAN when infeasible (constraints, undefined metric). */
double opt_score(const opt_spec *s, const sweep_metrics *m);

/* The state to resume from, and back. opt_restore refuses (-1) a checkpoint of another spec. */
json_t *opt_checkpoint(const optimizer *o);
int opt_restore(optimizer *o, const json_t *j);

/* The results as JSON: {"progress", "top": [{"values":{name: v}, "score", "metrics"}],
 * "heatmap": {"x", "y", "xs", "ys", "scores"[y][x]} (two-dimensional grids only)}. */
json_t *opt_results_json(const optimizer *o);
json_t *opt_metrics_json(const sweep_metrics *m);
/* Reads opt_metrics_json's form back (null: NAN). */
void opt_metrics_from_json(const json_t *j, sweep_metrics *m);

/* A whole search on the CPU: opt_next / sweep_run / opt_feed in batches of `batch` sets, calling
 * tick (when not NULL) after each batch; a non-zero tick stops it (returns SWEEP_ECANCELLED, the
 * state stays resumable). eval is sweep_run's signature: tests pass sweep_run, the worker its
 * backend. */
typedef int (*opt_eval_fn)(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o,
                           sweep_stats *out);
typedef int (*opt_tick_fn)(optimizer *o, void *ud);
int opt_run(optimizer *o, const sweep_data *d, const sweep_opts *so, opt_eval_fn eval, size_t batch,
            opt_tick_fn tick, void *ud);
#endif
