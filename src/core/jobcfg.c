/* SPDX-License-Identifier: MIT */
/*
 * config.xml <-> struct job_config, with libxml2 (its only home); this
 * file has the struct, its setters and the parameter rules, and its
 * siblings the rest (core/jobcfg_int.h says which does what).
 *
 * Parsing keeps the whole document. Writing compares every managed field
 * with what the document holds and touches an element only when the value
 * differs, so a config that was not changed comes out as libxml2 serializes
 * the document it read, and unknown elements never move.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jobcfg_int.h"

const char *const cfg_param_class[PARAM_FILE + 1] = {
    [PARAM_STRING] = "hudson.model.StringParameterDefinition",
    [PARAM_TEXT] = "hudson.model.TextParameterDefinition",
    [PARAM_BOOLEAN] = "hudson.model.BooleanParameterDefinition",
    [PARAM_CHOICE] = "hudson.model.ChoiceParameterDefinition",
    [PARAM_PASSWORD] = "hudson.model.PasswordParameterDefinition",
    [PARAM_FILE] = "hudson.model.FileParameterDefinition",
};


/* ---- the struct ---------------------------------------------------------- */

const char *
param_type_to_string(enum param_type t)
{
    if ((unsigned) t >= ELEMENTSOF(cfg_param_class))
        return NULL;
    return cfg_param_class[t] + strlen("hudson.model.");
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void param_release(struct param_def *p)
{
    free(p->name);
    free(p->description);
    free(p->default_value);
    free_strv(p->choices, p->n_choices);
}

static void free_params(struct param_def *params, size_t n)
{
    for (size_t i = 0; params && i < n; i++)
        param_release(&params[i]);
    free(params);
}

struct job_config *
jobcfg_ref(struct job_config *cfg)
{
    cfg->refs++;
    return cfg;
}

void
jobcfg_drop_document(struct job_config *cfg)
{
    if (cfg->doc)
        xmlFreeDoc(cfg->doc);
    cfg->doc = NULL;
}

struct job_config *
jobcfg_free(struct job_config *cfg)
{
    if (!cfg)
        return NULL;
    if (cfg->refs > 0) {
        cfg->refs--;
        return NULL;
    }
    if (cfg->summary) {
        /* one allocation: jobcfg_summary_decode() */
        free(cfg);
        return NULL;
    }
    free(cfg->description);
    free(cfg->auth_token);
    free(cfg->timer_spec);
    free(cfg->scm_poll_spec);
    free(cfg->archive_artifacts);
    free(cfg->archive_excludes);
    free(cfg->junit_results);
    free(cfg->other_discarder);
    free(cfg->unsupported);
    cfg_git_free(cfg->git);
    cfg_bindings_free(cfg->bindings, cfg->n_bindings);
    cfg_wrappers_free(cfg);
    cfg_gitlab_free(cfg->gitlab);
    cfg_chain_free(cfg);
    free(cfg->chain_down);
    free(cfg->chain_up);
    free(cfg->git_urls);
    free(cfg->git_branches);
    free_params(cfg->params, cfg->n_params);
    free_strv(cfg->shell_steps, cfg->n_shell_steps);
    grants_free(cfg->matrix.grants, cfg->matrix.n_grants);
    if (cfg->doc)
        xmlFreeDoc(cfg->doc);
    free(cfg);
    return NULL;
}

/* strdup() that keeps NULL. 0 or -ENOMEM. */
static int dup_opt(const char *s, char **ret)
{
    *ret = NULL;
    if (s && !(*ret = strdup(s)))
        return -ENOMEM;
    return 0;
}

int
jobcfg_set_description(struct job_config *cfg, const char *description)
{
    char *s;

    if (cfg->summary)
        return -EINVAL;

    if (dup_opt(description, &s) < 0)
        return -ENOMEM;
    free(cfg->description);
    cfg->description = s;
    return 0;
}

int
jobcfg_set_auth_token(struct job_config *cfg, const char *token)
{
    char *s;

    if (cfg->summary)
        return -EINVAL;

    if (dup_opt(token && token[0] ? token : NULL, &s) < 0)
        return -ENOMEM;
    free(cfg->auth_token);
    cfg->auth_token = s;
    return 0;
}

int
jobcfg_set_matrix(struct job_config *cfg, bool inherit, const struct grant *grants, size_t n)
{
    struct grant *copy;

    if (cfg->summary)
        return -EINVAL;

    if (n > BOUND_JOB_GRANTS)
        return -EINVAL;
    /*
     * jobcfg_parse() trims an entry: a sid that begins or ends with
     * whitespace would come back as another sid, or (all whitespace) as an
     * entry that does not parse, and the job's config with it.
     */
    for (size_t i = 0; i < n; i++)
        if (!grants[i].sid || !grants[i].sid[0] || !cfg_is_opt_xml_text(grants[i].sid) ||
            cfg_skip_space(grants[i].sid) != grants[i].sid ||
            cfg_trimmed_len(grants[i].sid) != strlen(grants[i].sid) || grants[i].perm >= _PERM_MAX)
            return -EINVAL;
    copy = calloc(n ? n : 1, sizeof *copy);
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        copy[i] = (struct grant){ .kind = grants[i].kind, .perm = grants[i].perm,
                                  .sid = strdup(grants[i].sid) };
        if (!copy[i].sid) {
            grants_free(copy, i);
            return -ENOMEM;
        }
    }
    grants_free(cfg->matrix.grants, cfg->matrix.n_grants);
    cfg->matrix = (struct job_matrix){ .present = n > 0 || cfg->matrix.present, .inherit = inherit,
                                       .grants = copy, .n_grants = n };
    cfg->matrix_set = true;
    return 0;
}

int
jobcfg_masked_xml(const struct job_config *cfg, char **ret_xml, size_t *ret_len)
{
    _cleanup_(xml_free_docp) xmlDoc *copy = xmlCopyDoc(cfg->doc, 1);
    xmlNode *root = copy ? xmlDocGetRootElement(copy) : NULL;
    xmlNode *token = root ? cfg_first_child(root, "authToken") : NULL;
    int r;

    if (cfg->summary)
        return -EINVAL;
    if (!root)
        return -ENOMEM;
    if (token && cfg->auth_token) {
        r = cfg_set_text(token, JOBCFG_MASK);
        if (r < 0)
            return r;
    }
    /* the GitLab trigger's secret token is the job's other secret */
    if (cfg->gitlab && cfg->gitlab->secret_token) {
        xmlNode *triggers = cfg_first_child(root, "triggers");
        xmlNode *gl = triggers ? cfg_first_child(triggers,
                                                 "com.dabsquared.gitlabjenkins.GitLabPushTrigger")
                               : NULL;
        xmlNode *secret = gl ? cfg_first_child(gl, "secretToken") : NULL;
        if (secret && (r = cfg_set_text(secret, JOBCFG_MASK)) < 0)
            return r;
    }
    return cfg_serialize(copy, ret_xml, ret_len);
}

/* Copies a definition, with the default as jobcfg_parse() would give it back. */
static int param_copy(const struct param_def *src, struct param_def *dst)
{
    const char *dv = src->default_value;

    if (src->type == PARAM_CHOICE)
        dv = NULL;
    else if (src->type == PARAM_BOOLEAN && !dv)
        dv = "false";
    else if (!dv)
        dv = "";

    *dst = (struct param_def){ .type = src->type, .trim = src->type == PARAM_STRING && src->trim };
    if (dup_opt(src->name, &dst->name) < 0 || dup_opt(src->description, &dst->description) < 0 ||
        dup_opt(dv, &dst->default_value) < 0)
        return -ENOMEM;
    if (src->n_choices == 0 || !src->choices)
        return 0;
    dst->choices = calloc(src->n_choices, sizeof(char *));
    if (!dst->choices)
        return -ENOMEM;
    for (; dst->n_choices < src->n_choices; dst->n_choices++)
        if (dup_opt(src->choices[dst->n_choices], &dst->choices[dst->n_choices]) < 0)
            return -ENOMEM;
    return 0;
}

int
jobcfg_set_params(struct job_config *cfg, const struct param_def *params, size_t n)
{
    struct param_def *copy;
    size_t i;

    if (cfg->summary)
        return -EINVAL;
    copy = calloc(n ? n : 1, sizeof(*copy));
    if (!copy)
        return -ENOMEM;
    for (i = 0; i < n; i++)
        if (param_copy(&params[i], &copy[i]) < 0) {
            free_params(copy, i + 1);
            return -ENOMEM;
        }
    /* `params` may be cfg->params itself: free only after copying */
    free_params(cfg->params, cfg->n_params);
    cfg->params = copy;
    cfg->n_params = n;
    return 0;
}

int
jobcfg_set_shell_steps(struct job_config *cfg, const char *const *steps, size_t n)
{
    char **copy;

    if (cfg->summary)
        return -EINVAL;
    copy = calloc(n ? n : 1, sizeof(char *));
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(copy[i] = strdup(steps[i] ? steps[i] : ""))) {
            free_strv(copy, i);
            return -ENOMEM;
        }
    free_strv(cfg->shell_steps, cfg->n_shell_steps);
    cfg->shell_steps = copy;
    cfg->n_shell_steps = n;
    return 0;
}

int
jobcfg_set_discarder(struct job_config *cfg, int days, int builds, int artifact_days,
                     int artifact_builds)
{
    if (!cfg_is_keep_value(days) || !cfg_is_keep_value(builds) || !cfg_is_keep_value(artifact_days) ||
        !cfg_is_keep_value(artifact_builds))
        return -EINVAL;
    cfg->keep_days = days;
    cfg->keep_builds = builds;
    cfg->keep_artifact_days = artifact_days;
    cfg->keep_artifact_builds = artifact_builds;
    cfg->discarder_set = true;
    return 0;
}

const struct param_def *
jobcfg_find_param(const struct job_config *cfg, const char *name)
{
    if (!cfg || !name)
        return NULL;
    for (size_t i = 0; i < cfg->n_params; i++)
        if (cfg->params[i].name && streq(cfg->params[i].name, name))
            return &cfg->params[i];
    return NULL;
}

int
param_value_for(const struct param_def *d, const char *given, char **ret_value)
{
    const char *v = given, *end;

    switch (d->type) {
    case PARAM_BOOLEAN:
        v = v ? (strcasecmp(v, "true") == 0 ? "true" : "false")
              : (d->default_value ? d->default_value : "false");
        break;
    case PARAM_CHOICE:
        if (!v)
            v = d->n_choices ? d->choices[0] : "";
        else {
            bool found = false;
            for (size_t k = 0; k < d->n_choices && !found; k++)
                found = strcmp(d->choices[k], v) == 0;
            if (!found)
                return -EINVAL;
        }
        break;
    case PARAM_STRING:
        if (v && d->trim) {
            while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
                v++;
            end = v + strlen(v);
            while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
                end--;
            *ret_value = strndup(v, (size_t) (end - v));
            return *ret_value ? 0 : -ENOMEM;
        }
        /* fall through */
    case PARAM_TEXT:
    case PARAM_PASSWORD:
        if (!v)
            v = d->default_value ? d->default_value : "";
        break;
    case PARAM_FILE:
        /* no default: a file parameter not given puts no file in the workspace */
        if (!v)
            v = "";
        break;
    }
    *ret_value = strdup(v);
    return *ret_value ? 0 : -ENOMEM;
}
