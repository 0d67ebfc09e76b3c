/* tenant.h — the one way to run a statement on tenant data: the caller's tenant id is always $1
 * and the SQL must filter on it, so no handler writes (or forgets) its own tenant filter. */
#ifndef BCF_TENANT_H
#define BCF_TENANT_H
#include "ctx.h"
#include "db.h"

/* Runs sql (prepared as name) with $1 = c->tenant_id and $2.. = params. Refuses, returning
 * NULL with db_error() explaining, when c has no tenant or the SQL does not contain
 * "tenant_id = $1". The result is cleared with the arena like db_query's. */
PGresult *tq_query(const ctx *c, const char *name, const char *sql, int nparams, const char *const *params);
/* The same for statements without rows: returns affected rows, or -1. */
long tq_exec(const ctx *c, const char *name, const char *sql, int nparams, const char *const *params);
#endif
