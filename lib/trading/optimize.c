/* optimize.c — the search: grid and random sets addressed by index, genetic generations from a
 * seeded generator, a bounded best-results table, the heatmap, checkpoints as JSON. */
#include "optimize.h"
#include "synth.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT_CHECKPOINT_VERSION 1
#define OPT_DIM_MAX_VALUES 1000000
#define OPT_ELITES 2
#define OPT_TOURNAMENT 3

static const char *const opt_methods[OPT_METHOD_COUNT] = {"grid", "random", "genetic"};
static const char *const opt_objectives[OBJ_COUNT] = {"sharpe", "sortino", "calmar", "profit", "profit_dd"};

const char *opt_method_name(int m)
{
    return m >= 0 && m < OPT_METHOD_COUNT ? opt_methods[m] : "grid";
}

const char *opt_objective_name(int o)
{
    return o >= 0 && o < OBJ_COUNT ? opt_objectives[o] : "sharpe";
}

static int opt_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int opt_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- the space ---- */

typedef struct opt_risk_dim {
    const char *name;
    int target;
    double min, max; /* inclusive bounds of the control */
} opt_risk_dim;

static const opt_risk_dim opt_risk_dims[] = {
    {"stop_loss_pct", OPT_T_STOP_LOSS, 0, 99.99},
    {"take_profit_pct", OPT_T_TAKE_PROFIT, 0, 10000},
    {"trailing_stop_pct", OPT_T_TRAILING_STOP, 0, 99.99},
    {"trailing_offset_pct", OPT_T_TRAILING_OFFSET, 0, 10000},
    {"stake_pct", OPT_T_STAKE, 0.01, 100},
};

static double opt_value(const opt_dim *d, int64_t k)
{
    double v = d->min + (double)k * d->step;
    if (d->is_int)
        v = round(v);
    return v > d->max ? d->max : v;
}

static void opt_set(engine_config *c, int target, double v)
{
    if (target >= 0 && target < STRATEGY_MAX_PARAMS) {
        c->params[target] = v;
        return;
    }
    switch (target) {
    case OPT_T_STOP_LOSS:
        c->risk.stop_loss_pct = v;
        break;
    case OPT_T_TAKE_PROFIT:
        c->risk.take_profit_pct = v;
        break;
    case OPT_T_TRAILING_STOP:
        c->risk.trailing_stop_pct = v;
        break;
    case OPT_T_TRAILING_OFFSET:
        c->risk.trailing_offset_pct = v;
        break;
    case OPT_T_STAKE:
        c->risk.stake_pct = v;
        break;
    }
}

void opt_config(const opt_spec *s, const double *values, engine_config *out)
{
    *out = s->base;
    for (int d = 0; d < s->ndims; d++)
        opt_set(out, s->dims[d].target, values[d]);
}

static int opt_dim_parse(opt_dim *d, const engine_config *base, const char *name, const json_t *v, char *err,
                         size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (strlen(name) >= sizeof d->name)
        return opt_fail(err, errlen, "space.%.40s: unknown parameter", name);
    snprintf(d->name, sizeof d->name, "%s", name);
    double lo = 0, hi = 0;
    const strategy_info *info = strategy_get(base->kind);
    d->target = -1;
    for (int i = 0; info && i < info->nparams; i++)
        if (!strcmp(info->params[i].name, name)) {
            d->target = i;
            d->is_int = info->params[i].type != PARAM_DOUBLE;
            lo = info->params[i].min;
            hi = info->params[i].max;
        }
    for (size_t i = 0; d->target < 0 && i < sizeof opt_risk_dims / sizeof opt_risk_dims[0]; i++)
        if (!strcmp(opt_risk_dims[i].name, name)) {
            d->target = opt_risk_dims[i].target;
            lo = opt_risk_dims[i].min;
            hi = opt_risk_dims[i].max;
        }
    if (d->target < 0)
        return opt_fail(err, errlen, "space.%s: not a parameter of %s nor a risk control", name,
                        info ? info->name : "the strategy");
    if (!json_is_object(v))
        return opt_fail(err, errlen, "space.%s: must be an object with min, max and step", name);
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x) if (strcmp(key, "min") && strcmp(key, "max") && strcmp(key, "step"))
        return opt_fail(err, errlen, "space.%s.%.40s: unknown field", name, key);
    json_t *jmin = json_object_get(v, "min"), *jmax = json_object_get(v, "max"), *jstep = json_object_get(v, "step");
    if (!json_is_number(jmin) || !json_is_number(jmax))
        return opt_fail(err, errlen, "space.%s: min and max must be numbers", name);
    d->min = json_number_value(jmin);
    d->max = json_number_value(jmax);
    if (jstep && !json_is_number(jstep))
        return opt_fail(err, errlen, "space.%s.step: must be a number", name);
    d->step = jstep ? json_number_value(jstep) : (d->is_int ? 1 : (d->max - d->min) / 10);
    if (!isfinite(d->min) || !isfinite(d->max) || d->min < lo || d->max > hi)
        return opt_fail(err, errlen, "space.%s: must lie within %g..%g", name, lo, hi);
    if (d->min > d->max)
        return opt_fail(err, errlen, "space.%s.max: must not be below min", name);
    if (d->min == d->max)
        d->step = 1; /* one value */
    if (!isfinite(d->step) || !(d->step > 0))
        return opt_fail(err, errlen, "space.%s.step: must be positive", name);
    if (d->is_int && (d->min != floor(d->min) || d->step != floor(d->step)))
        return opt_fail(err, errlen, "space.%s: an integer parameter needs integer min and step", name);
    double count = floor((d->max - d->min) / d->step + 1e-9) + 1;
    if (count > OPT_DIM_MAX_VALUES)
        return opt_fail(err, errlen, "space.%s: more than %d values", name, OPT_DIM_MAX_VALUES);
    d->count = (int64_t)count;
    return 0;
}

static int opt_int_field(const json_t *j, const char *key, int64_t lo, int64_t hi, int64_t *out, char *err,
                         size_t errlen)
{
    json_t *v = json_object_get(j, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return opt_fail(err, errlen, "%s: must be an integer in %lld..%lld", key, (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

int64_t opt_total(const opt_spec *s)
{
    switch (s->method) {
    case OPT_GRID: {
        int64_t t = 1;
        for (int d = 0; d < s->ndims; d++) {
            if (t > INT64_MAX / (s->dims[d].count ? s->dims[d].count : 1))
                return INT64_MAX;
            t *= s->dims[d].count;
        }
        return t;
    }
    case OPT_RANDOM:
        return s->samples;
    default:
        return (int64_t)s->population * s->generations;
    }
}

int opt_spec_from_json(opt_spec *s, const engine_config *base, const json_t *j, int64_t max_sets, char *err,
                       size_t errlen)
{
    opt_spec t;
    memset(&t, 0, sizeof t);
    t.base = *base;
    t.method = OPT_GRID;
    t.objective = OBJ_SHARPE;
    t.min_trades = 1;
    t.samples = 200;
    t.population = 40;
    t.generations = 20;
    t.mutation = 0.2;
    t.seed = 1;
    t.top = 50;
    if (!json_is_object(j))
        return opt_fail(err, errlen, "optimization: must be an object");
    static const char *const known[] = {"method", "objective", "constraints", "space", "samples", "population",
                                        "generations", "mutation", "seed", "top"};
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        size_t k = 0;
        while (k < sizeof known / sizeof known[0] && strcmp(known[k], key))
            k++;
        if (k == sizeof known / sizeof known[0])
            return opt_fail(err, errlen, "%.40s: unknown field", key);
    }
    if ((v = json_object_get(j, "method"))) {
        t.method = -1;
        for (int m = 0; json_is_string(v) && m < OPT_METHOD_COUNT; m++)
            if (!strcmp(json_string_value(v), opt_methods[m]))
                t.method = m;
        if (t.method < 0)
            return opt_fail(err, errlen, "method: must be grid, random or genetic");
    }
    if ((v = json_object_get(j, "objective"))) {
        t.objective = -1;
        for (int o = 0; json_is_string(v) && o < OBJ_COUNT; o++)
            if (!strcmp(json_string_value(v), opt_objectives[o]))
                t.objective = o;
        if (t.objective < 0)
            return opt_fail(err, errlen, "objective: must be sharpe, sortino, calmar, profit or profit_dd");
    }
    if ((v = json_object_get(j, "constraints"))) {
        if (!json_is_object(v))
            return opt_fail(err, errlen, "constraints: must be an object");
        json_t *x;
        json_object_foreach(v, key, x) if (strcmp(key, "min_trades") && strcmp(key, "max_drawdown_pct"))
            return opt_fail(err, errlen, "constraints.%.40s: unknown field", key);
        if (opt_int_field(v, "min_trades", 0, 1000000, &t.min_trades, err, errlen) < 0)
            return -1;
        x = json_object_get(v, "max_drawdown_pct");
        if (x && (!json_is_number(x) || json_number_value(x) < 0 || json_number_value(x) > 100))
            return opt_fail(err, errlen, "constraints.max_drawdown_pct: must be a number in 0..100");
        t.max_drawdown_pct = x ? json_number_value(x) : 0;
    }
    int64_t pop = t.population, gens = t.generations, top = t.top, seed = 1;
    if (opt_int_field(j, "samples", 1, 100000000, &t.samples, err, errlen) < 0 ||
        opt_int_field(j, "population", 4, OPT_POPULATION_MAX, &pop, err, errlen) < 0 ||
        opt_int_field(j, "generations", 1, 10000, &gens, err, errlen) < 0 ||
        opt_int_field(j, "top", 1, OPT_TOP_MAX, &top, err, errlen) < 0 ||
        opt_int_field(j, "seed", 0, INT64_MAX, &seed, err, errlen) < 0)
        return -1;
    t.population = (int)pop;
    t.generations = (int)gens;
    t.top = (int)top;
    t.seed = (uint64_t)seed;
    if ((v = json_object_get(j, "mutation"))) {
        if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
            return opt_fail(err, errlen, "mutation: must be a number in 0..1");
        t.mutation = json_number_value(v);
    }
    json_t *space = json_object_get(j, "space");
    if (!json_is_object(space) || json_object_size(space) == 0)
        return opt_fail(err, errlen, "space: at least one parameter to search");
    if (json_object_size(space) > OPT_MAX_DIMS)
        return opt_fail(err, errlen, "space: at most %d parameters", OPT_MAX_DIMS);
    json_object_foreach(space, key, v) {
        for (int d = 0; d < t.ndims; d++)
            if (!strcmp(t.dims[d].name, key))
                return opt_fail(err, errlen, "space.%s: given twice", key);
        if (opt_dim_parse(&t.dims[t.ndims], base, key, v, err, errlen) < 0)
            return -1;
        t.ndims++;
    }
    int64_t total = opt_total(&t);
    if (total > max_sets)
        return opt_fail(err, errlen, "space: %lld parameter sets, more than the %lld allowed",
                        (long long)(total == INT64_MAX ? -1 : total), (long long)max_sets);
    *s = t;
    return 0;
}

json_t *opt_spec_to_json(const opt_spec *s)
{
    json_t *space = json_object();
    for (int d = 0; d < s->ndims; d++)
        json_object_set_new(space, s->dims[d].name,
                            json_pack("{s:f,s:f,s:f,s:I}", "min", s->dims[d].min, "max", s->dims[d].max, "step",
                                      s->dims[d].step, "count", (json_int_t)s->dims[d].count));
    json_t *c = json_pack("{s:I}", "min_trades", (json_int_t)s->min_trades);
    if (s->max_drawdown_pct > 0)
        json_object_set_new(c, "max_drawdown_pct", json_real(s->max_drawdown_pct));
    json_t *j = json_pack("{s:s,s:s,s:o,s:o,s:I,s:i}", "method", opt_method_name(s->method), "objective",
                          opt_objective_name(s->objective), "constraints", c, "space", space, "seed",
                          (json_int_t)s->seed, "top", s->top);
    if (s->method == OPT_RANDOM)
        json_object_set_new(j, "samples", json_integer(s->samples));
    if (s->method == OPT_GENETIC) {
        json_object_set_new(j, "population", json_integer(s->population));
        json_object_set_new(j, "generations", json_integer(s->generations));
        json_object_set_new(j, "mutation", json_real(s->mutation));
    }
    return j;
}

double opt_score(const opt_spec *s, const sweep_metrics *m)
{
    if (m->trades < s->min_trades)
        return NAN;
    if (s->max_drawdown_pct > 0 && !(m->max_drawdown_pct <= s->max_drawdown_pct))
        return NAN;
    double v;
    switch (s->objective) {
    case OBJ_SORTINO:
        v = m->sortino;
        break;
    case OBJ_CALMAR:
        v = m->calmar;
        break;
    case OBJ_PROFIT:
        v = m->profit_pct;
        break;
    case OBJ_PROFIT_DD:
        v = m->profit_dd;
        break;
    default:
        v = m->sharpe;
    }
    return isfinite(v) ? v : NAN;
}

/* ---- the optimizer ---- */

typedef struct opt_member {
    double values[OPT_MAX_DIMS];
    double score;  /* NAN: infeasible or invalid */
    int scored;    /* 1 once known (elites arrive scored) */
    int invalid;
    int order;     /* its place in its generation: breaks ties, so sorting is the same from any order */
    sweep_metrics m;
} opt_member;

struct optimizer {
    opt_spec s;
    int64_t total;
    int64_t next; /* grid / random: the next index; genetic: the next member of `cur` */
    opt_progress p;
    opt_result top[OPT_TOP_MAX];
    int64_t top_seq[OPT_TOP_MAX];
    size_t ntop;
    double *heat; /* two-dimensional grids: count0 × count1 scores */
    /* the last opt_next's sets: where their scores go */
    size_t nbatch, cap;
    int64_t *bidx;       /* grid / random: index; genetic: member */
    double (*bvals)[OPT_MAX_DIMS];
    /* genetic */
    opt_member *pop, *cur; /* the last finished generation, the one in progress */
    int gen;               /* the generation in progress (0-based) */
    int cur_ready;         /* cur has been bred */
    opt_progress gen_start; /* counters when `cur` started (what a checkpoint keeps) */
};

optimizer *opt_new(const opt_spec *s)
{
    optimizer *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->s = *s;
    o->total = opt_total(s);
    o->p.total = o->total;
    if (s->method == OPT_GRID && s->ndims == 2 && s->dims[0].count * s->dims[1].count <= OPT_HEATMAP_MAX) {
        size_t n = (size_t)(s->dims[0].count * s->dims[1].count);
        o->heat = malloc(n * sizeof *o->heat);
        if (!o->heat) {
            free(o);
            return NULL;
        }
        for (size_t i = 0; i < n; i++)
            o->heat[i] = NAN;
    }
    if (s->method == OPT_GENETIC) {
        o->pop = calloc((size_t)s->population, sizeof *o->pop);
        o->cur = calloc((size_t)s->population, sizeof *o->cur);
        if (!o->pop || !o->cur) {
            opt_free(o);
            return NULL;
        }
    }
    return o;
}

void opt_free(optimizer *o)
{
    if (!o)
        return;
    free(o->heat);
    free(o->bidx);
    free(o->bvals);
    free(o->pop);
    free(o->cur);
    free(o);
}

void opt_get_progress(const optimizer *o, opt_progress *p)
{
    *p = o->p;
}

const opt_result *opt_top(const optimizer *o, size_t *n)
{
    *n = o->ntop;
    return o->top;
}

/* A generator per (seed, stream, index): every set of a random search and every generation of a
 * genetic one draws from its own, so resuming anywhere draws the same numbers. */
static void opt_rng(synth_rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    synth_rng_seed(r, seed ^ (stream * 0x9E3779B97F4A7C15ULL) ^ (index * 0xD1B54A32D192ED03ULL));
}

static int64_t opt_draw(synth_rng *r, int64_t n)
{
    return (int64_t)(synth_rng_uniform(r) * (double)n);
}

static void opt_random_values(const opt_spec *s, synth_rng *r, double *values)
{
    for (int d = 0; d < s->ndims; d++)
        values[d] = opt_value(&s->dims[d], opt_draw(r, s->dims[d].count));
}

static int opt_valid(const opt_spec *s, const double *values, engine_config *cfg)
{
    opt_config(s, values, cfg);
    return engine_config_check(cfg, NULL, 0) == 0;
}

/* Inserts a scored result into the best table (no two with the same values). */
static void opt_top_insert(optimizer *o, const double *values, double score, const sweep_metrics *m)
{
    if (isnan(score))
        return;
    size_t nd = (size_t)o->s.ndims;
    for (size_t i = 0; i < o->ntop; i++)
        if (!memcmp(o->top[i].values, values, nd * sizeof *values))
            return;
    size_t cap = (size_t)o->s.top;
    if (o->ntop == cap && !(score > o->top[cap - 1].score))
        return;
    size_t at = o->ntop < cap ? o->ntop : cap - 1;
    while (at > 0 && score > o->top[at - 1].score) {
        if (at < cap) {
            o->top[at] = o->top[at - 1];
            o->top_seq[at] = o->top_seq[at - 1];
        }
        at--;
    }
    memset(&o->top[at], 0, sizeof o->top[at]);
    memcpy(o->top[at].values, values, nd * sizeof *values);
    o->top[at].score = score;
    o->top[at].m = *m;
    o->top_seq[at] = o->p.done;
    if (o->ntop < cap)
        o->ntop++;
}

static int opt_reserve(optimizer *o, size_t max)
{
    if (max <= o->cap)
        return 0;
    int64_t *bi = realloc(o->bidx, max * sizeof *bi);
    if (!bi)
        return -1;
    o->bidx = bi;
    double(*bv)[OPT_MAX_DIMS] = realloc(o->bvals, max * sizeof *bv);
    if (!bv)
        return -1;
    o->bvals = bv;
    o->cap = max;
    return 0;
}

static int opt_member_cmp(const void *a, const void *b)
{
    const opt_member *x = a, *y = b;
    int xn = isnan(x->score), yn = isnan(y->score);
    if (xn != yn)
        return xn - yn;
    if (!xn && x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

/* The best of OPT_TOURNAMENT members drawn at random from the last generation. */
static const opt_member *opt_tournament(const optimizer *o, synth_rng *r)
{
    const opt_member *best = NULL;
    for (int k = 0; k < OPT_TOURNAMENT; k++) {
        const opt_member *m = &o->pop[opt_draw(r, o->s.population)];
        if (!best || (!isnan(m->score) && (isnan(best->score) || m->score > best->score)))
            best = m;
    }
    return best;
}

/* Breeds generation o->gen into cur: the first at random, later ones from pop (elites kept with
 * their scores, the rest by tournament, uniform crossover and mutation). */
static void opt_breed(optimizer *o)
{
    const opt_spec *s = &o->s;
    synth_rng r;
    opt_rng(&r, s->seed, 2, (uint64_t)o->gen);
    memset(o->cur, 0, (size_t)s->population * sizeof *o->cur);
    int first = 0;
    if (o->gen > 0) {
        qsort(o->pop, (size_t)s->population, sizeof *o->pop, opt_member_cmp);
        for (; first < OPT_ELITES && first < s->population && !isnan(o->pop[first].score); first++) {
            o->cur[first] = o->pop[first];
            o->cur[first].scored = 1;
        }
    }
    for (int i = 0; i < first; i++)
        o->cur[i].order = i;
    for (int i = first; i < s->population; i++) {
        opt_member *c = &o->cur[i];
        c->order = i;
        c->score = NAN;
        if (o->gen == 0) {
            opt_random_values(s, &r, c->values);
            continue;
        }
        const opt_member *a = opt_tournament(o, &r), *b = opt_tournament(o, &r);
        for (int d = 0; d < s->ndims; d++) {
            c->values[d] = synth_rng_uniform(&r) < 0.5 ? a->values[d] : b->values[d];
            if (synth_rng_uniform(&r) < s->mutation)
                c->values[d] = opt_value(&s->dims[d], opt_draw(&r, s->dims[d].count));
        }
    }
    o->next = 0;
    o->cur_ready = 1;
    o->gen_start = o->p;
}

/* The grid's values at index idx (dimension 0 varies fastest). */
static void opt_grid_values(const opt_spec *s, int64_t idx, double *values)
{
    for (int d = 0; d < s->ndims; d++) {
        values[d] = opt_value(&s->dims[d], idx % s->dims[d].count);
        idx /= s->dims[d].count;
    }
}

size_t opt_next(optimizer *o, engine_config *cfgs, double (*values)[OPT_MAX_DIMS], size_t max)
{
    o->nbatch = 0;
    if (opt_reserve(o, max) < 0)
        return 0;
    const opt_spec *s = &o->s;
    size_t n = 0;
    while (n < max) {
        double v[OPT_MAX_DIMS] = {0};
        int64_t tag;
        if (s->method == OPT_GENETIC) {
            if (o->gen >= s->generations)
                break;
            if (!o->cur_ready)
                opt_breed(o);
            if (o->next >= s->population) {
                if (n)
                    break; /* the generation's last sets must be scored before the next is bred */
                memcpy(o->pop, o->cur, (size_t)s->population * sizeof *o->pop);
                o->gen++;
                o->p.generation = o->gen;
                o->cur_ready = 0;
                continue;
            }
            tag = o->next++;
            opt_member *m = &o->cur[tag];
            if (m->scored) { /* an elite: known already, counted as done */
                o->p.done++;
                continue;
            }
            memcpy(v, m->values, sizeof v);
        } else {
            if (o->next >= o->total)
                break;
            tag = o->next++;
            if (s->method == OPT_GRID) {
                opt_grid_values(s, tag, v);
            } else {
                synth_rng r;
                opt_rng(&r, s->seed, 1, (uint64_t)tag);
                opt_random_values(s, &r, v);
            }
        }
        engine_config cfg;
        if (!opt_valid(s, v, &cfg)) {
            o->p.done++;
            o->p.invalid++;
            if (s->method == OPT_GENETIC) {
                o->cur[tag].scored = 1;
                o->cur[tag].invalid = 1;
            }
            continue;
        }
        cfgs[n] = cfg;
        memcpy(values[n], v, sizeof v);
        memcpy(o->bvals[n], v, sizeof v);
        o->bidx[n] = tag;
        n++;
    }
    o->nbatch = n;
    return n;
}

void opt_feed(optimizer *o, const sweep_stats *st, int64_t timeframe_ms)
{
    for (size_t i = 0; i < o->nbatch; i++) {
        sweep_metrics m;
        sweep_metrics_compute(&st[i], timeframe_ms, &m);
        double score = opt_score(&o->s, &m);
        o->p.done++;
        if (!isnan(score))
            o->p.feasible++;
        opt_top_insert(o, o->bvals[i], score, &m);
        if (o->heat) {
            int64_t idx = o->bidx[i];
            o->heat[idx] = score; /* grid index = x + y × count0: the heatmap's own layout */
        }
        if (o->s.method == OPT_GENETIC) {
            opt_member *mem = &o->cur[o->bidx[i]];
            mem->score = score;
            mem->scored = 1;
            mem->m = m;
        }
    }
    o->nbatch = 0;
}

/* ---- JSON ---- */

static json_t *opt_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static double opt_num_back(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

json_t *opt_metrics_json(const sweep_metrics *m)
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I}", "profit_pct", opt_num(m->profit_pct),
                     "cagr_pct", opt_num(m->cagr_pct), "sharpe", opt_num(m->sharpe), "sortino", opt_num(m->sortino),
                     "calmar", opt_num(m->calmar), "max_drawdown_pct", opt_num(m->max_drawdown_pct), "profit_dd",
                     opt_num(m->profit_dd), "win_rate_pct", opt_num(m->win_rate_pct), "exposure_pct",
                     opt_num(m->exposure_pct), "final_equity", opt_num(m->final_equity), "fees", opt_num(m->fees),
                     "trades", (json_int_t)m->trades);
}

void opt_metrics_from_json(const json_t *j, sweep_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->profit_pct = opt_num_back(json_object_get(j, "profit_pct"));
    m->cagr_pct = opt_num_back(json_object_get(j, "cagr_pct"));
    m->sharpe = opt_num_back(json_object_get(j, "sharpe"));
    m->sortino = opt_num_back(json_object_get(j, "sortino"));
    m->calmar = opt_num_back(json_object_get(j, "calmar"));
    m->max_drawdown_pct = opt_num_back(json_object_get(j, "max_drawdown_pct"));
    m->profit_dd = opt_num_back(json_object_get(j, "profit_dd"));
    m->win_rate_pct = opt_num_back(json_object_get(j, "win_rate_pct"));
    m->exposure_pct = opt_num_back(json_object_get(j, "exposure_pct"));
    m->final_equity = opt_num_back(json_object_get(j, "final_equity"));
    m->fees = opt_num_back(json_object_get(j, "fees"));
    m->trades = json_integer_value(json_object_get(j, "trades"));
}

static json_t *opt_values_json(const opt_spec *s, const double *v)
{
    json_t *a = json_array();
    for (int d = 0; d < s->ndims; d++)
        json_array_append_new(a, json_real(v[d]));
    return a;
}

static int opt_values_back(const opt_spec *s, const json_t *a, double *v)
{
    if (!json_is_array(a) || json_array_size(a) != (size_t)s->ndims)
        return -1;
    for (int d = 0; d < s->ndims; d++) {
        json_t *x = json_array_get(a, (size_t)d);
        if (!json_is_number(x))
            return -1;
        v[d] = json_number_value(x);
    }
    return 0;
}

json_t *opt_checkpoint(const optimizer *o)
{
    const opt_spec *s = &o->s;
    /* a genetic search resumes at the start of its generation in progress */
    const opt_progress *p = s->method == OPT_GENETIC && o->cur_ready ? &o->gen_start : &o->p;
    json_t *top = json_array();
    for (size_t i = 0; i < o->ntop; i++)
        json_array_append_new(top, json_pack("{s:o,s:f,s:I,s:o}", "values", opt_values_json(s, o->top[i].values),
                                             "score", o->top[i].score, "seq", (json_int_t)o->top_seq[i], "metrics",
                                             opt_metrics_json(&o->top[i].m)));
    json_t *j = json_pack("{s:i,s:o,s:I,s:I,s:I,s:I,s:i,s:o}", "version", OPT_CHECKPOINT_VERSION, "spec",
                          opt_spec_to_json(s), "next", (json_int_t)(s->method == OPT_GENETIC ? 0 : o->next), "done",
                          (json_int_t)p->done, "feasible", (json_int_t)p->feasible, "invalid", (json_int_t)p->invalid,
                          "generation", o->gen, "top", top);
    if (o->heat) {
        json_t *h = json_array();
        for (int64_t i = 0; i < s->dims[0].count * s->dims[1].count; i++)
            json_array_append_new(h, opt_num(o->heat[i]));
        json_object_set_new(j, "heat", h);
    }
    if (s->method == OPT_GENETIC && o->gen > 0) {
        json_t *pop = json_array();
        for (int i = 0; i < s->population; i++)
            json_array_append_new(pop, json_pack("{s:o,s:o,s:i}", "values", opt_values_json(s, o->pop[i].values),
                                                 "score", opt_num(o->pop[i].score), "order", o->pop[i].order));
        json_object_set_new(j, "population", pop);
    }
    return j;
}

int opt_restore(optimizer *o, const json_t *j)
{
    const opt_spec *s = &o->s;
    json_t *spec = opt_spec_to_json(s);
    int same = json_is_object(j) && json_integer_value(json_object_get(j, "version")) == OPT_CHECKPOINT_VERSION &&
               json_equal(spec, json_object_get(j, "spec"));
    json_decref(spec);
    if (!same)
        return -1;
    int64_t next = json_integer_value(json_object_get(j, "next"));
    int gen = (int)json_integer_value(json_object_get(j, "generation"));
    if (next < 0 || next > o->total || gen < 0 || gen > s->generations)
        return -1;
    json_t *top = json_object_get(j, "top");
    if (!json_is_array(top) || json_array_size(top) > (size_t)s->top)
        return -1;
    optimizer t = *o; /* filled, then committed at once: a bad checkpoint changes nothing */
    t.ntop = 0;
    for (size_t i = 0; i < json_array_size(top); i++) {
        json_t *e = json_array_get(top, i);
        if (opt_values_back(s, json_object_get(e, "values"), t.top[i].values) < 0 ||
            !json_is_number(json_object_get(e, "score")))
            return -1;
        t.top[i].score = json_number_value(json_object_get(e, "score"));
        t.top_seq[i] = json_integer_value(json_object_get(e, "seq"));
        opt_metrics_from_json(json_object_get(e, "metrics"), &t.top[i].m);
        t.ntop++;
    }
    json_t *heat = json_object_get(j, "heat");
    if (o->heat && (!json_is_array(heat) || json_array_size(heat) != (size_t)(s->dims[0].count * s->dims[1].count)))
        return -1;
    json_t *pop = json_object_get(j, "population");
    if (s->method == OPT_GENETIC && gen > 0 && (!json_is_array(pop) || json_array_size(pop) != (size_t)s->population))
        return -1;
    opt_member *tp = NULL;
    if (s->method == OPT_GENETIC && gen > 0) {
        tp = calloc((size_t)s->population, sizeof *tp);
        if (!tp)
            return -1;
        for (int i = 0; i < s->population; i++) {
            json_t *e = json_array_get(pop, (size_t)i);
            if (opt_values_back(s, json_object_get(e, "values"), tp[i].values) < 0) {
                free(tp);
                return -1;
            }
            tp[i].score = opt_num_back(json_object_get(e, "score"));
            tp[i].order = (int)json_integer_value(json_object_get(e, "order"));
            tp[i].scored = 1;
        }
        memcpy(o->pop, tp, (size_t)s->population * sizeof *tp);
        free(tp);
    }
    if (o->heat)
        for (size_t i = 0; i < json_array_size(heat); i++)
            o->heat[i] = opt_num_back(json_array_get(heat, i));
    memcpy(o->top, t.top, sizeof o->top);
    memcpy(o->top_seq, t.top_seq, sizeof o->top_seq);
    o->ntop = t.ntop;
    o->next = next;
    o->gen = gen;
    o->cur_ready = 0;
    o->p.done = json_integer_value(json_object_get(j, "done"));
    o->p.feasible = json_integer_value(json_object_get(j, "feasible"));
    o->p.invalid = json_integer_value(json_object_get(j, "invalid"));
    o->p.generation = gen;
    return 0;
}

json_t *opt_results_json(const optimizer *o)
{
    const opt_spec *s = &o->s;
    json_t *top = json_array();
    for (size_t i = 0; i < o->ntop; i++) {
        json_t *vals = json_object();
        for (int d = 0; d < s->ndims; d++)
            json_object_set_new(vals, s->dims[d].name, json_real(o->top[i].values[d]));
        json_array_append_new(top, json_pack("{s:i,s:o,s:f,s:o}", "rank", (int)i + 1, "values", vals, "score",
                                             o->top[i].score, "metrics", opt_metrics_json(&o->top[i].m)));
    }
    json_t *j = json_pack("{s:{s:I,s:I,s:I,s:I,s:i},s:o}", "progress", "done", (json_int_t)o->p.done, "total",
                          (json_int_t)o->p.total, "feasible", (json_int_t)o->p.feasible, "invalid",
                          (json_int_t)o->p.invalid, "generation", o->p.generation, "top", top);
    if (o->heat) {
        const opt_dim *x = &s->dims[0], *y = &s->dims[1];
        json_t *xs = json_array(), *ys = json_array(), *rows = json_array();
        for (int64_t i = 0; i < x->count; i++)
            json_array_append_new(xs, json_real(opt_value(x, i)));
        for (int64_t k = 0; k < y->count; k++) {
            json_array_append_new(ys, json_real(opt_value(y, k)));
            json_t *row = json_array();
            for (int64_t i = 0; i < x->count; i++)
                json_array_append_new(row, opt_num(o->heat[k * x->count + i]));
            json_array_append_new(rows, row);
        }
        json_object_set_new(j, "heatmap",
                            json_pack("{s:s,s:s,s:o,s:o,s:o}", "x", x->name, "y", y->name, "xs", xs, "ys", ys,
                                      "scores", rows));
    }
    return j;
}

/* ---- a whole search ---- */

int opt_run(optimizer *o, const sweep_data *d, const sweep_opts *so, opt_eval_fn eval, size_t batch, opt_tick_fn tick,
            void *ud)
{
    if (batch == 0)
        batch = 256;
    engine_config *cfgs = malloc(batch * sizeof *cfgs);
    double(*values)[OPT_MAX_DIMS] = malloc(batch * sizeof *values);
    sweep_stats *st = malloc(batch * sizeof *st);
    int rc = 0;
    if (!cfgs || !values || !st) {
        rc = SWEEP_ENOMEM;
        goto out;
    }
    for (;;) {
        size_t n = opt_next(o, cfgs, values, batch);
        if (n == 0) {
            /* opt_next returns 0 only at the end, or when out of memory for its batch */
            if (o->cap < batch)
                rc = SWEEP_ENOMEM;
            break;
        }
        if ((rc = eval(d, cfgs, n, so, st)) != 0)
            break;
        opt_feed(o, st, d->se.timeframe_ms);
        if (tick && tick(o, ud)) {
            rc = SWEEP_ECANCELLED;
            break;
        }
    }
out:
    free(cfgs);
    free(values);
    free(st);
    return rc;
}
