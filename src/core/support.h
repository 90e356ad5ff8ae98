/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What Steward does with each element of a freestyle config.xml: the one
 * table that says which elements run, which are harmless to ignore, and
 * which are not run. The parser (core/jobcfg_read.c) classifies a job
 * with it, the engine fails or annotates its builds by it, the API and
 * the pages name what is not run, and docs/COMPAT.md's list is generated
 * from it (`steward-compat-table`, checked by the unit tests).
 *
 * Elements live in slots: the children of <project> ("project"), of
 * <properties>, <triggers>, <builders>, <publishers> and <buildWrappers>,
 * and the class attribute of <scm> ("scm"). In a slot of plugin classes
 * an element the table does not know takes the slot's default verdict.
 */

#include <stdbool.h>
#include <stddef.h>

enum support {
    SUPPORT_RUN,       /* Steward does what the element says */
    SUPPORT_HARMLESS,  /* ignored: it changes nothing a build does or reports */
    SUPPORT_SKIPPED,   /* not run; builds run and keep their result */
    SUPPORT_FAILS,     /* not run; a build fails before its first step */
};

struct support_entry {
    const char *slot;
    const char *name;      /* the element's name, or for "scm" its class */
    enum support verdict;
    /*
     * When set, the verdict applies only when the element's text is not
     * one of these values (separated by '|'; "" is the empty element):
     * the element is harmless with them. e.g. a <jdk> of "(System)".
     */
    const char *harmless_values;
    const char *note;      /* what it is or does, and what to do instead */
};

extern const struct support_entry support_table[];
extern const size_t support_table_len;

/* The slots in the order of a config.xml, and their defaults for unknown elements. */
struct support_slot {
    const char *slot;
    enum support unknown;  /* the verdict for an element the table does not know */
    const char *unknown_note;
};
extern const struct support_slot support_slots[];
extern const size_t support_slots_len;

/*
 * The entry for `name` in `slot`, or NULL when the table does not know
 * it; then support_slot_of(slot)->unknown applies.
 */
const struct support_entry *support_find(const char *slot, const char *name);
const struct support_slot *support_slot_of(const char *slot);

/*
 * The verdict for one element: `value` is its trimmed text (NULL when it
 * has element children, or for "scm"). *ret_note gets the note to show.
 */
enum support support_classify(const char *slot, const char *name, const char *value,
                              const char **ret_note);

/* "run", "harmless", "skipped", "fails": as the API and the docs name verdicts. */
const char *support_to_string(enum support s);

/* The list in docs/COMPAT.md, as Markdown, into a newly allocated *ret. 0 or -ENOMEM. */
int support_markdown(char **ret);
