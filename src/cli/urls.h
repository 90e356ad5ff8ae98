/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The Jenkins URL space as a client builds it, and small facts about
 * secrets the client can tell by looking at them. No I/O here.
 */

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

/*
 * Appends the path of job `name` relative to the server root: "job/NAME/",
 * and for a name with folders "a/b", "job/a/job/b/". Segments are
 * percent-encoded. Returns 0, -EINVAL for an empty name or segment, or a
 * buf error.
 */
int urls_job_path(struct buf *out, const char *name);

/* Appends "key=value" form-encoded, with '&' before it unless `out` is empty. */
int urls_form_add(struct buf *out, const char *key, const char *value);

/*
 * Reads the queue item id from a trigger's Location ("http://h/queue/item/42/",
 * with or without the trailing '/', absolute or not) or from a bare id
 * ("42"). Returns 0 and sets *ret_id, or -EINVAL.
 */
int urls_queue_id(const char *location, int64_t *ret_id);

/*
 * A build reference as the commands take it: a number, or one of Jenkins'
 * permalinks (lastBuild, lastSuccessfulBuild, ...). True when acceptable.
 */
bool urls_is_build_ref(const char *s);

/* True for a value shaped like a Jenkins user API token: "11" and 32 lowercase hex digits. */
bool urls_is_api_token_shaped(const char *s);

/* True for a legacy (pre-2.129) API token shape: 32 hex digits. */
bool urls_is_legacy_token_shaped(const char *s);
