/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "api/promtext.h"

static bool
is_alpha_(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool
prom_is_metric_name(const char *s)
{
    if (!s || !(is_alpha_(*s) || *s == ':'))
        return false;
    for (s++; *s; s++)
        if (!is_alpha_(*s) && !is_digit(*s) && *s != ':')
            return false;
    return true;
}

bool
prom_is_label_name(const char *s)
{
    if (!s || !is_alpha_(*s) || strncmp(s, "__", 2) == 0)
        return false;
    for (s++; *s; s++)
        if (!is_alpha_(*s) && !is_digit(*s))
            return false;
    return true;
}

/* Appends `s` with each of `specials` (a backslash, a quote, a newline) escaped. */
static int
escape(struct buf *out, const char *s, const char *specials)
{
    const char *run = s;
    int r;

    for (; *s; s++) {
        if (!strchr(specials, *s))
            continue;
        r = buf_append(out, run, (size_t) (s - run));
        if (r < 0)
            return r;
        r = buf_puts(out, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\");
        if (r < 0)
            return r;
        run = s + 1;
    }
    return buf_append(out, run, (size_t) (s - run));
}

int
prom_escape_label_value(struct buf *out, const char *s)
{
    return escape(out, s, "\\\"\n");
}

int
prom_escape_help(struct buf *out, const char *s)
{
    return escape(out, s, "\\\n");
}

static void
keep(struct prom *p, int r)
{
    if (r < 0 && p->err == 0)
        p->err = r;
}

void
prom_family(struct prom *p, const char *name, enum prom_type type, const char *help)
{
    static const char *const types[] = {
        [PROM_COUNTER] = "counter",
        [PROM_GAUGE] = "gauge",
        [PROM_SUMMARY] = "summary",
    };
    size_t mark = p->out->len;

    assert(prom_is_metric_name(name));
    assert((unsigned) type < ELEMENTSOF(types));
    if (p->err)
        return;
    keep(p, buf_printf(p->out, "# HELP %s ", name));
    if (!p->err)
        keep(p, prom_escape_help(p->out, help));
    if (!p->err)
        keep(p, buf_printf(p->out, "\n# TYPE %s %s\n", name, types[type]));
    if (p->err) {
        buf_truncate(p->out, mark); /* no half line: what is there stays valid */
    }
}

void
prom_sample(struct prom *p, const char *name, const char *const *labels, int64_t value)
{
    size_t mark = p->out->len;

    assert(prom_is_metric_name(name));
    if (p->err)
        return;
    keep(p, buf_puts(p->out, name));
    for (size_t i = 0; labels && labels[i] && !p->err; i += 2) {
        assert(prom_is_label_name(labels[i]));
        assert(labels[i + 1]);
        keep(p, buf_printf(p->out, "%s%s=\"", i ? "," : "{", labels[i]));
        if (!p->err)
            keep(p, prom_escape_label_value(p->out, labels[i + 1]));
        if (!p->err)
            keep(p, buf_putc(p->out, '"'));
    }
    if (!p->err)
        keep(p, buf_printf(p->out, "%s %lld\n", labels && labels[0] ? "}" : "", (long long) value));
    if (p->err) {
        buf_truncate(p->out, mark); /* no half line: what is there stays valid */
    }
}

void
prom_comment(struct prom *p, const char *text)
{
    size_t mark = p->out->len;

    if (p->err)
        return;
    keep(p, buf_puts(p->out, "# "));
    for (const char *s = text; *s && !p->err; s++)
        keep(p, buf_putc(p->out, *s == '\n' || *s == '\r' ? ' ' : *s));
    if (!p->err)
        keep(p, buf_putc(p->out, '\n'));
    if (p->err) {
        buf_truncate(p->out, mark); /* no half line: what is there stays valid */
    }
}
