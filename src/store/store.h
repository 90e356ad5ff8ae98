/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * steward.db: users, API tokens, the queue, builds and settings,
 * in SQLite (WAL). SQLite lives here and nowhere else.
 *
 * A `struct store` is one connection and must be used by one thread at a
 * time. The core loop holds the only connection that writes queue and
 * build rows; HTTP handlers read through a connection of their own per
 * thread; the offline admin commands open their own. SQLite's locking
 * (with a busy timeout) keeps them apart.
 *
 * Functions return 0 (or a count) on success, -ENOENT when the row is not
 * there, -EEXIST on a uniqueness conflict, -EBUSY when another process
 * held the database past the busy timeout, -ENOSPC on a full disk, -EROFS
 * on a read-only one, -EIO on any other database error.
 * Strings in returned rows belong to the row; free rows with their _free.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

int store_open(const char *path, struct store **ret_store);
struct store *store_close(struct store *s);
static inline void store_closep(struct store **p) { store_close(*p); }

/*
 * For a connection that keeps a cache that can be rebuilt, and reads it
 * whole: commits do not wait for the disk (a power loss may undo the last
 * ones), and reads go through a memory map.
 */
int store_tune_cache(struct store *s);
/* Ends the memory map once the whole read is done: its pages would stay resident. */
int store_unmap(struct store *s);
/* Gives back the memory of the connection's page cache that no statement uses. */
void store_release_memory(struct store *s);

int store_begin(struct store *s);   /* BEGIN IMMEDIATE */
/*
 * A transaction whose commit does not wait for the disk: a crash of the
 * process loses nothing, a power loss may undo it. The WAL keeps commits
 * in order, so after a power loss the database is as of some commit at or
 * after the last durable one: the next durable commit or store_sync() on
 * any connection makes this one durable too. For writes that acknowledge
 * nothing to a client. Ended by store_commit() or store_rollback(), as any.
 */
int store_begin_lazy(struct store *s);
/* Durable when it returns (WAL, synchronous=FULL), but for a lazy transaction's. */
int store_commit(struct store *s);
int store_rollback(struct store *s);
/* Makes every commit so far durable (one sync of the WAL); 0 at once when nothing is lazy. */
int store_sync(struct store *s);
/*
 * store_sync() in two halves, for a caller with work to do while the disk
 * confirms: store_sync_start() has the WAL synced on a thread of the
 * store's own, store_sync_wait() waits for that sync and returns its
 * result. Every commit before the start is durable once the wait returns
 * 0; one made in between is not covered. One at a time: each start is
 * followed by its wait before the next start. The thread never uses the
 * connection. Without it, the wait syncs as store_sync() does.
 */
int store_sync_start(struct store *s);
int store_sync_wait(struct store *s);
/*
 * One savepoint inside a transaction: rolling back to it undoes what came
 * since, and ends it, as releasing does.
 */
int store_savepoint(struct store *s);
int store_savepoint_release(struct store *s);
int store_savepoint_rollback(struct store *s);

/*
 * The auth generation: a number that changes after every committed change
 * to users, API tokens, the global matrix or settings, made by this
 * process or another (the offline commands). What was read of them stays
 * true while it stays the same. It lives in a small file beside the
 * database (DB-authgen), mapped into memory: asking costs no system call
 * after the first time. 0 and *ret, or -ENOTSUP when there is no such file
 * (an in-memory database, or one it cannot be made for): then nothing
 * read may be kept.
 */
int store_auth_generation(struct store *s, uint64_t *ret);

/* ---- settings ---- */
/* *ret_value is newly allocated; -ENOENT when unset. */
int store_setting_get(struct store *s, const char *key, char **ret_value);
int store_setting_set(struct store *s, const char *key, const char *value);
/* -ENOENT when it was not set. */
int store_setting_delete(struct store *s, const char *key);
/* Returns the setting as a boolean ("on"/"true"/"1"), `dflt` when unset. */
bool store_setting_bool(struct store *s, const char *key, bool dflt);

/* ---- users ---- */
struct user_row {
    int64_t id;
    char *name;
    char *full_name;
    char *password_hash;
    bool is_admin;
    int64_t created_ms;
};
void user_row_release(struct user_row *u);

int store_user_add(struct store *s, const char *name, const char *password_hash, bool is_admin,
                   int64_t *ret_id);
int store_user_get(struct store *s, const char *name, struct user_row *ret);
int store_user_get_by_id(struct store *s, int64_t id, struct user_row *ret);
int store_user_set_password(struct store *s, int64_t id, const char *password_hash);
int store_user_count(struct store *s, int64_t *ret_count);
/*
 * Lists every user, sorted by name (case-insensitively, then exactly);
 * *ret_rows is an array of *ret_n rows, NULL when there are none. Free it
 * with user_rows_free().
 */
int store_user_list(struct store *s, struct user_row **ret_rows, size_t *ret_n);
void user_rows_free(struct user_row *rows, size_t n);
/*
 * Deletes a user and, explicitly (foreign keys are not relied on), their
 * API tokens. -ENOENT when there is no such user. Two statements: callers
 * that decide on a delete from what they read (the last administrator)
 * wrap the read and the delete in store_begin()/store_commit().
 */
int store_user_delete(struct store *s, int64_t id);
/* Grants or takes the administrator flag. -ENOENT when there is no such user. */
int store_user_set_admin(struct store *s, int64_t id, bool is_admin);

/* ---- API tokens ---- */
struct token_row {
    char uuid[37];
    int64_t user_id;
    char *name;
    int64_t created_ms;
    int64_t last_use_ms;   /* 0 = never */
    int64_t use_count;
    char *scopes;          /* "read,build", or NULL: every right of its user */
    char *jobs;            /* "deploy-*,web", or NULL: every job */
    int64_t expires_ms;    /* 0 = never */
};
void token_row_release(struct token_row *t);

/* What limits a token (core/auth checks them); NULL fields: no limit. */
struct token_limits {
    const char *scopes;
    const char *jobs;
    int64_t expires_ms;
};

int store_token_add(struct store *s, int64_t user_id, const char *uuid, const char *name,
                    const char *hash_hex, const struct token_limits *lim);
/* Finds a token by the SHA-256 of its secret part. */
int store_token_find_by_hash(struct store *s, const char *hash_hex, struct token_row *ret);
/* Lists a user's tokens, oldest first; *ret_rows is an array of *ret_n rows. */
int store_token_list(struct store *s, int64_t user_id, struct token_row **ret_rows, size_t *ret_n);
void token_rows_free(struct token_row *rows, size_t n);
/* Deletes by uuid or, when uuid is NULL, by name. -ENOENT when none matched. */
int store_token_delete(struct store *s, int64_t user_id, const char *uuid, const char *name);
/*
 * The global authorization matrix: entries as matrix-auth writes them
 * ("USER:hudson.model.Item.Build:bob"; core/perm reads them). add returns
 * 1 when the entry was new, 0 when it was there; remove returns -ENOENT
 * when it was not. list gives them sorted, at most BOUND_GLOBAL_GRANTS.
 */
int store_grant_add(struct store *s, const char *entry);
int store_grant_remove(struct store *s, const char *entry);
int store_grant_list(struct store *s, char ***ret_entries, size_t *ret_n);
void store_grants_free(char **entries, size_t n);

/*
 * The audit log: who did what, when, from where. Strings may be NULL where
 * the column allows it; every one is copied.
 */
struct audit_row {
    int64_t id;
    int64_t time_ms;       /* wall clock */
    char *actor;           /* a user's name, "anonymous", or what acted for nobody */
    char *via;             /* password, apiToken, session, triggerToken, offline, ... */
    char *token_name;      /* the API token's name (via apiToken) */
    char *addr;            /* the client's address */
    char *action;          /* "trigger", "login", "job-configure", ... */
    char *job;
    char *detail;
};
void audit_row_release(struct audit_row *a);
void audit_rows_free(struct audit_row *rows, size_t n);
/* An entry to write: the same fields, lent. */
struct audit_entry {
    int64_t time_ms;       /* 0: now */
    const char *actor, *via, *token_name, *addr, *action, *job, *detail;
};
int store_audit_add(struct store *s, const struct audit_entry *a);

struct audit_filter {
    int64_t since_ms, until_ms;  /* 0: open */
    const char *actor, *job, *action;  /* NULL: any */
    int64_t before_id;           /* paging: only entries older than this id; 0: from the newest */
    int limit;                   /* at most this many, newest first */
};
int store_audit_list(struct store *s, const struct audit_filter *f, struct audit_row **ret_rows,
                     size_t *ret_n);
/*
 * Drops the entries older than `before_ms`; how many, or -errno. That
 * reads the whole log. With oldest_only it drops them from the oldest
 * entry on and stops at the first that is not older, reading only what it
 * drops: the same entries, as they are appended in time order, unless the
 * clock went back (then an entry stamped ahead holds back the ones after
 * it until a whole prune).
 */
int store_audit_prune(struct store *s, int64_t before_ms, bool oldest_only);

int store_token_add_uses(struct store *s, const char *uuid, int64_t uses, int64_t last_use_ms);

/* ---- queue and builds ---- */

enum cause_kind {
    CAUSE_USER = 0,     /* Started by user NAME (token_name: which API token) */
    CAUSE_REMOTE = 1,   /* Started by remote host ADDR (trigger token) */
    CAUSE_TIMER = 2,    /* Started by timer (a TimerTrigger spec) */
    CAUSE_SCM = 3,      /* Started by an SCM change (polling found one) */
    CAUSE_COMMIT = 4,   /* /git/notifyCommit with sha1: `note` is the commit to build, `addr` who sent it */
    CAUSE_GITHUB = 5,   /* Started by GitHub push by USER_NAME (a poll after /github-webhook/) */
    /*
     * A GitLab hook: `addr` is the short description ("Started by GitLab
     * push by NAME", "Triggered by GitLab Merge Request #1: a => b"),
     * `note` the commit to build on its first line (may be empty), then the
     * plugin's gitlab* variables as NAME=value lines.
     */
    CAUSE_GITLAB = 6,
    /*
     * Started by upstream project `addr` build number N: `note` is N on
     * its first line, then the jobs further upstream in the chain, one a
     * line (core/chain.h cuts a chain that would loop with them).
     */
    CAUSE_UPSTREAM = 7,
};

struct cause {
    enum cause_kind kind;
    char *user_name;    /* CAUSE_USER; NULL for anonymous */
    char *token_name;   /* CAUSE_USER: the API token used, NULL for a password or session */
    char *addr;         /* CAUSE_REMOTE, CAUSE_COMMIT */
    char *note;         /* CAUSE_REMOTE: the cause= parameter, NULL when absent; CAUSE_COMMIT: the commit */
    int64_t count;      /* identical causes merged into one */
};

/* A build parameter's value; `type` is the core's enum param_type. */
struct param_value {
    char *name;
    int type;
    char *value;
};

enum queue_state {
    QUEUE_WAITING = 0,
    QUEUE_LEFT = 1,        /* became a build */
    QUEUE_CANCELLED = 2,
};

struct queue_row {
    int64_t id;
    char *job;
    int64_t in_queue_since_ms;
    int64_t due_ms;
    enum queue_state state;
    int64_t left_ms;
    int64_t build_number;  /* 0 until it became a build */
    struct param_value *params;
    size_t n_params;
    struct cause *causes;
    size_t n_causes;
};
void queue_row_release(struct queue_row *q);
void cause_release(struct cause *c);
void param_value_release(struct param_value *p);

/* Inserts an item with its params and causes; sets q->id. */
int store_queue_insert(struct store *s, struct queue_row *q);
/* Replaces the causes of an item and sets its due time (after a merge). */
int store_queue_update_merge(struct store *s, const struct queue_row *q);
int store_queue_set_state(struct store *s, int64_t id, enum queue_state st, int64_t left_ms,
                          int64_t build_number);
int store_queue_get(struct store *s, int64_t id, struct queue_row *ret);
/*
 * The parameter type whose values the schema indexes while they are not
 * empty: the core's PARAM_PASSWORD, which it checks at compile time.
 */
#define STORE_PARAM_SECRET 4
/*
 * Empties the stored values of item `id`'s parameters of `type` (the
 * password parameters: once the build has its environment, nothing needs
 * them); id 0 does it for every item that is no longer waiting, reading
 * only the values still there when `type` is STORE_PARAM_SECRET (so a
 * start costs nothing for a long history). The database runs with
 * secure_delete, so the old values are overwritten.
 */
int store_queue_forget_values(struct store *s, int64_t id, int type);
/* Items still waiting, oldest first (all jobs when job is NULL). */
int store_queue_list_waiting(struct store *s, const char *job, struct queue_row **ret_rows,
                             size_t *ret_n);
/* The same without their parameters (n_params is 0), for answers that do not show them. */
int store_queue_list_waiting_brief(struct store *s, struct queue_row **ret_rows, size_t *ret_n);
/* The bytes of the waiting items' parameter names and values together. */
int store_queue_waiting_bytes(struct store *s, int64_t *ret);
void queue_rows_free(struct queue_row *rows, size_t n);
int64_t store_queue_max_id(struct store *s);

struct build_row {
    char *job;
    int64_t number;
    int64_t queue_id;
    int64_t start_ms;
    int64_t duration_ms;
    char *result;          /* NULL while building */
    int executor;
    char *abort_reason;    /* why Steward itself aborted it, or NULL */
    char *description;     /* NULL: none */
    char *display_name;    /* NULL: the default, "#N" */
    bool keep_log;         /* kept forever: discarding old builds passes it by */
    char *built_on;        /* the node it ran on; NULL: the built-in node */
    bool archived;         /* its archive may hold artifacts: false once they are discarded */
};
void build_row_release(struct build_row *b);
void build_rows_free(struct build_row *rows, size_t n);

/* Takes the next build number of `job` and inserts a building row. */
int store_build_start(struct store *s, const char *job, int64_t queue_id, int64_t start_ms,
                      int executor, int64_t *ret_number);
/* Records the node build `number` runs on (NULL: the built-in node). */
int store_build_set_node(struct store *s, const char *job, int64_t number, const char *node);
int store_build_finish(struct store *s, const char *job, int64_t number, const char *result,
                       int64_t duration_ms, const char *abort_reason);
int store_build_get(struct store *s, const char *job, int64_t number, struct build_row *ret);
/*
 * The numbers of the builds of `job` just before and just after `number`
 * (which need not exist): discarded builds leave gaps. 0 where there is
 * none. Two index lookups, whatever the history's length.
 */
int store_build_neighbours(struct store *s, const char *job, int64_t number, int64_t *ret_prev,
                           int64_t *ret_next);
/*
 * Builds of `job`, newest first, at most `limit` (0: all), skipping
 * `offset`.
 */
int store_build_list(struct store *s, const char *job, int64_t offset, int64_t limit,
                     struct build_row **ret_rows, size_t *ret_n);
/* All builds that are running (result NULL), any job. */
int store_build_list_running(struct store *s, struct build_row **ret_rows, size_t *ret_n);
/*
 * The newest build matching a permalink: "lastBuild", "lastSuccessfulBuild",
 * "lastFailedBuild", "lastCompletedBuild", "lastStableBuild",
 * "lastUnsuccessfulBuild", "lastUnstableBuild", "firstBuild". Sets *ret_number, or -ENOENT.
 * Each is a few index lookups (results are Jenkins' five: SUCCESS,
 * UNSTABLE, FAILURE, NOT_BUILT, ABORTED); lastCompletedBuild steps back
 * over the builds still running.
 */
int store_build_permalink(struct store *s, const char *job, const char *which,
                          int64_t *ret_number);
int store_build_next_number(struct store *s, const char *job, int64_t *ret_next);
int store_build_count(struct store *s, const char *job, int64_t *ret_count);
/*
 * Finished builds of `job` that Jenkins' LogRotator lets go: those past
 * the `keep` newest builds (running ones count; keep < 0: no count), and
 * those started before `before_ms` (INT64_MIN: no age), except the last
 * successful and the last stable build. With archived_only, only builds
 * marked archived (whose artifacts may still be there). Oldest first, at
 * most `max`; *ret_numbers is to be freed.
 */
int store_build_discardable(struct store *s, const char *job, bool archived_only, int64_t keep,
                            int64_t before_ms, size_t max, int64_t **ret_numbers, size_t *ret_n);
/* Marks whether a build has (or may have) archived artifacts. */
int store_build_set_archived(struct store *s, const char *job, int64_t number, bool archived);
/* Deletes the row of a finished build that is not kept forever. */
int store_build_delete(struct store *s, const char *job, int64_t number);
/*
 * A build's description, display name (NULL: none, or the default "#N")
 * and keep-forever flag. The text is stored as given: callers check it
 * first (core/buildmeta.h says what is allowed). Each is one statement,
 * on any connection and on the engine's thread alike (the build-timeout
 * plugin's writeDescription). 0, or -ENOENT when there is no such build.
 */
int store_build_set_description(struct store *s, const char *job, int64_t number,
                                const char *text);
int store_build_set_display_name(struct store *s, const char *job, int64_t number,
                                 const char *text);
int store_build_set_keep(struct store *s, const char *job, int64_t number, bool keep);
/*
 * Calls fn for the builds of `job`, newest first, skipping `offset`, at
 * most `limit` (< 0: all), as of one moment (one read transaction): the
 * rows are lent for the call, one at a time, so that a history of any
 * length costs one row's memory. A negative return from fn stops the walk
 * and is returned. fn may read the store on the same connection.
 */
int store_build_each(struct store *s, const char *job, int64_t offset, int64_t limit,
                     int (*fn)(void *userdata, const struct build_row *b), void *userdata);
/* Average duration of the last 3 successful (or unstable) builds, or -1. Index lookups. */
int64_t store_build_estimated_duration(struct store *s, const char *job);

/*
 * Per job: its finished builds by result, their total duration, and its
 * newest finished build. Kept as builds finish (deleting old builds does
 * not lower the counts); a job that never finished a build has no row.
 */
struct job_stats_row {
    char *job;
    int64_t success, unstable, failure, not_built, aborted;
    int64_t duration_ms;       /* the sum over all of them */
    int64_t last_number;
    char *last_result;
    int64_t last_start_ms;
    int64_t last_duration_ms;
};
/*
 * Every job's row, by name (byte order), at most `max` of them; one query
 * over the jobs, none over their builds. *ret_rows is NULL when there are
 * none; free with job_stats_rows_free().
 */
int store_job_stats_list(struct store *s, size_t max, struct job_stats_row **ret_rows,
                         size_t *ret_n);
void job_stats_rows_free(struct job_stats_row *rows, size_t n);
/*
 * Every job with a running build, by name (byte order), with the newest
 * running build's number: one pass over the running builds' index.
 * Free with job_stats_rows_free() (only job and last_number are set).
 */
int store_job_running_list(struct store *s, struct job_stats_row **ret_rows, size_t *ret_n);

/*
 * Forgets a job's builds, numbering and build totals (job deleted). Its queue items stay
 * readable; those still waiting become cancelled.
 */
int store_job_forget(struct store *s, const char *job);
int store_job_rename(struct store *s, const char *from, const char *to);

/* ---- test results (store/tests.c): the JUnit publisher's ---- */

/*
 * One test case of a build. `status` is Jenkins' CaseResult status:
 * PASSED, FIXED (passed after failing), FAILED, REGRESSION (failed after
 * passing) or SKIPPED. `failed_since` is the number of the first build of
 * the unbroken run of failures this one belongs to (0 when it passed).
 */
struct test_case_row {
    char *suite;
    char *class_name;
    char *name;
    char *status;
    double duration;        /* seconds */
    char *error_details;    /* the failure's message, or NULL */
    char *error_stack;      /* the failure's text, or NULL */
    char *skipped_message;  /* or NULL */
    char *stdout_text;      /* or NULL */
    char *stderr_text;      /* or NULL */
    int64_t failed_since;
};
void test_case_row_release(struct test_case_row *c);
void test_case_rows_free(struct test_case_row *rows, size_t n);

struct test_summary {
    int64_t total, failed, skipped;
    double duration;        /* seconds, the sum of the cases' */
    double health_scale;    /* the publisher's healthScaleFactor: 1.0 by default, 0 turns test health off */
};

/*
 * Records the cases of build `number` of `job` (status PASSED, FAILED or
 * SKIPPED as parsed): sets each one's status and failed_since from the
 * newest earlier build that had a case of the same class and name (one
 * index lookup each), then inserts the cases and their summary (with a
 * health_scale of 1.0). Call inside a transaction. Sets *ret_sum.
 */
int store_tests_put(struct store *s, const char *job, int64_t number, struct test_case_row *cases,
                    size_t n, struct test_summary *ret_sum);
/*
 * The same in parts, for a report too big for one transaction: each call
 * adds cases (at positions first_pos...) and counts them into *sum; the
 * summary row, written last, is what makes them visible (readers look at
 * it first).
 */
int store_tests_add(struct store *s, const char *job, int64_t number, size_t first_pos,
                    struct test_case_row *cases, size_t n, struct test_summary *sum);
int store_tests_finish(struct store *s, const char *job, int64_t number,
                       const struct test_summary *sum);
/*
 * Deletes the cases of build `number` of `job` when it has no summary:
 * what store_tests_add() left of results whose storing failed or was cut
 * short by a crash (never visible, but they would stay for ever).
 */
int store_tests_forget_partial(struct store *s, const char *job, int64_t number);
/* The summary of a build's test results; -ENOENT when it has none. */
int store_tests_summary(struct store *s, const char *job, int64_t number, struct test_summary *ret);
/*
 * The cases of a build, failures first when `failures_first`, else in
 * report order; at most `limit` (0: all). The long texts (stack traces,
 * output) take at most `text_budget` bytes in all: past it they are NULL,
 * so that one answer's memory stays bounded whatever the reports held.
 */
int store_tests_list(struct store *s, const char *job, int64_t number, bool failures_first,
                     int64_t limit, size_t text_budget, struct test_case_row **ret_rows,
                     size_t *ret_n);
/*
 * A build's results in one read transaction, for an answer written as it
 * is read: head() gets the summary; unless it returns > 0, each() then
 * gets the cases one at a time in report order, their long texts within
 * `text_budget` as store_tests_list() keeps them. A row's strings are the
 * store's, valid until each() returns. -ENOENT when the build has no
 * results; a negative return of head() or each() stops and is returned.
 */
int store_tests_each(struct store *s, const char *job, int64_t number, size_t text_budget,
                     int (*head)(void *userdata, const struct test_summary *t),
                     int (*each)(void *userdata, const struct test_case_row *c), void *userdata);

/* One finished build in a trend, with its tests when it had a report (has_tests). */
struct trend_row {
    int64_t number;
    char *result;
    int64_t duration_ms;
    bool has_tests;
    struct test_summary tests;
};
void trend_rows_free(struct trend_row *rows, size_t n);
/* The newest `limit` finished builds of `job`, newest first. */
int store_tests_trend(struct store *s, const char *job, int64_t limit, struct trend_row **ret_rows,
                      size_t *ret_n);

/* ---- backups (store/backup.c) ---- */

/* The schema version this Steward writes: the number of its migrations. */
int store_schema_version(void);

/*
 * Copies the database at `src_path` to a new file `dest_path` (-EEXIST if
 * it exists) with SQLite's online backup API, in one step: one read
 * transaction, so the copy is the database as of one commit, and writers
 * on other connections go on meanwhile (WAL). The copy is one file in
 * rollback-journal mode, readable from read-only media, and is not
 * migrated. Sets *ret_version to its schema version. On failure nothing
 * is left at dest_path. 0, -ENOENT, -EEXIST, -EBUSY, -EIO.
 */
int store_backup(const char *src_path, const char *dest_path, int *ret_version);

/*
 * Checks a database file without changing it: it opens read-only, passes
 * SQLite's quick_check, and its schema is not newer than this Steward's
 * (-EPROTO). Sets *ret_version. -ENOENT, -EINVAL when it is not a
 * database or is damaged.
 */
int store_check(const char *path, int *ret_version);

/*
 * Deletes, in one transaction, the build rows of the database at `path`
 * (a copy nobody else uses) for which keep() says false: a backup's rows
 * whose build directory was not there to copy. Sets *ret_deleted.
 */
int store_prune_builds(const char *path,
                       bool (*keep)(void *userdata, const char *job, int64_t number),
                       void *userdata, size_t *ret_deleted);

/* ---- the job registry's index ---- */
/* Which config.xml a summary was read from: a file replaced or written in place differs. */
struct job_ident {
    int64_t ino, size, mtime_ns, ctime_ns;
};
static inline bool job_ident_eq(const struct job_ident *a, const struct job_ident *b)
{
    return a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
           a->ctime_ns == b->ctime_ns;
}
/*
 * Calls fn for every row, in the order they are stored (not sorted); the
 * name and blob are lent for the call. A negative return from fn stops the
 * walk and is returned.
 */
int store_job_index_each(struct store *s,
                         int (*fn)(void *userdata, const char *name, const struct job_ident *id,
                                   const void *blob, size_t len),
                         void *userdata);
int store_job_index_put(struct store *s, const char *name, const struct job_ident *id,
                        const void *blob, size_t len);
/* -ENOENT when there was no row. */
int store_job_index_delete(struct store *s, const char *name);

/* ---- credentials (store/credentials.c; core/credentials.h is their API) ---- */
/*
 * One credential as stored: the fields that may be listed, and `box`, the
 * secrets sealed by core/credentials (opaque here). In rows from
 * store_credential_list() box is NULL.
 */
struct credential_row {
    char *id;
    int kind;              /* the core's enum cred_kind */
    char *scope;           /* "GLOBAL" or "SYSTEM" */
    char *description;
    char *username;        /* NULL for the kinds without one */
    bool username_secret;
    char *file_name;       /* NULL but for a secret file */
    unsigned char *box;
    size_t box_len;
    int64_t created_ms, updated_ms;
};
void credential_row_release(struct credential_row *c);
void credential_rows_free(struct credential_row *rows, size_t n);
/* Inserts a row (created_ms and updated_ms as given). -EEXIST when the id is taken. */
int store_credential_add(struct store *s, const struct credential_row *c);
/* Replaces every field of row c->id but created_ms. -ENOENT when there is none. */
int store_credential_update(struct store *s, const struct credential_row *c);
/* -ENOENT when there is none. */
int store_credential_get(struct store *s, const char *id, struct credential_row *ret);
/* Every row without its box, sorted by id; *ret_rows is NULL when there are none. */
int store_credential_list(struct store *s, struct credential_row **ret_rows, size_t *ret_n);
int store_credential_count(struct store *s, int64_t *ret_n);
/* -ENOENT when there was none. */
int store_credential_delete(struct store *s, const char *id);
/* ---- webhook deliveries (store/hooks.c) ---- */

struct delivery {
    char *source;       /* "github", "gitlab" */
    char *id;           /* the forge's delivery id */
    char *event;
    int64_t received_ms;
    char *matched;      /* the jobs it matched, comma-separated */
    char *result;
};
void deliveries_free(struct delivery *v, size_t n);

/* Records a delivery; -EEXIST when this source's id was recorded before (a replay). */
int store_delivery_add(struct store *s, const char *source, const char *id, const char *event,
                       int64_t at_ms);
/* What a recorded delivery matched and what came of it. */
int store_delivery_finish(struct store *s, const char *source, const char *id, const char *matched,
                          const char *result);
/* The newest deliveries first, at most `limit`. */
int store_delivery_list(struct store *s, int64_t limit, struct delivery **ret, size_t *ret_n);
