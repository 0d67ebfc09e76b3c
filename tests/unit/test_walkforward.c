/* test_walkforward.c — unit tests of lib/trading/walkforward.c: the windows, no out-of-sample
 * candle ever reaches an in-sample fit, overfitting on noise shows, a stopped run resumes exactly. */
#include "synth.h"
#include "unit.h"
#include "walkforward.h"
#include <math.h>

#define H 3600000LL
#define T0 1704067200000LL

static candle *make(size_t n, uint64_t seed, double switch_prob)
{
    synth_params p;
    synth_defaults(&p);
    p.seed = seed;
    p.start_ms = T0;
    p.tf_ms = H;
    p.switch_prob = switch_prob;
    candle *c = malloc(n * sizeof *c);
    ck_assert_int_eq(synth_generate(&p, c, n, NULL), 0);
    return c;
}

static void spec(wf_spec *s, const char *json, int64_t traded)
{
    engine_config base;
    ck_assert_int_eq(engine_config_defaults(&base, STRATEGY_SMA_CROSS), 0);
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    char err[160] = "";
    ck_assert_msg(wf_spec_from_json(s, &base, j, traded, 100000, err, sizeof err) == 0, "spec: %s", err);
    json_decref(j);
}

#define OPT "\"optimization\":{\"objective\":\"sharpe\",\"constraints\":{\"min_trades\":2},\"space\":" \
            "{\"fast\":{\"min\":3,\"max\":15,\"step\":3},\"slow\":{\"min\":20,\"max\":60,\"step\":10}}}"

START_TEST(windows_rolling_and_anchored)
{
    sweep_series se = {0};
    se.n = 1100;
    se.start = 100;
    wf_spec s;
    spec(&s, "{" OPT ",\"in_sample\":400,\"out_of_sample\":200}", 1000);
    wf_window w[WF_MAX_WINDOWS];
    size_t n = wf_windows(&s, &se, w, WF_MAX_WINDOWS);
    ck_assert_uint_eq(n, 3); /* out-of-sample starts at 500, 700, 900 */
    for (size_t k = 0; k < n; k++) {
        ck_assert_int_eq(w[k].is_from, 100 + 200 * (int64_t)k);
        ck_assert_int_eq(w[k].is_to, w[k].is_from + 400);
        ck_assert_int_eq(w[k].oos_to, w[k].is_to + 200 <= 1100 ? w[k].is_to + 200 : 1100);
        if (k)
            ck_assert_int_eq(w[k].is_to, w[k - 1].oos_to); /* out-of-sample windows tile the period */
    }
    spec(&s, "{" OPT ",\"in_sample\":400,\"out_of_sample\":200,\"anchored\":true}", 1000);
    n = wf_windows(&s, &se, w, WF_MAX_WINDOWS);
    ck_assert_uint_eq(n, 3);
    for (size_t k = 0; k < n; k++)
        ck_assert_int_eq(w[k].is_from, 100);
    ck_assert_int_eq(w[2].is_to, 900);
    /* refused: windows that do not fit, unknown fields */
    engine_config base;
    engine_config_defaults(&base, STRATEGY_SMA_CROSS);
    json_t *j = json_loads("{" OPT ",\"in_sample\":900,\"out_of_sample\":200}", 0, NULL);
    char err[160];
    ck_assert_int_eq(wf_spec_from_json(&s, &base, j, 1000, 100000, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "do not fit"));
    json_decref(j);
    j = json_loads("{" OPT ",\"in_sample\":400,\"out_of_sample\":200,\"peek\":1}", 0, NULL);
    ck_assert_int_eq(wf_spec_from_json(&s, &base, j, 1000, 100000, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "peek"));
    json_decref(j);
}
END_TEST

/* What every evaluation saw: the last candle index that existed for it. */
static int64_t seen_end[4096], seen_start[4096];
static size_t nseen;

static int recording_eval(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o,
                          sweep_stats *out)
{
    ck_assert_uint_lt(nseen, 4096);
    seen_start[nseen] = d->se.start;
    seen_end[nseen++] = d->se.n;
    return sweep_run(d, cfgs, n, o, out);
}

START_TEST(no_out_of_sample_leak)
{
    const size_t n = 3200, start = 200;
    candle *a = make(n, 21, 0.01);
    wf_spec s;
    spec(&s, "{" OPT ",\"in_sample\":1000,\"out_of_sample\":500}", (int64_t)(n - start));
    sweep_data d;
    ck_assert_int_eq(sweep_data_init(&d, a, n, start, H, NULL, 0), 0);
    wf_window w[WF_MAX_WINDOWS];
    size_t nw = wf_windows(&s, &d.se, w, WF_MAX_WINDOWS);
    ck_assert_uint_eq(nw, 4);
    sweep_opts so = {.initial_balance = 10000, .warmup_max = 1000, .threads = 2};
    nseen = 0;
    ck_assert_int_eq(wf_run(&s, &d, &so, recording_eval, w, nw, 0, NULL, NULL), 0);
    /* every evaluation of window k's search ended at its in-sample end; its one out-of-sample
     * evaluation started there */
    size_t i = 0;
    for (size_t k = 0; k < nw; k++) {
        size_t searched = 0;
        while (i < nseen && seen_start[i] == w[k].is_from && seen_end[i] == w[k].is_to) {
            i++;
            searched++;
        }
        ck_assert_uint_gt(searched, 0);
        ck_assert_uint_lt(i, nseen + 1);
        ck_assert_int_eq(seen_start[i], w[k].is_to);
        ck_assert_int_eq(seen_end[i], w[k].oos_to);
        i++;
    }
    ck_assert_uint_eq(i, nseen);

    /* a different future changes nothing in sample: replace everything from window 1's
     * in-sample end with another market */
    candle *b = make(n, 77, 0.01);
    memcpy(b, a, (size_t)w[1].is_to * sizeof *a);
    double scale = a[w[1].is_to - 1].close / b[w[1].is_to].open;
    for (size_t k = (size_t)w[1].is_to; k < n; k++) {
        b[k].open *= scale;
        b[k].high *= scale;
        b[k].low *= scale;
        b[k].close *= scale;
    }
    sweep_data d2;
    ck_assert_int_eq(sweep_data_init(&d2, b, n, start, H, NULL, 0), 0);
    wf_window w2[WF_MAX_WINDOWS];
    ck_assert_uint_eq(wf_windows(&s, &d2.se, w2, WF_MAX_WINDOWS), nw);
    ck_assert_int_eq(wf_run(&s, &d2, &so, sweep_run, w2, nw, 0, NULL, NULL), 0);
    for (size_t k = 0; k < 2; k++) {
        ck_assert_int_eq(w2[k].found, w[k].found);
        ck_assert(!memcmp(w2[k].values, w[k].values, sizeof w[k].values));
        ck_assert(w2[k].is_score == w[k].is_score);
        ck_assert(w2[k].is_m.final_equity == w[k].is_m.final_equity);
    }
    ck_assert(w2[0].oos_m.final_equity == w[0].oos_m.final_equity); /* window 0's out-of-sample ends before */
    ck_assert(w2[1].oos_m.final_equity != w[1].oos_m.final_equity); /* window 1's is the new market */
    sweep_data_free(&d);
    sweep_data_free(&d2);
    free(a);
    free(b);
}
END_TEST

/* On a random walk the best in-sample set is chosen for luck: out of sample it does worse, and
 * the report says so. */
START_TEST(noise_overfits_and_the_report_shows_it)
{
    const size_t n = 6200, start = 200;
    candle *c = make(n, 5, 0); /* one sideways regime: no trend to find */
    wf_spec s;
    spec(&s,
         "{\"optimization\":{\"objective\":\"sharpe\",\"constraints\":{\"min_trades\":3},\"space\":"
         "{\"fast\":{\"min\":2,\"max\":30,\"step\":2},\"slow\":{\"min\":10,\"max\":120,\"step\":5},"
         "\"stop_loss_pct\":{\"min\":0,\"max\":3,\"step\":1}}},\"in_sample\":1500,\"out_of_sample\":500}",
         (int64_t)(n - start));
    sweep_data d;
    ck_assert_int_eq(sweep_data_init(&d, c, n, start, H, NULL, 0), 0);
    wf_window w[WF_MAX_WINDOWS];
    size_t nw = wf_windows(&s, &d.se, w, WF_MAX_WINDOWS);
    sweep_opts so = {.initial_balance = 10000, .warmup_max = 1000, .threads = 2};
    ck_assert_int_eq(wf_run(&s, &d, &so, sweep_run, w, nw, 0, NULL, NULL), 0);
    json_t *r = wf_report_json(&s, &d.se, w, nw);
    json_t *sum = json_object_get(r, "summary");
    double is = json_number_value(json_object_get(sum, "in_sample_mean_score"));
    double oos = json_number_value(json_object_get(sum, "out_of_sample_mean_score"));
    ck_assert_msg(is > oos + 1.0, "in-sample Sharpe %g, out-of-sample %g", is, oos);
    const char *verdict = json_string_value(json_object_get(sum, "verdict"));
    ck_assert_msg(strcmp(verdict, "robust") != 0, "verdict %s on noise", verdict);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "windows")), (json_int_t)nw);
    json_decref(r);
    sweep_data_free(&d);
    free(c);
}
END_TEST

static int stop_after_two(size_t done, size_t total, void *ud)
{
    (void)total;
    (void)ud;
    return done >= 2;
}

START_TEST(resume_from_report)
{
    const size_t n = 2700, start = 200;
    candle *c = make(n, 8, 0.01);
    wf_spec s;
    spec(&s, "{" OPT ",\"in_sample\":800,\"out_of_sample\":400}", (int64_t)(n - start));
    sweep_data d;
    ck_assert_int_eq(sweep_data_init(&d, c, n, start, H, NULL, 0), 0);
    sweep_opts so = {.initial_balance = 10000, .warmup_max = 1000, .threads = 1};
    wf_window whole[WF_MAX_WINDOWS], part[WF_MAX_WINDOWS];
    size_t nw = wf_windows(&s, &d.se, whole, WF_MAX_WINDOWS);
    ck_assert_uint_ge(nw, 4);
    ck_assert_int_eq(wf_run(&s, &d, &so, sweep_run, whole, nw, 0, NULL, NULL), 0);
    json_t *want = wf_report_json(&s, &d.se, whole, nw);

    wf_windows(&s, &d.se, part, WF_MAX_WINDOWS);
    ck_assert_int_eq(wf_run(&s, &d, &so, sweep_run, part, nw, 0, stop_after_two, NULL), SWEEP_ECANCELLED);
    json_t *partial = wf_report_json(&s, &d.se, part, 2);
    char *text = json_dumps(partial, JSON_REAL_PRECISION(17));
    json_decref(partial);
    json_t *back = json_loads(text, 0, NULL);
    free(text);
    wf_window again[WF_MAX_WINDOWS];
    wf_windows(&s, &d.se, again, WF_MAX_WINDOWS);
    ck_assert_int_eq(wf_windows_from_json(&s, back, again, nw), 2);
    json_decref(back);
    ck_assert_int_eq(wf_run(&s, &d, &so, sweep_run, again, nw, 2, NULL, NULL), 0);
    json_t *got = wf_report_json(&s, &d.se, again, nw);
    ck_assert(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    sweep_data_free(&d);
    free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("walkforward");
    TCase *t = tcase_create("core");
    /* generous ceiling for sanitizer builds, not a speed assertion */
    tcase_set_timeout(t, 300);
    tcase_add_test(t, windows_rolling_and_anchored);
    tcase_add_test(t, no_out_of_sample_leak);
    tcase_add_test(t, noise_overfits_and_the_report_shows_it);
    tcase_add_test(t, resume_from_report);
    suite_add_tcase(s, t);
    return unit_run(s);
}
