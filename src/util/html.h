/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * HTML output with escaping by default. Anything that did not come from a
 * string literal in our own code goes through html_text, html_attr or
 * html_url_arg, never through html_raw.
 */

#include <stdbool.h>

#include "util/buf.h"

/* Appends a literal piece of markup. */
int html_raw(struct buf *out, const char *markup);
/* Appends text for an element's content: & < > " ' escaped. */
int html_text(struct buf *out, const char *text);
/* Appends text for a quoted attribute value (same escapes as html_text). */
int html_attr(struct buf *out, const char *value);
/* Appends a value percent-encoded for a URL path segment or query argument. */
int html_url_arg(struct buf *out, const char *value);

/* Appends a whole number as decimal text (needs no escaping). */
int html_int(struct buf *out, long long v);

/*
 * The path part of a root URL ("http://host:8080/ci/" -> "/ci/"), lent
 * from `root_url`; "/" when it has none. Pages link below it, so they work
 * behind a proxy that serves Steward under a prefix.
 */
const char *html_root_path(const char *root_url);

/*
 * The frame every HTML page shares, the web layer's pages and the API's
 * refusals alike: doctype, head (title, viewport, stylesheet, script), a
 * skip link, the top bar (navigation, who is signed in) and <main>.
 * Every field is escaped; only `title` is required.
 */
struct html_page {
    const char *title;      /* " - Steward" is appended */
    const char *base;       /* html_root_path() of the root URL; NULL: "/" */
    const char *user;       /* the signed-in user's name, NULL when anonymous */
    bool is_admin;          /* shows the Users link */
    const char *crumb;      /* CSRF crumb for scripts (<meta name="crumb">), or NULL */
    const char *css;        /* stylesheet path below base; NULL: "static/style.css" */
    const char *js;         /* script path below base; NULL: "static/app.js" */
    const char *current;    /* the current nav item: "dashboard", "new", "users", "me" */
    const char *login_from; /* for anonymous pages: where "Sign in" returns, or NULL */
};
int html_page_start(struct buf *out, const struct html_page *p);
/* Closes <main>, the body and the document. */
int html_page_end(struct buf *out);
