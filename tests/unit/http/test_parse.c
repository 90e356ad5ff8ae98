/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/parse.h"
#include "util/bounds.h"
#include "util/secret.h"

/* "Basic " and the base64 of `n` bytes of `credentials`, newly allocated. */
static char *basic_of(const char *credentials, size_t n)
{
    char *b64 = base64_encode(credentials, n), *header;

    assert_non_null(b64);
    assert_true(asprintf(&header, "Basic %s", b64) > 0);
    free(b64);
    return header;
}

static int parse_basic(const char *credentials, size_t n, char **user, char **secret)
{
    char *header = basic_of(credentials, n);
    int r;

    *user = *secret = NULL;
    r = http_parse_basic(header, user, secret);
    free(header);
    return r;
}

static void http_parse_basic__splits_at_the_first_colon(void **state)
{
    char *user, *secret;

    (void) state;
    assert_int_equal(parse_basic("alice:s3:cr:et", 14, &user, &secret), 0);
    assert_string_equal(user, "alice");
    assert_string_equal(secret, "s3:cr:et");
    free(user);
    free(secret);

    assert_int_equal(parse_basic("alice:", 6, &user, &secret), 0);
    assert_string_equal(user, "alice");
    assert_string_equal(secret, "");
    free(user);
    free(secret);
}

static void http_parse_basic__takes_the_scheme_in_any_case_and_spaces_after_it(void **state)
{
    char *user = NULL, *secret = NULL;

    (void) state;
    /* "bob:pw" */
    assert_int_equal(http_parse_basic("bAsIc    Ym9iOnB3", &user, &secret), 0);
    assert_string_equal(user, "bob");
    assert_string_equal(secret, "pw");
    free(user);
    free(secret);
}

static void http_parse_basic__refuses_what_is_not_user_colon_secret(void **state)
{
    char *user, *secret;

    (void) state;
    assert_int_equal(parse_basic(":secret", 7, &user, &secret), -EINVAL);  /* empty user */
    assert_int_equal(parse_basic("no colon", 8, &user, &secret), -EINVAL);
    assert_int_equal(parse_basic("al\0ce:pw", 8, &user, &secret), -EINVAL); /* NUL in the user */
    assert_int_equal(parse_basic("alice:p\0w", 9, &user, &secret), -EINVAL); /* and in the secret */
    assert_null(user);
    assert_null(secret);
    assert_int_equal(http_parse_basic("Basic !!!!", &user, &secret), -EINVAL);
    assert_int_equal(http_parse_basic("Bearer abc", &user, &secret), -ENOENT);
    assert_int_equal(http_parse_basic("Basically", &user, &secret), -ENOENT);
    assert_null(user);
    assert_null(secret);
}

static void http_parse_form__decodes_fields_and_skips_empty_ones(void **state)
{
    static const char form[] = "a=1&&b&c=x+y%21&=v&";
    struct req req = {};

    (void) state;
    assert_int_equal(http_parse_form(&req, form, strlen(form)), 0);
    assert_int_equal(req.n_params, 4);
    assert_string_equal(req.params[0].key, "a");
    assert_string_equal(req.params[0].value, "1");
    assert_string_equal(req.params[1].key, "b");
    assert_string_equal(req.params[1].value, "");
    assert_string_equal(req.params[2].value, "x y!");
    assert_string_equal(req.params[3].key, "");
    assert_string_equal(req.params[3].value, "v");
    http_req_release(&req);
}

static void http_parse_form__refuses_bad_escapes_and_encoded_nul(void **state)
{
    struct req req = {};

    (void) state;
    assert_int_equal(http_parse_form(&req, "a=1&b=%4", 8), -EINVAL);
    assert_int_equal(req.n_params, 1); /* what came before stays */
    assert_int_equal(http_parse_form(&req, "c=%00", 5), -EINVAL);
    assert_int_equal(http_parse_form(&req, "%zz=1", 5), -EINVAL);
    assert_int_equal(req.n_params, 1);
    http_req_release(&req);
}

static void http_parse_form__stops_at_the_field_bound_query_and_body_together(void **state)
{
    struct req req = {};
    char *query = NULL, *p;
    size_t n = BOUND_FORM_FIELDS - 1;

    (void) state;
    query = malloc(n * 2 + 1);
    assert_non_null(query);
    for (p = query; p < query + n * 2; p += 2)
        memcpy(p, "q&", 2);
    assert_int_equal(http_parse_form(&req, query, n * 2), 0);
    assert_int_equal(req.n_params, n);
    assert_int_equal(http_parse_form(&req, "last=1", 6), 0);
    assert_int_equal(http_parse_form(&req, "one=too&many=1", 14), -E2BIG);
    assert_int_equal(req.n_params, BOUND_FORM_FIELDS);
    http_req_release(&req);
    free(query);
}

static void http_split_path__decodes_segments_and_drops_empty_ones(void **state)
{
    struct req req = {};

    (void) state;
    assert_int_equal(http_split_path(&req, "//job/a+b%20c//ws/"), 0);
    assert_int_equal(req.n_seg, 3);
    assert_string_equal(req.seg[0], "job");
    assert_string_equal(req.seg[1], "a+b c"); /* '+' is a plus in a path */
    assert_string_equal(req.seg[2], "ws");
    assert_true(req.trailing_slash);
    http_req_release(&req);

    req = (struct req){};
    assert_int_equal(http_split_path(&req, "/"), 0);
    assert_int_equal(req.n_seg, 0);
    assert_false(req.trailing_slash);
    http_req_release(&req);

    req = (struct req){};
    assert_int_equal(http_split_path(&req, "/job/%00/x"), -EINVAL);
    assert_int_equal(req.n_seg, 1);
    http_req_release(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_parse_basic__splits_at_the_first_colon),
        cmocka_unit_test(http_parse_basic__takes_the_scheme_in_any_case_and_spaces_after_it),
        cmocka_unit_test(http_parse_basic__refuses_what_is_not_user_colon_secret),
        cmocka_unit_test(http_parse_form__decodes_fields_and_skips_empty_ones),
        cmocka_unit_test(http_parse_form__refuses_bad_escapes_and_encoded_nul),
        cmocka_unit_test(http_parse_form__stops_at_the_field_bound_query_and_body_together),
        cmocka_unit_test(http_split_path__decodes_segments_and_drops_empty_ones),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
