/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/audit.h"
#include "util/strutil.h"

/* Exactly `n` digits at s, into *ret. */
static bool
digits(const char *s, int n, int *ret)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return true;
}

static int
parse_date(const char *s, int64_t *ret)
{
    struct tm tm = { 0 };
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t len = strlen(s);
    time_t t;

    if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return -EINVAL;
    s += 10;
    if (*s == 'T' || *s == ' ') {
        if (!digits(s + 1, 2, &h) || s[3] != ':' || !digits(s + 4, 2, &mi))
            return -EINVAL;
        s += 6;
        if (*s == ':') {
            if (!digits(s + 1, 2, &sec))
                return -EINVAL;
            s += 3;
        }
        if (*s == 'Z')
            s++;
    }
    if (*s || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60)
        return -EINVAL;
    tm = (struct tm){ .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                      .tm_min = mi, .tm_sec = sec };
    t = timegm(&tm);
    /* no 31 February: timegm would roll it into March */
    if (t == (time_t) -1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
        return -EINVAL;
    *ret = (int64_t) t * 1000;
    return 0;
}

int
audit_parse_time(const char *s, int64_t now_ms, int64_t *ret)
{
    size_t len = strlen(s);
    int64_t v, unit;

    if (len == 0 || len > 32)
        return -EINVAL;
    if (parse_int64(s, 0, INT64_MAX / 2, &v) == 0) {
        *ret = v;
        return 0;
    }
    switch (s[len - 1]) {
    case 'm':
        unit = 60 * 1000;
        break;
    case 'h':
        unit = 3600 * 1000;
        break;
    case 'd':
        unit = 24 * 3600 * 1000LL;
        break;
    default:
        return parse_date(s, ret);
    }
    {
        char num[32];

        memcpy(num, s, len - 1);
        num[len - 1] = '\0';
        if (parse_int64(num, 0, 100 * 365, &v) < 0)
            return -EINVAL;
    }
    *ret = now_ms - v * unit;
    return 0;
}
