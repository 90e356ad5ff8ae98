/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/xmlout.h"
#include "util/buf.h"
#include "util/macro.h"

/* ---- helpers ------------------------------------------------------------- */

static json_t *
load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_ALLOW_NUL, &err);

    if (!v)
        fail_msg("bad test JSON at %d: %s", err.position, err.text);
    return v;
}

static void
assert_render(const char *json, const char *root, const char *expected)
{
    struct buf out = BUF_INIT(1 << 20);
    json_t *v = load(json);
    int r;

    r = xmlout_render(v, root, &out);
    if (r < 0)
        fail_msg("xmlout_render(%s) = %d", json, r);
    assert_string_equal(buf_str(&out), expected);
    buf_release(&out);
    json_decref(v);
}

/* Runs an xpath that must succeed; checks the answer and its kind. */
static void
assert_xpath(const char *json, const char *xpath, const char *wrapper,
             const char *expected, bool expect_text)
{
    struct buf out = BUF_INIT(1 << 20);
    char *msg = NULL;
    bool is_text = !expect_text;
    json_t *v = load(json);
    int r;

    r = xmlout_xpath(v, "root", xpath, wrapper, &out, &is_text, &msg);
    if (r < 0)
        fail_msg("xmlout_xpath(%s) = %d: %s", xpath, r, msg ? msg : "");
    assert_null(msg);
    assert_string_equal(buf_str(&out), expected);
    assert_int_equal(is_text, expect_text);
    buf_release(&out);
    json_decref(v);
}

/* Runs an xpath that must fail with `error`; returns the message. */
static char *
xpath_error(const char *json, const char *xpath, const char *wrapper, int error)
{
    struct buf out = BUF_INIT(1 << 20);
    char *msg = NULL;
    bool is_text = false;
    json_t *v = load(json);
    int r;

    assert_int_equal(buf_puts(&out, "before"), 0);
    r = xmlout_xpath(v, "root", xpath, wrapper, &out, &is_text, &msg);
    if (r != error)
        fail_msg("xmlout_xpath(%s) = %d, expected %d", xpath, r, error);
    assert_string_equal(buf_str(&out), "before");
    assert_non_null(msg);
    buf_release(&out);
    json_decref(v);
    return msg;
}

static void
assert_unsupported(const char *xpath)
{
    _cleanup_free_ char *msg = xpath_error("{\"a\":1}", xpath, NULL, -EINVAL);

    if (!strstr(msg, "Unsupported XPath expression") || !strstr(msg, "supported forms are"))
        fail_msg("xpath %s: unexpected message \"%s\"", xpath, msg);
}

static const char crumb_issuer[] =
    "{\"_class\":\"hudson.security.csrf.DefaultCrumbIssuer\",\"crumb\":\"abc\","
    "\"crumbRequestField\":\"Jenkins-Crumb\"}";

static const char hudson[] =
    "{\"_class\":\"hudson.model.Hudson\",\"mode\":\"NORMAL\",\"jobs\":["
    "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\",\"color\":\"blue\"},"
    "{\"_class\":\"com.cloudbees.hudson.plugins.folder.Folder\",\"name\":\"f\",\"jobs\":["
    "{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"b\",\"color\":\"red\"}]}],"
    "\"primaryView\":{\"_class\":\"hudson.model.AllView\",\"name\":\"all\"},"
    "\"quietingDown\":false,\"description\":null,\"empty\":{}}";

/* ---- rendering ----------------------------------------------------------- */

static void
xmlout_render__writes_the_crumb_issuer_as_jenkins_does(void **state)
{
    (void) state;
    assert_render(crumb_issuer, NULL,
                  "<defaultCrumbIssuer _class='hudson.security.csrf.DefaultCrumbIssuer'>"
                  "<crumb>abc</crumb><crumbRequestField>Jenkins-Crumb</crumbRequestField>"
                  "</defaultCrumbIssuer>");
}

static void
xmlout_render__names_the_root_after_the_decapitalized_simple_class_name(void **state)
{
    (void) state;
    assert_render("{\"_class\":\"hudson.model.FreeStyleProject\",\"name\":\"a\"}", "ignored",
                  "<freeStyleProject _class='hudson.model.FreeStyleProject'><name>a</name></freeStyleProject>");
    assert_render("{\"_class\":\"Hudson\"}", NULL, "<hudson _class='Hudson'></hudson>");
}

static void
xmlout_render__names_the_root_after_an_inner_class(void **state)
{
    (void) state;
    assert_render("{\"_class\":\"hudson.model.Queue$LeftItem\",\"id\":7}", NULL,
                  "<leftItem _class='hudson.model.Queue$LeftItem'><id>7</id></leftItem>");
    assert_render("{\"_class\":\"a.Outer$1\"}", NULL, "<outer _class='a.Outer$1'></outer>");
    assert_render("{\"_class\":\"a.Outer$Inner$2\"}", NULL, "<inner _class='a.Outer$Inner$2'></inner>");
}

static void
xmlout_render__keeps_a_leading_acronym_capitalized(void **state)
{
    (void) state;
    assert_render("{\"_class\":\"x.URLThing\"}", NULL, "<URLThing _class='x.URLThing'></URLThing>");
    assert_render("{\"_class\":\"x.A\"}", NULL, "<a _class='x.A'></a>");
}

static void
xmlout_render__uses_the_callers_root_name_without_class(void **state)
{
    (void) state;
    assert_render("{\"n\":1}", "queue", "<queue><n>1</n></queue>");
    assert_render("{\"_class\":\"x.\",\"n\":1}", "queue", "<queue _class='x.'><n>1</n></queue>");
}

static void
xmlout_render__fails_without_class_or_root_name(void **state)
{
    struct buf out = BUF_INIT(1024);
    json_t *v = load("{\"n\":1}");

    (void) state;
    assert_int_equal(xmlout_render(v, NULL, &out), -EINVAL);
    assert_int_equal(xmlout_render(v, "", &out), -EINVAL);
    assert_int_equal(out.len, 0);
    buf_release(&out);
    json_decref(v);
}

static void
xmlout_render__refuses_values_that_are_not_objects(void **state)
{
    struct buf out = BUF_INIT(1024);
    json_t *v = load("[1,2]");
    json_t *s = json_string("x");

    (void) state;
    assert_int_equal(xmlout_render(v, "root", &out), -EINVAL);
    assert_int_equal(xmlout_render(s, "root", &out), -EINVAL);
    json_decref(v);
    json_decref(s);
}

static void
xmlout_render__repeats_array_elements_under_singular_names(void **state)
{
    (void) state;
    assert_render("{\"jobs\":[{\"_class\":\"J\",\"name\":\"a\"},{\"_class\":\"J\",\"name\":\"b\"}],"
                  "\"categories\":[\"general\",\"specific\"],\"allBuilds\":[1,2],\"address\":[\"x\"]}",
                  "root",
                  "<root><job _class='J'><name>a</name></job><job _class='J'><name>b</name></job>"
                  "<category>general</category><category>specific</category>"
                  "<allBuild>1</allBuild><allBuild>2</allBuild><addres>x</addres></root>");
}

static void
xmlout_render__writes_nothing_for_an_empty_array(void **state)
{
    (void) state;
    assert_render("{\"builds\":[],\"n\":1}", "root", "<root><n>1</n></root>");
}

static void
xmlout_render__flattens_nested_arrays(void **state)
{
    (void) state;
    assert_render("{\"v\":[[1,2],[3,[4]]]}", "root", "<root><v>1</v><v>2</v><v>3</v><v>4</v></root>");
}

static void
xmlout_render__omits_null_properties_and_null_elements(void **state)
{
    (void) state;
    assert_render("{\"why\":null,\"a\":[null,1,null],\"o\":{\"p\":null}}", "root",
                  "<root><a>1</a><o></o></root>");
}

static void
xmlout_render__writes_booleans_and_numbers_as_text(void **state)
{
    (void) state;
    assert_render("{\"t\":true,\"f\":false,\"i\":42,\"n\":-7,\"big\":9007199254740993,"
                  "\"r\":0.5,\"one\":1.0,\"tenth\":0.1}",
                  "root",
                  "<root><t>true</t><f>false</f><i>42</i><n>-7</n><big>9007199254740993</big>"
                  "<r>0.5</r><one>1.0</one><tenth>0.1</tenth></root>");
}

static void
xmlout_render__puts_class_of_nested_objects_in_an_attribute(void **state)
{
    (void) state;
    assert_render(hudson, NULL,
                  "<hudson _class='hudson.model.Hudson'><mode>NORMAL</mode>"
                  "<job _class='hudson.model.FreeStyleProject'><name>a</name><color>blue</color></job>"
                  "<job _class='com.cloudbees.hudson.plugins.folder.Folder'><name>f</name>"
                  "<job _class='hudson.model.FreeStyleProject'><name>b</name><color>red</color></job></job>"
                  "<primaryView _class='hudson.model.AllView'><name>all</name></primaryView>"
                  "<quietingDown>false</quietingDown><empty></empty></hudson>");
}

static void
xmlout_render__escapes_markup_in_text_and_attributes(void **state)
{
    (void) state;
    assert_render("{\"_class\":\"x.Y\",\"d\":\"<a href=\\\"x\\\">&amp; 'q'</a>\","
                  "\"o\":{\"_class\":\"a'b\\\"c<&>\"},\"cr\":\"a\\r\\nb\"}",
                  NULL,
                  "<y _class='x.Y'><d>&lt;a href=\"x\"&gt;&amp;amp; 'q'&lt;/a&gt;</d>"
                  "<o _class='a&apos;b\"c&lt;&amp;&gt;'></o><cr>a&#13;\nb</cr></y>");
}

static void
xmlout_render__drops_characters_illegal_in_xml(void **state)
{
    (void) state;
    assert_render("{\"s\":\"a\\u0001b\\u0000c\\u001fd\\ufffee\\uffff\\tf\\ng \\u00e9\\ud83d\\ude00\"}",
                  "root", "<root><s>abcde\tf\ng \xc3\xa9\xf0\x9f\x98\x80</s></root>");
}

static void
xmlout_render__drops_invalid_utf8(void **state)
{
    struct buf out = BUF_INIT(1024);
    json_t *v = json_object();

    (void) state;
    /* jansson validates UTF-8, except through the _nocheck calls */
    json_object_set_new(v, "s", json_stringn_nocheck("a\xff" "b\xc3" "c\xed\xa0\x80" "d\xc0\xaf", 11));
    assert_int_equal(xmlout_render(v, "root", &out), 0);
    assert_string_equal(buf_str(&out), "<root><s>abcd</s></root>");
    buf_release(&out);
    json_decref(v);
}

static void
xmlout_render__turns_property_names_into_xml_names(void **state)
{
    (void) state;
    assert_render("{\"12\":0,\"1abc\":1,\"/abc\":2,\"a b:c\":3,\"\":4,\"s\":[5],\"ies\":[6],\"-\":7,\"\\u00e9t\\u00e9\":8}",
                  "root",
                  "<root><_12>0</_12><abc>1</abc><abc>2</abc><abc>3</abc><_>4</_><_>5</_><y>6</y>"
                  "<_->7</_-><_t>8</_t></root>");
}

static void
xmlout_render__appends_to_what_the_buffer_holds(void **state)
{
    struct buf out = BUF_INIT(1024);
    json_t *v = load(crumb_issuer);

    (void) state;
    assert_int_equal(buf_puts(&out, "x"), 0);
    assert_int_equal(xmlout_render(v, NULL, &out), 0);
    assert_true(strncmp(buf_str(&out), "x<defaultCrumbIssuer ", 21) == 0);
    buf_release(&out);
    json_decref(v);
}

static void
xmlout_render__leaves_the_buffer_unchanged_when_too_big(void **state)
{
    struct buf out = BUF_INIT(40);
    json_t *v = load(crumb_issuer);

    (void) state;
    assert_int_equal(buf_puts(&out, "kept"), 0);
    assert_int_equal(xmlout_render(v, NULL, &out), -E2BIG);
    assert_string_equal(buf_str(&out), "kept");
    buf_release(&out);
    json_decref(v);
}

static void
xmlout_render__refuses_absurd_nesting(void **state)
{
    struct buf out = BUF_INIT(1 << 20);
    json_t *v = json_object();
    json_t *cur = v;

    (void) state;
    for (int i = 0; i < 200; i++) {
        json_t *next = json_object();

        json_object_set_new(cur, "o", next);
        cur = next;
    }
    assert_int_equal(xmlout_render(v, "root", &out), -E2BIG);
    assert_int_equal(out.len, 0);
    buf_release(&out);
    json_decref(v);
}

/* ---- xpath --------------------------------------------------------------- */

static void
xmlout_xpath__crumb_concat_gives_field_colon_crumb_as_text(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, "concat(//crumbRequestField,\":\",//crumb)", NULL,
                 "Jenkins-Crumb:abc", true);
}

static void
xmlout_xpath__crumb_concat_takes_a_single_quoted_separator(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, "concat(//crumbRequestField,'=',//crumb)", NULL,
                 "Jenkins-Crumb=abc", true);
}

static void
xmlout_xpath__concat_allows_spaces_and_more_arguments(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, " concat ( //crumbRequestField , \": \" , /*/crumb/text(), '!' ) ",
                 NULL, "Jenkins-Crumb: abc!", true);
}

static void
xmlout_xpath__concat_of_a_path_that_matches_nothing_gives_an_empty_part(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, "concat(//nope,\":\",//crumb)", NULL, ":abc", true);
}

static void
xmlout_xpath__concat_uses_the_first_match_and_the_whole_text_below_it(void **state)
{
    (void) state;
    assert_xpath(hudson, "concat(//name,'|',//job,'|',//primaryView)", NULL, "a|ablue|all", true);
}

static void
xmlout_xpath__root_child_text_gives_the_crumb(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, "/*/crumb/text()", NULL, "abc", true);
}

static void
xmlout_xpath__root_child_text_gives_the_crumb_request_field(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, "/*/crumbRequestField/text()", NULL, "Jenkins-Crumb", true);
}

static void
xmlout_xpath__root_step_may_name_the_root(void **state)
{
    _cleanup_free_ char *msg = NULL;

    (void) state;
    assert_xpath(crumb_issuer, "/defaultCrumbIssuer/crumb/text()", NULL, "abc", true);
    msg = xpath_error(crumb_issuer, "/hudson/crumb/text()", NULL, -ENOENT);
    assert_string_equal(msg, "XPath /hudson/crumb/text() didn't match");
}

static void
xmlout_xpath__text_answer_is_not_escaped(void **state)
{
    (void) state;
    assert_xpath("{\"crumb\":\"a&<b>\"}", "/*/crumb/text()", NULL, "a&<b>", true);
    assert_xpath("{\"crumb\":\"a&<b>\"}", "concat(//crumb,'')", NULL, "a&<b>", true);
}

static void
xmlout_xpath__descendant_path_answers_the_first_element_as_xml(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, "//crumb", NULL, "<crumb>abc</crumb>", false);
    assert_xpath(hudson, "//name", NULL, "<name>a</name>", false);
    assert_xpath(hudson, "//job/job/color", NULL, "<color>red</color>", false);
}

static void
xmlout_xpath__descendant_path_can_match_the_root(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, "//defaultCrumbIssuer/crumb/text()", NULL, "abc", true);
}

static void
xmlout_xpath__root_child_path_answers_the_element_as_xml(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, "/*/crumb", NULL, "<crumb>abc</crumb>", false);
    assert_xpath(hudson, "/*/primaryView/name", NULL, "<name>all</name>", false);
}

static void
xmlout_xpath__serializes_elements_as_dom4j_does(void **state)
{
    (void) state;
    assert_xpath(hudson, "/*/job", NULL,
                 "<job _class=\"hudson.model.FreeStyleProject\"><name>a</name><color>blue</color></job>",
                 false);
    assert_xpath(hudson, "/*/empty", NULL, "<empty/>", false);
    assert_xpath("{\"e\":\"\",\"q\":{\"_class\":\"a\\\"b'c\"}}", "//e", NULL, "<e/>", false);
    assert_xpath("{\"q\":{\"_class\":\"a\\\"b'c\"}}", "//q", NULL, "<q _class=\"a&quot;b'c\"/>", false);
}

static void
xmlout_xpath__star_steps_match_any_name(void **state)
{
    (void) state;
    assert_xpath(hudson, "/*/*/name", NULL, "<name>a</name>", false);
    assert_xpath(hudson, "/*/*", NULL, "<mode>NORMAL</mode>", false);
}

static void
xmlout_xpath__wrapper_holds_every_match_in_document_order(void **state)
{
    (void) state;
    assert_xpath(hudson, "//name", "names", "<names><name>a</name><name>f</name><name>b</name><name>all</name></names>",
                 false);
    assert_xpath(hudson, "//job/color/text()", "colors", "<colors>bluered</colors>", false);
}

static void
xmlout_xpath__wrapper_without_matches_is_an_empty_element(void **state)
{
    (void) state;
    assert_xpath(hudson, "//nope", "w", "<w/>", false);
}

static void
xmlout_xpath__wrapper_makes_a_text_answer_xml(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, "concat(//crumbRequestField,\":\",//crumb)", "crumb",
                 "<crumb>Jenkins-Crumb:abc</crumb>", false);
    assert_xpath("{\"c\":\"a&b\"}", "/*/c/text()", "w", "<w>a&amp;b</w>", false);
}

static void
xmlout_xpath__rejects_an_invalid_wrapper(void **state)
{
    const char *bad[] = { "", "1x", "a b", "<x>", "a:b", "-a" };

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        _cleanup_free_ char *msg = xpath_error(crumb_issuer, "//crumb", bad[i], -EINVAL);

        assert_non_null(strstr(msg, "wrapper"));
    }
    assert_xpath(crumb_issuer, "//crumb", "_a.b-c9", "<_a.b-c9><crumb>abc</crumb></_a.b-c9>", false);
}

static void
xmlout_xpath__no_match_is_enoent_with_jenkins_message(void **state)
{
    _cleanup_free_ char *msg = NULL;

    (void) state;
    msg = xpath_error(crumb_issuer, "//nope", NULL, -ENOENT);
    assert_string_equal(msg, "XPath //nope didn't match");
}

static void
xmlout_xpath__elements_without_text_do_not_match_text(void **state)
{
    _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

    (void) state;
    a = xpath_error(hudson, "/*/primaryView/text()", NULL, -ENOENT);
    b = xpath_error("{\"e\":\"\"}", "/*/e/text()", NULL, -ENOENT);
    c = xpath_error(hudson, "/*/description", NULL, -ENOENT);
}

static void
xmlout_xpath__rejects_unsupported_forms(void **state)
{
    const char *bad[] = {
        "",
        "crumb",
        "count(//a)",
        "string(//crumb)",
        "//a[1]",
        "//@_class",
        "/a//b",
        "//",
        "/",
        "/text()",
        "//a/text()/b",
        "//a/",
        "/*/crumb/text() junk",
        "concat(//a)",
        "concat(//a,'x'",
        "concat(//a,\"x)",
        "concat(//a 'x')",
        "concat(a,b)",
        "concat()",
        "concat",
        "concat(//a,'1','2','3','4','5','6','7','8')",
        "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q",
        "//a|//b",
        "//1a",
    };

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        assert_unsupported(bad[i]);
}

static void
xmlout_xpath__reports_where_the_xpath_went_wrong(void **state)
{
    _cleanup_free_ char *msg = xpath_error(crumb_issuer, "//a[1]", NULL, -EINVAL);

    (void) state;
    assert_true(strncmp(msg, "Unsupported XPath expression at offset 3: unexpected text", 57) == 0);
}

static void
xmlout_xpath__accepts_the_most_steps_and_arguments(void **state)
{
    (void) state;
    assert_xpath(crumb_issuer, "concat(//a,'1','2','3','4','5','6','7')", NULL, "1234567", true);
    assert_xpath(crumb_issuer, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", "w", "<w/>", false);
}

static void
xmlout_xpath__fails_without_a_root_name(void **state)
{
    struct buf out = BUF_INIT(1024);
    json_t *v = load("{\"n\":1}");
    char *msg = NULL;
    bool is_text;

    (void) state;
    assert_int_equal(xmlout_xpath(v, NULL, "//n", NULL, &out, &is_text, &msg), -EINVAL);
    assert_non_null(msg);
    free(msg);
    json_decref(v);
}

static void
xmlout_xpath__leaves_the_buffer_unchanged_when_too_big(void **state)
{
    struct buf out = BUF_INIT(12);
    json_t *v = load(hudson);
    char *msg = NULL;
    bool is_text = true;

    (void) state;
    assert_int_equal(buf_puts(&out, "kept"), 0);
    assert_int_equal(xmlout_xpath(v, NULL, "/*/job", NULL, &out, &is_text, &msg), -E2BIG);
    assert_string_equal(buf_str(&out), "kept");
    assert_true(is_text);
    assert_null(msg);
    json_decref(v);
    buf_release(&out);
}

static void
xmlout_xpath__takes_no_message_pointer(void **state)
{
    struct buf out = BUF_INIT(1024);
    json_t *v = load(crumb_issuer);
    bool is_text;

    (void) state;
    assert_int_equal(xmlout_xpath(v, NULL, "//nope", NULL, &out, &is_text, NULL), -ENOENT);
    assert_int_equal(xmlout_xpath(v, NULL, "nope", NULL, &out, &is_text, NULL), -EINVAL);
    assert_int_equal(xmlout_xpath(v, NULL, "//crumb", "1", &out, &is_text, NULL), -EINVAL);
    assert_int_equal(out.len, 0);
    buf_release(&out);
    json_decref(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xmlout_render__writes_the_crumb_issuer_as_jenkins_does),
        cmocka_unit_test(xmlout_render__names_the_root_after_the_decapitalized_simple_class_name),
        cmocka_unit_test(xmlout_render__names_the_root_after_an_inner_class),
        cmocka_unit_test(xmlout_render__keeps_a_leading_acronym_capitalized),
        cmocka_unit_test(xmlout_render__uses_the_callers_root_name_without_class),
        cmocka_unit_test(xmlout_render__fails_without_class_or_root_name),
        cmocka_unit_test(xmlout_render__refuses_values_that_are_not_objects),
        cmocka_unit_test(xmlout_render__repeats_array_elements_under_singular_names),
        cmocka_unit_test(xmlout_render__writes_nothing_for_an_empty_array),
        cmocka_unit_test(xmlout_render__flattens_nested_arrays),
        cmocka_unit_test(xmlout_render__omits_null_properties_and_null_elements),
        cmocka_unit_test(xmlout_render__writes_booleans_and_numbers_as_text),
        cmocka_unit_test(xmlout_render__puts_class_of_nested_objects_in_an_attribute),
        cmocka_unit_test(xmlout_render__escapes_markup_in_text_and_attributes),
        cmocka_unit_test(xmlout_render__drops_characters_illegal_in_xml),
        cmocka_unit_test(xmlout_render__drops_invalid_utf8),
        cmocka_unit_test(xmlout_render__turns_property_names_into_xml_names),
        cmocka_unit_test(xmlout_render__appends_to_what_the_buffer_holds),
        cmocka_unit_test(xmlout_render__leaves_the_buffer_unchanged_when_too_big),
        cmocka_unit_test(xmlout_render__refuses_absurd_nesting),
        cmocka_unit_test(xmlout_xpath__crumb_concat_gives_field_colon_crumb_as_text),
        cmocka_unit_test(xmlout_xpath__crumb_concat_takes_a_single_quoted_separator),
        cmocka_unit_test(xmlout_xpath__concat_allows_spaces_and_more_arguments),
        cmocka_unit_test(xmlout_xpath__concat_of_a_path_that_matches_nothing_gives_an_empty_part),
        cmocka_unit_test(xmlout_xpath__concat_uses_the_first_match_and_the_whole_text_below_it),
        cmocka_unit_test(xmlout_xpath__root_child_text_gives_the_crumb),
        cmocka_unit_test(xmlout_xpath__root_child_text_gives_the_crumb_request_field),
        cmocka_unit_test(xmlout_xpath__root_step_may_name_the_root),
        cmocka_unit_test(xmlout_xpath__text_answer_is_not_escaped),
        cmocka_unit_test(xmlout_xpath__descendant_path_answers_the_first_element_as_xml),
        cmocka_unit_test(xmlout_xpath__descendant_path_can_match_the_root),
        cmocka_unit_test(xmlout_xpath__root_child_path_answers_the_element_as_xml),
        cmocka_unit_test(xmlout_xpath__serializes_elements_as_dom4j_does),
        cmocka_unit_test(xmlout_xpath__star_steps_match_any_name),
        cmocka_unit_test(xmlout_xpath__wrapper_holds_every_match_in_document_order),
        cmocka_unit_test(xmlout_xpath__wrapper_without_matches_is_an_empty_element),
        cmocka_unit_test(xmlout_xpath__wrapper_makes_a_text_answer_xml),
        cmocka_unit_test(xmlout_xpath__rejects_an_invalid_wrapper),
        cmocka_unit_test(xmlout_xpath__no_match_is_enoent_with_jenkins_message),
        cmocka_unit_test(xmlout_xpath__elements_without_text_do_not_match_text),
        cmocka_unit_test(xmlout_xpath__rejects_unsupported_forms),
        cmocka_unit_test(xmlout_xpath__reports_where_the_xpath_went_wrong),
        cmocka_unit_test(xmlout_xpath__accepts_the_most_steps_and_arguments),
        cmocka_unit_test(xmlout_xpath__fails_without_a_root_name),
        cmocka_unit_test(xmlout_xpath__leaves_the_buffer_unchanged_when_too_big),
        cmocka_unit_test(xmlout_xpath__takes_no_message_pointer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
