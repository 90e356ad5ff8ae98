/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What a user needs to connect a job to a forge's hook: for GitHub's
 * /github-webhook/, GitLab's /project/JOB and the git plugin's
 * /git/notifyCommit, whether the job answers it, the URL, the events and
 * the secret, and otherwise what to add to the job. The trigger panel of
 * the configure page (web/hooks.c) and GET /job/NAME/hooks/api/json
 * (api/hooks.c, which `steward hooks JOB` prints) are made from the same
 * struct, so the page and the command say the same.
 *
 * Every string is plain text (escape it for HTML), owned by the struct.
 * A secret is in it only when the caller asked for it: the GitLab secret
 * token with `show_secret`; the GitHub shared secret and the notifyCommit
 * tokens never (the credential's id and how to make a token instead).
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/jobcfg.h"
#include "store/store.h"

/* The setting that names the "Secret text" credential GitHub signs hooks with. */
#define GITHUB_HOOK_SECRET_KEY "github.hook-secret"

struct hook_info {
    char **repos;           /* the job's Git repository URLs, each once */
    size_t n_repos;
    bool disabled;          /* the job is disabled: no hook starts a build */

    /* GitHub: GitHubPushTrigger and a Git repository */
    bool github;
    char *github_todo;      /* when !github: what to add; NULL otherwise */
    char *github_url;       /* ROOT/github-webhook/ */
    char *github_secret_id; /* the shared secret's credential id, NULL when none is set */
    bool github_secret_ok;  /* that credential exists and is a secret text */
    char *github_secret;    /* the secret's state in a sentence, and how to set one */

    /* GitLab: GitLabPushTrigger */
    bool gitlab;
    char *gitlab_todo;
    char *gitlab_url;       /* ROOT/project/JOB, the name URL-encoded */
    const char *gitlab_events[3]; /* "Push events", "Tag push events", "Merge request events" */
    size_t n_gitlab_events;
    bool gitlab_token_set;
    char *gitlab_token;     /* the secret token, only when shown; NULL otherwise */
    char *gitlab_secret;    /* the token's state in a sentence */

    /* notifyCommit: a Git repository and the Poll SCM trigger, not ignoring hooks */
    bool notify;
    char *notify_todo;      /* why the job is not notified and what to change, or a note; NULL: none */
    char **notify_commands; /* per repository: curl "ROOT/git/notifyCommit?url=URL&token=TOKEN" */
    size_t n_notify_commands;
    const char *notify_access; /* "required", "sha1-only" or "off" */
    size_t notify_tokens;   /* how many access tokens exist */
    char *notify_token;     /* about TOKEN in a sentence: which token, how to make one */
};

/*
 * Fills *ret for job `job` with config `cfg` (a summary or the whole
 * config; the GitLab token needs the whole one), under the absolute root
 * URL `root` (with its trailing '/'). `show_secret`: put the GitLab secret
 * token in (for who may configure the job). 0 or -ENOMEM.
 */
int hook_info_make(struct store *db, const char *root, const char *job,
                   const struct job_config *cfg, bool show_secret, struct hook_info *ret);
void hook_info_release(struct hook_info *h);
