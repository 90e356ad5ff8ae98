/* SPDX-License-Identifier: MIT */
/* h2o_trig PORT DBFILE LOOPS: libh2o-evloop (2.2.5), LOOPS event-loop
 * threads (one SO_REUSEPORT listener each); a trigger request is parked
 * (its h2o_req_t* kept) while the engine thread group-commits, then the
 * engine posts the batch to the owning loop with h2o_multithread_send_message
 * and the loop thread sends each 201. */
#define H2O_USE_LIBUV 0
#include "engine.h"
#include <arpa/inet.h>
#include <errno.h>
#include <h2o.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#define MAXLOOPS 8

typedef struct {
    h2o_context_t ctx; /* first: req->conn->ctx is a loopctx* */
    h2o_accept_ctx_t actx;
    h2o_multithread_queue_t *q;
    h2o_multithread_receiver_t recv;
    int lfd;
} loopctx;

typedef struct {
    h2o_multithread_message_t super;
    item *batch;
} batchmsg;

static int g_port, g_nloops;
static h2o_globalconf_t g_conf;
static loopctx g_loops[MAXLOOPS];

/* engine thread: split the batch by loop, one message per loop */
static void deliver(item *batch)
{
    item *per[MAXLOOPS] = {0};
    for (item *it = batch, *nx; it; it = nx) {
        nx = it->next;
        loopctx *l = it->owner;
        it->next = per[l - g_loops];
        per[l - g_loops] = it;
    }
    for (int i = 0; i < g_nloops; i++) {
        if (!per[i]) continue;
        batchmsg *m = calloc(1, sizeof *m);
        m->batch = per[i];
        h2o_multithread_send_message(&g_loops[i].recv, &m->super);
    }
}

/* loop thread: answer every parked request of the batch */
static void on_batch(h2o_multithread_receiver_t *r, h2o_linklist_t *msgs)
{
    (void)r;
    while (!h2o_linklist_is_empty(msgs)) {
        batchmsg *m = H2O_STRUCT_FROM_MEMBER(batchmsg, super.link, msgs->next);
        h2o_linklist_unlink(&m->super.link);
        for (item *it = m->batch, *nx; it; it = nx) {
            nx = it->next; /* it lives in req->pool: read next before sending */
            h2o_req_t *req = it->conn;
            char *loc = h2o_mem_alloc_pool(&req->pool, 80);
            int n = snprintf(loc, 80, "http://127.0.0.1:%d/queue/item/%lld/", g_port, it->id);
            req->res.status = 201;
            req->res.reason = "Created";
            req->res.content_length = 0;
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, loc, n);
#ifdef SEND_INLINE
            h2o_send_inline(req, "", 0); /* first version: see REPORT (extra EPOLLOUT round trip) */
#else
            static h2o_generator_t gen = {NULL, NULL};
            h2o_start_response(req, &gen);
            h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL); /* no zero-length iovec */
#endif
        }
        free(m);
    }
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    item *it = h2o_mem_alloc_pool(&req->pool, sizeof *it);
    if (!parse_trigger(req->path.base, req->path.len, it)) return -1; /* -> 404 */
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        h2o_send_error_405(req, "Method Not Allowed", "", 0);
        return 0;
    }
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0 || !auth_ok(req->headers.entries[i].value.base, req->headers.entries[i].value.len)) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Basic realm=\"steward\""));
        h2o_send_error_generic(req, 401, "Unauthorized", "", H2O_SEND_ERROR_KEEP_HEADERS);
        return 0;
    }
    it->conn = req;
    it->owner = req->conn->ctx; /* == the loopctx */
    engine_submit(it);
    return 0; /* parked: answered later from on_batch */
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err) return;
    loopctx *l = listener->data;
    for (int k = 0; k < 16; k++) {
        h2o_socket_t *s = h2o_evloop_socket_accept(listener);
        if (!s) return;
        h2o_accept(&l->actx, s);
    }
}

static int make_listener(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(g_port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    if (bind(fd, (void *)&sa, sizeof sa) != 0 || listen(fd, 1024) != 0) {
        perror("bind/listen");
        exit(1);
    }
    return fd;
}

static void *loop_main(void *arg)
{
    loopctx *l = arg;
    h2o_context_init(&l->ctx, h2o_evloop_create(), &g_conf);
    l->actx.ctx = &l->ctx;
    l->actx.hosts = g_conf.hosts;
    l->q = h2o_multithread_create_queue(l->ctx.loop);
    h2o_multithread_register_receiver(l->q, &l->recv, on_batch);
    h2o_socket_t *ls = h2o_evloop_socket_create(l->ctx.loop, l->lfd, H2O_SOCKET_FLAG_DONT_READ);
    ls->data = l;
    h2o_socket_read_start(ls, on_accept);
    while (h2o_evloop_run(l->ctx.loop, INT32_MAX) == 0)
        ;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) { fprintf(stderr, "usage: h2o_trig PORT DBFILE LOOPS\n"); return 2; }
    g_port = atoi(argv[1]);
    g_nloops = atoi(argv[3]);
    if (g_nloops < 1 || g_nloops > MAXLOOPS) return 2;
    signal(SIGPIPE, SIG_IGN);
    auth_init();
    engine_start(argv[2], deliver);

    h2o_config_init(&g_conf);
    h2o_hostconf_t *host = h2o_config_register_host(&g_conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/job/", 0);
    h2o_handler_t *h = h2o_create_handler(pc, sizeof *h);
    h->on_req = on_req;

    /* all listeners bound before any loop runs, so the first answer
     * can come from any of them */
    for (int i = 0; i < g_nloops; i++) g_loops[i].lfd = make_listener();
    pthread_t t;
    for (int i = 1; i < g_nloops; i++) pthread_create(&t, NULL, loop_main, &g_loops[i]);
    fprintf(stderr, "h2o_trig listening on 127.0.0.1:%d loops=%d\n", g_port, g_nloops);
    loop_main(&g_loops[0]);
    return 0;
}
