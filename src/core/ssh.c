/* SPDX-License-Identifier: MIT */
/*
 * Build nodes over OpenSSH (see core/ssh.h): the node's private
 * directory, the argument vectors of the master and its sessions, the
 * probe, and the shell programs that run and stop a build step.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ssh.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

#define SSH_BIN "/usr/bin/ssh"

/*
 * Answers ssh's passphrase prompt with the passphrase file, and nothing
 * else (a host key question above all): the secret only ever answers the
 * question it is for. As core/git_creds.c does for git.
 */
static const char askpass_script[] =
    "#!/bin/sh\n"
    "case $1 in\n"
    "*assphrase*) cat -- \"$STEWARD_ASKPASS_SECRET\" ;;\n"
    "*) exit 1 ;;\n"
    "esac\n";

/*
 * What the master runs on the node: facts one per line as key=value, the
 * ready line, then it holds the session until its stdin closes. The login
 * shell may be any shell, so all of it is one `sh -c` word without
 * newlines or single quotes inside. The bubblewrap test uses the options a
 * step runs with: a bwrap that can bind / but not make a PID namespace
 * (no user namespaces for this user) is of no use.
 */
#define PROBE_COMMAND                                                                          \
    "sh -c '"                                                                                  \
    "printf \"uname=%s\\n\" \"$(uname -srm)\"; "                                               \
    "printf \"home=%s\\n\" \"$HOME\"; "                                                        \
    "if command -v bwrap >/dev/null 2>&1 && bwrap --unshare-pid --die-with-parent "            \
    "--new-session --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp true "                   \
    "</dev/null >/dev/null 2>&1; then echo bwrap=yes; else echo bwrap=no; fi; "                \
    "if command -v git >/dev/null 2>&1; then echo git=yes; else echo git=no; fi; "             \
    "if command -v setsid >/dev/null 2>&1; then echo setsid=yes; else echo setsid=no; fi; "    \
    "echo steward-ready; exec cat >/dev/null'"

static int
refuse(char **reterr_why, int err, const char *fmt, ...) _printf_(3, 4);

static int
refuse(char **reterr_why, int err, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(reterr_why, fmt, ap);
    va_end(ap);
    if (r < 0) {
        *reterr_why = NULL;
        return -ENOMEM;
    }
    return err;
}

static bool
has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* ======================================================================
 * Quoting
 * ====================================================================== */

int
ssh_quote(struct buf *out, const char *s, size_t len)
{
    size_t old = out->len;
    int r;

    if (memchr(s, '\0', len))
        return -EINVAL;
    r = buf_putc(out, '\'');
    for (size_t i = 0; r >= 0 && i < len;) {
        const char *q = memchr(s + i, '\'', len - i);
        size_t n = q ? (size_t) (q - (s + i)) : len - i;

        r = buf_append(out, s + i, n);
        i += n;
        if (r >= 0 && q) {
            r = buf_puts(out, "'\\''");
            i++;
        }
    }
    if (r >= 0)
        r = buf_putc(out, '\'');
    if (r < 0)
        buf_truncate(out, old);
    return r;
}

static int
quote_str(struct buf *out, const char *s)
{
    return ssh_quote(out, s, strlen(s));
}

bool
ssh_env_name_is_valid(const char *name, size_t len)
{
    if (len == 0 || len > BOUND_SSH_ENV_NAME_BYTES)
        return false;
    if (!(name[0] == '_' || (name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = name[i];

        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

/* ======================================================================
 * The node's private directory
 * ====================================================================== */

/*
 * Writes `name` in `dir` as a new file (a temporary beside it, then a
 * rename: never through whatever was there), `a` then `b`.
 */
static int
write_private(const char *dir, const char *name, const void *a, size_t alen, const void *b,
              size_t blen, mode_t mode)
{
    _cleanup_free_ char *path = path_join(dir, name), *tmp = NULL;
    int fd, r;

    if (!path || asprintf(&tmp, "%s.new", path) < 0)
        return -ENOMEM;
    (void) unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    r = fs_write_all(fd, a, alen);
    if (r >= 0 && blen > 0)
        r = fs_write_all(fd, b, blen);
    if (r >= 0 && fchmod(fd, mode) < 0)
        r = -errno;
    if (close(fd) < 0 && r >= 0)
        r = -errno;
    if (r >= 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        (void) unlink(tmp);
    return r;
}

static int
remove_private(const char *dir, const char *name)
{
    _cleanup_free_ char *path = path_join(dir, name);

    if (!path)
        return -ENOMEM;
    return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/* "TYPE BASE64 [comment]" on one line, as ssh-keyscan and .pub files give it. */
static bool
host_key_is_valid(const char *k)
{
    const char *sp = strchr(k, ' ');
    size_t tlen, blen;

    if (!sp || strlen(k) > BOUND_SSH_HOST_KEY_BYTES || has_control(k))
        return false;
    tlen = (size_t) (sp - k);
    if (tlen == 0 || strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789@.-") != tlen)
        return false;
    blen = strspn(sp + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
    return blen >= 16 && (sp[1 + blen] == '\0' || sp[1 + blen] == ' ');
}

static int
check_target(const struct ssh_target *t, char **reterr_why)
{
    if (!t->host || !*t->host || strlen(t->host) > BOUND_SSH_HOST_BYTES || t->host[0] == '-' ||
        has_control(t->host) || strpbrk(t->host, " /@%\\'\"`$;&|<>()[]{}*?!#~"))
        return refuse(reterr_why, -EINVAL, "'%s' is not a host name or address ssh can connect to.",
                      t->host ? t->host : "");
    if (t->port > 65535)
        return refuse(reterr_why, -EINVAL, "%u is not a port number.", t->port);
    if (!t->user || !*t->user || strlen(t->user) > BOUND_SSH_USER_BYTES || t->user[0] == '-' ||
        has_control(t->user) || strpbrk(t->user, " @:/\\'\"`$;&|<>"))
        return refuse(reterr_why, -EINVAL,
                      "The node's credential has no user name that ssh can log in as: "
                      "give the SSH credential a plain user name.");
    if (!t->key || t->key_len == 0 || t->key_len > BOUND_CREDENTIAL_SECRET_BYTES ||
        memchr(t->key, '\0', t->key_len))
        return refuse(reterr_why, -EINVAL,
                      "The node's credential has no private key: Steward logs in to nodes "
                      "with an SSH key (SSH Username with private key).");
    if (t->passphrase_len > BOUND_CREDENTIAL_SECRET_BYTES ||
        (t->passphrase && memchr(t->passphrase, '\0', t->passphrase_len)))
        return refuse(reterr_why, -EINVAL, "The key's passphrase cannot be used.");
    return 0;
}

static int
write_known_hosts(const char *dir, const struct ssh_target *t, char **reterr_why)
{
    _cleanup_(buf_releasep) struct buf line = BUF_INIT(BOUND_GIT_KNOWN_HOSTS_BYTES);
    _cleanup_free_ char *data = NULL, *path = NULL;
    unsigned port = t->port ? t->port : 22;
    size_t len = 0;
    struct stat st;
    int r;

    switch (t->host_key_kind) {
    case SSH_HOST_KEY_MANUALLY_PROVIDED:
        if (!t->host_key || !host_key_is_valid(t->host_key))
            return refuse(reterr_why, -EINVAL,
                          "The node's host key must be given as one line 'TYPE KEY', the way "
                          "ssh-keyscan or the host's /etc/ssh/ssh_host_ed25519_key.pub shows it "
                          "(\"ssh-ed25519 AAAA...\").");
        r = port == 22 ? buf_printf(&line, "%s %s\n", t->host, t->host_key)
                       : buf_printf(&line, "[%s]:%u %s\n", t->host, port, t->host_key);
        if (r < 0)
            return r;
        return write_private(dir, "known_hosts", line.ptr, line.len, NULL, 0, 0600);
    case SSH_HOST_KEY_KNOWN_HOSTS_FILE:
        if (!t->known_hosts_file)
            return -EINVAL;
        r = fs_read_all(t->known_hosts_file, BOUND_GIT_KNOWN_HOSTS_BYTES, &data, &len);
        if (r < 0 || len == 0)
            return refuse(reterr_why, -EINVAL,
                          "The node trusts the host keys in %s, and %s: add the node's key there "
                          "(ssh-keyscan, checked against the host), or give the key in the "
                          "node's configuration.",
                          t->known_hosts_file, r < 0 ? strerror(-r) : "that file is empty");
        /* a copy: ssh reads it while the server user's file may change */
        return write_private(dir, "known_hosts", data, len, NULL, 0, 0600);
    case SSH_HOST_KEY_MANUALLY_TRUSTED:
        /* what the first connection trusted stays trusted: only an absent file is made */
        path = path_join(dir, "known_hosts");
        if (!path)
            return -ENOMEM;
        if (lstat(path, &st) == 0)
            return S_ISREG(st.st_mode) ? 0 : -EEXIST;
        return write_private(dir, "known_hosts", "", 0, NULL, 0, 0600);
    case SSH_HOST_KEY_NON_VERIFYING:
    default:
        return refuse(reterr_why, -EPERM,
                      "Steward connects only to nodes whose host key it knows, and this node "
                      "does not verify it. Give the node's host key in its configuration "
                      "(\"ssh-ed25519 AAAA...\", from ssh-keyscan checked against the host), "
                      "use the server user's known_hosts file, or trust the key of the first "
                      "connection.");
    }
}

int
ssh_node_prepare(const char *dir, const struct ssh_target *t, char **reterr_why)
{
    bool nl;
    struct stat st;
    int r;

    *reterr_why = NULL;
    /* ssh's control socket is DIR/ctl, made as DIR/ctl.<16 random characters> first */
    if (strlen(dir) + strlen("/ctl.") + 16 + 1 > 104)
        return refuse(reterr_why, -ENAMETOOLONG,
                      "The node's directory %s is too long a path for ssh's control socket "
                      "(at most about 80 bytes).", dir);
    r = check_target(t, reterr_why);
    if (r < 0)
        return r;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    if (lstat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077))
        return refuse(reterr_why, -EPERM,
                      "The node's directory %s must be a directory of Steward's user that no "
                      "one else may enter (mode 0700).", dir);

    r = write_known_hosts(dir, t, reterr_why);
    if (r < 0)
        return r;
    /* OpenSSH reads no key whose last line has no newline */
    nl = t->key[t->key_len - 1] != '\n';
    r = write_private(dir, "key", t->key, t->key_len, "\n", nl ? 1 : 0, 0600);
    if (r < 0)
        return r;
    if (t->passphrase && t->passphrase_len > 0) {
        r = write_private(dir, "passphrase", t->passphrase, t->passphrase_len, NULL, 0, 0600);
        if (r >= 0)
            r = write_private(dir, "askpass", askpass_script, strlen(askpass_script), NULL, 0,
                              0700);
    } else {
        r = remove_private(dir, "passphrase");
        if (r >= 0)
            r = remove_private(dir, "askpass");
    }
    return r;
}

/* ======================================================================
 * Argument vectors
 * ====================================================================== */

struct strv {
    char **v;
    size_t n;
    bool oom;
};

static void
strv_add_take(struct strv *s, char *str)
{
    char **nv;

    if (s->oom || !str) {
        free(str);
        s->oom = true;
        return;
    }
    nv = realloc(s->v, (s->n + 2) * sizeof *nv);
    if (!nv) {
        free(str);
        s->oom = true;
        return;
    }
    s->v = nv;
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
}

static void
strv_add(struct strv *s, const char *str)
{
    strv_add_take(s, strdup(str));
}

static void
strv_addf(struct strv *s, const char *fmt, ...) _printf_(2, 3);

static void
strv_addf(struct strv *s, const char *fmt, ...)
{
    va_list ap;
    char *str;

    va_start(ap, fmt);
    if (vasprintf(&str, fmt, ap) < 0)
        str = NULL;
    va_end(ap);
    strv_add_take(s, str);
}

static char **
strv_finish(struct strv *s)
{
    if (s->oom || !s->v)
        return ssh_argv_free(s->v);
    return s->v;
}

char **
ssh_argv_free(char **v)
{
    if (v)
        for (size_t i = 0; v[i]; i++)
            free(v[i]);
    free(v);
    return NULL;
}

static bool
has_passphrase(const struct ssh_target *t)
{
    return t->passphrase && t->passphrase_len > 0;
}

/* ssh and the options every connection to a node has. */
static void
add_common(struct strv *s, const char *dir, const struct ssh_target *t)
{
    strv_add(s, SSH_BIN);
    strv_add(s, "-F");
    strv_add(s, "/dev/null");
    strv_add(s, "-T");
    strv_addf(s, "-S%s/ctl", dir);
    /* askpass answers the passphrase prompt, which BatchMode would not ask */
    if (!has_passphrase(t))
        strv_add(s, "-oBatchMode=yes");
    strv_addf(s, "-oStrictHostKeyChecking=%s",
              t->host_key_kind == SSH_HOST_KEY_MANUALLY_TRUSTED ? "accept-new" : "yes");
    strv_addf(s, "-oUserKnownHostsFile=%s/known_hosts", dir);
    strv_add(s, "-oGlobalKnownHostsFile=/dev/null");
    strv_add(s, "-oUpdateHostKeys=no");
    strv_add(s, "-oCheckHostIP=no");
    strv_add(s, "-oHashKnownHosts=no");
    strv_add(s, "-oIdentitiesOnly=yes");
    strv_addf(s, "-oIdentityFile=%s/key", dir);
    strv_add(s, "-oIdentityAgent=none");
    strv_add(s, "-oPreferredAuthentications=publickey");
    strv_add(s, "-oPasswordAuthentication=no");
    strv_add(s, "-oKbdInteractiveAuthentication=no");
    strv_add(s, "-oForwardAgent=no");
    strv_add(s, "-oForwardX11=no");
    strv_add(s, "-oClearAllForwardings=yes");
    strv_add(s, "-oPermitLocalCommand=no");
    strv_add(s, "-oTCPKeepAlive=no");
    strv_addf(s, "-oConnectTimeout=%u", t->connect_timeout_s ? t->connect_timeout_s : 10);
    strv_addf(s, "-oServerAliveInterval=%u", t->alive_interval_s ? t->alive_interval_s : 15);
    strv_addf(s, "-oServerAliveCountMax=%u", t->alive_count_max ? t->alive_count_max : 3);
    strv_add(s, "-oLogLevel=ERROR");
    strv_addf(s, "-p%u", t->port ? t->port : 22);
    strv_add(s, "-l");
    strv_add(s, t->user);
}

char **
ssh_master_argv(const char *dir, const struct ssh_target *t)
{
    struct strv s = { 0 };

    add_common(&s, dir, t);
    strv_add(&s, "-M");
    strv_add(&s, "-oControlPersist=no");
    strv_add(&s, "--");
    strv_add(&s, t->host);
    strv_add(&s, PROBE_COMMAND);
    return strv_finish(&s);
}

char **
ssh_session_argv(const char *dir, const struct ssh_target *t)
{
    struct strv s = { 0 };

    add_common(&s, dir, t);
    strv_add(&s, "-oControlMaster=no");
    strv_add(&s, "--");
    strv_add(&s, t->host);
    strv_add(&s, SSH_SESSION_COMMAND);
    return strv_finish(&s);
}

char **
ssh_envp(const char *dir, const struct ssh_target *t)
{
    struct strv s = { 0 };

    strv_add(&s, "PATH=/usr/local/bin:/usr/bin:/bin");
    strv_add(&s, "LC_ALL=C");
    if (has_passphrase(t)) {
        strv_addf(&s, "SSH_ASKPASS=%s/askpass", dir);
        strv_add(&s, "SSH_ASKPASS_REQUIRE=force");
        strv_addf(&s, "STEWARD_ASKPASS_SECRET=%s/passphrase", dir);
    }
    return strv_finish(&s);
}

/* ======================================================================
 * The probe
 * ====================================================================== */

void
ssh_probe_release(struct ssh_probe *p)
{
    if (!p)
        return;
    p->uname = mfree(p->uname);
    p->home = mfree(p->home);
}

int
ssh_probe_parse(const char *text, size_t len, struct ssh_probe *ret)
{
    struct ssh_probe p = { 0 };
    bool ready = false, have_uname = false;
    size_t i = 0;

    if (len > BOUND_SSH_PROBE_BYTES)
        return -E2BIG;
    /*
     * key=value lines; anything else is skipped, as a login shell's start-up
     * files may print before the probe runs
     */
    while (i < len && !ready) {
        const char *line = text + i, *nl = memchr(line, '\n', len - i), *eq;
        size_t n;

        if (!nl)
            break;       /* a line not yet complete */
        n = (size_t) (nl - line);
        i += n + 1;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n == strlen("steward-ready") && memcmp(line, "steward-ready", n) == 0) {
            ready = true;
            break;
        }
        eq = memchr(line, '=', n);
        if (!eq || memchr(line, '\0', n))
            continue;
#define KEY_IS(k) ((size_t) (eq - line) == strlen(k) && memcmp(line, k, strlen(k)) == 0)
#define VALUE strndup(eq + 1, n - (size_t) (eq + 1 - line))
#define YES (n - (size_t) (eq + 1 - line) == 3 && memcmp(eq + 1, "yes", 3) == 0)
        if (KEY_IS("uname")) {
            free(p.uname);
            p.uname = VALUE;
            if (!p.uname)
                goto oom;
            have_uname = true;
        } else if (KEY_IS("home")) {
            free(p.home);
            p.home = VALUE;
            if (!p.home)
                goto oom;
        } else if (KEY_IS("bwrap"))
            p.bwrap = YES;
        else if (KEY_IS("git"))
            p.git = YES;
        else if (KEY_IS("setsid"))
            p.setsid = YES;
#undef KEY_IS
#undef VALUE
#undef YES
    }
    if (!ready) {
        ssh_probe_release(&p);
        return -EAGAIN;
    }
    if (!have_uname || !p.home) {
        ssh_probe_release(&p);
        return -EBADMSG;
    }
    *ret = p;
    return 0;
oom:
    ssh_probe_release(&p);
    return -ENOMEM;
}

/* ======================================================================
 * Payloads
 * ====================================================================== */

static int
check_root(const char *root, char **reterr_why)
{
    if (!root || root[0] != '/' || strlen(root) > BOUND_SSH_PATH_BYTES || has_control(root))
        return refuse(reterr_why, -EINVAL,
                      "The node's remote root directory must be an absolute path without "
                      "control characters.");
    return 0;
}

static int
check_run_id(const char *id, char **reterr_why)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n > BOUND_SSH_RUN_ID_BYTES ||
        strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != n)
        return refuse(reterr_why, -EINVAL, "'%s' is not a run id (letters and digits).",
                      id ? id : "");
    return 0;
}

/* The program in a sealed memfd, rewound. */
static int
to_memfd(const struct buf *prog, int *ret_fd)
{
    _cleanup_close_ int fd = memfd_create("steward-ssh-payload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    int r;

    if (fd < 0)
        return -errno;
    r = fs_write_all(fd, prog->ptr, prog->len);
    if (r < 0)
        return r;
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
        return -errno;
    if (lseek(fd, 0, SEEK_SET) < 0)
        return -errno;
    *ret_fd = TAKE_FD(fd);
    return 0;
}

/*
 * The first part of a build step's program: everything the node exports
 * is dropped (the names `export -p` lists; a multi-line value might add
 * names that are not variables, whose unset does no harm), but for the
 * node's PATH, HOME, USER, LOGNAME and LANG. Before the run's own
 * variables are set, so that none of them is dropped.
 */
static const char clear_env[] =
    "steward_p=${PATH:-/usr/local/bin:/usr/bin:/bin}; steward_h=${HOME:-/}\n"
    "steward_u=${USER:-${LOGNAME:-$(id -un 2>/dev/null)}}; steward_l=${LANG:-C.UTF-8}\n"
    "for steward_n in $(export -p | sed -n -e 's/^export \\([A-Za-z_][A-Za-z0-9_]*\\).*/\\1/p' "
    "-e 's/^declare -x \\([A-Za-z_][A-Za-z0-9_]*\\).*/\\1/p'); do\n"
    "  unset \"$steward_n\" 2>/dev/null\n"
    "done\n"
    "PATH=$steward_p HOME=$steward_h USER=$steward_u LOGNAME=$steward_u LANG=$steward_l\n"
    "export PATH HOME USER LOGNAME LANG\n"
    "unset steward_p steward_h steward_u steward_l steward_n\n";

/*
 * The rest, after $R (root), $W (workspace name), $ID (run id), $S (the
 * script), $CMD ("-xe", "-e" or "exec": how to run the script file),
 * $BWRAP (1 or 0) and the function `steward_env` that exports the step's
 * variables.
 *
 * The step is started through `setsid`, so that it leads a session and
 * process group of its own, and the first thing that group leader does is
 * to write "PGID STARTTIME" (its /proc start time, to tell a reused pid
 * from it) to the pid file: fd 9, opened here, so the path stays off its
 * command line. The step's variables are exported in the subshell that
 * becomes setsid, so that none of them can change a variable this program
 * still uses.
 */
static const char run_body[] =
    "ws=\"$R/workspace/$W\"; tmp=\"$ws@tmp\"; st=\"$R/.steward\"; pf=\"$st/$ID.pid\"\n"
    "f=\"$tmp/steward-$ID.sh\"\n"
    "umask 077\n"
    "mkdir -p -- \"$ws\" \"$tmp\" \"$st\" || { echo \"steward: cannot make the workspace $ws\" >&2; exit 1; }\n"
    "pd=\"$st/$ID.d\"\n"
    "if [ \"$NF\" != 0 ]; then\n"
    "  rm -rf -- \"$pd\"; mkdir -m 0700 -- \"$pd\" && steward_files || { echo \"steward: cannot write the step's private files\" >&2; rm -rf -- \"$pd\"; exit 1; }\n"
    "fi\n"
    "cd -- \"$ws\" || { echo \"steward: cannot enter the workspace $ws\" >&2; exit 1; }\n"
    "ss=$(command -v setsid) || { echo \"steward: this node has no setsid (util-linux)\" >&2; exit 1; }\n"
    "printf %s \"$S\" >\"$f\" && chmod 0700 \"$f\" || { echo \"steward: cannot write $f\" >&2; exit 1; }\n"
    "unset S\n"
    "umask 022\n"
    "if [ \"$BWRAP\" = 1 ]; then\n"
    "  set -- bwrap --unshare-pid --die-with-parent --new-session --ro-bind / / --dev /dev "
    "--proc /proc --tmpfs /tmp --bind \"$ws\" \"$ws\" --bind \"$tmp\" \"$tmp\" --chdir \"$ws\" --\n"
    "else\n"
    "  set --\n"
    "fi\n"
    "case $CMD in\n"
    "exec) set -- \"$@\" \"$f\" ;;\n"
    "*) set -- \"$@\" /bin/sh \"$CMD\" \"$f\" ;;\n"
    "esac\n"
    "set -- \"$ss\" -w /bin/sh -c 'echo \"$$ $(sed \"s/^.*) //\" /proc/$$/stat 2>/dev/null | cut -d\" \" -f20)\" >&9 "
    "&& exec 9>&- && exec \"$@\"' steward-step \"$@\"\n"
    "( steward_env && exec \"$@\" ) 9>\"$pf\" &\n"
    "wait \"$!\"; rc=$?\n"
    "rm -f -- \"$pf\" \"$f\"\n"
    "rm -rf -- \"$pd\"\n"
    "[ \"$rc\" -eq 255 ] && rc=254\n"
    "exit \"$rc\"\n";

static int
add_var(struct buf *b, const char *name, const char *value)
{
    int r = buf_printf(b, "%s=", name);

    if (r >= 0)
        r = quote_str(b, value);
    if (r >= 0)
        r = buf_putc(b, '\n');
    return r;
}

int
ssh_build_payload(const struct ssh_run *run, int *ret_fd, char **reterr_why)
{
    _cleanup_(buf_releasep) struct buf prog =
        BUF_INIT(BOUND_SSH_SCRIPT_BYTES * 5 + BOUND_SSH_ENV_BYTES * 5 + 64 * 1024);
    size_t env_bytes = 0, slen;
    const char *cmd;
    int r;

    *reterr_why = NULL;
    r = check_root(run->root, reterr_why);
    if (r < 0)
        return r;
    r = check_run_id(run->run_id, reterr_why);
    if (r < 0)
        return r;
    if (!run->workspace || !*run->workspace || streq(run->workspace, ".") ||
        streq(run->workspace, "..") || strchr(run->workspace, '/') ||
        strlen(run->workspace) > 255 || has_control(run->workspace))
        return refuse(reterr_why, -EINVAL, "'%s' is not a workspace name.",
                      run->workspace ? run->workspace : "");
    slen = run->script ? strlen(run->script) : 0;
    if (slen > BOUND_SSH_SCRIPT_BYTES)
        return refuse(reterr_why, -E2BIG, "The script has more than %d bytes.",
                      BOUND_SSH_SCRIPT_BYTES);
    if (run->n_env > BOUND_SSH_ENV_ENTRIES)
        return refuse(reterr_why, -E2BIG, "The step has more than %d environment variables.",
                      BOUND_SSH_ENV_ENTRIES);
    for (size_t i = 0; i < run->n_env; i++) {
        const char *eq = strchr(run->env[i], '=');

        if (!eq || !ssh_env_name_is_valid(run->env[i], (size_t) (eq - run->env[i])))
            return refuse(reterr_why, -EINVAL,
                          "'%.*s' is not a name an environment variable can have on a node "
                          "(letters, digits and _, not first a digit).",
                          (int) (eq ? MIN((size_t) (eq - run->env[i]), 256) : MIN(strlen(run->env[i]), 256)),
                          run->env[i]);
        env_bytes += strlen(run->env[i]);
        if (env_bytes > BOUND_SSH_ENV_BYTES)
            return refuse(reterr_why, -E2BIG,
                          "The step's environment variables hold more than %d bytes.",
                          BOUND_SSH_ENV_BYTES);
    }
    for (size_t i = 0; i < run->n_files; i++) {
        const char *nm = run->files[i].name;
        if (!nm || !*nm || streq(nm, ".") || streq(nm, "..") || strlen(nm) > 64 ||
            strspn(nm, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                strlen(nm))
            return refuse(reterr_why, -EINVAL, "'%s' is not a private file's name.", nm ? nm : "");
        if (run->files[i].len > BOUND_SSH_ENV_BYTES)
            return refuse(reterr_why, -E2BIG, "A private file has more than %d bytes.",
                          BOUND_SSH_ENV_BYTES);
    }
    if (!run->shell)
        cmd = "-e";
    else if (slen >= 2 && run->script[0] == '#' && run->script[1] == '!')
        cmd = "exec";
    else
        cmd = "-xe";

    r = buf_puts(&prog, "# a Steward build step\n");
    if (r >= 0)
        r = buf_puts(&prog, clear_env);
    if (r >= 0)
        r = add_var(&prog, "R", run->root);
    if (r >= 0)
        r = add_var(&prog, "W", run->workspace);
    if (r >= 0)
        r = add_var(&prog, "ID", run->run_id);
    if (r >= 0)
        r = add_var(&prog, "S", run->script ? run->script : "");
    if (r >= 0)
        r = add_var(&prog, "CMD", cmd);
    if (r >= 0)
        r = add_var(&prog, "BWRAP", run->bwrap ? "1" : "0");
    if (r >= 0)
        r = buf_puts(&prog, "steward_env() {\n:\n");
    for (size_t i = 0; r >= 0 && i < run->n_env; i++) {
        const char *eq = strchr(run->env[i], '=');

        r = buf_printf(&prog, "export %.*s=", (int) (eq - run->env[i]), run->env[i]);
        if (r >= 0)
            r = quote_str(&prog, eq + 1);
        if (r >= 0)
            r = buf_putc(&prog, '\n');
    }
    if (r >= 0)
        r = buf_puts(&prog, "}\n");
    if (r >= 0)
        r = buf_printf(&prog, "NF=%zu\nsteward_files() {\n:\n", run->n_files);
    for (size_t i = 0; r >= 0 && i < run->n_files; i++) {
        r = buf_puts(&prog, "printf %s ");
        if (r >= 0)
            r = ssh_quote(&prog, run->files[i].data, run->files[i].len);
        if (r >= 0)
            r = buf_printf(&prog, " >\"$pd/%s\" && chmod %s \"$pd/%s\" || return 1\n",
                           run->files[i].name, run->files[i].exec ? "0700" : "0600",
                           run->files[i].name);
    }
    if (r >= 0)
        r = buf_puts(&prog, "}\n");
    if (r >= 0)
        r = buf_puts(&prog, run_body);
    if (r < 0)
        return r;
    return to_memfd(&prog, ret_fd);
}

/*
 * Stops the run whose "PGID STARTTIME" the pid file holds. An empty file
 * is a step that is starting: read again for a moment. A leader that is
 * alive with another start time is a reused pid: not ours. A leader that
 * is gone while its group lives is still ours (Linux gives out no pid
 * that is still a process group's id).
 */
static const char kill_body[] =
    "pf=\"$R/.steward/$ID.pid\"\n"
    "rm -rf -- \"$R/.steward/$ID.d\"\n"
    "n=0\n"
    "while :; do\n"
    "  [ -f \"$pf\" ] || exit 0\n"
    "  p= s=\n"
    "  read -r p s <\"$pf\" 2>/dev/null\n"
    "  [ -n \"$p\" ] && break\n"
    "  n=$((n + 1)); [ \"$n\" -ge 50 ] && { rm -f -- \"$pf\"; exit 0; }\n"
    "  sleep 0.1\n"
    "done\n"
    "case $p in ''|*[!0-9]*|0|1) rm -f -- \"$pf\"; exit 0 ;; esac\n"
    "if [ -n \"$s\" ] && [ -r \"/proc/$p/stat\" ]; then\n"
    "  now=$(sed 's/^.*) //' \"/proc/$p/stat\" 2>/dev/null | cut -d' ' -f20)\n"
    "  [ -n \"$now\" ] && [ \"$now\" != \"$s\" ] && { rm -f -- \"$pf\"; exit 0; }\n"
    "fi\n"
    "kill -TERM \"-$p\" 2>/dev/null || { rm -f -- \"$pf\"; exit 0; }\n"
    "n=0\n"
    "while kill -0 \"-$p\" 2>/dev/null && [ \"$n\" -lt \"$((G * 10))\" ]; do\n"
    "  sleep 0.1; n=$((n + 1))\n"
    "done\n"
    "kill -KILL \"-$p\" 2>/dev/null\n"
    "rm -f -- \"$pf\"\n"
    "exit 0\n";

int
ssh_kill_payload(const char *root, const char *run_id, unsigned grace_s, int *ret_fd,
                 char **reterr_why)
{
    _cleanup_(buf_releasep) struct buf prog = BUF_INIT(64 * 1024);
    int r;

    *reterr_why = NULL;
    r = check_root(root, reterr_why);
    if (r < 0)
        return r;
    r = check_run_id(run_id, reterr_why);
    if (r < 0)
        return r;
    if (grace_s > 3600)
        grace_s = 3600;
    r = buf_puts(&prog, "# stopping a Steward build step\n");
    if (r >= 0)
        r = add_var(&prog, "R", root);
    if (r >= 0)
        r = add_var(&prog, "ID", run_id);
    if (r >= 0)
        r = buf_printf(&prog, "G=%u\n", grace_s);
    if (r >= 0)
        r = buf_puts(&prog, kill_body);
    if (r < 0)
        return r;
    return to_memfd(&prog, ret_fd);
}

char *
ssh_private_dir(const char *root, const char *run_id)
{
    char *p = NULL;

    if (asprintf(&p, "%s/.steward/%s.d", root, run_id) < 0)
        return NULL;
    return p;
}
