/* SPDX-License-Identifier: MIT */
/*
 * One credential's XML, as the credentials plugins write it (XStream),
 * read into a struct cred_fields and written back with its secrets
 * redacted. The parse (core/xmldoc.h) takes the same stance as
 * config.xml's against hostile XML: no DOCTYPE (so no entity is ever
 * declared), no network, no DTD.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/credentials.h"
#include "core/xmldoc.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/html.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

#define SSH_DIRECT_SOURCE \
    "com.cloudbees.jenkins.plugins.sshcredentials.impl.BasicSSHUserPrivateKey$DirectEntryPrivateKeySource"
/* an element whose text is a secret is at most this long (base64 of the largest file) */
#define SECRET_TEXT_MAX ((size_t) BOUND_CREDENTIAL_FILE_BYTES / 3 * 4 + 8)


static bool
is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

/*
 * The text of element n (text and CDATA children), newly allocated with a
 * NUL after *ret_len bytes; -EINVAL when it holds an element, -E2BIG past
 * max. Built in one allocation, so a secret leaves no copies behind.
 */
static int
text_of(const xmlNode *n, size_t max, char **ret, size_t *ret_len)
{
    size_t len = 0, at = 0;
    char *s;

    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            len += c->content ? strlen((const char *) c->content) : 0;
            if (len > max)
                return -E2BIG;
        } else if (c->type != XML_COMMENT_NODE && c->type != XML_PI_NODE)
            return -EINVAL;
    }
    s = malloc(len + 1);
    if (!s)
        return -ENOMEM;
    for (const xmlNode *c = n->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            size_t k = strlen((const char *) c->content);

            memcpy(s + at, c->content, k);
            at += k;
        }
    s[len] = '\0';
    *ret = s;
    *ret_len = len;
    return 0;
}

/* Leading and trailing white space off, in place (XStream keeps it; ids and names never want it). */
static char *
trim(char *s)
{
    size_t len = strlen(s), start = strspn(s, " \t\r\n");

    while (len > start && strchr(" \t\r\n", s[len - 1]))
        len--;
    memmove(s, s + start, len - start);
    s[len - start] = '\0';
    return s;
}

struct reader {
    struct cred_fields *f;
    char **msg;
};

static int
fail(char **msg, const char *text)
{
    *msg = strdup(text);
    return *msg ? -EINVAL : -ENOMEM;
}

static int
read_plain(struct reader *rd, const xmlNode *n, size_t max, char **ret)
{
    size_t len;
    int r;

    if (*ret)
        return fail(rd->msg, rfmt("<%s> is given twice.", (const char *) n->name));
    r = text_of(n, max, ret, &len);
    if (r == -E2BIG)
        return fail(rd->msg, rfmt("<%s> is longer than %zu bytes.", (const char *) n->name, max));
    if (r == -EINVAL)
        return fail(rd->msg, rfmt("<%s> must hold text only.", (const char *) n->name));
    if (r < 0)
        return r;
    trim(*ret);
    return 0;
}

/*
 * A secret element: plain text, <secret-redacted/> (not given), or a
 * value a Jenkins encrypted, which only it can open. With base64 (a
 * file's secretBytes), the text is decoded.
 */
static int
read_secret(struct reader *rd, const xmlNode *n, bool base64, unsigned char **ret,
            size_t *ret_len)
{
    const char *name = (const char *) n->name;
    char *text = NULL;
    size_t len = 0;
    int r;

    if (*ret)
        return fail(rd->msg, rfmt("<%s> is given twice.", name));
    for (const xmlNode *c = n->children; c; c = c->next)
        if (is(c, "secret-redacted"))
            return 0;
    r = text_of(n, base64 ? SECRET_TEXT_MAX : BOUND_CREDENTIAL_SECRET_BYTES, &text, &len);
    if (r == -E2BIG)
        return fail(rd->msg, rfmt("<%s> is longer than Steward keeps (%d bytes).", name,
                                  base64 ? BOUND_CREDENTIAL_FILE_BYTES
                                         : BOUND_CREDENTIAL_SECRET_BYTES));
    if (r == -EINVAL)
        return fail(rd->msg, rfmt("<%s> must hold text only.", name));
    if (r < 0)
        return r;
    /* Jenkins' Secret.toString(): "{" base64 "}" of its own encryption */
    if (len > 2 && text[0] == '{' && text[len - 1] == '}' &&
        strspn(text + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
            len - 2) {
        secret_bytes_free(text, len + 1);
        return fail(rd->msg, rfmt("<%s> holds a value encrypted by a Jenkins ({...}), which only "
                                  "that Jenkins can open. Send the secret itself.", name));
    }
    if (base64) {
        char *bytes = NULL;
        size_t n_bytes = 0;

        /* line breaks and indentation inside base64 are not part of it */
        size_t k = 0;

        for (size_t i = 0; i < len; i++)
            if (!strchr(" \t\r\n", text[i]))
                text[k++] = text[i];
        text[k] = '\0';
        r = base64_decode(text, &bytes, &n_bytes);
        secret_bytes_free(text, len + 1);
        if (r == -EINVAL)
            return fail(rd->msg, rfmt("<%s> is not base64.", name));
        if (r < 0)
            return r;
        *ret = (unsigned char *) bytes;
        *ret_len = n_bytes;
        return 0;
    }
    *ret = (unsigned char *) text;
    *ret_len = len;
    return 0;
}

static int
read_field(struct reader *rd, const xmlNode *n)
{
    struct cred_fields *f = rd->f;
    char *flag = NULL;
    int r;

    if (is(n, "scope"))
        return read_plain(rd, n, 16, &f->scope);
    if (is(n, "id"))
        return read_plain(rd, n, BOUND_CREDENTIAL_ID_BYTES, &f->id);
    if (is(n, "description"))
        return read_plain(rd, n, BOUND_CREDENTIAL_DESCRIPTION_BYTES, &f->description);
    if (is(n, "username") && (f->kind == CRED_USERNAME_PASSWORD || f->kind == CRED_SSH_KEY))
        return read_plain(rd, n, BOUND_CREDENTIAL_USERNAME_BYTES, &f->username);
    if (is(n, "usernameSecret")) {
        r = read_plain(rd, n, 8, &flag);
        if (r < 0)
            return r;
        f->username_secret = streq(flag, "true");
        r = streq(flag, "true") || streq(flag, "false") || !*flag
                ? 0 : fail(rd->msg, "<usernameSecret> is true or false.");
        free(flag);
        return r;
    }
    if (is(n, "password") && f->kind == CRED_USERNAME_PASSWORD)
        return read_secret(rd, n, false, &f->secret, &f->secret_len);
    if (is(n, "secret") && f->kind == CRED_SECRET_TEXT)
        return read_secret(rd, n, false, &f->secret, &f->secret_len);
    if (is(n, "passphrase") && f->kind == CRED_SSH_KEY)
        return read_secret(rd, n, false, &f->passphrase, &f->passphrase_len);
    if (is(n, "fileName") && f->kind == CRED_FILE)
        return read_plain(rd, n, BOUND_CREDENTIAL_FILE_NAME_BYTES, &f->file_name);
    if (is(n, "secretBytes") && f->kind == CRED_FILE)
        return read_secret(rd, n, true, &f->secret, &f->secret_len);
    if (is(n, "privateKeySource") && f->kind == CRED_SSH_KEY) {
        xmlChar *cls = xmlGetProp(n, BAD_CAST "class");
        bool direct = !cls || xmlStrEqual(cls, BAD_CAST SSH_DIRECT_SOURCE);

        if (cls)
            xmlFree(cls);
        if (!direct)
            return fail(rd->msg, "Steward keeps SSH keys entered directly "
                                 "(BasicSSHUserPrivateKey$DirectEntryPrivateKeySource): a key "
                                 "read from a file of the server is not supported.");
        for (const xmlNode *c = n->children; c; c = c->next)
            if (is(c, "privateKey")) {
                r = read_secret(rd, c, false, &f->secret, &f->secret_len);
                if (r < 0)
                    return r;
            }
        return 0;
    }
    /* what the plugins write and Steward has no use for, as XStream skips unknown fields */
    return 0;
}

static int
read_doc(const xmlDoc *doc, struct cred_fields *f, char **msg)
{
    const xmlNode *root = xmlDocGetRootElement(doc);
    struct reader rd = { .f = f, .msg = msg };
    const char *cls;
    int r;

    if (!root)
        return fail(msg, "The XML has no root element.");
    cls = (const char *) root->name;
    if (cred_kind_parse(cls, &f->kind) < 0 || !strchr(cls, '.'))
        return fail(msg, rfmt("Steward keeps four kinds of credential, and <%.100s> is not one "
                              "of them: %s, %s, %s or %s.", cls,
                              cred_kind_class(CRED_USERNAME_PASSWORD),
                              cred_kind_class(CRED_SSH_KEY), cred_kind_class(CRED_SECRET_TEXT),
                              cred_kind_class(CRED_FILE)));
    for (const xmlNode *c = root->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && (r = read_field(&rd, c)) < 0)
            return r;
    return 0;
}

int
cred_xml_parse(const char *xml, size_t len, struct cred_fields *ret, char **reterr_msg)
{
    struct cred_fields f = {};
    xmlDoc *doc = NULL;
    int line, r;

    if (len == 0)
        return fail(reterr_msg, "The credential's XML is empty.");
    if (len > BOUND_BODY_BYTES || len > INT32_MAX)
        return fail(reterr_msg, rfmt("The XML is longer than %d bytes.", BOUND_BODY_BYTES));
    r = xmldoc_parse(xml, len, &doc, &line);
    if (r == -EBADMSG)
        r = fail(reterr_msg, "The credential's XML must not contain a DOCTYPE.");
    else if (r == -EINVAL)
        r = fail(reterr_msg, rfmt("The credential's XML is not well-formed (line %d).", line));
    else if (r >= 0)
        r = read_doc(doc, &f, reterr_msg);
    if (doc)
        xmlFreeDoc(doc);
    if (r < 0) {
        cred_fields_release(&f);
        return r;
    }
    *ret = f;
    return 0;
}

/* <name>text</name> on its own line, escaped. */
static int
element(struct buf *out, const char *name, const char *text)
{
    int r = buf_printf(out, "  <%s>", name);

    if (r >= 0)
        r = html_text(out, text ? text : "");
    if (r >= 0)
        r = buf_printf(out, "</%s>\n", name);
    return r;
}

static int
redacted(struct buf *out, const char *indent, const char *name)
{
    return buf_printf(out, "%s<%s>\n%s  <secret-redacted/>\n%s</%s>\n", indent, name, indent,
                      indent, name);
}

int
cred_xml_write_redacted(const struct cred_info *c, struct buf *out)
{
    const char *cls = cred_kind_class(c->kind);
    int r;

    r = buf_printf(out, "<%s>\n", cls);
    if (r >= 0)
        r = element(out, "scope", c->scope);
    if (r >= 0)
        r = element(out, "id", c->id);
    if (r >= 0)
        r = element(out, "description", c->description);
    if (r < 0)
        return r;
    switch (c->kind) {
    case CRED_USERNAME_PASSWORD:
        r = element(out, "username", c->username);
        if (r >= 0)
            r = redacted(out, "  ", "password");
        if (r >= 0)
            r = element(out, "usernameSecret", c->username_secret ? "true" : "false");
        break;
    case CRED_SSH_KEY:
        r = element(out, "username", c->username);
        if (r >= 0)
            r = element(out, "usernameSecret", c->username_secret ? "true" : "false");
        if (r >= 0)
            r = buf_printf(out, "  <privateKeySource class=\"%s\">\n", SSH_DIRECT_SOURCE);
        if (r >= 0)
            r = redacted(out, "    ", "privateKey");
        if (r >= 0)
            r = buf_puts(out, "  </privateKeySource>\n");
        if (r >= 0)
            r = redacted(out, "  ", "passphrase");
        break;
    case CRED_SECRET_TEXT:
        r = redacted(out, "  ", "secret");
        break;
    case CRED_FILE:
        r = element(out, "fileName", c->file_name);
        if (r >= 0)
            r = redacted(out, "  ", "secretBytes");
        break;
    default:
        break;
    }
    if (r >= 0)
        r = buf_printf(out, "</%s>\n", cls);
    return r;
}
