/* assinaturas.c — Assinaturas: the tenant's own plan, what it uses of every limit, its Stripe
 * subscription (renewal, trial, cancellation, pending changes, dunning) and the ways to change them. */
#include "config.h"
#include "db.h"
#include "modules.h"
#include "money.h"
#include "plans.h"
#include "render.h"
#include "tenant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The limits the page measures, with the column of assinaturas_usage's query that counts each. */
static const plan_limit assinaturas_counted[] = {PLAN_BOTS, PLAN_BACKTESTS_PER_DAY, PLAN_OPTIMIZATIONS_PER_DAY,
                                                 PLAN_ML_TRAININGS_PER_DAY, PLAN_API_TOKENS};

/* Counts as the enforcement points count (docs/plans.md): bots, jobs since 00:00 UTC of the types
 * each daily limit covers, and API tokens in force. */
static PGresult *assinaturas_counts(request *req)
{
    const char *types[3];
    plan_limit w;
    if (!plans_job_limit("backtest", &w, &types[0]) || !plans_job_limit("optimize", &w, &types[1]) ||
        !plans_job_limit("ml_train", &w, &types[2]))
        return NULL;
    return tq_query(&req->cx, "assinaturas_usage",
                    "WITH today AS (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS t0), "
                    "j AS (SELECT type FROM jobs, today WHERE tenant_id = $1 AND created_at >= today.t0) "
                    "SELECT (SELECT count(*) FROM bots WHERE tenant_id = $1), "
                    "(SELECT count(*) FROM j WHERE type = ANY(string_to_array($2, ','))), "
                    "(SELECT count(*) FROM j WHERE type = ANY(string_to_array($3, ','))), "
                    "(SELECT count(*) FROM j WHERE type = ANY(string_to_array($4, ','))), "
                    "(SELECT count(*) FROM api_tokens WHERE tenant_id = $1 AND revoked_at IS NULL AND expires_at > now())",
                    3, types);
}

/* Every counted limit: used, allowed (null = unlimited), the share used for the bar. */
static json_t *assinaturas_usage(request *req, PGresult *counts)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < sizeof assinaturas_counted / sizeof assinaturas_counted[0]; i++) {
        plan_limit w = assinaturas_counted[i];
        long long used = atoll(PQgetvalue(counts, 0, (int)i)), allowed = 0;
        const char *name = plans_limit_name(w);
        json_t *row = json_pack("{s:s, s:s, s:I}", "limit", name, "label",
                                render_lang_string(req->lang, arena_printf(req->a, "plans.limit.%s", name)), "used",
                                (json_int_t)used);
        if (plans_limit(req->a, req->cx.tenant_id, w, &allowed) != 0) {
            json_object_set_new(row, "allowed", json_null());
            json_object_set_new(row, "allowed_text", json_string("—"));
        } else if (allowed == PLAN_UNLIMITED) {
            json_object_set_new(row, "allowed", json_null());
            json_object_set_new(row, "allowed_text",
                                json_string(render_lang_string(req->lang, "plans.unlimited")));
        } else {
            long long pct = allowed > 0 ? (used >= allowed ? 100 : used * 100 / allowed) : 100;
            json_object_set_new(row, "allowed", json_integer((json_int_t)allowed));
            json_object_set_new(row, "allowed_text", json_string(arena_printf(req->a, "%lld", allowed)));
            json_object_set_new(row, "pct", json_integer((json_int_t)pct));
            json_object_set_new(row, "full", json_boolean(used >= allowed));
        }
        json_array_append_new(rows, row);
    }
    return rows;
}

/* The tenant's subscription that matters most: one still in force (active, trialing, past_due)
 * before any other, then the newest. NULL in *out when the tenant has none. */
static int assinaturas_subscription(request *req, json_t **out)
{
    *out = NULL;
    char grace[24];
    snprintf(grace, sizeof grace, "%ld", config_int("billing.dunning_grace_days"));
    const char *p[] = {grace};
    PGresult *r = tq_query(
        &req->cx, "assinaturas_subscription",
        "SELECT stripe_subscription_id, coalesce(plan, ''), status, "
        "coalesce(to_char(current_period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD'), ''), cancel_at_period_end, "
        "coalesce(to_char(trial_end AT TIME ZONE 'UTC', 'YYYY-MM-DD'), ''), coalesce(latest_invoice_status, ''), "
        "coalesce(latest_invoice_url, ''), "
        "to_char((to_timestamp(coalesce(last_invoice_created, last_event_created)) + make_interval(days => $2::int)) "
        "AT TIME ZONE 'UTC', 'YYYY-MM-DD'), "
        /* a change this portal asked Stripe for and no newer event has confirmed (sql/0020) */
        "CASE WHEN requested_plan IS DISTINCT FROM plan AND requested_at > to_timestamp(last_event_created) "
        "THEN coalesce(requested_plan, '') ELSE '' END, "
        "coalesce(requested_cancel <> cancel_at_period_end AND requested_at > to_timestamp(last_event_created), false), "
        "CASE WHEN held_until > now() THEN coalesce(held_plan, '') ELSE '' END, "
        "coalesce(to_char(held_until AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '') "
        "FROM subscriptions WHERE tenant_id = $1 "
        "ORDER BY status IN ('active', 'trialing', 'past_due') DESC, last_event_created DESC, id DESC LIMIT 1",
        1, p);
    if (!r)
        return -1;
    if (PQntuples(r) == 0)
        return 0;
    const char *status = PQgetvalue(r, 0, 2), *url = PQgetvalue(r, 0, 7);
    /* only Stripe's own pages are linked: the URL came in a webhook payload */
    int url_ok = !strncmp(url, "https://", 8);
    *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s}", "id", PQgetvalue(r, 0, 0), "plan",
                     PQgetvalue(r, 0, 1), "status", status, "status_label",
                     render_lang_string(req->lang, arena_printf(req->a, "assinaturas.status.%s", status)),
                     "current_period_end", PQgetvalue(r, 0, 3), "cancel_at_period_end",
                     !strcmp(PQgetvalue(r, 0, 4), "t"), "trial_end", PQgetvalue(r, 0, 5), "latest_invoice_status",
                     PQgetvalue(r, 0, 6), "latest_invoice_url", url_ok ? url : "", "pay_before",
                     PQgetvalue(r, 0, 8));
    const char *pending_plan = PQgetvalue(r, 0, 9), *held = PQgetvalue(r, 0, 11);
    json_object_set_new(*out, "pending_plan", json_string(pending_plan));
    if (*pending_plan)
        json_object_set_new(*out, "pending_plan_name", json_string(render_lang_string(
                                                           req->lang, arena_printf(req->a, "plans.name.%s", pending_plan))));
    json_object_set_new(*out, "pending_cancel", json_boolean(!strcmp(PQgetvalue(r, 0, 10), "t")));
    json_object_set_new(*out, "held_plan", json_string(held));
    json_object_set_new(*out, "held_until", json_string(*held ? PQgetvalue(r, 0, 12) : ""));
    if (*held)
        json_object_set_new(*out, "held_plan_name",
                            json_string(render_lang_string(req->lang, arena_printf(req->a, "plans.name.%s", held))));
    return 0;
}

/* The plans one may move to: those for sale, each with its price. */
static json_t *assinaturas_choices(request *req, const char *current)
{
    json_t *plans = json_array();
    char plan[32];
    for (int i = 0; plans_public_at(i, plan, sizeof plan); i++) {
        long long cents = 0;
        plans_catalog_limit(plan, PLAN_PRICE_BRL_CENTS, &cents);
        if (cents <= 0)
            continue; /* the free plan is reached by cancelling, not by checkout */
        json_array_append_new(
            plans, json_pack("{s:s, s:s, s:s, s:I, s:b}", "plan", plan, "name",
                             render_lang_string(req->lang, arena_printf(req->a, "plans.name.%s", plan)), "price",
                             money_format_a(req->a, cents, "BRL", req->lang), "price_brl_cents", (json_int_t)cents,
                             "current", current && !strcmp(current, plan)));
    }
    return plans;
}

/* The card-free trial (sql/0020 plan_trials): running (with its end), used, or still on offer. */
static int assinaturas_trial(request *req, const char *plan, int ever_subscribed, json_t *d)
{
    PGresult *r = tq_query(&req->cx, "assinaturas_trial",
                           "SELECT plan, to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
                           " ended_at IS NULL AND ends_at > now() FROM plan_trials WHERE tenant_id = $1",
                           0, NULL);
    if (!r)
        return -1;
    long long days = 0;
    int offered = !PQntuples(r) && !ever_subscribed && !strcmp(plan, "free") &&
                  plans_catalog_limit("pro", PLAN_TRIAL_DAYS, &days) == 0 && days > 0;
    json_t *t = json_pack("{s:b, s:I}", "can_start", offered, "days", (json_int_t)(days > 0 ? days : 0));
    if (PQntuples(r)) {
        json_object_set_new(t, "plan", json_string(PQgetvalue(r, 0, 0)));
        json_object_set_new(t, "ends_on", json_string(PQgetvalue(r, 0, 1)));
        json_object_set_new(t, "running", json_boolean(!strcmp(PQgetvalue(r, 0, 2), "t")));
    }
    json_object_set_new(d, "trial", t);
    return 0;
}

static int assinaturas_index(request *req, response *res)
{
    const char *plan = plans_of(req->a, req->cx.tenant_id);
    PGresult *counts = plan ? assinaturas_counts(req) : NULL;
    if (!counts)
        return -1;
    json_t *sub;
    if (assinaturas_subscription(req, &sub) < 0)
        return -1;
    long long cents = 0;
    plans_catalog_limit(plan, PLAN_PRICE_BRL_CENTS, &cents);
    const char *status = sub ? json_string_value(json_object_get(sub, "status")) : NULL;
    int past_due = status && !strcmp(status, "past_due");
    /* checkout starts a first subscription (POST /assinaturas/checkout refuses a second one while one
     * is in force); a subscription that still counts changes plan in the Billing Portal */
    int can_checkout = !status || !strcmp(status, "canceled") || !strcmp(status, "incomplete_expired");
    const char *checkout = req_query(req, "checkout");
    json_t *d = json_pack("{s:s, s:s, s:I, s:s, s:o, s:o, s:b, s:o}", "plan", plan, "plan_name",
                          render_lang_string(req->lang, arena_printf(req->a, "plans.name.%s", plan)),
                          "price_brl_cents", (json_int_t)cents, "price", money_format_a(req->a, cents, "BRL", req->lang),
                          "usage", assinaturas_usage(req, counts), "subscription", sub ? sub : json_null(), "past_due",
                          past_due, "plans", assinaturas_choices(req, plan));
    json_object_set_new(d, "can_checkout", json_boolean(can_checkout));
    json_object_set_new(d, "has_customer", json_boolean(sub != NULL));
    /* a subscription in force changes plan and cancels here (assinaturas_plan.c) */
    int in_force = status && (!strcmp(status, "active") || !strcmp(status, "trialing"));
    json_object_set_new(d, "can_change", json_boolean(in_force));
    if (assinaturas_trial(req, plan, sub != NULL, d) < 0) {
        json_decref(d);
        return -1;
    }
    const char *change = req_query(req, "change"), *trial = req_query(req, "trial");
    if (change && !strcmp(change, "pending"))
        json_object_set_new(d, "change", json_string("pending"));
    if (trial && !strcmp(trial, "started"))
        json_object_set_new(d, "trial_started", json_true());
    /* back from Stripe Checkout: the plan changes when Stripe's webhook confirms it, not here */
    if (checkout && (!strcmp(checkout, "success") || !strcmp(checkout, "canceled")))
        json_object_set_new(d, "checkout", json_string(checkout));
    res_page(res, "assinaturas/index.cs", "assinaturas.title", d);
    return 0;
}

static const route routes[] = {
    {"GET", "/assinaturas", assinaturas_index, R_AUTH | R_PAGE, "billing.manage", NULL},
};

const module assinaturas_module = {"assinaturas", "nav.assinaturas", "/assinaturas", ROUTES(routes)};
