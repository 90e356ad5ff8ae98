/* SPDX-License-Identifier: MIT */
/*
 * The dashboard: every job with its status, the queue and the executors.
 * The three change while you look, so they form one live part that the
 * page's script fetches again (`?part=live`) and swaps in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strutil.h"
#include "web/page.h"

struct overview {
    struct build_row *running;   /* every running build, any job */
    size_t n_running;
    struct queue_row *waiting;   /* every waiting item */
    size_t n_waiting;
};

static void
overview_release(struct overview *o)
{
    build_rows_free(o->running, o->n_running);
    queue_rows_free(o->waiting, o->n_waiting);
}

/* The newest build matching a permalink, or false. */
static bool
permalink_row(struct store *db, const char *job, const char *which, struct build_row *ret)
{
    int64_t n;

    return store_build_permalink(db, job, which, &n) == 0 && store_build_get(db, job, n, ret) == 0;
}

static void
build_cell(struct buf *b, struct web *w, const char *job, const struct build_row *r, bool have)
{
    if (!have) {
        html_raw(b, "<span class=\"muted\">&ndash;</span>");
        return;
    }
    web_time_ago(b, w->now, r->start_ms);
    html_raw(b, " <a href=\"");
    web_build_href(b, w, job, r->number, NULL);
    html_raw(b, "\">#");
    html_int(b, r->number);
    html_raw(b, "</a>");
}

static void
job_row(struct buf *b, struct web *w, const struct job *job, const struct overview *o)
{
    struct store *db = w->req->db;
    struct build_row last = {}, ok = {}, bad = {}, done = {};
    bool have_last, have_ok, have_bad, have_done;
    const struct build_row *run = NULL;
    bool queued = false;

    for (size_t i = 0; i < o->n_running && !run; i++)
        if (streq(o->running[i].job, job->name))
            run = &o->running[i];
    for (size_t i = 0; i < o->n_waiting && !queued; i++)
        queued = streq(o->waiting[i].job, job->name);
    have_last = permalink_row(db, job->name, "lastBuild", &last);
    have_ok = permalink_row(db, job->name, "lastSuccessfulBuild", &ok);
    have_bad = permalink_row(db, job->name, "lastFailedBuild", &bad);
    if (have_last && last.result) {
        done = last;
        last = (struct build_row){};
        have_done = true;
    } else
        have_done = permalink_row(db, job->name, "lastCompletedBuild", &done);

    /* what happens now comes first; the last result stays visible beside it */
    html_raw(b, "<tr><td class=\"nowrap\">");
    if (run)
        web_status_badge(b, ST_RUNNING);
    else if (queued)
        web_status_badge(b, ST_QUEUED);
    if (have_done || (!run && !queued)) {
        if (run || queued)
            html_raw(b, " ");
        web_status_badge(b, have_done ? web_status_of(done.result) : ST_NONE);
    }
    if (job->cfg->disabled) {
        html_raw(b, " ");
        web_status_badge(b, ST_DISABLED);
    }
    html_raw(b, "</td><td class=\"weather-cell\">");
    web_weather(b, w, job->name);
    html_raw(b, "</td><td><a class=\"key\" href=\"");
    web_job_href(b, w, job->name, NULL);
    html_raw(b, "\">");
    html_text(b, job->name);
    html_raw(b, "</a>");
    if (run) {
        html_raw(b, "<div class=\"hint\">#");
        html_int(b, run->number);
        html_raw(b, " running for <span data-elapsed=\"");
        html_int(b, w->now - run->start_ms);
        html_raw(b, "\">");
        web_duration(b, w->now - run->start_ms);
        html_raw(b, "</span></div>");
    }
    html_raw(b, "</td><td class=\"opt\">");
    build_cell(b, w, job->name, &ok, have_ok);
    html_raw(b, "</td><td class=\"opt\">");
    build_cell(b, w, job->name, &bad, have_bad);
    html_raw(b, "</td><td class=\"nowrap\">");
    if (have_done)
        web_duration(b, done.duration_ms);
    else
        html_raw(b, "<span class=\"muted\">&ndash;</span>");
    html_raw(b, "</td><td class=\"nowrap\">");
    if (app_may(w->req, PERM_JOB_BUILD, job) && !job->cfg->disabled) {
        if (job->cfg->n_params) {
            html_raw(b, "<a class=\"btn small\" href=\"");
            web_job_href(b, w, job->name, "#build");
            html_raw(b, "\" aria-label=\"Build ");
            html_attr(b, job->name);
            html_raw(b, " with parameters\">Build&hellip;</a>");
        } else {
            html_raw(b, "<form class=\"inline js-async\" method=\"post\" action=\"");
            web_job_href(b, w, job->name, "buildNow");
            html_raw(b, "\" data-done=\"");
            html_attr(b, rfmt("A build of %s is queued.", job->name));
            html_raw(b, "\">");
            web_crumb_field(b, w);
            html_raw(b, "<input type=\"hidden\" name=\"from\" value=\"dashboard\">"
                        "<button class=\"btn small\" type=\"submit\" id=\"build-");
            html_url_arg(b, job->name);
            html_raw(b, "\" aria-label=\"Build ");
            html_attr(b, job->name);
            html_raw(b, " now\">&#9654; Build</button></form>");
        }
    }
    html_raw(b, "</td></tr>");
    build_row_release(&last);
    build_row_release(&ok);
    build_row_release(&bad);
    build_row_release(&done);
}

/* Jobs a page shows; a home with 10,000 jobs is paged and searched, not sent whole. */
#define JOBS_PER_PAGE 100

/* Where the dashboard's list is: the filter (jobs whose name holds it, any case) and the page. */
struct list_view {
    const char *q;      /* "" for none */
    long page;          /* from 1 */
};

static struct list_view
list_view_of(struct web *w)
{
    const char *q = req_param(w->req, "q"), *page = req_param(w->req, "page");
    struct list_view v = { .q = q ? q : "", .page = 1 };
    char *end;

    if (page) {
        long p = strtol(page, &end, 10);
        if (*page && !*end && p >= 1 && p <= 1000000)
            v.page = p;
    }
    return v;
}

/* The dashboard's URL for a view, with `extra` ("part=live") first when given. */
static void
view_href(struct buf *b, struct web *w, const struct list_view *v, long page, const char *extra)
{
    char sep = '?';

    html_attr(b, w->base);
    if (extra) {
        html_raw(b, "?");
        html_raw(b, extra);
        sep = '&';
    }
    if (*v->q) {
        html_raw(b, sep == '?' ? "?q=" : "&amp;q=");
        html_url_arg(b, v->q);
        sep = '&';
    }
    if (page > 1) {
        html_raw(b, sep == '?' ? "?page=" : "&amp;page=");
        html_int(b, page);
    }
}

static void
jobs_pager(struct buf *b, struct web *w, const struct list_view *v, size_t total, size_t first,
           size_t shown)
{
    long pages = (long) ((total + JOBS_PER_PAGE - 1) / JOBS_PER_PAGE);

    html_raw(b, "<p class=\"hint\" id=\"jobs-count\">");
    if (shown == 0)
        html_raw(b, "No job matches.");
    else {
        html_raw(b, "Jobs ");
        html_int(b, (long long) first + 1);
        html_raw(b, "&ndash;");
        html_int(b, (long long) (first + shown));
        html_raw(b, " of ");
        html_int(b, (long long) total);
        if (*v->q) {
            html_raw(b, " whose name holds &ldquo;");
            html_text(b, v->q);
            html_raw(b, "&rdquo;");
        }
        html_raw(b, ".");
    }
    if (pages > 1) {
        html_raw(b, " <span class=\"pager\">");
        if (v->page > 1) {
            html_raw(b, "<a id=\"jobs-prev\" rel=\"prev\" href=\"");
            view_href(b, w, v, v->page - 1, NULL);
            html_raw(b, "\">&larr; Previous</a> ");
        }
        html_raw(b, "page ");
        html_int(b, v->page);
        html_raw(b, " of ");
        html_int(b, pages);
        if (v->page < pages) {
            html_raw(b, " <a id=\"jobs-next\" rel=\"next\" href=\"");
            view_href(b, w, v, v->page + 1, NULL);
            html_raw(b, "\">Next &rarr;</a>");
        }
        html_raw(b, "</span>");
    }
    html_raw(b, "</p>");
}

static void
jobs_table(struct buf *b, struct web *w, const struct overview *o)
{
    struct list_view v = list_view_of(w);
    struct job **list = NULL;
    size_t n = 0, total = 0, first, shown = 0;

    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-jobs\"><h2 id=\"h-jobs\">Jobs</h2>");
    if (jobs_list(w->app->jobs, &list, &n) < 0 || n == 0) {
        html_raw(b, "<p class=\"empty\">No jobs yet.</p>");
        if (app_may(w->req, PERM_JOB_CREATE, NULL)) {
            html_raw(b, "<p><a class=\"btn primary\" href=\"");
            html_attr(b, w->base);
            html_raw(b, "newJob\">Create a job</a></p>");
        }
        html_raw(b, "</section>");
        jobs_list_free(list, n);
        return;
    }
    html_raw(b, "<form class=\"inline\" method=\"get\" role=\"search\" action=\"");
    html_attr(b, w->base);
    html_raw(b, "\"><label for=\"jobs-filter\" class=\"visually-hidden\">Filter jobs by name</label>"
                "<input type=\"search\" id=\"jobs-filter\" name=\"q\" maxlength=\"200\" "
                "placeholder=\"Filter by name\" value=\"");
    html_attr(b, v.q);
    html_raw(b, "\"> <button class=\"btn small\" type=\"submit\">Filter</button></form>");

    /* the jobs this user may see and the filter keeps, in name order; a page of them is shown */
    for (size_t i = 0; i < n; i++)
        if ((!*v.q || strcasestr(list[i]->name, v.q)) && app_may(w->req, PERM_JOB_READ, list[i])) {
            struct job *kept = list[i];

            list[i] = NULL;
            list[total++] = kept;
        } else
            list[i] = job_unref(list[i]);
    first = (size_t) (v.page - 1) * JOBS_PER_PAGE;
    if (first >= total)
        first = total > 0 ? (total - 1) / JOBS_PER_PAGE * JOBS_PER_PAGE : 0;
    v.page = (long) (first / JOBS_PER_PAGE) + 1;
    shown = MIN((size_t) JOBS_PER_PAGE, total - first);
    jobs_pager(b, w, &v, total, first, shown);
    if (shown > 0) {
        html_raw(b, "<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">Status</th>"
                    "<th scope=\"col\"><abbr title=\"Weather: the job's health\">W</abbr></th>"
                    "<th scope=\"col\">Job</th><th scope=\"col\" class=\"opt\">Last success</th>"
                    "<th scope=\"col\" class=\"opt\">Last failure</th><th scope=\"col\">Last "
                    "duration</th><th scope=\"col\"><span class=\"visually-hidden\">Actions</span>"
                    "</th></tr></thead><tbody>");
        for (size_t i = first; i < first + shown; i++)
            job_row(b, w, list[i], o);
        html_raw(b, "</tbody></table></div>");
    }
    html_raw(b, "</section>");
    /* what was not kept was let go above, and is NULL */
    jobs_list_free(list, n);
}

static bool
job_running(const struct overview *o, const char *job)
{
    for (size_t i = 0; i < o->n_running; i++)
        if (streq(o->running[i].job, job))
            return true;
    return false;
}

static void
queue_card(struct buf *b, struct web *w, const struct overview *o)
{
    html_raw(b, "<section class=\"card\" id=\"queue\" aria-labelledby=\"h-queue\"><h2 "
                "id=\"h-queue\">Queue</h2>");
    if (o->n_waiting == 0) {
        html_raw(b, "<p class=\"empty\">Nothing is waiting.</p></section>");
        return;
    }
    html_raw(b, "<ul class=\"exec\">");
    for (size_t i = 0; i < o->n_waiting; i++) {
        const struct queue_row *q = &o->waiting[i];
        _cleanup_(job_unrefp) struct job *job = jobs_get(w->app->jobs, q->job);

        if (!web_may(w, PERM_JOB_READ, q->job))
            continue;
        html_raw(b, "<li>");
        web_status_badge(b, ST_QUEUED);
        html_raw(b, " <a href=\"");
        web_job_href(b, w, q->job, NULL);
        html_raw(b, "\">");
        html_text(b, q->job);
        html_raw(b, "</a> <span class=\"hint\">");
        if (q->due_ms > w->now) {
            html_raw(b, "quiet period, starts in ");
            web_duration(b, (q->due_ms - w->now + 999) / 1000 * 1000);
        } else if (job && !job->cfg->concurrent_build && job_running(o, q->job))
            html_raw(b, "waits for the running build of this job");
        else
            html_raw(b, "waits for a free executor");
        html_raw(b, "</span><div class=\"hint\">");
        web_causes(b, q->causes, q->n_causes);
        html_raw(b, ", ");
        web_time_ago(b, w->now, q->in_queue_since_ms);
        if (q->n_params) {
            html_raw(b, "<br>");
            web_param_values(b, q->params, q->n_params, true);
        }
        html_raw(b, "</div>");
        if (web_may(w, PERM_JOB_CANCEL, q->job)) {
            html_raw(b, "<form class=\"inline js-async\" method=\"post\" action=\"");
            html_attr(b, w->base);
            html_raw(b, "queue/item/");
            html_int(b, q->id);
            html_raw(b, "/cancelQueue\" data-done=\"Cancelled.\">");
            web_crumb_field(b, w);
            html_raw(b, "<button class=\"btn small danger\" type=\"submit\" id=\"cancel-");
            html_int(b, q->id);
            html_raw(b, "\">Cancel</button></form>");
        }
        html_raw(b, "</li>");
    }
    html_raw(b, "</ul></section>");
}

static void
executors_card(struct buf *b, struct web *w, const struct overview *o)
{
    int n = w->app->executors > 0 ? w->app->executors : 1;

    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-exec\"><h2 id=\"h-exec\">Executors"
                "</h2><ul class=\"exec\">");
    for (int i = 0; i < n; i++) {
        const struct build_row *r = NULL;

        for (size_t k = 0; k < o->n_running && !r; k++)
            if (o->running[k].executor == i)
                r = &o->running[k];
        html_raw(b, "<li><span class=\"muted\">#");
        html_int(b, i + 1);
        html_raw(b, "</span> ");
        if (!r) {
            html_raw(b, "<span class=\"muted\">idle</span></li>");
            continue;
        }
        if (!web_may(w, PERM_JOB_READ, r->job)) {
            html_raw(b, "<span class=\"muted\">busy</span></li>");
            continue;
        }
        {
            int64_t elapsed = w->now - r->start_ms;
            int64_t est = store_build_estimated_duration(w->req->db, r->job);

            html_raw(b, "<a href=\"");
            web_build_href(b, w, r->job, r->number, NULL);
            html_raw(b, "\">");
            html_text(b, r->job);
            html_raw(b, " #");
            html_int(b, r->number);
            html_raw(b, "</a> <span class=\"hint\">for <span data-elapsed=\"");
            html_int(b, elapsed);
            html_raw(b, "\">");
            web_duration(b, elapsed);
            html_raw(b, "</span>");
            if (est > 0) {
                html_raw(b, ", usually takes ");
                web_duration(b, est);
                html_raw(b, "</span><progress max=\"");
                html_int(b, est);
                html_raw(b, "\" value=\"");
                html_int(b, MIN(elapsed, est));
                html_raw(b, "\" aria-label=\"Progress of ");
                html_attr(b, r->job);
                html_raw(b, " against its usual duration\"></progress>");
            } else
                html_raw(b, "</span>");
            html_raw(b, "</li>");
        }
    }
    html_raw(b, "</ul></section>");
}

static void
live_part(struct buf *b, struct web *w)
{
    struct overview o = {};

    (void) store_build_list_running(w->req->db, &o.running, &o.n_running);
    (void) store_queue_list_waiting(w->req->db, NULL, &o.waiting, &o.n_waiting);
    /* a marker for the script: poll faster while something happens */
    if (o.n_running || o.n_waiting)
        html_raw(b, "<span data-busy hidden></span>");
    html_raw(b, "<div class=\"grid\"><div>");
    jobs_table(b, w, &o);
    html_raw(b, "</div><div>");
    queue_card(b, w, &o);
    executors_card(b, w, &o);
    html_raw(b, "</div></div>");
    overview_release(&o);
}

void
web_dashboard(struct web *w)
{
    const char *part = req_param(w->req, "part");
    struct buf *b;

    if (part && streq(part, "live")) {
        buf_clear(&w->resp->body);
        live_part(&w->resp->body, w);
        web_fragment(w);
        return;
    }
    b = web_begin(w, "Dashboard", "dashboard");
    html_raw(b, "<h1>Dashboard");
    if (app_may(w->req, PERM_JOB_CREATE, NULL)) {
        html_raw(b, " <a class=\"btn small\" href=\"");
        html_attr(b, w->base);
        html_raw(b, "newJob\">+ New job</a>");
    }
    html_raw(b, "</h1><div id=\"live\" data-live=\"");
    {
        struct list_view v = list_view_of(w);
        view_href(b, w, &v, v.page, "part=live");
    }
    html_raw(b, "\">");
    live_part(b, w);
    html_raw(b, "</div>");
    web_end(w, 200);
}
