/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Masking secrets in a build's output, as Jenkins' Mask Passwords plugin
 * does: the steps of a build with password parameters write into a pipe,
 * and the engine copies what comes out of it into the log with every
 * value of those parameters written "****". A value split across two
 * reads is still found: the bytes that could begin one are held back
 * until the next read (or the end) decides.
 */

#include <stdbool.h>
#include <stddef.h>

#define MASK_TEXT "****"

struct mask;

/*
 * A mask writing into `logfd` (borrowed), for the `n` non-empty values of
 * `secrets` (copied; empty ones are skipped). Sets *ret_write_fd, the end
 * the build's steps write into (close-on-exec, owned by the mask). 0 or
 * -errno.
 */
int mask_new(int logfd, const char *const *secrets, size_t n, struct mask **ret,
             int *ret_write_fd);
/* The end to watch for input (non-blocking). */
int mask_read_fd(const struct mask *m);
/*
 * Copies what the pipe holds into the log, masked. Returns 0 when it read
 * all there was for now, 1 when every writer has gone (then what was held
 * back is written too), -errno on a read or write error.
 */
int mask_pump(struct mask *m);
/* Writes what is held back, as it is not the start of a secret any more. */
void mask_flush(struct mask *m);
void mask_free(struct mask *m);
