/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "util/macro.h"

/*
 * Numbered migrations: migration i brings user_version from i to i+1.
 * Never edit a released one; add a new one.
 */
static const char *const migrations[] = {
    /* 1: first schema */
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE users("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  full_name TEXT NOT NULL,"
    "  password_hash TEXT NOT NULL,"
    "  is_admin INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE TABLE api_tokens("
    "  uuid TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  hash TEXT NOT NULL UNIQUE,"
    "  created_ms INTEGER NOT NULL,"
    "  last_use_ms INTEGER NOT NULL DEFAULT 0,"
    "  use_count INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE(user_id, name));"
    "CREATE TABLE queue("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  job TEXT NOT NULL,"
    "  in_queue_since_ms INTEGER NOT NULL,"
    "  due_ms INTEGER NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  left_ms INTEGER NOT NULL DEFAULT 0,"
    "  build_number INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX queue_waiting ON queue(job) WHERE state = 0;"
    "CREATE TABLE queue_params("
    "  queue_id INTEGER NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  type INTEGER NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY(queue_id, pos)) WITHOUT ROWID;"
    "CREATE TABLE queue_causes("
    "  queue_id INTEGER NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  user_name TEXT,"
    "  token_name TEXT,"
    "  addr TEXT,"
    "  note TEXT,"
    "  count INTEGER NOT NULL DEFAULT 1,"
    "  PRIMARY KEY(queue_id, pos)) WITHOUT ROWID;"
    "CREATE TABLE job_numbers(job TEXT PRIMARY KEY, next_build INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE builds("
    "  job TEXT NOT NULL,"
    "  number INTEGER NOT NULL,"
    "  queue_id INTEGER NOT NULL,"
    "  start_ms INTEGER NOT NULL,"
    "  duration_ms INTEGER NOT NULL DEFAULT 0,"
    "  result TEXT,"
    "  executor INTEGER NOT NULL DEFAULT 0,"
    "  abort_reason TEXT,"
    "  PRIMARY KEY(job, number)) WITHOUT ROWID;"
    "CREATE INDEX builds_running ON builds(job) WHERE result IS NULL;",
    /* 2: whether a build may have archived artifacts (all older builds may) */
    "ALTER TABLE builds ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;"
    "UPDATE builds SET archived = 1 WHERE result IS NOT NULL;",
    /*
     * 3: per job, finished builds by result with their total duration, and
     * the newest finished build; kept by a trigger as builds finish (so
     * discarding old builds never lowers them), read by /prometheus/ in
     * one pass over the jobs instead of one over every build.
     */
    "CREATE TABLE job_stats("
    "  job TEXT PRIMARY KEY,"
    "  success INTEGER NOT NULL DEFAULT 0,"
    "  unstable INTEGER NOT NULL DEFAULT 0,"
    "  failure INTEGER NOT NULL DEFAULT 0,"
    "  not_built INTEGER NOT NULL DEFAULT 0,"
    "  aborted INTEGER NOT NULL DEFAULT 0,"
    "  duration_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_number INTEGER NOT NULL DEFAULT 0,"
    "  last_result TEXT,"
    "  last_start_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_duration_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    /* with one max(), SQLite takes the bare columns from the row that has it */
    "INSERT INTO job_stats SELECT job, SUM(result = 'SUCCESS'), SUM(result = 'UNSTABLE'),"
    "  SUM(result = 'FAILURE'), SUM(result = 'NOT_BUILT'), SUM(result = 'ABORTED'),"
    "  SUM(duration_ms), MAX(number), result, start_ms, duration_ms"
    "  FROM builds WHERE result IS NOT NULL GROUP BY job;"
    "CREATE TRIGGER job_stats_on_finish AFTER UPDATE OF result ON builds"
    "  WHEN OLD.result IS NULL AND NEW.result IS NOT NULL "
    "BEGIN"
    "  INSERT OR IGNORE INTO job_stats(job) VALUES(NEW.job);"
    "  UPDATE job_stats SET"
    "    success = success + (NEW.result = 'SUCCESS'),"
    "    unstable = unstable + (NEW.result = 'UNSTABLE'),"
    "    failure = failure + (NEW.result = 'FAILURE'),"
    "    not_built = not_built + (NEW.result = 'NOT_BUILT'),"
    "    aborted = aborted + (NEW.result = 'ABORTED'),"
    "    duration_ms = duration_ms + NEW.duration_ms,"
    /* concurrent builds may end out of order: the newest number is the last build */
    "    last_result = CASE WHEN NEW.number >= last_number THEN NEW.result ELSE last_result END,"
    "    last_start_ms = CASE WHEN NEW.number >= last_number THEN NEW.start_ms"
    "                    ELSE last_start_ms END,"
    "    last_duration_ms = CASE WHEN NEW.number >= last_number THEN NEW.duration_ms"
    "                       ELSE last_duration_ms END,"
    "    last_number = MAX(last_number, NEW.number)"
    "  WHERE job = NEW.job;"
    "END;",
    /* the global authorization matrix, one matrix-auth entry ("USER:perm:sid") a row */
    "CREATE TABLE grants(entry TEXT PRIMARY KEY) WITHOUT ROWID;",
    /* the audit log */
    "CREATE TABLE audit("
    "  id INTEGER PRIMARY KEY,"
    "  time_ms INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  via TEXT NOT NULL,"
    "  token_name TEXT,"
    "  addr TEXT,"
    "  action TEXT NOT NULL,"
    "  job TEXT,"
    "  detail TEXT);",
    /* least-privilege API tokens: scopes and jobs (NULL: all), an expiry (0: never) */
    "ALTER TABLE api_tokens ADD COLUMN scopes TEXT;"
    "ALTER TABLE api_tokens ADD COLUMN jobs TEXT;"
    "ALTER TABLE api_tokens ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;",
    /*
     * 7: a job's builds by result, so that lastSuccessfulBuild and the other
     * permalinks, and the estimated duration, are a few index lookups
     * however long the history; and the password values that left queue
     * items still hold (type 4 is the core's PARAM_PASSWORD), so that the
     * sweep at start reads those and not every parameter ever given.
     */
    "CREATE INDEX builds_by_result ON builds(job, result, number);"
    "CREATE INDEX queue_params_secret ON queue_params(queue_id) WHERE type = 4 AND value <> '';",
    /*
     * 8: the job registry's index: each job's summary, with the identity of the
     * config.xml it was read from (a cache: a row whose file changed is read again)
     */
    "CREATE TABLE job_index("
    "  name TEXT PRIMARY KEY,"
    "  ino INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  mtime_ns INTEGER NOT NULL,"
    "  ctime_ns INTEGER NOT NULL,"
    "  summary BLOB NOT NULL);",
    /*
     * 9: the credentials store (core/credentials): what may be listed in
     * clear, and the secrets in one box sealed under the key in secrets/
     */
    "CREATE TABLE credentials("
    "  id TEXT PRIMARY KEY,"
    "  kind INTEGER NOT NULL,"
    "  scope TEXT NOT NULL,"
    "  description TEXT NOT NULL,"
    "  username TEXT,"
    "  username_secret INTEGER NOT NULL DEFAULT 0,"
    "  file_name TEXT,"
    "  box BLOB NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL) WITHOUT ROWID;",
    /* 10: webhook deliveries (store/hooks.c), by forge and delivery id */
    "CREATE TABLE hook_deliveries("
    "  source TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  received_ms INTEGER NOT NULL,"
    "  matched TEXT NOT NULL,"
    "  result TEXT NOT NULL,"
    "  PRIMARY KEY(source, id));"
    "CREATE INDEX hook_deliveries_received ON hook_deliveries(received_ms);",
    /*
     * 11: a build's description and display name (NULL: none, "#N"), and its
     * keep-forever flag, which discarding old builds honours (Jenkins'
     * Run.description, displayName and keepLog)
     */
    "ALTER TABLE builds ADD COLUMN description TEXT;"
    "ALTER TABLE builds ADD COLUMN display_name TEXT;"
    "ALTER TABLE builds ADD COLUMN keep_log INTEGER NOT NULL DEFAULT 0;",
    /*
     * 12: test results (store/tests.c), a summary and the cases of each
     * build; they go with their build's row, and follow it when the job
     * is renamed. test_cases_history finds a case's previous result.
     */
    "CREATE TABLE test_results("
    "  job TEXT NOT NULL,"
    "  build INTEGER NOT NULL,"
    "  total INTEGER NOT NULL,"
    "  failed INTEGER NOT NULL,"
    "  skipped INTEGER NOT NULL,"
    "  duration REAL NOT NULL,"
    "  health_scale REAL NOT NULL DEFAULT 1.0,"
    "  PRIMARY KEY(job, build)) WITHOUT ROWID;"
    "CREATE TABLE test_cases("
    "  job TEXT NOT NULL,"
    "  build INTEGER NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  suite TEXT NOT NULL,"
    "  class_name TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  duration REAL NOT NULL,"
    "  failed_since INTEGER NOT NULL,"
    "  error_details TEXT,"
    "  error_stack TEXT,"
    "  skipped_message TEXT,"
    "  stdout TEXT,"
    "  stderr TEXT,"
    "  PRIMARY KEY(job, build, pos));"
    "CREATE INDEX test_cases_history ON test_cases(job, class_name, name, build);"
    "CREATE INDEX test_cases_failing ON test_cases(job, build) WHERE failed_since > 0;"
    "CREATE TRIGGER test_results_gone AFTER DELETE ON builds BEGIN"
    "  DELETE FROM test_cases WHERE job = old.job AND build = old.number;"
    "  DELETE FROM test_results WHERE job = old.job AND build = old.number;"
    " END;"
    "CREATE TRIGGER test_results_renamed AFTER UPDATE OF job ON builds BEGIN"
    "  UPDATE test_cases SET job = new.job WHERE job = old.job AND build = old.number;"
    "  UPDATE test_results SET job = new.job WHERE job = old.job AND build = old.number;"
    " END;",
    /* 13: the node a build ran on (Jenkins' builtOn); NULL: the built-in node */
    "ALTER TABLE builds ADD COLUMN built_on TEXT;",
    /*
     * 14: a queue item is one row. Its parameters and causes, three tables
     * before, are JSON arrays in it, in their order:
     *   params  [["NAME", type, "value"], ...]
     *   causes  [[kind, user_name, token_name, addr, note, count], ...]
     * A trigger's commit wrote ten pages, eight of them these tables' and
     * their indexes'; now it writes the item's, its waiting index's and the
     * audit's. `secrets` is 1 while a password value (type 4) is not yet
     * emptied, so the sweep at start reads those rows only. No
     * AUTOINCREMENT (its counter was one more page a commit): rows are
     * never deleted, so an id is never given twice.
     */
    "CREATE TABLE queue_compact("
    "  id INTEGER PRIMARY KEY,"
    "  job TEXT NOT NULL,"
    "  in_queue_since_ms INTEGER NOT NULL,"
    "  due_ms INTEGER NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  left_ms INTEGER NOT NULL DEFAULT 0,"
    "  build_number INTEGER NOT NULL DEFAULT 0,"
    "  params TEXT NOT NULL DEFAULT '[]',"
    "  causes TEXT NOT NULL DEFAULT '[]',"
    "  secrets INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO queue_compact SELECT q.id, q.job, q.in_queue_since_ms, q.due_ms, q.state,"
    "  q.left_ms, q.build_number,"
    "  coalesce((SELECT json_group_array(json_array(p.name, p.type, p.value)) FROM"
    "    (SELECT name, type, value FROM queue_params WHERE queue_id = q.id ORDER BY pos) p),"
    "    '[]'),"
    "  coalesce((SELECT json_group_array(json_array(c.kind, c.user_name, c.token_name, c.addr,"
    "                                               c.note, c.count)) FROM"
    "    (SELECT * FROM queue_causes WHERE queue_id = q.id ORDER BY pos) c), '[]'),"
    "  EXISTS(SELECT 1 FROM queue_params WHERE queue_id = q.id AND type = 4 AND value <> '')"
    "  FROM queue q;"
    "DROP TABLE queue_params;"
    "DROP TABLE queue_causes;"
    "DROP TABLE queue;"
    "ALTER TABLE queue_compact RENAME TO queue;"
    "CREATE INDEX queue_waiting ON queue(job) WHERE state = 0;"
    "CREATE INDEX queue_secrets ON queue(state) WHERE secrets <> 0;",
};

int
store_schema_version(void)
{
    return (int) ELEMENTSOF(migrations);
}

const char *
store_migration_sql(int version)
{
    return version >= 0 && version < store_schema_version() ? migrations[version] : NULL;
}

sqlite3_stmt *
st_prep(struct store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    size_t i;

    for (i = 0; i < s->n_cache; i++)
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].st); /* in case a caller returned early */
            return s->cache[i].st;
        }
    if (s->n_cache == s->cap_cache) {
        size_t cap = s->cap_cache ? s->cap_cache * 2 : 64;
        struct stmt_slot *c = reallocarray(s->cache, cap, sizeof *c);

        if (!c)
            return NULL;
        s->cache = c;
        s->cap_cache = cap;
    }
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    s->cache[s->n_cache++] = (struct stmt_slot){ .sql = sql, .st = st };
    return st;
}

void
st_release(sqlite3_stmt *st)
{
    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

char *
st_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return t ? strdup((const char *) t) : NULL;
}

int
st_err(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        return -EEXIST;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_READONLY:
        return -EROFS;
    default:
        return -EIO;
    }
}

int
st_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, idx);
    return sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
}

int
st_exec_done(sqlite3_stmt *st)
{
    int rc;

    if (!st)
        return -EIO;
    rc = sqlite3_step(st);
    st_release(st);
    return rc == SQLITE_DONE ? 0 : st_err(rc);
}

bool
read_begin(struct store *s)
{
    return sqlite3_get_autocommit(s->db) && st_exec_done(st_prep(s, "BEGIN")) == 0;
}

void
read_end(struct store *s, bool began)
{
    if (began)
        (void) st_exec_done(st_prep(s, "COMMIT"));
}

static int
exec(struct store *s, const char *sql)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : st_err(rc);
}

static int
migrate(struct store *s)
{
    sqlite3_stmt *st = st_prep(s, "PRAGMA user_version");
    int version, r;

    if (!st)
        return -EIO;
    if (sqlite3_step(st) != SQLITE_ROW) {
        st_release(st);
        return -EIO;
    }
    version = sqlite3_column_int(st, 0);
    st_release(st);
    if (version > (int) ELEMENTSOF(migrations))
        return -EPROTO; /* a newer Steward made this database */

    for (size_t i = (size_t) version; i < ELEMENTSOF(migrations); i++) {
        char pragma[64];

        r = store_begin(s);
        if (r < 0)
            return r;
        r = exec(s, migrations[i]);
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%zu", i + 1);
        if (r >= 0)
            r = exec(s, pragma);
        if (r < 0) {
            (void) store_rollback(s);
            return r;
        }
        r = store_commit(s);
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * The database file, made 0600 before SQLite opens it (its -wal and -shm
 * then get the same mode), and any of the three an older version left
 * readable by others made 0600. Best effort: what fails here is SQLite's
 * to refuse.
 *
 * Never open and close an existing one here: closing any descriptor of a
 * file drops every POSIX lock this process holds on it, the locks of the
 * other SQLite connections of the server included.
 */
static void
private_files(const char *path)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    char p[PATH_MAX];

    for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
        struct stat st;

        if ((size_t) snprintf(p, sizeof p, "%s%s", path, suffixes[i]) >= sizeof p)
            return;
        if (lstat(p, &st) < 0) {
            int fd;
            /* no file, so no connection and no lock of ours on it yet */
            if (i == 0 && errno == ENOENT &&
                (fd = open(p, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0)
                close(fd);
            continue;
        }
        if (S_ISREG(st.st_mode) && (st.st_mode & 077))
            (void) chmod(p, st.st_mode & 0700);
    }
}

/*
 * Process-wide settings, made before SQLite's first use. No initial bulk
 * of page-cache lines: Debian's SQLite (PCACHE_INITSZ=20) allocates and
 * touches 20 pages, 87 KB, at a connection's first read, and the server
 * keeps one connection per HTTP thread besides the engine's, most of them
 * reading a few pages. Pages now come one at a time as they are read, up
 * to the same cache_size. A failure (SQLite already started) changes
 * nothing else.
 */
static void
configure_sqlite(void)
{
    (void) sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

int
store_open(const char *path, struct store **ret_store)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    _cleanup_free_ struct store *s = calloc(1, sizeof *s);
    int rc, r;

    if (!s)
        return -ENOMEM;
    pthread_once(&configured, configure_sqlite);
    private_files(path);
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(s->db);
        return -EIO;
    }
    sqlite3_busy_timeout(s->db, 10000);
    authgen_init(s, path);
    /*
     * WAL with synchronous=FULL: a commit is on disk when it returns, which
     * is what a 201 promises. Group commit keeps that affordable.
     */
    r = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                "PRAGMA secure_delete=ON;");
    if (r >= 0)
        r = migrate(s);
    if (r < 0) {
        store_close(TAKE_PTR(s)); /* finalizes what the cache holds, so the close succeeds */
        return r;
    }
    *ret_store = TAKE_PTR(s);
    return 0;
}

int
store_tune_cache(struct store *s)
{
    /*
     * In WAL mode a commit then writes the log without waiting for the
     * disk; whole-table reads go through a memory map instead of a read
     * per page.
     */
    return exec(s, "PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456;");
}

int
store_unmap(struct store *s)
{
    return exec(s, "PRAGMA mmap_size=0;");
}

void
store_release_memory(struct store *s)
{
    if (s)
        (void) sqlite3_db_release_memory(s->db);
}

struct store *
store_close(struct store *s)
{
    if (s) {
        sidesync_stop(s);
        for (size_t i = 0; i < s->n_cache; i++)
            sqlite3_finalize(s->cache[i].st);
        free(s->cache);
        sqlite3_close(s->db);
        authgen_release(s);
        free(s);
    }
    return NULL;
}

/* prepared once: a lazy transaction is on the path of every build */
static int exec_cached(struct store *s, const char *sql);

/*
 * Back to synchronous=FULL after a lazy transaction, so that the next one
 * is durable whoever begins it. A connection that could not go back is
 * never left to commit a 201 at NORMAL: nothing begins until it has.
 */
static int
set_full(struct store *s)
{
    int r = exec_cached(s, "PRAGMA synchronous=FULL");

    s->not_full = r < 0;
    return r;
}

/* The lazy transaction has ended (committed or not). */
static void
end_lazy(struct store *s, bool committed)
{
    s->lazy = false;
    /* a transaction that changed nothing wrote nothing to the WAL: nothing to sync */
    if (committed && sqlite3_total_changes64(s->db) != s->lazy_changes) {
        s->unsynced = true;
        s->lazy_commits++;
    }
    (void) set_full(s);
}

/* prepared once: a group commit and a savepoint per trigger are on the hot path */
static int
exec_cached(struct store *s, const char *sql)
{
    sqlite3_stmt *st = st_prep(s, sql);

    return st ? st_exec_done(st) : -EIO;
}

int
store_begin(struct store *s)
{
    if (s->not_full && set_full(s) < 0)
        return -EIO;
    return exec_cached(s, "BEGIN IMMEDIATE");
}

int
store_begin_lazy(struct store *s)
{
    int r;

    if (s->not_full && set_full(s) < 0)
        return -EIO;
    /* the level cannot change inside a transaction: it is set before this one begins */
    r = exec_cached(s, "PRAGMA synchronous=NORMAL");
    if (r < 0)
        return r;
    s->lazy = true;
    s->lazy_changes = sqlite3_total_changes64(s->db);
    r = exec_cached(s, "BEGIN IMMEDIATE");
    if (r < 0)
        end_lazy(s, false);
    return r;
}

int
store_commit(struct store *s)
{
    int r = exec_cached(s, "COMMIT");

    if (r >= 0)
        authgen_committed(s);
    /* a commit that failed may leave the transaction open, for a rollback to end */
    if (s->lazy && sqlite3_get_autocommit(s->db))
        end_lazy(s, r >= 0);
    return r;
}

int
store_rollback(struct store *s)
{
    int r;

    authgen_rolled_back(s);
    r = exec(s, "ROLLBACK");
    if (s->lazy && sqlite3_get_autocommit(s->db))
        end_lazy(s, false);
    return r;
}

int
store_sync(struct store *s)
{
    sqlite3_file *f = NULL;
    int rc;

    if (!s->unsynced)
        return 0;
    /* the WAL: one sync of it covers every frame written before, lazy or not */
    rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);
    if (rc != SQLITE_OK)
        return st_err(rc);
    if (f && f->pMethods) {
        rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
        if (rc != SQLITE_OK)
            return st_err(rc);
    }
    s->unsynced = false;
    return 0;
}

int
store_savepoint(struct store *s)
{
    return exec_cached(s, "SAVEPOINT one");
}

int
store_savepoint_release(struct store *s)
{
    return exec_cached(s, "RELEASE one");
}

int
store_savepoint_rollback(struct store *s)
{
    int r = exec_cached(s, "ROLLBACK TO one");

    return r < 0 ? r : store_savepoint_release(s);
}

int
store_setting_get(struct store *s, const char *key, char **ret_value)
{
    sqlite3_stmt *st = st_prep(s, "SELECT value FROM settings WHERE key = ?");
    int rc, r = -ENOENT;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_value = st_text(st, 0);
        r = *ret_value ? 0 : -ENOMEM;
    } else if (rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
    return r;
}

int
store_setting_set(struct store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = st_prep(s, "INSERT INTO settings(key, value) VALUES(?, ?) "
                                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    int r;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, key);
    st_bind_text(st, 2, value);
    r = st_exec_done(st);
    if (r >= 0)
        authgen_changed(s);
    return r;
}

int
store_setting_delete(struct store *s, const char *key)
{
    sqlite3_stmt *st = st_prep(s, "DELETE FROM settings WHERE key = ?");
    int r;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, key);
    r = st_exec_done(st);
    if (r >= 0 && sqlite3_changes(s->db) == 0)
        r = -ENOENT;
    if (r >= 0)
        authgen_changed(s);
    return r;
}

bool
store_setting_bool(struct store *s, const char *key, bool dflt)
{
    _cleanup_free_ char *v = NULL;

    if (store_setting_get(s, key, &v) < 0)
        return dflt;
    return streq(v, "on") || streq(v, "true") || streq(v, "1");
}
