/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "util/bounds.h"
#include "util/html.h"
#include "util/strutil.h"

static void
refuse_html(const struct app *app, struct req *req, struct resp *resp, const struct refusal *r)
{
    _cleanup_free_ char *root = app_root_url(app, req);
    const char *base = html_root_path(root);
    struct buf *b = &resp->body;

    /* the same frame as the web layer's pages (util/html), so errors look like the rest */
    buf_clear(b);
    html_page_start(b, &(struct html_page){ .title = r->error,
                                            .base = base,
                                            .user = req->id.anonymous ? NULL : req->id.name,
                                            .is_admin = app_may(req, PERM_ADMINISTER, NULL),
                                            .login_from = req->raw_path });
    html_raw(b, "<div class=\"card error\"><h1><span class=\"code\">");
    buf_printf(b, "%d", r->status);
    html_raw(b, "</span> ");
    html_text(b, r->error);
    html_raw(b, "</h1>");
    if (r->accepts) {
        html_raw(b, "<p>");
        html_text(b, r->accepts);
        html_raw(b, "</p>");
    }
    if (r->presented) {
        html_raw(b, "<p>");
        html_text(b, r->presented);
        html_raw(b, "</p>");
    }
    if (r->fix) {
        html_raw(b, "<p><strong>How to fix it:</strong> ");
        html_text(b, r->fix);
        html_raw(b, "</p>");
    }
    html_raw(b, "<p class=\"actions\">");
    if (r->fix_link) {
        html_raw(b, "<a class=\"btn primary\" href=\"");
        html_attr(b, base);
        html_attr(b, r->fix_link);
        html_raw(b, "\">Fix it here</a> ");
    }
    html_raw(b, "<a class=\"btn\" href=\"");
    html_attr(b, base);
    html_raw(b, "\">Dashboard</a></p></div>");
    html_page_end(b);
    resp_header(resp, "Content-Type", "text/html;charset=UTF-8");
}

void
refuse(const struct app *app, struct req *req, struct resp *resp, const struct refusal *r)
{
    struct buf msg = BUF_INIT(4096);
    json_t *o;
    char *s;

    resp->status = r->status;
    /* one line of sentences, each closed with a period */
    {
        const char *parts[] = { r->error, r->accepts, r->presented, r->fix };
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
            size_t len = parts[i] ? strlen(parts[i]) : 0;
            if (!len)
                continue;
            buf_printf(&msg, "%s%s%s", msg.len ? " " : "", parts[i],
                       strchr(".!?", parts[i][len - 1]) ? "" : ".");
        }
    }
    /* X-Error carries one line; npm's client shows it as the error message */
    for (char *p = msg.ptr; p && *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    resp_header(resp, "X-Error", buf_str(&msg));

    if (req_wants_html(req)) {
        refuse_html(app, req, resp, r);
        buf_release(&msg);
        return;
    }
    o = json_pack("{s:i, s:s, s:s}", "status", r->status, "error", r->error, "message",
                  buf_str(&msg));
    if (o && r->accepts)
        json_object_set_new(o, "accepts", json_string(r->accepts));
    if (o && r->presented)
        json_object_set_new(o, "presented", json_string(r->presented));
    if (o && r->fix)
        json_object_set_new(o, "fix", json_string(r->fix));
    s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    buf_clear(&resp->body);
    if (s) {
        buf_puts(&resp->body, s);
        buf_putc(&resp->body, '\n');
        free(s);
    }
    resp_header(resp, "Content-Type", "application/json;charset=UTF-8");
    buf_release(&msg);
}

static const char *
presented_identity(const struct req *req)
{
    switch (req->id.via) {
    case VIA_TOKEN:
        return rfmt("The request was authenticated as user '%s' with the API token named '%s'.",
                    req->id.name, req->id.token_name);
    case VIA_PASSWORD:
        return rfmt("The request was authenticated as user '%s' with a password.", req->id.name);
    case VIA_SESSION:
        return rfmt("The request came from the web session of user '%s'.", req->id.name);
    case VIA_NONE:
        break;
    }
    return "The request carried no credentials (no Authorization header and no session).";
}

void
refuse_bad_credentials(const struct app *app, struct req *req, struct resp *resp)
{
    struct refusal r = {
        .status = 401,
        .error = "Invalid user name or API token",
        .accepts = "HTTP Basic authentication takes a user name and, as the password, "
                   "that user's API token (or their password).",
    };

    /* a throttled client is told to wait, not challenged to send credentials again */
    if (req->basic_failure != AUTH_FAIL_THROTTLED)
        resp_header(resp, "WWW-Authenticate", "Basic realm=\"Steward\"");
    switch (req->basic_failure) {
    case AUTH_FAIL_NO_SUCH_USER:
        if (!req->basic_user[0]) {
            r.presented = "The Authorization header could not be read as Basic user:secret.";
            r.fix = "Send 'Authorization: Basic base64(user:apiToken)', e.g. curl -u user:apiToken.";
        } else {
            r.presented = rfmt("The request sent Basic credentials for user '%s', and there is "
                               "no user with that name.", req->basic_user);
            r.fix = "Use your user ID (the name you log in with), not your full name or e-mail.";
        }
        break;
    case AUTH_FAIL_TOKEN_EXPIRED:
        r.error = "The API token has expired";
        r.presented = rfmt("The request sent an API token of user '%s' that is past its expiry.",
                           req->basic_user);
        r.fix = "Make a new token on your user page (/me/configure), or with steward token new.";
        r.fix_link = "me/configure";
        break;
    case AUTH_FAIL_TOKEN_OF_OTHER_USER:
        r.presented = rfmt("The request sent Basic credentials for user '%s', with an API token "
                           "that belongs to another user.", req->basic_user);
        r.fix = "Send the user name that owns the token, or a token of this user.";
        break;
    case AUTH_FAIL_THROTTLED:
        resp->status = 429;
        r.status = 429;
        r.error = "Too many failed logins";
        r.presented = rfmt("This address (%s) sent too many wrong credentials for user '%s' "
                           "in the last minute.", req->addr, req->basic_user);
        r.fix = rfmt("Wait %d seconds, then send a valid user name and API token (a valid API "
                     "token is never throttled).",
                     auth_throttle_wait(app->auth, req->addr, req->basic_user));
        resp_header(resp, "Retry-After",
                    rfmt("%d", auth_throttle_wait(app->auth, req->addr, req->basic_user)));
        refuse(app, req, resp, &r);
        return;
    default:
        if (req->basic_secret_is_api_token_shape)
            r.presented = rfmt("The request sent Basic credentials for user '%s' with a value "
                               "shaped like an API token, but it is not one of this user's "
                               "tokens (revoked, or mistyped).", req->basic_user);
        else
            r.presented = rfmt("The request sent Basic credentials for user '%s'; the password "
                               "is neither one of this user's API tokens nor their password. "
                               "(A job's trigger token does not go here: it goes in ?token=.)",
                               req->basic_user);
        r.fix = "Generate a new API token on your user page (/me/configure) and send it as the "
                "Basic password.";
        r.fix_link = "me/configure";
    }
    refuse(app, req, resp, &r);
}

void
refuse_login_needed(const struct app *app, struct req *req, struct resp *resp, const char *what)
{
    struct refusal r = {
        .status = 401,
        .error = "Authentication required",
        .accepts = rfmt("%s needs a logged-in user: send HTTP Basic authentication with your "
                        "user name and API token.", what),
        .presented = presented_identity(req),
        .fix = "Use curl -u USER:APITOKEN (make the token on your user page, /me/configure).",
        .fix_link = "login",
    };

    if (req_wants_html(req) && !req->basic_given) {
        _cleanup_free_ char *root = app_root_url(app, req);
        struct buf loc = BUF_INIT(BOUND_URL_BYTES * 4);

        buf_printf(&loc, "%slogin?from=", root ? root : "/");
        url_encode(&loc, req->raw_path);
        api_redirect(resp, 302, buf_str(&loc));
        buf_release(&loc);
        return;
    }
    resp_header(resp, "WWW-Authenticate", "Basic realm=\"Steward\"");
    refuse(app, req, resp, &r);
}

bool
crumb_check(const struct app *app, struct req *req, struct resp *resp)
{
    const char *crumb;

    if (!req->is_post || req->id.via != VIA_SESSION)
        return true;
    crumb = req_header(req, CRUMB_FIELD);
    if (!crumb)
        crumb = req_param(req, CRUMB_FIELD);
    if (auth_crumb_ok(app->auth, req->id.name, req->session_id, crumb))
        return true;
    refuse(app, req, resp,
           &(struct refusal){
               .status = 403,
               .error = "No valid crumb was included in the request",
               .accepts = "A POST made with a web session cookie must carry the CSRF crumb "
                          "(header Jenkins-Crumb) from /crumbIssuer/api/json of the same session.",
               .presented = crumb ? "The request carried a crumb that does not belong to this "
                                    "session. Nothing was changed."
                                  : "The request carried a session cookie and no crumb. Nothing "
                                    "was changed.",
               .fix = "Fetch /crumbIssuer/api/json with the same cookie jar and send the crumb, or "
                      "authenticate with Basic user:apiToken, which needs no crumb.",
           });
    return false;
}

/* Who may give `p`, and how, under the strategy in force; newly allocated. */
static char *
who_grants(const struct req *req, enum perm p, const char *job)
{
    const char *who = req->id.name;

    if (req->authz == AUTHZ_LOGGED_IN || p == PERM_ADMINISTER)
        return strdup_printf("Ask an administrator: steward --home DIR user admin %s on makes "
                             "you one%s.", who,
                             req->authz == AUTHZ_LOGGED_IN
                                 ? " (under the logged-in strategy every right but "
                                   "administering and managing credentials is every signed-in "
                                   "user's)"
                                 : "");
    if (job && req->authz == AUTHZ_PROJECT_MATRIX && perm_is_item(p))
        return strdup_printf("Ask an administrator, or a user who may configure the job, to "
                             "grant it: on the job's configure page (Authorization), or with "
                             "steward --home DIR security matrix grant %s %s '%s' (or globally "
                             "on /manage/security).", who, perm_name(p), job);
    return strdup_printf("Ask an administrator to grant it on /manage/security, or with steward "
                         "--home DIR security matrix grant %s %s.", who, perm_name(p));
}

void
refuse_permission(const struct app *app, struct req *req, struct resp *resp, enum perm p,
                  const char *job)
{
    _cleanup_free_ char *error = NULL, *accepts = NULL, *presented = NULL, *fix = NULL;

    (void) app_authorize(req);
    if (req->id.anonymous) {
        refuse_login_needed(app, req, resp,
                            job ? rfmt("%s on job '%s'", perm_name(p), job) : perm_name(p));
        return;
    }
    if (req->id.via == VIA_TOKEN && !(scopes_allow(req->id.token_scopes) & PERM_BIT(p))) {
        char have[64];

        /* the user may; the token may not */
        resp_header(resp, "X-Required-Permission", perm_id(p));
        refuse(app, req, resp,
               &(struct refusal){
                   .status = 403, .error = rfmt("The API token '%s' may not do this", req->id.token_name),
                   .accepts = rfmt("This needs %s, which takes the token scope %s.", perm_name(p),
                                   scope_for(p)),
                   .presented = rfmt("The request used the API token '%s' of user '%s', limited to "
                                     "the scopes %s.", req->id.token_name, req->id.name,
                                     scopes_format(req->id.token_scopes, have, sizeof have)),
                   .fix = "Use a token with that scope (steward token new USER --name NAME "
                          "--scopes ..., or the form on /me/configure), or one without scopes." });
        return;
    }
    error = strdup_printf("%s is missing the %s permission", req->id.name, perm_name(p));
    accepts = job ? strdup_printf("This needs %s (%s) on job '%s'.", perm_name(p), perm_id(p), job)
                  : strdup_printf("This needs %s (%s).", perm_name(p), perm_id(p));
    presented = strdup_printf("%s Under the %s authorization strategy that user does not hold "
                              "%s%s%s%s.", presented_identity(req), authz_name(req->authz),
                              perm_name(p), job ? " on job '" : "", job ? job : "",
                              job ? "'" : "");
    fix = who_grants(req, p, job);
    /* what Jenkins' AccessDeniedException3 sends */
    resp_header(resp, "X-You-Are-Authenticated-As", req->id.name);
    resp_header(resp, "X-Required-Permission", perm_id(p));
    resp_header(resp, "X-Permission-Implied-By", perm_id(PERM_ADMINISTER));
    refuse(app, req, resp,
           &(struct refusal){ .status = 403, .error = error, .accepts = accepts,
                              .presented = presented, .fix = fix });
}

void
refuse_no_job(const struct app *app, struct req *req, struct resp *resp, const char *name)
{
    _cleanup_free_ char *presented = NULL;

    (void) app_authorize(req);
    /* the same answer whether the job is missing or hidden from the caller */
    if (req->id.anonymous && req_wants_html(req) && !req->basic_given) {
        refuse_login_needed(app, req, resp, rfmt("Job '%s'", name));
        return;
    }
    if (app_token_hides(req, name))
        presented = strdup_printf("Job '%s' does not exist, or the API token '%s' may not see it: "
                                  "it is limited to the jobs %s.", name, req->id.token_name,
                                  req->id.token_jobs);
    else if (req->authz == AUTHZ_LOGGED_IN && !req->id.anonymous)
        presented = strdup_printf("Job '%s' does not exist.", name);
    else if (req->id.anonymous)
        presented = strdup_printf("Job '%s' does not exist, or an anonymous caller may not see "
                                  "it (Job/Read).", name);
    else
        presented = strdup_printf("Job '%s' does not exist, or user '%s' may not see it "
                                  "(Job/Read).", name, req->id.name);
    refuse(app, req, resp,
           &(struct refusal){
               .status = 404,
               .error = "Not found",
               .presented = presented,
               .fix = req->id.anonymous
                          ? "Check the name; if the job exists, send credentials (curl -u USER:APITOKEN)."
                          : "Check the name (GET /api/json lists the jobs you may see).",
           });
}
