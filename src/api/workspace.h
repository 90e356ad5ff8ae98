/* SPDX-License-Identifier: MIT */
#pragma once

/* A job's workspace over HTTP (api/workspace.c). */

#include "core/jobs.h"
#include "http/app.h"
#include "http/http.h"

/* GET /job/NAME/ws/PATH: a listing of a directory, or a file (Job/Workspace). */
void api_workspace(const struct app *app, struct req *req, struct resp *resp, struct job *job);
/* POST /job/NAME/doWipeOutWorkspace (Job/WipeOut): 302 to the job; 409 while a build uses it. */
void api_wipe_workspace(const struct app *app, struct req *req, struct resp *resp,
                        struct job *job);
