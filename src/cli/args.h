/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The client commands' command lines: which commands exist, which options
 * each takes, and the parse of one command line into a struct cli_args.
 * Nothing here touches the network, the environment or files, so it can be
 * tested alone. Strings in a parsed cli_args are borrowed from argv.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cli_cmd {
    CMD_HELP,
    CMD_BUILD,
    CMD_JOBS,
    CMD_QUEUE,
    CMD_LOG,
    CMD_STOP,
    CMD_CANCEL,
    CMD_WHOAMI,
    CMD_TOKEN,
    CMD_QUIET_DOWN,
    CMD_HOOKS,
    _CMD_MAX,
};

struct cli_args {
    enum cli_cmd cmd;

    /* positional arguments after the command name, in order */
    const char **pos;
    size_t n_pos;

    /* connection */
    const char *url;
    const char *user;
    const char *token;
    bool token_stdin;
    int64_t timeout_ms; /* 0: none */
    const char *cacert; /* --cacert: the CA certificates to trust for https (PEM) */
    bool verbose;

    /* build */
    const char *trigger_token;
    const char **params; /* "NAME=VALUE", each name once */
    size_t n_params;
    const char **files;  /* "NAME=@PATH": a file parameter, each name once */
    size_t n_files;
    bool wait;
    bool follow; /* implies wait */
    bool stop_on_interrupt;
    bool dry_run; /* ask what a trigger would get (X-Steward-Dry-Run), changing nothing */

    /* listings */
    bool json;
    bool quiet;

    /* quiet-down */
    bool cancel;
    bool safe_exit;

    bool help; /* --help: show the command's help and do nothing else */
};

/* Returns the command called `name`, or -1. "help" is a command too. */
int args_find_command(const char *name);

/* The name of a command, e.g. "build". */
const char *args_command_name(enum cli_cmd cmd);

/*
 * Parses a client command line; argv[0] is the command name. Options may
 * come anywhere after it (`--` ends them) as --name VALUE, --name=VALUE, -x
 * VALUE or -xVALUE. Returns 0 and fills *ret (release with args_release()),
 * or -EINVAL with *reterr_msg set to a sentence for the user (to be freed).
 */
int args_parse(int argc, char **argv, struct cli_args *ret, char **reterr_msg);

void args_release(struct cli_args *a);

/*
 * Parses a --timeout value: seconds, fractions allowed ("1", "2.5"), or
 * with a unit suffix s, m or h. Returns 0 and sets *ret_ms, or -EINVAL.
 */
int args_parse_duration(const char *s, int64_t *ret_ms);
