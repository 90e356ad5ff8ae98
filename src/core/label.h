/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Jenkins' label expressions, as a job's <assignedNode> holds them
 * ("linux && !arm", "(docker || podman) -> amd64", "\"my label\"").
 *
 * The grammar is core's LabelExpressionParser.g4. From the loosest to the
 * tightest binding:
 *
 *   a <-> b      iff; chains left to right (a <-> b <-> c)
 *   a -> b       implies; at most one per level (a -> b -> c is an error)
 *   a || b       or
 *   a && b       and
 *   !a           not; applies to an atom or a parenthesised expression
 *                only, so "!!a" is an error, as in Jenkins
 *   ( a )  atom  "quoted atom"
 *
 * An atom is a run of characters other than white space and
 * & | ! < > ( ) " ' ; a '-' belongs to an atom unless a '>' follows it
 * (so "a->b" is an implication and "x86-64" an atom). A quoted atom may
 * hold anything but a line break, with the escapes \b \t \n \f \r \" \'
 * and \\. Spaces and tabs between tokens are skipped (Steward also skips
 * line breaks there).
 *
 * An empty or blank expression is no restriction at all: label_parse()
 * gives NULL, and label_matches(NULL, ...) is true, as Jenkins runs a job
 * without <assignedNode> anywhere.
 *
 * Bounds: BOUND_LABEL_EXPR_BYTES of text and BOUND_LABEL_EXPR_DEPTH of
 * nesting (parentheses and operators), so a hostile expression costs
 * bounded stack and memory. The tree is immutable once parsed: threads may
 * share it.
 */

#include <stdbool.h>
#include <stddef.h>

struct label_expr;

/*
 * Parses `s`. Returns 0 and sets *ret (NULL for a blank expression; free
 * it with label_free()), or -EINVAL with *reterr_why set to a newly
 * allocated sentence that starts, as Jenkins' does, with "Invalid boolean
 * expression: " (the caller frees it; reterr_why may be NULL), -E2BIG past
 * the length bound (also with a sentence), -ENOMEM.
 */
int label_parse(const char *s, struct label_expr **ret, char **reterr_why);

/* Frees an expression; NULL is fine. Returns NULL. */
struct label_expr *label_free(struct label_expr *e);
static inline void label_freep(struct label_expr **e) { label_free(*e); }

/*
 * Does a node that carries `labels` (n of them; a node's own name counts
 * as one of its labels) satisfy `e`? NULL matches every node.
 */
bool label_matches(const struct label_expr *e, const char *const *labels, size_t n);

/*
 * True when `e` is a single atom ("linux", "\"my label\"", or one in
 * parentheses): the engine then names it in its "Waiting for next
 * available executor on ‘X’" text. label_atom() gives that atom (lent by
 * `e`), or NULL when `e` is not one.
 */
bool label_is_atom(const struct label_expr *e);
const char *label_atom(const struct label_expr *e);

/*
 * Appends the expression in its canonical form to a newly allocated
 * string: atoms quoted only where needed, operators with one space each
 * side, parentheses where the source had them. NULL on ENOMEM; "" for NULL.
 */
char *label_format(const struct label_expr *e);

/*
 * True when `s` is a label a node may carry: 1 to BOUND_NODE_LABEL_BYTES
 * bytes of valid UTF-8 without white space or control characters (one
 * with & | ! < > ( ) " ' needs quotes in an expression).
 */
bool label_is_valid_atom(const char *s);
