/* SPDX-License-Identifier: MIT */
/*
 * The table of what Steward runs of a freestyle config.xml (see
 * core/support.h). A change here changes docs/COMPAT.md: run
 * `make compat-doc`, and the unit tests check the two agree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/support.h"
#include "util/buf.h"
#include "util/macro.h"

#define P "project"

const struct support_slot support_slots[] = {
    { P, SUPPORT_SKIPPED, "An element of project that Steward does not know; it is kept in "
                          "config.xml and has no effect." },
    { "properties", SUPPORT_SKIPPED, "A job property that Steward does not know; it is kept in "
                                     "config.xml and has no effect." },
    { "scm", SUPPORT_FAILS, "Source control that Steward does not check out: check out in the "
                            "first shell step instead." },
    { "scm/extensions", SUPPORT_FAILS, "A Git extension that Steward does not run: do its work "
                                       "in a shell step after the checkout, or remove it." },
    { "triggers", SUPPORT_SKIPPED, "A trigger that Steward does not know; it never starts a build. "
                                   "Use a timer, or trigger the job remotely." },
    { "buildWrappers", SUPPORT_FAILS, "A build environment option that Steward does not run: do "
                                      "its work in a shell step, or remove it." },
    { "builders", SUPPORT_FAILS, "A build step that Steward does not run: write it as an "
                                 "\"Execute shell\" step (hudson.tasks.Shell)." },
    { "publishers", SUPPORT_SKIPPED, "A post-build action that Steward does not run; the console "
                                     "says it was skipped." },
};
const size_t support_slots_len = ELEMENTSOF(support_slots);

const struct support_entry support_table[] = {
    /* <project> itself */
    { P, "actions", SUPPORT_HARMLESS, NULL, "Saved UI state." },
    { P, "description", SUPPORT_RUN, NULL, "Shown on the job page and in the API." },
    { P, "displayName", SUPPORT_HARMLESS, NULL, "Steward shows the job's name." },
    { P, "keepDependencies", SUPPORT_HARMLESS, NULL, "Fingerprint bookkeeping." },
    { P, "properties", SUPPORT_RUN, NULL, "See the properties below." },
    { P, "scm", SUPPORT_RUN, NULL, "See source control below." },
    { P, "canRoam", SUPPORT_HARMLESS, NULL, "Whether assignedNode applies." },
    { P, "assignedNode", SUPPORT_RUN, NULL,
      "A label expression: builds run on a node whose labels match (docs/NODES.md)." },
    { P, "disabled", SUPPORT_RUN, NULL, "A disabled job takes no builds." },
    { P, "blockBuildWhenDownstreamBuilding", SUPPORT_RUN, NULL,
      "A build waits while a job downstream of it (transitively) is building." },
    { P, "blockBuildWhenUpstreamBuilding", SUPPORT_RUN, NULL,
      "A build waits while a job upstream of it (transitively) is building." },
    { P, "triggers", SUPPORT_RUN, NULL, "See the triggers below." },
    { P, "concurrentBuild", SUPPORT_RUN, NULL, "Builds of the job may run at the same time." },
    { P, "quietPeriod", SUPPORT_RUN, NULL, "Seconds a request waits in the queue." },
    { P, "authToken", SUPPORT_RUN, NULL, "The trigger token (\"Trigger builds remotely\")." },
    { P, "logRotator", SUPPORT_RUN, NULL, "Discard old builds (the older form)." },
    { P, "jdk", SUPPORT_FAILS, "|(System)|(Default)",
      "A JDK installation: Steward has no tools. Set JAVA_HOME and PATH in a shell step." },
    { P, "customWorkspace", SUPPORT_RUN, NULL,
      "A workspace of another name, one directory in HOME/workspace (NAME, workspace/NAME or "
      "HOME/workspace/NAME), shared by concurrent builds as in Jenkins." },
    { P, "childCustomWorkspace", SUPPORT_HARMLESS, NULL, "For matrix projects only." },
    { P, "scmCheckoutRetryCount", SUPPORT_HARMLESS, NULL,
      "Checkout retries: a failed Git checkout fails the build." },
    { P, "builders", SUPPORT_RUN, NULL, "See the build steps below." },
    { P, "publishers", SUPPORT_RUN, NULL, "See the post-build actions below." },
    { P, "buildWrappers", SUPPORT_RUN, NULL, "See the build environment below." },
    { P, "steward.sandbox", SUPPORT_RUN, NULL, "Steward's own: the build's network." },

    /* <properties> */
    { "properties", "hudson.model.ParametersDefinitionProperty", SUPPORT_RUN, NULL,
      "Build parameters: string, text, boolean, choice, password and file." },
    { "properties", "jenkins.model.BuildDiscarderProperty", SUPPORT_RUN, NULL,
      "Discard old builds, with hudson.tasks.LogRotator (another strategy is not run)." },
    { "properties", "hudson.security.AuthorizationMatrixProperty", SUPPORT_RUN, NULL,
      "The job's own grants (matrix-auth)." },
    { "properties", "com.coravy.hudson.plugins.github.GithubProjectProperty", SUPPORT_HARMLESS,
      NULL, "A link to the project on GitHub." },
    { "properties", "com.sonyericsson.rebuild.RebuildSettings", SUPPORT_HARMLESS, NULL,
      "The Rebuild plugin's button." },
    { "properties", "hudson.plugins.jira.JiraProjectProperty", SUPPORT_HARMLESS, NULL,
      "A link to a JIRA site." },
    { "properties", "jenkins.model.BuildDiscarderProperty/strategy", SUPPORT_SKIPPED, NULL,
      "A discard strategy other than hudson.tasks.LogRotator: old builds are kept." },
    { "properties", "hudson.plugins.throttleconcurrents.ThrottleJobProperty", SUPPORT_SKIPPED,
      NULL, "Throttling: builds run as executors allow." },
    { "properties", "com.dabsquared.gitlabjenkins.connection.GitLabConnectionProperty",
      SUPPORT_SKIPPED, NULL, "Build status is not reported to GitLab." },
    { "properties", "org.jenkinsci.plugins.envinject.EnvInjectJobProperty", SUPPORT_FAILS, NULL,
      "Injected variables: export them in a shell step, or make them build parameters." },

    /* <scm class="..."> */
    { "scm", "hudson.scm.NullSCM", SUPPORT_RUN, NULL, "No source control." },
    { "scm", "hudson.plugins.git.GitSCM", SUPPORT_RUN, NULL,
      "Git: remotes, branches (with ${PARAM}), credentials, and the extensions below "
      "(docs/SCM.md)." },
    { "scm", "hudson.scm.SubversionSCM", SUPPORT_FAILS, NULL,
      "Subversion: check out in the first shell step (svn checkout URL .)." },

    /* <scm class="hudson.plugins.git.GitSCM"><extensions> */
#define X "scm/extensions"
#define E "hudson.plugins.git.extensions.impl."
    { X, E "WipeWorkspace", SUPPORT_RUN, NULL, "Deletes the workspace before the checkout." },
    { X, E "CleanBeforeCheckout", SUPPORT_RUN, NULL, "git clean -ffdx before the checkout." },
    { X, E "CleanCheckout", SUPPORT_RUN, NULL, "git clean -ffdx after the checkout." },
    { X, E "PruneStaleBranch", SUPPORT_RUN, NULL, "git fetch --prune." },
    { X, E "CloneOption", SUPPORT_RUN, NULL,
      "shallow, depth, noTags, reference and timeout (honorRefspec is always on)." },
    { X, E "SubmoduleOption", SUPPORT_RUN, NULL,
      "disableSubmodules, recursiveSubmodules, trackingSubmodules and timeout." },
    { X, E "CheckoutOption", SUPPORT_RUN, NULL, "The checkout's timeout." },
    { X, E "RelativeTargetDirectory", SUPPORT_RUN, NULL,
      "Checks out into a directory of the workspace; GIT_CHECKOUT_DIR." },
    { X, E "LocalBranch", SUPPORT_RUN, NULL, "Checks out a local branch; GIT_LOCAL_BRANCH." },
    { X, E "IgnoreNotifyCommit", SUPPORT_RUN, NULL, "/git/notifyCommit leaves the job alone." },
    { X, E "AuthorInChangelog", SUPPORT_RUN, NULL, "The change set shows authors, not committers." },
    { X, E "ScmName", SUPPORT_RUN, NULL, "The scmName of the build's BuildData." },
    { X, E "UserIdentity", SUPPORT_RUN, NULL,
      "user.name and user.email in the repository; GIT_AUTHOR_NAME, GIT_COMMITTER_NAME..." },
    { X, E "BuildChooserSetting", SUPPORT_HARMLESS, NULL,
      "The default build chooser: the newest matching revision is built." },
    { X, E "DisableRemotePoll", SUPPORT_HARMLESS, NULL, "Polling always asks the remote." },
    { X, E "PerBuildTag", SUPPORT_HARMLESS, NULL, "A tag in the workspace's clone only." },
    { X, E "PathRestriction", SUPPORT_SKIPPED, NULL,
      "Polling and notifyCommit build on any change, whatever paths it touches." },
    { X, E "UserExclusion", SUPPORT_SKIPPED, NULL,
      "Polling and notifyCommit build on any change, whoever made it." },
    { X, E "MessageExclusion", SUPPORT_SKIPPED, NULL,
      "Polling and notifyCommit build on any change, whatever its message." },
    { X, E "PreBuildMerge", SUPPORT_FAILS, NULL, "Merge before build: git merge in a shell step." },
    { X, E "SparseCheckoutPaths", SUPPORT_FAILS, NULL,
      "Sparse checkout: git sparse-checkout in a shell step, or check out everything." },
    { X, E "GitLFSPull", SUPPORT_FAILS, NULL, "Git LFS: git lfs pull in a shell step." },
#undef E
#undef X

    /* <triggers> */
    { "triggers", "hudson.triggers.TimerTrigger", SUPPORT_RUN, NULL,
      "Build periodically, with Jenkins' cron syntax and H." },
    { "triggers", "hudson.triggers.SCMTrigger", SUPPORT_RUN, NULL,
      "Poll SCM, for Git jobs: git ls-remote on the spec's schedule (with H), and "
      "/git/notifyCommit." },
    { "triggers", "com.cloudbees.jenkins.GitHubPushTrigger", SUPPORT_RUN, NULL,
      "GitHub push: /github-webhook/ polls the job's Git repository (docs/SCM.md)." },
    { "triggers", "com.dabsquared.gitlabjenkins.GitLabPushTrigger", SUPPORT_RUN, NULL,
      "GitLab push and merge request hooks at /project/JOB, with the branch filter and "
      "secret token (docs/SCM.md)." },
    { "triggers", "jenkins.triggers.ReverseBuildTrigger", SUPPORT_RUN, NULL,
      "Build after other projects are built, with their threshold (SUCCESS, UNSTABLE or "
      "FAILURE)." },

    /* <buildWrappers> */
    { "buildWrappers", "hudson.plugins.timestamper.TimestamperBuildWrapper", SUPPORT_HARMLESS,
      NULL, "Timestamps in the console." },
    { "buildWrappers", "hudson.plugins.ansicolor.AnsiColorBuildWrapper", SUPPORT_HARMLESS, NULL,
      "Colours in the console." },
    { "buildWrappers", "hudson.plugins.build__timeout.BuildTimeoutWrapper", SUPPORT_RUN, NULL,
      "Build timeout: the absolute and no-activity strategies, with the abort, fail and "
      "write-description operations (another strategy fails the build)." },
    { "buildWrappers", "org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper",
      SUPPORT_RUN, NULL,
      "Credentials binding: username and password (joined or apart), secret text, secret file "
      "and SSH key bindings, masked in the console (another binding fails the build)." },
    { "buildWrappers", "hudson.plugins.ws__cleanup.PreBuildCleanup", SUPPORT_RUN, NULL,
      "Delete workspace before build starts: all of it, or what the patterns say "
      "(externalDelete is not run: Steward deletes)." },
    { "buildWrappers", "EnvInjectBuildWrapper", SUPPORT_FAILS, NULL,
      "Injected variables: export them in a shell step." },

    /* <builders> */
    { "builders", "hudson.tasks.Shell", SUPPORT_RUN, NULL, "Execute shell, in the sandbox." },
    { "builders", "hudson.tasks.BatchFile", SUPPORT_FAILS, NULL,
      "Windows batch: builds run on Linux. Write the step as a shell step." },
    { "builders", "hudson.tasks.Maven", SUPPORT_FAILS, NULL,
      "Invoke Maven: run mvn in a shell step (mvn -B clean verify)." },
    { "builders", "hudson.tasks.Ant", SUPPORT_FAILS, NULL, "Invoke Ant: run ant in a shell step." },
    { "builders", "hudson.plugins.gradle.Gradle", SUPPORT_FAILS, NULL,
      "Invoke Gradle: run ./gradlew in a shell step." },
    { "builders", "hudson.plugins.python.Python", SUPPORT_FAILS, NULL,
      "Execute Python: run python3 in a shell step." },
    { "builders", "hudson.plugins.copyartifact.CopyArtifact", SUPPORT_FAILS, NULL,
      "Copy artifacts: fetch them in a shell step from the other build's artifact URL." },
    { "builders", "hudson.plugins.parameterizedtrigger.TriggerBuilder", SUPPORT_FAILS, NULL,
      "Trigger other projects: call the other job's buildWithParameters URL in a shell step." },
    { "builders", "EnvInjectBuilder", SUPPORT_FAILS, NULL,
      "Injected variables: export them in a shell step." },

    /* <publishers> */
    { "publishers", "hudson.tasks.ArtifactArchiver", SUPPORT_RUN, NULL,
      "Archive the artifacts, with includes, excludes, allowEmptyArchive and onlyIfSuccessful." },
    { "publishers", "hudson.tasks.Mailer", SUPPORT_SKIPPED, NULL, "E-mail notification." },
    { "publishers", "hudson.plugins.emailext.ExtendedEmailPublisher", SUPPORT_SKIPPED, NULL,
      "Editable e-mail notification." },
    { "publishers", "jenkins.plugins.slack.SlackNotifier", SUPPORT_SKIPPED, NULL,
      "Slack notification." },
    { "publishers", "hudson.tasks.junit.JUnitResultArchiver", SUPPORT_RUN, NULL,
      "JUnit test reports, with testResults, allowEmptyResults, keepLongStdio, "
      "healthScaleFactor and skipMarkingBuildUnstable: failed tests "
      "make the build UNSTABLE; the results are at testReport/ and in the trend." },
    { "publishers", "hudson.tasks.Fingerprinter", SUPPORT_SKIPPED, NULL, "Fingerprints." },
    { "publishers", "hudson.tasks.BuildTrigger", SUPPORT_RUN, NULL,
      "Build other projects, with the threshold (SUCCESS, UNSTABLE or FAILURE)." },
    { "publishers", "hudson.plugins.parameterizedtrigger.BuildTrigger", SUPPORT_RUN, NULL,
      "Trigger parameterized builds: each condition; current build parameters, predefined "
      "parameters and properties files of the workspace (other parameter sources are "
      "ignored, with a note in the console)." },
    { "publishers", "hudson.plugins.ws__cleanup.WsCleanup", SUPPORT_RUN, NULL,
      "Delete workspace when build is done: patterns, the cleanWhen results and notFailBuild "
      "(externalDelete is not run: Steward deletes)." },
    { "publishers", "hudson.plugins.git.GitPublisher", SUPPORT_SKIPPED, NULL,
      "Git publisher: push from the last shell step." },
};
const size_t support_table_len = ELEMENTSOF(support_table);

const struct support_slot *
support_slot_of(const char *slot)
{
    for (size_t i = 0; i < support_slots_len; i++)
        if (streq(support_slots[i].slot, slot))
            return &support_slots[i];
    return NULL;
}

const struct support_entry *
support_find(const char *slot, const char *name)
{
    for (size_t i = 0; i < support_table_len; i++)
        if (streq(support_table[i].slot, slot) && streq(support_table[i].name, name))
            return &support_table[i];
    return NULL;
}

/* Whether `value` is one of the '|'-separated `values`. */
static bool
one_of(const char *values, const char *value)
{
    size_t n = strlen(value);

    for (const char *p = values;; p++) {
        const char *bar = strchrnul(p, '|');

        if ((size_t) (bar - p) == n && strncmp(p, value, n) == 0)
            return true;
        if (!*bar)
            return false;
        p = bar;
    }
}

enum support
support_classify(const char *slot, const char *name, const char *value, const char **ret_note)
{
    const struct support_entry *e = support_find(slot, name);
    const struct support_slot *s;

    if (e) {
        *ret_note = e->note;
        if (e->harmless_values && value && one_of(e->harmless_values, value))
            return SUPPORT_HARMLESS;
        return e->verdict;
    }
    s = support_slot_of(slot);
    *ret_note = s ? s->unknown_note : "";
    return s ? s->unknown : SUPPORT_SKIPPED;
}

const char *
support_to_string(enum support s)
{
    switch (s) {
    case SUPPORT_RUN:
        return "run";
    case SUPPORT_HARMLESS:
        return "harmless";
    case SUPPORT_SKIPPED:
        return "skipped";
    case SUPPORT_FAILS:
        return "fails";
    }
    return "skipped";
}

static const char *const slot_title[] = {
    [0] = "Elements of `<project>`",
    [1] = "Job properties (`<properties>`)",
    [2] = "Source control (`<scm class=\"...\">`)",
    [3] = "Git extensions (`<scm class=\"hudson.plugins.git.GitSCM\">`, `<extensions>`)",
    [4] = "Triggers (`<triggers>`)",
    [5] = "Build environment (`<buildWrappers>`)",
    [6] = "Build steps (`<builders>`)",
    [7] = "Post-build actions (`<publishers>`)",
};

static const char *
verdict_words(enum support s)
{
    switch (s) {
    case SUPPORT_RUN:
        return "runs";
    case SUPPORT_HARMLESS:
        return "ignored, harmless";
    case SUPPORT_SKIPPED:
        return "not run; builds keep their result";
    case SUPPORT_FAILS:
        return "not run; builds fail";
    }
    return "";
}

int
support_markdown(char **ret)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(1 << 20);
    int r = 0;

    _Static_assert(ELEMENTSOF(slot_title) == 8, "a title for every slot");
    for (size_t s = 0; s < support_slots_len; s++) {
        const struct support_slot *slot = &support_slots[s];

        r |= buf_printf(&b, "%s### %s\n\n| element | Steward | notes |\n|---|---|---|\n",
                        s ? "\n" : "", slot_title[s]);
        for (size_t i = 0; i < support_table_len; i++) {
            const struct support_entry *e = &support_table[i];

            if (!streq(e->slot, slot->slot))
                continue;
            r |= buf_printf(&b, "| `%s` | %s", e->name, verdict_words(e->verdict));
            if (e->harmless_values) {
                r |= buf_puts(&b, " (harmless when ");
                for (const char *p = e->harmless_values;; p++) {
                    const char *bar = strchrnul(p, '|');
                    r |= buf_printf(&b, "%s%s%.*s%s", p == e->harmless_values ? "" : " or ",
                                    bar == p ? "empty" : "`", (int) (bar - p), p,
                                    bar == p ? "" : "`");
                    if (!*bar)
                        break;
                    p = bar;
                }
                r |= buf_puts(&b, ")");
            }
            r |= buf_printf(&b, " | %s |\n", e->note);
        }
        r |= buf_printf(&b, "| any other | %s | %s |\n", verdict_words(slot->unknown),
                        slot->unknown_note);
    }
    if (r < 0)
        return -ENOMEM;
    *ret = buf_detach(&b);
    return *ret ? 0 : -ENOMEM;
}
