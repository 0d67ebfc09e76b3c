/* test_optimize.c — unit tests of lib/trading/optimize.c: every search method finds a planted
 * optimum, the grid's best is the brute-force best of real backtests, checkpoints resume exactly. */
#include "backtest.h"
#include "optimize.h"
#include "report.h"
#include "synth.h"
#include "unit.h"
#include <math.h>

#define H 3600000LL
#define T0 1704067200000LL

/* A landscape with its optimum planted at fast = 13, slow = 47 (profit 50%), falling off
 * smoothly around it: the score of a set is known without a backtest. */
static int planted_eval(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o,
                        sweep_stats *out)
{
    (void)d;
    for (size_t i = 0; i < n; i++) {
        double f = cfgs[i].params[STRAT_CROSS_FAST], s = cfgs[i].params[STRAT_CROSS_SLOW];
        double gain = 0.5 * exp(-((f - 13) * (f - 13) + (s - 47) * (s - 47)) / 200.0);
        memset(&out[i], 0, sizeof out[i]);
        out[i].initial_balance = o->initial_balance;
        out[i].final_equity = o->initial_balance * (1 + gain);
        out[i].trades = 10;
        out[i].points = 100;
        out[i].start_time = T0;
        out[i].end_time = T0 + 100 * H;
    }
    return 0;
}

static sweep_data dummy_data(void)
{
    sweep_data d;
    memset(&d, 0, sizeof d);
    d.se.timeframe_ms = H;
    return d;
}

static void spec_from(opt_spec *s, const char *json, int64_t max_sets)
{
    engine_config base;
    ck_assert_int_eq(engine_config_defaults(&base, STRATEGY_SMA_CROSS), 0);
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    ck_assert_msg(j != NULL, "bad test JSON: %s", je.text);
    char err[160] = "";
    ck_assert_msg(opt_spec_from_json(s, &base, j, max_sets, err, sizeof err) == 0, "spec: %s", err);
    json_decref(j);
}

static const char *spec_err(const char *json, int64_t max_sets)
{
    static char err[160];
    engine_config base;
    engine_config_defaults(&base, STRATEGY_SMA_CROSS);
    json_t *j = json_loads(json, 0, NULL);
    opt_spec s;
    err[0] = '\0';
    int rc = opt_spec_from_json(&s, &base, j, max_sets, err, sizeof err);
    json_decref(j);
    ck_assert_int_eq(rc, -1);
    return err;
}

static optimizer *run_search(const char *json, opt_eval_fn eval, const sweep_data *d)
{
    opt_spec s;
    spec_from(&s, json, 1000000);
    optimizer *o = opt_new(&s);
    ck_assert_ptr_nonnull(o);
    sweep_opts so = {.initial_balance = 10000, .warmup_max = 1000, .threads = 1};
    ck_assert_int_eq(opt_run(o, d, &so, eval, 64, NULL, NULL), 0);
    return o;
}

static const char *SPACE = "\"space\":{\"fast\":{\"min\":2,\"max\":40,\"step\":1},\"slow\":{\"min\":10,\"max\":80,\"step\":1}}";

START_TEST(grid_finds_planted_optimum)
{
    sweep_data d = dummy_data();
    char js[512];
    snprintf(js, sizeof js, "{\"method\":\"grid\",\"objective\":\"profit\",%s,\"top\":5}", SPACE);
    optimizer *o = run_search(js, planted_eval, &d);
    size_t n;
    const opt_result *top = opt_top(o, &n);
    ck_assert_uint_eq(n, 5);
    ck_assert(top[0].values[0] == 13 && top[0].values[1] == 47);
    ck_assert(fabs(top[0].score - 50) < 1e-9);
    for (size_t i = 1; i < n; i++)
        ck_assert(top[i].score <= top[i - 1].score);
    opt_progress p;
    opt_get_progress(o, &p);
    ck_assert_int_eq(p.total, 39 * 71);
    ck_assert_int_eq(p.done, p.total);
    /* fast must stay below slow: the sets with fast >= slow are skipped as invalid */
    int64_t invalid = 0;
    for (int f = 2; f <= 40; f++)
        for (int s = 10; s <= 80; s++)
            invalid += f >= s;
    ck_assert_int_eq(p.invalid, invalid);
    ck_assert_int_eq(p.feasible, p.total - invalid);
    /* a two-dimensional grid has its heatmap, with the optimum's cell the largest */
    json_t *r = opt_results_json(o);
    json_t *hm = json_object_get(r, "heatmap");
    ck_assert_ptr_nonnull(hm);
    ck_assert_str_eq(json_string_value(json_object_get(hm, "x")), "fast");
    json_t *cell = json_array_get(json_array_get(json_object_get(hm, "scores"), 47 - 10), 13 - 2);
    ck_assert(fabs(json_number_value(cell) - 50) < 1e-9);
    ck_assert(json_is_null(json_array_get(json_array_get(json_object_get(hm, "scores"), 0), 30))); /* 32 >= 10 */
    json_decref(r);
    opt_free(o);
}
END_TEST

START_TEST(random_and_genetic_find_planted_optimum)
{
    sweep_data d = dummy_data();
    char js[512];
    /* 400 random draws from 2769 sets land near the optimum */
    snprintf(js, sizeof js, "{\"method\":\"random\",\"objective\":\"profit\",%s,\"samples\":400,\"seed\":3}", SPACE);
    optimizer *o = run_search(js, planted_eval, &d);
    size_t n;
    const opt_result *top = opt_top(o, &n);
    ck_assert(fabs(top[0].values[0] - 13) <= 4 && fabs(top[0].values[1] - 47) <= 4);
    double random_best = top[0].score;
    opt_free(o);
    /* the genetic search, with as many evaluations, reaches the optimum itself */
    snprintf(js, sizeof js,
             "{\"method\":\"genetic\",\"objective\":\"profit\",%s,\"population\":40,\"generations\":10,\"seed\":3}",
             SPACE);
    o = run_search(js, planted_eval, &d);
    top = opt_top(o, &n);
    ck_assert_msg(top[0].values[0] == 13 && top[0].values[1] == 47, "genetic best %g/%g", top[0].values[0],
                  top[0].values[1]);
    ck_assert(top[0].score >= random_best);
    opt_progress p;
    opt_get_progress(o, &p);
    ck_assert_int_eq(p.done, 400);
    ck_assert_int_eq(p.generation, 10);
    /* the best table never holds the same values twice (elites come back every generation) */
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            ck_assert(memcmp(top[i].values, top[k].values, 2 * sizeof(double)) != 0);
    opt_free(o);
}
END_TEST

/* Stops after `stop_after` batches. */
static int stop_tick(optimizer *o, void *ud)
{
    (void)o;
    return --*(int *)ud <= 0;
}

/* A search stopped anywhere, checkpointed through JSON text and resumed in a new optimizer ends
 * with the results of a run that never stopped. */
static void check_resume(const char *json)
{
    sweep_data d = dummy_data();
    optimizer *whole = run_search(json, planted_eval, &d);
    json_t *want = opt_results_json(whole);
    opt_spec s;
    spec_from(&s, json, 1000000);
    sweep_opts so = {.initial_balance = 10000, .warmup_max = 1000, .threads = 1};
    for (int stop = 1; stop <= 7; stop += 3) {
        optimizer *a = opt_new(&s);
        int left = stop;
        ck_assert_int_eq(opt_run(a, &d, &so, planted_eval, 37, stop_tick, &left), SWEEP_ECANCELLED);
        json_t *ck = opt_checkpoint(a);
        char *text = json_dumps(ck, JSON_COMPACT | JSON_REAL_PRECISION(17));
        json_decref(ck);
        opt_free(a);
        optimizer *b = opt_new(&s);
        json_t *back = json_loads(text, 0, NULL);
        free(text);
        ck_assert_int_eq(opt_restore(b, back), 0);
        json_decref(back);
        ck_assert_int_eq(opt_run(b, &d, &so, planted_eval, 37, NULL, NULL), 0);
        json_t *got = opt_results_json(b);
        char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
        ck_assert_msg(json_equal(got, want), "resumed after %d batches:\n%s\nwanted\n%s", stop, g, w);
        free(g);
        free(w);
        json_decref(got);
        opt_free(b);
    }
    json_decref(want);
    opt_free(whole);
}

START_TEST(checkpoints_resume_exactly)
{
    char js[512];
    snprintf(js, sizeof js, "{\"method\":\"grid\",\"objective\":\"profit\",%s,\"top\":20}", SPACE);
    check_resume(js);
    snprintf(js, sizeof js, "{\"method\":\"random\",\"objective\":\"profit\",%s,\"samples\":300}", SPACE);
    check_resume(js);
    snprintf(js, sizeof js, "{\"method\":\"genetic\",\"objective\":\"profit\",%s,\"population\":30,\"generations\":8}",
             SPACE);
    check_resume(js);
}
END_TEST

START_TEST(checkpoint_of_another_spec_refused)
{
    char js[512];
    snprintf(js, sizeof js, "{\"method\":\"grid\",%s}", SPACE);
    opt_spec a, b;
    spec_from(&a, js, 1000000);
    snprintf(js, sizeof js, "{\"method\":\"grid\",\"objective\":\"calmar\",%s}", SPACE);
    spec_from(&b, js, 1000000);
    optimizer *oa = opt_new(&a), *ob = opt_new(&b);
    json_t *ck = opt_checkpoint(oa);
    ck_assert_int_eq(opt_restore(ob, ck), -1);
    json_object_set_new(ck, "next", json_integer(-5));
    ck_assert_int_eq(opt_restore(oa, ck), -1);
    ck_assert_int_eq(opt_restore(oa, json_null()), -1);
    json_decref(ck);
    opt_free(oa);
    opt_free(ob);
}
END_TEST

/* On real candles the grid's best is the best of every backtest run one by one through the
 * engine and its report (the objective: Sharpe). */
START_TEST(grid_best_is_the_brute_force_best)
{
    synth_params sp;
    synth_defaults(&sp);
    sp.seed = 99;
    sp.start_ms = T0;
    sp.tf_ms = H;
    sp.switch_prob = 0.01;
    const size_t n = 2500, start = 100;
    candle *c = malloc(n * sizeof *c);
    ck_assert_int_eq(synth_generate(&sp, c, n, NULL), 0);
    sweep_data d;
    ck_assert_int_eq(sweep_data_init(&d, c, n, start, H, NULL, 0), 0);
    const char *js = "{\"method\":\"grid\",\"objective\":\"sharpe\",\"constraints\":{\"min_trades\":3},"
                     "\"space\":{\"fast\":{\"min\":3,\"max\":21,\"step\":3},\"slow\":{\"min\":20,\"max\":80,\"step\":10},"
                     "\"stop_loss_pct\":{\"min\":0,\"max\":4,\"step\":2}}}";
    optimizer *o = run_search(js, sweep_run, &d);
    size_t nt;
    const opt_result *top = opt_top(o, &nt);
    ck_assert_uint_gt(nt, 0);
    double best = -INFINITY;
    int bf = 0, bs = 0, bl = 0;
    for (int f = 3; f <= 21; f += 3)
        for (int s = 20; s <= 80; s += 10)
            for (int l = 0; l <= 4; l += 2) {
                engine_config cfg;
                engine_config_defaults(&cfg, STRATEGY_SMA_CROSS);
                cfg.params[STRAT_CROSS_FAST] = f;
                cfg.params[STRAT_CROSS_SLOW] = s;
                cfg.risk.stop_loss_pct = l;
                if (f >= s)
                    continue; /* not a valid config: the search skips it too */
                int64_t w = sweep_warmup(&cfg, &d.se, 1000);
                bt_series bs_ = {c + start - w, n - start + w, (size_t)w};
                bt_result r;
                bt_metrics m;
                ck_assert_int_eq(backtest_run(&cfg, &bs_, 1, 10000, NULL, NULL, &r, NULL, 0), 0);
                ck_assert_int_eq(bt_metrics_compute(&r, &m), 0);
                if (m.trades >= 3 && isfinite(m.sharpe) && m.sharpe > best) {
                    best = m.sharpe;
                    bf = f;
                    bs = s;
                    bl = l;
                }
                bt_metrics_free(&m);
                bt_result_free(&r);
            }
    ck_assert_msg(top[0].values[0] == bf && top[0].values[1] == bs && top[0].values[2] == bl,
                  "grid best %g/%g/%g, brute force %d/%d/%d", top[0].values[0], top[0].values[1], top[0].values[2], bf,
                  bs, bl);
    ck_assert(fabs(top[0].score - best) <= 1e-9 * fabs(best));
    opt_free(o);
    sweep_data_free(&d);
    free(c);
}
END_TEST

START_TEST(constraints_exclude)
{
    sweep_data d = dummy_data();
    char js[512];
    /* every planted set makes 10 trades: asking for 11 leaves nothing feasible */
    snprintf(js, sizeof js, "{\"objective\":\"profit\",\"constraints\":{\"min_trades\":11},%s}", SPACE);
    optimizer *o = run_search(js, planted_eval, &d);
    size_t n;
    opt_top(o, &n);
    ck_assert_uint_eq(n, 0);
    opt_progress p;
    opt_get_progress(o, &p);
    ck_assert_int_eq(p.feasible, 0);
    ck_assert_int_gt(p.done, 0);
    opt_free(o);
}
END_TEST

START_TEST(bad_specs_refused)
{
    ck_assert_ptr_nonnull(strstr(spec_err("{\"space\":{\"nope\":{\"min\":1,\"max\":2}}}", 1000), "space.nope"));
    ck_assert_ptr_nonnull(strstr(spec_err("{\"space\":{\"fast\":{\"min\":9,\"max\":2}}}", 1000), "space.fast.max"));
    ck_assert_ptr_nonnull(strstr(spec_err("{\"space\":{\"fast\":{\"min\":0,\"max\":2}}}", 1000), "within"));
    ck_assert_ptr_nonnull(
        strstr(spec_err("{\"space\":{\"fast\":{\"min\":1.5,\"max\":9,\"step\":1}}}", 1000), "integer"));
    ck_assert_ptr_nonnull(strstr(spec_err("{\"space\":{\"fast\":{\"min\":1,\"max\":9,\"step\":0}}}", 1000), "step"));
    ck_assert_ptr_nonnull(strstr(spec_err("{\"space\":{}}", 1000), "space"));
    ck_assert_ptr_nonnull(strstr(spec_err("{\"method\":\"anneal\",\"space\":{\"fast\":{\"min\":1,\"max\":9}}}", 1000),
                                 "method"));
    ck_assert_ptr_nonnull(strstr(spec_err("{\"objective\":\"luck\",\"space\":{\"fast\":{\"min\":1,\"max\":9}}}", 1000),
                                 "objective"));
    ck_assert_ptr_nonnull(strstr(spec_err("{\"bogus\":1,\"space\":{\"fast\":{\"min\":1,\"max\":9}}}", 1000), "bogus"));
    ck_assert_ptr_nonnull(
        strstr(spec_err("{\"space\":{\"fast\":{\"min\":1,\"max\":100},\"slow\":{\"min\":2,\"max\":200}}}", 1000),
               "more than the 1000 allowed"));
    ck_assert_ptr_nonnull(strstr(
        spec_err("{\"method\":\"random\",\"samples\":0,\"space\":{\"fast\":{\"min\":1,\"max\":9}}}", 1000), "samples"));
    ck_assert_ptr_nonnull(strstr(
        spec_err("{\"constraints\":{\"max_drawdown_pct\":-1},\"space\":{\"fast\":{\"min\":1,\"max\":9}}}", 1000),
        "max_drawdown_pct"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("optimize");
    TCase *t = tcase_create("core");
    /* generous ceiling for sanitizer builds, not a speed assertion */
    tcase_set_timeout(t, 300);
    tcase_add_test(t, grid_finds_planted_optimum);
    tcase_add_test(t, random_and_genetic_find_planted_optimum);
    tcase_add_test(t, checkpoints_resume_exactly);
    tcase_add_test(t, checkpoint_of_another_spec_refused);
    tcase_add_test(t, grid_best_is_the_brute_force_best);
    tcase_add_test(t, constraints_exclude);
    tcase_add_test(t, bad_specs_refused);
    suite_add_tcase(s, t);
    return unit_run(s);
}
