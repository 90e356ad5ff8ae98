/* SPDX-License-Identifier: MIT */
/*
 * What Steward runs of a config.xml: the table, a job read against it,
 * and docs/COMPAT.md's list, which must be what the table prints.
 *
 * `test_support --write-doc DOC` rewrites that list in DOC instead
 * (`make compat-doc`).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/jobcfg.h"
#include "core/support.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/macro.h"

#define BEGIN_MARK "<!-- support-table: generated from src/core/support.c by `make compat-doc` -->\n"
#define END_MARK "<!-- /support-table -->\n"

static const char *doc_path;

/* What jenkins-job-builder writes for a job a Jenkins user moves over (trimmed). */
static const char moved_xml[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<project>\n"
    "  <jdk>jdk11</jdk>\n"
    "  <actions/>\n"
    "  <description>moved</description>\n"
    "  <keepDependencies>false</keepDependencies>\n"
    "  <blockBuildWhenDownstreamBuilding>false</blockBuildWhenDownstreamBuilding>\n"
    "  <blockBuildWhenUpstreamBuilding>true</blockBuildWhenUpstreamBuilding>\n"
    "  <assignedNode>linux-x86</assignedNode>\n"
    "  <canRoam>false</canRoam>\n"
    "  <properties>\n"
    "    <com.coravy.hudson.plugins.github.GithubProjectProperty plugin=\"github\">\n"
    "      <projectUrl>https://github.com/o/r/</projectUrl>\n"
    "    </com.coravy.hudson.plugins.github.GithubProjectProperty>\n"
    "    <com.example.Made.Up><x/></com.example.Made.Up>\n"
    "  </properties>\n"
    "  <scm class=\"hudson.plugins.git.GitSCM\"><configVersion>2</configVersion>\n"
    "    <userRemoteConfigs><hudson.plugins.git.UserRemoteConfig><url>file:///r</url>\n"
    "    </hudson.plugins.git.UserRemoteConfig></userRemoteConfigs>\n"
    "    <extensions><hudson.plugins.git.extensions.impl.WipeWorkspace/>\n"
    "      <hudson.plugins.git.extensions.impl.PreBuildMerge/></extensions></scm>\n"
    "  <triggers class=\"vector\">\n"
    "    <hudson.triggers.SCMTrigger><spec>H/5 * * * *</spec></hudson.triggers.SCMTrigger>\n"
    "    <hudson.triggers.TimerTrigger><spec>@daily</spec></hudson.triggers.TimerTrigger>\n"
    "  </triggers>\n"
    "  <builders>\n"
    "    <hudson.tasks.Shell><command>make</command></hudson.tasks.Shell>\n"
    "    <hudson.tasks.Maven><targets>clean</targets></hudson.tasks.Maven>\n"
    "    <hudson.tasks.Shell><command>make check</command></hudson.tasks.Shell>\n"
    "    <hudson.tasks.Maven><targets>verify</targets></hudson.tasks.Maven>\n"
    "  </builders>\n"
    "  <publishers>\n"
    "    <hudson.tasks.Mailer plugin=\"mailer\"><recipients>a@b</recipients></hudson.tasks.Mailer>\n"
    "    <hudson.tasks.ArtifactArchiver><artifacts>*.txt</artifacts></hudson.tasks.ArtifactArchiver>\n"
    "  </publishers>\n"
    "  <buildWrappers>\n"
    "    <hudson.plugins.timestamper.TimestamperBuildWrapper/>\n"
    "  </buildWrappers>\n"
    "</project>\n";

static struct job_config *parse(const char *xml)
{
    struct job_config *cfg = NULL;
    char *msg = NULL;
    int r = jobcfg_parse(xml, strlen(xml), &cfg, &msg);

    if (r < 0)
        fail_msg("jobcfg_parse: %d %s", r, msg ? msg : "");
    return cfg;
}

/* The list as "verdict element" lines. */
static char *listing(const struct job_config *cfg)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(1 << 20);
    struct unsupported u;
    size_t pos = 0;

    while (jobcfg_next_unsupported(cfg, &pos, &u)) {
        assert_non_null(u.note);
        assert_true(u.note[0] != '\0');
        assert_int_equal(buf_printf(&b, "%s %s\n", support_to_string(u.verdict), u.element), 0);
    }
    return buf_detach(&b);
}

static void support_classify__knows_the_common_classes(void **state)
{
    const char *note;

    (void) state;
    assert_int_equal(support_classify("builders", "hudson.tasks.Shell", NULL, &note), SUPPORT_RUN);
    assert_int_equal(support_classify("builders", "hudson.tasks.Maven", NULL, &note), SUPPORT_FAILS);
    assert_non_null(strstr(note, "mvn"));
    assert_int_equal(support_classify("builders", "org.example.Unknown", NULL, &note),
                     SUPPORT_FAILS);
    assert_int_equal(support_classify("publishers", "hudson.tasks.Mailer", NULL, &note),
                     SUPPORT_SKIPPED);
    assert_int_equal(support_classify("publishers", "org.example.Unknown", NULL, &note),
                     SUPPORT_SKIPPED);
    assert_int_equal(support_classify("scm", "hudson.scm.NullSCM", NULL, &note), SUPPORT_RUN);
    assert_int_equal(support_classify("scm", "hudson.scm.Other", NULL, &note), SUPPORT_FAILS);
    assert_int_equal(support_classify("buildWrappers", "org.example.W", NULL, &note), SUPPORT_FAILS);
    assert_int_equal(support_classify("triggers", "org.example.T", NULL, &note), SUPPORT_SKIPPED);
    /* value-dependent elements of <project> */
    /* a label expression runs: nodes (core/agents.c) */
    assert_int_equal(support_classify("project", "assignedNode", "built-in", &note), SUPPORT_RUN);
    assert_int_equal(support_classify("project", "assignedNode", "linux", &note), SUPPORT_RUN);
    assert_int_equal(support_classify("project", "jdk", "(System)", &note), SUPPORT_HARMLESS);
    assert_int_equal(support_classify("project", "jdk", "jdk11", &note), SUPPORT_FAILS);
    assert_int_equal(support_classify("project", "blockBuildWhenUpstreamBuilding", "false", &note),
                     SUPPORT_RUN);
    assert_int_equal(support_classify("project", "blockBuildWhenUpstreamBuilding", "true", &note),
                     SUPPORT_RUN);
    assert_int_equal(support_classify("publishers", "hudson.tasks.BuildTrigger", NULL, &note),
                     SUPPORT_RUN);
    assert_int_equal(support_classify("triggers", "jenkins.triggers.ReverseBuildTrigger", NULL,
                                      &note), SUPPORT_RUN);
    assert_int_equal(support_classify("project", "canRoam", "false", &note), SUPPORT_HARMLESS);
}

static void support_table__has_no_repeats_and_a_note_for_every_entry(void **state)
{
    (void) state;
    for (size_t i = 0; i < support_table_len; i++) {
        assert_non_null(support_slot_of(support_table[i].slot));
        assert_true(strlen(support_table[i].note) > 5);
        for (size_t k = 0; k < i; k++)
            assert_false(streq(support_table[i].slot, support_table[k].slot) &&
                         streq(support_table[i].name, support_table[k].name));
    }
}

static void jobcfg_parse__lists_what_a_moved_job_does_not_run_in_document_order(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = parse(moved_xml);
    _cleanup_free_ char *list = listing(cfg);

    (void) state;
    assert_string_equal(list, "fails jdk\n"
                              "skipped properties/com.example.Made.Up\n"
                              "fails scm/extensions/hudson.plugins.git.extensions.impl.PreBuildMerge\n"
                              "fails builders/hudson.tasks.Maven\n"
                              "skipped publishers/hudson.tasks.Mailer\n");
    assert_true(jobcfg_fails_unsupported(cfg));
}

static void jobcfg_summary__keeps_the_list(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = parse(moved_xml);
    _cleanup_(jobcfg_freep) struct job_config *sum = NULL;
    _cleanup_free_ char *a = NULL, *b = NULL;

    (void) state;
    assert_int_equal(jobcfg_summary(cfg, &sum), 0);
    a = listing(cfg);
    b = listing(sum);
    assert_string_equal(a, b);
    assert_true(jobcfg_fails_unsupported(sum));
}

static void jobcfg_parse__a_job_steward_runs_lists_nothing(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *blank = NULL, *cfg = NULL;
    struct unsupported u;
    size_t pos = 0;

    (void) state;
    assert_int_equal(jobcfg_new(&blank), 0);
    assert_null(blank->unsupported);
    cfg = parse("<project><assignedNode>built-in</assignedNode><canRoam>false</canRoam>"
                "<scm class=\"hudson.scm.NullSCM\"/><builders><hudson.tasks.Shell><command>x"
                "</command></hudson.tasks.Shell></builders><buildWrappers>"
                "<hudson.plugins.ansicolor.AnsiColorBuildWrapper/></buildWrappers><scm/></project>");
    assert_null(cfg->unsupported);
    assert_false(jobcfg_next_unsupported(cfg, &pos, &u));
    assert_false(jobcfg_fails_unsupported(cfg));
}

static void jobcfg_parse__a_skipped_part_alone_does_not_fail(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg =
        parse("<project><publishers><hudson.tasks.Mailer/></publishers></project>");

    (void) state;
    assert_non_null(cfg->unsupported);
    assert_false(jobcfg_fails_unsupported(cfg));
}

static void jobcfg_parse__bounds_the_list_and_keeps_a_failure_past_it(void **state)
{
    _cleanup_(buf_releasep) struct buf x = BUF_INIT(1 << 20);
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    struct unsupported u;
    size_t pos = 0, n = 0;

    (void) state;
    assert_int_equal(buf_puts(&x, "<project><publishers>"), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_printf(&x, "<p%d/>", i), 0);
    assert_int_equal(buf_puts(&x, "</publishers><builders><org.example.B/></builders>"), 0);
    /* a name past 200 bytes, of two-byte characters, is cut between characters */
    assert_int_equal(buf_puts(&x, "<properties><a"), 0);
    for (int i = 0; i < 150; i++)
        assert_int_equal(buf_puts(&x, "\xc3\xa9"), 0);
    assert_int_equal(buf_puts(&x, "/></properties></project>"), 0);
    cfg = parse(buf_str(&x));
    while (jobcfg_next_unsupported(cfg, &pos, &u)) {
        n++;
        if (n <= 64)
            assert_string_equal(u.slot, "publishers");
    }
    assert_int_equal(n, 65);
    assert_string_equal(u.element, "(38 more)");
    assert_int_equal(u.verdict, SUPPORT_FAILS);
    assert_true(jobcfg_fails_unsupported(cfg));

    jobcfg_free(cfg);
    buf_clear(&x);
    assert_int_equal(buf_puts(&x, "<project><properties><a"), 0);
    for (int i = 0; i < 150; i++)
        assert_int_equal(buf_puts(&x, "\xc3\xa9"), 0);
    assert_int_equal(buf_puts(&x, "/></properties></project>"), 0);
    cfg = parse(buf_str(&x));
    pos = 0;
    assert_true(jobcfg_next_unsupported(cfg, &pos, &u));
    assert_int_equal(strlen(u.name), 1 + 101 * 2 + 3);
    assert_string_equal(u.name + strlen(u.name) - 3, "...");
}

/* Where the generated list begins in `doc` (after its marker); *ret_end is its end marker. */
static const char *section(const char *doc, const char **ret_end)
{
    const char *begin = strstr(doc, BEGIN_MARK);

    *ret_end = begin ? strstr(begin, END_MARK) : NULL;
    return begin && *ret_end ? begin + strlen(BEGIN_MARK) : NULL;
}

static void compat_doc__lists_what_the_table_says(void **state)
{
    _cleanup_free_ char *doc = NULL, *md = NULL;
    const char *begin, *end;
    size_t len = 0;
    bool same;

    (void) state;
    assert_non_null(doc_path);
    assert_int_equal(fs_read_all(doc_path, 1 << 20, &doc, &len), 0);
    assert_int_equal(support_markdown(&md), 0);
    begin = section(doc, &end);
    assert_non_null(begin);
    same = (size_t) (end - begin) == strlen(md) && memcmp(begin, md, strlen(md)) == 0;
    if (!same)
        fprintf(stderr, "%s does not list what src/core/support.c says: run `make compat-doc`\n",
                doc_path);
    assert_true(same);
}

static int write_doc(const char *path)
{
    _cleanup_free_ char *doc = NULL, *md = NULL, *out = NULL;
    const char *begin, *end;
    size_t len = 0;

    if (fs_read_all(path, 1 << 20, &doc, &len) < 0 || support_markdown(&md) < 0)
        return 1;
    begin = section(doc, &end);
    if (!begin) {
        fprintf(stderr, "%s has no support-table markers\n", path);
        return 1;
    }
    if (asprintf(&out, "%.*s%s%s", (int) (begin - doc), doc, md, end) < 0)
        return 1;
    return fs_write_atomic(path, out, strlen(out), 0644) < 0;
}

static void jobcfg_masked_xml__hides_the_gitlab_secret_token_too(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg =
        parse("<project><authToken>trig</authToken><triggers>"
              "<com.dabsquared.gitlabjenkins.GitLabPushTrigger><secretToken>gl-s3cret</secretToken>"
              "<branchFilterType>NameBasedFilter</branchFilterType>"
              "<includeBranchesSpec>main, dev</includeBranchesSpec>"
              "</com.dabsquared.gitlabjenkins.GitLabPushTrigger>"
              "<com.cloudbees.jenkins.GitHubPushTrigger><spec/></com.cloudbees.jenkins.GitHubPushTrigger>"
              "</triggers></project>");
    _cleanup_free_ char *xml = NULL;
    size_t len = 0;

    (void) state;
    assert_non_null(cfg->gitlab);
    assert_string_equal(cfg->gitlab->secret_token, "gl-s3cret");
    assert_int_equal(cfg->gitlab->filter, GITLAB_NAME_FILTER);
    assert_true(cfg->gitlab->on_push && cfg->gitlab->on_merge_request && cfg->gitlab->ci_skip);
    assert_false(cfg->gitlab->secret_encrypted);
    assert_true(cfg->github_push);
    assert_int_equal(jobcfg_masked_xml(cfg, &xml, &len), 0);
    assert_null(strstr(xml, "gl-s3cret"));
    assert_null(strstr(xml, "trig<"));
    assert_non_null(strstr(xml, "<secretToken>********</secretToken>"));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(support_classify__knows_the_common_classes),
        cmocka_unit_test(support_table__has_no_repeats_and_a_note_for_every_entry),
        cmocka_unit_test(jobcfg_parse__lists_what_a_moved_job_does_not_run_in_document_order),
        cmocka_unit_test(jobcfg_summary__keeps_the_list),
        cmocka_unit_test(jobcfg_parse__a_job_steward_runs_lists_nothing),
        cmocka_unit_test(jobcfg_parse__a_skipped_part_alone_does_not_fail),
        cmocka_unit_test(jobcfg_parse__bounds_the_list_and_keeps_a_failure_past_it),
        cmocka_unit_test(compat_doc__lists_what_the_table_says),
        cmocka_unit_test(jobcfg_masked_xml__hides_the_gitlab_secret_token_too),
    };

    if (argc == 3 && streq(argv[1], "--write-doc"))
        return write_doc(argv[2]);
    if (argc == 2)
        doc_path = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
