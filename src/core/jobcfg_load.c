/* SPDX-License-Identifier: MIT */
/*
 * Reading config.xml bytes into a document, refusing hostile XML, and the
 * messages that say why. See core/jobcfg_int.h for how the pieces fit.
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

/* ---- messages ---------------------------------------------------------- */

/* Sets *msg (when msg is not NULL and nothing is there yet); returns -EINVAL. */
int _printf_(2, 3) cfg_fail(char **msg, const char *fmt, ...)
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
const char *cfg_clip(char *out, size_t size, const char *s)
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
    n = cfg_trimmed_len(m);
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


struct quiet cfg_quiet_begin(void)
{
    struct quiet q;

    /* the handler is libxml2's per-thread state: it stays loaded until it is put back */
    xml_hold();
    q = (struct quiet){ .handler = xmlStructuredError, .ctx = xmlStructuredErrorContext };
    xmlSetStructuredErrorFunc(NULL, on_other_error);
    return q;
}

void cfg_quiet_end(struct quiet *q)
{
    xmlSetStructuredErrorFunc(q->ctx, q->handler);
    xml_unhold();
}

pthread_once_t cfg_xml_once = PTHREAD_ONCE_INIT;

void cfg_xml_init(void)
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

int cfg_parse_xml(const char *xml, size_t len, const char *what, xmlDoc **ret_doc, char **msg)
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
        r = cfg_fail(msg, "%s must not contain a DOCTYPE", what);
    else if (st.too_deep)
        r = cfg_fail(msg, "%s nests elements deeper than %d levels", what, BOUND_XML_DEPTH);
    else if (ctxt->errNo == XML_ERR_NO_MEMORY)
        r = -ENOMEM;
    else if (!ctxt->wellFormed || !doc)
        r = st.err ? cfg_fail(msg, "%s is not well-formed XML: %s", what, st.err)
                   : cfg_fail(msg, "%s is not well-formed XML", what);
    free(st.err);
    if (r < 0)
        return r;
    *ret_doc = TAKE_PTR(doc);
    return 0;
}

int cfg_parse_doc(const char *xml, size_t len, xmlDoc **ret_doc, char **msg)
{
    return cfg_parse_xml(xml, len, "config.xml", ret_doc, msg);
}
