/* SPDX-License-Identifier: MIT */
/*
 * SCM polls (core/poll.h): at most POLL_SLOTS at a time, each a step in
 * the sandbox; one that finds changes queues a build.
 */
#include "core/engine_int.h"

/* ---- SCM polling (core/poll.h) ---- */

#define POLL_TAG(p) ((void *) ((uintptr_t) (p) | 2))

/*
 * Asks for a poll of `job` (once, however often it is asked before it
 * starts); a build it finds gets a cause of `kind` (CAUSE_SCM or
 * CAUSE_GITHUB, by `user`).
 */
void
want_poll(struct engine *e, const char *job, enum cause_kind kind, const char *user)
{
    struct poll_want *v;
    char *copy, *ucopy = NULL;

    for (size_t i = 0; i < e->n_poll_wanted; i++)
        if (streq(e->poll_wanted[i].job, job))
            return;
    for (int i = 0; i < POLL_SLOTS; i++)
        if (e->polls[i] && streq(e->polls[i]->job, job))
            return;
    if (e->n_poll_wanted >= POLL_WANTED_MAX)
        return;
    copy = strdup(job);
    if (user)
        ucopy = strdup(user);
    v = copy && (!user || ucopy)
            ? realloc(e->poll_wanted, (e->n_poll_wanted + 1) * sizeof *v) : NULL;
    if (!v) {
        free(copy);
        free(ucopy);
        return;
    }
    e->poll_wanted = v;
    e->poll_wanted[e->n_poll_wanted++] = (struct poll_want){ copy, kind, ucopy };
}

void
poll_free(struct poll_run *p)
{
    if (!p)
        return;
    if (p->pidfd >= 0)
        close(p->pidfd);
    if (p->logfd >= 0)
        close(p->logfd);
    drop_private(&p->cred_dir);
    jobcfg_free(p->cfg);
    free(p->out);
    free(p->job);
    free(p->user);
    free(p);
}

/* Every parameter of the job at its default, as NAME=value strings (for ${PARAM} in specs). */
static char **
default_params(const struct job_config *cfg)
{
    char **v = calloc(cfg->n_params + 1, sizeof *v);

    for (size_t i = 0; v && i < cfg->n_params; i++) {
        _cleanup_free_ char *value = NULL;
        if (param_value_for(&cfg->params[i], NULL, &value) < 0 ||
            asprintf(&v[i], "%s=%s", cfg->params[i].name, value) < 0) {
            v[i] = NULL;
            env_free(v);
            return NULL;
        }
    }
    return v;
}

static int
start_poll(struct engine *e, struct poll_run *p, int slot)
{
    _cleanup_free_ char *ws = home_workspace(e->home, p->job), *dir = home_job_dir(e->home, p->job);
    _cleanup_free_ char *tmp = NULL, *logpath = NULL;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = POLL_TAG(p) };
    struct sandbox_cmd cmd;
    struct spawn_req req;
    char **env = NULL, when[64];
    size_t n = 0;
    time_t now = time(NULL);
    struct tm tm;
    int r;

    if (!ws || !dir || asprintf(&tmp, "%s@tmp", ws) < 0 || !(logpath = path_join(dir, POLL_LOG_FILE)))
        return -ENOMEM;
    p->logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (p->logfd < 0)
        return -errno;
    strftime(when, sizeof when, "%b %d, %Y, %-I:%M:%S %p", localtime_r(&now, &tm));
    run_log(p->logfd, "Started on %s\nPolling SCM changes on built-in\n", when);
    if (sandbox_error(e->opts.sandbox)) {
        run_log(p->logfd, "The build sandbox cannot be set up: %s\n",
                  sandbox_error(e->opts.sandbox));
        return -EPERM;
    }
    /* the job's @tmp, which builds have too: the poll never touches the workspace */
    r = sandbox_prepare_dir(e->opts.sandbox, tmp);
    p->out = r >= 0 ? path_join(tmp, "steward-poll-report") : NULL;
    if (r >= 0 && !p->out)
        r = -ENOMEM;
    /* as a build's: --build-env may hold a proxy, or git's url.insteadOf */
    r = r < 0 ? r : base_env(e, tmp, &env, &n);
    if (r >= 0)
        r = env_add(&env, &n, "STEWARD_POLL_OUT", p->out);
    if (r >= 0)
        r = git_checkout_vars(p->cfg->git, NULL, NULL, NULL, p->out, env_list_add,
                              &(struct env_list){ &env, &n });
    if (r >= 0) {
        char step[32];
        snprintf(step, sizeof step, "poll-%d", slot);
        r = step_credentials(e, p->cfg->git, step, &env, &n, p->logfd, &p->cred_dir, NULL);
    }
    if (r < 0) {
        env_free(env);
        return r;
    }
    r = sandbox_command(e->opts.sandbox, tmp, tmp, p->cred_dir,
                        sandbox_network(e->opts.sandbox, p->cfg->network),
                        "steward-poll", poll_script, "/bin/sh", (const char *const[]){ "-e", NULL },
                        &cmd);
    if (r >= 0) {
        req = (struct spawn_req){ .path = cmd.argv[0], .argv = cmd.argv, .envp = env,
                                  .cwd = tmp, .out_fd = p->logfd };
        r = sandbox_spawn(&cmd, &req, &p->pid, &p->pidfd);
        sandbox_cmd_done(&cmd);
    }
    env_free(env);
    if (r >= 0 && epoll_ctl(e->epfd, EPOLL_CTL_ADD, p->pidfd, &ev) < 0)
        r = -errno;
    p->start_mono = mono_ms();
    return r;
}

/* Starts what polls are wanted, as slots free up. */
void
start_polls(struct engine *e)
{
    for (int i = 0; i < POLL_SLOTS && e->n_poll_wanted > 0; i++) {
        struct poll_run *p;
        _cleanup_free_ char *err = NULL;
        int r;

        if (e->polls[i])
            continue;
        p = calloc(1, sizeof *p);
        if (!p)
            return;
        p->job = e->poll_wanted[0].job;
        p->kind = e->poll_wanted[0].kind;
        p->user = e->poll_wanted[0].user;
        memmove(e->poll_wanted, e->poll_wanted + 1, --e->n_poll_wanted * sizeof *e->poll_wanted);
        p->pidfd = p->logfd = -1;
        /* a job deleted, changed or without Git since: nothing to poll */
        if (jobs_read_config(e->jobs, p->job, &p->cfg, &err) < 0 || !p->cfg->git) {
            poll_free(p);
            continue;
        }
        r = start_poll(e, p, i);
        if (r < 0) {
            /* a credential that cannot be used has said so already */
            if (p->logfd >= 0 && r == -EKEYREJECTED)
                run_log(p->logfd, "No changes\n");
            else if (p->logfd >= 0)
                run_log(p->logfd, "ERROR: polling could not start: %s\nNo changes\n",
                          strerror(-r));
            log_warn("%s: SCM polling could not start: %s", p->job, strerror(-r));
            if (p->pid > 0)
                (void) spawn_signal_group(p->pid, SIGKILL);
            poll_free(p);
            continue;
        }
        e->polls[i] = p;
    }
}

/* The job's poll ended: a build when the remotes have changes. */
static void
poll_done(struct engine *e, struct poll_run *p, int status)
{
    struct cause scm = { .kind = p->kind, .user_name = p->user, .count = 1 };
    _cleanup_(buf_releasep) struct buf log = BUF_INIT(1 << 20);
    _cleanup_free_ char *text = NULL, *previous = NULL;
    char **params = NULL;
    bool changed = false, has_builds = false;
    size_t len = 0;
    int r = -EIO;

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        params = default_params(p->cfg);
        r = params ? git_report_take(p->out, &text, &len) : -ENOMEM;
        if (r >= 0)
            r = git_previous_lines(e, p->job, INT64_MAX, &previous, NULL, &has_builds);
        if (r >= 0)
            r = poll_decide(p->cfg->git, text, (const char *const *) params, previous,
                            has_builds, &log, &changed);
        env_free(params);
    }
    if (r < 0)
        run_log(p->logfd, "ERROR: polling failed%s%s\n", r == -EIO ? "" : ": ",
                  r == -EIO ? "" : strerror(-r));
    if (log.len)
        (void) fs_write_all(p->logfd, log.ptr, log.len);
    run_log(p->logfd, "Done. Took %lld ms\n%s\n", (long long) (mono_ms() - p->start_mono),
              changed ? "Changes found" : "No changes");
    if (changed && !p->cfg->disabled) {
        struct param_value *values = calloc(p->cfg->n_params ? p->cfg->n_params : 1,
                                            sizeof *values);
        if (values && params_defaults(p->cfg, values) >= 0) {
            struct trigger t = { .job = p->job, .params = values, .n_params = p->cfg->n_params,
                                 .cause = &scm, .delay_ms = -1 };
            struct cmd c = { .type = CMD_TRIGGER, .trigger = &t }, *batch[] = { &c };
            handle_triggers(e, batch, 1);
            for (size_t i = 0; i < p->cfg->n_params; i++)
                free(values[i].value);
        }
        free(values);
    }
}

void
reap_poll(struct engine *e, struct poll_run *p)
{
    int status = 0;

    if (waitpid(p->pid, &status, WNOHANG) == 0)
        return;
    (void) epoll_ctl(e->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
    (void) spawn_signal_group(p->pid, SIGKILL);
    drop_private(&p->cred_dir);
    poll_done(e, p, status);
    for (int i = 0; i < POLL_SLOTS; i++)
        if (e->polls[i] == p)
            e->polls[i] = NULL;
    poll_free(p);
}

/* A poll past its deadline is killed (its reap follows); at a stop, every one is. */
void
kill_polls(struct engine *e, bool all)
{
    for (int i = 0; i < POLL_SLOTS; i++)
        if (e->polls[i] && e->polls[i]->pid > 0 &&
            (all || mono_ms() - e->polls[i]->start_mono > POLL_DEADLINE_MS))
            (void) spawn_signal_group(e->polls[i]->pid, SIGKILL);
}
