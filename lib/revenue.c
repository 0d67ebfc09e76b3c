/* revenue.c — MRR, churn and their derivatives over subscription rows; see docs/billing.md
 * ("Financeiro") for the definitions each function implements. */
#include "revenue.h"
#include <math.h>
#include <string.h>

int revenue_paying(const char *status)
{
    return status && (!strcmp(status, "active") || !strcmp(status, "past_due"));
}

/* Was the subscription paying at time t? A canceled one is taken to have paid while it lived;
 * one that is trialing or incomplete now never did. */
static int revenue_live_at(const revenue_sub *s, long long t)
{
    if (!s->plan || s->started > t || (s->canceled_at && s->canceled_at <= t))
        return 0;
    return revenue_paying(s->status) || !strcmp(s->status, "canceled");
}

void revenue_summarize(const revenue_sub *subs, size_t n, long long start, long long end, revenue_summary *out)
{
    memset(out, 0, sizeof *out);
    long long last_tenant = -1;
    for (size_t i = 0; i < n; i++) {
        const revenue_sub *s = &subs[i];
        if (s->plan && revenue_paying(s->status)) {
            out->mrr_cents += s->price_cents;
            out->paying_subs++;
            /* rows come ordered by tenant: a tenant's paying rows are consecutive and count once */
            if (s->tenant_id != last_tenant)
                out->paying_tenants++;
            last_tenant = s->tenant_id;
        }
        if (revenue_live_at(s, start)) {
            out->active_at_start++;
            if (s->canceled_at > start && s->canceled_at <= end)
                out->canceled_in_period++;
        }
    }
    out->arr_cents = 12 * out->mrr_cents;
    out->arpu_cents = out->paying_tenants ? llround((double)out->mrr_cents / (double)out->paying_tenants) : 0;
    out->churn = out->active_at_start ? (double)out->canceled_in_period / (double)out->active_at_start : -1;
    out->ltv_cents = out->churn > 0 ? llround((double)out->arpu_cents / out->churn) : -1;
}

long long revenue_mrr_at(const revenue_sub *subs, size_t n, long long t)
{
    long long mrr = 0;
    for (size_t i = 0; i < n; i++)
        if (revenue_live_at(&subs[i], t))
            mrr += subs[i].price_cents;
    return mrr;
}
