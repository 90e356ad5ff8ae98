/* SPDX-License-Identifier: MIT */
/*
 * Every earlier schema version migrates to the current one with its rows:
 * a database is built as a Steward at version V left it (the first V
 * migrations, then rows in that version's shape), and the current code
 * opens it.
 */
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

/* The rows of version 3, which versions 4 and 5 hold as they are. */
#define ROWS_WITH_STATS \
    "INSERT INTO settings(key, value) VALUES('anonymous_read', 'on');" \
    "INSERT INTO users(id, name, full_name, password_hash, is_admin, created_ms)" \
    "  VALUES(1, 'alice', 'Alice A.', '$argon2id$v=19$fake', 1, 1000)," \
    "        (2, 'bob', 'bob', '$argon2id$v=19$fake2', 0, 1001);" \
    "INSERT INTO api_tokens(uuid, user_id, name, hash, created_ms, last_use_ms, use_count)" \
    "  VALUES('00000000-0000-4000-8000-000000000001', 2, 'laptop'," \
    "         'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1100, 1200, 3);" \
    "INSERT INTO queue(id, job, in_queue_since_ms, due_ms, state, left_ms, build_number)" \
    "  VALUES(5, 'hello', 1500, 1500, 1, 1600, 1)," \
    "        (6, 'hello', 1700, 1700, 1, 1800, 2)," \
    "        (7, 'hello', 1900, 99000, 0, 0, 0);" \
    "INSERT INTO queue_params(queue_id, pos, name, type, value) VALUES(7, 0, 'WHO', 0, 'world');" \
    "INSERT INTO queue_causes(queue_id, pos, kind, user_name, token_name, addr, note, count)" \
    "  VALUES(7, 0, 0, 'bob', 'laptop', NULL, NULL, 2);" \
    "INSERT INTO job_numbers(job, next_build) VALUES('hello', 3);" \
    "INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result, executor, archived)" \
    "  VALUES('hello', 1, 5, 1600, 42, 'SUCCESS', 0, 1)," \
    "        ('hello', 2, 6, 1800, 0, NULL, 1, 0);" \
    "INSERT INTO job_stats(job, success, duration_ms, last_number, last_result, last_start_ms," \
    "  last_duration_ms) VALUES('hello', 1, 42, 1, 'SUCCESS', 1600, 42);"

/* The rows of version 6, which later versions hold as they are. */
#define ROWS_WITH_LIMITS \
    "INSERT INTO settings(key, value) VALUES('anonymous_read', 'on');" \
    "INSERT INTO users(id, name, full_name, password_hash, is_admin, created_ms)" \
    "  VALUES(1, 'alice', 'Alice A.', '$argon2id$v=19$fake', 1, 1000)," \
    "        (2, 'bob', 'bob', '$argon2id$v=19$fake2', 0, 1001);" \
    "INSERT INTO api_tokens(uuid, user_id, name, hash, created_ms, last_use_ms, use_count," \
    "  scopes, jobs, expires_ms)" \
    "  VALUES('00000000-0000-4000-8000-000000000001', 2, 'laptop'," \
    "         'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1100, 1200, 3," \
    "         NULL, NULL, 0);" \
    "INSERT INTO queue(id, job, in_queue_since_ms, due_ms, state, left_ms, build_number)" \
    "  VALUES(5, 'hello', 1500, 1500, 1, 1600, 1)," \
    "        (6, 'hello', 1700, 1700, 1, 1800, 2)," \
    "        (7, 'hello', 1900, 99000, 0, 0, 0);" \
    "INSERT INTO queue_params(queue_id, pos, name, type, value) VALUES(7, 0, 'WHO', 0, 'world')," \
    "  (5, 0, 'PW', 4, 'hunter2');" \
    "INSERT INTO queue_causes(queue_id, pos, kind, user_name, token_name, addr, note, count)" \
    "  VALUES(7, 0, 0, 'bob', 'laptop', NULL, NULL, 2);" \
    "INSERT INTO job_numbers(job, next_build) VALUES('hello', 3);" \
    "INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result, executor, archived)" \
    "  VALUES('hello', 1, 5, 1600, 42, 'SUCCESS', 0, 1)," \
    "        ('hello', 2, 6, 1800, 0, NULL, 1, 0);" \
    "INSERT INTO job_stats(job, success, duration_ms, last_number, last_result, last_start_ms," \
    "  last_duration_ms) VALUES('hello', 1, 42, 1, 'SUCCESS', 1600, 42);"

/*
 * Rows as a Steward at schema version V wrote them, one entry per earlier
 * version. Adding migration N+1 means adding the rows of version N here:
 * migrate__has_rows_for_every_earlier_version fails until then.
 */
static const char *const rows_at_version[] = {
    /* 0: an empty file, before the first migration */
    "",
    /* 1: the first schema; two builds of hello, one finished, one running */
    "INSERT INTO settings(key, value) VALUES('anonymous_read', 'on');"
    "INSERT INTO users(id, name, full_name, password_hash, is_admin, created_ms)"
    "  VALUES(1, 'alice', 'Alice A.', '$argon2id$v=19$fake', 1, 1000),"
    "        (2, 'bob', 'bob', '$argon2id$v=19$fake2', 0, 1001);"
    "INSERT INTO api_tokens(uuid, user_id, name, hash, created_ms, last_use_ms, use_count)"
    "  VALUES('00000000-0000-4000-8000-000000000001', 2, 'laptop',"
    "         'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1100, 1200, 3);"
    "INSERT INTO queue(id, job, in_queue_since_ms, due_ms, state, left_ms, build_number)"
    "  VALUES(5, 'hello', 1500, 1500, 1, 1600, 1),"
    "        (6, 'hello', 1700, 1700, 1, 1800, 2),"
    "        (7, 'hello', 1900, 99000, 0, 0, 0);"
    "INSERT INTO queue_params(queue_id, pos, name, type, value) VALUES(7, 0, 'WHO', 0, 'world');"
    "INSERT INTO queue_causes(queue_id, pos, kind, user_name, token_name, addr, note, count)"
    "  VALUES(7, 0, 0, 'bob', 'laptop', NULL, NULL, 2);"
    "INSERT INTO job_numbers(job, next_build) VALUES('hello', 3);"
    "INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result, executor)"
    "  VALUES('hello', 1, 5, 1600, 42, 'SUCCESS', 0),"
    "        ('hello', 2, 6, 1800, 0, NULL, 1);",
    /* 2: the same, and builds say whether they may have archived artifacts */
    "INSERT INTO settings(key, value) VALUES('anonymous_read', 'on');"
    "INSERT INTO users(id, name, full_name, password_hash, is_admin, created_ms)"
    "  VALUES(1, 'alice', 'Alice A.', '$argon2id$v=19$fake', 1, 1000),"
    "        (2, 'bob', 'bob', '$argon2id$v=19$fake2', 0, 1001);"
    "INSERT INTO api_tokens(uuid, user_id, name, hash, created_ms, last_use_ms, use_count)"
    "  VALUES('00000000-0000-4000-8000-000000000001', 2, 'laptop',"
    "         'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1100, 1200, 3);"
    "INSERT INTO queue(id, job, in_queue_since_ms, due_ms, state, left_ms, build_number)"
    "  VALUES(5, 'hello', 1500, 1500, 1, 1600, 1),"
    "        (6, 'hello', 1700, 1700, 1, 1800, 2),"
    "        (7, 'hello', 1900, 99000, 0, 0, 0);"
    "INSERT INTO queue_params(queue_id, pos, name, type, value) VALUES(7, 0, 'WHO', 0, 'world');"
    "INSERT INTO queue_causes(queue_id, pos, kind, user_name, token_name, addr, note, count)"
    "  VALUES(7, 0, 0, 'bob', 'laptop', NULL, NULL, 2);"
    "INSERT INTO job_numbers(job, next_build) VALUES('hello', 3);"
    "INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result, executor, archived)"
    "  VALUES('hello', 1, 5, 1600, 42, 'SUCCESS', 0, 1),"
    "        ('hello', 2, 6, 1800, 0, NULL, 1, 0);",
    /* 3: the same, and each job's totals */
    ROWS_WITH_STATS,
    /* 4: the same, and the global matrix (empty) */
    ROWS_WITH_STATS,
    /* 5: the same, and the audit log (empty) */
    ROWS_WITH_STATS,
    /*
     * 6: the same, tokens with their (empty) limits, and a left item whose
     * password value an older Steward did not forget
     */
    ROWS_WITH_LIMITS,
    /* 7: the same, and a job's builds by result */
    ROWS_WITH_LIMITS,
    /* 8: the same, and the job registry's index (empty) */
    ROWS_WITH_LIMITS,
    /* 9: the same, and the credentials (none) */
    ROWS_WITH_LIMITS,
    /* 10: the same, and the webhook deliveries (none) */
    ROWS_WITH_LIMITS,
    /* 11: the same, and builds' descriptions, display names and keep flags (none) */
    ROWS_WITH_LIMITS,
    /* 12: the same, and test results (none) */
    ROWS_WITH_LIMITS,
    /* 13: the same, and the node each build ran on (none) */
    ROWS_WITH_LIMITS,
};

struct fixture {
    char dir[64];
    char db[96];
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-migrations-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof f->db, "%s/steward.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    (void) nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
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

/* A database as a Steward at schema `version` left it, WAL and all. */
static void make_database_at(const char *path, int version)
{
    char pragma[64];
    sqlite3 *h = NULL;

    (void) unlink(path);
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
    for (int v = 0; v < version; v++) {
        const char *sql = store_migration_sql(v);
        assert_non_null(sql);
        assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", version);
    assert_int_equal(sqlite3_exec(h, pragma, NULL, NULL, NULL), SQLITE_OK);
    if (sqlite3_exec(h, rows_at_version[version], NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("the rows of version %d do not fit its schema: %s", version, sqlite3_errmsg(h));
    sqlite3_close(h);
}

/* What every version from 1 on holds, read back through today's store. */
static void check_rows(struct store *s, const char *db)
{
    struct user_row u = {};
    struct token_row t = {};
    struct build_row b = {};
    struct queue_row *waiting = NULL;
    size_t n = 0;
    int64_t next = 0;

    assert_true(store_setting_bool(s, "anonymous_read", false));

    assert_int_equal(store_user_get(s, "alice", &u), 0);
    assert_string_equal(u.full_name, "Alice A.");
    assert_true(u.is_admin);
    user_row_release(&u);
    assert_int_equal(store_user_get(s, "bob", &u), 0);
    assert_false(u.is_admin);

    assert_int_equal(store_token_find_by_hash(
                         s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &t),
                     0);
    assert_int_equal(t.user_id, u.id);
    assert_string_equal(t.name, "laptop");
    assert_int_equal(t.use_count, 3);
    token_row_release(&t);
    user_row_release(&u);

    assert_int_equal(store_queue_list_waiting(s, NULL, &waiting, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(waiting[0].id, 7);
    assert_int_equal(waiting[0].due_ms, 99000);
    assert_int_equal(waiting[0].n_params, 1);
    assert_string_equal(waiting[0].params[0].value, "world");
    assert_int_equal(waiting[0].n_causes, 1);
    assert_string_equal(waiting[0].causes[0].token_name, "laptop");
    assert_int_equal(waiting[0].causes[0].count, 2);
    queue_rows_free(waiting, n);
    assert_int_equal(store_queue_max_id(s), 7);

    assert_int_equal(store_build_get(s, "hello", 1, &b), 0);
    assert_string_equal(b.result, "SUCCESS");
    assert_int_equal(b.duration_ms, 42);
    build_row_release(&b);
    assert_int_equal(store_build_get(s, "hello", 2, &b), 0);
    assert_null(b.result);
    build_row_release(&b);
    assert_int_equal(store_build_next_number(s, "hello", &next), 0);
    assert_int_equal(next, 3);

    /* migration 2: finished builds from before it may have archived artifacts */
    assert_int_equal(raw_int(db, "SELECT archived FROM builds WHERE job = 'hello' AND number = 1"), 1);
    assert_int_equal(raw_int(db, "SELECT archived FROM builds WHERE job = 'hello' AND number = 2"), 0);

    /* the migration of build descriptions: none, the default display name, none kept */
    assert_int_equal(store_build_get(s, "hello", 1, &b), 0);
    assert_null(b.description);
    assert_null(b.display_name);
    assert_false(b.keep_log);
    build_row_release(&b);

    /* migration 7: the permalinks and the neighbours read the new index and the primary key */
    {
        int64_t number = 0, prev = -1, next = -1;

        assert_int_equal(store_build_permalink(s, "hello", "lastSuccessfulBuild", &number), 0);
        assert_int_equal(number, 1);
        assert_int_equal(store_build_permalink(s, "hello", "lastCompletedBuild", &number), 0);
        assert_int_equal(number, 1);
        assert_int_equal(store_build_permalink(s, "hello", "lastFailedBuild", &number), -ENOENT);
        assert_int_equal(store_build_neighbours(s, "hello", 1, &prev, &next), 0);
        assert_int_equal(prev, 0);
        assert_int_equal(next, 2);
        assert_int_equal(store_build_estimated_duration(s, "hello"), 42);

        /* the sweep at start forgets what a left item kept, and nothing of a waiting one */
        assert_int_equal(store_queue_forget_values(s, 0, STORE_PARAM_SECRET), 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM queue, json_each(queue.params) p "
                                     "WHERE p.value->>2 = 'hunter2'"), 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM queue, json_each(queue.params) p "
                                     "WHERE p.value->>2 = 'world'"), 1);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM queue WHERE secrets <> 0"), 0);
    }

    /* migration 6: the old tokens keep every right, and never expire */
    {
        struct token_row tok = {};

        assert_int_equal(store_token_find_by_hash(
                             s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &tok),
                         0);
        assert_null(tok.scopes);
        assert_null(tok.jobs);
        assert_int_equal(tok.expires_ms, 0);
        token_row_release(&tok);
    }

    /* migration 5: the audit log starts empty */
    {
        struct audit_row *log = NULL;
        size_t n_log = 9;

        assert_int_equal(store_audit_list(s, &(struct audit_filter){ .limit = 10 }, &log, &n_log), 0);
        assert_int_equal(n_log, 0);
        audit_rows_free(log, n_log);
    }

    /* migration 4: the global matrix starts empty */
    {
        char **entries = NULL;
        size_t n_entries = 9;

        assert_int_equal(store_grant_list(s, &entries, &n_entries), 0);
        assert_int_equal(n_entries, 0);
        store_grants_free(entries, n_entries);
    }

    /* migration 3: the job's totals, from its finished build (the running one is not counted) */
    {
        struct job_stats_row *stats = NULL;
        size_t n_stats = 0;

        assert_int_equal(store_job_stats_list(s, 10, &stats, &n_stats), 0);
        assert_int_equal(n_stats, 1);
        assert_string_equal(stats[0].job, "hello");
        assert_int_equal(stats[0].success, 1);
        assert_int_equal(stats[0].failure + stats[0].unstable + stats[0].aborted, 0);
        assert_int_equal(stats[0].duration_ms, 42);
        assert_int_equal(stats[0].last_number, 1);
        assert_string_equal(stats[0].last_result, "SUCCESS");
        assert_int_equal(stats[0].last_start_ms, 1600);
        job_stats_rows_free(stats, n_stats);
    }
}

static void migrate__has_rows_for_every_earlier_version(void **state)
{
    (void) state;
    /* a new migration comes with the rows of the version before it */
    assert_int_equal(ELEMENTSOF(rows_at_version), store_schema_version());
    assert_null(store_migration_sql(store_schema_version()));
    assert_null(store_migration_sql(-1));
}

static void migrate__brings_every_earlier_version_to_the_current_one_with_its_rows(void **state)
{
    struct fixture *f = *state;

    for (int version = 0; version < store_schema_version(); version++) {
        struct store *s = NULL;

        make_database_at(f->db, version);
        if (store_open(f->db, &s) < 0)
            fail_msg("store_open failed on a database at version %d", version);
        assert_int_equal(raw_int(f->db, "PRAGMA user_version"), store_schema_version());
        if (version >= 1)
            check_rows(s, f->db);
        else
            assert_int_equal(raw_int(f->db, "SELECT count(*) FROM builds"), 0);
        /* a second open has nothing left to do */
        s = store_close(s);
        assert_int_equal(store_open(f->db, &s), 0);
        assert_int_equal(raw_int(f->db, "PRAGMA user_version"), store_schema_version());
        store_close(s);
    }
}

/*
 * Migration 14 folds the parameters and causes into their item: in their
 * order, with what JSON must escape, NULLs as NULLs, and the password
 * values still there marked for the sweep.
 */
static void migrate__folds_params_and_causes_into_their_item(void **state)
{
    struct fixture *f = *state;
    struct store *s = NULL;
    struct queue_row q = {};
    sqlite3 *h = NULL;

    make_database_at(f->db, 13);
    assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
        "INSERT INTO queue(id, job, in_queue_since_ms, due_ms, state) VALUES(9, 'odd', 1, 2, 0);"
        "INSERT INTO queue_params(queue_id, pos, name, type, value) VALUES"
        "  (9, 2, 'C', 0, 'third'), (9, 0, 'A', 0, 'say \"hi\" \\ back' || char(10) || char(1)),"
        "  (9, 1, 'B', 4, 's3cret'), (9, 3, 'D', 0, 'caf' || char(233) || ' ' || char(128512));"
        "INSERT INTO queue_causes(queue_id, pos, kind, user_name, token_name, addr, note, count)"
        "  VALUES(9, 1, 1, NULL, NULL, '10.0.0.1', 'from CI', 1),"
        "        (9, 0, 0, 'bob', NULL, NULL, NULL, 3);",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    assert_int_equal(store_open(f->db, &s), 0);
    assert_int_equal(raw_int(f->db, "SELECT secrets FROM queue WHERE id = 9"), 1);
    assert_int_equal(raw_int(f->db, "SELECT secrets FROM queue WHERE id = 7"), 0);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                    "('queue_params', 'queue_causes')"), 0);
    assert_int_equal(store_queue_get(s, 9, &q), 0);
    assert_int_equal(q.n_params, 4);
    assert_string_equal(q.params[0].name, "A");
    assert_string_equal(q.params[0].value, "say \"hi\" \\ back\n\001");
    assert_string_equal(q.params[1].name, "B");
    assert_int_equal(q.params[1].type, STORE_PARAM_SECRET);
    assert_string_equal(q.params[1].value, "s3cret");
    assert_string_equal(q.params[2].value, "third");
    assert_string_equal(q.params[3].value, "caf\u00e9 \U0001F600");
    assert_int_equal(q.n_causes, 2);
    assert_int_equal(q.causes[0].kind, CAUSE_USER);
    assert_string_equal(q.causes[0].user_name, "bob");
    assert_null(q.causes[0].token_name);
    assert_null(q.causes[0].addr);
    assert_null(q.causes[0].note);
    assert_int_equal(q.causes[0].count, 3);
    assert_int_equal(q.causes[1].kind, CAUSE_REMOTE);
    assert_null(q.causes[1].user_name);
    assert_string_equal(q.causes[1].addr, "10.0.0.1");
    assert_string_equal(q.causes[1].note, "from CI");
    queue_row_release(&q);

    /* a waiting item keeps its password value through the sweep; its own forgetting empties it */
    assert_int_equal(store_queue_forget_values(s, 0, STORE_PARAM_SECRET), 0);
    assert_int_equal(store_queue_get(s, 9, &q), 0);
    assert_string_equal(q.params[1].value, "s3cret");
    queue_row_release(&q);
    assert_int_equal(store_queue_forget_values(s, 9, STORE_PARAM_SECRET), 0);
    assert_int_equal(raw_int(f->db, "SELECT secrets FROM queue WHERE id = 9"), 0);
    assert_int_equal(store_queue_get(s, 9, &q), 0);
    assert_int_equal(q.n_params, 4);
    assert_string_equal(q.params[1].name, "B");
    assert_int_equal(q.params[1].type, STORE_PARAM_SECRET);
    assert_string_equal(q.params[1].value, "");
    assert_string_equal(q.params[0].value, "say \"hi\" \\ back\n\001");
    assert_string_equal(q.params[3].value, "caf\u00e9 \U0001F600");
    queue_row_release(&q);
    /* the next item gets the next id: none is given twice */
    assert_int_equal(store_queue_max_id(s), 9);
    store_close(s);
}

static void migrate__leaves_the_schema_a_fresh_database_has(void **state)
{
    struct fixture *f = *state;
    const char *schema = "SELECT group_concat(type || ' ' || name || ' ' || coalesce(sql, ''), "
                         "'|') FROM (SELECT * FROM sqlite_master ORDER BY name)";
    char fresh[128];

    snprintf(fresh, sizeof fresh, "%s/fresh.db", f->dir);
    for (int version = 0; version < store_schema_version(); version++) {
        struct store *s = NULL, *t = NULL;
        sqlite3 *a = NULL, *b = NULL;
        sqlite3_stmt *sa = NULL, *sb = NULL;

        make_database_at(f->db, version);
        assert_int_equal(store_open(f->db, &s), 0);
        (void) unlink(fresh);
        assert_int_equal(store_open(fresh, &t), 0);
        assert_int_equal(sqlite3_open(f->db, &a), SQLITE_OK);
        assert_int_equal(sqlite3_open(fresh, &b), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(a, schema, -1, &sa, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(b, schema, -1, &sb, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(sa), SQLITE_ROW);
        assert_int_equal(sqlite3_step(sb), SQLITE_ROW);
        assert_string_equal(sqlite3_column_text(sa, 0), sqlite3_column_text(sb, 0));
        sqlite3_finalize(sa);
        sqlite3_finalize(sb);
        sqlite3_close(a);
        sqlite3_close(b);
        store_close(s);
        store_close(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(migrate__has_rows_for_every_earlier_version),
        cmocka_unit_test_setup_teardown(
            migrate__brings_every_earlier_version_to_the_current_one_with_its_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(migrate__folds_params_and_causes_into_their_item, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(migrate__leaves_the_schema_a_fresh_database_has, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
