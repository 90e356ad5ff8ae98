/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A job's health, as Jenkins' weather: one report on the stability of its
 * last five finished builds and, when its last finished build recorded
 * tests, one on how many of them failed. Scores are 0 to 100.
 */

#include <stddef.h>

#include "store/store.h"

struct health {
    int score;
    char description[128];
    const char *icon_class;   /* icon-health-80plus ... icon-health-00to19 */
    const char *icon_url;     /* health-80plus.png ... */
};

/*
 * Fills out[0..*ret_n), worst first (Jenkins sorts them so; the first is
 * the job's weather). *ret_n is 0 for a job without a finished build.
 */
int health_of_job(struct store *db, const char *job, struct health out[2], size_t *ret_n);
