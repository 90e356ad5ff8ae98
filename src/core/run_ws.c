/* SPDX-License-Identifier: MIT */
/*
 * Workspaces (NAME, NAME@2, custom ones) and the wrappers around the
 * steps: Workspace Cleanup before and after, the wipe-out of a workspace.
 */
#include "core/engine_int.h"

/* Whether a build other than `self` works in `path` now. */
static bool
workspace_in_use(struct engine *e, const struct run *self, const char *path)
{
    for (int i = 0; i < e->n_slots; i++)
        if (e->runs[i] && e->runs[i] != self && e->runs[i]->workspace &&
            streq(e->runs[i]->workspace, path))
            return true;
    return false;
}

/*
 * The build's workspace and its @tmp, as Jenkins' WorkspaceList hands them
 * out: the job's workspace, or NAME@2, NAME@3... while builds running at
 * the same time hold the others. A custom workspace is everyone's who asks
 * for it, concurrent builds included (AbstractBuild.decideWorkspace gives
 * it a dummy lease). A custom workspace that cannot be used leaves
 * run->ws_refused for wrappers_begin() to fail the build with, once the
 * log is open; the build is set up in the job's own workspace meanwhile.
 */
int
assign_workspace(struct engine *e, struct run *run)
{
    const char *custom = run->job->cfg->custom_workspace, *why = NULL;
    _cleanup_free_ char *base = NULL;
    int r;

    r = workspace_base(e->home, e->jobs, run->job->name, custom, &base, &why);
    if (r == -EINVAL) {
        run->ws_refused = why;
        custom = NULL;
        r = workspace_base(e->home, NULL, run->job->name, NULL, &base, &why);
    }
    if (r < 0)
        return r;
    if (custom)
        run->workspace = TAKE_PTR(base);
    for (int n = 1; !run->workspace; n++) {
        char *path = n == 1 ? strdup(base) : strdup_printf("%s@%d", base, n);
        if (!path)
            return -ENOMEM;
        if (workspace_in_use(e, run, path))
            free(path);
        else
            run->workspace = path;
    }
    if (asprintf(&run->tmpdir, "%s@tmp", run->workspace) < 0) {
        run->tmpdir = NULL;
        return -ENOMEM;
    }
    return 0;
}

/*
 * Takes `path` out of the workspaces at once, into the trash (emptied on a
 * thread); where it cannot be moved there, deletes it here, through
 * descriptors that never follow a link. A missing path is fine. 0 or -errno.
 */
static int
wipe_dir(struct engine *e, const char *path)
{
    int r = trash_rename(e, path);

    if (r == 0) {
        empty_trash(e);
        return 0;
    }
    if (r == -ENOENT)
        return 0;
    return workspace_rm_at(AT_FDCWD, path);
}

/*
 * The Workspace Cleanup plugin, before the build (`before`) or after it:
 * the whole workspace goes, or what the patterns say. 0, or -errno when
 * something could not be deleted (logged).
 */
static int
clean_workspace(struct engine *e, struct run *run, const struct ws_cleanup *c, bool before)
{
    size_t deleted = 0;
    int r;

    if (c->parameter) {
        const char *v = run_param(run, c->parameter);
        if (!v || strcasecmp(v, "true") != 0) {
            run_log(run->logfd, "[WS-CLEANUP] Skipped: the parameter %s is not true\n",
                      c->parameter);
            return 0;
        }
    }
    run_log(run->logfd, "[WS-CLEANUP] Deleting project workspace...\n");
    if (c->external)
        run_log(run->logfd, "[WS-CLEANUP] The external deletion command is not run: Steward "
                  "deletes the files itself\n");
    if (c->n_patterns == 0 && workspace_in_use(e, run, run->workspace)) {
        /* a custom workspace another build works in keeps its directory (and mount) */
        r = workspace_clean(run->workspace, NULL, 0, true, &deleted);
    } else if (c->n_patterns == 0) {
        r = wipe_dir(e, run->workspace);
        /* the steps still need their workspace */
        if (r >= 0 && before)
            r = sandbox_prepare_dir(e->opts.sandbox, run->workspace);
    } else {
        /* NEEDSWORK: on the engine thread; a huge workspace holds up the queue meanwhile */
        r = workspace_clean(run->workspace, c->patterns, c->n_patterns, c->delete_dirs, &deleted);
    }
    if (r < 0)
        run_log(run->logfd, "[WS-CLEANUP] Cannot delete workspace: %s\n", strerror(-r));
    else
        run_log(run->logfd, "[WS-CLEANUP] done\n");
    return r;
}

/*
 * What the build wrappers do before the first step (after the config is
 * read): the custom workspace's check, the timeout, the pre-build
 * cleanup. False when the build was failed here (finish_run() was called).
 */
bool
wrappers_begin(struct engine *e, struct run *run)
{
    if (run->ws_refused) {
        run->abort_reason = "the custom workspace cannot be used";
        run_log(run->logfd, "ERROR: the custom workspace %s cannot be used: %s. No step "
                  "runs; change <customWorkspace>.\n",
                  run->job->cfg->custom_workspace ? run->job->cfg->custom_workspace : "",
                  run->ws_refused);
        finish_run(e, run, "FAILURE");
        return false;
    }
    if (timeout_arm(e, run) < 0) {
        finish_run(e, run, "FAILURE");
        return false;
    }
    if (run->cfg->pre_cleanup && clean_workspace(e, run, run->cfg->pre_cleanup, true) < 0) {
        run->abort_reason = "the workspace cannot be cleaned up";
        finish_run(e, run, "FAILURE");
        return false;
    }
    return true;
}

/* The WsCleanup publisher, last of the publishers, when the result asks for it. */
void
cleanup_after_build(struct engine *e, struct run *run)
{
    static const char *const results[_WS_WHEN_MAX] = {
        [WS_WHEN_SUCCESS] = "SUCCESS", [WS_WHEN_UNSTABLE] = "UNSTABLE",
        [WS_WHEN_FAILURE] = "FAILURE", [WS_WHEN_NOT_BUILT] = "NOT_BUILT",
        [WS_WHEN_ABORTED] = "ABORTED",
    };
    const struct ws_cleanup *c = run->cfg ? run->cfg->post_cleanup : NULL;
    bool when = false;

    if (!c || !run->workspace || run->logfd < 0 || !run->result || run->ws_refused)
        return;
    for (size_t i = 0; i < _WS_WHEN_MAX; i++)
        if (streq(run->result, results[i]))
            when = c->when[i];
    if (!when) {
        run_log(run->logfd, "[WS-CLEANUP] Skipped based on build state %s\n", run->result);
        return;
    }
    if (clean_workspace(e, run, c, false) < 0 && !c->not_fail_build &&
        (streq(run->result, "SUCCESS") || streq(run->result, "UNSTABLE")))
        run->result = "FAILURE";
}

/* "NAME@2"... for `base` "NAME": a workspace of a concurrent build. */
static bool
is_numbered(const char *name, const char *base)
{
    size_t n = strlen(base);

    return strncmp(name, base, n) == 0 && name[n] == '@' && name[n + 1] &&
           strspn(name + n + 1, "0123456789") == strlen(name + n + 1);
}

/* CMD_WIPE: see engine_wipe_workspace(). */
int
wipe_workspace(struct engine *e, const char *name)
{
    _cleanup_(job_unrefp) struct job *job = jobs_get(e->jobs, name);
    _cleanup_free_ char *base = NULL;
    const char *why = NULL, *base_name;
    DIR *d;
    int r;

    if (!job)
        return -ENOENT;
    r = workspace_base(e->home, e->jobs, job->name, job->cfg->custom_workspace, &base, &why);
    if (r < 0)
        return r;
    for (int i = 0; i < e->n_slots; i++) {
        const char *ws = e->runs[i] ? e->runs[i]->workspace : NULL;
        if (ws && (streq(ws, base) || is_numbered(ws, base)))
            return -EBUSY;
    }
    r = wipe_dir(e, base);
    base_name = strrchr(base, '/') + 1;
    d = opendir(e->home->workspace_dir);
    for (struct dirent *de; d && (de = readdir(d));) {
        _cleanup_free_ char *path = NULL;
        int k;

        if (!is_numbered(de->d_name, base_name))
            continue;
        path = path_join(e->home->workspace_dir, de->d_name);
        k = path ? wipe_dir(e, path) : -ENOMEM;
        if (k < 0 && r >= 0)
            r = k;
    }
    if (d)
        closedir(d);
    return r;
}
