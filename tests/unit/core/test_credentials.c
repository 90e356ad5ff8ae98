/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/credentials.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/macro.h"
#include "util/secret.h"

struct fixture {
    struct home *home;
    struct store *db;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int setup(void **state)
{
    char tmpl[] = "/tmp/steward-test-cred-XXXXXX";
    struct fixture *f = calloc(1, sizeof *f);

    if (!f || secret_init() < 0 || !mkdtemp(tmpl) || home_open(tmpl, &f->home) < 0 ||
        store_open(f->home->db_path, &f->db) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->db);
    (void) nftw(f->home->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    home_free(f->home);
    free(f);
    return 0;
}

/* Owned fields for a credential of `kind`. */
static struct cred_fields fields(const char *id, enum cred_kind kind, const char *secret)
{
    struct cred_fields c = { .id = id ? strdup(id) : NULL, .kind = kind };

    if (kind == CRED_USERNAME_PASSWORD || kind == CRED_SSH_KEY)
        c.username = strdup("deploy");
    if (kind == CRED_FILE)
        c.file_name = strdup("settings.xml");
    if (secret) {
        c.secret = (unsigned char *) strdup(secret);
        c.secret_len = strlen(secret);
    }
    return c;
}

static int add(struct fixture *f, const char *id, enum cred_kind kind, const char *secret)
{
    struct cred_fields c = fields(id, kind, secret);
    const char *why = NULL;
    int r = cred_add(f->home, f->db, &c, &why);

    cred_fields_release(&c);
    return r;
}

/* Runs one statement on the database file with a connection of its own. */
static void raw_sql(struct fixture *f, const char *sql)
{
    sqlite3 *h = NULL;

    assert_int_equal(sqlite3_open(f->home->db_path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

static void cred_add__seals_the_secret_and_cred_get_opens_it(void **state)
{
    struct fixture *f = *state;
    _cleanup_(cred_freep) struct cred *c = NULL;
    struct credential_row row = {};
    struct stat st;
    _cleanup_free_ char *key = cred_key_path(f->home);

    assert_int_equal(add(f, "gh", CRED_USERNAME_PASSWORD, "hunter2"), 0);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    assert_int_equal(store_credential_get(f->db, "gh", &row), 0);
    assert_null(memmem(row.box, row.box_len, "hunter2", 7));
    credential_row_release(&row);

    assert_int_equal(cred_get(f->home, f->db, "gh", &c), 0);
    assert_int_equal(c->info.kind, CRED_USERNAME_PASSWORD);
    assert_string_equal(c->info.username, "deploy");
    assert_string_equal(c->info.scope, "GLOBAL");
    assert_string_equal(c->info.description, "");
    assert_int_equal(c->secret_len, 7);
    assert_string_equal((char *) c->secret, "hunter2");
    assert_null(c->passphrase);
    assert_int_equal(cred_get(f->home, f->db, "nope", &c), -ENOENT);
}

static void cred_add__gives_an_empty_id_a_uuid_and_refuses_a_taken_one(void **state)
{
    struct fixture *f = *state;
    struct cred_fields c = fields(NULL, CRED_SECRET_TEXT, "t");
    struct cred_info *v = NULL;
    const char *why = NULL;
    size_t n = 0;

    assert_int_equal(cred_add(f->home, f->db, &c, &why), 0);
    assert_non_null(c.id);
    assert_int_equal(strlen(c.id), 36);
    assert_int_equal(add(f, c.id, CRED_SECRET_TEXT, "u"), -EEXIST);
    assert_int_equal(cred_list(f->db, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, c.id);
    cred_infos_free(v, n);
    cred_fields_release(&c);
}

static void cred_check__follows_the_plugins_id_rule_and_every_bound(void **state)
{
    static const char *const bad_ids[] = { "a b", "a/b", "é", "..", ".", "a\n" };
    const char *why = NULL;
    char long_id[BOUND_CREDENTIAL_ID_BYTES + 2];

    (void) state;
    assert_int_equal(cred_check_id("Deploy_key-1.prod", &why), 0);
    for (size_t i = 0; i < ELEMENTSOF(bad_ids); i++) {
        why = NULL;
        assert_int_equal(cred_check_id(bad_ids[i], &why), -EINVAL);
        assert_non_null(why);
    }
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(cred_check_id(long_id, &why), -EINVAL);
    long_id[BOUND_CREDENTIAL_ID_BYTES] = '\0';
    assert_int_equal(cred_check_id(long_id, &why), 0);

    {
        struct cred_fields c = fields("x", CRED_SECRET_TEXT, "s");
        c.username = strdup("nobody");
        assert_int_equal(cred_check(&c, false, &why), -EINVAL);
        assert_non_null(strstr(why, "no username"));
        cred_fields_release(&c);
    }
    {
        struct cred_fields c = fields("x", CRED_USERNAME_PASSWORD, NULL);
        c.secret = malloc(3);
        memcpy(c.secret, "s\0t", 3);   /* a NUL inside a password */
        c.secret_len = 3;
        assert_int_equal(cred_check(&c, false, &why), -EINVAL);
        cred_fields_release(&c);
    }
    {
        struct cred_fields c = fields("x", CRED_FILE, "s");
        free(c.file_name);
        c.file_name = strdup("../etc/passwd");
        assert_int_equal(cred_check(&c, false, &why), -EINVAL);
        cred_fields_release(&c);
    }
    {
        struct cred_fields c = fields("x", CRED_SECRET_TEXT, NULL);
        c.secret_len = BOUND_CREDENTIAL_SECRET_BYTES + 1;
        c.secret = calloc(1, c.secret_len);
        memset(c.secret, 'a', c.secret_len);
        assert_int_equal(cred_check(&c, false, &why), -EINVAL);
        c.secret_len--;
        assert_int_equal(cred_check(&c, false, &why), 0);
        c.secret_len++;
        cred_fields_release(&c);
    }
}

static void cred_get__says_ebadmsg_for_a_damaged_box_and_a_wrong_key(void **state)
{
    struct fixture *f = *state;
    struct cred *c = NULL;
    _cleanup_free_ char *key = cred_key_path(f->home);
    unsigned char other[32];
    int fd;

    assert_int_equal(add(f, "a", CRED_SECRET_TEXT, "alpha"), 0);
    assert_int_equal(add(f, "b", CRED_SECRET_TEXT, "bravo"), 0);

    /* a flipped bit anywhere in a stored box */
    {
        struct credential_row row = {};

        assert_int_equal(store_credential_get(f->db, "a", &row), 0);
        for (size_t i = 0; i < row.box_len; i++) {
            row.box[i] ^= 0x80;
            assert_int_equal(store_credential_update(f->db, &row), 0);
            assert_int_equal(cred_get(f->home, f->db, "a", &c), -EBADMSG);
            assert_null(c);
            row.box[i] ^= 0x80;
        }
        assert_int_equal(store_credential_update(f->db, &row), 0);
        assert_int_equal(cred_get(f->home, f->db, "a", &c), 0);
        c = cred_free(c);
        credential_row_release(&row);
    }
    /* a box cut short, and an empty one */
    raw_sql(f, "UPDATE credentials SET box = substr(box, 1, 10) WHERE id = 'a'");
    assert_int_equal(cred_get(f->home, f->db, "a", &c), -EBADMSG);
    raw_sql(f, "UPDATE credentials SET box = X'' WHERE id = 'a'");
    assert_int_equal(cred_get(f->home, f->db, "a", &c), -EBADMSG);
    /* b's box moved to a's row: sealed for b, it does not open as a */
    raw_sql(f, "UPDATE credentials SET box = (SELECT box FROM credentials WHERE id = 'b') "
               "WHERE id = 'a'");
    assert_int_equal(cred_get(f->home, f->db, "a", &c), -EBADMSG);
    /* a kind changed behind the store's back */
    raw_sql(f, "UPDATE credentials SET kind = 0, username = 'u' WHERE id = 'b'");
    assert_int_equal(cred_get(f->home, f->db, "b", &c), -EBADMSG);
    raw_sql(f, "UPDATE credentials SET kind = 2, username = NULL WHERE id = 'b'");
    assert_int_equal(cred_get(f->home, f->db, "b", &c), 0);
    c = cred_free(c);

    /* another key in the key file */
    secret_random_key(other);
    fd = open(key, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, other, sizeof other), (ssize_t) sizeof other);
    close(fd);
    assert_int_equal(cred_get(f->home, f->db, "b", &c), -EBADMSG);
    assert_non_null(strstr(cred_strerror(-EBADMSG), "credentials.key"));
}

static void cred_get__says_enokey_without_a_key_and_cred_add_makes_none(void **state)
{
    struct fixture *f = *state;
    struct cred *c = NULL;
    _cleanup_free_ char *key = cred_key_path(f->home);
    struct cred_info info = {};
    int fd;

    assert_int_equal(add(f, "a", CRED_SECRET_TEXT, "alpha"), 0);
    assert_int_equal(unlink(key), 0);
    assert_int_equal(cred_get(f->home, f->db, "a", &c), -ENOKEY);
    /* a new key would orphan "a" for good: none is made while a credential exists */
    assert_int_equal(add(f, "b", CRED_SECRET_TEXT, "bravo"), -ENOKEY);
    assert_int_equal(access(key, F_OK), -1);
    /* what needs no key still works */
    assert_int_equal(cred_get_info(f->db, "a", &info), 0);
    cred_info_release(&info);
    /* a key file of the wrong size is not a key */
    fd = open(key, O_WRONLY | O_CREAT, 0600);
    assert_int_equal(write(fd, "short", 5), 5);
    close(fd);
    assert_int_equal(cred_get(f->home, f->db, "a", &c), -ENOKEY);
    assert_non_null(strstr(cred_strerror(-ENOKEY), "Restore"));
    /* once the store is empty, a new key may be made */
    assert_int_equal(cred_remove(f->db, "a"), 0);
    assert_int_equal(unlink(key), 0);
    assert_int_equal(add(f, "b", CRED_SECRET_TEXT, "bravo"), 0);
    assert_int_equal(cred_remove(f->db, "zzz"), -ENOENT);
}

static void cred_update__keeps_secrets_not_given_and_refuses_a_silent_kind_change(void **state)
{
    struct fixture *f = *state;
    _cleanup_(cred_freep) struct cred *c = NULL;
    struct cred_fields u;
    const char *why = NULL;

    {
        struct cred_fields k = fields("k", CRED_SSH_KEY, "-----BEGIN KEY-----\n");
        k.passphrase = (unsigned char *) strdup("pp");
        k.passphrase_len = 2;
        assert_int_equal(cred_add(f->home, f->db, &k, &why), 0);
        cred_fields_release(&k);
    }
    /* a new description, no secret: both secrets stay */
    u = fields("k", CRED_SSH_KEY, NULL);
    u.description = strdup("rotated later");
    assert_int_equal(cred_update(f->home, f->db, &u, &why), 0);
    cred_fields_release(&u);
    assert_int_equal(cred_get(f->home, f->db, "k", &c), 0);
    assert_string_equal(c->info.description, "rotated later");
    assert_string_equal((char *) c->secret, "-----BEGIN KEY-----\n");
    assert_string_equal((char *) c->passphrase, "pp");
    c = cred_free(c);
    /* an empty passphrase is none */
    u = fields("k", CRED_SSH_KEY, NULL);
    u.passphrase = (unsigned char *) strdup("");
    assert_int_equal(cred_update(f->home, f->db, &u, &why), 0);
    cred_fields_release(&u);
    assert_int_equal(cred_get(f->home, f->db, "k", &c), 0);
    assert_null(c->passphrase);
    c = cred_free(c);
    /* another kind without its secret would keep a key as a password: refused */
    u = fields("k", CRED_USERNAME_PASSWORD, NULL);
    assert_int_equal(cred_update(f->home, f->db, &u, &why), -EINVAL);
    assert_non_null(strstr(why, "new secret"));
    cred_fields_release(&u);
    u = fields("nope", CRED_SECRET_TEXT, "x");
    assert_int_equal(cred_update(f->home, f->db, &u, &why), -ENOENT);
    cred_fields_release(&u);
}

static void cred_xml_parse__reads_each_kind_and_writes_it_back_redacted(void **state)
{
    static const char up[] =
        "<?xml version='1.1' encoding='UTF-8'?>\n"
        "<com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl plugin=\"credentials@2.6\">\n"
        "  <scope>GLOBAL</scope><id> deploy </id><description>a &amp; b</description>\n"
        "  <username>bob</username><password><![CDATA[p<w>]]></password>\n"
        "  <usernameSecret>true</usernameSecret><unknownField>x</unknownField>\n"
        "</com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>";
    static const char file[] =
        "<org.jenkinsci.plugins.plaincredentials.impl.FileCredentialsImpl>"
        "<id>f</id><fileName>a.bin</fileName><secretBytes>AAEC\n/w==</secretBytes>"
        "</org.jenkinsci.plugins.plaincredentials.impl.FileCredentialsImpl>";
    static const char ssh[] =
        "<com.cloudbees.jenkins.plugins.sshcredentials.impl.BasicSSHUserPrivateKey>"
        "<scope>SYSTEM</scope><id>s</id><username>git</username>"
        "<privateKeySource class=\"com.cloudbees.jenkins.plugins.sshcredentials.impl."
        "BasicSSHUserPrivateKey$DirectEntryPrivateKeySource\"><privateKey>KEY</privateKey>"
        "</privateKeySource><passphrase><secret-redacted/></passphrase>"
        "</com.cloudbees.jenkins.plugins.sshcredentials.impl.BasicSSHUserPrivateKey>";
    struct cred_fields c = {};
    struct cred_info info = {};
    struct buf out = BUF_INIT(1 << 16);
    char *msg = NULL;

    (void) state;
    assert_int_equal(cred_xml_parse(up, sizeof up - 1, &c, &msg), 0);
    assert_int_equal(c.kind, CRED_USERNAME_PASSWORD);
    assert_string_equal(c.id, "deploy");
    assert_string_equal(c.description, "a & b");
    assert_string_equal(c.username, "bob");
    assert_true(c.username_secret);
    assert_int_equal(c.secret_len, 4);
    assert_memory_equal(c.secret, "p<w>", 5);   /* and its NUL */
    info = (struct cred_info){ .id = c.id, .kind = c.kind, .scope = c.scope,
                               .description = c.description, .username = c.username,
                               .username_secret = true };
    assert_int_equal(cred_xml_write_redacted(&info, &out), 0);
    assert_non_null(strstr(out.ptr, "<description>a &amp; b</description>"));
    assert_non_null(strstr(out.ptr, "<password>\n    <secret-redacted/>\n  </password>"));
    assert_null(strstr(out.ptr, "p<w>"));
    cred_fields_release(&c);

    /* what it wrote reads back, the secret "not given" */
    assert_int_equal(cred_xml_parse(out.ptr, out.len, &c, &msg), 0);
    assert_null(c.secret);
    assert_string_equal(c.id, "deploy");
    cred_fields_release(&c);
    buf_release(&out);

    assert_int_equal(cred_xml_parse(file, sizeof file - 1, &c, &msg), 0);
    assert_int_equal(c.kind, CRED_FILE);
    assert_int_equal(c.secret_len, 4);
    assert_memory_equal(c.secret, "\x00\x01\x02\xff", 4);
    cred_fields_release(&c);

    assert_int_equal(cred_xml_parse(ssh, sizeof ssh - 1, &c, &msg), 0);
    assert_int_equal(c.kind, CRED_SSH_KEY);
    assert_string_equal(c.scope, "SYSTEM");
    assert_string_equal((char *) c.secret, "KEY");
    assert_null(c.passphrase);
    cred_fields_release(&c);
}

static void cred_xml_parse__refuses_what_it_cannot_keep_with_a_message(void **state)
{
    static const char *const bad[] = {
        "",
        "<a",
        "<hudson.model.Foo><id>x</id></hudson.model.Foo>",
        "<secret-text><id>x</id></secret-text>",
        "<!DOCTYPE x [<!ENTITY e \"e\">]><org.jenkinsci.plugins.plaincredentials.impl."
        "StringCredentialsImpl><secret>&e;</secret></org.jenkinsci.plugins.plaincredentials."
        "impl.StringCredentialsImpl>",
        "<org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl><id>a</id><id>b</id>"
        "</org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>",
        "<org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl><secret>{AQAAABAAAAAQ"
        "abc=}</secret></org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>",
        "<org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl><id><b/></id>"
        "</org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>",
    };

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct cred_fields c = {};
        char *msg = NULL;

        assert_int_equal(cred_xml_parse(bad[i], strlen(bad[i]), &c, &msg), -EINVAL);
        assert_non_null(msg);
        assert_null(c.id);
        free(msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(cred_add__seals_the_secret_and_cred_get_opens_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cred_add__gives_an_empty_id_a_uuid_and_refuses_a_taken_one,
                                        setup, teardown),
        cmocka_unit_test(cred_check__follows_the_plugins_id_rule_and_every_bound),
        cmocka_unit_test_setup_teardown(cred_get__says_ebadmsg_for_a_damaged_box_and_a_wrong_key,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            cred_get__says_enokey_without_a_key_and_cred_add_makes_none, setup, teardown),
        cmocka_unit_test_setup_teardown(
            cred_update__keeps_secrets_not_given_and_refuses_a_silent_kind_change, setup,
            teardown),
        cmocka_unit_test(cred_xml_parse__reads_each_kind_and_writes_it_back_redacted),
        cmocka_unit_test(cred_xml_parse__refuses_what_it_cannot_keep_with_a_message),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
