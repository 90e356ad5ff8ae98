/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A route: a method, a path pattern, who may call it, and its handler.
 * The API (api/routes.c) and the pages (web/web.c) each have a table of
 * them; one dispatcher (api/dispatch.h) reads both and checks every
 * right before any handler runs.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/jobs.h"
#include "core/perm.h"
#include "http/app.h"

/* The job is the one a ROUTE_JOB route names (a reference the dispatcher holds), else NULL. */
typedef void route_fn(const struct app *app, struct req *req, struct resp *resp, struct job *job);

enum route_flags {
    ROUTE_GET = 1 << 0,        /* GET and HEAD */
    ROUTE_POST = 1 << 1,       /* POST, with the crumb check for sessions */
    ROUTE_ANY = 1 << 2,        /* any method; no crumb check (reads, or a handler that checks) */
    ROUTE_HTML = 1 << 3,       /* only for a browser (Accept lists text/html) */
    ROUTE_JOB = 1 << 4,        /* segment 1 names a job; the permission is checked on it */
    ROUTE_FORM = 1 << 5,       /* a POST whose handler reports a body too large (a page: any broken body) */
    ROUTE_PAGE = 1 << 6,       /* a page of the web layer */
    ROUTE_PREFLIGHT = 1 << 7,  /* an open route whose handler answers req->preflight itself */
};

enum route_access {
    ROUTE_OPEN,                /* anyone: the handler decides */
    ROUTE_SIGNED_IN,           /* any signed-in user */
    ROUTE_SELF_OR_ADMIN,       /* the user named by segment 1, or Overall/Administer */
    ROUTE_PERM,                /* Overall/Read and .perm */
};

struct route {
    /*
     * Path segments: a literal, "*" (any one segment), "{api}" (json, xml
     * or python), "{build}" (a build number or permalink), and as the last
     * one "**" (any number of further segments, even none). "" is the root.
     */
    const char *pattern;
    unsigned flags;
    enum route_access access;
    enum perm perm;            /* ROUTE_PERM only */
    route_fn *fn;
};

/* In a table: { pattern, ROUTE_GET | ROUTE_JOB, ROUTE_NEEDS(JOB_READ), handler } */
#define ROUTE_NEEDS(p) ROUTE_PERM, PERM_##p
#define ROUTE_NOBODY_CHECKS ROUTE_OPEN, 0

struct route_table {
    const struct route *routes;
    size_t n;
};

/* True for "json", "xml" and "python". */
bool route_is_api_format(const char *s);
/* True for a build number or one of Jenkins' permalinks (lastBuild, ...). */
bool route_is_build_ref(const char *s);
/* Does the request's path match the pattern? */
bool route_path_matches(const char *pattern, const struct req *req);
/* Does the request's method fit the route? */
bool route_method_matches(const struct route *r, const struct req *req);
