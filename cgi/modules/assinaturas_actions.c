/* assinaturas_actions.c — the Assinaturas buttons that call Stripe: POST /assinaturas/checkout opens a
 * Checkout Session for a plan, POST /assinaturas/portal opens the Billing Portal; both redirect there. */
#include "assinaturas_actions.h"
#include "audit.h"
#include "config.h"
#include "modules.h"
#include "plans.h"
#include "render.h"
#include "stripe_api.h"
#include "tenant.h"
#include <stdio.h>
#include <string.h>

/* The tenant's Stripe customer id into out: 1 when mapped, 0 when not, -1 on a database error. */
static int stored_customer(request *req, char *out, size_t n)
{
    PGresult *r = tq_query(&req->cx, "billing_customer_of", "SELECT customer_id FROM stripe_customers WHERE tenant_id = $1",
                           0, NULL);
    if (!r)
        return -1;
    if (PQntuples(r) != 1)
        return 0;
    snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
    return 1;
}

/* Answers a failed Stripe call: Stripe's refusal is our configuration's fault, not the user's (502);
 * no answer is a temporary outage (503). Stripe's own message goes to the log, its code to the user. */
void billing_stripe_failed(request *req, response *res, const stripe_error *e)
{
    const char *lang = req->lang;
    if (e->result == STRIPE_ERR_REFUSED || e->result == STRIPE_ERR_BAD_ANSWER) {
        res_error(req, res, 502, "stripe_error",
                  arena_printf(req->a, "%s (%s)", render_lang_string(lang, "billing.stripe_refused"),
                               e->code[0] ? e->code : e->type[0] ? e->type : stripe_result_name(e->result)));
        return;
    }
    res_error(req, res, 503, e->result == STRIPE_ERR_CONFIG ? "billing_unconfigured" : "stripe_unavailable",
              render_lang_string(lang, e->result == STRIPE_ERR_CONFIG ? "billing.unconfigured" : "billing.stripe_unavailable"));
}

/* The tenant's customer, created at Stripe and stored the first time. Its idempotency key is the
 * tenant's own, so two first checkouts at once (or a retry after the insert failed) get the same
 * customer from Stripe. 0, or -1 after answering res (or with a database error to raise). */
static int billing_customer(request *req, response *res, char *cus, size_t n, int *db_failed)
{
    int have = stored_customer(req, cus, n);
    if (have != 0) {
        *db_failed = have < 0;
        return have > 0 ? 0 : -1;
    }
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", req->session->user_id);
    const char *up[] = {uid};
    PGresult *u = tq_query(&req->cx, "billing_user_email", "SELECT email FROM users WHERE tenant_id = $1 AND id = $2::bigint",
                           1, up);
    if (!u) {
        *db_failed = 1;
        return -1;
    }
    stripe_error e;
    char key[64];
    snprintf(key, sizeof key, "customer:%lld", req->cx.tenant_id);
    if (stripe_create_customer(key, req->cx.tenant_id, PQntuples(u) == 1 ? PQgetvalue(u, 0, 0) : NULL, cus, n, &e) !=
        STRIPE_OK) {
        billing_stripe_failed(req, res, &e);
        return -1;
    }
    const char *ip[] = {cus};
    json_t *after = json_pack("{s:s}", "customer_id", cus);
    /* a concurrent first checkout may have stored the same customer already: keep what is there */
    PGresult *w = audit_tq(&req->cx, "billing_customer_store",
                           "INSERT INTO stripe_customers (tenant_id, customer_id) SELECT $1::bigint, $2 "
                           "WHERE NOT EXISTS (SELECT 1 FROM stripe_customers WHERE tenant_id = $1) "
                           "ON CONFLICT DO NOTHING RETURNING customer_id",
                           1, ip, "billing.customer_create", "stripe_customer", cus, after);
    json_decref(after);
    if (!w || stored_customer(req, cus, n) != 1) {
        *db_failed = 1;
        return -1;
    }
    return 0;
}

/* Does the tenant already pay for a plan (a subscription Stripe still bills)? 1, 0 or -1. */
static int billing_subscribed(request *req, int *ever)
{
    PGresult *r = tq_query(&req->cx, "billing_subscribed",
                           "SELECT count(*) FILTER (WHERE status IN ('active', 'trialing', 'past_due', 'unpaid', "
                           "'incomplete', 'paused')), count(*) + (SELECT count(*) FROM plan_trials WHERE tenant_id = $1) "
                           "FROM subscriptions WHERE tenant_id = $1",
                           0, NULL);
    if (!r)
        return -1;
    *ever = strcmp(PQgetvalue(r, 0, 1), "0") != 0;
    return strcmp(PQgetvalue(r, 0, 0), "0") != 0;
}

int billing_redirect(request *req, response *res, const char *url)
{
    if (req->api)
        res_json(res, 200, json_pack("{s:s}", "url", url));
    else
        res_redirect(res, url);
    return 0;
}

/* one key per click: the client's retries reuse it; a nonce from the form lets a page's resubmit
 * reuse it too */
const char *billing_nonce(request *req)
{
    const char *nonce = req_field(req, "nonce");
    if (!nonce || !*nonce || strlen(nonce) > 64 || strspn(nonce, "0123456789abcdefghijklmnopqrstuvwxyz"
                                                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != strlen(nonce))
        return req->request_id;
    return nonce;
}

int billing_checkout(request *req, response *res)
{
    const char *lang = req->lang;
    const char *plan = req_field(req, "plan");
    char price[128];
    long long trial = 0;
    if (!plan || !*plan || strlen(plan) > 32 || stripe_price_for_plan(plan, price, sizeof price) != 0) {
        res_error(req, res, 422, "bad_plan", render_lang_string(lang, "billing.bad_plan"));
        return 0;
    }
    int ever = 0, subscribed = billing_subscribed(req, &ever);
    if (subscribed < 0)
        return -1;
    if (subscribed) {
        res_error(req, res, 409, "already_subscribed", render_lang_string(lang, "billing.already_subscribed"));
        return 0;
    }
    /* the trial is for a first subscription only, and not after a trial without a card */
    if (!ever)
        plans_catalog_limit(plan, PLAN_TRIAL_DAYS, &trial);
    char cus[128];
    int db_failed = 0;
    if (billing_customer(req, res, cus, sizeof cus, &db_failed) != 0)
        return db_failed ? -1 : 0;
    const char *nonce = billing_nonce(req);
    const char *base = config_get("app.base_url");
    stripe_checkout co = {
        .tenant_id = req->cx.tenant_id,
        .customer = cus,
        .price = price,
        .trial_days = trial > 0 && trial != PLAN_UNLIMITED ? (long)trial : 0,
        .success_url = arena_printf(req->a, "%s/assinaturas?checkout=success&session_id={CHECKOUT_SESSION_ID}", base),
        .cancel_url = arena_printf(req->a, "%s/assinaturas?checkout=canceled", base),
    };
    char sid[256], url[1024];
    stripe_error e;
    if (stripe_create_checkout_session(arena_printf(req->a, "checkout:%lld:%s:%s", req->cx.tenant_id, plan, nonce), &co,
                                       sid, sizeof sid, url, sizeof url, &e) != STRIPE_OK) {
        billing_stripe_failed(req, res, &e);
        return 0;
    }
    json_t *after = json_pack("{s:s, s:s, s:s}", "plan", plan, "price", price, "customer_id", cus);
    int rc = audit_record(&req->cx, "billing.checkout_open", "checkout_session", sid, NULL, after);
    json_decref(after);
    if (rc != 0)
        return -1;
    return billing_redirect(req, res, url);
}

static int billing_portal(request *req, response *res)
{
    char cus[128], url[1024];
    int have = stored_customer(req, cus, sizeof cus);
    if (have < 0)
        return -1;
    if (!have) {
        res_error(req, res, 409, "no_customer", render_lang_string(req->lang, "billing.no_customer"));
        return 0;
    }
    stripe_error e;
    if (stripe_create_portal_session(arena_printf(req->a, "portal:%lld:%s", req->cx.tenant_id, req->request_id), cus,
                                     arena_printf(req->a, "%s/assinaturas", config_get("app.base_url")), url,
                                     sizeof url, &e) != STRIPE_OK) {
        billing_stripe_failed(req, res, &e);
        return 0;
    }
    return billing_redirect(req, res, url);
}

#define BILLING_POST (R_AUTH | R_CSRF | R_PAGE | R_SESSION_ONLY)
static const route routes[] = {
    {"POST", "/assinaturas/checkout", billing_checkout, BILLING_POST, "billing.manage", "billing.stripe"},
    {"POST", "/assinaturas/portal", billing_portal, BILLING_POST, "billing.manage", "billing.stripe"},
};

const module assinaturas_actions_module = {"assinaturas_actions", NULL, NULL, ROUTES(routes)};
