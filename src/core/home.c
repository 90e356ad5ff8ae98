/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/home.h"
#include "util/fs.h"
#include "util/macro.h"
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
