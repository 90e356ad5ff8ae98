/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What a request handler works with: the core objects, and the few
 * server-wide settings. Built by the daemon; api/ and web/ only read it.
 */

#include "core/auth.h"
#include "core/engine.h"
#include "core/home.h"
#include "core/jobs.h"
#include "http/http.h"

#define SESSION_COOKIE "STEWARD_SESSION"
#define CRUMB_FIELD "Jenkins-Crumb"

struct app {
    struct home *home;
    struct jobs *jobs;
    struct engine *engine;
    struct auth *auth;
    const char *root_url;   /* --url with a trailing '/', or NULL: taken from each request's Host */
    int executors;
};

/* The root URL for answers to this request, newly allocated. */
char *app_root_url(const struct app *app, const struct req *req);
/*
 * The Set-Cookie value for session `sid` ("" ends the session), scoped to
 * the path of the public root URL `root`, Secure under https; lent (rfmt).
 */
const char *app_session_cookie(const char *root, const char *sid);

/*
 * Starts a web session for the request's identity and adds its
 * Set-Cookie (HttpOnly, SameSite=Lax, Secure when the root URL is https)
 * to the answer. Writes the session id into req->session_id. 0 or -errno.
 */
int app_start_session(const struct app *app, struct req *req, struct resp *resp);

/* True when anonymous callers may read (steward security anonymous-read on). */
bool app_anonymous_read(const struct req *req);
/* May the caller see jobs, builds and the queue? */
bool app_can_read(const struct req *req);
/* May the caller build, cancel, configure, create and delete jobs? (logged-in users) */
bool app_can_write(const struct req *req);
