/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * HTML output with escaping by default. Anything that did not come from a
 * string literal in our own code goes through html_text, html_attr or
 * html_url_arg, never through html_raw.
 */

#include "util/buf.h"

/* Appends a literal piece of markup. */
int html_raw(struct buf *out, const char *markup);
/* Appends text for an element's content: & < > " ' escaped. */
int html_text(struct buf *out, const char *text);
/* Appends text for a quoted attribute value (same escapes as html_text). */
int html_attr(struct buf *out, const char *value);
/* Appends a value percent-encoded for a URL path segment or query argument. */
int html_url_arg(struct buf *out, const char *value);
