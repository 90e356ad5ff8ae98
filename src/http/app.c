/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "http/app.h"

char *
app_root_url(const struct app *app, const struct req *req)
{
    return app->root_url ? strdup(app->root_url) : req_root_url(req);
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
