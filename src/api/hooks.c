/* SPDX-License-Identifier: MIT */
/*
 * The forges' push webhooks, at the plugins' URLs:
 *
 *   POST /github-webhook/   the github plugin: push and ping events, signed
 *                           with X-Hub-Signature-256 when a shared secret is
 *                           set; jobs with GitHubPushTrigger and a remote of
 *                           that repository are polled
 *   POST /project/JOB       the gitlab plugin: Push Hook, Tag Push Hook and
 *                           Merge Request Hook, checked against the job's
 *                           secret token (X-Gitlab-Token); the job builds
 *                           the pushed commit
 *
 * Every delivery is recorded (store_delivery_*) with what it matched and
 * what came of it; a delivery id seen before is answered and ignored.
 *
 * GET /job/NAME/hooks/api/json says how to connect a job to them (Steward's
 * own; `steward hooks JOB` prints it).
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "api/api.h"
#include "api/hooks.h"
#include "api/trigger.h"
#include "core/credentials.h"
#include "core/engine.h"
#include "core/git.h"
#include "core/params.h"
#include "http/hookinfo.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

#define NO_COMMIT "0000000000000000000000000000000000000000"

static int64_t now_ms_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A string at a dotted path of a JSON object ("repository.html_url"); NULL when absent. */
static const char *jstr(json_t *o, const char *path)
{
    char key[64];

    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_object_get(o, key);
        path += n + (path[n] == '.');
    }
    return json_is_string(o) ? json_string_value(o) : NULL;
}

/* The delivery's id, recorded: false after answering a replay. */
static bool record(struct req *req, struct resp *resp, const char *source, const char *id,
                   const char *event)
{
    int r;

    if (!id || !*id)
        return true;
    r = store_delivery_add(req->db, source, id, event, now_ms_wall());
    if (r == -EEXIST) {
        api_send_text(resp, 200, rfmt("ignored: delivery %s was already received\n", id));
        return false;
    }
    return true;
}

static void finish(struct req *req, const char *source, const char *id, const char *matched,
                   const char *result)
{
    if (id && *id)
        (void) store_delivery_finish(req->db, source, id, matched, result);
}

/* A payload past the body limit: answered 413 (true). */
static bool too_large(const struct app *app, struct req *req, struct resp *resp)
{
    if (req->body_problem != BODY_TOO_LARGE)
        return false;
    refuse(app, req, resp, &(struct refusal){
        .status = 413, .error = "Request body too large",
        .presented = rfmt("The limit is %d bytes; a larger push is not taken.", BOUND_BODY_BYTES) });
    return true;
}

/* ---- GitHub ---- */

#define GITHUB_SECRET_HELP \
    "The shared secret is a \"Secret text\" credential named by `steward --home DIR github " \
    "hook-secret CREDENTIAL_ID`; GitHub signs with it when the webhook's Secret is the same text."

/* The payload: the raw body for application/json, the payload field of a form. NULL when neither. */
static const char *github_payload(struct req *req, size_t *ret_len)
{
    const char *ct = req_header(req, "Content-Type");

    if (ct && strcasecmp(ct, "application/json") == 0) {
        *ret_len = req->body.len;
        return req->body.ptr ? req->body.ptr : "";
    }
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
        const char *p = req_param(req, "payload");
        if (p)
            *ret_len = strlen(p);
        return p;
    }
    return NULL;
}

/*
 * Checks X-Hub-Signature-256 against the shared secret, when one is set.
 * false after answering.
 */
static bool github_signature_ok(const struct app *app, struct req *req, struct resp *resp)
{
    _cleanup_free_ char *cred_id = NULL;
    _cleanup_(cred_freep) struct cred *c = NULL;
    const char *sig = req_header(req, "X-Hub-Signature-256");
    char want[SECRET_HMAC_HEX_LEN + 1];
    int r;

    if (store_setting_get(req->db, GITHUB_HOOK_SECRET_KEY, &cred_id) < 0)
        return true;   /* no secret: the github plugin takes unsigned hooks then */
    r = cred_get(app->home, req->db, cred_id, &c);
    if (r < 0) {
        refuse(app, req, resp, &(struct refusal){
            .status = 403, .error = "The webhook's shared secret cannot be read",
            .accepts = "GitHub's signature of the payload in X-Hub-Signature-256",
            .presented = rfmt("The hook secret is the credential '%s': %s", cred_id,
                              cred_strerror(r)),
            .fix = GITHUB_SECRET_HELP });
        return false;
    }
    if (c->info.kind != CRED_SECRET_TEXT) {
        refuse(app, req, resp, &(struct refusal){
            .status = 403, .error = "The webhook's shared secret is not a secret text",
            .presented = rfmt("The hook secret credential '%s' is a %s.", cred_id,
                              cred_kind_type_name(c->info.kind)),
            .fix = GITHUB_SECRET_HELP });
        return false;
    }
    {
        size_t len = 0;
        const char *body = req->body.ptr ? req->body.ptr : "";
        len = req->body.len;
        secret_hmac_any_hex(c->secret, c->secret_len, body, len, want);
    }
    if (!sig || !startswith(sig, "sha256=") || !secret_equal(sig + 7, want)) {
        refuse(app, req, resp, &(struct refusal){
            .status = 403, .error = "No valid signature found",
            .accepts = "GitHub's HMAC-SHA256 of the payload, as X-Hub-Signature-256: sha256=HEX",
            .presented = sig ? "An X-Hub-Signature-256 that is not the payload's signature with "
                               "the shared secret."
                             : "No X-Hub-Signature-256 header (the webhook has no Secret, or "
                               "an old one sends only X-Hub-Signature).",
            .fix = GITHUB_SECRET_HELP });
        return false;
    }
    return true;
}

/* The repository's URLs in a push payload. */
static const char *const repo_url_fields[] = { "repository.html_url", "repository.clone_url",
                                               "repository.ssh_url", "repository.git_url",
                                               "repository.url" };

static bool github_job_matches(const struct job_config *cfg, json_t *payload)
{
    if (!cfg->github_push || !cfg->git_urls)
        return false;
    for (const char *p = cfg->git_urls; *p;) {
        const char *nl = strchrnul(p, '\n'), *sp = memchr(p, ' ', (size_t) (nl - p));
        _cleanup_free_ char *url = sp ? strndup(sp + 1, (size_t) (nl - sp - 1)) : NULL;

        for (size_t i = 0; url && i < ELEMENTSOF(repo_url_fields); i++) {
            const char *u = jstr(payload, repo_url_fields[i]);
            if (u && git_github_same(url, u))
                return true;
        }
        p = *nl ? nl + 1 : nl;
    }
    return false;
}

void
api_github_webhook(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    const char *event = req_header(req, "X-GitHub-Event");
    const char *delivery = req_header(req, "X-GitHub-Delivery");
    _cleanup_(buf_releasep) struct buf body = BUF_INIT(1 << 20);
    _cleanup_(buf_releasep) struct buf matched = BUF_INIT(1 << 20);
    json_t *payload = NULL;
    json_error_t jerr;
    const char *text, *pusher;
    struct job **list = NULL;
    size_t n = 0, len = 0;

    (void) unused;
    if (!req->is_post) {
        resp_header(resp, "Allow", "POST");
        refuse(app, req, resp, &(struct refusal){
            .status = 405, .error = "Method POST required",
            .fix = "This is the github plugin's webhook URL: GitHub POSTs to it. Set it as the "
                   "Payload URL of a webhook of the repository." });
        return;
    }
    if (too_large(app, req, resp))
        return;
    if (!event || !*event) {
        refuse(app, req, resp, &(struct refusal){
            .status = 400, .error = "Hook should contain event type",
            .presented = "No X-GitHub-Event header.",
            .fix = "GitHub sends it; a test by hand sends X-GitHub-Event: push." });
        return;
    }
    text = github_payload(req, &len);
    if (!text) {
        refuse(app, req, resp, &(struct refusal){
            .status = 400, .error = "Hook should contain payload",
            .presented = "A body that is neither Content-Type application/json nor a form with "
                         "a payload field.",
            .fix = "Choose the content type application/json for the webhook." });
        return;
    }
    if (!github_signature_ok(app, req, resp))
        return;
    if (!record(req, resp, "github", delivery, event))
        return;
    if (streq(event, "ping")) {
        finish(req, "github", delivery, "", "pong");
        api_send_text(resp, 200, "pong\n");
        return;
    }
    if (!streq(event, "push")) {
        finish(req, "github", delivery, "", "ignored");
        api_send_text(resp, 200, rfmt("ignored: event %s\n", event));
        return;
    }
    payload = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(payload)) {
        json_decref(payload);
        finish(req, "github", delivery, "", "malformed payload");
        refuse(app, req, resp, &(struct refusal){
            .status = 400, .error = "The payload is not a JSON object",
            .presented = rfmt("%s (line %d)", jerr.text, jerr.line) });
        return;
    }
    pusher = jstr(payload, "pusher.name");
    if (jobs_list(app->jobs, &list, &n) < 0) {
        json_decref(payload);
        api_send_text(resp, 500, "Out of memory.\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct cause c = { .kind = CAUSE_GITHUB, .user_name = (char *) (pusher ? pusher : ""),
                           .count = 1 };

        if (!github_job_matches(list[i]->cfg, payload) || list[i]->cfg->disabled)
            continue;
        if (engine_poll(app->engine, list[i]->name, &c) < 0)
            continue;
        buf_printf(&body, "Scheduled polling of %s\n", list[i]->name);
        buf_printf(&matched, "%s%s", matched.len ? "," : "", list[i]->name);
    }
    jobs_list_free(list, n);
    if (body.len == 0)
        buf_printf(&body, "No job polls %s on GitHub pushes\n",
                   jstr(payload, "repository.html_url") ? jstr(payload, "repository.html_url")
                                                        : "this repository");
    finish(req, "github", delivery, buf_str(&matched), matched.len ? "polled" : "no job");
    json_decref(payload);
    api_send_text(resp, 200, buf_str(&body));
}

/* ---- GitLab ---- */

/* Whether `branch` is one of the comma list (names, spaces around them allowed). */
static bool in_list(const char *list, const char *branch)
{
    for (const char *p = list; p && *p;) {
        const char *comma = strchrnul(p, ','), *end = comma;

        while (*p == ' ')
            p++;
        while (end > p && end[-1] == ' ')
            end--;
        if ((size_t) (end - p) == strlen(branch) && strncmp(p, branch, (size_t) (end - p)) == 0)
            return true;
        p = *comma ? comma + 1 : comma;
    }
    return false;
}

static bool regex_matches(const char *re_text, const char *s)
{
    _cleanup_free_ char *anchored = NULL;
    regex_t re;
    bool hit;

    if (!re_text)
        return true;
    if (asprintf(&anchored, "^(%s)$", re_text) < 0)
        return false;
    if (regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    hit = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return hit;
}

/* The trigger's branch filter (GitLabPushTrigger's branchFilterType). */
static bool gitlab_branch_passes(const struct gitlab_trigger *t, const char *source,
                                 const char *target)
{
    switch (t->filter) {
    case GITLAB_ALL_BRANCHES:
        return true;
    case GITLAB_NAME_FILTER:
        return (!t->include || in_list(t->include, target)) &&
               !(t->exclude && in_list(t->exclude, target));
    case GITLAB_REGEX_FILTER:
        return regex_matches(t->source_regex, source) &&
               (!t->target_regex || regex_matches(t->target_regex, target));
    }
    return false;
}

/* NAME=value into the cause's note; a newline in a value would start another. */
static void var(struct buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    buf_printf(b, "%s=", name);
    for (const char *p = value; *p; p++)
        buf_putc(b, *p == '\n' || *p == '\r' ? ' ' : *p);
    buf_putc(b, '\n');
}

static int schedule_gitlab(const struct app *app, struct req *req, struct job *job,
                           const char *description, const char *note)
{
    struct cause c = { .kind = CAUSE_GITLAB, .addr = (char *) description, .note = (char *) note,
                       .count = 1 };

    return trigger_with_defaults(app, req, job, &c, "gitlabWebhook");
}

static const char gitlab_accepts[] =
    "the job's GitLab secret token (GitLabPushTrigger's secretToken), as X-Gitlab-Token; "
    "without one in the job, a user who may build it (Basic credentials)";

void
api_gitlab_project(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    /* the secret token stands in for a user, so the route is open and the job is found here */
    _cleanup_(job_unrefp) struct job *job = jobs_get(app->jobs, req_seg(req, 1));
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    _cleanup_free_ char *err = NULL;
    _cleanup_(buf_releasep) struct buf note = BUF_INIT(256 * 1024);
    const char *event = req_header(req, "X-Gitlab-Event");
    const char *delivery = req_header(req, "X-Gitlab-Event-UUID");
    const char *token = req_header(req, "X-Gitlab-Token");
    const struct gitlab_trigger *t;
    json_t *p = NULL;
    json_error_t jerr;
    const char *source, *target, *sha, *user;
    const char *description = NULL;
    _cleanup_free_ char *owned = NULL;
    bool merge_request, tag;
    int r;

    (void) unused;
    if (!job) {
        refuse_no_job(app, req, resp, req_seg(req, 1));
        return;
    }
    if (!req->is_post) {
        _cleanup_free_ char *root = app_root_url(app, req);
        _cleanup_free_ char *ju = root ? job_url(root, job->name) : NULL;
        api_redirect(resp, 302, ju ? ju : "/");
        return;
    }
    if (too_large(app, req, resp))
        return;
    r = jobs_read_config(app->jobs, job->name, &cfg, &err);
    if (r < 0) {
        api_send_text(resp, 500, rfmt("The job's config.xml cannot be read: %s\n",
                                      err ? err : strerror(-r)));
        return;
    }
    t = cfg->gitlab;
    if (!t) {
        api_send_text(resp, 200, "ignored: the job has no GitLab trigger "
                                 "(com.dabsquared.gitlabjenkins.GitLabPushTrigger)\n");
        return;
    }
    if (t->secret_token && t->secret_encrypted) {
        refuse(app, req, resp, &(struct refusal){
            .status = 401, .error = "Invalid token", .accepts = gitlab_accepts,
            .presented = "The job's secretToken is encrypted by the Jenkins it came from, "
                         "which alone can read it.",
            .fix = "Put the token in the job's config.xml as plain text (jenkins-job-builder's "
                   "secret-token does), the same as the GitLab webhook's Secret token." });
        return;
    }
    if (t->secret_token) {
        if (!token || !secret_equal(token, t->secret_token)) {
            refuse(app, req, resp, &(struct refusal){
                .status = 401, .error = "Invalid token", .accepts = gitlab_accepts,
                .presented = token ? "An X-Gitlab-Token that is not the job's secret token."
                                   : "No X-Gitlab-Token header.",
                .fix = "Give the GitLab webhook the job's secret token as its Secret token." });
            return;
        }
    } else if (!app_may(req, PERM_JOB_BUILD, job)) {
        refuse_permission(app, req, resp, PERM_JOB_BUILD, job->name);
        return;
    }
    if (!event || !*event) {
        api_send_text(resp, 200, "ignored: no X-Gitlab-Event header\n");
        return;
    }
    if (!record(req, resp, "gitlab", delivery, event))
        return;
    merge_request = streq(event, "Merge Request Hook");
    tag = streq(event, "Tag Push Hook");
    if (!merge_request && !tag && !streq(event, "Push Hook")) {
        finish(req, "gitlab", delivery, "", "ignored");
        api_send_text(resp, 200, rfmt("ignored: event %s\n", event));
        return;
    }
    p = json_loadb(req->body.ptr ? req->body.ptr : "", req->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(p)) {
        json_decref(p);
        finish(req, "gitlab", delivery, job->name, "malformed payload");
        refuse(app, req, resp, &(struct refusal){
            .status = 400, .error = "The payload is not a JSON object",
            .presented = rfmt("%s (line %d)", jerr.text, jerr.line) });
        return;
    }
    if (merge_request) {
        const char *action = jstr(p, "object_attributes.action");
        bool wanted = (action && (streq(action, "open") || streq(action, "reopen") ||
                                  streq(action, "update")) && t->on_merge_request) ||
                      (action && streq(action, "merge") && t->on_accepted_mr) ||
                      (action && streq(action, "close") && t->on_closed_mr);
        source = jstr(p, "object_attributes.source_branch");
        target = jstr(p, "object_attributes.target_branch");
        sha = jstr(p, "object_attributes.last_commit.id");
        user = jstr(p, "user.name");
        if (!wanted || !source || !target) {
            r = -ENOENT;
            description = owned = strdup_printf("ignored: merge request action %s",
                                                action ? action : "(none)");
        } else {
            json_t *iid = json_object_get(json_object_get(p, "object_attributes"), "iid");
            description = owned = strdup_printf("Triggered by GitLab Merge Request #%lld: %s => %s",
                               json_is_integer(iid) ? (long long) json_integer_value(iid) : 0LL,
                               source, target);
            r = 0;
        }
    } else {
        const char *ref = jstr(p, "ref"), *after = jstr(p, "after");
        const char *message = NULL;
        json_t *commits = json_object_get(p, "commits");

        if (json_array_size(commits))
            message = jstr(json_array_get(commits, json_array_size(commits) - 1), "message");
        source = target = ref ? (startswith(ref, "refs/heads/") ? ref + 11
                                 : startswith(ref, "refs/tags/") ? ref + 10 : ref) : NULL;
        sha = jstr(p, "checkout_sha") ? jstr(p, "checkout_sha") : after;
        user = jstr(p, "user_name");
        r = 0;
        if (!t->on_push)
            description = "ignored: the trigger does not build on push", r = -ENOENT;
        else if (!source)
            description = "ignored: the push names no ref", r = -ENOENT;
        else if (after && streq(after, NO_COMMIT) && !t->on_branch_delete)
            description = "ignored: a branch was deleted", r = -ENOENT;
        else if (t->ci_skip && message && strstr(message, "[ci-skip]"))
            description = "ignored: [ci-skip] in the commit message", r = -ENOENT;
        else
            description = user ? (owned = strdup_printf("Started by GitLab push by %s", user))
                               : "Started by GitLab push";
    }
    if (r >= 0 && !gitlab_branch_passes(t, source, target)) {
        r = -ENOENT;
        free(owned);
        description = owned = strdup_printf("ignored: the branch %s does not pass the job's "
                                            "branch filter", target);
    }
    if (r < 0) {
        finish(req, "gitlab", delivery, job->name, description);
        json_decref(p);
        api_send_text(resp, 200, rfmt("%s\n", description));
        return;
    }
    /* the commit to build, then the gitlab plugin's variables */
    buf_printf(&note, "%s\n", sha && strlen(sha) <= 40 ? sha : "");
    var(&note, "gitlabBranch", merge_request ? source : source);
    var(&note, "gitlabSourceBranch", source);
    var(&note, "gitlabTargetBranch", target);
    var(&note, "gitlabActionType", merge_request ? "MERGE" : tag ? "TAG_PUSH" : "PUSH");
    var(&note, "gitlabUserName", user);
    var(&note, "gitlabUserUsername", merge_request ? jstr(p, "user.username") : jstr(p, "user_username"));
    var(&note, "gitlabUserEmail", merge_request ? jstr(p, "user.email") : jstr(p, "user_email"));
    if (merge_request) {
        json_t *id = json_object_get(json_object_get(p, "object_attributes"), "id");
        json_t *iid = json_object_get(json_object_get(p, "object_attributes"), "iid");
        var(&note, "gitlabSourceRepoName", jstr(p, "object_attributes.source.name"));
        var(&note, "gitlabSourceNamespace", jstr(p, "object_attributes.source.namespace"));
        var(&note, "gitlabSourceRepoHomepage", jstr(p, "object_attributes.source.homepage"));
        var(&note, "gitlabSourceRepoURL", jstr(p, "object_attributes.source.url"));
        var(&note, "gitlabSourceRepoSshUrl", jstr(p, "object_attributes.source.ssh_url"));
        var(&note, "gitlabSourceRepoHttpUrl", jstr(p, "object_attributes.source.http_url"));
        var(&note, "gitlabTargetRepoName", jstr(p, "object_attributes.target.name"));
        var(&note, "gitlabTargetNamespace", jstr(p, "object_attributes.target.namespace"));
        var(&note, "gitlabTargetRepoSshUrl", jstr(p, "object_attributes.target.ssh_url"));
        var(&note, "gitlabTargetRepoHttpUrl", jstr(p, "object_attributes.target.http_url"));
        var(&note, "gitlabMergeRequestTitle", jstr(p, "object_attributes.title"));
        var(&note, "gitlabMergeRequestLastCommit", sha);
        if (json_is_integer(id))
            var(&note, "gitlabMergeRequestId", rfmt("%lld", (long long) json_integer_value(id)));
        if (json_is_integer(iid))
            var(&note, "gitlabMergeRequestIid", rfmt("%lld", (long long) json_integer_value(iid)));
    } else {
        var(&note, "gitlabSourceRepoName", jstr(p, "project.name"));
        var(&note, "gitlabSourceNamespace", jstr(p, "project.namespace"));
        var(&note, "gitlabSourceRepoHomepage", jstr(p, "project.web_url"));
        var(&note, "gitlabSourceRepoURL", jstr(p, "project.git_ssh_url"));
        var(&note, "gitlabSourceRepoSshUrl", jstr(p, "project.git_ssh_url"));
        var(&note, "gitlabSourceRepoHttpUrl", jstr(p, "project.git_http_url"));
        var(&note, "gitlabTargetRepoName", jstr(p, "project.name"));
        var(&note, "gitlabTargetNamespace", jstr(p, "project.namespace"));
        var(&note, "gitlabTargetRepoSshUrl", jstr(p, "project.git_ssh_url"));
        var(&note, "gitlabTargetRepoHttpUrl", jstr(p, "project.git_http_url"));
        var(&note, "gitlabBefore", jstr(p, "before"));
        var(&note, "gitlabAfter", jstr(p, "after"));
    }
    json_decref(p);
    if (cfg->disabled) {
        finish(req, "gitlab", delivery, job->name, "the job is disabled");
        api_send_text(resp, 200, rfmt("ignored: %s is disabled\n", job->name));
        return;
    }
    r = schedule_gitlab(app, req, job, description, buf_str(&note));
    if (r < 0) {
        finish(req, "gitlab", delivery, job->name, rfmt("not scheduled: %s", strerror(-r)));
        api_send_text(resp, r == -EAGAIN || r == -ENOSPC ? 503 : 500,
                      rfmt("The build could not be queued: %s\n", strerror(-r)));
        return;
    }
    finish(req, "gitlab", delivery, job->name, "scheduled");
    api_send_text(resp, 200, rfmt("Scheduled %s\n", job->name));
}

void
api_deliveries(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    struct delivery *v = NULL;
    size_t n = 0;
    json_t *a;

    (void) app;
    (void) unused;
    if (store_delivery_list(req->db, 1000, &v, &n) < 0) {
        api_send_text(resp, 500, "Could not read the deliveries.\n");
        return;
    }
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "source",
                                           v[i].source, "id", v[i].id, "event", v[i].event,
                                           "received", (json_int_t) v[i].received_ms, "matched",
                                           v[i].matched, "result", v[i].result));
    deliveries_free(v, n);
    api_send_json(req, resp, json_pack("{s:o}", "deliveries", a));
}

/* ---- GET /job/NAME/hooks/api/json ---- */

static json_t *
jstrings(char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *
jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

void
api_job_hooks(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    _cleanup_free_ char *err = NULL, *root = app_root_url(app, req), *ju = NULL;
    bool may_configure = app_may(req, PERM_JOB_CONFIGURE, job);
    struct hook_info h;
    json_t *gl_events, *v;
    int r;

    r = jobs_read_config(app->jobs, job->name, &cfg, &err);
    if (r < 0) {
        api_send_text(resp, 500, rfmt("The job's config.xml cannot be read: %s\n",
                                      err ? err : strerror(-r)));
        return;
    }
    ju = root ? job_url(root, job->name) : NULL;
    if (!ju || hook_info_make(req->db, root, job->name, cfg, may_configure, &h) < 0) {
        api_send_text(resp, 500, "Out of memory.\n");
        return;
    }
    gl_events = json_array();
    for (size_t i = 0; i < h.n_gitlab_events; i++)
        json_array_append_new(gl_events, json_string(h.gitlab_events[i]));
    v = json_pack(
        "{s:s, s:s, s:s, s:o, s:b,"
        " s:{s:b, s:o, s:s, s:s, s:[s], s:o, s:b, s:s},"
        " s:{s:b, s:o, s:s, s:o, s:b, s:o, s:s},"
        " s:{s:b, s:o, s:o, s:s, s:I, s:s}}",
        "_class", "steward.JobHooks", "name", job->name, "url", ju, "repositories",
        jstrings(h.repos, h.n_repos), "disabled", h.disabled,
        "github", "answers", h.github, "note", jstr_or_null(h.github_todo), "payloadUrl",
        h.github_url, "contentType", "application/json", "events", "push", "secretCredentialId",
        jstr_or_null(h.github_secret_id), "secretUsable", h.github_secret_ok, "secret",
        h.github_secret,
        "gitlab", "answers", h.gitlab, "note", jstr_or_null(h.gitlab_todo), "url", h.gitlab_url,
        "events", gl_events, "secretTokenSet", h.gitlab_token_set, "secretToken",
        jstr_or_null(h.gitlab_token), "secret", h.gitlab_secret ? h.gitlab_secret : "",
        "notifyCommit", "answers", h.notify, "note", jstr_or_null(h.notify_todo), "commands",
        jstrings(h.notify_commands, h.n_notify_commands), "access", h.notify_access, "tokens",
        (json_int_t) h.notify_tokens, "token", h.notify_token);
    hook_info_release(&h);
    if (!v) {
        api_send_text(resp, 500, "Out of memory.\n");
        return;
    }
    resp_header(resp, "Cache-Control", "no-store");
    api_send_json(req, resp, v);
}
