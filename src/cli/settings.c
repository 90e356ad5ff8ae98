/* SPDX-License-Identifier: MIT */
/*
 * Connection settings and their precedence (see settings.h). The config
 * file is checked the way ssh checks its files: a file another user may
 * change could point the client, and its token, at another server.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/settings.h"
#include "util/fs.h"
#include "util/macro.h"
#include "util/strutil.h"

#define CONFIG_MAX_BYTES (64 * 1024)
#define NETRC_MAX_BYTES (1024 * 1024)

static const char *
nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

void
settings_input_from_env(struct settings_input *in, const char *flag_url, const char *flag_user,
                        const char *flag_token, const char *stdin_token)
{
    const char *home = nonempty(getenv("HOME")), *xdg = nonempty(getenv("XDG_CONFIG_HOME"));
    const char *netrc = nonempty(getenv("NETRC"));

    *in = (struct settings_input){
        .flag_url = nonempty(flag_url),
        .flag_user = nonempty(flag_user),
        .flag_token = nonempty(flag_token),
        .stdin_token = nonempty(stdin_token),
        .steward_url = nonempty(getenv("STEWARD_URL")),
        .steward_user = nonempty(getenv("STEWARD_USER")),
        .steward_token = nonempty(getenv("STEWARD_TOKEN")),
        .jenkins_url = nonempty(getenv("JENKINS_URL")),
        .jenkins_user = nonempty(getenv("JENKINS_USER_ID")),
        .jenkins_token = nonempty(getenv("JENKINS_API_TOKEN")),
    };
    if (xdg && asprintf(&in->owned[0], "%s/steward/config", xdg) < 0)
        in->owned[0] = NULL;
    else if (!xdg && home && asprintf(&in->owned[0], "%s/.config/steward/config", home) < 0)
        in->owned[0] = NULL;
    if (netrc)
        in->owned[1] = strdup(netrc);
    else if (home && asprintf(&in->owned[1], "%s/.netrc", home) < 0)
        in->owned[1] = NULL;
    in->config_path = in->owned[0];
    in->netrc_path = in->owned[1];
}

void
settings_input_release(struct settings_input *in)
{
    free(in->owned[0]);
    free(in->owned[1]);
    in->owned[0] = in->owned[1] = NULL;
    in->config_path = in->netrc_path = NULL;
}

void
settings_release(struct settings *s)
{
    free(s->url);
    free(s->user);
    if (s->token) {
        explicit_bzero(s->token, strlen(s->token));
        free(s->token);
    }
    free(s->token_source_user);
    free(s->config_path);
    free(s->netrc_path);
    *s = (struct settings){ 0 };
}

static int
fail(char **reterr_msg, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (reterr_msg && vasprintf(reterr_msg, fmt, ap) < 0)
        *reterr_msg = NULL;
    va_end(ap);
    return err;
}

/* ---- URLs ---- */

static const char *
after_scheme(const char *url)
{
    if (startswith(url, "http://"))
        return url + 7;
    if (startswith(url, "https://"))
        return url + 8;
    return NULL;
}

char *
settings_normalise_url(const char *url)
{
    const char *rest = url ? after_scheme(url) : NULL;
    size_t len;
    char *s;

    if (!rest || !*rest || *rest == '/' || *rest == '?' || *rest == '#')
        return NULL;
    for (const char *p = url; *p; p++)
        if ((unsigned char) *p <= ' ' || *p == '?' || *p == '#')
            return NULL;
    len = strlen(url);
    if (url[len - 1] == '/')
        return strdup(url);
    if (asprintf(&s, "%s/", url) < 0)
        return NULL;
    return s;
}

char *
settings_url_host(const char *url)
{
    const char *h = url ? after_scheme(url) : NULL, *end;
    const char *at;

    if (!h)
        return NULL;
    end = h + strcspn(h, "/?#");
    /* user:password@host */
    at = memchr(h, '@', (size_t) (end - h));
    if (at)
        h = at + 1;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t) (end - h));
        if (!close)
            return NULL;
        return strndup(h + 1, (size_t) (close - h - 1));
    }
    return strndup(h, strcspn(h, ":/?#"));
}

/* ---- the config file ---- */

static char *
trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *e = '\0';
    return s;
}

int
settings_parse_config(const char *text,
                      void (*fn)(void *userdata, const char *key, const char *value, int line),
                      void *userdata, int *reterr_line)
{
    _cleanup_free_ char *copy = strdup(text);
    char *line, *next;
    int n = 0;

    if (!copy)
        return -ENOMEM;
    for (line = copy; line; line = next) {
        char *eq, *key, *value;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        n++;
        line = trim(line);
        if (!*line || *line == '#' || *line == ';')
            continue;
        eq = strchr(line, '=');
        if (!eq) {
            if (reterr_line)
                *reterr_line = n;
            return -EINVAL;
        }
        *eq = '\0';
        key = trim(line);
        value = trim(eq + 1);
        if (!*key) {
            if (reterr_line)
                *reterr_line = n;
            return -EINVAL;
        }
        /* "value" or 'value' keeps spaces at its ends */
        if (strlen(value) >= 2 && (value[0] == '"' || value[0] == '\'') &&
            value[strlen(value) - 1] == value[0]) {
            value[strlen(value) - 1] = '\0';
            value++;
        }
        fn(userdata, key, value, n);
    }
    return 0;
}

struct config_values {
    char *url, *user, *token;
    const char *path;
};

static void
config_value(void *userdata, const char *key, const char *value, int line)
{
    struct config_values *c = userdata;
    char **slot = NULL;

    if (streq(key, "url"))
        slot = &c->url;
    else if (streq(key, "user"))
        slot = &c->user;
    else if (streq(key, "token"))
        slot = &c->token;
    else {
        fprintf(stderr, "steward: %s:%d: unknown setting '%s' ignored (known: url, user, token)\n",
                c->path, line, key);
        return;
    }
    free(*slot);
    *slot = *value ? strdup(value) : NULL;
}

static void
config_values_release(struct config_values *c)
{
    free(c->url);
    free(c->user);
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
    }
}

static int
load_config(const char *path, struct config_values *c, char **reterr_msg)
{
    _cleanup_free_ char *text = NULL;
    struct stat st;
    size_t len;
    int line = 0, r;

    c->path = path;
    if (stat(path, &st) < 0)
        return errno == ENOENT || errno == ENOTDIR ? 0
                                                   : fail(reterr_msg, -errno,
                                                          "cannot read the config file %s: %s",
                                                          path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(reterr_msg, -EINVAL, "the config file %s is not a regular file", path);
    if (st.st_uid != getuid())
        return fail(reterr_msg, -EACCES,
                    "refusing the config file %s: it belongs to another user (uid %u), who could "
                    "point this client and its token at another server. Fix: create your own, "
                    "with mode 600.",
                    path, (unsigned) st.st_uid);
    if (st.st_mode & 022)
        return fail(reterr_msg, -EACCES,
                    "refusing the config file %s: other users may change it (mode %04o), and so "
                    "point this client and its token at another server. Fix: chmod 600 %s",
                    path, (unsigned) (st.st_mode & 07777), path);
    r = fs_read_all(path, CONFIG_MAX_BYTES, &text, &len);
    if (r < 0)
        return fail(reterr_msg, r, "cannot read the config file %s: %s", path, strerror(-r));
    r = settings_parse_config(text, config_value, c, &line);
    explicit_bzero(text, len);
    if (r == -EINVAL)
        return fail(reterr_msg, r, "%s:%d: not a 'key = value' line (keys: url, user, token)",
                    path, line);
    if (r < 0)
        return fail(reterr_msg, r, "cannot read the config file %s: %s", path, strerror(-r));
    if (c->token && (st.st_mode & 044))
        return fail(reterr_msg, -EACCES,
                    "refusing the config file %s: it holds a token and other users may read it "
                    "(mode %04o). Fix: chmod 600 %s (and make a new token if others may have "
                    "read it)",
                    path, (unsigned) (st.st_mode & 07777), path);
    return 0;
}

/* ---- netrc ---- */

/* The next whitespace-separated word of netrc text, with "quoted words". */
static char *
netrc_word(const char **p)
{
    const char *s = *p;
    char *w;
    size_t n = 0;

    while (*s && isspace((unsigned char) *s))
        s++;
    if (!*s) {
        *p = s;
        return NULL;
    }
    w = malloc(strlen(s) + 1);
    if (!w)
        return NULL;
    if (*s == '"') {
        s++;
        while (*s && *s != '"') {
            if (*s == '\\' && s[1])
                s++;
            w[n++] = *s++;
        }
        if (*s == '"')
            s++;
    } else
        while (*s && !isspace((unsigned char) *s))
            w[n++] = *s++;
    w[n] = '\0';
    *p = s;
    return w;
}

/* Skips a macdef body: up to and including the next empty line. */
static void
netrc_skip_macdef(const char **p)
{
    const char *s = strchr(*p, '\n');

    while (s && s[1] && s[1] != '\n')
        s = strchr(s + 1, '\n');
    *p = s ? s + 1 + (s[1] == '\n') : *p + strlen(*p);
}

struct netrc_entry {
    bool used, matches;
    char *login, *password;
};

static void
entry_release(struct netrc_entry *e)
{
    free(e->login);
    if (e->password) {
        explicit_bzero(e->password, strlen(e->password));
        free(e->password);
    }
    *e = (struct netrc_entry){ 0 };
}

static bool
entry_fits(const struct netrc_entry *e, const char *login)
{
    return e->used && e->matches && e->password && (!login || !e->login || streq(e->login, login));
}

int
settings_netrc_lookup(const char *text, const char *host, const char *login, char **ret_login,
                      char **ret_password)
{
    struct netrc_entry cur = { 0 };
    const char *p = text;
    char *w;
    int r = -ENOENT;

    while ((w = netrc_word(&p))) {
        char **slot = NULL;
        if (streq(w, "machine") || streq(w, "default")) {
            if (entry_fits(&cur, login)) {
                free(w);
                break;
            }
            entry_release(&cur);
            if (streq(w, "machine")) {
                _cleanup_free_ char *m = netrc_word(&p);
                cur.used = true;
                cur.matches = m && host && strcasecmp(m, host) == 0;
            } else {
                /* "default" matches any host; it is the last entry by definition */
                cur.used = true;
                cur.matches = true;
            }
        } else if (streq(w, "login"))
            slot = &cur.login;
        else if (streq(w, "password"))
            slot = &cur.password;
        else if (streq(w, "account")) {
            free(netrc_word(&p));
        } else if (streq(w, "macdef")) {
            free(netrc_word(&p));
            netrc_skip_macdef(&p);
        }
        if (slot) {
            free(*slot);
            *slot = netrc_word(&p);
        }
        free(w);
    }
    if (entry_fits(&cur, login)) {
        *ret_login = TAKE_PTR(cur.login);
        *ret_password = TAKE_PTR(cur.password);
        r = 0;
    }
    entry_release(&cur);
    return r;
}

/* ---- resolution ---- */

static const char *
first(const char *const *v, const enum setting_source *src, size_t n, enum setting_source *ret_src)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && *v[i]) {
            *ret_src = src[i];
            return v[i];
        }
    *ret_src = SRC_NONE;
    return NULL;
}

/* The user name the token's own source gives, so a 401 can tell of a mismatch. */
static const char *
user_of_token_source(const struct settings_input *in, const struct config_values *c,
                     const char *netrc_login, enum setting_source src)
{
    switch (src) {
    case SRC_ENV_STEWARD:
        return in->steward_user;
    case SRC_ENV_JENKINS:
        return in->jenkins_user;
    case SRC_CONFIG:
        return c->user;
    case SRC_NETRC:
        return netrc_login;
    default:
        return NULL;
    }
}

static int
from_netrc(const struct settings_input *in, const char *url, const char *user,
           char **ret_login, char **ret_password)
{
    _cleanup_free_ char *text = NULL, *host = NULL;
    size_t len;
    int r;

    if (!in->netrc_path || !url)
        return -ENOENT;
    host = settings_url_host(url);
    if (!host)
        return -ENOENT;
    r = fs_read_all(in->netrc_path, NETRC_MAX_BYTES, &text, &len);
    if (r < 0)
        return r;
    r = settings_netrc_lookup(text, host, user, ret_login, ret_password);
    explicit_bzero(text, len);
    return r;
}

int
settings_resolve(const struct settings_input *in, struct settings *ret, char **reterr_msg)
{
    struct config_values c = { 0 };
    struct settings s = { 0 };
    _cleanup_free_ char *netrc_login = NULL, *netrc_password = NULL;
    const char *url, *user, *token, *owner;
    int r;

    if (in->config_path) {
        r = load_config(in->config_path, &c, reterr_msg);
        if (r < 0) {
            config_values_release(&c);
            return r;
        }
    }

    url = first((const char *[]){ in->flag_url, in->steward_url, in->jenkins_url, c.url },
                (enum setting_source[]){ SRC_FLAG, SRC_ENV_STEWARD, SRC_ENV_JENKINS, SRC_CONFIG },
                4, &s.url_src);
    user = first((const char *[]){ in->flag_user, in->steward_user, in->jenkins_user, c.user },
                 (enum setting_source[]){ SRC_FLAG, SRC_ENV_STEWARD, SRC_ENV_JENKINS, SRC_CONFIG },
                 4, &s.user_src);
    token = first((const char *[]){ in->flag_token, in->stdin_token, in->steward_token,
                                     in->jenkins_token, c.token },
                  (enum setting_source[]){ SRC_FLAG, SRC_STDIN, SRC_ENV_STEWARD, SRC_ENV_JENKINS,
                                           SRC_CONFIG },
                  5, &s.token_src);

    if (url) {
        s.url = settings_normalise_url(url);
        if (!s.url) {
            r = fail(reterr_msg, -EINVAL,
                     "the server URL '%s' is not an http:// or https:// URL (it may not hold "
                     "spaces, ? or #)",
                     url);
            goto out;
        }
    }
    /* the netrc fills in what is still missing, for the URL's host */
    if ((!user || !token) && from_netrc(in, s.url, user, &netrc_login, &netrc_password) == 0) {
        if (!user && netrc_login) {
            user = netrc_login;
            s.user_src = SRC_NETRC;
        }
        if (!token) {
            token = netrc_password;
            s.token_src = SRC_NETRC;
        }
    }
    s.user = user ? strdup(user) : NULL;
    s.token = token ? strdup(token) : NULL;
    owner = user_of_token_source(in, &c, netrc_login, s.token_src);
    if (token && owner && user && !streq(owner, user) && s.user_src != s.token_src)
        s.token_source_user = strdup(owner);
    s.config_path = in->config_path ? strdup(in->config_path) : NULL;
    s.netrc_path = in->netrc_path ? strdup(in->netrc_path) : NULL;
    *ret = s;
    s = (struct settings){ 0 };
    r = 0;
out:
    if (netrc_password)
        explicit_bzero(netrc_password, strlen(netrc_password));
    config_values_release(&c);
    settings_release(&s);
    return r;
}

const char *
settings_source_name(const struct settings *s, char field)
{
    static const char *const names[3][3] = {
        { "--url", "STEWARD_URL", "JENKINS_URL" },
        { "--user", "STEWARD_USER", "JENKINS_USER_ID" },
        { "--token", "STEWARD_TOKEN", "JENKINS_API_TOKEN" },
    };
    int f = field == 'u' ? 0 : field == 'n' ? 1 : 2;
    enum setting_source src = f == 0 ? s->url_src : f == 1 ? s->user_src : s->token_src;

    switch (src) {
    case SRC_NONE:
        return "nowhere";
    case SRC_FLAG:
        return names[f][0];
    case SRC_STDIN:
        return "--token-stdin";
    case SRC_ENV_STEWARD:
        return names[f][1];
    case SRC_ENV_JENKINS:
        return names[f][2];
    case SRC_CONFIG:
        return rfmt("the config file %s", s->config_path ? s->config_path : "");
    case SRC_NETRC:
        return rfmt("%s", s->netrc_path ? s->netrc_path : "~/.netrc");
    }
    return "?";
}
