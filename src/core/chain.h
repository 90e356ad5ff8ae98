/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Chains of jobs, as Jenkins' dependency graph has them: a job's
 * post-build triggers (hudson.tasks.BuildTrigger, the Parameterized
 * Trigger plugin's BuildTrigger) make the jobs they name its downstream
 * projects, and a job's jenkins.triggers.ReverseBuildTrigger makes it a
 * downstream project of the jobs it names.
 *
 * The engine asks chain_plan_make() what a build that ended triggers,
 * and queues those builds through its ordinary trigger path, as the
 * system: no user's permission is checked (Jenkins runs them as SYSTEM
 * too). A chain never loops: a job upstream of the build in its chain is
 * not triggered again, and a chain stops at BOUND_CHAIN_DEPTH jobs, each
 * with a line in the console.
 *
 * Everything here reads job summaries and the build's own state; nothing
 * writes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jobs.h"
#include "store/store.h"
#include "util/buf.h"

/*
 * The jobs directly downstream of `job` (downstream) or upstream of it,
 * that exist, sorted by name; each is a new reference (free the list with
 * jobs_list_free()). 0 or -ENOMEM.
 */
int chain_neighbours(struct jobs *jobs, const struct job *job, bool downstream,
                     struct job ***ret_list, size_t *ret_n);

/*
 * Whether a build of `job` waits for another job of its chain:
 * blockBuildWhenDownstreamBuilding and a job downstream of it
 * (transitively) building, or blockBuildWhenUpstreamBuilding and one
 * upstream of it. building(userdata, name) says whether a job has a build
 * running. Returns true with that job's name in *ret_name (newly
 * allocated; NULL when out of memory) and which way in *ret_upstream.
 */
bool chain_blocked(struct jobs *jobs, const struct job *job,
                   bool (*building)(void *userdata, const char *name), void *userdata,
                   char **ret_name, bool *ret_upstream);

/* The queue item's `why` for that, as Jenkins says it. Newly allocated. */
char *chain_why(const char *name, bool upstream);

/*
 * After a rename: every job whose triggers or reverse trigger name `from`
 * names `to` instead (config.xml rewritten, as Jenkins does). Sets
 * *ret_changed (may be NULL) to how many jobs changed; 0, or the first
 * error of a job that could not be changed (the others still are).
 */
int chain_rename(struct jobs *jobs, const char *from, const char *to, size_t *ret_changed);

/* A build that ended, as chain_plan_make() reads it (everything lent). */
struct chain_ended {
    const char *job;
    int64_t number;
    const char *result;              /* "SUCCESS", ... */
    const struct job_config *cfg;    /* the job's whole config (its publishers) */
    const struct queue_row *row;     /* the build's parameters and causes */
    const char *workspace;           /* where properties files are read; NULL: none */
    char *const *env;                /* the build's NAME=value environment, for ${NAME}; may be NULL */
};

/* One build to queue: every parameter of the job, its defaults filled in. */
struct chain_request {
    char *job;
    struct param_value *params;
    size_t n_params;
    bool defaults;        /* every parameter at its default (a plain or reverse trigger) */
};

struct chain_plan {
    struct chain_request *reqs;
    size_t n;
    struct cause cause;   /* CAUSE_UPSTREAM, the same for every request */
    struct buf log;       /* lines for the upstream build's console */
};

/*
 * What the build triggers: its triggers whose condition its result meets,
 * and the jobs whose reverse trigger names it. Each job is checked
 * (exists, enabled, parameters valid, not upstream of the build already)
 * and what is not triggered says why in ret->log. 0 (with ret->n maybe 0)
 * or -ENOMEM; release with chain_plan_release() either way.
 */
int chain_plan_make(struct jobs *jobs, const struct chain_ended *b, struct chain_plan *ret);
void chain_plan_release(struct chain_plan *p);

/*
 * Parses Java properties text (KEY=VALUE, KEY: VALUE, comments, line
 * continuations, \uXXXX escapes) and calls fn for each pair in order.
 * 0, or fn's negative return, or -ENOMEM.
 */
int chain_parse_properties(const char *text, int (*fn)(void *userdata, const char *key,
                                                       const char *value),
                           void *userdata);

/*
 * $NAME and ${NAME} in `s` replaced by their value in env (NAME=value
 * strings); an unknown name is left as written. Newly allocated, NULL
 * when out of memory or past `max` bytes.
 */
char *chain_expand(const char *s, char *const *env, size_t max);

/*
 * Reads the file `rel` of `workspace` without following a symbolic link
 * anywhere below the workspace and refusing "..": -ELOOP for a link,
 * -EPERM for an absolute path or "..", -ENOENT, -EFBIG past `max` bytes,
 * -EISDIR / -EINVAL for what is not a regular file. Newly allocated,
 * NUL-terminated.
 */
int chain_read_workspace_file(const char *workspace, const char *rel, size_t max, char **ret,
                              size_t *ret_len);
