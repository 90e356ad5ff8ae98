/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/metrics.h"
#include "http/app.h"
#include "http/http.h"
#include "http/parse.h"
#include "http/tls.h"
#include "util/bounds.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/net.h"
#include "util/secret.h"
#include "util/strutil.h"

/* One client address's open connections (see on_accept()). */
struct addr_count {
    uint32_t addr;          /* IPv4, network order */
    unsigned n;
};

struct http {
    struct MHD_Daemon **d;  /* one a thread, each with its own listening socket */
    MHD_socket *listen_fd;  /* d[i]'s; [0] is http_bind()'s; closed by http_stop */
    unsigned n_d;
    struct http_opts opts;
    pthread_key_t db_key;
    pthread_key_t spare_key;  /* a worker's ended requests' contexts (struct spares) */
    int port;
    int deferred_pending;   /* atomic: answers not given yet */
    bool answered;          /* atomic: the first answer went out (opts.on_first_answer) */
    uint64_t uploading;     /* atomic: upload bytes reserved by requests in flight */
    bool quiesced;
    pthread_mutex_t addr_lock;
    struct addr_count *addrs;  /* under addr_lock: the addresses with connections open */
    size_t n_addrs;
};

struct http_deferred {
    pthread_mutex_t lock;
    struct MHD_Connection *conn;
    bool suspended;         /* the connection is parked */
    bool finished;          /* make() may make the answer */
    bool abandoned;         /* the connection ended first: the finisher frees this */
    http_make_fn make;      /* makes it, from make_data */
    void *make_data;
};

/* A multipart body being read (see "uploads" below). */
struct upload {
    struct MHD_PostProcessor *pp;
    bool on;                 /* the body is multipart/form-data, read part by part */
    bool in_part;
    bool in_file;
    char *key;               /* the current part's name */
    struct buf value;        /* a field's value so far */
    int fd;                  /* a file's temporary file */
    struct secret_hasher *hash;
    size_t n_parts;
    size_t field_bytes;      /* of every field together */
    uint64_t file_bytes;     /* of every file together */
    uint64_t reserved;       /* of struct http's `uploading`, given back when the request ends */
    uint64_t *uploading;     /* that counter, once something is reserved */
};

struct reqctx {
    struct req req;
    bool body_over;
    bool prepared;           /* path, query and identity are known (see prepare()) */
    struct http *h;
    struct http_deferred *deferred;
    struct upload up;
};

/* ---- struct req helpers ---- */

const char *
req_header(const struct req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
req_cookie(const struct req *req, const char *name)
{
    return req->conn ? MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name) : NULL;
}

const char *
req_param(const struct req *req, const char *name)
{
    for (size_t i = 0; i < req->n_params; i++)
        if (streq(req->params[i].key, name))
            return req->params[i].value;
    return NULL;
}

size_t
req_param_count(const struct req *req, const char *name)
{
    size_t n = 0;

    for (size_t i = 0; i < req->n_params; i++)
        if (streq(req->params[i].key, name))
            n++;
    return n;
}

bool
req_wants_html(const struct req *req)
{
    const char *a = req_header(req, "Accept");

    return a && strstr(a, "text/html") != NULL;
}

/* A Host fit to paste into a URL, a header and a JSON string: printable ASCII (IDNs come as punycode). */
static bool
host_is_plain(const char *host)
{
    for (const char *p = host; *p; p++)
        if (*p < '!' || *p > '~' || strchr("/\"<>\\", *p))
            return false;
    return *host && strlen(host) <= 255;
}

char *
req_root_url(const struct req *req)
{
    const char *host = req_header(req, "Host");
    char *s;

    if (!host || !host_is_plain(host))
        host = "127.0.0.1";
    if (asprintf(&s, "%s://%s/", req->tls ? "https" : "http", host) < 0)
        return NULL;
    return s;
}

void
resp_header(struct resp *resp, const char *name, const char *value)
{
    if (resp->n_hdr >= ELEMENTSOF(resp->hdr))
        return;
    resp->hdr[resp->n_hdr].key = strdup(name);
    resp->hdr[resp->n_hdr].value = strdup(value);
    resp->n_hdr++;
}

void
resp_too_large(struct resp *resp)
{
    static const char too_big[] = "The answer is larger than Steward sends at once "
                                  "(" HTTP_MAX_ANSWER_TEXT "). Ask for less: tree= with "
                                  "fewer fields, or a smaller depth=.\n";

    /* never an empty 200 */
    buf_clear(&resp->body);
    resp->status = 503;
    resp_header(resp, "Content-Type", "text/plain;charset=UTF-8");
    resp_header(resp, "X-Error", "The answer is too large");
    (void) buf_append(&resp->body, too_big, sizeof too_big - 1);
}

void
resp_set(struct resp *resp, int status, const char *content_type, const char *body, size_t len)
{
    resp->status = status;
    if (content_type)
        resp_header(resp, "Content-Type", content_type);
    buf_clear(&resp->body);
    if (body && buf_append(&resp->body, body, len) < 0)
        resp_too_large(resp);
}

void
resp_init(struct resp *resp)
{
    *resp = (struct resp){ .status = 200, .fd = -1 };
    buf_init(&resp->body, HTTP_MAX_ANSWER_BYTES);
}

void
resp_release(struct resp *resp)
{
    for (size_t i = 0; i < resp->n_hdr; i++) {
        free(resp->hdr[i].key);
        free(resp->hdr[i].value);
    }
    buf_release(&resp->body);
    if (resp->fd >= 0)
        close(resp->fd);
    resp->n_hdr = 0;
    resp->fd = -1;
}

/* ---- parsing (http/parse.c) ---- */

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct req *req = cls;
    int r;

    (void) kind;
    r = http_add_param(req, key, strlen(key), value, value ? strlen(value) : 0);
    if (r < 0) {
        req->body_problem = r == -E2BIG ? BODY_TOO_MANY_FIELDS : BODY_BAD_FORM;
        return MHD_NO;
    }
    return MHD_YES;
}

/* ---- identity ---- */

static struct store *
thread_db(struct http *h)
{
    struct store *s = pthread_getspecific(h->db_key);

    if (!s) {
        if (store_open(h->opts.db_path, &s) < 0)
            return NULL;
        pthread_setspecific(h->db_key, s);
    }
    return s;
}

static void
db_destructor(void *p)
{
    store_close(p);
}

/*
 * A request's context is over a kilobyte (the identity with its token's
 * limits): a malloc() that size makes glibc consolidate its fast bins, at
 * every request. Each worker keeps the contexts of its ended requests for
 * its next ones instead, up to as many as it has requests in flight
 * (parked triggers included).
 */
#define SPARE_CONTEXTS 16

struct spares {
    size_t n;
    struct reqctx *ctx[SPARE_CONTEXTS];
};

static void
spares_free(void *p)
{
    struct spares *sp = p;

    for (size_t i = 0; sp && i < sp->n; i++)
        free(sp->ctx[i]);
    free(sp);
}

static struct reqctx *
reqctx_new(struct http *h)
{
    struct spares *sp = pthread_getspecific(h->spare_key);
    struct reqctx *ctx;

    if (!sp || sp->n == 0)
        return calloc(1, sizeof *ctx);
    ctx = sp->ctx[--sp->n];
    return ctx;   /* zeroed when it was kept */
}

static void upload_release(struct upload *up);

/* Frees a request's context, or keeps it for the thread's next request. */
static void
reqctx_free(struct http *h, struct reqctx *ctx)
{
    struct spares *sp = pthread_getspecific(h->spare_key);

    upload_release(&ctx->up);
    http_req_release(&ctx->req);
    if (!sp && (sp = calloc(1, sizeof *sp)) && pthread_setspecific(h->spare_key, sp) != 0)
        sp = mfree(sp);
    if (sp && sp->n < SPARE_CONTEXTS) {
        /* nothing of the request (its session id, say) stays behind */
        memset(ctx, 0, sizeof *ctx);
        sp->ctx[sp->n++] = ctx;
        return;
    }
    free(ctx);
}

static void
resolve_identity(struct http *h, struct req *req)
{
    const char *authz = req_header(req, "Authorization");
    _cleanup_free_ char *user = NULL, *secret = NULL;
    const char *cookie;
    int r;

    identity_anonymous(&req->id);
    if (authz && (r = http_parse_basic(authz, &user, &secret)) != -ENOENT) {
        req->basic_given = true;
        if (r < 0) {
            req->basic_failed = true;
            req->basic_failure = AUTH_FAIL_NO_SUCH_USER;
            metrics_count_auth_failure(METRIC_AUTH_MALFORMED);
            return;
        }
        snprintf(req->basic_user, sizeof req->basic_user, "%s", user);
        req->basic_secret_is_api_token_shape = auth_looks_like_api_token(secret);
        if (auth_basic(h->opts.auth, req->db, user, secret, req->addr, &req->id,
                       &req->basic_failure) < 0) {
            req->basic_failed = true;
            identity_anonymous(&req->id);
            /* a throttled attempt was not checked: it is not a failed login */
            if (req->basic_failure != AUTH_FAIL_THROTTLED)
                app_audit(req, "login-failed", NULL, "as '%.64s' with HTTP Basic (%s)",
                          req->basic_user,
                          req->basic_secret_is_api_token_shape ? "a token" : "a password");
        }
        secret_wipe(secret, strlen(secret));
        return;
    }
    cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, h->opts.session_cookie);
    if (cookie && strlen(cookie) == 64) {
        snprintf(req->session_id, sizeof req->session_id, "%s", cookie);
        if (auth_session_get(h->opts.auth, req->db, cookie, &req->id) < 0) {
            identity_anonymous(&req->id);
            req->session_id[0] = '\0';
        }
    }
}

/* ---- MHD glue ---- */

static enum MHD_Result
sum_kv(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    size_t *total = cls;

    (void) kind;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* The request line and headers against BOUND_HEADER_BYTES, the URL against BOUND_URL_BYTES. */
static enum body_problem
check_request_size(struct MHD_Connection *conn, const char *url, const char *method)
{
    size_t headers = strlen(method) + strlen(url) + 16, query = 0;

    MHD_get_connection_values(conn, MHD_HEADER_KIND, sum_kv, &headers);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, sum_kv, &query);
    if (strlen(url) + query > BOUND_URL_BYTES)
        return URL_TOO_LONG;
    if (headers + query > BOUND_HEADER_BYTES)
        return HEADERS_TOO_LARGE;
    return BODY_OK;
}

static size_t
noop_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void) cls;
    (void) c;
    return strlen(s);
}

static bool
trusted(const struct http *h, const char *addr)
{
    for (size_t i = 0; i < h->opts.n_trusted; i++)
        if (cidr_contains(&h->opts.trusted[i], addr))
            return true;
    return false;
}

/*
 * The client's address: the TCP peer's, or, when the peer is a trusted
 * proxy (serve --trusted-proxy), the rightmost address of X-Forwarded-For
 * that is not a trusted proxy's (the ones to its left could be the
 * client's own inventions).
 */
static void
set_addr(const struct http *h, struct req *req, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    struct cidr probe;
    const char *xff;
    char hop[64];

    snprintf(req->addr, sizeof req->addr, "unknown");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, req->addr,
                  sizeof req->addr);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, req->addr,
                  sizeof req->addr);
    if (!h->opts.n_trusted || !trusted(h, req->addr))
        return;
    xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
    for (size_t end = xff ? strlen(xff) : 0; end > 0;) {
        size_t start = end, len, comma;

        while (start > 0 && xff[start - 1] != ',')
            start--;
        comma = start > 0 ? start - 1 : 0;
        while (start < end && xff[start] == ' ')
            start++;
        len = end;
        while (len > start && xff[len - 1] == ' ')
            len--;
        len -= start;
        end = comma;
        if (len == 0 || len >= sizeof hop)
            return;
        memcpy(hop, xff + start, len);
        hop[len] = '\0';
        if (strchr(hop, '/') || cidr_parse(hop, &probe) < 0)
            return;   /* not an address: keep what is known */
        snprintf(req->addr, sizeof req->addr, "%s", hop);
        if (!trusted(h, hop))
            return;
    }
}

/*
 * One large answer's memory, kept for the next answer of any worker.
 * Memory a process never wrote to costs a page fault per 4 KiB page at its
 * first write, tens of microseconds each on these machines, and glibc
 * gives each of its arenas memory of its own: at 10,000 jobs, /api/json
 * (1.3 MB) paid about 350 faults in each of the first answers after a
 * start, until every arena had grown once. A request starts its answer in
 * this buffer when it is free, and the answer gives it back once sent: at
 * most one buffer, of at most WARM_BODY_MAX bytes, is kept.
 */
#define WARM_BODY_MIN ((size_t) 256 << 10)
#define WARM_BODY_MAX ((size_t) 16 << 20)

static char *warm_body;

/* Keeps p (from malloc) as the warm buffer when it is large and none is kept, else frees it. */
static void
warm_body_put(void *p)
{
    size_t size = p ? malloc_usable_size(p) : 0;
    char *none = NULL;

    if (size < WARM_BODY_MIN || size > WARM_BODY_MAX ||
        !__atomic_compare_exchange_n(&warm_body, &none, p, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        free(p);
}

/* An answer's body starts in the warm buffer, when one is kept. */
static void
warm_body_take(struct buf *body)
{
    char *p = __atomic_exchange_n(&warm_body, NULL, __ATOMIC_ACQ_REL);

    if (p)
        buf_take_memory(body, p, malloc_usable_size(p));
}

/* What is left of an answer's body goes back to the warm buffer (or is freed). */
static void
warm_body_give_back(struct resp *resp)
{
    if (resp->body.ptr)
        warm_body_put(buf_detach(&resp->body));
}

static enum MHD_Result
send_resp(const struct http *h, struct MHD_Connection *conn, struct resp *resp)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (resp->fd >= 0) {
        r = MHD_create_response_from_fd_at_offset64(resp->fd_len, resp->fd, resp->fd_off);
        if (r)
            resp->fd = -1; /* MHD owns it now */
    } else {
        size_t len = resp->body.len;
        char *body = buf_detach(&resp->body);
        r = body ? MHD_create_response_from_buffer_with_free_callback(len, body, warm_body_put)
                 : NULL;
        if (!r)
            warm_body_put(body);
    }
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "X-Jenkins", HTTP_JENKINS_VERSION);
    MHD_add_response_header(r, "X-Steward", STEWARD_VERSION);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    /* browsers that saw Steward over TLS do not come back over plain HTTP */
    if (h->opts.tls)
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    for (size_t i = 0; i < resp->n_hdr; i++)
        MHD_add_response_header(r, resp->hdr[i].key, resp->hdr[i].value);
    ret = MHD_queue_response(conn, (unsigned int) resp->status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES)
        metrics_count_http(resp->status);
    return ret;
}

struct http_deferred *
req_defer(struct req *req)
{
    struct reqctx *ctx = (struct reqctx *) req; /* req is the first member */
    struct http_deferred *d = calloc(1, sizeof *d);

    if (!d)
        return NULL;
    pthread_mutex_init(&d->lock, NULL);
    d->conn = req->conn;
    ctx->deferred = d;
    __atomic_add_fetch(&ctx->h->deferred_pending, 1, __ATOMIC_SEQ_CST);
    return d;
}

/*
 * The answer may come before or after the handler's thread parks the
 * connection; the lock orders the two, so that a resume never precedes
 * its suspend.
 */
void
http_finish(struct http_deferred *d, http_make_fn make, void *make_data)
{
    struct MHD_Connection *conn = d->conn;
    bool suspended;

    pthread_mutex_lock(&d->lock);
    if (d->abandoned) {
        pthread_mutex_unlock(&d->lock);
        make(make_data, NULL, NULL);
        pthread_mutex_destroy(&d->lock);
        free(d);
        return;
    }
    d->make = make;
    d->make_data = make_data;
    d->finished = true;
    suspended = d->suspended;
    pthread_mutex_unlock(&d->lock);
    /* after the unlock: once resumed, the HTTP thread sends the answer and frees d */
    if (suspended)
        MHD_resume_connection(conn);
}

/* A finished answer that will not be sent: what make() holds is freed. */
static void
drop_answer(struct http_deferred *d)
{
    d->make(d->make_data, NULL, NULL);
    d->make = NULL;
}

static enum MHD_Result
send_deferred(struct http *h, struct MHD_Connection *conn, struct reqctx *ctx)
{
    struct http_deferred *d = ctx->deferred;
    struct resp resp;
    enum MHD_Result ret;

    resp_init(&resp);
    d->make(d->make_data, &ctx->req, &resp);
    d->make = NULL;
    ret = send_resp(h, conn, &resp);
    resp_release(&resp);
    ctx->deferred = NULL;
    pthread_mutex_destroy(&d->lock);
    free(d);
    __atomic_sub_fetch(&h->deferred_pending, 1, __ATOMIC_SEQ_CST);
    return ret;
}

/*
 * The path, the query and who the caller is: once per request, at its
 * headers for an upload (so that the handler can judge it before its
 * body comes), else when it is dispatched.
 */
static void
prepare(struct http *h, struct MHD_Connection *conn, struct reqctx *ctx, const char *url)
{
    struct req *req = &ctx->req;

    if (ctx->prepared)
        return;
    ctx->prepared = true;
    req->db = thread_db(h);
    req->auth = h->opts.auth;
    if (http_split_path(req, url) < 0 && req->body_problem == BODY_OK)
        req->body_problem = BODY_BAD_FORM;
    if (req->body_problem == BODY_OK)
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, req);
    req->n_query = req->n_params;
    if (req->db)
        resolve_identity(h, req);
}

static enum MHD_Result
dispatch(struct http *h, struct MHD_Connection *conn, struct reqctx *ctx, const char *url)
{
    struct req *req = &ctx->req;
    struct resp resp = { .status = 200, .fd = -1 };
    const char *ct;
    enum MHD_Result ret;

    buf_init(&resp.body, HTTP_MAX_ANSWER_BYTES);
    warm_body_take(&resp.body);
    prepare(h, conn, ctx, url);
    ct = req_header(req, "Content-Type");
    if (req->body_problem == BODY_OK && req->is_post && ct &&
        strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
        int r = http_parse_form(req, buf_str(&req->body), req->body.len);
        if (r < 0)
            req->body_problem = r == -E2BIG ? BODY_TOO_MANY_FIELDS : BODY_BAD_FORM;
    }
    if (!req->db) {
        resp_set(&resp, 503, "text/plain;charset=UTF-8",
                 "The database cannot be opened right now.\n", 41);
    } else
        h->opts.handler(h->opts.userdata, req, &resp);
    /* uploaded files the handler did not take go before the answer does */
    for (size_t i = 0; i < req->n_files; i++)
        if (req->files[i].path) {
            (void) unlink(req->files[i].path);
            req->files[i].path = mfree(req->files[i].path);
        }
    if (ctx->deferred) {
        struct http_deferred *d = ctx->deferred;
        warm_body_give_back(&resp);
        resp_release(&resp);
        pthread_mutex_lock(&d->lock);
        if (d->finished) {
            pthread_mutex_unlock(&d->lock);
            return send_deferred(h, conn, ctx);
        }
        MHD_suspend_connection(conn);
        d->suspended = true;
        pthread_mutex_unlock(&d->lock);
        return MHD_YES;
    }
    ret = send_resp(h, conn, &resp);
    warm_body_give_back(&resp);
    resp_release(&resp);
    return ret;
}

/* ---- uploads: multipart/form-data on the trigger URLs ---- */

/*
 * A trigger's file parameters come as multipart/form-data (curl -F,
 * python-jenkins' files=, the web form). The body is read part by part by
 * MHD's post processor: fields become request parameters as a form's do,
 * files go to temporary files in the upload directory as they arrive, so
 * that an upload of --max-upload bytes never sits in memory. Only the
 * trigger URLs take such a body, and every size is bounded: the files
 * together (max_upload), the fields together (BOUND_BODY_BYTES), the parts
 * (BOUND_UPLOAD_PARTS, of which BOUND_UPLOAD_FILES files).
 */

static bool
takes_uploads(const char *url)
{
    const char *last = strrchr(url, '/');

    last = last ? last + 1 : url;
    if (!*last && last - url >= 2) {
        /* a trailing slash: the segment before it */
        const char *p = last - 1;
        while (p > url && p[-1] != '/')
            p--;
        return strncmp(p, "build/", 6) == 0 || strncmp(p, "buildWithParameters/", 20) == 0 ||
               strncmp(p, "buildNow/", 9) == 0;
    }
    return streq(last, "build") || streq(last, "buildWithParameters") || streq(last, "buildNow");
}

static void
upload_release(struct upload *up)
{
    if (up->pp)
        (void) MHD_destroy_post_processor(up->pp);
    up->pp = NULL;
    if (up->in_file && up->fd >= 0)
        close(up->fd);
    up->fd = -1;
    up->hash = secret_hasher_free(up->hash);
    if (up->uploading && up->reserved)
        __atomic_sub_fetch(up->uploading, up->reserved, __ATOMIC_SEQ_CST);
    up->reserved = 0;
    up->uploading = NULL;
    free(up->key);
    up->key = NULL;
    buf_release(&up->value);
    up->in_part = up->in_file = false;
}

static void
upload_fail(struct reqctx *ctx, enum body_problem why)
{
    if (ctx->req.body_problem == BODY_OK)
        ctx->req.body_problem = why;
}

/*
 * Grows the request's share of the server's upload bytes in flight to
 * `total`; false (nothing changed) when that would pass
 * BOUND_UPLOAD_IN_FLIGHT times --max-upload. Given back when the request
 * ends (upload_release).
 */
static bool
upload_reserve(struct reqctx *ctx, uint64_t total)
{
    struct http *h = ctx->h;
    uint64_t more, bound = h->opts.max_upload * BOUND_UPLOAD_IN_FLIGHT;

    if (total <= ctx->up.reserved)
        return true;
    more = total - ctx->up.reserved;
    if (__atomic_add_fetch(&h->uploading, more, __ATOMIC_SEQ_CST) > bound) {
        __atomic_sub_fetch(&h->uploading, more, __ATOMIC_SEQ_CST);
        return false;
    }
    ctx->up.reserved = total;
    ctx->up.uploading = &h->uploading;
    return true;
}

/* Ends the current part: a field becomes a parameter, a file is complete. */
static int
end_part(struct reqctx *ctx)
{
    struct upload *up = &ctx->up;
    struct req *req = &ctx->req;
    int r = 0;

    if (!up->in_part)
        return 0;
    if (up->in_file) {
        struct req_file *f = &req->files[req->n_files - 1];

        if (close(up->fd) < 0)
            r = -errno;
        up->fd = -1;
        secret_hasher_final_hex(up->hash, f->sha256);
        up->hash = NULL;
        if (r < 0)
            upload_fail(ctx, BODY_BAD_MULTIPART);
        /* a browser's file input left empty: no file at all */
        if (r >= 0 && f->size == 0 && !f->filename[0]) {
            (void) unlink(f->path);
            free(f->path);
            free(f->field);
            free(f->filename);
            req->n_files--;
        }
    } else {
        r = http_add_param(req, up->key, strlen(up->key), buf_str(&up->value), up->value.len);
        if (r < 0)
            upload_fail(ctx, r == -E2BIG ? BODY_TOO_MANY_FIELDS : BODY_BAD_FORM);
        buf_clear(&up->value);
    }
    up->key = mfree(up->key);
    up->in_part = up->in_file = false;
    return r;
}

static int
start_part(struct reqctx *ctx, const char *key, const char *filename)
{
    struct upload *up = &ctx->up;
    struct req *req = &ctx->req;
    struct req_file *files, *f;
    _cleanup_free_ char *path = NULL;

    if (++up->n_parts > BOUND_UPLOAD_PARTS ||
        (filename && req->n_files >= BOUND_UPLOAD_FILES)) {
        upload_fail(ctx, BODY_TOO_MANY_PARTS);
        return -E2BIG;
    }
    up->key = strdup(key ? key : "");
    if (!up->key)
        return -ENOMEM;
    up->in_part = true;
    if (!filename)
        return 0;
    files = realloc(req->files, (req->n_files + 1) * sizeof *files);
    if (!files)
        return -ENOMEM;
    req->files = files;
    if (asprintf(&path, "%s/.part-XXXXXX", ctx->h->opts.upload_dir) < 0)
        return -ENOMEM;
    up->fd = mkostemp(path, O_CLOEXEC);
    if (up->fd < 0) {
        log_warn("uploads: cannot make a file in %s: %s", ctx->h->opts.upload_dir,
                 strerror(errno));
        return -errno;
    }
    up->hash = secret_hasher_new();
    f = &req->files[req->n_files++];
    *f = (struct req_file){ .field = strdup(up->key),
                            .filename = strndup(filename, BOUND_UPLOAD_NAME_BYTES),
                            .path = TAKE_PTR(path) };
    up->in_file = true;
    return f->field && f->filename && up->hash ? 0 : -ENOMEM;
}

static enum MHD_Result
on_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
        const char *content_type, const char *transfer_encoding, const char *data, uint64_t off,
        size_t size)
{
    struct reqctx *ctx = cls;
    struct upload *up = &ctx->up;

    (void) kind;
    (void) content_type;
    (void) transfer_encoding;
    if (ctx->req.body_problem != BODY_OK)
        return MHD_NO;
    /* a new part: the first piece of a value, or another name */
    if (!up->in_part || off == 0 || !streq(up->key, key ? key : "") ||
        up->in_file != (filename != NULL)) {
        if (end_part(ctx) < 0 || start_part(ctx, key, filename) < 0) {
            upload_fail(ctx, BODY_BAD_MULTIPART);
            return MHD_NO;
        }
    }
    if (up->in_file) {
        struct req_file *f = &ctx->req.files[ctx->req.n_files - 1];

        up->file_bytes += size;
        if (up->file_bytes > ctx->req.max_upload) {
            upload_fail(ctx, BODY_UPLOAD_TOO_LARGE);
            return MHD_NO;
        }
        /* a body without Content-Length (chunked) reserves as it comes */
        if (!upload_reserve(ctx, up->file_bytes)) {
            upload_fail(ctx, BODY_UPLOADS_BUSY);
            return MHD_NO;
        }
        if (fs_write_all(up->fd, data, size) < 0) {
            log_warn("uploads: cannot write to %s: %s", f->path, strerror(errno));
            upload_fail(ctx, BODY_UPLOAD_TOO_LARGE);
            return MHD_NO;
        }
        secret_hasher_update(up->hash, data, size);
        f->size += size;
        return MHD_YES;
    }
    up->field_bytes += size;
    if (up->field_bytes > BOUND_BODY_BYTES || buf_append(&up->value, data, size) < 0) {
        upload_fail(ctx, BODY_TOO_LARGE);
        return MHD_NO;
    }
    return MHD_YES;
}

/* At the first call of a POST: whether its body is multipart, and whether it may be. */
static void
upload_begin(struct reqctx *ctx, struct MHD_Connection *conn, const char *url)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    struct http *h = ctx->h;

    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return;
    ctx->up.on = true;
    ctx->up.fd = -1;
    buf_init(&ctx->up.value, BOUND_BODY_BYTES + 1);
    ctx->req.max_upload = h->opts.max_upload;
    if (!h->opts.upload_dir || !takes_uploads(url)) {
        upload_fail(ctx, BODY_NO_UPLOADS);
        return;
    }
    if (cl && strtoull(cl, NULL, 10) > h->opts.max_upload + BOUND_BODY_BYTES) {
        upload_fail(ctx, BODY_UPLOAD_TOO_LARGE);
        return;
    }
    ctx->up.pp = MHD_create_post_processor(conn, 16 * 1024, on_part, ctx);
    if (!ctx->up.pp)
        upload_fail(ctx, BODY_BAD_MULTIPART);
}

/*
 * An upload's headers, before a byte of its body is read or written. The
 * handler says first whether the caller may send it at all (who they are,
 * the job, the permission: see req->preflight), so that nobody fills the
 * disk with uploads to a job they may not trigger; then whether the server
 * has room for it: its share of the uploads in flight, and free space on
 * the upload directory's file system for the whole body and a margin. A
 * refusal is answered at once, and the body is never read (a client that
 * sent Expect: 100-continue does not even send it).
 */
static enum MHD_Result
upload_preflight(struct http *h, struct MHD_Connection *conn, struct reqctx *ctx,
                 const char *url)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    struct req *req = &ctx->req;
    struct resp resp = { .status = 100, .fd = -1 };
    uint64_t length = 0;
    struct statvfs sv;
    enum MHD_Result ret;

    if (req->body_problem != BODY_OK)
        return MHD_YES;   /* answered once the body has gone by */
    prepare(h, conn, ctx, url);
    if (!req->db || req->body_problem != BODY_OK)
        return dispatch(h, conn, ctx, url);
    buf_init(&resp.body, HTTP_MAX_ANSWER_BYTES);
    req->preflight = true;
    h->opts.handler(h->opts.userdata, req, &resp);
    req->preflight = false;
    assert(!ctx->deferred);
    if (resp.status != 100) {
        ret = send_resp(h, conn, &resp);
        resp_release(&resp);
        return ret;
    }
    resp_release(&resp);

    if (cl)
        length = strtoull(cl, NULL, 10);
    if (statvfs(h->opts.upload_dir, &sv) == 0 &&
        (uint64_t) sv.f_bavail * sv.f_frsize < length + ((uint64_t) BOUND_UPLOAD_FREE_MIB << 20)) {
        log_warn("uploads: refused %llu bytes: %llu bytes free in %s",
                 (unsigned long long) length,
                 (unsigned long long) sv.f_bavail * sv.f_frsize, h->opts.upload_dir);
        req->body_problem = BODY_UPLOAD_NO_SPACE;
    } else if (!upload_reserve(ctx, MIN(length, h->opts.max_upload)))
        req->body_problem = BODY_UPLOADS_BUSY;
    if (req->body_problem != BODY_OK)
        return dispatch(h, conn, ctx, url);
    return MHD_YES;
}

/* The body has ended: the last part, and whether the whole was well formed. */
static void
upload_end(struct reqctx *ctx)
{
    struct upload *up = &ctx->up;

    if (ctx->req.body_problem == BODY_OK && end_part(ctx) < 0)
        upload_fail(ctx, BODY_BAD_MULTIPART);
    if (up->pp && MHD_destroy_post_processor(up->pp) != MHD_YES)
        upload_fail(ctx, BODY_BAD_MULTIPART);
    up->pp = NULL;
    /* a body without a single part is no form either */
    if (ctx->req.body_problem == BODY_OK && up->n_parts == 0)
        upload_fail(ctx, BODY_BAD_MULTIPART);
    /* a refused upload leaves no file behind */
    if (ctx->req.body_problem != BODY_OK) {
        upload_release(up);
        for (size_t i = 0; i < ctx->req.n_files; i++)
            if (ctx->req.files[i].path) {
                (void) unlink(ctx->req.files[i].path);
                ctx->req.files[i].path = mfree(ctx->req.files[i].path);
            }
    }
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct http *h = cls;
    struct reqctx *ctx = *con_cls;

    (void) version;
    if (ctx && ctx->deferred) {
        /* called again after http_finish resumed the connection */
        if (!ctx->deferred->finished)
            return MHD_YES;
        return send_deferred(h, conn, ctx);
    }
    if (!ctx) {
        const char *cl;

        ctx = reqctx_new(h);
        if (!ctx)
            return MHD_NO;
        ctx->h = h;
        ctx->req.conn = conn;
        ctx->req.method = method;
        ctx->req.raw_path = url;
        ctx->req.is_post = streq(method, "POST");
        ctx->req.tls = h->opts.tls;
        buf_init(&ctx->req.body, BOUND_BODY_BYTES);
        set_addr(h, &ctx->req, conn);
        *con_cls = ctx;
        ctx->req.body_problem = check_request_size(conn, url, method);
        if (ctx->req.body_problem != BODY_OK)
            return dispatch(h, conn, ctx, url);
        if (ctx->req.is_post)
            upload_begin(ctx, conn, url);
        if (ctx->up.on) {
            /* refused before a byte is read: answered at once, the rest of the body dropped */
            if (ctx->req.body_problem == BODY_UPLOAD_TOO_LARGE ||
                ctx->req.body_problem == BODY_NO_UPLOADS)
                return dispatch(h, conn, ctx, url);
            return upload_preflight(h, conn, ctx, url);
        }
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > BOUND_BODY_BYTES) {
            /* refuse before reading a byte of it */
            ctx->req.body_problem = BODY_TOO_LARGE;
            return dispatch(h, conn, ctx, url);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0 && ctx->up.on) {
        if (ctx->up.pp && ctx->req.body_problem == BODY_OK &&
            MHD_post_process(ctx->up.pp, upload_data, *upload_data_size) != MHD_YES)
            upload_fail(ctx, BODY_BAD_MULTIPART);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (ctx->up.on)
        upload_end(ctx);
    if (*upload_data_size > 0) {
        if (!ctx->body_over && buf_append(&ctx->req.body, upload_data, *upload_data_size) < 0) {
            ctx->body_over = true;
            ctx->req.body_problem = BODY_TOO_LARGE;
            buf_release(&ctx->req.body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(h, conn, ctx, url);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct reqctx *ctx = *con_cls;
    struct http *h = cls;

    (void) conn;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && h->opts.on_first_answer &&
        !__atomic_load_n(&h->answered, __ATOMIC_RELAXED) &&
        !__atomic_exchange_n(&h->answered, true, __ATOMIC_ACQ_REL))
        h->opts.on_first_answer(h->opts.first_answer_data);
    if (!ctx)
        return;
    if (ctx->deferred) {
        /* closed before its answer was sent: free it only if no one will finish it */
        struct http_deferred *d = ctx->deferred;
        bool finished;

        pthread_mutex_lock(&d->lock);
        finished = d->finished;
        /* the finisher never reads the request: only `d` waits for it, and it frees that */
        if (!finished)
            d->abandoned = true;
        pthread_mutex_unlock(&d->lock);
        __atomic_sub_fetch(&ctx->h->deferred_pending, 1, __ATOMIC_SEQ_CST);
        ctx->deferred = NULL;
        if (finished) {
            drop_answer(d);
            pthread_mutex_destroy(&d->lock);
            free(d);
        }
    }
    reqctx_free(ctx->h, ctx);
    *con_cls = NULL;
}

static int
parse_listen(const char *listen, struct sockaddr_in *sa)
{
    _cleanup_free_ char *host = strdup(listen);
    char *colon;
    int64_t port;

    if (!host)
        return -ENOMEM;
    colon = strrchr(host, ':');
    if (!colon)
        return -EINVAL;
    *colon = '\0';
    if (parse_int64(colon + 1, 0, 65535, &port) < 0)
        return -EINVAL;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t) port);
    if (streq(host, "localhost"))
        snprintf(host, strlen(host) + 1, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return -EINVAL;
    return 0;
}

/* A listening socket on `sa` that other sockets of this server can join (SO_REUSEPORT). */
static int
listen_shared(const struct sockaddr_in *sa)
{
    int fd, one = 1;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, (const struct sockaddr *) sa, sizeof *sa) < 0 || listen(fd, 1024) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    return fd;
}

/*
 * Each HTTP thread accepts its own connections from a listening socket of
 * its own, all bound to the one port with SO_REUSEPORT: the kernel spreads
 * new connections among them. Sockets of another process could join them
 * the same way, so the port is first bound without SO_REUSEPORT, which
 * fails if anything listens there already (another server started on the
 * same port is refused, as it was with one socket).
 */
int
http_bind(const char *listen_addr, int *ret_fd, int *ret_port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd, one = 1, r;

    r = parse_listen(listen_addr, &sa);
    if (r < 0)
        return r;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
        getsockname(fd, (struct sockaddr *) &sa, &len) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    close(fd);
    fd = listen_shared(&sa);
    if (fd < 0)
        return fd;
    *ret_fd = fd;
    *ret_port = ntohs(sa.sin_port);
    return 0;
}

/*
 * The per-address limit (--connections-per-address) counts over every
 * thread, so it is Steward's, not libmicrohttpd's (which counts per
 * daemon). A connection counts from its start to its end; a new one is
 * refused when its address has the limit open. Two threads accepting the
 * same address at the same instant may both pass: one connection a
 * thread over the limit at most, and only while they arrive together.
 */
static struct addr_count *
addr_find(struct http *h, uint32_t addr)
{
    for (size_t i = 0; i < h->n_addrs; i++)
        if (h->addrs[i].addr == addr)
            return &h->addrs[i];
    return NULL;
}

static bool
addr_of(const struct sockaddr *sa, socklen_t len, uint32_t *ret)
{
    if (!sa || len < (socklen_t) sizeof(struct sockaddr_in) || sa->sa_family != AF_INET)
        return false;
    *ret = ((const struct sockaddr_in *) sa)->sin_addr.s_addr;
    return true;
}

static enum MHD_Result
on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
    struct http *h = cls;
    struct addr_count *c;
    uint32_t addr;
    bool ok = true;

    if (!h->opts.per_address || !addr_of(sa, len, &addr))
        return MHD_YES;
    pthread_mutex_lock(&h->addr_lock);
    c = addr_find(h, addr);
    if (c && c->n >= h->opts.per_address)
        ok = false;
    pthread_mutex_unlock(&h->addr_lock);
    return ok ? MHD_YES : MHD_NO;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    struct http *h = cls;
    const union MHD_ConnectionInfo *ci;
    struct addr_count *c = NULL;
    uint32_t addr;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = NULL;
    else if (toe != MHD_CONNECTION_NOTIFY_CLOSED || !*socket_context)
        return;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!h->opts.per_address || !ci ||
        !addr_of(ci->client_addr, sizeof(struct sockaddr_in), &addr))
        return;
    pthread_mutex_lock(&h->addr_lock);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        c = addr_find(h, addr);
        if (!c && h->n_addrs < HTTP_MAX_CONNECTIONS) {
            c = &h->addrs[h->n_addrs++];
            *c = (struct addr_count){ .addr = addr };
        }
        if (c) {
            c->n++;
            /* counted: its end is uncounted */
            *socket_context = h;
        }
    } else {
        c = addr_find(h, addr);
        if (c && --c->n == 0)
            *c = h->addrs[--h->n_addrs];
        *socket_context = NULL;
    }
    pthread_mutex_unlock(&h->addr_lock);
}

static void
http_free(struct http *h)
{
    for (unsigned i = 0; i < h->n_d; i++)
        if (h->d[i])
            MHD_stop_daemon(h->d[i]);
    /* [0] is the caller's until http_start() succeeds */
    for (unsigned i = 1; i < h->n_d; i++)
        if (h->listen_fd[i] >= 0)
            close(h->listen_fd[i]);
    pthread_key_delete(h->db_key);
    pthread_key_delete(h->spare_key);
    pthread_mutex_destroy(&h->addr_lock);
    free(h->addrs);
    free(h->listen_fd);
    free(h->d);
    free(h);
}

/*
 * One libmicrohttpd daemon a thread, each accepting from its own socket
 * (http_bind()): no thread hands connections to another. A single
 * accepting thread that gave each to a worker of libmicrohttpd's pool cost
 * a wake-up of that thread and a hand-off per connection; a pool with the
 * listening socket in every worker's poll() woke all of them for each.
 */
int
http_start(const struct http_opts *opts, struct http **ret_http)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    struct http *h;
    unsigned n = (unsigned) (opts->threads > 0 ? opts->threads : 4);
    int r = 0;

    h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->opts = *opts;
    h->port = opts->port;
    pthread_key_create(&h->db_key, db_destructor);
    pthread_key_create(&h->spare_key, spares_free);
    pthread_mutex_init(&h->addr_lock, NULL);
    h->d = calloc(n, sizeof *h->d);
    h->listen_fd = calloc(n, sizeof *h->listen_fd);
    h->addrs = calloc(HTTP_MAX_CONNECTIONS, sizeof *h->addrs);
    if (!h->d || !h->listen_fd || !h->addrs) {
        http_free(h);
        return -ENOMEM;
    }
    h->n_d = n;
    for (unsigned i = 0; i < n; i++)
        h->listen_fd[i] = -1;
    h->listen_fd[0] = opts->listen_fd;
    if (getsockname(opts->listen_fd, (struct sockaddr *) &sa, &len) < 0)
        r = -errno;
    for (unsigned i = 1; r >= 0 && i < n; i++) {
        h->listen_fd[i] = listen_shared(&sa);
        if (h->listen_fd[i] < 0)
            r = h->listen_fd[i];
    }
    /* poll(), not epoll: see docs/ARCHITECTURE.md (a quiesce race in libmicrohttpd 0.9.75) */
    /* with TLS the certificate comes from tls.c at each handshake, so that SIGHUP renews it */
    struct MHD_OptionItem tls_opts[] = {
        { MHD_OPTION_HTTPS_CERT_CALLBACK, 0, tls_cert_callback() },
        { MHD_OPTION_END, 0, NULL },
    };
    for (unsigned i = 0; r >= 0 && i < n; i++) {
        h->d[i] = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
                (opts->tls ? MHD_USE_TLS : 0), 0, on_accept, h,
            on_request, h, MHD_OPTION_ARRAY, opts->tls ? tls_opts : tls_opts + 1,
            MHD_OPTION_LISTEN_SOCKET, (MHD_socket) h->listen_fd[i],
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (BOUND_HEADER_BYTES + 16 * 1024),
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) HTTP_IDLE_TIMEOUT_S,
            /* past it a thread leaves new connections in its socket's backlog */
            MHD_OPTION_CONNECTION_LIMIT, (unsigned int) (HTTP_MAX_CONNECTIONS / n ? HTTP_MAX_CONNECTIONS / n : 1),
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
            MHD_OPTION_UNESCAPE_CALLBACK, noop_unescape, h, MHD_OPTION_END);
        if (!h->d[i])
            r = -EIO;
    }
    if (r < 0) {
        http_free(h);
        return r;
    }
    *ret_http = h;
    return 0;
}

int
http_port(const struct http *h)
{
    return h->port;
}

void
http_quiesce(struct http *h)
{
    if (!h || h->quiesced)
        return;
    __atomic_store_n(&h->quiesced, true, __ATOMIC_RELEASE);
    /* a listening socket that is shut down refuses new connections instead of queueing them */
    for (unsigned i = 0; i < h->n_d; i++)
        if (MHD_quiesce_daemon(h->d[i]) != MHD_INVALID_SOCKET)
            (void) shutdown(h->listen_fd[i], SHUT_RDWR);
}

void
http_stop(struct http *h)
{
    if (!h)
        return;
    /* no new connections; parked ones get their answers first (bounded wait) */
    http_quiesce(h);
    for (int i = 0; i < 1000 && __atomic_load_n(&h->deferred_pending, __ATOMIC_SEQ_CST) > 0; i++)
        usleep(10 * 1000);
    for (unsigned i = 0; i < h->n_d; i++) {
        MHD_stop_daemon(h->d[i]);
        h->d[i] = NULL;
    }
    free(__atomic_exchange_n(&warm_body, NULL, __ATOMIC_ACQ_REL));
    close(h->listen_fd[0]);
    /* the workers freed theirs as they ended; this thread may have closed connections too */
    spares_free(pthread_getspecific(h->spare_key));
    pthread_setspecific(h->spare_key, NULL);
    http_free(h);
}
