/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The core loop: one thread that owns the queue, the executors and the
 * running builds. Other threads talk to it through an inbox of commands
 * and wait for the answer.
 *
 * Triggers that arrive during one turn of the loop are committed to
 * SQLite in one transaction (group commit); engine_trigger returns only
 * after that commit, so a caller that answers 201 afterwards has the queue
 * item on disk.
 */

#include <stdbool.h>
#include <stdint.h>

#include "core/auth.h"
#include "core/home.h"
#include "core/jobs.h"
#include "store/store.h"

struct engine_opts {
    int executors;
    /* the nodes (core/nodes.h), or NULL: builds run on the built-in node only */
    struct nodes *nodes;
    int node_connect_timeout_s;   /* ssh's ConnectTimeout to a node; 0: 10 */
    int node_alive_interval_s;    /* ssh's ServerAliveInterval (3 unanswered: lost); 0: 10 */
    int quiet_period_s;      /* the global default, for jobs without <quietPeriod> */
    const char *root_url;    /* public root URL, with a trailing '/' */
    int stop_grace_ms;       /* TERM, then KILL after this long */
    int queue_limit;         /* waiting items at most; 0: BOUND_QUEUE_ITEMS */
    int64_t queue_bytes;     /* what they may hold (parameters, causes); 0: BOUND_QUEUE_BYTES */
    int audit_days;          /* audit entries are kept this long; 0: AUDIT_DEFAULT_DAYS */
    int shutdown_grace_ms;   /* a stop lets running builds end this long, then aborts them */
    struct sandbox *sandbox; /* where steps run (core/sandbox.h); NULL: plain child processes */
    /* "K=V" entries every build gets (--build-env), after the allow-listed ones */
    const char *const *build_env;
    size_t n_build_env;
    /* the build-timeout plugin (core/engine.c, "Timeouts and workspaces") */
    int64_t build_timeout_ms;    /* --build-timeout: for jobs without their own; 0: none */
    int64_t timeout_minimum_ms;  /* the plugin's MINIMUM_TIMEOUT_MILLISECONDS (3 minutes) */
    /* a safe exit found nothing running: called once, on the engine thread */
    void (*on_idle_exit)(void *userdata);
    void *userdata;
};

struct engine;

int engine_new(struct home *h, struct jobs *jobs, struct auth *auth,
               const struct engine_opts *opts, struct engine **ret_engine);
/*
 * Recovers from an unclean stop and starts the thread. `db` is a
 * connection the engine takes over (the server's first, which would idle
 * otherwise: one SQLite open less before the server listens); NULL: it
 * opens its own.
 */
int engine_start(struct engine *e, struct store *db);
/*
 * Stopping: no build starts any more and triggers are refused (-ECANCELED);
 * running builds get opts.shutdown_grace_ms to end by themselves, then they
 * are aborted (TERM, then KILL after stop_grace_ms) and recorded ABORTED
 * with the reason "Steward shut down while this build was running".
 *
 * engine_request_stop() starts that and returns; engine_wait_stopped()
 * waits up to timeout_ms for the thread to end (true when it has);
 * engine_abort_all() ends the grace at once (a second signal).
 * engine_stop() does it all and waits.
 */
int engine_request_stop(struct engine *e);
bool engine_wait_stopped(struct engine *e, int timeout_ms);
int engine_abort_all(struct engine *e);
void engine_stop(struct engine *e);

/*
 * Quiet-down, with Jenkins' meaning: triggers still queue, no new build
 * starts, running builds go on. QUIET_SAFE_EXIT also calls
 * opts.on_idle_exit once nothing runs. QUIET_OFF cancels either. `reason`
 * (may be NULL) is kept, cut at BOUND_QUIET_REASON_BYTES, control
 * characters made spaces.
 */
enum quiet_mode { QUIET_OFF, QUIET_DOWN, QUIET_SAFE_EXIT };
int engine_quiet_down(struct engine *e, enum quiet_mode mode, const char *reason);
/*
 * Whether no new build starts (a quiet-down, a safe exit or a stop), with
 * *ret_safe_exit (whether the server is about to stop) and *ret_reason
 * (newly allocated, NULL when none); either may be NULL.
 */
bool engine_quieting_down(struct engine *e, bool *ret_safe_exit, char **ret_reason);
struct engine *engine_free(struct engine *e);

struct trigger {
    const char *job;
    const struct param_value *params; /* every parameter of the job, defaults filled in */
    size_t n_params;
    const struct cause *cause;
    int64_t delay_ms;                 /* -1: the job's quiet period */
    /*
     * For the audit log, written in the trigger's own transaction: how the
     * caller authenticated ("apiToken", "triggerToken", ...) and from
     * where. NULL `via` (the timer): no entry.
     */
    const char *via;
    const char *addr;
    /*
     * The caller holds each of its file parameters' uploads
     * (engine_hold_upload()): the engine lets them go once the trigger is
     * applied or refused. False for triggers that took no hold (chains,
     * timers): they let none go.
     */
    bool holds_uploads;
};

/*
 * Queues a build, or merges into a waiting item of the same job with the
 * same parameters. Returns 0 once committed, with *ret_queue_id and
 * *ret_merged; -ENOENT for an unknown job, -EAGAIN when the queue is full,
 * -ENOBUFS when the waiting items hold opts.queue_bytes (a merge that adds
 * a cause of its own counts too), -ECANCELED when shutting down; when the commit failed, -ENOSPC (a full
 * disk), -EBUSY (the database held by another process), -EROFS or -EIO.
 */
int engine_trigger(struct engine *e, const struct trigger *t, int64_t *ret_queue_id,
                   bool *ret_merged);

typedef void (*engine_trigger_done_fn)(void *userdata, int result, int64_t queue_id, bool merged);

/*
 * engine_trigger without waiting: the trigger is copied, and `done` is
 * called on the engine thread once the item is committed (result 0) or
 * refused (result as for engine_trigger). Returns 0, or -ECANCELED /
 * -ENOMEM at once (then `done` is not called).
 */
int engine_trigger_async(struct engine *e, const struct trigger *t, engine_trigger_done_fn done,
                         void *userdata);

/*
 * Wipes out the workspace of `job` (POST /job/NAME/doWipeOutWorkspace):
 * its workspace (custom or not) and those of its concurrent builds
 * (NAME@2...) go into the trash at once and are deleted on a thread.
 * Returns 0; -EBUSY while a build uses one of them (a running build's
 * workspace is never pulled away from under it); -ENOENT for an unknown
 * job; -EINVAL for a custom workspace that cannot be used.
 */
int engine_wipe_workspace(struct engine *e, const char *job);

/*
 * What engine_trigger() would do with `t`, changing nothing: 0 with
 * *ret_merged and, for a merge, *ret_queue_id (the waiting item it would
 * join; 0 for a new item); -EAGAIN or -ENOBUFS for a full queue,
 * -ECANCELED when shutting down. Store failures cannot be foreseen.
 */
int engine_trigger_preview(struct engine *e, const struct trigger *t, int64_t *ret_queue_id,
                           bool *ret_merged);

/*
 * File parameters: an upload kept for a trigger (core/upload.h) is held
 * from before it is kept until its trigger is applied, so that an item
 * with the same file cancelled meanwhile does not take it away. Hold it
 * before upload_keep(); engine_trigger() and engine_trigger_async() take
 * the holds of their trigger's files over (whatever their result). A
 * caller that does not hand the trigger over after all lets go with
 * engine_unhold_upload(). 0 or -ENOMEM.
 */
int engine_hold_upload(struct engine *e, const char *sha256);
void engine_unhold_upload(struct engine *e, const char *sha256);

/* Cancels a waiting item. -ENOENT when no such item is waiting. */
int engine_cancel(struct engine *e, int64_t queue_id);

/*
 * Asks for an SCM poll of a Git job (core/poll.h): it runs when one of
 * the poll slots is free, and a poll that finds changes queues a build
 * with `cause` (its kind and user name; NULL: "Started by an SCM
 * change"). 0, or -ESHUTDOWN after a stop.
 */
int engine_poll(struct engine *e, const char *job, const struct cause *cause);

/* Aborts a running build; `by` is recorded in its log. -ENOENT when it is not running. */
int engine_stop_build(struct engine *e, const char *job, int64_t number, const char *by);

/*
 * Before a job is deleted: cancels its waiting items, aborts its running
 * builds (waiting for them to end) and forgets its rows.
 */
int engine_forget_job(struct engine *e, const char *job);

/*
 * A change to one build that a user asks for (Jenkins' submitDescription,
 * configSubmit, toggleLogKeep and doDelete). Texts are checked by the
 * caller (core/buildmeta.h); NULL clears.
 */
struct build_change {
    bool set_description;
    const char *description;
    bool set_display_name;
    const char *display_name;
    int keep;                /* 1: keep forever, 0: no more, -1: unchanged */
    bool delete;             /* the build goes: its row, then its directory */
};

/*
 * Makes the change on the engine thread, in one transaction, so that it
 * and the discarding of old builds come one after the other. 0, -ENOENT
 * when there is no such build; for a delete, -EBUSY while it runs and
 * -EPERM when it is kept forever; -ECANCELED when shutting down, or the
 * store's error.
 */
int engine_change_build(struct engine *e, const char *job, int64_t number,
                        const struct build_change *change);

/* Moves queue and build rows of a renamed job. -EBUSY while it builds or waits. */
int engine_rename_job(struct engine *e, const char *from, const char *to);

/* The queue and the executors at one moment, as the engine thread sees them. */
struct engine_load {
    int executors;       /* defined (all on the built-in node, all online) */
    int busy;            /* running a build */
    size_t waiting;      /* every waiting item */
    size_t buildable;    /* due, and would start but for a free executor */
    size_t blocked;      /* due, but its job is disabled or already building */
};

/*
 * Takes that snapshot on the engine thread (one look at every waiting
 * item; for readers such as /prometheus/, not for hot paths). -ECANCELED
 * when shutting down.
 */
int engine_load(struct engine *e, struct engine_load *ret);

int engine_executors(const struct engine *e);
int engine_queue_limit(const struct engine *e);
int64_t engine_queue_bytes(const struct engine *e);

/* The job's URL: root + "job/" + percent-encoded name + "/". Newly allocated. */
char *job_url(const char *root_url, const char *job);
