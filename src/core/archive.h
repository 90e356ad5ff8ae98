/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Archiving artifacts (hudson.tasks.ArtifactArchiver): files of the
 * workspace matching Ant-style patterns are copied into the build's
 * archive/ directory.
 *
 * Patterns are comma-separated: '*' matches within one path segment, '?'
 * one character, '**' any number of segments, and a pattern ending in '/'
 * means everything below that directory. Symbolic links are not followed
 * or copied.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARCHIVE_MAX_FILES 10000
#define ARCHIVE_MAX_BYTES (4ULL * 1024 * 1024 * 1024)

/* True when the relative path `path` matches the Ant pattern `pattern`. */
bool ant_match(const char *pattern, const char *path);

/*
 * Copies the files of `workspace` that match `includes` and none of
 * `excludes` (may be NULL) into `dest` (created when needed). Returns 0
 * and the number of files copied; -E2BIG past ARCHIVE_MAX_FILES or
 * ARCHIVE_MAX_BYTES (what was copied stays); -ECANCELED when `*cancel`
 * (may be NULL; another thread sets it) became true, looked at between
 * files and every ARCHIVE_CHUNK_BYTES; -errno.
 */
#define ARCHIVE_CHUNK_BYTES (16 * 1024 * 1024)
int archive_collect(const char *workspace, const char *includes, const char *excludes,
                    const char *dest, const bool *cancel, size_t *ret_count);

/*
 * Copies the regular file `name` of the directory `srcdir` to `dest_path`
 * (created or truncated) and adds its size to `*copied`. Returns 0;
 * -EINVAL when `name` is not (or no longer) a regular file: a FIFO, a
 * device, a directory, nothing is read of it; -ELOOP for a symbolic link;
 * -ECANCELED as archive_collect(); -errno.
 */
int archive_copy_file(int srcdir, const char *name, const char *dest_path, const bool *cancel,
                      uint64_t *copied);

/*
 * Calls `visit` for each regular file of `workspace` that matches
 * `includes` and none of `excludes`, in directory order, with the file's
 * directory (an fd reached without following a symbolic link), its name
 * there and its path relative to the workspace. A negative return of
 * `visit` stops the walk and is returned; else 0, -ECANCELED or -errno.
 * The file itself is the visitor's to open, with O_NOFOLLOW.
 */
typedef int archive_visit_fn(void *ctx, int dirfd, const char *name, const char *path);
int archive_find(const char *workspace, const char *includes, const char *excludes,
                 const bool *cancel, archive_visit_fn *visit, void *ctx);

struct artifact {
    char *relative_path;
    uint64_t size;
};

/* Lists an archive directory, sorted by path, at most `max` entries. */
int archive_list(const char *dir, size_t max, struct artifact **ret_list, size_t *ret_n);
void artifacts_free(struct artifact *list, size_t n);
