/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Nodes over HTTP, as Jenkins and python-jenkins use them
 * (api/nodes.c): /computer/doCreateItem, /computer/NAME/config.xml (GET
 * and POST), /computer/NAME/toggleOffline, /computer/NAME/doDelete. The
 * api/json views are in api/routes.c and api/model.c.
 */

#include "http/route.h"

extern const struct route_table node_routes;
