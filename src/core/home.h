/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The home directory, in Jenkins' layout:
 *
 *   steward.db                  users, tokens, queue, builds, settings
 *   jobs/NAME/config.xml        job definitions
 *   jobs/NAME/builds/N/log      console logs
 *   workspace/NAME/             workspaces
 *   secrets/                    initialAdminPassword (0600)
 */

#include <stdint.h>

struct home {
    char *root;   /* absolute */
    char *db_path;
    char *jobs_dir;
    char *workspace_dir;
    char *secrets_dir;
};

/* Creates the directories that are missing. 0 or -errno. */
int home_open(const char *dir, struct home **ret_home);
struct home *home_free(struct home *h);

/* Each returns a newly allocated path, or NULL on allocation failure. */
char *home_job_dir(const struct home *h, const char *job);
char *home_job_config(const struct home *h, const char *job);
char *home_build_dir(const struct home *h, const char *job, int64_t number);
char *home_build_log(const struct home *h, const char *job, int64_t number);
char *home_workspace(const struct home *h, const char *job);
