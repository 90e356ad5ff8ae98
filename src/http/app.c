/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/app.h"

char *
app_root_url(const struct app *app, const struct req *req)
{
    return app->root_url ? strdup(app->root_url) : req_root_url(req);
}

int
app_start_session(const struct app *app, struct req *req, struct resp *resp)
{
    char *root = app_root_url(app, req), sid[65];
    char cookie[256];
    int r;

    r = auth_session_new(app->auth, req->db, &req->id, sid);
    if (r >= 0) {
        snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s", SESSION_COOKIE,
                 sid, root && strncmp(root, "https:", 6) == 0 ? "; Secure" : "");
        resp_header(resp, "Set-Cookie", cookie);
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
