/* dashboard.c — the landing page after login: the tenant's summary, cached in Redis per tenant
 * (cache.ttl.dashboard) and served as HTML at /dashboard and as JSON at /api/v1/dashboard. */
#include "app.h"
#include "cache.h"
#include "db.h"
#include "modules.h"
#include "tenant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The summary as JSON text: from the cache, else built from PostgreSQL and cached. */
static char *summary(request *req, size_t *len)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", req->session->tenant_id);
    char *cached = cache_get(req->a, "dashboard", "summary", id, len);
    if (cached)
        return cached;
    PGresult *r = tq_query(&req->cx, "dashboard_summary",
                           "SELECT t.name, t.kind, t.plan, "
                           "(SELECT count(*) FROM users u WHERE u.tenant_id = $1), "
                           "(SELECT count(*) FROM jobs j WHERE j.tenant_id = $1 AND j.status = 'queued'), "
                           "(SELECT count(*) FROM jobs j WHERE j.tenant_id = $1 AND j.status = 'running'), "
                           "(SELECT count(*) FROM jobs j WHERE j.tenant_id = $1 AND j.status = 'done') "
                           "FROM tenants t WHERE t.id = $1",
                           0, NULL);
    if (!r || PQntuples(r) != 1)
        return NULL;
    json_t *j = json_pack("{s:{s:I, s:s, s:s, s:s}, s:I, s:{s:I, s:I, s:I}}", "tenant", "id",
                          (json_int_t)req->session->tenant_id, "name", PQgetvalue(r, 0, 0), "kind",
                          PQgetvalue(r, 0, 1), "plan", PQgetvalue(r, 0, 2), "users",
                          (json_int_t)atoll(PQgetvalue(r, 0, 3)), "jobs", "queued",
                          (json_int_t)atoll(PQgetvalue(r, 0, 4)), "running", (json_int_t)atoll(PQgetvalue(r, 0, 5)),
                          "done", (json_int_t)atoll(PQgetvalue(r, 0, 6)));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s)
        return NULL;
    char tag[40];
    snprintf(tag, sizeof tag, "tenant:%s", id);
    const char *tags[] = {tag};
    cache_set("dashboard", "summary", id, s, strlen(s), tags, 1);
    char *out = arena_strdup(req->a, s);
    *len = strlen(s);
    free(s);
    return out;
}

static int dashboard(request *req, response *res)
{
    size_t len = 0;
    char *s = summary(req, &len);
    if (!s)
        return -1;
    if (req->api) {
        /* the cached text is already the JSON twin: send it as is */
        res_text(res, 200, "application/json; charset=utf-8", s, len);
        return 0;
    }
    json_t *d = json_loadb(s, len, 0, NULL);
    if (!d)
        return -1;
    res_page(res, "dashboard/index.cs", "dashboard.title", d);
    return 0;
}

static const route routes[] = {
    {"GET", "/dashboard", dashboard, R_AUTH | R_PAGE, NULL, NULL},
};

const module dashboard_module = {"dashboard", "nav.dashboard", "/dashboard", ROUTES(routes)};
