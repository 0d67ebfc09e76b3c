/* migrate.c — applies sql/ files in order under an advisory lock so two botctl runs never
 * race; schema_migrations records name and checksum of every applied file. */
#include "migrate.h"
#include "db.h"
#include <ctype.h>
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int migrate_parse_name(const char *name)
{
    size_t n = strlen(name), i = 0;
    if (n < 10 || n >= 256 || strcmp(name + n - 4, ".sql") != 0)
        return -1;
    int num = 0;
    while (i < n && isdigit((unsigned char)name[i])) {
        if (num > 9999999)
            return -1;
        num = num * 10 + (name[i] - '0');
        i++;
    }
    if (i < 4 || name[i] != '_')
        return -1;
    size_t start = ++i;
    for (; i < n - 4; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '_'))
            return -1;
    return i > start ? num : -1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
    if (s && fread(s, 1, (size_t)sz, f) != (size_t)sz) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) {
        s[sz] = '\0';
        *len = (size_t)sz;
    }
    return s;
}

int migrate_checksum_file(const char *path, char out[65])
{
    size_t len;
    char *s = read_file(path, &len);
    if (!s)
        return -1;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (unsigned char *)s, len);
    sodium_bin2hex(out, 65, h, sizeof h);
    free(s);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return ((const migration_file *)a)->number - ((const migration_file *)b)->number;
}

int migrate_list(const char *dir, migration_file **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open %s", dir);
        return -1;
    }
    struct dirent *e;
    size_t cap = 0;
    int rc = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name + (strlen(e->d_name) > 4 ? strlen(e->d_name) - 4 : 0), ".sql"))
            continue;
        int num = migrate_parse_name(e->d_name);
        if (num < 0) {
            snprintf(err, errlen, "%s: not a migration name (NNNN_name.sql)", e->d_name);
            rc = -1;
            break;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            migration_file *m = realloc(*out, cap * sizeof(**out));
            if (!m) {
                rc = -1;
                break;
            }
            *out = m;
        }
        migration_file *m = &(*out)[(*n)++];
        snprintf(m->name, sizeof m->name, "%s", e->d_name);
        m->number = num;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (migrate_checksum_file(path, m->checksum) < 0) {
            snprintf(err, errlen, "cannot read %s", path);
            rc = -1;
            break;
        }
    }
    closedir(d);
    if (rc == 0 && *n) {
        qsort(*out, *n, sizeof(**out), cmp);
        for (size_t i = 1; i < *n; i++)
            if ((*out)[i].number == (*out)[i - 1].number) {
                snprintf(err, errlen, "two migrations numbered %04d: %s and %s", (*out)[i].number,
                         (*out)[i - 1].name, (*out)[i].name);
                rc = -1;
            }
    }
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int run_sql(const char *sql, char *err, size_t errlen)
{
    PGconn *c = db_conn();
    if (!c) {
        snprintf(err, errlen, "database unavailable: %s", db_error());
        return -1;
    }
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

int migrate_apply(const char *dir, int dry_run, char *err, size_t errlen)
{
    migration_file *files;
    size_t n;
    if (migrate_list(dir, &files, &n, err, errlen) < 0)
        return -1;
    int rc = -1;
    char e2[512];
    if (run_sql("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                err, errlen) < 0)
        goto out;
    /* one migrator at a time, across hosts */
    if (run_sql("SELECT pg_advisory_lock(7244815)", err, errlen) < 0)
        goto out;
    PGresult *applied = db_query(NULL, NULL, "SELECT name, checksum FROM schema_migrations", 0, NULL);
    if (!applied) {
        snprintf(err, errlen, "%s", db_error());
        goto unlock;
    }
    /* every applied file must still exist unchanged */
    for (int i = 0; i < PQntuples(applied); i++) {
        const char *name = PQgetvalue(applied, i, 0), *sum = PQgetvalue(applied, i, 1);
        int seen = 0;
        for (size_t k = 0; k < n; k++) {
            if (strcmp(files[k].name, name) != 0)
                continue;
            seen = 1;
            if (strcmp(files[k].checksum, sum) != 0) {
                snprintf(err, errlen, "refusing to migrate: %s changed after it was applied (checksum %.12s, now %.12s)",
                         name, sum, files[k].checksum);
                PQclear(applied);
                goto unlock;
            }
        }
        if (!seen) {
            snprintf(err, errlen, "refusing to migrate: applied migration %s is missing from %s", name, dir);
            PQclear(applied);
            goto unlock;
        }
    }
    for (size_t k = 0; k < n; k++) {
        int done = 0;
        for (int i = 0; i < PQntuples(applied); i++)
            if (strcmp(PQgetvalue(applied, i, 0), files[k].name) == 0)
                done = 1;
        if (done)
            continue;
        if (dry_run) {
            printf("pending %s\n", files[k].name);
            continue;
        }
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, files[k].name);
        size_t len;
        char *sql = read_file(path, &len);
        if (!sql) {
            snprintf(err, errlen, "cannot read %s", path);
            PQclear(applied);
            goto unlock;
        }
        int ok = run_sql("BEGIN", e2, sizeof e2) == 0 && run_sql(sql, e2, sizeof e2) == 0;
        free(sql);
        if (ok) {
            const char *p[] = {files[k].name, files[k].checksum};
            ok = db_exec(NULL, NULL, "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", 2, p) == 1 &&
                 run_sql("COMMIT", e2, sizeof e2) == 0;
        }
        if (!ok) {
            char e3[64];
            run_sql("ROLLBACK", e3, sizeof e3);
            snprintf(err, errlen, "%s failed, nothing of it applied: %s", files[k].name, e2);
            PQclear(applied);
            goto unlock;
        }
        printf("applied %s\n", files[k].name);
    }
    PQclear(applied);
    rc = 0;
unlock:
    run_sql("SELECT pg_advisory_unlock(7244815)", e2, sizeof e2);
out:
    free(files);
    return rc;
}
