/* SPDX-License-Identifier: MIT */
/*
 * /prometheus/: Steward's metrics in Prometheus' text format, under the
 * names Jenkins' Prometheus plugin gives them, so that dashboards and
 * alerts made for Jenkins read Steward unchanged:
 *
 *   - the plugin's own, with its default prefix "default_jenkins_"
 *     (namespace "default", subsystem "jenkins"; per job with the labels
 *     jenkins_job, repo and buildable): builds by result, their durations,
 *     the last build, the executors of the built-in node, up and uptime;
 *   - those of the Metrics plugin, which the Prometheus plugin exports
 *     under their Dropwizard names, with no prefix (jenkins_queue_size_value,
 *     jenkins_executor_in_use_value, ...);
 *   - Steward's own counters, steward_*: triggers, refused triggers,
 *     failed authentication, HTTP answers.
 *
 * Per-job figures come from the job_stats table, one query over the jobs
 * (never one per job, nor one over every build); counters from
 * core/metrics; the queue and executors from one snapshot the engine
 * takes. As the plugin does by default, disabled jobs and jobs that never
 * finished a build are left out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/prometheus.h"
#include "api/promtext.h"
#include "core/metrics.h"
#include "util/bounds.h"
#include "util/strutil.h"

#define NS "default_jenkins_"
#define BUILDS NS "builds_"
/* Jenkins' name for its built-in node's label (Jenkins.get().getLabels()) */
#define BUILT_IN_LABEL "built-in"

/* ---- who may read ---- */

#define ACCEPTS_METRICS                                                                            \
    "/prometheus/ accepts the metrics token as 'Authorization: Bearer TOKEN' (made on the "      \
    "server with steward metrics token new), or a user who may read Steward: HTTP Basic "        \
    "authentication with the user name and an API token."

/* The value of "Authorization: Bearer VALUE", or NULL when the request sent none. */
static const char *
bearer_token(const struct req *req)
{
    const char *a = req_header(req, "Authorization");

    if (!a || strncasecmp(a, "Bearer ", 7) != 0)
        return NULL;
    for (a += 7; *a == ' '; a++)
        ;
    return a;
}

/* `r` is what auth_metrics_token_check returned, or 0 when no Bearer token was sent. */
static void
refuse_scraper(const struct app *app, struct req *req, struct resp *resp, int r,
               const char *bearer)
{
    struct refusal rf = {
        .status = 401,
        .error = "Invalid metrics token",
        .accepts = ACCEPTS_METRICS,
        .fix = "Give the scraper the current metrics token (a Prometheus scrape config takes it "
               "as authorization: credentials_file: FILE), or use curl -u USER:APITOKEN.",
    };

    if (r == -EBUSY) {
        int wait = auth_throttle_wait(app->auth, req->addr, AUTH_SUBJECT_METRICS);
        char seconds[16], presented[160], fix[96];

        snprintf(seconds, sizeof seconds, "%d", wait);
        snprintf(presented, sizeof presented, "This address (%s) sent too many wrong "
                 "credentials in the last minute.", req->addr);
        snprintf(fix, sizeof fix, "Wait %d seconds, then send the current metrics token.", wait);
        resp_header(resp, "Retry-After", seconds);
        rf.status = 429;
        rf.error = "Too many failed logins";
        rf.presented = presented;
        rf.fix = fix;
        refuse(app, req, resp, &rf);
        return;
    }
    if (!bearer) {
        rf.error = "Authentication required";
        rf.presented = "The request carried no credentials (no Authorization header and no "
                       "session), and anonymous users may not read this server.";
    } else if (r == -ENOENT) {
        rf.error = "No metrics token is set";
        rf.presented = "The request sent a Bearer token, but this server has no metrics token: "
                       "none was made, or it was revoked.";
        rf.fix = "Make one on the server with steward --home DIR metrics token new, and give it "
                 "to the scraper.";
    } else if (auth_looks_like_api_token(bearer)) {
        rf.presented = "The request sent a Bearer token shaped like a user API token (11 "
                       "followed by 32 hex digits). A user API token is the password of HTTP "
                       "Basic authentication, with its user name.";
        rf.fix = "Send curl -u USER:APITOKEN, or the metrics token (it starts with stm_) as "
                 "Bearer.";
    } else {
        rf.presented = "The request sent a Bearer token, and it is not the metrics token "
                       "(mistyped, or replaced or revoked since).";
        rf.fix = "Give the scraper the current metrics token. steward --home DIR metrics token "
                 "new makes a new one (the old one then stops working).";
    }
    resp_header(resp, "WWW-Authenticate", "Bearer realm=\"Steward\"");
    resp_header(resp, "WWW-Authenticate", "Basic realm=\"Steward\"");
    refuse(app, req, resp, &rf);
}

/* ---- per job ---- */

struct job_entry {
    const struct job_stats_row *stats;
    const struct job *job;
    int64_t running_number;     /* the newest running build, 0 when none */
    int64_t running_start_ms;
};

static int
entry_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct job_entry *) elem)->job->name);
}

/*
 * Pairs each job_stats row with its job; both lists are sorted by name in
 * byte order, so one walk does it. Disabled jobs stay out (the plugin's
 * default), and so do rows of jobs no longer there.
 */
static size_t
pair_jobs(const struct job_stats_row *rows, size_t n_rows, struct job **jobs, size_t n_jobs,
          struct job_entry *out)
{
    size_t n = 0, k = 0;

    for (size_t i = 0; i < n_rows; i++) {
        int c = 1;

        while (k < n_jobs && (c = strcmp(jobs[k]->name, rows[i].job)) < 0)
            k++;
        if (k < n_jobs && c == 0 && !jobs[k]->cfg->disabled)
            out[n++] = (struct job_entry){ .stats = &rows[i], .job = jobs[k] };
    }
    return n;
}

/* The running builds, from the store: each job keeps its newest. */
static void
add_running(struct req *req, struct job_entry *v, size_t n)
{
    struct build_row *rows = NULL;
    size_t n_rows = 0;

    if (n == 0 || store_build_list_running(req->db, &rows, &n_rows) < 0)
        return;
    for (size_t i = 0; i < n_rows; i++) {
        struct job_entry *e = bsearch(rows[i].job, v, n, sizeof *v, entry_cmp);
        if (e && rows[i].number > e->running_number) {
            e->running_number = rows[i].number;
            e->running_start_ms = rows[i].start_ms;
        }
    }
    build_rows_free(rows, n_rows);
}

/* Jenkins' Result.ordinal: what default_jenkins_builds_last_build_result_ordinal shows. */
static int
result_ordinal(const char *result)
{
    static const char *const order[] = { "SUCCESS", "UNSTABLE", "FAILURE", "NOT_BUILT", "ABORTED" };

    for (size_t i = 0; result && i < ELEMENTSOF(order); i++)
        if (streq(result, order[i]))
            return (int) i;
    return -1;
}

enum job_field {
    F_SUCCESS,
    F_FAILED,
    F_UNSTABLE,
    F_ABORTED,
    F_TOTAL,
    F_DISCARD,
    F_RUNNING_MS,
    F_LAST_ORDINAL,
    F_LAST_OK,
    F_LAST_DURATION,
    F_LAST_START,
};

/* The plugin's per-job families with its help texts (the summary is apart: two samples a job). */
static const struct {
    const char *name;
    enum prom_type type;
    enum job_field field;
    const char *help;
} job_families[] = {
    { BUILDS "success_build_count_total", PROM_COUNTER, F_SUCCESS, "Successful build count" },
    { BUILDS "failed_build_count_total", PROM_COUNTER, F_FAILED, "Failed build count" },
    { BUILDS "unstable_build_count_total", PROM_COUNTER, F_UNSTABLE, "Unstable build count" },
    { BUILDS "aborted_build_count_total", PROM_COUNTER, F_ABORTED, "Aborted build count" },
    { BUILDS "total_build_count_total", PROM_COUNTER, F_TOTAL,
      "Total build count (excluding not_built statuses)" },
    { BUILDS "discard_active", PROM_GAUGE, F_DISCARD,
      "Indicates if the build discarder is active for the given job" },
    { BUILDS "running_build_duration_milliseconds", PROM_GAUGE, F_RUNNING_MS,
      "Indicates the runtime of the run currently building if there is a run currently building" },
    { BUILDS "last_build_result_ordinal", PROM_GAUGE, F_LAST_ORDINAL,
      "Build status of a job (0=SUCCESS, 1=UNSTABLE, 2=FAILURE, 3=NOT_BUILT, 4=ABORTED)" },
    { BUILDS "last_build_result", PROM_GAUGE, F_LAST_OK,
      "Build status of a job as a boolean (0 or 1)" },
    { BUILDS "last_build_duration_milliseconds", PROM_GAUGE, F_LAST_DURATION,
      "Build times in milliseconds of last build" },
    { BUILDS "last_build_start_time_milliseconds", PROM_GAUGE, F_LAST_START,
      "Last build start timestamp in milliseconds" },
};

/* The value of `f` for one job; false when the job has no such sample. */
static bool
job_value(const struct job_entry *e, enum job_field f, int64_t now, int64_t *ret)
{
    const struct job_stats_row *s = e->stats;
    const struct job_config *cfg = e->job->cfg;

    switch (f) {
    case F_SUCCESS:
        *ret = s->success;
        return true;
    case F_FAILED:
        *ret = s->failure;
        return true;
    case F_UNSTABLE:
        *ret = s->unstable;
        return true;
    case F_ABORTED:
        *ret = s->aborted;
        return true;
    case F_TOTAL:
        *ret = s->success + s->unstable + s->failure + s->aborted;
        return true;
    case F_DISCARD:
        *ret = cfg->keep_days >= 0 || cfg->keep_builds >= 0 || cfg->keep_artifact_days >= 0 ||
               cfg->keep_artifact_builds >= 0 || cfg->other_discarder;
        return true;
    case F_RUNNING_MS:
        *ret = MAX(now - e->running_start_ms, 0);
        return e->running_number > 0;
    case F_LAST_ORDINAL:
        *ret = result_ordinal(s->last_result);
        return true;
    case F_LAST_OK:
        /* as the plugin reads the ordinal: SUCCESS and UNSTABLE are 1 */
        *ret = result_ordinal(s->last_result) < 2;
        return true;
    case F_LAST_DURATION:
        *ret = s->last_duration_ms;
        return true;
    case F_LAST_START:
        *ret = s->last_start_ms;
        return true;
    }
    return false;
}

static void
render_jobs(struct prom *p, const struct job_entry *v, size_t n)
{
    int64_t now = now_ms(), x;

#define JOB_LABELS(e)                                                                              \
    (const char *const[]) { "jenkins_job", (e)->job->name, "repo", "NA", "buildable", "true", NULL }

    prom_family(p, BUILDS "duration_milliseconds_summary", PROM_SUMMARY,
                "Summary of Jenkins build times in milliseconds by Job");
    for (size_t i = 0; i < n; i++) {
        const struct job_stats_row *s = v[i].stats;
        prom_sample(p, BUILDS "duration_milliseconds_summary_count", JOB_LABELS(&v[i]),
                    s->success + s->unstable + s->failure + s->not_built + s->aborted);
        prom_sample(p, BUILDS "duration_milliseconds_summary_sum", JOB_LABELS(&v[i]),
                    s->duration_ms);
    }
    for (size_t f = 0; f < ELEMENTSOF(job_families); f++) {
        prom_family(p, job_families[f].name, job_families[f].type, job_families[f].help);
        for (size_t i = 0; i < n; i++)
            if (job_value(&v[i], job_families[f].field, now, &x))
                prom_sample(p, job_families[f].name, JOB_LABELS(&v[i]), x);
    }
#undef JOB_LABELS
}

/* ---- the server, its queue and executors ---- */

static void
gauge(struct prom *p, const char *name, const char *help, int64_t value)
{
    prom_family(p, name, PROM_GAUGE, help);
    prom_sample(p, name, NULL, value);
}

static void
render_server(struct prom *p, struct engine *engine, const struct engine_load *load,
              bool have_load, struct job **jobs, size_t n_jobs)
{
    size_t disabled = 0;

    prom_family(p, NS "version_info", PROM_GAUGE, "Jenkins Application Version");
    prom_sample(p, NS "version_info", (const char *const[]){ "version", HTTP_JENKINS_VERSION, NULL }, 1);
    gauge(p, NS "up", "Is Jenkins ready to receive requests", 1);
    gauge(p, NS "uptime", "Time since Jenkins machine was initialized", metrics_uptime_ms());
    gauge(p, NS "quietdown", "Is Jenkins in quiet mode",
          engine_quieting_down(engine, NULL, NULL));

    if (have_load) {
        /* the plugin's, per label: Steward's executors all belong to the built-in node */
        static const char *const label[] = { "label", BUILT_IN_LABEL, NULL };
        const int64_t idle = load->executors - load->busy;
        const struct {
            const char *name, *help;
            int64_t value;
        } ex[] = {
            { NS "executors_available", "Executors Available", idle },
            { NS "executors_busy", "Executors Busy", load->busy },
            { NS "executors_connecting", "Executors Connecting", 0 },
            { NS "executors_defined", "Executors Defined", load->executors },
            { NS "executors_idle", "Executors Idle", idle },
            { NS "executors_online", "Executors Online", load->executors },
            { NS "executors_queue_length", "Executors Queue Length", (int64_t) load->buildable },
        };
        for (size_t i = 0; i < ELEMENTSOF(ex); i++) {
            prom_family(p, ex[i].name, PROM_GAUGE, ex[i].help);
            prom_sample(p, ex[i].name, label, ex[i].value);
        }

        /* the Metrics plugin's, as the Prometheus plugin exports them */
        gauge(p, "jenkins_queue_size_value", "The number of items in the queue", (int64_t) load->waiting);
        gauge(p, "jenkins_queue_buildable_value",
              "The number of items in the queue that could run but wait for an executor",
              (int64_t) load->buildable);
        gauge(p, "jenkins_queue_blocked_value",
              "The number of items in the queue that wait for their job (disabled, or building "
              "and not concurrent)", (int64_t) load->blocked);
        gauge(p, "jenkins_queue_pending_value",
              "The number of items that left the queue and have not started", 0);
        gauge(p, "jenkins_executor_count_value", "The number of executors", load->executors);
        gauge(p, "jenkins_executor_in_use_value", "The number of executors building", load->busy);
        gauge(p, "jenkins_executor_free_value", "The number of idle executors", idle);
    }
    gauge(p, "jenkins_node_count_value", "The number of build nodes", 1);
    gauge(p, "jenkins_node_online_value", "The number of build nodes online", 1);
    gauge(p, "jenkins_node_offline_value", "The number of build nodes offline", 0);
    for (size_t i = 0; i < n_jobs; i++)
        disabled += jobs[i]->cfg->disabled;
    gauge(p, "jenkins_job_count_value", "The number of jobs", (int64_t) n_jobs);
    gauge(p, "jenkins_project_count_value", "The number of projects", (int64_t) n_jobs);
    gauge(p, "jenkins_project_enabled_count_value", "The number of enabled projects",
          (int64_t) (n_jobs - disabled));
    gauge(p, "jenkins_project_disabled_count_value", "The number of disabled projects",
          (int64_t) disabled);
}

/* ---- Steward's own counters ---- */

static void
render_counters(struct prom *p)
{
    uint64_t refused = 0;

    prom_family(p, "steward_info", PROM_GAUGE, "Steward's version");
    prom_sample(p, "steward_info", (const char *const[]){ "version", STEWARD_VERSION, NULL }, 1);

    for (int i = 0; i < _METRIC_REFUSAL_MAX; i++)
        refused += metrics_refusals(i);
    prom_family(p, "steward_triggers_total", PROM_COUNTER,
                "Build triggers received over HTTP since the start, by result: accepted (a new "
                "queue item), merged (into an identical waiting item) or refused");
    for (int i = 0; i < _METRIC_TRIGGER_MAX; i++)
        prom_sample(p, "steward_triggers_total",
                    (const char *const[]){ "result", metric_trigger_name(i), NULL },
                    (int64_t) metrics_triggers(i));
    prom_sample(p, "steward_triggers_total", (const char *const[]){ "result", "refused", NULL },
                (int64_t) refused);

    prom_family(p, "steward_trigger_refusals_total", PROM_COUNTER,
                "Refused build triggers since the start, by reason");
    for (int i = 0; i < _METRIC_REFUSAL_MAX; i++)
        prom_sample(p, "steward_trigger_refusals_total",
                    (const char *const[]){ "reason", metric_refusal_name(i), NULL },
                    (int64_t) metrics_refusals(i));

    prom_family(p, "steward_auth_failures_total", PROM_COUNTER,
                "Refused credentials since the start, by what was wrong");
    for (int i = 0; i < _METRIC_AUTH_FAILURE_MAX; i++)
        prom_sample(p, "steward_auth_failures_total",
                    (const char *const[]){ "kind", metric_auth_failure_name(i), NULL },
                    (int64_t) metrics_auth_failures(i));

    prom_family(p, "steward_http_requests_total", PROM_COUNTER,
                "HTTP requests answered since the start, by status code");
    for (int code = 100; code <= 599; code++) {
        uint64_t n = metrics_http(code);
        char label[8];

        if (!n)
            continue;
        snprintf(label, sizeof label, "%d", code);
        prom_sample(p, "steward_http_requests_total", (const char *const[]){ "code", label, NULL },
                    (int64_t) n);
    }
}

/* ---- the handler ---- */

/*
 * `all_jobs`: the scrape token's view. A user sees the per-job figures of
 * the jobs they may read only (the server's own figures are everyone's).
 */
static int
render(const struct app *app, struct req *req, bool all_jobs, struct buf *out)
{
    struct job_stats_row *rows = NULL;
    struct job_entry *entries = NULL;
    struct job **jobs = NULL;
    struct engine_load load = { 0 };
    struct prom p = PROM_INIT(out);
    size_t n_rows = 0, n_jobs = 0, n = 0;
    bool have_load;
    int r;

    have_load = engine_load(app->engine, &load) >= 0;
    r = jobs_list(app->jobs, &jobs, &n_jobs);
    if (r >= 0)
        r = store_job_stats_list(req->db, BOUND_METRICS_JOBS, &rows, &n_rows);
    if (r >= 0 && n_rows > 0) {
        entries = calloc(n_rows, sizeof *entries);
        if (!entries)
            r = -ENOMEM;
    }
    if (r >= 0) {
        n = pair_jobs(rows, n_rows, jobs, n_jobs, entries);
        if (!all_jobs) {
            size_t k = 0;

            for (size_t i = 0; i < n; i++)
                if (app_may(req, PERM_JOB_READ, entries[i].job))
                    entries[k++] = entries[i];
            n = k;
        }
        add_running(req, entries, n);

        render_server(&p, app->engine, &load, have_load, jobs, n_jobs);
        if (n_rows == BOUND_METRICS_JOBS) {
            char note[96];

            snprintf(note, sizeof note, "Steward: per-job metrics for the first %d jobs by name "
                     "only (BOUND_METRICS_JOBS)", BOUND_METRICS_JOBS);
            prom_comment(&p, note);
        }
        render_jobs(&p, entries, n);
        render_counters(&p);
        r = p.err;
    }
    free(entries);
    job_stats_rows_free(rows, n_rows);
    jobs_list_free(jobs, n_jobs);
    return r;
}

void
prometheus_handle(const struct app *app, struct req *req, struct resp *resp)
{
    const char *bearer;
    int r;

    /* authenticate: the scrape token, else a user who may read */
    if (req->basic_failed) {
        refuse_bad_credentials(app, req, resp);
        return;
    }
    bearer = bearer_token(req);
    if (bearer) {
        r = auth_metrics_token_check(app->auth, req->db, bearer, req->addr);
        if (r == -EACCES || r == -ENOENT || r == -EBUSY) {
            refuse_scraper(app, req, resp, r, bearer);
            return;
        }
        if (r < 0) {
            api_send_text(resp, 503, "The metrics token cannot be checked right now.\n");
            return;
        }
    } else if (!app_can_read(req)) {
        if (req_wants_html(req) && !req->basic_given)
            refuse_login_needed(app, req, resp, "Reading the metrics");
        else
            refuse_scraper(app, req, resp, 0, NULL);
        return;
    }
    if (!req_is_get(req)) {
        resp_header(resp, "Allow", "GET, HEAD");
        refuse(app, req, resp,
               &(struct refusal){ .status = 405, .error = "Method not allowed",
                                  .presented = rfmt("The request used %s.", req->method),
                                  .fix = "Use GET for /prometheus/." });
        return;
    }

    buf_clear(&resp->body);
    r = render(app, req, bearer != NULL, &resp->body);
    if (r < 0) {
        buf_clear(&resp->body);
        api_send_text(resp, r == -E2BIG ? 500 : 503,
                      r == -E2BIG ? "The metrics are larger than one answer may be.\n"
                                  : "The metrics cannot be read right now.\n");
        return;
    }
    resp->status = 200;
    resp_header(resp, "Content-Type", PROM_CONTENT_TYPE);
    resp_header(resp, "Cache-Control", "must-revalidate,no-cache,no-store");
}
