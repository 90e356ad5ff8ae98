/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for tree_parse() and tree_apply().
 *
 * Any input either parses or fails with -EINVAL (and a message) or -E2BIG
 * (and none). What parses is applied to a fixed api/json answer, which must
 * come out of it unchanged and whose "_class" must survive.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *           $(pkg-config --cflags jansson) src/api/tree.c src/util/buf.c \
 *           tests/fuzz/fuzz_tree.c $(pkg-config --libs jansson)
 * Replay without libFuzzer (e.g. the corpus in the normal test run): add
 * -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/tree.h"
#include "util/macro.h"
#include "fuzz.h"

static const char sample[] =
    "{\"_class\":\"hudson.model.Hudson\",\"mode\":\"NORMAL\",\"description\":null,"
    "\"jobs\":["
    "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\",\"url\":\"u/a\",\"color\":\"blue\","
    "\"builds\":[{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":2,\"result\":null},"
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":1,\"result\":\"SUCCESS\"}],"
    "\"healthReport\":[{\"score\":100,\"description\":\"ok\"}]},"
    "{\"_class\":\"com.cloudbees.hudson.plugins.folder.Folder\",\"name\":\"f\",\"url\":\"u/f\","
    "\"jobs\":[{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"b\",\"url\":\"u/f/b\","
    "\"jobs\":[[1,2,[3]],{\"jobs\":{}}]}]}],"
    "\"primaryView\":{\"_class\":\"hudson.model.AllView\",\"name\":\"all\",\"url\":\"u\"},"
    "\"labels\":[\"x\",\"y\"],\"quietingDown\":false,\"numExecutors\":2,\"load\":0.5}";


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *v, *pristine;
    _cleanup_(tree_freep) struct tree *t = NULL;
    _cleanup_free_ char *expr = NULL;
    _cleanup_free_ char *msg = NULL;
    json_t *out;
    int r;

    if (!v) {
        v = json_loads(sample, 0, NULL);
        pristine = json_deep_copy(v);
        CHECK(v && pristine);
    }

    /* tree= arrives as a C string: an embedded NUL ends it */
    expr = malloc(size + 1);
    if (!expr)
        return 0;
    memcpy(expr, data, size);
    expr[size] = '\0';

    r = tree_parse(expr, &t, &msg);
    if (r < 0) {
        CHECK(!t);
        CHECK(r == -EINVAL || r == -E2BIG || r == -ENOMEM);
        CHECK(r != -EINVAL || msg);
        CHECK(r != -E2BIG || !msg);
        return 0;
    }
    CHECK(t && !msg);

    out = tree_apply(t, v);
    CHECK(out);
    CHECK(json_equal(v, pristine));
    CHECK(json_equal(json_object_get(out, "_class"), json_object_get(v, "_class")));
    json_decref(out);
    return 0;
}
