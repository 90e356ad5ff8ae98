/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The Jenkins remote API: api/json endpoints, triggers, jobs over HTTP,
 * tokens, the queue. jansson lives here (and in cli/).
 */

#include <jansson.h>

#include "http/app.h"
#include "http/http.h"
#include "util/strutil.h"

/*
 * A refusal that explains itself: which secret this URL accepts, what the
 * request presented (never a secret's value), and the fix. Rendered as
 * JSON for API clients and as a short page for browsers; the one-line
 * summary also goes into X-Error.
 */
struct refusal {
    int status;
    const char *error;       /* short summary, e.g. "Invalid trigger token" */
    const char *accepts;     /* which secret(s) this URL accepts */
    const char *presented;   /* what the request presented */
    const char *fix;         /* what to do */
    const char *fix_link;    /* for browsers: where to fix it (relative to the root), or NULL */
};

void refuse(const struct app *app, struct req *req, struct resp *resp, const struct refusal *r);

/* Sends a JSON value (taking the reference), honouring tree=, depth= and pretty. */
void api_send_json(struct req *req, struct resp *resp, json_t *v);
/*
 * api_send_json() (v may be NULL: a 500) for a model whose array `field`
 * was left empty: write() puts that array's text in its place, straight
 * into the answer. Not for ?pretty.
 */
/* Appends v as compact JSON; 0, -E2BIG past out's maximum, or -ENOMEM. */
int api_append_json(struct buf *out, json_t *v);
void api_send_json_with(struct req *req, struct resp *resp, json_t *v, const char *field,
                        int (*write)(void *ctx, struct buf *out), void *ctx);
/* Sends a JSON value as api/json, api/xml or api/python, by the last path segment. */
void api_send_model(struct req *req, struct resp *resp, const char *format, json_t *v);
/* A plain-text answer. */
void api_send_text(struct resp *resp, int status, const char *text);
/* 302 to a location (absolute), with Content-Length: 0. */
void api_redirect(struct resp *resp, int status, const char *location);

/* The refusal every handler gives when Basic credentials were wrong. */
void refuse_bad_credentials(const struct app *app, struct req *req, struct resp *resp);
/* The refusal for a caller who must log in (anonymous on a protected URL). */
void refuse_login_needed(const struct app *app, struct req *req, struct resp *resp,
                         const char *what);
/*
 * 403 for a readable object and a missing permission: which permission,
 * on which job (NULL: a global one), and who can grant it; a caller
 * without credentials is asked for them instead.
 */
void refuse_permission(const struct app *app, struct req *req, struct resp *resp, enum perm p,
                       const char *job);
/* 404 for a job that does not exist or that the caller may not see: the same answer. */
void refuse_no_job(const struct app *app, struct req *req, struct resp *resp, const char *name);
/* Session-cookie POST without a valid crumb. */
bool crumb_check(const struct app *app, struct req *req, struct resp *resp);

/* The names the built-in node answers to: "(built-in)", "built-in", "(master)", "master", "Built-In Node". */
bool api_is_builtin_node(const char *name);
