/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buildmeta.h"
#include "util/bounds.h"

static void buildmeta_check_description__takes_text_with_line_breaks_up_to_the_bound(void **state)
{
    char *big = malloc(BOUND_BUILD_DESCRIPTION_BYTES + 2);
    const char *why = NULL;

    (void) state;
    assert_int_equal(buildmeta_check_description("", NULL), 0);
    assert_int_equal(buildmeta_check_description("a\tb\r\nc <b>&</b> \xc3\xbc", NULL), 0);
    memset(big, 'x', BOUND_BUILD_DESCRIPTION_BYTES);
    big[BOUND_BUILD_DESCRIPTION_BYTES] = '\0';
    assert_int_equal(buildmeta_check_description(big, NULL), 0);
    big[BOUND_BUILD_DESCRIPTION_BYTES] = 'x';
    big[BOUND_BUILD_DESCRIPTION_BYTES + 1] = '\0';
    assert_int_equal(buildmeta_check_description(big, &why), -E2BIG);
    assert_non_null(strstr(why, "16384 bytes"));
    free(big);
    assert_int_equal(buildmeta_check_description("bell \a", &why), -EINVAL);
    assert_non_null(strstr(why, "control character"));
    assert_int_equal(buildmeta_check_description("del \x7f", NULL), -EINVAL);
    assert_int_equal(buildmeta_check_description("bad \xff", &why), -EINVAL);
    assert_non_null(strstr(why, "UTF-8"));
}

static void buildmeta_check_display_name__takes_one_line(void **state)
{
    const char *why = NULL;
    char name[BOUND_BUILD_DISPLAY_NAME_BYTES + 2];

    (void) state;
    assert_int_equal(buildmeta_check_display_name("release 1.2 \xe2\x98\x83", NULL), 0);
    assert_int_equal(buildmeta_check_display_name("two\nlines", &why), -EINVAL);
    assert_non_null(strstr(why, "one line"));
    assert_int_equal(buildmeta_check_display_name("tab\there", NULL), -EINVAL);
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(buildmeta_check_display_name(name, &why), -E2BIG);
    name[sizeof name - 2] = '\0';
    assert_int_equal(buildmeta_check_display_name(name, NULL), 0);
}

static void buildmeta_clean_description__makes_any_text_pass(void **state)
{
    char *big = malloc(BOUND_BUILD_DESCRIPTION_BYTES + 10), *c;

    (void) state;
    c = buildmeta_clean_description("Timed out\a after \xff 3 minutes\n");
    assert_string_equal(c, "Timed out  after ? 3 minutes\n");
    assert_int_equal(buildmeta_check_description(c, NULL), 0);
    free(c);
    /* cut at the bound, on a character's start: a two-byte character across it goes whole */
    memset(big, 'x', BOUND_BUILD_DESCRIPTION_BYTES - 1);
    memcpy(big + BOUND_BUILD_DESCRIPTION_BYTES - 1, "\xc3\xbcyz", 5);
    c = buildmeta_clean_description(big);
    assert_int_equal(strlen(c), BOUND_BUILD_DESCRIPTION_BYTES - 1);
    assert_int_equal(buildmeta_check_description(c, NULL), 0);
    free(c);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buildmeta_check_description__takes_text_with_line_breaks_up_to_the_bound),
        cmocka_unit_test(buildmeta_check_display_name__takes_one_line),
        cmocka_unit_test(buildmeta_clean_description__makes_any_text_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
