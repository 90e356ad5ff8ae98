/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Jenkins' api/xml, made from the same JSON value api/json serves (Stapler's
 * XMLDataWriter):
 *
 *   {"_class":"hudson.security.csrf.DefaultCrumbIssuer","crumb":"abc",
 *    "crumbRequestField":"Jenkins-Crumb"}
 *
 * becomes
 *
 *   <defaultCrumbIssuer _class='hudson.security.csrf.DefaultCrumbIssuer'>
 *   <crumb>abc</crumb><crumbRequestField>Jenkins-Crumb</crumbRequestField>
 *   </defaultCrumbIssuer>
 *
 * (on one line, without an XML declaration, like Jenkins). The root element
 * is named after the simple name of "_class", decapitalized as
 * java.beans.Introspector does ("Queue$LeftItem" -> "leftItem", "URLThing"
 * stays). Each property is a child element and "_class" of nested objects an
 * attribute. An array is written as repeated elements named after the
 * property made singular the way Stapler does it ("jobs" -> "job",
 * "categories" -> "category"); nested arrays are flattened. Null properties
 * are left out. Characters XML 1.0 cannot carry are dropped; names lose the
 * characters a name cannot hold.
 *
 * Nothing here depends on libxml2: the value is walked directly.
 */

#include <jansson.h>
#include <stdbool.h>

#include "util/buf.h"

/*
 * Appends the XML form of the object `v` to `out`. The root element takes
 * its name from v's "_class" or, when there is none, from
 * `root_name_or_null`. Returns 0, -EINVAL when v is not an object or no root
 * name can be found, -E2BIG past out's maximum (or a nesting deeper than
 * 64), -ENOMEM. On failure `out` is left as it was.
 */
int xmlout_render(json_t *v, const char *root_name_or_null, struct buf *out);

/*
 * Evaluates `xpath` for api/xml?xpath=...&wrapper=... over the XML form of
 * `v` (root named as for xmlout_render) and appends the answer to `out`.
 * Supported, which is what clients send:
 *
 *   /R/name, /R/name/text()   where R is the root's name or a star, as in
 *                             Jenkins' crumb idiom; longer /R/a/b paths too
 *   //name, //name/text()     at any depth; //a/b too
 *   concat(ARG, ARG, ...)     where ARG is one of those paths or a '...' or
 *                             "..." literal, e.g.
 *                             concat(//crumbRequestField,":",//crumb)
 *
 * A path selects elements in document order; any step may be a star, which
 * matches every name. In concat() a path stands for the text of its first
 * match, or "" (so concat() always answers).
 *
 * Without a wrapper the first match is answered: an element as XML (the way
 * Jenkins re-serializes it with dom4j: _class="..." in double quotes, <x/>
 * when empty), a text() node or a concat() as bare text, not escaped; then
 * *ret_is_text is true. Jenkins answers bare text as text/plain, and only
 * for the crumb issuer (403 elsewhere): that policy is the caller's. With
 * `wrapper`, which must match [A-Za-z_][A-Za-z0-9_.-]*, every match goes
 * inside <wrapper>...</wrapper>, or <wrapper/> when nothing matched, and the
 * answer is XML. The `exclude` parameter is not supported.
 *
 * Returns 0 and sets *ret_is_text; -EINVAL for an unsupported or malformed
 * xpath, a bad wrapper, or as xmlout_render; -ENOENT when nothing matched
 * and there is no wrapper (Jenkins: 404 "XPath ... didn't match"); -E2BIG;
 * -ENOMEM. On -EINVAL and -ENOENT *reterr_msg, when not NULL, gets a message
 * to be freed (it quotes the xpath). On failure `out` is left as it was.
 *
 * Unlike Jenkins, which answers 500 when a path without a wrapper matches
 * more than one node, the first match is answered.
 */
int xmlout_xpath(json_t *v, const char *root_name_or_null, const char *xpath,
                 const char *wrapper, struct buf *out, bool *ret_is_text,
                 char **reterr_msg);
