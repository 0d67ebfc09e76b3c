/* stripe_events.c — one Stripe event, one transaction: the event row claims its id (a redelivery
 * finds it and stops), then its effect is applied only if no newer event already set that state. */
#include "stripe_events.h"
#include "audit.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "subscriptions.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
    ctx c;           /* Stripe as the actor; tenant_id set once the event's tenant is known */
    const char *raw; /* the body as received, stored as the payload */
    json_t *ev;
    const char *id, *type;
    long long created;
    int outcome;
    int invalid;     /* the event lacks what its type needs: roll back, answer 400 */
} job;

enum { FAIL = -1 };

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A reference Stripe sends as an id, or as the object itself when it was expanded. */
static const char *ref_id(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_object(v))
        v = json_object_get(v, "id");
    return json_string_value(v);
}

static const char *num(arena *a, long long v)
{
    return arena_printf(a, "%lld", v);
}

/* Unix seconds as text for to_timestamp(), or NULL (SQL NULL) when Stripe sent null or nothing. */
static const char *unix_or_null(arena *a, json_t *v)
{
    return json_is_integer(v) ? num(a, json_integer_value(v)) : NULL;
}

/* "<prefix><letters, digits>" ('_' too in event ids): what the tables' CHECKs accept, tested first
 * so that a strange id is an invalid event (400) and not a database error that Stripe would retry
 * forever. */
static int stripe_id_ok(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (!s || strncmp(s, prefix, n) != 0 || !s[n] || strlen(s) > 255)
        return 0;
    int underscore = !strcmp(prefix, "evt_");
    for (const char *p = s + n; *p; p++)
        if (!isalnum((unsigned char)*p) && !(underscore && *p == '_'))
            return 0;
    return 1;
}

static int list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, ","), l = len;
        while (l && p[l - 1] == ' ')
            l--;
        if (l == n && n && !strncmp(p, item, n))
            return 1;
        p += len;
    }
    return 0;
}

const char *stripe_plan_for_price(const char *price_id)
{
    static const char *const plans[] = {"enterprise", "pro"};
    if (!price_id || !*price_id)
        return NULL;
    for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "stripe.price.%s", plans[i]);
        if (list_has(config_get(key), price_id))
            return plans[i];
    }
    return NULL;
}

/* The tenant the checkout or the object's metadata names: we put it there when creating them. */
static long long tenant_hint(json_t *obj)
{
    const char *s = str(obj, "client_reference_id");
    if (!s)
        s = str(json_object_get(obj, "metadata"), "tenant_id");
    if (!s || !*s || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s) || s[0] == '0')
        return 0;
    return atoll(s);
}

/* The tenant mapped to customer: > 0, 0 when none, FAIL when the database failed. */
static long long customer_tenant(job *j, const char *customer)
{
    const char *p[] = {customer};
    PGresult *r = db_query(j->c.a, "stripe_customer_tenant", "SELECT tenant_id FROM stripe_customers WHERE customer_id = $1",
                           1, p);
    if (!r)
        return FAIL;
    return PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : 0;
}

/* Sets the tenant's plan from its best entitlement (lib/subscriptions.c), audited when it changes. */
static int sync_plan(job *j, long long tenant)
{
    int rc = subscriptions_sync_plan(&j->c, tenant, "event", j->id);
    return rc < 0 ? FAIL : rc;
}

/* Maps customer to tenant (first mapping wins) and adopts the customer's subscriptions that
 * arrived before it. Returns the customer's tenant (> 0), 0 when the tenant does not exist or the
 * customer belongs to another one, FAIL on a database failure. */
static long long link_customer(job *j, long long tenant, const char *customer)
{
    const char *p[] = {num(j->c.a, tenant), customer};
    PGresult *r = db_query(j->c.a, "stripe_customer_link",
                           "INSERT INTO stripe_customers (tenant_id, customer_id) SELECT $1::bigint, $2"
                           " WHERE EXISTS (SELECT 1 FROM tenants WHERE id = $1::bigint)"
                           " ON CONFLICT DO NOTHING RETURNING tenant_id",
                           2, p);
    if (!r)
        return FAIL;
    if (PQntuples(r)) {
        ctx c = j->c;
        c.tenant_id = tenant;
        json_t *after = json_pack("{s:s, s:s}", "customer", customer, "event", j->id);
        int rc = audit_record(&c, "billing.customer_link", "tenant", p[0], NULL, after);
        json_decref(after);
        if (rc < 0)
            return FAIL;
    }
    long long mapped = customer_tenant(j, customer);
    if (mapped <= 0 || mapped != tenant)
        return mapped == FAIL ? FAIL : 0;
    r = db_query(j->c.a, "stripe_adopt_subscriptions",
                 "UPDATE subscriptions SET tenant_id = $1::bigint, updated_at = now()"
                 " WHERE stripe_customer_id = $2 AND tenant_id IS NULL RETURNING stripe_subscription_id",
                 2, p);
    if (!r)
        return FAIL;
    if (PQntuples(r) && sync_plan(j, tenant) == FAIL)
        return FAIL;
    return tenant;
}

/* The customer's tenant, linking it from the object's hint when it is not mapped yet. */
static long long resolve_tenant(job *j, const char *customer, json_t *obj)
{
    long long t = customer_tenant(j, customer);
    if (t != 0)
        return t;
    long long hint = tenant_hint(obj);
    return hint ? link_customer(j, hint, customer) : 0;
}

static int apply_checkout(job *j, json_t *obj)
{
    const char *customer = ref_id(obj, "customer");
    long long hint = tenant_hint(obj);
    if (!stripe_id_ok(customer, "cus_") || !hint)
        return STRIPE_EV_UNMATCHED;
    long long t = link_customer(j, hint, customer);
    if (t == FAIL)
        return FAIL;
    j->c.tenant_id = t;
    return t ? STRIPE_EV_APPLIED : STRIPE_EV_UNMATCHED;
}

static int status_ok(const char *s)
{
    static const char *const all[] = {"incomplete", "incomplete_expired", "trialing", "active",
                                      "past_due",   "canceled",           "unpaid",   "paused"};
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(s, all[i]))
            return 1;
    return 0;
}

/* customer.subscription.*: the subscription object is the whole state; it replaces the stored one
 * only when this event is not older than the one applied last, and a canceled subscription stays
 * canceled (Stripe never reopens one). */
static int apply_subscription(job *j, json_t *obj)
{
    arena *a = j->c.a;
    const char *sub = str(obj, "id"), *customer = ref_id(obj, "customer"), *status = str(obj, "status");
    if (!strcmp(j->type, "customer.subscription.deleted"))
        status = "canceled";
    if (!stripe_id_ok(sub, "sub_") || !stripe_id_ok(customer, "cus_") || !status_ok(status)) {
        j->invalid = 1;
        return FAIL;
    }
    json_t *item = json_array_get(json_object_get(json_object_get(obj, "items"), "data"), 0);
    const char *price = ref_id(item, "price");
    const char *plan = stripe_plan_for_price(price);
    json_t *period_end = json_object_get(obj, "current_period_end");
    if (!json_is_integer(period_end)) /* API versions from 2025-03 carry it on the item */
        period_end = json_object_get(item, "current_period_end");
    long long tenant = resolve_tenant(j, customer, obj);
    if (tenant == FAIL)
        return FAIL;
    const char *ps[] = {sub};
    PGresult *old = db_query(a, "stripe_sub_before",
                             "SELECT status, COALESCE(plan, ''), cancel_at_period_end FROM subscriptions"
                             " WHERE stripe_subscription_id = $1 FOR UPDATE",
                             1, ps);
    if (!old)
        return FAIL;
    const char *p[] = {tenant > 0 ? num(a, tenant) : NULL,
                       sub,
                       customer,
                       price,
                       plan,
                       status,
                       unix_or_null(a, period_end),
                       json_is_true(json_object_get(obj, "cancel_at_period_end")) ? "true" : "false",
                       unix_or_null(a, json_object_get(obj, "trial_end")),
                       num(a, j->created)};
    PGresult *r = db_query(
        a, "stripe_sub_upsert",
        "INSERT INTO subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id, price_id, plan, status,"
        " current_period_end, cancel_at_period_end, trial_end, last_event_created)"
        " VALUES ($1::bigint, $2, $3, $4, $5, $6, to_timestamp($7::bigint), $8::boolean, to_timestamp($9::bigint),"
        " $10::bigint) "
        "ON CONFLICT (stripe_subscription_id) DO UPDATE SET tenant_id = COALESCE(subscriptions.tenant_id, EXCLUDED.tenant_id),"
        " price_id = EXCLUDED.price_id, plan = EXCLUDED.plan, status = EXCLUDED.status,"
        " current_period_end = EXCLUDED.current_period_end, cancel_at_period_end = EXCLUDED.cancel_at_period_end,"
        " trial_end = EXCLUDED.trial_end, last_event_created = EXCLUDED.last_event_created, updated_at = now()"
        " WHERE subscriptions.status <> 'canceled' AND subscriptions.last_event_created <= EXCLUDED.last_event_created "
        "RETURNING tenant_id",
        10, p);
    if (!r)
        return FAIL;
    if (!PQntuples(r))
        return STRIPE_EV_STALE;
    long long owner = PQgetisnull(r, 0, 0) ? 0 : atoll(PQgetvalue(r, 0, 0));
    j->c.tenant_id = owner;
    json_t *before = PQntuples(old) ? json_pack("{s:s, s:s, s:b}", "status", PQgetvalue(old, 0, 0), "plan",
                                                PQgetvalue(old, 0, 1), "cancel_at_period_end",
                                                PQgetvalue(old, 0, 2)[0] == 't')
                                    : NULL;
    json_t *after = json_pack("{s:s, s:s, s:b, s:s, s:s}", "status", status, "plan", plan ? plan : "",
                              "cancel_at_period_end", !strcmp(p[7], "true"), "event", j->id, "type", j->type);
    int rc = audit_record(&j->c, "billing.subscription_update", "subscription", sub, before, after);
    json_decref(before);
    json_decref(after);
    if (rc < 0)
        return FAIL;
    if (plan == NULL && price)
        log_warn("stripe: price %s of %s is in no stripe.price.<plan> list; the tenant's plan is unchanged", price, sub);
    if (owner && sync_plan(j, owner) == FAIL)
        return FAIL;
    return owner ? STRIPE_EV_APPLIED : STRIPE_EV_UNMATCHED;
}

/* invoice.*: the subscription's latest invoice and its payment state (dunning reads it), ordered
 * by the invoice events' own created. */
static int apply_invoice(job *j, json_t *obj, const char *state)
{
    arena *a = j->c.a;
    const char *inv = str(obj, "id");
    const char *sub = ref_id(obj, "subscription");
    if (!sub) /* API versions from 2025-03 moved it under parent */
        sub = ref_id(json_object_get(json_object_get(obj, "parent"), "subscription_details"), "subscription");
    if (!inv) {
        j->invalid = 1;
        return FAIL;
    }
    if (!stripe_id_ok(sub, "sub_"))
        return STRIPE_EV_IGNORED; /* a one-off invoice: no subscription state to change */
    const char *p[] = {sub, inv, state, str(obj, "hosted_invoice_url"), num(a, j->created)};
    PGresult *r = db_query(a, "stripe_invoice_apply",
                           "UPDATE subscriptions SET latest_invoice_id = $2, latest_invoice_status = $3,"
                           " latest_invoice_url = $4, last_invoice_created = $5::bigint, updated_at = now()"
                           " WHERE stripe_subscription_id = $1"
                           " AND (last_invoice_created IS NULL OR last_invoice_created <= $5::bigint)"
                           " RETURNING tenant_id",
                           5, p);
    if (!r)
        return FAIL;
    if (!PQntuples(r)) {
        const char *pe[] = {sub};
        PGresult *e = db_query(a, "stripe_sub_exists", "SELECT 1 FROM subscriptions WHERE stripe_subscription_id = $1", 1,
                               pe);
        if (!e)
            return FAIL;
        return PQntuples(e) ? STRIPE_EV_STALE : STRIPE_EV_UNMATCHED;
    }
    j->c.tenant_id = PQgetisnull(r, 0, 0) ? 0 : atoll(PQgetvalue(r, 0, 0));
    json_t *after = json_pack("{s:s, s:s, s:s}", "invoice", inv, "invoice_status", state, "event", j->id);
    int rc = audit_record(&j->c, "billing.invoice_update", "subscription", sub, NULL, after);
    json_decref(after);
    return rc < 0 ? FAIL : STRIPE_EV_APPLIED;
}

static int dispatch(job *j)
{
    json_t *obj = json_object_get(json_object_get(j->ev, "data"), "object");
    if (!json_is_object(obj)) {
        j->invalid = 1;
        return FAIL;
    }
    const char *t = j->type;
    if (!strcmp(t, "checkout.session.completed"))
        return apply_checkout(j, obj);
    if (!strcmp(t, "customer.subscription.created") || !strcmp(t, "customer.subscription.updated") ||
        !strcmp(t, "customer.subscription.deleted") || !strcmp(t, "customer.subscription.trial_will_end"))
        return apply_subscription(j, obj);
    if (!strcmp(t, "invoice.paid"))
        return apply_invoice(j, obj, "paid");
    if (!strcmp(t, "invoice.payment_failed"))
        return apply_invoice(j, obj, "payment_failed");
    if (!strcmp(t, "invoice.payment_action_required"))
        return apply_invoice(j, obj, "payment_action_required");
    return STRIPE_EV_IGNORED;
}

static int process_tx(void *arg)
{
    job *j = arg;
    arena *a = j->c.a;
    j->c.tenant_id = 0;
    j->invalid = 0;
    const char *p[] = {j->id, j->type, num(a, j->created),
                       json_is_true(json_object_get(j->ev, "livemode")) ? "true" : "false", j->raw};
    PGresult *r = db_query(a, "stripe_event_insert",
                           "INSERT INTO stripe_events (event_id, type, created, livemode, payload)"
                           " VALUES ($1, $2, $3::bigint, $4::boolean, $5::jsonb)"
                           " ON CONFLICT (event_id) DO NOTHING RETURNING 1",
                           5, p);
    if (!r)
        return FAIL;
    if (!PQntuples(r)) {
        j->outcome = STRIPE_EV_DUPLICATE;
        return 0;
    }
    int o = dispatch(j);
    if (o < 0)
        return FAIL;
    j->outcome = o;
    if (subscriptions_event_notify(&j->c, j->type, json_object_get(json_object_get(j->ev, "data"), "object"), o) < 0)
        return FAIL;
    const char *pu[] = {j->id, stripe_event_outcome_name(o), j->c.tenant_id > 0 ? num(a, j->c.tenant_id) : NULL};
    return db_exec(a, "stripe_event_outcome", "UPDATE stripe_events SET outcome = $2, tenant_id = $3::bigint WHERE event_id = $1",
                   3, pu) == 1
               ? 0
               : FAIL;
}

int stripe_event_process(const ctx *c, const char *raw, size_t raw_len, json_t *event)
{
    job j = {.c = *c, .ev = event};
    j.c.user_id = 0;
    j.id = str(event, "id");
    j.type = str(event, "type");
    json_t *created = json_object_get(event, "created");
    if (!json_is_object(event) || !stripe_id_ok(j.id, "evt_") || !j.type || !*j.type || strlen(j.type) > 200 ||
        !json_is_integer(created) || json_integer_value(created) <= 0)
        return STRIPE_EV_INVALID;
    j.created = json_integer_value(created);
    j.raw = arena_strndup(c->a, raw, raw_len);
    if (!j.raw || strlen(j.raw) != raw_len)
        return STRIPE_EV_INVALID; /* a NUL inside the body: PostgreSQL text cannot hold it */
    if (db_tx(process_tx, &j) < 0)
        return j.invalid ? STRIPE_EV_INVALID : STRIPE_EV_FAILED;
    return j.outcome;
}

const char *stripe_event_outcome_name(int outcome)
{
    switch (outcome) {
    case STRIPE_EV_APPLIED: return "applied";
    case STRIPE_EV_STALE: return "stale";
    case STRIPE_EV_UNMATCHED: return "unmatched";
    case STRIPE_EV_IGNORED: return "ignored";
    case STRIPE_EV_DUPLICATE: return "duplicate";
    case STRIPE_EV_INVALID: return "invalid";
    default: return "failed";
    }
}
