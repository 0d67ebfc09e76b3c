/* net.c — dispatch from the model kind to logreg.c or gru.c, and the parallel batch predictor
 * both kinds share. */
#include "net.h"
#include "logreg.h"
#include "mlmath.h"
#include <stdlib.h>
#include <string.h>

int ml_net_make(ml_net *net, ml_kind kind, int F, int H, int L)
{
    memset(net, 0, sizeof *net);
    if (F < 1 || F > 1024)
        return -1;
    net->kind = kind;
    net->shape.F = F;
    if (kind == ML_LOGREG) {
        net->shape.L = 1;
        net->n_params = logreg_n_params(F);
        net->n_decay = logreg_n_decay(F);
        net->work_len = 1;
        return 0;
    }
    if (kind != ML_GRU || H < 1 || H > GRU_MAX_HIDDEN || L < 1 || L > GRU_MAX_SEQ)
        return -1;
    net->shape.H = H;
    net->shape.L = L;
    net->n_params = gru_n_params(&net->shape);
    net->n_decay = gru_n_decay(&net->shape);
    net->work_len = gru_work_len(&net->shape);
    return 0;
}

const char *ml_kind_name(ml_kind kind)
{
    return kind == ML_LOGREG ? "logreg" : kind == ML_GRU ? "gru" : "unknown";
}

ml_kind ml_kind_parse(const char *name)
{
    if (name && strcmp(name, "logreg") == 0)
        return ML_LOGREG;
    if (name && strcmp(name, "gru") == 0)
        return ML_GRU;
    return (ml_kind)0;
}

size_t ml_net_context(const ml_net *net)
{
    return (size_t)net->shape.L - 1;
}

void ml_net_init(const ml_net *net, uint64_t seed, double *theta)
{
    if (net->kind == ML_GRU)
        gru_init(&net->shape, seed, theta);
    else
        logreg_init(net->shape.F, theta);
}

double ml_net_logit(const ml_net *net, const double *theta, const double *X, size_t t, double *work)
{
    if (net->kind == ML_GRU)
        return gru_logit(&net->shape, theta, X, t, work);
    return logreg_logit(net->shape.F, theta, X + t * (size_t)net->shape.F);
}

double ml_net_loss_grad(const ml_net *net, const double *theta, const double *X, const signed char *y,
                        const size_t *rows, size_t nrows, double *grad, double *work)
{
    if (net->kind == ML_GRU)
        return gru_loss_grad(&net->shape, theta, X, y, rows, nrows, grad, work);
    return logreg_loss_grad(net->shape.F, theta, X, y, rows, nrows, grad);
}

typedef struct predict_job {
    const ml_net *net;
    const double *theta, *X;
    size_t lo, hi, chunk;
    double *work; /* threads × work_len */
    double *prob;
} predict_job;

static void predict_task(void *ctx, int task, int worker)
{
    predict_job *j = ctx;
    size_t a = j->lo + (size_t)task * j->chunk, b = a + j->chunk < j->hi ? a + j->chunk : j->hi;
    double *work = j->work + (size_t)worker * j->net->work_len;
    for (size_t t = a; t < b; t++)
        j->prob[t - j->lo] = ml_sigmoid(ml_net_logit(j->net, j->theta, j->X, t, work));
}

int ml_net_predict(const ml_net *net, const double *theta, const double *X, size_t lo, size_t hi, ml_pool *pool,
                   double *prob)
{
    if (hi <= lo)
        return 0;
    predict_job j = {net, theta, X, lo, hi, 256, NULL, prob};
    j.work = malloc((size_t)ml_pool_threads(pool) * net->work_len * sizeof *j.work);
    if (!j.work)
        return -1;
    size_t tasks = (hi - lo + j.chunk - 1) / j.chunk;
    ml_pool_run(pool, (int)tasks, predict_task, &j);
    free(j.work);
    return 0;
}
