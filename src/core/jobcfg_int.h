/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the pieces of core/jobcfg share; nothing outside them includes this.
 * config.xml <-> struct job_config, with libxml2 (its only home): jobcfg.c
 * has the struct, jobcfg_load.c parses with the guards against hostile
 * XML, jobcfg_read.c reads the tree, jobcfg_edit.c changes it and
 * jobcfg_write.c checks and serializes it.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "core/jobcfg.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/macro.h"

/* libxml2 2.12 made the error argument of structured handlers const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

/* Text decoded from a document of at most BOUND_CONFIG_XML_BYTES. */
#define TEXT_MAX ((size_t) BOUND_CONFIG_XML_BYTES * 4)
/* Longest indentation we copy when adding elements. */
#define INDENT_MAX 128

#define PARAMS_PROPERTY "hudson.model.ParametersDefinitionProperty"
#define SHELL_BUILDER "hudson.tasks.Shell"
#define DISCARDER_PROPERTY "jenkins.model.BuildDiscarderProperty"
#define MATRIX_PROPERTY "hudson.security.AuthorizationMatrixProperty"
#define INHERIT_PARENT "org.jenkinsci.plugins.matrixauth.inheritance.InheritParentStrategy"
#define NON_INHERITING "org.jenkinsci.plugins.matrixauth.inheritance.NonInheritingStrategy"
#define LOG_ROTATOR "hudson.tasks.LogRotator"

static inline void xml_free_docp(xmlDoc **p)
{
    if (*p)
        xmlFreeDoc(*p);
}

static inline void xml_free_ctxtp(xmlParserCtxt **p)
{
    if (*p)
        xmlFreeParserCtxt(*p);
}

static inline void xml_free_strp(xmlChar **p)
{
    if (*p)
        xmlFree(*p);
}

/*
 * libxml2 keeps its structured error handler per thread; we set ours only
 * for the duration of one of our calls and put the caller's back.
 */
struct quiet {
    xmlStructuredErrorFunc handler;
    void *ctx;
};

#define CLIP(s) cfg_clip((char[84]){ 0 }, 84, (s))

extern const char *const cfg_param_class[PARAM_FILE + 1];
extern pthread_once_t cfg_xml_once;

/* jobcfg_load.c: messages, and parsing with the hostile-XML guards */
struct quiet cfg_quiet_begin(void);
void cfg_quiet_end(struct quiet *q);
void cfg_xml_init(void);
int cfg_parse_doc(const char *xml, size_t len, xmlDoc **ret_doc, char **msg);
/* The same for another document; `what` names it in the messages. */
int cfg_parse_xml(const char *xml, size_t len, const char *what, xmlDoc **ret_doc, char **msg);
int _printf_(2, 3) cfg_fail(char **msg, const char *fmt, ...);
const char *cfg_clip(char *out, size_t size, const char *s);

/* jobcfg_read.c: reading the tree into a struct job_config */
const char *cfg_skip_space(const char *s);
size_t cfg_trimmed_len(const char *s);
char *cfg_trimmed(char *s);
int cfg_parse_bool(const char *s, bool *ret);
int cfg_parse_seconds(const char *s, int *ret);
bool cfg_is_xml_text(const char *s);
bool cfg_node_is(const xmlNode *n, const char *name);
xmlNode *cfg_first_child(const xmlNode *parent, const char *name);
xmlNode *cfg_first_element(const xmlNode *parent);
size_t cfg_count_elements(const xmlNode *parent);
int cfg_node_text(const xmlNode *n, char **ret, char **msg);
/* The trimmed text of the child `name` of `parent`; NULL (and 0) when absent or empty. */
int cfg_child_text(const xmlNode *parent, const char *name, char **ret, char **msg);
/* A boolean child of `parent`: `dflt` when it is absent or empty (the plugin's default). */
int cfg_child_bool(const xmlNode *parent, const char *name, bool dflt, bool *ret, char **msg);
bool cfg_param_type_of(const xmlNode *n, enum param_type *ret);
int cfg_check_param_names(const xmlNode *defs, const struct param_def *params, size_t n,
                          char **msg);
int cfg_child_keep(const xmlNode *parent, const char *name, int *ret, char **msg);

/* jobcfg_bindings.c: the Credentials Binding wrapper into cfg->bindings */
int cfg_read_bindings(struct job_config *cfg, const xmlNode *root, char **msg);
void cfg_bindings_free(struct cred_binding *b, size_t n);

/* jobcfg_wrappers.c: build timeout, workspace cleanup and custom workspace */
int cfg_read_wrappers(struct job_config *cfg, const xmlNode *root, char **msg);
void cfg_wrappers_free(struct job_config *cfg);

/* jobcfg_git.c: <scm class="hudson.plugins.git.GitSCM"> into cfg->git */
int cfg_read_git(struct job_config *cfg, const xmlNode *root, char **msg);
struct git_scm *cfg_git_free(struct git_scm *g);
/* The GitHub and GitLab push triggers: cfg->github_push, cfg->gitlab. */
int cfg_read_forge_triggers(struct job_config *cfg, const xmlNode *root, char **msg);
struct gitlab_trigger *cfg_gitlab_free(struct gitlab_trigger *t);

/* jobcfg_chain.c: BuildTrigger, the parameterized trigger, ReverseBuildTrigger, blockBuildWhen... */
int cfg_read_chain(struct job_config *cfg, const xmlNode *root, char **msg);
void cfg_chain_free(struct job_config *cfg);

/* jobcfg_support.c: the elements Steward does not run, into cfg->unsupported */
int cfg_read_support(struct job_config *cfg, const xmlNode *root);

/* jobcfg_edit.c: changing the tree, and writing the managed fields into it */
int cfg_insert_before(xmlNode *ref, xmlNode *node);
int cfg_append_child(xmlNode *parent, xmlNode *node);
void cfg_remove_node(xmlNode *n);
xmlNode *cfg_new_element(xmlNode *any, const char *name, const char *text);
int cfg_set_text(xmlNode *n, const char *value);
int cfg_write_scalars(const struct job_config *cfg, xmlNode *root);
int cfg_ensure_child(xmlNode *parent, const char *name, xmlNode **ret);
int cfg_write_params(const struct job_config *cfg, xmlNode *root);
int cfg_write_shell_steps(const struct job_config *cfg, xmlNode *root);
int cfg_write_discarder(const struct job_config *cfg, xmlNode *root);

/* jobcfg_write.c: checking before writing, and serializing */
bool cfg_is_opt_xml_text(const char *s);
bool cfg_is_keep_value(int v);
int cfg_serialize(xmlDoc *doc, char **ret_xml, size_t *ret_len);
