/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/jobcfg.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/macro.h"

/* What JJB 3.11 writes (docs: jenkins-api.md section 5). */
static const char jjb_xml[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<project>\n"
    "  <actions/>\n"
    "  <description>Demo job&lt;!-- Managed by Jenkins Job Builder --&gt;</description>\n"
    "  <keepDependencies>false</keepDependencies>\n"
    "  <disabled>false</disabled>\n"
    "  <blockBuildWhenDownstreamBuilding>false</blockBuildWhenDownstreamBuilding>\n"
    "  <blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>\n"
    "  <authToken>s3cret</authToken>\n"
    "  <concurrentBuild>true</concurrentBuild>\n"
    "  <quietPeriod>5</quietPeriod>\n"
    "  <assignedNode>linux</assignedNode>\n"
    "  <canRoam>false</canRoam>\n"
    "  <properties>\n"
    "    <jenkins.model.BuildDiscarderProperty>\n"
    "      <strategy class=\"hudson.tasks.LogRotator\">\n"
    "        <daysToKeep>-1</daysToKeep><numToKeep>10</numToKeep>\n"
    "        <artifactDaysToKeep>-1</artifactDaysToKeep><artifactNumToKeep>-1</artifactNumToKeep>\n"
    "      </strategy>\n"
    "    </jenkins.model.BuildDiscarderProperty>\n"
    "    <hudson.model.ParametersDefinitionProperty>\n"
    "      <parameterDefinitions>\n"
    "        <hudson.model.StringParameterDefinition>\n"
    "          <name>BRANCH</name><description>Branch to build</description>\n"
    "          <defaultValue>main</defaultValue><trim>false</trim>\n"
    "        </hudson.model.StringParameterDefinition>\n"
    "        <hudson.model.ChoiceParameterDefinition>\n"
    "          <name>MODE</name><description>Build mode</description>\n"
    "          <choices class=\"java.util.Arrays$ArrayList\">\n"
    "            <a class=\"string-array\"><string>debug</string><string>release</string></a>\n"
    "          </choices>\n"
    "        </hudson.model.ChoiceParameterDefinition>\n"
    "        <hudson.model.BooleanParameterDefinition>\n"
    "          <name>CLEAN</name><description>Clean first</description><defaultValue>false</defaultValue>\n"
    "        </hudson.model.BooleanParameterDefinition>\n"
    "        <hudson.model.PasswordParameterDefinition>\n"
    "          <name>DEPLOY_PW</name><description>Password</description><defaultValue>hunter2</defaultValue>\n"
    "        </hudson.model.PasswordParameterDefinition>\n"
    "      </parameterDefinitions>\n"
    "    </hudson.model.ParametersDefinitionProperty>\n"
    "  </properties>\n"
    "  <scm class=\"hudson.scm.NullSCM\"/>\n"
    "  <triggers class=\"vector\">\n"
    "    <hudson.triggers.TimerTrigger><spec>H 2 * * *</spec></hudson.triggers.TimerTrigger>\n"
    "    <hudson.triggers.SCMTrigger><spec>H/15 * * * *</spec><ignorePostCommitHooks>false</ignorePostCommitHooks></hudson.triggers.SCMTrigger>\n"
    "  </triggers>\n"
    "  <builders>\n"
    "    <hudson.tasks.Shell><command>echo hello $BRANCH\n"
    "</command></hudson.tasks.Shell>\n"
    "  </builders>\n"
    "  <publishers>\n"
    "    <hudson.tasks.ArtifactArchiver>\n"
    "      <artifacts>out/**</artifacts><allowEmptyArchive>true</allowEmptyArchive>\n"
    "      <onlyIfSuccessful>false</onlyIfSuccessful><fingerprint>false</fingerprint>\n"
    "      <defaultExcludes>true</defaultExcludes><caseSensitive>true</caseSensitive><latestOnly>false</latestOnly>\n"
    "    </hudson.tasks.ArtifactArchiver>\n"
    "    <hudson.tasks.BuildTrigger>\n"
    "      <childProjects>other-job</childProjects>\n"
    "      <threshold><name>SUCCESS</name><ordinal>0</ordinal><color>BLUE</color></threshold>\n"
    "    </hudson.tasks.BuildTrigger>\n"
    "  </publishers>\n"
    "  <buildWrappers/>\n"
    "</project>\n";

/* What Jenkins itself writes: XML 1.1, single quotes, a plain-choices parameter. */
static const char jenkins_xml[] =
    "<?xml version='1.1' encoding='UTF-8'?>\n"
    "<project>\n"
    "  <actions/>\n"
    "  <description></description>\n"
    "  <keepDependencies>false</keepDependencies>\n"
    "  <properties>\n"
    "    <hudson.model.ParametersDefinitionProperty>\n"
    "      <parameterDefinitions>\n"
    "        <hudson.model.ChoiceParameterDefinition>\n"
    "          <name>ENV</name>\n"
    "          <choices>\n"
    "            <string>staging</string>\n"
    "            <string>prod</string>\n"
    "          </choices>\n"
    "        </hudson.model.ChoiceParameterDefinition>\n"
    "        <hudson.model.TextParameterDefinition>\n"
    "          <name>NOTES</name>\n"
    "          <defaultValue>line 1\nline 2</defaultValue>\n"
    "          <trim>false</trim>\n"
    "        </hudson.model.TextParameterDefinition>\n"
    "        <io.jenkins.plugins.file__parameters.StashedFileParameterDefinition>\n"
    "          <name>upload.zip</name>\n"
    "          <description>a file</description>\n"
    "        </io.jenkins.plugins.file__parameters.StashedFileParameterDefinition>\n"
    "        <hudson.model.PasswordParameterDefinition>\n"
    "          <name>PW</name>\n"
    "          <defaultValueAsSecret>{AQAAABAAAAAQ}</defaultValueAsSecret>\n"
    "        </hudson.model.PasswordParameterDefinition>\n"
    "      </parameterDefinitions>\n"
    "    </hudson.model.ParametersDefinitionProperty>\n"
    "  </properties>\n"
    "  <scm class=\"hudson.scm.NullSCM\"/>\n"
    "  <canRoam>true</canRoam>\n"
    "  <disabled>true</disabled>\n"
    "  <blockBuildWhenDownstreamBuilding>false</blockBuildWhenDownstreamBuilding>\n"
    "  <blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>\n"
    "  <authToken></authToken>\n"
    "  <triggers/>\n"
    "  <concurrentBuild>false</concurrentBuild>\n"
    "  <builders>\n"
    "    <hudson.tasks.Shell>\n"
    "      <command>make &amp;&amp; make check</command>\n"
    "      <configuredLocalRules/>\n"
    "    </hudson.tasks.Shell>\n"
    "    <hudson.tasks.Ant plugin=\"ant@1.11\">\n"
    "      <targets>dist</targets>\n"
    "    </hudson.tasks.Ant>\n"
    "    <hudson.tasks.Shell>\n"
    "      <command><![CDATA[echo \"<done>\"]]></command>\n"
    "    </hudson.tasks.Shell>\n"
    "  </builders>\n"
    "  <publishers/>\n"
    "  <buildWrappers/>\n"
    "</project>\n";

/* ---- helpers ------------------------------------------------------------ */

static struct job_config *parse_ok(const char *xml, size_t len)
{
    struct job_config *cfg = NULL;
    char *msg = NULL;
    int r = jobcfg_parse(xml, len, &cfg, &msg);

    if (r < 0)
        fail_msg("jobcfg_parse: %d (%s)", r, msg ? msg : "no message");
    assert_null(msg);
    assert_non_null(cfg);
    return cfg;
}

#define PARSE_OK(s) parse_ok((s), strlen(s))

/* Returns the message; asserts the error code and that no config came back. */
static char *parse_fails(const char *xml, size_t len, int want)
{
    struct job_config *cfg = NULL;
    char *msg = NULL;
    int r = jobcfg_parse(xml, len, &cfg, &msg);

    if (r != want)
        fail_msg("jobcfg_parse: %d, wanted %d (%s)", r, want, msg ? msg : "no message");
    assert_null(cfg);
    if (want == -EINVAL) {
        assert_non_null(msg);
        assert_null(strchr(msg, '\n'));
    }
    return msg;
}

static char *write_ok(struct job_config *cfg, size_t *ret_len)
{
    char *xml = NULL;
    size_t len = 0;

    assert_int_equal(jobcfg_write(cfg, &xml, &len), 0);
    assert_non_null(xml);
    assert_int_equal(strlen(xml), len);
    if (ret_len)
        *ret_len = len;
    return xml;
}

/* Writes `cfg` and parses the result. */
static struct job_config *reparse(struct job_config *cfg, char **ret_xml)
{
    size_t len;
    char *xml = write_ok(cfg, &len);
    struct job_config *again = parse_ok(xml, len);

    if (ret_xml)
        *ret_xml = xml;
    else
        free(xml);
    return again;
}

static void assert_str_or_null(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_same_params(const struct job_config *a, const struct job_config *b)
{
    assert_int_equal(a->n_params, b->n_params);
    for (size_t i = 0; i < a->n_params; i++) {
        const struct param_def *p = &a->params[i], *q = &b->params[i];

        assert_int_equal(p->type, q->type);
        assert_string_equal(p->name, q->name);
        assert_str_or_null(p->description, q->description);
        assert_str_or_null(p->default_value, q->default_value);
        assert_int_equal(p->trim, q->trim);
        assert_int_equal(p->n_choices, q->n_choices);
        for (size_t j = 0; j < p->n_choices; j++)
            assert_string_equal(p->choices[j], q->choices[j]);
    }
}

static void assert_same_config(const struct job_config *a, const struct job_config *b)
{
    assert_str_or_null(a->description, b->description);
    assert_int_equal(a->disabled, b->disabled);
    assert_int_equal(a->concurrent_build, b->concurrent_build);
    assert_int_equal(a->quiet_period, b->quiet_period);
    assert_str_or_null(a->auth_token, b->auth_token);
    assert_same_params(a, b);
    assert_int_equal(a->n_shell_steps, b->n_shell_steps);
    for (size_t i = 0; i < a->n_shell_steps; i++)
        assert_string_equal(a->shell_steps[i], b->shell_steps[i]);
}

/* A <project> of `depth` nested elements in total (the root counts). */
static char *nested(size_t depth)
{
    struct buf b = BUF_INIT(SIZE_MAX / 2);

    assert_int_equal(buf_puts(&b, "<project>"), 0);
    for (size_t i = 1; i < depth; i++)
        assert_int_equal(buf_puts(&b, "<a>"), 0);
    for (size_t i = 1; i < depth; i++)
        assert_int_equal(buf_puts(&b, "</a>"), 0);
    assert_int_equal(buf_puts(&b, "</project>"), 0);
    return buf_detach(&b);
}

/* ---- parsing ------------------------------------------------------------ */

static void jobcfg_parse__reads_every_field_of_the_jjb_example(void **state)
{
    struct job_config *cfg = PARSE_OK(jjb_xml);
    const struct param_def *p;

    (void) state;
    assert_string_equal(cfg->description, "Demo job<!-- Managed by Jenkins Job Builder -->");
    assert_false(cfg->disabled);
    assert_true(cfg->concurrent_build);
    assert_int_equal(cfg->quiet_period, 5);
    assert_string_equal(cfg->auth_token, "s3cret");

    assert_int_equal(cfg->n_params, 4);
    p = &cfg->params[0];
    assert_int_equal(p->type, PARAM_STRING);
    assert_string_equal(p->name, "BRANCH");
    assert_string_equal(p->description, "Branch to build");
    assert_string_equal(p->default_value, "main");
    assert_false(p->trim);
    p = &cfg->params[1];
    assert_int_equal(p->type, PARAM_CHOICE);
    assert_string_equal(p->name, "MODE");
    assert_string_equal(p->description, "Build mode");
    assert_null(p->default_value);
    assert_int_equal(p->n_choices, 2);
    assert_string_equal(p->choices[0], "debug");
    assert_string_equal(p->choices[1], "release");
    p = &cfg->params[2];
    assert_int_equal(p->type, PARAM_BOOLEAN);
    assert_string_equal(p->name, "CLEAN");
    assert_string_equal(p->default_value, "false");
    p = &cfg->params[3];
    assert_int_equal(p->type, PARAM_PASSWORD);
    assert_string_equal(p->name, "DEPLOY_PW");
    assert_string_equal(p->description, "Password");
    assert_string_equal(p->default_value, "hunter2");
    assert_ptr_equal(jobcfg_find_param(cfg, "MODE"), &cfg->params[1]);
    assert_null(jobcfg_find_param(cfg, "mode"));

    assert_int_equal(cfg->n_shell_steps, 1);
    assert_string_equal(cfg->shell_steps[0], "echo hello $BRANCH\n");

    assert_int_equal(cfg->keep_builds, 10);
    assert_int_equal(cfg->keep_days, -1);
    assert_int_equal(cfg->keep_artifact_days, -1);
    assert_int_equal(cfg->keep_artifact_builds, -1);
    jobcfg_free(cfg);
}

/* The engine's cache shares a config with its builds: each owner frees it, the last for real. */
static void jobcfg_ref__shares_and_drop_document_keeps_every_field(void **state)
{
    struct job_config *cfg = PARSE_OK(jjb_xml), *same;
    char *xml = NULL;
    size_t len = 0;

    (void) state;
    same = jobcfg_ref(cfg);
    assert_ptr_equal(same, cfg);
    assert_null(jobcfg_free(same));
    /* still the first owner's, whole (AddressSanitizer would see a use after free) */
    assert_string_equal(cfg->auth_token, "s3cret");
    assert_int_equal(cfg->n_params, 4);

    jobcfg_drop_document(cfg);
    jobcfg_drop_document(cfg);
    assert_null(cfg->doc);
    assert_string_equal(cfg->description, "Demo job<!-- Managed by Jenkins Job Builder -->");
    assert_string_equal(cfg->params[0].name, "BRANCH");
    assert_true(cfg->n_shell_steps > 0);
    assert_non_null(cfg->shell_steps[0]);
    /* with no document, nothing holds libxml2: it can be unloaded, and nothing can be written */
    assert_int_equal(jobcfg_write(cfg, &xml, &len), -EINVAL);
    assert_null(xml);
    assert_int_equal(jobcfg_rename_project(cfg, "a", "b"), -EINVAL);
    assert_null(jobcfg_free(cfg));
}

static void jobcfg_parse__reads_the_log_rotator_in_both_places_jenkins_writes_it(void **state)
{
    static const char modern[] =
        "<project><properties><jenkins.model.BuildDiscarderProperty>"
        "<strategy class='hudson.tasks.LogRotator'><daysToKeep>7</daysToKeep><numToKeep></numToKeep>"
        "<artifactDaysToKeep> 3 </artifactDaysToKeep><artifactNumToKeep>2</artifactNumToKeep>"
        "</strategy></jenkins.model.BuildDiscarderProperty></properties></project>";
    static const char legacy[] =
        "<project><logRotator class='hudson.tasks.LogRotator'><daysToKeep>-1</daysToKeep>"
        "<numToKeep>5</numToKeep></logRotator><properties/></project>";
    static const char plugin[] =
        "<project><properties><jenkins.model.BuildDiscarderProperty>"
        "<strategy class='org.example.OtherStrategy'><numToKeep>1</numToKeep></strategy>"
        "</jenkins.model.BuildDiscarderProperty></properties></project>";
    struct job_config *cfg;

    (void) state;
    cfg = PARSE_OK(modern);
    assert_int_equal(cfg->keep_days, 7);
    assert_int_equal(cfg->keep_builds, -1);
    assert_int_equal(cfg->keep_artifact_days, 3);
    assert_int_equal(cfg->keep_artifact_builds, 2);
    jobcfg_free(cfg);
    cfg = PARSE_OK("<project><logRotator><daysToKeep>2000000000</daysToKeep></logRotator></project>");
    assert_int_equal(cfg->keep_days, JOBCFG_KEEP_MAX);
    jobcfg_free(cfg);
    cfg = PARSE_OK(legacy);
    assert_int_equal(cfg->keep_days, -1);
    assert_int_equal(cfg->keep_builds, 5);
    assert_int_equal(cfg->keep_artifact_builds, -1);
    jobcfg_free(cfg);
    /* another strategy is kept in the document, not applied */
    cfg = PARSE_OK(plugin);
    assert_int_equal(cfg->keep_builds, -1);
    jobcfg_free(cfg);
    cfg = PARSE_OK("<project/>");
    assert_int_equal(cfg->keep_builds, -1);
    assert_int_equal(cfg->keep_days, -1);
    jobcfg_free(cfg);
}

static void jobcfg_parse__refuses_a_garbled_log_rotator_count(void **state)
{
    static const char bad[] =
        "<project><logRotator><numToKeep>ten</numToKeep></logRotator></project>";
    char *msg = parse_fails(bad, strlen(bad), -EINVAL);

    (void) state;
    assert_string_equal(msg, "<numToKeep> must be a whole number, not 'ten'");
    free(msg);
}

static void jobcfg_matrix__reads_every_form_and_writes_back_only_its_own_entries(void **state)
{
    /* what jenkins-job-builder's `authorization:` writes, plus a plugin's entry */
    static const char jjb[] =
        "<project><properties>\n"
        "  <hudson.security.AuthorizationMatrixProperty>\n"
        "    <inheritanceStrategy class=\"org.jenkinsci.plugins.matrixauth.inheritance.InheritParentStrategy\"/>\n"
        "    <permission>hudson.model.Item.Build:bob</permission>\n"
        "    <permission>hudson.model.Item.Discover:bob</permission>\n"
        "    <permission>GROUP:hudson.model.Item.Read:authenticated</permission>\n"
        "  </hudson.security.AuthorizationMatrixProperty>\n"
        "</properties></project>";
    static const char blocks[] =
        "<project><properties><hudson.security.AuthorizationMatrixProperty>"
        "<blocksInheritance>true</blocksInheritance>"
        "<permission>USER:hudson.model.Item.Read:carol</permission>"
        "</hudson.security.AuthorizationMatrixProperty></properties></project>";
    static const char bad[] =
        "<project><properties><hudson.security.AuthorizationMatrixProperty>"
        "<permission>bob</permission>"
        "</hudson.security.AuthorizationMatrixProperty></properties></project>";
    struct grant g = { PRINCIPAL_USER, PERM_JOB_CONFIGURE, (char *) "dave" };
    struct job_config *cfg, *again;
    char *xml, *msg;

    (void) state;
    cfg = PARSE_OK(jjb);
    assert_true(cfg->matrix.present);
    assert_true(cfg->matrix.inherit);
    assert_int_equal(cfg->matrix.n_grants, 2);
    assert_int_equal(cfg->matrix.grants[0].kind, PRINCIPAL_EITHER);
    assert_int_equal(cfg->matrix.grants[0].perm, PERM_JOB_BUILD);
    assert_string_equal(cfg->matrix.grants[0].sid, "bob");
    assert_int_equal(cfg->matrix.grants[1].kind, PRINCIPAL_GROUP);

    /* replaced: the Discover entry, which Steward does not use, stays */
    assert_int_equal(jobcfg_set_matrix(cfg, false, &g, 1), 0);
    again = reparse(cfg, &xml);
    assert_false(again->matrix.inherit);
    assert_int_equal(again->matrix.n_grants, 1);
    assert_string_equal(again->matrix.grants[0].sid, "dave");
    assert_non_null(strstr(xml, "<permission>USER:hudson.model.Item.Configure:dave</permission>"));
    assert_non_null(strstr(xml, "<permission>hudson.model.Item.Discover:bob</permission>"));
    assert_non_null(strstr(xml, "NonInheritingStrategy"));
    assert_null(strstr(xml, "Item.Build:bob"));
    free(xml);
    jobcfg_free(again);

    /* no grants and nothing else: the property goes */
    assert_int_equal(jobcfg_set_matrix(cfg, true, NULL, 0), 0);
    again = reparse(cfg, &xml);
    assert_true(again->matrix.present); /* the Discover entry is still there */
    assert_int_equal(again->matrix.n_grants, 0);
    free(xml);
    jobcfg_free(again);
    jobcfg_free(cfg);

    cfg = PARSE_OK(blocks);
    assert_false(cfg->matrix.inherit);
    assert_int_equal(jobcfg_set_matrix(cfg, true, NULL, 0), 0);
    again = reparse(cfg, &xml);
    assert_false(again->matrix.present);
    assert_null(strstr(xml, "AuthorizationMatrixProperty"));
    free(xml);
    jobcfg_free(again);
    jobcfg_free(cfg);

    cfg = PARSE_OK("<project><properties/></project>");
    assert_false(cfg->matrix.present);
    g.sid = (char *) "";
    assert_int_equal(jobcfg_set_matrix(cfg, true, &g, 1), -EINVAL);
    jobcfg_free(cfg);

    msg = parse_fails(bad, strlen(bad), -EINVAL);
    assert_non_null(strstr(msg, "is not a grant"));
    free(msg);
}

/*
 * Issue 9 (found by fuzz_perm): a sid with whitespace at either end, which
 * grant_parse() keeps, was written as it was and read back trimmed: as
 * another user, or for a sid of blanks as an entry that does not parse,
 * which left the job's config.xml unreadable.
 */
static void jobcfg_set_matrix__refuses_a_sid_config_xml_would_trim(void **state)
{
    static const char *const sids[] = { " ", "\t", "bob ", " bob", "bob\n", "\rbob" };
    struct job_config *cfg, *again;
    struct grant g = { .kind = PRINCIPAL_USER, .perm = PERM_JOB_READ };
    char *xml;

    (void) state;
    cfg = PARSE_OK("<project/>");
    for (size_t i = 0; i < sizeof sids / sizeof *sids; i++) {
        g.sid = (char *) sids[i];
        assert_int_equal(jobcfg_set_matrix(cfg, true, &g, 1), -EINVAL);
    }
    assert_false(cfg->matrix.present);
    g.sid = (char *) "bob and alice";
    assert_int_equal(jobcfg_set_matrix(cfg, true, &g, 1), 0);
    again = reparse(cfg, &xml);
    assert_int_equal(again->matrix.n_grants, 1);
    assert_string_equal(again->matrix.grants[0].sid, "bob and alice");
    free(xml);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_masked_xml__hides_the_trigger_token(void **state)
{
    struct job_config *cfg;
    char *xml;
    size_t len;

    (void) state;
    cfg = PARSE_OK("<project><authToken>s3cret</authToken><description>d</description></project>");
    assert_int_equal(jobcfg_masked_xml(cfg, &xml, &len), 0);
    assert_null(strstr(xml, "s3cret"));
    assert_non_null(strstr(xml, "<authToken>" JOBCFG_MASK "</authToken>"));
    assert_non_null(strstr(xml, "<description>d</description>"));
    free(xml);
    /* the kept document is untouched */
    assert_string_equal(cfg->auth_token, "s3cret");
    xml = write_ok(cfg, NULL);
    assert_non_null(strstr(xml, "s3cret"));
    free(xml);
    jobcfg_free(cfg);
}

static void jobcfg_parse__reads_the_sandbox_network_and_keeps_the_element(void **state)
{
    struct job_config *cfg, *again;
    char *xml = NULL, *msg;
    static const char bad[] = "<project><steward.sandbox network=\"wifi\"/></project>";
    static const char twice[] = "<project><steward.sandbox network=\"none\"/>"
                                "<steward.sandbox network=\"host\"/></project>";

    (void) state;
    cfg = PARSE_OK("<project><description>d</description></project>");
    assert_int_equal(cfg->network, SANDBOX_NET_DEFAULT);
    jobcfg_free(cfg);
    cfg = PARSE_OK("<project><steward.sandbox/></project>");
    assert_int_equal(cfg->network, SANDBOX_NET_DEFAULT);
    jobcfg_free(cfg);
    cfg = PARSE_OK("<project><steward.sandbox network=\"host\"/></project>");
    assert_int_equal(cfg->network, SANDBOX_NET_HOST);
    jobcfg_free(cfg);
    cfg = PARSE_OK("<project><steward.sandbox network=\"none\"/></project>");
    assert_int_equal(cfg->network, SANDBOX_NET_NONE);
    /* written back as it was: Steward does not manage it through the form */
    again = reparse(cfg, &xml);
    assert_int_equal(again->network, SANDBOX_NET_NONE);
    assert_non_null(strstr(xml, "<steward.sandbox network=\"none\"/>"));
    free(xml);
    jobcfg_free(again);
    jobcfg_free(cfg);

    msg = parse_fails(bad, strlen(bad), -EINVAL);
    assert_string_equal(msg, "<steward.sandbox network=\"wifi\">: the network is \"none\" or "
                             "\"host\"");
    free(msg);
    msg = parse_fails(twice, strlen(twice), -EINVAL);
    assert_string_equal(msg, "<project> holds more than one <steward.sandbox>");
    free(msg);
}

static void jobcfg_parse__accepts_the_xml_1_1_header_jenkins_writes(void **state)
{
    struct job_config *cfg = PARSE_OK(jenkins_xml);

    (void) state;
    assert_string_equal(cfg->description, "");
    assert_true(cfg->disabled);
    assert_false(cfg->concurrent_build);
    assert_int_equal(cfg->quiet_period, -1);
    assert_null(cfg->auth_token); /* <authToken></authToken> */

    /* the file-parameters plugin's parameter is not ours to manage */
    assert_int_equal(cfg->n_params, 3);
    assert_string_equal(cfg->params[1].name, "NOTES");
    assert_int_equal(cfg->params[1].type, PARAM_TEXT);
    assert_string_equal(cfg->params[1].default_value, "line 1\nline 2");
    assert_string_equal(cfg->params[2].name, "PW");
    assert_string_equal(cfg->params[2].default_value, "");
    assert_null(cfg->params[2].description);
    assert_null(jobcfg_find_param(cfg, "upload.zip"));

    assert_int_equal(cfg->n_shell_steps, 2);
    assert_string_equal(cfg->shell_steps[0], "make && make check");
    assert_string_equal(cfg->shell_steps[1], "echo \"<done>\"");
    jobcfg_free(cfg);
}

static void jobcfg_parse__reads_both_choice_layouts(void **state)
{
    struct job_config *a = PARSE_OK(jjb_xml), *b = PARSE_OK(jenkins_xml);
    struct job_config *none = PARSE_OK(
        "<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
        "<hudson.model.ChoiceParameterDefinition><name>X</name><choices/>"
        "</hudson.model.ChoiceParameterDefinition>"
        "<hudson.model.ChoiceParameterDefinition><name>Y</name>"
        "</hudson.model.ChoiceParameterDefinition>"
        "</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties></project>");
    const struct param_def *p;

    (void) state;
    p = jobcfg_find_param(a, "MODE"); /* class="java.util.Arrays$ArrayList" + <a class="string-array"> */
    assert_non_null(p);
    assert_int_equal(p->n_choices, 2);
    assert_string_equal(p->choices[0], "debug");
    assert_string_equal(p->choices[1], "release");

    p = jobcfg_find_param(b, "ENV"); /* plain <choices><string> */
    assert_non_null(p);
    assert_int_equal(p->type, PARAM_CHOICE);
    assert_null(p->default_value);
    assert_int_equal(p->n_choices, 2);
    assert_string_equal(p->choices[0], "staging");
    assert_string_equal(p->choices[1], "prod");

    /* no choices at all is allowed */
    assert_int_equal(none->n_params, 2);
    assert_int_equal(none->params[0].n_choices, 0);
    assert_int_equal(none->params[1].n_choices, 0);
    jobcfg_free(a);
    jobcfg_free(b);
    jobcfg_free(none);
}

static void jobcfg_parse__reads_booleans_and_defaults_like_jenkins(void **state)
{
    struct job_config *cfg = PARSE_OK(
        "<?xml version=\"1.0\"?>\n<project><disabled> TRUE </disabled><concurrentBuild/>"
        "<quietPeriod> 0 </quietPeriod><authToken>{AQAAABAAAAAw}</authToken>"
        "<properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
        "<hudson.model.BooleanParameterDefinition><name>B</name></hudson.model.BooleanParameterDefinition>"
        "<hudson.model.BooleanParameterDefinition><name>C</name><defaultValue>true</defaultValue>"
        "</hudson.model.BooleanParameterDefinition>"
        "<hudson.model.StringParameterDefinition><name>S</name><trim>true</trim>"
        "</hudson.model.StringParameterDefinition>"
        "</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties></project>");

    (void) state;
    assert_null(cfg->description);
    assert_true(cfg->disabled);
    assert_false(cfg->concurrent_build);
    assert_int_equal(cfg->quiet_period, 0);
    assert_string_equal(cfg->auth_token, "{AQAAABAAAAAw}");
    assert_string_equal(jobcfg_find_param(cfg, "B")->default_value, "false");
    assert_string_equal(jobcfg_find_param(cfg, "C")->default_value, "true");
    assert_string_equal(jobcfg_find_param(cfg, "S")->default_value, "");
    assert_true(jobcfg_find_param(cfg, "S")->trim);
    assert_int_equal(cfg->n_shell_steps, 0);
    jobcfg_free(cfg);
}

/* ---- refusing hostile or broken input ------------------------------------ */

static void jobcfg_parse__refuses_a_doctype_with_an_external_entity(void **state)
{
    static const char xml[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n"
        "<project><description>&e;</description></project>\n";
    static const char xml_root_named[] =
        "<!DOCTYPE project [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
        "<project><description>&e;</description></project>";
    static const char xml_external_dtd[] =
        "<!DOCTYPE project SYSTEM \"http://127.0.0.1:1/evil.dtd\"><project/>";
    char *msg;

    (void) state;
    msg = parse_fails(xml, strlen(xml), -EINVAL);
    assert_string_equal(msg, "config.xml must not contain a DOCTYPE");
    assert_null(strstr(msg, "root:"));
    free(msg);
    msg = parse_fails(xml_root_named, strlen(xml_root_named), -EINVAL);
    assert_string_equal(msg, "config.xml must not contain a DOCTYPE");
    free(msg);
    msg = parse_fails(xml_external_dtd, strlen(xml_external_dtd), -EINVAL);
    assert_string_equal(msg, "config.xml must not contain a DOCTYPE");
    free(msg);
}

static void jobcfg_parse__refuses_billion_laughs(void **state)
{
    static const char xml[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE project [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n"
        "<project><description>&lol9;</description></project>\n";
    char *msg;

    (void) state;
    msg = parse_fails(xml, strlen(xml), -EINVAL);
    assert_string_equal(msg, "config.xml must not contain a DOCTYPE");
    free(msg);
}

static void jobcfg_parse__refuses_an_undeclared_entity(void **state)
{
    static const char xml[] = "<project><description>&e;</description></project>";
    char *msg;

    (void) state;
    msg = parse_fails(xml, strlen(xml), -EINVAL);
    assert_non_null(strstr(msg, "not well-formed"));
    free(msg);
}

static void jobcfg_parse__refuses_malformed_xml_with_the_line_of_the_error(void **state)
{
    static const char xml[] = "<?xml version=\"1.0\"?>\n<project>\n  <description>x</descr>\n</project>\n";
    char *msg;

    (void) state;
    msg = parse_fails(xml, strlen(xml), -EINVAL);
    assert_non_null(strstr(msg, "config.xml is not well-formed XML: line 3: "));
    assert_non_null(strstr(msg, "mismatch"));
    free(msg);

    msg = parse_fails("<project>", 9, -EINVAL);
    assert_non_null(strstr(msg, "line 1: "));
    free(msg);
    msg = parse_fails("not xml at all", 14, -EINVAL);
    free(msg);
    msg = parse_fails("<project/>\0<x/>", 15, -EINVAL); /* a NUL byte inside */
    free(msg);
    msg = parse_fails("", 0, -EINVAL);
    assert_string_equal(msg, "config.xml is empty");
    free(msg);
}

static void jobcfg_parse__refuses_a_root_other_than_project(void **state)
{
    static const char xml[] =
        "<?xml version='1.1' encoding='UTF-8'?>\n"
        "<flow-definition plugin=\"workflow-job@1400\"><actions/></flow-definition>\n";
    static const char maven[] = "<maven2-moduleset/>";
    char *msg;

    (void) state;
    msg = parse_fails(xml, strlen(xml), -EINVAL);
    assert_string_equal(msg, "root element is <flow-definition>, Steward runs freestyle <project> jobs");
    free(msg);
    msg = parse_fails(maven, strlen(maven), -EINVAL);
    assert_string_equal(msg, "root element is <maven2-moduleset>, Steward runs freestyle <project> jobs");
    free(msg);
}

static void jobcfg_parse__refuses_nesting_deeper_than_the_bound(void **state)
{
    char *ok = nested(BOUND_XML_DEPTH), *deep = nested(BOUND_XML_DEPTH + 1);
    char *bomb = nested(200000), *msg;
    struct job_config *cfg;

    (void) state;
    cfg = PARSE_OK(ok);
    jobcfg_free(cfg);

    msg = parse_fails(deep, strlen(deep), -EINVAL);
    assert_non_null(strstr(msg, "deeper than"));
    free(msg);
    msg = parse_fails(bomb, strlen(bomb), -E2BIG); /* 1.4 MB: over the size bound */
    free(msg);
    bomb[BOUND_CONFIG_XML_BYTES - 1] = '\0';        /* truncated: fits, still too deep */
    msg = parse_fails(bomb, strlen(bomb), -EINVAL);
    assert_non_null(strstr(msg, "deeper than"));
    free(msg);
    free(ok);
    free(deep);
    free(bomb);
}

static void jobcfg_parse__refuses_input_over_the_size_bound(void **state)
{
    size_t len = BOUND_CONFIG_XML_BYTES + 1, pre = strlen("<project><description>");
    char *xml = malloc(len + 1), *msg = NULL;
    struct job_config *cfg = NULL;

    (void) state;
    assert_non_null(xml);
    memset(xml, 'x', len);
    memcpy(xml, "<project><description>", pre);
    memcpy(xml + len - strlen("</description></project>"), "</description></project>",
           strlen("</description></project>"));
    xml[len] = '\0';
    assert_int_equal(jobcfg_parse(xml, len, &cfg, &msg), -E2BIG);
    assert_null(cfg);
    assert_null(msg);

    /* one byte less is fine */
    memcpy(xml + len - 1 - strlen("</description></project>"), "</description></project>",
           strlen("</description></project>"));
    cfg = parse_ok(xml, len - 1);
    assert_int_equal(strlen(cfg->description), len - 1 - pre - strlen("</description></project>"));
    jobcfg_free(cfg);
    free(xml);
}

static void jobcfg_parse__refuses_duplicate_parameter_names(void **state)
{
    static const char xml[] =
        "<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
        "<hudson.model.StringParameterDefinition><name>X</name></hudson.model.StringParameterDefinition>"
        "<hudson.model.BooleanParameterDefinition><name>X</name></hudson.model.BooleanParameterDefinition>"
        "</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties></project>";
    /* a parameter of another class counts too */
    static const char xml_file[] =
        "<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
        "<io.jenkins.plugins.file__parameters.StashedFileParameterDefinition><name>F</name></io.jenkins.plugins.file__parameters.StashedFileParameterDefinition>"
        "<hudson.model.StringParameterDefinition><name>F</name></hudson.model.StringParameterDefinition>"
        "</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties></project>";
    char *msg;

    (void) state;
    msg = parse_fails(xml, strlen(xml), -EINVAL);
    assert_string_equal(msg, "two parameters are named 'X'");
    free(msg);
    msg = parse_fails(xml_file, strlen(xml_file), -EINVAL);
    assert_string_equal(msg, "two parameters are named 'F'");
    free(msg);
}

static void jobcfg_parse__refuses_a_parameter_without_a_name(void **state)
{
    static const char xml[] =
        "<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
        "<hudson.model.StringParameterDefinition><name>A</name></hudson.model.StringParameterDefinition>"
        "<hudson.model.TextParameterDefinition><defaultValue>x</defaultValue>"
        "</hudson.model.TextParameterDefinition>"
        "</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties></project>";
    static const char empty[] =
        "<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
        "<hudson.model.ChoiceParameterDefinition><name></name></hudson.model.ChoiceParameterDefinition>"
        "</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties></project>";
    char *msg;

    (void) state;
    msg = parse_fails(xml, strlen(xml), -EINVAL);
    assert_string_equal(msg, "parameter 2 (TextParameterDefinition) has no name");
    free(msg);
    msg = parse_fails(empty, strlen(empty), -EINVAL);
    assert_string_equal(msg, "parameter 1 (ChoiceParameterDefinition) has no name");
    free(msg);
}

static void jobcfg_parse__refuses_a_negative_or_garbled_quiet_period(void **state)
{
    static const char *const bad[] = {
        "<project><quietPeriod>-5</quietPeriod></project>",
        "<project><quietPeriod>5s</quietPeriod></project>",
        "<project><quietPeriod></quietPeriod></project>",
        "<project><quietPeriod>99999999999</quietPeriod></project>",
        "<project><disabled>yes</disabled></project>",
        "<project><description>a<b/></description></project>",
        "<project><description>a</description><description>b</description></project>",
    };
    char *msg;

    (void) state;
    msg = parse_fails(bad[0], strlen(bad[0]), -EINVAL);
    assert_string_equal(msg, "<quietPeriod> must not be negative");
    free(msg);
    msg = parse_fails(bad[1], strlen(bad[1]), -EINVAL);
    assert_string_equal(msg, "<quietPeriod> must be a number of seconds, not '5s'");
    free(msg);
    for (size_t i = 2; i < ELEMENTSOF(bad); i++)
        free(parse_fails(bad[i], strlen(bad[i]), -EINVAL));
}

static void jobcfg_parse__sets_no_message_when_the_caller_wants_none(void **state)
{
    struct job_config *cfg = NULL;

    (void) state;
    assert_int_equal(jobcfg_parse("<x/>", 4, &cfg, NULL), -EINVAL);
    assert_null(cfg);
}

/* ---- writing ------------------------------------------------------------ */

static void jobcfg_write__changes_nothing_when_nothing_changed(void **state)
{
    struct job_config *cfg = PARSE_OK(jjb_xml);
    size_t len;
    char *xml = write_ok(cfg, &len);

    (void) state;
    assert_string_equal(xml, jjb_xml);
    free(xml);
    jobcfg_free(cfg);

    /* Jenkins' own file: only the XML declaration is libxml2's */
    cfg = PARSE_OK(jenkins_xml);
    xml = write_ok(cfg, &len);
    assert_memory_equal(xml, "<?xml version=\"1.1\" encoding=\"UTF-8\"?>\n", 39);
    assert_string_equal(xml + 39, strchr(jenkins_xml, '\n') + 1);
    free(xml);
    jobcfg_free(cfg);
}

static void jobcfg_write__keeps_the_description_byte_for_byte(void **state)
{
    static const char tricky[] =
        "  \n\tLeading and trailing whitespace & <b>markup</b> \"quoted\" 'single' \r\n"
        "ünïcödé ✓ 𝄞 ]]> &amp; &#65;\n\n<!-- Managed by Jenkins Job Builder -->";
    static const char xml[] =
        "<project><description>  \n  Release job&#13;\n&lt;!-- Managed by Jenkins Job Builder --&gt;"
        "<![CDATA[<raw> & ]]>  \n</description></project>";
    struct job_config *cfg = PARSE_OK(xml), *again;
    char *out;

    (void) state;
    assert_string_equal(cfg->description,
                        "  \n  Release job\r\n<!-- Managed by Jenkins Job Builder --><raw> &   \n");

    /* kept as read */
    again = reparse(cfg, &out);
    assert_string_equal(again->description, cfg->description);
    assert_non_null(strstr(out, "<![CDATA[<raw> & ]]>"));
    free(out);
    jobcfg_free(again);

    /* set, written, read back */
    assert_int_equal(jobcfg_set_description(cfg, tricky), 0);
    again = reparse(cfg, &out);
    assert_string_equal(again->description, tricky);
    assert_non_null(strstr(out, "&lt;!-- Managed by Jenkins Job Builder --&gt;"));
    assert_string_equal(again->description + strlen(again->description) -
                            strlen("<!-- Managed by Jenkins Job Builder -->"),
                        "<!-- Managed by Jenkins Job Builder -->");
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_write__keeps_unknown_elements_after_changes(void **state)
{
    static const char *const kept[] = {
        "<actions/>",
        "<keepDependencies>false</keepDependencies>",
        "<blockBuildWhenDownstreamBuilding>false</blockBuildWhenDownstreamBuilding>",
        "<assignedNode>linux</assignedNode>",
        "<canRoam>false</canRoam>",
        "<jenkins.model.BuildDiscarderProperty>\n"
        "      <strategy class=\"hudson.tasks.LogRotator\">\n"
        "        <daysToKeep>-1</daysToKeep><numToKeep>10</numToKeep>\n"
        "        <artifactDaysToKeep>-1</artifactDaysToKeep><artifactNumToKeep>-1</artifactNumToKeep>\n"
        "      </strategy>\n"
        "    </jenkins.model.BuildDiscarderProperty>",
        "<scm class=\"hudson.scm.NullSCM\"/>",
        "<triggers class=\"vector\">\n"
        "    <hudson.triggers.TimerTrigger><spec>H 2 * * *</spec></hudson.triggers.TimerTrigger>\n"
        "    <hudson.triggers.SCMTrigger><spec>H/15 * * * *</spec><ignorePostCommitHooks>false"
        "</ignorePostCommitHooks></hudson.triggers.SCMTrigger>\n"
        "  </triggers>",
        "<publishers>\n"
        "    <hudson.tasks.ArtifactArchiver>\n"
        "      <artifacts>out/**</artifacts><allowEmptyArchive>true</allowEmptyArchive>\n"
        "      <onlyIfSuccessful>false</onlyIfSuccessful><fingerprint>false</fingerprint>\n"
        "      <defaultExcludes>true</defaultExcludes><caseSensitive>true</caseSensitive>"
        "<latestOnly>false</latestOnly>\n"
        "    </hudson.tasks.ArtifactArchiver>\n"
        "    <hudson.tasks.BuildTrigger>\n"
        "      <childProjects>other-job</childProjects>\n"
        "      <threshold><name>SUCCESS</name><ordinal>0</ordinal><color>BLUE</color></threshold>\n"
        "    </hudson.tasks.BuildTrigger>\n"
        "  </publishers>",
        "<buildWrappers/>",
    };
    static const char *const steps[] = { "make\n", "make install" };
    struct job_config *cfg = PARSE_OK(jjb_xml), *again;
    struct param_def params[2];
    char *out;

    (void) state;
    params[0] = cfg->params[1]; /* MODE, moved to the front */
    params[1] = (struct param_def){ .type = PARAM_STRING, .name = "TARGET", .default_value = "x86_64" };
    assert_int_equal(jobcfg_set_params(cfg, params, 2), 0);
    assert_int_equal(jobcfg_set_shell_steps(cfg, steps, 2), 0);
    assert_int_equal(jobcfg_set_description(cfg, "New text"), 0);
    assert_int_equal(jobcfg_set_auth_token(cfg, "t0ken"), 0);
    cfg->disabled = true;
    cfg->concurrent_build = false;
    cfg->quiet_period = 30;

    again = reparse(cfg, &out);
    assert_same_config(cfg, again);
    assert_string_equal(again->description, "New text");
    assert_true(again->disabled);
    assert_int_equal(again->quiet_period, 30);
    assert_string_equal(again->params[0].name, "MODE");
    assert_string_equal(again->params[1].default_value, "x86_64");
    for (size_t i = 0; i < ELEMENTSOF(kept); i++)
        if (!strstr(out, kept[i]))
            fail_msg("lost: %s\n--- in:\n%s", kept[i], out);
    /* the kept MODE definition is still in JJB's layout */
    assert_non_null(strstr(out, "<choices class=\"java.util.Arrays$ArrayList\">\n"
                                "            <a class=\"string-array\"><string>debug</string>"
                                "<string>release</string></a>"));
    assert_null(strstr(out, "BRANCH"));
    assert_null(strstr(out, "hunter2"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_set_params__round_trips_through_write(void **state)
{
    static char *choices[] = { "a", "b & c", "<d>" };
    const struct param_def params[] = {
        { .type = PARAM_STRING, .name = "S", .description = "a string", .default_value = "v", .trim = true },
        { .type = PARAM_TEXT, .name = "T", .default_value = "l1\nl2\n" },
        { .type = PARAM_BOOLEAN, .name = "B", .description = "", .default_value = "true" },
        { .type = PARAM_CHOICE, .name = "C", .choices = choices, .n_choices = 3 },
        { .type = PARAM_CHOICE, .name = "EMPTY" },
        { .type = PARAM_PASSWORD, .name = "P", .default_value = "pw" },
    };
    struct job_config *cfg, *again, *third;
    char *out;

    (void) state;
    assert_int_equal(jobcfg_new(&cfg), 0);
    assert_int_equal(jobcfg_set_params(cfg, params, ELEMENTSOF(params)), 0);
    assert_int_equal(cfg->n_params, ELEMENTSOF(params));
    assert_ptr_not_equal(cfg->params[0].name, params[0].name); /* copied */

    again = reparse(cfg, &out);
    assert_same_params(cfg, again);
    assert_non_null(strstr(out, "<hudson.model.ParametersDefinitionProperty>"));
    assert_non_null(strstr(out, "<a class=\"string-array\">"));
    free(out);

    /* change one of them, drop one, in the written document */
    assert_int_equal(jobcfg_set_params(again, &params[1], 3), 0);
    again->params[0].default_value[0] = 'L';
    third = reparse(again, &out);
    assert_same_params(again, third);
    assert_null(strstr(out, "<name>S</name>"));
    free(out);

    /* setting a config's own params is fine */
    assert_int_equal(jobcfg_set_params(third, third->params, third->n_params), 0);
    jobcfg_free(third);
    third = reparse(again, NULL);
    assert_same_params(again, third);
    jobcfg_free(third);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_set_params__empty_removes_the_parameters_property(void **state)
{
    struct job_config *cfg = PARSE_OK(jjb_xml), *again;
    char *out;

    (void) state;
    assert_int_equal(jobcfg_set_params(cfg, NULL, 0), 0);
    again = reparse(cfg, &out);
    assert_int_equal(again->n_params, 0);
    assert_null(strstr(out, "ParametersDefinitionProperty"));
    assert_null(strstr(out, "parameterDefinitions"));
    assert_non_null(strstr(out, "<jenkins.model.BuildDiscarderProperty>"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);

    /* ... but a parameter of another class keeps it */
    cfg = PARSE_OK(jenkins_xml);
    assert_int_equal(jobcfg_set_params(cfg, NULL, 0), 0);
    again = reparse(cfg, &out);
    assert_int_equal(again->n_params, 0);
    assert_non_null(strstr(out, "<io.jenkins.plugins.file__parameters.StashedFileParameterDefinition>\n"
                                "          <name>upload.zip</name>\n"
                                "          <description>a file</description>\n"
                                "        </io.jenkins.plugins.file__parameters.StashedFileParameterDefinition>"));
    assert_null(strstr(out, "ChoiceParameterDefinition"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_set_params__keeps_other_parameter_classes_in_place(void **state)
{
    struct job_config *cfg = PARSE_OK(jenkins_xml), *again;
    const struct param_def params[] = {
        { .type = PARAM_STRING, .name = "FIRST" },
        { .type = PARAM_STRING, .name = "SECOND" },
        { .type = PARAM_STRING, .name = "THIRD" },
        { .type = PARAM_STRING, .name = "FOURTH" },
    };
    const char *a, *f, *b, *c, *d;
    char *out;

    (void) state;
    assert_int_equal(jobcfg_set_params(cfg, params, 4), 0);
    again = reparse(cfg, &out);
    assert_same_params(cfg, again);
    /* FIRST, SECOND in the old places, the file parameter, THIRD in PW's place, then FOURTH */
    a = strstr(out, "<name>FIRST</name>");
    b = strstr(out, "<name>SECOND</name>");
    f = strstr(out, "<name>upload.zip</name>");
    c = strstr(out, "<name>THIRD</name>");
    d = strstr(out, "<name>FOURTH</name>");
    assert_true(a && b && f && c && d);
    assert_true(a < b && b < f && f < c && c < d);

    /* a name clash with the file parameter cannot be written */
    assert_int_equal(jobcfg_set_params(again, &(struct param_def){ .name = "upload.zip" }, 1), 0);
    free(out);
    assert_int_equal(jobcfg_write(again, &out, &(size_t){ 0 }), -EINVAL);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_set_shell_steps__replaces_shells_in_place_and_keeps_other_builders(void **state)
{
    static const char *const three[] = { "one", "two & <three>", "three" };
    static const char *const one[] = { "only" };
    struct job_config *cfg = PARSE_OK(jenkins_xml), *again;
    const char *s1, *ant, *s2, *s3;
    char *out;

    (void) state;
    assert_int_equal(jobcfg_set_shell_steps(cfg, three, 3), 0);
    again = reparse(cfg, &out);
    assert_int_equal(again->n_shell_steps, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(again->shell_steps[i], three[i]);
    s1 = strstr(out, "<command>one</command>");
    ant = strstr(out, "<hudson.tasks.Ant plugin=\"ant@1.11\">\n      <targets>dist</targets>");
    s2 = strstr(out, "<command>two &amp; &lt;three&gt;</command>");
    s3 = strstr(out, "<command>three</command>");
    assert_true(s1 && ant && s2 && s3);
    assert_true(s1 < ant && ant < s2 && s2 < s3);
    assert_true(s3 < strstr(out, "</builders>"));
    /* the first Shell keeps what else it held */
    assert_non_null(strstr(out, "<command>one</command>\n      <configuredLocalRules/>"));
    free(out);

    assert_int_equal(jobcfg_set_shell_steps(again, one, 1), 0);
    jobcfg_free(cfg);
    cfg = reparse(again, &out);
    assert_int_equal(cfg->n_shell_steps, 1);
    assert_string_equal(cfg->shell_steps[0], "only");
    assert_non_null(strstr(out, "<hudson.tasks.Ant plugin=\"ant@1.11\">"));
    assert_null(strstr(out, "three"));
    free(out);

    assert_int_equal(jobcfg_set_shell_steps(cfg, NULL, 0), 0);
    jobcfg_free(again);
    again = reparse(cfg, &out);
    assert_int_equal(again->n_shell_steps, 0);
    assert_null(strstr(out, "hudson.tasks.Shell"));
    assert_non_null(strstr(out, "<hudson.tasks.Ant"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_set_auth_token__null_removes_the_token(void **state)
{
    struct job_config *cfg = PARSE_OK(jjb_xml), *again;
    char *out;

    (void) state;
    assert_int_equal(jobcfg_set_auth_token(cfg, NULL), 0);
    assert_null(cfg->auth_token);
    again = reparse(cfg, &out);
    assert_null(again->auth_token);
    assert_null(strstr(out, "authToken"));
    assert_null(strstr(out, "s3cret"));
    free(out);

    assert_int_equal(jobcfg_set_auth_token(again, ""), 0);
    assert_null(again->auth_token);
    assert_int_equal(jobcfg_set_auth_token(again, "n3w & <token>"), 0);
    jobcfg_free(cfg);
    cfg = reparse(again, &out);
    assert_string_equal(cfg->auth_token, "n3w & <token>");
    /* created where Jenkins has it: after the blockBuildWhen... pair */
    assert_non_null(strstr(out, "<blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>\n"
                                "  <authToken>n3w &amp; &lt;token&gt;</authToken>\n"
                                "  <concurrentBuild>"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_set_description__round_trips(void **state)
{
    struct job_config *cfg, *again;
    char *out;

    (void) state;
    assert_int_equal(jobcfg_new(&cfg), 0);
    assert_int_equal(jobcfg_set_description(cfg, "first\nsecond  "), 0);
    again = reparse(cfg, NULL);
    assert_string_equal(again->description, "first\nsecond  ");

    assert_int_equal(jobcfg_set_description(again, NULL), 0);
    jobcfg_free(cfg);
    cfg = reparse(again, &out);
    assert_null(cfg->description);
    assert_null(strstr(out, "description"));
    free(out);

    assert_int_equal(jobcfg_set_description(cfg, ""), 0);
    jobcfg_free(again);
    again = reparse(cfg, &out);
    assert_string_equal(again->description, "");
    /* created after <actions>, as Jenkins writes it */
    assert_non_null(strstr(out, "<actions/>\n  <description></description>\n  <keepDependencies>"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_write__creates_missing_elements_in_jenkins_order(void **state)
{
    static const char *const steps[] = { "true" };
    const struct param_def p = { .type = PARAM_BOOLEAN, .name = "B" };
    struct job_config *cfg = PARSE_OK("<project/>"), *again;
    char *out;

    (void) state;
    assert_int_equal(jobcfg_set_description(cfg, "d"), 0);
    assert_int_equal(jobcfg_set_auth_token(cfg, "t"), 0);
    assert_int_equal(jobcfg_set_params(cfg, &p, 1), 0);
    assert_int_equal(jobcfg_set_shell_steps(cfg, steps, 1), 0);
    cfg->disabled = true;
    cfg->concurrent_build = true;
    cfg->quiet_period = 0;

    again = reparse(cfg, &out);
    assert_same_config(cfg, again);
    assert_string_equal(strchr(out, '\n') + 1,
                        "<project>\n"
                        "  <description>d</description>\n"
                        "  <properties>\n"
                        "    <hudson.model.ParametersDefinitionProperty>\n"
                        "      <parameterDefinitions>\n"
                        "        <hudson.model.BooleanParameterDefinition>\n"
                        "          <name>B</name>\n"
                        "          <defaultValue>false</defaultValue>\n"
                        "        </hudson.model.BooleanParameterDefinition>\n"
                        "      </parameterDefinitions>\n"
                        "    </hudson.model.ParametersDefinitionProperty>\n"
                        "  </properties>\n"
                        "  <quietPeriod>0</quietPeriod>\n"
                        "  <disabled>true</disabled>\n"
                        "  <authToken>t</authToken>\n"
                        "  <concurrentBuild>true</concurrentBuild>\n"
                        "  <builders>\n"
                        "    <hudson.tasks.Shell>\n"
                        "      <command>true</command>\n"
                        "    </hudson.tasks.Shell>\n"
                        "  </builders>\n"
                        "</project>\n");
    free(out);

    /* and they go again */
    assert_int_equal(jobcfg_set_description(again, NULL), 0);
    assert_int_equal(jobcfg_set_auth_token(again, NULL), 0);
    assert_int_equal(jobcfg_set_params(again, NULL, 0), 0);
    assert_int_equal(jobcfg_set_shell_steps(again, NULL, 0), 0);
    again->disabled = false;
    again->concurrent_build = false;
    again->quiet_period = -1;
    out = write_ok(again, NULL);
    assert_string_equal(strchr(out, '\n') + 1,
                        "<project>\n"
                        "  <properties/>\n"
                        "  <disabled>false</disabled>\n"
                        "  <concurrentBuild>false</concurrentBuild>\n"
                        "  <builders/>\n"
                        "</project>\n");
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_write__writes_utf8_whatever_the_input_encoding(void **state)
{
    static const char xml[] =
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<project><description>caf\xe9</description></project>";
    struct job_config *cfg = PARSE_OK(xml), *again;
    char *out;

    (void) state;
    assert_string_equal(cfg->description, "caf\xc3\xa9");
    assert_int_equal(jobcfg_set_description(cfg, "caf\xc3\xa9 \xe2\x82\xac"), 0); /* "café €" */
    again = reparse(cfg, &out);
    assert_string_equal(again->description, "caf\xc3\xa9 \xe2\x82\xac");
    assert_non_null(strstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_non_null(strstr(out, "<description>caf\xc3\xa9 \xe2\x82\xac</description>"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);

    /* libxml2 could not read back what it writes in UTF-7 */
    cfg = PARSE_OK("<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n<project><description>a+AKM-b</description></project>");
    assert_string_equal(cfg->description, "a\xc2\xa3" "b");
    again = reparse(cfg, &out);
    assert_string_equal(again->description, "a\xc2\xa3" "b");
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_write__refuses_what_xml_cannot_carry(void **state)
{
    struct job_config *cfg = PARSE_OK(jjb_xml);
    const struct param_def nameless = { .type = PARAM_STRING };
    const struct param_def twice[] = { { .name = "A" }, { .name = "A" } };
    const struct param_def bad_bool = { .type = PARAM_BOOLEAN, .name = "B", .default_value = "maybe" };
    static const char *const steps[] = { "echo \x01" };
    char *out = NULL, *before = write_ok(cfg, NULL);
    size_t len;

    (void) state;
    assert_int_equal(jobcfg_set_description(cfg, "bell \a"), 0);
    assert_int_equal(jobcfg_write(cfg, &out, &len), -EINVAL);
    assert_int_equal(jobcfg_set_description(cfg, "bad utf-8 \xc3"), 0);
    assert_int_equal(jobcfg_write(cfg, &out, &len), -EINVAL);
    assert_int_equal(jobcfg_set_description(cfg, "ok"), 0);

    assert_int_equal(jobcfg_set_params(cfg, &nameless, 1), 0);
    assert_int_equal(jobcfg_write(cfg, &out, &len), -EINVAL);
    assert_int_equal(jobcfg_set_params(cfg, twice, 2), 0);
    assert_int_equal(jobcfg_write(cfg, &out, &len), -EINVAL);
    assert_int_equal(jobcfg_set_params(cfg, &bad_bool, 1), 0);
    assert_int_equal(jobcfg_write(cfg, &out, &len), -EINVAL);
    assert_int_equal(jobcfg_set_params(cfg, NULL, 0), 0);

    assert_int_equal(jobcfg_set_shell_steps(cfg, steps, 1), 0);
    assert_int_equal(jobcfg_write(cfg, &out, &len), -EINVAL);
    assert_null(out);
    free(before);
    jobcfg_free(cfg);
}

static void jobcfg_set_params__rewrites_changed_choices_in_their_own_layout(void **state)
{
    static char *abc[] = { "a", "b", "c" };
    struct job_config *jjb = PARSE_OK(jjb_xml), *jenkins = PARSE_OK(jenkins_xml), *again;
    struct param_def p;
    char *out;

    (void) state;
    /* JJB's <choices class=...><a class="string-array"> */
    p = *jobcfg_find_param(jjb, "MODE");
    p.choices = abc;
    p.n_choices = 3;
    p.description = NULL;
    assert_int_equal(jobcfg_set_params(jjb, &p, 1), 0);
    again = reparse(jjb, &out);
    assert_same_params(jjb, again);
    assert_null(jobcfg_find_param(again, "MODE")->description);
    assert_non_null(strstr(out, "<choices class=\"java.util.Arrays$ArrayList\">\n"
                                "            <a class=\"string-array\">\n"
                                "              <string>a</string>\n"
                                "              <string>b</string>\n"
                                "              <string>c</string>\n"
                                "            </a>\n"
                                "          </choices>"));
    assert_null(strstr(out, "Build mode"));
    free(out);
    jobcfg_free(again);

    /* Jenkins' plain <choices><string>, emptied */
    p = *jobcfg_find_param(jenkins, "ENV");
    p.n_choices = 0;
    assert_int_equal(jobcfg_set_params(jenkins, &p, 1), 0);
    again = reparse(jenkins, &out);
    assert_same_params(jenkins, again);
    assert_non_null(strstr(out, "<name>ENV</name>\n          <choices/>\n"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(jjb);
    jobcfg_free(jenkins);
}

static void jobcfg_set_params__drops_the_encrypted_default_of_a_changed_password(void **state)
{
    struct job_config *cfg = PARSE_OK(jenkins_xml), *again;
    struct param_def p;
    char *out;

    (void) state;
    p = *jobcfg_find_param(cfg, "PW");
    assert_int_equal(jobcfg_set_params(cfg, &p, 1), 0);
    again = reparse(cfg, &out);
    assert_non_null(strstr(out, "<defaultValueAsSecret>{AQAAABAAAAAQ}</defaultValueAsSecret>"));
    free(out);
    jobcfg_free(again);

    p = cfg->params[0]; /* the old strings went with the old params */
    p.default_value = "plain";
    assert_int_equal(jobcfg_set_params(cfg, &p, 1), 0);
    again = reparse(cfg, &out);
    assert_string_equal(again->params[0].default_value, "plain");
    assert_null(strstr(out, "defaultValueAsSecret"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_write__places_new_elements_before_later_ones(void **state)
{
    struct job_config *cfg = PARSE_OK("<project>\n  <builders/>\n  <publishers/>\n</project>");
    char *out;

    (void) state;
    assert_int_equal(jobcfg_set_description(cfg, "d"), 0);
    cfg->disabled = true;
    out = write_ok(cfg, NULL);
    assert_string_equal(strchr(out, '\n') + 1,
                        "<project>\n"
                        "  <description>d</description>\n"
                        "  <disabled>true</disabled>\n"
                        "  <builders/>\n"
                        "  <publishers/>\n"
                        "</project>\n");
    free(out);
    jobcfg_free(cfg);

    /* no whitespace in, none added */
    cfg = PARSE_OK("<project><actions/></project>");
    assert_int_equal(jobcfg_set_auth_token(cfg, "t"), 0);
    out = write_ok(cfg, NULL);
    assert_string_equal(strchr(out, '\n') + 1, "<project><actions/><authToken>t</authToken></project>\n");
    free(out);
    jobcfg_free(cfg);
}

/* ---- discard old builds -------------------------------------------------- */

/* `s` with its only occurrence of `from` replaced by `to`. */
static char *replaced(const char *s, const char *from, const char *to)
{
    struct buf b = BUF_INIT(SIZE_MAX / 2);
    const char *at = strstr(s, from);

    assert_non_null(at);
    assert_null(strstr(at + 1, from));
    assert_int_equal(buf_printf(&b, "%.*s%s%s", (int) (at - s), s, to, at + strlen(from)), 0);
    return buf_detach(&b);
}

static void assert_keeps(const struct job_config *cfg, int days, int builds, int artifact_days,
                         int artifact_builds)
{
    assert_int_equal(cfg->keep_days, days);
    assert_int_equal(cfg->keep_builds, builds);
    assert_int_equal(cfg->keep_artifact_days, artifact_days);
    assert_int_equal(cfg->keep_artifact_builds, artifact_builds);
}

static void jobcfg_set_discarder__round_trips_through_write_as_jenkins_writes_it(void **state)
{
    const struct param_def p = { .type = PARAM_STRING, .name = "S" };
    struct job_config *cfg, *again;
    char *out;

    (void) state;
    assert_int_equal(jobcfg_new(&cfg), 0);
    assert_int_equal(jobcfg_set_discarder(cfg, 7, 10, -1, 0), 0);
    again = reparse(cfg, &out);
    assert_keeps(again, 7, 10, -1, 0);
    assert_null(again->other_discarder);
    assert_non_null(strstr(out, "  <keepDependencies>false</keepDependencies>\n"
                                "  <properties>\n"
                                "    <jenkins.model.BuildDiscarderProperty>\n"
                                "      <strategy class=\"hudson.tasks.LogRotator\">\n"
                                "        <daysToKeep>7</daysToKeep>\n"
                                "        <numToKeep>10</numToKeep>\n"
                                "        <artifactDaysToKeep>-1</artifactDaysToKeep>\n"
                                "        <artifactNumToKeep>0</artifactNumToKeep>\n"
                                "      </strategy>\n"
                                "    </jenkins.model.BuildDiscarderProperty>\n"
                                "  </properties>\n"
                                "  <scm class=\"hudson.scm.NullSCM\"/>\n"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);

    /* <properties> created where Jenkins has it; the property first in it */
    cfg = PARSE_OK("<project>\n  <description>d</description>\n  <disabled>false</disabled>\n"
                   "</project>");
    assert_int_equal(jobcfg_set_params(cfg, &p, 1), 0);
    assert_int_equal(jobcfg_set_discarder(cfg, -1, -1, 3, -1), 0);
    again = reparse(cfg, &out);
    assert_keeps(again, -1, -1, 3, -1);
    assert_string_equal(strchr(out, '\n') + 1,
                        "<project>\n"
                        "  <description>d</description>\n"
                        "  <properties>\n"
                        "    <jenkins.model.BuildDiscarderProperty>\n"
                        "      <strategy class=\"hudson.tasks.LogRotator\">\n"
                        "        <daysToKeep>-1</daysToKeep>\n"
                        "        <numToKeep>-1</numToKeep>\n"
                        "        <artifactDaysToKeep>3</artifactDaysToKeep>\n"
                        "        <artifactNumToKeep>-1</artifactNumToKeep>\n"
                        "      </strategy>\n"
                        "    </jenkins.model.BuildDiscarderProperty>\n"
                        "    <hudson.model.ParametersDefinitionProperty>\n"
                        "      <parameterDefinitions>\n"
                        "        <hudson.model.StringParameterDefinition>\n"
                        "          <name>S</name>\n"
                        "          <defaultValue></defaultValue>\n"
                        "          <trim>false</trim>\n"
                        "        </hudson.model.StringParameterDefinition>\n"
                        "      </parameterDefinitions>\n"
                        "    </hudson.model.ParametersDefinitionProperty>\n"
                        "  </properties>\n"
                        "  <disabled>false</disabled>\n"
                        "</project>\n");
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_set_discarder__updates_the_property_in_place(void **state)
{
    struct job_config *cfg = PARSE_OK(jjb_xml), *again;
    char *out, *want;

    (void) state;
    /* the same values: nothing moves, not even JJB's one-line layout */
    assert_int_equal(jobcfg_set_discarder(cfg, -1, 10, -1, -1), 0);
    out = write_ok(cfg, NULL);
    assert_string_equal(out, jjb_xml);
    free(out);

    /* one value changes, and only it */
    assert_int_equal(jobcfg_set_discarder(cfg, -1, 5, -1, -1), 0);
    again = reparse(cfg, &out);
    assert_keeps(again, -1, 5, -1, -1);
    want = replaced(jjb_xml, "<numToKeep>10</numToKeep>", "<numToKeep>5</numToKeep>");
    assert_string_equal(out, want);
    free(want);
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);

    /* a value that already says it stays as written; a missing one is added */
    cfg = PARSE_OK("<project><properties><jenkins.model.BuildDiscarderProperty>"
                   "<strategy class='hudson.tasks.LogRotator'><daysToKeep> 7 </daysToKeep>"
                   "<numToKeep></numToKeep></strategy>"
                   "</jenkins.model.BuildDiscarderProperty></properties></project>");
    assert_int_equal(jobcfg_set_discarder(cfg, 7, -1, -1, 4), 0);
    again = reparse(cfg, &out);
    assert_keeps(again, 7, -1, -1, 4);
    assert_non_null(strstr(out, "<strategy class=\"hudson.tasks.LogRotator\">"
                                "<daysToKeep> 7 </daysToKeep><numToKeep></numToKeep>"
                                "<artifactNumToKeep>4</artifactNumToKeep></strategy>"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void jobcfg_set_discarder__all_unset_removes_the_log_rotator_only(void **state)
{
    struct job_config *cfg = PARSE_OK(jjb_xml), *again;
    char *out, *want;

    (void) state;
    assert_int_equal(jobcfg_set_discarder(cfg, -1, -1, -1, -1), 0);
    again = reparse(cfg, &out);
    assert_keeps(again, -1, -1, -1, -1);
    want = replaced(jjb_xml,
                    "    <jenkins.model.BuildDiscarderProperty>\n"
                    "      <strategy class=\"hudson.tasks.LogRotator\">\n"
                    "        <daysToKeep>-1</daysToKeep><numToKeep>10</numToKeep>\n"
                    "        <artifactDaysToKeep>-1</artifactDaysToKeep><artifactNumToKeep>-1</artifactNumToKeep>\n"
                    "      </strategy>\n"
                    "    </jenkins.model.BuildDiscarderProperty>\n",
                    "");
    assert_string_equal(out, want);
    free(want);
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);

    /* the only property: <properties/> stays, as Jenkins writes it */
    cfg = PARSE_OK("<project>\n  <properties>\n    <jenkins.model.BuildDiscarderProperty>\n"
                   "      <strategy class=\"hudson.tasks.LogRotator\"><numToKeep>3</numToKeep>"
                   "</strategy>\n    </jenkins.model.BuildDiscarderProperty>\n  </properties>\n"
                   "</project>");
    assert_int_equal(jobcfg_set_discarder(cfg, -1, -1, -1, -1), 0);
    out = write_ok(cfg, NULL);
    assert_string_equal(strchr(out, '\n') + 1, "<project>\n  <properties/>\n</project>\n");
    free(out);
    jobcfg_free(cfg);

    /* nothing there: nothing added */
    cfg = PARSE_OK(jenkins_xml);
    assert_int_equal(jobcfg_set_discarder(cfg, -1, -1, -1, -1), 0);
    out = write_ok(cfg, NULL);
    assert_string_equal(out + 39, strchr(jenkins_xml, '\n') + 1);
    free(out);
    jobcfg_free(cfg);
}

static void jobcfg_set_discarder__moves_a_legacy_log_rotator_into_properties(void **state)
{
    static const char legacy[] =
        "<project>\n"
        "  <description>old</description>\n"
        "  <logRotator class=\"hudson.tasks.LogRotator\">\n"
        "    <daysToKeep>-1</daysToKeep>\n"
        "    <numToKeep>5</numToKeep>\n"
        "    <artifactDaysToKeep>-1</artifactDaysToKeep>\n"
        "    <artifactNumToKeep>-1</artifactNumToKeep>\n"
        "  </logRotator>\n"
        "  <keepDependencies>false</keepDependencies>\n"
        "  <properties/>\n"
        "</project>\n";
    struct job_config *cfg = PARSE_OK(legacy), *again;
    char *out;

    (void) state;
    assert_keeps(cfg, -1, 5, -1, -1);
    /* not saved: it stays where it is */
    out = write_ok(cfg, NULL);
    assert_string_equal(strchr(out, '\n') + 1, legacy);
    free(out);

    /* saved: migrated, as Jenkins does */
    assert_int_equal(jobcfg_set_discarder(cfg, -1, 5, -1, -1), 0);
    again = reparse(cfg, &out);
    assert_keeps(again, -1, 5, -1, -1);
    assert_string_equal(strchr(out, '\n') + 1,
                        "<project>\n"
                        "  <description>old</description>\n"
                        "  <keepDependencies>false</keepDependencies>\n"
                        "  <properties>\n"
                        "    <jenkins.model.BuildDiscarderProperty>\n"
                        "      <strategy class=\"hudson.tasks.LogRotator\">\n"
                        "        <daysToKeep>-1</daysToKeep>\n"
                        "        <numToKeep>5</numToKeep>\n"
                        "        <artifactDaysToKeep>-1</artifactDaysToKeep>\n"
                        "        <artifactNumToKeep>-1</artifactNumToKeep>\n"
                        "      </strategy>\n"
                        "    </jenkins.model.BuildDiscarderProperty>\n"
                        "  </properties>\n"
                        "</project>\n");
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);

    /* removed: gone from both places */
    cfg = PARSE_OK(legacy);
    assert_int_equal(jobcfg_set_discarder(cfg, -1, -1, -1, -1), 0);
    out = write_ok(cfg, NULL);
    assert_null(strstr(out, "logRotator"));
    assert_null(strstr(out, "BuildDiscarderProperty"));
    assert_non_null(strstr(out, "<description>old</description>\n  <keepDependencies>"));
    free(out);
    jobcfg_free(cfg);
}

static void jobcfg_set_discarder__leaves_another_strategy_class_alone(void **state)
{
    static const char plugin[] =
        "<project>\n"
        "  <properties>\n"
        "    <jenkins.model.BuildDiscarderProperty>\n"
        "      <strategy class=\"org.example.KeepTaggedStrategy\" plugin=\"keep@1.0\">\n"
        "        <tag>release</tag>\n"
        "      </strategy>\n"
        "    </jenkins.model.BuildDiscarderProperty>\n"
        "  </properties>\n"
        "</project>\n";
    struct job_config *cfg = PARSE_OK(plugin), *again;
    char *out;

    (void) state;
    assert_string_equal(cfg->other_discarder, "org.example.KeepTaggedStrategy");
    assert_keeps(cfg, -1, -1, -1, -1);
    assert_int_equal(jobcfg_set_discarder(cfg, -1, -1, -1, -1), 0);
    out = write_ok(cfg, NULL);
    assert_string_equal(strchr(out, '\n') + 1, plugin);
    free(out);

    /* values set on purpose replace it with a LogRotator */
    assert_int_equal(jobcfg_set_discarder(cfg, 1, -1, -1, -1), 0);
    again = reparse(cfg, &out);
    assert_null(again->other_discarder);
    assert_keeps(again, 1, -1, -1, -1);
    assert_null(strstr(out, "KeepTaggedStrategy"));
    assert_null(strstr(out, "<tag>"));
    assert_non_null(strstr(out, "    <jenkins.model.BuildDiscarderProperty>\n"
                                "      <strategy class=\"hudson.tasks.LogRotator\">\n"
                                "        <daysToKeep>1</daysToKeep>\n"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);

    /* the same in the older place */
    cfg = PARSE_OK("<project><logRotator class='org.example.Other'/></project>");
    assert_string_equal(cfg->other_discarder, "org.example.Other");
    assert_int_equal(jobcfg_set_discarder(cfg, -1, -1, -1, -1), 0);
    out = write_ok(cfg, NULL);
    assert_non_null(strstr(out, "<logRotator class=\"org.example.Other\"/>"));
    free(out);
    jobcfg_free(cfg);
}

static void jobcfg_set_discarder__refuses_values_out_of_range(void **state)
{
    static const int bad[] = { -2, INT_MIN, JOBCFG_KEEP_MAX + 1, INT_MAX };
    struct job_config *cfg = PARSE_OK(jjb_xml);
    char *out = NULL, *again;
    size_t len;

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        assert_int_equal(jobcfg_set_discarder(cfg, bad[i], -1, -1, -1), -EINVAL);
        assert_int_equal(jobcfg_set_discarder(cfg, -1, bad[i], -1, -1), -EINVAL);
        assert_int_equal(jobcfg_set_discarder(cfg, -1, -1, bad[i], -1), -EINVAL);
        assert_int_equal(jobcfg_set_discarder(cfg, -1, -1, -1, bad[i]), -EINVAL);
    }
    /* refused values change nothing */
    assert_keeps(cfg, -1, 10, -1, -1);
    again = write_ok(cfg, NULL);
    assert_string_equal(again, jjb_xml);
    free(again);
    assert_int_equal(jobcfg_set_discarder(cfg, 0, JOBCFG_KEEP_MAX, -1, 0), 0);
    assert_keeps(cfg, 0, JOBCFG_KEEP_MAX, -1, 0);

    /* a field changed behind the setter's back: refused before the document is touched */
    cfg->keep_artifact_days = JOBCFG_KEEP_MAX + 1;
    assert_int_equal(jobcfg_write(cfg, &out, &len), -EINVAL);
    assert_null(out);
    cfg->keep_artifact_days = -5;
    assert_int_equal(jobcfg_write(cfg, &out, &len), -EINVAL);
    assert_null(out);
    assert_int_equal(jobcfg_set_discarder(cfg, -1, 10, -1, -1), 0);
    again = write_ok(cfg, NULL);
    assert_string_equal(again, jjb_xml);
    free(again);
    jobcfg_free(cfg);
}

static void jobcfg_parse__skips_comments_in_text_and_keeps_them(void **state)
{
    static const char xml[] = "<project><description>a<!-- note -->b<?pi x?>c</description></project>";
    struct job_config *cfg = PARSE_OK(xml);
    char *out;

    (void) state;
    assert_string_equal(cfg->description, "abc");
    out = write_ok(cfg, NULL);
    assert_non_null(strstr(out, xml));
    free(out);
    jobcfg_free(cfg);
}

static void jobcfg_parse__refuses_more_than_the_bounded_counts(void **state)
{
    struct buf b = BUF_INIT(SIZE_MAX / 2);
    char *xml, *msg, name[300];

    (void) state;
    assert_int_equal(buf_puts(&b, "<project><properties><hudson.model.ParametersDefinitionProperty>"
                                  "<parameterDefinitions>"), 0);
    for (int i = 0; i <= BOUND_JOB_PARAMS; i++)
        assert_int_equal(buf_printf(&b, "<hudson.model.TextParameterDefinition><name>P%d</name>"
                                        "</hudson.model.TextParameterDefinition>", i), 0);
    assert_int_equal(buf_puts(&b, "</parameterDefinitions></hudson.model.ParametersDefinitionProperty>"
                                  "</properties></project>"), 0);
    xml = buf_detach(&b);
    msg = parse_fails(xml, strlen(xml), -EINVAL);
    assert_string_equal(msg, "a job may have at most 100 parameters");
    free(msg);
    free(xml);

    b = BUF_INIT(SIZE_MAX / 2);
    assert_int_equal(buf_puts(&b, "<project><builders>"), 0);
    for (int i = 0; i <= BOUND_JOB_BUILDERS; i++)
        assert_int_equal(buf_puts(&b, "<hudson.tasks.Shell><command>true</command></hudson.tasks.Shell>"), 0);
    assert_int_equal(buf_puts(&b, "</builders></project>"), 0);
    xml = buf_detach(&b);
    msg = parse_fails(xml, strlen(xml), -EINVAL);
    assert_string_equal(msg, "a job may have at most 100 build steps");
    free(msg);
    free(xml);

    /* a long name is cut short in the message */
    memset(name, 'N', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    b = BUF_INIT(SIZE_MAX / 2);
    assert_int_equal(buf_printf(&b, "<project><properties><hudson.model.ParametersDefinitionProperty>"
                                    "<parameterDefinitions><hudson.model.ChoiceParameterDefinition>"
                                    "<name>%s</name><choices>", name), 0);
    for (int i = 0; i <= BOUND_CHOICES; i++)
        assert_int_equal(buf_printf(&b, "<string>%d</string>", i), 0);
    assert_int_equal(buf_puts(&b, "</choices></hudson.model.ChoiceParameterDefinition></parameterDefinitions>"
                                  "</hudson.model.ParametersDefinitionProperty></properties></project>"), 0);
    xml = buf_detach(&b);
    msg = parse_fails(xml, strlen(xml), -EINVAL);
    assert_non_null(strstr(msg, "NNN...' has more than 1000 choices"));
    assert_true(strlen(msg) < 150);
    free(msg);
    free(xml);
}

static void jobcfg_new__writes_a_blank_freestyle_job_that_parses_again(void **state)
{
    struct job_config *cfg = NULL, *again;
    char *out;

    (void) state;
    assert_int_equal(jobcfg_new(&cfg), 0);
    assert_string_equal(cfg->description, "");
    assert_false(cfg->disabled);
    assert_false(cfg->concurrent_build);
    assert_int_equal(cfg->quiet_period, -1);
    assert_null(cfg->auth_token);
    assert_int_equal(cfg->n_params, 0);
    assert_int_equal(cfg->n_shell_steps, 0);

    again = reparse(cfg, &out);
    assert_same_config(cfg, again);
    assert_non_null(strstr(out, "<?xml version=\"1.1\" encoding=\"UTF-8\"?>\n<project>\n  <actions/>\n"));
    assert_non_null(strstr(out, "<scm class=\"hudson.scm.NullSCM\"/>"));
    assert_non_null(strstr(out, "<canRoam>true</canRoam>"));
    assert_non_null(strstr(out, "<blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>"));
    assert_non_null(strstr(out, "<builders/>\n  <publishers/>\n  <buildWrappers/>\n</project>"));
    free(out);
    jobcfg_free(again);
    jobcfg_free(cfg);
}

static void param_type_to_string__names_the_jenkins_classes(void **state)
{
    (void) state;
    assert_string_equal(param_type_to_string(PARAM_STRING), "StringParameterDefinition");
    assert_string_equal(param_type_to_string(PARAM_TEXT), "TextParameterDefinition");
    assert_string_equal(param_type_to_string(PARAM_BOOLEAN), "BooleanParameterDefinition");
    assert_string_equal(param_type_to_string(PARAM_CHOICE), "ChoiceParameterDefinition");
    assert_string_equal(param_type_to_string(PARAM_PASSWORD), "PasswordParameterDefinition");
    assert_null(param_type_to_string((enum param_type) 42));
}

static void jobcfg_free__accepts_null_and_returns_null(void **state)
{
    struct job_config *cfg;

    (void) state;
    assert_null(jobcfg_free(NULL));
    assert_int_equal(jobcfg_new(&cfg), 0);
    assert_null(jobcfg_free(cfg));
}

static void
param_value_for__follows_jenkins_rules(void **state)
{
    char *choices[] = { (char *) "debug", (char *) "release" };
    struct param_def str = { .type = PARAM_STRING, .name = (char *) "S", .default_value = (char *) "dflt", .trim = true };
    struct param_def boolean = { .type = PARAM_BOOLEAN, .name = (char *) "B", .default_value = (char *) "true" };
    struct param_def choice = { .type = PARAM_CHOICE, .name = (char *) "C", .choices = choices, .n_choices = 2 };
    struct param_def pw = { .type = PARAM_PASSWORD, .name = (char *) "P", .default_value = (char *) "s3" };
    char *v = NULL;

    (void) state;
    assert_int_equal(param_value_for(&str, "  padded \n", &v), 0);
    assert_string_equal(v, "padded");
    free(v);
    assert_int_equal(param_value_for(&str, NULL, &v), 0);
    assert_string_equal(v, "dflt");
    free(v);
    assert_int_equal(param_value_for(&boolean, "TRUE", &v), 0);
    assert_string_equal(v, "true");
    free(v);
    assert_int_equal(param_value_for(&boolean, "yes", &v), 0);
    assert_string_equal(v, "false");
    free(v);
    assert_int_equal(param_value_for(&boolean, NULL, &v), 0);
    assert_string_equal(v, "true");
    free(v);
    assert_int_equal(param_value_for(&choice, NULL, &v), 0);
    assert_string_equal(v, "debug");
    free(v);
    assert_int_equal(param_value_for(&choice, "release", &v), 0);
    assert_string_equal(v, "release");
    free(v);
    v = NULL;
    assert_int_equal(param_value_for(&choice, "fast", &v), -EINVAL);
    assert_null(v);
    assert_int_equal(param_value_for(&pw, NULL, &v), 0);
    assert_string_equal(v, "s3");
    free(v);
}

/* ---- summaries ---- */

static void jobcfg_summary__keeps_what_the_registry_needs_and_no_secret_in_clear(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL, *sum = NULL;

    (void) state;
    assert_int_equal(jobcfg_parse(jjb_xml, strlen(jjb_xml), &cfg, NULL), 0);
    assert_int_equal(jobcfg_summary(cfg, &sum), 0);
    assert_true(sum->summary);
    assert_string_equal(sum->description, cfg->description);
    assert_true(sum->concurrent_build);
    assert_int_equal(sum->quiet_period, 5);
    assert_int_equal(sum->keep_builds, 10);
    assert_int_equal(sum->keep_days, -1);
    assert_string_equal(sum->timer_spec, "H 2 * * *");
    assert_string_equal(sum->archive_artifacts, "out/**");
    assert_true(sum->archive_allow_empty);
    assert_int_equal(sum->n_params, 4);
    assert_string_equal(sum->params[0].name, "BRANCH");
    assert_string_equal(sum->params[0].default_value, "main");
    assert_int_equal(sum->params[1].type, PARAM_CHOICE);
    assert_int_equal(sum->params[1].n_choices, 2);
    assert_string_equal(sum->params[1].choices[1], "release");
    assert_int_equal(sum->params[3].type, PARAM_PASSWORD);
    assert_int_equal(sum->n_shell_steps, 1);
    assert_null(sum->shell_steps);
    /* the trigger token only as a hash */
    assert_null(sum->auth_token);
    assert_true(jobcfg_has_token(sum));
    assert_true(jobcfg_token_matches(sum, "s3cret"));
    assert_false(jobcfg_token_matches(sum, "s3cre"));
    assert_false(jobcfg_token_matches(sum, NULL));
    /* nothing to write back from */
    assert_int_equal(jobcfg_set_description(sum, "x"), -EINVAL);
    assert_int_equal(jobcfg_set_params(sum, NULL, 0), -EINVAL);
}

static void jobcfg_summary_decode__refuses_every_damaged_blob_without_crashing(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL, *sum = NULL, *again = NULL;
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(1 << 20);
    struct job_config *bad = NULL;
    char *copy;

    (void) state;
    assert_int_equal(jobcfg_parse(jjb_xml, strlen(jjb_xml), &cfg, NULL), 0);
    assert_int_equal(jobcfg_summary(cfg, &sum), 0);
    assert_int_equal(jobcfg_summary_encode(sum, &b), 0);
    assert_int_equal(jobcfg_summary_decode(b.ptr, b.len, &again), 0);
    assert_string_equal(again->params[1].choices[0], "debug");
    assert_true(jobcfg_token_matches(again, "s3cret"));
    /* every truncation, and every byte changed, decodes or is refused; never read past the end */
    for (size_t len = 0; len < b.len; len++) {
        copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, b.ptr, len);
        assert_int_equal(jobcfg_summary_decode(copy, len, &bad), -EINVAL);
        free(copy);
    }
    for (size_t i = 0; i < b.len; i++) {
        copy = malloc(b.len);
        assert_non_null(copy);
        memcpy(copy, b.ptr, b.len);
        copy[i] ^= 0x5a;
        if (jobcfg_summary_decode(copy, b.len, &bad) == 0)
            bad = jobcfg_free(bad);
        free(copy);
    }
}

static void
jobcfg_parse__reads_the_credentials_binding_wrapper(void **state)
{
#define B "org.jenkinsci.plugins.credentialsbinding.impl."
    static const char xml[] =
        "<project><buildWrappers><" B "SecretBuildWrapper><bindings>"
        "<" B "UsernamePasswordMultiBinding><credentialsId>up</credentialsId>"
        "<usernameVariable>U</usernameVariable><passwordVariable>P</passwordVariable>"
        "</" B "UsernamePasswordMultiBinding>"
        "<" B "SSHUserPrivateKeyBinding><credentialsId>k</credentialsId>"
        "<keyFileVariable>KF</keyFileVariable><usernameVariable></usernameVariable>"
        "<passphraseVariable></passphraseVariable></" B "SSHUserPrivateKeyBinding>"
        "<" B "ZipFileBinding><credentialsId>z</credentialsId><variable>Z</variable>"
        "</" B "ZipFileBinding>"
        "</bindings></" B "SecretBuildWrapper></buildWrappers></project>";
    struct job_config *cfg = parse_ok(xml, sizeof xml - 1);
    char *msg = NULL;

    (void) state;
    assert_int_equal(cfg->n_bindings, 3);
    assert_int_equal(cfg->bindings[0].kind, BINDING_USERNAME_PASSWORD_MULTI);
    assert_string_equal(cfg->bindings[0].credentials_id, "up");
    assert_string_equal(cfg->bindings[0].username_variable, "U");
    assert_string_equal(cfg->bindings[0].password_variable, "P");
    assert_int_equal(cfg->bindings[1].kind, BINDING_SSH_KEY);
    assert_string_equal(cfg->bindings[1].variable, "KF");
    assert_null(cfg->bindings[1].username_variable);
    assert_null(cfg->bindings[1].password_variable);
    assert_int_equal(cfg->bindings[2].kind, BINDING_OTHER);
    assert_string_equal(cfg->bindings[2].other, B "ZipFileBinding");
    jobcfg_free(cfg);

    /* a variable that is not a name, or no credential: refused, saying which */
    static const char bad[] =
        "<project><buildWrappers><" B "SecretBuildWrapper><bindings><" B "StringBinding>"
        "<credentialsId>t</credentialsId><variable>A-B</variable></" B "StringBinding>"
        "</bindings></" B "SecretBuildWrapper></buildWrappers></project>";
    assert_int_equal(jobcfg_parse(bad, sizeof bad - 1, &cfg, &msg), -EINVAL);
    assert_non_null(strstr(msg, "<variable> must be a variable name"));
    free(msg);
    msg = NULL;
    static const char noid[] =
        "<project><buildWrappers><" B "SecretBuildWrapper><bindings><" B "StringBinding>"
        "<variable>T</variable></" B "StringBinding>"
        "</bindings></" B "SecretBuildWrapper></buildWrappers></project>";
    assert_int_equal(jobcfg_parse(noid, sizeof noid - 1, &cfg, &msg), -EINVAL);
    assert_non_null(strstr(msg, "has no <credentialsId>"));
    free(msg);
#undef B
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jobcfg_parse__reads_every_field_of_the_jjb_example),
        cmocka_unit_test(jobcfg_parse__reads_the_log_rotator_in_both_places_jenkins_writes_it),
        cmocka_unit_test(jobcfg_parse__refuses_a_garbled_log_rotator_count),
        cmocka_unit_test(jobcfg_parse__accepts_the_xml_1_1_header_jenkins_writes),
        cmocka_unit_test(jobcfg_parse__reads_both_choice_layouts),
        cmocka_unit_test(jobcfg_parse__reads_booleans_and_defaults_like_jenkins),
        cmocka_unit_test(jobcfg_parse__refuses_a_doctype_with_an_external_entity),
        cmocka_unit_test(jobcfg_parse__refuses_billion_laughs),
        cmocka_unit_test(jobcfg_parse__refuses_an_undeclared_entity),
        cmocka_unit_test(jobcfg_parse__refuses_malformed_xml_with_the_line_of_the_error),
        cmocka_unit_test(jobcfg_parse__refuses_a_root_other_than_project),
        cmocka_unit_test(jobcfg_parse__refuses_nesting_deeper_than_the_bound),
        cmocka_unit_test(jobcfg_parse__refuses_input_over_the_size_bound),
        cmocka_unit_test(jobcfg_parse__refuses_duplicate_parameter_names),
        cmocka_unit_test(jobcfg_parse__refuses_a_parameter_without_a_name),
        cmocka_unit_test(jobcfg_parse__refuses_a_negative_or_garbled_quiet_period),
        cmocka_unit_test(jobcfg_parse__sets_no_message_when_the_caller_wants_none),
        cmocka_unit_test(jobcfg_write__changes_nothing_when_nothing_changed),
        cmocka_unit_test(jobcfg_write__keeps_the_description_byte_for_byte),
        cmocka_unit_test(jobcfg_write__keeps_unknown_elements_after_changes),
        cmocka_unit_test(jobcfg_set_params__round_trips_through_write),
        cmocka_unit_test(jobcfg_set_params__empty_removes_the_parameters_property),
        cmocka_unit_test(jobcfg_set_params__keeps_other_parameter_classes_in_place),
        cmocka_unit_test(jobcfg_set_shell_steps__replaces_shells_in_place_and_keeps_other_builders),
        cmocka_unit_test(jobcfg_set_auth_token__null_removes_the_token),
        cmocka_unit_test(jobcfg_set_description__round_trips),
        cmocka_unit_test(jobcfg_write__creates_missing_elements_in_jenkins_order),
        cmocka_unit_test(jobcfg_write__writes_utf8_whatever_the_input_encoding),
        cmocka_unit_test(jobcfg_write__refuses_what_xml_cannot_carry),
        cmocka_unit_test(jobcfg_set_params__rewrites_changed_choices_in_their_own_layout),
        cmocka_unit_test(jobcfg_set_params__drops_the_encrypted_default_of_a_changed_password),
        cmocka_unit_test(jobcfg_write__places_new_elements_before_later_ones),
        cmocka_unit_test(jobcfg_set_discarder__round_trips_through_write_as_jenkins_writes_it),
        cmocka_unit_test(jobcfg_set_discarder__updates_the_property_in_place),
        cmocka_unit_test(jobcfg_set_discarder__all_unset_removes_the_log_rotator_only),
        cmocka_unit_test(jobcfg_set_discarder__moves_a_legacy_log_rotator_into_properties),
        cmocka_unit_test(jobcfg_set_discarder__leaves_another_strategy_class_alone),
        cmocka_unit_test(jobcfg_set_discarder__refuses_values_out_of_range),
        cmocka_unit_test(jobcfg_parse__skips_comments_in_text_and_keeps_them),
        cmocka_unit_test(jobcfg_parse__refuses_more_than_the_bounded_counts),
        cmocka_unit_test(jobcfg_new__writes_a_blank_freestyle_job_that_parses_again),
        cmocka_unit_test(jobcfg_parse__reads_the_sandbox_network_and_keeps_the_element),
        cmocka_unit_test(jobcfg_matrix__reads_every_form_and_writes_back_only_its_own_entries),
        cmocka_unit_test(jobcfg_set_matrix__refuses_a_sid_config_xml_would_trim),
        cmocka_unit_test(jobcfg_masked_xml__hides_the_trigger_token),
        cmocka_unit_test(param_type_to_string__names_the_jenkins_classes),
        cmocka_unit_test(jobcfg_free__accepts_null_and_returns_null),
        cmocka_unit_test(jobcfg_ref__shares_and_drop_document_keeps_every_field),
        cmocka_unit_test(param_value_for__follows_jenkins_rules),
        cmocka_unit_test(jobcfg_summary__keeps_what_the_registry_needs_and_no_secret_in_clear),
        cmocka_unit_test(jobcfg_summary_decode__refuses_every_damaged_blob_without_crashing),
        cmocka_unit_test(jobcfg_parse__reads_the_credentials_binding_wrapper),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
