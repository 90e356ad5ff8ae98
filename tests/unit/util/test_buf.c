/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/macro.h"

static void buf_str__of_a_fresh_buffer_is_empty(void **state)
{
    struct buf b = BUF_INIT(16);

    (void) state;
    assert_non_null(buf_str(&b));
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(b.len, 0);
}

static void buf_append__grows_past_the_initial_capacity(void **state)
{
    struct buf b = BUF_INIT(1 << 20);
    char want[5000];

    (void) state;
    for (size_t i = 0; i < sizeof want; i++) {
        want[i] = (char) ('a' + i % 26);
        assert_int_equal(buf_append(&b, &want[i], 1), 0);
        assert_int_equal(b.len, i + 1);
        assert_true(b.cap > b.len);
        assert_int_equal(b.ptr[b.len], '\0');
    }
    assert_memory_equal(b.ptr, want, sizeof want);
    assert_int_equal(strlen(buf_str(&b)), sizeof want);
    buf_release(&b);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
}

static void buf_append__keeps_embedded_nul_bytes(void **state)
{
    struct buf b = BUF_INIT(64);
    static const char data[] = { 'a', '\0', 'b' };

    (void) state;
    assert_int_equal(buf_append(&b, data, sizeof data), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.ptr, data, 3);
    assert_int_equal(b.ptr[3], '\0');
    buf_release(&b);
}

static void buf_append__fills_up_to_exactly_the_maximum(void **state)
{
    struct buf b = BUF_INIT(10);

    (void) state;
    assert_int_equal(buf_puts(&b, "0123456789"), 0);
    assert_int_equal(b.len, 10);
    assert_string_equal(buf_str(&b), "0123456789");
    buf_release(&b);
}

static void buf_append__past_the_maximum_returns_e2big_and_leaves_the_buffer_unchanged(void **state)
{
    struct buf b = BUF_INIT(10);
    char *before;

    (void) state;
    assert_int_equal(buf_puts(&b, "hello"), 0);
    before = b.ptr;
    assert_int_equal(buf_puts(&b, "world!"), -E2BIG);
    assert_int_equal(b.len, 5);
    assert_ptr_equal(b.ptr, before);
    assert_string_equal(buf_str(&b), "hello");

    assert_int_equal(buf_puts(&b, "world"), 0);
    assert_int_equal(buf_putc(&b, '!'), -E2BIG);
    assert_int_equal(buf_append(&b, "x", 1), -E2BIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(buf_str(&b), "helloworld");
    buf_release(&b);
}

static void buf_append__refuses_a_length_that_would_overflow(void **state)
{
    struct buf b = BUF_INIT(16);

    (void) state;
    assert_int_equal(buf_puts(&b, "abc"), 0);
    /* the data pointer is never read when the size is refused */
    assert_int_equal(buf_append(&b, "x", SIZE_MAX), -E2BIG);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX - 1), -E2BIG);
    assert_string_equal(buf_str(&b), "abc");
    buf_release(&b);
}

static void buf_printf__formats_and_appends(void **state)
{
    struct buf b = BUF_INIT(4096);
    char big[300];

    (void) state;
    assert_int_equal(buf_puts(&b, ">"), 0);
    assert_int_equal(buf_printf(&b, "%s-%d-%05.1f", "job", -42, 3.14159), 0);
    assert_string_equal(buf_str(&b), ">job--42-003.1");

    /* longer than the first allocation, so printf has to grow the buffer */
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 14 + 2 + 299);
    assert_int_equal(b.ptr[14], '[');
    assert_int_equal(b.ptr[b.len - 1], ']');
    assert_int_equal(b.ptr[b.len], '\0');
    buf_release(&b);
}

static void buf_printf__of_nothing_gives_an_empty_string(void **state)
{
    struct buf b = BUF_INIT(8);

    (void) state;
    assert_int_equal(buf_printf(&b, "%s", ""), 0);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_release(&b);
}

static void buf_printf__past_the_maximum_returns_e2big_and_leaves_the_buffer_unchanged(void **state)
{
    struct buf b = BUF_INIT(10);

    (void) state;
    assert_int_equal(buf_printf(&b, "%d", 12345), 0);
    assert_int_equal(buf_printf(&b, "%d", 123456), -E2BIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(buf_str(&b), "12345");
    assert_int_equal(buf_printf(&b, "%s", "abcde"), 0);
    assert_string_equal(buf_str(&b), "12345abcde");
    buf_release(&b);
}

static void buf_detach__of_an_empty_buffer_gives_an_empty_string(void **state)
{
    struct buf b = BUF_INIT(16);
    char *s;

    (void) state;
    s = buf_detach(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);

    /* even when the maximum is zero */
    b = BUF_INIT(0);
    s = buf_detach(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void buf_detach__of_a_cleared_buffer_gives_an_empty_string(void **state)
{
    struct buf b = BUF_INIT(64);
    char *s;

    (void) state;
    assert_int_equal(buf_puts(&b, "garbage"), 0);
    buf_clear(&b);
    s = buf_detach(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void buf_detach__hands_over_the_content_and_leaves_the_buffer_empty(void **state)
{
    struct buf b = BUF_INIT(64);
    char *s;

    (void) state;
    assert_int_equal(buf_puts(&b, "content"), 0);
    s = buf_detach(&b);
    assert_string_equal(s, "content");
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_string_equal(buf_str(&b), "");

    /* the buffer is reusable, with the same maximum */
    assert_int_equal(buf_puts(&b, "again"), 0);
    assert_string_equal(buf_str(&b), "again");
    assert_string_equal(s, "content");
    free(s);
    buf_release(&b);
}

static void buf_truncate__drops_the_tail_and_never_grows(void **state)
{
    struct buf b = BUF_INIT(64);

    (void) state;
    buf_truncate(&b, 3);   /* a fresh buffer: nothing to do */
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_puts(&b, "abcdef"), 0);
    buf_truncate(&b, 10);
    assert_string_equal(buf_str(&b), "abcdef");
    buf_truncate(&b, 2);
    assert_int_equal(b.len, 2);
    assert_string_equal(buf_str(&b), "ab");
    assert_int_equal(buf_puts(&b, "x"), 0);
    assert_string_equal(buf_str(&b), "abx");
    buf_release(&b);
}

static void buf_clear__empties_the_buffer_and_keeps_its_memory(void **state)
{
    struct buf b = BUF_INIT(64);
    char *mem;
    size_t cap;

    (void) state;
    assert_int_equal(buf_puts(&b, "something"), 0);
    mem = b.ptr;
    cap = b.cap;
    buf_clear(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_ptr_equal(b.ptr, mem);
    assert_int_equal(b.cap, cap);

    assert_int_equal(buf_puts(&b, "new"), 0);
    assert_string_equal(buf_str(&b), "new");
    buf_release(&b);
}

static void buf_clear__frees_room_up_to_the_maximum_again(void **state)
{
    struct buf b = BUF_INIT(4);

    (void) state;
    assert_int_equal(buf_puts(&b, "abcd"), 0);
    assert_int_equal(buf_putc(&b, 'e'), -E2BIG);
    buf_clear(&b);
    assert_int_equal(buf_puts(&b, "efgh"), 0);
    assert_string_equal(buf_str(&b), "efgh");
    buf_release(&b);
}

static void buf_clear__of_a_fresh_buffer_is_harmless(void **state)
{
    struct buf b;

    (void) state;
    buf_init(&b, 32);
    assert_int_equal(b.max, 32);
    buf_clear(&b);
    assert_null(b.ptr);
    assert_string_equal(buf_str(&b), "");
    buf_release(&b);
    buf_release(&b);
}

static void buf_take_memory__writes_into_the_given_memory_and_grows_past_it(void **state)
{
    struct buf b;
    char *mem = malloc(16);

    (void) state;
    assert_non_null(mem);
    memset(mem, 'x', 16);
    buf_init(&b, 64);
    buf_take_memory(&b, mem, 16);
    /* what the memory held before is not content */
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_puts(&b, "fifteen bytes!!"), 0);
    assert_ptr_equal(b.ptr, mem);
    assert_string_equal(buf_str(&b), "fifteen bytes!!");
    assert_int_equal(buf_puts(&b, " and more"), 0);
    assert_string_equal(buf_str(&b), "fifteen bytes!! and more");
    assert_int_equal(b.len, 24);
    buf_release(&b);
}

static void buf_take_memory__replaces_the_memory_of_a_cleared_buffer(void **state)
{
    struct buf b;
    char *mem = malloc(32), *p;

    (void) state;
    assert_non_null(mem);
    buf_init(&b, 64);
    assert_int_equal(buf_puts(&b, "old"), 0);
    buf_clear(&b);
    buf_take_memory(&b, mem, 32);
    assert_int_equal(buf_puts(&b, "new"), 0);
    p = buf_detach(&b);
    assert_ptr_equal(p, mem);
    assert_string_equal(p, "new");
    assert_null(b.ptr);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_str__of_a_fresh_buffer_is_empty),
        cmocka_unit_test(buf_append__grows_past_the_initial_capacity),
        cmocka_unit_test(buf_append__keeps_embedded_nul_bytes),
        cmocka_unit_test(buf_append__fills_up_to_exactly_the_maximum),
        cmocka_unit_test(buf_append__past_the_maximum_returns_e2big_and_leaves_the_buffer_unchanged),
        cmocka_unit_test(buf_append__refuses_a_length_that_would_overflow),
        cmocka_unit_test(buf_printf__formats_and_appends),
        cmocka_unit_test(buf_printf__of_nothing_gives_an_empty_string),
        cmocka_unit_test(buf_printf__past_the_maximum_returns_e2big_and_leaves_the_buffer_unchanged),
        cmocka_unit_test(buf_detach__of_an_empty_buffer_gives_an_empty_string),
        cmocka_unit_test(buf_detach__of_a_cleared_buffer_gives_an_empty_string),
        cmocka_unit_test(buf_detach__hands_over_the_content_and_leaves_the_buffer_empty),
        cmocka_unit_test(buf_truncate__drops_the_tail_and_never_grows),
        cmocka_unit_test(buf_clear__empties_the_buffer_and_keeps_its_memory),
        cmocka_unit_test(buf_clear__frees_room_up_to_the_maximum_again),
        cmocka_unit_test(buf_clear__of_a_fresh_buffer_is_harmless),
        cmocka_unit_test(buf_take_memory__writes_into_the_given_memory_and_grows_past_it),
        cmocka_unit_test(buf_take_memory__replaces_the_memory_of_a_cleared_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
