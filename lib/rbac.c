/* rbac.c — placeholder until the implementation lands in this change. */
typedef int rbac_placeholder;
