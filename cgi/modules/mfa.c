/* mfa.c — placeholder until the module lands in this change. */
#include "modules.h"

const module mfa_module = {"mfa", NULL, NULL, NULL, 0};
