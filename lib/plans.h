/* plans.h — what a tenant's subscription plan allows. One place to ask; the billing module will
 * replace the configured defaults with the plans it sells. */
#ifndef BCF_PLANS_H
#define BCF_PLANS_H
#include "arena.h"

/* The tenant's plan ("free", "pro", ...) or NULL when it cannot be read. */
const char *plans_of(arena *a, long long tenant_id);
/* May the tenant's bots trade with real money? plans.live_trading lists the plans that may
 * (comma-separated). A plan that cannot be read allows nothing. */
int plans_allow_live(arena *a, long long tenant_id);
#endif
