/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "util/strutil.h"

void
audit_row_release(struct audit_row *a)
{
    free(a->actor);
    free(a->via);
    free(a->token_name);
    free(a->addr);
    free(a->action);
    free(a->job);
    free(a->detail);
    memset(a, 0, sizeof *a);
}

void
audit_rows_free(struct audit_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        audit_row_release(&rows[i]);
    free(rows);
}

int
store_audit_add(struct store *s, const struct audit_entry *a)
{
    sqlite3_stmt *st = st_prep(s, "INSERT INTO audit(time_ms, actor, via, token_name, addr, "
                                  "action, job, detail) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, a->time_ms ? a->time_ms : now_ms());
    st_bind_text(st, 2, a->actor ? a->actor : "");
    st_bind_text(st, 3, a->via ? a->via : "");
    st_bind_text(st, 4, a->token_name);
    st_bind_text(st, 5, a->addr);
    st_bind_text(st, 6, a->action ? a->action : "");
    st_bind_text(st, 7, a->job);
    st_bind_text(st, 8, a->detail);
    return st_exec_done(st);
}

int
store_audit_list(struct store *s, const struct audit_filter *f, struct audit_row **ret_rows,
                 size_t *ret_n)
{
    /* one statement: a NULL or 0 filter matches everything */
    sqlite3_stmt *st = st_prep(s, "SELECT id, time_ms, actor, via, token_name, addr, action, job, "
                                  "detail FROM audit WHERE (?1 = 0 OR time_ms >= ?1) AND "
                                  "(?2 = 0 OR time_ms <= ?2) AND (?3 IS NULL OR actor = ?3) AND "
                                  "(?4 IS NULL OR job = ?4) AND (?5 IS NULL OR action = ?5) AND "
                                  "(?6 = 0 OR id < ?6) ORDER BY id DESC LIMIT ?7");
    struct audit_row *rows = NULL;
    size_t n = 0;
    int rc, r = 0;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, f->since_ms);
    sqlite3_bind_int64(st, 2, f->until_ms);
    st_bind_text(st, 3, f->actor);
    st_bind_text(st, 4, f->job);
    st_bind_text(st, 5, f->action);
    sqlite3_bind_int64(st, 6, f->before_id);
    sqlite3_bind_int(st, 7, f->limit > 0 ? f->limit : 100);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct audit_row *v = realloc(rows, (n + 1) * sizeof *rows), *a;

        if (!v) {
            r = -ENOMEM;
            break;
        }
        rows = v;
        a = &rows[n++];
        *a = (struct audit_row){ .id = sqlite3_column_int64(st, 0),
                                 .time_ms = sqlite3_column_int64(st, 1),
                                 .actor = st_text(st, 2), .via = st_text(st, 3),
                                 .token_name = st_text(st, 4), .addr = st_text(st, 5),
                                 .action = st_text(st, 6), .job = st_text(st, 7),
                                 .detail = st_text(st, 8) };
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
    if (r < 0) {
        audit_rows_free(rows, n);
        return r;
    }
    *ret_rows = rows;
    *ret_n = n;
    return 0;
}

int
store_audit_prune(struct store *s, int64_t before_ms, bool oldest_only)
{
    /*
     * The log has no index on time_ms (a trigger's entry is on its
     * path): the whole prune reads every entry. From the oldest on, the
     * scan in id order stops at the first entry young enough, and the
     * delete is a range of ids.
     */
    sqlite3_stmt *st = oldest_only
        ? st_prep(s, "DELETE FROM audit WHERE id < coalesce((SELECT id FROM audit "
                     "WHERE time_ms >= ?1 ORDER BY id LIMIT 1), (SELECT max(id) + 1 FROM audit))")
        : st_prep(s, "DELETE FROM audit WHERE time_ms < ?1");
    int r;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, before_ms);
    r = st_exec_done(st);
    return r < 0 ? r : sqlite3_changes(s->db);
}
