/* optimize_pages.h — what the optimization and walk-forward pages share: the request (market,
 * period, balance, base strategy, search space), the stored row and its status, cancel, delete. */
#ifndef BCF_OPTIMIZE_PAGES_H
#define BCF_OPTIMIZE_PAGES_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "request.h"
#include "strategy.h"

/* One kind of row of the optimizations table and its pages. */
typedef struct optp_kind {
    const char *kind;      /* optimizations.kind: "search" or "walk_forward" */
    const char *job_type;  /* the job that runs it: "optimize" or "walk_forward" */
    const char *path;      /* "/optimizations" or "/walk-forward" */
    const char *lang;      /* the section of the pages' strings: "optimizations" or "walkforward" */
    const char *tpl_dir;   /* templates/<dir>/{index,new,show}.cs */
    const char *error_code; /* of a refused request: "invalid_optimization", "invalid_walk_forward" */
} optp_kind;

extern const optp_kind optp_search, optp_walk_forward;

/* The checked parts both requests share. */
typedef struct optp_input {
    const char *name, *strategy;
    char exchange[40], symbol[40], timeframe[8];
    int64_t from_ms, to_ms;
    int64_t traded;         /* candles of the period the stored series holds (the worker counts again) */
    double initial_balance;
    json_t *config;         /* the base strategy, engine_config_to_json form (owned) */
    engine_config base;
} optp_input;

/* The kind's own part of a create: the spec to store (from the JSON body's "spec" or the form's
 * fields), checked against in, and its total (parameter sets or windows). NULL with
 * "field: reason" in err. */
typedef json_t *(*optp_spec_fn)(request *req, const optp_input *in, int64_t *total, char *err, size_t errlen);

/* POST <path>: name, market ("exchange:symbol:timeframe"), from, to, initial_balance, the base
 * strategy (trading_form) and the spec. Refused: 422 naming the fields (JSON, or the form again)
 * with nothing stored; accepted: the row, its job and the optimizations.create audit record in
 * one transaction, then 201 {id, job_id} or a redirect to the new page; 429 past the quota. */
int optp_create(request *req, response *res, const optp_kind *k, optp_spec_fn spec_fn);

/* The tenant plan's cap on the parameter sets one search (or one walk-forward window) evaluates
 * (optimize.max_sets still caps every plan): 0 when sets fit, else -1 with "space: <why>" in err. */
int optp_plan_sets(request *req, int64_t sets, char *err, size_t errlen);

/* The search part of a request from the form's fields (method, objective, min_trades,
 * max_drawdown_pct, top, seed, samples, population, generations, mutation and s.<dim>.min|max|step
 * for every parameter of the strategy and risk control), shaped as optimize.h's spec JSON; NULL
 * with "field: reason" in err when a field is not a number. */
json_t *optp_search_from_form(request *req, const engine_config *base, char *err, size_t errlen);

/* A form field as a JSON number in *out (integral values as integers; NULL when the field is
 * absent or empty). 0, or -1 when it is not a number (integral: not a whole number). */
int optp_field_number(request *req, const char *field, int integral, json_t **out);

/* GET <path>/new: the form (strategy from ?strategy=, defaults elsewhere). */
int optp_new(request *req, response *res, const optp_kind *k);

/* GET <path>: the tenant's rows of the kind with status, progress and headline result. */
int optp_list(request *req, response *res, const optp_kind *k);

/* A stored row of the tenant, parsed. */
typedef struct optp_row {
    json_t *meta;    /* id, name, exchange, symbol, timeframe, strategy(_label), from, to, initial_balance,
                      * status, progress_pct, total, job_id, error, backend, created, finished, can_cancel */
    json_t *config;  /* the base strategy */
    json_t *spec;
    json_t *results; /* NULL until the job stores some */
} optp_row;

/* Loads row id of the kind for the tenant: 1 found, 0 not (another tenant's is not found), -1 on a
 * database error. optp_row_free releases what it holds. */
int optp_load(request *req, const optp_kind *k, const char *id, optp_row *out);
void optp_row_free(optp_row *r);

/* POST <path>/{id}/cancel: the job cancelled through the queue (its jobs.cancel audit record). */
int optp_cancel(request *req, response *res, const optp_kind *k);
/* POST <path>/{id}/delete: the row (a queued or running job cancelled first). */
int optp_delete(request *req, response *res, const optp_kind *k);

/* The name of a search dimension (a parameter of kind or a risk control) in the request's language. */
const char *optp_dim_label(request *req, int kind, const char *name);
/* The objective's name in the request's language. */
const char *optp_objective_label(request *req, const char *objective);
/* A number as the pages show it ("—" when not a number). */
const char *optp_num(arena *a, const json_t *v, int decimals, const char *suffix);
/* "2024-01-02" for epoch ms. */
const char *optp_date(arena *a, int64_t ms);
/* The values of a result as "fast = 5, slow = 20" in the order of space (the spec's). */
const char *optp_values_text(request *req, int kind, const json_t *space, const json_t *values);
#endif
