/* seguranca.c — placeholder until the module lands in this change. */
#include "modules.h"

const module seguranca_module = {"seguranca", "nav.seguranca", "/seguranca", NULL, 0};
