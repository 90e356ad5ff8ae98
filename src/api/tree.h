/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Jenkins' `tree=` selector for api/json (Stapler's NamedPathPruner):
 *
 *   tree   := spec (',' spec)*
 *   spec   := name ('[' tree ']')? range?
 *   range  := '{' N '}' | '{' M ',' N '}' | '{' ',' N '}' | '{' N ',' '}'
 *
 * A name selects that property; a sub-tree selects inside an object, or
 * inside every element of an array; a range keeps elements [M, N) of an
 * array ({N} keeps only element N). Unknown names are ignored. "_class" is
 * always kept. A selected object with no selected fields comes out as just
 * {"_class": ...} (or {} when it has no _class).
 */

#include <stdbool.h>

#include <jansson.h>

struct tree;

/*
 * Returns 0 and sets *ret_tree, -EINVAL for a malformed expression (then
 * *reterr_msg, when not NULL, gets a message to be freed), -E2BIG past
 * BOUND_TREE_BYTES or too deep a nesting, -ENOMEM.
 */
int tree_parse(const char *expr, struct tree **ret_tree, char **reterr_msg);

/* Returns a new reference to a filtered copy of `v` (v itself is not changed). */
json_t *tree_apply(const struct tree *t, json_t *v);

/*
 * Whether the tree selects, inside the top-level `field`, only some of
 * `names` (NULL-terminated) and nothing below them; true when it does not
 * select `field` at all. A model can then build a cheaper object.
 */
bool tree_selects_only(const struct tree *t, const char *field, const char *const *names);

/*
 * For a model that writes `field` (an array of objects with the properties
 * `names`, "_class" first) itself: 1 when the tree selects field and
 * nothing inside it but some of names, with the bit (1 << k) of *ret_mask
 * set for each names[k] kept ("_class" always) and the range of elements
 * [*ret_from, *ret_to); 0 when it does not select field; -1 when it selects
 * more than names (build the objects and tree_apply() them). t may be NULL
 * (no tree=: everything).
 */
int tree_select_fields(const struct tree *t, const char *field, const char *const *names,
                       unsigned *ret_mask, size_t *ret_from, size_t *ret_to);

/*
 * For a model that makes the elements of the top-level array `field`
 * one at a time: whether the tree selects `field` (then *ret_from and
 * *ret_to get its range); whether it selects `name` inside each element
 * (a "*" selects every name); and an element, or one value inside one, as
 * the tree keeps it (a new reference; the range of `field` is the
 * caller's business).
 */
bool tree_field_range(const struct tree *t, const char *field, size_t *ret_from, size_t *ret_to);
/* 0: not selected; 1: selected as a leaf; 2: selected with a sub-tree. */
int tree_field_selects(const struct tree *t, const char *field, const char *name);
json_t *tree_apply_element(const struct tree *t, const char *field, json_t *element);
/* `v`, the value of `name` in an element of `field`, as the tree keeps it (a new reference). */
json_t *tree_apply_inside(const struct tree *t, const char *field, const char *name, json_t *v);

/*
 * For a model that writes a whole answer itself, walking the tree as
 * tree_apply() would: the top level, the node of a name selected inside
 * a node (the "*" one when it is not named; NULL when not selected), and
 * a node's range of elements [*ret_from, *ret_to).
 */
struct tree_node;
const struct tree_node *tree_top(const struct tree *t);
const struct tree_node *tree_node_child(const struct tree_node *n, const char *name);
void tree_node_range(const struct tree_node *n, size_t *ret_from, size_t *ret_to);

struct tree *tree_free(struct tree *t);
static inline void tree_freep(struct tree **p) { tree_free(*p); }
