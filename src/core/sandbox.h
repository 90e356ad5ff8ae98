/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The build sandbox. Every local build step runs in namespaces of its own,
 * as an unprivileged build user, set up by the step's process itself
 * between its clone() and its exec (core/sandbox_clone.c):
 *
 *   - new mount, PID, IPC and UTS namespaces (and a user namespace when
 *     the server is not root); the step is the init of its PID namespace,
 *     so that its end ends every process the build started, daemons
 *     included;
 *   - optionally no network (a loopback of its own);
 *   - the system read-only; a private /tmp, /dev and /proc; the server's
 *     home hidden under an empty tmpfs, and only the build's workspace and
 *     its @tmp (and --build-bind directories) mounted back, read-write;
 *   - the step's script written into its own /tmp;
 *   - no capability, not even in the bounding set, no_new_privs, no
 *     inherited descriptor and only the environment the engine gives.
 *
 * When the server runs as root, the build user is `--build-user` or
 * SANDBOX_DEFAULT_USER, made on the first start (useradd --system): the
 * step mounts as root, then becomes that user. When the server runs as
 * another user, builds run as that user, in a user namespace that maps
 * only it.
 *
 * Where the sandbox cannot be set up, sandbox_error() says why and no build
 * step may start. --no-sandbox (opts.disabled) runs steps as plain child
 * processes of the server, as its user.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/jobcfg.h"   /* enum sandbox_net */
#include "core/spawn.h"

#define SANDBOX_DEFAULT_USER "steward-build"
/* read-write directories shared with every build (--build-bind) */
#define SANDBOX_MAX_BINDS 8

struct sandbox_opts {
    bool disabled;               /* --no-sandbox */
    const char *build_user;      /* NULL: the default above, or the server's own user */
    enum sandbox_net network;    /* the server's default; DEFAULT means HOST */
    const char *const *binds;    /* absolute paths, outside the home */
    size_t n_binds;
};

struct sandbox;

/*
 * Sets up the sandbox for builds of the server whose home is `home`.
 * Returns 0 and *ret: then sandbox_error() may still say that builds
 * cannot run (namespaces forbidden, the build user cannot be made, ...).
 * The build user is looked for (and made when missing), and whether the
 * sandbox works is found out by a probe (a `true` run in it), in a
 * thread of its own that logs a warning when something fails: this call
 * does not start it (sandbox_start_probe() does, or the first call that
 * waits for it). Returns
 * -EINVAL with *ret_err (to be freed) for a setting that cannot work: an
 * unknown --build-user, root as the build user, another user than the
 * server's own when the server is not root, a bind that is not a directory
 * or that would show the home.
 */
int sandbox_new(const struct sandbox_opts *o, const char *home, struct sandbox **ret,
                char **ret_err);
/*
 * Starts the probe's thread, once (later calls do nothing). The server
 * calls it when it listens: the probe's user lookup, and a useradd on the
 * first start, take milliseconds of CPU, which a start on 2 CPUs would otherwise share with
 * its way to the first answer.
 */
void sandbox_start_probe(struct sandbox *sb);
/* Waits for the probe to end, then frees. */
void sandbox_free(struct sandbox *sb);

bool sandbox_on(const struct sandbox *sb);
/*
 * Why builds cannot run in the sandbox; NULL when they can (or it is off).
 * The first call waits for sandbox_new()'s probe to end. Lent, until
 * sandbox_free().
 */
const char *sandbox_error(struct sandbox *sb);
/* The user builds run as; like sandbox_error(), waits for the probe's thread. */
const char *sandbox_user(struct sandbox *sb);
enum sandbox_net sandbox_network(const struct sandbox *sb, enum sandbox_net job);

/*
 * Makes `path` (mode 0700) and gives it, with everything in it, to the
 * build user. Ownership is changed depth first, the directory itself last,
 * so that the build user never reaches into a directory before all of it
 * is its own. 0 or -errno. This and sandbox_command() use what the probe's
 * thread found: call them only after sandbox_error() said NULL.
 */
int sandbox_prepare_dir(const struct sandbox *sb, const char *path);

/*
 * Whether the builds run as another user than the server (it is root), and
 * then who: what a file the server puts into a workspace is given to.
 */
bool sandbox_build_owner(const struct sandbox *sb, uid_t *ret_uid, gid_t *ret_gid);

/* A command ready for sandbox_spawn(). */
struct sandbox_cmd {
    char **argv;                 /* argv[0] is the program to run */
    char *script;                /* where the step's script is, as the step sees it */
    struct sandbox_plan *plan;   /* the sandbox's mounts; NULL without it */
};

/* Where a step sees the `private_dir` of sandbox_command() (in its own /tmp). */
#define SANDBOX_PRIVATE_DIR "/tmp/steward-private"

/*
 * The command for one shell step: `script` is the step's text; `shell_args`
 * (NULL-terminated, may be empty) go before the script's path, e.g. "-xe"
 * for /bin/sh, and `shell` NULL runs the script itself (a #! line). In the
 * sandbox, the step's process writes the script into its own /tmp, which
 * no one else sees; without it, it is written to `tmpdir`.
 * `private_dir` (NULL for none) is a directory of this step alone, outside
 * what any other step can see (the Git credentials' files): the sandbox
 * mounts it at SANDBOX_PRIVATE_DIR, read-write; without the sandbox the
 * step finds it where it is (sandbox_private_path() says which).
 * 0 or -errno; sandbox_cmd_done() frees what it holds.
 */
int sandbox_command(const struct sandbox *sb, const char *workspace, const char *tmpdir,
                    const char *private_dir, enum sandbox_net net, const char *script_name,
                    const char *script, const char *shell, const char *const *shell_args,
                    struct sandbox_cmd *out);
/*
 * Starts `c` as spawn_start() starts `req` (whose path and argv are c's),
 * in the sandbox when it is on. A mount the sandbox cannot make, or a user
 * it cannot become, ends the step with status 127 and says why on its
 * output, as a failed exec would. `req` may pass no descriptors.
 */
int sandbox_spawn(const struct sandbox_cmd *c, const struct spawn_req *req, pid_t *ret_pid,
                  int *ret_pidfd);
/* Where a step of this sandbox sees `private_dir`: SANDBOX_PRIVATE_DIR, or itself. Lent. */
const char *sandbox_private_path(const struct sandbox *sb, const char *private_dir);
void sandbox_cmd_done(struct sandbox_cmd *c);
