/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/internal.h"
#include "store/store.h"
#include "util/macro.h"
#include "util/strutil.h"

/* Each test gets a fresh database in a fresh directory under /tmp. */
struct fixture {
    char dir[64];
    char db[96];
    struct store *s;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int teardown(void **state);

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof f->db, "%s/steward.db", f->dir);
    *state = f;
    if (store_open(f->db, &f->s) < 0) {
        teardown(state);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->s);
    (void) nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

#define S (((struct fixture *) *state)->s)

/* Runs SQL on the database file behind the store's back. */
static void raw_sql(const char *db, const char *sql)
{
    sqlite3 *h = NULL;

    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

static int raw_int(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int v;

    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* ---- opening ---- */

static void store_open__runs_the_migrations_on_a_fresh_database(void **state)
{
    struct fixture *f = *state;
    int64_t n = -1;

    assert_true(raw_int(f->db, "PRAGMA user_version") >= 1);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                    "name IN ('settings', 'users', 'api_tokens', 'queue', "
                                    "'job_numbers', 'builds', 'job_stats')"),
                     7);
    assert_int_equal(store_user_count(f->s, &n), 0);
    assert_int_equal(n, 0);
}

static void store_open__reopens_a_database_and_keeps_its_data(void **state)
{
    struct fixture *f = *state;
    int version = raw_int(f->db, "PRAGMA user_version");
    char *v = NULL;

    assert_int_equal(store_setting_set(f->s, "k", "kept"), 0);
    f->s = store_close(f->s);
    assert_int_equal(store_open(f->db, &f->s), 0);
    assert_int_equal(raw_int(f->db, "PRAGMA user_version"), version);
    assert_int_equal(store_setting_get(f->s, "k", &v), 0);
    assert_string_equal(v, "kept");
    free(v);
}

static void store_open__refuses_a_database_from_a_newer_steward(void **state)
{
    struct fixture *f = *state;
    struct store *s = NULL;

    f->s = store_close(f->s);
    raw_sql(f->db, "PRAGMA user_version = 999");
    assert_int_equal(store_open(f->db, &s), -EPROTO);
    assert_null(s);
}

static void store_open__fails_in_a_missing_directory(void **state)
{
    struct fixture *f = *state;
    struct store *s = NULL;
    char path[128];

    snprintf(path, sizeof path, "%s/no/such/dir/steward.db", f->dir);
    assert_true(store_open(path, &s) < 0);
    assert_null(s);
}

static void store_close__accepts_null_and_returns_null(void **state)
{
    (void) state;
    assert_null(store_close(NULL));
}

static void store_rollback__discards_what_the_transaction_wrote(void **state)
{
    char *v = NULL;

    assert_int_equal(store_begin(S), 0);
    assert_int_equal(store_setting_set(S, "a", "1"), 0);
    assert_int_equal(store_rollback(S), 0);
    assert_int_equal(store_setting_get(S, "a", &v), -ENOENT);

    assert_int_equal(store_begin(S), 0);
    assert_int_equal(store_setting_set(S, "a", "2"), 0);
    assert_int_equal(store_commit(S), 0);
    assert_int_equal(store_setting_get(S, "a", &v), 0);
    assert_string_equal(v, "2");
    free(v);
}

/* The connection's synchronous level: 1 NORMAL, 2 FULL. */
static int sync_level(struct store *s)
{
    sqlite3_stmt *st = NULL;
    int v = -1;

    assert_int_equal(sqlite3_prepare_v2(s->db, "PRAGMA synchronous", -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void store_begin_lazy__commits_at_normal_and_the_next_transaction_is_full(void **state)
{
    char *v = NULL;

    assert_int_equal(sync_level(S), 2);
    assert_int_equal(store_begin_lazy(S), 0);
    assert_int_equal(sync_level(S), 1);
    assert_int_equal(store_setting_set(S, "a", "1"), 0);
    assert_int_equal(store_commit(S), 0);
    assert_int_equal(sync_level(S), 2);
    assert_int_equal(store_setting_get(S, "a", &v), 0);
    assert_string_equal(v, "1");
    free(v);

    /* a rollback ends it too, and what it wrote is gone */
    assert_int_equal(store_begin_lazy(S), 0);
    assert_int_equal(store_setting_set(S, "a", "2"), 0);
    assert_int_equal(store_rollback(S), 0);
    assert_int_equal(sync_level(S), 2);
    assert_int_equal(store_setting_get(S, "a", &v), 0);
    assert_string_equal(v, "1");
    free(v);

    assert_int_equal(store_begin(S), 0);
    assert_int_equal(sync_level(S), 2);
    assert_int_equal(store_setting_set(S, "b", "1"), 0);
    assert_int_equal(store_commit(S), 0);
}

static void store_sync__syncs_after_a_lazy_commit_and_is_a_no_op_otherwise(void **state)
{
    assert_false(S->unsynced);
    assert_int_equal(store_sync(S), 0);
    assert_int_equal(store_begin_lazy(S), 0);
    assert_int_equal(store_setting_set(S, "a", "1"), 0);
    assert_int_equal(store_commit(S), 0);
    assert_true(S->unsynced);
    assert_int_equal(store_sync(S), 0);
    assert_false(S->unsynced);
    /* a lazy transaction that did not commit leaves nothing to sync */
    assert_int_equal(store_begin_lazy(S), 0);
    assert_int_equal(store_rollback(S), 0);
    assert_false(S->unsynced);
}

/* One lazy transaction that sets a setting, committed. */
static void lazy_set(struct store *s, const char *key, const char *value)
{
    assert_int_equal(store_begin_lazy(s), 0);
    assert_int_equal(store_setting_set(s, key, value), 0);
    assert_int_equal(store_commit(s), 0);
}

static void store_sync_start__syncs_on_the_side_what_came_before_it_only(void **state)
{
    /* nothing lazy: nothing handed over, the wait is store_sync()'s no-op */
    assert_int_equal(store_sync_start(S), 0);
    assert_false(S->side_asked);
    assert_int_equal(store_sync_wait(S), 0);

    /* a lazy commit that changed nothing wrote nothing */
    assert_int_equal(store_begin_lazy(S), 0);
    assert_int_equal(store_commit(S), 0);
    assert_false(S->unsynced);

    lazy_set(S, "a", "1");
    assert_true(S->unsynced);
    assert_int_equal(store_sync_start(S), 0);
    assert_true(S->side_asked);
    assert_non_null(S->side);
    assert_int_equal(store_sync_wait(S), 0);
    assert_false(S->unsynced);

    /* a lazy commit made between the start and the wait is not covered */
    lazy_set(S, "a", "2");
    assert_int_equal(store_sync_start(S), 0);
    lazy_set(S, "a", "3");
    assert_int_equal(store_sync_wait(S), 0);
    assert_true(S->unsynced);
    assert_int_equal(store_sync(S), 0);
    assert_false(S->unsynced);
}

/* ---- settings ---- */

static void store_savepoint_rollback__undoes_only_what_came_after_the_savepoint(void **state)
{
    char *v = NULL;

    assert_int_equal(store_begin(S), 0);
    assert_int_equal(store_setting_set(S, "kept", "1"), 0);
    assert_int_equal(store_savepoint(S), 0);
    assert_int_equal(store_setting_set(S, "undone", "1"), 0);
    assert_int_equal(store_savepoint_rollback(S), 0);
    assert_int_equal(store_savepoint(S), 0);
    assert_int_equal(store_setting_set(S, "released", "1"), 0);
    assert_int_equal(store_savepoint_release(S), 0);
    assert_int_equal(store_commit(S), 0);
    assert_int_equal(store_setting_get(S, "kept", &v), 0);
    free(v);
    assert_int_equal(store_setting_get(S, "released", &v), 0);
    free(v);
    assert_int_equal(store_setting_get(S, "undone", &v), -ENOENT);
}

static void store_setting_get__returns_enoent_when_unset(void **state)
{
    char *v = (char *) "untouched";

    assert_int_equal(store_setting_get(S, "nope", &v), -ENOENT);
    assert_string_equal(v, "untouched");
}

static void store_setting_set__stores_and_overwrites(void **state)
{
    char *v = NULL;

    assert_int_equal(store_setting_set(S, "url", "http://a/"), 0);
    assert_int_equal(store_setting_get(S, "url", &v), 0);
    assert_string_equal(v, "http://a/");
    free(v);
    assert_int_equal(store_setting_set(S, "url", "http://b/"), 0);
    assert_int_equal(store_setting_get(S, "url", &v), 0);
    assert_string_equal(v, "http://b/");
    free(v);
    assert_int_equal(store_setting_set(S, "empty", ""), 0);
    assert_int_equal(store_setting_get(S, "empty", &v), 0);
    assert_string_equal(v, "");
    free(v);
}

static void store_setting_delete__removes_a_setting_and_says_when_there_was_none(void **state)
{
    char *v = NULL;

    assert_int_equal(store_setting_set(S, "k", "v"), 0);
    assert_int_equal(store_setting_delete(S, "k"), 0);
    assert_int_equal(store_setting_get(S, "k", &v), -ENOENT);
    assert_int_equal(store_setting_delete(S, "k"), -ENOENT);
}

static void store_setting_bool__reads_on_true_and_1_as_true(void **state)
{
    static const char *const yes[] = { "on", "true", "1" };
    static const char *const no[] = { "off", "false", "0", "", "yes" };

    assert_true(store_setting_bool(S, "unset", true));
    assert_false(store_setting_bool(S, "unset", false));
    for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
        assert_int_equal(store_setting_set(S, "b", yes[i]), 0);
        assert_true(store_setting_bool(S, "b", false));
    }
    for (size_t i = 0; i < ELEMENTSOF(no); i++) {
        assert_int_equal(store_setting_set(S, "b", no[i]), 0);
        if (store_setting_bool(S, "b", true))
            fail_msg("\"%s\" was read as true", no[i]);
    }
}

/* ---- users ---- */

static void store_user_add__stores_a_user_that_get_returns(void **state)
{
    struct user_row u = { 0 };
    int64_t id = 0, before = now_ms();

    assert_int_equal(store_user_add(S, "alice", "$argon2id$fake", true, &id), 0);
    assert_true(id > 0);
    assert_int_equal(store_user_get(S, "alice", &u), 0);
    assert_int_equal(u.id, id);
    assert_string_equal(u.name, "alice");
    assert_string_equal(u.full_name, "alice");
    assert_string_equal(u.password_hash, "$argon2id$fake");
    assert_true(u.is_admin);
    assert_true(u.created_ms >= before && u.created_ms <= now_ms());
    user_row_release(&u);

    assert_int_equal(store_user_get_by_id(S, id, &u), 0);
    assert_string_equal(u.name, "alice");
    user_row_release(&u);
    assert_null(u.name);
}

static void store_user_add__refuses_a_duplicate_name_with_eexist(void **state)
{
    int64_t id1 = 0, id2 = 0, n = 0;

    assert_int_equal(store_user_add(S, "bob", "h1", false, &id1), 0);
    assert_int_equal(store_user_add(S, "bob", "h2", true, &id2), -EEXIST);
    assert_int_equal(id2, 0);
    assert_int_equal(store_user_count(S, &n), 0);
    assert_int_equal(n, 1);
}

static void store_user_get__returns_enoent_for_an_unknown_user(void **state)
{
    struct user_row u = { 0 };

    assert_int_equal(store_user_get(S, "nobody", &u), -ENOENT);
    assert_int_equal(store_user_get_by_id(S, 4242, &u), -ENOENT);
    assert_null(u.name);
}

static void store_user_count__counts_users(void **state)
{
    int64_t n = -1;

    assert_int_equal(store_user_count(S, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_user_add(S, "a", "h", false, NULL), 0);
    assert_int_equal(store_user_add(S, "b", "h", false, NULL), 0);
    assert_int_equal(store_user_add(S, "c", "h", false, NULL), 0);
    assert_int_equal(store_user_count(S, &n), 0);
    assert_int_equal(n, 3);
}

static void store_user_set_password__replaces_the_hash(void **state)
{
    struct user_row u = { 0 };
    int64_t id = 0;

    assert_int_equal(store_user_add(S, "carol", "old", false, &id), 0);
    assert_int_equal(store_user_set_password(S, id, "new"), 0);
    assert_int_equal(store_user_get(S, "carol", &u), 0);
    assert_string_equal(u.password_hash, "new");
    assert_false(u.is_admin);
    user_row_release(&u);
}

static void store_user_list__lists_every_user_sorted_by_name(void **state)
{
    static const char *const add[] = { "carol", "Bob", "alice", "dave", "bob" };
    static const char *const want[] = { "alice", "Bob", "bob", "carol", "dave" };
    struct user_row *rows = NULL;
    int64_t ids[ELEMENTSOF(add)] = { 0 };
    size_t n = 0;

    for (size_t i = 0; i < ELEMENTSOF(add); i++)
        assert_int_equal(store_user_add(S, add[i], "h", i == 2, &ids[i]), 0);
    assert_int_equal(store_user_list(S, &rows, &n), 0);
    assert_int_equal(n, ELEMENTSOF(want));
    for (size_t i = 0; i < n; i++)
        assert_string_equal(rows[i].name, want[i]);
    /* every column comes along */
    assert_int_equal(rows[0].id, ids[2]);
    assert_true(rows[0].is_admin);
    assert_false(rows[3].is_admin);
    assert_string_equal(rows[0].full_name, "alice");
    assert_string_equal(rows[0].password_hash, "h");
    assert_true(rows[0].created_ms > 0);
    user_rows_free(rows, n);
}

static void store_user_list__returns_no_rows_without_users(void **state)
{
    struct user_row *rows = (struct user_row *) &rows;
    size_t n = 42;

    assert_int_equal(store_user_list(S, &rows, &n), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
    user_rows_free(rows, n);
}

static void store_user_set_admin__grants_and_takes_the_flag(void **state)
{
    struct user_row u = { 0 };
    int64_t id = 0;

    assert_int_equal(store_user_add(S, "dave", "h", false, &id), 0);
    assert_int_equal(store_user_set_admin(S, id, true), 0);
    assert_int_equal(store_user_get(S, "dave", &u), 0);
    assert_true(u.is_admin);
    assert_string_equal(u.password_hash, "h");
    user_row_release(&u);
    /* setting what is already set is no error */
    assert_int_equal(store_user_set_admin(S, id, true), 0);
    assert_int_equal(store_user_set_admin(S, id, false), 0);
    assert_int_equal(store_user_get(S, "dave", &u), 0);
    assert_false(u.is_admin);
    user_row_release(&u);
}

static void store_user_set_admin__returns_enoent_for_an_unknown_user(void **state)
{
    int64_t n = -1;

    assert_int_equal(store_user_set_admin(S, 4242, true), -ENOENT);
    assert_int_equal(store_user_count(S, &n), 0);
    assert_int_equal(n, 0);
}

/* ---- API tokens ---- */

#define UUID1 "11111111-1111-4111-8111-111111111111"
#define UUID2 "22222222-2222-4222-9222-222222222222"
#define UUID3 "33333333-3333-4333-a333-333333333333"
#define HASH1 "aaaa000000000000000000000000000000000000000000000000000000000001"
#define HASH2 "aaaa000000000000000000000000000000000000000000000000000000000002"
#define HASH3 "aaaa000000000000000000000000000000000000000000000000000000000003"

static int64_t add_user(void **state, const char *name)
{
    int64_t id = 0;

    assert_int_equal(store_user_add(S, name, "h", false, &id), 0);
    return id;
}

static void store_token_find_by_hash__finds_an_added_token(void **state)
{
    int64_t uid = add_user(state, "alice"), before = now_ms();
    struct token_row t = { 0 };

    assert_int_equal(store_token_add(S, uid, UUID1, "ci", HASH1, NULL), 0);
    assert_int_equal(store_token_find_by_hash(S, HASH1, &t), 0);
    assert_string_equal(t.uuid, UUID1);
    assert_int_equal(t.user_id, uid);
    assert_string_equal(t.name, "ci");
    assert_true(t.created_ms >= before && t.created_ms <= now_ms());
    assert_int_equal(t.last_use_ms, 0);
    assert_int_equal(t.use_count, 0);
    token_row_release(&t);

    assert_int_equal(store_token_find_by_hash(S, HASH2, &t), -ENOENT);
}

static void store_token_add__refuses_a_second_token_of_the_same_name_for_one_user(void **state)
{
    int64_t alice = add_user(state, "alice"), bob = add_user(state, "bob");

    assert_int_equal(store_token_add(S, alice, UUID1, "ci", HASH1, NULL), 0);
    assert_int_equal(store_token_add(S, alice, UUID2, "ci", HASH2, NULL), -EEXIST);
    assert_int_equal(store_token_add(S, bob, UUID2, "ci", HASH2, NULL), 0);
    /* and the same secret twice */
    assert_int_equal(store_token_add(S, bob, UUID3, "other", HASH1, NULL), -EEXIST);
}

static void store_token_list__lists_a_users_tokens_oldest_first(void **state)
{
    int64_t alice = add_user(state, "alice"), bob = add_user(state, "bob");
    struct token_row *rows = NULL;
    size_t n = 99;

    assert_int_equal(store_token_list(S, alice, &rows, &n), 0);
    assert_int_equal(n, 0);
    token_rows_free(rows, n);

    assert_int_equal(store_token_add(S, alice, UUID2, "first", HASH1, NULL), 0);
    assert_int_equal(store_token_add(S, bob, UUID3, "bobs", HASH3, NULL), 0);
    assert_int_equal(store_token_add(S, alice, UUID1, "second", HASH2, NULL), 0);
    assert_int_equal(store_token_list(S, alice, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "first");
    assert_string_equal(rows[0].uuid, UUID2);
    assert_string_equal(rows[1].name, "second");
    assert_string_equal(rows[1].uuid, UUID1);
    assert_int_equal(rows[0].user_id, alice);
    token_rows_free(rows, n);
}

static size_t token_count(void **state, int64_t uid)
{
    struct token_row *rows = NULL;
    size_t n = 0;

    assert_int_equal(store_token_list(S, uid, &rows, &n), 0);
    token_rows_free(rows, n);
    return n;
}

static void store_token_delete__deletes_by_uuid(void **state)
{
    int64_t alice = add_user(state, "alice");
    struct token_row t = { 0 };

    assert_int_equal(store_token_add(S, alice, UUID1, "one", HASH1, NULL), 0);
    assert_int_equal(store_token_add(S, alice, UUID2, "two", HASH2, NULL), 0);
    assert_int_equal(store_token_delete(S, alice, UUID1, NULL), 0);
    assert_int_equal(store_token_find_by_hash(S, HASH1, &t), -ENOENT);
    assert_int_equal(token_count(state, alice), 1);
    assert_int_equal(store_token_delete(S, alice, UUID1, NULL), -ENOENT);
}

static void store_token_delete__deletes_by_name_when_uuid_is_null(void **state)
{
    int64_t alice = add_user(state, "alice");
    struct token_row t = { 0 };

    assert_int_equal(store_token_add(S, alice, UUID1, "one", HASH1, NULL), 0);
    assert_int_equal(store_token_add(S, alice, UUID2, "two", HASH2, NULL), 0);
    assert_int_equal(store_token_delete(S, alice, NULL, "two"), 0);
    assert_int_equal(store_token_find_by_hash(S, HASH2, &t), -ENOENT);
    assert_int_equal(store_token_find_by_hash(S, HASH1, &t), 0);
    token_row_release(&t);
    assert_int_equal(store_token_delete(S, alice, NULL, "two"), -ENOENT);
}

static void store_token_delete__leaves_other_users_tokens_alone(void **state)
{
    int64_t alice = add_user(state, "alice"), mallory = add_user(state, "mallory");

    assert_int_equal(store_token_add(S, alice, UUID1, "one", HASH1, NULL), 0);
    assert_int_equal(store_token_delete(S, mallory, UUID1, NULL), -ENOENT);
    assert_int_equal(store_token_delete(S, mallory, NULL, "one"), -ENOENT);
    assert_int_equal(token_count(state, alice), 1);
}

static void store_token_add_uses__adds_uses_and_keeps_the_latest_use(void **state)
{
    int64_t alice = add_user(state, "alice");
    struct token_row t = { 0 };

    assert_int_equal(store_token_add(S, alice, UUID1, "one", HASH1, NULL), 0);
    assert_int_equal(store_token_add(S, alice, UUID2, "two", HASH2, NULL), 0);
    assert_int_equal(store_token_add_uses(S, UUID1, 3, 5000), 0);
    assert_int_equal(store_token_add_uses(S, UUID1, 2, 4000), 0);
    assert_int_equal(store_token_find_by_hash(S, HASH1, &t), 0);
    assert_int_equal(t.use_count, 5);
    assert_int_equal(t.last_use_ms, 5000);
    token_row_release(&t);
    assert_int_equal(store_token_find_by_hash(S, HASH2, &t), 0);
    assert_int_equal(t.use_count, 0);
    assert_int_equal(t.last_use_ms, 0);
    token_row_release(&t);
}

/* ---- removing users ---- */

static void store_user_delete__removes_the_user_and_their_tokens_only(void **state)
{
    int64_t alice = add_user(state, "alice"), bob = add_user(state, "bob"), n = -1;
    struct token_row *rows = NULL, t = { 0 };
    struct user_row u = { 0 };
    size_t nt = 0;

    assert_int_equal(store_token_add(S, alice, UUID1, "ci", HASH1, NULL), 0);
    assert_int_equal(store_token_add(S, alice, UUID2, "laptop", HASH2, NULL), 0);
    assert_int_equal(store_token_add(S, bob, UUID3, "ci", HASH3, NULL), 0);
    assert_int_equal(store_user_delete(S, alice), 0);

    assert_int_equal(store_user_get(S, "alice", &u), -ENOENT);
    assert_int_equal(store_user_get_by_id(S, alice, &u), -ENOENT);
    assert_int_equal(store_token_find_by_hash(S, HASH1, &t), -ENOENT);
    assert_int_equal(store_token_find_by_hash(S, HASH2, &t), -ENOENT);
    assert_int_equal(store_token_list(S, alice, &rows, &nt), 0);
    assert_int_equal(nt, 0);
    token_rows_free(rows, nt);
    /* bob and his token stay */
    assert_int_equal(store_user_count(S, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_token_find_by_hash(S, HASH3, &t), 0);
    assert_int_equal(t.user_id, bob);
    token_row_release(&t);
}

static void store_user_delete__deletes_the_tokens_without_foreign_keys(void **state)
{
    struct fixture *f = *state;
    struct token_row t = { 0 };
    int64_t alice = add_user(state, "alice");

    assert_int_equal(store_token_add(S, alice, UUID1, "ci", HASH1, NULL), 0);
    /* a token table without the ON DELETE CASCADE: nothing deletes the token but us */
    f->s = store_close(f->s);
    raw_sql(f->db, "PRAGMA foreign_keys = OFF;"
                   "CREATE TABLE t2 AS SELECT * FROM api_tokens;"
                   "DROP TABLE api_tokens;"
                   "CREATE TABLE api_tokens(uuid TEXT PRIMARY KEY, user_id INTEGER NOT NULL, "
                   "name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL, "
                   "last_use_ms INTEGER NOT NULL DEFAULT 0, use_count INTEGER NOT NULL DEFAULT 0, "
                   "scopes TEXT, jobs TEXT, expires_ms INTEGER NOT NULL DEFAULT 0, "
                   "UNIQUE(user_id, name));"
                   "INSERT INTO api_tokens SELECT * FROM t2; DROP TABLE t2;");
    assert_int_equal(store_open(f->db, &f->s), 0);
    assert_int_equal(store_token_find_by_hash(S, HASH1, &t), 0);
    token_row_release(&t);

    assert_int_equal(store_user_delete(S, alice), 0);
    assert_int_equal(store_token_find_by_hash(S, HASH1, &t), -ENOENT);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM api_tokens"), 0);
}

static void store_user_delete__returns_enoent_for_an_unknown_user(void **state)
{
    int64_t alice = add_user(state, "alice"), n = -1;

    assert_int_equal(store_user_delete(S, alice + 1), -ENOENT);
    assert_int_equal(store_user_delete(S, alice), 0);
    assert_int_equal(store_user_delete(S, alice), -ENOENT);
    assert_int_equal(store_user_count(S, &n), 0);
    assert_int_equal(n, 0);
}

static void store_user_delete__rolls_back_inside_a_transaction(void **state)
{
    int64_t alice = add_user(state, "alice");
    struct token_row t = { 0 };
    struct user_row u = { 0 };

    assert_int_equal(store_token_add(S, alice, UUID1, "ci", HASH1, NULL), 0);
    assert_int_equal(store_begin(S), 0);
    assert_int_equal(store_user_delete(S, alice), 0);
    assert_int_equal(store_rollback(S), 0);
    assert_int_equal(store_user_get(S, "alice", &u), 0);
    user_row_release(&u);
    assert_int_equal(store_token_find_by_hash(S, HASH1, &t), 0);
    token_row_release(&t);
}

static void store_user_add__after_a_delete_gets_a_new_id_and_no_old_tokens(void **state)
{
    int64_t old = add_user(state, "alice"), fresh;
    struct token_row *rows = NULL;
    size_t n = 0;

    assert_int_equal(store_token_add(S, old, UUID1, "ci", HASH1, NULL), 0);
    assert_int_equal(store_user_delete(S, old), 0);
    fresh = add_user(state, "alice");
    assert_true(fresh != old);
    assert_int_equal(store_token_list(S, fresh, &rows, &n), 0);
    assert_int_equal(n, 0);
    token_rows_free(rows, n);
}

/* ---- queue ---- */

static struct cause user_cause(const char *user, const char *token)
{
    return (struct cause){ .kind = CAUSE_USER, .user_name = (char *) user,
                           .token_name = (char *) token, .count = 1 };
}

static struct cause remote_cause(const char *addr, const char *note, int64_t count)
{
    return (struct cause){ .kind = CAUSE_REMOTE, .addr = (char *) addr, .note = (char *) note,
                           .count = count };
}

static int64_t insert_item(void **state, const char *job, int64_t since, int64_t due)
{
    struct queue_row q = { .job = (char *) job, .in_queue_since_ms = since, .due_ms = due };

    assert_int_equal(store_queue_insert(S, &q), 0);
    assert_true(q.id > 0);
    return q.id;
}

static void store_queue_insert__stores_params_and_causes_that_get_returns_in_order(void **state)
{
    struct param_value params[] = {
        { .name = (char *) "BRANCH", .type = 0, .value = (char *) "main" },
        { .name = (char *) "CLEAN", .type = 2, .value = (char *) "true" },
        { .name = (char *) "EMPTY", .type = 1, .value = NULL },
    };
    struct cause causes[] = {
        user_cause("alice", "ci-token"),
        remote_cause("192.0.2.7", "nightly", 3),
        user_cause(NULL, NULL),
    };
    struct queue_row q = { .job = (char *) "app", .in_queue_since_ms = 1000, .due_ms = 6000,
                           .params = params, .n_params = 3, .causes = causes, .n_causes = 3 };
    struct queue_row got = { 0 };

    assert_int_equal(store_queue_insert(S, &q), 0);
    assert_true(q.id > 0);
    assert_int_equal(store_queue_get(S, q.id, &got), 0);
    assert_int_equal(got.id, q.id);
    assert_string_equal(got.job, "app");
    assert_int_equal(got.in_queue_since_ms, 1000);
    assert_int_equal(got.due_ms, 6000);
    assert_int_equal(got.state, QUEUE_WAITING);
    assert_int_equal(got.left_ms, 0);
    assert_int_equal(got.build_number, 0);

    assert_int_equal(got.n_params, 3);
    assert_string_equal(got.params[0].name, "BRANCH");
    assert_int_equal(got.params[0].type, 0);
    assert_string_equal(got.params[0].value, "main");
    assert_string_equal(got.params[1].name, "CLEAN");
    assert_int_equal(got.params[1].type, 2);
    assert_string_equal(got.params[1].value, "true");
    assert_string_equal(got.params[2].name, "EMPTY");
    assert_int_equal(got.params[2].type, 1);
    assert_string_equal(got.params[2].value, "");

    assert_int_equal(got.n_causes, 3);
    assert_int_equal(got.causes[0].kind, CAUSE_USER);
    assert_string_equal(got.causes[0].user_name, "alice");
    assert_string_equal(got.causes[0].token_name, "ci-token");
    assert_null(got.causes[0].addr);
    assert_int_equal(got.causes[0].count, 1);
    assert_int_equal(got.causes[1].kind, CAUSE_REMOTE);
    assert_string_equal(got.causes[1].addr, "192.0.2.7");
    assert_string_equal(got.causes[1].note, "nightly");
    assert_null(got.causes[1].user_name);
    assert_int_equal(got.causes[1].count, 3);
    assert_int_equal(got.causes[2].kind, CAUSE_USER);
    assert_null(got.causes[2].user_name);
    assert_null(got.causes[2].token_name);
    queue_row_release(&got);
    assert_null(got.job);
}

static void store_queue_insert__counts_a_cause_at_least_once(void **state)
{
    struct cause c = remote_cause("192.0.2.1", NULL, 0);
    struct queue_row q = { .job = (char *) "app", .causes = &c, .n_causes = 1 };
    struct queue_row got = { 0 };

    assert_int_equal(store_queue_insert(S, &q), 0);
    assert_int_equal(store_queue_get(S, q.id, &got), 0);
    assert_int_equal(got.n_causes, 1);
    assert_int_equal(got.causes[0].count, 1);
    assert_null(got.causes[0].note);
    assert_int_equal(got.n_params, 0);
    queue_row_release(&got);
}

/* The row holds its parameters and causes as JSON: every byte a value may hold comes back. */
static void store_queue_insert__keeps_what_json_must_escape(void **state)
{
    static const char odd[] = "say \"hi\" \\ back\n\t\r\b\f\001\037 \x7f caf\xc3\xa9 \xff\xfe /";
    struct param_value params[] = {
        { .name = (char *) "Q\"\\", .type = 0, .value = (char *) odd },
        { .name = (char *) "PW", .type = STORE_PARAM_SECRET, .value = (char *) "s3cret" },
    };
    struct cause c = { .kind = CAUSE_GITLAB, .addr = (char *) "Started by GitLab push by \"o'neil\"",
                       .note = (char *) "abc123\ngitlabBranch=main\n", .count = 2 };
    struct queue_row q = { .job = (char *) "app", .params = params, .n_params = 2, .causes = &c,
                           .n_causes = 1 };
    struct queue_row got = { 0 };

    assert_int_equal(store_queue_insert(S, &q), 0);
    assert_int_equal(raw_int(((struct fixture *) *state)->db, "SELECT secrets FROM queue ORDER BY id DESC LIMIT 1"), 1);
    assert_int_equal(store_queue_get(S, q.id, &got), 0);
    assert_int_equal(got.n_params, 2);
    assert_string_equal(got.params[0].name, "Q\"\\");
    assert_string_equal(got.params[0].value, odd);
    assert_string_equal(got.params[1].value, "s3cret");
    assert_int_equal(got.n_causes, 1);
    assert_int_equal(got.causes[0].kind, CAUSE_GITLAB);
    assert_string_equal(got.causes[0].addr, c.addr);
    assert_string_equal(got.causes[0].note, c.note);
    assert_null(got.causes[0].user_name);
    assert_int_equal(got.causes[0].count, 2);
    queue_row_release(&got);

    /* the item's own forgetting empties its password value, and only that */
    assert_int_equal(store_queue_forget_values(S, q.id, STORE_PARAM_SECRET), 0);
    assert_int_equal(raw_int(((struct fixture *) *state)->db, "SELECT secrets FROM queue ORDER BY id DESC LIMIT 1"), 0);
    assert_int_equal(store_queue_get(S, q.id, &got), 0);
    assert_int_equal(got.n_params, 2);
    assert_string_equal(got.params[1].name, "PW");
    assert_int_equal(got.params[1].type, STORE_PARAM_SECRET);
    assert_string_equal(got.params[1].value, "");
    assert_string_equal(got.params[0].value, odd);
    queue_row_release(&got);
    /* the sweep is for password values only */
    assert_int_equal(store_queue_forget_values(S, 0, 0), -EINVAL);
}

static void store_queue_waiting_bytes__counts_the_names_and_values_of_waiting_items(void **state)
{
    struct param_value a[] = { { .name = (char *) "AB", .value = (char *) "xyz" },
                               { .name = (char *) "C", .value = (char *) "" } };
    struct param_value b = { .name = (char *) "LONG", .value = (char *) "0123456789" };
    struct queue_row qa = { .job = (char *) "app", .params = a, .n_params = 2 };
    struct queue_row qb = { .job = (char *) "app", .params = &b, .n_params = 1 };
    int64_t bytes = -1;

    assert_int_equal(store_queue_waiting_bytes(S, &bytes), 0);
    assert_int_equal(bytes, 0);
    assert_int_equal(store_queue_insert(S, &qa), 0);
    assert_int_equal(store_queue_insert(S, &qb), 0);
    assert_int_equal(store_queue_waiting_bytes(S, &bytes), 0);
    assert_int_equal(bytes, 2 + 3 + 1 + 4 + 10);
    /* an item that left counts no more */
    assert_int_equal(store_queue_set_state(S, qb.id, QUEUE_LEFT, 5, 1), 0);
    assert_int_equal(store_queue_waiting_bytes(S, &bytes), 0);
    assert_int_equal(bytes, 2 + 3 + 1);
}

static void store_queue_get__returns_enoent_for_an_unknown_item(void **state)
{
    struct queue_row got = { 0 };

    assert_int_equal(store_queue_get(S, 777, &got), -ENOENT);
}

static void store_queue_update_merge__replaces_the_causes_and_the_due_time(void **state)
{
    struct param_value p = { .name = (char *) "P", .type = 0, .value = (char *) "v" };
    struct cause first[] = { user_cause("alice", NULL), remote_cause("192.0.2.1", NULL, 1) };
    struct cause merged[] = { user_cause("alice", NULL), remote_cause("192.0.2.1", NULL, 2),
                              user_cause("bob", "t") };
    struct queue_row q = { .job = (char *) "app", .in_queue_since_ms = 10, .due_ms = 100,
                           .params = &p, .n_params = 1, .causes = first, .n_causes = 2 };
    struct queue_row got = { 0 };

    assert_int_equal(store_queue_insert(S, &q), 0);
    q.due_ms = 900;
    q.causes = merged;
    q.n_causes = 3;
    assert_int_equal(store_queue_update_merge(S, &q), 0);
    assert_int_equal(store_queue_get(S, q.id, &got), 0);
    assert_int_equal(got.due_ms, 900);
    assert_int_equal(got.in_queue_since_ms, 10);
    assert_int_equal(got.n_causes, 3);
    assert_string_equal(got.causes[0].user_name, "alice");
    assert_string_equal(got.causes[1].addr, "192.0.2.1");
    assert_int_equal(got.causes[1].count, 2);
    assert_string_equal(got.causes[2].user_name, "bob");
    assert_string_equal(got.causes[2].token_name, "t");
    assert_int_equal(got.n_params, 1);
    assert_string_equal(got.params[0].value, "v");
    queue_row_release(&got);
}

static void store_queue_set_state__records_the_state_and_the_build(void **state)
{
    int64_t id = insert_item(state, "app", 1, 2);
    struct queue_row got = { 0 };

    assert_int_equal(store_queue_set_state(S, id, QUEUE_LEFT, 12345, 7), 0);
    assert_int_equal(store_queue_get(S, id, &got), 0);
    assert_int_equal(got.state, QUEUE_LEFT);
    assert_int_equal(got.left_ms, 12345);
    assert_int_equal(got.build_number, 7);
    queue_row_release(&got);

    assert_int_equal(store_queue_set_state(S, id, QUEUE_CANCELLED, 999, 0), 0);
    assert_int_equal(store_queue_get(S, id, &got), 0);
    assert_int_equal(got.state, QUEUE_CANCELLED);
    assert_int_equal(got.left_ms, 999);
    queue_row_release(&got);
}

static void store_queue_list_waiting__filters_by_job_and_state_oldest_first(void **state)
{
    int64_t a1 = insert_item(state, "a", 1, 1);
    int64_t b1 = insert_item(state, "b", 2, 2);
    int64_t a2 = insert_item(state, "a", 3, 3);
    int64_t a3 = insert_item(state, "a", 4, 4);
    int64_t a4 = insert_item(state, "a", 5, 5);
    struct queue_row *rows = NULL;
    size_t n = 0;

    assert_int_equal(store_queue_set_state(S, a2, QUEUE_LEFT, 10, 1), 0);
    assert_int_equal(store_queue_set_state(S, a4, QUEUE_CANCELLED, 10, 0), 0);

    assert_int_equal(store_queue_list_waiting(S, "a", &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, a1);
    assert_int_equal(rows[1].id, a3);
    assert_string_equal(rows[1].job, "a");
    queue_rows_free(rows, n);

    assert_int_equal(store_queue_list_waiting(S, NULL, &rows, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].id, a1);
    assert_int_equal(rows[1].id, b1);
    assert_int_equal(rows[2].id, a3);
    queue_rows_free(rows, n);

    assert_int_equal(store_queue_list_waiting(S, "none", &rows, &n), 0);
    assert_int_equal(n, 0);
    queue_rows_free(rows, n);
}

static void store_queue_list_waiting__returns_params_and_causes(void **state)
{
    struct param_value p = { .name = (char *) "X", .type = 0, .value = (char *) "1" };
    struct cause c = user_cause("alice", NULL);
    struct queue_row q = { .job = (char *) "app", .params = &p, .n_params = 1, .causes = &c,
                           .n_causes = 1 };
    struct queue_row *rows = NULL;
    size_t n = 0;

    assert_int_equal(store_queue_insert(S, &q), 0);
    assert_int_equal(store_queue_list_waiting(S, "app", &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].n_params, 1);
    assert_string_equal(rows[0].params[0].name, "X");
    assert_int_equal(rows[0].n_causes, 1);
    assert_string_equal(rows[0].causes[0].user_name, "alice");
    queue_rows_free(rows, n);
}

static void store_queue_max_id__is_0_when_empty_then_the_last_id(void **state)
{
    int64_t last = 0;

    assert_int_equal(store_queue_max_id(S), 0);
    for (int i = 0; i < 3; i++)
        last = insert_item(state, "app", i, i);
    assert_int_equal(store_queue_max_id(S), last);
    assert_int_equal(store_queue_set_state(S, last, QUEUE_LEFT, 1, 1), 0);
    assert_int_equal(store_queue_max_id(S), last);
}

/* ---- builds ---- */

static int64_t start_build(void **state, const char *job, int64_t start_ms)
{
    int64_t n = 0;

    assert_int_equal(store_build_start(S, job, 1, start_ms, 0, &n), 0);
    return n;
}

static void finish_build(void **state, const char *job, int64_t number, const char *result,
                         int64_t duration)
{
    assert_int_equal(store_build_finish(S, job, number, result, duration, NULL), 0);
}

static void store_build_start__numbers_1_2_3_per_job_independently(void **state)
{
    int64_t next = 0, count = -1;

    assert_int_equal(store_build_next_number(S, "a", &next), 0);
    assert_int_equal(next, 1);
    assert_int_equal(start_build(state, "a", 10), 1);
    assert_int_equal(start_build(state, "a", 11), 2);
    assert_int_equal(start_build(state, "b", 12), 1);
    assert_int_equal(start_build(state, "a", 13), 3);
    assert_int_equal(start_build(state, "b", 14), 2);
    assert_int_equal(store_build_next_number(S, "a", &next), 0);
    assert_int_equal(next, 4);
    assert_int_equal(store_build_next_number(S, "b", &next), 0);
    assert_int_equal(next, 3);
    assert_int_equal(store_build_count(S, "a", &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(store_build_count(S, "c", &count), 0);
    assert_int_equal(count, 0);
}

/* the numbers store_build_discardable() gives, as "1,2,3" */
static const char *discardable(void **state, const char *job, int64_t keep, int64_t before_ms,
                               size_t max)
{
    static char out[256];
    int64_t *v = NULL;
    size_t n = 0, len = 0;

    assert_int_equal(store_build_discardable(S, job, false, keep, before_ms, max, &v, &n), 0);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t) snprintf(out + len, sizeof out - len, "%s%lld", i ? "," : "", (long long) v[i]);
    free(v);
    return out;
}

static void store_build_discardable__keeps_the_newest_and_the_last_successful_and_stable(void **state)
{
    /* #1 SUCCESS, #2 UNSTABLE, #3..#6 FAILURE, #7 running; started at 100, 200, ... */
    const char *results[] = { "SUCCESS", "UNSTABLE", "FAILURE", "FAILURE", "FAILURE", "FAILURE" };

    for (int i = 0; i < 6; i++)
        finish_build(state, "j", start_build(state, "j", 100 * (i + 1)), results[i], 5);
    assert_int_equal(start_build(state, "j", 700), 7);
    (void) start_build(state, "other", 50);
    finish_build(state, "other", 1, "FAILURE", 5);

    /* the 3 newest are #7 (running), #6, #5; #1 is the last stable, #2 the last successful */
    assert_string_equal(discardable(state, "j", 3, INT64_MIN, 100), "3,4");
    assert_string_equal(discardable(state, "j", 0, INT64_MIN, 100), "3,4,5,6");
    assert_string_equal(discardable(state, "j", 3, INT64_MIN, 1), "3");
    /* by age alone: started before 450 */
    assert_string_equal(discardable(state, "j", -1, 450, 100), "3,4");
    /* either rule lets a build go */
    assert_string_equal(discardable(state, "j", 5, 450, 100), "3,4");
    assert_string_equal(discardable(state, "j", 2, 350, 100), "3,4,5");
    /* nothing when neither rule is set */
    assert_string_equal(discardable(state, "j", -1, INT64_MIN, 100), "");
    /* the running build is never listed, nor deleted */
    assert_string_equal(discardable(state, "j", 0, INT64_MAX, 100), "3,4,5,6");
    assert_int_equal(store_build_delete(S, "j", 7), 0);
    assert_string_equal(discardable(state, "j", 0, INT64_MAX, 100), "3,4,5,6");

    assert_int_equal(store_build_delete(S, "j", 3), 0);
    assert_string_equal(discardable(state, "j", 3, INT64_MIN, 100), "4");
    /* a newer success moves the protection: #1 and #2 go */
    finish_build(state, "j", 7, "SUCCESS", 5);
    assert_string_equal(discardable(state, "j", 2, INT64_MIN, 100), "1,2,4,5");
    /* per job: the other job's only build is the newest of its own */
    assert_string_equal(discardable(state, "other", 1, INT64_MIN, 100), "");
    assert_string_equal(discardable(state, "other", 0, INT64_MIN, 100), "1");
}

static void store_build_discardable__with_archived_only_lists_builds_marked_archived(void **state)
{
    int64_t *v = NULL;
    size_t n = 0;

    for (int i = 1; i <= 4; i++)
        finish_build(state, "a", start_build(state, "a", i), "FAILURE", 1);
    assert_int_equal(store_build_set_archived(S, "a", 1, true), 0);
    assert_int_equal(store_build_set_archived(S, "a", 3, true), 0);
    assert_int_equal(store_build_set_archived(S, "a", 4, true), 0);
    assert_int_equal(store_build_discardable(S, "a", true, 1, INT64_MIN, 10, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0], 1);
    assert_int_equal(v[1], 3);
    free(v);
    assert_int_equal(store_build_set_archived(S, "a", 1, false), 0);
    assert_int_equal(store_build_discardable(S, "a", true, 1, INT64_MIN, 10, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], 3);
    free(v);
}

static void store_build_discardable__passes_kept_builds_by_and_counts_them(void **state)
{
    for (int i = 1; i <= 6; i++)
        finish_build(state, "k", start_build(state, "k", 100 * i), "SUCCESS", 5);
    assert_int_equal(store_build_set_keep(S, "k", 2, true), 0);
    assert_int_equal(store_build_set_keep(S, "k", 5, true), 0);
    /* the 2 newest are #6 and #5 (kept, and counted); #2 is kept */
    assert_string_equal(discardable(state, "k", 2, INT64_MIN, 100), "1,3,4");
    assert_string_equal(discardable(state, "k", -1, 350, 100), "1,3");
    /* and cannot be deleted while kept */
    assert_int_equal(store_build_delete(S, "k", 2), 0);
    assert_int_equal(store_build_count(S, "k", &(int64_t){ 0 }), 0);
    {
        struct build_row b = { 0 };

        assert_int_equal(store_build_get(S, "k", 2, &b), 0);
        assert_true(b.keep_log);
        build_row_release(&b);
    }
    assert_int_equal(store_build_set_keep(S, "k", 2, false), 0);
    assert_string_equal(discardable(state, "k", 2, INT64_MIN, 100), "1,2,3,4");
    assert_int_equal(store_build_set_keep(S, "k", 9, true), -ENOENT);
}

static void store_build_set__description_and_display_name_are_stored_and_cleared(void **state)
{
    struct build_row b = { 0 };

    finish_build(state, "d", start_build(state, "d", 1), "SUCCESS", 5);
    assert_int_equal(store_build_get(S, "d", 1, &b), 0);
    assert_null(b.description);
    assert_null(b.display_name);
    assert_false(b.keep_log);
    build_row_release(&b);
    assert_int_equal(store_build_set_description(S, "d", 1, "line 1\nline \"2\""), 0);
    assert_int_equal(store_build_set_display_name(S, "d", 1, "rc-1"), 0);
    assert_int_equal(store_build_get(S, "d", 1, &b), 0);
    assert_string_equal(b.description, "line 1\nline \"2\"");
    assert_string_equal(b.display_name, "rc-1");
    build_row_release(&b);
    assert_int_equal(store_build_set_description(S, "d", 1, NULL), 0);
    assert_int_equal(store_build_set_display_name(S, "d", 1, NULL), 0);
    assert_int_equal(store_build_get(S, "d", 1, &b), 0);
    assert_null(b.description);
    assert_null(b.display_name);
    build_row_release(&b);
    assert_int_equal(store_build_set_description(S, "d", 2, "x"), -ENOENT);
    assert_int_equal(store_build_set_display_name(S, "nope", 1, "x"), -ENOENT);
}

struct seen {
    int64_t numbers[16];
    size_t n;
    int stop_after;
};

static int remember(void *userdata, const struct build_row *b)
{
    struct seen *s = userdata;

    s->numbers[s->n++] = b->number;
    return (int) s->n == s->stop_after ? -ECANCELED : 0;
}

static void store_build_each__walks_newest_first_within_the_range(void **state)
{
    struct seen seen = { 0 };

    for (int i = 1; i <= 6; i++)
        finish_build(state, "e", start_build(state, "e", i), "SUCCESS", 5);
    finish_build(state, "other", start_build(state, "other", 1), "SUCCESS", 5);
    assert_int_equal(store_build_each(S, "e", 0, -1, remember, &seen), 0);
    assert_int_equal(seen.n, 6);
    assert_int_equal(seen.numbers[0], 6);
    assert_int_equal(seen.numbers[5], 1);
    seen = (struct seen){ 0 };
    assert_int_equal(store_build_each(S, "e", 2, 3, remember, &seen), 0);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.numbers[0], 4);
    assert_int_equal(seen.numbers[2], 2);
    seen = (struct seen){ .stop_after = 2 };
    assert_int_equal(store_build_each(S, "e", 0, -1, remember, &seen), -ECANCELED);
    assert_int_equal(seen.n, 2);
    seen = (struct seen){ 0 };
    assert_int_equal(store_build_each(S, "e", 10, -1, remember, &seen), 0);
    assert_int_equal(seen.n, 0);
}

static void store_build_start__inserts_a_running_build(void **state)
{
    struct build_row b = { 0 };
    int64_t n = 0;

    assert_int_equal(store_build_start(S, "app", 42, 1700000000000, 3, &n), 0);
    assert_int_equal(store_build_get(S, "app", n, &b), 0);
    assert_string_equal(b.job, "app");
    assert_int_equal(b.number, n);
    assert_int_equal(b.queue_id, 42);
    assert_int_equal(b.start_ms, 1700000000000);
    assert_int_equal(b.executor, 3);
    assert_null(b.result);
    assert_null(b.abort_reason);
    assert_int_equal(b.duration_ms, 0);
    build_row_release(&b);
}

static void store_build_finish__records_the_result(void **state)
{
    struct build_row b = { 0 };
    int64_t n = start_build(state, "app", 10);

    assert_int_equal(store_build_finish(S, "app", n, "ABORTED", 1234, "timed out"), 0);
    assert_int_equal(store_build_get(S, "app", n, &b), 0);
    assert_string_equal(b.result, "ABORTED");
    assert_int_equal(b.duration_ms, 1234);
    assert_string_equal(b.abort_reason, "timed out");
    build_row_release(&b);
}

static void store_build_get__returns_enoent_for_an_unknown_build(void **state)
{
    struct build_row b = { 0 };

    start_build(state, "app", 10);
    assert_int_equal(store_build_get(S, "app", 2, &b), -ENOENT);
    assert_int_equal(store_build_get(S, "other", 1, &b), -ENOENT);
    assert_null(b.job);
}

static void store_build_list__lists_newest_first_with_offset_and_limit(void **state)
{
    struct build_row *rows = NULL;
    size_t n = 0;

    for (int i = 0; i < 5; i++)
        start_build(state, "app", 100 + i);
    start_build(state, "other", 1);

    assert_int_equal(store_build_list(S, "app", 0, 0, &rows, &n), 0);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].number, 5 - (int64_t) i);
    assert_string_equal(rows[0].job, "app");
    build_rows_free(rows, n);

    assert_int_equal(store_build_list(S, "app", 1, 2, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].number, 4);
    assert_int_equal(rows[1].number, 3);
    build_rows_free(rows, n);

    assert_int_equal(store_build_list(S, "app", 3, 0, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].number, 2);
    assert_int_equal(rows[1].number, 1);
    build_rows_free(rows, n);

    assert_int_equal(store_build_list(S, "app", 10, 0, &rows, &n), 0);
    assert_int_equal(n, 0);
    build_rows_free(rows, n);
}

static void store_build_list_running__lists_unfinished_builds_of_every_job(void **state)
{
    struct build_row *rows = NULL;
    size_t n = 0;

    start_build(state, "a", 100);
    start_build(state, "b", 200);
    start_build(state, "a", 300);
    finish_build(state, "a", 1, "SUCCESS", 5);

    assert_int_equal(store_build_list_running(S, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].job, "b");
    assert_int_equal(rows[0].number, 1);
    assert_string_equal(rows[1].job, "a");
    assert_int_equal(rows[1].number, 2);
    build_rows_free(rows, n);
}

static int64_t permalink(void **state, const char *job, const char *which)
{
    int64_t n = -1;
    int r = store_build_permalink(S, job, which, &n);

    if (r < 0)
        return r;
    return n;
}

static void store_build_permalink__returns_enoent_when_no_build_matches(void **state)
{
    static const char *const links[] = { "lastBuild", "firstBuild", "lastCompletedBuild",
                                         "lastSuccessfulBuild", "lastStableBuild",
                                         "lastFailedBuild", "lastUnstableBuild",
                                         "lastUnsuccessfulBuild" };

    for (size_t i = 0; i < ELEMENTSOF(links); i++)
        assert_int_equal(permalink(state, "app", links[i]), -ENOENT);
    /* a running build completes nothing */
    start_build(state, "app", 1);
    assert_int_equal(permalink(state, "app", "lastBuild"), 1);
    assert_int_equal(permalink(state, "app", "lastCompletedBuild"), -ENOENT);
    assert_int_equal(permalink(state, "app", "lastUnsuccessfulBuild"), -ENOENT);
}

static void store_build_permalink__refuses_an_unknown_name_with_einval(void **state)
{
    start_build(state, "app", 1);
    assert_int_equal(permalink(state, "app", "lastbuild"), -EINVAL);
    assert_int_equal(permalink(state, "app", "latestBuild"), -EINVAL);
    assert_int_equal(permalink(state, "app", ""), -EINVAL);
}

static void store_build_permalink__finds_the_newest_build_of_each_kind(void **state)
{
    start_build(state, "app", 1);   /* 1 SUCCESS */
    start_build(state, "app", 2);   /* 2 FAILURE */
    start_build(state, "app", 3);   /* 3 UNSTABLE */
    start_build(state, "app", 4);   /* 4 ABORTED */
    start_build(state, "app", 5);   /* 5 running */
    start_build(state, "other", 6); /* other job, SUCCESS */
    finish_build(state, "app", 1, "SUCCESS", 10);
    finish_build(state, "app", 2, "FAILURE", 10);
    finish_build(state, "app", 3, "UNSTABLE", 10);
    finish_build(state, "app", 4, "ABORTED", 10);
    finish_build(state, "other", 1, "SUCCESS", 10);

    assert_int_equal(permalink(state, "app", "lastBuild"), 5);
    assert_int_equal(permalink(state, "app", "firstBuild"), 1);
    assert_int_equal(permalink(state, "app", "lastCompletedBuild"), 4);
    assert_int_equal(permalink(state, "app", "lastSuccessfulBuild"), 3);  /* unstable counts */
    assert_int_equal(permalink(state, "app", "lastStableBuild"), 1);
    assert_int_equal(permalink(state, "app", "lastFailedBuild"), 2);
    assert_int_equal(permalink(state, "app", "lastUnstableBuild"), 3);
    assert_int_equal(permalink(state, "app", "lastUnsuccessfulBuild"), 4);
    assert_int_equal(permalink(state, "other", "lastBuild"), 1);
    assert_int_equal(permalink(state, "other", "lastFailedBuild"), -ENOENT);
}

static void store_build_estimated_duration__is_minus_1_without_successes(void **state)
{
    assert_int_equal(store_build_estimated_duration(S, "app"), -1);
    start_build(state, "app", 1);
    assert_int_equal(store_build_estimated_duration(S, "app"), -1);
    finish_build(state, "app", 1, "FAILURE", 500);
    start_build(state, "app", 2);
    finish_build(state, "app", 2, "ABORTED", 700);
    assert_int_equal(store_build_estimated_duration(S, "app"), -1);
}

static void store_build_estimated_duration__averages_the_last_successful_builds(void **state)
{
    start_build(state, "app", 1);
    finish_build(state, "app", 1, "SUCCESS", 100);
    assert_int_equal(store_build_estimated_duration(S, "app"), 100);
    start_build(state, "app", 2);
    finish_build(state, "app", 2, "FAILURE", 99999);
    start_build(state, "app", 3);
    finish_build(state, "app", 3, "SUCCESS", 300);
    assert_int_equal(store_build_estimated_duration(S, "app"), 200);
    assert_int_equal(store_build_estimated_duration(S, "other"), -1);
}

static void store_job_forget__drops_builds_and_numbering_and_cancels_waiting_items(void **state)
{
    struct param_value p = { .name = (char *) "P", .type = 0, .value = (char *) "v" };
    struct cause c = user_cause("alice", NULL);
    struct queue_row q = { .job = (char *) "gone", .params = &p, .n_params = 1, .causes = &c,
                           .n_causes = 1 };
    struct queue_row got = { 0 };
    struct queue_row *rows = NULL;
    int64_t count = -1, next = 0, kept;
    size_t n = 0;

    start_build(state, "gone", 1);
    start_build(state, "gone", 2);
    start_build(state, "kept", 3);
    assert_int_equal(store_queue_insert(S, &q), 0);
    kept = insert_item(state, "kept", 1, 1);

    assert_int_equal(store_job_forget(S, "gone"), 0);
    assert_int_equal(store_build_count(S, "gone", &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(store_build_next_number(S, "gone", &next), 0);
    assert_int_equal(next, 1);
    assert_int_equal(store_queue_get(S, q.id, &got), 0);
    assert_int_equal(got.state, QUEUE_CANCELLED);
    assert_true(got.left_ms > 0);
    assert_int_equal(got.n_params, 1);
    queue_row_release(&got);
    assert_int_equal(store_queue_list_waiting(S, NULL, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, kept);
    queue_rows_free(rows, n);
    assert_int_equal(store_build_count(S, "kept", &count), 0);
    assert_int_equal(count, 1);
}

static void store_job_rename__moves_builds_queue_items_and_numbering(void **state)
{
    struct build_row b = { 0 };
    struct queue_row *rows = NULL;
    int64_t count = -1, next = 0, item;
    size_t n = 0;

    start_build(state, "old", 1);
    start_build(state, "old", 2);
    finish_build(state, "old", 1, "SUCCESS", 10);
    item = insert_item(state, "old", 1, 1);

    assert_int_equal(store_job_rename(S, "old", "new"), 0);
    assert_int_equal(store_build_count(S, "old", &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(store_build_count(S, "new", &count), 0);
    assert_int_equal(count, 2);
    assert_int_equal(store_build_get(S, "new", 1, &b), 0);
    assert_string_equal(b.job, "new");
    assert_string_equal(b.result, "SUCCESS");
    build_row_release(&b);
    assert_int_equal(store_build_next_number(S, "new", &next), 0);
    assert_int_equal(next, 3);
    assert_int_equal(store_build_next_number(S, "old", &next), 0);
    assert_int_equal(next, 1);
    assert_int_equal(start_build(state, "new", 5), 3);

    assert_int_equal(store_queue_list_waiting(S, "new", &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, item);
    assert_string_equal(rows[0].job, "new");
    queue_rows_free(rows, n);
    assert_int_equal(store_queue_list_waiting(S, "old", &rows, &n), 0);
    assert_int_equal(n, 0);
    queue_rows_free(rows, n);
}

/* ---- job_stats ---- */

/* The one row of `job` from store_job_stats_list (the test frees it). */
static struct job_stats_row *stats_of(void **state, const char *job)
{
    struct job_stats_row *rows = NULL, *found = NULL;
    size_t n = 0;

    assert_int_equal(store_job_stats_list(S, 1000, &rows, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (streq(rows[i].job, job)) {
            found = calloc(1, sizeof *found);
            assert_non_null(found);
            *found = rows[i];
            rows[i] = rows[n - 1];
            n--;
            break;
        }
    }
    job_stats_rows_free(rows, n);
    return found;
}

static void stats_free(struct job_stats_row *r)
{
    job_stats_rows_free(r, r ? 1 : 0);
}

static void store_build_finish__counts_the_build_in_the_jobs_stats(void **state)
{
    struct job_stats_row *r;
    int64_t a1 = start_build(state, "app", 100), a2 = start_build(state, "app", 200);
    int64_t a3 = start_build(state, "app", 300), a4 = start_build(state, "app", 400);

    assert_null(stats_of(state, "app"));   /* nothing finished yet */
    finish_build(state, "app", a1, "SUCCESS", 10);
    finish_build(state, "app", a3, "FAILURE", 30);
    /* #2 ends after #3: #3 stays the last build */
    finish_build(state, "app", a2, "UNSTABLE", 20);
    r = stats_of(state, "app");
    assert_non_null(r);
    assert_int_equal(r->success, 1);
    assert_int_equal(r->unstable, 1);
    assert_int_equal(r->failure, 1);
    assert_int_equal(r->not_built + r->aborted, 0);
    assert_int_equal(r->duration_ms, 60);
    assert_int_equal(r->last_number, a3);
    assert_string_equal(r->last_result, "FAILURE");
    assert_int_equal(r->last_start_ms, 300);
    assert_int_equal(r->last_duration_ms, 30);
    stats_free(r);

    /* a finished build finished again is not counted twice */
    finish_build(state, "app", a1, "SUCCESS", 10);
    finish_build(state, "app", a4, "ABORTED", 5);
    r = stats_of(state, "app");
    assert_int_equal(r->success, 1);
    assert_int_equal(r->aborted, 1);
    assert_int_equal(r->duration_ms, 65);
    assert_int_equal(r->last_number, a4);
    assert_string_equal(r->last_result, "ABORTED");
    stats_free(r);
}

static void store_build_delete__leaves_the_jobs_stats_alone(void **state)
{
    struct job_stats_row *r;
    int64_t n1 = start_build(state, "app", 100), n2 = start_build(state, "app", 200);

    finish_build(state, "app", n1, "FAILURE", 10);
    finish_build(state, "app", n2, "SUCCESS", 20);
    assert_int_equal(store_build_delete(S, "app", n1), 0);
    r = stats_of(state, "app");
    assert_int_equal(r->failure, 1);
    assert_int_equal(r->success, 1);
    assert_int_equal(r->duration_ms, 30);
    stats_free(r);
}

static void store_job_stats_list__lists_jobs_by_name_up_to_max(void **state)
{
    static const char *const jobs[] = { "b", "a", "c" };
    struct job_stats_row *rows = NULL;
    size_t n = 0;

    assert_int_equal(store_job_stats_list(S, 10, &rows, &n), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
    for (size_t i = 0; i < ELEMENTSOF(jobs); i++)
        finish_build(state, jobs[i], start_build(state, jobs[i], 1), "SUCCESS", 1);
    assert_int_equal(store_job_stats_list(S, 2, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].job, "a");
    assert_string_equal(rows[1].job, "b");
    job_stats_rows_free(rows, n);
}

static void store_job_forget_and_rename__carry_the_jobs_stats(void **state)
{
    struct job_stats_row *r;

    finish_build(state, "old", start_build(state, "old", 1), "SUCCESS", 7);
    finish_build(state, "gone", start_build(state, "gone", 1), "SUCCESS", 7);
    assert_int_equal(store_job_rename(S, "old", "new"), 0);
    assert_null(stats_of(state, "old"));
    r = stats_of(state, "new");
    assert_non_null(r);
    assert_int_equal(r->success, 1);
    stats_free(r);
    assert_int_equal(store_job_forget(S, "gone"), 0);
    assert_null(stats_of(state, "gone"));
    /* a new job of that name starts from nothing */
    finish_build(state, "gone", start_build(state, "gone", 2), "FAILURE", 3);
    r = stats_of(state, "gone");
    assert_int_equal(r->success, 0);
    assert_int_equal(r->failure, 1);
    stats_free(r);
}

static void store_open__fills_the_jobs_stats_from_the_builds_of_an_older_database(void **state)
{
    struct fixture *f = *state;
    struct job_stats_row *r;

    /* builds as a database of schema 2 holds them: no job_stats yet */
    f->s = store_close(f->s);
    raw_sql(f->db, "DROP TRIGGER job_stats_on_finish; DROP TABLE job_stats; DROP TABLE grants;"
                   "DROP TABLE audit; ALTER TABLE api_tokens DROP COLUMN scopes;"
                   "ALTER TABLE api_tokens DROP COLUMN jobs;"
                   "ALTER TABLE api_tokens DROP COLUMN expires_ms;"
                   "DROP INDEX builds_by_result;"
                   "DROP TABLE job_index; DROP TABLE credentials; DROP TABLE hook_deliveries;"
                   "ALTER TABLE builds DROP COLUMN description;"
                   "ALTER TABLE builds DROP COLUMN display_name;"
                   "ALTER TABLE builds DROP COLUMN keep_log;"
                   "ALTER TABLE builds DROP COLUMN built_on;"
                   "DROP TRIGGER test_results_gone; DROP TRIGGER test_results_renamed;"
                   "DROP TABLE test_cases; DROP TABLE test_results;"
                   "DROP TABLE queue;"
                   "CREATE TABLE queue(id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL,"
                   "  in_queue_since_ms INTEGER NOT NULL, due_ms INTEGER NOT NULL,"
                   "  state INTEGER NOT NULL DEFAULT 0, left_ms INTEGER NOT NULL DEFAULT 0,"
                   "  build_number INTEGER NOT NULL DEFAULT 0);"
                   "CREATE INDEX queue_waiting ON queue(job) WHERE state = 0;"
                   "CREATE TABLE queue_params(queue_id INTEGER NOT NULL, pos INTEGER NOT NULL,"
                   "  name TEXT NOT NULL, type INTEGER NOT NULL, value TEXT NOT NULL,"
                   "  PRIMARY KEY(queue_id, pos)) WITHOUT ROWID;"
                   "CREATE TABLE queue_causes(queue_id INTEGER NOT NULL, pos INTEGER NOT NULL,"
                   "  kind INTEGER NOT NULL, user_name TEXT, token_name TEXT, addr TEXT, note TEXT,"
                   "  count INTEGER NOT NULL DEFAULT 1, PRIMARY KEY(queue_id, pos)) WITHOUT ROWID;"
                   "PRAGMA user_version = 2;"
                   "INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result) VALUES"
                   " ('j', 1, 1, 100, 10, 'SUCCESS'), ('j', 2, 2, 200, 20, 'FAILURE'),"
                   " ('j', 3, 3, 300, 30, 'SUCCESS'), ('j', 4, 4, 400, 0, NULL),"
                   " ('k', 1, 5, 500, 50, 'ABORTED');");
    assert_int_equal(store_open(f->db, &f->s), 0);
    r = stats_of(state, "j");
    assert_non_null(r);
    assert_int_equal(r->success, 2);
    assert_int_equal(r->failure, 1);
    assert_int_equal(r->duration_ms, 60);
    assert_int_equal(r->last_number, 3);
    assert_string_equal(r->last_result, "SUCCESS");
    assert_int_equal(r->last_start_ms, 300);
    assert_int_equal(r->last_duration_ms, 30);
    stats_free(r);
    r = stats_of(state, "k");
    assert_int_equal(r->aborted, 1);
    stats_free(r);
    /* and the trigger counts from then on */
    finish_build(state, "j", 4, "UNSTABLE", 40);
    r = stats_of(state, "j");
    assert_int_equal(r->unstable, 1);
    assert_int_equal(r->last_number, 4);
    stats_free(r);
}

static void store_audit__filters_pages_and_prunes(void **state)
{
    struct fixture *f = *state;
    struct audit_row *rows = NULL;
    size_t n = 0;

    for (int i = 1; i <= 5; i++)
        assert_int_equal(store_audit_add(f->s, &(struct audit_entry){
                                                   .time_ms = i * 1000, .actor = i % 2 ? "bob" : "carol",
                                                   .via = "apiToken", .token_name = "ci",
                                                   .addr = "10.0.0.1", .action = "trigger",
                                                   .job = i < 3 ? "a" : "b", .detail = NULL }),
                         0);
    assert_int_equal(store_audit_list(f->s, &(struct audit_filter){ .limit = 2 }, &rows, &n), 0);
    assert_int_equal(n, 2);                        /* newest first */
    assert_int_equal(rows[0].time_ms, 5000);
    assert_string_equal(rows[0].token_name, "ci");
    assert_null(rows[0].detail);
    {
        int64_t older = rows[1].id;
        audit_rows_free(rows, n);
        assert_int_equal(store_audit_list(f->s, &(struct audit_filter){ .before_id = older, .limit = 10 },
                                          &rows, &n), 0);
        assert_int_equal(n, 3);                    /* the next page */
        audit_rows_free(rows, n);
    }
    assert_int_equal(store_audit_list(f->s, &(struct audit_filter){ .actor = "bob", .job = "b", .limit = 10 },
                                      &rows, &n), 0);
    assert_int_equal(n, 2);
    audit_rows_free(rows, n);
    assert_int_equal(store_audit_list(f->s, &(struct audit_filter){ .since_ms = 2000, .until_ms = 3000,
                                                                    .limit = 10 }, &rows, &n), 0);
    assert_int_equal(n, 2);
    audit_rows_free(rows, n);
    assert_int_equal(store_audit_prune(f->s, 3000, false), 2);
    assert_int_equal(store_audit_list(f->s, &(struct audit_filter){ .limit = 10 }, &rows, &n), 0);
    assert_int_equal(n, 3);
    audit_rows_free(rows, n);
}

static size_t audit_count(void **state)
{
    struct audit_row *rows = NULL;
    size_t n = 0;

    assert_int_equal(store_audit_list(S, &(struct audit_filter){ .limit = 100 }, &rows, &n), 0);
    audit_rows_free(rows, n);
    return n;
}

static void store_audit_prune__oldest_only_stops_at_the_first_entry_young_enough(void **state)
{
    /* written at 1, 2, 3 s; then the clock went back: 1.5 s; then 4 s */
    const int64_t times[] = { 1000, 2000, 3000, 1500, 4000 };

    for (size_t i = 0; i < ELEMENTSOF(times); i++)
        assert_int_equal(store_audit_add(S, &(struct audit_entry){ .time_ms = times[i],
                                                                   .actor = "bob", .via = "apiToken",
                                                                   .action = "trigger" }), 0);
    assert_int_equal(store_audit_prune(S, 500, true), 0);
    assert_int_equal(store_audit_prune(S, 2500, true), 2);
    /* 1.5 s waits behind 3 s */
    assert_int_equal(store_audit_prune(S, 2500, true), 0);
    assert_int_equal(audit_count(state), 3);
    /* the whole prune takes it */
    assert_int_equal(store_audit_prune(S, 2500, false), 1);
    assert_int_equal(audit_count(state), 2);
    /* everything older: all of it, and an empty log stays empty */
    assert_int_equal(store_audit_prune(S, 9000, true), 2);
    assert_int_equal(store_audit_prune(S, 9000, true), 0);
    assert_int_equal(audit_count(state), 0);
}

static uint64_t gen_of(struct store *s)
{
    uint64_t g = 0;

    assert_int_equal(store_auth_generation(s, &g), 0);
    return g;
}

/* Asserts that the last statement moved the generation on, and returns the new one. */
static uint64_t moved(struct store *s, uint64_t before)
{
    uint64_t now = gen_of(s);

    assert_true(now > before);
    return now;
}

static void store_auth_generation__moves_on_with_each_change_to_users_tokens_grants_and_settings(void **state)
{
    struct store *other = NULL;
    uint64_t g = gen_of(S);
    int64_t uid;

    assert_int_equal(store_user_add(S, "ann", "h", false, &uid), 0);
    g = moved(S, g);
    assert_int_equal(store_user_set_password(S, uid, "h2"), 0);
    g = moved(S, g);
    assert_int_equal(store_user_set_admin(S, uid, true), 0);
    g = moved(S, g);
    assert_int_equal(store_token_add(S, uid, "u-1", "t", "hash1", NULL), 0);
    g = moved(S, g);
    assert_int_equal(store_token_delete(S, uid, NULL, "t"), 0);
    g = moved(S, g);
    assert_int_equal(store_grant_add(S, "USER:hudson.model.Hudson.Read:ann"), 1);
    g = moved(S, g);
    assert_int_equal(store_grant_remove(S, "USER:hudson.model.Hudson.Read:ann"), 0);
    g = moved(S, g);
    assert_int_equal(store_setting_set(S, "anonymous_read", "on"), 0);
    g = moved(S, g);
    assert_int_equal(store_setting_delete(S, "anonymous_read"), 0);
    g = moved(S, g);
    assert_int_equal(store_user_delete(S, uid), 0);
    g = moved(S, g);

    /* another connection (another process alike) shares it */
    assert_int_equal(store_open(((struct fixture *) *state)->db, &other), 0);
    assert_int_equal(gen_of(other), g);
    assert_int_equal(store_setting_set(other, "authorization", "matrix"), 0);
    g = moved(S, g);
    store_close(other);
}

static void store_auth_generation__stays_for_use_counts_and_moves_only_at_the_commit(void **state)
{
    uint64_t g;
    int64_t uid;

    assert_int_equal(store_user_add(S, "ann", "h", false, &uid), 0);
    assert_int_equal(store_token_add(S, uid, "u-1", "t", "hash1", NULL), 0);
    g = gen_of(S);
    assert_int_equal(store_token_add_uses(S, "u-1", 3, 1000), 0);
    assert_int_equal(gen_of(S), g);

    /* a change in a transaction is counted once it is visible, not before */
    assert_int_equal(store_begin(S), 0);
    assert_int_equal(store_user_set_admin(S, uid, true), 0);
    assert_int_equal(gen_of(S), g);
    assert_int_equal(store_commit(S), 0);
    g = moved(S, g);

    /* and not at all when it is rolled back */
    assert_int_equal(store_begin(S), 0);
    assert_int_equal(store_user_set_admin(S, uid, false), 0);
    assert_int_equal(store_rollback(S), 0);
    assert_int_equal(gen_of(S), g);
    /* nor does a later commit of nothing count it */
    assert_int_equal(store_begin(S), 0);
    assert_int_equal(store_commit(S), 0);
    assert_int_equal(gen_of(S), g);
}

/* More statements than any fixed cache held: each is prepared once and kept, none leaks. */
static void st_prep__keeps_every_statement_once_however_many(void **state)
{
    enum { N = 300 };
    static char sql[N][48];
    sqlite3_stmt *first[N];
    size_t before = S->n_cache, live = 0;

    for (int i = 0; i < N; i++) {
        snprintf(sql[i], sizeof sql[i], "SELECT %d", i);
        first[i] = st_prep(S, sql[i]);
        assert_non_null(first[i]);
        st_release(first[i]);
    }
    for (int i = 0; i < N; i++) {
        sqlite3_stmt *again = st_prep(S, sql[i]);

        assert_ptr_equal(again, first[i]);
        assert_int_equal(sqlite3_step(again), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(again, 0), i);
        st_release(again);
    }
    assert_int_equal(S->n_cache, before + N);
    /* what the connection holds is what the cache holds: store_close() finalizes them all */
    for (sqlite3_stmt *st = sqlite3_next_stmt(S->db, NULL); st; st = sqlite3_next_stmt(S->db, st))
        live++;
    assert_int_equal(live, S->n_cache);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(store_open__runs_the_migrations_on_a_fresh_database),
        T(store_open__reopens_a_database_and_keeps_its_data),
        T(store_open__refuses_a_database_from_a_newer_steward),
        T(store_open__fails_in_a_missing_directory),
        T(store_close__accepts_null_and_returns_null),
        T(st_prep__keeps_every_statement_once_however_many),
        T(store_rollback__discards_what_the_transaction_wrote),
        T(store_savepoint_rollback__undoes_only_what_came_after_the_savepoint),
        T(store_begin_lazy__commits_at_normal_and_the_next_transaction_is_full),
        T(store_sync__syncs_after_a_lazy_commit_and_is_a_no_op_otherwise),
        T(store_sync_start__syncs_on_the_side_what_came_before_it_only),
        T(store_setting_get__returns_enoent_when_unset),
        T(store_setting_set__stores_and_overwrites),
        T(store_setting_bool__reads_on_true_and_1_as_true),
        T(store_user_add__stores_a_user_that_get_returns),
        T(store_user_add__refuses_a_duplicate_name_with_eexist),
        T(store_user_get__returns_enoent_for_an_unknown_user),
        T(store_user_count__counts_users),
        T(store_user_set_password__replaces_the_hash),
        T(store_user_list__lists_every_user_sorted_by_name),
        T(store_user_list__returns_no_rows_without_users),
        T(store_user_set_admin__grants_and_takes_the_flag),
        T(store_user_set_admin__returns_enoent_for_an_unknown_user),
        T(store_token_find_by_hash__finds_an_added_token),
        T(store_token_add__refuses_a_second_token_of_the_same_name_for_one_user),
        T(store_token_list__lists_a_users_tokens_oldest_first),
        T(store_token_delete__deletes_by_uuid),
        T(store_token_delete__deletes_by_name_when_uuid_is_null),
        T(store_token_delete__leaves_other_users_tokens_alone),
        T(store_token_add_uses__adds_uses_and_keeps_the_latest_use),
        T(store_user_delete__removes_the_user_and_their_tokens_only),
        T(store_user_delete__deletes_the_tokens_without_foreign_keys),
        T(store_user_delete__returns_enoent_for_an_unknown_user),
        T(store_user_delete__rolls_back_inside_a_transaction),
        T(store_user_add__after_a_delete_gets_a_new_id_and_no_old_tokens),
        T(store_queue_insert__stores_params_and_causes_that_get_returns_in_order),
        T(store_queue_insert__counts_a_cause_at_least_once),
        T(store_queue_insert__keeps_what_json_must_escape),
        T(store_queue_waiting_bytes__counts_the_names_and_values_of_waiting_items),
        T(store_queue_get__returns_enoent_for_an_unknown_item),
        T(store_queue_update_merge__replaces_the_causes_and_the_due_time),
        T(store_queue_set_state__records_the_state_and_the_build),
        T(store_queue_list_waiting__filters_by_job_and_state_oldest_first),
        T(store_queue_list_waiting__returns_params_and_causes),
        T(store_queue_max_id__is_0_when_empty_then_the_last_id),
        T(store_build_start__numbers_1_2_3_per_job_independently),
        T(store_build_discardable__keeps_the_newest_and_the_last_successful_and_stable),
        T(store_build_discardable__passes_kept_builds_by_and_counts_them),
        T(store_build_set__description_and_display_name_are_stored_and_cleared),
        T(store_build_each__walks_newest_first_within_the_range),
        T(store_build_discardable__with_archived_only_lists_builds_marked_archived),
        T(store_build_start__inserts_a_running_build),
        T(store_build_finish__records_the_result),
        T(store_build_get__returns_enoent_for_an_unknown_build),
        T(store_build_list__lists_newest_first_with_offset_and_limit),
        T(store_build_list_running__lists_unfinished_builds_of_every_job),
        T(store_build_permalink__returns_enoent_when_no_build_matches),
        T(store_build_permalink__refuses_an_unknown_name_with_einval),
        T(store_build_permalink__finds_the_newest_build_of_each_kind),
        T(store_build_estimated_duration__is_minus_1_without_successes),
        T(store_build_estimated_duration__averages_the_last_successful_builds),
        T(store_job_forget__drops_builds_and_numbering_and_cancels_waiting_items),
        T(store_job_rename__moves_builds_queue_items_and_numbering),
        T(store_setting_delete__removes_a_setting_and_says_when_there_was_none),
        T(store_build_finish__counts_the_build_in_the_jobs_stats),
        T(store_build_delete__leaves_the_jobs_stats_alone),
        T(store_job_stats_list__lists_jobs_by_name_up_to_max),
        T(store_job_forget_and_rename__carry_the_jobs_stats),
        T(store_open__fills_the_jobs_stats_from_the_builds_of_an_older_database),
        T(store_audit__filters_pages_and_prunes),
        T(store_audit_prune__oldest_only_stops_at_the_first_entry_young_enough),
        T(store_auth_generation__moves_on_with_each_change_to_users_tokens_grants_and_settings),
        T(store_auth_generation__stays_for_use_counts_and_moves_only_at_the_commit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
