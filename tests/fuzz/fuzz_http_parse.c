/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HTTP layer's own parsers (http/parse.h): the
 * Basic credentials of an Authorization header, form bodies and query
 * fields, and the path's segments.
 *
 * The input is used three ways. As a header value, and inside
 * "Basic <base64 of the input>": credentials are accepted exactly when
 * the decoded text has no NUL and a ':' after a non-empty user, and then
 * the user is the text before the first ':' and the secret all after it.
 * As a query followed by a form body (split at the first '\n'): every
 * field is a decoded, NUL-free key and value no longer than its encoded
 * form, there are never more than BOUND_FORM_FIELDS of them, and -E2BIG
 * comes exactly when one more was given. As a path: every segment is
 * non-empty and no longer than its encoded form, and there are no more
 * than half the path's length, rounded up.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *           src/http/parse.c src/util/strutil.c src/util/secret.c src/util/buf.c \
 *           tests/fuzz/fuzz_http_parse.c $(pkg-config --libs libsodium)
 * Replay without libFuzzer (e.g. the corpus in the normal test run): add
 * -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"
#include "util/bounds.h"
#include "util/secret.h"
#include "fuzz.h"

static void
check_basic(const char *value)
{
    char *user = NULL, *secret = NULL;
    int r;

    r = http_parse_basic(value, &user, &secret);
    CHECK(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENOMEM);
    if (r < 0) {
        CHECK(!user && !secret);
        return;
    }
    CHECK(user && *user && secret);
    CHECK(!strchr(user, ':'));
    CHECK(strlen(user) + strlen(secret) < strlen(value));
    secret_wipe(secret, strlen(secret));
    free(user);
    free(secret);
}

/* The input's bytes as the credentials of a Basic header. */
static void
check_basic_encoded(const uint8_t *data, size_t size)
{
    const char *colon = memchr(data, ':', size);
    bool valid = !memchr(data, '\0', size) && colon && colon != (const char *) data;
    char *b64 = base64_encode(data, size), *header = NULL, *user = NULL, *secret = NULL;
    int r;

    CHECK(b64);
    CHECK(asprintf(&header, "%s %s", size % 2 ? "basic" : "Basic", b64) > 0);
    r = http_parse_basic(header, &user, &secret);
    CHECK(r == 0 || r == -EINVAL);
    CHECK((r == 0) == valid);
    if (r == 0) {
        size_t ulen = (size_t) (colon - (const char *) data);

        CHECK(strlen(user) == ulen && memcmp(user, data, ulen) == 0);
        CHECK(strlen(secret) == size - ulen - 1 && memcmp(secret, colon + 1, size - ulen - 1) == 0);
        secret_wipe(secret, strlen(secret));
    }
    free(user);
    free(secret);
    free(header);
    free(b64);
}

/* How many fields "a=1&&b" holds: its non-empty pieces between '&'. */
static size_t
count_fields(const char *s, size_t len)
{
    size_t n = 0, piece = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '&') {
            n += piece > 0;
            piece = 0;
        } else {
            piece++;
        }
    }
    return n;
}

static void
check_params(const struct req *req, size_t encoded_len)
{
    CHECK(req->n_params <= BOUND_FORM_FIELDS);
    for (size_t i = 0; i < req->n_params; i++) {
        CHECK(req->params[i].key && req->params[i].value);
        /* C strings: NUL-free by construction, and no longer than what encoded them */
        CHECK(strlen(req->params[i].key) + strlen(req->params[i].value) <= encoded_len);
    }
}

static void
check_form(const char *text, size_t size)
{
    struct req req = {};
    const char *nl = memchr(text, '\n', size);
    size_t qlen = nl ? (size_t) (nl - text) : size;
    const char *body = nl ? nl + 1 : text + size;
    size_t blen = size - qlen - (nl ? 1 : 0), before, wanted;
    int r;

    r = http_parse_form(&req, text, qlen);
    CHECK(r == 0 || r == -E2BIG || r == -EINVAL || r == -ENOMEM);
    CHECK(r != 0 || memchr(text, '\0', qlen) || req.n_params == count_fields(text, qlen));
    CHECK(r != -E2BIG || req.n_params == BOUND_FORM_FIELDS);
    check_params(&req, qlen);
    req.n_query = req.n_params;
    if (r == 0) {
        before = req.n_params;
        wanted = count_fields(body, blen);
        r = http_parse_form(&req, body, blen);
        CHECK(r == 0 || r == -E2BIG || r == -EINVAL || r == -ENOMEM);
        CHECK(r != 0 || memchr(body, '\0', blen) || req.n_params == before + wanted);
        CHECK(r != -E2BIG || (req.n_params == BOUND_FORM_FIELDS && before + wanted > BOUND_FORM_FIELDS));
        check_params(&req, size);
    }
    http_req_release(&req);
}

static void
check_path(const char *path)
{
    struct req req = {};
    size_t len = strlen(path);
    int r;

    r = http_split_path(&req, path);
    CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
    CHECK(req.n_seg <= (len + 1) / 2);
    CHECK(req.trailing_slash == (len > 1 && path[len - 1] == '/'));
    for (size_t i = 0; i < req.n_seg; i++) {
        CHECK(req.seg[i] && *req.seg[i]);
        CHECK(strlen(req.seg[i]) <= len);
    }
    if (r == 0 && !strchr(path, '%')) {
        /* nothing to decode: the segments are the pieces between slashes */
        size_t at = 0;

        for (size_t i = 0; i < req.n_seg; i++) {
            size_t n = strlen(req.seg[i]);

            while (path[at] == '/')
                at++;
            CHECK(strncmp(path + at, req.seg[i], n) == 0);
            at += n;
            CHECK(path[at] == '/' || path[at] == '\0');
        }
        while (path[at] == '/')
            at++;
        CHECK(path[at] == '\0');
    }
    http_req_release(&req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    if (size > 64 * 1024)
        return 0;
    text = malloc(size + 1);
    CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0'; /* header values and paths arrive as C strings */

    check_basic(text);
    check_basic_encoded(data, size);
    check_form(text, size);
    check_path(text);
    free(text);
    return 0;
}
