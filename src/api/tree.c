/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/tree.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/macro.h"

/* python-jenkins nests ten levels of `jobs[...]`; leave room, stop the silly. */
#define TREE_MAX_DEPTH 16

/* Stapler reads range bounds as Java ints. */
#define TREE_MAX_NUMBER INT_MAX

struct tree_node {
    char *name;                 /* NULL for the root */
    struct tree_node *children; /* the names selected inside this one */
    size_t n_children;
    size_t n_allocated;
    size_t range_min; /* elements [range_min, range_max) of an array */
    size_t range_max;
};

struct tree {
    struct tree_node root;
};

struct parser {
    const char *s;
    size_t pos;
    char *msg; /* the first complaint */
};

static void
node_release(struct tree_node *n)
{
    for (size_t i = 0; i < n->n_children; i++)
        node_release(&n->children[i]);
    free(n->children);
    free(n->name);
    *n = (struct tree_node){ .range_max = SIZE_MAX };
}

struct tree *
tree_free(struct tree *t)
{
    if (!t)
        return NULL;
    node_release(&t->root);
    free(t);
    return NULL;
}

/* Returns -EINVAL, or -ENOMEM when even the message could not be made. */
static int _printf_(2, 3)
parser_fail(struct parser *p, const char *fmt, ...)
{
    struct buf b = BUF_INIT(256);
    va_list ap;
    int r;

    if (p->msg)
        return -EINVAL;
    r = buf_printf(&b, "Malformed tree expression at offset %zu: ", p->pos);
    if (r >= 0) {
        va_start(ap, fmt);
        r = buf_vprintf(&b, fmt, ap);
        va_end(ap);
    }
    if (r == -ENOMEM) {
        buf_release(&b);
        return -ENOMEM;
    }
    /* -E2BIG only means a long message; what fitted is kept */
    p->msg = buf_detach(&b);
    return p->msg ? -EINVAL : -ENOMEM;
}

/*
 * Field names are Java identifiers (plus "_class"); anything else, spaces
 * included, is malformed rather than silently taken as part of a name.
 */
static bool
is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '.' ||
           c == '-';
}

static bool
is_delimiter(char c)
{
    return c == '\0' || c == ',' || c == '[' || c == ']' || c == '{' ||
           c == '}';
}

/* Complains about the character at p->pos, which cannot go where it is. */
static int
parser_fail_char(struct parser *p, const char *expected)
{
    unsigned char c = (unsigned char) p->s[p->pos];

    if (c == '\0')
        return parser_fail(p, "expected %s, found the end", expected);
    if (c < 0x20 || c >= 0x7f)
        return parser_fail(p, "expected %s, found byte 0x%02x", expected, c);
    return parser_fail(p, "expected %s, found '%c'", expected, c);
}

static int
parse_number(struct parser *p, size_t *ret)
{
    size_t start = p->pos;
    size_t v = 0;

    if (p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return parser_fail_char(p, "a number");
    while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        v = v * 10 + (size_t) (p->s[p->pos] - '0');
        if (v > TREE_MAX_NUMBER) {
            p->pos = start;
            return parser_fail(p, "number too large");
        }
        p->pos++;
    }
    *ret = v;
    return 0;
}

static int
parser_expect(struct parser *p, char c, const char *expected)
{
    if (p->s[p->pos] != c)
        return parser_fail_char(p, expected);
    p->pos++;
    return 0;
}

/* range := '{' N '}' | '{' M ',' N '}' | '{' ',' N '}' | '{' N ',' '}' */
static int
parse_range(struct parser *p, struct tree_node *n)
{
    size_t min, max;
    int r;

    assert(p->s[p->pos] == '{');
    p->pos++;

    if (p->s[p->pos] == ',') {
        p->pos++;
        r = parse_number(p, &max);
        if (r < 0)
            return r;
        min = 0;
    } else {
        r = parse_number(p, &min);
        if (r < 0)
            return r;
        if (p->s[p->pos] == '}') {
            max = min + 1;
        } else {
            r = parser_expect(p, ',', "',' or '}'");
            if (r < 0)
                return r;
            if (p->s[p->pos] == '}') {
                max = SIZE_MAX;
            } else {
                r = parse_number(p, &max);
                if (r < 0)
                    return r;
            }
        }
    }
    r = parser_expect(p, '}', "'}'");
    if (r < 0)
        return r;

    /* {5,2} is accepted and keeps nothing, as in Stapler's Range */
    n->range_min = min;
    n->range_max = max;
    return 0;
}

/*
 * Finds the child named `name`, or makes one. A name given twice at one
 * level keeps its last definition: Stapler puts them in a map.
 */
static int
node_child(struct tree_node *n, const char *name, size_t len,
           struct tree_node **ret)
{
    struct tree_node *c;

    for (size_t i = 0; i < n->n_children; i++) {
        c = &n->children[i];
        if (strlen(c->name) == len && memcmp(c->name, name, len) == 0) {
            char *keep = TAKE_PTR(c->name);

            node_release(c);
            c->name = keep;
            *ret = c;
            return 0;
        }
    }

    if (n->n_children == n->n_allocated) {
        size_t m = n->n_allocated ? n->n_allocated * 2 : 4;

        c = reallocarray(n->children, m, sizeof(*c));
        if (!c)
            return -ENOMEM;
        n->children = c;
        n->n_allocated = m;
    }
    c = &n->children[n->n_children];
    *c = (struct tree_node){ .range_max = SIZE_MAX };
    c->name = strndup(name, len);
    if (!c->name)
        return -ENOMEM;
    n->n_children++;
    *ret = c;
    return 0;
}

static int parse_list(struct parser *p, struct tree_node *n, unsigned depth);

/* spec := name ('[' tree ']')? range? */
static int
parse_spec(struct parser *p, struct tree_node *parent, unsigned depth)
{
    size_t start = p->pos;
    struct tree_node *n;
    int r;

    /* "*" is Stapler's wildcard: any property not named at this level */
    if (p->s[p->pos] == '*') {
        p->pos++;
    } else {
        while (is_name_char(p->s[p->pos]))
            p->pos++;
    }
    if (p->pos == start)
        return parser_fail_char(p, "a name");
    if (!is_delimiter(p->s[p->pos]))
        return parser_fail_char(p, "',', '[', '{', ']' or the end");

    r = node_child(parent, p->s + start, p->pos - start, &n);
    if (r < 0)
        return r;

    if (p->s[p->pos] == '[') {
        if (depth + 1 > TREE_MAX_DEPTH)
            return -E2BIG;
        p->pos++;
        r = parse_list(p, n, depth + 1);
        if (r < 0)
            return r;
        r = parser_expect(p, ']', "',' or ']'");
        if (r < 0)
            return r;
    }

    if (p->s[p->pos] == '{') {
        r = parse_range(p, n);
        if (r < 0)
            return r;
    }
    return 0;
}

/* tree := spec (',' spec)* */
static int
parse_list(struct parser *p, struct tree_node *n, unsigned depth)
{
    int r;

    for (;;) {
        r = parse_spec(p, n, depth);
        if (r < 0)
            return r;
        if (p->s[p->pos] != ',')
            return 0;
        p->pos++;
    }
}

int
tree_parse(const char *expr, struct tree **ret_tree, char **reterr_msg)
{
    _cleanup_(tree_freep) struct tree *t = NULL;
    struct parser p = { .s = expr };
    int r;

    assert(expr);
    assert(ret_tree);

    if (strnlen(expr, BOUND_TREE_BYTES + 1) > BOUND_TREE_BYTES)
        return -E2BIG;

    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->root.range_max = SIZE_MAX;

    r = parse_list(&p, &t->root, 0);
    if (r >= 0 && p.s[p.pos] != '\0')
        r = parser_fail_char(&p, "',' or the end");
    if (r < 0) {
        if (r == -EINVAL && reterr_msg)
            *reterr_msg = TAKE_PTR(p.msg);
        free(p.msg);
        return r;
    }

    *ret_tree = TAKE_PTR(t);
    return 0;
}

static const struct tree_node *
node_lookup(const struct tree_node *n, const char *name)
{
    const struct tree_node *star = NULL;

    for (size_t i = 0; i < n->n_children; i++) {
        if (streq(n->children[i].name, name))
            return &n->children[i];
        if (streq(n->children[i].name, "*"))
            star = &n->children[i];
    }
    return star;
}

int
tree_select_fields(const struct tree *t, const char *field, const char *const *names,
                   unsigned *ret_mask, size_t *ret_from, size_t *ret_to)
{
    const struct tree_node *f = t ? node_lookup(&t->root, field) : NULL;
    unsigned mask = 0;

    if (!t) {
        for (size_t k = 0; names[k]; k++)
            mask |= 1u << k;
        *ret_mask = mask;
        *ret_from = 0;
        *ret_to = SIZE_MAX;
        return 1;
    }
    if (!f)
        return 0;
    for (size_t i = 0; i < f->n_children; i++) {
        const struct tree_node *c = &f->children[i];
        size_t k = 0;

        while (names[k] && !streq(c->name, names[k]))
            k++;
        if (!names[k] || c->n_children > 0)
            return -1;
        mask |= 1u << k;
    }
    *ret_mask = mask | 1u; /* "_class" is always kept */
    *ret_from = f->range_min;
    *ret_to = f->range_max;
    return 1;
}

bool
tree_selects_only(const struct tree *t, const char *field, const char *const *names)
{
    unsigned mask;
    size_t from, to;

    return tree_select_fields(t, field, names, &mask, &from, &to) >= 0;
}

static json_t *apply_value(const struct tree_node *n, json_t *v);

/*
 * Keeps "_class" and the selected properties, in the object's own order.
 * With no names selected (a leaf of the tree) that leaves {"_class": ...}:
 * python-jenkins asks for `jobs` that way to learn which ones are folders.
 */
static json_t *
apply_object(const struct tree_node *n, json_t *obj)
{
    json_t *out = json_object();
    const char *key;
    json_t *val;

    if (!out)
        return NULL;
    json_object_foreach (obj, key, val) {
        const struct tree_node *child = NULL;
        json_t *kept;

        if (!streq(key, "_class")) {
            child = node_lookup(n, key);
            if (!child)
                continue;
        }
        kept = child ? apply_value(child, val) : json_copy(val);
        if (!kept || json_object_set_new(out, key, kept) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* The range applies to arrays (nested arrays too, as in Stapler); objects ignore it. */
static json_t *
apply_array(const struct tree_node *n, json_t *arr)
{
    size_t len = json_array_size(arr);
    size_t end = MIN(len, n->range_max);
    json_t *out = json_array();

    if (!out)
        return NULL;
    for (size_t i = n->range_min; i < end; i++) {
        json_t *kept = apply_value(n, json_array_get(arr, i));

        if (!kept || json_array_append_new(out, kept) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *
apply_value(const struct tree_node *n, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return apply_object(n, v);
    case JSON_ARRAY:
        return apply_array(n, v);
    default:
        /* strings, numbers, booleans and null are kept as they are */
        return json_copy(v);
    }
}

json_t *
tree_apply(const struct tree *t, json_t *v)
{
    assert(t);
    assert(v);
    return apply_value(&t->root, v);
}

bool
tree_field_range(const struct tree *t, const char *field, size_t *ret_from, size_t *ret_to)
{
    const struct tree_node *f = node_lookup(&t->root, field);

    if (!f)
        return false;
    *ret_from = f->range_min;
    *ret_to = f->range_max;
    return true;
}

int
tree_field_selects(const struct tree *t, const char *field, const char *name)
{
    const struct tree_node *f = node_lookup(&t->root, field);
    const struct tree_node *n = f ? node_lookup(f, name) : NULL;

    return !n ? 0 : n->n_children ? 2 : 1;
}

json_t *
tree_apply_inside(const struct tree *t, const char *field, const char *name, json_t *v)
{
    const struct tree_node *f = node_lookup(&t->root, field);
    const struct tree_node *n = f ? node_lookup(f, name) : NULL;

    return n ? apply_value(n, v) : json_copy(v);
}

json_t *
tree_apply_element(const struct tree *t, const char *field, json_t *element)
{
    const struct tree_node *f = node_lookup(&t->root, field);

    return f ? apply_value(f, element) : json_copy(element);
}

const struct tree_node *
tree_top(const struct tree *t)
{
    return &t->root;
}

const struct tree_node *
tree_node_child(const struct tree_node *n, const char *name)
{
    return node_lookup(n, name);
}

void
tree_node_range(const struct tree_node *n, size_t *ret_from, size_t *ret_to)
{
    *ret_from = n->range_min;
    *ret_to = n->range_max;
}
