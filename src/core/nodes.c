/* SPDX-License-Identifier: MIT */
/*
 * The registry of nodes: HOME/nodes/NAME/config.xml read into summaries,
 * kept in one sorted array under one mutex, reread when the directory
 * shows a change (see nodes.h for the stamps it compares).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/nodes.h"
#include "util/bounds.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strutil.h"

#define NOT_CONNECTED "not connected yet"

/*
 * What a reread compares: config.xml is replaced by rename (a new inode
 * each time), the offline file is made or removed, and HOME/nodes gains
 * or loses a link per node directory. Inodes and link counts do not
 * depend on the clock's granularity, as modification times alone would.
 */
struct stamp {
    ino_t cfg_ino;
    struct timespec cfg_mtime;
    ino_t off_ino;
};

struct entry {
    struct node node;
    struct stamp stamp;
};

/* A node directory that did not read (being made by another process, or broken). */
struct skipped {
    char *name;
    struct stamp stamp;
};

struct nodes {
    pthread_mutex_t lock;
    char *dir;
    struct entry *v;
    size_t n;
    struct skipped *skipped;
    size_t n_skipped;
    ino_t dir_ino;
    nlink_t dir_nlink;
    struct timespec dir_mtime;
    uint64_t generation;
    void (*notify)(void *);
    void *userdata;
};

static void
closedirp(DIR **d)
{
    if (*d)
        (void) closedir(*d);
}

static void
strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void
node_release(struct node *n)
{
    node_config_release(&n->cfg);
    strv_free(n->labels, n->n_labels);
    free(n->offline_message);
    free(n->offline_reason);
    free(n->os_line);
    *n = (struct node){};
}

struct node *
node_free(struct node *n)
{
    if (n) {
        node_release(n);
        free(n);
    }
    return NULL;
}

void
nodes_array_free(struct node *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        node_release(&v[i]);
    free(v);
}

static char *
dup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char **
strv_dup(char *const *v, size_t n)
{
    char **c = calloc(n ? n : 1, sizeof(*c));

    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(c[i] = strdup(v[i]))) {
            strv_free(c, i);
            return NULL;
        }
    return c;
}

/* A deep copy into *dst. 0 or -ENOMEM (dst then released). */
static int
node_copy(const struct node *src, struct node *dst)
{
    const struct node_config *s = &src->cfg;
    struct node_config *d = &dst->cfg;

    *dst = *src;
    *d = *s;
    d->name = dup0(s->name);
    d->description = dup0(s->description);
    d->remote_fs = dup0(s->remote_fs);
    d->labels = s->n_labels ? strv_dup(s->labels, s->n_labels) : NULL;
    d->launcher_class = dup0(s->launcher_class);
    d->host = dup0(s->host);
    d->credentials_id = dup0(s->credentials_id);
    d->host_key_algorithm = dup0(s->host_key_algorithm);
    d->host_key = dup0(s->host_key);
    dst->labels = strv_dup(src->labels, src->n_labels);
    dst->offline_message = dup0(src->offline_message);
    dst->offline_reason = dup0(src->offline_reason);
    dst->os_line = dup0(src->os_line);
    if (!d->name || !d->description || !d->remote_fs || (s->n_labels && !d->labels) ||
        (s->launcher_class && !d->launcher_class) || (s->host && !d->host) ||
        (s->credentials_id && !d->credentials_id) ||
        (s->host_key_algorithm && !d->host_key_algorithm) || (s->host_key && !d->host_key) ||
        !dst->labels || (src->offline_message && !dst->offline_message) ||
        !dst->offline_reason || !dst->os_line) {
        if (!d->labels)
            d->n_labels = 0;
        if (!dst->labels)
            dst->n_labels = 0;
        node_release(dst);
        return -ENOMEM;
    }
    return 0;
}

static void
stamp_of(const char *dir, const char *name, struct stamp *ret)
{
    _cleanup_free_ char *d = path_join(dir, name);
    _cleanup_free_ char *cfg = d ? path_join(d, "config.xml") : NULL;
    _cleanup_free_ char *off = d ? path_join(d, "offline") : NULL;
    struct stat st;

    *ret = (struct stamp){};
    if (cfg && stat(cfg, &st) == 0) {
        ret->cfg_ino = st.st_ino;
        ret->cfg_mtime = st.st_mtim;
    }
    if (off && stat(off, &st) == 0)
        ret->off_ino = st.st_ino;
}

static bool
stamp_eq(const struct stamp *a, const struct stamp *b)
{
    return a->cfg_ino == b->cfg_ino && a->cfg_mtime.tv_sec == b->cfg_mtime.tv_sec &&
           a->cfg_mtime.tv_nsec == b->cfg_mtime.tv_nsec && a->off_ino == b->off_ino;
}

static const struct entry *
find(const struct entry *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (streq(v[i].node.cfg.name, name))
            return &v[i];
    return NULL;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *) a)->node.cfg.name, ((const struct entry *) b)->node.cfg.name);
}

/* Reads node directory `name` into *e, keeping the runtime state of `old`. */
static int
load_one(struct nodes *n, const char *name, const struct entry *old, struct entry *e)
{
    _cleanup_free_ char *d = path_join(n->dir, name);
    _cleanup_free_ char *cfg = d ? path_join(d, "config.xml") : NULL;
    _cleanup_free_ char *off = d ? path_join(d, "offline") : NULL;
    _cleanup_free_ char *xml = NULL, *why = NULL, *msg = NULL;
    struct node *node = &e->node;
    size_t len = 0;
    int r;

    if (!cfg || !off)
        return -ENOMEM;
    *e = (struct entry){};
    stamp_of(n->dir, name, &e->stamp);
    r = fs_read_all(cfg, BOUND_NODE_CONFIG_BYTES, &xml, &len);
    if (r < 0)
        return r;
    r = nodecfg_parse(xml, len, &node->cfg, &why);
    if (r == -EINVAL)
        log_warn("nodes: %s is skipped: %s", cfg, why);
    if (r < 0)
        return r;
    if (!streq(node->cfg.name, name)) {
        log_warn("nodes: %s is skipped: it names node '%s'", cfg, node->cfg.name);
        node_release(node);
        return -EINVAL;
    }
    r = fs_read_all(off, BOUND_NODE_OFFLINE_BYTES, &msg, &len);
    if (r >= 0) {
        node->temporarily_offline = true;
        node->offline_message = strdup_one_line(msg, BOUND_NODE_OFFLINE_BYTES);
    }
    node->n_labels = node->cfg.n_labels + 1;
    node->labels = calloc(node->n_labels, sizeof(char *));
    if (node->labels) {
        node->labels[0] = strdup(name);
        for (size_t i = 0; i < node->cfg.n_labels; i++)
            node->labels[i + 1] = strdup(node->cfg.labels[i]);
    }
    node->usable = node->cfg.launcher == NODE_LAUNCHER_SSH;
    if (old && old->node.usable) {
        node->state = old->node.state;
        node->offline_reason = dup0(old->node.offline_reason);
        node->busy_executors = old->node.busy_executors;
        node->sandboxed = old->node.sandboxed;
        node->os_line = dup0(old->node.os_line);
        node->generation = stamp_eq(&old->stamp, &e->stamp) ? old->node.generation : ++n->generation;
    } else {
        node->generation = old && stamp_eq(&old->stamp, &e->stamp) ? old->node.generation
                                                                    : ++n->generation;
        node->os_line = strdup("");
        if (node->usable) {
            node->state = NODE_CONNECTING;
            node->offline_reason = strdup(NOT_CONNECTED);
        }
    }
    if (!node->usable) {
        free(node->offline_reason);
        node->state = NODE_OFFLINE;
        node->offline_reason = strdup_printf(
            "Steward launches only SSH nodes (hudson.plugins.sshslaves.SSHLauncher); this "
            "node's launcher is %s.", node->cfg.launcher_class ? node->cfg.launcher_class : "none");
    }
    if (!node->labels || !node->offline_reason || !node->os_line ||
        (node->temporarily_offline && !node->offline_message)) {
        node_release(node);
        return -ENOMEM;
    }
    for (size_t i = 0; i < node->n_labels; i++)
        if (!node->labels[i]) {
            node_release(node);
            return -ENOMEM;
        }
    return 0;
}

static void
skipped_free(struct skipped *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].name);
    free(v);
}

static int
rescan_locked(struct nodes *n)
{
    _cleanup_(closedirp) DIR *d = NULL;
    struct entry *v = NULL;
    struct skipped *sk = NULL;
    size_t cnt = 0, cap = 0, n_sk = 0;
    struct dirent *de;
    struct stat st;
    int r;

    if (stat(n->dir, &st) < 0)
        return -errno;
    n->dir_ino = st.st_ino;
    n->dir_nlink = st.st_nlink;
    n->dir_mtime = st.st_mtim;
    d = opendir(n->dir);
    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        const char *w;

        if (de->d_name[0] == '.' || node_name_check(de->d_name, &w) < 0)
            continue;
        if (cnt == cap) {
            struct entry *nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));
            if (!nv) {
                r = -ENOMEM;
                goto fail;
            }
            v = nv;
        }
        r = load_one(n, de->d_name, find(n->v, n->n, de->d_name), &v[cnt]);
        if (r == -ENOMEM)
            goto fail;
        if (r >= 0) {
            cnt++;
            continue;
        }
        /* watched, so that its config.xml is read once it is complete or mended */
        if (n_sk < BOUND_NODES) {
            struct skipped *ns = realloc(sk, (n_sk + 1) * sizeof(*sk));

            if (!ns) {
                r = -ENOMEM;
                goto fail;
            }
            sk = ns;
            sk[n_sk].name = strdup(de->d_name);
            if (!sk[n_sk].name) {
                r = -ENOMEM;
                goto fail;
            }
            stamp_of(n->dir, de->d_name, &sk[n_sk].stamp);
            n_sk++;
        }
    }
    if (cnt)
        qsort(v, cnt, sizeof(*v), by_name);
    /* a node that is gone is a change too */
    if (cnt != n->n)
        ++n->generation;
    for (size_t i = 0; i < n->n; i++)
        node_release(&n->v[i].node);
    free(n->v);
    n->v = v;
    n->n = cnt;
    skipped_free(n->skipped, n->n_skipped);
    n->skipped = sk;
    n->n_skipped = n_sk;
    return 0;
fail:
    for (size_t i = 0; i < cnt; i++)
        node_release(&v[i].node);
    free(v);
    skipped_free(sk, n_sk);
    return r;
}

/* Rereads when the directory shows a change; true when it did. */
static bool
check_locked(struct nodes *n)
{
    uint64_t before = n->generation;
    struct stat st;
    bool changed = false;

    if (stat(n->dir, &st) < 0)
        return false;
    if (st.st_ino != n->dir_ino || st.st_nlink != n->dir_nlink ||
        st.st_mtim.tv_sec != n->dir_mtime.tv_sec || st.st_mtim.tv_nsec != n->dir_mtime.tv_nsec)
        changed = true;
    for (size_t i = 0; !changed && i < n->n; i++) {
        struct stamp s;

        stamp_of(n->dir, n->v[i].node.cfg.name, &s);
        changed = !stamp_eq(&s, &n->v[i].stamp);
    }
    for (size_t i = 0; !changed && i < n->n_skipped; i++) {
        struct stamp s;

        stamp_of(n->dir, n->skipped[i].name, &s);
        changed = !stamp_eq(&s, &n->skipped[i].stamp);
    }
    if (changed)
        (void) rescan_locked(n);
    return n->generation != before;
}

/* A node, or a node directory whose config.xml does not read (so it can be mended or removed). */
static bool
known_locked(const struct nodes *n, const char *name)
{
    if (find(n->v, n->n, name))
        return true;
    for (size_t i = 0; i < n->n_skipped; i++)
        if (streq(n->skipped[i].name, name))
            return true;
    return false;
}

static void
notify(struct nodes *n, bool changed)
{
    void (*fn)(void *);
    void *ud;

    if (!changed)
        return;
    pthread_mutex_lock(&n->lock);
    fn = n->notify;
    ud = n->userdata;
    pthread_mutex_unlock(&n->lock);
    if (fn)
        fn(ud);
}

int
nodes_open(const char *home_root, struct nodes **ret)
{
    struct nodes *n = calloc(1, sizeof(*n));
    int r;

    if (!n)
        return -ENOMEM;
    pthread_mutex_init(&n->lock, NULL);
    n->dir = path_join(home_root, "nodes");
    if (!n->dir) {
        nodes_free(n);
        return -ENOMEM;
    }
    if (mkdir(n->dir, 0700) < 0 && errno != EEXIST) {
        r = -errno;
        nodes_free(n);
        return r;
    }
    r = rescan_locked(n);
    if (r < 0) {
        nodes_free(n);
        return r;
    }
    *ret = n;
    return 0;
}

struct nodes *
nodes_free(struct nodes *n)
{
    if (!n)
        return NULL;
    for (size_t i = 0; i < n->n; i++)
        node_release(&n->v[i].node);
    free(n->v);
    skipped_free(n->skipped, n->n_skipped);
    free(n->dir);
    pthread_mutex_destroy(&n->lock);
    free(n);
    return NULL;
}

void
nodes_set_notify(struct nodes *n, void (*fn)(void *), void *userdata)
{
    pthread_mutex_lock(&n->lock);
    n->notify = fn;
    n->userdata = userdata;
    pthread_mutex_unlock(&n->lock);
}

static char *
node_dir(const struct nodes *n, const char *name)
{
    return path_join(n->dir, name);
}

int
nodes_create(struct nodes *n, const char *xml, size_t len, char **ret_name, char **reterr_why)
{
    _cleanup_(node_config_release) struct node_config c = {};
    _cleanup_free_ char *d = NULL, *cfg = NULL;
    int r;

    r = nodecfg_parse(xml, len, &c, reterr_why);
    if (r < 0)
        return r;
    d = node_dir(n, c.name);
    cfg = d ? path_join(d, "config.xml") : NULL;
    if (!cfg)
        return -ENOMEM;
    pthread_mutex_lock(&n->lock);
    (void) check_locked(n);
    if (n->n >= BOUND_NODES)
        r = -ENOSPC;
    else if (mkdir(d, 0700) < 0) {
        struct stat st;

        r = -errno;
        /* a directory left without config.xml (a create that died midway) is free to take */
        if (r == -EEXIST && !find(n->v, n->n, c.name) && stat(cfg, &st) < 0 && errno == ENOENT)
            r = 0;
    }
    if (r == 0) {
        r = fs_write_atomic(cfg, xml, len, 0600);
        if (r < 0)
            (void) fs_rm_rf(d);
        else
            (void) rescan_locked(n);
    }
    pthread_mutex_unlock(&n->lock);
    if (r < 0)
        return r;
    notify(n, true);
    if (ret_name && !(*ret_name = strdup(c.name)))
        return -ENOMEM;
    return 0;
}

int
nodes_update(struct nodes *n, const char *name, const char *xml, size_t len, char **reterr_why)
{
    _cleanup_(node_config_release) struct node_config c = {};
    _cleanup_free_ char *d = node_dir(n, name);
    _cleanup_free_ char *cfg = d ? path_join(d, "config.xml") : NULL;
    int r;

    if (!cfg)
        return -ENOMEM;
    r = nodecfg_parse(xml, len, &c, reterr_why);
    if (r < 0)
        return r;
    if (!streq(c.name, name)) {
        *reterr_why = strdup_printf("The XML names node '%s', not '%s': Steward does not rename "
                                    "nodes (delete it and create it under the new name).",
                                    c.name, name);
        return *reterr_why ? -EINVAL : -ENOMEM;
    }
    pthread_mutex_lock(&n->lock);
    (void) check_locked(n);
    if (!known_locked(n, name))
        r = -ENOENT;
    else {
        r = fs_write_atomic(cfg, xml, len, 0600);
        (void) rescan_locked(n);
    }
    pthread_mutex_unlock(&n->lock);
    notify(n, r >= 0);
    return r;
}

int
nodes_delete(struct nodes *n, const char *name)
{
    _cleanup_free_ char *d = node_dir(n, name);
    int r;

    if (!d)
        return -ENOMEM;
    pthread_mutex_lock(&n->lock);
    (void) check_locked(n);
    if (!known_locked(n, name))
        r = -ENOENT;
    else {
        r = fs_rm_rf(d);
        (void) rescan_locked(n);
    }
    pthread_mutex_unlock(&n->lock);
    notify(n, r >= 0);
    return r;
}

int
nodes_get_config(struct nodes *n, const char *name, char **ret_xml, size_t *ret_len)
{
    _cleanup_free_ char *d = node_dir(n, name);
    _cleanup_free_ char *cfg = d ? path_join(d, "config.xml") : NULL;
    bool known;

    if (!cfg)
        return -ENOMEM;
    pthread_mutex_lock(&n->lock);
    (void) check_locked(n);
    known = known_locked(n, name);
    pthread_mutex_unlock(&n->lock);
    if (!known)
        return -ENOENT;
    return fs_read_all(cfg, BOUND_NODE_CONFIG_BYTES, ret_xml, ret_len);
}

int
nodes_set_offline(struct nodes *n, const char *name, bool offline, const char *message)
{
    _cleanup_free_ char *d = node_dir(n, name);
    _cleanup_free_ char *off = d ? path_join(d, "offline") : NULL;
    _cleanup_free_ char *line = NULL;
    int r = 0;

    if (!off)
        return -ENOMEM;
    if (offline) {
        if (message && strlen(message) > BOUND_NODE_OFFLINE_BYTES)
            return -EINVAL;
        line = strdup_one_line(message ? message : "", BOUND_NODE_OFFLINE_BYTES);
        if (!line)
            return -ENOMEM;
    }
    pthread_mutex_lock(&n->lock);
    (void) check_locked(n);
    if (!find(n->v, n->n, name))
        r = -ENOENT;
    else if (offline)
        r = fs_write_atomic(off, line, strlen(line), 0600);
    else if (unlink(off) < 0 && errno != ENOENT)
        r = -errno;
    if (r == 0)
        (void) rescan_locked(n);
    pthread_mutex_unlock(&n->lock);
    notify(n, r >= 0);
    return r;
}

int
nodes_list(struct nodes *n, struct node **ret, size_t *ret_n)
{
    struct node *v = NULL;
    size_t cnt;
    bool changed;
    int r = 0;

    pthread_mutex_lock(&n->lock);
    changed = check_locked(n);
    cnt = n->n;
    if (cnt && !(v = calloc(cnt, sizeof(*v))))
        r = -ENOMEM;
    for (size_t i = 0; r == 0 && i < cnt; i++)
        if ((r = node_copy(&n->v[i].node, &v[i])) < 0)
            nodes_array_free(v, i), v = NULL;
    pthread_mutex_unlock(&n->lock);
    notify(n, changed);
    if (r < 0)
        return r;
    *ret = v;
    *ret_n = cnt;
    return 0;
}

int
nodes_get(struct nodes *n, const char *name, struct node **ret)
{
    const struct entry *e;
    struct node *c = NULL;
    bool changed;
    int r;

    pthread_mutex_lock(&n->lock);
    changed = check_locked(n);
    e = find(n->v, n->n, name);
    if (!e)
        r = -ENOENT;
    else if (!(c = calloc(1, sizeof(*c))))
        r = -ENOMEM;
    else if ((r = node_copy(&e->node, c)) < 0)
        c = (free(c), NULL);
    pthread_mutex_unlock(&n->lock);
    notify(n, changed);
    if (r < 0)
        return r;
    *ret = c;
    return 0;
}

size_t
nodes_count(struct nodes *n)
{
    size_t cnt;
    bool changed;

    pthread_mutex_lock(&n->lock);
    changed = check_locked(n);
    cnt = n->n;
    pthread_mutex_unlock(&n->lock);
    notify(n, changed);
    return cnt;
}

uint64_t
nodes_generation(struct nodes *n)
{
    uint64_t g;
    bool changed;

    pthread_mutex_lock(&n->lock);
    changed = check_locked(n);
    g = n->generation;
    pthread_mutex_unlock(&n->lock);
    notify(n, changed);
    return g;
}

int
nodes_set_runtime(struct nodes *n, const char *name, enum node_state state,
                  const char *offline_reason, int busy_executors, bool sandboxed,
                  const char *os_line)
{
    struct entry *e;
    char *reason, *os;
    int r = 0;

    /* a first attempt under way has no reason of its own yet: it is still "not connected yet" */
    reason = strdup(offline_reason && *offline_reason ? offline_reason
                    : state == NODE_CONNECTING       ? NOT_CONNECTED
                                                     : "");
    os = strdup(os_line ? os_line : "");
    pthread_mutex_lock(&n->lock);
    e = (struct entry *) find(n->v, n->n, name);
    if (!reason || !os)
        r = -ENOMEM;
    else if (!e)
        r = -ENOENT;
    else if (!e->node.usable)
        r = 0; /* a node Steward cannot launch keeps saying why */
    else {
        free(e->node.offline_reason);
        free(e->node.os_line);
        e->node.state = state;
        e->node.offline_reason = TAKE_PTR(reason);
        e->node.os_line = TAKE_PTR(os);
        e->node.busy_executors = busy_executors;
        e->node.sandboxed = sandboxed;
    }
    pthread_mutex_unlock(&n->lock);
    free(reason);
    free(os);
    return r;
}
