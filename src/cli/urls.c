/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "cli/urls.h"
#include "util/macro.h"
#include "util/strutil.h"

int
urls_job_path(struct buf *out, const char *name)
{
    const char *seg = name;
    int r;

    if (!name || !*name)
        return -EINVAL;
    while (*seg) {
        size_t len = strcspn(seg, "/");
        char part[1024];
        if (len == 0 || len >= sizeof part)
            return -EINVAL;
        memcpy(part, seg, len);
        part[len] = '\0';
        r = buf_puts(out, "job/");
        if (r >= 0)
            r = url_encode(out, part);
        if (r >= 0)
            r = buf_putc(out, '/');
        if (r < 0)
            return r;
        seg += len;
        if (*seg == '/') {
            seg++;
            if (!*seg)
                return -EINVAL;
        }
    }
    return 0;
}

int
urls_form_add(struct buf *out, const char *key, const char *value)
{
    int r = 0;

    if (out->len)
        r = buf_putc(out, '&');
    if (r >= 0)
        r = url_encode(out, key);
    if (r >= 0)
        r = buf_putc(out, '=');
    if (r >= 0)
        r = url_encode(out, value);
    return r;
}

int
urls_queue_id(const char *location, int64_t *ret_id)
{
    const char *p, *end;
    char num[24];
    size_t len;

    if (!location || !*location)
        return -EINVAL;
    p = strstr(location, "queue/item/");
    if (p)
        p += strlen("queue/item/");
    else if (strspn(location, "0123456789") == strlen(location))
        p = location;
    else
        return -EINVAL;
    end = p + strspn(p, "0123456789");
    len = (size_t) (end - p);
    if (len == 0 || len >= sizeof num || (*end && !(end[0] == '/' && end[1] == '\0')))
        return -EINVAL;
    memcpy(num, p, len);
    num[len] = '\0';
    return parse_int64(num, 1, INT64_MAX, ret_id);
}

bool
urls_is_build_ref(const char *s)
{
    static const char *const permalinks[] = {
        "lastBuild",          "lastSuccessfulBuild", "lastStableBuild",       "lastFailedBuild",
        "lastUnstableBuild",  "lastCompletedBuild",  "lastUnsuccessfulBuild", "firstBuild",
    };
    int64_t n;

    if (!s)
        return false;
    if (parse_int64(s, 1, INT64_MAX, &n) == 0)
        return true;
    for (size_t i = 0; i < ELEMENTSOF(permalinks); i++)
        if (streq(s, permalinks[i]))
            return true;
    return false;
}

static bool
all_hex(const char *s, size_t n, bool lower_only)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (!lower_only && c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

bool
urls_is_api_token_shaped(const char *s)
{
    return s && strlen(s) == 34 && s[0] == '1' && s[1] == '1' && all_hex(s + 2, 32, true);
}

bool
urls_is_legacy_token_shaped(const char *s)
{
    return s && strlen(s) == 32 && all_hex(s, 32, false);
}
