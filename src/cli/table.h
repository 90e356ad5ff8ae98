/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Aligned text tables for people: a header row, then rows; each column as
 * wide as its widest cell (counted in UTF-8 characters), the last column
 * not padded.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct table;

/* A table with `n_cols` columns named by `headers` (copied). NULL on allocation failure. */
struct table *table_new(size_t n_cols, const char *const *headers);
struct table *table_free(struct table *t);

/* Appends a row of n_cols cells (copied; NULL prints as "-"). 0 or -ENOMEM. */
int table_add(struct table *t, const char *const *cells);

/* Writes the table to `f`, two spaces between columns. */
void table_print(const struct table *t, FILE *f);

/* "5 s", "3 min", "2 h 5 min", "4 days": a short span for people. Lent (rfmt). */
const char *table_span(int64_t ms);

/* "5 min ago", "just now"; "-" for times <= 0. Lent (rfmt). */
const char *table_ago(int64_t when_ms, int64_t now_ms);
