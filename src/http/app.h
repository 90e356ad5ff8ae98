/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What a request handler works with: the core objects, and the few
 * server-wide settings. Built by the daemon; api/ and web/ only read it.
 */

#include "core/audit.h"
#include "core/auth.h"
#include "core/engine.h"
#include "core/home.h"
#include "core/jobs.h"
#include "core/nodes.h"
#include "http/http.h"

#define SESSION_COOKIE "STEWARD_SESSION"
#define CRUMB_FIELD "Jenkins-Crumb"

struct app {
    struct home *home;
    struct jobs *jobs;
    struct nodes *nodes;    /* the agents (core/nodes.h) */
    struct engine *engine;
    struct auth *auth;
    const char *root_url;   /* --url with a trailing '/', or NULL: taken from each request's Host */
    int executors;
};

/*
 * Keeps the uploads of a trigger's file parameters (`params`, values made
 * with upload_value() from the request's files) durably in HOME/uploads,
 * each held in the engine until the trigger is applied
 * (engine_hold_upload()); hand the trigger to the engine next. 0, or
 * -errno (-ENOSPC...) with nothing held.
 */
int app_keep_uploads(const struct app *app, struct req *req, const struct param_value *params,
                     size_t n);

/* The root URL for answers to this request, newly allocated. */
char *app_root_url(const struct app *app, const struct req *req);
/*
 * The Set-Cookie value for session `sid` ("" ends the session), scoped to
 * the path of the public root URL `root`, Secure under https; lent (rfmt).
 */
const char *app_session_cookie(const char *root, const char *sid);
/*
 * Any other cookie of ours, the same way (HttpOnly, the public root's
 * path, Secure under https), with SameSite=Strict and a lifetime in
 * seconds; lent (rfmt).
 */
const char *app_cookie(const char *root, const char *name, const char *value, int max_age_s);

/*
 * Starts a web session for the request's identity and adds its
 * Set-Cookie (HttpOnly, SameSite=Lax, Secure when the root URL is https)
 * to the answer. Writes the session id into req->session_id. 0 or -errno.
 */
int app_start_session(const struct app *app, struct req *req, struct resp *resp);

/*
 * Writes an entry of the audit log for this request: its identity (user,
 * how it authenticated, which token) and address, the action, the job
 * (or NULL) and a detail (printf, or NULL). A failure to write is logged,
 * never the request's.
 */
void app_audit(struct req *req, const char *action, const char *job, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/*
 * The audit log's filter from a request's fields: since=, until= (as
 * audit_parse_time() reads them), user=, job=, action=, before= (an entry
 * id, for the next page) and limit= (1 to AUDIT_PAGE_MAX, 100 by default).
 * 0, or -EINVAL with *reterr_why saying which field is wrong (lent).
 */
int app_audit_filter(const struct req *req, struct audit_filter *ret, const char **reterr_why);
/* How an identity authenticated, as the audit log says it. */
const char *app_via_name(enum auth_via via);

/* True when anonymous callers may read (steward security anonymous-read on). */
bool app_anonymous_read(const struct req *req);

/* The strategy in force (steward security authorization), from the store. */
enum authz_strategy app_strategy(struct store *db);
/*
 * The global matrix's grants, from the store (entries that no longer
 * parse are skipped). 0 or -errno; *ret_n may be 0.
 */
int app_global_grants(struct store *db, struct grant **ret, size_t *ret_n);

/*
 * Works out what the request's identity may do outside any job, once;
 * app_may() calls it when needed. 0 or -errno (the store failed: the
 * request then holds no permission).
 */
int app_authorize(struct req *req);
/* The caller as core/perm sees it. */
struct perm_subject app_subject(const struct req *req);
/* True when the request's API token is limited to jobs that `job` is not one of. */
bool app_token_hides(const struct req *req, const char *job);
/* What the caller may do on a job (NULL: outside any job). */
perm_set app_perms(struct req *req, const struct job *job);
/* May the caller do `p`, on `job` (NULL for a global permission)? */
bool app_may(struct req *req, enum perm p, const struct job *job);
/* May the caller see jobs, builds and the queue at all (Overall/Read)? */
bool app_can_read(struct req *req);
