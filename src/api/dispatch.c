/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "api/dispatch.h"
#include "util/bounds.h"
#include "util/strutil.h"

static void
method_not_allowed(const struct app *app, struct req *req, struct resp *resp, const struct route *r)
{
    const char *allow = (r->flags & ROUTE_POST) ? ((r->flags & ROUTE_GET) ? "GET, HEAD, POST" : "POST")
                                                : "GET, HEAD";

    resp_header(resp, "Allow", allow);
    refuse(app, req, resp,
           &(struct refusal){ .status = 405, .error = "Method not allowed",
                              .presented = rfmt("The request used %s.", req->method),
                              .fix = rfmt("Use %s for this URL.", allow) });
}

/* The HTTP layer's findings: false after answering. */
static bool
body_ok(const struct app *app, struct req *req, struct resp *resp, const struct route *r)
{
    if (req->body_problem == BODY_OK)
        return true;
    /* forms (and config.xml uploads) say it in their own words */
    if (r && (r->flags & ROUTE_FORM) && req->is_post &&
        ((r->flags & ROUTE_PAGE) || req->body_problem == BODY_TOO_LARGE))
        return true;
    {
        struct upload_refusal u;

        if (http_upload_refusal(req, &u)) {
            if (u.retry_after_s > 0)
                resp_header(resp, "Retry-After", rfmt("%d", u.retry_after_s));
            refuse(app, req, resp, &(struct refusal){ .status = u.status, .error = u.error,
                                                      .presented = u.presented, .fix = u.fix });
            free(u.presented);
            return false;
        }
    }
    switch (req->body_problem) {
    case BODY_TOO_LARGE:
        refuse(app, req, resp, &(struct refusal){ .status = 413, .error = "Request body too large",
                                                  .presented = rfmt("The limit is %d bytes.", BOUND_BODY_BYTES),
                                                  .fix = "Send a smaller body." });
        break;
    case HEADERS_TOO_LARGE:
        refuse(app, req, resp, &(struct refusal){ .status = 431, .error = "Request headers too large",
                                                  .presented = rfmt("The request line and headers pass the limit of %d bytes.", BOUND_HEADER_BYTES),
                                                  .fix = "Send fewer or shorter headers." });
        break;
    case URL_TOO_LONG:
        refuse(app, req, resp, &(struct refusal){ .status = 414, .error = "URI too long",
                                                  .presented = rfmt("The path and query pass the limit of %d bytes.", BOUND_URL_BYTES),
                                                  .fix = "Send long parameter values in a form body (POST, application/x-www-form-urlencoded)." });
        break;
    case BODY_TOO_MANY_FIELDS:
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Too many fields",
                                                  .presented = rfmt("The request has more than %d query and form fields.", BOUND_FORM_FIELDS),
                                                  .fix = "Send only the fields the URL takes." });
        break;
    default:
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Malformed URL or form",
                                                  .presented = "The path, query string or form body has a bad %-escape or a NUL byte.",
                                                  .fix = "Percent-encode values (curl --data-urlencode)." });
        break;
    }
    return false;
}

bool
route_check_job(const struct app *app, struct req *req, struct resp *resp, const struct job *job,
                const char *name, enum perm p)
{
    perm_set have = job ? app_perms(req, job) : 0;

    if (!job || !(have & PERM_BIT(PERM_JOB_READ))) {
        refuse_no_job(app, req, resp, name);
        return false;
    }
    if (!(have & PERM_BIT(p))) {
        refuse_permission(app, req, resp, p, name);
        return false;
    }
    return true;
}

/* Steps 2 to 4 of the header comment: false after answering. */
static bool
access_ok(const struct app *app, struct req *req, struct resp *resp, const struct route *r,
          struct job **ret_job)
{
    if (r->access == ROUTE_OPEN)
        return true;
    if (req->basic_failed) {
        refuse_bad_credentials(app, req, resp);
        return false;
    }
    if (r->access == ROUTE_SIGNED_IN || r->access == ROUTE_SELF_OR_ADMIN) {
        if (req->id.anonymous) {
            refuse_login_needed(app, req, resp, "This page");
            return false;
        }
        /* a limited token may read its user's pages: it cannot make itself a bigger token */
        if (req->is_post && req->id.via == VIA_TOKEN && req->id.token_scopes &&
            !(req->id.token_scopes & SCOPE_ADMIN)) {
            char have[64];

            refuse(app, req, resp,
                   &(struct refusal){ .status = 403,
                                      .error = "This API token may not manage tokens or passwords",
                                      .presented = rfmt("The request used the API token '%s', limited "
                                                        "to the scopes %s.", req->id.token_name,
                                                        scopes_format(req->id.token_scopes, have,
                                                                      sizeof have)),
                                      .fix = "Sign in with your password (the page /me/configure), "
                                             "or use a token with every right or the scope admin." });
            return false;
        }
        if (r->access == ROUTE_SELF_OR_ADMIN && !streq(req_seg(req, 1), req->id.name) &&
            !app_may(req, PERM_ADMINISTER, NULL)) {
            refuse(app, req, resp,
                   &(struct refusal){ .status = 403, .error = "Not your user",
                                      .presented = rfmt("User '%s' may not manage the API tokens "
                                                        "or password of user '%s' (that takes "
                                                        "Overall/Administer).",
                                                        req->id.name, req_seg(req, 1)),
                                      .fix = "Manage your own under /me/.",
                                      .fix_link = "me/configure" });
            return false;
        }
        return true;
    }
    if (!app_may(req, PERM_READ, NULL)) {
        refuse_permission(app, req, resp, PERM_READ, NULL);
        return false;
    }
    if (r->flags & ROUTE_JOB) {
        *ret_job = jobs_get(app->jobs, req->seg[1]);
        return route_check_job(app, req, resp, *ret_job, req->seg[1], r->perm);
    }
    if (!app_may(req, r->perm, NULL)) {
        refuse_permission(app, req, resp, r->perm, NULL);
        return false;
    }
    return true;
}

void
route_dispatch(const struct app *app, struct req *req, struct resp *resp,
               const struct route_table *tables, size_t n_tables)
{
    const struct route *r = NULL, *path_only = NULL;
    _cleanup_(job_unrefp) struct job *job = NULL;
    bool html = req_wants_html(req);

    for (size_t t = 0; t < n_tables && !r; t++)
        for (size_t i = 0; i < tables[t].n && !r; i++) {
            const struct route *c = &tables[t].routes[i];

            if ((c->flags & ROUTE_HTML) && !html)
                continue;
            if (!route_path_matches(c->pattern, req))
                continue;
            if (route_method_matches(c, req))
                r = c;
            else if (!path_only)
                path_only = c;
        }
    if (!body_ok(app, req, resp, r ? r : path_only))
        return;
    if (!r && !path_only) {
        refuse(app, req, resp,
               &(struct refusal){ .status = 404, .error = "Not found",
                                  .presented = rfmt("The page %s does not exist.", req->raw_path) });
        return;
    }
    if (!access_ok(app, req, resp, r ? r : path_only, &job))
        return;
    if (!r) {
        method_not_allowed(app, req, resp, path_only);
        return;
    }
    /*
     * The headers of an upload, before its body is read: a route with
     * access rules was checked above (the crumb may come in the body, and
     * is checked with it); an open route decides itself, if it takes
     * uploads at all.
     */
    if (req->preflight) {
        if (r->access == ROUTE_OPEN && (r->flags & ROUTE_PREFLIGHT))
            r->fn(app, req, resp, job);
        else if (r->access == ROUTE_OPEN) {
            req->body_problem = BODY_NO_UPLOADS;
            (void) body_ok(app, req, resp, r);
        }
        return;
    }
    if ((r->flags & ROUTE_POST) && !(r->flags & ROUTE_ANY) && !crumb_check(app, req, resp))
        return;
    r->fn(app, req, resp, job);
}
