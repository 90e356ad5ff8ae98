/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd with the daemon of src/http/mhd.c (flags, pool, memory,
 * timeout and per-address limits), answering every request with nginx's
 * static 201 + Location. Built twice:
 *
 *   mhd_static   answers in the access handler;
 *   mhd_suspend  (-DFLOOR_SUSPEND) defers each request as Steward does
 *                (req_defer / http_finish): the handler puts it in the
 *                commit thread's inbox, parks the connection with
 *                MHD_suspend_connection, and the commit thread resumes it
 *                after the batch's transaction; the answer, with the row's
 *                id in Location, goes out on the resumed call.
 */
#include <errno.h>
#include <microhttpd.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floor.h"

#ifndef FLOOR_SUSPEND
#define FLOOR_SUSPEND 0
#endif

/* as src/util/bounds.h and src/http/http.h */
#define BOUND_HEADER_BYTES (16 * 1024)
#define HTTP_IDLE_TIMEOUT_S 30
#define HTTP_CONNECTIONS_PER_ADDRESS 64

/* the parked half of a request, as struct http_deferred in src/http/mhd.c */
struct deferred {
    pthread_mutex_t lock;
    struct MHD_Connection *conn;
    bool suspended;
    bool finished;
    bool abandoned;   /* the connection ended first: the finisher frees this */
    struct floor_item item;
};

struct reqctx {
    struct deferred *deferred;
};

static struct floor_committer *committer;

static enum MHD_Result
send_201(struct MHD_Connection *conn, const char *location)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Location", location);
    MHD_add_response_header(r, "Content-Type", "text/plain");
    ret = MHD_queue_response(conn, MHD_HTTP_CREATED, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES)
        __atomic_add_fetch(&floor_answers, 1, __ATOMIC_RELAXED);
    return ret;
}

static void
deferred_free(struct deferred *d)
{
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static enum MHD_Result
send_deferred(struct MHD_Connection *conn, struct reqctx *ctx)
{
    struct deferred *d = ctx->deferred;
    char location[96];
    enum MHD_Result ret;

    if (d->item.result < 0) {
        ret = MHD_NO;
    } else {
        snprintf(location, sizeof location, "http://127.0.0.1/queue/item/%lld/", (long long) d->item.id);
        ret = send_201(conn, location);
    }
    ctx->deferred = NULL;
    deferred_free(d);
    return ret;
}

/* on the commit thread, after the batch's COMMIT: http_finish() for each request */
static void
on_committed(struct floor_item *list, void *userdata)
{
    (void) userdata;
    for (struct floor_item *it = list, *next; it; it = next) {
        struct deferred *d = it->owner;
        struct MHD_Connection *conn = d->conn;
        bool suspended;

        next = it->next;
        pthread_mutex_lock(&d->lock);
        if (d->abandoned) {
            pthread_mutex_unlock(&d->lock);
            deferred_free(d);
            continue;
        }
        d->finished = true;
        suspended = d->suspended;
        pthread_mutex_unlock(&d->lock);
        /* after the unlock: once resumed, the HTTP thread answers and frees d */
        if (suspended)
            MHD_resume_connection(conn);
    }
}

static enum MHD_Result
dispatch(struct MHD_Connection *conn, struct reqctx *ctx, const char *url)
{
    struct deferred *d;
    const char *n;

    if (!FLOOR_SUSPEND)
        return send_201(conn, FLOOR_LOCATION);
    d = calloc(1, sizeof *d);
    if (!d)
        return MHD_NO;
    pthread_mutex_init(&d->lock, NULL);
    d->conn = conn;
    d->item.owner = d;
    n = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "N");
    snprintf(d->item.target, sizeof d->item.target, "%s?N=%s", url, n ? n : "");
    ctx->deferred = d;
    floor_committer_push(committer, &d->item, &d->item);
    /* the answer may come before the connection is parked: the lock orders the two */
    pthread_mutex_lock(&d->lock);
    if (d->finished) {
        pthread_mutex_unlock(&d->lock);
        return send_deferred(conn, ctx);
    }
    MHD_suspend_connection(conn);
    d->suspended = true;
    pthread_mutex_unlock(&d->lock);
    return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct reqctx *ctx = *con_cls;

    (void) cls;
    (void) method;
    (void) version;
    (void) upload_data;
    if (ctx && ctx->deferred) {
        /* called again after the commit thread resumed the connection */
        if (!ctx->deferred->finished)
            return MHD_YES;
        return send_deferred(conn, ctx);
    }
    if (!ctx) {
        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
            return MHD_NO;
        *con_cls = ctx;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(conn, ctx, url);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct reqctx *ctx = *con_cls;

    (void) cls;
    (void) conn;
    (void) toe;
    if (!ctx)
        return;
    if (ctx->deferred) {
        struct deferred *d = ctx->deferred;
        bool finished;

        pthread_mutex_lock(&d->lock);
        finished = d->finished;
        if (!finished)
            d->abandoned = true;
        pthread_mutex_unlock(&d->lock);
        if (finished)
            deferred_free(d);
    }
    free(ctx);
    *con_cls = NULL;
}

static size_t
noop_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void) cls;
    (void) c;
    return strlen(s);
}

int
main(int argc, char **argv)
{
    struct floor_opts o;
    struct MHD_Daemon *d;
    int fd;

    floor_parse_args(argc, argv, FLOOR_SUSPEND ? "PORT --db FILE [--threads N] [--nosync]" : "PORT [--threads N]", &o);
    if (FLOOR_SUSPEND && !o.db) {
        fprintf(stderr, "%s: --db FILE is needed\n", argv[0]);
        return 2;
    }
    /* as src/daemon/main.c: as many malloc arenas as CPUs, at least two */
    (void) mallopt(M_ARENA_MAX, 2);
    floor_block_signals();
    if (FLOOR_SUSPEND)
        committer = floor_committer_start(o.db, o.nosync, on_committed, NULL);
    /* as http_bind(): non-blocking, backlog 1024 */
    fd = floor_listen(o.port, true);
    /* src/http/mhd.c's http_start() without TLS; serve's default pool is --threads 8 */
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME, 0,
                         NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) (o.threads > 0 ? o.threads : 8),
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (BOUND_HEADER_BYTES + 16 * 1024),
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) HTTP_IDLE_TIMEOUT_S,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) HTTP_CONNECTIONS_PER_ADDRESS,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK,
                         noop_unescape, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "%s: MHD_start_daemon failed\n", argv[0]);
        return 1;
    }
    floor_wait_and_exit(FLOOR_SUSPEND ? "mhd_suspend" : "mhd_static");
    return 0;
}
