/* SPDX-License-Identifier: MIT */
#pragma once

/* Source control over HTTP (api/scm.c): the git plugin's URLs. */

#include "http/app.h"

struct job;

void api_notify_commit(const struct app *app, struct req *req, struct resp *resp, struct job *unused);
void api_poll_log(const struct app *app, struct req *req, struct resp *resp, struct job *job);
void api_poll_now(const struct app *app, struct req *req, struct resp *resp, struct job *job);
void api_notify_tokens(const struct app *app, struct req *req, struct resp *resp, struct job *unused);
