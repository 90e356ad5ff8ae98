/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for tests/e2e/test_faults.py, loaded into the real server
 * with LD_PRELOAD: while the file named by $STEWARD_EIO_FLAG exists, every
 * write and sync of a file whose path ends with $STEWARD_EIO_SUFFIX fails
 * with EIO, as a dying disk would answer. With $STEWARD_EIO_SYNC_ONLY set,
 * only the syncs fail: the writes reach the page cache, the disk never
 * confirms them. Nothing else changes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static bool failing(int fd);

static bool
write_failing(int fd)
{
    return !getenv("STEWARD_EIO_SYNC_ONLY") && failing(fd);
}

static bool
failing(int fd)
{
    const char *flag = getenv("STEWARD_EIO_FLAG"), *suffix = getenv("STEWARD_EIO_SUFFIX");
    char link[64], path[4096];
    size_t ls;
    ssize_t n;

    if (!flag || !suffix || access(flag, F_OK) != 0)
        return false;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return false;
    path[n] = '\0';
    ls = strlen(suffix);
    return (size_t) n >= ls && strcmp(path + n - ls, suffix) == 0;
}

#define NEXT(name)                                                                           \
    static __typeof__(name) *next;                                                           \
    if (!next)                                                                               \
    next = (__typeof__(name) *) dlsym(RTLD_NEXT, #name)

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    NEXT(pwrite64);
    if (write_failing(fd)) {
        errno = EIO;
        return -1;
    }
    return next(fd, buf, n, off);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
    NEXT(write);
    if (write_failing(fd)) {
        errno = EIO;
        return -1;
    }
    return next(fd, buf, n);
}

int
fdatasync(int fd)
{
    NEXT(fdatasync);
    if (failing(fd)) {
        errno = EIO;
        return -1;
    }
    return next(fd);
}

int
fsync(int fd)
{
    NEXT(fsync);
    if (failing(fd)) {
        errno = EIO;
        return -1;
    }
    return next(fd);
}
