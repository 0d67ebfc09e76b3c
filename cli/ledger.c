/* ledger.c — `botctl ledger`: verify the ledger's invariants, and open accounts, move money and
 * expire pending transfers by hand (operators, tests). Exit 0 ok, 1 refused or broken, 2 misuse. */
#include "commands.h"
#include "db.h"
#include "ledger.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ledger_usage(void)
{
    fprintf(stderr, "usage: botctl ledger verify\n"
                    "       botctl ledger open TENANT CURRENCY CODE [--allow-negative]\n"
                    "       botctl ledger transfer TENANT KEY DEBIT CREDIT AMOUNT [--pending [--timeout S]] [--code C]\n"
                    "       botctl ledger post TENANT KEY PENDING_ID [AMOUNT]\n"
                    "       botctl ledger void TENANT KEY PENDING_ID\n"
                    "       botctl ledger expire [--at EPOCH]\n");
}

static void ledger_print_problem(const char *msg, void *arg)
{
    (void)arg;
    printf("%s\n", msg);
}

static int ledger_cmd_verify(void)
{
    long problems = ledger_verify(ledger_print_problem, NULL);
    if (problems < 0) {
        fprintf(stderr, "botctl ledger: cannot read the ledger: %s\n", db_error());
        return 1;
    }
    if (problems > 0) {
        printf("ledger BROKEN: %ld problem%s\n", problems, problems == 1 ? "" : "s");
        return 1;
    }
    printf("ledger consistent\n");
    return 0;
}

/* a positive integer argument, or -1 */
static long long ledger_arg_id(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    return *s && !*end && v >= 0 ? v : -1;
}

static int ledger_cmd_open(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "--allow-negative") != 0) || ledger_arg_id(argv[0]) <= 0) {
        ledger_usage();
        return 2;
    }
    ctx c = {.tenant_id = ledger_arg_id(argv[0]), .ip = "", .request_id = ""};
    long long id = ledger_account_open(&c, argv[1], argv[2], argc == 4);
    if (id < 0) {
        fprintf(stderr, "botctl ledger: cannot open the account: %s\n", db_error());
        return 1;
    }
    printf("%lld\n", id);
    return 0;
}

static int ledger_submit(long long tenant, const ledger_transfer_req *q)
{
    ctx c = {.tenant_id = tenant, .ip = "", .request_id = ""};
    ledger_result res;
    int rc = ledger_transfer(&c, q, 1, &res);
    printf("%s %lld\n", ledger_code_name(res.code), res.transfer_id);
    if (rc < 0)
        fprintf(stderr, "botctl ledger: %s\n", db_error());
    return rc == 0 ? 0 : 1;
}

static int ledger_cmd_transfer(int argc, char **argv)
{
    if (argc < 5 || ledger_arg_id(argv[0]) <= 0) {
        ledger_usage();
        return 2;
    }
    ledger_transfer_req q = {.key = argv[1], .kind = LEDGER_SINGLE, .debit_account_id = ledger_arg_id(argv[2]),
                             .credit_account_id = ledger_arg_id(argv[3]), .amount = ledger_arg_id(argv[4])};
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "--pending"))
            q.kind = LEDGER_PENDING;
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            q.timeout_s = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--code") && i + 1 < argc)
            q.code = argv[++i];
        else {
            ledger_usage();
            return 2;
        }
    }
    return ledger_submit(ledger_arg_id(argv[0]), &q);
}

static int ledger_cmd_resolve(ledger_kind kind, int argc, char **argv)
{
    if (argc < 3 || argc > (kind == LEDGER_POST ? 4 : 3) || ledger_arg_id(argv[0]) <= 0) {
        ledger_usage();
        return 2;
    }
    ledger_transfer_req q = {.key = argv[1], .kind = kind, .pending_id = ledger_arg_id(argv[2]),
                             .amount = argc == 4 ? ledger_arg_id(argv[3]) : 0};
    return ledger_submit(ledger_arg_id(argv[0]), &q);
}

static int ledger_cmd_expire(int argc, char **argv)
{
    time_t at = time(NULL);
    if (argc == 2 && !strcmp(argv[0], "--at") && ledger_arg_id(argv[1]) >= 0)
        at = (time_t)ledger_arg_id(argv[1]);
    else if (argc != 0) {
        ledger_usage();
        return 2;
    }
    long n = ledger_expire(at);
    if (n < 0) {
        fprintf(stderr, "botctl ledger: %s\n", db_error());
        return 1;
    }
    printf("%ld expired\n", n);
    return 0;
}

int cmd_ledger(int argc, char **argv)
{
    if (argc < 1) {
        ledger_usage();
        return 2;
    }
    if (!db_is_up()) {
        fprintf(stderr, "botctl ledger: database unreachable: %s\n", db_error());
        return 1;
    }
    const char *sub = argv[0];
    if (!strcmp(sub, "verify") && argc == 1)
        return ledger_cmd_verify();
    if (!strcmp(sub, "open"))
        return ledger_cmd_open(argc - 1, argv + 1);
    if (!strcmp(sub, "transfer"))
        return ledger_cmd_transfer(argc - 1, argv + 1);
    if (!strcmp(sub, "post"))
        return ledger_cmd_resolve(LEDGER_POST, argc - 1, argv + 1);
    if (!strcmp(sub, "void"))
        return ledger_cmd_resolve(LEDGER_VOID, argc - 1, argv + 1);
    if (!strcmp(sub, "expire"))
        return ledger_cmd_expire(argc - 1, argv + 1);
    ledger_usage();
    return 2;
}
