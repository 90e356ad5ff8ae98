/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A growable byte buffer with a maximum size set at creation. The content is
 * always NUL-terminated (the terminator is not counted in `len`). Appends
 * past `max` fail with -E2BIG and leave the buffer as it was.
 */

#include <stdarg.h>
#include <stddef.h>

#include "util/macro.h"

struct buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
};

#define BUF_INIT(m) ((struct buf){ .ptr = NULL, .len = 0, .cap = 0, .max = (m) })

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/*
 * Gives the empty `b` the memory `mem` (from malloc(), `size` bytes) to
 * write into, in place of its own; b keeps it, and frees or detaches it
 * like its own.
 */
void buf_take_memory(struct buf *b, char *mem, size_t size);
/* Empties the buffer, keeping its memory. */
void buf_clear(struct buf *b);
/* Drops what comes after the first `len` bytes (nothing when it is not longer). */
void buf_truncate(struct buf *b, size_t len);

/* Each returns 0, -E2BIG past the maximum, or -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Hands over the content (never NULL on success; "" for empty). */
char *buf_detach(struct buf *b);

/* Returns the content, "" when empty; lent. */
static inline const char *buf_str(const struct buf *b) { return b->ptr ? b->ptr : ""; }

static inline void buf_releasep(struct buf *b) { buf_release(b); }
