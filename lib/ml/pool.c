/* pool.c — the training thread pool: workers sleep on a condition variable between runs and
 * take tasks from a shared counter, so a mini-batch costs one wake-up, not a thread start. */
#include "pool.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define ML_POOL_MAX_THREADS 256

struct ml_pool {
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    pthread_t th[ML_POOL_MAX_THREADS];
    int nthreads;        /* workers including the caller */
    unsigned long round; /* bumped by each run; workers wait for a new one */
    int stop;
    ml_task_fn fn;
    void *ctx;
    int ntasks, next, busy;
};

typedef struct pool_arg {
    ml_pool *p;
    int worker;
} pool_arg;

int ml_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (n > ML_POOL_MAX_THREADS ? ML_POOL_MAX_THREADS : (int)n) : 1;
}

/* Takes tasks until none are left; called with the lock held, returns with it held. */
static void pool_drain(ml_pool *p, int worker)
{
    while (p->next < p->ntasks) {
        int task = p->next++;
        pthread_mutex_unlock(&p->mu);
        p->fn(p->ctx, task, worker);
        pthread_mutex_lock(&p->mu);
    }
}

static void *pool_main(void *arg)
{
    ml_pool *p = ((pool_arg *)arg)->p;
    int worker = ((pool_arg *)arg)->worker;
    free(arg);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->round == seen)
            pthread_cond_wait(&p->start, &p->mu);
        if (p->stop)
            break;
        seen = p->round;
        p->busy++;
        pool_drain(p, worker);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

ml_pool *ml_pool_new(int threads)
{
    if (threads <= 0)
        threads = ml_cpu_count();
    if (threads > ML_POOL_MAX_THREADS)
        threads = ML_POOL_MAX_THREADS;
    ml_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    p->nthreads = 1;
    for (int w = 1; w < threads; w++) {
        pool_arg *a = malloc(sizeof *a);
        if (!a)
            break;
        a->p = p;
        a->worker = w;
        if (pthread_create(&p->th[w], NULL, pool_main, a) != 0) {
            free(a);
            break;
        }
        p->nthreads++;
    }
    return p;
}

int ml_pool_threads(const ml_pool *p)
{
    return p->nthreads;
}

void ml_pool_run(ml_pool *p, int ntasks, ml_task_fn fn, void *ctx)
{
    if (p->nthreads == 1) {
        for (int t = 0; t < ntasks; t++)
            fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    p->next = 0;
    p->round++;
    p->busy++;
    pthread_cond_broadcast(&p->start);
    pool_drain(p, 0);
    p->busy--;
    /* busy counts the workers inside this round; one that wakes later finds no task left */
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void ml_pool_free(ml_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int w = 1; w < p->nthreads; w++)
        pthread_join(p->th[w], NULL);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

