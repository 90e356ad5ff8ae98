/* SPDX-License-Identifier: MIT */
/*
 * Triggering builds: /job/NAME/build, /job/NAME/buildWithParameters and
 * /buildByToken/... The order of checks is the product's promise: a
 * correct trigger token works for anyone, whatever they may read; a wrong
 * one is named as such (and told apart from a user API token sent in its
 * place); and nobody learns that a job exists unless they may see it.
 *
 * Every answer counts once in core/metrics: accepted or merged, or the
 * reason of the refusal (the true one, also where the refusal must not
 * tell a missing job from a wrong token).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/trigger.h"
#include "core/metrics.h"
#include "core/params.h"
#include "core/upload.h"
#include "util/bounds.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/strutil.h"

#define ACCEPTS_BOTH                                                                               \
    "This URL accepts either of two secrets: a user API token as the password of HTTP Basic "     \
    "authentication (curl -u USER:APITOKEN -X POST), or the job's own trigger token as ?token=."

#define ACCEPTS_TRIGGER_ONLY                                                                       \
    "/buildByToken/ accepts only the job's trigger token, as ?token= (the \"Trigger builds "     \
    "remotely\" token in the job's configuration), together with ?job=NAME."

/*
 * For an upload, the secret must come before the files: a token= field
 * inside the multipart body is read only after them (Jenkins, too, reads
 * only the query's token= beside a multipart body).
 */
#define UPLOAD_NEEDS                                                                               \
    "Sending files without a trigger token in the URL (?token=, not a form field)"

/* "job/NAME/configure" with the name percent-encoded, for a refusal's fix link. */
static const char *
configure_link(const char *job)
{
    struct buf b = BUF_INIT(1024);
    const char *link = NULL;

    if (url_encode(&b, job) >= 0)
        link = rfmt("job/%s/configure", buf_str(&b));
    buf_release(&b);
    return link;
}

/* True when a token= value is a user API token, or has the shape of one. */
static bool
is_api_token(struct req *req, const char *token)
{
    char owner[BOUND_USER_NAME_BYTES + 1];

    return token && (auth_looks_like_api_token(token) ||
                     auth_api_token_owner(req->db, token, owner) == 0);
}

/*
 * `why` is what really happened, for the count; the answer is the same for
 * a missing job and a wrong token whenever the caller may not see the job.
 */
static void
refuse_missing_job(const struct app *app, struct req *req, struct resp *resp, const char *name,
                   bool can_read, const char *token, bool token_root, enum metric_refusal why)
{
    struct refusal r = { .status = 404 };
    bool api_token = is_api_token(req, token);

    metrics_count_refusal(api_token && why != METRIC_REFUSAL_NO_SUCH_JOB
                              ? METRIC_REFUSAL_API_TOKEN_AS_TRIGGER_TOKEN : why);
    if (can_read && !token_root) {
        r.error = "No such job";
        r.presented = rfmt("There is no job named '%s'.", name);
        r.fix = "Check the job name in the URL (it is case-sensitive); /api/json lists the jobs.";
        refuse(app, req, resp, &r);
        return;
    }
    /* a wrong token and a missing job must look the same here */
    r.error = "No such job, or the trigger token did not match";
    r.accepts = token_root ? ACCEPTS_TRIGGER_ONLY : ACCEPTS_BOTH;
    if (api_token)
        r.presented = "Either there is no such job, or its trigger token did not match. The value "
                      "sent as token= looks like a user API token: that is the password of HTTP "
                      "Basic authentication, not a trigger token.";
    else if (token)
        r.presented = "Either there is no such job, or its trigger token did not match what was "
                      "sent as token= (Steward does not say which, so job names do not leak).";
    else
        r.presented = "Either there is no such job, or it has no trigger token and the request "
                      "did not authenticate as a user who may see it.";
    r.fix = token_root ? "Check the job name and the trigger token in the job's configuration."
                       : "Check the job name and the token, or authenticate with "
                         "curl -u USER:APITOKEN -X POST.";
    refuse(app, req, resp, &r);
}

/*
 * May the caller see the job (NULL: a job that does not exist, were it
 * there)? Asked only to word a refusal: a good token needs no user.
 */
static bool
may_see(struct req *req, const struct job *job, const char *name)
{
    return !app_token_hides(req, name) && app_may(req, PERM_READ, NULL) &&
           app_may(req, PERM_JOB_READ, job);
}

static void
refuse_wrong_token(const struct app *app, struct req *req, struct resp *resp, const char *job,
                   const char *token, bool token_root)
{
    enum metric_refusal why = METRIC_REFUSAL_API_TOKEN_AS_TRIGGER_TOKEN;
    char owner[BOUND_USER_NAME_BYTES + 1];
    struct refusal r = {
        .status = 403,
        .error = "Invalid token provided",
        .accepts = token_root ? ACCEPTS_TRIGGER_ONLY : ACCEPTS_BOTH,
        .fix = rfmt("Send the trigger token from the configuration of job '%s' as token=, or "
                    "drop token= and authenticate with curl -u USER:APITOKEN -X POST.", job),
        .fix_link = configure_link(job),
    };

    if (auth_api_token_owner(req->db, token, owner) == 0)
        r.presented = rfmt("The value sent as token= is the user API token of user '%s', not "
                           "the job's trigger token. A user API token is the password of HTTP "
                           "Basic authentication: curl -u %s:APITOKEN -X POST.", owner, owner);
    else if (auth_looks_like_api_token(token))
        r.presented = "The value sent as token= has the shape of a user API token (11 followed "
                      "by 32 hex digits), not the job's trigger token. A user API token goes in "
                      "HTTP Basic authentication as the password.";
    else {
        r.presented = "The request sent token=, and it does not match this job's trigger token.";
        why = METRIC_REFUSAL_WRONG_TOKEN;
    }
    metrics_count_refusal(why);
    refuse(app, req, resp, &r);
}

static void
refuse_no_trigger_token(const struct app *app, struct req *req, struct resp *resp,
                        const char *job, const char *token, bool token_root)
{
    char owner[BOUND_USER_NAME_BYTES + 1];
    struct refusal r = {
        .status = token_root ? 404 : 403,
        .error = "This job has no trigger token",
        .accepts = token_root ? ACCEPTS_TRIGGER_ONLY
                              : rfmt("Job '%s' has no trigger token, so this URL accepts only a "
                                     "user API token as the password of HTTP Basic "
                                     "authentication.", job),
        .fix = rfmt("Authenticate with curl -u USER:APITOKEN -X POST, or set a trigger token in "
                    "the configuration of job '%s' (Trigger builds remotely).", job),
        .fix_link = configure_link(job),
    };

    if (auth_api_token_owner(req->db, token, owner) == 0 || auth_looks_like_api_token(token)) {
        metrics_count_refusal(METRIC_REFUSAL_API_TOKEN_AS_TRIGGER_TOKEN);
        r.presented = "The value sent as token= looks like a user API token; it belongs in HTTP "
                      "Basic authentication as the password, with your user name.";
    } else {
        metrics_count_refusal(METRIC_REFUSAL_NO_TRIGGER_TOKEN);
        r.presented = "The request sent token=, but this job has no trigger token to compare it with.";
    }
    refuse(app, req, resp, &r);
}

/* delay= as Jenkins reads it: "Nsec"/"Nsecs" are seconds, a bare number is milliseconds. */
static int
parse_delay(const char *s, int64_t *ret_ms)
{
    _cleanup_free_ char *copy = strdup(s);
    size_t len;
    int64_t v;
    bool secs = false;

    if (!copy)
        return -ENOMEM;
    len = strlen(copy);
    if (len > 4 && strcmp(copy + len - 4, "secs") == 0) {
        copy[len - 4] = '\0';
        secs = true;
    } else if (len > 3 && strcmp(copy + len - 3, "sec") == 0) {
        copy[len - 3] = '\0';
        secs = true;
    }
    if (parse_int64(copy, 0, secs ? BOUND_DELAY_SECONDS : (int64_t) BOUND_DELAY_SECONDS * 1000,
                    &v) < 0)
        return -EINVAL;
    /* the queue keeps whole seconds, as Jenkins' does */
    *ret_ms = secs ? v * 1000 : v / 1000 * 1000;
    return 0;
}

static void count_outcome(int r, bool merged);
static void answer_trigger(const struct app *app, struct req *req, struct resp *resp, int r,
                           int64_t queue_id, bool merged, const char *ignored);

static bool
bad_request(const struct app *app, struct req *req, struct resp *resp, const char *error,
            const char *presented, const char *fix)
{
    metrics_count_refusal(METRIC_REFUSAL_BAD_REQUEST);
    refuse(app, req, resp,
           &(struct refusal){ .status = 400, .error = error, .presented = presented, .fix = fix });
    return false;
}

/* Values from `json={"parameter":[{"name":..,"value":..}]}`, as Jenkins' /build form posts. */
static int
json_form_value(json_t *form, const char *name, const char **ret)
{
    json_t *list = json_object_get(form, "parameter"), *p;
    size_t i;

    if (json_is_object(list)) {
        if (json_is_string(json_object_get(list, "name")) &&
            streq(json_string_value(json_object_get(list, "name")), name)) {
            p = json_object_get(list, "value");
            *ret = json_is_string(p) ? json_string_value(p) : json_is_true(p) ? "true" : "false";
            return 1;
        }
        return 0;
    }
    json_array_foreach(list, i, p) {
        json_t *n = json_object_get(p, "name"), *v = json_object_get(p, "value");
        if (json_is_string(n) && streq(json_string_value(n), name)) {
            *ret = json_is_string(v) ? json_string_value(v) : json_is_true(v) ? "true" : "false";
            return 1;
        }
    }
    return 0;
}

struct given_values {
    struct req *req;
    json_t *form;     /* json= of Jenkins' /build form, or NULL */
    const struct param_def *defs;
    char **files;     /* per parameter: a file parameter's value, or NULL */
};

/* A parameter's value from the query or form, else from json=; NULL when it has none. */
static const char *
given_value(void *userdata, const struct param_def *d)
{
    struct given_values *g = userdata;
    const char *v;

    if (d->type == PARAM_FILE)
        return g->files[d - g->defs];
    v = req_param(g->req, d->name);
    if (!v && g->form)
        (void) json_form_value(g->form, d->name, &v);
    return v;
}

/*
 * The file part of a file parameter: the part named after the parameter
 * (buildWithParameters, curl -F NAME=@FILE), or the one json= names for
 * it, {"name":NAME,"file":"file0"} (Jenkins' /build form, python-jenkins).
 */
static struct req_file *
file_for(struct req *req, json_t *form, const char *name)
{
    const char *field = name;
    json_t *list = form ? json_object_get(form, "parameter") : NULL, *p;
    size_t i;

    for (i = 0; i < req->n_files; i++)
        if (streq(req->files[i].field, name))
            return &req->files[i];
    if (json_is_object(list)) {
        json_t *one = list;
        list = json_array();
        json_array_append(list, one);
    } else
        json_incref(list);
    json_array_foreach(list, i, p) {
        json_t *n = json_object_get(p, "name"), *f = json_object_get(p, "file");
        if (json_is_string(n) && json_is_string(f) && streq(json_string_value(n), name))
            field = json_string_value(f);
    }
    for (i = 0; field != name && i < req->n_files; i++)
        if (streq(req->files[i].field, field)) {
            json_decref(list);
            return &req->files[i];
        }
    json_decref(list);
    return NULL;
}

/*
 * The values of the job's file parameters, into files[] (the uploads are
 * kept later, by keep_files()). Returns false after answering.
 */
static bool
collect_files(const struct app *app, struct req *req, struct resp *resp, const struct job *job,
              json_t *form, char **files)
{
    for (size_t i = 0; i < job->cfg->n_params; i++) {
        const struct param_def *d = &job->cfg->params[i];
        struct req_file *f;

        if (d->type != PARAM_FILE)
            continue;
        f = file_for(req, form, d->name);
        if (!f) {
            if (req_param(req, d->name))
                return bad_request(app, req, resp, "Not a file",
                                   rfmt("'%s' is a file parameter, and the request sent it as "
                                        "a plain field.", d->name),
                                   rfmt("Send the file as multipart/form-data: curl -F "
                                        "'%s=@FILE'.", d->name));
            continue;
        }
        if (upload_location_check(d->name) < 0)
            return bad_request(app, req, resp, "File parameter outside the workspace",
                               rfmt("File parameter '%s' names where its file goes in the "
                                    "workspace, and that is not a path inside it (absolute, "
                                    "'..', or empty parts). Nothing was queued.", d->name),
                               "Rename the parameter in the job's configuration to a relative "
                               "path such as input/data.txt.");
        for (size_t k = 0; k < i; k++)
            if (job->cfg->params[k].type == PARAM_FILE &&
                file_for(req, form, job->cfg->params[k].name) == f)
                return bad_request(app, req, resp, "File given twice",
                                   rfmt("The request gives one file for both '%s' and '%s'.",
                                        job->cfg->params[k].name, d->name),
                                   "Send a file for each file parameter.");
        files[i] = upload_value(f->sha256, f->filename);
        if (!files[i])
            return bad_request(app, req, resp, "Out of memory", NULL, "Retry.");
    }
    return true;
}

/*
 * Fills every parameter of the job: the request's value, else the default,
 * checked by core/params. Returns false after answering 400.
 */
static bool
collect_params(const struct app *app, struct req *req, struct resp *resp, const struct job *job,
               struct param_value *out, struct buf *ignored)
{
    json_t *form = NULL;
    const char *json_text = req_param(req, "json");
    char **files = calloc(job->cfg->n_params ? job->cfg->n_params : 1, sizeof *files);
    bool ok = true;

    if (!files)
        return bad_request(app, req, resp, "Out of memory", NULL, "Retry.");

    if (json_text) {
        form = json_loads(json_text, JSON_REJECT_DUPLICATES, NULL);
        if (!form)
            return bad_request(app, req, resp, "Malformed json form field",
                               "The json= field is not valid JSON.",
                               "Send json={\"parameter\":[{\"name\":\"P\",\"value\":\"v\"}]}, or "
                               "use buildWithParameters?P=v.");
    }
    if (form || req->n_files)
        ok = collect_files(app, req, resp, job, form, files);
    for (size_t i = 0; i < job->cfg->n_params && ok; i++)
        if (req_param_count(req, job->cfg->params[i].name) > 1)
            ok = bad_request(app, req, resp, "Parameter given twice",
                             rfmt("Parameter '%s' was given more than once.",
                                  job->cfg->params[i].name),
                             "Give each parameter once.");
    if (ok) {
        struct given_values g = { .req = req, .form = form, .defs = job->cfg->params,
                                  .files = files };
        struct param_refusal no = {};
        int r = params_resolve(job->cfg, given_value, &g, out, &no);

        if (r == -EINVAL)
            ok = bad_request(app, req, resp, no.title, no.presented, no.fix);
        else if (r < 0)
            ok = bad_request(app, req, resp, "Out of memory", NULL, "Retry.");
        param_refusal_release(&no);
    }
    /* undefined parameters are dropped, as Jenkins does; say which, in a header */
    for (size_t i = 0; ok && i < req->n_params; i++) {
        const char *k = req->params[i].key;
        if (jobcfg_find_param(job->cfg, k) || streq(k, "token") || streq(k, "delay") ||
            streq(k, "cause") || streq(k, "json") || streq(k, "job") || streq(k, CRUMB_FIELD) ||
            streq(k, "Submit") || streq(k, "statusCode") || streq(k, "redirectTo"))
            continue;
        if (ignored->len + strlen(k) < 1000)
            buf_printf(ignored, "%s%s", ignored->len ? "," : "", k);
    }
    /* and files no file parameter took */
    for (size_t i = 0; ok && i < req->n_files; i++) {
        bool used = false;

        for (size_t k = 0; k < job->cfg->n_params && !used; k++)
            used = job->cfg->params[k].type == PARAM_FILE &&
                   file_for(req, form, job->cfg->params[k].name) == &req->files[i];
        if (!used && ignored->len + strlen(req->files[i].field) < 1000)
            buf_printf(ignored, "%s%s", ignored->len ? "," : "", req->files[i].field);
    }
    json_decref(form);
    for (size_t i = 0; i < job->cfg->n_params; i++)
        free(files[i]);
    free(files);
    return ok;
}

/* The uploads the trigger takes, kept (app_keep_uploads()); false after answering. */
static bool
keep_files(const struct app *app, struct req *req, struct resp *resp,
           const struct param_value *params, size_t n)
{
    int r = app_keep_uploads(app, req, params, n);

    if (r >= 0)
        return true;
    r = r == -ENOSPC ? r : -EIO;
    count_outcome(r, false);
    answer_trigger(app, req, resp, r, 0, false, NULL);
    return false;
}

struct trigger_reply {
    const struct app *app;
    struct http_deferred *d;
    char *ignored;            /* undefined parameters, comma-separated, or NULL */
    /* what the engine said */
    int r;
    int64_t queue_id;
    bool merged;
};

static void
reply_free(struct trigger_reply *reply)
{
    if (reply) {
        free(reply->ignored);
        free(reply);
    }
}

/*
 * Counts what the engine did with a trigger, where it did it: a trigger
 * queued for a client that has gone since still counts.
 */
static void
count_outcome(int r, bool merged)
{
    if (r == -EAGAIN || r == -ENOBUFS)
        metrics_count_refusal(METRIC_REFUSAL_QUEUE_FULL);
    else if (r == -ENOSPC)
        metrics_count_refusal(METRIC_REFUSAL_DISK_FULL);
    else if (r == -ECANCELED)
        metrics_count_refusal(METRIC_REFUSAL_SHUTTING_DOWN);
    else if (r < 0)
        metrics_count_refusal(METRIC_REFUSAL_ERROR);
    else
        metrics_count_trigger(merged ? METRIC_TRIGGER_MERGED : METRIC_TRIGGER_ACCEPTED);
}

/* The answer to a trigger once the engine has taken it (or refused it); count_outcome() counts it. */
static void
answer_trigger(const struct app *app, struct req *req, struct resp *resp, int r, int64_t queue_id,
               bool merged, const char *ignored)
{
    _cleanup_free_ char *root = NULL;

    if (r == -EAGAIN || r == -ENOBUFS) {
        resp_header(resp, "Retry-After", "5");
        refuse(app, req, resp,
               &(struct refusal){
                   .status = 503, .error = "The queue is full",
                   .presented = r == -EAGAIN
                                    ? rfmt("The queue holds %d items, its limit.",
                                           engine_queue_limit(app->engine))
                                    : rfmt("The waiting items' parameters and causes fill the "
                                           "queue's %lld MiB.",
                                           (long long) (engine_queue_bytes(app->engine) >> 20)),
                   .fix = "Retry later; nothing was queued." });
        return;
    }
    if (r == -ENOSPC) {
        resp_header(resp, "Retry-After", "60");
        refuse(app, req, resp,
               &(struct refusal){ .status = 507, .error = "The server's disk is full",
                                  .presented = "Steward could not store the queue item: the disk "
                                               "of its home directory is full.",
                                  .fix = "Nothing was queued. Retry once an administrator has "
                                         "made room on the disk." });
        return;
    }
    if (r == -ECANCELED) {
        resp_header(resp, "Retry-After", "10");
        refuse(app, req, resp,
               &(struct refusal){ .status = 503, .error = "Steward is shutting down",
                                  .presented = "The server is stopping and takes no more "
                                               "triggers.",
                                  .fix = "Nothing was queued. Retry once it is back." });
        return;
    }
    if (r < 0) {
        resp_header(resp, "Retry-After", "5");
        refuse(app, req, resp,
               &(struct refusal){ .status = 503, .error = "The build could not be queued",
                                  .presented = rfmt("Steward could not store the queue item (%s).",
                                                    r == -EBUSY ? "the database was held by "
                                                                  "another process too long"
                                                                : strerror(-r)),
                                  .fix = r == -EIO
                                             ? "Retry. An I/O error while the commit was written "
                                               "may still have queued it: look in "
                                               "/queue/api/json first if a duplicate matters."
                                             : "Retry; nothing was queued." });
        return;
    }
    root = app_root_url(app, req);
    resp->status = 201;
    resp_header(resp, "Location", rfmt("%squeue/item/%lld/", root ? root : "/", (long long) queue_id));
    if (merged)
        resp_header(resp, "X-Steward-Merged", "true");
    if (ignored && *ignored)
        resp_header(resp, "X-Steward-Ignored-Parameters", ignored);
}

/* Makes the answer on the HTTP thread that sends it; NULL req: the client has gone. */
static void
make_answer(void *userdata, struct req *req, struct resp *resp)
{
    struct trigger_reply *reply = userdata;

    if (req)
        answer_trigger(reply->app, req, resp, reply->r, reply->queue_id, reply->merged,
                       reply->ignored);
    reply_free(reply);
}

/*
 * Runs on the engine thread after the group commit (or at once on a
 * refusal). The engine is the one thread every trigger waits for: it only
 * notes the outcome and wakes the connection.
 */
static void
trigger_done(void *userdata, int r, int64_t queue_id, bool merged)
{
    struct trigger_reply *reply = userdata;

    count_outcome(r, merged);
    reply->r = r;
    reply->queue_id = queue_id;
    reply->merged = merged;
    http_finish(reply->d, make_answer, reply);
}

/*
 * What a dry run (X-Steward-Dry-Run: 1) notes on its way through
 * trigger_run(): only what the real answer would tell too, so that a dry
 * run reveals nothing a real request does not (a job the caller may not
 * see stays unseen, a wrong token stays unnamed).
 */
struct dry_run {
    bool authorized;          /* the request got past every check of who may trigger */
    bool by_token;            /* ... by the job's trigger token */
    json_t *params;           /* the values after defaults and checks, once made */
    char *ignored;            /* undefined parameters, comma-separated */
    bool previewed;           /* the engine was asked what it would do */
    int r;
    int64_t queue_id;
    bool merged;
};

/* Did the request itself give parameter `d` (as a field, in json=, or as a file)? */
static bool
param_was_given(struct req *req, json_t *form, const struct param_def *d)
{
    const char *v = NULL;

    if (d->type == PARAM_FILE)
        return file_for(req, form, d->name) != NULL;
    return req_param(req, d->name) || (form && json_form_value(form, d->name, &v) == 1);
}

/*
 * The values the trigger would queue. A caller without Job/Read on the job
 * (one holding only its trigger token) sees only what it sent itself: the
 * real answer tells it nothing of the job's defaults, and neither does
 * this. Passwords are never shown.
 */
static json_t *
dry_params(struct req *req, const struct job *job, const struct param_value *v)
{
    bool may_read = app_may(req, PERM_JOB_READ, job);
    const char *json_text = req_param(req, "json");
    json_t *form = json_text ? json_loads(json_text, 0, NULL) : NULL;
    json_t *list = json_array();

    for (size_t i = 0; list && i < job->cfg->n_params; i++) {
        const struct param_def *d = &job->cfg->params[i];

        if (d->type == PARAM_PASSWORD)
            json_array_append_new(list, json_pack("{s:s, s:s}", "name", v[i].name, "value",
                                                  "(a password: not shown)"));
        else if (may_read || param_was_given(req, form, d))
            json_array_append_new(list, json_pack("{s:s, s:s?}", "name", v[i].name, "value",
                                                  v[i].value));
        else
            json_array_append_new(list, json_pack("{s:s, s:s}", "name", v[i].name, "note",
                                                  "the job's default: not shown without "
                                                  "Job/Read"));
    }
    json_decref(form);
    return list;
}

static void
trigger_run(const struct app *app, struct req *req, struct resp *resp, const char *name,
            bool token_root, struct dry_run *dry)
{
    struct trigger_reply *reply = NULL;
    _cleanup_(job_unrefp) struct job *job = NULL;
    const char *token = req_param(req, "token");
    const char *delay_s = req_param(req, "delay");
    const char *note = req_param(req, "cause");
    _cleanup_free_ char *note_line = NULL;
    char subject[BOUND_JOB_NAME_BYTES + 16];
    bool can_read = false, by_token = false;
    struct param_value *params = NULL;
    struct buf ignored = BUF_INIT(2048);
    struct cause cause = { .count = 1 };
    struct trigger t = { .job = name, .delay_ms = -1 };
    int64_t queue_id = 0;
    bool merged = false;
    int r;

    /* authenticate: wrong Basic credentials are a 401 everywhere */
    if (req->basic_failed) {
        metrics_count_refusal(METRIC_REFUSAL_BAD_CREDENTIALS);
        refuse_bad_credentials(app, req, resp);
        return;
    }
    if (token && strlen(token) > BOUND_TRIGGER_TOKEN_BYTES) {
        bad_request(app, req, resp, "Token too long",
                    rfmt("The token= value is %zu bytes; the limit is %d.", strlen(token),
                         BOUND_TRIGGER_TOKEN_BYTES),
                    "Send the trigger token from the job's configuration.");
        return;
    }
    if (!name || !*name) {
        bad_request(app, req, resp, "Missing job name", "The request did not name a job (job=).",
                    "Use /buildByToken/build?job=NAME&token=TRIGGERTOKEN.");
        return;
    }

    /* before the job is looked up: the answer must not tell whether it exists */
    if (token_root && !token) {
        metrics_count_refusal(METRIC_REFUSAL_MISSING_TOKEN);
        refuse(app, req, resp,
               &(struct refusal){ .status = 400, .error = "Missing trigger token",
                                  .accepts = ACCEPTS_TRIGGER_ONLY,
                                  .presented = "The request sent no token=.",
                                  .fix = "Add &token=TRIGGERTOKEN, the token from the job's "
                                         "configuration." });
        return;
    }

    /*
     * Wrong trigger tokens count toward a throttle of their own, per address
     * and job name (whether the job exists or not, so that it tells nothing)
     */
    if (token) {
        int wait = auth_throttle_wait(app->auth, req->addr,
                                      auth_trigger_subject(name, subject, sizeof subject));
        if (wait > 0) {
            metrics_count_refusal(METRIC_REFUSAL_WRONG_TOKEN);
            resp_header(resp, "Retry-After", rfmt("%d", wait));
            refuse(app, req, resp,
                   &(struct refusal){
                       .status = 429, .error = "Too many wrong trigger tokens",
                       .accepts = ACCEPTS_TRIGGER_ONLY,
                       .presented = rfmt("This address (%s) sent too many wrong trigger tokens "
                                         "for this job name in the last minute.", req->addr),
                       .fix = rfmt("Wait %d seconds, then send the token from the job's "
                                   "configuration.", wait) });
            return;
        }
    }

    /* find the job; existence shows only to those who may see it */
    job = jobs_get(app->jobs, name);
    if (!job) {
        can_read = may_see(req, NULL, name);
        if (!token && !can_read && !token_root) {
            if (!req->id.anonymous) {
                /* the very answer a job it may not see gets */
                metrics_count_refusal(METRIC_REFUSAL_NO_SUCH_JOB);
                refuse_no_job(app, req, resp, name);
                return;
            }
            metrics_count_refusal(METRIC_REFUSAL_LOGIN_NEEDED);
            refuse_login_needed(app, req, resp, req->preflight ? UPLOAD_NEEDS : "Triggering a build without a trigger token");
            return;
        }
        if (token)
            auth_note_failure(app->auth, req->addr, subject);
        refuse_missing_job(app, req, resp, name, can_read, token, token_root,
                           METRIC_REFUSAL_NO_SUCH_JOB);
        return;
    }

    /* authorize: the trigger token, when one is sent and the job has one */
    if (token && jobcfg_has_token(job->cfg)) {
        if (!jobcfg_token_matches(job->cfg, token)) {
            can_read = may_see(req, job, name);
            auth_note_failure(app->auth, req->addr, subject);
            if (can_read && !token_root)
                refuse_wrong_token(app, req, resp, name, token, token_root);
            else
                refuse_missing_job(app, req, resp, name, can_read, token, token_root,
                                   METRIC_REFUSAL_WRONG_TOKEN);
            return;
        }
        by_token = true;
    } else if (token_root) {
        /* no trigger token configured: look exactly like a missing job */
        auth_note_failure(app->auth, req->addr, subject);
        refuse_missing_job(app, req, resp, name, false, token, true,
                           METRIC_REFUSAL_NO_TRIGGER_TOKEN);
        return;
    } else if (!(can_read = may_see(req, job, name)) || !app_may(req, PERM_JOB_BUILD, job)) {
        if (token)
            auth_note_failure(app->auth, req->addr, subject);
        if (token && can_read)
            refuse_no_trigger_token(app, req, resp, name, token, false);
        else if (token)
            refuse_missing_job(app, req, resp, name, false, token, false,
                               METRIC_REFUSAL_NO_TRIGGER_TOKEN);
        else if (req->id.anonymous) {
            metrics_count_refusal(METRIC_REFUSAL_LOGIN_NEEDED);
            refuse_login_needed(app, req, resp, req->preflight ? UPLOAD_NEEDS : "Triggering a build without a trigger token");
        } else if (can_read) {
            metrics_count_refusal(METRIC_REFUSAL_PERMISSION);
            refuse_permission(app, req, resp, PERM_JOB_BUILD, name);
        } else {
            metrics_count_refusal(METRIC_REFUSAL_NO_SUCH_JOB);
            refuse_no_job(app, req, resp, name);
        }
        return;
    }

    if (dry)
        dry->by_token = by_token;
    if (!by_token) {
        if (!req->is_post) {
            metrics_count_refusal(METRIC_REFUSAL_METHOD);
            resp_header(resp, "Allow", "POST");
            refuse(app, req, resp,
                   &(struct refusal){
                       .status = 405,
                       .error = "Use POST to trigger a build",
                       .accepts = "With user credentials, this URL takes POST only (so that a "
                                  "link or a page cannot start builds). GET works only with the "
                                  "job's trigger token as ?token=.",
                       .presented = rfmt("The request was a %s as user '%s'.", req->method,
                                         req->id.name),
                       .fix = "Send it with POST: curl -X POST -u USER:APITOKEN URL.",
                   });
            return;
        }
        /* the crumb may come in an upload's body: it is checked once that is read */
        if (!req->preflight && !crumb_check(app, req, resp)) {
            metrics_count_refusal(METRIC_REFUSAL_CRUMB);
            return;
        }
    }

    if (job->cfg->disabled) {
        metrics_count_refusal(METRIC_REFUSAL_DISABLED);
        refuse(app, req, resp,
               &(struct refusal){ .status = 409, .error = rfmt("%s is not buildable", name),
                                  .presented = rfmt("Job '%s' is disabled.", name),
                                  .fix = "Enable the job first (POST /job/NAME/enable)." });
        return;
    }
    /* an upload's headers: the caller may trigger this job, so its files may come */
    if (req->preflight)
        return;
    if (req->body_problem == BODY_TOO_MANY_FIELDS) {
        bad_request(app, req, resp, "Too many fields",
                    rfmt("The request has more than %d query and form fields.", BOUND_FORM_FIELDS),
                    "Send only the job's parameters.");
        return;
    }

    /* parameters and delay */
    if (delay_s && parse_delay(delay_s, &t.delay_ms) < 0) {
        bad_request(app, req, resp, "Malformed delay",
                    rfmt("delay=%.64s is not a delay.", delay_s),
                    "Write delay=10sec for ten seconds (a bare number counts milliseconds).");
        return;
    }
    if (note && strlen(note) > BOUND_CAUSE_NOTE_BYTES)
        note = NULL;
    /* the note goes into the log and onto pages: never a fake line or a terminal escape */
    if (note) {
        note_line = strdup_one_line(note, BOUND_CAUSE_NOTE_BYTES);
        if (!note_line) {
            metrics_count_refusal(METRIC_REFUSAL_ERROR);
            api_send_text(resp, 500, "Out of memory.\n");
            return;
        }
        note = note_line;
    }
    params = calloc(job->cfg->n_params ? job->cfg->n_params : 1, sizeof *params);
    if (!params) {
        metrics_count_refusal(METRIC_REFUSAL_ERROR);
        api_send_text(resp, 500, "Out of memory.\n");
        return;
    }
    if (!collect_params(app, req, resp, job, params, &ignored))
        goto out;
    if (dry) {
        dry->authorized = true;
        dry->params = dry_params(req, job, params);
        dry->ignored = ignored.len ? strdup(buf_str(&ignored)) : NULL;
    }

    if (by_token) {
        cause.kind = CAUSE_REMOTE;
        cause.addr = req->addr;
        cause.note = (char *) note;
    } else {
        cause.kind = CAUSE_USER;
        cause.user_name = req->id.name;
        cause.token_name = req->id.via == VIA_TOKEN ? req->id.token_name : NULL;
    }
    t.params = params;
    t.n_params = job->cfg->n_params;
    t.cause = &cause;
    t.via = by_token ? "triggerToken" : app_via_name(req->id.via);
    t.addr = req->addr;

    if (dry) {
        /* what the engine would do, and the answer it would give */
        r = engine_trigger_preview(app->engine, &t, &queue_id, &merged);
        dry->previewed = true;
        dry->r = r;
        dry->queue_id = queue_id;
        dry->merged = merged;
        answer_trigger(app, req, resp, r, queue_id, merged, dry->ignored);
        goto out;
    }

    if (req->n_files && !keep_files(app, req, resp, params, job->cfg->n_params))
        goto out;
    t.holds_uploads = req->n_files > 0;

    /*
     * enqueue: the answer goes out once the item is committed. The HTTP
     * thread does not wait for that: the connection is parked, and the
     * engine answers after its group commit.
     */
    reply = calloc(1, sizeof *reply);
    if (reply) {
        bool any_ignored = ignored.len > 0;

        reply->app = app;
        /* NULL for none, the common case: no allocation */
        reply->ignored = any_ignored ? buf_detach(&ignored) : NULL;
        reply->d = !any_ignored || reply->ignored ? req_defer(req) : NULL;
    }
    if (reply && reply->d) {
        r = engine_trigger_async(app->engine, &t, trigger_done, reply);
        if (r >= 0)
            goto out; /* answered later, by trigger_done */
        /* refused at once: answer through the same path */
        trigger_done(reply, r, 0, false);
        goto out;
    }
    reply_free(reply);
    r = engine_trigger(app->engine, &t, &queue_id, &merged);
    count_outcome(r, merged);
    answer_trigger(app, req, resp, r, queue_id, merged, NULL);
out:
    for (size_t i = 0; i < job->cfg->n_params; i++)
        free(params[i].value);
    free(params);
    buf_release(&ignored);
}

/* The identity the request was recognised as, and how. */
static json_t *
dry_identity(const struct req *req)
{
    json_t *o = json_pack("{s:s, s:b, s:s}", "user", req->id.name, "anonymous",
                          req->id.anonymous, "via",
                          req->basic_failed ? "refused Basic credentials"
                          : req->id.anonymous ? "nothing"
                                              : app_via_name(req->id.via));

    if (o && !req->id.anonymous && req->id.via == VIA_TOKEN)
        json_object_set_new(o, "apiToken", json_string(req->id.token_name));
    return o;
}

/* Which secret a trigger was let through by, in a sentence; NULL when it was not. */
static const char *
dry_secret(const struct req *req, const struct dry_run *dry, const char *token)
{
    if (!dry->authorized)
        return token ? "The request sent token=; the answer below says whether it was taken."
                     : NULL;
    if (dry->by_token)
        return "The job's trigger token (token=): it lets anyone holding it trigger this job.";
    switch (req->id.via) {
    case VIA_TOKEN:
        return rfmt("The API token '%s' of user '%s', as the password of HTTP Basic "
                    "authentication.", req->id.token_name, req->id.name);
    case VIA_PASSWORD:
        return rfmt("The password of user '%s', by HTTP Basic authentication.", req->id.name);
    case VIA_SESSION:
        return rfmt("The web session of user '%s' (a cookie), with its crumb.", req->id.name);
    case VIA_NONE:
        break;
    }
    return "None: the caller may trigger this job without credentials.";
}

/* Everything else the request carried that a trigger looks at, one sentence each. */
static json_t *
dry_presented(const struct req *req, const struct dry_run *dry)
{
    json_t *list = json_array();
    const char *token = req_param(req, "token");

    if (!list)
        return NULL;
    if (req->basic_given)
        json_array_append_new(list, json_string(
            req->basic_failed ? rfmt("HTTP Basic credentials for user '%s', which were refused.",
                                     req->basic_user)
                              : rfmt("HTTP Basic credentials for user '%s'.", req->basic_user)));
    if (req->session_id[0])
        json_array_append_new(list, json_string("A web session cookie."));
    if (token && !(dry->authorized && dry->by_token))
        json_array_append_new(list, json_string(
            auth_looks_like_api_token(token)
                ? "token=, with a value shaped like a user API token (11 and 32 hex digits)."
                : "token= (its value is not shown)."));
    if (req_header(req, CRUMB_FIELD) || req_param(req, CRUMB_FIELD))
        json_array_append_new(list, json_string("A CSRF crumb (Jenkins-Crumb)."));
    if (req_param(req, "delay"))
        json_array_append_new(list, json_string(rfmt("delay=%.64s", req_param(req, "delay"))));
    if (req_param(req, "cause"))
        json_array_append_new(list, json_string("cause= (a note for the build's cause)."));
    if (req_param(req, "json"))
        json_array_append_new(list, json_string("json= (the /build form's parameters)."));
    json_array_append_new(list, json_string(rfmt("The method %s.", req->method)));
    return list;
}

/* The answer trigger_run() made, as the dry run shows it. */
static json_t *
dry_answer(const struct resp *resp, size_t first_hdr, const struct dry_run *dry)
{
    json_t *o = json_pack("{s:i}", "status", resp->status), *headers = json_object(), *body;
    const char *type = NULL;

    if (!o || !headers) {
        json_decref(o);
        json_decref(headers);
        return NULL;
    }
    for (size_t i = first_hdr; i < resp->n_hdr; i++) {
        const char *k = resp->hdr[i].key, *v = resp->hdr[i].value;

        if (strcasecmp(k, "Content-Type") == 0)
            type = v;
        /* a new item's number is known only once it is stored */
        if (strcasecmp(k, "Location") == 0 && dry->previewed && !dry->merged)
            v = "(the new queue item, queue/item/ID/)";
        if (strcasecmp(k, "X-Error") == 0)
            json_object_set_new(o, "reason", json_string(v));
        json_object_set_new(headers, k, json_string(v));
    }
    if (resp->status == 201)
        json_object_set_new(o, "reason", json_string(dry->merged ? "Created (merged into a "
                                                                   "waiting item)"
                                                                 : "Created"));
    json_object_set_new(o, "headers", headers);
    body = type && strncmp(type, "application/json", 16) == 0 && resp->body.len
               ? json_loadb(resp->body.ptr, resp->body.len, 0, NULL)
               : NULL;
    if (body)
        json_object_set_new(o, "body", body);
    else if (resp->body.len)
        json_object_set_new(o, "body", json_stringn(resp->body.ptr, resp->body.len));
    return o;
}

/*
 * A dry run: trigger_run() as for the real request, with the engine only
 * asked what it would do; its answer goes inside a 200 that says what
 * Steward made of the request. Wrong trigger tokens count toward their
 * throttle all the same, so a dry run is no way to guess one.
 */
static void
trigger_dry_run(const struct app *app, struct req *req, struct resp *resp, const char *name,
                bool token_root)
{
    struct dry_run dry = {};
    json_t *o, *answer, *ignored = json_array();
    _cleanup_free_ char *root = app_root_url(app, req);
    size_t first_hdr = resp->n_hdr;
    char *s;

    metrics_quiet(true);
    trigger_run(app, req, resp, name, token_root, &dry);
    metrics_quiet(false);
    /* an upload's headers, let through: the dry run itself comes with the body */
    if (req->preflight && resp->status == 100) {
        json_decref(ignored);
        json_decref(dry.params);
        free(dry.ignored);
        return;
    }

    answer = dry_answer(resp, first_hdr, &dry);
    for (char *p = dry.ignored, *comma; p && *p; p = comma ? comma + 1 : p + strlen(p)) {
        comma = strchr(p, ',');
        json_array_append_new(ignored, comma ? json_stringn(p, (size_t) (comma - p))
                                             : json_string(p));
    }
    o = json_pack("{s:b, s:{s:s?}, s:o?, s:s?, s:o?, s:o, s:o?, s:o?}", "dryRun", true, "job",
                  "name", name, "identity", dry_identity(req), "secret",
                  dry_secret(req, &dry, req_param(req, "token")), "presented",
                  dry_presented(req, &dry), "parameters", dry.params ? dry.params : json_null(),
                  "ignoredParameters", ignored, "answer", answer);
    dry.params = NULL;
    if (o && dry.authorized) {
        json_t *job = json_object_get(o, "job");
        _cleanup_free_ char *url = job_url(root ? root : "/", name);

        json_object_set_new(job, "url", url ? json_string(url) : json_null());
    }
    if (o) {
        json_t *merge = json_null();

        if (dry.previewed && dry.r >= 0)
            merge = dry.merged ? json_pack("{s:b, s:I, s:s}", "wouldMerge", true, "queueItem",
                                           (json_int_t) dry.queue_id, "url",
                                           rfmt("%squeue/item/%lld/", root ? root : "/",
                                                (long long) dry.queue_id))
                               : json_pack("{s:b}", "wouldMerge", false);
        json_object_set_new(o, "merge", merge ? merge : json_null());
    }
    s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    json_decref(dry.params);
    free(dry.ignored);

    /* the dry run's own answer replaces the one it describes */
    for (size_t i = first_hdr; i < resp->n_hdr; i++) {
        free(resp->hdr[i].key);
        free(resp->hdr[i].value);
    }
    resp->n_hdr = first_hdr;
    buf_clear(&resp->body);
    resp->status = s ? 200 : 500;
    resp_header(resp, "Content-Type", "application/json;charset=UTF-8");
    resp_header(resp, "X-Steward-Dry-Run", "1");
    if (s) {
        buf_puts(&resp->body, s);
        buf_putc(&resp->body, '\n');
        free(s);
    } else
        buf_puts(&resp->body, "{\"error\":\"Out of memory\"}\n");
}

void
trigger_handle(const struct app *app, struct req *req, struct resp *resp, const char *name,
               bool token_root)
{
    const char *dry = req_header(req, "X-Steward-Dry-Run");

    if (dry && (streq(dry, "1") || strcasecmp(dry, "true") == 0))
        trigger_dry_run(app, req, resp, name, token_root);
    else
        trigger_run(app, req, resp, name, token_root, NULL);
}

int
trigger_with_defaults(const struct app *app, struct req *req, struct job *job,
                      const struct cause *cause, const char *via)
{
    struct param_value *values = calloc(job->cfg->n_params ? job->cfg->n_params : 1,
                                        sizeof *values);
    struct trigger t = { .job = job->name, .params = values, .n_params = job->cfg->n_params,
                         .cause = cause, .delay_ms = -1, .via = via, .addr = req->addr };
    int64_t id;
    bool merged;
    int r;

    if (!values)
        return -ENOMEM;
    r = params_defaults(job->cfg, values);
    if (r >= 0)
        r = engine_trigger(app->engine, &t, &id, &merged);
    for (size_t i = 0; i < job->cfg->n_params; i++)
        free(values[i].value);
    free(values);
    return r;
}
