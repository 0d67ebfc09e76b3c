/* sweeper.c — PostgreSQL is the truth, Redis only carries ids: every queue.sweep_ms a worker
 * requeues jobs whose runner died, re-sends due jobs the stream may have lost, and takes over
 * entries stalled in a dead consumer. */
#include "sweeper.h"
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "queue.h"
#include "queue_consumer.h"

void sweeper_tick(void)
{
    static double last_sweep, last_cleanup;
    double now = now_s();
    if ((now - last_sweep) * 1000.0 < (double)config_int("queue.sweep_ms"))
        return;
    last_sweep = now;
    if (!db_is_up())
        return;
    queue_sweep_leases();
    if (kv_is_up()) {
        int n = queue_sweep_resend(config_int("queue.resend_ms"), 0);
        if (n > 0)
            log_info("sweeper sent %d queued job(s) again", n);
        consumer_autoclaim();
    }
    if (now - last_cleanup >= 60) {
        last_cleanup = now;
        if (kv_is_up())
            consumer_drop_idle();
        /* cross-tenant: heartbeats of workers gone for a week are history nobody reads */
        db_exec(NULL, "worker_hb_prune",
                "DELETE FROM worker_heartbeats WHERE seen_at < now() - interval '7 days'", 0, NULL);
    }
}
