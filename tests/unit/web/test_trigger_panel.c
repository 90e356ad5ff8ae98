/* SPDX-License-Identifier: MIT */
/*
 * The "How to trigger this job" commands: what a person copies and runs
 * must be exactly right, quoted for the shell, with every part of the URL
 * encoded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "web/page.h"

static void
web_curl_with_trigger_token__puts_token_and_parameters_in_the_url(void **state)
{
    const char *names[] = { "WHO", "GREETING" }, *values[] = { "world", "Good morning" };
    struct buf b = BUF_INIT(4096);

    (void) state;
    assert_int_equal(web_curl_with_trigger_token(&b, "http://127.0.0.1:8080/", "hello", "s3cr3t",
                                                 names, values, 2),
                     0);
    assert_string_equal(buf_str(&b), "curl 'http://127.0.0.1:8080/job/hello/buildWithParameters"
                                     "?token=s3cr3t&WHO=world&GREETING=Good%20morning'");
    buf_release(&b);
}

static void
web_curl_with_trigger_token__uses_build_without_parameters(void **state)
{
    struct buf b = BUF_INIT(4096);

    (void) state;
    assert_int_equal(web_curl_with_trigger_token(&b, "https://ci.example.com/steward/", "my job",
                                                 "t&k=1", NULL, NULL, 0),
                     0);
    assert_string_equal(buf_str(&b), "curl 'https://ci.example.com/steward/job/my%20job/build"
                                     "?token=t%26k%3D1'");
    buf_release(&b);
}

static void
web_curl_with_api_token__posts_with_basic_auth_and_no_token_in_the_url(void **state)
{
    const char *names[] = { "WHO" }, *values[] = { "it's me" };
    struct buf b = BUF_INIT(4096);

    (void) state;
    assert_int_equal(web_curl_with_api_token(&b, "http://h/", "hello", "alice", names, values, 1),
                     0);
    assert_string_equal(buf_str(&b), "curl -X POST -u alice:APITOKEN "
                                     "'http://h/job/hello/buildWithParameters?WHO=it%27s%20me'");
    assert_null(strstr(buf_str(&b), "token="));
    buf_release(&b);
}

static void
web_shell_quote__leaves_plain_words_alone(void **state)
{
    struct buf b = BUF_INIT(256);

    (void) state;
    web_shell_quote(&b, "alice:APITOKEN");
    assert_string_equal(buf_str(&b), "alice:APITOKEN");
    buf_clear(&b);
    web_shell_quote(&b, "");
    assert_string_equal(buf_str(&b), "''");
    buf_release(&b);
}

/* The shell must give back exactly the string we quoted. */
static void
web_shell_quote__round_trips_through_sh(void **state)
{
    static const char *const cases[] = { "it's", "a b", "$HOME `id` $(id) \\ \" ; & | * ? ~",
                                         "''", "line\nbreak" };
    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf cmd = BUF_INIT(1024);
        char out[256] = "";
        size_t n;
        FILE *f;

        buf_puts(&cmd, "printf %s ");
        web_shell_quote(&cmd, cases[i]);
        f = popen(buf_str(&cmd), "r");
        assert_non_null(f);
        n = fread(out, 1, sizeof out - 1, f);
        out[n] = '\0';
        assert_int_equal(pclose(f), 0);
        assert_string_equal(out, cases[i]);
        buf_release(&cmd);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(web_curl_with_trigger_token__puts_token_and_parameters_in_the_url),
        cmocka_unit_test(web_curl_with_trigger_token__uses_build_without_parameters),
        cmocka_unit_test(web_curl_with_api_token__posts_with_basic_auth_and_no_token_in_the_url),
        cmocka_unit_test(web_shell_quote__leaves_plain_words_alone),
        cmocka_unit_test(web_shell_quote__round_trips_through_sh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
