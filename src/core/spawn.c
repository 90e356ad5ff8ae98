/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/spawn.h"

int
spawn_start(const struct spawn_req *req, pid_t *ret_pid, int *ret_pidfd)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t all, none;
    pid_t pid;
    int r, pidfd;

    sigfillset(&all);
    sigemptyset(&none);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, req->out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, req->out_fd, 2);
    if (req->cwd)
        posix_spawn_file_actions_addchdir_np(&fa, req->cwd);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);

    r = posix_spawn(&pid, req->path, &fa, &attr, req->argv, req->envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (r != 0)
        return -r;

    pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        r = -errno;
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        return r;
    }
    (void) fcntl(pidfd, F_SETFD, FD_CLOEXEC);
    *ret_pid = pid;
    *ret_pidfd = pidfd;
    return 0;
}

int
spawn_signal_group(pid_t pgid, int sig)
{
    if (pgid <= 1)
        return -EINVAL;
    return kill(-pgid, sig) < 0 ? -errno : 0;
}
