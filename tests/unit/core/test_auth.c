/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/auth.h"
#include "core/metrics.h"
#include "store/store.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

/*
 * One store for the whole file, with two users whose password hash is made
 * once (argon2id is slow on purpose). Each test gets a fresh `struct auth`,
 * so throttling, caches, usage counts and sessions start empty.
 */

#define ALICE_PASSWORD "correct horse battery staple"

static char tmpdir[64];
static struct store *store;
static int64_t alice_id, bob_id;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int group_setup(void **state)
{
    _cleanup_free_ char *alice_hash = NULL, *bob_hash = NULL;
    char db[128];

    (void) state;
    if (secret_init() < 0)
        return -1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/steward-test-auth-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(db, sizeof db, "%s/steward.db", tmpdir);
    if (store_open(db, &store) < 0)
        return -1;
    if (secret_hash_password(ALICE_PASSWORD, &alice_hash) < 0)
        return -1;
    /* bob's password is never checked, so his hash need not be a real one */
    bob_hash = strdup("$argon2id$v=19$m=65536,t=2,p=1$bm90IGEgcmVhbCBzYWx0$"
                      "bm90IGEgcmVhbCBoYXNoIGF0IGFsbCBub3QgYXQgYWxsIQ");
    if (!bob_hash)
        return -1;
    if (store_user_add(store, "alice", alice_hash, true, &alice_id) < 0 ||
        store_user_add(store, "bob", bob_hash, false, &bob_id) < 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void) state;
    store = store_close(store);
    (void) nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static int setup(void **state)
{
    struct auth *a = NULL;

    if (auth_new(&a) < 0)
        return -1;
    *state = a;
    return 0;
}

static int teardown(void **state)
{
    auth_free(*state);
    return 0;
}

#define A ((struct auth *) *state)

static bool is_lower_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* A new token for `uid` under a name no other test uses. */
static void new_token(int64_t uid, char value[API_TOKEN_LEN + 1], char uuid[37])
{
    static int serial;
    char name[32];

    snprintf(name, sizeof name, "token-%d", ++serial);
    assert_int_equal(auth_token_new(store, uid, name, NULL, value, uuid), 0);
}

static void identity_anonymous__is_anonymous_and_named_so(void **state)
{
    struct identity id;

    (void) state;
    memset(&id, 0x5a, sizeof id);
    identity_anonymous(&id);
    assert_true(id.anonymous);
    assert_string_equal(id.name, "anonymous");
    assert_int_equal(id.via, VIA_NONE);
    assert_int_equal(id.user_id, 0);
    assert_false(id.is_admin);
    assert_string_equal(id.token_name, "");
}

/* ---- tokens ---- */

static void auth_token_new__gives_11_and_32_hex_and_a_version_4_uuid(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37];

    (void) state;
    assert_int_equal(auth_token_new(store, alice_id, "shape", NULL, value, uuid), 0);
    assert_int_equal(strlen(value), 34);
    assert_true(value[0] == '1' && value[1] == '1');
    assert_true(is_lower_hex(value + 2, 32));
    assert_true(auth_looks_like_api_token(value));

    assert_int_equal(strlen(uuid), 36);
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(uuid[i], '-');
        else
            assert_true(is_lower_hex((char[]){ uuid[i], '\0' }, 1));
    }
    assert_int_equal(uuid[14], '4');
    assert_non_null(strchr("89ab", uuid[19]));
}

static void auth_token_new__gives_a_different_value_and_uuid_each_time(void **state)
{
    char v1[API_TOKEN_LEN + 1], u1[37], v2[API_TOKEN_LEN + 1], u2[37];

    (void) state;
    new_token(alice_id, v1, u1);
    new_token(alice_id, v2, u2);
    assert_string_not_equal(v1, v2);
    assert_string_not_equal(u1, u2);
}

static void auth_token_new__refuses_a_second_token_of_the_same_name(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37];

    (void) state;
    assert_int_equal(auth_token_new(store, bob_id, "twice", NULL, value, uuid), 0);
    assert_int_equal(auth_token_new(store, bob_id, "twice", NULL, value, uuid), -EEXIST);
}

/* True when the bytes of `needle` appear in the file at `path` (a missing file has none). */
static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "re");
    char *data;
    size_t len;
    bool found;

    if (!f)
        return false;
    data = malloc(16 << 20);
    assert_non_null(data);
    len = fread(data, 1, 16 << 20, f);
    fclose(f);
    found = memmem(data, len, needle, strlen(needle)) != NULL;
    free(data);
    return found;
}

static void auth_token_new__stores_a_hash_of_the_secret_not_the_secret(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37], hash[SECRET_SHA256_HEX_LEN + 1];
    char db[128], wal[160];
    struct token_row t = { 0 };

    (void) state;
    new_token(bob_id, value, uuid);
    secret_sha256_hex(value + 2, 32, hash);
    assert_int_equal(store_token_find_by_hash(store, hash, &t), 0);
    assert_string_equal(t.uuid, uuid);
    token_row_release(&t);

    snprintf(db, sizeof db, "%s/steward.db", tmpdir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    assert_true(file_contains(db, hash) || file_contains(wal, hash));
    assert_false(file_contains(db, value + 2));
    assert_false(file_contains(wal, value + 2));
}

/* ---- Basic credentials ---- */

static void auth_basic__accepts_an_api_token_via_token_with_its_name(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37];
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;

    assert_int_equal(auth_token_new(store, alice_id, "jenkins-job-builder", NULL, value, uuid), 0);
    assert_int_equal(auth_basic(A, store, "alice", value, "192.0.2.1", &id, &why), 0);
    assert_false(id.anonymous);
    assert_int_equal(id.user_id, alice_id);
    assert_string_equal(id.name, "alice");
    assert_true(id.is_admin);
    assert_int_equal(id.via, VIA_TOKEN);
    assert_string_equal(id.token_name, "jenkins-job-builder");
    assert_string_equal(id.token_uuid, uuid);
    assert_int_equal(why, AUTH_FAIL_NONE);
}

static void auth_basic__accepts_the_password_via_password(void **state)
{
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;

    assert_int_equal(auth_basic(A, store, "alice", ALICE_PASSWORD, "192.0.2.1", &id, &why), 0);
    assert_false(id.anonymous);
    assert_int_equal(id.user_id, alice_id);
    assert_string_equal(id.name, "alice");
    assert_int_equal(id.via, VIA_PASSWORD);
    assert_string_equal(id.token_name, "");
    /* a second time comes from the cache, with the same answer */
    assert_int_equal(auth_basic(A, store, "alice", ALICE_PASSWORD, "192.0.2.1", &id, &why), 0);
    assert_int_equal(id.via, VIA_PASSWORD);
}

static void auth_basic__refuses_a_wrong_secret_as_bad_secret(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37];
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;

    assert_int_equal(auth_basic(A, store, "alice", ALICE_PASSWORD "x", "192.0.2.1", &id, &why),
                     -EACCES);
    assert_int_equal(why, AUTH_FAIL_BAD_SECRET);

    /* a token with one digit changed is just a wrong secret */
    new_token(alice_id, value, uuid);
    value[33] = value[33] == '0' ? '1' : '0';
    why = AUTH_FAIL_NONE;
    assert_int_equal(auth_basic(A, store, "alice", value, "192.0.2.1", &id, &why), -EACCES);
    assert_int_equal(why, AUTH_FAIL_BAD_SECRET);
}

static void auth_basic__refuses_an_unknown_user_as_no_such_user(void **state)
{
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;

    assert_int_equal(auth_basic(A, store, "mallory", ALICE_PASSWORD, "192.0.2.1", &id, &why),
                     -EACCES);
    assert_int_equal(why, AUTH_FAIL_NO_SUCH_USER);
    why = AUTH_FAIL_NONE;
    assert_int_equal(auth_basic(A, store, "Alice", ALICE_PASSWORD, "192.0.2.1", &id, &why),
                     -EACCES);
    assert_int_equal(why, AUTH_FAIL_NO_SUCH_USER);
}

static void auth_basic__refuses_another_users_token(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37];
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;

    new_token(alice_id, value, uuid);
    assert_int_equal(auth_basic(A, store, "bob", value, "192.0.2.1", &id, &why), -EACCES);
    assert_int_equal(why, AUTH_FAIL_TOKEN_OF_OTHER_USER);
}

static void auth_basic__throttles_an_address_and_user_after_20_failures(void **state)
{
    char value[API_TOKEN_LEN + 1], bobs[API_TOKEN_LEN + 1], uuid[37];
    enum auth_failure why;
    struct identity id;
    int wait;

    new_token(alice_id, value, uuid);
    new_token(bob_id, bobs, uuid);
    assert_int_equal(auth_throttle_wait(A, "198.51.100.1", "alice"), 0);
    for (int i = 0; i < 20; i++) {
        why = AUTH_FAIL_NONE;
        assert_int_equal(auth_basic(A, store, "alice", "wrong", "198.51.100.1", &id, &why),
                         -EACCES);
        assert_int_equal(why, AUTH_FAIL_BAD_SECRET);
    }

    /* now alice's password is turned away from that address, even the right one */
    why = AUTH_FAIL_NONE;
    assert_int_equal(auth_basic(A, store, "alice", ALICE_PASSWORD, "198.51.100.1", &id, &why),
                     -EBUSY);
    assert_int_equal(why, AUTH_FAIL_THROTTLED);
    wait = auth_throttle_wait(A, "198.51.100.1", "alice");
    assert_true(wait > 0);
    assert_true(wait <= 61);

    /* but a valid API token is never throttled: one hash, nothing to guess */
    assert_int_equal(auth_basic(A, store, "alice", value, "198.51.100.1", &id, &why), 0);
    assert_int_equal(id.via, VIA_TOKEN);
    /* nor is another user behind the same address (a proxy, a NAT) */
    assert_int_equal(auth_throttle_wait(A, "198.51.100.1", "bob"), 0);
    assert_int_equal(auth_basic(A, store, "bob", bobs, "198.51.100.1", &id, &why), 0);
    /* nor alice from another address */
    assert_int_equal(auth_throttle_wait(A, "198.51.100.2", "alice"), 0);
    assert_int_equal(auth_basic(A, store, "alice", ALICE_PASSWORD, "198.51.100.2", &id, &why), 0);
    assert_int_equal(id.via, VIA_PASSWORD);
}

static void auth_basic__throttles_an_address_that_sprays_many_users(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37], name[32];
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;

    new_token(alice_id, value, uuid);
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "user%d", i % 50);
        (void) auth_basic(A, store, name, "x", "198.51.100.7", &id, &why);
    }
    why = AUTH_FAIL_NONE;
    assert_int_equal(auth_basic(A, store, "alice", ALICE_PASSWORD, "198.51.100.7", &id, &why),
                     -EBUSY);
    assert_int_equal(why, AUTH_FAIL_THROTTLED);
    assert_int_equal(auth_basic(A, store, "alice", value, "198.51.100.7", &id, &why), 0);
}

static void auth_note_failure__a_throttled_subject_stays_throttled_whatever_else_fails(void **state)
{
    char subject[64], addr[32];
    (void) state;

    auth_trigger_subject("guarded", subject, sizeof subject);
    for (int i = 0; i < 20; i++)
        auth_note_failure(A, "198.51.100.20", subject);
    assert_true(auth_throttle_wait(A, "198.51.100.20", subject) > 0);
    /* three times as many other keys as the table has entries, each failing once */
    for (int i = 0; i < 3 * 1024; i++) {
        snprintf(addr, sizeof addr, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        auth_trigger_subject(i % 2 ? "no-such-job" : "other", subject, sizeof subject);
        auth_note_failure(A, addr, subject);
    }
    auth_trigger_subject("guarded", subject, sizeof subject);
    assert_true(auth_throttle_wait(A, "198.51.100.20", subject) > 0);
}

static void auth_basic__does_not_throttle_after_19_failures(void **state)
{
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;

    for (int i = 0; i < 19; i++)
        assert_int_equal(auth_basic(A, store, "alice", "wrong", "198.51.100.9", &id, &why),
                         -EACCES);
    assert_int_equal(auth_throttle_wait(A, "198.51.100.9", "alice"), 0);
    assert_int_equal(auth_basic(A, store, "alice", ALICE_PASSWORD, "198.51.100.9", &id, &why), 0);
}

static void auth_basic__refuses_a_user_name_past_the_bound(void **state)
{
    char name[BOUND_USER_NAME_BYTES + 2];
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;

    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(auth_basic(A, store, name, "x", "192.0.2.1", &id, &why), -EACCES);
    assert_int_equal(why, AUTH_FAIL_NO_SUCH_USER);
}

/* ---- token helpers ---- */

static void auth_looks_like_api_token__wants_11_and_32_lowercase_hex(void **state)
{
    (void) state;
    assert_true(auth_looks_like_api_token("110123456789abcdef0123456789abcdef"));
    assert_true(auth_looks_like_api_token("11ffffffffffffffffffffffffffffffff"));
    assert_false(auth_looks_like_api_token("110123456789ABCDEF0123456789abcdef"));
    assert_false(auth_looks_like_api_token("100123456789abcdef0123456789abcdef"));
    assert_false(auth_looks_like_api_token("010123456789abcdef0123456789abcdef"));
    assert_false(auth_looks_like_api_token("110123456789abcdef0123456789abcde"));
    assert_false(auth_looks_like_api_token("110123456789abcdef0123456789abcdef0"));
    assert_false(auth_looks_like_api_token("110123456789abcdeg0123456789abcdef"));
    assert_false(auth_looks_like_api_token("11 123456789abcdef0123456789abcdef"));
    assert_false(auth_looks_like_api_token(""));
    assert_false(auth_looks_like_api_token("11"));
}

static void auth_api_token_owner__names_the_owner_of_a_token(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37], user[BOUND_USER_NAME_BYTES + 1];

    (void) state;
    new_token(bob_id, value, uuid);
    memset(user, 0, sizeof user);
    assert_int_equal(auth_api_token_owner(store, value, user), 0);
    assert_string_equal(user, "bob");
}

static void auth_api_token_owner__returns_enoent_for_anything_else(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37], user[BOUND_USER_NAME_BYTES + 1] = "untouched";

    (void) state;
    new_token(bob_id, value, uuid);
    value[2] = value[2] == 'a' ? 'b' : 'a';
    assert_int_equal(auth_api_token_owner(store, value, user), -ENOENT);
    assert_int_equal(auth_api_token_owner(store, ALICE_PASSWORD, user), -ENOENT);
    assert_int_equal(auth_api_token_owner(store, "", user), -ENOENT);
    assert_string_equal(user, "untouched");
}

/* ---- usage ---- */

static struct token_row find_token(const char *uuid)
{
    struct token_row *rows = NULL, t = { 0 };
    size_t n = 0;

    assert_int_equal(store_token_list(store, alice_id, &rows, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (streq(rows[i].uuid, uuid)) {
            t = rows[i];
            rows[i].name = NULL;
        }
    token_rows_free(rows, n);
    assert_string_equal(t.uuid, uuid);
    return t;
}

static void auth_flush_usage__writes_use_counts_and_last_use_to_the_store(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37];
    enum auth_failure why;
    struct identity id;
    struct token_row t;
    int64_t before, after;

    new_token(alice_id, value, uuid);
    before = now_ms();
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_basic(A, store, "alice", value, "192.0.2.1", &id, &why), 0);
    after = now_ms();

    t = find_token(uuid);
    assert_int_equal(t.use_count, 0);   /* counted in memory until the flush */
    assert_int_equal(t.last_use_ms, 0);
    token_row_release(&t);

    auth_flush_usage(A, store);
    t = find_token(uuid);
    assert_int_equal(t.use_count, 3);
    assert_true(t.last_use_ms >= before && t.last_use_ms <= after);
    token_row_release(&t);

    /* a flush writes each use once */
    auth_flush_usage(A, store);
    t = find_token(uuid);
    assert_int_equal(t.use_count, 3);
    token_row_release(&t);

    assert_int_equal(auth_basic(A, store, "alice", value, "192.0.2.1", &id, &why), 0);
    auth_flush_usage(A, store);
    t = find_token(uuid);
    assert_int_equal(t.use_count, 4);
    token_row_release(&t);
}

/* ---- crumbs ---- */

static void auth_crumb__is_stable_for_a_user_and_session_and_passes(void **state)
{
    char c1[65], c2[65];

    auth_crumb(A, "alice", "session-1", c1);
    auth_crumb(A, "alice", "session-1", c2);
    assert_true(is_lower_hex(c1, 64));
    assert_string_equal(c1, c2);
    assert_true(auth_crumb_ok(A, "alice", "session-1", c1));

    auth_crumb(A, "alice", NULL, c1);
    assert_true(auth_crumb_ok(A, "alice", NULL, c1));
}

static void auth_crumb_ok__refuses_the_crumb_of_another_session_or_user(void **state)
{
    char c[65], other[65];

    auth_crumb(A, "alice", "session-1", c);
    assert_false(auth_crumb_ok(A, "alice", "session-2", c));
    assert_false(auth_crumb_ok(A, "alice", NULL, c));
    assert_false(auth_crumb_ok(A, "bob", "session-1", c));
    assert_false(auth_crumb_ok(A, "alice", "session-1", NULL));
    assert_false(auth_crumb_ok(A, "alice", "session-1", ""));
    c[0] = c[0] == 'a' ? 'b' : 'a';
    assert_false(auth_crumb_ok(A, "alice", "session-1", c));

    c[0] = c[0] == 'a' ? 'b' : 'a';
    auth_crumb(A, "alice", "session-2", other);
    assert_string_not_equal(c, other);
}

static void auth_crumb__differs_between_processes(void **state)
{
    struct auth *b = NULL;
    char c1[65], c2[65];

    assert_int_equal(auth_new(&b), 0);
    auth_crumb(A, "alice", "s", c1);
    auth_crumb(b, "alice", "s", c2);
    assert_string_not_equal(c1, c2);
    assert_false(auth_crumb_ok(b, "alice", "s", c1));
    assert_null(auth_free(b));
}

/* ---- sessions ---- */

static void auth_session__new_get_and_end(void **state)
{
    struct identity id = { 0 }, got;
    char sid[65], sid2[65];

    id.user_id = alice_id;
    snprintf(id.name, sizeof id.name, "alice");
    id.is_admin = true;
    id.via = VIA_PASSWORD;

    assert_int_equal(auth_session_new(A, store, &id, sid), 0);
    assert_true(is_lower_hex(sid, 64));
    assert_int_equal(auth_session_new(A, store, &id, sid2), 0);
    assert_string_not_equal(sid, sid2);

    memset(&got, 0, sizeof got);
    assert_int_equal(auth_session_get(A, store, sid, &got), 0);
    assert_false(got.anonymous);
    assert_int_equal(got.user_id, alice_id);
    assert_string_equal(got.name, "alice");
    assert_true(got.is_admin);
    assert_int_equal(got.via, VIA_SESSION);

    auth_session_end(A, sid);
    assert_int_equal(auth_session_get(A, store, sid, &got), -ENOENT);
    assert_int_equal(auth_session_get(A, store, sid2, &got), 0);
    auth_session_end(A, sid);   /* twice is harmless */
}

static void auth_session_get__returns_enoent_for_an_unknown_id(void **state)
{
    struct identity id = { 0 }, got;
    char sid[65], wrong[65];

    id.user_id = bob_id;
    snprintf(id.name, sizeof id.name, "bob");
    assert_int_equal(auth_session_new(A, store, &id, sid), 0);
    memcpy(wrong, sid, sizeof wrong);
    wrong[63] = wrong[63] == '0' ? '1' : '0';
    assert_int_equal(auth_session_get(A, store, wrong, &got), -ENOENT);
    assert_int_equal(auth_session_get(A, store, "", &got), -ENOENT);
    sid[63] = '\0';
    assert_int_equal(auth_session_get(A, store, sid, &got), -ENOENT);
}

static void auth_session_get__does_not_see_sessions_of_another_auth(void **state)
{
    struct auth *b = NULL;
    struct identity id = { 0 }, got;
    char sid[65];

    assert_int_equal(auth_new(&b), 0);
    id.user_id = alice_id;
    snprintf(id.name, sizeof id.name, "alice");
    assert_int_equal(auth_session_new(A, store, &id, sid), 0);
    assert_int_equal(auth_session_get(b, store, sid, &got), -ENOENT);
    auth_free(b);
}

static void auth_session_get__ends_when_the_password_changes(void **state)
{
    struct identity id = { 0 }, got;
    struct user_row u = { 0 };
    char sid[65];

    id.user_id = bob_id;
    snprintf(id.name, sizeof id.name, "bob");
    assert_int_equal(auth_session_new(A, store, &id, sid), 0);
    assert_int_equal(auth_session_get(A, store, sid, &got), 0);
    assert_false(got.is_admin);
    assert_int_equal(store_user_get_by_id(store, bob_id, &u), 0);
    assert_int_equal(store_user_set_password(store, bob_id, "$argon2id$other"), 0);
    assert_int_equal(auth_session_get(A, store, sid, &got), -ENOENT);
    /* and stays ended, even with the old hash back */
    assert_int_equal(store_user_set_password(store, bob_id, u.password_hash), 0);
    assert_int_equal(auth_session_get(A, store, sid, &got), -ENOENT);
    user_row_release(&u);
}

static void auth_session_new__keeps_a_users_newest_and_never_refuses_for_room(void **state)
{
    char first[AUTH_SESSIONS_PER_USER][65], sid[65], bob_sid[65];
    struct identity alice = { 0 }, bob = { 0 }, got;

    alice.user_id = alice_id;
    snprintf(alice.name, sizeof alice.name, "alice");
    bob.user_id = bob_id;
    snprintf(bob.name, sizeof bob.name, "bob");
    assert_int_equal(auth_session_new(A, store, &bob, bob_sid), 0);
    for (int i = 0; i < AUTH_SESSIONS_PER_USER; i++)
        assert_int_equal(auth_session_new(A, store, &alice, first[i]), 0);
    for (int i = 0; i < AUTH_SESSIONS_PER_USER; i++)
        assert_int_equal(auth_session_get(A, store, first[i], &got), 0);
    /* one more: alice's oldest goes, her others and bob's stay */
    assert_int_equal(auth_session_new(A, store, &alice, sid), 0);
    assert_int_equal(auth_session_get(A, store, first[0], &got), -ENOENT);
    for (int i = 1; i < AUTH_SESSIONS_PER_USER; i++)
        assert_int_equal(auth_session_get(A, store, first[i], &got), 0);
    assert_int_equal(auth_session_get(A, store, sid, &got), 0);
    assert_int_equal(auth_session_get(A, store, bob_sid, &got), 0);
    /* thousands of sign-ins later a new one still gets its session */
    for (int i = 0; i < 5000; i++)
        assert_int_equal(auth_session_new(A, store, &alice, sid), 0);
    assert_int_equal(auth_session_get(A, store, sid, &got), 0);
    assert_int_equal(auth_session_get(A, store, bob_sid, &got), 0);
}

static void auth_check__one_set_of_rules_for_names_and_passwords(void **state)
{
    const char *why;

    (void) state;
    assert_int_equal(auth_check_user_name("bob.smith-2_x", &why), 0);
    assert_int_equal(auth_check_user_name("", &why), -EINVAL);
    assert_int_equal(auth_check_user_name("with space", &why), -EINVAL);
    assert_int_equal(auth_check_user_name("..", &why), -EINVAL);
    assert_int_equal(auth_check_user_name("authenticated", &why), -EINVAL);
    assert_non_null(strstr(why, "authorization matrix"));
    assert_int_equal(auth_check_user_name("anonymous", &why), -EINVAL);
    assert_int_equal(auth_check_password("1234567", &why), -EINVAL);
    assert_int_equal(auth_check_password("12345678", &why), 0);
    assert_int_equal(auth_check_token_name("laptop", &why), 0);
    assert_int_equal(auth_check_token_name("", &why), -EINVAL);
    assert_int_equal(auth_check_token_name("a\nb", &why), -EINVAL);
    assert_int_equal(auth_check_token_name("\xff", &why), -EINVAL);
}

static void auth_password__takes_the_password_and_not_an_api_token(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37];
    struct identity id;
    enum auth_failure why = AUTH_FAIL_NONE;

    new_token(alice_id, value, uuid);
    assert_int_equal(auth_password(A, store, "alice", ALICE_PASSWORD, "10.0.0.9", &id, &why), 0);
    assert_int_equal(id.via, VIA_PASSWORD);
    assert_int_equal(auth_password(A, store, "alice", value, "10.0.0.9", &id, &why), -EACCES);
    assert_int_equal(why, AUTH_FAIL_BAD_SECRET);
}

static void auth_free__accepts_null_and_returns_null(void **state)
{
    (void) state;
    assert_null(auth_free(NULL));
}

static void auth_basic__counts_each_failure_by_kind(void **state)
{
    char value[API_TOKEN_LEN + 1], uuid[37];
    uint64_t user0 = metrics_auth_failures(METRIC_AUTH_NO_SUCH_USER);
    uint64_t secret0 = metrics_auth_failures(METRIC_AUTH_BAD_SECRET);
    uint64_t other0 = metrics_auth_failures(METRIC_AUTH_TOKEN_OF_OTHER_USER);
    enum auth_failure why;
    struct identity id;

    assert_int_equal(auth_basic(A, store, "nobody", "x", "192.0.2.7", &id, &why), -EACCES);
    assert_int_equal(auth_basic(A, store, "bob", "nope", "192.0.2.7", &id, &why), -EACCES);
    new_token(alice_id, value, uuid);
    assert_int_equal(auth_basic(A, store, "bob", value, "192.0.2.7", &id, &why), -EACCES);
    assert_int_equal(auth_basic(A, store, "alice", value, "192.0.2.7", &id, &why), 0);
    assert_int_equal(metrics_auth_failures(METRIC_AUTH_NO_SUCH_USER), user0 + 1);
    assert_int_equal(metrics_auth_failures(METRIC_AUTH_BAD_SECRET), secret0 + 1);
    assert_int_equal(metrics_auth_failures(METRIC_AUTH_TOKEN_OF_OTHER_USER), other0 + 1);
}

static void auth_metrics_token_new__gives_stm_and_64_hex_and_stores_only_a_hash(void **state)
{
    char value[METRICS_TOKEN_LEN + 1], hash[SECRET_SHA256_HEX_LEN + 1];
    _cleanup_free_ char *stored = NULL;

    (void) state;
    (void) auth_metrics_token_revoke(store);
    assert_int_equal(auth_metrics_token_new(store, value), 0);
    assert_true(startswith(value, METRICS_TOKEN_PREFIX));
    assert_true(is_lower_hex(value + 4, 64));
    assert_int_equal(store_setting_get(store, "metrics_token_sha256", &stored), 0);
    secret_sha256_hex(value, strlen(value), hash);
    assert_string_equal(stored, hash);
    assert_null(strstr(stored, value + 4));
}

static void auth_metrics_token_check__takes_the_newest_token_only(void **state)
{
    char first[METRICS_TOKEN_LEN + 1], second[METRICS_TOKEN_LEN + 1];
    uint64_t failed0 = metrics_auth_failures(METRIC_AUTH_METRICS_TOKEN);

    assert_true(auth_metrics_token_new(store, first) >= 0);
    assert_int_equal(auth_metrics_token_check(A, store, first, "192.0.2.8"), 0);
    assert_int_equal(auth_metrics_token_new(store, second), 1);   /* replaced the first */
    assert_string_not_equal(first, second);
    assert_int_equal(auth_metrics_token_check(A, store, first, "192.0.2.8"), -EACCES);
    assert_int_equal(auth_metrics_token_check(A, store, second, "192.0.2.8"), 0);
    assert_int_equal(auth_metrics_token_check(A, store, "", "192.0.2.8"), -EACCES);
    assert_int_equal(metrics_auth_failures(METRIC_AUTH_METRICS_TOKEN), failed0 + 2);
}

static void auth_metrics_token_check__refuses_a_value_past_the_bound(void **state)
{
    char value[METRICS_TOKEN_LEN + 1], big[BOUND_BEARER_TOKEN_BYTES + 2];

    assert_true(auth_metrics_token_new(store, value) >= 0);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(auth_metrics_token_check(A, store, big, "192.0.2.9"), -EACCES);
}

static void auth_metrics_token_revoke__leaves_no_token_then_says_so(void **state)
{
    char value[METRICS_TOKEN_LEN + 1];

    assert_true(auth_metrics_token_new(store, value) >= 0);
    assert_int_equal(auth_metrics_token_revoke(store), 0);
    assert_int_equal(auth_metrics_token_check(A, store, value, "192.0.2.10"), -ENOENT);
    assert_int_equal(auth_metrics_token_revoke(store), -ENOENT);
}

static void auth_metrics_token_check__failures_throttle_the_address(void **state)
{
    char value[METRICS_TOKEN_LEN + 1];

    assert_true(auth_metrics_token_new(store, value) >= 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(auth_metrics_token_check(A, store, "guess", "198.51.100.9"), -EACCES);
    assert_int_equal(auth_metrics_token_check(A, store, value, "198.51.100.9"), -EBUSY);
    assert_int_equal(auth_metrics_token_check(A, store, value, "198.51.100.10"), 0);
}

/* ---- what is kept between requests follows every change ---- */

#define FAKE_HASH "$argon2id$v=19$m=65536,t=2,p=1$bm90IGEgcmVhbCBzYWx0$bm90IGEgcmVhbCBoYXNo"

/* A user of this test alone, with a token, used once so that it is kept. */
static int64_t kept_user(struct auth *a, const char *name, char value[API_TOKEN_LEN + 1])
{
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;
    char uuid[37];
    int64_t uid;

    assert_int_equal(store_user_add(store, name, FAKE_HASH, false, &uid), 0);
    assert_int_equal(auth_token_new(store, uid, "kept", NULL, value, uuid), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(auth_basic(a, store, name, value, "192.0.2.7", &id, &why), 0);
        assert_int_equal(id.via, VIA_TOKEN);
    }
    return uid;
}

static void auth_basic__refuses_a_revoked_token_at_the_next_request(void **state)
{
    char value[API_TOKEN_LEN + 1];
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;
    int64_t uid = kept_user(A, "cache-revoke", value);

    assert_int_equal(store_token_delete(store, uid, NULL, "kept"), 0);
    assert_int_equal(auth_basic(A, store, "cache-revoke", value, "192.0.2.7", &id, &why), -EACCES);
    assert_int_equal(why, AUTH_FAIL_BAD_SECRET);
}

static void auth_basic__refuses_a_token_revoked_by_another_process(void **state)
{
    char value[API_TOKEN_LEN + 1], db[128];
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;
    int64_t uid = kept_user(A, "cache-offline", value);
    int status = -1;
    pid_t pid;

    /* as `steward token revoke` does it, on the home of a running server */
    snprintf(db, sizeof db, "%s/steward.db", tmpdir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *other = NULL;
        int r = store_open(db, &other) < 0 ? 1 : store_token_delete(other, uid, NULL, "kept") < 0;

        store_close(other);
        _exit(r);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(auth_basic(A, store, "cache-offline", value, "192.0.2.7", &id, &why), -EACCES);
    assert_int_equal(why, AUTH_FAIL_BAD_SECRET);
}

static void auth_basic__follows_the_admin_flag_and_a_removed_user(void **state)
{
    char value[API_TOKEN_LEN + 1];
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;
    int64_t uid = kept_user(A, "cache-user", value);

    assert_int_equal(store_user_set_admin(store, uid, true), 0);
    assert_int_equal(auth_basic(A, store, "cache-user", value, "192.0.2.7", &id, &why), 0);
    assert_true(id.is_admin);
    assert_int_equal(store_user_set_admin(store, uid, false), 0);
    assert_int_equal(auth_basic(A, store, "cache-user", value, "192.0.2.7", &id, &why), 0);
    assert_false(id.is_admin);
    assert_int_equal(store_user_delete(store, uid), 0);
    assert_int_equal(auth_basic(A, store, "cache-user", value, "192.0.2.7", &id, &why), -EACCES);
    assert_int_equal(why, AUTH_FAIL_NO_SUCH_USER);
}

static void auth_basic__refuses_an_old_password_once_it_is_changed(void **state)
{
    _cleanup_free_ char *first = NULL, *second = NULL;
    enum auth_failure why = AUTH_FAIL_NONE;
    struct identity id;
    int64_t uid;

    assert_int_equal(secret_hash_password("first password", &first), 0);
    assert_int_equal(secret_hash_password("second password", &second), 0);
    assert_int_equal(store_user_add(store, "cache-pw", first, false, &uid), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(auth_basic(A, store, "cache-pw", "first password", "192.0.2.7", &id, &why),
                         0);
    assert_int_equal(store_user_set_password(store, uid, second), 0);
    assert_int_equal(auth_basic(A, store, "cache-pw", "first password", "192.0.2.7", &id, &why),
                     -EACCES);
    assert_int_equal(why, AUTH_FAIL_BAD_SECRET);
    assert_int_equal(auth_password(A, store, "cache-pw", "first password", "192.0.2.7", &id, &why),
                     -EACCES);
    assert_int_equal(auth_basic(A, store, "cache-pw", "second password", "192.0.2.7", &id, &why),
                     0);
    assert_int_equal(id.via, VIA_PASSWORD);
}

static void auth_policy_get__follows_the_strategy_the_matrix_and_anonymous_read(void **state)
{
    const struct auth_policy *p, *held;

    p = auth_policy_get(A, store);
    assert_non_null(p);
    assert_int_equal(p->authz, AUTHZ_LOGGED_IN);
    assert_false(p->anonymous_read);
    assert_int_equal(p->n_grants, 0);
    /* a policy lent before a change stays whole while it is held */
    held = p;

    assert_int_equal(store_setting_set(store, "anonymous_read", "on"), 0);
    p = auth_policy_get(A, store);
    assert_true(p->anonymous_read);
    auth_policy_put(A, p);

    assert_int_equal(store_setting_set(store, "authorization", "matrix"), 0);
    p = auth_policy_get(A, store);
    assert_int_equal(p->authz, AUTHZ_MATRIX);
    assert_int_equal(p->n_grants, 0);
    auth_policy_put(A, p);

    assert_int_equal(store_grant_add(store, "USER:hudson.model.Hudson.Read:bob"), 1);
    p = auth_policy_get(A, store);
    assert_int_equal(p->n_grants, 1);
    assert_string_equal(p->grants[0].sid, "bob");
    auth_policy_put(A, p);

    assert_int_equal(store_grant_remove(store, "USER:hudson.model.Hudson.Read:bob"), 0);
    p = auth_policy_get(A, store);
    assert_int_equal(p->n_grants, 0);
    auth_policy_put(A, p);

    assert_int_equal(store_setting_delete(store, "authorization"), 0);
    assert_int_equal(store_setting_delete(store, "anonymous_read"), 0);
    p = auth_policy_get(A, store);
    assert_int_equal(p->authz, AUTHZ_LOGGED_IN);
    assert_false(p->anonymous_read);
    auth_policy_put(A, p);

    assert_int_equal(held->authz, AUTHZ_LOGGED_IN);
    assert_false(held->anonymous_read);
    auth_policy_put(A, held);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(identity_anonymous__is_anonymous_and_named_so),
        T(auth_token_new__gives_11_and_32_hex_and_a_version_4_uuid),
        T(auth_token_new__gives_a_different_value_and_uuid_each_time),
        T(auth_token_new__refuses_a_second_token_of_the_same_name),
        T(auth_token_new__stores_a_hash_of_the_secret_not_the_secret),
        T(auth_basic__accepts_an_api_token_via_token_with_its_name),
        T(auth_basic__accepts_the_password_via_password),
        T(auth_basic__refuses_a_wrong_secret_as_bad_secret),
        T(auth_basic__refuses_an_unknown_user_as_no_such_user),
        T(auth_basic__refuses_another_users_token),
        T(auth_basic__throttles_an_address_and_user_after_20_failures),
        T(auth_basic__throttles_an_address_that_sprays_many_users),
        T(auth_note_failure__a_throttled_subject_stays_throttled_whatever_else_fails),
        T(auth_basic__does_not_throttle_after_19_failures),
        T(auth_basic__refuses_a_user_name_past_the_bound),
        T(auth_looks_like_api_token__wants_11_and_32_lowercase_hex),
        T(auth_api_token_owner__names_the_owner_of_a_token),
        T(auth_api_token_owner__returns_enoent_for_anything_else),
        T(auth_flush_usage__writes_use_counts_and_last_use_to_the_store),
        T(auth_crumb__is_stable_for_a_user_and_session_and_passes),
        T(auth_crumb_ok__refuses_the_crumb_of_another_session_or_user),
        T(auth_crumb__differs_between_processes),
        T(auth_session__new_get_and_end),
        T(auth_session_new__keeps_a_users_newest_and_never_refuses_for_room),
        T(auth_check__one_set_of_rules_for_names_and_passwords),
        T(auth_session_get__returns_enoent_for_an_unknown_id),
        T(auth_session_get__ends_when_the_password_changes),
        T(auth_password__takes_the_password_and_not_an_api_token),
        T(auth_session_get__does_not_see_sessions_of_another_auth),
        T(auth_free__accepts_null_and_returns_null),
        T(auth_basic__counts_each_failure_by_kind),
        T(auth_metrics_token_new__gives_stm_and_64_hex_and_stores_only_a_hash),
        T(auth_metrics_token_check__takes_the_newest_token_only),
        T(auth_metrics_token_check__refuses_a_value_past_the_bound),
        T(auth_metrics_token_revoke__leaves_no_token_then_says_so),
        T(auth_metrics_token_check__failures_throttle_the_address),
        T(auth_basic__refuses_a_revoked_token_at_the_next_request),
        T(auth_basic__refuses_a_token_revoked_by_another_process),
        T(auth_basic__follows_the_admin_flag_and_a_removed_user),
        T(auth_basic__refuses_an_old_password_once_it_is_changed),
        T(auth_policy_get__follows_the_strategy_the_matrix_and_anonymous_read),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
