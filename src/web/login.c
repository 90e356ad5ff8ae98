/* SPDX-License-Identifier: MIT */
/*
 * Sign in and sign out. The form posts to /j_spring_security_check, as
 * Jenkins' does; a session cookie (HttpOnly, SameSite=Lax, Secure when the
 * root URL is https) then stands for the user, and `from` brings them back
 * to the page that asked them to sign in.
 *
 * The form carries a crumb too, so that another site cannot sign a
 * browser in as the attacker (login CSRF): the login page sets a random
 * nonce in a SameSite=Strict cookie, and the crumb is the HMAC of it;
 * another site can neither read the cookie nor forge the crumb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strutil.h"
#include "web/page.h"

/* Only a path on this server may be a redirect target after login. */
static const char *
safe_from(const char *from)
{
    if (!from || from[0] != '/' || from[1] == '/' || from[1] == '\\' || strpbrk(from, "\r\n"))
        return "/";
    return from;
}

#define LOGIN_COOKIE "STEWARD_LOGIN"
#define LOGIN_SUBJECT "\001login"
#define LOGIN_COOKIE_S 3600

enum login_trouble {
    LOGIN_OK,
    LOGIN_FAILED,
    LOGIN_THROTTLED,
    LOGIN_NO_CRUMB,
};

static void login_page(struct web *w, enum login_trouble trouble, int throttled_s);

/* The login cookie's nonce when the request has a well-formed one, else NULL. */
static const char *
login_nonce(const struct web *w)
{
    const char *n = req_cookie(w->req, LOGIN_COOKIE);

    if (!n || strlen(n) != 64 || strspn(n, "0123456789abcdef") != 64)
        return NULL;
    return n;
}

/* The crumb field of the login form: the session's when signed in, else the nonce's. */
static void
login_crumb_field(struct buf *b, struct web *w)
{
    char nonce[65], crumb[SECRET_HMAC_HEX_LEN + 1];
    const char *have = login_nonce(w);

    if (!w->req->id.anonymous) {
        web_crumb_field(b, w);
        return;
    }
    if (have)
        snprintf(nonce, sizeof nonce, "%s", have);
    else {
        secret_random_hex(nonce, 32);
        resp_header(w->resp, "Set-Cookie", app_cookie(w->root, LOGIN_COOKIE, nonce, LOGIN_COOKIE_S));
    }
    auth_crumb(w->app->auth, LOGIN_SUBJECT, nonce, crumb);
    html_raw(b, "<input type=\"hidden\" name=\"" CRUMB_FIELD "\" value=\"");
    html_attr(b, crumb);
    html_raw(b, "\">");
}

/* Did the anonymous form come from our login page? */
static bool
login_crumb_ok(struct web *w)
{
    const char *nonce = login_nonce(w), *crumb = req_param(w->req, CRUMB_FIELD);

    if (!crumb)
        crumb = req_header(w->req, CRUMB_FIELD);
    return nonce && auth_crumb_ok(w->app->auth, LOGIN_SUBJECT, nonce, crumb);
}

void
web_login_page(struct web *w, bool failed)
{
    login_page(w, failed ? LOGIN_FAILED : LOGIN_OK, 0);
}

static void
login_page(struct web *w, enum login_trouble trouble, int throttled_s)
{
    struct buf *b = web_begin(w, "Sign in", NULL);
    const char *from = safe_from(req_param(w->req, "from"));

    html_raw(b, "<div class=\"card narrow\"><h1>Sign in to Steward</h1>");
    if (trouble == LOGIN_THROTTLED) {
        html_raw(b, "<p class=\"notice bad\" role=\"alert\">");
        html_text(b, rfmt("Too many failed sign-ins for this user from your address. Wait %d "
                          "seconds, then try again.", throttled_s));
        html_raw(b, "</p>");
    } else if (trouble == LOGIN_NO_CRUMB)
        html_raw(b, "<p class=\"notice bad\" role=\"alert\">This sign-in did not come from "
                    "this page (no valid crumb: the page was old, or another site sent it). "
                    "Nothing was changed; sign in below.</p>");
    else if (trouble == LOGIN_FAILED)
        html_raw(b, "<p class=\"notice bad\" role=\"alert\">Wrong user name or password.</p>");
    else if (!streq(from, "/"))
        html_raw(b, "<p class=\"notice\">Sign in to see that page; you will be taken back to it.</p>");
    html_raw(b, "<form method=\"post\" action=\"");
    html_attr(b, w->base);
    html_raw(b, "j_spring_security_check\">");
    login_crumb_field(b, w);
    html_raw(b, "<input type=\"hidden\" name=\"from\" value=\"");
    html_attr(b, from);
    html_raw(b, "\"><label for=\"u\">User</label><input type=\"text\" id=\"u\" name=\"j_username\" "
                "autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" autofocus "
                "required><label for=\"p\">Password</label><input id=\"p\" type=\"password\" "
                "name=\"j_password\" autocomplete=\"current-password\" required>"
                "<p class=\"actions\"><button class=\"btn primary\" type=\"submit\">Sign in"
                "</button></p></form><p class=\"hint\">On the first start the password of "
                "<code>admin</code> is printed by the server and kept in "
                "<code>secrets/initialAdminPassword</code> in its home directory.</p></div>");
    if (trouble == LOGIN_THROTTLED)
        resp_header(w->resp, "Retry-After", rfmt("%d", throttled_s));
    web_end(w, trouble == LOGIN_THROTTLED ? 429 : trouble == LOGIN_FAILED ? 401
               : trouble == LOGIN_NO_CRUMB ? 403 : 200);
}

void
web_login_submit(struct web *w)
{
    struct req *req = w->req;
    const char *user = req_param(req, "j_username"), *pw = req_param(req, "j_password");
    const char *from = safe_from(req_param(req, "from"));
    enum auth_failure why;
    struct identity id;
    char sid[65];

    /* signed in already, switching users: the route table checked the session's crumb */
    if (!web_check_post(w))
        return;
    if (req->id.anonymous && !login_crumb_ok(w)) {
        app_audit(req, "login-failed", NULL, "as '%.64s': the form had no valid crumb",
                  user ? user : "");
        login_page(w, LOGIN_NO_CRUMB, 0);
        return;
    }
    /* a password, not an API token: a token is for scripts, as in Jenkins */
    why = AUTH_FAIL_NONE;
    if (!user || !pw || auth_password(w->app->auth, req->db, user, pw, req->addr, &id, &why) < 0 ||
        auth_session_new(w->app->auth, req->db, &id, sid) < 0) {
        if (why == AUTH_FAIL_THROTTLED)
            login_page(w, LOGIN_THROTTLED,
                       MAX(auth_throttle_wait(w->app->auth, req->addr, user), 1));
        else {
            app_audit(req, "login-failed", NULL, "as '%.64s' on the login page",
                      user ? user : "");
            login_page(w, LOGIN_FAILED, 0);
        }
        return;
    }
    resp_header(w->resp, "Set-Cookie", app_session_cookie(w->root, sid));
    secret_wipe(sid, sizeof sid);
    req->id = id;
    app_audit(req, "login", NULL, "on the login page");
    w->resp->status = 302;
    resp_header(w->resp, "Location", rfmt("%s%s", w->root, from + 1));
}

void
web_logout(struct web *w)
{
    /* a link or an old bookmark: the page with the button, which POSTs with the crumb */
    if (!w->req->is_post) {
        struct buf *b = web_begin(w, "Sign out", NULL);

        html_raw(b, "<div class=\"card narrow\"><h1>Sign out of Steward</h1>");
        if (w->req->id.via == VIA_SESSION) {
            html_raw(b, "<form method=\"post\" action=\"");
            html_attr(b, w->base);
            html_raw(b, "logout\">");
            web_crumb_field(b, w);
            html_raw(b, "<p class=\"actions\"><button class=\"btn primary\" type=\"submit\">"
                        "Sign out</button></p></form>");
        } else
            html_raw(b, "<p>You are not signed in.</p>");
        html_raw(b, "</div>");
        web_end(w, 200);
        return;
    }
    if (!web_check_post(w))
        return;
    if (w->req->session_id[0])
        auth_session_end(w->app->auth, w->req->session_id);
    resp_header(w->resp, "Set-Cookie", app_session_cookie(w->root, ""));
    /* a session from before the cookie had the public URL's path */
    if (!streq(app_session_cookie(w->root, ""), app_session_cookie(NULL, "")))
        resp_header(w->resp, "Set-Cookie", app_session_cookie(NULL, ""));
    w->resp->status = 302;
    resp_header(w->resp, "Location", w->root);
}
