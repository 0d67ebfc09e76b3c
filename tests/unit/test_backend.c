/* test_backend.c — unit tests of the worker's backend choice (worker/backend.c) without a GPU: names
 * checked, a missing plugin is CPU for auto and an error for cuda, backend_sweep on CPU is sweep_run. */
#include "backend.h"
#include "sweep.h"
#include "unit.h"
#include "sweep_random.h"

#define NO_PLUGIN "/nonexistent/botcriptofy-cuda.so"

static void teardown(void)
{
    backend_reset();
}

START_TEST(unknown_backend_refused)
{
    char err[256] = "";
    ck_assert_int_eq(backend_init("gpu", NULL, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown backend 'gpu'"));
    ck_assert_str_eq(backend_name(), "cpu");
}
END_TEST

START_TEST(cpu_never_loads_the_plugin)
{
    char err[256] = "";
    ck_assert_int_eq(backend_init("cpu", NO_PLUGIN, err, sizeof err), 0);
    ck_assert_str_eq(backend_name(), "cpu");
    /* a load attempt would have put its failure in the detail */
    ck_assert_str_eq(backend_detail(), "cpu");
}
END_TEST

START_TEST(auto_without_plugin_is_cpu)
{
    char err[256] = "";
    ck_assert_int_eq(backend_init("auto", NO_PLUGIN, err, sizeof err), 0);
    ck_assert_str_eq(backend_name(), "cpu");
    ck_assert_msg(strstr(backend_detail(), "cannot load the CUDA plugin") != NULL, "detail: %s", backend_detail());
    ck_assert_int_eq(backend_init(NULL, NO_PLUGIN, err, sizeof err), 0); /* unset = auto */
    ck_assert_str_eq(backend_name(), "cpu");
}
END_TEST

START_TEST(cuda_without_plugin_fails)
{
    char err[256] = "";
    ck_assert_int_eq(backend_init("cuda", NO_PLUGIN, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "backend cuda unavailable") && strstr(err, NO_PLUGIN), "err: %s", err);
    ck_assert_str_eq(backend_name(), "cpu");
}
END_TEST

/* A file that is not a shared object is refused like a missing one. */
START_TEST(not_a_plugin_refused)
{
    char dir[256], path[300], err[256] = "";
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    ck_assert_int_eq(unit_write_file(dir, "botcriptofy-cuda.so", "not ELF\n", (size_t)-1), 0);
    snprintf(path, sizeof path, "%s/botcriptofy-cuda.so", dir);
    ck_assert_int_eq(backend_init("cuda", path, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot load the CUDA plugin"));
    unit_rm_rf(dir);
}
END_TEST

START_TEST(default_plugin_path)
{
    char path[4096];
    backend_default_plugin(path, sizeof path);
    size_t n = strlen(path), tail = strlen("/botcriptofy-cuda.so");
    ck_assert_int_eq(path[0], '/');
    ck_assert_uint_gt(n, tail);
    ck_assert_str_eq(path + n - tail, "/botcriptofy-cuda.so");
}
END_TEST

/* On the CPU backend, backend_sweep is sweep_run: the same statistics for kernel and engine
 * configs, progress from 0 to n. */
START_TEST(cpu_sweep_is_sweep_run)
{
    const size_t n = 1500, start = 200;
    candle *c = make_candles(n, 21);
    sweep_data d;
    ck_assert_int_eq(sweep_data_init(&d, c, n, start, H, NULL, 0), 0);
    enum { N = 23 };
    engine_config cfgs[N];
    synth_rng r;
    synth_rng_seed(&r, 5);
    mixed_configs(cfgs, N, -1, 7, &r);
    char err[128];
    ck_assert_int_eq(backend_init("cpu", NULL, err, sizeof err), 0);
    sweep_stats a[N], b[N];
    progress_log s = {0, 0, 1};
    sweep_opts o = {.initial_balance = 2000, .warmup_max = 1000, .threads = 2, .progress = progress_record, .ud = &s};
    ck_assert_int_eq(backend_sweep(&d, cfgs, N, &o, a), 0);
    ck_assert(s.monotonic);
    ck_assert_uint_eq(s.last, N);
    o.progress = NULL;
    ck_assert_int_eq(sweep_run(&d, cfgs, N, &o, b), 0);
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
    sweep_data_free(&d);
    free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backend");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, NULL, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, unknown_backend_refused);
    tcase_add_test(t, cpu_never_loads_the_plugin);
    tcase_add_test(t, auto_without_plugin_is_cpu);
    tcase_add_test(t, cuda_without_plugin_fails);
    tcase_add_test(t, not_a_plugin_refused);
    tcase_add_test(t, default_plugin_path);
    tcase_add_test(t, cpu_sweep_is_sweep_run);
    suite_add_tcase(s, t);
    return unit_run(s);
}
