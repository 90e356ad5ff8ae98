/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "core/sandbox_int.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strutil.h"

struct sandbox {
    bool on;
    bool switch_user;            /* the server is root: steps become the build user */
    char *home;                  /* real path, hidden from builds */
    enum sandbox_net network;
    char *bind_path[SANDBOX_MAX_BINDS];
    size_t n_binds;

    /*
     * Who builds run as, and whether the sandbox can be set up, are found
     * out in a thread of its own (the probe's), so that the
     * server listens meanwhile: user lookups (NSS) and searches of $PATH
     * cost milliseconds at a start with cold caches. These fields and
     * `error` are written by that thread alone until `probed` is set under
     * `lock`; readers wait for `probed` (wait_probed()). `user`, `uid` and
     * `gid` are set before the thread starts when --build-user names the
     * user, or when the sandbox is off. The thread starts once the server
     * listens (sandbox_start_probe()), or at the first wait for it.
     */
    uid_t uid;
    gid_t gid;
    char *user;
    char *probe_path;            /* "PATH=" the server's, as builds get it */
    pthread_t prober;
    bool prober_started;    /* the thread runs: sandbox_free() joins it */
    bool probe_begun;       /* under `lock`: the probe was started, by one caller */
    bool probed;
    pthread_mutex_t lock;
    pthread_cond_t probe_done;
    char *error;
};

/* The program `name` on $PATH, else in the system's directories. */
static char *
find_program(const char *name)
{
    const char *path = getenv("PATH");
    static const char *const dirs[] = { "/usr/bin", "/bin", "/usr/sbin", "/sbin" };
    char *p;

    while (path && *path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && path[0] == '/') {
            if (asprintf(&p, "%.*s/%s", (int) n, path, name) < 0)
                return NULL;
            if (access(p, X_OK) == 0)
                return p;
            free(p);
        }
        path += n + (path[n] == ':');
    }
    for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
        if (asprintf(&p, "%s/%s", dirs[i], name) < 0)
            return NULL;
        if (access(p, X_OK) == 0)
            return p;
        free(p);
    }
    return NULL;
}

/*
 * Reads a child's output to its end, so that it never blocks on a full
 * pipe; keeps the first size - 1 bytes in buf, NUL-terminated, and returns
 * how many.
 */
static size_t
read_output(int fd, char *buf, size_t size)
{
    char chunk[4096];
    size_t len = 0;
    ssize_t n;

    while ((n = read(fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)) {
        size_t keep = n > 0 ? MIN((size_t) n, size - 1 - len) : 0;
        memcpy(buf + len, chunk, keep);
        len += keep;
    }
    buf[len] = '\0';
    return len;
}

/* Runs argv (no shell) with its output in *ret_out (cut at 4 KiB); its exit status or -errno. */
static int
run_quietly(char *const *argv, char **ret_out)
{
    posix_spawn_file_actions_t fa;
    char buf[4096];
    size_t len;
    int pipefd[2], status, r;
    pid_t pid;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    r = posix_spawn(&pid, argv[0], &fa, NULL, argv,
                    (char *[]){ (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL });
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (r != 0) {
        close(pipefd[0]);
        return -r;
    }
    len = read_output(pipefd[0], buf, sizeof buf);
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    if (ret_out)
        *ret_out = strdup(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int
fail_setting(char **ret_err, const char *fmt, ...) _printf_(2, 3);

static int
fail_setting(char **ret_err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(ret_err, fmt, ap) < 0)
        *ret_err = NULL;
    va_end(ap);
    return -EINVAL;
}

static void
set_error(struct sandbox *sb, const char *fmt, ...) _printf_(2, 3);

static void
set_error(struct sandbox *sb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    free(sb->error);
    if (vasprintf(&sb->error, fmt, ap) < 0)
        sb->error = NULL;
    va_end(ap);
    if (!sb->error)
        sb->error = strdup("out of memory");
}

/*
 * Builds run as the user `name` (NULL: the one of `uid`). 0, -ENOENT when
 * there is no such user, else -errno. The reentrant lookup: this runs in
 * the probe's thread while others serve.
 */
static int
set_user(struct sandbox *sb, const char *name, uid_t uid)
{
    struct passwd pw, *found = NULL;
    char buf[16384];
    char *user;
    int r;

    r = name ? getpwnam_r(name, &pw, buf, sizeof buf, &found)
             : getpwuid_r(uid, &pw, buf, sizeof buf, &found);
    if (r != 0)
        return -r;
    if (!found)
        return -ENOENT;
    user = strdup(pw.pw_name);
    if (!user)
        return -ENOMEM;
    free(sb->user);
    sb->user = user;
    sb->uid = pw.pw_uid;
    sb->gid = pw.pw_gid;
    return 0;
}

/* The default build user, made when missing (the server is root). */
static int
default_user(struct sandbox *sb)
{
    _cleanup_free_ char *useradd = NULL, *out = NULL;
    int r;

    r = set_user(sb, SANDBOX_DEFAULT_USER, 0);
    if (r == -ENOMEM) {
        set_error(sb, "out of memory");
        return r;
    }
    if (r < 0) {
        useradd = find_program("useradd");
        if (!useradd) {
            set_error(sb, "there is no user %s to run builds as, and no useradd to make one",
                      SANDBOX_DEFAULT_USER);
            return -ENOENT;
        }
        r = run_quietly((char *[]){ useradd, (char *) "--system", (char *) "--user-group",
                                    (char *) "--home-dir", (char *) "/nonexistent",
                                    (char *) "--no-create-home", (char *) "--shell",
                                    (char *) "/usr/sbin/nologin", (char *) "--comment",
                                    (char *) "Steward builds", (char *) SANDBOX_DEFAULT_USER,
                                    NULL },
                        &out);
        /* 9: made meanwhile by another server's first start */
        if (r != 0 && r != 9) {
            set_error(sb, "cannot make the build user %s: useradd: %s", SANDBOX_DEFAULT_USER,
                      r < 0 ? strerror(-r) : out && *out ? out : "failed");
            return -EIO;
        }
        if (r == 0)
            log_info("sandbox: made the system user %s to run builds as", SANDBOX_DEFAULT_USER);
        r = set_user(sb, SANDBOX_DEFAULT_USER, 0);
        if (r < 0) {
            set_error(sb, r == -ENOMEM ? "out of memory" : "useradd made no user %s",
                      SANDBOX_DEFAULT_USER);
            return r;
        }
    }
    return 0;
}

/* Runs `true` in the sandbox once: what fails here would fail every build. */
static void
probe(struct sandbox *sb)
{
    _cleanup_free_ char *dir = NULL;
    struct sandbox_cmd c = {};
    int pipefd[2] = { -1, -1 }, status, r;
    char buf[2048];
    size_t len;
    pid_t pid;
    int pidfd;

    if (asprintf(&dir, "%s/.sandbox-probe", sb->home) < 0) {
        set_error(sb, "out of memory");
        return;
    }
    r = sandbox_prepare_dir(sb, dir);
    if (r < 0) {
        set_error(sb, "cannot give the directory %s to the build user %s: %s", dir, sb->user,
                  strerror(-r));
        goto out;
    }
    r = sandbox_command(sb, dir, dir, NULL, SANDBOX_NET_NONE, "probe", "exec true\n", "/bin/sh",
                        (const char *const[]){ NULL }, &c);
    if (r < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
        set_error(sb, "%s", strerror(r < 0 ? -r : errno));
        goto out;
    }
    r = sandbox_spawn(&c,
                      &(struct spawn_req){ .path = c.argv[0], .argv = c.argv,
                                           .envp = (char *[]){ sb->probe_path, NULL },
                                           .cwd = dir, .out_fd = pipefd[1] },
                      &pid, &pidfd);
    close(pipefd[1]);
    if (r < 0) {
        set_error(sb, "cannot start a process in namespaces of its own: %s", strerror(-r));
        goto out;
    }
    close(pidfd);
    len = read_output(pipefd[0], buf, sizeof buf);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    while (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        set_error(sb, "%s", !len ? "its test step failed without saying why"
                            : startswith(buf, SANDBOX_FAILED) ? buf + strlen(SANDBOX_FAILED)
                                                              : buf);
out:
    sandbox_cmd_done(&c);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    (void) rmdir(dir);
}

/* Says once, in the log, why no build can run; and lets sandbox_error() readers go. */
static void
probe_finished(struct sandbox *sb)
{
    if (sb->error)
        log_warn("sandbox: %s; no build can run until that is fixed (or the server is started "
                 "with --no-sandbox)", sb->error);
    pthread_mutex_lock(&sb->lock);
    sb->probed = true;
    pthread_cond_broadcast(&sb->probe_done);
    pthread_mutex_unlock(&sb->lock);
}

/* Who builds run as, unless --build-user said; sb->error says what is missing. */
static void
find_user(struct sandbox *sb)
{
    if (!sb->user && sb->switch_user)
        (void) default_user(sb);        /* sb->error says why not */
    else if (!sb->user && set_user(sb, NULL, geteuid()) == -ENOMEM)
        set_error(sb, "out of memory");
    if (!sb->user) {
        sb->uid = geteuid();
        sb->gid = getegid();
        if (asprintf(&sb->user, "uid %d", (int) geteuid()) < 0) {
            sb->user = NULL;
            set_error(sb, "out of memory");
        }
    }
}

/*
 * The probe's thread. A step's parent-death signal is tied to the thread
 * that started it, so this thread outlives the probe's process: it waits
 * for it.
 */
static void *
probe_thread(void *userdata)
{
    struct sandbox *sb = userdata;

    find_user(sb);
    if (!sb->error)
        probe(sb);
    probe_finished(sb);
    return NULL;
}

int
sandbox_new(const struct sandbox_opts *o, const char *home, struct sandbox **ret, char **ret_err)
{
    struct sandbox *sb = calloc(1, sizeof *sb);
    struct passwd *pw;
    int r;

    *ret_err = NULL;
    if (!sb)
        return -ENOMEM;
    pthread_mutex_init(&sb->lock, NULL);
    pthread_cond_init(&sb->probe_done, NULL);
    sb->on = !o->disabled;
    sb->network = o->network == SANDBOX_NET_DEFAULT ? SANDBOX_NET_HOST : o->network;
    sb->home = realpath(home, NULL);
    if (!sb->home) {
        r = -errno;
        goto fail;
    }

    if (o->build_user) {
        /* a setting that cannot work stops the start: this lookup cannot wait for the probe */
        errno = 0;
        pw = getpwnam(o->build_user);
        if (!pw) {
            r = fail_setting(ret_err, "--build-user %s: there is no such user", o->build_user);
            goto fail;
        }
        if (pw->pw_uid == 0) {
            r = fail_setting(ret_err, "--build-user must not be root: whoever configures a job "
                             "could then run anything as root (--no-sandbox runs builds as the "
                             "server's own user, and docs/SECURITY.md says what that gives away)");
            goto fail;
        }
        if (geteuid() != 0 && pw->pw_uid != geteuid()) {
            r = fail_setting(ret_err, "--build-user %s: only a server started as root can run "
                             "builds as another user", o->build_user);
            goto fail;
        }
        sb->uid = pw->pw_uid;
        sb->gid = pw->pw_gid;
        sb->user = strdup(pw->pw_name);
        if (!sb->user) {
            r = -ENOMEM;
            goto fail;
        }
    }
    if (o->n_binds > SANDBOX_MAX_BINDS) {
        r = fail_setting(ret_err, "--build-bind: at most %d directories", SANDBOX_MAX_BINDS);
        goto fail;
    }
    for (size_t i = 0; i < o->n_binds; i++) {
        _cleanup_free_ char *real = realpath(o->binds[i], NULL);
        struct stat st;

        if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
            r = fail_setting(ret_err, "--build-bind %s: not a directory", o->binds[i]);
            goto fail;
        }
        if (sandbox_path_within(real, sb->home) || sandbox_path_within(sb->home, real)) {
            r = fail_setting(ret_err, "--build-bind %s: builds would see the home directory %s "
                             "(its database and secrets)", o->binds[i], sb->home);
            goto fail;
        }
        sb->bind_path[i] = TAKE_PTR(real);
        sb->n_binds++;
    }

    if (!sb->on) {
        pw = getpwuid(geteuid());
        sb->uid = geteuid();
        sb->gid = getegid();
        sb->user = pw ? strdup(pw->pw_name) : NULL;
        if (!sb->user && asprintf(&sb->user, "uid %d", (int) geteuid()) < 0)
            sb->user = NULL;
        sb->probed = true;
        *ret = sb;
        return sb->user ? 0 : -ENOMEM;
    }

    sb->switch_user = geteuid() == 0;
    if (asprintf(&sb->probe_path, "PATH=%s", getenv("PATH") ?: "/usr/bin:/bin") < 0) {
        sb->probe_path = NULL;
        r = -ENOMEM;
        goto fail;
    }
    *ret = sb;
    return 0;

fail:
    sandbox_free(sb);
    return r;
}

void
sandbox_free(struct sandbox *sb)
{
    if (!sb)
        return;
    if (sb->prober_started)
        (void) pthread_join(sb->prober, NULL);
    pthread_cond_destroy(&sb->probe_done);
    pthread_mutex_destroy(&sb->lock);
    for (size_t i = 0; i < sb->n_binds; i++)
        free(sb->bind_path[i]);
    free(sb->user);
    free(sb->probe_path);
    free(sb->home);
    free(sb->error);
    free(sb);
}

bool
sandbox_on(const struct sandbox *sb)
{
    return sb && sb->on;
}

void
sandbox_start_probe(struct sandbox *sb)
{
    bool begin;

    if (!sb)
        return;
    pthread_mutex_lock(&sb->lock);
    begin = !sb->probed && !sb->probe_begun;
    sb->probe_begun = true;
    pthread_mutex_unlock(&sb->lock);
    if (!begin)
        return;
    if (pthread_create(&sb->prober, NULL, probe_thread, sb) == 0)
        sb->prober_started = true;
    else
        (void) probe_thread(sb);
}

/* Until the probe's thread has found the user, the programs and the verdict. */
static void
wait_probed(struct sandbox *sb)
{
    sandbox_start_probe(sb);
    pthread_mutex_lock(&sb->lock);
    while (!sb->probed)
        pthread_cond_wait(&sb->probe_done, &sb->lock);
    pthread_mutex_unlock(&sb->lock);
}

const char *
sandbox_error(struct sandbox *sb)
{
    if (!sb || !sb->on)
        return NULL;
    wait_probed(sb);
    return sb->error;
}

const char *
sandbox_user(struct sandbox *sb)
{
    if (!sb)
        return "";
    wait_probed(sb);
    return sb->user;
}

enum sandbox_net
sandbox_network(const struct sandbox *sb, enum sandbox_net job)
{
    return job != SANDBOX_NET_DEFAULT ? job : sb ? sb->network : SANDBOX_NET_HOST;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int
chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) flag;
    (void) ftw;
    if (st->st_uid == chown_uid && st->st_gid == chown_gid)
        return 0;
    return lchown(path, chown_uid, chown_gid) < 0 ? -errno : 0;
}

bool
sandbox_build_owner(const struct sandbox *sb, uid_t *ret_uid, gid_t *ret_gid)
{
    if (!sb || !sb->on || !sb->switch_user)
        return false;
    *ret_uid = sb->uid;
    *ret_gid = sb->gid;
    return true;
}

int
sandbox_prepare_dir(const struct sandbox *sb, const char *path)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct stat st;
    int r;

    /* at every build start: one stat when the directory is there, as it mostly is */
    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            return -errno;
        r = fs_mkdir_p(path, 0700);
        if (r < 0)
            return r;
    } else if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (!sb || !sb->on || !sb->switch_user)
        return 0;
    if (lstat(path, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (st.st_uid == sb->uid && st.st_gid == sb->gid)
        return 0;
    /* a workspace from before the sandbox, or an empty new one: depth first, itself last */
    pthread_mutex_lock(&lock);
    chown_uid = sb->uid;
    chown_gid = sb->gid;
    r = nftw(path, chown_one, 16, FTW_PHYS | FTW_MOUNT | FTW_DEPTH);
    pthread_mutex_unlock(&lock);
    if (r != 0)
        return r < 0 ? (errno ? -errno : -EIO) : r;
    return 0;
}

/*
 * A command line being built. The first failure sticks: later pushes do
 * nothing, and argv_done() reports it, so the building needs no checks.
 */
struct argv {
    char **v;
    size_t n;
    int r;
};

static void
push(struct argv *a, const char *s)
{
    char **nv;

    if (a->r < 0)
        return;
    nv = realloc(a->v, (a->n + 2) * sizeof *a->v);
    if (!nv || !(nv[a->n] = strdup(s))) {
        if (nv)
            a->v = nv;
        a->r = -ENOMEM;
        return;
    }
    a->v = nv;
    a->v[++a->n] = NULL;
}

/*
 * Without the sandbox: the script as a new file in the build's @tmp. It
 * is written for this step alone and never read after a crash, so it
 * needs no sync; whatever held its name before (a file or a link a
 * build left there) is replaced, never written through.
 */
static int
write_script(const char *path, const char *script)
{
    int fd, r;

    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
    if (fd < 0)
        return -errno;
    r = fs_write_all(fd, script, strlen(script));
    if (close(fd) < 0 && r >= 0)
        r = -errno;
    if (r < 0)
        (void) unlink(path);
    return r;
}

const char *
sandbox_private_path(const struct sandbox *sb, const char *private_dir)
{
    return sb && sb->on ? SANDBOX_PRIVATE_DIR : private_dir;
}

int
sandbox_command(const struct sandbox *sb, const char *workspace, const char *tmpdir,
                const char *private_dir, enum sandbox_net net, const char *script_name,
                const char *script, const char *shell, const char *const *shell_args,
                struct sandbox_cmd *out)
{
    struct argv a = {};
    int r = 0;

    *out = (struct sandbox_cmd){};
    if (!sb || !sb->on) {
        /* plain: the script is written into the build's @tmp */
        if (asprintf(&out->script, "%s/%s.sh", tmpdir, script_name) < 0)
            return -ENOMEM;
        r = write_script(out->script, script);
    } else {
        const char *binds[2 + SANDBOX_MAX_BINDS] = { workspace, tmpdir };
        size_t n = 2;

        if (asprintf(&out->script, "/tmp/%s.sh", script_name) < 0)
            return -ENOMEM;
        for (size_t i = 0; i < sb->n_binds; i++)
            binds[n++] = sb->bind_path[i];
        r = sandbox_plan_new(
            &(struct sandbox_plan_args){
                .home = sb->home, .binds = binds, .n_binds = n, .private_dir = private_dir,
                /* in the step's own /tmp: no other step has it, whatever it binds */
                .private_at = SANDBOX_PRIVATE_DIR, .script_path = out->script, .script = script,
                .cwd = workspace, .no_network = net == SANDBOX_NET_NONE,
                .switch_user = sb->switch_user, .uid = sb->uid, .gid = sb->gid },
            &out->plan);
    }
    if (shell) {
        push(&a, shell);
        for (size_t i = 0; shell_args[i]; i++)
            push(&a, shell_args[i]);
    }
    push(&a, out->script);
    out->argv = a.v;
    r = r < 0 ? r : a.r;
    if (r < 0)
        sandbox_cmd_done(out);
    return r;
}

int
sandbox_spawn(const struct sandbox_cmd *c, const struct spawn_req *req, pid_t *ret_pid,
              int *ret_pidfd)
{
    if (!c->plan)
        return spawn_start(req, ret_pid, ret_pidfd);
    return sandbox_plan_spawn(c->plan, c->argv, req, ret_pid, ret_pidfd);
}

void
sandbox_cmd_done(struct sandbox_cmd *c)
{
    for (char **p = c->argv; p && *p; p++)
        free(*p);
    free(c->argv);
    sandbox_plan_free(c->plan);
    free(c->script);
    *c = (struct sandbox_cmd){};
}
