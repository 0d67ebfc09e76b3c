/* modules.h — the list of every module's route table. Adding a module means adding its file,
 * declaring it here and listing it in modules.c. */
#ifndef BCF_MODULES_H
#define BCF_MODULES_H
#include "router.h"

extern const module system_module;
extern const module auth_module;
extern const module dashboard_module;
extern const module *const all_modules[];
#endif
