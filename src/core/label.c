/* SPDX-License-Identifier: MIT */
/*
 * Label expressions: a recursive-descent parser that follows core's
 * LabelExpressionParser.g4 rule for rule (term1 .. term6), with the lexer
 * rules of LabelExpressionLexer.g4 read one token ahead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/label.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/macro.h"
#include "util/strutil.h"

enum op { OP_ATOM, OP_NOT, OP_AND, OP_OR, OP_IMPLIES, OP_IFF, OP_PAREN };

struct label_expr {
    enum op op;
    struct label_expr *l, *r;   /* OP_NOT, OP_PAREN: l only */
    char atom[];                /* OP_ATOM */
};

enum tok { T_END, T_ATOM, T_AND, T_OR, T_NOT, T_IMPLIES, T_IFF, T_LPAREN, T_RPAREN, T_BAD };

struct parser {
    const char *src, *p;
    enum tok tok;
    const char *tok_at;
    char *text;                 /* T_ATOM: the atom, unquoted */
    int depth;
    int err;
    char *why;
};

static bool
is_atom_char(const char *p)
{
    switch (*p) {
    case '&': case '|': case '!': case '<': case '>': case '(': case ')':
    case ' ': case '\t': case '\r': case '\n': case '"': case '\'': case '\0':
        return false;
    case '-':
        return p[1] != '>';
    default:
        return true;
    }
}

static void
fail(struct parser *ps, const char *fmt, const char *detail)
{
    if (ps->err)
        return;
    ps->err = -EINVAL;
    ps->why = strdup_printf("Invalid boolean expression: %s%s at position %zu of \"%s\".",
                            fmt, detail ? detail : "", (size_t) (ps->tok_at - ps->src) + 1,
                            ps->src);
    if (!ps->why)
        ps->err = -ENOMEM;
}

static void
next(struct parser *ps)
{
    const char *p = ps->p;

    free(ps->text);
    ps->text = NULL;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    ps->tok_at = p;
    if (!*p) {
        ps->tok = T_END;
    } else if (p[0] == '&' && p[1] == '&') {
        ps->tok = T_AND, p += 2;
    } else if (p[0] == '|' && p[1] == '|') {
        ps->tok = T_OR, p += 2;
    } else if (p[0] == '!') {
        ps->tok = T_NOT, p++;
    } else if (p[0] == '-' && p[1] == '>') {
        ps->tok = T_IMPLIES, p += 2;
    } else if (p[0] == '<' && p[1] == '-' && p[2] == '>') {
        ps->tok = T_IFF, p += 3;
    } else if (p[0] == '(') {
        ps->tok = T_LPAREN, p++;
    } else if (p[0] == ')') {
        ps->tok = T_RPAREN, p++;
    } else if (p[0] == '"') {
        size_t n = 0;
        char *t = malloc(strlen(p) + 1);

        if (!t) {
            ps->err = -ENOMEM;
            ps->tok = T_BAD;
            return;
        }
        for (p++; *p && *p != '"' && *p != '\r' && *p != '\n'; p++) {
            if (*p != '\\') {
                t[n++] = *p;
                continue;
            }
            switch (*++p) {
            case 'b': t[n++] = '\b'; break;
            case 't': t[n++] = '\t'; break;
            case 'n': t[n++] = '\n'; break;
            case 'f': t[n++] = '\f'; break;
            case 'r': t[n++] = '\r'; break;
            case '"': case '\'': case '\\': t[n++] = *p; break;
            default:
                free(t);
                ps->tok = T_BAD;
                fail(ps, "unknown escape in a quoted label", NULL);
                return;
            }
        }
        if (*p != '"') {
            free(t);
            ps->tok = T_BAD;
            fail(ps, "a quoted label is not closed", NULL);
            return;
        }
        p++;
        t[n] = '\0';
        ps->text = t;
        ps->tok = T_ATOM;
    } else if (is_atom_char(p)) {
        const char *start = p;

        while (is_atom_char(p))
            p++;
        ps->text = strndup(start, (size_t) (p - start));
        if (!ps->text)
            ps->err = -ENOMEM;
        ps->tok = T_ATOM;
    } else {
        char c[4] = { '\'', *p, '\'', '\0' };

        ps->tok = T_BAD;
        fail(ps, "unexpected character ", c);
        return;
    }
    ps->p = p;
}

static struct label_expr *
node(struct parser *ps, enum op op, struct label_expr *l, struct label_expr *r)
{
    struct label_expr *e;

    if (!l || (op != OP_NOT && op != OP_PAREN && !r)) {
        label_free(l);
        label_free(r);
        return NULL;
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        ps->err = -ENOMEM;
        label_free(l);
        label_free(r);
        return NULL;
    }
    e->op = op;
    e->l = l;
    e->r = r;
    return e;
}

static struct label_expr *term1(struct parser *ps);

static const char *
tok_name(const struct parser *ps)
{
    switch (ps->tok) {
    case T_END: return "the end";
    case T_AND: return "'&&'";
    case T_OR: return "'||'";
    case T_NOT: return "'!'";
    case T_IMPLIES: return "'->'";
    case T_IFF: return "'<->'";
    case T_LPAREN: return "'('";
    case T_RPAREN: return "')'";
    default: return "a label";
    }
}

/* term6: ( term1 ) | ATOM | STRINGLITERAL */
static struct label_expr *
term6(struct parser *ps)
{
    struct label_expr *e;

    if (ps->err)
        return NULL;
    if (ps->tok == T_ATOM) {
        size_t len = strlen(ps->text);

        e = calloc(1, sizeof(*e) + len + 1);
        if (!e) {
            ps->err = -ENOMEM;
            return NULL;
        }
        e->op = OP_ATOM;
        memcpy(e->atom, ps->text, len + 1);
        next(ps);
        return e;
    }
    if (ps->tok == T_LPAREN) {
        if (++ps->depth > BOUND_LABEL_EXPR_DEPTH) {
            fail(ps, "parentheses nested deeper than Steward allows (32)", NULL);
            return NULL;
        }
        next(ps);
        e = term1(ps);
        if (e && ps->tok != T_RPAREN) {
            fail(ps, "expected ')' instead of ", tok_name(ps));
            label_free(e);
            return NULL;
        }
        ps->depth--;
        if (e)
            next(ps);
        return node(ps, OP_PAREN, e, NULL);
    }
    if (ps->tok != T_BAD)
        fail(ps, "expected a label or '(' instead of ", tok_name(ps));
    return NULL;
}

/* term5: term6 | ! term6 */
static struct label_expr *
term5(struct parser *ps)
{
    if (ps->tok == T_NOT) {
        next(ps);
        return node(ps, OP_NOT, term6(ps), NULL);
    }
    return term6(ps);
}

/* term4: term5 ( && term5 )* ; term3 the same with ||; term1 with <-> */
static struct label_expr *
chain(struct parser *ps, enum tok t, enum op op, struct label_expr *(*sub)(struct parser *))
{
    struct label_expr *e = sub(ps);

    while (e && ps->tok == t) {
        next(ps);
        e = node(ps, op, e, sub(ps));
    }
    return e;
}

static struct label_expr *term4(struct parser *ps) { return chain(ps, T_AND, OP_AND, term5); }
static struct label_expr *term3(struct parser *ps) { return chain(ps, T_OR, OP_OR, term4); }

/* term2: term3 ( -> term3 )? */
static struct label_expr *
term2(struct parser *ps)
{
    struct label_expr *e = term3(ps);

    if (e && ps->tok == T_IMPLIES) {
        next(ps);
        e = node(ps, OP_IMPLIES, e, term3(ps));
    }
    return e;
}

static struct label_expr *
term1(struct parser *ps)
{
    return chain(ps, T_IFF, OP_IFF, term2);
}

int
label_parse(const char *s, struct label_expr **ret, char **reterr_why)
{
    struct parser ps = { .src = s, .p = s };
    struct label_expr *e;
    size_t len = strlen(s);

    if (len > BOUND_LABEL_EXPR_BYTES) {
        if (reterr_why)
            *reterr_why = strdup_printf("Invalid boolean expression: longer than %d bytes.",
                                        BOUND_LABEL_EXPR_BYTES);
        return -E2BIG;
    }
    if (strspn(s, " \t\r\n") == len) {
        *ret = NULL;
        return 0;
    }
    next(&ps);
    e = term1(&ps);
    if (e && !ps.err && ps.tok != T_END)
        fail(&ps, "unexpected ", tok_name(&ps));
    free(ps.text);
    if (ps.err || !e) {
        label_free(e);
        if (!ps.err)
            ps.err = -ENOMEM;
        if (reterr_why && ps.why)
            *reterr_why = TAKE_PTR(ps.why);
        free(ps.why);
        return ps.err;
    }
    *ret = e;
    return 0;
}

struct label_expr *
label_free(struct label_expr *e)
{
    /* iterative on the left spine: a long chain "a && b && c ..." nests there */
    while (e) {
        struct label_expr *l = e->l;

        label_free(e->r);
        free(e);
        e = l;
    }
    return NULL;
}

bool
label_matches(const struct label_expr *e, const char *const *labels, size_t n)
{
    if (!e)
        return true;
    switch (e->op) {
    case OP_ATOM:
        for (size_t i = 0; i < n; i++)
            if (streq(labels[i], e->atom))
                return true;
        return false;
    case OP_NOT:
        return !label_matches(e->l, labels, n);
    case OP_PAREN:
        return label_matches(e->l, labels, n);
    case OP_AND:
        return label_matches(e->l, labels, n) && label_matches(e->r, labels, n);
    case OP_OR:
        return label_matches(e->l, labels, n) || label_matches(e->r, labels, n);
    case OP_IMPLIES:
        return !label_matches(e->l, labels, n) || label_matches(e->r, labels, n);
    case OP_IFF:
        return label_matches(e->l, labels, n) == label_matches(e->r, labels, n);
    }
    return false;
}

const char *
label_atom(const struct label_expr *e)
{
    while (e && e->op == OP_PAREN)
        e = e->l;
    return e && e->op == OP_ATOM ? e->atom : NULL;
}

bool
label_is_atom(const struct label_expr *e)
{
    return label_atom(e) != NULL;
}

static bool
needs_quotes(const char *s)
{
    if (!*s)
        return true;
    for (const char *p = s; *p; p++)
        if (!is_atom_char(p) || *p == '\\')
            return true;
    return false;
}

static int
format(const struct label_expr *e, struct buf *out)
{
    static const char *const ops[] = { [OP_AND] = " && ", [OP_OR] = " || ",
                                       [OP_IMPLIES] = " -> ", [OP_IFF] = " <-> " };
    int r;

    switch (e->op) {
    case OP_ATOM:
        if (!needs_quotes(e->atom))
            return buf_puts(out, e->atom);
        r = buf_puts(out, "\"");
        for (const char *p = e->atom; r >= 0 && *p; p++) {
            const char *esc = *p == '"' ? "\\\"" : *p == '\\' ? "\\\\" : *p == '\t' ? "\\t"
                            : *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : *p == '\b' ? "\\b"
                            : *p == '\f' ? "\\f" : NULL;
            r = esc ? buf_puts(out, esc) : buf_append(out, p, 1);
        }
        return r >= 0 ? buf_puts(out, "\"") : r;
    case OP_NOT:
        r = buf_puts(out, "!");
        return r >= 0 ? format(e->l, out) : r;
    case OP_PAREN:
        r = buf_puts(out, "(");
        if (r >= 0)
            r = format(e->l, out);
        return r >= 0 ? buf_puts(out, ")") : r;
    default:
        r = format(e->l, out);
        if (r >= 0)
            r = buf_puts(out, ops[e->op]);
        return r >= 0 ? format(e->r, out) : r;
    }
}

char *
label_format(const struct label_expr *e)
{
    _cleanup_(buf_releasep) struct buf b = {};

    buf_init(&b, 4 * BOUND_LABEL_EXPR_BYTES);
    if (e && format(e, &b) < 0)
        return NULL;
    return strdup(buf_str(&b));
}

bool
label_is_valid_atom(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len > BOUND_NODE_LABEL_BYTES || !utf8_is_valid(s, len))
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char) *p <= ' ' || *p == 0x7f)
            return false;
    return true;
}
