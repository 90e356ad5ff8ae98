/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What a build's description and display name may hold, for every face
 * that sets them (the API, the pages, the engine): UTF-8 text within
 * BOUND_BUILD_DESCRIPTION_BYTES and BOUND_BUILD_DISPLAY_NAME_BYTES; a
 * description may have tabs and line breaks, a display name is one line.
 * Both are shown as text, never as HTML.
 */

#include <stddef.h>

/*
 * 0 when `s` may be a build's description; -E2BIG past the bound, -EINVAL
 * for bytes that are not UTF-8 or a control character other than tab, CR
 * and LF. *reterr_why (when not NULL) gets a sentence saying which.
 */
int buildmeta_check_description(const char *s, const char **reterr_why);
/* The same for a display name: no control character at all. */
int buildmeta_check_display_name(const char *s, const char **reterr_why);

/*
 * A copy of `s` that passes buildmeta_check_description(): cut at the
 * bound on a character's boundary, other control characters made spaces,
 * bytes that are not UTF-8 made '?'. For text the server makes itself
 * (a plugin's description of a build). NULL when out of memory.
 */
char *buildmeta_clean_description(const char *s);
