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

#include "store/store.h"
#include "util/macro.h"
#include "util/strutil.h"

/* A live database (WAL, as the server has it) in a fresh directory, and a path for its copy. */
struct fixture {
    char dir[64];
    char db[96];
    char copy[96];
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
    snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-backup-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof f->db, "%s/steward.db", f->dir);
    snprintf(f->copy, sizeof f->copy, "%s/copy.db", f->dir);
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

static int raw_int(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int v;

    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void write_file(const char *path, const char *content)
{
    FILE *fp = fopen(path, "we");

    assert_non_null(fp);
    fputs(content, fp);
    assert_int_equal(fclose(fp), 0);
}

static void add_build(struct store *s, const char *job, const char *result)
{
    int64_t number;

    assert_int_equal(store_build_start(s, job, 1, 1000, 0, &number), 0);
    assert_int_equal(store_build_finish(s, job, number, result, 10, NULL), 0);
}

/* ---- store_backup ---- */

static void store_backup__copies_the_database_into_one_file_of_the_current_version(void **state)
{
    struct fixture *f = *state;
    char wal[128];
    int version = -1;

    assert_int_equal(store_user_add(f->s, "alice", "hash", true, NULL), 0);
    add_build(f->s, "hello", "SUCCESS");

    assert_int_equal(store_backup(f->db, f->copy, &version), 0);
    assert_int_equal(version, store_schema_version());
    /* one file, not in WAL mode: a backup on read-only media still opens */
    snprintf(wal, sizeof wal, "%s-wal", f->copy);
    assert_false(exists(wal));
    assert_int_equal(raw_int(f->copy, "SELECT count(*) FROM users WHERE name = 'alice'"), 1);
    assert_int_equal(raw_int(f->copy, "SELECT count(*) FROM builds"), 1);
    assert_int_equal(raw_int(f->copy, "PRAGMA user_version"), store_schema_version());
    {
        sqlite3 *h = NULL;
        sqlite3_stmt *st = NULL;

        assert_int_equal(sqlite3_open_v2(f->copy, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal(sqlite3_column_text(st, 0), "delete");
        sqlite3_finalize(st);
        sqlite3_close(h);
    }
}

static void store_backup__copies_what_was_committed_and_not_an_open_transaction(void **state)
{
    struct fixture *f = *state;
    int version;

    assert_int_equal(store_user_add(f->s, "committed", "hash", false, NULL), 0);
    assert_int_equal(store_begin(f->s), 0);
    assert_int_equal(store_user_add(f->s, "pending", "hash", false, NULL), 0);

    /* the writer holds its transaction open while the copy is taken */
    assert_int_equal(store_backup(f->db, f->copy, &version), 0);
    assert_int_equal(store_commit(f->s), 0);

    assert_int_equal(raw_int(f->copy, "SELECT count(*) FROM users WHERE name = 'committed'"), 1);
    assert_int_equal(raw_int(f->copy, "SELECT count(*) FROM users WHERE name = 'pending'"), 0);
    /* and the live database has both */
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM users"), 2);
}

static void store_backup__refuses_an_existing_destination_and_leaves_it(void **state)
{
    struct fixture *f = *state;
    int version = -1;

    write_file(f->copy, "precious");
    assert_int_equal(store_backup(f->db, f->copy, &version), -EEXIST);
    assert_int_equal(version, -1);
    {
        FILE *fp = fopen(f->copy, "re");
        char buf[16] = "";

        assert_non_null(fp);
        assert_non_null(fgets(buf, sizeof buf, fp));
        fclose(fp);
        assert_string_equal(buf, "precious");
    }
}

static void store_backup__fails_for_a_missing_source_and_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    char missing[128];
    int version;

    snprintf(missing, sizeof missing, "%s/none.db", f->dir);
    assert_int_equal(store_backup(missing, f->copy, &version), -ENOENT);
    assert_false(exists(f->copy));
    assert_false(exists(missing));
}

/* ---- store_check ---- */

static void store_check__accepts_a_backup_and_tells_its_version(void **state)
{
    struct fixture *f = *state;
    int version = -1, v2 = -1;

    assert_int_equal(store_backup(f->db, f->copy, &version), 0);
    assert_int_equal(store_check(f->copy, &v2), 0);
    assert_int_equal(v2, version);
}

static void store_check__refuses_a_file_that_is_not_a_database(void **state)
{
    struct fixture *f = *state;
    int version = -1;

    write_file(f->copy, "this is a text file, not SQLite, and long enough to have a header....."
                        "..................................................................\n");
    assert_int_equal(store_check(f->copy, &version), -EINVAL);
    assert_int_equal(version, -1);
}

static void store_check__refuses_a_database_from_a_newer_steward(void **state)
{
    struct fixture *f = *state;
    sqlite3 *h = NULL;
    int version;

    assert_int_equal(store_backup(f->db, f->copy, &version), 0);
    assert_int_equal(sqlite3_open(f->copy, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(store_check(f->copy, &version), -EPROTO);
}

static void store_check__returns_enoent_for_a_missing_file(void **state)
{
    struct fixture *f = *state;
    int version;

    assert_int_equal(store_check(f->copy, &version), -ENOENT);
    assert_false(exists(f->copy));
}

/* ---- store_prune_builds ---- */

static bool keep_all_but_b2(void *userdata, const char *job, int64_t number)
{
    int *calls = userdata;

    (*calls)++;
    return !(streq(job, "b") && number == 2);
}

static void store_prune_builds__deletes_the_rows_keep_refuses(void **state)
{
    struct fixture *f = *state;
    size_t deleted = 99;
    int version, calls = 0;

    add_build(f->s, "a", "SUCCESS");
    add_build(f->s, "b", "SUCCESS");
    add_build(f->s, "b", "FAILURE");
    add_build(f->s, "b", "SUCCESS");
    assert_int_equal(store_backup(f->db, f->copy, &version), 0);

    assert_int_equal(store_prune_builds(f->copy, keep_all_but_b2, &calls, &deleted), 0);
    assert_int_equal(calls, 4);
    assert_int_equal(deleted, 1);
    assert_int_equal(raw_int(f->copy, "SELECT count(*) FROM builds"), 3);
    assert_int_equal(raw_int(f->copy, "SELECT count(*) FROM builds WHERE job = 'b' AND number = 2"), 0);
    /* the next number stays: no build number is ever given twice */
    assert_int_equal(raw_int(f->copy, "SELECT next_build FROM job_numbers WHERE job = 'b'"), 4);
    /* the live database is not touched */
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM builds"), 4);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(store_backup__copies_the_database_into_one_file_of_the_current_version),
        T(store_backup__copies_what_was_committed_and_not_an_open_transaction),
        T(store_backup__refuses_an_existing_destination_and_leaves_it),
        T(store_backup__fails_for_a_missing_source_and_leaves_nothing),
        T(store_check__accepts_a_backup_and_tells_its_version),
        T(store_check__refuses_a_file_that_is_not_a_database),
        T(store_check__refuses_a_database_from_a_newer_steward),
        T(store_check__returns_enoent_for_a_missing_file),
        T(store_prune_builds__deletes_the_rows_keep_refuses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
