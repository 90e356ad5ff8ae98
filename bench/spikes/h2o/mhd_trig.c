/* SPDX-License-Identifier: MIT */
/* mhd_trig PORT DBFILE THREADS: libmicrohttpd thread pool on poll(),
 * connections suspended while the engine thread group-commits. */
#include "engine.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>

static int g_port;

typedef struct {
    item it;
    int state; /* 0 new, 1 queued (suspended), 2 committed */
    int fail;  /* 401 */
} cstate;

static void deliver(item *batch)
{
    for (item *it = batch, *nx; it; it = nx) {
        nx = it->next;
        ((cstate *)it)->state = 2;
        MHD_resume_connection((struct MHD_Connection *)it->conn);
    }
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *loc)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (loc) MHD_add_response_header(r, "Location", loc);
    if (code == 401) MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"steward\"");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)cls; (void)version; (void)upload_data;
    cstate *s = *con_cls;
    if (!s) {
        s = calloc(1, sizeof *s);
        *con_cls = s;
        return MHD_YES;
    }
    if (*upload_size) { /* ignore a body */
        *upload_size = 0;
        return MHD_YES;
    }
    if (s->state == 2) {
        char loc[96];
        snprintf(loc, sizeof loc, "http://127.0.0.1:%d/queue/item/%lld/", g_port, s->it.id);
        return reply(c, 201, loc);
    }
    if (s->state == 1) return MHD_YES; /* not reached: suspended */
    /* MHD splits path and query: rebuild the query from the argument table
     * the way Steward would (it only needs the raw query string) */
    char path[256];
    size_t ul = strlen(url);
    if (ul >= sizeof path - 1) return reply(c, 404, NULL);
    memcpy(path, url, ul + 1);
    if (!parse_trigger(path, ul, &s->it)) return reply(c, 404, NULL);
    if (strcmp(method, "POST") != 0) return reply(c, 405, NULL);
    const char *n = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "N");
    if (n) snprintf(s->it.params, sizeof s->it.params, "N=%s", n);
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!a || !auth_ok(a, strlen(a))) return reply(c, 401, NULL);
    s->it.conn = c;
    s->state = 1;
    MHD_suspend_connection(c);
    engine_submit(&s->it);
    return MHD_YES;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls; (void)c; (void)t;
    free(*con_cls);
    *con_cls = NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) { fprintf(stderr, "usage: mhd_trig PORT DBFILE THREADS\n"); return 2; }
    g_port = atoi(argv[1]);
    signal(SIGPIPE, SIG_IGN);
    auth_init();
    engine_start(argv[2], deliver);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(g_port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME, g_port, NULL, NULL,
        on_req, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[3]),
        MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
        MHD_OPTION_CONNECTION_TIMEOUT, 65u, MHD_OPTION_END);
    if (!d) { fprintf(stderr, "MHD_start_daemon failed\n"); return 1; }
    fprintf(stderr, "mhd_trig listening on 127.0.0.1:%d threads=%s\n", g_port, argv[3]);
    for (;;) pause();
}
