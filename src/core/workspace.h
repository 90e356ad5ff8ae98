/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Workspaces, as Jenkins lays them out: HOME/workspace/JOB for a job's
 * first build, JOB@2, JOB@3... for builds that run at the same time
 * (WorkspaceList), JOB@tmp beside each, or the job's <customWorkspace>.
 *
 * A workspace is written by untrusted build code: everything here works
 * through directory descriptors opened with O_NOFOLLOW, one path segment
 * at a time, so a symbolic link a build left in its workspace is never
 * followed out of it, whether browsing or deleting.
 *
 * A custom workspace is one name directly in HOME/workspace: "NAME",
 * "workspace/NAME" (relative to the home, as Jenkins reads it) or
 * "/path/to/HOME/workspace/NAME". Anything else would hand the build user
 * a directory outside the workspaces (the sandbox mounts the workspace
 * read-write and gives it to the build user), so it is refused.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "core/home.h"
#include "core/jobcfg.h"

struct jobs;

/* How deep a workspace is walked; deeper is left alone (-ELOOP). */
#define WORKSPACE_MAX_DEPTH 128

/*
 * Whether `custom` (<customWorkspace>, trimmed) has the shape above.
 * 0, or -EINVAL with *reterr_why (a static sentence).
 */
int workspace_custom_check(const char *custom, const char **reterr_why);

/*
 * The workspace builds of `job` take first: its custom workspace (NULL:
 * none), else HOME/workspace/JOB. 0 and a newly allocated *ret; -EINVAL
 * with *reterr_why for an absolute custom workspace outside
 * HOME/workspace (or one workspace_custom_check() refuses), or, with
 * `jobs`, one that is the workspace of another job of the registry (the
 * builds of one job never reach another's files); -ENOMEM.
 */
int workspace_base(const struct home *h, struct jobs *jobs, const char *job, const char *custom,
                   char **ret,
                   const char **reterr_why);

/*
 * The Workspace Cleanup plugin's patterns: deletes, below the workspace
 * at `path`, the files matching an INCLUDE pattern (every file when there
 * is none) and no EXCLUDE pattern; with `delete_dirs`, a matching
 * directory goes with all it holds. Links are deleted as links. Returns
 * 0 and the number of entries deleted (may be NULL), or -errno for the
 * first failure (the walk goes on past it). A missing workspace is 0.
 */
int workspace_clean(const char *path, const struct ws_pattern *patterns, size_t n,
                    bool delete_dirs, size_t *ret_deleted);

/*
 * Opens `segs[0]/segs[1]/...` below the workspace `path` for reading,
 * never following a link: 0 and *ret_fd (a regular file or a directory,
 * close-on-exec) with its *ret_st; -ENOENT when it is not there, -ELOOP
 * for a link on the way, -EACCES for "", ".", "..", a '/' in a segment,
 * or another kind of file (a FIFO, a device).
 */
int workspace_open(const char *path, const char *const *segs, size_t n, int *ret_fd,
                   struct stat *ret_st);

/* Deletes the tree `name` in the directory `dirfd` without following links. 0 or -errno. */
int workspace_rm_at(int dirfd, const char *name);
