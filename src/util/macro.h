/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Small macros used everywhere: scoped cleanup (as in systemd), array sizes
 * and ownership transfer. Nothing here allocates.
 */

#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))

static inline void freep(void *p) { free(*(void **)p); }
/* Frees p and returns NULL, for `p = mfree(p);`. */
static inline void *mfree(void *p) { free(p); return NULL; }
static inline void closep(int *fd)
{
    if (*fd >= 0)
        (void) close(*fd);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hands over what `p` points at and leaves NULL behind. */
#define TAKE_PTR(p)                                                            \
    ({                                                                         \
        __typeof__(p) _p = (p);                                                \
        (p) = NULL;                                                            \
        _p;                                                                    \
    })

#define TAKE_FD(fd)                                                            \
    ({                                                                         \
        int _fd = (fd);                                                        \
        (fd) = -1;                                                             \
        _fd;                                                                   \
    })

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define streq(a, b) (strcmp((a), (b)) == 0)
