/* migrate.h — schema migrations: sql/NNNN_name.sql files applied in order, each in its own
 * transaction, recorded with a SHA-256 checksum; a changed applied file stops everything. */
#ifndef BCF_MIGRATE_H
#define BCF_MIGRATE_H
#include <stddef.h>

typedef struct migration_file {
    char name[256];      /* "0001_core.sql" */
    int number;
    char checksum[65];   /* hex SHA-256 of the content */
} migration_file;

/* Is name a migration file name (4+ digits, '_', [a-z0-9_]+, ".sql")? Returns its number or -1. */
int migrate_parse_name(const char *name);
/* Lists dir's migration files sorted by number; duplicates numbers are an error (-1). */
int migrate_list(const char *dir, migration_file **out, size_t *n, char *err, size_t errlen);
/* Applies pending files; prints one line per file to stdout. Returns 0, or -1 with err set. */
int migrate_apply(const char *dir, int dry_run, char *err, size_t errlen);
int migrate_checksum_file(const char *path, char out[65]);
#endif
