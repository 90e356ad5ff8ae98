/* SPDX-License-Identifier: MIT */
/*
 * <scm class="hudson.plugins.git.GitSCM"> as the git plugin and
 * jenkins-job-builder write it, into struct git_scm: the remotes, the
 * branch specs and the extensions Steward runs. The legacy top-level
 * fields (disableSubmodules, gitTool...) are accepted and ignored, as the
 * plugin does; core/support.c names the extensions that are not run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobcfg_int.h"
#include "util/strutil.h"

#define EXT "hudson.plugins.git.extensions.impl."

static void free_remote(struct git_remote *r)
{
    free(r->name);
    free(r->url);
    free(r->refspec);
    free(r->credentials_id);
}

struct git_scm *cfg_git_free(struct git_scm *g)
{
    if (!g)
        return NULL;
    for (size_t i = 0; i < g->n_remotes; i++)
        free_remote(&g->remotes[i]);
    free(g->remotes);
    for (size_t i = 0; i < g->n_branches; i++)
        free(g->branches[i]);
    free(g->branches);
    free(g->reference);
    free(g->relative_dir);
    free(g->local_branch);
    free(g->scm_name);
    free(g->user_name);
    free(g->user_email);
    free(g);
    return NULL;
}

static int bool_of(const xmlNode *parent, const char *name, bool *ret, char **msg)
{
    return cfg_child_bool(parent, name, false, ret, msg);
}

/* A count of minutes or a depth: absent or empty is 0. */
static int int_of(const xmlNode *parent, const char *name, int max, int *ret, char **msg)
{
    _cleanup_free_ char *t = NULL;
    int r = cfg_child_text(parent, name, &t, msg);

    if (r < 0)
        return r;
    *ret = 0;
    if (t && (cfg_parse_seconds(t, ret) < 0 || *ret > max))
        return cfg_fail(msg, "<%s> must be a whole number from 0 to %d, not '%s'", name, max,
                        CLIP(t));
    return 0;
}

static int read_remotes(struct git_scm *g, const xmlNode *scm, char **msg)
{
    xmlNode *list = cfg_first_child(scm, "userRemoteConfigs");
    size_t n = list ? cfg_count_elements(list) : 0;
    int r;

    if (n == 0)
        return cfg_fail(msg, "the Git SCM has no repository: add a <userRemoteConfigs> with a "
                             "hudson.plugins.git.UserRemoteConfig and its <url>");
    if (n > BOUND_GIT_REMOTES)
        return cfg_fail(msg, "the Git SCM may have at most %d repositories", BOUND_GIT_REMOTES);
    g->remotes = calloc(n, sizeof *g->remotes);
    if (!g->remotes)
        return -ENOMEM;
    for (xmlNode *c = list->children; c; c = c->next) {
        struct git_remote *rem;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        rem = &g->remotes[g->n_remotes++];
        r = cfg_child_text(c, "name", &rem->name, msg);
        if (r >= 0)
            r = cfg_child_text(c, "url", &rem->url, msg);
        if (r >= 0)
            r = cfg_child_text(c, "refspec", &rem->refspec, msg);
        if (r >= 0)
            r = cfg_child_text(c, "credentialsId", &rem->credentials_id, msg);
        if (r < 0)
            return r;
        if (!rem->url)
            return cfg_fail(msg, "Git repository URL %zu is an empty string in job definition. "
                                 "Checkout requires a valid repository URL", g->n_remotes);
        if (!rem->name && !(rem->name = strdup("origin")))
            return -ENOMEM;
        /* a remote's name becomes part of refs: git's own rules, kept simple */
        if (strpbrk(rem->name, " \t\n~^:?*[\\") || rem->name[0] == '-' || strstr(rem->name, ".."))
            return cfg_fail(msg, "the Git remote name '%s' is not a valid name", CLIP(rem->name));
        if (!rem->refspec && asprintf(&rem->refspec, "+refs/heads/*:refs/remotes/%s/*",
                                      rem->name) < 0) {
            rem->refspec = NULL;
            return -ENOMEM;
        }
        for (size_t k = 0; k + 1 < g->n_remotes; k++)
            if (streq(g->remotes[k].name, rem->name))
                return cfg_fail(msg, "two Git repositories are named '%s': give each its own "
                                     "<name>", CLIP(rem->name));
    }
    return 0;
}

static int read_branches(struct git_scm *g, const xmlNode *scm, char **msg)
{
    xmlNode *list = cfg_first_child(scm, "branches");
    size_t n = list ? cfg_count_elements(list) : 0;
    int r;

    if (n > BOUND_GIT_BRANCHES)
        return cfg_fail(msg, "the Git SCM may have at most %d branches to build",
                        BOUND_GIT_BRANCHES);
    g->branches = calloc(n ? n : 1, sizeof *g->branches);
    if (!g->branches)
        return -ENOMEM;
    for (xmlNode *c = list ? list->children : NULL; c; c = c->next) {
        char *name = NULL;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        r = cfg_child_text(c, "name", &name, msg);
        if (r < 0)
            return r;
        if (name)
            g->branches[g->n_branches++] = name;
    }
    /* no branch: any branch, as the plugin reads an empty list */
    if (g->n_branches == 0 && !(g->branches[g->n_branches++] = strdup("**")))
        return -ENOMEM;
    return 0;
}

/* Whether a relative directory stays inside the workspace: not absolute, no ".." part. */
static bool inside_dir(const char *d)
{
    if (d[0] == '/')
        return false;
    for (const char *p = d; *p;) {
        size_t n = strcspn(p, "/");

        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += n;
        p += *p == '/';
    }
    return true;
}

static int read_extensions(struct git_scm *g, const xmlNode *scm, char **msg)
{
    xmlNode *list = cfg_first_child(scm, "extensions");
    int r = 0;

    for (xmlNode *c = list ? list->children : NULL; c && r >= 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (cfg_node_is(c, EXT "WipeWorkspace"))
            g->wipe = true;
        else if (cfg_node_is(c, EXT "CleanBeforeCheckout"))
            g->clean_before = true;
        else if (cfg_node_is(c, EXT "CleanCheckout"))
            g->clean_after = true;
        else if (cfg_node_is(c, EXT "PruneStaleBranch"))
            g->prune = true;
        else if (cfg_node_is(c, EXT "IgnoreNotifyCommit"))
            g->ignore_notify = true;
        else if (cfg_node_is(c, EXT "AuthorInChangelog"))
            g->author_in_changelog = true;
        else if (cfg_node_is(c, EXT "CloneOption")) {
            r = bool_of(c, "shallow", &g->shallow, msg);
            if (r >= 0)
                r = bool_of(c, "noTags", &g->no_tags, msg);
            if (r >= 0)
                r = int_of(c, "depth", 1000000, &g->depth, msg);
            if (r >= 0)
                r = int_of(c, "timeout", 24 * 60, &g->fetch_timeout, msg);
            if (r >= 0)
                r = cfg_child_text(c, "reference", &g->reference, msg);
        } else if (cfg_node_is(c, EXT "SubmoduleOption")) {
            bool disabled = false;

            r = bool_of(c, "disableSubmodules", &disabled, msg);
            g->submodules = !disabled;
            if (r >= 0)
                r = bool_of(c, "recursiveSubmodules", &g->recursive_submodules, msg);
            if (r >= 0)
                r = bool_of(c, "trackingSubmodules", &g->tracking_submodules, msg);
            if (r >= 0)
                r = int_of(c, "timeout", 24 * 60, &g->submodule_timeout, msg);
        } else if (cfg_node_is(c, EXT "CheckoutOption"))
            r = int_of(c, "timeout", 24 * 60, &g->checkout_timeout, msg);
        else if (cfg_node_is(c, EXT "RelativeTargetDirectory")) {
            r = cfg_child_text(c, "relativeTargetDir", &g->relative_dir, msg);
            if (r >= 0 && g->relative_dir && !inside_dir(g->relative_dir))
                r = cfg_fail(msg, "<relativeTargetDir> must be a directory inside the "
                                  "workspace, not '%s'", CLIP(g->relative_dir));
        } else if (cfg_node_is(c, EXT "LocalBranch")) {
            g->local_branch_set = true;
            r = cfg_child_text(c, "localBranch", &g->local_branch, msg);
        } else if (cfg_node_is(c, EXT "ScmName"))
            r = cfg_child_text(c, "name", &g->scm_name, msg);
        else if (cfg_node_is(c, EXT "UserIdentity")) {
            r = cfg_child_text(c, "name", &g->user_name, msg);
            if (r >= 0)
                r = cfg_child_text(c, "email", &g->user_email, msg);
        }
        /* anything else: core/support.c says what it does to a build */
    }
    return r;
}

/* What a summary keeps: the URLs and the branch specs, one per line. */
static int lines_of(const struct git_scm *g, struct job_config *cfg)
{
    _cleanup_(buf_releasep) struct buf urls = BUF_INIT(BOUND_CONFIG_XML_BYTES);
    _cleanup_(buf_releasep) struct buf branches = BUF_INIT(BOUND_CONFIG_XML_BYTES);
    int r = 0;

    for (size_t i = 0; i < g->n_remotes; i++)
        r |= buf_printf(&urls, "%s %s\n", g->remotes[i].name, g->remotes[i].url);
    for (size_t i = 0; i < g->n_branches; i++)
        r |= buf_printf(&branches, "%s\n", g->branches[i]);
    if (r < 0)
        return -ENOMEM;
    cfg->git_urls = buf_detach(&urls);
    cfg->git_branches = buf_detach(&branches);
    cfg->git_ignore_notify = g->ignore_notify;
    return cfg->git_urls && cfg->git_branches ? 0 : -ENOMEM;
}

int cfg_read_git(struct job_config *cfg, const xmlNode *root, char **msg)
{
    _cleanup_(xml_free_strp) xmlChar *cls = NULL;
    xmlNode *scm = cfg_first_child(root, "scm");
    struct git_scm *g;
    int r;

    if (!scm)
        return 0;
    cls = xmlGetProp(scm, BAD_CAST "class");
    if (!cls || !xmlStrEqual(cls, BAD_CAST "hudson.plugins.git.GitSCM"))
        return 0;
    g = cfg->git = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    r = read_remotes(g, scm, msg);
    if (r >= 0)
        r = read_branches(g, scm, msg);
    if (r >= 0)
        r = read_extensions(g, scm, msg);
    if (r < 0)
        return r;
    return lines_of(g, cfg);
}

struct gitlab_trigger *cfg_gitlab_free(struct gitlab_trigger *t)
{
    if (!t)
        return NULL;
    free(t->include);
    free(t->exclude);
    free(t->source_regex);
    free(t->target_regex);
    if (t->secret_token) {
        explicit_bzero(t->secret_token, strlen(t->secret_token));
        free(t->secret_token);
    }
    free(t);
    return NULL;
}

int cfg_read_forge_triggers(struct job_config *cfg, const xmlNode *root, char **msg)
{
    xmlNode *triggers = cfg_first_child(root, "triggers"), *gl;
    _cleanup_free_ char *filter = NULL;
    struct gitlab_trigger *t;
    int r;

    if (!triggers)
        return 0;
    cfg->github_push = cfg_first_child(triggers, "com.cloudbees.jenkins.GitHubPushTrigger") != NULL;
    gl = cfg_first_child(triggers, "com.dabsquared.gitlabjenkins.GitLabPushTrigger");
    if (!gl)
        return 0;
    t = cfg->gitlab = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    cfg->has_gitlab = true;
    r = cfg_child_bool(gl, "triggerOnPush", true, &t->on_push, msg);
    if (r >= 0)
        r = cfg_child_bool(gl, "triggerOnMergeRequest", true, &t->on_merge_request, msg);
    if (r >= 0)
        r = cfg_child_bool(gl, "triggerOnAcceptedMergeRequest", false, &t->on_accepted_mr, msg);
    if (r >= 0)
        r = cfg_child_bool(gl, "triggerOnClosedMergeRequest", false, &t->on_closed_mr, msg);
    if (r >= 0)
        r = cfg_child_bool(gl, "triggerToBranchDeleteRequest", false, &t->on_branch_delete, msg);
    if (r >= 0)
        r = cfg_child_bool(gl, "ciSkip", true, &t->ci_skip, msg);
    if (r >= 0)
        r = cfg_child_text(gl, "branchFilterType", &filter, msg);
    /* before gitlab plugin 1.2.0 */
    if (r >= 0 && !filter)
        r = cfg_child_text(gl, "branchFilterName", &filter, msg);
    if (r >= 0)
        r = cfg_child_text(gl, "includeBranchesSpec", &t->include, msg);
    if (r >= 0)
        r = cfg_child_text(gl, "excludeBranchesSpec", &t->exclude, msg);
    if (r >= 0)
        r = cfg_child_text(gl, "sourceBranchRegex", &t->source_regex, msg);
    if (r >= 0)
        r = cfg_child_text(gl, "targetBranchRegex", &t->target_regex, msg);
    if (r >= 0)
        r = cfg_child_text(gl, "secretToken", &t->secret_token, msg);
    if (r < 0)
        return r;
    if (!filter || streq(filter, "All"))
        t->filter = GITLAB_ALL_BRANCHES;
    else if (streq(filter, "NameBasedFilter"))
        t->filter = GITLAB_NAME_FILTER;
    else if (streq(filter, "RegexBasedFilter"))
        t->filter = GITLAB_REGEX_FILTER;
    else
        return cfg_fail(msg, "<branchFilterType> is All, NameBasedFilter or RegexBasedFilter, "
                             "not '%s'", CLIP(filter));
    /* Jenkins saves a Secret as {base64}: its key is that Jenkins' own */
    t->secret_encrypted = t->secret_token && t->secret_token[0] == '{' &&
                          t->secret_token[strlen(t->secret_token) - 1] == '}';
    return 0;
}
