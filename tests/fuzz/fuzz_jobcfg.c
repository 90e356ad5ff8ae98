/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for jobcfg_parse() and jobcfg_write().
 *
 * Whatever parses must write, and what we write must parse again to the
 * same config; writing that again must give the same bytes. Then the config
 * is changed through the setters (params reversed or added, shell steps
 * dropped or added, scalars flipped) and the same must hold.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *           $(pkg-config --cflags libxml-2.0) src/core/jobcfg.c src/core/perm.c \
 *           src/util/strutil.c src/util/buf.c tests/fuzz/fuzz_jobcfg.c \
 *           $(pkg-config --libs libxml-2.0)
 * Replay without libFuzzer (e.g. the corpus in the normal test run): add
 * -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#ifndef _GNU_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem() */
#endif
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobcfg.h"
#include "fuzz.h"

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_same(const struct job_config *a, const struct job_config *b)
{
    CHECK(str_eq(a->description, b->description));
    CHECK(a->disabled == b->disabled);
    CHECK(a->concurrent_build == b->concurrent_build);
    CHECK(a->quiet_period == b->quiet_period);
    CHECK(str_eq(a->auth_token, b->auth_token));
    CHECK(a->n_params == b->n_params);
    for (size_t i = 0; i < a->n_params; i++) {
        const struct param_def *p = &a->params[i], *q = &b->params[i];

        CHECK(p->type == q->type);
        CHECK(str_eq(p->name, q->name));
        CHECK(str_eq(p->description, q->description));
        CHECK(str_eq(p->default_value, q->default_value));
        CHECK(p->trim == q->trim);
        CHECK(p->n_choices == q->n_choices);
        for (size_t j = 0; j < p->n_choices; j++)
            CHECK(str_eq(p->choices[j], q->choices[j]));
    }
    CHECK(a->n_shell_steps == b->n_shell_steps);
    for (size_t i = 0; i < a->n_shell_steps; i++)
        CHECK(str_eq(a->shell_steps[i], b->shell_steps[i]));
}

/*
 * Writes `cfg`, parses the output and compares; writes the result again and
 * expects the same bytes. Returns false when the output is over the size
 * bound or memory ran out (both allowed), aborts on anything else.
 */
static bool round_trip(struct job_config *cfg)
{
    struct job_config *again = NULL;
    char *xml = NULL, *xml2 = NULL, *msg = NULL;
    size_t len, len2;
    int r;

    r = jobcfg_write(cfg, &xml, &len);
    if (r == -E2BIG || r == -ENOMEM)
        return false;
    CHECK(r == 0);
    CHECK(strlen(xml) <= len); /* NUL-terminated */

    r = jobcfg_parse(xml, len, &again, &msg);
    if (r == -ENOMEM)
        goto out;
    if (r < 0)
        fprintf(stderr, "written config does not parse: %d %s\n%.*s\n", r, msg ? msg : "",
                (int) len, xml);
    CHECK(r == 0);
    check_same(cfg, again);

    r = jobcfg_write(again, &xml2, &len2);
    CHECK(r == 0 || r == -ENOMEM);
    if (r == 0) {
        if (len != len2 || memcmp(xml, xml2, len) != 0)
            fprintf(stderr, "second write differs:\n%.*s\n---\n%.*s\n", (int) len, xml,
                    (int) len2, xml2);
        CHECK(len == len2 && memcmp(xml, xml2, len) == 0);
    }
out:
    free(msg);
    free(xml);
    free(xml2);
    jobcfg_free(again);
    return true;
}

/* Changes every managed field in a way that keeps the config valid. */
static void mutate(struct job_config *cfg, bool may_add_param, bool may_add_step)
{
    static char *choices[] = { "one", "two & <three>" };
    struct param_def *rev = calloc(cfg->n_params + 1, sizeof(*rev));
    const char **steps = calloc(cfg->n_shell_steps + 1, sizeof(char *));
    size_t n_params = cfg->n_params, n_steps;

    CHECK(rev && steps);
    for (size_t i = 0; i < n_params; i++)
        rev[i] = cfg->params[n_params - 1 - i];
    if (n_params == 0 && may_add_param)
        rev[n_params++] = (struct param_def){
            .type = PARAM_CHOICE, .name = "FUZZ", .choices = choices, .n_choices = 2
        };
    CHECK(jobcfg_set_params(cfg, rev, n_params) == 0);

    if (cfg->n_shell_steps == 0 && may_add_step) {
        steps[0] = "echo added\n";
        n_steps = 1;
    } else {
        n_steps = cfg->n_shell_steps ? cfg->n_shell_steps - 1 : 0; /* reversed, the first dropped */
        for (size_t i = 0; i < n_steps; i++)
            steps[i] = cfg->shell_steps[cfg->n_shell_steps - 1 - i];
    }
    CHECK(jobcfg_set_shell_steps(cfg, steps, n_steps) == 0);

    CHECK(jobcfg_set_description(cfg, cfg->description ? NULL : "  set <by> fuzz\n") == 0);
    CHECK(jobcfg_set_auth_token(cfg, cfg->auth_token ? NULL : "tok&en") == 0);
    cfg->disabled = !cfg->disabled;
    cfg->concurrent_build = !cfg->concurrent_build;
    cfg->quiet_period = cfg->quiet_period < 0 ? 7 : -1;
    free(rev);
    free(steps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct job_config *cfg = NULL;
    char *msg = NULL;
    int r;

    r = jobcfg_parse((const char *) data, size, &cfg, &msg);
    if (r < 0) {
        CHECK(!cfg);
        CHECK(r == -EINVAL || r == -E2BIG || r == -ENOMEM);
        CHECK(r != -EINVAL || msg);
        free(msg);
        return 0;
    }
    CHECK(cfg && !msg);

    if (round_trip(cfg)) {
        /*
         * A new parameter could clash with one of another class in the
         * document, a new step could be one builder too many.
         */
        size_t elements = 0;

        for (size_t i = 0; i < size; i++)
            elements += data[i] == '<';
        mutate(cfg, !memmem(data, size, "parameterDefinitions", 20), elements < 100);
        (void) round_trip(cfg);
    }
    jobcfg_free(cfg);
    return 0;
}
