/* rbac.c — permissions as the union of a user's roles, cached per user in Redis (and the near
 * cache) as "staff|perm,perm,..." so the check on every request costs no round trip. */
#include "rbac.h"
#include "audit.h"
#include "cache.h"
#include "db.h"
#include "log.h"
#include "tenant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "1|audit.read,security.read|ceo" : staff flag, permissions, roles */
static char *load(arena *a, long long user_id)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", user_id);
    size_t len;
    char *v = cache_get(a, "rbac", "user", id, &len);
    if (v)
        return v;
    const char *p[] = {id};
    PGresult *r = db_query(a, "rbac_load",
                           "SELECT coalesce(bool_or(r.staff), false)::int, "
                           "coalesce(string_agg(DISTINCT rp.permission_key, ','), ''), "
                           "coalesce(string_agg(DISTINCT r.key, ','), '') "
                           "FROM user_roles ur JOIN roles r ON r.key = ur.role_key "
                           "JOIN users u ON u.id = ur.user_id AND u.tenant_id = ur.tenant_id AND u.status = 'active' "
                           "LEFT JOIN role_permissions rp ON rp.role_key = r.key "
                           "WHERE ur.user_id = $1::bigint",
                           1, p);
    if (!r || PQntuples(r) != 1)
        return NULL;
    v = arena_printf(a, "%s|%s|%s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
    if (!v)
        return NULL;
    char tag[40];
    snprintf(tag, sizeof tag, "user:%s", id);
    const char *tags[] = {tag};
    cache_set("rbac", "user", id, v, strlen(v), tags, 1);
    return v;
}

/* Splits field idx (0 staff, 1 perms, 2 roles) of the cached value into a NULL-terminated list. */
static const char *const *field_list(arena *a, const char *v, int idx)
{
    const char *f = v;
    for (int i = 0; i < idx && f; i++) {
        f = strchr(f, '|');
        if (f)
            f++;
    }
    if (!f)
        return NULL;
    const char *end = strchr(f, '|');
    size_t n = end ? (size_t)(end - f) : strlen(f);
    char *copy = arena_strndup(a, f, n);
    if (!copy)
        return NULL;
    size_t count = 1;
    for (size_t i = 0; i < n; i++)
        count += copy[i] == ',';
    const char **out = arena_calloc(a, count + 1, sizeof(*out));
    if (!out)
        return NULL;
    size_t k = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        out[k++] = t;
    out[k] = NULL;
    return out;
}

const char *const *rbac_permissions(arena *a, long long user_id)
{
    char *v = load(a, user_id);
    return v ? field_list(a, v, 1) : NULL;
}

const char *const *rbac_roles(arena *a, long long user_id)
{
    char *v = load(a, user_id);
    return v ? field_list(a, v, 2) : NULL;
}

int rbac_has(arena *a, long long user_id, const char *permission)
{
    const char *const *perms = rbac_permissions(a, user_id);
    if (!perms)
        return -1;
    for (; *perms; perms++)
        if (strcmp(*perms, permission) == 0)
            return 1;
    return 0;
}

int rbac_is_staff(arena *a, long long user_id)
{
    char *v = load(a, user_id);
    return v ? v[0] == '1' : -1;
}

void rbac_forget(long long user_id)
{
    char tag[40];
    snprintf(tag, sizeof tag, "user:%lld", user_id);
    if (cache_invalidate_tag(tag) < 0)
        log_warn("rbac: permissions of user %lld stay cached until their TTL (redis unavailable)", user_id);
}

struct change {
    const ctx *c;
    long long user_id;
    const char *role;
    int grant;
    int rc;
};

static int change_tx(void *arg)
{
    struct change *ch = arg;
    char uid[24], by[24];
    snprintf(uid, sizeof uid, "%lld", ch->user_id);
    snprintf(by, sizeof by, "%lld", ch->c->user_id);
    /* only staff roles, only employees of the acting company tenant */
    const char *pc[] = {uid, ch->role};
    PGresult *r = tq_query(ch->c, "rbac_check",
                           "SELECT 1 FROM users u JOIN tenants t ON t.id = u.tenant_id AND t.kind = 'company', roles r "
                           "WHERE u.id = $2::bigint AND u.tenant_id = $1 AND u.status = 'active' "
                           "AND r.key = $3 AND r.staff",
                           2, pc);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        ch->rc = -2;
        return -2;
    }
    /* nobody changes their own roles, and nobody hands out a permission they do not hold:
     * a settings manager cannot make anyone (least of all themselves) CEO */
    const char *pg[] = {by, ch->role};
    r = tq_query(ch->c, "rbac_grantable",
                 "SELECT EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_key = $3 AND rp.permission_key "
                 "NOT IN (SELECT rp2.permission_key FROM user_roles ur JOIN role_permissions rp2 "
                 "ON rp2.role_key = ur.role_key WHERE ur.tenant_id = $1 AND ur.user_id = $2::bigint))::int",
                 2, pg);
    if (!r)
        return -1;
    if (ch->user_id == ch->c->user_id || PQgetvalue(r, 0, 0)[0] == '1') {
        ch->rc = -3;
        return -3;
    }
    if (!ch->grant && !strcmp(ch->role, "ceo")) {
        /* the company keeps one CEO: the holders are locked, so two revocations cannot race */
        r = tq_query(ch->c, "rbac_ceo_lock",
                     "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id AND ur.role_key = 'ceo' "
                     "WHERE ur.tenant_id = $1 AND u.tenant_id = $1 AND u.status = 'active' FOR UPDATE OF u",
                     0, NULL);
        if (!r)
            return -1;
        if (PQntuples(r) <= 1) {
            ch->rc = -4;
            return -4;
        }
    }
    long n;
    if (ch->grant) {
        const char *p[] = {uid, ch->role, by};
        n = tq_exec(ch->c, "rbac_grant",
                    "INSERT INTO user_roles (tenant_id, user_id, role_key, granted_by) "
                    "SELECT u.tenant_id, u.id, $3, $4::bigint FROM users u "
                    "WHERE u.id = $2::bigint AND u.tenant_id = $1 ON CONFLICT DO NOTHING",
                    3, p);
    } else {
        const char *p[] = {uid, ch->role};
        n = tq_exec(ch->c, "rbac_revoke",
                    "DELETE FROM user_roles WHERE tenant_id = $1 AND user_id = $2::bigint AND role_key = $3", 2, p);
    }
    if (n < 0)
        return -1;
    if (n == 0)
        return 0; /* nothing changed: no audit row */
    json_t *after = json_pack("{s:s, s:s}", "role", ch->role, "change", ch->grant ? "grant" : "revoke");
    int rc = audit_record(ch->c, ch->grant ? "admin.role_grant" : "admin.role_revoke", "user", uid, NULL, after);
    json_decref(after);
    return rc;
}

static int change(const ctx *c, long long user_id, const char *role_key, int grant)
{
    struct change ch = {c, user_id, role_key, grant, 0};
    int rc = db_tx(change_tx, &ch);
    if (ch.rc < 0)
        return ch.rc;
    if (rc < 0)
        return -1;
    rbac_forget(user_id);
    return 0;
}

int rbac_grant(const ctx *c, long long user_id, const char *role_key)
{
    return change(c, user_id, role_key, 1);
}

int rbac_revoke(const ctx *c, long long user_id, const char *role_key)
{
    return change(c, user_id, role_key, 0);
}
