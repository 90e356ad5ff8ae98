/* SPDX-License-Identifier: MIT */
/*
 * A node's config.xml, as Jenkins writes it (XStream of
 * hudson.slaves.DumbSlave), read into a struct node_config and written
 * from one. The parse (core/xmldoc.h) takes the same stance against
 * hostile XML as a credential's: no DOCTYPE, no network, no DTD.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/credentials.h"
#include "core/xmldoc.h"
#include "core/jobs.h"
#include "core/label.h"
#include "core/nodes.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/html.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

#define SSH_LAUNCHER "hudson.plugins.sshslaves.SSHLauncher"
#define VERIFIERS "hudson.plugins.sshslaves.verifiers."

static const char *const host_key_classes[] = {
    [NODE_HOST_KEY_MANUALLY_PROVIDED] = VERIFIERS "ManuallyProvidedKeyVerificationStrategy",
    [NODE_HOST_KEY_KNOWN_HOSTS] = VERIFIERS "KnownHostsFileKeyVerificationStrategy",
    [NODE_HOST_KEY_MANUALLY_TRUSTED] = VERIFIERS "ManuallyTrustedKeyVerificationStrategy",
    [NODE_HOST_KEY_NON_VERIFYING] = VERIFIERS "NonVerifyingKeyVerificationStrategy",
    [NODE_HOST_KEY_NONE] = "",
};

const char *
node_host_key_class(enum node_host_key k)
{
    return k <= NODE_HOST_KEY_NONE ? host_key_classes[k] : "";
}

const char *
node_mode_name(enum node_mode m)
{
    return m == NODE_MODE_EXCLUSIVE ? "EXCLUSIVE" : "NORMAL";
}

const char *
node_state_name(enum node_state s)
{
    return s == NODE_ONLINE ? "online" : s == NODE_OFFLINE ? "offline" : "connecting";
}

void
node_config_release(struct node_config *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->description);
    free(c->remote_fs);
    for (size_t i = 0; i < c->n_labels; i++)
        free(c->labels[i]);
    free(c->labels);
    free(c->launcher_class);
    free(c->host);
    free(c->credentials_id);
    free(c->host_key_algorithm);
    free(c->host_key);
    *c = (struct node_config){};
}

int
node_name_check(const char *name, const char **reterr_why)
{
    const char *why = NULL;

    if (job_name_check(name, &why) < 0 || strlen(name) > BOUND_NODE_NAME_BYTES) {
        *reterr_why = "A node name is 1 to 128 bytes of UTF-8, without control characters, "
                      "not \".\" or \"..\", and without any of / \\ ? * % < > | : ; ! @ # $ & "
                      "[ ] ^ ' \".";
        return -EINVAL;
    }
    if (strpbrk(name, " \t")) {
        *reterr_why = "A node name must not contain spaces: the name is also one of the node's "
                      "labels.";
        return -EINVAL;
    }
    if (streq(name, "built-in") || streq(name, "(built-in)") || streq(name, "master") ||
        streq(name, "(master)")) {
        *reterr_why = "\"built-in\", \"(built-in)\", \"master\" and \"(master)\" name the "
                      "built-in node.";
        return -EINVAL;
    }
    return 0;
}

/* ---- reading ---- */


static bool
is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

static int
fail(char **why, const char *text)
{
    *why = strdup(text);
    return *why ? -EINVAL : -ENOMEM;
}

/* The trimmed text of element n, newly allocated; -EINVAL (with *why) for child elements or past max. */
static int
text(const xmlNode *n, size_t max, char **ret, char **why)
{
    size_t len = 0, start, end;
    char *s;

    if (*ret)
        return fail(why, rfmt("<%s> is given twice.", (const char *) n->name));
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
            len += c->content ? strlen((const char *) c->content) : 0;
        else if (c->type != XML_COMMENT_NODE && c->type != XML_PI_NODE)
            return fail(why, rfmt("<%s> must hold text only.", (const char *) n->name));
        if (len > max + 1024)
            return fail(why, rfmt("<%s> is longer than %zu bytes.", (const char *) n->name, max));
    }
    s = malloc(len + 1);
    if (!s)
        return -ENOMEM;
    len = 0;
    for (const xmlNode *c = n->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            size_t k = strlen((const char *) c->content);

            memcpy(s + len, c->content, k);
            len += k;
        }
    s[len] = '\0';
    start = strspn(s, " \t\r\n");
    end = len;
    while (end > start && strchr(" \t\r\n", s[end - 1]))
        end--;
    memmove(s, s + start, end - start);
    s[end - start] = '\0';
    if (end - start > max) {
        free(s);
        return fail(why, rfmt("<%s> is longer than %zu bytes.", (const char *) n->name, max));
    }
    *ret = s;
    return 0;
}

static int
number(const xmlNode *n, int64_t min, int64_t max, int *ret, char **why)
{
    _cleanup_free_ char *s = NULL;
    int64_t v;
    int r;

    r = text(n, 32, &s, why);
    if (r < 0)
        return r;
    if (parse_int64(s, min, max, &v) < 0)
        return fail(why, rfmt("<%s> must be a whole number from %lld to %lld, not \"%.32s\".",
                              (const char *) n->name, (long long) min, (long long) max, s));
    *ret = (int) v;
    return 0;
}

static char *
class_of(const xmlNode *n)
{
    xmlChar *cls = xmlGetProp(n, BAD_CAST "class");
    char *s = cls ? strdup((const char *) cls) : NULL;

    if (cls)
        xmlFree(cls);
    return s;
}

static int
read_host_key(const xmlNode *n, struct node_config *c, char **why)
{
    _cleanup_free_ char *cls = class_of(n);
    int r;

    c->host_key_strategy = NODE_HOST_KEY_NONE;
    for (enum node_host_key k = 0; k < NODE_HOST_KEY_NONE; k++)
        if (cls && streq(cls, host_key_classes[k]))
            c->host_key_strategy = k;
    if (c->host_key_strategy == NODE_HOST_KEY_NONE)
        return fail(why, rfmt("<sshHostKeyVerificationStrategy class=\"%.200s\"> is not one Steward "
                              "knows: it takes ManuallyProvidedKeyVerificationStrategy, "
                              "KnownHostsFileKeyVerificationStrategy, "
                              "ManuallyTrustedKeyVerificationStrategy or "
                              "NonVerifyingKeyVerificationStrategy (of %s).",
                              cls ? cls : "", VERIFIERS));
    if (c->host_key_strategy != NODE_HOST_KEY_MANUALLY_PROVIDED)
        return 0;
    /* <key><algorithm>ssh-ed25519</algorithm><key>AAAA...</key></key>, or a newer <rawKey> */
    for (const xmlNode *k = n->children; k; k = k->next) {
        if (is(k, "key")) {
            for (const xmlNode *f = k->children; f; f = f->next) {
                if (is(f, "algorithm") &&
                    (r = text(f, 64, &c->host_key_algorithm, why)) < 0)
                    return r;
                if (is(f, "key") && (r = text(f, BOUND_NODE_HOST_KEY_BYTES, &c->host_key, why)) < 0)
                    return r;
            }
        } else if (is(k, "rawKey") && !c->host_key) {
            _cleanup_free_ char *raw = NULL;
            const char *w;

            if ((r = text(k, BOUND_NODE_HOST_KEY_BYTES + 64, &raw, why)) < 0)
                return r;
            r = node_host_key_parse(raw, &c->host_key_algorithm, &c->host_key, &w);
            if (r == -EINVAL)
                return fail(why, w);
            if (r < 0)
                return r;
        }
    }
    if (!c->host_key && !c->host_key_algorithm)
        return fail(why, "ManuallyProvidedKeyVerificationStrategy needs the host's key: "
                         "<key><algorithm>ssh-ed25519</algorithm><key>AAAA...</key></key>.");
    if (!c->host_key || !c->host_key_algorithm)
        return fail(why, "The host key needs both its <algorithm> and its <key>.");
    {
        _cleanup_free_ char *line = strdup_printf("%s %s", c->host_key_algorithm, c->host_key);
        char *a = NULL, *k = NULL;
        const char *w;

        if (!line)
            return -ENOMEM;
        r = node_host_key_parse(line, &a, &k, &w);
        free(a);
        free(k);
        if (r == -EINVAL)
            return fail(why, w);
        return r;
    }
}

static bool
has_control_or_space(const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return true;
    return false;
}

static int
read_launcher(const xmlNode *n, struct node_config *c, char **why)
{
    int r;

    c->launcher_class = class_of(n);
    if (!c->launcher_class)
        return fail(why, "<launcher> needs a class attribute (hudson.plugins.sshslaves.SSHLauncher).");
    if (streq(c->launcher_class, SSH_LAUNCHER))
        c->launcher = NODE_LAUNCHER_SSH;
    else if (streq(c->launcher_class, "hudson.slaves.JNLPLauncher"))
        return c->launcher = NODE_LAUNCHER_JNLP, 0;
    else if (streq(c->launcher_class, "hudson.slaves.CommandLauncher"))
        return c->launcher = NODE_LAUNCHER_COMMAND, 0;
    else
        return c->launcher = NODE_LAUNCHER_OTHER, 0;
    for (const xmlNode *f = n->children; f; f = f->next) {
        r = 0;
        if (is(f, "host"))
            r = text(f, BOUND_NODE_FIELD_BYTES, &c->host, why);
        else if (is(f, "port"))
            r = number(f, 1, 65535, &c->port, why);
        else if (is(f, "credentialsId"))
            r = text(f, BOUND_CREDENTIAL_ID_BYTES, &c->credentials_id, why);
        else if (is(f, "sshHostKeyVerificationStrategy"))
            r = read_host_key(f, c, why);
        /* jvmOptions, javaPath, ...: Java's business; they stay in the file */
        if (r < 0)
            return r;
    }
    if (!c->host || !*c->host)
        return fail(why, "An SSH node needs a <host>.");
    if (has_control_or_space(c->host) || c->host[0] == '-')
        return fail(why, "<host> must be a host name or address, without spaces or control "
                         "characters and not starting with '-'.");
    if (c->credentials_id && *c->credentials_id) {
        const char *w;

        if (cred_check_id(c->credentials_id, &w) < 0)
            return fail(why, rfmt("<credentialsId>: %s", w));
    }
    return 0;
}

int
node_config_set_labels(struct node_config *c, const char *s, char **why)
{
    const char *p = s;

    while (*p) {
        size_t k;
        char *l, **v;

        p += strspn(p, " \t\r\n");
        k = strcspn(p, " \t\r\n");
        if (!k)
            break;
        if (c->n_labels == BOUND_NODE_LABELS)
            return fail(why, rfmt("A node carries at most %d labels.", BOUND_NODE_LABELS));
        l = strndup(p, k);
        if (!l)
            return -ENOMEM;
        if (!label_is_valid_atom(l)) {
            int r = fail(why, rfmt("\"%.200s\" is not a label: a label is 1 to %d bytes of UTF-8 "
                                   "without control characters.", l, BOUND_NODE_LABEL_BYTES));
            free(l);
            return r;
        }
        v = realloc(c->labels, (c->n_labels + 1) * sizeof(*v));
        if (!v) {
            free(l);
            return -ENOMEM;
        }
        c->labels = v;
        c->labels[c->n_labels++] = l;
        p += k;
    }
    return 0;
}

static int
read_doc(const xmlDoc *doc, struct node_config *c, char **why)
{
    const xmlNode *root = xmlDocGetRootElement(doc);
    _cleanup_free_ char *cls = NULL, *mode = NULL, *labels = NULL;
    const char *w;
    bool have_launcher = false, have_executors = false;
    int r;

    if (!root)
        return fail(why, "The XML has no root element.");
    cls = class_of(root);
    if (!(is(root, "slave") || is(root, "hudson.slaves.DumbSlave")) ||
        (cls && !streq(cls, "hudson.slaves.DumbSlave")))
        return fail(why, rfmt("A node's config.xml is a <slave> (hudson.slaves.DumbSlave), not "
                              "<%.100s%s%.100s%s>.", (const char *) root->name,
                              cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : ""));
    c->executors = 1;
    c->port = 22;
    c->host_key_strategy = NODE_HOST_KEY_NONE;
    for (const xmlNode *n = root->children; n; n = n->next) {
        r = 0;
        if (is(n, "name"))
            r = text(n, BOUND_NODE_NAME_BYTES + 64, &c->name, why);
        else if (is(n, "description"))
            r = text(n, BOUND_NODE_DESCRIPTION_BYTES, &c->description, why);
        else if (is(n, "remoteFS"))
            r = text(n, BOUND_NODE_FIELD_BYTES, &c->remote_fs, why);
        else if (is(n, "numExecutors")) {
            r = number(n, 1, BOUND_NODE_EXECUTORS, &c->executors, why);
            have_executors = true;
        } else if (is(n, "mode"))
            r = text(n, 16, &mode, why);
        else if (is(n, "label"))
            r = text(n, BOUND_NODE_LABELS * (BOUND_NODE_LABEL_BYTES + 1), &labels, why);
        else if (is(n, "launcher")) {
            if (have_launcher)
                return fail(why, "<launcher> is given twice.");
            have_launcher = true;
            r = read_launcher(n, c, why);
        }
        if (r < 0)
            return r;
    }
    if (!c->name)
        return fail(why, "A node's config.xml needs its <name>.");
    if (node_name_check(c->name, &w) < 0)
        return fail(why, w);
    if (!have_executors)
        c->executors = 1;
    if (mode && !streq(mode, "NORMAL") && !streq(mode, "EXCLUSIVE") && *mode)
        return fail(why, rfmt("<mode> is NORMAL or EXCLUSIVE, not \"%.16s\".", mode));
    c->mode = mode && streq(mode, "EXCLUSIVE") ? NODE_MODE_EXCLUSIVE : NODE_MODE_NORMAL;
    if (labels && (r = node_config_set_labels(c, labels, why)) < 0)
        return r;
    if (!have_launcher)
        return fail(why, "A node's config.xml needs a <launcher class=\"" SSH_LAUNCHER "\">.");
    if (!c->description && !(c->description = strdup("")))
        return -ENOMEM;
    if (!c->remote_fs && !(c->remote_fs = strdup("")))
        return -ENOMEM;
    if (!c->credentials_id && !(c->credentials_id = strdup("")))
        return -ENOMEM;
    if (c->launcher == NODE_LAUNCHER_SSH && c->remote_fs[0] != '/')
        return fail(why, "An SSH node needs <remoteFS>, the absolute path of its working "
                         "directory on the agent (/home/jenkins).");
    for (const unsigned char *p = (const unsigned char *) c->remote_fs; *p; p++)
        if (*p < ' ' || *p == 0x7f)
            return fail(why, "<remoteFS> must not contain control characters.");
    return 0;
}

int
nodecfg_parse(const char *xml, size_t len, struct node_config *ret, char **reterr_why)
{
    struct node_config c = {};
    xmlDoc *doc = NULL;
    int line, r;

    if (len == 0)
        return fail(reterr_why, "The node's config.xml is empty.");
    if (len > BOUND_NODE_CONFIG_BYTES)
        return fail(reterr_why, rfmt("A node's config.xml is at most %d bytes.",
                                     BOUND_NODE_CONFIG_BYTES));
    r = xmldoc_parse(xml, len, &doc, &line);
    if (r == -EBADMSG)
        r = fail(reterr_why, "A node's config.xml must not contain a DOCTYPE.");
    else if (r == -EINVAL)
        r = fail(reterr_why,
                 rfmt("The node's config.xml is not well-formed XML (line %d).", line));
    else if (r >= 0)
        r = read_doc(doc, &c, reterr_why);
    if (doc)
        xmlFreeDoc(doc);
    if (r < 0) {
        node_config_release(&c);
        return r;
    }
    *ret = c;
    return 0;
}

int
node_host_key_parse(const char *line, char **ret_algorithm, char **ret_key,
                    const char **reterr_why)
{
    static const char *const algorithms[] = {
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss",
    };
    const char *w[3] = {};
    size_t wl[3] = {}, n = 0, ai = 0;
    const char *p = line;
    bool found = false;

    *reterr_why = "A host key is \"ssh-ed25519 AAAA...\" or a line of ssh-keyscan or "
                  "known_hosts (\"host ssh-ed25519 AAAA...\").";
    if (strlen(line) > BOUND_NODE_HOST_KEY_BYTES + 1024)
        return -EINVAL;
    while (n < 3) {
        p += strspn(p, " \t\r\n");
        if (!*p)
            break;
        w[n] = p;
        wl[n] = strcspn(p, " \t\r\n");
        p += wl[n++];
    }
    for (size_t i = 0; i < n && i < 2 && !found; i++)
        for (size_t k = 0; k < ELEMENTSOF(algorithms); k++)
            if (wl[i] == strlen(algorithms[k]) && !memcmp(w[i], algorithms[k], wl[i])) {
                ai = i;
                found = true;
                break;
            }
    if (!found || ai + 1 >= n)
        return -EINVAL;
    {
        _cleanup_free_ char *b64 = strndup(w[ai + 1], wl[ai + 1]);
        char *bytes = NULL;
        size_t len = 0;
        int r;

        if (!b64)
            return -ENOMEM;
        if (wl[ai + 1] > BOUND_NODE_HOST_KEY_BYTES)
            return -EINVAL;
        r = base64_decode(b64, &bytes, &len);
        if (r == -ENOMEM)
            return r;
        /* the blob starts with the algorithm's name, length-prefixed */
        if (r < 0 || len < 4 + wl[ai] ||
            (((size_t) (unsigned char) bytes[2] << 8) | (unsigned char) bytes[3]) != wl[ai] ||
            bytes[0] || bytes[1] || memcmp(bytes + 4, w[ai], wl[ai])) {
            free(bytes);
            *reterr_why = "The host key's base64 does not decode to a key of the algorithm "
                          "named before it.";
            return -EINVAL;
        }
        free(bytes);
        *ret_algorithm = strndup(w[ai], wl[ai]);
        *ret_key = TAKE_PTR(b64);
        if (!*ret_algorithm) {
            free(*ret_key);
            return -ENOMEM;
        }
    }
    return 0;
}

char *
node_host_key_fingerprint(const char *key)
{
    char hex[SECRET_SHA256_HEX_LEN + 1], *bytes = NULL, *b64, *fp;
    unsigned char digest[32];
    size_t len = 0;

    if (!key || base64_decode(key, &bytes, &len) < 0)
        return NULL;
    secret_sha256_hex(bytes, len, hex);
    free(bytes);
    for (size_t i = 0; i < 32; i++) {
        unsigned hi = (unsigned) (hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10);
        unsigned lo = (unsigned) (hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0'
                                                        : hex[2 * i + 1] - 'a' + 10);

        digest[i] = (unsigned char) (hi << 4 | lo);
    }
    b64 = base64_encode(digest, sizeof(digest));
    if (!b64)
        return NULL;
    b64[strcspn(b64, "=")] = '\0';
    fp = strdup_printf("SHA256:%s", b64);
    free(b64);
    return fp;
}

/* ---- writing ---- */

static int
element(struct buf *out, const char *indent, const char *name, const char *value)
{
    int r = buf_printf(out, "%s<%s>", indent, name);

    if (r >= 0)
        r = html_text(out, value ? value : "");
    if (r >= 0)
        r = buf_printf(out, "</%s>\n", name);
    return r;
}

char *
nodecfg_write(const struct node_config *c)
{
    _cleanup_(buf_releasep) struct buf b = {};
    _cleanup_free_ char *labels = NULL;
    size_t len = 0;
    int r;

    buf_init(&b, BOUND_NODE_CONFIG_BYTES);
    for (size_t i = 0; i < c->n_labels; i++)
        len += strlen(c->labels[i]) + 1;
    labels = calloc(1, len + 1);
    if (!labels)
        return NULL;
    for (size_t i = 0; i < c->n_labels; i++) {
        if (i)
            strcat(labels, " ");
        strcat(labels, c->labels[i]);
    }
    r = buf_puts(&b, "<?xml version='1.1' encoding='UTF-8'?>\n<slave>\n");
    if (r >= 0)
        r = element(&b, "  ", "name", c->name);
    if (r >= 0)
        r = element(&b, "  ", "description", c->description);
    if (r >= 0)
        r = element(&b, "  ", "remoteFS", c->remote_fs);
    if (r >= 0)
        r = buf_printf(&b, "  <numExecutors>%d</numExecutors>\n  <mode>%s</mode>\n",
                       c->executors, node_mode_name(c->mode));
    if (r >= 0)
        r = buf_puts(&b, "  <retentionStrategy class=\"hudson.slaves.RetentionStrategy$Always\"/>\n");
    if (r >= 0)
        r = buf_puts(&b, "  <launcher class=\"");
    if (r >= 0)
        r = html_text(&b, c->launcher_class ? c->launcher_class : SSH_LAUNCHER);
    if (r >= 0)
        r = buf_puts(&b, "\"");
    if (r >= 0 && c->launcher == NODE_LAUNCHER_SSH) {
        r = buf_puts(&b, " plugin=\"ssh-slaves\">\n");
        if (r >= 0)
            r = element(&b, "    ", "host", c->host);
        if (r >= 0)
            r = buf_printf(&b, "    <port>%d</port>\n", c->port ? c->port : 22);
        if (r >= 0)
            r = element(&b, "    ", "credentialsId", c->credentials_id);
        if (r >= 0 && c->host_key_strategy != NODE_HOST_KEY_NONE) {
            r = buf_printf(&b, "    <sshHostKeyVerificationStrategy class=\"%s\"",
                           host_key_classes[c->host_key_strategy]);
            if (r >= 0 && c->host_key_strategy == NODE_HOST_KEY_MANUALLY_PROVIDED) {
                r = buf_puts(&b, ">\n      <key>\n");
                if (r >= 0)
                    r = element(&b, "        ", "algorithm", c->host_key_algorithm);
                if (r >= 0)
                    r = element(&b, "        ", "key", c->host_key);
                if (r >= 0)
                    r = buf_puts(&b, "      </key>\n    </sshHostKeyVerificationStrategy>\n");
            } else if (r >= 0)
                r = buf_puts(&b, "/>\n");
        }
        if (r >= 0)
            r = buf_puts(&b, "    <launchTimeoutSeconds>60</launchTimeoutSeconds>\n"
                             "    <maxNumRetries>10</maxNumRetries>\n"
                             "    <retryWaitTime>15</retryWaitTime>\n"
                             "    <tcpNoDelay>true</tcpNoDelay>\n"
                             "  </launcher>\n");
    } else if (r >= 0)
        r = buf_puts(&b, "/>\n");
    if (r >= 0)
        r = element(&b, "  ", "label", labels);
    if (r >= 0)
        r = buf_puts(&b, "  <nodeProperties/>\n</slave>\n");
    if (r < 0)
        return NULL;
    return buf_detach(&b);
}
