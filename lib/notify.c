/* notify.c — the one notify call: one notifications row per recipient (a user, or every holder
 * of a permission in the company tenant), in the caller's transaction when there is one. */
#include "notify.h"
#include "db.h"
#include "log.h"
#include <stdio.h>

int notify(const ctx *c, long long tenant_id, long long user_id, const char *audience, const char *kind,
           const char *severity, const char *title, const char *body)
{
    long n;
    if (user_id > 0) {
        char tid[24], uid[24];
        snprintf(tid, sizeof tid, "%lld", tenant_id);
        snprintf(uid, sizeof uid, "%lld", user_id);
        const char *p[] = {tid, uid, kind, severity, title, body};
        /* the user must belong to the tenant: a notification never crosses tenants */
        n = db_exec(c->a, "notify_user",
                    "INSERT INTO notifications (tenant_id, user_id, kind, severity, title, body) "
                    "SELECT u.tenant_id, u.id, $3, $4, $5, $6 FROM users u "
                    "WHERE u.id = $2::bigint AND u.tenant_id = $1::bigint AND u.status = 'active'",
                    6, p);
    } else {
        const char *p[] = {audience ? audience : "", kind, severity, title, body};
        n = db_exec(c->a, "notify_audience",
                    "INSERT INTO notifications (tenant_id, user_id, kind, severity, title, body) "
                    "SELECT DISTINCT u.tenant_id, u.id, $2, $3, $4, $5 FROM users u "
                    "JOIN tenants t ON t.id = u.tenant_id AND t.kind = 'company' "
                    "JOIN user_roles ur ON ur.user_id = u.id "
                    "JOIN role_permissions rp ON rp.role_key = ur.role_key AND rp.permission_key = $1 "
                    "WHERE u.status = 'active'",
                    5, p);
    }
    if (n < 0) {
        log_error("notify %s failed: %s", kind, db_error());
        return -1;
    }
    return 0;
}
