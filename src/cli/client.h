/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * HTTP to a Steward or Jenkins server, on libcurl (its only home, loaded
 * at run time by client_global_init()). One client keeps one connection
 * alive across requests, sends Basic credentials up front (Jenkins never
 * asks), and keeps cookies in memory so that a CSRF crumb and the session
 * it belongs to travel together.
 *
 * Crumbs: a request authenticated by an API token needs none. When the
 * secret is not shaped like an API token (so it may be a password), the
 * first POST fetches /crumbIssuer/api/json and every POST sends the crumb
 * in the header the server names. A 403 that asks for a crumb is retried
 * once with a fresh one, whatever the secret looks like.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/buf.h"

/* Set by the client's SIGINT handler; a request in progress then ends with -EINTR. */
extern volatile sig_atomic_t client_interrupted;

struct client;

struct client_config {
    const char *base_url; /* ends with '/' */
    const char *user;     /* NULL: anonymous */
    const char *secret;   /* API token or password; NULL: anonymous */
    bool verbose;         /* each request and status on stderr (never a secret) */
    const char *cacert;   /* PEM file of the CAs to trust for https; NULL: the system's */
};

struct http_resp {
    long status;
    struct buf body; /* the body, unless it went to `sink` */
    char *location;
    char *x_error;
    char *content_type;
    char *www_authenticate;
    bool has_text_size; /* X-Text-Size */
    int64_t text_size;
    bool more_data; /* X-More-Data: true */
    char *ignored_params; /* Steward's X-Steward-Ignored-Parameters */
    bool merged;          /* Steward's X-Steward-Merged: true */
    bool steward;         /* the answer came from Steward (X-Steward: VERSION) */
    bool dry_run;         /* X-Steward-Dry-Run: 1, the answer of a dry run */

    /* set by the caller: a 2xx body is written here instead of `body` */
    FILE *sink;
    uint64_t sunk;

    char err[256]; /* what went wrong, when a request returns < 0 */
};

/*
 * Once per process, before the first client_new(): loads libcurl
 * (libcurl.so.4, at run time: the server never maps it) and starts it.
 * 0, -ENOENT when libcurl cannot be loaded (client_load_error() says why)
 * or -EIO when it does not start.
 */
int client_global_init(void);
/* The loader's reason after client_global_init() failed with -ENOENT. Lent. */
const char *client_load_error(void);
void client_global_cleanup(void);

/* Returns 0 and a new client in *ret, or -ENOMEM. The config strings are copied. */
int client_new(const struct client_config *cfg, struct client **ret);
struct client *client_free(struct client *c);
static inline void client_freep(struct client **c) { client_free(*c); }

/*
 * Every later request ends at `deadline` (a mono_ms() time; 0: none) with
 * -ETIMEDOUT.
 */
void client_set_deadline(struct client *c, int64_t deadline_mono_ms);

/*
 * One more header ("Name: value") for every later request; NULL: none.
 * Copied.
 */
int client_set_header(struct client *c, const char *header);

/* The base URL, ending with '/'. Lent. */
const char *client_base(const struct client *c);

/*
 * GET or POST `path` (relative to the base URL, no leading '/'; or an
 * absolute http(s) URL). `form` is an application/x-www-form-urlencoded
 * body, or NULL. Returns 0 when an answer arrived, whatever its status;
 * else -ETIMEDOUT, -ECONNREFUSED (the server could not be reached),
 * -EINTR (Ctrl-C), -E2BIG (answer too large) or -EIO, with resp->err set.
 * `resp` must be zeroed or released before, except for its `sink`.
 */
int client_get(struct client *c, const char *path, struct http_resp *resp);
int client_post(struct client *c, const char *path, const char *form, struct http_resp *resp);

/*
 * POST `path` as multipart/form-data, as curl -F does: `fields` are n_fields
 * pairs of name and value, `files` n_files pairs of name and the path of a
 * file to send. Returns as client_post().
 */
int client_post_multipart(struct client *c, const char *path, const char *const *fields,
                          size_t n_fields, const char *const *files, size_t n_files,
                          struct http_resp *resp);

/* Frees what a request put in `resp` and zeroes it (keeping `sink`). */
void http_resp_release(struct http_resp *resp);

/* True when the answer says it is JSON. */
bool http_resp_is_json(const struct http_resp *resp);
