/* SPDX-License-Identifier: MIT */
#pragma once

/* The forges' webhooks (api/hooks.c): GitHub and GitLab, at the plugins' URLs. */

#include "http/app.h"
#include "http/hookinfo.h" /* GITHUB_HOOK_SECRET_KEY */

struct job;

void api_github_webhook(const struct app *app, struct req *req, struct resp *resp, struct job *unused);
void api_gitlab_project(const struct app *app, struct req *req, struct resp *resp, struct job *job);
/* GET /manage/hooks/api/json: the recorded deliveries, newest first (administrators). */
void api_deliveries(const struct app *app, struct req *req, struct resp *resp, struct job *unused);
/*
 * GET /job/NAME/hooks/api/json (Job/Read): what connects the job to each
 * forge's hook (http/hookinfo.h); the GitLab secret token only for who may
 * configure the job.
 */
void api_job_hooks(const struct app *app, struct req *req, struct resp *resp, struct job *job);
