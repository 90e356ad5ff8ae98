/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/xmlout.h"
#include "util/macro.h"

/* Nesting of objects and arrays in the value; ours are a handful deep. */
#define XMLOUT_MAX_DEPTH 64

/* Steps in one xpath path, and arguments of concat(). */
#define XPATH_MAX_STEPS 16
#define XPATH_MAX_ARGS 8

#define XPATH_FORMS                                                            \
    "supported forms are /*/name, /*/name/text(), //name, //name/text() "     \
    "(more steps allowed) and concat() of such paths and quoted strings"

/*
 * Two writers produce Jenkins' XML. The whole document comes from Stapler's
 * XMLDataWriter (single quotes, no empty-element tags); an xpath answer is
 * re-serialized by dom4j's XMLWriter (double quotes, <x/>). We copy both.
 */
struct style {
    char quote;
    bool self_close;
};

static const struct style stapler_style = { '\'', false };
static const struct style dom4j_style = { '"', true };

enum escape {
    ESCAPE_NONE, /* bare text: only drop what XML cannot carry */
    ESCAPE_TEXT,
    ESCAPE_ATTR,
};

/* Returns a new string, or NULL when out of memory. */
static char *_printf_(1, 2)
str_printf(const char *fmt, ...)
{
    struct buf b = BUF_INIT(SIZE_MAX / 2);
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (r < 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}

/* ---- characters ---------------------------------------------------------- */

/*
 * Decodes the UTF-8 sequence at s (n > 0 bytes available). Returns its
 * length and sets *ret_cp, or returns 0 for an invalid sequence (overlong,
 * surrogate, past U+10FFFF, truncated).
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
    uint32_t cp, min;
    size_t len;

    if (s[0] < 0x80) {
        *ret_cp = s[0];
        return 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        len = 2, cp = s[0] & 0x1f, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, cp = s[0] & 0x0f, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, cp = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *ret_cp = cp;
    return len;
}

/* XML 1.0 Char production. */
static bool
xml_char_ok(uint32_t cp)
{
    return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
           (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

static const char *
escape_of(uint32_t cp, enum escape esc, char quote)
{
    if (esc == ESCAPE_NONE)
        return NULL;
    switch (cp) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '\r': /* a parser would turn it into \n */
        return "&#13;";
    case '\t':
        return esc == ESCAPE_ATTR ? "&#9;" : NULL;
    case '\n':
        return esc == ESCAPE_ATTR ? "&#10;" : NULL;
    case '"':
        return esc == ESCAPE_ATTR && quote == '"' ? "&quot;" : NULL;
    case '\'':
        return esc == ESCAPE_ATTR && quote == '\'' ? "&apos;" : NULL;
    default:
        return NULL;
    }
}

/* Appends s, escaped as asked, without what XML 1.0 cannot carry. */
static int
put_chars(struct buf *out, const char *s, size_t len, enum escape esc,
          char quote)
{
    const unsigned char *u = (const unsigned char *) s;
    size_t run = 0; /* start of the bytes not yet appended */
    size_t i = 0;
    int r;

    while (i < len) {
        const char *rep;
        uint32_t cp;
        size_t n = utf8_decode(u + i, len - i, &cp);
        bool drop = n == 0 || !xml_char_ok(cp);

        rep = drop ? NULL : escape_of(cp, esc, quote);
        if (!drop && !rep) {
            i += n;
            continue;
        }
        r = buf_append(out, s + run, i - run);
        if (r < 0)
            return r;
        if (rep) {
            r = buf_puts(out, rep);
            if (r < 0)
                return r;
        }
        i += n ? n : 1;
        run = i;
    }
    return buf_append(out, s + run, len - run);
}

/* ---- values -------------------------------------------------------------- */

/* Shortest form that reads back as the same double, with a ".0" as Java. */
static void
format_real(double d, char tmp[static 40])
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, 40, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    if (!strpbrk(tmp, ".eEn"))
        strcat(tmp, ".0");
}

/*
 * Sets *ret and *ret_len to the text of a string, number or boolean (numbers
 * are formatted into tmp). Returns false for null, objects and arrays.
 */
static bool
primitive_text(json_t *v, char tmp[static 40], const char **ret, size_t *ret_len)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        *ret = json_string_value(v);
        *ret_len = json_string_length(v);
        return true;
    case JSON_INTEGER:
        snprintf(tmp, 40, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        format_real(json_real_value(v), tmp);
        break;
    case JSON_TRUE:
        *ret = "true";
        *ret_len = 4;
        return true;
    case JSON_FALSE:
        *ret = "false";
        *ret_len = 5;
        return true;
    default:
        return false;
    }
    *ret = tmp;
    *ret_len = strlen(tmp);
    return true;
}

/* ---- names --------------------------------------------------------------- */

/*
 * ASCII approximation of XML's NameStartChar/NameChar. The colon is left
 * out (it would make a namespace prefix), and so is everything non-ASCII.
 */
static bool
is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static bool
has_suffix(const struct buf *b, const char *suffix)
{
    size_t n = strlen(suffix);

    return b->len >= n && memcmp(b->ptr + b->len - n, suffix, n) == 0;
}

/*
 * Writes the element name for property `key` into `name` (emptied first),
 * as Stapler's makeXmlName(): a bad first character is dropped when the
 * second one could start a name and otherwise gets a "_" in front, other bad
 * characters are dropped. Array elements are made singular as
 * toSingular() does: "ies" -> "y", then one trailing "s" goes.
 */
static int
make_name(struct buf *name, const char *key, size_t len, bool singular)
{
    size_t i = 0;
    int r;

    buf_clear(name);
    if (len > 0 && !is_name_start(key[0])) {
        if (len > 1 && is_name_start(key[1])) {
            i = 1;
        } else {
            r = buf_putc(name, '_');
            if (r < 0)
                return r;
        }
    }
    for (; i < len; i++) {
        if (!is_name_char(key[i]))
            continue;
        r = buf_putc(name, key[i]);
        if (r < 0)
            return r;
    }

    if (singular) {
        if (has_suffix(name, "ies")) {
            buf_truncate(name, name->len - 3);
            r = buf_putc(name, 'y');
            if (r < 0)
                return r;
        }
        if (has_suffix(name, "s"))
            buf_truncate(name, name->len - 1);
    }

    /* "" and "s" made singular leave nothing; Stapler would write <> */
    if (name->len == 0)
        return buf_putc(name, '_');
    return 0;
}

static bool
is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool
is_all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return len > 0;
}

/*
 * The root element: the simple name of "_class" decapitalized like
 * java.beans.Introspector ("FreeStyleProject" -> "freeStyleProject",
 * "URLThing" stays), with "Outer$Inner" giving "inner" and an anonymous
 * "Outer$1" giving "outer" (Stapler would use its superclass, which we
 * cannot know).
 */
static int
root_name(json_t *v, const char *fallback, struct buf *name)
{
    const char *cls = json_string_value(json_object_get(v, "_class"));
    const char *simple, *seg, *best = NULL;
    _cleanup_free_ char *dup = NULL;
    size_t best_len = 0;

    if (cls) {
        simple = strrchr(cls, '.');
        simple = simple ? simple + 1 : cls;
        for (seg = simple;;) {
            const char *dollar = strchr(seg, '$');
            size_t len = dollar ? (size_t) (dollar - seg) : strlen(seg);

            if (!best || (len > 0 && !is_all_digits(seg, len))) {
                best = seg;
                best_len = len;
            }
            if (!dollar)
                break;
            seg = dollar + 1;
        }
        if (best_len > 0) {
            dup = strndup(best, best_len);
            if (!dup)
                return -ENOMEM;
            if (!(best_len > 1 && is_upper(dup[0]) && is_upper(dup[1])) &&
                is_upper(dup[0]))
                dup[0] = (char) (dup[0] - 'A' + 'a');
            return make_name(name, dup, best_len, false);
        }
    }
    if (!fallback || !*fallback)
        return -EINVAL;
    return make_name(name, fallback, strlen(fallback), false);
}

/* ---- rendering ----------------------------------------------------------- */

static int write_element(struct buf *out, const struct style *st,
                         const struct buf *name, json_t *v, unsigned nest);

/* Repeated elements; nested arrays are flattened, as Stapler does. */
static int
write_items(struct buf *out, const struct style *st, const struct buf *name,
            json_t *arr, unsigned nest)
{
    size_t i;
    json_t *item;
    int r;

    if (nest > XMLOUT_MAX_DEPTH)
        return -E2BIG;
    json_array_foreach (arr, i, item) {
        if (json_is_array(item))
            r = write_items(out, st, name, item, nest + 1);
        else
            r = write_element(out, st, name, item, nest + 1);
        if (r < 0)
            return r;
    }
    return 0;
}

static int
write_property(struct buf *out, const struct style *st, const char *key,
               json_t *v, unsigned nest)
{
    _cleanup_(buf_releasep) struct buf name = BUF_INIT(out->max);
    int r;

    if (json_is_null(v))
        return 0;
    r = make_name(&name, key, strlen(key), json_is_array(v));
    if (r < 0)
        return r;
    if (json_is_array(v))
        return write_items(out, st, &name, v, nest);
    return write_element(out, st, &name, v, nest);
}

static int
write_children(struct buf *out, const struct style *st, json_t *obj,
               unsigned nest)
{
    const char *key;
    json_t *val;
    int r;

    json_object_foreach (obj, key, val) {
        if (streq(key, "_class"))
            continue;
        r = write_property(out, st, key, val, nest);
        if (r < 0)
            return r;
    }
    return 0;
}

static int
write_element(struct buf *out, const struct style *st, const struct buf *name,
              json_t *v, unsigned nest)
{
    const char *cls, *text = NULL;
    size_t open_end, text_len = 0;
    char tmp[40];
    int r;

    if (nest > XMLOUT_MAX_DEPTH)
        return -E2BIG;
    if (json_is_null(v))
        return 0; /* absence means null */
    if (json_is_array(v))
        return write_items(out, st, name, v, nest);

    r = buf_putc(out, '<');
    if (r >= 0)
        r = buf_append(out, name->ptr, name->len);
    cls = json_is_object(v) ? json_string_value(json_object_get(v, "_class")) : NULL;
    if (r >= 0 && cls) {
        r = buf_printf(out, " _class=%c", st->quote);
        if (r >= 0)
            r = put_chars(out, cls, strlen(cls), ESCAPE_ATTR, st->quote);
        if (r >= 0)
            r = buf_putc(out, st->quote);
    }
    if (r < 0)
        return r;

    open_end = out->len;
    r = buf_putc(out, '>');
    if (r < 0)
        return r;
    if (json_is_object(v)) {
        r = write_children(out, st, v, nest + 1);
    } else if (primitive_text(v, tmp, &text, &text_len)) {
        r = put_chars(out, text, text_len, ESCAPE_TEXT, 0);
    }
    if (r < 0)
        return r;

    if (st->self_close && out->len == open_end + 1) {
        buf_truncate(out, open_end);
        return buf_puts(out, "/>");
    }
    r = buf_puts(out, "</");
    if (r >= 0)
        r = buf_append(out, name->ptr, name->len);
    if (r >= 0)
        r = buf_putc(out, '>');
    return r;
}

int
xmlout_render(json_t *v, const char *root_name_or_null, struct buf *out)
{
    _cleanup_(buf_releasep) struct buf name = BUF_INIT(out->max);
    size_t start = out->len;
    int r;

    assert(v);
    if (!json_is_object(v))
        return -EINVAL;
    r = root_name(v, root_name_or_null, &name);
    if (r < 0)
        return r;
    r = write_element(out, &stapler_style, &name, v, 0);
    if (r < 0)
        buf_truncate(out, start);
    return r;
}

/* ---- xpath: parsing ------------------------------------------------------ */

struct xp_name {
    const char *ptr;
    size_t len;
};

struct xp_path {
    bool descendant; /* starts with "//" */
    bool text;       /* ends with "/text()" */
    size_t n_steps;
    struct xp_name steps[XPATH_MAX_STEPS]; /* a name or "*" */
};

struct xp_arg {
    bool is_literal;
    struct xp_name literal;
    struct xp_path path;
};

struct xp_expr {
    bool is_concat;
    size_t n_args; /* a plain path is args[0] */
    struct xp_arg args[XPATH_MAX_ARGS];
};

struct xp_parser {
    const char *s;
    size_t pos;
    char *msg;
};

static int
xp_fail(struct xp_parser *p, const char *what)
{
    if (p->msg)
        return -EINVAL;
    p->msg = str_printf("Unsupported XPath expression at offset %zu: %s; " XPATH_FORMS,
                        p->pos, what);
    return p->msg ? -EINVAL : -ENOMEM;
}

static bool
xp_accept(struct xp_parser *p, const char *tok)
{
    size_t n = strlen(tok);

    if (strncmp(p->s + p->pos, tok, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static void
xp_skip_space(struct xp_parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
           p->s[p->pos] == '\r')
        p->pos++;
}

/* path := ('//' | '/') step ('/' step)* ('/text()')?   step := name | '*' */
static int
xp_parse_path(struct xp_parser *p, struct xp_path *path)
{
    *path = (struct xp_path){ 0 };
    if (xp_accept(p, "//"))
        path->descendant = true;
    else if (!xp_accept(p, "/"))
        return xp_fail(p, "expected '/' or '//'");

    for (;;) {
        size_t start = p->pos;

        if (path->n_steps > 0 && xp_accept(p, "text()")) {
            path->text = true;
            return 0;
        }
        if (p->s[p->pos] == '*') {
            p->pos++;
        } else if (is_name_start(p->s[p->pos])) {
            while (is_name_char(p->s[p->pos]))
                p->pos++;
        } else {
            return xp_fail(p, "expected an element name or '*'");
        }
        if (path->n_steps == XPATH_MAX_STEPS)
            return xp_fail(p, "too many steps");
        path->steps[path->n_steps++] = (struct xp_name){ p->s + start, p->pos - start };

        if (p->s[p->pos] != '/')
            return 0;
        p->pos++;
        if (p->s[p->pos] == '/')
            return xp_fail(p, "'//' is only supported at the start");
    }
}

static int
xp_parse_concat(struct xp_parser *p, struct xp_expr *e)
{
    int r;

    e->is_concat = true;
    for (;;) {
        struct xp_arg *a;
        char q;

        xp_skip_space(p);
        if (e->n_args == XPATH_MAX_ARGS)
            return xp_fail(p, "too many arguments to concat()");
        a = &e->args[e->n_args];
        q = p->s[p->pos];
        if (q == '"' || q == '\'') {
            const char *end = strchr(p->s + p->pos + 1, q);

            if (!end)
                return xp_fail(p, "unterminated string");
            a->is_literal = true;
            a->literal = (struct xp_name){ p->s + p->pos + 1,
                                           (size_t) (end - (p->s + p->pos + 1)) };
            p->pos = (size_t) (end - p->s) + 1;
        } else if (q == '/') {
            r = xp_parse_path(p, &a->path);
            if (r < 0)
                return r;
        } else {
            return xp_fail(p, "expected a path or a quoted string");
        }
        e->n_args++;

        xp_skip_space(p);
        if (xp_accept(p, ","))
            continue;
        if (xp_accept(p, ")"))
            break;
        return xp_fail(p, "expected ',' or ')'");
    }
    if (e->n_args < 2)
        return xp_fail(p, "concat() needs at least two arguments");
    return 0;
}

static int
xp_parse(struct xp_parser *p, struct xp_expr *e)
{
    int r;

    *e = (struct xp_expr){ 0 };
    xp_skip_space(p);
    if (xp_accept(p, "concat")) {
        xp_skip_space(p);
        if (!xp_accept(p, "("))
            return xp_fail(p, "expected '('");
        r = xp_parse_concat(p, e);
    } else if (p->s[p->pos] == '/') {
        e->n_args = 1;
        r = xp_parse_path(p, &e->args[0].path);
    } else {
        return xp_fail(p, "expected a path or concat()");
    }
    if (r < 0)
        return r;
    xp_skip_space(p);
    if (p->s[p->pos] != '\0')
        return xp_fail(p, "unexpected text after the expression");
    return 0;
}

/* ---- xpath: evaluation --------------------------------------------------- */

/*
 * The value is walked as the XML document it stands for, keeping the names
 * of the open elements, so that a path is matched against that stack: "/a/b"
 * wants exactly [a, b], "//a/b" wants the stack to end with [a, b].
 */

enum xp_mode {
    XP_STRING_VALUE, /* string-value of the first match (concat arguments) */
    XP_ELEMENTS,     /* serialize matched elements */
    XP_TEXTS,        /* text() children of matched elements */
};

struct xp_walk {
    const struct xp_path *path;
    enum xp_mode mode;
    bool first_only;
    enum escape esc; /* for XP_TEXTS */
    struct buf *out;
    size_t n_matches;
    struct xp_name stack[XMLOUT_MAX_DEPTH + 2];
};

static bool
xp_step_matches(const struct xp_name *step, const struct xp_name *name)
{
    if (step->len == 1 && step->ptr[0] == '*')
        return true;
    return step->len == name->len && memcmp(step->ptr, name->ptr, name->len) == 0;
}

static bool
xp_path_matches(const struct xp_path *path, const struct xp_name *stack,
                size_t depth)
{
    size_t k = path->n_steps;

    if (depth < k || (!path->descendant && depth != k))
        return false;
    for (size_t i = 0; i < k; i++)
        if (!xp_step_matches(&path->steps[i], &stack[depth - k + i]))
            return false;
    return true;
}

/* The XPath string-value: all text below v, in document order. */
static int
string_value(json_t *v, struct buf *out, unsigned nest)
{
    const char *key, *text;
    size_t i, len;
    json_t *val;
    char tmp[40];
    int r;

    if (nest > XMLOUT_MAX_DEPTH)
        return -E2BIG;
    if (primitive_text(v, tmp, &text, &len))
        return put_chars(out, text, len, ESCAPE_NONE, 0);
    if (json_is_array(v)) {
        json_array_foreach (v, i, val) {
            r = string_value(val, out, nest + 1);
            if (r < 0)
                return r;
        }
    } else if (json_is_object(v)) {
        json_object_foreach (v, key, val) {
            if (streq(key, "_class"))
                continue;
            r = string_value(val, out, nest + 1);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static int
xp_on_match(struct xp_walk *w, const struct buf *name, json_t *v, unsigned nest)
{
    const char *text;
    size_t len;
    char tmp[40];
    int r;

    switch (w->mode) {
    case XP_STRING_VALUE:
        r = string_value(v, w->out, nest);
        break;
    case XP_ELEMENTS:
        r = write_element(w->out, &dom4j_style, name, v, nest);
        break;
    case XP_TEXTS:
        /* an element holding an object (or "") has no text node */
        if (!primitive_text(v, tmp, &text, &len) || len == 0)
            return 0;
        r = put_chars(w->out, text, len, w->esc, 0);
        break;
    default:
        assert(false);
        return -EINVAL;
    }
    if (r < 0)
        return r;
    w->n_matches++;
    return 0;
}

static bool
xp_done(const struct xp_walk *w)
{
    return w->first_only && w->n_matches > 0;
}

static int xp_visit_element(struct xp_walk *w, const struct buf *name,
                            json_t *v, size_t depth, unsigned nest);

static int
xp_visit_items(struct xp_walk *w, const struct buf *name, json_t *arr,
               size_t depth, unsigned nest)
{
    size_t i;
    json_t *item;
    int r;

    if (nest > XMLOUT_MAX_DEPTH)
        return -E2BIG;
    json_array_foreach (arr, i, item) {
        if (json_is_array(item))
            r = xp_visit_items(w, name, item, depth, nest + 1);
        else
            r = xp_visit_element(w, name, item, depth, nest + 1);
        if (r < 0)
            return r;
        if (xp_done(w))
            return 0;
    }
    return 0;
}

static int
xp_visit_children(struct xp_walk *w, json_t *obj, size_t depth, unsigned nest)
{
    const char *key;
    json_t *val;
    int r;

    json_object_foreach (obj, key, val) {
        _cleanup_(buf_releasep) struct buf name = BUF_INIT(w->out->max);

        if (streq(key, "_class") || json_is_null(val))
            continue;
        r = make_name(&name, key, strlen(key), json_is_array(val));
        if (r < 0)
            return r;
        if (json_is_array(val))
            r = xp_visit_items(w, &name, val, depth, nest);
        else
            r = xp_visit_element(w, &name, val, depth, nest);
        if (r < 0)
            return r;
        if (xp_done(w))
            return 0;
    }
    return 0;
}

/* `depth` is the number of elements above this one. */
static int
xp_visit_element(struct xp_walk *w, const struct buf *name, json_t *v,
                 size_t depth, unsigned nest)
{
    int r;

    if (nest > XMLOUT_MAX_DEPTH || depth >= ELEMENTSOF(w->stack))
        return -E2BIG;
    if (json_is_null(v))
        return 0;

    w->stack[depth] = (struct xp_name){ name->ptr, name->len };
    if (xp_path_matches(w->path, w->stack, depth + 1)) {
        r = xp_on_match(w, name, v, nest);
        if (r < 0 || xp_done(w))
            return r;
    }
    if (json_is_object(v))
        return xp_visit_children(w, v, depth + 1, nest + 1);
    return 0;
}

static int
xp_walk(json_t *v, const struct buf *root, const struct xp_path *path,
        enum xp_mode mode, bool first_only, enum escape esc, struct buf *out,
        size_t *ret_matches)
{
    struct xp_walk w = {
        .path = path,
        .mode = path->text ? XP_TEXTS : mode,
        .first_only = first_only,
        .esc = esc,
        .out = out,
    };
    int r;

    r = xp_visit_element(&w, root, v, 0, 0);
    if (r < 0)
        return r;
    *ret_matches = w.n_matches;
    return 0;
}

/* concat(): each path gives the string-value of its first node, or "". */
static int
xp_concat(json_t *v, const struct buf *root, const struct xp_expr *e,
          struct buf *text)
{
    size_t n;
    int r;

    for (size_t i = 0; i < e->n_args; i++) {
        const struct xp_arg *a = &e->args[i];

        if (a->is_literal)
            r = buf_append(text, a->literal.ptr, a->literal.len);
        else
            r = xp_walk(v, root, &a->path, XP_STRING_VALUE, true, ESCAPE_NONE,
                        text, &n);
        if (r < 0)
            return r;
    }
    return 0;
}

static bool
wrapper_is_valid(const char *w)
{
    if (!is_name_start(w[0]))
        return false;
    for (size_t i = 1; w[i]; i++)
        if (!is_name_char(w[i]))
            return false;
    return true;
}

static int
xp_answer(json_t *v, const struct buf *root, const struct xp_expr *e,
          const char *wrapper, struct buf *out, size_t *ret_matches)
{
    enum escape esc = wrapper ? ESCAPE_TEXT : ESCAPE_NONE;
    size_t start = out->len;
    int r;

    if (wrapper) {
        r = buf_printf(out, "<%s>", wrapper);
        if (r < 0)
            return r;
    }

    if (e->is_concat) {
        _cleanup_(buf_releasep) struct buf text = BUF_INIT(out->max);

        r = xp_concat(v, root, e, &text);
        if (r >= 0)
            r = put_chars(out, buf_str(&text), text.len, esc, 0);
        *ret_matches = 1;
    } else {
        r = xp_walk(v, root, &e->args[0].path, XP_ELEMENTS, !wrapper, esc, out,
                    ret_matches);
    }
    if (r < 0)
        return r;

    if (wrapper) {
        if (out->len == start + strlen(wrapper) + 2) {
            buf_truncate(out, start);
            return buf_printf(out, "<%s/>", wrapper);
        }
        return buf_printf(out, "</%s>", wrapper);
    }
    return 0;
}

int
xmlout_xpath(json_t *v, const char *root_name_or_null, const char *xpath,
             const char *wrapper, struct buf *out, bool *ret_is_text,
             char **reterr_msg)
{
    _cleanup_(buf_releasep) struct buf root = BUF_INIT(out->max);
    struct xp_parser p = { .s = xpath };
    struct xp_expr e;
    size_t start = out->len, matches = 0;
    int r;

    assert(v);
    assert(xpath);
    assert(ret_is_text);

    r = json_is_object(v) ? root_name(v, root_name_or_null, &root) : -EINVAL;
    if (r < 0) {
        if (r == -EINVAL && reterr_msg &&
            !(*reterr_msg = str_printf("No XML document to apply the XPath to")))
            return -ENOMEM;
        return r;
    }

    r = xp_parse(&p, &e);
    if (r < 0) {
        if (reterr_msg && r == -EINVAL)
            *reterr_msg = TAKE_PTR(p.msg);
        free(p.msg);
        return r;
    }

    if (wrapper && !wrapper_is_valid(wrapper)) {
        if (reterr_msg && !(*reterr_msg = str_printf("%s",
                "The wrapper parameter can only have letters, numbers, "
                "dashes, underscores and periods, and must start with a "
                "letter or an underscore")))
            return -ENOMEM;
        return -EINVAL;
    }

    r = xp_answer(v, &root, &e, wrapper, out, &matches);
    if (r >= 0 && !wrapper && matches == 0) {
        r = -ENOENT;
        if (reterr_msg && !(*reterr_msg = str_printf("XPath %s didn't match", xpath)))
            r = -ENOMEM;
    }
    if (r < 0) {
        buf_truncate(out, start);
        return r;
    }

    *ret_is_text = !wrapper && (e.is_concat || e.args[0].path.text);
    return 0;
}
