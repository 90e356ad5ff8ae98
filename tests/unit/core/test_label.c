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

#include "core/label.h"
#include "util/bounds.h"

#define LABELS(...) (const char *const[]){ __VA_ARGS__ }, \
    sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *)

/* Parses s (which must parse) and matches it against labels. */
static bool match(const char *s, const char *const *labels, size_t n)
{
    struct label_expr *e = NULL;
    char *why = NULL;
    bool m;

    if (label_parse(s, &e, &why) < 0)
        fail_msg("%s: %s", s, why);
    m = label_matches(e, labels, n);
    label_free(e);
    return m;
}

/* Parses s, which must fail; returns the reason. */
static char *bad(const char *s)
{
    struct label_expr *e = NULL;
    char *why = NULL;
    int r = label_parse(s, &e, &why);

    if (r != -EINVAL && r != -E2BIG)
        fail_msg("%s parsed (%d)", s, r);
    assert_null(e);
    assert_non_null(why);
    assert_true(strncmp(why, "Invalid boolean expression: ", 28) == 0);
    return why;
}

static char *canon(const char *s)
{
    struct label_expr *e = NULL;
    char *t;

    assert_int_equal(label_parse(s, &e, NULL), 0);
    t = label_format(e);
    label_free(e);
    return t;
}

static void label__atom_matches_a_label_exactly(void **state)
{
    (void) state;
    assert_true(match("linux", LABELS("a1", "linux")));
    assert_false(match("linux", LABELS("a1", "Linux")));
    assert_false(match("lin", LABELS("linux")));
    assert_true(match("  linux\t", LABELS("linux")));
}

static void label__blank_matches_everything(void **state)
{
    struct label_expr *e = (void *) 1;

    (void) state;
    assert_int_equal(label_parse("  ", &e, NULL), 0);
    assert_null(e);
    assert_true(label_matches(NULL, NULL, 0));
    assert_int_equal(label_parse("", &e, NULL), 0);
    assert_null(e);
}

static void label__operators(void **state)
{
    (void) state;
    assert_true(match("a && b", LABELS("a", "b")));
    assert_false(match("a && b", LABELS("a")));
    assert_true(match("a || b", LABELS("b")));
    assert_false(match("a || b", LABELS("c")));
    assert_true(match("!a", LABELS("b")));
    assert_false(match("!a", LABELS("a")));
    assert_true(match("a -> b", LABELS("c")));
    assert_false(match("a -> b", LABELS("a")));
    assert_true(match("a -> b", LABELS("a", "b")));
    assert_true(match("a <-> b", LABELS("c")));
    assert_true(match("a <-> b", LABELS("a", "b")));
    assert_false(match("a <-> b", LABELS("a")));
    /* no spaces needed */
    assert_true(match("a&&b", LABELS("a", "b")));
    assert_true(match("a->b", LABELS("x")));
    assert_true(match("a<->b", LABELS("x")));
    assert_true(match("!a&&!b", LABELS("x")));
}

static void label__precedence_and_binds_tighter_than_or(void **state)
{
    (void) state;
    /* a || (b && c) */
    assert_true(match("a || b && c", LABELS("a")));
    assert_false(match("(a || b) && c", LABELS("a")));
    /* !a && b is (!a) && b */
    assert_false(match("!a && b", LABELS("x")));
    assert_true(match("!(a && b)", LABELS("x")));
    /* -> is looser than ||: (a || b) -> c */
    assert_false(match("a || b -> c", LABELS("b")));
    /* <-> is the loosest: (a -> b) <-> c */
    assert_true(match("a -> b <-> c", LABELS("c")));
    assert_false(match("a -> b <-> c", LABELS("x")));
    /* iff chains left to right: (a <-> b) <-> c */
    assert_true(match("a <-> b <-> c", LABELS("c")));
    assert_false(match("a <-> b <-> c", LABELS("x")));
}

static void label__canonical_form_shows_the_tree(void **state)
{
    char *t;

    (void) state;
    t = canon("a||b&&c");
    assert_string_equal(t, "a || b && c");
    free(t);
    t = canon("( a )");
    assert_string_equal(t, "(a)");
    free(t);
    t = canon("\"my label\" && !x");
    assert_string_equal(t, "\"my label\" && !x");
    free(t);
    t = label_format(NULL);
    assert_string_equal(t, "");
    free(t);
}

static void label__dashes_and_odd_characters_in_atoms(void **state)
{
    (void) state;
    assert_true(match("x86-64", LABELS("x86-64")));
    assert_true(match("a-b->c", LABELS("c")));
    assert_false(match("a-b->c", LABELS("a-b")));
    assert_true(match("ubuntu:22.04 && java=17", LABELS("ubuntu:22.04", "java=17")));
    assert_true(match("a-", LABELS("a-")));
    assert_true(match("caf\xc3\xa9", LABELS("caf\xc3\xa9")));
}

static void label__quoted_atoms(void **state)
{
    (void) state;
    assert_true(match("\"my label\"", LABELS("my label")));
    assert_true(match("\"a&&b\"", LABELS("a&&b")));
    assert_false(match("\"a&&b\"", LABELS("a", "b")));
    assert_true(match("\"q\\\"uote\"", LABELS("q\"uote")));
    assert_true(match("\"back\\\\slash\"", LABELS("back\\slash")));
    assert_true(match("\"\"", LABELS("")));
}

static void label__single_atom_is_recognised(void **state)
{
    struct label_expr *e = NULL;

    (void) state;
    assert_int_equal(label_parse("linux", &e, NULL), 0);
    assert_true(label_is_atom(e));
    assert_string_equal(label_atom(e), "linux");
    label_free(e);
    assert_int_equal(label_parse("((\"my node\"))", &e, NULL), 0);
    assert_string_equal(label_atom(e), "my node");
    label_free(e);
    assert_int_equal(label_parse("!linux", &e, NULL), 0);
    assert_false(label_is_atom(e));
    assert_null(label_atom(e));
    label_free(e);
    assert_int_equal(label_parse("a || b", &e, NULL), 0);
    assert_false(label_is_atom(e));
    label_free(e);
    assert_false(label_is_atom(NULL));
}

static void label__syntax_errors_say_where(void **state)
{
    static const char *const cases[] = {
        "a &&", "&& a", "a & b", "a | b", "(a", "a)", "()", "!!a", "a -> b -> c",
        "\"open", "a b", "'a'", "a > b", "a < b", "!", "a <- b", "\"bad\\x\"", "a ||| b",
    };
    char *why;

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        why = bad(cases[i]);
        free(why);
    }
    why = bad("a && )");
    assert_non_null(strstr(why, "position 6"));
    assert_non_null(strstr(why, "\"a && )\""));
    free(why);
}

static void label__depth_and_length_are_bounded(void **state)
{
    char s[BOUND_LABEL_EXPR_BYTES + 2];
    struct label_expr *e = NULL;
    char *why;
    size_t n = 0;

    (void) state;
    /* 32 levels pass, 33 do not */
    for (int i = 0; i < BOUND_LABEL_EXPR_DEPTH; i++)
        s[n++] = '(';
    s[n++] = 'a';
    for (int i = 0; i < BOUND_LABEL_EXPR_DEPTH; i++)
        s[n++] = ')';
    s[n] = '\0';
    assert_true(match(s, LABELS("a")));
    memmove(s + 1, s, n + 1);
    s[0] = '(';
    strcat(s, ")");
    why = bad(s);
    assert_non_null(strstr(why, "nested"));
    free(why);
    /* a long chain is fine and does not recurse on free */
    n = 0;
    while (n + 5 < BOUND_LABEL_EXPR_BYTES) {
        memcpy(s + n, "a || ", 5);
        n += 5;
    }
    s[n++] = 'b';
    s[n] = '\0';
    assert_true(match(s, LABELS("b")));
    /* past the length bound */
    memset(s, 'a', BOUND_LABEL_EXPR_BYTES + 1);
    s[BOUND_LABEL_EXPR_BYTES + 1] = '\0';
    assert_int_equal(label_parse(s, &e, &why), -E2BIG);
    free(why);
}

static void label__valid_node_labels(void **state)
{
    (void) state;
    assert_true(label_is_valid_atom("linux"));
    assert_true(label_is_valid_atom("a&&b"));
    assert_false(label_is_valid_atom(""));
    assert_false(label_is_valid_atom("a b"));
    assert_false(label_is_valid_atom("a\tb"));
    assert_false(label_is_valid_atom("\xff"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label__atom_matches_a_label_exactly),
        cmocka_unit_test(label__blank_matches_everything),
        cmocka_unit_test(label__operators),
        cmocka_unit_test(label__precedence_and_binds_tighter_than_or),
        cmocka_unit_test(label__canonical_form_shows_the_tree),
        cmocka_unit_test(label__dashes_and_odd_characters_in_atoms),
        cmocka_unit_test(label__quoted_atoms),
        cmocka_unit_test(label__single_atom_is_recognised),
        cmocka_unit_test(label__syntax_errors_say_where),
        cmocka_unit_test(label__depth_and_length_are_bounded),
        cmocka_unit_test(label__valid_node_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
