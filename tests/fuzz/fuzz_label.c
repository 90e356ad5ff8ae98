/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for label_parse(), label_format() and label_matches():
 * Jenkins' label expressions.
 *
 * Whatever parses is written in its canonical form, which parses again to
 * the same canonical form and matches the same label sets; whatever does
 * not parse says why, in Jenkins' words. The first bytes up to a NUL or
 * the end are the expression; labels to match against follow, split on
 * spaces.
 *
 * Build:  tests/fuzz/run.sh (FUZZ_TARGETS=label)
 * Replay without libFuzzer: add -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/label.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *why = NULL, *canon, *again, *labels[8], *save = NULL;
    struct label_expr *e = NULL, *f = NULL;
    size_t n = 0, len;
    int r;

    CHECK(s);
    memcpy(s, data, size);
    s[size] = '\0';
    len = strlen(s);
    r = label_parse(s, &e, &why);
    CHECK(r == 0 || r == -ENOMEM || ((r == -EINVAL || r == -E2BIG) && why &&
                                     strncmp(why, "Invalid boolean expression: ", 28) == 0));
    free(why);
    why = NULL;
    if (r == 0) {
        canon = label_format(e);
        CHECK(canon);
        CHECK(label_parse(canon, &f, &why) == 0 || strlen(canon) > 4096);
        if (!why) {
            again = label_format(f);
            CHECK(again && strcmp(again, canon) == 0);
            free(again);
            if (len < size)
                for (char *t = strtok_r(s + len + 1, " ", &save); t && n < 8;
                     t = strtok_r(NULL, " ", &save))
                    labels[n++] = t;
            CHECK(label_matches(e, (const char *const *) labels, n) ==
                  label_matches(f, (const char *const *) labels, n));
            CHECK(!label_atom(e) || (label_atom(f) && strcmp(label_atom(e), label_atom(f)) == 0));
        }
        free(why);
        free(canon);
    }
    label_free(e);
    label_free(f);
    free(s);
    return 0;
}
