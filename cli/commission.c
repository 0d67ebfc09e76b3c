/* commission.c — `botctl commission`: accrue a commission and run a payout by hand (operators, tests).
 * Exit 0 done (or already done), 1 refused or the database failed, 2 misuse. */
#include "commands.h"
#include "commissions.h"
#include "db.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void commission_usage(void)
{
    fprintf(stderr, "usage: botctl commission accrue TENANT CURRENCY AMOUNT_MINOR SOURCE_TYPE SOURCE_ID KEY\n"
                    "       botctl commission payout CURRENCY MINIMUM_MINOR RUN_KEY\n");
}

static long long commission_arg_amount(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    return *s && !*end && v >= 0 ? v : -1;
}

static const char *commission_rc_name(commission_rc rc)
{
    switch (rc) {
    case COMMISSION_OK: return "ok";
    case COMMISSION_EXISTS: return "exists";
    case COMMISSION_INVALID: return "invalid";
    case COMMISSION_CONFLICT: return "conflict";
    default: return "db_error";
    }
}

static int commission_cmd_accrue(int argc, char **argv)
{
    long long tenant = argc == 6 ? commission_arg_amount(argv[0]) : -1, amount = argc == 6 ? commission_arg_amount(argv[2]) : -1;
    if (tenant <= 0 || amount < 0) {
        commission_usage();
        return 2;
    }
    ctx c = {.ip = "", .request_id = ""};
    long long id = 0;
    commission_rc rc = commission_accrue(&c, tenant, argv[1], amount, argv[3], argv[4], argv[5], &id);
    printf("%s %lld\n", commission_rc_name(rc), id);
    if (rc == COMMISSION_DB_ERROR)
        fprintf(stderr, "botctl commission: %s\n", db_error());
    return rc == COMMISSION_OK || rc == COMMISSION_EXISTS ? 0 : 1;
}

static int commission_cmd_payout(int argc, char **argv)
{
    long long minimum = argc == 3 ? commission_arg_amount(argv[1]) : -1;
    if (minimum < 0) {
        commission_usage();
        return 2;
    }
    ctx c = {.ip = "", .request_id = ""};
    commission_payout_totals t;
    commission_rc rc = commission_payout_run(&c, argv[0], minimum, argv[2], &t);
    if (rc != COMMISSION_OK) {
        printf("%s\n", commission_rc_name(rc));
        if (rc == COMMISSION_DB_ERROR)
            fprintf(stderr, "botctl commission: %s\n", db_error());
        return 1;
    }
    printf("paid %ld already_paid %ld skipped %ld failed %ld total_minor %lld run_total_minor %lld\n", t.paid,
           t.already_paid, t.skipped, t.failed, t.total_minor, t.run_total_minor);
    return t.failed ? 1 : 0;
}

int cmd_commission(int argc, char **argv)
{
    if (argc < 1) {
        commission_usage();
        return 2;
    }
    if (!db_is_up()) {
        fprintf(stderr, "botctl commission: database unreachable: %s\n", db_error());
        return 1;
    }
    if (!strcmp(argv[0], "accrue"))
        return commission_cmd_accrue(argc - 1, argv + 1);
    if (!strcmp(argv[0], "payout"))
        return commission_cmd_payout(argc - 1, argv + 1);
    commission_usage();
    return 2;
}
