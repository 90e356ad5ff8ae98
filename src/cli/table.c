/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/table.h"
#include "util/macro.h"
#include "util/strutil.h"

struct table {
    size_t n_cols, n_rows;
    char **cells; /* (n_rows + 1) * n_cols, row 0 the headers */
};

static char *
dup_cell(const char *s)
{
    return strdup(s ? s : "-");
}

struct table *
table_new(size_t n_cols, const char *const *headers)
{
    struct table *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    t->n_cols = n_cols;
    if (table_add(t, headers) < 0)
        return table_free(t);
    return t;
}

struct table *
table_free(struct table *t)
{
    if (!t)
        return NULL;
    for (size_t i = 0; i < (t->n_rows) * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
    return NULL;
}

int
table_add(struct table *t, const char *const *cells)
{
    char **c = realloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof *c);

    if (!c)
        return -ENOMEM;
    t->cells = c;
    for (size_t i = 0; i < t->n_cols; i++) {
        c[t->n_rows * t->n_cols + i] = dup_cell(cells[i]);
        if (!c[t->n_rows * t->n_cols + i]) {
            for (size_t k = 0; k < i; k++)
                free(c[t->n_rows * t->n_cols + k]);
            return -ENOMEM;
        }
    }
    t->n_rows++;
    return 0;
}

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t
width(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char) *s & 0xC0) != 0x80)
            n++;
    return n;
}

void
table_print(const struct table *t, FILE *f)
{
    size_t *w = calloc(t->n_cols ? t->n_cols : 1, sizeof *w);

    if (!w)
        return;
    for (size_t r = 0; r < t->n_rows; r++)
        for (size_t c = 0; c < t->n_cols; c++)
            w[c] = MAX(w[c], width(t->cells[r * t->n_cols + c]));
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *cell = t->cells[r * t->n_cols + c];
            fputs(cell, f);
            if (c + 1 < t->n_cols)
                fprintf(f, "%*s", (int) (w[c] - width(cell) + 2), "");
        }
        fputc('\n', f);
    }
    free(w);
}

const char *
table_span(int64_t ms)
{
    int64_t s = ms / 1000;

    if (ms < 0)
        return "-";
    if (ms < 10000)
        return rfmt("%.1f s", (double) ms / 1000.0);
    if (s < 60)
        return rfmt("%lld s", (long long) s);
    if (s < 3600)
        return rfmt("%lld min", (long long) (s / 60));
    if (s < 86400)
        return rfmt("%lld h %lld min", (long long) (s / 3600), (long long) (s % 3600 / 60));
    return rfmt("%lld days", (long long) (s / 86400));
}

const char *
table_ago(int64_t when_ms, int64_t now)
{
    if (when_ms <= 0)
        return "-";
    if (now - when_ms < 1000)
        return "just now";
    return rfmt("%s ago", table_span(now - when_ms));
}
