/* admin.c — Configurações: the permission matrix (roles × permissions) and the company's
 * employees with their roles; granting and revoking staff roles (step-up, audited). */
#include "app.h"
#include "db.h"
#include "modules.h"
#include "rbac.h"
#include "render.h"
#include "tenant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int matrix(request *req, response *res)
{
    /* cross-tenant: roles and permissions are the platform's catalogue, not tenant data */
    PGresult *perms = db_query(req->a, "admin_perms", "SELECT key, module, description FROM permissions ORDER BY module, key",
                               0, NULL);
    /* cross-tenant: the same catalogue */
    PGresult *roles = db_query(req->a, "admin_roles",
                               "SELECT r.key, CASE WHEN $1 = 'en' THEN r.name_en ELSE r.name_pt END, r.staff, "
                               "coalesce(string_agg(rp.permission_key, ',' ORDER BY rp.permission_key), '') "
                               "FROM roles r LEFT JOIN departments d ON d.key = r.department_key "
                               "LEFT JOIN role_permissions rp ON rp.role_key = r.key "
                               "GROUP BY r.key, r.name_en, r.name_pt, r.staff, d.position "
                               "ORDER BY r.staff DESC, d.position NULLS LAST, r.key",
                               1, (const char *[]){req->lang});
    PGresult *emp = tq_query(&req->cx, "admin_employees",
                             "SELECT u.id, u.email, u.display_name, coalesce(string_agg(ur.role_key, ',' ORDER BY "
                             "ur.role_key), ''), (u.totp_enabled_at IS NOT NULL)::int FROM users u "
                             "LEFT JOIN user_roles ur ON ur.user_id = u.id AND ur.tenant_id = $1 "
                             "WHERE u.tenant_id = $1 AND u.status = 'active' GROUP BY u.id ORDER BY u.email",
                             0, NULL);
    if (!perms || !roles || !emp)
        return -1;
    json_t *pl = json_array(), *rl = json_array(), *el = json_array();
    for (int i = 0; i < PQntuples(perms); i++)
        json_array_append_new(pl, json_pack("{s:s, s:s, s:s}", "key", PQgetvalue(perms, i, 0), "module",
                                            PQgetvalue(perms, i, 1), "description", PQgetvalue(perms, i, 2)));
    for (int i = 0; i < PQntuples(roles); i++) {
        json_t *held = json_object();
        json_t *cells = json_array();
        char *list = arena_strdup(req->a, PQgetvalue(roles, i, 3));
        for (char *save = NULL, *t = list ? strtok_r(list, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
            json_object_set_new(held, t, json_true());
        /* one cell per permission, in the header's order, so the template needs no lookup */
        for (int k = 0; k < PQntuples(perms); k++)
            json_array_append_new(cells, json_boolean(json_object_get(held, PQgetvalue(perms, k, 0)) != NULL));
        json_decref(held);
        json_array_append_new(rl, json_pack("{s:s, s:s, s:b, s:o}", "key", PQgetvalue(roles, i, 0), "name",
                                            PQgetvalue(roles, i, 1), "staff", PQgetvalue(roles, i, 2)[0] == 't',
                                            "cells", cells));
    }
    for (int i = 0; i < PQntuples(emp); i++)
        json_array_append_new(el, json_pack("{s:I, s:s, s:s, s:s, s:b}", "id", (json_int_t)atoll(PQgetvalue(emp, i, 0)),
                                            "email", PQgetvalue(emp, i, 1), "name", PQgetvalue(emp, i, 2), "roles",
                                            PQgetvalue(emp, i, 3), "mfa", atoi(PQgetvalue(emp, i, 4))));
    res_page(res, "admin/roles.cs", "admin.title",
             json_pack("{s:o, s:o, s:o, s:b}", "permissions", pl, "roles", rl, "employees", el, "can_assign",
                       rbac_has(req->a, req->session->user_id, "admin.roles.assign") == 1));
    return 0;
}


static int assign(request *req, response *res)
{
    const char *uid = req_field(req, "user_id"), *role = req_field(req, "role");
    const char *action = req_field(req, "action");
    int grant = action && !strcmp(action, "grant");
    if (!uid || !*uid || strspn(uid, "0123456789") != strlen(uid) || strlen(uid) > 18 || !role || !*role ||
        strlen(role) > 64 || !action || (!grant && strcmp(action, "revoke"))) {
        res_error(req, res, 422, "bad_role_change", render_lang_string(req->lang, "admin.invalid"));
        return 0;
    }
    long long user_id = atoll(uid);
    int rc = grant ? rbac_grant(&req->cx, user_id, role) : rbac_revoke(&req->cx, user_id, role);
    if (rc == -2) {
        res_error(req, res, 422, "bad_role_change", render_lang_string(req->lang, "admin.invalid"));
        return 0;
    }
    if (rc == -3) {
        res_error(req, res, 403, "role_not_grantable", render_lang_string(req->lang, "admin.not_grantable"));
        return 0;
    }
    if (rc == -4) {
        res_error(req, res, 409, "last_ceo", render_lang_string(req->lang, "admin.last_ceo"));
        return 0;
    }
    if (rc < 0)
        return -1;
    if (req->api)
        res_json(res, 200, json_pack("{s:I, s:s, s:s}", "user_id", (json_int_t)user_id, "role", role, "action", action));
    else
        res_redirect(res, "/configuracoes/roles");
    return 0;
}

static const route routes[] = {
    {"GET", "/configuracoes/roles", matrix, R_AUTH | R_PAGE, "admin.roles.read", NULL},
    {"POST", "/configuracoes/roles", assign, R_AUTH | R_CSRF | R_PAGE | R_STEPUP, "admin.roles.assign", NULL},
};

const module admin_module = {"admin", "nav.configuracoes", "/configuracoes/roles", ROUTES(routes)};
