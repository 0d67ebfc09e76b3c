/* test_indicators.c — unit tests of lib/trading/indicators.c: batch and streaming forms against the
 * Tulip-generated fixtures in tests/fixtures/indicators, warm-up NANs, bad parameters, long series. */
#include "unit.h"
#include <jansson.h>
#include <math.h>
#include "indicators.h"

#define FIX_MAX_OUT 3

/* One fixture file: its input series (missing ones NULL) and its parsed JSON. */
typedef struct fixture {
    json_t *root;
    size_t n;
    double *close, *high, *low, *volume;
} fixture;

static double *fix_series(json_t *inputs, const char *name, size_t *n)
{
    json_t *arr = json_object_get(inputs, name);
    if (!arr)
        return NULL;
    ck_assert_msg(json_is_array(arr) && json_array_size(arr) > 0, "input %s is not a non-empty array", name);
    if (*n == 0)
        *n = json_array_size(arr);
    ck_assert_msg(json_array_size(arr) == *n, "input %s has %zu values, expected %zu", name,
                  json_array_size(arr), *n);
    double *v = malloc(*n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < *n; i++) {
        json_t *x = json_array_get(arr, i);
        ck_assert_msg(json_is_number(x), "input %s[%zu] is not a number", name, i);
        v[i] = json_number_value(x);
    }
    return v;
}

/* Loads tests/fixtures/indicators/<name>.json; a missing or broken file fails the test. */
static void fix_load(fixture *f, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/indicators/%s.json", unit_srcdir(), name);
    json_error_t err;
    memset(f, 0, sizeof *f);
    f->root = json_load_file(path, 0, &err);
    ck_assert_msg(f->root != NULL,
                  "fixture %s cannot be read (%s, line %d) — regenerate with "
                  "`cd tests/fixtures/indicators && npm ci && node generate.mjs`",
                  path, err.text, err.line);
    json_t *inputs = json_object_get(f->root, "inputs");
    ck_assert_msg(json_is_object(inputs), "fixture %s has no inputs object", path);
    f->close = fix_series(inputs, "close", &f->n);
    f->high = fix_series(inputs, "high", &f->n);
    f->low = fix_series(inputs, "low", &f->n);
    f->volume = fix_series(inputs, "volume", &f->n);
    ck_assert_msg(f->close && f->n >= 100, "fixture %s lacks a close series of >= 100 values", path);
    ck_assert_msg(json_array_size(json_object_get(f->root, "cases")) > 0, "fixture %s has no cases", path);
}

static void fix_free(fixture *f)
{
    free(f->close);
    free(f->high);
    free(f->low);
    free(f->volume);
    json_decref(f->root);
}

static json_t *fix_case(fixture *f, size_t i)
{
    return json_array_get(json_object_get(f->root, "cases"), i);
}

static size_t fix_ncases(fixture *f)
{
    return json_array_size(json_object_get(f->root, "cases"));
}

static double fix_param(json_t *c, const char *name)
{
    json_t *v = json_object_get(json_object_get(c, "params"), name);
    ck_assert_msg(json_is_number(v), "case lacks numeric param %s", name);
    return json_number_value(v);
}

static int close_enough(double got, double want)
{
    double diff = fabs(got - want);
    return diff <= 1e-9 || diff <= 1e-9 * fmax(fabs(got), fabs(want));
}

/* Compares got[0..n) with the case's output `key`: null must be NAN, numbers within 1e-9. */
static void fix_compare(json_t *c, const char *key, const char *form, const double *got, size_t n)
{
    json_t *want = json_object_get(json_object_get(c, "outputs"), key);
    char params[256];
    char *p = json_dumps(json_object_get(c, "params"), JSON_COMPACT);
    snprintf(params, sizeof params, "%s", p ? p : "?");
    free(p);
    ck_assert_msg(json_array_size(want) == n, "%s %s: fixture has %zu values, input %zu", key, params,
                  json_array_size(want), n);
    size_t warm = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *w = json_array_get(want, i);
        if (json_is_null(w)) {
            ck_assert_msg(isnan(got[i]), "%s %s %s[%zu]: want NAN (warm-up), got %.17g", form, key, params, i,
                          got[i]);
            warm++;
            continue;
        }
        double x = json_number_value(w);
        ck_assert_msg(!isnan(got[i]) && close_enough(got[i], x), "%s %s %s[%zu]: want %.17g, got %.17g", form,
                      key, params, i, x, got[i]);
    }
    ck_assert_msg(warm < n, "%s %s: the fixture has only warm-up values", key, params);
}

/* Checks that update()'s return value is 1 exactly where the case's output `key` is not null. */
static void fix_compare_ready(json_t *c, const char *key, const int *ready, size_t n)
{
    json_t *want = json_object_get(json_object_get(c, "outputs"), key);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(ready[i] == !json_is_null(json_array_get(want, i)), "%s: update() ready=%d at %zu", key,
                      ready[i], i);
}

/* Scratch output columns for one case: batch and streaming results, and the ready flags. */
typedef struct cols {
    double *b[FIX_MAX_OUT], *s[FIX_MAX_OUT];
    int *ready;
} cols;

static void cols_alloc(cols *c, size_t n)
{
    for (int i = 0; i < FIX_MAX_OUT; i++) {
        c->b[i] = malloc(n * sizeof(double));
        c->s[i] = malloc(n * sizeof(double));
        ck_assert(c->b[i] && c->s[i]);
    }
    c->ready = malloc(n * sizeof(int));
    ck_assert_ptr_nonnull(c->ready);
}

static void cols_free(cols *c)
{
    for (int i = 0; i < FIX_MAX_OUT; i++) {
        free(c->b[i]);
        free(c->s[i]);
    }
    free(c->ready);
}

static void cols_check(json_t *cs, const cols *c, size_t n, const char *const *keys)
{
    for (int k = 0; k < FIX_MAX_OUT && keys[k]; k++) {
        fix_compare(cs, keys[k], "batch", c->b[k], n);
        fix_compare(cs, keys[k], "streaming", c->s[k], n);
    }
    fix_compare_ready(cs, keys[0], c->ready, n);
}

typedef int (*single_batch_fn)(const double *, size_t, int, double *);

START_TEST(test_sma_ema_wma_rsi_fixtures)
{
    static const char *const names[] = {"sma", "ema", "wma", "rsi"};
    static const single_batch_fn batch[] = {ind_sma_batch, ind_ema_batch, ind_wma_batch, ind_rsi_batch};
    for (int which = 0; which < 4; which++) {
        fixture f;
        fix_load(&f, names[which]);
        cols c;
        cols_alloc(&c, f.n);
        for (size_t ci = 0; ci < fix_ncases(&f); ci++) {
            json_t *cs = fix_case(&f, ci);
            int period = (int)fix_param(cs, "period");
            ck_assert_int_eq(batch[which](f.close, f.n, period, c.b[0]), 0);
            ind_sma sma;
            ind_ema ema;
            ind_wma wma;
            ind_rsi rsi;
            int rc = which == 0 ? ind_sma_init(&sma, period)
                   : which == 1 ? ind_ema_init(&ema, period)
                   : which == 2 ? ind_wma_init(&wma, period)
                                : ind_rsi_init(&rsi, period);
            ck_assert_int_eq(rc, 0);
            for (size_t i = 0; i < f.n; i++) {
                double *o = &c.s[0][i];
                c.ready[i] = which == 0 ? ind_sma_update(&sma, f.close[i], o)
                           : which == 1 ? ind_ema_update(&ema, f.close[i], o)
                           : which == 2 ? ind_wma_update(&wma, f.close[i], o)
                                        : ind_rsi_update(&rsi, f.close[i], o);
            }
            const char *keys[] = {names[which], NULL, NULL};
            cols_check(cs, &c, f.n, keys);
        }
        cols_free(&c);
        fix_free(&f);
    }
}
END_TEST

START_TEST(test_macd_fixture)
{
    fixture f;
    fix_load(&f, "macd");
    ck_assert_uint_ge(fix_ncases(&f), 3);
    cols c;
    cols_alloc(&c, f.n);
    for (size_t ci = 0; ci < fix_ncases(&f); ci++) {
        json_t *cs = fix_case(&f, ci);
        int fa = (int)fix_param(cs, "fast"), sl = (int)fix_param(cs, "slow"), sg = (int)fix_param(cs, "signal");
        ck_assert_int_eq(ind_macd_batch(f.close, f.n, fa, sl, sg, c.b[0], c.b[1], c.b[2]), 0);
        ind_macd s;
        ck_assert_int_eq(ind_macd_init(&s, fa, sl, sg), 0);
        for (size_t i = 0; i < f.n; i++)
            c.ready[i] = ind_macd_update(&s, f.close[i], &c.s[0][i], &c.s[1][i], &c.s[2][i]);
        const char *keys[] = {"macd", "signal", "hist"};
        cols_check(cs, &c, f.n, keys);
    }
    cols_free(&c);
    fix_free(&f);
}
END_TEST

START_TEST(test_bbands_fixture)
{
    fixture f;
    fix_load(&f, "bbands");
    cols c;
    cols_alloc(&c, f.n);
    for (size_t ci = 0; ci < fix_ncases(&f); ci++) {
        json_t *cs = fix_case(&f, ci);
        int period = (int)fix_param(cs, "period");
        double k = fix_param(cs, "k");
        ck_assert_int_eq(ind_bbands_batch(f.close, f.n, period, k, c.b[0], c.b[1], c.b[2]), 0);
        ind_bbands s;
        ck_assert_int_eq(ind_bbands_init(&s, period, k), 0);
        for (size_t i = 0; i < f.n; i++)
            c.ready[i] = ind_bbands_update(&s, f.close[i], &c.s[0][i], &c.s[1][i], &c.s[2][i]);
        const char *keys[] = {"lower", "middle", "upper"};
        cols_check(cs, &c, f.n, keys);
    }
    cols_free(&c);
    fix_free(&f);
}
END_TEST

START_TEST(test_atr_fixture)
{
    fixture f;
    fix_load(&f, "atr");
    ck_assert(f.high && f.low);
    cols c;
    cols_alloc(&c, f.n);
    for (size_t ci = 0; ci < fix_ncases(&f); ci++) {
        json_t *cs = fix_case(&f, ci);
        int period = (int)fix_param(cs, "period");
        ck_assert_int_eq(ind_atr_batch(f.high, f.low, f.close, f.n, period, c.b[0]), 0);
        ind_atr s;
        ck_assert_int_eq(ind_atr_init(&s, period), 0);
        for (size_t i = 0; i < f.n; i++)
            c.ready[i] = ind_atr_update(&s, f.high[i], f.low[i], f.close[i], &c.s[0][i]);
        const char *keys[] = {"atr", NULL, NULL};
        cols_check(cs, &c, f.n, keys);
    }
    cols_free(&c);
    fix_free(&f);
}
END_TEST

START_TEST(test_stoch_fixture)
{
    fixture f;
    fix_load(&f, "stoch");
    ck_assert(f.high && f.low);
    cols c;
    cols_alloc(&c, f.n);
    for (size_t ci = 0; ci < fix_ncases(&f); ci++) {
        json_t *cs = fix_case(&f, ci);
        int kp = (int)fix_param(cs, "k_period"), ks = (int)fix_param(cs, "k_slow"), dp = (int)fix_param(cs, "d_period");
        ck_assert_int_eq(ind_stoch_batch(f.high, f.low, f.close, f.n, kp, ks, dp, c.b[0], c.b[1]), 0);
        ind_stoch s;
        ck_assert_int_eq(ind_stoch_init(&s, kp, ks, dp), 0);
        for (size_t i = 0; i < f.n; i++)
            c.ready[i] = ind_stoch_update(&s, f.high[i], f.low[i], f.close[i], &c.s[0][i], &c.s[1][i]);
        const char *keys[] = {"k", "d", NULL};
        cols_check(cs, &c, f.n, keys);
    }
    cols_free(&c);
    fix_free(&f);
}
END_TEST

START_TEST(test_adx_fixture)
{
    fixture f;
    fix_load(&f, "adx");
    ck_assert(f.high && f.low);
    cols c;
    cols_alloc(&c, f.n);
    for (size_t ci = 0; ci < fix_ncases(&f); ci++) {
        json_t *cs = fix_case(&f, ci);
        int period = (int)fix_param(cs, "period");
        ck_assert_int_eq(ind_adx_batch(f.high, f.low, f.close, f.n, period, c.b[0], c.b[1], c.b[2]), 0);
        ind_adx s;
        ck_assert_int_eq(ind_adx_init(&s, period), 0);
        for (size_t i = 0; i < f.n; i++)
            c.ready[i] = ind_adx_update(&s, f.high[i], f.low[i], f.close[i], &c.s[0][i], &c.s[1][i], &c.s[2][i]);
        const char *keys[] = {"adx", "plus_di", "minus_di"};
        cols_check(cs, &c, f.n, keys);
    }
    cols_free(&c);
    fix_free(&f);
}
END_TEST

START_TEST(test_obv_vwap_fixtures)
{
    fixture f;
    fix_load(&f, "obv");
    ck_assert(f.volume);
    cols c;
    cols_alloc(&c, f.n);
    json_t *cs = fix_case(&f, 0);
    ck_assert_int_eq(ind_obv_batch(f.close, f.volume, f.n, c.b[0]), 0);
    ind_obv o;
    ck_assert_int_eq(ind_obv_init(&o), 0);
    size_t flat = 0;
    for (size_t i = 0; i < f.n; i++) {
        c.ready[i] = ind_obv_update(&o, f.close[i], f.volume[i], &c.s[0][i]);
        flat += i > 0 && f.close[i] == f.close[i - 1];
    }
    ck_assert_msg(flat > 0, "the series must contain unchanged closes to test OBV's flat branch");
    const char *okeys[] = {"obv", NULL, NULL};
    cols_check(cs, &c, f.n, okeys);
    cols_free(&c);
    fix_free(&f);

    fix_load(&f, "vwap");
    ck_assert(f.high && f.low && f.volume);
    cols_alloc(&c, f.n);
    cs = fix_case(&f, 0);
    ck_assert_int_eq(ind_vwap_batch(f.high, f.low, f.close, f.volume, f.n, c.b[0]), 0);
    ind_vwap v;
    ck_assert_int_eq(ind_vwap_init(&v), 0);
    for (size_t i = 0; i < f.n; i++)
        c.ready[i] = ind_vwap_update(&v, f.high[i], f.low[i], f.close[i], f.volume[i], &c.s[0][i]);
    const char *vkeys[] = {"vwap", NULL, NULL};
    cols_check(cs, &c, f.n, vkeys);
    cols_free(&c);
    fix_free(&f);
}
END_TEST

/* Every init refuses out-of-range parameters, and a refused batch leaves its outputs untouched. */
START_TEST(test_invalid_params)
{
    static const double in[4] = {1, 2, 3, 4};
    double o1[4] = {7, 7, 7, 7}, o2[4] = {7, 7, 7, 7}, o3[4] = {7, 7, 7, 7};
    static const int bad[] = {0, -1, IND_MAX_PERIOD + 1, -2147483647 - 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int p = bad[i];
        ck_assert_int_eq(ind_sma_batch(in, 4, p, o1), -1);
        ck_assert_int_eq(ind_ema_batch(in, 4, p, o1), -1);
        ck_assert_int_eq(ind_wma_batch(in, 4, p, o1), -1);
        ck_assert_int_eq(ind_rsi_batch(in, 4, p, o1), -1);
        ck_assert_int_eq(ind_atr_batch(in, in, in, 4, p, o1), -1);
        ck_assert_int_eq(ind_adx_batch(in, in, in, 4, p, o1, o2, o3), -1);
        ck_assert_int_eq(ind_bbands_batch(in, 4, p, 2.0, o1, o2, o3), -1);
        ck_assert_int_eq(ind_macd_batch(in, 4, p, 26, 9, o1, o2, o3), -1);
        ck_assert_int_eq(ind_macd_batch(in, 4, 12, p, 9, o1, o2, o3), -1);
        ck_assert_int_eq(ind_macd_batch(in, 4, 12, 26, p, o1, o2, o3), -1);
        ck_assert_int_eq(ind_stoch_batch(in, in, in, 4, p, 3, 3, o1, o2), -1);
        ck_assert_int_eq(ind_stoch_batch(in, in, in, 4, 14, p, 3, o1, o2), -1);
        ck_assert_int_eq(ind_stoch_batch(in, in, in, 4, 14, 3, p, o1, o2), -1);
    }
    ind_adx adx;
    ck_assert_int_eq(ind_adx_init(&adx, 1), -1); /* ADX needs two candles of movement */
    ind_macd macd;
    ck_assert_int_eq(ind_macd_init(&macd, 26, 12, 9), -1); /* fast must be faster than slow */
    ck_assert_int_eq(ind_macd_init(&macd, 12, 12, 9), -1);
    ind_bbands bb;
    ck_assert_int_eq(ind_bbands_init(&bb, 20, -1.0), -1);
    ck_assert_int_eq(ind_bbands_init(&bb, 20, NAN), -1);
    ck_assert_int_eq(ind_bbands_init(&bb, 20, INFINITY), -1);
    ck_assert_int_eq(ind_sma_init(NULL, 5), -1);
    for (int i = 0; i < 4; i++)
        ck_assert(o1[i] == 7 && o2[i] == 7 && o3[i] == 7);
    /* the bounds themselves are accepted */
    ind_sma sma;
    ck_assert_int_eq(ind_sma_init(&sma, 1), 0);
    ck_assert_int_eq(ind_sma_init(&sma, IND_MAX_PERIOD), 0);
    ck_assert_int_eq(ind_adx_init(&adx, 2), 0);
    ck_assert_int_eq(ind_macd_init(&macd, 1, 2, 1), 0);
    ck_assert_int_eq(ind_bbands_init(&bb, 20, 0.0), 0);
}
END_TEST

/* A flat market: the zero-range guards give defined values where Tulip divides 0 by 0. */
START_TEST(test_flat_series)
{
    enum { N = 60 };
    double px[N], vol[N], a[N], b[N], c[N];
    for (int i = 0; i < N; i++) {
        px[i] = 42.5;
        vol[i] = 0;
    }
    ck_assert_int_eq(ind_rsi_batch(px, N, 14, a), 0);
    ck_assert(isnan(a[13]));
    ck_assert(a[14] == 50.0 && a[N - 1] == 50.0);
    ck_assert_int_eq(ind_bbands_batch(px, N, 20, 2.0, a, b, c), 0);
    ck_assert(isnan(b[18]));
    ck_assert(a[N - 1] == 42.5 && b[N - 1] == 42.5 && c[N - 1] == 42.5);
    ck_assert_int_eq(ind_stoch_batch(px, px, px, N, 14, 3, 3, a, b), 0);
    ck_assert(a[N - 1] == 0.0 && b[N - 1] == 0.0);
    ck_assert_int_eq(ind_adx_batch(px, px, px, N, 14, a, b, c), 0);
    ck_assert(isnan(a[25]) && !isnan(a[26]));
    ck_assert(a[N - 1] == 0.0 && b[N - 1] == 0.0 && c[N - 1] == 0.0);
    ck_assert_int_eq(ind_vwap_batch(px, px, px, vol, N, a), 0); /* no volume traded yet: no VWAP */
    ck_assert(isnan(a[N - 1]));
    vol[N - 1] = 3;
    ck_assert_int_eq(ind_vwap_batch(px, px, px, vol, N, a), 0);
    ck_assert(isnan(a[N - 2]) && fabs(a[N - 1] - 42.5) < 1e-12);
    ck_assert_int_eq(ind_obv_batch(px, vol, N, a), 0);
    ck_assert(a[N - 1] == 0.0);
}
END_TEST

/* A state is a plain value: a copy taken mid-series continues exactly like the original. */
START_TEST(test_state_is_a_value)
{
    ind_stoch a, b;
    ck_assert_int_eq(ind_stoch_init(&a, 9, 3, 3), 0);
    double k1, d1, k2, d2;
    for (int i = 0; i < 50; i++)
        ind_stoch_update(&a, 10 + sin(i) + 1, 10 + sin(i) - 1, 10 + sin(i), &k1, &d1);
    b = a;
    for (int i = 50; i < 80; i++) {
        int r1 = ind_stoch_update(&a, 10 + sin(i) + 1, 10 + sin(i) - 1, 10 + sin(i), &k1, &d1);
        int r2 = ind_stoch_update(&b, 10 + sin(i) + 1, 10 + sin(i) - 1, 10 + sin(i), &k2, &d2);
        ck_assert(r1 == 1 && r2 == 1 && k1 == k2 && d1 == d2);
    }
}
END_TEST

/* One million candles of a synthetic sine through every streaming state (fixed-size structs, so
 * nothing can reallocate); the final values must equal a batch run and direct recomputation. */
START_TEST(test_long_series)
{
    enum { N = 1000000, P = 50 };
    double *hi = malloc(N * sizeof *hi), *lo = malloc(N * sizeof *lo), *cl = malloc(N * sizeof *cl),
           *vo = malloc(N * sizeof *vo), *o1 = malloc(N * sizeof *o1), *o2 = malloc(N * sizeof *o2),
           *o3 = malloc(N * sizeof *o3);
    ck_assert(hi && lo && cl && vo && o1 && o2 && o3);
    for (int i = 0; i < N; i++) {
        cl[i] = 30000 + 2500 * sin(i / 700.0) + 40 * sin(i / 9.0);
        hi[i] = cl[i] + 5 + 3 * fabs(sin(i / 3.0));
        lo[i] = cl[i] - 5 - 3 * fabs(cos(i / 5.0));
        vo[i] = 10 + 8 * sin(i / 11.0) * sin(i / 11.0);
    }
    ind_sma sma;
    ind_ema ema;
    ind_wma wma;
    ind_rsi rsi;
    ind_macd macd;
    ind_bbands bb;
    ind_atr atr;
    ind_stoch st;
    ind_adx adx;
    ind_obv obv;
    ind_vwap vwap;
    ck_assert(ind_sma_init(&sma, P) == 0 && ind_ema_init(&ema, P) == 0 && ind_wma_init(&wma, P) == 0 &&
              ind_rsi_init(&rsi, 14) == 0 && ind_macd_init(&macd, 12, 26, 9) == 0 &&
              ind_bbands_init(&bb, P, 2) == 0 && ind_atr_init(&atr, 14) == 0 &&
              ind_stoch_init(&st, P, 3, 3) == 0 && ind_adx_init(&adx, 14) == 0 && ind_obv_init(&obv) == 0 &&
              ind_vwap_init(&vwap) == 0);
    double v[16];
    for (int i = 0; i < N; i++) {
        ind_sma_update(&sma, cl[i], &v[0]);
        ind_ema_update(&ema, cl[i], &v[1]);
        ind_wma_update(&wma, cl[i], &v[2]);
        ind_rsi_update(&rsi, cl[i], &v[3]);
        ind_macd_update(&macd, cl[i], &v[4], &v[5], &v[6]);
        ind_bbands_update(&bb, cl[i], &v[7], &v[8], &v[9]);
        ind_atr_update(&atr, hi[i], lo[i], cl[i], &v[10]);
        ind_stoch_update(&st, hi[i], lo[i], cl[i], &v[11], &v[12]);
        ind_adx_update(&adx, hi[i], lo[i], cl[i], &v[13], &v[14], &v[15]);
    }
    double ob, vw;
    for (int i = 0; i < N; i++) {
        ind_obv_update(&obv, cl[i], vo[i], &ob);
        ind_vwap_update(&vwap, hi[i], lo[i], cl[i], vo[i], &vw);
    }
    const int L = N - 1;
#define SAME(got, want) ck_assert_msg(close_enough((got), (want)), "%s: %.17g vs %.17g", #got, (got), (want))
    ind_sma_batch(cl, N, P, o1);
    SAME(v[0], o1[L]);
    ind_ema_batch(cl, N, P, o1);
    SAME(v[1], o1[L]);
    ind_wma_batch(cl, N, P, o1);
    SAME(v[2], o1[L]);
    ind_rsi_batch(cl, N, 14, o1);
    SAME(v[3], o1[L]);
    ind_macd_batch(cl, N, 12, 26, 9, o1, o2, o3);
    SAME(v[4], o1[L]);
    SAME(v[5], o2[L]);
    SAME(v[6], o3[L]);
    ind_bbands_batch(cl, N, P, 2, o1, o2, o3);
    SAME(v[7], o1[L]);
    SAME(v[8], o2[L]);
    SAME(v[9], o3[L]);
    ind_atr_batch(hi, lo, cl, N, 14, o1);
    SAME(v[10], o1[L]);
    ind_stoch_batch(hi, lo, cl, N, P, 3, 3, o1, o2);
    SAME(v[11], o1[L]);
    SAME(v[12], o2[L]);
    ind_adx_batch(hi, lo, cl, N, 14, o1, o2, o3);
    SAME(v[13], o1[L]);
    SAME(v[14], o2[L]);
    SAME(v[15], o3[L]);
    ind_obv_batch(cl, vo, N, o1);
    SAME(ob, o1[L]);
    ind_vwap_batch(hi, lo, cl, vo, N, o1);
    SAME(vw, o1[L]);

    /* Direct recomputation over the last window: running sums must not have drifted. */
    double sum = 0, wsum = 0, m2 = 0;
    for (int j = 0; j < P; j++) {
        sum += cl[N - P + j];
        wsum += cl[N - P + j] * (j + 1);
    }
    double mean = sum / P;
    for (int j = 0; j < P; j++)
        m2 += (cl[N - P + j] - mean) * (cl[N - P + j] - mean);
    SAME(v[0], mean);
    SAME(v[2], wsum / (P * (P + 1) / 2.0));
    SAME(v[8], mean);
    SAME((v[9] - v[8]) / 2, sqrt(m2 / P));
    /* %K's last fast value from the raw extremes: %K is the mean of the last three of them */
    double kfast[3];
    for (int t = 0; t < 3; t++) {
        int end = L - 2 + t;
        double h = -INFINITY, l = INFINITY;
        for (int j = end - P + 1; j <= end; j++) {
            h = fmax(h, hi[j]);
            l = fmin(l, lo[j]);
        }
        kfast[t] = 100 * (cl[end] - l) / (h - l);
    }
    SAME(v[11], (kfast[0] + kfast[1] + kfast[2]) / 3);
    double pv = 0, vs = 0;
    for (int i = 0; i < N; i++) {
        pv += (hi[i] + lo[i] + cl[i]) / 3 * vo[i];
        vs += vo[i];
    }
    SAME(vw, pv / vs);
#undef SAME
    free(hi);
    free(lo);
    free(cl);
    free(vo);
    free(o1);
    free(o2);
    free(o3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("indicators");
    UNIT_ADD(s, test_sma_ema_wma_rsi_fixtures);
    UNIT_ADD(s, test_macd_fixture);
    UNIT_ADD(s, test_bbands_fixture);
    UNIT_ADD(s, test_atr_fixture);
    UNIT_ADD(s, test_stoch_fixture);
    UNIT_ADD(s, test_adx_fixture);
    UNIT_ADD(s, test_obv_vwap_fixtures);
    UNIT_ADD(s, test_invalid_params);
    UNIT_ADD(s, test_flat_series);
    UNIT_ADD(s, test_state_is_a_value);
    TCase *tc = tcase_create("test_long_series");
    tcase_set_timeout(tc, 120); /* a generous ceiling for sanitizer builds, not a speed assertion */
    tcase_add_test(tc, test_long_series);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
