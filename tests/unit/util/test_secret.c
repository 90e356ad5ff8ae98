/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/macro.h"
#include "util/secret.h"

static bool is_lower_hex(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

/* ---- random ---- */

static void secret_random_hex__writes_2n_lowercase_hex_digits_and_a_nul(void **state)
{
    char out[300];

    (void) state;
    memset(out, 'X', sizeof out);
    secret_random_hex(out, 16);
    assert_int_equal(strlen(out), 32);
    assert_true(is_lower_hex(out));
    assert_int_equal(out[33], 'X');   /* nothing written past the NUL */

    /* more than one internal chunk */
    memset(out, 'X', sizeof out);
    secret_random_hex(out, 100);
    assert_int_equal(strlen(out), 200);
    assert_true(is_lower_hex(out));
    assert_int_equal(out[201], 'X');

    memset(out, 'X', sizeof out);
    secret_random_hex(out, 0);
    assert_string_equal(out, "");
    assert_int_equal(out[1], 'X');
}

static void secret_random_hex__differs_from_call_to_call(void **state)
{
    char seen[16][33];

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(seen); i++) {
        secret_random_hex(seen[i], 16);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
}

static void secret_random_hex__uses_every_hex_digit(void **state)
{
    char out[2049];
    bool used[16] = { false };

    (void) state;
    secret_random_hex(out, 1024);
    for (const char *p = out; *p; p++)
        used[*p <= '9' ? *p - '0' : *p - 'a' + 10] = true;
    for (size_t i = 0; i < ELEMENTSOF(used); i++)
        assert_true(used[i]);
}

static void secret_random_key__differs_from_call_to_call(void **state)
{
    unsigned char a[32], b[32];

    (void) state;
    secret_random_key(a);
    secret_random_key(b);
    assert_memory_not_equal(a, b, sizeof a);
}

/* ---- hashes ---- */

static void secret_sha256_hex__matches_the_fips_180_vectors(void **state)
{
    char out[SECRET_SHA256_HEX_LEN + 1];
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    (void) state;
    secret_sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    secret_sha256_hex("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    secret_sha256_hex(two_blocks, strlen(two_blocks), out);
    assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/*
 * RFC 4231's vectors use keys other than 32 bytes long, so these were
 * computed with Python:
 *   hmac.new(bytes(range(32)), b"what do ya want for nothing?", hashlib.sha256).hexdigest()
 */
static void secret_hmac_hex__matches_python_hmac_for_a_32_byte_key(void **state)
{
    unsigned char key[32];
    char out[SECRET_HMAC_HEX_LEN + 1];
    const char *msg = "what do ya want for nothing?";

    (void) state;
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char) i;
    secret_hmac_hex(key, msg, strlen(msg), out);
    assert_string_equal(out, "099805f4ac310786968565c098db515cc50862b420ae31e20238312344bed36a");
    secret_hmac_hex(key, "", 0, out);
    assert_string_equal(out, "d38b42096d80f45f826b44a9d5607de72496a415d3f4a1a8c88e3bb9da8dc1cb");
}

static void secret_hmac_hex__depends_on_every_byte_of_the_key(void **state)
{
    unsigned char key[32];
    char a[SECRET_HMAC_HEX_LEN + 1], b[SECRET_HMAC_HEX_LEN + 1];

    (void) state;
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char) i;
    secret_hmac_hex(key, "data", 4, a);
    key[31] ^= 1;
    secret_hmac_hex(key, "data", 4, b);
    assert_string_not_equal(a, b);
}

/* ---- comparison ---- */

static void secret_equal__is_true_for_equal_strings(void **state)
{
    char a[] = "s3cret-value", b[] = "s3cret-value";

    (void) state;
    assert_true(secret_equal(a, b));
    assert_true(secret_equal("", ""));
}

static void secret_equal__is_false_for_different_strings(void **state)
{
    (void) state;
    assert_false(secret_equal("s3cret-value", "s3cret-valuf"));
    assert_false(secret_equal("x3cret-value", "s3cret-value"));
    assert_false(secret_equal("abc", "ABC"));
}

static void secret_equal__is_false_for_different_lengths(void **state)
{
    (void) state;
    assert_false(secret_equal("abc", "abcd"));
    assert_false(secret_equal("abcd", "abc"));
    assert_false(secret_equal("", "a"));
}

static void secret_equal__is_false_when_either_is_null(void **state)
{
    (void) state;
    assert_false(secret_equal(NULL, "a"));
    assert_false(secret_equal("a", NULL));
    assert_false(secret_equal(NULL, ""));
    assert_false(secret_equal(NULL, NULL));
}

/* ---- wiping ---- */

static void secret_wipe__zeroes_the_bytes_and_accepts_null(void **state)
{
    char s[] = "hunter2";
    static const char zero[sizeof s];

    (void) state;
    secret_wipe(s, sizeof s);
    assert_memory_equal(s, zero, sizeof s);
    secret_wipe(NULL, 10);
}

static void secret_free__accepts_null_and_returns_null(void **state)
{
    char *s = strdup("hunter2");

    (void) state;
    assert_non_null(s);
    assert_null(secret_free(s));
    assert_null(secret_free(NULL));
}

/* ---- passwords (one argon2id hash: they are slow on purpose) ---- */

static void secret_hash_password__gives_an_argon2id_hash_that_verifies_only_its_password(void **state)
{
    char *hash = NULL;

    (void) state;
    assert_int_equal(secret_hash_password("correct horse battery staple", &hash), 0);
    assert_non_null(hash);
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    assert_null(strstr(hash, "correct horse"));

    assert_true(secret_verify_password(hash, "correct horse battery staple"));
    assert_false(secret_verify_password(hash, "correct horse battery stapl"));
    assert_false(secret_verify_password(hash, "Correct horse battery staple"));
    assert_false(secret_verify_password(hash, ""));
    free(hash);
}

static void secret_verify_password__is_false_for_a_garbled_hash(void **state)
{
    (void) state;
    assert_false(secret_verify_password("", "x"));
    assert_false(secret_verify_password("not a hash", "not a hash"));
    assert_false(secret_verify_password("$argon2id$v=19$m=65536,t=2,p=1$garbage", "x"));
}

/* ---- base64 ---- */

static void expect_decode(const char *in, const char *want, size_t want_len)
{
    char *out = NULL;
    size_t len = 12345;

    if (base64_decode(in, &out, &len) != 0)
        fail_msg("base64_decode(\"%s\") failed", in);
    assert_int_equal(len, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[len], '\0');
    free(out);
}

static void base64_decode__decodes_with_padding(void **state)
{
    (void) state;
    expect_decode("aGVsbG8=", "hello", 5);
    expect_decode("YQ==", "a", 1);
    expect_decode("Zm9vYmFy", "foobar", 6);
    expect_decode("dXNlcjpwYXNzOndpdGg6Y29sb25z", "user:pass:with:colons", 21);
}

static void base64_decode__decodes_without_padding(void **state)
{
    (void) state;
    expect_decode("aGVsbG8", "hello", 5);
    expect_decode("YQ", "a", 1);
    expect_decode("Zm8", "fo", 2);
}

static void base64_decode__decodes_the_empty_string(void **state)
{
    (void) state;
    expect_decode("", "", 0);
}

static void base64_decode__keeps_binary_bytes(void **state)
{
    static const char want[] = { 0x00, (char) 0xff, (char) 0xfe, 0x10 };

    (void) state;
    expect_decode("AP/+EA==", want, sizeof want);
    expect_decode("AP/+EA", want, sizeof want);
}

static void base64_decode__refuses_garbage(void **state)
{
    static const char *const bad[] = {
        "!!!!", "aGVs bG8=", "aGVsbG8=x", "a", "aGVsbG8==", "=aGVs", "AP_-EA==", "YQ=", "Y===",
        "aGVs\nbG8=",
    };
    char *out = (char *) "untouched";
    size_t len = 12345;

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        if (base64_decode(bad[i], &out, &len) != -EINVAL)
            fail_msg("base64_decode(\"%s\") was not refused with -EINVAL", bad[i]);
    }
    assert_string_equal(out, "untouched");
    assert_int_equal(len, 12345);
}

static void base64_encode__matches_the_rfc_4648_vectors(void **state)
{
    static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                         "Zm9vYmFy" };

    (void) state;
    for (size_t i = 0; i < ELEMENTSOF(want); i++) {
        char *s = base64_encode("foobar", i);
        assert_non_null(s);
        assert_string_equal(s, want[i]);
        free(s);
    }
}

static void base64_encode__round_trips_every_byte_through_base64_decode(void **state)
{
    unsigned char all[256];
    char *enc, *dec = NULL;
    size_t len = 0;

    (void) state;
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (unsigned char) i;
    enc = base64_encode(all, sizeof all);
    assert_non_null(enc);
    assert_int_equal(strlen(enc), 344);
    assert_int_equal(base64_decode(enc, &dec, &len), 0);
    assert_int_equal(len, sizeof all);
    assert_memory_equal(dec, all, sizeof all);
    free(enc);
    free(dec);
}

static int group_setup(void **state)
{
    (void) state;
    return secret_init() == 0 ? 0 : -1;
}

/* ---- secret boxes ---- */

static void secret_box__opens_what_it_sealed_and_only_with_its_key(void **state)
{
    unsigned char key[32], other[32], *box = NULL, *plain = NULL;
    const char msg[] = "hunter2\0with a NUL";
    size_t box_len = 0, len = 0;

    (void) state;
    secret_random_key(key);
    secret_random_key(other);
    assert_int_equal(secret_box_seal(key, msg, sizeof msg, &box, &box_len), 0);
    assert_int_equal(box_len, sizeof msg + SECRET_BOX_OVERHEAD);
    assert_null(memmem(box, box_len, "hunter2", 7));
    assert_int_equal(secret_box_open(key, box, box_len, &plain, &len), 0);
    assert_int_equal(len, sizeof msg);
    assert_memory_equal(plain, msg, sizeof msg);
    assert_int_equal(plain[len], '\0');
    plain = secret_bytes_free(plain, len + 1);
    /* another key: refused, and nothing comes back */
    assert_int_equal(secret_box_open(other, box, box_len, &plain, &len), -EBADMSG);
    assert_null(plain);
    free(box);
}

static void secret_box__refuses_every_damaged_byte_and_a_short_box(void **state)
{
    unsigned char key[32], *box = NULL, *plain = NULL;
    size_t box_len = 0, len = 0;

    (void) state;
    secret_random_key(key);
    assert_int_equal(secret_box_seal(key, "abc", 3, &box, &box_len), 0);
    for (size_t i = 0; i < box_len; i++) {
        box[i] ^= 0x01;
        assert_int_equal(secret_box_open(key, box, box_len, &plain, &len), -EBADMSG);
        box[i] ^= 0x01;
    }
    for (size_t n = 0; n < box_len; n++)
        assert_int_equal(secret_box_open(key, box, n, &plain, &len), -EBADMSG);
    assert_int_equal(secret_box_open(key, NULL, 0, &plain, &len), -EBADMSG);
    assert_null(plain);
    free(box);
}

static void secret_box__seals_the_same_text_differently_each_time(void **state)
{
    unsigned char key[32], *a = NULL, *b = NULL, *plain = NULL;
    size_t na = 0, nb = 0, len = 99;

    (void) state;
    secret_random_key(key);
    assert_int_equal(secret_box_seal(key, "", 0, &a, &na), 0);
    assert_int_equal(secret_box_seal(key, "", 0, &b, &nb), 0);
    assert_int_equal(na, SECRET_BOX_OVERHEAD);
    assert_memory_not_equal(a, b, na);   /* a fresh nonce each time */
    assert_int_equal(secret_box_open(key, a, na, &plain, &len), 0);
    assert_int_equal(len, 0);
    secret_bytes_free(plain, 1);
    free(a);
    free(b);
}

static void secret_random_uuid__is_a_version_4_uuid(void **state)
{
    char a[SECRET_UUID_LEN + 1], b[SECRET_UUID_LEN + 1];

    (void) state;
    secret_random_uuid(a);
    secret_random_uuid(b);
    assert_int_equal(strlen(a), 36);
    assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(secret_random_hex__writes_2n_lowercase_hex_digits_and_a_nul),
        cmocka_unit_test(secret_random_hex__differs_from_call_to_call),
        cmocka_unit_test(secret_random_hex__uses_every_hex_digit),
        cmocka_unit_test(secret_random_key__differs_from_call_to_call),
        cmocka_unit_test(secret_sha256_hex__matches_the_fips_180_vectors),
        cmocka_unit_test(secret_hmac_hex__matches_python_hmac_for_a_32_byte_key),
        cmocka_unit_test(secret_hmac_hex__depends_on_every_byte_of_the_key),
        cmocka_unit_test(secret_equal__is_true_for_equal_strings),
        cmocka_unit_test(secret_equal__is_false_for_different_strings),
        cmocka_unit_test(secret_equal__is_false_for_different_lengths),
        cmocka_unit_test(secret_equal__is_false_when_either_is_null),
        cmocka_unit_test(secret_wipe__zeroes_the_bytes_and_accepts_null),
        cmocka_unit_test(secret_free__accepts_null_and_returns_null),
        cmocka_unit_test(secret_hash_password__gives_an_argon2id_hash_that_verifies_only_its_password),
        cmocka_unit_test(secret_verify_password__is_false_for_a_garbled_hash),
        cmocka_unit_test(base64_decode__decodes_with_padding),
        cmocka_unit_test(base64_decode__decodes_without_padding),
        cmocka_unit_test(base64_decode__decodes_the_empty_string),
        cmocka_unit_test(base64_decode__keeps_binary_bytes),
        cmocka_unit_test(base64_decode__refuses_garbage),
        cmocka_unit_test(base64_encode__matches_the_rfc_4648_vectors),
        cmocka_unit_test(base64_encode__round_trips_every_byte_through_base64_decode),
        cmocka_unit_test(secret_box__opens_what_it_sealed_and_only_with_its_key),
        cmocka_unit_test(secret_box__refuses_every_damaged_byte_and_a_short_box),
        cmocka_unit_test(secret_box__seals_the_same_text_differently_each_time),
        cmocka_unit_test(secret_random_uuid__is_a_version_4_uuid),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
