/* SPDX-License-Identifier: MIT */
/*
 * libxml2, loaded when a config.xml is first parsed or written rather than
 * when the binary starts. It brings ICU and libstdc++ along: seven
 * libraries, 1.7 MB resident and some milliseconds of every start of the
 * server and of every command, which most never parse a file (a server
 * with an up-to-date job index parses none until a build starts or a job
 * is saved).
 *
 * Each libxml2 function Steward calls is defined here under its own name,
 * with the prototype libxml2's headers give it (so the compiler checks
 * them), and calls the library's through a table that the first call fills
 * once. A function used in core/jobcfg*.c that is missing here fails the
 * link.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/jobcfg_int.h"

#define LIBXML2_SONAME "libxml2.so.2"

/* R: returns a value; V: returns nothing. (type, name, parameters, arguments) */
#define XML_FUNCTIONS(R, V)                                                                      \
    R(xmlNodePtr, xmlAddChild, (xmlNodePtr parent, xmlNodePtr cur), (parent, cur))              \
    R(xmlNodePtr, xmlAddNextSibling, (xmlNodePtr cur, xmlNodePtr elem), (cur, elem))             \
    R(xmlNodePtr, xmlAddPrevSibling, (xmlNodePtr cur, xmlNodePtr elem), (cur, elem))             \
    R(xmlDocPtr, xmlCopyDoc, (xmlDocPtr doc, int recursive), (doc, recursive))                   \
    R(xmlParserCtxtPtr, xmlCreateMemoryParserCtxt, (const char *buffer, int size),               \
      (buffer, size))                                                                            \
    R(int, xmlCtxtUseOptions, (xmlParserCtxtPtr ctxt, int options), (ctxt, options))             \
    V(xmlDocDumpMemory, (xmlDocPtr cur, xmlChar **mem, int *size), (cur, mem, size))             \
    R(xmlNodePtr, xmlDocGetRootElement, (const xmlDoc *doc), (doc))                              \
    V(xmlFreeDoc, (xmlDocPtr cur), (cur))                                                        \
    V(xmlFreeNode, (xmlNodePtr cur), (cur))                                                      \
    V(xmlFreeParserCtxt, (xmlParserCtxtPtr ctxt), (ctxt))                                        \
    R(xmlChar *, xmlGetProp, (const xmlNode *node, const xmlChar *name), (node, name))           \
    R(xmlAttrPtr, xmlHasProp, (const xmlNode *node, const xmlChar *name), (node, name))          \
    R(xmlNodePtr, xmlNewDocComment, (xmlDocPtr doc, const xmlChar *content), (doc, content))     \
    R(xmlNodePtr, xmlNewDocNode,                                                                 \
      (xmlDocPtr doc, xmlNsPtr ns, const xmlChar *name, const xmlChar *content),                 \
      (doc, ns, name, content))                                                                  \
    R(xmlNodePtr, xmlNewDocText, (const xmlDoc *doc, const xmlChar *content), (doc, content))    \
    R(xmlAttrPtr, xmlNewProp, (xmlNodePtr node, const xmlChar *name, const xmlChar *value),      \
      (node, name, value))                                                                       \
    R(int, xmlParseDocument, (xmlParserCtxtPtr ctxt), (ctxt))                                    \
    R(xmlNodePtr, xmlReplaceNode, (xmlNodePtr old, xmlNodePtr cur), (old, cur))                  \
    V(xmlSAX2StartElementNs,                                                                     \
      (void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI,           \
       int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,       \
       const xmlChar **attributes),                                                              \
      (ctx, localname, prefix, URI, nb_namespaces, namespaces, nb_attributes, nb_defaulted,      \
       attributes))                                                                              \
    V(xmlSAX2EndElementNs,                                                                       \
      (void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI),          \
      (ctx, localname, prefix, URI))                                                             \
    R(xmlAttrPtr, xmlSetProp, (xmlNodePtr node, const xmlChar *name, const xmlChar *value),      \
      (node, name, value))                                                                       \
    V(xmlSetStructuredErrorFunc, (void *ctx, xmlStructuredErrorFunc handler), (ctx, handler))    \
    V(xmlStopParser, (xmlParserCtxtPtr ctxt), (ctxt))                                            \
    R(int, xmlStrEqual, (const xmlChar *str1, const xmlChar *str2), (str1, str2))                \
    R(xmlChar *, xmlStrdup, (const xmlChar *cur), (cur))                                         \
    V(xmlUnlinkNode, (xmlNodePtr cur), (cur))                                                    \
    R(xmlStructuredErrorFunc *, __xmlStructuredError, (void), ())                                \
    R(void **, __xmlStructuredErrorContext, (void), ())

#define FIELD_R(type, name, params, args) type(*name) params;
#define FIELD_V(name, params, args) void(*name) params;

static struct {
    XML_FUNCTIONS(FIELD_R, FIELD_V)
    xmlFreeFunc *free; /* libxml2's own xmlFree, a variable */
} lib;

static pthread_once_t loaded = PTHREAD_ONCE_INIT;

static _Noreturn void
cannot_load(const char *what)
{
    /* the package depends on libxml2: only a broken installation gets here */
    fprintf(stderr, "steward: cannot load %s, which reading config.xml needs: %s\n", LIBXML2_SONAME,
            what);
    abort();
}

static void
load(void)
{
    void *h = dlopen(LIBXML2_SONAME, RTLD_NOW | RTLD_LOCAL);
    void (*init)(void);

    if (!h)
        cannot_load(dlerror());
#define LOAD(name)                                                                               \
    if (!(*(void **) &lib.name = dlsym(h, #name)))                                               \
        cannot_load(#name " is missing");
#define LOAD_R(type, name, params, args) LOAD(name)
#define LOAD_V(name, params, args) LOAD(name)
    XML_FUNCTIONS(LOAD_R, LOAD_V)
    if (!(lib.free = dlsym(h, "xmlFree")) || !(*(void **) &init = dlsym(h, "xmlInitParser")))
        cannot_load("xmlFree or xmlInitParser is missing");
    init();
}

#define DEFINE_R(type, name, params, args)                                                       \
    type name params                                                                             \
    {                                                                                            \
        pthread_once(&loaded, load);                                                             \
        return lib.name args;                                                                    \
    }
#define DEFINE_V(name, params, args)                                                             \
    void name params                                                                             \
    {                                                                                            \
        pthread_once(&loaded, load);                                                             \
        lib.name args;                                                                           \
    }
XML_FUNCTIONS(DEFINE_R, DEFINE_V)

void
xmlInitParser(void)
{
    pthread_once(&loaded, load);
}

static void
free_through_libxml2(void *mem)
{
    pthread_once(&loaded, load);
    (*lib.free)(mem);
}

/* what libxml2 allocated, libxml2's allocator frees */
xmlFreeFunc xmlFree = free_through_libxml2;
