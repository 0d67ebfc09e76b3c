/* account.c — placeholder until the module lands in this change. */
#include "modules.h"

const module account_module = {"account", NULL, NULL, NULL, 0};
