/* subscriptions.c — the tenant's plan from every entitlement (Stripe subscriptions, a trial, a plan
 * paid until period end), the worker's expiry of trials, holds and dunning, and their notices. */
#include "subscriptions.h"
#include "audit.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "stripe_events.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int subscriptions_sync_plan(const ctx *c, long long tenant_id, const char *cause_key, const char *cause)
{
    /* one implementation for the webhook, the pages and the worker: sql/0022's billing_sync_plan */
    const char *p[] = {arena_printf(c->a, "%lld", tenant_id), c->user_id > 0 ? arena_printf(c->a, "%lld", c->user_id) : NULL,
                       cause_key, cause, c->ip ? c->ip : "", c->request_id ? c->request_id : ""};
    PGresult *r = db_query(c->a, "billing_sync_plan",
                           "SELECT billing_sync_plan($1::bigint, $2::bigint, $3, $4, $5, $6)", 6, p);
    if (!r)
        return -1;
    return PQgetvalue(r, 0, 0)[0] == 't';
}

/* The owners' notices: templates/notify/<kind>.txt, rendered in each owner's language. */
static const struct notice {
    const char *kind;
    notify_priority priority;
} notices[] = {
    {"billing.payment_failed", NOTIFY_HIGH},
    {"billing.trial_will_end", NOTIFY_NORMAL},
    {"billing.dunning_downgrade", NOTIFY_URGENT},
    {"billing.trial_ended", NOTIFY_NORMAL},
};

int subscriptions_notify_owners(const ctx *c, long long tenant_id, const char *kind, const char *trial_end)
{
    const struct notice *n = NULL;
    for (size_t i = 0; i < sizeof notices / sizeof notices[0]; i++)
        if (!strcmp(notices[i].kind, kind))
            n = &notices[i];
    if (!n)
        return -1;
    const char *p[] = {arena_printf(c->a, "%lld", tenant_id)};
    PGresult *r = db_query(c->a, "subscriptions_owners",
                           "SELECT DISTINCT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id"
                           " JOIN role_permissions rp ON rp.role_key = ur.role_key AND rp.permission_key = 'billing.manage'"
                           " WHERE u.tenant_id = $1::bigint AND u.status = 'active' ORDER BY u.id",
                           1, p);
    if (!r)
        return -1;
    json_t *data = json_pack("{s:s}", "trial_end", trial_end ? trial_end : "");
    int rc = data ? 0 : -1;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        notify_msg m = {.tenant_id = tenant_id,
                        .user_id = atoll(PQgetvalue(r, i, 0)),
                        .category = "assinaturas",
                        .template_name = n->kind,
                        .data = data,
                        .priority = n->priority};
        rc = notify_send(c, &m) < 0 ? -1 : 0;
    }
    json_decref(data);
    return rc;
}

int subscriptions_event_notify(const ctx *c, const char *type, json_t *object, int outcome)
{
    const char *kind, *sub;
    if (outcome != STRIPE_EV_APPLIED && outcome != STRIPE_EV_STALE)
        return 0;
    if (!strcmp(type, "invoice.payment_failed") && outcome == STRIPE_EV_APPLIED) {
        kind = "billing.payment_failed";
        json_t *s = json_object_get(object, "subscription");
        if (!s) /* API versions from 2025-03 moved it under parent */
            s = json_object_get(json_object_get(json_object_get(object, "parent"), "subscription_details"),
                                "subscription");
        sub = json_string_value(json_is_object(s) ? json_object_get(s, "id") : s);
    } else if (!strcmp(type, "customer.subscription.trial_will_end")) {
        kind = "billing.trial_will_end";
        sub = json_string_value(json_object_get(object, "id"));
    } else {
        return 0;
    }
    if (!sub)
        return 0;
    const char *p[] = {sub};
    PGresult *r = db_query(c->a, "subscriptions_tenant_of",
                           "SELECT tenant_id, coalesce(to_char(trial_end AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '')"
                           " FROM subscriptions WHERE stripe_subscription_id = $1 AND tenant_id IS NOT NULL",
                           1, p);
    if (!r)
        return -1;
    if (!PQntuples(r))
        return 0; /* no tenant known yet: nobody to tell */
    const char *detail = !strcmp(kind, "billing.trial_will_end") ? PQgetvalue(r, 0, 1) : NULL;
    return subscriptions_notify_owners(c, atoll(PQgetvalue(r, 0, 0)), kind, detail);
}

/* ---- the worker's expiry pass ---- */

typedef struct expiry {
    arena a;
    char grace[24];    /* seconds, as text */
    int kind;          /* 0 dunning, 1 trial, 2 held plan */
    int claimed;
} expiry;

/* Each claim is a conditional UPDATE of one row picked with SKIP LOCKED: a second worker either
 * skips the row or, after the first commits, finds it no longer matching. */
static const struct claim {
    const char *name, *sql, *action, *object_type, *reason, *notice;
} claims[] = {
    {"subscriptions_claim_dunning",
     "UPDATE subscriptions s SET dunning_expired_for = coalesce(s.latest_invoice_id, ''), updated_at = now()"
     " WHERE s.id = (SELECT id FROM subscriptions WHERE tenant_id IS NOT NULL AND status = 'past_due'"
     "   AND dunning_expired_for IS DISTINCT FROM coalesce(latest_invoice_id, '')"
     "   AND coalesce(latest_invoice_status, '') <> 'paid'"
     "   AND to_timestamp(coalesce(last_invoice_created, last_event_created))"
     "       + make_interval(secs => $1::double precision) <= now()"
     "   ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
     " AND s.status = 'past_due' AND s.dunning_expired_for IS DISTINCT FROM coalesce(s.latest_invoice_id, '')"
     " RETURNING s.tenant_id, s.stripe_subscription_id, s.dunning_expired_for",
     "billing.dunning_expire", "subscription", "dunning", "billing.dunning_downgrade"},
    {"subscriptions_claim_trial",
     "UPDATE plan_trials t SET ended_at = now()"
     " WHERE t.tenant_id = (SELECT tenant_id FROM plan_trials WHERE ended_at IS NULL AND ends_at <= now()"
     "   AND $1::text IS NOT NULL ORDER BY ends_at LIMIT 1 FOR UPDATE SKIP LOCKED) AND t.ended_at IS NULL"
     " RETURNING t.tenant_id, t.tenant_id::text, t.plan",
     "billing.trial_end", "tenant", "trial_end", "billing.trial_ended"},
    {"subscriptions_claim_hold",
     "UPDATE subscriptions s SET held_plan = NULL, held_until = NULL, updated_at = now()"
     " WHERE s.id = (SELECT id FROM subscriptions WHERE held_plan IS NOT NULL AND held_until <= now()"
     "   AND $1::text IS NOT NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) AND s.held_plan IS NOT NULL"
     " RETURNING s.tenant_id, s.stripe_subscription_id, 'expired'",
     "billing.hold_end", "subscription", "period_end", NULL},
};

static int expire_one(void *arg)
{
    expiry *x = arg;
    const struct claim *k = &claims[x->kind];
    x->claimed = 0;
    const char *p[] = {x->grace};
    PGresult *r = db_query(&x->a, k->name, k->sql, 1, p);
    if (!r)
        return -1;
    if (!PQntuples(r))
        return 0;
    x->claimed = 1;
    if (PQgetisnull(r, 0, 0))
        return 0; /* a held plan of a subscription without a tenant: nothing else to change */
    long long tenant = atoll(PQgetvalue(r, 0, 0));
    ctx c = {.a = &x->a, .tenant_id = tenant, .ip = "", .request_id = ""};
    json_t *after = json_pack("{s:s}", x->kind == 1 ? "plan" : "invoice", PQgetvalue(r, 0, 2));
    int rc = audit_record(&c, k->action, k->object_type, PQgetvalue(r, 0, 1), NULL, after);
    json_decref(after);
    if (rc < 0)
        return -1;
    int changed = subscriptions_sync_plan(&c, tenant, "reason", k->reason);
    if (changed < 0)
        return -1;
    if (changed && k->notice && subscriptions_notify_owners(&c, tenant, k->notice, NULL) < 0)
        return -1;
    log_info("billing: %s %s of tenant %lld%s", k->action, PQgetvalue(r, 0, 1), tenant,
             changed ? ": plan changed" : "");
    return 0;
}

long subscriptions_expire(long long grace_s)
{
    expiry x = {.kind = 0};
    arena_init(&x.a, 4096);
    snprintf(x.grace, sizeof x.grace, "%lld", grace_s < 0 ? 0 : grace_s);
    long handled = 0;
    int failed = 0;
    for (x.kind = 0; x.kind < (int)(sizeof claims / sizeof claims[0]) && !failed; x.kind++) {
        /* bounded, so one pass never holds the worker's loop for long */
        for (int i = 0; i < 100; i++) {
            int rc = db_tx(expire_one, &x);
            arena_reset(&x.a);
            if (rc < 0) {
                failed = 1;
                break;
            }
            if (!x.claimed)
                break;
            handled++;
        }
    }
    arena_destroy(&x.a);
    if (failed)
        log_warn("billing: expiry pass failed: %s", db_error());
    return failed && !handled ? -1 : handled;
}
