/* admin.c — placeholder until the module lands in this change. */
#include "modules.h"

const module admin_module = {"admin", "nav.configuracoes", "/configuracoes/roles", NULL, 0};
