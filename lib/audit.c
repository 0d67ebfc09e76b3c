/* audit.c — the one audit call: appends through the SQL function audit_append (sql/0005), which
 * numbers and hash-chains rows under the schema owner's rights; and the chain verifier. */
#include "audit.h"
#include "db.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int audit_record(const ctx *c, const char *action, const char *object_type, const char *object_id,
                 const json_t *before, const json_t *after)
{
    char tid[24] = "", uid[24] = "";
    if (c->tenant_id > 0)
        snprintf(tid, sizeof tid, "%lld", c->tenant_id);
    if (c->user_id > 0)
        snprintf(uid, sizeof uid, "%lld", c->user_id);
    char *b = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *af = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    const char *p[] = {tid[0] ? tid : NULL, uid[0] ? uid : NULL, action, object_type ? object_type : "",
                       object_id ? object_id : "", b, af, c->ip ? c->ip : "", c->request_id ? c->request_id : ""};
    PGresult *r = db_query(c->a, "audit_append",
                           "SELECT audit_append($1::bigint, $2::bigint, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)", 9,
                           p);
    free(b);
    free(af);
    if (!r) {
        log_error("audit record %s failed: %s", action, db_error());
        return -1;
    }
    if (!c->a)
        PQclear(r);
    return 0;
}
