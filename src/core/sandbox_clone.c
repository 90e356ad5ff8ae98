/* SPDX-License-Identifier: MIT */
/*
 * A build step's sandbox, set up by the step's own process between its
 * clone() and its exec.
 *
 * The clone shares the server's memory and blocks only the calling thread
 * until the exec (CLONE_VM | CLONE_VFORK, as posix_spawn does), so its cost
 * does not grow with the server; it makes the step's mount, PID, IPC and
 * UTS namespaces (and network, user) at once. The child then runs the plan
 * the server made beforehand: every string is ready, nothing is allocated,
 * no lock is taken, only system calls are made.
 *
 *   1. A recursive copy of the whole mount tree ("/"), made read-only,
 *      nosuid and nodev in one call (open_tree, mount_setattr); a copy of
 *      each directory to mount back read-write, taken before anything is
 *      mounted over its path.
 *   2. That tree is attached at SANDBOX_ROOT, under a tmpfs over /tmp that
 *      only this mount namespace sees, and the plan mounts into it: a /dev
 *      of its own (tmpfs, the harmless devices bound in, devpts, shm), /proc
 *      of the new PID namespace, an empty /tmp, an empty tmpfs over the
 *      home, then the workspace, its @tmp and the --build-bind directories
 *      back, read-write, and the step's script written into its /tmp.
 *   3. Its mounts made private (nothing the machine mounts later reaches
 *      in), pivot_root into it, and the old root detached: nothing else of
 *      the machine's mounts is reachable.
 *   4. The loopback up when the step has a network of its own; then the
 *      user: no capability bounding set, no ambient or inheritable
 *      capability, no supplementary group, the build user's ids (a server
 *      that is root), no_new_privs; the parent-death signal (SIGKILL),
 *      which a change of ids clears, set after it.
 *   5. The descriptors, the signal mask, the exec. (The signals whose
 *      disposition the server changed are back to the default first.)
 *
 * The process is the init of its PID namespace: when it exits, the kernel
 * kills everything left in the namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/mount.h>

#include "core/sandbox_int.h"
#include "util/macro.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define CHILD_STACK_UNPOISON(stack) __asan_unpoison_memory_region((stack), CHILD_STACK)
#else
#define CHILD_STACK_UNPOISON(stack) ((void) (stack))
#endif

/* Where the step's root is put together, in its own mount namespace. */
#define SANDBOX_ROOT "/tmp/.steward-root"
/* directories a plan mounts back: the workspace, its @tmp, --build-bind's, the private one */
#define MAX_TREES 16
#define CHILD_STACK (128 * 1024)

enum op_kind {
    OP_TMPFS,     /* path, mode */
    OP_MKDIR,     /* path, mode; one that is there is fine */
    OP_DEVICE,    /* path: an empty file, the host's `src` bound over it */
    OP_SYMLINK,   /* path -> src */
    OP_DEVPTS,    /* path */
    OP_PROC,      /* path */
    OP_TREE,      /* path: trees[tree] attached there */
    OP_SCRIPT,    /* path: the script, mode */
};

struct op {
    enum op_kind kind;
    const char *path;
    const char *src;
    unsigned mode;
    unsigned long flags;
    int tree;
};

struct sandbox_plan {
    struct op *ops;
    size_t n_ops, cap_ops;
    char **strings;          /* owned: every path of ops and trees */
    size_t n_strings, cap_strings;
    const char *trees[MAX_TREES];   /* directories mounted back, in the server's view */
    size_t n_trees;
    const char *tmp_bases[2];       /* its tmpfs so far, in the step's view (while it is made) */
    size_t n_bases;
    const char *script;
    size_t script_len;
    const char *cwd;
    bool no_network, switch_user;
    uid_t uid;
    gid_t gid;
    char uid_map[48], gid_map[48];
    int r;                   /* the first failure while making the plan */
};

/* --- making the plan (the server's side: may allocate) --- */

static const char *
keep(struct sandbox_plan *p, char *s)
{
    if (!s || p->r < 0) {
        free(s);
        p->r = p->r < 0 ? p->r : -ENOMEM;
        return NULL;
    }
    if (p->n_strings == p->cap_strings) {
        size_t cap = p->cap_strings ? 2 * p->cap_strings : 32;
        char **n = reallocarray(p->strings, cap, sizeof *n);
        if (!n) {
            free(s);
            p->r = -ENOMEM;
            return NULL;
        }
        p->strings = n;
        p->cap_strings = cap;
    }
    return p->strings[p->n_strings++] = s;
}

/* `path` (absolute) where the step's root is put together */
static const char *
at_root(struct sandbox_plan *p, const char *path)
{
    char *s = NULL;

    if (asprintf(&s, "%s%s", SANDBOX_ROOT, streq(path, "/") ? "" : path) < 0)
        s = NULL;
    else if (strlen(s) >= PATH_MAX) {
        free(s);
        p->r = p->r < 0 ? p->r : -ENAMETOOLONG;
        return NULL;
    }
    return keep(p, s);
}

static void
add(struct sandbox_plan *p, enum op_kind kind, const char *path, const char *src, unsigned mode,
    unsigned long flags, int tree)
{
    if (p->r < 0)
        return;
    if (!path) {
        p->r = -ENOMEM;
        return;
    }
    if (p->n_ops == p->cap_ops) {
        size_t cap = p->cap_ops ? 2 * p->cap_ops : 64;
        struct op *n = reallocarray(p->ops, cap, sizeof *n);
        if (!n) {
            p->r = -ENOMEM;
            return;
        }
        p->ops = n;
        p->cap_ops = cap;
    }
    p->ops[p->n_ops++] = (struct op){ kind, path, src, mode, flags, tree };
}

bool
sandbox_path_within(const char *child, const char *parent)
{
    size_t n = strlen(parent);

    if (streq(parent, "/"))
        return true;
    return strncmp(child, parent, n) == 0 && (child[n] == '\0' || child[n] == '/');
}

/*
 * Makes the directories leading to `path`, and `path` itself, when it is
 * inside one of the plan's own tmpfs (where nothing is there yet), open
 * to all, so that the build user can reach `path` by its name.
 */
static void
add_dirs(struct sandbox_plan *p, const char *path)
{
    const char *base = NULL;

    for (size_t i = 0; i < p->n_bases; i++)
        if (sandbox_path_within(path, p->tmp_bases[i]) && !streq(path, p->tmp_bases[i]) &&
            (!base || strlen(p->tmp_bases[i]) > strlen(base)))
            base = p->tmp_bases[i];
    if (!base)
        return;
    for (const char *s = path + strlen(base) + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char *d = strndup(path, (size_t) (s - path));
            add(p, OP_MKDIR, d ? at_root(p, d) : NULL, NULL, 0755, 0, -1);
            free(d);
        }
        if (*s == '\0')
            break;
    }
}

static void
add_tmpfs(struct sandbox_plan *p, const char *path, unsigned mode, unsigned long flags)
{
    add_dirs(p, path);
    add(p, OP_TMPFS, at_root(p, path), NULL, mode, flags, -1);
    if (p->n_bases < ELEMENTSOF(p->tmp_bases))
        p->tmp_bases[p->n_bases++] = path;
}

/* `dir` of the server's view mounted back, read-write, at `at`; once */
static void
add_tree(struct sandbox_plan *p, const char *dir, const char *at)
{
    const char *target = at_root(p, at);

    for (size_t i = 0; i < p->n_ops && target; i++)
        if (p->ops[i].kind == OP_TREE && streq(p->ops[i].path, target) &&
            streq(p->trees[p->ops[i].tree], dir))
            return;
    if (p->n_trees == MAX_TREES) {
        p->r = p->r < 0 ? p->r : -E2BIG;
        return;
    }
    p->trees[p->n_trees] = keep(p, strdup(dir));
    add_dirs(p, at);
    add(p, OP_TREE, target, NULL, 0, 0, (int) p->n_trees++);
}

int
sandbox_plan_new(const struct sandbox_plan_args *a, struct sandbox_plan **ret)
{
    static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
    static const char *const links[][2] = {
        { "pts/ptmx", "/dev/ptmx" },         { "/proc/self/fd", "/dev/fd" },
        { "/proc/self/fd/0", "/dev/stdin" }, { "/proc/self/fd/1", "/dev/stdout" },
        { "/proc/self/fd/2", "/dev/stderr" },
    };
    struct sandbox_plan *p = calloc(1, sizeof *p);
    char path[32];

    if (!p)
        return -ENOMEM;
    add(p, OP_TMPFS, at_root(p, "/dev"), NULL, 0755, MS_NOSUID, -1);
    for (size_t i = 0; i < ELEMENTSOF(devices); i++) {
        snprintf(path, sizeof path, "/dev/%s", devices[i]);
        add(p, OP_DEVICE, at_root(p, path), keep(p, strdup(path)), 0, 0, -1);
    }
    add(p, OP_MKDIR, at_root(p, "/dev/shm"), NULL, 0755, 0, -1);
    add(p, OP_TMPFS, at_root(p, "/dev/shm"), NULL, 01777, MS_NOSUID | MS_NODEV, -1);
    add(p, OP_MKDIR, at_root(p, "/dev/pts"), NULL, 0755, 0, -1);
    add(p, OP_DEVPTS, at_root(p, "/dev/pts"), NULL, 0, 0, -1);
    for (size_t i = 0; i < ELEMENTSOF(links); i++)
        add(p, OP_SYMLINK, at_root(p, links[i][1]), links[i][0], 0, 0, -1);
    add(p, OP_PROC, at_root(p, "/proc"), NULL, 0, 0, -1);
    add_tmpfs(p, "/tmp", 01777, MS_NOSUID | MS_NODEV);
    if (!streq(a->home, "/tmp"))
        add_tmpfs(p, a->home, 0755, MS_NOSUID | MS_NODEV);
    for (size_t i = 0; i < a->n_binds; i++)
        add_tree(p, a->binds[i], a->binds[i]);
    if (a->private_dir)
        add_tree(p, a->private_dir, a->private_at);
    add(p, OP_SCRIPT, at_root(p, a->script_path), NULL, 0755, 0, -1);

    p->script = keep(p, strdup(a->script));
    p->script_len = p->script ? strlen(p->script) : 0;
    p->cwd = keep(p, strdup(a->cwd));
    p->no_network = a->no_network;
    p->switch_user = a->switch_user;
    p->uid = a->uid;
    p->gid = a->gid;
    snprintf(p->uid_map, sizeof p->uid_map, "%u %u 1\n", (unsigned) a->uid, (unsigned) a->uid);
    snprintf(p->gid_map, sizeof p->gid_map, "%u %u 1\n", (unsigned) a->gid, (unsigned) a->gid);
    if (p->r < 0) {
        int r = p->r;
        sandbox_plan_free(p);
        return r;
    }
    *ret = p;
    return 0;
}

struct sandbox_plan *
sandbox_plan_free(struct sandbox_plan *p)
{
    if (!p)
        return NULL;
    for (size_t i = 0; i < p->n_strings; i++)
        free(p->strings[i]);
    free(p->strings);
    free(p->ops);
    free(p);
    return NULL;
}

/* --- carrying it out (the step's side, until its exec: system calls only) --- */

struct child {
    const struct sandbox_plan *plan;
    char *const *argv;
    const struct spawn_req *req;
    int err_fd;                   /* where a failure is said */
    int trees[MAX_TREES];         /* the copies to mount back */
};

static void
say(int fd, const char *s)
{
    size_t n = strlen(s);

    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t) w;
    }
}

/* Says in the step's output what failed, and ends the step as a failed exec would. */
static void fail(const struct child *c, const char *what, const char *path, int err)
    __attribute__((noreturn));

static void
fail(const struct child *c, const char *what, const char *path, int err)
{
    int fd = c->err_fd;
    const char *desc = strerrordesc_np(err);

    say(fd, SANDBOX_FAILED);
    say(fd, what);
    if (path) {
        say(fd, " ");
        say(fd, strncmp(path, SANDBOX_ROOT "/", strlen(SANDBOX_ROOT "/")) == 0
                    ? path + strlen(SANDBOX_ROOT) : path);
    }
    say(fd, ": ");
    say(fd, desc ? desc : "unknown error");
    say(fd, "\n");
    _exit(127);
}

static int
write_file(const char *path, const char *s, size_t n, int flags, mode_t mode)
{
    int fd = open(path, flags | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode), r = 0;

    if (fd < 0)
        return -1;
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            r = -1;
            break;
        }
        s += w;
        n -= (size_t) w;
    }
    if (r < 0) {
        int e = errno ? errno : EIO;
        close(fd);
        errno = e;
        return -1;
    }
    return close(fd);
}

static void
run_op(const struct child *c, const struct op *o)
{
    int fd;

    switch (o->kind) {
    case OP_TMPFS: {
        char opts[32] = "mode=0";
        /* the mode in octal, by hand: no snprintf here */
        char *q = opts + strlen(opts) - 1;
        for (int shift = 9; shift >= 0; shift -= 3)
            *++q = (char) ('0' + ((o->mode >> shift) & 7));
        q[1] = '\0';
        if (mount("tmpfs", o->path, "tmpfs", o->flags, opts) < 0)
            fail(c, "cannot mount a tmpfs at", o->path, errno);
        break;
    }
    case OP_MKDIR:
        if (mkdir(o->path, o->mode) < 0 && errno != EEXIST)
            fail(c, "cannot make the directory", o->path, errno);
        break;
    case OP_DEVICE:
        fd = open(o->path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0)
            fail(c, "cannot make", o->path, errno);
        close(fd);
        if (mount(o->src, o->path, NULL, MS_BIND, NULL) < 0)
            fail(c, "cannot mount the device", o->src, errno);
        break;
    case OP_SYMLINK:
        if (symlink(o->src, o->path) < 0)
            fail(c, "cannot make the link", o->path, errno);
        break;
    case OP_DEVPTS:
        if (mount("devpts", o->path, "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=620") < 0)
            fail(c, "cannot mount devpts at", o->path, errno);
        break;
    case OP_PROC:
        if (mount("proc", o->path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            fail(c, "cannot mount /proc at", o->path, errno);
        break;
    case OP_TREE:
        if (syscall(SYS_move_mount, c->trees[o->tree], "", AT_FDCWD, o->path,
                    MOVE_MOUNT_F_EMPTY_PATH) < 0)
            fail(c, "cannot mount", c->plan->trees[o->tree], errno);
        break;
    case OP_SCRIPT:
        if (write_file(o->path, c->plan->script, c->plan->script_len, O_CREAT | O_EXCL,
                       o->mode) < 0)
            fail(c, "cannot write the step's script", o->path, errno);
        break;
    }
}

/* The loopback of a network namespace of its own, up. */
static int
loopback_up(void)
{
    struct ifreq ifr = { .ifr_name = "lo" };
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

    if (fd < 0)
        return -1;
    r = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (r >= 0) {
        ifr.ifr_flags |= IFF_UP;
        r = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    close(fd);
    return r;
}

/* Every capability gone, for good; then, as root, the build user. */
static void
drop_privileges(const struct child *c)
{
    const struct sandbox_plan *p = c->plan;
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct d[2] = {};

    /* capabilities are numbered from 0 up to the kernel's last, which EINVAL marks */
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL && cap > 0)
                break;
            fail(c, "cannot drop a capability from the bounding set", NULL, errno);
        }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        fail(c, "cannot clear the ambient capabilities", NULL, errno);
    /*
     * The system calls themselves: glibc's wrappers would, in a process it
     * believes has threads (the server's, whose memory this is), take its
     * locks and ask every one of those threads to change its ids too.
     */
    if (p->switch_user) {
        if (syscall(SYS_setgroups, 0, NULL) < 0)
            fail(c, "cannot drop the supplementary groups", NULL, errno);
        if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
            fail(c, "cannot change to the build user's group", NULL, errno);
        if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
            fail(c, "cannot change to the build user", NULL, errno);
    }
    if (syscall(SYS_capset, &h, d) < 0)
        fail(c, "cannot drop the capabilities", NULL, errno);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(c, "cannot set no_new_privs", NULL, errno);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        fail(c, "cannot set the parent-death signal", NULL, errno);
}

/*
 * The signals whose disposition is not the default, read once at the
 * first step: those ignored when the server was started (a nohup, a
 * supervisor, or glibc's posix_spawn, which leaves its own two internal
 * signals ignored in what it starts), SIGPIPE, which the server ignores,
 * and a sanitizer's handlers. The server sets them in main() before any
 * thread starts and never again; the signals it waits for are blocked and
 * taken by sigwait(), not handled. A step's child resets just these to the
 * default instead of all 64 (a system call each, on the way to every
 * step). What it must reset is what would outlive its exec (an ignored
 * signal) and any handler a signal could run in it, in the server's
 * memory, between its unblocking and the exec.
 *
 * The system call itself, in the kernel's generic layout (x86-64, arm64):
 * glibc's sigaction() refuses the two signals it keeps for itself (32 and
 * 33), and left ignored they would reach the step. Only the handler is
 * read; a reset writes zeros (SIG_DFL, no flags, no mask).
 */
struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};
_Static_assert(_NSIG / 8 == sizeof(uint64_t), "the kernel's signal set is 64 bits here");

static int changed_signals[NSIG];
static size_t n_changed_signals;
static pthread_once_t signals_once = PTHREAD_ONCE_INIT;

static void
find_changed_signals(void)
{
    for (int sig = 1; sig <= 64; sig++) {
        struct kernel_sigaction sa = {};

        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (syscall(SYS_rt_sigaction, sig, NULL, &sa, sizeof sa.mask) < 0 ||
            sa.handler == (void *) SIG_DFL)
            continue;
        changed_signals[n_changed_signals++] = sig;
    }
}

static int
child_main(void *userdata)
{
    struct child *c = userdata;
    const struct sandbox_plan *p = c->plan;
    const struct kernel_sigaction dfl = {};
    mode_t mask = umask(0);
    sigset_t none;
    int tree, fd;

    for (size_t i = 0; i < n_changed_signals; i++)
        (void) syscall(SYS_rt_sigaction, changed_signals[i], &dfl, NULL, sizeof dfl.mask);
    if (setsid() < 0)
        fail(c, "cannot start a session", NULL, errno);
    if (!p->switch_user) {
        if (write_file("/proc/self/setgroups", "deny", 4, 0, 0) < 0)
            fail(c, "cannot write", "/proc/self/setgroups", errno);
        if (write_file("/proc/self/uid_map", p->uid_map, strlen(p->uid_map), 0, 0) < 0)
            fail(c, "cannot write", "/proc/self/uid_map", errno);
        if (write_file("/proc/self/gid_map", p->gid_map, strlen(p->gid_map), 0, 0) < 0)
            fail(c, "cannot write", "/proc/self/gid_map", errno);
    }

    /* 1: nothing mounted here reaches the machine's namespace; the copies */
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        fail(c, "cannot make the mounts private", NULL, errno);
    tree = (int) syscall(SYS_open_tree, AT_FDCWD, "/",
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (tree < 0)
        fail(c, "cannot copy the mount tree", "/", errno);
    struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                         MOUNT_ATTR_NODEV };
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof ro) < 0)
        fail(c, "cannot make the system read-only", NULL, errno);
    for (size_t i = 0; i < p->n_trees; i++) {
        c->trees[i] = (int) syscall(SYS_open_tree, AT_FDCWD, p->trees[i],
                                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (c->trees[i] < 0)
            fail(c, "cannot mount", p->trees[i], errno);
    }

    /* 2: the new root, put together */
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
        fail(c, "cannot mount a tmpfs at", "/tmp", errno);
    if (mkdir(SANDBOX_ROOT, 0755) < 0)
        fail(c, "cannot make the directory", SANDBOX_ROOT, errno);
    if (syscall(SYS_move_mount, tree, "", AT_FDCWD, SANDBOX_ROOT, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        fail(c, "cannot mount the system at", SANDBOX_ROOT, errno);
    for (size_t i = 0; i < p->n_ops; i++)
        run_op(c, &p->ops[i]);
    /* what the machine mounts from now on does not reach in, read-write */
    if (mount(NULL, SANDBOX_ROOT, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        fail(c, "cannot make the mounts private", NULL, errno);

    /* 3: into it; the machine's root gone */
    if (chdir(SANDBOX_ROOT) < 0)
        fail(c, "cannot enter", SANDBOX_ROOT, errno);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        fail(c, "cannot pivot_root into", SANDBOX_ROOT, errno);
    if (umount2(".", MNT_DETACH) < 0)
        fail(c, "cannot detach the old root", NULL, errno);
    if (chdir(p->cwd) < 0)
        fail(c, "cannot enter", p->cwd, errno);

    /* 4 */
    if (p->no_network && loopback_up() < 0)
        fail(c, "cannot bring up the loopback", NULL, errno);
    drop_privileges(c);

    /* 5 */
    fd = c->req->in_fd > 0 ? c->req->in_fd : open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail(c, "cannot open", "/dev/null", errno);
    if (dup2(fd, 0) < 0 || dup2(c->req->out_fd, 1) < 0 || dup2(c->req->out_fd, 2) < 0)
        fail(c, "cannot set up the standard descriptors", NULL, errno);
    c->err_fd = 2;
    if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
        fail(c, "cannot close the server's descriptors", NULL, errno);
    (void) umask(mask);
    sigemptyset(&none);
    (void) syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, (size_t) (_NSIG / 8));
    execve(c->argv[0], c->argv, c->req->envp);
    fail(c, "cannot run", c->argv[0], errno);
}

/*
 * The child's stack: one per thread that starts steps, kept for the next
 * (a new mapping each time costs its page faults and, when it goes, a TLB
 * flush on every CPU), unmapped when the thread ends.
 *
 * In a build with AddressSanitizer the child's frames poison their red
 * zones in the shadow memory it shares with the server, and it never
 * returns to clear them: the stack is cleared after each child, and before
 * it is unmapped, or a later mapping at the same address (SQLite's -shm)
 * would read as a stack buffer overflow.
 */
static pthread_key_t stack_key;
static pthread_once_t stack_once = PTHREAD_ONCE_INIT;

static void
stack_free(void *stack)
{
    CHILD_STACK_UNPOISON(stack);
    (void) munmap(stack, CHILD_STACK);
}

static void
stack_key_make(void)
{
    (void) pthread_key_create(&stack_key, stack_free);
}

static void *
thread_stack(void)
{
    void *stack;

    pthread_once(&stack_once, stack_key_make);
    stack = pthread_getspecific(stack_key);
    if (stack)
        return stack;
    stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        return NULL;
    if (pthread_setspecific(stack_key, stack) != 0) {
        stack_free(stack);
        return NULL;
    }
    return stack;
}

int
sandbox_plan_spawn(const struct sandbox_plan *p, char *const *argv, const struct spawn_req *req,
                   pid_t *ret_pid, int *ret_pidfd)
{
    struct child c = { .plan = p, .argv = argv, .req = req, .err_fd = req->out_fd };
    int flags = CLONE_VM | CLONE_VFORK | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
                CLONE_NEWUTS | SIGCHLD;
    sigset_t all, old;
    void *stack;
    pid_t pid;
    int r = 0;

    if (req->n_pass_fds > 0 || req->out_fd < 3)
        return -EINVAL;
    if (p->no_network)
        flags |= CLONE_NEWNET;
    if (!p->switch_user)
        flags |= CLONE_NEWUSER;
    stack = thread_stack();
    if (!stack)
        return -ENOMEM;
    pthread_once(&signals_once, find_changed_signals);
    /* no handler of the server's may run in the child before it has reset them */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid = clone(child_main, (char *) stack + CHILD_STACK, flags, &c);
    if (pid < 0)
        r = -errno;
    /* the child has exec'd or ended (CLONE_VFORK): what it poisoned is no one's */
    CHILD_STACK_UNPOISON(stack);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r < 0)
        return r;
    return spawn_adopt(pid, ret_pid, ret_pidfd);
}
