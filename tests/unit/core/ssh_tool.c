/* SPDX-License-Identifier: MIT */
/*
 * What core/ssh.c makes, on stdout, for tests that drive a real ssh
 * (tests/e2e/test_ssh_transport.py): the node's directory prepared, the
 * master's and a session's argv and environment (NUL-separated), the
 * program of a build step or of its stop.
 *
 *   ssh_tool prepare|master|session|env DIR HOST PORT USER KEYFILE HOSTKEY ALIVE
 *       HOSTKEY: provided:LINE, known:PATH, trusted or none; ALIVE: the
 *       ServerAlive interval (count 2); the passphrase in $STEWARD_TEST_PASSPHRASE
 *   ssh_tool payload ROOT WORKSPACE RUNID shell|plain bwrap|plain SCRIPTFILE [NAME=VALUE...]
 *   ssh_tool kill ROOT RUNID GRACE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ssh.h"
#include "util/fs.h"
#include "util/macro.h"

static int
print_vector(char **v)
{
    if (!v)
        return 1;
    for (size_t i = 0; v[i]; i++)
        fwrite(v[i], 1, strlen(v[i]) + 1, stdout);
    ssh_argv_free(v);
    return 0;
}

static int
copy_fd(int fd)
{
    char b[65536];
    ssize_t n;

    while ((n = read(fd, b, sizeof b)) > 0)
        fwrite(b, 1, (size_t) n, stdout);
    close(fd);
    return n < 0;
}

int
main(int argc, char **argv)
{
    _cleanup_free_ char *key = NULL, *why = NULL, *script = NULL;
    size_t len = 0;
    int fd, r;

    if (argc >= 9 && (streq(argv[1], "prepare") || streq(argv[1], "master") ||
                      streq(argv[1], "session") || streq(argv[1], "env"))) {
        const char *dir = argv[2], *hk = argv[7], *pp = getenv("STEWARD_TEST_PASSPHRASE");
        struct ssh_target t = { .host = argv[3], .port = (unsigned) atoi(argv[4]),
                                .user = argv[5], .connect_timeout_s = 10,
                                .alive_interval_s = (unsigned) atoi(argv[8]),
                                .alive_count_max = 2 };

        if (pp && *pp) {
            t.passphrase = pp;
            t.passphrase_len = strlen(pp);
        }
        if (strncmp(hk, "provided:", 9) == 0) {
            t.host_key_kind = SSH_HOST_KEY_MANUALLY_PROVIDED;
            t.host_key = hk + 9;
        } else if (strncmp(hk, "known:", 6) == 0) {
            t.host_key_kind = SSH_HOST_KEY_KNOWN_HOSTS_FILE;
            t.known_hosts_file = hk + 6;
        } else if (streq(hk, "trusted"))
            t.host_key_kind = SSH_HOST_KEY_MANUALLY_TRUSTED;
        else
            t.host_key_kind = SSH_HOST_KEY_NON_VERIFYING;
        if (streq(argv[1], "master"))
            return print_vector(ssh_master_argv(dir, &t));
        if (streq(argv[1], "session"))
            return print_vector(ssh_session_argv(dir, &t));
        if (streq(argv[1], "env"))
            return print_vector(ssh_envp(dir, &t));
        if (fs_read_all(argv[6], 1 << 20, &key, &len) < 0)
            return 2;
        t.key = key;
        t.key_len = len;
        r = ssh_node_prepare(dir, &t, &why);
        if (r < 0) {
            fprintf(stderr, "%s (%s)\n", why ? why : "", strerror(-r));
            return 1;
        }
        return 0;
    }
    if (argc >= 8 && streq(argv[1], "payload")) {
        struct ssh_run run = { .root = argv[2], .workspace = argv[3], .run_id = argv[4],
                               .shell = streq(argv[5], "shell"), .bwrap = streq(argv[6], "bwrap"),
                               .env = argv + 8, .n_env = (size_t) (argc - 8) };

        if (fs_read_all(argv[7], 1 << 21, &script, &len) < 0)
            return 2;
        run.script = script;
        r = ssh_build_payload(&run, &fd, &why);
        if (r < 0) {
            fprintf(stderr, "%s (%s)\n", why ? why : "", strerror(-r));
            return 1;
        }
        return copy_fd(fd);
    }
    if (argc == 5 && streq(argv[1], "kill")) {
        r = ssh_kill_payload(argv[2], argv[3], (unsigned) atoi(argv[4]), &fd, &why);
        if (r < 0) {
            fprintf(stderr, "%s (%s)\n", why ? why : "", strerror(-r));
            return 1;
        }
        return copy_fd(fd);
    }
    fprintf(stderr, "usage: see the top of tests/unit/core/ssh_tool.c\n");
    return 2;
}
