/* audit.c — placeholder until the subcommand lands in this change. */
#include "commands.h"
#include <stdio.h>

int cmd_audit(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "botctl audit: not built yet\n");
    return 2;
}
