/* plans.h — what a tenant's subscription plan allows. One place to ask: every limit a plan sets
 * (bots, daily jobs, optimization size, API tokens) is read and explained here, from plans.* keys. */
#ifndef BCF_PLANS_H
#define BCF_PLANS_H
#include <stddef.h>
#include "arena.h"
#include "ctx.h"

/* What a plan limits. The config key of each is plans.<plan>.<plans_limit_name(which)>, except
 * PLAN_LIVE_TRADING, which is 1 for the plans listed in plans.live_trading and 0 otherwise. */
typedef enum plan_limit {
    PLAN_BOTS,                  /* bots the tenant may have */
    PLAN_LIVE_TRADING,          /* 1 = bots may trade with real money */
    PLAN_BACKTESTS_PER_DAY,     /* backtest jobs per UTC day */
    PLAN_OPTIMIZATIONS_PER_DAY, /* optimize and walk_forward jobs per UTC day, counted together */
    PLAN_OPTIMIZATION_SETS,     /* parameter sets one optimization (or walk-forward window) may evaluate */
    PLAN_ML_TRAININGS_PER_DAY,  /* ml_train jobs per UTC day */
    PLAN_API_TOKENS,            /* personal API tokens (not revoked, not expired) */
    PLAN_PRICE_BRL_CENTS,       /* monthly price shown on the pricing page (Stripe charges its own) */
    PLAN_TRIAL_DAYS,            /* free days before the first charge */
    PLAN_LIMIT_COUNT
} plan_limit;

/* A limit's value for "unlimited" (written "unlimited" in the config file). */
#define PLAN_UNLIMITED (-1LL)

/* The key word of a limit ("bots", "backtests_per_day", ...). */
const char *plans_limit_name(plan_limit which);

/* The plans the pricing page lists, in order (plans.public, comma-separated), one at a time:
 * writes the idx-th name into out and returns 1, or 0 past the end. */
int plans_public_at(int idx, char *out, size_t outlen);

/* A plan's value of a limit from configuration alone. 0, or -1 when the plan or its key is
 * unknown or the value is not a whole number >= 0 (nor "unlimited"). */
int plans_catalog_limit(const char *plan, plan_limit which, long long *out);

/* The tenant's plan ("free", "pro", ...) or NULL when it cannot be read. */
const char *plans_of(arena *a, long long tenant_id);

/* The tenant's value of a limit. 0, or -1 when the plan cannot be read (callers refuse). */
int plans_limit(arena *a, long long tenant_id, plan_limit which, long long *out);

/* Why a plan refused: what, for which plan, the limit and what is used. */
typedef struct plan_refusal {
    plan_limit which;
    char plan[32];
    long long limit, used, adding;
    char why[200]; /* English, for logs and API clients: "the free plan allows 1 bot; 1 in use" */
} plan_refusal;

/* Check and explain, from configuration alone: may a tenant on plan, using `used`, add `adding`
 * more? 1 = allowed; 0 = refused, with *r filled in (r may be NULL); -1 = the plan's limit cannot
 * be read (also filled in, as a refusal). */
int plans_allows(const char *plan, plan_limit which, long long used, long long adding, plan_refusal *r);

/* The same for a tenant, reading its plan. */
int plans_check(arena *a, long long tenant_id, plan_limit which, long long used, long long adding, plan_refusal *r);

/* Check one more of a counted thing inside the caller's transaction: takes a transaction-scoped
 * lock on (tenant, which) so concurrent creations are counted one after another, counts with
 * count_sql (a tenant-scoped statement whose $1 is the tenant and which returns one count), and
 * checks that one more fits. 1 allowed, 0 refused (*r), -1 database error. */
int plans_check_one_more(const ctx *c, plan_limit which, const char *stmt_name, const char *count_sql,
                         plan_refusal *r);

/* May the tenant's bots trade with real money? plans.live_trading lists the plans that may
 * (comma-separated). A plan that cannot be read allows nothing. */
int plans_allow_live(arena *a, long long tenant_id);

/* The plan limit that caps a job type per UTC day (backtest, optimize, walk_forward, ml_train), and
 * the job types counted together against it (comma-separated). 1, or 0 when no plan limit covers
 * the type. */
int plans_job_limit(const char *job_type, plan_limit *which, const char **types);
#endif
