/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "core/jobcfg.h"
#include "core/xmldoc.h"
#include "util/macro.h"

struct parse {
    bool doctype;
};

static void
on_doctype(void *ctx, const xmlChar *name _unused_, const xmlChar *external_id _unused_,
           const xmlChar *system_id _unused_)
{
    xmlParserCtxt *ctxt = ctx;
    struct parse *p = ctxt->_private;

    p->doctype = true;
    xmlStopParser(ctxt);
}

static void
on_entity_decl(void *ctx, const xmlChar *name _unused_, int type _unused_,
               const xmlChar *public_id _unused_, const xmlChar *system_id _unused_,
               xmlChar *content _unused_)
{
    on_doctype(ctx, NULL, NULL, NULL);
}

#if LIBXML_VERSION >= 21200
typedef const xmlError *error_arg;
#else
typedef xmlErrorPtr error_arg;
#endif

/* Errors go nowhere: the caller says "not well-formed" with the line. */
static void
on_error(void *ctx _unused_, error_arg e _unused_)
{
}

int
xmldoc_parse(const char *xml, size_t len, xmlDoc **ret_doc, int *ret_line)
{
    xmlStructuredErrorFunc saved_handler;
    void *saved_ctx;
    struct parse p = {};
    xmlParserCtxt *ctxt;
    xmlDoc *doc;
    int r = 0;

    *ret_doc = NULL;
    *ret_line = 1;
    if (len > INT32_MAX)
        return -EINVAL;
    /* the handler is libxml2's per-thread state: it stays loaded until it is put back */
    xml_hold();
    saved_handler = xmlStructuredError;
    saved_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(NULL, on_error);
    ctxt = xmlCreateMemoryParserCtxt(xml, (int) len);
    if (!ctxt) {
        xmlSetStructuredErrorFunc(saved_ctx, saved_handler);
        xml_unhold();
        return -ENOMEM;
    }
    (void) xmlCtxtUseOptions(ctxt, XML_PARSE_NONET);
    ctxt->replaceEntities = 0;
    ctxt->loadsubset = 0;
    ctxt->validate = 0;
    ctxt->_private = &p;
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->serror = on_error;
    ctxt->sax->warning = NULL;
    (void) xmlParseDocument(ctxt);
    doc = TAKE_PTR(ctxt->myDoc);
    if (p.doctype || (doc && (doc->intSubset || doc->extSubset)))
        r = -EBADMSG;
    else if (ctxt->errNo == XML_ERR_NO_MEMORY)
        r = -ENOMEM;
    else if (!ctxt->wellFormed || !doc) {
        r = -EINVAL;
        if (ctxt->lastError.line > 0)
            *ret_line = ctxt->lastError.line;
    }
    xmlFreeParserCtxt(ctxt);
    xmlSetStructuredErrorFunc(saved_ctx, saved_handler);
    xml_unhold();
    if (r < 0) {
        if (doc)
            xmlFreeDoc(doc);
        return r;
    }
    *ret_doc = doc;
    return 0;
}
