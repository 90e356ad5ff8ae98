/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/upload.h"
#include "core/engine.h"
#include "core/jobcfg.h"
#include "util/bounds.h"
#include "util/strutil.h"
#include "web/assets.h"
#include "web/page.h"

int
web_init(struct web *w, const struct app *app, struct req *req, struct resp *resp)
{
    *w = (struct web){ .app = app, .req = req, .resp = resp, .now = now_ms() };
    w->root = app_root_url(app, req);
    if (!w->root)
        return -ENOMEM;
    w->base = html_root_path(w->root);
    return 0;
}

void
web_release(struct web *w)
{
    free(w->root);
    w->root = NULL;
}

void
web_notices(struct buf *b, struct web *w, const struct web_message *messages, size_t n,
            const char *error)
{
    const char *m = w ? req_param(w->req, "msg") : NULL;

    for (size_t i = 0; m && i < n; i++)
        if (streq(m, messages[i].code)) {
            html_raw(b, "<p class=\"notice good\" role=\"status\">");
            html_text(b, messages[i].text);
            html_raw(b, "</p>");
        }
    if (error) {
        html_raw(b, "<p class=\"notice bad\" role=\"alert\">");
        html_text(b, error);
        html_raw(b, "</p>");
    }
}

bool
web_may(struct web *w, enum perm p, const char *job)
{
    _cleanup_(job_unrefp) struct job *j = job ? jobs_get(w->app->jobs, job) : NULL;

    return app_may(w->req, p, j);
}

/* ---- forms ---- */

void
web_form_open(struct buf *b, struct web *w, bool in_row, const char *action_path,
              const char *action, const char *confirm)
{
    html_raw(b, in_row ? "<form class=\"inline\" method=\"post\" action=\""
                       : "<form method=\"post\" action=\"");
    html_attr(b, w->base);
    html_attr(b, action_path);
    html_raw(b, "\"");
    if (confirm) {
        html_raw(b, " data-confirm=\"");
        html_attr(b, confirm);
        html_raw(b, "\"");
    }
    html_raw(b, ">");
    web_crumb_field(b, w);
    html_raw(b, "<input type=\"hidden\" name=\"action\" value=\"");
    html_attr(b, action);
    html_raw(b, "\">");
}

bool
web_body_ok(struct web *w)
{
    switch (w->req->body_problem) {
    case BODY_OK:
        return true;
    case BODY_TOO_LARGE:
        web_error(w, 413, "The form is too large",
                  rfmt("The request body is over %d bytes, the limit.", BOUND_BODY_BYTES),
                  "Send less: shorter scripts or descriptions.", NULL, NULL);
        return false;
    case BODY_TOO_MANY_FIELDS:
        web_error(w, 400, "The form has too many fields",
                  rfmt("The request has more than %d fields, the limit.", BOUND_FORM_FIELDS),
                  "Use fewer parameters or build steps per save.", NULL, NULL);
        return false;
    case BODY_BAD_FORM:
        web_error(w, 400, "Malformed form",
                  "The address or the form has a bad %-escape or a NUL byte.",
                  "Go back and submit the form again.", NULL, NULL);
        return false;
    default:
        break;
    }
    {
        struct upload_refusal u;

        if (http_upload_refusal(w->req, &u)) {
            web_error(w, u.status, u.error, u.presented, u.fix, NULL, NULL);
            free(u.presented);
            return false;
        }
    }
    web_error(w, 400, "The request is too large",
              "The request's address or headers are over Steward's limits.",
              "Go back and submit the form again.", NULL, NULL);
    return false;
}

bool
web_check_post(struct web *w)
{
    if (!w->req->is_post) {
        resp_header(w->resp, "Allow", "POST");
        web_error(w, 405, "Use the form", rfmt("The request used %s.", w->req->method),
                  "This address takes the form's POST.", NULL, NULL);
        return false;
    }
    return web_body_ok(w);
}

/* ---- the frame ---- */

struct buf *
web_begin(struct web *w, const char *title, const char *current)
{
    struct buf *b = &w->resp->body;
    const struct identity *id = &w->req->id;

    buf_clear(b);
    (void) html_page_start(b, &(struct html_page){
                                  .title = title,
                                  .base = w->base,
                                  .user = id->anonymous ? NULL : id->name,
                                  .is_admin = app_may(w->req, PERM_ADMINISTER, NULL),
                                  .crumb = web_crumb(w)[0] ? w->crumb : NULL,
                                  .css = web_asset_path("style.css"),
                                  .js = web_asset_path("app.js"),
                                  .current = current,
                                  .login_from = streq(w->req->raw_path, "/login") ? NULL
                                                                                : w->req->raw_path,
                              });
    /* where the script says what happened (a build queued, a text copied) */
    html_raw(b, "<div id=\"status-live\" class=\"toast\" role=\"status\" aria-live=\"polite\">"
                "</div>");
    web_quiet_banner(w, b);
    return b;
}

/* While quieting down, every page says so; administrators get the button that ends it. */
void
web_quiet_banner(struct web *w, struct buf *b)
{
    _cleanup_free_ char *reason = NULL;
    bool safe_exit;

    if (!w->app->engine || !engine_quieting_down(w->app->engine, &safe_exit, &reason))
        return;
    html_raw(b, "<div class=\"notice warn\" id=\"quiet-down\" role=\"status\"><strong>");
    html_text(b, safe_exit ? "Steward is about to shut down."
                           : "Steward is quieting down: no new build starts.");
    html_raw(b, "</strong> ");
    html_text(b, safe_exit ? "Running builds finish; then the server stops."
                           : "Triggers still queue and run once the quiet-down is cancelled.");
    if (reason) {
        html_raw(b, " Reason: ");
        html_text(b, reason);
    }
    if (!safe_exit && app_may(w->req, PERM_ADMINISTER, NULL) && web_crumb(w)[0]) {
        html_raw(b, " <form class=\"inline\" method=\"post\" action=\"");
        html_attr(b, w->base);
        html_raw(b, "cancelQuietDown\">");
        web_crumb_field(b, w);
        html_raw(b, "<button class=\"btn small\" type=\"submit\">Cancel quiet-down</button></form>");
    }
    html_raw(b, "</div>");
}

static void
html_headers(struct web *w)
{
    resp_header(w->resp, "Content-Type", "text/html;charset=UTF-8");
    /* pages show tokens and live state: never from a cache */
    resp_header(w->resp, "Cache-Control", "no-store");
    resp_header(w->resp, "Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    resp_header(w->resp, "Referrer-Policy", "same-origin");
}

void
web_end(struct web *w, int status)
{
    (void) html_page_end(&w->resp->body);
    w->resp->status = status;
    html_headers(w);
}

void
web_fragment(struct web *w)
{
    w->resp->status = 200;
    html_headers(w);
}

void
web_error(struct web *w, int status, const char *title, const char *presented, const char *fix,
          const char *link, const char *link_text)
{
    struct buf *b = web_begin(w, title, NULL);

    html_raw(b, "<div class=\"card error\"><h1><span class=\"code\">");
    html_int(b, status);
    html_raw(b, "</span> ");
    html_text(b, title);
    html_raw(b, "</h1>");
    if (presented) {
        html_raw(b, "<p>");
        html_text(b, presented);
        html_raw(b, "</p>");
    }
    if (fix) {
        html_raw(b, "<p><strong>How to fix it:</strong> ");
        html_text(b, fix);
        html_raw(b, "</p>");
    }
    html_raw(b, "<p class=\"actions\">");
    if (link) {
        html_raw(b, "<a class=\"btn primary\" href=\"");
        html_attr(b, w->base);
        html_attr(b, link);
        html_raw(b, "\">");
        html_text(b, link_text ? link_text : "Fix it here");
        html_raw(b, "</a> ");
    }
    html_raw(b, "<a class=\"btn\" href=\"");
    html_attr(b, w->base);
    html_raw(b, "\">Dashboard</a></p></div>");
    web_end(w, status);
    {
        /* the same one-line summary the API puts in X-Error */
        struct buf msg = BUF_INIT(2048);
        (void) buf_printf(&msg, "%s.%s%s", title, presented ? " " : "", presented ? presented : "");
        resp_header(w->resp, "X-Error", buf_str(&msg));
        buf_release(&msg);
    }
}

void
web_not_found(struct web *w, const char *what)
{
    web_error(w, 404, "Not found", rfmt("%s does not exist.", what),
              "Check the address; the dashboard lists every job.", NULL, NULL);
}

void
web_redirect(struct web *w, const char *path)
{
    w->resp->status = 303;
    buf_clear(&w->resp->body);
    resp_header(w->resp, "Location", rfmt("%s%s", w->root, path));
    resp_header(w->resp, "Cache-Control", "no-store");
}

void
web_login_redirect(struct web *w)
{
    struct buf loc = BUF_INIT(BOUND_URL_BYTES * 4);

    (void) buf_printf(&loc, "%slogin?from=", w->root);
    (void) url_encode(&loc, w->req->raw_path);
    w->resp->status = 302;
    buf_clear(&w->resp->body);
    resp_header(w->resp, "Location", buf_str(&loc));
    resp_header(w->resp, "Cache-Control", "no-store");
    buf_release(&loc);
}

/* ---- pieces ---- */

const char *
web_crumb(struct web *w)
{
    if (!w->crumb[0] && !w->req->id.anonymous)
        auth_crumb(w->app->auth, w->req->id.name,
                   w->req->session_id[0] ? w->req->session_id : NULL, w->crumb);
    return w->crumb;
}

void
web_crumb_field(struct buf *b, struct web *w)
{
    html_raw(b, "<input type=\"hidden\" name=\"" CRUMB_FIELD "\" value=\"");
    html_attr(b, web_crumb(w));
    html_raw(b, "\">");
}

void
web_job_href(struct buf *b, const struct web *w, const char *job, const char *suffix)
{
    html_attr(b, w->base);
    html_raw(b, "job/");
    html_url_arg(b, job);
    html_raw(b, "/");
    html_attr(b, suffix ? suffix : "");
}

const char *
web_job_path(const char *job, const char *suffix)
{
    struct buf b = BUF_INIT(BOUND_JOB_NAME_BYTES * 3 + 1);
    const char *s;

    (void) url_encode(&b, job);
    s = rfmt("job/%s/%s", buf_str(&b), suffix ? suffix : "");
    buf_release(&b);
    return s;
}

void
web_build_href(struct buf *b, const struct web *w, const char *job, int64_t number,
               const char *suffix)
{
    web_job_href(b, w, job, NULL);
    html_int(b, number);
    html_raw(b, "/");
    html_attr(b, suffix ? suffix : "");
}

enum web_status
web_status_of(const char *result)
{
    if (!result)
        return ST_RUNNING;
    if (streq(result, "SUCCESS"))
        return ST_SUCCESS;
    if (streq(result, "UNSTABLE"))
        return ST_UNSTABLE;
    if (streq(result, "FAILURE"))
        return ST_FAILURE;
    if (streq(result, "ABORTED"))
        return ST_ABORTED;
    return ST_NONE;
}

void
web_status_badge(struct buf *b, enum web_status st)
{
    /* symbol (hidden from screen readers) and word: colour is never the only signal */
    static const struct {
        const char *cls, *sym, *word;
    } v[] = {
        [ST_NONE] = { "none", "&#9675;", "Not built" },
        [ST_SUCCESS] = { "ok", "&#10003;", "Success" },
        [ST_UNSTABLE] = { "unstable", "&#9650;", "Unstable" },
        [ST_FAILURE] = { "fail", "&#10007;", "Failed" },
        [ST_ABORTED] = { "aborted", "&#9632;", "Aborted" },
        [ST_RUNNING] = { "running", "&#9679;", "Running" },
        [ST_QUEUED] = { "queued", "&#8230;", "Queued" },
        [ST_DISABLED] = { "disabled", "&#8856;", "Disabled" },
    };

    html_raw(b, "<span class=\"st st-");
    html_raw(b, v[st].cls);
    html_raw(b, "\"><span class=\"sym\" aria-hidden=\"true\">");
    html_raw(b, v[st].sym);
    html_raw(b, "</span>");
    html_raw(b, v[st].word);
    html_raw(b, "</span>");
}

static void
utc_text(char *out, size_t size, int64_t ms)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void
web_time_ago(struct buf *b, int64_t now_ms, int64_t at_ms)
{
    char iso[40], text[48];
    int64_t s = (now_ms - at_ms) / 1000;
    time_t t = (time_t) (at_ms / 1000);
    struct tm tm;

    if (at_ms <= 0) {
        html_raw(b, "never");
        return;
    }
    gmtime_r(&t, &tm);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    utc_text(text, sizeof text, at_ms);
    html_raw(b, "<time datetime=\"");
    html_attr(b, iso);
    html_raw(b, "\" title=\"");
    html_attr(b, text);
    html_raw(b, "\">");
    if (s < 0)
        s = 0;
    if (s < 5)
        html_raw(b, "just now");
    else if (s < 60)
        buf_printf(b, "%lld s ago", (long long) s);
    else if (s < 3600)
        buf_printf(b, "%lld min ago", (long long) (s / 60));
    else if (s < 2 * 86400)
        buf_printf(b, "%lld h ago", (long long) (s / 3600));
    else if (s < 60 * 86400)
        buf_printf(b, "%lld days ago", (long long) (s / 86400));
    else
        html_text(b, text);
    html_raw(b, "</time>");
}

void
web_duration(struct buf *b, int64_t ms)
{
    int64_t s = ms / 1000;

    if (ms < 0)
        html_raw(b, "&ndash;");
    else if (ms < 1000)
        buf_printf(b, "%lld ms", (long long) ms);
    else if (s < 60)
        buf_printf(b, "%lld.%lld s", (long long) s, (long long) (ms % 1000 / 100));
    else if (s < 3600)
        buf_printf(b, "%lld min %lld s", (long long) (s / 60), (long long) (s % 60));
    else
        buf_printf(b, "%lld h %lld min", (long long) (s / 3600), (long long) (s % 3600 / 60));
}

void
web_unsupported_notice(struct buf *b, const struct job_config *cfg)
{
    struct unsupported u;
    size_t pos = 0;
    bool fails = jobcfg_fails_unsupported(cfg);

    if (!cfg->unsupported)
        return;
    html_raw(b, fails ? "<div class=\"notice bad\" role=\"alert\" id=\"unsupported\"><p><strong>"
                        "Builds of this job fail:</strong> Steward does not run "
                      : "<div class=\"notice warn\" id=\"unsupported\"><p><strong>Not run:"
                        "</strong> Steward does not run ");
    html_raw(b, fails ? "some of its parts. Remove or replace those marked &ldquo;fails&rdquo;."
                      : "these parts of the job; builds run without them.");
    html_raw(b, "</p><ul>");
    while (jobcfg_next_unsupported(cfg, &pos, &u)) {
        html_raw(b, "<li><code>");
        html_text(b, u.element);
        html_raw(b, u.verdict == SUPPORT_FAILS ? "</code> <strong>fails</strong>: "
                                               : "</code> skipped: ");
        html_text(b, u.note);
        html_raw(b, "</li>");
    }
    html_raw(b, "</ul></div>");
}

void
web_causes(struct buf *b, const struct cause *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            html_raw(b, "; ");
        if (c[i].kind == CAUSE_TIMER)
            html_raw(b, "timer");
        else if (c[i].kind == CAUSE_SCM)
            html_raw(b, "an SCM change");
        else if (c[i].kind == CAUSE_GITHUB) {
            html_raw(b, "GitHub push by ");
            html_text(b, c[i].user_name ? c[i].user_name : "");
        } else if (c[i].kind == CAUSE_GITLAB)
            html_text(b, c[i].addr ? c[i].addr : "GitLab push");
        else if (c[i].kind == CAUSE_COMMIT) {
            html_raw(b, "commit notification <code>");
            html_text(b, c[i].note ? c[i].note : "");
            html_raw(b, "</code>");
        } else if (c[i].kind == CAUSE_UPSTREAM) {
            html_raw(b, "upstream project ");
            html_text(b, c[i].addr ? c[i].addr : "");
            html_raw(b, " build #");
            html_int(b, c[i].note ? strtoll(c[i].note, NULL, 10) : 0);
        } else if (c[i].kind == CAUSE_REMOTE) {
            html_raw(b, "trigger token from ");
            html_text(b, c[i].addr ? c[i].addr : "an unknown address");
            if (c[i].note) {
                html_raw(b, " (&ldquo;");
                html_text(b, c[i].note);
                html_raw(b, "&rdquo;)");
            }
        } else {
            html_text(b, c[i].user_name ? c[i].user_name : "anonymous");
            if (c[i].token_name) {
                html_raw(b, " with API token &ldquo;");
                html_text(b, c[i].token_name);
                html_raw(b, "&rdquo;");
            }
        }
        if (c[i].count > 1)
            buf_printf(b, " &times;%lld", (long long) c[i].count);
    }
}

void
web_param_values(struct buf *b, const struct param_value *p, size_t n, bool short_values)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = p[i].type == PARAM_FILE ? upload_shown_name(p[i].value)
                        : p[i].value                ? p[i].value
                                                    : "";

        html_raw(b, "<span class=\"pv\"><span class=\"pn\">");
        html_text(b, p[i].name);
        html_raw(b, "</span>=");
        if (p[i].type == PARAM_PASSWORD)
            html_raw(b, "<span class=\"masked\" title=\"password parameter\">&bull;&bull;&bull;"
                        "&bull;&bull;&bull;</span>");
        else if (short_values && strlen(v) > 40) {
            /* cut on a character boundary */
            size_t cut = 37;
            _cleanup_free_ char *s = NULL;
            while (cut > 0 && ((unsigned char) v[cut] & 0xc0) == 0x80)
                cut--;
            s = strndup(v, cut);
            html_text(b, s);
            html_raw(b, "&hellip;");
        } else
            html_text(b, v);
        html_raw(b, "</span> ");
    }
}
