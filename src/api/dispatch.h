/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The one dispatcher of the URL space. route_dispatch() finds the first
 * route of the tables that matches, then answers every refusal itself, in
 * this order, before any handler runs:
 *
 *   1. a request the HTTP layer found broken (413, 414, 431, 400);
 *   2. wrong Basic credentials (401);
 *   3. the access the route needs: a signed-in user, the user the URL
 *      names or an administrator, or a permission, Overall/Read first
 *      (401 for a caller without credentials, 403 naming the permission);
 *   4. for a route on a job: the job must exist and be readable, else 404,
 *      the same answer for both; then the permission on that job (403);
 *   5. the method (405);
 *   6. the CSRF crumb of a session POST that changes something (403).
 *
 * Routes whose access is ROUTE_OPEN decide for themselves (the triggers,
 * whose trigger token stands in for a user; the login pages; whoAmI).
 */

#include "api/api.h"
#include "http/route.h"

/* The API's own routes (api/routes.c). */
extern const struct route_table api_routes;

void route_dispatch(const struct app *app, struct req *req, struct resp *resp,
                    const struct route_table *tables, size_t n_tables);

/*
 * For handlers whose object is found only inside them (a queue item's
 * job): false after answering 404 when the caller may not read `job`, or
 * 403 when it may read it but lacks `p`.
 */
bool route_check_job(const struct app *app, struct req *req, struct resp *resp,
                     const struct job *job, const char *name, enum perm p);
