/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Secrets: random values, hashes, constant-time comparison, wiping and
 * password hashing. libsodium lives here and nowhere else.
 */

#include <stdbool.h>
#include <stddef.h>

#define SECRET_SHA256_HEX_LEN 64
#define SECRET_HMAC_HEX_LEN 64

/* Must be called once before anything else here. 0 or -EIO. */
int secret_init(void);

/* Fills `out` with 2*nbytes lowercase hex characters and a NUL. */
void secret_random_hex(char *out, size_t nbytes);

/* Lowercase hex of SHA-256(data); `out` holds SECRET_SHA256_HEX_LEN + 1. */
void secret_sha256_hex(const void *data, size_t len, char *out);

/*
 * SHA-256 of data that comes in pieces (an upload): secret_hasher_new(),
 * _update() for each piece, then _final_hex() (which frees it). NULL
 * from _new() when out of memory.
 */
struct secret_hasher;
struct secret_hasher *secret_hasher_new(void);
void secret_hasher_update(struct secret_hasher *h, const void *data, size_t len);
void secret_hasher_final_hex(struct secret_hasher *h, char *out);
struct secret_hasher *secret_hasher_free(struct secret_hasher *h);

/* Lowercase hex of HMAC-SHA-256(key, data); `out` holds SECRET_HMAC_HEX_LEN + 1. */
void secret_hmac_hex(const unsigned char key[32], const void *data, size_t len, char *out);
/* The same with a key of any length (a webhook's shared secret). */
void secret_hmac_any_hex(const void *key, size_t key_len, const void *data, size_t len, char *out);

/* A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx", into out. */
#define SECRET_UUID_LEN 36
void secret_random_uuid(char out[SECRET_UUID_LEN + 1]);

/* 32 random bytes. */
void secret_random_key(unsigned char key[32]);

/*
 * Compares two strings in time that depends only on their lengths, never
 * on where they differ.
 */
bool secret_equal(const char *a, const char *b);
/* The SHA-256 of a string, for keeping a secret's hash instead of the secret. */
void secret_sha256(const char *s, unsigned char out[32]);
/* Whether `s` hashes to `hash` (SHA-256), in a time that says nothing about either. */
bool secret_matches_hash(const char *s, const unsigned char hash[32]);

/* Overwrites `len` bytes at `p` in a way the compiler keeps. NULL is fine. */
void secret_wipe(void *p, size_t len);
/* Wipes and frees a NUL-terminated secret; returns NULL. */
char *secret_free(char *s);
static inline void secret_freep(char **p) { secret_free(*p); }
#define _cleanup_secret_ __attribute__((cleanup(secret_freep)))

/*
 * argon2id password hashing (libsodium's interactive limits: about 70 ms
 * and 64 MiB per call here). Returns 0 and a newly allocated encoded hash,
 * or -ENOMEM.
 */
int secret_hash_password(const char *password, char **ret_hash);
/* Returns true when `password` matches the encoded hash. */
bool secret_verify_password(const char *hash, const char *password);

/*
 * Decodes standard base64 (with or without padding). Returns 0 and a newly
 * allocated, NUL-terminated result, or -EINVAL.
 */
int base64_decode(const char *in, char **ret_out, size_t *ret_len);
/*
 * Authenticated encryption (libsodium's crypto_secretbox: XSalsa20 and
 * Poly1305) under a 32-byte key. A box is the random nonce followed by
 * the ciphertext and its tag: SECRET_BOX_OVERHEAD bytes longer than the
 * plain text. secret_box_seal() returns a newly allocated box.
 * secret_box_open() returns the plain text in a new allocation of
 * *ret_len + 1 bytes (a NUL follows it), to be wiped before it is freed
 * (secret_bytes_free); -EBADMSG when the box is damaged, cut short or was
 * sealed under another key (these cannot be told apart, by design), and
 * nothing is allocated then.
 */
#define SECRET_BOX_KEY_BYTES 32
#define SECRET_BOX_OVERHEAD 40   /* nonce (24) + tag (16) */
int secret_box_seal(const unsigned char key[SECRET_BOX_KEY_BYTES], const void *plain, size_t len,
                    unsigned char **ret_box, size_t *ret_len);
int secret_box_open(const unsigned char key[SECRET_BOX_KEY_BYTES], const unsigned char *box,
                    size_t len, unsigned char **ret_plain, size_t *ret_len);
/* Wipes `len` bytes at p and frees it; returns NULL. NULL is fine. */
void *secret_bytes_free(void *p, size_t len);

/* Appends standard base64 of `len` bytes to a newly allocated string. NULL on ENOMEM. */
char *base64_encode(const void *data, size_t len);
