/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the store's own files and their unit tests; nothing else includes this. */

#include <sqlite3.h>

#include "store/store.h"

struct stmt_slot {
    const char *sql;   /* the string literal's address is the key */
    sqlite3_stmt *st;
};

struct store {
    sqlite3 *db;
    /*
     * Each statement st_prep() prepared, by its string literal: as many as
     * the store has literals, so the array grows as they come, and never
     * holds one twice.
     */
    struct stmt_slot *cache;
    size_t n_cache;
    size_t cap_cache;
    bool lazy;              /* the open transaction is store_begin_lazy()'s */
    bool unsynced;          /* a lazy commit since the last store_sync() */
    bool not_full;          /* could not go back to synchronous=FULL: begins nothing yet */
    uint64_t lazy_commits;  /* lazy transactions committed so far that changed rows */
    sqlite3_int64 lazy_changes; /* sqlite3_total_changes64() when the lazy one began */
    /* the sync on the side (store/sidesync.c) */
    struct sidesync *side;
    bool side_failed;       /* its thread could not be had: syncs stay on the caller's */
    bool side_asked;        /* store_sync_start() handed one over */
    uint64_t side_commits;  /* lazy_commits when it did */
    /* the auth generation (store/authgen.c) */
    char *db_path;      /* NULL: a database with no file beside it */
    uint64_t *gen;      /* mapped, once asked for */
    bool gen_tried;
    bool gen_dirty;     /* changed in the open transaction: count it at the commit */
};

/* Ends the sync thread, if the store has one (store_close()). */
void sidesync_stop(struct store *s);

/*
 * Returns the prepared statement for `sql`, a string literal: prepared
 * once per connection, then reused. Give it back with st_release() when
 * done. NULL on error.
 */
sqlite3_stmt *st_prep(struct store *s, const char *sql);
/* Resets a statement from st_prep for its next use. */
void st_release(sqlite3_stmt *st);
/* Returns a newly allocated copy of a text column, NULL for SQL NULL. */
char *st_text(sqlite3_stmt *st, int col);
/* Maps a SQLite result code to -errno. */
int st_err(int rc);
int st_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* Runs a statement that returns no rows, then resets it for its next use. */
int st_exec_done(sqlite3_stmt *st);
/*
 * A read of many statements as one snapshot, with one lock for all of them
 * instead of one each: read_begin() returns true when it began a
 * transaction (false inside one already, or on error), which read_end()
 * then ends.
 */
bool read_begin(struct store *s);
void read_end(struct store *s, bool began);

/*
 * The auth generation (store/authgen.c). Every function that writes users,
 * API tokens, grants or settings calls authgen_changed() once it has
 * succeeded; store_commit() and store_rollback() call the other two.
 */
void authgen_init(struct store *s, const char *db_path);
void authgen_release(struct store *s);
void authgen_changed(struct store *s);
void authgen_committed(struct store *s);
void authgen_rolled_back(struct store *s);

/*
 * The SQL of the migration that takes a database from schema `version` to
 * `version` + 1, or NULL past the last one. For the migration tests, which
 * build databases as every earlier Steward left them.
 */
const char *store_migration_sql(int version);
