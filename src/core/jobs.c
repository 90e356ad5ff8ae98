/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cron.h"
#include "core/jobs.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strutil.h"

struct job_watch {
    int wd;
    char *name;
};

struct job_settle {
    char *name;
    int64_t due;    /* mono_ms() */
};

/* Index rows to write at the next flush (under write_lock). */
#define INDEX_BATCH 256

/*
 * The jobs read from the index at start live in a few 2 MiB blocks, each
 * backed by one huge page where the kernel allows: 10,000 summaries then
 * cost a handful of page faults instead of thousands. A job replaced later
 * leaves its place unused until the registry goes; new jobs use malloc().
 */
#define ARENA_CHUNK ((size_t) 2 << 20)

struct arena_chunk {
    struct arena_chunk *next;
    size_t used;
};

/* The background work's gate (wait_gate()) */
enum gate {
    GATE_WAITING,   /* neither the first answer nor a need for the jobs yet */
    GATE_OPEN,      /* the work begins, and ends before jobs_free() does */
    GATE_SHUT,      /* jobs_free() came first: the work never begins */
};

struct jobs {
    const struct home *home;
    pthread_rwlock_t lock;
    pthread_mutex_t write_lock;  /* serializes changes, file and index writes included */
    struct job **v;              /* sorted by name */
    size_t n;

    struct arena_chunk *arena;   /* written by jobs_load() only */

    /* the index in steward.db, a connection of its own used under write_lock */
    struct store *db;
    char **dirty;                /* names whose row is to be written or removed */
    size_t n_dirty;
    bool index_warned;

    /*
     * The first check of what the index said against the disk. Until it is
     * done, a job is compared with its file when it is first asked for, and
     * a list waits for the whole check.
     */
    pthread_mutex_t check_lock;
    pthread_cond_t check_cond;
    bool checking, checked;      /* under check_lock */
    bool all_checked;            /* atomic: the check is done */

    /* the index is read by a thread of its own, so a start does not wait for it */
    pthread_t loader;
    bool loading;                /* the loader thread was started */
    enum gate gate;              /* under check_lock: may the background work begin */
    bool loaded;                 /* atomic; set under check_lock */

    /* the watcher (jobs_watch): inotify on jobs/ and on each job's directory */
    bool watching;
    pthread_t watcher;
    int ifd, stop_fd, jobs_wd;
    struct job_watch *watches;   /* owned by the watcher thread */
    size_t n_watches, cap_watches;
    struct job_settle *settle;   /* changed files not read yet (the watcher's own) */
    size_t n_settle;
    bool watch_warned;
    uint64_t last_refused;       /* under write_lock: the last refused content, said once */
    void (*notify)(void *userdata); /* under write_lock: jobs_set_notify() */
    void *notify_data;
};

static uint64_t
fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

struct job *
job_ref(struct job *job)
{
    if (job)
        __atomic_add_fetch(&job->refs, 1, __ATOMIC_RELAXED);
    return job;
}

struct job *
job_unref(struct job *job)
{
    if (job && __atomic_sub_fetch(&job->refs, 1, __ATOMIC_ACQ_REL) == 0 && !job->in_arena) {
        jobcfg_free(job->cfg);
        free(job);
    }
    return NULL;
}

static struct arena_chunk *
chunk_new(void)
{
    /* twice the size, to cut out a block aligned as a huge page must be */
    size_t span = ARENA_CHUNK * 2, head;
    char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *block;

    if (p == MAP_FAILED)
        return NULL;
    block = (char *) (((uintptr_t) p + ARENA_CHUNK - 1) & ~(uintptr_t) (ARENA_CHUNK - 1));
    head = (size_t) (block - p);
    if (head)
        (void) munmap(p, head);
    (void) munmap(block + ARENA_CHUNK, span - head - ARENA_CHUNK);
    (void) madvise(block, ARENA_CHUNK, MADV_HUGEPAGE);
    return (struct arena_chunk *) block;
}

/* Memory that lives as long as the registry; NULL when `size` does not fit a block. */
static void *
arena_alloc(void *userdata, size_t size)
{
    struct jobs *j = userdata;
    struct arena_chunk *c = j->arena;
    size_t at;
    void *p;

    size = (size + 15) & ~(size_t) 15;
    if (size > ARENA_CHUNK - sizeof *c)
        return NULL;
    if (!c || ARENA_CHUNK - c->used < size) {
        c = chunk_new();
        if (!c)
            return NULL;
        c->next = j->arena;
        c->used = (sizeof *c + 15) & ~(size_t) 15;
        j->arena = c;
    }
    at = c->used;
    c->used += size;
    p = (char *) c + at;
    return p;
}

static void
arena_free(struct jobs *j)
{
    while (j->arena) {
        struct arena_chunk *next = j->arena->next;

        (void) munmap(j->arena, ARENA_CHUNK);
        j->arena = next;
    }
}

static bool
job_checked(const struct job *job)
{
    return __atomic_load_n(&job->checked, __ATOMIC_ACQUIRE);
}

static void
job_mark_checked(struct job *job)
{
    __atomic_store_n(&job->checked, true, __ATOMIC_RELEASE);
}

static struct job_ident
ident_of(const struct stat *st)
{
    return (struct job_ident){ .ino = (int64_t) st->st_ino, .size = (int64_t) st->st_size,
                               .mtime_ns = (int64_t) st->st_mtim.tv_sec * 1000000000 +
                                           st->st_mtim.tv_nsec,
                               .ctime_ns = (int64_t) st->st_ctim.tv_sec * 1000000000 +
                                           st->st_ctim.tv_nsec };
}

/* A job around a summary (taken over, even on error). */
static int
job_wrap(const char *name, struct job_config *sum, const struct job_ident *id, bool checked,
         struct job **ret)
{
    size_t len = strlen(name);
    struct job *job = malloc(sizeof *job + len + 1);

    if (!job) {
        jobcfg_free(sum);
        return -ENOMEM;
    }
    *job = (struct job){ .refs = 1, .name = (char *) (job + 1), .cfg = sum, .ident = *id,
                         .checked = checked };
    memcpy(job->name, name, len + 1);
    *ret = job;
    return 0;
}

/* Parses config.xml bytes into a job with a summary; what jobs_create() refuses, this does. */
static int
job_new(const char *name, const char *xml, size_t len, const struct job_ident *id,
        struct job **ret, char **reterr_msg)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    struct job_config *sum = NULL;
    int r;

    r = jobcfg_parse(xml, len, &cfg, reterr_msg);
    if (r < 0)
        return r;
    if (cfg->timer_spec) {
        struct cron *c = NULL;
        const char *why = NULL;

        r = cron_parse(cfg->timer_spec, name, &c, &why);
        cron_free(c);
        if (r < 0) {
            if (r == -EINVAL && reterr_msg && asprintf(reterr_msg, "the timer trigger's spec is "
                                                       "not valid: %s", why) < 0)
                *reterr_msg = NULL;
            return r;
        }
    }
    r = jobcfg_summary(cfg, &sum);
    if (r < 0)
        return r;
    return job_wrap(name, sum, id, true, ret);
}

int
job_name_check(const char *name, const char **reterr_msg)
{
    size_t len = strlen(name);

    if (len == 0) {
        *reterr_msg = "A job name must not be empty.";
        return -EINVAL;
    }
    if (len > BOUND_JOB_NAME_BYTES) {
        *reterr_msg = "A job name must be at most 200 bytes long.";
        return -EINVAL;
    }
    if (streq(name, ".") || streq(name, "..")) {
        *reterr_msg = "\".\" and \"..\" are not job names.";
        return -EINVAL;
    }
    if (!utf8_is_valid(name, len)) {
        *reterr_msg = "A job name must be valid UTF-8.";
        return -EINVAL;
    }
    for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
        /* C0, DEL, and C1 (U+0080-U+009F, encoded as C2 80-9F), as Jenkins refuses */
        if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
            *reterr_msg = "A job name must not contain control characters.";
            return -EINVAL;
        }
        if (strchr("/\\?*%<>|:;!@#$&[]^'\"", *p)) {
            *reterr_msg = "A job name must not contain any of / \\ ? * % < > | : ; ! @ # $ & [ ] ^ ' \".";
            return -EINVAL;
        }
    }
    if (name[0] == ' ' || name[len - 1] == ' ' || name[0] == '.') {
        *reterr_msg = "A job name must not start with a dot or start or end with a space.";
        return -EINVAL;
    }
    return 0;
}

static int
find_index(const struct jobs *j, const char *name, size_t *ret_pos)
{
    size_t lo = 0, hi = j->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(j->v[mid]->name, name);
        if (c == 0) {
            *ret_pos = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *ret_pos = lo;
    return 0;
}

static void wait_loaded(struct jobs *j);

/* A new reference to the published job, whether checked or not; NULL when there is none. */
static struct job *
lookup(struct jobs *j, const char *name)
{
    struct job *job = NULL;
    size_t pos;

    wait_loaded(j);
    pthread_rwlock_rdlock(&j->lock);
    if (find_index(j, name, &pos))
        job = job_ref(j->v[pos]);
    pthread_rwlock_unlock(&j->lock);
    return job;
}

/* ---- the index ---- */

/* Notes that NAME's row must follow the registry. Caller holds write_lock. */
static void
index_dirty(struct jobs *j, const char *name)
{
    char **v, *copy;

    if (!j->db)
        return;
    copy = strdup(name);
    v = copy ? realloc(j->dirty, (j->n_dirty + 1) * sizeof *v) : NULL;
    if (!v) {
        free(copy);
        return;   /* the row stays stale: its file's identity no longer matches */
    }
    j->dirty = v;
    j->dirty[j->n_dirty++] = copy;
}

static void
index_warn(struct jobs *j, int r)
{
    if (!j->index_warned) {
        j->index_warned = true;
        log_warn("jobs: cannot update the job index in %s (%s); the next start reads the "
                 "changed config.xml files again", j->home->db_path, strerror(-r));
    }
}

/*
 * Writes the dirty rows in one transaction. A failure leaves rows stale,
 * which costs a parse at the next start and nothing else: each row says
 * which file it was read from. Caller holds write_lock.
 */
static void
index_flush(struct jobs *j)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(BOUND_CONFIG_XML_BYTES * 2);
    int r;

    if (!j->db || j->n_dirty == 0)
        return;
    r = store_begin(j->db);
    for (size_t i = 0; i < j->n_dirty && r >= 0; i++) {
        _cleanup_(job_unrefp) struct job *job = lookup(j, j->dirty[i]);

        if (!job) {
            r = store_job_index_delete(j->db, j->dirty[i]);
            if (r == -ENOENT)
                r = 0;
            continue;
        }
        buf_clear(&b);
        r = jobcfg_summary_encode(job->cfg, &b);
        if (r >= 0)
            r = store_job_index_put(j->db, job->name, &job->ident, b.ptr, b.len);
    }
    if (r >= 0)
        r = store_commit(j->db);
    else
        (void) store_rollback(j->db);
    if (r < 0)
        index_warn(j, r);
    for (size_t i = 0; i < j->n_dirty; i++)
        free(j->dirty[i]);
    j->n_dirty = 0;
}

/* ---- publishing ---- */

/*
 * Inserts or replaces; takes the reference. Caller holds write_lock and has
 * looked the name up (so the index is loaded).
 */
static int
publish(struct jobs *j, struct job *job)
{
    size_t pos;

    pthread_rwlock_wrlock(&j->lock);
    if (find_index(j, job->name, &pos)) {
        job_unref(j->v[pos]);
        j->v[pos] = job;
    } else {
        struct job **v = realloc(j->v, (j->n + 1) * sizeof *v);
        if (!v) {
            pthread_rwlock_unlock(&j->lock);
            job_unref(job);
            return -ENOMEM;
        }
        j->v = v;
        memmove(&v[pos + 1], &v[pos], (j->n - pos) * sizeof *v);
        v[pos] = job;
        j->n++;
    }
    pthread_rwlock_unlock(&j->lock);
    index_dirty(j, job->name);
    if (j->notify)
        j->notify(j->notify_data);
    return 0;
}

/* Caller holds write_lock. */
static void
unpublish(struct jobs *j, const char *name)
{
    size_t pos;

    pthread_rwlock_wrlock(&j->lock);
    if (find_index(j, name, &pos)) {
        job_unref(j->v[pos]);
        memmove(&j->v[pos], &j->v[pos + 1], (j->n - pos - 1) * sizeof *j->v);
        j->n--;
    }
    pthread_rwlock_unlock(&j->lock);
    index_dirty(j, name);
    if (j->notify)
        j->notify(j->notify_data);
}

/* ---- loading ---- */

struct load_ctx {
    struct jobs *j;
    size_t cap;
    bool unsorted;
};

static int
load_row(void *userdata, const char *name, const struct job_ident *id, const void *blob,
         size_t len)
{
    struct load_ctx *c = userdata;
    struct jobs *j = c->j;
    struct job_config *sum = NULL;
    size_t name_len = strlen(name);
    bool in_arena = true;
    struct job *job;
    const char *why;
    int r;

    /* a row that does not decode is left to the check, which reads the file and the row again */
    if (job_name_check(name, &why) < 0) {
        index_dirty(j, name);
        return 0;
    }
    r = jobcfg_summary_decode_in(blob, len, arena_alloc, j, &sum);
    if (r == -ENOMEM) {
        in_arena = false;
        r = jobcfg_summary_decode(blob, len, &sum);   /* larger than a block */
    }
    if (r < 0) {
        index_dirty(j, name);
        return r == -ENOMEM ? r : 0;
    }
    if (!in_arena) {
        if (job_wrap(name, sum, id, false, &job) < 0)
            return -ENOMEM;
    } else {
        /* the summary and the job both live as long as the registry: jobcfg_free() never sees it */
        job = arena_alloc(j, sizeof *job + name_len + 1);
        if (!job)
            return -ENOMEM;
        *job = (struct job){ .refs = 1, .name = (char *) (job + 1), .cfg = sum, .ident = *id,
                             .in_arena = true };
        memcpy(job->name, name, name_len + 1);
    }
    if (j->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        struct job **v = realloc(j->v, cap * sizeof *v);
        if (!v) {
            job_unref(job);
            return -ENOMEM;
        }
        j->v = v;
        c->cap = cap;
    }
    if (j->n > 0 && strcmp(j->v[j->n - 1]->name, name) >= 0)
        c->unsorted = true;
    j->v[j->n++] = job;
    return 0;
}

static int
cmp_job(const void *a, const void *b)
{
    return strcmp((*(struct job *const *) a)->name, (*(struct job *const *) b)->name);
}

/* Reads the index into the registry (the loader thread, or jobs_load() itself). */
static void
load_index(struct jobs *j)
{
    struct load_ctx c = { .j = j };
    int r;

    r = store_open(j->home->db_path, &j->db);
    if (r >= 0)
        r = store_tune_cache(j->db);
    if (r >= 0)
        r = store_job_index_each(j->db, load_row, &c);
    if (r >= 0)
        r = store_unmap(j->db);
    if (r < 0) {
        log_warn("jobs: cannot read the job index in %s (%s); every config.xml is read instead",
                 j->home->db_path, strerror(-r));
        for (size_t i = 0; i < j->n; i++)
            job_unref(j->v[i]);
        j->n = 0;
        j->db = store_close(j->db);
    }
    if (c.unsorted) {
        /* rows come in the order they were written; a duplicate would be a broken index */
        qsort(j->v, j->n, sizeof *j->v, cmp_job);
        for (size_t i = 1; i < j->n; i++)
            if (streq(j->v[i - 1]->name, j->v[i]->name)) {
                job_unref(j->v[i]);
                memmove(&j->v[i], &j->v[i + 1], (j->n - i - 1) * sizeof *j->v);
                j->n--;
                i--;
            }
    }
}

/*
 * The start's own work (its first answer) goes before the background
 * reads and checks of every job, which take what the server leaves.
 */
static void
background_priority(void)
{
    (void) setpriority(PRIO_PROCESS, (id_t) gettid(), 10);
}

/*
 * The background work (reading the index, checking every config.xml)
 * waits until the server has given its first answer, or a second has
 * passed since it listens (jobs_begin_background()), so that it does not
 * compete with the start; whoever needs the jobs sooner opens the gate
 * (wait_loaded()). A registry freed before that shuts the gate instead.
 *
 * The gate is decided once, for both threads: the watcher, once through,
 * waits for the loader's index, so the loader must not stop where the
 * watcher went on. A gate already open stays open at jobs_free(), which
 * then waits for the work to end.
 */
static void
decide_gate(struct jobs *j, enum gate to)
{
    pthread_mutex_lock(&j->check_lock);
    if (j->gate == GATE_WAITING) {
        j->gate = to;
        pthread_cond_broadcast(&j->check_cond);
    }
    pthread_mutex_unlock(&j->check_lock);
}

/* True when the gate opened, false when it shut. */
static bool
wait_gate(struct jobs *j)
{
    enum gate g;

    pthread_mutex_lock(&j->check_lock);
    while (j->gate == GATE_WAITING)
        pthread_cond_wait(&j->check_cond, &j->check_lock);
    g = j->gate;
    pthread_mutex_unlock(&j->check_lock);
    return g == GATE_OPEN;
}

void
jobs_begin_background(struct jobs *j)
{
    decide_gate(j, GATE_OPEN);
}

static void *
loader_thread(void *arg)
{
    struct jobs *j = arg;

    background_priority();
    if (!wait_gate(j))
        return NULL;
    load_index(j);
    pthread_mutex_lock(&j->check_lock);
    __atomic_store_n(&j->loaded, true, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&j->check_cond);
    pthread_mutex_unlock(&j->check_lock);
    return NULL;
}

/*
 * Every reader and writer of the registry waits here for the index to be
 * read: the server answers what needs no job (a login page, a health
 * check) meanwhile.
 */
static void
wait_loaded(struct jobs *j)
{
    if (__atomic_load_n(&j->loaded, __ATOMIC_ACQUIRE))
        return;
    decide_gate(j, GATE_OPEN);
    pthread_mutex_lock(&j->check_lock);
    while (!__atomic_load_n(&j->loaded, __ATOMIC_ACQUIRE))
        pthread_cond_wait(&j->check_cond, &j->check_lock);
    pthread_mutex_unlock(&j->check_lock);
}

void
jobs_set_notify(struct jobs *j, void (*fn)(void *userdata), void *userdata)
{
    pthread_mutex_lock(&j->write_lock);
    j->notify = fn;
    j->notify_data = userdata;
    pthread_mutex_unlock(&j->write_lock);
}

int
jobs_load(const struct home *h, struct jobs **ret_jobs)
{
    struct jobs *j = calloc(1, sizeof *j);
    int r;

    if (!j)
        return -ENOMEM;
    j->home = h;
    j->ifd = j->stop_fd = -1;
    pthread_rwlock_init(&j->lock, NULL);
    pthread_mutex_init(&j->write_lock, NULL);
    pthread_mutex_init(&j->check_lock, NULL);
    pthread_cond_init(&j->check_cond, NULL);

    if (access(h->jobs_dir, F_OK) < 0) {
        r = -errno;
        jobs_free(j);
        return r;
    }
    if (pthread_create(&j->loader, NULL, loader_thread, j) == 0)
        j->loading = true;
    else {
        load_index(j);
        j->loaded = true;
    }
    *ret_jobs = j;
    return 0;
}

struct jobs *
jobs_free(struct jobs *j)
{
    if (j) {
        decide_gate(j, GATE_SHUT);
        if (j->loading)
            pthread_join(j->loader, NULL);
        if (j->watching) {
            uint64_t one = 1;
            (void) !write(j->stop_fd, &one, sizeof one);
            pthread_join(j->watcher, NULL);
        }
        if (j->ifd >= 0)
            close(j->ifd);
        if (j->stop_fd >= 0)
            close(j->stop_fd);
        for (size_t i = 0; i < j->n_watches; i++)
            free(j->watches[i].name);
        free(j->watches);
        for (size_t i = 0; i < j->n_settle; i++)
            free(j->settle[i].name);
        free(j->settle);
        pthread_mutex_lock(&j->write_lock);
        index_flush(j);
        pthread_mutex_unlock(&j->write_lock);
        free(j->dirty);
        store_close(j->db);
        for (size_t i = 0; i < j->n; i++)
            job_unref(j->v[i]);
        free(j->v);
        /* snapshots still held elsewhere would point into it: none are at this point */
        arena_free(j);
        pthread_rwlock_destroy(&j->lock);
        pthread_mutex_destroy(&j->write_lock);
        pthread_mutex_destroy(&j->check_lock);
        pthread_cond_destroy(&j->check_cond);
        free(j);
    }
    return NULL;
}

/* ---- changes made on disk, by hand or by a tool ---- */

enum sync_mode {
    SYNC_CHANGED,   /* the watcher or SIGHUP: a file that went away leaves the job */
    SYNC_CHECK,     /* the first check: a job whose file went away while stopped is gone */
};

/*
 * Brings NAME in line with its config.xml. A file with the identity the
 * job was read from changes nothing (the registry's own writes come back
 * this way); a valid new file is published; a broken one is refused with
 * one log line (per content) and the old definition is kept. A new
 * directory with a config.xml is a new job.
 */
static void
sync_one(struct jobs *j, const char *name, enum sync_mode mode)
{
    _cleanup_free_ char *path = home_job_config(j->home, name), *xml = NULL, *err = NULL;
    struct job *old, *job = NULL;
    struct job_ident id;
    const char *why;
    struct stat st;
    uint64_t hash;
    size_t len;
    int r;

    if (!path || job_name_check(name, &why) < 0)
        return;
    pthread_mutex_lock(&j->write_lock);
    old = lookup(j, name);
    if (mode == SYNC_CHECK && old && job_checked(old))
        goto out;   /* asked for, and so checked, since the check began */
    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            log_warn("job %s: cannot look at config.xml: %s", name, strerror(errno));
        else if (old && mode == SYNC_CHECK) {
            log_info("job %s: config.xml is gone; the job is removed", name);
            unpublish(j, name);
        }
        /* removed by hand while serving: the job stays until a restart or doDelete */
        goto out;
    }
    id = ident_of(&st);
    if (old && job_ident_eq(&old->ident, &id)) {
        job_mark_checked(old);
        goto out;
    }
    r = fs_read_all_stat(path, BOUND_CONFIG_XML_BYTES, &xml, &len, &st);
    if (r == -ENOENT)
        goto out;
    if (r < 0) {
        log_warn("job %s: config.xml changed on disk but cannot be read (%s); the old "
                 "definition is kept", name, r == -E2BIG ? "larger than the 1 MiB limit" : strerror(-r));
        goto kept;
    }
    if (len == 0)
        goto out;   /* a file caught between its truncation and its write */
    id = ident_of(&st);
    hash = fnv1a(xml, len) ^ fnv1a(name, strlen(name));
    r = job_new(name, xml, len, &id, &job, &err);
    if (r < 0) {
        if (hash != j->last_refused) {
            j->last_refused = hash;
            log_warn("job %s: config.xml changed on disk and is refused: %s; %s", name,
                     err ? err : strerror(-r),
                     old ? "the job keeps its old settings, and its builds fail (they read "
                           "their steps from the file), until the file is fixed"
                         : "the job is not loaded until the file is fixed");
        }
        goto kept;
    }
    if (publish(j, job) >= 0 && mode == SYNC_CHANGED)
        log_info("job %s: config.xml %s on disk; %s", name, old ? "changed" : "appeared",
                 old ? "reloaded" : "loaded");
    if (mode == SYNC_CHANGED)
        index_flush(j);
    goto out;
kept:
    if (old)
        job_mark_checked(old);
out:
    if (mode == SYNC_CHECK && j->n_dirty >= INDEX_BATCH)
        index_flush(j);
    pthread_mutex_unlock(&j->write_lock);
    job_unref(old);
}

/* Calls fn for every name in jobs/ that may be a job. */
static int
each_job_dir(struct jobs *j, void (*fn)(struct jobs *j, const char *name, void *userdata),
             void *userdata)
{
    DIR *d = opendir(j->home->jobs_dir);
    struct dirent *de;
    const char *why;

    if (!d)
        return -errno;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && job_name_check(de->d_name, &why) >= 0)
            fn(j, de->d_name, userdata);
    closedir(d);
    return 0;
}

static void
check_dir(struct jobs *j, const char *name, void *userdata _unused_)
{
    sync_one(j, name, SYNC_CHECK);
}

/* The first check: every directory against the index, then what the disk no longer has. */
static void
check_all(struct jobs *j)
{
    struct job **list = NULL;
    size_t n = 0;
    int r;

    r = each_job_dir(j, check_dir, NULL);
    if (r < 0) {
        log_warn("jobs: cannot read %s: %s", j->home->jobs_dir, strerror(-r));
        return;
    }
    pthread_rwlock_rdlock(&j->lock);
    list = calloc(j->n ? j->n : 1, sizeof *list);
    for (size_t i = 0; list && i < j->n; i++)
        if (!job_checked(j->v[i]))
            list[n++] = job_ref(j->v[i]);
    pthread_rwlock_unlock(&j->lock);
    /* in the index, not in jobs/ (or not readable as a name there) */
    for (size_t i = 0; i < n; i++)
        sync_one(j, list[i]->name, SYNC_CHECK);
    jobs_list_free(list, n);
    pthread_mutex_lock(&j->write_lock);
    index_flush(j);
    pthread_mutex_unlock(&j->write_lock);
}

/* Runs the first check once, in whichever thread needs it first; the others wait. */
static void
ensure_checked(struct jobs *j)
{
    if (__atomic_load_n(&j->all_checked, __ATOMIC_ACQUIRE))
        return;
    wait_loaded(j);
    pthread_mutex_lock(&j->check_lock);
    while (!j->checked) {
        if (!j->checking) {
            j->checking = true;
            pthread_mutex_unlock(&j->check_lock);
            check_all(j);
            pthread_mutex_lock(&j->check_lock);
            j->checked = true;
            __atomic_store_n(&j->all_checked, true, __ATOMIC_RELEASE);
            pthread_cond_broadcast(&j->check_cond);
        } else
            pthread_cond_wait(&j->check_cond, &j->check_lock);
    }
    pthread_mutex_unlock(&j->check_lock);
}

static void
rescan_dir(struct jobs *j, const char *name, void *userdata _unused_)
{
    sync_one(j, name, SYNC_CHANGED);
}

int
jobs_rescan(struct jobs *j)
{
    ensure_checked(j);
    return each_job_dir(j, rescan_dir, NULL);
}

/* ---- reading ---- */

struct job *
jobs_get(struct jobs *j, const char *name)
{
    struct job *job = lookup(j, name);

    if (job ? job_checked(job) : __atomic_load_n(&j->all_checked, __ATOMIC_ACQUIRE))
        return job;
    /* not compared with its file since the start: this one now, the rest later */
    job_unref(job);
    sync_one(j, name, SYNC_CHECK);
    job = lookup(j, name);
    if (job && !job_checked(job))
        job = job_unref(job);   /* in the index, and its file is gone */
    return job;
}

int
jobs_list(struct jobs *j, struct job ***ret_list, size_t *ret_n)
{
    struct job **list;

    ensure_checked(j);
    pthread_rwlock_rdlock(&j->lock);
    list = calloc(j->n ? j->n : 1, sizeof *list);
    if (!list) {
        pthread_rwlock_unlock(&j->lock);
        return -ENOMEM;
    }
    for (size_t i = 0; i < j->n; i++)
        list[i] = job_ref(j->v[i]);
    *ret_n = j->n;
    pthread_rwlock_unlock(&j->lock);
    *ret_list = list;
    return 0;
}

int
jobs_each(struct jobs *j, int (*fn)(void *userdata, struct job *job), void *userdata)
{
    int r = 0;

    ensure_checked(j);
    pthread_rwlock_rdlock(&j->lock);
    for (size_t i = 0; i < j->n && r >= 0; i++)
        r = fn(userdata, j->v[i]);
    pthread_rwlock_unlock(&j->lock);
    return r;
}

void
jobs_list_free(struct job **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        job_unref(list[i]);
    free(list);
}

int
jobs_read_xml(struct jobs *j, const char *name, char **ret_xml, size_t *ret_len)
{
    _cleanup_free_ char *path = home_job_config(j->home, name);

    if (!path)
        return -ENOMEM;
    return fs_read_all(path, BOUND_CONFIG_XML_BYTES, ret_xml, ret_len);
}

int
jobs_config_ident(struct jobs *j, const char *name, struct job_ident *ret)
{
    _cleanup_free_ char *path = home_job_config(j->home, name);
    struct stat st;

    if (!path)
        return -ENOMEM;
    if (stat(path, &st) < 0)
        return -errno;
    *ret = ident_of(&st);
    return 0;
}

int
jobs_read_config(struct jobs *j, const char *name, struct job_config **ret_cfg,
                 char **reterr_msg)
{
    return jobs_read_config_ident(j, name, ret_cfg, NULL, reterr_msg);
}

int
jobs_read_config_ident(struct jobs *j, const char *name, struct job_config **ret_cfg,
                       struct job_ident *ret_ident, char **reterr_msg)
{
    _cleanup_free_ char *path = home_job_config(j->home, name);
    _cleanup_free_ char *xml = NULL;
    struct stat st;
    size_t len;
    int r;

    r = path ? fs_read_all_stat(path, BOUND_CONFIG_XML_BYTES, &xml, &len, &st) : -ENOMEM;
    if (r < 0) {
        if (reterr_msg && asprintf(reterr_msg, "config.xml cannot be read: %s",
                                   r == -E2BIG ? "larger than the 1 MiB limit" : strerror(-r)) < 0)
            *reterr_msg = NULL;
        return r;
    }
    if (ret_ident)
        *ret_ident = ident_of(&st);
    return jobcfg_parse(xml, len, ret_cfg, reterr_msg);
}

/* ---- changing ---- */

/* Writes config.xml and returns the identity of what was written. */
static int
write_config(struct jobs *j, const char *name, const char *xml, size_t len, struct job_ident *ret)
{
    _cleanup_free_ char *dir = home_job_dir(j->home, name);
    _cleanup_free_ char *path = home_job_config(j->home, name);
    int r;

    if (!dir || !path)
        return -ENOMEM;
    r = fs_mkdir_p(dir, 0700);
    if (r < 0)
        return r;
    r = fs_write_atomic(path, xml, len, 0600);
    if (r < 0)
        return r;
    return jobs_config_ident(j, name, ret);
}

static int
store_and_publish(struct jobs *j, const char *name, const char *xml, size_t len,
                  bool must_exist, char **reterr_msg)
{
    struct job *job = NULL, *old;
    struct job_ident id = { 0 };
    const char *why;
    int r;

    if (job_name_check(name, &why) < 0) {
        if (reterr_msg)
            *reterr_msg = strdup(why);
        return -EINVAL;
    }
    r = job_new(name, xml, len, &id, &job, reterr_msg);
    if (r < 0)
        return r;

    job_unref(jobs_get(j, name));   /* compared with its file, if it was not yet */
    pthread_mutex_lock(&j->write_lock);
    old = lookup(j, name);
    if (must_exist && !old)
        r = -ENOENT;
    else if (!must_exist && old)
        r = -EEXIST;
    else {
        r = write_config(j, name, xml, len, &job->ident);
        if (r < 0 && !must_exist) {
            /* a create that could not write leaves no empty directory behind */
            _cleanup_free_ char *dir = home_job_dir(j->home, name);
            if (dir)
                (void) rmdir(dir);
        }
    }
    if (r >= 0)
        r = publish(j, TAKE_PTR(job));
    index_flush(j);
    pthread_mutex_unlock(&j->write_lock);
    job_unref(old);
    job_unref(job);
    return r;
}

int
jobs_create(struct jobs *j, const char *name, const char *xml, size_t len, char **reterr_msg)
{
    return store_and_publish(j, name, xml, len, false, reterr_msg);
}

int
jobs_update_xml(struct jobs *j, const char *name, const char *xml, size_t len, char **reterr_msg)
{
    return store_and_publish(j, name, xml, len, true, reterr_msg);
}

int
jobs_update_cfg(struct jobs *j, const char *name, struct job_config *cfg)
{
    _cleanup_(jobcfg_freep) struct job_config *c = cfg;
    _cleanup_free_ char *xml = NULL;
    size_t len;
    int r;

    r = jobcfg_write(c, &xml, &len);
    if (r < 0)
        return r;
    return store_and_publish(j, name, xml, len, true, NULL);
}

int
jobs_set_disabled(struct jobs *j, const char *name, bool disabled)
{
    _cleanup_(job_unrefp) struct job *job = jobs_get(j, name);
    struct job_config *cfg = NULL;
    int r;

    if (!job)
        return -ENOENT;
    r = jobs_read_config(j, name, &cfg, NULL);
    if (r < 0)
        return r;
    cfg->disabled = disabled;
    return jobs_update_cfg(j, name, cfg);
}

int
jobs_delete(struct jobs *j, const char *name)
{
    _cleanup_free_ char *dir = home_job_dir(j->home, name);
    _cleanup_free_ char *ws = home_workspace(j->home, name);
    struct job *job;
    int r = 0;

    if (!dir || !ws)
        return -ENOMEM;
    job_unref(jobs_get(j, name));
    pthread_mutex_lock(&j->write_lock);
    job = lookup(j, name);
    if (!job)
        r = -ENOENT;
    else {
        unpublish(j, name);
        r = fs_rm_rf(dir);
        (void) fs_rm_rf(ws);
    }
    index_flush(j);
    pthread_mutex_unlock(&j->write_lock);
    job_unref(job);
    return r;
}

int
jobs_rename(struct jobs *j, const char *from, const char *to)
{
    _cleanup_free_ char *dfrom = home_job_dir(j->home, from), *dto = home_job_dir(j->home, to);
    _cleanup_free_ char *wfrom = home_workspace(j->home, from), *wto = home_workspace(j->home, to);
    _cleanup_free_ char *path = home_job_config(j->home, to);
    struct job *job = NULL, *other = NULL, *renamed = NULL;
    struct job_config *sum = NULL;
    struct job_ident id;
    const char *why;
    struct stat st;
    int r;

    if (!dfrom || !dto || !wfrom || !wto || !path)
        return -ENOMEM;
    if (job_name_check(to, &why) < 0)
        return -EINVAL;
    job_unref(jobs_get(j, from));
    job_unref(jobs_get(j, to));
    pthread_mutex_lock(&j->write_lock);
    job = lookup(j, from);
    other = lookup(j, to);
    if (!job)
        r = -ENOENT;
    else if (other)
        r = -EEXIST;
    else if (rename(dfrom, dto) < 0)
        r = -errno;
    else {
        (void) rename(wfrom, wto);
        /* the same file under another directory: the same summary */
        id = stat(path, &st) == 0 ? ident_of(&st) : job->ident;
        r = jobcfg_summary(job->cfg, &sum);
        if (r >= 0)
            r = job_wrap(to, sum, &id, true, &renamed);
        if (r >= 0) {
            unpublish(j, from);
            r = publish(j, renamed);
        }
    }
    index_flush(j);
    pthread_mutex_unlock(&j->write_lock);
    job_unref(job);
    job_unref(other);
    return r;
}

/* The watch on one job's directory; names are kept per watch descriptor. */
static int
watch_dir(struct jobs *j, const char *name)
{
    _cleanup_free_ char *dir = home_job_dir(j->home, name);
    char *copy;
    int wd;

    if (!dir)
        return -ENOMEM;
    wd = inotify_add_watch(j->ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR);
    if (wd < 0) {
        if (!j->watch_warned && (errno == ENOSPC || errno == ENOMEM)) {
            j->watch_warned = true;
            log_warn("jobs: cannot watch more job directories (%s): changes made on disk to "
                     "the others are read at the next SIGHUP or restart", strerror(errno));
        }
        return -errno;
    }
    copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i < j->n_watches; i++)
        if (j->watches[i].wd == wd) {
            free(j->watches[i].name);
            j->watches[i].name = copy;
            return 0;
        }
    if (j->n_watches == j->cap_watches) {
        size_t cap = j->cap_watches ? j->cap_watches * 2 : 64;
        struct job_watch *v = realloc(j->watches, cap * sizeof *v);
        if (!v) {
            free(copy);
            return -ENOMEM;
        }
        j->watches = v;
        j->cap_watches = cap;
    }
    j->watches[j->n_watches++] = (struct job_watch){ .wd = wd, .name = copy };
    return 0;
}

static const char *
watched_name(struct jobs *j, int wd)
{
    for (size_t i = 0; i < j->n_watches; i++)
        if (j->watches[i].wd == wd)
            return j->watches[i].name;
    return NULL;
}

static void
unwatch(struct jobs *j, int wd)
{
    for (size_t i = 0; i < j->n_watches; i++)
        if (j->watches[i].wd == wd) {
            free(j->watches[i].name);
            j->watches[i] = j->watches[--j->n_watches];
            return;
        }
}

static void
watch_all(struct jobs *j)
{
    DIR *d = opendir(j->home->jobs_dir);
    struct dirent *de;
    const char *why;

    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.' && job_name_check(de->d_name, &why) >= 0)
            (void) watch_dir(j, de->d_name);
    if (d)
        closedir(d);
}

static void settle_later(struct jobs *j, const char *name);

static void
handle_event(struct jobs *j, const struct inotify_event *ev)
{
    const char *why;

    if (ev->mask & IN_Q_OVERFLOW) {
        /* events were lost: look at everything */
        watch_all(j);
        (void) jobs_rescan(j);
        return;
    }
    if (ev->mask & IN_IGNORED) {
        unwatch(j, ev->wd);
        return;
    }
    if (ev->wd == j->jobs_wd) {
        /* a job directory appeared (made, copied or renamed in) */
        if (ev->len && (ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
            job_name_check(ev->name, &why) >= 0 && watch_dir(j, ev->name) >= 0)
            settle_later(j, ev->name);
        return;
    }
    if (ev->len && streq(ev->name, "config.xml")) {
        const char *n = watched_name(j, ev->wd);
        if (n)
            settle_later(j, n);
    }
}

/*
 * A file being written in steps (truncated, then written; several saves)
 * is read once it has been still for SETTLE_MS: one reading, one verdict.
 */
#define SETTLE_MS 200

static void
settle_later(struct jobs *j, const char *name)
{
    int64_t due = mono_ms() + SETTLE_MS;
    struct job_settle *v;

    for (size_t i = 0; i < j->n_settle; i++)
        if (streq(j->settle[i].name, name)) {
            j->settle[i].due = due;
            return;
        }
    v = realloc(j->settle, (j->n_settle + 1) * sizeof *v);
    if (!v)
        return;
    j->settle = v;
    j->settle[j->n_settle].name = strdup(name);
    j->settle[j->n_settle].due = due;
    if (j->settle[j->n_settle].name)
        j->n_settle++;
}

/* Reads what has settled; returns the ms until the next one settles, or -1. */
static int
settle_due(struct jobs *j)
{
    int64_t now = mono_ms(), next = -1;
    size_t k = 0;

    for (size_t i = 0; i < j->n_settle; i++) {
        struct job_settle *e = &j->settle[i];
        if (e->due <= now) {
            sync_one(j, e->name, SYNC_CHANGED);
            free(e->name);
        } else {
            next = next < 0 ? e->due - now : MIN(next, e->due - now);
            j->settle[k++] = *e;
        }
    }
    j->n_settle = k;
    return (int) next;
}

static void *
watch_thread(void *arg)
{
    struct jobs *j = arg;
    _Alignas(struct inotify_event) char buf[16 * 1024];

    /* here, not in jobs_watch: a large jobs/ must not hold up the start */
    background_priority();
    if (!wait_gate(j))
        return NULL;
    ensure_checked(j);
    watch_all(j);
    /* what changed between the check and the watches */
    (void) jobs_rescan(j);
    for (;;) {
        struct pollfd p[2] = { { .fd = j->ifd, .events = POLLIN },
                               { .fd = j->stop_fd, .events = POLLIN } };
        ssize_t n;

        if (poll(p, 2, settle_due(j)) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        n = read(j->ifd, buf, sizeof buf);
        if (n <= 0)
            continue;
        for (char *q = buf; q < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *) q;
            handle_event(j, ev);
            q += sizeof *ev + ev->len;
        }
    }
    return NULL;
}

int
jobs_watch(struct jobs *j)
{
    j->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    j->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (j->ifd < 0 || j->stop_fd < 0)
        return -errno;
    j->jobs_wd = inotify_add_watch(j->ifd, j->home->jobs_dir,
                                   IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    if (j->jobs_wd < 0)
        return -errno;
    if (pthread_create(&j->watcher, NULL, watch_thread, j) != 0)
        return -EAGAIN;
    j->watching = true;
    return 0;
}
