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

#include "cli/report.h"
#include "util/buf.h"
#include "util/macro.h"

static void
result__maps_to_distinct_exit_codes(void **state)
{
    static const char *const results[] = { "SUCCESS", "FAILURE", "UNSTABLE", "ABORTED",
                                           "NOT_BUILT" };
    int seen[256] = { 0 };

    (void) state;
    assert_int_equal(report_exit_for_result("SUCCESS"), 0);
    assert_int_equal(report_exit_for_result("FAILURE"), 1);
    assert_int_equal(report_exit_for_result("UNSTABLE"), 3);
    assert_int_equal(report_exit_for_result("ABORTED"), 4);
    assert_int_equal(report_exit_for_result("NOT_BUILT"), 5);
    for (size_t i = 0; i < ELEMENTSOF(results); i++) {
        int code = report_exit_for_result(results[i]);
        assert_int_equal(seen[code], 0);
        seen[code] = 1;
    }
    /* none of them collides with the client's own codes */
    assert_int_equal(seen[CLI_EXIT_USAGE], 0);
    assert_int_equal(seen[CLI_EXIT_REFUSED], 0);
    assert_int_equal(seen[CLI_EXIT_TIMEOUT], 0);
    assert_int_equal(seen[CLI_EXIT_CONNECTION], 0);
    assert_int_equal(seen[CLI_EXIT_ERROR], 0);
}

static void
result__unknown_or_missing_is_an_error(void **state)
{
    (void) state;
    assert_int_equal(report_exit_for_result(NULL), CLI_EXIT_ERROR);
    assert_int_equal(report_exit_for_result("success"), CLI_EXIT_ERROR);
    assert_int_equal(report_exit_for_result("BUILDING"), CLI_EXIT_ERROR);
}

static void
transport__timeout_connection_interrupt_are_distinct(void **state)
{
    (void) state;
    assert_int_equal(report_exit_for_transport(-ETIMEDOUT), CLI_EXIT_TIMEOUT);
    assert_int_equal(report_exit_for_transport(-ECONNREFUSED), CLI_EXIT_CONNECTION);
    assert_int_equal(report_exit_for_transport(-EINTR), CLI_EXIT_INTERRUPTED);
    assert_int_equal(report_exit_for_transport(-EIO), CLI_EXIT_ERROR);
    assert_int_equal(CLI_EXIT_USAGE, 2);
}

static void
server_text__prefers_the_json_refusal_fields(void **state)
{
    struct http_resp r = { .status = 403, .content_type = (char *) "application/json;charset=UTF-8",
                           .x_error = (char *) "the one-line summary" };
    struct buf out = BUF_INIT(4096);
    static const char body[] = "{\"status\":403,\"error\":\"Invalid token provided\","
                               "\"accepts\":\"This URL accepts...\",\"presented\":\"The value...\","
                               "\"fix\":\"Send the trigger token.\",\"message\":\"m\"}";

    (void) state;
    r.body = (struct buf){ .ptr = (char *) body, .len = sizeof body - 1 };
    report_server_text(&r, &out);
    assert_string_equal(buf_str(&out), "Invalid token provided\n  This URL accepts...\n"
                                       "  The value...\n  Fix: Send the trigger token.");
    buf_release(&out);
}

static void
server_text__falls_back_to_x_error_then_the_body(void **state)
{
    struct http_resp r = { .status = 400, .content_type = (char *) "text/html",
                           .x_error = (char *) "Nothing is submitted" };
    struct buf out = BUF_INIT(4096);
    static const char html[] = "<html><head><title>t</title><style>x{}</style></head>"
                               "<body><h1>Error</h1>\n<p>No   valid crumb</p></body></html>";

    (void) state;
    r.body = (struct buf){ .ptr = (char *) html, .len = sizeof html - 1 };
    report_server_text(&r, &out);
    assert_string_equal(buf_str(&out), "Nothing is submitted");
    buf_clear(&out);
    r.x_error = NULL;
    report_server_text(&r, &out);
    assert_string_equal(buf_str(&out), "Error No valid crumb");
    buf_release(&out);
}

static struct settings
creds(const char *user, const char *token, enum setting_source src)
{
    return (struct settings){ .user = (char *) user, .token = (char *) token, .user_src = src,
                              .token_src = src, .url = (char *) "http://h/" };
}

static const char *
hints(const struct hint_input *in, struct buf *out)
{
    buf_clear(out);
    report_hints(in, out);
    return buf_str(out);
}

static void
hints__api_token_given_as_trigger_token(void **state)
{
    struct settings s = creds(NULL, NULL, SRC_NONE);
    struct hint_input in = { .status = 403, .triggering = true, .settings = &s,
                             .trigger_token = "11" "0123456789abcdef0123456789abcdef" };
    struct buf out = BUF_INIT(8192);

    (void) state;
    assert_non_null(strstr(hints(&in, &out), "--trigger-token looks like a user API token"));
    in.status = 404;
    assert_non_null(strstr(hints(&in, &out), "--trigger-token looks like a user API token"));
    /* a trigger token of another shape draws no such hint */
    in.trigger_token = "0123456789abcdef0123456789abcdef";
    assert_null(strstr(hints(&in, &out), "looks like a user API token"));
    buf_release(&out);
}

static void
hints__trigger_token_given_as_token(void **state)
{
    struct settings s = creds("alice", "my-trigger-secret", SRC_FLAG);
    struct hint_input in = { .status = 401, .triggering = true, .settings = &s,
                             .server_text = "Invalid user name or API token" };
    struct buf out = BUF_INIT(8192);

    (void) state;
    assert_non_null(strstr(hints(&in, &out), "give it as --trigger-token instead"));
    assert_non_null(strstr(buf_str(&out), "from --token"));
    /* an API-token-shaped secret is not taken for a trigger token */
    s.token = (char *) "11" "0123456789abcdef0123456789abcdef";
    assert_null(strstr(hints(&in, &out), "--trigger-token"));
    /* only a 401 says the credentials were wrong */
    s.token = (char *) "my-trigger-secret";
    in.status = 403;
    assert_string_equal(hints(&in, &out), "");
    buf_release(&out);
}

static void
hints__401_for_an_unknown_user_names_where_the_name_came_from(void **state)
{
    struct settings s = creds("Alice Smith", "11" "0123456789abcdef0123456789abcdef",
                              SRC_ENV_STEWARD);
    struct hint_input in = {
        .status = 401, .settings = &s,
        .server_text = "Invalid user name or API token\n  The request sent Basic credentials for "
                       "user 'Alice Smith', and there is no user with that name."
    };
    struct buf out = BUF_INIT(8192);

    (void) state;
    hints(&in, &out);
    assert_non_null(strstr(buf_str(&out), "there is no user 'Alice Smith'"));
    assert_non_null(strstr(buf_str(&out), "STEWARD_USER"));
    assert_non_null(strstr(buf_str(&out), "not your full name"));
    buf_release(&out);
}

static void
hints__user_and_token_from_different_places(void **state)
{
    struct settings s = creds("bob", "11" "0123456789abcdef0123456789abcdef", SRC_FLAG);
    struct hint_input in = { .status = 401, .settings = &s };
    struct buf out = BUF_INIT(8192);

    (void) state;
    s.token_src = SRC_CONFIG;
    s.config_path = (char *) "/home/bob/.config/steward/config";
    s.token_source_user = (char *) "alice";
    hints(&in, &out);
    assert_non_null(strstr(buf_str(&out), "which names user 'alice'"));
    assert_non_null(strstr(buf_str(&out), "'bob' came from --user"));
    buf_release(&out);
}

static void
hints__missing_credentials(void **state)
{
    struct settings s = creds("carol", NULL, SRC_ENV_JENKINS);
    struct hint_input in = { .status = 401, .settings = &s, .triggering = true };
    struct buf out = BUF_INIT(8192);

    (void) state;
    assert_non_null(strstr(hints(&in, &out), "was given without a token"));
    s.user = NULL;
    assert_non_null(strstr(hints(&in, &out), "--trigger-token"));
    buf_release(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(result__maps_to_distinct_exit_codes),
        cmocka_unit_test(result__unknown_or_missing_is_an_error),
        cmocka_unit_test(transport__timeout_connection_interrupt_are_distinct),
        cmocka_unit_test(server_text__prefers_the_json_refusal_fields),
        cmocka_unit_test(server_text__falls_back_to_x_error_then_the_body),
        cmocka_unit_test(hints__api_token_given_as_trigger_token),
        cmocka_unit_test(hints__trigger_token_given_as_token),
        cmocka_unit_test(hints__401_for_an_unknown_user_names_where_the_name_came_from),
        cmocka_unit_test(hints__user_and_token_from_different_places),
        cmocka_unit_test(hints__missing_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
