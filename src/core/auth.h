/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Who is asking: passwords (argon2id), user API tokens (Jenkins' format,
 * stored as SHA-256), sessions, crumbs, and the throttling of failed
 * attempts. Trigger tokens are a job's business (core/trigger).
 *
 * Safe to call from any thread; each caller passes its own store
 * connection.
 */

#include <stdbool.h>
#include <stdint.h>

#include "core/perm.h"
#include "store/store.h"
#include "util/bounds.h"

#define API_TOKEN_LEN 34 /* "11" + 32 hex */

enum auth_via {
    VIA_NONE,      /* anonymous */
    VIA_TOKEN,     /* Basic user:API-token */
    VIA_PASSWORD,  /* Basic user:password */
    VIA_SESSION,   /* web session cookie */
};

struct identity {
    bool anonymous;
    int64_t user_id;
    char name[BOUND_USER_NAME_BYTES + 1];   /* "anonymous" when anonymous */
    bool is_admin;
    enum auth_via via;
    char token_name[BOUND_TOKEN_NAME_BYTES + 1]; /* VIA_TOKEN: which token */
    char token_uuid[37];
    /* VIA_TOKEN: what limits the token (core/perm.h); 0 and "": nothing */
    unsigned token_scopes;
    char token_jobs[BOUND_TOKEN_JOBS_BYTES + 1];
    int64_t token_expires_ms;
};

void identity_anonymous(struct identity *id);

/* Why Basic credentials were refused. */
enum auth_failure {
    AUTH_FAIL_NONE,
    AUTH_FAIL_NO_SUCH_USER,        /* no user with that name */
    AUTH_FAIL_BAD_SECRET,          /* user exists; neither a token nor the password */
    AUTH_FAIL_TOKEN_OF_OTHER_USER, /* a valid API token, but of another user */
    AUTH_FAIL_THROTTLED,           /* too many failures from this address */
    AUTH_FAIL_TOKEN_EXPIRED,       /* a valid API token past its expiry */
};

struct auth;

int auth_new(struct auth **ret_auth);
struct auth *auth_free(struct auth *a);

/*
 * What auth reads of the store on every request (users, API tokens, the
 * authorization settings and the global matrix) is kept in memory, filed
 * under the store's auth generation (store_auth_generation()), which every
 * change made by Steward moves on, whichever process made it: a revoked
 * token, a removed user, a changed password, grant or setting is seen by
 * the very next request. Entries also last at most a second, which bounds
 * what a change made behind Steward's back (sqlite3 by hand) leaves stale.
 * Without the generation (an in-memory database), nothing is kept.
 */

/* The server-wide rules of authorization, as the settings and the global matrix have them. */
struct auth_policy {
    enum authz_strategy authz;
    bool anonymous_read;     /* `steward security anonymous-read` */
    struct grant *grants;    /* the global matrix; none under AUTHZ_LOGGED_IN, which reads none */
    size_t n_grants;
};

/*
 * Lends the policy until auth_policy_put(); NULL when the store cannot be
 * read. The same policy may be lent to several threads at once: read only.
 */
const struct auth_policy *auth_policy_get(struct auth *a, struct store *s);
void auth_policy_put(struct auth *a, const struct auth_policy *p);

/* The same, read from the store each time (the pages that change them). */
enum authz_strategy auth_strategy(struct store *s);   /* an unknown value: AUTHZ_MATRIX */
bool auth_anonymous_read(struct store *s);
/* The global matrix, parsed (entries that do not read are left out); free with grants_free(). */
int auth_global_grants(struct store *s, struct grant **ret, size_t *ret_n);

/*
 * Checks Basic credentials. Returns 0 and fills *ret_id; -EACCES with
 * *reterr_why set when they are wrong; -EBUSY when `addr` has failed too
 * often lately (*reterr_why = AUTH_FAIL_THROTTLED).
 */
int auth_basic(struct auth *a, struct store *s, const char *user, const char *secret,
               const char *addr, struct identity *ret_id, enum auth_failure *reterr_why);

/*
 * Checks a user's password alone (the web login: an API token is not a
 * password there, as in Jenkins). Same returns as auth_basic.
 */
int auth_password(struct auth *a, struct store *s, const char *user, const char *password,
                  const char *addr, struct identity *ret_id, enum auth_failure *reterr_why);

/*
 * Failed authentication is throttled per address and subject: the user a
 * password or token was for, a job whose trigger token was wrong
 * (auth_trigger_subject()), or AUTH_SUBJECT_METRICS; and, with a higher
 * bound, per address alone. A valid API token is never throttled.
 * auth_throttle_wait() says in how many seconds (addr, subject) may try
 * again, 0 when now; auth_note_failure() counts one failure.
 */
#define AUTH_SUBJECT_METRICS "\001metrics"
int auth_throttle_wait(struct auth *a, const char *addr, const char *subject);
void auth_note_failure(struct auth *a, const char *addr, const char *subject);
/* The subject of a job's trigger token, in `out` (at least 256 bytes). */
const char *auth_trigger_subject(const char *job, char *out, size_t size);

/*
 * The rules for names and passwords, the same for the CLI, the API and the
 * pages. Each returns 0, or -EINVAL with *reterr_why saying what is wrong
 * (a sentence, static).
 *
 * A user name is 1 to BOUND_USER_NAME_BYTES letters, digits, '-', '_' or
 * '.', and not one of the pseudo-users "anonymous" and "authenticated"
 * (which the authorization matrix gives their meaning). A password is
 * AUTH_PASSWORD_MIN to BOUND_PASSWORD_BYTES bytes. A token name is 1 to
 * BOUND_TOKEN_NAME_BYTES bytes of UTF-8 without control characters.
 */
#define AUTH_PASSWORD_MIN 8
int auth_check_user_name(const char *name, const char **reterr_why);
int auth_check_password(const char *password, const char **reterr_why);
int auth_check_token_name(const char *name, const char **reterr_why);

/* True when `s` has the shape of a user API token ("11" + 32 lowercase hex). */
bool auth_looks_like_api_token(const char *s);

/*
 * When `secret` is some user's API token, returns 0 and copies that user's
 * name into ret_user (BOUND_USER_NAME_BYTES + 1); -ENOENT otherwise.
 */
int auth_api_token_owner(struct store *s, const char *secret, char *ret_user);

/*
 * Makes a new API token for a user, limited by `lim` (NULL: every right of
 * the user, as in Jenkins). Writes the value ("11" + 32 hex) into
 * ret_value (API_TOKEN_LEN + 1) and its uuid into ret_uuid (37). -EEXIST
 * when the user already has a token of that name.
 */
int auth_token_new(struct store *s, int64_t user_id, const char *name,
                   const struct token_limits *lim, char *ret_value, char *ret_uuid);

/*
 * Reads the limits of a new token as a request or a command gives them:
 * scopes ("read,build"), jobs ("deploy-*,web") and an expiry ("30d",
 * "12h", "2027-01-31", milliseconds since the epoch, or "never"), each
 * NULL or "" when not given. The server may require scopes (`steward
 * security token-scopes required`). 0 with *ret filled (its strings lent
 * from the arguments), or -EINVAL with *reterr_why (static).
 */
int auth_token_limits(struct store *s, const char *scopes, const char *jobs, const char *expires,
                      int64_t now_ms, struct token_limits *ret, const char **reterr_why);
/* True when the server requires scopes on new tokens. */
bool auth_token_scopes_required(struct store *s);

/*
 * The scrape token of /prometheus/: one per home, made and revoked offline
 * (`steward metrics token new|revoke`), sent by the scraper as
 * "Authorization: Bearer TOKEN". It is "stm_" and 64 hex digits; only its
 * SHA-256 is stored (the setting metrics_token_sha256). It lets its holder
 * read the metrics, and nothing else.
 */
#define METRICS_TOKEN_PREFIX "stm_"
#define METRICS_TOKEN_LEN (4 + 64)

/*
 * Makes a new scrape token, replacing any earlier one; ret_value holds
 * METRICS_TOKEN_LEN + 1. Returns 0, or 1 when it replaced one.
 */
int auth_metrics_token_new(struct store *s, char *ret_value);
/* Revokes the scrape token; -ENOENT when there was none. */
int auth_metrics_token_revoke(struct store *s);
/*
 * Checks a presented scrape token (constant time). 0 when it is the one;
 * -EACCES when it is not, -ENOENT when no scrape token is set (both count
 * as failed authentication, toward throttling too); -EBUSY when `addr`
 * has failed too often lately.
 */
int auth_metrics_token_check(struct auth *a, struct store *s, const char *value,
                             const char *addr);

/* Writes the use counts gathered since the last flush. */
void auth_flush_usage(struct auth *a, struct store *s);

/*
 * The CSRF crumb for an identity and session (session may be NULL): hex
 * HMAC-SHA-256 with a per-process key. `out` holds 65 bytes.
 */
void auth_crumb(struct auth *a, const char *user, const char *session, char *out);
bool auth_crumb_ok(struct auth *a, const char *user, const char *session, const char *crumb);

/*
 * Web sessions, kept in memory (a restart logs everyone out), made only by
 * a sign-in on the login page. A new session id (64 hex) is written into
 * ret_sid (65 bytes). A user has at most AUTH_SESSIONS_PER_USER: a new one
 * ends their oldest; a full table ends the oldest of all, so that a
 * correct password is never refused for want of room. 0, or -ENOENT when
 * the user is gone.
 */
#define AUTH_SESSIONS_PER_USER 16
int auth_session_new(struct auth *a, struct store *s, const struct identity *id, char *ret_sid);
/*
 * Looks a session up; 0 and *ret_id, or -ENOENT. The user is read again
 * each time: a session ends when its user is removed or their password
 * changes, and follows changes of the admin flag at once.
 */
int auth_session_get(struct auth *a, struct store *s, const char *sid, struct identity *ret_id);
void auth_session_end(struct auth *a, const char *sid);
