/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "util/buf.h"
#include "util/strutil.h"
#include "util/macro.h"

void
cause_release(struct cause *c)
{
    free(c->user_name);
    free(c->token_name);
    free(c->addr);
    free(c->note);
    memset(c, 0, sizeof *c);
}

void
param_value_release(struct param_value *p)
{
    free(p->name);
    free(p->value);
    memset(p, 0, sizeof *p);
}

void
queue_row_release(struct queue_row *q)
{
    free(q->job);
    for (size_t i = 0; i < q->n_params; i++)
        param_value_release(&q->params[i]);
    free(q->params);
    for (size_t i = 0; i < q->n_causes; i++)
        cause_release(&q->causes[i]);
    free(q->causes);
    memset(q, 0, sizeof *q);
}

void
queue_rows_free(struct queue_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        queue_row_release(&rows[i]);
    free(rows);
}

/*
 * A queue item's parameters and causes are JSON arrays in its row (the
 * schema's migration 14 says why): written here, read back through
 * SQLite's json_each().
 */
#define QUEUE_JSON_MAX ((size_t) 1 << 30)

/* [["NAME", type, "value"], ...]; *ret_secrets: a password value is in it */
static int
params_json(struct buf *b, const struct param_value *p, size_t n, bool *ret_secrets)
{
    int r = buf_putc(b, '[');

    *ret_secrets = false;
    for (size_t i = 0; r >= 0 && i < n; i++) {
        const char *v = p[i].value ? p[i].value : "";

        r = buf_puts(b, i ? ",[" : "[");
        if (r >= 0)
            r = json_quote(b, p[i].name);
        if (r >= 0)
            r = buf_printf(b, ",%d,", p[i].type);
        if (r >= 0)
            r = json_quote(b, v);
        if (r >= 0)
            r = buf_putc(b, ']');
        if (p[i].type == STORE_PARAM_SECRET && *v)
            *ret_secrets = true;
    }
    return r < 0 ? r : buf_putc(b, ']');
}

static int
json_quote_or_null(struct buf *b, const char *s)
{
    return s ? json_quote(b, s) : buf_puts(b, "null");
}

/* [[kind, user_name, token_name, addr, note, count], ...], NULL strings as null */
static int
causes_json(struct buf *b, const struct cause *c, size_t n)
{
    int r = buf_putc(b, '[');

    for (size_t i = 0; r >= 0 && i < n; i++) {
        const char *text[] = { c[i].user_name, c[i].token_name, c[i].addr, c[i].note };

        r = buf_printf(b, "%s[%d", i ? "," : "", (int) c[i].kind);
        for (size_t k = 0; r >= 0 && k < ELEMENTSOF(text); k++) {
            r = buf_putc(b, ',');
            if (r >= 0)
                r = json_quote_or_null(b, text[k]);
        }
        if (r >= 0)
            r = buf_printf(b, ",%lld]", (long long) (c[i].count > 0 ? c[i].count : 1));
    }
    return r < 0 ? r : buf_putc(b, ']');
}

int
store_queue_insert(struct store *s, struct queue_row *q)
{
    sqlite3_stmt *st = st_prep(s, "INSERT INTO queue(job, in_queue_since_ms, due_ms, state, "
                                  "params, causes, secrets) VALUES(?, ?, ?, 0, ?, ?, ?)");
    _cleanup_(buf_releasep) struct buf params = BUF_INIT(QUEUE_JSON_MAX);
    _cleanup_(buf_releasep) struct buf causes = BUF_INIT(QUEUE_JSON_MAX);
    bool secrets;
    int r;

    if (!st)
        return -EIO;
    r = params_json(&params, q->params, q->n_params, &secrets);
    if (r >= 0)
        r = causes_json(&causes, q->causes, q->n_causes);
    if (r < 0)
        return r == -E2BIG ? -ENOMEM : r;
    st_bind_text(st, 1, q->job);
    sqlite3_bind_int64(st, 2, q->in_queue_since_ms);
    sqlite3_bind_int64(st, 3, q->due_ms);
    sqlite3_bind_text(st, 4, buf_str(&params), (int) params.len, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, buf_str(&causes), (int) causes.len, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, secrets);
    r = st_exec_done(st);
    if (r < 0)
        return r;
    q->id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int
store_queue_update_merge(struct store *s, const struct queue_row *q)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE queue SET due_ms = ?, causes = ? WHERE id = ?");
    _cleanup_(buf_releasep) struct buf causes = BUF_INIT(QUEUE_JSON_MAX);
    int r;

    if (!st)
        return -EIO;
    r = causes_json(&causes, q->causes, q->n_causes);
    if (r < 0)
        return r == -E2BIG ? -ENOMEM : r;
    sqlite3_bind_int64(st, 1, q->due_ms);
    sqlite3_bind_text(st, 2, buf_str(&causes), (int) causes.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, q->id);
    return st_exec_done(st);
}

int
store_queue_set_state(struct store *s, int64_t id, enum queue_state state, int64_t left_ms,
                      int64_t build_number)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE queue SET state = ?, left_ms = ?, build_number = ? "
                                  "WHERE id = ?");

    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, state);
    sqlite3_bind_int64(st, 2, left_ms);
    sqlite3_bind_int64(st, 3, build_number);
    sqlite3_bind_int64(st, 4, id);
    return st_exec_done(st);
}

/* The item's params with the values of type ?1 emptied, in their order. */
#define PARAMS_FORGOTTEN                                                                           \
    "(SELECT json_group_array(CASE WHEN value->>1 = ?1 THEN json_array(value->>0, value->>1, '') " \
    "ELSE json(value) END) FROM json_each(queue.params))"

int
store_queue_forget_values(struct store *s, int64_t id, int type)
{
    /*
     * The sweep (id 0) walks the partial index queue_secrets: a list of
     * every item that left would be the whole history.
     */
    sqlite3_stmt *st;

    if (!id && type != STORE_PARAM_SECRET)
        return -EINVAL;
    st = id ? st_prep(s, "UPDATE queue SET params = " PARAMS_FORGOTTEN ", "
                         "secrets = CASE WHEN ?3 THEN 0 ELSE secrets END WHERE id = ?2 AND "
                         "EXISTS(SELECT 1 FROM json_each(queue.params) "
                         "WHERE value->>1 = ?1 AND value->>2 <> '')")
            : st_prep(s, "UPDATE queue SET params = " PARAMS_FORGOTTEN ", secrets = 0 "
                         "WHERE secrets <> 0 AND state <> 0");
    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, type);
    if (id) {
        sqlite3_bind_int64(st, 2, id);
        /* emptying the password values leaves none to sweep */
        sqlite3_bind_int(st, 3, type == STORE_PARAM_SECRET);
    }
    return st_exec_done(st);
}

/* Appends the parameters in `json` (the params column) to q. */
static int
load_params(struct store *s, struct queue_row *q, const char *json)
{
    sqlite3_stmt *st = st_prep(s, "SELECT coalesce(value->>0, ''), value->>1, "
                                  "coalesce(value->>2, '') FROM json_each(?) ORDER BY key");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, json ? json : "[]", -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct param_value *p = realloc(q->params, (q->n_params + 1) * sizeof *p);
        if (!p) {
            st_release(st);
            return -ENOMEM;
        }
        q->params = p;
        p = &q->params[q->n_params++];
        p->name = st_text(st, 0);
        p->type = sqlite3_column_int(st, 1);
        p->value = st_text(st, 2);
        if (!p->name || !p->value) {
            st_release(st);
            return -ENOMEM;
        }
    }
    st_release(st);
    return rc == SQLITE_DONE ? 0 : st_err(rc);
}

/* Appends the causes in `json` (the causes column) to q. */
static int
load_causes(struct store *s, struct queue_row *q, const char *json)
{
    sqlite3_stmt *st = st_prep(s, "SELECT value->>0, value->>1, value->>2, value->>3, "
                                  "value->>4, value->>5 FROM json_each(?) ORDER BY key");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, json ? json : "[]", -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct cause *c = realloc(q->causes, (q->n_causes + 1) * sizeof *c);
        if (!c) {
            st_release(st);
            return -ENOMEM;
        }
        q->causes = c;
        c = &q->causes[q->n_causes++];
        c->kind = sqlite3_column_int(st, 0);
        c->user_name = st_text(st, 1);
        c->token_name = st_text(st, 2);
        c->addr = st_text(st, 3);
        c->note = st_text(st, 4);
        c->count = sqlite3_column_int64(st, 5);
    }
    st_release(st);
    return rc == SQLITE_DONE ? 0 : st_err(rc);
}

#define QUEUE_COLUMNS "id, job, in_queue_since_ms, due_ms, state, left_ms, build_number, " \
                      "params, causes"

/* The item at the statement's row, with its causes, and its parameters when with_params. */
static int
queue_from_row(struct store *s, sqlite3_stmt *st, struct queue_row *q, bool with_params)
{
    int r = 0;

    memset(q, 0, sizeof *q);
    q->id = sqlite3_column_int64(st, 0);
    q->job = st_text(st, 1);
    q->in_queue_since_ms = sqlite3_column_int64(st, 2);
    q->due_ms = sqlite3_column_int64(st, 3);
    q->state = sqlite3_column_int(st, 4);
    q->left_ms = sqlite3_column_int64(st, 5);
    q->build_number = sqlite3_column_int64(st, 6);
    if (!q->job)
        r = -ENOMEM;
    if (r >= 0 && with_params)
        r = load_params(s, q, (const char *) sqlite3_column_text(st, 7));
    if (r >= 0)
        r = load_causes(s, q, (const char *) sqlite3_column_text(st, 8));
    return r;
}

int
store_queue_get(struct store *s, int64_t id, struct queue_row *ret)
{
    sqlite3_stmt *st = st_prep(s, "SELECT " QUEUE_COLUMNS " FROM queue WHERE id = ?");
    int rc, r;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        st_release(st);
        return rc == SQLITE_DONE ? -ENOENT : st_err(rc);
    }
    r = queue_from_row(s, st, ret, true);
    st_release(st);
    if (r < 0)
        queue_row_release(ret);
    return r;
}

static int
list_waiting(struct store *s, const char *job, bool with_params, struct queue_row **ret_rows,
             size_t *ret_n)
{
    /*
     * The index of waiting items is named: to spare the sort by id, the
     * planner would rather read every item that ever was, in id order.
     */
    sqlite3_stmt *st = st_prep(s, job ? "SELECT " QUEUE_COLUMNS
                                        " FROM queue WHERE state = 0 AND job = ? ORDER BY id"
                                      : "SELECT " QUEUE_COLUMNS
                                        " FROM queue INDEXED BY queue_waiting WHERE state = 0 "
                                        "ORDER BY id");
    struct queue_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = SQLITE_DONE, r = 0;
    bool began;

    if (!st)
        return -EIO;
    /* the items as of one moment, under one lock */
    began = read_begin(s);
    if (job)
        st_bind_text(st, 1, job);
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            struct queue_row *p = reallocarray(rows, cap = cap ? cap * 2 : 16, sizeof *rows);
            if (!p) {
                r = -ENOMEM;
                break;
            }
            rows = p;
        }
        r = queue_from_row(s, st, &rows[n++], with_params);
    }
    st_release(st);
    if (r == 0 && rc != SQLITE_DONE)
        r = st_err(rc);
    read_end(s, began);
    if (r < 0) {
        queue_rows_free(rows, n);
        return r;
    }
    *ret_rows = rows;
    *ret_n = n;
    return 0;
}

int
store_queue_list_waiting(struct store *s, const char *job, struct queue_row **ret_rows,
                         size_t *ret_n)
{
    return list_waiting(s, job, true, ret_rows, ret_n);
}

int
store_queue_list_waiting_brief(struct store *s, struct queue_row **ret_rows, size_t *ret_n)
{
    return list_waiting(s, NULL, false, ret_rows, ret_n);
}

int
store_queue_waiting_bytes(struct store *s, int64_t *ret)
{
    sqlite3_stmt *st = st_prep(s, "SELECT coalesce(sum(length(p.value->>0) + "
                                  "length(p.value->>2)), 0) "
                                  "FROM queue q INDEXED BY queue_waiting, json_each(q.params) p "
                                  "WHERE q.state = 0");
    int rc;

    if (!st)
        return -EIO;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(st, 0);
    st_release(st);
    return rc == SQLITE_ROW ? 0 : st_err(rc);
}

int64_t
store_queue_max_id(struct store *s)
{
    sqlite3_stmt *st = st_prep(s, "SELECT coalesce(max(id), 0) FROM queue");
    int64_t v = 0;

    if (!st)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    st_release(st);
    return v;
}

void
build_row_release(struct build_row *b)
{
    free(b->job);
    free(b->result);
    free(b->abort_reason);
    free(b->description);
    free(b->display_name);
    free(b->built_on);
    memset(b, 0, sizeof *b);
}

void
build_rows_free(struct build_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        build_row_release(&rows[i]);
    free(rows);
}

int
store_build_next_number(struct store *s, const char *job, int64_t *ret_next)
{
    sqlite3_stmt *st = st_prep(s, "SELECT next_build FROM job_numbers WHERE job = ?");
    int rc;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    rc = sqlite3_step(st);
    *ret_next = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 1;
    st_release(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : st_err(rc);
}

int
store_build_start(struct store *s, const char *job, int64_t queue_id, int64_t start_ms,
                  int executor, int64_t *ret_number)
{
    sqlite3_stmt *st;
    int64_t number;
    int r;

    r = store_build_next_number(s, job, &number);
    if (r < 0)
        return r;
    st = st_prep(s, "INSERT INTO job_numbers(job, next_build) VALUES(?, ?) "
                    "ON CONFLICT(job) DO UPDATE SET next_build = excluded.next_build");
    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, number + 1);
    r = st_exec_done(st);
    if (r < 0)
        return r;
    st = st_prep(s, "INSERT INTO builds(job, number, queue_id, start_ms, executor) "
                    "VALUES(?, ?, ?, ?, ?)");
    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, number);
    sqlite3_bind_int64(st, 3, queue_id);
    sqlite3_bind_int64(st, 4, start_ms);
    sqlite3_bind_int(st, 5, executor);
    r = st_exec_done(st);
    if (r < 0)
        return r;
    *ret_number = number;
    return 0;
}

int
store_build_set_node(struct store *s, const char *job, int64_t number, const char *node)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE builds SET built_on = ? WHERE job = ? AND number = ?");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, node);
    st_bind_text(st, 2, job);
    sqlite3_bind_int64(st, 3, number);
    return st_exec_done(st);
}

int
store_build_finish(struct store *s, const char *job, int64_t number, const char *result,
                   int64_t duration_ms, const char *abort_reason)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE builds SET result = ?, duration_ms = ?, "
                                  "abort_reason = ? WHERE job = ? AND number = ?");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, result);
    sqlite3_bind_int64(st, 2, duration_ms);
    st_bind_text(st, 3, abort_reason);
    st_bind_text(st, 4, job);
    sqlite3_bind_int64(st, 5, number);
    return st_exec_done(st);
}

#define BUILD_COLUMNS                                                                     \
    "job, number, queue_id, start_ms, duration_ms, result, executor, abort_reason, description, " \
    "display_name, keep_log, built_on, archived"

static void
build_from_row(sqlite3_stmt *st, struct build_row *b)
{
    memset(b, 0, sizeof *b);
    b->job = st_text(st, 0);
    b->number = sqlite3_column_int64(st, 1);
    b->queue_id = sqlite3_column_int64(st, 2);
    b->start_ms = sqlite3_column_int64(st, 3);
    b->duration_ms = sqlite3_column_int64(st, 4);
    b->result = st_text(st, 5);
    b->executor = sqlite3_column_int(st, 6);
    b->abort_reason = st_text(st, 7);
    b->description = st_text(st, 8);
    b->display_name = st_text(st, 9);
    b->keep_log = sqlite3_column_int(st, 10) != 0;
    b->built_on = st_text(st, 11);
    b->archived = sqlite3_column_int(st, 12) != 0;
}

int
store_build_get(struct store *s, const char *job, int64_t number, struct build_row *ret)
{
    sqlite3_stmt *st = st_prep(s, "SELECT " BUILD_COLUMNS
                                  " FROM builds WHERE job = ? AND number = ?");
    int rc;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, number);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        build_from_row(st, ret);
    st_release(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : st_err(rc);
}

int
store_build_neighbours(struct store *s, const char *job, int64_t number, int64_t *ret_prev,
                       int64_t *ret_next)
{
    sqlite3_stmt *st = st_prep(s, "SELECT (SELECT max(number) FROM builds WHERE job = ?1 AND "
                                  "number < ?2), (SELECT min(number) FROM builds WHERE job = ?1 "
                                  "AND number > ?2)");
    int rc;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, number);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *ret_prev = sqlite3_column_int64(st, 0); /* NULL reads as 0 */
        *ret_next = sqlite3_column_int64(st, 1);
    }
    st_release(st);
    return rc == SQLITE_ROW ? 0 : st_err(rc);
}

static int
build_list(sqlite3_stmt *st, struct build_row **ret_rows, size_t *ret_n)
{
    struct build_row *rows = NULL;
    size_t n = 0;
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct build_row *p = realloc(rows, (n + 1) * sizeof *rows);
        if (!p) {
            st_release(st);
            build_rows_free(rows, n);
            return -ENOMEM;
        }
        rows = p;
        build_from_row(st, &rows[n++]);
    }
    st_release(st);
    if (rc != SQLITE_DONE) {
        build_rows_free(rows, n);
        return st_err(rc);
    }
    *ret_rows = rows;
    *ret_n = n;
    return 0;
}

int
store_build_list(struct store *s, const char *job, int64_t offset, int64_t limit,
                 struct build_row **ret_rows, size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT " BUILD_COLUMNS " FROM builds WHERE job = ? "
                                  "ORDER BY number DESC LIMIT ? OFFSET ?");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    sqlite3_bind_int64(st, 3, offset);
    return build_list(st, ret_rows, ret_n);
}

int
store_build_list_running(struct store *s, struct build_row **ret_rows, size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT " BUILD_COLUMNS
                                  " FROM builds WHERE result IS NULL ORDER BY start_ms");

    if (!st)
        return -EIO;
    return build_list(st, ret_rows, ret_n);
}

/*
 * The newest build of ?1 with result r: one descent of builds_by_result.
 * The aggregate max() of a UNION ALL of them skips the results a job never
 * had (the many-argument max() would give NULL).
 */
#define LAST_WITH(r) "SELECT max(number) AS n FROM builds WHERE job = ?1 AND result = '" r "'"

int
store_build_permalink(struct store *s, const char *job, const char *which, int64_t *ret_number)
{
    static const struct {
        const char *name;
        const char *sql;
    } links[] = {
        { "lastBuild", "SELECT max(number) FROM builds WHERE job = ?1" },
        { "firstBuild", "SELECT min(number) FROM builds WHERE job = ?1" },
        /* newest first along the primary key, past the few builds still running */
        { "lastCompletedBuild", "SELECT number FROM builds WHERE job = ?1 AND +result IS NOT NULL "
                                "ORDER BY number DESC LIMIT 1" },
        { "lastSuccessfulBuild", "SELECT max(n) FROM (" LAST_WITH("SUCCESS") " UNION ALL "
                                 LAST_WITH("UNSTABLE") ")" },
        { "lastStableBuild", LAST_WITH("SUCCESS") },
        { "lastFailedBuild", LAST_WITH("FAILURE") },
        { "lastUnstableBuild", LAST_WITH("UNSTABLE") },
        { "lastUnsuccessfulBuild", "SELECT max(n) FROM (" LAST_WITH("UNSTABLE") " UNION ALL "
                                   LAST_WITH("FAILURE") " UNION ALL " LAST_WITH("NOT_BUILT")
                                   " UNION ALL " LAST_WITH("ABORTED") ")" },
    };
    sqlite3_stmt *st;
    int r = -ENOENT;

    for (size_t i = 0; i < ELEMENTSOF(links); i++) {
        if (!streq(links[i].name, which))
            continue;
        st = st_prep(s, links[i].sql);
        if (!st)
            return -EIO;
        st_bind_text(st, 1, job);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            *ret_number = sqlite3_column_int64(st, 0);
            r = 0;
        }
        st_release(st);
        return r;
    }
    return -EINVAL;
}

int
store_build_count(struct store *s, const char *job, int64_t *ret_count)
{
    sqlite3_stmt *st = st_prep(s, "SELECT count(*) FROM builds WHERE job = ?");
    int r = -EIO;

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *ret_count = sqlite3_column_int64(st, 0);
        r = 0;
    }
    st_release(st);
    return r;
}

/*
 * Oldest first, and only as far as the first build that neither the count
 * nor the age lets go: as Jenkins' LogRotator walks, so that what a build's
 * end reads is what it discards, never the whole history.
 * NEEDSWORK: with archived_only, the walk still steps over the old builds
 * kept without artifacts (it stops at the right place, but SQLite visits
 * them along the primary key); a partial index on `archived` would spare
 * that, at the price of a migration.
 */
#define DISCARD_WALK(extra)                                                                \
    "SELECT number, result IS NOT NULL, start_ms, keep_log FROM builds WHERE job = ?1" extra \
    " ORDER BY number"

int
store_build_discardable(struct store *s, const char *job, bool archived_only, int64_t keep,
                        int64_t before_ms, size_t max, int64_t **ret_numbers, size_t *ret_n)
{
    static const char all[] = DISCARD_WALK(""), archived[] = DISCARD_WALK(" AND archived <> 0");
    sqlite3_stmt *st;
    int64_t past = 0, last_ok = 0, last_good = 0, *v;
    size_t n = 0;
    int rc;

    /* the newest build past the count of `keep`: it and every older one go by count */
    if (keep >= 0) {
        st = st_prep(s, "SELECT number FROM builds WHERE job = ?1 ORDER BY number DESC "
                        "LIMIT 1 OFFSET ?2");
        if (!st)
            return -EIO;
        st_bind_text(st, 1, job);
        sqlite3_bind_int64(st, 2, keep);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            past = sqlite3_column_int64(st, 0);
        st_release(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return -EIO;
    }
    /* never the last successful (or unstable) build, nor the last stable one */
    st = st_prep(s, "SELECT max(coalesce((" LAST_WITH("SUCCESS") "), 0), coalesce(("
                    LAST_WITH("UNSTABLE") "), 0)), coalesce((" LAST_WITH("SUCCESS") "), 0)");
    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        last_ok = sqlite3_column_int64(st, 0);
        last_good = sqlite3_column_int64(st, 1);
    }
    st_release(st);
    if (rc != SQLITE_ROW)
        return -EIO;

    v = calloc(max ? max : 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    st = st_prep(s, archived_only ? archived : all);
    if (!st) {
        free(v);
        return -EIO;
    }
    st_bind_text(st, 1, job);
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t number = sqlite3_column_int64(st, 0);

        if (number > past && sqlite3_column_int64(st, 2) >= before_ms)
            break;
        /*
         * a running build, one kept forever, and the two last good ones
         * stay (they still count among the `keep` newest); the walk goes
         * past them
         */
        if (sqlite3_column_int(st, 1) && !sqlite3_column_int(st, 3) && number != last_ok &&
            number != last_good)
            v[n++] = number;
    }
    st_release(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(v);
        return -EIO;
    }
    *ret_numbers = v;
    *ret_n = n;
    return 0;
}

int
store_build_set_archived(struct store *s, const char *job, int64_t number, bool archived)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE builds SET archived = ? WHERE job = ? AND number = ?");

    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, archived);
    st_bind_text(st, 2, job);
    sqlite3_bind_int64(st, 3, number);
    return st_exec_done(st);
}

int
store_build_delete(struct store *s, const char *job, int64_t number)
{
    sqlite3_stmt *st = st_prep(s, "DELETE FROM builds WHERE job = ? AND number = ? AND "
                                  "result IS NOT NULL AND keep_log = 0");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, number);
    return st_exec_done(st);
}

/* Runs an UPDATE of one build (?2, ?3) with the value ?1 bound by the caller; -ENOENT for none. */
static int
update_build(struct store *s, sqlite3_stmt *st, const char *job, int64_t number)
{
    int r;

    st_bind_text(st, 2, job);
    sqlite3_bind_int64(st, 3, number);
    r = st_exec_done(st);
    if (r < 0)
        return r;
    return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int
store_build_set_description(struct store *s, const char *job, int64_t number, const char *text)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE builds SET description = ?1 WHERE job = ?2 AND "
                                  "number = ?3");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, text);
    return update_build(s, st, job, number);
}

int
store_build_set_display_name(struct store *s, const char *job, int64_t number, const char *text)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE builds SET display_name = ?1 WHERE job = ?2 AND "
                                  "number = ?3");

    if (!st)
        return -EIO;
    st_bind_text(st, 1, text);
    return update_build(s, st, job, number);
}

int
store_build_set_keep(struct store *s, const char *job, int64_t number, bool keep)
{
    sqlite3_stmt *st = st_prep(s, "UPDATE builds SET keep_log = ?1 WHERE job = ?2 AND "
                                  "number = ?3");

    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, keep);
    return update_build(s, st, job, number);
}

int
store_build_each(struct store *s, const char *job, int64_t offset, int64_t limit,
                 int (*fn)(void *userdata, const struct build_row *b), void *userdata)
{
    /* the rows come one at a time along the primary key, newest first */
    sqlite3_stmt *st = st_prep(s, "SELECT " BUILD_COLUMNS " FROM builds WHERE job = ? "
                                  "ORDER BY number DESC LIMIT ? OFFSET ?");
    struct build_row b;
    bool began;
    int rc, r = 0;

    if (!st)
        return -EIO;
    began = read_begin(s);
    st_bind_text(st, 1, job);
    sqlite3_bind_int64(st, 2, limit >= 0 ? limit : -1);
    sqlite3_bind_int64(st, 3, offset);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        build_from_row(st, &b);
        r = b.job ? fn(userdata, &b) : -ENOMEM;
        build_row_release(&b);
        if (r < 0)
            break;
    }
    if (r >= 0 && rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
    read_end(s, began);
    return r;
}

/*
 * The newest 3 builds of ?1 with result r, walked backwards along
 * builds_by_result. The index is named: without statistics the planner
 * would rather filter the primary key, which reads the whole history of a
 * job that stopped succeeding.
 */
#define RECENT_WITH(r)                                                                    \
    "SELECT * FROM (SELECT number, duration_ms FROM builds INDEXED BY builds_by_result " \
    "WHERE job = ?1 AND result = '" r "' ORDER BY number DESC LIMIT 3)"

int64_t
store_build_estimated_duration(struct store *s, const char *job)
{
    sqlite3_stmt *st = st_prep(s, "SELECT avg(duration_ms) FROM (" RECENT_WITH("SUCCESS")
                                  " UNION ALL " RECENT_WITH("UNSTABLE")
                                  " ORDER BY number DESC LIMIT 3)");
    int64_t v = -1;

    if (!st)
        return -1;
    st_bind_text(st, 1, job);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = (int64_t) sqlite3_column_double(st, 0);
    st_release(st);
    return v;
}

static int
exec_job(struct store *s, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st = st_prep(s, sql);

    if (!st)
        return -EIO;
    st_bind_text(st, 1, a);
    if (b)
        st_bind_text(st, 2, b);
    return st_exec_done(st);
}

int
store_job_forget(struct store *s, const char *job)
{
    /* queue items stay readable (cancelled when they were waiting), as left items do */
    static const char *const sql[] = {
        ("UPDATE queue SET state = 2, left_ms = CAST(strftime('%s','now') AS INTEGER) * 1000 "
         "WHERE job = ? AND state = 0"),
        "DELETE FROM builds WHERE job = ?",
        "DELETE FROM job_numbers WHERE job = ?",
        "DELETE FROM job_stats WHERE job = ?",
    };
    int r;

    for (size_t i = 0; i < ELEMENTSOF(sql); i++) {
        r = exec_job(s, sql[i], job, NULL);
        if (r < 0)
            return r;
    }
    return 0;
}

int
store_job_rename(struct store *s, const char *from, const char *to)
{
    static const char *const sql[] = {
        "UPDATE queue SET job = ?2 WHERE job = ?1",
        "UPDATE builds SET job = ?2 WHERE job = ?1",
        "UPDATE job_numbers SET job = ?2 WHERE job = ?1",
        "UPDATE OR REPLACE job_stats SET job = ?2 WHERE job = ?1",
    };
    int r;

    for (size_t i = 0; i < ELEMENTSOF(sql); i++) {
        r = exec_job(s, sql[i], from, to);
        if (r < 0)
            return r;
    }
    return 0;
}

void
job_stats_rows_free(struct job_stats_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].job);
        free(rows[i].last_result);
    }
    free(rows);
}

/* Steps `st` to its end, one row each through fill(); releases it. 0, -ENOMEM, -EIO... */
static int
collect_stats_rows(sqlite3_stmt *st, int (*fill)(sqlite3_stmt *st, struct job_stats_row *row),
                   struct job_stats_row **ret_rows, size_t *ret_n)
{
    struct job_stats_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc, r = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct job_stats_row *v = reallocarray(rows, ncap, sizeof *v);
            if (!v) {
                r = -ENOMEM;
                break;
            }
            rows = v;
            cap = ncap;
        }
        r = fill(st, &rows[n++]);
        if (r < 0)
            break;
    }
    if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = st_err(rc);
    st_release(st);
    if (r < 0) {
        job_stats_rows_free(rows, n);
        return r;
    }
    *ret_rows = rows;
    *ret_n = n;
    return 0;
}

static int
fill_stats(sqlite3_stmt *st, struct job_stats_row *row)
{
    *row = (struct job_stats_row){
        .job = st_text(st, 0),
        .success = sqlite3_column_int64(st, 1),
        .unstable = sqlite3_column_int64(st, 2),
        .failure = sqlite3_column_int64(st, 3),
        .not_built = sqlite3_column_int64(st, 4),
        .aborted = sqlite3_column_int64(st, 5),
        .duration_ms = sqlite3_column_int64(st, 6),
        .last_number = sqlite3_column_int64(st, 7),
        .last_result = st_text(st, 8),
        .last_start_ms = sqlite3_column_int64(st, 9),
        .last_duration_ms = sqlite3_column_int64(st, 10),
    };
    if (!row->job || (!row->last_result && sqlite3_column_type(st, 8) != SQLITE_NULL))
        return -ENOMEM;
    return 0;
}

int
store_job_stats_list(struct store *s, size_t max, struct job_stats_row **ret_rows, size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT job, success, unstable, failure, not_built, aborted, "
                                  "duration_ms, last_number, last_result, last_start_ms, "
                                  "last_duration_ms FROM job_stats ORDER BY job LIMIT ?");

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (int64_t) MIN(max, (size_t) INT64_MAX));
    return collect_stats_rows(st, fill_stats, ret_rows, ret_n);
}

static int
fill_running(sqlite3_stmt *st, struct job_stats_row *row)
{
    *row = (struct job_stats_row){ .job = st_text(st, 0),
                                   .last_number = sqlite3_column_int64(st, 1) };
    return row->job ? 0 : -ENOMEM;
}

int
store_job_running_list(struct store *s, struct job_stats_row **ret_rows, size_t *ret_n)
{
    sqlite3_stmt *st = st_prep(s, "SELECT job, max(number) FROM builds WHERE result IS NULL "
                                  "GROUP BY job ORDER BY job");

    if (!st)
        return -EIO;
    return collect_stats_rows(st, fill_running, ret_rows, ret_n);
}
