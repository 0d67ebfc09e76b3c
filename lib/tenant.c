/* tenant.c — tenant-scoped statements: $1 is always the acting tenant, and a statement that does
 * not filter on it is refused before it reaches PostgreSQL. */
#include "tenant.h"
#include <stdio.h>
#include <string.h>

static char tq_err[160];

static const char *const *with_tenant(const ctx *c, const char *sql, int nparams, const char *const *params,
                                      const char **buf, char *tid, size_t tidlen)
{
    if (!c || c->tenant_id <= 0) {
        snprintf(tq_err, sizeof tq_err, "no tenant in context");
        return NULL;
    }
    /* the filter must be there; a statement may use it more than once (joins, subqueries) */
    if (!strstr(sql, "tenant_id = $1")) {
        snprintf(tq_err, sizeof tq_err, "tenant statement without \"tenant_id = $1\"");
        return NULL;
    }
    snprintf(tid, tidlen, "%lld", c->tenant_id);
    buf[0] = tid;
    for (int i = 0; i < nparams; i++)
        buf[i + 1] = params[i];
    return buf;
}

PGresult *tq_query(const ctx *c, const char *name, const char *sql, int nparams, const char *const *params)
{
    const char *p[32];
    char tid[24];
    if (nparams < 0 || nparams > 31)
        return NULL;
    if (!with_tenant(c, sql, nparams, params, p, tid, sizeof tid)) {
        db_set_error("XX000", tq_err);
        return NULL;
    }
    return db_query(c->a, name, sql, nparams + 1, p);
}

long tq_exec(const ctx *c, const char *name, const char *sql, int nparams, const char *const *params)
{
    const char *p[32];
    char tid[24];
    if (nparams < 0 || nparams > 31)
        return -1;
    if (!with_tenant(c, sql, nparams, params, p, tid, sizeof tid)) {
        db_set_error("XX000", tq_err);
        return -1;
    }
    return db_exec(c->a, name, sql, nparams + 1, p);
}
