/* rbac.h — role-based access: a user's permissions are the union of their roles' permissions,
 * cached per user (near cache, invalidated by tag user:<id> when roles change). */
#ifndef BCF_RBAC_H
#define BCF_RBAC_H
#include "ctx.h"

/* 1 when user_id holds permission, 0 when not, -1 when it cannot be known (database down). */
int rbac_has(arena *a, long long user_id, const char *permission);
/* The user's permissions as a NULL-terminated array (arena), NULL on failure. */
const char *const *rbac_permissions(arena *a, long long user_id);
/* Does the user hold any staff (department) role? 1/0/-1. */
int rbac_is_staff(arena *a, long long user_id);
/* The user's role keys, NULL-terminated (arena). */
const char *const *rbac_roles(arena *a, long long user_id);
/* Grants or revokes a staff role to an employee of c's tenant (company only), audited, and
 * drops the user's cached permissions. 0; -1 on failure; -2 not an employee, or an unknown or
 * non-staff role; -3 refused: one's own roles, or a role with a permission the actor does not
 * hold; -4 refused: it would leave the company without an active CEO. */
int rbac_grant(const ctx *c, long long user_id, const char *role_key);
int rbac_revoke(const ctx *c, long long user_id, const char *role_key);
/* Drops the cached permissions of a user (after any role change). */
void rbac_forget(long long user_id);
#endif
