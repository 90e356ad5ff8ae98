/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/home.h"
#include "core/upload.h"
#include "http/app.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strutil.h"

char *
app_root_url(const struct app *app, const struct req *req)
{
    return app->root_url ? strdup(app->root_url) : req_root_url(req);
}

/* The public URL's path, so that two servers behind one host keep their cookies apart. */
static const char *
cookie_path(const char *root)
{
    const char *path = root ? strstr(root, "://") : NULL;

    path = path ? strchr(path + 3, '/') : NULL;
    if (!path || strpbrk(path, ";, \t\r\n\"\\"))
        path = "/";
    return path;
}

const char *
app_cookie(const char *root, const char *name, const char *value, int max_age_s)
{
    return rfmt("%s=%s; Path=%s; Max-Age=%d; HttpOnly; SameSite=Strict%s", name, value,
                cookie_path(root), max_age_s,
                root && startswith(root, "https:") ? "; Secure" : "");
}

const char *
app_session_cookie(const char *root, const char *sid)
{
    const char *path = cookie_path(root);

    if (!*sid)
        return rfmt("%s=; Path=%s; Max-Age=0; HttpOnly; SameSite=Lax", SESSION_COOKIE, path);
    return rfmt("%s=%s; Path=%s; HttpOnly; SameSite=Lax%s", SESSION_COOKIE, sid, path,
                root && startswith(root, "https:") ? "; Secure" : "");
}

int
app_start_session(const struct app *app, struct req *req, struct resp *resp)
{
    char *root = app_root_url(app, req), sid[65];
    int r;

    r = auth_session_new(app->auth, req->db, &req->id, sid);
    if (r >= 0) {
        resp_header(resp, "Set-Cookie", app_session_cookie(root, sid));
        memcpy(req->session_id, sid, sizeof sid);
    }
    free(root);
    return r;
}

int
app_audit_filter(const struct req *req, struct audit_filter *ret, const char **reterr_why)
{
    const char *since = req_param(req, "since"), *until = req_param(req, "until");
    const char *before = req_param(req, "before"), *limit = req_param(req, "limit");
    int64_t now = now_ms(), v;

    *ret = (struct audit_filter){ .actor = req_param(req, "user"), .job = req_param(req, "job"),
                                  .action = req_param(req, "action"), .limit = 100 };
    if (since && *since && audit_parse_time(since, now, &ret->since_ms) < 0) {
        *reterr_why = "since= is a time: milliseconds since the epoch, 2026-12-05, "
                      "2026-12-05T14:30Z, or 30m, 12h, 7d ago.";
        return -EINVAL;
    }
    if (until && *until && audit_parse_time(until, now, &ret->until_ms) < 0) {
        *reterr_why = "until= is a time: milliseconds since the epoch, 2026-12-05, "
                      "2026-12-05T14:30Z, or 30m, 12h, 7d ago.";
        return -EINVAL;
    }
    if (before && *before) {
        if (parse_int64(before, 1, INT64_MAX, &v) < 0) {
            *reterr_why = "before= is an entry's id (from the previous page's next link).";
            return -EINVAL;
        }
        ret->before_id = v;
    }
    if (limit && *limit) {
        if (parse_int64(limit, 1, AUDIT_PAGE_MAX, &v) < 0) {
            *reterr_why = "limit= is a number of entries, 1 to 1000.";
            return -EINVAL;
        }
        ret->limit = (int) v;
    }
    /* empty fields of the page's form mean "any" */
    if (ret->actor && !*ret->actor)
        ret->actor = NULL;
    if (ret->job && !*ret->job)
        ret->job = NULL;
    if (ret->action && !*ret->action)
        ret->action = NULL;
    return 0;
}

const char *
app_via_name(enum auth_via via)
{
    static const char *const names[] = { [VIA_NONE] = "none", [VIA_TOKEN] = "apiToken",
                                         [VIA_PASSWORD] = "password", [VIA_SESSION] = "session" };

    return (size_t) via < ELEMENTSOF(names) ? names[via] : "?";
}

void
app_audit(struct req *req, const char *action, const char *job, const char *fmt, ...)
{
    _cleanup_free_ char *detail = NULL;
    va_list ap;
    int r;

    if (fmt) {
        va_start(ap, fmt);
        if (vasprintf(&detail, fmt, ap) < 0)
            detail = NULL;
        va_end(ap);
    }
    r = store_audit_add(req->db, &(struct audit_entry){
                                     .actor = req->id.anonymous ? "anonymous" : req->id.name,
                                     .via = app_via_name(req->id.via),
                                     .token_name = req->id.via == VIA_TOKEN ? req->id.token_name
                                                                            : NULL,
                                     .addr = req->addr, .action = action, .job = job,
                                     .detail = detail });
    if (r < 0)
        log_warn("audit: cannot record %s by %s: %s", action, req->id.name, strerror(-r));
}

bool
app_anonymous_read(const struct req *req)
{
    return auth_anonymous_read(req->db);
}

enum authz_strategy
app_strategy(struct store *db)
{
    return auth_strategy(db);
}

int
app_global_grants(struct store *db, struct grant **ret, size_t *ret_n)
{
    return auth_global_grants(db, ret, ret_n);
}

struct perm_subject
app_subject(const struct req *req)
{
    return (struct perm_subject){ .anonymous = req->id.anonymous,
                                  .user = req->id.anonymous ? NULL : req->id.name,
                                  .is_admin = !req->id.anonymous && req->id.is_admin };
}

int
app_authorize(struct req *req)
{
    struct perm_subject who = app_subject(req);
    const struct auth_policy *p;

    if (req->authorized)
        return 0;
    req->authorized = true;
    req->perms = 0;
    if (req->auth) {
        /* the server's path: what the store says, kept between requests */
        p = auth_policy_get(req->auth, req->db);
        if (!p) {
            req->authz = AUTHZ_MATRIX;
            return -EIO;
        }
        req->authz = p->authz;
        req->perms = perm_global(p->authz, p->grants, p->n_grants,
                                 req->id.anonymous && p->anonymous_read, &who);
        auth_policy_put(req->auth, p);
    } else {
        struct grant *g = NULL;
        size_t n = 0;
        int r;

        req->authz = app_strategy(req->db);
        if (req->authz != AUTHZ_LOGGED_IN && !who.is_admin) {
            r = app_global_grants(req->db, &g, &n);
            if (r < 0)
                return r;
        }
        req->perms = perm_global(req->authz, g, n, req->id.anonymous && app_anonymous_read(req),
                                 &who);
        grants_free(g, n);
    }
    /* a limited API token: no more than its scopes allow */
    if (req->id.via == VIA_TOKEN)
        req->perms &= scopes_allow(req->id.token_scopes);
    return 0;
}

bool
app_token_hides(const struct req *req, const char *job)
{
    return req->id.via == VIA_TOKEN && req->id.token_jobs[0] && job &&
           !token_job_ok(req->id.token_jobs, job);
}

perm_set
app_perms(struct req *req, const struct job *job)
{
    struct perm_subject who = app_subject(req);

    (void) app_authorize(req);
    if (!job)
        return req->perms;
    /* a token limited to some jobs sees no other */
    if (app_token_hides(req, job->name))
        return req->perms & PERM_BIT(PERM_READ);
    return perm_on_job(req->authz, req->perms, &job->cfg->matrix, &who) &
           (req->id.via == VIA_TOKEN ? scopes_allow(req->id.token_scopes) : PERM_ALL);
}

bool
app_may(struct req *req, enum perm p, const struct job *job)
{
    return (app_perms(req, job) & PERM_BIT(p)) != 0;
}

bool
app_can_read(struct req *req)
{
    return app_may(req, PERM_READ, NULL);
}

int
app_keep_uploads(const struct app *app, struct req *req, const struct param_value *params,
                 size_t n)
{
    _cleanup_free_ char *dir = upload_dir(app->home->root);
    char h[UPLOAD_HASH_LEN + 1];
    const char *name;
    size_t held = 0;
    int r = dir ? 0 : -ENOMEM;

    for (size_t i = 0; i < n && r >= 0; i++) {
        if (params[i].type != PARAM_FILE || upload_value_parse(params[i].value, h, &name) < 0)
            continue;
        for (size_t k = 0; k < req->n_files && r >= 0; k++) {
            struct req_file *f = &req->files[k];

            if (!f->path || !streq(f->sha256, h))
                continue;
            r = engine_hold_upload(app->engine, h);
            if (r < 0)
                break;
            held = i + 1;
            r = upload_keep(dir, f->path, h);
            if (r < 0)
                log_warn("uploads: cannot keep %s: %s", f->path, strerror(-r));
            else
                f->path = mfree(f->path);
            break;
        }
    }
    if (r >= 0)
        return 0;
    for (size_t i = 0; i < held; i++)
        if (params[i].type == PARAM_FILE && upload_value_parse(params[i].value, h, &name) == 0)
            engine_unhold_upload(app->engine, h);
    return r;
}
