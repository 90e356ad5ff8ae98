/* SPDX-License-Identifier: MIT */
/*
 * steward build and steward log: trigger, wait in the queue, follow the
 * console, and turn the build's result into the exit code.
 *
 * Only the endpoints scripts use against Jenkins: /job/NAME/build and
 * /buildWithParameters, /queue/item/N/api/json, /job/NAME/N/api/json,
 * .../logText/progressiveText?start= and .../stop, /queue/cancelItem.
 * Waiting is polling, as for every Jenkins client: quickly at first (a
 * no-op build is over in milliseconds), then at most twice a second.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/internal.h"
#include "cli/table.h"
#include "cli/urls.h"
#include "util/macro.h"
#include "util/strutil.h"

#define POLL_FIRST_MS 5
#define POLL_MAX_MS 500
#define FOLLOW_FIRST_MS 100
#define FOLLOW_MAX_MS 500
/* the queue's `why` shows after this long in the queue (terminal, else printed once) */
#define WHY_TTY_AFTER_MS 250
#define WHY_PRINT_AFTER_MS 1000

#define QUEUE_TREE "tree=id%2Cwhy%2Ccancelled%2Cexecutable%5Bnumber%2Curl%5D"
#define BUILD_TREE "tree=number%2Cresult%2Cbuilding%2Cduration%2Curl"

struct run {
    struct cli_ctx *ctx;
    const char *job;
    char *job_path;   /* "job/NAME/" */
    int64_t queue_id; /* 0: not known (log) */
    char *queue_url;
    int64_t number; /* 0 until the build started */
    char *url;
    char *result;
    int64_t duration_ms;
    int64_t offset; /* of the console, when following */
    int64_t queued_at;
    bool follow;
    bool stopping;
    bool can_stop; /* Ctrl-C may stop the build (build, not log) */
    bool animate;  /* a terminal: one updating status line */
    bool line_shown;
    bool why_printed;
};

static void
run_release(struct run *b)
{
    free(b->job_path);
    free(b->queue_url);
    free(b->url);
    free(b->result);
}

static int64_t
next_delay(int64_t prev, int64_t first, int64_t max)
{
    return prev <= 0 ? first : MIN(prev * 2, max);
}

/* ---- the status line ---- */

static void
status_clear(struct run *b)
{
    if (b->line_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        b->line_shown = false;
    }
}

static void
status_why(struct run *b, const char *why)
{
    int64_t waited = mono_ms() - b->queued_at;

    /* a moment's wait is not worth a line */
    if (!why || waited < (b->animate ? WHY_TTY_AFTER_MS : WHY_PRINT_AFTER_MS))
        return;
    if (b->animate) {
        fprintf(stderr, "\r\033[KWaiting in the queue for %s: %s", table_span(waited), why);
        fflush(stderr);
        b->line_shown = true;
    } else if (!b->why_printed) {
        fprintf(stderr, "Waiting in the queue: %s\n", why);
        b->why_printed = true;
    }
}

/* ---- interrupts ---- */

enum choice { CHOICE_STOP, CHOICE_DETACH };

static enum choice
ask(struct run *b)
{
    char line[64];

    if (b->ctx->args.stop_on_interrupt)
        return CHOICE_STOP;
    if (!b->can_stop || !b->ctx->tty_in || !b->ctx->tty_err)
        return CHOICE_DETACH;
    if (b->number)
        fprintf(stderr, "\nInterrupted. Stop %s #%lld, or detach and leave it running? [s/D] ",
                b->job, (long long) b->number);
    else
        fprintf(stderr,
                "\nInterrupted. Cancel queue item %lld (%s), or detach and leave it waiting? "
                "[s/D] ",
                (long long) b->queue_id, b->job);
    fflush(stderr);
    if (!fgets(line, sizeof line, stdin))
        return CHOICE_DETACH; /* EOF, or a second Ctrl-C */
    return line[0] == 's' || line[0] == 'S' || line[0] == 'c' || line[0] == 'C' ? CHOICE_STOP
                                                                                : CHOICE_DETACH;
}

static int
detach(struct run *b)
{
    if (b->number)
        fprintf(stderr, "Detached: %s #%lld goes on: %s\n", b->job, (long long) b->number,
                b->url ? b->url : "");
    else if (b->queue_id)
        fprintf(stderr, "Detached: queue item %lld of %s goes on: %s\n", (long long) b->queue_id,
                b->job, b->queue_url ? b->queue_url : "");
    return 128 + cli_interrupt_signal();
}

static int
request_stop(struct run *b)
{
    struct http_resp resp = { 0 };
    struct buf path = BUF_INIT(8192);
    int r;

    b->stopping = true;
    if (b->number) {
        buf_printf(&path, "%s%lld/stop", b->job_path, (long long) b->number);
        fprintf(stderr, "Stopping %s #%lld (Ctrl-C again to leave at once)\n", b->job,
                (long long) b->number);
    } else {
        buf_printf(&path, "queue/cancelItem?id=%lld", (long long) b->queue_id);
        fprintf(stderr, "Cancelling queue item %lld (Ctrl-C again to leave at once)\n",
                (long long) b->queue_id);
    }
    r = client_post(b->ctx->client, buf_str(&path), "", &resp);
    if (r < 0)
        r = report_transport(b->number ? "stopping the build" : "cancelling the queue item",
                             client_base(b->ctx->client), r, &resp);
    else if (resp.status >= 200 && resp.status < 400)
        r = 0;
    else if (!b->number && resp.status == 404)
        r = 0; /* the item started meanwhile: its build is stopped next */
    else {
        struct hint_input h = cli_hints(b->ctx);
        r = report_refusal(b->number ? "stopping the build" : "cancelling the queue item", &resp,
                           &h);
    }
    http_resp_release(&resp);
    buf_release(&path);
    return r;
}

/*
 * Called when a wait ended with -EINTR. Returns 0 to go on waiting (the
 * build is being stopped), or the exit code.
 */
static int
on_interrupt(struct run *b)
{
    enum choice c;

    status_clear(b);
    client_interrupted = 0;
    if (b->stopping)
        return detach(b);
    c = ask(b);
    if (client_interrupted)
        return detach(b);
    if (c == CHOICE_DETACH)
        return detach(b);
    return request_stop(b);
}

static int
timed_out(struct run *b)
{
    int64_t s = b->ctx->args.timeout_ms;

    status_clear(b);
    if (b->number)
        fprintf(stderr, "steward: timed out after %s: %s #%lld has not ended; it goes on: %s\n",
                table_span(s), b->job, (long long) b->number, b->url ? b->url : "");
    else
        fprintf(stderr,
                "steward: timed out after %s: queue item %lld of %s has not started; it goes "
                "on: %s\n",
                table_span(s), (long long) b->queue_id, b->job,
                b->queue_url ? b->queue_url : "");
    return CLI_EXIT_TIMEOUT;
}

/*
 * What to do when a request or a sleep ended with r < 0: 0 to go on (after
 * an interrupt that stops the build), else the exit code.
 */
static int
wait_failed(struct run *b, int r, const char *what, const char *path, struct http_resp *resp)
{
    if (r == -EINTR)
        return on_interrupt(b);
    if (r == -ETIMEDOUT && b->ctx->deadline && mono_ms() >= b->ctx->deadline)
        return timed_out(b);
    status_clear(b);
    return report_transport(what, rfmt("%s%s", client_base(b->ctx->client), path), r, resp);
}

/* ---- triggering ---- */

static void
add_params(struct buf *form, const struct cli_args *a)
{
    for (size_t i = 0; i < a->n_params; i++) {
        const char *eq = strchr(a->params[i], '=');
        _cleanup_free_ char *name = strndup(a->params[i], (size_t) (eq - a->params[i]));
        if (name)
            urls_form_add(form, name, eq + 1);
    }
}

/*
 * Jenkins answers a parameterized job's /build without parameters with a
 * form (GET) or 400 "Nothing is submitted" (POST); Steward queues it.
 * Either way buildWithParameters with no parameters takes the defaults.
 */
static bool
wants_parameters(const struct http_resp *resp)
{
    const char *body = buf_str(&resp->body);

    if (resp->status == 200)
        return true;
    return resp->status == 400 &&
           ((resp->x_error && strcasestr(resp->x_error, "Nothing is submitted")) ||
            strcasestr(body, "Nothing is submitted") || strcasestr(body, "expects a form"));
}

/*
 * With --file: a multipart POST, the files under their parameters' names
 * (the form buildWithParameters takes, curl -F NAME=@PATH), the other
 * parameters as fields beside them, the trigger token in the query.
 */
static int
trigger_with_files(struct run *b, const char *endpoint, struct http_resp *resp)
{
    const struct cli_args *a = &b->ctx->args;
    size_t n_fields = 0;
    _cleanup_free_ const char **fields = calloc(2 * (a->n_params + 1) + 1, sizeof *fields);
    _cleanup_free_ const char **files = calloc(2 * a->n_files + 1, sizeof *files);
    _cleanup_free_ char *names = NULL, *path = strdup_printf("%s%s", b->job_path, endpoint);
    size_t size = 1;
    int r;

    /* one block of NUL-separated names, for the -p and --file names */
    for (size_t i = 0; i < a->n_params; i++)
        size += strlen(a->params[i]) + 1;
    for (size_t i = 0; i < a->n_files; i++)
        size += strlen(a->files[i]) + 1;
    names = calloc(1, size);
    if (!fields || !files || !names || !path)
        return -ENOMEM;
    {
        char *at = names;
        for (size_t i = 0; i < a->n_params; i++) {
            const char *eq = strchr(a->params[i], '=');
            memcpy(at, a->params[i], (size_t) (eq - a->params[i]));
            fields[2 * n_fields] = at;
            fields[2 * n_fields++ + 1] = eq + 1;
            at += eq - a->params[i] + 1;
        }
        for (size_t i = 0; i < a->n_files; i++) {
            const char *eq = strchr(a->files[i], '=');
            memcpy(at, a->files[i], (size_t) (eq - a->files[i]));
            files[2 * i] = at;
            files[2 * i + 1] = eq + 2; /* past "=@" */
            at += eq - a->files[i] + 1;
        }
    }
    /* the trigger token goes in the query: the server checks it before it takes the files */
    if (a->trigger_token) {
        struct buf q = BUF_INIT(1024 * 1024 + 8192);

        buf_puts(&q, path);
        buf_puts(&q, "?token=");
        url_encode(&q, a->trigger_token);
        r = client_post_multipart(b->ctx->client, buf_str(&q), fields, n_fields, files,
                                  a->n_files, resp);
        explicit_bzero(q.ptr ? q.ptr : (char *) "", q.len);
        buf_release(&q);
        return r;
    }
    r = client_post_multipart(b->ctx->client, path, fields, n_fields, files, a->n_files, resp);
    return r;
}

static int
trigger_once(struct run *b, const char *endpoint, struct http_resp *resp, char **ret_path)
{
    const struct cli_args *a = &b->ctx->args;
    bool by_token_only = a->trigger_token && !b->ctx->settings.token;
    struct buf form = BUF_INIT(1024 * 1024), path = BUF_INIT(1024 * 1024 + 8192);
    int r;

    if (a->n_files) {
        *ret_path = strdup_printf("%s%s", b->job_path, endpoint);
        return trigger_with_files(b, endpoint, resp);
    }
    if (a->trigger_token)
        urls_form_add(&form, "token", a->trigger_token);
    add_params(&form, a);
    buf_printf(&path, "%s%s", b->job_path, endpoint);
    if (by_token_only) {
        /* GET: Jenkins wants a crumb for an anonymous POST, even with a trigger token */
        if (form.len)
            buf_printf(&path, "?%s", buf_str(&form));
        r = client_get(b->ctx->client, buf_str(&path), resp);
    } else
        r = client_post(b->ctx->client, buf_str(&path), buf_str(&form), resp);
    /* the path may hold the trigger token: it is not shown */
    *ret_path = strdup_printf("%s%s", b->job_path, endpoint);
    explicit_bzero(form.ptr ? form.ptr : (char *) "", form.len);
    explicit_bzero(path.ptr ? path.ptr : (char *) "", path.len);
    buf_release(&form);
    buf_release(&path);
    return r;
}

static int
trigger(struct run *b)
{
    const struct cli_args *a = &b->ctx->args;
    struct http_resp resp = { 0 };
    struct hint_input h = cli_hints(b->ctx);
    _cleanup_free_ char *path = NULL;
    char what[1024];
    int r, code = 0;

    snprintf(what, sizeof what, "triggering %s", b->job);

    h.triggering = true;
    h.trigger_token = a->trigger_token;
    r = trigger_once(b, a->n_params || a->n_files ? "buildWithParameters" : "build", &resp, &path);
    if (r == 0 && !a->n_params && !a->n_files && wants_parameters(&resp)) {
        free(path);
        r = trigger_once(b, "buildWithParameters", &resp, &path);
    }
    b->queued_at = mono_ms();
    if (r < 0)
        code = report_transport(what, rfmt("%s%s", client_base(b->ctx->client), path ? path : ""),
                                r, &resp);
    else if ((resp.status == 201 || resp.status == 303 || resp.status == 302) && resp.location &&
             urls_queue_id(resp.location, &b->queue_id) == 0) {
        if (asprintf(&b->queue_url, "%squeue/item/%lld/", client_base(b->ctx->client),
                     (long long) b->queue_id) < 0)
            b->queue_url = NULL;
        if (resp.ignored_params)
            fprintf(stderr, "steward: warning: job %s has no parameter named %s; the server "
                            "ignored it\n",
                    b->job, resp.ignored_params);
        fprintf(stderr, "Queued %s as queue item %lld%s\n", b->job, (long long) b->queue_id,
                resp.merged || resp.status == 303 ? " (merged into an identical waiting item)"
                                                  : "");
    } else if (resp.status == 302 || (resp.status >= 200 && resp.status < 300)) {
        fprintf(stderr,
                "steward: %s: the server answered %ld without a queue item%s%s; the build may "
                "not have been queued\n",
                what, resp.status, resp.location ? ", pointing at " : "",
                resp.location ? resp.location : "");
        code = CLI_EXIT_ERROR;
    } else
        code = report_refusal(what, &resp, &h);
    http_resp_release(&resp);
    return code;
}

/* ---- dry runs ---- */

static void
print_dry_run(json_t *j)
{
    json_t *job = json_object_get(j, "job"), *id = json_object_get(j, "identity");
    json_t *answer = json_object_get(j, "answer"), *merge = json_object_get(j, "merge"), *v;
    size_t i;

    printf("Dry run: nothing was queued.\n");
    printf("Job:        %s%s%s\n", jstr(job, "name") ? jstr(job, "name") : "?",
           jstr(job, "url") ? "  " : "", jstr(job, "url") ? jstr(job, "url") : "");
    printf("Identity:   %s (%s%s%s)\n", jstr(id, "user") ? jstr(id, "user") : "?",
           jstr(id, "via") ? jstr(id, "via") : "?", jstr(id, "apiToken") ? " " : "",
           jstr(id, "apiToken") ? jstr(id, "apiToken") : "");
    printf("Secret:     %s\n", jstr(j, "secret") ? jstr(j, "secret") : "none recognised");
    json_array_foreach(json_object_get(j, "presented"), i, v)
        printf("%s%s\n", i ? "            " : "Presented:  ", json_string_value(v));
    if (json_is_array(json_object_get(j, "parameters"))) {
        printf("Parameters:%s\n", json_array_size(json_object_get(j, "parameters")) ? "" : " none");
        json_array_foreach(json_object_get(j, "parameters"), i, v)
            if (jstr(v, "value") || !jstr(v, "note"))
                printf("  %s=%s\n", jstr(v, "name") ? jstr(v, "name") : "?",
                       jstr(v, "value") ? jstr(v, "value") : "");
            else
                printf("  %s (%s)\n", jstr(v, "name") ? jstr(v, "name") : "?", jstr(v, "note"));
    }
    json_array_foreach(json_object_get(j, "ignoredParameters"), i, v)
        printf("%s%s\n", i ? "            " : "Ignored:    ", json_string_value(v));
    if (json_is_object(merge))
        printf(jbool(merge, "wouldMerge") ? "Queue:      would merge into queue item %lld %s\n"
                                          : "Queue:      would queue a new item\n",
               (long long) jint(merge, "queueItem"), jstr(merge, "url") ? jstr(merge, "url") : "");
    printf("Answer:     %lld %s\n", (long long) jint(answer, "status"),
           jstr(answer, "reason") ? jstr(answer, "reason") : "");
}

/*
 * --dry-run: the server says what the trigger would get, and changes
 * nothing. Only Steward knows the header: a Jenkins would build for real,
 * so the server is asked who it is first.
 */
static int
dry_run(struct run *b)
{
    const struct cli_args *a = &b->ctx->args;
    struct http_resp resp = { 0 };
    struct hint_input h = cli_hints(b->ctx);
    _cleanup_free_ char *path = NULL;
    const char *what = rfmt("dry run of a trigger of %s", b->job);
    json_t *j;
    int r, code;

    r = client_get(b->ctx->client, "api/json?tree=mode", &resp);
    if (r < 0) {
        code = report_transport(what, client_base(b->ctx->client), r, &resp);
        http_resp_release(&resp);
        return code;
    }
    if (!resp.steward) {
        http_resp_release(&resp);
        fprintf(stderr, "steward: --dry-run needs a Steward server; %s does not say it is one "
                        "(no X-Steward header), and a Jenkins would run the build for real. "
                        "Nothing was sent.\n", client_base(b->ctx->client));
        return CLI_EXIT_USAGE;
    }
    http_resp_release(&resp);
    if (client_set_header(b->ctx->client, "X-Steward-Dry-Run: 1") < 0)
        return CLI_EXIT_ERROR;
    r = trigger_once(b, a->n_params || a->n_files ? "buildWithParameters" : "build", &resp, &path);
    (void) client_set_header(b->ctx->client, NULL);
    if (r < 0) {
        code = report_transport(what, rfmt("%s%s", client_base(b->ctx->client), path ? path : ""),
                                r, &resp);
        http_resp_release(&resp);
        return code;
    }
    if (resp.status != 200 || !resp.dry_run) {
        code = report_refusal(what, &resp, &h);
        http_resp_release(&resp);
        return code;
    }
    j = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
    http_resp_release(&resp);
    if (!j) {
        fprintf(stderr, "steward: the dry run's answer is not JSON\n");
        return CLI_EXIT_ERROR;
    }
    if (a->json)
        cli_print_json(j);
    else
        print_dry_run(j);
    /* the exit code the real request would end with, short of waiting for a build */
    code = jint(json_object_get(j, "answer"), "status");
    json_decref(j);
    return code >= 200 && code < 300 ? 0 : code >= 400 && code < 500 ? CLI_EXIT_REFUSED
                                                                       : CLI_EXIT_ERROR;
}

/* ---- waiting ---- */

static int
queue_poll_failed(struct run *b, struct http_resp *resp)
{
    struct hint_input h = cli_hints(b->ctx);
    int code;

    status_clear(b);
    code = report_refusal(rfmt("reading queue item %lld", (long long) b->queue_id), resp, &h);
    if (resp->status == 401 || resp->status == 403 || resp->status == 404)
        fprintf(stderr,
                "hint: the build was queued, but waiting for it needs read access to the job%s. "
                "Give --user and --token as well, or leave out --wait.\n",
                b->ctx->args.trigger_token && !b->ctx->settings.token
                    ? " (a trigger token only triggers)" : "");
    return code;
}

/* Polls the queue item until it becomes a build (0) or is cancelled; else an exit code. */
static int
wait_for_start(struct run *b)
{
    _cleanup_free_ char *p = strdup_printf("queue/item/%lld/api/json?%s", (long long) b->queue_id,
                                  QUEUE_TREE);
    int64_t delay = 0;
    int r, code;

    if (!p)
        return CLI_EXIT_ERROR;
    for (;;) {
        struct http_resp resp = { 0 };
        json_t *j, *exe;

        r = client_get(b->ctx->client, p, &resp);
        if (r < 0) {
            code = wait_failed(b, r, "reading the queue item", p, &resp);
            http_resp_release(&resp);
            if (code)
                return code;
            continue;
        }
        if (resp.status != 200) {
            code = queue_poll_failed(b, &resp);
            http_resp_release(&resp);
            return code;
        }
        j = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
        http_resp_release(&resp);
        exe = json_object_get(j, "executable");
        if (json_is_object(exe) && jint(exe, "number") > 0) {
            b->number = jint(exe, "number");
            if (asprintf(&b->url, "%s%s%lld/", client_base(b->ctx->client), b->job_path,
                         (long long) b->number) < 0)
                b->url = NULL;
            json_decref(j);
            status_clear(b);
            return 0;
        }
        if (jbool(j, "cancelled")) {
            json_decref(j);
            status_clear(b);
            fprintf(stderr, "Queue item %lld of %s was cancelled before it started\n",
                    (long long) b->queue_id, b->job);
            return CLI_EXIT_NOT_BUILT;
        }
        if (!j) {
            status_clear(b);
            fprintf(stderr, "steward: the queue item's answer is not JSON\n");
            return CLI_EXIT_ERROR;
        }
        status_why(b, jstr(j, "why"));
        json_decref(j);
        delay = next_delay(delay, POLL_FIRST_MS, POLL_MAX_MS);
        r = cli_sleep(b->ctx, delay);
        if (r < 0 && (code = wait_failed(b, r, "waiting", p, NULL)))
            return code;
    }
}

/* Reads the build; sets b->result when it has ended. 0, or an exit code. */
static int
read_build(struct run *b, bool *ret_done)
{
    _cleanup_free_ char *p = strdup_printf("%s%lld/api/json?%s", b->job_path, (long long) b->number,
                                  BUILD_TREE);
    struct http_resp resp = { 0 };
    json_t *j;
    int r, code = 0;

    *ret_done = false;
    if (!p)
        return CLI_EXIT_ERROR;
    r = client_get(b->ctx->client, p, &resp);
    if (r < 0) {
        code = wait_failed(b, r, "reading the build", p, &resp);
        http_resp_release(&resp);
        return code;
    }
    if (resp.status != 200) {
        struct hint_input h = cli_hints(b->ctx);
        code = report_refusal(rfmt("reading %s #%lld", b->job, (long long) b->number), &resp, &h);
        http_resp_release(&resp);
        return code;
    }
    j = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
    http_resp_release(&resp);
    if (jstr(j, "result") && !jbool(j, "building")) {
        b->result = strdup(jstr(j, "result"));
        b->duration_ms = jint(j, "duration");
        *ret_done = true;
    }
    json_decref(j);
    return 0;
}

/* Polls the build until it has a result: 0, or an exit code. */
static int
wait_for_end(struct run *b)
{
    int64_t delay = 0;
    bool done = false;
    int r, code;

    for (;;) {
        if (b->stopping && client_interrupted) {
            code = on_interrupt(b);
            if (code)
                return code;
        }
        code = read_build(b, &done);
        if (code || done)
            return code;
        delay = next_delay(delay, POLL_FIRST_MS, POLL_MAX_MS);
        r = cli_sleep(b->ctx, delay);
        if (r < 0 && (code = wait_failed(b, r, "waiting", "", NULL)))
            return code;
    }
}

/*
 * One progressiveText page from b->offset, written to stdout as it
 * arrives, the offset moved on by what was written (so a page cut short by
 * Ctrl-C is not printed twice). Sets *ret_more while the server says more
 * will come. 0, a negative errno from the request, or a positive exit code
 * (reported).
 */
static int
console_page(struct run *b, bool *ret_more, bool *ret_got)
{
    _cleanup_free_ char *p = strdup_printf("%s%lld/logText/progressiveText?start=%lld", b->job_path,
                                  (long long) b->number, (long long) b->offset);
    struct http_resp resp = { .sink = stdout };
    int r;

    if (!p)
        return CLI_EXIT_ERROR;
    r = client_get(b->ctx->client, p, &resp);
    fflush(stdout);
    if (r < 0) {
        b->offset += (int64_t) resp.sunk;
        http_resp_release(&resp);
        return r;
    }
    if (resp.status != 200 || !resp.has_text_size) {
        struct hint_input h = cli_hints(b->ctx);
        status_clear(b);
        if (resp.status == 200)
            fprintf(stderr, "steward: the console's answer has no X-Text-Size; is this a "
                            "Jenkins-compatible server?\n");
        r = resp.status == 200 ? CLI_EXIT_ERROR
                               : report_refusal(rfmt("reading the console of %s #%lld", b->job,
                                                     (long long) b->number),
                                                &resp, &h);
        http_resp_release(&resp);
        return r;
    }
    if (resp.text_size < b->offset)
        fprintf(stderr, "steward: the console of %s #%lld got shorter; it was shown anew\n",
                b->job, (long long) b->number);
    *ret_got = resp.sunk > 0;
    *ret_more = resp.more_data;
    b->offset = resp.text_size;
    http_resp_release(&resp);
    return 0;
}

/* Streams the console until the build ends: 0, or an exit code. */
static int
follow_console(struct run *b)
{
    int64_t delay = 0;
    bool more = true, got = false;
    int r, code;

    while (more) {
        r = console_page(b, &more, &got);
        if (r > 0)
            return r;
        if (r < 0) {
            code = wait_failed(b, r, "reading the console", "", NULL);
            if (code)
                return code;
            more = true;
            continue;
        }
        if (!more)
            break;
        if (b->stopping && client_interrupted && (code = on_interrupt(b)))
            return code;
        delay = got ? 0 : next_delay(delay, FOLLOW_FIRST_MS, FOLLOW_MAX_MS);
        if (!delay)
            continue;
        r = cli_sleep(b->ctx, delay);
        if (r < 0 && (code = wait_failed(b, r, "following the console", "", NULL)))
            return code;
    }
    /* the log is complete; the result may lag behind it a moment */
    return wait_for_end(b);
}

static int
finish(struct run *b, bool print_lines)
{
    const struct cli_args *a = &b->ctx->args;
    int code = report_exit_for_result(b->result);

    fprintf(stderr, "Finished %s #%lld: %s (%s)\n", b->job, (long long) b->number,
            b->result ? b->result : "?", table_span(b->duration_ms));
    if (code == CLI_EXIT_ERROR)
        fprintf(stderr, "steward: '%s' is not a result this client knows\n",
                b->result ? b->result : "");
    if (print_lines && !a->json && !b->follow) {
        printf("%s\n", b->result ? b->result : "");
        fflush(stdout);
    }
    return code;
}

static void
print_json(const struct run *b)
{
    json_t *o = json_pack("{s:s, s:I, s:s?, s:o, s:o, s:o}", "job", b->job, "queueId",
                          (json_int_t) b->queue_id, "queueUrl", b->queue_url, "number",
                          b->number ? json_integer(b->number) : json_null(), "url",
                          b->url ? json_string(b->url) : json_null(), "result",
                          b->result ? json_string(b->result) : json_null());

    if (o)
        cli_print_json(o);
    json_decref(o);
}

int
cmd_build(struct cli_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    char *jp = cli_job_path(a->pos[0]);
    struct run b = {
        .ctx = ctx,
        .job = a->pos[0],
        .follow = a->follow,
        .can_stop = true,
        .animate = ctx->tty_err && ctx->tty_out && getenv("TERM") &&
                   !streq(getenv("TERM"), "dumb"),
    };
    int code;

    if (!jp)
        return CLI_EXIT_USAGE;
    b.job_path = jp;
    /* a file that cannot be read is said before anything is sent */
    for (size_t i = 0; i < a->n_files; i++) {
        const char *file = strchr(a->files[i], '=') + 2;
        if (access(file, R_OK) < 0) {
            fprintf(stderr, "steward: --file %s: cannot read %s: %s\n", a->files[i], file,
                    strerror(errno));
            run_release(&b);
            return CLI_EXIT_USAGE;
        }
    }
    if (a->dry_run) {
        code = dry_run(&b);
        run_release(&b);
        return code;
    }
    if (a->wait)
        cli_catch_interrupts();

    code = trigger(&b);
    if (code)
        goto out;
    if (!a->json && !a->follow) {
        printf("%s\n", b.queue_url);
        fflush(stdout);
    }
    if (!a->wait)
        goto out;

    code = wait_for_start(&b);
    if (code)
        goto out;
    if (b.stopping) {
        /* the item started before the cancel reached it */
        code = request_stop(&b);
        if (code)
            goto out;
    }
    fprintf(stderr, "Started %s #%lld: %s\n", b.job, (long long) b.number, b.url ? b.url : "");
    if (!a->json && !a->follow) {
        printf("%s\n", b.url ? b.url : "");
        fflush(stdout);
    }
    code = a->follow ? follow_console(&b) : wait_for_end(&b);
    if (code == 0)
        code = finish(&b, true);
out:
    if (a->json && b.queue_id)
        print_json(&b);
    run_release(&b);
    return code;
}

/* ---- steward log ---- */

/* Resolves a permalink (or a number) to the build's number: 0, or an exit code. */
static int
resolve_number(struct cli_ctx *ctx, struct run *b, const char *ref)
{
    _cleanup_free_ char *path = NULL;
    json_t *j = NULL;
    int r;

    if (parse_int64(ref, 1, INT64_MAX, &b->number) == 0)
        return 0;
    path = strdup_printf("%s%s/api/json?tree=number%%2Curl", b->job_path, ref);
    if (!path)
        return CLI_EXIT_ERROR;
    r = cli_get_json(ctx, rfmt("finding %s of %s", ref, b->job), path, &j);
    if (r < 0)
        return -r;
    b->number = jint(j, "number");
    json_decref(j);
    if (b->number <= 0) {
        fprintf(stderr, "steward: %s of %s has no number\n", ref, b->job);
        return CLI_EXIT_ERROR;
    }
    return 0;
}

int
cmd_log(struct cli_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *ref = a->n_pos > 1 ? a->pos[1] : "lastBuild";
    struct run b = { .ctx = ctx, .job = a->pos[0], .follow = true };
    struct http_resp resp = { .sink = stdout };
    int code;

    if (!urls_is_build_ref(ref)) {
        fprintf(stderr, "steward: '%s' is not a build number or a permalink (lastBuild, ...)\n",
                ref);
        return CLI_EXIT_USAGE;
    }
    b.job_path = cli_job_path(a->pos[0]);
    if (!b.job_path)
        return CLI_EXIT_USAGE;
    if (!a->follow) {
        /* consoleText streams straight to stdout, however large */
        _cleanup_free_ char *path = strdup_printf("%s%s/consoleText", b.job_path, ref);
        code = path ? cli_request(ctx, rfmt("reading the console of %s %s", b.job, ref), path,
                                  NULL, false, &resp)
                    : -CLI_EXIT_ERROR;
        fflush(stdout);
        http_resp_release(&resp);
        run_release(&b);
        return code < 0 ? -code : 0;
    }
    cli_catch_interrupts();
    code = resolve_number(ctx, &b, ref);
    if (code == 0 && asprintf(&b.url, "%s%s%lld/", client_base(ctx->client), b.job_path,
                              (long long) b.number) < 0)
        b.url = NULL;
    if (code == 0)
        code = follow_console(&b);
    if (code == 0)
        code = finish(&b, false);
    run_release(&b);
    return code;
}
