/* SPDX-License-Identifier: MIT */
/*
 * What the HTTP floor programs share: the command line, the static answer,
 * and the "commit" side of a durable trigger stripped of everything else:
 * an inbox (a locked list and an eventfd, as src/core/engine.c has), one
 * thread that drains it in batches and inserts one SQLite row per request
 * in one transaction per batch (WAL, synchronous=FULL, as src/store/db.c
 * opens the database), then hands the batch back to whoever answers.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the answer nginx gives in ../../../shared/bench/perf/nginx.conf.in */
#define FLOOR_LOCATION "http://127.0.0.1/queue/item/1/"
#define FLOOR_TARGET_MAX 256

struct floor_opts {
    int port;
    int threads;          /* MHD pool size, or h2o event loops */
    const char *db;       /* commit variants: the SQLite file */
    bool inline_commit;   /* h2o: each loop commits its own batch (no commit thread) */
    bool nosync;          /* synchronous=OFF: the commit without its fsync */
};

/*
 * Parses "PORT [--threads N] [--db FILE] [--nosync] [--inline]"; exits with a usage
 * message on anything else.
 */
void floor_parse_args(int argc, char **argv, const char *usage, struct floor_opts *ret_opts);

/* A listening TCP socket on 127.0.0.1:port (backlog 1024, as Steward's); exits on failure. */
int floor_listen(int port, bool nonblock);

/* Blocks SIGINT, SIGTERM and SIGPIPE in the caller (call before making threads). */
void floor_block_signals(void);
/* Waits for SIGINT or SIGTERM, prints the counters to stderr, and exits. */
void floor_wait_and_exit(const char *name);

/* ---- one request on its way to the commit ---- */

struct floor_item {
    struct floor_item *next;
    void *owner;                     /* the connection or request that waits */
    void *loop;                      /* h2o: the loop that answers it */
    void *aux;                       /* h2o: the guard in the request's pool */
    int64_t id;                      /* set by the commit: the row's id */
    int result;                      /* 0, or -EIO when the commit failed */
    char target[FLOOR_TARGET_MAX];   /* what is stored: path and query */
};

/*
 * An open database: WAL, synchronous=FULL (OFF with `nosync`, to tell the
 * disk's share from the rest), a table "queue"; exits on failure.
 */
struct floor_db;
struct floor_db *floor_db_open(const char *path, bool nosync);
/* One transaction with one row per item; sets each item's id and result. */
void floor_db_commit(struct floor_db *db, struct floor_item *list);

/* Called on the commit thread with a committed batch (a list, in arrival order). */
typedef void (*floor_done_fn)(struct floor_item *list, void *userdata);

struct floor_committer;
/* Starts the commit thread on its own connection to `path`. */
struct floor_committer *floor_committer_start(const char *path, bool nosync, floor_done_fn done,
                                              void *userdata);
/*
 * Appends the list first..last to the inbox and wakes the commit thread
 * (one eventfd write per call). Any thread.
 */
void floor_committer_push(struct floor_committer *c, struct floor_item *first, struct floor_item *last);

/* counters, printed at exit */
extern uint64_t floor_answers, floor_batches, floor_rows, floor_wakeups;
