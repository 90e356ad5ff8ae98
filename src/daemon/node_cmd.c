/* SPDX-License-Identifier: MIT */
/*
 * steward node add|list|remove: the nodes of a home directory, offline.
 * A running server notices the change at its next look at HOME/nodes
 * (core/nodes.h), so these are safe while it runs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/table.h"
#include "core/credentials.h"
#include "core/nodes.h"
#include "daemon/offline.h"
#include "util/bounds.h"
#include "util/strutil.h"

static int
node_add(const char *home_dir, int argc, char **argv)
{
    static const struct option opts[] = {
        { "host", required_argument, NULL, 'h' },
        { "port", required_argument, NULL, 'p' },
        { "credentials", required_argument, NULL, 'c' },
        { "remote-fs", required_argument, NULL, 'r' },
        { "executors", required_argument, NULL, 'e' },
        { "labels", required_argument, NULL, 'l' },
        { "exclusive", no_argument, NULL, 'x' },
        { "host-key", required_argument, NULL, 'k' },
        { "description", required_argument, NULL, 'd' },
        {},
    };
    _cleanup_(store_closep) struct store *db = NULL;
    _cleanup_(node_config_release) struct node_config c = {};
    _cleanup_(nodes_freep) struct nodes *nodes = NULL;
    _cleanup_free_ char *xml = NULL, *why = NULL;
    const char *labels = "", *host_key = NULL, *w = NULL;
    struct cred_info ci = {};
    struct home *h = NULL;
    int64_t v;
    int c_, r;

    c.executors = 1;
    c.port = 22;
    c.launcher = NODE_LAUNCHER_SSH;
    c.host_key_strategy = NODE_HOST_KEY_KNOWN_HOSTS;
    optind = 3;
    while ((c_ = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
        char **field = NULL;

        switch (c_) {
        case 'h':
            field = &c.host;
            break;
        case 'p':
            if (parse_int64(optarg, 1, 65535, &v) < 0)
                return usage_error("--port takes a number from 1 to 65535");
            c.port = (int) v;
            break;
        case 'c':
            field = &c.credentials_id;
            break;
        case 'r':
            field = &c.remote_fs;
            break;
        case 'e':
            if (parse_int64(optarg, 1, BOUND_NODE_EXECUTORS, &v) < 0)
                return usage_error(rfmt("--executors takes a number from 1 to %d",
                                        BOUND_NODE_EXECUTORS));
            c.executors = (int) v;
            break;
        case 'l':
            labels = optarg;
            break;
        case 'x':
            c.mode = NODE_MODE_EXCLUSIVE;
            break;
        case 'k':
            host_key = optarg;
            break;
        case 'd':
            field = &c.description;
            break;
        default:
            return usage_error("unknown option for node add");
        }
        if (field) {
            free(*field);
            if (!(*field = strdup(optarg)))
                return 1;
        }
    }
    if (argc < 3 || argv[2][0] == '-')
        return usage_error("node add takes the node's name first: node add NAME --host H ...");
    if (optind < argc)
        return usage_error(rfmt("node add takes one name, and options; not %s", argv[optind]));
    if (node_name_check(argv[2], &w) < 0)
        return usage_error(w);
    if (!c.host)
        return usage_error("node add needs --host, the agent's host name or address");
    if (!c.credentials_id)
        return usage_error("node add needs --credentials, the id of an SSH key credential "
                           "(steward credentials add --kind ssh-key)");
    if (!c.remote_fs)
        return usage_error("node add needs --remote-fs, the absolute path of the agent's "
                           "working directory");
    if (host_key) {
        c.host_key_strategy = NODE_HOST_KEY_MANUALLY_PROVIDED;
        if (node_host_key_parse(host_key, &c.host_key_algorithm, &c.host_key, &w) < 0)
            return usage_error(rfmt("--host-key: %s", w));
    }
    if (!(c.name = strdup(argv[2])) || (!c.description && !(c.description = strdup(""))) ||
        !(c.launcher_class = strdup("hudson.plugins.sshslaves.SSHLauncher")))
        return 1;
    r = node_config_set_labels(&c, labels, &why);
    if (r < 0) {
        fprintf(stderr, "steward: --labels: %s\n", why ? why : strerror(-r));
        return 1;
    }
    xml = nodecfg_write(&c);
    if (!xml)
        return 1;
    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    if (cred_get_info(db, c.credentials_id, &ci) < 0)
        fprintf(stderr, "steward: warning: there is no credential %s yet; the node cannot "
                        "connect until there is (steward credentials add --id %s --kind ssh-key)\n",
                c.credentials_id, c.credentials_id);
    else {
        if (ci.kind != CRED_SSH_KEY)
            fprintf(stderr, "steward: warning: credential %s is a %s, not an SSH key\n",
                    c.credentials_id, cred_kind_name(ci.kind));
        cred_info_release(&ci);
    }
    r = nodes_open(h->root, &nodes);
    if (r >= 0)
        r = nodes_create(nodes, xml, strlen(xml), NULL, &why);
    if (r >= 0)
        offline_audit(db, "node-create", NULL, "node '%s' (%s:%d)", c.name, c.host, c.port);
    home_free(h);
    if (r == -EEXIST) {
        fprintf(stderr, "steward: a node named %s already exists\n", c.name);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "steward: cannot add node %s: %s\n", c.name,
                why ? why : r == -ENOSPC ? "too many nodes" : strerror(-r));
        return 1;
    }
    fprintf(stderr, "Added node %s (%s:%d)%s\n", c.name, c.host, c.port,
            host_key ? "" : "; its host key is checked against HOME/known_hosts "
                            "(KnownHostsFileKeyVerificationStrategy): give --host-key to pin it");
    return 0;
}

static int
node_list(const char *home_dir)
{
    static const char *const headers[] = { "NAME", "HOST", "EXECUTORS", "LABELS", "MODE",
                                           "STATE" };
    _cleanup_(nodes_freep) struct nodes *nodes = NULL;
    _cleanup_(store_closep) struct store *db = NULL;
    struct node *v = NULL;
    struct table *t = NULL;
    struct home *h = NULL;
    size_t n = 0;
    int r;

    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    r = nodes_open(h->root, &nodes);
    home_free(h);
    if (r >= 0)
        r = nodes_list(nodes, &v, &n);
    if (r < 0) {
        fprintf(stderr, "steward: cannot list the nodes: %s\n", strerror(-r));
        return 1;
    }
    t = table_new(ELEMENTSOF(headers), headers);
    for (size_t i = 0; t && r >= 0 && i < n; i++) {
        _cleanup_free_ char *host = NULL, *labels = NULL, *exec = NULL;
        size_t len = 1;

        for (size_t k = 1; k < v[i].n_labels; k++)
            len += strlen(v[i].labels[k]) + 1;
        labels = calloc(1, len);
        for (size_t k = 1; labels && k < v[i].n_labels; k++) {
            if (k > 1)
                strcat(labels, " ");
            strcat(labels, v[i].labels[k]);
        }
        host = v[i].cfg.launcher == NODE_LAUNCHER_SSH
                   ? strdup_printf("%s:%d", v[i].cfg.host, v[i].cfg.port)
                   : strdup(v[i].cfg.launcher_class ? v[i].cfg.launcher_class : "-");
        exec = strdup_printf("%d", v[i].cfg.executors);
        if (!labels || !host || !exec) {
            r = -ENOMEM;
            break;
        }
        const char *cells[] = { v[i].cfg.name, host, exec, labels, node_mode_name(v[i].cfg.mode),
                                v[i].temporarily_offline ? "offline (taken offline)"
                                : !v[i].usable ? "unusable (not SSH)" : "-" };
        r = table_add(t, cells);
    }
    if (t && r >= 0)
        table_print(t, stdout);
    else
        fprintf(stderr, "steward: out of memory\n");
    r = t && r >= 0 ? 0 : 1;
    table_free(t);
    nodes_array_free(v, n);
    return r;
}

static int
node_remove(const char *home_dir, const char *name)
{
    _cleanup_(nodes_freep) struct nodes *nodes = NULL;
    _cleanup_(store_closep) struct store *db = NULL;
    struct home *h = NULL;
    int r;

    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    r = nodes_open(h->root, &nodes);
    if (r >= 0)
        r = nodes_delete(nodes, name);
    if (r >= 0)
        offline_audit(db, "node-delete", NULL, "node '%s'", name);
    home_free(h);
    if (r < 0) {
        fprintf(stderr, "steward: cannot remove node %s: %s\n", name,
                r == -ENOENT ? "there is no such node" : strerror(-r));
        return 1;
    }
    fprintf(stderr, "Removed node %s\n", name);
    return 0;
}

int
cmd_node(const char *home_dir, int argc, char **argv)
{
    if (argc >= 3 && streq(argv[1], "add"))
        return node_add(home_dir, argc, argv);
    if (argc == 2 && streq(argv[1], "list"))
        return node_list(home_dir);
    if (argc == 3 && streq(argv[1], "remove"))
        return node_remove(home_dir, argv[2]);
    return usage_error("node takes: add NAME --host H --credentials ID --remote-fs DIR ..., "
                       "list, or remove NAME");
}
