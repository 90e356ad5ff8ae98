/* SPDX-License-Identifier: MIT */
/*
 * Chains in config.xml: the post-build triggers of other jobs
 * (hudson.tasks.BuildTrigger and the Parameterized Trigger plugin's
 * hudson.plugins.parameterizedtrigger.BuildTrigger), the reverse trigger
 * (jenkins.triggers.ReverseBuildTrigger) and the two blockBuildWhen...
 * flags. core/chain.c runs them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jobcfg_int.h"
#include "util/strutil.h"

#define BUILD_TRIGGER "hudson.tasks.BuildTrigger"
#define REVERSE_TRIGGER "jenkins.triggers.ReverseBuildTrigger"
#define PT "hudson.plugins.parameterizedtrigger."

int
jobcfg_result_ordinal(const char *name)
{
    static const char *const names[] = { "SUCCESS", "UNSTABLE", "FAILURE", "NOT_BUILT", "ABORTED" };

    for (size_t i = 0; name && i < ELEMENTSOF(names); i++)
        if (streq(name, names[i]))
            return (int) i;
    return -1;
}

bool
jobcfg_lines_have(const char *lines, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = lines; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t) (nl - p) : strlen(p);

        if (len == n && memcmp(p, name, n) == 0)
            return true;
        p = nl ? nl + 1 : NULL;
    }
    return false;
}

/*
 * A <threshold> (hudson.model.Result: name, ordinal, color): the results
 * as good as it or better. Absent: SUCCESS only, as Jenkins' default.
 */
static int
read_threshold(const xmlNode *parent, unsigned *ret, char **msg)
{
    xmlNode *t = cfg_first_child(parent, "threshold");
    _cleanup_free_ char *name = NULL, *ordinal = NULL;
    int64_t ord = 0;
    int r;

    *ret = 1u;
    if (!t)
        return 0;
    r = cfg_child_text(t, "name", &name, msg);
    if (r >= 0)
        r = cfg_child_text(t, "ordinal", &ordinal, msg);
    if (r < 0)
        return r;
    if (name) {
        ord = jobcfg_result_ordinal(name);
        if (ord < 0 || ord > 2)
            return cfg_fail(msg, "<threshold><name> is SUCCESS, UNSTABLE or FAILURE, not '%s'",
                            CLIP(name));
    } else if (ordinal && (parse_int64(ordinal, 0, 2, &ord) < 0))
        return cfg_fail(msg, "<threshold><ordinal> is 0, 1 or 2, not '%s'", CLIP(ordinal));
    *ret = (1u << (ord + 1)) - 1;
    return 0;
}

/* The parameterized trigger's ResultCondition, as the results that meet it. */
static int
read_condition(const xmlNode *parent, unsigned *ret, char **msg)
{
    static const struct {
        const char *name;
        unsigned when;
    } conds[] = {
        { "SUCCESS", 1u << 0 },
        { "UNSTABLE", 1u << 1 },
        { "FAILED_OR_BETTER", 0x7u },
        { "UNSTABLE_OR_BETTER", 0x3u },
        { "UNSTABLE_OR_WORSE", 0x1eu },
        { "FAILED", 1u << 2 },
        { "ALWAYS", CHAIN_ALL_RESULTS },
    };
    _cleanup_free_ char *c = NULL;
    int r = cfg_child_text(parent, "condition", &c, msg);

    if (r < 0)
        return r;
    /* the plugin's own default */
    *ret = 1u;
    if (!c)
        return 0;
    for (size_t i = 0; i < ELEMENTSOF(conds); i++)
        if (streq(c, conds[i].name)) {
            *ret = conds[i].when;
            return 0;
        }
    return cfg_fail(msg, "<condition> is SUCCESS, UNSTABLE, FAILED_OR_BETTER, UNSTABLE_OR_BETTER, "
                         "UNSTABLE_OR_WORSE, FAILED or ALWAYS, not '%s'", CLIP(c));
}

static int
add_trigger(struct job_config *cfg, struct chain_trigger **ret)
{
    struct chain_trigger *v = reallocarray(cfg->chain, cfg->n_chain + 1, sizeof *v);

    if (!v)
        return -ENOMEM;
    cfg->chain = v;
    *ret = &v[cfg->n_chain++];
    **ret = (struct chain_trigger){ 0 };
    return 0;
}

static int
read_build_trigger(struct job_config *cfg, const xmlNode *n, char **msg)
{
    struct chain_trigger *t;
    int r = add_trigger(cfg, &t);

    if (r >= 0)
        r = cfg_child_text(n, "childProjects", &t->projects, msg);
    if (r >= 0)
        r = read_threshold(n, &t->when, msg);
    return r;
}

/* The parameter sources of one BuildTriggerConfig (its <configs>). */
static int
read_sources(struct chain_trigger *t, const xmlNode *configs, char **msg)
{
    int r = 0;

    for (xmlNode *s = configs ? configs->children : NULL; r >= 0 && s; s = s->next) {
        if (s->type != XML_ELEMENT_NODE)
            continue;
        if (cfg_node_is(s, PT "CurrentBuildParameters"))
            t->current_params = true;
        else if (cfg_node_is(s, PT "PredefinedBuildParameters")) {
            free(t->predefined);
            t->predefined = NULL;
            r = cfg_child_text(s, "properties", &t->predefined, msg);
        } else if (cfg_node_is(s, PT "FileBuildParameters")) {
            free(t->prop_files);
            t->prop_files = NULL;
            r = cfg_child_text(s, "propertiesFile", &t->prop_files, msg);
            if (r >= 0)
                r = cfg_child_bool(s, "failTriggerOnMissing", false, &t->fail_on_missing, msg);
        } else if (!t->other_source) {
            t->other_source = strdup((const char *) s->name);
            if (!t->other_source)
                r = -ENOMEM;
        }
    }
    return r;
}

static int
read_parameterized(struct job_config *cfg, const xmlNode *n, char **msg)
{
    xmlNode *configs = cfg_first_child(n, "configs");
    int r = 0;

    for (xmlNode *c = configs ? configs->children : NULL; r >= 0 && c; c = c->next) {
        struct chain_trigger *t;

        if (!cfg_node_is(c, PT "BuildTriggerConfig"))
            continue;
        r = add_trigger(cfg, &t);
        if (r < 0)
            break;
        t->parameterized = true;
        r = cfg_child_text(c, "projects", &t->projects, msg);
        if (r >= 0)
            r = read_condition(c, &t->when, msg);
        if (r >= 0)
            r = cfg_child_bool(c, "triggerWithNoParameters", false, &t->with_no_params, msg);
        if (r >= 0)
            r = read_sources(t, cfg_first_child(c, "configs"), msg);
    }
    return r;
}

/* Appends each name of a comma list to *lines as "NAME\n", once. */
static int
add_names(struct buf *lines, const char *list)
{
    const char *p = list;
    int r = 0;

    while (p && *p && r >= 0) {
        const char *end = strchr(p, ','), *s = p, *e = end ? end : p + strlen(p);
        _cleanup_free_ char *line = NULL;

        p = end ? end + 1 : NULL;
        while (s < e && strchr(" \t\r\n", *s))
            s++;
        while (e > s && strchr(" \t\r\n", e[-1]))
            e--;
        if (e == s || memchr(s, '\n', (size_t) (e - s)))
            continue;
        if (asprintf(&line, "%.*s\n", (int) (e - s), s) < 0)
            return -ENOMEM;
        line[e - s] = '\0';
        if (lines->len && jobcfg_lines_have(buf_str(lines), line))
            continue;
        line[e - s] = '\n';
        r = buf_puts(lines, line);
    }
    return r;
}

static int
lines_take(struct buf *b, char **ret)
{
    if (b->len == 0)
        return 0;
    *ret = buf_detach(b);
    return *ret ? 0 : -ENOMEM;
}

void
cfg_chain_free(struct job_config *cfg)
{
    for (size_t i = 0; i < cfg->n_chain; i++) {
        free(cfg->chain[i].projects);
        free(cfg->chain[i].predefined);
        free(cfg->chain[i].prop_files);
        free(cfg->chain[i].other_source);
    }
    free(cfg->chain);
    cfg->chain = NULL;
    cfg->n_chain = 0;
}

int
cfg_read_chain(struct job_config *cfg, const xmlNode *root, char **msg)
{
    _cleanup_(buf_releasep) struct buf down = BUF_INIT(TEXT_MAX), up = BUF_INIT(TEXT_MAX);
    xmlNode *publishers = cfg_first_child(root, "publishers");
    xmlNode *triggers = cfg_first_child(root, "triggers"), *rev;
    int r;

    r = cfg_child_bool(root, "blockBuildWhenUpstreamBuilding", false, &cfg->block_upstream, msg);
    if (r >= 0)
        r = cfg_child_bool(root, "blockBuildWhenDownstreamBuilding", false, &cfg->block_downstream,
                           msg);
    for (xmlNode *p = publishers ? publishers->children : NULL; r >= 0 && p; p = p->next) {
        if (cfg_node_is(p, BUILD_TRIGGER))
            r = read_build_trigger(cfg, p, msg);
        else if (cfg_node_is(p, PT "BuildTrigger"))
            r = read_parameterized(cfg, p, msg);
    }
    for (size_t i = 0; r >= 0 && i < cfg->n_chain; i++)
        r = add_names(&down, cfg->chain[i].projects);
    rev = triggers ? cfg_first_child(triggers, REVERSE_TRIGGER) : NULL;
    if (r >= 0 && rev) {
        _cleanup_free_ char *list = NULL;

        r = cfg_child_text(rev, "upstreamProjects", &list, msg);
        if (r >= 0)
            r = read_threshold(rev, &cfg->chain_up_when, msg);
        if (r >= 0)
            r = add_names(&up, list);
    }
    if (r >= 0)
        r = lines_take(&down, &cfg->chain_down);
    if (r >= 0)
        r = lines_take(&up, &cfg->chain_up);
    return r;
}

/* The comma list `list` with each name `from` made `to`; NULL when none was (or out of memory). */
static char *
renamed_list(const char *list, const char *from, const char *to, bool *ret_changed)
{
    _cleanup_(buf_releasep) struct buf out = BUF_INIT(TEXT_MAX);
    const char *p = list;
    bool changed = false;
    int r = 0;

    while (p && r >= 0) {
        const char *end = strchr(p, ','), *s = p, *e = end ? end : p + strlen(p);

        p = end ? end + 1 : NULL;
        while (s < e && strchr(" \t\r\n", *s))
            s++;
        while (e > s && strchr(" \t\r\n", e[-1]))
            e--;
        if (e == s)
            continue;
        if (out.len)
            r = buf_puts(&out, ", ");
        if ((size_t) (e - s) == strlen(from) && memcmp(s, from, (size_t) (e - s)) == 0) {
            changed = true;
            r = r < 0 ? r : buf_puts(&out, to);
        } else
            r = r < 0 ? r : buf_append(&out, s, (size_t) (e - s));
    }
    *ret_changed = changed;
    if (r < 0 || !changed)
        return NULL;
    return buf_detach(&out);
}

/* Renames in the text of element `name` under `parent`; adds 1 to *count when it changed. */
static int
rename_in(xmlNode *parent, const char *name, const char *from, const char *to, int *count)
{
    xmlNode *n = parent ? cfg_first_child(parent, name) : NULL;
    _cleanup_free_ char *text = NULL, *renamed = NULL;
    bool changed;
    int r;

    if (!n)
        return 0;
    r = cfg_node_text(n, &text, NULL);
    if (r < 0)
        return r == -ENOMEM ? r : 0;
    renamed = renamed_list(text, from, to, &changed);
    if (!changed)
        return 0;
    if (!renamed)
        return -ENOMEM;
    r = cfg_set_text(n, renamed);
    if (r > 0)
        (*count)++;
    return r < 0 ? r : 0;
}

int
jobcfg_rename_project(struct job_config *cfg, const char *from, const char *to)
{
    xmlNode *root = cfg->doc ? xmlDocGetRootElement(cfg->doc) : NULL;
    xmlNode *publishers = root ? cfg_first_child(root, "publishers") : NULL;
    xmlNode *triggers = root ? cfg_first_child(root, "triggers") : NULL;
    int count = 0, r = 0;

    if (cfg->summary || !root)
        return -EINVAL;
    for (xmlNode *p = publishers ? publishers->children : NULL; p && r >= 0; p = p->next) {
        if (cfg_node_is(p, BUILD_TRIGGER))
            r = rename_in(p, "childProjects", from, to, &count);
        else if (cfg_node_is(p, PT "BuildTrigger")) {
            xmlNode *configs = cfg_first_child(p, "configs");
            for (xmlNode *c = configs ? configs->children : NULL; c && r >= 0; c = c->next)
                if (cfg_node_is(c, PT "BuildTriggerConfig"))
                    r = rename_in(c, "projects", from, to, &count);
        }
    }
    for (xmlNode *t = triggers ? triggers->children : NULL; t && r >= 0; t = t->next)
        if (cfg_node_is(t, REVERSE_TRIGGER))
            r = rename_in(t, "upstreamProjects", from, to, &count);
    return r < 0 ? r : count;
}
