/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/nodes.h"
#include "util/bounds.h"
#include "util/fs.h"

#define KEY "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

static const char ssh_xml[] =
    "<?xml version='1.1' encoding='UTF-8'?>\n"
    "<slave>\n"
    "  <name>a1</name>\n"
    "  <description>first agent</description>\n"
    "  <remoteFS>/home/build</remoteFS>\n"
    "  <numExecutors>3</numExecutors>\n"
    "  <mode>EXCLUSIVE</mode>\n"
    "  <retentionStrategy class=\"hudson.slaves.RetentionStrategy$Always\"/>\n"
    "  <launcher class=\"hudson.plugins.sshslaves.SSHLauncher\" plugin=\"ssh-slaves@2.9\">\n"
    "    <host>build1.example.com</host>\n"
    "    <port>2222</port>\n"
    "    <credentialsId>build-key</credentialsId>\n"
    "    <sshHostKeyVerificationStrategy class=\"hudson.plugins.sshslaves.verifiers.ManuallyProvidedKeyVerificationStrategy\">\n"
    "      <key><algorithm>ssh-ed25519</algorithm><key>" KEY "</key></key>\n"
    "    </sshHostKeyVerificationStrategy>\n"
    "    <jvmOptions>-Xmx1g</jvmOptions>\n"
    "    <launchTimeoutSeconds>60</launchTimeoutSeconds>\n"
    "  </launcher>\n"
    "  <label>linux  amd64</label>\n"
    "  <nodeProperties/>\n"
    "</slave>\n";

static char *with(const char *from, const char *to)
{
    const char *at = strstr(ssh_xml, from);
    char *s;

    assert_non_null(at);
    assert_true(asprintf(&s, "%.*s%s%s", (int) (at - ssh_xml), ssh_xml, to, at + strlen(from)) > 0);
    return s;
}

static char *parse_error(const char *xml)
{
    struct node_config c = {};
    char *why = NULL;

    assert_int_equal(nodecfg_parse(xml, strlen(xml), &c, &why), -EINVAL);
    assert_non_null(why);
    return why;
}

static void nodecfg__reads_an_ssh_node(void **state)
{
    struct node_config c = {};
    char *why = NULL;

    (void) state;
    assert_int_equal(nodecfg_parse(ssh_xml, strlen(ssh_xml), &c, &why), 0);
    assert_string_equal(c.name, "a1");
    assert_string_equal(c.description, "first agent");
    assert_string_equal(c.remote_fs, "/home/build");
    assert_int_equal(c.executors, 3);
    assert_int_equal(c.mode, NODE_MODE_EXCLUSIVE);
    assert_int_equal(c.n_labels, 2);
    assert_string_equal(c.labels[0], "linux");
    assert_string_equal(c.labels[1], "amd64");
    assert_int_equal(c.launcher, NODE_LAUNCHER_SSH);
    assert_string_equal(c.host, "build1.example.com");
    assert_int_equal(c.port, 2222);
    assert_string_equal(c.credentials_id, "build-key");
    assert_int_equal(c.host_key_strategy, NODE_HOST_KEY_MANUALLY_PROVIDED);
    assert_string_equal(c.host_key_algorithm, "ssh-ed25519");
    assert_string_equal(c.host_key, KEY);
    node_config_release(&c);
}

static void nodecfg__write_reads_back_the_same(void **state)
{
    struct node_config c = {}, d = {};
    char *xml, *why = NULL;

    (void) state;
    assert_int_equal(nodecfg_parse(ssh_xml, strlen(ssh_xml), &c, &why), 0);
    xml = nodecfg_write(&c);
    assert_non_null(xml);
    assert_int_equal(nodecfg_parse(xml, strlen(xml), &d, &why), 0);
    assert_string_equal(d.name, c.name);
    assert_string_equal(d.description, c.description);
    assert_string_equal(d.remote_fs, c.remote_fs);
    assert_int_equal(d.executors, c.executors);
    assert_int_equal(d.mode, c.mode);
    assert_int_equal(d.n_labels, 2);
    assert_string_equal(d.labels[1], "amd64");
    assert_string_equal(d.host, c.host);
    assert_int_equal(d.port, c.port);
    assert_string_equal(d.credentials_id, c.credentials_id);
    assert_int_equal(d.host_key_strategy, c.host_key_strategy);
    assert_string_equal(d.host_key, c.host_key);
    free(xml);
    node_config_release(&c);
    node_config_release(&d);
}

static void nodecfg__accepts_the_other_roots_and_launchers(void **state)
{
    struct node_config c = {};
    char *why = NULL;
    static const char jnlp[] =
        "<hudson.slaves.DumbSlave><name>w1</name><numExecutors>1</numExecutors>"
        "<launcher class=\"hudson.slaves.JNLPLauncher\"/></hudson.slaves.DumbSlave>";
    static const char cls[] =
        "<slave class=\"hudson.slaves.DumbSlave\"><name>c1</name>"
        "<launcher class=\"hudson.slaves.CommandLauncher\"><agentCommand>x</agentCommand>"
        "</launcher></slave>";

    (void) state;
    assert_int_equal(nodecfg_parse(jnlp, strlen(jnlp), &c, &why), 0);
    assert_int_equal(c.launcher, NODE_LAUNCHER_JNLP);
    node_config_release(&c);
    assert_int_equal(nodecfg_parse(cls, strlen(cls), &c, &why), 0);
    assert_int_equal(c.launcher, NODE_LAUNCHER_COMMAND);
    assert_int_equal(c.executors, 1);
    node_config_release(&c);
}

static void nodecfg__refuses_bad_input_with_a_reason(void **state)
{
    static const struct { const char *from, *to, *says; } cases[] = {
        { "<numExecutors>3", "<numExecutors>0", "numExecutors" },
        { "<numExecutors>3", "<numExecutors>many", "numExecutors" },
        { "<numExecutors>3", "<numExecutors>65", "numExecutors" },
        { "<name>a1", "<name>built-in", "built-in" },
        { "<name>a1", "<name>a/b", "node name" },
        { "<name>a1", "<name>a b", "spaces" },
        { "<port>2222", "<port>70000", "port" },
        { "<host>build1.example.com", "<host>", "host" },
        { "<remoteFS>/home/build", "<remoteFS>relative", "remoteFS" },
        { "<mode>EXCLUSIVE", "<mode>SOMETIMES", "mode" },
        { "<host>build1.example.com", "<host>-oProxyCommand=x", "host" },
        { "<host>build1.example.com", "<host>a&#9;b", "host" },
        { "<credentialsId>build-key", "<credentialsId>a b", "credentialsId" },
        { "<remoteFS>/home/build", "<remoteFS>/home/&#10;x", "remoteFS" },
        { "</slave>", "</slaf>", "well-formed" },
        { "<?xml version='1.1' encoding='UTF-8'?>", "<!DOCTYPE x [<!ENTITY e \"x\">]>", "DOCTYPE" },
        { KEY, "AAAA", "host key" },
        { "ManuallyProvidedKeyVerificationStrategy", "Whatever", "not one Steward knows" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *xml = with(cases[i].from, cases[i].to);
        char *why = parse_error(xml);

        if (!strstr(why, cases[i].says))
            fail_msg("case %zu: \"%s\" does not say %s", i, why, cases[i].says);
        free(why);
        free(xml);
    }
    {
        char *why = parse_error("<project><name>a</name></project>");

        assert_non_null(strstr(why, "<slave>"));
        free(why);
    }
}

static void node_host_key_parse__reads_keyscan_lines(void **state)
{
    char *a = NULL, *k = NULL;
    const char *why;

    (void) state;
    assert_int_equal(node_host_key_parse("ssh-ed25519 " KEY, &a, &k, &why), 0);
    assert_string_equal(a, "ssh-ed25519");
    assert_string_equal(k, KEY);
    free(a);
    free(k);
    assert_int_equal(node_host_key_parse("build1 ssh-ed25519 " KEY " comment\n", &a, &k, &why), 0);
    assert_string_equal(k, KEY);
    free(a);
    free(k);
    a = node_host_key_fingerprint(KEY);
    /* what ssh-keygen -l says of it */
    assert_string_equal(a, "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU");
    free(a);
    assert_null(node_host_key_fingerprint("not base64!"));
    assert_int_equal(node_host_key_parse("ssh-rsa " KEY, &a, &k, &why), -EINVAL);
    assert_int_equal(node_host_key_parse("nonsense", &a, &k, &why), -EINVAL);
    assert_int_equal(node_host_key_parse("", &a, &k, &why), -EINVAL);
}

static char home[64];

static int setup(void **state)
{
    (void) state;
    strcpy(home, "/tmp/steward-nodes-XXXXXX");
    assert_non_null(mkdtemp(home));
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    fs_rm_rf(home);
    return 0;
}

static int calls;
static void on_change(void *userdata) { (void) userdata; calls++; }

static void nodes__create_update_delete(void **state)
{
    struct nodes *n = NULL;
    struct node *v = NULL, *one = NULL;
    size_t cnt = 0, len = 0;
    char *why = NULL, *name = NULL, *xml = NULL, *changed;
    uint64_t g;

    (void) state;
    assert_int_equal(nodes_open(home, &n), 0);
    nodes_set_notify(n, on_change, NULL);
    assert_int_equal(nodes_create(n, ssh_xml, strlen(ssh_xml), &name, &why), 0);
    assert_string_equal(name, "a1");
    free(name);
    assert_int_equal(calls, 1);
    assert_int_equal(nodes_create(n, ssh_xml, strlen(ssh_xml), NULL, &why), -EEXIST);
    assert_int_equal(nodes_list(n, &v, &cnt), 0);
    assert_int_equal(cnt, 1);
    assert_string_equal(v[0].labels[0], "a1");
    assert_int_equal(v[0].n_labels, 3);
    assert_int_equal(v[0].state, NODE_CONNECTING);
    assert_string_equal(v[0].offline_reason, "not connected yet");
    assert_false(v[0].temporarily_offline);
    nodes_array_free(v, cnt);

    /* the stored file is what was posted */
    assert_int_equal(nodes_get_config(n, "a1", &xml, &len), 0);
    assert_string_equal(xml, ssh_xml);
    free(xml);

    g = nodes_generation(n);
    changed = with("<numExecutors>3", "<numExecutors>5");
    assert_int_equal(nodes_update(n, "a1", changed, strlen(changed), &why), 0);
    free(changed);
    assert_true(nodes_generation(n) > g);
    assert_int_equal(nodes_get(n, "a1", &one), 0);
    assert_int_equal(one->cfg.executors, 5);
    one = node_free(one);

    /* a bad update changes nothing */
    changed = with("<numExecutors>3", "<numExecutors>0");
    assert_int_equal(nodes_update(n, "a1", ssh_xml, strlen(ssh_xml) - 3, &why), -EINVAL);
    free(why);
    why = NULL;
    free(changed);
    changed = with("<name>a1", "<name>a2");
    assert_int_equal(nodes_update(n, "a1", changed, strlen(changed), &why), -EINVAL);
    free(why);
    why = NULL;
    free(changed);
    assert_int_equal(nodes_get(n, "a1", &one), 0);
    assert_int_equal(one->cfg.executors, 5);
    one = node_free(one);

    /* the engine's first attempt, before it knows anything: still "not connected yet" */
    assert_int_equal(nodes_set_runtime(n, "a1", NODE_CONNECTING, NULL, 0, false, NULL), 0);
    assert_int_equal(nodes_get(n, "a1", &one), 0);
    assert_int_equal(one->state, NODE_CONNECTING);
    assert_string_equal(one->offline_reason, "not connected yet");
    one = node_free(one);

    assert_int_equal(nodes_set_runtime(n, "a1", NODE_ONLINE, NULL, 2, true, "Linux a1"), 0);
    assert_int_equal(nodes_get(n, "a1", &one), 0);
    assert_int_equal(one->state, NODE_ONLINE);
    assert_int_equal(one->busy_executors, 2);
    assert_string_equal(one->os_line, "Linux a1");
    one = node_free(one);

    assert_int_equal(nodes_delete(n, "a1"), 0);
    assert_int_equal(nodes_delete(n, "a1"), -ENOENT);
    assert_int_equal(nodes_count(n), 0);
    nodes_free(n);
}

static void nodes__offline_survives_a_reopen(void **state)
{
    struct nodes *n = NULL, *other = NULL;
    struct node *one = NULL;
    char *why = NULL;

    (void) state;
    assert_int_equal(nodes_open(home, &n), 0);
    assert_int_equal(nodes_create(n, ssh_xml, strlen(ssh_xml), NULL, &why), 0);
    assert_int_equal(nodes_set_offline(n, "a1", true, "disk full\nsecond line"), 0);
    nodes_free(n);
    assert_int_equal(nodes_open(home, &n), 0);
    assert_int_equal(nodes_get(n, "a1", &one), 0);
    assert_true(one->temporarily_offline);
    assert_string_equal(one->offline_message, "disk full second line");
    one = node_free(one);

    /* another process's change is seen */
    assert_int_equal(nodes_open(home, &other), 0);
    assert_int_equal(nodes_set_offline(other, "a1", false, NULL), 0);
    assert_int_equal(nodes_get(n, "a1", &one), 0);
    assert_false(one->temporarily_offline);
    one = node_free(one);
    assert_int_equal(nodes_delete(other, "a1"), 0);
    assert_int_equal(nodes_get(n, "a1", &one), -ENOENT);
    nodes_free(other);
    nodes_free(n);
}

static void nodes__a_directory_completed_later_is_read(void **state)
{
    char dir[128], cfg[160];
    struct nodes *n = NULL;
    char *why = NULL;

    (void) state;
    assert_int_equal(nodes_open(home, &n), 0);
    snprintf(dir, sizeof(dir), "%s/nodes/a1", home);
    snprintf(cfg, sizeof(cfg), "%s/config.xml", dir);
    /* another process has made the directory, not yet the file */
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(nodes_count(n), 0);
    assert_int_equal(fs_write_atomic(cfg, ssh_xml, strlen(ssh_xml), 0600), 0);
    assert_int_equal(nodes_count(n), 1);
    /* a config.xml broken on disk: left out, and mended over the API's path */
    assert_int_equal(fs_write_atomic(cfg, "<slave>", 7, 0600), 0);
    assert_int_equal(nodes_count(n), 0);
    assert_int_equal(nodes_update(n, "a1", ssh_xml, strlen(ssh_xml), &why), 0);
    assert_int_equal(nodes_count(n), 1);
    assert_int_equal(nodes_delete(n, "a1"), 0);
    /* a directory left empty by a create that died is free to take */
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(nodes_create(n, ssh_xml, strlen(ssh_xml), NULL, &why), 0);
    assert_int_equal(nodes_count(n), 1);
    assert_int_equal(nodes_delete(n, "a1"), 0);
    nodes_free(n);
}

static void nodes__other_launchers_are_never_usable(void **state)
{
    static const char jnlp[] =
        "<slave><name>w1</name><launcher class=\"hudson.slaves.JNLPLauncher\"/></slave>";
    struct nodes *n = NULL;
    struct node *one = NULL;
    char *why = NULL;

    (void) state;
    assert_int_equal(nodes_open(home, &n), 0);
    assert_int_equal(nodes_create(n, jnlp, strlen(jnlp), NULL, &why), 0);
    assert_int_equal(nodes_set_runtime(n, "w1", NODE_ONLINE, NULL, 0, false, NULL), 0);
    assert_int_equal(nodes_get(n, "w1", &one), 0);
    assert_false(one->usable);
    assert_int_equal(one->state, NODE_OFFLINE);
    assert_non_null(strstr(one->offline_reason, "only SSH nodes"));
    one = node_free(one);
    /* made an SSH node, it waits for the engine like any new one */
    {
        static const char ssh[] =
            "<slave><name>w1</name><remoteFS>/b</remoteFS><launcher "
            "class=\"hudson.plugins.sshslaves.SSHLauncher\"><host>h</host></launcher></slave>";

        assert_int_equal(nodes_update(n, "w1", ssh, strlen(ssh), &why), 0);
        assert_int_equal(nodes_get(n, "w1", &one), 0);
        assert_true(one->usable);
        assert_int_equal(one->state, NODE_CONNECTING);
        assert_string_equal(one->offline_reason, "not connected yet");
        one = node_free(one);
    }
    assert_int_equal(nodes_delete(n, "w1"), 0);
    nodes_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nodecfg__reads_an_ssh_node),
        cmocka_unit_test(nodecfg__write_reads_back_the_same),
        cmocka_unit_test(nodecfg__accepts_the_other_roots_and_launchers),
        cmocka_unit_test(nodecfg__refuses_bad_input_with_a_reason),
        cmocka_unit_test(node_host_key_parse__reads_keyscan_lines),
        cmocka_unit_test(nodes__create_update_delete),
        cmocka_unit_test(nodes__offline_survives_a_reopen),
        cmocka_unit_test(nodes__a_directory_completed_later_is_read),
        cmocka_unit_test(nodes__other_launchers_are_never_usable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
