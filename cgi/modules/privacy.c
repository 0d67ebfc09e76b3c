/* privacy.c — placeholder until the module lands in this change. */
#include "modules.h"

const module privacy_module = {"privacy", NULL, NULL, NULL, 0};
