/* SPDX-License-Identifier: MIT */
/*
 * Nodes as the engine runs them ("agents"): the executor slots each node
 * adds, the choice of a slot for a waiting item by its job's label
 * expression, one OpenSSH master connection per node (core/ssh.h) run as
 * a child of the engine, and the remote half of a build's steps.
 *
 * The registry (core/nodes.h) holds what the nodes are; this file holds
 * what the loop does with them, and tells the registry back how each one
 * is (nodes_set_runtime()). All of it runs on the loop thread.
 *
 * A node's life: OFFLINE -> CONNECTING (the master runs; its probe has not
 * answered yet) -> ONLINE (the probe said "steward-ready"). The master's
 * end, for whatever reason, makes it OFFLINE with the reason, and a new
 * connection is tried after a back-off that doubles up to a minute. The
 * builds running over a master that ended lose their sessions (ssh exits
 * with 255) and fail, saying so (run_reap()).
 */
#include "core/engine_int.h"
#include "core/label.h"
#include "core/nodes.h"
#include "core/ssh.h"

#include <sys/mman.h>

#define AGENT_OUT_MAX 8192
#define AGENT_BACKOFF_MIN_MS 1000
#define AGENT_BACKOFF_MAX_MS 60000
/* what a kill session may take before it is killed itself */
#define AGENT_KILL_DEADLINE_MS 30000
#define AGENT_AUX_MAX 64
#define AGENT_LOST_MAX 32
/* the probe answers after the login (the node user's shell start-up): this long past the connect */
#define AGENT_PROBE_GRACE_S 30

enum agent_state { AGENT_OFFLINE, AGENT_CONNECTING, AGENT_ONLINE };

struct agent {
    struct node *node;          /* as the registry had it at the last sync */
    const struct node_config *cfg;  /* &node->cfg */
    char *label_string;         /* its labels, the name first, for NODE_LABELS */
    struct ssh_target target;   /* without the secrets: for the argv of each ssh */
    char *host_key_line;        /* "ALGORITHM KEY" for target.host_key */
    char *known_hosts;          /* the server user's ~/.ssh/known_hosts, for target */
    enum agent_state state;
    char *reason;               /* why it is offline, for people */
    char *user;                 /* the credential's username */
    char *dir;                  /* agent_dir(): the key, known_hosts, the control socket */
    char **ssh_env;             /* the environment every ssh of this node runs with (ssh_envp()) */
    bool prepared;              /* dir holds what cfg says */
    pid_t pid;                  /* the master, or 0 */
    int pidfd;
    int in_fd;                  /* the master's stdin: closing it ends the master */
    int out_fd;                 /* its stdout and stderr: the probe, or ssh's complaint */
    char out[AGENT_OUT_MAX];
    size_t n_out;
    struct ssh_probe probe;
    int64_t retry_mono;
    int64_t backoff_ms;
    int64_t deadline_mono;      /* CONNECTING: by when the probe must answer */
    bool gone;                  /* no longer configured: freed when nothing uses it */
    bool reconnect;             /* its connection settings changed: reconnect when idle */
    int64_t suspect_until_mono; /* a session ended with 255: no new build until then */
    /* steps whose session was lost: stopped there once the node is back */
    char *lost[AGENT_LOST_MAX];
    char *lost_root[AGENT_LOST_MAX];
    size_t n_lost;
};

static void agent_stop_lost(struct engine *e, struct agent *a);
static void agent_keep_trusted(struct engine *e, struct agent *a);
static void agent_send_kill(struct engine *e, struct agent *a, const char *root,
                            const char *run_id, unsigned grace_s, int out_fd);
static char *agent_run_id(const struct engine *e, const struct run *run);

#define AGENT_TAG(a) ((void *) ((uintptr_t) (a) | 3))

/* ---- slots ---- */

static int
grow_slots(struct engine *e)
{
    int cap = e->cap_slots ? e->cap_slots * 2 : 8;
    struct run **runs = realloc(e->runs, (size_t) cap * sizeof *runs);
    struct slot *slots;

    if (!runs)
        return -ENOMEM;
    e->runs = runs;
    slots = realloc(e->slots, (size_t) cap * sizeof *slots);
    if (!slots)
        return -ENOMEM;
    e->slots = slots;
    for (int i = e->cap_slots; i < cap; i++) {
        e->runs[i] = NULL;
        e->slots[i] = (struct slot){ .retired = true };
    }
    e->cap_slots = cap;
    return 0;
}

static int
agent_slot_count(const struct engine *e, const struct agent *a, bool *used_numbers, int max)
{
    int n = 0;

    for (int i = 0; i < e->n_slots; i++)
        if (e->slots[i].agent == a && !e->slots[i].retired) {
            n++;
            if (used_numbers && e->slots[i].number < max)
                used_numbers[e->slots[i].number] = true;
        }
    return n;
}

/* Gives node `a` exactly `want` slots that take builds: new ones numbered from 0 up, retiring free ones first. */
static int
agent_set_slots(struct engine *e, struct agent *a, int want)
{
    _cleanup_free_ bool *used = calloc((size_t) want + 1, sizeof *used);
    int have;

    if (!used)
        return -ENOMEM;
    have = agent_slot_count(e, a, used, want + 1);
    /* the numbers of its retired slots that still run a build are taken too */
    for (int i = 0; i < e->n_slots; i++)
        if (e->slots[i].agent == a && e->slots[i].retired && e->runs[i] &&
            e->slots[i].number <= want)
            used[e->slots[i].number] = true;
    for (int pass = 0; pass < 2 && have > want; pass++)
        for (int i = e->n_slots - 1; i >= 0 && have > want; i--)
            if (e->slots[i].agent == a && !e->slots[i].retired && (pass || !e->runs[i])) {
                e->slots[i].retired = true;
                have--;
            }
    while (have < want) {
        int slot = -1, number = 0;

        /* first its own retired slots that still run a build: they keep their numbers */
        for (int i = 0; i < e->n_slots && slot < 0; i++)
            if (e->slots[i].agent == a && e->slots[i].retired && e->runs[i])
                slot = i;
        if (slot >= 0) {
            e->slots[slot].retired = false;
            have++;
            continue;
        }
        for (int i = 0; i < e->n_slots; i++)
            if (e->slots[i].retired && !e->runs[i]) {
                slot = i;
                break;
            }
        if (slot < 0) {
            if (e->n_slots == e->cap_slots && grow_slots(e) < 0)
                return -ENOMEM;
            slot = e->n_slots++;
        }
        while (number < want && used[number])
            number++;
        used[number] = true;
        e->slots[slot] = (struct slot){ .agent = a, .number = number };
        have++;
    }
    return 0;
}

int
agents_busy(const struct engine *e, const struct agent *a)
{
    int n = 0;

    for (int i = 0; i < e->n_slots; i++)
        if (e->runs[i] && e->slots[i].agent == a)
            n++;
    return n;
}

static bool
agent_takes_builds(const struct agent *a)
{
    return !a->gone && a->state == AGENT_ONLINE && !a->node->temporarily_offline &&
           mono_ms() >= a->suspect_until_mono;
}

bool
agents_slot_usable(const struct engine *e, int slot)
{
    const struct slot *s = &e->slots[slot];

    return !s->retired && (!s->agent || agent_takes_builds(s->agent));
}

/* The built-in node's labels, as Jenkins names it (and as it was named before 2.307). */
static const char *const builtin_labels[] = { "built-in", "master" };

/*
 * Whether a node with these labels and mode takes a job with label
 * expression `expr` (NULL: the job names none, and goes to any node used
 * "as much as possible").
 */
static bool
takes(const struct label_expr *expr, bool exclusive, const char *const *labels, size_t n)
{
    if (!expr)
        return !exclusive;
    return label_matches(expr, labels, n);
}

int
agents_pick_slot(struct engine *e, const struct job *job)
{
    _cleanup_(label_freep) struct label_expr *expr = NULL;

    if (job->cfg->assigned_node && label_parse(job->cfg->assigned_node, &expr, NULL) < 0)
        return -1;   /* refused when the job is saved; one read from an old file never runs */
    for (int i = 0; i < e->n_slots; i++) {
        const struct agent *a = e->slots[i].agent;

        if (e->runs[i] || !agents_slot_usable(e, i))
            continue;
        if (!a ? takes(expr, false, builtin_labels, ELEMENTSOF(builtin_labels))
               : takes(expr, a->cfg->mode == NODE_MODE_EXCLUSIVE,
                       (const char *const *) a->node->labels, a->node->n_labels))
            return i;
    }
    return -1;
}

const char *
agents_slot_node(const struct engine *e, int slot)
{
    const struct agent *a = e->slots[slot].agent;

    return a ? a->cfg->name : NULL;
}

/* ---- what the registry hears back ---- */

static void
agent_report(struct engine *e, struct agent *a)
{
    const char *reason = a->reason;

    if (!e->opts.nodes || a->gone)
        return;
    nodes_set_runtime(e->opts.nodes, a->cfg->name,
                      a->state == AGENT_ONLINE       ? NODE_ONLINE
                      : a->state == AGENT_CONNECTING ? NODE_CONNECTING
                                                     : NODE_OFFLINE,
                      reason, agents_busy(e, a), a->probe.bwrap && a->probe.setsid, a->probe.uname);
}

void
agents_report_slot(struct engine *e, int slot)
{
    if (slot >= 0 && slot < e->n_slots && e->slots[slot].agent)
        agent_report(e, e->slots[slot].agent);
}

static void
agent_set_reason(struct agent *a, const char *fmt, ...) _printf_(2, 3);
static void
agent_set_reason(struct agent *a, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    free(a->reason);
    a->reason = s;
}

/* ---- the master connection ---- */

static void
agent_close_master(struct engine *e, struct agent *a)
{
    if (a->pidfd >= 0) {
        (void) epoll_ctl(e->epfd, EPOLL_CTL_DEL, a->pidfd, NULL);
        close(a->pidfd);
        a->pidfd = -1;
    }
    if (a->out_fd >= 0) {
        (void) epoll_ctl(e->epfd, EPOLL_CTL_DEL, a->out_fd, NULL);
        close(a->out_fd);
        a->out_fd = -1;
    }
    if (a->in_fd >= 0) {
        close(a->in_fd);
        a->in_fd = -1;
    }
}

/* Ends the master, at once: its sessions end with it. */
static void
agent_kill_master(struct engine *e, struct agent *a)
{
    if (a->pid > 0) {
        /* SIGKILL: the wait below must not depend on ssh (or its askpass) going quietly */
        (void) spawn_signal_group(a->pid, SIGKILL);
        (void) waitpid(a->pid, NULL, 0);
        a->pid = 0;
    }
    agent_close_master(e, a);
}

/* The last line ssh wrote that is not the probe's: what it complained of. */
static void
last_complaint(const struct agent *a, char *out, size_t size)
{
    const char *end = a->out + a->n_out, *p = end, *best = NULL, *best_end = NULL;

    out[0] = '\0';
    while (p > a->out) {
        const char *line_end = p, *line;
        while (line_end > a->out && (line_end[-1] == '\n' || line_end[-1] == '\r'))
            line_end--;
        line = line_end;
        while (line > a->out && line[-1] != '\n')
            line--;
        if (line_end > line && !startswith(line, "steward-")) {
            best = line;
            best_end = line_end;
            break;
        }
        p = line;
        if (line == a->out)
            break;
    }
    if (best)
        snprintf(out, size, "%.*s", (int) MIN((size_t) (best_end - best), size - 1), best);
}

static bool
out_has(const struct agent *a, const char *needle)
{
    return memmem(a->out, a->n_out, needle, strlen(needle)) != NULL;
}

static void
agent_went_offline(struct engine *e, struct agent *a)
{
    char complaint[512];
    bool was_online = a->state == AGENT_ONLINE;

    last_complaint(a, complaint, sizeof complaint);
    if (out_has(a, "REMOTE HOST IDENTIFICATION HAS CHANGED") ||
        out_has(a, "Host key verification failed") || out_has(a, "No ED25519 host key is known") ||
        out_has(a, "host key is known for"))
        agent_set_reason(a, "the host key of %s does not match the key configured for node "
                         "'%s': Steward does not connect. If the host was really reinstalled, "
                         "put its new key in the node's configuration (ssh-keyscan prints it)",
                         a->cfg->host, a->cfg->name);
    else if (a->state == AGENT_CONNECTING && a->deadline_mono <= mono_ms())
        agent_set_reason(a, "%s:%d did not answer within %d seconds",
                         a->cfg->host, a->cfg->port, e->opts.node_connect_timeout_s + AGENT_PROBE_GRACE_S);
    else if (was_online)
        agent_set_reason(a, "the connection to %s:%d was lost%s%s", a->cfg->host, a->cfg->port,
                         *complaint ? ": " : "", complaint);
    else
        agent_set_reason(a, "cannot connect to %s:%d%s%s", a->cfg->host, a->cfg->port,
                         *complaint ? ": " : "", complaint);
    log_warn("node %s: offline: %s", a->cfg->name, a->reason);
    a->state = AGENT_OFFLINE;
    a->retry_mono = mono_ms() + a->backoff_ms;
    a->backoff_ms = MIN(a->backoff_ms * 2, (int64_t) AGENT_BACKOFF_MAX_MS);
    agent_report(e, a);
}

/* Reads what the master wrote; keeps the last AGENT_OUT_MAX bytes. */
static void
agent_read(struct agent *a)
{
    char buf[4096];
    ssize_t n;

    if (a->out_fd < 0)
        return;
    while ((n = read(a->out_fd, buf, sizeof buf)) > 0) {
        size_t k = (size_t) n;   /* below AGENT_OUT_MAX */

        static_assert(sizeof buf < AGENT_OUT_MAX, "one read fits the buffer");
        if (a->n_out + k > AGENT_OUT_MAX) {
            size_t drop = a->n_out + k - AGENT_OUT_MAX;
            memmove(a->out, a->out + drop, a->n_out - drop);
            a->n_out -= drop;
        }
        memcpy(a->out + a->n_out, buf, k);
        a->n_out += k;
    }
}

void
agents_event(struct engine *e, void *tag)
{
    struct agent *a = (struct agent *) ((uintptr_t) tag & ~(uintptr_t) 3);
    struct ssh_probe probe = {};
    bool known = false;

    for (size_t i = 0; i < e->n_agents; i++)
        known |= e->agents[i] == a;
    if (!known)
        return;
    agent_read(a);
    if (a->state == AGENT_CONNECTING && ssh_probe_parse(a->out, a->n_out, &probe) >= 0) {
        ssh_probe_release(&a->probe);
        a->probe = probe;
        if (!a->probe.setsid) {
            /* a step needs its own process group there, for an abort to reach all of it */
            agent_set_reason(a, "%s has no setsid(1) (util-linux): Steward cannot stop a build "
                             "there, so it runs none", a->cfg->host);
            agent_kill_master(e, a);
            a->state = AGENT_OFFLINE;
            a->retry_mono = mono_ms() + AGENT_BACKOFF_MAX_MS;
            agent_report(e, a);
            return;
        }
        a->state = AGENT_ONLINE;
        a->backoff_ms = AGENT_BACKOFF_MIN_MS;
        a->reason = mfree(a->reason);
        a->n_out = 0;
        log_info("node %s: online (%s%s)", a->cfg->name, a->probe.uname ? a->probe.uname : "?",
                 a->probe.bwrap ? ", builds sandboxed with bubblewrap" : ", no bubblewrap");
        agent_report(e, a);
        agent_keep_trusted(e, a);
        agent_stop_lost(e, a);
        /* waiting items may go there now */
        queue_look_again(e);
    }
    if (a->pid > 0 && waitpid(a->pid, NULL, WNOHANG) == a->pid) {
        a->pid = 0;
        agent_read(a);
        agent_close_master(e, a);
        if (!a->gone)
            agent_went_offline(e, a);
    }
}

/*
 * Where a host key trusted on the first connection (ManuallyTrusted) is
 * kept: with the node's configuration, so that a restart (the private
 * directory is on tmpfs and goes with the node) does not trust anew.
 */
static char *
trusted_path(const struct engine *e, const struct agent *a)
{
    return path_join(e->home->root, rfmt("nodes/%s/trusted_host_key", a->cfg->name));
}

/* Once online: the key ssh accepted on a first connection is kept for the next ones. */
static void
agent_keep_trusted(struct engine *e, struct agent *a)
{
    _cleanup_free_ char *kept = NULL, *src = NULL, *data = NULL;
    size_t len = 0;

    if (a->target.host_key_kind != SSH_HOST_KEY_MANUALLY_TRUSTED)
        return;
    kept = trusted_path(e, a);
    src = path_join(a->dir, "known_hosts");
    if (!kept || !src || access(kept, F_OK) == 0)
        return;
    if (fs_read_all(src, BOUND_SSH_HOST_KEY_BYTES, &data, &len) == 0 && len > 0 &&
        fs_write_atomic(kept, data, len, 0600) == 0)
        log_info("node %s: its host key, trusted on this first connection, is kept in %s",
                 a->cfg->name, kept);
}

static int
agent_prepare(struct engine *e, struct agent *a)
{
    _cleanup_(cred_freep) struct cred *c = NULL;
    _cleanup_free_ char *why = NULL;
    struct ssh_target t;
    int r;

    if (a->prepared)
        return 0;
    if (!a->dir) {
        agent_set_reason(a, "no private directory can be made for its connection");
        return -ENOMEM;
    }
    if (!a->cfg->credentials_id || !*a->cfg->credentials_id) {
        agent_set_reason(a, "the node has no credentialsId: give it an \"SSH Username with "
                         "private key\" credential");
        return -EINVAL;
    }
    r = cred_get(e->home, e->db, a->cfg->credentials_id, &c);
    if (r < 0) {
        agent_set_reason(a, "its credential '%s' cannot be used: %s", a->cfg->credentials_id,
                         cred_strerror(r));
        return r;
    }
    if (c->info.kind != CRED_SSH_KEY) {
        agent_set_reason(a, "its credential '%s' is a %s, not an \"SSH Username with private "
                         "key\"", a->cfg->credentials_id, cred_kind_type_name(c->info.kind));
        return -EINVAL;
    }
    free(a->user);
    a->user = strdup(c->info.username && *c->info.username ? c->info.username : "root");
    free(a->host_key_line);
    a->host_key_line = a->cfg->host_key_algorithm && a->cfg->host_key
                           ? strdup_printf("%s %s", a->cfg->host_key_algorithm, a->cfg->host_key)
                           : NULL;
    if (!a->user)
        return -ENOMEM;
    a->target = (struct ssh_target){
        .host = a->cfg->host,
        .port = (unsigned) a->cfg->port,
        .user = a->user,
        .host_key = a->host_key_line,
        .known_hosts_file = a->known_hosts,
        .connect_timeout_s = (unsigned) e->opts.node_connect_timeout_s,
        .alive_interval_s = (unsigned) e->opts.node_alive_interval_s,
        .alive_count_max = 3,
    };
    switch (a->cfg->host_key_strategy) {
    case NODE_HOST_KEY_MANUALLY_PROVIDED:
        a->target.host_key_kind = SSH_HOST_KEY_MANUALLY_PROVIDED;
        break;
    case NODE_HOST_KEY_KNOWN_HOSTS:
        a->target.host_key_kind = SSH_HOST_KEY_KNOWN_HOSTS_FILE;
        break;
    case NODE_HOST_KEY_MANUALLY_TRUSTED:
        a->target.host_key_kind = SSH_HOST_KEY_MANUALLY_TRUSTED;
        break;
    case NODE_HOST_KEY_NON_VERIFYING:
    case NODE_HOST_KEY_NONE:
    default:
        a->target.host_key_kind = SSH_HOST_KEY_NON_VERIFYING;
        break;
    }
    /* a key trusted on an earlier first connection stays trusted (agent_keep_trusted()) */
    if (a->target.host_key_kind == SSH_HOST_KEY_MANUALLY_TRUSTED) {
        _cleanup_free_ char *kept = trusted_path(e, a), *data = NULL, *dst = NULL;
        size_t len = 0;

        if (kept && fs_read_all(kept, BOUND_SSH_HOST_KEY_BYTES, &data, &len) == 0 && len > 0 &&
            (r = fs_mkdir_p(a->dir, 0700)) >= 0 && (dst = path_join(a->dir, "known_hosts")))
            (void) fs_write_atomic(dst, data, len, 0600);
    }
    t = a->target;
    t.key = (const char *) c->secret;
    t.key_len = c->secret_len;
    t.passphrase = (const char *) c->passphrase;
    t.passphrase_len = c->passphrase_len;
    r = ssh_node_prepare(a->dir, &t, &why);
    if (r < 0) {
        agent_set_reason(a, "%s", why ? why : strerror(-r));
        return r;
    }
    ssh_argv_free(a->ssh_env);
    a->ssh_env = ssh_envp(a->dir, &a->target);
    if (!a->ssh_env)
        return -ENOMEM;
    a->prepared = true;
    return 0;
}

static void
agent_connect(struct engine *e, struct agent *a)
{
    _cleanup_(ssh_argv_freep) char **argv = NULL;
    int in[2] = { -1, -1 }, out[2] = { -1, -1 };
    struct spawn_req req;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = AGENT_TAG(a) };
    int r;

    a->n_out = 0;
    r = agent_prepare(e, a);
    if (r < 0)
        goto fail_reason;
    argv = ssh_master_argv(a->dir, &a->target);
    if (!argv || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0) {
        r = -ENOMEM;
        goto fail;
    }
    /* the child's end of its output blocks as a pipe normally does */
    (void) fcntl(out[1], F_SETFL, 0);
    req = (struct spawn_req){ .path = argv[0], .argv = argv, .envp = a->ssh_env, .cwd = a->dir,
                              .in_fd = in[0], .out_fd = out[1] };
    r = spawn_start(&req, &a->pid, &a->pidfd);
    close(in[0]);
    close(out[1]);
    in[0] = out[1] = -1;
    if (r < 0)
        goto fail;
    a->in_fd = in[1];
    a->out_fd = out[0];
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, a->pidfd, &ev) < 0 ||
        epoll_ctl(e->epfd, EPOLL_CTL_ADD, a->out_fd, &ev) < 0) {
        r = -errno;
        agent_kill_master(e, a);
        goto fail;
    }
    a->state = AGENT_CONNECTING;
    a->deadline_mono = mono_ms() + (e->opts.node_connect_timeout_s + AGENT_PROBE_GRACE_S) * 1000LL;
    agent_report(e, a);
    return;
fail:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (out[i] >= 0)
            close(out[i]);
    }
    agent_set_reason(a, "cannot start ssh: %s", strerror(-r));
fail_reason:
    log_warn("node %s: offline: %s", a->cfg->name, a->reason);
    a->state = AGENT_OFFLINE;
    a->retry_mono = mono_ms() + a->backoff_ms;
    a->backoff_ms = MIN(a->backoff_ms * 2, (int64_t) AGENT_BACKOFF_MAX_MS);
    agent_report(e, a);
}

/* ---- keeping the agents in step with the registry ---- */

/*
 * A node's private directory: short, as ssh's control socket needs (a
 * unix socket path), so not under HOME, and out of every build's reach:
 * /run/steward when the server runs as root (builds run as another user,
 * and the directory is 0700), else /tmp/steward-UID (builds run as the
 * server's user then, and the sandbox gives them a /tmp of their own).
 * Then a hash of the home and one of the node's name. The base must be a
 * directory of ours that no one else may enter, never a link: one made
 * in /tmp by someone else beforehand is refused.
 */
static char *
agent_dir(const struct engine *e, const char *name)
{
    char h1[SECRET_SHA256_HEX_LEN + 1], h2[SECRET_SHA256_HEX_LEN + 1];
    _cleanup_free_ char *base = NULL;
    struct stat st;

    if (geteuid() == 0)
        base = strdup("/run/steward");
    else
        base = strdup_printf("/tmp/steward-%u", (unsigned) geteuid());
    if (!base || (mkdir(base, 0700) < 0 && errno != EEXIST))
        return NULL;
    if (lstat(base, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077) != 0) {
        log_error("nodes: %s is not a private directory of this user: no node connects", base);
        return NULL;
    }
    secret_sha256_hex(e->home->root, strlen(e->home->root), h1);
    secret_sha256_hex(name, strlen(name), h2);
    return strdup_printf("%s/%.12s-%.12s", base, h1, h2);
}

/* The node's private files go with it: its key and passphrase never outlive the connection. */
static void
agent_forget_dir(struct agent *a)
{
    static const char *const files[] = { "key", "passphrase", "askpass", "known_hosts", "ctl" };

    if (!a->dir)
        return;
    for (size_t i = 0; i < ELEMENTSOF(files); i++) {
        _cleanup_free_ char *p = path_join(a->dir, files[i]);
        if (p)
            (void) unlink(p);
    }
    (void) fs_rm_rf(a->dir);
    a->prepared = false;
}

static struct agent *
agent_free(struct engine *e, struct agent *a)
{
    if (!a)
        return NULL;
    agent_kill_master(e, a);
    agent_forget_dir(a);
    for (size_t i = 0; i < a->n_lost; i++) {
        free(a->lost[i]);
        free(a->lost_root[i]);
    }
    for (int i = 0; i < e->n_slots; i++)
        if (e->slots[i].agent == a)
            e->slots[i] = (struct slot){ .retired = true };
    node_free(a->node);
    free(a->label_string);
    free(a->host_key_line);
    free(a->known_hosts);
    free(a->user);
    ssh_probe_release(&a->probe);
    ssh_argv_free(a->ssh_env);
    free(a->reason);
    free(a->dir);
    free(a);
    return NULL;
}

static bool
same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && streq(a, b));
}

static bool
same_connection(const struct node_config *a, const struct node_config *b)
{
    return same_str(a->host, b->host) && a->port == b->port &&
           same_str(a->credentials_id, b->credentials_id) &&
           a->host_key_strategy == b->host_key_strategy && same_str(a->host_key, b->host_key) &&
           same_str(a->host_key_algorithm, b->host_key_algorithm) && a->launcher == b->launcher;
}

/* Takes `n` (moved from the registry's list) as the agent's configuration. */
static int
agent_set_node(struct agent *a, struct node *n)
{
    struct buf b = BUF_INIT(64 * 1024);
    struct node *copy = malloc(sizeof *copy);

    if (!copy)
        return -ENOMEM;
    *copy = *n;
    *n = (struct node){};
    node_free(a->node);
    a->node = copy;
    a->cfg = &copy->cfg;
    /* the target borrows the host from the configuration */
    a->target.host = a->cfg->host;
    for (size_t i = 0; i < copy->n_labels; i++)
        (void) buf_printf(&b, "%s%s", i ? " " : "", copy->labels[i]);
    free(a->label_string);
    a->label_string = buf_detach(&b);
    return a->label_string ? 0 : -ENOMEM;
}

static struct agent *
agent_find(struct engine *e, const char *name)
{
    for (size_t i = 0; i < e->n_agents; i++)
        if (!e->agents[i]->gone && streq(e->agents[i]->cfg->name, name))
            return e->agents[i];
    return NULL;
}

/* A node that can never connect (not SSH): offline with the registry's reason. */
static void
agent_unusable(struct engine *e, struct agent *a)
{
    /* its running builds end first (agents_tick() then ends the connection) */
    if (agents_busy(e, a) == 0)
        agent_kill_master(e, a);
    else
        a->reconnect = true;
    a->state = AGENT_OFFLINE;
    agent_set_reason(a, "Steward launches only SSH nodes (hudson.plugins.sshslaves.SSHLauncher); "
                     "this node's launcher is %s",
                     a->cfg->launcher_class ? a->cfg->launcher_class : "missing");
    agent_report(e, a);
}

static int
agents_sync(struct engine *e)
{
    struct node *list = NULL;
    size_t n = 0;
    uint64_t gen;
    bool changed;
    int r;

    if (!e->opts.nodes)
        return 0;
    pthread_mutex_lock(&e->lock);
    changed = e->nodes_changed;
    e->nodes_changed = false;
    pthread_mutex_unlock(&e->lock);
    if (!changed && mono_ms() < e->next_nodes_mono)
        return 0;
    e->next_nodes_mono = mono_ms() + 1000;
    gen = nodes_generation(e->opts.nodes);
    if (gen == e->nodes_generation)
        return 0;
    r = nodes_list(e->opts.nodes, &list, &n);
    if (r < 0)
        return r;
    e->nodes_generation = gen;
    for (size_t i = 0; i < e->n_agents; i++) {
        struct agent *a = e->agents[i];
        bool found = false;
        for (size_t k = 0; k < n && !found; k++)
            found = streq(list[k].cfg.name, a->cfg->name);
        if (!found && !a->gone) {
            /* removed: its builds end now, as Jenkins ends them with the node */
            a->gone = true;
            for (int s = 0; s < e->n_slots; s++)
                if (e->slots[s].agent == a) {
                    e->slots[s].retired = true;
                    if (e->runs[s])
                        abort_run(e, e->runs[s], "the removal of its node");
                }
            agent_kill_master(e, a);
        }
    }
    for (size_t k = 0; k < n; k++) {
        struct agent *a = agent_find(e, list[k].cfg.name);
        if (!a) {
            struct agent **v = realloc(e->agents, (e->n_agents + 1) * sizeof *v);
            if (!v)
                break;
            e->agents = v;
            a = calloc(1, sizeof *a);
            if (!a)
                break;
            a->pidfd = a->in_fd = a->out_fd = -1;
            a->backoff_ms = AGENT_BACKOFF_MIN_MS;
            if (agent_set_node(a, &list[k]) < 0) {
                free(a);
                break;
            }
            a->dir = agent_dir(e, a->cfg->name);
            a->known_hosts = getenv("HOME") ? path_join(getenv("HOME"), ".ssh/known_hosts") : NULL;
            e->agents[e->n_agents++] = a;
        } else {
            if (!same_connection(a->cfg, &list[k].cfg)) {
                a->prepared = false;
                a->reconnect = a->pid > 0;
                a->retry_mono = 0;
                a->backoff_ms = AGENT_BACKOFF_MIN_MS;
            }
            if (agent_set_node(a, &list[k]) < 0)
                continue;
        }
        (void) agent_set_slots(e, a, a->cfg->executors);
        if (a->cfg->launcher != NODE_LAUNCHER_SSH)
            agent_unusable(e, a);
        else
            agent_report(e, a);
    }
    nodes_array_free(list, n);
    queue_look_again(e);
    return 0;
}

/* Kill sessions (agent_signal()) are reaped here; one that hangs is killed after a while. */
static void
reap_aux(struct engine *e)
{
    int64_t mono = mono_ms();

    for (size_t i = 0; i < e->n_aux;) {
        pid_t p = waitpid(e->aux[i].pid, NULL, WNOHANG);
        if (p == e->aux[i].pid || (p < 0 && errno == ECHILD)) {
            e->aux[i] = e->aux[--e->n_aux];
            continue;
        }
        if (mono >= e->aux[i].deadline_mono) {
            (void) spawn_signal_group(e->aux[i].pid, SIGKILL);
            e->aux[i].deadline_mono = mono + 1000;
        }
        i++;
    }
}

void
agents_tick(struct engine *e)
{
    int64_t mono = mono_ms();

    if (!e->opts.nodes)
        return;
    (void) agents_sync(e);
    reap_aux(e);
    for (size_t i = 0; i < e->n_agents;) {
        struct agent *a = e->agents[i];

        if (a->gone) {
            if (agents_busy(e, a) == 0 && a->pid == 0) {
                agent_free(e, a);
                e->agents[i] = e->agents[--e->n_agents];
                continue;
            }
            i++;
            continue;
        }
        if (a->reconnect && agents_busy(e, a) == 0) {
            a->reconnect = false;
            agent_kill_master(e, a);
            a->state = AGENT_OFFLINE;
            a->retry_mono = 0;
        }
        if (a->cfg->launcher != NODE_LAUNCHER_SSH) {
            i++;
            continue;
        }
        if (a->suspect_until_mono && mono >= a->suspect_until_mono) {
            a->suspect_until_mono = 0;
            queue_look_again(e);   /* it takes builds again */
        }
        if (a->state == AGENT_CONNECTING && mono >= a->deadline_mono) {
            agent_kill_master(e, a);
            agent_went_offline(e, a);
        } else if (a->state == AGENT_OFFLINE && a->pid == 0 && mono >= a->retry_mono)
            agent_connect(e, a);
        i++;
    }
}

int
agents_next_timeout(const struct engine *e)
{
    int64_t mono = mono_ms(), t = INT64_MAX;

    for (size_t i = 0; i < e->n_agents; i++) {
        const struct agent *a = e->agents[i];
        if (a->gone || a->cfg->launcher != NODE_LAUNCHER_SSH)
            continue;
        if (a->suspect_until_mono)
            t = MIN(t, a->suspect_until_mono - mono);
        if (a->state == AGENT_CONNECTING)
            t = MIN(t, a->deadline_mono - mono);
        else if (a->state == AGENT_OFFLINE && a->pid == 0)
            t = MIN(t, a->retry_mono - mono);
    }
    if (e->n_aux)
        t = MIN(t, 200);
    return t == INT64_MAX ? -1 : (int) MAX(0, MIN(t, 60000));
}

void
agents_stop(struct engine *e)
{
    int64_t deadline = mono_ms() + e->opts.stop_grace_ms + 5000;

    /* the stop's kill sessions (TERM, then KILL after the grace) finish first, bounded */
    while (e->n_aux && mono_ms() < deadline) {
        reap_aux(e);
        if (e->n_aux)
            (void) poll(NULL, 0, 20);
    }
    for (size_t i = 0; i < e->n_agents; i++)
        agent_kill_master(e, e->agents[i]);
    for (size_t i = 0; i < e->n_aux; i++) {
        (void) spawn_signal_group(e->aux[i].pid, SIGKILL);
        (void) waitpid(e->aux[i].pid, NULL, 0);
    }
    e->n_aux = 0;
}

void
agents_free(struct engine *e)
{
    for (size_t i = 0; i < e->n_agents; i++)
        agent_free(e, e->agents[i]);
    free(e->agents);
    e->agents = NULL;
    e->n_agents = 0;
    free(e->aux);
    e->aux = NULL;
}

/* ---- a build on a node ---- */

/*
 * The run's id on the node: its build cookie's hash, the same on every
 * try, so that a stop finds the step's process group by it.
 */
static char *
agent_run_id(const struct engine *e, const struct run *run)
{
    char cookie[64];

    build_cookie(e, run->job->name, run->number, cookie);
    return strndup(strchr(cookie, '=') + 1, 32);
}

bool
agents_run_remote(const struct run *run)
{
    return run->agent != NULL;
}

const char *
agents_run_node(const struct run *run)
{
    return run->agent ? run->agent->cfg->name : NULL;
}

const char *
agents_run_labels(const struct run *run)
{
    return run->agent ? run->agent->label_string : NULL;
}

/*
 * The parts of a job that do not run on a node yet: a build with one
 * fails, saying so. (The Git checkout runs there: agents_spawn() sends
 * its credentials, agents_fetch_report() brings its report back.)
 */
const char *
agents_refuses(const struct run *run)
{
    const struct job_config *c = run->cfg;

    if (c->pre_cleanup || c->post_cleanup)
        return "Workspace Cleanup";
    /* a bound secret text or username and password is a variable; a file is not there yet */
    for (size_t i = 0; i < c->n_bindings; i++)
        if (c->bindings[i].kind == BINDING_FILE || c->bindings[i].kind == BINDING_SSH_KEY)
            return "Credentials Binding of a secret file or an SSH key";
    for (size_t i = 0; i < run->row.n_params; i++)
        if (run->row.params[i].type == PARAM_FILE)
            return "file parameters";
    return NULL;
}

/*
 * The build's workspace on the node: REMOTE_ROOT/workspace/NAME, or
 * NAME@2, @3... while another build of the job on that node uses it.
 */
int
agents_assign_workspace(struct engine *e, struct run *run)
{
    const char *root = run->agent->cfg->remote_fs;

    /* the root as the build began: a change of the node's remoteFS applies to later builds */
    if (!run->remote_root) {
        run->remote_root = strdup(root);
        if (!run->remote_root)
            return -ENOMEM;
    }
    root = run->remote_root;

    for (int n = 1; n < 1000; n++) {
        _cleanup_free_ char *name = n == 1 ? strdup(run->job->name)
                                           : strdup_printf("%s@%d", run->job->name, n);
        _cleanup_free_ char *path = NULL;
        bool used = false;

        if (!name)
            return -ENOMEM;
        path = strdup_printf("%s/workspace/%s", root, name);
        if (!path)
            return -ENOMEM;
        for (int i = 0; i < e->n_slots && !used; i++)
            used = e->runs[i] && e->runs[i] != run && e->runs[i]->agent == run->agent &&
                   e->runs[i]->workspace && streq(e->runs[i]->workspace, path);
        if (used)
            continue;
        run->remote_ws_name = TAKE_PTR(name);
        run->workspace = TAKE_PTR(path);
        run->tmpdir = strdup_printf("%s@tmp", run->workspace);
        return run->tmpdir ? 0 : -ENOMEM;
    }
    return -EBUSY;
}

static void
free_private_files(struct ssh_file *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *) f[i].name);
        if (f[i].data)
            secret_wipe((char *) f[i].data, f[i].len);
        free((char *) f[i].data);
    }
    free(f);
}

/* The regular files of `dir` (a step's credentials, core/git_creds.c), for ssh_build_payload(). */
static int
load_private_files(const char *dir, struct ssh_file **ret, size_t *ret_n)
{
    DIR *d = opendir(dir);
    struct ssh_file *v = NULL;
    size_t n = 0;
    struct dirent *de;
    int r = 0;

    if (!d)
        return -errno;
    while (r >= 0 && (de = readdir(d))) {
        _cleanup_free_ char *path = NULL;
        struct ssh_file *nv;
        struct stat st;
        char *data = NULL;
        size_t len = 0;

        if (de->d_name[0] == '.')
            continue;
        path = path_join(dir, de->d_name);
        if (!path) {
            r = -ENOMEM;
            break;
        }
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (n >= 16) {
            r = -E2BIG;
            break;
        }
        r = fs_read_all(path, BOUND_SSH_ENV_BYTES, &data, &len);
        if (r < 0)
            break;
        nv = realloc(v, (n + 1) * sizeof *v);
        if (!nv) {
            secret_wipe(data, len);
            free(data);
            r = -ENOMEM;
            break;
        }
        v = nv;
        v[n] = (struct ssh_file){ .name = strdup(de->d_name), .data = data, .len = len,
                                  .exec = (st.st_mode & 0100) != 0 };
        if (!v[n++].name)
            r = -ENOMEM;
    }
    closedir(d);
    if (r < 0) {
        free_private_files(v, n);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/*
 * Starts `script` on the node: an ssh session over the node's master,
 * with the program (environment and script) on its standard input.
 */
int
agents_spawn(struct engine *e, struct run *run, const char *script, char **env, bool shell_step)
{
    struct agent *a = run->agent;
    _cleanup_(ssh_argv_freep) char **argv = NULL;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = run };
    _cleanup_free_ char *why = NULL, *run_id = NULL;
    struct ssh_file *files = NULL;
    size_t n_files = 0;
    _cleanup_free_ char **node_env = NULL;
    size_t n_env = 0;
    struct ssh_run sr;
    struct spawn_req req;
    int fd = -1, r;

    if (a->state != AGENT_ONLINE)
        return -ENOTCONN;
    run_id = agent_run_id(e, run);
    /*
     * The build's environment but its cookie: that finds what a build left
     * running on this machine (spawn_kill_by_env()); on a node the run id
     * does (ssh_kill_payload()).
     */
    node_env = calloc(env_count(env) + 1, sizeof *node_env);
    if (!run_id || !node_env)
        return -ENOMEM;
    for (size_t i = 0; env[i]; i++)
        if (!startswith(env[i], "STEWARD_BUILD_COOKIE="))
            node_env[n_env++] = env[i];
    sr = (struct ssh_run){
        .root = run->remote_root,
        .workspace = run->remote_ws_name,
        .run_id = run_id,
        .env = node_env,
        .n_env = n_env,
        .script = script,
        .shell = shell_step,
        .bwrap = a->probe.bwrap,
    };
    /* the checkout's credentials (run->cred_dir) go with its step, into its private directory */
    if (run->checking_out && run->cred_dir) {
        r = load_private_files(run->cred_dir, &files, &n_files);
        if (r < 0) {
            run_log(run->logfd, "ERROR: the Git credentials cannot be sent to node '%s': %s\n",
                    a->cfg->name, strerror(-r));
            return r;
        }
        sr.files = files;
        sr.n_files = n_files;
    }
    r = ssh_build_payload(&sr, &fd, &why);
    free_private_files(files, n_files);
    if (r < 0) {
        run_log(run->logfd, "ERROR: the step cannot be sent to node '%s': %s\n", a->cfg->name,
                why ? why : strerror(-r));
        return r;
    }
    argv = ssh_session_argv(a->dir, &a->target);
    if (!argv) {
        close(fd);
        return -ENOMEM;
    }
    if (shell_step)
        run_log(run->logfd, "[%s] $ /bin/sh -xe %s/steward%lld-%zu.sh\n", run->job->name,
                run->tmpdir, (long long) run->number, run->step);
    req = (struct spawn_req){ .path = argv[0], .argv = argv, .envp = a->ssh_env,
                              .cwd = a->dir, .in_fd = fd, .out_fd = run->out_fd };
    r = spawn_start(&req, &run->pid, &run->pidfd);
    close(fd);
    if (r < 0)
        return r;
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, run->pidfd, &ev) < 0)
        return -errno;
    return 0;
}

/*
 * Sends `sig` to the step's whole process group on the node, through a
 * session of its own (the step's own session only carries its output).
 */
void
agents_signal(struct engine *e, struct run *run, int sig)
{
    struct agent *a = run->agent;
    _cleanup_free_ char *run_id = NULL;

    if (!a || a->state != AGENT_ONLINE)
        return;
    run_id = agent_run_id(e, run);
    /* TERM, then KILL after the grace the engine gives a local build */
    if (run_id && run->remote_root)
        agent_send_kill(e, a, run->remote_root, run_id,
                        sig == SIGKILL ? 0 : (unsigned) (e->opts.stop_grace_ms / 1000), run->logfd);
}

/* Why a build that lost its session failed: the node's reason when it has one. */
const char *
agents_lost_reason(const struct run *run)
{
    const struct agent *a = run->agent;

    return a && a->state != AGENT_ONLINE && a->reason ? a->reason : NULL;
}

void
agents_connection_lost(struct engine *e, struct run *run)
{
    struct agent *a = run->agent;

    if (!a)
        return;
    /* its step may live on there: stopped once the node answers again (agents_event()) */
    if (a->n_lost < AGENT_LOST_MAX && run->remote_root) {
        char *id = agent_run_id(e, run), *root = strdup(run->remote_root);
        if (id && root) {
            a->lost[a->n_lost] = id;
            a->lost_root[a->n_lost++] = root;
        } else {
            free(id);
            free(root);
        }
    }
    /* until the master has seen whether its connection lives (ssh's keep-alive), no new build */
    a->suspect_until_mono = mono_ms() + (e->opts.node_alive_interval_s * 3 + 2) * 1000LL;
    /* the master may end a moment after its sessions: make sure the node is seen as offline */
    if (a->state == AGENT_ONLINE && a->pid > 0 && !a->gone) {
        if (waitpid(a->pid, NULL, WNOHANG) == a->pid) {
            a->pid = 0;
            agent_read(a);
            agent_close_master(e, a);
            agent_went_offline(e, a);
        }
    }
}

/* ---- the workspace back, for the publishers ---- */

/*
 * A session's program of one command on one path of the node, `before`
 * 'PATH' `after`, in a memfd rewound for its stdin (*ret_fd).
 */
static int
path_program(const char *before, const char *path, const char *after, int *ret_fd)
{
    _cleanup_(buf_releasep) struct buf prog = BUF_INIT(BOUND_SSH_PATH_BYTES * 5 + 4096);
    int fd, r;

    r = buf_puts(&prog, before);
    if (r >= 0)
        r = ssh_quote(&prog, path, strlen(path));
    if (r >= 0)
        r = buf_printf(&prog, "%s\n", after);
    if (r < 0)
        return r;
    fd = memfd_create("steward-program", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    r = fs_write_all(fd, prog.ptr, prog.len);
    if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
        r = -errno;
    if (r < 0) {
        close(fd);
        return r;
    }
    *ret_fd = fd;
    return 0;
}

/*
 * The fetch: a local `sh` that pipes an ssh session (whose program tars
 * the node's workspace, .git left out) through `head -c` (the bound: a
 * longer archive arrives cut, and tar says so) into `tar -x` in the
 * build's directory. GNU tar takes no absolute path and no `..` from an
 * archive, and makes its links only once every file is out, so no member
 * is written through one. The publishers then read that copy as they
 * read a local workspace.
 */
int
agents_fetch(struct engine *e, struct run *run)
{
    static const char pipeline[] =
        "\"$@\" | head -c \"$STEWARD_FETCH_MAX\" | "
        "tar -x --no-same-owner --no-same-permissions -C \"$STEWARD_MIRROR\" -f -";
    struct agent *a = run->agent;
    _cleanup_(ssh_argv_freep) char **ssh = NULL;
    _cleanup_free_ char *dir = NULL, *max = NULL, *mirror_env = NULL;
    _cleanup_free_ char **argv = NULL, **envp = NULL;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = run };
    struct spawn_req req;
    size_t n_ssh = 0, n_env = 0;
    int fd = -1, r;

    if (a->state != AGENT_ONLINE) {
        run_log(run->logfd, "ERROR: node '%s' is offline: the workspace cannot be fetched "
                "for the publishers; nothing is archived\n", a->cfg->name);
        return -ENOTCONN;
    }
    dir = home_build_dir(e->home, run->job->name, run->number);
    run->mirror = dir ? path_join(dir, "node-workspace") : NULL;
    if (!run->mirror)
        return -ENOMEM;
    (void) fs_rm_rf(run->mirror);
    if (mkdir(run->mirror, 0700) < 0)
        return -errno;
    /* the remote program: the workspace as tar on stdout */
    r = path_program("cd -- ", run->workspace, " && exec tar -cf - --exclude=./.git .", &fd);
    if (r < 0)
        return r;
    ssh = ssh_session_argv(a->dir, &a->target);
    for (n_ssh = 0; ssh && ssh[n_ssh]; n_ssh++)
        ;
    for (n_env = 0; a->ssh_env && a->ssh_env[n_env]; n_env++)
        ;
    argv = calloc(n_ssh + 5, sizeof *argv);
    envp = calloc(n_env + 3, sizeof *envp);
    max = strdup_printf("STEWARD_FETCH_MAX=%lld", (long long) BOUND_NODE_FETCH_BYTES);
    mirror_env = strdup_printf("STEWARD_MIRROR=%s", run->mirror);
    if (r >= 0 && (!ssh || !argv || !envp || !max || !mirror_env))
        r = -ENOMEM;
    if (r < 0) {
        close(fd);
        return r;
    }
    argv[0] = (char *) "/bin/sh";
    argv[1] = (char *) "-c";
    argv[2] = (char *) pipeline;
    argv[3] = (char *) "steward-fetch";
    memcpy(argv + 4, ssh, n_ssh * sizeof *argv);
    memcpy(envp, a->ssh_env, n_env * sizeof *envp);
    envp[n_env] = max;
    envp[n_env + 1] = mirror_env;
    run_log(run->logfd, "Fetching the workspace back from node '%s' for the publishers\n",
            a->cfg->name);
    req = (struct spawn_req){ .path = argv[0], .argv = argv, .envp = envp, .cwd = a->dir,
                              .in_fd = fd, .out_fd = run->logfd };
    r = spawn_start(&req, &run->pid, &run->pidfd);
    close(fd);
    if (r < 0)
        return r;
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, run->pidfd, &ev) < 0)
        return -errno;
    run->kill_at_mono = 0;
    return 0;
}

void
agents_fetch_done(struct engine *e, struct run *run, int status)
{
    (void) e;
    if (run->aborting) {
        run->fetch_failed = true;
        return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        run_log(run->logfd, "ERROR: the workspace could not be fetched back from node '%s' "
                "(lost, or larger than %lld MiB as tar); nothing is archived, no test is "
                "recorded, and the build fails\n", run->agent->cfg->name,
                (long long) (BOUND_NODE_FETCH_BYTES >> 20));
        run->fetch_failed = true;
        run->result = "FAILURE";
        return;
    }
    free(run->workspace);
    run->workspace = strdup(run->mirror);
    if (!run->workspace) {
        run->fetch_failed = true;
        run->result = "FAILURE";
    }
}

/* A kill session for `run_id` under `root` on node `a`, reaped by agents_tick(). */
static void
agent_send_kill(struct engine *e, struct agent *a, const char *root, const char *run_id,
                unsigned grace_s, int out_fd)
{
    _cleanup_(ssh_argv_freep) char **argv = NULL;
    _cleanup_free_ char *why = NULL;
    struct spawn_req req;
    pid_t pid;
    int pidfd, fd = -1;

    if (e->n_aux >= AGENT_AUX_MAX || ssh_kill_payload(root, run_id, grace_s, &fd, &why) < 0)
        return;
    argv = ssh_session_argv(a->dir, &a->target);
    if (!argv || (!e->aux && !(e->aux = calloc(AGENT_AUX_MAX, sizeof *e->aux)))) {
        close(fd);
        return;
    }
    req = (struct spawn_req){ .path = argv[0], .argv = argv, .envp = a->ssh_env, .cwd = a->dir,
                              .in_fd = fd, .out_fd = out_fd };
    if (spawn_start(&req, &pid, &pidfd) == 0) {
        close(pidfd);
        e->aux[e->n_aux++] = (struct aux_proc){ .pid = pid,
                                                .deadline_mono = mono_ms() + AGENT_KILL_DEADLINE_MS };
    }
    close(fd);
}

/* The steps of builds that lost their session to this node: stopped now that it answers. */
static void
agent_stop_lost(struct engine *e, struct agent *a)
{
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

    for (size_t i = 0; i < a->n_lost; i++) {
        if (devnull >= 0)
            agent_send_kill(e, a, a->lost_root[i], a->lost[i], 0, devnull);
        free(a->lost[i]);
        free(a->lost_root[i]);
    }
    a->n_lost = 0;
    if (devnull >= 0)
        close(devnull);
}

const char *
agents_checkout_refused(const struct run *run)
{
    const struct agent *a = run->agent;

    if (a && !a->probe.git)
        return "the node has no git: install it there, or build the job on another node";
    return NULL;
}

char *
agents_private_dir(const struct engine *e, const struct run *run)
{
    _cleanup_free_ char *id = agent_run_id(e, run);

    return id && run->remote_root ? ssh_private_dir(run->remote_root, id) : NULL;
}

/*
 * The checkout wrote its report (what it checked out) into the node's
 * @tmp: a session prints it into a file of the build's directory, which
 * checkout_done() then reads as it reads a local one (git_report_take():
 * a plain file of bounded size).
 */
int
agents_fetch_report(struct engine *e, struct run *run)
{
    struct agent *a = run->agent;
    _cleanup_(ssh_argv_freep) char **argv = NULL;
    _cleanup_free_ char *dir = NULL, *remote = NULL;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = run };
    struct spawn_req req;
    int fd = -1, out = -1, r;

    if (a->state != AGENT_ONLINE)
        return -ENOTCONN;
    dir = home_build_dir(e->home, run->job->name, run->number);
    remote = path_join(run->tmpdir, "steward-git-report");
    run->git_report_local = dir ? path_join(dir, "git-report.node") : NULL;
    if (!remote || !run->git_report_local)
        return -ENOMEM;
    r = path_program("exec cat -- ", remote, "", &fd);
    if (r < 0)
        return r;
    out = open(run->git_report_local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    argv = ssh_session_argv(a->dir, &a->target);
    if (r >= 0 && !argv)
        r = -ENOMEM;
    if (r >= 0) {
        req = (struct spawn_req){ .path = argv[0], .argv = argv, .envp = a->ssh_env,
                                  .cwd = a->dir, .in_fd = fd, .out_fd = out };
        r = spawn_start(&req, &run->pid, &run->pidfd);
    }
    if (fd >= 0)
        close(fd);
    close(out);
    if (r < 0)
        return r;
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, run->pidfd, &ev) < 0)
        return -errno;
    return 0;
}
