/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "http/app.h"

/*
 * Handles /job/NAME/build, /job/NAME/buildWithParameters (token_root
 * false) and /buildByToken/build[WithParameters]?job=NAME (token_root
 * true). Both variants accept parameters; missing ones get defaults.
 */
void trigger_handle(const struct app *app, struct req *req, struct resp *resp, const char *name,
                    bool token_root);

struct job;
struct cause;
/*
 * Queues a build of `job` with every parameter at its default and
 * `cause`, audited as coming `via` (e.g. "notifyCommit") from the
 * request's address: what a forge's hook asks for. 0 or -errno.
 */
int trigger_with_defaults(const struct app *app, struct req *req, struct job *job,
                          const struct cause *cause, const char *via);
