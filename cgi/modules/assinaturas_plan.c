/* assinaturas_plan.c — changing an existing subscription on Stripe (upgrade now with proration,
 * downgrade at period end, cancel at period end and resume) and the once-per-tenant card-free trial. */
#include "assinaturas_actions.h"
#include "audit.h"
#include "plans.h"
#include "render.h"
#include "subscriptions.h"
#include "tenant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tenant's subscription in force, as the page and the buttons see it: a change asked for and
 * not yet confirmed by a newer webhook event counts as done (wanted_cancel). */
typedef struct live_sub {
    char id[128], plan[32], status[32], held_plan[32];
    int wanted_cancel;
    long long period_end; /* unix seconds, 0 when unknown */
} live_sub;

/* 1 with *s filled, 0 when the tenant has no subscription in force, -1 on a database error. */
static int live_subscription(request *req, live_sub *s)
{
    PGresult *r = tq_query(
        &req->cx, "billing_live_subscription",
        "SELECT stripe_subscription_id, coalesce(plan, ''), status, coalesce(held_plan, ''),"
        " CASE WHEN requested_cancel IS NOT NULL AND requested_at > to_timestamp(last_event_created)"
        "  THEN requested_cancel ELSE cancel_at_period_end END,"
        " coalesce(extract(epoch FROM current_period_end)::bigint, 0) "
        "FROM subscriptions WHERE tenant_id = $1 AND status IN ('active', 'trialing', 'past_due') "
        "ORDER BY last_event_created DESC, id DESC LIMIT 1",
        0, NULL);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return 0;
    snprintf(s->id, sizeof s->id, "%s", PQgetvalue(r, 0, 0));
    snprintf(s->plan, sizeof s->plan, "%s", PQgetvalue(r, 0, 1));
    snprintf(s->status, sizeof s->status, "%s", PQgetvalue(r, 0, 2));
    snprintf(s->held_plan, sizeof s->held_plan, "%s", PQgetvalue(r, 0, 3));
    s->wanted_cancel = PQgetvalue(r, 0, 4)[0] == 't';
    s->period_end = atoll(PQgetvalue(r, 0, 5));
    return 1;
}

static int refuse(request *req, response *res, int status, const char *code)
{
    res_error(req, res, status, code, render_lang_string(req->lang, arena_printf(req->a, "billing.%s", code)));
    return 0;
}

/* The browser goes back to the page, which says the change is pending; the API gets 202 and what
 * was asked. */
static int pending(request *req, response *res, json_t *what)
{
    if (req->api) {
        json_object_set_new(what, "status", json_string("pending"));
        res_json(res, 202, what);
    } else {
        json_decref(what);
        res_redirect(res, "/assinaturas?change=pending");
    }
    return 0;
}

static long long plan_price(const char *plan)
{
    long long cents = 0;
    return plans_catalog_limit(plan, PLAN_PRICE_BRL_CENTS, &cents) == 0 ? cents : 0;
}

/* POST /assinaturas/plano: upgrade now, prorated; downgrade from the next period, keeping the plan
 * paid for until then (held_plan). Without a subscription in force it is Checkout. */
static int billing_change_plan(request *req, response *res)
{
    const char *plan = req_field(req, "plan");
    char price[128];
    if (!plan || !*plan || strlen(plan) > 32 || stripe_price_for_plan(plan, price, sizeof price) != 0)
        return refuse(req, res, 422, "bad_plan");
    live_sub s;
    int have = live_subscription(req, &s);
    if (have < 0)
        return -1;
    if (!have)
        return billing_checkout(req, res);
    if (!strcmp(s.status, "past_due"))
        return refuse(req, res, 409, "payment_overdue");
    if (!strcmp(s.plan, plan))
        return refuse(req, res, 409, "same_plan");
    int upgrade = plan_price(plan) > plan_price(s.plan);
    stripe_error e;
    stripe_subscription cur, now;
    if (stripe_get_subscription(s.id, &cur, &e) != STRIPE_OK) {
        billing_stripe_failed(req, res, &e);
        return 0;
    }
    stripe_subscription_change ch = {.item_id = cur.item_id,
                                     .price = price,
                                     .proration_behavior = upgrade ? "create_prorations" : "none",
                                     .cancel_at_period_end = -1};
    const char *key = arena_printf(req->a, "plan:%lld:%s:%s:%s", req->cx.tenant_id, s.id, plan, billing_nonce(req));
    if (stripe_update_subscription(key, s.id, &ch, &now, &e) != STRIPE_OK) {
        billing_stripe_failed(req, res, &e);
        return 0;
    }
    long long until = now.current_period_end ? now.current_period_end : s.period_end;
    const char *p[] = {s.id, plan, upgrade ? "1" : "0", s.plan, arena_printf(req->a, "%lld", until)};
    json_t *after = json_pack("{s:s, s:s, s:s, s:s}", "from", s.plan, "to", plan, "proration",
                              ch.proration_behavior, "effective", upgrade ? "now" : "period_end");
    /* a downgrade keeps the better plan paid for until the period ends (the first hold stands:
     * enterprise → pro → enterprise → pro holds enterprise once) */
    PGresult *w = audit_tq(&req->cx, "billing_plan_request",
                           "UPDATE subscriptions SET requested_plan = $3, requested_at = clock_timestamp(),"
                           " held_plan = CASE WHEN $4 = '1' THEN NULL ELSE coalesce(held_plan, NULLIF($5, '')) END,"
                           " held_until = CASE WHEN $4 = '1' THEN NULL"
                           "  ELSE coalesce(held_until, to_timestamp(NULLIF($6, '0')::bigint)) END, updated_at = now()"
                           " WHERE tenant_id = $1 AND stripe_subscription_id = $2 RETURNING stripe_subscription_id",
                           5, p, "billing.plan_change_request", "subscription", s.id, after);
    json_decref(after);
    if (!w)
        return -1;
    return pending(req, res,
                   json_pack("{s:s, s:s, s:s}", "plan", plan, "effective", upgrade ? "now" : "period_end",
                             "proration_behavior", ch.proration_behavior));
}

/* cancel_at_period_end on Stripe: POST /assinaturas/cancelar (1) and /assinaturas/retomar (0). */
static int billing_set_cancel(request *req, response *res, int cancel)
{
    live_sub s;
    int have = live_subscription(req, &s);
    if (have < 0)
        return -1;
    if (!have)
        return refuse(req, res, 409, "no_subscription");
    if (s.wanted_cancel == cancel)
        return refuse(req, res, 409, cancel ? "already_canceling" : "not_canceling");
    stripe_error e;
    stripe_subscription_change ch = {.cancel_at_period_end = cancel};
    const char *key = arena_printf(req->a, "%s:%lld:%s:%s", cancel ? "cancel" : "resume", req->cx.tenant_id, s.id,
                                   billing_nonce(req));
    if (stripe_update_subscription(key, s.id, &ch, NULL, &e) != STRIPE_OK) {
        billing_stripe_failed(req, res, &e);
        return 0;
    }
    const char *p[] = {s.id, cancel ? "true" : "false"};
    json_t *after = json_pack("{s:b}", "cancel_at_period_end", cancel);
    PGresult *w = audit_tq(&req->cx, "billing_cancel_request",
                           "UPDATE subscriptions SET requested_cancel = $3::boolean, requested_at = clock_timestamp(),"
                           " updated_at = now() WHERE tenant_id = $1 AND stripe_subscription_id = $2"
                           " RETURNING stripe_subscription_id",
                           2, p, cancel ? "billing.cancel_request" : "billing.resume_request", "subscription", s.id,
                           after);
    json_decref(after);
    if (!w)
        return -1;
    return pending(req, res, json_pack("{s:b}", "cancel_at_period_end", cancel));
}

static int billing_cancel(request *req, response *res)
{
    return billing_set_cancel(req, res, 1);
}

static int billing_resume(request *req, response *res)
{
    return billing_set_cancel(req, res, 0);
}

typedef struct trial_tx {
    request *req;
    const char *plan, *days;
    int outcome; /* 0 started, 1 used before */
} trial_tx;

static int trial_start_tx(void *arg)
{
    trial_tx *t = arg;
    const ctx *c = &t->req->cx;
    const char *p[] = {t->plan, t->days};
    /* the primary key is the "once per tenant"; a Stripe subscription ever held had its trial too */
    PGresult *r = tq_query(c, "billing_trial_start",
                           "INSERT INTO plan_trials (tenant_id, plan, ends_at)"
                           " SELECT $1, $2, now() + make_interval(days => $3::int)"
                           " WHERE NOT EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = $1)"
                           " ON CONFLICT (tenant_id) DO NOTHING"
                           " RETURNING to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
                           2, p);
    if (!r)
        return -1;
    if (!PQntuples(r)) {
        t->outcome = 1;
        return 0;
    }
    json_t *after = json_pack("{s:s, s:s}", "plan", t->plan, "ends_on", PQgetvalue(r, 0, 0));
    int rc = audit_record(c, "billing.trial_start", "tenant", arena_printf(c->a, "%lld", c->tenant_id), NULL, after);
    json_decref(after);
    if (rc < 0 || subscriptions_sync_plan(c, c->tenant_id, "reason", "trial") < 0)
        return -1;
    t->outcome = 0;
    return 0;
}

/* POST /assinaturas/teste: a free tenant tries a paid plan (plan, default pro) for its trial_days,
 * without a card; once per tenant. */
static int billing_trial(request *req, response *res)
{
    const char *plan = req_field(req, "plan");
    if (!plan || !*plan)
        plan = "pro";
    long long days = 0;
    if (strlen(plan) > 32 || plan_price(plan) <= 0 || plans_catalog_limit(plan, PLAN_TRIAL_DAYS, &days) != 0 ||
        days <= 0 || days > 366)
        return refuse(req, res, 422, "trial_unavailable");
    const char *current = plans_of(req->a, req->cx.tenant_id);
    if (!current)
        return -1;
    if (strcmp(current, "free") != 0)
        return refuse(req, res, 409, "not_free");
    trial_tx t = {.req = req, .plan = plan, .days = arena_printf(req->a, "%lld", days)};
    if (db_tx(trial_start_tx, &t) < 0)
        return -1;
    if (t.outcome)
        return refuse(req, res, 409, "trial_used");
    if (req->api) {
        res_json(res, 201, json_pack("{s:s, s:I}", "plan", plan, "trial_days", (json_int_t)days));
        return 0;
    }
    res_redirect(res, "/assinaturas?trial=started");
    return 0;
}

#define BILLING_POST (R_AUTH | R_CSRF | R_PAGE | R_SESSION_ONLY)
static const route routes[] = {
    {"POST", "/assinaturas/plano", billing_change_plan, BILLING_POST, "billing.manage", "billing.stripe"},
    {"POST", "/assinaturas/cancelar", billing_cancel, BILLING_POST, "billing.manage", "billing.stripe"},
    {"POST", "/assinaturas/retomar", billing_resume, BILLING_POST, "billing.manage", "billing.stripe"},
    {"POST", "/assinaturas/teste", billing_trial, BILLING_POST, "billing.manage", "billing.stripe"},
};

const module assinaturas_plan_module = {"assinaturas_plan", NULL, NULL, ROUTES(routes)};
