/* trainer.c — the training loop: seeded shuffles, sharded mini-batch gradients summed in a fixed
 * order (or a gradient engine's), L2, global-norm clipping, Adam, and early stopping that keeps
 * the best epoch. */
#include "trainer.h"
#include "metrics.h"
#include "synth.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8
#define PROGRESS_EVERY 16 /* mini-batches between progress calls */

int ml_errorf(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int ml_hparams_check(ml_kind kind, const ml_hparams *hp, char *err, size_t errlen)
{
    if (kind == ML_GRU && (hp->hidden < 1 || hp->hidden > GRU_MAX_HIDDEN))
        return ml_errorf(err, errlen, -1, "hidden must be 1..%d", GRU_MAX_HIDDEN);
    if (kind == ML_GRU && (hp->seq_len < 1 || hp->seq_len > GRU_MAX_SEQ))
        return ml_errorf(err, errlen, -1, "seq_len must be 1..%d", GRU_MAX_SEQ);
    if (kind == ML_LOGREG && (hp->hidden != 0 || hp->seq_len != 1))
        return ml_errorf(err, errlen, -1, "logreg takes hidden 0 and seq_len 1");
    if (hp->epochs < 1 || hp->epochs > 100000)
        return ml_errorf(err, errlen, -1, "epochs must be 1..100000");
    if (hp->batch_size < 1 || hp->batch_size > 1048576)
        return ml_errorf(err, errlen, -1, "batch_size must be 1..1048576");
    if (hp->patience < 0 || hp->patience > 100000)
        return ml_errorf(err, errlen, -1, "patience must be 0..100000");
    if (hp->shards < 1 || hp->shards > 256)
        return ml_errorf(err, errlen, -1, "shards must be 1..256");
    if (!(hp->learning_rate > 0 && hp->learning_rate <= 10))
        return ml_errorf(err, errlen, -1, "learning_rate must be in (0, 10]");
    if (!(hp->l2 >= 0 && hp->l2 <= 100))
        return ml_errorf(err, errlen, -1, "l2 must be in [0, 100]");
    if (!(hp->clip >= 0 && hp->clip <= 1e6))
        return ml_errorf(err, errlen, -1, "clip must be in [0, 1e6]");
    if (hp->seed > (uint64_t)INT64_MAX) /* JSON integers are signed 64-bit */
        return ml_errorf(err, errlen, -1, "seed must be 0..2^63-1");
    return 0;
}

void ml_curve_free(ml_curve *c)
{
    free(c->train_loss);
    free(c->val_loss);
    c->train_loss = c->val_loss = NULL;
    c->len = 0;
}

/* One mini-batch: rows[0..count) cut into nshards contiguous shards. */
typedef struct batch_job {
    const ml_net *net;
    const double *theta, *X;
    const signed char *y;
    const size_t *rows;
    size_t count;
    int nshards;
    double *shard_grad; /* nshards × n_params */
    double *shard_loss; /* nshards */
    double *work;       /* threads × work_len */
} batch_job;

static void batch_task(void *ctx, int shard, int worker)
{
    batch_job *j = ctx;
    size_t P = j->net->n_params;
    size_t lo = j->count * (size_t)shard / (size_t)j->nshards;
    size_t hi = j->count * (size_t)(shard + 1) / (size_t)j->nshards;
    double *g = j->shard_grad + (size_t)shard * P;
    memset(g, 0, P * sizeof *g);
    j->shard_loss[shard] = ml_net_loss_grad(j->net, j->theta, j->X, j->y, j->rows + lo, hi - lo, g,
                                            j->work + (size_t)worker * j->net->work_len);
}

/* A mini-batch too small to pay for waking the pool (about 10 µs): a logistic regression batch of
 * a few hundred rows is a few thousand multiply-adds. */
static int batch_is_small(const ml_net *net, size_t count)
{
    return (double)count * (double)net->n_params * (double)net->shape.L < 50000.0;
}

/* Fisher-Yates with the trainer's own generator: the same seed gives the same epochs. */
static void shuffle(size_t *v, size_t n, synth_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t k = (size_t)(synth_rng_next(rng) % i);
        size_t tmp = v[i - 1];
        v[i - 1] = v[k];
        v[k] = tmp;
    }
}

/* The shard gradients added in shard order into g: the batch's summed gradient. */
static void sum_shards(const ml_net *net, const batch_job *j, double *g)
{
    size_t P = net->n_params;
    memset(g, 0, P * sizeof *g);
    for (int s = 0; s < j->nshards; s++) {
        const double *sg = j->shard_grad + (size_t)s * P;
        for (size_t i = 0; i < P; i++)
            g[i] += sg[i];
    }
}

/* The summed gradient g of `count` rows turned into their mean plus L2, clipped to the global
 * norm `clip`. */
static void finish_gradient(const ml_net *net, const ml_hparams *hp, size_t count, const double *theta, double *g)
{
    size_t P = net->n_params;
    double inv = 1.0 / (double)count, norm2 = 0;
    for (size_t i = 0; i < P; i++) {
        g[i] *= inv;
        if (i < net->n_decay)
            g[i] += hp->l2 * theta[i];
        norm2 += g[i] * g[i];
    }
    double norm = sqrt(norm2);
    if (hp->clip > 0 && norm > hp->clip) {
        double scale = hp->clip / norm;
        for (size_t i = 0; i < P; i++)
            g[i] *= scale;
    }
}

static void adam_step(size_t P, const ml_hparams *hp, long long step, const double *g, double *m, double *v,
                      double *theta)
{
    double c1 = 1.0 - pow(ADAM_BETA1, (double)step), c2 = 1.0 - pow(ADAM_BETA2, (double)step);
    for (size_t i = 0; i < P; i++) {
        m[i] = ADAM_BETA1 * m[i] + (1.0 - ADAM_BETA1) * g[i];
        v[i] = ADAM_BETA2 * v[i] + (1.0 - ADAM_BETA2) * g[i] * g[i];
        double mhat = m[i] / c1, vhat = v[i] / c2;
        theta[i] -= hp->learning_rate * mhat / (sqrt(vhat) + ADAM_EPS);
    }
}

/* The engine's summed gradient and shard losses for job's rows; ML_OK or ML_ERR_ENGINE. */
static int engine_batch(const ml_grad_engine *engine, void *state, const batch_job *j, double *g, char *err,
                        size_t errlen)
{
    char why[256] = "";
    if (engine->batch(state, j->theta, j->rows, j->count, g, j->shard_loss, why, sizeof why) == 0)
        return ML_OK;
    return ml_errorf(err, errlen, ML_ERR_ENGINE, "%s: %s", engine->name, why[0] ? why : "failed");
}

int ml_fit(const ml_net *net, const ml_hparams *hp, const double *X, const signed char *y, const ml_split *sp,
           ml_pool *pool, const ml_grad_engine *engine, double *theta, ml_curve *curve, ml_progress_fn progress,
           void *progress_ctx, double progress_lo, double progress_hi, char *err, size_t errlen)
{
    memset(curve, 0, sizeof *curve);
    size_t P = net->n_params, ntrain = sp->train_hi - sp->train_lo, nval = sp->val_hi - sp->val_lo;
    size_t B = (size_t)hp->batch_size < ntrain ? (size_t)hp->batch_size : ntrain;
    size_t nbatches = (ntrain + B - 1) / B;
    int threads = ml_pool_threads(pool), rc = ML_OK;

    void *state = NULL; /* the engine's */
    size_t *perm = malloc(ntrain * sizeof *perm);
    /* the shards' gradients and scratch only where the CPU computes them */
    double *shard_grad = malloc((engine ? 1 : (size_t)hp->shards * P) * sizeof *shard_grad);
    double *shard_loss = malloc((size_t)hp->shards * sizeof *shard_loss);
    double *work = malloc((engine ? 1 : (size_t)threads * net->work_len) * sizeof *work);
    double *g = malloc(P * sizeof *g), *m = calloc(P, sizeof *m), *v = calloc(P, sizeof *v);
    double *best = malloc(P * sizeof *best);
    double *prob = malloc((nval ? nval : 1) * sizeof *prob);
    curve->train_loss = malloc((size_t)hp->epochs * sizeof *curve->train_loss);
    curve->val_loss = malloc((size_t)hp->epochs * sizeof *curve->val_loss);
    if (!perm || !shard_grad || !shard_loss || !work || !g || !m || !v || !best || !prob || !curve->train_loss ||
        !curve->val_loss) {
        rc = ml_errorf(err, errlen, ML_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ntrain; i++)
        perm[i] = sp->train_lo + i;
    memcpy(best, theta, P * sizeof *best);
    if (engine) {
        char why[256] = "";
        state = engine->begin(engine->ctx, net, hp->shards, B, X, y, sp->train_hi, why, sizeof why);
        if (!state) {
            rc = ml_errorf(err, errlen, ML_ERR_ENGINE, "%s: %s", engine->name, why[0] ? why : "cannot start");
            goto out;
        }
    }

    synth_rng rng; /* its own stream: the shuffles do not shift when the init draws more numbers */
    synth_rng_seed(&rng, hp->seed ^ 0x5DEECE66DULL);
    batch_job job = {net, theta, X, y, NULL, 0, hp->shards, shard_grad, shard_loss, work};
    double best_loss = INFINITY, span = progress_hi - progress_lo;
    long long step = 0;
    int since_best = 0;
    for (int epoch = 0; epoch < hp->epochs; epoch++) {
        shuffle(perm, ntrain, &rng);
        double loss_sum = 0;
        for (size_t b = 0; b < nbatches; b++) {
            job.rows = perm + b * B;
            job.count = b + 1 < nbatches ? B : ntrain - b * B;
            if (engine) {
                if ((rc = engine_batch(engine, state, &job, g, err, errlen)) != ML_OK)
                    goto out;
            } else {
                if (batch_is_small(net, job.count)) /* same shards, same sums: only who runs them differs */
                    for (int sh = 0; sh < hp->shards; sh++)
                        batch_task(&job, sh, 0);
                else
                    ml_pool_run(pool, hp->shards, batch_task, &job);
                sum_shards(net, &job, g);
            }
            for (int s = 0; s < hp->shards; s++)
                loss_sum += shard_loss[s];
            finish_gradient(net, hp, job.count, theta, g);
            adam_step(P, hp, ++step, g, m, v, theta);
            if (progress && (b + 1) % PROGRESS_EVERY == 0 &&
                progress(progress_ctx, progress_lo + span * (epoch + (double)(b + 1) / nbatches) / hp->epochs)) {
                rc = ml_errorf(err, errlen, ML_ERR_CANCELLED, "cancelled");
                goto out;
            }
        }
        if (ml_net_predict(net, theta, X, sp->val_lo, sp->val_hi, pool, prob) < 0) {
            rc = ml_errorf(err, errlen, ML_ERR_NOMEM, "out of memory");
            goto out;
        }
        double train_loss = loss_sum / (double)ntrain;
        double val_loss = ml_logloss(prob, y + sp->val_lo, nval);
        curve->train_loss[epoch] = train_loss;
        curve->val_loss[epoch] = val_loss;
        curve->len = epoch + 1;
        if (!isfinite(train_loss) || !isfinite(val_loss)) {
            rc = ml_errorf(err, errlen, ML_ERR_DIVERGED, "training diverged at epoch %d (loss is not finite)",
                           epoch + 1);
            goto out;
        }
        if (val_loss < best_loss) {
            best_loss = val_loss;
            curve->best_epoch = epoch + 1;
            memcpy(best, theta, P * sizeof *best);
            since_best = 0;
        } else if (hp->patience > 0 && ++since_best >= hp->patience) {
            break;
        }
        if (progress && progress(progress_ctx, progress_lo + span * (epoch + 1.0) / hp->epochs)) {
            rc = ml_errorf(err, errlen, ML_ERR_CANCELLED, "cancelled");
            goto out;
        }
    }
    memcpy(theta, best, P * sizeof *best);
out:
    if (state)
        engine->end(state);
    free(perm);
    free(shard_grad);
    free(shard_loss);
    free(work);
    free(g);
    free(m);
    free(v);
    free(best);
    free(prob);
    if (rc != ML_OK)
        ml_curve_free(curve);
    return rc;
}
