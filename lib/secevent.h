/* secevent.h — Segurança's event log: failed logins, lockouts, 2FA failures, permission denials,
 * rate-limit violations, new-device logins. Anomaly rules over these raise alerts via notify. */
#ifndef BCF_SECEVENT_H
#define BCF_SECEVENT_H
#include <jansson.h>
#include "ctx.h"

/* kinds (SECEV_*) are stable strings stored in security_events.kind */
#define SECEV_LOGIN_FAILED "login_failed"
#define SECEV_LOGIN_LOCKED "login_locked"
#define SECEV_LOGIN_NEW_DEVICE "login_new_device"
#define SECEV_MFA_FAILED "mfa_failed"
#define SECEV_PERMISSION_DENIED "permission_denied"
#define SECEV_RATE_LIMITED "rate_limited"
#define SECEV_IP_BLOCKED "ip_not_allowed"
#define SECEV_CSRF_FAILED "csrf_failed"

/* Stores one event (severity "info", "warning" or "critical"); subject_user is the account
 * concerned (0 = none, e.g. an unknown e-mail); details is borrowed. Also counts it in
 * /metrics (security_events_total{kind}) and applies the anomaly rules (config
 * security.anomaly.*), which call notify once per rule per minute when a threshold is passed.
 * Never fails the caller: a lost event is logged. */
void security_event(const ctx *c, const char *kind, const char *severity, long long subject_user,
                    const json_t *details);
#endif
