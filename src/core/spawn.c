/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/spawn.h"
#include <stdbool.h>

int
spawn_start(const struct spawn_req *req, pid_t *ret_pid, int *ret_pidfd)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t all, none;
    int high[SPAWN_MAX_PASS_FDS];
    size_t n = req->n_pass_fds;
    pid_t pid;
    int r;

    if (n > SPAWN_MAX_PASS_FDS)
        return -E2BIG;
    /* above every target first, so that no dup2 below overwrites a source */
    for (size_t i = 0; i < n; i++) {
        high[i] = fcntl(req->pass_fds[i], F_DUPFD_CLOEXEC, (int) (3 + n));
        if (high[i] < 0) {
            r = -errno;
            while (i-- > 0)
                close(high[i]);
            return r;
        }
    }
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    if (req->in_fd > 0)
        posix_spawn_file_actions_adddup2(&fa, req->in_fd, 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, req->out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, req->out_fd, 2);
    for (size_t i = 0; i < n; i++)
        posix_spawn_file_actions_adddup2(&fa, high[i], (int) (3 + i));
    /* whatever the server has open, a build gets none of it */
    posix_spawn_file_actions_addclosefrom_np(&fa, (int) (3 + n));
    if (req->cwd)
        posix_spawn_file_actions_addchdir_np(&fa, req->cwd);
    /* a session of its own: no terminal of the server's to write to or push input into */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);

    r = posix_spawn(&pid, req->path, &fa, &attr, req->argv, req->envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    for (size_t i = 0; i < n; i++)
        close(high[i]);
    if (r != 0)
        return -r;
    return spawn_adopt(pid, ret_pid, ret_pidfd);
}

int
spawn_adopt(pid_t pid, pid_t *ret_pid, int *ret_pidfd)
{
    int pidfd = (int) syscall(SYS_pidfd_open, pid, 0), r;

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

static bool
environ_has(pid_t pid, const char *entry)
{
    char path[64], *buf;
    size_t len = 0, want = strlen(entry) + 1;
    bool found = false;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/environ", (int) pid);
    f = fopen(path, "re");
    if (!f)
        return false;
    buf = malloc(256 * 1024);
    if (buf) {
        len = fread(buf, 1, 256 * 1024, f);
        for (size_t i = 0; i + want <= len + 1 && !found;) {
            size_t n = strnlen(buf + i, len - i);
            found = n + 1 == want && memcmp(buf + i, entry, n) == 0;
            i += n + 1;
        }
        free(buf);
    }
    fclose(f);
    return found;
}

int
spawn_kill_by_env(const char *entry)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    int killed = 0;

    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);

        if (*end || pid <= 1 || pid == (long) getpid())
            continue;
        if (environ_has((pid_t) pid, entry) && kill((pid_t) pid, SIGKILL) == 0)
            killed++;
    }
    closedir(d);
    return killed;
}
