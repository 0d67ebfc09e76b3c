/* keys.c — placeholder until the subcommand lands in this change. */
#include "commands.h"
#include <stdio.h>

int cmd_keys(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "botctl keys: not built yet\n");
    return 2;
}
