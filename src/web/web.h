/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Server-rendered HTML pages. Returns true when the request was for a page
 * of the web layer (and has been answered).
 */

#include <stdbool.h>

#include "http/app.h"

bool web_handle(const struct app *app, struct req *req, struct resp *resp);

