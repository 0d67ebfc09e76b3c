/* notify.h — the one notify call every module uses. Messages are stored in `notifications`
 * (the in-app bell); the notifications module delivers them to Telegram and e-mail. */
#ifndef BCF_NOTIFY_H
#define BCF_NOTIFY_H
#include "ctx.h"

/* To one user (user_id > 0) of tenant_id, or to every holder of permission `audience` in the
 * company tenant when user_id == 0 (e.g. "security.read" for Segurança alerts). kind is a
 * stable key ("security.anomaly", "account.suspicious_login"); severity "info", "warning" or
 * "critical"; title and body are plain text (escaped when shown). Returns 0 or -1. */
int notify(const ctx *c, long long tenant_id, long long user_id, const char *audience, const char *kind,
           const char *severity, const char *title, const char *body);
#endif
