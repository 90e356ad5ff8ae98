/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/home.h"
#include "util/fs.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

int
home_open(const char *dir, struct home **ret_home)
{
    struct home *h;
    char real[PATH_MAX];
    int r;

    r = fs_mkdir_p(dir, 0700);
    if (r < 0)
        return r;
    if (!realpath(dir, real))
        return -errno;
    /* the server's alone, even where an older version or a person made it 0755 */
    if (chmod(real, 0700) < 0 && errno != EPERM)
        return -errno;
    h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->root = strdup(real);
    h->db_path = path_join(real, "steward.db");
    h->jobs_dir = path_join(real, "jobs");
    h->workspace_dir = path_join(real, "workspace");
    h->secrets_dir = path_join(real, "secrets");
    if (!h->root || !h->db_path || !h->jobs_dir || !h->workspace_dir || !h->secrets_dir) {
        home_free(h);
        return -ENOMEM;
    }
    r = fs_mkdir_p(h->jobs_dir, 0700);
    if (r >= 0)
        r = fs_mkdir_p(h->workspace_dir, 0700);
    if (r >= 0)
        r = fs_mkdir_p(h->secrets_dir, 0700);
    if (r < 0) {
        home_free(h);
        return r;
    }
    *ret_home = h;
    return 0;
}

struct home *
home_free(struct home *h)
{
    if (h) {
        free(h->root);
        free(h->db_path);
        free(h->jobs_dir);
        free(h->workspace_dir);
        free(h->secrets_dir);
        free(h);
    }
    return NULL;
}

int
home_lock(const struct home *h, int *ret_fd, pid_t *reterr_pid)
{
    _cleanup_free_ char *path = path_join(h->root, ".lock");
    _cleanup_close_ int fd = -1;
    struct stat home_st, st;
    char line[32];
    ssize_t n;

    if (!path)
        return -ENOMEM;
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    /* root (a restore, say) must not leave a lock file the server's user cannot open */
    if (fstat(fd, &st) == 0 && stat(h->root, &home_st) == 0 &&
        (st.st_uid != home_st.st_uid || st.st_gid != home_st.st_gid))
        (void) !fchown(fd, home_st.st_uid, home_st.st_gid);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        int64_t pid = 0;

        if (err != EWOULDBLOCK)
            return -err;
        n = pread(fd, line, sizeof line - 1, 0);
        line[n > 0 ? n : 0] = '\0';
        line[strcspn(line, "\n")] = '\0';
        if (parse_int64(line, 1, INT32_MAX, &pid) < 0)
            pid = 0;
        *reterr_pid = (pid_t) pid;
        return -EBUSY;
    }
    snprintf(line, sizeof line, "%d\n", (int) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, line, strlen(line), 0) < 0)
        return -errno;
    *ret_fd = TAKE_FD(fd);
    return 0;
}

char *
home_job_dir(const struct home *h, const char *job)
{
    return strdup_printf("%s/%s", h->jobs_dir, job);
}

char *
home_job_config(const struct home *h, const char *job)
{
    return strdup_printf("%s/%s/config.xml", h->jobs_dir, job);
}

char *
home_build_dir(const struct home *h, const char *job, int64_t number)
{
    return strdup_printf("%s/%s/builds/%lld", h->jobs_dir, job, (long long) number);
}

char *
home_build_log(const struct home *h, const char *job, int64_t number)
{
    return strdup_printf("%s/%s/builds/%lld/log", h->jobs_dir, job, (long long) number);
}

char *
home_workspace(const struct home *h, const char *job)
{
    return strdup_printf("%s/%s", h->workspace_dir, job);
}

void
home_forget_initial_password(const struct home *h, const char *old_hash)
{
    _cleanup_free_ char *path = path_join(h->secrets_dir, "initialAdminPassword");
    _cleanup_free_ char *data = NULL;
    size_t len = 0;

    if (!path || !old_hash || fs_read_all(path, 256, &data, &len) < 0)
        return;
    data[strcspn(data, "\r\n")] = '\0';
    if (secret_verify_password(old_hash, data))
        (void) unlink(path);
    secret_wipe(data, len);
}
