/* SPDX-License-Identifier: MIT */
/*
 * The forges' hooks in the web UI:
 *
 * - on a job's configure page, beside the two curl commands, what GitHub,
 *   GitLab and a plain Git server need to start the job (http/hookinfo.h,
 *   the same as GET /job/NAME/hooks/api/json and `steward hooks JOB`);
 * - /manage/hooks, for administrators: the notifyCommit access tokens
 *   (made, shown once, revoked), notifyCommit's access mode, the GitHub
 *   hook secret's credential, and the recent deliveries. What the offline
 *   commands `git notify-token`, `git notify-access` and `github
 *   hook-secret` do, and the same settings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/credentials.h"
#include "core/notify.h"
#include "http/hookinfo.h"
#include "util/strutil.h"
#include "web/page.h"

#define SELF "manage/hooks"
#define DELIVERIES_SHOWN 100

/* ---- the configure page's panel ---- */

static void
fact(struct buf *b, const char *term, const char *code, const char *text)
{
    html_raw(b, "<dt>");
    html_text(b, term);
    html_raw(b, "</dt><dd>");
    if (code) {
        html_raw(b, "<code>");
        html_text(b, code);
        html_raw(b, "</code>");
    }
    html_text(b, text);
    html_raw(b, "</dd>");
}

/* A term whose value is copied into a form elsewhere: shown with a Copy button. */
static void
fact_box(struct buf *b, const char *term, const char *id, const char *value)
{
    html_raw(b, "<dt>");
    html_text(b, term);
    html_raw(b, "</dt><dd>");
    web_command_box(b, id, value, term);
    html_raw(b, "</dd>");
}

static void
section_open(struct buf *b, const char *id, const char *title, bool answers)
{
    html_raw(b, "<section class=\"hook\" id=\"hook-");
    html_attr(b, id);
    html_raw(b, "\" aria-labelledby=\"h-hook-");
    html_attr(b, id);
    html_raw(b, "\"><h4 id=\"h-hook-");
    html_attr(b, id);
    html_raw(b, "\">");
    html_text(b, title);
    html_raw(b, answers ? " <span class=\"st st-ok\">set up</span>"
                        : " <span class=\"st st-none\">not set up</span>");
    html_raw(b, "</h4>");
}

static void
note(struct buf *b, const char *cls, const char *text)
{
    if (!text)
        return;
    html_raw(b, "<p class=\"");
    html_attr(b, cls);
    html_raw(b, "\">");
    html_text(b, text);
    html_raw(b, "</p>");
}

void
web_hooks_panel(struct buf *b, struct web *w, const char *job, const struct job_config *cfg)
{
    struct hook_info h;

    html_raw(b, "<div class=\"how\" id=\"hooks\" role=\"region\" aria-labelledby=\"h-hooks\"><h3 "
                "id=\"h-hooks\">Forge hooks</h3><p class=\"hint\">What GitHub, GitLab or any Git "
                "server needs to start this job on a push. <code>steward hooks ");
    html_text(b, job);
    html_raw(b, "</code> prints the same.</p>");
    /* the page is for who may configure the job: the GitLab token is theirs to see */
    if (hook_info_make(w->req->db, w->root, job, cfg, true, &h) < 0) {
        html_raw(b, "<p class=\"notice bad\">Out of memory.</p></div>");
        return;
    }
    if (h.disabled)
        html_raw(b, "<p class=\"notice warn\">The job is disabled: no hook starts it until it "
                    "is enabled.</p>");

    section_open(b, "github", "GitHub", h.github);
    if (h.github) {
        html_raw(b, "<p class=\"hint\">In the repository&rsquo;s Settings, Webhooks, Add "
                    "webhook:</p>");
        html_raw(b, "<dl class=\"facts\">");
        fact_box(b, "Payload URL", "hook-github-url", h.github_url);
        fact(b, "Content type", "application/json", "");
        fact(b, "Events", NULL, "Just the push event (push)");
        fact(b, "Secret", NULL, h.github_secret);
        html_raw(b, "</dl>");
    } else
        note(b, "hint", h.github_todo);
    html_raw(b, "</section>");

    section_open(b, "gitlab", "GitLab", h.gitlab);
    if (h.gitlab) {
        html_raw(b, "<p class=\"hint\">In the project&rsquo;s Settings, Webhooks:</p>");
        html_raw(b, "<dl class=\"facts\">");
        fact_box(b, "URL", "hook-gitlab-url", h.gitlab_url);
        if (h.gitlab_token) {
            fact_box(b, "Secret token", "hook-gitlab-token", h.gitlab_token);
            fact(b, "", NULL, h.gitlab_secret);
        } else
            fact(b, "Secret token", NULL, h.gitlab_secret);
        if (h.n_gitlab_events) {
            _cleanup_(buf_releasep) struct buf ev = BUF_INIT(256);
            for (size_t i = 0; i < h.n_gitlab_events; i++)
                buf_printf(&ev, "%s%s", i ? ", " : "", h.gitlab_events[i]);
            fact(b, "Trigger", NULL, buf_str(&ev));
        }
        html_raw(b, "</dl>");
    }
    note(b, "hint", h.gitlab_todo);
    html_raw(b, "</section>");

    section_open(b, "notify", "Any Git server (notifyCommit)", h.notify);
    note(b, h.notify ? "hint" : "notice warn", h.notify_todo);
    if (h.n_notify_commands) {
        html_raw(b, "<p class=\"hint\">From the server&rsquo;s post-receive hook (or a forge that "
                    "can call a URL on push):</p>");
        for (size_t i = 0; i < h.n_notify_commands; i++)
            web_command_box(b, rfmt("hook-notify-%zu", i), h.notify_commands[i],
                            "the notifyCommit command");
        note(b, "hint", h.notify_token);
    }
    html_raw(b, "</section>");
    if (web_may(w, PERM_ADMINISTER, NULL)) {
        html_raw(b, "<p class=\"hint\">The GitHub secret and the notifyCommit tokens are the "
                    "server&rsquo;s: <a href=\"");
        html_attr(b, w->base);
        html_raw(b, SELF "\">the Hooks page</a>.</p>");
    }
    html_raw(b, "</div>");
    hook_info_release(&h);
}

/* ---- /manage/hooks ---- */

static const struct web_message messages[] = {
    { "revoked", "The token was revoked: notifyCommit requests with it are refused." },
    { "access", "The notifyCommit access mode is saved." },
    { "secret", "The GitHub hook secret is saved." },
    { "unsigned", "GitHub deliveries are now taken unsigned, as the github plugin does without "
                  "a shared secret." },
};

static void
tokens_card(struct buf *b, struct web *w)
{
    _cleanup_free_ char *list = NULL;
    enum notify_access access = notify_access(w->req->db);
    static const struct {
        enum notify_access a;
        const char *value, *label;
    } modes[] = {
        { NOTIFY_REQUIRED, "required", "Required: every request needs a token" },
        { NOTIFY_SHA1_ONLY, "sha1-only", "Only with sha1=: polling needs none (the plugin's "
                                         "disabled-for-polling)" },
        { NOTIFY_OFF, "off", "Off: no request needs a token" },
    };
    size_t n = 0;

    html_raw(b, "<section class=\"card\" id=\"notify-tokens\" aria-labelledby=\"h-tokens\"><h2 "
                "id=\"h-tokens\">notifyCommit access tokens</h2><p class=\"hint\">A Git server "
                "calls <code>");
    html_text(b, w->root);
    html_raw(b, "git/notifyCommit?url=URL&amp;token=TOKEN</code> on push. The token is "
                "neither a user&rsquo;s API token nor a job&rsquo;s trigger token: it only lets "
                "a hook notify. Each job&rsquo;s configure page shows its command.</p>");
    if (notify_token_list(w->req->db, &list) < 0)
        web_notices(b, NULL, NULL, 0, "The tokens could not be read.");
    for (const char *p = list ? list : ""; *p;) {
        const char *nl = strchrnul(p, '\n'), *sp = memchr(p, ' ', (size_t) (nl - p));
        _cleanup_free_ char *uuid = strndup(p, sp ? (size_t) (sp - p) : (size_t) (nl - p));
        _cleanup_free_ char *name = sp ? strndup(sp + 1, (size_t) (nl - sp - 1)) : strdup("");

        if (n++ == 0)
            html_raw(b, "<div class=\"tablewrap\"><table id=\"tokens\"><thead><tr><th "
                        "scope=\"col\">Name</th><th scope=\"col\">UUID</th><th scope=\"col\">"
                        "<span class=\"visually-hidden\">Actions</span></th></tr></thead><tbody>");
        html_raw(b, "<tr><td>");
        html_text(b, name);
        html_raw(b, "</td><td><code>");
        html_text(b, uuid);
        html_raw(b, "</code></td><td>");
        web_form_open(b, w, true, SELF, "revoke",
                      rfmt("Revoke the token %s? Hooks that send it are refused.",
                           name ? name : ""));
        html_raw(b, "<input type=\"hidden\" name=\"uuid\" value=\"");
        html_attr(b, uuid);
        html_raw(b, "\"><button class=\"btn small danger\" type=\"submit\" aria-label=\"Revoke ");
        html_attr(b, name);
        html_raw(b, "\">Revoke</button></form></td></tr>");
        p = *nl ? nl + 1 : nl;
    }
    if (n)
        html_raw(b, "</tbody></table></div>");
    else
        html_raw(b, "<p class=\"empty\">No token is made yet.</p>");
    web_form_open(b, w, false, SELF, "new", NULL);
    html_raw(b, "<label for=\"t-name\">Name of a new token</label><input type=\"text\" "
                "id=\"t-name\" name=\"name\" required autocomplete=\"off\" spellcheck=\"false\"");
    buf_printf(b, " maxlength=\"%d\"", GIT_NOTIFY_TOKEN_NAME_MAX);
    html_raw(b, "><p class=\"hint\">Where it goes, e.g. the Git server&rsquo;s name. The token "
                "is shown once; only its hash is kept.</p><p class=\"actions\"><button "
                "class=\"btn primary\" type=\"submit\" id=\"new-notify-token\">Make a token"
                "</button></p></form>");

    html_raw(b, "<h3>When a token is needed</h3>");
    web_form_open(b, w, false, SELF, "access", NULL);
    html_raw(b, "<fieldset><legend class=\"visually-hidden\">notifyCommit access</legend>");
    for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
        html_raw(b, "<label class=\"check\"><input type=\"radio\" name=\"access\" value=\"");
        html_attr(b, modes[i].value);
        html_raw(b, modes[i].a == access ? "\" checked> " : "\"> ");
        html_text(b, modes[i].label);
        html_raw(b, "</label>");
    }
    html_raw(b, "</fieldset><p class=\"actions\"><button class=\"btn\" type=\"submit\" "
                "id=\"save-access\">Save</button></p></form><p class=\"hint\">Offline: "
                "<code>steward --home DIR git notify-token new|list|revoke</code>, <code>git "
                "notify-access required|sha1-only|off</code>.</p></section>");
}

static void
secret_card(struct buf *b, struct web *w)
{
    _cleanup_free_ char *current = NULL;
    struct cred_info *v = NULL;
    size_t n = 0, n_text = 0;
    bool listed = false;

    (void) store_setting_get(w->req->db, GITHUB_HOOK_SECRET_KEY, &current);
    html_raw(b, "<section class=\"card\" id=\"github-secret\" aria-labelledby=\"h-secret\"><h2 "
                "id=\"h-secret\">GitHub hook secret</h2><p class=\"hint\">GitHub signs each "
                "delivery to <code>");
    html_text(b, w->root);
    html_raw(b, "github-webhook/</code> with the webhook&rsquo;s Secret; Steward checks the "
                "signature against the secret text of this credential. Without one, deliveries "
                "are taken unsigned.</p>");
    if (cred_list(w->req->db, &v, &n) < 0)
        web_notices(b, NULL, NULL, 0, "The credentials could not be read.");
    web_form_open(b, w, false, SELF, "secret", NULL);
    html_raw(b, "<label for=\"s-cred\">Credential</label><select id=\"s-cred\" "
                "name=\"credential\"><option value=\"\">None: take unsigned deliveries</option>");
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind != CRED_SECRET_TEXT)
            continue;
        n_text++;
        html_raw(b, "<option value=\"");
        html_attr(b, v[i].id);
        html_raw(b, "\"");
        if (current && streq(current, v[i].id)) {
            html_raw(b, " selected");
            listed = true;
        }
        html_raw(b, ">");
        html_text(b, v[i].id);
        if (*v[i].description) {
            html_raw(b, " (");
            html_text(b, v[i].description);
            html_raw(b, ")");
        }
        html_raw(b, "</option>");
    }
    if (current && !listed) {
        /* kept as it is, and said: it is missing or not a secret text */
        html_raw(b, "<option value=\"");
        html_attr(b, current);
        html_raw(b, "\" selected>");
        html_text(b, current);
        html_raw(b, " (not a secret text credential: deliveries are refused)</option>");
    }
    cred_infos_free(v, n);
    html_raw(b, "</select>");
    if (n_text == 0) {
        html_raw(b, "<p class=\"hint\">There is no Secret text credential yet: add one on <a "
                    "href=\"");
        html_attr(b, w->base);
        html_raw(b, "manage/credentials\">Credentials</a> with the webhook&rsquo;s Secret.</p>");
    }
    html_raw(b, "<p class=\"actions\"><button class=\"btn primary\" type=\"submit\" "
                "id=\"save-secret\">Save</button></p></form><p class=\"hint\">Offline: "
                "<code>steward --home DIR github hook-secret CREDENTIAL_ID|--remove</code>.</p>"
                "</section>");
}

static void
deliveries_card(struct buf *b, struct web *w)
{
    struct delivery *v = NULL;
    size_t n = 0;

    html_raw(b, "<section class=\"card\" id=\"deliveries\" aria-labelledby=\"h-deliveries\">"
                "<h2 id=\"h-deliveries\">Recent deliveries</h2>");
    if (store_delivery_list(w->req->db, DELIVERIES_SHOWN, &v, &n) < 0)
        web_notices(b, NULL, NULL, 0, "The deliveries could not be read.");
    if (n == 0)
        html_raw(b, "<p class=\"empty\">No GitHub or GitLab delivery has been received.</p>");
    else
        html_raw(b, "<div class=\"tablewrap\"><table id=\"delivery-list\"><thead><tr><th "
                    "scope=\"col\">Received</th><th scope=\"col\">From</th><th scope=\"col\">"
                    "Event</th><th scope=\"col\">Jobs</th><th scope=\"col\">Result</th><th "
                    "scope=\"col\" class=\"opt\">Delivery</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        html_raw(b, "<tr><td class=\"nowrap\">");
        web_time_ago(b, w->now, v[i].received_ms);
        html_raw(b, "</td><td>");
        html_text(b, streq(v[i].source, "github") ? "GitHub"
                     : streq(v[i].source, "gitlab") ? "GitLab" : v[i].source);
        html_raw(b, "</td><td>");
        html_text(b, v[i].event);
        html_raw(b, "</td><td>");
        html_text(b, *v[i].matched ? v[i].matched : "-");
        html_raw(b, "</td><td>");
        html_text(b, v[i].result);
        html_raw(b, "</td><td class=\"opt\"><code>");
        html_text(b, v[i].id);
        html_raw(b, "</code></td></tr>");
    }
    if (n)
        html_raw(b, "</tbody></table></div>");
    deliveries_free(v, n);
    html_raw(b, "<p class=\"hint\">The newest ");
    html_int(b, DELIVERIES_SHOWN);
    html_raw(b, "; the last 1,000 as JSON at <code>manage/hooks/api/json</code>. Deliveries "
                "are kept 30 days.</p></section>");
}

static void
page(struct web *w, const char *error_lent, int status, const char *fresh_name,
     const char *fresh_value)
{
    _cleanup_free_ char *error = error_lent ? strdup(error_lent) : NULL;
    struct buf *b = web_begin(w, "Hooks", "hooks");

    html_raw(b, "<h1>Hooks</h1>");
    web_notices(b, w, messages, ELEMENTSOF(messages), error);
    if (fresh_value) {
        html_raw(b, "<section class=\"once\" aria-labelledby=\"h-once\" id=\"new-token\"><h2 "
                    "id=\"h-once\">New notifyCommit token &ldquo;");
        html_text(b, fresh_name);
        html_raw(b, "&rdquo;</h2><p><strong>Copy it now: it will not be shown again.</strong> "
                    "Steward keeps only a hash of it.</p><div class=\"secret\"><code "
                    "id=\"token-value\">");
        html_text(b, fresh_value);
        html_raw(b, "</code><button class=\"btn primary\" type=\"button\" "
                    "data-copy=\"token-value\" id=\"copy-token\">Copy</button></div><p "
                    "class=\"hint\">A Git server&rsquo;s hook: <code>curl \"");
        html_text(b, w->root);
        html_raw(b, "git/notifyCommit?url=REPOSITORY_URL&amp;token=");
        html_text(b, fresh_value);
        html_raw(b, "\"</code></p></section>");
    }
    html_raw(b, "<div class=\"grid\">");
    tokens_card(b, w);
    secret_card(b, w);
    html_raw(b, "</div>");
    deliveries_card(b, w);
    web_end(w, status);
}

/*
 * After a change was stored (r >= 0): its audit entry (`action`, `detail`),
 * then back to the page with ?msg=`msg`. A 500 when it was not.
 */
static void
changed(struct web *w, int r, const char *action, const char *detail, const char *msg)
{
    if (r < 0) {
        page(w, rfmt("The change could not be stored: %s.", strerror(-r)), 500, NULL, NULL);
        return;
    }
    app_audit(w->req, action, NULL, "%s", detail);
    web_redirect(w, rfmt(SELF "?msg=%s", msg));
}

static void
new_token(struct web *w)
{
    const char *name = req_param(w->req, "name");
    _cleanup_free_ char *value = NULL, *uuid = NULL;
    int r;

    r = name ? notify_token_new(w->req->db, name, &value, &uuid) : -EINVAL;
    if (r == -EINVAL) {
        page(w, rfmt("A token's name is 1 to %d printable characters.",
                     GIT_NOTIFY_TOKEN_NAME_MAX), 400, NULL, NULL);
        return;
    }
    if (r < 0) {
        page(w, rfmt("The token could not be stored: %s.", strerror(-r)), 500, NULL, NULL);
        return;
    }
    app_audit(w->req, "git-notify-token-new", NULL, "%s (%s)", name, uuid);
    page(w, NULL, 200, name, value);
    secret_wipe(value, strlen(value));
}

static void
revoke_token(struct web *w)
{
    const char *uuid = req_param(w->req, "uuid");
    int r = uuid ? notify_token_revoke(w->req->db, uuid) : -ENOENT;

    if (r == -ENOENT) {
        page(w, "There is no such token (revoked meanwhile?).", 404, NULL, NULL);
        return;
    }
    changed(w, r, "git-notify-token-revoke", uuid, "revoked");
}

static void
save_access(struct web *w)
{
    const char *a = req_param(w->req, "access");
    int r;

    if (!a || !(streq(a, "required") || streq(a, "sha1-only") || streq(a, "off"))) {
        page(w, "Choose when notifyCommit needs a token: required, sha1-only or off.", 400,
             NULL, NULL);
        return;
    }
    r = store_setting_set(w->req->db, GIT_NOTIFY_ACCESS_KEY, a);
    changed(w, r, "git-notify-access", a, "access");
}

static void
save_secret(struct web *w)
{
    const char *id = req_param(w->req, "credential");
    struct cred_info info = { 0 };
    int r;

    if (!id || !*id) {
        r = store_setting_delete(w->req->db, GITHUB_HOOK_SECRET_KEY);
        changed(w, r == -ENOENT ? 0 : r, "github-hook-secret", "none", "unsigned");
        return;
    }
    r = cred_get_info(w->req->db, id, &info);
    if (r == -ENOENT) {
        page(w, rfmt("There is no credential '%s': add a Secret text on Credentials first.", id),
             400, NULL, NULL);
        return;
    }
    if (r >= 0 && info.kind != CRED_SECRET_TEXT) {
        page(w, rfmt("The credential '%s' is a %s; the hook secret is a Secret text.", id,
                     cred_kind_type_name(info.kind)),
             400, NULL, NULL);
        cred_info_release(&info);
        return;
    }
    cred_info_release(&info);
    if (r >= 0)
        r = store_setting_set(w->req->db, GITHUB_HOOK_SECRET_KEY, id);
    changed(w, r, "github-hook-secret", rfmt("credential '%s'", id), "secret");
}

void
web_hooks_page(struct web *w)
{
    const char *action;

    if (!w->req->is_post) {
        page(w, NULL, 200, NULL, NULL);
        return;
    }
    if (!web_check_post(w))
        return;
    action = req_param(w->req, "action");
    if (action && streq(action, "new"))
        new_token(w);
    else if (action && streq(action, "revoke"))
        revoke_token(w);
    else if (action && streq(action, "access"))
        save_access(w);
    else if (action && streq(action, "secret"))
        save_secret(w);
    else
        page(w, "The form asked for nothing Steward knows.", 400, NULL, NULL);
}
