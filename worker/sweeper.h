/* sweeper.h — the periodic repairs every worker runs (SKIP LOCKED makes many of them safe):
 * expired leases, queued jobs whose stream entry may be lost, stalled entries, idle consumers. */
#ifndef BCF_SWEEPER_H
#define BCF_SWEEPER_H
/* Runs the passes that are due (queue.sweep_ms; consumer clean-up every minute). */
void sweeper_tick(void);
#endif
