/* SPDX-License-Identifier: MIT */
/*
 * HTML escaping in each context the pages use: element text, quoted
 * attribute values, URL path segments and query arguments; and the shared
 * page frame, which must escape everything it is given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/html.h"
#include "web/page.h"

#define HOSTILE "<script>alert('x')</script>\"&amp; onmouseover=\"x"

static void
html_text__leaves_no_markup_in_element_text(void **state)
{
    struct buf b = BUF_INIT(4096);

    (void) state;
    assert_int_equal(html_text(&b, HOSTILE), 0);
    assert_null(strchr(buf_str(&b), '<'));
    assert_null(strchr(buf_str(&b), '>'));
    assert_null(strchr(buf_str(&b), '"'));
    assert_null(strchr(buf_str(&b), '\''));
    assert_string_equal(buf_str(&b), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;"
                                     "&amp;amp; onmouseover=&quot;x");
    buf_release(&b);
}

static void
html_attr__cannot_close_the_quoted_value(void **state)
{
    struct buf b = BUF_INIT(4096);

    (void) state;
    html_raw(&b, "<a title=\"");
    assert_int_equal(html_attr(&b, HOSTILE), 0);
    html_raw(&b, "\">");
    /* exactly the two quotes we wrote ourselves */
    {
        size_t quotes = 0;
        for (const char *p = buf_str(&b); *p; p++)
            quotes += *p == '"';
        assert_int_equal(quotes, 2);
    }
    assert_null(strstr(buf_str(&b), "<script"));
    buf_release(&b);
}

static void
html_attr__escapes_single_quotes_for_single_quoted_attributes(void **state)
{
    struct buf b = BUF_INIT(256);

    (void) state;
    assert_int_equal(html_attr(&b, "it's"), 0);
    assert_string_equal(buf_str(&b), "it&#39;s");
    buf_release(&b);
}

static void
html_url_arg__encodes_everything_but_unreserved_characters(void **state)
{
    struct buf b = BUF_INIT(4096);

    (void) state;
    assert_int_equal(html_url_arg(&b, "a b/c?d=e&f#g%h+i\"j'k<l>m"), 0);
    assert_string_equal(buf_str(&b), "a%20b%2Fc%3Fd%3De%26f%23g%25h%2Bi%22j%27k%3Cl%3Em");
    buf_clear(&b);
    assert_int_equal(html_url_arg(&b, "Az09-_.~"), 0);
    assert_string_equal(buf_str(&b), "Az09-_.~");
    buf_release(&b);
}

static void
html_url_arg__encodes_utf8_bytes_and_keeps_javascript_urls_harmless(void **state)
{
    struct buf b = BUF_INIT(4096);

    (void) state;
    assert_int_equal(html_url_arg(&b, "caf\xc3\xa9"), 0);
    assert_string_equal(buf_str(&b), "caf%C3%A9");
    buf_clear(&b);
    /* a job named like a URL stays a path segment: the colon is encoded */
    assert_int_equal(html_url_arg(&b, "javascript:alert(1)"), 0);
    assert_string_equal(buf_str(&b), "javascript%3Aalert%281%29");
    buf_release(&b);
}

static void
html_url_arg__of_null_is_empty(void **state)
{
    struct buf b = BUF_INIT(64);

    (void) state;
    assert_int_equal(html_url_arg(&b, NULL), 0);
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

static void
url_then_attr__is_safe_in_an_href(void **state)
{
    struct buf b = BUF_INIT(4096);

    (void) state;
    /* what web_job_href does: base as an attribute, the name as a path segment */
    html_raw(&b, "<a href=\"");
    html_attr(&b, "/ci\"/");
    html_raw(&b, "job/");
    html_url_arg(&b, "x\" onclick=\"evil()");
    html_raw(&b, "/\">");
    assert_string_equal(buf_str(&b), "<a href=\"/ci&quot;/job/x%22%20onclick%3D%22evil%28%29/\">");
    buf_release(&b);
}

static void
html_page_start__escapes_title_user_crumb_and_base(void **state)
{
    struct buf b = BUF_INIT(65536);

    (void) state;
    assert_int_equal(html_page_start(&b, &(struct html_page){ .title = "<b>t</b>",
                                                                .base = "/\"x/",
                                                                .user = "<u>",
                                                                .crumb = "\"c",
                                                                .login_from = NULL }),
                     0);
    assert_int_equal(html_page_end(&b), 0);
    assert_non_null(strstr(buf_str(&b), "<title>&lt;b&gt;t&lt;/b&gt; - Steward</title>"));
    assert_non_null(strstr(buf_str(&b), "&lt;u&gt;"));
    assert_non_null(strstr(buf_str(&b), "content=\"&quot;c\""));
    assert_non_null(strstr(buf_str(&b), "href=\"/&quot;x/static/style.css\""));
    assert_null(strstr(buf_str(&b), "<u>"));
    assert_non_null(strstr(buf_str(&b), "</html>"));
    buf_release(&b);
}

static void
html_page_start__signed_out_links_back_with_an_encoded_from(void **state)
{
    struct buf b = BUF_INIT(65536);

    (void) state;
    html_page_start(&b, &(struct html_page){ .title = "t", .login_from = "/job/a b/?x=\"" });
    assert_non_null(strstr(buf_str(&b), "href=\"/login?from=%2Fjob%2Fa%20b%2F%3Fx%3D%22\""));
    assert_null(strstr(buf_str(&b), "New job"));
    buf_release(&b);
}

static void
html_page_start__shows_users_link_to_admins_only(void **state)
{
    struct buf b = BUF_INIT(65536);

    (void) state;
    html_page_start(&b, &(struct html_page){ .title = "t", .user = "bob" });
    assert_null(strstr(buf_str(&b), "manage/users"));
    buf_clear(&b);
    html_page_start(&b, &(struct html_page){ .title = "t", .user = "alice", .is_admin = true,
                                              .current = "users" });
    assert_non_null(strstr(buf_str(&b), "href=\"/manage/users\" aria-current=\"page\""));
    buf_release(&b);
}

static void
html_root_path__takes_the_path_of_the_root_url(void **state)
{
    (void) state;
    assert_string_equal(html_root_path("http://h:8080/"), "/");
    assert_string_equal(html_root_path("https://ci.example.com/steward/"), "/steward/");
    assert_string_equal(html_root_path("http://h"), "/");
    assert_string_equal(html_root_path(NULL), "/");
}

static void
web_status_badge__never_relies_on_colour_alone(void **state)
{
    static const char *const words[] = { "Not built", "Success", "Unstable", "Failed",
                                         "Aborted",   "Running", "Queued",   "Disabled" };
    struct buf b = BUF_INIT(4096);

    (void) state;
    for (int st = ST_NONE; st <= ST_DISABLED; st++) {
        buf_clear(&b);
        web_status_badge(&b, (enum web_status) st);
        assert_non_null(strstr(buf_str(&b), words[st]));
        assert_non_null(strstr(buf_str(&b), "aria-hidden=\"true\""));
    }
    buf_release(&b);
}

static void
web_param_values__masks_passwords_and_escapes_values(void **state)
{
    struct param_value p[] = {
        { .name = "WHO", .type = PARAM_STRING, .value = "<me>" },
        { .name = "PW", .type = PARAM_PASSWORD, .value = "hunter2" },
    };
    struct buf b = BUF_INIT(4096);

    (void) state;
    web_param_values(&b, p, 2, true);
    assert_non_null(strstr(buf_str(&b), "&lt;me&gt;"));
    assert_null(strstr(buf_str(&b), "hunter2"));
    buf_release(&b);
}

static void
web_causes__names_user_token_and_address_escaped(void **state)
{
    struct cause c[] = {
        { .kind = CAUSE_USER, .user_name = "alice", .token_name = "<ci>", .count = 1 },
        { .kind = CAUSE_REMOTE, .addr = "10.0.0.1", .note = "\"hook\"", .count = 2 },
    };
    struct buf b = BUF_INIT(4096);

    (void) state;
    web_causes(&b, c, 2);
    assert_non_null(strstr(buf_str(&b), "alice with API token &ldquo;&lt;ci&gt;&rdquo;"));
    assert_non_null(strstr(buf_str(&b), "trigger token from 10.0.0.1"));
    assert_non_null(strstr(buf_str(&b), "&quot;hook&quot;"));
    assert_non_null(strstr(buf_str(&b), "&times;2"));
    buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_text__leaves_no_markup_in_element_text),
        cmocka_unit_test(html_attr__cannot_close_the_quoted_value),
        cmocka_unit_test(html_attr__escapes_single_quotes_for_single_quoted_attributes),
        cmocka_unit_test(html_url_arg__encodes_everything_but_unreserved_characters),
        cmocka_unit_test(html_url_arg__encodes_utf8_bytes_and_keeps_javascript_urls_harmless),
        cmocka_unit_test(html_url_arg__of_null_is_empty),
        cmocka_unit_test(url_then_attr__is_safe_in_an_href),
        cmocka_unit_test(html_page_start__escapes_title_user_crumb_and_base),
        cmocka_unit_test(html_page_start__signed_out_links_back_with_an_encoded_from),
        cmocka_unit_test(html_page_start__shows_users_link_to_admins_only),
        cmocka_unit_test(html_root_path__takes_the_path_of_the_root_url),
        cmocka_unit_test(web_status_badge__never_relies_on_colour_alone),
        cmocka_unit_test(web_param_values__masks_passwords_and_escapes_values),
        cmocka_unit_test(web_causes__names_user_token_and_address_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
