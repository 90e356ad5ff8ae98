/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/archive.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/macro.h"

/* Matches one path segment against a segment pattern with * and ?. */
static bool
seg_match(const char *p, const char *pe, const char *s, const char *se)
{
    while (p < pe) {
        if (*p == '*') {
            p++;
            if (p == pe)
                return true;
            for (const char *t = s; t <= se; t++)
                if (seg_match(p, pe, t, se))
                    return true;
            return false;
        }
        if (s == se || (*p != '?' && *p != *s))
            return false;
        p++;
        s++;
    }
    return s == se;
}

static const char *
seg_end(const char *s)
{
    const char *e = strchr(s, '/');
    return e ? e : s + strlen(s);
}

static bool
match_from(const char *p, const char *s)
{
    while (*p) {
        const char *pe = seg_end(p);

        if (pe - p == 2 && p[0] == '*' && p[1] == '*') {
            const char *rest = *pe ? pe + 1 : pe;
            if (!*rest)
                return true;
            for (const char *t = s;; t = seg_end(t) + 1) {
                if (match_from(rest, t))
                    return true;
                if (!*seg_end(t))
                    return false;
            }
        }
        if (!*s)
            return false;
        const char *se = seg_end(s);
        if (!seg_match(p, pe, s, se))
            return false;
        p = *pe ? pe + 1 : pe;
        s = *se ? se + 1 : se;
        if (!*p)
            return !*s;
    }
    return !*s;
}

bool
ant_match(const char *pattern, const char *path)
{
    struct buf b = BUF_INIT(4096);
    bool m;

    while (*pattern == ' ' || *pattern == '\t')
        pattern++;
    if (buf_puts(&b, pattern) < 0) {
        buf_release(&b);
        return false;
    }
    while (b.len && (b.ptr[b.len - 1] == ' ' || b.ptr[b.len - 1] == '\t'))
        b.ptr[--b.len] = '\0';
    if (b.len && b.ptr[b.len - 1] == '/')
        buf_puts(&b, "**");
    m = b.len > 0 && match_from(strncmp(b.ptr, "./", 2) == 0 ? b.ptr + 2 : b.ptr, path);
    buf_release(&b);
    return m;
}

/* True when `path` matches one of the comma-separated patterns. */
static bool
match_list(const char *list, const char *path)
{
    _cleanup_free_ char *copy = list ? strdup(list) : NULL;
    char *save = NULL;

    if (!copy)
        return false;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
        if (ant_match(p, path))
            return true;
    return false;
}

static bool
cancelled(const bool *cancel)
{
    return cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED);
}

int
archive_copy_file(int srcdir, const char *name, const char *dest_path, const bool *cancel,
                  uint64_t *copied)
{
    _cleanup_close_ int in = -1, out = -1;
    struct stat st;
    int fl;

    /*
     * The build may have put something else in the file's place since it
     * was looked at: O_NONBLOCK so that a FIFO does not hang the open,
     * then only a regular file is copied.
     */
    in = openat(srcdir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (in < 0 || fstat(in, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    fl = fcntl(in, F_GETFL);
    if (fl < 0 || fcntl(in, F_SETFL, fl & ~O_NONBLOCK) < 0)
        return -errno;
    out = open(dest_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0)
        return -errno;
    for (off_t off = 0; off < st.st_size;) {
        ssize_t n = sendfile(out, in, &off, (size_t) MIN(st.st_size - off, ARCHIVE_CHUNK_BYTES));
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        if (cancelled(cancel))
            return -ECANCELED;
    }
    *copied += (uint64_t) st.st_size;
    return 0;
}

struct walk {
    const char *includes;
    const char *excludes;
    const char *dest;
    const bool *cancel;
    size_t count;
    uint64_t bytes;
    archive_visit_fn *visit;    /* instead of copying, when not NULL */
    void *ctx;
};

static int
walk_dir(struct walk *w, int fd, const char *rel, int depth)
{
    DIR *d;
    struct dirent *de;
    int r = 0;

    /* deeper is not walked; the fd is this call's to close on every path */
    if (depth > 64) {
        close(fd);
        return 0;
    }
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    while (r >= 0 && (de = readdir(d))) {
        _cleanup_free_ char *path = NULL;
        struct stat st;

        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        if (cancelled(w->cancel)) {
            r = -ECANCELED;
            break;
        }
        if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0)
            return closedir(d), -ENOMEM;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            if (sub >= 0)
                r = walk_dir(w, sub, path, depth + 1);
        } else if (S_ISREG(st.st_mode) && match_list(w->includes, path) &&
                   !(w->excludes && match_list(w->excludes, path))) {
            _cleanup_free_ char *target = NULL;
            char *slash;

            if (w->visit) {
                r = w->visit(w->ctx, dirfd(d), de->d_name, path);
                continue;
            }
            target = path_join(w->dest, path);

            if (w->count >= ARCHIVE_MAX_FILES || w->bytes + (uint64_t) st.st_size > ARCHIVE_MAX_BYTES) {
                r = -E2BIG;
                break;
            }
            if (!target)
                return closedir(d), -ENOMEM;
            slash = strrchr(target, '/');
            *slash = '\0';
            r = fs_mkdir_p(target, 0700);
            *slash = '/';
            if (r >= 0)
                r = archive_copy_file(dirfd(d), de->d_name, target, w->cancel, &w->bytes);
            /* gone, or no longer a regular file, since fstatat(): as if never there */
            if (r == -EINVAL || r == -ELOOP || r == -ENOENT) {
                r = 0;
                continue;
            }
            if (r >= 0)
                w->count++;
        }
    }
    closedir(d);
    return r;
}

int
archive_collect(const char *workspace, const char *includes, const char *excludes,
                const char *dest, const bool *cancel, size_t *ret_count)
{
    struct walk w = { .includes = includes, .excludes = excludes, .dest = dest, .cancel = cancel };
    int fd, r;

    fd = open(workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    r = walk_dir(&w, fd, "", 0);
    *ret_count = w.count;
    return r;
}

int
archive_find(const char *workspace, const char *includes, const char *excludes,
             const bool *cancel, archive_visit_fn *visit, void *ctx)
{
    struct walk w = { .includes = includes, .excludes = excludes, .cancel = cancel,
                      .visit = visit, .ctx = ctx };
    int fd;

    fd = open(workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return walk_dir(&w, fd, "", 0);
}

void
artifacts_free(struct artifact *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i].relative_path);
    free(list);
}

struct lister {
    struct artifact *v;
    size_t n, max;
};

static int
list_dir(struct lister *l, const char *dir, const char *rel, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int r = 0;

    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while (r >= 0 && l->n < l->max && (de = readdir(d))) {
        _cleanup_free_ char *path = NULL, *full = NULL;
        struct stat st;

        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0 ||
            !(full = path_join(dir, de->d_name))) {
            r = -ENOMEM;
            break;
        }
        if (lstat(full, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 64)
            r = list_dir(l, full, path, depth + 1);
        else if (S_ISREG(st.st_mode)) {
            struct artifact *v = realloc(l->v, (l->n + 1) * sizeof *v);
            if (!v) {
                r = -ENOMEM;
                break;
            }
            l->v = v;
            v[l->n].relative_path = TAKE_PTR(path);
            v[l->n].size = (uint64_t) st.st_size;
            l->n++;
        }
    }
    closedir(d);
    return r;
}

static int
cmp_artifact(const void *a, const void *b)
{
    return strcmp(((const struct artifact *) a)->relative_path,
                  ((const struct artifact *) b)->relative_path);
}

int
archive_list(const char *dir, size_t max, struct artifact **ret_list, size_t *ret_n)
{
    struct lister l = { .max = max };
    int r = list_dir(&l, dir, "", 0);

    if (r < 0) {
        artifacts_free(l.v, l.n);
        return r;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp_artifact);
    *ret_list = l.v;
    *ret_n = l.n;
    return 0;
}
