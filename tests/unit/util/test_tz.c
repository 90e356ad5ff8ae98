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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/fs.h"
#include "util/macro.h"
#include "util/tz.h"

/*
 * glibc's localtime_r() is the reference: these tests point the process's
 * TZ at a zone (fine here, the test is single-threaded; the code under test
 * never does this) and compare every field tz_localtime() fills.
 */

static const char *const zones[] = {
    "Europe/London",     "America/New_York",   "Asia/Kolkata",     "Australia/Lord_Howe",
    "UTC",               "America/Sao_Paulo",  "Europe/Dublin",    "America/Nuuk",
    "Asia/Jerusalem",    "America/Santiago",   "Pacific/Chatham",  "Australia/Sydney",
    "Africa/Casablanca",
};

static char *saved_tz;
static char *saved_tzdir;

static int
save_env(void **state)
{
    const char *tz = getenv("TZ"), *dir = getenv("TZDIR");

    (void) state;
    saved_tz = tz ? strdup(tz) : NULL;
    saved_tzdir = dir ? strdup(dir) : NULL;
    return 0;
}

static int
restore_env(void **state)
{
    (void) state;
    if (saved_tz)
        setenv("TZ", saved_tz, 1);
    else
        unsetenv("TZ");
    if (saved_tzdir)
        setenv("TZDIR", saved_tzdir, 1);
    else
        unsetenv("TZDIR");
    tzset();
    free(saved_tz);
    free(saved_tzdir);
    saved_tz = saved_tzdir = NULL;
    return 0;
}

static bool
have_zone(const char *name)
{
    char path[256];

    snprintf(path, sizeof path, "%s/%s", TZ_DIR, name);
    if (access(path, R_OK) == 0)
        return true;
    print_message("skipped: no zone file %s\n", path);
    return false;
}

/* Points glibc at the zone file `name`, by absolute path. */
static void
glibc_use_zone(const char *name)
{
    char tz[256];

    snprintf(tz, sizeof tz, ":%s/%s", TZ_DIR, name);
    assert_int_equal(setenv("TZ", tz, 1), 0);
    tzset();
}

/* Points glibc at a POSIX TZ string, without any file behind it. */
static void
glibc_use_posix(const char *spec)
{
    assert_int_equal(setenv("TZDIR", "/nonexistent-steward-tzdir", 1), 0);
    assert_int_equal(setenv("TZ", spec, 1), 0);
    tzset();
}

static void
expect_same(const char *what, time_t t, const struct tm *want, const struct tm *got)
{
    if (want->tm_sec == got->tm_sec && want->tm_min == got->tm_min &&
        want->tm_hour == got->tm_hour && want->tm_mday == got->tm_mday &&
        want->tm_mon == got->tm_mon && want->tm_year == got->tm_year &&
        want->tm_wday == got->tm_wday && want->tm_yday == got->tm_yday &&
        want->tm_isdst == got->tm_isdst && want->tm_gmtoff == got->tm_gmtoff)
        return;
    print_error("%s at %lld: want %04d-%02d-%02d %02d:%02d:%02d wday %d yday %d dst %d off %ld, "
                "got %04d-%02d-%02d %02d:%02d:%02d wday %d yday %d dst %d off %ld\n",
                what, (long long) t, want->tm_year + 1900, want->tm_mon + 1, want->tm_mday,
                want->tm_hour, want->tm_min, want->tm_sec, want->tm_wday, want->tm_yday,
                want->tm_isdst, want->tm_gmtoff, got->tm_year + 1900, got->tm_mon + 1,
                got->tm_mday, got->tm_hour, got->tm_min, got->tm_sec, got->tm_wday, got->tm_yday,
                got->tm_isdst, got->tm_gmtoff);
    fail();
}

static void
compare_at(const char *what, const struct tz *z, time_t t)
{
    struct tm want, got;

    assert_non_null(localtime_r(&t, &want));
    tz_localtime(z, t, &got);
    expect_same(what, t, &want, &got);
}

static time_t
utc(int y, int mon, int d, int h, int min, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h,
                     .tm_min = min, .tm_sec = s };

    return timegm(&tm);
}

/*
 * Walks a year in half hours; where glibc's offset changes between two
 * steps, finds the exact second by bisection and compares both sides.
 * Returns the number of changes seen.
 */
static int
compare_year(const char *what, const struct tz *z, int year)
{
    time_t t = utc(year, 1, 1, 0, 0, 0), end = utc(year + 1, 1, 1, 0, 0, 0);
    struct tm prev, cur;
    int changes = 0;

    assert_non_null(localtime_r(&t, &prev));
    compare_at(what, z, t);
    for (t += 1800; t <= end; t += 1800) {
        assert_non_null(localtime_r(&t, &cur));
        compare_at(what, z, t);
        if (cur.tm_gmtoff != prev.tm_gmtoff || cur.tm_isdst != prev.tm_isdst) {
            time_t lo = t - 1800, hi = t; /* lo is before the change, hi after */
            while (hi - lo > 1) {
                time_t mid = lo + (hi - lo) / 2;
                struct tm m;
                assert_non_null(localtime_r(&mid, &m));
                if (m.tm_gmtoff == cur.tm_gmtoff && m.tm_isdst == cur.tm_isdst)
                    hi = mid;
                else
                    lo = mid;
            }
            compare_at(what, z, hi - 1);
            compare_at(what, z, hi);
            changes++;
        }
        prev = cur;
    }
    return changes;
}

static void
tz_localtime__agrees_with_glibc_for_many_zones_and_instants(void **state)
{
    static const int years[] = { 1916, 1975, 2024, 2037, 2038, 2040, 2100 };

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(zones); i++) {
        _cleanup_(tz_freep) struct tz *z = NULL;

        if (!have_zone(zones[i]))
            continue;
        assert_int_equal(tz_load(zones[i], &z), 0);
        glibc_use_zone(zones[i]);

        /* 1850 to 2110 with an odd stride, so every time of day comes up */
        for (time_t t = utc(1850, 1, 1, 0, 0, 0); t < utc(2110, 1, 1, 0, 0, 0);
             t += 3 * 86400 + 5 * 3600 + 7 * 60 + 11)
            compare_at(zones[i], z, t);
        for (size_t y = 0; y < ELEMENTSOF(years); y++)
            (void) compare_year(zones[i], z, years[y]);
    }
}

/* Known answers that do not depend on glibc: transitions decided by the footer rule. */
static void
tz_localtime__uses_the_footer_rule_after_the_last_transition(void **state)
{
    static const struct {
        const char *zone;
        time_t t;
        int year, mon, mday, hour, min, sec, wday, yday, isdst;
        long gmtoff;
    } cases[] = {
        /* last Sunday of March and October 2100, at 01:00 UTC */
        { "Europe/London", 4109878799, 2100, 3, 28, 0, 59, 59, 0, 86, 0, 0 },
        { "Europe/London", 4109878800, 2100, 3, 28, 2, 0, 0, 0, 86, 1, 3600 },
        { "Europe/London", 4128627599, 2100, 10, 31, 1, 59, 59, 0, 303, 1, 3600 },
        { "Europe/London", 4128627600, 2100, 10, 31, 1, 0, 0, 0, 303, 0, 0 },
        /* a half-hour change in the southern hemisphere */
        { "Australia/Lord_Howe", 2233150199, 2040, 10, 7, 1, 59, 59, 0, 280, 0, 37800 },
        { "Australia/Lord_Howe", 2233150200, 2040, 10, 7, 2, 30, 0, 0, 280, 1, 39600 },
        /* second Sunday of March 2040 */
        { "America/New_York", 2215061999, 2040, 3, 11, 1, 59, 59, 0, 70, 0, -18000 },
        { "America/New_York", 2215062000, 2040, 3, 11, 3, 0, 0, 0, 70, 1, -14400 },
        /* no daylight saving time any more */
        { "America/Sao_Paulo", 4102444800, 2099, 12, 31, 21, 0, 0, 4, 364, 0, -10800 },
        { "Asia/Kolkata", 4102444800, 2100, 1, 1, 5, 30, 0, 5, 0, 0, 19800 },
    };

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_(tz_freep) struct tz *z = NULL;
        struct tm tm;

        if (!have_zone(cases[i].zone))
            continue;
        assert_int_equal(tz_load(cases[i].zone, &z), 0);
        tz_localtime(z, cases[i].t, &tm);
        assert_int_equal(tm.tm_year + 1900, cases[i].year);
        assert_int_equal(tm.tm_mon + 1, cases[i].mon);
        assert_int_equal(tm.tm_mday, cases[i].mday);
        assert_int_equal(tm.tm_hour, cases[i].hour);
        assert_int_equal(tm.tm_min, cases[i].min);
        assert_int_equal(tm.tm_sec, cases[i].sec);
        assert_int_equal(tm.tm_wday, cases[i].wday);
        assert_int_equal(tm.tm_yday, cases[i].yday);
        assert_int_equal(tm.tm_isdst, cases[i].isdst);
        assert_int_equal(tm.tm_gmtoff, cases[i].gmtoff);
    }
}

/* ---- synthetic files: no transitions, one type, and a footer ---- */

static void
put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}

/* A version 2 file whose only content is the footer `spec`. */
static size_t
make_tzif(unsigned char *out, size_t size, const char *spec)
{
    /* header, then one ttinfo (UTC, not dst, designation 0) and "UTC\0" */
    static const unsigned char block[] = { 0, 0, 0, 0, 0, 0, 'U', 'T', 'C', 0 };
    size_t n = 0, len = strlen(spec);

    assert_true(size >= 2 * (44 + sizeof block) + len + 2);
    for (int i = 0; i < 2; i++) {
        memset(out + n, 0, 44);
        memcpy(out + n, "TZif2", 5);
        put32(out + n + 36, 1); /* typecnt */
        put32(out + n + 40, 4); /* charcnt */
        n += 44;
        memcpy(out + n, block, sizeof block);
        n += sizeof block;
    }
    out[n++] = '\n';
    memcpy(out + n, spec, len);
    n += len;
    out[n++] = '\n';
    return n;
}

static void
tz_parse__footer_rules_agree_with_glibc(void **state)
{
    static const struct {
        const char *spec;
        int changes; /* a year */
    } specs[] = {
        { "EST5EDT,M3.2.0,M11.1.0", 2 },
        { "CET-1CEST,M3.5.0,M10.5.0/3", 2 },
        { "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 2 },
        { "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 2 },     /* negative time (RFC 8536) */
        { "IST-2IDT,M3.4.4/26,M10.5.0", 2 },          /* hours past 24 */
        { "IST-1GMT0,M10.5.0,M3.5.0/1", 2 },          /* negative daylight saving */
        { "<-04>4<-03>,M9.1.6/24,M4.1.6/24", 2 },
        { "NZST-12NZDT-13,M9.5.0,M4.1.0/3", 2 },
        { "XST3XDT,J60/1:30,J300/4", 2 },             /* Jn: February 29 not counted */
        { "XST3XDT,59/2,300", 2 },                    /* n: February 29 counted */
        { "AAA-5:30BBB-6:45:15,J32/0:15,J330/22", 2 },/* explicit offsets with seconds */
        { "<+0545>-5:45", 0 },
        { "UTC0", 0 },
        { "EST5EDT", 2 },                             /* no rule: the US one */
    };
    static const int years[] = { 1999, 2000, 2027, 2028, 2100 };
    unsigned char buf[512];

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
        _cleanup_(tz_freep) struct tz *z = NULL;
        size_t len = make_tzif(buf, sizeof buf, specs[i].spec);
        int changes = 0;

        assert_int_equal(tz_parse(buf, len, &z), 0);
        glibc_use_posix(specs[i].spec);
        for (size_t y = 0; y < ELEMENTSOF(years); y++)
            changes += compare_year(specs[i].spec, z, years[y]);
        assert_int_equal(changes, specs[i].changes * (int) ELEMENTSOF(years));
    }
}

/*
 * Where a rule's change falls on one side of New Year in local time and on
 * the other in UTC, the change belongs to the local year. glibc looks only
 * at the UTC year and gets this wrong, so the answers here are worked out
 * by hand.
 */
static void
tz_localtime__footer_change_near_new_year_counts_in_its_local_year(void **state)
{
    _cleanup_(tz_freep) struct tz *z = NULL;
    unsigned char buf[512];
    /* daylight time from January 1, 00:15 to December 31, 22:00 */
    size_t len = make_tzif(buf, sizeof buf, "AAA-5:30BBB-6:45:15,J1/0:15,J365/22");
    struct tm tm;

    (void) state;
    assert_int_equal(tz_parse(buf, len, &z), 0);
    /* 1999-12-31 18:44:59 UTC is 2000-01-01 00:14:59 standard time */
    tz_localtime(z, 946665899, &tm);
    assert_int_equal(tm.tm_isdst, 0);
    assert_int_equal(tm.tm_gmtoff, 19800);
    assert_int_equal(tm.tm_year, 100);
    assert_int_equal(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec, 14 * 60 + 59);
    /* one second later daylight time has begun: 01:30:15 */
    tz_localtime(z, 946665900, &tm);
    assert_int_equal(tm.tm_isdst, 1);
    assert_int_equal(tm.tm_gmtoff, 24315);
    assert_int_equal(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec, 3600 + 30 * 60 + 15);
    /* and 2000-12-31 22:00 daylight time (15:14:45 UTC) ends it */
    tz_localtime(z, 978275684, &tm);
    assert_int_equal(tm.tm_isdst, 1);
    tz_localtime(z, 978275685, &tm);
    assert_int_equal(tm.tm_isdst, 0);
    assert_int_equal(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec, 20 * 3600 + 44 * 60 + 45);
}

/* RFC 8536's way of writing daylight time all year: each year's end meets the next start. */
static void
tz_localtime__footer_for_daylight_time_all_year(void **state)
{
    _cleanup_(tz_freep) struct tz *z = NULL;
    unsigned char buf[512];
    size_t len = make_tzif(buf, sizeof buf, "EST5EDT,0/0,J365/25");

    (void) state;
    assert_int_equal(tz_parse(buf, len, &z), 0);
    for (time_t t = utc(1998, 12, 25, 0, 0, 0); t < utc(2001, 1, 10, 0, 0, 0); t += 3 * 3600 + 7) {
        struct tm tm;
        tz_localtime(z, t, &tm);
        if (tm.tm_isdst != 1 || tm.tm_gmtoff != -14400) {
            print_error("standard time at %lld\n", (long long) t);
            fail();
        }
    }
}

static void
tz_parse__refuses_bad_footers(void **state)
{
    static const char *const bad[] = {
        "GMT",                        /* no offset */
        "GM0",                        /* name too short */
        "<+1>-1",                     /* quoted name too short */
        "<+01-1",                     /* unterminated */
        "GMT0BST,M3.5.0/1",           /* no end rule */
        "GMT0BST,M13.5.0,M10.5.0",    /* month 13 */
        "GMT0BST,M3.6.0,M10.5.0",     /* week 6 */
        "GMT0BST,M3.5.7,M10.5.0",     /* weekday 7 */
        "GMT0BST,M3.5,M10.5.0",       /* no weekday */
        "GMT0BST,J0,J100",            /* J counts from 1 */
        "GMT0BST,366,100",            /* n stops at 365 */
        "GMT0BST,M3.5.0/168,M10.5.0", /* time past 167 hours */
        "GMT25",                      /* offset past 24 hours */
        "GMT0:60",                    /* minutes past 59 */
        "GMT0BST,M3.5.0,M10.5.0x",    /* trailing garbage */
        "GMT0 BST",
    };
    unsigned char buf[512];

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct tz *z = NULL;
        size_t len = make_tzif(buf, sizeof buf, bad[i]);

        if (tz_parse(buf, len, &z) != -EINVAL) {
            print_error("accepted footer \"%s\"\n", bad[i]);
            fail();
        }
        assert_null(z);
    }
}

static void
tz_parse__empty_footer_keeps_the_last_type(void **state)
{
    _cleanup_(tz_freep) struct tz *z = NULL;
    unsigned char buf[512];
    size_t len = make_tzif(buf, sizeof buf, "");
    struct tm tm;

    (void) state;
    buf[44 + 10 + 44 + 3] = 0x78; /* utoff of the only type: 120 s */
    assert_int_equal(tz_parse(buf, len, &z), 0);
    tz_localtime(z, 4102444800, &tm);
    assert_int_equal(tm.tm_gmtoff, 120);
    assert_int_equal(tm.tm_min, 2);
}

/* ---- real files, damaged ---- */

struct layout {
    size_t v2;       /* offset of the second header */
    size_t times;    /* of the 64-bit transition times */
    size_t idx;      /* of their type indices */
    size_t ttinfo;   /* of the types */
    size_t end;      /* of the 64-bit block, where the footer starts */
    uint32_t timecnt, typecnt;
};

static uint32_t
get32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static struct layout
layout_of(const unsigned char *p)
{
    struct layout l;
    uint64_t v1 = (uint64_t) get32(p + 32) * 5 + (uint64_t) get32(p + 36) * 6 + get32(p + 40) +
                  (uint64_t) get32(p + 28) * 8 + get32(p + 24) + get32(p + 20);

    l.v2 = 44 + (size_t) v1;
    l.timecnt = get32(p + l.v2 + 32);
    l.typecnt = get32(p + l.v2 + 36);
    l.times = l.v2 + 44;
    l.idx = l.times + (size_t) l.timecnt * 8;
    l.ttinfo = l.idx + l.timecnt;
    l.end = l.ttinfo + (size_t) l.typecnt * 6 + get32(p + l.v2 + 40) +
            (size_t) get32(p + l.v2 + 28) * 12 + get32(p + l.v2 + 24) + get32(p + l.v2 + 20);
    return l;
}

static void
expect_malformed(const char *what, const unsigned char *data, size_t len)
{
    struct tz *z = NULL;
    int r = tz_parse(data, len, &z);

    if (r != -EINVAL) {
        print_error("%s: tz_parse returned %d\n", what, r);
        fail();
    }
    assert_null(z);
}

static void
tz_parse__refuses_malformed_files(void **state)
{
    _cleanup_free_ char *orig = NULL;
    _cleanup_free_ unsigned char *d = NULL;
    struct tz *z = NULL;
    struct layout l;
    size_t len;

    (void) state;
    if (!have_zone("Europe/London"))
        skip();
    assert_int_equal(fs_read_all(TZ_DIR "/Europe/London", TZ_FILE_MAX_BYTES, &orig, &len), 0);
    d = malloc(len);
    assert_non_null(d);
    l = layout_of((const unsigned char *) orig);
    assert_true(l.timecnt >= 2 && l.typecnt >= 2 && l.end < len && orig[l.end] == '\n');

#define RESET() memcpy(d, orig, len)
    RESET();
    assert_int_equal(tz_parse(d, len, &z), 0);
    z = tz_free(z);

    /* every truncation: the footer's final newline is required */
    for (size_t n = 0; n < len; n++)
        expect_malformed("truncated", d, n);

    RESET();
    d[0] = 'X';
    expect_malformed("magic", d, len);
    RESET();
    d[4] = '\0';
    expect_malformed("version 1", d, len);
    RESET();
    d[l.v2 + 1] = 'X';
    expect_malformed("second magic", d, len);
    RESET();
    put32(d + 32, 0xffffffffu); /* v1 timecnt */
    expect_malformed("huge v1 timecnt", d, len);
    RESET();
    put32(d + l.v2 + 32, 0xffffffffu);
    expect_malformed("huge timecnt", d, len);
    RESET();
    /* just enough more transitions that the block no longer fits */
    put32(d + l.v2 + 32, l.timecnt + (uint32_t) ((len - l.end) / 9) + 1);
    expect_malformed("block past the end", d, len);
    RESET();
    put32(d + l.v2 + 36, 0);
    expect_malformed("no types", d, len);
    RESET();
    put32(d + l.v2 + 40, 0);
    expect_malformed("no designations", d, len);
    RESET();
    put32(d + l.v2 + 28, 1);
    expect_malformed("leap seconds", d, len);
    RESET();
    put32(d + l.v2 + 20, 1); /* isutcnt neither 0 nor typecnt */
    expect_malformed("isutcnt", d, len);
    RESET();
    memcpy(d + l.times + 8, d + l.times, 8); /* two equal transition times */
    expect_malformed("unsorted times", d, len);
    RESET();
    d[l.idx] = (unsigned char) l.typecnt;
    expect_malformed("type index", d, len);
    RESET();
    put32(d + l.ttinfo, 0x80000000u);
    expect_malformed("utoff", d, len);
    RESET();
    d[l.ttinfo + 4] = 2;
    expect_malformed("isdst", d, len);
    RESET();
    d[l.ttinfo + 5] = 0xff;
    expect_malformed("designation index", d, len);
    RESET();
    d[len - 1] = 'x';
    expect_malformed("footer without newline", d, len);
    RESET();
    d[len - 5] = '\0';
    expect_malformed("footer with NUL", d, len);
#undef RESET
}

static void
tz_load__refuses_invalid_names(void **state)
{
    static const char *const bad[] = {
        "", "../etc/passwd", "/etc/x", "Europe/../x", "Europe/./London", "..", ".", "Europe/",
        "Europe//London", "Europe/London ", " UTC", "Europe\\London", "UTC\n",
        "Etc/GMT+5.", "zone.tab",
        "A123456789B123456789C123456789D123456789E123456789F123456789G1234", /* 65 */
    };
    static const char name64[] = "A123456789B123456789C123456789D123456789E123456789F123456789G123";
    struct tz *z = NULL;

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        if (tz_load(bad[i], &z) != -EINVAL) {
            print_error("accepted name \"%s\"\n", bad[i]);
            fail();
        }
        assert_null(z);
        assert_false(tz_name_is_valid(bad[i]));
    }
    assert_true(tz_name_is_valid("America/Argentina/Buenos_Aires"));
    assert_true(tz_name_is_valid("Etc/GMT+5"));
    assert_true(tz_name_is_valid("Etc/GMT-14"));
    /* 64 bytes is still a name, just not a zone */
    assert_true(tz_name_is_valid(name64));
    assert_int_equal(strlen(name64), 64);
    assert_int_equal(tz_load(name64, &z), -ENOENT);
}

static void
tz_load__unknown_zones_and_other_files_are_enoent(void **state)
{
    static const char *const unknown[] = { "Nowhere/City", "Europe", "Europe/Nowhere" };
    struct tz *z = NULL;

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(unknown); i++) {
        assert_int_equal(tz_load(unknown[i], &z), -ENOENT);
        assert_null(z);
    }
    /* text files beside the zones, and leap-second zones */
    if (access(TZ_DIR "/leapseconds", R_OK) == 0)
        assert_int_equal(tz_load("leapseconds", &z), -ENOENT);
    if (access(TZ_DIR "/right/UTC", R_OK) == 0)
        assert_int_equal(tz_load("right/UTC", &z), -ENOENT);
    assert_null(z);
}

static void
tz_localtime__clamps_instants_far_from_the_epoch(void **state)
{
    _cleanup_(tz_freep) struct tz *z = NULL;
    unsigned char buf[512];
    size_t len = make_tzif(buf, sizeof buf, "CET-1CEST,M3.5.0,M10.5.0/3");
    struct tm hi, lo;

    (void) state;
    assert_int_equal(tz_parse(buf, len, &z), 0);
    tz_localtime(z, (time_t) INT64_MAX, &hi);
    tz_localtime(z, (time_t) INT64_MIN, &lo);
    assert_true(hi.tm_year > 1000000000);
    assert_true(lo.tm_year < -1000000000);
    assert_in_range(hi.tm_mon, 0, 11);
    assert_in_range(lo.tm_wday, 0, 6);
}

static void
tz_timegm__inverts_gmtime_and_normalizes_like_timegm(void **state)
{
    (void) state;
    for (int64_t t = -5000000000LL; t < 8000000000LL; t += 7777777) {
        time_t tt = (time_t) t;
        struct tm tm;
        assert_non_null(gmtime_r(&tt, &tm));
        assert_int_equal(tz_timegm(&tm), tt);
    }
    for (int mon = -30; mon <= 30; mon += 7) {
        for (int mday = -40; mday <= 70; mday += 11) {
            struct tm a = { .tm_year = 100, .tm_mon = mon, .tm_mday = mday, .tm_hour = 30,
                            .tm_min = -7, .tm_sec = 75 };
            struct tm b = a;
            assert_int_equal(tz_timegm(&a), timegm(&b));
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(tz_localtime__agrees_with_glibc_for_many_zones_and_instants,
                                        save_env, restore_env),
        cmocka_unit_test(tz_localtime__uses_the_footer_rule_after_the_last_transition),
        cmocka_unit_test_setup_teardown(tz_parse__footer_rules_agree_with_glibc, save_env,
                                        restore_env),
        cmocka_unit_test(tz_localtime__footer_change_near_new_year_counts_in_its_local_year),
        cmocka_unit_test(tz_localtime__footer_for_daylight_time_all_year),
        cmocka_unit_test(tz_parse__refuses_bad_footers),
        cmocka_unit_test(tz_parse__empty_footer_keeps_the_last_type),
        cmocka_unit_test(tz_parse__refuses_malformed_files),
        cmocka_unit_test(tz_load__refuses_invalid_names),
        cmocka_unit_test(tz_load__unknown_zones_and_other_files_are_enoent),
        cmocka_unit_test(tz_localtime__clamps_instants_far_from_the_epoch),
        cmocka_unit_test(tz_timegm__inverts_gmtime_and_normalizes_like_timegm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
