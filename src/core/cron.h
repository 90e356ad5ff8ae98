/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Jenkins' cron specs for timer triggers: one schedule per line, five
 * fields (minute hour day-of-month month day-of-week), '#' comments, and
 * Jenkins' extensions: H (a value hashed from the job name, so jobs spread
 * out), H(a-b), H/n, ranges, steps, lists, and @yearly, @annually,
 * @monthly, @weekly, @daily, @midnight, @hourly. As in Jenkins, a time
 * matches a line when every field matches (day of month AND day of week).
 * "TZ=..." lines are not supported and are refused.
 */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct cron;

/*
 * Parses `spec` for the job `seed` (H depends on it). Returns 0 and
 * *ret_cron (NULL when the spec has no schedule line), -EINVAL with a
 * static message in *reterr_msg, -ENOMEM.
 */
int cron_parse(const char *spec, const char *seed, struct cron **ret_cron,
               const char **reterr_msg);
/* True when the minute of `tm` (local time) is scheduled. */
bool cron_matches(const struct cron *c, const struct tm *tm);
struct cron *cron_free(struct cron *c);
