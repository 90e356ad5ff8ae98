/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

int
secret_init(void)
{
    return sodium_init() < 0 ? -EIO : 0;
}

static void
to_hex(const unsigned char *in, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

void
secret_random_hex(char *out, size_t nbytes)
{
    unsigned char b[64];

    while (nbytes > 0) {
        size_t n = nbytes < sizeof b ? nbytes : sizeof b;
        randombytes_buf(b, n);
        to_hex(b, n, out);
        out += 2 * n;
        nbytes -= n;
    }
    *out = '\0';
    sodium_memzero(b, sizeof b);
}

void
secret_random_uuid(char out[SECRET_UUID_LEN + 1])
{
    char h[33];

    secret_random_hex(h, 16);
    h[12] = '4';
    h[16] = "89ab"[h[16] % 4];
    snprintf(out, SECRET_UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
             h + 20);
}

void
secret_random_key(unsigned char key[32])
{
    randombytes_buf(key, 32);
}

void
secret_sha256_hex(const void *data, size_t len, char *out)
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, data, len);
    to_hex(h, sizeof h, out);
}

struct secret_hasher {
    crypto_hash_sha256_state st;
};

struct secret_hasher *
secret_hasher_new(void)
{
    struct secret_hasher *h = malloc(sizeof *h);

    if (h)
        crypto_hash_sha256_init(&h->st);
    return h;
}

void
secret_hasher_update(struct secret_hasher *h, const void *data, size_t len)
{
    crypto_hash_sha256_update(&h->st, data, len);
}

void
secret_hasher_final_hex(struct secret_hasher *h, char *out)
{
    unsigned char d[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_final(&h->st, d);
    to_hex(d, sizeof d, out);
    free(h);
}

struct secret_hasher *
secret_hasher_free(struct secret_hasher *h)
{
    free(h);
    return NULL;
}

void
secret_hmac_hex(const unsigned char key[32], const void *data, size_t len, char *out)
{
    unsigned char h[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, key, 32);
    crypto_auth_hmacsha256_update(&st, data, len);
    crypto_auth_hmacsha256_final(&st, h);
    to_hex(h, sizeof h, out);
}

void
secret_hmac_any_hex(const void *key, size_t key_len, const void *data, size_t len, char *out)
{
    unsigned char h[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, data, len);
    crypto_auth_hmacsha256_final(&st, h);
    to_hex(h, sizeof h, out);
    sodium_memzero(&st, sizeof st);
}

bool
secret_equal(const char *a, const char *b)
{
    /*
     * Hash both sides first: the comparison then always runs over 32
     * bytes, and its time says nothing about either length or content.
     */
    unsigned char ha[crypto_hash_sha256_BYTES], hb[crypto_hash_sha256_BYTES];

    if (!a || !b)
        return false;
    crypto_hash_sha256(ha, (const unsigned char *) a, strlen(a));
    crypto_hash_sha256(hb, (const unsigned char *) b, strlen(b));
    return sodium_memcmp(ha, hb, sizeof ha) == 0;
}

void
secret_sha256(const char *s, unsigned char out[32])
{
    crypto_hash_sha256(out, (const unsigned char *) s, strlen(s));
}

bool
secret_matches_hash(const char *s, const unsigned char hash[32])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    if (!s)
        return false;
    crypto_hash_sha256(h, (const unsigned char *) s, strlen(s));
    return sodium_memcmp(h, hash, sizeof h) == 0;
}

void
secret_wipe(void *p, size_t len)
{
    if (p)
        sodium_memzero(p, len);
}

char *
secret_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
    return NULL;
}

int
secret_hash_password(const char *password, char **ret_hash)
{
    char out[crypto_pwhash_STRBYTES];

    if (crypto_pwhash_str_alg(out, password, strlen(password),
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -ENOMEM;
    *ret_hash = strdup(out);
    return *ret_hash ? 0 : -ENOMEM;
}

bool
secret_verify_password(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int
base64_decode(const char *in, char **ret_out, size_t *ret_len)
{
    size_t inlen = strlen(in), max = inlen / 4 * 3 + 3, len;
    char *out = malloc(max + 1);

    if (!out)
        return -ENOMEM;
    if (sodium_base642bin((unsigned char *) out, max, in, inlen, NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 &&
        sodium_base642bin((unsigned char *) out, max, in, inlen, NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0) {
        free(out);
        return -EINVAL;
    }
    out[len] = '\0';
    *ret_out = out;
    *ret_len = len;
    return 0;
}

char *
base64_encode(const void *data, size_t len)
{
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(n);

    if (!out)
        return NULL;
    sodium_bin2base64(out, n, data, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

/* the layout of a box, fixed: boxes already stored must keep opening */
_Static_assert(SECRET_BOX_OVERHEAD == crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES,
               "box layout");
_Static_assert(SECRET_BOX_KEY_BYTES == crypto_secretbox_KEYBYTES, "box key size");

int
secret_box_seal(const unsigned char key[SECRET_BOX_KEY_BYTES], const void *plain, size_t len,
                unsigned char **ret_box, size_t *ret_len)
{
    unsigned char *box;

    if (len > SIZE_MAX - SECRET_BOX_OVERHEAD)
        return -E2BIG;
    box = malloc(len + SECRET_BOX_OVERHEAD);
    if (!box)
        return -ENOMEM;
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    if (crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, plain, len, box, key) != 0) {
        free(box);
        return -EIO;
    }
    *ret_box = box;
    *ret_len = len + SECRET_BOX_OVERHEAD;
    return 0;
}

int
secret_box_open(const unsigned char key[SECRET_BOX_KEY_BYTES], const unsigned char *box,
                size_t len, unsigned char **ret_plain, size_t *ret_len)
{
    unsigned char *plain;
    size_t n;

    if (!box || len < SECRET_BOX_OVERHEAD)
        return -EBADMSG;
    n = len - SECRET_BOX_OVERHEAD;
    plain = malloc(n + 1);
    if (!plain)
        return -ENOMEM;
    if (crypto_secretbox_open_easy(plain, box + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, box, key) != 0) {
        secret_bytes_free(plain, n + 1);
        return -EBADMSG;
    }
    plain[n] = '\0';
    *ret_plain = plain;
    *ret_len = n;
    return 0;
}

void *
secret_bytes_free(void *p, size_t len)
{
    if (p) {
        sodium_memzero(p, len);
        free(p);
    }
    return NULL;
}
