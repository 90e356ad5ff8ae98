/* SPDX-License-Identifier: MIT */
/*
 * Webhook deliveries (GitHub, GitLab): each is recorded with what it
 * matched and what came of it, and a delivery id seen before is a replay.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

/* Deliveries are kept this long, then dropped as new ones come. */
#define DELIVERY_KEEP_MS (30LL * 24 * 3600 * 1000)

int
store_delivery_add(struct store *s, const char *source, const char *id, const char *event,
                   int64_t at_ms)
{
    sqlite3_stmt *st;
    int r;

    st = st_prep(s, "DELETE FROM hook_deliveries WHERE received_ms < ?");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, at_ms - DELIVERY_KEEP_MS);
    (void) st_exec_done(st);
    st = st_prep(s, "INSERT INTO hook_deliveries(source, id, event, received_ms, matched, result) "
                    "VALUES(?, ?, ?, ?, '', 'received') ON CONFLICT DO NOTHING");
    if (!st)
        return -EIO;
    st_bind_text(st, 1, source);
    st_bind_text(st, 2, id);
    st_bind_text(st, 3, event);
    sqlite3_bind_int64(st, 4, at_ms);
    r = st_exec_done(st);
    if (r < 0)
        return r;
    return sqlite3_changes(s->db) == 0 ? -EEXIST : 0;
}

int
store_delivery_finish(struct store *s, const char *source, const char *id, const char *matched,
                      const char *result)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE hook_deliveries SET matched = ?, result = ? "
                                  "WHERE source = ? AND id = ?");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, matched);
    st_bind_text(st, 2, result);
    st_bind_text(st, 3, source);
    st_bind_text(st, 4, id);
    return st_exec_done(st);
}

void
deliveries_free(struct delivery *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].source);
        free(v[i].id);
        free(v[i].event);
        free(v[i].matched);
        free(v[i].result);
    }
    free(v);
}

int
store_delivery_list(struct store *s, int64_t limit, struct delivery **ret, size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT source, id, event, received_ms, matched, result "
                                  "FROM hook_deliveries ORDER BY received_ms DESC, rowid DESC "
                                  "LIMIT ?");
    struct delivery *v = NULL;
    size_t n = 0;
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct delivery *nv = realloc(v, (n + 1) * sizeof *nv);
        if (!nv) {
            st_release(st);
            deliveries_free(v, n);
            return -ENOMEM;
        }
        v = nv;
        v[n] = (struct delivery){ .source = st_text(st, 0), .id = st_text(st, 1),
                                  .event = st_text(st, 2),
                                  .received_ms = sqlite3_column_int64(st, 3),
                                  .matched = st_text(st, 4), .result = st_text(st, 5) };
        n++;
    }
    st_release(st);
    if (rc != SQLITE_DONE) {
        deliveries_free(v, n);
        return st_err(rc);
    }
    *ret = v;
    *ret_n = n;
    return 0;
}
