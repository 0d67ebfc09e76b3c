/* test_db.c — db_tx against a real PostgreSQL: retry on serialization failure (40001), no retry
 * on other errors, the retry limit. Needs BCF_TEST_DSN; run by tests/integration/db.test.mjs. */
#include "config.h"
#include "db.h"
#include "unit.h"
#include <libpq-fe.h>

static PGconn *other; /* a second session that creates the conflicts */
static int attempts;
static int conflicts_wanted;

static void sql_other(const char *sql)
{
    PGresult *r = PQexec(other, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
                  PQerrorMessage(other));
    PQclear(r);
}

static long counter(void)
{
    PGresult *r = db_query(NULL, NULL, "SELECT v FROM bcf_test_tx WHERE id = 1", 0, NULL);
    ck_assert_ptr_nonnull(r);
    long v = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* Reads the row under REPEATABLE READ, lets the other session change it, then writes it:
 * PostgreSQL answers 40001 while conflicts_wanted lasts. */
static int bump(void *arg)
{
    (void)arg;
    attempts++;
    if (db_exec(NULL, NULL, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", 0, NULL) < 0)
        return -1;
    PGresult *r = db_query(NULL, NULL, "SELECT v FROM bcf_test_tx WHERE id = 1", 0, NULL);
    if (!r)
        return -1;
    PQclear(r);
    if (conflicts_wanted > 0) {
        conflicts_wanted--;
        sql_other("UPDATE bcf_test_tx SET v = v + 1 WHERE id = 1");
    }
    return db_exec(NULL, NULL, "UPDATE bcf_test_tx SET v = v + 10 WHERE id = 1", 0, NULL) == 1 ? 0 : -1;
}

static int duplicate(void *arg)
{
    (void)arg;
    attempts++;
    return db_exec(NULL, NULL, "INSERT INTO bcf_test_tx (id, v) VALUES (1, 0)", 0, NULL) == 1 ? 0 : -1;
}

static void setup(void)
{
    const char *dsn = getenv("BCF_TEST_DSN");
    ck_assert_msg(dsn && *dsn, "BCF_TEST_DSN must name the test database (tests/integration/db.test.mjs sets it)");
    char err[128];
    ck_assert_int_eq(config_parse_text("db.retry_max = 3\n", err, sizeof err), 0);
    db_configure(dsn);
    other = PQconnectdb(dsn);
    ck_assert_int_eq(PQstatus(other), CONNECTION_OK);
    sql_other("DROP TABLE IF EXISTS bcf_test_tx");
    sql_other("CREATE TABLE bcf_test_tx (id INT PRIMARY KEY, v BIGINT NOT NULL)");
    sql_other("INSERT INTO bcf_test_tx VALUES (1, 0)");
    attempts = 0;
}

static void teardown(void)
{
    sql_other("DROP TABLE IF EXISTS bcf_test_tx");
    PQfinish(other);
    db_close();
    config_free();
}

START_TEST(test_retries_serialization_failure)
{
    conflicts_wanted = 1;
    ck_assert_int_eq(db_tx(bump, NULL), 0);
    ck_assert_int_eq(attempts, 2);
    ck_assert_int_eq(counter(), 11); /* the other session's +1, then our +10 exactly once */
}
END_TEST

START_TEST(test_gives_up_after_retry_max)
{
    conflicts_wanted = 100;
    ck_assert_int_lt(db_tx(bump, NULL), 0);
    ck_assert_int_eq(attempts, 4); /* the first try and db.retry_max = 3 retries */
    ck_assert_str_eq(db_sqlstate(), "40001");
    ck_assert_int_eq(counter(), 4); /* only the other session's updates: ours all rolled back */
}
END_TEST

START_TEST(test_no_retry_on_other_errors)
{
    ck_assert_int_lt(db_tx(duplicate, NULL), 0);
    ck_assert_int_eq(attempts, 1);
    ck_assert_str_eq(db_sqlstate(), "23505");
    ck_assert_int_eq(counter(), 0);
    /* the connection is usable afterwards: nothing was left in an aborted transaction */
    conflicts_wanted = 0;
    ck_assert_int_eq(db_tx(bump, NULL), 0);
    ck_assert_int_eq(counter(), 10);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("db_tx");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_retries_serialization_failure);
    tcase_add_test(tc, test_gives_up_after_retry_max);
    tcase_add_test(tc, test_no_retry_on_other_errors);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
