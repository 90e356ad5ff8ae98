/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the offline admin commands share (daemon/main.c has them; a command
 * with a file of its own, as credentials_cmd.c, uses them too).
 */

#include "core/home.h"
#include "store/store.h"
#include "util/macro.h"

/* Prints msg and the usage to stderr; returns 2, the exit code of a usage error. */
int usage_error(const char *msg);
/* Opens the home and its database; says why on stderr when it cannot. 0 or -errno. */
int open_home(const char *home_dir, struct home **h, struct store **db);
/* An entry of the audit log for an offline command: the actor is the system user running it. */
void offline_audit(struct store *db, const char *action, const char *job, const char *fmt, ...)
    _printf_(4, 5);

/* credentials add|list|remove (daemon/credentials_cmd.c) */
int cmd_credentials(const char *home_dir, int argc, char **argv);

/* node add|list|remove (daemon/node_cmd.c) */
int cmd_node(const char *home_dir, int argc, char **argv);
