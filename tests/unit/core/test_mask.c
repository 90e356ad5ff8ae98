/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/mask.h"

/* What the log (a memory file) holds. */
static char *log_text(int fd)
{
    off_t len = lseek(fd, 0, SEEK_END);
    char *s = calloc(1, (size_t) len + 1);

    assert_non_null(s);
    assert_int_equal(pread(fd, s, (size_t) len, 0), len);
    return s;
}

/* Writes each piece into the pipe and pumps after each, as the engine would on epoll. */
static char *mask_pieces(const char *const *secrets, size_t n_secrets, const char *const *pieces,
                         size_t n_pieces)
{
    int logfd = memfd_create("log", 0), wfd;
    struct mask *m = NULL;
    char *text;

    assert_true(logfd >= 0);
    assert_int_equal(mask_new(logfd, secrets, n_secrets, &m, &wfd), 0);
    for (size_t i = 0; i < n_pieces; i++) {
        assert_int_equal(write(wfd, pieces[i], strlen(pieces[i])), (ssize_t) strlen(pieces[i]));
        assert_int_equal(mask_pump(m), 0);
    }
    mask_flush(m);
    mask_free(m);
    text = log_text(logfd);
    close(logfd);
    return text;
}

#define PIECES(...)                                                                          \
    (const char *const[]){ __VA_ARGS__ },                                                    \
        sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *)

static void mask__replaces_every_value(void **state)
{
    char *t = mask_pieces(PIECES("hunter2", "s3cr3t"), PIECES("a hunter2 b s3cr3t c hunter2\n"));

    (void) state;
    assert_string_equal(t, "a **** b **** c ****\n");
    free(t);
}

static void mask__finds_a_value_cut_between_two_reads(void **state)
{
    char *t = mask_pieces(PIECES("hunter2"), PIECES("pw=hun", "t", "er2 done\n"));

    (void) state;
    assert_string_equal(t, "pw=**** done\n");
    free(t);
}

static void mask__lets_a_false_start_through_as_it_was(void **state)
{
    char *t = mask_pieces(PIECES("hunter2"), PIECES("hunt", "ed hun", "\n", "hun"));

    (void) state;
    /* the last "hun" ends the output: flushed, not masked */
    assert_string_equal(t, "hunted hun\nhun");
    free(t);
}

static void mask__prefers_the_longest_of_overlapping_values(void **state)
{
    char *t = mask_pieces(PIECES("abc", "abcdef"), PIECES("xabcdefy abcz\n"));

    (void) state;
    assert_string_equal(t, "x****y ****z\n");
    free(t);
}

static void mask__skips_empty_values_and_passes_binary_data(void **state)
{
    static const char bin[] = { 'a', '\0', 'b', '\xff', '\n' };
    int logfd = memfd_create("log", 0), wfd;
    struct mask *m = NULL;
    char out[sizeof bin];

    (void) state;
    assert_int_equal(mask_new(logfd, (const char *const[]){ "", "zz" }, 2, &m, &wfd), 0);
    assert_int_equal(write(wfd, bin, sizeof bin), (ssize_t) sizeof bin);
    assert_int_equal(mask_pump(m), 0);
    mask_free(m);
    assert_int_equal(pread(logfd, out, sizeof out, 0), (ssize_t) sizeof out);
    assert_memory_equal(out, bin, sizeof bin);
    close(logfd);
}

static void mask__large_output_goes_through_whole(void **state)
{
    int logfd = memfd_create("log", 0), wfd;
    struct mask *m = NULL;
    char chunk[4096];
    size_t total = 0;
    char *t;

    (void) state;
    memset(chunk, 'x', sizeof chunk);
    memcpy(chunk + 100, "key-123", 7);
    assert_int_equal(mask_new(logfd, (const char *const[]){ "key-123" }, 1, &m, &wfd), 0);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(write(wfd, chunk, sizeof chunk), (ssize_t) sizeof chunk);
        assert_int_equal(mask_pump(m), 0);
        total += sizeof chunk - 7 + 4;
    }
    mask_flush(m);
    mask_free(m);
    t = log_text(logfd);
    assert_int_equal(strlen(t), total);
    assert_null(strstr(t, "key-123"));
    free(t);
    close(logfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mask__replaces_every_value),
        cmocka_unit_test(mask__finds_a_value_cut_between_two_reads),
        cmocka_unit_test(mask__lets_a_false_start_through_as_it_was),
        cmocka_unit_test(mask__prefers_the_longest_of_overlapping_values),
        cmocka_unit_test(mask__skips_empty_values_and_passes_binary_data),
        cmocka_unit_test(mask__large_output_goes_through_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
