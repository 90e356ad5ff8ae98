/* SPDX-License-Identifier: MIT */
#pragma once

#include "http/app.h"

/*
 * GET /prometheus/ (and /prometheus): the metrics in Prometheus' text
 * format, for whoever may read the server or holds the scrape token
 * (Authorization: Bearer).
 */
void prometheus_handle(const struct app *app, struct req *req, struct resp *resp);
