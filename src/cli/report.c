/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/report.h"
#include "cli/urls.h"
#include "util/macro.h"
#include "util/strutil.h"

/* how much of a body that is not a JSON refusal is shown */
#define BODY_TEXT_MAX 600

int
report_exit_for_result(const char *result)
{
    static const struct {
        const char *name;
        int code;
    } map[] = {
        { "SUCCESS", CLI_EXIT_SUCCESS },   { "FAILURE", CLI_EXIT_FAILURE },
        { "UNSTABLE", CLI_EXIT_UNSTABLE }, { "ABORTED", CLI_EXIT_ABORTED },
        { "NOT_BUILT", CLI_EXIT_NOT_BUILT },
    };

    for (size_t i = 0; result && i < ELEMENTSOF(map); i++)
        if (streq(result, map[i].name))
            return map[i].code;
    return CLI_EXIT_ERROR;
}

int
report_exit_for_transport(int r)
{
    switch (r) {
    case -ETIMEDOUT:
        return CLI_EXIT_TIMEOUT;
    case -ECONNREFUSED:
        return CLI_EXIT_CONNECTION;
    case -EINTR:
        return CLI_EXIT_INTERRUPTED;
    default:
        return CLI_EXIT_ERROR;
    }
}

int
report_transport(const char *what, const char *url, int r, const struct http_resp *resp)
{
    const char *err = resp && resp->err[0] ? resp->err : strerror(-r);

    switch (r) {
    case -ETIMEDOUT:
        fprintf(stderr, "steward: timed out: %s (%s): %s\n", what, url, err);
        break;
    case -ECONNREFUSED:
        fprintf(stderr,
                "steward: cannot reach the server: %s (%s): %s\n"
                "hint: check the URL (--url, STEWARD_URL, JENKINS_URL or the config file) and "
                "that the server runs.\n",
                what, url, err);
        break;
    case -EINTR:
        fprintf(stderr, "steward: interrupted: %s\n", what);
        break;
    default:
        fprintf(stderr, "steward: %s (%s) failed: %s\n", what, url, err);
    }
    return report_exit_for_transport(r);
}

/* ---- the server's explanation ---- */

static void
add_line(struct buf *out, const char *prefix, const char *s)
{
    if (!s || !*s)
        return;
    if (out->len)
        buf_puts(out, "\n  ");
    buf_printf(out, "%s%s", prefix, s);
}

/* Appends `s` with tags dropped, entities left, whitespace collapsed, cut at BODY_TEXT_MAX. */
static void
add_text(struct buf *out, const char *s, size_t len, bool html)
{
    size_t start = out->len, shown = 0;
    bool in_tag = false, space = false, in_head = false;

    for (size_t i = 0; i < len && shown < BODY_TEXT_MAX; i++) {
        char c = s[i];
        if (html && c == '<') {
            in_tag = true;
            if (strncasecmp(s + i, "<head", 5) == 0 || strncasecmp(s + i, "<script", 7) == 0 ||
                strncasecmp(s + i, "<style", 6) == 0)
                in_head = true;
            else if (strncasecmp(s + i, "</head", 6) == 0 || strncasecmp(s + i, "</script", 8) == 0 ||
                     strncasecmp(s + i, "</style", 7) == 0)
                in_head = false;
            space = true;
            continue;
        }
        if (in_tag) {
            in_tag = c != '>';
            continue;
        }
        if (in_head)
            continue;
        if (isspace((unsigned char) c) || (unsigned char) c < ' ') {
            space = true;
            continue;
        }
        if (space && out->len > start) {
            buf_putc(out, ' ');
            shown++;
        }
        space = false;
        buf_putc(out, c);
        shown++;
    }
    if (shown >= BODY_TEXT_MAX)
        buf_puts(out, " ...");
}

void
report_server_text(const struct http_resp *resp, struct buf *out)
{
    json_t *j = NULL, *error;

    if (http_resp_is_json(resp) && resp->body.len)
        j = json_loadb(buf_str(&resp->body), resp->body.len, 0, NULL);
    error = json_object_get(j, "error");
    if (json_is_string(error)) {
        add_line(out, "", json_string_value(error));
        add_line(out, "", json_string_value(json_object_get(j, "accepts")));
        add_line(out, "", json_string_value(json_object_get(j, "presented")));
        add_line(out, "Fix: ", json_string_value(json_object_get(j, "fix")));
        if (!json_object_get(j, "accepts") && !json_object_get(j, "presented") &&
            !json_object_get(j, "fix"))
            add_line(out, "", json_string_value(json_object_get(j, "message")));
    } else if (json_is_string(json_object_get(j, "message")))
        add_line(out, "", json_string_value(json_object_get(j, "message")));
    else if (resp->x_error && *resp->x_error)
        add_line(out, "", resp->x_error);
    else if (resp->body.len) {
        bool html = resp->content_type && strcasestr(resp->content_type, "html");
        if (out->len)
            buf_puts(out, "\n  ");
        add_text(out, buf_str(&resp->body), resp->body.len, html);
    }
    json_decref(j);
}

/* ---- hints ---- */

static void
hint(struct buf *out, const char *fmt, ...) _printf_(2, 3);

static void
hint(struct buf *out, const char *fmt, ...)
{
    va_list ap;

    if (out->len)
        buf_putc(out, '\n');
    buf_puts(out, "hint: ");
    va_start(ap, fmt);
    buf_vprintf(out, fmt, ap);
    va_end(ap);
}

static bool
says(const char *text, const char *phrase)
{
    return text && strcasestr(text, phrase);
}

void
report_hints(const struct hint_input *in, struct buf *out)
{
    const struct settings *s = in->settings;
    const char *user = s ? s->user : NULL, *token = s ? s->token : NULL;
    bool refused = in->status == 401 || in->status == 403 || in->status == 404;

    /* a user API token given where the job's trigger token goes */
    if (refused && in->trigger_token && urls_is_api_token_shaped(in->trigger_token))
        hint(out,
             "the value given as --trigger-token looks like a user API token (\"11\" and 32 hex "
             "digits), not a job's trigger token. A user API token is given as --token, with "
             "--user NAME; the trigger token is the one set in the job's configuration "
             "(\"Trigger builds remotely\").");

    /* Jenkins asks for credentials with a 403, not a 401 */
    if (in->status == 403 && !token && !in->trigger_token &&
        says(in->server_text, "Authentication required"))
        hint(out,
             "no credentials were sent; Jenkins answers 403 when it wants them. Give --user and "
             "--token (or STEWARD_USER and STEWARD_TOKEN, or the config file).");

    if (in->status != 401)
        return;

    if (says(in->server_text, "no user with that name") && user)
        hint(out,
             "there is no user '%s' on this server; the name came from %s. --user takes the user "
             "ID you log in with, not your full name or e-mail address.",
             user, settings_source_name(s, 'n'));
    else if (token && !urls_is_api_token_shaped(token) && !urls_is_legacy_token_shaped(token)) {
        if (in->triggering)
            hint(out,
                 "the secret given as the user's token (from %s) is not shaped like an API token "
                 "(\"11\" and 32 hex digits). If it is the job's trigger token (\"Trigger builds "
                 "remotely\"), give it as --trigger-token instead, without --token.",
                 settings_source_name(s, 't'));
        else
            hint(out,
                 "the secret given as the user's token (from %s) is not shaped like an API token "
                 "(\"11\" and 32 hex digits). A job's trigger token only triggers builds "
                 "(steward build JOB --trigger-token T); make an API token on your user page "
                 "(me/configure).",
                 settings_source_name(s, 't'));
    }
    if (s && s->token_source_user && user)
        hint(out,
             "the token came from %s, which names user '%s', but the user name '%s' came from "
             "%s. Each setting is taken from the first place that has it, so they can come from "
             "different places.",
             settings_source_name(s, 't'), s->token_source_user, user, settings_source_name(s, 'n'));
    if (!token && user && !in->trigger_token)
        hint(out,
             "user '%s' (from %s) was given without a token: add --token, --token-stdin, "
             "STEWARD_TOKEN or token= in the config file.",
             user, settings_source_name(s, 'n'));
    else if (!token && !user && !in->trigger_token)
        hint(out,
             "no credentials were sent. Give --user and --token (or STEWARD_USER and "
             "STEWARD_TOKEN, or the config file)%s.",
             in->triggering ? ", or the job's trigger token as --trigger-token" : "");
}

int
report_refusal(const char *what, const struct http_resp *resp, const struct hint_input *in)
{
    struct buf text = BUF_INIT(64 * 1024), hints = BUF_INIT(16 * 1024);
    struct hint_input h = *in;
    int code = resp->status >= 400 && resp->status < 500 ? CLI_EXIT_REFUSED : CLI_EXIT_ERROR;

    report_server_text(resp, &text);
    /* `what` may be a caller's rfmt(): print it before anything else formats */
    fprintf(stderr, "steward: %s: the server answered %ld%s%s\n", what, resp->status,
            text.len ? ": " : "", buf_str(&text));
    h.status = resp->status;
    h.server_text = buf_str(&text);
    report_hints(&h, &hints);
    if (hints.len)
        fprintf(stderr, "%s\n", buf_str(&hints));
    buf_release(&text);
    buf_release(&hints);
    return code;
}
