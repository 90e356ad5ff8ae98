/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/app.h"
#include "util/strutil.h"

char *
app_root_url(const struct app *app, const struct req *req)
{
    return app->root_url ? strdup(app->root_url) : req_root_url(req);
}

const char *
app_session_cookie(const char *root, const char *sid)
{
    const char *path = root ? strstr(root, "://") : NULL;

    /* the public URL's path, so that two servers behind one host keep their sessions apart */
    path = path ? strchr(path + 3, '/') : NULL;
    if (!path || strpbrk(path, ";, \t\r\n\"\\"))
        path = "/";
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

bool
app_anonymous_read(const struct req *req)
{
    return store_setting_bool(req->db, "anonymous_read", false);
}

bool
app_can_read(const struct req *req)
{
    return !req->id.anonymous || app_anonymous_read(req);
}

bool
app_can_write(const struct req *req)
{
    return !req->id.anonymous;
}
