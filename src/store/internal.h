/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the store's own files; nothing outside src/store includes this. */

#include <sqlite3.h>

#include "store/store.h"

struct store {
    sqlite3 *db;
};

/* Prepares `sql` (cached by SQLite's own statement cache is not available,
 * so callers finalize). Returns NULL on error after logging nothing. */
sqlite3_stmt *st_prep(struct store *s, const char *sql);
/* Returns a newly allocated copy of a text column, NULL for SQL NULL. */
char *st_text(sqlite3_stmt *st, int col);
/* Maps a SQLite result code to -errno. */
int st_err(int rc);
int st_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* Runs a statement that returns no rows; finalizes it. */
int st_exec_done(sqlite3_stmt *st);
