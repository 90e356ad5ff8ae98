/* SPDX-License-Identifier: MIT */
/*
 * The build environment options and the post-build action that Steward
 * runs around the steps, as their plugins and jenkins-job-builder write
 * them:
 *
 *   <buildWrappers>
 *     <hudson.plugins.build__timeout.BuildTimeoutWrapper>
 *       <strategy class="hudson.plugins.build_timeout.impl.AbsoluteTimeOutStrategy">
 *         <timeoutMinutes>3</timeoutMinutes>
 *       </strategy>
 *       <operationList>
 *         <hudson.plugins.build__timeout.operations.FailOperation/>
 *         <hudson.plugins.build__timeout.operations.WriteDescriptionOperation>
 *           <description>timed out after {0} minutes</description> ...
 *     <hudson.plugins.ws__cleanup.PreBuildCleanup>
 *       <patterns><hudson.plugins.ws__cleanup.Pattern>
 *         <pattern>*.log</pattern><type>INCLUDE</type> ...
 *   <publishers>
 *     <hudson.plugins.ws__cleanup.WsCleanup> (patterns, cleanWhen..., notFailBuild)
 *   <customWorkspace>NAME</customWorkspace>
 *
 * A timeout of 0 or less, or one that is not a number, is refused here,
 * when the job is saved: Jenkins would quietly raise it to its minimum.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jobcfg_int.h"
#include "core/label.h"
#include "core/workspace.h"
#include "util/strutil.h"

#define TIMEOUT_WRAPPER "hudson.plugins.build__timeout.BuildTimeoutWrapper"
#define TIMEOUT_IMPL "hudson.plugins.build_timeout.impl."
#define TIMEOUT_OPS "hudson.plugins.build__timeout.operations."
#define PRE_CLEANUP "hudson.plugins.ws__cleanup.PreBuildCleanup"
#define POST_CLEANUP "hudson.plugins.ws__cleanup.WsCleanup"
#define CLEANUP_PATTERN "hudson.plugins.ws__cleanup.Pattern"
/* what a config may ask for; Jenkins has no bound, 10 years is plenty */
#define TIMEOUT_MAX_MINUTES (10 * 366 * 24 * 60)
#define CLEANUP_PATTERNS_MAX 256

static struct ws_cleanup *
cleanup_free(struct ws_cleanup *c)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n_patterns; i++)
        free(c->patterns[i].pattern);
    free(c->patterns);
    free(c->parameter);
    free(c->external);
    free(c);
    return NULL;
}

void
cfg_wrappers_free(struct job_config *cfg)
{
    if (cfg->timeout) {
        free(cfg->timeout->value);
        free(cfg->timeout->other);
        free(cfg->timeout->description);
        free(cfg->timeout->env_var);
        cfg->timeout = mfree(cfg->timeout);
    }
    cfg->pre_cleanup = cleanup_free(cfg->pre_cleanup);
    cfg->post_cleanup = cleanup_free(cfg->post_cleanup);
    cfg->custom_workspace = mfree(cfg->custom_workspace);
    cfg->assigned_node = mfree(cfg->assigned_node);
}

/* A shell variable's name, as ${NAME} may hold. */
static bool
is_var_name(const char *s, size_t n)
{
    if (n == 0 || n >= BOUND_PARAM_NAME_BYTES || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

int
jobcfg_timeout_var(const char *value, char *name, size_t size)
{
    size_t n = strlen(value);

    if (n > 3 && value[0] == '$' && value[1] == '{' && value[n - 1] == '}' &&
        is_var_name(value + 2, n - 3) && n - 3 < size) {
        memcpy(name, value + 2, n - 3);
        name[n - 3] = '\0';
        return 0;
    }
    if (n > 1 && value[0] == '$' && is_var_name(value + 1, n - 1) && n - 1 < size) {
        memcpy(name, value + 1, n - 1);
        name[n - 1] = '\0';
        return 0;
    }
    return -EINVAL;
}

int
jobcfg_timeout_number(const char *value, int max, int *ret)
{
    int v;

    if (cfg_parse_seconds(value, &v) < 0 || v > max)
        return -EINVAL;
    if (v <= 0)
        return -ERANGE;
    *ret = v;
    return 0;
}

/* The strategy's value: a whole number above 0, or one ${NAME} read when the build starts. */
static int
check_value(const char *what, const char *unit, int max, char *value, char **msg)
{
    char name[BOUND_PARAM_NAME_BYTES];
    const char *v = cfg_skip_space(value);
    int n;

    if (jobcfg_timeout_var(v, name, sizeof name) == 0)
        return 0;
    if (cfg_skip_space(v)[0] == '-' || jobcfg_timeout_number(v, max, &n) == -ERANGE)
        return cfg_fail(msg, "the build timeout's <%s> must be 1 %s or more, not '%s': a "
                             "timeout of 0 or less never ends a build. Remove the timeout, or "
                             "give it a number of %s", what, unit, CLIP(value), unit);
    if (jobcfg_timeout_number(v, max, &n) < 0)
        return cfg_fail(msg, "the build timeout's <%s> must be a whole number of %s (at most "
                             "%d) or one ${PARAMETER}, not '%s'", what, unit, max, CLIP(value));
    return 0;
}

static int
read_operations(struct build_timeout *t, const xmlNode *w, char **msg)
{
    xmlNode *list = cfg_first_child(w, "operationList");
    bool any = false;
    int r = 0;

    for (xmlNode *op = list ? list->children : NULL; op && r >= 0; op = op->next) {
        if (op->type != XML_ELEMENT_NODE)
            continue;
        any = true;
        if (cfg_node_is(op, TIMEOUT_OPS "AbortOperation"))
            t->abort = true;
        else if (cfg_node_is(op, TIMEOUT_OPS "FailOperation"))
            t->fail = true;
        else if (cfg_node_is(op, TIMEOUT_OPS "WriteDescriptionOperation")) {
            t->write_description = true;
            free(t->description);
            t->description = NULL;
            r = cfg_child_text(op, "description", &t->description, msg);
        } else
            return cfg_fail(msg, "the build timeout's operation %s is not run by Steward: use "
                                 "AbortOperation, FailOperation or WriteDescriptionOperation",
                            CLIP((const char *) op->name));
    }
    /* the plugin aborts when the list is empty (TimeoutTimerTask) */
    if (!any)
        t->abort = true;
    return r;
}

static int
read_timeout(struct job_config *cfg, const xmlNode *w, char **msg)
{
    struct build_timeout *t;
    xmlNode *strategy = cfg_first_child(w, "strategy");
    _cleanup_free_ char *legacy_type = NULL;
    int r;

    if (cfg->timeout)
        return cfg_fail(msg, "a job may have one build timeout wrapper");
    t = cfg->timeout = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    r = cfg_child_text(w, "timeoutEnvVar", &t->env_var, msg);
    if (r >= 0 && t->env_var && !is_var_name(t->env_var, strlen(t->env_var)))
        return cfg_fail(msg, "the build timeout's <timeoutEnvVar> must be a variable name "
                             "(letters, digits and _), not '%s'", CLIP(t->env_var));
    if (r < 0)
        return r;
    if (!strategy) {
        /* the form before plugin 1.14: timeoutMinutes, failBuild, writingDescription, timeoutType */
        r = cfg_child_text(w, "timeoutType", &legacy_type, msg);
        if (r >= 0)
            r = cfg_child_text(w, "timeoutMinutes", &t->value, msg);
        if (r >= 0)
            r = cfg_child_bool(w, "failBuild", false, &t->fail, msg);
        if (r >= 0)
            r = cfg_child_bool(w, "writingDescription", false, &t->write_description, msg);
        if (r < 0)
            return r;
        t->abort = !t->fail;
        if (legacy_type && !streq(legacy_type, "absolute")) {
            t->strategy = TIMEOUT_OTHER;
            t->other = strdup(legacy_type);
            return t->other ? 0 : -ENOMEM;
        }
        if (!t->value && !(t->value = strdup("3")))
            return -ENOMEM;
        return check_value("timeoutMinutes", "minutes", TIMEOUT_MAX_MINUTES, t->value, msg);
    }
    r = read_operations(t, w, msg);
    if (r < 0)
        return r;
    {
        _cleanup_(xml_free_strp) xmlChar *cls = xmlGetProp(strategy, (const xmlChar *) "class");
        const char *c = cls ? (const char *) cls : "";

        if (streq(c, TIMEOUT_IMPL "AbsoluteTimeOutStrategy")) {
            t->strategy = TIMEOUT_ABSOLUTE;
            r = cfg_child_text(strategy, "timeoutMinutes", &t->value, msg);
            if (r >= 0 && !t->value)
                return cfg_fail(msg, "the build timeout's AbsoluteTimeOutStrategy has no "
                                     "<timeoutMinutes>");
            if (r >= 0)
                r = check_value("timeoutMinutes", "minutes", TIMEOUT_MAX_MINUTES, t->value, msg);
            return r;
        }
        if (streq(c, TIMEOUT_IMPL "NoActivityTimeOutStrategy")) {
            t->strategy = TIMEOUT_NO_ACTIVITY;
            r = cfg_child_text(strategy, "timeoutSecondsString", &t->value, msg);
            if (r >= 0 && !t->value)
                r = cfg_child_text(strategy, "timeout", &t->value, msg);  /* before 1.14's string */
            if (r >= 0 && !t->value)
                return cfg_fail(msg, "the build timeout's NoActivityTimeOutStrategy has no "
                                     "<timeoutSecondsString>");
            if (r >= 0)
                r = check_value("timeoutSecondsString", "seconds", TIMEOUT_MAX_MINUTES, t->value,
                                msg);
            return r;
        }
        t->strategy = TIMEOUT_OTHER;
        t->other = strdup(*c ? c : "(no class)");
        return t->other ? 0 : -ENOMEM;
    }
}

static int
read_cleanup(const xmlNode *n, bool publisher, struct ws_cleanup **ret, char **msg)
{
    struct ws_cleanup *c;
    xmlNode *list = cfg_first_child(n, "patterns");
    static const char *const when[_WS_WHEN_MAX] = {
        [WS_WHEN_SUCCESS] = "cleanWhenSuccess", [WS_WHEN_UNSTABLE] = "cleanWhenUnstable",
        [WS_WHEN_FAILURE] = "cleanWhenFailure", [WS_WHEN_NOT_BUILT] = "cleanWhenNotBuilt",
        [WS_WHEN_ABORTED] = "cleanWhenAborted",
    };
    size_t n_patterns = list ? cfg_count_elements(list) : 0;
    int r;

    if (*ret)
        return cfg_fail(msg, "a job may have one %s", publisher ? POST_CLEANUP : PRE_CLEANUP);
    if (n_patterns > CLEANUP_PATTERNS_MAX)
        return cfg_fail(msg, "the workspace cleanup may have at most %d patterns",
                        CLEANUP_PATTERNS_MAX);
    c = *ret = calloc(1, sizeof *c);
    if (!c || (n_patterns && !(c->patterns = calloc(n_patterns, sizeof *c->patterns))))
        return -ENOMEM;
    for (xmlNode *p = list ? list->children : NULL; p; p = p->next) {
        struct ws_pattern *wp;
        _cleanup_free_ char *type = NULL;

        if (p->type != XML_ELEMENT_NODE)
            continue;
        if (!cfg_node_is(p, CLEANUP_PATTERN))
            return cfg_fail(msg, "the workspace cleanup's <patterns> holds %s, not %s",
                            CLIP((const char *) p->name), CLEANUP_PATTERN);
        wp = &c->patterns[c->n_patterns++];
        r = cfg_child_text(p, "pattern", &wp->pattern, msg);
        if (r >= 0)
            r = cfg_child_text(p, "type", &type, msg);
        if (r < 0)
            return r;
        if (!wp->pattern)
            return cfg_fail(msg, "a workspace cleanup pattern has no <pattern>");
        if (!type || streq(type, "INCLUDE"))
            wp->exclude = false;
        else if (streq(type, "EXCLUDE"))
            wp->exclude = true;
        else
            return cfg_fail(msg, "a workspace cleanup pattern's <type> is INCLUDE or EXCLUDE, "
                                 "not '%s'", CLIP(type));
    }
    r = cfg_child_bool(n, "deleteDirs", false, &c->delete_dirs, msg);
    if (r >= 0)
        r = cfg_child_text(n, "cleanupParameter", &c->parameter, msg);
    if (r >= 0)
        r = cfg_child_text(n, "externalDelete", &c->external, msg);
    for (size_t i = 0; r >= 0 && publisher && i < _WS_WHEN_MAX; i++)
        r = cfg_child_bool(n, when[i], true, &c->when[i], msg);
    if (r >= 0 && publisher)
        r = cfg_child_bool(n, "notFailBuild", false, &c->not_fail_build, msg);
    if (r >= 0 && publisher) {
        /* the older flag: skip the cleanup of a failed build */
        bool skip_failed;
        r = cfg_child_bool(n, "skipWhenFailed", false, &skip_failed, msg);
        if (r >= 0 && skip_failed)
            c->when[WS_WHEN_FAILURE] = false;
    }
    return r;
}

static int
read_custom_workspace(struct job_config *cfg, const xmlNode *root, char **msg)
{
    _cleanup_free_ char *v = NULL;
    const char *why = NULL;
    int r;

    r = cfg_child_text(root, "customWorkspace", &v, msg);
    if (r < 0 || !v || !*v)
        return r;
    if (workspace_custom_check(v, &why) < 0)
        return cfg_fail(msg, "<customWorkspace> '%s' cannot be used: %s", CLIP(v), why);
    cfg->custom_workspace = TAKE_PTR(v);
    return 0;
}

/* <assignedNode>, unless <canRoam> says it does not apply */
static int
read_assigned_node(struct job_config *cfg, const xmlNode *root, char **msg)
{
    _cleanup_free_ char *v = NULL;
    bool roam;
    int r;

    r = cfg_child_text(root, "assignedNode", &v, msg);
    if (r < 0 || !v)
        return r;
    /* JJB writes canRoam true without a node, false with one; absent: the label applies */
    r = cfg_child_bool(root, "canRoam", false, &roam, msg);
    if (r < 0 || roam)
        return r;
    {
        /* as Jenkins trims it */
        size_t a = strspn(v, " \t\r\n"), n = strlen(v);
        while (n > a && strchr(" \t\r\n", v[n - 1]))
            n--;
        memmove(v, v + a, n - a);
        v[n - a] = '\0';
    }
    if (!*v)
        return 0;
    if (strlen(v) > BOUND_LABEL_EXPR_BYTES)
        return cfg_fail(msg, "<assignedNode> is longer than %d bytes", BOUND_LABEL_EXPR_BYTES);
    {
        _cleanup_free_ char *why = NULL;
        struct label_expr *e = NULL;

        r = label_parse(v, &e, &why);
        label_free(e);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            return cfg_fail(msg, "<assignedNode> '%s' is not a label expression: %s", CLIP(v),
                            why ? why : "");
    }
    cfg->assigned_node = TAKE_PTR(v);
    return 0;
}

int
cfg_read_wrappers(struct job_config *cfg, const xmlNode *root, char **msg)
{
    xmlNode *wrappers = cfg_first_child(root, "buildWrappers");
    xmlNode *publishers = cfg_first_child(root, "publishers");
    int r = 0;

    for (xmlNode *w = wrappers ? wrappers->children : NULL; w && r >= 0; w = w->next) {
        if (w->type != XML_ELEMENT_NODE)
            continue;
        if (cfg_node_is(w, TIMEOUT_WRAPPER))
            r = read_timeout(cfg, w, msg);
        else if (cfg_node_is(w, PRE_CLEANUP))
            r = read_cleanup(w, false, &cfg->pre_cleanup, msg);
    }
    for (xmlNode *p = publishers ? publishers->children : NULL; p && r >= 0; p = p->next)
        if (p->type == XML_ELEMENT_NODE && cfg_node_is(p, POST_CLEANUP))
            r = read_cleanup(p, true, &cfg->post_cleanup, msg);
    if (r >= 0)
        r = read_custom_workspace(cfg, root, msg);
    if (r >= 0)
        r = read_assigned_node(cfg, root, msg);
    return r;
}
