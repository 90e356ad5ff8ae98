/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * File parameters (hudson.model.FileParameterDefinition): the uploaded
 * files, from the request that brings one to the build that gets it.
 *
 * An upload is kept in HOME/uploads/ under the SHA-256 of its bytes, made
 * durable (fsync'ed, renamed, the directory fsync'ed) before the trigger
 * is committed, so that a 201 means the file is on disk too. The
 * parameter's value in the queue is "sha256:HEX:FILENAME": two requests
 * with different files differ in their values and never merge, two with
 * the same file and name do. When the build starts, the file is copied
 * into the workspace at the parameter's name (a path relative to the
 * workspace); the kept upload goes once no waiting item or starting build
 * needs it, as it does when the item is cancelled.
 */

#include <stdbool.h>
#include <sys/types.h>

#define UPLOAD_HASH_LEN 64

/* HOME/uploads; newly allocated, NULL when out of memory. */
char *upload_dir(const char *home_root);

/*
 * Whether `location` (a file parameter's name) names a file inside a
 * workspace: relative, no "..", "." or empty components, no control
 * characters or backslashes, at most BOUND_PARAM_NAME_BYTES. 0 or -EINVAL.
 */
int upload_location_check(const char *location);

/*
 * A file parameter's value for an upload with that hash and the file name
 * the client gave (its last component only, control characters dropped,
 * cut at BOUND_UPLOAD_NAME_BYTES; "upload" when nothing is left). Newly
 * allocated, NULL when out of memory.
 */
char *upload_value(const char *sha256, const char *filename);

/*
 * Reads a file parameter's value: 0 with the hash in ret_sha256 (65 bytes)
 * and *ret_filename pointing into `value`; -ENOENT for "" (no file);
 * -EINVAL when it is not such a value.
 */
int upload_value_parse(const char *value, char *ret_sha256, const char **ret_filename);

/* A file parameter's value as it is shown: the uploaded file's name, "" for none. Lent. */
const char *upload_shown_name(const char *value);

/*
 * Keeps the temporary file `tmp` (in `dir`) as dir/SHA256, durably; when
 * that exists already (the same bytes), `tmp` is removed. 0 or -errno.
 */
int upload_keep(const char *dir, const char *tmp, const char *sha256);

/*
 * Copies dir/SHA256 to `location` in `workspace` without following a
 * symbolic link anywhere below the workspace: each directory is opened
 * with O_NOFOLLOW (made when missing), a file in the way is replaced, and
 * what is made is given to uid/gid when `chown` is set. 0; -ENOENT when the
 * upload is gone; -ELOOP, -ENOTDIR or -EISDIR when a link, a file or a
 * directory is in the way; -EINVAL for a bad location; -errno.
 */
int upload_install(const char *dir, const char *sha256, const char *workspace,
                   const char *location, bool chown, uid_t uid, gid_t gid);

/* Removes dir/SHA256 (an upload no one needs any more). */
void upload_forget(const char *dir, const char *sha256);

/*
 * Removes from `dir` every kept upload that `needed(userdata, sha256)` says
 * no one needs, and with `parts` (at a start, when no request is being
 * read) every temporary part requests left. Returns how many files went.
 */
int upload_sweep(const char *dir, bool parts, bool (*needed)(void *userdata, const char *sha256),
                 void *userdata);
