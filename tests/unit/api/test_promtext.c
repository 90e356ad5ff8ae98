/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/promtext.h"

static void prom_escape_label_value__escapes_backslash_quote_and_newline(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(prom_escape_label_value(&b, "a\\b\"c\nd"), 0);
    assert_string_equal(buf_str(&b), "a\\\\b\\\"c\\nd");
    buf_release(&b);
}

static void prom_escape_label_value__leaves_everything_else_as_it_is(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    /* UTF-8, tabs, braces, commas, '=' and '#' need no escape inside quotes */
    assert_int_equal(prom_escape_label_value(&b, "déploiement {prod}, a=b #1\t"), 0);
    assert_string_equal(buf_str(&b), "déploiement {prod}, a=b #1\t");
    buf_clear(&b);
    assert_int_equal(prom_escape_label_value(&b, ""), 0);
    assert_string_equal(buf_str(&b), "");
    buf_release(&b);
}

static void prom_escape_help__escapes_backslash_and_newline_but_not_quotes(void **state)
{
    struct buf b = BUF_INIT(1024);

    (void) state;
    assert_int_equal(prom_escape_help(&b, "say \"hi\"\\\nbye"), 0);
    assert_string_equal(buf_str(&b), "say \"hi\"\\\\\\nbye");
    buf_release(&b);
}

static void prom_family__writes_help_then_type(void **state)
{
    struct buf b = BUF_INIT(1024);
    struct prom p = PROM_INIT(&b);

    (void) state;
    prom_family(&p, "default_jenkins_up", PROM_GAUGE, "Is Jenkins ready\nto receive requests");
    prom_family(&p, "steward_triggers_total", PROM_COUNTER, "Triggers");
    prom_family(&p, "x_summary", PROM_SUMMARY, "Durations");
    assert_int_equal(p.err, 0);
    assert_string_equal(buf_str(&b), "# HELP default_jenkins_up Is Jenkins ready\\nto receive requests\n"
                                     "# TYPE default_jenkins_up gauge\n"
                                     "# HELP steward_triggers_total Triggers\n"
                                     "# TYPE steward_triggers_total counter\n"
                                     "# HELP x_summary Durations\n"
                                     "# TYPE x_summary summary\n");
    buf_release(&b);
}

static void prom_sample__writes_bare_and_labelled_samples_with_escaped_values(void **state)
{
    struct buf b = BUF_INIT(1024);
    struct prom p = PROM_INIT(&b);

    (void) state;
    prom_sample(&p, "default_jenkins_up", NULL, 1);
    prom_sample(&p, "default_jenkins_uptime", (const char *const[]){ NULL }, 12345678901234);
    prom_sample(&p, "default_jenkins_builds_last_build_result_ordinal",
                (const char *const[]){ "jenkins_job", "my \"job\"\\x\ny", "repo", "NA", "buildable",
                                       "true", NULL },
                -1);
    assert_int_equal(p.err, 0);
    assert_string_equal(buf_str(&b),
                        "default_jenkins_up 1\n"
                        "default_jenkins_uptime 12345678901234\n"
                        "default_jenkins_builds_last_build_result_ordinal{jenkins_job=\"my "
                        "\\\"job\\\"\\\\x\\ny\",repo=\"NA\",buildable=\"true\"} -1\n");
    buf_release(&b);
}

static void prom_comment__keeps_to_one_line(void **state)
{
    struct buf b = BUF_INIT(1024);
    struct prom p = PROM_INIT(&b);

    (void) state;
    prom_comment(&p, "two\nlines");
    assert_string_equal(buf_str(&b), "# two lines\n");
    buf_release(&b);
}

static void prom_sample__past_the_buffers_maximum_keeps_the_error_and_no_half_line(void **state)
{
    struct buf b = BUF_INIT(40);
    struct prom p = PROM_INIT(&b);

    (void) state;
    prom_sample(&p, "a_metric", NULL, 1);          /* 11 bytes */
    prom_sample(&p, "b_metric", (const char *const[]){ "job", "a long job name that does not fit",
                                                      NULL }, 2);
    assert_int_equal(p.err, -E2BIG);
    assert_string_equal(buf_str(&b), "a_metric 1\n");
    /* sticky: later writes, even small ones, do nothing */
    prom_sample(&p, "c", NULL, 3);
    prom_family(&p, "d", PROM_GAUGE, "h");
    prom_comment(&p, "e");
    assert_string_equal(buf_str(&b), "a_metric 1\n");
    assert_int_equal(p.err, -E2BIG);
    buf_release(&b);
}

static void prom_is_metric_name__follows_the_format(void **state)
{
    (void) state;
    assert_true(prom_is_metric_name("default_jenkins_up"));
    assert_true(prom_is_metric_name("a:b_c9"));
    assert_true(prom_is_metric_name("_x"));
    assert_false(prom_is_metric_name(""));
    assert_false(prom_is_metric_name("9lives"));
    assert_false(prom_is_metric_name("a-b"));
    assert_false(prom_is_metric_name("a b"));
    assert_false(prom_is_metric_name(NULL));
}

static void prom_is_label_name__follows_the_format_and_refuses_reserved_names(void **state)
{
    (void) state;
    assert_true(prom_is_label_name("jenkins_job"));
    assert_true(prom_is_label_name("_x1"));
    assert_false(prom_is_label_name("__name__"));
    assert_false(prom_is_label_name("a:b"));
    assert_false(prom_is_label_name("1a"));
    assert_false(prom_is_label_name(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prom_escape_label_value__escapes_backslash_quote_and_newline),
        cmocka_unit_test(prom_escape_label_value__leaves_everything_else_as_it_is),
        cmocka_unit_test(prom_escape_help__escapes_backslash_and_newline_but_not_quotes),
        cmocka_unit_test(prom_family__writes_help_then_type),
        cmocka_unit_test(prom_sample__writes_bare_and_labelled_samples_with_escaped_values),
        cmocka_unit_test(prom_comment__keeps_to_one_line),
        cmocka_unit_test(prom_sample__past_the_buffers_maximum_keeps_the_error_and_no_half_line),
        cmocka_unit_test(prom_is_metric_name__follows_the_format),
        cmocka_unit_test(prom_is_label_name__follows_the_format_and_refuses_reserved_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
