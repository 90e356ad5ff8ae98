/* SPDX-License-Identifier: MIT */
/*
 * Copies of steward.db for `steward backup` and `restore`: SQLite's online
 * backup API, a read-only check, and the pruning of a copy's build rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"
#include "util/macro.h"

/* how long a backup waits for a database that is busy (a WAL recovery, say) */
#define BACKUP_BUSY_TRIES 500
#define BACKUP_BUSY_SLEEP_MS 20

static int
open_db(const char *path, int flags, sqlite3 **ret)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        return rc == SQLITE_CANTOPEN && access(path, F_OK) < 0 ? -ENOENT : st_err(rc);
    }
    sqlite3_busy_timeout(db, 10000);
    *ret = db;
    return 0;
}

static int
read_int(sqlite3 *db, const char *sql, int *ret)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *ret = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : rc;
}

static void
remove_db_files(const char *path)
{
    static const char *const suffixes[] = { "", "-journal", "-wal", "-shm" };

    for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s%s", path, suffixes[i]) >= 0)
            (void) unlink(p);
    }
}

int
store_backup(const char *src_path, const char *dest_path, int *ret_version)
{
    sqlite3 *src = NULL, *dest = NULL;
    sqlite3_backup *b;
    int rc = SQLITE_OK, r, version = 0;

    if (access(dest_path, F_OK) == 0)
        return -EEXIST;
    r = open_db(src_path, SQLITE_OPEN_READONLY, &src);
    if (r < 0)
        return r;
    r = open_db(dest_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dest);
    if (r < 0) {
        sqlite3_close(src);
        return r;
    }

    /*
     * All pages in one step (-1), so one read transaction on the source
     * covers the whole copy: a snapshot of one commit. Stepping in pieces
     * would restart the copy each time the server commits in between.
     */
    b = sqlite3_backup_init(dest, "main", src, "main");
    if (!b)
        rc = sqlite3_errcode(dest);
    for (int tries = 0; b; tries++) {
        rc = sqlite3_backup_step(b, -1);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries >= BACKUP_BUSY_TRIES)
            break;
        sqlite3_sleep(BACKUP_BUSY_SLEEP_MS);
    }
    if (b) {
        int frc = sqlite3_backup_finish(b);
        if (rc == SQLITE_DONE)
            rc = frc;
    }
    /* the pages say WAL as the source's do: one self-contained file instead */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(dest, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = read_int(dest, "PRAGMA user_version", &version);
    sqlite3_close(src);
    if (sqlite3_close(dest) != SQLITE_OK && rc == SQLITE_OK)
        rc = SQLITE_IOERR;
    if (rc != SQLITE_OK) {
        remove_db_files(dest_path);
        return st_err(rc);
    }
    *ret_version = version;
    return 0;
}

int
store_check(const char *path, int *ret_version)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int version = 0, rc, r;
    bool ok = false;

    r = open_db(path, SQLITE_OPEN_READONLY, &db);
    if (r < 0)
        return r == -ENOENT ? r : -EINVAL;
    /* reading the header is where a file that is not a database shows it */
    rc = read_int(db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        ok = t && streq((const char *) t, "ok");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (rc == SQLITE_NOMEM)
        return -ENOMEM;
    if (rc != SQLITE_OK || !ok)
        return -EINVAL;
    if (version > store_schema_version())
        return -EPROTO;
    *ret_version = version;
    return 0;
}

struct build_key {
    char *job;
    int64_t number;
};

static void
build_keys_free(struct build_key *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].job);
    free(v);
}

int
store_prune_builds(const char *path,
                   bool (*keep)(void *userdata, const char *job, int64_t number),
                   void *userdata, size_t *ret_deleted)
{
    struct build_key *gone = NULL;
    size_t n_gone = 0, cap = 0, deleted = 0;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int rc, r;

    r = open_db(path, SQLITE_OPEN_READWRITE, &db);
    if (r < 0)
        return r;

    /* first what goes, then the deletes: no writes while a select is open */
    rc = sqlite3_prepare_v2(db, "SELECT job, number FROM builds", -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *job = (const char *) sqlite3_column_text(st, 0);
        int64_t number = sqlite3_column_int64(st, 1);

        rc = SQLITE_OK;
        if (!job || keep(userdata, job, number))
            continue;
        if (n_gone == cap) {
            struct build_key *v = realloc(gone, (cap ? cap * 2 : 16) * sizeof *v);
            if (!v) {
                rc = SQLITE_NOMEM;
                break;
            }
            gone = v;
            cap = cap ? cap * 2 : 16;
        }
        gone[n_gone].number = number;
        gone[n_gone].job = strdup(job);
        if (!gone[n_gone++].job)
            rc = SQLITE_NOMEM;
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(st);
    st = NULL;

    if (rc == SQLITE_OK && n_gone > 0) {
        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_prepare_v2(db, "DELETE FROM builds WHERE job = ? AND number = ?", -1, &st,
                                    NULL);
        for (size_t i = 0; rc == SQLITE_OK && i < n_gone; i++) {
            sqlite3_bind_text(st, 1, gone[i].job, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, gone[i].number);
            rc = sqlite3_step(st);
            if (rc == SQLITE_DONE) {
                rc = SQLITE_OK;
                deleted += (size_t) sqlite3_changes(db);
            }
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        else
            (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    build_keys_free(gone, n_gone);
    if (sqlite3_close(db) != SQLITE_OK && rc == SQLITE_OK)
        rc = SQLITE_IOERR;
    if (rc != SQLITE_OK)
        return st_err(rc);
    *ret_deleted = deleted;
    return 0;
}
