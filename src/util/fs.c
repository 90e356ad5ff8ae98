/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/macro.h"

int
fs_mkdir_p(const char *path, mode_t mode)
{
    _cleanup_free_ char *p = strdup(path);
    char *s;

    if (!p)
        return -ENOMEM;
    for (s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(p, mode) < 0) {
        struct stat st;

        if (errno != EEXIST)
            return -errno;
        if (stat(p, &st) < 0)
            return -errno;
        if (!S_ISDIR(st.st_mode))
            return -ENOTDIR;
    }
    return 0;
}

static int
fsync_dir_of(const char *path)
{
    _cleanup_free_ char *copy = strdup(path);
    _cleanup_close_ int fd = -1;

    if (!copy)
        return -ENOMEM;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        return -errno;
    return 0;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int fd = -1;
    const char *p = data;
    int r;

    if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
        return -ENOMEM;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            goto fail;
        }
        p += n;
        len -= (size_t) n;
    }
    if (fsync(fd) < 0) {
        r = -errno;
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        r = -errno;
        goto fail;
    }
    return fsync_dir_of(path);
fail:
    (void) unlink(tmp);
    return r;
}

int
fs_read_all(const char *path, size_t max, char **ret_data, size_t *ret_len)
{
    _cleanup_close_ int fd = -1;
    _cleanup_free_ char *data = NULL;
    struct stat st;
    size_t len = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        return -errno;
    if ((size_t) st.st_size > max)
        return -E2BIG;
    data = malloc((size_t) st.st_size + 1);
    if (!data)
        return -ENOMEM;
    while (len < (size_t) st.st_size) {
        ssize_t n = read(fd, data + len, (size_t) st.st_size - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        len += (size_t) n;
    }
    data[len] = '\0';
    *ret_data = TAKE_PTR(data);
    *ret_len = len;
    return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    if (flag == FTW_DP)
        return rmdir(path) < 0 ? -1 : 0;
    return unlink(path) < 0 ? -1 : 0;
}

int
fs_rm_rf(const char *path)
{
    if (access(path, F_OK) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
        return -errno;
    return 0;
}

char *
path_join(const char *a, const char *b)
{
    char *p;

    if (asprintf(&p, "%s/%s", a, b) < 0)
        return NULL;
    return p;
}
