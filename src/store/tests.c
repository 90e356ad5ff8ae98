/* SPDX-License-Identifier: MIT */
/*
 * Test results: what the JUnit publisher read of each build's reports.
 * A build's summary is one row of test_results (the trend reads those);
 * its cases are rows of test_cases. "Failing since" is decided when the
 * cases go in, from each case's previous row (test_cases_history), so
 * that no read ever walks the history.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "util/macro.h"
#include "util/strutil.h"

void
test_case_row_release(struct test_case_row *c)
{
    free(c->suite);
    free(c->class_name);
    free(c->name);
    free(c->status);
    free(c->error_details);
    free(c->error_stack);
    free(c->skipped_message);
    free(c->stdout_text);
    free(c->stderr_text);
    *c = (struct test_case_row){ 0 };
}

void
test_case_rows_free(struct test_case_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        test_case_row_release(&rows[i]);
    free(rows);
}

void
trend_rows_free(struct trend_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i].result);
    free(rows);
}

/* The status and failed_since of the newest earlier row of the same case; 0 without one. */
static int
previous(struct store *s, const char *job, int64_t number, const struct test_case_row *c,
         bool *ret_found, bool *ret_failed, int64_t *ret_since)
{
    sqlite3_stmt *st = st_prep(s, "SELECT failed_since FROM test_cases INDEXED BY test_cases_history "
                                  "WHERE job = ? AND class_name = ? AND name = ? AND build < ? "
                                  "ORDER BY build DESC LIMIT 1");
    int rc;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    st_bind_text(st, 2, c->class_name);
    st_bind_text(st, 3, c->name);
    sqlite3_bind_int64(st, 4, number);
    rc = sqlite3_step(st);
    *ret_found = rc == SQLITE_ROW;
    *ret_since = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    *ret_failed = *ret_since > 0;
    st_release(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : st_err(rc);
}

static int
set_status(struct test_case_row *c, const char *status)
{
    char *t = strdup(status);

    if (!t)
        return -ENOMEM;
    free(c->status);
    c->status = t;
    return 0;
}

int
store_tests_add(struct store *s, const char *job, int64_t number, size_t first_pos,
                struct test_case_row *cases, size_t n, struct test_summary *sum)
{
    sqlite3_stmt *st;
    int r = 0;

    for (size_t i = 0; i < n; i++) {
        struct test_case_row *c = &cases[i];
        bool found, was_failing, failing = streq(c->status, "FAILED");
        int64_t since;

        r = previous(s, job, number, c, &found, &was_failing, &since);
        if (r < 0)
            return r;
        c->failed_since = failing ? (was_failing ? since : number) : 0;
        if (failing && found && !was_failing)
            r = set_status(c, "REGRESSION");
        else if (streq(c->status, "PASSED") && was_failing)
            r = set_status(c, "FIXED");
        if (r < 0)
            return r;
        sum->total++;
        sum->failed += failing;
        sum->skipped += streq(c->status, "SKIPPED");
        sum->duration += c->duration;

        st = st_prep(s, "INSERT INTO test_cases(job, build, pos, suite, class_name, name, status, "
                        "duration, failed_since, error_details, error_stack, skipped_message, "
                        "stdout, stderr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!st)
            return -EIO;
        st_bind_text(st, 1, job);
        sqlite3_bind_int64(st, 2, number);
        sqlite3_bind_int64(st, 3, (int64_t) (first_pos + i));
        st_bind_text(st, 4, c->suite ? c->suite : "");
        st_bind_text(st, 5, c->class_name ? c->class_name : "");
        st_bind_text(st, 6, c->name ? c->name : "");
        st_bind_text(st, 7, c->status);
        sqlite3_bind_double(st, 8, c->duration);
        sqlite3_bind_int64(st, 9, c->failed_since);
        st_bind_text(st, 10, c->error_details);
        st_bind_text(st, 11, c->error_stack);
        st_bind_text(st, 12, c->skipped_message);
        st_bind_text(st, 13, c->stdout_text);
        st_bind_text(st, 14, c->stderr_text);
        r = st_exec_done(st);
        if (r < 0)
            return r;
    }
    return 0;
}

int
store_tests_finish(struct store *s, const char *job, int64_t number, const struct test_summary *sum)
{
    sqlite3_stmt *st = st_prep(s, "INSERT OR REPLACE INTO test_results(job, build, total, failed, "
                                  "skipped, duration, health_scale) VALUES (?, ?, ?, ?, ?, ?, ?)");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, number);
    sqlite3_bind_int64(st, 3, sum->total);
    sqlite3_bind_int64(st, 4, sum->failed);
    sqlite3_bind_int64(st, 5, sum->skipped);
    sqlite3_bind_double(st, 6, sum->duration);
    sqlite3_bind_double(st, 7, sum->health_scale);
    return st_exec_done(st);
}

int
store_tests_forget_partial(struct store *s, const char *job, int64_t number)
{
    sqlite3_stmt *st = st_prep(s, "DELETE FROM test_cases WHERE job = ?1 AND build = ?2 AND NOT "
                                  "EXISTS (SELECT 1 FROM test_results WHERE job = ?1 AND build = ?2)");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, number);
    return st_exec_done(st);
}

int
store_tests_put(struct store *s, const char *job, int64_t number, struct test_case_row *cases,
                size_t n, struct test_summary *ret_sum)
{
    struct test_summary sum = { .health_scale = 1.0 };
    int r;

    r = store_tests_add(s, job, number, 0, cases, n, &sum);
    if (r >= 0)
        r = store_tests_finish(s, job, number, &sum);
    if (r >= 0)
        *ret_sum = sum;
    return r;
}

int
store_tests_summary(struct store *s, const char *job, int64_t number, struct test_summary *ret)
{
    sqlite3_stmt *st = st_prep(s, "SELECT total, failed, skipped, duration, health_scale FROM "
                                  "test_results WHERE job = ? AND build = ?");
    int rc;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, number);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = (struct test_summary){ .total = sqlite3_column_int64(st, 0),
                                      .failed = sqlite3_column_int64(st, 1),
                                      .skipped = sqlite3_column_int64(st, 2),
                                      .duration = sqlite3_column_double(st, 3),
                                      .health_scale = sqlite3_column_double(st, 4) };
    st_release(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : st_err(rc);
}

#define CASE_COLUMNS                                                                           \
    "suite, class_name, name, status, duration, failed_since, error_details, error_stack, "   \
    "skipped_message, stdout, stderr"

/* A long text column while the budget lasts; NULL past it (and for SQL NULL). */
static char *
budget_text(sqlite3_stmt *st, int col, size_t *budget)
{
    size_t n;

    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    n = (size_t) sqlite3_column_bytes(st, col);
    if (n > *budget)
        return NULL;
    *budget -= n;
    return st_text(st, col);
}

int
store_tests_list(struct store *s, const char *job, int64_t number, bool failures_first,
                 int64_t limit, size_t text_budget, struct test_case_row **ret_rows,
                 size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, failures_first
                                      ? "SELECT " CASE_COLUMNS " FROM test_cases WHERE job = ?1 AND "
                                        "build = ?2 ORDER BY failed_since = 0, pos LIMIT ?3"
                                      : "SELECT " CASE_COLUMNS " FROM test_cases WHERE job = ?1 AND "
                                        "build = ?2 ORDER BY pos LIMIT ?3");
    struct test_case_row *v = NULL;
    size_t n = 0, cap = 0;
    int rc;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, number);
    sqlite3_bind_int64(st, 3, limit > 0 ? limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct test_case_row *c;

        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct test_case_row *nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                rc = SQLITE_NOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        c = &v[n++];
        *c = (struct test_case_row){
            .suite = st_text(st, 0), .class_name = st_text(st, 1), .name = st_text(st, 2),
            .status = st_text(st, 3), .duration = sqlite3_column_double(st, 4),
            .failed_since = sqlite3_column_int64(st, 5), .error_details = st_text(st, 6),
            .error_stack = budget_text(st, 7, &text_budget),
            .skipped_message = st_text(st, 8),
            .stdout_text = budget_text(st, 9, &text_budget),
            .stderr_text = budget_text(st, 10, &text_budget)
        };
        if (!c->suite || !c->class_name || !c->name || !c->status) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    st_release(st);
    if (rc != SQLITE_DONE) {
        test_case_rows_free(v, n);
        return rc == SQLITE_NOMEM ? -ENOMEM : st_err(rc);
    }
    *ret_rows = v;
    *ret_n = n;
    return 0;
}

/* budget_text() without a copy: the column's own text, valid until the next step */
static const char *
budget_peek(sqlite3_stmt *st, int col, size_t *budget)
{
    const char *t = (const char *) sqlite3_column_text(st, col);
    size_t n = (size_t) sqlite3_column_bytes(st, col);

    if (!t || n > *budget)
        return NULL;
    *budget -= n;
    return t;
}

int
store_tests_each(struct store *s, const char *job, int64_t number, size_t text_budget,
                 int (*head)(void *userdata, const struct test_summary *t),
                 int (*each)(void *userdata, const struct test_case_row *c), void *userdata)
{
    bool began = read_begin(s);
    struct test_summary sum;
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_DONE, r;

    /* the summary row is written last: the cases read after it are all there */
    r = store_tests_summary(s, job, number, &sum);
    r = r < 0 ? r : head(userdata, &sum);
    if (r != 0)
        goto out;
    st = st_prep(s, "SELECT " CASE_COLUMNS " FROM test_cases WHERE job = ?1 AND build = ?2 "
                    "ORDER BY pos");
    if (!st) {
        r = -EIO;
        goto out;
    }
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, number);
    while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* borrowed, never written to: the struct's fields are not const */
        struct test_case_row c = {
            .suite = (char *) sqlite3_column_text(st, 0),
            .class_name = (char *) sqlite3_column_text(st, 1),
            .name = (char *) sqlite3_column_text(st, 2),
            .status = (char *) sqlite3_column_text(st, 3),
            .duration = sqlite3_column_double(st, 4),
            .failed_since = sqlite3_column_int64(st, 5),
            .error_details = (char *) sqlite3_column_text(st, 6),
            .error_stack = (char *) budget_peek(st, 7, &text_budget),
            .skipped_message = (char *) sqlite3_column_text(st, 8),
            .stdout_text = (char *) budget_peek(st, 9, &text_budget),
            .stderr_text = (char *) budget_peek(st, 10, &text_budget),
        };

        r = c.suite && c.class_name && c.name && c.status ? each(userdata, &c) : -ENOMEM;
    }
    if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
out:
    read_end(s, began);
    return r < 0 ? r : 0;
}

int
store_tests_trend(struct store *s, const char *job, int64_t limit, struct trend_row **ret_rows,
                  size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT b.number, b.result, b.duration_ms, t.total, t.failed, "
                                  "t.skipped, t.duration FROM builds b LEFT JOIN test_results t "
                                  "ON t.job = b.job AND t.build = b.number WHERE b.job = ? AND "
                                  "b.result IS NOT NULL ORDER BY b.number DESC LIMIT ?");
    struct trend_row *v;
    size_t n = 0;
    int rc = SQLITE_DONE;

    if (limit <= 0 || limit > 1000)
        return -EINVAL;
    v = calloc((size_t) limit, sizeof *v);
    if (!v)
        return -ENOMEM;
    if (!st) {
        free(v);
        return -EIO;
    }
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, limit);
    while (n < (size_t) limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct trend_row *t = &v[n++];

        t->number = sqlite3_column_int64(st, 0);
        t->result = st_text(st, 1);
        t->duration_ms = sqlite3_column_int64(st, 2);
        t->has_tests = sqlite3_column_type(st, 3) != SQLITE_NULL;
        t->tests = (struct test_summary){ .total = sqlite3_column_int64(st, 3),
                                          .failed = sqlite3_column_int64(st, 4),
                                          .skipped = sqlite3_column_int64(st, 5),
                                          .duration = sqlite3_column_double(st, 6) };
        if (!t->result) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (n == (size_t) limit)
        rc = SQLITE_DONE;
    st_release(st);
    if (rc != SQLITE_DONE) {
        trend_rows_free(v, n);
        return rc == SQLITE_NOMEM ? -ENOMEM : st_err(rc);
    }
    *ret_rows = v;
    *ret_n = n;
    return 0;
}
