/* SPDX-License-Identifier: MIT */
/*
 * Source control over HTTP, with the git plugin's URLs and answers:
 *
 *   /git/notifyCommit?url=&branches=&sha1=&token=   a push happened: poll or build
 *   /job/NAME/scmPollLog                             the last poll's log
 *   POST /job/NAME/polling                           poll now
 *   /descriptorByName/hudson.plugins.git.ApiTokenPropertyConfiguration/generate|revoke
 *                                                    notifyCommit's access tokens
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/scm.h"
#include "api/trigger.h"
#include "core/engine.h"
#include "core/git.h"
#include "core/notify.h"
#include "core/params.h"
#include "core/poll.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/bounds.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

/* Jobs a notification schedules, named in headers at most (the plugin's rule). */
#define TRIGGERED_HEADERS 10

static const char notify_accepts[] =
    "a notifyCommit access token, as token= (the git plugin's \"Access token\"); user "
    "credentials and trigger tokens do not count here";
static const char notify_fix[] =
    "An administrator makes one with `steward --home DIR git notify-token new NAME` (or "
    "POST /descriptorByName/hudson.plugins.git.ApiTokenPropertyConfiguration/generate with "
    "apiTokenName=NAME), and the hook's URL gets &token=VALUE. docs/SCM.md shows the hook.";

static bool is_hex(const char *s)
{
    if (!*s || strlen(s) > 40)
        return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char) *s))
            return false;
    return true;
}

/* Whether one of `branches` (a comma list) is one the job's specs build. */
static bool branches_match(const char *remotes, const char *specs, const char *branches)
{
    _cleanup_free_ char *list = strdup(branches);
    char remote[128] = "origin";

    if (!list)
        return false;
    /* the first remote's name, which qualifies refs/heads/ specs */
    if (remotes && sscanf(remotes, "%127s", remote) != 1)
        snprintf(remote, sizeof remote, "origin");
    for (char *b = strtok(list, ","); b; b = strtok(NULL, ",")) {
        for (const char *p = specs; p && *p;) {
            const char *nl = strchrnul(p, '\n');
            _cleanup_free_ char *spec = strndup(p, (size_t) (nl - p)), *pattern = NULL;

            p = *nl ? nl + 1 : nl;
            if (!spec)
                return false;
            /* a spec with a parameter in it could be anything: it matches (as in the plugin) */
            if (strchr(spec, '$'))
                return true;
            if (git_spec_pattern(spec, remote, &pattern) < 0)
                return false;
            for (char *line = pattern, *next; line && *line; line = next) {
                _cleanup_free_ char *anchored = NULL, *as_remote = NULL;
                regex_t re;
                bool hit = false;

                next = strchr(line, '\n');
                if (next)
                    *next++ = '\0';
                if (startswith(line, "sha:") || startswith(line, "tag:"))
                    continue;
                if (asprintf(&anchored, "^(%s)$", line) < 0 ||
                    asprintf(&as_remote, "refs/remotes/%s/%s", remote,
                             startswith(b, "refs/heads/") ? b + 11 : b) < 0)
                    return false;
                if (regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB) != 0)
                    continue;
                hit = regexec(&re, as_remote, 0, NULL, 0) == 0 || regexec(&re, b, 0, NULL, 0) == 0;
                regfree(&re);
                if (hit)
                    return true;
            }
        }
    }
    return false;
}

/* Whether one of the job's remotes ("NAME URL" lines) is `url`, loosely. */
static bool url_matches(const char *remotes, const char *url)
{
    for (const char *p = remotes; p && *p;) {
        const char *nl = strchrnul(p, '\n'), *sp = memchr(p, ' ', (size_t) (nl - p));
        _cleanup_free_ char *u = sp ? strndup(sp + 1, (size_t) (nl - sp - 1)) : NULL;

        if (u && git_url_matches(u, url))
            return true;
        p = *nl ? nl + 1 : nl;
    }
    return false;
}

static int
schedule_commit(const struct app *app, struct req *req, struct job *job, const char *sha1)
{
    struct cause c = { .kind = CAUSE_COMMIT, .note = (char *) sha1, .addr = req->addr,
                       .count = 1 };

    return trigger_with_defaults(app, req, job, &c, "notifyCommit");
}

void
api_notify_commit(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    const char *url = req_param(req, "url"), *sha1 = req_param(req, "sha1");
    const char *branches = req_param(req, "branches"), *token = req_param(req, "token");
    _cleanup_(buf_releasep) struct buf body = BUF_INIT(1 << 20);
    _cleanup_free_ char *root = app_root_url(app, req);
    enum notify_access access = notify_access(req->db);
    struct job **list = NULL;
    size_t n = 0, triggered = 0, git_jobs = 0;

    (void) unused;
    if (sha1 && !*sha1)
        sha1 = NULL;
    if (branches && !*branches)
        branches = NULL;
    if (access == NOTIFY_REQUIRED || (access == NOTIFY_SHA1_ONLY && sha1)) {
        if (!token || !*token) {
            refuse(app, req, resp, &(struct refusal){
                .status = 401,
                .error = access == NOTIFY_SHA1_ONLY
                             ? "An access token is required when using the sha1 parameter"
                             : "An access token is required",
                .accepts = notify_accepts, .presented = "No token= parameter.", .fix = notify_fix });
            return;
        }
        if (!notify_token_valid(req->db, token)) {
            refuse(app, req, resp, &(struct refusal){
                .status = 403, .error = "Invalid access token", .accepts = notify_accepts,
                .presented = "A token= that is no notifyCommit access token of this server (an "
                             "API token or a job's trigger token is not one).",
                .fix = notify_fix });
            return;
        }
    }
    if (!url || !*url || strlen(url) > BOUND_URL_BYTES || strpbrk(url, " \t\r\n")) {
        refuse(app, req, resp, &(struct refusal){
            .status = 400, .error = rfmt("Illegal URL: %s", url ? url : "null"),
            .presented = url ? "A url= that is not a repository URL." : "No url= parameter.",
            .fix = "Give the repository's URL as the jobs' Git remotes have it: "
                   "/git/notifyCommit?url=https://host/owner/repo.git" });
        return;
    }
    if (sha1 && !is_hex(sha1)) {
        refuse(app, req, resp, &(struct refusal){
            .status = 400, .error = "Illegal SHA1", .presented = "A sha1= that is not hex digits.",
            .fix = "Give the commit as up to 40 hex digits, or leave sha1= out to poll." });
        return;
    }
    if (jobs_list(app->jobs, &list, &n) < 0) {
        api_send_text(resp, 500, "Out of memory.\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct job_config *cfg = list[i]->cfg;
        bool parameterized;
        int r;

        if (!cfg->git_urls)
            continue;
        git_jobs++;
        if (!url_matches(cfg->git_urls, url) || cfg->git_ignore_notify || !cfg->scm_poll_spec ||
            cfg->scm_ignore_hooks)
            continue;
        if (branches && !branches_match(cfg->git_urls, cfg->git_branches, branches))
            continue;
        if (cfg->disabled)
            continue;
        parameterized = cfg->git_branches && strchr(cfg->git_branches, '$');
        if (sha1 && !parameterized) {
            r = schedule_commit(app, req, list[i], sha1);
            if (r >= 0)
                buf_printf(&body, "Scheduled %s\n", list[i]->name);
        } else {
            r = engine_poll(app->engine, list[i]->name, NULL);
            if (r >= 0)
                buf_printf(&body, "Scheduled polling of %s\n", list[i]->name);
        }
        if (r < 0) {
            buf_printf(&body, "Could not schedule %s: %s\n", list[i]->name, strerror(-r));
            continue;
        }
        if (++triggered <= TRIGGERED_HEADERS) {
            _cleanup_free_ char *ju = root ? job_url(root, list[i]->name) : NULL;
            if (ju)
                resp_header(resp, "Triggered", ju);
        }
    }
    jobs_list_free(list, n);
    if (triggered > TRIGGERED_HEADERS)
        resp_header(resp, "Triggered", rfmt("<%zu more>", triggered - TRIGGERED_HEADERS));
    if (git_jobs == 0)
        buf_puts(&body, "No git jobs found\n");
    else if (triggered == 0 && body.len == 0)
        buf_printf(&body, "No git jobs using repository: %s and branches: %s\n", url,
                   branches ? branches : "");
    app_audit(req, "git-notify", NULL, "%s%s%s: %zu jobs", url, sha1 ? " at " : "",
              sha1 ? sha1 : "", triggered);
    api_send_text(resp, 200, buf_str(&body));
}

void
api_poll_log(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_free_ char *dir = home_job_dir(app->home, job->name);
    _cleanup_free_ char *path = dir ? path_join(dir, POLL_LOG_FILE) : NULL, *text = NULL;
    size_t len = 0;
    int r;

    (void) req;
    if (!path) {
        api_send_text(resp, 500, "Out of memory.\n");
        return;
    }
    r = fs_read_all(path, 1 << 20, &text, &len);
    if (r == -ENOENT) {
        api_send_text(resp, 404, job->cfg->scm_poll_spec
                                     ? "Polling has not run for this job yet.\n"
                                     : "This job does not poll: it has no \"Poll SCM\" trigger "
                                       "(hudson.triggers.SCMTrigger).\n");
        return;
    }
    if (r < 0) {
        api_send_text(resp, 500, rfmt("Could not read the polling log: %s\n", strerror(-r)));
        return;
    }
    resp_set(resp, 200, "text/plain; charset=utf-8", text, len);
}

void
api_poll_now(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_free_ char *root = app_root_url(app, req);
    _cleanup_free_ char *ju = root ? job_url(root, job->name) : NULL;
    int r;

    if (!job->cfg->git_urls) {
        refuse(app, req, resp, &(struct refusal){
            .status = 400, .error = "This job has no Git repository to poll",
            .fix = "Give the job a Git SCM (hudson.plugins.git.GitSCM) first." });
        return;
    }
    r = engine_poll(app->engine, job->name, NULL);
    if (r < 0) {
        api_send_text(resp, 503, rfmt("Polling could not be scheduled: %s\n", strerror(-r)));
        return;
    }
    api_redirect(resp, 302, ju ? ju : "/");
}

/* The git plugin's "Generate" button for notifyCommit tokens, and its revocation. */
void
api_notify_tokens(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    const char *action = req->n_seg ? req->seg[req->n_seg - 1] : "";
    _cleanup_free_ char *value = NULL, *uuid = NULL;
    int r;

    (void) unused;
    if (streq(action, "generate")) {
        const char *name = req_param(req, "apiTokenName");
        r = notify_token_new(req->db, name && *name ? name : "token", &value, &uuid);
        if (r == -EINVAL) {
            refuse(app, req, resp, &(struct refusal){
                .status = 400, .error = "Invalid token name",
                .fix = rfmt("Name it with 1 to %d printable characters.",
                            GIT_NOTIFY_TOKEN_NAME_MAX) });
            return;
        }
        if (r < 0) {
            api_send_text(resp, 500, rfmt("Could not save the token: %s\n", strerror(-r)));
            return;
        }
        app_audit(req, "git-notify-token-new", NULL, "%s (%s)", name && *name ? name : "token", uuid);
        api_send_json(req, resp, json_pack("{s:s, s:{s:s, s:s, s:s}}", "status", "ok", "data",
                                           "uuid", uuid, "name", name && *name ? name : "token",
                                           "value", value));
        secret_wipe(value, strlen(value));
        return;
    }
    if (streq(action, "revoke")) {
        const char *id = req_param(req, "apiTokenUuid");
        if (!id || !*id) {
            refuse(app, req, resp, &(struct refusal){ .status = 400,
                                                      .error = "API token UUID cannot be empty" });
            return;
        }
        r = notify_token_revoke(req->db, id);
        if (r == -ENOENT) {
            refuse(app, req, resp, &(struct refusal){ .status = 404,
                                                      .error = "No notifyCommit token has that UUID" });
            return;
        }
        if (r < 0) {
            api_send_text(resp, 500, rfmt("Could not revoke the token: %s\n", strerror(-r)));
            return;
        }
        app_audit(req, "git-notify-token-revoke", NULL, "%s", id);
        api_send_json(req, resp, json_pack("{s:s}", "status", "ok"));
        return;
    }
    refuse(app, req, resp, &(struct refusal){ .status = 404, .error = "No such action",
                                              .fix = "POST .../generate or .../revoke." });
}
