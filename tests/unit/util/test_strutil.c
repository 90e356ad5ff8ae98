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
#include <jansson.h>

#include "util/buf.h"
#include "util/macro.h"
#include "util/strutil.h"

/* Decodes a copy of `in` (all of it) and returns the result code; *out gets the text. */
static int decode_form(const char *in, char *out, size_t size)
{
    size_t len = strlen(in);

    assert_true(len < size);
    memcpy(out, in, len + 1);
    return url_decode_inplace(out, len);
}

static int decode_path(const char *in, char *out, size_t size)
{
    size_t len = strlen(in);

    assert_true(len < size);
    memcpy(out, in, len + 1);
    return url_decode_path_inplace(out, len);
}

/* ---- url_decode_inplace ---- */

static void url_decode_inplace__turns_plus_into_space(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_form("a+b++c+", s, sizeof s), 7);
    assert_string_equal(s, "a b  c ");
}

static void url_decode_inplace__decodes_percent_escapes_in_either_case(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_form("%41%2f%2F%e2%82%AC", s, sizeof s), 6);
    assert_string_equal(s, "A//\xe2\x82\xac");
}

static void url_decode_inplace__turns_an_escaped_plus_into_a_plus(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_form("1%2B1%3D2", s, sizeof s), 5);
    assert_string_equal(s, "1+1=2");
}

static void url_decode_inplace__decodes_an_escape_that_ends_the_input(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_form("x%41", s, sizeof s), 2);
    assert_string_equal(s, "xA");
    assert_int_equal(decode_form("%41", s, sizeof s), 1);
    assert_string_equal(s, "A");
}

static void url_decode_inplace__leaves_plain_text_alone(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_form("plain-text_1.2~", s, sizeof s), 15);
    assert_string_equal(s, "plain-text_1.2~");
    assert_int_equal(decode_form("", s, sizeof s), 0);
    assert_string_equal(s, "");
}

static void url_decode_inplace__refuses_a_percent_at_the_end(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_form("abc%", s, sizeof s), -EINVAL);
    assert_int_equal(decode_form("%", s, sizeof s), -EINVAL);
}

static void url_decode_inplace__refuses_a_truncated_escape_at_the_end(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_form("abc%4", s, sizeof s), -EINVAL);
    assert_int_equal(decode_form("%4", s, sizeof s), -EINVAL);
}

static void url_decode_inplace__refuses_escapes_that_are_not_hex(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_form("%zz", s, sizeof s), -EINVAL);
    assert_int_equal(decode_form("%4g", s, sizeof s), -EINVAL);
    assert_int_equal(decode_form("%g4", s, sizeof s), -EINVAL);
    assert_int_equal(decode_form("a%%41", s, sizeof s), -EINVAL);
    assert_int_equal(decode_form("%+1", s, sizeof s), -EINVAL);
    assert_int_equal(decode_form("% 1", s, sizeof s), -EINVAL);
}

static void url_decode_inplace__refuses_an_embedded_nul(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_form("a%00b", s, sizeof s), -EINVAL);
    assert_int_equal(decode_form("%00", s, sizeof s), -EINVAL);
}

static void url_decode_inplace__refuses_a_raw_nul_inside_len(void **state)
{
    char s[] = { 'a', '\0', 'b', '\0' };

    (void) state;
    assert_int_equal(url_decode_inplace(s, 3), -EINVAL);
}

static void url_decode_inplace__reads_only_len_bytes(void **state)
{
    char s[] = "ab%41";
    char t[] = "a%41tail";

    (void) state;
    /* "ab%4" is all it may look at: the '1' after it is not part of the input */
    assert_int_equal(url_decode_inplace(s, 4), -EINVAL);
    assert_int_equal(url_decode_inplace(t, 4), 2);
    assert_string_equal(t, "aA");
}

/* ---- url_decode_path_inplace ---- */

static void url_decode_path_inplace__keeps_plus(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_path("c++%20tools+x", s, sizeof s), 11);
    assert_string_equal(s, "c++ tools+x");
}

static void url_decode_path_inplace__refuses_bad_escapes_and_nul(void **state)
{
    char s[64];

    (void) state;
    assert_int_equal(decode_path("a%", s, sizeof s), -EINVAL);
    assert_int_equal(decode_path("a%2", s, sizeof s), -EINVAL);
    assert_int_equal(decode_path("a%x2", s, sizeof s), -EINVAL);
    assert_int_equal(decode_path("a%00", s, sizeof s), -EINVAL);
    assert_int_equal(decode_path("%2e%2E", s, sizeof s), 2);
    assert_string_equal(s, "..");
}

/* ---- url_encode ---- */

static void url_encode__keeps_unreserved_characters(void **state)
{
    struct buf b = BUF_INIT(1024);
    const char *unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";

    (void) state;
    assert_int_equal(url_encode(&b, unreserved), 0);
    assert_string_equal(buf_str(&b), unreserved);
    buf_release(&b);
}

static void url_encode__escapes_everything_else_in_uppercase_hex(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(url_encode(&b, " /?&=+%#:;@!$'\"<>"), 0);
    assert_string_equal(buf_str(&b),
                        "%20%2F%3F%26%3D%2B%25%23%3A%3B%40%21%24%27%22%3C%3E");
    buf_clear(&b);
    assert_int_equal(url_encode(&b, "caf\xc3\xa9\x7f\x01"), 0);
    assert_string_equal(buf_str(&b), "caf%C3%A9%7F%01");
    buf_release(&b);
}

static void url_encode__appends_to_what_is_there(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(buf_puts(&b, "job/"), 0);
    assert_int_equal(url_encode(&b, "a b"), 0);
    assert_string_equal(buf_str(&b), "job/a%20b");
    buf_release(&b);
}

static void url_encode__round_trips_every_byte_through_url_decode(void **state)
{
    struct buf b = BUF_INIT(4096);
    char all[256];
    char *s;
    int n;

    (void) state;
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char) i;
    all[255] = '\0';
    assert_int_equal(url_encode(&b, all), 0);
    s = strdup(buf_str(&b));
    assert_non_null(s);
    n = url_decode_inplace(s, strlen(s));
    assert_int_equal(n, 255);
    assert_memory_equal(s, all, 256);
    free(s);
    buf_release(&b);
}

static void url_encode__returns_e2big_when_the_buffer_is_full(void **state)
{
    struct buf b = BUF_INIT(4);

    (void) state;
    assert_int_equal(url_encode(&b, "a b"), -E2BIG);
    assert_int_equal(url_encode(&b, "abcdef"), -E2BIG);
    buf_release(&b);
}

/* ---- json_quote ---- */

/* what jansson's compact dump gives for s */
static char *
jansson_quote(const char *s)
{
    json_t *v = json_string(s);
    char *d;

    assert_non_null(v);
    d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    assert_non_null(d);
    return d;
}

static void json_quote__writes_every_ascii_byte_as_jansson_does(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    for (int c = 1; c < 0x80; c++) {
        char s[4] = { 'a', (char) c, 'z', 0 };
        _cleanup_free_ char *want = jansson_quote(s);

        buf_clear(&b);
        assert_int_equal(json_quote(&b, s), 0);
        assert_string_equal(buf_str(&b), want);
    }
    buf_release(&b);
}

static void json_quote__keeps_utf8_and_slashes_and_appends(void **state)
{
    static const char *const cases[] = { "", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
                                         "\xe2\x80\xa8", "http://h:8080/job/a%20b/",
                                         "\"\\\n\x01\x1f end", NULL };
    struct buf b = BUF_INIT(1024);

    (void) state;
    for (size_t i = 0; cases[i]; i++) {
        _cleanup_free_ char *want = jansson_quote(cases[i]);

        buf_clear(&b);
        assert_int_equal(buf_puts(&b, "x:"), 0);
        assert_int_equal(json_quote(&b, cases[i]), 0);
        assert_string_equal(buf_str(&b) + 2, want);
    }
    buf_release(&b);
}

static void json_quote__returns_e2big_when_the_buffer_is_full(void **state)
{
    struct buf b = BUF_INIT(6);

    (void) state;
    assert_int_equal(json_quote(&b, "abcdefgh"), -E2BIG);
    buf_clear(&b);
    assert_int_equal(json_quote(&b, "\x01\x02"), -E2BIG);
    buf_release(&b);
}

/* ---- parse_int64 ---- */

static void parse_int64__accepts_values_within_the_bounds(void **state)
{
    int64_t v = 99;

    (void) state;
    assert_int_equal(parse_int64("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(parse_int64("10", 0, 10, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(parse_int64("-5", -5, 5, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(parse_int64("007", 0, 10, &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(parse_int64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(parse_int64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);
}

static void parse_int64__refuses_values_outside_the_bounds_with_erange(void **state)
{
    int64_t v = 99;

    (void) state;
    assert_int_equal(parse_int64("11", 0, 10, &v), -ERANGE);
    assert_int_equal(parse_int64("-1", 0, 10, &v), -ERANGE);
    assert_int_equal(parse_int64("9223372036854775808", INT64_MIN, INT64_MAX, &v), -ERANGE);
    assert_int_equal(parse_int64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), -ERANGE);
    assert_int_equal(parse_int64("99999999999999999999999", 0, 10, &v), -ERANGE);
    assert_int_equal(v, 99);
}

static void parse_int64__refuses_garbage_with_einval(void **state)
{
    static const char *const bad[] = {
        "", " 1", "1 ", "+1", "1x", "x1", "0x10", "-", "--1", "- 1", "1.5", "1e3", "\t7", "1\n",
    };
    int64_t v = 99;

    (void) state;
    assert_int_equal(parse_int64(NULL, 0, 10, &v), -EINVAL);
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        if (parse_int64(bad[i], INT64_MIN, INT64_MAX, &v) != -EINVAL)
            fail_msg("parse_int64(\"%s\") was not refused with -EINVAL", bad[i]);
    }
    assert_int_equal(v, 99);
}

/* ---- utf8_is_valid ---- */

#define U8(lit) utf8_is_valid((lit), sizeof(lit) - 1)

static void utf8_is_valid__accepts_ascii_and_every_sequence_length(void **state)
{
    (void) state;
    assert_true(U8(""));
    assert_true(U8("plain ascii ~"));
    assert_true(U8("\xc2\x80"));             /* U+0080, smallest 2-byte */
    assert_true(U8("\xc3\xa9t\xc3\xa9"));     /* été */
    assert_true(U8("\xdf\xbf"));             /* U+07FF */
    assert_true(U8("\xe0\xa0\x80"));         /* U+0800, smallest 3-byte */
    assert_true(U8("\xe2\x82\xac"));         /* € */
    assert_true(U8("\xed\x9f\xbf"));         /* U+D7FF, just below the surrogates */
    assert_true(U8("\xee\x80\x80"));         /* U+E000, just above them */
    assert_true(U8("\xef\xbf\xbf"));         /* U+FFFF */
    assert_true(U8("\xf0\x90\x80\x80"));     /* U+10000, smallest 4-byte */
    assert_true(U8("\xf0\x9f\x98\x80"));     /* 😀 */
    assert_true(U8("\xf4\x8f\xbf\xbf"));     /* U+10FFFF, the last code point */
    assert_true(U8("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e")); /* 日本語 */
}

static void utf8_is_valid__refuses_overlong_encodings(void **state)
{
    (void) state;
    assert_false(U8("\xc0\x80"));            /* NUL in two bytes */
    assert_false(U8("\xc0\xaf"));            /* '/' in two bytes */
    assert_false(U8("\xc1\xbf"));
    assert_false(U8("\xe0\x80\x80"));
    assert_false(U8("\xe0\x80\xaf"));        /* '/' in three bytes */
    assert_false(U8("\xe0\x9f\xbf"));        /* U+07FF in three bytes */
    assert_false(U8("\xf0\x80\x80\x80"));
    assert_false(U8("\xf0\x8f\xbf\xbf"));    /* U+FFFF in four bytes */
}

static void utf8_is_valid__refuses_surrogates(void **state)
{
    (void) state;
    assert_false(U8("\xed\xa0\x80"));        /* U+D800 */
    assert_false(U8("\xed\xaf\xbf"));        /* U+DBFF */
    assert_false(U8("\xed\xb0\x80"));        /* U+DC00 */
    assert_false(U8("\xed\xbf\xbf"));        /* U+DFFF */
    assert_false(U8("\xed\xa0\xbd\xed\xb8\x80")); /* CESU-8 pair */
}

static void utf8_is_valid__refuses_code_points_past_u10ffff_and_bad_lead_bytes(void **state)
{
    (void) state;
    assert_false(U8("\xf4\x90\x80\x80"));    /* U+110000 */
    assert_false(U8("\xf5\x80\x80\x80"));
    assert_false(U8("\xf7\xbf\xbf\xbf"));
    assert_false(U8("\xf8\x88\x80\x80\x80")); /* 5-byte form */
    assert_false(U8("\xfc\x84\x80\x80\x80\x80"));
    assert_false(U8("\xfe"));
    assert_false(U8("\xff"));
}

static void utf8_is_valid__refuses_truncated_sequences(void **state)
{
    (void) state;
    assert_false(U8("\xc3"));
    assert_false(U8("ab\xc3"));
    assert_false(U8("\xe2\x82"));
    assert_false(U8("\xf0\x9f\x98"));
    assert_false(U8("\xe2\x82" "A"));        /* cut short by an ASCII byte */
    assert_false(U8("\xf0\x9f" "ab"));
    assert_false(U8("\xc3\xc3\xa9"));        /* a lead byte where a continuation belongs */
}

static void utf8_is_valid__refuses_lone_continuation_bytes(void **state)
{
    (void) state;
    assert_false(U8("\x80"));
    assert_false(U8("a\xbf"));
    assert_false(U8("\xc3\xa9\xa9"));
}

static void utf8_is_valid__refuses_nul(void **state)
{
    (void) state;
    assert_false(utf8_is_valid("a\0b", 3));
    assert_false(utf8_is_valid("\0", 1));
}

static void utf8_is_valid__looks_at_len_bytes_only(void **state)
{
    (void) state;
    assert_false(utf8_is_valid("\xc3\xa9", 1));   /* cut in the middle */
    assert_true(utf8_is_valid("ab\xff", 2));      /* bad byte beyond len */
}

/* ---- startswith ---- */

static void startswith__compares_the_prefix_only(void **state)
{
    (void) state;
    assert_true(startswith("foobar", "foo"));
    assert_true(startswith("foo", "foo"));
    assert_true(startswith("foo", ""));
    assert_true(startswith("", ""));
    assert_false(startswith("foo", "foobar"));
    assert_false(startswith("barfoo", "foo"));
    assert_false(startswith("", "x"));
    assert_false(startswith("Foo", "foo"));
}

/* ---- clocks ---- */

static void now_ms__is_the_wall_clock_in_milliseconds(void **state)
{
    int64_t a, b;

    (void) state;
    a = now_ms();
    assert_true(a > INT64_C(1600000000000)); /* after September 2020 */
    assert_true(a < INT64_C(4102444800000)); /* before 2100 */
    b = mono_ms();
    assert_true(mono_ms() >= b);
}

/* ---- rfmt ---- */

static void rfmt__formats_like_printf(void **state)
{
    (void) state;
    assert_string_equal(rfmt("%s=%d (%c)", "x", -3, 'y'), "x=-3 (y)");
    assert_string_equal(rfmt("%s", ""), "");
}

static void rfmt__keeps_a_result_until_the_fourth_next_call(void **state)
{
    const char *a, *b, *c, *d;

    (void) state;
    a = rfmt("first %d", 1);
    b = rfmt("second %d", 2);
    c = rfmt("third %d", 3);
    d = rfmt("fourth %d", 4);
    assert_string_equal(a, "first 1");
    assert_string_equal(b, "second 2");
    assert_string_equal(c, "third 3");
    assert_string_equal(d, "fourth 4");
}

static void rfmt__cuts_long_output_at_1_kib(void **state)
{
    char big[3000];
    const char *s;

    (void) state;
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s = rfmt("<%s>", big);
    assert_int_equal(strlen(s), 1023);
    assert_int_equal(s[0], '<');
    assert_int_equal(s[1022], 'q');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_decode_inplace__turns_plus_into_space),
        cmocka_unit_test(url_decode_inplace__decodes_percent_escapes_in_either_case),
        cmocka_unit_test(url_decode_inplace__turns_an_escaped_plus_into_a_plus),
        cmocka_unit_test(url_decode_inplace__decodes_an_escape_that_ends_the_input),
        cmocka_unit_test(url_decode_inplace__leaves_plain_text_alone),
        cmocka_unit_test(url_decode_inplace__refuses_a_percent_at_the_end),
        cmocka_unit_test(url_decode_inplace__refuses_a_truncated_escape_at_the_end),
        cmocka_unit_test(url_decode_inplace__refuses_escapes_that_are_not_hex),
        cmocka_unit_test(url_decode_inplace__refuses_an_embedded_nul),
        cmocka_unit_test(url_decode_inplace__refuses_a_raw_nul_inside_len),
        cmocka_unit_test(url_decode_inplace__reads_only_len_bytes),
        cmocka_unit_test(url_decode_path_inplace__keeps_plus),
        cmocka_unit_test(url_decode_path_inplace__refuses_bad_escapes_and_nul),
        cmocka_unit_test(url_encode__keeps_unreserved_characters),
        cmocka_unit_test(url_encode__escapes_everything_else_in_uppercase_hex),
        cmocka_unit_test(url_encode__appends_to_what_is_there),
        cmocka_unit_test(url_encode__round_trips_every_byte_through_url_decode),
        cmocka_unit_test(url_encode__returns_e2big_when_the_buffer_is_full),
        cmocka_unit_test(json_quote__writes_every_ascii_byte_as_jansson_does),
        cmocka_unit_test(json_quote__keeps_utf8_and_slashes_and_appends),
        cmocka_unit_test(json_quote__returns_e2big_when_the_buffer_is_full),
        cmocka_unit_test(parse_int64__accepts_values_within_the_bounds),
        cmocka_unit_test(parse_int64__refuses_values_outside_the_bounds_with_erange),
        cmocka_unit_test(parse_int64__refuses_garbage_with_einval),
        cmocka_unit_test(utf8_is_valid__accepts_ascii_and_every_sequence_length),
        cmocka_unit_test(utf8_is_valid__refuses_overlong_encodings),
        cmocka_unit_test(utf8_is_valid__refuses_surrogates),
        cmocka_unit_test(utf8_is_valid__refuses_code_points_past_u10ffff_and_bad_lead_bytes),
        cmocka_unit_test(utf8_is_valid__refuses_truncated_sequences),
        cmocka_unit_test(utf8_is_valid__refuses_lone_continuation_bytes),
        cmocka_unit_test(utf8_is_valid__refuses_nul),
        cmocka_unit_test(utf8_is_valid__looks_at_len_bytes_only),
        cmocka_unit_test(startswith__compares_the_prefix_only),
        cmocka_unit_test(now_ms__is_the_wall_clock_in_milliseconds),
        cmocka_unit_test(rfmt__formats_like_printf),
        cmocka_unit_test(rfmt__keeps_a_result_until_the_fourth_next_call),
        cmocka_unit_test(rfmt__cuts_long_output_at_1_kib),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
