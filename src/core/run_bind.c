/* SPDX-License-Identifier: MIT */
/*
 * The Credentials Binding wrapper: credentials bound into a build's
 * environment and @tmp files before any step, masked in its log.
 */
#include "core/engine_int.h"

/* ---- the Credentials Binding wrapper ---- */

static const char *
binding_name(enum binding_kind k)
{
    switch (k) {
    case BINDING_USERNAME_PASSWORD_MULTI:
        return "username and password (separated)";
    case BINDING_USERNAME_PASSWORD:
        return "username and password (conjoined)";
    case BINDING_STRING:
        return "secret text";
    case BINDING_FILE:
        return "secret file";
    case BINDING_SSH_KEY:
        return "SSH user private key";
    default:
        return "?";
    }
}

static enum cred_kind
binding_wants(enum binding_kind k)
{
    switch (k) {
    case BINDING_STRING:
        return CRED_SECRET_TEXT;
    case BINDING_FILE:
        return CRED_FILE;
    case BINDING_SSH_KEY:
        return CRED_SSH_KEY;
    default:
        return CRED_USERNAME_PASSWORD;
    }
}

/* NAME=value into `v`; a copy of `value` into `secrets` when it is a secret (and not empty). */
static int
bind_add(struct run *run, const char *name, const char *value, bool secret)
{
    char **v;

    if (!name)
        return 0;
    v = realloc(run->bind_env, (run->n_bind_env + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    run->bind_env = v;
    if (asprintf(&v[run->n_bind_env], "%s=%s", name, value) < 0)
        return -ENOMEM;
    run->n_bind_env++;
    if (!secret || !*value)
        return 0;
    v = realloc(run->bind_secrets, (run->n_bind_secrets + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    run->bind_secrets = v;
    if (!(v[run->n_bind_secrets] = strdup(value)))
        return -ENOMEM;
    run->n_bind_secrets++;
    return 0;
}

/* A bound file: in the build's own directory of them, made on the first, given to the build user. */
static int
bind_file(struct run *run, const char *name, const void *data, size_t len, char **ret_path)
{
    _cleanup_free_ char *path = NULL;
    char rnd[33];
    int r;

    if (!run->bind_dir) {
        secret_random_hex(rnd, 16);
        if (asprintf(&run->bind_dir, "%s/secretFiles-%s", run->tmpdir, rnd) < 0) {
            run->bind_dir = NULL;
            return -ENOMEM;
        }
        /* a new directory in @tmp, never one a build left there */
        if (mkdir(run->bind_dir, 0700) < 0) {
            r = -errno;
            free(run->bind_dir);
            run->bind_dir = NULL;
            return r;
        }
    }
    path = path_join(run->bind_dir, name);
    if (!path)
        return -ENOMEM;
    r = fs_write_atomic(path, data, len, 0600);
    if (r < 0)
        return r;
    *ret_path = TAKE_PTR(path);
    return 0;
}

/*
 * The Credentials Binding wrapper's bindings (org.jenkinsci.plugins.
 * credentialsbinding.impl.SecretBuildWrapper): each credential looked up,
 * its values kept for the shell steps' environment (run->bind_env, added
 * after the checkout, which never sees them) and the mask, its files
 * written into run->bind_dir. 0; -EKEYREJECTED after saying in the
 * console which binding cannot run and what to do; -errno.
 */
int
bind_credentials(struct engine *e, struct run *run)
{
    const struct job_config *cfg = run->cfg;
    int r = 0;

    for (size_t i = 0; i < cfg->n_bindings && r >= 0; i++) {
        const struct cred_binding *b = &cfg->bindings[i];
        _cleanup_(cred_freep) struct cred *c = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_secret_ char *joined = NULL;
        const char *id = b->credentials_id;

        if (b->kind == BINDING_OTHER) {
            run_log(run->logfd, "ERROR: the credentials binding %s is not run by Steward: bind "
                      "a username and password, a secret text, a secret file or an SSH key "
                      "instead (docs/COMPAT.md).\n", b->other);
            return -EKEYREJECTED;
        }
        r = cred_get(e->home, e->db, id, &c);
        if (r == -ENOENT) {
            run_log(run->logfd, "ERROR: the credential '%s' of the credentials binding does not "
                      "exist. An administrator adds it (steward credentials add --id %s ..., or "
                      "the Credentials page), or the job binds another.\n", id, id);
            return -EKEYREJECTED;
        }
        if (r == -ENOKEY || r == -EBADMSG) {
            run_log(run->logfd, "ERROR: the credential '%s' of the credentials binding cannot "
                      "be opened: %s\n", id, cred_strerror(r));
            return -EKEYREJECTED;
        }
        if (r < 0)
            return r;
        if (streq(c->info.scope, "SYSTEM")) {
            run_log(run->logfd, "ERROR: the credential '%s' of the credentials binding has "
                      "scope SYSTEM: such credentials are for Steward itself and never given to "
                      "builds. An administrator makes its scope GLOBAL, or the job binds "
                      "another.\n", id);
            return -EKEYREJECTED;
        }
        if (c->info.kind != binding_wants(b->kind)) {
            run_log(run->logfd, "ERROR: the credential '%s' is a \"%s\" credential, and the %s "
                      "binding takes \"%s\" credentials. Bind it another way, or bind another "
                      "credential.\n", id, cred_kind_type_name(c->info.kind),
                      binding_name(b->kind), cred_kind_type_name(binding_wants(b->kind)));
            return -EKEYREJECTED;
        }
        switch (b->kind) {
        case BINDING_USERNAME_PASSWORD_MULTI:
            r = bind_add(run, b->username_variable, c->info.username ? c->info.username : "",
                         c->info.username_secret);
            if (r >= 0)
                r = bind_add(run, b->password_variable, (const char *) c->secret, true);
            break;
        case BINDING_USERNAME_PASSWORD:
            if (asprintf(&joined, "%s:%s", c->info.username ? c->info.username : "",
                         (const char *) c->secret) < 0) {
                joined = NULL;
                return -ENOMEM;
            }
            r = bind_add(run, b->variable, joined, true);
            /* the password alone is masked too, as the plugin does */
            if (r >= 0 && c->secret_len) {
                char **v = realloc(run->bind_secrets, (run->n_bind_secrets + 1) * sizeof *v);
                r = v ? 0 : -ENOMEM;
                if (v) {
                    run->bind_secrets = v;
                    v[run->n_bind_secrets] = strdup((const char *) c->secret);
                    r = v[run->n_bind_secrets] ? (run->n_bind_secrets++, 0) : -ENOMEM;
                }
            }
            break;
        case BINDING_STRING:
            r = bind_add(run, b->variable, (const char *) c->secret, true);
            break;
        case BINDING_FILE: {
            const char *name = c->info.file_name;

            /* the file's own name, where it is one */
            if (!name || !*name || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                name = "secret";
            r = bind_file(run, name, c->secret, c->secret_len, &path);
            if (r >= 0)
                r = bind_add(run, b->variable, path, false);
            break;
        }
        case BINDING_SSH_KEY: {
            bool nl = c->secret_len && c->secret[c->secret_len - 1] != '\n';
            _cleanup_free_ char *key = malloc(c->secret_len + 1);

            if (!key)
                return -ENOMEM;
            memcpy(key, c->secret, c->secret_len);
            key[c->secret_len] = '\n';
            r = bind_file(run, "ssh-key", key, c->secret_len + nl, &path);
            secret_wipe(key, c->secret_len + 1);
            if (r >= 0)
                r = bind_add(run, b->variable, path, false);
            if (r >= 0)
                r = bind_add(run, b->username_variable,
                             c->info.username ? c->info.username : "", false);
            if (r >= 0)
                r = bind_add(run, b->password_variable,
                             c->passphrase ? (const char *) c->passphrase : "", true);
            break;
        }
        default:
            break;
        }
    }
    if (r >= 0 && run->bind_dir)
        r = sandbox_prepare_dir(e->opts.sandbox, run->bind_dir);
    return r;
}

/* The bound variables join the shell steps' environment (after the checkout's). */
int
add_bound_env(struct run *run)
{
    size_t n = env_count(run->env);
    int r = 0;

    for (size_t i = 0; i < run->n_bind_env && r >= 0; i++) {
        const char *kv = run->bind_env[i], *eq = strchr(kv, '=');
        _cleanup_free_ char *name = strndup(kv, (size_t) (eq - kv));
        r = name ? env_add(&run->env, &n, name, eq + 1) : -ENOMEM;
    }
    return r;
}
