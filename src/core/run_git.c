/* SPDX-License-Identifier: MIT */
/*
 * The Git checkout, run as a step of its own before the build steps, and
 * what it learns (the revisions built) for the build's record.
 */
#include "core/engine_int.h"

/* ---- the Git checkout (core/git.h) ---- */

/* How many earlier builds a checkout looks back at for the previous revisions. */
#define GIT_LOOK_BACK 50

/*
 * "BRANCH SHA" of the newest earlier build of each branch, into
 * run->git_previous, and the same of successful builds into
 * run->git_previous_ok.
 */
int
git_previous_lines(struct engine *e, const char *job, int64_t before, char **ret_all,
                   char **ret_ok, bool *ret_has_builds)
{
    _cleanup_(buf_releasep) struct buf all = BUF_INIT(GIT_LOOK_BACK * 512);
    _cleanup_(buf_releasep) struct buf ok = BUF_INIT(GIT_LOOK_BACK * 512);
    struct build_row *rows = NULL;
    size_t n = 0;
    int r;

    r = store_build_list(e->db, job, 0, GIT_LOOK_BACK + 1, &rows, &n);
    if (r < 0)
        return r;
    if (ret_has_builds)
        *ret_has_builds = false;
    for (size_t i = 0; i < n && r >= 0; i++) {
        _cleanup_free_ char *dir = NULL, *line = NULL;
        char sha[41], branch[256];

        if (rows[i].number >= before)
            continue;
        if (ret_has_builds)
            *ret_has_builds = true;
        dir = home_build_dir(e->home, job, rows[i].number);
        if (!dir || git_build_head(dir, sha, branch, sizeof branch) < 0)
            continue;
        if (asprintf(&line, "%s %s\n", branch, sha) < 0)
            line = NULL;
        if (!line) {
            r = -ENOMEM;
            break;
        }
        /* the newest build of a branch comes first, and is the one the script takes */
        if (buf_puts(&all, line) < 0 ||
            (rows[i].result && streq(rows[i].result, "SUCCESS") && buf_puts(&ok, line) < 0))
            r = -ENOMEM;
    }
    build_rows_free(rows, n);
    if (r < 0)
        return r;
    *ret_all = buf_detach(&all);
    if (ret_ok)
        *ret_ok = buf_detach(&ok);
    return *ret_all && (!ret_ok || *ret_ok) ? 0 : -ENOMEM;
}

int
git_previous(struct engine *e, struct run *run)
{
    return git_previous_lines(e, run->job->name, run->number, &run->git_previous,
                              &run->git_previous_ok, NULL);
}

int
env_list_add(void *userdata, const char *name, const char *value)
{
    struct env_list *l = userdata;

    return env_add(l->env, l->n, name, value);
}

size_t
env_count(char **env)
{
    size_t n = 0;

    while (env[n])
        n++;
    return n;
}

/*
 * The Git credentials of a checkout or poll step `name` ("build-0",
 * "poll-1"): their files in a private directory given to the build user
 * (*ret_dir; NULL when no remote needs one), their variables in `env`.
 * 0, -EKEYREJECTED after saying why in `logfd`, or -errno.
 */
int
step_credentials(struct engine *e, const struct git_scm *g, const char *name, char ***env,
                 size_t *n, int logfd, char **ret_dir, const char *step_dir)
{
    _cleanup_free_ char *parent = path_join(e->home->root, CRED_DIRS);
    _cleanup_free_ char *known = path_join(e->home->root, GIT_KNOWN_HOSTS_FILE);
    _cleanup_free_ char *dir = NULL, *why = NULL;
    _cleanup_(buf_releasep) struct buf notes = BUF_INIT(64 * 1024);
    int r;

    *ret_dir = NULL;
    if (!parent || !known || !(dir = path_join(parent, name)))
        return -ENOMEM;
    r = fs_mkdir_p(parent, 0700);
    if (r < 0)
        return r;
    (void) fs_rm_rf(dir);
    /* where the step sees the files: the sandbox's private path, or a node's (agents.c) */
    r = git_creds_prepare(e->home, e->db, g, dir,
                          step_dir ? step_dir : sandbox_private_path(e->opts.sandbox, dir),
                          known, env_list_add, &(struct env_list){ env, n }, &notes, &why);
    if (notes.len)
        (void) fs_write_all(logfd, notes.ptr, notes.len);
    if (r == -EKEYREJECTED)
        run_log(logfd, "ERROR: %s\n", why);
    if (r > 0)
        r = sandbox_prepare_dir(e->opts.sandbox, dir) < 0 ? -EIO : 1;
    if (r <= 0) {
        (void) fs_rm_rf(dir);
        return r;
    }
    *ret_dir = TAKE_PTR(dir);
    return 0;
}

/* Whether a build variable would steer git or the credentials: the checkout leaves it out. */
static bool
steers_git(const char *kv)
{
    static const char *const prefixes[] = { "STEWARD_GIT_", "STEWARD_ASKPASS_", "STEWARD_SSH_",
                                            "GIT_SSH", "GIT_ASKPASS=", "SSH_ASKPASS" };

    for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
        if (startswith(kv, prefixes[i]))
            return true;
    return false;
}

/* Starts the checkout step: run->env and the checkout's own inputs. */
int
start_checkout(struct engine *e, struct run *run)
{
    const struct git_scm *g = run->cfg->git;
    _cleanup_free_ char *script = NULL, *report = NULL, *gitlab_sha = NULL, *node_dir = NULL;
    const char *sha1 = NULL;
    char **env = NULL, step[32];
    size_t n = 0;
    int r;

    /* the credentials first: one that cannot be used fails the build before git runs */
    snprintf(step, sizeof step, "build-%d", run->executor);
    if (run->agent) {
        /* on a node: git must be there, and the credentials go with the step (agents_spawn()) */
        const char *why = agents_checkout_refused(run);
        if (why) {
            run->abort_reason = "the Git checkout cannot run on its node";
            run_log(run->logfd, "ERROR: %s; no build step runs.\n", why);
            finish_run(e, run, "FAILURE");
            return 0;
        }
        node_dir = agents_private_dir(e, run);
        if (!node_dir)
            return -ENOMEM;
    }
    r = step_credentials(e, g, step, &env, &n, run->logfd, &run->cred_dir, node_dir);
    if (r == -EKEYREJECTED) {
        env_free(env);
        run->abort_reason = "a Git credential cannot be used";
        run_log(run->logfd, "ERROR: the Git checkout did not start; no build step runs.\n");
        finish_run(e, run, "FAILURE");
        return 0;
    }
    if (r >= 0)
        r = git_previous(e, run);
    report = path_join(run->tmpdir, "steward-git-report");
    if (r >= 0 && !report)
        r = -ENOMEM;
    if (r >= 0)
        r = git_checkout_script(g, &script);
    /* the build's environment, then the checkout's */
    for (size_t i = 0; r >= 0 && run->env[i]; i++) {
        const char *eq = strchr(run->env[i], '=');
        _cleanup_free_ char *name = NULL;

        if (steers_git(run->env[i]))
            continue;
        name = strndup(run->env[i], (size_t) (eq - run->env[i]));
        r = name ? env_add(&env, &n, name, eq + 1) : -ENOMEM;
    }
    /* a commit notification names the commit to build; the newest wins */
    for (size_t i = 0; i < run->row.n_causes; i++) {
        const struct cause *c = &run->row.causes[i];
        if (c->kind == CAUSE_COMMIT && c->note)
            sha1 = c->note;
        else if (c->kind == CAUSE_GITLAB && c->note && c->note[0] && c->note[0] != '\n') {
            free(gitlab_sha);
            gitlab_sha = strndup(c->note, strcspn(c->note, "\n"));
            sha1 = gitlab_sha;
        }
    }
    if (r >= 0)
        r = git_checkout_vars(g, (const char *const *) run->env, sha1, run->git_previous, report,
                              env_list_add, &(struct env_list){ &env, &n });
    if (r >= 0) {
        run->checking_out = true;
        r = spawn_script(e, run, script, env, false);
    }
    env_free(env);
    return r;
}

/*
 * The checkout step ended well: its report is kept in the build's
 * directory, and the steps get the git plugin's variables. false after
 * finishing the build as a failure.
 */
bool
checkout_done(struct engine *e, struct run *run)
{
    const struct git_scm *g = run->cfg->git;
    /* on a node, the report was fetched into the build's directory (agents_fetch_report()) */
    _cleanup_free_ char *report = run->git_report_local ? strdup(run->git_report_local)
                                                        : path_join(run->tmpdir, "steward-git-report");
    _cleanup_free_ char *text = NULL, *kept = NULL, *dir = NULL, *path = NULL;
    struct git_build b = { 0 };
    size_t len = 0, kept_len = 0, n = env_count(run->env);
    char key[32];
    const char *prev = NULL, *prev_ok = NULL;
    int r;

    run->checking_out = false;
    r = report ? git_report_take(report, &text, &len) : -ENOMEM;
    if (r >= 0)
        r = git_report_finish(g, text, len, &kept, &kept_len);
    dir = home_build_dir(e->home, run->job->name, run->number);
    path = dir ? path_join(dir, GIT_REPORT_FILE) : NULL;
    if (r >= 0 && !path)
        r = -ENOMEM;
    if (r >= 0)
        r = fs_write_atomic(path, kept, kept_len, 0644);
    if (r >= 0) {
        r = git_build_parse(kept, kept_len, &b);
        if (r >= 0)
            kept = NULL;   /* the build's text now */
    }
    if (r < 0) {
        run_log(run->logfd, "ERROR: the Git checkout left no report Steward can read: %s\n",
                  strerror(-r));
        finish_run(e, run, "FAILURE");
        return false;
    }
    /* the previous revisions of the branch built */
    for (const char *p = run->git_previous; p && *p; p = strchr(p, '\n') + 1) {
        size_t bl = strlen(b.branch);
        if (strncmp(p, b.branch, bl) == 0 && p[bl] == ' ') {
            prev = p + bl + 1;
            break;
        }
    }
    for (const char *p = run->git_previous_ok; p && *p; p = strchr(p, '\n') + 1) {
        size_t bl = strlen(b.branch);
        if (strncmp(p, b.branch, bl) == 0 && p[bl] == ' ') {
            prev_ok = p + bl + 1;
            break;
        }
    }
    r = env_add(&run->env, &n, "GIT_COMMIT", b.sha);
    if (r >= 0 && !streq(b.branch, "detached"))
        r = env_add(&run->env, &n, "GIT_BRANCH", b.branch);
    if (r >= 0)
        r = env_add(&run->env, &n, "GIT_URL", g->remotes[0].url);
    for (size_t i = 0; r >= 0 && g->n_remotes > 1 && i < g->n_remotes; i++) {
        snprintf(key, sizeof key, "GIT_URL_%zu", i + 1);
        r = env_add(&run->env, &n, key, g->remotes[i].url);
    }
    if (r >= 0 && prev) {
        char sha[41];
        snprintf(sha, sizeof sha, "%.40s", prev);
        r = env_add(&run->env, &n, "GIT_PREVIOUS_COMMIT", sha);
    }
    if (r >= 0 && prev_ok) {
        char sha[41];
        snprintf(sha, sizeof sha, "%.40s", prev_ok);
        r = env_add(&run->env, &n, "GIT_PREVIOUS_SUCCESSFUL_COMMIT", sha);
    }
    if (r >= 0 && g->local_branch_set) {
        const char *lb = g->local_branch && *g->local_branch && !streq(g->local_branch, "**")
                             ? g->local_branch
                             : (strchr(b.branch, '/') ? strchr(b.branch, '/') + 1 : b.branch);
        r = env_add(&run->env, &n, "GIT_LOCAL_BRANCH", lb);
    }
    if (r >= 0 && g->relative_dir)
        r = env_add(&run->env, &n, "GIT_CHECKOUT_DIR", g->relative_dir);
    if (r >= 0 && g->user_name) {
        r = env_add(&run->env, &n, "GIT_AUTHOR_NAME", g->user_name);
        if (r >= 0)
            r = env_add(&run->env, &n, "GIT_COMMITTER_NAME", g->user_name);
    }
    if (r >= 0 && g->user_email) {
        r = env_add(&run->env, &n, "GIT_AUTHOR_EMAIL", g->user_email);
        if (r >= 0)
            r = env_add(&run->env, &n, "GIT_COMMITTER_EMAIL", g->user_email);
    }
    git_build_release(&b);
    if (r < 0) {
        start_failed(e, run, r);
        return false;
    }
    return steps_begin(e, run);
}
