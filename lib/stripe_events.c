/* stripe_events.c — one Stripe event, one call: checked and taken apart here, then stored under its
 * id and applied in one transaction by sql/0022's functions, only if no newer event set that state. */
#include "stripe_events.h"
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
    int in_tx;       /* the call runs inside db_tx (with a notice): db_tx retries, not call() */
} job;

enum { FAIL = STRIPE_EV_FAILED }; /* the database failed: nothing stored */

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

/* The event's state machine runs in PostgreSQL (sql/0022_stripe_apply.sql): one call stores the
 * event under its id and applies it in one transaction, one round trip. Here the event is checked
 * and its fields taken out, so that a malformed one is a 400 that stores nothing. */

static int outcome_from_name(const char *s)
{
    static const int all[] = {STRIPE_EV_APPLIED, STRIPE_EV_STALE, STRIPE_EV_UNMATCHED, STRIPE_EV_IGNORED,
                              STRIPE_EV_DUPLICATE};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(s, stripe_event_outcome_name(all[i])))
            return all[i];
    return FAIL;
}

/* Runs one state-machine call; a deadlock or serialisation failure decided nothing, so it is run
 * again (up to db.retry_max), as db_tx would. Returns the outcome, FAIL on a database failure. */
static int call(job *j, const char *name, const char *sql, int n, const char *const *params)
{
    int retries = (int)config_int("db.retry_max");
    for (int attempt = 0;; attempt++) {
        PGresult *r = db_query(j->c.a, name, sql, n, params);
        if (r) {
            int o = PQntuples(r) == 1 ? outcome_from_name(PQgetvalue(r, 0, 0)) : FAIL;
            if (o != FAIL && !PQgetisnull(r, 0, 1))
                j->c.tenant_id = atoll(PQgetvalue(r, 0, 1));
            return o;
        }
        const char *state = db_sqlstate();
        /* the event's own key, taken by a delivery that committed meanwhile (sql/0022): its effect
         * was rolled back with the failed insert */
        if (!strcmp(state, "23505") && !j->in_tx)
            return STRIPE_EV_DUPLICATE;
        if (j->in_tx || (strcmp(state, "40001") != 0 && strcmp(state, "40P01") != 0) || attempt >= retries)
            return FAIL;
        log_info("stripe event %s: retry %d after SQLSTATE %s", j->id, attempt + 1, state);
    }
}

/* The events that tell the tenant's owners something (lib/subscriptions.c): the call and the
 * in-app notice commit together, so a notice is neither lost nor sent for a rolled-back event. */
typedef struct noticed {
    job *j;
    const char *name, *sql;
    int n;
    const char *const *params;
    json_t *obj;
    int outcome;
} noticed;

static int noticed_tx(void *arg)
{
    noticed *t = arg;
    t->j->c.tenant_id = 0;
    t->outcome = call(t->j, t->name, t->sql, t->n, t->params);
    if (t->outcome < 0)
        return -1;
    return subscriptions_event_notify(&t->j->c, t->j->type, t->obj, t->outcome) < 0 ? -1 : 0;
}

static int apply(job *j, json_t *obj, const char *name, const char *sql, int n, const char *const *params)
{
    if (strcmp(j->type, "invoice.payment_failed") != 0 && strcmp(j->type, "customer.subscription.trial_will_end") != 0)
        return call(j, name, sql, n, params);
    noticed t = {j, name, sql, n, params, obj, FAIL};
    j->in_tx = 1;
    int rc = db_tx(noticed_tx, &t);
    j->in_tx = 0;
    return rc < 0 ? FAIL : t.outcome;
}

/* Parameters 1-5 of every call: the event row. */
#define EVENT_PARAMS(j) (j)->id, (j)->type, num((j)->c.a, (j)->created), \
    json_is_true(json_object_get((j)->ev, "livemode")) ? "true" : "false", (j)->raw

static const char *hint_or_null(job *j, json_t *obj)
{
    long long h = tenant_hint(obj);
    return h ? num(j->c.a, h) : NULL;
}

static int apply_checkout(job *j, json_t *obj)
{
    const char *customer = ref_id(obj, "customer");
    const char *p[] = {EVENT_PARAMS(j), stripe_id_ok(customer, "cus_") ? customer : NULL, hint_or_null(j, obj),
                       j->c.ip ? j->c.ip : "", j->c.request_id ? j->c.request_id : ""};
    return call(j, "stripe_apply_checkout",
                "SELECT * FROM stripe_apply_checkout($1, $2, $3::bigint, $4::boolean, $5::jsonb, $6, $7::bigint, $8, $9)",
                9, p);
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

static int apply_subscription(job *j, json_t *obj)
{
    arena *a = j->c.a;
    const char *sub = str(obj, "id"), *customer = ref_id(obj, "customer"), *status = str(obj, "status");
    if (!strcmp(j->type, "customer.subscription.deleted"))
        status = "canceled";
    if (!stripe_id_ok(sub, "sub_") || !stripe_id_ok(customer, "cus_") || !status_ok(status))
        return STRIPE_EV_INVALID;
    json_t *item = json_array_get(json_object_get(json_object_get(obj, "items"), "data"), 0);
    const char *price = ref_id(item, "price");
    const char *plan = stripe_plan_for_price(price);
    if (plan == NULL && price)
        log_warn("stripe: price %s of %s is in no stripe.price.<plan> list; the tenant's plan is unchanged", price, sub);
    json_t *period_end = json_object_get(obj, "current_period_end");
    if (!json_is_integer(period_end)) /* API versions from 2025-03 carry it on the item */
        period_end = json_object_get(item, "current_period_end");
    const char *p[] = {EVENT_PARAMS(j),
                       sub,
                       customer,
                       price,
                       plan,
                       status,
                       unix_or_null(a, period_end),
                       json_is_true(json_object_get(obj, "cancel_at_period_end")) ? "true" : "false",
                       unix_or_null(a, json_object_get(obj, "trial_end")),
                       hint_or_null(j, obj),
                       j->c.ip ? j->c.ip : "",
                       j->c.request_id ? j->c.request_id : ""};
    return apply(j, obj, "stripe_apply_subscription",
                "SELECT * FROM stripe_apply_subscription($1, $2, $3::bigint, $4::boolean, $5::jsonb, $6, $7, $8, $9, "
                "$10, $11::bigint, $12::boolean, $13::bigint, $14::bigint, $15, $16)",
                16, p);
}

/* The subscription an invoice belongs to, or NULL for a one-off invoice. */
static const char *invoice_subscription(json_t *obj)
{
    const char *sub = ref_id(obj, "subscription");
    if (!sub) /* API versions from 2025-03 moved it under parent */
        sub = ref_id(json_object_get(json_object_get(obj, "parent"), "subscription_details"), "subscription");
    return stripe_id_ok(sub, "sub_") ? sub : NULL;
}

static int apply_invoice(job *j, json_t *obj, const char *state)
{
    const char *p[] = {EVENT_PARAMS(j),
                       invoice_subscription(obj),
                       str(obj, "id"),
                       state,
                       str(obj, "hosted_invoice_url"),
                       j->c.ip ? j->c.ip : "",
                       j->c.request_id ? j->c.request_id : ""};
    return apply(j, obj, "stripe_apply_invoice",
                "SELECT * FROM stripe_apply_invoice($1, $2, $3::bigint, $4::boolean, $5::jsonb, $6, $7, $8, $9, $10, $11)",
                11, p);
}

/* A type we do not act on (or an invoice without a subscription): stored with its outcome, in one
 * autocommitted statement. */
static int store_ignored(job *j)
{
    const char *p[] = {EVENT_PARAMS(j), stripe_event_outcome_name(STRIPE_EV_IGNORED)};
    PGresult *r = db_query(j->c.a, "stripe_event_store",
                           "SELECT stripe_event_store($1, $2, $3::bigint, $4::boolean, $5::jsonb, $6)", 6, p);
    if (!r)
        return FAIL;
    return PQgetvalue(r, 0, 0)[0] == 't' ? STRIPE_EV_IGNORED : STRIPE_EV_DUPLICATE;
}

static int dispatch(job *j)
{
    const char *t = j->type;
    int subscription = !strncmp(t, "customer.subscription.", 22) &&
                       (!strcmp(t + 22, "created") || !strcmp(t + 22, "updated") || !strcmp(t + 22, "deleted") ||
                        !strcmp(t + 22, "trial_will_end"));
    const char *invoice_state = !strcmp(t, "invoice.paid")                      ? "paid"
                                : !strcmp(t, "invoice.payment_failed")          ? "payment_failed"
                                : !strcmp(t, "invoice.payment_action_required") ? "payment_action_required"
                                                                                : NULL;
    int checkout = !strcmp(t, "checkout.session.completed");
    if (!subscription && !invoice_state && !checkout)
        return store_ignored(j);
    json_t *obj = json_object_get(json_object_get(j->ev, "data"), "object");
    if (!json_is_object(obj))
        return STRIPE_EV_INVALID;
    if (checkout)
        return apply_checkout(j, obj);
    if (subscription)
        return apply_subscription(j, obj);
    if (!str(obj, "id"))
        return STRIPE_EV_INVALID;
    if (!invoice_subscription(obj))
        return store_ignored(j); /* a one-off invoice: no subscription state to change */
    return apply_invoice(j, obj, invoice_state);
}

int stripe_event_process(const ctx *c, const char *raw, size_t raw_len, json_t *event)
{
    job j = {.c = *c, .ev = event};
    j.c.user_id = 0;
    j.c.tenant_id = 0;
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
    return dispatch(&j);
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
