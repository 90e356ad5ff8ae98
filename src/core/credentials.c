/* SPDX-License-Identifier: MIT */
/*
 * The credentials store (core/credentials.h): checks, the key file, and
 * sealing a credential's secrets into one box and opening it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/credentials.h"
#include "util/bounds.h"
#include "util/fs.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

#define KEY_FILE "credentials.key"

static const struct {
    const char *cls, *name, *type_name;
} kinds[_CRED_KIND_MAX] = {
    [CRED_USERNAME_PASSWORD] = { "com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl",
                                 "username-password", "Username with password" },
    [CRED_SSH_KEY] = { "com.cloudbees.jenkins.plugins.sshcredentials.impl.BasicSSHUserPrivateKey",
                       "ssh-key", "SSH Username with private key" },
    [CRED_SECRET_TEXT] = { "org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl",
                           "secret-text", "Secret text" },
    [CRED_FILE] = { "org.jenkinsci.plugins.plaincredentials.impl.FileCredentialsImpl", "file",
                    "Secret file" },
};

const char *
cred_kind_class(enum cred_kind k)
{
    return (unsigned) k < _CRED_KIND_MAX ? kinds[k].cls : "?";
}

const char *
cred_kind_name(enum cred_kind k)
{
    return (unsigned) k < _CRED_KIND_MAX ? kinds[k].name : "?";
}

const char *
cred_kind_type_name(enum cred_kind k)
{
    return (unsigned) k < _CRED_KIND_MAX ? kinds[k].type_name : "?";
}

int
cred_kind_parse(const char *s, enum cred_kind *ret)
{
    for (enum cred_kind k = 0; k < _CRED_KIND_MAX; k++)
        if (s && (streq(s, kinds[k].cls) || streq(s, kinds[k].name))) {
            *ret = k;
            return 0;
        }
    return -EINVAL;
}

/* ---- structs ---- */

void
cred_info_release(struct cred_info *i)
{
    free(i->id);
    free(i->scope);
    free(i->description);
    free(i->username);
    free(i->file_name);
    memset(i, 0, sizeof *i);
}

void
cred_infos_free(struct cred_info *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        cred_info_release(&v[i]);
    free(v);
}

struct cred *
cred_free(struct cred *c)
{
    if (c) {
        cred_info_release(&c->info);
        secret_bytes_free(c->secret, c->secret_len + 1);
        secret_bytes_free(c->passphrase, c->passphrase_len + 1);
        free(c);
    }
    return NULL;
}

void
cred_fields_release(struct cred_fields *f)
{
    free(f->id);
    free(f->scope);
    free(f->description);
    free(f->username);
    free(f->file_name);
    secret_bytes_free(f->secret, f->secret_len);
    secret_bytes_free(f->passphrase, f->passphrase_len);
    memset(f, 0, sizeof *f);
}

/* ---- checks ---- */

int
cred_check_id(const char *id, const char **reterr_why)
{
    size_t len = id ? strlen(id) : 0;

    if (len == 0) {
        *reterr_why = "The credential id is empty.";
        return -EINVAL;
    }
    if (len > BOUND_CREDENTIAL_ID_BYTES) {
        *reterr_why = rfmt("The credential id is longer than %d characters.",
                           BOUND_CREDENTIAL_ID_BYTES);
        return -EINVAL;
    }
    /* the credentials plugin's rule (BaseStandardCredentials doCheckId) */
    if (strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len) {
        *reterr_why = "A credential id may hold only letters, digits, '_', '.' and '-' "
                      "(the credentials plugin's rule).";
        return -EINVAL;
    }
    /* and one of ours: "." and ".." are not a URL segment of their own */
    if (strspn(id, ".") == len) {
        *reterr_why = "A credential id must not be only dots.";
        return -EINVAL;
    }
    return 0;
}

/* A text field: bounded, valid UTF-8, no control characters but in descriptions' line breaks. */
static int
check_text(const char *what, const char *s, size_t max, bool lines, const char **reterr_why)
{
    size_t len;

    if (!s)
        return 0;
    len = strlen(s);
    if (len > max) {
        *reterr_why = rfmt("The %s is longer than %zu bytes.", what, max);
        return -EINVAL;
    }
    if (!utf8_is_valid(s, len)) {
        *reterr_why = rfmt("The %s is not valid UTF-8.", what);
        return -EINVAL;
    }
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if ((*p < 0x20 && !(lines && (*p == '\n' || *p == '\r' || *p == '\t'))) || *p == 0x7f) {
            *reterr_why = rfmt("The %s holds a control character.", what);
            return -EINVAL;
        }
    return 0;
}

int
cred_check(const struct cred_fields *f, bool update, const char **reterr_why)
{
    bool has_user = f->kind == CRED_USERNAME_PASSWORD || f->kind == CRED_SSH_KEY;
    size_t secret_max = f->kind == CRED_FILE ? BOUND_CREDENTIAL_FILE_BYTES
                                             : BOUND_CREDENTIAL_SECRET_BYTES;
    int r;

    if ((unsigned) f->kind >= _CRED_KIND_MAX) {
        *reterr_why = "Unknown kind of credential.";
        return -EINVAL;
    }
    if ((update || (f->id && *f->id)) && (r = cred_check_id(f->id, reterr_why)) < 0)
        return r;
    if (f->scope && !streq(f->scope, "GLOBAL") && !streq(f->scope, "SYSTEM")) {
        *reterr_why = "The scope is GLOBAL (jobs may use it) or SYSTEM (Steward itself only).";
        return -EINVAL;
    }
    r = check_text("description", f->description, BOUND_CREDENTIAL_DESCRIPTION_BYTES, true,
                   reterr_why);
    if (r < 0)
        return r;
    if (has_user) {
        if (!f->username || !*f->username) {
            *reterr_why = rfmt("A %s credential needs a username.", cred_kind_name(f->kind));
            return -EINVAL;
        }
        r = check_text("username", f->username, BOUND_CREDENTIAL_USERNAME_BYTES, false, reterr_why);
        if (r < 0)
            return r;
    } else if (f->username) {
        *reterr_why = rfmt("A %s credential has no username.", cred_kind_name(f->kind));
        return -EINVAL;
    }
    if (f->kind == CRED_FILE) {
        if (!f->file_name || !*f->file_name) {
            *reterr_why = "A file credential needs a file name.";
            return -EINVAL;
        }
        r = check_text("file name", f->file_name, BOUND_CREDENTIAL_FILE_NAME_BYTES, false,
                       reterr_why);
        if (r < 0)
            return r;
        /* the binding wrapper writes the file under this name: a name, never a path */
        if (strchr(f->file_name, '/') || streq(f->file_name, ".") || streq(f->file_name, "..")) {
            *reterr_why = "The file name must be a plain name, without '/'.";
            return -EINVAL;
        }
    } else if (f->file_name) {
        *reterr_why = rfmt("A %s credential has no file name.", cred_kind_name(f->kind));
        return -EINVAL;
    }
    if (!f->secret && !update) {
        *reterr_why = rfmt("A %s credential needs its %s.", cred_kind_name(f->kind),
                           f->kind == CRED_USERNAME_PASSWORD ? "password"
                           : f->kind == CRED_SSH_KEY         ? "private key"
                           : f->kind == CRED_FILE            ? "file content"
                                                             : "secret text");
        return -EINVAL;
    }
    if (f->secret && f->secret_len > secret_max) {
        *reterr_why = rfmt("The secret is longer than %zu bytes.", secret_max);
        return -EINVAL;
    }
    if (f->secret && f->kind != CRED_FILE && memchr(f->secret, '\0', f->secret_len)) {
        *reterr_why = "The secret holds a NUL byte (only a secret file may).";
        return -EINVAL;
    }
    if (f->kind == CRED_SSH_KEY && f->secret && f->secret_len == 0) {
        *reterr_why = "The private key is empty.";
        return -EINVAL;
    }
    if (f->passphrase && f->kind != CRED_SSH_KEY) {
        *reterr_why = rfmt("A %s credential has no passphrase.", cred_kind_name(f->kind));
        return -EINVAL;
    }
    if (f->passphrase && (f->passphrase_len > BOUND_CREDENTIAL_SECRET_BYTES ||
                          memchr(f->passphrase, '\0', f->passphrase_len))) {
        *reterr_why = "The passphrase is too long or holds a NUL byte.";
        return -EINVAL;
    }
    return 0;
}

/* ---- the key ---- */

char *
cred_key_path(const struct home *h)
{
    return path_join(h->secrets_dir, KEY_FILE);
}

/* Reads the key file: 0, -ENOENT when there is none, -ENOKEY when it is not a key. */
static int
key_read(const char *path, unsigned char key[SECRET_BOX_KEY_BYTES])
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    ssize_t n;

    if (fd < 0)
        return errno == ENOENT ? -ENOENT : -ENOKEY;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != SECRET_BOX_KEY_BYTES)
        return -ENOKEY;
    n = read(fd, key, SECRET_BOX_KEY_BYTES);
    if (n != SECRET_BOX_KEY_BYTES) {
        secret_wipe(key, SECRET_BOX_KEY_BYTES);
        return -ENOKEY;
    }
    return 0;
}

/*
 * Makes the key file: a new key into a temporary file (0600), synced, then
 * linked into place, which fails when another process made one meanwhile:
 * then that one is read. Nobody ever sees a half-written key.
 */
static int
key_create(const struct home *h, const char *path, unsigned char key[SECRET_BOX_KEY_BYTES])
{
    _cleanup_free_ char *tmp = NULL;
    char rnd[17];
    int fd, r;

    secret_random_hex(rnd, 8);
    tmp = strdup_printf("%s.%s.tmp", path, rnd);
    if (!tmp)
        return -ENOMEM;
    secret_random_key(key);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    r = fs_write_all(fd, key, SECRET_BOX_KEY_BYTES);
    if (r >= 0 && fsync(fd) < 0)
        r = -errno;
    (void) close(fd);
    if (r >= 0 && link(tmp, path) < 0)
        r = -errno;
    (void) unlink(tmp);
    if (r == -EEXIST)
        return key_read(path, key);
    if (r < 0) {
        secret_wipe(key, SECRET_BOX_KEY_BYTES);
        return r;
    }
    fd = open(h->secrets_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void) fsync(fd);
        (void) close(fd);
    }
    return 0;
}

/*
 * The key, into key[] (the caller wipes it). With `create`, a missing key
 * file is made, but only while the store holds no credential: a new key
 * would silently orphan every box sealed under the lost one.
 */
static int
key_get(const struct home *h, struct store *db, bool create,
        unsigned char key[SECRET_BOX_KEY_BYTES])
{
    _cleanup_free_ char *path = cred_key_path(h);
    int64_t n = 0;
    int r;

    if (!path)
        return -ENOMEM;
    r = key_read(path, key);
    if (r != -ENOENT)
        return r;
    if (!create)
        return -ENOKEY;
    r = store_credential_count(db, &n);
    if (r < 0)
        return r;
    if (n > 0)
        return -ENOKEY;
    return key_create(h, path, key);
}

/* ---- boxes ---- */

/*
 * What a box holds: the credential's id and kind (so that a box copied to
 * another row does not open there), its secret and its passphrase:
 *
 *   "SC1" kind(1) id_len(2) id  secret_len(4) secret  has_pass(1) pass_len(4) pass
 *
 * lengths little-endian.
 */
#define BOX_MAGIC "SC1"

static void
put_u(unsigned char *p, uint32_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char) (v >> (8 * i));
}

static uint32_t
get_u(const unsigned char *p, int n)
{
    uint32_t v = 0;

    for (int i = 0; i < n; i++)
        v |= (uint32_t) p[i] << (8 * i);
    return v;
}

static int
box_seal(const unsigned char key[SECRET_BOX_KEY_BYTES], const char *id, enum cred_kind kind,
         const unsigned char *secret, size_t secret_len, const unsigned char *pass,
         size_t pass_len, unsigned char **ret_box, size_t *ret_len)
{
    size_t id_len = strlen(id);
    size_t len = 3 + 1 + 2 + id_len + 4 + secret_len + 1 + 4 + pass_len;
    unsigned char *plain = malloc(len), *p = plain;
    int r;

    if (!plain)
        return -ENOMEM;
    memcpy(p, BOX_MAGIC, 3);
    p += 3;
    *p++ = (unsigned char) kind;
    put_u(p, (uint32_t) id_len, 2);
    p += 2;
    memcpy(p, id, id_len);
    p += id_len;
    put_u(p, (uint32_t) secret_len, 4);
    p += 4;
    if (secret_len)
        memcpy(p, secret, secret_len);
    p += secret_len;
    *p++ = pass != NULL;
    put_u(p, (uint32_t) pass_len, 4);
    p += 4;
    if (pass_len)
        memcpy(p, pass, pass_len);
    r = secret_box_seal(key, plain, len, ret_box, ret_len);
    secret_bytes_free(plain, len);
    return r;
}

/* A copy of n bytes with a NUL after them, or NULL. */
static unsigned char *
secret_dup(const unsigned char *p, size_t n)
{
    unsigned char *c = malloc(n + 1);

    if (c) {
        if (n)
            memcpy(c, p, n);
        c[n] = '\0';
    }
    return c;
}

static int
box_open(const unsigned char key[SECRET_BOX_KEY_BYTES], const struct credential_row *row,
         struct cred *c)
{
    unsigned char *plain = NULL;
    const unsigned char *p, *end;
    size_t len = 0, id_len, n;
    int r;

    r = secret_box_open(key, row->box, row->box_len, &plain, &len);
    if (r < 0)
        return r;
    /* sealed by us and authenticated: a wrong shape means it belongs elsewhere */
    r = -EBADMSG;
    p = plain;
    end = plain + len;
    if (len < 3 + 1 + 2 || memcmp(p, BOX_MAGIC, 3) != 0 || p[3] != (unsigned char) row->kind)
        goto out;
    id_len = get_u(p + 4, 2);
    p += 6;
    if ((size_t) (end - p) < id_len + 4 || id_len != strlen(row->id) ||
        memcmp(p, row->id, id_len) != 0)
        goto out;
    p += id_len;
    n = get_u(p, 4);
    p += 4;
    if ((size_t) (end - p) < n + 5)
        goto out;
    c->secret = secret_dup(p, n);
    c->secret_len = n;
    p += n;
    if (*p++) {
        n = get_u(p, 4);
        p += 4;
        if ((size_t) (end - p) != n)
            goto out;
        c->passphrase = secret_dup(p, n);
        c->passphrase_len = n;
        if (!c->passphrase) {
            r = -ENOMEM;
            goto out;
        }
    }
    r = c->secret ? 0 : -ENOMEM;
out:
    secret_bytes_free(plain, len + 1);
    return r;
}

/* ---- the store's rows ---- */

static int
info_from_row(struct credential_row *row, struct cred_info *i)
{
    if ((unsigned) row->kind >= _CRED_KIND_MAX)
        return -EBADMSG;
    *i = (struct cred_info){ .id = TAKE_PTR(row->id), .kind = (enum cred_kind) row->kind,
                             .scope = TAKE_PTR(row->scope),
                             .description = TAKE_PTR(row->description),
                             .username = TAKE_PTR(row->username),
                             .username_secret = row->username_secret,
                             .file_name = TAKE_PTR(row->file_name),
                             .created_ms = row->created_ms, .updated_ms = row->updated_ms };
    return 0;
}

int
cred_get_info(struct store *db, const char *id, struct cred_info *ret)
{
    struct credential_row row = {};
    int r = store_credential_get(db, id, &row);

    if (r >= 0)
        r = info_from_row(&row, ret);
    credential_row_release(&row);
    return r;
}

int
cred_list(struct store *db, struct cred_info **ret, size_t *ret_n)
{
    struct credential_row *rows = NULL;
    struct cred_info *v = NULL;
    size_t n = 0, k = 0;
    int r = store_credential_list(db, &rows, &n);

    if (r < 0)
        return r;
    if (n) {
        v = calloc(n, sizeof *v);
        if (!v) {
            credential_rows_free(rows, n);
            return -ENOMEM;
        }
    }
    /* a row of a kind this Steward does not know (a newer one wrote it) is left out */
    for (size_t i = 0; i < n; i++)
        if (info_from_row(&rows[i], &v[k]) >= 0)
            k++;
    credential_rows_free(rows, n);
    *ret = v;
    *ret_n = k;
    return 0;
}

int
cred_get(const struct home *h, struct store *db, const char *id, struct cred **ret)
{
    unsigned char key[SECRET_BOX_KEY_BYTES];
    struct credential_row row = {};
    struct cred *c;
    int r;

    r = store_credential_get(db, id, &row);
    if (r < 0)
        return r;
    c = calloc(1, sizeof *c);
    if (!c) {
        credential_row_release(&row);
        return -ENOMEM;
    }
    r = key_get(h, db, false, key);
    if (r >= 0)
        r = box_open(key, &row, c);
    secret_wipe(key, sizeof key);
    if (r >= 0)
        r = info_from_row(&row, &c->info);
    credential_row_release(&row);
    if (r < 0) {
        cred_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

/* The row for f, its box sealed over (secret, pass). */
static int
row_for(const unsigned char key[SECRET_BOX_KEY_BYTES], const struct cred_fields *f,
        const unsigned char *secret, size_t secret_len, const unsigned char *pass,
        size_t pass_len, struct credential_row *row)
{
    *row = (struct credential_row){ .id = f->id, .kind = (int) f->kind,
                                    .scope = f->scope ? f->scope : (char *) "GLOBAL",
                                    .description = f->description ? f->description : (char *) "",
                                    .username = f->username, .username_secret = f->username_secret,
                                    .file_name = f->file_name, .updated_ms = now_ms() };
    /* an empty passphrase is none */
    if (pass && pass_len == 0)
        pass = NULL;
    return box_seal(key, f->id, f->kind, secret, secret_len, pass, pass_len, &row->box,
                    &row->box_len);
}

int
cred_add(const struct home *h, struct store *db, struct cred_fields *f, const char **reterr_why)
{
    unsigned char key[SECRET_BOX_KEY_BYTES];
    struct credential_row row;
    int64_t n = 0;
    int r;

    r = cred_check(f, false, reterr_why);
    if (r < 0)
        return r;
    if (!f->id || !*f->id) {
        char uuid[SECRET_UUID_LEN + 1];

        free(f->id);
        secret_random_uuid(uuid);
        f->id = strdup(uuid);
        if (!f->id)
            return -ENOMEM;
    }
    r = store_credential_count(db, &n);
    if (r < 0)
        return r;
    if (n >= BOUND_CREDENTIALS) {
        *reterr_why = rfmt("The store holds %d credentials, its limit.", BOUND_CREDENTIALS);
        return -ENOSPC;
    }
    r = key_get(h, db, true, key);
    if (r < 0)
        return r;
    r = row_for(key, f, f->secret, f->secret_len, f->passphrase, f->passphrase_len, &row);
    secret_wipe(key, sizeof key);
    if (r < 0)
        return r;
    row.created_ms = row.updated_ms;
    r = store_credential_add(db, &row);
    secret_bytes_free(row.box, row.box_len);
    return r;
}

int
cred_update(const struct home *h, struct store *db, const struct cred_fields *f,
            const char **reterr_why)
{
    unsigned char key[SECRET_BOX_KEY_BYTES];
    _cleanup_(cred_freep) struct cred *old = NULL;
    const unsigned char *secret, *pass;
    size_t secret_len, pass_len;
    struct credential_row row;
    int r;

    r = cred_check(f, true, reterr_why);
    if (r < 0)
        return r;
    r = cred_get(h, db, f->id, &old);
    if (r < 0)
        return r;
    if (!f->secret && old->info.kind != f->kind) {
        *reterr_why = rfmt("Credential '%s' is a %s credential; to make it a %s one, give its "
                           "new secret too.", f->id, cred_kind_name(old->info.kind),
                           cred_kind_name(f->kind));
        return -EINVAL;
    }
    secret = f->secret ? f->secret : old->secret;
    secret_len = f->secret ? f->secret_len : old->secret_len;
    pass = f->passphrase ? f->passphrase : f->kind == CRED_SSH_KEY ? old->passphrase : NULL;
    pass_len = f->passphrase ? f->passphrase_len : f->kind == CRED_SSH_KEY ? old->passphrase_len : 0;
    r = key_get(h, db, false, key);
    if (r < 0)
        return r;
    r = row_for(key, f, secret, secret_len, pass, pass_len, &row);
    secret_wipe(key, sizeof key);
    if (r < 0)
        return r;
    r = store_credential_update(db, &row);
    secret_bytes_free(row.box, row.box_len);
    return r;
}

int
cred_remove(struct store *db, const char *id)
{
    return store_credential_delete(db, id);
}

const char *
cred_strerror(int r)
{
    switch (r) {
    case -ENOENT:
        return "There is no credential with that id.";
    case -EEXIST:
        return "A credential with that id already exists.";
    case -ENOKEY:
        return "The credentials key (secrets/" KEY_FILE " in the home directory) is missing "
               "or is not a key, so the stored secrets cannot be opened. Restore it from the "
               "backup that holds this database, or remove the credentials and add them again.";
    case -EBADMSG:
        return "The stored secret does not open with the key in secrets/" KEY_FILE ": the "
               "database row is damaged, or the key file is not the one it was sealed with "
               "(restore both from the same backup).";
    case -ENOSPC:
        return "No room: the credentials limit is reached, or the disk is full.";
    default:
        return strerror(-r);
    }
}
