/* revenue.h — the revenue figures of the Financeiro dashboard (MRR, ARR, churn, ARPU, LTV) from
 * each subscription's plan price, status and lifetime. Pure: the page reads the rows, this counts. */
#ifndef BCF_REVENUE_H
#define BCF_REVENUE_H
#include <stddef.h>

/* One Stripe subscription as the dashboard sees it. Times are unix seconds. */
typedef struct revenue_sub {
    long long tenant_id;     /* 0 while the customer is not linked to a tenant */
    const char *plan;        /* NULL when its price maps to no plan (it then counts for nothing) */
    const char *status;      /* Stripe's status: active, past_due, trialing, canceled, ... */
    long long price_cents;   /* the plan's monthly price in BRL cents */
    long long started;       /* created of its first stored event */
    long long canceled_at;   /* created of the event that canceled it; 0 when not canceled */
} revenue_sub;

typedef struct revenue_summary {
    long long mrr_cents;          /* sum of the monthly prices of paying subscriptions */
    long long arr_cents;          /* 12 x MRR */
    long long paying_subs;        /* subscriptions active or past_due */
    long long paying_tenants;     /* distinct tenants among them */
    long long arpu_cents;         /* MRR / paying tenants, rounded; 0 when none */
    long long active_at_start;    /* paying subscriptions at the period's start */
    long long canceled_in_period; /* of those, canceled within the period */
    double churn;                 /* canceled_in_period / active_at_start; -1 when none was active */
    long long ltv_cents;          /* ARPU / churn, rounded; -1 when churn is not > 0 */
} revenue_summary;

/* Does a subscription in this status pay (and so count in MRR)? active and past_due do (a past_due
 * one is still being charged); trialing, incomplete, canceled and the rest do not. */
int revenue_paying(const char *status);

/* The figures over subs (ordered by tenant_id, so a tenant's rows are together) for the period
 * [start, end]. */
void revenue_summarize(const revenue_sub *subs, size_t n, long long start, long long end, revenue_summary *out);

/* MRR at time t, as far as the stored rows tell: a subscription counts from its first event until
 * its cancellation at its current plan's price, unless it never paid (trialing, incomplete now). */
long long revenue_mrr_at(const revenue_sub *subs, size_t n, long long t);
#endif
