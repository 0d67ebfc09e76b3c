/* dunning.c — every worker's periodic billing pass: trials past their end, plans held past the paid
 * period and subscriptions past_due beyond billing.dunning_grace_days fall back (subscriptions_expire). */
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "subscriptions.h"

void dunning_tick(void)
{
    static double last;
    double now = now_s();
    if ((now - last) * 1000.0 < (double)config_int("billing.expire_poll_ms"))
        return;
    last = now;
    /* billing.dunning_grace_s, when set, replaces the days (tests, or an operator's short grace) */
    long long grace = config_int("billing.dunning_grace_s");
    if (grace <= 0)
        grace = (long long)config_int("billing.dunning_grace_days") * 86400;
    long n = subscriptions_expire(grace);
    if (n > 0)
        log_info("billing: %ld trial(s), held plan(s) or overdue subscription(s) expired", n);
}
