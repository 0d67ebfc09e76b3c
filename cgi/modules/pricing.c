/* pricing.c — GET /pricing (public, JSON twin /api/v1/pricing): every plan of plans.public with its
 * limits and price, straight from the plans catalog, and the signed-in tenant's plan marked. */
#include "pricing.h"
#include "modules.h"
#include "money.h"
#include "render.h"
#include <stdio.h>
#include <string.h>

const char *pricing_refusal_message(request *req, const plan_refusal *r)
{
    const char *lang = req->lang;
    const char *plan = render_lang_string(lang, arena_printf(req->a, "plans.name.%s", r->plan));
    const char *what = render_lang_string(lang, arena_printf(req->a, "plans.limit.%s", plans_limit_name(r->which)));
    if (r->which == PLAN_LIVE_TRADING)
        return arena_printf(req->a, "%s %s: %s. %s", render_lang_string(lang, "plans.refused"), plan, what,
                            render_lang_string(lang, "plans.see_pricing"));
    return arena_printf(req->a, "%s %s: %s %lld; %s %lld. %s", render_lang_string(lang, "plans.refused"), plan, what,
                        r->limit, render_lang_string(lang, r->adding > 1 ? "plans.asked" : "plans.used"),
                        r->adding > 1 ? r->used + r->adding : r->used, render_lang_string(lang, "plans.see_pricing"));
}

void pricing_refuse(request *req, response *res, const plan_refusal *r)
{
    const char *msg = pricing_refusal_message(req, r);
    if (!req->api) {
        res_error(req, res, 403, "plan_limit", msg);
        return;
    }
    res->error_code = "plan_limit";
    res_json(res, 403,
             json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}}", "error", "code", "plan_limit", "message", msg,
                       "request_id", req->request_id ? req->request_id : "", "plan", r->plan, "limit",
                       plans_limit_name(r->which), "allowed", (json_int_t)r->limit, "used", (json_int_t)r->used, "why",
                       r->why, "pricing", "/pricing"));
}

/* A limit's value as the page prints it: a number, "unlimited", or yes/no for live trading. */
static const char *pricing_value(request *req, plan_limit w, long long v)
{
    if (v == PLAN_UNLIMITED)
        return render_lang_string(req->lang, "plans.unlimited");
    if (w == PLAN_LIVE_TRADING)
        return render_lang_string(req->lang, v ? "plans.yes" : "plans.no");
    return arena_printf(req->a, "%lld", v);
}

/* One plan as the page shows it: limits for programs (a number, null for unlimited) and rows for
 * people (translated label and value). A limit the configuration lacks is left out, not guessed. */
static json_t *pricing_plan(request *req, const char *plan, const char *current)
{
    json_t *limits = json_object(), *rows = json_array();
    for (int w = 0; w < PLAN_LIMIT_COUNT; w++) {
        long long v;
        if (w == PLAN_PRICE_BRL_CENTS || w == PLAN_TRIAL_DAYS || plans_catalog_limit(plan, (plan_limit)w, &v) != 0)
            continue;
        const char *name = plans_limit_name((plan_limit)w);
        json_object_set_new(limits, name, v == PLAN_UNLIMITED ? json_null() : json_integer(v));
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s}", "limit", name, "label",
                                              render_lang_string(req->lang, arena_printf(req->a, "plans.limit.%s", name)),
                                              "value", pricing_value(req, (plan_limit)w, v)));
    }
    long long cents = 0, trial = 0;
    plans_catalog_limit(plan, PLAN_PRICE_BRL_CENTS, &cents);
    plans_catalog_limit(plan, PLAN_TRIAL_DAYS, &trial);
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:b, s:o, s:o}", "plan", plan, "name",
                     render_lang_string(req->lang, arena_printf(req->a, "plans.name.%s", plan)), "tagline",
                     render_lang_string(req->lang, arena_printf(req->a, "plans.tagline.%s", plan)), "price_brl_cents",
                     (json_int_t)cents, "price", money_format_a(req->a, cents, "BRL", req->lang),
                     "trial_days", (json_int_t)trial, "current", current && !strcmp(current, plan), "limits", limits,
                     "rows", rows);
}

static int pricing_page(request *req, response *res)
{
    const char *current = req->session ? plans_of(req->a, req->session->tenant_id) : NULL;
    json_t *plans = json_array();
    char plan[32];
    for (int i = 0; plans_public_at(i, plan, sizeof plan); i++)
        json_array_append_new(plans, pricing_plan(req, plan, current));
    /* a tenant on a plan that is given rather than sold (influencer, internal) still sees its own */
    int listed = 0;
    for (size_t i = 0; current && i < json_array_size(plans); i++)
        listed |= json_is_true(json_object_get(json_array_get(plans, i), "current"));
    if (current && !listed)
        json_array_append_new(plans, pricing_plan(req, current, current));
    json_t *d = json_pack("{s:o, s:s?, s:s}", "plans", plans, "current", current, "currency", "BRL");
    res_page(res, "pricing/index.cs", "plans.title", d);
    return 0;
}

static const route routes[] = {
    {"GET", "/pricing", pricing_page, R_PUBLIC | R_PAGE, NULL, NULL},
};

const module pricing_module = {"pricing", NULL, NULL, ROUTES(routes)};
