/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/upload.h"
#include "util/bounds.h"
#include "util/fs.h"
#include "util/macro.h"
#include "util/strutil.h"

#define VALUE_PREFIX "sha256:"

char *
upload_dir(const char *home_root)
{
    return path_join(home_root, "uploads");
}

int
upload_location_check(const char *location)
{
    size_t len = location ? strlen(location) : 0;
    const char *p, *comp;

    if (len == 0 || len > BOUND_PARAM_NAME_BYTES || location[0] == '/')
        return -EINVAL;
    for (p = location; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f || *p == '\\')
            return -EINVAL;
    for (comp = location; comp; comp = strchr(comp, '/') ? strchr(comp, '/') + 1 : NULL) {
        size_t n = strcspn(comp, "/");
        if (n == 0 || (n == 1 && comp[0] == '.') || (n == 2 && comp[0] == '.' && comp[1] == '.'))
            return -EINVAL;
    }
    return 0;
}

static bool
is_hash(const char *s)
{
    for (size_t i = 0; i < UPLOAD_HASH_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[UPLOAD_HASH_LEN] == '\0' || s[UPLOAD_HASH_LEN] == ':';
}

char *
upload_value(const char *sha256, const char *filename)
{
    const char *base = filename ? filename : "";
    char clean[BOUND_UPLOAD_NAME_BYTES + 1];
    size_t n = 0;

    /* browsers of old sent C:\dir\name: the last component of either kind */
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    for (const char *p = base; *p && n < BOUND_UPLOAD_NAME_BYTES; p++)
        if ((unsigned char) *p >= 0x20 && *p != 0x7f)
            clean[n++] = *p;
    clean[n] = '\0';
    /* a cut may split a UTF-8 sequence: drop its start */
    while (n > 0 && !utf8_is_valid(clean, n) && (unsigned char) clean[n - 1] >= 0x80)
        clean[--n] = '\0';
    if (n == 0 || !utf8_is_valid(clean, n) || streq(clean, ".") || streq(clean, ".."))
        snprintf(clean, sizeof clean, "upload");
    return strdup_printf(VALUE_PREFIX "%s:%s", sha256, clean);
}

int
upload_value_parse(const char *value, char *ret_sha256, const char **ret_filename)
{
    const char *h;

    if (!value || !*value)
        return -ENOENT;
    if (strncmp(value, VALUE_PREFIX, strlen(VALUE_PREFIX)) != 0)
        return -EINVAL;
    h = value + strlen(VALUE_PREFIX);
    if (strlen(h) < UPLOAD_HASH_LEN + 1 || !is_hash(h) || h[UPLOAD_HASH_LEN] != ':')
        return -EINVAL;
    memcpy(ret_sha256, h, UPLOAD_HASH_LEN);
    ret_sha256[UPLOAD_HASH_LEN] = '\0';
    *ret_filename = h + UPLOAD_HASH_LEN + 1;
    return 0;
}

const char *
upload_shown_name(const char *value)
{
    char h[UPLOAD_HASH_LEN + 1];
    const char *filename;

    return upload_value_parse(value, h, &filename) == 0 ? filename : "";
}

static int
fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC), r = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        r = -errno;
    close(fd);
    return r;
}

int
upload_keep(const char *dir, const char *tmp, const char *sha256)
{
    _cleanup_free_ char *dest = path_join(dir, sha256);
    int r;

    if (!dest)
        return -ENOMEM;
    r = fsync_path(tmp, O_RDONLY);
    if (r < 0)
        return r;
    /* link, not rename: a file of that name is the same bytes, and stays */
    if (link(tmp, dest) < 0 && errno != EEXIST)
        return -errno;
    (void) unlink(tmp);
    return fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

void
upload_forget(const char *dir, const char *sha256)
{
    _cleanup_free_ char *path = path_join(dir, sha256);

    if (path)
        (void) unlink(path);
}

/*
 * Copies `in` to `out` from where they stand: in the kernel with
 * copy_file_range() (the engine's thread waits on this, and the upload and
 * the workspace are in one home), by read() and write() where it is not
 * offered.
 */
static int
copy_fd(int in, int out)
{
    char buf[64 * 1024];
    ssize_t n;

    for (;;) {
        n = copy_file_range(in, NULL, out, NULL, (size_t) 1 << 30, 0);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
                return -errno;
            break;
        }
    }
    while ((n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (fs_write_all(out, buf, (size_t) n) < 0)
            return -errno;
    }
    return 0;
}

/* The directory `name` in dirfd, made when missing, never through a link. */
static int
open_dir_below(int dirfd, const char *name, bool chown, uid_t uid, gid_t gid)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT) {
        if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
            return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && chown && fchown(fd, uid, gid) < 0) {
            int r = -errno;
            close(fd);
            return r;
        }
    }
    if (fd < 0 && errno == ENOTDIR) {
        struct stat st;

        /* with O_DIRECTORY a link says ENOTDIR too: say which it is */
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            return -ELOOP;
        return -ENOTDIR;
    }
    return fd < 0 ? -errno : fd;
}

int
upload_install(const char *dir, const char *sha256, const char *workspace,
               const char *location, bool chown, uid_t uid, gid_t gid)
{
    _cleanup_free_ char *src_path = path_join(dir, sha256), *rel = strdup(location ? location : "");
    _cleanup_close_ int src = -1, out = -1;
    int dirfd, r = 0;
    char *comp, *slash;

    if (!src_path || !rel)
        return -ENOMEM;
    if (upload_location_check(location) < 0)
        return -EINVAL;
    src = open(src_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0)
        return -errno;
    dirfd = open(workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    comp = rel;
    while ((slash = strchr(comp, '/'))) {
        int next;

        *slash = '\0';
        next = open_dir_below(dirfd, comp, chown, uid, gid);
        close(dirfd);
        if (next < 0)
            return next;
        dirfd = next;
        comp = slash + 1;
    }
    /* whatever a build left there (a file, a link) is replaced, never written through */
    if (unlinkat(dirfd, comp, 0) < 0 && errno != ENOENT)
        r = errno == EISDIR ? -EISDIR : -errno;
    if (r >= 0) {
        out = openat(dirfd, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (out < 0)
            r = -errno;
    }
    if (r >= 0)
        r = copy_fd(src, out);
    if (r >= 0 && chown && fchown(out, uid, gid) < 0)
        r = -errno;
    close(dirfd);
    return r;
}

int
upload_sweep(const char *dir, bool parts, bool (*needed)(void *userdata, const char *sha256),
             void *userdata)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        bool part = parts && strncmp(de->d_name, ".part-", 6) == 0;
        bool kept = strlen(de->d_name) == UPLOAD_HASH_LEN && is_hash(de->d_name);

        if ((part || (kept && !needed(userdata, de->d_name))) &&
            unlinkat(dirfd(d), de->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    return n;
}
