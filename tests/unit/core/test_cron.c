/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/cron.h"

static struct tm
at(int min, int hour, int mday, int mon1, int wday)
{
    struct tm tm = { .tm_min = min, .tm_hour = hour, .tm_mday = mday, .tm_mon = mon1 - 1,
                     .tm_wday = wday };
    return tm;
}

static struct cron *
parse_ok(const char *spec, const char *seed)
{
    struct cron *c = NULL;
    const char *why = NULL;

    assert_int_equal(cron_parse(spec, seed, &c, &why), 0);
    assert_non_null(c);
    return c;
}

static void
cron_matches__every_minute_with_stars(void **state)
{
    struct cron *c = parse_ok("* * * * *", "job");
    struct tm t = at(17, 3, 9, 6, 2);

    (void) state;
    assert_true(cron_matches(c, &t));
    cron_free(c);
}

static void
cron_matches__numbers_ranges_steps_and_lists(void **state)
{
    struct cron *c = parse_ok("5,10-12 */6 1 1-3 *", "job");
    struct tm yes1 = at(5, 0, 1, 2, 4), yes2 = at(11, 18, 1, 3, 0), no_min = at(6, 0, 1, 1, 0);
    struct tm no_hour = at(5, 7, 1, 1, 0), no_day = at(5, 0, 2, 1, 0), no_mon = at(5, 0, 1, 4, 0);

    (void) state;
    assert_true(cron_matches(c, &yes1));
    assert_true(cron_matches(c, &yes2));
    assert_false(cron_matches(c, &no_min));
    assert_false(cron_matches(c, &no_hour));
    assert_false(cron_matches(c, &no_day));
    assert_false(cron_matches(c, &no_mon));
    cron_free(c);
}

static void
cron_matches__needs_day_of_month_and_day_of_week_as_jenkins(void **state)
{
    struct cron *c = parse_ok("0 0 13 * 5", "job");
    struct tm friday13 = at(0, 0, 13, 3, 5), thursday13 = at(0, 0, 13, 3, 4);

    (void) state;
    assert_true(cron_matches(c, &friday13));
    assert_false(cron_matches(c, &thursday13));
    cron_free(c);
}

static void
cron_matches__weekday_seven_is_sunday(void **state)
{
    struct cron *c = parse_ok("0 12 * * 7", "job");
    struct tm sunday = at(0, 12, 4, 1, 0);

    (void) state;
    assert_true(cron_matches(c, &sunday));
    cron_free(c);
}

static int
count_minutes(const struct cron *c, int hour)
{
    int n = 0;

    for (int m = 0; m < 60; m++) {
        struct tm t = at(m, hour, 10, 5, 3);
        n += cron_matches(c, &t);
    }
    return n;
}

static void
cron_parse__h_picks_one_stable_value_per_job(void **state)
{
    struct cron *a = parse_ok("H 2 * * *", "alpha"), *a2 = parse_ok("H 2 * * *", "alpha");

    (void) state;
    assert_int_equal(count_minutes(a, 2), 1);
    assert_int_equal(count_minutes(a, 3), 0);
    for (int m = 0; m < 60; m++) {
        struct tm t = at(m, 2, 10, 5, 3);
        assert_int_equal(cron_matches(a, &t), cron_matches(a2, &t));
    }
    cron_free(a);
    cron_free(a2);
}

static void
cron_parse__h_spreads_jobs(void **state)
{
    bool seen[60] = { 0 };
    int distinct = 0;
    char name[16];

    (void) state;
    for (int i = 0; i < 30; i++) {
        struct cron *c;
        snprintf(name, sizeof name, "job-%d", i);
        c = parse_ok("H * * * *", name);
        for (int m = 0; m < 60; m++) {
            struct tm t = at(m, 1, 1, 1, 1);
            if (cron_matches(c, &t) && !seen[m]) {
                seen[m] = true;
                distinct++;
            }
        }
        cron_free(c);
    }
    assert_true(distinct > 10);
}

static void
cron_parse__h_with_range_and_step(void **state)
{
    struct cron *c = parse_ok("H(0-29)/10 * * * *", "job"), *q = parse_ok("H/15 * * * *", "job");

    (void) state;
    assert_int_equal(count_minutes(c, 1), 3);
    for (int m = 30; m < 60; m++) {
        struct tm t = at(m, 1, 1, 1, 1);
        assert_false(cron_matches(c, &t));
    }
    assert_int_equal(count_minutes(q, 1), 4);
    cron_free(c);
    cron_free(q);
}

static void
cron_parse__aliases_and_comments_and_several_lines(void **state)
{
    struct cron *c = parse_ok("# nightly\n@hourly\n\n30 4 * * *  # and at 4:30\n", "job");
    struct tm four30 = at(30, 4, 1, 1, 1);

    (void) state;
    assert_true(cron_matches(c, &four30));
    assert_int_equal(count_minutes(c, 7), 1);
    cron_free(c);
}

static void
cron_parse__midnight_stays_before_three(void **state)
{
    struct cron *c = parse_ok("@midnight", "job");
    int n = 0;

    (void) state;
    for (int h = 0; h < 24; h++)
        n += count_minutes(c, h) * (h < 3 ? 1 : 100);
    assert_int_equal(n, 1);
    cron_free(c);
}

static void
cron_parse__only_comments_is_no_schedule(void **state)
{
    struct cron *c = (struct cron *) 1;
    const char *why = NULL;

    (void) state;
    assert_int_equal(cron_parse("# nothing\n\n", "job", &c, &why), 0);
    assert_null(c);
}

static void
cron_parse__refuses_bad_specs(void **state)
{
    static const char *const bad[] = {
        "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
        "* * * * 8", "*/0 * * * *", "a * * * *", "5-1 * * * *", "H(0-) * * * *",
        "1, * * * *", "TZ=Europe/London\nH * * * *", "@often",
    };

    (void) state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct cron *c = NULL;
        const char *why = NULL;
        assert_int_equal(cron_parse(bad[i], "job", &c, &why), -EINVAL);
        assert_non_null(why);
        assert_null(c);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cron_matches__every_minute_with_stars),
        cmocka_unit_test(cron_matches__numbers_ranges_steps_and_lists),
        cmocka_unit_test(cron_matches__needs_day_of_month_and_day_of_week_as_jenkins),
        cmocka_unit_test(cron_matches__weekday_seven_is_sunday),
        cmocka_unit_test(cron_parse__h_picks_one_stable_value_per_job),
        cmocka_unit_test(cron_parse__h_spreads_jobs),
        cmocka_unit_test(cron_parse__h_with_range_and_step),
        cmocka_unit_test(cron_parse__aliases_and_comments_and_several_lines),
        cmocka_unit_test(cron_parse__midnight_stays_before_three),
        cmocka_unit_test(cron_parse__only_comments_is_no_schedule),
        cmocka_unit_test(cron_parse__refuses_bad_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
