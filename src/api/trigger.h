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
