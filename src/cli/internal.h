/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the client commands share: the parsed command line, the resolved
 * settings, the HTTP client, and small helpers for waiting and JSON.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/args.h"
#include "cli/client.h"
#include "cli/report.h"
#include "cli/settings.h"
#include "util/strutil.h"

struct cli_ctx {
    struct cli_args args;
    struct settings settings;
    struct client *client;
    int64_t deadline; /* mono_ms() when --timeout runs out; 0: none */
    int64_t started;  /* mono_ms() at start */
    bool tty_in, tty_out, tty_err;
};

/* The commands; each returns an exit code. */
int cmd_build(struct cli_ctx *ctx);
int cmd_log(struct cli_ctx *ctx);
int cmd_jobs(struct cli_ctx *ctx);
int cmd_queue(struct cli_ctx *ctx);
int cmd_stop(struct cli_ctx *ctx);
int cmd_cancel(struct cli_ctx *ctx);
int cmd_quiet_down(struct cli_ctx *ctx);
int cmd_whoami(struct cli_ctx *ctx);
int cmd_token(struct cli_ctx *ctx);
int cmd_hooks(struct cli_ctx *ctx);

/* A hint_input for a refusal of a request other than a trigger. */
struct hint_input cli_hints(const struct cli_ctx *ctx);

/*
 * GETs (or POSTs, with `form` non-NULL) `path` and expects status 200 (or,
 * with `ok_redirect`, any 2xx or 3xx). On anything else it reports (`what`
 * says what was being done) and returns the exit code as a negative
 * number; on success 0, with the answer in *resp.
 */
int cli_request(struct cli_ctx *ctx, const char *what, const char *path, const char *form,
                bool ok_redirect, struct http_resp *resp);

/* cli_request() and a parse of the JSON answer into *ret (to be json_decref'd). */
int cli_get_json(struct cli_ctx *ctx, const char *what, const char *path, json_t **ret);
int cli_post_json(struct cli_ctx *ctx, const char *what, const char *path, const char *form,
                  json_t **ret);

/*
 * Sleeps `ms`, less when the deadline comes first. Returns 0, -ETIMEDOUT at
 * the deadline, or -EINTR on Ctrl-C.
 */
int cli_sleep(struct cli_ctx *ctx, int64_t ms);

/* Prints `v` as JSON, indented, on stdout. */
void cli_print_json(json_t *v);

/* The path of job `name` ("job/NAME/"), to be freed; reports and returns NULL for a bad name. */
char *cli_job_path(const char *name);

/* Catch SIGINT, SIGTERM and SIGHUP into client_interrupted (no SA_RESTART). */
void cli_catch_interrupts(void);
/* The signal that set client_interrupted, for 128+N exit codes. */
int cli_interrupt_signal(void);

/* JSON field helpers: NULL / 0 / false when missing or of another type. */
const char *jstr(json_t *o, const char *key);
int64_t jint(json_t *o, const char *key);
bool jbool(json_t *o, const char *key);
