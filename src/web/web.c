/* SPDX-License-Identifier: MIT */
/*
 * Which requests are the web layer's. It answers only HTML pages, and it
 * must never take a request from an API client: `/`, `/job/NAME/` and
 * `/job/NAME/N/` are pages only for a browser (Accept lists text/html),
 * since python-jenkins and friends GET the same URLs; the other pages live
 * on paths the Jenkins API does not have.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/strutil.h"
#include "web/page.h"
#include "web/web.h"

#define SEG(i) req_seg(req, (i))
#define SEG_IS(i, s) req_seg_is(req, (i), (s))


/* A build number or one of Jenkins' permalinks. */
static bool
is_build_ref(const char *s)
{
    static const char *const links[] = { "lastBuild", "lastSuccessfulBuild", "lastFailedBuild",
                                         "lastCompletedBuild", "lastStableBuild",
                                         "lastUnstableBuild", "lastUnsuccessfulBuild",
                                         "firstBuild" };
    int64_t n;

    if (parse_int64(s, 1, INT64_MAX, &n) == 0)
        return true;
    for (size_t i = 0; i < ELEMENTSOF(links); i++)
        if (streq(s, links[i]))
            return true;
    return false;
}

/* /job/NAME/...: returns false when the API should answer. */
static bool
route_job(struct web *w, bool html)
{
    struct req *req = w->req;
    const char *name = SEG(1), *what = SEG(2);

    if (req->n_seg == 2) {
        if (!html || !req_is_get(req))
            return false;
        web_job_page(w, name);
        return true;
    }
    if (req->n_seg == 3 && streq(what, "configure")) {
        web_configure_page(w, name);
        return true;
    }
    if (req->n_seg == 3 && streq(what, "delete") && req_is_get(req)) {
        web_job_delete_page(w, name);
        return true;
    }
    if (req->n_seg == 3 && streq(what, "buildNow")) {
        web_job_build(w, name);
        return true;
    }
    if (req->n_seg == 3 && html && req_is_get(req) && is_build_ref(what)) {
        web_build_page(w, name, what);
        return true;
    }
    if (req->n_seg == 4 && SEG_IS(3, "console") && req_is_get(req) && is_build_ref(what)) {
        web_build_page(w, name, what);
        return true;
    }
    return false;
}

static bool
route(struct web *w)
{
    struct req *req = w->req;
    const char *s0 = SEG(0);
    bool html = req_wants_html(req);

    if (!s0) {
        if (!html || !req_is_get(req))
            return false;
        web_dashboard(w);
        return true;
    }
    if (streq(s0, "static"))
        return web_static(w);
    if (streq(s0, "login") && req->n_seg == 1) {
        web_login_page(w, false);
        return true;
    }
    if (streq(s0, "j_spring_security_check") && req->is_post) {
        web_login_submit(w);
        return true;
    }
    if (streq(s0, "logout")) {
        web_logout(w);
        return true;
    }
    if (streq(s0, "job") && req->n_seg >= 2)
        return route_job(w, html);
    if (streq(s0, "newJob") && req->n_seg == 1) {
        web_new_job(w);
        return true;
    }
    if (streq(s0, "me") && SEG_IS(1, "configure") && req->n_seg == 2) {
        web_user_page(w, NULL);
        return true;
    }
    if (streq(s0, "user") && SEG_IS(2, "configure") && req->n_seg == 3) {
        web_user_page(w, SEG(1));
        return true;
    }
    if (streq(s0, "manage") && SEG_IS(1, "users") && req->n_seg == 2) {
        web_users_page(w);
        return true;
    }
    /* the API's queue cancel answers 302 to /queue/: a browser lands on the dashboard */
    if (streq(s0, "queue") && req->n_seg == 1 && html && req_is_get(req)) {
        web_redirect(w, "#queue");
        return true;
    }
    return false;
}

bool
web_handle(const struct app *app, struct req *req, struct resp *resp)
{
    struct timespec a, b;
    struct web w;
    bool handled;

    if (!req->n_seg && !req_wants_html(req))
        return false; /* the API's `/`, with X-Jenkins, for scripts */
    /* a request the HTTP layer found broken gets the API's refusal (HTML for browsers) */
    if (req->body_problem != BODY_OK && !req->is_post)
        return false;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (web_init(&w, app, req, resp) < 0)
        return false;
    handled = route(&w);
    web_release(&w);
    if (handled) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        /* how long the page took on the server (bench/web.py reads it) */
        resp_header(resp, "Server-Timing",
                    rfmt("app;dur=%.3f", (double) (b.tv_sec - a.tv_sec) * 1e3 +
                                             (double) (b.tv_nsec - a.tv_nsec) / 1e6));
    }
    return handled;
}
