/* SPDX-License-Identifier: MIT */
/*
 * The Nodes pages: /manage/nodes lists the agents with their state and
 * executors and has the form that adds one (Agent/Create); /computer/NAME/
 * shows one node, with the buttons that take it offline or bring it back
 * (the API's toggleOffline) and delete it (the API's doDelete).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/nodes.h"
#include "util/bounds.h"
#include "util/strutil.h"
#include "web/page.h"

#define SELF "manage/nodes"

static const struct web_message messages[] = {
    { "added", "The node was added. It shows \"not connected yet\" until Steward has reached it." },
};

/* The state in words: "online", "taken offline: why", "offline: why". */
static void
state(struct buf *b, const struct node *n)
{
    if (n->temporarily_offline) {
        html_raw(b, "<span class=\"st st-aborted\"><span class=\"sym\" aria-hidden=\"true\">"
                    "&#9632;</span>Taken offline</span>");
        if (n->offline_message && *n->offline_message) {
            html_raw(b, " ");
            html_text(b, n->offline_message);
        }
        return;
    }
    if (n->state == NODE_ONLINE) {
        html_raw(b, "<span class=\"st st-ok\"><span class=\"sym\" aria-hidden=\"true\">"
                    "&#10003;</span>Online</span>");
        return;
    }
    html_raw(b, n->state == NODE_CONNECTING
                    ? "<span class=\"st st-queued\"><span class=\"sym\" aria-hidden=\"true\">"
                      "&#8230;</span>Connecting</span> "
                    : "<span class=\"st st-fail\"><span class=\"sym\" aria-hidden=\"true\">"
                      "&#10007;</span>Offline</span> ");
    html_text(b, n->offline_reason);
}

static void
node_href(struct buf *b, const struct web *w, const char *name, const char *suffix)
{
    html_attr(b, w->base);
    html_raw(b, "computer/");
    html_url_arg(b, name);
    html_raw(b, "/");
    html_attr(b, suffix);
}

static void
labels(struct buf *b, const struct node *n)
{
    for (size_t i = 1; i < n->n_labels; i++) {
        if (i > 1)
            html_raw(b, " ");
        html_raw(b, "<code>");
        html_text(b, n->labels[i]);
        html_raw(b, "</code>");
    }
}

static void
add_form(struct buf *b, struct web *w)
{
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-add\"><h2 id=\"h-add\">Add a node"
                "</h2>");
    web_form_open(b, w, false, SELF "/add", "add", NULL);
    html_raw(b, "<label for=\"n-name\">Name</label><input type=\"text\" id=\"n-name\" "
                "name=\"name\" required autocomplete=\"off\" autocapitalize=\"none\" "
                "spellcheck=\"false\"");
    buf_printf(b, " maxlength=\"%d\"", BOUND_NODE_NAME_BYTES);
    html_raw(b, "><label for=\"n-desc\">Description</label><input type=\"text\" id=\"n-desc\" "
                "name=\"description\"");
    buf_printf(b, " maxlength=\"%d\"", BOUND_NODE_DESCRIPTION_BYTES);
    html_raw(b, "><label for=\"n-host\">Host</label><input type=\"text\" id=\"n-host\" "
                "name=\"host\" required autocomplete=\"off\" spellcheck=\"false\">"
                "<label for=\"n-port\">Port</label><input type=\"number\" id=\"n-port\" "
                "name=\"port\" value=\"22\" min=\"1\" max=\"65535\">"
                "<label for=\"n-cred\">Credentials</label><input type=\"text\" id=\"n-cred\" "
                "name=\"credentials\" required autocomplete=\"off\" spellcheck=\"false\">"
                "<p class=\"hint\">The id of an SSH key credential (see <a href=\"");
    html_attr(b, w->base);
    html_raw(b, "manage/credentials\">Credentials</a>); its username is the user Steward logs "
                "in as.</p><label for=\"n-fs\">Remote root directory</label><input type=\"text\" "
                "id=\"n-fs\" name=\"remote_fs\" required placeholder=\"/home/build\" "
                "spellcheck=\"false\"><label for=\"n-exec\">Executors</label><input "
                "type=\"number\" id=\"n-exec\" name=\"executors\" value=\"1\" min=\"1\"");
    buf_printf(b, " max=\"%d\"", BOUND_NODE_EXECUTORS);
    html_raw(b, "><label for=\"n-labels\">Labels</label><input type=\"text\" id=\"n-labels\" "
                "name=\"labels\" spellcheck=\"false\"><p class=\"hint\">Separated by spaces. "
                "The node's name is one of its labels too.</p><label><input type=\"checkbox\" "
                "name=\"exclusive\" value=\"on\"> Only build jobs with label expressions "
                "matching this node</label><label for=\"n-key\">Host key</label><input "
                "type=\"text\" id=\"n-key\" name=\"host_key\" spellcheck=\"false\" "
                "placeholder=\"ssh-ed25519 AAAA...\"><p class=\"hint\">A line of "
                "<code>ssh-keyscan</code> or <code>known_hosts</code>, or the key alone. Left "
                "empty, the host must be in Steward's <code>known_hosts</code>.</p><p "
                "class=\"actions\"><button class=\"btn primary\" type=\"submit\">Add node"
                "</button></p></form></section>");
}

static void
list_page(struct web *w, const char *error_lent, int status)
{
    _cleanup_free_ char *error = error_lent ? strdup(error_lent) : NULL;
    struct buf *b = web_begin(w, "Nodes", "nodes");
    struct node *v = NULL;
    size_t n = 0;

    html_raw(b, "<h1>Nodes</h1>");
    web_notices(b, w, messages, ELEMENTSOF(messages), error);
    html_raw(b, "<div class=\"grid\"><section class=\"card\" aria-labelledby=\"h-list\"><h2 "
                "id=\"h-list\">Agents</h2>");
    if (nodes_list(w->app->nodes, &v, &n) < 0)
        web_notices(b, NULL, NULL, 0, "The nodes could not be read.");
    html_raw(b, "<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">Name</th><th "
                "scope=\"col\">State</th><th scope=\"col\">Executors</th><th scope=\"col\" "
                "class=\"opt\">Host</th><th scope=\"col\">Labels</th></tr></thead><tbody>");
    buf_printf(b, "<tr><td class=\"nowrap\">Built-In Node</td><td><span class=\"st st-ok\">"
                  "<span class=\"sym\" aria-hidden=\"true\">&#10003;</span>Online</span></td>"
                  "<td>%d</td><td class=\"opt\">-</td><td><code>built-in</code></td></tr>",
               w->app->executors);
    for (size_t i = 0; i < n; i++) {
        html_raw(b, "<tr><td class=\"nowrap\"><a href=\"");
        node_href(b, w, v[i].cfg.name, "");
        html_raw(b, "\">");
        html_text(b, v[i].cfg.name);
        html_raw(b, "</a></td><td>");
        state(b, &v[i]);
        buf_printf(b, "</td><td>%d of %d busy</td><td class=\"opt\">", v[i].busy_executors,
                   v[i].cfg.executors);
        if (v[i].cfg.host) {
            html_text(b, v[i].cfg.host);
            buf_printf(b, ":%d", v[i].cfg.port);
        }
        html_raw(b, "</td><td>");
        labels(b, &v[i]);
        html_raw(b, "</td></tr>");
    }
    nodes_array_free(v, n);
    html_raw(b, "</tbody></table></div><p class=\"hint\">The same nodes answer python-jenkins "
                "and <code>computer/api/json</code>; <code>steward node add</code> adds one "
                "offline.</p></section>");
    if (web_may(w, PERM_COMPUTER_CREATE, NULL))
        add_form(b, w);
    html_raw(b, "</div>");
    web_end(w, status);
}

void
web_nodes_page(struct web *w)
{
    list_page(w, NULL, 200);
}

/* Form field `name` copied, or "" when absent. */
static char *
field(struct web *w, const char *name)
{
    const char *v = req_param(w->req, name);

    return strdup(v ? v : "");
}

void
web_nodes_add(struct web *w)
{
    _cleanup_(node_config_release) struct node_config c = {};
    _cleanup_free_ char *xml = NULL, *why = NULL;
    const char *executors = req_param(w->req, "executors"), *port = req_param(w->req, "port");
    const char *key = req_param(w->req, "host_key"), *labels_s = req_param(w->req, "labels");
    const char *exclusive = req_param(w->req, "exclusive"), *w_ = NULL;
    int64_t v;
    int r;

    if (!web_check_post(w))
        return;
    c.name = field(w, "name");
    c.description = field(w, "description");
    c.host = field(w, "host");
    c.credentials_id = field(w, "credentials");
    c.remote_fs = field(w, "remote_fs");
    c.launcher_class = strdup("hudson.plugins.sshslaves.SSHLauncher");
    if (!c.name || !c.description || !c.host || !c.credentials_id || !c.remote_fs ||
        !c.launcher_class) {
        list_page(w, "Out of memory.", 500);
        return;
    }
    c.launcher = NODE_LAUNCHER_SSH;
    c.mode = exclusive && *exclusive ? NODE_MODE_EXCLUSIVE : NODE_MODE_NORMAL;
    c.executors = 1;
    c.port = 22;
    if (executors && *executors) {
        if (parse_int64(executors, 1, BOUND_NODE_EXECUTORS, &v) < 0) {
            list_page(w, rfmt("Executors is a number from 1 to %d.", BOUND_NODE_EXECUTORS), 400);
            return;
        }
        c.executors = (int) v;
    }
    if (port && *port) {
        if (parse_int64(port, 1, 65535, &v) < 0) {
            list_page(w, "The port is a number from 1 to 65535.", 400);
            return;
        }
        c.port = (int) v;
    }
    c.host_key_strategy = NODE_HOST_KEY_KNOWN_HOSTS;
    if (key && *key) {
        c.host_key_strategy = NODE_HOST_KEY_MANUALLY_PROVIDED;
        if (node_host_key_parse(key, &c.host_key_algorithm, &c.host_key, &w_) < 0) {
            list_page(w, w_, 400);
            return;
        }
    }
    if (node_name_check(c.name, &w_) < 0) {
        list_page(w, w_, 400);
        return;
    }
    r = node_config_set_labels(&c, labels_s ? labels_s : "", &why);
    if (r >= 0 && !(xml = nodecfg_write(&c)))
        r = -ENOMEM;
    if (r >= 0)
        r = nodes_create(w->app->nodes, xml, strlen(xml), NULL, &why);
    if (r < 0) {
        list_page(w, r == -EEXIST ? rfmt("A node named '%s' exists already.", c.name)
                     : why ? why : r == -ENOSPC ? "There are as many nodes as Steward keeps."
                     : strerror(-r),
                  r == -EEXIST ? 409 : r == -EINVAL || r == -ENOSPC ? 400 : 500);
        return;
    }
    app_audit(w->req, "node-create", NULL, "node '%s' (%s:%d)", c.name, c.host, c.port);
    web_redirect(w, SELF "?msg=added");
}

static void
fact(struct buf *b, const char *term, const char *value)
{
    html_raw(b, "<dt>");
    html_text(b, term);
    html_raw(b, "</dt><dd>");
    html_text(b, value && *value ? value : "-");
    html_raw(b, "</dd>");
}

void
web_node_page(struct web *w, const char *name)
{
    _cleanup_(node_freep) struct node *n = NULL;
    struct buf *b;

    if (nodes_get(w->app->nodes, name, &n) < 0) {
        /* the built-in node, and any other name, lead to the list */
        web_redirect(w, SELF);
        return;
    }
    b = web_begin(w, n->cfg.name, "nodes");
    html_raw(b, "<h1>Node ");
    html_text(b, n->cfg.name);
    html_raw(b, "</h1><div class=\"grid\"><section class=\"card\" aria-labelledby=\"h-state\">"
                "<h2 id=\"h-state\">State</h2><p>");
    state(b, n);
    buf_printf(b, "</p><p>%d of %d executors busy.</p>", n->busy_executors, n->cfg.executors);
    if (n->os_line && *n->os_line) {
        html_raw(b, "<p class=\"mono\">");
        html_text(b, n->os_line);
        html_raw(b, "</p>");
    }
    if (n->state == NODE_ONLINE)
        html_raw(b, n->sandboxed
                        ? "<p id=\"node-sandbox\">Builds run in a bubblewrap sandbox there.</p>"
                        : "<p id=\"node-sandbox\" class=\"notice warn\">No sandbox: bubblewrap does "
                          "not work there, so builds run as the SSH user with all its rights. "
                          "Install bubblewrap on the node (and allow user namespaces), or give "
                          "the node to builds alone.</p>");
    if (web_may(w, n->temporarily_offline ? PERM_COMPUTER_CONNECT : PERM_COMPUTER_DISCONNECT,
                NULL)) {
        web_form_open(b, w, false, rfmt("computer/%s/toggleOffline", n->cfg.name), "toggle",
                      NULL);
        if (!n->temporarily_offline)
            html_raw(b, "<label for=\"n-msg\">Why</label><input type=\"text\" id=\"n-msg\" "
                        "name=\"offlineMessage\" maxlength=\"1024\">");
        html_raw(b, "<p class=\"actions\"><button class=\"btn\" type=\"submit\">");
        html_raw(b, n->temporarily_offline ? "Bring this node back online"
                                           : "Take this node offline");
        html_raw(b, "</button></p></form>");
    }
    html_raw(b, "</section><section class=\"card\" aria-labelledby=\"h-cfg\"><h2 "
                "id=\"h-cfg\">Configuration</h2><dl class=\"facts\">");
    fact(b, "Description", n->cfg.description);
    fact(b, "Launcher", n->cfg.launcher_class);
    if (n->cfg.launcher == NODE_LAUNCHER_SSH) {
        fact(b, "Host", rfmt("%s:%d", n->cfg.host, n->cfg.port));
        fact(b, "Credentials", n->cfg.credentials_id);
        if (n->cfg.host_key_strategy == NODE_HOST_KEY_MANUALLY_PROVIDED) {
            _cleanup_free_ char *fp = node_host_key_fingerprint(n->cfg.host_key);

            fact(b, "Host key", rfmt("%s %s", n->cfg.host_key_algorithm, fp ? fp : "?"));
        } else
            fact(b, "Host key", strrchr(node_host_key_class(n->cfg.host_key_strategy), '.')
                                    ? strrchr(node_host_key_class(n->cfg.host_key_strategy), '.') + 1
                                    : "none");
    }
    fact(b, "Remote root directory", n->cfg.remote_fs);
    fact(b, "Usage", n->cfg.mode == NODE_MODE_EXCLUSIVE
                         ? "Only build jobs with label expressions matching this node"
                         : "Use this node as much as possible");
    html_raw(b, "<dt>Labels</dt><dd>");
    labels(b, n);
    html_raw(b, "</dd></dl><p class=\"actions\"><a class=\"btn\" href=\"");
    node_href(b, w, n->cfg.name, "config.xml");
    html_raw(b, "\">config.xml</a></p>");
    if (web_may(w, PERM_COMPUTER_DELETE, NULL)) {
        web_form_open(b, w, false, rfmt("computer/%s/doDelete", n->cfg.name), "delete",
                      rfmt("Delete node %s?", n->cfg.name));
        html_raw(b, "<p class=\"actions\"><button class=\"btn danger\" type=\"submit\">Delete "
                    "this node</button></p></form>");
    }
    html_raw(b, "</section></div>");
    web_end(w, 200);
}
