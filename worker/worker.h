/* worker.h — state shared by the worker's parts: its name on the stream and in heartbeats, the
 * shutdown flags set by signals, and the per-process counters its heartbeat publishes. */
#ifndef BCF_WORKER_H
#define BCF_WORKER_H
#include "sweep.h"
#include <signal.h>

extern char worker_id[128];
extern const char *worker_backend;
/* SIGTERM/SIGINT: take no new job. SIGALRM worker.shutdown_grace_s later: the job in hand must
 * stop too (its handler sees it at its next job_progress and is given back to the queue). */
extern volatile sig_atomic_t worker_stopping;
extern volatile sig_atomic_t worker_grace_over;

/* Outcomes counted per job type (heartbeat stats, /metrics worker_jobs_total). */
enum worker_outcome { WO_DONE, WO_RETRIED, WO_DEAD, WO_FAILED, WO_CANCELLED, WO_RELEASED, WO_LOST, WO_N };
void worker_count(const char *type, int outcome);
void worker_pickup(double ms);
/* The job in hand (0 = none), shown in the heartbeat. */
void worker_set_current(long long job_id);
/* Scores parameter sets on this worker's compute backend (sweep_run's contract): the optimizer
 * and walk-forward jobs call it (worker/compute.c). */
int worker_sweep(const sweep_data *d, const engine_config *cfgs, size_t n, const sweep_opts *o, sweep_stats *out);
/* ml_signal: the stored predictions of cfg's model for the candles c[0..n) of a market, one
 * per candle (NAN where none) into *ext (malloc'd; the caller frees). Other strategies: *ext =
 * NULL. 0; -1 when the database is down or out of memory; -2 when the model (of this tenant)
 * has no prediction at all in the period. err says which (worker/ml_job.c). */
int ml_signal_series(long long tenant_id, const engine_config *cfg, const char *exch, const char *sym,
                     const char *tf, const candle *c, size_t n, double **ext, char *err, size_t errlen);
/* Writes the heartbeat when worker.heartbeat_s has passed (force = now). */
void worker_heartbeat(int force);
#endif
