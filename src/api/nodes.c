/* SPDX-License-Identifier: MIT */
/*
 * The node URLs that change something, and config.xml. The dispatcher
 * has checked the permission of each route before a handler runs; the
 * one exception is toggleOffline, whose permission depends on the node's
 * state (Agent/Disconnect to take it offline, Agent/Connect to bring it
 * back), as in Jenkins' Computer.doToggleOffline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/nodes.h"
#include "core/nodes.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/macro.h"
#include "util/strutil.h"

#define SEG(i) req_seg(req, (i))

/* The node's URL below the request's root, with `suffix`; lent (rfmt), "" on ENOMEM. */
static const char *
node_url(const struct app *app, struct req *req, const char *name, const char *suffix)
{
    _cleanup_free_ char *root = app_root_url(app, req);
    struct buf b = BUF_INIT(16384);
    const char *s = "";

    if (root && buf_printf(&b, "%scomputer/", root) >= 0 && url_encode(&b, name) >= 0 &&
        buf_printf(&b, "/%s", suffix) >= 0)
        s = rfmt("%s", buf_str(&b));
    buf_release(&b);
    return s;
}

static void
refuse_node(const struct app *app, struct req *req, struct resp *resp, int r, const char *name,
            const char *why)
{
    if (r == -EEXIST)
        refuse(app, req, resp,
               &(struct refusal){ .status = 400, .error = "Node exists",
                                  .presented = rfmt("A node already exists with the name '%s'.",
                                                    name),
                                  .fix = "Choose another name, or POST to /computer/NAME/config.xml "
                                         "to change it." });
    else if (r == -EINVAL || r == -E2BIG)
        refuse(app, req, resp,
               &(struct refusal){ .status = 400, .error = "Invalid node",
                                  .presented = why ? why : "The node's configuration is not valid.",
                                  .fix = "Nothing was changed. See docs/NODES.md for the "
                                         "config.xml Steward takes." });
    else if (r == -ENOENT)
        refuse(app, req, resp,
               &(struct refusal){ .status = 404, .error = "Not found",
                                  .presented = rfmt("Node '%s' does not exist.", name) });
    else if (r == -ENOSPC && !why)
        refuse(app, req, resp,
               &(struct refusal){ .status = 400, .error = "Too many nodes",
                                  .presented = rfmt("Steward keeps at most %d nodes.", BOUND_NODES),
                                  .fix = "Remove a node first." });
    else
        refuse(app, req, resp,
               &(struct refusal){ .status = 500, .error = "Could not store the node",
                                  .presented = rfmt("Writing node '%s' failed: %s.", name,
                                                    strerror(-r)),
                                  .fix = "The server's log may say more." });
}

/* 400 for the built-in node, which has no config.xml and cannot be removed. */
static bool
builtin(const struct app *app, struct req *req, struct resp *resp, const char *name)
{
    if (!api_is_builtin_node(name))
        return false;
    refuse(app, req, resp,
           &(struct refusal){ .status = 400, .error = "The built-in node",
                              .presented = "The built-in node is configured by `steward serve` "
                                           "options (--executors), not over HTTP." });
    return true;
}

static bool
too_large(const struct app *app, struct req *req, struct resp *resp)
{
    if (req->body_problem != BODY_TOO_LARGE)
        return false;
    refuse(app, req, resp, &(struct refusal){ .status = 413, .error = "Request body too large",
                                              .presented = rfmt("The limit is %d bytes.",
                                                                BOUND_BODY_BYTES) });
    return true;
}

/* A JSON field as text: a string, a number, or null/absent (""). -EINVAL for anything else. */
static int
json_field(json_t *o, const char *key, size_t max, char **ret, const char **why)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))
        *ret = strdup("");
    else if (json_is_string(v))
        *ret = strdup(json_string_value(v));
    else if (json_is_integer(v))
        *ret = strdup_printf("%lld", (long long) json_integer_value(v));
    else {
        *why = rfmt("\"%s\" must be text.", key);
        return -EINVAL;
    }
    if (!*ret)
        return -ENOMEM;
    if (strlen(*ret) > max) {
        *why = rfmt("\"%s\" is longer than %zu bytes.", key, max);
        return -EINVAL;
    }
    return 0;
}

/*
 * The node python-jenkins' create_node() and Jenkins' "New node" form
 * describe in the field json: nodeDescription, numExecutors, remoteFS,
 * labelString, mode, launcher {"stapler-class", host, port, credentialsId,
 * sshHostKeyVerificationStrategy {"stapler-class", key}}. Into *c; *why
 * lent (rfmt) or *msg newly allocated.
 */
static int
config_from_form(const char *name, const char *text, struct node_config *c, const char **why,
                 char **msg)
{
    _cleanup_(json_decrefp) json_t *root = NULL;
    _cleanup_free_ char *executors = NULL, *mode = NULL, *labels = NULL, *port = NULL;
    json_t *l, *hk;
    json_error_t err;
    int64_t v;
    int r;

    root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(root)) {
        *why = rfmt("The field json is not a JSON object: %s (line %d).", err.text, err.line);
        return -EINVAL;
    }
    if (!(c->name = strdup(name)))
        return -ENOMEM;
    if ((r = json_field(root, "nodeDescription", BOUND_NODE_DESCRIPTION_BYTES, &c->description, why)) < 0 ||
        (r = json_field(root, "remoteFS", BOUND_NODE_FIELD_BYTES, &c->remote_fs, why)) < 0 ||
        (r = json_field(root, "numExecutors", 32, &executors, why)) < 0 ||
        (r = json_field(root, "mode", 32, &mode, why)) < 0 ||
        (r = json_field(root, "labelString", BOUND_NODE_LABELS * (BOUND_NODE_LABEL_BYTES + 1), &labels, why)) < 0)
        return r;
    if (!*executors)
        c->executors = 1;
    else if (parse_int64(executors, 1, BOUND_NODE_EXECUTORS, &v) < 0) {
        *why = rfmt("numExecutors must be a whole number from 1 to %d, not \"%.32s\".",
                    BOUND_NODE_EXECUTORS, executors);
        return -EINVAL;
    } else
        c->executors = (int) v;
    if (*mode && !streq(mode, "NORMAL") && !streq(mode, "EXCLUSIVE")) {
        *why = rfmt("mode is NORMAL or EXCLUSIVE, not \"%.32s\".", mode);
        return -EINVAL;
    }
    c->mode = streq(mode, "EXCLUSIVE") ? NODE_MODE_EXCLUSIVE : NODE_MODE_NORMAL;
    if ((r = node_config_set_labels(c, labels, msg)) < 0)
        return r;
    l = json_object_get(root, "launcher");
    if (!json_is_object(l) || (r = json_field(l, "stapler-class", 256, &c->launcher_class, why)) < 0 ||
        !*c->launcher_class) {
        *why = "The field json needs \"launcher\": {\"stapler-class\": "
               "\"hudson.plugins.sshslaves.SSHLauncher\", \"host\": ..., \"credentialsId\": ...}.";
        return -EINVAL;
    }
    if (!streq(c->launcher_class, "hudson.plugins.sshslaves.SSHLauncher")) {
        c->launcher = NODE_LAUNCHER_OTHER;
        return 0;
    }
    c->launcher = NODE_LAUNCHER_SSH;
    if ((r = json_field(l, "host", BOUND_NODE_FIELD_BYTES, &c->host, why)) < 0 ||
        (r = json_field(l, "port", 16, &port, why)) < 0 ||
        (r = json_field(l, "credentialsId", BOUND_CREDENTIAL_ID_BYTES, &c->credentials_id, why)) < 0)
        return r;
    if (!*port)
        c->port = 22;
    else if (parse_int64(port, 1, 65535, &v) < 0) {
        *why = rfmt("port must be a number from 1 to 65535, not \"%.16s\".", port);
        return -EINVAL;
    } else
        c->port = (int) v;
    c->host_key_strategy = NODE_HOST_KEY_NONE;
    hk = json_object_get(l, "sshHostKeyVerificationStrategy");
    if (json_is_object(hk)) {
        _cleanup_free_ char *cls = NULL, *key = NULL;
        bool found = false;

        if ((r = json_field(hk, "stapler-class", 256, &cls, why)) < 0)
            return r;
        if (!*cls) {
            free(cls);
            if ((r = json_field(hk, "$class", 256, &cls, why)) < 0)
                return r;
        }
        for (enum node_host_key k = 0; k < NODE_HOST_KEY_NONE; k++)
            if (streq(cls, node_host_key_class(k)) ||
                (!strchr(cls, '.') && *cls && strstr(node_host_key_class(k), cls) &&
                 streq(strrchr(node_host_key_class(k), '.') + 1, cls))) {
                c->host_key_strategy = k;
                found = true;
            }
        if (!found) {
            *why = rfmt("sshHostKeyVerificationStrategy \"%.200s\" is not one Steward knows.", cls);
            return -EINVAL;
        }
        if (c->host_key_strategy == NODE_HOST_KEY_MANUALLY_PROVIDED) {
            if ((r = json_field(hk, "key", BOUND_NODE_HOST_KEY_BYTES + 1024, &key, why)) < 0)
                return r;
            r = node_host_key_parse(key, &c->host_key_algorithm, &c->host_key, why);
            if (r < 0)
                return r;
        }
    } else if (json_is_string(hk)) {
        /* a bare key, as some scripts send it */
        c->host_key_strategy = NODE_HOST_KEY_MANUALLY_PROVIDED;
        r = node_host_key_parse(json_string_value(hk), &c->host_key_algorithm, &c->host_key, why);
        if (r < 0)
            return r;
    }
    return 0;
}

static void
create_node(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    _cleanup_(node_config_release) struct node_config c = {};
    _cleanup_free_ char *xml = NULL, *msg = NULL;
    const char *name = req_param(req, "name"), *type = req_param(req, "type");
    const char *json = req_param(req, "json"), *why = NULL;
    int r;

    (void) unused;
    if (too_large(app, req, resp))
        return;
    if (!name || !*name) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "No node name",
                                                  .presented = "The form has no field name.",
                                                  .fix = "Send name=NODE, type=hudson.slaves.DumbSlave$DescriptorImpl and json={...}, as python-jenkins' create_node() does." });
        return;
    }
    if (type && !streq(type, "hudson.slaves.DumbSlave$DescriptorImpl") &&
        !streq(type, "hudson.slaves.DumbSlave")) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Unsupported node type",
                                                  .presented = rfmt("Steward makes permanent agents (hudson.slaves.DumbSlave$DescriptorImpl), not %.200s.", type) });
        return;
    }
    if (!json) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "No node in the request",
                                                  .presented = "The form has no field json.",
                                                  .fix = "Send json={\"numExecutors\": ..., \"remoteFS\": ..., \"launcher\": {...}}, as python-jenkins' create_node() does." });
        return;
    }
    r = node_name_check(name, &why);
    if (r >= 0)
        r = config_from_form(name, json, &c, &why, &msg);
    if (r >= 0 && !(xml = nodecfg_write(&c)))
        r = -ENOMEM;
    if (r >= 0)
        r = nodes_create(app->nodes, xml, strlen(xml), NULL, &msg);
    if (r < 0) {
        refuse_node(app, req, resp, r, name, msg ? msg : why);
        return;
    }
    app_audit(req, "node-create", NULL, "node '%s' (%s:%d)", name, c.host ? c.host : "-", c.port);
    api_redirect(resp, 302, node_url(app, req, name, ""));
}

static void
node_root(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    api_redirect(resp, 302, node_url(app, req, SEG(1), "api/json"));
}

static void
computer_root(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    _cleanup_free_ char *root = app_root_url(app, req);

    (void) unused;
    if (!root) {
        api_send_text(resp, 500, "Out of memory.\n");
        return;
    }
    api_redirect(resp, 302, rfmt("%scomputer/api/json", root));
}

static void
config_get(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    _cleanup_free_ char *xml = NULL;
    size_t len = 0;
    int r;

    (void) unused;
    if (builtin(app, req, resp, SEG(1)))
        return;
    r = nodes_get_config(app->nodes, SEG(1), &xml, &len);
    if (r < 0) {
        refuse_node(app, req, resp, r, SEG(1), NULL);
        return;
    }
    resp_set(resp, 200, "application/xml", xml, len);
}

static void
config_post(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    _cleanup_free_ char *msg = NULL;
    int r;

    (void) unused;
    if (too_large(app, req, resp) || builtin(app, req, resp, SEG(1)))
        return;
    r = nodes_update(app->nodes, SEG(1), req->body.ptr ? req->body.ptr : "", req->body.len, &msg);
    if (r < 0) {
        refuse_node(app, req, resp, r, SEG(1), msg);
        return;
    }
    app_audit(req, "node-configure", NULL, "node '%s' config.xml", SEG(1));
    api_send_text(resp, 200, "");
}

static void
delete_node(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    _cleanup_free_ char *root = NULL;
    int r;

    (void) unused;
    if (builtin(app, req, resp, SEG(1)))
        return;
    r = nodes_delete(app->nodes, SEG(1));
    if (r < 0) {
        refuse_node(app, req, resp, r, SEG(1), NULL);
        return;
    }
    app_audit(req, "node-delete", NULL, "node '%s'", SEG(1));
    root = app_root_url(app, req);
    api_redirect(resp, 302, rfmt("%scomputer/", root ? root : "/"));
}

static void
toggle_offline(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    _cleanup_(node_freep) struct node *n = NULL;
    const char *msg = req_param(req, "offlineMessage");
    enum perm need;
    int r;

    (void) unused;
    if (builtin(app, req, resp, SEG(1)))
        return;
    r = nodes_get(app->nodes, SEG(1), &n);
    if (r < 0) {
        refuse_node(app, req, resp, r, SEG(1), NULL);
        return;
    }
    need = n->temporarily_offline ? PERM_COMPUTER_CONNECT : PERM_COMPUTER_DISCONNECT;
    if (!app_may(req, need, NULL)) {
        refuse_permission(app, req, resp, need, NULL);
        return;
    }
    if (msg && strlen(msg) > BOUND_NODE_OFFLINE_BYTES) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Offline message too long",
                                                  .presented = rfmt("The offline message is at most %d bytes.", BOUND_NODE_OFFLINE_BYTES) });
        return;
    }
    r = nodes_set_offline(app->nodes, SEG(1), !n->temporarily_offline, msg);
    if (r < 0) {
        refuse_node(app, req, resp, r, SEG(1), NULL);
        return;
    }
    if (n->temporarily_offline)
        app_audit(req, "node-online", NULL, "node '%s'", SEG(1));
    else
        app_audit(req, "node-offline", NULL, "node '%s'%s%s", SEG(1), msg && *msg ? ": " : "",
                  msg ? msg : "");
    api_redirect(resp, 302, node_url(app, req, SEG(1), ""));
}

#define GET ROUTE_GET
#define POST ROUTE_POST
#define ANY ROUTE_ANY
#define FORM ROUTE_FORM
#define NEEDS ROUTE_NEEDS

static const struct route routes[] = {
    { "computer/doCreateItem", POST | FORM, NEEDS(COMPUTER_CREATE), create_node },
    { "computer/createItem", POST | FORM, NEEDS(COMPUTER_CREATE), create_node },
    { "computer/*/config.xml", GET, NEEDS(COMPUTER_EXTENDED_READ), config_get },
    { "computer/*/config.xml", POST | FORM, NEEDS(COMPUTER_CONFIGURE), config_post },
    { "computer/*/doDelete", POST, NEEDS(COMPUTER_DELETE), delete_node },
    /* Agent/Disconnect or Agent/Connect, by the node's state: toggle_offline() checks which */
    { "computer/*/toggleOffline", POST, NEEDS(READ), toggle_offline },
    { "computer", ANY, NEEDS(READ), computer_root },
    { "computer/*", ANY, NEEDS(READ), node_root },
};

const struct route_table node_routes = { routes, ELEMENTSOF(routes) };
