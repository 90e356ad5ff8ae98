/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/audit.h"

#define NOW 1796441765000LL /* 2026-12-05T03:36:05Z */

static void audit_parse_time__reads_every_form(void **state)
{
    int64_t t;

    (void) state;
    assert_int_equal(audit_parse_time("1733400000000", NOW, &t), 0);
    assert_int_equal(t, 1733400000000LL);
    assert_int_equal(audit_parse_time("2026-12-05", NOW, &t), 0);
    assert_int_equal(t, 1796428800000LL);
    assert_int_equal(audit_parse_time("2026-12-05T03:36", NOW, &t), 0);
    assert_int_equal(t, 1796441760000LL);
    assert_int_equal(audit_parse_time("2026-12-05T03:36:05Z", NOW, &t), 0);
    assert_int_equal(t, NOW);
    assert_int_equal(audit_parse_time("30m", NOW, &t), 0);
    assert_int_equal(t, NOW - 30 * 60000);
    assert_int_equal(audit_parse_time("2h", NOW, &t), 0);
    assert_int_equal(t, NOW - 2 * 3600000);
    assert_int_equal(audit_parse_time("7d", NOW, &t), 0);
    assert_int_equal(t, NOW - 7 * 86400000LL);
}

static void audit_parse_time__refuses_the_rest(void **state)
{
    static const char *const bad[] = { "", "yesterday", "-5", "2026-02-31", "2026-13-01",
                                       "2026-12-05T25:00", "2026-12-05T03:36+01:00", "d",
                                       "5w", "1e9", "2026-12-5", "99999999999999999999999",
                                       "9999999d" };
    int64_t t;

    (void) state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (audit_parse_time(bad[i], NOW, &t) != -EINVAL)
            fail_msg("'%s' was read as %lld", bad[i], (long long) t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audit_parse_time__reads_every_form),
        cmocka_unit_test(audit_parse_time__refuses_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
