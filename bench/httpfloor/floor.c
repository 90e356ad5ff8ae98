/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

uint64_t floor_answers, floor_batches, floor_rows, floor_wakeups;

static void
die(const char *what, const char *why)
{
    fprintf(stderr, "httpfloor: %s: %s\n", what, why);
    exit(1);
}

void
floor_parse_args(int argc, char **argv, const char *usage, struct floor_opts *ret_opts)
{
    struct floor_opts o = { .threads = 0, .db = NULL };
    char *end;

    if (argc < 2)
        goto bad;
    o.port = (int) strtol(argv[1], &end, 10);
    if (*end || o.port <= 0 || o.port > 65535)
        goto bad;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            o.threads = (int) strtol(argv[++i], &end, 10);
            if (*end || o.threads < 1 || o.threads > 64)
                goto bad;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            o.db = argv[++i];
        } else if (strcmp(argv[i], "--nosync") == 0) {
            o.nosync = true;
        } else if (strcmp(argv[i], "--inline") == 0) {
            o.inline_commit = true;
        } else
            goto bad;
    }
    *ret_opts = o;
    return;
bad:
    fprintf(stderr, "usage: %s %s\n", argv[0], usage);
    exit(2);
}

int
floor_listen(int port, bool nonblock)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    int one = 1, fd;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        die("socket", strerror(errno));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 1024) < 0)
        die("bind 127.0.0.1", strerror(errno));
    return fd;
}

static sigset_t stop_signals;

void
floor_block_signals(void)
{
    sigset_t pipe_only;

    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, NULL);
}

void
floor_wait_and_exit(const char *name)
{
    int sig = 0;

    (void) sigwait(&stop_signals, &sig);
    fprintf(stderr, "%s: answers=%llu batches=%llu rows=%llu commit_wakeups=%llu rows_per_batch=%.1f\n",
            name, (unsigned long long) __atomic_load_n(&floor_answers, __ATOMIC_RELAXED),
            (unsigned long long) floor_batches, (unsigned long long) floor_rows,
            (unsigned long long) floor_wakeups,
            floor_batches ? (double) floor_rows / (double) floor_batches : 0.0);
    /* connections may be parked mid-answer: no orderly shutdown, the kernel closes them */
    _exit(0);
}

/* ---- the database ---- */

struct floor_db {
    sqlite3 *db;
    sqlite3_stmt *begin, *insert, *commit;
};

static void
exec_or_die(sqlite3 *db, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        die(sql, err ? err : "?");
}

static sqlite3_stmt *
prepare_or_die(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        die(sql, sqlite3_errmsg(db));
    return st;
}

struct floor_db *
floor_db_open(const char *path, bool nosync)
{
    struct floor_db *d = calloc(1, sizeof *d);

    if (!d)
        die("calloc", strerror(ENOMEM));
    if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        die(path, sqlite3_errmsg(d->db));
    sqlite3_busy_timeout(d->db, 10000);
    /* as src/store/db.c: a commit is on disk when it returns */
    exec_or_die(d->db, nosync ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
                              : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    exec_or_die(d->db, "CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY, "
                       "target TEXT NOT NULL, at INTEGER NOT NULL)");
    d->begin = prepare_or_die(d->db, "BEGIN IMMEDIATE");
    d->insert = prepare_or_die(d->db, "INSERT INTO queue (target, at) VALUES (?, ?)");
    d->commit = prepare_or_die(d->db, "COMMIT");
    return d;
}

static int
step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

void
floor_db_commit(struct floor_db *d, struct floor_item *list)
{
    sqlite3_int64 now = (sqlite3_int64) time(NULL);
    size_t n = 0;
    int r;

    r = step_reset(d->begin);
    for (struct floor_item *it = list; it && r == 0; it = it->next, n++) {
        sqlite3_bind_text(d->insert, 1, it->target, -1, SQLITE_STATIC);
        sqlite3_bind_int64(d->insert, 2, now);
        r = step_reset(d->insert);
        it->id = sqlite3_last_insert_rowid(d->db);
    }
    sqlite3_clear_bindings(d->insert);
    if (r == 0)
        r = step_reset(d->commit);
    if (r < 0)
        (void) sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    for (struct floor_item *it = list; it; it = it->next)
        it->result = r;
    __atomic_add_fetch(&floor_batches, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&floor_rows, n, __ATOMIC_RELAXED);
}

/* ---- the commit thread ---- */

struct floor_committer {
    pthread_mutex_t lock;
    struct floor_item *head, **tail;
    int efd;
    struct floor_db *db;
    floor_done_fn done;
    void *userdata;
    pthread_t thread;
};

static void *
committer_main(void *p)
{
    struct floor_committer *c = p;

    for (;;) {
        struct floor_item *list;
        uint64_t v;

        if (read(c->efd, &v, sizeof v) != sizeof v)
            continue;
        floor_wakeups++;
        pthread_mutex_lock(&c->lock);
        list = c->head;
        c->head = NULL;
        c->tail = &c->head;
        pthread_mutex_unlock(&c->lock);
        if (!list)
            continue;
        floor_db_commit(c->db, list);
        c->done(list, c->userdata);
    }
    return NULL;
}

struct floor_committer *
floor_committer_start(const char *path, bool nosync, floor_done_fn done, void *userdata)
{
    struct floor_committer *c = calloc(1, sizeof *c);

    if (!c)
        die("calloc", strerror(ENOMEM));
    pthread_mutex_init(&c->lock, NULL);
    c->tail = &c->head;
    /* blocking: the thread sleeps in read() as the core loop sleeps in epoll_wait() */
    c->efd = eventfd(0, EFD_CLOEXEC);
    if (c->efd < 0)
        die("eventfd", strerror(errno));
    c->db = floor_db_open(path, nosync);
    c->done = done;
    c->userdata = userdata;
    if (pthread_create(&c->thread, NULL, committer_main, c) != 0)
        die("pthread_create", "failed");
    return c;
}

void
floor_committer_push(struct floor_committer *c, struct floor_item *first, struct floor_item *last)
{
    uint64_t one = 1;

    last->next = NULL;
    pthread_mutex_lock(&c->lock);
    *c->tail = first;
    c->tail = &last->next;
    pthread_mutex_unlock(&c->lock);
    (void) !write(c->efd, &one, sizeof one);
}
