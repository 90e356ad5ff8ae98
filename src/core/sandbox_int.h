/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What core/sandbox.c and core/sandbox_clone.c share: a step's sandbox as
 * a plan of mounts, made by the server (which may allocate) and carried
 * out by the step's process between its clone() and its exec (which may
 * not: it shares the server's memory until the exec).
 */

#include <stdbool.h>
#include <sys/types.h>

#include "core/spawn.h"

struct sandbox_plan_args {
    const char *home;              /* hidden under an empty tmpfs */
    const char *const *binds;      /* mounted back read-write, at the same path */
    size_t n_binds;
    const char *private_dir;       /* NULL, or mounted at private_at */
    const char *private_at;
    const char *script_path;       /* made in the step's /tmp, mode 0755 */
    const char *script;
    const char *cwd;
    bool no_network;               /* a network namespace with its own loopback */
    bool switch_user;              /* the server is root: become uid/gid */
    uid_t uid;                     /* else: a user namespace that maps the server's own */
    gid_t gid;
};

struct sandbox_plan;

/* How a step's process says, on its output, that its sandbox could not be set up. */
#define SANDBOX_FAILED "steward: the build sandbox could not be set up: "

/* The child is at or below the parent, path-wise. */
bool sandbox_path_within(const char *child, const char *parent);

/* 0 and *ret, or -errno (-ENOMEM, -ENAMETOOLONG for a path beyond PATH_MAX). */
int sandbox_plan_new(const struct sandbox_plan_args *a, struct sandbox_plan **ret);
struct sandbox_plan *sandbox_plan_free(struct sandbox_plan *p);

/*
 * Starts argv (argv[0] a path) in the plan's sandbox as spawn_start()
 * starts a plain process: its own session, `req`'s environment, stdin
 * /dev/null (or req->in_fd), stdout and stderr req->out_fd, no other
 * descriptor (req->pass_fds must be empty), default signal handling. The
 * process is the init of its PID namespace: when it ends, everything it
 * started ends with it. Where a mount or the change of user fails, it
 * writes why to req->out_fd and exits 127, as a failed exec would.
 * 0 with *ret_pid and *ret_pidfd, or -errno when no process started.
 */
int sandbox_plan_spawn(const struct sandbox_plan *p, char *const *argv,
                       const struct spawn_req *req, pid_t *ret_pid, int *ret_pidfd);
