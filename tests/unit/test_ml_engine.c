/* test_ml_engine.c — ml_train's gradient-engine hook, on the CPU: an engine that computes each row
 * apart and reduces as the CUDA trainer does (row_reduce.h) trains like the shards; failures. */
#include "ml/ml.h"
#include "ml/row_reduce.h"
#include "ml_agree.h"
#include "unit.h"

/*
 * The row engine below is worker/cuda/train.cu in C: each row's loss and gradient by the model's
 * kernel with rows = {that row} into a zeroed buffer, the rows taken in pieces of PIECE rows (7:
 * pieces end inside shards, so the carried sums are exercised), every column reduced with
 * ml_reduce_rows. It runs in every `make check`, GPU or not, so the hook and the reduction the
 * GPU relies on are checked on every build; test_cuda.c runs the same checks on a device.
 */
#define PIECE 7

typedef struct row_engine {
    ml_net net;
    int shards;
    size_t max_batch;
    const double *X;
    const signed char *y;
    double *vals, *work, *acc;
} row_engine;

static int begun, ended, batches;

static void *row_begin(void *ctx, const ml_net *net, int shards, size_t max_batch, const double *X,
                       const signed char *y, size_t nrows, char *err, size_t errlen)
{
    (void)ctx;
    ck_assert(nrows > 0);
    row_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->net = *net;
    e->shards = shards;
    e->max_batch = max_batch;
    e->X = X;
    e->y = y;
    e->vals = malloc(PIECE * (net->n_params + 1) * sizeof *e->vals);
    e->work = malloc(net->work_len * sizeof *e->work);
    e->acc = malloc((net->n_params + 1) * sizeof *e->acc);
    if (!e->vals || !e->work || !e->acc) {
        snprintf(err, errlen, "out of memory");
        free(e->vals);
        free(e->work);
        free(e->acc);
        free(e);
        return NULL;
    }
    begun++;
    return e;
}

static int row_batch(void *state, const double *theta, const size_t *rows, size_t count, double *grad,
                     double *shard_loss, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    row_engine *e = state;
    size_t P = e->net.n_params;
    ck_assert(count >= 1 && count <= e->max_batch);
    memset(grad, 0, P * sizeof *grad);
    memset(shard_loss, 0, (size_t)e->shards * sizeof *shard_loss);
    for (size_t a = 0; a < count; a += PIECE) {
        size_t b = count - a > PIECE ? a + PIECE : count;
        for (size_t r = a; r < b; r++) {
            double *g = e->vals + (r - a) * (P + 1);
            memset(g, 0, P * sizeof *g);
            g[P] = ml_net_loss_grad(&e->net, theta, e->X, e->y, rows + r, 1, g, e->work);
        }
        for (size_t p = 0; p <= P; p++)
            ml_reduce_rows(e->vals + p, P + 1, a, b, count, e->shards, &e->acc[p], p < P ? &grad[p] : NULL,
                           p == P ? shard_loss : NULL);
    }
    batches++;
    return 0;
}

static void row_end(void *state)
{
    row_engine *e = state;
    free(e->vals);
    free(e->work);
    free(e->acc);
    free(e);
    ended++;
}

static const ml_grad_engine rows_engine = {"rows", NULL, row_begin, row_batch, row_end};

static void reset_counts(void)
{
    begun = ended = batches = 0;
}

/* The reduction against the trainer's own order, over values whose sum depends on the order
 * (magnitudes 1e-8..1e8, both signs): equal to the bit for every batch size (fewer rows than
 * shards included) and every piece size. */
START_TEST(reduce_matches_the_trainer_order)
{
    enum { MAXN = 61 };
    double v[MAXN];
    synth_rng rng;
    synth_rng_seed(&rng, 9);
    for (int i = 0; i < MAXN; i++)
        v[i] = synth_rng_normal(&rng) * pow(10.0, (double)(i * 7 % 17) - 8.0);
    const int shard_counts[] = {1, 3, 16, 40, 64};
    for (size_t count = 1; count <= MAXN; count += 3)
        for (size_t k = 0; k < sizeof shard_counts / sizeof *shard_counts; k++) {
            int ns = shard_counts[k];
            double want = 0, want_shard[64] = {0};
            for (int s = 0; s < ns; s++) {
                double sum = 0;
                for (size_t r = ml_shard_lo(count, ns, s); r < ml_shard_lo(count, ns, s + 1); r++)
                    sum += v[r];
                want_shard[s] = sum;
                want += sum;
            }
            for (size_t piece = 1; piece <= count; piece += piece < 4 ? 1 : 5) {
                double total = 0, acc = 12345, shard[64] = {0};
                for (size_t a = 0; a < count; a += piece) {
                    size_t b = count - a > piece ? a + piece : count;
                    ml_reduce_rows(v + a, 1, a, b, count, ns, &acc, &total, shard);
                }
                ck_assert_msg(memcmp(&total, &want, sizeof total) == 0, "count %zu shards %d piece %zu", count, ns,
                              piece);
                ck_assert_int_eq(memcmp(shard, want_shard, sizeof shard), 0);
            }
        }
}
END_TEST

/* One step: logistic regression's row-then-reduce equals the shards to the bit (a row's gradient
 * is g·x added to 0, so the sums are the same); the GRU's within 1e-12 (its time steps are summed
 * per row first). */
START_TEST(batch_gradient_equals_the_shards)
{
    ml_assert_engine_batch_alike(&rows_engine, ML_LOGREG, 0, 0);
    ml_assert_engine_batch_alike(&rows_engine, ML_GRU, 1e-12, 1e-14);
}
END_TEST

/* Whole trainings within the tolerance test_cuda.c holds the GPU to; logistic regression to the
 * bit. begin and end are called once per training. */
START_TEST(training_agrees_with_the_shards)
{
    candle *c = ml_test_candles(ML_AGREE_CANDLES, -0.3, 5);
    reset_counts();
    double auc = ml_assert_engine_trains_alike(c, ML_AGREE_CANDLES, ML_GRU, &rows_engine);
    ck_assert_int_eq(begun, 1);
    ck_assert_int_eq(ended, 1);
    ck_assert_int_gt(batches, ML_AGREE_GRU_EPOCHS * 10);
    ck_assert_msg(auc > 0.55, "the GRU learnt the planted signal (test AUC %g)", auc);
    ml_assert_engine_trains_alike(c, ML_AGREE_CANDLES, ML_LOGREG, &rows_engine);

    ml_train_opts o;
    ml_agree_opts(&o, ML_LOGREG);
    ml_model *cpu, *eng;
    char err[256];
    ck_assert_int_eq(ml_train(c, ML_AGREE_CANDLES, &o, &cpu, NULL, err, sizeof err), ML_OK);
    o.engine = &rows_engine;
    ck_assert_int_eq(ml_train(c, ML_AGREE_CANDLES, &o, &eng, NULL, err, sizeof err), ML_OK);
    char *a = ml_model_dumps(cpu), *b = ml_model_dumps(eng);
    ck_assert_msg(a && b && strcmp(a, b) == 0, "the logistic regressions' JSON differ");
    free(a);
    free(b);
    ml_model_free(cpu);
    ml_model_free(eng);
    free(c);
}
END_TEST

/* ---- failures: ML_ERR_ENGINE with the engine's reason, no model, the state freed ---- */

static void *refuse_begin(void *ctx, const ml_net *net, int shards, size_t max_batch, const double *X,
                          const signed char *y, size_t nrows, char *err, size_t errlen)
{
    (void)ctx, (void)net, (void)shards, (void)max_batch, (void)X, (void)y, (void)nrows;
    snprintf(err, errlen, "no device here");
    return NULL;
}

static int fail_third_batch(void *state, const double *theta, const size_t *rows, size_t count, double *grad,
                            double *shard_loss, char *err, size_t errlen)
{
    if (batches == 2) {
        snprintf(err, errlen, "device lost");
        return -1;
    }
    return row_batch(state, theta, rows, count, grad, shard_loss, err, errlen);
}

START_TEST(engine_failures_are_reported)
{
    candle *c = ml_test_candles(1500, -0.3, 8);
    ml_train_opts o;
    ml_agree_opts(&o, ML_GRU);
    ml_model *m = NULL;
    char err[256] = "";
    const ml_grad_engine refusing = {"gpu", NULL, refuse_begin, row_batch, row_end};
    o.engine = &refusing;
    reset_counts();
    ck_assert_int_eq(ml_train(c, 1500, &o, &m, NULL, err, sizeof err), ML_ERR_ENGINE);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(err, "gpu: no device here");
    ck_assert_int_eq(ended, 0);

    const ml_grad_engine failing = {"gpu", NULL, row_begin, fail_third_batch, row_end};
    o.engine = &failing;
    reset_counts();
    ck_assert_int_eq(ml_train(c, 1500, &o, &m, NULL, err, sizeof err), ML_ERR_ENGINE);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(err, "gpu: device lost");
    ck_assert_int_eq(begun, 1);
    ck_assert_int_eq(ended, 1);
    ck_assert_int_eq(batches, 2);

    /* the same options without the engine train on the CPU */
    o.engine = NULL;
    ck_assert_int_eq(ml_train(c, 1500, &o, &m, NULL, err, sizeof err), ML_OK);
    ck_assert_ptr_nonnull(m);
    ml_model_free(m);
    free(c);
}
END_TEST

/* ml_opts_from_json keeps the caller's engine, as it keeps the threads and the progress callback. */
START_TEST(options_keep_the_engine)
{
    ml_train_opts o;
    ml_train_opts_defaults(&o, ML_LOGREG);
    ck_assert_ptr_null(o.engine);
    o.engine = &rows_engine;
    json_t *j = json_pack("{s:s,s:i}", "kind", "gru", "horizon", 3);
    char err[256];
    ck_assert_int_eq(ml_opts_from_json(j, &o, err, sizeof err), ML_OK);
    ck_assert_ptr_eq(o.engine, &rows_engine);
    ck_assert_int_eq(o.horizon, 3);
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ml_engine");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 120); /* a guard against hangs in sanitizer builds, not a speed assertion */
    tcase_add_test(t, reduce_matches_the_trainer_order);
    tcase_add_test(t, batch_gradient_equals_the_shards);
    tcase_add_test(t, training_agrees_with_the_shards);
    tcase_add_test(t, engine_failures_are_reported);
    tcase_add_test(t, options_keep_the_engine);
    suite_add_tcase(s, t);
    return unit_run(s);
}
