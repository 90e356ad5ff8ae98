/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The credentials store: Jenkins' ids and its four common kinds of
 * credential, for the code that needs a secret to do its work (a git
 * checkout, the credentials-binding wrapper, a webhook's shared secret).
 *
 * Where things are:
 *   - steward.db, table `credentials` (store/credentials.c): the id, the
 *     kind, the scope, the description, the username and file name in
 *     clear (Credentials/View may list them), and the secrets in one box
 *     sealed with libsodium's crypto_secretbox (util/secret).
 *   - HOME/secrets/credentials.key: the box key, 32 random bytes, mode
 *     0600, made on the first add while the table is empty. The backup
 *     copies secrets/ with the database; a database without its key file
 *     keeps its credentials but cannot open their secrets (-ENOKEY).
 *   A box holds the credential's id and kind besides its secrets, so a box
 *   moved to another row does not open either (-EBADMSG).
 *
 * Rules every caller can rely on:
 *   - Ids follow the credentials plugin: 1 to BOUND_CREDENTIAL_ID_BYTES of
 *     [A-Za-z0-9_.-], not only dots; an empty id on add becomes a random
 *     UUID, as the plugin's fixEmptyId does.
 *   - Every field has a bound in util/bounds.h; bad input is -EINVAL with a
 *     sentence in *reterr_why, and changes nothing.
 *   - Secrets leave this module only in a `struct cred` from cred_get(),
 *     whose cred_free() wipes them (sodium_memzero) before freeing. Lists
 *     and struct cred_info never hold a secret.
 *   - Nothing here writes the audit log: the caller knows who acted (see
 *     app_audit(), offline_audit()). Nothing here logs a secret.
 *   - Scope SYSTEM means, as in Jenkins, "for Steward itself only": a
 *     consumer that hands secrets to builds (a build's Git checkout and
 *     polls, the binding wrapper) must refuse SYSTEM credentials; the
 *     server's own checks (a webhook's shared secret) may use both.
 *
 * Errors: -EINVAL (bad input), -EEXIST (the id is taken), -ENOENT (no
 * such credential), -ENOKEY (the key file is missing or not a key),
 * -EBADMSG (a box does not open: damaged, or sealed under another key),
 * -ENOSPC (BOUND_CREDENTIALS reached, or a full disk), or a store error.
 * cred_strerror() gives each a sentence for people.
 *
 * Each function takes the home (for the key) and a store connection of the
 * calling thread; the writes are one statement each, so concurrent callers
 * (the server's threads, an offline command) need no other lock.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/home.h"
#include "store/store.h"

enum cred_kind {
    CRED_USERNAME_PASSWORD, /* username; secret: the password */
    CRED_SSH_KEY,           /* username; secret: the private key (PEM/OpenSSH); passphrase */
    CRED_SECRET_TEXT,       /* secret: the text */
    CRED_FILE,              /* file_name; secret: the file's bytes (any bytes) */
    _CRED_KIND_MAX,
};

/* "com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl", ... */
const char *cred_kind_class(enum cred_kind k);
/* "username-password", "ssh-key", "secret-text", "file": the CLI's words */
const char *cred_kind_name(enum cred_kind k);
/* "Username with password", ...: the plugins' typeName */
const char *cred_kind_type_name(enum cred_kind k);
/* Reads a kind by its CLI word or its class name. 0 or -EINVAL. */
int cred_kind_parse(const char *s, enum cred_kind *ret);

/* What may be shown to whoever holds Credentials/View: never a secret. */
struct cred_info {
    char *id;
    enum cred_kind kind;
    char *scope;            /* "GLOBAL" or "SYSTEM" */
    char *description;      /* "" when none */
    char *username;         /* NULL for secret text and files */
    bool username_secret;   /* UsernamePasswordCredentialsImpl's usernameSecret */
    char *file_name;        /* CRED_FILE only */
    int64_t created_ms, updated_ms;
};
void cred_info_release(struct cred_info *i);
void cred_infos_free(struct cred_info *v, size_t n);

/* A credential with its secrets, from cred_get(). */
struct cred {
    struct cred_info info;
    unsigned char *secret;  /* a NUL follows; may hold NULs itself (a file) */
    size_t secret_len;
    unsigned char *passphrase; /* CRED_SSH_KEY; NULL when the key has none */
    size_t passphrase_len;
};
/* Wipes the secrets, frees everything; returns NULL. NULL is fine. */
struct cred *cred_free(struct cred *c);
static inline void cred_freep(struct cred **p) { cred_free(*p); }

/*
 * A credential to add or update, as a caller builds it from a request, a
 * command line or XML. Every pointer is owned: cred_fields_release()
 * frees them and wipes the secrets.
 *
 * secret == NULL means "not given": an error for cred_add(), "keep the
 * stored one" for cred_update() (what a config.xml read back with
 * <secret-redacted/> means). The same for passphrase, and an empty
 * passphrase means none. scope NULL is GLOBAL; description NULL is "".
 */
struct cred_fields {
    char *id;
    enum cred_kind kind;
    char *scope;
    char *description;
    char *username;
    bool username_secret;
    char *file_name;
    unsigned char *secret;
    size_t secret_len;
    unsigned char *passphrase;
    size_t passphrase_len;
};
void cred_fields_release(struct cred_fields *f);

/* Checks an id (not an empty one). 0, or -EINVAL with *reterr_why (static). */
int cred_check_id(const char *id, const char **reterr_why);
/*
 * Checks every field for the kind (an empty id passes: cred_add() makes
 * one), for an add or (`update`) an update. 0, or -EINVAL with *reterr_why
 * (lent: static, or from rfmt()).
 */
int cred_check(const struct cred_fields *f, bool update, const char **reterr_why);

/*
 * Adds a credential. An empty or NULL f->id is replaced by a new UUID
 * (so the caller can say which id it got). Makes the key file if there is
 * none and the store holds no credential yet. 0; -EINVAL with *reterr_why;
 * -EEXIST; -ENOSPC past BOUND_CREDENTIALS; -ENOKEY; store errors.
 */
int cred_add(const struct home *h, struct store *db, struct cred_fields *f,
             const char **reterr_why);
/*
 * Replaces credential f->id with f, keeping its creation time, and the
 * stored secret and passphrase where f has none (see struct cred_fields).
 * The kind may change only when a new secret is given. 0; -EINVAL with
 * *reterr_why; -ENOENT; -ENOKEY; -EBADMSG; store errors.
 */
int cred_update(const struct home *h, struct store *db, const struct cred_fields *f,
                const char **reterr_why);
/* Removes a credential. 0 or -ENOENT, store errors. No key needed. */
int cred_remove(struct store *db, const char *id);

/*
 * The credential `id` with its secrets opened, for the code that uses
 * them: free it with cred_free() as soon as the secret has been used.
 * 0; -ENOENT; -ENOKEY; -EBADMSG; -ENOMEM; store errors.
 */
int cred_get(const struct home *h, struct store *db, const char *id, struct cred **ret);
/* The credential `id` without secrets (no key needed). 0, -ENOENT, store errors. */
int cred_get_info(struct store *db, const char *id, struct cred_info *ret);
/* Every credential without secrets, sorted by id; *ret NULL when none. */
int cred_list(struct store *db, struct cred_info **ret, size_t *ret_n);

/* A sentence for an error of this module, naming the key file where it matters. */
const char *cred_strerror(int r);

/* HOME/secrets/credentials.key, newly allocated (NULL on ENOMEM). */
char *cred_key_path(const struct home *h);

/* ---- XML, as the credentials plugins write one credential (core/credentials_xml.c) ---- */

/*
 * Reads one credential's XML: the root element is the kind's class, its
 * children the plugin's fields (scope, id, description, username,
 * password, usernameSecret, privateKeySource/privateKey, passphrase,
 * secret, fileName, secretBytes in base64). A secret given as
 * <secret-redacted/> (or left out) is "not given". Values a Jenkins
 * encrypted ({AQAAAB...}) are refused: only that Jenkins can open them.
 * Fills *ret (release with cred_fields_release()). 0, -ENOMEM, or -EINVAL
 * with *reterr_msg newly allocated.
 */
int cred_xml_parse(const char *xml, size_t len, struct cred_fields *ret, char **reterr_msg);
/*
 * Appends the credential's XML, as the plugin's config.xml GET answers it:
 * each secret (also one that is empty or absent) as <secret-redacted/>.
 * 0 or -E2BIG/-ENOMEM from the buffer.
 */
struct buf;
int cred_xml_write_redacted(const struct cred_info *c, struct buf *out);
