/* subscriptions.h — what a tenant is entitled to between Stripe's events: local trials, the plan
 * paid for until period end after a downgrade, and the dunning grace; with their notifications. */
#ifndef BCF_SUBSCRIPTIONS_H
#define BCF_SUBSCRIPTIONS_H
#include <jansson.h>
#include "ctx.h"

/* Sets tenants.plan to the best plan of billing_entitlements (sql/0020; "free" when none), except
 * for internal and influencer tenants, and audits a change as billing.plan_change with
 * {cause_key: cause} ("event": the event id, "reason": "dunning"...), through sql/0022's
 * billing_sync_plan. Runs in the caller's transaction. 1 when the plan changed, 0 when not, -1 on a database error. */
int subscriptions_sync_plan(const ctx *c, long long tenant_id, const char *cause_key, const char *cause);

/* One notification (notify_send, category assinaturas) to every active user of tenant_id holding
 * billing.manage, in each one's language. kind names a template of lib/subscriptions.c's table
 * (templates/notify/: "billing.payment_failed", "billing.trial_will_end", "billing.dunning_downgrade",
 * "billing.trial_ended"); trial_end (YYYY-MM-DD, may be NULL) fills {{trial_end}}. 0 or -1. */
int subscriptions_notify_owners(const ctx *c, long long tenant_id, const char *kind, const char *trial_end);

/* The notifications a verified Stripe event of type gives, to the owners of the tenant of the
 * subscription object names: invoice.payment_failed when applied (outcome, an enum
 * stripe_event_outcome), customer.subscription.trial_will_end when applied or stale (a later
 * update arrived first; the trial still ends). Runs in the webhook's transaction, so a redelivered
 * event notifies nobody twice. 0 or -1. */
int subscriptions_event_notify(const ctx *c, const char *type, json_t *object, int outcome);

/* One pass of the worker (worker/dunning.c): ends trials past ends_at, drops plans held past
 * held_until, and takes the plan from subscriptions past_due (or unpaid) for longer than
 * grace_s on the same invoice. Each row is claimed by a conditional UPDATE in its own
 * transaction, so several workers change, audit and notify each exactly once. Returns the number
 * of rows handled, or -1 when the database failed. */
long subscriptions_expire(long long grace_s);
#endif
