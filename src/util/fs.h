/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Creates `path` and its missing parents with `mode`. 0 or -errno. */
int fs_mkdir_p(const char *path, mode_t mode);

/* Writes all of `data` to fd, again after EINTR and short writes. 0 or -errno (-EIO for none). */
int fs_write_all(int fd, const void *data, size_t len);

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
/* The same, and the stat of the file that was read (when ret_st is not NULL). */
struct stat;
int fs_read_all_stat(const char *path, size_t max, char **ret_data, size_t *ret_len,
                     struct stat *ret_st);

/* Removes `path` and everything below it; a missing path is fine. 0 or -errno. */
int fs_rm_rf(const char *path);

/* What fs_copy_tree() copied. */
struct fs_copy_stats {
    size_t files;        /* regular files */
    size_t dirs;
    size_t symlinks;
    size_t vanished;     /* entries that went away while the walk ran (not an error) */
    size_t skipped;      /* fifos, sockets, devices: not copied */
    unsigned long long bytes;
};

/*
 * Copies the tree at `src` to `dst`, which must not exist (-EEXIST), while
 * others may go on changing `src`: a file is copied up to the size it has
 * when it is opened, and an entry that disappears mid-walk is counted in
 * `vanished` and left out. Regular files, directories and symlinks (as
 * symlinks, never followed) are copied with their permission bits and
 * modification times; other file types are skipped. Nothing is fsync'ed:
 * callers that need the copy on disk sync its filesystem once. At most
 * FS_COPY_MAX_DEPTH levels deep (-ELOOP past that). `stats` may be NULL;
 * it is added to, not cleared. 0 or -errno.
 */
#define FS_COPY_MAX_DEPTH 128
int fs_copy_tree(const char *src, const char *dst, struct fs_copy_stats *stats);

/* Returns a newly allocated "a/b", or NULL on allocation failure. */
char *path_join(const char *a, const char *b);
