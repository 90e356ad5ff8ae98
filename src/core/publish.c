/* SPDX-License-Identifier: MIT */
/*
 * After the steps: the artifact archiver and the JUnit publisher on a
 * thread of their own, recording the result (or keeping it while the
 * database cannot take it) and the downstream triggers of chains.
 */
#include "core/engine_int.h"

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

    run_log(run->logfd, "Recording test results\n");
    if (run->junit_r == -ECANCELED) {
        run_log(run->logfd, "Recording test results stopped\n");
        return;
    }
    if (run->junit_r < 0) {
        run_log(run->logfd, "ERROR: recording test results failed: %s\n", strerror(-run->junit_r));
        worsen(run, "FAILURE");
        return;
    }
    if (res->error) {
        run_log(run->logfd, "ERROR: test report %s\n", res->error);
        run_log(run->logfd, "Build step 'Publish JUnit test result report' changed build result "
                              "to FAILURE\n");
        worsen(run, "FAILURE");
    }
    if (res->truncated)
        run_log(run->logfd, "WARNING: only the first %d test cases were recorded\n",
                  JUNIT_MAX_CASES);
    if (res->cases_left_out)
        run_log(run->logfd, "WARNING: %zu test case(s) were left out: the test cases of one build "
                              "are kept up to %lld MiB of names, messages and output in all\n",
                  res->cases_left_out, BOUND_JUNIT_KEPT_BYTES >> 20);
    if (res->files_left_out)
        run_log(run->logfd, "WARNING: %zu test report(s) were not read, from %s on: one build's "
                              "test reports are read up to %lld MiB in all\n",
                  res->files_left_out, res->first_left_out ? res->first_left_out : "one",
                  BOUND_JUNIT_READ_BYTES >> 20);
    if (res->n_files == 0 || (res->n_cases == 0 && !res->error)) {
        /* as Jenkins: a build that failed most likely failed before its tests ran */
        if (streq(run->result, "FAILURE"))
            return;
        if (run->cfg->junit_allow_empty) {
            run_log(run->logfd, "None of the test reports contained any result\n");
            return;
        }
        if (res->n_files == 0 && res->n_old > 0)
            run_log(run->logfd, "ERROR: Test reports were found but none of them are new. Did "
                                  "tests run?\nFor example, %s is %lld s old\n",
                      res->old_path ? res->old_path : "one", (long long) (res->old_age_ms / 1000));
        else
            run_log(run->logfd, res->n_files == 0
                                      ? "ERROR: No test report files were found. Configuration error?\n"
                                      : "ERROR: None of the test reports contained any result\n");
        worsen(run, "FAILURE");
        return;
    }
    if (res->n_cases == 0)
        return;
    if (run->junit_store_r == -ECANCELED) {
        run_log(run->logfd, "Recording test results stopped\n");
        return;
    }
    if (run->junit_store_r < 0) {
        run_log(run->logfd, "ERROR: the test results could not be stored: %s\n",
                  strerror(-run->junit_store_r));
        worsen(run, "FAILURE");
        return;
    }
    run_log(run->logfd, "Test results: %lld tests, %lld failed, %lld skipped\n",
              (long long) sum->total, (long long) sum->failed, (long long) sum->skipped);
    if (sum->failed > 0 && streq(run->result, "SUCCESS") && !run->cfg->junit_skip_unstable) {
        run_log(run->logfd, "Build step 'Publish JUnit test result report' changed build result "
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
bool
publish_wanted(const struct run *run, const char *result)
{
    const struct job_config *cfg = run->job->cfg;

    return (cfg->archive_artifacts && !streq(result, "ABORTED") &&
            !(cfg->archive_only_if_successful && !streq(result, "SUCCESS"))) ||
           (run->cfg && run->cfg->junit_results && !streq(result, "ABORTED"));
}

bool
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
            run_log(run->logfd, "ERROR: recording test results failed: testResults: %s\n",
                      strerror(-r));
            run->result = "FAILURE";
            run->junit_wanted = false;
        }
    }
    if (!run->archive_wanted && !run->junit_wanted)
        return false;
    if (run->archive_wanted)
        run_log(run->logfd, "Archiving artifacts\n");
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
        run_log(run->logfd, "ERROR: %s failed: %s\n",
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
        run_log(run->logfd, "WARNING: archived only %zu files: the limit is %d files and %llu bytes\n",
                  run->archive_count, ARCHIVE_MAX_FILES, (unsigned long long) ARCHIVE_MAX_BYTES);
    else if (run->archive_r == -ECANCELED)
        run_log(run->logfd, "Archiving stopped after %zu files\n", run->archive_count);
    else if (run->archive_r < 0) {
        run_log(run->logfd, "ERROR: archiving artifacts failed: %s\n", strerror(-run->archive_r));
        run->result = "FAILURE";
    }
    if (run->archive_r >= 0 && run->archive_count == 0 && !cfg->archive_allow_empty) {
        run_log(run->logfd, "ERROR: No artifacts found that match the file pattern \"%s\". "
                              "Configuration error?\n", cfg->archive_artifacts);
        run->result = "FAILURE";
    }
}

/* The archiver thread is done: its publishers' results, in their order. */
void
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

/*
 * Records a build's result and, in the same transaction, discards what
 * its job's "Discard old builds" makes due, so that no reader sees the
 * result without the discard. When the discard cannot be done, the
 * result is recorded alone and the hourly pass tries again.
 *
 * The result acknowledges nothing to a client: it commits without waiting
 * for the disk, and the next durable commit (a trigger, a build start) or
 * the sync of timers_run() within a second covers it. A power loss before
 * that leaves the build running in the database, which the next start
 * marks ABORTED. When something is discarded, the commit is synced before
 * the directories go: a row must never outlive its directory.
 */
int
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
void
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

void
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

bool
job_has_unrecorded(struct engine *e, const char *job)
{
    for (size_t i = 0; i < e->n_unrecorded; i++)
        if (streq(e->unrecorded[i].job, job))
            return true;
    return false;
}

/*
 * The builds this one triggers (its post-build triggers, the reverse
 * triggers naming it), queued as any trigger is: durably, merged into an
 * identical waiting item. Before its "Finished:" line, which they follow
 * in the console, as in Jenkins.
 */
void
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
                run_log(run->logfd, "%s could not be queued: %s\n", plan.reqs[i].job,
                          strerror(-c[i].result));
            else if (c[i].merged)
                run_log(run->logfd, "%s is already in the queue\n", plan.reqs[i].job);
    }
    if (r < 0)
        run_log(run->logfd, "Downstream builds could not be triggered: %s\n", strerror(-r));
    free(t);
    free(c);
    free(batch);
    chain_plan_release(&plan);
}
