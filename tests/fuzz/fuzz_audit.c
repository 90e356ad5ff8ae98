/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the audit log's and the API tokens' parsers: the
 * time of a filter (audit_parse_time), token scopes (scopes_parse,
 * scopes_format) and a token's job list (token_jobs_check, token_job_ok).
 *
 * The input is split at its first NUL: a text, and a job name.
 *   - a time either parses to an instant within a day of the year range
 *     it may name, or is -EINVAL; a time that parses parses the same again;
 *   - scopes that parse format to a list that parses to the same scopes;
 *   - a job list that checks never makes token_job_ok() crash, and every
 *     plain name in it (no glob characters) matches itself.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *           src/core/audit.c src/core/perm.c src/util/strutil.c src/util/buf.c \
 *           tests/fuzz/fuzz_audit.c $(pkg-config --libs libsodium)
 * Replay without libFuzzer (e.g. the corpus in the normal test run): add
 * -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/perm.h"
#include "util/bounds.h"
#include "fuzz.h"

#define NOW 1796441765000LL

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *job;
    const char *why;
    int64_t t, again;
    unsigned scopes, back;
    char out[64];
    int r;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    job = text + strlen(text) + (strlen(text) < size ? 1 : 0);

    r = audit_parse_time(text, NOW, &t);
    CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        CHECK(audit_parse_time(text, NOW, &again) == 0 && again == t);
        /* 253402300800000 is 10000-01-01: nothing it reads is later, save a raw count */
        CHECK(t <= INT64_MAX / 2);
    }

    r = scopes_parse(text, &scopes, &why);
    CHECK(r == 0 || (r == -EINVAL && why));
    if (r == 0) {
        CHECK(scopes != 0);
        CHECK(scopes_parse(scopes_format(scopes, out, sizeof out), &back, &why) == 0);
        CHECK(back == scopes);
        CHECK(scopes_allow(scopes) & PERM_BIT(PERM_JOB_READ));
    }

    r = token_jobs_check(text, &why);
    CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        (void) token_job_ok(text, job);
        if (!strpbrk(text, "*?[\\\\,") && *text)
            CHECK(token_job_ok(text, text));
    }
    free(text);
    return 0;
}
