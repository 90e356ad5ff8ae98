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

#include "cli/table.h"
#include "cli/urls.h"
#include "util/buf.h"

static void
job_path__encodes_segments_and_nests_folders(void **state)
{
    struct buf b = BUF_INIT(4096);

    (void) state;
    assert_int_equal(urls_job_path(&b, "hello"), 0);
    assert_string_equal(buf_str(&b), "job/hello/");
    buf_clear(&b);
    assert_int_equal(urls_job_path(&b, "team a/build #1"), 0);
    assert_string_equal(buf_str(&b), "job/team%20a/job/build%20%231/");
    buf_clear(&b);
    assert_int_equal(urls_job_path(&b, ""), -EINVAL);
    assert_int_equal(urls_job_path(&b, "a//b"), -EINVAL);
    assert_int_equal(urls_job_path(&b, "a/"), -EINVAL);
    assert_int_equal(urls_job_path(&b, "/a"), -EINVAL);
    buf_release(&b);
}

static void
form__encodes_keys_and_values(void **state)
{
    struct buf b = BUF_INIT(4096);

    (void) state;
    urls_form_add(&b, "BRANCH", "feature/x y");
    urls_form_add(&b, "E", "a=b&c");
    assert_string_equal(buf_str(&b), "BRANCH=feature%2Fx%20y&E=a%3Db%26c");
    buf_release(&b);
}

static void
queue_id__from_location_or_number(void **state)
{
    int64_t id = 0;

    (void) state;
    assert_int_equal(urls_queue_id("http://h:8080/queue/item/42/", &id), 0);
    assert_int_equal(id, 42);
    assert_int_equal(urls_queue_id("/jenkins/queue/item/7", &id), 0);
    assert_int_equal(id, 7);
    assert_int_equal(urls_queue_id("13", &id), 0);
    assert_int_equal(id, 13);
    assert_int_equal(urls_queue_id("http://h/job/x/", &id), -EINVAL);
    assert_int_equal(urls_queue_id("http://h/queue/item/x/", &id), -EINVAL);
    assert_int_equal(urls_queue_id("http://h/queue/item/4/api/json", &id), -EINVAL);
    assert_int_equal(urls_queue_id("0", &id), -ERANGE);
    assert_int_equal(urls_queue_id("", &id), -EINVAL);
}

static void
build_ref__numbers_and_permalinks(void **state)
{
    (void) state;
    assert_true(urls_is_build_ref("12"));
    assert_true(urls_is_build_ref("lastBuild"));
    assert_true(urls_is_build_ref("lastSuccessfulBuild"));
    assert_false(urls_is_build_ref("0"));
    assert_false(urls_is_build_ref("latest"));
    assert_false(urls_is_build_ref("../x"));
}

static void
token_shapes(void **state)
{
    (void) state;
    assert_true(urls_is_api_token_shaped("11" "0123456789abcdef0123456789abcdef"));
    assert_false(urls_is_api_token_shaped("12" "0123456789abcdef0123456789abcdef"));
    assert_false(urls_is_api_token_shaped("11" "0123456789ABCDEF0123456789abcdef"));
    assert_false(urls_is_api_token_shaped("11" "0123456789abcdef0123456789abcde"));
    assert_false(urls_is_api_token_shaped(NULL));
    assert_true(urls_is_legacy_token_shaped("0123456789abcdef0123456789ABCDEF"));
    assert_false(urls_is_legacy_token_shaped("s3cret"));
}

static void
spans__read_as_people_say_them(void **state)
{
    (void) state;
    assert_string_equal(table_span(1234), "1.2 s");
    assert_string_equal(table_span(42000), "42 s");
    assert_string_equal(table_span(125000), "2 min");
    assert_string_equal(table_span(3 * 3600000 + 5 * 60000), "3 h 5 min");
    assert_string_equal(table_ago(0, 1000), "-");
    assert_string_equal(table_ago(100000, 100500), "just now");
    assert_string_equal(table_ago(100000, 400000), "5 min ago");
}

static void
table__aligns_columns(void **state)
{
    struct table *t = table_new(3, (const char *[]){ "NAME", "STATUS", "LAST" });
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    (void) state;
    table_add(t, (const char *[]){ "a-long-name", "success", "#3" });
    table_add(t, (const char *[]){ "b", NULL, "-" });
    table_add(t, (const char *[]){ "ünï", "x", "y" });
    table_print(t, f);
    fclose(f);
    assert_string_equal(out, "NAME         STATUS   LAST\n"
                             "a-long-name  success  #3\n"
                             "b            -        -\n"
                             "ünï          x        y\n");
    free(out);
    table_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(job_path__encodes_segments_and_nests_folders),
        cmocka_unit_test(form__encodes_keys_and_values),
        cmocka_unit_test(queue_id__from_location_or_number),
        cmocka_unit_test(build_ref__numbers_and_permalinks),
        cmocka_unit_test(token_shapes),
        cmocka_unit_test(spans__read_as_people_say_them),
        cmocka_unit_test(table__aligns_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
