/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Who may do what: Jenkins' permissions, the principals they are granted
 * to, and the three authorization strategies.
 *
 *   logged-in       every signed-in user may do everything but administer,
 *                   create, change or remove credentials, and create,
 *                   configure or delete nodes (administrators may); anonymous callers may read when
 *                   `steward security anonymous-read on` says so. The default.
 *   matrix          matrix-auth's global matrix: only what is granted, to a
 *                   user, to `authenticated` (every signed-in user) or to
 *                   `anonymous`.
 *   project-matrix  the global matrix, plus each job's
 *                   hudson.security.AuthorizationMatrixProperty in its
 *                   config.xml (which adds to the global grants, or with
 *                   NonInheritingStrategy replaces them for that job).
 *
 * In every strategy a user flagged administrator (`steward user admin NAME
 * on`) holds Overall/Administer, and Overall/Administer implies every
 * other permission. This module is pure: the grants come from the store
 * (global) and from jobcfg (per job).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum perm {
    PERM_ADMINISTER,        /* Overall/Administer: hudson.model.Hudson.Administer */
    PERM_READ,              /* Overall/Read: hudson.model.Hudson.Read */
    PERM_JOB_READ,          /* Job/Read: see a job and its builds */
    PERM_JOB_EXTENDED_READ, /* Job/ExtendedRead: read config.xml, trigger token masked */
    PERM_JOB_BUILD,
    PERM_JOB_CANCEL,
    PERM_JOB_CONFIGURE,
    PERM_JOB_CREATE,
    PERM_JOB_DELETE,
    PERM_JOB_WORKSPACE,
    PERM_RUN_DELETE,
    PERM_RUN_UPDATE,
    PERM_CREDENTIALS_VIEW,  /* list credentials (ids, kinds, descriptions), never their secrets */
    PERM_CREDENTIALS_CREATE,
    PERM_CREDENTIALS_UPDATE,
    PERM_CREDENTIALS_DELETE,
    PERM_JOB_WIPEOUT,       /* Job/WipeOut: POST /job/NAME/doWipeOutWorkspace */
    /* Agent/...: hudson.model.Computer.*, global only (not a job's) */
    PERM_COMPUTER_BUILD,        /* run builds on a node (the engine's business) */
    PERM_COMPUTER_CONFIGURE,    /* POST a node's config.xml */
    PERM_COMPUTER_CONNECT,      /* bring a node back online */
    PERM_COMPUTER_CREATE,       /* /computer/doCreateItem */
    PERM_COMPUTER_DELETE,       /* /computer/NAME/doDelete */
    PERM_COMPUTER_DISCONNECT,   /* take a node offline (toggleOffline) */
    PERM_COMPUTER_EXTENDED_READ, /* GET a node's config.xml */
    _PERM_MAX,
};

typedef uint32_t perm_set;
#define PERM_BIT(p) ((perm_set) 1 << (p))
#define PERM_ALL (PERM_BIT(_PERM_MAX) - 1)

/* "Job/Build" */
const char *perm_name(enum perm p);
/* "hudson.model.Item.Build": what config.xml and matrix-auth write */
const char *perm_id(enum perm p);
/* Which permissions a grant of `p` brings: itself and what it implies. */
perm_set perm_implied(enum perm p);
/*
 * True for the permissions that can be granted on a job (Job/..., Run/...,
 * Credentials/...); not Job/Create nor Agent/... .
 */
bool perm_is_item(enum perm p);

/*
 * Reads a permission: its id ("hudson.model.Item.Build"), its name
 * ("Job/Build", any case) or jenkins-job-builder's ("job-build").
 * Returns 0, or -ENOENT for a well-formed id of a permission Steward does
 * not use (hudson.model.Item.Discover, a plugin's), or -EINVAL.
 */
int perm_parse(const char *s, enum perm *ret);

enum principal_kind {
    PRINCIPAL_USER,    /* USER:perm:sid */
    PRINCIPAL_GROUP,   /* GROUP:perm:sid */
    PRINCIPAL_EITHER,  /* perm:sid, the form before matrix-auth 3 (what JJB writes) */
};

/*
 * One grant: a permission to a principal. The sids `anonymous` (callers
 * without credentials) and `authenticated` (every signed-in user) are the
 * pseudo-users; another sid is a user's name. Steward has no groups: a
 * GROUP grant to another sid matches nobody.
 */
struct grant {
    enum principal_kind kind;
    enum perm perm;
    char *sid;
};

#define PERM_SID_ANONYMOUS "anonymous"
#define PERM_SID_AUTHENTICATED "authenticated"

/*
 * Parses a matrix-auth entry: "USER:hudson.model.Item.Build:bob",
 * "GROUP:...:authenticated" or "hudson.model.Item.Build:bob". The sid is
 * the rest of the line (it may hold ':'). Returns 0 with ret->sid newly
 * allocated, -ENOENT for a permission Steward does not use (see
 * perm_parse), -EINVAL, -ENOMEM.
 */
int grant_parse(const char *s, struct grant *ret);
/*
 * A new grant of `p` to `sid`, as matrix-auth 3 writes one: GROUP for
 * `authenticated`, USER for every other sid. 0, -EINVAL for a sid that is
 * empty, longer than a user name or not printable ASCII, -ENOMEM.
 */
int grant_new(const char *sid, enum perm p, struct grant *ret);
/* "USER:hudson.model.Item.Build:bob" (or GROUP:, or no prefix for EITHER), newly allocated. */
char *grant_format(const struct grant *g);
void grants_free(struct grant *g, size_t n);

/* The caller a check is for. */
struct perm_subject {
    bool anonymous;
    const char *user;   /* NULL when anonymous */
    bool is_admin;
};

/* Does grant g apply to `who`? */
bool grant_matches(const struct grant *g, const struct perm_subject *who);
/* Everything the grants that match `who` bring, implications included. */
perm_set perm_granted(const struct grant *g, size_t n, const struct perm_subject *who);

enum authz_strategy {
    AUTHZ_LOGGED_IN,
    AUTHZ_MATRIX,
    AUTHZ_PROJECT_MATRIX,
};

/* "logged-in", "matrix", "project-matrix" */
const char *authz_name(enum authz_strategy s);
int authz_parse(const char *s, enum authz_strategy *ret);

/*
 * The permissions `who` holds outside any job. `global` are the global
 * matrix's grants (unused by AUTHZ_LOGGED_IN); `anonymous_read` is the
 * logged-in strategy's setting.
 */
perm_set perm_global(enum authz_strategy s, const struct grant *global, size_t n_global,
                     bool anonymous_read, const struct perm_subject *who);

/*
 * Least-privilege API tokens (Steward's own: a Jenkins token has all its
 * user's rights). A token may carry scopes, which bound what it may do
 * whatever its user may; a list of job names and glob patterns outside
 * of which it sees nothing; and an expiry (core/auth). Each scope brings
 * Overall/Read and Job/Read, so that the jobs it acts on are visible:
 *
 *   read       Job/ExtendedRead, Job/Workspace, Credentials/View
 *   build      Job/Build (and so Job/Cancel)
 *   cancel     Job/Cancel
 *   configure  Job/Configure, Job/Create, Job/Delete, Job/ExtendedRead,
 *              Run/Delete, Run/Update
 *   admin      everything, Overall/Administer included
 */
enum token_scope {
    SCOPE_READ = 1 << 0,
    SCOPE_BUILD = 1 << 1,
    SCOPE_CANCEL = 1 << 2,
    SCOPE_CONFIGURE = 1 << 3,
    SCOPE_ADMIN = 1 << 4,
};

/* "read,build" into *ret (never 0). 0, or -EINVAL with *reterr_why (static). */
int scopes_parse(const char *s, unsigned *ret, const char **reterr_why);
/* "read,build", into out (at least 64 bytes). */
const char *scopes_format(unsigned scopes, char *out, size_t size);
/* What the scopes allow; PERM_ALL for 0 (no scopes: every right of the user). */
perm_set scopes_allow(unsigned scopes);
/* The scope that allows `p` (for a refusal's words). */
const char *scope_for(enum perm p);

/*
 * A token's job list: comma-separated job names and glob patterns
 * (fnmatch(3): *, ?, [..]), at most BOUND_TOKEN_JOBS_BYTES. 0, or -EINVAL.
 * token_job_ok() says whether `job` is in the list (NULL or "": every job).
 */
int token_jobs_check(const char *jobs, const char **reterr_why);
bool token_job_ok(const char *jobs, const char *job);

/* A job's own matrix (its AuthorizationMatrixProperty), as jobcfg reads it. */
struct job_matrix {
    bool present;       /* the job has the property */
    bool inherit;       /* false for NonInheritingStrategy (or <blocksInheritance>) */
    struct grant *grants;
    size_t n_grants;
};

/*
 * The permissions `who` holds on a job: `global` from perm_global(), and
 * under AUTHZ_PROJECT_MATRIX the job's own grants added to them, or, for
 * a job that does not inherit, taking the place of every global grant but
 * Overall/Read and Overall/Administer. A job's grant of a permission that
 * is not a job's (Overall/..., Job/Create) is ignored, as matrix-auth does.
 */
perm_set perm_on_job(enum authz_strategy s, perm_set global, const struct job_matrix *m,
                     const struct perm_subject *who);
