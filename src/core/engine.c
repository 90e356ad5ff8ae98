/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/archive.h"
#include "core/buildmeta.h"
#include "core/chain.h"
#include "core/credentials.h"
#include "core/cron.h"
#include "core/audit.h"
#include "core/engine.h"
#include "core/git.h"
#include "core/junit.h"
#include "core/mask.h"
#include "core/params.h"
#include "core/poll.h"
#include "core/sandbox.h"
#include "core/spawn.h"
#include "core/workspace.h"
#include "core/upload.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/idmap.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

extern char **environ;

#define FLUSH_INTERVAL_MS 1000
#define TRIM_INTERVAL_MS  10000
#define DAY_MS (24 * 3600 * 1000LL)
#define DISCARD_BATCH 1000

enum cmd_type { CMD_TRIGGER, CMD_CANCEL, CMD_STOP, CMD_FORGET, CMD_RENAME, CMD_QUIET, CMD_LOAD,
                CMD_QUIT, CMD_ABORT_ALL, CMD_POLL, CMD_CHANGE_BUILD, CMD_WIPE,
                CMD_PREVIEW };

struct cmd {
    enum cmd_type type;
    const struct trigger *trigger;
    const char *job;
    const char *job2;
    const char *by;
    int64_t id;
    struct engine_load *load;
    const struct build_change *change;
    /* answer */
    int result;
    int64_t out_id;
    bool merged;
    bool done;
    struct cmd *next;
    /* asynchronous triggers: the command owns copies of everything */
    engine_trigger_done_fn done_fn;
    void *userdata;
    struct trigger owned_trigger;
    struct cause owned_cause;
    char owned_addr[64];
};

struct unrecorded {
    char *job;
    int64_t number;
    const char *result;
    int64_t duration;
    const char *reason;
};

struct qitem {
    struct queue_row row;
    uint64_t key;   /* merge_key() of the job and parameter values */
};

struct run {
    struct job *job;
    struct job_config *cfg;     /* config.xml whole, as read when the build started */
    struct queue_row row;       /* the item it came from: causes and parameters */
    bool claimed;               /* its row is in the open transaction; not started yet */
    bool uploads_pending;       /* its file parameters are not in the workspace yet */
    int64_t number;
    int64_t queue_id;
    int64_t start_ms;
    int64_t start_mono;
    int executor;
    size_t step;
    bool checking_out;          /* the running step is the Git checkout (core/git.h) */
    char *git_previous;         /* "BRANCH SHA" lines of earlier builds, for the checkout */
    char *git_previous_ok;      /* the same, of successful builds only */
    pid_t pid;
    int pidfd;
    int logfd;
    bool aborting;
    int64_t kill_at_mono;
    char **env;
    char *workspace;
    char *tmpdir;
    char *cred_dir;             /* the checkout's Git credentials (git_creds_prepare()), or NULL */
    /* the Credentials Binding wrapper (bind_credentials()) */
    char **bind_env;            /* NAME=value for the shell steps, added after the checkout */
    size_t n_bind_env;
    char **bind_secrets;        /* the values the console masks */
    size_t n_bind_secrets;
    char *bind_dir;             /* @tmp/secretFiles-RANDOM: bound files, removed at the end */
    struct cmd *forget_waiter;  /* a CMD_FORGET waiting for this run to end */
    struct mask *mask;          /* password parameters: steps write here, masked into the log */
    int out_fd;                 /* what steps write to: the log, or the mask's pipe */
    const char *abort_reason;   /* why Steward itself aborted it (a static string), or NULL */

    /* the build-timeout wrapper, or the server's --build-timeout (timeout_arm()) */
    int64_t timeout_ms;         /* the effective timeout; 0: none (any more) */
    int64_t timeout_at_mono;    /* when it fires; output moves it on with no_activity */
    bool timeout_no_activity;
    off_t timeout_log_size;     /* the log's size when last looked at */
    const char *timeout_result; /* what the build ends with after it fired; NULL: ABORTED */
    const char *ws_refused;     /* why the custom workspace cannot be used (static), or NULL */

    /*
     * Archiving the artifacts, on a thread of its own so that a large copy
     * never holds up the queue; archive_efd (in the epoll set, for this run)
     * says it is done. The build ends then, with `result` as decided.
     */
    bool archiving;
    bool cancel_archive;     /* set by the engine (a stop), read by the archiver */
    pthread_t archiver;
    int archive_efd;
    char *archive_dest;
    const char *result;
    int archive_r;
    size_t archive_count;
    /* the publishers the archiver thread runs: ArtifactArchiver, then JUnit */
    bool archive_wanted;
    bool junit_wanted;
    int junit_r;
    struct junit_result junit;
    const char *junit_db;          /* lent: the home's database, written by the archiver thread */
    char *junit_globs;             /* testResults with the build's ${VARIABLES} expanded */
    int junit_store_r;
    struct test_summary junit_sum;
};

/* SCM polls running at once, and waiting at most */
#define POLL_SLOTS 2
#define POLL_WANTED_MAX 100000
/* a poll's step ends by itself after 10 minutes (timeout in its script); this is the backstop */
#define POLL_DEADLINE_MS (11 * 60 * 1000)

/* A poll asked for, and the cause a build it finds gets (CAUSE_SCM, or CAUSE_GITHUB with who pushed). */
struct poll_want {
    char *job;
    enum cause_kind kind;
    char *user;
};

/* One SCM poll of a job: its step in the sandbox, and its log. */
struct poll_run {
    char *job;
    enum cause_kind kind;
    char *user;
    struct job_config *cfg;
    pid_t pid;
    int pidfd;
    int logfd;
    char *out;          /* the report, in the job's @tmp */
    char *cred_dir;     /* the poll's Git credentials (git_creds_prepare()), or NULL */
    int64_t start_mono;
};

struct engine {
    struct home *home;
    struct jobs *jobs;
    struct auth *auth;
    struct engine_opts opts;
    char *root_url;
    struct store *db;

    pthread_t thread;
    bool started;
    int efd;      /* wakes the loop */
    int epfd;

    pthread_mutex_t lock;
    pthread_cond_t answered;
    struct cmd *inbox;
    struct cmd **inbox_tail;
    bool inbox_signalled;    /* efd was written since the loop last took the inbox */
    bool quitting;
    bool exited;             /* the loop has ended: every command is refused */
    bool exiting;            /* a safe exit has asked the process to stop */
    /* quiet-down: written under `lock` by any thread, read by the loop and the API */
    bool quiet;
    bool safe_exit;
    char *quiet_reason;
    /* uploads held for triggers on their way in (engine_hold_upload()), under `lock` */
    struct upload_hold {
        char sha256[UPLOAD_HASH_LEN + 1];
        unsigned count;
    } *holds;
    size_t n_holds;

    /* owned by the loop thread */
    struct qitem *waiting;   /* in id order */
    size_t n_waiting, cap_waiting;
    size_t waiting_bytes;      /* what the waiting items hold, by row_bytes() */
    struct idmap by_key;     /* merge_key() -> id of the waiting items */
    int64_t next_due_ms;     /* no waiting item is due before this */
    bool blocked;            /* some item is due but could not start */
    struct run **runs;   /* one slot per executor */
    int64_t next_flush_mono;
    int64_t next_trim_mono;     /* when an idle server next gives its free memory back */
    int64_t next_minute_ms;  /* wall clock: the next minute the timer triggers look at */
    bool exit_requested;     /* a safe exit found nothing running and called opts.on_idle */
    bool stopping;           /* CMD_QUIT came: no build starts, running ones get the grace */
    bool stop_aborted;       /* the grace is over: running builds were aborted */
    int64_t stop_deadline_mono;
    struct unrecorded *unrecorded;  /* results the database could not take yet */
    size_t n_unrecorded;

    /* SCM polls (core/poll.h): at most POLL_SLOTS at a time, the others wait in `poll_wanted` */
    struct poll_run *polls[POLL_SLOTS];
    struct poll_want *poll_wanted;
    size_t n_poll_wanted;

    char *uploads;           /* HOME/uploads: file parameters' files (core/upload.h) */

    /* discarded builds are renamed into HOME/trash, and emptied on a thread */
    char *trash;
    uint64_t trash_seq;
    pthread_t janitor;
    bool janitor_running;
    bool janitor_done;       /* set by the janitor as it ends */
};

/*
 * A value in every build's environment that names that build: what a
 * build left running can be found by it after a crash (spawn_kill_by_env).
 */
static void
build_cookie(const struct engine *e, const char *job, int64_t number, char out[64])
{
    char hash[SECRET_SHA256_HEX_LEN + 1];
    struct buf b = BUF_INIT(8192);

    (void) buf_printf(&b, "%s\n%s\n%lld", e->home->root, job, (long long) number);
    secret_sha256_hex(buf_str(&b), b.len, hash);
    buf_release(&b);
    snprintf(out, 64, "STEWARD_BUILD_COOKIE=%.32s", hash);
}

char *
job_url(const char *root_url, const char *job)
{
    struct buf b = BUF_INIT(16384);

    if (buf_printf(&b, "%sjob/", root_url) < 0 || url_encode(&b, job) < 0 || buf_putc(&b, '/') < 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}

int
engine_new(struct home *h, struct jobs *jobs, struct auth *auth, const struct engine_opts *opts,
           struct engine **ret_engine)
{
    struct engine *e = calloc(1, sizeof *e);

    if (!e)
        return -ENOMEM;
    e->home = h;
    e->jobs = jobs;
    e->auth = auth;
    e->opts = *opts;
    if (e->opts.executors < 1)
        e->opts.executors = 1;
    if (e->opts.queue_limit < 1)
        e->opts.queue_limit = BOUND_QUEUE_ITEMS;
    if (e->opts.queue_bytes < 1)
        e->opts.queue_bytes = BOUND_QUEUE_BYTES;
    if (e->opts.audit_days < 1)
        e->opts.audit_days = AUDIT_DEFAULT_DAYS;
    e->root_url = strdup(opts->root_url);
    e->trash = path_join(h->root, "trash");
    e->uploads = upload_dir(h->root);
    e->runs = calloc((size_t) e->opts.executors, sizeof *e->runs);
    e->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->answered, NULL);
    e->inbox_tail = &e->inbox;
    if (!e->root_url || !e->trash || !e->uploads || !e->runs || e->efd < 0 || e->epfd < 0) {
        engine_free(e);
        return -ENOMEM;
    }
    *ret_engine = e;
    return 0;
}

struct engine *
engine_free(struct engine *e)
{
    if (!e)
        return NULL;
    for (size_t i = 0; i < e->n_waiting; i++)
        queue_row_release(&e->waiting[i].row);
    free(e->waiting);
    idmap_release(&e->by_key);
    if (e->janitor_running)
        pthread_join(e->janitor, NULL);
    free(e->trash);
    free(e->uploads);
    free(e->holds);
    for (size_t i = 0; i < e->n_poll_wanted; i++) {
        free(e->poll_wanted[i].job);
        free(e->poll_wanted[i].user);
    }
    free(e->poll_wanted);
    free(e->runs);
    free(e->root_url);
    free(e->quiet_reason);
    for (size_t i = 0; i < e->n_unrecorded; i++)
        free(e->unrecorded[i].job);
    free(e->unrecorded);
    if (e->efd >= 0)
        close(e->efd);
    if (e->epfd >= 0)
        close(e->epfd);
    store_close(e->db);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->answered);
    free(e);
    return NULL;
}

int
engine_executors(const struct engine *e)
{
    return e->opts.executors;
}

int64_t
engine_queue_bytes(const struct engine *e)
{
    return e->opts.queue_bytes;
}

int
engine_queue_limit(const struct engine *e)
{
    return e->opts.queue_limit;
}

/* ---- the inbox ---- */

/* An asynchronous command and its copies are one block (engine_trigger_async()). */
static void
cmd_free_owned(struct cmd *c)
{
    free(c);
}

/*
 * The loop is woken once for whatever comes until it takes the inbox:
 * while it commits one group, the triggers of the next one arrive without
 * a system call each. drain_inbox() reads efd before it takes the list
 * and clears the flag with it, so a command is either in the list it
 * takes or has written efd again.
 */
static int
enqueue(struct engine *e, struct cmd *c)
{
    uint64_t one = 1;
    bool wake;

    c->done = false;
    c->next = NULL;
    pthread_mutex_lock(&e->lock);
    if (e->exited || (e->quitting && c->type != CMD_QUIT && c->type != CMD_ABORT_ALL)) {
        pthread_mutex_unlock(&e->lock);
        return -ECANCELED;
    }
    *e->inbox_tail = c;
    e->inbox_tail = &c->next;
    wake = !e->inbox_signalled;
    e->inbox_signalled = true;
    pthread_mutex_unlock(&e->lock);
    if (wake)
        (void) !write(e->efd, &one, sizeof one);
    return 0;
}

static int
submit(struct engine *e, struct cmd *c)
{
    int r = enqueue(e, c);

    if (r < 0)
        return r;

    pthread_mutex_lock(&e->lock);
    while (!c->done)
        pthread_cond_wait(&e->answered, &e->lock);
    pthread_mutex_unlock(&e->lock);
    return c->result;
}

static void
answer(struct engine *e, struct cmd *c, int result)
{
    if (c->done_fn) {
        c->done_fn(c->userdata, result, c->out_id, c->merged);
        cmd_free_owned(c);
        return;
    }
    pthread_mutex_lock(&e->lock);
    c->result = result;
    c->done = true;
    pthread_cond_broadcast(&e->answered);
    pthread_mutex_unlock(&e->lock);
}

int
engine_poll(struct engine *e, const char *job, const struct cause *cause)
{
    struct trigger t = { .job = job, .cause = cause };
    struct cmd c = { .type = CMD_POLL, .job = job, .trigger = cause ? &t : NULL };

    return submit(e, &c);
}

static void unhold_trigger(struct engine *e, const struct trigger *t);

int
engine_trigger(struct engine *e, const struct trigger *t, int64_t *ret_queue_id, bool *ret_merged)
{
    struct cmd c = { .type = CMD_TRIGGER, .trigger = t };
    int r = enqueue(e, &c);

    if (r < 0) {
        /* never reached the loop: its holds go here */
        unhold_trigger(e, t);
        return r;
    }
    pthread_mutex_lock(&e->lock);
    while (!c.done)
        pthread_cond_wait(&e->answered, &e->lock);
    pthread_mutex_unlock(&e->lock);
    r = c.result;
    if (r < 0)
        return r;
    *ret_queue_id = c.out_id;
    *ret_merged = c.merged;
    return 0;
}

int
engine_trigger_preview(struct engine *e, const struct trigger *t, int64_t *ret_queue_id,
                       bool *ret_merged)
{
    struct cmd c = { .type = CMD_PREVIEW, .trigger = t };
    int r = submit(e, &c);

    if (r < 0)
        return r;
    *ret_queue_id = c.out_id;
    *ret_merged = c.merged;
    return 0;
}

/* Copies `s` (NULL stays NULL) to *at, which it moves past the copy. */
static char *
place(char **at, const char *s)
{
    char *copy = *at;
    size_t n;

    if (!s)
        return NULL;
    n = strlen(s) + 1;
    memcpy(copy, s, n);
    *at += n;
    return copy;
}

static size_t
size_or_0(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/*
 * The command owns copies of the trigger, in one block with it: one
 * allocation on the HTTP thread and one free on the loop's, rather than
 * one of each per string.
 */
int
engine_trigger_async(struct engine *e, const struct trigger *t, engine_trigger_done_fn done,
                     void *userdata)
{
    const struct cause *cause = t->cause;
    size_t need = sizeof(struct cmd) + t->n_params * sizeof(struct param_value);
    struct param_value *params;
    struct cmd *c;
    char *at;
    int r;

    need += strlen(t->job) + 1 + size_or_0(cause->user_name) + size_or_0(cause->token_name) +
            size_or_0(cause->addr) + size_or_0(cause->note);
    for (size_t i = 0; i < t->n_params; i++)
        need += strlen(t->params[i].name) + 1 +
                (t->params[i].value ? strlen(t->params[i].value) : 0) + 1;
    c = calloc(1, need);
    if (!c) {
        unhold_trigger(e, t);
        return -ENOMEM;
    }
    /* struct cmd's size is a multiple of its alignment, which the array needs no more than */
    static_assert(_Alignof(struct cmd) >= _Alignof(struct param_value), "params follow the cmd");
    params = (struct param_value *) (c + 1);
    at = (char *) (params + t->n_params);
    c->type = CMD_TRIGGER;
    c->done_fn = done;
    c->userdata = userdata;
    c->trigger = &c->owned_trigger;
    for (size_t i = 0; i < t->n_params; i++) {
        params[i].type = t->params[i].type;
        params[i].name = place(&at, t->params[i].name);
        params[i].value = place(&at, t->params[i].value ? t->params[i].value : "");
    }
    c->owned_cause = (struct cause){ .kind = cause->kind,
                                     .count = cause->count > 0 ? cause->count : 1 };
    c->owned_cause.user_name = place(&at, cause->user_name);
    c->owned_cause.token_name = place(&at, cause->token_name);
    c->owned_cause.addr = place(&at, cause->addr);
    c->owned_cause.note = place(&at, cause->note);
    /* `via` is one of the static names */
    snprintf(c->owned_addr, sizeof c->owned_addr, "%s", t->addr ? t->addr : "");
    c->owned_trigger = (struct trigger){ .job = place(&at, t->job), .params = params,
                                         .n_params = t->n_params, .cause = &c->owned_cause,
                                         .delay_ms = t->delay_ms, .via = t->via,
                                         .addr = t->addr ? c->owned_addr : NULL,
                                         .holds_uploads = t->holds_uploads };
    assert((size_t) (at - (char *) c) == need);
    r = enqueue(e, c);
    if (r < 0) {
        unhold_trigger(e, t);
        cmd_free_owned(c);
    }
    return r;
}

int
engine_cancel(struct engine *e, int64_t queue_id)
{
    struct cmd c = { .type = CMD_CANCEL, .id = queue_id };

    return submit(e, &c);
}

int
engine_stop_build(struct engine *e, const char *job, int64_t number, const char *by)
{
    struct cmd c = { .type = CMD_STOP, .job = job, .id = number, .by = by };

    return submit(e, &c);
}

int
engine_wipe_workspace(struct engine *e, const char *job)
{
    struct cmd c = { .type = CMD_WIPE, .job = job };

    return submit(e, &c);
}

int
engine_forget_job(struct engine *e, const char *job)
{
    struct cmd c = { .type = CMD_FORGET, .job = job };

    return submit(e, &c);
}

int
engine_change_build(struct engine *e, const char *job, int64_t number,
                    const struct build_change *change)
{
    struct cmd c = { .type = CMD_CHANGE_BUILD, .job = job, .id = number, .change = change };

    return submit(e, &c);
}

int
engine_rename_job(struct engine *e, const char *from, const char *to)
{
    struct cmd c = { .type = CMD_RENAME, .job = from, .job2 = to };

    return submit(e, &c);
}

/* A reason as given, cut at the bound, with control characters as spaces. */
static char *
reason_copy(const char *reason)
{
    return reason && *reason ? strdup_one_line(reason, BOUND_QUIET_REASON_BYTES) : NULL;
}

int
engine_quiet_down(struct engine *e, enum quiet_mode mode, const char *reason)
{
    struct cmd c = { .type = CMD_QUIET };
    char *copy = reason_copy(reason);

    if (reason && *reason && !copy)
        return -ENOMEM;
    pthread_mutex_lock(&e->lock);
    if (e->exiting) {
        /* the safe exit has begun the stop: nothing to cancel or change any more */
        pthread_mutex_unlock(&e->lock);
        free(copy);
        return -ECANCELED;
    }
    free(e->quiet_reason);
    e->quiet_reason = mode == QUIET_OFF ? NULL : copy;
    e->quiet = mode != QUIET_OFF;
    e->safe_exit = mode == QUIET_SAFE_EXIT;
    pthread_mutex_unlock(&e->lock);
    if (mode == QUIET_OFF)
        free(copy);
    /* the loop looks at the queue again (a cancel) or at what still runs (a safe exit) */
    return submit(e, &c);
}

bool
engine_quieting_down(struct engine *e, bool *ret_safe_exit, char **ret_reason)
{
    bool quiet;

    pthread_mutex_lock(&e->lock);
    quiet = e->quiet || e->quitting;
    if (ret_safe_exit)
        *ret_safe_exit = e->safe_exit || e->quitting;
    if (ret_reason)
        *ret_reason = e->quiet_reason ? strdup(e->quiet_reason) : NULL;
    pthread_mutex_unlock(&e->lock);
    return quiet;
}

static bool
quiet_now(struct engine *e)
{
    bool q;

    pthread_mutex_lock(&e->lock);
    q = e->quiet;
    pthread_mutex_unlock(&e->lock);
    return q;
}

int
engine_load(struct engine *e, struct engine_load *ret)
{
    struct engine_load load = { 0 };
    struct cmd c = { .type = CMD_LOAD, .load = &load };
    int r = submit(e, &c);

    if (r < 0)
        return r;
    *ret = load;
    return 0;
}

/* ---- queue items ---- */

static uint64_t
fnv(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;
}

/* The position of waiting item `id`, or -1: the array is in id order. */
static ssize_t
waiting_index(const struct engine *e, int64_t id)
{
    size_t lo = 0, hi = e->n_waiting;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->waiting[mid].row.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->n_waiting && e->waiting[lo].row.id == id ? (ssize_t) lo : -1;
}

/*
 * A hash of the job and its parameter values, the same whatever the
 * parameters' order: items that may merge have equal keys, so the merge
 * scan compares integers, not strings.
 */
static uint64_t
merge_key(const char *job, const struct param_value *params, size_t n)
{
    uint64_t h = fnv(14695981039346656037ULL, job);

    for (size_t i = 0; i < n; i++)
        h ^= fnv(fnv(14695981039346656037ULL, params[i].name),
                 params[i].value ? params[i].value : "");
    return h;
}

static bool
params_equal(const struct queue_row *q, const struct trigger *t)
{
    if (q->n_params != t->n_params)
        return false;
    for (size_t i = 0; i < t->n_params; i++) {
        bool found = false;
        for (size_t k = 0; k < q->n_params && !found; k++)
            found = streq(q->params[k].name, t->params[i].name) &&
                    streq(q->params[k].value, t->params[i].value);
        if (!found)
            return false;
    }
    return true;
}

static bool
str_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && streq(a, b));
}

static bool
cause_same(const struct cause *a, const struct cause *b)
{
    return a->kind == b->kind && str_same(a->user_name, b->user_name) &&
           str_same(a->token_name, b->token_name) && str_same(a->addr, b->addr) &&
           str_same(a->note, b->note);
}

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int
cause_copy(struct cause *dst, const struct cause *src)
{
    *dst = (struct cause){ .kind = src->kind, .count = src->count > 0 ? src->count : 1 };
    dst->user_name = dup_or_null(src->user_name);
    dst->token_name = dup_or_null(src->token_name);
    dst->addr = dup_or_null(src->addr);
    dst->note = dup_or_null(src->note);
    if ((src->user_name && !dst->user_name) || (src->token_name && !dst->token_name) ||
        (src->addr && !dst->addr) || (src->note && !dst->note)) {
        cause_release(dst);
        return -ENOMEM;
    }
    return 0;
}

/* What a cause takes in memory, roughly: its strings and their keeping. */
static size_t
cause_bytes(const struct cause *c)
{
    size_t n = 64;

    n += c->user_name ? strlen(c->user_name) : 0;
    n += c->token_name ? strlen(c->token_name) : 0;
    n += c->addr ? strlen(c->addr) : 0;
    return n + (c->note ? strlen(c->note) : 0);
}

static size_t
params_bytes(const struct param_value *p, size_t n)
{
    size_t bytes = 0;

    for (size_t i = 0; i < n; i++)
        bytes += 32 + strlen(p[i].name) + (p[i].value ? strlen(p[i].value) : 0);
    return bytes;
}

/* What a waiting item takes in memory, roughly, for the queue's byte bound. */
static size_t
row_bytes(const struct queue_row *q)
{
    size_t n = 128 + strlen(q->job) + params_bytes(q->params, q->n_params);

    for (size_t i = 0; i < q->n_causes; i++)
        n += cause_bytes(&q->causes[i]);
    return n;
}

static bool
has_cause(const struct queue_row *q, const struct cause *c)
{
    for (size_t i = 0; i < q->n_causes; i++)
        if (cause_same(&q->causes[i], c))
            return true;
    return false;
}

static int
add_cause(struct queue_row *q, const struct cause *c)
{
    struct cause *v;

    for (size_t i = 0; i < q->n_causes; i++)
        if (cause_same(&q->causes[i], c)) {
            q->causes[i].count++;
            return 0;
        }
    v = realloc(q->causes, (q->n_causes + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    q->causes = v;
    if (cause_copy(&v[q->n_causes], c) < 0)
        return -ENOMEM;
    q->n_causes++;
    return 0;
}

static int64_t
quiet_ms(struct engine *e, const struct trigger *t)
{
    _cleanup_(job_unrefp) struct job *job = NULL;

    if (t->delay_ms >= 0)
        return t->delay_ms;
    job = jobs_get(e->jobs, t->job);
    if (job && job->cfg->quiet_period >= 0)
        return (int64_t) job->cfg->quiet_period * 1000;
    return (int64_t) e->opts.quiet_period_s * 1000;
}

/*
 * Drops the audit entries past their age (serve --audit-days): hourly, and
 * at the start from the oldest on only, since the log holds an entry for
 * every trigger and a start must not read the history.
 */
static void
prune_audit(struct engine *e, int64_t now, bool oldest_only)
{
    int r = store_audit_prune(e->db, now - e->opts.audit_days * DAY_MS, oldest_only);

    if (r < 0)
        log_warn("audit: old entries could not be dropped: %s", strerror(-r));
    else if (r > 0)
        log_info("audit: dropped %d entries older than %d days", r, e->opts.audit_days);
}

/* The trigger's entry of the audit log, in its transaction: a 201 means it is recorded too. */
static int
audit_trigger(struct engine *e, const struct trigger *t, int64_t id, bool merged)
{
    const struct cause *c = t->cause;
    char detail[96];

    if (!t->via)
        return 0;
    snprintf(detail, sizeof detail, "queue item %lld%s", (long long) id,
             merged ? ", merged into a waiting one" : "");
    return store_audit_add(e->db, &(struct audit_entry){
                                      .actor = c->kind == CAUSE_USER && c->user_name ? c->user_name
                                                                                    : "anonymous",
                                      .via = t->via, .token_name = c->token_name, .addr = t->addr,
                                      .action = "trigger", .job = t->job, .detail = detail });
}

/*
 * The waiting item `t` would merge into, or NULL: the same job and the
 * same parameter values.
 */
static struct queue_row *
merge_target(struct engine *e, const struct trigger *t)
{
    uint64_t key = merge_key(t->job, t->params, t->n_params);
    size_t cursor = 0;
    int64_t id;

    while ((id = idmap_next(&e->by_key, key, &cursor)) != 0) {
        ssize_t i = waiting_index(e, id);

        assert(i >= 0); /* the index holds waiting items only */
        if (i >= 0 && streq(e->waiting[i].row.job, t->job) && params_equal(&e->waiting[i].row, t))
            return &e->waiting[i].row;
    }
    return NULL;
}

/* apply_trigger()'s decision without its changes, for a dry run. */
static int
preview_trigger(struct engine *e, struct cmd *c)
{
    const struct trigger *t = c->trigger;
    struct queue_row *w = merge_target(e, t);

    c->out_id = 0;
    c->merged = w != NULL;
    if (w) {
        c->out_id = w->id;
        if (!has_cause(w, t->cause) &&
            e->waiting_bytes + cause_bytes(t->cause) > (size_t) e->opts.queue_bytes)
            return -ENOBUFS;
        return 0;
    }
    if (e->n_waiting >= (size_t) e->opts.queue_limit)
        return -EAGAIN;
    if (e->waiting_bytes + 128 + strlen(t->job) + params_bytes(t->params, t->n_params) +
            cause_bytes(t->cause) > (size_t) e->opts.queue_bytes)
        return -ENOBUFS;
    return 0;
}

/*
 * Applies one trigger inside the open transaction. On success the
 * in-memory queue already shows the change; on failure of the whole
 * transaction the caller reloads the queue from the database.
 */
static int
apply_trigger(struct engine *e, struct cmd *c)
{
    const struct trigger *t = c->trigger;
    int64_t now = now_ms(), due = now + quiet_ms(e, t);
    struct qitem *v;
    struct queue_row q = { 0 };
    int r;

    uint64_t key = merge_key(t->job, t->params, t->n_params);
    size_t cursor = 0;
    int64_t id;

    while ((id = idmap_next(&e->by_key, key, &cursor)) != 0) {
        ssize_t i = waiting_index(e, id);
        struct queue_row *w;

        assert(i >= 0); /* the index holds waiting items only */
        if (i < 0)
            continue;
        w = &e->waiting[i].row;
        if (!streq(w->job, t->job) || !params_equal(w, t))
            continue;
        /* a cause of its own takes room too */
        if (!has_cause(w, t->cause)) {
            if (e->waiting_bytes + cause_bytes(t->cause) > (size_t) e->opts.queue_bytes)
                return -ENOBUFS;
            e->waiting_bytes += cause_bytes(t->cause);
        }
        r = add_cause(w, t->cause);
        if (r < 0)
            return r;
        if (due < w->due_ms)
            w->due_ms = due;
        e->next_due_ms = MIN(e->next_due_ms, w->due_ms);
        r = store_queue_update_merge(e->db, w);
        if (r >= 0)
            r = audit_trigger(e, t, w->id, true);
        if (r < 0)
            return r;
        c->out_id = w->id;
        c->merged = true;
        return 0;
    }

    if (e->n_waiting >= (size_t) e->opts.queue_limit)
        return -EAGAIN;
    if (e->waiting_bytes + 128 + strlen(t->job) + params_bytes(t->params, t->n_params) +
            cause_bytes(t->cause) > (size_t) e->opts.queue_bytes)
        return -ENOBUFS;
    q.job = strdup(t->job);
    q.in_queue_since_ms = now;
    q.due_ms = due;
    q.params = calloc(t->n_params ? t->n_params : 1, sizeof *q.params);
    if (!q.job || !q.params) {
        queue_row_release(&q);
        return -ENOMEM;
    }
    for (size_t i = 0; i < t->n_params; i++, q.n_params++) {
        q.params[i].name = strdup(t->params[i].name);
        q.params[i].type = t->params[i].type;
        q.params[i].value = strdup(t->params[i].value ? t->params[i].value : "");
        if (!q.params[i].name || !q.params[i].value) {
            q.n_params++;
            queue_row_release(&q);
            return -ENOMEM;
        }
    }
    /* room first: once the row is in the transaction, nothing may fail */
    if (e->n_waiting == e->cap_waiting) {
        size_t cap = MAX(e->cap_waiting * 2, (size_t) 64);
        v = reallocarray(e->waiting, cap, sizeof *v);
        if (!v) {
            queue_row_release(&q);
            return -ENOMEM;
        }
        e->waiting = v;
        e->cap_waiting = cap;
    }
    r = idmap_reserve(&e->by_key, e->n_waiting + 1);
    if (r >= 0)
        r = add_cause(&q, t->cause);
    if (r >= 0)
        r = store_queue_insert(e->db, &q);
    if (r >= 0)
        r = audit_trigger(e, t, q.id, false);
    if (r < 0) {
        queue_row_release(&q);
        return r;
    }
    (void) idmap_add(&e->by_key, key, q.id);
    e->waiting_bytes += row_bytes(&q);
    e->waiting[e->n_waiting].row = q;
    e->waiting[e->n_waiting++].key = key;
    e->next_due_ms = MIN(e->next_due_ms, due);
    c->out_id = q.id;
    c->merged = false;
    return 0;
}

static int
load_waiting(struct engine *e)
{
    struct queue_row *rows = NULL;
    size_t n = 0;
    int r;

    for (size_t i = 0; i < e->n_waiting; i++)
        queue_row_release(&e->waiting[i].row);
    free(e->waiting);
    e->waiting = NULL;
    e->n_waiting = e->cap_waiting = 0;
    e->waiting_bytes = 0;
    idmap_clear(&e->by_key);
    e->next_due_ms = 0; /* look at everything on the next turn */
    r = store_queue_list_waiting(e->db, NULL, &rows, &n);
    if (r < 0)
        return r;
    e->waiting = calloc(n ? n : 1, sizeof *e->waiting);
    if (!e->waiting) {
        queue_rows_free(rows, n);
        return -ENOMEM;
    }
    e->cap_waiting = n ? n : 1;
    for (size_t i = 0; i < n; i++) {
        e->waiting_bytes += row_bytes(&rows[i]);
        e->waiting[i].row = rows[i];
        e->waiting[i].key = merge_key(rows[i].job, rows[i].params, rows[i].n_params);
        /* without memory for the index the item still waits, it only cannot merge */
        if (idmap_add(&e->by_key, e->waiting[i].key, rows[i].id) < 0)
            log_warn("queue: out of memory, item %lld will not merge", (long long) rows[i].id);
    }
    e->n_waiting = n;
    free(rows);
    return 0;
}

/* Takes waiting item i out of the queue in memory; its row goes to *ret. */
static void
take_waiting(struct engine *e, size_t i, struct queue_row *ret)
{
    (void) idmap_del(&e->by_key, e->waiting[i].key, e->waiting[i].row.id);
    e->waiting_bytes -= MIN(e->waiting_bytes, row_bytes(&e->waiting[i].row));
    *ret = e->waiting[i].row;
    memmove(&e->waiting[i], &e->waiting[i + 1], (e->n_waiting - i - 1) * sizeof *e->waiting);
    e->n_waiting--;
}

/* ---- file parameters (core/upload.h) ---- */

static int log_write(int fd, const char *fmt, ...) _printf_(2, 3);
static void finish_run(struct engine *e, struct run *run, const char *result);
static void cleanup_after_build(struct engine *e, struct run *run);
static void start_failed(struct engine *e, struct run *run, int err);
static int add_bound_env(struct run *run);

/* What a parameter's variable holds: a file parameter's is the uploaded file's name, as in Jenkins. */
static const char *
param_env_value(const struct param_value *p)
{
    char h[UPLOAD_HASH_LEN + 1];
    const char *filename;

    if (p->type == PARAM_FILE)
        return upload_value_parse(p->value, h, &filename) == 0 ? filename : "";
    return p->value;
}

static bool upload_held(struct engine *e, const char *sha256);

static bool
row_has_upload(const struct queue_row *q, const char *sha256)
{
    char h[UPLOAD_HASH_LEN + 1];
    const char *name;

    for (size_t i = 0; i < q->n_params; i++)
        if (q->params[i].type == PARAM_FILE &&
            upload_value_parse(q->params[i].value, h, &name) == 0 && streq(h, sha256))
            return true;
    return false;
}

/* Whether a waiting item (but `except`) or a build about to start needs that upload. */
static bool
upload_needed(struct engine *e, const char *sha256, int64_t except)
{
    for (size_t i = 0; i < e->n_waiting; i++)
        if (e->waiting[i].row.id != except && row_has_upload(&e->waiting[i].row, sha256))
            return true;
    for (int i = 0; i < e->opts.executors; i++)
        if (e->runs[i] && (e->runs[i]->claimed || e->runs[i]->uploads_pending) &&
            row_has_upload(&e->runs[i]->row, sha256))
            return true;
    return upload_held(e, sha256);
}

int
engine_hold_upload(struct engine *e, const char *sha256)
{
    struct upload_hold *v;
    int r = 0;

    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < e->n_holds; i++)
        if (streq(e->holds[i].sha256, sha256)) {
            e->holds[i].count++;
            goto out;
        }
    v = realloc(e->holds, (e->n_holds + 1) * sizeof *v);
    if (!v) {
        r = -ENOMEM;
        goto out;
    }
    e->holds = v;
    snprintf(v[e->n_holds].sha256, sizeof v[e->n_holds].sha256, "%s", sha256);
    v[e->n_holds++].count = 1;
out:
    pthread_mutex_unlock(&e->lock);
    return r;
}

void
engine_unhold_upload(struct engine *e, const char *sha256)
{
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < e->n_holds; i++)
        if (streq(e->holds[i].sha256, sha256)) {
            if (--e->holds[i].count == 0)
                e->holds[i] = e->holds[--e->n_holds];
            break;
        }
    pthread_mutex_unlock(&e->lock);
}

static bool
upload_held(struct engine *e, const char *sha256)
{
    bool held = false;

    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < e->n_holds && !held; i++)
        held = streq(e->holds[i].sha256, sha256);
    pthread_mutex_unlock(&e->lock);
    return held;
}

/* The trigger is applied (or refused): its files' holds go. */
static void
unhold_trigger(struct engine *e, const struct trigger *t)
{
    char h[UPLOAD_HASH_LEN + 1];
    const char *name;

    /* only the holds it took: another's would let a file go under a request on its way in */
    for (size_t i = 0; t && t->holds_uploads && i < t->n_params; i++)
        if (t->params[i].type == PARAM_FILE && upload_value_parse(t->params[i].value, h, &name) == 0)
            engine_unhold_upload(e, h);
}

static bool
upload_needed_by_any(void *userdata, const char *sha256)
{
    return upload_needed(userdata, sha256, 0);
}

/* Removes the uploads of `params` that nothing else needs (an item cancelled or started). */
static void
forget_uploads(struct engine *e, const struct param_value *params, size_t n, int64_t except)
{
    char h[UPLOAD_HASH_LEN + 1];
    const char *name;

    for (size_t i = 0; i < n; i++)
        if (params[i].type == PARAM_FILE && upload_value_parse(params[i].value, h, &name) == 0 &&
            !upload_needed(e, h, except))
            upload_forget(e->uploads, h);
}

/*
 * Copies the build's uploaded files into its workspace, before the first
 * shell step (steps_begin(): after the cleanup and the checkout, which
 * could delete them, as Jenkins' FileParameterValue sets up after them),
 * each at its parameter's name; the workspace belongs to the build user
 * and to what earlier builds left there, so nothing in it is followed
 * (upload_install()). A file that cannot be put there fails the build.
 */
static int
install_uploads(struct engine *e, struct run *run)
{
    const struct queue_row *q = &run->row;
    char h[UPLOAD_HASH_LEN + 1];
    const char *filename;
    uid_t uid = 0;
    gid_t gid = 0;
    bool chown = sandbox_build_owner(e->opts.sandbox, &uid, &gid);
    int r = 0;

    for (size_t i = 0; i < q->n_params && r >= 0; i++) {
        if (q->params[i].type != PARAM_FILE ||
            upload_value_parse(q->params[i].value, h, &filename) < 0)
            continue;
        r = upload_install(e->uploads, h, run->workspace, q->params[i].name, chown, uid, gid);
        if (r < 0)
            log_write(run->logfd, "File parameter '%s': %s cannot be put into the workspace "
                      "at %s: %s.\nNo step runs.\n", q->params[i].name, filename,
                      q->params[i].name,
                      r == -ELOOP ? "a symbolic link is in the way (Steward never follows one "
                                    "there)"
                      : r == -ENOTDIR ? "a file is in the way of its directory"
                      : r == -EISDIR ? "a directory of that name is in the way"
                      : r == -EINVAL ? "that is not a path inside the workspace"
                      : r == -ENOENT ? "the uploaded file is gone"
                                     : strerror(-r));
        else
            log_write(run->logfd, "File parameter '%s': %s copied into the workspace.\n",
                      q->params[i].name, filename);
    }
    forget_uploads(e, q->params, q->n_params, 0);
    return r;
}

/*
 * Before the first shell step, after the checkout: the file parameters go
 * into the workspace, and the bound credentials' variables are added.
 * false when that ended the build.
 */
static bool
steps_begin(struct engine *e, struct run *run)
{
    int r;

    if (run->uploads_pending) {
        run->uploads_pending = false;
        if (install_uploads(e, run) < 0) {
            run->abort_reason = "a file parameter cannot be put into the workspace";
            finish_run(e, run, "FAILURE");
            return false;
        }
    }
    r = add_bound_env(run);
    if (r < 0) {
        start_failed(e, run, r);
        return false;
    }
    return true;
}

/* A build that ended before its first shell step lets go of its uploads. */
static void
drop_pending_uploads(struct engine *e, struct run *run)
{
    if (!run->uploads_pending)
        return;
    run->uploads_pending = false;
    forget_uploads(e, run->row.params, run->row.n_params, 0);
}

static void
remove_waiting(struct engine *e, size_t i)
{
    struct queue_row q;

    take_waiting(e, i, &q);
    queue_row_release(&q);
}

static bool claim_due(struct engine *e, bool *began);
static void unclaim_all(struct engine *e);
static void launch_claimed(struct engine *e);

/*
 * Group commit: every trigger in the batch goes into one transaction, and
 * all of them are answered after it commits. The builds that may start
 * at once are claimed in the same transaction: the commit that makes the
 * triggers durable makes their build rows durable too, and they launch
 * just before the answers, with no commit of their own in between.
 */
/* The database could not take the write: the whole group fails with it. */
static bool
store_failure(int r)
{
    return r == -EIO || r == -ENOSPC || r == -EROFS || r == -EBUSY;
}

static void
handle_triggers(struct engine *e, struct cmd **batch, size_t n)
{
    int r, *results = calloc(n, sizeof *results);
    bool reload = false;

    if (!results) {
        for (size_t i = 0; i < n; i++)
            answer(e, batch[i], -ENOMEM);
        return;
    }
    r = store_begin(e->db);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        r = store_savepoint(e->db);
        if (r < 0)
            break;
        results[i] = apply_trigger(e, batch[i]);
        if (store_failure(results[i])) {
            r = results[i];
            break;
        }
        /*
         * A trigger that failed half-way leaves nothing in the database,
         * and the waiting items in memory are read again after the commit
         * (a merge may have changed one before its update failed).
         */
        if (results[i] < 0 && results[i] != -EAGAIN && results[i] != -ENOBUFS) {
            r = store_savepoint_rollback(e->db);
            reload = true;
        } else
            r = store_savepoint_release(e->db);
    }
    /* (after a failed trigger the items in memory may differ from the rows: none is claimed) */
    if (r >= 0 && !reload) {
        bool began = true;
        (void) claim_due(e, &began);
    }
    if (r >= 0)
        r = store_commit(e->db);
    /* applied or not, the triggers' files are the queue's to keep or drop now */
    for (size_t i = 0; i < n; i++)
        unhold_trigger(e, batch[i]->trigger);
    if (r >= 0 && reload && load_waiting(e) < 0)
        log_error("queue: cannot read the waiting items again");
    if (r < 0) {
        (void) store_rollback(e->db);
        unclaim_all(e);
        (void) load_waiting(e);
        log_error("queue: commit failed (%s), %zu trigger%s refused", strerror(-r), n,
                  n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
            forget_uploads(e, batch[i]->trigger->params, batch[i]->trigger->n_params, 0);
            answer(e, batch[i], store_failure(r) ? r : -EIO);
        }
    } else {
        /*
         * A build claimed here starts before the answers go: a client that
         * reads its queue item's executable right after the 201 finds the
         * build's log begun, never empty.
         */
        launch_claimed(e);
        for (size_t i = 0; i < n; i++) {
            if (results[i] < 0)
                forget_uploads(e, batch[i]->trigger->params, batch[i]->trigger->n_params, 0);
            answer(e, batch[i], results[i]);
        }
    }
    free(results);
}

/* ---- builds ---- */

static int
log_write(int fd, const char *fmt, ...) _printf_(2, 3);

/* Appends a line of Steward's own to a build log: 0, or -errno (-ENOSPC...). */
static int
log_write(int fd, const char *fmt, ...)
{
    struct buf b = BUF_INIT(64 * 1024);
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = buf_vprintf(&b, fmt, ap) >= 0 ? fs_write_all(fd, b.ptr, b.len) : -ENOMEM;
    va_end(ap);
    buf_release(&b);
    return r;
}

/*
 * After a step: whether its output may have been lost. The step writes
 * the log itself, so Steward cannot see its failed writes; a disk with no
 * room left for the log at the step's end is taken as the sign of it.
 */
static bool
log_disk_full(int fd)
{
    struct statfs f;

    /* root writes into the reserved blocks too: then only no free block at all is full */
    return fstatfs(fd, &f) == 0 && (geteuid() == 0 ? f.f_bfree : f.f_bavail) == 0;
}

static const char *
log_failure_reason(int err)
{
    return err == -ENOSPC || err == -EDQUOT
               ? "Steward could not write the build's log: the disk is full"
               : "Steward could not write the build's log";
}

static int
env_add(char ***env, size_t *n, const char *name, const char *value)
{
    char **v, *s;

    /* a later definition of the same name wins */
    for (size_t i = 0; i < *n; i++) {
        size_t l = strlen(name);
        if (strncmp((*env)[i], name, l) == 0 && (*env)[i][l] == '=') {
            if (asprintf(&s, "%s=%s", name, value) < 0)
                return -ENOMEM;
            free((*env)[i]);
            (*env)[i] = s;
            return 0;
        }
    }
    v = realloc(*env, (*n + 2) * sizeof *v);
    if (!v)
        return -ENOMEM;
    *env = v;
    if (asprintf(&s, "%s=%s", name, value) < 0)
        return -ENOMEM;
    v[(*n)++] = s;
    v[*n] = NULL;
    return 0;
}

static void
env_free(char **env)
{
    if (!env)
        return;
    for (char **p = env; *p; p++)
        free(*p);
    free(env);
}

/* The NAME=value lines after a GitLab cause's first line; only gitlab* names with letters and digits. */
static int
add_gitlab_env(char ***env, size_t *n, const char *note)
{
    const char *p = strchr(note, '\n');
    int r = 0;

    for (p = p ? p + 1 : NULL; p && *p && r >= 0;) {
        const char *nl = strchrnul(p, '\n'), *eq = memchr(p, '=', (size_t) (nl - p));
        bool ok = eq && startswith(p, "gitlab") && eq - p < 64;

        for (const char *c = p; ok && c < eq; c++)
            ok = isalnum((unsigned char) *c);
        if (ok) {
            _cleanup_free_ char *name = strndup(p, (size_t) (eq - p));
            _cleanup_free_ char *value = strndup(eq + 1, (size_t) (nl - eq - 1));
            r = name && value ? env_add(env, n, name, value) : -ENOMEM;
        }
        p = *nl ? nl + 1 : nl;
    }
    return r;
}

/*
 * What every step starts from, a build's or a poll's: of the server's
 * environment only PATH, LANG and TZ (never its own settings or secrets:
 * NOTIFY_SOCKET, credentials...), HOME, and the --build-env entries.
 */
static int
base_env(struct engine *e, const char *home, char ***env, size_t *n)
{
    static const char *const passed[] = { "PATH", "LANG", "TZ" };
    static const char default_path[] =
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int r = 0;

    for (size_t i = 0; i < ELEMENTSOF(passed) && r >= 0; i++) {
        const char *v = getenv(passed[i]);
        if (v)
            r = env_add(env, n, passed[i], v);
        else if (streq(passed[i], "PATH"))
            r = env_add(env, n, "PATH", default_path);
    }
    if (r >= 0)
        r = env_add(env, n, "HOME", home);
    for (size_t i = 0; i < e->opts.n_build_env && r >= 0; i++) {
        const char *kv = e->opts.build_env[i], *eq = strchr(kv, '=');
        _cleanup_free_ char *name = eq ? strndup(kv, (size_t) (eq - kv)) : NULL;
        if (name)
            r = env_add(env, n, name, eq + 1);
    }
    return r;
}

static char **
build_env(struct engine *e, struct run *run, const struct queue_row *q)
{
    _cleanup_free_ char *jurl = job_url(e->root_url, run->job->name);
    char **env = calloc(1, sizeof *env), num[32], exe[16], tag[BOUND_JOB_NAME_BYTES + 64];
    char disp[40], url[BOUND_URL_BYTES + 64], wstmp[4096];
    size_t n = 0;
    int r = 0;

    if (!env || !jurl)
        goto fail;
    r = base_env(e, run->workspace, &env, &n);
    snprintf(num, sizeof num, "%lld", (long long) run->number);
    snprintf(disp, sizeof disp, "#%lld", (long long) run->number);
    snprintf(exe, sizeof exe, "%d", run->executor);
    snprintf(tag, sizeof tag, "jenkins-%s-%lld", run->job->name, (long long) run->number);
    snprintf(url, sizeof url, "%s%lld/", jurl, (long long) run->number);
    snprintf(wstmp, sizeof wstmp, "%s@tmp", run->workspace);

    const char *pairs[][2] = {
        { "BUILD_NUMBER", num },       { "BUILD_ID", num },
        { "BUILD_DISPLAY_NAME", disp }, { "BUILD_TAG", tag },
        { "BUILD_URL", url },          { "JOB_NAME", run->job->name },
        { "JOB_BASE_NAME", run->job->name }, { "JOB_URL", jurl },
        { "JENKINS_URL", e->root_url }, { "HUDSON_URL", e->root_url },
        { "JENKINS_HOME", e->home->root }, { "WORKSPACE", run->workspace },
        { "WORKSPACE_TMP", wstmp },    { "NODE_NAME", "built-in" },
        { "NODE_LABELS", "built-in" }, { "EXECUTOR_NUMBER", exe },
        { "CI", "true" },
    };
    for (size_t i = 0; i < ELEMENTSOF(pairs) && r >= 0; i++)
        r = env_add(&env, &n, pairs[i][0], pairs[i][1]);
    if (r >= 0) {
        char cookie[64];
        build_cookie(e, run->job->name, run->number, cookie);
        r = env_add(&env, &n, "STEWARD_BUILD_COOKIE", strchr(cookie, '=') + 1);
    }
    /* a GitLab hook's variables (gitlab*), as the gitlab plugin sets them */
    for (size_t i = 0; i < q->n_causes && r >= 0; i++)
        if (q->causes[i].kind == CAUSE_GITLAB && q->causes[i].note)
            r = add_gitlab_env(&env, &n, q->causes[i].note);
    /* parameters reach the build as environment variables, never as script text */
    for (size_t i = 0; i < q->n_params && r >= 0; i++)
        r = env_add(&env, &n, q->params[i].name, param_env_value(&q->params[i]));
    if (r < 0)
        goto fail;
    return env;
fail:
    env_free(env);
    return NULL;
}

/* epoll data of a run's mask pipe: the run's address with the low bit set */
#define MASK_TAG(run) ((void *) ((uintptr_t) (run) | 1))
#define IS_MASK_TAG(p) (((uintptr_t) (p) & 1) != 0)
#define MASK_RUN(p) ((struct run *) ((uintptr_t) (p) & ~(uintptr_t) 1))

/* A build with password parameters or bound credentials: its steps write through a mask. */
static int
start_masking(struct engine *e, struct run *run, const struct queue_row *q)
{
    _cleanup_free_ const char **values = calloc(BOUND_PARAMS + run->n_bind_secrets + 1,
                                                sizeof *values);
    struct epoll_event ev = { .events = EPOLLIN };
    size_t n = 0;
    int r;

    if (!values)
        return -ENOMEM;
    for (size_t i = 0; i < q->n_params && n < BOUND_PARAMS; i++)
        if (q->params[i].type == PARAM_PASSWORD && q->params[i].value[0])
            values[n++] = q->params[i].value;
    /* and every secret the Credentials Binding wrapper gives the steps */
    for (size_t i = 0; i < run->n_bind_secrets; i++)
        values[n++] = run->bind_secrets[i];
    if (n == 0)
        return 0;
    r = mask_new(run->logfd, values, n, &run->mask, &run->out_fd);
    if (r < 0)
        return r;
    ev.data.ptr = MASK_TAG(run);
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, mask_read_fd(run->mask), &ev) < 0)
        return -errno;
    return 0;
}

/* What the steps wrote so far goes into the log; `end`: what was held back too. */
static void
pump_mask(struct run *run, bool end)
{
    if (!run->mask)
        return;
    if (mask_pump(run->mask) < 0)
        log_warn("build %s #%lld: a write of its masked output to the log failed",
                 run->job->name, (long long) run->number);
    if (end)
        mask_flush(run->mask);
}

/*
 * The private directories of steps with Git credentials, in the home
 * (which every sandbox hides): HOME/git-credentials/build-EXECUTOR and
 * poll-SLOT, each shown to its own step alone. Leftovers of a crash go
 * at the next start.
 */
#define CRED_DIRS "git-credentials"

/* Strings that held secrets: wiped, then freed. */
static void
strv_wipe_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i]) {
            secret_wipe(v[i], strlen(v[i]));
            free(v[i]);
        }
    free(v);
}

/* A step's private directory, with what is in it, gone. */
static void
drop_private(char **dir)
{
    if (!*dir)
        return;
    (void) fs_rm_rf(*dir);
    free(*dir);
    *dir = NULL;
}

static void
run_free(struct run *run)
{
    if (!run)
        return;
    mask_free(run->mask);
    drop_private(&run->cred_dir);
    drop_private(&run->bind_dir);
    strv_wipe_free(run->bind_env, run->n_bind_env);
    strv_wipe_free(run->bind_secrets, run->n_bind_secrets);
    if (run->pidfd >= 0)
        close(run->pidfd);
    if (run->logfd >= 0)
        close(run->logfd);
    if (run->archive_efd >= 0)
        close(run->archive_efd);
    free(run->archive_dest);
    junit_result_release(&run->junit);
    free(run->junit_globs);
    env_free(run->env);
    free(run->workspace);
    free(run->tmpdir);
    free(run->git_previous);
    free(run->git_previous_ok);
    jobcfg_free(run->cfg);
    job_unref(run->job);
    queue_row_release(&run->row);
    free(run);
}

static int spawn_script(struct engine *e, struct run *run, const char *script, char **env,
                        bool shell_step);

static int
spawn_step(struct engine *e, struct run *run)
{
    return spawn_script(e, run, run->cfg->shell_steps[run->step], run->env, true);
}

/*
 * Starts `script` in the build's sandbox with `env`: a shell step (shown
 * in the log, run by /bin/sh -xe unless it has a #! line), or the Git
 * checkout (`shell_step` false: /bin/sh -e, which shows its own commands).
 */
static int
spawn_script(struct engine *e, struct run *run, const char *script, char **env, bool shell_step)
{
    _cleanup_free_ char *name = NULL;
    struct sandbox_cmd cmd;
    struct spawn_req req;
    struct epoll_event ev = { .events = EPOLLIN };
    bool shebang = shell_step && startswith(script, "#!");
    int r;

    if (asprintf(&name, shell_step ? "steward%lld-%zu" : "steward%lld-git",
                 (long long) run->number, run->step) < 0)
        return -ENOMEM;
    r = sandbox_command(e->opts.sandbox, run->workspace, run->tmpdir,
                        shell_step ? NULL : run->cred_dir,
                        sandbox_network(e->opts.sandbox, run->job->cfg->network), name, script,
                        shebang ? NULL : "/bin/sh",
                        (const char *const[]){ shell_step ? "-xe" : "-e", NULL }, &cmd);
    if (r < 0)
        return r;
    if (shebang)
        log_write(run->logfd, "[%s] $ %s\n", run->job->name, cmd.script);
    else if (shell_step)
        log_write(run->logfd, "[%s] $ /bin/sh -xe %s\n", run->job->name, cmd.script);
    req = (struct spawn_req){ .path = cmd.argv[0], .argv = cmd.argv, .envp = env,
                              .cwd = run->workspace, .out_fd = run->out_fd,
                              .pass_fds = cmd.fds, .n_pass_fds = cmd.n_fds };
    r = spawn_start(&req, &run->pid, &run->pidfd);
    sandbox_cmd_done(&cmd);
    if (r < 0)
        return r;
    ev.data.ptr = run;
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, run->pidfd, &ev) < 0)
        return -errno;
    return 0;
}

/* ---- the Git checkout (core/git.h) ---- */

/* How many earlier builds a checkout looks back at for the previous revisions. */
#define GIT_LOOK_BACK 50

/*
 * "BRANCH SHA" of the newest earlier build of each branch, into
 * run->git_previous, and the same of successful builds into
 * run->git_previous_ok.
 */
static int
git_previous_lines(struct engine *e, const char *job, int64_t before, char **ret_all,
                   char **ret_ok, bool *ret_has_builds)
{
    _cleanup_(buf_releasep) struct buf all = BUF_INIT(GIT_LOOK_BACK * 512);
    _cleanup_(buf_releasep) struct buf ok = BUF_INIT(GIT_LOOK_BACK * 512);
    struct build_row *rows = NULL;
    size_t n = 0;
    int r;

    r = store_build_list(e->db, job, 0, GIT_LOOK_BACK + 1, &rows, &n);
    if (r < 0)
        return r;
    if (ret_has_builds)
        *ret_has_builds = false;
    for (size_t i = 0; i < n && r >= 0; i++) {
        _cleanup_free_ char *dir = NULL, *line = NULL;
        char sha[41], branch[256];

        if (rows[i].number >= before)
            continue;
        if (ret_has_builds)
            *ret_has_builds = true;
        dir = home_build_dir(e->home, job, rows[i].number);
        if (!dir || git_build_head(dir, sha, branch, sizeof branch) < 0)
            continue;
        if (asprintf(&line, "%s %s\n", branch, sha) < 0)
            line = NULL;
        if (!line) {
            r = -ENOMEM;
            break;
        }
        /* the newest build of a branch comes first, and is the one the script takes */
        if (buf_puts(&all, line) < 0 ||
            (rows[i].result && streq(rows[i].result, "SUCCESS") && buf_puts(&ok, line) < 0))
            r = -ENOMEM;
    }
    build_rows_free(rows, n);
    if (r < 0)
        return r;
    *ret_all = buf_detach(&all);
    if (ret_ok)
        *ret_ok = buf_detach(&ok);
    return *ret_all && (!ret_ok || *ret_ok) ? 0 : -ENOMEM;
}

static int
git_previous(struct engine *e, struct run *run)
{
    return git_previous_lines(e, run->job->name, run->number, &run->git_previous,
                              &run->git_previous_ok, NULL);
}

struct env_list {
    char ***env;
    size_t *n;
};

static int
env_list_add(void *userdata, const char *name, const char *value)
{
    struct env_list *l = userdata;

    return env_add(l->env, l->n, name, value);
}

static size_t
env_count(char **env)
{
    size_t n = 0;

    while (env[n])
        n++;
    return n;
}

/*
 * The Git credentials of a checkout or poll step `name` ("build-0",
 * "poll-1"): their files in a private directory given to the build user
 * (*ret_dir; NULL when no remote needs one), their variables in `env`.
 * 0, -EKEYREJECTED after saying why in `logfd`, or -errno.
 */
static int
step_credentials(struct engine *e, const struct git_scm *g, const char *name, char ***env,
                 size_t *n, int logfd, char **ret_dir)
{
    _cleanup_free_ char *parent = path_join(e->home->root, CRED_DIRS);
    _cleanup_free_ char *known = path_join(e->home->root, GIT_KNOWN_HOSTS_FILE);
    _cleanup_free_ char *dir = NULL, *why = NULL;
    _cleanup_(buf_releasep) struct buf notes = BUF_INIT(64 * 1024);
    int r;

    *ret_dir = NULL;
    if (!parent || !known || !(dir = path_join(parent, name)))
        return -ENOMEM;
    r = fs_mkdir_p(parent, 0700);
    if (r < 0)
        return r;
    (void) fs_rm_rf(dir);
    r = git_creds_prepare(e->home, e->db, g, dir, sandbox_private_path(e->opts.sandbox, dir),
                          known, env_list_add, &(struct env_list){ env, n }, &notes, &why);
    if (notes.len)
        (void) fs_write_all(logfd, notes.ptr, notes.len);
    if (r == -EKEYREJECTED)
        log_write(logfd, "ERROR: %s\n", why);
    if (r > 0)
        r = sandbox_prepare_dir(e->opts.sandbox, dir) < 0 ? -EIO : 1;
    if (r <= 0) {
        (void) fs_rm_rf(dir);
        return r;
    }
    *ret_dir = TAKE_PTR(dir);
    return 0;
}

/* Whether a build variable would steer git or the credentials: the checkout leaves it out. */
static bool
steers_git(const char *kv)
{
    static const char *const prefixes[] = { "STEWARD_GIT_", "STEWARD_ASKPASS_", "STEWARD_SSH_",
                                            "GIT_SSH", "GIT_ASKPASS=", "SSH_ASKPASS" };

    for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
        if (startswith(kv, prefixes[i]))
            return true;
    return false;
}

/* Starts the checkout step: run->env and the checkout's own inputs. */
static int
start_checkout(struct engine *e, struct run *run)
{
    const struct git_scm *g = run->cfg->git;
    _cleanup_free_ char *script = NULL, *report = NULL, *gitlab_sha = NULL;
    const char *sha1 = NULL;
    char **env = NULL, step[32];
    size_t n = 0;
    int r;

    /* the credentials first: one that cannot be used fails the build before git runs */
    snprintf(step, sizeof step, "build-%d", run->executor);
    r = step_credentials(e, g, step, &env, &n, run->logfd, &run->cred_dir);
    if (r == -EKEYREJECTED) {
        env_free(env);
        run->abort_reason = "a Git credential cannot be used";
        log_write(run->logfd, "ERROR: the Git checkout did not start; no build step runs.\n");
        finish_run(e, run, "FAILURE");
        return 0;
    }
    if (r >= 0)
        r = git_previous(e, run);
    report = path_join(run->tmpdir, "steward-git-report");
    if (r >= 0 && !report)
        r = -ENOMEM;
    if (r >= 0)
        r = git_checkout_script(g, &script);
    /* the build's environment, then the checkout's */
    for (size_t i = 0; r >= 0 && run->env[i]; i++) {
        const char *eq = strchr(run->env[i], '=');
        _cleanup_free_ char *name = NULL;

        if (steers_git(run->env[i]))
            continue;
        name = strndup(run->env[i], (size_t) (eq - run->env[i]));
        r = name ? env_add(&env, &n, name, eq + 1) : -ENOMEM;
    }
    /* a commit notification names the commit to build; the newest wins */
    for (size_t i = 0; i < run->row.n_causes; i++) {
        const struct cause *c = &run->row.causes[i];
        if (c->kind == CAUSE_COMMIT && c->note)
            sha1 = c->note;
        else if (c->kind == CAUSE_GITLAB && c->note && c->note[0] && c->note[0] != '\n') {
            free(gitlab_sha);
            gitlab_sha = strndup(c->note, strcspn(c->note, "\n"));
            sha1 = gitlab_sha;
        }
    }
    if (r >= 0)
        r = git_checkout_vars(g, (const char *const *) run->env, sha1, run->git_previous, report,
                              env_list_add, &(struct env_list){ &env, &n });
    if (r >= 0) {
        run->checking_out = true;
        r = spawn_script(e, run, script, env, false);
    }
    env_free(env);
    return r;
}

/*
 * The checkout step ended well: its report is kept in the build's
 * directory, and the steps get the git plugin's variables. false after
 * finishing the build as a failure.
 */
static bool
checkout_done(struct engine *e, struct run *run)
{
    const struct git_scm *g = run->cfg->git;
    _cleanup_free_ char *report = path_join(run->tmpdir, "steward-git-report");
    _cleanup_free_ char *text = NULL, *kept = NULL, *dir = NULL, *path = NULL;
    struct git_build b = { 0 };
    size_t len = 0, kept_len = 0, n = env_count(run->env);
    char key[32];
    const char *prev = NULL, *prev_ok = NULL;
    int r;

    run->checking_out = false;
    r = report ? git_report_take(report, &text, &len) : -ENOMEM;
    if (r >= 0)
        r = git_report_finish(g, text, len, &kept, &kept_len);
    dir = home_build_dir(e->home, run->job->name, run->number);
    path = dir ? path_join(dir, GIT_REPORT_FILE) : NULL;
    if (r >= 0 && !path)
        r = -ENOMEM;
    if (r >= 0)
        r = fs_write_atomic(path, kept, kept_len, 0644);
    if (r >= 0) {
        r = git_build_parse(kept, kept_len, &b);
        if (r >= 0)
            kept = NULL;   /* the build's text now */
    }
    if (r < 0) {
        log_write(run->logfd, "ERROR: the Git checkout left no report Steward can read: %s\n",
                  strerror(-r));
        finish_run(e, run, "FAILURE");
        return false;
    }
    /* the previous revisions of the branch built */
    for (const char *p = run->git_previous; p && *p; p = strchr(p, '\n') + 1) {
        size_t bl = strlen(b.branch);
        if (strncmp(p, b.branch, bl) == 0 && p[bl] == ' ') {
            prev = p + bl + 1;
            break;
        }
    }
    for (const char *p = run->git_previous_ok; p && *p; p = strchr(p, '\n') + 1) {
        size_t bl = strlen(b.branch);
        if (strncmp(p, b.branch, bl) == 0 && p[bl] == ' ') {
            prev_ok = p + bl + 1;
            break;
        }
    }
    r = env_add(&run->env, &n, "GIT_COMMIT", b.sha);
    if (r >= 0 && !streq(b.branch, "detached"))
        r = env_add(&run->env, &n, "GIT_BRANCH", b.branch);
    if (r >= 0)
        r = env_add(&run->env, &n, "GIT_URL", g->remotes[0].url);
    for (size_t i = 0; r >= 0 && g->n_remotes > 1 && i < g->n_remotes; i++) {
        snprintf(key, sizeof key, "GIT_URL_%zu", i + 1);
        r = env_add(&run->env, &n, key, g->remotes[i].url);
    }
    if (r >= 0 && prev) {
        char sha[41];
        snprintf(sha, sizeof sha, "%.40s", prev);
        r = env_add(&run->env, &n, "GIT_PREVIOUS_COMMIT", sha);
    }
    if (r >= 0 && prev_ok) {
        char sha[41];
        snprintf(sha, sizeof sha, "%.40s", prev_ok);
        r = env_add(&run->env, &n, "GIT_PREVIOUS_SUCCESSFUL_COMMIT", sha);
    }
    if (r >= 0 && g->local_branch_set) {
        const char *lb = g->local_branch && *g->local_branch && !streq(g->local_branch, "**")
                             ? g->local_branch
                             : (strchr(b.branch, '/') ? strchr(b.branch, '/') + 1 : b.branch);
        r = env_add(&run->env, &n, "GIT_LOCAL_BRANCH", lb);
    }
    if (r >= 0 && g->relative_dir)
        r = env_add(&run->env, &n, "GIT_CHECKOUT_DIR", g->relative_dir);
    if (r >= 0 && g->user_name) {
        r = env_add(&run->env, &n, "GIT_AUTHOR_NAME", g->user_name);
        if (r >= 0)
            r = env_add(&run->env, &n, "GIT_COMMITTER_NAME", g->user_name);
    }
    if (r >= 0 && g->user_email) {
        r = env_add(&run->env, &n, "GIT_AUTHOR_EMAIL", g->user_email);
        if (r >= 0)
            r = env_add(&run->env, &n, "GIT_COMMITTER_EMAIL", g->user_email);
    }
    git_build_release(&b);
    if (r < 0) {
        start_failed(e, run, r);
        return false;
    }
    return steps_begin(e, run);
}

/* ---- SCM polling (core/poll.h) ---- */

#define POLL_TAG(p) ((void *) ((uintptr_t) (p) | 2))
#define IS_POLL_TAG(p) (((uintptr_t) (p) & 2) != 0)
#define POLL_RUN(p) ((struct poll_run *) ((uintptr_t) (p) & ~(uintptr_t) 2))

/*
 * Asks for a poll of `job` (once, however often it is asked before it
 * starts); a build it finds gets a cause of `kind` (CAUSE_SCM or
 * CAUSE_GITHUB, by `user`).
 */
static void
want_poll(struct engine *e, const char *job, enum cause_kind kind, const char *user)
{
    struct poll_want *v;
    char *copy, *ucopy = NULL;

    for (size_t i = 0; i < e->n_poll_wanted; i++)
        if (streq(e->poll_wanted[i].job, job))
            return;
    for (int i = 0; i < POLL_SLOTS; i++)
        if (e->polls[i] && streq(e->polls[i]->job, job))
            return;
    if (e->n_poll_wanted >= POLL_WANTED_MAX)
        return;
    copy = strdup(job);
    if (user)
        ucopy = strdup(user);
    v = copy && (!user || ucopy)
            ? realloc(e->poll_wanted, (e->n_poll_wanted + 1) * sizeof *v) : NULL;
    if (!v) {
        free(copy);
        free(ucopy);
        return;
    }
    e->poll_wanted = v;
    e->poll_wanted[e->n_poll_wanted++] = (struct poll_want){ copy, kind, ucopy };
}

static void
poll_free(struct poll_run *p)
{
    if (!p)
        return;
    if (p->pidfd >= 0)
        close(p->pidfd);
    if (p->logfd >= 0)
        close(p->logfd);
    drop_private(&p->cred_dir);
    jobcfg_free(p->cfg);
    free(p->out);
    free(p->job);
    free(p->user);
    free(p);
}

/* Every parameter of the job at its default, as NAME=value strings (for ${PARAM} in specs). */
static char **
default_params(const struct job_config *cfg)
{
    char **v = calloc(cfg->n_params + 1, sizeof *v);

    for (size_t i = 0; v && i < cfg->n_params; i++) {
        _cleanup_free_ char *value = NULL;
        if (param_value_for(&cfg->params[i], NULL, &value) < 0 ||
            asprintf(&v[i], "%s=%s", cfg->params[i].name, value) < 0) {
            v[i] = NULL;
            env_free(v);
            return NULL;
        }
    }
    return v;
}

static int
start_poll(struct engine *e, struct poll_run *p, int slot)
{
    _cleanup_free_ char *ws = home_workspace(e->home, p->job), *dir = home_job_dir(e->home, p->job);
    _cleanup_free_ char *tmp = NULL, *logpath = NULL, *script = NULL;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = POLL_TAG(p) };
    struct sandbox_cmd cmd;
    struct spawn_req req;
    char **env = NULL, when[64];
    size_t n = 0;
    time_t now = time(NULL);
    struct tm tm;
    int r;

    if (!ws || !dir || asprintf(&tmp, "%s@tmp", ws) < 0 || !(logpath = path_join(dir, POLL_LOG_FILE)))
        return -ENOMEM;
    p->logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (p->logfd < 0)
        return -errno;
    strftime(when, sizeof when, "%b %d, %Y, %-I:%M:%S %p", localtime_r(&now, &tm));
    log_write(p->logfd, "Started on %s\nPolling SCM changes on built-in\n", when);
    if (sandbox_error(e->opts.sandbox)) {
        log_write(p->logfd, "The build sandbox cannot be set up: %s\n",
                  sandbox_error(e->opts.sandbox));
        return -EPERM;
    }
    /* the job's @tmp, which builds have too: the poll never touches the workspace */
    r = sandbox_prepare_dir(e->opts.sandbox, tmp);
    p->out = r >= 0 ? path_join(tmp, "steward-poll-report") : NULL;
    if (r >= 0 && !p->out)
        r = -ENOMEM;
    /* as a build's: --build-env may hold a proxy, or git's url.insteadOf */
    r = r < 0 ? r : base_env(e, tmp, &env, &n);
    if (r >= 0)
        r = env_add(&env, &n, "STEWARD_POLL_OUT", p->out);
    if (r >= 0)
        r = git_checkout_vars(p->cfg->git, NULL, NULL, NULL, p->out, env_list_add,
                              &(struct env_list){ &env, &n });
    if (r >= 0) {
        char step[32];
        snprintf(step, sizeof step, "poll-%d", slot);
        r = step_credentials(e, p->cfg->git, step, &env, &n, p->logfd, &p->cred_dir);
    }
    if (r < 0) {
        env_free(env);
        return r;
    }
    r = sandbox_command(e->opts.sandbox, tmp, tmp, p->cred_dir,
                        sandbox_network(e->opts.sandbox, p->cfg->network),
                        "steward-poll", poll_script, "/bin/sh", (const char *const[]){ "-e", NULL },
                        &cmd);
    if (r >= 0) {
        req = (struct spawn_req){ .path = cmd.argv[0], .argv = cmd.argv, .envp = env,
                                  .cwd = tmp, .out_fd = p->logfd,
                                  .pass_fds = cmd.fds, .n_pass_fds = cmd.n_fds };
        r = spawn_start(&req, &p->pid, &p->pidfd);
        sandbox_cmd_done(&cmd);
    }
    env_free(env);
    if (r >= 0 && epoll_ctl(e->epfd, EPOLL_CTL_ADD, p->pidfd, &ev) < 0)
        r = -errno;
    p->start_mono = mono_ms();
    return r;
}

/* Starts what polls are wanted, as slots free up. */
static void
start_polls(struct engine *e)
{
    for (int i = 0; i < POLL_SLOTS && e->n_poll_wanted > 0; i++) {
        struct poll_run *p;
        _cleanup_free_ char *err = NULL;
        int r;

        if (e->polls[i])
            continue;
        p = calloc(1, sizeof *p);
        if (!p)
            return;
        p->job = e->poll_wanted[0].job;
        p->kind = e->poll_wanted[0].kind;
        p->user = e->poll_wanted[0].user;
        memmove(e->poll_wanted, e->poll_wanted + 1, --e->n_poll_wanted * sizeof *e->poll_wanted);
        p->pidfd = p->logfd = -1;
        /* a job deleted, changed or without Git since: nothing to poll */
        if (jobs_read_config(e->jobs, p->job, &p->cfg, &err) < 0 || !p->cfg->git) {
            poll_free(p);
            continue;
        }
        r = start_poll(e, p, i);
        if (r < 0) {
            /* a credential that cannot be used has said so already */
            if (p->logfd >= 0 && r == -EKEYREJECTED)
                log_write(p->logfd, "No changes\n");
            else if (p->logfd >= 0)
                log_write(p->logfd, "ERROR: polling could not start: %s\nNo changes\n",
                          strerror(-r));
            log_warn("%s: SCM polling could not start: %s", p->job, strerror(-r));
            if (p->pid > 0)
                (void) spawn_signal_group(p->pid, SIGKILL);
            poll_free(p);
            continue;
        }
        e->polls[i] = p;
    }
}

static void handle_triggers(struct engine *e, struct cmd **batch, size_t n);

/* The job's poll ended: a build when the remotes have changes. */
static void
poll_done(struct engine *e, struct poll_run *p, int status)
{
    struct cause scm = { .kind = p->kind, .user_name = p->user, .count = 1 };
    _cleanup_(buf_releasep) struct buf log = BUF_INIT(1 << 20);
    _cleanup_free_ char *text = NULL, *previous = NULL;
    char **params = NULL;
    bool changed = false, has_builds = false;
    size_t len = 0;
    int r = -EIO;

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        params = default_params(p->cfg);
        r = params ? git_report_take(p->out, &text, &len) : -ENOMEM;
        if (r >= 0)
            r = git_previous_lines(e, p->job, INT64_MAX, &previous, NULL, &has_builds);
        if (r >= 0)
            r = poll_decide(p->cfg->git, text, (const char *const *) params, previous,
                            has_builds, &log, &changed);
        env_free(params);
    }
    if (r < 0)
        log_write(p->logfd, "ERROR: polling failed%s%s\n", r == -EIO ? "" : ": ",
                  r == -EIO ? "" : strerror(-r));
    if (log.len)
        (void) fs_write_all(p->logfd, log.ptr, log.len);
    log_write(p->logfd, "Done. Took %lld ms\n%s\n", (long long) (mono_ms() - p->start_mono),
              changed ? "Changes found" : "No changes");
    if (changed && !p->cfg->disabled) {
        struct param_value *values = calloc(p->cfg->n_params ? p->cfg->n_params : 1,
                                            sizeof *values);
        if (values && params_defaults(p->cfg, values) >= 0) {
            struct trigger t = { .job = p->job, .params = values, .n_params = p->cfg->n_params,
                                 .cause = &scm, .delay_ms = -1 };
            struct cmd c = { .type = CMD_TRIGGER, .trigger = &t }, *batch[] = { &c };
            handle_triggers(e, batch, 1);
            for (size_t i = 0; i < p->cfg->n_params; i++)
                free(values[i].value);
        }
        free(values);
    }
}

static void
reap_poll(struct engine *e, struct poll_run *p)
{
    int status = 0;

    if (waitpid(p->pid, &status, WNOHANG) == 0)
        return;
    (void) epoll_ctl(e->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
    (void) spawn_signal_group(p->pid, SIGKILL);
    drop_private(&p->cred_dir);
    poll_done(e, p, status);
    for (int i = 0; i < POLL_SLOTS; i++)
        if (e->polls[i] == p)
            e->polls[i] = NULL;
    poll_free(p);
}

/* A poll past its deadline is killed (its reap follows); at a stop, every one is. */
static void
kill_polls(struct engine *e, bool all)
{
    for (int i = 0; i < POLL_SLOTS; i++)
        if (e->polls[i] && e->polls[i]->pid > 0 &&
            (all || mono_ms() - e->polls[i]->start_mono > POLL_DEADLINE_MS))
            (void) spawn_signal_group(e->polls[i]->pid, SIGKILL);
}

/* ---- the JUnit publisher (core/junit.c reads the reports, on the archiver thread) ---- */

static bool
junit_wanted(const struct run *run)
{
    return run->cfg && run->cfg->junit_results && !streq(run->result, "ABORTED");
}

/* A worse result replaces a better one, as Jenkins' Result.combine(). */
static void
worsen(struct run *run, const char *result)
{
    static const char *const order[] = { "SUCCESS", "UNSTABLE", "FAILURE" };
    int have = 0, want = 0;

    for (int i = 0; i < (int) ELEMENTSOF(order); i++) {
        if (streq(run->result, order[i]))
            have = i;
        if (streq(result, order[i]))
            want = i;
    }
    if (want > have && !streq(run->result, "ABORTED"))
        run->result = order[want];
}

/*
 * The reports are read and their cases stored, on the archiver thread:
 * failed tests make the build UNSTABLE. A report that cannot be read, or
 * none at all without allowEmptyResults, fails the build, as in Jenkins.
 */
static void
junit_done(struct run *run)
{
    struct junit_result *res = &run->junit;
    const struct test_summary *sum = &run->junit_sum;

    log_write(run->logfd, "Recording test results\n");
    if (run->junit_r == -ECANCELED) {
        log_write(run->logfd, "Recording test results stopped\n");
        return;
    }
    if (run->junit_r < 0) {
        log_write(run->logfd, "ERROR: recording test results failed: %s\n", strerror(-run->junit_r));
        worsen(run, "FAILURE");
        return;
    }
    if (res->error) {
        log_write(run->logfd, "ERROR: test report %s\n", res->error);
        log_write(run->logfd, "Build step 'Publish JUnit test result report' changed build result "
                              "to FAILURE\n");
        worsen(run, "FAILURE");
    }
    if (res->truncated)
        log_write(run->logfd, "WARNING: only the first %d test cases were recorded\n",
                  JUNIT_MAX_CASES);
    if (res->cases_left_out)
        log_write(run->logfd, "WARNING: %zu test case(s) were left out: the test cases of one build "
                              "are kept up to %lld MiB of names, messages and output in all\n",
                  res->cases_left_out, BOUND_JUNIT_KEPT_BYTES >> 20);
    if (res->files_left_out)
        log_write(run->logfd, "WARNING: %zu test report(s) were not read, from %s on: one build's "
                              "test reports are read up to %lld MiB in all\n",
                  res->files_left_out, res->first_left_out ? res->first_left_out : "one",
                  BOUND_JUNIT_READ_BYTES >> 20);
    if (res->n_files == 0 || (res->n_cases == 0 && !res->error)) {
        /* as Jenkins: a build that failed most likely failed before its tests ran */
        if (streq(run->result, "FAILURE"))
            return;
        if (run->cfg->junit_allow_empty) {
            log_write(run->logfd, "None of the test reports contained any result\n");
            return;
        }
        if (res->n_files == 0 && res->n_old > 0)
            log_write(run->logfd, "ERROR: Test reports were found but none of them are new. Did "
                                  "tests run?\nFor example, %s is %lld s old\n",
                      res->old_path ? res->old_path : "one", (long long) (res->old_age_ms / 1000));
        else
            log_write(run->logfd, res->n_files == 0
                                      ? "ERROR: No test report files were found. Configuration error?\n"
                                      : "ERROR: None of the test reports contained any result\n");
        worsen(run, "FAILURE");
        return;
    }
    if (res->n_cases == 0)
        return;
    if (run->junit_store_r == -ECANCELED) {
        log_write(run->logfd, "Recording test results stopped\n");
        return;
    }
    if (run->junit_store_r < 0) {
        log_write(run->logfd, "ERROR: the test results could not be stored: %s\n",
                  strerror(-run->junit_store_r));
        worsen(run, "FAILURE");
        return;
    }
    log_write(run->logfd, "Test results: %lld tests, %lld failed, %lld skipped\n",
              (long long) sum->total, (long long) sum->failed, (long long) sum->skipped);
    if (sum->failed > 0 && streq(run->result, "SUCCESS") && !run->cfg->junit_skip_unstable) {
        log_write(run->logfd, "Build step 'Publish JUnit test result report' changed build result "
                              "to UNSTABLE\n");
        worsen(run, "UNSTABLE");
    }
}

static void *
archive_thread(void *arg)
{
    struct run *run = arg;
    const struct job_config *cfg = run->job->cfg;
    uint64_t one = 1;

    if (run->archive_wanted)
        run->archive_r = archive_collect(run->workspace, cfg->archive_artifacts, cfg->archive_excludes,
                                         run->archive_dest, &run->cancel_archive, &run->archive_count);
    if (run->junit_wanted) {
        run->junit_r = junit_collect(run->workspace, run->junit_globs,
                                     run->cfg->junit_keep_long_stdio, run->start_ms,
                                     &run->cancel_archive, &run->junit);
        if (run->junit_r >= 0 && run->junit.n_cases > 0)
            run->junit_store_r = junit_store(run->junit_db, run->job->name, run->number,
                                             run->cfg->junit_health_scale, &run->cancel_archive,
                                             &run->junit, &run->junit_sum);
    }
    (void) !write(run->archive_efd, &one, sizeof one);
    return NULL;
}

/*
 * The ArtifactArchiver publisher: copies matching workspace files into the
 * build's archive/ on a thread, so that the queue goes on meanwhile. Returns
 * true when the copy started (archive_done() ends the build), false when
 * there is nothing to archive or it cannot start (then the build ends now,
 * with run->result, FAILURE for the latter).
 */
static bool
start_archiving(struct engine *e, struct run *run)
{
    const struct job_config *cfg = run->job->cfg;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = run };
    _cleanup_free_ char *dir = NULL;
    int r;

    run->archive_wanted = cfg->archive_artifacts && !streq(run->result, "ABORTED") &&
                          !(cfg->archive_only_if_successful && !streq(run->result, "SUCCESS"));
    run->junit_wanted = junit_wanted(run);
    run->junit_db = e->home->db_path;
    /* as Jenkins, testResults may name the build's variables (parameters, BUILD_NUMBER...) */
    if (run->junit_wanted) {
        static const char *const none[] = { NULL };

        r = git_expand(run->cfg->junit_results,
                       run->env ? (const char *const *) run->env : none, &run->junit_globs);
        if (r < 0) {
            log_write(run->logfd, "ERROR: recording test results failed: testResults: %s\n",
                      strerror(-r));
            run->result = "FAILURE";
            run->junit_wanted = false;
        }
    }
    if (!run->archive_wanted && !run->junit_wanted)
        return false;
    if (run->archive_wanted)
        log_write(run->logfd, "Archiving artifacts\n");
    dir = home_build_dir(e->home, run->job->name, run->number);
    run->archive_dest = dir ? path_join(dir, "archive") : NULL;
    run->archive_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r = !run->archive_dest ? -ENOMEM : run->archive_efd < 0 ? -errno : 0;
    if (r >= 0 && epoll_ctl(e->epfd, EPOLL_CTL_ADD, run->archive_efd, &ev) < 0)
        r = -errno;
    /* before the first file: whatever the copy leaves, the artifact rotation finds it */
    if (r >= 0 && run->archive_wanted)
        (void) store_build_set_archived(e->db, run->job->name, run->number, true);
    if (r >= 0) {
        r = -pthread_create(&run->archiver, NULL, archive_thread, run);
        if (r < 0)
            (void) epoll_ctl(e->epfd, EPOLL_CTL_DEL, run->archive_efd, NULL);
    }
    if (r < 0) {
        log_write(run->logfd, "ERROR: %s failed: %s\n",
                  run->archive_wanted ? "archiving artifacts" : "recording test results", strerror(-r));
        run->result = "FAILURE";
        return false;
    }
    run->archiving = true;
    return true;
}

/* What the artifact copy came to: the result may become FAILURE, as in Jenkins. */
static void
artifacts_done(struct run *run)
{
    const struct job_config *cfg = run->job->cfg;

    if (run->archive_r == -E2BIG)
        log_write(run->logfd, "WARNING: archived only %zu files: the limit is %d files and %llu bytes\n",
                  run->archive_count, ARCHIVE_MAX_FILES, (unsigned long long) ARCHIVE_MAX_BYTES);
    else if (run->archive_r == -ECANCELED)
        log_write(run->logfd, "Archiving stopped after %zu files\n", run->archive_count);
    else if (run->archive_r < 0) {
        log_write(run->logfd, "ERROR: archiving artifacts failed: %s\n", strerror(-run->archive_r));
        run->result = "FAILURE";
    }
    if (run->archive_r >= 0 && run->archive_count == 0 && !cfg->archive_allow_empty) {
        log_write(run->logfd, "ERROR: No artifacts found that match the file pattern \"%s\". "
                              "Configuration error?\n", cfg->archive_artifacts);
        run->result = "FAILURE";
    }
}

/* The archiver thread is done: its publishers' results, in their order. */
static void
archive_done(struct engine *e, struct run *run)
{
    pthread_join(run->archiver, NULL);
    run->archiving = false;
    (void) epoll_ctl(e->epfd, EPOLL_CTL_DEL, run->archive_efd, NULL);
    if (run->archive_wanted)
        artifacts_done(run);
    if (run->junit_wanted)
        junit_done(run);
    /* stopped while archiving */
    if (run->aborting)
        run->result = "ABORTED";
}

/* ---- the trash ---- */

static void *
janitor_thread(void *arg)
{
    struct engine *e = arg;
    DIR *d = opendir(e->trash);
    struct dirent *de;

    while (d && (de = readdir(d))) {
        _cleanup_free_ char *path = NULL;
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        path = path_join(e->trash, de->d_name);
        if (path)
            (void) fs_rm_rf(path);
    }
    if (d)
        closedir(d);
    __atomic_store_n(&e->janitor_done, true, __ATOMIC_RELEASE);
    return NULL;
}

/*
 * Empties the trash on a thread, unless one is still at it (what came
 * since goes with the next call; the start of the next run cleans up too).
 */
static void
empty_trash(struct engine *e)
{
    if (e->janitor_running) {
        if (!__atomic_load_n(&e->janitor_done, __ATOMIC_ACQUIRE))
            return;
        pthread_join(e->janitor, NULL);
        e->janitor_running = false;
    }
    e->janitor_done = false;
    e->janitor_running = pthread_create(&e->janitor, NULL, janitor_thread, e) == 0;
}

/* Moves `path` into the trash under a new name: 0, or -errno (-ENOENT for a missing path). */
static int
trash_rename(struct engine *e, const char *path)
{
    char name[64];
    _cleanup_free_ char *dst = NULL;

    snprintf(name, sizeof name, "%lld-%llu", (long long) now_ms(),
             (unsigned long long) e->trash_seq++);
    dst = path_join(e->trash, name);
    if (!dst)
        return -ENOMEM;
    return rename(path, dst) == 0 ? 0 : -errno;
}

/*
 * Takes `path` (a missing one is fine) out of the home directory at once,
 * into the trash; deletes it here when it cannot be moved there (another
 * file system, a trash that went missing). 0 or -errno.
 */
static int
to_trash(struct engine *e, const char *path)
{
    if (trash_rename(e, path) == 0)
        return 0;
    return fs_rm_rf(path);
}

/* ---- a user's change to one build (engine_change_build()) ---- */

static int
change_build_rows(struct engine *e, const char *job, int64_t number, const struct build_change *c)
{
    struct build_row b = { 0 };
    int r;

    r = store_build_get(e->db, job, number, &b);
    if (r < 0)
        return r;
    if (c->delete)
        r = !b.result ? -EBUSY : b.keep_log ? -EPERM : store_build_delete(e->db, job, number);
    if (r >= 0 && c->set_description)
        r = store_build_set_description(e->db, job, number, c->description);
    if (r >= 0 && c->set_display_name)
        r = store_build_set_display_name(e->db, job, number, c->display_name);
    if (r >= 0 && c->keep >= 0)
        r = store_build_set_keep(e->db, job, number, c->keep > 0);
    build_row_release(&b);
    return r;
}

static int
change_build(struct engine *e, const char *job, int64_t number, const struct build_change *c)
{
    int r = store_begin(e->db);

    if (r < 0)
        return r;
    r = change_build_rows(e, job, number, c);
    if (r >= 0)
        r = store_commit(e->db);
    if (r < 0) {
        (void) store_rollback(e->db);
        return r;
    }
    if (c->delete) {
        /* the row is gone on disk (a durable commit): now its directory */
        _cleanup_free_ char *dir = home_build_dir(e->home, job, number);
        if (dir && to_trash(e, dir) >= 0)
            empty_trash(e);
        log_info("%s: deleted build #%lld", job, (long long) number);
    }
    return 0;
}

/*
 * "Discard old builds" (hudson.tasks.LogRotator): what goes, in two
 * lists of build numbers. At most DISCARD_BATCH of each a time; the next
 * pass goes on.
 */
struct discard {
    int64_t *gone;      /* the build goes: row and directory */
    size_t n_gone;
    int64_t *bare;      /* only its artifacts go */
    size_t n_bare;
};

static void
discard_release(struct discard *d)
{
    free(d->gone);
    free(d->bare);
    *d = (struct discard) { 0 };
}

/*
 * Inside the caller's transaction: deletes the rows of the builds that go
 * and clears `archived` on those whose artifacts go, so that a reader sees
 * them gone in the same commit that makes them due. The directories are
 * left for discard_files(), after the commit: a crash in between leaves
 * only disk, never a row that points to nothing.
 */
static int
discard_rows(struct engine *e, const struct job *job, struct discard *d)
{
    const struct job_config *cfg = job->cfg;
    int64_t now = now_ms();
    int r = 0;

    *d = (struct discard) { 0 };
    if (cfg->keep_builds >= 0 || cfg->keep_days >= 0) {
        r = store_build_discardable(e->db, job->name, false, cfg->keep_builds,
                                    cfg->keep_days >= 0 ? now - cfg->keep_days * DAY_MS : INT64_MIN,
                                    DISCARD_BATCH, &d->gone, &d->n_gone);
        for (size_t i = 0; r >= 0 && i < d->n_gone; i++)
            r = store_build_delete(e->db, job->name, d->gone[i]);
    }
    if (r >= 0 && (cfg->keep_artifact_builds >= 0 || cfg->keep_artifact_days >= 0)) {
        r = store_build_discardable(e->db, job->name, true, cfg->keep_artifact_builds,
                                    cfg->keep_artifact_days >= 0
                                        ? now - cfg->keep_artifact_days * DAY_MS
                                        : INT64_MIN,
                                    DISCARD_BATCH, &d->bare, &d->n_bare);
        for (size_t i = 0; r >= 0 && i < d->n_bare; i++)
            r = store_build_set_archived(e->db, job->name, d->bare[i], false);
    }
    if (r < 0)
        discard_release(d);
    return r;
}

/* After the commit of discard_rows(): the directories go to the trash. */
static void
discard_files(struct engine *e, const struct job *job, struct discard *d)
{
    size_t moved = 0;

    for (size_t i = 0; i < d->n_gone; i++) {
        _cleanup_free_ char *dir = home_build_dir(e->home, job->name, d->gone[i]);
        if (dir && to_trash(e, dir) >= 0)
            moved++;
    }
    for (size_t i = 0; i < d->n_bare; i++) {
        _cleanup_free_ char *dir = home_build_dir(e->home, job->name, d->bare[i]);
        _cleanup_free_ char *archive = dir ? path_join(dir, "archive") : NULL;
        if (archive && to_trash(e, archive) >= 0)
            moved++;
    }
    if (d->n_gone > 0)
        log_info("%s: discarded %zu old builds, from #%lld to #%lld", job->name, d->n_gone,
                 (long long) d->gone[0], (long long) d->gone[d->n_gone - 1]);
    if (moved > 0)
        empty_trash(e);
}

/* The once-an-hour pass: builds also age out while a job does not run. */
static void
discard_old_builds(struct engine *e, const struct job *job)
{
    struct discard d;
    int r;

    if (job->cfg->keep_builds < 0 && job->cfg->keep_days < 0 &&
        job->cfg->keep_artifact_builds < 0 && job->cfg->keep_artifact_days < 0)
        return;
    r = store_begin(e->db);
    if (r < 0)
        goto fail;
    r = discard_rows(e, job, &d);
    if (r >= 0)
        r = store_commit(e->db);
    if (r < 0) {
        (void) store_rollback(e->db);
        discard_release(&d);
        goto fail;
    }
    discard_files(e, job, &d);
    discard_release(&d);
    return;
fail:
    log_error("%s: discarding old builds failed: %s", job->name, strerror(-r));
}

/*
 * Records a build's result and, in the same transaction, discards what
 * its job's "Discard old builds" makes due, so that no reader sees the
 * result without the discard. When the discard cannot be done, the
 * result is recorded alone and the hourly pass tries again.
 *
 * The result acknowledges nothing to a client: it commits without waiting
 * for the disk, and the next durable commit (a trigger, a build start) or
 * the sync of timers() within a second covers it. A power loss before
 * that leaves the build running in the database, which the next start
 * marks ABORTED. When something is discarded, the commit is synced before
 * the directories go: a row must never outlive its directory.
 */
static int
record_result(struct engine *e, struct run *run, int64_t duration, bool discard)
{
    _cleanup_(job_unrefp) struct job *now = discard ? jobs_get(e->jobs, run->job->name) : NULL;
    struct discard d = { 0 };
    int r;

    r = store_begin_lazy(e->db);
    if (r < 0)
        return r;
    r = store_build_finish(e->db, run->job->name, run->number, run->result, duration,
                           run->abort_reason);
    if (r >= 0 && now && discard_rows(e, now, &d) < 0) {
        log_error("%s: discarding old builds failed; the next pass tries again", now->name);
        (void) store_rollback(e->db);
        r = store_begin_lazy(e->db);
        if (r >= 0)
            r = store_build_finish(e->db, run->job->name, run->number, run->result, duration,
                                   run->abort_reason);
    }
    if (r >= 0)
        r = store_commit(e->db);
    if (r < 0) {
        (void) store_rollback(e->db);
        discard_release(&d);
        return r;
    }
    /* the rows are gone on disk before their directories go: a sync when something went */
    if ((d.n_gone || d.n_bare) && store_sync(e->db) < 0) {
        log_error("%s: discarded builds are kept on disk: the database could not be synced",
                  run->job->name);
        discard_release(&d);
        return 0;
    }
    if (now)
        discard_files(e, now, &d);
    discard_release(&d);
    return 0;
}

/*
 * A result the database could not take (a full disk, a lock held too long)
 * is kept and written again once a second, until it goes in: the build
 * shows as running meanwhile, never as lost. A crash meanwhile leaves it
 * to recovery, which marks it ABORTED.
 */
static void
keep_unrecorded(struct engine *e, struct run *run, int64_t duration)
{
    struct unrecorded *v, u = { .job = strdup(run->job->name), .number = run->number,
                                .result = run->result, .duration = duration,
                                .reason = run->abort_reason };

    if (!u.job)
        return;
    v = realloc(e->unrecorded, (e->n_unrecorded + 1) * sizeof *v);
    if (!v) {
        free(u.job);
        return;
    }
    e->unrecorded = v;
    e->unrecorded[e->n_unrecorded++] = u;
}

static void
record_unrecorded(struct engine *e)
{
    size_t k = 0;

    bool failed = false;

    for (size_t i = 0; i < e->n_unrecorded; i++) {
        struct unrecorded *u = &e->unrecorded[i];
        /* one failure says the database still cannot take them: the rest wait a second */
        if (!failed &&
            store_build_finish(e->db, u->job, u->number, u->result, u->duration, u->reason) >= 0) {
            log_info("build %s #%lld: result %s recorded", u->job, (long long) u->number,
                     u->result);
            free(u->job);
        } else {
            failed = true;
            e->unrecorded[k++] = *u;
        }
    }
    e->n_unrecorded = k;
}

static bool
job_has_unrecorded(struct engine *e, const char *job)
{
    for (size_t i = 0; i < e->n_unrecorded; i++)
        if (streq(e->unrecorded[i].job, job))
            return true;
    return false;
}

/*
 * The parts of the job Steward does not run (core/support.h), said in the
 * console: at the start, those that fail the build (`failing`) or, when
 * none does, the triggers, properties and settings that are not run.
 */
static void
log_unsupported(struct run *run, bool failing)
{
    struct unsupported u;
    size_t pos = 0;

    if (failing)
        log_write(run->logfd, "ERROR: Steward does not run these parts of the job, so the build "
                              "fails before its first step:\n");
    while (jobcfg_next_unsupported(run->cfg, &pos, &u)) {
        if (failing && u.verdict == SUPPORT_FAILS)
            log_write(run->logfd, "  %s: %s\n", u.element, u.note);
        else if (!failing && !streq(u.slot, "publishers"))
            log_write(run->logfd, "note: %s is not run by Steward: %s\n", u.element, u.note);
    }
    if (failing)
        log_write(run->logfd, "Remove or replace them on the job's configure page or in its "
                              "config.xml; docs/COMPAT.md lists what Steward runs.\n");
}

/* The post-build actions Steward does not run, after those it ran. */
static void
log_skipped_publishers(struct run *run)
{
    struct unsupported u;
    size_t pos = 0;

    while (run->cfg && jobcfg_next_unsupported(run->cfg, &pos, &u))
        if (streq(u.slot, "publishers"))
            log_write(run->logfd, "skipped: %s (not supported by Steward)\n", u.name);
}

/* ---- chains (core/chain.h) ---- */

static bool job_is_running(struct engine *e, const char *job);

static bool
chain_building(void *userdata, const char *name)
{
    return job_is_running(userdata, name);
}

/* blockBuildWhenUpstreamBuilding / ...Downstream...: a job of its chain is building. */
static bool
chain_waits(struct engine *e, const struct job *job)
{
    _cleanup_free_ char *name = NULL;
    bool upstream;

    return chain_blocked(e->jobs, job, chain_building, e, &name, &upstream);
}

/*
 * The builds this one triggers (its post-build triggers, the reverse
 * triggers naming it), queued as any trigger is: durably, merged into an
 * identical waiting item. Before its "Finished:" line, which they follow
 * in the console, as in Jenkins.
 */
static void
trigger_downstream(struct engine *e, struct run *run)
{
    _cleanup_(jobcfg_freep) struct job_config *read = NULL;
    struct chain_plan plan;
    struct trigger *t = NULL;
    struct cmd *c = NULL, **batch = NULL;
    int r;

    if (!run->result)
        return;
    /* a build that failed before it read its config.xml: as it is now */
    if (!run->cfg && jobs_read_config(e->jobs, run->job->name, &read, NULL) < 0)
        read = NULL;
    r = chain_plan_make(e->jobs, &(struct chain_ended){
                                     .job = run->job->name, .number = run->number,
                                     .result = run->result, .cfg = run->cfg ? run->cfg : read,
                                     .row = &run->row, .workspace = run->workspace,
                                     .env = run->env },
                        &plan);
    if (plan.log.len)
        (void) fs_write_all(run->logfd, plan.log.ptr, plan.log.len);
    if (r >= 0 && plan.n > 0) {
        t = calloc(plan.n, sizeof *t);
        c = calloc(plan.n, sizeof *c);
        batch = calloc(plan.n, sizeof *batch);
        r = t && c && batch ? 0 : -ENOMEM;
    }
    if (r >= 0 && plan.n > 0) {
        for (size_t i = 0; i < plan.n; i++) {
            t[i] = (struct trigger){ .job = plan.reqs[i].job, .params = plan.reqs[i].params,
                                     .n_params = plan.reqs[i].n_params, .cause = &plan.cause,
                                     .delay_ms = -1 };
            c[i] = (struct cmd){ .type = CMD_TRIGGER, .trigger = &t[i] };
            batch[i] = &c[i];
        }
        handle_triggers(e, batch, plan.n);
        for (size_t i = 0; i < plan.n; i++)
            if (c[i].result < 0)
                log_write(run->logfd, "%s could not be queued: %s\n", plan.reqs[i].job,
                          strerror(-c[i].result));
            else if (c[i].merged)
                log_write(run->logfd, "%s is already in the queue\n", plan.reqs[i].job);
    }
    if (r < 0)
        log_write(run->logfd, "Downstream builds could not be triggered: %s\n", strerror(-r));
    free(t);
    free(c);
    free(batch);
    chain_plan_release(&plan);
}

/* The build is over: its result is recorded and its executor freed. */
static void
end_run(struct engine *e, struct run *run)
{
    const char *result;
    int64_t duration;
    int r;

    drop_pending_uploads(e, run);
    if (run->logfd >= 0)
        log_skipped_publishers(run);
    /* the downstream builds first: a properties file they read must not be cleaned away */
    trigger_downstream(e, run);
    /* the Workspace Cleanup publisher last, as the plugin runs after the build is finalized */
    cleanup_after_build(e, run);
    result = run->result;

    duration = mono_ms() - run->start_mono;
    log_write(run->logfd, "Finished: %s\n", result);
    r = record_result(e, run, duration, !run->forget_waiter);
    if (r < 0) {
        log_error("build %s #%lld: cannot record the result yet (%s); trying again every "
                  "second", run->job->name, (long long) run->number, strerror(-r));
        keep_unrecorded(e, run, duration);
    }
    e->runs[run->executor] = NULL;
    if (run->forget_waiter) {
        bool others = false;
        for (int i = 0; i < e->opts.executors; i++)
            if (e->runs[i] && e->runs[i]->forget_waiter == run->forget_waiter)
                others = true;
        if (!others) {
            struct cmd *c = run->forget_waiter;
            int fr = store_job_forget(e->db, c->job);
            answer(e, c, fr);
        }
    }
    run_free(run);
}

/* The steps are over with `result`: the publishers run, then the build ends. */
static void
finish_run(struct engine *e, struct run *run, const char *result)
{
    if (run->pid > 0) {
        char cookie[64];

        /* before archiving, nothing may write anymore: the process group, and what left it */
        (void) spawn_signal_group(run->pid, SIGKILL);
        build_cookie(e, run->job->name, run->number, cookie);
        (void) spawn_kill_by_env(cookie);
        run->pid = 0;
    }
    drop_private(&run->cred_dir);
    /* the bound files live as long as the build's steps */
    drop_private(&run->bind_dir);
    run->result = result;
    if (run->logfd >= 0 && run->workspace && start_archiving(e, run))
        return;
    end_run(e, run);
}

static void
start_failed(struct engine *e, struct run *run, int err)
{
    if (run->logfd >= 0)
        log_write(run->logfd, "Steward could not start the build step: %s\n", strerror(-err));
    finish_run(e, run, "FAILURE");
}

static int
write_log_header(struct sandbox *sb, struct run *run, const struct queue_row *q)
{
    int r = 0;

    for (size_t i = 0; r >= 0 && i < q->n_causes; i++) {
        const struct cause *c = &q->causes[i];
        if (c->kind == CAUSE_TIMER)
            r = log_write(run->logfd, "Started by timer\n");
        else if (c->kind == CAUSE_SCM)
            r = log_write(run->logfd, "Started by an SCM change\n");
        else if (c->kind == CAUSE_COMMIT)
            r = log_write(run->logfd, "commit notification %s (from %s)\n", c->note ? c->note : "",
                          c->addr ? c->addr : "an unknown address");
        else if (c->kind == CAUSE_GITHUB)
            r = log_write(run->logfd, "Started by GitHub push by %s\n",
                          c->user_name ? c->user_name : "");
        else if (c->kind == CAUSE_GITLAB)
            r = log_write(run->logfd, "%s\n", c->addr ? c->addr : "Started by GitLab push");
        else if (c->kind == CAUSE_UPSTREAM)
            r = log_write(run->logfd, "Started by upstream project \"%s\" build number %lld\n",
                          c->addr ? c->addr : "",
                          (long long) (c->note ? strtoll(c->note, NULL, 10) : 0));
        else if (c->kind == CAUSE_REMOTE)
            r = log_write(run->logfd, "Started by remote host %s%s%s\n", c->addr ? c->addr : "",
                          c->note ? " with note: " : "", c->note ? c->note : "");
        else if (c->token_name)
            r = log_write(run->logfd, "Started by user %s (API token \"%s\")\n",
                          c->user_name ? c->user_name : "anonymous", c->token_name);
        else
            r = log_write(run->logfd, "Started by user %s\n",
                          c->user_name ? c->user_name : "anonymous");
    }
    if (r >= 0)
        r = log_write(run->logfd, "Running as SYSTEM\n");
    if (r >= 0 && sandbox_on(sb))
        r = log_write(run->logfd, "Building in a sandbox as %s, network %s\n", sandbox_user(sb),
                      sandbox_network(sb, run->job->cfg->network) == SANDBOX_NET_NONE ? "none"
                                                                                     : "host");
    else if (r >= 0)
        r = log_write(run->logfd, "Building without a sandbox, as %s (serve --no-sandbox)\n",
                      sandbox_user(sb));
    if (r >= 0)
        r = log_write(run->logfd, "Building in workspace %s\n", run->workspace);
    return r;
}

/*
 * Claims executor `slot` for waiting item `qi`, inside the caller's open
 * transaction: the build row goes in and the item leaves the queue, in the
 * database and in memory. The run waits in e->runs[slot], `claimed`, until
 * launch_claimed() starts it once the transaction is on disk: a build
 * step never runs before its row is durable, so that a power loss can
 * show a build that ran as ABORTED, never lose it.
 */
static int
claim_build(struct engine *e, size_t qi, int slot)
{
    struct queue_row *q = &e->waiting[qi].row;
    struct run *run = calloc(1, sizeof *run);
    int64_t number;
    int r;

    if (!run)
        return -ENOMEM;
    run->pidfd = run->logfd = run->archive_efd = -1;
    run->job = jobs_get(e->jobs, q->job);
    if (!run->job) {
        free(run);
        return -ENOENT;
    }
    run->executor = slot;
    run->queue_id = q->id;
    run->start_ms = now_ms();
    run->start_mono = mono_ms();

    r = store_savepoint(e->db);
    if (r < 0) {
        run_free(run);
        return r;
    }
    r = store_build_start(e->db, q->job, q->id, run->start_ms, slot, &number);
    if (r >= 0)
        r = store_queue_set_state(e->db, q->id, QUEUE_LEFT, run->start_ms, number);
    /* the values stay in memory for the environment; the store forgets them */
    if (r >= 0)
        r = store_queue_forget_values(e->db, q->id, PARAM_PASSWORD);
    if (r >= 0)
        r = store_savepoint_release(e->db);
    if (r < 0) {
        (void) store_savepoint_rollback(e->db);
        run_free(run);
        return r;
    }
    run->number = number;
    run->claimed = true;
    take_waiting(e, qi, &run->row);
    e->runs[slot] = run;
    return 0;
}

/* The transaction of the claims did not commit: their items wait again (load_waiting()). */
static void
unclaim_all(struct engine *e)
{
    for (int i = 0; i < e->opts.executors; i++)
        if (e->runs[i] && e->runs[i]->claimed) {
            run_free(e->runs[i]);
            e->runs[i] = NULL;
        }
}

/* A directory of the build, made; its parents are made only when missing. */
static int
make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0)
        return 0;
    if (errno == EEXIST)
        return -EEXIST;
    return errno == ENOENT ? fs_mkdir_p(path, 0700) : -errno;
}

/* ---- the Credentials Binding wrapper ---- */

static const char *
binding_name(enum binding_kind k)
{
    switch (k) {
    case BINDING_USERNAME_PASSWORD_MULTI:
        return "username and password (separated)";
    case BINDING_USERNAME_PASSWORD:
        return "username and password (conjoined)";
    case BINDING_STRING:
        return "secret text";
    case BINDING_FILE:
        return "secret file";
    case BINDING_SSH_KEY:
        return "SSH user private key";
    default:
        return "?";
    }
}

static enum cred_kind
binding_wants(enum binding_kind k)
{
    switch (k) {
    case BINDING_STRING:
        return CRED_SECRET_TEXT;
    case BINDING_FILE:
        return CRED_FILE;
    case BINDING_SSH_KEY:
        return CRED_SSH_KEY;
    default:
        return CRED_USERNAME_PASSWORD;
    }
}

/* NAME=value into `v`; a copy of `value` into `secrets` when it is a secret (and not empty). */
static int
bind_add(struct run *run, const char *name, const char *value, bool secret)
{
    char **v;

    if (!name)
        return 0;
    v = realloc(run->bind_env, (run->n_bind_env + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    run->bind_env = v;
    if (asprintf(&v[run->n_bind_env], "%s=%s", name, value) < 0)
        return -ENOMEM;
    run->n_bind_env++;
    if (!secret || !*value)
        return 0;
    v = realloc(run->bind_secrets, (run->n_bind_secrets + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    run->bind_secrets = v;
    if (!(v[run->n_bind_secrets] = strdup(value)))
        return -ENOMEM;
    run->n_bind_secrets++;
    return 0;
}

/* A bound file: in the build's own directory of them, made on the first, given to the build user. */
static int
bind_file(struct run *run, const char *name, const void *data, size_t len, char **ret_path)
{
    _cleanup_free_ char *path = NULL;
    char rnd[33];
    int r;

    if (!run->bind_dir) {
        secret_random_hex(rnd, 16);
        if (asprintf(&run->bind_dir, "%s/secretFiles-%s", run->tmpdir, rnd) < 0) {
            run->bind_dir = NULL;
            return -ENOMEM;
        }
        /* a new directory in @tmp, never one a build left there */
        if (mkdir(run->bind_dir, 0700) < 0) {
            r = -errno;
            free(run->bind_dir);
            run->bind_dir = NULL;
            return r;
        }
    }
    path = path_join(run->bind_dir, name);
    if (!path)
        return -ENOMEM;
    r = fs_write_atomic(path, data, len, 0600);
    if (r < 0)
        return r;
    *ret_path = TAKE_PTR(path);
    return 0;
}

/*
 * The Credentials Binding wrapper's bindings (org.jenkinsci.plugins.
 * credentialsbinding.impl.SecretBuildWrapper): each credential looked up,
 * its values kept for the shell steps' environment (run->bind_env, added
 * after the checkout, which never sees them) and the mask, its files
 * written into run->bind_dir. 0; -EKEYREJECTED after saying in the
 * console which binding cannot run and what to do; -errno.
 */
static int
bind_credentials(struct engine *e, struct run *run)
{
    const struct job_config *cfg = run->cfg;
    int r = 0;

    for (size_t i = 0; i < cfg->n_bindings && r >= 0; i++) {
        const struct cred_binding *b = &cfg->bindings[i];
        _cleanup_(cred_freep) struct cred *c = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_secret_ char *joined = NULL;
        const char *id = b->credentials_id;

        if (b->kind == BINDING_OTHER) {
            log_write(run->logfd, "ERROR: the credentials binding %s is not run by Steward: bind "
                      "a username and password, a secret text, a secret file or an SSH key "
                      "instead (docs/COMPAT.md).\n", b->other);
            return -EKEYREJECTED;
        }
        r = cred_get(e->home, e->db, id, &c);
        if (r == -ENOENT) {
            log_write(run->logfd, "ERROR: the credential '%s' of the credentials binding does not "
                      "exist. An administrator adds it (steward credentials add --id %s ..., or "
                      "the Credentials page), or the job binds another.\n", id, id);
            return -EKEYREJECTED;
        }
        if (r == -ENOKEY || r == -EBADMSG) {
            log_write(run->logfd, "ERROR: the credential '%s' of the credentials binding cannot "
                      "be opened: %s\n", id, cred_strerror(r));
            return -EKEYREJECTED;
        }
        if (r < 0)
            return r;
        if (streq(c->info.scope, "SYSTEM")) {
            log_write(run->logfd, "ERROR: the credential '%s' of the credentials binding has "
                      "scope SYSTEM: such credentials are for Steward itself and never given to "
                      "builds. An administrator makes its scope GLOBAL, or the job binds "
                      "another.\n", id);
            return -EKEYREJECTED;
        }
        if (c->info.kind != binding_wants(b->kind)) {
            log_write(run->logfd, "ERROR: the credential '%s' is a \"%s\" credential, and the %s "
                      "binding takes \"%s\" credentials. Bind it another way, or bind another "
                      "credential.\n", id, cred_kind_type_name(c->info.kind),
                      binding_name(b->kind), cred_kind_type_name(binding_wants(b->kind)));
            return -EKEYREJECTED;
        }
        switch (b->kind) {
        case BINDING_USERNAME_PASSWORD_MULTI:
            r = bind_add(run, b->username_variable, c->info.username ? c->info.username : "",
                         c->info.username_secret);
            if (r >= 0)
                r = bind_add(run, b->password_variable, (const char *) c->secret, true);
            break;
        case BINDING_USERNAME_PASSWORD:
            if (asprintf(&joined, "%s:%s", c->info.username ? c->info.username : "",
                         (const char *) c->secret) < 0) {
                joined = NULL;
                return -ENOMEM;
            }
            r = bind_add(run, b->variable, joined, true);
            /* the password alone is masked too, as the plugin does */
            if (r >= 0 && c->secret_len) {
                char **v = realloc(run->bind_secrets, (run->n_bind_secrets + 1) * sizeof *v);
                r = v ? 0 : -ENOMEM;
                if (v) {
                    run->bind_secrets = v;
                    v[run->n_bind_secrets] = strdup((const char *) c->secret);
                    r = v[run->n_bind_secrets] ? (run->n_bind_secrets++, 0) : -ENOMEM;
                }
            }
            break;
        case BINDING_STRING:
            r = bind_add(run, b->variable, (const char *) c->secret, true);
            break;
        case BINDING_FILE: {
            const char *name = c->info.file_name;

            /* the file's own name, where it is one */
            if (!name || !*name || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                name = "secret";
            r = bind_file(run, name, c->secret, c->secret_len, &path);
            if (r >= 0)
                r = bind_add(run, b->variable, path, false);
            break;
        }
        case BINDING_SSH_KEY: {
            bool nl = c->secret_len && c->secret[c->secret_len - 1] != '\n';
            _cleanup_free_ char *key = malloc(c->secret_len + 1);

            if (!key)
                return -ENOMEM;
            memcpy(key, c->secret, c->secret_len);
            key[c->secret_len] = '\n';
            r = bind_file(run, "ssh-key", key, c->secret_len + nl, &path);
            secret_wipe(key, c->secret_len + 1);
            if (r >= 0)
                r = bind_add(run, b->variable, path, false);
            if (r >= 0)
                r = bind_add(run, b->username_variable,
                             c->info.username ? c->info.username : "", false);
            if (r >= 0)
                r = bind_add(run, b->password_variable,
                             c->passphrase ? (const char *) c->passphrase : "", true);
            break;
        }
        default:
            break;
        }
    }
    if (r >= 0 && run->bind_dir)
        r = sandbox_prepare_dir(e->opts.sandbox, run->bind_dir);
    return r;
}

/* The bound variables join the shell steps' environment (after the checkout's). */
static int
add_bound_env(struct run *run)
{
    size_t n = env_count(run->env);
    int r = 0;

    for (size_t i = 0; i < run->n_bind_env && r >= 0; i++) {
        const char *kv = run->bind_env[i], *eq = strchr(kv, '=');
        _cleanup_free_ char *name = strndup(kv, (size_t) (eq - kv));
        r = name ? env_add(&run->env, &n, name, eq + 1) : -ENOMEM;
    }
    return r;
}

/* ---- timeouts and workspaces (build-timeout, ws-cleanup, WorkspaceList) ---- */

/* The value a build has for a parameter; NULL when it has none. */
static const char *
run_param(const struct run *run, const char *name)
{
    for (size_t i = 0; i < run->row.n_params; i++)
        if (streq(run->row.params[i].name, name))
            return run->row.params[i].value;
    return NULL;
}

/* Whether a build other than `self` works in `path` now. */
static bool
workspace_in_use(struct engine *e, const struct run *self, const char *path)
{
    for (int i = 0; i < e->opts.executors; i++)
        if (e->runs[i] && e->runs[i] != self && e->runs[i]->workspace &&
            streq(e->runs[i]->workspace, path))
            return true;
    return false;
}

/*
 * The build's workspace and its @tmp, as Jenkins' WorkspaceList hands them
 * out: the job's workspace, or NAME@2, NAME@3... while builds running at
 * the same time hold the others. A custom workspace is everyone's who asks
 * for it, concurrent builds included (AbstractBuild.decideWorkspace gives
 * it a dummy lease). A custom workspace that cannot be used leaves
 * run->ws_refused for wrappers_begin() to fail the build with, once the
 * log is open; the build is set up in the job's own workspace meanwhile.
 */
static int
assign_workspace(struct engine *e, struct run *run)
{
    const char *custom = run->job->cfg->custom_workspace, *why = NULL;
    _cleanup_free_ char *base = NULL;
    int r;

    r = workspace_base(e->home, e->jobs, run->job->name, custom, &base, &why);
    if (r == -EINVAL) {
        run->ws_refused = why;
        custom = NULL;
        r = workspace_base(e->home, NULL, run->job->name, NULL, &base, &why);
    }
    if (r < 0)
        return r;
    if (custom)
        run->workspace = TAKE_PTR(base);
    for (int n = 1; !run->workspace; n++) {
        char *path = n == 1 ? strdup(base) : strdup_printf("%s@%d", base, n);
        if (!path)
            return -ENOMEM;
        if (workspace_in_use(e, run, path))
            free(path);
        else
            run->workspace = path;
    }
    if (asprintf(&run->tmpdir, "%s@tmp", run->workspace) < 0) {
        run->tmpdir = NULL;
        return -ENOMEM;
    }
    return 0;
}

/*
 * Takes `path` out of the workspaces at once, into the trash (emptied on a
 * thread); where it cannot be moved there, deletes it here, through
 * descriptors that never follow a link. A missing path is fine. 0 or -errno.
 */
static int
wipe_dir(struct engine *e, const char *path)
{
    int r = trash_rename(e, path);

    if (r == 0) {
        empty_trash(e);
        return 0;
    }
    if (r == -ENOENT)
        return 0;
    return workspace_rm_at(AT_FDCWD, path);
}

/*
 * WriteDescriptionOperation's text: {0} is the timeout in minutes. It
 * becomes the build's description (the plugin's build.setDescription()),
 * and the console says so.
 */
static char *
timeout_description(const struct build_timeout *t, int64_t minutes)
{
    struct buf b = BUF_INIT(BOUND_CONFIG_XML_BYTES);
    const char *d = t->description ? t->description : "";

    for (const char *p = d; *p;) {
        const char *q = strstr(p, "{0}");
        if (!q) {
            (void) buf_puts(&b, p);
            break;
        }
        (void) buf_append(&b, p, (size_t) (q - p));
        (void) buf_printf(&b, "%lld", (long long) minutes);
        p = q + 3;
    }
    return buf_detach(&b);
}

/*
 * Arms the build's timeout: its BuildTimeoutWrapper, else the server's
 * --build-timeout. The absolute strategy is raised to the plugin's minimum
 * (opts.timeout_minimum_ms) as the plugin does; no-activity is as given.
 * The clock starts with the build, the checkout included. A strategy
 * Steward does not run, or a ${PARAMETER} that is not a number, fails the
 * build (logged): -EINVAL.
 */
static int
timeout_arm(struct engine *e, struct run *run)
{
    const struct build_timeout *t = run->cfg->timeout;
    char name[BOUND_PARAM_NAME_BYTES], ms_text[32];
    const char *v;
    int64_t ms;
    struct stat st;
    int n;

    if (!t && e->opts.build_timeout_ms <= 0)
        return 0;
    if (!t) {
        ms = MAX(e->opts.build_timeout_ms, e->opts.timeout_minimum_ms);
    } else if (t->strategy == TIMEOUT_OTHER) {
        run->abort_reason = "the build timeout strategy is not run by Steward";
        log_write(run->logfd, "ERROR: the build timeout strategy %s is not run by Steward: use "
                  "the absolute or the no-activity strategy. No step runs.\n", t->other);
        return -EINVAL;
    } else {
        v = t->value;
        if (jobcfg_timeout_var(v, name, sizeof name) == 0 && !(v = run_param(run, name))) {
            run->abort_reason = "the build timeout cannot be read";
            log_write(run->logfd, "ERROR: the build timeout is %s, and this build has no "
                      "parameter %s. No step runs.\n", t->value, name);
            return -EINVAL;
        }
        if (jobcfg_timeout_number(v, 10 * 366 * 24 * 60, &n) < 0) {
            run->abort_reason = "the build timeout cannot be read";
            log_write(run->logfd, "ERROR: the build timeout %s is '%s', not a whole number "
                      "above 0. No step runs.\n", t->value, v);
            return -EINVAL;
        }
        if (t->strategy == TIMEOUT_ABSOLUTE)
            ms = MAX(n * 60000LL, e->opts.timeout_minimum_ms);
        else
            ms = n * 1000LL;
        snprintf(ms_text, sizeof ms_text, "%lld", (long long) ms);
        if (t->env_var && env_add(&run->env, &(size_t){ env_count(run->env) }, t->env_var,
                                  ms_text) < 0)
            return -ENOMEM;
    }
    run->timeout_ms = ms;
    run->timeout_no_activity = t && t->strategy == TIMEOUT_NO_ACTIVITY;
    run->timeout_at_mono = mono_ms() + ms;
    run->timeout_log_size = fstat(run->logfd, &st) == 0 ? st.st_size : 0;
    return 0;
}

/* The build ran out of time: the operations run, in the plugin's words. */
static void
timeout_fire(struct engine *e, struct run *run)
{
    const struct build_timeout *t = run->cfg ? run->cfg->timeout : NULL;
    int64_t ms = run->timeout_ms;
    bool abort = !t || t->abort, fail = t && t->fail;
    char after[64];

    run->timeout_ms = 0;
    if (ms % 60000 == 0 || ms > 60000)
        snprintf(after, sizeof after, "%lld minutes", (long long) (ms / 60000));
    else
        snprintf(after, sizeof after, "%lld seconds", (long long) (ms / 1000));
    if (abort)
        log_write(run->logfd, "Build timed out (after %s). Marking the build as aborted.\n", after);
    if (fail)
        log_write(run->logfd, "Build timed out (after %s). Marking the build as failed.\n", after);
    if (t && t->write_description) {
        /* the older writingDescription flag has no text: the message is the description */
        _cleanup_free_ char *d = t->description ? timeout_description(t, ms / 60000)
                                                : strdup_printf("Build timed out (after %s). "
                                                                "Marking the build as %s.",
                                                                after, fail ? "failed" : "aborted");
        _cleanup_free_ char *clean = d ? buildmeta_clean_description(d) : NULL;
        int r = clean ? store_build_set_description(e->db, run->job->name, run->number, clean)
                      : -ENOMEM;

        if (r < 0)
            log_write(run->logfd, "Cannot set the build's description: %s\n", strerror(-r));
        else
            log_write(run->logfd, "Build description: %s\n", clean);
    }
    if (!abort && !fail)
        return; /* only a description: the build goes on, as with the plugin */
    /* ABORTED is the worse of the two results: it wins (Executor.interrupt) */
    run->timeout_result = abort ? NULL : "FAILURE";
    run->abort_reason = "the build timed out";
    run->aborting = true;
    run->kill_at_mono = mono_ms() + e->opts.stop_grace_ms;
    if (run->pid > 0)
        (void) spawn_signal_group(run->pid, SIGTERM);
}

/* Only while a step runs: the publishers are not timed, as with the plugin's wrapper. */
static bool
timeout_armed(const struct run *run)
{
    return run && run->timeout_ms > 0 && !run->aborting && run->pid > 0;
}

static void
timeout_check(struct engine *e, int64_t mono)
{
    for (int i = 0; i < e->opts.executors; i++) {
        struct run *run = e->runs[i];
        struct stat st;

        if (!timeout_armed(run))
            continue;
        /* activity is output: the log grew since the last look */
        if (run->timeout_no_activity && fstat(run->logfd, &st) == 0 &&
            st.st_size != run->timeout_log_size) {
            run->timeout_log_size = st.st_size;
            run->timeout_at_mono = mono + run->timeout_ms;
        }
        if (mono >= run->timeout_at_mono)
            timeout_fire(e, run);
    }
}

/* How long the loop may sleep for the timeouts: a no-activity one looks at the log every second. */
static int64_t
timeout_next(struct engine *e, int64_t mono)
{
    int64_t t = INT64_MAX;

    for (int i = 0; i < e->opts.executors; i++) {
        struct run *run = e->runs[i];
        if (!timeout_armed(run))
            continue;
        t = MIN(t, MAX(0, run->timeout_at_mono - mono));
        if (run->timeout_no_activity)
            t = MIN(t, 1000);
    }
    return t;
}

/*
 * The Workspace Cleanup plugin, before the build (`before`) or after it:
 * the whole workspace goes, or what the patterns say. 0, or -errno when
 * something could not be deleted (logged).
 */
static int
clean_workspace(struct engine *e, struct run *run, const struct ws_cleanup *c, bool before)
{
    size_t deleted = 0;
    int r;

    if (c->parameter) {
        const char *v = run_param(run, c->parameter);
        if (!v || strcasecmp(v, "true") != 0) {
            log_write(run->logfd, "[WS-CLEANUP] Skipped: the parameter %s is not true\n",
                      c->parameter);
            return 0;
        }
    }
    log_write(run->logfd, "[WS-CLEANUP] Deleting project workspace...\n");
    if (c->external)
        log_write(run->logfd, "[WS-CLEANUP] The external deletion command is not run: Steward "
                  "deletes the files itself\n");
    if (c->n_patterns == 0 && workspace_in_use(e, run, run->workspace)) {
        /* a custom workspace another build works in keeps its directory (and mount) */
        r = workspace_clean(run->workspace, NULL, 0, true, &deleted);
    } else if (c->n_patterns == 0) {
        r = wipe_dir(e, run->workspace);
        /* the steps still need their workspace */
        if (r >= 0 && before)
            r = sandbox_prepare_dir(e->opts.sandbox, run->workspace);
    } else {
        /* NEEDSWORK: on the engine thread; a huge workspace holds up the queue meanwhile */
        r = workspace_clean(run->workspace, c->patterns, c->n_patterns, c->delete_dirs, &deleted);
    }
    if (r < 0)
        log_write(run->logfd, "[WS-CLEANUP] Cannot delete workspace: %s\n", strerror(-r));
    else
        log_write(run->logfd, "[WS-CLEANUP] done\n");
    return r;
}

/*
 * What the build wrappers do before the first step (after the config is
 * read): the custom workspace's check, the timeout, the pre-build
 * cleanup. False when the build was failed here (finish_run() was called).
 */
static bool
wrappers_begin(struct engine *e, struct run *run)
{
    if (run->ws_refused) {
        run->abort_reason = "the custom workspace cannot be used";
        log_write(run->logfd, "ERROR: the custom workspace %s cannot be used: %s. No step "
                  "runs; change <customWorkspace>.\n",
                  run->job->cfg->custom_workspace ? run->job->cfg->custom_workspace : "",
                  run->ws_refused);
        finish_run(e, run, "FAILURE");
        return false;
    }
    if (timeout_arm(e, run) < 0) {
        finish_run(e, run, "FAILURE");
        return false;
    }
    if (run->cfg->pre_cleanup && clean_workspace(e, run, run->cfg->pre_cleanup, true) < 0) {
        run->abort_reason = "the workspace cannot be cleaned up";
        finish_run(e, run, "FAILURE");
        return false;
    }
    return true;
}

/* The WsCleanup publisher, last of the publishers, when the result asks for it. */
static void
cleanup_after_build(struct engine *e, struct run *run)
{
    static const char *const results[_WS_WHEN_MAX] = {
        [WS_WHEN_SUCCESS] = "SUCCESS", [WS_WHEN_UNSTABLE] = "UNSTABLE",
        [WS_WHEN_FAILURE] = "FAILURE", [WS_WHEN_NOT_BUILT] = "NOT_BUILT",
        [WS_WHEN_ABORTED] = "ABORTED",
    };
    const struct ws_cleanup *c = run->cfg ? run->cfg->post_cleanup : NULL;
    bool when = false;

    if (!c || !run->workspace || run->logfd < 0 || !run->result || run->ws_refused)
        return;
    for (size_t i = 0; i < _WS_WHEN_MAX; i++)
        if (streq(run->result, results[i]))
            when = c->when[i];
    if (!when) {
        log_write(run->logfd, "[WS-CLEANUP] Skipped based on build state %s\n", run->result);
        return;
    }
    if (clean_workspace(e, run, c, false) < 0 && !c->not_fail_build &&
        (streq(run->result, "SUCCESS") || streq(run->result, "UNSTABLE")))
        run->result = "FAILURE";
}

/* "NAME@2"... for `base` "NAME": a workspace of a concurrent build. */
static bool
is_numbered(const char *name, const char *base)
{
    size_t n = strlen(base);

    return strncmp(name, base, n) == 0 && name[n] == '@' && name[n + 1] &&
           strspn(name + n + 1, "0123456789") == strlen(name + n + 1);
}

/* CMD_WIPE: see engine_wipe_workspace(). */
static int
wipe_workspace(struct engine *e, const char *name)
{
    _cleanup_(job_unrefp) struct job *job = jobs_get(e->jobs, name);
    _cleanup_free_ char *base = NULL;
    const char *why = NULL, *base_name;
    DIR *d;
    int r;

    if (!job)
        return -ENOENT;
    r = workspace_base(e->home, e->jobs, job->name, job->cfg->custom_workspace, &base, &why);
    if (r < 0)
        return r;
    for (int i = 0; i < e->opts.executors; i++) {
        const char *ws = e->runs[i] ? e->runs[i]->workspace : NULL;
        if (ws && (streq(ws, base) || is_numbered(ws, base)))
            return -EBUSY;
    }
    r = wipe_dir(e, base);
    base_name = strrchr(base, '/') + 1;
    d = opendir(e->home->workspace_dir);
    for (struct dirent *de; d && (de = readdir(d));) {
        _cleanup_free_ char *path = NULL;
        int k;

        if (!is_numbered(de->d_name, base_name))
            continue;
        path = path_join(e->home->workspace_dir, de->d_name);
        k = path ? wipe_dir(e, path) : -ENOMEM;
        if (k < 0 && r >= 0)
            r = k;
    }
    if (d)
        closedir(d);
    return r;
}

/* ---- starting a build ---- */

/* Starts a claimed build, its row on disk: log, workspace, environment, first step. */
static void
launch_build(struct engine *e, struct run *run)
{
    const struct queue_row *q = &run->row;
    _cleanup_free_ char *dir = NULL, *logpath = NULL, *err = NULL;
    int r;

    run->claimed = false;
    run->uploads_pending = true;
    dir = home_build_dir(e->home, q->job, run->number);
    logpath = home_build_log(e->home, q->job, run->number);
    (void) assign_workspace(e, run);
    if (!dir || !logpath || !run->workspace || !run->tmpdir) {
        start_failed(e, run, -ENOMEM);
        return;
    }
    /* a directory with this number belongs to no build of this database (a restore
     * of a backup taken while builds started): it goes, never mixed into the new log */
    if (make_dir(dir) == -EEXIST) {
        log_warn("build %s #%lld: a directory of that number was left from elsewhere; it "
                 "goes to the trash", q->job, (long long) run->number);
        (void) to_trash(e, dir);
        empty_trash(e);
        (void) fs_mkdir_p(dir, 0700);
    }
    run->logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    run->out_fd = run->logfd;
    r = run->logfd < 0 ? -errno : write_log_header(e->opts.sandbox, run, q);
    run->env = build_env(e, run, q);
    if (r >= 0 && sandbox_error(e->opts.sandbox)) {
        /* no step runs outside the sandbox it was meant for */
        run->abort_reason = "the build sandbox cannot be set up";
        log_write(run->logfd, "The build sandbox cannot be set up: %s.\nNo step runs. An "
                  "administrator fixes that, or starts the server with --no-sandbox "
                  "(docs/SECURITY.md says what that gives away).\n",
                  sandbox_error(e->opts.sandbox));
        finish_run(e, run, "FAILURE");
        return;
    }
    if (r >= 0) {
        r = sandbox_prepare_dir(e->opts.sandbox, run->workspace);
        if (r >= 0)
            r = sandbox_prepare_dir(e->opts.sandbox, run->tmpdir);
        if (r < 0) {
            run->abort_reason = "the workspace cannot be prepared";
            log_write(run->logfd, "Cannot prepare the workspace %s for %s: %s\n", run->workspace,
                      sandbox_user(e->opts.sandbox), strerror(-r));
            finish_run(e, run, "FAILURE");
            return;
        }
    }
    if (r < 0) {
        /* no step runs whose output would be lost */
        run->abort_reason = log_failure_reason(r);
        log_error("build %s #%lld: %s: %s", q->job, (long long) run->number, run->abort_reason,
                  strerror(-r));
        finish_run(e, run, "FAILURE");
        return;
    }
    if (!run->env) {
        start_failed(e, run, -ENOMEM);
        return;
    }
    /* the steps as config.xml says now: a summary does not keep them */
    r = jobs_read_config(e->jobs, run->job->name, &run->cfg, &err);
    if (r < 0) {
        run->abort_reason = "config.xml cannot be read";
        log_write(run->logfd, "The job's config.xml cannot be read: %s\nNo step runs. Fix the "
                  "file, or save the job again from its configure page.\n",
                  err ? err : strerror(-r));
        finish_run(e, run, "FAILURE");
        return;
    }
    if (jobcfg_fails_unsupported(run->cfg)) {
        run->abort_reason = "the job has parts Steward does not run";
        log_unsupported(run, true);
        finish_run(e, run, "FAILURE");
        return;
    }
    log_unsupported(run, false);
    if (!wrappers_begin(e, run))
        return;
    /* the bound credentials, before any step: one that cannot be bound fails the build */
    r = bind_credentials(e, run);
    if (r == -EKEYREJECTED) {
        run->abort_reason = "a bound credential cannot be used";
        log_write(run->logfd, "No build step runs.\n");
        finish_run(e, run, "FAILURE");
        return;
    }
    /* the steps' output (the checkout's too) goes through the mask from here on */
    if (r >= 0)
        r = start_masking(e, run, q);
    if (r < 0) {
        start_failed(e, run, r);
        return;
    }
    if (run->cfg->git) {
        r = start_checkout(e, run);
        if (r < 0)
            start_failed(e, run, r);
        return;
    }
    if (run->cfg->n_shell_steps == 0) {
        finish_run(e, run, "SUCCESS");
        return;
    }
    if (!steps_begin(e, run))
        return;
    r = spawn_step(e, run);
    if (r < 0)
        start_failed(e, run, r);
}

/* After the commit of the claims: each claimed build starts, by executor. */
static void
launch_claimed(struct engine *e)
{
    for (int i = 0; i < e->opts.executors; i++)
        if (e->runs[i] && e->runs[i]->claimed)
            launch_build(e, e->runs[i]);
}

static bool
job_is_running(struct engine *e, const char *job)
{
    for (int i = 0; i < e->opts.executors; i++)
        if (e->runs[i] && streq(e->runs[i]->job->name, job))
            return true;
    return false;
}

static int
free_slot(struct engine *e)
{
    for (int i = 0; i < e->opts.executors; i++)
        if (!e->runs[i])
            return i;
    return -1;
}

static void
cancel_waiting(struct engine *e, size_t i)
{
    (void) store_queue_set_state(e->db, e->waiting[i].row.id, QUEUE_CANCELLED, now_ms(), 0);
    (void) store_queue_forget_values(e->db, e->waiting[i].row.id, PARAM_PASSWORD);
    forget_uploads(e, e->waiting[i].row.params, e->waiting[i].row.n_params,
                   e->waiting[i].row.id);
    remove_waiting(e, i);
}

/* Whether builds may start now: not while stopping or quieting down. */
static bool
may_start(struct engine *e)
{
    bool quitting;

    if (e->stopping || quiet_now(e))
        return false;
    /* a stop asked for (its command may be in the batch being handled): nothing starts */
    pthread_mutex_lock(&e->lock);
    quitting = e->quitting;
    pthread_mutex_unlock(&e->lock);
    return !quitting;
}

/* The claims' transaction, begun at the first write; when it cannot begin, the next turn tries. */
static int
begin_once(struct engine *e, bool *began)
{
    int r;

    if (*began)
        return 0;
    r = store_begin(e->db);
    if (r < 0) {
        e->blocked = true;
        return r;
    }
    *began = true;
    return 0;
}

/*
 * Claims a free executor for each due waiting item that may start, in the
 * open transaction, or in one it begins when *began is false (and sets
 * it). Returns whether any item was claimed.
 */
static bool
claim_due(struct engine *e, bool *began)
{
    int64_t now = now_ms(), next_due = INT64_MAX;
    bool blocked = false, claimed = false;

    /* a long queue of items in their quiet period costs nothing per turn */
    if (!e->blocked && now < e->next_due_ms)
        return false;
    /* quieting down: triggers still queue, nothing starts (a cancel wakes the loop) */
    if (!may_start(e))
        return false;
    /* nor does a long queue while every executor is busy: the end of a build wakes the loop */
    if (free_slot(e) < 0) {
        e->blocked = true;
        return false;
    }
    for (size_t i = 0; i < e->n_waiting;) {
        struct queue_row *q = &e->waiting[i].row;
        _cleanup_(job_unrefp) struct job *job = NULL;
        int slot;

        if (q->due_ms > now) {
            next_due = MIN(next_due, q->due_ms);
            i++;
            continue;
        }
        job = jobs_get(e->jobs, q->job);
        if (!job) {
            if (begin_once(e, began) < 0)
                return claimed;
            cancel_waiting(e, i);
            continue;
        }
        if (job->cfg->disabled || (!job->cfg->concurrent_build && job_is_running(e, q->job)) ||
            chain_waits(e, job)) {
            blocked = true;
            i++;
            continue;
        }
        slot = free_slot(e);
        if (slot < 0) {
            /* the rest is looked at when an executor frees */
            e->blocked = true;
            return claimed;
        }
        if (begin_once(e, began) < 0)
            return claimed;
        if (claim_build(e, i, slot) < 0) {
            blocked = true; /* left in the queue; tried again on the next turn */
            i++;
        } else
            claimed = true;
    }
    e->blocked = blocked;
    e->next_due_ms = next_due;
    return claimed;
}

/*
 * Starts what may start: the claims commit together, durably, then the
 * builds launch. A launch that fails at once frees its executor for the
 * next item in the same turn.
 */
static void
schedule(struct engine *e)
{
    for (int round = 0; round <= e->opts.executors; round++) {
        bool began = false, claimed;
        int r = 0;

        claimed = claim_due(e, &began);
        if (!began)
            return;
        r = store_commit(e->db);
        if (r < 0) {
            log_error("queue: cannot start builds: %s; trying again", strerror(-r));
            (void) store_rollback(e->db);
            unclaim_all(e);
            (void) load_waiting(e);
            e->blocked = true;
            return;
        }
        if (!claimed)
            return;
        launch_claimed(e);
        if (free_slot(e) < 0)
            return;
    }
}

static void
reap(struct engine *e, struct run *run)
{
    int status = 0;
    pid_t p;

    if (run->archiving) {
        archive_done(e, run);
        end_run(e, run);
        return;
    }
    p = waitpid(run->pid, &status, WNOHANG);
    if (p == 0)
        return;
    (void) epoll_ctl(e->epfd, EPOLL_CTL_DEL, run->pidfd, NULL);
    close(run->pidfd);
    run->pidfd = -1;
    /* the step's process group may still hold descendants: they go now */
    (void) spawn_signal_group(run->pid, SIGKILL);
    /* the checkout's credentials live as long as its step, whatever its end */
    drop_private(&run->cred_dir);
    /* all the step wrote is in the log before what the engine writes after it */
    pump_mask(run, true);

    if (run->aborting) {
        finish_run(e, run, run->timeout_result ? run->timeout_result : "ABORTED");
        return;
    }
    if (log_disk_full(run->logfd)) {
        /* whatever the step said, its output may be lost: the build is not green */
        run->abort_reason = log_failure_reason(-ENOSPC);
        log_error("build %s #%lld: the disk of its log is full: marked FAILURE",
                  run->job->name, (long long) run->number);
        (void) log_write(run->logfd, "%s.\n", run->abort_reason);
        finish_run(e, run, "FAILURE");
        return;
    }
    if (run->checking_out && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        run->checking_out = false;
        log_write(run->logfd, "ERROR: the Git checkout failed; no build step runs.\n");
        finish_run(e, run, "FAILURE");
        return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        log_write(run->logfd, "Build step 'Execute shell' marked build as failure\n");
        finish_run(e, run, "FAILURE");
        return;
    }
    if (run->checking_out) {
        if (!checkout_done(e, run))
            return;
    } else
        run->step++;
    if (run->step >= run->cfg->n_shell_steps) {
        finish_run(e, run, "SUCCESS");
        return;
    }
    int r = spawn_step(e, run);
    if (r < 0)
        start_failed(e, run, r);
}

static struct run *
find_run(struct engine *e, const char *job, int64_t number)
{
    for (int i = 0; i < e->opts.executors; i++)
        if (e->runs[i] && streq(e->runs[i]->job->name, job) && e->runs[i]->number == number)
            return e->runs[i];
    return NULL;
}

static void
abort_run(struct engine *e, struct run *run, const char *by)
{
    if (run->aborting)
        return;
    run->aborting = true;
    log_write(run->logfd, "Aborted by %s\n", by ? by : "Steward");
    run->kill_at_mono = mono_ms() + e->opts.stop_grace_ms;
    if (run->pid > 0)
        (void) spawn_signal_group(run->pid, SIGTERM);
    if (run->archiving)
        __atomic_store_n(&run->cancel_archive, true, __ATOMIC_RELAXED);
}

/* Counts as Jenkins' queue does: items in their quiet period are neither buildable nor blocked. */
static void
take_load(struct engine *e, struct engine_load *load)
{
    int64_t now = now_ms();

    load->executors = e->opts.executors;
    for (int i = 0; i < e->opts.executors; i++)
        if (e->runs[i])
            load->busy++;
    load->waiting = e->n_waiting;
    for (size_t i = 0; i < e->n_waiting; i++) {
        const struct queue_row *q = &e->waiting[i].row;
        _cleanup_(job_unrefp) struct job *job = NULL;

        if (q->due_ms > now)
            continue;
        job = jobs_get(e->jobs, q->job);
        if (job && (job->cfg->disabled || (!job->cfg->concurrent_build && job_is_running(e, q->job)) ||
                    chain_waits(e, job)))
            load->blocked++;
        else
            load->buildable++;
    }
}

static void
handle_cmd(struct engine *e, struct cmd *c)
{
    switch (c->type) {
    case CMD_CANCEL:
        for (size_t i = 0; i < e->n_waiting; i++)
            if (e->waiting[i].row.id == c->id) {
                cancel_waiting(e, i);
                answer(e, c, 0);
                return;
            }
        answer(e, c, -ENOENT);
        return;
    case CMD_STOP: {
        struct run *run = find_run(e, c->job, c->id);
        if (!run) {
            answer(e, c, -ENOENT);
            return;
        }
        abort_run(e, run, c->by);
        answer(e, c, 0);
        return;
    }
    case CMD_FORGET: {
        bool waiting_runs = false;
        for (size_t i = 0; i < e->n_waiting;)
            if (streq(e->waiting[i].row.job, c->job))
                cancel_waiting(e, i);
            else
                i++;
        for (int i = 0; i < e->opts.executors; i++) {
            struct run *run = e->runs[i];
            if (run && streq(run->job->name, c->job)) {
                run->forget_waiter = c;
                abort_run(e, run, "deletion of the job");
                waiting_runs = true;
            }
        }
        if (!waiting_runs)
            answer(e, c, store_job_forget(e->db, c->job));
        return;
    }
    case CMD_RENAME:
        for (size_t i = 0; i < e->n_waiting; i++)
            if (streq(e->waiting[i].row.job, c->job)) {
                answer(e, c, -EBUSY);
                return;
            }
        if (job_is_running(e, c->job) || job_has_unrecorded(e, c->job)) {
            answer(e, c, -EBUSY);
            return;
        }
        answer(e, c, store_job_rename(e->db, c->job, c->job2));
        return;
    case CMD_QUIET:
        /* a cancelled quiet-down: look at the whole queue again */
        e->blocked = true;
        e->next_due_ms = 0;
        answer(e, c, 0);
        return;
    case CMD_ABORT_ALL:
        e->stop_deadline_mono = mono_ms();
        answer(e, c, 0);
        return;
    case CMD_LOAD:
        take_load(e, c->load);
        answer(e, c, 0);
        return;
    case CMD_POLL:
        want_poll(e, c->job, c->trigger ? c->trigger->cause->kind : CAUSE_SCM,
                  c->trigger ? c->trigger->cause->user_name : NULL);
        answer(e, c, 0);
        return;
    case CMD_CHANGE_BUILD:
        answer(e, c, change_build(e, c->job, c->id, c->change));
        return;
    case CMD_WIPE:
        answer(e, c, wipe_workspace(e, c->job));
        return;
    case CMD_PREVIEW:
        answer(e, c, preview_trigger(e, c));
        return;
    case CMD_QUIT:
    case CMD_TRIGGER:
        break;
    }
}

static bool
drain_inbox(struct engine *e)
{
    struct cmd *list, *c, **triggers = NULL;
    size_t n = 0, cap = 0;
    bool quit = false;
    uint64_t v;

    (void) !read(e->efd, &v, sizeof v);
    pthread_mutex_lock(&e->lock);
    list = e->inbox;
    e->inbox = NULL;
    e->inbox_tail = &e->inbox;
    e->inbox_signalled = false;
    pthread_mutex_unlock(&e->lock);

    for (c = list; c;) {
        struct cmd *next = c->next;
        if (c->type == CMD_TRIGGER) {
            if (n == cap) {
                struct cmd **t = realloc(triggers, (cap ? cap * 2 : 16) * sizeof *t);
                if (!t) {
                    answer(e, c, -ENOMEM);
                    c = next;
                    continue;
                }
                triggers = t;
                cap = cap ? cap * 2 : 16;
            }
            triggers[n++] = c;
        } else if (c->type == CMD_QUIT) {
            quit = true;
            answer(e, c, 0);
        } else
            handle_cmd(e, c);
        c = next;
    }
    if (n > 0)
        handle_triggers(e, triggers, n);
    free(triggers);
    return quit;
}

/* Every parameter at its default; the values are allocated (free them), the names lent. */
/*
 * Timer triggers: once a minute, every job whose TimerTrigger spec matches
 * that minute gets a build with its parameters' defaults. Minutes that
 * passed while Steward was down are not made up for, as in Jenkins. Once
 * an hour, old builds are discarded for every job.
 */
static void
fire_timers(struct engine *e)
{
    static const struct cause timer = { .kind = CAUSE_TIMER, .count = 1 };
    struct job **list = NULL;
    struct cmd *cmds = NULL, **batch = NULL;
    struct trigger *triggers = NULL;
    struct param_value **params = NULL;
    size_t n = 0, k = 0, *n_params = NULL;
    int64_t now = now_ms();
    time_t minute;

    if (now < e->next_minute_ms)
        return;
    minute = (time_t) (e->next_minute_ms / 1000);
    /* a clock that jumped: look at the current minute only */
    if (now - e->next_minute_ms > 120000)
        minute = (time_t) (now / 60000 * 60);
    e->next_minute_ms = ((int64_t) minute / 60 + 1) * 60000;
    if (minute % 3600 == 0) {
        prune_audit(e, now, false);
        /* what a build that failed before its first step left (held ones stay) */
        (void) upload_sweep(e->uploads, false, upload_needed_by_any, e);
    }

    if (jobs_list(e->jobs, &list, &n) < 0)
        return;
    cmds = calloc(n ? n : 1, sizeof *cmds);
    batch = calloc(n ? n : 1, sizeof *batch);
    triggers = calloc(n ? n : 1, sizeof *triggers);
    params = calloc(n ? n : 1, sizeof *params);
    n_params = calloc(n ? n : 1, sizeof *n_params);
    for (size_t i = 0; cmds && batch && triggers && params && n_params && i < n; i++) {
        const struct job_config *cfg = list[i]->cfg;
        struct cron *c = NULL;
        const char *why = "out of memory"; /* -EINVAL says more */

        /* builds also age out while a job does not run */
        if (minute % 3600 == 0)
            discard_old_builds(e, list[i]);
        if (cfg->scm_poll_spec && *cfg->scm_poll_spec && cfg->git_urls && !cfg->disabled) {
            struct cron *pc = NULL;
            const char *pwhy = "out of memory";
            if (cron_parse(cfg->scm_poll_spec, list[i]->name, &pc, &pwhy) >= 0) {
                if (cron_matches_at(pc, minute))
                    want_poll(e, list[i]->name, CAUSE_SCM, NULL);
            } else if (minute % 3600 == 0)
                log_warn("%s: SCM polling does not run: %s", list[i]->name, pwhy);
            cron_free(pc);
        }
        if (!cfg->timer_spec || cfg->disabled)
            continue;
        /* valid when saved; a time zone can leave the system since (said once an hour) */
        if (cron_parse(cfg->timer_spec, list[i]->name, &c, &why) < 0) {
            if (minute % 3600 == 0)
                log_warn("%s: the timer trigger does not run: %s", list[i]->name, why);
            continue;
        }
        if (cron_matches_at(c, minute)) {
            params[k] = calloc(cfg->n_params ? cfg->n_params : 1, sizeof **params);
            n_params[k] = cfg->n_params;
            if (params[k] && params_defaults(cfg, params[k]) >= 0) {
                triggers[k] = (struct trigger){ .job = list[i]->name, .params = params[k],
                                                .n_params = cfg->n_params, .cause = &timer,
                                                .delay_ms = -1 };
                cmds[k] = (struct cmd){ .type = CMD_TRIGGER, .trigger = &triggers[k] };
                batch[k] = &cmds[k];
                k++;
            } else if (params[k]) {
                for (size_t p = 0; p < n_params[k]; p++)
                    free(params[k][p].value);
                params[k] = mfree(params[k]);
            }
        }
        cron_free(c);
    }
    if (k > 0)
        handle_triggers(e, batch, k);
    for (size_t i = 0; params && i < n; i++) {
        for (size_t p = 0; params[i] && p < n_params[i]; p++)
            free(params[i][p].value);
        free(params[i]);
    }
    free(params);
    free(n_params);
    free(triggers);
    free(batch);
    free(cmds);
    jobs_list_free(list, n);
}

static int
next_timeout(struct engine *e)
{
    int64_t now = now_ms(), mono = mono_ms();
    int64_t t = MIN(e->next_flush_mono - mono, e->next_minute_ms - now);

    /*
     * With every executor busy, the end of a build wakes the loop. Otherwise
     * wake when the next item is due, and look again soon at items that
     * wait on something else (a disabled job, a running build of theirs).
     */
    if (free_slot(e) >= 0) {
        if (e->blocked)
            t = MIN(t, 100);
        if (e->next_due_ms != INT64_MAX)
            t = MIN(t, e->next_due_ms <= now ? 0 : e->next_due_ms - now);
    }
    for (int i = 0; i < e->opts.executors; i++)
        if (e->runs[i] && e->runs[i]->aborting && e->runs[i]->pid > 0)
            t = MIN(t, MAX(0, e->runs[i]->kill_at_mono - mono));
    t = MIN(t, timeout_next(e, mono));
    return (int) MAX(0, MIN(t, 60000));
}

static bool
any_running(struct engine *e)
{
    for (int i = 0; i < e->opts.executors; i++)
        if (e->runs[i])
            return true;
    return false;
}

static void
timers(struct engine *e)
{
    int64_t mono = mono_ms();

    for (int i = 0; i < e->opts.executors; i++) {
        struct run *run = e->runs[i];
        if (run && run->aborting && run->pid > 0 && run->kill_at_mono <= mono) {
            (void) spawn_signal_group(run->pid, SIGKILL);
            run->kill_at_mono = mono + 1000;
        }
    }
    timeout_check(e, mono);
    if (mono >= e->next_flush_mono) {
        if (e->n_unrecorded)
            record_unrecorded(e);
        auth_flush_usage(e->auth, e->db);
        /* results committed lazily are on disk within a second */
        if (store_sync(e->db) < 0)
            log_warn("builds: the results of the last second could not be synced to disk");
        e->next_flush_mono = mono + FLUSH_INTERVAL_MS;
    }
    /*
     * What a burst of builds, triggers or big answers freed stays in
     * malloc's arenas, counted as the server's own memory until the next
     * burst: with no build running, it goes back to the system.
     */
    if (mono >= e->next_trim_mono && !any_running(e)) {
        (void) malloc_trim(0);
        e->next_trim_mono = mono + TRIM_INTERVAL_MS;
    }
}

/*
 * The loop has ended: a command that came meanwhile (a cancel, an
 * abort-all after the builds ended) is answered, never left waiting.
 */
static void
refuse_the_rest(struct engine *e)
{
    struct cmd *list;

    pthread_mutex_lock(&e->lock);
    e->exited = true;
    list = e->inbox;
    e->inbox = NULL;
    e->inbox_tail = &e->inbox;
    pthread_mutex_unlock(&e->lock);
    while (list) {
        struct cmd *next = list->next;
        answer(e, list, -ECANCELED);
        list = next;
    }
}

/* The grace of a stop is over: what still runs is aborted, with the reason recorded. */
static void
abort_for_stop(struct engine *e)
{
    e->stop_aborted = true;
    for (int k = 0; k < e->opts.executors; k++) {
        struct run *run = e->runs[k];
        if (!run || run->aborting)
            continue;   /* one a user stopped keeps that reason */
        run->abort_reason = "Steward shut down while this build was running";
        abort_run(e, run, "Steward shutting down");
    }
}

/* CMD_QUIT: no build starts any more; running ones get the grace to end by themselves. */
static void
begin_stop(struct engine *e)
{
    int n = 0;

    e->stopping = true;
    e->stop_deadline_mono = mono_ms() + e->opts.shutdown_grace_ms;
    for (int k = 0; k < e->opts.executors; k++)
        if (e->runs[k]) {
            n++;
            if (e->opts.shutdown_grace_ms > 0 && e->runs[k]->logfd >= 0)
                log_write(e->runs[k]->logfd,
                          "Steward is shutting down: this build has %d s to end before it is "
                          "aborted.\n", e->opts.shutdown_grace_ms / 1000);
        }
    if (n > 0 && e->opts.shutdown_grace_ms > 0)
        log_info("shutting down: %d build%s running; waiting up to %d s for them to end", n,
                 n == 1 ? "" : "s", e->opts.shutdown_grace_ms / 1000);
}

static void *
loop(void *arg)
{
    struct engine *e = arg;

    while (!e->stopping || any_running(e)) {
        struct epoll_event evs[32];
        int timeout, n;

        if (e->stopping)
            timeout = e->stop_aborted ? 200
                                      : (int) MIN(MAX(e->stop_deadline_mono - mono_ms(), 0), 200);
        else
            timeout = next_timeout(e);
        n = epoll_wait(e->epfd, evs, ELEMENTSOF(evs), timeout);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                if (drain_inbox(e) && !e->stopping)
                    begin_stop(e);
            } else if (IS_MASK_TAG(evs[i].data.ptr)) {
                /* an earlier event of this batch may have ended the run */
                struct run *run = MASK_RUN(evs[i].data.ptr);
                for (int k = 0; k < e->opts.executors; k++)
                    if (e->runs[k] == run)
                        pump_mask(run, false);
            } else if (IS_POLL_TAG(evs[i].data.ptr)) {
                struct poll_run *p = POLL_RUN(evs[i].data.ptr);
                for (int k = 0; k < POLL_SLOTS; k++)
                    if (e->polls[k] == p)
                        reap_poll(e, p);
            } else
                reap(e, evs[i].data.ptr);
        }
        if (e->stopping && !e->stop_aborted && mono_ms() >= e->stop_deadline_mono)
            abort_for_stop(e);
        timers(e);
        if (!e->stopping) {
            bool safe_exit;

            fire_timers(e);
            schedule(e);
            kill_polls(e, false);
            start_polls(e);
            pthread_mutex_lock(&e->lock);
            safe_exit = e->safe_exit;
            pthread_mutex_unlock(&e->lock);
            if (safe_exit && !e->exit_requested && !any_running(e)) {
                e->exit_requested = true;
                pthread_mutex_lock(&e->lock);
                e->exiting = true;
                pthread_mutex_unlock(&e->lock);
                log_info("safe exit: no build runs any more; stopping");
                if (e->opts.on_idle_exit)
                    e->opts.on_idle_exit(e->opts.userdata);
            }
        }
    }
    /* polls end with the loop: nothing waits for their answer */
    kill_polls(e, true);
    for (int i = 0; i < POLL_SLOTS; i++) {
        if (e->polls[i]) {
            (void) waitpid(e->polls[i]->pid, NULL, 0);
            poll_free(e->polls[i]);
            e->polls[i] = NULL;
        }
    }
    if (e->n_unrecorded)
        record_unrecorded(e);
    for (size_t i = 0; i < e->n_unrecorded; i++)
        log_error("build %s #%lld: its result %s could not be recorded before the stop; the "
                  "next start marks it ABORTED", e->unrecorded[i].job,
                  (long long) e->unrecorded[i].number, e->unrecorded[i].result);
    auth_flush_usage(e->auth, e->db);
    if (store_sync(e->db) < 0)
        log_error("builds: the last results could not be synced to disk");
    refuse_the_rest(e);
    return NULL;
}

/*
 * After an unclean stop: builds that were running are marked ABORTED with
 * a reason, their logs keep what was written; waiting items are reloaded.
 */
static int
recover(struct engine *e)
{
    struct build_row *rows = NULL;
    size_t n = 0;
    int r;

    r = store_build_list_running(e->db, &rows, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *dir = home_build_dir(e->home, rows[i].job, rows[i].number);
        _cleanup_free_ char *logpath = home_build_log(e->home, rows[i].job, rows[i].number);
        char cookie[64];
        int fd, killed;

        /*
         * The directory and log may not exist yet: the crash can come after
         * start_build() committed the row and before it made them. That
         * window is long, since a commit outlives a crash of the process as
         * soon as it is written, while its fsync still runs.
         */
        if (dir)
            (void) fs_mkdir_p(dir, 0700);
        fd = logpath ? open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;

        /* what the build left running goes, so it cannot race the next build */
        build_cookie(e, rows[i].job, rows[i].number, cookie);
        killed = spawn_kill_by_env(cookie);
        if (fd >= 0) {
            log_write(fd, "\nSteward stopped while this build was running; it is marked "
                          "ABORTED.\n");
            if (killed > 0)
                log_write(fd, "Killed %d process%s the build left running.\n", killed,
                          killed == 1 ? "" : "es");
            log_write(fd, "Finished: ABORTED\n");
            close(fd);
        }
        /* the test cases its JUnit publisher had begun to store */
        (void) store_tests_forget_partial(e->db, rows[i].job, rows[i].number);
        (void) store_build_finish(e->db, rows[i].job, rows[i].number, "ABORTED",
                                  now_ms() - rows[i].start_ms,
                                  "Steward stopped while this build was running");
        log_warn("build %s #%lld was running when Steward stopped: marked ABORTED", rows[i].job,
                 (long long) rows[i].number);
    }
    build_rows_free(rows, n);
    return load_waiting(e);
}

int
engine_start(struct engine *e)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    int r;

    r = store_open(e->home->db_path, &e->db);
    if (r < 0)
        return r;
    r = recover(e);
    /* what an older version, or a crash between two commits, left (an index walk) */
    static_assert(PARAM_PASSWORD == STORE_PARAM_SECRET, "the store indexes password values");
    if (r >= 0)
        r = store_queue_forget_values(e->db, 0, PARAM_PASSWORD);
    if (r < 0)
        return r;
    /* what a stop left in the trash goes now */
    r = fs_mkdir_p(e->trash, 0700);
    if (r < 0)
        return r;
    empty_trash(e);
    /* the credentials' files of steps a crash interrupted */
    {
        _cleanup_free_ char *creds = path_join(e->home->root, CRED_DIRS);
        if (!creds)
            return -ENOMEM;
        (void) fs_rm_rf(creds);
    }
    /* uploads no waiting item needs: a crash before their commit, or after their build began */
    r = upload_sweep(e->uploads, true, upload_needed_by_any, e);
    if (r > 0)
        log_info("uploads: removed %d file%s no waiting build needs", r, r == 1 ? "" : "s");
    prune_audit(e, now_ms(), true);
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->efd, &ev) < 0)
        return -errno;
    e->next_flush_mono = mono_ms() + FLUSH_INTERVAL_MS;
    e->next_minute_ms = (now_ms() / 60000 + 1) * 60000;
    r = pthread_create(&e->thread, NULL, loop, e);
    if (r != 0)
        return -r;
    e->started = true;
    return 0;
}

int
engine_request_stop(struct engine *e)
{
    struct cmd c = { .type = CMD_QUIT };
    bool already;

    if (!e->started)
        return 0;
    /* from here on only the stop itself and an abort-all are taken */
    pthread_mutex_lock(&e->lock);
    already = e->quitting;
    e->quitting = true;
    pthread_mutex_unlock(&e->lock);
    return already ? 0 : submit(e, &c);
}

int
engine_abort_all(struct engine *e)
{
    struct cmd c = { .type = CMD_ABORT_ALL };

    return e->started ? submit(e, &c) : 0;
}

bool
engine_wait_stopped(struct engine *e, int timeout_ms)
{
    struct timespec ts;

    if (!e->started)
        return true;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(e->thread, NULL, &ts) != 0)
        return false;
    e->started = false;
    return true;
}

void
engine_stop(struct engine *e)
{
    if (!e->started)
        return;
    (void) engine_request_stop(e);
    pthread_join(e->thread, NULL);
    e->started = false;
}
