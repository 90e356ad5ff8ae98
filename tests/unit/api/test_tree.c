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

#include "api/tree.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/macro.h"

/* ---- helpers ------------------------------------------------------------- */

static json_t *
load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);

    if (!v)
        fail_msg("bad test JSON at %d: %s", err.position, err.text);
    return v;
}

/* Parses `expr`, applies it to `input` and returns the compact JSON. */
static char *
apply(const char *expr, const char *input)
{
    _cleanup_(tree_freep) struct tree *t = NULL;
    _cleanup_free_ char *msg = NULL;
    json_t *v = load(input);
    json_t *out;
    char *dump;
    int r;

    r = tree_parse(expr, &t, &msg);
    if (r < 0)
        fail_msg("tree_parse(\"%s\") = %d: %s", expr, r, msg ? msg : "");
    out = tree_apply(t, v);
    assert_non_null(out);
    dump = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(dump);
    json_decref(out);
    json_decref(v);
    return dump;
}

static void
assert_apply(const char *expr, const char *input, const char *expected)
{
    _cleanup_free_ char *got = apply(expr, input);

    assert_string_equal(got, expected);
}

/* Checks -EINVAL and that the message names `offset` and `reason`. */
static void
assert_malformed(const char *expr, size_t offset, const char *reason)
{
    struct tree *t = NULL;
    _cleanup_free_ char *msg = NULL;
    char want[128];
    int r;

    r = tree_parse(expr, &t, &msg);
    if (r != -EINVAL)
        fail_msg("tree_parse(\"%s\") = %d, expected -EINVAL", expr, r);
    assert_null(t);
    assert_non_null(msg);
    snprintf(want, sizeof(want), "Malformed tree expression at offset %zu: %s",
             offset, reason);
    if (strncmp(msg, want, strlen(want)) != 0)
        fail_msg("tree_parse(\"%s\"): got \"%s\", expected it to start with \"%s\"",
                 expr, msg, want);
}

/* The root of a Jenkins with three jobs, one of them a folder. */
static const char hudson[] =
    "{\"_class\":\"hudson.model.Hudson\",\"mode\":\"NORMAL\",\"nodeName\":\"\","
    "\"jobs\":["
    "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\",\"url\":\"http://h/job/a/\",\"color\":\"blue\"},"
    "{\"_class\":\"com.cloudbees.hudson.plugins.folder.Folder\",\"name\":\"f\",\"url\":\"http://h/job/f/\","
    "\"jobs\":[{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"b\",\"url\":\"http://h/job/f/job/b/\",\"color\":\"red\"}]},"
    "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"c\",\"url\":\"http://h/job/c/\",\"color\":\"notbuilt\"}"
    "],"
    "\"primaryView\":{\"_class\":\"hudson.model.AllView\",\"name\":\"all\",\"url\":\"http://h/\"},"
    "\"useSecurity\":true,\"description\":null}";

/* A queue item that has started building. */
static const char queue_item[] =
    "{\"_class\":\"hudson.model.Queue$LeftItem\",\"blocked\":false,\"id\":7,"
    "\"why\":null,\"cancelled\":false,"
    "\"executable\":{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":3,\"url\":\"http://h/job/a/3/\"}}";

/* A job with builds 9..0 and an array of numbers. */
static const char job_builds[] =
    "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\",\"builds\":["
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":9,\"result\":\"SUCCESS\",\"url\":\"u9\"},"
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":8,\"result\":\"FAILURE\",\"url\":\"u8\"},"
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":7,\"result\":\"SUCCESS\",\"url\":\"u7\"},"
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":6,\"result\":null,\"url\":\"u6\"},"
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":5,\"result\":\"ABORTED\",\"url\":\"u5\"},"
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":4,\"result\":\"SUCCESS\",\"url\":\"u4\"},"
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":3,\"result\":\"SUCCESS\",\"url\":\"u3\"},"
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":2,\"result\":\"SUCCESS\",\"url\":\"u2\"},"
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":1,\"result\":\"SUCCESS\",\"url\":\"u1\"},"
    "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":0,\"result\":\"SUCCESS\",\"url\":\"u0\"}"
    "],\"nums\":[10,11,12,13],"
    "\"healthReport\":{\"_class\":\"hudson.model.HealthReport\",\"score\":80}}";

/* ---- selecting properties ------------------------------------------------ */

static void
tree_apply__keeps_only_the_named_property_and_class(void **state)
{
    (void) state;
    assert_apply("name", "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\",\"url\":\"u\"}",
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\"}");
}

static void
tree_apply__keeps_class_even_when_not_asked_for(void **state)
{
    (void) state;
    assert_apply("mode", hudson, "{\"_class\":\"hudson.model.Hudson\",\"mode\":\"NORMAL\"}");
}

static void
tree_apply__keeps_class_of_selected_objects_without_fields(void **state)
{
    (void) state;
    assert_apply("jobs", hudson,
                 "{\"_class\":\"hudson.model.Hudson\",\"jobs\":["
                 "{\"_class\":\"hudson.model.FreeStyleProject\"},"
                 "{\"_class\":\"com.cloudbees.hudson.plugins.folder.Folder\"},"
                 "{\"_class\":\"hudson.model.FreeStyleProject\"}]}");
    assert_apply("primaryView", hudson,
                 "{\"_class\":\"hudson.model.Hudson\",\"primaryView\":{\"_class\":\"hudson.model.AllView\"}}");
}

static void
tree_apply__gives_empty_object_for_selected_object_without_class(void **state)
{
    (void) state;
    assert_apply("o", "{\"o\":{\"a\":1,\"b\":[1]}}", "{\"o\":{}}");
}

static void
tree_apply__filters_inside_a_selected_object(void **state)
{
    (void) state;
    assert_apply("cancelled,executable[url]", queue_item,
                 "{\"_class\":\"hudson.model.Queue$LeftItem\",\"cancelled\":false,"
                 "\"executable\":{\"_class\":\"hudson.model.FreeStyleBuild\",\"url\":\"http://h/job/a/3/\"}}");
}

static void
tree_apply__filters_inside_every_element_of_an_array(void **state)
{
    (void) state;
    assert_apply("jobs[name,color]", hudson,
                 "{\"_class\":\"hudson.model.Hudson\",\"jobs\":["
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\",\"color\":\"blue\"},"
                 "{\"_class\":\"com.cloudbees.hudson.plugins.folder.Folder\",\"name\":\"f\"},"
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"c\",\"color\":\"notbuilt\"}]}");
}

static void
tree_apply__filters_nested_sub_trees(void **state)
{
    (void) state;
    assert_apply("jobs[name,jobs[name,color]]", hudson,
                 "{\"_class\":\"hudson.model.Hudson\",\"jobs\":["
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\"},"
                 "{\"_class\":\"com.cloudbees.hudson.plugins.folder.Folder\",\"name\":\"f\","
                 "\"jobs\":[{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"b\",\"color\":\"red\"}]},"
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"c\"}]}");
}

static void
tree_apply__keeps_all_builds_number_and_url(void **state)
{
    (void) state;
    assert_apply("allBuilds[number,url]",
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"allBuilds\":["
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":2,\"url\":\"u2\",\"result\":\"SUCCESS\"},"
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":1,\"url\":\"u1\",\"result\":null}]}",
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"allBuilds\":["
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":2,\"url\":\"u2\"},"
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":1,\"url\":\"u1\"}]}");
}

static void
tree_apply__keeps_primitive_arrays_whole(void **state)
{
    (void) state;
    assert_apply("nums", job_builds,
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"nums\":[10,11,12,13]}");
}

static void
tree_apply__keeps_primitives_in_mixed_arrays_and_prunes_the_objects(void **state)
{
    (void) state;
    assert_apply("a", "{\"a\":[1,\"x\",null,true,{\"_class\":\"C\",\"k\":1},[2,{\"k\":2}]]}",
                 "{\"a\":[1,\"x\",null,true,{\"_class\":\"C\"},[2,{}]]}");
}

static void
tree_apply__keeps_null_values(void **state)
{
    (void) state;
    assert_apply("why,description,cancelled", queue_item,
                 "{\"_class\":\"hudson.model.Queue$LeftItem\",\"why\":null,\"cancelled\":false}");
    assert_apply("jobs[result]{3}", "{\"jobs\":[{},{},{},{\"result\":null}]}",
                 "{\"jobs\":[{\"result\":null}]}");
}

static void
tree_apply__keeps_primitive_value_even_with_a_sub_tree(void **state)
{
    (void) state;
    assert_apply("name[x,y],id[z]", queue_item, "{\"_class\":\"hudson.model.Queue$LeftItem\",\"id\":7}");
}

static void
tree_apply__ignores_unknown_names(void **state)
{
    (void) state;
    assert_apply("nope,jobs[nope]{0,1},alsoNope[x]", hudson,
                 "{\"_class\":\"hudson.model.Hudson\",\"jobs\":[{\"_class\":\"hudson.model.FreeStyleProject\"}]}");
}

static void
tree_apply__keeps_the_order_of_the_value_not_of_the_expression(void **state)
{
    (void) state;
    assert_apply("useSecurity,nodeName,mode", hudson,
                 "{\"_class\":\"hudson.model.Hudson\",\"mode\":\"NORMAL\",\"nodeName\":\"\",\"useSecurity\":true}");
}

static void
tree_apply__selects_every_property_with_the_wildcard(void **state)
{
    (void) state;
    assert_apply("*", queue_item,
                 "{\"_class\":\"hudson.model.Queue$LeftItem\",\"blocked\":false,\"id\":7,\"why\":null,"
                 "\"cancelled\":false,\"executable\":{\"_class\":\"hudson.model.FreeStyleBuild\"}}");
    assert_apply("id,executable[*]", queue_item,
                 "{\"_class\":\"hudson.model.Queue$LeftItem\",\"id\":7,"
                 "\"executable\":{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":3,\"url\":\"http://h/job/a/3/\"}}");
}

static void
tree_apply__prefers_an_exact_name_over_the_wildcard(void **state)
{
    (void) state;
    assert_apply("*,primaryView[name]", hudson,
                 "{\"_class\":\"hudson.model.Hudson\",\"mode\":\"NORMAL\",\"nodeName\":\"\","
                 "\"jobs\":[{\"_class\":\"hudson.model.FreeStyleProject\"},"
                 "{\"_class\":\"com.cloudbees.hudson.plugins.folder.Folder\"},"
                 "{\"_class\":\"hudson.model.FreeStyleProject\"}],"
                 "\"primaryView\":{\"_class\":\"hudson.model.AllView\",\"name\":\"all\"},"
                 "\"useSecurity\":true,\"description\":null}");
}

static void
tree_apply__later_duplicate_name_replaces_the_earlier_one(void **state)
{
    (void) state;
    /* Stapler keeps the names of one level in a map */
    assert_apply("executable[url],executable[number]", queue_item,
                 "{\"_class\":\"hudson.model.Queue$LeftItem\","
                 "\"executable\":{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":3}}");
    assert_apply("nums{0,1},nums", job_builds,
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"nums\":[10,11,12,13]}");
}

static void
tree_apply__accepts_class_and_java_identifier_characters_in_names(void **state)
{
    (void) state;
    assert_apply("_class,a$b,c.d,e-f,g_9", "{\"a$b\":1,\"c.d\":2,\"e-f\":3,\"g_9\":4,\"h\":5}",
                 "{\"a$b\":1,\"c.d\":2,\"e-f\":3,\"g_9\":4}");
}

static void
tree_apply__applies_to_every_element_of_a_top_level_array(void **state)
{
    (void) state;
    assert_apply("n", "[{\"n\":1,\"m\":2},3,{\"m\":4}]", "[{\"n\":1},3,{}]");
}

static void
tree_apply__leaves_the_input_unchanged(void **state)
{
    _cleanup_(tree_freep) struct tree *t = NULL;
    json_t *v = load(hudson);
    json_t *orig = json_deep_copy(v);
    json_t *out;

    (void) state;
    assert_int_equal(tree_parse("jobs[name]{1},mode", &t, NULL), 0);
    out = tree_apply(t, v);
    assert_non_null(out);
    assert_true(json_equal(v, orig));

    /* the answer does not share mutable parts with the input */
    json_string_set(json_object_get(out, "mode"), "EXCLUSIVE");
    assert_string_equal(json_string_value(json_object_get(v, "mode")), "NORMAL");

    json_decref(out);
    json_decref(orig);
    json_decref(v);
}

static void
tree_apply__can_be_applied_twice(void **state)
{
    _cleanup_(tree_freep) struct tree *t = NULL;
    json_t *v = load(queue_item);
    json_t *a, *b;

    (void) state;
    assert_int_equal(tree_parse("executable[number]", &t, NULL), 0);
    a = tree_apply(t, v);
    b = tree_apply(t, v);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    json_decref(v);
}

/* ---- ranges -------------------------------------------------------------- */

static void
tree_apply__range_with_one_number_keeps_that_element(void **state)
{
    (void) state;
    assert_apply("builds[number]{2}", job_builds,
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"builds\":["
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":7}]}");
}

static void
tree_apply__range_from_m_to_n_excludes_n(void **state)
{
    (void) state;
    assert_apply("builds[number]{3,5}", job_builds,
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"builds\":["
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":6},"
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":5}]}");
}

static void
tree_apply__range_zero_to_ten_keeps_the_first_ten_jobs(void **state)
{
    (void) state;
    assert_apply("jobs[name,color]{0,10}", hudson,
                 "{\"_class\":\"hudson.model.Hudson\",\"jobs\":["
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\",\"color\":\"blue\"},"
                 "{\"_class\":\"com.cloudbees.hudson.plugins.folder.Folder\",\"name\":\"f\"},"
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"c\",\"color\":\"notbuilt\"}]}");
    assert_apply("jobs[name]{0,2}", hudson,
                 "{\"_class\":\"hudson.model.Hudson\",\"jobs\":["
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\"},"
                 "{\"_class\":\"com.cloudbees.hudson.plugins.folder.Folder\",\"name\":\"f\"}]}");
}

static void
tree_apply__range_up_to_n_keeps_the_first_n(void **state)
{
    (void) state;
    assert_apply("builds[number,result]{,5}", job_builds,
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"builds\":["
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":9,\"result\":\"SUCCESS\"},"
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":8,\"result\":\"FAILURE\"},"
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":7,\"result\":\"SUCCESS\"},"
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":6,\"result\":null},"
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":5,\"result\":\"ABORTED\"}]}");
}

static void
tree_apply__range_from_n_keeps_the_rest(void **state)
{
    (void) state;
    assert_apply("builds[number]{8,}", job_builds,
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"builds\":["
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":1},"
                 "{\"_class\":\"hudson.model.FreeStyleBuild\",\"number\":0}]}");
}

static void
tree_apply__range_past_the_end_keeps_nothing(void **state)
{
    (void) state;
    assert_apply("nums{4}", job_builds, "{\"_class\":\"hudson.model.FreeStyleProject\",\"nums\":[]}");
    assert_apply("nums{10,}", job_builds, "{\"_class\":\"hudson.model.FreeStyleProject\",\"nums\":[]}");
    assert_apply("nums{2,100}", job_builds, "{\"_class\":\"hudson.model.FreeStyleProject\",\"nums\":[12,13]}");
}

static void
tree_apply__reversed_range_keeps_nothing(void **state)
{
    (void) state;
    assert_apply("nums{3,1}", job_builds, "{\"_class\":\"hudson.model.FreeStyleProject\",\"nums\":[]}");
}

static void
tree_apply__range_applies_to_arrays_of_primitives(void **state)
{
    (void) state;
    assert_apply("nums{1,3}", job_builds, "{\"_class\":\"hudson.model.FreeStyleProject\",\"nums\":[11,12]}");
}

static void
tree_apply__range_on_an_object_is_ignored(void **state)
{
    (void) state;
    assert_apply("healthReport[score]{5,6}", job_builds,
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"healthReport\":"
                 "{\"_class\":\"hudson.model.HealthReport\",\"score\":80}}");
    assert_apply("name{0}", job_builds, "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\"}");
}

static void
tree_apply__range_applies_inside_nested_selections(void **state)
{
    (void) state;
    assert_apply("jobs[name,jobs[name]{0}]{1}", hudson,
                 "{\"_class\":\"hudson.model.Hudson\",\"jobs\":["
                 "{\"_class\":\"com.cloudbees.hudson.plugins.folder.Folder\",\"name\":\"f\","
                 "\"jobs\":[{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"b\"}]}]}");
}

static void
tree_parse__accepts_range_bounds_up_to_java_int_max(void **state)
{
    (void) state;
    assert_apply("nums{2147483647}", job_builds, "{\"_class\":\"hudson.model.FreeStyleProject\",\"nums\":[]}");
    assert_apply("nums{0,2147483647}", job_builds,
                 "{\"_class\":\"hudson.model.FreeStyleProject\",\"nums\":[10,11,12,13]}");
    assert_apply("nums{007}", job_builds, "{\"_class\":\"hudson.model.FreeStyleProject\",\"nums\":[]}");
}

/* ---- python-jenkins get_all_jobs() ------------------------------------- */

/* A chain of `levels` folders, each holding the next, the last one empty. */
static json_t *
make_folder_chain(int levels)
{
    json_t *inner = json_array();

    for (int i = levels; i >= 1; i--) {
        char name[16], url[32];
        json_t *folder, *jobs = json_array();

        snprintf(name, sizeof(name), "f%d", i);
        snprintf(url, sizeof(url), "http://h/f%d/", i);
        folder = json_pack("{s:s, s:s, s:s, s:s, s:o}",
                           "_class", "com.cloudbees.hudson.plugins.folder.Folder",
                           "description", "pruned", "name", name, "url", url,
                           "jobs", inner);
        assert_non_null(folder);
        json_array_append_new(jobs, folder);
        inner = jobs;
    }
    return json_pack("{s:s, s:o}", "_class", "hudson.model.Hudson", "jobs", inner);
}

static void
tree_apply__python_jenkins_ten_level_jobs_query_prunes_the_deepest_jobs(void **state)
{
    _cleanup_(tree_freep) struct tree *t = NULL;
    _cleanup_free_ char *msg = NULL;
    struct buf expr = BUF_INIT(BOUND_TREE_BYTES);
    json_t *v, *out, *level;

    (void) state;
    /* jenkins/__init__.py: JOBS_QUERY_TREE = 'jobs[url,color,name,%s]', ten times */
    assert_int_equal(buf_puts(&expr, "jobs"), 0);
    for (int i = 0; i < 10; i++) {
        _cleanup_free_ char *inner = buf_detach(&expr);

        expr = BUF_INIT(BOUND_TREE_BYTES);
        assert_int_equal(buf_printf(&expr, "jobs[url,color,name,%s]", inner), 0);
    }
    assert_true(strncmp(buf_str(&expr),
                        "jobs[url,color,name,jobs[url,color,name,jobs[url,color,name,", 60) == 0);
    assert_true(strstr(buf_str(&expr), "jobs[url,color,name,jobs]]]]]]]]]]") != NULL);

    assert_int_equal(tree_parse(buf_str(&expr), &t, &msg), 0);
    assert_null(msg);

    v = make_folder_chain(12);
    out = tree_apply(t, v);
    assert_non_null(out);

    /* folders 1..10 show url and name (they have no color); folder 11 only its _class */
    level = out;
    for (int i = 1; i <= 11; i++) {
        json_t *jobs = json_object_get(level, "jobs");
        char name[16];

        assert_true(json_is_array(jobs));
        assert_int_equal(json_array_size(jobs), 1);
        level = json_array_get(jobs, 0);
        assert_string_equal(json_string_value(json_object_get(level, "_class")),
                            "com.cloudbees.hudson.plugins.folder.Folder");
        assert_null(json_object_get(level, "description"));
        if (i <= 10) {
            snprintf(name, sizeof(name), "f%d", i);
            assert_int_equal(json_object_size(level), 4);
            assert_string_equal(json_string_value(json_object_get(level, "name")), name);
            assert_non_null(json_object_get(level, "url"));
        } else {
            assert_int_equal(json_object_size(level), 1);
        }
    }

    json_decref(out);
    json_decref(v);
    buf_release(&expr);
}

/* ---- malformed expressions ----------------------------------------------- */

static void
tree_parse__reports_the_offset_and_what_was_expected(void **state)
{
    _cleanup_free_ char *msg = NULL;
    struct tree *t = NULL;

    (void) state;
    assert_int_equal(tree_parse("jobs[url,]", &t, &msg), -EINVAL);
    assert_string_equal(msg, "Malformed tree expression at offset 9: expected a name, found ']'");
}

static void
tree_parse__rejects_empty_names(void **state)
{
    (void) state;
    assert_malformed("", 0, "expected a name");
    assert_malformed(",b", 0, "expected a name");
    assert_malformed("a,,b", 2, "expected a name");
    assert_malformed("a[]", 2, "expected a name");
    assert_malformed("a[b,,]", 4, "expected a name");
    assert_malformed("[a]", 0, "expected a name");
    assert_malformed("{1}", 0, "expected a name");
}

static void
tree_parse__rejects_trailing_commas(void **state)
{
    (void) state;
    assert_malformed("a,", 2, "expected a name");
    assert_malformed("jobs[name,]", 10, "expected a name");
    assert_malformed("a[b],", 5, "expected a name");
}

static void
tree_parse__rejects_unbalanced_brackets(void **state)
{
    (void) state;
    assert_malformed("a[", 2, "expected a name");
    assert_malformed("a[b,c", 5, "expected ',' or ']'");
    assert_malformed("a[b[c]", 6, "expected ',' or ']'");
    assert_malformed("a]", 1, "expected ',' or the end");
    assert_malformed("a[b]]", 4, "expected ',' or the end");
    assert_malformed("a[b]c", 4, "expected ',' or the end");
}

static void
tree_parse__rejects_bad_ranges(void **state)
{
    (void) state;
    assert_malformed("a{}", 2, "expected a number");
    assert_malformed("a{b}", 2, "expected a number");
    assert_malformed("a{,}", 3, "expected a number");
    assert_malformed("a{-1}", 2, "expected a number");
    assert_malformed("a{1", 3, "expected ',' or '}'");
    assert_malformed("a{1,", 4, "expected a number");
    assert_malformed("a{1,2", 5, "expected '}'");
    assert_malformed("a{1,2,3}", 5, "expected '}'");
    assert_malformed("a{ 1}", 2, "expected a number");
    assert_malformed("a{1}{2}", 4, "expected ',' or the end");
    assert_malformed("a{1}[b]", 4, "expected ',' or the end");
    assert_malformed("a}", 1, "expected ',' or the end");
}

static void
tree_parse__rejects_numbers_beyond_java_int(void **state)
{
    (void) state;
    assert_malformed("a{2147483648}", 2, "number too large");
    assert_malformed("a{1,99999999999999999999999}", 4, "number too large");
}

static void
tree_parse__rejects_characters_outside_java_identifiers(void **state)
{
    (void) state;
    assert_malformed(" name", 0, "expected a name");
    assert_malformed("name ", 4, "expected ',', '[', '{', ']' or the end");
    assert_malformed("a b", 1, "expected ',', '[', '{', ']' or the end");
    assert_malformed("name\n", 4, "expected ',', '[', '{', ']' or the end, found byte 0x0a");
    assert_malformed("a, b", 2, "expected a name");
    assert_malformed("jobs[na%me]", 7, "expected ',', '[', '{', ']' or the end");
    assert_malformed("caf\xc3\xa9", 3, "expected ',', '[', '{', ']' or the end, found byte 0xc3");
    assert_malformed("a*", 1, "expected ',', '[', '{', ']' or the end");
    assert_malformed("*a", 1, "expected ',', '[', '{', ']' or the end");
    assert_malformed("a\"b", 1, "expected ',', '[', '{', ']' or the end, found '\"'");
}

static void
tree_parse__accepts_sixteen_levels_of_nesting(void **state)
{
    _cleanup_(tree_freep) struct tree *t = NULL;
    char expr[256] = "";

    (void) state;
    for (int i = 0; i < 16; i++)
        strcat(expr, "a[");
    strcat(expr, "b");
    for (int i = 0; i < 16; i++)
        strcat(expr, "]");
    assert_int_equal(tree_parse(expr, &t, NULL), 0);
}

static void
tree_parse__rejects_seventeen_levels_of_nesting_as_too_big(void **state)
{
    struct tree *t = NULL;
    char *msg = NULL;
    char expr[256] = "";

    (void) state;
    for (int i = 0; i < 17; i++)
        strcat(expr, "a[");
    strcat(expr, "b");
    for (int i = 0; i < 17; i++)
        strcat(expr, "]");
    assert_int_equal(tree_parse(expr, &t, &msg), -E2BIG);
    assert_null(t);
    assert_null(msg);
}

static void
tree_parse__accepts_an_expression_at_the_size_bound(void **state)
{
    _cleanup_(tree_freep) struct tree *t = NULL;
    _cleanup_free_ char *expr = malloc(BOUND_TREE_BYTES + 1);

    (void) state;
    assert_non_null(expr);
    memset(expr, 'a', BOUND_TREE_BYTES);
    expr[BOUND_TREE_BYTES] = '\0';
    assert_int_equal(tree_parse(expr, &t, NULL), 0);
}

static void
tree_parse__rejects_an_expression_past_the_size_bound(void **state)
{
    struct tree *t = NULL;
    char *msg = NULL;
    _cleanup_free_ char *expr = malloc(BOUND_TREE_BYTES + 2);

    (void) state;
    assert_non_null(expr);
    memset(expr, 'a', BOUND_TREE_BYTES + 1);
    expr[BOUND_TREE_BYTES + 1] = '\0';
    assert_int_equal(tree_parse(expr, &t, &msg), -E2BIG);
    assert_null(t);
    assert_null(msg);
}

static void
tree_parse__takes_no_message_pointer(void **state)
{
    struct tree *t = NULL;

    (void) state;
    assert_int_equal(tree_parse("a[", &t, NULL), -EINVAL);
    assert_null(t);
}

static void
tree_parse__leaves_the_message_alone_on_success(void **state)
{
    _cleanup_(tree_freep) struct tree *t = NULL;
    char *msg = (char *) "untouched";

    (void) state;
    assert_int_equal(tree_parse("a,b[c]{1,2},d{,3},e{4,}", &t, &msg), 0);
    assert_non_null(t);
    assert_string_equal(msg, "untouched");
}

static void
tree_free__accepts_null_and_returns_null(void **state)
{
    (void) state;
    assert_null(tree_free(NULL));
}

/* ---- tree_select_fields -------------------------------------------------- */

static const char *const summary[] = { "_class", "name", "url", "color", NULL };

static int
select_fields(const char *expr, unsigned *mask, size_t *from, size_t *to)
{
    _cleanup_(tree_freep) struct tree *t = NULL;

    if (expr)
        assert_int_equal(tree_parse(expr, &t, NULL), 0);
    return tree_select_fields(t, "jobs", summary, mask, from, to);
}

static void tree_select_fields__without_a_tree_keeps_everything(void **state)
{
    unsigned mask = 0;
    size_t from = 9, to = 0;

    (void) state;
    assert_int_equal(select_fields(NULL, &mask, &from, &to), 1);
    assert_int_equal(mask, 0xf);
    assert_true(from == 0 && to == SIZE_MAX);
}

static void tree_select_fields__gives_the_names_asked_for_and_the_class(void **state)
{
    unsigned mask = 0;
    size_t from = 9, to = 0;

    (void) state;
    assert_int_equal(select_fields("jobs[name,color]", &mask, &from, &to), 1);
    assert_int_equal(mask, 1u | 2u | 8u);
    assert_true(from == 0 && to == SIZE_MAX);
    assert_int_equal(select_fields("description,jobs[color,url]{2,5}", &mask, &from, &to), 1);
    assert_int_equal(mask, 1u | 4u | 8u);
    assert_true(from == 2 && to == 5);
    /* a leaf: each job is just its class, as python-jenkins asks */
    assert_int_equal(select_fields("jobs", &mask, &from, &to), 1);
    assert_int_equal(mask, 1u);
    assert_int_equal(select_fields("*", &mask, &from, &to), 1);
    assert_int_equal(mask, 1u);
}

static void tree_select_fields__says_when_the_field_is_not_asked_for(void **state)
{
    unsigned mask;
    size_t from, to;

    (void) state;
    assert_int_equal(select_fields("views[name],description", &mask, &from, &to), 0);
}

static void tree_select_fields__refuses_more_than_the_names(void **state)
{
    unsigned mask;
    size_t from, to;

    (void) state;
    assert_int_equal(select_fields("jobs[name,lastBuild]", &mask, &from, &to), -1);
    assert_int_equal(select_fields("jobs[name[x]]", &mask, &from, &to), -1);
    assert_int_equal(select_fields("jobs[*]", &mask, &from, &to), -1);
    assert_int_equal(select_fields("jobs[name,displayName]", &mask, &from, &to), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tree_apply__keeps_only_the_named_property_and_class),
        cmocka_unit_test(tree_apply__keeps_class_even_when_not_asked_for),
        cmocka_unit_test(tree_apply__keeps_class_of_selected_objects_without_fields),
        cmocka_unit_test(tree_apply__gives_empty_object_for_selected_object_without_class),
        cmocka_unit_test(tree_apply__filters_inside_a_selected_object),
        cmocka_unit_test(tree_apply__filters_inside_every_element_of_an_array),
        cmocka_unit_test(tree_apply__filters_nested_sub_trees),
        cmocka_unit_test(tree_apply__keeps_all_builds_number_and_url),
        cmocka_unit_test(tree_apply__keeps_primitive_arrays_whole),
        cmocka_unit_test(tree_apply__keeps_primitives_in_mixed_arrays_and_prunes_the_objects),
        cmocka_unit_test(tree_apply__keeps_null_values),
        cmocka_unit_test(tree_apply__keeps_primitive_value_even_with_a_sub_tree),
        cmocka_unit_test(tree_apply__ignores_unknown_names),
        cmocka_unit_test(tree_apply__keeps_the_order_of_the_value_not_of_the_expression),
        cmocka_unit_test(tree_apply__selects_every_property_with_the_wildcard),
        cmocka_unit_test(tree_apply__prefers_an_exact_name_over_the_wildcard),
        cmocka_unit_test(tree_apply__later_duplicate_name_replaces_the_earlier_one),
        cmocka_unit_test(tree_apply__accepts_class_and_java_identifier_characters_in_names),
        cmocka_unit_test(tree_apply__applies_to_every_element_of_a_top_level_array),
        cmocka_unit_test(tree_apply__leaves_the_input_unchanged),
        cmocka_unit_test(tree_apply__can_be_applied_twice),
        cmocka_unit_test(tree_apply__range_with_one_number_keeps_that_element),
        cmocka_unit_test(tree_apply__range_from_m_to_n_excludes_n),
        cmocka_unit_test(tree_apply__range_zero_to_ten_keeps_the_first_ten_jobs),
        cmocka_unit_test(tree_apply__range_up_to_n_keeps_the_first_n),
        cmocka_unit_test(tree_apply__range_from_n_keeps_the_rest),
        cmocka_unit_test(tree_apply__range_past_the_end_keeps_nothing),
        cmocka_unit_test(tree_apply__reversed_range_keeps_nothing),
        cmocka_unit_test(tree_apply__range_applies_to_arrays_of_primitives),
        cmocka_unit_test(tree_apply__range_on_an_object_is_ignored),
        cmocka_unit_test(tree_apply__range_applies_inside_nested_selections),
        cmocka_unit_test(tree_parse__accepts_range_bounds_up_to_java_int_max),
        cmocka_unit_test(tree_apply__python_jenkins_ten_level_jobs_query_prunes_the_deepest_jobs),
        cmocka_unit_test(tree_parse__reports_the_offset_and_what_was_expected),
        cmocka_unit_test(tree_parse__rejects_empty_names),
        cmocka_unit_test(tree_parse__rejects_trailing_commas),
        cmocka_unit_test(tree_parse__rejects_unbalanced_brackets),
        cmocka_unit_test(tree_parse__rejects_bad_ranges),
        cmocka_unit_test(tree_parse__rejects_numbers_beyond_java_int),
        cmocka_unit_test(tree_parse__rejects_characters_outside_java_identifiers),
        cmocka_unit_test(tree_parse__accepts_sixteen_levels_of_nesting),
        cmocka_unit_test(tree_parse__rejects_seventeen_levels_of_nesting_as_too_big),
        cmocka_unit_test(tree_parse__accepts_an_expression_at_the_size_bound),
        cmocka_unit_test(tree_parse__rejects_an_expression_past_the_size_bound),
        cmocka_unit_test(tree_parse__takes_no_message_pointer),
        cmocka_unit_test(tree_parse__leaves_the_message_alone_on_success),
        cmocka_unit_test(tree_free__accepts_null_and_returns_null),
        cmocka_unit_test(tree_select_fields__without_a_tree_keeps_everything),
        cmocka_unit_test(tree_select_fields__gives_the_names_asked_for_and_the_class),
        cmocka_unit_test(tree_select_fields__says_when_the_field_is_not_asked_for),
        cmocka_unit_test(tree_select_fields__refuses_more_than_the_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
