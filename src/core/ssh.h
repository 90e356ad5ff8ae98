/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Build nodes reached over the system OpenSSH client (/usr/bin/ssh).
 *
 * Per node the server keeps a private directory (0700) that this module
 * fills: the private key, the host keys ssh may trust, and the askpass
 * helper for a passphrase. The engine then runs, as its own children:
 *
 * - one master connection per node (ssh_master_argv()): it prints what
 *   the node has (ssh_probe_parse()) and stays up while the engine holds
 *   its stdin open; closing that pipe ends it;
 * - one session per build step or stop request over that master
 *   (ssh_session_argv()), whose remote command is always the same
 *   SSH_SESSION_COMMAND: the program itself (ssh_build_payload(),
 *   ssh_kill_payload()) arrives on stdin, so no secret and nothing of a
 *   build ever shows on a command line, on either side.
 *
 * Every connection is strict: only the host keys written by
 * ssh_node_prepare(), only the node's key, no agent, no password prompts,
 * no forwarding, no configuration file. ssh itself exits with 255 when
 * the connection fails or is lost; a build step's 255 arrives as 254 so
 * the two stay apart.
 *
 * No function here starts a process or keeps state: they write files,
 * build argument vectors and programs.
 */

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* How the node's host key is known (the SSH Build Agents plugin's verification strategies). */
enum ssh_host_key_kind {
    SSH_HOST_KEY_MANUALLY_PROVIDED,   /* the node's configuration holds it: "ssh-ed25519 AAAA..." */
    SSH_HOST_KEY_KNOWN_HOSTS_FILE,    /* the server user's ~/.ssh/known_hosts */
    SSH_HOST_KEY_MANUALLY_TRUSTED,    /* the first connection's key, kept in the node's directory */
    SSH_HOST_KEY_NON_VERIFYING,       /* refused */
};

/*
 * A node as ssh reaches it. Everything is borrowed; the secrets (`key`,
 * `passphrase`) stay the caller's to wipe. ssh_node_prepare() copies them
 * into the node's private directory and nowhere else.
 */
struct ssh_target {
    const char *host;                 /* name or address, at most BOUND_SSH_HOST_BYTES */
    unsigned port;                    /* 0 means 22 */
    const char *user;                 /* the credential's username */
    const char *key;                  /* the private key (OpenSSH or PEM text) */
    size_t key_len;
    const char *passphrase;           /* NULL or "" when the key has none */
    size_t passphrase_len;
    enum ssh_host_key_kind host_key_kind;
    const char *host_key;             /* MANUALLY_PROVIDED: "TYPE BASE64 [comment]" */
    const char *known_hosts_file;     /* KNOWN_HOSTS_FILE: its path (the server user's) */
    unsigned connect_timeout_s;       /* ConnectTimeout; 0 means 10 */
    unsigned alive_interval_s;        /* ServerAliveInterval; 0 means 15 */
    unsigned alive_count_max;         /* ServerAliveCountMax; 0 means 3 */
};

/*
 * Fills the node's private directory `dir` (created 0700 when missing,
 * refused when another user owns it or others may enter it): `key`
 * (0600, with the trailing newline OpenSSH needs), `known_hosts`, and for
 * a passphrase `passphrase` (0600) and `askpass` (0700). For
 * MANUALLY_TRUSTED an existing known_hosts is kept: it holds the key
 * trusted on the first connection. `dir` must be short enough for ssh's
 * control socket (a unix socket path: about 80 bytes).
 * Returns 0, -EINVAL/-ENAMETOOLONG/-EPERM with *reterr_why (a sentence,
 * to be freed) for a target Steward does not connect to, or -errno.
 */
int ssh_node_prepare(const char *dir, const struct ssh_target *t, char **reterr_why);

/*
 * The argv (NULL-terminated; free with ssh_argv_free()) of the node's
 * master connection: `ssh -F /dev/null -M -S DIR/ctl -o ControlPersist=no
 * ... -- HOST PROBE`. PROBE prints the node's facts (ssh_probe_parse()),
 * then "steward-ready", then waits for its stdin to close. NULL on
 * allocation failure.
 */
char **ssh_master_argv(const char *dir, const struct ssh_target *t);

/*
 * The argv of one session over the master (`-S DIR/ctl -o
 * ControlMaster=no`; should the master be gone, a direct connection with
 * the same strict options). Its remote command is SSH_SESSION_COMMAND, its
 * stdin a payload. NULL on allocation failure.
 */
char **ssh_session_argv(const char *dir, const struct ssh_target *t);

/* The fixed remote command of every session: runs the program read from stdin, with stdin /dev/null. */
#define SSH_SESSION_COMMAND "sh -c 's=$(cat) && exec </dev/null && eval \"$s\"'"

/*
 * The environment (NULL-terminated; free with ssh_argv_free()) ssh runs
 * with: PATH, LC_ALL=C, and for a passphrase SSH_ASKPASS,
 * SSH_ASKPASS_REQUIRE=force and where the helper finds the passphrase.
 * NULL on allocation failure.
 */
char **ssh_envp(const char *dir, const struct ssh_target *t);

/* Frees a vector of ssh_*_argv() or ssh_envp(). Returns NULL. */
char **ssh_argv_free(char **v);
static inline void ssh_argv_freep(char ***v) { ssh_argv_free(*v); }

/* What the master's probe found on the node. */
struct ssh_probe {
    char *uname;                      /* `uname -srm` */
    char *home;                       /* the remote user's $HOME */
    bool bwrap;                       /* bubblewrap is there and `bwrap --ro-bind / / true` works */
    bool git;
    bool setsid;                      /* util-linux setsid(1): needed to run a build step */
};

/*
 * Parses the master's stdout up to its "steward-ready" line. Returns 0
 * and fills *ret (release with ssh_probe_release()), -EAGAIN while the
 * ready line has not arrived, -EBADMSG for output that is not a probe's,
 * -E2BIG past BOUND_SSH_PROBE_BYTES.
 */
int ssh_probe_parse(const char *text, size_t len, struct ssh_probe *ret);
void ssh_probe_release(struct ssh_probe *p);

/* A private file a step needs (a Git credential): written before it runs, removed after. */
struct ssh_file {
    const char *name;                 /* a plain file name: no '/', not "." or ".." */
    const char *data;                 /* no NUL */
    size_t len;
    bool exec;                        /* 0700, else 0600 */
};

/*
 * Where a run's private files are on the node: ROOT/.steward/RUN_ID.d, a
 * directory of mode 0700 that lives as long as its step. Newly allocated.
 */
char *ssh_private_dir(const char *root, const char *run_id);

/* One build step on a node. Everything is borrowed. */
struct ssh_run {
    const char *root;                 /* the node's remote root (remoteFS), absolute */
    const char *workspace;            /* a name under ROOT/workspace/: "NAME" or "NAME@2" */
    const char *run_id;               /* [A-Za-z0-9]{1,64}, unique: names ROOT/.steward/RUN_ID.pid */
    char *const *env;                 /* "NAME=value": the step's whole environment with PATH, */
    size_t n_env;                     /* HOME, USER, LOGNAME and LANG of the node under it */
    const char *script;
    bool shell;                       /* a shell step: `/bin/sh -xe`, or the script's own #! line */
    bool bwrap;                       /* in bubblewrap (when the probe says it works) */
    const struct ssh_file *files;     /* into ssh_private_dir() before the step; NULL: none */
    size_t n_files;
};

/*
 * The program of one build step, in a sealed memfd rewound to its start
 * (*ret_fd, close-on-exec) for the session's stdin. It makes
 * ROOT/workspace/WS and WS@tmp, writes the script into WS@tmp, runs it in
 * the workspace with only the given environment, in a session and
 * process group of its own whose id it keeps in ROOT/.steward/RUN_ID.pid
 * while it runs, and exits with the step's status (255 as 254; 1 with a
 * "steward:" line on stderr when it cannot start the step).
 * Returns 0, -EINVAL with *reterr_why for a run that cannot be written
 * (a bad path, run id or variable name), -E2BIG past the bounds, -errno.
 */
int ssh_build_payload(const struct ssh_run *r, int *ret_fd, char **reterr_why);

/*
 * The program that stops run `run_id` under `root`: SIGTERM to its whole
 * process group, SIGKILL after `grace_s` seconds if any of it is left,
 * then the pid file removed. A run that is over, or whose recorded
 * process is gone or is another process now, is no error (exit 0).
 * Same conventions as ssh_build_payload().
 */
int ssh_kill_payload(const char *root, const char *run_id, unsigned grace_s, int *ret_fd,
                     char **reterr_why);

/*
 * Appends `s` (`len` bytes) to `out` as one shell word in single quotes,
 * each ' as '\''. -EINVAL for a NUL byte (no shell can hold one), -E2BIG
 * past out's maximum.
 */
int ssh_quote(struct buf *out, const char *s, size_t len);

/* Whether `name` can be a shell variable's: [A-Za-z_][A-Za-z0-9_]*, bounded. */
bool ssh_env_name_is_valid(const char *name, size_t len);
