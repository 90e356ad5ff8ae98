/* SPDX-License-Identifier: MIT */
/*
 * Reading JUnit XML reports; see core/junit.h. The parse is config.xml's
 * (core/jobcfg_load.c), with its guards against hostile XML.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/archive.h"
#include "core/jobcfg_int.h"
#include "core/junit.h"
#include "util/bounds.h"
#include "util/strutil.h"

void
junit_result_release(struct junit_result *res)
{
    test_case_rows_free(res->cases, res->n_cases);
    free(res->error);
    free(res->old_path);
    free(res->first_left_out);
    *res = (struct junit_result){ 0 };
}

/* Sets res->error (the first one only) and returns -EINVAL. */
static int _printf_(2, 3) fail(struct junit_result *res, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    if (res->error)
        return -EINVAL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    res->error = s;
    return s ? -EINVAL : -ENOMEM;
}

/*
 * Cuts `b` (the first bytes of a text of `total` bytes) to at most `max`
 * bytes at a character boundary, saying how much was left out.
 */
static int
clip(struct buf *b, size_t max, size_t total)
{
    size_t n = total, cut;
    char note[64];

    if (n <= max)
        return 0;
    cut = max;
    while (cut > 0 && ((unsigned char) b->ptr[cut] & 0xC0) == 0x80)
        cut--;
    b->len = cut;
    b->ptr[cut] = '\0';
    snprintf(note, sizeof note, "\n...[%zu bytes left out]", n - cut);
    return buf_puts(b, note);
}

/* The text and CDATA directly inside `n`, at most `max` bytes; NULL (and 0) without any. */
static int
text_of(const xmlNode *n, size_t max, char **ret)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(SIZE_MAX / 2);
    size_t total = 0;
    bool any = false;

    *ret = NULL;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            size_t len = strlen((const char *) c->content);

            any = true;
            total += len;
            /* past max + 1 the rest is only counted */
            if (b.len <= max && buf_append(&b, c->content, MIN(len, max + 1 - b.len)) < 0)
                return -ENOMEM;
        }
    }
    if (!any)
        return 0;
    if (clip(&b, max, total) < 0)
        return -ENOMEM;
    *ret = buf_detach(&b);
    return *ret ? 0 : -ENOMEM;
}

/* An attribute's value, at most `max` bytes; NULL (and 0) when absent. */
static int
attr(const xmlNode *n, const char *name, size_t max, char **ret)
{
    _cleanup_(xml_free_strp) xmlChar *v = xmlGetProp(n, BAD_CAST name);
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(SIZE_MAX / 2);

    *ret = NULL;
    if (!v)
        return 0;
    if (buf_append(&b, v, MIN(strlen((const char *) v), max + 1)) < 0 ||
        clip(&b, max, strlen((const char *) v)) < 0)
        return -ENOMEM;
    *ret = buf_detach(&b);
    return *ret ? 0 : -ENOMEM;
}

/* Seconds from a time="" attribute: "1.5", "1,234.5"; anything else is 0. */
static double
seconds(const xmlNode *n)
{
    _cleanup_free_ char *v = NULL;
    char digits[64], *end;
    size_t k = 0;
    double d;

    if (attr(n, "time", 60, &v) < 0 || !v)
        return 0;
    for (const char *p = v; *p && k < sizeof digits - 1; p++)
        if (*p != ',')
            digits[k++] = *p;
    digits[k] = '\0';
    d = strtod(digits, &end);
    return end == digits || !isfinite(d) || d < 0 || d > 1e9 ? 0 : d;
}

/* What a case costs the server until it is stored. */
static uint64_t
case_bytes(const struct test_case_row *c)
{
    const char *const texts[] = { c->suite,      c->class_name,      c->name,
                                  c->status,     c->error_details,   c->error_stack,
                                  c->skipped_message, c->stdout_text, c->stderr_text };
    uint64_t n = sizeof *c;

    for (size_t i = 0; i < ELEMENTSOF(texts); i++)
        if (texts[i])
            n += strlen(texts[i]) + 1;
    return n;
}

struct reader {
    struct junit_result *res;
    const char *path;
    bool keep_long_stdio;
    int64_t since_ms;
};

static int
read_case(struct reader *rd, const xmlNode *tc, const char *suite)
{
    struct junit_result *res = rd->res;
    size_t stdio_max = rd->keep_long_stdio ? JUNIT_MAX_LONG_STDIO : JUNIT_MAX_STDIO;
    struct test_case_row c = { 0 };
    _cleanup_free_ char *ctest_status = NULL;
    const char *status = "PASSED";
    int r;

    if (res->n_cases >= JUNIT_MAX_CASES) {
        res->truncated = true;
        return 0;
    }
    if (res->n_cases == res->cap_cases) {
        size_t cap = res->cap_cases ? res->cap_cases * 2 : 64;
        struct test_case_row *v = realloc(res->cases, cap * sizeof *v);

        if (!v)
            return -ENOMEM;
        res->cases = v;
        res->cap_cases = cap;
    }
    r = attr(tc, "classname", JUNIT_MAX_NAME, &c.class_name);
    if (r >= 0)
        r = attr(tc, "name", JUNIT_MAX_NAME, &c.name);
    if (r >= 0)
        r = attr(tc, "status", 32, &ctest_status);
    for (const xmlNode *k = tc->children; r >= 0 && k; k = k->next) {
        if (cfg_node_is(k, "failure") || cfg_node_is(k, "error")) {
            /* the first failure is the case's; an <error> after a <failure> adds nothing */
            if (streq(status, "FAILED"))
                continue;
            status = "FAILED";
            r = attr(k, "message", JUNIT_MAX_DETAILS, &c.error_details);
            if (r >= 0)
                r = text_of(k, JUNIT_MAX_STACK, &c.error_stack);
        } else if (cfg_node_is(k, "skipped")) {
            if (streq(status, "FAILED"))
                continue;
            status = "SKIPPED";
            free(c.skipped_message);
            c.skipped_message = NULL;
            r = attr(k, "message", JUNIT_MAX_DETAILS, &c.skipped_message);
        } else if (cfg_node_is(k, "system-out") && !c.stdout_text) {
            r = text_of(k, stdio_max, &c.stdout_text);
        } else if (cfg_node_is(k, "system-err") && !c.stderr_text) {
            r = text_of(k, stdio_max, &c.stderr_text);
        }
    }
    /* ctest says so in an attribute, with or without a <skipped> */
    if (r >= 0 && ctest_status && streq(status, "PASSED") &&
        (streq(ctest_status, "notrun") || streq(ctest_status, "disabled")))
        status = "SKIPPED";
    if (r >= 0 && (!c.class_name || !c.class_name[0])) {
        free(c.class_name);
        c.class_name = strdup(suite ? suite : "");
    }
    if (r >= 0 && (!c.name || !c.name[0])) {
        free(c.name);
        c.name = strdup("(empty)");
    }
    c.suite = strdup(suite ? suite : "");
    c.status = strdup(status);
    c.duration = seconds(tc);
    if (r >= 0 && (!c.class_name || !c.name || !c.suite || !c.status))
        r = -ENOMEM;
    if (r < 0) {
        test_case_row_release(&c);
        return r;
    }
    if (res->cases_left_out || res->kept_bytes + case_bytes(&c) > (uint64_t) BOUND_JUNIT_KEPT_BYTES) {
        res->cases_left_out++;
        test_case_row_release(&c);
        return 0;
    }
    res->kept_bytes += case_bytes(&c);
    res->cases[res->n_cases++] = c;
    return 0;
}

static int
read_suite(struct reader *rd, const xmlNode *suite)
{
    _cleanup_free_ char *name = NULL;
    int r;

    r = attr(suite, "name", JUNIT_MAX_NAME, &name);
    for (const xmlNode *k = suite->children; r >= 0 && k; k = k->next) {
        if (cfg_node_is(k, "testcase"))
            r = read_case(rd, k, name);
        else if (cfg_node_is(k, "testsuite"))
            r = read_suite(rd, k);
    }
    return r;
}

int
junit_parse(const char *xml, size_t len, const char *path, bool keep_long_stdio,
            struct junit_result *res)
{
    _cleanup_(xml_free_docp) xmlDoc *doc = NULL;
    _cleanup_free_ char *msg = NULL;
    struct reader rd = { .res = res, .path = path, .keep_long_stdio = keep_long_stdio };
    size_t first = res->n_cases;
    struct quiet q;
    xmlNode *root;
    int r;

    if (len > JUNIT_MAX_FILE_BYTES)
        return fail(res, "%s: the report is larger than %d MiB", path, JUNIT_MAX_FILE_BYTES >> 20);
    if (len == 0)
        return fail(res, "%s: the report is empty", path);
    if (memchr(xml, '\0', len))
        return fail(res, "%s: the report contains a NUL byte (UTF-16 and UTF-32 are not supported)",
                    path);
    (void) pthread_once(&cfg_xml_once, cfg_xml_init);
    q = cfg_quiet_begin();
    r = cfg_parse_xml(xml, len, "the report", &doc, &msg);
    cfg_quiet_end(&q);
    if (r < 0)
        return r == -EINVAL ? fail(res, "%s: %s", path, msg ? msg : "not a JUnit report") : r;
    root = xmlDocGetRootElement(doc);
    if (cfg_node_is(root, "testsuites") || cfg_node_is(root, "testsuite"))
        r = read_suite(&rd, root);
    else
        r = fail(res, "%s: the root element is <%s>, not <testsuites> or <testsuite>", path,
                 root ? CLIP((const char *) root->name) : "(none)");
    if (r < 0) {
        /* none of a bad report's cases stays */
        for (size_t i = first; i < res->n_cases; i++) {
            res->kept_bytes -= case_bytes(&res->cases[i]);
            test_case_row_release(&res->cases[i]);
        }
        res->n_cases = first;
    }
    return r;
}

static int
read_report(struct reader *rd, int dirfd, const char *name, const char *path)
{
    struct junit_result *res = rd->res;
    _cleanup_close_ int fd = -1;
    _cleanup_free_ char *xml = NULL;
    struct stat st;
    size_t got = 0;
    int r;

    if (res->n_files + res->n_old >= JUNIT_MAX_FILES) {
        r = fail(res, "more than %d files match the test report pattern", JUNIT_MAX_FILES);
        return r == -EINVAL ? -E2BIG : r;
    }
    /* O_NONBLOCK: a FIFO put there in the file's place must not hang the reader */
    fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) < 0)
        return fail(res, "%s: cannot open the report: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(res, "%s: the report is not a regular file", path);
    {
        int64_t mtime_ms = (int64_t) st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;

        if (mtime_ms < rd->since_ms - JUNIT_OLD_MARGIN_MS) {
            if (!res->n_old++) {
                res->old_path = strdup(path);
                res->old_age_ms = rd->since_ms - mtime_ms;
            }
            return 0;
        }
    }
    res->n_files++;
    if (st.st_size > JUNIT_MAX_FILE_BYTES)
        return fail(res, "%s: the report is larger than %d MiB (%lld bytes)", path,
                    JUNIT_MAX_FILE_BYTES >> 20, (long long) st.st_size);
    /* past the build's budget, this report and the next ones are left out */
    if (res->files_left_out || res->cases_left_out ||
        res->read_bytes + (uint64_t) st.st_size > (uint64_t) BOUND_JUNIT_READ_BYTES) {
        if (!res->files_left_out++ && !(res->first_left_out = strdup(path)))
            return -ENOMEM;
        return 0;
    }
    res->read_bytes += (uint64_t) st.st_size;
    xml = malloc((size_t) st.st_size + 1);
    if (!xml)
        return -ENOMEM;
    while (got < (size_t) st.st_size) {
        ssize_t n = read(fd, xml + got, (size_t) st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail(res, "%s: cannot read the report: %s", path,
                        n < 0 ? strerror(errno) : "it became shorter");
        got += (size_t) n;
    }
    xml[got] = '\0';
    return junit_parse(xml, got, path, rd->keep_long_stdio, res);
}

/* A report that cannot be read is said (res->error, the first one) and the others are read. */
static int
visit(void *ctx, int dirfd, const char *name, const char *path)
{
    int r = read_report(ctx, dirfd, name, path);

    return r == -EINVAL ? 0 : r;
}

int
junit_collect(const char *workspace, const char *globs, bool keep_long_stdio, int64_t since_ms,
              const bool *cancel, struct junit_result *res)
{
    struct reader rd = { .res = res, .keep_long_stdio = keep_long_stdio, .since_ms = since_ms };
    int r;

    r = archive_find(workspace, globs, NULL, cancel, visit, &rd);
    /* too many files is res->error's to say */
    return r == -E2BIG && res->error ? 0 : r;
}

static int
store_cases(struct store *s, const char *job, int64_t number, double health_scale,
            const bool *cancel, struct junit_result *res, struct test_summary *ret_sum)
{
    struct test_summary sum = { .health_scale = health_scale };
    int r;

    for (size_t first = 0; first < res->n_cases; first += JUNIT_CASES_PER_COMMIT) {
        size_t n = MIN(res->n_cases - first, (size_t) JUNIT_CASES_PER_COMMIT);

        if (cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED))
            return -ECANCELED;
        r = store_begin_lazy(s);
        if (r >= 0)
            r = store_tests_add(s, job, number, first, res->cases + first, n, &sum);
        if (r >= 0)
            r = store_commit(s);
        if (r < 0) {
            (void) store_rollback(s);
            return r;
        }
    }
    r = store_begin_lazy(s);
    if (r >= 0)
        r = store_tests_finish(s, job, number, &sum);
    if (r >= 0)
        r = store_commit(s);
    if (r < 0) {
        (void) store_rollback(s);
        return r;
    }
    *ret_sum = sum;
    return 0;
}

int
junit_store(const char *db_path, const char *job, int64_t number, double health_scale,
            const bool *cancel, struct junit_result *res, struct test_summary *ret_sum)
{
    _cleanup_(store_closep) struct store *s = NULL;
    int r;

    r = store_open(db_path, &s);
    if (r < 0)
        return r;
    r = store_cases(s, job, number, health_scale, cancel, res, ret_sum);
    /* the parts already committed go (a crash meanwhile: engine_start()'s recovery does it) */
    if (r < 0)
        (void) store_tests_forget_partial(s, job, number);
    return r;
}
