/* db.h — the PostgreSQL layer: one libpq connection per process with reconnect and backoff,
 * parameterised queries only, named prepared statements, and a retrying transaction helper. */
#ifndef BCF_DB_H
#define BCF_DB_H
#include <libpq-fe.h>
#include "arena.h"

/* Reads db.* config. Connects lazily on first use. */
void db_configure(const char *dsn);
void db_close(void);
/* The live connection, reconnecting (at most once per backoff step) when it is down; NULL if down. */
PGconn *db_conn(void);
int db_is_up(void);
/* Runs sql with text params; the result is released with the arena. NULL on failure:
 * db_sqlstate() then tells why ("08006" when the server is unreachable). Pass name to use a
 * prepared statement (prepared once per connection under that name). */
PGresult *db_query(arena *a, const char *name, const char *sql, int nparams, const char *const *params);
/* Same, for statements that return no rows; returns affected rows or -1. */
long db_exec(arena *a, const char *name, const char *sql, int nparams, const char *const *params);
const char *db_sqlstate(void);
/* Records a failure found before a statement was sent (used by the tenant helper). */
void db_set_error(const char *state, const char *msg);
const char *db_error(void);
/* BEGIN; fn(arg); COMMIT — retried on serialization failure (40001) and deadlock (40P01) up to
 * db.retry_max times. fn returns 0 to commit, negative to roll back (that value is returned).
 * Called inside another db_tx, fn joins that transaction behind a savepoint: its work commits or
 * rolls back with the outer one, a failure undoes only its own part, and only the outer one is
 * retried (so a library call such as ledger_transfer can be part of a caller's transaction). */
int db_tx(int (*fn)(void *arg), void *arg);
/* 1 while this process is inside a db_tx. */
int db_in_tx(void);
/* Round trip time of SELECT 1 in milliseconds, or -1 when down. */
double db_ping_ms(void);
/* Monotonic seconds, used by the layers for latency metrics. */
double now_s(void);
#endif
