/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A build's parameter values: the one place that checks what a request
 * gives for each parameter of a job and turns it into the value the build
 * gets. The API's triggers, the web form and timer triggers all call it,
 * so a value one of them takes is one the others take.
 *
 * A value is refused when it is longer than BOUND_PARAM_VALUE_BYTES, not
 * UTF-8, or (for a choice) not one of the choices. An absent value takes
 * the default; a given one follows Jenkins' rules (param_value_for()).
 */

#include <stddef.h>

#include "core/jobcfg.h"
#include "store/store.h"

/* Why a value was refused, in the words of a refusal (see api/refuse). */
struct param_refusal {
    const char *title;   /* "Illegal choice"; static */
    char *presented;     /* what was sent, naming the parameter */
    char *fix;           /* what to send instead */
};
void param_refusal_release(struct param_refusal *r);

/*
 * Gives out[i] (name, type, value) for every parameter of `cfg`, in its
 * order; given(userdata, def) returns the request's value for a parameter,
 * NULL when it has none. 0; -EINVAL with *ret_refusal filled when a value
 * is refused; -ENOMEM. On error, values already made are freed and out[]
 * is cleared. Free the values with params_free().
 */
int params_resolve(const struct job_config *cfg,
                   const char *(*given)(void *userdata, const struct param_def *def),
                   void *userdata, struct param_value *out, struct param_refusal *ret_refusal);

/* Every parameter's default, as a timer trigger builds with. 0 or -ENOMEM. */
int params_defaults(const struct job_config *cfg, struct param_value *out);

/* Frees the values params_resolve() made (the names belong to the config). */
void params_free(struct param_value *values, size_t n);
