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
/* Writes the heartbeat when worker.heartbeat_s has passed (force = now). */
void worker_heartbeat(int force);
#endif
