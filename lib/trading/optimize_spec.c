/* optimize_spec.c — what an optimization searches: the space over a strategy's parameters and
 * risk controls (JSON in and out, checked), the methods, objectives and constraints, the score. */
#include "optimize.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT_DIM_MAX_VALUES 1000000

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

double opt_dim_value(const opt_dim *d, int64_t k)
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

