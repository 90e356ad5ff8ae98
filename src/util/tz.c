/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include "util/macro.h"
#include "util/tz.h"

/* no offset from UTC in the data is larger than this (POSIX allows 24:59:59) */
#define TZ_UTOFF_MAX (25 * 3600)
/* RFC 8536 lets a rule's transition time run from -167 to 167 hours */
#define TZ_RULE_HOURS_MAX 167
#define TZ_FOOTER_MAX_BYTES 256
#define TZ_HEADER_BYTES 44
/* tz_localtime() clamps to this; years stay well inside an int */
#define TZ_T_LIMIT ((int64_t) 1 << 55)

enum tz_date_kind {
    TZ_DATE_JULIAN1,   /* Jn: 1-365, February 29 never counted */
    TZ_DATE_JULIAN0,   /* n: 0-365, February 29 counted */
    TZ_DATE_MONTH_WEEK /* Mm.w.d: day d of week w (5 = last) of month m */
};

struct tz_rule {
    enum tz_date_kind kind;
    int day;   /* Jn, n */
    int month; /* Mm.w.d */
    int week;
    int wday;
    int32_t time; /* local seconds after midnight, may be negative */
};

struct tz_type {
    int32_t utoff;
    bool isdst;
};

struct tz {
    int64_t *times; /* transitions, strictly ascending */
    uint8_t *type_of; /* the type each transition switches to */
    size_t n_times;
    struct tz_type *types;
    size_t n_types;

    /* the footer: what holds after the last transition */
    bool has_footer;
    bool has_dst;
    int32_t std_utoff;
    int32_t dst_utoff;
    struct tz_rule start; /* to daylight time, given in standard time */
    struct tz_rule end;   /* back to standard time, given in daylight time */
};

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return days[m - 1] + (m == 2 && is_leap(y));
}

/* Days from 1970-01-01 to y-m-d, m in 1-12; counted in 400-year eras. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void
civil_from_days(int64_t days, int64_t *ret_y, int *ret_m, int *ret_d)
{
    int64_t z = days + 719468, era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int m = (int) (mp < 10 ? mp + 3 : mp - 9);

    *ret_y = yoe + era * 400 + (m <= 2);
    *ret_m = m;
    *ret_d = (int) (doy - (153 * mp + 2) / 5 + 1);
}

time_t
tz_timegm(const struct tm *tm)
{
    int64_t y = (int64_t) tm->tm_year + 1900 + floor_div(tm->tm_mon, 12);
    int m = (int) (tm->tm_mon - floor_div(tm->tm_mon, 12) * 12) + 1;
    int64_t days = days_from_civil(y, m, 1) + tm->tm_mday - 1;

    return (time_t) (days * 86400 + (int64_t) tm->tm_hour * 3600 + (int64_t) tm->tm_min * 60 +
                     tm->tm_sec);
}

/* ---- zone names ---- */

bool
tz_name_is_valid(const char *name)
{
    size_t len = strnlen(name, TZ_NAME_MAX_BYTES + 1), comp = 0;

    if (len == 0 || len > TZ_NAME_MAX_BYTES)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char ch = name[i];

        if (ch == '/' || ch == '\0') {
            /* no empty component: no leading, trailing or double '/' */
            if (comp == 0)
                return false;
            comp = 0;
            continue;
        }
        /* '.' is not allowed at all, so neither is a ".." component */
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '+' || ch == '-'))
            return false;
        comp++;
    }
    return true;
}

/* ---- the POSIX TZ string of the footer ---- */

/* A zone abbreviation: three or more letters, or <...> of [A-Za-z0-9+-]. */
static int
footer_name(const char **p)
{
    const char *s = *p;
    size_t n = 0;

    if (*s == '<') {
        for (s++; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                  (*s >= '0' && *s <= '9') || *s == '+' || *s == '-';
             s++)
            n++;
        if (*s != '>')
            return -EINVAL;
        s++;
    } else {
        for (; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'); s++)
            n++;
    }
    if (n < 3)
        return -EINVAL;
    *p = s;
    return 0;
}

/* Moves past `ch` when it comes next; never past the end of the string. */
static bool
eat(const char **p, char ch)
{
    if (**p != ch)
        return false;
    (*p)++;
    return true;
}

/* Up to `max_digits` decimal digits, at least one, no more than `max`. */
static int
footer_number(const char **p, int max_digits, int max, int *ret)
{
    int v = 0, digits = 0;

    while (**p >= '0' && **p <= '9' && digits < max_digits) {
        v = v * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    if (digits == 0 || (**p >= '0' && **p <= '9') || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* [+-]hh[:mm[:ss]] with hh at most `max_hours`: seconds, signed. */
static int
footer_hms(const char **p, int max_hours, int32_t *ret)
{
    int sign = 1, h, m = 0, s = 0;

    if (eat(p, '-'))
        sign = -1;
    else
        (void) eat(p, '+');
    if (footer_number(p, 3, max_hours, &h) < 0)
        return -EINVAL;
    if (eat(p, ':')) {
        if (footer_number(p, 2, 59, &m) < 0)
            return -EINVAL;
        if (eat(p, ':')) {
            if (footer_number(p, 2, 59, &s) < 0)
                return -EINVAL;
        }
    }
    *ret = sign * (h * 3600 + m * 60 + s);
    return 0;
}

/* A POSIX offset is west of Greenwich; we keep east-positive UTC offsets. */
static int
footer_offset(const char **p, int32_t *ret_utoff)
{
    int32_t west;

    if (footer_hms(p, 24, &west) < 0)
        return -EINVAL;
    *ret_utoff = -west;
    return 0;
}

/* date[/time]: Jn, n or Mm.w.d; the time defaults to 02:00. */
static int
footer_rule(const char **p, struct tz_rule *r)
{
    memset(r, 0, sizeof *r);
    if (eat(p, 'J')) {
        r->kind = TZ_DATE_JULIAN1;
        if (footer_number(p, 3, 365, &r->day) < 0 || r->day < 1)
            return -EINVAL;
    } else if (eat(p, 'M')) {
        r->kind = TZ_DATE_MONTH_WEEK;
        if (footer_number(p, 2, 12, &r->month) < 0 || r->month < 1 || !eat(p, '.') ||
            footer_number(p, 1, 5, &r->week) < 0 || r->week < 1 || !eat(p, '.') ||
            footer_number(p, 1, 6, &r->wday) < 0)
            return -EINVAL;
    } else {
        r->kind = TZ_DATE_JULIAN0;
        if (footer_number(p, 3, 365, &r->day) < 0)
            return -EINVAL;
    }
    r->time = 2 * 3600;
    if (eat(p, '/')) {
        if (footer_hms(p, TZ_RULE_HOURS_MAX, &r->time) < 0)
            return -EINVAL;
    }
    return 0;
}

/*
 * std offset [dst [offset] [,start[/time],end[/time]]]. Without an explicit
 * daylight offset, daylight time is one hour ahead; without rules, the US
 * rules apply, as in glibc.
 */
static int
footer_parse(const char *s, struct tz *z)
{
    const char *p = s;

    if (footer_name(&p) < 0 || footer_offset(&p, &z->std_utoff) < 0)
        return -EINVAL;
    z->has_footer = true;
    if (!*p)
        return 0;
    if (footer_name(&p) < 0)
        return -EINVAL;
    z->has_dst = true;
    z->dst_utoff = z->std_utoff + 3600;
    if (*p && *p != ',' && footer_offset(&p, &z->dst_utoff) < 0)
        return -EINVAL;
    if (!*p) {
        z->start = (struct tz_rule){ .kind = TZ_DATE_MONTH_WEEK, .month = 3, .week = 2,
                                     .time = 2 * 3600 };
        z->end = (struct tz_rule){ .kind = TZ_DATE_MONTH_WEEK, .month = 11, .week = 1,
                                   .time = 2 * 3600 };
        return 0;
    }
    if (!eat(&p, ',') || footer_rule(&p, &z->start) < 0 || !eat(&p, ',') ||
        footer_rule(&p, &z->end) < 0 || *p)
        return -EINVAL;
    return 0;
}

/* The day (since the epoch) on which `r` falls in year `y`. */
static int64_t
rule_day(const struct tz_rule *r, int64_t y)
{
    int64_t first;
    int wday1, d;

    switch (r->kind) {
    case TZ_DATE_JULIAN1:
        return days_from_civil(y, 1, 1) + r->day - 1 + (is_leap(y) && r->day >= 60);
    case TZ_DATE_JULIAN0:
        return days_from_civil(y, 1, 1) + r->day;
    case TZ_DATE_MONTH_WEEK:
    default:
        first = days_from_civil(y, r->month, 1);
        wday1 = (int) (first + 4 - floor_div(first + 4, 7) * 7); /* 1970-01-01 was a Thursday */
        d = 1 + (r->wday - wday1 + 7) % 7 + (r->week - 1) * 7;
        if (d > month_days(y, r->month))
            d -= 7;
        return first + d - 1;
    }
}

/*
 * Daylight time or not at `t` under the footer's rules. Rather than
 * comparing with one year's start and end (which goes wrong when a
 * transition time pushes a change across New Year), take the latest change
 * at or before `t` among the years around it. When two changes fall on
 * the same instant (daylight time all year), daylight time wins.
 */
static bool
footer_is_dst(const struct tz *z, int64_t t)
{
    int64_t y, best = INT64_MIN;
    int m, d;
    bool dst = false;

    civil_from_days(floor_div(t + z->std_utoff, 86400), &y, &m, &d);
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        int64_t on = rule_day(&z->start, yy) * 86400 + z->start.time - z->std_utoff;
        int64_t off = rule_day(&z->end, yy) * 86400 + z->end.time - z->dst_utoff;

        if (off <= t && off > best) {
            best = off;
            dst = false;
        }
        if (on <= t && on >= best) {
            best = on;
            dst = true;
        }
    }
    return dst;
}

/* ---- TZif ---- */

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
    return (int64_t) ((uint64_t) be32(p) << 32 | be32(p + 4));
}

static int
tzif_header(const unsigned char *p, size_t left, struct tzif_counts *c)
{
    if (left < TZ_HEADER_BYTES || memcmp(p, "TZif", 4) != 0)
        return -EINVAL;
    /* version 2 and later only: '2', '3', '4', ... */
    if (p[4] < '2' || p[4] > '9')
        return -EINVAL;
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    return 0;
}

/* Bytes of a data block; 64-bit arithmetic cannot overflow with 32-bit counts. */
static uint64_t
tzif_block_bytes(const struct tzif_counts *c, unsigned time_size)
{
    return (uint64_t) c->time * (time_size + 1) + (uint64_t) c->type * 6 + c->chars +
           (uint64_t) c->leap * (time_size + 4) + c->isstd + c->isut;
}

/* Reads the 64-bit data block at `p`, which holds tzif_block_bytes(c, 8). */
static int
tzif_data(const unsigned char *p, const struct tzif_counts *c, struct tz *z)
{
    const unsigned char *idx = p + (size_t) c->time * 8, *ttinfo = idx + c->time;

    z->times = calloc(c->time ? c->time : 1, sizeof *z->times);
    z->type_of = calloc(c->time ? c->time : 1, sizeof *z->type_of);
    z->types = calloc(c->type, sizeof *z->types);
    if (!z->times || !z->type_of || !z->types)
        return -ENOMEM;
    z->n_times = c->time;
    z->n_types = c->type;
    for (size_t i = 0; i < c->time; i++) {
        z->times[i] = be64(p + i * 8);
        if (i > 0 && z->times[i] <= z->times[i - 1])
            return -EINVAL;
        if (idx[i] >= c->type)
            return -EINVAL;
        z->type_of[i] = idx[i];
    }
    for (size_t i = 0; i < c->type; i++) {
        const unsigned char *e = ttinfo + i * 6;
        int32_t utoff = (int32_t) be32(e);

        if (utoff < -TZ_UTOFF_MAX || utoff > TZ_UTOFF_MAX || e[4] > 1 || e[5] >= c->chars)
            return -EINVAL;
        z->types[i] = (struct tz_type){ .utoff = utoff, .isdst = e[4] };
    }
    return 0;
}

/* "\n" TZ-string "\n"; an empty string means no rule after the last transition. */
static int
tzif_footer(const unsigned char *p, size_t left, struct tz *z)
{
    char s[TZ_FOOTER_MAX_BYTES];
    size_t n = 0;

    if (left < 2 || p[0] != '\n')
        return -EINVAL;
    for (n = 0; 1 + n < left && p[1 + n] != '\n'; n++)
        if (n + 1 >= sizeof s || p[1 + n] < 0x20 || p[1 + n] > 0x7e)
            return -EINVAL;
    if (1 + n == left)
        return -EINVAL;
    if (n == 0)
        return 0;
    memcpy(s, p + 1, n);
    s[n] = '\0';
    return footer_parse(s, z);
}

int
tz_parse(const void *data, size_t len, struct tz **ret)
{
    _cleanup_(tz_freep) struct tz *z = NULL;
    const unsigned char *p = data;
    struct tzif_counts c;
    uint64_t block;
    size_t pos;
    int r;

    /* skip the header and 32-bit block of version 1 */
    if (tzif_header(p, len, &c) < 0)
        return -EINVAL;
    block = tzif_block_bytes(&c, 4);
    if (block > len - TZ_HEADER_BYTES)
        return -EINVAL;
    pos = TZ_HEADER_BYTES + (size_t) block;

    /* the header of the 64-bit block, checked before any size is used */
    if (tzif_header(p + pos, len - pos, &c) < 0)
        return -EINVAL;
    pos += TZ_HEADER_BYTES;
    if (c.type == 0 || c.type > 256 || c.chars == 0 || (c.isut != 0 && c.isut != c.type) ||
        (c.isstd != 0 && c.isstd != c.type))
        return -EINVAL;
    /* NEEDSWORK: leap-second zones ("right/...") count TAI-like seconds; not read */
    if (c.leap != 0)
        return -EINVAL;
    block = tzif_block_bytes(&c, 8);
    if (block > len - pos)
        return -EINVAL;

    z = calloc(1, sizeof *z);
    if (!z)
        return -ENOMEM;
    r = tzif_data(p + pos, &c, z);
    if (r < 0)
        return r;
    pos += (size_t) block;
    r = tzif_footer(p + pos, len - pos, z);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(z);
    return 0;
}

int
tz_load(const char *name, struct tz **ret)
{
    _cleanup_free_ char *path = NULL, *data = NULL;
    size_t len;
    int r;

    if (!tz_name_is_valid(name))
        return -EINVAL;
    path = path_join(TZ_DIR, name);
    if (!path)
        return -ENOMEM;
    r = fs_read_all(path, TZ_FILE_MAX_BYTES, &data, &len);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return -ENOENT;
    r = tz_parse(data, len, ret);
    if (r == -ENOMEM)
        return r;
    return r < 0 ? -ENOENT : 0;
}

struct tz *
tz_free(struct tz *z)
{
    if (z) {
        free(z->times);
        free(z->type_of);
        free(z->types);
        free(z);
    }
    return NULL;
}

/* ---- conversion ---- */

static void
offset_at(const struct tz *z, int64_t t, int32_t *ret_utoff, bool *ret_isdst)
{
    size_t lo = 0, hi = z->n_times;
    const struct tz_type *type;

    /* after the last transition (or with none), the footer rules when there is one */
    if (z->has_footer && (z->n_times == 0 || t >= z->times[z->n_times - 1])) {
        bool dst = z->has_dst && footer_is_dst(z, t);
        *ret_utoff = dst ? z->dst_utoff : z->std_utoff;
        *ret_isdst = dst;
        return;
    }
    /* before the first transition, type 0 (RFC 8536, 3.2) */
    if (z->n_times == 0 || t < z->times[0]) {
        type = &z->types[0];
    } else {
        /* the last transition at or before t */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (z->times[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        type = &z->types[z->type_of[lo]];
    }
    *ret_utoff = type->utoff;
    *ret_isdst = type->isdst;
}

void
tz_localtime(const struct tz *z, time_t t, struct tm *out)
{
    int64_t tt = MAX(MIN((int64_t) t, TZ_T_LIMIT), -TZ_T_LIMIT), local, days, secs, y;
    int32_t utoff;
    bool isdst;
    int m, d;

    offset_at(z, tt, &utoff, &isdst);
    local = tt + utoff;
    days = floor_div(local, 86400);
    secs = local - days * 86400;
    civil_from_days(days, &y, &m, &d);

    memset(out, 0, sizeof *out);
    out->tm_sec = (int) (secs % 60);
    out->tm_min = (int) (secs / 60 % 60);
    out->tm_hour = (int) (secs / 3600);
    out->tm_mday = d;
    out->tm_mon = m - 1;
    out->tm_year = (int) (y - 1900);
    out->tm_wday = (int) (days + 4 - floor_div(days + 4, 7) * 7);
    out->tm_yday = (int) (days - days_from_civil(y, 1, 1));
    out->tm_isdst = isdst;
    out->tm_gmtoff = utoff;
    out->tm_zone = NULL;
}
