/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The engine's insides, shared by its modules (core/engine.c and the files
 * it was split into). Nothing outside the engine includes this.
 */

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
#include "core/nodes.h"
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

/*
 * The private directories of steps with Git credentials, in the home
 * (which every sandbox hides): HOME/git-credentials/build-EXECUTOR and
 * poll-SLOT, each shown to its own step alone. Leftovers of a crash go
 * at the next start.
 */
#define CRED_DIRS "git-credentials"

/* an agent's master connection (core/agents.c): both low bits */
#define IS_AGENT_TAG(p) (((uintptr_t) (p) & 3) == 3)
#define IS_MASK_TAG(p) (((uintptr_t) (p) & 1) != 0)

#define IS_POLL_TAG(p) (((uintptr_t) (p) & 2) != 0)

#define MASK_RUN(p) ((struct run *) ((uintptr_t) (p) & ~(uintptr_t) 1))

#define POLL_RUN(p) ((struct poll_run *) ((uintptr_t) (p) & ~(uintptr_t) 2))

#define FLUSH_INTERVAL_MS 1000

#define TRIM_INTERVAL_MS  10000
/* an idle server gives memory back this long after its last build ended */
#define IDLE_TRIM_MS      250

#define DAY_MS (24 * 3600 * 1000LL)

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
    uint64_t no_slot_look;  /* engine's slot_look when no executor could take it; 0: never */
};

struct run {
    struct job *job;
    struct agent *agent;        /* the node it runs on (core/agents.c), NULL: the built-in one */
    char *remote_ws_name;       /* on a node: the workspace's name under REMOTE_ROOT/workspace */
    char *remote_root;          /* on a node: its remoteFS when the build began */
    char *git_report_local;     /* on a node: the checkout's report, fetched back */
    /*
     * On a node, the publishers read a local copy of the workspace
     * (agents_fetch()): its files come back once the steps are over.
     */
    bool fetching;              /* the fetch runs (run->pid): the build ends after it */
    bool fetched;               /* it was tried */
    bool fetch_failed;          /* the publishers have nothing to read */
    char *mirror;               /* the copy, in the build's directory; trashed at the end */
    struct job_config *cfg;     /* config.xml whole, as read when the build started */
    struct queue_row row;       /* the item it came from: causes and parameters */
    bool claimed;               /* its row is in the open transaction; not started yet */
    bool steps_pending;         /* its log is begun; launch_steps() starts its first step */
    bool uploads_pending;       /* its file parameters are not in the workspace yet */
    int64_t number;
    int64_t queue_id;
    int64_t start_ms;
    int64_t start_mono_us;      /* for the duration (start_ms is the wall clock) */
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

/* What an executor slot belongs to. */
struct slot {
    struct agent *agent;   /* NULL: the built-in node */
    int number;            /* the executor's number on its node (EXECUTOR_NUMBER) */
    bool retired;          /* its node went or shrank: it takes no new build */
};

/*
 * config.xml as the last builds read it, parsed and without its document
 * (read_build_config()): a build of a job whose file has not changed
 * since needs neither the read nor libxml2, which an idle server unloads.
 */
#define CONFIG_CACHE_SLOTS 8
struct config_slot {
    char *job;
    struct job_ident ident;     /* the config.xml it was read from */
    struct job_config *cfg;     /* one reference of the cache's own */
    uint64_t used;              /* for the least recently used */
};

struct engine {
    struct home *home;
    struct jobs *jobs;
    struct auth *auth;
    struct engine_opts opts;
    char *root_url;
    struct store *db;
    struct config_slot configs[CONFIG_CACHE_SLOTS];
    uint64_t configs_used;

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
    uint64_t slot_look;      /* counts what may let an item no executor took start (queue_look_again()) */
    bool blocked;            /* some item is due but could not start */
    /*
     * Executor slots: the built-in node's first (opts.executors of them),
     * then the nodes' (core/agents.c), each with its agent in `slots`.
     * A slot keeps its index while a build runs in it.
     */
    struct run **runs;
    struct slot *slots;
    int n_slots, cap_slots;
    struct aux_proc {            /* kill sessions to nodes (agents_signal()), reaped by agents_tick() */
        pid_t pid;
        int64_t deadline_mono;
    } *aux;
    size_t n_aux;
    struct agent **agents;   /* the nodes, as the engine runs them (core/agents.c) */
    size_t n_agents;
    uint64_t nodes_generation;   /* of the registry, when the agents were last synced */
    int64_t next_nodes_mono;     /* when the registry is next asked for its generation */
    bool nodes_changed;          /* under `lock`: the registry said so (engine_nodes_changed()) */
    bool jobs_changed;           /* under `lock`: a job was saved (engine_jobs_changed()) */
    int64_t next_flush_mono;
    int64_t next_trim_mono;     /* when an idle server next gives its free memory back */
    bool was_running;           /* a build ran at the last look of timers_run() */
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

/* what env_list_add() adds to */
struct env_list {
    char ***env;
    size_t *n;
};

/* ---- core/engine.c ---- */

void build_cookie(const struct engine *e, const char *job, int64_t number, char out[64]);
void engine_answer(struct engine *e, struct cmd *c, int result);
bool engine_quiet_now(struct engine *e);
bool engine_store_failure(int r);
bool engine_any_running(struct engine *e);

/* ---- core/queue.c ---- */

void prune_audit(struct engine *e, int64_t now, bool oldest_only);
int preview_trigger(struct engine *e, struct cmd *c);
int load_waiting(struct engine *e);
void unhold_trigger(struct engine *e, const struct trigger *t);
bool upload_needed_by_any(void *userdata, const char *sha256);
void forget_uploads(struct engine *e, const struct param_value *params, size_t n, int64_t except);
void handle_triggers(struct engine *e, struct cmd **batch, size_t n);
bool job_is_running(struct engine *e, const char *job);
int queue_free_slot(struct engine *e);
void cancel_waiting(struct engine *e, size_t i);
/*
 * An executor freed, a node changed or a job was saved: every waiting item
 * is looked at again, those that no executor could take included.
 */
void queue_look_again(struct engine *e);
void queue_schedule(struct engine *e);
void queue_take_load(struct engine *e, struct engine_load *load);

/* ---- core/run.c ---- */

/* Appends a line of Steward's own to a build log: 0, or -errno (-ENOSPC...). */
int run_log(int fd, const char *fmt, ...) _printf_(2, 3);
bool steps_begin(struct engine *e, struct run *run);
int env_add(char ***env, size_t *n, const char *name, const char *value);
void env_free(char **env);
int base_env(struct engine *e, const char *home, char ***env, size_t *n);
void pump_mask(struct run *run, bool end);
void drop_private(char **dir);
void run_free(struct run *run);
void config_cache_free(struct engine *e);
int spawn_script(struct engine *e, struct run *run, const char *script, char **env, bool shell_step);
void finish_run(struct engine *e, struct run *run, const char *result);
void start_failed(struct engine *e, struct run *run, int err);
const char *run_param(const struct run *run, const char *name);
/*
 * A claimed build starts in two parts: launch_build() begins it (its
 * directory, its log, its workspace, its config.xml and wrappers) and
 * launch_steps() starts its checkout or first step, the spawn. The answers
 * to the triggers that claimed it go in between: a client that reads the
 * build right after its 201 finds its log begun, and the 201 does not
 * wait for a process to start.
 */
void launch_build(struct engine *e, struct run *run);
void launch_steps(struct engine *e, struct run *run);
void run_reap(struct engine *e, struct run *run);
struct run *find_run(struct engine *e, const char *job, int64_t number);
void abort_run(struct engine *e, struct run *run, const char *by);

/* ---- core/run_bind.c ---- */

int bind_credentials(struct engine *e, struct run *run);
int add_bound_env(struct run *run);

/* ---- core/run_git.c ---- */

int git_previous_lines(struct engine *e, const char *job, int64_t before, char **ret_all, char **ret_ok, bool *ret_has_builds);
int git_previous(struct engine *e, struct run *run);
int env_list_add(void *userdata, const char *name, const char *value);
size_t env_count(char **env);
int step_credentials(struct engine *e, const struct git_scm *g, const char *name, char ***env, size_t *n, int logfd, char **ret_dir, const char *step_dir);
int start_checkout(struct engine *e, struct run *run);
bool checkout_done(struct engine *e, struct run *run);

/* ---- core/run_ws.c ---- */

int assign_workspace(struct engine *e, struct run *run);
bool wrappers_begin(struct engine *e, struct run *run);
void cleanup_after_build(struct engine *e, struct run *run);
int wipe_workspace(struct engine *e, const char *name);

/* ---- core/publish.c ---- */

bool start_archiving(struct engine *e, struct run *run);
/* Whether a build that ends with `result` has publishers that read its workspace. */
bool publish_wanted(const struct run *run, const char *result);
void archive_done(struct engine *e, struct run *run);
int record_result(struct engine *e, struct run *run, int64_t duration, bool discard);
void keep_unrecorded(struct engine *e, struct run *run, int64_t duration);
void record_unrecorded(struct engine *e);
bool job_has_unrecorded(struct engine *e, const char *job);
void trigger_downstream(struct engine *e, struct run *run);

/* ---- core/polling.c ---- */

void want_poll(struct engine *e, const char *job, enum cause_kind kind, const char *user);
void poll_free(struct poll_run *p);
void start_polls(struct engine *e);
void reap_poll(struct engine *e, struct poll_run *p);
void kill_polls(struct engine *e, bool all);

/* ---- core/retention.c ---- */

void empty_trash(struct engine *e);
int trash_rename(struct engine *e, const char *path);
int to_trash(struct engine *e, const char *path);
int change_build(struct engine *e, const char *job, int64_t number, const struct build_change *c);
void discard_release(struct discard *d);
int discard_rows(struct engine *e, const struct job *job, struct discard *d);
void discard_files(struct engine *e, const struct job *job, struct discard *d);
void discard_old_builds(struct engine *e, const struct job *job);

/* ---- core/timers.c ---- */

int timeout_arm(struct engine *e, struct run *run);
void fire_timers(struct engine *e);
int next_timeout(struct engine *e);
void timers_run(struct engine *e);

/* ---- core/agents.c ---- */

/* The registry's notice of a change (nodes_set_notify()): any thread. */
void engine_nodes_changed(void *userdata);
void engine_jobs_changed(void *userdata);

int agents_busy(const struct engine *e, const struct agent *a);
/* Whether slot `slot` may take a new build: not retired, and its node is online and not taken offline. */
bool agents_slot_usable(const struct engine *e, int slot);
/* A free slot whose node takes `job` (its <assignedNode>), or -1. */
int agents_pick_slot(struct engine *e, const struct job *job);
/* The node of slot `slot`: its name, or NULL for the built-in node. */
const char *agents_slot_node(const struct engine *e, int slot);
/* Tells the registry how busy the node of `slot` is now. */
void agents_report_slot(struct engine *e, int slot);
/* An event on an agent's master connection (IS_AGENT_TAG). */
void agents_event(struct engine *e, void *tag);
/* Once a turn: the registry's changes, connections due, kill sessions reaped. */
void agents_tick(struct engine *e);
/* Milliseconds until agents_tick() has something to do, or -1. */
int agents_next_timeout(const struct engine *e);
/* At the loop's end: every master and kill session ends. */
void agents_stop(struct engine *e);
void agents_free(struct engine *e);
bool agents_run_remote(const struct run *run);
const char *agents_run_node(const struct run *run);
const char *agents_run_labels(const struct run *run);
/* What of the job does not run on a node yet (a build with it fails), or NULL. */
const char *agents_refuses(const struct run *run);
int agents_assign_workspace(struct engine *e, struct run *run);
int agents_spawn(struct engine *e, struct run *run, const char *script, char **env, bool shell_step);
void agents_signal(struct engine *e, struct run *run, int sig);
const char *agents_lost_reason(const struct run *run);
/* Why a Git checkout cannot run on the run's node (no git there), or NULL. */
const char *agents_checkout_refused(const struct run *run);
/* The run's private directory on its node (ssh_private_dir()), newly allocated. */
char *agents_private_dir(const struct engine *e, const struct run *run);
/* Starts reading the checkout's report back from the node into run->git_report_local. */
int agents_fetch_report(struct engine *e, struct run *run);
/* Starts fetching the workspace back into run->mirror: 0 (run->pid runs it) or -errno. */
int agents_fetch(struct engine *e, struct run *run);
/* The fetch ended with `status` (waitpid's): run->workspace becomes the copy, or the build fails. */
void agents_fetch_done(struct engine *e, struct run *run, int status);
void agents_connection_lost(struct engine *e, struct run *run);
