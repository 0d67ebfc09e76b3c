/* keys.c — `botctl keys generate|list|rotate [--resume]`: makes the vault's key file, reports which
 * key seals how many rows, and rotates online (new key appended atomically, rows re-sealed in batches). */
#include "arena.h"
#include "audit.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "vault.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Every column that holds vault envelopes. The AD column name is "<table>.<column>#<owner>"
 * (vault_context) with the owner column named here; the tenant is the row's tenant_id.
 * Identifiers come from this table only, never from input. */
typedef struct keys_sealed_column {
    const char *table;
    const char *column;
    const char *owner;
} keys_sealed_column;

static const keys_sealed_column keys_columns[] = {
    {"credentials", "api_key", "user_id"},
    {"credentials", "api_secret", "user_id"},
    {"credentials", "passphrase", "user_id"},
    {"users", "totp_secret", "id"},
};
#define KEYS_NCOLUMNS (sizeof keys_columns / sizeof keys_columns[0])

#define KEYS_BATCH 100
/* a rotation and a resume never run at once, on any host: one advisory lock guards both */
#define KEYS_LOCK_ID "7406001"
/* workers look at the key file once a second (lib/vault.c); waiting longer than that before
 * re-sealing means no worker is still sealing new rows under the old key */
#define KEYS_SETTLE_US 2200000
/* passes over rows that were locked by a concurrent edit (SKIP LOCKED) before giving up */
#define KEYS_MAX_PASSES 50

static void keys_usage(void)
{
    fprintf(stderr, "usage: botctl keys generate        print a new key file (one key, id 1) on stdout\n"
                    "       botctl keys list            key ids, the current one, rows sealed under each\n"
                    "       botctl keys rotate          add a key and re-seal every row under it\n"
                    "       botctl keys rotate --resume re-seal rows still under older keys\n");
}

static const char *keys_path(char *buf, size_t len)
{
    return config_path("vault.keyfile", buf, len);
}

static int keys_load(const char *path)
{
    char err[512];
    if (vault_load(path, err, sizeof err) != 0) {
        fprintf(stderr, "botctl keys: %s\n", err);
        return -1;
    }
    return 0;
}

static int keys_generate(void)
{
    char line[128];
    if (vault_new_key_line(1, line, sizeof line) != 0) {
        fprintf(stderr, "botctl keys: cannot generate a key\n");
        return 1;
    }
    printf("# BotCriptoFy vault master keys: \"<id> <base64 key>\"; the highest id is the current key.\n"
           "# Keep this file outside the database, mode 0600, and back it up apart from the database.\n"
           "%s\n",
           line);
    sodium_memzero(line, sizeof line);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "botctl keys: cannot write the key file: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

/* ---- counting ---- */

typedef struct keys_count {
    unsigned key;
    long long rows;
} keys_count;

/* Adds the rows of one column, per key id, into counts (at most cap distinct ids). Malformed
 * envelopes count under key 0. Returns the number of distinct ids or -1. */
static int keys_count_column(arena *a, const keys_sealed_column *sc, keys_count *counts, int n, int cap,
                             long long *col_rows, unsigned *col_keys, int col_cap, int *col_n)
{
    char *sql = arena_printf(a,
                             "SELECT split_part(%s, '|', 1), count(*) FROM %s WHERE %s IS NOT NULL "
                             "GROUP BY 1 ORDER BY 1",
                             sc->column, sc->table, sc->column);
    PGresult *r = db_query(a, NULL, sql, 0, NULL);
    if (!r) {
        fprintf(stderr, "botctl keys: cannot count %s.%s: %s\n", sc->table, sc->column, db_error());
        return -1;
    }
    *col_n = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        char probe[32];
        snprintf(probe, sizeof probe, "%s|", PQgetvalue(r, i, 0));
        unsigned key = vault_envelope_key(probe);
        long long rows = atoll(PQgetvalue(r, i, 1));
        int j = 0;
        while (j < n && counts[j].key != key)
            j++;
        if (j == n) {
            if (n == cap)
                continue;
            counts[n].key = key;
            counts[n].rows = 0;
            n++;
        }
        counts[j].rows += rows;
        if (*col_n < col_cap) {
            col_keys[*col_n] = key;
            col_rows[*col_n] = rows;
            (*col_n)++;
        }
    }
    return n;
}

/* The key ids in the file (vault_load has already checked it): the first word of each line. */
static int keys_file_ids(const char *path, unsigned *ids, int cap)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "botctl keys: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    int n = 0;
    char line[256];
    while (n < cap && fgets(line, sizeof line, f)) {
        char probe[32];
        if (sscanf(line, " %20[0-9]", probe) == 1) {
            strcat(probe, "|");
            unsigned id = vault_envelope_key(probe);
            if (id)
                ids[n++] = id;
        }
        /* the rest of a long line (a key) is skipped, never kept */
        while (!strchr(line, '\n') && fgets(line, sizeof line, f))
            ;
    }
    sodium_memzero(line, sizeof line);
    fclose(f);
    return n;
}

static int keys_list(void)
{
    char path[1024];
    keys_path(path, sizeof path);
    if (keys_load(path) != 0)
        return 1;
    unsigned current = vault_current_key();
    unsigned ids[4096];
    int nids = keys_file_ids(path, ids, 4096);
    if (nids < 0)
        return 1;
    arena a;
    arena_init(&a, 8192);
    int rc = 1;
    keys_count counts[64];
    int n = 0;
    struct {
        long long rows[16];
        unsigned keys[16];
        int n;
    } per[KEYS_NCOLUMNS];
    for (size_t c = 0; c < KEYS_NCOLUMNS; c++) {
        n = keys_count_column(&a, &keys_columns[c], counts, n, 64, per[c].rows, per[c].keys, 16, &per[c].n);
        if (n < 0)
            goto out;
    }
    /* every key in the file, the current one marked, with the rows it seals */
    for (int i = 0; i < nids; i++) {
        long long rows = 0;
        for (int j = 0; j < n; j++)
            if (counts[j].key == ids[i])
                rows = counts[j].rows;
        printf("key %u%s: %lld rows\n", ids[i], ids[i] == current ? " (current)" : "", rows);
    }
    int missing = 0;
    for (int j = 0; j < n; j++) {
        int known = 0;
        for (int i = 0; i < nids; i++)
            known |= ids[i] == counts[j].key;
        if (known)
            continue;
        missing = 1;
        if (counts[j].key == 0)
            printf("malformed envelopes: %lld rows\n", counts[j].rows);
        else
            printf("key %u (NOT IN THE KEY FILE): %lld rows\n", counts[j].key, counts[j].rows);
    }
    for (size_t c = 0; c < KEYS_NCOLUMNS; c++)
        for (int j = 0; j < per[c].n; j++)
            printf("  %s.%s: key %u: %lld rows\n", keys_columns[c].table, keys_columns[c].column, per[c].keys[j],
                   per[c].rows[j]);
    if (missing)
        fprintf(stderr, "botctl keys: some rows cannot be opened with this key file\n");
    rc = missing ? 1 : 0;
out:
    arena_destroy(&a);
    return rc;
}

/* ---- rotation ---- */

/* Appends a new key to the file: a temporary file in the same directory (mode 0600), fsync'd,
 * renamed over the old one, then the directory fsync'd, so a crash leaves the old or the new
 * file, never half of one. */
static int keys_append(const char *link_path, unsigned new_id)
{
    int rc = -1, in = -1, outfd = -1;
    unsigned char *old = NULL;
    char tmp[PATH_MAX + 32], line[128], path[PATH_MAX];
    tmp[0] = '\0';
    line[0] = '\0';
    struct stat st;
    /* a symlinked key file (secret mounts) is rotated where it really lives */
    if (!realpath(link_path, path)) {
        fprintf(stderr, "botctl keys: cannot resolve %s: %s\n", link_path, strerror(errno));
        return -1;
    }
    in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0 || fstat(in, &st) != 0) {
        fprintf(stderr, "botctl keys: cannot read %s: %s\n", path, strerror(errno));
        goto out;
    }
    old = sodium_malloc((size_t)st.st_size + 1);
    if (!old) {
        fprintf(stderr, "botctl keys: out of memory\n");
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(in, old + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "botctl keys: cannot read %s\n", path);
            goto out;
        }
        got += (size_t)r;
    }
    if (vault_new_key_line(new_id, line, sizeof line) != 0) {
        fprintf(stderr, "botctl keys: cannot generate a key\n");
        goto out;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    outfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (outfd < 0) {
        fprintf(stderr, "botctl keys: cannot create %s: %s\n", tmp, strerror(errno));
        tmp[0] = '\0';
        goto out;
    }
    /* the new file keeps the old owner when botctl runs as root for an app-owned file */
    if (fchmod(outfd, 0600) != 0 || (geteuid() == 0 && fchown(outfd, st.st_uid, st.st_gid) != 0)) {
        fprintf(stderr, "botctl keys: cannot set the mode of %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    char stamp[64];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    FILE *f = fdopen(outfd, "w");
    if (!f) {
        fprintf(stderr, "botctl keys: cannot write %s\n", tmp);
        goto out;
    }
    outfd = -1;
    fwrite(old, 1, got, f);
    if (got && old[got - 1] != '\n')
        fputc('\n', f);
    fprintf(f, "# key %u added by botctl keys rotate at %s\n%s\n", new_id, stamp, line);
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "botctl keys: cannot write %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "botctl keys: cannot replace %s: %s\n", path, strerror(errno));
        goto out;
    }
    tmp[0] = '\0';
    char dirbuf[PATH_MAX];
    snprintf(dirbuf, sizeof dirbuf, "%s", path);
    int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    sodium_memzero(line, sizeof line);
    if (tmp[0])
        unlink(tmp);
    if (outfd >= 0)
        close(outfd);
    if (in >= 0)
        close(in);
    if (old)
        sodium_free(old);
    return rc;
}

typedef struct keys_batch {
    arena *a;
    const keys_sealed_column *sc;
    const char *current;     /* current key id as text */
    long long after_id;      /* keyset position within this pass: rows after this id */
    long long last_id;       /* the last id the batch saw (the next batch's after_id) */
    int selected, resealed, failed;
} keys_batch;

/* One transaction: lock up to KEYS_BATCH rows still under older keys (skipping rows a concurrent
 * edit holds, which a later pass takes), open each with its own tenant and column, seal again. */
static int keys_batch_tx(void *arg)
{
    keys_batch *b = arg;
    /* db_tx may run this again after a serialization failure: only outputs are reset */
    b->selected = b->resealed = b->failed = 0;
    b->last_id = b->after_id;
    const keys_sealed_column *sc = b->sc;
    char after[24];
    snprintf(after, sizeof after, "%lld", b->after_id);
    const char *p[] = {b->current, after};
    char *sql = arena_printf(b->a,
                             "SELECT id, tenant_id, %s, %s FROM %s WHERE %s IS NOT NULL AND split_part(%s, '|', 1) <> $1 "
                             "AND id > $2::bigint ORDER BY id LIMIT %d FOR UPDATE SKIP LOCKED",
                             sc->column, sc->owner, sc->table, sc->column, sc->column, KEYS_BATCH);
    char *upd = arena_printf(b->a, "UPDATE %s SET %s = $2 WHERE id = $1::bigint", sc->table, sc->column);
    char *name = arena_printf(b->a, "%s.%s", sc->table, sc->column);
    PGresult *r = db_query(b->a, NULL, sql, 2, p);
    if (!r)
        return -1;
    b->selected = PQntuples(r);
    for (int i = 0; i < b->selected; i++) {
        const char *id = PQgetvalue(r, i, 0);
        long long tenant = atoll(PQgetvalue(r, i, 1));
        char *plain = NULL;
        size_t n = 0;
        b->last_id = atoll(id);
        const char *bound = vault_context(b->a, name, atoll(PQgetvalue(r, i, 3)));
        if (!bound || vault_open(b->a, bound, tenant, PQgetvalue(r, i, 2), &plain, &n) != 0) {
            fprintf(stderr, "botctl keys: %s row %s cannot be opened (unknown key or damaged); left as is\n", name, id);
            b->failed++;
            continue;
        }
        char *sealed = vault_seal(b->a, bound, tenant, plain, n);
        if (!sealed) {
            fprintf(stderr, "botctl keys: cannot seal %s row %s\n", name, id);
            return -1;
        }
        const char *pu[] = {id, sealed};
        if (db_exec(b->a, NULL, upd, 2, pu) != 1)
            return -1;
        b->resealed++;
    }
    return 0;
}

/* Rows in every sealed column not under the current key. -1 when the database cannot say. */
static long long keys_remaining(arena *a, const char *current)
{
    long long total = 0;
    for (size_t c = 0; c < KEYS_NCOLUMNS; c++) {
        const keys_sealed_column *sc = &keys_columns[c];
        const char *p[] = {current};
        char *sql = arena_printf(a, "SELECT count(*) FROM %s WHERE %s IS NOT NULL AND split_part(%s, '|', 1) <> $1",
                                 sc->table, sc->column, sc->column);
        PGresult *r = db_query(a, NULL, sql, 1, p);
        if (!r)
            return -1;
        total += atoll(PQgetvalue(r, 0, 0));
    }
    return total;
}

/* Re-seals every row not under the current key, counting them in *done. Returns 0, or -1 when
 * the database failed; *left is what still is under older keys afterwards (locked for the whole
 * time, or unopenable). */
static int keys_reseal_all(long long *done, long long *left)
{
    char current[16];
    snprintf(current, sizeof current, "%u", vault_current_key());
    *done = 0;
    *left = -1;
    for (int pass = 0; pass < KEYS_MAX_PASSES; pass++) {
        int failed = 0;
        for (size_t c = 0; c < KEYS_NCOLUMNS; c++) {
            keys_batch b = {NULL, &keys_columns[c], current, 0, 0, 0, 0, 0};
            arena a;
            arena_init(&a, 16384);
            b.a = &a;
            do {
                /* one arena per batch: the plaintexts opened in it are wiped at each reset */
                arena_reset(&a);
                if (db_tx(keys_batch_tx, &b) != 0) {
                    fprintf(stderr, "botctl keys: re-sealing %s.%s failed: %s\n", keys_columns[c].table,
                            keys_columns[c].column, db_error());
                    arena_destroy(&a);
                    return -1;
                }
                *done += b.resealed;
                failed += b.failed;
                b.after_id = b.last_id;
            } while (b.selected == KEYS_BATCH);
            arena_destroy(&a);
        }
        arena a;
        arena_init(&a, 4096);
        *left = keys_remaining(&a, current);
        arena_destroy(&a);
        if (*left < 0) {
            fprintf(stderr, "botctl keys: cannot count the rows left: %s\n", db_error());
            return -1;
        }
        /* what is left is either unopenable (reported above) or was locked: try those again */
        if (*left <= failed)
            break;
        usleep(200000);
    }
    return 0;
}

/* The highest key id below current that still seals rows, for the audit summary (0 = none). */
static unsigned keys_previous_in_use(unsigned current)
{
    unsigned best = 0;
    arena a;
    arena_init(&a, 4096);
    keys_count counts[64];
    int n = 0;
    long long rows[16];
    unsigned ks[16];
    int cn;
    for (size_t c = 0; c < KEYS_NCOLUMNS && n >= 0; c++)
        n = keys_count_column(&a, &keys_columns[c], counts, n, 64, rows, ks, 16, &cn);
    for (int j = 0; j < n; j++)
        if (counts[j].key && counts[j].key < current && counts[j].key > best)
            best = counts[j].key;
    arena_destroy(&a);
    return best;
}

static int keys_rotate(int resume)
{
    char path[1024];
    keys_path(path, sizeof path);
    if (keys_load(path) != 0)
        return 1;
    int rc = 1, locked = 0;
    const char *pl[] = {KEYS_LOCK_ID};
    PGresult *r = db_query(NULL, NULL, "SELECT pg_try_advisory_lock($1::bigint)", 1, pl);
    if (!r) {
        fprintf(stderr, "botctl keys: database unreachable: %s\n", db_error());
        return 1;
    }
    locked = !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (!locked) {
        fprintf(stderr, "botctl keys: another rotation is running\n");
        return 1;
    }
    /* re-read under the lock: a rotation that finished just before us changed the file */
    if (keys_load(path) != 0)
        goto out;
    unsigned from = vault_current_key(), to = from;
    if (!resume) {
        to = from + 1;
        if (keys_append(path, to) != 0 || keys_load(path) != 0)
            goto out;
        if (vault_current_key() != to) {
            fprintf(stderr, "botctl keys: the new key %u is not current after reloading %s\n", to, path);
            goto out;
        }
        printf("added key %u (current)\n", to);
        fflush(stdout);
        usleep(KEYS_SETTLE_US);
    } else {
        from = keys_previous_in_use(to);
    }
    long long left = 0, done = 0;
    int sealed = keys_reseal_all(&done, &left);
    /* a new key is a change even when no row moved; an interrupted run still records what moved */
    if (done > 0 || !resume) {
        arena a;
        arena_init(&a, 4096);
        ctx c = {&a, 0, 0, "", ""};
        json_t *after = json_pack("{s:I, s:I, s:I, s:b}", "from_key", (json_int_t)from, "to_key", (json_int_t)to,
                                  "rows", (json_int_t)done, "resume", resume);
        char oid[16];
        snprintf(oid, sizeof oid, "%u", to);
        int arc = after ? audit_record(&c, "vault.rotate", "vault_key", oid, NULL, after) : -1;
        json_decref(after);
        arena_destroy(&a);
        if (arc != 0) {
            fprintf(stderr, "botctl keys: the audit record could not be written: %s\n", db_error());
            goto out;
        }
    }
    if (sealed != 0)
        goto out;
    printf("re-sealed %lld rows under key %u; %lld rows left under older keys\n", done, to, left);
    if (left > 0) {
        fprintf(stderr, "botctl keys: %lld rows are still under older keys; run botctl keys rotate --resume\n", left);
        goto out;
    }
    rc = 0;
out:
    r = db_query(NULL, NULL, "SELECT pg_advisory_unlock($1::bigint)", 1, pl);
    if (r)
        PQclear(r);
    return rc;
}

int cmd_keys(int argc, char **argv)
{
    if (argc == 1 && !strcmp(argv[0], "generate"))
        return keys_generate();
    if (argc == 1 && !strcmp(argv[0], "list"))
        return keys_list();
    if (argc == 1 && !strcmp(argv[0], "rotate"))
        return keys_rotate(0);
    if (argc == 2 && !strcmp(argv[0], "rotate") && !strcmp(argv[1], "--resume"))
        return keys_rotate(1);
    keys_usage();
    return 2;
}
