/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/strutil.h"

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int
decode(char *s, size_t len, bool plus_is_space)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+' && plus_is_space)
            c = ' ';
        else if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return -EINVAL;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (char) (hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return -EINVAL;
        s[o++] = c;
    }
    s[o] = '\0';
    return (int) o;
}

int
url_decode_inplace(char *s, size_t len)
{
    return decode(s, len, true);
}

int
url_decode_path_inplace(char *s, size_t len)
{
    return decode(s, len, false);
}

int
url_encode(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int r;

    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            r = buf_putc(out, (char) c);
        else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            r = buf_append(out, e, 3);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

int
json_quote(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *run = s;
    int r = buf_putc(out, '"');

    /* as jansson writes strings: UTF-8 as it is, '/' unescaped */
    for (; r >= 0 && *s; s++) {
        unsigned char c = (unsigned char) *s;
        char e[6];
        size_t n = 6;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        memcpy(e, (char[6]){ '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] }, sizeof e);
        r = buf_append(out, run, (size_t) (s - run));
        switch (c) {
        case '"': case '\\': e[1] = (char) c; n = 2; break;
        case '\b': e[1] = 'b'; n = 2; break;
        case '\f': e[1] = 'f'; n = 2; break;
        case '\n': e[1] = 'n'; n = 2; break;
        case '\r': e[1] = 'r'; n = 2; break;
        case '\t': e[1] = 't'; n = 2; break;
        default: break;
        }
        if (r >= 0)
            r = buf_append(out, e, n);
        run = s + 1;
    }
    if (r >= 0)
        r = buf_append(out, run, (size_t) (s - run));
    return r < 0 ? r : buf_putc(out, '"');
}

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
    char *end;
    long long v;

    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
        return -EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end)
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

bool
utf8_is_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s, *e = p + len;

    while (p < e) {
        unsigned char c = *p;
        size_t n;
        uint32_t cp;

        if (c == 0)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            n = 1, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
            n = 2, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0)
            n = 3, cp = c & 0x07;
        else
            return false;
        if ((size_t) (e - p) <= n)
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

bool
startswith(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *
rfmt(const char *fmt, ...)
{
    static __thread char slots[4][1024];
    static __thread unsigned next;
    char *s = slots[next++ % 4];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s, sizeof slots[0], fmt, ap);
    va_end(ap);
    return s;
}

char *
strdup_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&s, fmt, ap);
    va_end(ap);
    return r < 0 ? NULL : s;
}

char *
strdup_one_line(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *c = strndup(s, n);

    if (!c)
        return NULL;
    /* a cut in the middle of a character goes back to the character's start */
    while (n > 0 && !utf8_is_valid(c, n) && ((unsigned char) c[n - 1] & 0x80))
        c[--n] = '\0';
    if (!utf8_is_valid(c, n))
        for (char *p = c; *p; p++)
            if ((unsigned char) *p & 0x80)
                *p = '?';
    for (unsigned char *p = (unsigned char *) c; *p; p++) {
        if (*p < ' ' || *p == 0x7f)
            *p = ' ';
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            p[0] = p[1] = ' ';
    }
    return c;
}
