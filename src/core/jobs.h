/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The job registry: every job under HOME/jobs, kept in memory as a
 * summary (core/jobcfg.h: no parsed document, no shell steps, the trigger
 * token as a hash); config.xml itself is read when it is served, edited
 * or built. A `struct job` is an immutable, reference-counted snapshot:
 * changing a job writes config.xml and publishes a new snapshot, and
 * whoever holds the old one keeps a consistent view. All functions are
 * safe to call from any thread.
 *
 * The summaries are also kept in an index in steward.db, each with the
 * identity (inode, size, mtime, ctime) of the file it was read from, so a
 * start reads the index and not 10,000 files. What the index says is then
 * checked against the disk: a job is compared with its file when it is
 * first asked for, the whole list in the background, and a list waits for
 * that check, so no answer ever comes from a file that changed while the
 * server was stopped.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/home.h"
#include "core/jobcfg.h"
#include "store/store.h"

struct job {
    int refs;                    /* atomic */
    char *name;
    struct job_config *cfg;      /* a summary (jobcfg_summary()) */
    struct job_ident ident;      /* of the config.xml it was read from */
    bool checked;                /* atomic; private to jobs.c */
    bool in_arena;               /* read at start: freed with the registry; private to jobs.c */
};

struct jobs;

/*
 * Loads the registry from the index, in a thread of its own: every other
 * function waits for it, so the server can answer what needs no job in
 * the meantime. jobs/NAME/config.xml files are then checked against it as
 * described above. Jobs whose file fails to parse are logged and skipped
 * (or keep the definition the index has). The thread begins at
 * jobs_begin_background(), or at the first call that needs the jobs.
 */
int jobs_load(const struct home *h, struct jobs **ret_jobs);
/* Lets the reading of the index and the first check of every file begin. */
void jobs_begin_background(struct jobs *j);
/*
 * Watches the jobs directory from a thread of its own: a config.xml
 * written on disk (by hand, or by a tool) is read again, and a new job
 * directory is loaded. A valid file replaces the job's definition; a
 * broken one is refused with one log line and the old definition is
 * kept. A config.xml removed by hand leaves the job until a restart.
 */
int jobs_watch(struct jobs *j);

/*
 * `fn(userdata)` is called after every job this registry publishes or
 * removes (saved, created, renamed, deleted, or changed on disk and read
 * again), from the thread that did it, with the registry's write lock held:
 * fn must not call back into the registry.
 */
void jobs_set_notify(struct jobs *j, void (*fn)(void *userdata), void *userdata);
/* Reads every job's config.xml again, as the watcher does for one (SIGHUP). */
int jobs_rescan(struct jobs *j);
struct jobs *jobs_free(struct jobs *j);

/* Returns a new reference to the job, or NULL when there is none. */
struct job *jobs_get(struct jobs *j, const char *name);
struct job *job_ref(struct job *job);
struct job *job_unref(struct job *job);
static inline void job_unrefp(struct job **p) { job_unref(*p); }

/*
 * The job's config.xml as it is on disk now (jobs_read_xml), or parsed
 * whole, with its document (jobs_read_config: for editing and building).
 * -ENOENT, -E2BIG, -errno; -EINVAL from jobcfg_parse() when the file no
 * longer parses (then *reterr_msg, when not NULL, says why, to be freed).
 */
int jobs_read_xml(struct jobs *j, const char *name, char **ret_xml, size_t *ret_len);
int jobs_read_config(struct jobs *j, const char *name, struct job_config **ret_cfg,
                     char **reterr_msg);
/* The same, and which file it was read from (as jobs_config_ident() tells it). */
int jobs_read_config_ident(struct jobs *j, const char *name, struct job_config **ret_cfg,
                           struct job_ident *ret_ident, char **reterr_msg);
/* Which file the job's config.xml is now: 0, -ENOMEM or -errno of its stat(). */
int jobs_config_ident(struct jobs *j, const char *name, struct job_ident *ret);

/* All jobs sorted by name, each a new reference; free with jobs_list_free. */
int jobs_list(struct jobs *j, struct job ***ret_list, size_t *ret_n);
void jobs_list_free(struct job **list, size_t n);
/*
 * Calls fn for every job, in no order, under the registry's read lock:
 * no reference is taken (fn takes one with job_ref() to keep a job), and
 * fn must not call into the registry. A negative return stops the walk
 * and is returned. For scans of every job that keep few of them.
 */
int jobs_each(struct jobs *j, int (*fn)(void *userdata, struct job *job), void *userdata);

/*
 * Checks a job name: not empty, at most BOUND_JOB_NAME_BYTES, valid UTF-8,
 * no '/', '\\', control characters, and not "." or "..", nor any of
 * Jenkins' unsafe characters (?*%<>|:;!@#$&[]^'"). Returns 0 or -EINVAL
 * with *reterr_msg set to a static explanation.
 */
int job_name_check(const char *name, const char **reterr_msg);

/*
 * Creates a job from config.xml bytes (stored as given). -EEXIST when the
 * name is taken, -EINVAL for a bad name or config (*reterr_msg, to be
 * freed, explains).
 */
int jobs_create(struct jobs *j, const char *name, const char *xml, size_t len, char **reterr_msg);
/* Replaces a job's config.xml with the given bytes. -ENOENT, -EINVAL as above. */
int jobs_update_xml(struct jobs *j, const char *name, const char *xml, size_t len,
                    char **reterr_msg);
/* Writes a changed config (taken over by the call, even on error). */
int jobs_update_cfg(struct jobs *j, const char *name, struct job_config *cfg);
/* Sets <disabled>. -ENOENT when there is no such job. */
int jobs_set_disabled(struct jobs *j, const char *name, bool disabled);
/* Removes the job from the registry and its directory (builds, config) from disk. */
int jobs_delete(struct jobs *j, const char *name);
/* Renames a job and its directories. -ENOENT, -EEXIST, -EINVAL. */
int jobs_rename(struct jobs *j, const char *from, const char *to);
