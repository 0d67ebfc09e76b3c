/* ledger_expiry.c — every worker's periodic pass over pending ledger transfers whose timeout has
 * passed: each is voided (ledger_expire), so reserved money never stays held past its deadline. */
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "ledger.h"
#include "log.h"
#include <time.h>

void ledger_expiry_tick(void)
{
    static double last;
    double now = now_s();
    if ((now - last) * 1000.0 < (double)config_int("ledger.expire_poll_ms"))
        return;
    last = now;
    /* several workers may pass at once: each void carries the key expire:<id>, so a second one
     * finds the first and changes nothing */
    long n = ledger_expire(time(NULL));
    if (n > 0)
        log_info("ledger: %ld pending transfer(s) past their timeout voided", n);
}
