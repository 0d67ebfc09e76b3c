/* jobs.c — `botctl job-enqueue` and `botctl jobs list|cancel|retry`: the operator's hands on the
 * job queue, through the same lib/queue calls as the web app (cancel and retry are audited). */
#include "commands.h"
#include "db.h"
#include "queue.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void jobs_usage(void)
{
    fprintf(stderr, "usage: botctl job-enqueue TYPE [JSON] [--tenant ID] [--user ID] [--max-attempts N]\n"
                    "                          [--dedupe KEY] [--delay-ms N] [--count N]\n"
                    "       botctl jobs list [--status S] [--tenant ID] [--limit N]\n"
                    "       botctl jobs cancel|retry ID\n");
}

/* A whole positive decimal number (at most 18 digits) into *out. */
static int jobs_num(const char *s, long long *out)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 18 || strspn(s, "0123456789") != n)
        return -1;
    *out = atoll(s);
    return 0;
}

static int jobs_report(long long rc, const char *what)
{
    if (rc == QUEUE_EQUOTA || rc == QUEUE_EINVAL)
        fprintf(stderr, "botctl: %s refused: %s\n", what, queue_error());
    else if (rc == QUEUE_ENOTFOUND)
        fprintf(stderr, "botctl: no such job\n");
    else if (rc == QUEUE_ESTATE)
        fprintf(stderr, "botctl: %s: not possible in the job's current status\n", what);
    else
        fprintf(stderr, "botctl: %s failed: %s\n", what, db_error());
    return 1;
}

int cmd_job_enqueue(int argc, char **argv)
{
    const char *type = NULL, *params = NULL;
    long long tenant = 0, user = 0, max_attempts = 0, delay = 0, count = 1;
    queue_opts o = {0};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        long long *num = !strcmp(a, "--tenant") ? &tenant : !strcmp(a, "--user") ? &user
                         : !strcmp(a, "--max-attempts") ? &max_attempts : !strcmp(a, "--delay-ms") ? &delay
                         : !strcmp(a, "--count") ? &count : NULL;
        if (num) {
            if (i + 1 >= argc || jobs_num(argv[++i], num) < 0) {
                jobs_usage();
                return 2;
            }
        } else if (!strcmp(a, "--dedupe") && i + 1 < argc) {
            o.dedupe_key = argv[++i];
        } else if (!type && a[0] != '-') {
            type = a;
        } else if (!params && a[0] != '-') {
            params = a;
        } else {
            jobs_usage();
            return 2;
        }
    }
    if (!type || count < 1 || count > 1000000 || max_attempts > 100) {
        jobs_usage();
        return 2;
    }
    o.max_attempts = (int)max_attempts;
    o.delay_ms = (long)delay;
    ctx c = {NULL, user, tenant, "", ""};
    if (count == 1) {
        long long id = queue_enqueue(&c, type, params, &o);
        if (id < 0)
            return jobs_report(id, "enqueue");
        /* queue_send said so on its own when Redis was down; the job waits for the sweeper */
        printf("%lld\n", id);
        return 0;
    }
    if (o.dedupe_key || delay) {
        fprintf(stderr, "botctl: --count cannot be combined with --dedupe or --delay-ms\n");
        return 2;
    }
    /* many at once: batched inserts of 1,000 (bench and reliability runs) */
    queue_item items[1000];
    long long ids[1000];
    for (long long done = 0; done < count;) {
        int n = count - done > 1000 ? 1000 : (int)(count - done);
        for (int i = 0; i < n; i++)
            items[i] = (queue_item){tenant, user, type, params, NULL, (int)max_attempts};
        int rc = queue_enqueue_batch(items, n, ids);
        if (rc < 0)
            return jobs_report(rc, "enqueue");
        for (int i = 0; i < n; i++)
            printf("%lld\n", ids[i]);
        done += n;
    }
    return 0;
}

static int jobs_list(int argc, char **argv)
{
    const char *status = NULL, *tenant = NULL, *limit = "50";
    long long num;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--status") && i + 1 < argc)
            status = argv[++i];
        else if (!strcmp(argv[i], "--tenant") && i + 1 < argc && jobs_num(argv[i + 1], &num) == 0)
            tenant = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc && jobs_num(argv[i + 1], &num) == 0)
            limit = argv[++i];
        else {
            jobs_usage();
            return 2;
        }
    }
    const char *p[] = {status, tenant, limit};
    /* the operator sees every tenant's jobs */
    PGresult *r = db_query(NULL, NULL,
                           "SELECT id, coalesce(tenant_id::text, '-'), type, status, attempts || '/' || max_attempts, "
                           "round(progress * 100)::int || '%', to_char(created_at AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD HH24:MI:SS'), coalesce(error, '') FROM jobs "
                           "WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR tenant_id = $2::bigint) "
                           "ORDER BY id DESC LIMIT $3::int",
                           3, p);
    if (!r) {
        fprintf(stderr, "botctl jobs: %s\n", db_error());
        return 1;
    }
    printf("%-10s %-7s %-14s %-10s %-8s %-5s %-19s %s\n", "id", "tenant", "type", "status", "attempts", "prog",
           "created (UTC)", "error");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-10s %-7s %-14s %-10s %-8s %-5s %-19s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
               PQgetvalue(r, i, 6), PQgetvalue(r, i, 7));
    PQclear(r);
    return 0;
}

/* cancel and retry act in the job's own tenant (0 for system jobs), as the system (no user). */
static int jobs_change(const char *verb, const char *id_text)
{
    long long id;
    if (jobs_num(id_text, &id) < 0) {
        jobs_usage();
        return 2;
    }
    const char *p[] = {id_text};
    PGresult *r = db_query(NULL, NULL, "SELECT coalesce(tenant_id, 0) FROM jobs WHERE id = $1::bigint", 1, p);
    if (!r)
        return jobs_report(QUEUE_ERR, verb);
    long long tenant = PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    if (tenant < 0)
        return jobs_report(QUEUE_ENOTFOUND, verb);
    ctx c = {NULL, 0, tenant, "", ""};
    int rc = !strcmp(verb, "cancel") ? queue_cancel(&c, id) : queue_retry(&c, id);
    if (rc < 0)
        return jobs_report(rc, verb);
    if (!strcmp(verb, "cancel"))
        printf(rc == 1 ? "job %lld cancelled\n" : "job %lld is running: cancel requested\n", id);
    else
        printf("job %lld queued again\n", id);
    return 0;
}

int cmd_jobs(int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "list"))
        return jobs_list(argc - 1, argv + 1);
    if (argc == 2 && (!strcmp(argv[0], "cancel") || !strcmp(argv[0], "retry")))
        return jobs_change(argv[0], argv[1]);
    jobs_usage();
    return 2;
}
