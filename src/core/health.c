/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "core/health.h"
#include "util/strutil.h"

static void
icon(struct health *h)
{
    static const struct {
        int above;
        const char *cls, *url;
    } icons[] = {
        { 80, "icon-health-80plus", "health-80plus.png" },
        { 60, "icon-health-60to79", "health-60to79.png" },
        { 40, "icon-health-40to59", "health-40to59.png" },
        { 20, "icon-health-20to39", "health-20to39.png" },
        { -1, "icon-health-00to19", "health-00to19.png" },
    };

    for (size_t i = 0; i < sizeof icons / sizeof icons[0]; i++)
        if (h->score > icons[i].above) {
            h->icon_class = icons[i].cls;
            h->icon_url = icons[i].url;
            return;
        }
}

/*
 * Jenkins' Job.getBuildStabilityHealthReport(): the last five builds
 * that ended SUCCESS, UNSTABLE or FAILURE (blue, yellow, red); aborted
 * and not-built ones say nothing and are passed over. Only FAILURE counts
 * as failed.
 */
#define STABILITY_BUILDS 5
#define STABILITY_LOOK_BACK 50

int
health_of_job(struct store *db, const char *job, struct health out[2], size_t *ret_n)
{
    struct build_row *rows = NULL;
    struct test_summary t;
    size_t n = 0, failed = 0, done = 0, k = 0;
    int64_t last = 0;

    if (store_build_list(db, job, 0, STABILITY_LOOK_BACK, &rows, &n) < 0)
        n = 0;
    for (size_t i = 0; i < n && done < STABILITY_BUILDS; i++) {
        const char *r = rows[i].result;

        if (!r)
            continue;
        if (!last)
            last = rows[i].number;
        if (!streq(r, "SUCCESS") && !streq(r, "UNSTABLE") && !streq(r, "FAILURE"))
            continue;
        done++;
        failed += streq(r, "FAILURE");
    }
    build_rows_free(rows, n);
    if (done > 0) {
        out[k].score = (int) (100 * (done - failed) / done);
        if (failed == 0)
            snprintf(out[k].description, sizeof out[k].description,
                     "Build stability: No recent builds failed.");
        else if (failed == done)
            snprintf(out[k].description, sizeof out[k].description,
                     "Build stability: All recent builds failed.");
        else
            snprintf(out[k].description, sizeof out[k].description,
                     "Build stability: %zu out of the last %zu builds failed.", failed, done);
        icon(&out[k++]);
    }
    if (!last && store_build_permalink(db, job, "lastCompletedBuild", &last) < 0)
        last = 0;
    /* Jenkins' TestResultAction.getBuildHealth(); a healthScaleFactor of 0 turns it off */
    if (last && store_tests_summary(db, job, last, &t) == 0 && t.total > 0 &&
        t.health_scale >= 1e-7) {
        double lost = 100.0 * (double) t.failed * t.health_scale / (double) t.total;

        out[k].score = (int) (100.0 - (lost > 100.0 ? 100.0 : lost));
        snprintf(out[k].description, sizeof out[k].description,
                 "Test Result: %lld test%s failing out of a total of %lld test%s.",
                 (long long) t.failed, t.failed == 1 ? "" : "s", (long long) t.total,
                 t.total == 1 ? "" : "s");
        icon(&out[k++]);
    }
    if (k == 2 && out[1].score < out[0].score) {
        struct health tmp = out[0];
        out[0] = out[1];
        out[1] = tmp;
    }
    *ret_n = k;
    return 0;
}
