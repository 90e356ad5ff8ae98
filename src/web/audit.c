/* SPDX-License-Identifier: MIT */
/*
 * /manage/audit, for administrators: the audit log, newest first, with the
 * filters of GET /manage/audit/api/json and a link to older entries.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/bounds.h"
#include "util/strutil.h"
#include "web/page.h"

static void
filter_field(struct buf *b, struct web *w, const char *name, const char *label, const char *hint)
{
    const char *v = req_param(w->req, name);

    html_raw(b, "<label for=\"a-");
    html_attr(b, name);
    html_raw(b, "\">");
    html_text(b, label);
    html_raw(b, "</label><input type=\"text\" id=\"a-");
    html_attr(b, name);
    html_raw(b, "\" name=\"");
    html_attr(b, name);
    html_raw(b, "\" placeholder=\"");
    html_attr(b, hint);
    html_raw(b, "\" value=\"");
    html_attr(b, v ? v : "");
    html_raw(b, "\">");
}

static void
utc(struct buf *b, int64_t ms)
{
    char s[32];
    time_t t = (time_t) (ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm);
    html_text(b, s);
}

void
web_audit_page(struct web *w)
{
    static const char *const keys[] = { "since", "until", "user", "job", "action" };
    struct audit_row *rows = NULL;
    struct audit_filter f;
    const char *why = NULL;
    struct buf *b;
    size_t n = 0;

    b = web_begin(w, "Audit log", "audit");
    html_raw(b, "<h1>Audit log</h1>");
    if (app_audit_filter(w->req, &f, &why) < 0 ||
        store_audit_list(w->req->db, &f, &rows, &n) < 0) {
        html_raw(b, "<p class=\"notice bad\" role=\"alert\">");
        html_text(b, why ? why : "The audit log could not be read.");
        html_raw(b, "</p>");
    }
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-filter\"><h2 id=\"h-filter\">Filter"
                "</h2><form method=\"get\" action=\"");
    html_attr(b, w->base);
    html_raw(b, "manage/audit\">");
    filter_field(b, w, "since", "Since", "7d, 2026-12-01, 2026-12-01T09:00Z");
    filter_field(b, w, "until", "Until", "1h, 2026-12-02");
    filter_field(b, w, "user", "User", "a user name, or anonymous");
    filter_field(b, w, "job", "Job", "a job name");
    filter_field(b, w, "action", "Action", "trigger, login-failed, job-configure, grant...");
    html_raw(b, "<p class=\"actions\"><button class=\"btn primary\" type=\"submit\">Show</button>"
                "</p></form></section><section class=\"card\" aria-labelledby=\"h-entries\"><h2 "
                "id=\"h-entries\">Entries</h2>");
    if (n == 0)
        html_raw(b, "<p class=\"empty\">No entry matches.</p>");
    else
        html_raw(b, "<div class=\"tablewrap\"><table id=\"audit\"><thead><tr><th scope=\"col\">"
                    "Time (UTC)</th><th scope=\"col\">User</th><th scope=\"col\">How</th><th "
                    "scope=\"col\">From</th><th scope=\"col\">Action</th><th scope=\"col\">Job"
                    "</th><th scope=\"col\">Detail</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const struct audit_row *a = &rows[i];

        html_raw(b, "<tr><td class=\"nowrap\">");
        utc(b, a->time_ms);
        html_raw(b, "</td><td>");
        html_text(b, a->actor);
        html_raw(b, "</td><td>");
        html_text(b, a->via);
        if (a->token_name) {
            html_raw(b, " <span class=\"hint\">");
            html_text(b, a->token_name);
            html_raw(b, "</span>");
        }
        html_raw(b, "</td><td>");
        html_text(b, a->addr ? a->addr : "");
        html_raw(b, "</td><td>");
        html_text(b, a->action);
        html_raw(b, "</td><td>");
        html_text(b, a->job ? a->job : "");
        html_raw(b, "</td><td>");
        html_text(b, a->detail ? a->detail : "");
        html_raw(b, "</td></tr>");
    }
    if (n)
        html_raw(b, "</tbody></table></div>");
    if (n && n == (size_t) f.limit) {
        html_raw(b, "<p class=\"actions\"><a class=\"btn\" id=\"older\" href=\"");
        html_attr(b, w->base);
        html_raw(b, "manage/audit?before=");
        html_int(b, rows[n - 1].id);
        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
            if (req_param(w->req, keys[k]) && *req_param(w->req, keys[k])) {
                html_raw(b, "&amp;");
                html_raw(b, keys[k]);
                html_raw(b, "=");
                html_url_arg(b, req_param(w->req, keys[k]));
            }
        html_raw(b, "\">Older entries</a></p>");
    }
    html_raw(b, "<p class=\"hint\">Also as JSON: <code>manage/audit/api/json</code> (the same "
                "filters), and offline: <code>steward --home DIR audit</code>.</p></section>");
    audit_rows_free(rows, n);
    web_end(w, why ? 400 : 200);
}
