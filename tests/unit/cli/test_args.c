/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/args.h"
#include "util/macro.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int) (sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, err, ...) args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a), (err))

/* Parses a command line that must be refused; returns the message (to be freed). */
#define REFUSED(...)                                                                               \
    ({                                                                                             \
        struct cli_args _a;                                                                        \
        char *_err = NULL;                                                                         \
        assert_int_equal(PARSE(&_a, &_err, __VA_ARGS__), -EINVAL);                                 \
        assert_non_null(_err);                                                                     \
        _err;                                                                                      \
    })

static void
assert_refused_with(char *msg, const char *part)
{
    if (!strstr(msg, part))
        fail_msg("'%s' does not say '%s'", msg, part);
    free(msg);
}

static void
build__takes_job_params_and_flags_in_any_order(void **state)
{
    struct cli_args a;
    char *err = NULL;

    (void) state;
    assert_int_equal(PARSE(&a, &err, "build", "-p", "A=1", "myjob", "--param=B=two words",
                           "-pC=", "--wait", "--timeout", "2.5", "--trigger-token", "t0k"),
                     0);
    assert_int_equal(a.cmd, CMD_BUILD);
    assert_int_equal(a.n_pos, 1);
    assert_string_equal(a.pos[0], "myjob");
    assert_int_equal(a.n_params, 3);
    assert_string_equal(a.params[0], "A=1");
    assert_string_equal(a.params[1], "B=two words");
    assert_string_equal(a.params[2], "C=");
    assert_true(a.wait);
    assert_false(a.follow);
    assert_int_equal(a.timeout_ms, 2500);
    assert_string_equal(a.trigger_token, "t0k");
    args_release(&a);
}

static void
build__follow_implies_wait(void **state)
{
    struct cli_args a;

    (void) state;
    assert_int_equal(PARSE(&a, NULL, "build", "j", "-f"), 0);
    assert_true(a.follow);
    assert_true(a.wait);
    args_release(&a);
}

static void
short_flags__combine(void **state)
{
    struct cli_args a;

    (void) state;
    assert_int_equal(PARSE(&a, NULL, "build", "-wv", "j"), 0);
    assert_true(a.wait);
    assert_true(a.verbose);
    args_release(&a);
}

static void
double_dash__ends_options(void **state)
{
    struct cli_args a;

    (void) state;
    assert_int_equal(PARSE(&a, NULL, "log", "--", "-odd-job-name"), 0);
    assert_int_equal(a.n_pos, 1);
    assert_string_equal(a.pos[0], "-odd-job-name");
    args_release(&a);
}

static void
connection_options__on_every_remote_command(void **state)
{
    static const char *const cmds[] = { "jobs", "queue", "whoami" };
    struct cli_args a;

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(cmds); i++) {
        assert_int_equal(PARSE(&a, NULL, (char *) cmds[i], "--url", "http://h/", "--user=u",
                               "--token", "t", "--timeout=1m"),
                         0);
        assert_string_equal(a.url, "http://h/");
        assert_string_equal(a.user, "u");
        assert_string_equal(a.token, "t");
        assert_int_equal(a.timeout_ms, 60000);
        args_release(&a);
    }
}

static void
option_of_another_command__is_a_usage_error(void **state)
{
    (void) state;
    assert_refused_with(REFUSED("jobs", "--follow"), "--follow is not an option of 'jobs'");
    assert_refused_with(REFUSED("queue", "-p", "A=1"), "--param is not an option of 'queue'");
}

static void
unknown_option__is_named(void **state)
{
    (void) state;
    assert_refused_with(REFUSED("build", "j", "--wiat"), "unknown option --wiat");
    assert_refused_with(REFUSED("build", "j", "-x"), "unknown option -x");
}

static void
params__need_a_name_and_come_once(void **state)
{
    (void) state;
    assert_refused_with(REFUSED("build", "j", "-p", "NOEQUALS"), "NAME=VALUE");
    assert_refused_with(REFUSED("build", "j", "-p", "=v"), "NAME=VALUE");
    assert_refused_with(REFUSED("build", "j", "-p", "A=1", "-p", "A=2"), "A is given twice");
}

static void
values__are_required(void **state)
{
    (void) state;
    assert_refused_with(REFUSED("build", "j", "--trigger-token"), "needs a value");
    assert_refused_with(REFUSED("build", "j", "-p"), "needs a value");
    assert_refused_with(REFUSED("build", "j", "--wait=yes"), "takes no value");
}

static void
timeout__takes_positive_durations(void **state)
{
    int64_t ms = 0;

    (void) state;
    assert_int_equal(args_parse_duration("1", &ms), 0);
    assert_int_equal(ms, 1000);
    assert_int_equal(args_parse_duration("0.25", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(args_parse_duration("90s", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(args_parse_duration("2h", &ms), 0);
    assert_int_equal(ms, 7200000);
    assert_int_equal(args_parse_duration("0", &ms), -EINVAL);
    assert_int_equal(args_parse_duration("-1", &ms), -EINVAL);
    assert_int_equal(args_parse_duration("10x", &ms), -EINVAL);
    assert_int_equal(args_parse_duration("", &ms), -EINVAL);
    assert_int_equal(args_parse_duration("nan", &ms), -EINVAL);
    assert_refused_with(REFUSED("build", "j", "--timeout", "soon"), "--timeout takes seconds");
}

static void
arity__is_checked_per_command(void **state)
{
    (void) state;
    assert_refused_with(REFUSED("build"), "needs more arguments");
    assert_refused_with(REFUSED("build", "a", "b"), "takes no argument 'b'");
    assert_refused_with(REFUSED("stop", "j"), "usage: steward stop JOB NUMBER");
    assert_refused_with(REFUSED("jobs", "extra"), "takes no argument 'extra'");
    assert_refused_with(REFUSED("token", "delete", "x"), "new, list or revoke");
    assert_refused_with(REFUSED("token", "new"), "steward token new NAME");
    assert_refused_with(REFUSED("token", "list", "x"), "steward token list");
}

static void
help__skips_the_arity_check(void **state)
{
    struct cli_args a;

    (void) state;
    assert_int_equal(PARSE(&a, NULL, "build", "--help"), 0);
    assert_true(a.help);
    args_release(&a);
    assert_int_equal(PARSE(&a, NULL, "help", "build"), 0);
    assert_int_equal(a.cmd, CMD_HELP);
    args_release(&a);
}

static void
token_and_token_stdin__exclude_each_other(void **state)
{
    (void) state;
    assert_refused_with(REFUSED("whoami", "--token", "x", "--token-stdin"), "do not go together");
}

static void
commands__are_known_by_name(void **state)
{
    (void) state;
    assert_int_equal(args_find_command("build"), CMD_BUILD);
    assert_int_equal(args_find_command("token"), CMD_TOKEN);
    assert_int_equal(args_find_command("help"), CMD_HELP);
    assert_int_equal(args_find_command("serve"), -1);
    assert_int_equal(args_find_command("user"), -1);
    assert_int_equal(args_find_command(NULL), -1);
    assert_refused_with(REFUSED("frobnicate"), "unknown command 'frobnicate'");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(build__takes_job_params_and_flags_in_any_order),
        cmocka_unit_test(build__follow_implies_wait),
        cmocka_unit_test(short_flags__combine),
        cmocka_unit_test(double_dash__ends_options),
        cmocka_unit_test(connection_options__on_every_remote_command),
        cmocka_unit_test(option_of_another_command__is_a_usage_error),
        cmocka_unit_test(unknown_option__is_named),
        cmocka_unit_test(params__need_a_name_and_come_once),
        cmocka_unit_test(values__are_required),
        cmocka_unit_test(timeout__takes_positive_durations),
        cmocka_unit_test(arity__is_checked_per_command),
        cmocka_unit_test(help__skips_the_arity_check),
        cmocka_unit_test(token_and_token_stdin__exclude_each_other),
        cmocka_unit_test(commands__are_known_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
