/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Reading an XML document that came from outside (a credential's XML, a
 * node's config.xml) with the guards config.xml's own parser has
 * (core/jobcfg_load.c): no DOCTYPE, so no entity is ever declared or
 * expanded; no network; no DTD; libxml2's messages go nowhere. libxml2
 * itself comes through core/jobcfg_libxml.c, loaded on first use.
 */

#include <stddef.h>

#include <libxml/tree.h>

/*
 * Parses `len` bytes of `xml` (at most INT32_MAX). Returns 0 and *ret_doc
 * (free it with xmlFreeDoc()); -EBADMSG when it holds a DOCTYPE; -EINVAL
 * when it is not well-formed, with *ret_line the line of the first error
 * (1 when unknown); -ENOMEM. The caller words the refusal.
 */
int xmldoc_parse(const char *xml, size_t len, xmlDoc **ret_doc, int *ret_line);
