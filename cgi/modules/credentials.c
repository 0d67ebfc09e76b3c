/* credentials.c — placeholder until the module lands in this change. */
#include "modules.h"

const module credentials_module = {"credentials", NULL, NULL, NULL, 0};
