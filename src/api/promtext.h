/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The Prometheus text exposition format, version 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats): a family is its
 * "# HELP" and "# TYPE" lines, then its samples, one per line:
 *
 *     name{label="value",...} 42
 *
 * A family's samples follow its header, with no other family between.
 * Label values and help texts are escaped here (\\, \" and \n in values;
 * \\ and \n in help). Metric and label names are ours, constant, and only
 * checked (assert). Label values must be UTF-8, as job names are.
 *
 * Writing is sticky: the first error (the buffer's maximum, or memory) is
 * kept in `err`, and every later call does nothing, so a caller writes
 * everything and checks once.
 */

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_SUMMARY };

struct prom {
    struct buf *out;
    int err;   /* 0, or the first error: -E2BIG past out's maximum, -ENOMEM */
};

#define PROM_INIT(b) ((struct prom){ .out = (b), .err = 0 })

/* The HELP and TYPE lines of a family named `name`. */
void prom_family(struct prom *p, const char *name, enum prom_type type, const char *help);
/*
 * One sample. `labels` is { "name", "value", ..., NULL }, or NULL for
 * none; the values are escaped.
 */
void prom_sample(struct prom *p, const char *name, const char *const *labels, int64_t value);
/* A comment line ("# " and the text, newlines made spaces); not HELP or TYPE. */
void prom_comment(struct prom *p, const char *text);

/* Appends a label value, escaped. 0, -E2BIG or -ENOMEM. */
int prom_escape_label_value(struct buf *out, const char *s);
/* Appends a help text, escaped. 0, -E2BIG or -ENOMEM. */
int prom_escape_help(struct buf *out, const char *s);

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool prom_is_metric_name(const char *s);
/* [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved) */
bool prom_is_label_name(const char *s);
