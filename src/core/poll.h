/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * SCM polling (hudson.triggers.SCMTrigger) of Git jobs: `git ls-remote`
 * of each remote, in the build sandbox as the build user and without
 * touching the workspace, then a comparison of the branches the job's
 * specs match with what earlier builds built. The engine runs the step
 * and schedules a build with "Started by an SCM change" when this says so.
 */

#include <stdbool.h>

#include "core/jobcfg.h"
#include "util/buf.h"

/* The poll's log, in the job's directory, as the git plugin names it. */
#define POLL_LOG_FILE "scm-polling.log"

/*
 * The poll step's script: for each remote, a line "remote NAME" and the
 * `git ls-remote --heads --tags` lines of its URL, into $STEWARD_POLL_OUT;
 * the commands go to its standard output (the poll log).
 */
extern const char poll_script[];

/*
 * Whether the remotes have changes to build. `lsremote` is what the
 * script wrote; `params` (NAME=value, NULL-terminated) expand ${PARAM}
 * in the branch specs; `previous` is "BRANCH SHA" lines of earlier
 * builds, newest first (as the checkout gets them); `has_builds` whether
 * the job was ever built. What was found is said in `log`. 0, -EINVAL
 * for output that does not parse, -ENOMEM.
 */
int poll_decide(const struct git_scm *g, const char *lsremote, const char *const *params,
                const char *previous, bool has_builds, struct buf *log, bool *ret_changed);
