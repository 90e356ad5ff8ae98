/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The HTTP layer's own parsers, apart from the HTTP library so that they
 * can be tested and fuzzed alone: the Basic credentials of an
 * Authorization header, form bodies and query fields, and the path's
 * segments. They fill a `struct req`; http_req_release() frees what they
 * put there.
 */

#include <stddef.h>

#include "http/http.h"

/*
 * Decodes an Authorization header's value. Returns -ENOENT when it is not
 * the Basic scheme (then the caller looks for other credentials), -EINVAL
 * for Basic credentials that do not decode to "user:secret" with a
 * non-empty user and no NUL byte, -ENOMEM; 0 with both halves, split at
 * the first ':', in new strings. The secret is the caller's to wipe
 * (secret_wipe) and free; nothing of it is left behind elsewhere.
 */
int http_parse_basic(const char *header_value, char **ret_user, char **ret_secret);

/*
 * Adds one query or form field (`klen` and `vlen` bytes, still encoded;
 * `value` NULL for a key given without '=') to req->params, decoded.
 * -E2BIG past BOUND_FORM_FIELDS, -EINVAL for a bad escape or an encoded
 * NUL, -ENOMEM.
 */
int http_add_param(struct req *req, const char *key, size_t klen, const char *value, size_t vlen);

/*
 * Parses "a=1&b=2" (`len` bytes, still encoded) into req->params; empty
 * fields are skipped. The first error of http_add_param() stops it; the
 * fields before it stay.
 */
int http_parse_form(struct req *req, const char *s, size_t len);

/*
 * Splits the URL path into decoded segments (req->seg), dropping empty
 * ones, and notes a trailing slash. -EINVAL for a bad escape or an
 * encoded NUL, -ENOMEM; the segments before it stay.
 */
int http_split_path(struct req *req, const char *url);

/*
 * Frees the segments, fields (values wiped) and body of a request. A
 * field's value lives in its key's block, and the segments in one block
 * with their array: only these functions make or free them.
 */
void http_req_release(struct req *req);
