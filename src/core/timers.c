/* SPDX-License-Identifier: MIT */
/*
 * The clock: build timeouts (the build-timeout wrapper and
 * --build-timeout), timer triggers and SCM polls once a minute, and the
 * loop's next wake-up.
 */
#include "core/engine_int.h"

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
int
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
        run_log(run->logfd, "ERROR: the build timeout strategy %s is not run by Steward: use "
                  "the absolute or the no-activity strategy. No step runs.\n", t->other);
        return -EINVAL;
    } else {
        v = t->value;
        if (jobcfg_timeout_var(v, name, sizeof name) == 0 && !(v = run_param(run, name))) {
            run->abort_reason = "the build timeout cannot be read";
            run_log(run->logfd, "ERROR: the build timeout is %s, and this build has no "
                      "parameter %s. No step runs.\n", t->value, name);
            return -EINVAL;
        }
        if (jobcfg_timeout_number(v, 10 * 366 * 24 * 60, &n) < 0) {
            run->abort_reason = "the build timeout cannot be read";
            run_log(run->logfd, "ERROR: the build timeout %s is '%s', not a whole number "
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
        run_log(run->logfd, "Build timed out (after %s). Marking the build as aborted.\n", after);
    if (fail)
        run_log(run->logfd, "Build timed out (after %s). Marking the build as failed.\n", after);
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
            run_log(run->logfd, "Cannot set the build's description: %s\n", strerror(-r));
        else
            run_log(run->logfd, "Build description: %s\n", clean);
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
    for (int i = 0; i < e->n_slots; i++) {
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

    for (int i = 0; i < e->n_slots; i++) {
        struct run *run = e->runs[i];
        if (!timeout_armed(run))
            continue;
        t = MIN(t, MAX(0, run->timeout_at_mono - mono));
        if (run->timeout_no_activity)
            t = MIN(t, 1000);
    }
    return t;
}

/* Every parameter at its default; the values are allocated (free them), the names lent. */
/*
 * Timer triggers: once a minute, every job whose TimerTrigger spec matches
 * that minute gets a build with its parameters' defaults. Minutes that
 * passed while Steward was down are not made up for, as in Jenkins. Once
 * an hour, old builds are discarded for every job.
 */
void
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

int
next_timeout(struct engine *e)
{
    int64_t now = now_ms(), mono = mono_ms();
    int64_t t = MIN(e->next_flush_mono - mono, e->next_minute_ms - now);

    /*
     * With every executor busy, the end of a build wakes the loop. Otherwise
     * wake when the next item is due, and look again soon at items that
     * wait on something else (a disabled job, a running build of theirs).
     */
    if (queue_free_slot(e) >= 0) {
        if (e->blocked)
            t = MIN(t, 100);
        if (e->next_due_ms != INT64_MAX)
            t = MIN(t, e->next_due_ms <= now ? 0 : e->next_due_ms - now);
    }
    for (int i = 0; i < e->n_slots; i++)
        if (e->runs[i] && e->runs[i]->aborting && e->runs[i]->pid > 0)
            t = MIN(t, MAX(0, e->runs[i]->kill_at_mono - mono));
    t = MIN(t, timeout_next(e, mono));
    if (!e->was_running && !engine_any_running(e))
        t = MIN(t, MAX(0, e->next_trim_mono - mono));
    {
        int at = agents_next_timeout(e);
        if (at >= 0)
            t = MIN(t, at);
    }
    return (int) MAX(0, MIN(t, 60000));
}

void
timers_run(struct engine *e)
{
    int64_t mono = mono_ms();

    for (int i = 0; i < e->n_slots; i++) {
        struct run *run = e->runs[i];
        if (run && run->aborting && run->pid > 0 && run->kill_at_mono <= mono) {
            if (run->agent && !run->fetching)
                agents_signal(e, run, SIGKILL);
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
     * burst: with no build running, it goes back to the system, a quarter
     * of a second after the last build ended and every 10 s after. So do
     * the engine's SQLite page cache and libxml2 with ICU: 1.8 MB less
     * resident while idle. A build whose config the engine keeps
     * (read_build_config()) does not need them; another loads them again,
     * which put 2.4 ms on the way to its step (docs/PERFORMANCE.md).
     */
    if (engine_any_running(e))
        e->was_running = true;
    else {
        if (e->was_running)
            e->next_trim_mono = mono + IDLE_TRIM_MS;
        e->was_running = false;
        if (mono >= e->next_trim_mono) {
            (void) xml_unload_idle(IDLE_TRIM_MS);
            store_release_memory(e->db);
            (void) malloc_trim(0);
            e->next_trim_mono = mono + TRIM_INTERVAL_MS;
        }
    }
}
