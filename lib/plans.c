/* plans.c — plan limits read from configuration (plans.*) against the tenant's plan column; the
 * billing module plugs its own plans in here, so callers never hard-code a plan name. */
#include "plans.h"
#include "config.h"
#include "db.h"
#include "tenant.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const limit_names[PLAN_LIMIT_COUNT] = {
    [PLAN_BOTS] = "bots",
    [PLAN_LIVE_TRADING] = "live_trading",
    [PLAN_BACKTESTS_PER_DAY] = "backtests_per_day",
    [PLAN_OPTIMIZATIONS_PER_DAY] = "optimizations_per_day",
    [PLAN_OPTIMIZATION_SETS] = "optimization_sets",
    [PLAN_ML_TRAININGS_PER_DAY] = "ml_trainings_per_day",
    [PLAN_API_TOKENS] = "api_tokens",
    [PLAN_PRICE_BRL_CENTS] = "price_brl_cents",
    [PLAN_TRIAL_DAYS] = "trial_days",
};

/* How a refusal names what ran out, singular and plural, in its English explanation. */
static const char *const limit_nouns[PLAN_LIMIT_COUNT][2] = {
    [PLAN_BOTS] = {"bot", "bots"},
    [PLAN_LIVE_TRADING] = {"live trading", "live trading"},
    [PLAN_BACKTESTS_PER_DAY] = {"backtest per day", "backtests per day"},
    [PLAN_OPTIMIZATIONS_PER_DAY] = {"optimization per day", "optimizations per day"},
    [PLAN_OPTIMIZATION_SETS] = {"parameter set per optimization", "parameter sets per optimization"},
    [PLAN_ML_TRAININGS_PER_DAY] = {"model training per day", "model trainings per day"},
    [PLAN_API_TOKENS] = {"API token", "API tokens"},
    [PLAN_PRICE_BRL_CENTS] = {"cent", "cents"},
    [PLAN_TRIAL_DAYS] = {"trial day", "trial days"},
};

const char *plans_limit_name(plan_limit which)
{
    return which >= 0 && which < PLAN_LIMIT_COUNT ? limit_names[which] : "";
}

/* The next item of the comma-separated list at *s, spaces around it dropped: its start, with its
 * length in *len and *s moved past it; NULL at the end of the list. */
static const char *plans_list_next(const char **s, size_t *len)
{
    const char *p = *s;
    while (p && (*p == ' ' || *p == ','))
        p++;
    if (!p || !*p)
        return NULL;
    size_t n = strcspn(p, ",");
    *len = n;
    while (*len && p[*len - 1] == ' ')
        (*len)--;
    *s = p + n;
    return p;
}

/* Is word one of the comma-separated items of list? */
static int plans_listed(const char *list, const char *word)
{
    size_t wn = strlen(word), n;
    for (const char *item; (item = plans_list_next(&list, &n));)
        if (n == wn && !strncmp(item, word, wn))
            return 1;
    return 0;
}

int plans_public_at(int idx, char *out, size_t outlen)
{
    const char *list = config_get("plans.public");
    size_t n;
    for (const char *item; (item = plans_list_next(&list, &n)); idx--)
        if (idx == 0) {
            snprintf(out, outlen, "%.*s", (int)n, item);
            return 1;
        }
    return 0;
}

/* A plan name usable in a config key: [a-z0-9_]{1,31}. */
static int plans_name_ok(const char *plan)
{
    size_t n = plan ? strlen(plan) : 0;
    return n >= 1 && n < 32 && strspn(plan, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

int plans_catalog_limit(const char *plan, plan_limit which, long long *out)
{
    if (!plans_name_ok(plan) || which < 0 || which >= PLAN_LIMIT_COUNT)
        return -1;
    if (which == PLAN_LIVE_TRADING) {
        *out = plans_listed(config_get("plans.live_trading"), plan);
        return 0;
    }
    char key[96];
    snprintf(key, sizeof key, "plans.%s.%s", plan, limit_names[which]);
    const char *v = config_get(key);
    if (!v || !*v)
        return -1;
    if (!strcmp(v, "unlimited")) {
        *out = PLAN_UNLIMITED;
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || end == v || n < 0)
        return -1;
    *out = n;
    return 0;
}

/* The tenant's plan copied into out (a NULL arena clears the result here). 0, or -1. */
static int plans_read(arena *a, long long tenant_id, char *out, size_t outlen)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", tenant_id);
    const char *p[] = {t};
    /* the tenant's own row, read by its primary key */
    PGresult *r = db_query(a, "plans_of", "SELECT plan FROM tenants WHERE id = $1::bigint", 1, p);
    int ok = r && PQntuples(r) == 1;
    if (ok)
        snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
    if (!a && r)
        PQclear(r);
    return ok ? 0 : -1;
}

const char *plans_of(arena *a, long long tenant_id)
{
    char plan[32];
    if (plans_read(a, tenant_id, plan, sizeof plan) != 0)
        return NULL;
    return a ? arena_strdup(a, plan) : NULL;
}

int plans_limit(arena *a, long long tenant_id, plan_limit which, long long *out)
{
    char plan[32];
    if (plans_read(a, tenant_id, plan, sizeof plan) != 0)
        return -1;
    return plans_catalog_limit(plan, which, out);
}

int plans_allows(const char *plan, plan_limit which, long long used, long long adding, plan_refusal *r)
{
    plan_refusal none;
    if (!r)
        r = &none;
    memset(r, 0, sizeof *r);
    r->which = which;
    snprintf(r->plan, sizeof r->plan, "%s", plan ? plan : "");
    r->used = used;
    r->adding = adding;
    long long limit;
    if (plans_catalog_limit(plan, which, &limit) != 0) {
        r->limit = 0;
        snprintf(r->why, sizeof r->why, "the limit '%s' of plan '%s' is not configured", plans_limit_name(which),
                 r->plan);
        return -1;
    }
    r->limit = limit;
    if (limit == PLAN_UNLIMITED || used + adding <= limit)
        return 1;
    const char *noun = limit_nouns[which][limit != 1];
    if (which == PLAN_LIVE_TRADING)
        snprintf(r->why, sizeof r->why, "the %s plan does not include live trading", r->plan);
    else if (adding > 1)
        snprintf(r->why, sizeof r->why, "the %s plan allows %lld %s; this asks for %lld", r->plan, limit, noun,
                 used + adding);
    else
        snprintf(r->why, sizeof r->why, "the %s plan allows %lld %s; %lld already used", r->plan, limit, noun, used);
    return 0;
}

int plans_check(arena *a, long long tenant_id, plan_limit which, long long used, long long adding, plan_refusal *r)
{
    char plan[32];
    if (plans_read(a, tenant_id, plan, sizeof plan) != 0)
        plan[0] = '\0';
    return plans_allows(plan, which, used, adding, r);
}

int plans_check_one_more(const ctx *c, plan_limit which, const char *stmt_name, const char *count_sql,
                         plan_refusal *r)
{
    char key[64];
    snprintf(key, sizeof key, "plans:%lld:%s", c->tenant_id, plans_limit_name(which));
    const char *p[] = {key};
    PGresult *l = db_query(c->a, "plans_lock", "SELECT pg_advisory_xact_lock(hashtext($1))", 1, p);
    if (!l)
        return -1;
    if (!c->a)
        PQclear(l);
    PGresult *n = tq_query(c, stmt_name, count_sql, 0, NULL);
    if (!n || PQntuples(n) != 1)
        return -1;
    long long used = atoll(PQgetvalue(n, 0, 0));
    if (!c->a)
        PQclear(n);
    int ok = plans_check(c->a, c->tenant_id, which, used, 1, r);
    return ok < 0 ? 0 : ok;
}

int plans_allow_live(arena *a, long long tenant_id)
{
    long long live = 0;
    return plans_limit(a, tenant_id, PLAN_LIVE_TRADING, &live) == 0 && live == 1;
}

int plans_job_limit(const char *job_type, plan_limit *which, const char **types)
{
    static const struct {
        const char *type;
        plan_limit which;
        const char *counted;
    } jobs[] = {
        {"backtest", PLAN_BACKTESTS_PER_DAY, "backtest"},
        {"optimize", PLAN_OPTIMIZATIONS_PER_DAY, "optimize,walk_forward"},
        {"walk_forward", PLAN_OPTIMIZATIONS_PER_DAY, "optimize,walk_forward"},
        {"ml_train", PLAN_ML_TRAININGS_PER_DAY, "ml_train"},
    };
    for (size_t i = 0; job_type && i < sizeof jobs / sizeof jobs[0]; i++)
        if (!strcmp(jobs[i].type, job_type)) {
            *which = jobs[i].which;
            *types = jobs[i].counted;
            return 1;
        }
    return 0;
}
