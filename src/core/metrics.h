/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Process-wide counters for /prometheus/: triggers by outcome, refused
 * triggers by reason, failed authentication by kind, and HTTP answers by
 * status. Counting is one relaxed atomic increment, from any thread, with
 * no lock: it sits on the trigger path. A reader sees each counter's own
 * latest value, not one instant across all of them (Prometheus asks no
 * more). They start at zero with the process.
 *
 * The names below are label values that dashboards and alerts spell out:
 * add new ones, never rename one.
 */

#include <stdbool.h>
#include <stdint.h>

enum metric_trigger {
    METRIC_TRIGGER_ACCEPTED,  /* "accepted": a new queue item */
    METRIC_TRIGGER_MERGED,    /* "merged": merged into an identical waiting item */
    _METRIC_TRIGGER_MAX,
};

/* Why a trigger (over HTTP) was refused. */
enum metric_refusal {
    METRIC_REFUSAL_BAD_CREDENTIALS,   /* "bad_credentials": wrong Basic user or secret */
    METRIC_REFUSAL_LOGIN_NEEDED,      /* "login_needed": no token, no user */
    METRIC_REFUSAL_PERMISSION,        /* "permission": a user without Job/Build */
    METRIC_REFUSAL_NO_SUCH_JOB,       /* "no_such_job" */
    METRIC_REFUSAL_WRONG_TOKEN,       /* "wrong_token": not the job's trigger token */
    METRIC_REFUSAL_API_TOKEN_AS_TRIGGER_TOKEN, /* "api_token_as_trigger_token": a user API token in ?token= */
    METRIC_REFUSAL_NO_TRIGGER_TOKEN,  /* "no_trigger_token": token= for a job that has none */
    METRIC_REFUSAL_MISSING_TOKEN,     /* "missing_token": /buildByToken/ without token= */
    METRIC_REFUSAL_METHOD,            /* "method": GET with user credentials */
    METRIC_REFUSAL_CRUMB,             /* "crumb": a session POST without its crumb */
    METRIC_REFUSAL_DISABLED,          /* "disabled": the job is disabled */
    METRIC_REFUSAL_BAD_REQUEST,       /* "bad_request": parameters, delay, sizes */
    METRIC_REFUSAL_QUEUE_FULL,        /* "queue_full": 503 with Retry-After */
    METRIC_REFUSAL_DISK_FULL,         /* "disk_full": 507, the home's disk is full */
    METRIC_REFUSAL_SHUTTING_DOWN,     /* "shutting_down": the server is stopping */
    METRIC_REFUSAL_ERROR,             /* "error": the item could not be stored otherwise */
    _METRIC_REFUSAL_MAX,
};

/* What failed when credentials were refused. */
enum metric_auth_failure {
    METRIC_AUTH_NO_SUCH_USER,         /* "no_such_user" */
    METRIC_AUTH_BAD_SECRET,           /* "bad_secret": neither an API token nor the password */
    METRIC_AUTH_TOKEN_OF_OTHER_USER,  /* "token_of_other_user" */
    METRIC_AUTH_THROTTLED,            /* "throttled": refused unheard, too many failures */
    METRIC_AUTH_MALFORMED,            /* "malformed": an Authorization header that does not parse */
    METRIC_AUTH_METRICS_TOKEN,        /* "metrics_token": a wrong Bearer token on /prometheus/ */
    _METRIC_AUTH_FAILURE_MAX,
};

void metrics_count_trigger(enum metric_trigger what);
void metrics_count_refusal(enum metric_refusal why);
void metrics_count_auth_failure(enum metric_auth_failure kind);
/*
 * While on, this thread's metrics_count_trigger() and
 * metrics_count_refusal() count nothing: a dry run of a trigger
 * (api/trigger.c) is not a trigger.
 */
void metrics_quiet(bool on);
/* An HTTP answer with `status`; statuses outside 100..599 are not counted. */
void metrics_count_http(int status);

uint64_t metrics_triggers(enum metric_trigger what);
uint64_t metrics_refusals(enum metric_refusal why);
uint64_t metrics_auth_failures(enum metric_auth_failure kind);
uint64_t metrics_http(int status);

/* The label value of each, a static string. */
const char *metric_trigger_name(enum metric_trigger what);
const char *metric_refusal_name(enum metric_refusal why);
const char *metric_auth_failure_name(enum metric_auth_failure kind);

/* Notes when the server started (its uptime counts from there). */
void metrics_mark_start(void);
/* Milliseconds since metrics_mark_start(), 0 before it. */
int64_t metrics_uptime_ms(void);
