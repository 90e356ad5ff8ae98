/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what a build's sandbox hands the server about Git:
 * the checkout's report (git_build_parse()) and a poll's `git ls-remote`
 * output (poll_decide()). Both come from a step the build user could
 * tamper with, so any input either parses or is refused, without a crash.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *           src/core/git.c src/core/poll.c src/util/buf.c src/util/strutil.c src/util/fs.c \
 *           tests/fuzz/fuzz_gitreport.c $(pkg-config --libs libsodium)
 * Replay without libFuzzer: add -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/git.h"
#include "core/poll.h"
#include "util/buf.h"
#include "util/macro.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct git_remote remote = { .name = "origin", .url = "file:///r" };
    char *branches[] = { "*/main", "refs/tags/v*", "${B}", "feature/**" };
    struct git_scm g = { .remotes = &remote, .n_remotes = 1, .branches = branches,
                         .n_branches = ELEMENTSOF(branches) };
    const char *params[] = { "B=release", NULL };
    struct buf log = BUF_INIT(1 << 20);
    struct git_build b;
    bool changed;
    char *text = malloc(size + 1);
    int r;

    CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0';
    r = git_build_parse(text, size, &b);
    CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
    if (r == 0) {
        CHECK(strlen(b.sha) == 40 && *b.branch);
        for (size_t i = 0; i < b.n_changes; i++) {
            CHECK(strlen(b.changes[i].commit) == 40 && b.changes[i].msg);
            for (size_t k = 0; k < b.changes[i].n_paths; k++)
                CHECK(b.changes[i].paths[k].file && b.changes[i].paths[k].edit);
        }
        git_build_release(&b);
    } else
        free(text);

    text = malloc(size + 1);
    CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0';
    r = poll_decide(&g, text, params, "origin/main 1111111111111111111111111111111111111111\n",
                    true, &log, &changed);
    CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
    free(text);
    buf_release(&log);
    return 0;
}
