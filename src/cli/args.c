/* SPDX-License-Identifier: MIT */
/*
 * Command lines of the client commands. One table says which options
 * exist and which commands take them, so that "--follow is not an option
 * of jobs" is a usage error rather than silently ignored.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "util/macro.h"
#include "util/strutil.h"

#define BIT(c) (1u << (c))
#define ALL_REMOTE                                                                                 \
    (BIT(CMD_BUILD) | BIT(CMD_JOBS) | BIT(CMD_QUEUE) | BIT(CMD_LOG) | BIT(CMD_STOP) |           \
     BIT(CMD_CANCEL) | BIT(CMD_WHOAMI) | BIT(CMD_TOKEN) | BIT(CMD_QUIET_DOWN) | BIT(CMD_HOOKS))
#define LISTINGS                                                                                   \
    (BIT(CMD_BUILD) | BIT(CMD_JOBS) | BIT(CMD_QUEUE) | BIT(CMD_WHOAMI) | BIT(CMD_TOKEN) |       \
     BIT(CMD_HOOKS))

enum opt_id {
    OPT_URL,
    OPT_USER,
    OPT_TOKEN,
    OPT_TOKEN_STDIN,
    OPT_TIMEOUT,
    OPT_CACERT,
    OPT_VERBOSE,
    OPT_PARAM,
    OPT_TRIGGER_TOKEN,
    OPT_WAIT,
    OPT_FOLLOW,
    OPT_STOP_ON_INTERRUPT,
    OPT_DRY_RUN,
    OPT_FILE,
    OPT_JSON,
    OPT_QUIET,
    OPT_CANCEL,
    OPT_SAFE_EXIT,
    OPT_HELP,
};

struct opt {
    const char *name;
    char short_name; /* 0: none */
    bool takes_value;
    enum opt_id id;
    unsigned commands; /* BIT(cmd) of the commands that take it */
};

static const struct opt options[] = {
    { "url", 0, true, OPT_URL, ALL_REMOTE },
    { "user", 'u', true, OPT_USER, ALL_REMOTE },
    { "token", 0, true, OPT_TOKEN, ALL_REMOTE },
    { "token-stdin", 0, false, OPT_TOKEN_STDIN, ALL_REMOTE },
    { "timeout", 0, true, OPT_TIMEOUT, ALL_REMOTE },
    { "cacert", 0, true, OPT_CACERT, ALL_REMOTE },
    { "verbose", 'v', false, OPT_VERBOSE, ALL_REMOTE },
    { "param", 'p', true, OPT_PARAM, BIT(CMD_BUILD) },
    { "trigger-token", 0, true, OPT_TRIGGER_TOKEN, BIT(CMD_BUILD) },
    { "wait", 'w', false, OPT_WAIT, BIT(CMD_BUILD) },
    { "follow", 'f', false, OPT_FOLLOW, BIT(CMD_BUILD) | BIT(CMD_LOG) },
    { "stop-on-interrupt", 0, false, OPT_STOP_ON_INTERRUPT, BIT(CMD_BUILD) },
    { "dry-run", 0, false, OPT_DRY_RUN, BIT(CMD_BUILD) },
    { "file", 'F', true, OPT_FILE, BIT(CMD_BUILD) },
    { "json", 0, false, OPT_JSON, LISTINGS },
    { "quiet", 'q', false, OPT_QUIET, BIT(CMD_JOBS) },
    { "cancel", 0, false, OPT_CANCEL, BIT(CMD_QUIET_DOWN) },
    { "safe-exit", 0, false, OPT_SAFE_EXIT, BIT(CMD_QUIET_DOWN) },
    { "help", 'h', false, OPT_HELP, ~0u },
};

static const char *const command_names[_CMD_MAX] = {
    [CMD_HELP] = "help",     [CMD_BUILD] = "build",   [CMD_JOBS] = "jobs",
    [CMD_QUEUE] = "queue",   [CMD_LOG] = "log",       [CMD_STOP] = "stop",
    [CMD_CANCEL] = "cancel", [CMD_WHOAMI] = "whoami", [CMD_TOKEN] = "token",
    [CMD_QUIET_DOWN] = "quiet-down", [CMD_HOOKS] = "hooks",
};

/* How many positional arguments each command takes. */
static const struct {
    size_t min, max;
    const char *usage;
} arity[_CMD_MAX] = {
    [CMD_HELP] = { 0, 1, "steward help [COMMAND]" },
    [CMD_BUILD] = { 1, 1, "steward build JOB [-p NAME=VALUE ...] [--wait] [--follow]" },
    [CMD_JOBS] = { 0, 0, "steward jobs [--json | -q]" },
    [CMD_QUEUE] = { 0, 0, "steward queue [--json]" },
    [CMD_LOG] = { 1, 2, "steward log JOB [NUMBER|lastBuild] [--follow]" },
    [CMD_STOP] = { 2, 2, "steward stop JOB NUMBER" },
    [CMD_CANCEL] = { 1, 1, "steward cancel QUEUE_ID" },
    [CMD_WHOAMI] = { 0, 0, "steward whoami [--json]" },
    [CMD_TOKEN] = { 1, 2, "steward token new NAME | token list | token revoke NAME" },
    [CMD_QUIET_DOWN] = { 0, 1, "steward quiet-down [REASON] | quiet-down --cancel | quiet-down --safe-exit [REASON]" },
    [CMD_HOOKS] = { 1, 1, "steward hooks JOB [--json]" },
};

int
args_find_command(const char *name)
{
    for (int i = 0; i < _CMD_MAX; i++)
        if (name && streq(name, command_names[i]))
            return i;
    return -1;
}

const char *
args_command_name(enum cli_cmd cmd)
{
    return cmd < _CMD_MAX ? command_names[cmd] : "?";
}

static int
fail(char **reterr_msg, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (reterr_msg && vasprintf(reterr_msg, fmt, ap) < 0)
        *reterr_msg = NULL;
    va_end(ap);
    return -EINVAL;
}

int
args_parse_duration(const char *s, int64_t *ret_ms)
{
    char *end;
    double v, unit = 1000.0;

    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v))
        return -EINVAL;
    if (streq(end, "s") || streq(end, ""))
        unit = 1000.0;
    else if (streq(end, "m"))
        unit = 60000.0;
    else if (streq(end, "h"))
        unit = 3600000.0;
    else
        return -EINVAL;
    v *= unit;
    /* at least a millisecond, at most a year */
    if (v < 1.0 || v > 365.0 * 24 * 3600 * 1000)
        return -EINVAL;
    *ret_ms = (int64_t) v;
    return 0;
}

static int
push(const char ***list, size_t *n, const char *s)
{
    const char **l = realloc(*list, (*n + 1) * sizeof *l);

    if (!l)
        return -ENOMEM;
    l[(*n)++] = s;
    *list = l;
    return 0;
}

static int
add_param(struct cli_args *a, const char *s, char **reterr_msg)
{
    const char *eq = strchr(s, '=');

    if (!eq || eq == s)
        return fail(reterr_msg, "-p takes NAME=VALUE (got '%s')", s);
    for (size_t i = 0; i < a->n_params; i++)
        if (strncmp(a->params[i], s, (size_t) (eq - s) + 1) == 0)
            return fail(reterr_msg, "parameter %.*s is given twice", (int) (eq - s), s);
    if (push(&a->params, &a->n_params, s) < 0)
        return fail(reterr_msg, "out of memory");
    return 0;
}

static int
add_file(struct cli_args *a, const char *s, char **reterr_msg)
{
    const char *eq = strchr(s, '=');

    if (!eq || eq == s || eq[1] != '@' || !eq[2])
        return fail(reterr_msg, "--file takes NAME=@PATH, as curl -F does (got '%s')", s);
    for (size_t i = 0; i < a->n_files; i++)
        if (strncmp(a->files[i], s, (size_t) (eq - s) + 1) == 0)
            return fail(reterr_msg, "file parameter %.*s is given twice", (int) (eq - s), s);
    for (size_t i = 0; i < a->n_params; i++)
        if (strncmp(a->params[i], s, (size_t) (eq - s) + 1) == 0)
            return fail(reterr_msg, "parameter %.*s is given with -p and --file", (int) (eq - s),
                        s);
    if (push(&a->files, &a->n_files, s) < 0)
        return fail(reterr_msg, "out of memory");
    return 0;
}

static int
apply(struct cli_args *a, const struct opt *o, const char *value, char **reterr_msg)
{
    switch (o->id) {
    case OPT_URL:
        a->url = value;
        break;
    case OPT_USER:
        a->user = value;
        break;
    case OPT_TOKEN:
        a->token = value;
        break;
    case OPT_TOKEN_STDIN:
        a->token_stdin = true;
        break;
    case OPT_TIMEOUT:
        if (args_parse_duration(value, &a->timeout_ms) < 0)
            return fail(reterr_msg,
                        "--timeout takes seconds, e.g. --timeout 90 or --timeout 2.5 "
                        "(or 10m, 1h); got '%s'",
                        value);
        break;
    case OPT_CACERT:
        a->cacert = value;
        break;
    case OPT_VERBOSE:
        a->verbose = true;
        break;
    case OPT_PARAM:
        return add_param(a, value, reterr_msg);
    case OPT_TRIGGER_TOKEN:
        a->trigger_token = value;
        break;
    case OPT_WAIT:
        a->wait = true;
        break;
    case OPT_FOLLOW:
        a->follow = true;
        break;
    case OPT_STOP_ON_INTERRUPT:
        a->stop_on_interrupt = true;
        break;
    case OPT_DRY_RUN:
        a->dry_run = true;
        break;
    case OPT_FILE:
        return add_file(a, value, reterr_msg);
    case OPT_JSON:
        a->json = true;
        break;
    case OPT_QUIET:
        a->quiet = true;
        break;
    case OPT_CANCEL:
        a->cancel = true;
        break;
    case OPT_SAFE_EXIT:
        a->safe_exit = true;
        break;
    case OPT_HELP:
        a->help = true;
        break;
    }
    return 0;
}

static const struct opt *
find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < ELEMENTSOF(options); i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

static const struct opt *
find_short(char c)
{
    for (size_t i = 0; i < ELEMENTSOF(options); i++)
        if (options[i].short_name && options[i].short_name == c)
            return &options[i];
    return NULL;
}

static int
check_allowed(const struct cli_args *a, const struct opt *o, char **reterr_msg)
{
    if (o->commands & BIT(a->cmd))
        return 0;
    return fail(reterr_msg, "--%s is not an option of '%s' (see: steward help %s)", o->name,
                command_names[a->cmd], command_names[a->cmd]);
}

/* One argument that starts with "--". Returns how many argv entries it used, or < 0. */
static int
parse_long(struct cli_args *a, char **argv, int i, int argc, char **reterr_msg)
{
    const char *arg = argv[i] + 2, *eq = strchr(arg, '=');
    size_t len = eq ? (size_t) (eq - arg) : strlen(arg);
    const struct opt *o = find_long(arg, len);
    const char *value = NULL;
    int used = 1, r;

    if (!o)
        return fail(reterr_msg, "unknown option --%.*s (see: steward help %s)", (int) len, arg,
                    command_names[a->cmd]);
    r = check_allowed(a, o, reterr_msg);
    if (r < 0)
        return r;
    if (o->takes_value) {
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc) {
            value = argv[i + 1];
            used = 2;
        } else
            return fail(reterr_msg, "--%s needs a value", o->name);
    } else if (eq)
        return fail(reterr_msg, "--%s takes no value", o->name);
    r = apply(a, o, value, reterr_msg);
    return r < 0 ? r : used;
}

/* One argument like "-w", "-wf", "-pNAME=V" or "-p NAME=V". */
static int
parse_short(struct cli_args *a, char **argv, int i, int argc, char **reterr_msg)
{
    const char *s = argv[i] + 1;
    int r;

    for (; *s; s++) {
        const struct opt *o = find_short(*s);
        if (!o)
            return fail(reterr_msg, "unknown option -%c (see: steward help %s)", *s,
                        command_names[a->cmd]);
        r = check_allowed(a, o, reterr_msg);
        if (r < 0)
            return r;
        if (!o->takes_value) {
            r = apply(a, o, NULL, reterr_msg);
            if (r < 0)
                return r;
            continue;
        }
        if (s[1]) {
            r = apply(a, o, s + 1, reterr_msg);
            return r < 0 ? r : 1;
        }
        if (i + 1 >= argc)
            return fail(reterr_msg, "-%c needs a value", *s);
        r = apply(a, o, argv[i + 1], reterr_msg);
        return r < 0 ? r : 2;
    }
    return 1;
}

static int
check_arity(const struct cli_args *a, char **reterr_msg)
{
    if (a->help)
        return 0;
    if (a->n_pos < arity[a->cmd].min)
        return fail(reterr_msg, "'%s' needs more arguments; usage: %s", command_names[a->cmd],
                    arity[a->cmd].usage);
    if (a->n_pos > arity[a->cmd].max)
        return fail(reterr_msg, "'%s' takes no argument '%s'; usage: %s", command_names[a->cmd],
                    a->pos[arity[a->cmd].max], arity[a->cmd].usage);
    if (a->cmd == CMD_TOKEN) {
        const char *sub = a->pos[0];
        size_t want = streq(sub, "list") ? 1 : 2;
        if (!streq(sub, "new") && !streq(sub, "list") && !streq(sub, "revoke"))
            return fail(reterr_msg, "'token' takes new, list or revoke; usage: %s",
                        arity[CMD_TOKEN].usage);
        if (a->n_pos != want)
            return fail(reterr_msg, "usage: %s", streq(sub, "new")    ? "steward token new NAME"
                                                 : streq(sub, "list") ? "steward token list"
                                                                      : "steward token revoke NAME");
    }
    if (a->json && a->quiet)
        return fail(reterr_msg, "--json and --quiet do not go together");
    return 0;
}

int
args_parse(int argc, char **argv, struct cli_args *ret, char **reterr_msg)
{
    struct cli_args a = { 0 };
    bool options_done = false;
    int cmd, r;

    if (argc < 1 || (cmd = args_find_command(argv[0])) < 0)
        return fail(reterr_msg, "unknown command '%s'", argc < 1 ? "" : argv[0]);
    a.cmd = (enum cli_cmd) cmd;

    for (int i = 1; i < argc;) {
        const char *arg = argv[i];
        if (!options_done && streq(arg, "--")) {
            options_done = true;
            i++;
            continue;
        }
        if (!options_done && arg[0] == '-' && arg[1] == '-')
            r = parse_long(&a, argv, i, argc, reterr_msg);
        else if (!options_done && arg[0] == '-' && arg[1])
            r = parse_short(&a, argv, i, argc, reterr_msg);
        else
            r = push(&a.pos, &a.n_pos, arg) < 0 ? fail(reterr_msg, "out of memory") : 1;
        if (r < 0) {
            args_release(&a);
            return r;
        }
        i += r;
    }
    if (a.follow)
        a.wait = true;
    if (a.token && a.token_stdin) {
        args_release(&a);
        return fail(reterr_msg, "--token and --token-stdin do not go together");
    }
    r = check_arity(&a, reterr_msg);
    if (r < 0) {
        args_release(&a);
        return r;
    }
    *ret = a;
    return 0;
}

void
args_release(struct cli_args *a)
{
    free(a->pos);
    free(a->params);
    free(a->files);
    *a = (struct cli_args){ 0 };
}
