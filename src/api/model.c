/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/upload.h"
#include "api/model.h"
#include "api/tree.h"
#include "core/archive.h"
#include "core/chain.h"
#include "core/git.h"
#include "core/health.h"
#include "core/label.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/strutil.h"

int
model_init(struct model *m, const struct app *app, struct req *req)
{
    *m = (struct model){ .app = app, .req = req, .root = app_root_url(app, req) };
    return m->root ? 0 : -ENOMEM;
}

void
model_release(struct model *m)
{
    free(m->root);
    m->root = NULL;
    job_stats_rows_free(m->stats, m->n_stats);
    job_stats_rows_free(m->running, m->n_running);
    m->stats = m->running = NULL;
    m->n_stats = m->n_running = 0;
    m->colors_ready = false;
    m->all_builds_tree = tree_free(m->all_builds_tree);
    m->tree = tree_free(m->tree);
    m->tree_parsed = false;
    nodes_array_free(m->nodes, m->n_nodes);
    m->nodes = NULL;
    m->n_nodes = 0;
    m->nodes_read = false;
}

void
model_prepare_colors(struct model *m)
{
    if (m->colors_ready)
        return;
    if (store_job_stats_list(m->req->db, SIZE_MAX, &m->stats, &m->n_stats) < 0)
        return;
    if (store_job_running_list(m->req->db, &m->running, &m->n_running) < 0) {
        job_stats_rows_free(m->stats, m->n_stats);
        m->stats = NULL;
        m->n_stats = 0;
        return;
    }
    m->colors_ready = true;
}

static const struct job_stats_row *
find_row(const struct job_stats_row *rows, size_t n, const char *job)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rows[mid].job, job);

        if (c == 0)
            return &rows[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static json_t *
jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
jurl(struct model *m, const char *job, int64_t number)
{
    _cleanup_free_ char *u = job_url(m->root, job);
    json_t *v;

    if (!u)
        return NULL;
    if (number <= 0)
        return json_string(u);
    v = json_sprintf("%s%lld/", u, (long long) number);
    return v;
}

static const char *
result_color(const char *result)
{
    if (!result)
        return "notbuilt";
    if (streq(result, "SUCCESS"))
        return "blue";
    if (streq(result, "UNSTABLE"))
        return "yellow";
    if (streq(result, "FAILURE"))
        return "red";
    if (streq(result, "ABORTED"))
        return "aborted";
    return "notbuilt";
}

const char *
job_color(struct model *m, const struct job *job)
{
    static const char *const anime[] = { "blue_anime", "yellow_anime", "red_anime",
                                         "aborted_anime", "notbuilt_anime", "disabled_anime" };
    struct build_row *rows = NULL;
    size_t n = 0;
    const char *base;
    bool building;

    if (m->colors_ready) {
        /* as Jenkins: the last completed build's color, moving while a newer one runs */
        const struct job_stats_row *done = find_row(m->stats, m->n_stats, job->name);
        const struct job_stats_row *run = find_row(m->running, m->n_running, job->name);

        building = run && (!done || run->last_number > done->last_number);
        base = job->cfg->disabled ? "disabled"
               : done             ? result_color(done->last_result)
                                  : "notbuilt";
        goto anime;
    }
    if (store_build_list(m->req->db, job->name, 0, 2, &rows, &n) < 0 || n == 0) {
        build_rows_free(rows, n);
        return job->cfg->disabled ? "disabled" : "notbuilt";
    }
    building = rows[0].result == NULL;
    if (job->cfg->disabled)
        base = "disabled";
    else if (!building)
        base = result_color(rows[0].result);
    else
        base = n > 1 ? result_color(rows[1].result) : "notbuilt";
    build_rows_free(rows, n);
anime:
    if (!building)
        return base;
    for (size_t i = 0; i < sizeof anime / sizeof *anime; i++)
        if (strncmp(anime[i], base, strlen(base)) == 0 && anime[i][strlen(base)] == '_')
            return anime[i];
    return "notbuilt_anime";
}

json_t *
model_job_summary(struct model *m, const struct job *job)
{
    return json_pack("{s:s, s:s, s:o, s:s}", "_class", "hudson.model.FreeStyleProject", "name",
                     job->name, "url", jurl(m, job->name, 0), "color", job_color(m, job));
}

json_t *
model_build_ref(struct model *m, const char *job, int64_t number)
{
    return json_pack("{s:s, s:I, s:o}", "_class", "hudson.model.FreeStyleBuild", "number",
                     (json_int_t) number, "url", jurl(m, job, number));
}

/*
 * Whether a nested object should come out whole rather than as a summary:
 * when depth= reaches it, or when tree= selects fields inside it
 * ("lastBuild[result]"), which Jenkins can answer since it prunes a full
 * model. Only the objects a request names are built whole.
 */
static bool
wants_detail(struct model *m, const char *field, int depth)
{
    const char *tree = req_param(m->req, "tree");
    size_t len = strlen(field);

    if (depth >= 1)
        return true;
    for (const char *p = tree; p && (p = strstr(p, field)); p += len)
        if ((p == tree || p[-1] == ',' || p[-1] == '[') && p[len] == '[')
            return true;
    return false;
}

static json_t *
permalink(struct model *m, const struct job *job, const char *which, int depth)
{
    struct build_row b = { 0 };
    json_t *v;
    int64_t n;

    if (store_build_permalink(m->req->db, job->name, which, &n) < 0)
        return json_null();
    if (!wants_detail(m, which, depth) || store_build_get(m->req->db, job->name, n, &b) < 0)
        return model_build_ref(m, job->name, n);
    v = model_build(m, job, &b, depth - 1);
    build_row_release(&b);
    return v ? v : json_null();
}

static const char *
param_value_class(int type)
{
    switch (type) {
    case PARAM_BOOLEAN:
        return "hudson.model.BooleanParameterValue";
    case PARAM_TEXT:
        return "hudson.model.TextParameterValue";
    case PARAM_PASSWORD:
        return "hudson.model.PasswordParameterValue";
    case PARAM_FILE:
        return "hudson.model.FileParameterValue";
    case PARAM_CHOICE:
    case PARAM_STRING:
    default:
        return "hudson.model.StringParameterValue";
    }
}

static json_t *
param_value_json(const char *name, int type, const char *value)
{
    json_t *o = json_pack("{s:s, s:s}", "_class", param_value_class(type), "name", name);

    if (!o)
        return NULL;
    if (type == PARAM_BOOLEAN)
        json_object_set_new(o, "value", json_boolean(value && streq(value, "true")));
    else if (type == PARAM_FILE) /* the file's name, as the build's variable has it */
        json_object_set_new(o, "value", json_string(upload_shown_name(value)));
    else if (type != PARAM_PASSWORD) /* password values are never exported */
        json_object_set_new(o, "value", json_string(value ? value : ""));
    return o;
}

static json_t *
params_action(const struct queue_row *q)
{
    json_t *a = json_array();

    for (size_t i = 0; i < q->n_params; i++)
        json_array_append_new(a, param_value_json(q->params[i].name, q->params[i].type,
                                                  q->params[i].value));
    return json_pack("{s:s, s:o}", "_class", "hudson.model.ParametersAction", "parameters", a);
}

static json_t *jtext(const char *s);

static json_t *
cause_json(const struct cause *c)
{
    json_t *o;

    if (c->kind == CAUSE_TIMER) {
        o = json_pack("{s:s, s:s}", "_class", "hudson.triggers.TimerTrigger$TimerTriggerCause",
                      "shortDescription", "Started by timer");
    } else if (c->kind == CAUSE_SCM) {
        o = json_pack("{s:s, s:s}", "_class", "hudson.triggers.SCMTrigger$SCMTriggerCause",
                      "shortDescription", "Started by an SCM change");
    } else if (c->kind == CAUSE_GITHUB) {
        o = json_pack("{s:s, s:o}", "_class", "com.cloudbees.jenkins.GitHubPushCause",
                      "shortDescription",
                      json_sprintf("Started by GitHub push by %s", c->user_name ? c->user_name : ""));
    } else if (c->kind == CAUSE_GITLAB) {
        o = json_pack("{s:s, s:o}", "_class", "com.dabsquared.gitlabjenkins.cause.GitLabWebHookCause",
                      "shortDescription", jtext(c->addr ? c->addr : "Started by GitLab push"));
    } else if (c->kind == CAUSE_COMMIT) {
        o = json_pack("{s:s, s:o}", "_class", "hudson.plugins.git.GitStatus$CommitHookCause",
                      "shortDescription",
                      json_sprintf("commit notification %s", c->note ? c->note : ""));
    } else if (c->kind == CAUSE_UPSTREAM) {
        /* the note's first line is the upstream build's number */
        json_int_t n = c->note ? strtoll(c->note, NULL, 10) : 0;
        const char *up = c->addr ? c->addr : "";
        struct buf u = BUF_INIT(BOUND_JOB_NAME_BYTES * 3 + 8);

        (void) buf_puts(&u, "job/");
        (void) url_encode(&u, up);
        (void) buf_putc(&u, '/');
        o = json_pack("{s:s, s:o, s:I, s:s, s:s}", "_class", "hudson.model.Cause$UpstreamCause",
                      "shortDescription",
                      json_sprintf("Started by upstream project \"%s\" build number %lld", up,
                                   (long long) n),
                      "upstreamBuild", n, "upstreamProject", up, "upstreamUrl", buf_str(&u));
        buf_release(&u);
    } else if (c->kind == CAUSE_REMOTE) {
        o = json_pack("{s:s, s:o, s:s, s:o}", "_class", "hudson.model.Cause$RemoteCause",
                      "shortDescription",
                      c->note ? json_sprintf("Started by remote host %s with note: %s",
                                             c->addr ? c->addr : "", c->note)
                              : json_sprintf("Started by remote host %s", c->addr ? c->addr : ""),
                      "addr", c->addr ? c->addr : "", "note", jstr_or_null(c->note));
    } else {
        o = json_pack("{s:s, s:o, s:o, s:s}", "_class", "hudson.model.Cause$UserIdCause",
                      "shortDescription",
                      json_sprintf("Started by user %s", c->user_name ? c->user_name : "anonymous"),
                      "userId", jstr_or_null(c->user_name), "userName",
                      c->user_name ? c->user_name : "anonymous");
        /* Steward's own field: which API token started it */
        if (o && c->token_name)
            json_object_set_new(o, "apiTokenName", json_string(c->token_name));
    }
    if (o && c->count > 1)
        json_object_set_new(o, "count", json_integer(c->count));
    return o;
}

static json_t *
cause_action(const struct queue_row *q)
{
    json_t *a = json_array();

    for (size_t i = 0; i < q->n_causes; i++) {
        /* Jenkins lists a merged cause once per occurrence */
        for (int64_t k = 0; k < (q->causes[i].count > 0 ? q->causes[i].count : 1) && k < 100; k++)
            json_array_append_new(a, cause_json(&q->causes[i]));
    }
    return json_pack("{s:s, s:o}", "_class", "hudson.model.CauseAction", "causes", a);
}

static json_t *
actions_json(const struct queue_row *q)
{
    json_t *a = json_array();

    if (q->n_params > 0)
        json_array_append_new(a, params_action(q));
    json_array_append_new(a, cause_action(q));
    return a;
}

static json_t *
param_defs_json(const struct job *job)
{
    json_t *defs = json_array();

    for (size_t i = 0; i < job->cfg->n_params; i++) {
        const struct param_def *d = &job->cfg->params[i];
        const char *type = param_type_to_string(d->type);
        const char *dflt = d->type == PARAM_CHOICE ? (d->n_choices ? d->choices[0] : "")
                                                   : d->default_value;
        json_t *o = json_pack("{s:o, s:o, s:o, s:s, s:s}", "_class",
                              json_sprintf("hudson.model.%s", type), "defaultParameterValue",
                              param_value_json(d->name, d->type, dflt), "description",
                              jstr_or_null(d->description), "name", d->name, "type", type);
        if (o && d->type == PARAM_CHOICE) {
            json_t *c = json_array();
            for (size_t k = 0; k < d->n_choices; k++)
                json_array_append_new(c, json_string(d->choices[k]));
            json_object_set_new(o, "choices", c);
        }
        json_array_append_new(defs, o);
    }
    return json_pack("{s:s, s:o}", "_class", "hudson.model.ParametersDefinitionProperty",
                     "parameterDefinitions", defs);
}

static json_t *
health_report(struct model *m, const struct job *job)
{
    struct health h[2];
    json_t *a = json_array();
    size_t n = 0;

    if (health_of_job(m->req->db, job->name, h, &n) < 0)
        return a;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i}", "description", h[i].description,
                                           "iconClassName", h[i].icon_class, "iconUrl",
                                           h[i].icon_url, "score", h[i].score));
    return a;
}

static json_t *
queue_item_of_job(struct model *m, const struct job *job)
{
    struct queue_row *rows = NULL;
    size_t n = 0;
    json_t *v;

    if (store_queue_list_waiting(m->req->db, job->name, &rows, &n) < 0 || n == 0) {
        queue_rows_free(rows, n);
        return json_null();
    }
    v = model_queue_item(m, &rows[0]);
    queue_rows_free(rows, n);
    return v ? v : json_null();
}

/*
 * Steward's own: the parts of the job it does not run, each with what
 * that does to a build ("fails" or "skipped") and what to do instead.
 */
static json_t *
unsupported_json(const struct job_config *cfg)
{
    json_t *a = json_array();
    struct unsupported u;
    size_t pos = 0;

    while (a && jobcfg_next_unsupported(cfg, &pos, &u))
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "element", u.element, "effect",
                                           support_to_string(u.verdict), "note", u.note));
    return a;
}

static json_t *all_builds_json(struct model *m, const struct job *job);
/* upstreamProjects or downstreamProjects: the jobs of its chain, as job summaries. */
static json_t *
chain_json(struct model *m, const struct job *job, bool downstream)
{
    struct job **list = NULL;
    size_t n = 0;
    json_t *a = json_array();

    if (!a || chain_neighbours(m->app->jobs, job, downstream, &list, &n) < 0)
        return a;
    for (size_t i = 0; i < n; i++)
        if (app_may(m->req, PERM_JOB_READ, list[i]))
            json_array_append_new(a, model_job_summary(m, list[i]));
    jobs_list_free(list, n);
    return a;
}

/*
 * Whether the answer's tree= keeps its top-level `field`: true without a
 * tree= (or with one that does not parse: the filter answers 400 later).
 * A model that is the whole answer leaves out what it would not keep, and
 * so does not read it.
 */
static bool
model_wants(struct model *m, const char *field)
{
    const char *expr = req_param(m->req, "tree");
    size_t from, to;

    if (!expr)
        return true;
    if (!m->tree_parsed) {
        m->tree_parsed = true;
        if (tree_parse(expr, &m->tree, NULL) < 0)
            m->tree = NULL;
    }
    return !m->tree || tree_field_range(m->tree, field, &from, &to);
}

json_t *
model_job(struct model *m, const struct job *job, int depth, bool whole_answer)
{
    struct build_row *rows = NULL;
    size_t n = 0;
    int64_t next = 1;
    json_t *o, *builds = json_array(), *props = json_array(), *actions = json_array(), *qi;
    /* what a tree= of this answer leaves out is not read: W("name") */
#define W(field) (!whole_answer || model_wants(m, field))

    if (W("nextBuildNumber"))
        (void) store_build_next_number(m->req->db, job->name, &next);
    if (W("builds") && store_build_list(m->req->db, job->name, 0, 100, &rows, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(builds, wants_detail(m, "builds", depth)
                                              ? model_build(m, job, &rows[i], depth - 1)
                                              : model_build_ref(m, job->name, rows[i].number));
        build_rows_free(rows, n);
    }
    if (job->cfg->n_params > 0) {
        json_array_append_new(props, param_defs_json(job));
        json_array_append_new(actions, param_defs_json(job));
    }
    qi = W("queueItem") || W("inQueue") ? queue_item_of_job(m, job) : json_null();
    o = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:s, s:b, s:b}",
                  "_class", "hudson.model.FreeStyleProject", "actions", actions, "description",
                  jstr_or_null(job->cfg->description), "displayName", job->name,
                  "displayNameOrNull", "", "fullDisplayName", job->name, "fullName", job->name,
                  "name", job->name, "url", jurl(m, job->name, 0), "buildable",
                  !job->cfg->disabled && !jobcfg_fails_unsupported(job->cfg), "concurrentBuild", job->cfg->concurrent_build, "color",
                  W("color") ? job_color(m, job) : "notbuilt", "disabled", job->cfg->disabled, "inQueue",
                  !json_is_null(qi));
    if (!o) {
        json_decref(builds);
        json_decref(props);
        json_decref(qi);
        return NULL;
    }
    json_object_set_new(o, "displayNameOrNull", json_null());
    json_object_set_new(o, "builds", builds);
    /* in the order the answer has always had */
    static const char *const links[] = { "firstBuild",         "lastBuild",
                                         "lastCompletedBuild", "lastFailedBuild",
                                         "lastStableBuild",    "lastSuccessfulBuild",
                                         "lastUnstableBuild",  "lastUnsuccessfulBuild" };
    for (size_t i = 0; i < ELEMENTSOF(links); i++) {
        json_object_set_new(o, links[i],
                            W(links[i]) ? permalink(m, job, links[i], depth) : json_null());
        if (i == 0) {
            json_object_set_new(o, "healthReport",
                                W("healthReport") ? health_report(m, job) : json_array());
            json_object_set_new(o, "keepDependencies", json_false());
        }
    }
    json_object_set_new(o, "nextBuildNumber", json_integer(next));
    json_object_set_new(o, "property", props);
    json_object_set_new(o, "queueItem", qi);
    json_object_set_new(o, "labelExpression", json_null());
    json_object_set_new(o, "scm", json_pack("{s:s}", "_class", job->cfg->git_urls
                                                                ? "hudson.plugins.git.GitSCM"
                                                                : "hudson.scm.NullSCM"));
    json_object_set_new(o, "upstreamProjects",
                        W("upstreamProjects") ? chain_json(m, job, false) : json_array());
    json_object_set_new(o, "downstreamProjects",
                        W("downstreamProjects") ? chain_json(m, job, true) : json_array());
    json_object_set_new(o, "unsupported", unsupported_json(job->cfg));
    /*
     * allBuilds is hidden from depth in Jenkins; it shows only when tree=
     * names it. As compact JSON model_write_all_builds() writes it.
     */
    if (req_param(m->req, "tree") && strstr(req_param(m->req, "tree"), "allBuilds"))
        json_object_set_new(o, "allBuilds", m->all_builds_as_text && m->all_builds_job == job
                                                ? json_array()
                                                : all_builds_json(m, job));
    return o;
#undef W
}

/*
 * The build's archived artifacts, as Jenkins lists them (at most 1000).
 * None once the row says they were discarded: the files go to the trash
 * only after that commit, and a reader of the newer build's result must
 * not find them listed meanwhile.
 */
static json_t *
artifacts_json(struct model *m, const struct job *job, const struct build_row *b)
{
    _cleanup_free_ char *dir = b->archived ? home_build_dir(m->app->home, job->name, b->number)
                                           : NULL;
    _cleanup_free_ char *archive = dir ? path_join(dir, "archive") : NULL;
    struct artifact *list = NULL;
    size_t n = 0;
    json_t *a = json_array();

    if (!archive || archive_list(archive, 1000, &list, &n) < 0)
        return a;
    for (size_t i = 0; i < n; i++) {
        const char *slash = strrchr(list[i].relative_path, '/');
        const char *file = slash ? slash + 1 : list[i].relative_path;
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "displayPath", file, "fileName",
                                           file, "relativePath", list[i].relative_path));
    }
    artifacts_free(list, n);
    return a;
}

/* Text from a repository, which need not be UTF-8: as it is when it is, else its ASCII with '?'. */
static json_t *
jtext(const char *s)
{
    _cleanup_free_ char *copy = NULL;

    if (utf8_is_valid(s, strlen(s)))
        return json_string(s);
    copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char) *p >= 0x80)
            *p = '?';
    return json_string(copy);
}

/* A hudson.plugins.git.Revision: the commit and the branch it was built from. */
static json_t *
git_revision(const struct git_build *g)
{
    json_t *branches = json_array();

    if (!streq(g->branch, "detached"))
        json_array_append_new(branches, json_pack("{s:s, s:o}", "SHA1", g->sha, "name",
                                                  jtext(g->branch)));
    return json_pack("{s:s, s:o}", "SHA1", g->sha, "branch", branches);
}

/*
 * What a Git build adds to its JSON, as the git plugin shows it: a
 * BuildData action, and the change set since the branch's previous build.
 */
static void
git_build_json(struct model *m, const struct job *job, const struct build_row *b, json_t *actions,
               json_t *build)
{
    _cleanup_free_ char *dir = home_build_dir(m->app->home, job->name, b->number);
    struct git_build g;
    json_t *urls, *by_branch, *items;

    if (!dir || git_build_load(dir, &g) < 0)
        return;
    urls = json_array();
    for (size_t i = 0; i < g.n_remotes; i++)
        json_array_append_new(urls, jtext(g.remote_urls[i]));
    by_branch = json_object();
    if (!streq(g.branch, "detached"))
        json_object_set_new(by_branch, g.branch,
                            json_pack("{s:s, s:I, s:n, s:o, s:o}", "_class",
                                      "hudson.plugins.git.util.Build", "buildNumber",
                                      (json_int_t) b->number, "buildResult", "marked",
                                      git_revision(&g), "revision", git_revision(&g)));
    json_array_append_new(actions, json_pack("{s:s, s:o, s:o, s:o, s:o}", "_class",
                                             "hudson.plugins.git.util.BuildData",
                                             "buildsByBranchName", by_branch, "lastBuiltRevision",
                                             git_revision(&g), "remoteUrls", urls, "scmName",
                                             jtext(g.scm_name)));
    items = json_array();
    for (size_t i = 0; i < g.n_changes; i++) {
        const struct git_change *c = &g.changes[i];
        json_t *paths = json_array(), *affected = json_array();
        _cleanup_(buf_releasep) struct buf user = BUF_INIT(4096);

        for (size_t k = 0; k < c->n_paths; k++) {
            json_array_append_new(paths, json_pack("{s:s, s:o}", "editType", c->paths[k].edit,
                                                   "file", jtext(c->paths[k].file)));
            json_array_append_new(affected, jtext(c->paths[k].file));
        }
        (void) url_encode(&user, c->author);
        json_array_append_new(items, json_pack(
            "{s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:s}", "_class",
            "hudson.plugins.git.GitChangeSet", "affectedPaths", affected, "author",
            json_pack("{s:o, s:o}", "absoluteUrl", json_sprintf("%suser/%s", m->root, buf_str(&user)),
                      "fullName", jtext(c->author)),
            "timestamp", (json_int_t) c->timestamp_ms, "authorEmail", jtext(c->author_email),
            "comment", jtext(c->comment), "date", jtext(c->date), "msg", jtext(c->msg),
            "commitId", c->commit, "paths", paths, "msgAnnotated", jtext(c->msg), "id",
            c->commit));
    }
    json_object_set_new(build, "changeSet", json_pack("{s:s, s:o, s:s}", "_class",
                                                      "hudson.plugins.git.GitChangeSetList",
                                                      "items", items, "kind", "git"));
    git_build_release(&g);
}

/* Run.getDisplayName(): the one given, else "#N" (written into buf). */
static const char *
build_display_name(const struct build_row *b, char buf[static 24])
{
    if (b->display_name)
        return b->display_name;
    snprintf(buf, 24, "#%lld", (long long) b->number);
    return buf;
}

/*
 * What of a build costs more than its row: each is read only when the
 * answer shows it (allBuilds of a long history asks for a few fields).
 */
enum build_parts {
    PART_ACTIONS = 1 << 0,    /* its queue item's parameters and causes */
    PART_ARTIFACTS = 1 << 1,  /* a look into its archive */
    PART_GIT = 1 << 2,        /* the Git build's record: an action and the change set */
    PART_ALL = PART_ACTIONS | PART_ARTIFACTS | PART_GIT,
};

/* The JUnit publisher's action on a build that recorded tests. */
static void
test_action(struct model *m, const struct job *job, int64_t number, json_t *actions)
{
    struct test_summary t;

    if (store_tests_summary(m->req->db, job->name, number, &t) < 0)
        return;
    json_array_append_new(actions, json_pack("{s:s, s:I, s:I, s:I, s:s}", "_class",
                                             "hudson.tasks.junit.TestResultAction", "failCount",
                                             (json_int_t) t.failed, "skipCount",
                                             (json_int_t) t.skipped, "totalCount",
                                             (json_int_t) t.total, "urlName", "testReport"));
}

static json_t *
jtext_or_null(const char *s)
{
    return s ? jtext(s) : json_null();
}

static json_t *
case_json(const struct test_case_row *c, int64_t number)
{
    json_t *o = json_pack("{s:[], s:I, s:s, s:f, s:o, s:o, s:I, s:s, s:b, s:o, s:s, s:o, s:o}",
                          "testActions", "age",
                          (json_int_t) (c->failed_since ? number - c->failed_since + 1 : 0),
                          "className", c->class_name, "duration", c->duration, "errorDetails",
                          jtext_or_null(c->error_details), "errorStackTrace",
                          jtext_or_null(c->error_stack), "failedSince",
                          (json_int_t) c->failed_since, "name", c->name, "skipped",
                          streq(c->status, "SKIPPED"), "skippedMessage",
                          jtext_or_null(c->skipped_message), "status", c->status, "stderr",
                          jtext_or_null(c->stderr_text), "stdout", jtext_or_null(c->stdout_text));

    if (o)
        json_object_set_new(o, "_class", json_string("hudson.tasks.junit.CaseResult"));
    return o;
}

static json_t *
suite_json(const char *name)
{
    return json_pack("{s:s, s:[], s:f, s:[], s:[], s:n, s:s, s:n, s:n, s:n, s:n}", "_class",
                     "hudson.tasks.junit.SuiteResult", "cases", "duration", 0.0,
                     "enclosingBlockNames", "enclosingBlocks", "id", "name", name, "nodeId",
                     "stderr", "stdout", "timestamp");
}

json_t *
model_test_report(struct model *m, const struct job *job, int64_t number)
{
    struct test_case_row *rows = NULL;
    struct test_summary t;
    json_t *o, *suites, *suite = NULL, *cases = NULL;
    size_t n = 0;
    double suite_duration = 0;

    if (store_tests_summary(m->req->db, job->name, number, &t) < 0 ||
        store_tests_list(m->req->db, job->name, number, false, 0, MODEL_TEST_TEXT_BUDGET, &rows,
                         &n) < 0)
        return NULL;
    suites = json_array();
    for (size_t i = 0; suites && i < n; i++) {
        if (!suite || !streq(json_string_value(json_object_get(suite, "name")), rows[i].suite)) {
            if (suite)
                json_object_set_new(suite, "duration", json_real(suite_duration));
            suite = suite_json(rows[i].suite);
            if (!suite)
                break;
            json_array_append_new(suites, suite);
            cases = json_object_get(suite, "cases");
            suite_duration = 0;
        }
        suite_duration += rows[i].duration;
        json_array_append_new(cases, case_json(&rows[i], number));
    }
    if (suite)
        json_object_set_new(suite, "duration", json_real(suite_duration));
    test_case_rows_free(rows, n);
    o = json_pack("{s:s, s:[], s:f, s:b, s:I, s:I, s:I, s:o}", "_class",
                  "hudson.tasks.junit.TestResult", "testActions", "duration", t.duration, "empty",
                  t.total == 0, "failCount", (json_int_t) t.failed, "passCount",
                  (json_int_t) (t.total - t.failed - t.skipped), "skipCount",
                  (json_int_t) t.skipped, "suites", suites);
    return o;
}

static json_t *
build_json(struct model *m, const struct job *job, const struct build_row *b, unsigned parts,
           int64_t estimate)
{
    struct queue_row q = { 0 };
    json_t *o, *actions;
    bool building = b->result == NULL;
    int64_t duration = building ? 0 : b->duration_ms;
    char number[24];
    const char *name = build_display_name(b, number);

    if ((parts & PART_ACTIONS) && store_queue_get(m->req->db, b->queue_id, &q) == 0) {
        actions = actions_json(&q);
        queue_row_release(&q);
    } else
        actions = json_array();
    o = json_pack("{s:s, s:o, s:o, s:b, s:o, s:s, s:I, s:I, s:o, s:o, s:b, s:I, s:b, s:I, "
                  "s:o, s:I, s:o}",
                  "_class", "hudson.model.FreeStyleBuild", "actions", actions, "artifacts",
                  (parts & PART_ARTIFACTS) ? artifacts_json(m, job, b) : json_array(),
                  "building", building, "description", jstr_or_null(b->description),
                  "displayName", name, "duration", (json_int_t) duration,
                  "estimatedDuration", (json_int_t) estimate, "executor", json_null(),
                  "fullDisplayName", json_sprintf("%s %s", job->name, name),
                  "keepLog", b->keep_log, "number", (json_int_t) b->number, "inProgress",
                  building, "queueId", (json_int_t) b->queue_id, "result",
                  jstr_or_null(b->result), "timestamp", (json_int_t) b->start_ms, "url",
                  jurl(m, job->name, b->number));
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_sprintf("%lld", (long long) b->number));
    json_object_set_new(o, "builtOn", json_string(b->built_on ? b->built_on : ""));
    json_object_set_new(o, "changeSet", json_pack("{s:s, s:[], s:n}", "_class",
                                                  "hudson.scm.EmptyChangeLogSet", "items", "kind"));
    json_object_set_new(o, "culprits", json_array());
    if (job->cfg->git_urls && (parts & PART_GIT))
        git_build_json(m, job, b, actions, o);
    test_action(m, job, b->number, actions);
    if (building)
        json_object_set_new(o, "executor", json_pack("{s:s, s:i}", "_class", "hudson.model.Executor",
                                                     "number", b->executor));
    if (b->abort_reason)
        json_object_set_new(o, "abortReason", json_string(b->abort_reason));
    return o;
}

json_t *
model_build(struct model *m, const struct job *job, const struct build_row *b, int depth)
{
    (void) depth;
    return build_json(m, job, b, PART_ALL, store_build_estimated_duration(m->req->db, job->name));
}

/* ---- allBuilds: a job's whole history ---- */

/*
 * A build's fields in the order build_json() gives them. Those its row
 * holds are written as text; the others (and an executor asked with
 * fields inside) are made as JSON one at a time and kept as tree= says.
 */
enum build_field { F_CLASS, F_ACTIONS, F_ARTIFACTS, F_BUILDING, F_DESCRIPTION, F_DISPLAY_NAME,
                   F_DURATION, F_ESTIMATE, F_EXECUTOR, F_FULL_DISPLAY_NAME, F_KEEP_LOG, F_NUMBER,
                   F_IN_PROGRESS, F_QUEUE_ID, F_RESULT, F_TIMESTAMP, F_URL, F_ID, F_BUILT_ON,
                   F_CHANGE_SET, F_CULPRITS, F_ABORT_REASON, _F_MAX };

static const char *const build_fields[_F_MAX] = {
    "_class", "actions", "artifacts", "building", "description", "displayName", "duration",
    "estimatedDuration", "executor", "fullDisplayName", "keepLog", "number", "inProgress",
    "queueId", "result", "timestamp", "url", "id", "builtOn", "changeSet", "culprits",
    "abortReason",
};

/* Made as JSON, not from the row's text. */
static bool
field_is_json(int k, int selects)
{
    return k == F_ACTIONS || k == F_ARTIFACTS || k == F_CHANGE_SET || k == F_CULPRITS ||
           (k == F_EXECUTOR && selects == 2);
}

/* The parts of a build that tree= asks allBuilds for (all of them without a tree). */
static unsigned
all_builds_parts(const struct tree *t)
{
    unsigned parts = 0;

    if (!t)
        return PART_ALL;
    if (tree_field_selects(t, "allBuilds", "actions"))
        parts |= PART_ACTIONS | PART_GIT;
    if (tree_field_selects(t, "allBuilds", "artifacts"))
        parts |= PART_ARTIFACTS;
    if (tree_field_selects(t, "allBuilds", "changeSet"))
        parts |= PART_GIT;
    return parts;
}

bool
model_all_builds_as_text(struct model *m, const struct job *job, const char *format)
{
    const char *expr = req_param(m->req, "tree");

    m->all_builds_job = job;
    m->all_builds_as_text = false;
    /* a malformed tree= gets its 400 from the filter */
    if (!expr || !streq(format, "json") || req_param(m->req, "pretty") ||
        tree_parse(expr, &m->all_builds_tree, NULL) < 0)
        return false;
    m->all_builds_as_text = tree_field_range(m->all_builds_tree, "allBuilds", &m->all_from,
                                             &m->all_to);
    return m->all_builds_as_text;
}

struct all_builds {
    struct model *m;
    const struct job *job;
    struct buf *out;
    struct buf url;          /* the job's URL as a JSON string, without its closing quote */
    bool whole;              /* each build as build_json() makes it, then kept as tree= says */
    unsigned parts;          /* then: what build_json() reads */
    int selects[_F_MAX];     /* else: how tree= selects each field (tree_field_selects()) */
    int64_t estimate;
    size_t n;
};

static int
put_field(struct buf *out, bool *first, const char *name)
{
    int r = buf_puts(out, *first ? "\"" : ",\"");

    *first = false;
    r = r < 0 ? r : buf_puts(out, name);
    return r < 0 ? r : buf_puts(out, "\":");
}

static int
put_int(struct buf *out, int64_t v)
{
    return buf_printf(out, "%lld", (long long) v);
}

/* ---- a test report written as text (compact api/json) ---- */

/* A level of tree=: everything (no tree=, or a field with no tree of its own) or a node of it. */
struct sel {
    bool all;
    const struct tree_node *n;
};

/* Whether tree_apply() keeps `name` of an object at `s` ("_class" always), and the level inside. */
static bool
sel_field(struct sel s, const char *name, struct sel *inner)
{
    if (s.all || streq(name, "_class")) {
        *inner = (struct sel){ .all = true };
        return true;
    }
    *inner = (struct sel){ .n = tree_node_child(s.n, name) };
    return inner->n != NULL;
}

static void
sel_range(struct sel s, size_t *ret_from, size_t *ret_to)
{
    *ret_from = 0;
    *ret_to = SIZE_MAX;
    if (!s.all)
        tree_node_range(s.n, ret_from, ret_to);
}

/* A double as jansson writes it: "%.17g", ".0" when it would read as an integer, a short exponent. */
static int
put_real(struct buf *out, double d)
{
    char s[64], *e;
    int n;

    /* jansson has no value for them (json_real() refuses them) */
    if (!isfinite(d))
        return buf_puts(out, "null");
    n = snprintf(s, sizeof s, "%.17g", d);
    if (n < 0 || (size_t) n + 3 > sizeof s)
        return -EINVAL;
    if (!strchr(s, '.') && !strchr(s, 'e'))
        memcpy(s + n, ".0", 3);
    e = strchr(s, 'e');
    if (e) {
        char *start = e + 1, *end = start + 1;

        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start)
            memmove(start, end, strlen(end) + 1);
    }
    return buf_puts(out, s);
}

/* A string as jtext() makes it (null for NULL). */
static int
put_text(struct buf *out, const char *s)
{
    _cleanup_free_ char *copy = NULL;

    if (!s)
        return buf_puts(out, "null");
    if (utf8_is_valid(s, strlen(s)))
        return json_quote(out, s);
    copy = strdup(s);
    if (!copy)
        return -ENOMEM;
    for (char *p = copy; *p; p++)
        if ((unsigned char) *p >= 0x80)
            *p = '?';
    return json_quote(out, copy);
}

struct report_text {
    struct buf *out;
    int64_t number;
    struct sel top, suites, cases;
    bool want_suites, want_cases;
    size_t s_from, s_to, c_from, c_to;
    char *suite;             /* the suite being read (NULL before the first) */
    bool suite_shown, suite_first;
    size_t n_suites, n_shown_suites, n_cases, n_shown_cases;
    double suite_duration;
};

/* `name` of the object at `s` when tree= keeps it: its key written, true */
#define KEEP(s, name)                                                                      \
    (r >= 0 && sel_field((s), (name), &in) && (r = put_field(out, &first, (name))) >= 0)

/* case_json()'s fields, in its order */
static int
write_case(struct report_text *w, const struct test_case_row *c)
{
    struct buf *out = w->out;
    struct sel in;
    bool first = true;
    int r = buf_putc(out, '{');

    if (KEEP(w->cases, "testActions"))
        r = buf_puts(out, "[]");
    if (KEEP(w->cases, "age"))
        r = put_int(out, c->failed_since ? w->number - c->failed_since + 1 : 0);
    if (KEEP(w->cases, "className"))
        r = put_text(out, c->class_name);
    if (KEEP(w->cases, "duration"))
        r = put_real(out, c->duration);
    if (KEEP(w->cases, "errorDetails"))
        r = put_text(out, c->error_details);
    if (KEEP(w->cases, "errorStackTrace"))
        r = put_text(out, c->error_stack);
    if (KEEP(w->cases, "failedSince"))
        r = put_int(out, c->failed_since);
    if (KEEP(w->cases, "name"))
        r = put_text(out, c->name);
    if (KEEP(w->cases, "skipped"))
        r = buf_puts(out, streq(c->status, "SKIPPED") ? "true" : "false");
    if (KEEP(w->cases, "skippedMessage"))
        r = put_text(out, c->skipped_message);
    if (KEEP(w->cases, "status"))
        r = put_text(out, c->status);
    if (KEEP(w->cases, "stderr"))
        r = put_text(out, c->stderr_text);
    if (KEEP(w->cases, "stdout"))
        r = put_text(out, c->stdout_text);
    if (KEEP(w->cases, "_class"))
        r = buf_puts(out, "\"hudson.tasks.junit.CaseResult\"");
    return r < 0 ? r : buf_putc(out, '}');
}

/* suite_json()'s fields up to its cases */
static int
suite_begin(struct report_text *w, const char *name)
{
    struct buf *out = w->out;
    struct sel in;
    bool first = true;
    int r = 0;

    free(w->suite);
    w->suite = strdup(name);
    if (!w->suite)
        return -ENOMEM;
    w->suite_duration = 0;
    w->n_cases = w->n_shown_cases = 0;
    w->suite_shown = w->n_suites >= w->s_from && w->n_suites < w->s_to;
    w->n_suites++;
    if (!w->suite_shown)
        return 0;
    r = buf_puts(out, w->n_shown_suites++ ? ",{" : "{");
    if (KEEP(w->suites, "_class"))
        r = buf_puts(out, "\"hudson.tasks.junit.SuiteResult\"");
    if (KEEP(w->suites, "cases"))
        r = buf_putc(out, '[');
    w->suite_first = first;
    return r;
}

/* the rest of suite_json()'s fields, its duration the sum of its cases' */
static int
suite_end(struct report_text *w)
{
    static const char *const nulls[] = { "nodeId", "stderr", "stdout", "timestamp", NULL };
    struct buf *out = w->out;
    struct sel in;
    bool first = w->suite_first;
    int r = 0;

    if (!w->suite_shown)
        return 0;
    if (w->want_cases)
        r = buf_putc(out, ']');
    if (KEEP(w->suites, "duration"))
        r = put_real(out, w->suite_duration);
    if (KEEP(w->suites, "enclosingBlockNames"))
        r = buf_puts(out, "[]");
    if (KEEP(w->suites, "enclosingBlocks"))
        r = buf_puts(out, "[]");
    if (KEEP(w->suites, "id"))
        r = buf_puts(out, "null");
    if (KEEP(w->suites, "name"))
        r = put_text(out, w->suite);
    for (size_t i = 0; nulls[i]; i++)
        if (KEEP(w->suites, nulls[i]))
            r = buf_puts(out, "null");
    return r < 0 ? r : buf_putc(out, '}');
}

/* model_test_report()'s fields up to its suites */
static int
report_head(void *userdata, const struct test_summary *t)
{
    struct report_text *w = userdata;
    struct buf *out = w->out;
    struct sel in;
    bool first = true;
    int r = buf_putc(out, '{');

    if (KEEP(w->top, "_class"))
        r = buf_puts(out, "\"hudson.tasks.junit.TestResult\"");
    if (KEEP(w->top, "testActions"))
        r = buf_puts(out, "[]");
    if (KEEP(w->top, "duration"))
        r = put_real(out, t->duration);
    if (KEEP(w->top, "empty"))
        r = buf_puts(out, t->total == 0 ? "true" : "false");
    if (KEEP(w->top, "failCount"))
        r = put_int(out, t->failed);
    if (KEEP(w->top, "passCount"))
        r = put_int(out, t->total - t->failed - t->skipped);
    if (KEEP(w->top, "skipCount"))
        r = put_int(out, t->skipped);
    if (r < 0)
        return r;
    if (!w->want_suites) {
        r = buf_putc(out, '}');
        /* no case is read */
        return r < 0 ? r : 1;
    }
    r = put_field(out, &first, "suites");
    return r < 0 ? r : buf_putc(out, '[');
}

#undef KEEP

static int
report_case(void *userdata, const struct test_case_row *c)
{
    struct report_text *w = userdata;
    int r = 0;

    if (!w->suite || !streq(w->suite, c->suite)) {
        r = w->suite ? suite_end(w) : 0;
        r = r < 0 ? r : suite_begin(w, c->suite);
        if (r < 0)
            return r;
    }
    w->suite_duration += c->duration;
    if (w->suite_shown && w->want_cases && w->n_cases >= w->c_from && w->n_cases < w->c_to) {
        r = w->n_shown_cases++ ? buf_putc(w->out, ',') : 0;
        r = r < 0 ? r : write_case(w, c);
    }
    w->n_cases++;
    return r;
}

int
model_write_test_report(struct model *m, const struct job *job, int64_t number,
                        const struct tree *t, struct buf *out)
{
    struct report_text w = { .out = out, .number = number, .top = { .all = true } };
    int r;

    if (t)
        w.top = (struct sel){ .n = tree_top(t) };
    w.want_suites = sel_field(w.top, "suites", &w.suites);
    if (w.want_suites) {
        sel_range(w.suites, &w.s_from, &w.s_to);
        w.want_cases = sel_field(w.suites, "cases", &w.cases);
        if (w.want_cases)
            sel_range(w.cases, &w.c_from, &w.c_to);
    }
    r = store_tests_each(m->req->db, job->name, number, MODEL_TEST_TEXT_BUDGET, report_head,
                         report_case, &w);
    if (r >= 0 && w.want_suites) {
        r = w.suite ? suite_end(&w) : 0;
        r = r < 0 ? r : buf_puts(out, "]}");
    }
    free(w.suite);
    return r;
}

/* A field made as JSON, kept as tree= says. */
static int
write_json_field(struct all_builds *a, const struct build_row *b, int k)
{
    struct queue_row q = { 0 };
    json_t *v = NULL, *kept;
    int r;

    switch (k) {
    case F_ACTIONS:
        if (store_queue_get(a->m->req->db, b->queue_id, &q) == 0) {
            v = actions_json(&q);
            queue_row_release(&q);
        } else
            v = json_array();
        break;
    case F_ARTIFACTS:
        v = artifacts_json(a->m, a->job, b);
        break;
    case F_CHANGE_SET:
        v = json_pack("{s:s, s:[], s:n}", "_class", "hudson.scm.EmptyChangeLogSet", "items", "kind");
        break;
    case F_CULPRITS:
        v = json_array();
        break;
    default: /* F_EXECUTOR */
        v = b->result ? json_null()
                      : json_pack("{s:s, s:i}", "_class", "hudson.model.Executor", "number",
                                  b->executor);
        break;
    }
    kept = v ? tree_apply_inside(a->m->all_builds_tree, "allBuilds", build_fields[k], v) : NULL;
    json_decref(v);
    if (!kept)
        return -ENOMEM;
    r = api_append_json(a->out, kept);
    json_decref(kept);
    return r;
}

/* One build, its fields in build_json()'s order. */
static int
write_row(struct all_builds *a, const struct build_row *b)
{
    struct buf *out = a->out;
    bool first = true, building = b->result == NULL;
    char number[24];
    const char *name = build_display_name(b, number);
    int r = buf_putc(out, '{');

    for (int k = 0; r >= 0 && k < _F_MAX; k++) {
        if (!a->selects[k] || (k == F_ABORT_REASON && !b->abort_reason))
            continue;
        r = put_field(out, &first, build_fields[k]);
        if (r < 0)
            break;
        if (field_is_json(k, a->selects[k])) {
            r = write_json_field(a, b, k);
            continue;
        }
        switch (k) {
        case F_CLASS:
            r = buf_puts(out, "\"hudson.model.FreeStyleBuild\"");
            break;
        case F_BUILDING:
        case F_IN_PROGRESS:
            r = buf_puts(out, building ? "true" : "false");
            break;
        case F_DESCRIPTION:
            r = b->description ? json_quote(out, b->description) : buf_puts(out, "null");
            break;
        case F_DISPLAY_NAME:
            r = json_quote(out, name);
            break;
        case F_DURATION:
            r = put_int(out, building ? 0 : b->duration_ms);
            break;
        case F_ESTIMATE:
            r = put_int(out, a->estimate);
            break;
        case F_EXECUTOR:
            /* an object that tree= names without fields inside: its _class */
            r = buf_puts(out, building ? "{\"_class\":\"hudson.model.Executor\"}" : "null");
            break;
        case F_FULL_DISPLAY_NAME:
            r = json_quote(out, rfmt("%s %s", a->job->name, name));
            break;
        case F_KEEP_LOG:
            r = buf_puts(out, b->keep_log ? "true" : "false");
            break;
        case F_NUMBER:
            r = put_int(out, b->number);
            break;
        case F_QUEUE_ID:
            r = put_int(out, b->queue_id);
            break;
        case F_RESULT:
            r = b->result ? json_quote(out, b->result) : buf_puts(out, "null");
            break;
        case F_TIMESTAMP:
            r = put_int(out, b->start_ms);
            break;
        case F_URL:
            r = buf_append(out, a->url.ptr, a->url.len);
            r = r < 0 ? r : buf_printf(out, "%lld/\"", (long long) b->number);
            break;
        case F_ID:
            r = buf_printf(out, "\"%lld\"", (long long) b->number);
            break;
        case F_BUILT_ON:
            r = buf_puts(out, "\"\"");
            break;
        case F_ABORT_REASON:
            r = json_quote(out, b->abort_reason);
            break;
        default:
            break;
        }
    }
    return r < 0 ? r : buf_putc(out, '}');
}

/* One build as build_json() makes it, kept as tree= says. */
static int
write_model(struct all_builds *a, const struct build_row *b)
{
    json_t *whole = build_json(a->m, a->job, b, a->parts, a->estimate), *kept;
    int r;

    if (!a->m->all_builds_tree)
        kept = json_incref(whole);
    else
        kept = whole ? tree_apply_element(a->m->all_builds_tree, "allBuilds", whole) : NULL;
    json_decref(whole);
    if (!kept)
        return -ENOMEM;
    r = api_append_json(a->out, kept);
    json_decref(kept);
    return r;
}

static int
write_one(void *userdata, const struct build_row *b)
{
    struct all_builds *a = userdata;
    int r = a->n++ ? buf_putc(a->out, ',') : 0;

    if (r < 0)
        return r;
    return a->whole ? write_model(a, b) : write_row(a, b);
}

int
model_write_all_builds(void *model, struct buf *out)
{
    struct model *m = model;
    struct all_builds a = { .m = m, .job = m->all_builds_job, .out = out,
                            .url = BUF_INIT(16384) };
    size_t from = m->all_from, to = m->all_to;
    _cleanup_free_ char *ju = job_url(m->root, a.job->name);
    int r;

    if (!ju)
        return -ENOMEM;
    r = json_quote(&a.url, ju);
    if (r < 0)
        goto out;
    buf_truncate(&a.url, a.url.len - 1);
    /*
     * A Git build's record adds to its actions and makes its change set:
     * such builds are made whole, as is every build without a tree.
     */
    a.whole = !m->all_builds_tree;
    for (int k = 0; !a.whole && k < _F_MAX; k++) {
        a.selects[k] = k == F_CLASS ? 1 : tree_field_selects(m->all_builds_tree, "allBuilds",
                                                             build_fields[k]);
        if (a.selects[k] && a.job->cfg->git_urls && (k == F_ACTIONS || k == F_CHANGE_SET))
            a.whole = true;
    }
    if (a.whole)
        a.parts = all_builds_parts(m->all_builds_tree);
    if (a.whole || a.selects[F_ESTIMATE])
        a.estimate = store_build_estimated_duration(m->req->db, a.job->name);
    r = buf_putc(out, '[');
    /* the range goes into the query: {m,n} reads n - m rows, however long the history */
    if (r >= 0 && from < to)
        r = store_build_each(m->req->db, a.job->name, (int64_t) MIN(from, (size_t) INT64_MAX),
                             to == SIZE_MAX ? -1 : (int64_t) MIN(to - from, (size_t) INT64_MAX),
                             write_one, &a);
    r = r < 0 ? r : buf_putc(out, ']');
out:
    buf_release(&a.url);
    return r;
}

/*
 * allBuilds as a value, for the answers that are not compact JSON (XML,
 * Python, ?pretty) and for a job inside another list: every build, or
 * the first ones the top-level range keeps (the filter then applies the
 * range itself), each kept as tree= says.
 */
static json_t *
all_builds_json(struct model *m, const struct job *job)
{
    const char *expr = req_param(m->req, "tree");
    _cleanup_(tree_freep) struct tree *t = NULL;
    size_t from = 0, to = SIZE_MAX;
    struct buf text = BUF_INIT(HTTP_MAX_ANSWER_BYTES);
    struct model sub = *m;
    json_t *v;
    int r;

    if (expr && tree_parse(expr, &t, NULL) == 0 && tree_field_range(t, "allBuilds", &from, &to))
        from = 0;
    else
        t = tree_free(t);
    /* the same writer, then read back: one build's model at a time in memory */
    sub.all_builds_job = job;
    sub.all_builds_tree = t;
    sub.all_from = from;
    sub.all_to = to;
    r = model_write_all_builds(&sub, &text);
    v = r >= 0 ? json_loadb(text.ptr, text.len, 0, NULL) : NULL;
    buf_release(&text);
    return v ? v : json_array();
}

char *
model_params_string(const struct queue_row *q)
{
    struct buf b = BUF_INIT(16 * 1024 * 1024);

    for (size_t i = 0; i < q->n_params; i++)
        buf_printf(&b, "\n%s=%s", q->params[i].name,
                   q->params[i].type == PARAM_PASSWORD ? "****"
                   : q->params[i].type == PARAM_FILE   ? upload_shown_name(q->params[i].value)
                                                       : q->params[i].value);
    return buf_detach(&b);
}

/* Whether a build of the job runs, as the database says. */
static bool
job_building(void *userdata, const char *name)
{
    struct model *m = userdata;
    struct build_row *rows = NULL;
    size_t n = 0;
    bool building;

    if (m->colors_ready)
        return find_row(m->running, m->n_running, name) != NULL;
    building = store_build_list(m->req->db, name, 0, 1, &rows, &n) == 0 && n == 1 && !rows[0].result;
    build_rows_free(rows, n);
    return building;
}

/*
 * What an item of a job tied to label expression `expr` waits for, in
 * Jenkins' words (hudson.model.Messages: Queue_WaitingForNextAvailableExecutorOn,
 * Label_GroupOf...): no node has the label, every one that has it is
 * offline (or the one named is), or they are busy.
 */
static json_t *
label_why(struct model *m, const char *expr_s)
{
    static const char *const builtin[] = { "built-in", "master" };
    _cleanup_(label_freep) struct label_expr *expr = NULL;
    _cleanup_free_ char *why = NULL;
    size_t matching = 0;
    bool online;
    json_t *v;

    if (label_parse(expr_s, &expr, &why) < 0)
        return json_sprintf("The label expression of this job is not valid: %s", why ? why : "");
    online = label_matches(expr, builtin, ELEMENTSOF(builtin));
    matching = online;
    /* once per request, however many items wait */
    if (!m->nodes_read) {
        m->nodes_read = true;
        if (m->app->nodes && nodes_list(m->app->nodes, &m->nodes, &m->n_nodes) < 0)
            m->n_nodes = 0;
    }
    for (size_t i = 0; i < m->n_nodes; i++)
        if (label_matches(expr, (const char *const *) m->nodes[i].labels, m->nodes[i].n_labels)) {
            matching++;
            online |= !model_node_offline(&m->nodes[i]);
        }
    if (matching == 0)
        v = json_sprintf("There are no nodes with the label \u2018%s\u2019", expr_s);
    else if (!online && label_is_atom(expr) && matching == 1)
        v = json_sprintf("\u2018%s\u2019 is offline", expr_s);
    else if (!online)
        v = json_sprintf("All nodes of label \u2018%s\u2019 are offline", expr_s);
    else
        v = json_sprintf("Waiting for next available executor on \u2018%s\u2019", expr_s);
    return v;
}

/* Seconds with one decimal, as Jenkins' Util.getTimeSpanString prints short spans. */
static json_t *
why_json(struct model *m, const struct queue_row *q, const char **ret_class, bool *ret_blocked,
         bool *ret_buildable)
{
    _cleanup_(job_unrefp) struct job *job = jobs_get(m->app->jobs, q->job);
    int64_t now = now_ms();

    *ret_blocked = *ret_buildable = false;
    if (q->due_ms <= now) {
        bool safe_exit;
        _cleanup_free_ char *reason = NULL;
        if (engine_quieting_down(m->app->engine, &safe_exit, &reason)) {
            *ret_class = "hudson.model.Queue$BuildableItem";
            *ret_buildable = true;
            if (safe_exit)
                return json_string("Steward is about to shut down");
            return json_sprintf("Steward is quieting down: no build starts until an "
                                "administrator cancels it (POST /cancelQuietDown)%s%s",
                                reason ? ". Reason: " : "", reason ? reason : "");
        }
    }
    if (q->due_ms > now) {
        *ret_class = "hudson.model.Queue$WaitingItem";
        return json_sprintf("In the quiet period. Expires in %.1f sec",
                            (double) (q->due_ms - now) / 1000.0);
    }
    if (job && job->cfg->disabled) {
        *ret_class = "hudson.model.Queue$BlockedItem";
        *ret_blocked = true;
        return json_sprintf("%s is disabled", q->job);
    }
    if (job && !job->cfg->concurrent_build && m->colors_ready) {
        const struct job_stats_row *run = find_row(m->running, m->n_running, q->job);

        if (run) {
            *ret_class = "hudson.model.Queue$BlockedItem";
            *ret_blocked = true;
            return json_sprintf("Build #%lld is already in progress (ETA: N/A)",
                                (long long) run->last_number);
        }
    } else if (job && !job->cfg->concurrent_build) {
        struct build_row *rows = NULL;
        size_t n = 0;
        if (store_build_list(m->req->db, q->job, 0, 1, &rows, &n) == 0 && n == 1 &&
            !rows[0].result) {
            json_t *v = json_sprintf("Build #%lld is already in progress (ETA: N/A)",
                                     (long long) rows[0].number);
            build_rows_free(rows, n);
            *ret_class = "hudson.model.Queue$BlockedItem";
            *ret_blocked = true;
            return v;
        }
        build_rows_free(rows, n);
    }
    if (job && (job->cfg->block_upstream || job->cfg->block_downstream)) {
        _cleanup_free_ char *name = NULL;
        bool upstream;

        if (chain_blocked(m->app->jobs, job, job_building, m, &name, &upstream) && name) {
            _cleanup_free_ char *why = chain_why(name, upstream);
            *ret_class = "hudson.model.Queue$BlockedItem";
            *ret_blocked = true;
            return why ? json_string(why) : json_null();
        }
    }
    *ret_class = "hudson.model.Queue$BuildableItem";
    *ret_buildable = true;
    if (job && job->cfg->assigned_node)
        return label_why(m, job->cfg->assigned_node);
    return json_string("Waiting for next available executor");
}

json_t *
model_queue_item(struct model *m, const struct queue_row *q)
{
    _cleanup_(job_unrefp) struct job *job = jobs_get(m->app->jobs, q->job);
    _cleanup_free_ char *params = model_params_string(q);
    const char *cls = "hudson.model.Queue$LeftItem";
    bool blocked = false, buildable = false;
    json_t *why = json_null(), *task, *o;

    if (q->state == QUEUE_WAITING)
        why = why_json(m, q, &cls, &blocked, &buildable);
    task = json_pack("{s:s, s:s, s:o, s:s}", "_class", "hudson.model.FreeStyleProject", "name",
                     q->job, "url", jurl(m, q->job, 0), "color",
                     job ? job_color(m, job) : "notbuilt");
    o = json_pack("{s:s, s:o, s:b, s:b, s:I, s:I, s:s, s:b, s:o, s:o, s:o}", "_class", cls,
                  "actions", m->brief_queue ? json_array() : actions_json(q), "blocked", blocked, "buildable", buildable, "id",
                  (json_int_t) q->id, "inQueueSince", (json_int_t) q->in_queue_since_ms, "params",
                  params ? params : "", "stuck", false, "task", task, "url",
                  json_sprintf("queue/item/%lld/", (long long) q->id), "why", why);
    if (!o)
        return NULL;
    if (q->state == QUEUE_WAITING) {
        if (streq(cls, "hudson.model.Queue$WaitingItem"))
            json_object_set_new(o, "timestamp", json_integer(q->due_ms));
        else
            json_object_set_new(o, "buildableStartMilliseconds", json_integer(q->due_ms));
        if (buildable)
            json_object_set_new(o, "pending", json_false());
    } else {
        json_object_set_new(o, "cancelled", json_boolean(q->state == QUEUE_CANCELLED));
        json_object_set_new(o, "executable", q->state == QUEUE_LEFT && q->build_number > 0
                                                 ? model_build_ref(m, q->job, q->build_number)
                                                 : json_null());
    }
    return o;
}

/*
 * Whether tree= asks of each job only what its summary holds, as
 * python-jenkins' get_jobs() does (jobs[name,url,color]): then 10,000 jobs
 * cost two queries, not a whole model each.
 */
static bool
summary_will_do(struct model *m, int depth)
{
    static const char *const fields[] = { "_class", "name", "url", "color", NULL };
    const char *expr = req_param(m->req, "tree");
    _cleanup_(tree_freep) struct tree *t = NULL;

    if (depth >= 1 || !expr || tree_parse(expr, &t, NULL) < 0)
        return false;
    return tree_selects_only(t, "jobs", fields);
}

/* a job's summary, in its order; (1 << k) of jobs_fields keeps summary_fields[k] */
static const char *const summary_fields[] = { "_class", "name", "url", "color", NULL };

bool
model_jobs_as_text(struct model *m, const char *format, int depth)
{
    const char *expr = req_param(m->req, "tree");
    _cleanup_(tree_freep) struct tree *t = NULL;
    int r;

    if (!streq(format, "json") || req_param(m->req, "pretty") || depth >= 1)
        return false;
    /* a malformed tree= gets its 400 from the filter */
    if (expr && tree_parse(expr, &t, NULL) < 0)
        return false;
    r = tree_select_fields(t, "jobs", summary_fields, &m->jobs_fields, &m->jobs_from,
                           &m->jobs_to);
    m->jobs_unasked = r == 0;
    m->jobs_as_text = r > 0;
    return m->jobs_as_text;
}

int
model_write_jobs(void *model, struct buf *out)
{
    struct model *m = model;
    struct job **list = NULL;
    size_t n = 0, shown = 0;
    unsigned f = m->jobs_fields;
    _cleanup_(buf_releasep) struct buf url = BUF_INIT(16384);
    int r;

    /* the URL's prefix as a JSON string without its closing quote; url_encode() needs no escape */
    if ((r = json_quote(&url, m->root)) < 0 || (r = jobs_list(m->app->jobs, &list, &n)) < 0)
        return r;
    buf_truncate(&url, url.len - 1);
    r = buf_puts(&url, "job/");
    if (f & 8)
        model_prepare_colors(m);
    r = r < 0 ? r : buf_putc(out, '[');
    /* plain appends: a buf_printf() per field was a third of this answer's time */
    for (size_t i = 0; r >= 0 && i < n && shown < m->jobs_to; i++) {
        const char *sep = "";

        if (!app_may(m->req, PERM_JOB_READ, list[i]) || shown++ < m->jobs_from)
            continue;
        r = buf_puts(out, shown > m->jobs_from + 1 ? ",{" : "{");
        if (r >= 0 && (f & 1)) {
            r = buf_puts(out, "\"_class\":\"hudson.model.FreeStyleProject\"");
            sep = ",";
        }
        if (r >= 0 && (f & 2)) {
            r = buf_puts(out, sep);
            r = r < 0 ? r : buf_puts(out, "\"name\":");
            r = r < 0 ? r : json_quote(out, list[i]->name);
            sep = ",";
        }
        if (r >= 0 && (f & 4)) {
            r = buf_puts(out, sep);
            r = r < 0 ? r : buf_puts(out, "\"url\":");
            r = r < 0 ? r : buf_append(out, url.ptr, url.len);
            r = r < 0 ? r : url_encode(out, list[i]->name);
            r = r < 0 ? r : buf_puts(out, "/\"");
            sep = ",";
        }
        if (r >= 0 && (f & 8)) {
            r = buf_puts(out, sep);
            r = r < 0 ? r : buf_puts(out, "\"color\":\"");
            r = r < 0 ? r : buf_puts(out, job_color(m, list[i]));
            r = r < 0 ? r : buf_putc(out, '"');
        }
        r = r < 0 ? r : buf_putc(out, '}');
    }
    r = r < 0 ? r : buf_putc(out, ']');
    jobs_list_free(list, n);
    return r;
}

json_t *
model_job_list(struct model *m, int depth)
{
    struct job **list = NULL;
    size_t n = 0;
    json_t *jobs = json_array();
    bool whole = wants_detail(m, "jobs", depth) && !summary_will_do(m, depth);

    if (!jobs || m->jobs_as_text || m->jobs_unasked || jobs_list(m->app->jobs, &list, &n) < 0)
        return jobs;
    if (!whole)
        model_prepare_colors(m);
    for (size_t i = 0; i < n; i++)
        if (app_may(m->req, PERM_JOB_READ, list[i]))
            json_array_append_new(jobs, whole ? model_job(m, list[i], depth - 1, false)
                                              : model_job_summary(m, list[i]));
    jobs_list_free(list, n);
    return jobs;
}

json_t *
model_root(struct model *m, int depth)
{
    json_t *jobs = model_job_list(m, depth), *o;
    _cleanup_free_ char *reason = NULL;
    bool quiet = engine_quieting_down(m->app->engine, NULL, &reason);

    o = json_pack("{s:s, s:[{s:s}], s:s, s:s, s:s, s:i, s:n, s:o, s:o, s:o?, s:b, s:i, s:b, "
                  "s:b, s:s}",
                  "_class", "hudson.model.Hudson", "assignedLabels", "name", "built-in", "mode",
                  "NORMAL", "nodeDescription", "the Steward built-in node", "nodeName", "",
                  "numExecutors", m->app->executors, "description", "jobs", jobs, "overallLoad",
                  json_object(), "quietDownReason", reason ? json_string(reason) : NULL,
                  "quietingDown", quiet, "slaveAgentPort", -1,
                  "useCrumbs", true, "useSecurity", true, "url", m->root);
    if (!o)
        return NULL;
    json_object_set_new(o, "primaryView",
                        json_pack("{s:s, s:s, s:s}", "_class", "hudson.model.AllView", "name",
                                  "all", "url", m->root));
    json_object_set_new(o, "views", json_pack("[{s:s, s:s, s:s}]", "_class",
                                              "hudson.model.AllView", "name", "all", "url", m->root));
    json_object_set_new(o, "unlabeledLoad", json_pack("{s:s}", "_class", "jenkins.model.UnlabeledLoadStatistics"));
    return o;
}

json_t *
model_computer(struct model *m, int depth)
{
    struct build_row *rows = NULL;
    size_t n = 0;
    json_t *execs = json_array(), *o;
    int busy = 0;

    (void) store_build_list_running(m->req->db, &rows, &n);
    for (int i = 0; i < m->app->executors; i++) {
        json_t *cur = json_null();
        for (size_t k = 0; k < n; k++)
            if (rows[k].executor == i && !rows[k].built_on) {
                _cleanup_(job_unrefp) struct job *job = jobs_get(m->app->jobs, rows[k].job);
                cur = depth >= 1 && job ? model_build(m, job, &rows[k], 0)
                                        : model_build_ref(m, rows[k].job, rows[k].number);
                busy++;
            }
        json_array_append_new(execs, json_pack("{s:s, s:o, s:b, s:b, s:i, s:i}", "_class",
                                               "hudson.model.Executor", "currentExecutable", cur,
                                               "idle", json_is_null(cur), "likelyStuck", false,
                                               "number", i, "progress", -1));
    }
    build_rows_free(rows, n);
    o = json_pack("{s:s, s:[], s:s, s:s, s:o, s:b, s:b, s:s, s:b, s:b, s:i, s:b, s:b, s:n}",
                  "_class", "hudson.model.Hudson$MasterComputer", "actions", "description",
                  "the Steward built-in node", "displayName", "Built-In Node", "executors", execs,
                  "idle", busy == 0, "jnlpAgent", false, "icon", "computer.png", "launchSupported",
                  true, "manualLaunchAllowed", true, "numExecutors", m->app->executors, "offline",
                  false, "temporarilyOffline", false, "offlineCause");
    if (o) {
        json_object_set_new(o, "assignedLabels", json_pack("[{s:s}]", "name", "built-in"));
        json_object_set_new(o, "monitorData", json_object());
        json_object_set_new(o, "oneOffExecutors", json_array());
        json_object_set_new(o, "offlineCauseReason", json_string(""));
    }
    return o;
}

/* The offline cause Jenkins gives a node taken offline by hand, or NULL. */
static json_t *
offline_cause(const struct node *n)
{
    if (n->temporarily_offline)
        return json_pack("{s:s, s:s}", "_class", "hudson.slaves.OfflineCause$UserCause",
                         "description", n->offline_message ? n->offline_message : "");
    /* never connected yet: Jenkins has no cause either */
    if (n->state == NODE_OFFLINE)
        return json_pack("{s:s, s:s}", "_class", "hudson.slaves.OfflineCause$LaunchFailed",
                         "description", n->offline_reason ? n->offline_reason : "");
    return json_null();
}

bool
model_node_offline(const struct node *n)
{
    return n->temporarily_offline || n->state != NODE_ONLINE;
}

json_t *
model_node(struct model *m, const struct node *n, int depth)
{
    json_t *execs = json_array(), *labels = json_array(), *o;
    bool offline = model_node_offline(n);
    const char *reason = n->temporarily_offline ? n->offline_message
                         : n->state != NODE_ONLINE ? n->offline_reason : "";

    struct build_row *rows = NULL;
    size_t n_rows = 0;

    (void) store_build_list_running(m->req->db, &rows, &n_rows);
    for (int i = 0; i < n->cfg.executors; i++) {
        json_t *cur = json_null();

        for (size_t k = 0; k < n_rows; k++)
            if (rows[k].executor == i && rows[k].built_on && streq(rows[k].built_on, n->cfg.name)) {
                _cleanup_(job_unrefp) struct job *job = jobs_get(m->app->jobs, rows[k].job);
                json_decref(cur);
                cur = depth >= 1 && job ? model_build(m, job, &rows[k], 0)
                                        : model_build_ref(m, rows[k].job, rows[k].number);
            }
        json_array_append_new(execs, json_pack("{s:s, s:o, s:b, s:b, s:i, s:i}", "_class",
                                               "hudson.model.Executor", "currentExecutable", cur,
                                               "idle", json_is_null(cur), "likelyStuck", false,
                                               "number", i, "progress", -1));
    }
    build_rows_free(rows, n_rows);
    for (size_t i = 0; i < n->n_labels; i++)
        json_array_append_new(labels, json_pack("{s:s}", "name", n->labels[i]));
    o = json_pack("{s:s, s:[], s:o, s:s, s:s, s:o, s:s, s:s, s:b, s:b, s:b, s:b, s:o, s:i, "
                  "s:b, s:o, s:s, s:[], s:b}",
                  "_class", "hudson.slaves.SlaveComputer", "actions", "assignedLabels", labels,
                  "description", n->cfg.description, "displayName", n->cfg.name, "executors",
                  execs, "icon", offline ? "computer-x.png" : "computer.png", "iconClassName",
                  offline ? "icon-computer-x" : "icon-computer", "idle", n->busy_executors == 0,
                  "jnlpAgent", false, "launchSupported", n->usable, "manualLaunchAllowed",
                  n->usable, "monitorData", json_object(), "numExecutors", n->cfg.executors,
                  "offline", offline, "offlineCause", offline_cause(n), "offlineCauseReason",
                  reason ? reason : "", "oneOffExecutors", "temporarilyOffline",
                  n->temporarily_offline);
    if (o) {
        json_object_set_new(o, "absoluteRemotePath",
                            n->state == NODE_ONLINE ? json_string(n->cfg.remote_fs) : json_null());
        json_object_set_new(o, "mode", json_string(node_mode_name(n->cfg.mode)));
        json_object_set_new(o, "connectionState", json_string(node_state_name(n->state)));
        /* Steward's own: whether builds there run in bubblewrap (known once it is online) */
        json_object_set_new(o, "sandboxed",
                            n->state == NODE_ONLINE ? json_boolean(n->sandboxed) : json_null());
    }
    return o;
}

json_t *
model_computer_set(struct model *m, int depth)
{
    json_t *c = model_computer(m, depth), *list;
    struct node *nodes = NULL;
    size_t n = 0;
    int busy = 0, total = m->app->executors;

    if (c) {
        json_t *ex = json_object_get(c, "executors");
        size_t i;
        json_t *e;
        json_array_foreach(ex, i, e) busy += !json_is_true(json_object_get(e, "idle"));
    }
    list = json_pack("[o]", c);
    if (m->app->nodes && nodes_list(m->app->nodes, &nodes, &n) < 0)
        n = 0;
    for (size_t i = 0; list && i < n; i++) {
        json_array_append_new(list, model_node(m, &nodes[i], depth));
        busy += nodes[i].busy_executors;
        if (!model_node_offline(&nodes[i]))
            total += nodes[i].cfg.executors;
    }
    nodes_array_free(nodes, n);
    return json_pack("{s:s, s:i, s:o, s:s, s:i}", "_class", "hudson.model.ComputerSet",
                     "busyExecutors", busy, "computer", list, "displayName",
                     "Nodes", "totalExecutors", total);
}
