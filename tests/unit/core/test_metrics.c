/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/metrics.h"
#include "util/macro.h"

static void metrics_count_trigger__counts_each_outcome_apart(void **state)
{
    uint64_t a = metrics_triggers(METRIC_TRIGGER_ACCEPTED), m = metrics_triggers(METRIC_TRIGGER_MERGED);

    (void) state;
    metrics_count_trigger(METRIC_TRIGGER_ACCEPTED);
    metrics_count_trigger(METRIC_TRIGGER_ACCEPTED);
    metrics_count_trigger(METRIC_TRIGGER_MERGED);
    assert_int_equal(metrics_triggers(METRIC_TRIGGER_ACCEPTED), a + 2);
    assert_int_equal(metrics_triggers(METRIC_TRIGGER_MERGED), m + 1);
}

static void metrics_count_http__counts_by_status_and_ignores_nonsense(void **state)
{
    uint64_t created = metrics_http(201), nf = metrics_http(404);

    (void) state;
    metrics_count_http(201);
    metrics_count_http(404);
    metrics_count_http(404);
    metrics_count_http(99);
    metrics_count_http(600);
    metrics_count_http(-1);
    assert_int_equal(metrics_http(201), created + 1);
    assert_int_equal(metrics_http(404), nf + 2);
    assert_int_equal(metrics_http(99), 0);
    assert_int_equal(metrics_http(600), 0);
}

static void metric_names__are_the_documented_label_values(void **state)
{
    (void) state;
    assert_string_equal(metric_trigger_name(METRIC_TRIGGER_ACCEPTED), "accepted");
    assert_string_equal(metric_trigger_name(METRIC_TRIGGER_MERGED), "merged");
    assert_string_equal(metric_refusal_name(METRIC_REFUSAL_WRONG_TOKEN), "wrong_token");
    assert_string_equal(metric_refusal_name(METRIC_REFUSAL_API_TOKEN_AS_TRIGGER_TOKEN),
                        "api_token_as_trigger_token");
    assert_string_equal(metric_refusal_name(METRIC_REFUSAL_QUEUE_FULL), "queue_full");
    assert_string_equal(metric_auth_failure_name(METRIC_AUTH_BAD_SECRET), "bad_secret");
    assert_string_equal(metric_auth_failure_name(METRIC_AUTH_METRICS_TOKEN), "metrics_token");
    assert_string_equal(metric_refusal_name(_METRIC_REFUSAL_MAX), "unknown");
    /* every name is a plain label value: lowercase and '_' */
    for (int i = 0; i < _METRIC_REFUSAL_MAX; i++)
        assert_int_equal(strspn(metric_refusal_name(i), "abcdefghijklmnopqrstuvwxyz_"),
                         strlen(metric_refusal_name(i)));
    for (int i = 0; i < _METRIC_AUTH_FAILURE_MAX; i++)
        assert_int_equal(strspn(metric_auth_failure_name(i), "abcdefghijklmnopqrstuvwxyz_"),
                         strlen(metric_auth_failure_name(i)));
}

#define THREADS 4
#define PER_THREAD 100000

static void *
count_refusals(void *arg)
{
    (void) arg;
    for (int i = 0; i < PER_THREAD; i++)
        metrics_count_refusal(METRIC_REFUSAL_QUEUE_FULL);
    return NULL;
}

static void metrics_count_refusal__loses_nothing_across_threads(void **state)
{
    uint64_t before = metrics_refusals(METRIC_REFUSAL_QUEUE_FULL);
    pthread_t t[THREADS];

    (void) state;
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, count_refusals, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(metrics_refusals(METRIC_REFUSAL_QUEUE_FULL), before + THREADS * PER_THREAD);
}

static void metrics_uptime_ms__is_0_until_the_start_is_marked(void **state)
{
    (void) state;
    assert_int_equal(metrics_uptime_ms(), 0);
    metrics_mark_start();
    assert_true(metrics_uptime_ms() >= 0);
    assert_true(metrics_uptime_ms() < 60 * 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metrics_uptime_ms__is_0_until_the_start_is_marked),
        cmocka_unit_test(metrics_count_trigger__counts_each_outcome_apart),
        cmocka_unit_test(metrics_count_http__counts_by_status_and_ignores_nonsense),
        cmocka_unit_test(metric_names__are_the_documented_label_values),
        cmocka_unit_test(metrics_count_refusal__loses_nothing_across_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
