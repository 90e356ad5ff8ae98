/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "util/bounds.h"
#include "util/macro.h"
#include "util/strutil.h"

void
user_row_release(struct user_row *u)
{
    free(u->name);
    free(u->full_name);
    free(u->password_hash);
    memset(u, 0, sizeof *u);
}

int
store_user_add(struct store *s, const char *name, const char *password_hash, bool is_admin,
               int64_t *ret_id)
{
    sqlite3_stmt *st = st_prep(s, "INSERT INTO users(name, full_name, password_hash, is_admin, "
                                  "created_ms) VALUES(?, ?, ?, ?, ?)");
    int r;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, name);
    st_bind_text(st, 2, name);
    st_bind_text(st, 3, password_hash);
    sqlite3_bind_int(st, 4, is_admin);
    sqlite3_bind_int64(st, 5, now_ms());
    r = st_exec_done(st);
    if (r >= 0 && ret_id)
        *ret_id = sqlite3_last_insert_rowid(s->db);
    if (r >= 0)
        authgen_changed(s);
    return r;
}

static int
user_get(struct store *s, const char *sql, const char *name, int64_t id, struct user_row *ret)
{
    sqlite3_stmt *st = st_prep(s, sql);
    int rc, r = -ENOENT;

    if (!st)
        return -EIO;
    if (name)
        st_bind_text(st, 1, name);
    else
        sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        ret->id = sqlite3_column_int64(st, 0);
        ret->name = st_text(st, 1);
        ret->full_name = st_text(st, 2);
        ret->password_hash = st_text(st, 3);
        ret->is_admin = sqlite3_column_int(st, 4) != 0;
        ret->created_ms = sqlite3_column_int64(st, 5);
        r = 0;
    } else if (rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
    return r;
}

int
store_user_get(struct store *s, const char *name, struct user_row *ret)
{
    return user_get(s,
                    "SELECT id, name, full_name, password_hash, is_admin, created_ms "
                    "FROM users WHERE name = ?",
                    name, 0, ret);
}

int
store_user_get_by_id(struct store *s, int64_t id, struct user_row *ret)
{
    return user_get(s,
                    "SELECT id, name, full_name, password_hash, is_admin, created_ms "
                    "FROM users WHERE id = ?",
                    NULL, id, ret);
}

int
store_user_set_password(struct store *s, int64_t id, const char *password_hash)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE users SET password_hash = ? WHERE id = ?");

    if (!st)
        return -EIO;
    int r;

    st_bind_text(st, 1, password_hash);
    sqlite3_bind_int64(st, 2, id);
    r = st_exec_done(st);
    if (r < 0)
        return r;
    authgen_changed(s);
    return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int
store_user_count(struct store *s, int64_t *ret_count)
{
    sqlite3_stmt *st = st_prep(s, "SELECT count(*) FROM users");
    int r = -EIO;

    if (!st)
        return -EIO;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *ret_count = sqlite3_column_int64(st, 0);
        r = 0;
    }
    st_release(st);
    return r;
}

void
user_rows_free(struct user_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        user_row_release(&rows[i]);
    free(rows);
}

int
store_user_list(struct store *s, struct user_row **ret_rows, size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT id, name, full_name, password_hash, is_admin, created_ms "
                                  "FROM users ORDER BY name COLLATE NOCASE, name");
    struct user_row *rows = NULL;
    size_t n = 0;
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, BOUND_GLOBAL_GRANTS);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct user_row *p = realloc(rows, (n + 1) * sizeof *rows);
        if (!p) {
            st_release(st);
            user_rows_free(rows, n);
            return -ENOMEM;
        }
        rows = p;
        rows[n] = (struct user_row){
            .id = sqlite3_column_int64(st, 0),
            .name = st_text(st, 1),
            .full_name = st_text(st, 2),
            .password_hash = st_text(st, 3),
            .is_admin = sqlite3_column_int(st, 4) != 0,
            .created_ms = sqlite3_column_int64(st, 5),
        };
        if (!rows[n++].name) {
            st_release(st);
            user_rows_free(rows, n);
            return -ENOMEM;
        }
    }
    st_release(st);
    if (rc != SQLITE_DONE) {
        user_rows_free(rows, n);
        return st_err(rc);
    }
    *ret_rows = rows;
    *ret_n = n;
    return 0;
}

int
store_user_delete(struct store *s, int64_t id)
{
    /*
     * The tokens go explicitly, first: the schema says ON DELETE CASCADE,
     * but that only happens with PRAGMA foreign_keys on for the connection
     * that deletes, and a token that outlived its user would be a
     * credential nobody can see or revoke.
     */
    static const char *const sql[] = {
        "DELETE FROM api_tokens WHERE user_id = ?",
        "DELETE FROM users WHERE id = ?",
    };
    int r;

    for (size_t i = 0; i < ELEMENTSOF(sql); i++) {
        sqlite3_stmt *st = st_prep(s, sql[i]);

        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, id);
        r = st_exec_done(st);
        if (r < 0)
            return r;
        authgen_changed(s);
    }
    return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int
store_user_set_admin(struct store *s, int64_t id, bool is_admin)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE users SET is_admin = ? WHERE id = ?");
    int r;

    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, is_admin);
    sqlite3_bind_int64(st, 2, id);
    r = st_exec_done(st);
    if (r < 0)
        return r;
    authgen_changed(s);
    return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

void
token_row_release(struct token_row *t)
{
    free(t->name);
    free(t->scopes);
    free(t->jobs);
    memset(t, 0, sizeof *t);
}

void
token_rows_free(struct token_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        token_row_release(&rows[i]);
    free(rows);
}

int
store_token_add(struct store *s, int64_t user_id, const char *uuid, const char *name,
                const char *hash_hex, const struct token_limits *lim)
{
    sqlite3_stmt *st = st_prep(s, "INSERT INTO api_tokens(uuid, user_id, name, hash, created_ms, "
                                  "scopes, jobs, expires_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
    int r;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, uuid);
    sqlite3_bind_int64(st, 2, user_id);
    st_bind_text(st, 3, name);
    st_bind_text(st, 4, hash_hex);
    sqlite3_bind_int64(st, 5, now_ms());
    st_bind_text(st, 6, lim ? lim->scopes : NULL);
    st_bind_text(st, 7, lim ? lim->jobs : NULL);
    sqlite3_bind_int64(st, 8, lim ? lim->expires_ms : 0);
    r = st_exec_done(st);
    if (r >= 0)
        authgen_changed(s);
    return r;
}

static void
token_from_row(sqlite3_stmt *st, struct token_row *t)
{
    const unsigned char *u = sqlite3_column_text(st, 0);

    snprintf(t->uuid, sizeof t->uuid, "%s", u ? (const char *) u : "");
    t->user_id = sqlite3_column_int64(st, 1);
    t->name = st_text(st, 2);
    t->created_ms = sqlite3_column_int64(st, 3);
    t->last_use_ms = sqlite3_column_int64(st, 4);
    t->use_count = sqlite3_column_int64(st, 5);
    t->scopes = st_text(st, 6);
    t->jobs = st_text(st, 7);
    t->expires_ms = sqlite3_column_int64(st, 8);
}

#define TOKEN_COLUMNS "uuid, user_id, name, created_ms, last_use_ms, use_count, scopes, jobs, " \
                      "expires_ms"

int
store_token_find_by_hash(struct store *s, const char *hash_hex, struct token_row *ret)
{
    sqlite3_stmt *st = st_prep(s, "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE hash = ?");
    int rc, r = -ENOENT;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, hash_hex);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        token_from_row(st, ret);
        r = 0;
    } else if (rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
    return r;
}

int
store_token_list(struct store *s, int64_t user_id, struct token_row **ret_rows, size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT " TOKEN_COLUMNS
                                  " FROM api_tokens WHERE user_id = ? ORDER BY created_ms, rowid");
    struct token_row *rows = NULL;
    size_t n = 0;
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, user_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct token_row *p = realloc(rows, (n + 1) * sizeof *rows);
        if (!p) {
            st_release(st);
            token_rows_free(rows, n);
            return -ENOMEM;
        }
        rows = p;
        memset(&rows[n], 0, sizeof rows[n]);
        token_from_row(st, &rows[n++]);
    }
    st_release(st);
    if (rc != SQLITE_DONE) {
        token_rows_free(rows, n);
        return st_err(rc);
    }
    *ret_rows = rows;
    *ret_n = n;
    return 0;
}

int
store_token_delete(struct store *s, int64_t user_id, const char *uuid, const char *name)
{
    sqlite3_stmt *st = st_prep(s, uuid ? "DELETE FROM api_tokens WHERE user_id = ? AND uuid = ?"
                                       : "DELETE FROM api_tokens WHERE user_id = ? AND name = ?");
    int r;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, user_id);
    st_bind_text(st, 2, uuid ? uuid : name);
    r = st_exec_done(st);
    if (r < 0)
        return r;
    authgen_changed(s);
    return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int
store_token_add_uses(struct store *s, const char *uuid, int64_t uses, int64_t last_use_ms)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE api_tokens SET use_count = use_count + ?, "
                                  "last_use_ms = max(last_use_ms, ?) WHERE uuid = ?");

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, uses);
    sqlite3_bind_int64(st, 2, last_use_ms);
    st_bind_text(st, 3, uuid);
    return st_exec_done(st);
}

int
store_grant_add(struct store *s, const char *entry)
{
    sqlite3_stmt *st = st_prep(s, "INSERT OR IGNORE INTO grants(entry) VALUES(?)");
    int r;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, entry);
    r = st_exec_done(st);
    if (r < 0)
        return r;
    authgen_changed(s);
    return sqlite3_changes(s->db) > 0;
}

int
store_grant_remove(struct store *s, const char *entry)
{
    sqlite3_stmt *st = st_prep(s, "DELETE FROM grants WHERE entry = ?");
    int r;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, entry);
    r = st_exec_done(st);
    if (r < 0)
        return r;
    authgen_changed(s);
    return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

void
store_grants_free(char **entries, size_t n)
{
    for (size_t i = 0; entries && i < n; i++)
        free(entries[i]);
    free(entries);
}

int
store_grant_list(struct store *s, char ***ret_entries, size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT entry FROM grants ORDER BY entry LIMIT ?");
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc, r = 0;

    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, BOUND_GLOBAL_GRANTS);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
            if (!nv) {
                r = -ENOMEM;
                break;
            }
            v = nv;
        }
        if (!(v[n] = st_text(st, 0))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
    if (r < 0) {
        store_grants_free(v, n);
        return r;
    }
    *ret_entries = v;
    *ret_n = n;
    return 0;
}
