/* SPDX-License-Identifier: MIT */
/*
 * A long history costs nothing to read: what a job's JSON, a build's page
 * and a start ask of the store is a few index lookups, however many builds
 * there are. Each test measures the work as SQLite's virtual machine steps
 * (sqlite3_stmt_status), which count rows visited and do not depend on the
 * machine's speed: a scan of the 20,000 builds below takes well over
 * 20,000 steps, an index lookup a few dozen.
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

#define HISTORY 20000
/* far below a scan of HISTORY rows, far above a few lookups */
#define FEW_STEPS 1000

struct fixture {
    char dir[64];
    char db[96];
    struct store *s;
};

#define S (((struct fixture *) *state)->s)

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void exec_sql(struct store *s, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
}

/*
 * `long`: #1 FAILURE, #2 UNSTABLE, #3 NOT_BUILT, #4 ABORTED, then SUCCESS
 * up to #HISTORY-2, and the two newest still running; builds 100 to 199
 * discarded. `failing`: #1 SUCCESS, then HISTORY-1 failures. Every build
 * left a queue item whose password value was forgotten, but one, and an
 * entry in the audit log.
 */
static void insert_history(struct store *s)
{
    char sql[512];

    exec_sql(s, "BEGIN");
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < %d) "
             "INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result) "
             "SELECT 'long', k, k, k * 1000, k, CASE k WHEN 1 THEN 'FAILURE' "
             "WHEN 2 THEN 'UNSTABLE' WHEN 3 THEN 'NOT_BUILT' WHEN 4 THEN 'ABORTED' "
             "ELSE CASE WHEN k > %d THEN NULL ELSE 'SUCCESS' END END FROM n "
             "WHERE k NOT BETWEEN 100 AND 199", HISTORY, HISTORY - 2);
    exec_sql(s, sql);
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < %d) "
             "INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result) "
             "SELECT 'failing', k, %d + k, k * 1000, 7 * k, "
             "CASE k WHEN 1 THEN 'SUCCESS' ELSE 'FAILURE' END FROM n", HISTORY, HISTORY);
    exec_sql(s, sql);
    exec_sql(s, "INSERT INTO queue(id, job, in_queue_since_ms, due_ms, state, left_ms, build_number, "
                "params) SELECT queue_id, job, start_ms, start_ms, 1, start_ms, number, "
                "'[[\"PW\",4,\"\"]]' FROM builds");
    exec_sql(s, "UPDATE queue SET params = '[[\"PW\",4,\"left-behind\"]]', secrets = 1 "
                "WHERE id = 5");
    /* each trigger's audit entry, a second apart */
    exec_sql(s, "INSERT INTO audit(time_ms, actor, via, action, job, detail) "
                "SELECT start_ms - 5, 'alice', 'apiToken', 'trigger', job, NULL FROM builds "
                "ORDER BY start_ms, job");
    /* and one item still waiting, whose value the build will need */
    snprintf(sql, sizeof sql,
             "INSERT INTO queue(id, job, in_queue_since_ms, due_ms, params, secrets) "
             "VALUES(%d, 'long', 1, 1, '[[\"PW\",4,\"still-needed\"]]', 1);", 3 * HISTORY);
    exec_sql(s, sql);
    exec_sql(s, "COMMIT");
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-history-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof f->db, "%s/steward.db", f->dir);
    if (store_open(f->db, &f->s) < 0)
        return -1;
    *state = f;
    insert_history(f->s);
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

/* Every step the connection's statements have taken so far. */
static uint64_t vm_steps(struct store *s)
{
    uint64_t n = 0;

    for (size_t i = 0; i < s->n_cache; i++)
        n += (uint64_t) sqlite3_stmt_status(s->cache[i].st, SQLITE_STMTSTATUS_VM_STEP, 0);
    return n;
}

static int64_t permalink(void **state, const char *job, const char *which)
{
    uint64_t before = vm_steps(S), used;
    int64_t n = 0;
    int r = store_build_permalink(S, job, which, &n);

    used = vm_steps(S) - before;
    if (used > FEW_STEPS)
        fail_msg("%s of %s took %llu steps", which, job, (unsigned long long) used);
    return r == 0 ? n : r;
}

static void store_build_permalink__finds_each_link_in_a_long_history_with_few_steps(void **state)
{
    assert_int_equal(permalink(state, "long", "lastBuild"), HISTORY);
    assert_int_equal(permalink(state, "long", "firstBuild"), 1);
    /* the two newest are running */
    assert_int_equal(permalink(state, "long", "lastCompletedBuild"), HISTORY - 2);
    assert_int_equal(permalink(state, "long", "lastSuccessfulBuild"), HISTORY - 2);
    assert_int_equal(permalink(state, "long", "lastStableBuild"), HISTORY - 2);
    /* the far ends: one failure, one unstable build, long ago */
    assert_int_equal(permalink(state, "long", "lastFailedBuild"), 1);
    assert_int_equal(permalink(state, "long", "lastUnstableBuild"), 2);
    assert_int_equal(permalink(state, "long", "lastUnsuccessfulBuild"), 4);

    assert_int_equal(permalink(state, "failing", "lastStableBuild"), 1);
    assert_int_equal(permalink(state, "failing", "lastSuccessfulBuild"), 1);
    assert_int_equal(permalink(state, "failing", "lastUnstableBuild"), -ENOENT);
    assert_int_equal(permalink(state, "failing", "lastUnsuccessfulBuild"), HISTORY);
    assert_int_equal(permalink(state, "failing", "lastCompletedBuild"), HISTORY);
    assert_int_equal(permalink(state, "nobody", "lastBuild"), -ENOENT);
    assert_int_equal(store_build_permalink(S, "long", "lastGoodBuild", &(int64_t){ 0 }), -EINVAL);
}

static void store_build_permalink__counts_an_unstable_build_as_successful_not_stable(void **state)
{
    exec_sql(S, "INSERT INTO builds(job, number, queue_id, start_ms, result) VALUES"
                "('u', 1, 1, 1, 'SUCCESS'), ('u', 2, 2, 2, 'UNSTABLE'), ('u', 3, 3, 3, 'ABORTED')");
    assert_int_equal(permalink(state, "u", "lastSuccessfulBuild"), 2);
    assert_int_equal(permalink(state, "u", "lastStableBuild"), 1);
    assert_int_equal(permalink(state, "u", "lastUnsuccessfulBuild"), 3);
    assert_int_equal(permalink(state, "u", "lastFailedBuild"), -ENOENT);
}

static void store_build_estimated_duration__reads_the_last_successes_with_few_steps(void **state)
{
    uint64_t before = vm_steps(S);

    /* the newest 3 successes of long are #19996..#19998 */
    assert_int_equal(store_build_estimated_duration(S, "long"), 19997);
    /* failing succeeded once, 20,000 builds ago */
    assert_int_equal(store_build_estimated_duration(S, "failing"), 7);
    assert_int_equal(store_build_estimated_duration(S, "nobody"), -1);
    assert_in_range(vm_steps(S) - before, 0, 3 * FEW_STEPS);
}

static void store_build_estimated_duration__takes_unstable_builds_too(void **state)
{
    exec_sql(S, "INSERT INTO builds(job, number, queue_id, start_ms, duration_ms, result) VALUES"
                "('u', 1, 1, 1, 100, 'SUCCESS'), ('u', 2, 2, 2, 10, 'UNSTABLE'),"
                "('u', 3, 3, 3, 20, 'SUCCESS'), ('u', 4, 4, 4, 5, 'FAILURE'),"
                "('u', 5, 5, 5, 30, 'UNSTABLE')");
    assert_int_equal(store_build_estimated_duration(S, "u"), 20);
}

static void store_build_neighbours__steps_over_discarded_builds_with_few_steps(void **state)
{
    uint64_t before = vm_steps(S);
    int64_t prev = -1, next = -1;

    assert_int_equal(store_build_neighbours(S, "long", 5000, &prev, &next), 0);
    assert_int_equal(prev, 4999);
    assert_int_equal(next, 5001);
    /* 100..199 were discarded */
    assert_int_equal(store_build_neighbours(S, "long", 200, &prev, &next), 0);
    assert_int_equal(prev, 99);
    assert_int_equal(next, 201);
    assert_int_equal(store_build_neighbours(S, "long", 150, &prev, &next), 0);
    assert_int_equal(prev, 99);
    assert_int_equal(next, 200);
    /* the ends */
    assert_int_equal(store_build_neighbours(S, "long", 1, &prev, &next), 0);
    assert_int_equal(prev, 0);
    assert_int_equal(next, 2);
    assert_int_equal(store_build_neighbours(S, "long", HISTORY, &prev, &next), 0);
    assert_int_equal(prev, HISTORY - 1);
    assert_int_equal(next, 0);
    assert_int_equal(store_build_neighbours(S, "nobody", 3, &prev, &next), 0);
    assert_int_equal(prev, 0);
    assert_int_equal(next, 0);
    assert_in_range(vm_steps(S) - before, 0, 6 * FEW_STEPS);
}

static void store_build_list__reads_only_the_newest_page(void **state)
{
    struct build_row *rows = NULL, b = { 0 };
    uint64_t before = vm_steps(S);
    size_t n = 0;

    assert_int_equal(store_build_list(S, "long", 0, 100, &rows, &n), 0);
    assert_int_equal(n, 100);
    assert_int_equal(rows[0].number, HISTORY);
    assert_null(rows[0].result);
    assert_int_equal(rows[99].number, HISTORY - 99);
    build_rows_free(rows, n);
    assert_int_equal(store_build_get(S, "long", 1, &b), 0);
    assert_string_equal(b.result, "FAILURE");
    build_row_release(&b);
    assert_in_range(vm_steps(S) - before, 0, 3 * FEW_STEPS);
}

static void store_build_list_running__reads_only_the_running_builds(void **state)
{
    struct build_row *rows = NULL;
    uint64_t before = vm_steps(S);
    size_t n = 0;

    assert_int_equal(store_build_list_running(S, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].number, HISTORY - 1);
    assert_int_equal(rows[1].number, HISTORY);
    build_rows_free(rows, n);
    assert_in_range(vm_steps(S) - before, 0, FEW_STEPS);
}

static void store_queue_list_waiting__reads_only_the_waiting_items(void **state)
{
    struct queue_row *rows = NULL;
    uint64_t before = vm_steps(S);
    size_t n = 0;

    assert_int_equal(store_queue_list_waiting(S, NULL, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, 3 * HISTORY);
    assert_string_equal(rows[0].params[0].value, "still-needed");
    queue_rows_free(rows, n);
    assert_int_equal(store_queue_list_waiting_brief(S, &rows, &n), 0);
    assert_int_equal(n, 1);
    queue_rows_free(rows, n);
    assert_int_equal(store_queue_list_waiting(S, "long", &rows, &n), 0);
    assert_int_equal(n, 1);
    queue_rows_free(rows, n);
    assert_in_range(vm_steps(S) - before, 0, 3 * FEW_STEPS);
}

static int64_t raw_int(struct store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void store_queue_forget_values__sweeps_only_the_values_left_behind(void **state)
{
    uint64_t before = vm_steps(S);

    assert_int_equal(store_queue_forget_values(S, 0, STORE_PARAM_SECRET), 0);
    assert_in_range(vm_steps(S) - before, 0, FEW_STEPS);
    assert_int_equal(raw_int(S, "SELECT count(*) FROM queue, json_each(queue.params) p "
                                "WHERE p.value->>2 = 'left-behind'"), 0);
    /* a waiting item keeps its value: its build has not had it yet */
    assert_int_equal(raw_int(S, "SELECT count(*) FROM queue, json_each(queue.params) p "
                                "WHERE p.value->>2 = 'still-needed'"), 1);
    assert_int_equal(raw_int(S, "SELECT count(*) FROM queue, json_each(queue.params) p "
                                "WHERE p.value->>2 <> ''"), 1);
    assert_int_equal(raw_int(S, "SELECT count(*) FROM queue WHERE secrets <> 0"), 1);
}

static void store_audit_prune__at_the_start_reads_only_what_it_drops(void **state)
{
    uint64_t before = vm_steps(S);

    /* nothing old enough: one entry read */
    assert_int_equal(store_audit_prune(S, 0, true), 0);
    assert_in_range(vm_steps(S) - before, 0, FEW_STEPS / 10);
    /* the 2 x 50 entries of the first 50 seconds */
    before = vm_steps(S);
    assert_int_equal(store_audit_prune(S, 50 * 1000, true), 100);
    assert_in_range(vm_steps(S) - before, 0, 2 * FEW_STEPS);
}

/* store_build_discardable() of `job`, failing when it took more than `steps`; the numbers in v. */
static size_t discardable(void **state, const char *job, int64_t keep, int64_t before_ms,
                          size_t max, uint64_t steps, int64_t **v)
{
    uint64_t before = vm_steps(S), used;
    size_t n = 0;

    assert_int_equal(store_build_discardable(S, job, false, keep, before_ms, max, v, &n), 0);
    used = vm_steps(S) - before;
    if (used > steps)
        fail_msg("discardable of %s took %llu steps", job, (unsigned long long) used);
    return n;
}

static void store_build_discardable__by_age_reads_only_what_goes(void **state)
{
    int64_t *v = NULL;

    /* builds 1 to 50 started before 50.001 s */
    assert_int_equal(discardable(state, "long", -1, 50001, 1000, FEW_STEPS, &v), 50);
    assert_int_equal(v[0], 1);
    assert_int_equal(v[49], 50);
    free(v);
    /* nothing old enough: one build read */
    assert_int_equal(discardable(state, "long", -1, 500, 1000, FEW_STEPS / 10, &v), 0);
    free(v);
}

static void store_build_discardable__by_count_reads_what_goes_and_keeps_the_last_success(void **state)
{
    int64_t *v = NULL;

    /*
     * keep 10 of `failing`: #1, its only success, stays; the next 100 go
     * first, about a dozen steps each (the walk reads each one's number,
     * result, start and keep-forever flag)
     */
    assert_int_equal(discardable(state, "failing", 10, INT64_MIN, 100, FEW_STEPS * 6 / 5, &v), 100);
    assert_int_equal(v[0], 2);
    assert_int_equal(v[99], 101);
    free(v);
    /* all but the last 10 go, in batches */
    assert_int_equal(discardable(state, "failing", 10, INT64_MIN, HISTORY, 40 * HISTORY, &v),
                     HISTORY - 11);
    assert_int_equal(v[HISTORY - 12], HISTORY - 10);
    free(v);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(store_build_permalink__finds_each_link_in_a_long_history_with_few_steps),
        T(store_build_permalink__counts_an_unstable_build_as_successful_not_stable),
        T(store_build_estimated_duration__reads_the_last_successes_with_few_steps),
        T(store_build_estimated_duration__takes_unstable_builds_too),
        T(store_build_neighbours__steps_over_discarded_builds_with_few_steps),
        T(store_build_list__reads_only_the_newest_page),
        T(store_build_list_running__reads_only_the_running_builds),
        T(store_queue_list_waiting__reads_only_the_waiting_items),
        T(store_queue_forget_values__sweeps_only_the_values_left_behind),
        T(store_audit_prune__at_the_start_reads_only_what_it_drops),
        T(store_build_discardable__by_age_reads_only_what_goes),
        T(store_build_discardable__by_count_reads_what_goes_and_keeps_the_last_success),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
