/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/metrics.h"
#include "util/macro.h"
#include "util/strutil.h"

#define HTTP_MIN_STATUS 100
#define HTTP_MAX_STATUS 599

static _Atomic uint64_t triggers[_METRIC_TRIGGER_MAX];
static _Atomic uint64_t refusals[_METRIC_REFUSAL_MAX];
static _Atomic uint64_t auth_failures[_METRIC_AUTH_FAILURE_MAX];
static _Atomic uint64_t http[HTTP_MAX_STATUS - HTTP_MIN_STATUS + 1];
static _Atomic int64_t started_mono;
/* set while this thread answers a dry run: it counts no trigger and no refusal */
static _Thread_local bool quiet;

static const char *const trigger_names[] = {
    [METRIC_TRIGGER_ACCEPTED] = "accepted",
    [METRIC_TRIGGER_MERGED] = "merged",
};

static const char *const refusal_names[] = {
    [METRIC_REFUSAL_BAD_CREDENTIALS] = "bad_credentials",
    [METRIC_REFUSAL_LOGIN_NEEDED] = "login_needed",
    [METRIC_REFUSAL_PERMISSION] = "permission",
    [METRIC_REFUSAL_NO_SUCH_JOB] = "no_such_job",
    [METRIC_REFUSAL_WRONG_TOKEN] = "wrong_token",
    [METRIC_REFUSAL_API_TOKEN_AS_TRIGGER_TOKEN] = "api_token_as_trigger_token",
    [METRIC_REFUSAL_NO_TRIGGER_TOKEN] = "no_trigger_token",
    [METRIC_REFUSAL_MISSING_TOKEN] = "missing_token",
    [METRIC_REFUSAL_METHOD] = "method",
    [METRIC_REFUSAL_CRUMB] = "crumb",
    [METRIC_REFUSAL_DISABLED] = "disabled",
    [METRIC_REFUSAL_BAD_REQUEST] = "bad_request",
    [METRIC_REFUSAL_QUEUE_FULL] = "queue_full",
    [METRIC_REFUSAL_DISK_FULL] = "disk_full",
    [METRIC_REFUSAL_SHUTTING_DOWN] = "shutting_down",
    [METRIC_REFUSAL_ERROR] = "error",
};

static const char *const auth_failure_names[] = {
    [METRIC_AUTH_NO_SUCH_USER] = "no_such_user",
    [METRIC_AUTH_BAD_SECRET] = "bad_secret",
    [METRIC_AUTH_TOKEN_OF_OTHER_USER] = "token_of_other_user",
    [METRIC_AUTH_THROTTLED] = "throttled",
    [METRIC_AUTH_MALFORMED] = "malformed",
    [METRIC_AUTH_METRICS_TOKEN] = "metrics_token",
};

_Static_assert(ELEMENTSOF(trigger_names) == _METRIC_TRIGGER_MAX, "a name for every trigger outcome");
_Static_assert(ELEMENTSOF(refusal_names) == _METRIC_REFUSAL_MAX, "a name for every refusal");
_Static_assert(ELEMENTSOF(auth_failure_names) == _METRIC_AUTH_FAILURE_MAX,
               "a name for every authentication failure");

/* Counting is on hot paths: no ordering with anything else is needed, only atomicity. */
static inline void
bump(_Atomic uint64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static inline uint64_t
peek(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void
metrics_count_trigger(enum metric_trigger what)
{
    assert((unsigned) what < _METRIC_TRIGGER_MAX);
    if (!quiet)
        bump(&triggers[what]);
}

void
metrics_count_refusal(enum metric_refusal why)
{
    assert((unsigned) why < _METRIC_REFUSAL_MAX);
    if (!quiet)
        bump(&refusals[why]);
}

void
metrics_quiet(bool on)
{
    quiet = on;
}

void
metrics_count_auth_failure(enum metric_auth_failure kind)
{
    assert((unsigned) kind < _METRIC_AUTH_FAILURE_MAX);
    bump(&auth_failures[kind]);
}

void
metrics_count_http(int status)
{
    if (status >= HTTP_MIN_STATUS && status <= HTTP_MAX_STATUS)
        bump(&http[status - HTTP_MIN_STATUS]);
}

uint64_t
metrics_triggers(enum metric_trigger what)
{
    return (unsigned) what < _METRIC_TRIGGER_MAX ? peek(&triggers[what]) : 0;
}

uint64_t
metrics_refusals(enum metric_refusal why)
{
    return (unsigned) why < _METRIC_REFUSAL_MAX ? peek(&refusals[why]) : 0;
}

uint64_t
metrics_auth_failures(enum metric_auth_failure kind)
{
    return (unsigned) kind < _METRIC_AUTH_FAILURE_MAX ? peek(&auth_failures[kind]) : 0;
}

uint64_t
metrics_http(int status)
{
    if (status < HTTP_MIN_STATUS || status > HTTP_MAX_STATUS)
        return 0;
    return peek(&http[status - HTTP_MIN_STATUS]);
}

const char *
metric_trigger_name(enum metric_trigger what)
{
    return (unsigned) what < _METRIC_TRIGGER_MAX ? trigger_names[what] : "unknown";
}

const char *
metric_refusal_name(enum metric_refusal why)
{
    return (unsigned) why < _METRIC_REFUSAL_MAX ? refusal_names[why] : "unknown";
}

const char *
metric_auth_failure_name(enum metric_auth_failure kind)
{
    return (unsigned) kind < _METRIC_AUTH_FAILURE_MAX ? auth_failure_names[kind] : "unknown";
}

void
metrics_mark_start(void)
{
    atomic_store_explicit(&started_mono, mono_ms(), memory_order_relaxed);
}

int64_t
metrics_uptime_ms(void)
{
    int64_t t = atomic_load_explicit(&started_mono, memory_order_relaxed);

    return t ? mono_ms() - t : 0;
}
