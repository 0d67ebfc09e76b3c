/* optimize.c — the search: grid and random sets addressed by index, genetic generations from a
 * seeded generator, a bounded best-results table, the heatmap, checkpoints as JSON. */
#include "optimize.h"
#include "synth.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT_CHECKPOINT_VERSION 1
#define OPT_ELITES 2
#define OPT_TOURNAMENT 3

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
        values[d] = opt_dim_value(&s->dims[d], opt_draw(r, s->dims[d].count));
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
                c->values[d] = opt_dim_value(&s->dims[d], opt_draw(&r, s->dims[d].count));
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
        values[d] = opt_dim_value(&s->dims[d], idx % s->dims[d].count);
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
            json_array_append_new(xs, json_real(opt_dim_value(x, i)));
        for (int64_t k = 0; k < y->count; k++) {
            json_array_append_new(ys, json_real(opt_dim_value(y, k)));
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
