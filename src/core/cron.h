/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Jenkins' cron specs for timer triggers: one schedule per line, five
 * fields (minute hour day-of-month month day-of-week), '#' comments, and
 * Jenkins' extensions: H (a value hashed from the job name, so jobs spread
 * out), H(a-b), H/n, ranges, steps, lists, and @yearly, @annually,
 * @monthly, @weekly, @daily, @midnight, @hourly. As in Jenkins, a time
 * matches a line when every field matches (day of month AND day of week).
 *
 * A spec may name its time zone in a line "TZ=Zone/Name" (a tz database
 * id, e.g. TZ=Europe/London): all its schedule lines are then evaluated in
 * that zone, daylight saving time included, instead of the server's. There
 * is at most one TZ= line and it comes before every schedule line
 * (comments and blank lines may precede it). Without one, the server's
 * local zone applies.
 */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct cron;

/*
 * Parses `spec` for the job `seed` (H depends on it) and loads the zone of
 * its TZ= line, if any, from /usr/share/zoneinfo. Returns 0 and *ret_cron
 * (NULL when the spec has no schedule line, even if it has a TZ= line),
 * -EINVAL with a static message in *reterr_msg (also for a misplaced or
 * second TZ= line and an empty, invalid or unknown zone), -ENOMEM.
 */
int cron_parse(const char *spec, const char *seed, struct cron **ret_cron,
               const char **reterr_msg);
/*
 * True when the minute of `tm`, a local time of the server's zone, is
 * scheduled. For a spec with a TZ= line, the instant is recovered from
 * `tm` and its tm_gmtoff, so `tm` must be complete, as localtime_r()
 * fills it; cron_matches_at() is the better call. False for a NULL `c`.
 */
bool cron_matches(const struct cron *c, const struct tm *tm);
/*
 * True when the minute containing the instant `minute` is scheduled,
 * evaluated in the spec's TZ= zone, or else in the server's local zone.
 * False for a NULL `c`. Safe to call from any thread.
 */
bool cron_matches_at(const struct cron *c, time_t minute);
/* Frees `c` and its zone; accepts NULL, returns NULL. */
struct cron *cron_free(struct cron *c);
