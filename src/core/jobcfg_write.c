/* SPDX-License-Identifier: MIT */
/*
 * Before the document is touched, every field is checked; then the
 * document is serialized, within the size bound.
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

/* ---- checking before writing --------------------------------------------- */

bool cfg_is_opt_xml_text(const char *s)
{
    return !s || cfg_is_xml_text(s);
}

bool cfg_is_keep_value(int v)
{
    return v == -1 || (v >= 0 && v <= JOBCFG_KEEP_MAX);
}

static bool param_is_writable(const struct param_def *p)
{
    bool b;

    if ((unsigned) p->type >= ELEMENTSOF(cfg_param_class) || !p->name || !p->name[0] ||
        !cfg_is_xml_text(p->name) || !cfg_is_opt_xml_text(p->description) ||
        !cfg_is_opt_xml_text(p->default_value))
        return false;
    if (p->type == PARAM_BOOLEAN && p->default_value && cfg_parse_bool(p->default_value, &b) < 0)
        return false;
    if (p->type == PARAM_CHOICE) {
        if (p->n_choices > BOUND_CHOICES || (p->n_choices && !p->choices))
            return false;
        for (size_t i = 0; i < p->n_choices; i++)
            if (!p->choices[i] || !cfg_is_xml_text(p->choices[i]))
                return false;
    }
    return true;
}

/*
 * The job's matrix: the entries for permissions Steward uses are replaced
 * by cfg->matrix's grants; entries for others, and whatever else the
 * property holds, stay. The inheritance strategy is written as
 * matrix-auth 3 does.
 */
static int write_matrix(const struct job_config *cfg, xmlNode *root)
{
    const struct job_matrix *m = &cfg->matrix;
    xmlNode *props = cfg_first_child(root, "properties"), *prop, *strategy, *next;
    int r = 0;

    if (!cfg->matrix_set)
        return 0;
    prop = props ? cfg_first_child(props, MATRIX_PROPERTY) : NULL;
    if (!prop && m->n_grants == 0)
        return 0;
    if (!prop) {
        r = cfg_ensure_child(root, "properties", &props);
        if (r >= 0)
            r = cfg_ensure_child(props, MATRIX_PROPERTY, &prop);
        if (r < 0)
            return r;
    }
    for (xmlNode *c = prop->children; c; c = next) {
        _cleanup_free_ char *t = NULL;
        struct grant g;

        next = c->next;
        if (cfg_node_is(c, "blocksInheritance")) {
            cfg_remove_node(c);
            continue;
        }
        if (!cfg_node_is(c, "permission") || cfg_node_text(c, &t, NULL) < 0)
            continue;
        r = grant_parse(cfg_trimmed(t), &g);
        if (r == -ENOMEM)
            return r;
        if (r == 0) {
            free(g.sid);
            cfg_remove_node(c);
        }
    }
    if (m->n_grants == 0 && cfg_count_elements(prop) <= (cfg_first_child(prop, "inheritanceStrategy") ? 1 : 0)) {
        cfg_remove_node(prop);
        return 0;
    }
    strategy = cfg_first_child(prop, "inheritanceStrategy");
    if (!strategy) {
        strategy = cfg_new_element(prop, "inheritanceStrategy", NULL);
        if (!strategy)
            return -ENOMEM;
        r = cfg_first_element(prop) ? cfg_insert_before(cfg_first_element(prop), strategy)
                                : cfg_append_child(prop, strategy);
        if (r < 0)
            return r;
    }
    if (!xmlSetProp(strategy, BAD_CAST "class", BAD_CAST(m->inherit ? INHERIT_PARENT : NON_INHERITING)))
        return -ENOMEM;
    for (size_t i = 0; i < m->n_grants; i++) {
        _cleanup_free_ char *t = grant_format(&m->grants[i]);
        xmlNode *e = t ? cfg_new_element(prop, "permission", t) : NULL;

        if (!e)
            return -ENOMEM;
        r = cfg_append_child(prop, e);
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * Whatever we write must parse again: every string must be text XML can
 * carry, and the bounds and rules jobcfg_parse() applies must hold.
 * Checked before anything changes, so -EINVAL leaves the document as it was.
 */
static int check_writable(const struct job_config *cfg, const xmlNode *root)
{
    xmlNode *props = cfg_first_child(root, "properties"), *builders = cfg_first_child(root, "builders");
    xmlNode *prop = props ? cfg_first_child(props, PARAMS_PROPERTY) : NULL;
    xmlNode *defs = prop ? cfg_first_child(prop, "parameterDefinitions") : NULL;
    size_t others = 0;
    enum param_type t;

    if (!cfg_is_opt_xml_text(cfg->description) || !cfg_is_opt_xml_text(cfg->auth_token) ||
        cfg->quiet_period < -1)
        return -EINVAL;
    if (cfg->discarder_set &&
        !(cfg_is_keep_value(cfg->keep_days) && cfg_is_keep_value(cfg->keep_builds) &&
          cfg_is_keep_value(cfg->keep_artifact_days) && cfg_is_keep_value(cfg->keep_artifact_builds)))
        return -EINVAL;

    for (xmlNode *c = defs ? defs->children : NULL; c; c = c->next)
        others += c->type == XML_ELEMENT_NODE && !cfg_param_type_of(c, &t);
    if (cfg->n_params + others > BOUND_JOB_PARAMS || (cfg->n_params && !cfg->params))
        return -EINVAL;
    for (size_t i = 0; i < cfg->n_params; i++)
        if (!param_is_writable(&cfg->params[i]))
            return -EINVAL;
    if (cfg_check_param_names(defs, cfg->params, cfg->n_params, NULL) < 0)
        return -EINVAL;

    others = 0;
    for (xmlNode *c = builders ? builders->children : NULL; c; c = c->next)
        others += c->type == XML_ELEMENT_NODE && !cfg_node_is(c, SHELL_BUILDER);
    if (cfg->n_shell_steps + others > BOUND_JOB_BUILDERS ||
        (cfg->n_shell_steps && !cfg->shell_steps))
        return -EINVAL;
    for (size_t i = 0; i < cfg->n_shell_steps; i++)
        if (!cfg_is_opt_xml_text(cfg->shell_steps[i]))
            return -EINVAL;
    return 0;
}

/*
 * Writes UTF-8, as Jenkins does, whatever encoding the document came in:
 * libxml2 would otherwise write the declared one, and some (UTF-7, say) it
 * cannot read back. "utf-8" as JJB spells it is kept.
 */
int cfg_serialize(xmlDoc *doc, char **ret_xml, size_t *ret_len)
{
    xmlChar *mem = NULL;
    char *out;
    int size = 0;

    if (doc->encoding && !xmlStrEqual(doc->encoding, BAD_CAST "utf-8") &&
        !xmlStrEqual(doc->encoding, BAD_CAST "UTF-8")) {
        xmlChar *utf8 = xmlStrdup(BAD_CAST "UTF-8");

        if (!utf8)
            return -ENOMEM;
        xmlFree((xmlChar *) doc->encoding);
        doc->encoding = utf8;
    }
    xmlDocDumpMemory(doc, &mem, &size);
    if (!mem || size < 0) {
        xmlFree(mem);
        return -ENOMEM;
    }
    if ((size_t) size > BOUND_CONFIG_XML_BYTES) {
        xmlFree(mem);
        return -E2BIG;
    }
    out = malloc((size_t) size + 1);
    if (!out) {
        xmlFree(mem);
        return -ENOMEM;
    }
    memcpy(out, mem, (size_t) size);
    out[size] = '\0';
    xmlFree(mem);
    *ret_xml = out;
    *ret_len = (size_t) size;
    return 0;
}

int
jobcfg_write(struct job_config *cfg, char **ret_xml, size_t *ret_len)
{
    xmlNode *root = xmlDocGetRootElement(cfg->doc);
    struct quiet q;
    int r;

    if (!root)
        return -EINVAL;
    r = check_writable(cfg, root);
    if (r < 0)
        return r;

    /*
     * NEEDSWORK: an allocation failure half-way leaves the document partly
     * updated; the next successful write brings it in line with the struct.
     */
    q = cfg_quiet_begin();
    r = cfg_write_scalars(cfg, root);
    if (r >= 0)
        r = cfg_write_params(cfg, root);
    if (r >= 0)
        r = cfg_write_shell_steps(cfg, root);
    if (r >= 0)
        r = cfg_write_discarder(cfg, root);
    if (r >= 0)
        r = write_matrix(cfg, root);
    if (r >= 0)
        r = cfg_serialize(cfg->doc, ret_xml, ret_len);
    cfg_quiet_end(&q);
    return r < 0 ? r : 0;
}
