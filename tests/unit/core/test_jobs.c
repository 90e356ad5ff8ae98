/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/home.h"
#include "core/jobs.h"
#include "util/bounds.h"
#include "util/fs.h"
#include "util/macro.h"

static const char job_xml[] =
    "<?xml version='1.1' encoding='UTF-8'?>\n"
    "<project>\n"
    "  <actions/>\n"
    "  <description>Builds the app</description>\n"
    "  <keepDependencies>false</keepDependencies>\n"
    "  <properties/>\n"
    "  <scm class=\"hudson.scm.NullSCM\"/>\n"
    "  <canRoam>true</canRoam>\n"
    "  <disabled>false</disabled>\n"
    "  <triggers/>\n"
    "  <concurrentBuild>false</concurrentBuild>\n"
    "  <builders>\n"
    "    <hudson.tasks.Shell>\n"
    "      <command>make check</command>\n"
    "    </hudson.tasks.Shell>\n"
    "  </builders>\n"
    "  <publishers>\n"
    "    <hudson.plugins.unknown.Publisher plugin=\"unknown@1.0\">\n"
    "      <setting>kept</setting>\n"
    "    </hudson.plugins.unknown.Publisher>\n"
    "  </publishers>\n"
    "  <buildWrappers/>\n"
    "</project>\n";

/* The same job with another description and no trailing newline: stored as given. */
static const char other_xml[] =
    "<project><description>Second version</description><builders/></project>";

/*
 * Each test gets a home in a fresh directory under /tmp and a registry
 * loaded from it. The directory is removed with our own nftw() walk.
 */
struct fixture {
    char dir[64];
    struct home *home;
    struct jobs *jobs;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char home[96];

    if (!f)
        return -1;
    *state = f;
    snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-jobs-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(home, sizeof home, "%s/home", f->dir);
    if (home_open(home, &f->home) < 0)
        return -1;
    return jobs_load(f->home, &f->jobs) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    jobs_free(f->jobs);
    home_free(f->home);
    (void) nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

#define F ((struct fixture *) *state)
#define J (F->jobs)

/* A path under the home, valid until the fourth next call. */
static const char *in_home(void **state, const char *rel)
{
    static char slots[4][512];
    static unsigned next;
    char *s = slots[next++ % 4];

    snprintf(s, sizeof slots[0], "%s/%s", F->home->root, rel);
    return s;
}

static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* Reads a file that must exist; free the result. */
static char *slurp(const char *path, size_t *ret_len)
{
    char *data = NULL;
    size_t len = 0;
    int r = fs_read_all(path, 1 << 20, &data, &len);

    if (r < 0)
        fail_msg("cannot read %s: %s", path, strerror(-r));
    if (ret_len)
        *ret_len = len;
    return data;
}

static void put_file(const char *path, const char *content)
{
    _cleanup_free_ char *dir = strdup(path);

    assert_non_null(dir);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(fs_mkdir_p(dir, 0700), 0);
    assert_int_equal(fs_write_atomic(path, content, strlen(content), 0600), 0);
}

static void create_ok(void **state, const char *name, const char *xml)
{
    char *msg = NULL;
    int r = jobs_create(J, name, xml, strlen(xml), &msg);

    if (r < 0)
        fail_msg("jobs_create(\"%s\") = %d: %s", name, r, msg ? msg : "(no message)");
    free(msg);
}

/* ---- job_name_check ---- */

/* `name` with bytes outside printable ASCII as \xNN, for failure messages. */
static const char *escaped(const char *name)
{
    static char out[4 * (BOUND_JOB_NAME_BYTES + 2) + 1];
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *) name; *p && o + 5 < sizeof out; p++) {
        if (*p >= 0x20 && *p < 0x7f)
            out[o++] = (char) *p;
        else
            o += (size_t) snprintf(out + o, sizeof out - o, "\\x%02x", *p);
    }
    out[o] = '\0';
    return out;
}

static void job_name_check__accepts_ordinary_names(void **state)
{
    static const char *const good[] = {
        "app", "my-job_1.2", "with space inside", "a.b", "trailing.", "UPPER", "x",
        "caf\xc3\xa9",
        /* a job in Japanese */
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\x96",
        "emoji-\xf0\x9f\x9a\x80", "a+b", "a=b,c", "(paren)", "{brace}", "~tilde",
    };
    const char *msg;

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(good); i++) {
        msg = NULL;
        if (job_name_check(good[i], &msg) != 0)
            fail_msg("\"%s\" was refused: %s", escaped(good[i]), msg);
    }
}

static void job_name_check__accepts_200_bytes(void **state)
{
    char name[BOUND_JOB_NAME_BYTES + 1];
    const char *msg = NULL;

    (void) state;
    memset(name, 'n', BOUND_JOB_NAME_BYTES);
    name[BOUND_JOB_NAME_BYTES] = '\0';
    assert_int_equal(job_name_check(name, &msg), 0);
}

static void expect_refused(const char *name)
{
    const char *msg = NULL;

    if (job_name_check(name, &msg) != -EINVAL)
        fail_msg("\"%s\" was not refused", escaped(name));
    if (!msg || !*msg)
        fail_msg("\"%s\" was refused without a message", escaped(name));
}

static void job_name_check__refuses_empty_dot_and_dot_dot(void **state)
{
    (void) state;
    expect_refused("");
    expect_refused(".");
    expect_refused("..");
}

static void job_name_check__refuses_slashes(void **state)
{
    (void) state;
    expect_refused("/");
    expect_refused("a/b");
    expect_refused("../etc");
    expect_refused("a\\b");
    expect_refused("\\");
}

static void job_name_check__refuses_control_characters(void **state)
{
    char name[] = "a?b";

    (void) state;
    for (int c = 1; c < 0x20; c++) {
        name[1] = (char) c;
        expect_refused(name);
    }
    expect_refused("a\x7f" "b");
}

static void job_name_check__refuses_c1_control_characters(void **state)
{
    (void) state;
    /* U+0080..U+009F are control characters too (Java's isISOControl, as Jenkins checks) */
    expect_refused("a\xc2\x80" "b");
    expect_refused("a\xc2\x85" "b");   /* NEL, a line break */
    expect_refused("a\xc2\x9f" "b");
}

static void job_name_check__refuses_jenkins_unsafe_characters(void **state)
{
    const char *unsafe = "?*%<>|:;!@#$&[]^'\"";
    char name[] = "a?b";

    (void) state;
    for (const char *p = unsafe; *p; p++) {
        name[1] = *p;
        expect_refused(name);
    }
}

static void job_name_check__refuses_201_bytes(void **state)
{
    char name[BOUND_JOB_NAME_BYTES + 2];

    (void) state;
    memset(name, 'n', BOUND_JOB_NAME_BYTES + 1);
    name[BOUND_JOB_NAME_BYTES + 1] = '\0';
    expect_refused(name);
}

static void job_name_check__refuses_invalid_utf8(void **state)
{
    (void) state;
    expect_refused("caf\xe9");              /* Latin-1 */
    expect_refused("\xff");
    expect_refused("a\xc0\xaf" "b");         /* overlong '/' */
    expect_refused("a\xed\xa0\x80" "b");     /* surrogate */
    expect_refused("a\xe2\x82");             /* truncated */
}

static void job_name_check__refuses_a_leading_dot_or_surrounding_spaces(void **state)
{
    (void) state;
    expect_refused(".hidden");
    expect_refused("...");
    expect_refused(" lead");
    expect_refused("trail ");
    expect_refused(" ");
}

/* ---- jobs_create ---- */

static void jobs_create__writes_config_xml_byte_for_byte(void **state)
{
    _cleanup_free_ char *got = NULL, *got2 = NULL;
    size_t len = 0;
    struct stat st;

    create_ok(state, "app", job_xml);
    got = slurp(in_home(state, "jobs/app/config.xml"), &len);
    assert_int_equal(len, strlen(job_xml));
    assert_memory_equal(got, job_xml, len);
    assert_int_equal(stat(in_home(state, "jobs/app/config.xml"), &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);   /* not readable by others */

    create_ok(state, "other", other_xml);
    got2 = slurp(in_home(state, "jobs/other/config.xml"), &len);
    assert_int_equal(len, strlen(other_xml));
    assert_memory_equal(got2, other_xml, len);
}

static void jobs_create__publishes_the_parsed_job(void **state)
{
    _cleanup_(job_unrefp) struct job *job = NULL;

    create_ok(state, "app", job_xml);
    job = jobs_get(J, "app");
    assert_non_null(job);
    assert_string_equal(job->name, "app");
    assert_string_equal(job->cfg->description, "Builds the app");
    assert_int_equal(job->cfg->n_shell_steps, 1);
    /* a summary: the steps and the document are read from disk when needed */
    assert_true(job->cfg->summary);
    assert_null(job->cfg->shell_steps);
}

static void jobs_read_config__gives_the_whole_config_from_disk(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    _cleanup_free_ char *xml = NULL, *err = NULL;
    size_t len = 0;

    create_ok(state, "app", job_xml);
    assert_int_equal(jobs_read_xml(J, "app", &xml, &len), 0);
    assert_int_equal(len, strlen(job_xml));
    assert_string_equal(xml, job_xml);
    assert_int_equal(jobs_read_config(J, "app", &cfg, &err), 0);
    assert_false(cfg->summary);
    assert_int_equal(cfg->n_shell_steps, 1);
    assert_string_equal(cfg->shell_steps[0], "make check");
    assert_int_equal(jobs_read_xml(J, "nope", &xml, &len), -ENOENT);
}

static void jobs_create__refuses_a_taken_name_with_eexist_and_keeps_the_first(void **state)
{
    _cleanup_free_ char *got = NULL;
    char *msg = NULL;
    size_t len = 0;

    create_ok(state, "app", job_xml);
    assert_int_equal(jobs_create(J, "app", other_xml, strlen(other_xml), &msg), -EEXIST);
    free(msg);
    got = slurp(in_home(state, "jobs/app/config.xml"), &len);
    assert_int_equal(len, strlen(job_xml));
    assert_memory_equal(got, job_xml, len);
}

static void jobs_create__refuses_bad_xml_with_a_message_and_writes_nothing(void **state)
{
    static const char *const bad[] = {
        "<project><description>unclosed</project>",
        "not xml at all",
        "<matrix-project></matrix-project>",
        "",
    };

    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        char *msg = NULL;

        assert_int_equal(jobs_create(J, "broken", bad[i], strlen(bad[i]), &msg), -EINVAL);
        if (!msg || !*msg)
            fail_msg("no message for \"%s\"", bad[i]);
        free(msg);
        assert_false(exists(in_home(state, "jobs/broken")));
        assert_null(jobs_get(J, "broken"));
    }
}

static void jobs_create__refuses_a_bad_name_with_a_message_and_writes_nothing(void **state)
{
    char *msg = NULL;

    assert_int_equal(jobs_create(J, "../escape", job_xml, strlen(job_xml), &msg), -EINVAL);
    assert_non_null(msg);
    assert_true(strlen(msg) > 0);
    free(msg);
    assert_false(exists(in_home(state, "escape")));

    assert_int_equal(jobs_create(J, ".hidden", job_xml, strlen(job_xml), NULL), -EINVAL);
    assert_false(exists(in_home(state, "jobs/.hidden")));
}

/* ---- jobs_get and references ---- */

static void jobs_get__returns_a_new_reference_or_null(void **state)
{
    struct job *a, *b;

    create_ok(state, "app", job_xml);
    assert_null(jobs_get(J, "nope"));
    assert_null(jobs_get(J, "App"));

    a = jobs_get(J, "app");
    assert_non_null(a);
    assert_int_equal(a->refs, 2);      /* the registry's and ours */
    b = jobs_get(J, "app");
    assert_ptr_equal(a, b);
    assert_int_equal(a->refs, 3);
    assert_null(job_unref(b));
    assert_int_equal(a->refs, 2);
    assert_ptr_equal(job_ref(a), a);
    assert_int_equal(a->refs, 3);
    job_unref(a);
    job_unref(a);
    assert_int_equal(a->refs, 1);      /* only the registry's reference is left */
    assert_null(job_ref(NULL));
    assert_null(job_unref(NULL));
}

static void jobs_get__keeps_an_old_snapshot_valid_after_an_update(void **state)
{
    struct job *old, *cur;

    create_ok(state, "app", job_xml);
    old = jobs_get(J, "app");
    assert_int_equal(jobs_update_xml(J, "app", other_xml, strlen(other_xml), NULL), 0);
    cur = jobs_get(J, "app");
    assert_ptr_not_equal(old, cur);
    assert_int_equal(old->refs, 1);    /* the registry let go of it */
    assert_string_equal(old->cfg->description, "Builds the app");
    assert_string_equal(cur->cfg->description, "Second version");
    job_unref(old);
    job_unref(cur);
}

/* ---- jobs_list ---- */

static void jobs_list__returns_every_job_sorted_by_name(void **state)
{
    static const char *const names[] = { "b", "a", "c", "B", "a-2", "\xc3\xa9t\xc3\xa9" };
    static const char *const sorted[] = { "B", "a", "a-2", "b", "c", "\xc3\xa9t\xc3\xa9" };
    struct job **list = NULL;
    size_t n = 99;

    assert_int_equal(jobs_list(J, &list, &n), 0);
    assert_int_equal(n, 0);
    jobs_list_free(list, n);

    for (size_t i = 0; i < ELEMENTSOF(names); i++)
        create_ok(state, names[i], job_xml);
    assert_int_equal(jobs_list(J, &list, &n), 0);
    assert_int_equal(n, ELEMENTSOF(sorted));
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(list[i]->name, sorted[i]);
        assert_int_equal(list[i]->refs, 2);
    }
    jobs_list_free(list, n);
}

/* ---- jobs_update_xml ---- */

static void jobs_update_xml__replaces_the_config_on_disk_and_in_memory(void **state)
{
    _cleanup_free_ char *got = NULL;
    _cleanup_(job_unrefp) struct job *job = NULL;
    size_t len = 0;

    create_ok(state, "app", job_xml);
    assert_int_equal(jobs_update_xml(J, "app", other_xml, strlen(other_xml), NULL), 0);
    got = slurp(in_home(state, "jobs/app/config.xml"), &len);
    assert_int_equal(len, strlen(other_xml));
    assert_memory_equal(got, other_xml, len);
    job = jobs_get(J, "app");
    assert_string_equal(job->cfg->description, "Second version");
}

static void jobs_update_xml__returns_enoent_for_an_unknown_job(void **state)
{
    assert_int_equal(jobs_update_xml(J, "nope", job_xml, strlen(job_xml), NULL), -ENOENT);
    assert_false(exists(in_home(state, "jobs/nope")));
}

static void jobs_update_xml__refuses_bad_xml_and_keeps_the_old_config(void **state)
{
    _cleanup_free_ char *got = NULL;
    _cleanup_(job_unrefp) struct job *job = NULL;
    const char *bad = "<project><oops></project>";
    char *msg = NULL;
    size_t len = 0;

    create_ok(state, "app", job_xml);
    assert_int_equal(jobs_update_xml(J, "app", bad, strlen(bad), &msg), -EINVAL);
    assert_non_null(msg);
    free(msg);
    got = slurp(in_home(state, "jobs/app/config.xml"), &len);
    assert_int_equal(len, strlen(job_xml));
    assert_memory_equal(got, job_xml, len);
    job = jobs_get(J, "app");
    assert_string_equal(job->cfg->description, "Builds the app");
}

/* ---- jobs_set_disabled ---- */

static void jobs_set_disabled__writes_disabled_true_and_keeps_the_rest(void **state)
{
    _cleanup_free_ char *got = NULL, *again = NULL;
    _cleanup_(job_unrefp) struct job *job = NULL;

    create_ok(state, "app", job_xml);
    assert_int_equal(jobs_set_disabled(J, "app", true), 0);
    got = slurp(in_home(state, "jobs/app/config.xml"), NULL);
    assert_non_null(strstr(got, "<disabled>true</disabled>"));
    assert_null(strstr(got, "<disabled>false</disabled>"));
    assert_non_null(strstr(got, "<description>Builds the app</description>"));
    assert_non_null(strstr(got, "<command>make check</command>"));
    assert_non_null(strstr(got, "<hudson.plugins.unknown.Publisher plugin=\"unknown@1.0\">"));
    assert_non_null(strstr(got, "<setting>kept</setting>"));
    assert_non_null(strstr(got, "<scm class=\"hudson.scm.NullSCM\"/>"));
    job = jobs_get(J, "app");
    assert_true(job->cfg->disabled);
    assert_string_equal(job->cfg->description, "Builds the app");

    assert_int_equal(jobs_set_disabled(J, "app", false), 0);
    again = slurp(in_home(state, "jobs/app/config.xml"), NULL);
    assert_non_null(strstr(again, "<disabled>false</disabled>"));
    assert_non_null(strstr(again, "<setting>kept</setting>"));
}

static void jobs_set_disabled__returns_enoent_for_an_unknown_job(void **state)
{
    assert_int_equal(jobs_set_disabled(J, "nope", true), -ENOENT);
    assert_false(exists(in_home(state, "jobs/nope")));
}

/* ---- jobs_rename ---- */

static void jobs_rename__moves_the_directory_and_the_workspace(void **state)
{
    _cleanup_free_ char *got = NULL;
    _cleanup_(job_unrefp) struct job *job = NULL;
    size_t len = 0;

    create_ok(state, "old", job_xml);
    put_file(in_home(state, "jobs/old/builds/1/log"), "log of build 1\n");
    put_file(in_home(state, "workspace/old/file"), "ws");

    assert_int_equal(jobs_rename(J, "old", "new"), 0);
    assert_false(exists(in_home(state, "jobs/old")));
    assert_false(exists(in_home(state, "workspace/old")));
    got = slurp(in_home(state, "jobs/new/config.xml"), &len);
    assert_int_equal(len, strlen(job_xml));
    assert_memory_equal(got, job_xml, len);
    assert_true(exists(in_home(state, "jobs/new/builds/1/log")));
    assert_true(exists(in_home(state, "workspace/new/file")));

    assert_null(jobs_get(J, "old"));
    job = jobs_get(J, "new");
    assert_non_null(job);
    assert_string_equal(job->name, "new");
}

static void jobs_rename__refuses_unknown_taken_and_bad_names(void **state)
{
    create_ok(state, "a", job_xml);
    create_ok(state, "b", job_xml);
    assert_int_equal(jobs_rename(J, "nope", "c"), -ENOENT);
    assert_int_equal(jobs_rename(J, "a", "b"), -EEXIST);
    assert_int_equal(jobs_rename(J, "a", "../c"), -EINVAL);
    assert_int_equal(jobs_rename(J, "a", ""), -EINVAL);
    assert_true(exists(in_home(state, "jobs/a/config.xml")));
    assert_true(exists(in_home(state, "jobs/b/config.xml")));
    assert_false(exists(in_home(state, "c")));
    assert_false(exists(in_home(state, "jobs/c")));
}

/* ---- jobs_delete ---- */

static void jobs_delete__removes_the_directory_and_the_workspace(void **state)
{
    create_ok(state, "app", job_xml);
    create_ok(state, "kept", job_xml);
    put_file(in_home(state, "jobs/app/builds/1/log"), "log");
    put_file(in_home(state, "workspace/app/file"), "ws");

    assert_int_equal(jobs_delete(J, "app"), 0);
    assert_false(exists(in_home(state, "jobs/app")));
    assert_false(exists(in_home(state, "workspace/app")));
    assert_null(jobs_get(J, "app"));
    assert_true(exists(in_home(state, "jobs/kept/config.xml")));
    assert_int_equal(jobs_delete(J, "app"), -ENOENT);
}

static void jobs_delete__keeps_a_snapshot_held_by_someone_valid(void **state)
{
    struct job *held;

    create_ok(state, "app", job_xml);
    held = jobs_get(J, "app");
    assert_int_equal(jobs_delete(J, "app"), 0);
    assert_int_equal(held->refs, 1);
    assert_string_equal(held->name, "app");
    assert_string_equal(held->cfg->description, "Builds the app");
    job_unref(held);
}

/* ---- jobs_load ---- */

static void jobs_load__picks_up_jobs_from_disk_and_skips_broken_ones(void **state)
{
    struct jobs *loaded = NULL;
    struct job **list = NULL;
    size_t n = 0;

    put_file(in_home(state, "jobs/good/config.xml"), job_xml);
    put_file(in_home(state, "jobs/also good/config.xml"), other_xml);
    put_file(in_home(state, "jobs/broken/config.xml"), "<project><unclosed></project>");
    put_file(in_home(state, "jobs/not-a-project/config.xml"), "<flow-definition/>");
    assert_int_equal(fs_mkdir_p(in_home(state, "jobs/no-config"), 0700), 0);
    put_file(in_home(state, "jobs/.hidden/config.xml"), job_xml);
    put_file(in_home(state, "jobs/bad:name/config.xml"), job_xml);
    put_file(in_home(state, "jobs/plain-file"), "not a directory");

    assert_int_equal(jobs_load(F->home, &loaded), 0);
    assert_int_equal(jobs_list(loaded, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0]->name, "also good");
    assert_string_equal(list[0]->cfg->description, "Second version");
    assert_string_equal(list[1]->name, "good");
    assert_string_equal(list[1]->cfg->description, "Builds the app");
    jobs_list_free(list, n);
    assert_null(jobs_free(loaded));
}

static void jobs_load__sees_what_an_earlier_registry_created(void **state)
{
    struct jobs *loaded = NULL;
    struct job *job;

    create_ok(state, "app", job_xml);
    assert_int_equal(jobs_set_disabled(J, "app", true), 0);
    assert_int_equal(jobs_load(F->home, &loaded), 0);
    job = jobs_get(loaded, "app");
    assert_non_null(job);
    assert_true(job->cfg->disabled);
    job_unref(job);
    jobs_free(loaded);
}

/* ---- the index ---- */

/* Loads a second registry from the same home, as a restart does. */
static struct jobs *reload(void **state)
{
    struct jobs *loaded = NULL;

    jobs_free(J);
    J = NULL;
    assert_int_equal(jobs_load(F->home, &loaded), 0);
    return loaded;
}

static void jobs_load__reads_the_index_and_then_what_changed_on_disk(void **state)
{
    struct jobs *loaded;
    struct job **list = NULL;
    struct job *job;
    size_t n = 0;

    create_ok(state, "kept", job_xml);
    create_ok(state, "edited", job_xml);
    create_ok(state, "removed", job_xml);
    jobs_free(J);
    J = NULL;
    /* while the server is stopped */
    put_file(in_home(state, "jobs/edited/config.xml"), other_xml);
    assert_int_equal(unlink(in_home(state, "jobs/removed/config.xml")), 0);
    put_file(in_home(state, "jobs/added/config.xml"), other_xml);

    assert_int_equal(jobs_load(F->home, &loaded), 0);
    J = loaded;
    /* one job asked for is compared with its file at once */
    job = jobs_get(J, "edited");
    assert_non_null(job);
    assert_string_equal(job->cfg->description, "Second version");
    job_unref(job);
    assert_null(jobs_get(J, "removed"));
    job = jobs_get(J, "added");
    assert_non_null(job);
    job_unref(job);
    /* a list waits for the whole check */
    assert_int_equal(jobs_list(J, &list, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(list[0]->name, "added");
    assert_string_equal(list[1]->name, "edited");
    assert_string_equal(list[2]->name, "kept");
    assert_string_equal(list[2]->cfg->description, "Builds the app");
    jobs_list_free(list, n);
}

static void jobs_load__lists_right_without_asking_for_each_job_first(void **state)
{
    struct job **list = NULL;
    size_t n = 0;

    create_ok(state, "a", job_xml);
    create_ok(state, "b", job_xml);
    jobs_free(J);
    J = NULL;
    assert_int_equal(unlink(in_home(state, "jobs/a/config.xml")), 0);
    put_file(in_home(state, "jobs/b/config.xml"), other_xml);
    J = reload(state);
    assert_int_equal(jobs_list(J, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0]->name, "b");
    assert_string_equal(list[0]->cfg->description, "Second version");
    jobs_list_free(list, n);
}

static void jobs_load__ignores_an_index_row_that_does_not_decode(void **state)
{
    _cleanup_(store_closep) struct store *db = NULL;
    struct job_ident id = { 1, 2, 3, 4 };
    struct job *job;

    create_ok(state, "app", job_xml);
    jobs_free(J);
    J = NULL;
    assert_int_equal(store_open(F->home->db_path, &db), 0);
    assert_int_equal(store_job_index_put(db, "app", &id, "garbage", 7), 0);
    assert_int_equal(store_job_index_put(db, "ghost", &id, "garbage", 7), 0);
    J = reload(state);
    job = jobs_get(J, "app");
    assert_non_null(job);
    assert_string_equal(job->cfg->description, "Builds the app");
    job_unref(job);
    assert_null(jobs_get(J, "ghost"));
}

/* jobs_free() on a thread of its own: true if it ended within 20 s */
struct freeing {
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    struct jobs *jobs;
    bool done;
};

static void *free_thread(void *arg)
{
    struct freeing *fr = arg;

    jobs_free(fr->jobs);
    pthread_mutex_lock(&fr->lock);
    fr->done = true;
    pthread_cond_signal(&fr->done_cond);
    pthread_mutex_unlock(&fr->lock);
    return NULL;
}

static bool frees_in_time(struct jobs *jobs)
{
    struct freeing *fr = calloc(1, sizeof *fr);
    struct timespec until;
    pthread_t t;
    bool done;

    assert_non_null(fr);
    pthread_mutex_init(&fr->lock, NULL);
    pthread_cond_init(&fr->done_cond, NULL);
    fr->jobs = jobs;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    assert_int_equal(pthread_create(&t, NULL, free_thread, fr), 0);
    pthread_mutex_lock(&fr->lock);
    while (!fr->done && pthread_cond_timedwait(&fr->done_cond, &fr->lock, &until) == 0)
        ;
    done = fr->done;
    pthread_mutex_unlock(&fr->lock);
    if (!done)
        return false;   /* the thread and `fr` are left to the stuck free: the test fails */
    pthread_join(t, NULL);
    pthread_cond_destroy(&fr->done_cond);
    pthread_mutex_destroy(&fr->lock);
    free(fr);
    return true;
}

/*
 * A stop right after the first answer: the gate of the background work
 * opens and the registry is freed at once. The watcher, once through the
 * gate, waits for the loader's index; the loader must not then take the
 * free for a reason to stop (it did, and the free waited for the watcher
 * for ever). Many rounds, as the two threads race for the gate.
 */
static void jobs_free__ends_when_the_background_work_has_just_been_let_begin(void **state)
{
    create_ok(state, "app", job_xml);
    for (int i = 0; i < 300; i++) {
        struct jobs *loaded;

        assert_int_equal(jobs_load(F->home, &loaded), 0);
        assert_int_equal(jobs_watch(loaded), 0);
        jobs_begin_background(loaded);
        if (!frees_in_time(loaded))
            fail_msg("round %d: jobs_free() did not end within 20 s", i);
    }
}

/* A stop before the gate opens: neither thread begins, and the free ends. */
static void jobs_free__ends_when_the_background_work_never_began(void **state)
{
    struct jobs *loaded;

    create_ok(state, "app", job_xml);
    assert_int_equal(jobs_load(F->home, &loaded), 0);
    assert_int_equal(jobs_watch(loaded), 0);
    assert_true(frees_in_time(loaded));
}

static void jobs_free__accepts_null_and_returns_null(void **state)
{
    (void) state;
    assert_null(jobs_free(NULL));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(job_name_check__accepts_ordinary_names),
        cmocka_unit_test(job_name_check__accepts_200_bytes),
        cmocka_unit_test(job_name_check__refuses_empty_dot_and_dot_dot),
        cmocka_unit_test(job_name_check__refuses_slashes),
        cmocka_unit_test(job_name_check__refuses_control_characters),
        cmocka_unit_test(job_name_check__refuses_c1_control_characters),
        cmocka_unit_test(job_name_check__refuses_jenkins_unsafe_characters),
        cmocka_unit_test(job_name_check__refuses_201_bytes),
        cmocka_unit_test(job_name_check__refuses_invalid_utf8),
        cmocka_unit_test(job_name_check__refuses_a_leading_dot_or_surrounding_spaces),
        T(jobs_create__writes_config_xml_byte_for_byte),
        T(jobs_create__publishes_the_parsed_job),
        T(jobs_create__refuses_a_taken_name_with_eexist_and_keeps_the_first),
        T(jobs_create__refuses_bad_xml_with_a_message_and_writes_nothing),
        T(jobs_create__refuses_a_bad_name_with_a_message_and_writes_nothing),
        T(jobs_get__returns_a_new_reference_or_null),
        T(jobs_get__keeps_an_old_snapshot_valid_after_an_update),
        T(jobs_list__returns_every_job_sorted_by_name),
        T(jobs_update_xml__replaces_the_config_on_disk_and_in_memory),
        T(jobs_update_xml__returns_enoent_for_an_unknown_job),
        T(jobs_update_xml__refuses_bad_xml_and_keeps_the_old_config),
        T(jobs_set_disabled__writes_disabled_true_and_keeps_the_rest),
        T(jobs_set_disabled__returns_enoent_for_an_unknown_job),
        T(jobs_rename__moves_the_directory_and_the_workspace),
        T(jobs_rename__refuses_unknown_taken_and_bad_names),
        T(jobs_delete__removes_the_directory_and_the_workspace),
        T(jobs_delete__keeps_a_snapshot_held_by_someone_valid),
        T(jobs_load__picks_up_jobs_from_disk_and_skips_broken_ones),
        T(jobs_load__sees_what_an_earlier_registry_created),
        T(jobs_load__reads_the_index_and_then_what_changed_on_disk),
        T(jobs_load__lists_right_without_asking_for_each_job_first),
        T(jobs_load__ignores_an_index_row_that_does_not_decode),
        T(jobs_read_config__gives_the_whole_config_from_disk),
        T(jobs_free__ends_when_the_background_work_has_just_been_let_begin),
        T(jobs_free__ends_when_the_background_work_never_began),
        cmocka_unit_test(jobs_free__accepts_null_and_returns_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
