/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/html.h"
#include "util/macro.h"

static void html_raw__appends_markup_as_is(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(html_raw(&b, "<td class=\"job\">"), 0);
    assert_int_equal(html_raw(&b, "&nbsp;"), 0);
    assert_string_equal(buf_str(&b), "<td class=\"job\">&nbsp;");
    buf_release(&b);
}

static void html_text__escapes_ampersand_angle_brackets_and_both_quotes(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(html_text(&b, "<a href=\"x\">Tom & 'Jerry'</a>"), 0);
    assert_string_equal(buf_str(&b),
                        "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
    buf_release(&b);
}

static void html_text__escapes_an_existing_entity_again(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(html_text(&b, "&amp;&lt;"), 0);
    assert_string_equal(buf_str(&b), "&amp;amp;&amp;lt;");
    buf_release(&b);
}

static void html_text__keeps_other_text_and_utf8(void **state)
{
    struct buf b = BUF_INIT(1024);
    const char *text = "build #12: caf\xc3\xa9 (ok) = 100% done; \xe2\x9c\x93";

    (void) state;
    assert_int_equal(html_text(&b, text), 0);
    assert_string_equal(buf_str(&b), text);
    buf_release(&b);
}

static void html_text__appends_to_what_is_there(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(html_raw(&b, "<td>"), 0);
    assert_int_equal(html_text(&b, "a<b"), 0);
    assert_int_equal(html_raw(&b, "</td>"), 0);
    assert_string_equal(buf_str(&b), "<td>a&lt;b</td>");
    buf_release(&b);
}

static void html_text__of_null_or_empty_appends_nothing(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(html_text(&b, NULL), 0);
    assert_int_equal(html_text(&b, ""), 0);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_release(&b);
}

static void html_text__returns_e2big_when_the_buffer_is_full(void **state)
{
    struct buf b = BUF_INIT(8);

    (void) state;
    assert_int_equal(html_text(&b, "<<<"), -E2BIG);
    buf_release(&b);
}

static void html_attr__escapes_like_html_text(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(html_raw(&b, "<input value=\""), 0);
    assert_int_equal(html_attr(&b, "\" onmouseover='alert(1)' x=\"<&>"), 0);
    assert_int_equal(html_raw(&b, "\">"), 0);
    assert_string_equal(buf_str(&b),
                        "<input value=\"&quot; onmouseover=&#39;alert(1)&#39; "
                        "x=&quot;&lt;&amp;&gt;\">");
    buf_release(&b);
}

static void html_url_arg__keeps_unreserved_characters(void **state)
{
    struct buf b = BUF_INIT(1024);
    const char *unreserved = "ABCXYZabcxyz0189-._~";

    (void) state;
    assert_int_equal(html_url_arg(&b, unreserved), 0);
    assert_string_equal(buf_str(&b), unreserved);
    buf_release(&b);
}

static void html_url_arg__percent_encodes_everything_outside_unreserved(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(html_url_arg(&b, "a b/c?d=e&f#g%h+i"), 0);
    assert_string_equal(buf_str(&b), "a%20b%2Fc%3Fd%3De%26f%23g%25h%2Bi");
    buf_clear(&b);
    assert_int_equal(html_url_arg(&b, "<script>\"'`"), 0);
    assert_string_equal(buf_str(&b), "%3Cscript%3E%22%27%60");
    buf_clear(&b);
    assert_int_equal(html_url_arg(&b, "\xc3\xa9\t\n"), 0);
    assert_string_equal(buf_str(&b), "%C3%A9%09%0A");
    buf_release(&b);
}

static void html_url_arg__encodes_every_byte_outside_unreserved(void **state)
{
    struct buf b = BUF_INIT(4096);
    char one[2] = { 0, 0 };

    (void) state;
    for (int c = 1; c < 256; c++) {
        bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        char want[4];

        buf_clear(&b);
        one[0] = (char) c;
        assert_int_equal(html_url_arg(&b, one), 0);
        if (unreserved)
            snprintf(want, sizeof want, "%c", c);
        else
            snprintf(want, sizeof want, "%%%02X", c);
        if (strcmp(buf_str(&b), want) != 0)
            fail_msg("byte 0x%02x became \"%s\", not \"%s\"", c, buf_str(&b), want);
    }
    buf_release(&b);
}

static void html_url_arg__of_null_appends_nothing(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(html_url_arg(&b, NULL), 0);
    assert_string_equal(buf_str(&b), "");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_raw__appends_markup_as_is),
        cmocka_unit_test(html_text__escapes_ampersand_angle_brackets_and_both_quotes),
        cmocka_unit_test(html_text__escapes_an_existing_entity_again),
        cmocka_unit_test(html_text__keeps_other_text_and_utf8),
        cmocka_unit_test(html_text__appends_to_what_is_there),
        cmocka_unit_test(html_text__of_null_or_empty_appends_nothing),
        cmocka_unit_test(html_text__returns_e2big_when_the_buffer_is_full),
        cmocka_unit_test(html_attr__escapes_like_html_text),
        cmocka_unit_test(html_url_arg__keeps_unreserved_characters),
        cmocka_unit_test(html_url_arg__percent_encodes_everything_outside_unreserved),
        cmocka_unit_test(html_url_arg__encodes_every_byte_outside_unreserved),
        cmocka_unit_test(html_url_arg__of_null_appends_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
