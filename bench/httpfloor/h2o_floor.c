/* SPDX-License-Identifier: MIT */
/*
 * libh2o-evloop (Debian's 2.2.5), HTTP/1.1 without TLS, one event loop per
 * thread (--threads N, default 1, as nginx's one worker), all accepting on
 * one listening socket. Built twice:
 *
 *   h2o_static  answers nginx's static 201 + Location in the handler;
 *   h2o_commit  (-DFLOOR_COMMIT) keeps each request until its row is
 *               committed. A loop gathers the requests of one turn (a
 *               zero timeout fires once the turn's ready sockets have been
 *               served), then either hands the batch to one commit thread
 *               through its inbox (the default), which sends the committed
 *               batch back to the loop as one message, or with --inline
 *               commits it itself on its own database connection (one loop
 *               at a time) and answers at once.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <h2o.h>

#include "floor.h"

#ifndef FLOOR_COMMIT
#define FLOOR_COMMIT 0
#endif

#define MAX_LOOPS 64

struct loop {
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    pthread_t thread;
    /* this turn's requests */
    struct floor_item *head, *tail;
    h2o_timeout_entry_t turn_end;
    /* committed batches come back here (commit thread) */
    h2o_multithread_receiver_t receiver;
    /* or are committed here (--inline) */
    struct floor_db *db;
};

/* the committed part of a batch that belongs to one loop */
struct answers {
    h2o_multithread_message_t super;
    struct floor_item *list;
};

/* lives in the request's pool: tells the item when the request is gone */
struct guard {
    struct floor_item *item;
};

static h2o_globalconf_t config;
static struct loop loops[MAX_LOOPS];
static int n_loops;
static struct floor_committer *committer;
static pthread_mutex_t inline_lock = PTHREAD_MUTEX_INITIALIZER;

static struct loop *
loop_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(struct loop, ctx, req->conn->ctx);
}

static void
send_answer(h2o_req_t *req, int status, const char *location, size_t len)
{
    req->res.status = status;
    req->res.reason = status == 201 ? "Created" : "Service Unavailable";
    if (location)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, location, len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/plain"));
    req->res.content_length = 0;
    h2o_send_inline(req, "", 0);
    __atomic_add_fetch(&floor_answers, 1, __ATOMIC_RELAXED);
}

static int
on_req_static(h2o_handler_t *self, h2o_req_t *req)
{
    (void) self;
    send_answer(req, 201, H2O_STRLIT(FLOOR_LOCATION));
    return 0;
}

/* ---- the commit variant ---- */

static void
guard_dispose(void *p)
{
    struct guard *g = p;

    if (g->item)
        g->item->owner = NULL;
}

/* On the loop's thread: answers each request of a committed list that is still there; frees the list. */
static void
answer_list(struct floor_item *list)
{
    for (struct floor_item *it = list, *next; it; it = next) {
        h2o_req_t *req = it->owner;

        next = it->next;
        if (req) {
            ((struct guard *) it->aux)->item = NULL;
            if (it->result < 0) {
                send_answer(req, 503, NULL, 0);
            } else {
                char *loc = h2o_mem_alloc_pool(&req->pool, 64);
                int len = snprintf(loc, 64, "http://127.0.0.1/queue/item/%lld/", (long long) it->id);
                send_answer(req, 201, loc, (size_t) len);
            }
        }
        free(it);
    }
}

/* After the turn's ready sockets were served: the turn's batch is complete. */
static void
on_turn_end(h2o_timeout_entry_t *entry)
{
    struct loop *l = H2O_STRUCT_FROM_MEMBER(struct loop, turn_end, entry);
    struct floor_item *list = l->head, *last = l->tail;

    l->head = l->tail = NULL;
    if (!list)
        return;
    if (l->db) {
        pthread_mutex_lock(&inline_lock);
        floor_db_commit(l->db, list);
        pthread_mutex_unlock(&inline_lock);
        answer_list(list);
    } else {
        floor_committer_push(committer, list, last);
    }
}

static int
on_req_commit(h2o_handler_t *self, h2o_req_t *req)
{
    struct loop *l = loop_of(req);
    struct floor_item *it = malloc(sizeof *it);
    struct guard *g;
    size_t n;

    (void) self;
    if (!it)
        return -1;
    g = h2o_mem_alloc_shared(&req->pool, sizeof *g, guard_dispose);
    g->item = it;
    it->next = NULL;
    it->owner = req;
    it->aux = g;
    it->loop = l;
    n = req->path.len < sizeof it->target - 1 ? req->path.len : sizeof it->target - 1;
    memcpy(it->target, req->path.base, n);
    it->target[n] = '\0';
    if (l->tail)
        l->tail->next = it;
    else
        l->head = it;
    l->tail = it;
    if (!h2o_timeout_is_linked(&l->turn_end))
        h2o_timeout_link(l->ctx.loop, &l->ctx.zero_timeout, &l->turn_end);
    return 0;
}

/* On the commit thread: one message to each loop with its part of the batch. */
static void
on_committed(struct floor_item *list, void *userdata)
{
    (void) userdata;
    for (int i = 0; i < n_loops && list; i++) {
        struct floor_item *mine = NULL, **mine_tail = &mine, **rest = &list;
        struct answers *a;

        for (struct floor_item *it = list, *next; it; it = next) {
            next = it->next;
            if (it->loop == &loops[i]) {
                *rest = next;
                *mine_tail = it;
                mine_tail = &it->next;
                it->next = NULL;
            } else {
                rest = &it->next;
            }
        }
        if (!mine)
            continue;
        a = calloc(1, sizeof *a);
        if (!a)
            abort();
        a->list = mine;
        h2o_multithread_send_message(&loops[i].receiver, &a->super);
    }
}

static void
on_answers(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void) receiver;
    while (!h2o_linklist_is_empty(messages)) {
        struct answers *a = H2O_STRUCT_FROM_MEMBER(struct answers, super.link, messages->next);

        h2o_linklist_unlink(&a->super.link);
        answer_list(a->list);
        free(a);
    }
}

/* ---- loops ---- */

static void
on_accept(h2o_socket_t *listener, const char *err)
{
    struct loop *l = listener->data;
    h2o_socket_t *sock;

    if (err)
        return;
    /* several loops share the listening socket: the ones that lose the race get NULL */
    if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    h2o_accept(&l->accept_ctx, sock);
}

static struct floor_opts opts;
static int listen_fd;

/*
 * Everything of a loop is made on its own thread: h2o 2.2.5 gives each
 * socket the buffer allocator of the thread that creates it (a __thread
 * variable), and two threads sharing one crash.
 */
static void *
loop_main(void *p)
{
    struct loop *l = p;

    h2o_context_init(&l->ctx, h2o_evloop_create(), &config);
    l->accept_ctx.ctx = &l->ctx;
    l->accept_ctx.hosts = config.hosts;
    l->turn_end.cb = on_turn_end;
    if (FLOOR_COMMIT && opts.inline_commit)
        l->db = floor_db_open(opts.db, opts.nosync);
    else if (FLOOR_COMMIT)
        h2o_multithread_register_receiver(l->ctx.queue, &l->receiver, on_answers);
    l->listener = h2o_evloop_socket_create(l->ctx.loop, listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    l->listener->data = l;
    h2o_socket_read_start(l->listener, on_accept);
    for (;;)
        h2o_evloop_run(l->ctx.loop, INT32_MAX);
    return NULL;
}

int
main(int argc, char **argv)
{
    h2o_hostconf_t *host;
    h2o_pathconf_t *path;
    h2o_handler_t *handler;

    floor_parse_args(argc, argv,
                     FLOOR_COMMIT ? "PORT --db FILE [--threads N] [--inline] [--nosync]" : "PORT [--threads N]", &opts);
    if (FLOOR_COMMIT && !opts.db) {
        fprintf(stderr, "%s: --db FILE is needed\n", argv[0]);
        return 2;
    }
    n_loops = opts.threads > 0 ? opts.threads : 1;
    (void) mallopt(M_ARENA_MAX, 2);
    floor_block_signals();

    h2o_config_init(&config);
    config.http1.req_timeout = 30 * 1000; /* as HTTP_IDLE_TIMEOUT_S */
    host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    path = h2o_config_register_path(host, "/", 0);
    handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = FLOOR_COMMIT ? on_req_commit : on_req_static;

    if (FLOOR_COMMIT && !opts.inline_commit)
        committer = floor_committer_start(opts.db, opts.nosync, on_committed, NULL);
    listen_fd = floor_listen(opts.port, true);
    for (int i = 0; i < n_loops; i++)
        if (pthread_create(&loops[i].thread, NULL, loop_main, &loops[i]) != 0)
            return 1;
    floor_wait_and_exit(!FLOOR_COMMIT ? "h2o_static" : opts.inline_commit ? "h2o_commit --inline" : "h2o_commit");
    return 0;
}
