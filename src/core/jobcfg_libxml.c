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
 * them), and calls the library's through a table that the first call fills.
 * A function used in core/jobcfg*.c that is missing here fails the link.
 *
 * A server that has nothing to do gives the library back (xml_unload_idle(),
 * from the engine's idle housekeeping): ICU and libxml2 go, libstdc++ stays
 * (it cannot be unloaded). That is safe when no thread is in a call, no
 * parser context or document is alive, and no one holds it (xml_hold(),
 * around a change of the thread's error handler): the calls hold a read
 * lock, the unloading the write lock, and the library counts what it made.
 * What libxml2 returns as plain memory (strings, a serialized document) is
 * malloc's, freed through libxml2's xmlFree, the same function whichever
 * time the library was loaded; it is kept from the first load.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <libxml/globals.h>
#include <libxml/xmlversion.h>

#include "core/jobcfg.h"
#include "util/strutil.h"

#include "core/jobcfg_int.h"

#define LIBXML2_SONAME "libxml2.so.2"

/*
 * R: returns a value; V: returns nothing. (type, name, parameters, arguments)
 * None of these makes a document or parser context: those are the counted
 * ones, XML_COUNTED below (a new one goes there, or unloading frees the
 * code of what is still in use).
 */
#define XML_FUNCTIONS(R, V)                                                                      \
    R(xmlNodePtr, xmlAddChild, (xmlNodePtr parent, xmlNodePtr cur), (parent, cur))              \
    R(xmlNodePtr, xmlAddNextSibling, (xmlNodePtr cur, xmlNodePtr elem), (cur, elem))             \
    R(xmlNodePtr, xmlAddPrevSibling, (xmlNodePtr cur, xmlNodePtr elem), (cur, elem))             \
    R(int, xmlCtxtUseOptions, (xmlParserCtxtPtr ctxt, int options), (ctxt, options))             \
    V(xmlDocDumpMemory, (xmlDocPtr cur, xmlChar **mem, int *size), (cur, mem, size))             \
    R(xmlNodePtr, xmlDocGetRootElement, (const xmlDoc *doc), (doc))                              \
    V(xmlFreeNode, (xmlNodePtr cur), (cur))                                                      \
    R(xmlChar *, xmlGetProp, (const xmlNode *node, const xmlChar *name), (node, name))           \
    R(xmlAttrPtr, xmlHasProp, (const xmlNode *node, const xmlChar *name), (node, name))          \
    R(xmlNodePtr, xmlNewDocComment, (xmlDocPtr doc, const xmlChar *content), (doc, content))     \
    R(xmlNodePtr, xmlNewDocNode,                                                                 \
      (xmlDocPtr doc, xmlNsPtr ns, const xmlChar *name, const xmlChar *content),                 \
      (doc, ns, name, content))                                                                  \
    R(xmlNodePtr, xmlNewDocText, (const xmlDoc *doc, const xmlChar *content), (doc, content))    \
    R(xmlAttrPtr, xmlNewProp, (xmlNodePtr node, const xmlChar *name, const xmlChar *value),      \
      (node, name, value))                                                                       \
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

/* What makes or frees the objects that keep the library loaded: defined by hand below. */
#define XML_COUNTED(R, V)                                                                        \
    R(xmlDocPtr, xmlCopyDoc, (xmlDocPtr doc, int recursive), (doc, recursive))                   \
    R(xmlParserCtxtPtr, xmlCreateMemoryParserCtxt, (const char *buffer, int size),               \
      (buffer, size))                                                                            \
    V(xmlFreeDoc, (xmlDocPtr cur), (cur))                                                        \
    V(xmlFreeParserCtxt, (xmlParserCtxtPtr ctxt), (ctxt))                                        \
    R(int, xmlParseDocument, (xmlParserCtxtPtr ctxt), (ctxt))

#define FIELD_R(type, name, params, args) type(*name) params;
#define FIELD_V(name, params, args) void(*name) params;

static struct {
    XML_FUNCTIONS(FIELD_R, FIELD_V)
    XML_COUNTED(FIELD_R, FIELD_V)
} lib;

/* readers: calls in progress; the writer: loading and unloading */
static pthread_rwlock_t lib_lock = PTHREAD_RWLOCK_INITIALIZER;
static void *handle;       /* under lib_lock; NULL: not loaded */
static long live;          /* contexts, documents and holds not yet given back (atomic) */
static int64_t last_use;   /* mono_ms() of the last call (atomic) */
static xmlFreeFunc free_fn; /* libxml2's xmlFree, as the first load found it */

/*
 * libxml2 (before 2.12) keeps each thread's globals in memory of its own,
 * under a thread key: its cleanup deletes the key and frees none of them,
 * and a thread that ends after that does not free its own either. So each
 * thread remembers its globals and the load they belong to, and frees
 * those of an unloaded library itself: at its next call, or as it ends
 * (exit_key). A server going idle a thousand times leaks nothing.
 *
 * libxml2's own key frees a thread's globals as the thread ends, in its
 * code and outside the lock: so no thread that has called into libxml2
 * may end while an unloading can happen. Those that come and go (a
 * build's archiver) end before their build does, and the engine unloads
 * only with no build running; the others end at the server's stop, after
 * the engine's loop.
 */
#if LIBXML_VERSION < 21200
#define CAN_UNLOAD 1
static xmlGlobalStatePtr (*get_state)(void);
static bool unloadable;                       /* under lib_lock: the loaded library may go */
static unsigned unloads;                      /* under lib_lock */
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static __thread xmlGlobalStatePtr my_state;   /* this thread's globals, made by... */
static __thread unsigned my_unloads;          /* ...the library loaded after this many unloads */
#else
#define CAN_UNLOAD 0
#endif

static _Noreturn void
cannot_load(const char *what)
{
    /* the package depends on libxml2: only a broken installation gets here */
    fprintf(stderr, "steward: cannot load %s, which reading config.xml needs: %s\n", LIBXML2_SONAME,
            what);
    abort();
}

/* with lib_lock held for writing */
static void
load(void)
{
    void *h = dlopen(LIBXML2_SONAME, RTLD_NOW | RTLD_LOCAL);
    xmlFreeFunc *free_var;
    void (*init)(void);

    if (!h)
        cannot_load(dlerror());
#define LOAD(name)                                                                               \
    if (!(*(void **) &lib.name = dlsym(h, #name)))                                               \
        cannot_load(#name " is missing");
#define LOAD_R(type, name, params, args) LOAD(name)
#define LOAD_V(name, params, args) LOAD(name)
    XML_FUNCTIONS(LOAD_R, LOAD_V)
    XML_COUNTED(LOAD_R, LOAD_V)
    if (!(free_var = dlsym(h, "xmlFree")) || !(*(void **) &init = dlsym(h, "xmlInitParser")))
        cannot_load("xmlFree or xmlInitParser is missing");
#if CAN_UNLOAD
    {
        /* the library found at run time: 2.12 and later keep their globals otherwise */
        const char *const *version = dlsym(h, "xmlParserVersion");

        unloadable = version && *version && atoi(*version) < 21200;
    }
    if (!(*(void **) &get_state = dlsym(h, "xmlGetGlobalState")))
        unloadable = false;
#endif
    init();
    __atomic_store_n(&last_use, mono_ms(), __ATOMIC_RELAXED);
    if (!free_fn)
        __atomic_store_n(&free_fn, *free_var, __ATOMIC_RELEASE);
    handle = h;
}

#if CAN_UNLOAD
/* a thread's last error, in its globals (xmlLastError is also a macro for the caller's) */
#pragma push_macro("xmlLastError")
#undef xmlLastError
static xmlErrorPtr
last_error_of(xmlGlobalStatePtr gs)
{
    return &gs->xmlLastError;
}
#pragma pop_macro("xmlLastError")

/* The globals of an unloaded library: what xmlResetError() and libxml2's key would free. */
static void
free_orphan(xmlGlobalStatePtr gs)
{
    xmlErrorPtr e = last_error_of(gs);

    free_fn(e->message);
    free_fn(e->file);
    free_fn(e->str1);
    free_fn(e->str2);
    free_fn(e->str3);
    free(gs);
}

static void
thread_ends(void *unused _unused_)
{
    /* not while an unloading decides whose globals are orphans */
    pthread_rwlock_rdlock(&lib_lock);
    if (my_state && my_unloads != unloads)
        free_orphan(my_state);
    /* else libxml2's own key frees them */
    my_state = NULL;
    pthread_rwlock_unlock(&lib_lock);
}

static void
make_exit_key(void)
{
    if (pthread_key_create(&exit_key, thread_ends) != 0)
        abort();
}

/* with lib_lock held: this thread's globals are the loaded library's */
static void
adopt_globals(void)
{
    if (!unloadable || (my_state && my_unloads == unloads))
        return;
    if (my_state)
        free_orphan(my_state);
    my_state = get_state();
    my_unloads = unloads;
    pthread_once(&exit_key_once, make_exit_key);
    (void) pthread_setspecific(exit_key, &my_state);
}
#endif

/*
 * A call begins: the library is loaded, and stays while the read lock is
 * held. A call made inside another (ours, from libxml2's SAX callbacks)
 * takes no second lock: the outer one holds it.
 */
static __thread unsigned depth;

static void
enter(void)
{
    if (depth++ > 0)
        return;
    for (;;) {
        pthread_rwlock_rdlock(&lib_lock);
        if (handle)
            break;
        pthread_rwlock_unlock(&lib_lock);
        pthread_rwlock_wrlock(&lib_lock);
        if (!handle)
            load();
        pthread_rwlock_unlock(&lib_lock);
    }
    __atomic_store_n(&last_use, mono_ms(), __ATOMIC_RELAXED);
#if CAN_UNLOAD
    adopt_globals();
#endif
}

static void
leave(void)
{
    if (--depth == 0)
        pthread_rwlock_unlock(&lib_lock);
}

static void
count(const void *made, long n)
{
    if (made)
        __atomic_add_fetch(&live, n, __ATOMIC_RELAXED);
}

void
xml_hold(void)
{
    enter();
    count(&live, 1);
    leave();
}

void
xml_unhold(void)
{
    count(&live, -1);
}

#if CAN_UNLOAD
bool
xml_unload_idle(int idle_ms)
{
    void (*cleanup)(void) = NULL;
    bool done = false;

    if (pthread_rwlock_trywrlock(&lib_lock) != 0)
        return false;
    if (handle && unloadable && __atomic_load_n(&live, __ATOMIC_RELAXED) == 0 &&
        mono_ms() - __atomic_load_n(&last_use, __ATOMIC_RELAXED) >= idle_ms &&
        (*(void **) &cleanup = dlsym(handle, "xmlCleanupParser"))) {
        /* the cleanup uses this thread's globals: known now, freed at its next call */
        adopt_globals();
        /* libxml2's own: its thread key, dictionaries, encodings */
        cleanup();
        (void) dlclose(handle);
        handle = NULL;
        lib = (typeof(lib)){};
        unloads++;
        done = true;
    }
    pthread_rwlock_unlock(&lib_lock);
    return done;
}
#else
/* libxml2 2.12 and later keep their globals otherwise: it stays loaded */
bool
xml_unload_idle(int idle_ms _unused_)
{
    return false;
}
#endif

#define DEFINE_R(type, name, params, args)                                                       \
    type name params                                                                             \
    {                                                                                            \
        type ret;                                                                                \
        enter();                                                                                 \
        ret = lib.name args;                                                                     \
        leave();                                                                                 \
        return ret;                                                                              \
    }
#define DEFINE_V(name, params, args)                                                             \
    void name params                                                                             \
    {                                                                                            \
        enter();                                                                                 \
        lib.name args;                                                                           \
        leave();                                                                                 \
    }
XML_FUNCTIONS(DEFINE_R, DEFINE_V)

xmlParserCtxtPtr
xmlCreateMemoryParserCtxt(const char *buffer, int size)
{
    xmlParserCtxtPtr ctxt;

    enter();
    ctxt = lib.xmlCreateMemoryParserCtxt(buffer, size);
    count(ctxt, 1);
    leave();
    return ctxt;
}

/* the document it made, in ctxt->myDoc, is the caller's to free with xmlFreeDoc() */
int
xmlParseDocument(xmlParserCtxtPtr ctxt)
{
    int r;

    enter();
    r = lib.xmlParseDocument(ctxt);
    count(ctxt->myDoc, 1);
    leave();
    return r;
}

xmlDocPtr
xmlCopyDoc(xmlDocPtr doc, int recursive)
{
    xmlDocPtr copy;

    enter();
    copy = lib.xmlCopyDoc(doc, recursive);
    count(copy, 1);
    leave();
    return copy;
}

void
xmlFreeDoc(xmlDocPtr cur)
{
    enter();
    lib.xmlFreeDoc(cur);
    count(cur, -1);
    leave();
}

void
xmlFreeParserCtxt(xmlParserCtxtPtr ctxt)
{
    enter();
    lib.xmlFreeParserCtxt(ctxt);
    count(ctxt, -1);
    leave();
}

void
xmlInitParser(void)
{
    enter();
    leave();
}

static void
free_through_libxml2(void *mem)
{
    xmlFreeFunc f = __atomic_load_n(&free_fn, __ATOMIC_ACQUIRE);

    if (!f) {
        /* nothing libxml2 made exists before its first load */
        xmlInitParser();
        f = __atomic_load_n(&free_fn, __ATOMIC_ACQUIRE);
    }
    f(mem);
}

/* what libxml2 allocated, libxml2's allocator frees */
xmlFreeFunc xmlFree = free_through_libxml2;
