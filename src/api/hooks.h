/* SPDX-License-Identifier: MIT */
#pragma once

/* The forges' webhooks (api/hooks.c): GitHub and GitLab, at the plugins' URLs. */

#include "http/app.h"

/* The setting that names the "Secret text" credential GitHub signs hooks with. */
#define GITHUB_HOOK_SECRET_KEY "github.hook-secret"

struct job;

void api_github_webhook(const struct app *app, struct req *req, struct resp *resp, struct job *unused);
void api_gitlab_project(const struct app *app, struct req *req, struct resp *resp, struct job *job);
/* GET /manage/hooks/api/json: the recorded deliveries, newest first (administrators). */
void api_deliveries(const struct app *app, struct req *req, struct resp *resp, struct job *unused);
