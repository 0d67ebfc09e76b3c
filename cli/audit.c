/* audit.c — `botctl audit verify`: walks the audit log's hash chain (lib/audit.c) and prints each
 * problem found; exit 0 when intact, 1 when broken or the database is unreachable, 2 on misuse. */
#include "audit.h"
#include "commands.h"
#include "db.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void audit_usage(void)
{
    fprintf(stderr, "usage: botctl audit verify\n");
}

static void audit_print_problem(const char *msg, void *arg)
{
    (void)arg;
    printf("%s\n", msg);
}

static int audit_cmd_verify(void)
{
    if (!db_is_up()) {
        fprintf(stderr, "botctl audit: database unreachable: %s\n", db_error());
        return 1;
    }
    long problems = audit_verify(audit_print_problem, NULL);
    if (problems < 0) {
        fprintf(stderr, "botctl audit: cannot read the audit log: %s\n", db_error());
        return 1;
    }
    if (problems > 0) {
        printf("audit chain BROKEN: %ld problem%s\n", problems, problems == 1 ? "" : "s");
        return 1;
    }
    /* the head printed here is worth keeping outside the database: with it, even a rewrite of
     * the whole chain from some row onwards is caught later */
    PGresult *r = db_query(NULL, NULL, "SELECT last_id, last_hash FROM audit_chain_head WHERE one", 0, NULL);
    if (!r || PQntuples(r) != 1) {
        fprintf(stderr, "botctl audit: cannot read the chain head: %s\n", db_error());
        if (r)
            PQclear(r);
        return 1;
    }
    printf("audit chain intact: %s rows\nhead: %s\n", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
    PQclear(r);
    return 0;
}

int cmd_audit(int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "verify") != 0) {
        audit_usage();
        return 2;
    }
    return audit_cmd_verify();
}
