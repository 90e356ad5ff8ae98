/* SPDX-License-Identifier: MIT */
/*
 * The queue: waiting items in id order, merged by job and parameters,
 * written in one group commit per turn of the loop (handle_triggers());
 * claiming due items for free executors and the reasons an item waits.
 */
#include "core/engine_int.h"

static bool upload_held(struct engine *e, const char *sha256);
static void unclaim_all(struct engine *e);
static void launch_claimed(struct engine *e);
static int launch_while_syncing(struct engine *e);
static void launch_pending_steps(struct engine *e);
static bool claim_due(struct engine *e, bool *began);

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
void
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
int
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
    e->waiting[e->n_waiting].no_slot_look = 0;
    e->waiting[e->n_waiting++].key = key;
    e->next_due_ms = MIN(e->next_due_ms, due);
    c->out_id = q.id;
    c->merged = false;
    return 0;
}

int
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
        e->waiting[i].no_slot_look = 0;
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
    for (int i = 0; i < e->n_slots; i++)
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
void
unhold_trigger(struct engine *e, const struct trigger *t)
{
    char h[UPLOAD_HASH_LEN + 1];
    const char *name;

    /* only the holds it took: another's would let a file go under a request on its way in */
    for (size_t i = 0; t && t->holds_uploads && i < t->n_params; i++)
        if (t->params[i].type == PARAM_FILE && upload_value_parse(t->params[i].value, h, &name) == 0)
            engine_unhold_upload(e, h);
}

bool
upload_needed_by_any(void *userdata, const char *sha256)
{
    return upload_needed(userdata, sha256, 0);
}

/* Removes the uploads of `params` that nothing else needs (an item cancelled or started). */
void
forget_uploads(struct engine *e, const struct param_value *params, size_t n, int64_t except)
{
    char h[UPLOAD_HASH_LEN + 1];
    const char *name;

    for (size_t i = 0; i < n; i++)
        if (params[i].type == PARAM_FILE && upload_value_parse(params[i].value, h, &name) == 0 &&
            !upload_needed(e, h, except))
            upload_forget(e->uploads, h);
}

static void
remove_waiting(struct engine *e, size_t i)
{
    struct queue_row q;

    take_waiting(e, i, &q);
    queue_row_release(&q);
}

void
handle_triggers(struct engine *e, struct cmd **batch, size_t n)
{
    int r, *results = calloc(n, sizeof *results);
    bool reload = false;

    if (!results) {
        for (size_t i = 0; i < n; i++)
            engine_answer(e, batch[i], -ENOMEM);
        return;
    }
    /* written by the commit, then confirmed by the disk: launch_while_syncing() */
    r = store_begin_lazy(e->db);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        r = store_savepoint(e->db);
        if (r < 0)
            break;
        results[i] = apply_trigger(e, batch[i]);
        if (engine_store_failure(results[i])) {
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
            engine_answer(e, batch[i], engine_store_failure(r) ? r : -EIO);
        }
    } else {
        /*
         * A build claimed here begins before the answers go: a client that
         * reads its queue item's executable right after the 201 finds the
         * build's log begun, never empty. Its first step starts after them.
         * A commit the disk did not confirm is answered as an I/O error,
         * whose text says the item may be queued all the same.
         */
        int synced = launch_while_syncing(e);

        if (synced < 0)
            log_error("queue: the disk did not confirm the commit of %zu trigger%s (%s): "
                      "answered as not queued, though they may be", n, n == 1 ? "" : "s",
                      strerror(-synced));
        for (size_t i = 0; i < n; i++) {
            if (results[i] < 0)
                forget_uploads(e, batch[i]->trigger->params, batch[i]->trigger->n_params, 0);
            engine_answer(e, batch[i], results[i] < 0 || synced >= 0 ? results[i] : -EIO);
        }
        if (synced >= 0)
            launch_pending_steps(e);
    }
    free(results);
}

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
    run->agent = e->slots[slot].agent;
    run->queue_id = q->id;
    run->start_ms = now_ms();
    run->start_mono_us = mono_us();

    r = store_savepoint(e->db);
    if (r < 0) {
        run_free(run);
        return r;
    }
    r = store_build_start(e->db, q->job, q->id, run->start_ms, e->slots[slot].number, &number);
    if (r >= 0 && run->agent)
        r = store_build_set_node(e->db, q->job, number, agents_slot_node(e, slot));
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
    agents_report_slot(e, slot);
    return 0;
}

/* The transaction of the claims did not commit: their items wait again (load_waiting()). */
static void
unclaim_all(struct engine *e)
{
    for (int i = 0; i < e->n_slots; i++)
        if (e->runs[i] && e->runs[i]->claimed) {
            run_free(e->runs[i]);
            e->runs[i] = NULL;
        }
}

/*
 * After the commit of the claims: each claimed build begins, by executor.
 * Each call is followed by launch_pending_steps(), in the same turn: no
 * build is left begun without its first step.
 */
static void
launch_claimed(struct engine *e)
{
    for (int i = 0; i < e->n_slots; i++)
        if (e->runs[i] && e->runs[i]->claimed)
            launch_build(e, e->runs[i]);
}

/* The disk did not confirm the claims: the builds just begun end before any step runs. */
static void
abandon_launched(struct engine *e, int err)
{
    for (int i = 0; i < e->n_slots; i++) {
        struct run *run = e->runs[i];

        if (!run || !run->steps_pending)
            continue;
        run->steps_pending = false;
        run->abort_reason = "the disk did not confirm the build's start";
        if (run->logfd >= 0)
            run_log(run->logfd, "The disk did not confirm this build's start (%s). No step "
                    "runs.\n", strerror(-err));
        finish_run(e, run, "FAILURE");
    }
}

/*
 * After a lazy commit of claims (and triggers): the disk confirms it on the
 * store's sync thread while the claimed builds begin (their directory,
 * log, environment and config.xml), so that the two overlap. Returns the
 * sync's result: no answer goes and no step starts before it is 0, so a
 * step still never runs before its build's row is durable. With nothing
 * claimed, the sync runs here.
 */
static int
launch_while_syncing(struct engine *e)
{
    bool any = false;
    int r;

    for (int i = 0; i < e->n_slots && !any; i++)
        any = e->runs[i] && e->runs[i]->claimed;
    if (any) {
        (void) store_sync_start(e->db);
        launch_claimed(e);
    }
    r = store_sync_wait(e->db);
    if (r < 0)
        abandon_launched(e, r);
    return r;
}

/* Then their first steps start (each launch_steps() may end its run: a slot is read again). */
static void
launch_pending_steps(struct engine *e)
{
    for (int i = 0; i < e->n_slots; i++)
        if (e->runs[i] && e->runs[i]->steps_pending)
            launch_steps(e, e->runs[i]);
}

bool
job_is_running(struct engine *e, const char *job)
{
    for (int i = 0; i < e->n_slots; i++)
        if (e->runs[i] && streq(e->runs[i]->job->name, job))
            return true;
    return false;
}

/* A free slot that may take a build, on any node; -1 when every one is busy or offline. */
int
queue_free_slot(struct engine *e)
{
    for (int i = 0; i < e->n_slots; i++)
        if (!e->runs[i] && agents_slot_usable(e, i))
            return i;
    return -1;
}

void
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

    if (e->stopping || engine_quiet_now(e))
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
    /* durable before anything launches: launch_while_syncing() */
    r = store_begin_lazy(e->db);
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
    if (queue_free_slot(e) < 0) {
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
        /*
         * No executor could take it, and nothing that could change that has
         * happened since: a long queue for an offline node's label costs
         * nothing per trigger.
         */
        if (e->waiting[i].no_slot_look == e->slot_look) {
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
        slot = agents_pick_slot(e, job);
        if (slot < 0) {
            /* no free executor on a node that takes it: the others may have one for the rest */
            if (queue_free_slot(e) < 0) {
                /* the rest is looked at when an executor frees */
                e->blocked = true;
                return claimed;
            }
            /*
             * Not `blocked`: only an executor freed, a node's change or a saved
             * job can let it start, and each calls queue_look_again() (end_run(),
             * agents_sync(), agents_event(), the loop for a saved job), so the
             * loop does not look again 10 times a second, nor at each trigger.
             */
            e->waiting[i].no_slot_look = e->slot_look;
            i++;
            continue;
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

void
queue_look_again(struct engine *e)
{
    e->blocked = true;
    e->slot_look++;
}

/*
 * Starts what may start: the claims commit together, durably, then the
 * builds launch. A launch that fails at once frees its executor for the
 * next item in the same turn.
 */
void
queue_schedule(struct engine *e)
{
    for (int round = 0; round <= e->n_slots; round++) {
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
        r = launch_while_syncing(e);
        if (r < 0) {
            log_error("queue: the disk did not confirm the start of builds (%s): they end "
                      "FAILURE before their steps; the queue is looked at again later",
                      strerror(-r));
            e->blocked = true;
            return;
        }
        if (!claimed)
            return;
        launch_pending_steps(e);
        if (queue_free_slot(e) < 0)
            return;
    }
}

/* Counts as Jenkins' queue does: items in their quiet period are neither buildable nor blocked. */
void
queue_take_load(struct engine *e, struct engine_load *load)
{
    int64_t now = now_ms();

    for (int i = 0; i < e->n_slots; i++) {
        if (e->runs[i])
            load->busy++;
        if (e->runs[i] || agents_slot_usable(e, i))
            load->executors++;
    }
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
