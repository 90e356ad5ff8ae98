/* SPDX-License-Identifier: MIT */
/*
 * Changing the kept document: each managed field written back only where
 * it differs, so what the form does not manage never moves.
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

/*
 * The order in which Jenkins writes the children of a freestyle <project>.
 * A missing managed element is created next to its closest neighbour in
 * this order (JJB uses another order; this still gives sensible places).
 */
static const char *const project_order[] = {
    "actions",
    "description",
    "keepDependencies",
    "properties",
    "scm",
    "quietPeriod",
    "scmCheckoutRetryCount",
    "assignedNode",
    "canRoam",
    "disabled",
    "blockBuildWhenDownstreamBuilding",
    "blockBuildWhenUpstreamBuilding",
    "authToken",
    "triggers",
    "concurrentBuild",
    "customWorkspace",
    "builders",
    "publishers",
    "buildWrappers",
};


/* ---- changing the tree --------------------------------------------------- */

/*
 * Jenkins and JJB indent with two spaces, and an indented document should
 * stay so: a new element copies the line break and indentation in front of
 * its neighbour, and a removed element takes the whitespace in front of it
 * along. In a document without whitespace between elements nothing is added.
 *
 * Text nodes are only ever added next to elements, so libxml2 never merges
 * them into a neighbouring text node (which it does, and frees the node).
 */

static bool is_blank(const xmlNode *n)
{
    if (!n || n->type != XML_TEXT_NODE)
        return false;
    for (const xmlChar *p = n->content; p && *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
    return true;
}

static bool has_only_blanks(const xmlNode *parent)
{
    for (const xmlNode *c = parent->children; c; c = c->next)
        if (!is_blank(c))
            return false;
    return true;
}

static void free_children(xmlNode *parent)
{
    xmlNode *c;

    while ((c = parent->children)) {
        xmlUnlinkNode(c);
        xmlFreeNode(c);
    }
}

/* Puts "\n" + the indentation of `n` into out; false when `n` has none. */
static bool indent_of(const xmlNode *n, char out[static INDENT_MAX])
{
    const char *ws, *nl;

    if (n->parent && n->parent->type == XML_DOCUMENT_NODE) {
        out[0] = '\n', out[1] = '\0';
        return true;
    }
    if (!is_blank(n->prev))
        return false;
    ws = (const char *) n->prev->content;
    nl = strrchr(ws, '\n');
    if (!nl || strlen(nl) >= INDENT_MAX - 2)
        return false;
    memcpy(out, nl, strlen(nl) + 1);
    return true;
}

static int add_text_after(xmlNode *ref, const char *s)
{
    xmlNode *t = xmlNewDocText(ref->doc, BAD_CAST s);

    if (!t)
        return -ENOMEM;
    if (!xmlAddNextSibling(ref, t)) {
        xmlFreeNode(t);
        return -ENOMEM;
    }
    return 0;
}

/* Each of these takes `node` (a new element): linked, or freed on failure. */
static int insert_after(xmlNode *ref, xmlNode *node)
{
    char ind[INDENT_MAX];
    bool pretty = indent_of(ref, ind);

    if (!xmlAddNextSibling(ref, node)) {
        xmlFreeNode(node);
        return -ENOMEM;
    }
    return pretty ? add_text_after(ref, ind) : 0;
}

int cfg_insert_before(xmlNode *ref, xmlNode *node)
{
    char ind[INDENT_MAX];
    bool pretty = indent_of(ref, ind);

    if (!xmlAddPrevSibling(ref, node)) {
        xmlFreeNode(node);
        return -ENOMEM;
    }
    return pretty ? add_text_after(node, ind) : 0;
}

int cfg_append_child(xmlNode *parent, xmlNode *node)
{
    char ind[INDENT_MAX], inner[INDENT_MAX + 2];
    xmlNode *last = NULL;
    int r;

    for (xmlNode *c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            last = c;
    if (last)
        return insert_after(last, node);

    if (!has_only_blanks(parent) || !indent_of(parent, ind)) {
        if (!xmlAddChild(parent, node)) {
            xmlFreeNode(node);
            return -ENOMEM;
        }
        return 0;
    }
    /* the first child of an empty element: "\n" + indent + 2 spaces, node, "\n" + indent */
    free_children(parent);
    (void) snprintf(inner, sizeof(inner), "%s  ", ind);
    if (!xmlAddChild(parent, node)) {
        xmlFreeNode(node);
        return -ENOMEM;
    }
    r = add_text_after(node, ind);
    if (r < 0)
        return r;
    xmlNode *t = xmlNewDocText(parent->doc, BAD_CAST inner);
    if (!t)
        return -ENOMEM;
    if (!xmlAddPrevSibling(node, t)) {
        xmlFreeNode(t);
        return -ENOMEM;
    }
    return 0;
}

/* Removes `n` with the whitespace before it; a parent left blank becomes <x/>. */
void cfg_remove_node(xmlNode *n)
{
    xmlNode *parent = n->parent;

    if (is_blank(n->prev)) {
        xmlNode *ws = n->prev;
        xmlUnlinkNode(ws);
        xmlFreeNode(ws);
    }
    xmlUnlinkNode(n);
    xmlFreeNode(n);
    if (parent && parent->type == XML_ELEMENT_NODE && parent->parent &&
        parent->parent->type == XML_ELEMENT_NODE && has_only_blanks(parent))
        free_children(parent);
}

xmlNode *cfg_new_element(xmlNode *any, const char *name, const char *text)
{
    xmlNode *n = xmlNewDocNode(any->doc, NULL, BAD_CAST name, NULL);
    xmlNode *t;

    /* a text element gets a text node even when empty: <x></x>, as Jenkins writes */
    if (!n || !text)
        return n;
    /* not xmlNodeSetContent(): that one reads "&" as the start of an entity */
    t = xmlNewDocText(any->doc, BAD_CAST text);
    if (!t || !xmlAddChild(n, t)) {
        xmlFreeNode(t);
        xmlFreeNode(n);
        return NULL;
    }
    return n;
}

/* Sets the text of `n` unless it already says that. 1 when changed, 0, or -ENOMEM. */
int cfg_set_text(xmlNode *n, const char *value)
{
    _cleanup_free_ char *cur = NULL;
    xmlNode *t;
    int r;

    r = cfg_node_text(n, &cur, NULL);
    if (r == -ENOMEM)
        return r;
    if (r == 0 && streq(cur, value))
        return 0;
    free_children(n);
    t = xmlNewDocText(n->doc, BAD_CAST value);
    if (!t)
        return -ENOMEM;
    if (!xmlAddChild(n, t)) {
        xmlFreeNode(t);
        return -ENOMEM;
    }
    return 1;
}

/*
 * Sets the text of child `name`, creating it at the end when missing,
 * except when `value` equals `absent` (what a missing child means).
 * NULL `value` removes the child. 1 when changed, 0, or -ENOMEM.
 */
static int set_child_text(xmlNode *parent, const char *name, const char *value, const char *absent)
{
    xmlNode *c = cfg_first_child(parent, name);
    int r;

    if (!value) {
        if (!c)
            return 0;
        cfg_remove_node(c);
        return 1;
    }
    if (c)
        return cfg_set_text(c, value);
    if (absent && streq(value, absent))
        return 0;
    c = cfg_new_element(parent, name, value);
    if (!c)
        return -ENOMEM;
    r = cfg_append_child(parent, c);
    return r < 0 ? r : 1;
}

/*
 * As set_child_text() for a boolean, keeping "TRUE" if it is true. A missing
 * child means false, unless `always` asks for it to be written anyway.
 */
static int set_child_bool(xmlNode *parent, const char *name, bool value, bool always)
{
    _cleanup_free_ char *cur = NULL;
    xmlNode *c = cfg_first_child(parent, name);
    bool b;

    if (c && cfg_node_text(c, &cur, NULL) == 0 && cfg_parse_bool(cur, &b) == 0 && b == value)
        return 0;
    return set_child_text(parent, name, value ? "true" : "false", always ? NULL : "false");
}

/* ---- writing the managed fields ---------------------------------------- */

static int project_rank(const xmlChar *name)
{
    for (size_t i = 0; i < ELEMENTSOF(project_order); i++)
        if (xmlStrEqual(name, BAD_CAST project_order[i]))
            return (int) i;
    return -1;
}

/*
 * Links a new child of <project> where Jenkins would have written it: right
 * after the closest element that comes before it in Jenkins' order, else
 * right before the closest one that comes after it.
 */
static int insert_in_project(xmlNode *root, xmlNode *node)
{
    int want = project_rank(node->name), after_rank = -1, before_rank = INT_MAX;
    xmlNode *after = NULL, *before = NULL;

    for (xmlNode *c = root->children; c; c = c->next) {
        int rank = c->type == XML_ELEMENT_NODE ? project_rank(c->name) : -1;

        if (rank < 0)
            continue;
        if (rank < want && rank > after_rank) {
            after = c;
            after_rank = rank;
        } else if (rank > want && rank < before_rank) {
            before = c;
            before_rank = rank;
        }
    }
    if (after)
        return insert_after(after, node);
    if (before)
        return cfg_insert_before(before, node);
    return cfg_append_child(root, node);
}

/* Like set_child_text() on <project>, placing a new element in Jenkins' order. */
static int set_project_text(xmlNode *root, const char *name, const char *value, const char *absent)
{
    xmlNode *c = cfg_first_child(root, name);

    if (!value) {
        if (c)
            cfg_remove_node(c);
        return 0;
    }
    if (c)
        return cfg_set_text(c, value);
    if (absent && streq(value, absent))
        return 0;
    c = cfg_new_element(root, name, value);
    if (!c)
        return -ENOMEM;
    return insert_in_project(root, c);
}

static int set_project_bool(xmlNode *root, const char *name, bool value)
{
    _cleanup_free_ char *cur = NULL;
    xmlNode *c = cfg_first_child(root, name);
    bool b;

    if (c && cfg_node_text(c, &cur, NULL) == 0 && cfg_parse_bool(cur, &b) == 0 && b == value)
        return 0;
    return set_project_text(root, name, value ? "true" : "false", "false");
}

int cfg_write_scalars(const struct job_config *cfg, xmlNode *root)
{
    _cleanup_free_ char *cur = NULL;
    char num[16];
    xmlNode *c;
    int r, v;

    r = set_project_text(root, "description", cfg->description, NULL);
    if (r < 0)
        return r;
    r = set_project_bool(root, "disabled", cfg->disabled);
    if (r < 0)
        return r;
    r = set_project_bool(root, "concurrentBuild", cfg->concurrent_build);
    if (r < 0)
        return r;

    /* quietPeriod: "05" stays "05" */
    c = cfg_first_child(root, "quietPeriod");
    if (!(c && cfg_node_text(c, &cur, NULL) == 0 && cfg_parse_seconds(cur, &v) == 0 &&
          v == cfg->quiet_period)) {
        (void) snprintf(num, sizeof(num), "%d", cfg->quiet_period);
        r = set_project_text(root, "quietPeriod", cfg->quiet_period < 0 ? NULL : num, NULL);
        if (r < 0)
            return r;
    }

    /* an empty <authToken/> already means "no token" */
    c = cfg_first_child(root, "authToken");
    cur = mfree(cur);
    if (!cfg->auth_token && c && cfg_node_text(c, &cur, NULL) == 0 && !cur[0])
        return 0;
    return set_project_text(root, "authToken",
                            cfg->auth_token && cfg->auth_token[0] ? cfg->auth_token : NULL, NULL);
}

/* Removes the <string> children of `list` (collected first: removing may free blanks). */
static int remove_strings(xmlNode *list)
{
    _cleanup_free_ xmlNode **strings = calloc(cfg_count_elements(list) + 1, sizeof(xmlNode *));
    size_t n = 0;

    if (!strings)
        return -ENOMEM;
    for (xmlNode *c = list->children; c; c = c->next)
        if (cfg_node_is(c, "string"))
            strings[n++] = c;
    for (size_t i = 0; i < n; i++)
        cfg_remove_node(strings[i]);
    return 0;
}

static int write_choices(xmlNode *def, const struct param_def *p)
{
    xmlNode *choices = cfg_first_child(def, "choices"), *list;
    size_t i = 0;
    bool same = true;
    int r;

    if (choices) {
        list = cfg_first_child(choices, "a");
        if (!list)
            list = choices;
        for (xmlNode *c = list->children; c && same; c = c->next) {
            _cleanup_free_ char *s = NULL;

            if (!cfg_node_is(c, "string"))
                continue;
            same = i < p->n_choices && cfg_node_text(c, &s, NULL) == 0 && streq(s, p->choices[i]);
            i++;
        }
        if (same && i == p->n_choices)
            return 0;
        r = remove_strings(list);
        if (r < 0)
            return r;
    } else {
        /* the layout the UI and JJB write */
        choices = cfg_new_element(def, "choices", NULL);
        if (!choices ||
            !xmlNewProp(choices, BAD_CAST "class", BAD_CAST "java.util.Arrays$ArrayList")) {
            xmlFreeNode(choices);
            return -ENOMEM;
        }
        r = cfg_append_child(def, choices);
        if (r < 0)
            return r;
        list = cfg_new_element(def, "a", NULL);
        if (!list || !xmlNewProp(list, BAD_CAST "class", BAD_CAST "string-array")) {
            xmlFreeNode(list);
            return -ENOMEM;
        }
        r = cfg_append_child(choices, list);
        if (r < 0)
            return r;
    }

    for (i = 0; i < p->n_choices; i++) {
        xmlNode *s = cfg_new_element(def, "string", p->choices[i]);

        if (!s)
            return -ENOMEM;
        r = cfg_append_child(list, s);
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * Brings a parameter definition element in line with `p`. A kept element
 * changes only where it differs; a `fresh` one gets every element Jenkins
 * writes, empty default included.
 */
static int write_param(xmlNode *def, const struct param_def *p, bool fresh)
{
    const char *dv = p->default_value ? p->default_value : "";
    const char *absent = fresh ? NULL : "";
    bool b = false;
    int r;

    r = set_child_text(def, "name", p->name, NULL);
    if (r < 0)
        return r;
    r = set_child_text(def, "description", p->description, NULL);
    if (r < 0)
        return r;

    switch (p->type) {
    case PARAM_STRING:
        r = set_child_text(def, "defaultValue", dv, absent);
        return r < 0 ? r : set_child_bool(def, "trim", p->trim, fresh);
    case PARAM_TEXT:
        return set_child_text(def, "defaultValue", dv, absent);
    case PARAM_PASSWORD:
        r = set_child_text(def, "defaultValue", dv, absent);
        /* a Jenkins-encrypted default no longer says the same: drop it */
        if (r > 0 && cfg_first_child(def, "defaultValueAsSecret"))
            cfg_remove_node(cfg_first_child(def, "defaultValueAsSecret"));
        return r < 0 ? r : 0;
    case PARAM_BOOLEAN:
        (void) cfg_parse_bool(dv, &b);
        return set_child_bool(def, "defaultValue", b, fresh);
    case PARAM_CHOICE:
        return write_choices(def, p);
    case PARAM_FILE:
        /* a name and a description only */
        return 0;
    }
    return -EINVAL;
}

/*
 * The element to write `p` into: an unused kept one of the same class and
 * name, or a new one (then *ret_fresh is set).
 */
static xmlNode *param_element(xmlNode *defs, xmlNode **kept, size_t n_kept,
                              const struct param_def *p, bool *ret_fresh)
{
    enum param_type t;

    *ret_fresh = false;
    for (size_t i = 0; i < n_kept; i++) {
        _cleanup_free_ char *name = NULL;
        xmlNode *nn;

        if (!kept[i] || !cfg_param_type_of(kept[i], &t) || t != p->type)
            continue;
        nn = cfg_first_child(kept[i], "name");
        if (nn && cfg_node_text(nn, &name, NULL) == 0 && streq(name, p->name))
            return TAKE_PTR(kept[i]);
    }
    *ret_fresh = true;
    return cfg_new_element(defs, cfg_param_class[p->type], NULL);
}

int cfg_ensure_child(xmlNode *parent, const char *name, xmlNode **ret)
{
    xmlNode *c = cfg_first_child(parent, name);
    int r;

    if (!c) {
        c = cfg_new_element(parent, name, NULL);
        if (!c)
            return -ENOMEM;
        if (parent->parent && parent->parent->type == XML_DOCUMENT_NODE)
            r = insert_in_project(parent, c);
        else
            r = cfg_append_child(parent, c);
        if (r < 0)
            return r;
    }
    *ret = c;
    return 0;
}

/*
 * The definitions of the known classes are matched to cfg->params by class
 * and name and kept (so whatever else they hold survives); the i-th param
 * goes where the i-th known definition was, so definitions of other classes
 * keep their places. Extra params follow the last one, extra definitions go.
 */
int cfg_write_params(const struct job_config *cfg, xmlNode *root)
{
    _cleanup_free_ xmlNode **kept = NULL, **slot = NULL;
    xmlNode *props = cfg_first_child(root, "properties"), *prop, *defs, *prev = NULL;
    size_t n_kept = 0, i;
    enum param_type t;
    int r = 0;

    prop = props ? cfg_first_child(props, PARAMS_PROPERTY) : NULL;
    if (!prop && cfg->n_params == 0)
        return 0;
    if (cfg->n_params > 0) {
        r = cfg_ensure_child(root, "properties", &props);
        if (r >= 0)
            r = cfg_ensure_child(props, PARAMS_PROPERTY, &prop);
        if (r >= 0)
            r = cfg_ensure_child(prop, "parameterDefinitions", &defs);
        if (r < 0)
            return r;
    } else {
        defs = cfg_first_child(prop, "parameterDefinitions");
    }

    /* swap each known definition for a placeholder marking its slot */
    if (defs) {
        kept = calloc(cfg_count_elements(defs) + 1, sizeof(xmlNode *));
        slot = calloc(cfg_count_elements(defs) + 1, sizeof(xmlNode *));
        if (!kept || !slot)
            return -ENOMEM;
        for (xmlNode *c = defs->children; c; c = c->next)
            if (cfg_param_type_of(c, &t))
                kept[n_kept++] = c;
        for (i = 0; i < n_kept; i++)
            if (!(slot[i] = xmlNewDocComment(defs->doc, BAD_CAST "")))
                r = -ENOMEM;
        for (i = 0; i < n_kept && r == 0; i++)
            (void) xmlReplaceNode(kept[i], slot[i]);
    }

    for (i = 0; i < cfg->n_params && r >= 0; i++) {
        bool fresh;
        xmlNode *def = param_element(defs, kept, n_kept, &cfg->params[i], &fresh);

        if (!def) {
            r = -ENOMEM;
            break;
        }
        if (i < n_kept) {
            (void) xmlReplaceNode(slot[i], def);
            xmlFreeNode(TAKE_PTR(slot[i]));
        } else {
            r = prev ? insert_after(prev, def) : cfg_append_child(defs, def);
        }
        if (r >= 0)
            r = write_param(def, &cfg->params[i], fresh);
        prev = def;
    }

    for (i = 0; i < n_kept; i++) {
        if (slot[i] && slot[i]->parent)
            cfg_remove_node(slot[i]);
        else
            xmlFreeNode(slot[i]);
        if (kept[i] && !kept[i]->parent)
            xmlFreeNode(kept[i]);
    }
    if (r < 0)
        return r;

    /* no params and nothing else in the property: the property goes */
    if (cfg->n_params == 0 && (!defs || cfg_count_elements(defs) == 0) &&
        cfg_count_elements(prop) <= (defs ? 1 : 0))
        cfg_remove_node(prop);
    return 0;
}

int cfg_write_shell_steps(const struct job_config *cfg, xmlNode *root)
{
    _cleanup_free_ xmlNode **shells = NULL;
    xmlNode *builders = cfg_first_child(root, "builders");
    size_t n = 0, i;
    int r;

    if (!builders && cfg->n_shell_steps == 0)
        return 0;
    r = cfg_ensure_child(root, "builders", &builders);
    if (r < 0)
        return r;

    shells = calloc(cfg_count_elements(builders) + 1, sizeof(xmlNode *));
    if (!shells)
        return -ENOMEM;
    for (xmlNode *c = builders->children; c; c = c->next)
        if (cfg_node_is(c, SHELL_BUILDER))
            shells[n++] = c;

    /* in place, then new ones at the end, then extra ones go; other builders stay */
    for (i = 0; i < cfg->n_shell_steps; i++) {
        const char *step = cfg->shell_steps[i] ? cfg->shell_steps[i] : "";
        xmlNode *shell = i < n ? shells[i] : cfg_new_element(builders, SHELL_BUILDER, NULL);

        if (!shell)
            return -ENOMEM;
        if (i >= n) {
            r = cfg_append_child(builders, shell);
            if (r < 0)
                return r;
        }
        r = set_child_text(shell, "command", step, NULL);
        if (r < 0)
            return r;
    }
    for (; i < n; i++)
        cfg_remove_node(shells[i]);
    return 0;
}

/* A discarder strategy (or an older <logRotator>) whose class is LogRotator or not given. */
static bool is_log_rotator(const xmlNode *n)
{
    _cleanup_(xml_free_strp) xmlChar *cls = xmlGetProp(n, BAD_CAST "class");

    return !cls || xmlStrEqual(cls, BAD_CAST LOG_ROTATOR);
}

static bool keeps_nothing(const struct job_config *cfg)
{
    return cfg->keep_days < 0 && cfg->keep_builds < 0 && cfg->keep_artifact_days < 0 &&
           cfg->keep_artifact_builds < 0;
}

/*
 * Sets a LogRotator count. A child that already means `value` stays as
 * written (" 7 ", or "" for -1); a `fresh` strategy gets all four children,
 * as Jenkins writes it, a kept one does not gain a -1 it lacked.
 */
static int set_keep(xmlNode *strategy, const char *name, int value, bool fresh)
{
    char num[16];
    int cur;

    if ((!fresh || cfg_first_child(strategy, name)) && cfg_child_keep(strategy, name, &cur, NULL) == 0 &&
        cur == value)
        return 0;
    (void) snprintf(num, sizeof(num), "%d", value);
    return set_child_text(strategy, name, num, NULL);
}

/* Links `node` before the first element of `parent` (or as its only child). */
static int prepend_child(xmlNode *parent, xmlNode *node)
{
    for (xmlNode *c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return cfg_insert_before(c, node);
    return cfg_append_child(parent, node);
}

/*
 * "Discard old builds", only once jobcfg_set_discarder() was called: a
 * config nobody changed keeps its discarder byte for byte, and an older
 * <logRotator> stays where it is until the setting is saved. Jenkins
 * writes the property first in <properties>, the strategy with all four
 * counts, and moves an older <logRotator> there when it saves.
 */
int cfg_write_discarder(const struct job_config *cfg, xmlNode *root)
{
    xmlNode *props = cfg_first_child(root, "properties"), *legacy = cfg_first_child(root, "logRotator");
    xmlNode *prop = props ? cfg_first_child(props, DISCARDER_PROPERTY) : NULL;
    xmlNode *strategy = prop ? cfg_first_child(prop, "strategy") : NULL;
    bool fresh = false;
    int r;

    if (!cfg->discarder_set)
        return 0;
    if (keeps_nothing(cfg)) {
        /* a plugin's strategy is not the LogRotator being removed */
        if (prop && (!strategy || is_log_rotator(strategy)))
            cfg_remove_node(prop);
        if (legacy && is_log_rotator(legacy))
            cfg_remove_node(legacy);
        return 0;
    }

    if (legacy)
        cfg_remove_node(legacy);
    if (!prop) {
        r = cfg_ensure_child(root, "properties", &props);
        if (r < 0)
            return r;
        prop = cfg_new_element(root, DISCARDER_PROPERTY, NULL);
        if (!prop)
            return -ENOMEM;
        r = prepend_child(props, prop);
        if (r < 0)
            return r;
    }
    if (strategy && !is_log_rotator(strategy)) {
        cfg_remove_node(strategy);
        strategy = NULL;
    }
    if (!strategy) {
        strategy = cfg_new_element(root, "strategy", NULL);
        if (!strategy)
            return -ENOMEM;
        r = cfg_append_child(prop, strategy);
        if (r < 0)
            return r;
        fresh = true;
    }
    if (!xmlHasProp(strategy, BAD_CAST "class") &&
        !xmlNewProp(strategy, BAD_CAST "class", BAD_CAST LOG_ROTATOR))
        return -ENOMEM;

    r = set_keep(strategy, "daysToKeep", cfg->keep_days, fresh);
    if (r >= 0)
        r = set_keep(strategy, "numToKeep", cfg->keep_builds, fresh);
    if (r >= 0)
        r = set_keep(strategy, "artifactDaysToKeep", cfg->keep_artifact_days, fresh);
    if (r >= 0)
        r = set_keep(strategy, "artifactNumToKeep", cfg->keep_artifact_builds, fresh);
    return r < 0 ? r : 0;
}
