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

#include "core/chain.h"
#include "core/jobcfg.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/macro.h"

static const char chain_xml[] =
    "<project><blockBuildWhenDownstreamBuilding>true</blockBuildWhenDownstreamBuilding>"
    "<blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>"
    "<triggers class=\"vector\"><jenkins.triggers.ReverseBuildTrigger><spec/>"
    "<upstreamProjects>a, b,,a</upstreamProjects><threshold><name>FAILURE</name>"
    "<ordinal>2</ordinal></threshold></jenkins.triggers.ReverseBuildTrigger></triggers>"
    "<builders/><publishers>"
    "<hudson.tasks.BuildTrigger><childProjects>x, y</childProjects><threshold>"
    "<name>UNSTABLE</name><ordinal>1</ordinal><color>YELLOW</color></threshold>"
    "</hudson.tasks.BuildTrigger>"
    "<hudson.plugins.parameterizedtrigger.BuildTrigger><configs>"
    "<hudson.plugins.parameterizedtrigger.BuildTriggerConfig><configs>"
    "<hudson.plugins.parameterizedtrigger.CurrentBuildParameters/>"
    "<hudson.plugins.parameterizedtrigger.PredefinedBuildParameters><properties>K=V</properties>"
    "</hudson.plugins.parameterizedtrigger.PredefinedBuildParameters>"
    "<hudson.plugins.parameterizedtrigger.BooleanParameters/>"
    "</configs><projects>y,z</projects><condition>UNSTABLE_OR_WORSE</condition>"
    "<triggerWithNoParameters>true</triggerWithNoParameters>"
    "</hudson.plugins.parameterizedtrigger.BuildTriggerConfig></configs>"
    "</hudson.plugins.parameterizedtrigger.BuildTrigger></publishers></project>";

static void jobcfg_parse__reads_the_chain_and_the_summary_keeps_the_graph(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL, *sum = NULL;
    char *msg = NULL;

    (void) state;
    assert_int_equal(jobcfg_parse(chain_xml, sizeof chain_xml - 1, &cfg, &msg), 0);
    assert_int_equal(cfg->n_chain, 2);
    assert_string_equal(cfg->chain[0].projects, "x, y");
    assert_int_equal(cfg->chain[0].when, 0x3);
    assert_false(cfg->chain[0].parameterized);
    assert_true(cfg->chain[1].parameterized);
    assert_true(cfg->chain[1].current_params);
    assert_true(cfg->chain[1].with_no_params);
    assert_string_equal(cfg->chain[1].predefined, "K=V");
    assert_int_equal(cfg->chain[1].when, 0x1e);
    assert_string_equal(cfg->chain[1].other_source,
                        "hudson.plugins.parameterizedtrigger.BooleanParameters");
    assert_string_equal(cfg->chain_down, "x\ny\nz\n");
    assert_string_equal(cfg->chain_up, "a\nb\n");
    assert_int_equal(cfg->chain_up_when, 0x7);
    assert_true(cfg->block_downstream);
    assert_false(cfg->block_upstream);
    assert_null(cfg->unsupported);

    assert_int_equal(jobcfg_summary(cfg, &sum), 0);
    assert_string_equal(sum->chain_down, "x\ny\nz\n");
    assert_string_equal(sum->chain_up, "a\nb\n");
    assert_int_equal(sum->chain_up_when, 0x7);
    assert_true(sum->block_downstream);
    assert_false(sum->block_upstream);
    assert_true(jobcfg_lines_have(sum->chain_down, "y"));
    assert_false(jobcfg_lines_have(sum->chain_down, "x\ny"));
    assert_false(jobcfg_lines_have(sum->chain_down, ""));
}

static void jobcfg_rename_project__rewrites_the_lists_that_name_it(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL, *again = NULL;
    _cleanup_free_ char *xml = NULL;
    char *msg = NULL;
    size_t len;

    (void) state;
    assert_int_equal(jobcfg_parse(chain_xml, sizeof chain_xml - 1, &cfg, &msg), 0);
    assert_int_equal(jobcfg_rename_project(cfg, "y", "w"), 2);
    assert_int_equal(jobcfg_rename_project(cfg, "a", "a2"), 1);
    assert_int_equal(jobcfg_rename_project(cfg, "nobody", "n"), 0);
    assert_int_equal(jobcfg_write(cfg, &xml, &len), 0);
    assert_non_null(strstr(xml, "<childProjects>x, w</childProjects>"));
    assert_non_null(strstr(xml, "<projects>w, z</projects>"));
    assert_non_null(strstr(xml, "<upstreamProjects>a2, b, a2</upstreamProjects>"));
    assert_int_equal(jobcfg_parse(xml, len, &again, &msg), 0);
    assert_string_equal(again->chain_down, "x\nw\nz\n");
    assert_string_equal(again->chain_up, "a2\nb\n");
}

static void jobcfg_parse__refuses_an_unknown_condition(void **state)
{
    static const char xml[] =
        "<project><publishers><hudson.plugins.parameterizedtrigger.BuildTrigger><configs>"
        "<hudson.plugins.parameterizedtrigger.BuildTriggerConfig><projects>a</projects>"
        "<condition>SOMETIMES</condition></hudson.plugins.parameterizedtrigger.BuildTriggerConfig>"
        "</configs></hudson.plugins.parameterizedtrigger.BuildTrigger></publishers></project>";
    struct job_config *cfg = NULL;
    _cleanup_free_ char *msg = NULL;

    (void) state;
    assert_int_equal(jobcfg_parse(xml, sizeof xml - 1, &cfg, &msg), -EINVAL);
    assert_non_null(strstr(msg, "SOMETIMES"));
}

static int collect(void *userdata, const char *key, const char *value)
{
    struct buf *b = userdata;

    return buf_printf(b, "[%s]=[%s]\n", key, value);
}

static void chain_parse_properties__follows_java_properties(void **state)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(4096);

    (void) state;
    assert_int_equal(chain_parse_properties("# comment\n! also\n\n  A=1\nB : two words \n"
                                            "C three\nD=line\\\n    continued\nE=caf\\u00e9\\t!\n"
                                            "F\nG=a=b\r\nH\\ I=x\n",
                                            collect, &b),
                     0);
    assert_string_equal(buf_str(&b), "[A]=[1]\n[B]=[two words ]\n[C]=[three]\n"
                                     "[D]=[linecontinued]\n[E]=[caf\xc3\xa9\t!]\n[F]=[]\n"
                                     "[G]=[a=b]\n[H I]=[x]\n");
}

static void chain_expand__replaces_known_names_only(void **state)
{
    char *const env[] = { "JOB_NAME=up", "BUILD_NUMBER=7", NULL };
    _cleanup_free_ char *s = chain_expand("${JOB_NAME}-$BUILD_NUMBER $NOPE ${NOPE} $ ${", env, 4096);
    _cleanup_free_ char *cut = chain_expand("$JOB_NAME$JOB_NAME", env, 3);

    (void) state;
    assert_string_equal(s, "up-7 $NOPE ${NOPE} $ ${");
    assert_null(cut);
}

static void chain_read_workspace_file__stays_inside_the_workspace(void **state)
{
    char dir[] = "/tmp/steward-chain-XXXXXX";
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    char path[256];
    FILE *f;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/sub/p.properties", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("A=1\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/link", dir);
    assert_int_equal(symlink("/etc/hostname", path), 0);
    snprintf(path, sizeof path, "%s/dirlink", dir);
    assert_int_equal(symlink("sub", path), 0);

    assert_int_equal(chain_read_workspace_file(dir, "sub/p.properties", 100, &data, &len), 0);
    assert_string_equal(data, "A=1\n");
    assert_int_equal(len, 4);
    free(data);
    data = NULL;
    assert_int_equal(chain_read_workspace_file(dir, "./sub//p.properties", 100, &data, NULL), 0);
    assert_int_equal(chain_read_workspace_file(dir, "link", 100, &data, NULL), -ELOOP);
    assert_int_equal(chain_read_workspace_file(dir, "dirlink/p.properties", 100, &data, NULL), -ELOOP);
    assert_int_equal(chain_read_workspace_file(dir, "../etc/passwd", 100, &data, NULL), -EPERM);
    assert_int_equal(chain_read_workspace_file(dir, "sub/../sub/p.properties", 100, &data, NULL), -EPERM);
    assert_int_equal(chain_read_workspace_file(dir, "/etc/passwd", 100, &data, NULL), -EPERM);
    assert_int_equal(chain_read_workspace_file(dir, "sub", 100, &data, NULL), -EISDIR);
    assert_int_equal(chain_read_workspace_file(dir, "missing", 100, &data, NULL), -ENOENT);
    assert_int_equal(chain_read_workspace_file(dir, "sub/p.properties", 3, &data, NULL), -EFBIG);
    assert_int_equal(fs_rm_rf(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jobcfg_parse__reads_the_chain_and_the_summary_keeps_the_graph),
        cmocka_unit_test(jobcfg_rename_project__rewrites_the_lists_that_name_it),
        cmocka_unit_test(jobcfg_parse__refuses_an_unknown_condition),
        cmocka_unit_test(chain_parse_properties__follows_java_properties),
        cmocka_unit_test(chain_expand__replaces_known_names_only),
        cmocka_unit_test(chain_read_workspace_file__stays_inside_the_workspace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
