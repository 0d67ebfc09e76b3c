/* backend.h — the worker's compute backend: CPU threads, or the CUDA plugin when it loads and finds a
 * device (--backend auto|cpu|cuda, worker.backend); sweeps and ML training go through it. */
#ifndef BCF_WORKER_BACKEND_H
#define BCF_WORKER_BACKEND_H
#include "ml/trainer.h"
#include "sweep.h"
#include <stddef.h>

/* The plugin's file when worker.cuda_plugin is unset: worker/cuda/botcriptofy-cuda.so next to the
 * running binary when it exists (a build tree), else $(pkglibdir)/botcriptofy-cuda.so. */
void backend_default_plugin(char *out, size_t outlen);

/* Chooses the backend once, at start. want: "auto" (CUDA when the plugin loads and sees a device,
 * else CPU), "cpu" (the plugin is never loaded) or "cuda" (CUDA or an error). plugin: the plugin's
 * path, NULL for backend_default_plugin. 0, or -1 with the reason in err: an unknown name, or
 * "cuda" asked for and unavailable (the backend stays CPU). */
int backend_init(const char *want, const char *plugin, char *err, size_t errlen);

/* "cpu" or "cuda": what sweeps and training run on (heartbeats, logs, job results). */
const char *backend_name(void);
/* One line for logs: the device, or why auto chose the CPU. */
const char *backend_detail(void);

/* sweep_run with the active backend: on CUDA, the configs the sweep kernel covers run on the GPU
 * (progress and cancel between slices of candles) and the others (grid, dca) on the CPU threads;
 * on the CPU, sweep_run itself. A CUDA failure is logged and its configs run on the CPU instead.
 * Progress counts parameter sets, as sweep_run's. 0 or a SWEEP_E* code. */
int backend_sweep(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o, sweep_stats *out);

/* ml_train_opts.engine for the active backend: on CUDA, the plugin's trainer (X and y in device
 * memory, one GPU thread per mini-batch row, the rows summed in the CPU's shard order); NULL on
 * the CPU. A CUDA failure makes ml_train return ML_ERR_ENGINE: the caller trains again on the CPU
 * (worker/ml_job.c). */
const ml_grad_engine *backend_ml_engine(void);

/* Back to the CPU backend (tests). The plugin stays loaded: a CUDA runtime is never unloaded. */
void backend_reset(void);
#endif
