/* SPDX-License-Identifier: MIT */
/*
 * The listing and small commands: jobs, queue, stop, cancel, whoami,
 * token, hooks. Each prints an aligned table for people, or JSON with --json.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/internal.h"
#include "cli/table.h"
#include "cli/urls.h"
#include "util/macro.h"
#include "util/strutil.h"

#define TOKEN_API "me/descriptorByName/jenkins.security.ApiTokenProperty/"

#define JOBS_TREE                                                                                  \
    "tree=jobs%5Bname%2Curl%2Ccolor%2ClastBuild%5Bnumber%2Cresult%2Cbuilding%2Ctimestamp%2C"    \
    "duration%2Curl%5D%5D"
#define LAST_BUILD_TREE "tree=number%2Cresult%2Cbuilding%2Ctimestamp%2Cduration%2Curl"
#define QUEUE_TREE                                                                                 \
    "tree=items%5Bid%2Cwhy%2CinQueueSince%2Cparams%2Cblocked%2Cbuildable%2Cstuck%2C"          \
    "task%5Bname%2Curl%5D%2Curl%5D"

/* ---- jobs ---- */

/* A job's status in words, from Jenkins' ball colour. */
static const char *
status_of_color(const char *color)
{
    static const struct {
        const char *color, *status;
    } map[] = {
        { "blue", "success" },   { "red", "failure" },        { "yellow", "unstable" },
        { "aborted", "aborted" }, { "notbuilt", "not built" }, { "disabled", "disabled" },
        { "grey", "pending" },
    };

    if (!color)
        return "-";
    if (strstr(color, "_anime"))
        return "building";
    for (size_t i = 0; i < ELEMENTSOF(map); i++)
        if (streq(color, map[i].color))
            return map[i].status;
    return color;
}

/*
 * Jenkins answers jobs[lastBuild[...]] in one request; a server that
 * leaves lastBuild out of the listing is asked once per job.
 */
static json_t *
last_build_of(struct cli_ctx *ctx, json_t *job, int *ret_code)
{
    json_t *lb = json_object_get(job, "lastBuild");
    _cleanup_free_ char *jp = NULL, *path = NULL;
    struct http_resp resp = { 0 };
    int r;

    if (lb && (json_is_null(lb) || json_object_get(lb, "result")))
        return json_incref(lb);
    jp = cli_job_path(jstr(job, "name"));
    if (!jp)
        return json_null();
    path = strdup_printf("%slastBuild/api/json?%s", jp, LAST_BUILD_TREE);
    if (!path)
        return json_null();
    r = client_get(ctx->client, path, &resp);
    if (r < 0) {
        *ret_code = report_transport("reading the last build", client_base(ctx->client), r, &resp);
        http_resp_release(&resp);
        return NULL;
    }
    lb = resp.status == 200 ? json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL) : NULL;
    http_resp_release(&resp);
    return lb ? lb : json_null();
}

static void
job_row(struct table *t, json_t *o)
{
    json_t *lb = json_object_get(o, "lastBuild");
    const char *last = NULL, *started = NULL, *took = NULL;
    char num[64];

    if (json_is_object(lb)) {
        bool building = jbool(lb, "building") || !jstr(lb, "result");
        snprintf(num, sizeof num, "#%lld %s", (long long) jint(lb, "number"),
                 building ? "building" : jstr(lb, "result"));
        last = num;
        started = table_ago(jint(lb, "timestamp"), now_ms());
        took = building ? NULL : table_span(jint(lb, "duration"));
    }
    table_add(t, (const char *[]){ jstr(o, "name"), jstr(o, "status"), last, started, took });
}

int
cmd_jobs(struct cli_ctx *ctx)
{
    json_t *root = NULL, *list, *job, *out = json_array();
    struct table *t = NULL;
    size_t i;
    int r, code = 0;

    r = cli_get_json(ctx, "listing the jobs", "api/json?" JOBS_TREE, &root);
    if (r < 0) {
        json_decref(out);
        return -r;
    }
    list = json_object_get(root, "jobs");
    json_array_foreach(list, i, job) {
        const char *name = jstr(job, "name");
        json_t *lb, *o;
        if (!name)
            continue;
        if (ctx->args.quiet) {
            printf("%s\n", name);
            continue;
        }
        lb = last_build_of(ctx, job, &code);
        if (!lb)
            break;
        o = json_pack("{s:s, s:s?, s:s?, s:s, s:o}", "name", name, "url", jstr(job, "url"),
                      "color", jstr(job, "color"), "status", status_of_color(jstr(job, "color")),
                      "lastBuild", lb);
        if (o)
            json_array_append_new(out, o);
    }
    if (code == 0 && ctx->args.json)
        cli_print_json(out);
    else if (code == 0 && !ctx->args.quiet) {
        t = table_new(5, (const char *[]){ "NAME", "STATUS", "LAST BUILD", "STARTED", "TOOK" });
        json_array_foreach(out, i, job) {
            if (t)
                job_row(t, job);
        }
        if (t && json_array_size(out))
            table_print(t, stdout);
        else
            fprintf(stderr, "There are no jobs.\n");
        table_free(t);
    }
    json_decref(out);
    json_decref(root);
    return code;
}

/* ---- queue ---- */

/* "\nA=1\nB=2" (Jenkins' params string) -> "A=1 B=2". Lent (rfmt). */
static const char *
params_line(const char *params)
{
    struct buf b = BUF_INIT(900);
    const char *s;

    for (const char *p = params ? params : ""; *p; p++)
        if (buf_putc(&b, *p == '\n' ? ' ' : *p) < 0)
            break;
    s = rfmt("%s", b.len ? buf_str(&b) + (b.ptr[0] == ' ') : "-");
    buf_release(&b);
    return s;
}

int
cmd_queue(struct cli_ctx *ctx)
{
    json_t *root = NULL, *items, *it;
    struct table *t;
    size_t i;
    int r;

    r = cli_get_json(ctx, "reading the queue", "queue/api/json?" QUEUE_TREE, &root);
    if (r < 0)
        return -r;
    items = json_object_get(root, "items");
    if (!json_is_array(items))
        items = NULL;
    if (ctx->args.json) {
        json_t *empty = json_array();
        cli_print_json(items ? items : empty);
        json_decref(empty);
        json_decref(root);
        return 0;
    }
    if (!json_array_size(items)) {
        fprintf(stderr, "The queue is empty.\n");
        json_decref(root);
        return 0;
    }
    t = table_new(5, (const char *[]){ "ID", "JOB", "WAITING", "PARAMETERS", "WHY" });
    json_array_foreach(items, i, it) {
        char id[32];
        int64_t since = jint(it, "inQueueSince");
        snprintf(id, sizeof id, "%lld", (long long) jint(it, "id"));
        if (t)
            table_add(t, (const char *[]){ id, jstr(json_object_get(it, "task"), "name"),
                                           since > 0 ? table_span(now_ms() - since) : NULL,
                                           params_line(jstr(it, "params")), jstr(it, "why") });
    }
    if (t)
        table_print(t, stdout);
    table_free(t);
    json_decref(root);
    return 0;
}

/* ---- stop, cancel ---- */

int
cmd_stop(struct cli_ctx *ctx)
{
    const char *job = ctx->args.pos[0], *num = ctx->args.pos[1];
    _cleanup_free_ char *jp = cli_job_path(job), *path = NULL;
    struct http_resp resp = { 0 };
    int r;

    if (!jp)
        return CLI_EXIT_USAGE;
    if (!urls_is_build_ref(num)) {
        fprintf(stderr, "steward: '%s' is not a build number\n", num);
        return CLI_EXIT_USAGE;
    }
    path = strdup_printf("%s%s/stop", jp, num);
    if (!path)
        return CLI_EXIT_ERROR;
    r = cli_request(ctx, rfmt("stopping %s #%s", job, num), path, "", true, &resp);
    http_resp_release(&resp);
    if (r < 0)
        return -r;
    fprintf(stderr, "Asked the server to stop %s #%s\n", job, num);
    return 0;
}

int
cmd_cancel(struct cli_ctx *ctx)
{
    struct http_resp resp = { 0 };
    int64_t id;
    int r;

    if (urls_queue_id(ctx->args.pos[0], &id) < 0) {
        fprintf(stderr, "steward: '%s' is not a queue item id (a number, or the queue item's URL)\n",
                ctx->args.pos[0]);
        return CLI_EXIT_USAGE;
    }
    r = cli_request(ctx, rfmt("cancelling queue item %lld", (long long) id),
                    rfmt("queue/cancelItem?id=%lld", (long long) id), "", true, &resp);
    http_resp_release(&resp);
    if (r < 0)
        return -r;
    fprintf(stderr, "Cancelled queue item %lld\n", (long long) id);
    return 0;
}

/* ---- quiet-down ---- */

int
cmd_quiet_down(struct cli_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *reason = a->n_pos ? a->pos[0] : NULL;
    _cleanup_(buf_releasep) struct buf form = BUF_INIT(64 * 1024);
    struct http_resp resp = { 0 };
    json_t *j = NULL;
    int r;

    if (a->cancel && (a->safe_exit || reason)) {
        fprintf(stderr, "steward: quiet-down --cancel takes no reason and no --safe-exit\n");
        return CLI_EXIT_USAGE;
    }
    if (reason)
        urls_form_add(&form, "reason", reason);
    r = cli_request(ctx, a->cancel ? "cancelling the quiet-down" : "quieting the server down",
                    a->cancel ? "cancelQuietDown" : a->safe_exit ? "safeExit" : "quietDown",
                    buf_str(&form), true, &resp);
    http_resp_release(&resp);
    if (r < 0)
        return -r;
    if (a->safe_exit) {
        fprintf(stderr, "The server stops as soon as no build runs; triggers still queue "
                        "until then\n");
        return 0;
    }
    /* what the server says now */
    r = cli_get_json(ctx, "reading the server's state",
                     "api/json?tree=quietingDown,quietDownReason", &j);
    if (r < 0)
        return -r;
    if (jbool(j, "quietingDown"))
        fprintf(stderr, "The server is quieting down%s%s: triggers queue, no new build starts. "
                        "End it with: steward quiet-down --cancel\n",
                jstr(j, "quietDownReason") ? " (reason: " : "",
                jstr(j, "quietDownReason") ? rfmt("%s)", jstr(j, "quietDownReason")) : "");
    else
        fprintf(stderr, "The server is not quieting down: builds start as usual\n");
    json_decref(j);
    return 0;
}

/* ---- whoami ---- */

int
cmd_whoami(struct cli_ctx *ctx)
{
    const struct settings *s = &ctx->settings;
    json_t *j = NULL;
    const char *by;
    int r;

    r = cli_get_json(ctx, "asking the server who you are", "whoAmI/api/json", &j);
    if (r < 0)
        return -r;
    if (ctx->args.json) {
        json_object_set_new(j, "serverUrl", json_string(s->url));
        json_object_set_new(
            j, "sources",
            json_pack("{s:s, s:s, s:s}", "url", settings_source_name(s, 'u'), "user",
                      s->user ? settings_source_name(s, 'n') : "none", "token",
                      s->token ? settings_source_name(s, 't') : "none"));
        cli_print_json(j);
        json_decref(j);
        return 0;
    }
    by = jstr(j, "authenticatedBy");
    printf("%s\n", jstr(j, "name") ? jstr(j, "name") : "?");
    fprintf(stderr, "Server %s (from %s)\n", s->url, settings_source_name(s, 'u'));
    if (jbool(j, "anonymous"))
        fprintf(stderr, "Not logged in: the server takes you for anonymous%s\n",
                s->user && !s->token ? rfmt(" (user %s was given without a token)", s->user) : "");
    else if (by && streq(by, "apiToken"))
        fprintf(stderr, "Authenticated with the API token '%s'\n",
                jstr(j, "apiTokenName") ? jstr(j, "apiTokenName") : "?");
    else if (by)
        fprintf(stderr, "Authenticated with a %s\n", by);
    if (s->user)
        fprintf(stderr, "User name from %s\n", settings_source_name(s, 'n'));
    if (s->token)
        fprintf(stderr, "Token from %s\n", settings_source_name(s, 't'));
    json_decref(j);
    return 0;
}

/* ---- token ---- */

static bool
is_uuid(const char *s)
{
    static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (strlen(s) != sizeof pattern - 1)
        return false;
    for (size_t i = 0; pattern[i]; i++)
        if (pattern[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
            return false;
    return true;
}

static const char *
iso_time(int64_t ms)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    char s[32];

    if (ms <= 0)
        return "never";
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%d %H:%M UTC", &tm);
    return rfmt("%s", s);
}

/* Steward's token list; 0 with *ret the array, or an exit code. */
static int
token_list(struct cli_ctx *ctx, json_t **ret)
{
    struct http_resp resp = { 0 };
    json_t *j, *tokens;
    int r;

    r = client_post(ctx->client, TOKEN_API "list", "", &resp);
    if (r < 0) {
        r = report_transport("listing your API tokens", client_base(ctx->client), r, &resp);
        http_resp_release(&resp);
        return r;
    }
    if (resp.status == 404) {
        fprintf(stderr,
                "steward: this server does not list API tokens over HTTP (Jenkins has no such "
                "endpoint; Steward does). See your user page: %sme/configure\n",
                client_base(ctx->client));
        http_resp_release(&resp);
        return CLI_EXIT_REFUSED;
    }
    if (resp.status != 200) {
        struct hint_input h = cli_hints(ctx);
        r = report_refusal("listing your API tokens", &resp, &h);
        http_resp_release(&resp);
        return r;
    }
    j = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
    http_resp_release(&resp);
    tokens = json_object_get(json_object_get(j, "data"), "tokens");
    if (!json_is_array(tokens)) {
        json_decref(j);
        fprintf(stderr, "steward: the token list is not in the form Steward sends\n");
        return CLI_EXIT_ERROR;
    }
    *ret = json_incref(tokens);
    json_decref(j);
    return 0;
}

static int
token_new(struct cli_ctx *ctx, const char *name)
{
    struct buf form = BUF_INIT(4096);
    json_t *j = NULL, *data;
    const char *value;
    int r;

    urls_form_add(&form, "newTokenName", name);
    r = cli_post_json(ctx, rfmt("making the API token '%s'", name), TOKEN_API "generateNewToken",
                      buf_str(&form), &j);
    buf_release(&form);
    if (r < 0)
        return -r;
    data = json_object_get(j, "data");
    value = jstr(data, "tokenValue");
    if (!value) {
        fprintf(stderr, "steward: the answer holds no tokenValue\n");
        json_decref(j);
        return CLI_EXIT_ERROR;
    }
    if (ctx->args.json) {
        json_t *o = json_pack("{s:s?, s:s?, s:s}", "name", jstr(data, "tokenName"), "uuid",
                              jstr(data, "tokenUuid"), "value", value);
        cli_print_json(o);
        json_decref(o);
    } else
        printf("%s\n", value);
    fflush(stdout);
    fprintf(stderr, "Made the API token '%s' of user %s (uuid %s); it is shown only this once.\n",
            jstr(data, "tokenName") ? jstr(data, "tokenName") : name,
            ctx->settings.user ? ctx->settings.user : "?",
            jstr(data, "tokenUuid") ? jstr(data, "tokenUuid") : "?");
    json_decref(j);
    return 0;
}

static int
token_print_list(struct cli_ctx *ctx)
{
    json_t *tokens = NULL, *tk;
    struct table *t;
    size_t i;
    int code;

    code = token_list(ctx, &tokens);
    if (code)
        return code;
    if (ctx->args.json) {
        cli_print_json(tokens);
        json_decref(tokens);
        return 0;
    }
    if (!json_array_size(tokens)) {
        fprintf(stderr, "User %s has no API tokens.\n", ctx->settings.user ? ctx->settings.user : "?");
        json_decref(tokens);
        return 0;
    }
    t = table_new(5, (const char *[]){ "NAME", "UUID", "CREATED", "LAST USED", "USES" });
    json_array_foreach(tokens, i, tk) {
        char uses[32];
        snprintf(uses, sizeof uses, "%lld", (long long) jint(tk, "useCounter"));
        if (t)
            table_add(t, (const char *[]){ jstr(tk, "name"), jstr(tk, "uuid"),
                                           iso_time(jint(tk, "creationDate")),
                                           iso_time(jint(tk, "lastUseDate")), uses });
    }
    if (t)
        table_print(t, stdout);
    table_free(t);
    json_decref(tokens);
    return 0;
}

static int
token_revoke(struct cli_ctx *ctx, const char *which)
{
    _cleanup_free_ char *uuid = NULL;
    struct buf form = BUF_INIT(4096);
    struct http_resp resp = { 0 };
    int r, code;

    if (is_uuid(which))
        uuid = strdup(which);
    else {
        json_t *tokens = NULL, *tk;
        size_t i, found = 0;
        code = token_list(ctx, &tokens);
        if (code) {
            if (code == CLI_EXIT_REFUSED)
                fprintf(stderr, "hint: give the token's UUID instead: steward token revoke UUID\n");
            return code;
        }
        json_array_foreach(tokens, i, tk) {
            if (jstr(tk, "name") && streq(jstr(tk, "name"), which) && jstr(tk, "uuid")) {
                free(uuid);
                uuid = strdup(jstr(tk, "uuid"));
                found++;
            }
        }
        json_decref(tokens);
        if (found != 1) {
            const char *user = ctx->settings.user ? ctx->settings.user : "?";
            if (found)
                fprintf(stderr, "steward: user %s has %zu tokens named '%s'; give the UUID "
                                "(steward token list)\n", user, found, which);
            else
                fprintf(stderr, "steward: user %s has no API token named '%s' (steward token "
                                "list shows them)\n", user, which);
            return CLI_EXIT_REFUSED;
        }
    }
    if (!uuid)
        return CLI_EXIT_ERROR;
    urls_form_add(&form, "tokenUuid", uuid);
    r = cli_request(ctx, rfmt("revoking the API token '%s'", which), TOKEN_API "revoke",
                    buf_str(&form), true, &resp);
    buf_release(&form);
    http_resp_release(&resp);
    if (r < 0)
        return -r;
    fprintf(stderr, "Revoked the API token '%s' of user %s\n", which,
            ctx->settings.user ? ctx->settings.user : "?");
    return 0;
}

int
cmd_token(struct cli_ctx *ctx)
{
    const char *sub = ctx->args.pos[0];

    if (streq(sub, "new"))
        return token_new(ctx, ctx->args.pos[1]);
    if (streq(sub, "list"))
        return token_print_list(ctx);
    return token_revoke(ctx, ctx->args.pos[1]);
}

/* ---- hooks ---- */

static void
hook_line(const char *term, const char *value)
{
    if (value && *value)
        printf("  %-14s %s\n", term, value);
}

/* "Push events, Merge request events" from a JSON array of strings, into buf. */
static const char *
joined(json_t *a, char *buf, size_t size)
{
    size_t i, off = 0;
    json_t *v;

    buf[0] = '\0';
    json_array_foreach (a, i, v) {
        int n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
                         json_is_string(v) ? json_string_value(v) : "?");
        if (n < 0 || (size_t) n >= size - off)
            break;
        off += (size_t) n;
    }
    return buf;
}

static void
hook_heading(json_t *o, const char *title)
{
    printf("\n%s: %s\n", title, jbool(o, "answers") ? "set up" : "not set up");
}

int
cmd_hooks(struct cli_ctx *ctx)
{
    _cleanup_free_ char *jp = cli_job_path(ctx->args.pos[0]), *path = NULL;
    json_t *j = NULL, *gh, *gl, *nc, *v;
    char events[256];
    size_t i;
    int r;

    if (!jp)
        return CLI_EXIT_USAGE;
    path = strdup_printf("%shooks/api/json", jp);
    if (!path)
        return CLI_EXIT_ERROR;
    r = cli_get_json(ctx, "reading the job's hooks", path, &j);
    if (r < 0)
        return -r;
    if (ctx->args.json) {
        cli_print_json(j);
        json_decref(j);
        return 0;
    }
    gh = json_object_get(j, "github");
    gl = json_object_get(j, "gitlab");
    nc = json_object_get(j, "notifyCommit");
    printf("Hooks of %s (%s)\n", jstr(j, "name") ? jstr(j, "name") : ctx->args.pos[0],
           jstr(j, "url") ? jstr(j, "url") : "?");
    json_array_foreach (json_object_get(j, "repositories"), i, v)
        hook_line(i ? "" : "Repository", json_string_value(v));
    if (jbool(j, "disabled"))
        printf("The job is disabled: no hook starts it until it is enabled.\n");

    hook_heading(gh, "GitHub");
    if (jbool(gh, "answers")) {
        hook_line("Payload URL", jstr(gh, "payloadUrl"));
        hook_line("Content type", jstr(gh, "contentType"));
        hook_line("Events", "Just the push event (push)");
        hook_line("Secret", jstr(gh, "secret"));
    } else
        hook_line("To do", jstr(gh, "note"));

    hook_heading(gl, "GitLab");
    if (jbool(gl, "answers")) {
        hook_line("URL", jstr(gl, "url"));
        hook_line("Secret token", jstr(gl, "secretToken"));
        hook_line(jstr(gl, "secretToken") ? "" : "Secret token", jstr(gl, "secret"));
        hook_line("Trigger", joined(json_object_get(gl, "events"), events, sizeof events));
    }
    hook_line(jbool(gl, "answers") ? "Note" : "To do", jstr(gl, "note"));

    hook_heading(nc, "Any Git server (notifyCommit)");
    hook_line(jbool(nc, "answers") ? "Note" : "To do", jstr(nc, "note"));
    json_array_foreach (json_object_get(nc, "commands"), i, v)
        hook_line(i ? "" : "Command", json_string_value(v));
    if (json_array_size(json_object_get(nc, "commands")))
        hook_line("Token", jstr(nc, "token"));
    json_decref(j);
    return 0;
}
