/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/client.h"
#include "cli/urls.h"
#include "util/macro.h"
#include "util/strutil.h"

/* answers kept in memory (a whole consoleText goes to a sink instead) */
#define BODY_MAX_BYTES (64 * 1024 * 1024)
#define CONNECT_TIMEOUT_MS 10000
/* a server that sends nothing for this long is given up on */
#define STALL_SECONDS 60L

volatile sig_atomic_t client_interrupted;

struct client {
    CURL *curl;
    char *base;
    char *user;
    char *secret;
    bool verbose;
    bool crumb_wanted;  /* fetch a crumb before the first POST */
    bool crumb_fetched;
    char *crumb_header; /* "Jenkins-Crumb: ..." or NULL */
    char *extra_header; /* client_set_header(), or NULL */
    curl_mime *mime;    /* the next POST's multipart body (client_post_multipart()), or NULL */
    int64_t deadline;
    struct http_resp *cur; /* the answer being received */
    char errbuf[CURL_ERROR_SIZE];
};

/*
 * libcurl is loaded when a client command starts, not linked: the server
 * shares this binary and never makes a request, and linking would map
 * libcurl and its tree (OpenSSL, Kerberos, LDAP, SSH, RTMP, ...) into
 * every server at every start, about 3 MB and 19 shared libraries. The
 * headers still give the types and constants; the calls go through this
 * table, filled once by client_global_init().
 */
#define LIBCURL_SONAME "libcurl.so.4"

static struct {
    CURLcode (*global_init)(long flags);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *h);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
    curl_mime *(*mime_init)(CURL *h);
    curl_mimepart *(*mime_addpart)(curl_mime *mime);
    CURLcode (*mime_name)(curl_mimepart *part, const char *name);
    CURLcode (*mime_data)(curl_mimepart *part, const char *data, size_t size);
    CURLcode (*mime_filedata)(curl_mimepart *part, const char *path);
    void (*mime_free)(curl_mime *mime);
} curl;

static char load_error[256];

static int
load_libcurl(void)
{
    static const struct {
        const char *name;
        size_t offset;
    } syms[] = {
#define SYM(field) { "curl_" #field, offsetof(__typeof__(curl), field) }
        SYM(global_init), SYM(global_cleanup), SYM(easy_init), SYM(easy_setopt),
        SYM(easy_perform), SYM(easy_getinfo), SYM(easy_cleanup), SYM(easy_strerror),
        SYM(slist_append), SYM(slist_free_all), SYM(mime_init), SYM(mime_addpart),
        SYM(mime_name), SYM(mime_data), SYM(mime_filedata), SYM(mime_free),
#undef SYM
    };
    void *lib;

    if (curl.global_init)
        return 0;
    lib = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_error, sizeof load_error, "%s", dlerror());
        return -ENOENT;
    }
    for (size_t i = 0; i < ELEMENTSOF(syms); i++) {
        void *fn = dlsym(lib, syms[i].name);

        if (!fn) {
            snprintf(load_error, sizeof load_error, "%s has no %s", LIBCURL_SONAME,
                     syms[i].name);
            /* nothing was filled in that a later call could trust */
            curl = (__typeof__(curl)){ 0 };
            (void) dlclose(lib);
            return -ENOENT;
        }
        memcpy((char *) &curl + syms[i].offset, &fn, sizeof fn);
    }
    /*
     * Never dlclose()d: libcurl's TLS library may have registered exit
     * handlers that must still find their code when the process ends.
     */
    return 0;
}

int
client_global_init(void)
{
    int r = load_libcurl();

    if (r < 0)
        return r;
    return curl.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

const char *
client_load_error(void)
{
    return load_error;
}

void
client_global_cleanup(void)
{
    if (curl.global_cleanup)
        curl.global_cleanup();
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata);
static size_t on_header(char *line, size_t size, size_t n, void *userdata);
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow);

/* What stays the same for every request; the handle keeps its connection and cookies. */
static void
setup_handle(struct client *c)
{
    CURL *h = c->curl;

    curl.easy_setopt(h, CURLOPT_USERAGENT, "steward/" STEWARD_VERSION);
    curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl.easy_setopt(h, CURLOPT_COOKIEFILE, ""); /* the cookie engine, in memory */
    curl.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS);
    curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl.easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl.easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    if (c->user && c->secret) {
        /* preemptive Basic: Jenkins answers 403, not a challenge, to anonymous requests */
        curl.easy_setopt(h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl.easy_setopt(h, CURLOPT_USERNAME, c->user);
        curl.easy_setopt(h, CURLOPT_PASSWORD, c->secret);
    }
}

int
client_new(const struct client_config *cfg, struct client **ret)
{
    struct client *c = calloc(1, sizeof *c);

    if (!c)
        return -ENOMEM;
    c->curl = curl.easy_init();
    c->base = strdup(cfg->base_url);
    c->user = cfg->user ? strdup(cfg->user) : NULL;
    c->secret = cfg->secret ? strdup(cfg->secret) : NULL;
    c->verbose = cfg->verbose;
    if (!c->curl || !c->base || (cfg->user && !c->user) || (cfg->secret && !c->secret)) {
        client_free(c);
        return -ENOMEM;
    }
    setup_handle(c);
    if (cfg->cacert)
        curl.easy_setopt(c->curl, CURLOPT_CAINFO, cfg->cacert);
    c->crumb_wanted = c->secret && !urls_is_api_token_shaped(c->secret) &&
                      !urls_is_legacy_token_shaped(c->secret);
    *ret = c;
    return 0;
}

struct client *
client_free(struct client *c)
{
    if (!c)
        return NULL;
    if (c->curl)
        curl.easy_cleanup(c->curl);
    if (c->secret) {
        explicit_bzero(c->secret, strlen(c->secret));
        free(c->secret);
    }
    free(c->crumb_header);
    free(c->extra_header);
    free(c->user);
    free(c->base);
    free(c);
    return NULL;
}

void
client_set_deadline(struct client *c, int64_t deadline_mono_ms)
{
    c->deadline = deadline_mono_ms;
}

const char *
client_base(const struct client *c)
{
    return c->base;
}

void
http_resp_release(struct http_resp *r)
{
    FILE *sink = r->sink;

    buf_release(&r->body);
    free(r->location);
    free(r->x_error);
    free(r->content_type);
    free(r->www_authenticate);
    free(r->ignored_params);
    *r = (struct http_resp){ .sink = sink };
}

bool
http_resp_is_json(const struct http_resp *r)
{
    return r->content_type && strncasecmp(r->content_type, "application/json", 16) == 0;
}

/* ---- libcurl callbacks ---- */

static size_t
on_body(char *data, size_t size, size_t n, void *userdata)
{
    struct client *c = userdata;
    struct http_resp *r = c->cur;
    size_t len = size * n;
    long status = 0;

    (void) curl.easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (r->sink && status >= 200 && status < 300) {
        if (fwrite(data, 1, len, r->sink) != len)
            return 0;
        r->sunk += len;
        return len;
    }
    if (r->body.max == 0)
        buf_init(&r->body, BODY_MAX_BYTES);
    return buf_append(&r->body, data, len) < 0 ? 0 : len;
}

static char *
header_value(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    const char *v, *end = line + len;

    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    v = line + n + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    return strndup(v, (size_t) (end - v));
}

static void
set_header(char **slot, char *value)
{
    if (!value)
        return;
    free(*slot);
    *slot = value;
}

static size_t
on_header(char *line, size_t size, size_t n, void *userdata)
{
    struct client *c = userdata;
    struct http_resp *r = c->cur;
    size_t len = size * n;
    char *v;

    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new answer (after a 100 Continue): forget the headers so far */
        FILE *sink = r->sink;
        http_resp_release(r);
        r->sink = sink;
        return len;
    }
    set_header(&r->location, header_value(line, len, "Location"));
    set_header(&r->x_error, header_value(line, len, "X-Error"));
    set_header(&r->content_type, header_value(line, len, "Content-Type"));
    set_header(&r->www_authenticate, header_value(line, len, "WWW-Authenticate"));
    set_header(&r->ignored_params, header_value(line, len, "X-Steward-Ignored-Parameters"));
    v = header_value(line, len, "X-Steward-Dry-Run");
    if (v) {
        r->dry_run = streq(v, "1");
        free(v);
    }
    v = header_value(line, len, "X-Steward");
    if (v) {
        r->steward = true;
        free(v);
    }
    v = header_value(line, len, "X-Steward-Merged");
    if (v) {
        r->merged = strcasecmp(v, "true") == 0;
        free(v);
    }
    v = header_value(line, len, "X-Text-Size");
    if (v) {
        r->has_text_size = parse_int64(v, 0, INT64_MAX, &r->text_size) == 0;
        free(v);
    }
    v = header_value(line, len, "X-More-Data");
    if (v) {
        r->more_data = strcasecmp(v, "true") == 0;
        free(v);
    }
    return len;
}

static int
on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
            curl_off_t ulnow)
{
    (void) userdata;
    (void) dltotal;
    (void) dlnow;
    (void) ultotal;
    (void) ulnow;
    return client_interrupted ? 1 : 0;
}

/* ---- requests ---- */

static int
map_error(CURLcode code, struct http_resp *r, const char *curl_err)
{
    const char *why = curl_err && *curl_err ? curl_err : curl.easy_strerror(code);

    snprintf(r->err, sizeof r->err, "%s", why);
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return -ECONNREFUSED;
    case CURLE_ABORTED_BY_CALLBACK:
        snprintf(r->err, sizeof r->err, "interrupted");
        return -EINTR;
    case CURLE_WRITE_ERROR:
        if (r->body.len >= BODY_MAX_BYTES - 1024 * 1024) {
            snprintf(r->err, sizeof r->err, "the answer is larger than %d bytes", BODY_MAX_BYTES);
            return -E2BIG;
        }
        return -EIO;
    default:
        return -EIO;
    }
}

static char *
full_url(const struct client *c, const char *path)
{
    char *u;

    if (startswith(path, "http://") || startswith(path, "https://"))
        return strdup(path);
    if (asprintf(&u, "%s%s", c->base, path) < 0)
        return NULL;
    return u;
}

static int
perform(struct client *c, const char *path, const char *form, bool post, struct http_resp *r)
{
    char *errbuf = c->errbuf;
    struct curl_slist *headers = NULL;
    _cleanup_free_ char *url = full_url(c, path);
    CURL *h = c->curl;
    CURLcode code;
    int64_t left = 0;

    http_resp_release(r);
    if (!url) {
        snprintf(r->err, sizeof r->err, "out of memory");
        return -ENOMEM;
    }
    if (client_interrupted) {
        snprintf(r->err, sizeof r->err, "interrupted");
        return -EINTR;
    }
    if (c->deadline) {
        left = c->deadline - mono_ms();
        if (left <= 0) {
            snprintf(r->err, sizeof r->err, "the time given with --timeout ran out");
            return -ETIMEDOUT;
        }
    }

    c->errbuf[0] = '\0';
    curl.easy_setopt(h, CURLOPT_URL, url);
    curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) (left ? MIN(left, CONNECT_TIMEOUT_MS) : CONNECT_TIMEOUT_MS));
    curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) left);
    headers = curl.slist_append(headers, "Accept: application/json, text/plain;q=0.9, */*;q=0.5");
    headers = curl.slist_append(headers, "Expect:");
    if (post && c->mime) {
        curl.easy_setopt(h, CURLOPT_MIMEPOST, c->mime);
        if (c->crumb_header)
            headers = curl.slist_append(headers, c->crumb_header);
    } else if (post) {
        curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) (form ? strlen(form) : 0));
        curl.easy_setopt(h, CURLOPT_POSTFIELDS, form ? form : "");
        if (c->crumb_header)
            headers = curl.slist_append(headers, c->crumb_header);
    } else
        curl.easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (c->extra_header)
        headers = curl.slist_append(headers, c->extra_header);
    curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    if (c->verbose) {
        /* a trigger token may sit in the query: not shown */
        const char *t = strstr(url, "token=");
        int shown = (int) (t ? t - url + 6 : (long) strlen(url));
        fprintf(stderr, "> %s %.*s%s\n", post ? "POST" : "GET", shown, url, t ? "..." : "");
    }
    c->cur = r;
    code = curl.easy_perform(h);
    c->cur = NULL;
    (void) curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl.easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    if (post && c->mime)
        curl.easy_setopt(h, CURLOPT_MIMEPOST, NULL);
    curl.slist_free_all(headers);
    if (code != CURLE_OK) {
        if (c->verbose)
            fprintf(stderr, "< error: %s\n", errbuf[0] ? errbuf : curl.easy_strerror(code));
        /* the deadline cut a transfer short: that is our timeout, not the server's */
        if (code == CURLE_OPERATION_TIMEDOUT && c->deadline && mono_ms() >= c->deadline) {
            snprintf(r->err, sizeof r->err, "the time given with --timeout ran out");
            return -ETIMEDOUT;
        }
        return map_error(code, r, errbuf);
    }
    if (c->verbose)
        fprintf(stderr, "< %ld%s%s\n", r->status, r->x_error ? " " : "",
                r->x_error ? r->x_error : "");
    return 0;
}

int
client_set_header(struct client *c, const char *header)
{
    char *copy = header ? strdup(header) : NULL;

    if (header && !copy)
        return -ENOMEM;
    free(c->extra_header);
    c->extra_header = copy;
    return 0;
}

int
client_get(struct client *c, const char *path, struct http_resp *resp)
{
    return perform(c, path, NULL, false, resp);
}

int
client_post_multipart(struct client *c, const char *path, const char *const *fields,
                      size_t n_fields, const char *const *files, size_t n_files,
                      struct http_resp *resp)
{
    curl_mime *mime = curl.mime_init(c->curl);
    bool ok = mime != NULL;
    int r;

    for (size_t i = 0; ok && i < n_fields; i++) {
        curl_mimepart *part = curl.mime_addpart(mime);
        ok = part && curl.mime_name(part, fields[2 * i]) == CURLE_OK &&
             curl.mime_data(part, fields[2 * i + 1], CURL_ZERO_TERMINATED) == CURLE_OK;
    }
    for (size_t i = 0; ok && i < n_files; i++) {
        curl_mimepart *part = curl.mime_addpart(mime);
        /* the file name sent is the path's last component, as curl -F sends it */
        ok = part && curl.mime_name(part, files[2 * i]) == CURLE_OK &&
             curl.mime_filedata(part, files[2 * i + 1]) == CURLE_OK;
    }
    if (!ok) {
        if (mime)
            curl.mime_free(mime);
        http_resp_release(resp);
        snprintf(resp->err, sizeof resp->err, "out of memory");
        return -ENOMEM;
    }
    /* the crumb first, as client_post() fetches it: the mime body goes with the POST */
    c->mime = mime;
    r = client_post(c, path, NULL, resp);
    c->mime = NULL;
    curl.mime_free(mime);
    return r;
}

/* GET /crumbIssuer/api/json; no crumb issuer (404) means none is needed. */
static int
fetch_crumb(struct client *c)
{
    struct http_resp r = { 0 };
    json_t *j = NULL, *field, *crumb;
    int ret;

    c->crumb_fetched = true;
    ret = perform(c, "crumbIssuer/api/json", NULL, false, &r);
    if (ret < 0) {
        http_resp_release(&r);
        return ret;
    }
    if (r.status == 200)
        j = json_loadb(buf_str(&r.body), r.body.len, 0, NULL);
    field = json_object_get(j, "crumbRequestField");
    crumb = json_object_get(j, "crumb");
    if (json_is_string(field) && json_is_string(crumb)) {
        free(c->crumb_header);
        if (asprintf(&c->crumb_header, "%s: %s", json_string_value(field),
                     json_string_value(crumb)) < 0)
            c->crumb_header = NULL;
    }
    json_decref(j);
    http_resp_release(&r);
    return 0;
}

static bool
asks_for_crumb(const struct http_resp *r)
{
    return r->status == 403 && ((r->x_error && strcasestr(r->x_error, "crumb")) ||
                                (r->body.len && strcasestr(buf_str(&r->body), "crumb")));
}

int
client_post(struct client *c, const char *path, const char *form, struct http_resp *resp)
{
    int r;

    if (c->crumb_wanted && !c->crumb_fetched) {
        r = fetch_crumb(c);
        if (r < 0) {
            http_resp_release(resp);
            snprintf(resp->err, sizeof resp->err, "fetching a CSRF crumb failed");
            return r;
        }
    }
    r = perform(c, path, form, true, resp);
    if (r == 0 && asks_for_crumb(resp) && !c->crumb_header && fetch_crumb(c) == 0 &&
        c->crumb_header)
        r = perform(c, path, form, true, resp);
    return r;
}
