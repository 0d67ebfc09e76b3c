/* notify.h — the one notify call every module uses. A notification is stored in `notifications`
 * (the in-app bell) and queued per channel in `notification_deliveries`, the outbox the worker
 * delivers to Telegram and e-mail, in the caller's transaction (docs/notifications.md). */
#ifndef BCF_NOTIFY_H
#define BCF_NOTIFY_H
#include <jansson.h>
#include "ctx.h"

typedef enum { NOTIFY_LOW, NOTIFY_NORMAL, NOTIFY_HIGH, NOTIFY_URGENT } notify_priority;

typedef struct notify_msg {
    long long tenant_id;    /* the recipient's tenant (ignored for an audience) */
    long long user_id;      /* one user of tenant_id; 0 = every holder of audience */
    const char *audience;   /* a permission ("security.read") in the company tenant, when user_id == 0 */
    const char *category;   /* financeiro, seguranca, trading, assinaturas, p2p, affiliate, sac, sistema */
    const char *template_name; /* templates/notify/<name>.txt; also stored as the notification's kind */
    const json_t *data;     /* the template's variables (NULL = none); stored with the notification */
    notify_priority priority; /* URGENT ignores quiet hours */
    const char *dedupe_key; /* NULL, or a key: a second send with it to the same user writes nothing */
} notify_msg;

/* Renders the in-app title and body in each recipient's language and writes the notification and
 * one delivery per external channel the recipient's preferences enable, atomically: inside a
 * caller's db_tx it joins that transaction (behind a savepoint), else it runs its own. Returns the
 * number of notifications written (0: deduplicated or nobody to tell), or -1 (an unknown category
 * or template, or a database failure; nothing is written then). */
int notify_send(const ctx *c, const notify_msg *m);

/* 1 when key is one of the categories. */
int notify_category_ok(const char *key);
/* The categories in display order, NULL-terminated. */
extern const char *const notify_categories[];
/* "low" ... "urgent"; and back (-1 when unknown). */
const char *notify_priority_name(notify_priority p);
int notify_priority_parse(const char *s);
/* The priority a severity stands for: "critical" urgent, "warning" high, anything else normal. */
notify_priority notify_priority_of_severity(const char *severity);

/* Unread in-app notifications of the user (the bell), or -1 when the database is unavailable. */
long notify_unread_count(const ctx *c, long long user_id);
#endif
