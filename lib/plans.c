/* plans.c — plan limits read from configuration (plans.*) against the tenant's plan column; the
 * billing module plugs its own plans in here, so callers never hard-code a plan name. */
#include "plans.h"
#include "config.h"
#include "db.h"
#include <stdio.h>
#include <string.h>

const char *plans_of(arena *a, long long tenant_id)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", tenant_id);
    const char *p[] = {t};
    /* the tenant's own row, read by its primary key */
    PGresult *r = db_query(a, "plans_of", "SELECT plan FROM tenants WHERE id = $1::bigint", 1, p);
    if (!r || PQntuples(r) != 1)
        return NULL;
    return PQgetvalue(r, 0, 0);
}

/* Is word one of the comma-separated items of list (spaces around items ignored)? */
static int plans_listed(const char *list, const char *word)
{
    size_t wn = strlen(word);
    for (const char *s = list; s && *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t n = strcspn(s, ",");
        size_t m = n;
        while (m && s[m - 1] == ' ')
            m--;
        if (m == wn && !strncmp(s, word, wn))
            return 1;
        s += n;
    }
    return 0;
}

int plans_allow_live(arena *a, long long tenant_id)
{
    const char *plan = plans_of(a, tenant_id);
    return plan && plans_listed(config_get("plans.live_trading"), plan);
}
