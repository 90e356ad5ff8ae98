/* SPDX-License-Identifier: MIT */
/*
 * The credentials of a Git checkout or poll (see core/git.h,
 * git_creds_prepare()): each remote's credentialsId looked up, checked
 * against its URL, and its secrets written into the step's private
 * directory, for the step's script (GIT_CREDS_SH) to hand to git.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/credentials.h"
#include "core/git.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/macro.h"
#include "util/strutil.h"

/*
 * Answers git's and ssh's prompts: the username to git's "Username for
 * ...", the secret file to a password or passphrase prompt, and nothing
 * to anything else (a host key question above all), so that a secret
 * only ever answers the question it is for.
 */
static const char askpass_script[] =
    "#!/bin/sh\n"
    "case $1 in\n"
    "Username*) printf '%s\\n' \"$STEWARD_ASKPASS_USER\" ;;\n"
    "*assword*|*assphrase*) cat -- \"$STEWARD_ASKPASS_SECRET\" ;;\n"
    "*) exit 1 ;;\n"
    "esac\n";

enum git_url_kind
git_url_kind(const char *url, bool *ret_has_user)
{
    const char *sep = strstr(url, "://"), *colon, *slash, *end;
    bool user = false;
    enum git_url_kind k;

    if (sep) {
        size_t n = (size_t) (sep - url);
        const char *auth = sep + 3;

        if ((n == 3 && strncmp(url, "ssh", 3) == 0) || (n == 7 && strncmp(url, "git+ssh", 7) == 0) ||
            (n == 7 && strncmp(url, "ssh+git", 7) == 0))
            k = GIT_URL_SSH;
        else if ((n == 4 && strncmp(url, "http", 4) == 0) || (n == 5 && strncmp(url, "https", 5) == 0))
            k = GIT_URL_HTTP;
        else if (n == 4 && strncmp(url, "file", 4) == 0)
            k = GIT_URL_LOCAL;
        else
            k = GIT_URL_OTHER;   /* git://, ftp://, ...: nothing to log in with */
        end = strchrnul(auth, '/');
        user = memchr(auth, '@', (size_t) (end - auth)) != NULL;
    } else if (strstr(url, "::")) {
        k = GIT_URL_OTHER;       /* a transport helper, ext::... */
    } else if ((colon = strchr(url, ':')) && (!(slash = strchr(url, '/')) || colon < slash)) {
        /* scp-like [user@]host:path */
        k = GIT_URL_SSH;
        user = memchr(url, '@', (size_t) (colon - url)) != NULL;
    } else
        k = GIT_URL_LOCAL;
    if (ret_has_user)
        *ret_has_user = user;
    return k;
}

/* A new file of the step, written once; never through what was there. */
static int
write_file(const char *dir, const char *name, const void *data, size_t len, bool newline,
           mode_t mode, char **ret_path)
{
    _cleanup_free_ char *path = path_join(dir, name);
    int fd, r;

    if (!path)
        return -ENOMEM;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    r = fs_write_all(fd, data, len);
    if (r >= 0 && newline)
        r = fs_write_all(fd, "\n", 1);
    if (close(fd) < 0 && r >= 0)
        r = -errno;
    if (r < 0)
        (void) unlink(path);
    else if (ret_path)
        *ret_path = TAKE_PTR(path);
    return r;
}

/* The refusal of remote `i`'s credential, as the console says it. -EKEYREJECTED. */
static int
refuse(char **reterr_msg, const char *fmt, ...) _printf_(2, 3);

static int
refuse(char **reterr_msg, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(reterr_msg, fmt, ap);
    va_end(ap);
    if (r < 0) {
        *reterr_msg = NULL;
        return -ENOMEM;
    }
    return -EKEYREJECTED;
}

/*
 * Whether credential `c` can log in to `url`, and how: "ssh" or "askpass".
 * NULL with a sentence in *reterr_msg when it cannot.
 */
static const char *
how_to_use(const struct cred *c, const char *url, enum git_url_kind k, char **reterr_msg)
{
    const char *id = c->info.id, *type = cred_kind_type_name(c->info.kind);

    if (c->info.kind == CRED_SECRET_TEXT || c->info.kind == CRED_FILE) {
        (void) refuse(reterr_msg,
                      "the Git credential '%s' of %s is a \"%s\" credential; git logs in with "
                      "\"SSH Username with private key\" (ssh://) or \"Username with password\" "
                      "(https://). Give the job one of those kinds in its credentialsId.",
                      id, url, type);
        return NULL;
    }
    if (k == GIT_URL_SSH)
        return "ssh";
    if (k == GIT_URL_HTTP && c->info.kind == CRED_USERNAME_PASSWORD)
        return "askpass";
    if (k == GIT_URL_HTTP)
        (void) refuse(reterr_msg,
                      "the Git credential '%s' is an SSH key, and %s is not an ssh:// "
                      "repository: git would fetch it without logging in. Use the repository's "
                      "ssh:// (or git@host:path) URL, or a \"Username with password\" credential.",
                      id, url);
    else
        (void) refuse(reterr_msg,
                      "the Git credential '%s' cannot log in to %s: only ssh:// and https:// "
                      "repositories take credentials. Use one of those URLs, or remove the "
                      "credentialsId.",
                      id, url);
    return NULL;
}

/* Remote `i`'s credential: files and variables. */
static int
prepare_remote(const struct home *h, struct store *db, const struct git_remote *rem, size_t i,
               const char *dir, const char *step_dir,
               int (*add)(void *userdata, const char *name, const char *value), void *userdata,
               char **reterr_msg)
{
    _cleanup_(cred_freep) struct cred *c = NULL;
    _cleanup_free_ char *path = NULL;
    const char *how;
    bool url_user = false;
    enum git_url_kind k = git_url_kind(rem->url, &url_user);
    char key[64], name[32];
    int r;

    r = cred_get(h, db, rem->credentials_id, &c);
    if (r == -ENOENT)
        return refuse(reterr_msg,
                      "the Git credential '%s' of %s does not exist. An administrator adds it "
                      "(steward credentials add --id %s ..., or the Credentials page), or the "
                      "job names another in its credentialsId.",
                      rem->credentials_id, rem->url, rem->credentials_id);
    if (r == -ENOKEY || r == -EBADMSG)
        return refuse(reterr_msg, "the Git credential '%s' of %s cannot be opened: %s",
                      rem->credentials_id, rem->url, cred_strerror(r));
    if (r < 0)
        return r;
    if (streq(c->info.scope, "SYSTEM"))
        return refuse(reterr_msg,
                      "the Git credential '%s' of %s has scope SYSTEM: such credentials are for "
                      "Steward itself and never given to builds. An administrator makes its scope "
                      "GLOBAL, or the job names another credential.",
                      rem->credentials_id, rem->url);
    how = how_to_use(c, rem->url, k, reterr_msg);
    if (!how)
        return *reterr_msg ? -EKEYREJECTED : -ENOMEM;

    snprintf(key, sizeof key, "STEWARD_GIT_CRED_%zu", i + 1);
    r = add(userdata, key, how);
    snprintf(key, sizeof key, "STEWARD_GIT_CRED_ID_%zu", i + 1);
    if (r >= 0)
        r = add(userdata, key, c->info.id);
    /* the username: over ssh only where the URL names none, as ssh's -l would override it */
    snprintf(key, sizeof key, "STEWARD_GIT_USER_%zu", i + 1);
    if (r >= 0 && c->info.username && *c->info.username && !(k == GIT_URL_SSH && url_user))
        r = add(userdata, key, c->info.username);
    if (r < 0)
        return r;
    if (c->info.kind == CRED_SSH_KEY) {
        bool nl = c->secret_len == 0 || c->secret[c->secret_len - 1] != '\n';

        /* OpenSSH reads no key whose last line has no newline */
        snprintf(name, sizeof name, "key-%zu", i + 1);
        r = write_file(dir, name, c->secret, c->secret_len, nl, 0600, NULL);
        snprintf(key, sizeof key, "STEWARD_GIT_KEY_%zu", i + 1);
        path = r >= 0 ? path_join(step_dir, name) : NULL;
        if (r >= 0)
            r = path ? add(userdata, key, path) : -ENOMEM;
        if (r < 0 || !c->passphrase || c->passphrase_len == 0)
            return r;
        snprintf(name, sizeof name, "passphrase-%zu", i + 1);
        r = write_file(dir, name, c->passphrase, c->passphrase_len, false, 0600, NULL);
    } else {
        snprintf(name, sizeof name, "password-%zu", i + 1);
        r = write_file(dir, name, c->secret, c->secret_len, false, 0600, NULL);
    }
    free(path);
    path = r >= 0 ? path_join(step_dir, name) : NULL;
    snprintf(key, sizeof key, "STEWARD_GIT_SECRET_%zu", i + 1);
    if (r >= 0)
        r = path ? add(userdata, key, path) : -ENOMEM;
    return r;
}

int
git_creds_prepare(const struct home *h, struct store *db, const struct git_scm *g,
                  const char *dir, const char *step_dir, const char *known_hosts,
                  int (*add)(void *userdata, const char *name, const char *value), void *userdata,
                  struct buf *notes, char **reterr_msg)
{
    _cleanup_free_ char *hosts = NULL, *path = NULL;
    size_t hosts_len = 0;
    bool any = false;
    int r;

    *reterr_msg = NULL;
    for (size_t i = 0; i < g->n_remotes; i++) {
        const struct git_remote *rem = &g->remotes[i];

        if (!rem->credentials_id || !*rem->credentials_id)
            continue;
        if (git_url_kind(rem->url, NULL) == GIT_URL_LOCAL) {
            /* nothing logs in to a directory: said, and the credential left alone */
            (void) buf_printf(notes, "The credential '%s' is not used: %s is a repository on "
                              "this machine.\n", rem->credentials_id, rem->url);
            continue;
        }
        if (!any) {
            if (mkdir(dir, 0700) < 0)
                return -errno;
            any = true;
        }
        r = prepare_remote(h, db, rem, i, dir, step_dir, add, userdata, reterr_msg);
        if (r < 0)
            return r;
    }
    if (!any)
        return 0;
    /* the askpass helper, and the host keys ssh trusts (read-only for it: a copy) */
    r = write_file(dir, "askpass", askpass_script, strlen(askpass_script), false, 0700, NULL);
    path = r >= 0 ? path_join(step_dir, "askpass") : NULL;
    if (r >= 0)
        r = path ? add(userdata, "STEWARD_GIT_ASKPASS", path) : -ENOMEM;
    if (r < 0)
        return r;
    r = fs_read_all(known_hosts, BOUND_GIT_KNOWN_HOSTS_BYTES, &hosts, &hosts_len);
    if (r == -ENOENT)
        r = 0;
    if (r < 0)
        return refuse(reterr_msg, "the host keys in %s cannot be read: %s", known_hosts,
                      strerror(-r));
    r = write_file(dir, "known_hosts", hosts ? hosts : "", hosts_len, false, 0600, NULL);
    free(path);
    path = r >= 0 ? path_join(step_dir, "known_hosts") : NULL;
    if (r >= 0)
        r = path ? add(userdata, "STEWARD_GIT_KNOWN_HOSTS", path) : -ENOMEM;
    return r < 0 ? r : 1;
}
