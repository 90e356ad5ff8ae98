/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for junit_parse(): the JUnit XML reports a build leaves
 * in its workspace, which the build's code could have written to harm the
 * server. Any input is read or refused with a reason, without a crash;
 * what is read keeps every bound of core/junit.h, and a refused report
 * leaves none of its cases behind.
 *
 * Build: tests/fuzz/run.sh (FUZZ_TARGETS=junit).
 * Replay without libFuzzer: add -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/junit.h"
#include "util/macro.h"
#include "fuzz.h"

/* a clipped text ends with a note of what was left out */
#define NOTE_MAX 64

static void
check_len(const char *s, size_t max)
{
    CHECK(!s || strlen(s) <= max + NOTE_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct junit_result res = { 0 };
    int r;

    for (int keep = 0; keep < 2; keep++) {
        r = junit_parse((const char *) data, size, "fuzz.xml", keep, &res);
        CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r == -EINVAL)
            CHECK(res.error && res.n_cases == 0);
        CHECK(res.n_cases <= JUNIT_MAX_CASES);
        for (size_t i = 0; i < res.n_cases; i++) {
            const struct test_case_row *c = &res.cases[i];

            CHECK(c->suite && c->class_name && c->name && c->status);
            CHECK(streq(c->status, "PASSED") || streq(c->status, "FAILED") ||
                  streq(c->status, "SKIPPED"));
            CHECK(c->duration >= 0 && c->duration <= 1e9);
            check_len(c->name, JUNIT_MAX_NAME);
            check_len(c->class_name, JUNIT_MAX_NAME);
            check_len(c->error_details, JUNIT_MAX_DETAILS);
            check_len(c->error_stack, JUNIT_MAX_STACK);
            check_len(c->stdout_text, keep ? JUNIT_MAX_LONG_STDIO : JUNIT_MAX_STDIO);
            check_len(c->stderr_text, keep ? JUNIT_MAX_LONG_STDIO : JUNIT_MAX_STDIO);
        }
        junit_result_release(&res);
    }
    return 0;
}
