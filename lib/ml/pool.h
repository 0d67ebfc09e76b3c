/* pool.h — a fixed set of pthreads that runs numbered tasks and waits for them all; the caller
 * takes part as worker 0. Task results must not depend on which worker ran them. */
#ifndef BCF_ML_POOL_H
#define BCF_ML_POOL_H

typedef struct ml_pool ml_pool;
/* fn(ctx, task, worker): task in 0..ntasks-1, worker in 0..threads-1 (for per-thread scratch). */
typedef void (*ml_task_fn)(void *ctx, int task, int worker);

/* threads <= 0: the online CPU count. Returns NULL when out of memory; when a thread cannot be
 * created the pool keeps the ones it has (results are the same, only slower). */
ml_pool *ml_pool_new(int threads);
/* Workers the pool really has (the caller included). */
int ml_pool_threads(const ml_pool *p);
/* Runs fn for every task and returns when all are done. */
void ml_pool_run(ml_pool *p, int ntasks, ml_task_fn fn, void *ctx);
void ml_pool_free(ml_pool *p);
/* The online CPU count (at least 1). */
int ml_cpu_count(void);
#endif
