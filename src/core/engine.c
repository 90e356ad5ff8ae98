/* SPDX-License-Identifier: MIT */
/*
 * The engine: one thread (loop()) owns the queue, the executors and the
 * running builds. This file holds what other threads call (engine_* in
 * core/engine.h), the inbox of commands they send, the loop with its epoll
 * set, start-up recovery and the stop. The rest is split by seam:
 *   core/queue.c      waiting items: merging, group commits, claims, scheduling
 *   core/run.c        one build: set-up, environment, steps, reaping, the end
 *   core/run_bind.c   the Credentials Binding wrapper
 *   core/run_git.c    the Git checkout step
 *   core/run_ws.c     workspaces and the wrappers around the steps
 *   core/publish.c    artifacts, test reports, results, downstream triggers
 *   core/polling.c    SCM polls
 *   core/retention.c  discarding old builds, the trash and its janitor
 *   core/timers.c     build timeouts, timer triggers, the loop's clock
 */
#include "core/engine_int.h"

/*
 * A value in every build's environment that names that build: what a
 * build left running can be found by it after a crash (spawn_kill_by_env).
 */
void
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
    e->slot_look = 1; /* an item's 0: never looked at */
    e->auth = auth;
    e->opts = *opts;
    if (e->opts.executors < 1)
        e->opts.executors = 1;
    if (e->opts.node_connect_timeout_s < 1)
        e->opts.node_connect_timeout_s = 10;
    if (e->opts.node_alive_interval_s < 1)
        e->opts.node_alive_interval_s = 10;
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
    e->slots = calloc((size_t) e->opts.executors, sizeof *e->slots);
    e->n_slots = e->cap_slots = e->opts.executors;
    for (int i = 0; e->slots && i < e->n_slots; i++)
        e->slots[i].number = i;
    e->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->answered, NULL);
    e->inbox_tail = &e->inbox;
    if (!e->root_url || !e->trash || !e->uploads || !e->runs || !e->slots || e->efd < 0 || e->epfd < 0) {
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
    if (e->opts.nodes)
        nodes_set_notify(e->opts.nodes, NULL, NULL);
    if (e->jobs)
        jobs_set_notify(e->jobs, NULL, NULL);
    agents_free(e);
    config_cache_free(e);
    free(e->runs);
    free(e->slots);
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
/*
 * Under e->lock: whether the caller must wake the loop once it has let go
 * of the lock. One write to efd stands for every wake-up until the loop
 * takes its inbox.
 */
static bool
claim_wake(struct engine *e)
{
    bool wake = !e->inbox_signalled;

    e->inbox_signalled = true;
    return wake;
}

static void
wake_loop(struct engine *e)
{
    uint64_t one = 1;

    (void) !write(e->efd, &one, sizeof one);
}

/* Raise one of the loop's flags (under e->lock) and wake it. */
static void
raise_flag(struct engine *e, bool *flag)
{
    bool wake;

    pthread_mutex_lock(&e->lock);
    *flag = true;
    wake = claim_wake(e);
    pthread_mutex_unlock(&e->lock);
    if (wake)
        wake_loop(e);
}

static int
enqueue(struct engine *e, struct cmd *c)
{
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
    wake = claim_wake(e);
    pthread_mutex_unlock(&e->lock);
    if (wake)
        wake_loop(e);
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

void
engine_answer(struct engine *e, struct cmd *c, int result)
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

bool
engine_quiet_now(struct engine *e)
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

/*
 * Group commit: every trigger in the batch goes into one transaction, and
 * all of them are answered after it commits. The builds that may start
 * at once are claimed in the same transaction: the commit that makes the
 * triggers durable makes their build rows durable too, and they launch
 * just before the answers, with no commit of their own in between.
 */
/* The database could not take the write: the whole group fails with it. */
bool
engine_store_failure(int r)
{
    return r == -EIO || r == -ENOSPC || r == -EROFS || r == -EBUSY;
}

static void
handle_cmd(struct engine *e, struct cmd *c)
{
    switch (c->type) {
    case CMD_CANCEL:
        for (size_t i = 0; i < e->n_waiting; i++)
            if (e->waiting[i].row.id == c->id) {
                cancel_waiting(e, i);
                engine_answer(e, c, 0);
                return;
            }
        engine_answer(e, c, -ENOENT);
        return;
    case CMD_STOP: {
        struct run *run = find_run(e, c->job, c->id);
        if (!run) {
            engine_answer(e, c, -ENOENT);
            return;
        }
        abort_run(e, run, c->by);
        engine_answer(e, c, 0);
        return;
    }
    case CMD_FORGET: {
        bool waiting_runs = false;
        for (size_t i = 0; i < e->n_waiting;)
            if (streq(e->waiting[i].row.job, c->job))
                cancel_waiting(e, i);
            else
                i++;
        for (int i = 0; i < e->n_slots; i++) {
            struct run *run = e->runs[i];
            if (run && streq(run->job->name, c->job)) {
                run->forget_waiter = c;
                abort_run(e, run, "deletion of the job");
                waiting_runs = true;
            }
        }
        if (!waiting_runs)
            engine_answer(e, c, store_job_forget(e->db, c->job));
        return;
    }
    case CMD_RENAME:
        for (size_t i = 0; i < e->n_waiting; i++)
            if (streq(e->waiting[i].row.job, c->job)) {
                engine_answer(e, c, -EBUSY);
                return;
            }
        if (job_is_running(e, c->job) || job_has_unrecorded(e, c->job)) {
            engine_answer(e, c, -EBUSY);
            return;
        }
        engine_answer(e, c, store_job_rename(e->db, c->job, c->job2));
        return;
    case CMD_QUIET:
        /* a cancelled quiet-down: look at the whole queue again */
        queue_look_again(e);
        e->next_due_ms = 0;
        engine_answer(e, c, 0);
        return;
    case CMD_ABORT_ALL:
        e->stop_deadline_mono = mono_ms();
        engine_answer(e, c, 0);
        return;
    case CMD_LOAD:
        queue_take_load(e, c->load);
        engine_answer(e, c, 0);
        return;
    case CMD_POLL:
        want_poll(e, c->job, c->trigger ? c->trigger->cause->kind : CAUSE_SCM,
                  c->trigger ? c->trigger->cause->user_name : NULL);
        engine_answer(e, c, 0);
        return;
    case CMD_CHANGE_BUILD:
        engine_answer(e, c, change_build(e, c->job, c->id, c->change));
        return;
    case CMD_WIPE:
        engine_answer(e, c, wipe_workspace(e, c->job));
        return;
    case CMD_PREVIEW:
        engine_answer(e, c, preview_trigger(e, c));
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
                    engine_answer(e, c, -ENOMEM);
                    c = next;
                    continue;
                }
                triggers = t;
                cap = cap ? cap * 2 : 16;
            }
            triggers[n++] = c;
        } else if (c->type == CMD_QUIT) {
            quit = true;
            engine_answer(e, c, 0);
        } else
            handle_cmd(e, c);
        c = next;
    }
    if (n > 0)
        handle_triggers(e, triggers, n);
    free(triggers);
    return quit;
}

bool
engine_any_running(struct engine *e)
{
    for (int i = 0; i < e->n_slots; i++)
        if (e->runs[i])
            return true;
    return false;
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
        engine_answer(e, list, -ECANCELED);
        list = next;
    }
}

/* The grace of a stop is over: what still runs is aborted, with the reason recorded. */
static void
abort_for_stop(struct engine *e)
{
    e->stop_aborted = true;
    for (int k = 0; k < e->n_slots; k++) {
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
    for (int k = 0; k < e->n_slots; k++)
        if (e->runs[k]) {
            n++;
            if (e->opts.shutdown_grace_ms > 0 && e->runs[k]->logfd >= 0)
                run_log(e->runs[k]->logfd,
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

    while (!e->stopping || engine_any_running(e)) {
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
            } else if (IS_AGENT_TAG(evs[i].data.ptr)) {
                agents_event(e, evs[i].data.ptr);
            } else if (IS_MASK_TAG(evs[i].data.ptr)) {
                /* an earlier event of this batch may have ended the run */
                struct run *run = MASK_RUN(evs[i].data.ptr);
                for (int k = 0; k < e->n_slots; k++)
                    if (e->runs[k] == run)
                        pump_mask(run, false);
            } else if (IS_POLL_TAG(evs[i].data.ptr)) {
                struct poll_run *p = POLL_RUN(evs[i].data.ptr);
                for (int k = 0; k < POLL_SLOTS; k++)
                    if (e->polls[k] == p)
                        reap_poll(e, p);
            } else
                run_reap(e, evs[i].data.ptr);
        }
        if (e->stopping && !e->stop_aborted && mono_ms() >= e->stop_deadline_mono)
            abort_for_stop(e);
        timers_run(e);
        if (!e->stopping) {
            bool safe_exit, jobs_changed;

            fire_timers(e);
            agents_tick(e);
            pthread_mutex_lock(&e->lock);
            jobs_changed = e->jobs_changed;
            e->jobs_changed = false;
            pthread_mutex_unlock(&e->lock);
            if (jobs_changed)
                queue_look_again(e);
            queue_schedule(e);
            kill_polls(e, false);
            start_polls(e);
            pthread_mutex_lock(&e->lock);
            safe_exit = e->safe_exit;
            pthread_mutex_unlock(&e->lock);
            if (safe_exit && !e->exit_requested && !engine_any_running(e)) {
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
    agents_stop(e);
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
            run_log(fd, "\nSteward stopped while this build was running; it is marked "
                          "ABORTED.\n");
            if (killed > 0)
                run_log(fd, "Killed %d process%s the build left running.\n", killed,
                          killed == 1 ? "" : "es");
            run_log(fd, "Finished: ABORTED\n");
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

void
engine_nodes_changed(void *userdata)
{
    struct engine *e = userdata;

    raise_flag(e, &e->nodes_changed);
}

/*
 * A saved job may let a waiting item start (its label, its disabled flag,
 * its chain), and nothing else would make the loop look: an item that no
 * executor can take is looked at again only when one frees or a node
 * changes.
 */
void
engine_jobs_changed(void *userdata)
{
    struct engine *e = userdata;

    raise_flag(e, &e->jobs_changed);
}

int
engine_start(struct engine *e, struct store *db)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    int r;

    if (db)
        e->db = db;
    else {
        r = store_open(e->home->db_path, &e->db);
        if (r < 0)
            return r;
    }
    if (e->opts.nodes)
        nodes_set_notify(e->opts.nodes, engine_nodes_changed, e);
    jobs_set_notify(e->jobs, engine_jobs_changed, e);
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
