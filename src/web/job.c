/* SPDX-License-Identifier: MIT */
/*
 * The job page (description, paged build history, the "Build with
 * Parameters" form, enable/disable, delete), the form's POST target
 * /job/NAME/buildNow, and the confirmation page before a delete.
 *
 * History is paged with store_build_list(offset, limit): the page costs
 * the same for a job with ten builds or ten thousand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/chain.h"
#include "core/upload.h"
#include "core/params.h"
#include "util/bounds.h"
#include "util/strutil.h"
#include "web/page.h"

#define HISTORY_PAGE 25

/* Sends the 404 page and returns NULL when the job does not exist. */
static struct job *
get_job(struct web *w, const char *name)
{
    struct job *job = jobs_get(w->app->jobs, name);

    if (!job)
        web_not_found(w, rfmt("Job '%s'", name));
    return job;
}

static void
crumbs(struct buf *b, struct web *w, const char *job)
{
    html_raw(b, "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"");
    html_attr(b, w->base);
    html_raw(b, "\">Dashboard</a> &rsaquo; ");
    html_text(b, job);
    html_raw(b, "</nav>");
}

/* One history row; the cause and the parameters come from its queue item. */
static void
history_row(struct buf *b, struct web *w, const char *job, const struct build_row *r)
{
    struct queue_row q = {};
    bool have_q = store_queue_get(w->req->db, r->queue_id, &q) == 0;

    html_raw(b, "<tr><td class=\"nowrap\">");
    web_status_badge(b, web_status_of(r->result));
    html_raw(b, "</td><td class=\"num\"><a href=\"");
    web_build_href(b, w, job, r->number, NULL);
    html_raw(b, "\">");
    if (r->display_name)
        html_text(b, r->display_name);
    else {
        html_raw(b, "#");
        html_int(b, r->number);
    }
    html_raw(b, "</a>");
    if (r->keep_log)
        html_raw(b, "<span class=\"kept\" title=\"Kept forever\">kept</span>");
    if (r->description) {
        /* on one line, cut at 100 bytes, as Jenkins lists a truncated description */
        _cleanup_free_ char *line = strdup_one_line(r->description, 100);
        html_raw(b, "<div class=\"hint build-description\">");
        html_text(b, line ? line : "");
        html_raw(b, "</div>");
    }
    html_raw(b, "</td><td class=\"nowrap\">");
    web_time_ago(b, w->now, r->start_ms);
    html_raw(b, "</td><td class=\"nowrap\">");
    if (r->result)
        web_duration(b, r->duration_ms);
    else {
        html_raw(b, "<span data-elapsed=\"");
        html_int(b, w->now - r->start_ms);
        html_raw(b, "\">");
        web_duration(b, w->now - r->start_ms);
        html_raw(b, "</span>");
    }
    html_raw(b, "</td><td class=\"opt\">");
    if (have_q)
        web_causes(b, q.causes, q.n_causes);
    html_raw(b, "</td><td class=\"opt\">");
    if (have_q)
        web_param_values(b, q.params, q.n_params, true);
    html_raw(b, "</td></tr>");
    queue_row_release(&q);
}

static void
pager_link(struct buf *b, struct web *w, const char *job, int64_t page, const char *label,
           const char *rel)
{
    html_raw(b, "<a class=\"btn small\" rel=\"");
    html_raw(b, rel);
    html_raw(b, "\" href=\"");
    web_job_href(b, w, job, NULL);
    if (page > 1) {
        html_raw(b, "?page=");
        html_int(b, page);
    }
    html_raw(b, "#history\">");
    html_raw(b, label);
    html_raw(b, "</a>");
}

static void
history(struct buf *b, struct web *w, const struct job *job, int64_t page)
{
    struct build_row *rows = NULL;
    int64_t total = 0, pages;
    size_t n = 0;
    bool running = false;

    (void) store_build_count(w->req->db, job->name, &total);
    pages = total ? (total + HISTORY_PAGE - 1) / HISTORY_PAGE : 1;
    if (page > pages)
        page = pages;
    (void) store_build_list(w->req->db, job->name, (page - 1) * HISTORY_PAGE, HISTORY_PAGE, &rows,
                            &n);
    for (size_t i = 0; i < n; i++)
        running |= rows[i].result == NULL;
    {
        struct queue_row *waiting = NULL;
        size_t n_waiting = 0;
        (void) store_queue_list_waiting(w->req->db, job->name, &waiting, &n_waiting);
        if (running || n_waiting)
            html_raw(b, "<span data-busy hidden></span>");
        if (n_waiting && page == 1) {
            html_raw(b, "<p class=\"notice\">");
            web_status_badge(b, ST_QUEUED);
            html_raw(b, " ");
            html_int(b, (long long) n_waiting);
            html_raw(b, n_waiting == 1 ? " build is waiting in the queue.</p>"
                                       : " builds are waiting in the queue.</p>");
        }
        queue_rows_free(waiting, n_waiting);
    }
    if (total == 0) {
        html_raw(b, "<p class=\"empty\">No builds yet.</p>");
        build_rows_free(rows, n);
        return;
    }
    html_raw(b, "<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">Status</th>"
                "<th scope=\"col\">Build</th><th scope=\"col\">Started</th><th scope=\"col\">"
                "Duration</th><th scope=\"col\" class=\"opt\">Cause</th><th scope=\"col\" "
                "class=\"opt\">Parameters</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++)
        history_row(b, w, job->name, &rows[i]);
    html_raw(b, "</tbody></table></div><div class=\"pager\">");
    if (page > 1) {
        pager_link(b, w, job->name, 1, "&laquo; Newest", "first");
        pager_link(b, w, job->name, page - 1, "&lsaquo; Newer", "prev");
    }
    html_raw(b, "<span class=\"muted\">Builds ");
    html_int(b, (page - 1) * HISTORY_PAGE + 1);
    html_raw(b, "&ndash;");
    html_int(b, (page - 1) * HISTORY_PAGE + (int64_t) n);
    html_raw(b, " of ");
    html_int(b, total);
    html_raw(b, "</span>");
    if (page < pages) {
        pager_link(b, w, job->name, page + 1, "Older &rsaquo;", "next");
        pager_link(b, w, job->name, pages, "Oldest &raquo;", "last");
    }
    html_raw(b, "</div>");
    build_rows_free(rows, n);
}

/* "the 10 newest builds", "the newest build". */
static void
newest(struct buf *b, int builds)
{
    if (builds == 1) {
        html_raw(b, "the newest build");
        return;
    }
    html_raw(b, "the ");
    html_int(b, builds);
    html_raw(b, " newest builds");
}

/* "the last 7 days", "the last day". */
static void
of_the_last(struct buf *b, int days)
{
    if (days == 1) {
        html_raw(b, "the last day");
        return;
    }
    html_raw(b, "the last ");
    html_int(b, days);
    html_raw(b, " days");
}

/*
 * "Discard old builds" in one sentence, when it is set. LogRotator drops
 * a build past either limit, so with both set the builds kept are the
 * newest ones that are also recent: "the 10 newest builds of the last 7
 * days". Artifacts follow the same rule among the builds kept.
 */
static void
discard_note(struct buf *b, const struct job_config *cfg)
{
    int days = cfg->keep_days, builds = cfg->keep_builds;
    int a_days = cfg->keep_artifact_days, a_builds = cfg->keep_artifact_builds;

    if (days < 0 && builds < 0 && a_days < 0 && a_builds < 0)
        return;
    html_raw(b, "<p class=\"hint\" id=\"discard-note\">Keeps ");
    if (days == 0 || builds == 0) {
        html_raw(b, "no builds but the last successful one.</p>");
        return;
    }
    if (builds > 0)
        newest(b, builds);
    else if (days > 0)
        html_raw(b, "the builds");
    else
        html_raw(b, "every build");
    if (days > 0) {
        html_raw(b, " of ");
        of_the_last(b, days);
    }
    if (a_days == 0 || a_builds == 0)
        html_raw(b, ", and no artifacts");
    else if (a_days > 0 || a_builds > 0) {
        html_raw(b, ", and artifacts of ");
        if (a_builds > 0)
            newest(b, a_builds);
        if (a_builds > 0 && a_days > 0)
            html_raw(b, " of ");
        if (a_days > 0)
            of_the_last(b, a_days);
    }
    html_raw(b, ". The last successful build always stays.</p>");
}

static void
param_field(struct buf *b, const struct param_def *d, size_t i)
{
    const char *id = rfmt("bp-%zu", i);

    if (d->type == PARAM_BOOLEAN) {
        html_raw(b, "<label class=\"check\"><input type=\"checkbox\" value=\"true\" name=\"p.");
        html_attr(b, d->name);
        html_raw(b, "\"");
        if (d->default_value && streq(d->default_value, "true"))
            html_raw(b, " checked");
        html_raw(b, "> <span class=\"mono\">");
        html_text(b, d->name);
        html_raw(b, "</span></label>");
    } else {
        html_raw(b, "<label class=\"mono\" for=\"");
        html_attr(b, id);
        html_raw(b, "\">");
        html_text(b, d->name);
        html_raw(b, "</label>");
    }
    if (d->description && *d->description) {
        html_raw(b, "<p class=\"hint\">");
        html_text(b, d->description);
        html_raw(b, "</p>");
    }
    switch (d->type) {
    case PARAM_BOOLEAN:
        break;
    case PARAM_TEXT:
        html_raw(b, "<textarea id=\"");
        html_attr(b, id);
        html_raw(b, "\" name=\"p.");
        html_attr(b, d->name);
        html_raw(b, "\" rows=\"4\">");
        html_text(b, d->default_value);
        html_raw(b, "</textarea>");
        break;
    case PARAM_CHOICE:
        html_raw(b, "<select id=\"");
        html_attr(b, id);
        html_raw(b, "\" name=\"p.");
        html_attr(b, d->name);
        html_raw(b, "\">");
        for (size_t k = 0; k < d->n_choices; k++) {
            html_raw(b, "<option>");
            html_text(b, d->choices[k]);
            html_raw(b, "</option>");
        }
        html_raw(b, "</select>");
        break;
    case PARAM_PASSWORD:
        /* the default never goes into the page; an empty field means the default */
        html_raw(b, "<input type=\"password\" autocomplete=\"off\" id=\"");
        html_attr(b, id);
        html_raw(b, "\" name=\"p.");
        html_attr(b, d->name);
        html_raw(b, "\" placeholder=\"(the default)\">");
        break;
    case PARAM_FILE:
        html_raw(b, "<input type=\"file\" id=\"");
        html_attr(b, id);
        html_raw(b, "\" name=\"p.");
        html_attr(b, d->name);
        html_raw(b, "\">");
        break;
    case PARAM_STRING:
        html_raw(b, "<input type=\"text\" id=\"");
        html_attr(b, id);
        html_raw(b, "\" name=\"p.");
        html_attr(b, d->name);
        html_raw(b, "\" value=\"");
        html_attr(b, d->default_value);
        html_raw(b, "\">");
        break;
    }
}

static void
enable_form(struct buf *b, struct web *w, const struct job *job)
{
    bool dis = job->cfg->disabled;

    html_raw(b, "<form class=\"inline\" method=\"post\" action=\"");
    web_job_href(b, w, job->name, dis ? "enable" : "disable");
    html_raw(b, "\">");
    web_crumb_field(b, w);
    html_raw(b, dis ? "<button class=\"btn\" type=\"submit\">Enable</button></form>"
                    : "<button class=\"btn\" type=\"submit\">Disable</button></form>");
}

static void
build_card(struct buf *b, struct web *w, const struct job *job)
{
    const struct job_config *cfg = job->cfg;

    html_raw(b, "<section class=\"card\" id=\"build\" aria-labelledby=\"h-build\"><h2 "
                "id=\"h-build\">");
    html_raw(b, cfg->n_params ? "Build with Parameters" : "Build");
    html_raw(b, "</h2>");
    if (w->req->id.anonymous && !app_may(w->req, PERM_JOB_BUILD, job)) {
        html_raw(b, "<p><a href=\"");
        html_attr(b, w->base);
        html_raw(b, "login?from=");
        html_url_arg(b, w->req->raw_path);
        html_raw(b, "\">Sign in</a> to start a build.</p></section>");
        return;
    }
    if (!app_may(w->req, PERM_JOB_BUILD, job)) {
        html_raw(b, "<p>You may not start builds of this job: that takes the Job/Build "
                    "permission, which an administrator grants.</p></section>");
        return;
    }
    if (cfg->disabled) {
        html_raw(b, "<p>This job is disabled: it does not build, by hand or by trigger.</p>"
                    "<p class=\"actions\">");
        enable_form(b, w, job);
        html_raw(b, "</p></section>");
        return;
    }
    html_raw(b, "<form method=\"post\" action=\"");
    web_job_href(b, w, job->name, "buildNow");
    html_raw(b, "\"");
    for (size_t i = 0; i < cfg->n_params; i++)
        if (cfg->params[i].type == PARAM_FILE) {
            html_raw(b, " enctype=\"multipart/form-data\"");
            break;
        }
    html_raw(b, ">");
    web_crumb_field(b, w);
    html_raw(b, "<input type=\"hidden\" name=\"form\" value=\"1\">");
    for (size_t i = 0; i < cfg->n_params; i++)
        param_field(b, &cfg->params[i], i);
    html_raw(b, "<p class=\"actions\"><button class=\"btn primary\" type=\"submit\" "
                "id=\"build-button\">&#9654; Build</button></p></form></section>");
}

static void
script_card(struct buf *b, struct web *w, const struct job *job)
{
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-script\"><h2 id=\"h-script\">"
                "Trigger from a script</h2><p>Two different secrets can start this job: your "
                "<strong>user API token</strong> (it proves who you are) or the job&rsquo;s "
                "<strong>trigger token</strong> (anyone holding it may start this one job). ");
    html_raw(b, jobcfg_has_token(job->cfg) ? "This job has a trigger token."
                                     : "This job has no trigger token yet.");
    html_raw(b, "</p>");
    if (app_may(w->req, PERM_JOB_CONFIGURE, job)) {
        html_raw(b, "<p><a href=\"");
        web_job_href(b, w, job->name, "configure#trigger");
        html_raw(b, "\">How to trigger this job: ready-to-copy commands</a></p>");
    }
    html_raw(b, "</section>");
}

/* Jenkins' "Upstream Projects" and "Downstream Projects": the jobs of its chain the caller may read. */
static void
chain_links(struct buf *b, struct web *w, const struct job *job)
{
    for (int down = 0; down < 2; down++) {
        struct job **list = NULL;
        size_t n = 0, shown = 0;

        if (chain_neighbours(w->app->jobs, job, down, &list, &n) < 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (!app_may(w->req, PERM_JOB_READ, list[i]))
                continue;
            if (shown++ == 0)
                html_raw(b, down ? "<p class=\"chain\" id=\"downstream\">Downstream projects: "
                                 : "<p class=\"chain\" id=\"upstream\">Upstream projects: ");
            else
                html_raw(b, ", ");
            html_raw(b, "<a href=\"");
            web_job_href(b, w, list[i]->name, NULL);
            html_raw(b, "\">");
            html_text(b, list[i]->name);
            html_raw(b, "</a>");
        }
        if (shown)
            html_raw(b, "</p>");
        jobs_list_free(list, n);
    }
}

void
web_job_page(struct web *w, const char *name)
{
    _cleanup_(job_unrefp) struct job *job = NULL;
    const char *part = req_param(w->req, "part"), *ps = req_param(w->req, "page");
    int64_t page = 1;
    struct buf *b;

    if (!(job = get_job(w, name)))
        return;
    if (ps && parse_int64(ps, 1, INT64_MAX / HISTORY_PAGE, &page) < 0)
        page = 1;
    if (part && streq(part, "live")) {
        buf_clear(&w->resp->body);
        history(&w->resp->body, w, job, page);
        web_fragment(w);
        return;
    }
    b = web_begin(w, job->name, NULL);
    crumbs(b, w, job->name);
    html_raw(b, "<h1>");
    html_text(b, job->name);
    if (job->cfg->disabled) {
        html_raw(b, " ");
        web_status_badge(b, ST_DISABLED);
    }
    html_raw(b, "</h1>");
    if (req_param(w->req, "queued"))
        html_raw(b, "<p class=\"notice good\" role=\"status\">The build is queued; it shows "
                    "below when it starts.</p>");
    web_unsupported_notice(b, job->cfg);
    if (job->cfg->description && *job->cfg->description) {
        html_raw(b, "<p class=\"description\">");
        html_text(b, job->cfg->description);
        html_raw(b, "</p>");
    }
    chain_links(b, w, job);
    if (app_may(w->req, PERM_JOB_CONFIGURE, job) || app_may(w->req, PERM_JOB_DELETE, job)) {
        html_raw(b, "<div class=\"actions\">");
        if (app_may(w->req, PERM_JOB_CONFIGURE, job)) {
            html_raw(b, "<a class=\"btn\" href=\"");
            web_job_href(b, w, job->name, "configure");
            html_raw(b, "\">Configure</a>");
            enable_form(b, w, job);
        }
        if (app_may(w->req, PERM_JOB_DELETE, job)) {
            html_raw(b, "<a class=\"btn danger\" href=\"");
            web_job_href(b, w, job->name, "delete");
            html_raw(b, "\">Delete&hellip;</a>");
        }
        html_raw(b, "</div>");
    }
    html_raw(b, "<div class=\"grid\"><section class=\"card\" id=\"history\" aria-labelledby=\""
                "h-history\"><h2 id=\"h-history\">Build history</h2>");
    discard_note(b, job->cfg);
    if (job->cfg->scm_poll_spec && job->cfg->git_urls) {
        html_raw(b, "<p class=\"hint\"><a href=\"");
        web_job_href(b, w, job->name, "scmPollLog");
        html_raw(b, "\">Polling log</a>: what the last look at the Git repository found.</p>");
    }
    if (app_may(w->req, PERM_JOB_WORKSPACE, job)) {
        html_raw(b, "<p class=\"hint\"><a href=\"");
        web_job_href(b, w, job->name, "ws/");
        html_raw(b, "\">Workspace</a>: the files the builds left, read-only.</p>");
    }
    html_raw(b, "<div");
    if (page == 1) {
        /* only the first page changes by itself */
        html_raw(b, " data-live=\"");
        web_job_href(b, w, job->name, "?part=live");
        html_raw(b, "\"");
    }
    html_raw(b, ">");
    history(b, w, job, page);
    html_raw(b, "</div></section><div>");
    build_card(b, w, job);
    script_card(b, w, job);
    html_raw(b, "</div></div><section class=\"card\" id=\"trend\" aria-labelledby=\"h-trend\">"
                "<h2 id=\"h-trend\">Trend <a class=\"hint\" href=\"");
    web_job_href(b, w, job->name, "buildTimeTrend");
    html_raw(b, "\">(its own page)</a></h2>");
    web_trend_charts(b, w, job->name);
    html_raw(b, "</section>");
    web_end(w, 200);
}

/* ---- POST /job/NAME/buildNow ---- */

/*
 * The value of each parameter from the form, else its default, checked as
 * the API checks triggers. Returns false after answering 400.
 */
struct form_values {
    struct web *w;
    bool from_form;     /* the page's form, not a script posting p.NAME fields */
    const struct param_def *defs;
    char **files;       /* per parameter: a file parameter's value, or NULL */
};

static const char *
form_value(void *userdata, const struct param_def *d)
{
    struct form_values *f = userdata;
    const char *v = req_param(f->w->req, rfmt("p.%s", d->name));

    if (d->type == PARAM_FILE)
        return f->files[d - f->defs];
    /* an unticked box sends nothing: in the form, absent means false */
    if (d->type == PARAM_BOOLEAN && f->from_form)
        v = v ? "true" : "false";
    /* an empty password field keeps the default, which the page never shows */
    if (d->type == PARAM_PASSWORD && v && !*v)
        v = NULL;
    return v;
}

/*
 * The form's files (fields p.NAME of a multipart form) as file parameters'
 * values, into files[]; they are kept once every value is checked. False
 * after answering.
 */
static bool
form_files(struct web *w, const struct job *job, char **files)
{
    for (size_t i = 0; i < job->cfg->n_params; i++) {
        const struct param_def *d = &job->cfg->params[i];
        struct req_file *f = NULL;

        for (size_t k = 0; d->type == PARAM_FILE && k < w->req->n_files && !f; k++)
            if (streq(w->req->files[k].field, rfmt("p.%s", d->name)) && w->req->files[k].path)
                f = &w->req->files[k];
        if (!f)
            continue;
        if (upload_location_check(d->name) < 0) {
            web_error(w, 400, "File parameter outside the workspace",
                      rfmt("File parameter '%s' names where its file goes in the workspace, "
                           "and that is not a path inside it.", d->name),
                      "Rename the parameter in the job's configuration to a relative path.",
                      NULL, NULL);
            return false;
        }
        files[i] = upload_value(f->sha256, f->filename);
        if (!files[i]) {
            web_error(w, 500, "Out of memory", NULL, "Try again.", NULL, NULL);
            return false;
        }
    }
    return true;
}

static bool
form_params(struct web *w, const struct job *job, struct param_value *out)
{
    char **files = calloc(job->cfg->n_params ? job->cfg->n_params : 1, sizeof *files);
    struct form_values f = { .w = w, .from_form = req_param(w->req, "form") != NULL,
                             .defs = job->cfg->params, .files = files };
    struct param_refusal no = {};
    int r = -ENOMEM;

    if (files && form_files(w, job, files)) {
        r = params_resolve(job->cfg, form_value, &f, out, &no);
        if (r == -EINVAL)
            web_error(w, 400, no.title, no.presented, "Go back and change the value.", NULL,
                      NULL);
        else if (r < 0)
            web_error(w, 500, "Out of memory", NULL, "Try again.", NULL, NULL);
        param_refusal_release(&no);
    } else if (!files)
        web_error(w, 500, "Out of memory", NULL, "Try again.", NULL, NULL);
    for (size_t i = 0; files && i < job->cfg->n_params; i++)
        free(files[i]);
    free(files);
    return r >= 0;
}

void
web_job_build(struct web *w, const char *name)
{
    _cleanup_(job_unrefp) struct job *job = NULL;
    struct param_value *params = NULL;
    struct cause cause = { .kind = CAUSE_USER, .count = 1 };
    struct trigger t = { .job = name, .delay_ms = -1 };
    const char *from = req_param(w->req, "from");
    int64_t queue_id = 0;
    bool merged = false;
    int r;

    if (!web_check_post(w) || !(job = get_job(w, name)))
        return;
    if (job->cfg->disabled) {
        web_error(w, 409, rfmt("%s is disabled", name),
                  rfmt("Job '%s' is disabled, so it does not build.", name),
                  "Enable it on its page first.", web_job_path(name, NULL), "Open the job");
        return;
    }
    params = calloc(job->cfg->n_params ? job->cfg->n_params : 1, sizeof *params);
    if (!params) {
        web_error(w, 500, "Out of memory", NULL, "Try again.", NULL, NULL);
        return;
    }
    if (!form_params(w, job, params))
        goto out;
    r = w->req->n_files ? app_keep_uploads(w->app, w->req, params, job->cfg->n_params) : 0;
    if (r < 0) {
        web_error(w, r == -ENOSPC ? 507 : 503, "The file could not be stored",
                  rfmt("Steward could not keep the uploaded file (%s); nothing was queued.",
                       strerror(-r)),
                  "Try again.", NULL, NULL);
        goto out;
    }
    t.holds_uploads = w->req->n_files > 0;
    cause.user_name = w->req->id.name;
    cause.token_name = w->req->id.via == VIA_TOKEN ? w->req->id.token_name : NULL;
    t.params = params;
    t.n_params = job->cfg->n_params;
    t.cause = &cause;

    r = engine_trigger(w->app->engine, &t, &queue_id, &merged);
    if (r == -EAGAIN) {
        resp_header(w->resp, "Retry-After", "5");
        web_error(w, 503, "The queue is full",
                  rfmt("The queue holds %d items, its limit; nothing was queued.",
                       engine_queue_limit(w->app->engine)),
                  "Try again in a little while.", NULL, NULL);
    } else if (r < 0)
        web_error(w, 503, "The build could not be queued",
                  rfmt("Steward could not store the queue item (%s); nothing was queued.",
                       strerror(-r)),
                  "Try again.", NULL, NULL);
    else if (from && streq(from, "dashboard"))
        web_redirect(w, "");
    else
        web_redirect(w, web_job_path(name, "?queued=1"));
out:
    for (size_t i = 0; i < job->cfg->n_params; i++)
        free(params[i].value);
    free(params);
}

/* ---- GET /job/NAME/delete: are you sure? ---- */

void
web_job_delete_page(struct web *w, const char *name)
{
    _cleanup_(job_unrefp) struct job *job = NULL;
    int64_t total = 0;
    struct buf *b;

    if (!(job = get_job(w, name)))
        return;
    (void) store_build_count(w->req->db, name, &total);
    b = web_begin(w, rfmt("Delete %s", name), NULL);
    crumbs(b, w, name);
    html_raw(b, "<div class=\"card narrow\"><h1>Delete job &ldquo;");
    html_text(b, name);
    html_raw(b, "&rdquo;?</h1><p>This removes its configuration, its ");
    html_int(b, total);
    html_raw(b, total == 1 ? " build" : " builds");
    html_raw(b, " with their logs, and its workspace. Running builds are stopped and waiting "
                "ones cancelled. <strong>This cannot be undone.</strong></p><form method=\"post\" "
                "action=\"");
    web_job_href(b, w, name, "doDelete");
    html_raw(b, "\">");
    web_crumb_field(b, w);
    html_raw(b, "<p class=\"actions\"><button class=\"btn danger\" type=\"submit\" "
                "id=\"confirm-delete\">Delete ");
    html_text(b, name);
    html_raw(b, "</button> <a class=\"btn\" href=\"");
    web_job_href(b, w, name, NULL);
    html_raw(b, "\">Cancel</a></p></form></div>");
    web_end(w, 200);
}
