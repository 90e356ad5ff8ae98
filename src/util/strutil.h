/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/*
 * Decodes application/x-www-form-urlencoded text of `len` bytes in place
 * ('+' is a space, %XX a byte) and NUL-terminates it. Returns the new
 * length, or -EINVAL for a bad escape or an embedded NUL.
 */
int url_decode_inplace(char *s, size_t len);
/* The same for a URL path segment, where '+' stays '+'. */
int url_decode_path_inplace(char *s, size_t len);

/* Appends `s` percent-encoded for a URL path segment or query value. */
int url_encode(struct buf *out, const char *s);
/* Appends s (UTF-8) as a JSON string, quotes included, byte for byte as jansson's compact dump. */
int json_quote(struct buf *out, const char *s);

/* Parses a whole decimal integer in [min, max]. 0, -EINVAL or -ERANGE. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret);

/* True when `s` is `len` bytes of valid UTF-8 without NUL. */
bool utf8_is_valid(const char *s, size_t len);

/*
 * A copy of `s` fit to show on one line of a log or page: cut at `max`
 * bytes (at a character's start), control characters (C0, DEL, and C1 in
 * UTF-8) as spaces, and bytes that are not UTF-8 as '?'. NULL on
 * allocation failure.
 */
char *strdup_one_line(const char *s, size_t max);

/* True when `s` starts with `prefix`. */
bool startswith(const char *s, const char *prefix);

/* Milliseconds since the epoch, wall clock; and a monotonic clock. */
int64_t now_ms(void);
int64_t mono_ms(void);
int64_t mono_us(void);

/*
 * printf into a thread-local scratch string, for short messages that live
 * until the same thread's fourth next call. Longer output is cut at 1 KiB.
 */
const char *rfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* printf into a newly allocated string; NULL on allocation failure. */
char *strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
