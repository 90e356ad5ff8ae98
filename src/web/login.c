/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/html.h"
#include "util/strutil.h"
#include "web/web.h"

/* Only a path on this server may be a redirect target after login. */
static const char *
safe_from(const char *from)
{
    if (!from || from[0] != '/' || from[1] == '/' || from[1] == '\\' || strpbrk(from, "\r\n"))
        return "/";
    return from;
}

static void
page_start(struct buf *b, const char *title)
{
    html_raw(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    html_text(b, title);
    html_raw(b, " - Steward</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:"
                "24rem;margin:4rem auto;padding:0 1rem}label{display:block;margin-top:.8rem}"
                "input{width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}"
                "button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}.err{color:#a00}"
                "</style></head><body>");
}

static void
login_form(const struct app *app, struct req *req, struct resp *resp, bool failed)
{
    struct buf *b = &resp->body;

    (void) app;
    buf_clear(b);
    page_start(b, "Sign in");
    html_raw(b, "<h1>Sign in to Steward</h1>");
    if (failed)
        html_raw(b, "<p class=\"err\" role=\"alert\">Wrong user name or password.</p>");
    html_raw(b, "<form method=\"post\" action=\"j_spring_security_check\">"
                "<input type=\"hidden\" name=\"from\" value=\"");
    html_attr(b, safe_from(req_param(req, "from")));
    html_raw(b, "\"><label for=\"u\">User</label><input id=\"u\" name=\"j_username\" "
                "autocomplete=\"username\" autofocus required><label for=\"p\">Password</label>"
                "<input id=\"p\" type=\"password\" name=\"j_password\" "
                "autocomplete=\"current-password\" required><button type=\"submit\">Sign in"
                "</button></form></body></html>\n");
    resp->status = failed ? 401 : 200;
    resp_header(resp, "Content-Type", "text/html;charset=UTF-8");
}

static void
login_submit(const struct app *app, struct req *req, struct resp *resp)
{
    const char *user = req_param(req, "j_username"), *pw = req_param(req, "j_password");
    _cleanup_free_ char *root = app_root_url(app, req);
    enum auth_failure why;
    struct identity id;
    char sid[65];
    const char *from = safe_from(req_param(req, "from"));

    if (!user || !pw || auth_basic(app->auth, req->db, user, pw, req->addr, &id, &why) < 0 ||
        auth_session_new(app->auth, &id, sid) < 0) {
        login_form(app, req, resp, true);
        return;
    }
    resp_header(resp, "Set-Cookie",
                rfmt("%s=%s; Path=/; HttpOnly; SameSite=Lax%s", SESSION_COOKIE, sid,
                         root && startswith(root, "https:") ? "; Secure" : ""));
    resp->status = 302;
    resp_header(resp, "Location", rfmt("%s%s", root ? root : "/", from + 1));
}

bool
web_handle(const struct app *app, struct req *req, struct resp *resp)
{
    const char *s0 = req->n_seg ? req->seg[0] : NULL;

    if (!s0)
        return false;
    if (streq(s0, "login") && req->n_seg == 1) {
        login_form(app, req, resp, false);
        return true;
    }
    if (streq(s0, "j_spring_security_check") && req->is_post) {
        login_submit(app, req, resp);
        return true;
    }
    if (streq(s0, "logout")) {
        _cleanup_free_ char *root = app_root_url(app, req);
        if (req->session_id[0])
            auth_session_end(app->auth, req->session_id);
        resp_header(resp, "Set-Cookie", rfmt("%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
                                                 SESSION_COOKIE));
        resp->status = 302;
        resp_header(resp, "Location", root ? root : "/");
        return true;
    }
    return false;
}
