/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "util/secret.h"

void
credential_row_release(struct credential_row *c)
{
    free(c->id);
    free(c->scope);
    free(c->description);
    free(c->username);
    free(c->file_name);
    secret_bytes_free(c->box, c->box_len);
    memset(c, 0, sizeof *c);
}

void
credential_rows_free(struct credential_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        credential_row_release(&rows[i]);
    free(rows);
}

/* Binds the fields every write has, from index `first` on: kind ... updated_ms. */
static void
bind_fields(sqlite3_stmt *st, int first, const struct credential_row *c)
{
    sqlite3_bind_int(st, first, c->kind);
    st_bind_text(st, first + 1, c->scope);
    st_bind_text(st, first + 2, c->description ? c->description : "");
    st_bind_text(st, first + 3, c->username);
    sqlite3_bind_int(st, first + 4, c->username_secret);
    st_bind_text(st, first + 5, c->file_name);
    sqlite3_bind_blob(st, first + 6, c->box, (int) c->box_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, first + 7, c->updated_ms);
}

int
store_credential_add(struct store *s, const struct credential_row *c)
{
    sqlite3_stmt *st = st_prep(s, "INSERT INTO credentials(id, kind, scope, description, username, "
                                  "username_secret, file_name, box, updated_ms, created_ms) "
                                  "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, c->id);
    bind_fields(st, 2, c);
    sqlite3_bind_int64(st, 10, c->created_ms);
    return st_exec_done(st);
}

int
store_credential_update(struct store *s, const struct credential_row *c)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE credentials SET kind = ?, scope = ?, description = ?, "
                                  "username = ?, username_secret = ?, file_name = ?, box = ?, "
                                  "updated_ms = ? WHERE id = ?");
    int r;

    if (!st)
        return -EIO;
    bind_fields(st, 1, c);
    st_bind_text(st, 9, c->id);
    r = st_exec_done(st);
    if (r >= 0 && sqlite3_changes(s->db) == 0)
        r = -ENOENT;
    return r;
}

/* The row at the statement's columns: id, kind, scope, description, username, username_secret, file_name, created_ms, updated_ms[, box]. */
static int
read_row(sqlite3_stmt *st, bool with_box, struct credential_row *c)
{
    *c = (struct credential_row){ .id = st_text(st, 0), .kind = sqlite3_column_int(st, 1),
                                  .scope = st_text(st, 2), .description = st_text(st, 3),
                                  .username = st_text(st, 4),
                                  .username_secret = sqlite3_column_int(st, 5) != 0,
                                  .file_name = st_text(st, 6),
                                  .created_ms = sqlite3_column_int64(st, 7),
                                  .updated_ms = sqlite3_column_int64(st, 8) };
    if (!c->id || !c->scope || !c->description)
        return -ENOMEM;
    if (with_box) {
        const void *b = sqlite3_column_blob(st, 9);
        int n = sqlite3_column_bytes(st, 9);

        c->box = malloc(n > 0 ? (size_t) n : 1);
        if (!c->box)
            return -ENOMEM;
        if (b && n > 0)
            memcpy(c->box, b, (size_t) n);
        c->box_len = n > 0 ? (size_t) n : 0;
    }
    return 0;
}

int
store_credential_get(struct store *s, const char *id, struct credential_row *ret)
{
    sqlite3_stmt *st = st_prep(s, "SELECT id, kind, scope, description, username, username_secret, "
                                  "file_name, created_ms, updated_ms, box FROM credentials "
                                  "WHERE id = ?");
    struct credential_row c = {};
    int rc, r = -ENOENT;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = read_row(st, true, &c);
    else if (rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
    if (r < 0) {
        credential_row_release(&c);
        return r;
    }
    *ret = c;
    return 0;
}

int
store_credential_list(struct store *s, struct credential_row **ret_rows, size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT id, kind, scope, description, username, username_secret, "
                                  "file_name, created_ms, updated_ms FROM credentials ORDER BY id");
    struct credential_row *rows = NULL;
    size_t n = 0;
    int rc, r = 0;

    if (!st)
        return -EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct credential_row *v = realloc(rows, (n + 1) * sizeof *rows);

        if (!v) {
            r = -ENOMEM;
            break;
        }
        rows = v;
        r = read_row(st, false, &rows[n++]);
        if (r < 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
    if (r < 0) {
        credential_rows_free(rows, n);
        return r;
    }
    *ret_rows = rows;
    *ret_n = n;
    return 0;
}

int
store_credential_count(struct store *s, int64_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT count(*) FROM credentials");
    int rc, r = 0;

    if (!st)
        return -EIO;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret_n = sqlite3_column_int64(st, 0);
    else
        r = st_err(rc);
    st_release(st);
    return r;
}

int
store_credential_delete(struct store *s, const char *id)
{
    sqlite3_stmt *st = st_prep(s, "DELETE FROM credentials WHERE id = ?");
    int r;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, id);
    r = st_exec_done(st);
    if (r >= 0 && sqlite3_changes(s->db) == 0)
        r = -ENOENT;
    return r;
}
