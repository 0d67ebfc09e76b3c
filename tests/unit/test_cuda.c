/* test_cuda.c — unit tests of the CUDA plugin (worker/cuda): without a device it says so and fails
 * cleanly; with one, its sweep equals the CPU's for random configs of every kernel strategy, and
 * its ML training agrees with the CPU's within the documented tolerance. */
#include "autoconfig.h"
#include "backend.h"
#include "cuda/cuda_api.h"
#include "ml_agree.h"
#include "sweep.h"
#include "unit.h"
#include "sweep_random.h"
#include <dlfcn.h>

/*
 * Skips (exit 77, shown as SKIP by make check) when configure found no nvcc and the plugin was
 * not built. Built but no device (this project's CI): probe answers 0 with a reason, nothing
 * crashes, every entry point fails with an error, and the worker's backend falls back or refuses.
 * With a device: CPU (sweep_run) and GPU agree on every statistic.
 *
 * The tolerance: counts (trades, wins, losses, points, exposed, skipped orders) must be equal;
 * final equity, drawdowns, fees, gross profit/loss and the return sums within 1e-9 relative, as
 * Sharpe and Sortino. The GPU runs the same operations in the same order as the CPU: the plugin
 * is built with --fmad=false (no fused multiply-add, as -ffp-contract=off here), and CUDA's
 * double division and sqrt round to nearest as IEEE 754 asks (no fast-math flag), so the results
 * are expected to be equal to the bit; there is no pow or other libm call in the kernel whose
 * last bit could differ. 1e-9 only leaves room for such a change later without hiding a real
 * error, which would move results by far more.
 *
 * ML training is held to a tolerance instead (tests/unit/ml_agree.h says why and how much): the
 * device's exp/tanh/log1p may round differently from glibc's, and the GPU sums each row's
 * gradient on its own before the rows are added in the CPU's shard order. One mini-batch's
 * gradient must agree within 1e-10 of its largest component and its shard losses within 1e-12;
 * whole trainings (10 logistic-regression epochs, 2 GRU epochs) within ML_AGREE_*_REL.
 */

static char plugin_path[4096];
static void *plugin;
static int devices;
static char device[192];

static uint64_t (*p_abi)(void);
static const char *(*p_version)(void);
static int (*p_probe)(char *, size_t);
static bcf_cuda_series *(*p_upload)(const sweep_series *, char *, size_t);
static void (*p_free)(bcf_cuda_series *);
static int (*p_sweep)(bcf_cuda_series *, const engine_config *, const int64_t *, size_t, const bcf_cuda_sweep_opts *,
                      sweep_stats *, char *, size_t);
static bcf_cuda_train *(*p_train_begin)(const ml_net *, int, size_t, const double *, const signed char *, size_t,
                                        char *, size_t);
static int (*p_train_batch)(bcf_cuda_train *, const double *, const size_t *, size_t, double *, double *, char *,
                            size_t);
static void (*p_train_end)(bcf_cuda_train *);

/* The plugin's trainer as an ml_train engine, without the backend (which offers it only on a device). */
static void *plugin_train_begin(void *ctx, const ml_net *net, int shards, size_t max_batch, const double *X,
                                const signed char *y, size_t nrows, char *err, size_t errlen)
{
    (void)ctx;
    return p_train_begin(net, shards, max_batch, X, y, nrows, err, errlen);
}

static int plugin_train_batch(void *state, const double *theta, const size_t *rows, size_t count, double *grad,
                              double *shard_loss, char *err, size_t errlen)
{
    return p_train_batch(state, theta, rows, count, grad, shard_loss, err, errlen);
}

static void plugin_train_end(void *state)
{
    p_train_end(state);
}

static const ml_grad_engine plugin_engine = {"cuda", NULL, plugin_train_begin, plugin_train_batch, plugin_train_end};

static void teardown(void)
{
    backend_reset();
}

START_TEST(abi_matches)
{
    ck_assert(p_abi() == BCF_CUDA_ABI);
    ck_assert_str_eq(p_version(), PACKAGE_VERSION);
}
END_TEST

/* ---- no device ---- */

START_TEST(probe_without_device)
{
    char name[192] = "";
    ck_assert_int_eq(p_probe(name, sizeof name), 0);
    ck_assert_msg(name[0] != '\0', "probe says why there is no device");
    ck_assert_int_eq(p_probe(NULL, 0), 0);
}
END_TEST

START_TEST(entry_points_fail_cleanly)
{
    const size_t n = 300;
    candle *c = make_candles(n, 1);
    sweep_data d;
    ck_assert_int_eq(sweep_data_init(&d, c, n, 50, H, NULL, 0), 0);
    char err[256] = "";
    ck_assert_ptr_null(p_upload(&d.se, err, sizeof err));
    ck_assert_msg(err[0] != '\0', "upload says why it failed");
    engine_config cfg;
    ck_assert_int_eq(engine_config_defaults(&cfg, STRATEGY_SMA_CROSS), 0);
    int64_t warm = 0;
    sweep_stats out;
    bcf_cuda_sweep_opts o = {.initial_balance = 1000};
    err[0] = '\0';
    ck_assert_int_eq(p_sweep(NULL, &cfg, &warm, 1, &o, &out, err, sizeof err), BCF_CUDA_EFAIL);
    ck_assert(err[0] != '\0');
    sweep_data_free(&d);
    free(c);
}
END_TEST

START_TEST(backend_without_device)
{
    char err[256] = "";
    ck_assert_int_eq(backend_init("cuda", plugin_path, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no usable CUDA device"), "err: %s", err);
    ck_assert_ptr_null(backend_ml_engine());
    ck_assert_int_eq(backend_init("auto", plugin_path, err, sizeof err), 0);
    ck_assert_str_eq(backend_name(), "cpu");
    ck_assert_msg(strstr(backend_detail(), "no usable CUDA device"), "detail: %s", backend_detail());
    ck_assert_ptr_null(backend_ml_engine()); /* training stays on the CPU threads */
}
END_TEST

/* The trainer's entry points refuse to start without a device, and ml_train reports it as an
 * engine failure (the worker then trains on the CPU) with no model. */
START_TEST(trainer_refused_without_device)
{
    ml_net net;
    ck_assert_int_eq(ml_net_make(&net, ML_LOGREG, ML_N_FEATURES, 0, 1), 0);
    double X[4 * ML_N_FEATURES] = {0};
    signed char y[4] = {0, 1, 0, 1};
    char err[256] = "";
    ck_assert_ptr_null(p_train_begin(&net, 4, 4, X, y, 4, err, sizeof err));
    ck_assert_msg(err[0] != '\0', "begin says why it failed");
    double theta[ML_N_FEATURES + 1] = {0}, grad[ML_N_FEATURES + 1], loss[4];
    size_t rows[2] = {1, 2};
    err[0] = '\0';
    ck_assert_int_eq(p_train_batch(NULL, theta, rows, 2, grad, loss, err, sizeof err), BCF_CUDA_EFAIL);
    ck_assert(err[0] != '\0');
    p_train_end(NULL);

    candle *c = ml_test_candles(1000, -0.3, 4);
    ml_train_opts o;
    ml_agree_opts(&o, ML_LOGREG);
    o.engine = &plugin_engine;
    ml_model *m = NULL;
    ck_assert_int_eq(ml_train(c, 1000, &o, &m, NULL, err, sizeof err), ML_ERR_ENGINE);
    ck_assert_ptr_null(m);
    ck_assert_msg(strncmp(err, "cuda: ", 6) == 0, "err: %s", err);
    free(c);
}
END_TEST

/* ---- with a device ---- */

static void assert_agree(const sweep_stats *g, const sweep_stats *c, size_t i, const engine_config *cfg)
{
    const char *kind = strategy_get(cfg->kind)->name;
    ck_assert_msg(g->trades == c->trades, "set %zu (%s): %lld vs %lld trades", i, kind, (long long)g->trades,
                  (long long)c->trades);
    ck_assert_int_eq(g->wins, c->wins);
    ck_assert_int_eq(g->losses, c->losses);
    ck_assert_int_eq(g->points, c->points);
    ck_assert_int_eq(g->exposed, c->exposed);
    ck_assert_int_eq(g->orders_skipped, c->orders_skipped);
    ck_assert_int_eq(g->start_time, c->start_time);
    ck_assert_int_eq(g->end_time, c->end_time);
    assert_close(g->final_equity, c->final_equity, 1e-9, "final_equity");
    assert_close(g->max_dd_pct, c->max_dd_pct, 1e-9, "max_dd_pct");
    assert_close(g->max_dd_abs, c->max_dd_abs, 1e-9, "max_dd_abs");
    assert_close(g->fees, c->fees, 1e-9, "fees");
    assert_close(g->gross_profit, c->gross_profit, 1e-9, "gross_profit");
    assert_close(g->gross_loss, c->gross_loss, 1e-9, "gross_loss");
    assert_close(g->ret_sum, c->ret_sum, 1e-9, "ret_sum");
    assert_close(g->ret_sq, c->ret_sq, 1e-9, "ret_sq");
    assert_close(g->down_sq, c->down_sq, 1e-9, "down_sq");
    sweep_metrics gm, cm;
    sweep_metrics_compute(g, H, &gm);
    sweep_metrics_compute(c, H, &cm);
    assert_close(gm.sharpe, cm.sharpe, 1e-9, "sharpe");
    assert_close(gm.sortino, cm.sortino, 1e-9, "sortino");
}

/* Random configs of the five kernel strategies, kinds interleaved (the plugin sorts them by kind
 * and must put each result back in its place), on 4000 hourly candles with 400 of history. */
enum { AGREE_SETS = 500 };
static const size_t agree_candles = 4000, agree_start = 400;

static void agree_setup(candle **c, sweep_data *d, engine_config *cfgs, sweep_stats *cpu)
{
    *c = make_candles(agree_candles, 77);
    ck_assert_int_eq(sweep_data_init(d, *c, agree_candles, agree_start, H, NULL, 0), 0);
    synth_rng r;
    synth_rng_seed(&r, 2024);
    for (int i = 0; i < AGREE_SETS; i++)
        random_config(&cfgs[i], (i * 3) % 5, &r);
    sweep_opts o = {.initial_balance = 10000, .warmup_max = 1000, .threads = 0};
    ck_assert_int_eq(sweep_run(d, cfgs, AGREE_SETS, &o, cpu), 0);
}

/* The plugin called directly: automatic slices, then slices of 257 candles (the warm-up and the
 * traded part cut mid-way, state carried between launches) in chunks of 37 sets. */
START_TEST(plugin_equals_cpu)
{
    candle *c;
    sweep_data d;
    static engine_config cfgs[AGREE_SETS];
    static sweep_stats cpu[AGREE_SETS], gpu[AGREE_SETS];
    static int64_t warm[AGREE_SETS];
    agree_setup(&c, &d, cfgs, cpu);
    for (int i = 0; i < AGREE_SETS; i++)
        warm[i] = sweep_warmup(&cfgs[i], &d.se, 1000);
    char err[256] = "";
    bcf_cuda_series *s = p_upload(&d.se, err, sizeof err);
    ck_assert_msg(s != NULL, "upload: %s", err);
    bcf_cuda_sweep_opts o[2] = {{.initial_balance = 10000},
                                {.initial_balance = 10000, .slice_candles = 257, .chunk_sets = 37}};
    for (int k = 0; k < 2; k++) {
        memset(gpu, 0, sizeof gpu);
        ck_assert_msg(p_sweep(s, cfgs, warm, AGREE_SETS, &o[k], gpu, err, sizeof err) == 0, "sweep: %s", err);
        int64_t trades = 0;
        for (int i = 0; i < AGREE_SETS; i++) {
            assert_agree(&gpu[i], &cpu[i], (size_t)i, &cfgs[i]);
            trades += gpu[i].trades;
        }
        ck_assert_int_gt(trades, 2000); /* the comparison saw plenty of trades */
    }
    p_free(s);
    sweep_data_free(&d);
    free(c);
}
END_TEST

static int cancel_at_once(double done, double total, void *ud)
{
    (void)done;
    (void)total;
    ++*(int *)ud;
    return 1;
}

/* A grid config is refused with the reason; the progress callback can cancel. */
START_TEST(plugin_refuses_and_cancels)
{
    const size_t n = 3000;
    candle *c = make_candles(n, 3);
    sweep_data d;
    ck_assert_int_eq(sweep_data_init(&d, c, n, 100, H, NULL, 0), 0);
    char err[256] = "";
    bcf_cuda_series *s = p_upload(&d.se, err, sizeof err);
    ck_assert_msg(s != NULL, "upload: %s", err);
    engine_config cfgs[2];
    ck_assert_int_eq(engine_config_defaults(&cfgs[0], STRATEGY_SMA_CROSS), 0);
    ck_assert_int_eq(engine_config_defaults(&cfgs[1], STRATEGY_GRID), 0);
    int64_t warm[2] = {0, 0};
    sweep_stats out[2];
    int calls = 0;
    bcf_cuda_sweep_opts o = {.initial_balance = 1000, .slice_candles = 500, .progress = cancel_at_once, .ud = &calls};
    ck_assert_int_eq(p_sweep(s, cfgs, warm, 2, &o, out, err, sizeof err), BCF_CUDA_EFAIL);
    ck_assert_msg(strstr(err, "config 1"), "err: %s", err);
    ck_assert_int_eq(p_sweep(s, cfgs, warm, 1, &o, out, err, sizeof err), BCF_CUDA_ECANCELLED);
    ck_assert_int_eq(calls, 1);
    p_free(s);
    sweep_data_free(&d);
    free(c);
}
END_TEST

/* The worker's path: backend_sweep on CUDA, with grid and dca sets mixed in (they run on the
 * CPU), equals sweep_run set for set. */
START_TEST(backend_sweep_equals_cpu)
{
    candle *c;
    sweep_data d;
    static engine_config cfgs[AGREE_SETS];
    static sweep_stats cpu[AGREE_SETS], gpu[AGREE_SETS];
    agree_setup(&c, &d, cfgs, cpu);
    for (int i = 5; i < AGREE_SETS; i += 61)
        ck_assert_int_eq(engine_config_defaults(&cfgs[i], i % 2 ? STRATEGY_GRID : STRATEGY_DCA), 0);
    sweep_opts o = {.initial_balance = 10000, .warmup_max = 1000, .threads = 0};
    ck_assert_int_eq(sweep_run(&d, cfgs, AGREE_SETS, &o, cpu), 0);
    char err[256] = "";
    ck_assert_msg(backend_init("cuda", plugin_path, err, sizeof err) == 0, "backend: %s", err);
    ck_assert_str_eq(backend_name(), "cuda");
    progress_log s = {0, 0, 1};
    o.progress = progress_record;
    o.ud = &s;
    ck_assert_int_eq(backend_sweep(&d, cfgs, AGREE_SETS, &o, gpu), 0);
    ck_assert(s.monotonic);
    ck_assert_uint_eq(s.last, AGREE_SETS);
    for (int i = 0; i < AGREE_SETS; i++)
        assert_agree(&gpu[i], &cpu[i], (size_t)i, &cfgs[i]);
    sweep_data_free(&d);
    free(c);
}
END_TEST

/* One mini-batch on the GPU against the CPU trainer's sums, for both kinds; rows outside the
 * uploaded matrix (or before a GRU window's start) are refused, not read. */
START_TEST(train_batch_agrees)
{
    char err[256] = "";
    ck_assert_msg(backend_init("cuda", plugin_path, err, sizeof err) == 0, "backend: %s", err);
    const ml_grad_engine *e = backend_ml_engine();
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->name, "cuda");
    ml_assert_engine_batch_alike(e, ML_LOGREG, 1e-10, 1e-12);
    ml_assert_engine_batch_alike(e, ML_GRU, 1e-10, 1e-12);

    ml_net net;
    ck_assert_int_eq(ml_net_make(&net, ML_GRU, ML_N_FEATURES, 4, 5), 0);
    double X[10 * ML_N_FEATURES] = {0};
    signed char y[10] = {0};
    bcf_cuda_train *t = p_train_begin(&net, 2, 4, X, y, 10, err, sizeof err);
    ck_assert_msg(t != NULL, "begin: %s", err);
    double *theta = calloc(net.n_params, sizeof *theta), *grad = malloc(net.n_params * sizeof *grad), loss[2];
    ck_assert(theta && grad);
    size_t past_end[2] = {5, 10}, before_window[2] = {3, 6}, ok[2] = {4, 9};
    ck_assert_int_eq(p_train_batch(t, theta, past_end, 2, grad, loss, err, sizeof err), BCF_CUDA_EFAIL);
    ck_assert_int_eq(p_train_batch(t, theta, before_window, 2, grad, loss, err, sizeof err), BCF_CUDA_EFAIL);
    ck_assert_int_eq(p_train_batch(t, theta, ok, 5, grad, loss, err, sizeof err), BCF_CUDA_EFAIL); /* > max_batch */
    ck_assert_msg(p_train_batch(t, theta, ok, 2, grad, loss, err, sizeof err) == 0, "batch: %s", err);
    /* θ = 0 and y = 0: every logit is 0, so each row's loss is ln 2 */
    ck_assert_double_eq_tol(loss[0], log(2.0), 1e-15);
    ck_assert_double_eq_tol(loss[1], log(2.0), 1e-15);
    p_train_end(t);
    free(theta);
    free(grad);
}
END_TEST

/* Whole trainings through the worker's engine: the per-epoch losses, the parameters and the test
 * metrics as the CPU's within the tolerance (ml_agree.h). */
START_TEST(training_agrees_with_cpu)
{
    char err[256] = "";
    ck_assert_msg(backend_init("cuda", plugin_path, err, sizeof err) == 0, "backend: %s", err);
    candle *c = ml_test_candles(ML_AGREE_CANDLES, -0.3, 5);
    ml_assert_engine_trains_alike(c, ML_AGREE_CANDLES, ML_LOGREG, backend_ml_engine());
    ml_assert_engine_trains_alike(c, ML_AGREE_CANDLES, ML_GRU, backend_ml_engine());
    free(c);
}
END_TEST

/* Resolves the plugin's entry points; a plugin that was built must load. */
static void load_plugin(void)
{
    const char *b = getenv("BCF_BUILDDIR");
    snprintf(plugin_path, sizeof plugin_path, "%s/worker/cuda/botcriptofy-cuda.so", b && *b ? b : ".");
    plugin = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
    if (!plugin) {
        fprintf(stderr, "test_cuda: the plugin was built but does not load: %s\n", dlerror());
        exit(EXIT_FAILURE);
    }
    p_abi = (uint64_t(*)(void))dlsym(plugin, "bcf_cuda_abi");
    p_version = (const char *(*)(void))dlsym(plugin, "bcf_cuda_version");
    p_probe = (int (*)(char *, size_t))dlsym(plugin, "bcf_cuda_probe");
    p_upload = (bcf_cuda_series * (*)(const sweep_series *, char *, size_t)) dlsym(plugin, "bcf_cuda_series_upload");
    p_free = (void (*)(bcf_cuda_series *))dlsym(plugin, "bcf_cuda_series_free");
    p_sweep = (int (*)(bcf_cuda_series *, const engine_config *, const int64_t *, size_t, const bcf_cuda_sweep_opts *,
                       sweep_stats *, char *, size_t))dlsym(plugin, "bcf_cuda_sweep");
    p_train_begin = (bcf_cuda_train * (*)(const ml_net *, int, size_t, const double *, const signed char *, size_t,
                                          char *, size_t)) dlsym(plugin, "bcf_cuda_train_begin");
    p_train_batch = (int (*)(bcf_cuda_train *, const double *, const size_t *, size_t, double *, double *, char *,
                             size_t))dlsym(plugin, "bcf_cuda_train_batch");
    p_train_end = (void (*)(bcf_cuda_train *))dlsym(plugin, "bcf_cuda_train_end");
    if (!p_abi || !p_version || !p_probe || !p_upload || !p_free || !p_sweep || !p_train_begin || !p_train_batch ||
        !p_train_end) {
        fprintf(stderr, "test_cuda: %s lacks an entry point\n", plugin_path);
        exit(EXIT_FAILURE);
    }
}

int main(void)
{
#ifndef BCF_CUDA_PLUGIN_BUILT
    printf("test_cuda: SKIP: the CUDA plugin was not built (configure found no nvcc); nothing of the GPU "
           "backend was tested\n");
    return 77;
#endif
    load_plugin();
    devices = p_probe(device, sizeof device);
    Suite *s = suite_create("cuda");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, NULL, teardown);
    tcase_add_test(t, abi_matches);
    if (devices > 0) {
        printf("test_cuda: %d device(s), the first: %s\n", devices, device);
        tcase_add_test(t, plugin_equals_cpu);
        tcase_add_test(t, plugin_refuses_and_cancels);
        tcase_add_test(t, backend_sweep_equals_cpu);
        tcase_add_test(t, train_batch_agrees);
        tcase_add_test(t, training_agrees_with_cpu);
    } else {
        printf("test_cuda: no CUDA device (%s): checked that the plugin fails cleanly; the CPU/GPU "
               "agreement tests (sweeps and ML training) need a GPU and did not run\n",
               device);
        tcase_add_test(t, probe_without_device);
        tcase_add_test(t, entry_points_fail_cleanly);
        tcase_add_test(t, backend_without_device);
        tcase_add_test(t, trainer_refused_without_device);
    }
    suite_add_tcase(s, t);
    /* in this process: CUDA, once initialised (the probe above), cannot be used in a forked
     * child, and check forks one per test by default */
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
