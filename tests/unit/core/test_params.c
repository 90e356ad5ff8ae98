/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/params.h"
#include "util/bounds.h"
#include "util/macro.h"

static const char xml[] =
    "<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
    "<hudson.model.StringParameterDefinition><name>WHO</name><defaultValue>world</defaultValue>"
    "<trim>true</trim></hudson.model.StringParameterDefinition>"
    "<hudson.model.ChoiceParameterDefinition><name>MODE</name><choices class=\"java.util.Arrays$ArrayList\">"
    "<a class=\"string-array\"><string>debug</string><string>release</string></a></choices>"
    "</hudson.model.ChoiceParameterDefinition>"
    "<hudson.model.BooleanParameterDefinition><name>CLEAN</name><defaultValue>true</defaultValue>"
    "</hudson.model.BooleanParameterDefinition>"
    "</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties>"
    "<builders/></project>";

/* Values by name from a NULL-terminated list of name, value pairs. */
static const char *from_pairs(void *userdata, const struct param_def *d)
{
    const char *const *kv = userdata;

    for (; kv[0]; kv += 2)
        if (strcmp(kv[0], d->name) == 0)
            return kv[1];
    return NULL;
}

static struct job_config *config(void)
{
    struct job_config *cfg = NULL, *sum = NULL;

    assert_int_equal(jobcfg_parse(xml, strlen(xml), &cfg, NULL), 0);
    /* what the registry holds, and what every caller gives */
    assert_int_equal(jobcfg_summary(cfg, &sum), 0);
    jobcfg_free(cfg);
    return sum;
}

static void params_resolve__takes_given_values_and_defaults_by_jenkins_rules(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = config();
    const char *given[] = { "WHO", "  you  ", "CLEAN", "TRUE", NULL };
    struct param_value out[3];
    struct param_refusal no;

    (void) state;
    assert_int_equal(params_resolve(cfg, from_pairs, given, out, &no), 0);
    assert_string_equal(out[0].name, "WHO");
    assert_string_equal(out[0].value, "you");        /* trimmed, as the definition asks */
    assert_string_equal(out[1].value, "debug");      /* a choice's default is its first */
    assert_string_equal(out[2].value, "true");
    params_free(out, 3);

    assert_int_equal(params_defaults(cfg, out), 0);
    assert_string_equal(out[0].value, "world");
    assert_string_equal(out[2].value, "true");
    params_free(out, 3);
}

static void params_resolve__refuses_a_bad_value_and_says_which(void **state)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = config();
    _cleanup_free_ char *big = malloc(BOUND_PARAM_VALUE_BYTES + 2);
    const char *choice[] = { "MODE", "fast", NULL };
    const char *utf8[] = { "WHO", "\xff\xfe", NULL };
    const char *longv[] = { "WHO", NULL, NULL };
    struct param_value out[3];
    struct param_refusal no;

    (void) state;
    assert_int_equal(params_resolve(cfg, from_pairs, choice, out, &no), -EINVAL);
    assert_string_equal(no.title, "Illegal choice");
    assert_non_null(strstr(no.presented, "'fast' is not a choice of parameter 'MODE'"));
    assert_non_null(strstr(no.fix, "'debug', 'release'"));
    for (size_t i = 0; i < 3; i++)
        assert_null(out[i].value);   /* nothing to free after a refusal */
    param_refusal_release(&no);

    assert_int_equal(params_resolve(cfg, from_pairs, utf8, out, &no), -EINVAL);
    assert_string_equal(no.title, "Parameter value is not UTF-8");
    param_refusal_release(&no);

    assert_non_null(big);
    memset(big, 'x', BOUND_PARAM_VALUE_BYTES + 1);
    big[BOUND_PARAM_VALUE_BYTES + 1] = '\0';
    longv[1] = big;
    assert_int_equal(params_resolve(cfg, from_pairs, longv, out, &no), -EINVAL);
    assert_string_equal(no.title, "Parameter value too long");
    assert_non_null(strstr(no.presented, "'WHO'"));
    param_refusal_release(&no);
    /* the bound itself is taken */
    big[BOUND_PARAM_VALUE_BYTES] = '\0';
    assert_int_equal(params_resolve(cfg, from_pairs, longv, out, &no), 0);
    params_free(out, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params_resolve__takes_given_values_and_defaults_by_jenkins_rules),
        cmocka_unit_test(params_resolve__refuses_a_bad_value_and_says_which),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
