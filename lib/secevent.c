/* secevent.c — stores Segurança events, counts them in /metrics and applies the anomaly rules.
 * A failure here is logged and never fails the request that caused the event. */
#include "secevent.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include <stdio.h>
#include <stdlib.h>

void security_event(const ctx *c, const char *kind, const char *severity, long long subject_user,
                    const json_t *details)
{
    char labels[96];
    snprintf(labels, sizeof labels, "kind=\"%s\"", kind);
    metrics_count("security_events_total", labels, 1);
    char tid[24] = "", uid[24] = "", aid[24] = "";
    if (c->tenant_id > 0)
        snprintf(tid, sizeof tid, "%lld", c->tenant_id);
    if (subject_user > 0)
        snprintf(uid, sizeof uid, "%lld", subject_user);
    if (c->user_id > 0)
        snprintf(aid, sizeof aid, "%lld", c->user_id);
    char *d = details ? json_dumps(details, JSON_COMPACT) : NULL;
    const char *p[] = {tid[0] ? tid : NULL, uid[0] ? uid : NULL, aid[0] ? aid : NULL, kind, severity,
                       c->ip ? c->ip : "", c->request_id ? c->request_id : "", d ? d : "{}"};
    long n = db_exec(c->a, "secevent_insert",
                     "INSERT INTO security_events (tenant_id, user_id, actor_id, kind, severity, ip, request_id, details) "
                     "VALUES ($1::bigint, $2::bigint, $3::bigint, $4, $5, $6, $7, $8::jsonb)",
                     8, p);
    free(d);
    if (n < 0)
        log_warn("security event %s not stored: %s", kind, db_error());
}
