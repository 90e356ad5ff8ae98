/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The access tokens of /git/notifyCommit, as the git plugin (4.11.4 and
 * later) has them: made by an administrator, shown once (32 hex digits),
 * kept only as a SHA-256, each with a name and a UUID to revoke it by.
 * They live in the settings table (GIT_NOTIFY_TOKENS_KEY, one line per
 * token: "UUID SHA256HEX NAME"), so that the offline command and the
 * server share them.
 *
 * Whether notifyCommit needs a token is the setting GIT_NOTIFY_ACCESS_KEY,
 * with the plugin's modes: "required" (the default), "sha1-only" (the
 * plugin's disabled-for-polling: only a request naming a commit needs
 * one) and "off".
 */

#include <stdbool.h>

#include "store/store.h"

#define GIT_NOTIFY_TOKENS_KEY "git.notifyCommit.tokens"
#define GIT_NOTIFY_ACCESS_KEY "git.notifyCommit.access"
#define GIT_NOTIFY_TOKEN_NAME_MAX 100

enum notify_access { NOTIFY_REQUIRED, NOTIFY_SHA1_ONLY, NOTIFY_OFF };

/*
 * A new token named `name` (1 to GIT_NOTIFY_TOKEN_NAME_MAX bytes of
 * printable text): *ret_value (32 hex digits) and *ret_uuid, both newly
 * allocated. 0, -EINVAL for a bad name, -errno.
 */
int notify_token_new(struct store *s, const char *name, char **ret_value, char **ret_uuid);
/* -ENOENT when no token has that UUID. */
int notify_token_revoke(struct store *s, const char *uuid);
/* Whether `token` is one of them (compared by hash, in constant time per token). */
bool notify_token_valid(struct store *s, const char *token);
/* The tokens as "UUID NAME" lines (never the hashes), newly allocated ("" for none). */
int notify_token_list(struct store *s, char **ret);

enum notify_access notify_access(struct store *s);
