/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The JUnit publisher (hudson.tasks.junit.JUnitResultArchiver): reading
 * the JUnit XML reports a build left in its workspace. The formats read
 * are those of pytest --junitxml, Maven Surefire, go-junit-report, ctest
 * --output-junit and jest-junit: <testsuites> or <testsuite> at the root,
 * suites nested at any depth, <testcase> with <failure>, <error>,
 * <skipped>, <system-out> and <system-err>.
 *
 * The workspace is the build's to write, so everything in it is hostile:
 * files are found without following symbolic links (archive_find()), each
 * one is bounded in size, the documents are parsed with config.xml's
 * guards (no DOCTYPE, so no entity of any kind; a bounded depth), and
 * every count and text length is bounded below.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define JUNIT_MAX_FILE_BYTES (32 * 1024 * 1024)
#define JUNIT_MAX_FILES 1000
#define JUNIT_MAX_CASES 100000
#define JUNIT_MAX_NAME 1024           /* suite, class and case names */
#define JUNIT_MAX_DETAILS 4096        /* a failure's message */
#define JUNIT_MAX_STACK (64 * 1024)   /* a failure's text */
#define JUNIT_MAX_STDIO (64 * 1024)   /* a case's output, without keepLongStdio */
#define JUNIT_MAX_LONG_STDIO (1024 * 1024) /* with it */

struct junit_result {
    struct test_case_row *cases;
    size_t n_cases, cap_cases;
    size_t n_files;
    /*
     * Files that matched but were last written before the build started
     * (less a 3 s margin, as Jenkins): a workspace outlives its builds, so
     * they are an earlier build's reports and are not read. The first
     * one's path and age, for the message when no file was new.
     */
    size_t n_old;
    char *old_path;
    int64_t old_age_ms;
    bool truncated;   /* JUNIT_MAX_CASES was reached: the rest were left out */
    /*
     * One build's budget (util/bounds.h): report bytes read, and bytes of
     * the cases kept (their texts and names). The report that would go
     * past BOUND_JUNIT_READ_BYTES and those after it are not read; the
     * case that would go past BOUND_JUNIT_KEPT_BYTES and those after it
     * are not kept, nor are the reports after it read. What was left out:
     */
    uint64_t read_bytes, kept_bytes;
    size_t files_left_out;   /* reports not read */
    char *first_left_out;    /* the first of them */
    size_t cases_left_out;   /* cases read but not kept */
    /*
     * Why a report could not be read ("reports/x.xml: not well-formed
     * XML: line 3: ..."), the first such; NULL when all were read.
     */
    char *error;
};

void junit_result_release(struct junit_result *res);

/*
 * Reads one JUnit XML document of `len` bytes (named `path` in messages)
 * and appends its cases to `res`. Returns 0; -EINVAL with res->error set
 * for a document that is not a JUnit report or not safe to read (then
 * none of its cases is kept); -ENOMEM.
 */
int junit_parse(const char *xml, size_t len, const char *path, bool keep_long_stdio,
                struct junit_result *res);

/*
 * Reads the reports of `workspace` matching the Ant patterns `globs` that
 * were written since `since_ms` (wall clock, ms; the build's start), less
 * a margin. A report that cannot be read is left out and the others are
 * read (res->error says why, for the first one); past JUNIT_MAX_FILES the
 * walk stops (res->error says so). Returns 0, -ECANCELED when `*cancel`
 * became true, -errno.
 */
#define JUNIT_OLD_MARGIN_MS 3000
int junit_collect(const char *workspace, const char *globs, bool keep_long_stdio, int64_t since_ms,
                  const bool *cancel, struct junit_result *res);

/*
 * Stores the cases read into the database at `db_path`, through a
 * connection of its own, for the build `number` of `job`: in transactions
 * of JUNIT_CASES_PER_COMMIT cases, so that the engine's own writes never
 * wait long behind a big report, then the summary, which makes them
 * visible, with the publisher's healthScaleFactor. Sets each case's status and failed_since (store_tests_add())
 * and *ret_sum. Returns 0, -ECANCELED when `*cancel` became true, -errno;
 * on failure the cases that went in are deleted again.
 */
#define JUNIT_CASES_PER_COMMIT 2000
int junit_store(const char *db_path, const char *job, int64_t number, double health_scale,
                const bool *cancel, struct junit_result *res, struct test_summary *ret_sum);
