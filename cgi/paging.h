/* paging.h — the staff lists' keyset paging (newest first by id: ?before=<id> for older rows,
 * ?after=<id> for newer ones) and their filters as numbered WHERE fragments and link queries. */
#ifndef BCF_PAGING_H
#define BCF_PAGING_H
#include "request.h"
#include <jansson.h>
#include <libpq-fe.h>

#define PAGING_MAX_PARAMS 16

/* A WHERE clause built from fixed fragments (never from user text) and its parameters. */
typedef struct sql_where {
    char sql[1024];
    size_t len;
    const char *params[PAGING_MAX_PARAMS];
    int n;
    int overflow; /* a fragment or parameter did not fit: do not run the query */
} sql_where;

/* When value is not NULL, appends " AND <fragment>" with every "$?" in it written as the number of
 * value's parameter (so one value may be compared twice). */
void where_add(sql_where *w, const char *value, const char *fragment);
/* Appends a parameter that no fragment numbered (LIMIT, a format); returns its number, or -1. */
int where_param(sql_where *w, const char *value);

/* The cursor of one page: at most one of before and after (NULL = the newest rows). */
typedef struct keyset {
    const char *before, *after;
} keyset;

/* A query parameter, NULL when absent or empty (an empty form field means "no filter"). */
const char *query_value(request *req, const char *name);
/* Reads ?before and ?after: 0, or -1 when one is not an id or both are given. */
int keyset_read(request *req, keyset *k);
/* Adds the cursor's condition on id_col ("t.id") and returns the ORDER BY direction to use. */
const char *keyset_where(const keyset *k, sql_where *w, const char *id_col);
/* Rows come back as fetched with LIMIT page + 1: how many to show, and the result row of the i-th
 * shown one (newest first whatever the fetch order). */
int keyset_shown(int fetched, int page);
int keyset_row(const keyset *k, int i, int shown);
/* Sets next_before/next_url (older rows) and prev_after/prev_url (newer rows) in d, as links to
 * path?<query>&before=... ; idcol is the id's column in r. */
void keyset_links(request *req, const keyset *k, PGresult *r, int fetched, int page, int idcol, const char *path,
                  const char *query, json_t *d);

/* The filters named[i] = values[i] (NULL = unset) as a JSON object of strings ("" when unset). */
json_t *filters_json(const char *const *names, const char *const *values, size_t n);
#endif
