/* db.c — libpq connection management. A failed connection is retried with exponential backoff
 * so a PostgreSQL outage costs requests one cheap check, not a connect timeout each. */
#include "db.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PREPARED 1024

static PGconn *conn;
static char *dsn_cfg;
static double next_attempt, backoff;
static char last_state[6];
static char last_error[256];
static char *prepared[MAX_PREPARED];
static int n_prepared;

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void db_configure(const char *dsn)
{
    free(dsn_cfg);
    dsn_cfg = strdup(dsn ? dsn : config_get("db.dsn"));
}

static void forget_prepared(void)
{
    for (int i = 0; i < n_prepared; i++)
        free(prepared[i]);
    n_prepared = 0;
}

void db_close(void)
{
    if (conn)
        PQfinish(conn);
    conn = NULL;
    forget_prepared();
}

void db_set_error(const char *state, const char *msg)
{
    snprintf(last_state, sizeof last_state, "%s", state ? state : "");
    snprintf(last_error, sizeof last_error, "%s", msg ? msg : "");
    /* libpq messages end with a newline */
    size_t n = strlen(last_error);
    while (n && (last_error[n - 1] == '\n' || last_error[n - 1] == ' '))
        last_error[--n] = '\0';
}

static int connect_now(void)
{
    if (!dsn_cfg)
        db_configure(NULL);
    char *password = config_secret("db.password");
    char timeout[16], opts[64];
    snprintf(timeout, sizeof timeout, "%ld", config_int("db.connect_timeout_s"));
    snprintf(opts, sizeof opts, "-c statement_timeout=%ld", config_int("db.statement_timeout_ms"));
    const char *keys[] = {"dbname", "connect_timeout", "options", "application_name", password ? "password" : NULL, NULL};
    const char *vals[] = {dsn_cfg, timeout, opts, "botcriptofy", password, NULL};
    /* expand_dbname=1: the dsn string supplies everything else */
    conn = PQconnectdbParams(keys, vals, 1);
    free(password);
    if (PQstatus(conn) != CONNECTION_OK) {
        db_set_error("08006", PQerrorMessage(conn));
        PQfinish(conn);
        conn = NULL;
        return -1;
    }
    forget_prepared();
    return 0;
}

PGconn *db_conn(void)
{
    if (conn && PQstatus(conn) == CONNECTION_OK)
        return conn;
    if (conn) {
        PQfinish(conn);
        conn = NULL;
        forget_prepared();
    }
    double t = now_s();
    if (t < next_attempt)
        return NULL;
    if (connect_now() == 0) {
        if (backoff > 0)
            log_info("postgresql connection restored");
        backoff = 0;
        next_attempt = 0;
        return conn;
    }
    double max = (double)config_int("db.reconnect_max_ms") / 1000.0;
    backoff = backoff ? backoff * 2 : 0.05;
    if (backoff > max)
        backoff = max;
    next_attempt = t + backoff;
    log_warn("postgresql unavailable, next try in %.0f ms: %s", backoff * 1000, last_error);
    return NULL;
}

int db_is_up(void)
{
    return db_conn() != NULL;
}

static void clear_result(void *p)
{
    PQclear(p);
}

static int is_prepared(const char *name)
{
    for (int i = 0; i < n_prepared; i++)
        if (strcmp(prepared[i], name) == 0)
            return 1;
    return 0;
}

static int in_tx;

static PGresult *query_once(arena *a, const char *name, const char *sql, int nparams, const char *const *params);

PGresult *db_query(arena *a, const char *name, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = query_once(a, name, sql, nparams, params);
    /* A server restart kills idle connections; outside a transaction one immediate reconnect
     * makes that invisible to the request. */
    if (!r && !in_tx && conn && PQstatus(conn) == CONNECTION_BAD) {
        db_close();
        next_attempt = 0;
        r = query_once(a, name, sql, nparams, params);
    }
    return r;
}

static PGresult *query_once(arena *a, const char *name, const char *sql, int nparams, const char *const *params)
{
    PGconn *c = db_conn();
    if (!c) {
        if (!last_state[0])
            db_set_error("08006", "database unavailable");
        return NULL;
    }
    double t0 = now_s();
    PGresult *r;
    /* a full table of names runs the statement unprepared rather than preparing a name twice */
    if (name && n_prepared >= MAX_PREPARED && !is_prepared(name))
        name = NULL;
    if (name) {
        if (!is_prepared(name)) {
            PGresult *p = PQprepare(c, name, sql, nparams, NULL);
            int ok = PQresultStatus(p) == PGRES_COMMAND_OK;
            if (!ok) {
                const char *st = PQresultErrorField(p, PG_DIAG_SQLSTATE);
                db_set_error(st ? st : "08006", PQresultErrorMessage(p));
                PQclear(p);
                metrics_db(now_s() - t0, 0);
                return NULL;
            }
            PQclear(p);
            char *dup = strdup(name);
            if (dup)
                prepared[n_prepared++] = dup;
        }
        r = PQexecPrepared(c, name, nparams, params, NULL, NULL, 0);
    } else {
        r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
    }
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
    metrics_db(now_s() - t0, ok);
    if (!ok) {
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        db_set_error(code ? code : "08006", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        if (!code || PQstatus(c) != CONNECTION_OK)
            log_warn("postgresql query failed: %s", last_error);
        PQclear(r);
        return NULL;
    }
    last_state[0] = '\0';
    if (a)
        arena_on_cleanup(a, clear_result, r);
    return r;
}

long db_exec(arena *a, const char *name, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = db_query(NULL, name, sql, nparams, params);
    if (!r)
        return -1;
    long n = atol(PQcmdTuples(r));
    PQclear(r);
    (void)a;
    return n;
}

const char *db_sqlstate(void)
{
    return last_state;
}

const char *db_error(void)
{
    return last_error;
}

static int simple(const char *sql)
{
    PGresult *r = db_query(NULL, NULL, sql, 0, NULL);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* db_tx inside db_tx: fn joins the outer transaction behind a savepoint, so a failure undoes only
 * its own part, and the outer transaction (which alone can be retried) decides the rest. */
static int nested_tx(int (*fn)(void *arg), void *arg)
{
    if (simple("SAVEPOINT bcf_nested") < 0)
        return -1;
    int rc = fn(arg);
    if (rc == 0 && simple("RELEASE SAVEPOINT bcf_nested") == 0)
        return 0;
    char state[6], error[sizeof last_error];
    snprintf(state, sizeof state, "%s", last_state);
    snprintf(error, sizeof error, "%s", last_error);
    if (simple("ROLLBACK TO SAVEPOINT bcf_nested") == 0)
        simple("RELEASE SAVEPOINT bcf_nested");
    snprintf(last_state, sizeof last_state, "%s", state);
    snprintf(last_error, sizeof last_error, "%s", error);
    return rc ? rc : -1;
}

int db_in_tx(void)
{
    return in_tx;
}

int db_tx(int (*fn)(void *arg), void *arg)
{
    if (in_tx)
        return nested_tx(fn, arg);
    int retries = (int)config_int("db.retry_max");
    for (int attempt = 0;; attempt++) {
        if (simple("BEGIN") < 0)
            return -1;
        in_tx = 1;
        int rc = fn(arg);
        int committed = rc == 0 && simple("COMMIT") == 0;
        in_tx = 0;
        if (committed)
            return 0;
        char state[6], error[sizeof last_error];
        snprintf(state, sizeof state, "%s", last_state);
        snprintf(error, sizeof error, "%s", last_error);
        if (db_conn())
            simple("ROLLBACK");
        /* the caller learns why the transaction failed, not how the rollback went */
        snprintf(last_state, sizeof last_state, "%s", state);
        snprintf(last_error, sizeof last_error, "%s", error);
        int retryable = strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0;
        if (!retryable || attempt >= retries)
            return rc ? rc : -1;
        log_info("transaction retry %d after SQLSTATE %s", attempt + 1, state);
    }
}

double db_ping_ms(void)
{
    double t0 = now_s();
    PGresult *r = db_query(NULL, NULL, "SELECT 1", 0, NULL);
    if (!r)
        return -1;
    PQclear(r);
    return (now_s() - t0) * 1000.0;
}
