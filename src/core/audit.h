/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The audit log's rules: what its actions are called, how long entries
 * are kept, and how a time in a filter is written. The entries themselves
 * are the store's (store_audit_add and friends); http/app.h's app_audit()
 * writes one for a request.
 */

#include <stdint.h>

#define AUDIT_DEFAULT_DAYS 90        /* serve --audit-days */
#define AUDIT_PAGE_MAX 1000          /* entries one answer gives at most */

/*
 * Reads a time for a filter, relative to `now_ms`:
 *   1733400000000         milliseconds since the epoch (as Jenkins' timestamps)
 *   2026-12-05            midnight UTC of that day
 *   2026-12-05T14:30[:15][Z]   that minute (second) UTC
 *   30m, 12h, 7d          that long ago
 * 0 and *ret, or -EINVAL.
 */
int audit_parse_time(const char *s, int64_t now_ms, int64_t *ret);
