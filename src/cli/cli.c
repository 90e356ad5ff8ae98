/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cli/cli.h"

bool
cli_is_command(const char *name)
{
    (void) name;
    return false;
}

int
cli_main(int argc, char **argv)
{
    (void) argc;
    fprintf(stderr, "steward: %s: no such command\n", argv[0]);
    return 2;
}
