/* SPDX-License-Identifier: MIT */
/*
 * Job configuration (/job/NAME/configure) and new jobs (/newJob). Saving
 * reads the stored config.xml again, applies the form through the jobcfg
 * setters (so elements Steward does not manage stay as they were) and
 * writes it back with jobs_update_xml().
 *
 * Next to the trigger token sits "How to trigger this job": the two curl
 * commands, one per secret, with the job's real URL and parameter names,
 * and the forges' hooks (web/hooks.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/upload.h"
#include "util/bounds.h"
#include "util/strutil.h"
#include "web/page.h"

/* Form fields are indexed p0_name, p1_name, ... and step0, step1, ...; the
 * whole form has at most BOUND_FORM_FIELDS fields, so no index goes past it. */
#define MAX_FORM_INDEX BOUND_FORM_FIELDS

static const struct {
    enum param_type type;
    const char *cls;
    const char *label;
} param_types[] = {
    { PARAM_STRING, "StringParameterDefinition", "String" },
    { PARAM_TEXT, "TextParameterDefinition", "Text (several lines)" },
    { PARAM_BOOLEAN, "BooleanParameterDefinition", "Boolean" },
    { PARAM_CHOICE, "ChoiceParameterDefinition", "Choice" },
    { PARAM_PASSWORD, "PasswordParameterDefinition", "Password" },
    { PARAM_FILE, "FileParameterDefinition", "File (its name is where it goes in the workspace)" },
};

/* "Discard old builds": the LogRotator's four fields, named as in config.xml. */
static const struct {
    const char *name;
    const char *label;
} keep_fields[] = {
    { "daysToKeep", "Days to keep builds" },
    { "numToKeep", "Max # of builds to keep" },
    { "artifactDaysToKeep", "Days to keep artifacts" },
    { "artifactNumToKeep", "Max # of builds to keep with artifacts" },
};

/* ---- the curl commands (pure) ---- */

int
web_shell_quote(struct buf *out, const char *s)
{
    bool plain = *s != '\0';
    int r = 0;

    for (const char *p = s; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("_-./:@%+=,", *p);
    if (plain)
        return buf_puts(out, s);
    r = buf_putc(out, '\'');
    for (const char *p = s; *p && r >= 0; p++)
        r = *p == '\'' ? buf_puts(out, "'\\''") : buf_putc(out, *p);
    if (r >= 0)
        r = buf_putc(out, '\'');
    return r;
}

static int
trigger_url(struct buf *url, const char *root, const char *job, const char *token,
            const char *const *names, const char *const *values, size_t n)
{
    int r = buf_puts(url, root);

    if (r >= 0)
        r = buf_puts(url, "job/");
    if (r >= 0)
        r = url_encode(url, job);
    if (r >= 0)
        r = buf_puts(url, n ? "/buildWithParameters" : "/build");
    if (r >= 0 && token) {
        r = buf_puts(url, "?token=");
        if (r >= 0)
            r = url_encode(url, token);
    }
    for (size_t i = 0; i < n && r >= 0; i++) {
        r = buf_putc(url, i == 0 && !token ? '?' : '&');
        if (r >= 0)
            r = url_encode(url, names[i]);
        if (r >= 0)
            r = buf_putc(url, '=');
        if (r >= 0)
            r = url_encode(url, values[i] ? values[i] : "");
    }
    return r;
}

int
web_curl_with_api_token(struct buf *out, const char *root, const char *job, const char *user,
                        const char *const *names, const char *const *values, size_t n)
{
    struct buf url = BUF_INIT(BOUND_URL_BYTES * 4);
    int r = trigger_url(&url, root, job, NULL, names, values, n);

    if (r >= 0)
        r = buf_puts(out, "curl -X POST -u ");
    if (r >= 0)
        r = web_shell_quote(out, rfmt("%s:APITOKEN", user));
    if (r >= 0)
        r = buf_putc(out, ' ');
    if (r >= 0)
        r = web_shell_quote(out, buf_str(&url));
    buf_release(&url);
    return r;
}

int
web_curl_with_trigger_token(struct buf *out, const char *root, const char *job,
                            const char *token, const char *const *names,
                            const char *const *values, size_t n)
{
    struct buf url = BUF_INIT(BOUND_URL_BYTES * 4);
    int r = trigger_url(&url, root, job, token, names, values, n);

    if (r >= 0)
        r = buf_puts(out, "curl ");
    if (r >= 0)
        r = web_shell_quote(out, buf_str(&url));
    buf_release(&url);
    return r;
}

/* ---- the panel ---- */

/*
 * "Test this command": app.js sends the command's request with
 * X-Steward-Dry-Run (api/trigger.c) and shows what Steward made of it in
 * `out`. With `crumb`, as the signed-in user (the session stands in for
 * the API token), by POST; without, with no credentials at all, by GET as
 * the curl command does.
 */
static void
dry_run_button(struct buf *b, const char *out, const char *url, const char *crumb)
{
    html_raw(b, "<p class=\"actions\"><button class=\"btn small\" type=\"button\" data-dry-run=\"");
    html_attr(b, url);
    html_raw(b, "\" data-out=\"");
    html_attr(b, out);
    html_raw(b, "\"");
    if (crumb) {
        html_raw(b, " data-crumb=\"");
        html_attr(b, crumb);
        html_raw(b, "\"");
    }
    html_raw(b, ">Test this command</button> <span class=\"hint\">");
    html_text(b, crumb ? "A dry run as you (your session in place of the API token): it "
                         "says what the command would get, and queues nothing."
                       : "A dry run without your session, as the command sends it: it says "
                         "what the command would get, and queues nothing.");
    html_raw(b, "</span></p><pre class=\"dry-run\" id=\"");
    html_attr(b, out);
    html_raw(b, "\" aria-live=\"polite\" hidden></pre>");
}

void
web_command_box(struct buf *b, const char *id, const char *cmd, const char *what)
{
    html_raw(b, "<div class=\"cmd\"><pre id=\"");
    html_attr(b, id);
    html_raw(b, "\">");
    html_text(b, cmd);
    html_raw(b, "</pre><button class=\"btn small\" type=\"button\" data-copy=\"");
    html_attr(b, id);
    html_raw(b, "\" aria-label=\"Copy the command ");
    html_attr(b, what);
    html_raw(b, "\">Copy</button></div>");
}

/* A file parameter goes as curl -F 'NAME=@FILE', a multipart form. */
static void
add_file_args(struct buf *cmd, const struct job_config *cfg)
{
    for (size_t i = 0; i < cfg->n_params; i++)
        if (cfg->params[i].type == PARAM_FILE) {
            (void) buf_puts(cmd, " -F ");
            (void) web_shell_quote(cmd, rfmt("%s=@FILE", cfg->params[i].name));
        }
}

static void
trigger_panel(struct buf *b, struct web *w, const char *job, const struct job_config *cfg)
{
    const char *names[BOUND_JOB_PARAMS], *values[BOUND_JOB_PARAMS];
    struct buf cmd = BUF_INIT(BOUND_URL_BYTES * 8);
    size_t n = 0;
    bool skipped = false, files = false;

    /* defaults as example values; password parameters are left out (they keep their default) */
    for (size_t i = 0; i < cfg->n_params && n < BOUND_JOB_PARAMS; i++) {
        const struct param_def *d = &cfg->params[i];
        if (d->type == PARAM_PASSWORD) {
            skipped = true;
            continue;
        }
        if (d->type == PARAM_FILE) {
            files = true;
            continue;
        }
        names[n] = d->name;
        values[n++] = d->type == PARAM_CHOICE ? (d->n_choices ? d->choices[0] : "")
                                              : d->default_value;
    }

    html_raw(b, "<div class=\"how\" id=\"how\" role=\"region\" aria-labelledby=\"h-how\"><h3 "
                "id=\"h-how\">How to trigger this job</h3><p class=\"notice\" id=\"which-secret\">Your <strong>"
                "user API token</strong> proves who you are and goes in HTTP Basic auth "
                "(<code>-u USER:APITOKEN</code>); the job&rsquo;s <strong>trigger token</strong> "
                "proves nothing about you, starts this one job for anyone who has it, and goes "
                "in the URL as <code>token=</code>.</p><div class=\"two-secrets\"><div><h4>With "
                "your user API token</h4><p class=\"hint\">The build runs as you. Put one of your "
                "API tokens in place of <code>APITOKEN</code>; make one on <a href=\"");
    html_attr(b, w->base);
    html_raw(b, "me/configure\">your user page</a>.</p>");
    (void) web_curl_with_api_token(&cmd, w->root, job, w->req->id.name, names, values, n);
    add_file_args(&cmd, cfg);
    web_command_box(b, "cmd-api", buf_str(&cmd), "with your user API token");
    buf_clear(&cmd);
    (void) trigger_url(&cmd, w->base, job, NULL, names, values, n);
    if (web_crumb(w)[0])
        dry_run_button(b, "dry-cmd-api", buf_str(&cmd), w->crumb);
    html_raw(b, "</div><div><h4>With the job&rsquo;s trigger token</h4>");
    if (cfg->auth_token) {
        html_raw(b, "<p class=\"hint\">No account needed: whoever has this command can start "
                    "the job. Keep it as secret as a password.</p>");
        buf_clear(&cmd);
        (void) web_curl_with_trigger_token(&cmd, w->root, job, cfg->auth_token, names, values,
                                           n);
        add_file_args(&cmd, cfg);
        web_command_box(b, "cmd-token", buf_str(&cmd), "with the trigger token");
        buf_clear(&cmd);
        (void) trigger_url(&cmd, w->base, job, cfg->auth_token, names, values, n);
        dry_run_button(b, "dry-cmd-token", buf_str(&cmd), NULL);
    } else
        html_raw(b, "<p>This job has no trigger token yet. Generate one above (or type your "
                    "own) and save; the command appears here.</p>");
    html_raw(b, "</div></div><p class=\"hint\">Both answer <code>201 Created</code> with a "
                "<code>Location</code> header: the queue item, whose <code>api/json</code> "
                "names the build once it starts.");
    if (n)
        html_raw(b, " Change the parameter values in the URL as you need; a parameter left "
                    "out gets its default.");
    if (skipped)
        html_raw(b, " Password parameters are left out of these commands, so they get their "
                    "default; add <code>&amp;NAME=value</code> to set one.");
    if (files)
        html_raw(b, " File parameters go as <code>-F NAME=@FILE</code> (a multipart form): put "
                    "the path of your file in place of <code>FILE</code>; the build finds it in "
                    "its workspace at <code>NAME</code>. Leave one out and no file is put "
                    "there.");
    html_raw(b, "</p></div>");
    buf_release(&cmd);
}

/* ---- the form ---- */

static void
param_fieldset(struct buf *b, const char *idx, const struct param_def *d)
{
    enum param_type t = d ? d->type : PARAM_STRING;
    const char *cls = param_types[0].cls;

    for (size_t k = 0; k < ELEMENTSOF(param_types); k++)
        if (param_types[k].type == t)
            cls = param_types[k].cls;
    html_raw(b, "<fieldset");
    if (d || streq(idx, "__I__")) {
        html_raw(b, " data-type=\"");
        html_attr(b, cls);
        html_raw(b, "\"");
    }
    html_raw(b, "><legend>Parameter</legend><div class=\"row\"><div><label for=\"p");
    html_attr(b, idx);
    html_raw(b, "_type\">Type</label><select data-ptype id=\"p");
    html_attr(b, idx);
    html_raw(b, "_type\" name=\"p");
    html_attr(b, idx);
    html_raw(b, "_type\">");
    for (size_t k = 0; k < ELEMENTSOF(param_types); k++) {
        html_raw(b, "<option value=\"");
        html_attr(b, param_types[k].cls);
        html_raw(b, param_types[k].type == t ? "\" selected>" : "\">");
        html_text(b, param_types[k].label);
        html_raw(b, "</option>");
    }
    html_raw(b, "</select></div><div><label for=\"p");
    html_attr(b, idx);
    html_raw(b, "_name\">Name</label><input type=\"text\" class=\"mono\" spellcheck=\"false\" "
                "autocapitalize=\"none\" id=\"p");
    html_attr(b, idx);
    html_raw(b, "_name\" name=\"p");
    html_attr(b, idx);
    html_raw(b, "_name\" value=\"");
    html_attr(b, d ? d->name : "");
    html_raw(b, "\"></div></div><div class=\"only-default\"><label for=\"p");
    html_attr(b, idx);
    html_raw(b, "_default\">Default value</label>");
    if (t == PARAM_TEXT) {
        html_raw(b, "<textarea rows=\"3\" id=\"p");
        html_attr(b, idx);
        html_raw(b, "_default\" name=\"p");
        html_attr(b, idx);
        html_raw(b, "_default\">");
        html_text(b, d ? d->default_value : "");
        html_raw(b, "</textarea>");
    } else {
        html_raw(b, t == PARAM_PASSWORD ? "<input type=\"password\" autocomplete=\"new-password\""
                                        : "<input type=\"text\"");
        html_raw(b, " id=\"p");
        html_attr(b, idx);
        html_raw(b, "_default\" name=\"p");
        html_attr(b, idx);
        html_raw(b, "_default\" value=\"");
        html_attr(b, d && d->type != PARAM_CHOICE ? d->default_value : "");
        html_raw(b, "\">");
    }
    html_raw(b, "<p class=\"hint only-bool\">true or false</p></div>"
                "<div class=\"only-choice\"><label for=\"p");
    html_attr(b, idx);
    html_raw(b, "_choices\">Choices, one per line (the first is the default)</label><textarea "
                "rows=\"4\" id=\"p");
    html_attr(b, idx);
    html_raw(b, "_choices\" name=\"p");
    html_attr(b, idx);
    html_raw(b, "_choices\">");
    for (size_t k = 0; d && k < d->n_choices; k++) {
        html_text(b, d->choices[k]);
        html_raw(b, "\n");
    }
    html_raw(b, "</textarea></div><div class=\"only-string\"><label class=\"check\"><input "
                "type=\"checkbox\" value=\"1\" name=\"p");
    html_attr(b, idx);
    html_raw(b, "_trim\"");
    if (d && d->trim)
        html_raw(b, " checked");
    html_raw(b, "> Trim spaces around the value</label></div><label for=\"p");
    html_attr(b, idx);
    html_raw(b, "_desc\">Description</label><input type=\"text\" id=\"p");
    html_attr(b, idx);
    html_raw(b, "_desc\" name=\"p");
    html_attr(b, idx);
    html_raw(b, "_desc\" value=\"");
    html_attr(b, d ? d->description : "");
    html_raw(b, "\"><p class=\"actions\"><button type=\"button\" class=\"btn small danger\" "
                "data-remove>Remove parameter</button></p></fieldset>");
}

static void
step_fieldset(struct buf *b, const char *idx, const char *n, const char *script)
{
    html_raw(b, "<fieldset><legend>Execute shell</legend><label class=\"visually-hidden\" "
                "for=\"step");
    html_attr(b, idx);
    html_raw(b, "\">Shell script ");
    html_text(b, n);
    html_raw(b, "</label><textarea class=\"code\" rows=\"7\" spellcheck=\"false\" id=\"step");
    html_attr(b, idx);
    html_raw(b, "\" name=\"step");
    html_attr(b, idx);
    html_raw(b, "\">");
    html_text(b, script);
    html_raw(b, "</textarea><p class=\"actions\"><button type=\"button\" class=\"btn small "
                "danger\" data-remove>Remove step</button></p></fieldset>");
}

static void
checkbox(struct buf *b, const char *name, bool on, const char *label)
{
    html_raw(b, "<label class=\"check\"><input type=\"checkbox\" value=\"1\" name=\"");
    html_attr(b, name);
    html_raw(b, on ? "\" checked> " : "\"> ");
    html_text(b, label);
    html_raw(b, "</label>");
}

static void
keep_field(struct buf *b, size_t i, const char *value)
{
    html_raw(b, "<div><label for=\"");
    html_attr(b, keep_fields[i].name);
    html_raw(b, "\">");
    html_text(b, keep_fields[i].label);
    html_raw(b, "</label><input type=\"number\" min=\"0\" max=\"");
    html_int(b, JOBCFG_KEEP_MAX);
    html_raw(b, "\" placeholder=\"no limit\" id=\"");
    html_attr(b, keep_fields[i].name);
    html_raw(b, "\" name=\"");
    html_attr(b, keep_fields[i].name);
    html_raw(b, "\" value=\"");
    html_attr(b, value);
    html_raw(b, "\"></div>");
}

/*
 * "Discard old builds", as Jenkins shows it: a box, two fields, and two
 * more for artifacts under "Advanced". After a refused POST it shows what
 * was sent, so that a mistyped number can be corrected rather than retyped.
 * Only a LogRotator is the form's: another strategy (a plugin's) is named
 * and left alone, and apply_form() does not touch it either.
 */
static void
discard_fields(struct buf *b, struct web *w, const struct job_config *cfg)
{
    const int keep[] = { cfg->keep_days, cfg->keep_builds, cfg->keep_artifact_days,
                         cfg->keep_artifact_builds };
    const char *v[ELEMENTSOF(keep_fields)];
    char num[ELEMENTSOF(keep_fields)][16];
    bool sent = w->req->is_post, on = false;

    if (cfg->other_discarder) {
        html_raw(b, "<p class=\"notice\" id=\"discard\"><strong>Discard old builds</strong> uses "
                    "the strategy <code>");
        html_text(b, cfg->other_discarder);
        html_raw(b, "</code> (a plugin&rsquo;s). Steward keeps it in config.xml as it is but "
                    "does not apply it; this page leaves it alone.</p>");
        return;
    }
    for (size_t i = 0; i < ELEMENTSOF(keep_fields); i++) {
        snprintf(num[i], sizeof num[i], "%d", keep[i]);
        v[i] = sent ? req_param(w->req, keep_fields[i].name) : keep[i] >= 0 ? num[i] : "";
        on |= keep[i] >= 0;
    }
    if (sent)
        on = req_param(w->req, "discard") != NULL;
    html_raw(b, "<label class=\"check\" for=\"discard\"><input type=\"checkbox\" value=\"1\" "
                "id=\"discard\" name=\"discard\" aria-describedby=\"discard-hint\"");
    if (on)
        html_raw(b, " checked");
    html_raw(b, "> Discard old builds</label><fieldset><legend>Log rotation</legend><p "
                "class=\"hint\" id=\"discard-hint\">Applies while the box is ticked; untick it "
                "to keep every build. An empty field sets no limit. The last successful and the "
                "last stable build always stay.</p><div class=\"row\">");
    keep_field(b, 0, v[0]);
    keep_field(b, 1, v[1]);
    html_raw(b, "</div><details");
    if ((v[2] && *v[2]) || (v[3] && *v[3]))
        html_raw(b, " open");
    html_raw(b, "><summary>Advanced</summary><div class=\"row\">");
    keep_field(b, 2, v[2]);
    keep_field(b, 3, v[3]);
    html_raw(b, "</div><p class=\"hint\">Builds past these limits stay, without their archived "
                "artifacts.</p></details></fieldset>");
}

/* The job's own matrix: its grants (untick to revoke), one more, and whether it inherits. */
static void
matrix_fields(struct buf *b, struct web *w, const struct job_config *cfg)
{
    const struct job_matrix *m = &cfg->matrix;
    enum authz_strategy st = app_strategy(w->req->db);

    html_raw(b, "<section class=\"card\" id=\"authorization\" aria-labelledby=\"h-authz\"><h2 "
                "id=\"h-authz\">Authorization</h2><input type=\"hidden\" name=\"matrix\" "
                "value=\"1\"><p class=\"hint\">Rights on this job alone, for a user, "
                "<code>authenticated</code> (every signed-in user) or <code>anonymous</code>. ");
    html_raw(b, st == AUTHZ_PROJECT_MATRIX
                    ? "They apply: the server's strategy is project-matrix."
                    : "They are kept but do not apply: they take the project-matrix strategy "
                      "(Security, under Manage).");
    html_raw(b, "</p>");
    for (size_t i = 0; i < m->n_grants; i++) {
        _cleanup_free_ char *entry = grant_format(&m->grants[i]);

        html_raw(b, "<label class=\"check\"><input type=\"checkbox\" name=\"g");
        html_int(b, (long long) i);
        html_raw(b, "\" value=\"");
        html_attr(b, entry ? entry : "");
        html_raw(b, "\" checked> ");
        html_text(b, m->grants[i].sid);
        html_raw(b, ": ");
        html_text(b, perm_name(m->grants[i].perm));
        html_raw(b, "</label>");
    }
    html_raw(b, "<label for=\"g-sid\">Grant to</label><input type=\"text\" id=\"g-sid\" "
                "name=\"g_sid\" maxlength=\"64\" autocomplete=\"off\" autocapitalize=\"none\" "
                "spellcheck=\"false\"><label for=\"g-perm\">Permission</label>");
    web_permission_select(b, "g-perm", "g_perm", false);
    checkbox(b, "matrix_inherit", !m->present || m->inherit,
             "Also the global grants (untick: only the grants above, and administrators)");
    html_raw(b, "</section>");
}

static void
config_form(struct web *w, const char *job, const struct job_config *cfg, const char *error,
            int status)
{
    struct buf *b = web_begin(w, rfmt("Configure %s", job), NULL);
    const char *msg = req_param(w->req, "msg");

    html_raw(b, "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"");
    html_attr(b, w->base);
    html_raw(b, "\">Dashboard</a> &rsaquo; <a href=\"");
    web_job_href(b, w, job, NULL);
    html_raw(b, "\">");
    html_text(b, job);
    html_raw(b, "</a> &rsaquo; Configure</nav><h1>Configure ");
    html_text(b, job);
    html_raw(b, "</h1><nav class=\"actions\" aria-label=\"Sections\"><a href=\"#h-general\">"
                "General</a> &middot; <a href=\"#h-params\">Parameters</a> &middot; <a "
                "href=\"#trigger\">Trigger builds remotely</a> &middot; <a href=\"#h-steps\">"
                "Build steps</a> &middot; <a href=\"#h-authz\">Authorization</a></nav>");
    if (error) {
        html_raw(b, "<p class=\"notice bad\" role=\"alert\"><strong>Not saved:</strong> ");
        html_text(b, error);
        html_raw(b, "</p>");
    } else if (msg && streq(msg, "saved"))
        html_raw(b, "<p class=\"notice good\" role=\"status\">Saved.</p>");
    else if (msg && streq(msg, "created"))
        html_raw(b, "<p class=\"notice good\" role=\"status\">The job is created. Add its "
                    "parameters and build steps, then save.</p>");
    else if (msg && streq(msg, "token"))
        html_raw(b, "<p class=\"notice good\" role=\"status\">A new trigger token was generated "
                    "and saved. The commands below use it.</p>");
    /* this page edits the parts Steward runs; the others stay in config.xml as they are */
    web_unsupported_notice(b, cfg);

    html_raw(b, "<form method=\"post\" action=\"");
    web_job_href(b, w, job, "configure");
    html_raw(b, "\">");
    web_crumb_field(b, w);

    /* general */
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-general\"><h2 id=\"h-general\">"
                "General</h2><label for=\"description\">Description</label><textarea "
                "id=\"description\" name=\"description\" rows=\"3\">");
    html_text(b, cfg->description);
    html_raw(b, "</textarea>");
    checkbox(b, "disabled", cfg->disabled, "Disabled: no build starts, by hand or by trigger");
    checkbox(b, "concurrent", cfg->concurrent_build,
             "Run builds of this job at the same time when needed");
    html_raw(b, "<label for=\"quiet\">Quiet period (seconds)</label><input type=\"number\" "
                "min=\"0\" max=\"86400\" id=\"quiet\" name=\"quiet\" placeholder=\"the server's "
                "default\" value=\"");
    if (cfg->quiet_period >= 0)
        html_int(b, cfg->quiet_period);
    html_raw(b, "\"><p class=\"hint\">How long a queued build waits; identical triggers in "
                "that time become one build. Empty: the server&rsquo;s default.</p>");
    discard_fields(b, w, cfg);
    html_raw(b, "</section>");

    /* parameters */
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-params\"><h2 id=\"h-params\">"
                "Parameters</h2><p class=\"hint\">Each parameter reaches the build steps as an "
                "environment variable of the same name. Clear a name to remove its parameter."
                "</p><div id=\"params\" data-next=\"");
    html_int(b, (long long) cfg->n_params);
    html_raw(b, "\">");
    for (size_t i = 0; i <= cfg->n_params; i++) {
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i);
        if (i == cfg->n_params)
            html_raw(b, "</div><noscript>");
        param_fieldset(b, idx, i < cfg->n_params ? &cfg->params[i] : NULL);
    }
    html_raw(b, "</noscript><template id=\"tpl-param\">");
    param_fieldset(b, "__I__", NULL);
    html_raw(b, "</template><p class=\"actions\"><button type=\"button\" class=\"btn\" "
                "data-add=\"tpl-param\" data-into=\"params\" id=\"add-param\">+ Add parameter"
                "</button></p></section>");

    /* trigger builds remotely */
    html_raw(b, "<section class=\"card\" id=\"trigger\" aria-labelledby=\"h-trigger\"><h2 "
                "id=\"h-trigger\">Trigger builds remotely</h2><label for=\"authToken\">Trigger "
                "token</label><div class=\"secret\"><input type=\"text\" class=\"mono\" "
                "id=\"authToken\" name=\"authToken\" autocomplete=\"off\" spellcheck=\"false\" "
                "value=\"");
    html_attr(b, cfg->auth_token);
    html_raw(b, "\"><button class=\"btn\" type=\"submit\" name=\"generateToken\" value=\"1\" "
                "id=\"generate-token\">Generate a new one and save</button></div><p class=\"hint\">"
                "A job&rsquo;s own secret, not a user&rsquo;s: whoever sends it as "
                "<code>token=</code> may start this job (and nothing else), without an account. "
                "Leave it empty for none. It is not your API token, which goes in HTTP Basic "
                "auth.</p>");
    trigger_panel(b, w, job, cfg);
    web_hooks_panel(b, w, job, cfg);
    html_raw(b, "</section>");

    /* build steps */
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-steps\"><h2 id=\"h-steps\">"
                "Build steps</h2><p class=\"hint\">Each step runs with <code>/bin/sh -xe</code> "
                "(or the interpreter named by its <code>#!</code> line) in the job&rsquo;s "
                "workspace; the build fails at the first failing command. Parameters are "
                "environment variables: <code>\"$NAME\"</code>.</p><div id=\"steps\" "
                "data-next=\"");
    html_int(b, (long long) cfg->n_shell_steps);
    html_raw(b, "\">");
    for (size_t i = 0; i <= cfg->n_shell_steps; i++) {
        char idx[24], n[24];
        snprintf(idx, sizeof idx, "%zu", i);
        snprintf(n, sizeof n, "%zu", i + 1);
        if (i == cfg->n_shell_steps)
            html_raw(b, "</div><noscript>");
        step_fieldset(b, idx, n, i < cfg->n_shell_steps ? cfg->shell_steps[i] : "");
    }
    html_raw(b, "</noscript><template id=\"tpl-step\">");
    step_fieldset(b, "__I__", "__N__", "");
    html_raw(b, "</template><p class=\"actions\"><button type=\"button\" class=\"btn\" "
                "data-add=\"tpl-step\" data-into=\"steps\" id=\"add-step\">+ Add build step"
                "</button></p></section>");

    matrix_fields(b, w, cfg);

    html_raw(b, "<div class=\"actions card\"><button class=\"btn primary\" type=\"submit\" "
                "name=\"then\" value=\"job\" id=\"save\">Save</button><button class=\"btn\" "
                "type=\"submit\" name=\"then\" value=\"stay\" id=\"apply\">Apply</button><a "
                "class=\"btn\" href=\"");
    web_job_href(b, w, job, NULL);
    html_raw(b, "\">Cancel</a></div></form>");
    web_end(w, status);
}

/* ---- reading the form ---- */

/* A copy of a textarea's value with CR LF (as browsers send it) made LF. */
static char *
unix_lines(const char *s)
{
    char *out = strdup(s ? s : ""), *o = out;

    if (!out)
        return NULL;
    for (const char *p = out; *p; p++)
        if (!(p[0] == '\r' && p[1] == '\n'))
            *o++ = *p;
    *o = '\0';
    return out;
}

static char *
trimmed(const char *s)
{
    const char *e;

    s = s ? s : "";
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    return strndup(s, (size_t) (e - s));
}

static bool
has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

static const char *
field(struct web *w, const char *fmt, const char *idx)
{
    return req_param(w->req, rfmt(fmt, idx));
}

static void
params_free(struct param_def *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].description);
        free(p[i].default_value);
        for (size_t k = 0; k < p[i].n_choices; k++)
            free(p[i].choices[k]);
        free(p[i].choices);
    }
    free(p);
}

/* One parameter from fields p<idx>_*; returns an error message, or NULL. */
static const char *
read_param(struct web *w, const char *idx, struct param_def *d)
{
    const char *type = field(w, "p%s_type", idx), *def = field(w, "p%s_default", idx);
    bool known = false;

    for (size_t k = 0; k < ELEMENTSOF(param_types) && !known; k++)
        if (type && streq(type, param_types[k].cls)) {
            d->type = param_types[k].type;
            known = true;
        }
    if (!known)
        return "A parameter has an unknown type.";
    if (strlen(d->name) > BOUND_PARAM_NAME_BYTES)
        return rfmt("The parameter name '%.40s...' is longer than %d bytes.", d->name,
                    BOUND_PARAM_NAME_BYTES);
    if (strpbrk(d->name, "= \t") || has_control(d->name))
        return rfmt("The parameter name '%s' has a space or '='; it must work as an "
                    "environment variable name.", d->name);
    d->description = unix_lines(field(w, "p%s_desc", idx));
    d->trim = field(w, "p%s_trim", idx) != NULL;
    switch (d->type) {
    case PARAM_BOOLEAN: {
        _cleanup_free_ char *v = trimmed(def);
        if (!v || (*v && strcasecmp(v, "true") && strcasecmp(v, "false")))
            return rfmt("The default of boolean parameter '%s' must be true or false.", d->name);
        d->default_value = strdup(strcasecmp(v, "true") == 0 ? "true" : "false");
        break;
    }
    case PARAM_FILE:
        if (upload_location_check(d->name) < 0)
            return rfmt("File parameter '%s' must be named as a relative path inside the "
                        "workspace (no '..', no leading '/'), such as input/data.csv.", d->name);
        d->default_value = strdup("");
        break;
    case PARAM_CHOICE: {
        _cleanup_free_ char *all = unix_lines(field(w, "p%s_choices", idx));
        char *save = NULL;
        for (char *line = all ? strtok_r(all, "\n", &save) : NULL; line;
             line = strtok_r(NULL, "\n", &save)) {
            _cleanup_free_ char *c = trimmed(line);
            char **v;
            if (!c || !*c)
                continue;
            if (d->n_choices >= BOUND_CHOICES)
                return rfmt("Parameter '%s' has more than %d choices.", d->name, BOUND_CHOICES);
            v = realloc(d->choices, (d->n_choices + 1) * sizeof *v);
            if (!v)
                return "Out of memory.";
            d->choices = v;
            d->choices[d->n_choices++] = TAKE_PTR(c);
        }
        if (d->n_choices == 0)
            return rfmt("Choice parameter '%s' needs at least one choice.", d->name);
        break;
    }
    default:
        d->default_value = unix_lines(def);
    }
    return NULL;
}

#define ERR_MAX 512

/*
 * "Discard old builds" from the form: an unticked box removes the setting,
 * an empty field is "not set". Another strategy class is left as it is.
 */
static void
apply_discarder(struct web *w, struct job_config *cfg, char *err)
{
    int keep[ELEMENTSOF(keep_fields)] = { -1, -1, -1, -1 };
    bool on = req_param(w->req, "discard") != NULL;

    if (cfg->other_discarder)
        return;
    for (size_t i = 0; i < ELEMENTSOF(keep_fields) && on; i++) {
        _cleanup_free_ char *s = trimmed(req_param(w->req, keep_fields[i].name));
        int64_t n;
        int r;

        if (!s) {
            if (!err[0])
                snprintf(err, ERR_MAX, "Out of memory.");
            return;
        }
        if (!*s)
            continue;
        r = parse_int64(s, 0, JOBCFG_KEEP_MAX, &n);
        if (r >= 0)
            keep[i] = (int) n;
        else if (err[0])
            continue;
        else if (r == -ERANGE)
            snprintf(err, ERR_MAX, "%s must be from 0 to %d, or empty.", keep_fields[i].label,
                     JOBCFG_KEEP_MAX);
        else
            snprintf(err, ERR_MAX, "%s must be a whole number, or empty.", keep_fields[i].label);
    }
    (void) jobcfg_set_discarder(cfg, keep[0], keep[1], keep[2], keep[3]);
}

/*
 * Applies the form to `cfg`. Returns false with the first problem, in
 * words for the person, in err[ERR_MAX] (cfg then holds what they sent,
 * to show it again).
 */
/* Equal grant lists, in order? */
static bool
same_grants(const struct grant *a, size_t na, const struct grant *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].kind != b[i].kind || a[i].perm != b[i].perm || !streq(a[i].sid, b[i].sid))
            return false;
    return true;
}

/* The Authorization section; the document changes only when the grants do. */
static void
apply_matrix(struct web *w, struct job_config *cfg, char *err)
{
    const char *sid = req_param(w->req, "g_sid"), *pname = req_param(w->req, "g_perm");
    bool inherit = req_param(w->req, "matrix_inherit") != NULL;
    struct grant *v;
    size_t n = 0;
    enum perm p;

    if (!req_param(w->req, "matrix"))
        return;
    v = calloc(BOUND_JOB_GRANTS + 1, sizeof *v);
    if (!v) {
        snprintf(err, ERR_MAX, "Out of memory.");
        return;
    }
    for (int i = 0; i < BOUND_JOB_GRANTS; i++) {
        const char *e = req_param(w->req, rfmt("g%d", i));

        if (e && grant_parse(e, &v[n]) == 0)
            n++;
    }
    if (sid && *sid) {
        if (!pname || perm_parse(pname, &p) < 0 || !perm_is_item(p) || grant_new(sid, p, &v[n]) < 0) {
            if (!err[0])
                snprintf(err, ERR_MAX, "A grant is to a user name, authenticated or anonymous, "
                                       "of a job's permission.");
        } else
            n++;
    }
    if (!same_grants(v, n, cfg->matrix.grants, cfg->matrix.n_grants) ||
        (cfg->matrix.present && inherit != cfg->matrix.inherit) || (!cfg->matrix.present && !inherit))
        if (jobcfg_set_matrix(cfg, inherit, v, n) < 0 && !err[0])
            snprintf(err, ERR_MAX, "A grant names a user with blanks at either end, or there "
                                   "are more than %d grants.", BOUND_JOB_GRANTS);
    grants_free(v, n);
}

static bool
apply_form(struct web *w, struct job_config *cfg, char *err)
{
    struct req *req = w->req;
    _cleanup_free_ char *desc = unix_lines(req_param(req, "description"));
    _cleanup_free_ char *token = trimmed(req_param(req, "authToken"));
    _cleanup_free_ char *quiet = trimmed(req_param(req, "quiet"));
    struct param_def *params = calloc(MAX_FORM_INDEX, sizeof *params);
    char *steps[BOUND_JOB_BUILDERS];
    size_t n_params = 0, n_steps = 0;
    int64_t q = -1;

    err[0] = '\0';
    if (!desc || !token || !quiet || !params) {
        free(params);
        snprintf(err, ERR_MAX, "Out of memory.");
        return false;
    }
    /* general */
    if (*quiet && parse_int64(quiet, 0, 86400, &q) < 0)
        snprintf(err, ERR_MAX, "The quiet period must be a whole number of seconds, 0 to 86400.");
    cfg->quiet_period = (int) q;
    cfg->disabled = req_param(req, "disabled") != NULL;
    cfg->concurrent_build = req_param(req, "concurrent") != NULL;
    (void) jobcfg_set_description(cfg, *desc ? desc : NULL);
    apply_discarder(w, cfg, err);

    /* trigger token */
    if (req_param(req, "generateToken")) {
        char fresh[33];
        secret_random_hex(fresh, 16);
        (void) jobcfg_set_auth_token(cfg, fresh);
        secret_wipe(fresh, sizeof fresh);
    } else if (strlen(token) > BOUND_TRIGGER_TOKEN_BYTES || has_control(token) ||
               strchr(token, ' ') || !utf8_is_valid(token, strlen(token))) {
        if (!err[0])
            snprintf(err, ERR_MAX, "The trigger token must be at most %d bytes, without spaces.",
                     BOUND_TRIGGER_TOKEN_BYTES);
        (void) jobcfg_set_auth_token(cfg, token);
    } else
        (void) jobcfg_set_auth_token(cfg, token);

    /* parameters, in the form's order; an empty name removes one */
    for (int i = 0; i < MAX_FORM_INDEX; i++) {
        char idx[16];
        const char *name, *e;
        _cleanup_free_ char *nm = NULL;

        snprintf(idx, sizeof idx, "%d", i);
        name = field(w, "p%s_name", idx);
        nm = name ? trimmed(name) : NULL;
        if (!nm || !*nm)
            continue;
        params[n_params].name = TAKE_PTR(nm);
        e = read_param(w, idx, &params[n_params]);
        n_params++;
        for (size_t k = 0; k + 1 < n_params && !e; k++)
            if (streq(params[k].name, params[n_params - 1].name))
                e = rfmt("Two parameters are named '%s'.", params[k].name);
        if (e && !err[0])
            snprintf(err, ERR_MAX, "%s", e);
    }
    if (n_params > BOUND_JOB_PARAMS && !err[0])
        snprintf(err, ERR_MAX, "A job has at most %d parameters.", BOUND_JOB_PARAMS);
    (void) jobcfg_set_params(cfg, params, MIN(n_params, (size_t) BOUND_JOB_PARAMS));
    params_free(params, n_params);

    /* shell steps; an empty one is dropped */
    for (int i = 0; i < MAX_FORM_INDEX && n_steps < BOUND_JOB_BUILDERS; i++) {
        const char *s = req_param(req, rfmt("step%d", i));
        _cleanup_free_ char *t = s ? trimmed(s) : NULL;
        if (!t || !*t)
            continue;
        steps[n_steps] = unix_lines(s);
        if (steps[n_steps])
            n_steps++;
    }
    (void) jobcfg_set_shell_steps(cfg, (const char *const *) steps, n_steps);
    for (size_t i = 0; i < n_steps; i++)
        free(steps[i]);
    apply_matrix(w, cfg, err);
    return err[0] == '\0';
}

void
web_configure_page(struct web *w, const char *name)
{
    _cleanup_(job_unrefp) struct job *job = NULL;
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    _cleanup_free_ char *xml = NULL, *err = NULL;
    char problem[ERR_MAX];
    const char *then;
    size_t len;
    int r;

    job = jobs_get(w->app->jobs, name);
    if (!job) {
        web_not_found(w, rfmt("Job '%s'", name));
        return;
    }
    if (w->req->is_post && !web_check_post(w))
        return;
    /* a fresh copy of the stored document: what the form does not manage stays */
    if (jobs_read_config(w->app->jobs, name, &cfg, &err) < 0) {
        web_error(w, 500, "The stored configuration cannot be read", err,
                  "Fix config.xml by hand.", NULL, NULL);
        return;
    }
    err = mfree(err);
    if (!w->req->is_post) {
        config_form(w, name, cfg, NULL, 200);
        return;
    }
    if (!apply_form(w, cfg, problem)) {
        config_form(w, name, cfg, problem, 400);
        return;
    }
    r = jobcfg_write(cfg, &xml, &len);
    if (r >= 0)
        r = jobs_update_xml(w->app->jobs, name, xml, len, &err);
    if (r < 0) {
        config_form(w, name, cfg,
                    r == -ENOENT ? "The job was deleted meanwhile."
                    : r == -E2BIG ? "The configuration is larger than 1 MiB."
                    : err         ? err
                                  : "A value cannot be stored in config.xml (control characters?).",
                    400);
        return;
    }
    app_audit(w->req, "job-configure", name, "the configure page");
    then = req_param(w->req, "then");
    if (req_param(w->req, "generateToken"))
        web_redirect(w, web_job_path(name, "configure?msg=token#trigger"));
    else if (then && streq(then, "job"))
        web_redirect(w, web_job_path(name, NULL));
    else
        web_redirect(w, web_job_path(name, "configure?msg=saved"));
}

/* ---- /newJob ---- */

static void
new_job_form(struct web *w, const char *name, const char *error, int status)
{
    struct buf *b = web_begin(w, "New job", "new");
    struct job **list = NULL;
    size_t n = 0;

    html_raw(b, "<div class=\"card narrow\"><h1>New job</h1>");
    if (error) {
        html_raw(b, "<p class=\"notice bad\" role=\"alert\">");
        html_text(b, error);
        html_raw(b, "</p>");
    }
    html_raw(b, "<form method=\"post\" action=\"");
    html_attr(b, w->base);
    html_raw(b, "newJob\">");
    web_crumb_field(b, w);
    html_raw(b, "<label for=\"name\">Name</label><input type=\"text\" id=\"name\" name=\"name\" "
                "required maxlength=\"200\" autofocus spellcheck=\"false\" value=\"");
    html_attr(b, name);
    html_raw(b, "\"><p class=\"hint\">It becomes part of the job&rsquo;s URL. Not allowed: <code>"
                "/ \\ ? * % &lt; &gt; | : ; ! @ # $ &amp; [ ] ^ &#39; &quot;</code></p>");
    if (jobs_list(w->app->jobs, &list, &n) == 0 && n) {
        html_raw(b, "<label for=\"from\">Copy from (optional)</label><select id=\"from\" "
                    "name=\"from\"><option value=\"\">&ndash; a new, empty job &ndash;</option>");
        for (size_t i = 0; i < n; i++) {
            /* a copy shows the whole configuration: only jobs the user may configure */
            if (!app_may(w->req, PERM_JOB_CONFIGURE, list[i]))
                continue;
            html_raw(b, "<option>");
            html_text(b, list[i]->name);
            html_raw(b, "</option>");
        }
        html_raw(b, "</select>");
    }
    jobs_list_free(list, n);
    html_raw(b, "<p class=\"actions\"><button class=\"btn primary\" type=\"submit\" "
                "id=\"create\">Create and configure</button></p></form></div>");
    web_end(w, status);
}

void
web_new_job(struct web *w)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    _cleanup_(job_unrefp) struct job *src = NULL;
    _cleanup_free_ char *xml = NULL, *err = NULL, *name = NULL;
    const char *from, *why;
    size_t len;
    int r;

    if (!w->req->is_post) {
        new_job_form(w, "", NULL, 200);
        return;
    }
    if (!web_check_post(w))
        return;
    name = trimmed(req_param(w->req, "name"));
    from = req_param(w->req, "from");
    if (!name)
        return;
    if (job_name_check(name, &why) < 0) {
        new_job_form(w, name, why, 400);
        return;
    }
    if (from && *from) {
        src = jobs_get(w->app->jobs, from);
        if (!src || !app_may(w->req, PERM_JOB_CONFIGURE, src)) {
            new_job_form(w, name, rfmt("There is no job '%s' to copy.", from), 400);
            return;
        }
        r = jobs_read_xml(w->app->jobs, src->name, &xml, &len);
        if (r >= 0)
            r = jobs_create(w->app->jobs, name, xml, len, &err);
    } else {
        r = jobcfg_new(&cfg);
        if (r >= 0)
            r = jobcfg_write(cfg, &xml, &len);
        if (r >= 0)
            r = jobs_create(w->app->jobs, name, xml, len, &err);
    }
    if (r == -EEXIST) {
        new_job_form(w, name, rfmt("A job named '%s' already exists.", name), 409);
        return;
    }
    if (r < 0) {
        new_job_form(w, name, err ? err : strerror(-r), 400);
        return;
    }
    app_audit(w->req, "job-create", name, src ? "a copy of '%s'" : NULL, src ? src->name : "");
    web_redirect(w, web_job_path(name, "configure?msg=created"));
}
