/* devmail.c — placeholder until the module lands in this change. */
#include "modules.h"

const module devmail_module = {"devmail", NULL, NULL, NULL, 0};
