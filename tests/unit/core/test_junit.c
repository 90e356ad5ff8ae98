/* SPDX-License-Identifier: MIT */
/*
 * The JUnit publisher: reading reports (core/junit.c) and keeping their
 * cases (store/tests.c): statuses, "failing since", and the rows going
 * with their build.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/junit.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/macro.h"
#include "util/strutil.h"

static int
parse(const char *xml, struct junit_result *res)
{
    return junit_parse(xml, strlen(xml), "r.xml", false, res);
}

static void
junit_parse__reads_suites_cases_and_their_outcomes(void **state)
{
    struct junit_result res = { 0 };

    (void) state;
    assert_int_equal(parse("<testsuites><testsuite name=\"s\">"
                           "<testcase classname=\"c\" name=\"ok\" time=\"1,234.5\"/>"
                           "<testcase classname=\"c\" name=\"bad\"><failure message=\"m\">st"
                           "</failure><system-out>o</system-out><system-err>e</system-err></testcase>"
                           "<testcase name=\"noclass\"><error message=\"x\"/></testcase>"
                           "<testsuite name=\"inner\"><testcase classname=\"d\" name=\"sk\">"
                           "<skipped message=\"why\"/></testcase></testsuite>"
                           "</testsuite></testsuites>", &res), 0);
    assert_int_equal(res.n_cases, 4);
    assert_string_equal(res.cases[0].status, "PASSED");
    assert_true(res.cases[0].duration > 1234.4 && res.cases[0].duration < 1234.6);
    assert_string_equal(res.cases[1].status, "FAILED");
    assert_string_equal(res.cases[1].error_details, "m");
    assert_string_equal(res.cases[1].error_stack, "st");
    assert_string_equal(res.cases[1].stdout_text, "o");
    assert_string_equal(res.cases[1].stderr_text, "e");
    /* without a classname, the suite's name (as Jenkins) */
    assert_string_equal(res.cases[2].class_name, "s");
    assert_string_equal(res.cases[2].status, "FAILED");
    assert_string_equal(res.cases[3].suite, "inner");
    assert_string_equal(res.cases[3].status, "SKIPPED");
    assert_string_equal(res.cases[3].skipped_message, "why");
    junit_result_release(&res);
}

static void
junit_parse__refuses_doctypes_and_keeps_nothing_of_a_bad_report(void **state)
{
    struct junit_result res = { 0 };

    (void) state;
    assert_int_equal(parse("<testsuite><testcase name=\"kept\"/></testsuite>", &res), 0);
    assert_int_equal(parse("<!DOCTYPE t [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                           "<testsuite><testcase name=\"&x;\"/></testsuite>", &res), -EINVAL);
    assert_non_null(strstr(res.error, "must not contain a DOCTYPE"));
    assert_int_equal(res.n_cases, 1);
    junit_result_release(&res);

    assert_int_equal(parse("<testsuite><testcase name=\"a\"/><testcase", &res), -EINVAL);
    assert_non_null(strstr(res.error, "r.xml: the report is not well-formed XML"));
    assert_int_equal(res.n_cases, 0);
    junit_result_release(&res);

    assert_int_equal(parse("<html/>", &res), -EINVAL);
    assert_non_null(strstr(res.error, "the root element is <html>"));
    junit_result_release(&res);
}

static void
junit_parse__clips_long_texts(void **state)
{
    struct junit_result res = { 0 };
    size_t n = 3 * JUNIT_MAX_STDIO;
    char *xml = malloc(n + 200), *p = xml;

    (void) state;
    assert_non_null(xml);
    p += sprintf(p, "<testsuite><testcase name=\"t\"><system-out>");
    memset(p, 'x', n);
    p += n;
    sprintf(p, "</system-out></testcase></testsuite>");
    assert_int_equal(junit_parse(xml, strlen(xml), "r.xml", false, &res), 0);
    assert_true(strlen(res.cases[0].stdout_text) < JUNIT_MAX_STDIO + 64);
    assert_non_null(strstr(res.cases[0].stdout_text, "...[131072 bytes left out]"));
    junit_result_release(&res);
    /* keepLongStdio keeps more */
    assert_int_equal(junit_parse(xml, strlen(xml), "r.xml", true, &res), 0);
    assert_int_equal(strlen(res.cases[0].stdout_text), n);
    junit_result_release(&res);
    free(xml);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
junit_collect__reads_matching_files_and_follows_no_symlink(void **state)
{
    char dir[] = "/tmp/steward-test-junit-XXXXXX", sub[300], link[300];
    struct junit_result res = { 0 };

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/r", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(sub, "a.xml", "<testsuite><testcase name=\"a\"/></testsuite>");
    write_file(dir, "other.xml", "<testsuite><testcase name=\"no\"/></testsuite>");
    snprintf(link, sizeof link, "%s/r/passwd.xml", dir);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    snprintf(link, sizeof link, "%s/r/up", dir);
    assert_int_equal(symlink("..", link), 0);
    snprintf(link, sizeof link, "%s/r/fifo.xml", dir);
    assert_int_equal(mkfifo(link, 0600), 0);

    assert_int_equal(junit_collect(dir, "r/**/*.xml", false, 0, NULL, &res), 0);
    assert_null(res.error);
    assert_int_equal(res.n_files, 1);
    assert_int_equal(res.n_cases, 1);
    assert_string_equal(res.cases[0].name, "a");
    junit_result_release(&res);
    (void) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- store/tests.c ---- */

struct fixture {
    char dir[64];
    char db[96];
    struct store *s;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-tests-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof f->db, "%s/steward.db", f->dir);
    *state = f;
    return store_open(f->db, &f->s) < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->s);
    (void) nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

#define S (((struct fixture *) *state)->s)

/* A finished build of `job` whose one case "c.t" ended with `status`. */
static int64_t
build_with(void **state, const char *job, const char *status)
{
    struct junit_result res = { 0 };
    struct test_summary sum;
    char xml[200];
    int64_t n;

    snprintf(xml, sizeof xml, "<testsuite><testcase classname=\"c\" name=\"t\">%s</testcase>"
                              "</testsuite>", streq(status, "FAILED") ? "<failure/>" : "");
    assert_int_equal(parse(xml, &res), 0);
    assert_int_equal(store_build_start(S, job, 1, 1000, 0, &n), 0);
    assert_int_equal(store_tests_put(S, job, n, res.cases, res.n_cases, &sum), 0);
    assert_int_equal(store_build_finish(S, job, n, sum.failed ? "UNSTABLE" : "SUCCESS", 10, NULL), 0);
    junit_result_release(&res);
    return n;
}

static struct test_case_row
case_of(void **state, const char *job, int64_t number)
{
    struct test_case_row *rows = NULL, c;
    size_t n = 0;

    assert_int_equal(store_tests_list(S, job, number, true, 0, 1 << 20, &rows, &n), 0);
    assert_int_equal(n, 1);
    c = rows[0];
    free(rows);
    return c;
}

static void
store_tests_put__says_since_when_a_case_fails(void **state)
{
    static const struct {
        const char *parsed, *status;
        int64_t since;
    } runs[] = {
        { "FAILED", "FAILED", 1 },     /* no earlier result */
        { "FAILED", "FAILED", 1 },
        { "PASSED", "FIXED", 0 },
        { "PASSED", "PASSED", 0 },
        { "FAILED", "REGRESSION", 5 },
        { "FAILED", "FAILED", 5 },
    };

    for (size_t i = 0; i < ELEMENTSOF(runs); i++) {
        int64_t n = build_with(state, "j", runs[i].parsed);
        struct test_case_row c = case_of(state, "j", n);

        assert_string_equal(c.status, runs[i].status);
        assert_int_equal(c.failed_since, runs[i].since);
        test_case_row_release(&c);
    }
}

static void
store_tests__go_with_their_build_and_follow_a_rename(void **state)
{
    struct test_summary t;
    struct trend_row *rows = NULL;
    size_t n = 0;

    build_with(state, "a", "FAILED");
    build_with(state, "a", "PASSED");
    assert_int_equal(store_build_delete(S, "a", 1), 0);
    assert_int_equal(store_tests_summary(S, "a", 1, &t), -ENOENT);
    assert_int_equal(store_tests_summary(S, "a", 2, &t), 0);
    assert_int_equal(t.total, 1);

    assert_int_equal(store_job_rename(S, "a", "b"), 0);
    assert_int_equal(store_tests_summary(S, "a", 2, &t), -ENOENT);
    assert_int_equal(store_tests_summary(S, "b", 2, &t), 0);
    assert_int_equal(store_tests_trend(S, "b", 50, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_true(rows[0].has_tests);
    trend_rows_free(rows, n);

    assert_int_equal(store_job_forget(S, "b"), 0);
    assert_int_equal(store_tests_summary(S, "b", 2, &t), -ENOENT);
}

static void
sql(void **state, const char *q)
{
    struct fixture *f = *state;
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int64_t
rows_of(void **state, const char *job, int64_t number)
{
    struct fixture *f = *state;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n;

    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM test_cases WHERE job = ? AND build = ?",
                                        -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, number);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Results whose storing failed half way leave no rows behind. */
static void
junit_store__deletes_what_went_in_when_it_fails(void **state)
{
    struct fixture *f = *state;
    struct junit_result res = { 0 };
    struct test_summary sum = { 0 };
    struct buf xml = BUF_INIT(1 << 20);
    int64_t n, done;

    /* a finished build whose results stay */
    done = build_with(state, "j", "PASSED");
    assert_int_equal(buf_puts(&xml, "<testsuite name=\"s\">"), 0);
    for (int i = 0; i < JUNIT_CASES_PER_COMMIT + 10; i++)
        assert_int_equal(buf_printf(&xml, "<testcase classname=\"c\" name=\"t%d\"/>", i), 0);
    assert_int_equal(buf_puts(&xml, "</testsuite>"), 0);
    assert_int_equal(junit_parse(xml.ptr, xml.len, "r.xml", false, &res), 0);
    assert_int_equal(res.n_cases, JUNIT_CASES_PER_COMMIT + 10);
    assert_int_equal(store_build_start(S, "j", 1, 1000, 0, &n), 0);
    /* the second transaction fails: the first one is committed by then */
    {
        char q[200];

        snprintf(q, sizeof q, "CREATE TRIGGER fail_second AFTER INSERT ON test_cases WHEN "
                              "new.pos = %d BEGIN SELECT RAISE(ABORT, 'full'); END;",
                 JUNIT_CASES_PER_COMMIT);
        sql(state, q);
    }
    assert_true(junit_store(f->db, "j", n, 1.0, NULL, &res, &sum) < 0);
    assert_int_equal(rows_of(state, "j", n), 0);
    assert_int_equal(store_tests_summary(S, "j", n, &sum), -ENOENT);
    assert_int_equal(rows_of(state, "j", done), 1);
    sql(state, "DROP TRIGGER fail_second;");

    /* what a crash left between two commits goes at the next start (engine recover()) */
    assert_int_equal(store_tests_add(S, "j", n, 0, res.cases, 5, &sum), 0);
    assert_int_equal(rows_of(state, "j", n), 5);
    assert_int_equal(store_tests_forget_partial(S, "j", n), 0);
    assert_int_equal(rows_of(state, "j", n), 0);
    assert_int_equal(store_tests_forget_partial(S, "j", done), 0);
    assert_int_equal(rows_of(state, "j", done), 1);
    junit_result_release(&res);
    buf_release(&xml);
}

struct walk {
    int heads, stop_at;
    size_t n;
    char names[4][8];
    bool stack[4];
    int64_t total;
};

static int
walk_head(void *userdata, const struct test_summary *t)
{
    struct walk *w = userdata;

    w->heads++;
    w->total = t->total;
    return w->stop_at < 0 ? 1 : 0;
}

static int
walk_case(void *userdata, const struct test_case_row *c)
{
    struct walk *w = userdata;

    assert_true(w->n < 4);
    snprintf(w->names[w->n], sizeof w->names[w->n], "%s", c->name);
    w->stack[w->n] = c->error_stack != NULL;
    return (int) ++w->n == w->stop_at ? -ECANCELED : 0;
}

static void
store_tests_each__gives_the_summary_then_the_cases_in_order_within_the_budget(void **state)
{
    struct junit_result res = { 0 };
    struct test_summary sum;
    struct walk w = { 0 };
    int64_t n;

    assert_int_equal(parse("<testsuite name=\"s\"><testcase classname=\"c\" name=\"a\">"
                           "<failure>1234</failure></testcase><testcase classname=\"c\" name=\"b\">"
                           "<failure>5678</failure></testcase><testcase classname=\"c\" name=\"c\">"
                           "<failure>9</failure></testcase></testsuite>", &res), 0);
    assert_int_equal(store_build_start(S, "j", 1, 1000, 0, &n), 0);
    assert_int_equal(store_tests_put(S, "j", n, res.cases, res.n_cases, &sum), 0);
    junit_result_release(&res);

    /* 5 bytes of budget: the first trace (4), not the second (4 more), the third (1) */
    assert_int_equal(store_tests_each(S, "j", n, 5, walk_head, walk_case, &w), 0);
    assert_int_equal(w.heads, 1);
    assert_int_equal(w.total, 3);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.names[0], "a");
    assert_string_equal(w.names[2], "c");
    assert_true(w.stack[0] && !w.stack[1] && w.stack[2]);

    /* head() > 0: no case is read; a callback's error stops the walk */
    w = (struct walk){ .stop_at = -1 };
    assert_int_equal(store_tests_each(S, "j", n, 5, walk_head, walk_case, &w), 0);
    assert_int_equal(w.heads, 1);
    assert_int_equal(w.n, 0);
    w = (struct walk){ .stop_at = 2 };
    assert_int_equal(store_tests_each(S, "j", n, 5, walk_head, walk_case, &w), -ECANCELED);
    assert_int_equal(w.n, 2);

    /* a build without results */
    w = (struct walk){ 0 };
    assert_int_equal(store_tests_each(S, "j", n + 1, 5, walk_head, walk_case, &w), -ENOENT);
    assert_int_equal(w.heads, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(junit_parse__reads_suites_cases_and_their_outcomes),
        cmocka_unit_test(junit_parse__refuses_doctypes_and_keeps_nothing_of_a_bad_report),
        cmocka_unit_test(junit_parse__clips_long_texts),
        cmocka_unit_test(junit_collect__reads_matching_files_and_follows_no_symlink),
        cmocka_unit_test_setup_teardown(store_tests_put__says_since_when_a_case_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(store_tests__go_with_their_build_and_follow_a_rename,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(junit_store__deletes_what_went_in_when_it_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            store_tests_each__gives_the_summary_then_the_cases_in_order_within_the_budget, setup,
            teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
