/* SPDX-License-Identifier: MIT */
/*
 * One build from claim to end: the log, the environment, the steps
 * spawned one after another in the sandbox, their reaping, aborts, and
 * finish_run()/end_run() that record the result and free the executor.
 */
#include "core/engine_int.h"

/* What a parameter's variable holds: a file parameter's is the uploaded file's name, as in Jenkins. */
static const char *
param_env_value(const struct param_value *p)
{
    char h[UPLOAD_HASH_LEN + 1];
    const char *filename;

    if (p->type == PARAM_FILE)
        return upload_value_parse(p->value, h, &filename) == 0 ? filename : "";
    return p->value;
}

/*
 * Copies the build's uploaded files into its workspace, before the first
 * shell step (steps_begin(): after the cleanup and the checkout, which
 * could delete them, as Jenkins' FileParameterValue sets up after them),
 * each at its parameter's name; the workspace belongs to the build user
 * and to what earlier builds left there, so nothing in it is followed
 * (upload_install()). A file that cannot be put there fails the build.
 */
static int
install_uploads(struct engine *e, struct run *run)
{
    const struct queue_row *q = &run->row;
    char h[UPLOAD_HASH_LEN + 1];
    const char *filename;
    uid_t uid = 0;
    gid_t gid = 0;
    bool chown = sandbox_build_owner(e->opts.sandbox, &uid, &gid);
    int r = 0;

    for (size_t i = 0; i < q->n_params && r >= 0; i++) {
        if (q->params[i].type != PARAM_FILE ||
            upload_value_parse(q->params[i].value, h, &filename) < 0)
            continue;
        r = upload_install(e->uploads, h, run->workspace, q->params[i].name, chown, uid, gid);
        if (r < 0)
            run_log(run->logfd, "File parameter '%s': %s cannot be put into the workspace "
                      "at %s: %s.\nNo step runs.\n", q->params[i].name, filename,
                      q->params[i].name,
                      r == -ELOOP ? "a symbolic link is in the way (Steward never follows one "
                                    "there)"
                      : r == -ENOTDIR ? "a file is in the way of its directory"
                      : r == -EISDIR ? "a directory of that name is in the way"
                      : r == -EINVAL ? "that is not a path inside the workspace"
                      : r == -ENOENT ? "the uploaded file is gone"
                                     : strerror(-r));
        else
            run_log(run->logfd, "File parameter '%s': %s copied into the workspace.\n",
                      q->params[i].name, filename);
    }
    forget_uploads(e, q->params, q->n_params, 0);
    return r;
}

/*
 * Before the first shell step, after the checkout: the file parameters go
 * into the workspace, and the bound credentials' variables are added.
 * false when that ended the build.
 */
bool
steps_begin(struct engine *e, struct run *run)
{
    int r;

    if (run->uploads_pending) {
        run->uploads_pending = false;
        if (install_uploads(e, run) < 0) {
            run->abort_reason = "a file parameter cannot be put into the workspace";
            finish_run(e, run, "FAILURE");
            return false;
        }
    }
    r = add_bound_env(run);
    if (r < 0) {
        start_failed(e, run, r);
        return false;
    }
    return true;
}

/* A build that ended before its first shell step lets go of its uploads. */
static void
drop_pending_uploads(struct engine *e, struct run *run)
{
    if (!run->uploads_pending)
        return;
    run->uploads_pending = false;
    forget_uploads(e, run->row.params, run->row.n_params, 0);
}

/* Appends a line of Steward's own to a build log: 0, or -errno (-ENOSPC...). */
int
run_log(int fd, const char *fmt, ...)
{
    struct buf b = BUF_INIT(64 * 1024);
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = buf_vprintf(&b, fmt, ap) >= 0 ? fs_write_all(fd, b.ptr, b.len) : -ENOMEM;
    va_end(ap);
    buf_release(&b);
    return r;
}

/*
 * After a step: whether its output may have been lost. The step writes
 * the log itself, so Steward cannot see its failed writes; a disk with no
 * room left for the log at the step's end is taken as the sign of it.
 */
static bool
log_disk_full(int fd)
{
    struct statfs f;

    /* root writes into the reserved blocks too: then only no free block at all is full */
    return fstatfs(fd, &f) == 0 && (geteuid() == 0 ? f.f_bfree : f.f_bavail) == 0;
}

static const char *
log_failure_reason(int err)
{
    return err == -ENOSPC || err == -EDQUOT
               ? "Steward could not write the build's log: the disk is full"
               : "Steward could not write the build's log";
}

int
env_add(char ***env, size_t *n, const char *name, const char *value)
{
    char **v, *s;

    /* a later definition of the same name wins */
    for (size_t i = 0; i < *n; i++) {
        size_t l = strlen(name);
        if (strncmp((*env)[i], name, l) == 0 && (*env)[i][l] == '=') {
            if (asprintf(&s, "%s=%s", name, value) < 0)
                return -ENOMEM;
            free((*env)[i]);
            (*env)[i] = s;
            return 0;
        }
    }
    v = realloc(*env, (*n + 2) * sizeof *v);
    if (!v)
        return -ENOMEM;
    *env = v;
    if (asprintf(&s, "%s=%s", name, value) < 0)
        return -ENOMEM;
    v[(*n)++] = s;
    v[*n] = NULL;
    return 0;
}

void
env_free(char **env)
{
    if (!env)
        return;
    for (char **p = env; *p; p++)
        free(*p);
    free(env);
}

/* The NAME=value lines after a GitLab cause's first line; only gitlab* names with letters and digits. */
static int
add_gitlab_env(char ***env, size_t *n, const char *note)
{
    const char *p = strchr(note, '\n');
    int r = 0;

    for (p = p ? p + 1 : NULL; p && *p && r >= 0;) {
        const char *nl = strchrnul(p, '\n'), *eq = memchr(p, '=', (size_t) (nl - p));
        bool ok = eq && startswith(p, "gitlab") && eq - p < 64;

        for (const char *c = p; ok && c < eq; c++)
            ok = isalnum((unsigned char) *c);
        if (ok) {
            _cleanup_free_ char *name = strndup(p, (size_t) (eq - p));
            _cleanup_free_ char *value = strndup(eq + 1, (size_t) (nl - eq - 1));
            r = name && value ? env_add(env, n, name, value) : -ENOMEM;
        }
        p = *nl ? nl + 1 : nl;
    }
    return r;
}

/*
 * What every step starts from, a build's or a poll's: of the server's
 * environment only PATH, LANG and TZ (never its own settings or secrets:
 * NOTIFY_SOCKET, credentials...), HOME, and the --build-env entries.
 */
int
base_env(struct engine *e, const char *home, char ***env, size_t *n)
{
    static const char *const passed[] = { "PATH", "LANG", "TZ" };
    static const char default_path[] =
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int r = 0;

    for (size_t i = 0; i < ELEMENTSOF(passed) && r >= 0; i++) {
        const char *v = getenv(passed[i]);
        if (v)
            r = env_add(env, n, passed[i], v);
        else if (streq(passed[i], "PATH"))
            r = env_add(env, n, "PATH", default_path);
    }
    if (r >= 0)
        r = env_add(env, n, "HOME", home);
    for (size_t i = 0; i < e->opts.n_build_env && r >= 0; i++) {
        const char *kv = e->opts.build_env[i], *eq = strchr(kv, '=');
        _cleanup_free_ char *name = eq ? strndup(kv, (size_t) (eq - kv)) : NULL;
        if (name)
            r = env_add(env, n, name, eq + 1);
    }
    return r;
}

static char **
build_env(struct engine *e, struct run *run, const struct queue_row *q)
{
    _cleanup_free_ char *jurl = job_url(e->root_url, run->job->name);
    char **env = calloc(1, sizeof *env), num[32], exe[16], tag[BOUND_JOB_NAME_BYTES + 64];
    char disp[40], url[BOUND_URL_BYTES + 64], wstmp[4096];
    size_t n = 0;
    int r = 0;

    if (!env || !jurl)
        goto fail;
    r = base_env(e, run->workspace, &env, &n);
    snprintf(num, sizeof num, "%lld", (long long) run->number);
    snprintf(disp, sizeof disp, "#%lld", (long long) run->number);
    snprintf(exe, sizeof exe, "%d", e->slots[run->executor].number);
    snprintf(tag, sizeof tag, "jenkins-%s-%lld", run->job->name, (long long) run->number);
    snprintf(url, sizeof url, "%s%lld/", jurl, (long long) run->number);
    snprintf(wstmp, sizeof wstmp, "%s@tmp", run->workspace);

    const char *pairs[][2] = {
        { "BUILD_NUMBER", num },       { "BUILD_ID", num },
        { "BUILD_DISPLAY_NAME", disp }, { "BUILD_TAG", tag },
        { "BUILD_URL", url },          { "JOB_NAME", run->job->name },
        { "JOB_BASE_NAME", run->job->name }, { "JOB_URL", jurl },
        { "JENKINS_URL", e->root_url }, { "HUDSON_URL", e->root_url },
        { "JENKINS_HOME", e->home->root }, { "WORKSPACE", run->workspace },
        { "WORKSPACE_TMP", wstmp },
        { "NODE_NAME", run->agent ? agents_run_node(run) : "built-in" },
        { "NODE_LABELS", run->agent ? agents_run_labels(run) : "built-in" },
        { "EXECUTOR_NUMBER", exe },
        { "CI", "true" },
    };
    for (size_t i = 0; i < ELEMENTSOF(pairs) && r >= 0; i++)
        r = env_add(&env, &n, pairs[i][0], pairs[i][1]);
    if (r >= 0) {
        char cookie[64];
        build_cookie(e, run->job->name, run->number, cookie);
        r = env_add(&env, &n, "STEWARD_BUILD_COOKIE", strchr(cookie, '=') + 1);
    }
    /* a GitLab hook's variables (gitlab*), as the gitlab plugin sets them */
    for (size_t i = 0; i < q->n_causes && r >= 0; i++)
        if (q->causes[i].kind == CAUSE_GITLAB && q->causes[i].note)
            r = add_gitlab_env(&env, &n, q->causes[i].note);
    /* parameters reach the build as environment variables, never as script text */
    for (size_t i = 0; i < q->n_params && r >= 0; i++)
        r = env_add(&env, &n, q->params[i].name, param_env_value(&q->params[i]));
    if (r < 0)
        goto fail;
    return env;
fail:
    env_free(env);
    return NULL;
}

/* epoll data of a run's mask pipe: the run's address with the low bit set */
#define MASK_TAG(run) ((void *) ((uintptr_t) (run) | 1))

/* A build with password parameters or bound credentials: its steps write through a mask. */
static int
start_masking(struct engine *e, struct run *run, const struct queue_row *q)
{
    _cleanup_free_ const char **values = calloc(BOUND_PARAMS + run->n_bind_secrets + 1,
                                                sizeof *values);
    struct epoll_event ev = { .events = EPOLLIN };
    size_t n = 0;
    int r;

    if (!values)
        return -ENOMEM;
    for (size_t i = 0; i < q->n_params && n < BOUND_PARAMS; i++)
        if (q->params[i].type == PARAM_PASSWORD && q->params[i].value[0])
            values[n++] = q->params[i].value;
    /* and every secret the Credentials Binding wrapper gives the steps */
    for (size_t i = 0; i < run->n_bind_secrets; i++)
        values[n++] = run->bind_secrets[i];
    if (n == 0)
        return 0;
    r = mask_new(run->logfd, values, n, &run->mask, &run->out_fd);
    if (r < 0)
        return r;
    ev.data.ptr = MASK_TAG(run);
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, mask_read_fd(run->mask), &ev) < 0)
        return -errno;
    return 0;
}

/* What the steps wrote so far goes into the log; `end`: what was held back too. */
void
pump_mask(struct run *run, bool end)
{
    if (!run->mask)
        return;
    if (mask_pump(run->mask) < 0)
        log_warn("build %s #%lld: a write of its masked output to the log failed",
                 run->job->name, (long long) run->number);
    if (end)
        mask_flush(run->mask);
}

/* Strings that held secrets: wiped, then freed. */
static void
strv_wipe_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i]) {
            secret_wipe(v[i], strlen(v[i]));
            free(v[i]);
        }
    free(v);
}

/* A step's private directory, with what is in it, gone. */
void
drop_private(char **dir)
{
    if (!*dir)
        return;
    (void) fs_rm_rf(*dir);
    free(*dir);
    *dir = NULL;
}

void
run_free(struct run *run)
{
    if (!run)
        return;
    mask_free(run->mask);
    drop_private(&run->cred_dir);
    drop_private(&run->bind_dir);
    strv_wipe_free(run->bind_env, run->n_bind_env);
    strv_wipe_free(run->bind_secrets, run->n_bind_secrets);
    if (run->pidfd >= 0)
        close(run->pidfd);
    if (run->logfd >= 0)
        close(run->logfd);
    if (run->archive_efd >= 0)
        close(run->archive_efd);
    free(run->archive_dest);
    junit_result_release(&run->junit);
    free(run->junit_globs);
    env_free(run->env);
    free(run->workspace);
    free(run->remote_ws_name);
    free(run->remote_root);
    if (run->git_report_local)
        (void) unlink(run->git_report_local);
    free(run->git_report_local);
    free(run->mirror);
    free(run->tmpdir);
    free(run->git_previous);
    free(run->git_previous_ok);
    jobcfg_free(run->cfg);
    job_unref(run->job);
    queue_row_release(&run->row);
    free(run);
}

static int
spawn_step(struct engine *e, struct run *run)
{
    return spawn_script(e, run, run->cfg->shell_steps[run->step], run->env, true);
}

/*
 * Starts `script` in the build's sandbox with `env`: a shell step (shown
 * in the log, run by /bin/sh -xe unless it has a #! line), or the Git
 * checkout (`shell_step` false: /bin/sh -e, which shows its own commands).
 */
int
spawn_script(struct engine *e, struct run *run, const char *script, char **env, bool shell_step)
{
    _cleanup_free_ char *name = NULL;
    struct sandbox_cmd cmd;
    struct spawn_req req;
    struct epoll_event ev = { .events = EPOLLIN };
    bool shebang = shell_step && startswith(script, "#!");
    int r;

    if (run->agent)
        return agents_spawn(e, run, script, env, shell_step);
    if (asprintf(&name, shell_step ? "steward%lld-%zu" : "steward%lld-git",
                 (long long) run->number, run->step) < 0)
        return -ENOMEM;
    r = sandbox_command(e->opts.sandbox, run->workspace, run->tmpdir,
                        shell_step ? NULL : run->cred_dir,
                        sandbox_network(e->opts.sandbox, run->job->cfg->network), name, script,
                        shebang ? NULL : "/bin/sh",
                        (const char *const[]){ shell_step ? "-xe" : "-e", NULL }, &cmd);
    if (r < 0)
        return r;
    if (shebang)
        run_log(run->logfd, "[%s] $ %s\n", run->job->name, cmd.script);
    else if (shell_step)
        run_log(run->logfd, "[%s] $ /bin/sh -xe %s\n", run->job->name, cmd.script);
    req = (struct spawn_req){ .path = cmd.argv[0], .argv = cmd.argv, .envp = env,
                              .cwd = run->workspace, .out_fd = run->out_fd };
    r = sandbox_spawn(&cmd, &req, &run->pid, &run->pidfd);
    sandbox_cmd_done(&cmd);
    if (r < 0)
        return r;
    ev.data.ptr = run;
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, run->pidfd, &ev) < 0)
        return -errno;
    return 0;
}

/*
 * The parts of the job Steward does not run (core/support.h), said in the
 * console: at the start, those that fail the build (`failing`) or, when
 * none does, the triggers, properties and settings that are not run.
 */
static void
log_unsupported(struct run *run, bool failing)
{
    struct unsupported u;
    size_t pos = 0;

    if (failing)
        run_log(run->logfd, "ERROR: Steward does not run these parts of the job, so the build "
                              "fails before its first step:\n");
    while (jobcfg_next_unsupported(run->cfg, &pos, &u)) {
        if (failing && u.verdict == SUPPORT_FAILS)
            run_log(run->logfd, "  %s: %s\n", u.element, u.note);
        else if (!failing && !streq(u.slot, "publishers"))
            run_log(run->logfd, "note: %s is not run by Steward: %s\n", u.element, u.note);
    }
    if (failing)
        run_log(run->logfd, "Remove or replace them on the job's configure page or in its "
                              "config.xml; docs/COMPAT.md lists what Steward runs.\n");
}

/* The post-build actions Steward does not run, after those it ran. */
static void
log_skipped_publishers(struct run *run)
{
    struct unsupported u;
    size_t pos = 0;

    while (run->cfg && jobcfg_next_unsupported(run->cfg, &pos, &u))
        if (streq(u.slot, "publishers"))
            run_log(run->logfd, "skipped: %s (not supported by Steward)\n", u.name);
}

/* The build is over: its result is recorded and its executor freed. */
static void
end_run(struct engine *e, struct run *run)
{
    const char *result;
    int64_t duration;
    int r;

    drop_pending_uploads(e, run);
    if (run->logfd >= 0)
        log_skipped_publishers(run);
    /* the downstream builds first: a properties file they read must not be cleaned away */
    trigger_downstream(e, run);
    /* the Workspace Cleanup publisher last, as the plugin runs after the build is finalized */
    cleanup_after_build(e, run);
    if (run->mirror && to_trash(e, run->mirror) >= 0)
        empty_trash(e);
    result = run->result;

    /*
     * Whole milliseconds of the elapsed microseconds: the difference of two
     * clocks already rounded to the millisecond can be one more, and then
     * start_ms + duration passes the start of the build that follows.
     */
    duration = (mono_us() - run->start_mono_us) / 1000;
    run_log(run->logfd, "Finished: %s\n", result);
    r = record_result(e, run, duration, !run->forget_waiter);
    if (r < 0) {
        log_error("build %s #%lld: cannot record the result yet (%s); trying again every "
                  "second", run->job->name, (long long) run->number, strerror(-r));
        keep_unrecorded(e, run, duration);
    }
    e->runs[run->executor] = NULL;
    agents_report_slot(e, run->executor);
    /* an item waiting for this executor's node may start now */
    queue_look_again(e);
    if (run->forget_waiter) {
        bool others = false;
        for (int i = 0; i < e->n_slots; i++)
            if (e->runs[i] && e->runs[i]->forget_waiter == run->forget_waiter)
                others = true;
        if (!others) {
            struct cmd *c = run->forget_waiter;
            int fr = store_job_forget(e->db, c->job);
            engine_answer(e, c, fr);
        }
    }
    run_free(run);
}

/* The steps are over with `result`: the publishers run, then the build ends. */
void
finish_run(struct engine *e, struct run *run, const char *result)
{
    if (run->pid > 0) {
        char cookie[64];

        /*
         * Before archiving, nothing may write anymore: the process group,
         * and what left it. In the sandbox, what left the group is still in
         * the step's PID namespace, which the SIGKILL of its init ends: no
         * search of /proc (a read of every process's environment) then.
         */
        (void) spawn_signal_group(run->pid, SIGKILL);
        if (run->agent || !sandbox_on(e->opts.sandbox)) {
            build_cookie(e, run->job->name, run->number, cookie);
            (void) spawn_kill_by_env(cookie);
        }
        run->pid = 0;
    }
    drop_private(&run->cred_dir);
    /* the bound files live as long as the build's steps */
    drop_private(&run->bind_dir);
    run->result = result;
    /* on a node: the files the publishers read come back first */
    if (run->agent && !run->fetched && run->logfd >= 0 && publish_wanted(run, result)) {
        run->fetched = true;
        if (agents_fetch(e, run) == 0) {
            run->fetching = true;
            return;
        }
        run->fetch_failed = true;
        run->result = "FAILURE";
    }
    if (run->logfd >= 0 && run->workspace && !run->fetch_failed && start_archiving(e, run))
        return;
    end_run(e, run);
}

void
start_failed(struct engine *e, struct run *run, int err)
{
    if (run->logfd >= 0)
        run_log(run->logfd, "Steward could not start the build step: %s\n", strerror(-err));
    finish_run(e, run, "FAILURE");
}

static int
write_log_header(struct sandbox *sb, struct run *run, const struct queue_row *q)
{
    int r = 0;

    for (size_t i = 0; r >= 0 && i < q->n_causes; i++) {
        const struct cause *c = &q->causes[i];
        if (c->kind == CAUSE_TIMER)
            r = run_log(run->logfd, "Started by timer\n");
        else if (c->kind == CAUSE_SCM)
            r = run_log(run->logfd, "Started by an SCM change\n");
        else if (c->kind == CAUSE_COMMIT)
            r = run_log(run->logfd, "commit notification %s (from %s)\n", c->note ? c->note : "",
                          c->addr ? c->addr : "an unknown address");
        else if (c->kind == CAUSE_GITHUB)
            r = run_log(run->logfd, "Started by GitHub push by %s\n",
                          c->user_name ? c->user_name : "");
        else if (c->kind == CAUSE_GITLAB)
            r = run_log(run->logfd, "%s\n", c->addr ? c->addr : "Started by GitLab push");
        else if (c->kind == CAUSE_UPSTREAM)
            r = run_log(run->logfd, "Started by upstream project \"%s\" build number %lld\n",
                          c->addr ? c->addr : "",
                          (long long) (c->note ? strtoll(c->note, NULL, 10) : 0));
        else if (c->kind == CAUSE_REMOTE)
            r = run_log(run->logfd, "Started by remote host %s%s%s\n", c->addr ? c->addr : "",
                          c->note ? " with note: " : "", c->note ? c->note : "");
        else if (c->token_name)
            r = run_log(run->logfd, "Started by user %s (API token \"%s\")\n",
                          c->user_name ? c->user_name : "anonymous", c->token_name);
        else
            r = run_log(run->logfd, "Started by user %s\n",
                          c->user_name ? c->user_name : "anonymous");
    }
    if (r >= 0)
        r = run_log(run->logfd, "Running as SYSTEM\n");
    if (r >= 0 && run->agent)
        /* the sandbox there is the node's: its steps say how they run */
        return run_log(run->logfd, "Building remotely on %s (%s) in workspace %s\n",
                       agents_run_node(run), agents_run_labels(run), run->workspace);
    if (r >= 0 && sandbox_on(sb))
        r = run_log(run->logfd, "Building in a sandbox as %s, network %s\n", sandbox_user(sb),
                      sandbox_network(sb, run->job->cfg->network) == SANDBOX_NET_NONE ? "none"
                                                                                     : "host");
    else if (r >= 0)
        r = run_log(run->logfd, "Building without a sandbox, as %s (serve --no-sandbox)\n",
                      sandbox_user(sb));
    if (r >= 0)
        r = run_log(run->logfd, "Building in workspace %s\n", run->workspace);
    return r;
}

/* A directory of the build, made; its parents are made only when missing. */
static int
make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0)
        return 0;
    if (errno == EEXIST)
        return -EEXIST;
    return errno == ENOENT ? fs_mkdir_p(path, 0700) : -errno;
}

/* ---- timeouts and workspaces (build-timeout, ws-cleanup, WorkspaceList) ---- */

/* The value a build has for a parameter; NULL when it has none. */
const char *
run_param(const struct run *run, const char *name)
{
    for (size_t i = 0; i < run->row.n_params; i++)
        if (streq(run->row.params[i].name, name))
            return run->row.params[i].value;
    return NULL;
}

/* ---- starting a build ---- */

static void
config_slot_clear(struct config_slot *c)
{
    free(c->job);
    jobcfg_free(c->cfg);
    *c = (struct config_slot){};
}

void
config_cache_free(struct engine *e)
{
    for (size_t i = 0; i < CONFIG_CACHE_SLOTS; i++)
        config_slot_clear(&e->configs[i]);
}

/*
 * The steps as config.xml says now, for a build of `job`: from the cache
 * when the file is the one it was read from (struct job_ident), else read
 * and parsed, and kept without its document for the next build. What it
 * cannot tell apart is a file rewritten in place to the same size within
 * the same tick of the clock that stamps its times, where those times are
 * coarse, as the job registry cannot either.
 */
static int
read_build_config(struct engine *e, const char *job, struct job_config **ret_cfg, char **reterr)
{
    struct config_slot *c, *old = &e->configs[0];
    struct job_config *cfg = NULL;
    struct job_ident now, read;
    bool known = jobs_config_ident(e->jobs, job, &now) >= 0;
    int r;

    for (size_t i = 0; known && i < CONFIG_CACHE_SLOTS; i++) {
        c = &e->configs[i];
        if (c->job && streq(c->job, job) && job_ident_eq(&c->ident, &now)) {
            c->used = ++e->configs_used;
            *ret_cfg = jobcfg_ref(c->cfg);
            return 0;
        }
    }
    r = jobs_read_config_ident(e->jobs, job, &cfg, &read, reterr);
    if (r < 0)
        return r;
    jobcfg_drop_document(cfg);
    /* the trigger token in clear is no build's business: kept no longer than the parse */
    cfg->auth_token = secret_free(cfg->auth_token);
    *ret_cfg = cfg;
    /* the job's own slot, else an empty one, else the least recently used */
    for (size_t i = 0; i < CONFIG_CACHE_SLOTS; i++) {
        c = &e->configs[i];
        if (c->job && streq(c->job, job)) {
            old = c;
            break;
        }
        if (old->job && (!c->job || c->used < old->used))
            old = c;
    }
    config_slot_clear(old);
    old->job = strdup(job);
    if (!old->job)
        return 0;
    old->ident = read;
    old->cfg = jobcfg_ref(cfg);
    old->used = ++e->configs_used;
    return 0;
}

/* Starts a claimed build, its row on disk: log, workspace, environment, first step. */
void
launch_build(struct engine *e, struct run *run)
{
    const struct queue_row *q = &run->row;
    _cleanup_free_ char *dir = NULL, *logpath = NULL, *err = NULL;
    int r;

    run->claimed = false;
    run->uploads_pending = true;
    dir = home_build_dir(e->home, q->job, run->number);
    logpath = home_build_log(e->home, q->job, run->number);
    if (run->agent)
        (void) agents_assign_workspace(e, run);
    else
        (void) assign_workspace(e, run);
    if (!dir || !logpath || !run->workspace || !run->tmpdir) {
        start_failed(e, run, -ENOMEM);
        return;
    }
    /* a directory with this number belongs to no build of this database (a restore
     * of a backup taken while builds started): it goes, never mixed into the new log */
    if (make_dir(dir) == -EEXIST) {
        log_warn("build %s #%lld: a directory of that number was left from elsewhere; it "
                 "goes to the trash", q->job, (long long) run->number);
        (void) to_trash(e, dir);
        empty_trash(e);
        (void) fs_mkdir_p(dir, 0700);
    }
    run->logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    run->out_fd = run->logfd;
    r = run->logfd < 0 ? -errno : write_log_header(e->opts.sandbox, run, q);
    run->env = build_env(e, run, q);
    if (r >= 0 && !run->agent && sandbox_error(e->opts.sandbox)) {
        /* no step runs outside the sandbox it was meant for */
        run->abort_reason = "the build sandbox cannot be set up";
        run_log(run->logfd, "The build sandbox cannot be set up: %s.\nNo step runs. An "
                  "administrator fixes that, or starts the server with --no-sandbox "
                  "(docs/SECURITY.md says what that gives away).\n",
                  sandbox_error(e->opts.sandbox));
        finish_run(e, run, "FAILURE");
        return;
    }
    if (r >= 0 && !run->agent) {
        r = sandbox_prepare_dir(e->opts.sandbox, run->workspace);
        if (r >= 0)
            r = sandbox_prepare_dir(e->opts.sandbox, run->tmpdir);
        if (r < 0) {
            run->abort_reason = "the workspace cannot be prepared";
            run_log(run->logfd, "Cannot prepare the workspace %s for %s: %s\n", run->workspace,
                      sandbox_user(e->opts.sandbox), strerror(-r));
            finish_run(e, run, "FAILURE");
            return;
        }
    }
    if (r < 0) {
        /* no step runs whose output would be lost */
        run->abort_reason = log_failure_reason(r);
        log_error("build %s #%lld: %s: %s", q->job, (long long) run->number, run->abort_reason,
                  strerror(-r));
        finish_run(e, run, "FAILURE");
        return;
    }
    if (!run->env) {
        start_failed(e, run, -ENOMEM);
        return;
    }
    /* the steps as config.xml says now: a summary does not keep them */
    r = read_build_config(e, run->job->name, &run->cfg, &err);
    if (r < 0) {
        run->abort_reason = "config.xml cannot be read";
        run_log(run->logfd, "The job's config.xml cannot be read: %s\nNo step runs. Fix the "
                  "file, or save the job again from its configure page.\n",
                  err ? err : strerror(-r));
        finish_run(e, run, "FAILURE");
        return;
    }
    if (jobcfg_fails_unsupported(run->cfg)) {
        run->abort_reason = "the job has parts Steward does not run";
        log_unsupported(run, true);
        finish_run(e, run, "FAILURE");
        return;
    }
    log_unsupported(run, false);
    if (run->agent) {
        const char *part = agents_refuses(run);
        if (part) {
            run->abort_reason = "the job has parts that do not run on a node yet";
            run_log(run->logfd, "ERROR: %s does not run on a node yet (docs/NODES.md); no step "
                    "runs. Build the job on the built-in node (assignedNode built-in), or "
                    "leave that part out.\n", part);
            finish_run(e, run, "FAILURE");
            return;
        }
    }
    if (!wrappers_begin(e, run))
        return;
    /* the bound credentials, before any step: one that cannot be bound fails the build */
    r = bind_credentials(e, run);
    if (r == -EKEYREJECTED) {
        run->abort_reason = "a bound credential cannot be used";
        run_log(run->logfd, "No build step runs.\n");
        finish_run(e, run, "FAILURE");
        return;
    }
    /* the steps' output (the checkout's too) goes through the mask from here on */
    if (r >= 0)
        r = start_masking(e, run, q);
    if (r < 0) {
        start_failed(e, run, r);
        return;
    }
    run->steps_pending = true;
}

void
launch_steps(struct engine *e, struct run *run)
{
    int r;

    run->steps_pending = false;
    if (run->cfg->git) {
        r = start_checkout(e, run);
        if (r < 0)
            start_failed(e, run, r);
        return;
    }
    if (run->cfg->n_shell_steps == 0) {
        finish_run(e, run, "SUCCESS");
        return;
    }
    if (!steps_begin(e, run))
        return;
    r = spawn_step(e, run);
    if (r < 0)
        start_failed(e, run, r);
}

void
run_reap(struct engine *e, struct run *run)
{
    int status = 0;
    pid_t p;

    if (run->archiving) {
        archive_done(e, run);
        end_run(e, run);
        return;
    }
    p = waitpid(run->pid, &status, WNOHANG);
    if (p == 0)
        return;
    (void) epoll_ctl(e->epfd, EPOLL_CTL_DEL, run->pidfd, NULL);
    close(run->pidfd);
    run->pidfd = -1;
    /* the step's process group may still hold descendants: they go now */
    (void) spawn_signal_group(run->pid, SIGKILL);
    if (run->fetching) {
        run->fetching = false;
        run->pid = 0;
        agents_fetch_done(e, run, status);
        finish_run(e, run, run->result);
        return;
    }
    /* the checkout's credentials live as long as its step, whatever its end */
    drop_private(&run->cred_dir);
    /* all the step wrote is in the log before what the engine writes after it */
    pump_mask(run, true);

    if (run->aborting) {
        finish_run(e, run, run->timeout_result ? run->timeout_result : "ABORTED");
        return;
    }
    /* ssh's own failure: the session to the node could not start or was cut */
    if (run->agent && WIFEXITED(status) && WEXITSTATUS(status) == 255) {
        const char *why;
        agents_connection_lost(e, run);
        why = agents_lost_reason(run);
        run->abort_reason = "the connection to its node was lost";
        run_log(run->logfd, "ERROR: the connection to node '%s' was lost%s%s; the build "
                "fails. Steward does not know how far the step got.\n", agents_run_node(run),
                why ? ": " : "", why ? why : " (ssh ended with 255)");
        finish_run(e, run, "FAILURE");
        return;
    }
    if (log_disk_full(run->logfd)) {
        /* whatever the step said, its output may be lost: the build is not green */
        run->abort_reason = log_failure_reason(-ENOSPC);
        log_error("build %s #%lld: the disk of its log is full: marked FAILURE",
                  run->job->name, (long long) run->number);
        (void) run_log(run->logfd, "%s.\n", run->abort_reason);
        finish_run(e, run, "FAILURE");
        return;
    }
    if (run->checking_out && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        run->checking_out = false;
        run_log(run->logfd, "ERROR: the Git checkout failed; no build step runs.\n");
        finish_run(e, run, "FAILURE");
        return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        run_log(run->logfd, "Build step 'Execute shell' marked build as failure\n");
        finish_run(e, run, "FAILURE");
        return;
    }
    /* on a node, the checkout's report comes back first; then it ends as here */
    if (run->checking_out && run->agent && !run->git_report_local) {
        int fr = agents_fetch_report(e, run);
        if (fr < 0) {
            run_log(run->logfd, "ERROR: the Git checkout's report cannot be read from node "
                    "'%s': %s; no build step runs.\n", agents_run_node(run), strerror(-fr));
            finish_run(e, run, "FAILURE");
        }
        return;
    }
    if (run->checking_out) {
        if (!checkout_done(e, run))
            return;
    } else
        run->step++;
    if (run->step >= run->cfg->n_shell_steps) {
        finish_run(e, run, "SUCCESS");
        return;
    }
    int r = spawn_step(e, run);
    if (r < 0)
        start_failed(e, run, r);
}

struct run *
find_run(struct engine *e, const char *job, int64_t number)
{
    for (int i = 0; i < e->n_slots; i++)
        if (e->runs[i] && streq(e->runs[i]->job->name, job) && e->runs[i]->number == number)
            return e->runs[i];
    return NULL;
}

void
abort_run(struct engine *e, struct run *run, const char *by)
{
    if (run->aborting)
        return;
    run->aborting = true;
    run_log(run->logfd, "Aborted by %s\n", by ? by : "Steward");
    run->kill_at_mono = mono_ms() + e->opts.stop_grace_ms;
    /* on a node, the step's group there; its ssh session ends with it (not the fetch's) */
    if (run->pid > 0 && run->agent && !run->fetching)
        agents_signal(e, run, SIGTERM);
    else if (run->pid > 0)
        (void) spawn_signal_group(run->pid, SIGTERM);
    if (run->archiving)
        __atomic_store_n(&run->cancel_archive, true, __ATOMIC_RELAXED);
}
