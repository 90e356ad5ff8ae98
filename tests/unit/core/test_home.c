/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <ftw.h>
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

#include "core/home.h"
#include "util/fs.h"
#include "util/macro.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int setup(void **state)
{
    char tmpl[] = "/tmp/steward-test-home-XXXXXX";
    struct home *h = NULL;

    if (!mkdtemp(tmpl) || home_open(tmpl, &h) < 0)
        return -1;
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    struct home *h = *state;

    (void) nftw(h->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    home_free(h);
    return 0;
}

static void home_lock__refuses_a_second_holder_and_names_the_first(void **state)
{
    struct home *h = *state;
    _cleanup_free_ char *path = path_join(h->root, ".lock");
    _cleanup_free_ char *pidline = NULL;
    char want[32];
    int fd = -1, fd2 = -1;
    pid_t holder = 0;
    size_t len;

    assert_int_equal(home_lock(h, &fd, &holder), 0);
    assert_true(fd >= 0);
    /* a lock is per open file: a second open, even in this process, is another holder */
    assert_int_equal(home_lock(h, &fd2, &holder), -EBUSY);
    assert_int_equal(fd2, -1);
    assert_int_equal(holder, getpid());
    assert_int_equal(fs_read_all(path, 64, &pidline, &len), 0);
    snprintf(want, sizeof want, "%d\n", (int) getpid());
    assert_string_equal(pidline, want);
    close(fd);
}

static void home_lock__is_free_again_once_the_holder_closes_it(void **state)
{
    struct home *h = *state;
    int fd = -1, fd2 = -1;
    pid_t holder = 0;

    assert_int_equal(home_lock(h, &fd, &holder), 0);
    close(fd);
    assert_int_equal(home_lock(h, &fd2, &holder), 0);
    close(fd2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(home_lock__refuses_a_second_holder_and_names_the_first,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(home_lock__is_free_again_once_the_holder_closes_it,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
