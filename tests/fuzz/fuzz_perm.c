/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for core/perm.h's readers and for a job's matrix in
 * config.xml (jobcfg).
 *
 * Each line of the input after the first byte is read as a permission and
 * as a grant. A permission that parses parses again from its id and its
 * name; a grant that parses formats to text that parses to the same grant
 * and formats to the same text.
 *
 * The lines are then the <permission> entries of a job's
 * hudson.security.AuthorizationMatrixProperty (the first byte picks its
 * inheritance): what jobcfg_parse() accepts holds exactly the grants that
 * grant_parse() reads from the trimmed entries, in order, and an entry
 * that is not a grant is refused. Then the grants the lines give as a
 * form would (grant_parse() of the line as it is, and grant_new() of the
 * line as a sid) are set with jobcfg_set_matrix(): what jobcfg_write()
 * makes of them must parse again to the same grants and inheritance, and
 * write again to the same bytes.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *           $(pkg-config --cflags libxml-2.0) src/core/perm.c src/core/jobcfg.c \
 *           src/util/buf.c src/util/strutil.c tests/fuzz/fuzz_perm.c \
 *           $(pkg-config --libs libxml-2.0)
 * Replay without libFuzzer (e.g. the corpus in the normal test run): add
 * -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobcfg.h"
#include "core/perm.h"
#include "util/buf.h"
#include "fuzz.h"

#define MAX_LINES 64

static bool
same_grant(const struct grant *a, const struct grant *b)
{
    return a->kind == b->kind && a->perm == b->perm && strcmp(a->sid, b->sid) == 0;
}

static void
check_same_grants(const struct job_matrix *m, const struct grant *want, size_t n)
{
    if (m->n_grants != n)
        fprintf(stderr, "%zu grants, expected %zu\n", m->n_grants, n);
    CHECK(m->n_grants == n);
    for (size_t i = 0; i < n; i++) {
        if (!same_grant(&m->grants[i], &want[i]))
            fprintf(stderr, "grant %zu: %d %d '%s', expected %d %d '%s'\n", i,
                    m->grants[i].kind, m->grants[i].perm, m->grants[i].sid, want[i].kind,
                    want[i].perm, want[i].sid);
        CHECK(same_grant(&m->grants[i], &want[i]));
    }
}

static void
check_perm(const char *s)
{
    enum perm p, q;
    int r = perm_parse(s, &p);

    CHECK(r == 0 || r == -ENOENT || r == -EINVAL);
    if (r < 0)
        return;
    CHECK(p < _PERM_MAX);
    CHECK(perm_parse(perm_id(p), &q) == 0 && q == p);
    CHECK(perm_parse(perm_name(p), &q) == 0 && q == p);
    CHECK(perm_implied(p) & PERM_BIT(p));
}

static void
check_grant(const char *s)
{
    struct grant g, again;
    char *text, *text2;
    int r = grant_parse(s, &g);

    CHECK(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENOMEM);
    if (r < 0) {
        CHECK(!g.sid);
        return;
    }
    CHECK(g.sid && *g.sid && g.perm < _PERM_MAX);
    text = grant_format(&g);
    CHECK(text);
    r = grant_parse(text, &again);
    if (r != 0)
        fprintf(stderr, "'%s' formats to '%s', which does not parse: %d\n", s, text, r);
    CHECK(r == 0);
    CHECK(same_grant(&g, &again));
    text2 = grant_format(&again);
    CHECK(text2 && strcmp(text, text2) == 0);
    free(text);
    free(text2);
    free(g.sid);
    free(again.sid);
}

/* `s` without leading and trailing XML whitespace, as jobcfg reads an entry */
static char *
trim(char *s)
{
    size_t n;

    s += strspn(s, " \t\n\r");
    n = strlen(s);
    while (n > 0 && strchr(" \t\n\r", s[n - 1]))
        n--;
    s[n] = '\0';
    return s;
}

static void
append_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': CHECK(buf_puts(b, "&amp;") == 0); break;
        case '<': CHECK(buf_puts(b, "&lt;") == 0); break;
        case '>': CHECK(buf_puts(b, "&gt;") == 0); break;
        case '\r': CHECK(buf_puts(b, "&#13;") == 0); break;
        default: CHECK(buf_putc(b, *s) == 0);
        }
    }
}

/* Sets `grants`, writes, parses again: the same grants must come back. */
static void
check_set_matrix(struct job_config *cfg, bool inherit, const struct grant *grants, size_t n)
{
    struct job_config *again = NULL;
    char *xml = NULL, *xml2 = NULL, *msg = NULL;
    size_t len, len2;
    int r;

    r = jobcfg_set_matrix(cfg, inherit, grants, n);
    CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
    if (r < 0)
        return;
    r = jobcfg_write(cfg, &xml, &len);
    CHECK(r == 0 || r == -ENOMEM);
    if (r < 0)
        return;
    r = jobcfg_parse(xml, len, &again, &msg);
    if (r < 0)
        fprintf(stderr, "written config does not parse: %d %s\n%.*s\n", r, msg ? msg : "",
                (int) len, xml);
    CHECK(r == 0);
    check_same_grants(&again->matrix, grants, n);
    CHECK(n == 0 || (again->matrix.present && again->matrix.inherit == inherit));
    r = jobcfg_write(again, &xml2, &len2);
    CHECK(r == 0 || r == -ENOMEM);
    CHECK(r < 0 || (len == len2 && memcmp(xml, xml2, len) == 0));
    free(xml);
    free(xml2);
    jobcfg_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const strategy[] = {
        "",
        "<inheritanceStrategy class=\"org.jenkinsci.plugins.matrixauth.inheritance."
        "InheritParentStrategy\"/>",
        "<inheritanceStrategy class=\"org.jenkinsci.plugins.matrixauth.inheritance."
        "NonInheritingStrategy\"/>",
        "<blocksInheritance>true</blocksInheritance>",
    };
    char *text, *lines[MAX_LINES];
    struct grant want[MAX_LINES], set[2 * MAX_LINES];
    size_t n_lines = 0, n_want = 0, n_set = 0;
    bool refused = false;
    struct buf xml;
    struct job_config *cfg = NULL;
    char *msg = NULL;
    uint8_t flags;
    int r;

    if (size < 1 || size > 16 * 1024)
        return 0;
    flags = data[0];
    text = malloc(size);
    CHECK(text);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    for (char *p = text, *nl; p && n_lines < MAX_LINES; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lines[n_lines++] = p;
    }

    /* perm.h alone */
    for (size_t i = 0; i < n_lines; i++) {
        check_perm(lines[i]);
        check_grant(lines[i]);
    }

    /* the lines as a job's matrix */
    buf_init(&xml, 1024 * 1024);
    CHECK(buf_puts(&xml, "<?xml version='1.1' encoding='UTF-8'?>\n<project><properties>"
                         "<hudson.security.AuthorizationMatrixProperty>") == 0);
    CHECK(buf_puts(&xml, strategy[flags & 3]) == 0);
    for (size_t i = 0; i < n_lines; i++) {
        char *copy;

        CHECK(buf_puts(&xml, "<permission>") == 0);
        append_escaped(&xml, lines[i]);
        CHECK(buf_puts(&xml, "</permission>") == 0);
        copy = strdup(lines[i]);
        CHECK(copy);
        r = grant_parse(trim(copy), &want[n_want]);
        if (r == 0)
            n_want++;
        refused |= r == -EINVAL;
        free(copy);
    }
    CHECK(buf_puts(&xml, "</hudson.security.AuthorizationMatrixProperty></properties>"
                         "<builders/></project>\n") == 0);
    r = jobcfg_parse(buf_str(&xml), xml.len, &cfg, &msg);
    CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
    if (r == 0) {
        CHECK(!refused);
        CHECK(cfg->matrix.present);
        CHECK(cfg->matrix.inherit == ((flags & 3) != 2 && (flags & 3) != 3));
        check_same_grants(&cfg->matrix, want, n_want);
    }
    free(msg);
    buf_release(&xml);

    /* set as a form would, written, read back */
    if (r != 0)
        CHECK(jobcfg_parse("<project/>", 10, &cfg, NULL) == 0);
    for (size_t i = 0; i < n_lines; i++) {
        if (grant_parse(lines[i], &set[n_set]) == 0)
            n_set++;
        if (grant_new(lines[i], (enum perm) ((flags >> 2) % _PERM_MAX), &set[n_set]) == 0)
            n_set++;
    }
    check_set_matrix(cfg, flags & 0x80, set, n_set);
    /* and the grants in another order, the first dropped */
    for (size_t i = 0; n_set > 1 && i < n_set / 2; i++) {
        struct grant t = set[i];
        set[i] = set[n_set - 1 - i];
        set[n_set - 1 - i] = t;
    }
    if (n_set > 0)
        check_set_matrix(cfg, !(flags & 0x80), set + 1, n_set - 1);

    jobcfg_free(cfg);
    for (size_t i = 0; i < n_want; i++)
        free(want[i].sid);
    for (size_t i = 0; i < n_set; i++)
        free(set[i].sid);
    free(text);
    return 0;
}
