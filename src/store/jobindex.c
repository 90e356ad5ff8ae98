/* SPDX-License-Identifier: MIT */
/* The job registry's index (core/jobs.c): one row per job, a cache of its summary. */
#include <errno.h>
#include <stdlib.h>

#include "store/internal.h"

int
store_job_index_each(struct store *s,
                     int (*fn)(void *userdata, const char *name, const struct job_ident *id,
                               const void *blob, size_t len),
                     void *userdata)
{
    sqlite3_stmt *st = st_prep(s, "SELECT name, ino, size, mtime_ns, ctime_ns, summary "
                                  "FROM job_index");
    int rc, r = 0;

    if (!st)
        return -EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text(st, 0);
        struct job_ident id = { .ino = sqlite3_column_int64(st, 1),
                                .size = sqlite3_column_int64(st, 2),
                                .mtime_ns = sqlite3_column_int64(st, 3),
                                .ctime_ns = sqlite3_column_int64(st, 4) };
        const void *blob = sqlite3_column_blob(st, 5);
        size_t len = (size_t) sqlite3_column_bytes(st, 5);

        if (!name)
            continue;
        r = fn(userdata, name, &id, blob ? blob : "", len);
        if (r < 0)
            break;
    }
    if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
    return r < 0 ? r : 0;
}

int
store_job_index_put(struct store *s, const char *name, const struct job_ident *id,
                    const void *blob, size_t len)
{
    sqlite3_stmt *st = st_prep(s, "INSERT OR REPLACE INTO job_index(name, ino, size, mtime_ns, "
                                  "ctime_ns, summary) VALUES(?, ?, ?, ?, ?, ?)");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, id->ino);
    sqlite3_bind_int64(st, 3, id->size);
    sqlite3_bind_int64(st, 4, id->mtime_ns);
    sqlite3_bind_int64(st, 5, id->ctime_ns);
    sqlite3_bind_blob(st, 6, blob, (int) len, SQLITE_STATIC);
    return st_exec_done(st);
}

int
store_job_index_delete(struct store *s, const char *name)
{
    sqlite3_stmt *st = st_prep(s, "DELETE FROM job_index WHERE name = ?");
    int r;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, name);
    r = st_exec_done(st);
    if (r >= 0 && sqlite3_changes(s->db) == 0)
        r = -ENOENT;
    return r;
}
