/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The home directory, in Jenkins' layout:
 *
 *   steward.db                  users, tokens, queue, builds, settings
 *   jobs/NAME/config.xml        job definitions
 *   jobs/NAME/builds/N/log      console logs
 *   workspace/NAME/             workspaces
 *   secrets/                    initialAdminPassword, credentials.key (0600)
 *   .lock                       held (flock) by the server, and by a restore
 */

#include <stdint.h>
#include <sys/types.h>

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

/*
 * Takes an exclusive flock on HOME/.lock, without waiting, for as long as
 * *ret_fd stays open (it is close-on-exec, so builds never inherit it),
 * and writes the caller's pid into the file. `steward serve` holds it for
 * its lifetime and a restore while it works; the kernel lets it go when
 * the process ends, however it ends. -EBUSY when another process holds
 * it, with *reterr_pid set to the pid in the file (0 when unreadable).
 */
int home_lock(const struct home *h, int *ret_fd, pid_t *reterr_pid);

/* Each returns a newly allocated path, or NULL on allocation failure. */
char *home_job_dir(const struct home *h, const char *job);
char *home_job_config(const struct home *h, const char *job);
char *home_build_dir(const struct home *h, const char *job, int64_t number);
char *home_build_log(const struct home *h, const char *job, int64_t number);
char *home_workspace(const struct home *h, const char *job);

/*
 * A password is about to change from `old_hash`: secrets/initialAdminPassword
 * goes when it holds that old password (the first start's admin changing
 * it), as Jenkins removes it after its set-up. A no-op otherwise.
 */
void home_forget_initial_password(const struct home *h, const char *old_hash);
