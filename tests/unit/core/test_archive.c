/* SPDX-License-Identifier: MIT */
#include <dirent.h>
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

#include "core/archive.h"
#include "util/fs.h"

static void
ant_match__star_stays_in_one_segment(void **state)
{
    (void) state;
    assert_true(ant_match("*.txt", "a.txt"));
    assert_false(ant_match("*.txt", "dir/a.txt"));
    assert_true(ant_match("out/*.jar", "out/app.jar"));
    assert_false(ant_match("out/*.jar", "out/lib/app.jar"));
    assert_true(ant_match("a?c", "abc"));
    assert_false(ant_match("a?c", "ac"));
}

static void
ant_match__double_star_spans_directories(void **state)
{
    (void) state;
    assert_true(ant_match("out/**", "out/a"));
    assert_true(ant_match("out/**", "out/a/b/c.txt"));
    assert_false(ant_match("out/**", "other/a"));
    assert_true(ant_match("**/*.log", "x.log"));
    assert_true(ant_match("**/*.log", "a/b/x.log"));
    assert_true(ant_match("a/**/z", "a/z"));
    assert_true(ant_match("a/**/z", "a/b/c/z"));
    assert_false(ant_match("a/**/z", "a/b/c/y"));
}

static void
ant_match__trailing_slash_means_everything_below(void **state)
{
    (void) state;
    assert_true(ant_match("build/", "build/x/y"));
    assert_true(ant_match(" ./dist/*.tgz ", "dist/p.tgz"));
    assert_false(ant_match("", "anything"));
}

static char *
mktree(void)
{
    char tmpl[] = "/tmp/steward-archive-XXXXXX";
    char *dir = strdup(mkdtemp(tmpl));
    char path[512];
    static const char *const files[] = { "out/a.jar", "out/lib/b.jar", "out/notes.txt",
                                         "src/main.c", "top.log" };

    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char *slash;
        snprintf(path, sizeof path, "%s/ws/%s", dir, files[i]);
        slash = strrchr(path, '/');
        *slash = '\0';
        assert_int_equal(fs_mkdir_p(path, 0700), 0);
        *slash = '/';
        assert_int_equal(fs_write_atomic(path, files[i], strlen(files[i]), 0600), 0);
    }
    snprintf(path, sizeof path, "%s/ws/out/link.jar", dir);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    return dir;
}

static void
archive_collect__copies_matches_and_honours_excludes(void **state)
{
    char *dir = mktree(), ws[512], dest[512], *data = NULL;
    struct artifact *list = NULL;
    size_t n = 0, count = 0, len;

    (void) state;
    snprintf(ws, sizeof ws, "%s/ws", dir);
    snprintf(dest, sizeof dest, "%s/archive", dir);
    assert_int_equal(archive_collect(ws, "out/**, *.log", "**/*.txt", dest, NULL, &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(archive_list(dest, 100, &list, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].relative_path, "out/a.jar");
    assert_string_equal(list[1].relative_path, "out/lib/b.jar");
    assert_string_equal(list[2].relative_path, "top.log");
    assert_int_equal(list[0].size, strlen("out/a.jar"));
    artifacts_free(list, n);
    snprintf(ws, sizeof ws, "%s/archive/out/lib/b.jar", dir);
    assert_int_equal(fs_read_all(ws, 1024, &data, &len), 0);
    assert_string_equal(data, "out/lib/b.jar");
    free(data);
    assert_int_equal(fs_rm_rf(dir), 0);
    free(dir);
}

static void
archive_collect__finds_nothing_without_a_match(void **state)
{
    char *dir = mktree(), ws[512], dest[512];
    struct artifact *list = NULL;
    size_t n = 1, count = 1;

    (void) state;
    snprintf(ws, sizeof ws, "%s/ws", dir);
    snprintf(dest, sizeof dest, "%s/archive", dir);
    assert_int_equal(archive_collect(ws, "*.zip", NULL, dest, NULL, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(archive_list(dest, 100, &list, &n), 0);
    assert_int_equal(n, 0);
    free(list);
    assert_int_equal(fs_rm_rf(dir), 0);
    free(dir);
}

static void
archive_collect__stops_when_cancelled(void **state)
{
    char *dir = mktree(), ws[512], dest[512];
    bool cancel = true;
    size_t count = 7;

    (void) state;
    snprintf(ws, sizeof ws, "%s/ws", dir);
    snprintf(dest, sizeof dest, "%s/archive", dir);
    assert_int_equal(archive_collect(ws, "**", NULL, dest, &cancel, &count), -ECANCELED);
    assert_int_equal(count, 0);
    cancel = false;
    assert_int_equal(archive_collect(ws, "**", NULL, dest, &cancel, &count), 0);
    assert_true(count > 0);
    assert_int_equal(fs_rm_rf(dir), 0);
    free(dir);
}

static int
open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;

    assert_non_null(d);
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static int
no_visit(void *ctx, int dirfd, const char *name, const char *path)
{
    (void) ctx, (void) dirfd, (void) name, (void) path;
    return 0;
}

/* Directories deeper than the walk goes leave no fd open behind them. */
static void
archive_walk__closes_what_is_too_deep(void **state)
{
    char tmpl[] = "/tmp/steward-archive-XXXXXX";
    char *dir = mkdtemp(tmpl), path[4096], ws[512], dest[512];
    size_t len, count = 0;
    int before;

    (void) state;
    assert_non_null(dir);
    snprintf(ws, sizeof ws, "%s/ws", dir);
    snprintf(dest, sizeof dest, "%s/archive", dir);
    len = (size_t) snprintf(path, sizeof path, "%s", ws);
    /* ws is walked at depth 0, the x directories would be at depth 65 */
    for (int i = 0; i < 64; i++)
        len += (size_t) snprintf(path + len, sizeof path - len, "/d");
    for (int i = 0; i < 20; i++) {
        snprintf(path + len, sizeof path - len, "/x%d", i);
        assert_int_equal(fs_mkdir_p(path, 0700), 0);
    }
    before = open_fds();
    assert_int_equal(archive_find(ws, "**/*.xml", NULL, NULL, no_visit, NULL), 0);
    assert_int_equal(open_fds(), before);
    assert_int_equal(archive_collect(ws, "**", NULL, dest, NULL, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(open_fds(), before);
    assert_int_equal(fs_rm_rf(dir), 0);
}

/* A FIFO put in a matched file's place is not opened for reading (that would wait forever). */
static void
archive_copy_file__refuses_a_fifo(void **state)
{
    char tmpl[] = "/tmp/steward-archive-XXXXXX";
    char *dir = mkdtemp(tmpl), path[512];
    uint64_t copied = 0;
    struct stat st;
    int fd;

    (void) state;
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/pipe.xml", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(path, sizeof path, "%s/copy", dir);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    alarm(20);   /* without O_NONBLOCK the open never returns: SIGALRM fails the test */
    assert_int_equal(archive_copy_file(fd, "pipe.xml", path, NULL, &copied), -EINVAL);
    alarm(0);
    assert_int_equal(copied, 0);
    assert_int_equal(stat(path, &st), -1);
    /* a regular file still is copied */
    snprintf(path, sizeof path, "%s/real.xml", dir);
    assert_int_equal(fs_write_atomic(path, "<x/>", 4, 0600), 0);
    snprintf(path, sizeof path, "%s/copy", dir);
    assert_int_equal(archive_copy_file(fd, "real.xml", path, NULL, &copied), 0);
    assert_int_equal(copied, 4);
    close(fd);
    assert_int_equal(fs_rm_rf(dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ant_match__star_stays_in_one_segment),
        cmocka_unit_test(ant_match__double_star_spans_directories),
        cmocka_unit_test(ant_match__trailing_slash_means_everything_below),
        cmocka_unit_test(archive_collect__copies_matches_and_honours_excludes),
        cmocka_unit_test(archive_collect__finds_nothing_without_a_match),
        cmocka_unit_test(archive_collect__stops_when_cancelled),
        cmocka_unit_test(archive_walk__closes_what_is_too_deep),
        cmocka_unit_test(archive_copy_file__refuses_a_fifo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
