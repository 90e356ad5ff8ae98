/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The Git checkout of a build (hudson.plugins.git.GitSCM), as the git
 * plugin does it, with the system git.
 *
 * The checkout is a step of its own, before the job's shell steps, run in
 * the build's sandbox as the build user: the workspace is the build's,
 * and a repository there may carry settings a previous build left (hooks,
 * core.fsmonitor), so git never runs outside the sandbox. The step's
 * script is fixed text chosen by the job's options; every value from the
 * job or a request (URLs, refspecs, branch patterns, directories) reaches
 * it as an environment variable, never as script text. git runs with
 * hooks off (core.hooksPath=/dev/null), as the git plugin does by default.
 *
 * The step reports what it checked out in a file of the build's @tmp
 * (STEWARD_GIT_OUT); the engine takes it with git_report_take(), which
 * refuses anything but a plain file of bounded size, and keeps it in the
 * build's directory as `git`, where git_build_load() reads it for the API
 * and the pages.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/home.h"
#include "core/jobcfg.h"
#include "store/store.h"
#include "util/bounds.h"

/* The host keys Git over ssh trusts, in the home directory (besides /etc/ssh/ssh_known_hosts). */
#define GIT_KNOWN_HOSTS_FILE "known_hosts"

/* The build's report, in its directory. */
#define GIT_REPORT_FILE "git"

/*
 * Git's credentials, as the step's script hands them to git: a shell
 * function `creds I` that sets git's environment for remote I (0: none)
 * from the variables git_creds_prepare() gave the step, and `creds_hint I`
 * that says, after a failed fetch over ssh, where the host keys come from.
 * For ssh: GIT_SSH_COMMAND runs ssh with the key file (-i), IdentitiesOnly,
 * no agent, StrictHostKeyChecking=yes against a copy of HOME/known_hosts
 * and /etc/ssh/ssh_known_hosts, -l with the credential's username where
 * the URL names none, and SSH_ASKPASS for a passphrase or password. For
 * https: GIT_ASKPASS. Every path reaches ssh through a variable, never as
 * text of the command; no secret is in a variable, only files' names.
 */
#define GIT_CREDS_SH \
    "creds() {\n" \
    "  unset GIT_SSH_COMMAND GIT_ASKPASS SSH_ASKPASS SSH_ASKPASS_REQUIRE STEWARD_ASKPASS_USER " \
    "STEWARD_ASKPASS_SECRET STEWARD_SSH_KEY STEWARD_SSH_USER\n" \
    "  eval \"ck=\\${STEWARD_GIT_CRED_$1-} cid=\\${STEWARD_GIT_CRED_ID_$1-} " \
    "ckey=\\${STEWARD_GIT_KEY_$1-} cuser=\\${STEWARD_GIT_USER_$1-} " \
    "csecret=\\${STEWARD_GIT_SECRET_$1-}\"\n" \
    "  case $ck in\n" \
    "  ssh)\n" \
    "    printf 'using GIT_SSH_COMMAND to set credentials %s\\n' \"$cid\"\n" \
    "    c='ssh -o IdentitiesOnly=yes -o IdentityAgent=none -o StrictHostKeyChecking=yes " \
    "-o UserKnownHostsFile=\"$STEWARD_GIT_KNOWN_HOSTS\" " \
    "-o GlobalKnownHostsFile=/etc/ssh/ssh_known_hosts'\n" \
    "    if [ -n \"$ckey\" ]; then export STEWARD_SSH_KEY=\"$ckey\"; " \
    "c=\"$c -i \\\"\\$STEWARD_SSH_KEY\\\"\"; " \
    "else c=\"$c -o PubkeyAuthentication=no\"; fi\n" \
    "    if [ -n \"$cuser\" ]; then export STEWARD_SSH_USER=\"$cuser\"; " \
    "c=\"$c -l \\\"\\$STEWARD_SSH_USER\\\"\"; fi\n" \
    "    if [ -n \"$csecret\" ]; then export SSH_ASKPASS=\"$STEWARD_GIT_ASKPASS\" " \
    "SSH_ASKPASS_REQUIRE=force STEWARD_ASKPASS_SECRET=\"$csecret\"; " \
    "else c=\"$c -o BatchMode=yes\"; fi\n" \
    "    export GIT_SSH_COMMAND=\"$c\" ;;\n" \
    "  askpass)\n" \
    "    printf 'using GIT_ASKPASS to set credentials %s\\n' \"$cid\"\n" \
    "    export GIT_ASKPASS=\"$STEWARD_GIT_ASKPASS\" STEWARD_ASKPASS_USER=\"$cuser\" " \
    "STEWARD_ASKPASS_SECRET=\"$csecret\" GIT_TERMINAL_PROMPT=0 ;;\n" \
    "  esac\n" \
    "}\n" \
    "creds_hint() {\n" \
    "  eval \"ck=\\${STEWARD_GIT_CRED_$1-}\"\n" \
    "  if [ \"$ck\" = ssh ]; then\n" \
    "    printf '%s\\n' 'ERROR: ssh could not log in. Steward checks the server'\"'\"'s host key " \
    "against the file known_hosts in its home directory and /etc/ssh/ssh_known_hosts (an " \
    "administrator adds it with ssh-keyscan; see docs/SCM.md), and logs in with the " \
    "credential'\"'\"'s key and username.'\n" \
    "  fi\n" \
    "}\n"

/*
 * What a repository URL is, as git reads it: ssh (ssh://, git+ssh://,
 * [user@]host:path), http(s), on this machine (file://, a path), or other
 * (git://, a transport helper), and whether it names a user.
 */
enum git_url_kind { GIT_URL_LOCAL, GIT_URL_SSH, GIT_URL_HTTP, GIT_URL_OTHER };
enum git_url_kind git_url_kind(const char *url, bool *ret_has_user);

/*
 * The credentials of the remotes that have a credentialsId, for a
 * checkout or poll step (core/git_creds.c). Each is looked up with
 * cred_get() and must exist, be GLOBAL (a SYSTEM credential is never
 * given to a build), be an SSH key or a username with password, and fit
 * its URL (an SSH key for ssh; a password for ssh or https); a repository
 * on this machine needs none, and gets a line in `notes` instead.
 *
 * Its secrets go into files in `dir`, which this makes (mode 0700; it must
 * not exist) when some remote needs one: the key, its passphrase or the
 * password (0600), the askpass helper and a copy of `known_hosts` (the
 * server's file of host keys; a missing one is empty). The caller gives
 * `dir` to the build user, shows it to the step alone (at `step_dir`, the
 * path the step sees), and removes it when the step ends. The step gets
 * the files' names (never a secret) through `add`: STEWARD_GIT_CRED_I
 * ("ssh" or "askpass"), STEWARD_GIT_CRED_ID_I, STEWARD_GIT_USER_I,
 * STEWARD_GIT_KEY_I, STEWARD_GIT_SECRET_I, STEWARD_GIT_ASKPASS and
 * STEWARD_GIT_KNOWN_HOSTS, for GIT_CREDS_SH.
 *
 * Returns 1 when `dir` was made, 0 when no remote needs a credential,
 * -EKEYREJECTED with a sentence for the console in *reterr_msg (naming
 * the id and what to do) when a credential cannot be used, or -errno.
 * Whatever it returns, the caller removes `dir` if it exists.
 */
struct buf;
int git_creds_prepare(const struct home *h, struct store *db, const struct git_scm *g,
                      const char *dir, const char *step_dir, const char *known_hosts,
                      int (*add)(void *userdata, const char *name, const char *value),
                      void *userdata, struct buf *notes, char **reterr_msg);

/* The script of the checkout step for these options (run by /bin/sh). Newly allocated. */
int git_checkout_script(const struct git_scm *g, char **ret);

/*
 * The checkout step's inputs, each given to `add` (as environment
 * variables): the remotes, the branch patterns with ${PARAM} expanded
 * from `params` (name=value strings, NULL-terminated), `sha1` (a
 * revision to build, from a commit notification; NULL for none),
 * `previous` (lines "BRANCH SHA" of earlier builds, for the change set;
 * NULL for none) and the report's path. 0, or what `add` returned.
 */
int git_checkout_vars(const struct git_scm *g, const char *const *params, const char *sha1,
                      const char *previous, const char *report_path,
                      int (*add)(void *userdata, const char *name, const char *value),
                      void *userdata);

/*
 * A branch spec, as the git plugin reads it, for the checkout step:
 * "tag:ERE" for refs/tags/..., else "ERE" matched against whole ref names
 * (refs/remotes/origin/main); hex digits get a line "sha:HEX" first, for
 * the commit they may name. `remote`
 * is the first remote's name. Newly allocated into *ret; 0 or -ENOMEM.
 */
int git_spec_pattern(const char *spec, const char *remote, char **ret);

/* ${NAME} and $NAME in `s` replaced from `params` (NAME=value strings); others are left. */
int git_expand(const char *s, const char *const *params, char **ret);

/* One commit of a change set. */
struct git_path {
    const char *edit;      /* "add", "edit" or "delete" */
    const char *file;
};

struct git_change {
    const char *commit;
    const char *author, *author_email;       /* who the change set names (see AuthorInChangelog) */
    int64_t timestamp_ms;
    const char *date;      /* "2024-01-02 03:04:05 +0000" */
    const char *comment;   /* the whole message */
    const char *msg;       /* its first line */
    struct git_path *paths;
    size_t n_paths;
};

/* What a build checked out. Strings point into `text`. */
struct git_build {
    char *text;
    const char *sha;       /* 40 hex digits */
    const char *branch;    /* "origin/main", "refs/tags/v1", or "detached" */
    const char *remote_urls[BOUND_GIT_REMOTES];
    size_t n_remotes;
    const char *scm_name;  /* "" when none */
    bool changelog;        /* a change set was computed (not the first build) */
    struct git_change *changes;
    size_t n_changes;
};

/*
 * Reads a report (in place: `text` of `len` bytes, NUL-terminated,
 * becomes the build's on success). 0, -EINVAL for one that does not
 * parse (then `text` is still the caller's), -ENOMEM.
 */
int git_build_parse(char *text, size_t len, struct git_build *ret);
/* A build's report from its directory: 0, -ENOENT for a build without Git, -EINVAL, -errno. */
int git_build_load(const char *build_dir, struct git_build *ret);
void git_build_release(struct git_build *b);
/* Only the revision and the branch of a build's report (from its first 4 KB). 0, -EINVAL, -errno. */
int git_build_head(const char *build_dir, char sha[41], char *branch, size_t branch_size);

/*
 * The report the checkout step left at `path` (in the build's @tmp,
 * where the build user could have put anything): a regular file with one
 * link and at most BOUND_GIT_CHANGELOG_BYTES plus some, opened without
 * following links or blocking. It is removed. 0, -EINVAL, -E2BIG, -errno.
 */
int git_report_take(const char *path, char **ret_text, size_t *ret_len);

/*
 * The report as the engine keeps it: the step's lines, then the remotes
 * and the scm name from the job. Newly allocated.
 */
int git_report_finish(const struct git_scm *g, const char *text, size_t len, char **ret,
                      size_t *ret_len);

/*
 * Whether two repository URLs name the same repository, as the git
 * plugin's notifyCommit compares them: hosts (without "ssh.") and paths
 * (without slashes at the ends, ".git", "vN/" or "/_git/") equal; scheme,
 * user and port do not count.
 */
bool git_url_matches(const char *a, const char *b);

/*
 * A GitHub repository's host, owner and name from one of its URLs, as the
 * github plugin reads them (git@host:o/r, http(s)://[user@]host/o/r,
 * git://host/o/r, [git+]ssh://[user@]host[:port]/o/r; ".git" and a
 * trailing slash left out). Newly allocated; 0, -EINVAL, -ENOMEM.
 */
int git_github_name(const char *url, char **ret_host, char **ret_owner, char **ret_repo);
/* Whether two URLs name the same GitHub repository (exactly, case and all, as the plugin compares). */
bool git_github_same(const char *a, const char *b);
