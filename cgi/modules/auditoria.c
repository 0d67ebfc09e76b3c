/* auditoria.c — placeholder until the module lands in this change. */
#include "modules.h"

const module auditoria_module = {"auditoria", "nav.auditoria", "/auditoria", NULL, 0};
