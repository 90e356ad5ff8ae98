/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Our own request and response, independent of the HTTP library
 * (libmicrohttpd lives in mhd.c alone). A handler gets a fully read and
 * decoded `struct req` and fills a `struct resp`.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/auth.h"
#include "core/perm.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/net.h"

/* The Jenkins version Steward answers as (X-Jenkins): one the clients accept. */
#define HTTP_JENKINS_VERSION "2.462.3"

struct kv {
    char *key;
    char *value;   /* "" for a key given without '=' */
};

enum body_problem {
    BODY_OK,
    BODY_TOO_LARGE,      /* past BOUND_BODY_BYTES */
    BODY_BAD_FORM,       /* a form body or query that does not decode */
    BODY_TOO_MANY_FIELDS,
    HEADERS_TOO_LARGE,   /* request line and headers past BOUND_HEADER_BYTES */
    URL_TOO_LONG,        /* path and query past BOUND_URL_BYTES */
    /* multipart/form-data (a trigger's file parameters) */
    BODY_UPLOAD_TOO_LARGE, /* its files past req->max_upload bytes */
    BODY_BAD_MULTIPART,    /* no boundary, a malformed part, or a body cut short */
    BODY_TOO_MANY_PARTS,   /* past BOUND_UPLOAD_PARTS parts or BOUND_UPLOAD_FILES files */
    BODY_NO_UPLOADS,       /* a multipart body where the URL takes none */
    BODY_UPLOADS_BUSY,     /* the server's uploads in flight would pass their bound */
    BODY_UPLOAD_NO_SPACE,  /* the upload directory's file system has too little room */
};

/*
 * A file of a multipart/form-data body. The HTTP layer writes it to a
 * temporary file in the upload directory (http_opts.upload_dir) as it
 * arrives, and removes that file when the request ends unless a handler
 * took it (set `path` to NULL after moving it).
 */
struct req_file {
    char *field;       /* the part's name */
    char *filename;    /* the file name the client gave; never used as a path */
    char *path;        /* the temporary file */
    uint64_t size;
    char sha256[65];   /* lowercase hex */
};

struct req {
    const char *method;
    const char *raw_path;      /* as sent, without the query */
    char **seg;                /* decoded path segments; empty segments dropped */
    size_t n_seg;
    bool trailing_slash;
    struct kv *params;         /* the query's fields, then the form body's */
    size_t n_params;
    size_t n_query;
    struct buf body;
    enum body_problem body_problem;
    struct req_file *files;    /* multipart uploads, on the trigger URLs only */
    size_t n_files;
    uint64_t max_upload;       /* the server's limit on them (serve --max-upload) */
    char addr[64];             /* the TCP peer */
    bool is_post;
    bool tls;                  /* it came over HTTPS */
    /*
     * The headers alone, before a multipart body is read: the handler only
     * says whether it would take the body. It answers a refusal as usual,
     * or leaves resp->status at 100 (Continue) to let the body come; then
     * it is called again once the body is read.
     */
    bool preflight;

    /* identity, resolved before the handler runs */
    struct identity id;
    bool basic_given;          /* an Authorization: Basic header was sent */
    bool basic_failed;
    enum auth_failure basic_failure;
    char basic_user[BOUND_USER_NAME_BYTES + 1];
    bool basic_secret_is_api_token_shape;
    char session_id[65];       /* from the session cookie, "" when none */

    /* rights, worked out by app_authorize() before a handler runs */
    bool authorized;
    enum authz_strategy authz;
    perm_set perms;            /* outside any job (see app_may()) */

    struct store *db;          /* this thread's database connection */
    struct auth *auth;         /* the server's; NULL in a request built by a test */
    void *conn;                /* private to mhd.c */
};

struct resp {
    int status;
    struct kv hdr[24];
    size_t n_hdr;
    struct buf body;
    int fd;                    /* when >= 0: the body is fd's bytes [fd_off, fd_off + fd_len) */
    uint64_t fd_off;
    uint64_t fd_len;
};

/*
 * The words of a refused multipart upload (BODY_UPLOAD_TOO_LARGE,
 * BODY_BAD_MULTIPART, BODY_TOO_MANY_PARTS, BODY_NO_UPLOADS,
 * BODY_UPLOADS_BUSY, BODY_UPLOAD_NO_SPACE): the status
 * and the refusal's parts, `presented` newly allocated. False when the
 * request has no such problem.
 */
struct upload_refusal {
    int status;
    int retry_after_s;         /* > 0: a Retry-After header */
    const char *error;
    char *presented;
    const char *fix;
};
bool http_upload_refusal(const struct req *req, struct upload_refusal *ret);

/* Path segment i, or NULL past the end. */
static inline const char *
req_seg(const struct req *req, size_t i)
{
    return req->n_seg > i ? req->seg[i] : NULL;
}

/* True when path segment i exists and equals s. */
static inline bool
req_seg_is(const struct req *req, size_t i, const char *s)
{
    return req->n_seg > i && strcmp(req->seg[i], s) == 0;
}

/* GET or HEAD. */
static inline bool
req_is_get(const struct req *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

/* Returns a request header (case-insensitive name), or NULL. */
const char *req_header(const struct req *req, const char *name);
/* Returns a cookie's value, or NULL. */
const char *req_cookie(const struct req *req, const char *name);
/* Returns the first query or form field of that name, or NULL. */
const char *req_param(const struct req *req, const char *name);
/* Returns how many times a field was given. */
size_t req_param_count(const struct req *req, const char *name);
/* True when the client prefers HTML (a browser): Accept lists text/html. */
bool req_wants_html(const struct req *req);
/* The request's own root URL ("http://host:port/") in a newly allocated string. */
char *req_root_url(const struct req *req);

/* Sets (adds) a response header; both strings are copied. */
void resp_header(struct resp *resp, const char *name, const char *value);
/*
 * Sets status, Content-Type and body in one go. A body past
 * HTTP_MAX_ANSWER_BYTES becomes a 503 that says so.
 */
void resp_set(struct resp *resp, int status, const char *content_type, const char *body,
              size_t len);
/* The 503 resp_set() gives a body past HTTP_MAX_ANSWER_BYTES, for a body written in place. */
void resp_too_large(struct resp *resp);

/*
 * Deferred answers. A handler that must wait for another thread (a trigger
 * waiting for its group commit) calls req_defer() and returns without
 * filling its resp; the connection is parked, and no HTTP thread waits.
 * Later, from any thread, http_finish() says the answer is ready, exactly
 * once: that thread (the core loop, which every trigger waits for) only
 * hands over `userdata` and wakes the connection, and make() fills the
 * empty `resp` on the HTTP thread that sends it. When the client has gone
 * first, make() gets NULL for req and resp, and only frees userdata. It
 * runs exactly once either way.
 */
struct http_deferred;
struct http_deferred *req_defer(struct req *req);
typedef void (*http_make_fn)(void *userdata, struct req *req, struct resp *resp);
void http_finish(struct http_deferred *d, http_make_fn make, void *userdata);
/* An empty answer (200, no headers), for a deferred one. */
void resp_init(struct resp *resp);
void resp_release(struct resp *resp);

typedef void (*http_handler_fn)(void *userdata, struct req *req, struct resp *resp);

/*
 * One client address may hold this many connections at once (serve
 * --connections-per-address); one that sends nothing for
 * HTTP_IDLE_TIMEOUT_S seconds, in its headers or between requests, is
 * closed. So slow clients cannot take every connection from the others.
 */
#define HTTP_CONNECTIONS_PER_ADDRESS 64
/*
 * Connections open at once, all addresses together (libmicrohttpd's own
 * default): past it, new ones wait in the listening socket's backlog.
 */
#define HTTP_MAX_CONNECTIONS 1020

/* The largest body one answer holds in memory; past it resp_set() answers 503. */
#define HTTP_MAX_ANSWER_BYTES (64 * 1024 * 1024)
#define HTTP_MAX_ANSWER_TEXT "64 MiB"
#define HTTP_IDLE_TIMEOUT_S 30

struct http_opts {
    int listen_fd;            /* from http_bind */
    int port;
    int threads;
    unsigned per_address;     /* 0: no limit */
    bool tls;                 /* HTTPS with the certificate of http/tls.h */
    const struct cidr *trusted;  /* proxies whose X-Forwarded-For is believed */
    size_t n_trusted;
    const char *db_path;      /* each worker thread opens its own connection */
    struct auth *auth;
    const char *session_cookie;
    /*
     * multipart/form-data bodies of trigger URLs (.../build,
     * .../buildWithParameters, .../buildNow) are taken up to `max_upload`
     * bytes of files, written into `upload_dir` as they come. NULL: refused.
     * Such a body is read only once the handler, given the headers alone
     * (req->preflight), lets it come; all requests together have at most
     * BOUND_UPLOAD_IN_FLIGHT x max_upload bytes in flight, and an upload
     * must leave BOUND_UPLOAD_FREE_MIB free on upload_dir's file system.
     */
    const char *upload_dir;
    uint64_t max_upload;
    http_handler_fn handler;
    void *userdata;
    /* called once, from an HTTP thread, when the first answer has gone out (NULL: none) */
    void (*on_first_answer)(void *data);
    void *first_answer_data;
};

struct http;

/*
 * Binds a listening socket to "ADDR:PORT" (PORT may be 0: any free port).
 * Returns 0 with the socket and the port bound, -EINVAL for a bad address,
 * -errno (-EADDRINUSE...).
 */
int http_bind(const char *listen_addr, int *ret_fd, int *ret_port);

/* Starts serving on a socket from http_bind (which it then owns). -EIO. */
int http_start(const struct http_opts *opts, struct http **ret_http);
/* The port actually bound (useful with port 0). */
int http_port(const struct http *h);
/* Stops accepting connections; the open ones are still served. */
void http_quiesce(struct http *h);
void http_stop(struct http *h);
