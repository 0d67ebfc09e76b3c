/* botctl.c — the operator's command line: migrations, demo data, job submission and a health
 * probe. Every subcommand reads the same config file as the servers. */
#include "cache.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "migrate.h"
#include "password.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr, "usage: botctl [-c config] COMMAND\n"
                    "  migrate [--dir DIR] [--dry-run]   apply pending sql/NNNN_*.sql migrations\n"
                    "  demo-load                         create the demo company, trader and login (idempotent)\n"
                    "  job-enqueue TYPE [JSON] [opts]    queue a job for the worker; prints its id (--count N: many)\n"
                    "  jobs list|cancel|retry ...        the job queue: list, cancel or retry jobs (see docs/worker.md)\n"
                    "  cache-invalidate TAG              drop every cache entry stored with TAG (e.g. tenant:2)\n"
                    "  config-check                      load the config and print every key's value\n"
                    "  keys generate|list|rotate         manage the credential vault's master keys (see docs/security.md)\n"
                    "  audit verify                      check the audit log's hash chain; non-zero exit when broken\n"
                    "  ledger verify|open|transfer|...   the double-entry ledger: check its invariants (docs/ledger.md)\n"
                    "  commission accrue|payout ...      record a commission owed, pay the payable balances (docs/billing.md)\n"
                    "  candles import|synth ...          load candles from a CSV file, or make seeded synthetic ones\n"
                    "  candles sync ...                  fetch closed candles of a range from an exchange\n"
                    "  exchange ping|time|ticker|...     talk to an exchange adapter (botctl exchange for the list)\n"
                    "  telegram set-webhook URL|delete-webhook|info   the bot's webhook at the Bot API (docs/telegram.md)\n");
}

static int cmd_migrate(int argc, char **argv)
{
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/sql", config_get("app.root"));
    int dry = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            snprintf(dir, sizeof dir, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--dry-run"))
            dry = 1;
        else {
            usage();
            return 2;
        }
    }
    char err[1024];
    if (migrate_apply(dir, dry, err, sizeof err) != 0) {
        fprintf(stderr, "botctl migrate: %s\n", err);
        return 1;
    }
    return 0;
}

static int q(const char *sql, int n, const char *const *p, char *out, size_t outlen)
{
    PGresult *r = db_query(NULL, NULL, sql, n, p);
    if (!r) {
        fprintf(stderr, "botctl: %s\n", db_error());
        return -1;
    }
    if (out && PQntuples(r) > 0)
        snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

static int cmd_demo_load(void)
{
    /* the company (one tenant, staff in departments), a Pro trader and an influencer; staff
     * enrol in 2FA at their first sign-in (security.mfa_required_kinds) */
    static const struct {
        const char *kind, *tenant, *plan, *email, *name, *password, *role;
    } demo[] = {
        {"company", "BotCriptoFy", "internal", "ceo@botcriptofy.dev", "Diretoria", "demo-company-2026", "ceo"},
        {"company", "BotCriptoFy", "internal", "auditoria@botcriptofy.dev", "Equipe de Auditoria", "demo-company-2026",
         "auditoria.manager"},
        {"company", "BotCriptoFy", "internal", "seguranca@botcriptofy.dev", "Equipe de Segurança", "demo-company-2026",
         "seguranca.manager"},
        {"trader", "Demo Trader", "pro", "demo@botcriptofy.dev", "Demo Trader", "demo-trader-2026", "trader"},
        {"influencer", "Demo Influencer", "influencer", "influencer@botcriptofy.dev", "Demo Influencer",
         "demo-influencer-2026", "influencer"},
    };
    for (size_t i = 0; i < sizeof demo / sizeof demo[0]; i++) {
        char exists[32] = "";
        const char *pe[] = {demo[i].email};
        if (q("SELECT id FROM users WHERE lower(email) = lower($1)", 1, pe, exists, sizeof exists) < 0)
            return 1;
        if (exists[0])
            continue;
        char hash[PASSWORD_HASH_MAX];
        if (password_hash(demo[i].password, hash) != 0) {
            fprintf(stderr, "botctl: out of memory hashing a password\n");
            return 1;
        }
        char tid[32] = "";
        /* the company is one tenant: its staff join it */
        if (!strcmp(demo[i].kind, "company")) {
            const char *pc[] = {demo[i].tenant};
            if (q("SELECT id FROM tenants WHERE kind = 'company' AND name = $1 ORDER BY id LIMIT 1", 1, pc, tid,
                  sizeof tid) < 0)
                return 1;
        }
        if (!tid[0]) {
            const char *pt[] = {demo[i].kind, demo[i].tenant, demo[i].plan};
            if (q("INSERT INTO tenants (kind, name, plan) VALUES ($1, $2, $3) RETURNING id", 3, pt, tid, sizeof tid) < 0)
                return 1;
        }
        const char *pu[] = {tid, demo[i].email, demo[i].name, hash, demo[i].role};
        char uid[32] = "";
        if (q("INSERT INTO users (tenant_id, email, display_name, password_hash, role, email_verified_at) "
              "VALUES ($1::bigint, $2, $3, $4, $5, now()) RETURNING id",
              5, pu, uid, sizeof uid) < 0)
            return 1;
        const char *pr[] = {tid, uid, demo[i].role};
        if (q("INSERT INTO user_roles (tenant_id, user_id, role_key) VALUES ($1::bigint, $2::bigint, $3)", 3, pr, NULL,
              0) < 0)
            return 1;
        /* the demo accounts accepted the current terms and privacy policy when they were made */
        const char *pl[] = {tid, uid};
        if (q("INSERT INTO consents (tenant_id, user_id, document, version, granted, ip) "
              "SELECT $1::bigint, $2::bigint, document, max(version), true, '127.0.0.1' FROM legal_documents "
              "GROUP BY document",
              2, pl, NULL, 0) < 0)
            return 1;
        printf("created %s (%s)\n", demo[i].email, demo[i].tenant);
    }
    return 0;
}

static int cmd_cache_invalidate(int argc, char **argv)
{
    if (argc != 1) {
        usage();
        return 2;
    }
    long n = cache_invalidate_tag(argv[0]);
    if (n < 0) {
        fprintf(stderr, "botctl: redis unavailable\n");
        return 1;
    }
    printf("%ld\n", n);
    return 0;
}

static int cmd_config_check(void)
{
    for (const struct config_default *d = config_defaults; d->key; d++) {
        if (strstr(d->key, "password"))
            printf("%s = %s\n", d->key, config_get(d->key) ? "(set)" : "(unset)");
        else
            printf("%s = %s\n", d->key, config_get(d->key) ? config_get(d->key) : "(unset)");
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *cfg = getenv("BCF_CONFIG");
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "-c")) {
        cfg = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        usage();
        return 2;
    }
    char err[256];
    if (config_load(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "botctl: %s\n", err);
        return 1;
    }
    log_open(NULL, "warn", "botctl");
    if (sodium_init() < 0)
        return 1;
    const char *cmd = argv[i++];
    /* schema changes run as the owning role; everything else as the application's role */
    const char *mdsn = config_get("db.migrate_dsn");
    db_configure(!strcmp(cmd, "migrate") && mdsn && *mdsn ? mdsn : NULL);
    int rc;
    if (!strcmp(cmd, "migrate"))
        rc = cmd_migrate(argc - i, argv + i);
    else if (!strcmp(cmd, "demo-load"))
        rc = cmd_demo_load();
    else if (!strcmp(cmd, "job-enqueue"))
        rc = cmd_job_enqueue(argc - i, argv + i);
    else if (!strcmp(cmd, "cache-invalidate"))
        rc = cmd_cache_invalidate(argc - i, argv + i);
    else if (!strcmp(cmd, "config-check"))
        rc = cmd_config_check();
    else if (!strcmp(cmd, "keys"))
        rc = cmd_keys(argc - i, argv + i);
    else if (!strcmp(cmd, "telegram"))
        rc = cmd_telegram(argc - i, argv + i);
    else if (!strcmp(cmd, "audit"))
        rc = cmd_audit(argc - i, argv + i);
    else if (!strcmp(cmd, "ledger"))
        rc = cmd_ledger(argc - i, argv + i);
    else if (!strcmp(cmd, "commission"))
        rc = cmd_commission(argc - i, argv + i);
    else if (!strcmp(cmd, "candles"))
        rc = cmd_candles(argc - i, argv + i);
    else if (!strcmp(cmd, "exchange"))
        rc = cmd_exchange(argc - i, argv + i);
    else if (!strcmp(cmd, "jobs"))
        rc = cmd_jobs(argc - i, argv + i);
    else {
        usage();
        rc = 2;
    }
    db_close();
    kv_close();
    config_free();
    return rc;
}
