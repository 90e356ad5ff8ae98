/* SPDX-License-Identifier: MIT */
/*
 * A sync of the WAL on a thread of its own, so that the connection's own
 * thread can do other work while the disk confirms a lazy commit
 * (store_sync_start(), then store_sync_wait()).
 *
 * The thread never touches the SQLite connection: it holds a descriptor of
 * its own on the WAL file and calls fdatasync() on it, which flushes the
 * file whoever wrote it. The WAL stays the same file while any connection
 * to the database is open (SQLite deletes it only when the last one
 * closes), and each sync checks that the path still names it; if not, or
 * if the thread cannot be had, the sync runs on the caller's thread at
 * store_sync_wait(), through SQLite, as store_sync() does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/internal.h"
#include "util/macro.h"

struct sidesync {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char *path;         /* the WAL */
    int fd;
    bool asked;         /* under lock: a sync to do */
    bool done;          /* under lock: the one asked for is done, with `result` */
    bool quit;
    int result;
};

static void *
sidesync_thread(void *arg)
{
    struct sidesync *y = arg;

    pthread_mutex_lock(&y->lock);
    for (;;) {
        while (!y->asked && !y->quit)
            pthread_cond_wait(&y->cond, &y->lock);
        if (y->quit)
            break;
        y->asked = false;
        pthread_mutex_unlock(&y->lock);
        int r = fdatasync(y->fd) < 0 ? -errno : 0;
        pthread_mutex_lock(&y->lock);
        y->result = r;
        y->done = true;
        pthread_cond_broadcast(&y->cond);
    }
    pthread_mutex_unlock(&y->lock);
    return NULL;
}

static void
sidesync_free(struct sidesync *y)
{
    if (y->fd >= 0)
        close(y->fd);
    pthread_cond_destroy(&y->cond);
    pthread_mutex_destroy(&y->lock);
    free(y->path);
    free(y);
}

static struct sidesync *
sidesync_new(struct store *s)
{
    const char *db = sqlite3_db_filename(s->db, "main");
    const char *wal = db && *db ? sqlite3_filename_wal(db) : NULL;
    struct sidesync *y;

    if (!wal || !*wal)
        return NULL;
    y = calloc(1, sizeof *y);
    if (!y)
        return NULL;
    y->fd = -1;
    pthread_mutex_init(&y->lock, NULL);
    pthread_cond_init(&y->cond, NULL);
    y->path = strdup(wal);
    if (y->path)
        y->fd = open(y->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (y->fd < 0 || pthread_create(&y->thread, NULL, sidesync_thread, y) != 0) {
        sidesync_free(y);
        return NULL;
    }
    return y;
}

void
sidesync_stop(struct store *s)
{
    struct sidesync *y = s->side;

    if (!y)
        return;
    pthread_mutex_lock(&y->lock);
    y->quit = true;
    pthread_cond_broadcast(&y->cond);
    pthread_mutex_unlock(&y->lock);
    pthread_join(y->thread, NULL);
    sidesync_free(y);
    s->side = NULL;
}

/* Whether the descriptor is still the file the path names: the WAL SQLite writes. */
static bool
same_file(const struct sidesync *y)
{
    struct stat a, b;

    return fstat(y->fd, &a) == 0 && stat(y->path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int
store_sync_start(struct store *s)
{
    struct sidesync *y;

    s->side_asked = false;
    if (!s->unsynced)
        return 0;
    if (!s->side && !s->side_failed) {
        s->side = sidesync_new(s);
        s->side_failed = !s->side;
    }
    y = s->side;
    if (!y || !same_file(y))
        return 0;   /* store_sync_wait() syncs through SQLite */
    pthread_mutex_lock(&y->lock);
    y->asked = true;
    y->done = false;
    pthread_cond_broadcast(&y->cond);
    pthread_mutex_unlock(&y->lock);
    s->side_asked = true;
    s->side_commits = s->lazy_commits;
    return 0;
}

int
store_sync_wait(struct store *s)
{
    struct sidesync *y = s->side;
    int r;

    if (!s->side_asked)
        return store_sync(s);
    s->side_asked = false;
    pthread_mutex_lock(&y->lock);
    while (!y->done)
        pthread_cond_wait(&y->cond, &y->lock);
    r = y->result;
    pthread_mutex_unlock(&y->lock);
    /* what was committed after the start is not covered */
    if (r >= 0 && s->lazy_commits == s->side_commits)
        s->unsynced = false;
    return r;
}
