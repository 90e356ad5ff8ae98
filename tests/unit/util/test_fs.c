/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
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

#include "util/fs.h"
#include "util/macro.h"

/*
 * Each test gets a fresh directory under /tmp. The teardown removes it with
 * its own nftw() walk rather than with fs_rm_rf, the function under test.
 */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int setup_tmpdir(void **state)
{
    char tmpl[] = "/tmp/steward-test-fs-XXXXXX";

    if (!mkdtemp(tmpl))
        return -1;
    *state = strdup(tmpl);
    return *state ? 0 : -1;
}

static int teardown_tmpdir(void **state)
{
    char *dir = *state;

    (void) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
    return 0;
}

/* A path under the test's directory, valid until the fourth next call. */
static const char *at(void **state, const char *rel)
{
    static char slots[4][512];
    static unsigned next;
    char *s = slots[next++ % 4];

    snprintf(s, sizeof slots[0], "%s/%s", (const char *) *state, rel);
    return s;
}

static void write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "we");

    assert_non_null(f);
    assert_int_equal(fputs(content, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static mode_t mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* ---- fs_mkdir_p ---- */

static void fs_mkdir_p__creates_missing_parents_with_the_mode(void **state)
{
    assert_int_equal(fs_mkdir_p(at(state, "a/b/c"), 0700), 0);
    assert_true(is_dir(at(state, "a")));
    assert_true(is_dir(at(state, "a/b")));
    assert_true(is_dir(at(state, "a/b/c")));
    assert_int_equal(mode_of(at(state, "a")), 0700);
    assert_int_equal(mode_of(at(state, "a/b/c")), 0700);
}

static void fs_mkdir_p__accepts_an_existing_directory(void **state)
{
    assert_int_equal(fs_mkdir_p(at(state, "x/y"), 0755), 0);
    assert_int_equal(fs_mkdir_p(at(state, "x/y"), 0755), 0);
    assert_int_equal(fs_mkdir_p(at(state, "x"), 0755), 0);
    assert_true(is_dir(at(state, "x/y")));
}

static void fs_mkdir_p__accepts_a_trailing_slash_and_doubled_slashes(void **state)
{
    assert_int_equal(fs_mkdir_p(at(state, "t//u/"), 0700), 0);
    assert_true(is_dir(at(state, "t/u")));
}

static void fs_mkdir_p__fails_when_a_parent_is_a_file(void **state)
{
    write_file(at(state, "file"), "x");
    assert_int_equal(fs_mkdir_p(at(state, "file/sub"), 0700), -ENOTDIR);
}

static void fs_mkdir_p__fails_when_the_path_is_a_file(void **state)
{
    /* "creates `path`": a regular file there is not the directory asked for */
    write_file(at(state, "file"), "x");
    assert_true(fs_mkdir_p(at(state, "file"), 0700) < 0);
}

/* ---- fs_write_atomic and fs_read_all ---- */

static void fs_write_all__writes_everything_and_says_why_not(void **state)
{
    char big[200000], *got = NULL;
    size_t len = 0;
    int fd, p[2];

    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char) ('a' + i % 26);
    fd = open(at(state, "all"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(fs_write_all(fd, big, sizeof big), 0);
    assert_int_equal(fs_write_all(fd, NULL, 0), 0);
    close(fd);
    assert_int_equal(fs_read_all(at(state, "all"), sizeof big, &got, &len), 0);
    assert_int_equal(len, sizeof big);
    assert_memory_equal(got, big, len);
    free(got);
    /* a pipe whose reader is gone: the error, not a loop */
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(fs_write_all(p[1], "x", 1), -EPIPE);
    close(p[1]);
    assert_int_equal(fs_write_all(-1, "x", 1), -EBADF);
}

static void fs_write_atomic__round_trips_through_fs_read_all(void **state)
{
    static const char data[] = "line 1\n\0binary\xff\x01 tail";
    char *got = NULL;
    size_t len = 0;

    assert_int_equal(fs_write_atomic(at(state, "f"), data, sizeof data - 1, 0600), 0);
    assert_int_equal(fs_read_all(at(state, "f"), 1024, &got, &len), 0);
    assert_int_equal(len, sizeof data - 1);
    assert_memory_equal(got, data, len);
    assert_int_equal(got[len], '\0');
    free(got);
}

static void fs_write_atomic__creates_the_file_with_the_mode(void **state)
{
    (void) umask(022);
    assert_int_equal(fs_write_atomic(at(state, "private"), "s", 1, 0600), 0);
    assert_int_equal(mode_of(at(state, "private")), 0600);
    assert_int_equal(fs_write_atomic(at(state, "shared"), "s", 1, 0644), 0);
    assert_int_equal(mode_of(at(state, "shared")), 0644);
}

static void fs_write_atomic__replaces_a_file_and_leaves_no_temporary_behind(void **state)
{
    char *got = NULL;
    size_t len = 0;

    assert_int_equal(fs_write_atomic(at(state, "f"), "old and longer", 14, 0600), 0);
    assert_int_equal(fs_write_atomic(at(state, "f"), "new", 3, 0600), 0);
    assert_int_equal(fs_read_all(at(state, "f"), 1024, &got, &len), 0);
    assert_int_equal(len, 3);
    assert_string_equal(got, "new");
    assert_int_equal(count_entries(*state), 1);
    free(got);
}

static void fs_write_atomic__writes_an_empty_file(void **state)
{
    char *got = NULL;
    size_t len = 99;

    assert_int_equal(fs_write_atomic(at(state, "empty"), "", 0, 0600), 0);
    assert_int_equal(fs_read_all(at(state, "empty"), 0, &got, &len), 0);
    assert_int_equal(len, 0);
    assert_string_equal(got, "");
    free(got);
}

static void fs_write_atomic__fails_in_a_missing_directory_and_leaves_nothing(void **state)
{
    assert_int_equal(fs_write_atomic(at(state, "nodir/f"), "x", 1, 0600), -ENOENT);
    assert_int_equal(count_entries(*state), 0);
}

static void fs_read_all__refuses_a_file_past_max_with_e2big(void **state)
{
    char *got = (char *) "untouched";
    size_t len = 99;

    write_file(at(state, "f"), "0123456789A");
    assert_int_equal(fs_read_all(at(state, "f"), 10, &got, &len), -E2BIG);
    assert_string_equal(got, "untouched");
    assert_int_equal(len, 99);

    assert_int_equal(fs_read_all(at(state, "f"), 11, &got, &len), 0);
    assert_int_equal(len, 11);
    assert_string_equal(got, "0123456789A");
    free(got);
}

static void fs_read_all__returns_enoent_for_a_missing_file(void **state)
{
    char *got = NULL;
    size_t len = 0;

    assert_int_equal(fs_read_all(at(state, "missing"), 10, &got, &len), -ENOENT);
    assert_null(got);
}

/* ---- fs_rm_rf ---- */

static void fs_rm_rf__removes_a_whole_tree(void **state)
{
    assert_int_equal(fs_mkdir_p(at(state, "tree/a/b/c"), 0700), 0);
    assert_int_equal(fs_mkdir_p(at(state, "tree/empty"), 0700), 0);
    write_file(at(state, "tree/top"), "1");
    write_file(at(state, "tree/a/mid"), "2");
    write_file(at(state, "tree/a/b/c/deep"), "3");
    assert_int_equal(fs_rm_rf(at(state, "tree")), 0);
    assert_false(exists(at(state, "tree")));
    assert_int_equal(count_entries(*state), 0);
}

static void fs_rm_rf__removes_symlinks_without_following_them(void **state)
{
    assert_int_equal(fs_mkdir_p(at(state, "outside"), 0700), 0);
    write_file(at(state, "outside/keep"), "keep me");
    assert_int_equal(fs_mkdir_p(at(state, "tree"), 0700), 0);
    assert_int_equal(symlink(at(state, "outside"), at(state, "tree/link")), 0);
    assert_int_equal(fs_rm_rf(at(state, "tree")), 0);
    assert_false(exists(at(state, "tree")));
    assert_true(exists(at(state, "outside/keep")));
}

static void fs_rm_rf__removes_a_single_file(void **state)
{
    write_file(at(state, "f"), "x");
    assert_int_equal(fs_rm_rf(at(state, "f")), 0);
    assert_false(exists(at(state, "f")));
}

static void fs_rm_rf__accepts_a_missing_path(void **state)
{
    assert_int_equal(fs_rm_rf(at(state, "missing")), 0);
    assert_int_equal(fs_rm_rf(at(state, "missing/below")), 0);
}

/* ---- path_join ---- */

static void path_join__puts_one_slash_between(void **state)
{
    char *p = path_join("/a/b", "c.xml");

    (void) state;
    assert_string_equal(p, "/a/b/c.xml");
    free(p);
}


/* ---- fs_copy_tree ---- */

static char *slurp(const char *path)
{
    char *data = NULL;
    size_t len;

    assert_int_equal(fs_read_all(path, 1 << 20, &data, &len), 0);
    return data;
}

static void fs_copy_tree__copies_files_directories_and_symlinks_with_modes_and_times(void **state)
{
    struct fs_copy_stats st = {};
    struct timespec old[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
    struct stat sb;
    char target[64];
    ssize_t n;
    char *data;

    assert_int_equal(fs_mkdir_p(at(state, "src/jobs/a/builds/1/archive/deep"), 0700), 0);
    write_file(at(state, "src/jobs/a/config.xml"), "<project/>\n");
    write_file(at(state, "src/jobs/a/builds/1/log"), "line 1\nline 2\n");
    write_file(at(state, "src/jobs/a/builds/1/archive/deep/out.bin"), "");
    assert_int_equal(chmod(at(state, "src/jobs/a/config.xml"), 0640), 0);
    assert_int_equal(utimensat(AT_FDCWD, at(state, "src/jobs/a/builds/1/log"), old, 0), 0);
    assert_int_equal(symlink("../../config.xml", at(state, "src/jobs/a/builds/1/link")), 0);
    assert_int_equal(chmod(at(state, "src/jobs/a"), 0750), 0);

    assert_int_equal(fs_copy_tree(at(state, "src"), at(state, "dst"), &st), 0);

    data = slurp(at(state, "dst/jobs/a/builds/1/log"));
    assert_string_equal(data, "line 1\nline 2\n");
    free(data);
    data = slurp(at(state, "dst/jobs/a/config.xml"));
    assert_string_equal(data, "<project/>\n");
    free(data);
    assert_true(exists(at(state, "dst/jobs/a/builds/1/archive/deep/out.bin")));
    assert_int_equal(mode_of(at(state, "dst/jobs/a/config.xml")), 0640);
    assert_int_equal(mode_of(at(state, "dst/jobs/a")), 0750);
    assert_int_equal(stat(at(state, "dst/jobs/a/builds/1/log"), &sb), 0);
    assert_int_equal(sb.st_mtim.tv_sec, 1000000000);
    /* the symlink is copied as a symlink, as it reads */
    assert_int_equal(lstat(at(state, "dst/jobs/a/builds/1/link"), &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    n = readlink(at(state, "dst/jobs/a/builds/1/link"), target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "../../config.xml");

    assert_int_equal(st.files, 3);
    assert_int_equal(st.symlinks, 1);
    assert_int_equal(st.dirs, 7);   /* src itself, jobs, a, builds, 1, archive, deep */
    assert_int_equal(st.bytes, strlen("<project/>\n") + strlen("line 1\nline 2\n"));
    assert_int_equal(st.vanished, 0);
}

static void fs_copy_tree__does_not_follow_a_symlink_to_a_directory(void **state)
{
    struct fs_copy_stats st = {};
    struct stat sb;

    assert_int_equal(fs_mkdir_p(at(state, "src"), 0700), 0);
    assert_int_equal(fs_mkdir_p(at(state, "elsewhere"), 0700), 0);
    write_file(at(state, "elsewhere/secret"), "not to be copied");
    assert_int_equal(symlink(at(state, "elsewhere"), at(state, "src/out")), 0);

    assert_int_equal(fs_copy_tree(at(state, "src"), at(state, "dst"), &st), 0);
    assert_int_equal(lstat(at(state, "dst/out"), &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(st.files, 0);
}

static void fs_copy_tree__skips_fifos(void **state)
{
    struct fs_copy_stats st = {};

    assert_int_equal(fs_mkdir_p(at(state, "src"), 0700), 0);
    assert_int_equal(mkfifo(at(state, "src/pipe"), 0600), 0);
    write_file(at(state, "src/file"), "x");

    assert_int_equal(fs_copy_tree(at(state, "src"), at(state, "dst"), &st), 0);
    assert_false(exists(at(state, "dst/pipe")));
    assert_true(exists(at(state, "dst/file")));
    assert_int_equal(st.skipped, 1);
}

static void fs_copy_tree__refuses_an_existing_destination(void **state)
{
    assert_int_equal(fs_mkdir_p(at(state, "src"), 0700), 0);
    assert_int_equal(fs_mkdir_p(at(state, "dst"), 0700), 0);
    write_file(at(state, "src/file"), "x");

    assert_int_equal(fs_copy_tree(at(state, "src"), at(state, "dst"), NULL), -EEXIST);
    assert_int_equal(count_entries(at(state, "dst")), 0);
}

static void fs_copy_tree__fails_for_a_missing_source(void **state)
{
    assert_int_equal(fs_copy_tree(at(state, "nothing"), at(state, "dst"), NULL), -ENOENT);
    assert_false(exists(at(state, "dst")));
}

static void fs_copy_tree__copies_a_readonly_directory_and_keeps_it_readonly(void **state)
{
    assert_int_equal(fs_mkdir_p(at(state, "src/ro"), 0700), 0);
    write_file(at(state, "src/ro/file"), "x");
    assert_int_equal(chmod(at(state, "src/ro"), 0500), 0);

    assert_int_equal(fs_copy_tree(at(state, "src"), at(state, "dst"), NULL), 0);
    assert_true(exists(at(state, "dst/ro/file")));
    assert_int_equal(mode_of(at(state, "dst/ro")), 0500);
    /* so that the teardown can remove them */
    assert_int_equal(chmod(at(state, "src/ro"), 0700), 0);
    assert_int_equal(chmod(at(state, "dst/ro"), 0700), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmpdir, teardown_tmpdir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(fs_mkdir_p__creates_missing_parents_with_the_mode),
        T(fs_mkdir_p__accepts_an_existing_directory),
        T(fs_mkdir_p__accepts_a_trailing_slash_and_doubled_slashes),
        T(fs_mkdir_p__fails_when_a_parent_is_a_file),
        T(fs_mkdir_p__fails_when_the_path_is_a_file),
        T(fs_write_all__writes_everything_and_says_why_not),
        T(fs_write_atomic__round_trips_through_fs_read_all),
        T(fs_write_atomic__creates_the_file_with_the_mode),
        T(fs_write_atomic__replaces_a_file_and_leaves_no_temporary_behind),
        T(fs_write_atomic__writes_an_empty_file),
        T(fs_write_atomic__fails_in_a_missing_directory_and_leaves_nothing),
        T(fs_read_all__refuses_a_file_past_max_with_e2big),
        T(fs_read_all__returns_enoent_for_a_missing_file),
        T(fs_rm_rf__removes_a_whole_tree),
        T(fs_rm_rf__removes_symlinks_without_following_them),
        T(fs_rm_rf__removes_a_single_file),
        T(fs_rm_rf__accepts_a_missing_path),
        T(fs_copy_tree__copies_files_directories_and_symlinks_with_modes_and_times),
        T(fs_copy_tree__does_not_follow_a_symlink_to_a_directory),
        T(fs_copy_tree__skips_fifos),
        T(fs_copy_tree__refuses_an_existing_destination),
        T(fs_copy_tree__fails_for_a_missing_source),
        T(fs_copy_tree__copies_a_readonly_directory_and_keeps_it_readonly),
        cmocka_unit_test(path_join__puts_one_slash_between),
    };

    /* modes below are checked as given, so keep the usual umask */
    (void) umask(022);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
