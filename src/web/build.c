/* SPDX-License-Identifier: MIT */
/*
 * The build page: result, cause, parameters (passwords masked), duration,
 * a stop button, links to the neighbours and the raw log, and the console.
 *
 * The page itself never holds the log. Its script reads
 * logText/progressiveText by byte offset (at most 1 MiB an answer) and
 * appends each answer as a new block, so a 50 MB log streams in without
 * the page re-rendering what it already shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/git.h"
#include "core/home.h"
#include "util/bounds.h"
#include "util/strutil.h"
#include "web/page.h"

/* The revision a Git build checked out, and its changes since the branch's previous build. */
static void
git_card(struct buf *b, struct web *w, const char *job, int64_t number)
{
    _cleanup_free_ char *dir = home_build_dir(w->app->home, job, number);
    struct git_build g;

    if (!dir || git_build_load(dir, &g) < 0)
        return;
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-git\" id=\"git\"><h2 id=\"h-git\">"
                "Revision</h2><p><code>");
    html_text(b, g.sha);
    html_raw(b, "</code>");
    if (!streq(g.branch, "detached")) {
        html_raw(b, " (<code>");
        html_text(b, g.branch);
        html_raw(b, "</code>)");
    }
    for (size_t i = 0; i < g.n_remotes; i++) {
        html_raw(b, i ? ", " : " from ");
        html_text(b, g.remote_urls[i]);
    }
    html_raw(b, "</p><h3>Changes</h3>");
    if (!g.changelog)
        html_raw(b, "<p class=\"empty\">First build of this branch: no changes to show.</p>");
    else if (g.n_changes == 0)
        html_raw(b, "<p class=\"empty\">No changes.</p>");
    else {
        html_raw(b, "<ol class=\"changes\">");
        for (size_t i = 0; i < g.n_changes; i++) {
            const struct git_change *c = &g.changes[i];

            html_raw(b, "<li><strong>");
            html_text(b, c->msg);
            html_raw(b, "</strong> <span class=\"hint\">");
            html_text(b, c->author);
            html_raw(b, ", <code>");
            html_text(b, rfmt("%.12s", c->commit));
            html_raw(b, "</code></span>");
            if (c->n_paths) {
                html_raw(b, "<ul>");
                for (size_t k = 0; k < c->n_paths; k++) {
                    html_raw(b, "<li>");
                    html_text(b, c->paths[k].edit);
                    html_raw(b, " <code>");
                    html_text(b, c->paths[k].file);
                    html_raw(b, "</code></li>");
                }
                html_raw(b, "</ul>");
            }
            html_raw(b, "</li>");
        }
        html_raw(b, "</ol>");
    }
    html_raw(b, "</section>");
    git_build_release(&g);
}

static void
summary(struct buf *b, struct web *w, const char *job, const struct build_row *r)
{
    struct queue_row q = {};
    bool have_q = store_queue_get(w->req->db, r->queue_id, &q) == 0;
    int64_t elapsed = w->now - r->start_ms;

    html_raw(b, "<dl class=\"facts\"><dt>Result</dt><dd>");
    web_status_badge(b, web_status_of(r->result));
    html_raw(b, "</dd><dt>Started</dt><dd>");
    web_time_ago(b, w->now, r->start_ms);
    html_raw(b, "</dd><dt>Duration</dt><dd>");
    if (r->result)
        web_duration(b, r->duration_ms);
    else {
        html_raw(b, "<span data-elapsed=\"");
        html_int(b, elapsed);
        html_raw(b, "\">");
        web_duration(b, elapsed);
        html_raw(b, "</span> so far");
        {
            int64_t est = store_build_estimated_duration(w->req->db, job);
            if (est > 0) {
                html_raw(b, " <span class=\"muted\">(usually ");
                web_duration(b, est);
                html_raw(b, ")</span>");
            }
        }
    }
    html_raw(b, "</dd><dt>Started by</dt><dd>");
    if (have_q && q.n_causes)
        web_causes(b, q.causes, q.n_causes);
    else
        html_raw(b, "<span class=\"muted\">unknown</span>");
    html_raw(b, "</dd>");
    for (size_t i = 0; have_q && i < q.n_causes; i++)
        if (q.causes[i].kind == CAUSE_UPSTREAM && q.causes[i].addr) {
            int64_t n = q.causes[i].note ? strtoll(q.causes[i].note, NULL, 10) : 0;

            html_raw(b, "<dt>Upstream</dt><dd><a class=\"upstream\" href=\"");
            web_build_href(b, w, q.causes[i].addr, n, NULL);
            html_raw(b, "\">");
            html_text(b, q.causes[i].addr);
            html_raw(b, " #");
            html_int(b, n);
            html_raw(b, "</a></dd>");
        }
    if (have_q && q.n_params) {
        html_raw(b, "<dt>Parameters</dt><dd>");
        web_param_values(b, q.params, q.n_params, false);
        html_raw(b, "</dd>");
    }
    html_raw(b, "<dt>Built on</dt><dd id=\"built-on\">");
    if (r->built_on) {
        html_raw(b, "<a href=\"");
        html_attr(b, w->base);
        html_raw(b, "computer/");
        html_url_arg(b, r->built_on);
        html_raw(b, "/\">");
        html_text(b, r->built_on);
        html_raw(b, "</a>");
    } else
        html_raw(b, "the built-in node");
    html_raw(b, ", executor #");
    html_int(b, r->executor + 1);
    html_raw(b, "</dd>");
    if (r->abort_reason) {
        html_raw(b, "<dt>Why aborted</dt><dd>");
        html_text(b, r->abort_reason);
        html_raw(b, "</dd>");
    }
    {
        struct test_summary t;
        if (r->result && store_tests_summary(w->req->db, job, r->number, &t) == 0) {
            html_raw(b, "<dt>Tests</dt><dd><a id=\"test-report-link\" href=\"");
            web_build_href(b, w, job, r->number, "testReport/");
            html_raw(b, "\">");
            html_int(b, t.total);
            html_raw(b, " tests, ");
            html_int(b, t.failed);
            html_raw(b, " failed, ");
            html_int(b, t.skipped);
            html_raw(b, " skipped</a></dd>");
        }
    }
    html_raw(b, "</dl>");
    if (!r->result && web_may(w, PERM_JOB_CANCEL, job)) {
        html_raw(b, "<form id=\"stop-form\" class=\"js-async actions\" method=\"post\" action=\"");
        web_build_href(b, w, job, r->number, "stop");
        html_raw(b, "\" data-done=\"Stopping the build&hellip;\">");
        web_crumb_field(b, w);
        html_raw(b, "<button class=\"btn danger\" type=\"submit\" id=\"stop-button\">&#9632; Stop "
                    "this build</button></form>");
    }
    queue_row_release(&q);
}

/* The builds just before and after: discarded builds leave gaps in the numbers. */
static void
neighbours(struct buf *b, struct web *w, const char *job, int64_t number)
{
    int64_t prev = 0, next = 0;

    (void) store_build_neighbours(w->req->db, job, number, &prev, &next);
    html_raw(b, "<nav class=\"actions\" aria-label=\"Builds\">");
    if (prev > 0) {
        html_raw(b, "<a class=\"btn small\" rel=\"prev\" href=\"");
        web_build_href(b, w, job, prev, NULL);
        html_raw(b, "\">&lsaquo; #");
        html_int(b, prev);
        html_raw(b, "</a>");
    }
    if (next > 0) {
        html_raw(b, "<a class=\"btn small\" rel=\"next\" href=\"");
        web_build_href(b, w, job, next, NULL);
        html_raw(b, "\">#");
        html_int(b, next);
        html_raw(b, " &rsaquo;</a>");
    }
    html_raw(b, "<a class=\"btn small\" href=\"");
    web_build_href(b, w, job, number, "consoleText");
    html_raw(b, "\">Raw log</a><a class=\"btn small\" href=\"");
    web_job_href(b, w, job, NULL);
    html_raw(b, "\">All builds</a></nav>");
}

/*
 * The build's description (text, never HTML) and, for those who may, a
 * form to change it and the display name (configSubmit, Run/Update) and
 * the keep-forever button (toggleLogKeep: Run/Update to keep, Run/Delete
 * to let it go).
 */
static void
about(struct buf *b, struct web *w, const struct job *job, const struct build_row *r)
{
    bool may_update = web_may(w, PERM_RUN_UPDATE, job->name);
    bool may_toggle = web_may(w, r->keep_log ? PERM_RUN_DELETE : PERM_RUN_UPDATE, job->name);

    if (r->description) {
        html_raw(b, "<p class=\"build-description\" id=\"description\">");
        html_text(b, r->description);
        html_raw(b, "</p>");
    }
    if (!may_update && !may_toggle)
        return;
    html_raw(b, "<div class=\"actions\">");
    if (may_toggle) {
        html_raw(b, "<form method=\"post\" id=\"keep-form\" action=\"");
        web_build_href(b, w, job->name, r->number, "toggleLogKeep");
        html_raw(b, "\">");
        web_crumb_field(b, w);
        html_raw(b, r->keep_log ? "<button class=\"btn small\" type=\"submit\">Don&rsquo;t keep "
                                  "this build forever</button>"
                                : "<button class=\"btn small\" type=\"submit\">Keep this build "
                                  "forever</button>");
        html_raw(b, "</form>");
    }
    html_raw(b, "</div>");
    if (!may_update)
        return;
    html_raw(b, "<details id=\"edit-build\"><summary>Edit the display name and "
                "description</summary><form method=\"post\" action=\"");
    web_build_href(b, w, job->name, r->number, "configSubmit");
    html_raw(b, "\">");
    web_crumb_field(b, w);
    html_raw(b, "<label for=\"displayName\">Display name</label><input type=\"text\" "
                "id=\"displayName\" name=\"displayName\" maxlength=\"");
    html_int(b, BOUND_BUILD_DISPLAY_NAME_BYTES);
    html_raw(b, "\" placeholder=\"#");
    html_int(b, r->number);
    html_raw(b, "\" value=\"");
    if (r->display_name)
        html_attr(b, r->display_name);
    html_raw(b, "\"><p class=\"hint\">Empty: the number, #");
    html_int(b, r->number);
    html_raw(b, ".</p><label for=\"description-text\">Description</label><textarea id=\"description-text\" "
                "name=\"description\" maxlength=\"");
    html_int(b, BOUND_BUILD_DESCRIPTION_BYTES);
    html_raw(b, "\">");
    if (r->description)
        html_text(b, r->description);
    html_raw(b, "</textarea><p class=\"hint\">Shown as plain text.</p><div class=\"actions\">"
                "<button class=\"btn primary\" type=\"submit\">Save</button></div></form>"
                "</details>");
}

/* "#N", or the display name given to the build. */
static void
display_name(struct buf *b, const struct build_row *r)
{
    if (r->display_name)
        html_text(b, r->display_name);
    else {
        html_raw(b, "#");
        html_int(b, r->number);
    }
}

void
web_build_page(struct web *w, const char *name, const char *ref)
{
    _cleanup_(job_unrefp) struct job *job = NULL;
    const char *part = req_param(w->req, "part");
    struct build_row r = {};
    int64_t number;
    struct buf *b;

    job = jobs_get(w->app->jobs, name);
    if (!job) {
        web_not_found(w, rfmt("Job '%s'", name));
        return;
    }
    if ((parse_int64(ref, 1, INT64_MAX, &number) < 0 &&
         store_build_permalink(w->req->db, name, ref, &number) < 0) ||
        store_build_get(w->req->db, name, number, &r) < 0) {
        web_error(w, 404, "Not found", rfmt("Job '%s' has no build %s.", name, ref),
                  "The job's page lists its builds.", web_job_path(name, NULL), "Open the job");
        return;
    }
    if (part && streq(part, "summary")) {
        buf_clear(&w->resp->body);
        summary(&w->resp->body, w, name, &r);
        web_fragment(w);
        build_row_release(&r);
        return;
    }

    b = web_begin(w, r.display_name ? rfmt("%s %s", name, r.display_name)
                                    : rfmt("%s #%lld", name, (long long) number), NULL);
    html_raw(b, "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"");
    html_attr(b, w->base);
    html_raw(b, "\">Dashboard</a> &rsaquo; <a href=\"");
    web_job_href(b, w, name, NULL);
    html_raw(b, "\">");
    html_text(b, name);
    html_raw(b, "</a> &rsaquo; ");
    display_name(b, &r);
    html_raw(b, "</nav><h1>");
    html_text(b, name);
    html_raw(b, " ");
    display_name(b, &r);
    if (r.keep_log)
        html_raw(b, "<span class=\"kept\" title=\"Discarding old builds passes it by\">Kept "
                    "forever</span>");
    html_raw(b, "</h1>");
    about(b, w, job, &r);
    neighbours(b, w, name, number);
    html_raw(b, "<section class=\"card\" aria-label=\"Summary\" id=\"summary\" data-manual "
                "data-live=\"");
    web_build_href(b, w, name, number, "console?part=summary");
    html_raw(b, "\">");
    summary(b, w, name, &r);
    html_raw(b, "</section>");
    if (job->cfg->git_urls)
        git_card(b, w, name, number);
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-console\">"
                "<div class=\"console-bar\"><h2 id=\"h-console\">Console output</h2>"
                "<span id=\"log-state\" class=\"hint\" role=\"status\"></span>"
                "<button class=\"btn small\" type=\"button\" id=\"follow\" aria-pressed=\"false\">"
                "Follow the log</button></div><div id=\"log\" class=\"console\" tabindex=\"0\" "
                "role=\"region\" aria-label=\"Console output\" data-url=\"");
    web_build_href(b, w, name, number, "logText/progressiveText");
    html_raw(b, r.result ? "\" data-running=\"0\">" : "\" data-running=\"1\">");
    html_raw(b, "<span class=\"wait\">Loading the log&hellip; (without JavaScript, read the <a "
                "href=\"");
    web_build_href(b, w, name, number, "consoleText");
    html_raw(b, "\">raw log</a>)</span></div></section>");
    web_end(w, 200);
    build_row_release(&r);
}
