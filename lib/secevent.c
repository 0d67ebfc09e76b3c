/* secevent.c — stores Segurança events, counts them in /metrics and applies the anomaly rules.
 * A failure here is logged and never fails the request that caused the event. */
#include "secevent.h"
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One anomaly rule: events of `kind` counted per minute window (per subject when the rule has
 * one); the count passing config `threshold_key` raises one alert for that window. */
typedef struct anomaly_rule {
    const char *rule;          /* stable key stored in security_alerts.rule, translated by the UI */
    const char *kind;
    const char *threshold_key;
    int per_account;           /* subject = the account (or e-mail hash) instead of the platform */
    const char *severity;
    const char *what_pt, *what_en; /* what was counted, for the alert's text in each language */
} anomaly_rule;

static const anomaly_rule rules[] = {
    {"failed_logins", SECEV_LOGIN_FAILED, "security.anomaly.failed_logins_per_min", 0, "critical",
     "logins com falha", "failed logins"},
    {"account_failures", SECEV_LOGIN_FAILED, "security.anomaly.account_failures_per_min", 1, "warning",
     "logins com falha de uma conta", "failed logins of one account"},
    {"rate_limited", SECEV_RATE_LIMITED, "security.anomaly.rate_limited_per_min", 0, "warning",
     "violações de limite de requisições", "rate-limit violations"},
    {"denials", SECEV_PERMISSION_DENIED, "security.anomaly.denials_per_min", 0, "warning", "permissões negadas",
     "permission denials"},
};

/* The account a failed login concerns: the user id, or the e-mail hash the login code passes
 * when no account matched. Only hex survives, so the subject cannot shape the Redis key. */
static int account_subject(long long subject_user, const json_t *details, char *out, size_t outlen)
{
    if (subject_user > 0) {
        snprintf(out, outlen, "user:%lld", subject_user);
        return 0;
    }
    const char *h = details ? json_string_value(json_object_get(details, "email_hash")) : NULL;
    if (!h || !*h || strlen(h) > 64 || strspn(h, "0123456789abcdefABCDEF") != strlen(h))
        return -1;
    snprintf(out, outlen, "email:%s", h);
    return 0;
}

/* The alert row and its notification. Not in a transaction of its own: the caller may already
 * be inside one (db_tx does not nest), and the alert must be kept even when nobody holds
 * security.read to be notified. */
static void raise_alert(const ctx *c, const anomaly_rule *r, const char *subject, long observed, long threshold)
{
    char obs[24], thr[24];
    snprintf(obs, sizeof obs, "%ld", observed);
    snprintf(thr, sizeof thr, "%ld", threshold);
    const char *p[] = {r->rule, subject, obs, thr};
    PGresult *a = db_query(c->a, "secalert_insert",
                           "INSERT INTO security_alerts (rule, subject, observed, threshold) "
                           "VALUES ($1, $2, $3::bigint, $4::bigint) RETURNING id",
                           4, p);
    if (!a || PQntuples(a) != 1) {
        log_warn("security alert %s not stored: %s", r->rule, db_error());
        return;
    }
    char labels[96];
    snprintf(labels, sizeof labels, "rule=\"%s\"", r->rule);
    metrics_count("security_alerts_total", labels, 1);
    log_warn("security alert %s raised (%ld in one minute, threshold %ld)", r->rule, observed, threshold);
    /* cross-tenant: the alert is the platform's; it goes to the company's security staff */
    PGresult *t = db_query(c->a, "secalert_company", "SELECT id FROM tenants WHERE kind = 'company' ORDER BY id LIMIT 1",
                           0, NULL);
    if (!t || PQntuples(t) != 1) {
        log_warn("security alert %s: no company tenant to notify", r->rule);
        return;
    }
    const char *alert_id = PQgetvalue(a, 0, 0);
    json_t *data = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "rule", r->rule, "what", r->what_pt, "what@en",
                             r->what_en, "observed", (json_int_t)observed, "threshold", (json_int_t)threshold, "subject",
                             subject, "about", *subject ? arena_printf(c->a, " (%s)", subject) : "", "alert_id", alert_id);
    notify_msg m = {.tenant_id = atoll(PQgetvalue(t, 0, 0)),
                    .audience = "security.read",
                    .category = "seguranca",
                    .template_name = "security.anomaly",
                    .data = data,
                    .priority = notify_priority_of_severity(r->severity),
                    .dedupe_key = arena_printf(c->a, "security.anomaly:%s", alert_id)};
    if (!data || notify_send(c, &m) < 0)
        log_warn("security alert %s: the staff could not be notified", r->rule);
    json_decref(data);
}

/* Counts the event under each rule of its kind. Redis holds the per-minute windows (INCR, and
 * EXPIRE past the window's end); when Redis is down the rules are skipped. A private arena
 * holds the replies, so callers without a request arena (botctl, the worker) work too. */
static void apply_rules(const ctx *caller, const char *kind, long long subject_user, const json_t *details)
{
    arena local;
    arena_init(&local, 2048);
    ctx lc = *caller;
    lc.a = &local;
    const ctx *c = &lc;
    long long minute = (long long)time(NULL) / 60;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const anomaly_rule *r = &rules[i];
        if (strcmp(r->kind, kind) != 0)
            continue;
        long threshold = config_int(r->threshold_key);
        if (threshold <= 0)
            continue; /* 0 turns a rule off */
        char subject[96] = "";
        if (r->per_account && account_subject(subject_user, details, subject, sizeof subject) < 0)
            continue;
        char key[160];
        snprintf(key, sizeof key, "sa:%s:%s:%lld", r->rule, subject, minute);
        redisReply *n = kv_cmd(c->a, "INCR %s", key);
        if (!n || n->type != REDIS_REPLY_INTEGER) {
            log_debug("anomaly rule %s skipped: redis unavailable", r->rule);
            continue;
        }
        kv_cmd(c->a, "EXPIRE %s 120", key);
        /* exactly at threshold + 1: one alert per window however many events follow */
        if (n->integer == (long long)threshold + 1)
            raise_alert(c, r, subject, (long)n->integer, threshold);
    }
    arena_destroy(&local);
}

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
    apply_rules(c, kind, subject_user, details);
}
