/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "http/route.h"
#include "util/macro.h"
#include "util/strutil.h"

bool
route_is_api_format(const char *s)
{
    return s && (streq(s, "json") || streq(s, "xml") || streq(s, "python"));
}

bool
route_is_build_ref(const char *s)
{
    static const char *const links[] = { "lastBuild", "lastSuccessfulBuild", "lastFailedBuild",
                                         "lastCompletedBuild", "lastStableBuild",
                                         "lastUnstableBuild", "lastUnsuccessfulBuild",
                                         "firstBuild" };
    int64_t n;

    if (parse_int64(s, 1, INT64_MAX, &n) == 0)
        return true;
    for (size_t i = 0; i < ELEMENTSOF(links); i++)
        if (streq(s, links[i]))
            return true;
    return false;
}

static bool
segment_matches(const char *pat, size_t len, const char *seg)
{
    if (len == 1 && pat[0] == '*')
        return true;
    if (len == 5 && memcmp(pat, "{api}", 5) == 0)
        return route_is_api_format(seg);
    if (len == 7 && memcmp(pat, "{build}", 7) == 0)
        return route_is_build_ref(seg);
    return strlen(seg) == len && memcmp(pat, seg, len) == 0;
}

bool
route_path_matches(const char *p, const struct req *req)
{
    size_t i = 0, len;

    if (!*p)
        return req->n_seg == 0;
    for (;;) {
        len = strcspn(p, "/");
        if (len == 2 && p[0] == '*' && p[1] == '*')
            return true;
        if (i >= req->n_seg || !segment_matches(p, len, req->seg[i]))
            return false;
        i++;
        p += len;
        if (!*p)
            return i == req->n_seg;
        p++;
    }
}

bool
route_method_matches(const struct route *r, const struct req *req)
{
    if (r->flags & ROUTE_ANY)
        return true;
    if ((r->flags & ROUTE_GET) && req_is_get(req))
        return true;
    return (r->flags & ROUTE_POST) && req->is_post;
}

