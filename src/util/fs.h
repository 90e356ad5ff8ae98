/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Creates `path` and its missing parents with `mode`. 0 or -errno. */
int fs_mkdir_p(const char *path, mode_t mode);

/*
 * Writes `data` to `path` atomically: a temporary file beside it, fsync,
 * rename, fsync of the directory. 0 or -errno.
 */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Reads a whole file of at most `max` bytes. Returns 0 and sets *ret_data
 * (NUL-terminated, to be freed) and *ret_len; -E2BIG past max; -errno.
 */
int fs_read_all(const char *path, size_t max, char **ret_data, size_t *ret_len);

/* Removes `path` and everything below it; a missing path is fine. 0 or -errno. */
int fs_rm_rf(const char *path);

/* Returns a newly allocated "a/b", or NULL on allocation failure. */
char *path_join(const char *a, const char *b);
