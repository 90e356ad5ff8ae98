/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buildmeta.h"
#include "util/bounds.h"
#include "util/strutil.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static int
check(const char *s, size_t bound, bool multiline, const char **reterr_why)
{
    size_t len = strnlen(s, bound + 1);
    const char *why = NULL;
    int r = 0;

    if (len > bound) {
        why = multiline ? "The description is longer than " STR(BOUND_BUILD_DESCRIPTION_BYTES)
                          " bytes."
                        : "The display name is longer than " STR(BOUND_BUILD_DISPLAY_NAME_BYTES)
                          " bytes.";
        r = -E2BIG;
    } else if (!utf8_is_valid(s, len)) {
        why = multiline ? "The description is not UTF-8 text." : "The display name is not UTF-8 text.";
        r = -EINVAL;
    } else {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
            if (*p >= 0x20 && *p != 0x7f)
                continue;
            if (multiline && (*p == '\t' || *p == '\n' || *p == '\r'))
                continue;
            why = multiline ? "The description holds a control character (only tabs and line "
                              "breaks are allowed)."
                            : "The display name holds a control character (it is one line of "
                              "text).";
            r = -EINVAL;
            break;
        }
    }
    if (r < 0 && reterr_why)
        *reterr_why = why;
    return r;
}

int
buildmeta_check_description(const char *s, const char **reterr_why)
{
    return check(s, BOUND_BUILD_DESCRIPTION_BYTES, true, reterr_why);
}

int
buildmeta_check_display_name(const char *s, const char **reterr_why)
{
    return check(s, BOUND_BUILD_DISPLAY_NAME_BYTES, false, reterr_why);
}

char *
buildmeta_clean_description(const char *s)
{
    size_t len = strlen(s);
    char *copy;

    if (len > BOUND_BUILD_DESCRIPTION_BYTES) {
        len = BOUND_BUILD_DESCRIPTION_BYTES;
        /* back to the start of a character */
        while (len > 0 && ((unsigned char) s[len] & 0xc0) == 0x80)
            len--;
    }
    copy = strndup(s, len);
    if (!copy)
        return NULL;
    for (unsigned char *p = (unsigned char *) copy; *p; p++)
        if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)
            *p = ' ';
    if (!utf8_is_valid(copy, len))
        for (unsigned char *p = (unsigned char *) copy; *p; p++)
            if (*p >= 0x80)
                *p = '?';
    return copy;
}
