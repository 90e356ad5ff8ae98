/* SPDX-License-Identifier: MIT */
/*
 * core/ssh.c: the argument vectors, the node's private directory, the
 * probe parser, and the build and stop programs run for real on this
 * machine through the same fixed remote command a session runs, with the
 * program on stdin as ssh would give it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/spawn.h"
#include "core/ssh.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/macro.h"

#define KEY "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----"
#define HOSTKEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFake"

static struct ssh_target
target(void)
{
    return (struct ssh_target){
        .host = "node1.example.org", .port = 2222, .user = "builder",
        .key = KEY, .key_len = strlen(KEY),
        .host_key_kind = SSH_HOST_KEY_MANUALLY_PROVIDED, .host_key = HOSTKEY,
        .connect_timeout_s = 5, .alive_interval_s = 1, .alive_count_max = 2,
    };
}

static char *
mktemp_dir(void)
{
    char *d = strdup("/tmp/test-ssh-XXXXXX");

    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static bool
has(char **v, const char *s)
{
    for (size_t i = 0; v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static bool
any_contains(char **v, const char *s)
{
    for (size_t i = 0; v[i]; i++)
        if (strstr(v[i], s))
            return true;
    return false;
}

static size_t
count(char **v)
{
    size_t n = 0;

    while (v[n])
        n++;
    return n;
}

static char *
read_file(const char *dir, const char *name)
{
    _cleanup_free_ char *path = path_join(dir, name);
    char *data = NULL;
    size_t len;

    if (fs_read_all(path, 1 << 20, &data, &len) < 0)
        return NULL;
    return data;
}

static mode_t
mode_of(const char *dir, const char *name)
{
    _cleanup_free_ char *path = name ? path_join(dir, name) : strdup(dir);
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* ---------------------------------------------------------------------- */

static void
ssh_quote__single_quotes_everything_and_refuses_nul(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(ssh_quote(&b, "plain", 5), 0);
    assert_string_equal(buf_str(&b), "'plain'");
    buf_clear(&b);
    assert_int_equal(ssh_quote(&b, "it's", 4), 0);
    assert_string_equal(buf_str(&b), "'it'\\''s'");
    buf_clear(&b);
    assert_int_equal(ssh_quote(&b, "", 0), 0);
    assert_string_equal(buf_str(&b), "''");
    buf_clear(&b);
    assert_int_equal(ssh_quote(&b, "''", 2), 0);
    assert_string_equal(buf_str(&b), "''\\'''\\'''");
    buf_clear(&b);
    assert_int_equal(ssh_quote(&b, "a\0b", 3), -EINVAL);
    assert_int_equal(b.len, 0);
    buf_release(&b);

    /* too big: the buffer is left as it was */
    b = BUF_INIT(8);
    assert_int_equal(ssh_quote(&b, "abc", 3), 0);
    assert_int_equal(ssh_quote(&b, "defghij", 7), -E2BIG);
    assert_string_equal(buf_str(&b), "'abc'");
    buf_release(&b);
}

static void
ssh_quote__survives_a_real_shell(void **state)
{
    static const char *const hostile[] = {
        "a'b", "'", "$(touch /tmp/PWNED-ssh-quote)", "`id`", "x\ny\n\n", "\"$HOME\"", "\\",
        "-e", "; exit 3", "*", "${IFS}", "\t\r\x01\x7f", "é ✓",
    };

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
        struct buf cmd = BUF_INIT(4096);
        char out[256];
        size_t n;
        FILE *p;

        assert_int_equal(buf_puts(&cmd, "printf %s "), 0);
        assert_int_equal(ssh_quote(&cmd, hostile[i], strlen(hostile[i])), 0);
        p = popen(buf_str(&cmd), "r");
        assert_non_null(p);
        n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        assert_int_equal(pclose(p), 0);
        assert_string_equal(out, hostile[i]);
        buf_release(&cmd);
    }
    assert_int_equal(access("/tmp/PWNED-ssh-quote", F_OK), -1);
}

static void
ssh_env_name_is_valid__takes_shell_names_only(void **state)
{
    (void) state;
    assert_true(ssh_env_name_is_valid("A", 1));
    assert_true(ssh_env_name_is_valid("_x9", 3));
    assert_true(ssh_env_name_is_valid("BUILD_NUMBER", 12));
    assert_false(ssh_env_name_is_valid("", 0));
    assert_false(ssh_env_name_is_valid("9A", 2));
    assert_false(ssh_env_name_is_valid("PATH+EXTRA", 10));
    assert_false(ssh_env_name_is_valid("A-B", 3));
    assert_false(ssh_env_name_is_valid("A B", 3));
    assert_false(ssh_env_name_is_valid("$(x)", 4));
}

/* ---------------------------------------------------------------------- */

static void
ssh_master_argv__is_strict_and_holds_no_secret(void **state)
{
    struct ssh_target t = target();
    _cleanup_(ssh_argv_freep) char **v = NULL, **env = NULL;
    size_t n;

    (void) state;
    t.passphrase = "hunter2-passphrase";
    t.passphrase_len = strlen(t.passphrase);
    v = ssh_master_argv("/run/st/n1", &t);
    assert_non_null(v);
    n = count(v);
    assert_string_equal(v[0], "/usr/bin/ssh");
    assert_string_equal(v[1], "-F");
    assert_string_equal(v[2], "/dev/null");
    assert_true(has(v, "-M"));
    assert_true(has(v, "-S/run/st/n1/ctl"));
    assert_true(has(v, "-oControlPersist=no"));
    assert_true(has(v, "-oStrictHostKeyChecking=yes"));
    assert_true(has(v, "-oUserKnownHostsFile=/run/st/n1/known_hosts"));
    assert_true(has(v, "-oGlobalKnownHostsFile=/dev/null"));
    assert_true(has(v, "-oIdentitiesOnly=yes"));
    assert_true(has(v, "-oIdentityFile=/run/st/n1/key"));
    assert_true(has(v, "-oIdentityAgent=none"));
    assert_true(has(v, "-oPasswordAuthentication=no"));
    assert_true(has(v, "-oConnectTimeout=5"));
    assert_true(has(v, "-oServerAliveInterval=1"));
    assert_true(has(v, "-oServerAliveCountMax=2"));
    assert_true(has(v, "-p2222"));
    assert_true(has(v, "builder"));
    /* askpass answers the passphrase, which BatchMode would never ask */
    assert_false(any_contains(v, "BatchMode"));
    assert_string_equal(v[n - 3], "--");
    assert_string_equal(v[n - 2], "node1.example.org");
    assert_non_null(strstr(v[n - 1], "steward-ready"));
    assert_non_null(strstr(v[n - 1], "exec cat >/dev/null"));
    assert_false(any_contains(v, "hunter2"));
    assert_false(any_contains(v, "SECRETKEY"));

    env = ssh_envp("/run/st/n1", &t);
    assert_non_null(env);
    assert_true(has(env, "SSH_ASKPASS=/run/st/n1/askpass"));
    assert_true(has(env, "SSH_ASKPASS_REQUIRE=force"));
    assert_true(has(env, "STEWARD_ASKPASS_SECRET=/run/st/n1/passphrase"));
    assert_false(any_contains(env, "hunter2"));
}

static void
ssh_session_argv__runs_the_fixed_command_over_the_master(void **state)
{
    struct ssh_target t = target();
    _cleanup_(ssh_argv_freep) char **v = NULL, **env = NULL;
    size_t n;

    (void) state;
    t.host_key_kind = SSH_HOST_KEY_MANUALLY_TRUSTED;
    v = ssh_session_argv("/run/st/n1", &t);
    assert_non_null(v);
    n = count(v);
    assert_true(has(v, "-S/run/st/n1/ctl"));
    assert_true(has(v, "-oControlMaster=no"));
    assert_false(has(v, "-M"));
    assert_true(has(v, "-oBatchMode=yes"));
    assert_true(has(v, "-oStrictHostKeyChecking=accept-new"));
    assert_true(has(v, "-oIdentitiesOnly=yes"));
    assert_string_equal(v[n - 3], "--");
    assert_string_equal(v[n - 1], SSH_SESSION_COMMAND);
    assert_false(any_contains(v, "SECRETKEY"));

    env = ssh_envp("/run/st/n1", &t);
    assert_non_null(env);
    assert_false(any_contains(env, "ASKPASS"));
}

/* ---------------------------------------------------------------------- */

static void
ssh_node_prepare__writes_the_private_directory(void **state)
{
    _cleanup_free_ char *tmp = mktemp_dir(), *dir = path_join(tmp, "n1"), *why = NULL;
    _cleanup_free_ char *key = NULL, *kh = NULL, *pp = NULL, *out = NULL;
    struct ssh_target t = target();
    char cmd[512];
    FILE *p;
    size_t n;

    (void) state;
    t.passphrase = "pass phrase 'q'";
    t.passphrase_len = strlen(t.passphrase);
    assert_int_equal(ssh_node_prepare(dir, &t, &why), 0);
    assert_null(why);
    assert_int_equal(mode_of(dir, NULL), 0700);
    key = read_file(dir, "key");
    assert_string_equal(key, KEY "\n");
    assert_int_equal(mode_of(dir, "key"), 0600);
    kh = read_file(dir, "known_hosts");
    assert_string_equal(kh, "[node1.example.org]:2222 " HOSTKEY "\n");
    pp = read_file(dir, "passphrase");
    assert_string_equal(pp, "pass phrase 'q'");
    assert_int_equal(mode_of(dir, "passphrase"), 0600);
    assert_int_equal(mode_of(dir, "askpass"), 0700);

    /* the helper answers the passphrase prompt and nothing else */
    snprintf(cmd, sizeof cmd,
             "STEWARD_ASKPASS_SECRET=%s/passphrase %s/askpass \"Enter passphrase for key '%s/key': \"",
             dir, dir, dir);
    p = popen(cmd, "r");
    assert_non_null(p);
    out = calloc(1, 256);
    n = fread(out, 1, 255, p);
    assert_int_equal(pclose(p), 0);
    assert_int_equal(n, strlen("pass phrase 'q'"));
    assert_string_equal(out, "pass phrase 'q'");
    snprintf(cmd, sizeof cmd,
             "STEWARD_ASKPASS_SECRET=%s/passphrase %s/askpass \"Are you sure you want to continue "
             "connecting (yes/no/[fingerprint])? \" >/dev/null",
             dir, dir);
    assert_int_not_equal(system(cmd), 0);

    /* prepared again without a passphrase: its files are gone; port 22 has no brackets */
    t.passphrase = NULL;
    t.passphrase_len = 0;
    t.port = 22;
    t.key = KEY "\n";
    t.key_len = strlen(t.key);
    assert_int_equal(ssh_node_prepare(dir, &t, &why), 0);
    free(key);
    key = read_file(dir, "key");
    assert_string_equal(key, KEY "\n");
    free(kh);
    kh = read_file(dir, "known_hosts");
    assert_string_equal(kh, "node1.example.org " HOSTKEY "\n");
    assert_null(read_file(dir, "passphrase"));
    assert_null(read_file(dir, "askpass"));

    /* trusted on first connection: what ssh wrote there stays */
    {
        _cleanup_free_ char *khp = path_join(dir, "known_hosts"), *again = NULL;

        assert_int_equal(fs_write_atomic(khp, "trusted-line\n", 13, 0600), 0);
        t.host_key_kind = SSH_HOST_KEY_MANUALLY_TRUSTED;
        assert_int_equal(ssh_node_prepare(dir, &t, &why), 0);
        again = read_file(dir, "known_hosts");
        assert_string_equal(again, "trusted-line\n");
    }
    assert_int_equal(fs_rm_rf(tmp), 0);
}

static void
ssh_node_prepare__refuses_what_it_cannot_verify(void **state)
{
    _cleanup_free_ char *tmp = mktemp_dir(), *dir = path_join(tmp, "n1"), *why = NULL;
    struct ssh_target t = target();

    (void) state;
    t.host_key_kind = SSH_HOST_KEY_NON_VERIFYING;
    assert_int_equal(ssh_node_prepare(dir, &t, &why), -EPERM);
    assert_non_null(why);
    assert_non_null(strstr(why, "host key it knows"));
    why = mfree(why);

    t = target();
    t.host_key = "ssh-ed25519 AAAA\nevil.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI";
    assert_int_equal(ssh_node_prepare(dir, &t, &why), -EINVAL);
    assert_non_null(why);
    why = mfree(why);
    t.host_key = "not a key";
    assert_int_equal(ssh_node_prepare(dir, &t, &why), -EINVAL);
    why = mfree(why);

    t = target();
    t.host = "-oProxyCommand=evil";
    assert_int_equal(ssh_node_prepare(dir, &t, &why), -EINVAL);
    why = mfree(why);
    t = target();
    t.user = "a b";
    assert_int_equal(ssh_node_prepare(dir, &t, &why), -EINVAL);
    why = mfree(why);

    t = target();
    t.host_key_kind = SSH_HOST_KEY_KNOWN_HOSTS_FILE;
    t.known_hosts_file = "/nonexistent/known_hosts";
    assert_int_equal(ssh_node_prepare(dir, &t, &why), -EINVAL);
    assert_non_null(strstr(why, "/nonexistent/known_hosts"));
    why = mfree(why);

    t = target();
    assert_int_equal(ssh_node_prepare("/tmp/a-directory-whose-path-is-far-too-long-for-a-unix-"
                                      "socket-of-ssh-to-live-in/nodes/n1", &t, &why),
                     -ENAMETOOLONG);
    why = mfree(why);

    /* a directory others may enter is not private */
    (void) mkdir(dir, 0755);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(ssh_node_prepare(dir, &t, &why), -EPERM);
    why = mfree(why);
    assert_int_equal(fs_rm_rf(tmp), 0);
}

/* ---------------------------------------------------------------------- */

static void
ssh_probe_parse__reads_the_facts_up_to_ready(void **state)
{
    static const char full[] = "some motd line\r\nuname=Linux 6.1.0 x86_64\nhome=/home/b\n"
                               "bwrap=yes\ngit=no\nsetsid=yes\nfuture=1\nsteward-ready\nlater";
    struct ssh_probe p;

    (void) state;
    assert_int_equal(ssh_probe_parse(full, strlen(full), &p), 0);
    assert_string_equal(p.uname, "Linux 6.1.0 x86_64");
    assert_string_equal(p.home, "/home/b");
    assert_true(p.bwrap);
    assert_false(p.git);
    assert_true(p.setsid);
    ssh_probe_release(&p);

    assert_int_equal(ssh_probe_parse(full, 40, &p), -EAGAIN);
    assert_int_equal(ssh_probe_parse("", 0, &p), -EAGAIN);
    assert_int_equal(ssh_probe_parse("steward-ready\n", 14, &p), -EBADMSG);
    assert_int_equal(ssh_probe_parse("uname=x\nhome=/\nbwrap=maybe\nsteward-ready\n", 42, &p), 0);
    assert_false(p.bwrap);
    ssh_probe_release(&p);
}

/* ======================================================================
 * The programs, run here through the session's fixed command
 * ====================================================================== */

struct proc {
    pid_t pid;
    int pidfd;
    int out;
};

static struct proc
start_payload(int payload_fd)
{
    char *argv[] = { "/bin/sh", "-c", (char *) SSH_SESSION_COMMAND, NULL };
    char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/root", "LEAKED_FROM_SSHD=1",
                     "SSH_CONNECTION=1.2.3.4 1 5.6.7.8 22", NULL };
    char tmpl[] = "/tmp/test-ssh-out-XXXXXX";
    struct proc p = { 0 };

    p.out = mkstemp(tmpl);
    assert_true(p.out >= 0);
    (void) unlink(tmpl);
    assert_int_equal(spawn_start(&(struct spawn_req){ .path = argv[0], .argv = argv, .envp = envp,
                                                       .cwd = "/", .in_fd = payload_fd,
                                                       .out_fd = p.out },
                                 &p.pid, &p.pidfd),
                     0);
    close(payload_fd);
    return p;
}

static void
nap(void)
{
    nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
}

/* Waits (at most 60 s) for the program's exit status; returns its output. */
static int
finish(struct proc *p, char **ret_out)
{
    int status = 0;
    pid_t r = 0;

    for (int i = 0; i < 6000 && (r = waitpid(p->pid, &status, WNOHANG)) == 0; i++)
        nap();
    if (r == 0) {
        (void) kill(p->pid, SIGKILL);
        (void) waitpid(p->pid, &status, 0);
        fail_msg("the program did not finish");
    }
    close(p->pidfd);
    if (ret_out) {
        off_t len = lseek(p->out, 0, SEEK_END);
        char *s = calloc(1, (size_t) len + 1);

        assert_int_equal(pread(p->out, s, (size_t) len, 0), len);
        *ret_out = s;
    }
    close(p->out);
    if (getenv("TEST_SSH_DEBUG") && ret_out)
        fprintf(stderr, "status %d output: %s\n", status, *ret_out);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static bool
wait_exists(const char *path, bool want)
{
    for (int i = 0; i < 3000; i++) {
        if ((access(path, F_OK) == 0) == want)
            return true;
        nap();
    }
    return false;
}

static int
run_step(const char *root, const char *id, const char *script, bool shell, bool bwrap,
         char *const *env, size_t n_env, char **ret_out)
{
    struct ssh_run run = { .root = root, .workspace = "job one@2", .run_id = id, .env = env,
                           .n_env = n_env, .script = script, .shell = shell, .bwrap = bwrap };
    _cleanup_free_ char *why = NULL;
    struct proc p;
    int fd;

    assert_int_equal(ssh_build_payload(&run, &fd, &why), 0);
    p = start_payload(fd);
    return finish(&p, ret_out);
}

static bool
bwrap_works(void)
{
    return system("bwrap --unshare-pid --die-with-parent --new-session --ro-bind / / --dev /dev "
                  "--proc /proc --tmpfs /tmp true >/dev/null 2>&1 </dev/null") == 0;
}

static void
check_exit_codes_and_env(bool bwrap)
{
    _cleanup_free_ char *root = mktemp_dir(), *out = NULL, *v = NULL, *envdump = NULL;
    char *env[] = {
        "PLAIN=value",
        "QUOTES=it's \"quoted\" 'twice'",
        "SUBST=$(touch /tmp/PWNED-ssh-env) `touch /tmp/PWNED-ssh-env` ${HOME}",
        "LINES=first\nexport EVIL=1\n\nlast\n",
        "EMPTY=",
        "EQUALS=a=b=c",
        "_under=x",
    };
    char ws[512];

    snprintf(ws, sizeof ws, "%s/workspace/job one@2", root);

    assert_int_equal(run_step(root, "r0", "true", true, bwrap, NULL, 0, &out), 0);
    out = mfree(out);
    assert_int_equal(run_step(root, "r1", "exit 1", true, bwrap, NULL, 0, NULL), 1);
    assert_int_equal(run_step(root, "r2", "exit 255", true, bwrap, NULL, 0, NULL), 254);
    assert_int_equal(run_step(root, "r3", "exit 7", false, bwrap, NULL, 0, NULL), 7);
    /* a shell step stops at the first failure and shows what it runs */
    assert_int_equal(run_step(root, "r4", "echo one\nfalse\necho never\n", true, bwrap, NULL, 0, &out),
                     1);
    assert_non_null(strstr(out, "+ echo one"));
    assert_null(strstr(out, "never"));
    out = mfree(out);

    assert_int_equal(run_step(root, "r5",
                              "printf %s \"$PLAIN\" > PLAIN.out\n"
                              "printf %s \"$QUOTES\" > QUOTES.out\n"
                              "printf %s \"$SUBST\" > SUBST.out\n"
                              "printf %s \"$LINES\" > LINES.out\n"
                              "printf %s \"$EQUALS\" > EQUALS.out\n"
                              "printf %s \"${EMPTY-unset}\" > EMPTY.out\n"
                              "env > env.out\npwd > pwd.out\n",
                              false, bwrap, env, ELEMENTSOF(env), &out),
                     0);
    assert_string_equal(out, "");
    static const char *const names[] = { "PLAIN", "QUOTES", "SUBST", "LINES", "EQUALS", "EMPTY" };
    for (size_t i = 0; i < ELEMENTSOF(names); i++) {
        char f[64];

        snprintf(f, sizeof f, "%s.out", names[i]);
        v = read_file(ws, f);
        assert_non_null(v);
        for (size_t j = 0; j < ELEMENTSOF(env); j++)
            if (strncmp(env[j], names[i], strlen(names[i])) == 0 && env[j][strlen(names[i])] == '=')
                assert_string_equal(v, env[j] + strlen(names[i]) + 1);
        v = mfree(v);
    }
    assert_int_equal(access("/tmp/PWNED-ssh-env", F_OK), -1);
    envdump = read_file(ws, "env.out");
    assert_non_null(envdump);
    /* only the step's variables and the node's basics */
    assert_null(strstr(envdump, "LEAKED_FROM_SSHD"));
    assert_null(strstr(envdump, "SSH_CONNECTION"));
    assert_null(strstr(envdump, "\nEVIL=1"));
    assert_non_null(strstr(envdump, "PATH=/usr/local/bin:/usr/bin:/bin"));
    assert_non_null(strstr(envdump, "HOME=/root"));
    assert_non_null(strstr(envdump, "_under=x"));
    v = read_file(ws, "pwd.out");
    assert_non_null(v);
    assert_non_null(strstr(v, "workspace/job one@2"));
    v = mfree(v);
    /* the workspaces and the run's directory are private; the script and pid file are gone */
    assert_int_equal(mode_of(root, "workspace") & 0077, 0);
    assert_int_equal(mode_of(ws, NULL) & 0077, 0);
    {
        _cleanup_free_ char *st = path_join(root, ".steward");
        char cmd[600];

        assert_int_equal(mode_of(st, NULL), 0700);
        snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s/.steward'; ls -A '%s@tmp')\"", root, ws);
        assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(fs_rm_rf(root), 0);
}


/* The master's probe, run here by a login shell as sshd would (bash, then dash), parses. */
static void
ssh_master_argv__probe_runs_and_parses(void **state)
{
    static const char *const shells[] = { "/bin/bash", "/bin/sh" };
    struct ssh_target t = target();
    _cleanup_(ssh_argv_freep) char **v = ssh_master_argv("/run/st/n1", &t);
    const char *probe;

    (void) state;
    assert_non_null(v);
    probe = v[count(v) - 1];
    for (size_t i = 0; i < ELEMENTSOF(shells); i++) {
        char *argv[] = { (char *) shells[i], "-c", (char *) probe, NULL };
        char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/probe", NULL };
        char buf[4096];
        struct proc p;
        struct ssh_probe pr;
        ssize_t n;

        if (access(shells[i], X_OK) < 0)
            continue;
        /* stdin at its end at once: /dev/null, as a master whose pipe is closed */
        p.out = -1;
        {
            char tmpl[] = "/tmp/test-ssh-out-XXXXXX";

            p.out = mkstemp(tmpl);
            assert_true(p.out >= 0);
            (void) unlink(tmpl);
        }
        assert_int_equal(spawn_start(&(struct spawn_req){ .path = argv[0], .argv = argv,
                                                           .envp = envp, .cwd = "/",
                                                           .out_fd = p.out },
                                     &p.pid, &p.pidfd),
                         0);
        {
            char *out = NULL;

            assert_int_equal(finish(&p, &out), 0);
            n = (ssize_t) strlen(out);
            assert_true(n < (ssize_t) sizeof buf);
            memcpy(buf, out, (size_t) n + 1);
            free(out);
        }
        assert_int_equal(ssh_probe_parse(buf, (size_t) n, &pr), 0);
        assert_non_null(strstr(pr.uname, "Linux"));
        assert_string_equal(pr.home, "/home/probe");
        assert_true(pr.setsid);
        assert_int_equal(pr.bwrap, bwrap_works());
        ssh_probe_release(&pr);
    }
}

/* A step's private files (a Git credential) are there while it runs, with their modes, and go after. */
static void
ssh_build_payload__writes_private_files_for_the_step_alone(void **state)
{
    _cleanup_free_ char *root = mktemp_dir(), *out = NULL, *pd = NULL, *ws = NULL;
    static const char key[] = "-----BEGIN KEY-----\nit's $(not) `run`\n-----END KEY-----\n";
    const struct ssh_file files[] = {
        { .name = "key", .data = key, .len = sizeof key - 1 },
        { .name = "askpass", .data = "#!/bin/sh\necho pass\n", .len = 20, .exec = true },
    };
    struct ssh_file bad = { .name = "../x", .data = "x", .len = 1 };
    struct ssh_run run = { .root = root, .workspace = "w", .run_id = "pf1", .shell = false };
    _cleanup_free_ char *why = NULL;
    char script[1024];
    struct proc p;
    int fd;

    (void) state;
    pd = ssh_private_dir(root, "pf1");
    assert_non_null(pd);
    snprintf(script, sizeof script,
             "cat '%s/key' > key.copy\nstat -c %%a '%s/key' '%s/askpass' > modes\n'%s/askpass' > said\n",
             pd, pd, pd, pd);
    run.script = script;
    run.files = files;
    run.n_files = ELEMENTSOF(files);
    assert_int_equal(ssh_build_payload(&run, &fd, &why), 0);
    p = start_payload(fd);
    assert_int_equal(finish(&p, &out), 0);
    ws = path_join(root, "workspace/w");
    out = mfree(out);
    out = read_file(ws, "key.copy");
    assert_string_equal(out, key);
    out = mfree(out);
    out = read_file(ws, "modes");
    assert_string_equal(out, "600\n700\n");
    out = mfree(out);
    out = read_file(ws, "said");
    assert_string_equal(out, "pass\n");
    /* gone after the step */
    assert_int_equal(access(pd, F_OK), -1);
    /* a name that is not a plain file name is refused */
    run.files = &bad;
    run.n_files = 1;
    assert_int_equal(ssh_build_payload(&run, &fd, &why), -EINVAL);
    assert_non_null(why);
    assert_int_equal(fs_rm_rf(root), 0);
}

static void
ssh_build_payload__runs_steps_with_their_environment(void **state)
{
    (void) state;
    check_exit_codes_and_env(false);
}

static void
ssh_build_payload__runs_steps_in_bubblewrap(void **state)
{
    _cleanup_free_ char *root = mktemp_dir(), *out = NULL;

    (void) state;
    if (!bwrap_works())
        skip();
    check_exit_codes_and_env(true);
    /* a PID namespace of its own, / read-only, its own /tmp */
    root = mfree(root);
    root = mktemp_dir();
    assert_int_equal(run_step(root, "b1",
                              "test $$ -lt 10 && echo small-pid\n"
                              "touch /usr/steward-test 2>/dev/null || echo ro-root\n"
                              "test -e /tmp/test-ssh-out-marker || echo own-tmp\n",
                              true, true, NULL, 0, &out),
                     0);
    assert_non_null(strstr(out, "small-pid"));
    assert_non_null(strstr(out, "ro-root"));
    assert_non_null(strstr(out, "own-tmp"));
    assert_int_equal(fs_rm_rf(root), 0);
}

static void
ssh_build_payload__runs_a_shebang_script_from_its_file(void **state)
{
    _cleanup_free_ char *root = mktemp_dir(), *out = NULL;

    (void) state;
    assert_int_equal(run_step(root, "s1", "#!/bin/sh -e\necho \"ran $0\"\nexit 3\n", true, false,
                              NULL, 0, &out),
                     3);
    assert_non_null(strstr(out, "ran "));
    assert_non_null(strstr(out, "job one@2@tmp/steward-s1.sh"));
    assert_int_equal(fs_rm_rf(root), 0);
}

static void
ssh_build_payload__refuses_bad_runs(void **state)
{
    char *bad_env[] = { "PATH+EXTRA=/x" };
    struct ssh_run run = { .root = "/srv/n", .workspace = "j", .run_id = "abc", .script = "true",
                           .shell = true };
    _cleanup_free_ char *why = NULL;
    int fd = -1;

    (void) state;
    run.env = bad_env;
    run.n_env = 1;
    assert_int_equal(ssh_build_payload(&run, &fd, &why), -EINVAL);
    assert_non_null(strstr(why, "PATH+EXTRA"));
    why = mfree(why);
    run.n_env = 0;
    run.run_id = "a-b";
    assert_int_equal(ssh_build_payload(&run, &fd, &why), -EINVAL);
    why = mfree(why);
    run.run_id = "abc";
    run.workspace = "../x";
    assert_int_equal(ssh_build_payload(&run, &fd, &why), -EINVAL);
    why = mfree(why);
    run.workspace = "j";
    run.root = "relative";
    assert_int_equal(ssh_build_payload(&run, &fd, &why), -EINVAL);
    why = mfree(why);
    run.root = "/srv/n";
    {
        char *big = malloc(BOUND_SSH_SCRIPT_BYTES + 2);

        memset(big, 'x', BOUND_SSH_SCRIPT_BYTES + 1);
        big[BOUND_SSH_SCRIPT_BYTES + 1] = '\0';
        run.script = big;
        assert_int_equal(ssh_build_payload(&run, &fd, &why), -E2BIG);
        why = mfree(why);
        free(big);
    }
    /* the payload is sealed */
    run.script = "true";
    assert_int_equal(ssh_build_payload(&run, &fd, &why), 0);
    assert_int_equal(write(fd, "x", 1), -1);
    close(fd);
    assert_int_equal(ssh_kill_payload("/srv/n", "a;b", 1, &fd, &why), -EINVAL);
}

static bool
process_gone(pid_t pid)
{
    char path[64], *stat = NULL;
    size_t len;
    bool gone;

    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    if (fs_read_all(path, 4096, &stat, &len) < 0)
        return true;
    /* a zombie is gone for our purpose: nothing of it runs */
    gone = strstr(stat, ") Z ") != NULL;
    free(stat);
    return gone;
}

static int
run_kill(const char *root, const char *id)
{
    _cleanup_free_ char *why = NULL;
    struct proc p;
    int fd;

    assert_int_equal(ssh_kill_payload(root, id, 2, &fd, &why), 0);
    p = start_payload(fd);
    return finish(&p, NULL);
}

static void
check_kill(bool bwrap)
{
    _cleanup_free_ char *root = mktemp_dir(), *pf = NULL, *gcf = NULL, *gc = NULL;
    struct ssh_run run = { .root = root, .workspace = "k", .run_id = "kill1",
                           .script = "sleep 1000 &\necho $! > gc.pid\n"
                                     "while :; do sleep 1; done\n",
                           .shell = true, .bwrap = bwrap };
    _cleanup_free_ char *why = NULL;
    struct proc p;
    pid_t gcpid;
    int fd, rc;
    char path[600];

    assert_int_equal(ssh_build_payload(&run, &fd, &why), 0);
    p = start_payload(fd);
    snprintf(path, sizeof path, "%s/.steward/kill1.pid", root);
    pf = strdup(path);
    snprintf(path, sizeof path, "%s/workspace/k/gc.pid", root);
    gcf = strdup(path);
    assert_true(wait_exists(pf, true));
    assert_true(wait_exists(gcf, true));
    /* the grandchild has written its pid once the file has a line */
    for (int i = 0; i < 3000; i++) {
        gc = mfree(gc);
        {
            size_t len;

            if (fs_read_all(gcf, 64, &gc, &len) == 0 && len > 0 && gc[len - 1] == '\n')
                break;
        }
        nap();
    }
    assert_non_null(gc);
    gcpid = (pid_t) atoi(gc);
    assert_true(gcpid > 0);
    if (!bwrap)
        assert_false(process_gone(gcpid));

    assert_int_equal(run_kill(root, "kill1"), 0);
    rc = finish(&p, NULL);
    assert_true(rc == 128 + SIGTERM || rc == 128 + SIGKILL);
    assert_true(wait_exists(pf, false));
    if (!bwrap) {
        bool gone = false;

        for (int i = 0; i < 3000 && !(gone = process_gone(gcpid)); i++)
            nap();
        assert_true(gone);
    } else {
        /* the pid is the namespace's: that no sleep 1000 of this test is left says it */
        snprintf(path, sizeof path, "pgrep -f '^sleep 1000$' >/dev/null");
        for (int i = 0; i < 3000 && system(path) == 0; i++)
            nap();
        assert_int_not_equal(system(path), 0);
    }
    assert_int_equal(fs_rm_rf(root), 0);
}

static void
ssh_kill_payload__kills_the_whole_group(void **state)
{
    (void) state;
    check_kill(false);
}

static void
ssh_kill_payload__kills_the_whole_group_in_bubblewrap(void **state)
{
    (void) state;
    if (!bwrap_works())
        skip();
    check_kill(true);
}

static void
ssh_kill_payload__stale_or_missing_runs_are_no_error(void **state)
{
    _cleanup_free_ char *root = mktemp_dir(), *st = path_join(root, ".steward");
    _cleanup_free_ char *pf = path_join(st, "old.pid"), *pf2 = path_join(st, "reused.pid");
    char line[64];

    (void) state;
    assert_int_equal(run_kill(root, "never"), 0);
    assert_int_equal(mkdir(st, 0700), 0);
    /* a process that is gone */
    assert_int_equal(fs_write_atomic(pf, "4194000 12345\n", 14, 0600), 0);
    assert_int_equal(run_kill(root, "old"), 0);
    assert_int_equal(access(pf, F_OK), -1);
    /* a pid that another process has now (this test's own: it must survive) */
    snprintf(line, sizeof line, "%d 1\n", (int) getpid());
    assert_int_equal(fs_write_atomic(pf2, line, strlen(line), 0600), 0);
    assert_int_equal(run_kill(root, "reused"), 0);
    assert_int_equal(access(pf2, F_OK), -1);
    assert_int_equal(fs_rm_rf(root), 0);
}

static void
ssh_build_payload__keeps_the_pid_file_while_the_step_runs(void **state)
{
    _cleanup_free_ char *root = mktemp_dir(), *pf = NULL, *go = NULL, *rec = NULL;
    struct ssh_run run = { .root = root, .workspace = "w", .run_id = "pidf",
                           .script = "while [ ! -e go ]; do sleep 0.05; done\n", .shell = false };
    _cleanup_free_ char *why = NULL;
    struct proc p;
    int fd;
    char path[600];

    (void) state;
    assert_int_equal(ssh_build_payload(&run, &fd, &why), 0);
    p = start_payload(fd);
    snprintf(path, sizeof path, "%s/.steward/pidf.pid", root);
    pf = strdup(path);
    snprintf(path, sizeof path, "%s/workspace/w/go", root);
    go = strdup(path);
    assert_true(wait_exists(pf, true));
    for (int i = 0; i < 3000; i++) {
        size_t len;

        rec = mfree(rec);
        if (fs_read_all(pf, 64, &rec, &len) == 0 && len > 0)
            break;
        nap();
    }
    /* "PGID STARTTIME" of a process group leader that is running */
    {
        int pgid = 0;
        unsigned long long start = 0;

        assert_int_equal(sscanf(rec, "%d %llu", &pgid, &start), 2);
        assert_int_equal(getpgid(pgid), pgid);
        assert_int_equal(getsid(pgid), pgid);
    }
    assert_int_equal(fs_write_atomic(go, "", 0, 0600), 0);
    assert_int_equal(finish(&p, NULL), 0);
    assert_int_equal(access(pf, F_OK), -1);
    assert_int_equal(fs_rm_rf(root), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ssh_quote__single_quotes_everything_and_refuses_nul),
        cmocka_unit_test(ssh_quote__survives_a_real_shell),
        cmocka_unit_test(ssh_env_name_is_valid__takes_shell_names_only),
        cmocka_unit_test(ssh_master_argv__is_strict_and_holds_no_secret),
        cmocka_unit_test(ssh_session_argv__runs_the_fixed_command_over_the_master),
        cmocka_unit_test(ssh_node_prepare__writes_the_private_directory),
        cmocka_unit_test(ssh_node_prepare__refuses_what_it_cannot_verify),
        cmocka_unit_test(ssh_probe_parse__reads_the_facts_up_to_ready),
        cmocka_unit_test(ssh_master_argv__probe_runs_and_parses),
        cmocka_unit_test(ssh_build_payload__runs_steps_with_their_environment),
        cmocka_unit_test(ssh_build_payload__writes_private_files_for_the_step_alone),
        cmocka_unit_test(ssh_build_payload__runs_steps_in_bubblewrap),
        cmocka_unit_test(ssh_build_payload__runs_a_shebang_script_from_its_file),
        cmocka_unit_test(ssh_build_payload__refuses_bad_runs),
        cmocka_unit_test(ssh_build_payload__keeps_the_pid_file_while_the_step_runs),
        cmocka_unit_test(ssh_kill_payload__kills_the_whole_group),
        cmocka_unit_test(ssh_kill_payload__kills_the_whole_group_in_bubblewrap),
        cmocka_unit_test(ssh_kill_payload__stale_or_missing_runs_are_no_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
