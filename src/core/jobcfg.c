/* SPDX-License-Identifier: MIT */
/*
 * config.xml <-> struct job_config, with libxml2 (its only home).
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

static const char *const param_class[] = {
    [PARAM_STRING] = "hudson.model.StringParameterDefinition",
    [PARAM_TEXT] = "hudson.model.TextParameterDefinition",
    [PARAM_BOOLEAN] = "hudson.model.BooleanParameterDefinition",
    [PARAM_CHOICE] = "hudson.model.ChoiceParameterDefinition",
    [PARAM_PASSWORD] = "hudson.model.PasswordParameterDefinition",
};

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

/* ---- messages ---------------------------------------------------------- */

/* Sets *msg (when msg is not NULL and nothing is there yet); returns -EINVAL. */
static int _printf_(2, 3) fail(char **msg, const char *fmt, ...)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(4096);
    va_list ap;
    int r;

    if (!msg || *msg)
        return -EINVAL;
    va_start(ap, fmt);
    r = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    *msg = buf_detach(&b);
    return *msg ? -EINVAL : -ENOMEM;
}

/*
 * Copies client-controlled text into a message: at most `size - 4` bytes,
 * cut at a character boundary, control characters replaced, "..." when cut.
 */
static const char *clip(char *out, size_t size, const char *s)
{
    size_t n = strlen(s), i;

    if (n > size - 4) {
        n = size - 4;
        while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
            n--;
    }
    for (i = 0; i < n; i++)
        out[i] = ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    if (n < strlen(s)) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

#define CLIP(s) clip((char[84]){ 0 }, 84, (s))

/* ---- small parsers ----------------------------------------------------- */

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

/* Length of `s` without trailing XML whitespace. */
static size_t trimmed_len(const char *s)
{
    size_t n = strlen(s);

    while (n > 0 && strchr(" \t\n\r", s[n - 1]))
        n--;
    return n;
}

/* `s` without leading and trailing XML whitespace, cut in place. */
static char *trimmed(char *s)
{
    s = (char *) skip_space(s);
    s[trimmed_len(s)] = '\0';
    return s;
}

/*
 * XStream reads booleans case-insensitively; an empty element means false.
 * Anything else is refused rather than silently read as false.
 */
static int parse_bool(const char *s, bool *ret)
{
    size_t n;

    s = skip_space(s);
    n = trimmed_len(s);
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
static int parse_seconds(const char *s, int *ret)
{
    long long v = 0;
    size_t n, i;

    s = skip_space(s);
    n = trimmed_len(s);
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
static bool is_xml_text(const char *s)
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

static bool node_is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

static const char *node_name(const xmlNode *n)
{
    return (const char *) n->name;
}

static xmlNode *first_child(const xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent->children; c; c = c->next)
        if (node_is(c, name))
            return c;
    return NULL;
}

static xmlNode *first_element(const xmlNode *parent)
{
    for (xmlNode *c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

static size_t count_elements(const xmlNode *parent)
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
    xmlNode *found = first_child(parent, name);

    for (xmlNode *c = found ? found->next : NULL; c; c = c->next)
        if (node_is(c, name))
            return fail(msg, "<%s> holds more than one <%s>", node_name(parent), name);
    *ret = found;
    return 0;
}

/*
 * The decoded text of an element: its text and CDATA children, in order
 * (comments and processing instructions skipped). An element inside is
 * -EINVAL: a managed field is a plain string.
 */
static int node_text(const xmlNode *n, char **ret, char **msg)
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
            return fail(msg, "<%s> must hold text only", node_name(n));
        }
    }
    s = buf_detach(&b);
    if (!s)
        return -ENOMEM;
    *ret = s;
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
    return node_text(c, ret, msg);
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
    if (parse_bool(s, ret) < 0)
        return fail(msg, "<%s> must be true or false, not '%s'", name, CLIP(s));
    return 0;
}

static bool param_type_of(const xmlNode *n, enum param_type *ret)
{
    for (size_t i = 0; i < ELEMENTSOF(param_class); i++)
        if (node_is(n, param_class[i])) {
            *ret = (enum param_type) i;
            return true;
        }
    return false;
}

/* ---- parsing ----------------------------------------------------------- */

/*
 * Refusing hostile XML. A DOCTYPE is stopped by the SAX hook that sees it
 * first, before libxml2 reads a single declaration of the internal subset,
 * so no entity (internal, external or parameter) is ever defined, let alone
 * expanded or fetched. Depth is counted on the way in and the parse stops
 * at the first element past the bound. libxml2's own printing is replaced
 * by a handler on the context that keeps the first error for the message.
 */
struct parse_state {
    int depth;
    bool doctype;
    bool too_deep;
    int err_level;
    char *err; /* "line N: message" of the first (preferably fatal) error */
};

static void sax_internal_subset(void *ctx, const xmlChar *name _unused_,
                                const xmlChar *external_id _unused_,
                                const xmlChar *system_id _unused_)
{
    xmlParserCtxt *ctxt = ctx;
    struct parse_state *st = ctxt->_private;

    st->doctype = true;
    xmlStopParser(ctxt);
}

static void sax_entity_decl(void *ctx, const xmlChar *name _unused_, int type _unused_,
                            const xmlChar *public_id _unused_, const xmlChar *system_id _unused_,
                            xmlChar *content _unused_)
{
    xmlParserCtxt *ctxt = ctx;
    struct parse_state *st = ctxt->_private;

    /* Unreachable without a DOCTYPE; here so that no entity is ever kept. */
    st->doctype = true;
    xmlStopParser(ctxt);
}

static void sax_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                              const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                              int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxt *ctxt = ctx;
    struct parse_state *st = ctxt->_private;

    if (++st->depth > BOUND_XML_DEPTH) {
        st->too_deep = true;
        xmlStopParser(ctxt);
        return;
    }
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
                          nb_attributes, nb_defaulted, attributes);
}

static void sax_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                            const xmlChar *uri)
{
    xmlParserCtxt *ctxt = ctx;
    struct parse_state *st = ctxt->_private;
    const xmlChar *cur = ctxt->input ? ctxt->input->cur : NULL;
    xmlNode *n = ctxt->node;

    /*
     * libxml2 writes every element without children as <x/>. Jenkins writes
     * empty strings as <x></x>; an empty text node keeps that form. The
     * parser has just consumed either "/>" or "</x>".
     */
    st->depth--;
    if (n && !n->children && cur && cur - ctxt->input->base >= 2 && cur[-2] != '/') {
        xmlNode *t = xmlNewDocText(n->doc, BAD_CAST "");

        if (t && !xmlAddChild(n, t))
            xmlFreeNode(t);
    }
    xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static void on_parse_error(void *ctx, xml_error_arg e)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(512);
    xmlParserCtxt *ctxt = ctx;
    struct parse_state *st = ctxt ? ctxt->_private : NULL;
    const char *m;
    size_t n;
    char *s;

    if (!st || !e || e->level < XML_ERR_ERROR || e->code == XML_ERR_USER_STOP)
        return;
    /* keep the first error, but a fatal one beats an earlier recoverable one */
    if (st->err && (st->err_level == XML_ERR_FATAL || e->level != XML_ERR_FATAL))
        return;

    /* one line, at most 300 bytes of libxml2's message (which may quote names) */
    m = e->message ? e->message : "error";
    n = trimmed_len(m);
    if (n > 300) {
        n = 300;
        while (n > 0 && ((unsigned char) m[n] & 0xC0) == 0x80)
            n--;
    }
    if (buf_printf(&b, "line %d: %.*s", e->line, (int) n, m) < 0)
        return;
    s = buf_detach(&b);
    if (!s)
        return;
    for (char *p = s; *p; p++)
        if ((unsigned char) *p < 0x20)
            *p = ' ';
    free(st->err);
    st->err = s;
    st->err_level = e->level;
}

/* Swallows errors libxml2 raises without a parser context (allocation, output). */
static void on_other_error(void *ctx _unused_, xml_error_arg e _unused_)
{
}

/*
 * libxml2 keeps its structured error handler per thread; we set ours only
 * for the duration of one of our calls and put the caller's back.
 */
struct quiet {
    xmlStructuredErrorFunc handler;
    void *ctx;
};

static struct quiet quiet_begin(void)
{
    struct quiet q = { .handler = xmlStructuredError, .ctx = xmlStructuredErrorContext };

    xmlSetStructuredErrorFunc(NULL, on_other_error);
    return q;
}

static void quiet_end(struct quiet *q)
{
    xmlSetStructuredErrorFunc(q->ctx, q->handler);
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

static xmlParserCtxt *new_parser(const char *xml, size_t len, struct parse_state *st)
{
    xmlParserCtxt *ctxt = xmlCreateMemoryParserCtxt(xml, (int) len);

    if (!ctxt)
        return NULL;
    (void) xmlCtxtUseOptions(ctxt, XML_PARSE_NONET);
    /* whatever globals someone else set: no entity substitution, no DTD loading */
    ctxt->replaceEntities = 0;
    ctxt->loadsubset = 0;
    ctxt->validate = 0;
    ctxt->_private = st;
    ctxt->sax->internalSubset = sax_internal_subset;
    ctxt->sax->entityDecl = sax_entity_decl;
    ctxt->sax->startElementNs = sax_start_element;
    ctxt->sax->endElementNs = sax_end_element;
    ctxt->sax->serror = on_parse_error;
    ctxt->sax->warning = NULL;
    return ctxt;
}

static int parse_doc(const char *xml, size_t len, xmlDoc **ret_doc, char **msg)
{
    _cleanup_(xml_free_ctxtp) xmlParserCtxt *ctxt = NULL;
    _cleanup_(xml_free_docp) xmlDoc *doc = NULL;
    struct parse_state st = { 0 };
    int r = 0;

    ctxt = new_parser(xml, len, &st);
    if (!ctxt)
        return -ENOMEM;
    (void) xmlParseDocument(ctxt);
    doc = TAKE_PTR(ctxt->myDoc);

    if (st.doctype || (doc && (doc->intSubset || doc->extSubset)))
        r = fail(msg, "config.xml must not contain a DOCTYPE");
    else if (st.too_deep)
        r = fail(msg, "config.xml nests elements deeper than %d levels", BOUND_XML_DEPTH);
    else if (ctxt->errNo == XML_ERR_NO_MEMORY)
        r = -ENOMEM;
    else if (!ctxt->wellFormed || !doc)
        r = st.err ? fail(msg, "config.xml is not well-formed XML: %s", st.err)
                   : fail(msg, "config.xml is not well-formed XML");
    free(st.err);
    if (r < 0)
        return r;
    *ret_doc = TAKE_PTR(doc);
    return 0;
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
        return fail(msg, "parameter %zu (%s) has no name", index + 1, param_type_to_string(type));
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
        n += node_is(c, "string");
    if (n > BOUND_CHOICES)
        return fail(msg, "parameter '%s' has more than %d choices", CLIP(p->name), BOUND_CHOICES);
    p->choices = calloc(n ? n : 1, sizeof(char *));
    if (!p->choices)
        return -ENOMEM;
    for (xmlNode *c = list->children; c; c = c->next) {
        if (!node_is(c, "string"))
            continue;
        r = node_text(c, &p->choices[p->n_choices], msg);
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
static int check_param_names(const xmlNode *defs, const struct param_def *params, size_t n,
                             char **msg)
{
    _cleanup_free_ const char **names = NULL;
    _cleanup_free_ char **owned = NULL;
    size_t n_names = 0, n_owned = 0, cap = n + (defs ? count_elements(defs) : 0);
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

        if (c->type == XML_ELEMENT_NODE && !param_type_of(c, &t))
            name = first_child(c, "name");

        if (name && node_text(name, &owned[n_owned], NULL) == 0)
            names[n_names++] = owned[n_owned++];
    }

    for (size_t i = 0; i < n_names && r == 0; i++)
        for (size_t j = i + 1; j < n_names && r == 0; j++)
            if (streq(names[i], names[j]))
                r = fail(msg, "two parameters are named '%s'", CLIP(names[i]));

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

    if (count_elements(defs) > BOUND_JOB_PARAMS)
        return fail(msg, "a job may have at most %d parameters", BOUND_JOB_PARAMS);
    for (xmlNode *c = defs->children; c; c = c->next)
        n += param_type_of(c, &t);
    cfg->params = calloc(n ? n : 1, sizeof(struct param_def));
    if (!cfg->params)
        return -ENOMEM;

    /* other classes (FileParameterDefinition, plugins) stay in the document only */
    for (xmlNode *c = defs->children; c; c = c->next) {
        if (!param_type_of(c, &t))
            continue;
        r = read_param(c, t, cfg->n_params, &cfg->params[cfg->n_params], msg);
        cfg->n_params++;
        if (r < 0)
            return r;
    }
    return check_param_names(defs, cfg->params, cfg->n_params, msg);
}

static int read_shell_steps(struct job_config *cfg, const xmlNode *root, char **msg)
{
    xmlNode *builders, *command;
    size_t n = 0;
    int r;

    r = find_child(root, "builders", &builders, msg);
    if (r < 0 || !builders)
        return r;
    if (count_elements(builders) > BOUND_JOB_BUILDERS)
        return fail(msg, "a job may have at most %d build steps", BOUND_JOB_BUILDERS);
    for (xmlNode *c = builders->children; c; c = c->next)
        n += node_is(c, SHELL_BUILDER);
    cfg->shell_steps = calloc(n ? n : 1, sizeof(char *));
    if (!cfg->shell_steps)
        return -ENOMEM;

    for (xmlNode *c = builders->children; c; c = c->next) {
        if (!node_is(c, SHELL_BUILDER))
            continue;
        r = find_child(c, "command", &command, msg);
        if (r < 0)
            return r;
        if (command)
            r = node_text(command, &cfg->shell_steps[cfg->n_shell_steps], msg);
        else if (!(cfg->shell_steps[cfg->n_shell_steps] = strdup("")))
            r = -ENOMEM;
        if (r < 0)
            return r;
        cfg->n_shell_steps++;
    }
    return 0;
}

/* The timer trigger and the artifact archiver: read, never written (the document keeps them). */
static int read_publishers_and_triggers(struct job_config *cfg, const xmlNode *root, char **msg)
{
    xmlNode *triggers, *timer, *publishers, *archiver;
    int r;

    r = find_child(root, "triggers", &triggers, msg);
    if (r < 0)
        return r;
    timer = triggers ? first_child(triggers, "hudson.triggers.TimerTrigger") : NULL;
    if (timer) {
        r = child_text(timer, "spec", &cfg->timer_spec, msg);
        if (r < 0)
            return r;
    }
    r = find_child(root, "publishers", &publishers, msg);
    if (r < 0)
        return r;
    archiver = publishers ? first_child(publishers, "hudson.tasks.ArtifactArchiver") : NULL;
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
    return 0;
}

/*
 * A LogRotator count or number of days: empty, absent or negative is "not
 * set" (-1); more than JOBCFG_KEEP_MAX (some 2,700 years, or a million
 * builds) counts as that, so that the configure page can show it.
 */
static int child_keep(const xmlNode *parent, const char *name, int *ret, char **msg)
{
    _cleanup_free_ char *s = NULL;
    const char *digits;
    int r, v;

    *ret = -1;
    r = child_text(parent, name, &s, msg);
    if (r < 0 || !s || trimmed_len(skip_space(s)) == 0)
        return r;
    digits = skip_space(s);
    if (*digits == '-')
        digits++;
    if (parse_seconds(digits, &v) < 0)
        return fail(msg, "<%s> must be a whole number, not '%s'", name, CLIP(s));
    if (digits == skip_space(s))
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
    r = child_keep(strategy, "daysToKeep", &cfg->keep_days, msg);
    if (r >= 0)
        r = child_keep(strategy, "numToKeep", &cfg->keep_builds, msg);
    if (r >= 0)
        r = child_keep(strategy, "artifactDaysToKeep", &cfg->keep_artifact_days, msg);
    if (r >= 0)
        r = child_keep(strategy, "artifactNumToKeep", &cfg->keep_artifact_builds, msg);
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
        return fail(msg, "<steward.sandbox network=\"%s\">: the network is \"none\" or \"host\"",
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
        r = node_text(blocks, &t, msg);
        if (r < 0)
            return r;
        m->inherit = !streq(trimmed(t), "true");
    }
    for (xmlNode *c = prop->children; c; c = c->next)
        n += node_is(c, "permission");
    if (n > BOUND_JOB_GRANTS)
        return fail(msg, "a job's authorization matrix may have at most %d entries",
                    BOUND_JOB_GRANTS);
    m->grants = calloc(n ? n : 1, sizeof *m->grants);
    if (!m->grants)
        return -ENOMEM;
    for (xmlNode *c = prop->children; c; c = c->next) {
        _cleanup_free_ char *t = NULL;

        if (!node_is(c, "permission"))
            continue;
        r = node_text(c, &t, msg);
        if (r < 0)
            return r;
        r = grant_parse(trimmed(t), &m->grants[m->n_grants]);
        if (r == -ENOENT)
            continue;
        if (r == -EINVAL)
            return fail(msg, "<permission>%s</permission> is not a grant: write "
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
    if (quiet && parse_seconds(quiet, &cfg->quiet_period) < 0) {
        if (skip_space(quiet)[0] == '-')
            return fail(msg, "<quietPeriod> must not be negative");
        return fail(msg, "<quietPeriod> must be a number of seconds, not '%s'", CLIP(quiet));
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
    return read_publishers_and_triggers(cfg, root, msg);
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
        r = fail(&msg, "config.xml is empty");
        goto out;
    }
    /* libxml2 would stop reading at a NUL and ignore the rest */
    if (memchr(xml, '\0', len)) {
        r = fail(&msg, "config.xml contains a NUL byte (UTF-16 and UTF-32 are not supported)");
        goto out;
    }
    (void) pthread_once(&xml_once, xml_init);

    q = quiet_begin();
    r = parse_doc(xml, len, &doc, &msg);
    quiet_end(&q);
    if (r < 0)
        goto out;

    root = xmlDocGetRootElement(doc);
    if (!node_is(root, "project")) {
        r = fail(&msg, "root element is <%s>, Steward runs freestyle <project> jobs",
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
        r = fail(&msg, "config.xml is not a valid freestyle job");
    if (r == -EINVAL && reterr_msg)
        *reterr_msg = TAKE_PTR(msg);
    return r;
}

int
jobcfg_new(struct job_config **ret_cfg)
{
    int r = jobcfg_parse(blank_job_xml, sizeof(blank_job_xml) - 1, ret_cfg, NULL);

    /* the template is ours: only an allocation can fail */
    return r < 0 ? -ENOMEM : 0;
}

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

static int insert_before(xmlNode *ref, xmlNode *node)
{
    char ind[INDENT_MAX];
    bool pretty = indent_of(ref, ind);

    if (!xmlAddPrevSibling(ref, node)) {
        xmlFreeNode(node);
        return -ENOMEM;
    }
    return pretty ? add_text_after(node, ind) : 0;
}

static int append_child(xmlNode *parent, xmlNode *node)
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
static void remove_node(xmlNode *n)
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

static xmlNode *new_element(xmlNode *any, const char *name, const char *text)
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
static int set_text(xmlNode *n, const char *value)
{
    _cleanup_free_ char *cur = NULL;
    xmlNode *t;
    int r;

    r = node_text(n, &cur, NULL);
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
    xmlNode *c = first_child(parent, name);
    int r;

    if (!value) {
        if (!c)
            return 0;
        remove_node(c);
        return 1;
    }
    if (c)
        return set_text(c, value);
    if (absent && streq(value, absent))
        return 0;
    c = new_element(parent, name, value);
    if (!c)
        return -ENOMEM;
    r = append_child(parent, c);
    return r < 0 ? r : 1;
}

/*
 * As set_child_text() for a boolean, keeping "TRUE" if it is true. A missing
 * child means false, unless `always` asks for it to be written anyway.
 */
static int set_child_bool(xmlNode *parent, const char *name, bool value, bool always)
{
    _cleanup_free_ char *cur = NULL;
    xmlNode *c = first_child(parent, name);
    bool b;

    if (c && node_text(c, &cur, NULL) == 0 && parse_bool(cur, &b) == 0 && b == value)
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
        return insert_before(before, node);
    return append_child(root, node);
}

/* Like set_child_text() on <project>, placing a new element in Jenkins' order. */
static int set_project_text(xmlNode *root, const char *name, const char *value, const char *absent)
{
    xmlNode *c = first_child(root, name);

    if (!value) {
        if (c)
            remove_node(c);
        return 0;
    }
    if (c)
        return set_text(c, value);
    if (absent && streq(value, absent))
        return 0;
    c = new_element(root, name, value);
    if (!c)
        return -ENOMEM;
    return insert_in_project(root, c);
}

static int set_project_bool(xmlNode *root, const char *name, bool value)
{
    _cleanup_free_ char *cur = NULL;
    xmlNode *c = first_child(root, name);
    bool b;

    if (c && node_text(c, &cur, NULL) == 0 && parse_bool(cur, &b) == 0 && b == value)
        return 0;
    return set_project_text(root, name, value ? "true" : "false", "false");
}

static int write_scalars(const struct job_config *cfg, xmlNode *root)
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
    c = first_child(root, "quietPeriod");
    if (!(c && node_text(c, &cur, NULL) == 0 && parse_seconds(cur, &v) == 0 &&
          v == cfg->quiet_period)) {
        (void) snprintf(num, sizeof(num), "%d", cfg->quiet_period);
        r = set_project_text(root, "quietPeriod", cfg->quiet_period < 0 ? NULL : num, NULL);
        if (r < 0)
            return r;
    }

    /* an empty <authToken/> already means "no token" */
    c = first_child(root, "authToken");
    cur = mfree(cur);
    if (!cfg->auth_token && c && node_text(c, &cur, NULL) == 0 && !cur[0])
        return 0;
    return set_project_text(root, "authToken",
                            cfg->auth_token && cfg->auth_token[0] ? cfg->auth_token : NULL, NULL);
}

/* Removes the <string> children of `list` (collected first: removing may free blanks). */
static int remove_strings(xmlNode *list)
{
    _cleanup_free_ xmlNode **strings = calloc(count_elements(list) + 1, sizeof(xmlNode *));
    size_t n = 0;

    if (!strings)
        return -ENOMEM;
    for (xmlNode *c = list->children; c; c = c->next)
        if (node_is(c, "string"))
            strings[n++] = c;
    for (size_t i = 0; i < n; i++)
        remove_node(strings[i]);
    return 0;
}

static int write_choices(xmlNode *def, const struct param_def *p)
{
    xmlNode *choices = first_child(def, "choices"), *list;
    size_t i = 0;
    bool same = true;
    int r;

    if (choices) {
        list = first_child(choices, "a");
        if (!list)
            list = choices;
        for (xmlNode *c = list->children; c && same; c = c->next) {
            _cleanup_free_ char *s = NULL;

            if (!node_is(c, "string"))
                continue;
            same = i < p->n_choices && node_text(c, &s, NULL) == 0 && streq(s, p->choices[i]);
            i++;
        }
        if (same && i == p->n_choices)
            return 0;
        r = remove_strings(list);
        if (r < 0)
            return r;
    } else {
        /* the layout the UI and JJB write */
        choices = new_element(def, "choices", NULL);
        if (!choices ||
            !xmlNewProp(choices, BAD_CAST "class", BAD_CAST "java.util.Arrays$ArrayList")) {
            xmlFreeNode(choices);
            return -ENOMEM;
        }
        r = append_child(def, choices);
        if (r < 0)
            return r;
        list = new_element(def, "a", NULL);
        if (!list || !xmlNewProp(list, BAD_CAST "class", BAD_CAST "string-array")) {
            xmlFreeNode(list);
            return -ENOMEM;
        }
        r = append_child(choices, list);
        if (r < 0)
            return r;
    }

    for (i = 0; i < p->n_choices; i++) {
        xmlNode *s = new_element(def, "string", p->choices[i]);

        if (!s)
            return -ENOMEM;
        r = append_child(list, s);
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
        if (r > 0 && first_child(def, "defaultValueAsSecret"))
            remove_node(first_child(def, "defaultValueAsSecret"));
        return r < 0 ? r : 0;
    case PARAM_BOOLEAN:
        (void) parse_bool(dv, &b);
        return set_child_bool(def, "defaultValue", b, fresh);
    case PARAM_CHOICE:
        return write_choices(def, p);
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

        if (!kept[i] || !param_type_of(kept[i], &t) || t != p->type)
            continue;
        nn = first_child(kept[i], "name");
        if (nn && node_text(nn, &name, NULL) == 0 && streq(name, p->name))
            return TAKE_PTR(kept[i]);
    }
    *ret_fresh = true;
    return new_element(defs, param_class[p->type], NULL);
}

static int ensure_child(xmlNode *parent, const char *name, xmlNode **ret)
{
    xmlNode *c = first_child(parent, name);
    int r;

    if (!c) {
        c = new_element(parent, name, NULL);
        if (!c)
            return -ENOMEM;
        if (parent->parent && parent->parent->type == XML_DOCUMENT_NODE)
            r = insert_in_project(parent, c);
        else
            r = append_child(parent, c);
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
static int write_params(const struct job_config *cfg, xmlNode *root)
{
    _cleanup_free_ xmlNode **kept = NULL, **slot = NULL;
    xmlNode *props = first_child(root, "properties"), *prop, *defs, *prev = NULL;
    size_t n_kept = 0, i;
    enum param_type t;
    int r = 0;

    prop = props ? first_child(props, PARAMS_PROPERTY) : NULL;
    if (!prop && cfg->n_params == 0)
        return 0;
    if (cfg->n_params > 0) {
        r = ensure_child(root, "properties", &props);
        if (r >= 0)
            r = ensure_child(props, PARAMS_PROPERTY, &prop);
        if (r >= 0)
            r = ensure_child(prop, "parameterDefinitions", &defs);
        if (r < 0)
            return r;
    } else {
        defs = first_child(prop, "parameterDefinitions");
    }

    /* swap each known definition for a placeholder marking its slot */
    if (defs) {
        kept = calloc(count_elements(defs) + 1, sizeof(xmlNode *));
        slot = calloc(count_elements(defs) + 1, sizeof(xmlNode *));
        if (!kept || !slot)
            return -ENOMEM;
        for (xmlNode *c = defs->children; c; c = c->next)
            if (param_type_of(c, &t))
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
            r = prev ? insert_after(prev, def) : append_child(defs, def);
        }
        if (r >= 0)
            r = write_param(def, &cfg->params[i], fresh);
        prev = def;
    }

    for (i = 0; i < n_kept; i++) {
        if (slot[i] && slot[i]->parent)
            remove_node(slot[i]);
        else
            xmlFreeNode(slot[i]);
        if (kept[i] && !kept[i]->parent)
            xmlFreeNode(kept[i]);
    }
    if (r < 0)
        return r;

    /* no params and nothing else in the property: the property goes */
    if (cfg->n_params == 0 && (!defs || count_elements(defs) == 0) &&
        count_elements(prop) <= (defs ? 1 : 0))
        remove_node(prop);
    return 0;
}

static int write_shell_steps(const struct job_config *cfg, xmlNode *root)
{
    _cleanup_free_ xmlNode **shells = NULL;
    xmlNode *builders = first_child(root, "builders");
    size_t n = 0, i;
    int r;

    if (!builders && cfg->n_shell_steps == 0)
        return 0;
    r = ensure_child(root, "builders", &builders);
    if (r < 0)
        return r;

    shells = calloc(count_elements(builders) + 1, sizeof(xmlNode *));
    if (!shells)
        return -ENOMEM;
    for (xmlNode *c = builders->children; c; c = c->next)
        if (node_is(c, SHELL_BUILDER))
            shells[n++] = c;

    /* in place, then new ones at the end, then extra ones go; other builders stay */
    for (i = 0; i < cfg->n_shell_steps; i++) {
        const char *step = cfg->shell_steps[i] ? cfg->shell_steps[i] : "";
        xmlNode *shell = i < n ? shells[i] : new_element(builders, SHELL_BUILDER, NULL);

        if (!shell)
            return -ENOMEM;
        if (i >= n) {
            r = append_child(builders, shell);
            if (r < 0)
                return r;
        }
        r = set_child_text(shell, "command", step, NULL);
        if (r < 0)
            return r;
    }
    for (; i < n; i++)
        remove_node(shells[i]);
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

    if ((!fresh || first_child(strategy, name)) && child_keep(strategy, name, &cur, NULL) == 0 &&
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
            return insert_before(c, node);
    return append_child(parent, node);
}

/*
 * "Discard old builds", only once jobcfg_set_discarder() was called: a
 * config nobody changed keeps its discarder byte for byte, and an older
 * <logRotator> stays where it is until the setting is saved. Jenkins
 * writes the property first in <properties>, the strategy with all four
 * counts, and moves an older <logRotator> there when it saves.
 */
static int write_discarder(const struct job_config *cfg, xmlNode *root)
{
    xmlNode *props = first_child(root, "properties"), *legacy = first_child(root, "logRotator");
    xmlNode *prop = props ? first_child(props, DISCARDER_PROPERTY) : NULL;
    xmlNode *strategy = prop ? first_child(prop, "strategy") : NULL;
    bool fresh = false;
    int r;

    if (!cfg->discarder_set)
        return 0;
    if (keeps_nothing(cfg)) {
        /* a plugin's strategy is not the LogRotator being removed */
        if (prop && (!strategy || is_log_rotator(strategy)))
            remove_node(prop);
        if (legacy && is_log_rotator(legacy))
            remove_node(legacy);
        return 0;
    }

    if (legacy)
        remove_node(legacy);
    if (!prop) {
        r = ensure_child(root, "properties", &props);
        if (r < 0)
            return r;
        prop = new_element(root, DISCARDER_PROPERTY, NULL);
        if (!prop)
            return -ENOMEM;
        r = prepend_child(props, prop);
        if (r < 0)
            return r;
    }
    if (strategy && !is_log_rotator(strategy)) {
        remove_node(strategy);
        strategy = NULL;
    }
    if (!strategy) {
        strategy = new_element(root, "strategy", NULL);
        if (!strategy)
            return -ENOMEM;
        r = append_child(prop, strategy);
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

/* ---- checking before writing --------------------------------------------- */

static bool is_opt_xml_text(const char *s)
{
    return !s || is_xml_text(s);
}

static bool is_keep_value(int v)
{
    return v == -1 || (v >= 0 && v <= JOBCFG_KEEP_MAX);
}

static bool param_is_writable(const struct param_def *p)
{
    bool b;

    if ((unsigned) p->type >= ELEMENTSOF(param_class) || !p->name || !p->name[0] ||
        !is_xml_text(p->name) || !is_opt_xml_text(p->description) ||
        !is_opt_xml_text(p->default_value))
        return false;
    if (p->type == PARAM_BOOLEAN && p->default_value && parse_bool(p->default_value, &b) < 0)
        return false;
    if (p->type == PARAM_CHOICE) {
        if (p->n_choices > BOUND_CHOICES || (p->n_choices && !p->choices))
            return false;
        for (size_t i = 0; i < p->n_choices; i++)
            if (!p->choices[i] || !is_xml_text(p->choices[i]))
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
    xmlNode *props = first_child(root, "properties"), *prop, *strategy, *next;
    int r = 0;

    if (!cfg->matrix_set)
        return 0;
    prop = props ? first_child(props, MATRIX_PROPERTY) : NULL;
    if (!prop && m->n_grants == 0)
        return 0;
    if (!prop) {
        r = ensure_child(root, "properties", &props);
        if (r >= 0)
            r = ensure_child(props, MATRIX_PROPERTY, &prop);
        if (r < 0)
            return r;
    }
    for (xmlNode *c = prop->children; c; c = next) {
        _cleanup_free_ char *t = NULL;
        struct grant g;

        next = c->next;
        if (node_is(c, "blocksInheritance")) {
            remove_node(c);
            continue;
        }
        if (!node_is(c, "permission") || node_text(c, &t, NULL) < 0)
            continue;
        r = grant_parse(trimmed(t), &g);
        if (r == -ENOMEM)
            return r;
        if (r == 0) {
            free(g.sid);
            remove_node(c);
        }
    }
    if (m->n_grants == 0 && count_elements(prop) <= (first_child(prop, "inheritanceStrategy") ? 1 : 0)) {
        remove_node(prop);
        return 0;
    }
    strategy = first_child(prop, "inheritanceStrategy");
    if (!strategy) {
        strategy = new_element(prop, "inheritanceStrategy", NULL);
        if (!strategy)
            return -ENOMEM;
        r = first_element(prop) ? insert_before(first_element(prop), strategy)
                                : append_child(prop, strategy);
        if (r < 0)
            return r;
    }
    if (!xmlSetProp(strategy, BAD_CAST "class", BAD_CAST(m->inherit ? INHERIT_PARENT : NON_INHERITING)))
        return -ENOMEM;
    for (size_t i = 0; i < m->n_grants; i++) {
        _cleanup_free_ char *t = grant_format(&m->grants[i]);
        xmlNode *e = t ? new_element(prop, "permission", t) : NULL;

        if (!e)
            return -ENOMEM;
        r = append_child(prop, e);
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
    xmlNode *props = first_child(root, "properties"), *builders = first_child(root, "builders");
    xmlNode *prop = props ? first_child(props, PARAMS_PROPERTY) : NULL;
    xmlNode *defs = prop ? first_child(prop, "parameterDefinitions") : NULL;
    size_t others = 0;
    enum param_type t;

    if (!is_opt_xml_text(cfg->description) || !is_opt_xml_text(cfg->auth_token) ||
        cfg->quiet_period < -1)
        return -EINVAL;
    if (cfg->discarder_set &&
        !(is_keep_value(cfg->keep_days) && is_keep_value(cfg->keep_builds) &&
          is_keep_value(cfg->keep_artifact_days) && is_keep_value(cfg->keep_artifact_builds)))
        return -EINVAL;

    for (xmlNode *c = defs ? defs->children : NULL; c; c = c->next)
        others += c->type == XML_ELEMENT_NODE && !param_type_of(c, &t);
    if (cfg->n_params + others > BOUND_JOB_PARAMS || (cfg->n_params && !cfg->params))
        return -EINVAL;
    for (size_t i = 0; i < cfg->n_params; i++)
        if (!param_is_writable(&cfg->params[i]))
            return -EINVAL;
    if (check_param_names(defs, cfg->params, cfg->n_params, NULL) < 0)
        return -EINVAL;

    others = 0;
    for (xmlNode *c = builders ? builders->children : NULL; c; c = c->next)
        others += c->type == XML_ELEMENT_NODE && !node_is(c, SHELL_BUILDER);
    if (cfg->n_shell_steps + others > BOUND_JOB_BUILDERS ||
        (cfg->n_shell_steps && !cfg->shell_steps))
        return -EINVAL;
    for (size_t i = 0; i < cfg->n_shell_steps; i++)
        if (!is_opt_xml_text(cfg->shell_steps[i]))
            return -EINVAL;
    return 0;
}

/*
 * Writes UTF-8, as Jenkins does, whatever encoding the document came in:
 * libxml2 would otherwise write the declared one, and some (UTF-7, say) it
 * cannot read back. "utf-8" as JJB spells it is kept.
 */
static int serialize(xmlDoc *doc, char **ret_xml, size_t *ret_len)
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
    q = quiet_begin();
    r = write_scalars(cfg, root);
    if (r >= 0)
        r = write_params(cfg, root);
    if (r >= 0)
        r = write_shell_steps(cfg, root);
    if (r >= 0)
        r = write_discarder(cfg, root);
    if (r >= 0)
        r = write_matrix(cfg, root);
    if (r >= 0)
        r = serialize(cfg->doc, ret_xml, ret_len);
    quiet_end(&q);
    return r < 0 ? r : 0;
}

/* ---- the struct ---------------------------------------------------------- */

const char *
param_type_to_string(enum param_type t)
{
    if ((unsigned) t >= ELEMENTSOF(param_class))
        return NULL;
    return param_class[t] + strlen("hudson.model.");
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
jobcfg_free(struct job_config *cfg)
{
    if (!cfg)
        return NULL;
    if (cfg->summary) {
        /* one allocation: jobcfg_summary_decode() */
        if (!cfg->in_arena)
            free(cfg);
        return NULL;
    }
    free(cfg->description);
    free(cfg->auth_token);
    free(cfg->timer_spec);
    free(cfg->archive_artifacts);
    free(cfg->archive_excludes);
    free(cfg->other_discarder);
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
        if (!grants[i].sid || !grants[i].sid[0] || !is_opt_xml_text(grants[i].sid) ||
            skip_space(grants[i].sid) != grants[i].sid ||
            trimmed_len(grants[i].sid) != strlen(grants[i].sid) || grants[i].perm >= _PERM_MAX)
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
    xmlNode *token = root ? first_child(root, "authToken") : NULL;
    int r;

    if (cfg->summary)
        return -EINVAL;
    if (!root)
        return -ENOMEM;
    if (token && cfg->auth_token) {
        r = set_text(token, JOBCFG_MASK);
        if (r < 0)
            return r;
    }
    return serialize(copy, ret_xml, ret_len);
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
    if (!is_keep_value(days) || !is_keep_value(builds) || !is_keep_value(artifact_days) ||
        !is_keep_value(artifact_builds))
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
    }
    *ret_value = strdup(v);
    return *ret_value ? 0 : -ENOMEM;
}
