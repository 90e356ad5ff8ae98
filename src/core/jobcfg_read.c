/* SPDX-License-Identifier: MIT */
/*
 * From a parsed document to struct job_config: every managed field, with
 * the checks that make a bad config.xml a clear refusal.
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

/* What a blank "New Item" freestyle job looks like in Jenkins. */
static const char blank_job_xml[] =
    "<?xml version='1.1' encoding='UTF-8'?>\n"
    "<project>\n"
    "  <actions/>\n"
    "  <description></description>\n"
    "  <keepDependencies>false</keepDependencies>\n"
    "  <properties/>\n"
    "  <scm class=\"hudson.scm.NullSCM\"/>\n"
    "  <canRoam>true</canRoam>\n"
    "  <disabled>false</disabled>\n"
    "  <blockBuildWhenDownstreamBuilding>false</blockBuildWhenDownstreamBuilding>\n"
    "  <blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>\n"
    "  <triggers/>\n"
    "  <concurrentBuild>false</concurrentBuild>\n"
    "  <builders/>\n"
    "  <publishers/>\n"
    "  <buildWrappers/>\n"
    "</project>\n";


/* ---- small parsers ----------------------------------------------------- */

const char *cfg_skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

/* Length of `s` without trailing XML whitespace. */
size_t cfg_trimmed_len(const char *s)
{
    size_t n = strlen(s);

    while (n > 0 && strchr(" \t\n\r", s[n - 1]))
        n--;
    return n;
}

/* `s` without leading and trailing XML whitespace, cut in place. */
char *cfg_trimmed(char *s)
{
    s = (char *) cfg_skip_space(s);
    s[cfg_trimmed_len(s)] = '\0';
    return s;
}

/*
 * XStream reads booleans case-insensitively; an empty element means false.
 * Anything else is refused rather than silently read as false.
 */
int cfg_parse_bool(const char *s, bool *ret)
{
    size_t n;

    s = cfg_skip_space(s);
    n = cfg_trimmed_len(s);
    if (n == 0 || (n == 5 && strncasecmp(s, "false", 5) == 0)) {
        *ret = false;
        return 0;
    }
    if (n == 4 && strncasecmp(s, "true", 4) == 0) {
        *ret = true;
        return 0;
    }
    return -EINVAL;
}

/* A non-negative decimal int, surrounding whitespace allowed. */
int cfg_parse_seconds(const char *s, int *ret)
{
    long long v = 0;
    size_t n, i;

    s = cfg_skip_space(s);
    n = cfg_trimmed_len(s);
    if (n == 0)
        return -EINVAL;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
        if (v > INT_MAX)
            return -ERANGE;
    }
    *ret = (int) v;
    return 0;
}

static bool is_xml_char(uint32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* Whether `s` is UTF-8 made only of characters an XML 1.0 document can carry. */
bool cfg_is_xml_text(const char *s)
{
    const unsigned char *p = (const unsigned char *) s;

    while (*p) {
        uint32_t c;
        size_t n, i;

        if (*p < 0x80)
            c = *p, n = 1;
        else if ((*p & 0xE0) == 0xC0)
            c = *p & 0x1F, n = 2;
        else if ((*p & 0xF0) == 0xE0)
            c = *p & 0x0F, n = 3;
        else if ((*p & 0xF8) == 0xF0)
            c = *p & 0x07, n = 4;
        else
            return false;
        for (i = 1; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            c = (c << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000))
            return false;
        if (!is_xml_char(c))
            return false;
        p += n;
    }
    return true;
}

/* ---- reading the tree -------------------------------------------------- */

bool cfg_node_is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

static const char *node_name(const xmlNode *n)
{
    return (const char *) n->name;
}

xmlNode *cfg_first_child(const xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent->children; c; c = c->next)
        if (cfg_node_is(c, name))
            return c;
    return NULL;
}

xmlNode *cfg_first_element(const xmlNode *parent)
{
    for (xmlNode *c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

size_t cfg_count_elements(const xmlNode *parent)
{
    size_t n = 0;

    for (xmlNode *c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            n++;
    return n;
}

/*
 * Finds the child element `name` of `parent`. Sets *ret (NULL when there
 * is none); -EINVAL when there are several, because XStream would take the
 * last one and we would read the first.
 */
static int find_child(const xmlNode *parent, const char *name, xmlNode **ret, char **msg)
{
    xmlNode *found = cfg_first_child(parent, name);

    for (xmlNode *c = found ? found->next : NULL; c; c = c->next)
        if (cfg_node_is(c, name))
            return cfg_fail(msg, "<%s> holds more than one <%s>", node_name(parent), name);
    *ret = found;
    return 0;
}

/*
 * The decoded text of an element: its text and CDATA children, in order
 * (comments and processing instructions skipped). An element inside is
 * -EINVAL: a managed field is a plain string.
 */
int cfg_node_text(const xmlNode *n, char **ret, char **msg)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(TEXT_MAX);
    char *s;
    int r;

    for (const xmlNode *c = n->children; c; c = c->next) {
        switch (c->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            r = c->content ? buf_puts(&b, (const char *) c->content) : 0;
            if (r < 0)
                return r == -E2BIG ? -ENOMEM : r;
            break;
        case XML_COMMENT_NODE:
        case XML_PI_NODE:
            break;
        default:
            return cfg_fail(msg, "<%s> must hold text only", node_name(n));
        }
    }
    s = buf_detach(&b);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

int cfg_child_text(const xmlNode *parent, const char *name, char **ret, char **msg)
{
    xmlNode *c = cfg_first_child(parent, name);
    char *t = NULL;
    int r;

    *ret = NULL;
    if (!c)
        return 0;
    r = cfg_node_text(c, &t, msg);
    if (r < 0)
        return r;
    memmove(t, cfg_trimmed(t), strlen(cfg_trimmed(t)) + 1);
    if (!*t) {
        free(t);
        return 0;
    }
    *ret = t;
    return 0;
}

int cfg_child_bool(const xmlNode *parent, const char *name, bool dflt, bool *ret, char **msg)
{
    _cleanup_free_ char *t = NULL;
    int r = cfg_child_text(parent, name, &t, msg);

    if (r < 0)
        return r;
    *ret = dflt;
    if (t && cfg_parse_bool(t, ret) < 0)
        return cfg_fail(msg, "<%s> must be true or false, not '%s'", name, CLIP(t));
    return 0;
}

/* The text of the only child `name`; *ret is NULL when it is absent. */
static int child_text(const xmlNode *parent, const char *name, char **ret, char **msg)
{
    xmlNode *c;
    int r;

    r = find_child(parent, name, &c, msg);
    if (r < 0)
        return r;
    if (!c) {
        *ret = NULL;
        return 0;
    }
    return cfg_node_text(c, ret, msg);
}

static int child_bool(const xmlNode *parent, const char *name, bool *ret, char **msg)
{
    _cleanup_free_ char *s = NULL;
    int r;

    r = child_text(parent, name, &s, msg);
    if (r < 0)
        return r;
    if (!s) {
        *ret = false;
        return 0;
    }
    if (cfg_parse_bool(s, ret) < 0)
        return cfg_fail(msg, "<%s> must be true or false, not '%s'", name, CLIP(s));
    return 0;
}

bool cfg_param_type_of(const xmlNode *n, enum param_type *ret)
{
    for (size_t i = 0; i < ELEMENTSOF(cfg_param_class); i++)
        if (cfg_node_is(n, cfg_param_class[i])) {
            *ret = (enum param_type) i;
            return true;
        }
    return false;
}

static int read_param(const xmlNode *def, enum param_type type, size_t index,
                      struct param_def *p, char **msg)
{
    int r;

    p->type = type;
    r = child_text(def, "name", &p->name, msg);
    if (r < 0)
        return r;
    if (!p->name || !p->name[0])
        return cfg_fail(msg, "parameter %zu (%s) has no name", index + 1, param_type_to_string(type));
    r = child_text(def, "description", &p->description, msg);
    if (r < 0)
        return r;

    if (type == PARAM_STRING) {
        r = child_bool(def, "trim", &p->trim, msg);
        if (r < 0)
            return r;
    }

    switch (type) {
    case PARAM_STRING:
    case PARAM_TEXT:
    case PARAM_PASSWORD:
        r = child_text(def, "defaultValue", &p->default_value, msg);
        if (r < 0)
            return r;
        if (!p->default_value && !(p->default_value = strdup("")))
            return -ENOMEM;
        return 0;
    case PARAM_BOOLEAN: {
        bool b;

        r = child_bool(def, "defaultValue", &b, msg);
        if (r < 0)
            return r;
        p->default_value = strdup(b ? "true" : "false");
        return p->default_value ? 0 : -ENOMEM;
    }
    case PARAM_CHOICE:
        break;
    case PARAM_FILE:
        /* no default (""); its name is a path in the workspace, checked when a file comes */
        p->default_value = strdup("");
        return p->default_value ? 0 : -ENOMEM;
    }

    /* choices: <choices><a class="string-array"><string>... or <choices><string>... */
    xmlNode *choices, *list;
    size_t n = 0;

    r = find_child(def, "choices", &choices, msg);
    if (r < 0 || !choices)
        return r;
    r = find_child(choices, "a", &list, msg);
    if (r < 0)
        return r;
    if (!list)
        list = choices;
    for (xmlNode *c = list->children; c; c = c->next)
        n += cfg_node_is(c, "string");
    if (n > BOUND_CHOICES)
        return cfg_fail(msg, "parameter '%s' has more than %d choices", CLIP(p->name), BOUND_CHOICES);
    p->choices = calloc(n ? n : 1, sizeof(char *));
    if (!p->choices)
        return -ENOMEM;
    for (xmlNode *c = list->children; c; c = c->next) {
        if (!cfg_node_is(c, "string"))
            continue;
        r = cfg_node_text(c, &p->choices[p->n_choices], msg);
        if (r < 0)
            return r;
        p->n_choices++;
    }
    return 0;
}

/*
 * Checks that no two parameters share a name: the known ones in `params`
 * and those of other classes still in `defs` (which are kept as they are).
 */
int cfg_check_param_names(const xmlNode *defs, const struct param_def *params, size_t n,
                             char **msg)
{
    _cleanup_free_ const char **names = NULL;
    _cleanup_free_ char **owned = NULL;
    size_t n_names = 0, n_owned = 0, cap = n + (defs ? cfg_count_elements(defs) : 0);
    enum param_type t;
    int r = 0;

    names = calloc(cap ? cap : 1, sizeof(char *));
    owned = calloc(cap ? cap : 1, sizeof(char *));
    if (!names || !owned)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        names[n_names++] = params[i].name;
    for (const xmlNode *c = defs ? defs->children : NULL; c; c = c->next) {
        xmlNode *name = NULL;

        if (c->type == XML_ELEMENT_NODE && !cfg_param_type_of(c, &t))
            name = cfg_first_child(c, "name");

        if (name && cfg_node_text(name, &owned[n_owned], NULL) == 0)
            names[n_names++] = owned[n_owned++];
    }

    for (size_t i = 0; i < n_names && r == 0; i++)
        for (size_t j = i + 1; j < n_names && r == 0; j++)
            if (streq(names[i], names[j]))
                r = cfg_fail(msg, "two parameters are named '%s'", CLIP(names[i]));

    for (size_t i = 0; i < n_owned; i++)
        free(owned[i]);
    return r;
}

static int read_params(struct job_config *cfg, const xmlNode *root, char **msg)
{
    xmlNode *props, *prop, *defs;
    enum param_type t;
    size_t n = 0;
    int r;

    r = find_child(root, "properties", &props, msg);
    if (r < 0 || !props)
        return r;
    r = find_child(props, PARAMS_PROPERTY, &prop, msg);
    if (r < 0 || !prop)
        return r;
    r = find_child(prop, "parameterDefinitions", &defs, msg);
    if (r < 0 || !defs)
        return r;

    if (cfg_count_elements(defs) > BOUND_JOB_PARAMS)
        return cfg_fail(msg, "a job may have at most %d parameters", BOUND_JOB_PARAMS);
    for (xmlNode *c = defs->children; c; c = c->next)
        n += cfg_param_type_of(c, &t);
    cfg->params = calloc(n ? n : 1, sizeof(struct param_def));
    if (!cfg->params)
        return -ENOMEM;

    /* other classes (FileParameterDefinition, plugins) stay in the document only */
    for (xmlNode *c = defs->children; c; c = c->next) {
        if (!cfg_param_type_of(c, &t))
            continue;
        r = read_param(c, t, cfg->n_params, &cfg->params[cfg->n_params], msg);
        cfg->n_params++;
        if (r < 0)
            return r;
    }
    return cfg_check_param_names(defs, cfg->params, cfg->n_params, msg);
}

static int read_shell_steps(struct job_config *cfg, const xmlNode *root, char **msg)
{
    xmlNode *builders, *command;
    size_t n = 0;
    int r;

    r = find_child(root, "builders", &builders, msg);
    if (r < 0 || !builders)
        return r;
    if (cfg_count_elements(builders) > BOUND_JOB_BUILDERS)
        return cfg_fail(msg, "a job may have at most %d build steps", BOUND_JOB_BUILDERS);
    for (xmlNode *c = builders->children; c; c = c->next)
        n += cfg_node_is(c, SHELL_BUILDER);
    cfg->shell_steps = calloc(n ? n : 1, sizeof(char *));
    if (!cfg->shell_steps)
        return -ENOMEM;

    for (xmlNode *c = builders->children; c; c = c->next) {
        if (!cfg_node_is(c, SHELL_BUILDER))
            continue;
        r = find_child(c, "command", &command, msg);
        if (r < 0)
            return r;
        if (command)
            r = cfg_node_text(command, &cfg->shell_steps[cfg->n_shell_steps], msg);
        else if (!(cfg->shell_steps[cfg->n_shell_steps] = strdup("")))
            r = -ENOMEM;
        if (r < 0)
            return r;
        cfg->n_shell_steps++;
    }
    return 0;
}

/*
 * A non-negative factor such as the JUnit publisher's healthScaleFactor:
 * 1.0 when absent or empty; anything else that is not a number is refused.
 */
static int child_scale(const xmlNode *parent, const char *name, double *ret, char **msg)
{
    _cleanup_free_ char *s = NULL;
    char *end;
    double d;
    int r;

    *ret = 1.0;
    r = cfg_child_text(parent, name, &s, msg);
    if (r < 0 || !s || !*s)
        return r;
    d = strtod(s, &end);
    if (end == s || *cfg_skip_space(end) || !(d >= 0 && d <= 1e6))
        return cfg_fail(msg, "<%s> must be a number from 0 up, not '%s'", name, CLIP(s));
    *ret = d;
    return 0;
}

/* The timer trigger and the artifact archiver: read, never written (the document keeps them). */
static int read_publishers_and_triggers(struct job_config *cfg, const xmlNode *root, char **msg)
{
    xmlNode *triggers, *timer, *poll, *publishers, *archiver, *junit;
    int r;

    r = find_child(root, "triggers", &triggers, msg);
    if (r < 0)
        return r;
    timer = triggers ? cfg_first_child(triggers, "hudson.triggers.TimerTrigger") : NULL;
    if (timer) {
        r = child_text(timer, "spec", &cfg->timer_spec, msg);
        if (r < 0)
            return r;
    }
    poll = triggers ? cfg_first_child(triggers, "hudson.triggers.SCMTrigger") : NULL;
    if (poll) {
        r = child_text(poll, "spec", &cfg->scm_poll_spec, msg);
        if (r >= 0)
            r = child_bool(poll, "ignorePostCommitHooks", &cfg->scm_ignore_hooks, msg);
        if (r < 0)
            return r;
        if (!cfg->scm_poll_spec && !(cfg->scm_poll_spec = strdup("")))
            return -ENOMEM;
    }
    r = find_child(root, "publishers", &publishers, msg);
    if (r < 0)
        return r;
    archiver = publishers ? cfg_first_child(publishers, "hudson.tasks.ArtifactArchiver") : NULL;
    if (archiver) {
        r = child_text(archiver, "artifacts", &cfg->archive_artifacts, msg);
        if (r >= 0)
            r = child_text(archiver, "excludes", &cfg->archive_excludes, msg);
        if (r >= 0)
            r = child_bool(archiver, "allowEmptyArchive", &cfg->archive_allow_empty, msg);
        if (r >= 0)
            r = child_bool(archiver, "onlyIfSuccessful", &cfg->archive_only_if_successful, msg);
        if (r < 0)
            return r;
        if (!cfg->archive_artifacts)
            cfg->archive_artifacts = strdup("");
        if (!cfg->archive_artifacts)
            return -ENOMEM;
    }
    junit = publishers ? cfg_first_child(publishers, "hudson.tasks.junit.JUnitResultArchiver") : NULL;
    if (junit) {
        r = child_text(junit, "testResults", &cfg->junit_results, msg);
        if (r >= 0)
            r = child_bool(junit, "allowEmptyResults", &cfg->junit_allow_empty, msg);
        if (r >= 0)
            r = child_bool(junit, "keepLongStdio", &cfg->junit_keep_long_stdio, msg);
        if (r >= 0)
            r = child_scale(junit, "healthScaleFactor", &cfg->junit_health_scale, msg);
        if (r >= 0)
            r = child_bool(junit, "skipMarkingBuildUnstable", &cfg->junit_skip_unstable, msg);
        if (r < 0)
            return r;
        if (!cfg->junit_results && !(cfg->junit_results = strdup("")))
            return -ENOMEM;
    }
    return 0;
}

/*
 * A LogRotator count or number of days: empty, absent or negative is "not
 * set" (-1); more than JOBCFG_KEEP_MAX (some 2,700 years, or a million
 * builds) counts as that, so that the configure page can show it.
 */
int cfg_child_keep(const xmlNode *parent, const char *name, int *ret, char **msg)
{
    _cleanup_free_ char *s = NULL;
    const char *digits;
    int r, v;

    *ret = -1;
    r = child_text(parent, name, &s, msg);
    if (r < 0 || !s || cfg_trimmed_len(cfg_skip_space(s)) == 0)
        return r;
    digits = cfg_skip_space(s);
    if (*digits == '-')
        digits++;
    if (cfg_parse_seconds(digits, &v) < 0)
        return cfg_fail(msg, "<%s> must be a whole number, not '%s'", name, CLIP(s));
    if (digits == cfg_skip_space(s))
        *ret = MIN(v, JOBCFG_KEEP_MAX);
    return 0;
}

/*
 * "Discard old builds". Another strategy class (a plugin's) is kept in the
 * document and not applied, like other plugins' settings; its name is
 * noted for the configuration page.
 */
static int read_discarder(struct job_config *cfg, const xmlNode *root, char **msg)
{
    xmlNode *props, *prop = NULL, *strategy = NULL;
    _cleanup_(xml_free_strp) xmlChar *cls = NULL;
    int r;

    cfg->keep_days = cfg->keep_builds = cfg->keep_artifact_days = cfg->keep_artifact_builds = -1;
    r = find_child(root, "properties", &props, msg);
    if (r >= 0 && props)
        r = find_child(props, DISCARDER_PROPERTY, &prop, msg);
    if (r >= 0)
        r = find_child(prop ? prop : root, prop ? "strategy" : "logRotator", &strategy, msg);
    if (r < 0 || !strategy)
        return r;
    cls = xmlGetProp(strategy, BAD_CAST "class");
    if (cls && !streq((const char *) cls, LOG_ROTATOR)) {
        cfg->other_discarder = strdup((const char *) cls);
        return cfg->other_discarder ? 0 : -ENOMEM;
    }
    r = cfg_child_keep(strategy, "daysToKeep", &cfg->keep_days, msg);
    if (r >= 0)
        r = cfg_child_keep(strategy, "numToKeep", &cfg->keep_builds, msg);
    if (r >= 0)
        r = cfg_child_keep(strategy, "artifactDaysToKeep", &cfg->keep_artifact_days, msg);
    if (r >= 0)
        r = cfg_child_keep(strategy, "artifactNumToKeep", &cfg->keep_artifact_builds, msg);
    return r;
}

/* Steward's own <steward.sandbox network="none|host"/>, a child of <project>. */
static int read_sandbox(struct job_config *cfg, const xmlNode *root, char **msg)
{
    _cleanup_(xml_free_strp) xmlChar *net = NULL;
    xmlNode *n = NULL;
    int r;

    r = find_child(root, "steward.sandbox", &n, msg);
    if (r < 0 || !n)
        return r;
    net = xmlGetProp(n, BAD_CAST "network");
    if (!net)
        return 0;
    if (xmlStrEqual(net, BAD_CAST "none"))
        cfg->network = SANDBOX_NET_NONE;
    else if (xmlStrEqual(net, BAD_CAST "host"))
        cfg->network = SANDBOX_NET_HOST;
    else
        return cfg_fail(msg, "<steward.sandbox network=\"%s\">: the network is \"none\" or \"host\"",
                    CLIP((const char *) net));
    return 0;
}

/*
 * matrix-auth's job property, as matrix-auth 3 writes it ("USER:perm:sid",
 * "GROUP:perm:sid") or as older versions and jenkins-job-builder do
 * ("perm:sid"). An entry for a permission Steward does not use stays in
 * the document and grants nothing here.
 */
static int read_matrix(struct job_config *cfg, const xmlNode *root, char **msg)
{
    struct job_matrix *m = &cfg->matrix;
    xmlNode *props, *prop = NULL, *strategy = NULL, *blocks = NULL;
    size_t n = 0;
    int r;

    r = find_child(root, "properties", &props, msg);
    if (r >= 0 && props)
        r = find_child(props, MATRIX_PROPERTY, &prop, msg);
    if (r < 0 || !prop)
        return r;
    m->present = true;
    m->inherit = true;
    r = find_child(prop, "inheritanceStrategy", &strategy, msg);
    if (r >= 0)
        r = find_child(prop, "blocksInheritance", &blocks, msg);
    if (r < 0)
        return r;
    if (strategy) {
        _cleanup_(xml_free_strp) xmlChar *cls = xmlGetProp(strategy, BAD_CAST "class");
        m->inherit = !(cls && xmlStrEqual(cls, BAD_CAST NON_INHERITING));
    } else if (blocks) {
        _cleanup_free_ char *t = NULL;
        r = cfg_node_text(blocks, &t, msg);
        if (r < 0)
            return r;
        m->inherit = !streq(cfg_trimmed(t), "true");
    }
    for (xmlNode *c = prop->children; c; c = c->next)
        n += cfg_node_is(c, "permission");
    if (n > BOUND_JOB_GRANTS)
        return cfg_fail(msg, "a job's authorization matrix may have at most %d entries",
                    BOUND_JOB_GRANTS);
    m->grants = calloc(n ? n : 1, sizeof *m->grants);
    if (!m->grants)
        return -ENOMEM;
    for (xmlNode *c = prop->children; c; c = c->next) {
        _cleanup_free_ char *t = NULL;

        if (!cfg_node_is(c, "permission"))
            continue;
        r = cfg_node_text(c, &t, msg);
        if (r < 0)
            return r;
        r = grant_parse(cfg_trimmed(t), &m->grants[m->n_grants]);
        if (r == -ENOENT)
            continue;
        if (r == -EINVAL)
            return cfg_fail(msg, "<permission>%s</permission> is not a grant: write "
                        "USER:hudson.model.Item.Build:NAME (or GROUP:, or PERMISSION:NAME)",
                        CLIP(t));
        if (r < 0)
            return r;
        m->n_grants++;
    }
    return 0;
}

static int read_config(struct job_config *cfg, const xmlNode *root, char **msg)
{
    _cleanup_free_ char *quiet = NULL;
    int r;

    r = child_text(root, "description", &cfg->description, msg);
    if (r < 0)
        return r;
    r = child_bool(root, "disabled", &cfg->disabled, msg);
    if (r < 0)
        return r;
    r = child_bool(root, "concurrentBuild", &cfg->concurrent_build, msg);
    if (r < 0)
        return r;

    r = child_text(root, "quietPeriod", &quiet, msg);
    if (r < 0)
        return r;
    cfg->quiet_period = -1;
    if (quiet && cfg_parse_seconds(quiet, &cfg->quiet_period) < 0) {
        if (cfg_skip_space(quiet)[0] == '-')
            return cfg_fail(msg, "<quietPeriod> must not be negative");
        return cfg_fail(msg, "<quietPeriod> must be a number of seconds, not '%s'", CLIP(quiet));
    }

    r = child_text(root, "authToken", &cfg->auth_token, msg);
    if (r < 0)
        return r;
    if (cfg->auth_token && !cfg->auth_token[0])
        cfg->auth_token = mfree(cfg->auth_token);

    r = read_params(cfg, root, msg);
    if (r < 0)
        return r;
    r = read_shell_steps(cfg, root, msg);
    if (r < 0)
        return r;
    r = read_discarder(cfg, root, msg);
    if (r < 0)
        return r;
    r = read_sandbox(cfg, root, msg);
    if (r < 0)
        return r;
    r = read_matrix(cfg, root, msg);
    if (r < 0)
        return r;
    r = read_publishers_and_triggers(cfg, root, msg);
    if (r < 0)
        return r;
    r = cfg_read_git(cfg, root, msg);
    if (r >= 0)
        r = cfg_read_forge_triggers(cfg, root, msg);
    if (r >= 0)
        r = cfg_read_bindings(cfg, root, msg);
    if (r >= 0)
        r = cfg_read_wrappers(cfg, root, msg);
    if (r >= 0)
        r = cfg_read_chain(cfg, root, msg);
    if (r < 0)
        return r;
    return cfg_read_support(cfg, root);
}

int
jobcfg_parse(const char *xml, size_t len, struct job_config **ret_cfg, char **reterr_msg)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    _cleanup_(xml_free_docp) xmlDoc *doc = NULL;
    _cleanup_free_ char *msg = NULL;
    struct quiet q;
    xmlNode *root;
    int r;

    if (len > BOUND_CONFIG_XML_BYTES)
        return -E2BIG;
    if (len == 0) {
        r = cfg_fail(&msg, "config.xml is empty");
        goto out;
    }
    /* libxml2 would stop reading at a NUL and ignore the rest */
    if (memchr(xml, '\0', len)) {
        r = cfg_fail(&msg, "config.xml contains a NUL byte (UTF-16 and UTF-32 are not supported)");
        goto out;
    }
    (void) pthread_once(&cfg_xml_once, cfg_xml_init);

    q = cfg_quiet_begin();
    r = cfg_parse_doc(xml, len, &doc, &msg);
    cfg_quiet_end(&q);
    if (r < 0)
        goto out;

    root = xmlDocGetRootElement(doc);
    if (!cfg_node_is(root, "project")) {
        r = cfg_fail(&msg, "root element is <%s>, Steward runs freestyle <project> jobs",
                 root ? CLIP(node_name(root)) : "(none)");
        goto out;
    }

    cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return -ENOMEM;
    cfg->doc = TAKE_PTR(doc);
    r = read_config(cfg, root, &msg);
    if (r < 0)
        goto out;

    *ret_cfg = TAKE_PTR(cfg);
    return 0;

out:
    if (r == -EINVAL && !msg)
        r = cfg_fail(&msg, "config.xml is not a valid freestyle job");
    if (r == -EINVAL && reterr_msg)
        *reterr_msg = TAKE_PTR(msg);
    return r;
}

int
jobcfg_new(struct job_config **ret_cfg)
{
    int r = jobcfg_parse(blank_job_xml, sizeof(blank_job_xml) - 1, ret_cfg, NULL);

    /* the template is ours: only an allocation can cfg_fail */
    return r < 0 ? -ENOMEM : 0;
}
