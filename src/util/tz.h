/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Time zones from the compiled tz database (/usr/share/zoneinfo/NAME, the
 * TZif format of RFC 8536), read without touching the process-wide zone:
 * no TZ variable, no tzset(), so any thread may use any zone at any time.
 *
 * Only version 2 and later files are read, and only their 64-bit data
 * block. Past the last transition the POSIX TZ string of the file's footer
 * gives the rule ("GMT0BST,M3.5.0/1,M10.5.0"): Mm.w.d, Jn and n dates,
 * explicit offsets and transition times, including RFC 8536's negative
 * times and hours up to 167. Files with leap-second records ("right/...")
 * are not read. A loaded zone is immutable and may be shared by threads.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define TZ_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX_BYTES 64
#define TZ_FILE_MAX_BYTES (256 * 1024)

struct tz;

/*
 * True when `name` may name a zone: 1 to 64 bytes of [A-Za-z0-9_+-/],
 * no leading or trailing '/', no empty, "." or ".." component.
 */
bool tz_name_is_valid(const char *name);

/*
 * Loads the zone `name` (e.g. "Europe/London") from TZ_DIR. Returns 0 and
 * *ret; -EINVAL for a name tz_name_is_valid() refuses; -ENOENT for an
 * unknown zone, which includes a file that is missing, unreadable, larger
 * than TZ_FILE_MAX_BYTES or malformed; -ENOMEM.
 */
int tz_load(const char *name, struct tz **ret);

/*
 * Parses `len` bytes of a TZif file. Returns 0 and *ret, -EINVAL when the
 * data is malformed or unsupported, -ENOMEM. `data` is only borrowed.
 */
int tz_parse(const void *data, size_t len, struct tz **ret);

/* Frees `z`; accepts NULL, returns NULL. */
struct tz *tz_free(struct tz *z);
static inline void tz_freep(struct tz **p) { tz_free(*p); }

/*
 * Breaks `t` down into the local time of `z`: fills tm_sec, tm_min,
 * tm_hour, tm_mday, tm_mon, tm_year, tm_wday, tm_yday, tm_isdst and
 * tm_gmtoff, as localtime_r() would in that zone; tm_zone is NULL.
 * Instants further than 2^55 seconds from the epoch are clamped to that.
 */
void tz_localtime(const struct tz *z, time_t t, struct tm *out);

/*
 * The instant of a broken-down UTC time: reads tm_year, tm_mon, tm_mday,
 * tm_hour, tm_min and tm_sec (which may be out of their ranges, as for
 * timegm()) and nothing else; no global state is used.
 */
time_t tz_timegm(const struct tm *tm);
