/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The client commands of the steward binary (build, jobs, queue, log,
 * stop, cancel, whoami, token over HTTP, help): they talk HTTP to a
 * server, Steward or Jenkins alike. This layer uses util/ only, with
 * libcurl and jansson.
 */

#include <stdbool.h>

/* True when `name` is a client command. */
bool cli_is_command(const char *name);

/* Runs a client command; argv[0] is the command name. Returns the exit code. */
int cli_main(int argc, char **argv);
