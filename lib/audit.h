/* audit.h — the one audit call. Every state change writes exactly one append-only, hash-chained
 * audit_log row (actor, tenant, action, object, before/after summary, address, request id). */
#ifndef BCF_AUDIT_H
#define BCF_AUDIT_H
#include <jansson.h>
#include <libpq-fe.h>
#include "ctx.h"

/* Appends one row. action is "<module>.<verb>" ("account.password_change"); object_type and
 * object_id name what changed; before/after are small JSON summaries (NULL = none; never
 * secrets: pass masked values). Borrowed, not stolen. Runs inside the caller's transaction when
 * there is one. Returns 0, or -1 when the row could not be written (the caller must then fail
 * its own change: a change without its audit row must not happen). */
int audit_record(const ctx *c, const char *action, const char *object_type, const char *object_id,
                 const json_t *before, const json_t *after);

/* The common case of one tenant statement and its audit row, in one transaction: runs sql like
 * tq_query (lib/tenant.h) and, when it returned or touched rows, appends the audit record (object
 * id = object_id, or the first column of the first row when NULL). If either fails nothing is
 * changed and NULL is returned; a statement that matched nothing returns its empty result and
 * writes no audit row. */
PGresult *audit_tq(const ctx *c, const char *name, const char *sql, int nparams, const char *const *params,
                   const char *action, const char *object_type, const char *object_id, const json_t *after);

/* Walks the whole chain in id order recomputing each hash. Returns 0 when intact; otherwise
 * the number of problems, each described through report(msg, arg) (altered row, missing id,
 * broken link). -1 when the database cannot be read. */
long audit_verify(void (*report)(const char *msg, void *arg), void *arg);
#endif
