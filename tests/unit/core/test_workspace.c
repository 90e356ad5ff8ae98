/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/jobcfg.h"
#include "core/workspace.h"
#include "util/fs.h"

static void
workspace_custom_check__takes_one_name_in_the_workspaces(void **state)
{
    const char *why = NULL;

    (void) state;
    assert_int_equal(workspace_custom_check("shared", &why), 0);
    assert_int_equal(workspace_custom_check("workspace/shared", &why), 0);
    assert_int_equal(workspace_custom_check("/var/lib/steward/workspace/shared", &why), 0);
    assert_int_equal(workspace_custom_check("my.ws-1_x", &why), 0);
    static const char *const bad[] = { "", ".", "..", "../x", "a/b", "workspace/..",
                                       "workspace/a/b", "/etc", "/", "/workspace/", "x@2",
                                       "x@tmp", "${WS}", "a\\b", "tab\there" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        assert_int_equal(workspace_custom_check(bad[i], &why), -EINVAL);
        assert_non_null(why);
    }
}

static void
workspace_base__keeps_absolute_paths_in_this_home(void **state)
{
    struct home h = { .workspace_dir = (char *) "/srv/steward/workspace" };
    const char *why = NULL;
    char *p = NULL;

    (void) state;
    assert_int_equal(workspace_base(&h, NULL, "job", NULL, &p, &why), 0);
    assert_string_equal(p, "/srv/steward/workspace/job");
    free(p);
    assert_int_equal(workspace_base(&h, NULL, "job", "workspace/other", &p, &why), 0);
    assert_string_equal(p, "/srv/steward/workspace/other");
    free(p);
    assert_int_equal(workspace_base(&h, NULL, "job", "/srv/steward/workspace/abs", &p, &why), 0);
    assert_string_equal(p, "/srv/steward/workspace/abs");
    free(p);
    assert_int_equal(workspace_base(&h, NULL, "job", "/srv/other/workspace/abs", &p, &why), -EINVAL);
    assert_non_null(why);
}

/* ws/{a.txt, d/b.txt, keep.log, link -> ../outside, flink -> ../outside/s.txt, fifo}, outside/s.txt */
static char *
mktree(void)
{
    char tmpl[] = "/tmp/steward-ws-XXXXXX", p[512];
    char *dir = strdup(mkdtemp(tmpl));
    FILE *f;

    snprintf(p, sizeof p, "%s/ws/d", dir);
    assert_int_equal(fs_mkdir_p(p, 0700), 0);
    snprintf(p, sizeof p, "%s/outside", dir);
    assert_int_equal(fs_mkdir_p(p, 0700), 0);
    static const char *const files[] = { "ws/a.txt", "ws/d/b.txt", "ws/keep.log", "ws/x.log",
                                         "outside/s.txt" };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        f = fopen(p, "w");
        assert_non_null(f);
        fputs(files[i], f);
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/ws/link", dir);
    assert_int_equal(symlink("../outside", p), 0);
    snprintf(p, sizeof p, "%s/ws/flink", dir);
    assert_int_equal(symlink("../outside/s.txt", p), 0);
    snprintf(p, sizeof p, "%s/ws/fifo", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    return dir;
}

static bool
exists(const char *dir, const char *rel)
{
    char p[512];
    struct stat st;

    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return lstat(p, &st) == 0;
}

static void
workspace_open__never_follows_a_link_or_leaves(void **state)
{
    char *dir = mktree(), ws[512];
    struct stat st;
    int fd = -1;

    (void) state;
    snprintf(ws, sizeof ws, "%s/ws", dir);
    assert_int_equal(workspace_open(ws, (const char *const[]){ "d", "b.txt" }, 2, &fd, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    close(fd);
    assert_int_equal(workspace_open(ws, NULL, 0, &fd, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    close(fd);
    assert_int_equal(workspace_open(ws, (const char *const[]){ "link", "s.txt" }, 2, &fd, &st),
                     -ELOOP);
    assert_int_equal(workspace_open(ws, (const char *const[]){ "flink" }, 1, &fd, &st), -ELOOP);
    assert_int_equal(workspace_open(ws, (const char *const[]){ ".." }, 1, &fd, &st), -EACCES);
    assert_int_equal(workspace_open(ws, (const char *const[]){ "d", "..", "a.txt" }, 3, &fd, &st),
                     -EACCES);
    assert_int_equal(workspace_open(ws, (const char *const[]){ "../outside" }, 1, &fd, &st),
                     -EACCES);
    assert_int_equal(workspace_open(ws, (const char *const[]){ "fifo" }, 1, &fd, &st), -EACCES);
    assert_int_equal(workspace_open(ws, (const char *const[]){ "a.txt", "x" }, 2, &fd, &st),
                     -ENOENT);
    assert_int_equal(workspace_open(ws, (const char *const[]){ "nope" }, 1, &fd, &st), -ENOENT);
    assert_int_equal(fs_rm_rf(dir), 0);
    free(dir);
}

static void
workspace_clean__deletes_matches_and_links_as_links(void **state)
{
    char *dir = mktree(), ws[512];
    struct ws_pattern pats[] = { { (char *) "*.log", false }, { (char *) "keep.log", true },
                                 { (char *) "link", false }, { (char *) "flink", false } };
    size_t n = 0;

    (void) state;
    snprintf(ws, sizeof ws, "%s/ws", dir);
    assert_int_equal(workspace_clean(ws, pats, 4, false, &n), 0);
    assert_int_equal(n, 3);
    assert_false(exists(dir, "ws/x.log"));
    assert_true(exists(dir, "ws/keep.log"));
    assert_true(exists(dir, "ws/a.txt"));
    assert_false(exists(dir, "ws/link"));
    assert_false(exists(dir, "ws/flink"));
    assert_true(exists(dir, "outside/s.txt"));
    /* directories go only with deleteDirs */
    pats[0].pattern = (char *) "d";
    assert_int_equal(workspace_clean(ws, pats, 1, false, &n), 0);
    assert_true(exists(dir, "ws/d/b.txt"));
    assert_int_equal(workspace_clean(ws, pats, 1, true, &n), 0);
    assert_false(exists(dir, "ws/d"));
    assert_int_equal(fs_rm_rf(dir), 0);
    free(dir);
}

static void
workspace_rm_at__removes_the_tree_not_what_links_point_at(void **state)
{
    char *dir = mktree();
    int fd = open(dir, O_RDONLY | O_DIRECTORY);

    (void) state;
    assert_int_equal(workspace_rm_at(fd, "ws"), 0);
    assert_false(exists(dir, "ws"));
    assert_true(exists(dir, "outside/s.txt"));
    assert_int_equal(workspace_rm_at(fd, "ws"), 0);   /* gone already: fine */
    close(fd);
    assert_int_equal(fs_rm_rf(dir), 0);
    free(dir);
}

#define PROJECT(body) \
    "<project><builders/><buildWrappers>" body "</buildWrappers></project>"
#define ABSOLUTE(v, ops)                                                                      \
    PROJECT("<hudson.plugins.build__timeout.BuildTimeoutWrapper><strategy class=\""           \
            "hudson.plugins.build_timeout.impl.AbsoluteTimeOutStrategy\"><timeoutMinutes>" v   \
            "</timeoutMinutes></strategy><operationList>" ops "</operationList>"               \
            "<timeoutEnvVar>T_MS</timeoutEnvVar>"                                              \
            "</hudson.plugins.build__timeout.BuildTimeoutWrapper>")

static int
parse(const char *xml, struct job_config **cfg, char **msg)
{
    *cfg = NULL;
    *msg = NULL;
    return jobcfg_parse(xml, strlen(xml), cfg, msg);
}

static void
jobcfg_parse__reads_the_build_timeout(void **state)
{
    struct job_config *cfg;
    char *msg;

    (void) state;
    assert_int_equal(parse(ABSOLUTE("7", "<hudson.plugins.build__timeout.operations.FailOperation/>"
                                         "<hudson.plugins.build__timeout.operations."
                                         "WriteDescriptionOperation><description>after {0}"
                                         "</description></hudson.plugins.build__timeout."
                                         "operations.WriteDescriptionOperation>"),
                           &cfg, &msg), 0);
    assert_non_null(cfg->timeout);
    assert_int_equal(cfg->timeout->strategy, TIMEOUT_ABSOLUTE);
    assert_string_equal(cfg->timeout->value, "7");
    assert_true(cfg->timeout->fail);
    assert_false(cfg->timeout->abort);
    assert_true(cfg->timeout->write_description);
    assert_string_equal(cfg->timeout->description, "after {0}");
    assert_string_equal(cfg->timeout->env_var, "T_MS");
    jobcfg_free(cfg);
    /* an empty operation list aborts, as the plugin does */
    assert_int_equal(parse(ABSOLUTE("${MINUTES}", ""), &cfg, &msg), 0);
    assert_true(cfg->timeout->abort);
    jobcfg_free(cfg);
}

static void
jobcfg_parse__reads_the_older_timeout_form(void **state)
{
    struct job_config *cfg;
    char *msg;

    (void) state;
    assert_int_equal(parse(PROJECT("<hudson.plugins.build__timeout.BuildTimeoutWrapper>"
                                   "<timeoutMinutes>5</timeoutMinutes><failBuild>true</failBuild>"
                                   "<writingDescription>true</writingDescription>"
                                   "</hudson.plugins.build__timeout.BuildTimeoutWrapper>"),
                           &cfg, &msg), 0);
    assert_int_equal(cfg->timeout->strategy, TIMEOUT_ABSOLUTE);
    assert_string_equal(cfg->timeout->value, "5");
    assert_true(cfg->timeout->fail);
    assert_false(cfg->timeout->abort);
    assert_true(cfg->timeout->write_description);
    assert_null(cfg->timeout->description);
    jobcfg_free(cfg);
    assert_int_equal(parse(PROJECT("<hudson.plugins.build__timeout.BuildTimeoutWrapper>"
                                   "<timeoutType>likelyStuck</timeoutType>"
                                   "</hudson.plugins.build__timeout.BuildTimeoutWrapper>"),
                           &cfg, &msg), 0);
    assert_int_equal(cfg->timeout->strategy, TIMEOUT_OTHER);
    assert_string_equal(cfg->timeout->other, "likelyStuck");
    jobcfg_free(cfg);
}

static void
jobcfg_parse__refuses_a_timeout_of_zero_or_less(void **state)
{
    static const char *const xmls[] = { ABSOLUTE("0", ""), ABSOLUTE("-3", ""),
                                        ABSOLUTE("soon", ""), ABSOLUTE("1.5", "") };
    struct job_config *cfg;
    char *msg;

    (void) state;
    for (size_t i = 0; i < sizeof xmls / sizeof *xmls; i++) {
        assert_int_equal(parse(xmls[i], &cfg, &msg), -EINVAL);
        assert_non_null(msg);
        assert_non_null(strstr(msg, "timeoutMinutes"));
        free(msg);
    }
}

static void
jobcfg_parse__reads_workspace_cleanup_and_custom_workspace(void **state)
{
    const char *xml =
        "<project><customWorkspace> shared </customWorkspace><builders/><publishers>"
        "<hudson.plugins.ws__cleanup.WsCleanup><patterns><hudson.plugins.ws__cleanup.Pattern>"
        "<pattern>*.o</pattern><type>EXCLUDE</type></hudson.plugins.ws__cleanup.Pattern>"
        "</patterns><deleteDirs>true</deleteDirs><cleanWhenFailure>false</cleanWhenFailure>"
        "<notFailBuild>true</notFailBuild></hudson.plugins.ws__cleanup.WsCleanup></publishers>"
        "</project>";
    struct job_config *cfg, *sum;
    char *msg;

    (void) state;
    assert_int_equal(parse(xml, &cfg, &msg), 0);
    assert_string_equal(cfg->custom_workspace, "shared");
    assert_non_null(cfg->post_cleanup);
    assert_int_equal(cfg->post_cleanup->n_patterns, 1);
    assert_true(cfg->post_cleanup->patterns[0].exclude);
    assert_true(cfg->post_cleanup->delete_dirs);
    assert_true(cfg->post_cleanup->when[WS_WHEN_SUCCESS]);
    assert_false(cfg->post_cleanup->when[WS_WHEN_FAILURE]);
    assert_true(cfg->post_cleanup->not_fail_build);
    assert_int_equal(jobcfg_summary(cfg, &sum), 0);
    assert_string_equal(sum->custom_workspace, "shared");
    jobcfg_free(sum);
    jobcfg_free(cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(workspace_custom_check__takes_one_name_in_the_workspaces),
        cmocka_unit_test(workspace_base__keeps_absolute_paths_in_this_home),
        cmocka_unit_test(workspace_open__never_follows_a_link_or_leaves),
        cmocka_unit_test(workspace_clean__deletes_matches_and_links_as_links),
        cmocka_unit_test(workspace_rm_at__removes_the_tree_not_what_links_point_at),
        cmocka_unit_test(jobcfg_parse__reads_the_build_timeout),
        cmocka_unit_test(jobcfg_parse__reads_the_older_timeout_form),
        cmocka_unit_test(jobcfg_parse__refuses_a_timeout_of_zero_or_less),
        cmocka_unit_test(jobcfg_parse__reads_workspace_cleanup_and_custom_workspace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
