/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        "1, * * * *", "H * * * *\nTZ=Europe/London", "@often",
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

/* ---- TZ= lines ---- */

static char *saved_tz;

static int
save_tz(void **state)
{
    const char *tz = getenv("TZ");

    (void) state;
    saved_tz = tz ? strdup(tz) : NULL;
    return 0;
}

static int
restore_tz(void **state)
{
    (void) state;
    if (saved_tz)
        setenv("TZ", saved_tz, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved_tz);
    saved_tz = NULL;
    return 0;
}

/* The server's zone, for the tests of local time; the test is single-threaded. */
static void
server_zone(const char *name)
{
    char tz[256];

    snprintf(tz, sizeof tz, ":/usr/share/zoneinfo/%s", name);
    assert_int_equal(setenv("TZ", tz, 1), 0);
    tzset();
}

static bool
have_zone(const char *name)
{
    char path[256];

    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    if (access(path, R_OK) == 0)
        return true;
    print_message("skipped: no zone file %s\n", path);
    return false;
}

static time_t
utc(int y, int mon, int d, int h, int min)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h,
                     .tm_min = min };

    return timegm(&tm);
}

/* How many minutes of the 24 hours from `from` the spec matches. */
static int
count_day(const struct cron *c, time_t from)
{
    int n = 0;

    for (time_t t = from; t < from + 86400; t += 60)
        n += cron_matches_at(c, t);
    return n;
}

static void
cron_matches_at__evaluates_the_spec_in_its_tz_zone(void **state)
{
    struct cron *c;

    (void) state;
    if (!have_zone("Asia/Kolkata"))
        skip();
    c = parse_ok("TZ=Asia/Kolkata\n30 9 * * *", "job");
    /* 09:30 in India (UTC+05:30) is 04:00 UTC */
    assert_true(cron_matches_at(c, utc(2024, 6, 1, 4, 0)));
    assert_true(cron_matches_at(c, utc(2024, 6, 1, 4, 0) + 59)); /* any second of that minute */
    assert_false(cron_matches_at(c, utc(2024, 6, 1, 3, 59)));
    assert_false(cron_matches_at(c, utc(2024, 6, 1, 4, 1)));
    assert_false(cron_matches_at(c, utc(2024, 6, 1, 9, 30)));
    assert_int_equal(count_day(c, utc(2024, 6, 1, 0, 0)), 1);
    cron_free(c);

    /* the date and weekday are the zone's too: Monday 3 June, 00:15 in India is Sunday in UTC */
    c = parse_ok("TZ=Asia/Kolkata\n15 0 3 6 1", "job");
    assert_true(cron_matches_at(c, utc(2024, 6, 2, 18, 45)));
    cron_free(c);
    c = parse_ok("TZ=Asia/Kolkata\n* * 2 6 0", "job");
    assert_false(cron_matches_at(c, utc(2024, 6, 2, 18, 45)));
    assert_true(cron_matches_at(c, utc(2024, 6, 2, 18, 29)));
    cron_free(c);
}

static void
cron_matches_at__follows_daylight_saving_time_of_the_zone(void **state)
{
    struct cron *c;

    (void) state;
    if (!have_zone("Europe/London") || !have_zone("America/New_York"))
        skip();
    c = parse_ok("TZ=Europe/London\n0 12 * * *", "job");
    assert_true(cron_matches_at(c, utc(2024, 7, 1, 11, 0)));  /* BST */
    assert_false(cron_matches_at(c, utc(2024, 7, 1, 12, 0)));
    assert_true(cron_matches_at(c, utc(2024, 1, 15, 12, 0))); /* GMT */
    assert_false(cron_matches_at(c, utc(2024, 1, 15, 11, 0)));
    assert_true(cron_matches_at(c, utc(2100, 7, 1, 11, 0)));  /* the footer rule */
    cron_free(c);

    /* 02:30 does not exist on the day clocks go forward; 01:30 comes twice when they go back */
    c = parse_ok("TZ=America/New_York\n30 2 * * *", "job");
    assert_int_equal(count_day(c, utc(2024, 3, 10, 5, 0)), 0);
    assert_int_equal(count_day(c, utc(2024, 3, 11, 4, 0)), 1);
    cron_free(c);
    c = parse_ok("TZ=America/New_York\n30 1 * * *", "job");
    assert_int_equal(count_day(c, utc(2024, 11, 3, 4, 0)), 2);
    cron_free(c);
}

static void
cron_matches_at__without_tz_uses_the_server_zone(void **state)
{
    struct cron *c;

    (void) state;
    if (!have_zone("Asia/Kolkata"))
        skip();
    server_zone("Asia/Kolkata");
    c = parse_ok("30 9 * * *", "job");
    assert_true(cron_matches_at(c, utc(2024, 6, 1, 4, 0)));
    assert_false(cron_matches_at(c, utc(2024, 6, 1, 9, 30)));
    cron_free(c);
    assert_false(cron_matches_at(NULL, utc(2024, 6, 1, 4, 0)));
}

static void
cron_matches__finds_the_instant_of_a_local_tm_for_a_tz_spec(void **state)
{
    struct cron *c;
    time_t yes = utc(2024, 6, 1, 4, 0), no = utc(2024, 6, 1, 9, 30);
    struct tm tm_yes, tm_no;

    (void) state;
    if (!have_zone("Asia/Kolkata") || !have_zone("America/New_York"))
        skip();
    server_zone("America/New_York");
    c = parse_ok("TZ=Asia/Kolkata\n30 9 * * *", "job");
    assert_non_null(localtime_r(&yes, &tm_yes));
    assert_non_null(localtime_r(&no, &tm_no));
    assert_true(cron_matches(c, &tm_yes));   /* 00:00 in New York */
    assert_false(cron_matches(c, &tm_no));   /* 05:30 in New York */
    cron_free(c);
}

static void
cron_parse__tz_line_alone_is_no_schedule(void **state)
{
    static const char *const specs[] = { "TZ=UTC", "TZ=UTC\n", "# only a zone\nTZ=UTC\n# here\n" };

    (void) state;
    if (!have_zone("UTC"))
        skip();
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        struct cron *c = (struct cron *) 1;
        const char *why = NULL;
        assert_int_equal(cron_parse(specs[i], "job", &c, &why), 0);
        assert_null(c);
    }
}

static void
cron_parse__tz_may_follow_comments_and_blank_lines(void **state)
{
    struct cron *c;

    (void) state;
    if (!have_zone("Asia/Kolkata"))
        skip();
    c = parse_ok("# nightly, Indian time\n\n  TZ=Asia/Kolkata  # IST\r\n30 9 * * *\n", "job");
    assert_true(cron_matches_at(c, utc(2024, 6, 1, 4, 0)));
    cron_free(c);
}

static void
cron_parse__refuses_misplaced_second_and_unknown_tz_lines(void **state)
{
    static const struct {
        const char *spec;
        const char *msg_part;
    } bad[] = {
        { "H * * * *\nTZ=UTC", "before the schedule" },
        { "# c\n0 0 * * *\n\nTZ=UTC\n", "before the schedule" },
        { "TZ=UTC\nTZ=UTC\nH * * * *", "only one" },
        { "TZ=UTC\nH * * * *\nTZ=Europe/London", "only one" },
        { "TZ=\nH * * * *", "needs a time zone" },
        { "TZ=Nowhere/City\nH * * * *", "unknown time zone" },
        { "TZ=Europe\nH * * * *", "unknown time zone" },
        { "TZ=Nowhere/City", "unknown time zone" },
        { "TZ=../etc/passwd\nH * * * *", "invalid time zone" },
        { "TZ=/etc/passwd\nH * * * *", "invalid time zone" },
        { "TZ=Europe/../x\nH * * * *", "invalid time zone" },
        { "TZ=Europe/London extra\nH * * * *", "invalid time zone" },
        { "TZ=A123456789B123456789C123456789D123456789E123456789F123456789G1234\nH * * * *",
          "invalid time zone" },
    };

    (void) state;
    if (!have_zone("UTC"))
        skip();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct cron *c = NULL;
        const char *why = NULL;
        assert_int_equal(cron_parse(bad[i].spec, "job", &c, &why), -EINVAL);
        assert_null(c);
        assert_non_null(why);
        if (!strstr(why, bad[i].msg_part)) {
            print_error("\"%s\": message \"%s\" lacks \"%s\"\n", bad[i].spec, why,
                        bad[i].msg_part);
            fail();
        }
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
        cmocka_unit_test(cron_matches_at__evaluates_the_spec_in_its_tz_zone),
        cmocka_unit_test(cron_matches_at__follows_daylight_saving_time_of_the_zone),
        cmocka_unit_test_setup_teardown(cron_matches_at__without_tz_uses_the_server_zone, save_tz,
                                        restore_tz),
        cmocka_unit_test_setup_teardown(cron_matches__finds_the_instant_of_a_local_tm_for_a_tz_spec,
                                        save_tz, restore_tz),
        cmocka_unit_test(cron_parse__tz_line_alone_is_no_schedule),
        cmocka_unit_test(cron_parse__tz_may_follow_comments_and_blank_lines),
        cmocka_unit_test(cron_parse__refuses_misplaced_second_and_unknown_tz_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
