/* SPDX-License-Identifier: MIT */
/*
 * The pages as route handlers: each sets up one request's `struct web`,
 * runs the page and says how long it took. Which requests are pages is the
 * route table's business (api/routes.c): it never gives a page a request
 * from an API client, since `/`, `/job/NAME/` and `/job/NAME/N/` are pages
 * only for a browser (Accept lists text/html).
 */
#include <time.h>

#include "http/route.h"
#include "util/macro.h"
#include "util/strutil.h"
#include "web/page.h"
#include "web/web.h"

#define PAGE(name, call)                                                                     \
    static void name(const struct app *app, struct req *req, struct resp *resp,             \
                     struct job *job)                                                        \
    {                                                                                        \
        struct timespec a, b;                                                                \
        struct web w;                                                                        \
                                                                                             \
        (void) job;                                                                          \
        clock_gettime(CLOCK_MONOTONIC, &a);                                                  \
        if (web_init(&w, app, req, resp) < 0) {                                              \
            resp_set(resp, 500, "text/plain;charset=UTF-8", "Out of memory.\n", 15);         \
            return;                                                                          \
        }                                                                                    \
        call;                                                                                \
        web_release(&w);                                                                     \
        clock_gettime(CLOCK_MONOTONIC, &b);                                                  \
        /* how long the page took on the server (bench/web.py reads it) */                   \
        resp_header(resp, "Server-Timing",                                                   \
                    rfmt("app;dur=%.3f", (double) (b.tv_sec - a.tv_sec) * 1e3 +              \
                                             (double) (b.tv_nsec - a.tv_nsec) / 1e6));       \
    }

PAGE(web_page_dashboard, web_dashboard(&w))
PAGE(web_page_static, (void) web_static(&w))
PAGE(web_page_login, web_login_page(&w, false))
PAGE(web_page_login_submit, web_login_submit(&w))
PAGE(web_page_logout, web_logout(&w))
PAGE(web_page_job, web_job_page(&w, req->seg[1]))
PAGE(web_page_configure, web_configure_page(&w, req->seg[1]))
PAGE(web_page_job_delete, web_job_delete_page(&w, req->seg[1]))
PAGE(web_page_build_now, web_job_build(&w, req->seg[1]))
PAGE(web_page_build, web_build_page(&w, req->seg[1], req->seg[2]))
PAGE(web_page_test_report, web_test_report_page(&w, req->seg[1], req->seg[2]))
PAGE(web_page_trend, web_trend_page(&w, req->seg[1]))
PAGE(web_page_new_job, web_new_job(&w))
PAGE(web_page_me, web_user_page(&w, NULL))
PAGE(web_page_user, web_user_page(&w, req->seg[1]))
PAGE(web_page_users, web_users_page(&w))
PAGE(web_page_security, web_security_page(&w))
PAGE(web_page_audit, web_audit_page(&w))
PAGE(web_page_credentials, web_credentials_page(&w))
PAGE(web_page_hooks, web_hooks_page(&w))
PAGE(web_page_nodes, web_nodes_page(&w))
PAGE(web_page_nodes_add, web_nodes_add(&w))
PAGE(web_page_node, web_node_page(&w, req->seg[1]))
PAGE(web_page_computers, web_redirect(&w, "manage/nodes"))
/* the API's queue cancel answers 302 to /queue/: a browser lands on the dashboard */
PAGE(web_page_queue, web_redirect(&w, "#queue"))

#define GET ROUTE_GET | ROUTE_PAGE
#define POST ROUTE_POST | ROUTE_PAGE
#define ANY ROUTE_ANY | ROUTE_PAGE
#define HTML ROUTE_HTML
#define JOB ROUTE_JOB
#define FORM ROUTE_FORM
#define OPEN ROUTE_NOBODY_CHECKS
#define SIGNED_IN ROUTE_SIGNED_IN, 0
#define SELF_OR_ADMIN ROUTE_SELF_OR_ADMIN, 0
#define NEEDS ROUTE_NEEDS

/*
 * The pages, looked at before the API's routes: some share a path with the
 * API and are for browsers only (HTML).
 */
static const struct route routes[] = {
    { "", GET | HTML, NEEDS(READ), web_page_dashboard },
    { "static/*", ANY, OPEN, web_page_static },
    { "login", ANY, OPEN, web_page_login },
    { "j_spring_security_check", POST | FORM, OPEN, web_page_login_submit },
    { "logout", GET | POST | FORM, OPEN, web_page_logout },
    { "job/*", GET | HTML | JOB, NEEDS(JOB_READ), web_page_job },
    { "job/*/configure", GET | POST | FORM | JOB, NEEDS(JOB_CONFIGURE), web_page_configure },
    { "job/*/delete", GET | JOB, NEEDS(JOB_DELETE), web_page_job_delete },
    { "job/*/buildNow", POST | FORM | JOB, NEEDS(JOB_BUILD), web_page_build_now },
    { "job/*/{build}", GET | HTML | JOB, NEEDS(JOB_READ), web_page_build },
    { "job/*/{build}/console", GET | JOB, NEEDS(JOB_READ), web_page_build },
    { "job/*/{build}/testReport", GET | HTML | JOB, NEEDS(JOB_READ), web_page_test_report },
    { "job/*/buildTimeTrend", GET | JOB, NEEDS(JOB_READ), web_page_trend },
    { "newJob", GET | POST | FORM, NEEDS(JOB_CREATE), web_page_new_job },
    { "me/configure", GET | POST | FORM, SIGNED_IN, web_page_me },
    { "user/*/configure", GET | POST | FORM, SELF_OR_ADMIN, web_page_user },
    { "manage/users", GET | POST | FORM, NEEDS(ADMINISTER), web_page_users },
    { "manage/security", GET | POST | FORM, NEEDS(ADMINISTER), web_page_security },
    { "manage/audit", GET, NEEDS(ADMINISTER), web_page_audit },
    /* adding and removing take Credentials/Create and /Delete: the page checks */
    { "manage/credentials", GET | POST | FORM, NEEDS(CREDENTIALS_VIEW), web_page_credentials },
    /* the JSON of the deliveries is the API's, at manage/hooks/api/json */
    { "manage/hooks", GET | POST | FORM, NEEDS(ADMINISTER), web_page_hooks },
    { "manage/nodes", GET, NEEDS(READ), web_page_nodes },
    { "manage/nodes/add", POST | FORM, NEEDS(COMPUTER_CREATE), web_page_nodes_add },
    { "computer", GET | HTML, NEEDS(READ), web_page_computers },
    { "computer/*", GET | HTML, NEEDS(READ), web_page_node },
    { "queue", GET | HTML, NEEDS(READ), web_page_queue },
};

const struct route_table web_routes = { routes, ELEMENTSOF(routes) };
