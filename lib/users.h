/* users.h — finding an account by its e-mail address, the one lookup that happens before anyone
 * is signed in (login, registration, password reset) and so before a tenant is known. */
#ifndef BCF_USERS_H
#define BCF_USERS_H
#include "arena.h"

typedef struct user_row {
    long long id, tenant_id;
    const char *email, *name, *lang, *status, *password_hash; /* arena strings */
    int verified; /* e-mail confirmed */
    int mfa;      /* TOTP enabled */
} user_row;

/* Case-insensitive (PostgreSQL lower()). 1 found, 0 none, -1 database error. */
int users_by_email(arena *a, const char *email, user_row *u);
#endif
