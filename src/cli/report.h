/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Exit codes, and what the client says when something goes wrong: the
 * server's own explanation of a refusal, followed by hints only the client
 * can give (it knows where each setting came from and what shape the
 * secrets have).
 */

#include <stdbool.h>

#include "cli/client.h"
#include "cli/settings.h"
#include "util/buf.h"

/* Exit codes of the client commands; documented in `steward help` and steward(1). */
enum {
    CLI_EXIT_SUCCESS = 0,   /* done; the build's result is SUCCESS */
    CLI_EXIT_FAILURE = 1,   /* the build's result is FAILURE */
    CLI_EXIT_USAGE = 2,     /* bad command line or settings; nothing was sent */
    CLI_EXIT_UNSTABLE = 3,  /* the build's result is UNSTABLE */
    CLI_EXIT_ABORTED = 4,   /* the build's result is ABORTED (stopped) */
    CLI_EXIT_NOT_BUILT = 5, /* NOT_BUILT, or the queue item was cancelled before it started */
    CLI_EXIT_REFUSED = 6,   /* the server refused the request (HTTP 4xx) */
    CLI_EXIT_TIMEOUT = 7,   /* --timeout ran out, or the server stopped answering */
    CLI_EXIT_CONNECTION = 8, /* the server could not be reached */
    CLI_EXIT_ERROR = 9,     /* anything else: a server error (5xx), an answer not understood */
    CLI_EXIT_INTERRUPTED = 130, /* Ctrl-C and detached: the build goes on */
};

/* The exit code for a build result ("SUCCESS", ...); CLI_EXIT_ERROR for NULL or unknown. */
int report_exit_for_result(const char *result);

/* The exit code for a failed request (client_get()/client_post() < 0). */
int report_exit_for_transport(int r);

/*
 * Tells the user a request failed before any answer: what, the URL, why.
 * Returns the exit code.
 */
int report_transport(const char *what, const char *url, int r, const struct http_resp *resp);

/* What the client knows when a request is refused, for its own hints. */
struct hint_input {
    long status;
    const char *server_text; /* the server's explanation, any form */
    bool triggering;         /* the refused request triggered a build */
    const char *trigger_token;
    const struct settings *settings; /* user, token and where they came from */
};

/* Appends the client's hints for a refusal, one per line, each starting "hint: ". */
void report_hints(const struct hint_input *in, struct buf *out);

/*
 * Extracts the server's explanation from an answer: the JSON refusal's
 * fields (error, accepts, presented, fix) or its message, else X-Error, else
 * the body as text (tags stripped, cut short). Appends it to `out`, as
 * lines indented by two spaces after the first.
 */
void report_server_text(const struct http_resp *resp, struct buf *out);

/*
 * Reports an answer that is not what `what` needed (a 4xx refusal, a 5xx,
 * an unexpected status): the server's explanation, then the hints.
 * Returns the exit code (CLI_EXIT_REFUSED for 4xx, else CLI_EXIT_ERROR).
 */
int report_refusal(const char *what, const struct http_resp *resp, const struct hint_input *in);
