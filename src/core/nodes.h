/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Nodes (Jenkins agents) as configuration: the registry of
 * HOME/nodes/NAME/config.xml, and each node's runtime state as the engine
 * reports it.
 *
 * Where things are:
 *   - HOME/nodes/NAME/config.xml: the node, in Jenkins' format (<slave>,
 *     see core/nodecfg.c), the source of truth, written atomically. What a
 *     client posted is kept byte for byte, so GET config.xml answers it,
 *     Java-only fields of the SSH launcher included.
 *   - HOME/nodes/NAME/offline: present while the node is temporarily
 *     offline (toggleOffline); it holds the message, maybe empty. Jenkins
 *     keeps this as <temporaryOfflineCause> inside config.xml; a file of its
 *     own keeps config.xml exactly as posted and makes the toggle one
 *     atomic create or unlink. It survives a restart.
 *
 * Changes made by another process (the offline `steward node` commands
 * while the server runs) are noticed without a reload call: every read
 * (nodes_list(), nodes_get(), nodes_generation()) first compares the
 * modification times of HOME/nodes and of each HOME/nodes/NAME with what
 * it last read (one stat per node), and rereads the directory when one
 * differs. The engine may simply call nodes_generation() once a second.
 *
 * The registry keeps a compact summary per node, never a parsed document.
 * It is thread-safe: one mutex guards it, and readers get copies.
 *
 * Errors: -EINVAL (bad input, with a sentence), -EEXIST (the name is
 * taken), -ENOENT (no such node), -ENOSPC (BOUND_NODES reached), -errno
 * from the file system, -ENOMEM.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum node_mode {
    NODE_MODE_NORMAL,      /* "Use this node as much as possible" */
    NODE_MODE_EXCLUSIVE,   /* "Only build jobs with label expressions matching this node" */
};

enum node_launcher {
    NODE_LAUNCHER_SSH,     /* hudson.plugins.sshslaves.SSHLauncher: the only kind Steward runs */
    NODE_LAUNCHER_JNLP,    /* hudson.slaves.JNLPLauncher: stored, never online */
    NODE_LAUNCHER_COMMAND, /* hudson.slaves.CommandLauncher: stored, never online */
    NODE_LAUNCHER_OTHER,   /* any other class: stored, never online */
};

enum node_host_key {
    NODE_HOST_KEY_MANUALLY_PROVIDED,  /* ManuallyProvidedKeyVerificationStrategy: host_key */
    NODE_HOST_KEY_KNOWN_HOSTS,        /* KnownHostsFileKeyVerificationStrategy */
    NODE_HOST_KEY_MANUALLY_TRUSTED,   /* ManuallyTrustedKeyVerificationStrategy */
    NODE_HOST_KEY_NON_VERIFYING,      /* NonVerifyingKeyVerificationStrategy */
    NODE_HOST_KEY_NONE,               /* no strategy given */
};

enum node_state {
    NODE_CONNECTING,   /* the initial state: "not connected yet" */
    NODE_ONLINE,
    NODE_OFFLINE,
};

/* A node's configuration, as core/nodecfg.c reads it from config.xml. */
struct node_config {
    char *name;
    char *description;          /* "" when none */
    char *remote_fs;            /* "" when none (an error for SSH nodes) */
    int executors;              /* 1 .. BOUND_NODE_EXECUTORS */
    enum node_mode mode;
    char **labels;              /* the <label> words, not the name; NULL when none */
    size_t n_labels;
    enum node_launcher launcher;
    char *launcher_class;       /* the class attribute as given */
    /* NODE_LAUNCHER_SSH only: */
    char *host;
    int port;                   /* 22 when not given */
    char *credentials_id;       /* "" when none */
    enum node_host_key host_key_strategy;
    char *host_key_algorithm;   /* MANUALLY_PROVIDED: "ssh-ed25519" */
    char *host_key;             /* MANUALLY_PROVIDED: base64 */
};
void node_config_release(struct node_config *c);

/*
 * Adds the space-separated labels of `s` to c->labels, checking each
 * (label_is_valid_atom()) and the count (BOUND_NODE_LABELS). 0, -ENOMEM,
 * or -EINVAL with *reterr_why newly allocated.
 */
int node_config_set_labels(struct node_config *c, const char *s, char **reterr_why);

/* "hudson.plugins.sshslaves.verifiers.ManuallyProvidedKeyVerificationStrategy", ... */
const char *node_host_key_class(enum node_host_key k);
/* "NORMAL" or "EXCLUSIVE" */
const char *node_mode_name(enum node_mode m);
/* "connecting", "online", "offline" */
const char *node_state_name(enum node_state s);

/*
 * Checks a node name: 1 to BOUND_NODE_NAME_BYTES of valid UTF-8, none of
 * the characters a job name may not hold, no white space (the name is
 * one of the node's labels), and none of the built-in node's names
 * ("built-in", "(built-in)", "master", "(master)"). 0 or -EINVAL with
 * *reterr_why (static).
 */
int node_name_check(const char *name, const char **reterr_why);

/*
 * Reads a node's config.xml (<slave>, <hudson.slaves.DumbSlave>, or any
 * root with class="hudson.slaves.DumbSlave") and checks it: the name, 1 to
 * BOUND_NODE_EXECUTORS executors, the mode, labels, and for an SSH
 * launcher a host, a port 1 to 65535, an absolute remoteFS, a known host
 * key strategy and, for a manually provided key, an algorithm and base64
 * key. No DOCTYPE. 0 and *ret filled (release it), -ENOMEM, or -EINVAL
 * with *reterr_why newly allocated.
 */
int nodecfg_parse(const char *xml, size_t len, struct node_config *ret, char **reterr_why);
/*
 * Writes the config.xml of `c` as Jenkins would (with the SSH launcher's
 * defaults for the Java-only fields). Returns a newly allocated string,
 * or NULL on ENOMEM.
 */
char *nodecfg_write(const struct node_config *c);
/*
 * Reads a host key as ssh-keyscan or known_hosts writes it
 * ("host ssh-ed25519 AAAA... [comment]") or alone ("ssh-ed25519 AAAA...")
 * into its algorithm and base64 key (both newly allocated). 0 or -EINVAL
 * with *reterr_why (static), -ENOMEM.
 */
int node_host_key_parse(const char *line, char **ret_algorithm, char **ret_key,
                        const char **reterr_why);

/*
 * The fingerprint ssh-keygen -l shows for a base64 host key
 * ("SHA256:+DiY3w..."), newly allocated; NULL for a key that is not
 * base64, or on ENOMEM.
 */
char *node_host_key_fingerprint(const char *key);

/* A node as the registry reports it: a copy, the caller's to free. */
struct node {
    struct node_config cfg;
    char **labels;              /* the node's name first, then cfg.labels */
    size_t n_labels;
    bool temporarily_offline;
    char *offline_message;      /* "" when none; NULL when not temporarily offline */
    /* the runtime state, as the engine last set it */
    enum node_state state;
    char *offline_reason;       /* "" when online */
    int busy_executors;
    bool sandboxed;
    char *os_line;              /* "" when not known */
    bool usable;                /* an SSH node; false: offline_reason says why */
    uint64_t generation;        /* bumped by every change of the node's configuration */
};
struct node *node_free(struct node *n);
static inline void node_freep(struct node **n) { node_free(*n); }
void nodes_array_free(struct node *v, size_t n);

struct nodes;

/*
 * Opens the registry of HOME/nodes (made when missing) and reads every
 * node. A node directory whose config.xml does not read is skipped with
 * a warning in the log. 0 or -errno.
 */
int nodes_open(const char *home_root, struct nodes **ret);
struct nodes *nodes_free(struct nodes *n);
static inline void nodes_freep(struct nodes **n) { nodes_free(*n); }

/*
 * Adds a node from its config.xml. 0; -EINVAL with *reterr_why (newly
 * allocated); -EEXIST (the name is taken, also by a node another process
 * is adding); -ENOSPC; -errno. *ret_name (may be NULL) gets the node's
 * name, newly allocated.
 */
int nodes_create(struct nodes *n, const char *xml, size_t len, char **ret_name, char **reterr_why);
/*
 * Replaces node `name`'s config.xml. The XML must name the same node
 * (Steward does not rename nodes). 0, -ENOENT, -EINVAL with *reterr_why
 * (newly allocated), -errno. Nothing changes on an error. A node whose
 * stored config.xml does not read may be mended this way, read with
 * nodes_get_config() and removed with nodes_delete(), though
 * nodes_list() and nodes_get() leave it out.
 */
int nodes_update(struct nodes *n, const char *name, const char *xml, size_t len, char **reterr_why);
/* Removes a node and its directory. 0, -ENOENT, -errno. */
int nodes_delete(struct nodes *n, const char *name);
/* node `name`'s config.xml as stored, newly allocated. 0, -ENOENT, -errno. */
int nodes_get_config(struct nodes *n, const char *name, char **ret_xml, size_t *ret_len);
/*
 * Takes node `name` temporarily offline with `message` (NULL or "": none;
 * at most BOUND_NODE_OFFLINE_BYTES, one line kept), or brings it back
 * (offline false). Persistent. 0, -ENOENT, -EINVAL, -errno.
 */
int nodes_set_offline(struct nodes *n, const char *name, bool offline, const char *message);

/* Every node, sorted by name (copies). *ret NULL when none. 0 or -ENOMEM. */
int nodes_list(struct nodes *n, struct node **ret, size_t *ret_n);
/* One node (a copy; free with node_free()). 0, -ENOENT, -ENOMEM. */
int nodes_get(struct nodes *n, const char *name, struct node **ret);
/* How many nodes there are. */
size_t nodes_count(struct nodes *n);
/*
 * A number that grows with every change of the nodes' configuration
 * (create, update, delete, offline), this process's or another's (it
 * checks the directory first, as nodes_list() does).
 */
uint64_t nodes_generation(struct nodes *n);

/*
 * The engine's report of a node's connection: its state, why it is
 * offline ("" or NULL when online), busy executors, whether its builds
 * run sandboxed, and its `uname -a` style line (NULL: unknown). Kept in
 * memory only; does not bump the generation. 0 or -ENOENT.
 */
int nodes_set_runtime(struct nodes *n, const char *name, enum node_state state,
                      const char *offline_reason, int busy_executors, bool sandboxed,
                      const char *os_line);

/*
 * `fn(userdata)` is called after every configuration change this process
 * makes, and after a reread finds another process's change; from the
 * thread that made or noticed it, with no lock of the registry held.
 */
void nodes_set_notify(struct nodes *n, void (*fn)(void *userdata), void *userdata);
