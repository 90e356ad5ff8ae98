/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the web layer's pages share: one request's context, the form
 * check, the page frame, error pages, redirects, and the
 * small formatters (status, times, durations, links). Private to src/web.
 *
 * Every dynamic value goes through html_text, html_attr or html_url_arg;
 * html_raw takes string literals only.
 */

#include <stdbool.h>
#include <stdint.h>

#include "http/app.h"
#include "util/html.h"
#include "util/secret.h"

/* One request as the web layer sees it. */
struct web {
    const struct app *app;
    struct req *req;
    struct resp *resp;
    char *root;                        /* absolute root URL, with a trailing '/' */
    const char *base;                  /* its path part, e.g. "/" (lent from root) */
    char crumb[SECRET_HMAC_HEX_LEN + 1]; /* see web_crumb() */
    int64_t now;                       /* wall clock, ms */
};

/* The quiet-down notice, when the server is quieting down (web_begin shows it). */
void web_quiet_banner(struct web *w, struct buf *b);
int web_init(struct web *w, const struct app *app, struct req *req, struct resp *resp);
void web_release(struct web *w);

/* The request's body: answers 400/413 and returns false when it is unusable. */
bool web_body_ok(struct web *w);
/*
 * A page's notices: the one ?msg=CODE names (from `messages`; none when w
 * is NULL), then `error` when not NULL.
 */
struct web_message {
    const char *code, *text;
};
void web_notices(struct buf *b, struct web *w, const struct web_message *messages, size_t n,
                 const char *error);

/* May the caller do `p` on the job named `job` (NULL: outside any job)? */
bool web_may(struct web *w, enum perm p, const char *job);

/*
 * For a POST the web layer handles: the method must be POST and the body
 * usable; answers 405, 400 or 413 and returns false otherwise. (Who may
 * post, and the crumb of a session's POST, the route table has checked.)
 */
bool web_check_post(struct web *w);

/* Starts a page: clears the body, writes the frame. Returns the body. */
struct buf *web_begin(struct web *w, const char *title, const char *current);
/* Ends a page and sets the status and headers of an HTML answer. */
void web_end(struct web *w, int status);
/* Sends the body as an HTML fragment (for the pages' live parts). */
void web_fragment(struct web *w);

/*
 * An error page: `status`, a one-line title, what happened, how to fix it,
 * and an optional link (path below the root) with its text.
 */
void web_error(struct web *w, int status, const char *title, const char *presented,
               const char *fix, const char *link, const char *link_text);
/* 404 page for a missing object ("Job 'x'"). */
void web_not_found(struct web *w, const char *what);

/* 303 See Other to a path below the root (already encoded). */
void web_redirect(struct web *w, const char *path);
/* 302 to the login page, coming back to this request's path afterwards. */
void web_login_redirect(struct web *w);

/* ---- pieces of markup ---- */

/* This session's CSRF crumb, made on first use; "" for anonymous callers. */
const char *web_crumb(struct web *w);
/* The hidden crumb field of a form. */
void web_crumb_field(struct buf *b, struct web *w);
/*
 * Opens a POST form to base + action_path with the crumb and a hidden
 * action=`action`; `in_row` keeps it on the line (table rows); `confirm`
 * (or NULL) is the question the page script asks before it is sent.
 */
void web_form_open(struct buf *b, struct web *w, bool in_row, const char *action_path,
                   const char *action, const char *confirm);
/* Appends, escaped for an attribute: base + "job/" + encoded name + "/" + suffix. */
void web_job_href(struct buf *b, const struct web *w, const char *job, const char *suffix);
/* "job/" + encoded name + "/" + suffix, a path below the root (thread-local, see rfmt). */
const char *web_job_path(const char *job, const char *suffix);
/* The same for a build: base + "job/NAME/N/" + suffix. */
void web_build_href(struct buf *b, const struct web *w, const char *job, int64_t number,
                    const char *suffix);

enum web_status {
    ST_NONE,       /* never built */
    ST_SUCCESS,
    ST_UNSTABLE,
    ST_FAILURE,
    ST_ABORTED,
    ST_RUNNING,
    ST_QUEUED,
    ST_DISABLED,
};
/* Maps a build result (NULL while running) to a status. */
enum web_status web_status_of(const char *result);
/* A status badge: colour, a symbol and a word (never colour alone). */
void web_status_badge(struct buf *b, enum web_status st);
/* "3 min ago" with the exact UTC time as a tooltip, in a <time>. */
void web_time_ago(struct buf *b, int64_t now_ms, int64_t at_ms);
/* "850 ms", "12 s", "3 min 4 s", "2 h 5 min". */
void web_duration(struct buf *b, int64_t ms);
/* The cause of a build or queue item in words: who, which token, from where. */
void web_causes(struct buf *b, const struct cause *c, size_t n);
/*
 * A warning that names the parts of the job Steward does not run, and
 * what each does to a build; nothing when every part runs.
 */
struct job_config;
void web_unsupported_notice(struct buf *b, const struct job_config *cfg);
/*
 * Parameter values as "NAME=value" items; password values are masked and
 * long values shortened when `short_values`.
 */
void web_param_values(struct buf *b, const struct param_value *p, size_t n, bool short_values);

/* ---- pages ---- */

bool web_static(struct web *w);                  /* /static/... */
void web_login_page(struct web *w, bool failed);
void web_login_submit(struct web *w);
void web_logout(struct web *w);
void web_dashboard(struct web *w);
void web_job_page(struct web *w, const char *job);
void web_job_build(struct web *w, const char *job);        /* POST /job/NAME/buildNow */
void web_job_delete_page(struct web *w, const char *job);  /* GET /job/NAME/delete */
void web_build_page(struct web *w, const char *job, const char *number);
void web_configure_page(struct web *w, const char *job);   /* GET/POST /job/NAME/configure */
void web_new_job(struct web *w);                           /* GET/POST /newJob */
void web_user_page(struct web *w, const char *user);       /* NULL: /me/configure */
void web_users_page(struct web *w);                        /* /manage/users */
void web_security_page(struct web *w);                     /* /manage/security */
void web_audit_page(struct web *w);                        /* /manage/audit */
void web_credentials_page(struct web *w);                  /* /manage/credentials */
void web_hooks_page(struct web *w);                        /* /manage/hooks */
void web_nodes_page(struct web *w);                        /* /manage/nodes */
void web_nodes_add(struct web *w);                         /* POST /manage/nodes/add */
void web_node_page(struct web *w, const char *name);       /* /computer/NAME/ (browsers) */
/* web/tests.c: test results and pictures */
void web_test_report_page(struct web *w, const char *job, const char *build); /* N/testReport/ */
void web_trend_page(struct web *w, const char *job);       /* /job/NAME/buildTimeTrend */
/* The trend charts (SVG) of a job's last 50 finished builds. */
void web_trend_charts(struct buf *b, struct web *w, const char *job);
/* The weather icon (SVG) of a job's health; nothing before its first finished build. */
void web_weather(struct buf *b, struct web *w, const char *job);
/* The configure page's "Forge hooks": what GitHub, GitLab and notifyCommit need (web/hooks.c). */
void web_hooks_panel(struct buf *b, struct web *w, const char *job, const struct job_config *cfg);
/* A <select> of the permissions: all of them, or (global false) those a job can grant. */
void web_permission_select(struct buf *b, const char *id, const char *name, bool global);

/* ---- the "How to trigger this job" commands (pure; tested by unit tests) ---- */

/*
 * The curl command that triggers `job` with a user API token (HTTP Basic,
 * POST), and the one with the job's trigger token in the URL. `root` is
 * the absolute root URL with a trailing '/'; parameters get their
 * defaults. The result is plain text (escape it for HTML), quoted for a
 * POSIX shell.
 */
int web_curl_with_api_token(struct buf *out, const char *root, const char *job,
                            const char *user, const char *const *param_names,
                            const char *const *param_values, size_t n_params);
int web_curl_with_trigger_token(struct buf *out, const char *root, const char *job,
                                const char *token, const char *const *param_names,
                                const char *const *param_values, size_t n_params);
/* A command (or a value to paste) in a <pre id=`id`> with a Copy button; `what` names it. */
void web_command_box(struct buf *b, const char *id, const char *cmd, const char *what);
/* Appends `s` quoted for a POSIX shell ('...' with '\'' for quotes). */
int web_shell_quote(struct buf *out, const char *s);
