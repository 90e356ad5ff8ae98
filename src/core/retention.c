/* SPDX-License-Identifier: MIT */
/*
 * Retention: old builds discarded by the job's rules (rows first, then
 * their files renamed into HOME/trash and emptied by a janitor thread),
 * and changes to kept builds (descriptions, keep forever, deletion).
 */
#include "core/engine_int.h"

#define DISCARD_BATCH 1000

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
void
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
int
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
int
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

int
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

void
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
int
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
void
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
void
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
