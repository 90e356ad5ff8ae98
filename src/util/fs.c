/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
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
    struct stat st;
    int r;

    if (!p)
        return -ENOMEM;
    if (!*p)
        return -ENOENT;
    /* the directory itself first: its parents are nearly always there (a build's workspace) */
    r = mkdir(p, mode);
    if (r < 0 && errno == ENOENT) {
        for (char *s = p + 1; *s; s++) {
            if (*s != '/')
                continue;
            *s = '\0';
            if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
            *s = '/';
        }
        r = mkdir(p, mode);
    }
    if (r == 0)
        return 0;
    if (errno != EEXIST)
        return -errno;
    if (stat(p, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
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
fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int fd = -1;
    int r;

    if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
        return -ENOMEM;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    r = fs_write_all(fd, data, len);
    if (r < 0)
        goto fail;
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
    return fs_read_all_stat(path, max, ret_data, ret_len, NULL);
}

int
fs_read_all_stat(const char *path, size_t max, char **ret_data, size_t *ret_len,
                 struct stat *ret_st)
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
    if (ret_st)
        *ret_st = st;
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

/* ---- copying a tree that others may be changing ---- */

/*
 * Copies at most `limit` bytes: the size the file had when it was opened.
 * A log that a build keeps appending to would otherwise never end.
 */
static int
copy_bytes(int in, int out, unsigned long long limit, unsigned long long *ret_bytes)
{
    char buf[65536];
    unsigned long long total = 0;
    bool plain = false;

    while (total < limit) {
        size_t want = (size_t) MIN(limit - total, (unsigned long long) 1 << 30);
        ssize_t n;

        if (!plain) {
            n = copy_file_range(in, NULL, out, NULL, want, 0);
            if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                          errno == EOPNOTSUPP || errno == EPERM)) {
                plain = true;  /* nothing was copied by the failed call */
                continue;
            }
        } else {
            n = read(in, buf, MIN(sizeof buf, want));
            for (ssize_t off = 0; n > 0 && off < n;) {
                ssize_t w = write(out, buf + off, (size_t) (n - off));
                if (w < 0 && errno != EINTR)
                    return -errno;
                off += w > 0 ? w : 0;
            }
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        total += (unsigned long long) n;
    }
    *ret_bytes = total;
    return 0;
}

/* Permission bits and times last, once nothing more is written below. */
static int
copy_meta(int fd, const struct stat *sb)
{
    const struct timespec times[2] = { sb->st_atim, sb->st_mtim };

    if (fchmod(fd, sb->st_mode & 07777) < 0 || futimens(fd, times) < 0)
        return -errno;
    return 0;
}

/* An entry that went away (or became something else) since it was listed. */
static bool
vanished(int err)
{
    return err == ENOENT || err == ENOTDIR || err == ELOOP;
}

static int
copy_file_at(int sfd, int dfd, const char *name, struct fs_copy_stats *st)
{
    _cleanup_close_ int in = -1, out = -1;
    unsigned long long n = 0;
    struct stat sb;
    int r;

    in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (in < 0 || fstat(in, &sb) < 0) {
        if (!vanished(errno))
            return -errno;
        st->vanished++;
        return 0;
    }
    if (!S_ISREG(sb.st_mode)) {
        st->vanished++;
        return 0;
    }
    out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return -errno;
    r = copy_bytes(in, out, (unsigned long long) sb.st_size, &n);
    if (r < 0)
        return r;
    st->files++;
    st->bytes += n;
    return copy_meta(out, &sb);
}

static int
copy_symlink_at(int sfd, int dfd, const char *name, const struct stat *sb,
                struct fs_copy_stats *st)
{
    const struct timespec times[2] = { sb->st_atim, sb->st_mtim };
    char target[PATH_MAX];
    ssize_t n;

    n = readlinkat(sfd, name, target, sizeof target - 1);
    if (n < 0) {
        if (!vanished(errno) && errno != EINVAL)
            return -errno;
        st->vanished++;
        return 0;
    }
    target[n] = '\0';
    if (symlinkat(target, dfd, name) < 0)
        return -errno;
    (void) utimensat(dfd, name, times, AT_SYMLINK_NOFOLLOW);
    st->symlinks++;
    return 0;
}

static int copy_dir_at(int sfd, int dfd, unsigned depth, struct fs_copy_stats *st);

static int
copy_subdir_at(int sfd, int dfd, const char *name, unsigned depth, struct fs_copy_stats *st)
{
    _cleanup_close_ int s = -1, d = -1;
    struct stat sb;
    int r;

    if (depth >= FS_COPY_MAX_DEPTH)
        return -ELOOP;
    s = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0 || fstat(s, &sb) < 0) {
        if (!vanished(errno))
            return -errno;
        st->vanished++;
        return 0;
    }
    if (mkdirat(dfd, name, 0700) < 0)
        return -errno;
    d = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0)
        return -errno;
    r = copy_dir_at(s, d, depth + 1, st);
    if (r < 0)
        return r;
    st->dirs++;
    return copy_meta(d, &sb);
}

static int
copy_dir_at(int sfd, int dfd, unsigned depth, struct fs_copy_stats *st)
{
    int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
    struct dirent *de;
    DIR *d;
    int r = 0;

    if (fd < 0)
        return -errno;
    d = fdopendir(fd);
    if (!d) {
        r = -errno;
        (void) close(fd);
        return r;
    }
    while (r >= 0 && (errno = 0, de = readdir(d))) {
        struct stat sb;

        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        if (fstatat(sfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
            if (!vanished(errno))
                r = -errno;
            else
                st->vanished++;
            continue;
        }
        if (S_ISDIR(sb.st_mode))
            r = copy_subdir_at(sfd, dfd, de->d_name, depth, st);
        else if (S_ISREG(sb.st_mode))
            r = copy_file_at(sfd, dfd, de->d_name, st);
        else if (S_ISLNK(sb.st_mode))
            r = copy_symlink_at(sfd, dfd, de->d_name, &sb, st);
        else
            st->skipped++;
    }
    if (r >= 0 && errno != 0)
        r = -errno;  /* readdir failed */
    closedir(d);
    return r;
}

int
fs_copy_tree(const char *src, const char *dst, struct fs_copy_stats *stats)
{
    _cleanup_close_ int s = -1, d = -1;
    struct fs_copy_stats ignored = {};
    struct stat sb;
    int r;

    if (!stats)
        stats = &ignored;
    s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s < 0 || fstat(s, &sb) < 0)
        return -errno;
    if (mkdir(dst, 0700) < 0)
        return -errno;
    d = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d < 0)
        return -errno;
    r = copy_dir_at(s, d, 1, stats);
    if (r < 0)
        return r;
    stats->dirs++;
    return copy_meta(d, &sb);
}

char *
path_join(const char *a, const char *b)
{
    char *p;

    if (asprintf(&p, "%s/%s", a, b) < 0)
        return NULL;
    return p;
}
