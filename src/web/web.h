/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Server-rendered HTML pages, as a route table that the dispatcher
 * (api/dispatch.h) reads before the API's: who may see a page is checked
 * there before the page runs.
 */

#include "http/route.h"

extern const struct route_table web_routes;
