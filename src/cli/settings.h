/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Where the client's connection settings (server URL, user name, secret)
 * come from. Each setting is taken from the first source that has it:
 *
 *   1. flags: --url, --user, --token (or --token-stdin)
 *   2. STEWARD_URL, STEWARD_USER, STEWARD_TOKEN
 *   3. Jenkins' own JENKINS_URL, JENKINS_USER_ID, JENKINS_API_TOKEN
 *   4. the config file, $XDG_CONFIG_HOME/steward/config (default
 *      ~/.config/steward/config): lines "url = ...", "user = ...",
 *      "token = ...", '#' comments
 *   5. ~/.netrc: login and password of the entry for the URL's host (a
 *      user name from a higher source must match the entry's login)
 *
 * The config file is refused when another user could change it (group or
 * world writable, or owned by someone else), and when it holds a token and
 * others may read it. Nothing here talks to the network.
 */

#include <stdbool.h>

enum setting_source {
    SRC_NONE,
    SRC_FLAG,
    SRC_STDIN,
    SRC_ENV_STEWARD,
    SRC_ENV_JENKINS,
    SRC_CONFIG,
    SRC_NETRC,
};

/* What the caller read from the command line and the environment; all borrowed. */
struct settings_input {
    const char *flag_url, *flag_user, *flag_token;
    const char *stdin_token; /* from --token-stdin */
    const char *steward_url, *steward_user, *steward_token;
    const char *jenkins_url, *jenkins_user, *jenkins_token;
    const char *config_path; /* NULL: no config file */
    const char *netrc_path;  /* NULL: no netrc */
    char *owned[2];          /* memory of the paths, when settings_input_from_env made them */
};

struct settings {
    char *url; /* normalised: ends with '/' */
    char *user;
    char *token;
    enum setting_source url_src, user_src, token_src;
    /* the user name given by the token's own source, when it differs from `user` */
    char *token_source_user;
    char *config_path;
    char *netrc_path;
};

/*
 * Fills `in` from the environment (STEWARD_*, JENKINS_*, HOME,
 * XDG_CONFIG_HOME, NETRC) and the flags, which stay borrowed. Empty
 * variables count as unset. Release with settings_input_release().
 */
void settings_input_from_env(struct settings_input *in, const char *flag_url,
                             const char *flag_user, const char *flag_token,
                             const char *stdin_token);
void settings_input_release(struct settings_input *in);

/*
 * Resolves the three settings. Returns 0 and fills *ret (release with
 * settings_release()); -EACCES for a config file that is not safe, -EINVAL
 * for a malformed config file or URL, each with *reterr_msg set to what to
 * tell the user (to be freed). A missing URL is not an error here.
 */
int settings_resolve(const struct settings_input *in, struct settings *ret, char **reterr_msg);

void settings_release(struct settings *s);

/*
 * Names the source of a setting for messages: "--user", "STEWARD_USER",
 * "JENKINS_USER_ID", "the config file ~/.config/steward/config", ... `field`
 * is 'u' (url), 'n' (user name) or 't' (token). Lent; valid until the next
 * call.
 */
const char *settings_source_name(const struct settings *s, char field);

/*
 * Parses config file text. Calls back for each "key = value" line; returns
 * 0, or -EINVAL with *reterr_line set to the 1-based line that is not
 * "key = value", a comment or blank.
 */
int settings_parse_config(const char *text,
                          void (*fn)(void *userdata, const char *key, const char *value, int line),
                          void *userdata, int *reterr_line);

/*
 * Looks up `host` in netrc text (machine/default/login/password tokens,
 * macdef skipped). With `login` given, only an entry for that login (or one
 * without a login) counts. Returns 0 and sets *ret_login (may be NULL) and
 * *ret_password (both to be freed), or -ENOENT.
 */
int settings_netrc_lookup(const char *text, const char *host, const char *login,
                          char **ret_login, char **ret_password);

/* Returns a copy of the host part of an http(s) URL, or NULL. */
char *settings_url_host(const char *url);

/*
 * Checks and normalises a server URL: http:// or https://, something after
 * it, and a trailing '/'. Returns a new string or NULL (-EINVAL).
 */
char *settings_normalise_url(const char *url);
