/* SPDX-License-Identifier: MIT */
/*
 * A job's forge hooks, as the trigger panel and `steward hooks` show them
 * (see http/hookinfo.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/credentials.h"
#include "core/notify.h"
#include "http/hookinfo.h"
#include "util/buf.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

#define GITHUB_TRIGGER                                                                         \
    "the GitHub push trigger (com.cloudbees.jenkins.GitHubPushTrigger; jenkins-job-builder: " \
    "triggers: [github])"
#define GIT_SCM "a Git repository (hudson.plugins.git.GitSCM; jenkins-job-builder: scm: git)"
#define POLL_TRIGGER                                                                           \
    "the Poll SCM trigger (hudson.triggers.SCMTrigger; jenkins-job-builder: triggers: "       \
    "[pollscm: ...]; an empty schedule polls only when notified)"

/* A query value: what url_encode() keeps, and ':', '/' and '@', which a URL's query may hold. */
static int
query_value(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int r = 0;

    for (; *s && r >= 0; s++) {
        unsigned char c = (unsigned char) *s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.~:/@", c))
            r = buf_putc(out, (char) c);
        else
            r = buf_append(out, (char[]){ '%', hex[c >> 4], hex[c & 15] }, 3);
    }
    return r;
}

/* The URLs of a config's "NAME URL" lines, each once. */
static int
repos_of(const struct job_config *cfg, struct hook_info *h)
{
    size_t cap = 0;

    for (const char *p = cfg->git_urls; p && *p;) {
        const char *nl = strchrnul(p, '\n'), *sp = memchr(p, ' ', (size_t) (nl - p));
        bool seen = false;

        if (sp && sp + 1 < nl) {
            size_t len = (size_t) (nl - sp - 1);
            for (size_t i = 0; i < h->n_repos && !seen; i++)
                seen = strlen(h->repos[i]) == len && memcmp(h->repos[i], sp + 1, len) == 0;
            if (!seen) {
                if (h->n_repos == cap) {
                    char **v = reallocarray(h->repos, cap = cap ? cap * 2 : 4, sizeof *v);
                    if (!v)
                        return -ENOMEM;
                    h->repos = v;
                }
                h->repos[h->n_repos] = strndup(sp + 1, len);
                if (!h->repos[h->n_repos])
                    return -ENOMEM;
                h->n_repos++;
            }
        }
        p = *nl ? nl + 1 : nl;
    }
    return 0;
}

static int
github(struct store *db, const char *root, const struct job_config *cfg, struct hook_info *h)
{
    struct cred_info info = { 0 };
    int r;

    h->github = cfg->github_push && h->n_repos > 0;
    if (!h->github)
        h->github_todo = strdup(cfg->github_push ? "The job has the GitHub push trigger but no "
                                                   "Git repository: add " GIT_SCM "."
                                : h->n_repos ? "Add " GITHUB_TRIGGER " to the job's config.xml."
                                             : "Add " GIT_SCM " and " GITHUB_TRIGGER
                                               " to the job's config.xml.");
    h->github_url = strdup_printf("%sgithub-webhook/", root);
    r = store_setting_get(db, GITHUB_HOOK_SECRET_KEY, &h->github_secret_id);
    if (r == -ENOENT) {
        h->github_secret_id = NULL;
        h->github_secret = strdup(
            "No shared secret is set: deliveries are taken unsigned. To set one, add a Secret "
            "text credential with the webhook's Secret and choose it on the Hooks page "
            "(manage/hooks), or: steward --home DIR github hook-secret CREDENTIAL_ID.");
    } else if (r < 0)
        return r;
    else {
        r = cred_get_info(db, h->github_secret_id, &info);
        h->github_secret_ok = r >= 0 && info.kind == CRED_SECRET_TEXT;
        if (h->github_secret_ok)
            h->github_secret = strdup_printf(
                "The secret text of the credential '%s': give the webhook the same text as "
                "its Secret. Deliveries must be signed with it (X-Hub-Signature-256).",
                h->github_secret_id);
        else if (r == -ENOENT)
            h->github_secret = strdup_printf(
                "The shared secret is the credential '%s', which does not exist: every delivery "
                "is refused until it is added or another is chosen on the Hooks page "
                "(manage/hooks).",
                h->github_secret_id);
        else if (r >= 0)
            h->github_secret = strdup_printf(
                "The shared secret is the credential '%s', a %s and not a secret text: every "
                "delivery is refused until a Secret text is chosen on the Hooks page "
                "(manage/hooks).",
                h->github_secret_id, cred_kind_type_name(info.kind));
        else
            h->github_secret = strdup_printf("The shared secret is the credential '%s', which "
                                             "cannot be read: %s.",
                                             h->github_secret_id, cred_strerror(r));
        cred_info_release(&info);
    }
    return h->github_url && h->github_secret && (h->github || h->github_todo) ? 0 : -ENOMEM;
}

static int
gitlab(const char *root, const char *job, const struct job_config *cfg, bool show_secret,
       struct hook_info *h)
{
    _cleanup_(buf_releasep) struct buf url = BUF_INIT(64 * 1024);
    const struct gitlab_trigger *t = cfg->gitlab;

    h->gitlab = cfg->gitlab || cfg->has_gitlab;
    if (buf_puts(&url, root) < 0 || buf_puts(&url, "project/") < 0 || url_encode(&url, job) < 0)
        return -ENOMEM;
    h->gitlab_url = buf_detach(&url);
    if (!h->gitlab) {
        h->gitlab_todo = strdup(
            h->n_repos ? "Add the GitLab trigger (com.dabsquared.gitlabjenkins.GitLabPushTrigger; "
                         "jenkins-job-builder: triggers: [gitlab: ...]) with a secret token to the "
                         "job's config.xml."
                       : "Add the GitLab trigger (com.dabsquared.gitlabjenkins.GitLabPushTrigger; "
                         "jenkins-job-builder: triggers: [gitlab: ...]) with a secret token, and "
                         GIT_SCM " for the build to check out the pushed commit.");
        return h->gitlab_url && h->gitlab_todo ? 0 : -ENOMEM;
    }
    if (!t) {
        /* a summary: the trigger is there, its settings are in config.xml */
        h->gitlab_secret = strdup("The secret token is in the job's configuration.");
        return h->gitlab_url && h->gitlab_secret ? 0 : -ENOMEM;
    }
    if (t->on_push) {
        h->gitlab_events[h->n_gitlab_events++] = "Push events";
        h->gitlab_events[h->n_gitlab_events++] = "Tag push events";
    }
    if (t->on_merge_request || t->on_accepted_mr || t->on_closed_mr)
        h->gitlab_events[h->n_gitlab_events++] = "Merge request events";
    if (h->n_gitlab_events == 0)
        h->gitlab_todo = strdup("The trigger builds on no event: set triggerOnPush or "
                                "triggerOnMergeRequest to true.");
    h->gitlab_token_set = t->secret_token != NULL;
    if (!t->secret_token)
        h->gitlab_secret = strdup(
            "The trigger has no secret token: GitLab must then send the HTTP Basic credentials "
            "of a user who may build the job (USER:APITOKEN@ in the URL). Better: give the "
            "trigger a secretToken and the webhook the same Secret token.");
    else if (t->secret_encrypted)
        h->gitlab_secret = strdup(
            "The secret token is encrypted by the Jenkins the job came from, which alone can "
            "read it: put it in config.xml as plain text (as jenkins-job-builder's secret-token "
            "writes it), the same as the webhook's Secret token.");
    else if (show_secret) {
        h->gitlab_token = strdup(t->secret_token);
        h->gitlab_secret = strdup("Paste it as the webhook's Secret token (GitLab sends it as "
                                  "X-Gitlab-Token). It is the job's secret: keep it as a "
                                  "password.");
        if (!h->gitlab_token)
            return -ENOMEM;
    } else
        h->gitlab_secret = strdup("Set; shown only to who may configure the job.");
    return h->gitlab_url && h->gitlab_secret &&
                   (h->n_gitlab_events || h->gitlab_todo)
               ? 0
               : -ENOMEM;
}

static int
notify(struct store *db, const char *root, const struct job_config *cfg, struct hook_info *h)
{
    _cleanup_free_ char *list = NULL;
    enum notify_access access = notify_access(db);
    const char *todo = NULL;

    h->notify = h->n_repos > 0 && cfg->scm_poll_spec && !cfg->scm_ignore_hooks &&
                !cfg->git_ignore_notify;
    if (h->n_repos == 0)
        todo = "Add " GIT_SCM " and " POLL_TRIGGER " to the job's config.xml.";
    else if (!cfg->scm_poll_spec)
        todo = "The job is not notified: it has no Poll SCM trigger. Add " POLL_TRIGGER ".";
    else if (cfg->scm_ignore_hooks)
        todo = "The job is not notified: its Poll SCM trigger ignores post-commit hooks "
               "(ignorePostCommitHooks). Set that to false.";
    else if (cfg->git_ignore_notify)
        todo = "The job is not notified: its Git extension IgnoreNotifyCommit (\"Don't trigger "
               "a build on commit notifications\") is set. Remove it.";
    else if (!*cfg->scm_poll_spec)
        todo = "The Poll SCM schedule is empty: the job polls only when notified.";
    if (todo && !(h->notify_todo = strdup(todo)))
        return -ENOMEM;
    h->notify_access = access == NOTIFY_OFF ? "off" : access == NOTIFY_SHA1_ONLY ? "sha1-only"
                                                                               : "required";
    if (notify_token_list(db, &list) >= 0)
        for (const char *p = list; *p; p++)
            h->notify_tokens += *p == '\n';
    h->notify_token = strdup_printf(
        "%s%s",
        access == NOTIFY_OFF
            ? "notifyCommit takes requests without an access token (the setting is off)."
        : access == NOTIFY_SHA1_ONLY
            ? "TOKEN is needed only with sha1=: a notifyCommit access token, "
            : "TOKEN is a notifyCommit access token (not a user's API token, not the job's "
              "trigger token), ",
        access == NOTIFY_OFF ? ""
        : h->notify_tokens
            ? rfmt("shown only when it was made (%zu exist%s). Make one on the Hooks page "
                   "(manage/hooks), or: steward --home DIR git notify-token new NAME.",
                   h->notify_tokens, h->notify_tokens == 1 ? "s" : "")
            : "shown only when it is made, and none is made yet. Make one on the Hooks page "
              "(manage/hooks), or: steward --home DIR git notify-token new NAME.");
    if (!h->notify_token)
        return -ENOMEM;
    if (h->n_repos) {
        h->notify_commands = calloc(h->n_repos, sizeof *h->notify_commands);
        if (!h->notify_commands)
            return -ENOMEM;
    }
    for (size_t i = 0; i < h->n_repos; i++) {
        _cleanup_(buf_releasep) struct buf cmd = BUF_INIT(64 * 1024);
        int r = buf_printf(&cmd, "curl \"%sgit/notifyCommit?url=", root);

        if (r >= 0)
            r = query_value(&cmd, h->repos[i]);
        if (r >= 0 && access != NOTIFY_OFF)
            r = buf_puts(&cmd, "&token=TOKEN");
        if (r >= 0)
            r = buf_putc(&cmd, '"');
        if (r < 0)
            return -ENOMEM;
        h->notify_commands[h->n_notify_commands++] = buf_detach(&cmd);
    }
    return 0;
}

int
hook_info_make(struct store *db, const char *root, const char *job, const struct job_config *cfg,
               bool show_secret, struct hook_info *ret)
{
    struct hook_info h = { .disabled = cfg->disabled };
    int r;

    r = repos_of(cfg, &h);
    if (r >= 0)
        r = github(db, root, cfg, &h);
    if (r >= 0)
        r = gitlab(root, job, cfg, show_secret, &h);
    if (r >= 0)
        r = notify(db, root, cfg, &h);
    if (r < 0) {
        hook_info_release(&h);
        return r;
    }
    *ret = h;
    return 0;
}

void
hook_info_release(struct hook_info *h)
{
    for (size_t i = 0; i < h->n_repos; i++)
        free(h->repos[i]);
    free(h->repos);
    free(h->github_todo);
    free(h->github_url);
    free(h->github_secret_id);
    free(h->github_secret);
    free(h->gitlab_todo);
    free(h->gitlab_url);
    if (h->gitlab_token)
        secret_wipe(h->gitlab_token, strlen(h->gitlab_token));
    free(h->gitlab_token);
    free(h->gitlab_secret);
    free(h->notify_todo);
    for (size_t i = 0; i < h->n_notify_commands; i++)
        free(h->notify_commands[i]);
    free(h->notify_commands);
    free(h->notify_token);
    *h = (struct hook_info){ 0 };
}
