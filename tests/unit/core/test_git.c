/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
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

#include "core/git.h"
#include "core/jobcfg.h"
#include "core/poll.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/macro.h"

static char *pattern(const char *spec)
{
    char *p = NULL;

    assert_int_equal(git_spec_pattern(spec, "origin", &p), 0);
    return p;
}

static void git_spec_pattern__reads_branch_specs_as_the_git_plugin(void **state)
{
    static const struct {
        const char *spec, *want;
    } cases[] = {
        { "main", "(refs/heads/|refs/remotes/[^/]+/|remotes/[^/]+/|[^/]+/)?main" },
        { "*/main", "(refs/heads/|refs/remotes/|remotes/)?[^/]*/main" },
        { "**", "(refs/heads/|refs/remotes/|remotes/)?.*" },
        { "origin/release-1.0", "(refs/heads/|refs/remotes/|remotes/|refs/remotes/[^/]+/)?origin/release-1\\.0" },
        { "refs/heads/dev", "(refs/heads/|refs/remotes/|remotes/|refs/remotes/[^/]+/)?origin/dev" },
        { "refs/remotes/up/x", "(refs/heads/|refs/remotes/|remotes/|refs/remotes/[^/]+/)?up/x" },
        { "refs/tags/v1.*", "tag:refs/tags/v1\\.[^/]*" },
        { "abc1234", "sha:abc1234\n(refs/heads/|refs/remotes/[^/]+/|remotes/[^/]+/|[^/]+/)?abc1234" },
        { "abc12", "(refs/heads/|refs/remotes/[^/]+/|remotes/[^/]+/|[^/]+/)?abc12" },
        { ":^origin/(a|b)$", "^origin/(a|b)$" },
        { "a+b(c)", "(refs/heads/|refs/remotes/[^/]+/|remotes/[^/]+/|[^/]+/)?a\\+b\\(c\\)" },
    };

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_free_ char *p = pattern(cases[i].spec);
        assert_string_equal(p, cases[i].want);
    }
}

static void git_expand__replaces_parameters_and_leaves_the_rest(void **state)
{
    const char *params[] = { "BRANCH=feature/x", "N=2", "EMPTY=", NULL };
    _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

    (void) state;
    assert_int_equal(git_expand("${BRANCH}", params, &a), 0);
    assert_string_equal(a, "feature/x");
    assert_int_equal(git_expand("r$N-${EMPTY}x-$NOPE-${NOPE}-${", params, &b), 0);
    assert_string_equal(b, "r2-x-$NOPE-${NOPE}-${");
    assert_int_equal(git_expand("$", params, &c), 0);
    assert_string_equal(c, "$");
}

#define SHA_A "1111111111111111111111111111111111111111"
#define SHA_B "2222222222222222222222222222222222222222"

static void git_build_parse__reads_a_report_and_refuses_damaged_ones(void **state)
{
    const char report[] =
        "remote file:///r.git\nscm main\ncommit " SHA_A "\nbranch origin/main\nchangelog yes\n"
        "\x1e" SHA_A "\x1f" "Ada\x1f" "ada@x\x1f" "100\x1f" "2024-01-02 03:04:05 +0000\x1f"
        "Carl\x1f" "carl@x\x1f" "200\x1f" "2024-01-02 03:04:06 +0000\x1f" "subject\n\nbody\n\x1f"
        "\n\nA\tnew file\nM\tsrc/x.c\nD\tgone\n"
        "\x1e" SHA_B "\x1f" "Ada\x1f" "ada@x\x1f" "1\x1f" "d\x1f" "Carl\x1f" "carl@x\x1f" "2\x1f"
        "d\x1f" "one line\x1f\n";
    char *text = strdup(report);
    struct git_build g;

    (void) state;
    assert_int_equal(git_build_parse(text, strlen(text), &g), 0);
    assert_string_equal(g.sha, SHA_A);
    assert_string_equal(g.branch, "origin/main");
    assert_int_equal(g.n_remotes, 1);
    assert_string_equal(g.remote_urls[0], "file:///r.git");
    assert_string_equal(g.scm_name, "main");
    assert_true(g.changelog);
    assert_int_equal(g.n_changes, 2);
    assert_string_equal(g.changes[0].author, "Carl");
    assert_int_equal(g.changes[0].timestamp_ms, 200000);
    assert_string_equal(g.changes[0].msg, "subject");
    assert_string_equal(g.changes[0].comment, "subject\n\nbody\n");
    assert_int_equal(g.changes[0].n_paths, 3);
    assert_string_equal(g.changes[0].paths[0].edit, "add");
    assert_string_equal(g.changes[0].paths[0].file, "new file");
    assert_string_equal(g.changes[0].paths[1].edit, "edit");
    assert_string_equal(g.changes[0].paths[2].edit, "delete");
    assert_string_equal(g.changes[1].msg, "one line");
    assert_int_equal(g.changes[1].n_paths, 0);
    git_build_release(&g);

    /* authors instead of committers */
    text = strdup("authors yes\ncommit " SHA_A "\nbranch x\n\x1e" SHA_B "\x1f" "Ada\x1f" "a\x1f"
                  "1\x1f" "d\x1f" "Carl\x1f" "c\x1f" "2\x1f" "d\x1f" "m\x1f");
    assert_int_equal(git_build_parse(text, strlen(text), &g), 0);
    assert_string_equal(g.changes[0].author, "Ada");
    git_build_release(&g);

    static const char *const bad[] = {
        "",
        "commit 123\nbranch x\n",
        "commit " SHA_A "\n",
        "branch x\n",
        "commit " SHA_A "\nbranch x\n\x1enot-a-sha\x1f" "a\x1f",
        "commit " SHA_A "\nbranch x\n\x1e" SHA_B "\x1f" "too\x1f" "few\x1f",
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        char *t = strdup(bad[i]);
        assert_int_equal(git_build_parse(t, strlen(t), &g), -EINVAL);
        free(t);
    }
}

static void git_report_take__takes_only_a_plain_file(void **state)
{
    char dir[] = "/tmp/test-git-XXXXXX", path[256], other[256];
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int fd;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/report", dir);
    snprintf(other, sizeof other, "%s/secret", dir);
    assert_int_equal(fs_write_atomic(other, "secret\n", 7, 0600), 0);

    /* a symbolic link to a file the server may read, but the build may not */
    assert_int_equal(symlink(other, path), 0);
    assert_int_equal(git_report_take(path, &text, &len), -ELOOP);
    unlink(path);
    /* a second name of another file */
    assert_int_equal(link(other, path), 0);
    assert_int_equal(git_report_take(path, &text, &len), -EINVAL);
    unlink(path);
    /* a FIFO would block the engine */
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(git_report_take(path, &text, &len), -EINVAL);
    unlink(path);
    /* too large */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, BOUND_GIT_CHANGELOG_BYTES + 8192), 0);
    close(fd);
    assert_int_equal(git_report_take(path, &text, &len), -E2BIG);
    unlink(path);
    /* a plain file is taken, and removed */
    assert_int_equal(fs_write_atomic(path, "commit x\n", 9, 0600), 0);
    assert_int_equal(git_report_take(path, &text, &len), 0);
    assert_string_equal(text, "commit x\n");
    assert_int_equal(len, 9);
    assert_int_equal(access(path, F_OK), -1);
    unlink(other);
    rmdir(dir);
}

static void git_checkout_script__carries_the_options_as_digits_only(void **state)
{
    struct git_scm g = { .wipe = true, .shallow = true, .fetch_timeout = 7 };
    _cleanup_free_ char *s = NULL;

    (void) state;
    assert_int_equal(git_checkout_script(&g, &s), 0);
    assert_non_null(strstr(s, "WIPE=1 CLEAN_BEFORE=0"));
    assert_non_null(strstr(s, "SHALLOW=1\n"));
    assert_non_null(strstr(s, "FETCH_TIMEOUT=7 "));
    /* hooks never run */
    assert_non_null(strstr(s, "core.hooksPath=/dev/null"));
}

static void git_url_matches__compares_loosely_as_notify_commit_does(void **state)
{
    (void) state;
    assert_true(git_url_matches("https://github.com/o/r.git", "git@github.com:o/r"));
    assert_true(git_url_matches("ssh://git@ssh.github.com:443/o/r.git", "https://github.com/o/r/"));
    assert_true(git_url_matches("https://GitHub.com/v3/o/r", "https://github.com/o/r"));
    assert_true(git_url_matches("https://dev.azure.com/org/p/_git/r", "https://dev.azure.com/org/p/r"));
    assert_true(git_url_matches("file:///srv/git/app.git", "file:///srv/git/app"));
    assert_true(git_url_matches("/srv/git/app.git", "file:///srv/git/app"));
    assert_false(git_url_matches("https://github.com/o/r", "https://github.com/o/other"));
    assert_false(git_url_matches("https://github.com/o/r", "https://gitlab.com/o/r"));
    assert_false(git_url_matches("", "https://github.com/o/r"));
    assert_false(git_url_matches("https://github.com/o/r extra", "https://github.com/o/r"));
}

static void git_github_same__reads_the_plugins_url_forms(void **state)
{
    (void) state;
    assert_true(git_github_same("https://github.com/o/r", "git@github.com:o/r.git"));
    assert_true(git_github_same("https://user@github.com/o/r.git/", "git://github.com/o/r.git"));
    assert_true(git_github_same("ssh://git@github.com:22/o/r.git", "git+ssh://github.com/o/r"));
    assert_false(git_github_same("https://github.com/o/r", "https://github.com/O/r"));
    assert_false(git_github_same("https://github.com/o/r", "https://github.com/o/r/x"));
    assert_false(git_github_same("file:///o/r", "file:///o/r"));
    assert_false(git_github_same("https://github.com/o", "https://github.com/o"));
}

static void poll_decide__finds_changes_by_branch(void **state)
{
    struct git_remote remote = { .name = "origin", .url = "file:///r" };
    char *branches[] = { "*/main", "refs/tags/v*" };
    struct git_scm g = { .remotes = &remote, .n_remotes = 1, .branches = branches, .n_branches = 2 };
    const char *out = "remote origin\n"
                      SHA_A "\trefs/heads/main\n"
                      SHA_B "\trefs/heads/other\n"
                      SHA_B "\trefs/tags/v1\n"
                      SHA_A "\trefs/tags/v1^{}\n";
    _cleanup_(buf_releasep) struct buf log = BUF_INIT(1 << 16);
    bool changed = true;

    (void) state;
    /* built already at those commits: no changes */
    assert_int_equal(poll_decide(&g, out, NULL, "origin/main " SHA_A "\nrefs/tags/v1 " SHA_B "\n",
                                 true, &log, &changed), 0);
    assert_false(changed);
    /* main moved */
    buf_clear(&log);
    assert_int_equal(poll_decide(&g, out, NULL, "origin/main " SHA_B "\nrefs/tags/v1 " SHA_B "\n",
                                 true, &log, &changed), 0);
    assert_true(changed);
    assert_non_null(strstr(buf_str(&log), "Changes found: origin/main at " SHA_A));
    /* a new tag */
    buf_clear(&log);
    assert_int_equal(poll_decide(&g, out, NULL, "origin/main " SHA_A "\n", true, &log, &changed), 0);
    assert_true(changed);
    /* never built */
    buf_clear(&log);
    assert_int_equal(poll_decide(&g, out, NULL, "", false, &log, &changed), 0);
    assert_true(changed);
    assert_non_null(strstr(buf_str(&log), "No existing build"));
    /* output that is not ls-remote's */
    assert_int_equal(poll_decide(&g, "remote origin\nnonsense\n", NULL, "", true, &log, &changed),
                     -EINVAL);
    assert_int_equal(poll_decide(&g, SHA_A "\trefs/heads/main\n", NULL, "", true, &log, &changed),
                     -EINVAL);
}

static void
git_url_kind__tells_ssh_http_and_local_apart_and_sees_the_user(void **state)
{
    static const struct {
        const char *url;
        enum git_url_kind kind;
        bool user;
    } cases[] = {
        { "ssh://git@host:2222/o/r.git", GIT_URL_SSH, true },
        { "ssh://host/o/r.git", GIT_URL_SSH, false },
        { "git+ssh://host/r", GIT_URL_SSH, false },
        { "git@github.com:o/r.git", GIT_URL_SSH, true },
        { "host:o/r.git", GIT_URL_SSH, false },
        { "https://bot@host/o/r.git", GIT_URL_HTTP, true },
        { "http://host/r", GIT_URL_HTTP, false },
        { "file:///srv/git/r.git", GIT_URL_LOCAL, false },
        { "/srv/git/r.git", GIT_URL_LOCAL, false },
        { "./r:x", GIT_URL_LOCAL, false },
        { "git://host/r.git", GIT_URL_OTHER, false },
        { "ext::ssh -i key host %S r", GIT_URL_OTHER, false },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool user = !cases[i].user;
        assert_int_equal(git_url_kind(cases[i].url, &user), cases[i].kind);
        assert_true(user == cases[i].user);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(git_spec_pattern__reads_branch_specs_as_the_git_plugin),
        cmocka_unit_test(git_expand__replaces_parameters_and_leaves_the_rest),
        cmocka_unit_test(git_build_parse__reads_a_report_and_refuses_damaged_ones),
        cmocka_unit_test(git_report_take__takes_only_a_plain_file),
        cmocka_unit_test(git_checkout_script__carries_the_options_as_digits_only),
        cmocka_unit_test(git_url_matches__compares_loosely_as_notify_commit_does),
        cmocka_unit_test(poll_decide__finds_changes_by_branch),
        cmocka_unit_test(git_github_same__reads_the_plugins_url_forms),
        cmocka_unit_test(git_url_kind__tells_ssh_http_and_local_apart_and_sees_the_user),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
