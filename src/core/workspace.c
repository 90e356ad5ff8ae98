/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/archive.h"
#include "core/jobs.h"
#include "core/workspace.h"
#include "util/macro.h"
#include "util/strutil.h"

/* A name of its own in HOME/workspace: not "." or "..", no '/', no '@' (JOB@2, JOB@tmp). */
static int
check_name(const char *name, size_t len, const char **why)
{
    if (len == 0 || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
        *why = "it must name a directory in HOME/workspace (not '.' or '..')";
        return -EINVAL;
    }
    if (len > 200) {
        *why = "the name is longer than 200 bytes";
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];
        if (c == '/') {
            *why = "it must be one directory directly in HOME/workspace, as NAME, "
                   "workspace/NAME or HOME/workspace/NAME (a build's workspace may not hold "
                   "another's)";
            return -EINVAL;
        }
        if (c == '@') {
            *why = "'@' is kept for the workspaces of concurrent builds (NAME@2) and their "
                   "temporary directories (NAME@tmp)";
            return -EINVAL;
        }
        if (c == '$') {
            *why = "Steward does not expand variables in the custom workspace: give the name";
            return -EINVAL;
        }
        if (c < 0x20 || c == 0x7f || c == '\\') {
            *why = "it holds a control character or a backslash";
            return -EINVAL;
        }
    }
    return 0;
}

/* The NAME of a custom workspace, and whether it came as an absolute path (*ret_abs_len: its parent's length). */
static int
split_custom(const char *custom, const char **ret_name, size_t *ret_parent_len, const char **why)
{
    const char *slash = strrchr(custom, '/');

    *ret_parent_len = 0;
    if (custom[0] == '/') {
        /* /.../workspace/NAME: the parent is checked against the home where it is used */
        size_t parent = (size_t) (slash - custom);
        if (parent < strlen("/workspace") ||
            memcmp(custom + parent - strlen("/workspace"), "/workspace", strlen("/workspace")) != 0) {
            *why = "an absolute custom workspace must be in HOME/workspace";
            return -EINVAL;
        }
        *ret_parent_len = parent;
        *ret_name = slash + 1;
    } else if (startswith(custom, "workspace/"))
        *ret_name = custom + strlen("workspace/");
    else
        *ret_name = custom;
    return check_name(*ret_name, strlen(*ret_name), why);
}

int
workspace_custom_check(const char *custom, const char **reterr_why)
{
    const char *name;
    size_t parent;

    return split_custom(custom, &name, &parent, reterr_why);
}

int
workspace_base(const struct home *h, struct jobs *jobs, const char *job, const char *custom,
               char **ret, const char **reterr_why)
{
    const char *name = job, *why = NULL;
    size_t parent = 0;
    char *s;

    if (custom) {
        if (split_custom(custom, &name, &parent, &why) < 0) {
            *reterr_why = why;
            return -EINVAL;
        }
        if (parent && (strlen(h->workspace_dir) != parent ||
                       memcmp(custom, h->workspace_dir, parent) != 0)) {
            *reterr_why = "an absolute custom workspace must be in this server's HOME/workspace";
            return -EINVAL;
        }
        if (jobs && !streq(name, job)) {
            _cleanup_(job_unrefp) struct job *other = jobs_get(jobs, name);

            if (other) {
                *reterr_why = "it is the workspace of another job: give this job a directory "
                              "of its own";
                return -EINVAL;
            }
        }
    }
    if (asprintf(&s, "%s/%s", h->workspace_dir, name) < 0)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int
rm_contents(int fd, int depth)
{
    DIR *d;
    struct dirent *de;
    int r = 0;

    if (depth > WORKSPACE_MAX_DEPTH) {
        close(fd);
        return -ELOOP;
    }
    d = fdopendir(fd);
    if (!d) {
        r = -errno;
        close(fd);
        return r;
    }
    while ((de = readdir(d))) {
        int k;

        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        /* a directory is emptied through its own descriptor; anything else is unlinked as it is */
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            continue;
        if (errno != EISDIR && errno != EPERM) {
            if (errno != ENOENT && r >= 0)
                r = -errno;
            continue;
        }
        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            if (errno != ENOENT && r >= 0)
                r = -errno;
            continue;
        }
        k = rm_contents(sub, depth + 1);
        if (k < 0 && r >= 0)
            r = k;
        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r >= 0)
            r = -errno;
    }
    closedir(d);
    return r;
}

int
workspace_rm_at(int dirfd, const char *name)
{
    int fd, r;

    if (unlinkat(dirfd, name, 0) == 0)
        return 0;
    if (errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -errno;
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    r = rm_contents(fd, 0);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r >= 0)
        r = -errno;
    return r;
}

struct cleaner {
    const struct ws_pattern *patterns;
    size_t n;
    bool delete_dirs;
    bool any_include;
    size_t deleted;
    int r;
};

static bool
matches(const struct cleaner *c, const char *rel)
{
    bool in = !c->any_include;

    for (size_t i = 0; i < c->n; i++)
        if (!c->patterns[i].exclude && ant_match(c->patterns[i].pattern, rel))
            in = true;
    for (size_t i = 0; in && i < c->n; i++)
        if (c->patterns[i].exclude && ant_match(c->patterns[i].pattern, rel))
            return false;
    return in;
}

static void
clean_dir(struct cleaner *c, int fd, const char *rel, int depth)
{
    DIR *d;
    struct dirent *de;

    if (depth > WORKSPACE_MAX_DEPTH) {
        close(fd);
        if (c->r >= 0)
            c->r = -ELOOP;
        return;
    }
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        if (c->r >= 0)
            c->r = -errno;
        return;
    }
    while ((de = readdir(d))) {
        _cleanup_free_ char *path = NULL;
        struct stat st;

        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0) {
            c->r = -ENOMEM;
            break;
        }
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            int sub, k;

            if (c->delete_dirs && matches(c, path)) {
                k = workspace_rm_at(dirfd(d), de->d_name);
                if (k < 0 && c->r >= 0)
                    c->r = k;
                else if (k >= 0)
                    c->deleted++;
                continue;
            }
            sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                clean_dir(c, sub, path, depth + 1);
        } else if (matches(c, path)) {
            if (unlinkat(dirfd(d), de->d_name, 0) == 0)
                c->deleted++;
            else if (errno != ENOENT && c->r >= 0)
                c->r = -errno;
        }
    }
    closedir(d);
}

int
workspace_clean(const char *path, const struct ws_pattern *patterns, size_t n, bool delete_dirs,
                size_t *ret_deleted)
{
    struct cleaner c = { .patterns = patterns, .n = n, .delete_dirs = delete_dirs };
    int fd;

    for (size_t i = 0; i < n; i++)
        c.any_include |= !patterns[i].exclude;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    clean_dir(&c, fd, "", 0);
    if (ret_deleted)
        *ret_deleted = c.deleted;
    return c.r;
}

int
workspace_open(const char *path, const char *const *segs, size_t n, int *ret_fd,
               struct stat *ret_st)
{
    _cleanup_close_ int cur = -1;
    struct stat st;

    cur = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cur < 0)
        return errno == ENOTDIR ? -ELOOP : -errno;
    for (size_t i = 0; i < n; i++) {
        const char *s = segs[i];
        int next;

        if (!*s || streq(s, ".") || streq(s, "..") || strchr(s, '/'))
            return -EACCES;
        if (fstatat(cur, s, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return -errno;
        if (S_ISLNK(st.st_mode))
            return -ELOOP;
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
            return -EACCES;
        if (i + 1 < n && !S_ISDIR(st.st_mode))
            return -ENOENT;
        /* O_NONBLOCK: what was a file a moment ago may be a FIFO now; the fstat below says */
        next = openat(cur, s, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (next < 0)
            return errno == ELOOP ? -ELOOP : -errno;
        close(cur);
        cur = next;
    }
    if (fstat(cur, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return -EACCES;
    if (S_ISREG(st.st_mode)) {
        /* reads block as files do */
        int fl = fcntl(cur, F_GETFL);
        if (fl >= 0)
            (void) fcntl(cur, F_SETFL, fl & ~O_NONBLOCK);
    }
    *ret_fd = TAKE_FD(cur);
    *ret_st = st;
    return 0;
}
