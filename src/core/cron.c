/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cron.h"
#include "util/macro.h"
#include "util/tz.h"

#define CRON_MAX_LINES 32

struct cron_line {
    uint64_t bits[5];  /* minute 0-59, hour 0-23, dom 1-31, month 1-12, dow 0-6 */
};

struct cron {
    struct cron_line lines[CRON_MAX_LINES];
    size_t n;
    struct tz *tz; /* from a TZ= line; NULL: the server's zone */
};

static void
cron_freep(struct cron **p)
{
    cron_free(*p);
}

static const int lo_of[5] = { 0, 0, 1, 1, 0 };
static const int hi_of[5] = { 59, 23, 31, 12, 7 };

static uint32_t
seed_hash(const char *seed, int field)
{
    uint32_t h = 2166136261u;

    for (const char *p = seed; *p; p++)
        h = (h ^ (unsigned char) *p) * 16777619u;
    h = (h ^ (uint32_t) field) * 16777619u;
    return h ^ (h >> 15);
}

static int
number(const char **p, int *ret)
{
    int v = 0, digits = 0;

    while (isdigit((unsigned char) **p) && digits < 4) {
        v = v * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    if (digits == 0 || isdigit((unsigned char) **p))
        return -EINVAL;
    *ret = v;
    return 0;
}

/* One comma-separated term of a field: *, H, N, N-M, H(N-M), each with an optional /step. */
static int
term(const char **p, int field, const char *seed, uint64_t *bits, const char **msg)
{
    int lo = lo_of[field], hi = hi_of[field], a, b, step = 1;
    bool hashed = false;

    if (**p == '*') {
        (*p)++;
        a = lo;
        b = field == 4 ? 6 : hi;
    } else if (**p == 'H') {
        (*p)++;
        hashed = true;
        a = lo;
        b = field == 4 ? 6 : (field == 2 ? 28 : hi); /* H in day of month stays in 1-28 */
        if (**p == '(') {
            (*p)++;
            if (number(p, &a) < 0 || **p != '-' || (++*p, number(p, &b)) < 0 || **p != ')') {
                *msg = "H(a-b) needs two numbers, e.g. H(0-29)";
                return -EINVAL;
            }
            (*p)++;
        }
    } else {
        if (number(p, &a) < 0) {
            *msg = "a cron field takes *, H, numbers, ranges (a-b), steps (/n) and lists (a,b)";
            return -EINVAL;
        }
        b = a;
        if (**p == '-') {
            (*p)++;
            if (number(p, &b) < 0) {
                *msg = "a range needs a number after '-'";
                return -EINVAL;
            }
        }
    }
    if (**p == '/') {
        (*p)++;
        if (number(p, &step) < 0 || step < 1) {
            *msg = "a step needs a positive number after '/'";
            return -EINVAL;
        }
        if (a == b && !hashed) /* "5/15" means from 5 on */
            b = field == 4 ? 6 : hi;
    }
    if (a < lo || b > hi || a > b) {
        *msg = "a cron value is out of its field's range (minute 0-59, hour 0-23, day 1-31, "
               "month 1-12, weekday 0-7)";
        return -EINVAL;
    }
    if (hashed) {
        /* H: one hashed value in [a, b], or with a step, a hashed offset repeated */
        uint32_t h = seed_hash(seed, field);
        int start = a + (int) (h % (uint32_t) (step > 1 ? MIN(step, b - a + 1) : b - a + 1));
        for (int v = start; v <= b; v += (step > 1 ? step : b - a + 2))
            *bits |= 1ULL << (field == 4 && v == 7 ? 0 : v);
        return 0;
    }
    for (int v = a; v <= b; v += step)
        *bits |= 1ULL << (field == 4 && v == 7 ? 0 : v);
    return 0;
}

static int
parse_line(const char *line, const char *seed, struct cron_line *out, const char **msg)
{
    static const struct {
        const char *name;
        const char *spec;
    } aliases[] = {
        { "@yearly", "H H H H *" },  { "@annually", "H H H H *" }, { "@monthly", "H H H * *" },
        { "@weekly", "H H * * H" },  { "@daily", "H H * * *" },    { "@midnight", "H H(0-2) * * *" },
        { "@hourly", "H * * * *" },
    };
    const char *p = line;

    for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
        if (strcmp(line, aliases[i].name) == 0)
            return parse_line(aliases[i].spec, seed, out, msg);
    memset(out, 0, sizeof *out);
    for (int field = 0; field < 5; field++) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p) {
            *msg = "a cron line needs five fields: minute hour day-of-month month day-of-week";
            return -EINVAL;
        }
        for (;;) {
            int r = term(&p, field, seed, &out->bits[field], msg);
            if (r < 0)
                return r;
            if (*p != ',')
                break;
            p++;
        }
        if (*p && *p != ' ' && *p != '\t') {
            *msg = "a cron field takes *, H, numbers, ranges (a-b), steps (/n) and lists (a,b)";
            return -EINVAL;
        }
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p) {
        *msg = "a cron line has five fields; this one has more";
        return -EINVAL;
    }
    return 0;
}

/*
 * "TZ=Zone/Name". Jenkins only looks at the spec's first line; we also
 * allow comments and blank lines above it, but refuse what Jenkins would
 * refuse or misread: a TZ= line after a schedule line, a second one, and a
 * zone that is not in the tz database.
 */
static int
parse_tz_line(struct cron *c, const char *name, const char **msg)
{
    int r;

    if (c->tz) {
        *msg = "a timer spec takes only one TZ= line";
        return -EINVAL;
    }
    if (c->n > 0) {
        *msg = "the TZ= line must come before the schedule lines";
        return -EINVAL;
    }
    if (!*name) {
        *msg = "TZ= needs a time zone name, e.g. TZ=Europe/London";
        return -EINVAL;
    }
    r = tz_load(name, &c->tz);
    if (r == -EINVAL) {
        *msg = "invalid time zone name in TZ= (at most 64 letters, digits, '_', '+', '-' and '/')";
        return -EINVAL;
    }
    if (r == -ENOENT) {
        *msg = "unknown time zone in TZ= (see /usr/share/zoneinfo)";
        return -EINVAL;
    }
    return r;
}

int
cron_parse(const char *spec, const char *seed, struct cron **ret_cron, const char **reterr_msg)
{
    _cleanup_(cron_freep) struct cron *c = calloc(1, sizeof *c);
    _cleanup_free_ char *copy = strdup(spec);
    char *save = NULL;

    if (!c || !copy)
        return -ENOMEM;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *hash = strchr(line, '#'), *end;
        int r;

        if (hash)
            *hash = '\0';
        while (*line == ' ' || *line == '\t' || *line == '\r')
            line++;
        end = line + strlen(line);
        while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = '\0';
        if (!*line)
            continue;
        if (strncmp(line, "TZ=", 3) == 0) {
            r = parse_tz_line(c, line + 3, reterr_msg);
            if (r < 0)
                return r;
            continue;
        }
        if (c->n == CRON_MAX_LINES) {
            *reterr_msg = "a timer spec has at most 32 lines";
            return -EINVAL;
        }
        r = parse_line(line, seed, &c->lines[c->n], reterr_msg);
        if (r < 0)
            return r;
        c->n++;
    }
    *ret_cron = c->n ? TAKE_PTR(c) : NULL;
    return 0;
}

static bool
matches_tm(const struct cron *c, const struct tm *tm)
{
    for (size_t i = 0; c && i < c->n; i++) {
        const uint64_t *b = c->lines[i].bits;
        if ((b[0] >> tm->tm_min & 1) && (b[1] >> tm->tm_hour & 1) && (b[2] >> tm->tm_mday & 1) &&
            (b[3] >> (tm->tm_mon + 1) & 1) && (b[4] >> tm->tm_wday & 1))
            return true;
    }
    return false;
}

bool
cron_matches(const struct cron *c, const struct tm *tm)
{
    /* a local broken-down time and its offset give back the instant */
    if (c && c->tz)
        return cron_matches_at(c, tz_timegm(tm) - tm->tm_gmtoff);
    return matches_tm(c, tm);
}

bool
cron_matches_at(const struct cron *c, time_t minute)
{
    struct tm tm;

    if (!c)
        return false;
    if (c->tz)
        tz_localtime(c->tz, minute, &tm);
    else if (!localtime_r(&minute, &tm))
        return false;
    return matches_tm(c, &tm);
}

struct cron *
cron_free(struct cron *c)
{
    if (c) {
        tz_free(c->tz);
        free(c);
    }
    return NULL;
}
