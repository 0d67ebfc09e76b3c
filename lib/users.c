/* users.c — the account lookup by e-mail: addresses are unique across tenants (users_email_key
 * on lower(email)), which is what lets sign-in find the tenant from the address. */
#include "users.h"
#include "db.h"
#include <stdlib.h>
#include <string.h>

int users_by_email(arena *a, const char *email, user_row *u)
{
    const char *p[] = {email};
    PGresult *r = db_query(a, "users_by_email",
                           "SELECT id, tenant_id, email, display_name, lang, status, password_hash, "
                           "(email_verified_at IS NOT NULL)::int, (totp_enabled_at IS NOT NULL)::int "
                           "FROM users WHERE lower(email) = lower($1)",
                           1, p);
    if (!r)
        return -1;
    memset(u, 0, sizeof *u);
    if (PQntuples(r) != 1)
        return 0;
    u->id = atoll(PQgetvalue(r, 0, 0));
    u->tenant_id = atoll(PQgetvalue(r, 0, 1));
    u->email = PQgetvalue(r, 0, 2);
    u->name = PQgetvalue(r, 0, 3);
    u->lang = PQgetvalue(r, 0, 4);
    u->status = PQgetvalue(r, 0, 5);
    u->password_hash = PQgetvalue(r, 0, 6);
    u->verified = atoi(PQgetvalue(r, 0, 7));
    u->mfa = atoi(PQgetvalue(r, 0, 8));
    return 1;
}
