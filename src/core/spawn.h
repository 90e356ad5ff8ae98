/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Starting build processes. posix_spawn (vfork-style, so its cost does not
 * grow with the server's memory), never a plain fork. The child gets its
 * own session and process group (sid = pgid = pid, no controlling
 * terminal), default signal handling, an empty signal mask, `in_fd` (or
 * /dev/null) as stdin, `out_fd` as stdout and stderr, `pass_fds` as 3, 4, ... and no
 * other descriptor.
 */

#include <sys/types.h>

struct spawn_req {
    const char *path;          /* program to run */
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int in_fd;                 /* stdin; 0 or -1 (what a zeroed request has) means /dev/null */
    int out_fd;
    const int *pass_fds;       /* become 3, 4, ... in the child */
    size_t n_pass_fds;         /* at most SPAWN_MAX_PASS_FDS */
};

#define SPAWN_MAX_PASS_FDS 16

/*
 * Starts the process. Returns 0 and sets *ret_pid and *ret_pidfd (a
 * close-on-exec pidfd that becomes readable when the process exits), or
 * -errno (an exec failure included).
 */
int spawn_start(const struct spawn_req *req, pid_t *ret_pid, int *ret_pidfd);

/*
 * A child the caller has just started, as spawn_start() returns it: 0 with
 * *ret_pid and *ret_pidfd, or -errno after it was killed and reaped.
 */
int spawn_adopt(pid_t pid, pid_t *ret_pid, int *ret_pidfd);

/* Sends `sig` to the whole process group `pgid`. 0 or -errno (-ESRCH when it is gone). */
int spawn_signal_group(pid_t pgid, int sig);

/*
 * Kills (SIGKILL) every process whose environment holds exactly `entry`
 * ("NAME=value"), the way Jenkins' ProcessTreeKiller finds what a build
 * left behind without trusting recycled process ids. Returns how many.
 */
int spawn_kill_by_env(const char *entry);
