/* SPDX-License-Identifier: MIT */
/*
 * Test results and pictures: a build's test page (failures first, each
 * with the build it has been failing since and its output), the job's
 * trend chart (its last builds' durations coloured by result, and their
 * tests passed, failed and skipped) and the weather icon of a job's
 * health.
 *
 * The pictures are SVG written here, inline in the page: nothing is
 * fetched from elsewhere and no script draws them, so the pages keep
 * their strict Content-Security-Policy. Colours are SVG attributes (the
 * policy refuses inline style).
 */
#include <stdio.h>
#include <string.h>

#include "core/health.h"
#include "util/macro.h"
#include "util/strutil.h"
#include "web/page.h"

#define TREND_BUILDS 50
#define TEST_PAGE_ROWS 2000
/* what the test page shows of stack traces and output, in all */
#define TEST_PAGE_TEXT ((size_t) 8 * 1024 * 1024)

/* the colours of the status badges (assets.c), strong enough for a chart */
#define C_SUCCESS "#2e9d55"
#define C_UNSTABLE "#e0a800"
#define C_FAILURE "#d63b3b"
#define C_ABORTED "#8a939e"
#define C_SKIPPED "#a9b4c2"

static const char *
result_fill(const char *result)
{
    if (streq(result, "SUCCESS"))
        return C_SUCCESS;
    if (streq(result, "UNSTABLE"))
        return C_UNSTABLE;
    if (streq(result, "FAILURE"))
        return C_FAILURE;
    return C_ABORTED;
}

static void
attr_int(struct buf *b, const char *name_eq, long long v)
{
    html_raw(b, " ");
    html_raw(b, name_eq);
    html_raw(b, "\"");
    html_int(b, v);
    html_raw(b, "\"");
}

/* <rect> at (x, y) of w x h with a fill and a tooltip */
static void
rect(struct buf *b, long long x, long long y, long long w, long long h, const char *fill,
     const char *title)
{
    html_raw(b, "<rect");
    attr_int(b, "x=", x);
    attr_int(b, "y=", y);
    attr_int(b, "width=", w);
    attr_int(b, "height=", h);
    html_raw(b, " fill=\"");
    html_attr(b, fill);
    html_raw(b, "\"><title>");
    html_text(b, title);
    html_raw(b, "</title></rect>");
}

static void
label(struct buf *b, long long x, long long y, const char *anchor, const char *text)
{
    html_raw(b, "<text");
    attr_int(b, "x=", x);
    attr_int(b, "y=", y);
    html_raw(b, " font-size=\"11\" fill=\"#4a525d\" text-anchor=\"");
    html_attr(b, anchor);
    html_raw(b, "\">");
    html_text(b, text);
    html_raw(b, "</text>");
}

#define CH_W 640
#define CH_H 160
#define CH_LEFT 48
#define CH_TOP 10
#define CH_BOTTOM 22

static void
chart_open(struct buf *b, const char *id, const char *aria)
{
    html_raw(b, "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" id=\"");
    html_attr(b, id);
    html_raw(b, "\" viewBox=\"0 0 ");
    html_int(b, CH_W);
    html_raw(b, " ");
    html_int(b, CH_H);
    html_raw(b, "\" width=\"");
    html_int(b, CH_W);
    html_raw(b, "\" height=\"");
    html_int(b, CH_H);
    html_raw(b, "\" aria-label=\"");
    html_attr(b, aria);
    html_raw(b, "\"><rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>");
    /* the axes */
    html_raw(b, "<path fill=\"none\" stroke=\"#8a939e\" d=\"M");
    html_int(b, CH_LEFT);
    html_raw(b, " ");
    html_int(b, CH_TOP);
    html_raw(b, " V");
    html_int(b, CH_H - CH_BOTTOM);
    html_raw(b, " H");
    html_int(b, CH_W - 4);
    html_raw(b, "\"/>");
}

/* The builds' numbers under the first and the last bar. */
static void
x_labels(struct buf *b, const struct trend_row *rows, size_t n, long long slot)
{
    long long right = CH_LEFT + (long long) n * slot;

    /* the first one only when there is room for both */
    if (n > 1 && right - CH_LEFT > 80)
        label(b, CH_LEFT, CH_H - 6, "start", rfmt("#%lld", (long long) rows[n - 1].number));
    label(b, right, CH_H - 6, "end", rfmt("#%lld", (long long) rows[0].number));
}

static void
duration_text(char *out, size_t size, int64_t ms)
{
    if (ms < 1000)
        snprintf(out, size, "%lld ms", (long long) ms);
    else if (ms < 120000)
        snprintf(out, size, "%.1f s", (double) ms / 1000);
    else
        snprintf(out, size, "%lld min", (long long) (ms / 60000));
}

/* rows are newest first; the chart reads oldest to newest, left to right */
/* Opens an SVG link to a build's page (or one of its pages): a bar leads to what it shows. */
static void
bar_link(struct buf *b, struct web *w, const char *job, int64_t number, const char *suffix)
{
    html_raw(b, "<a href=\"");
    web_build_href(b, w, job, number, suffix);
    html_raw(b, "\">");
}

static void
duration_chart(struct buf *b, struct web *w, const char *job, const struct trend_row *rows,
               size_t n)
{
    long long plot_w = CH_W - CH_LEFT - 8, plot_h = CH_H - CH_TOP - CH_BOTTOM;
    long long slot = plot_w / TREND_BUILDS;
    int64_t max = 1;
    char d[32];

    for (size_t i = 0; i < n; i++)
        max = MAX(max, rows[i].duration_ms);
    chart_open(b, "trend-duration", "Build durations, coloured by result");
    for (size_t k = 0; k < n; k++) {
        const struct trend_row *r = &rows[n - 1 - k];
        long long h = MAX(1, (long long) ((double) r->duration_ms / (double) max * (double) plot_h));

        duration_text(d, sizeof d, r->duration_ms);
        bar_link(b, w, job, r->number, NULL);
        rect(b, CH_LEFT + (long long) k * slot + 1, CH_TOP + plot_h - h, slot - 2, h,
             result_fill(r->result), rfmt("#%lld %s, %s", (long long) r->number, r->result, d));
        html_raw(b, "</a>");
    }
    duration_text(d, sizeof d, max);
    label(b, CH_LEFT - 4, CH_TOP + 10, "end", d);
    label(b, CH_LEFT - 4, CH_H - CH_BOTTOM, "end", "0");
    x_labels(b, rows, n, slot);
    html_raw(b, "</svg>");
}

static void
tests_chart(struct buf *b, struct web *w, const char *job, const struct trend_row *rows, size_t n)
{
    long long plot_w = CH_W - CH_LEFT - 8, plot_h = CH_H - CH_TOP - CH_BOTTOM;
    long long slot = plot_w / TREND_BUILDS;
    int64_t max = 1;

    for (size_t i = 0; i < n; i++)
        max = MAX(max, rows[i].tests.total);
    chart_open(b, "trend-tests", "Tests passed, failed and skipped");
    for (size_t k = 0; k < n; k++) {
        const struct trend_row *r = &rows[n - 1 - k];
        const struct test_summary *t = &r->tests;
        int64_t passed = t->total - t->failed - t->skipped;
        long long x = CH_LEFT + (long long) k * slot + 1, y = CH_TOP + plot_h;
        const char *tip;

        if (!r->has_tests)
            continue;
        tip = rfmt("#%lld: %lld passed, %lld failed, %lld skipped", (long long) r->number,
                   (long long) passed, (long long) t->failed, (long long) t->skipped);
        bar_link(b, w, job, r->number, "testReport/");
        /* stacked from the bottom: passed, skipped, failed */
        const struct {
            int64_t count;
            const char *fill;
        } parts[] = { { passed, C_SUCCESS }, { t->skipped, C_SKIPPED }, { t->failed, C_FAILURE } };
        for (size_t p = 0; p < ELEMENTSOF(parts); p++) {
            long long h = (long long) ((double) parts[p].count / (double) max * (double) plot_h);

            if (parts[p].count > 0 && h < 2)
                h = 2;
            if (h <= 0)
                continue;
            y -= h;
            rect(b, x, y, slot - 2, h, parts[p].fill, tip);
        }
        html_raw(b, "</a>");
    }
    label(b, CH_LEFT - 4, CH_TOP + 10, "end", rfmt("%lld", (long long) max));
    label(b, CH_LEFT - 4, CH_H - CH_BOTTOM, "end", "0");
    x_labels(b, rows, n, slot);
    html_raw(b, "</svg>");
}

static void
legend(struct buf *b, bool tests)
{
    static const struct {
        const char *fill, *word;
    } dur[] = { { C_SUCCESS, "Success" }, { C_UNSTABLE, "Unstable" }, { C_FAILURE, "Failed" },
                { C_ABORTED, "Aborted" } },
      tst[] = { { C_SUCCESS, "Passed" }, { C_FAILURE, "Failed" }, { C_SKIPPED, "Skipped" } };
    size_t n = tests ? ELEMENTSOF(tst) : ELEMENTSOF(dur);

    html_raw(b, "<p class=\"hint\">");
    for (size_t i = 0; i < n; i++) {
        html_raw(b, "<svg width=\"10\" height=\"10\" aria-hidden=\"true\"><rect width=\"10\" "
                    "height=\"10\" fill=\"");
        html_attr(b, tests ? tst[i].fill : dur[i].fill);
        html_raw(b, "\"/></svg> ");
        html_text(b, tests ? tst[i].word : dur[i].word);
        html_raw(b, " &nbsp; ");
    }
    html_raw(b, "</p>");
}

/* The charts of a job's last TREND_BUILDS finished builds; nothing before the first. */
void
web_trend_charts(struct buf *b, struct web *w, const char *job)
{
    struct trend_row *rows = NULL;
    size_t n = 0;
    bool tests = false;

    if (store_tests_trend(w->req->db, job, TREND_BUILDS, &rows, &n) < 0 || n == 0) {
        html_raw(b, "<p class=\"muted\">No finished build yet.</p>");
        trend_rows_free(rows, n);
        return;
    }
    html_raw(b, "<h3>Build duration</h3><div class=\"tablewrap\">");
    duration_chart(b, w, job, rows, n);
    html_raw(b, "</div>");
    legend(b, false);
    for (size_t i = 0; i < n; i++)
        tests = tests || rows[i].has_tests;
    if (tests) {
        html_raw(b, "<h3>Test results</h3><div class=\"tablewrap\">");
        tests_chart(b, w, job, rows, n);
        html_raw(b, "</div>");
        legend(b, true);
    }
    trend_rows_free(rows, n);
}

/* ---- /job/NAME/buildTimeTrend ---- */

/* The builds of the chart as a table: what the bars say, in words. */
static void
trend_table(struct buf *b, struct web *w, const char *job)
{
    struct trend_row *rows = NULL;
    size_t n = 0;

    if (store_tests_trend(w->req->db, job, TREND_BUILDS, &rows, &n) < 0 || n == 0) {
        trend_rows_free(rows, n);
        return;
    }
    html_raw(b, "<section class=\"card\" id=\"trend-table\"><h2>Builds</h2><div class=\"tablewrap\">"
                "<table><thead><tr><th scope=\"col\">Build</th><th scope=\"col\">Status</th>"
                "<th scope=\"col\">Duration</th><th scope=\"col\">Tests</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const struct trend_row *r = &rows[i];

        html_raw(b, "<tr><td><a href=\"");
        web_build_href(b, w, job, r->number, NULL);
        html_raw(b, "\">#");
        html_int(b, r->number);
        html_raw(b, "</a></td><td>");
        web_status_badge(b, web_status_of(r->result));
        html_raw(b, "</td><td class=\"nowrap\">");
        web_duration(b, r->duration_ms);
        html_raw(b, "</td><td>");
        if (r->has_tests) {
            html_raw(b, "<a href=\"");
            web_build_href(b, w, job, r->number, "testReport/");
            html_raw(b, "\">");
            html_int(b, r->tests.total);
            html_raw(b, " tests, ");
            html_int(b, r->tests.failed);
            html_raw(b, " failed, ");
            html_int(b, r->tests.skipped);
            html_raw(b, " skipped</a>");
        } else
            html_raw(b, "<span class=\"muted\">&ndash;</span>");
        html_raw(b, "</td></tr>");
    }
    html_raw(b, "</tbody></table></div></section>");
    trend_rows_free(rows, n);
}

void
web_trend_page(struct web *w, const char *name)
{
    _cleanup_(job_unrefp) struct job *job = jobs_get(w->app->jobs, name);
    struct buf *b;

    if (!job) {
        web_not_found(w, rfmt("Job '%s'", name));
        return;
    }
    b = web_begin(w, rfmt("%s: trend", name), NULL);
    html_raw(b, "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"");
    html_attr(b, w->base);
    html_raw(b, "\">Dashboard</a> &rsaquo; <a href=\"");
    web_job_href(b, w, name, NULL);
    html_raw(b, "\">");
    html_text(b, name);
    html_raw(b, "</a> &rsaquo; Trend</nav><h1>Trend of ");
    html_text(b, name);
    html_raw(b, "</h1><section class=\"card\" id=\"trend\">");
    web_trend_charts(b, w, name);
    html_raw(b, "</section>");
    trend_table(b, w, name);
    web_end(w, 200);
}

/* ---- the weather ---- */

void
web_weather(struct buf *b, struct web *w, const char *job)
{
    struct health h[2];
    size_t n = 0;
    int s;

    if (health_of_job(w->req->db, job, h, &n) < 0 || n == 0)
        return;
    s = h[0].score;
    html_raw(b, "<svg class=\"weather\" xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" "
                "height=\"20\" viewBox=\"0 0 20 20\" role=\"img\" data-score=\"");
    html_int(b, s);
    html_raw(b, "\" aria-label=\"");
    for (size_t i = 0; i < n; i++) {
        html_attr(b, h[i].description);
        html_raw(b, i + 1 < n ? " " : "");
    }
    html_raw(b, "\"><title>");
    for (size_t i = 0; i < n; i++) {
        html_text(b, h[i].description);
        html_raw(b, i + 1 < n ? " " : "");
    }
    html_raw(b, "</title>");
    /* sun above 60; a cloud from 79 down; rain from 39 down; lightning from 19 down */
    if (s > 60)
        html_raw(b, "<circle cx=\"8\" cy=\"8\" r=\"6\" fill=\"#f5b400\"/>");
    if (s <= 79)
        html_raw(b, "<ellipse cx=\"11\" cy=\"11\" rx=\"8\" ry=\"5\" fill=\"#8a939e\"/>");
    if (s <= 39)
        html_raw(b, "<path d=\"M6 16 l-1 3 M10 16 l-1 3 M14 16 l-1 3\" stroke=\"#3b7bd6\" "
                    "stroke-width=\"1.5\"/>");
    if (s <= 19)
        html_raw(b, "<path d=\"M11 12 l-3 4 h3 l-2 4\" fill=\"none\" stroke=\"#f5b400\" "
                    "stroke-width=\"1.5\"/>");
    html_raw(b, "</svg>");
}

/* ---- /job/NAME/N/testReport/ ---- */

static void
case_title(struct buf *b, const struct test_case_row *c)
{
    html_raw(b, "<code>");
    html_text(b, c->class_name);
    html_raw(b, ".");
    html_text(b, c->name);
    html_raw(b, "</code>");
}

static void
pre_block(struct buf *b, const char *summary, const char *text, bool open)
{
    if (!text || !*text)
        return;
    html_raw(b, open ? "<details open><summary>" : "<details><summary>");
    html_text(b, summary);
    html_raw(b, "</summary><pre class=\"log\">");
    html_text(b, text);
    html_raw(b, "</pre></details>");
}

static void
failure_item(struct buf *b, struct web *w, const char *job, int64_t number,
             const struct test_case_row *c)
{
    html_raw(b, "<li class=\"test-failure\">");
    case_title(b, c);
    html_raw(b, " <span class=\"st st-fail\">");
    html_text(b, c->status);
    html_raw(b, "</span> <span class=\"hint\">failing since <a href=\"");
    web_build_href(b, w, job, c->failed_since, NULL);
    html_raw(b, "\">#");
    html_int(b, c->failed_since);
    html_raw(b, "</a> (");
    html_int(b, number - c->failed_since + 1);
    html_raw(b, number - c->failed_since + 1 == 1 ? " build)" : " builds)");
    html_raw(b, "</span>");
    if (c->error_details) {
        html_raw(b, "<p class=\"error-details\">");
        html_text(b, c->error_details);
        html_raw(b, "</p>");
    }
    pre_block(b, "Stack trace", c->error_stack, true);
    pre_block(b, "Standard output", c->stdout_text, true);
    pre_block(b, "Standard error", c->stderr_text, true);
    html_raw(b, "</li>");
}

void
web_test_report_page(struct web *w, const char *name, const char *ref)
{
    _cleanup_(job_unrefp) struct job *job = jobs_get(w->app->jobs, name);
    struct test_case_row *rows = NULL;
    struct test_summary t;
    size_t n = 0, shown_failures = 0;
    int64_t number;
    struct buf *b;
    char d[32];

    if (!job) {
        web_not_found(w, rfmt("Job '%s'", name));
        return;
    }
    if ((parse_int64(ref, 1, INT64_MAX, &number) < 0 &&
         store_build_permalink(w->req->db, name, ref, &number) < 0) ||
        store_tests_summary(w->req->db, name, number, &t) < 0) {
        web_error(w, 404, "Not found", rfmt("Build %s of job '%s' recorded no test results.", ref, name),
                  "A build records them with the JUnit publisher (Publish JUnit test result report).",
                  web_job_path(name, NULL), "Open the job");
        return;
    }
    if (store_tests_list(w->req->db, name, number, true, TEST_PAGE_ROWS, TEST_PAGE_TEXT, &rows,
                         &n) < 0) {
        web_error(w, 500, "Cannot read the test results", "The database could not be read.",
                  "Try again; the server's log may say more.", NULL, NULL);
        return;
    }
    b = web_begin(w, rfmt("%s #%lld: test results", name, (long long) number), NULL);
    html_raw(b, "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"");
    html_attr(b, w->base);
    html_raw(b, "\">Dashboard</a> &rsaquo; <a href=\"");
    web_job_href(b, w, name, NULL);
    html_raw(b, "\">");
    html_text(b, name);
    html_raw(b, "</a> &rsaquo; <a href=\"");
    web_build_href(b, w, name, number, NULL);
    html_raw(b, "\">#");
    html_int(b, number);
    html_raw(b, "</a> &rsaquo; Test results</nav><h1>Test results</h1><p id=\"test-summary\">");
    html_int(b, t.total);
    html_raw(b, t.total == 1 ? " test, " : " tests, ");
    html_int(b, t.failed);
    html_raw(b, t.failed == 1 ? " failure, " : " failures, ");
    html_int(b, t.skipped);
    html_raw(b, " skipped, took ");
    duration_text(d, sizeof d, (int64_t) (t.duration * 1000));
    html_text(b, d);
    html_raw(b, ".</p>");

    if (t.failed > 0) {
        html_raw(b, "<section class=\"card\" id=\"failures\"><h2>Failed tests</h2><ol>");
        for (size_t i = 0; i < n && rows[i].failed_since > 0; i++, shown_failures++)
            failure_item(b, w, name, number, &rows[i]);
        html_raw(b, "</ol></section>");
    }
    html_raw(b, "<section class=\"card\" id=\"all-tests\"><h2>All tests</h2><div class=\"tablewrap\">"
                "<table><thead><tr><th scope=\"col\">Test</th><th scope=\"col\">Suite</th>"
                "<th scope=\"col\">Status</th><th scope=\"col\">Duration</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const struct test_case_row *c = &rows[i];
        const char *cls = c->failed_since > 0 ? "st-fail" : streq(c->status, "SKIPPED") ? "st-none" : "st-ok";

        html_raw(b, "<tr><td>");
        case_title(b, c);
        html_raw(b, "</td><td>");
        html_text(b, c->suite);
        html_raw(b, "</td><td><span class=\"st ");
        html_raw(b, cls);
        html_raw(b, "\">");
        html_text(b, c->status);
        html_raw(b, "</span></td><td class=\"nowrap\">");
        duration_text(d, sizeof d, (int64_t) (c->duration * 1000));
        html_text(b, d);
        html_raw(b, "</td></tr>");
    }
    html_raw(b, "</tbody></table></div>");
    if ((int64_t) n < t.total) {
        html_raw(b, "<p class=\"hint\">The first ");
        html_int(b, (long long) n);
        html_raw(b, " tests are shown, failures first; testReport/api/json has them all.</p>");
    }
    html_raw(b, "</section>");
    (void) shown_failures;
    test_case_rows_free(rows, n);
    web_end(w, 200);
}
