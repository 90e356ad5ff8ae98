/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/auth.h"
#include "core/perm.h"
#include "core/metrics.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"

#define PW_CACHE_SLOTS 256
#define PW_CACHE_MS (5 * 60 * 1000)
#define ARGON2_AT_ONCE 2
#define USAGE_SLOTS 1024
#define THROTTLE_SLOTS 1024
#define THROTTLE_WAYS 4                 /* entries a key may take: failure_take() */
#define THROTTLE_WINDOW_MS (60 * 1000)
#define THROTTLE_MAX_FAILURES 20        /* per address and subject (a user, a job's token) */
#define THROTTLE_MAX_ADDR_FAILURES 200  /* per address, whatever the subject: spraying */
#define SESSION_SLOTS 4096
#define SESSION_MS (12 * 3600 * 1000)
#define SESSIONS_PER_USER AUTH_SESSIONS_PER_USER
#define CACHE_SLOTS 128
#define CACHE_MS 1000

struct pw_entry {
    char key[SECRET_HMAC_HEX_LEN + 1];  /* HMAC(user ":" password) */
    int64_t user_id;
    int64_t expires_ms;
};

struct usage {
    char uuid[37];
    int64_t uses;
    int64_t last_ms;
};

/*
 * Failures of one key, each less than THROTTLE_WINDOW_MS after the one
 * before: the count holds for as long as failures keep coming, however
 * slowly each is answered, and a quiet window clears it.
 */
struct failure {
    char key[SECRET_HMAC_HEX_LEN + 1];  /* keyed hash of address and subject, or address alone */
    int count;
    int64_t last_ms;                    /* the latest failure */
};

struct session {
    char sid_hash[SECRET_SHA256_HEX_LEN + 1];
    struct identity id;
    char pw_print[SECRET_SHA256_HEX_LEN + 1];  /* SHA-256 of the password hash at login */
    int64_t created_ms;
    int64_t expires_ms;
};

/*
 * What the store said, kept while the auth generation it was read under
 * (store_auth_generation()) is still the store's, and at most CACHE_MS:
 * the generation catches every change Steward makes, from this process or
 * an offline command; the time bounds what another writer (sqlite3 by
 * hand) can leave stale.
 */
struct cache_stamp {
    bool used;
    uint64_t gen;
    int64_t until_mono;
};

/* A verified API token, keyed by the SHA-256 the store keeps, never the token. */
struct cached_token {
    struct cache_stamp stamp;
    char hash[SECRET_SHA256_HEX_LEN + 1];
    struct identity id;        /* as auth_basic() fills it; id.name is the owner */
};

struct cached_user {
    struct cache_stamp stamp;
    struct user_row row;
};

struct auth_policy_ref {
    struct auth_policy p;
    struct cache_stamp stamp;
    int refs;                  /* atomic; the cache holds one, taken under auth->lock */
};

struct auth {
    unsigned char key[32];
    pthread_mutex_t lock;
    sem_t argon2;
    struct pw_entry pw[PW_CACHE_SLOTS];
    struct usage usage[USAGE_SLOTS];
    size_t n_usage;
    struct failure fail[THROTTLE_SLOTS];       /* per (address, subject) */
    struct failure fail_addr[THROTTLE_SLOTS];  /* per address: a subject never evicts one */
    struct cached_token tokens[CACHE_SLOTS];
    struct cached_user users_by_name[CACHE_SLOTS];
    struct cached_user users_by_id[CACHE_SLOTS];
    struct auth_policy_ref *policy;
    struct session *sessions;
};

void
identity_anonymous(struct identity *id)
{
    memset(id, 0, sizeof *id);
    id->anonymous = true;
    snprintf(id->name, sizeof id->name, "anonymous");
}

int
auth_new(struct auth **ret_auth)
{
    struct auth *a = calloc(1, sizeof *a);

    if (!a)
        return -ENOMEM;
    a->sessions = calloc(SESSION_SLOTS, sizeof *a->sessions);
    if (!a->sessions) {
        free(a);
        return -ENOMEM;
    }
    secret_random_key(a->key);
    pthread_mutex_init(&a->lock, NULL);
    sem_init(&a->argon2, 0, ARGON2_AT_ONCE);
    *ret_auth = a;
    return 0;
}

static void policy_unref(struct auth_policy_ref *p);

struct auth *
auth_free(struct auth *a)
{
    if (a) {
        for (size_t i = 0; i < CACHE_SLOTS; i++) {
            user_row_release(&a->users_by_name[i].row);
            user_row_release(&a->users_by_id[i].row);
        }
        if (a->policy)
            policy_unref(a->policy);
        secret_wipe(a, sizeof *a - sizeof a->sessions);
        free(a->sessions);
        free(a);
    }
    return NULL;
}

static uint32_t
hash_str(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 16777619u;
    return h;
}

/* ---- what the store said, kept ---- */

/* The auth generation to read under; false when nothing read may be kept. */
static bool
cache_gen(struct store *s, uint64_t *ret)
{
    return store_auth_generation(s, ret) == 0;
}

static bool
stamp_fresh(const struct cache_stamp *st, uint64_t gen, int64_t now)
{
    return st->used && st->gen == gen && now < st->until_mono;
}

static void
stamp_set(struct cache_stamp *st, uint64_t gen, int64_t now)
{
    st->used = true;
    st->gen = gen;
    st->until_mono = now + CACHE_MS;
}

static int
user_row_copy(struct user_row *dst, const struct user_row *src)
{
    *dst = (struct user_row){ .id = src->id, .is_admin = src->is_admin,
                              .created_ms = src->created_ms };
    dst->name = strdup(src->name ? src->name : "");
    dst->full_name = src->full_name ? strdup(src->full_name) : NULL;
    dst->password_hash = strdup(src->password_hash ? src->password_hash : "");
    if (!dst->name || !dst->password_hash || (src->full_name && !dst->full_name)) {
        user_row_release(dst);
        return -ENOMEM;
    }
    return 0;
}

static void
cached_user_clear(struct cached_user *e)
{
    if (e->row.password_hash)
        secret_wipe(e->row.password_hash, strlen(e->row.password_hash));
    user_row_release(&e->row);
    e->stamp.used = false;
}

/*
 * A user by name, or by id when name is NULL, as store_user_get() and
 * store_user_get_by_id() give one (the caller releases *ret).
 */
static int
user_get(struct auth *a, struct store *s, const char *name, int64_t id, struct user_row *ret)
{
    struct cached_user *e = name ? &a->users_by_name[hash_str(name) % CACHE_SLOTS]
                                 : &a->users_by_id[(uint64_t) id % CACHE_SLOTS];
    uint64_t gen = 0;
    bool keep = cache_gen(s, &gen), hit = false;
    int r;

    if (keep) {
        pthread_mutex_lock(&a->lock);
        hit = stamp_fresh(&e->stamp, gen, mono_ms()) &&
              (name ? streq(e->row.name, name) : e->row.id == id) &&
              user_row_copy(ret, &e->row) == 0;
        pthread_mutex_unlock(&a->lock);
        if (hit)
            return 0;
    }
    r = name ? store_user_get(s, name, ret) : store_user_get_by_id(s, id, ret);
    if (r < 0 || !keep)
        return r;
    pthread_mutex_lock(&a->lock);
    cached_user_clear(e);
    if (user_row_copy(&e->row, ret) == 0)
        stamp_set(&e->stamp, gen, mono_ms());
    pthread_mutex_unlock(&a->lock);
    return 0;
}

static void note_usage_locked(struct auth *a, const char *uuid, int64_t now);

/*
 * A verified token of `user` from the cache: fills *ret and counts its
 * use (unless it expired: *ret_expired). False when it is not there.
 */
static bool
token_cached(struct auth *a, struct store *s, const char *hash, const char *user,
             struct identity *ret, bool *ret_expired)
{
    struct cached_token *e = &a->tokens[hash_str(hash) % CACHE_SLOTS];
    uint64_t gen;
    bool hit;

    if (!cache_gen(s, &gen))
        return false;
    /*
     * A plain comparison: both sides are SHA-256 digests, and where two
     * digests differ tells nothing about a token (the store's index
     * compares them the same way).
     */
    pthread_mutex_lock(&a->lock);
    hit = stamp_fresh(&e->stamp, gen, mono_ms()) && streq(e->hash, hash) &&
          streq(e->id.name, user);
    if (hit) {
        int64_t now = now_ms();

        *ret = e->id;
        *ret_expired = e->id.token_expires_ms > 0 && now >= e->id.token_expires_ms;
        if (!*ret_expired)
            note_usage_locked(a, e->id.token_uuid, now);
    }
    pthread_mutex_unlock(&a->lock);
    return hit;
}

static void
token_remember(struct auth *a, uint64_t gen, const char *hash, const struct identity *id)
{
    struct cached_token *e = &a->tokens[hash_str(hash) % CACHE_SLOTS];

    pthread_mutex_lock(&a->lock);
    memcpy(e->hash, hash, sizeof e->hash);
    e->id = *id;
    stamp_set(&e->stamp, gen, mono_ms());
    pthread_mutex_unlock(&a->lock);
}

enum authz_strategy
auth_strategy(struct store *s)
{
    _cleanup_free_ char *v = NULL;
    enum authz_strategy st = AUTHZ_LOGGED_IN;

    if (store_setting_get(s, "authorization", &v) == 0 && authz_parse(v, &st) < 0)
        st = AUTHZ_MATRIX; /* a value this version does not know: grant only what is granted */
    return st;
}

bool
auth_anonymous_read(struct store *s)
{
    return store_setting_bool(s, "anonymous_read", false);
}

int
auth_global_grants(struct store *s, struct grant **ret, size_t *ret_n)
{
    char **entries = NULL;
    struct grant *g;
    size_t n = 0, k = 0;
    int r;

    *ret = NULL;
    *ret_n = 0;
    r = store_grant_list(s, &entries, &n);
    if (r < 0)
        return r;
    g = calloc(n ? n : 1, sizeof *g);
    if (!g) {
        store_grants_free(entries, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (grant_parse(entries[i], &g[k]) == 0)
            k++;
    store_grants_free(entries, n);
    *ret = g;
    *ret_n = k;
    return 0;
}

/* Needs no lock: the last reference, the cache's included, frees it. */
static void
policy_unref(struct auth_policy_ref *p)
{
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    grants_free(p->p.grants, p->p.n_grants);
    free(p);
}

const struct auth_policy *
auth_policy_get(struct auth *a, struct store *s)
{
    struct auth_policy_ref *p = NULL, *old;
    uint64_t gen = 0;
    bool keep = cache_gen(s, &gen);

    if (keep) {
        pthread_mutex_lock(&a->lock);
        if (a->policy && stamp_fresh(&a->policy->stamp, gen, mono_ms())) {
            p = a->policy;
            __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
        }
        pthread_mutex_unlock(&a->lock);
        if (p)
            return &p->p;
    }
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->refs = 1;
    p->p.authz = auth_strategy(s);
    p->p.anonymous_read = auth_anonymous_read(s);
    /* the default strategy looks at no grant */
    if (p->p.authz != AUTHZ_LOGGED_IN &&
        auth_global_grants(s, &p->p.grants, &p->p.n_grants) < 0) {
        free(p);
        return NULL;
    }
    if (keep) {
        stamp_set(&p->stamp, gen, mono_ms());
        __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
        pthread_mutex_lock(&a->lock);
        old = a->policy;
        a->policy = p;
        pthread_mutex_unlock(&a->lock);
        if (old)
            policy_unref(old);
    }
    return &p->p;
}

void
auth_policy_put(struct auth *a, const struct auth_policy *policy)
{
    /* the policy is the first member of its reference */
    struct auth_policy_ref *p = (struct auth_policy_ref *) policy;

    (void) a;
    if (p)
        policy_unref(p);
}

/* ---- throttling ---- */

/*
 * Failures are counted per (address, subject), the subject being the user
 * a password or token was for, or a job whose trigger token was wrong: so
 * a client behind the same address as a guesser, or the same user from
 * another address, is not locked out. A second count per address alone,
 * with a higher bound, stops one address from spraying many users.
 */
static void
failure_key(struct auth *a, const char *addr, const char *subject,
            char out[static SECRET_HMAC_HEX_LEN + 1])
{
    struct buf b = BUF_INIT(1024);

    (void) buf_printf(&b, "%s\n%s", addr, subject ? subject : "");
    secret_hmac_hex(a->key, b.ptr ? b.ptr : "", b.len, out);
    buf_release(&b);
}

/*
 * A key's set of THROTTLE_WAYS entries. A new key takes one that is free or
 * whose window is over; failing that, the oldest that is not throttling,
 * and only when all of them are, the oldest of those: a throttled key is
 * not pushed out by keys that fail now and then, however many there are.
 */
static struct failure *
failure_set(struct failure *table, const char *key)
{
    return &table[(hash_str(key) % (THROTTLE_SLOTS / THROTTLE_WAYS)) * THROTTLE_WAYS];
}

static struct failure *
failure_find(struct failure *table, const char *key)
{
    struct failure *set = failure_set(table, key);

    for (int i = 0; i < THROTTLE_WAYS; i++)
        if (streq(set[i].key, key))
            return &set[i];
    return NULL;
}

static bool
failure_throttles(const struct failure *f, int max, int64_t now)
{
    return f->key[0] && f->count >= max && now - f->last_ms < THROTTLE_WINDOW_MS;
}

static struct failure *
failure_take(struct failure *table, const char *key, int max, int64_t now)
{
    struct failure *set = failure_set(table, key), *quiet = NULL, *oldest = &set[0];

    for (int i = 0; i < THROTTLE_WAYS; i++) {
        struct failure *f = &set[i];
        if (!f->key[0] || now - f->last_ms >= THROTTLE_WINDOW_MS)
            return f;
        /* the oldest entry that is not throttling */
        if (!failure_throttles(f, max, now) && (!quiet || f->last_ms < quiet->last_ms))
            quiet = f;
        if (f->last_ms < oldest->last_ms)
            oldest = f;
    }
    return quiet ? quiet : oldest;
}

/* ms until the count under `key` allows another try, 0 now; under a->lock */
static int64_t
locked_wait(struct failure *table, const char *key, int max, int64_t now)
{
    struct failure *f = failure_find(table, key);

    if (f && failure_throttles(f, max, now))
        return THROTTLE_WINDOW_MS - (now - f->last_ms);
    return 0;
}

int
auth_throttle_wait(struct auth *a, const char *addr, const char *subject)
{
    char k1[SECRET_HMAC_HEX_LEN + 1], k2[SECRET_HMAC_HEX_LEN + 1];
    int64_t now = mono_ms(), wait;

    failure_key(a, addr, subject, k1);
    failure_key(a, addr, NULL, k2);
    pthread_mutex_lock(&a->lock);
    wait = MAX(locked_wait(a->fail, k1, THROTTLE_MAX_FAILURES, now),
               locked_wait(a->fail_addr, k2, THROTTLE_MAX_ADDR_FAILURES, now));
    pthread_mutex_unlock(&a->lock);
    return wait > 0 ? (int) (wait / 1000) + 1 : 0;
}

static void
locked_count(struct failure *table, const char *key, int max, int64_t now)
{
    struct failure *f = failure_find(table, key);

    if (!f) {
        f = failure_take(table, key, max, now);
        snprintf(f->key, sizeof f->key, "%s", key);
        f->count = 0;
    } else if (now - f->last_ms >= THROTTLE_WINDOW_MS)
        f->count = 0;
    f->count++;
    f->last_ms = now;
}

const char *
auth_trigger_subject(const char *job, char *out, size_t size)
{
    /* \001 cannot begin a user name: a job's token and a user never share a count */
    snprintf(out, size, "\001token:%s", job);
    return out;
}

void
auth_note_failure(struct auth *a, const char *addr, const char *subject)
{
    char k1[SECRET_HMAC_HEX_LEN + 1], k2[SECRET_HMAC_HEX_LEN + 1];
    int64_t now = mono_ms();

    failure_key(a, addr, subject, k1);
    failure_key(a, addr, NULL, k2);
    pthread_mutex_lock(&a->lock);
    locked_count(a->fail, k1, THROTTLE_MAX_FAILURES, now);
    locked_count(a->fail_addr, k2, THROTTLE_MAX_ADDR_FAILURES, now);
    pthread_mutex_unlock(&a->lock);
}

/*
 * Refuses credentials: counts the failure, and (unless the address is
 * already throttled) notes it toward throttling. Returns what auth_basic
 * and auth_password return for it.
 */
static int
refuse_credentials(struct auth *a, const char *addr, const char *user, enum auth_failure why,
                   enum auth_failure *reterr_why)
{
    static const enum metric_auth_failure kind[] = {
        [AUTH_FAIL_NONE] = METRIC_AUTH_BAD_SECRET,
        [AUTH_FAIL_NO_SUCH_USER] = METRIC_AUTH_NO_SUCH_USER,
        [AUTH_FAIL_BAD_SECRET] = METRIC_AUTH_BAD_SECRET,
        [AUTH_FAIL_TOKEN_OF_OTHER_USER] = METRIC_AUTH_TOKEN_OF_OTHER_USER,
        [AUTH_FAIL_THROTTLED] = METRIC_AUTH_THROTTLED,
    };

    metrics_count_auth_failure(kind[why]);
    *reterr_why = why;
    if (why == AUTH_FAIL_THROTTLED)
        return -EBUSY;
    auth_note_failure(a, addr, user);
    return -EACCES;
}

bool
auth_looks_like_api_token(const char *s)
{
    if (strlen(s) != API_TOKEN_LEN || s[0] != '1' || s[1] != '1')
        return false;
    for (size_t i = 2; i < API_TOKEN_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Jenkins hashes the 32 hex characters after "11"; other lengths are legacy tokens, hashed whole. */
static void
token_hash(const char *secret, char *out)
{
    size_t len = strlen(secret);

    if (len == API_TOKEN_LEN)
        secret_sha256_hex(secret + 2, len - 2, out);
    else
        secret_sha256_hex(secret, len, out);
}

static void
note_usage_locked(struct auth *a, const char *uuid, int64_t now)
{
    for (size_t i = 0; i < a->n_usage; i++) {
        if (streq(a->usage[i].uuid, uuid)) {
            a->usage[i].uses++;
            a->usage[i].last_ms = now;
            return;
        }
    }
    if (a->n_usage < USAGE_SLOTS) {
        struct usage *u = &a->usage[a->n_usage++];
        snprintf(u->uuid, sizeof u->uuid, "%s", uuid);
        u->uses = 1;
        u->last_ms = now;
    }
    /* NEEDSWORK: past USAGE_SLOTS distinct tokens between flushes, uses go uncounted. */
}

static void
note_usage(struct auth *a, const char *uuid)
{
    int64_t now = now_ms();

    pthread_mutex_lock(&a->lock);
    note_usage_locked(a, uuid, now);
    pthread_mutex_unlock(&a->lock);
}

void
auth_flush_usage(struct auth *a, struct store *s)
{
    struct usage copy[USAGE_SLOTS];
    size_t n;

    pthread_mutex_lock(&a->lock);
    n = a->n_usage;
    memcpy(copy, a->usage, n * sizeof *copy);
    a->n_usage = 0;
    pthread_mutex_unlock(&a->lock);
    if (n == 0)
        return;
    if (store_begin(s) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        (void) store_token_add_uses(s, copy[i].uuid, copy[i].uses, copy[i].last_ms);
    (void) store_commit(s);
}

static void
fill_identity(struct identity *id, const struct user_row *u, enum auth_via via)
{
    memset(id, 0, sizeof *id);
    id->user_id = u->id;
    snprintf(id->name, sizeof id->name, "%s", u->name);
    id->is_admin = u->is_admin;
    id->via = via;
}

static bool
password_cached(struct auth *a, const char *key, int64_t user_id)
{
    struct pw_entry *e = &a->pw[hash_str(key) % PW_CACHE_SLOTS];
    bool hit;

    pthread_mutex_lock(&a->lock);
    hit = e->user_id == user_id && e->expires_ms > mono_ms() && secret_equal(e->key, key);
    pthread_mutex_unlock(&a->lock);
    return hit;
}

static void
password_remember(struct auth *a, const char *key, int64_t user_id)
{
    struct pw_entry *e = &a->pw[hash_str(key) % PW_CACHE_SLOTS];

    pthread_mutex_lock(&a->lock);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->user_id = user_id;
    e->expires_ms = mono_ms() + PW_CACHE_MS;
    pthread_mutex_unlock(&a->lock);
}

static bool
password_ok(struct auth *a, const struct user_row *u, const char *password)
{
    char key[SECRET_HMAC_HEX_LEN + 1];
    struct buf b = BUF_INIT(BOUND_USER_NAME_BYTES + BOUND_PASSWORD_BYTES + 512);
    bool ok;

    /*
     * argon2id costs ~70 ms and 64 MiB. A script that uses its password on
     * every request pays that once: the verified pair is remembered, as a
     * keyed hash, for a few minutes. At most ARGON2_AT_ONCE checks run at
     * a time, so a flood of guesses queues up instead of eating memory.
     */
    /* the stored hash is part of the key: a changed password forgets the old one at once */
    if (buf_printf(&b, "%s:%s:%s", u->name, u->password_hash, password) < 0) {
        buf_release(&b);
        return false;
    }
    secret_hmac_hex(a->key, b.ptr, b.len, key);
    secret_wipe(b.ptr, b.len);
    buf_release(&b);
    if (password_cached(a, key, u->id))
        return true;
    sem_wait(&a->argon2);
    ok = secret_verify_password(u->password_hash, password);
    sem_post(&a->argon2);
    if (ok)
        password_remember(a, key, u->id);
    return ok;
}

int
auth_password(struct auth *a, struct store *s, const char *user, const char *password,
              const char *addr, struct identity *ret_id, enum auth_failure *reterr_why)
{
    struct user_row u = { 0 };
    bool ok;

    if (auth_throttle_wait(a, addr, user) > 0)
        return refuse_credentials(a, addr, user, AUTH_FAIL_THROTTLED, reterr_why);
    if (strlen(user) > BOUND_USER_NAME_BYTES || strlen(password) > BOUND_PASSWORD_BYTES ||
        user_get(a, s, user, 0, &u) < 0)
        return refuse_credentials(a, addr, user, AUTH_FAIL_NO_SUCH_USER, reterr_why);
    ok = password_ok(a, &u, password);
    if (ok)
        fill_identity(ret_id, &u, VIA_PASSWORD);
    user_row_release(&u);
    if (!ok)
        return refuse_credentials(a, addr, user, AUTH_FAIL_BAD_SECRET, reterr_why);
    return 0;
}

int
auth_basic(struct auth *a, struct store *s, const char *user, const char *secret,
           const char *addr, struct identity *ret_id, enum auth_failure *reterr_why)
{
    char hash[SECRET_SHA256_HEX_LEN + 1];
    struct user_row u = { 0 };
    struct token_row t = { 0 };
    uint64_t gen = 0;
    bool keep, expired;
    int r;

    if (strlen(user) > BOUND_USER_NAME_BYTES || strlen(secret) > BOUND_PASSWORD_BYTES) {
        if (auth_throttle_wait(a, addr, user) > 0)
            return refuse_credentials(a, addr, user, AUTH_FAIL_THROTTLED, reterr_why);
        return refuse_credentials(a, addr, user, AUTH_FAIL_NO_SUCH_USER, reterr_why);
    }

    /* a valid API token costs one hash to check, and no read once verified */
    token_hash(secret, hash);
    if (token_cached(a, s, hash, user, ret_id, &expired))
        goto token;

    /* the generation before the rows: a change meanwhile leaves what is kept stale-marked */
    keep = cache_gen(s, &gen);
    if (user_get(a, s, user, 0, &u) < 0) {
        if (auth_throttle_wait(a, addr, user) > 0)
            return refuse_credentials(a, addr, user, AUTH_FAIL_THROTTLED, reterr_why);
        return refuse_credentials(a, addr, user, AUTH_FAIL_NO_SUCH_USER, reterr_why);
    }

    /* a valid API token is never throttled */
    r = store_token_find_by_hash(s, hash, &t);
    if (r >= 0 && t.user_id == u.id) {
        const char *why;

        expired = t.expires_ms > 0 && now_ms() >= t.expires_ms;
        fill_identity(ret_id, &u, VIA_TOKEN);
        snprintf(ret_id->token_name, sizeof ret_id->token_name, "%s", t.name);
        snprintf(ret_id->token_uuid, sizeof ret_id->token_uuid, "%s", t.uuid);
        ret_id->token_expires_ms = t.expires_ms;
        /* limits that no longer read (a hand-edited row) leave only reading */
        if (t.scopes && scopes_parse(t.scopes, &ret_id->token_scopes, &why) < 0)
            ret_id->token_scopes = SCOPE_READ;
        snprintf(ret_id->token_jobs, sizeof ret_id->token_jobs, "%s", t.jobs ? t.jobs : "");
        if (keep)
            token_remember(a, gen, hash, ret_id);
        if (!expired)
            note_usage(a, t.uuid);
        token_row_release(&t);
        user_row_release(&u);
        goto token;
    }
    if (auth_throttle_wait(a, addr, user) > 0) {
        if (r >= 0)
            token_row_release(&t);
        user_row_release(&u);
        return refuse_credentials(a, addr, user, AUTH_FAIL_THROTTLED, reterr_why);
    }
    if (r >= 0) {
        /* a real token, of somebody else */
        token_row_release(&t);
        user_row_release(&u);
        return refuse_credentials(a, addr, user, AUTH_FAIL_TOKEN_OF_OTHER_USER, reterr_why);
    }
    if (password_ok(a, &u, secret)) {
        fill_identity(ret_id, &u, VIA_PASSWORD);
        user_row_release(&u);
        return 0;
    }
    user_row_release(&u);
    return refuse_credentials(a, addr, user, AUTH_FAIL_BAD_SECRET, reterr_why);

token:
    if (expired) {
        /* the secret is known good: a named refusal, and nothing to throttle */
        *reterr_why = AUTH_FAIL_TOKEN_EXPIRED;
        return -EACCES;
    }
    return 0;
}

int
auth_api_token_owner(struct store *s, const char *secret, char *ret_user)
{
    char hash[SECRET_SHA256_HEX_LEN + 1];
    struct token_row t = { 0 };
    struct user_row u = { 0 };
    int r;

    token_hash(secret, hash);
    r = store_token_find_by_hash(s, hash, &t);
    if (r < 0)
        return r;
    r = store_user_get_by_id(s, t.user_id, &u);
    token_row_release(&t);
    if (r < 0)
        return r;
    snprintf(ret_user, BOUND_USER_NAME_BYTES + 1, "%s", u.name);
    user_row_release(&u);
    return 0;
}

int
auth_token_new(struct store *s, int64_t user_id, const char *name,
               const struct token_limits *lim, char *ret_value, char *ret_uuid)
{
    char hex[33], hash[SECRET_SHA256_HEX_LEN + 1], uuid[SECRET_UUID_LEN + 1];
    int r;

    secret_random_hex(hex, 16);
    /* a random UUID, as Jenkins gives its tokens */
    secret_random_uuid(uuid);
    secret_sha256_hex(hex, 32, hash);
    r = store_token_add(s, user_id, uuid, name, hash, lim);
    if (r < 0) {
        secret_wipe(hex, sizeof hex);
        return r;
    }
    snprintf(ret_value, API_TOKEN_LEN + 1, "11%s", hex);
    snprintf(ret_uuid, 37, "%s", uuid);
    secret_wipe(hex, sizeof hex);
    return 0;
}

#define METRICS_TOKEN_SETTING "metrics_token_sha256"

int
auth_metrics_token_new(struct store *s, char *ret_value)
{
    char value[METRICS_TOKEN_LEN + 1], hash[SECRET_SHA256_HEX_LEN + 1];
    _cleanup_free_ char *old = NULL;
    bool replaced;
    int r;

    r = store_setting_get(s, METRICS_TOKEN_SETTING, &old);
    if (r < 0 && r != -ENOENT)
        return r;
    replaced = r >= 0;
    memcpy(value, METRICS_TOKEN_PREFIX, strlen(METRICS_TOKEN_PREFIX));
    secret_random_hex(value + strlen(METRICS_TOKEN_PREFIX), 32);
    secret_sha256_hex(value, METRICS_TOKEN_LEN, hash);
    r = store_setting_set(s, METRICS_TOKEN_SETTING, hash);
    if (r >= 0)
        memcpy(ret_value, value, sizeof value);
    secret_wipe(value, sizeof value);
    return r < 0 ? r : replaced;
}

int
auth_metrics_token_revoke(struct store *s)
{
    return store_setting_delete(s, METRICS_TOKEN_SETTING);
}

int
auth_metrics_token_check(struct auth *a, struct store *s, const char *value, const char *addr)
{
    _cleanup_free_ char *want = NULL;
    char hash[SECRET_SHA256_HEX_LEN + 1];
    int r;

    if (auth_throttle_wait(a, addr, AUTH_SUBJECT_METRICS) > 0) {
        metrics_count_auth_failure(METRIC_AUTH_THROTTLED);
        return -EBUSY;
    }
    r = strlen(value) > BOUND_BEARER_TOKEN_BYTES ? -EACCES
                                                   : store_setting_get(s, METRICS_TOKEN_SETTING, &want);
    if (r >= 0) {
        /* both sides are hashes of the same length: the comparison tells nothing */
        secret_sha256_hex(value, strlen(value), hash);
        r = secret_equal(hash, want) ? 0 : -EACCES;
    } else if (r != -ENOENT && r != -EACCES)
        return r;
    if (r < 0) {
        metrics_count_auth_failure(METRIC_AUTH_METRICS_TOKEN);
        auth_note_failure(a, addr, AUTH_SUBJECT_METRICS);
    }
    return r;
}

void
auth_crumb(struct auth *a, const char *user, const char *session, char *out)
{
    struct buf b = BUF_INIT(1024);

    (void) buf_printf(&b, "%s;%s", user, session ? session : "");
    secret_hmac_hex(a->key, buf_str(&b), b.len, out);
    buf_release(&b);
}

bool
auth_crumb_ok(struct auth *a, const char *user, const char *session, const char *crumb)
{
    char want[SECRET_HMAC_HEX_LEN + 1];

    if (!crumb)
        return false;
    auth_crumb(a, user, session, want);
    return secret_equal(want, crumb);
}

static struct session *
session_find(struct auth *a, const char *hash)
{
    for (size_t i = 0; i < SESSION_SLOTS; i++)
        if (a->sessions[i].sid_hash[0] && streq(a->sessions[i].sid_hash, hash))
            return &a->sessions[i];
    return NULL;
}

static int
password_print(struct auth *a, struct store *s, int64_t user_id, char *out,
               struct user_row *ret_user)
{
    struct user_row u = { 0 };
    int r = user_get(a, s, NULL, user_id, &u);

    if (r < 0)
        return r;
    secret_sha256_hex(u.password_hash, strlen(u.password_hash), out);
    if (ret_user)
        *ret_user = u;
    else
        user_row_release(&u);
    return 0;
}

/*
 * Where a new session of user `user_id` goes, under a->lock: a free or
 * expired slot, unless the user already has SESSIONS_PER_USER (then their
 * oldest); in a full table, the oldest of all. Never NULL: a correct
 * password always gets its session.
 */
static struct session *
session_slot(struct auth *a, int64_t user_id, int64_t now)
{
    struct session *free_slot = NULL, *oldest = NULL, *own_oldest = NULL;
    size_t own = 0;

    for (size_t i = 0; i < SESSION_SLOTS; i++) {
        struct session *se = &a->sessions[i];

        if (!se->sid_hash[0] || se->expires_ms < now) {
            if (!free_slot)
                free_slot = se;
            continue;
        }
        if (!oldest || se->created_ms < oldest->created_ms)
            oldest = se;
        if (se->id.user_id == user_id && !se->id.anonymous) {
            own++;
            if (!own_oldest || se->created_ms < own_oldest->created_ms)
                own_oldest = se;
        }
    }
    if (own >= SESSIONS_PER_USER)
        return own_oldest;
    return free_slot ? free_slot : oldest;
}

int
auth_session_new(struct auth *a, struct store *s, const struct identity *id, char *ret_sid)
{
    char sid[65], hash[SECRET_SHA256_HEX_LEN + 1], print[SECRET_SHA256_HEX_LEN + 1] = "";
    struct session *slot;
    int64_t now = mono_ms();

    if (!id->anonymous && password_print(a, s, id->user_id, print, NULL) < 0)
        return -ENOENT;

    secret_random_hex(sid, 32);
    secret_sha256_hex(sid, 64, hash);
    pthread_mutex_lock(&a->lock);
    slot = session_slot(a, id->anonymous ? -1 : id->user_id, now);
    memset(slot, 0, sizeof *slot);
    snprintf(slot->sid_hash, sizeof slot->sid_hash, "%s", hash);
    slot->id = *id;
    slot->id.via = VIA_SESSION;
    memcpy(slot->pw_print, print, sizeof print);
    slot->created_ms = now;
    slot->expires_ms = now + SESSION_MS;
    pthread_mutex_unlock(&a->lock);
    memcpy(ret_sid, sid, 65);
    return 0;
}

int
auth_session_get(struct auth *a, struct store *s, const char *sid, struct identity *ret_id)
{
    char hash[SECRET_SHA256_HEX_LEN + 1], print[SECRET_SHA256_HEX_LEN + 1];
    char want[SECRET_SHA256_HEX_LEN + 1];
    struct user_row u = { 0 };
    struct identity id;
    struct session *se;
    int r = -ENOENT;

    if (strlen(sid) != 64)
        return -ENOENT;
    secret_sha256_hex(sid, 64, hash);
    pthread_mutex_lock(&a->lock);
    se = session_find(a, hash);
    if (se && se->expires_ms > mono_ms()) {
        id = se->id;
        memcpy(want, se->pw_print, sizeof want);
        r = 0;
    }
    pthread_mutex_unlock(&a->lock);
    if (r < 0 || id.anonymous) {
        if (r == 0)
            *ret_id = id;
        return r;
    }
    /* the user as the database has it now */
    if (password_print(a, s, id.user_id, print, &u) < 0 || !secret_equal(print, want)) {
        user_row_release(&u);
        auth_session_end(a, sid);
        return -ENOENT;
    }
    id.is_admin = u.is_admin;
    user_row_release(&u);
    *ret_id = id;
    return 0;
}

void
auth_session_end(struct auth *a, const char *sid)
{
    char hash[SECRET_SHA256_HEX_LEN + 1];
    struct session *se;

    if (strlen(sid) != 64)
        return;
    secret_sha256_hex(sid, 64, hash);
    pthread_mutex_lock(&a->lock);
    se = session_find(a, hash);
    if (se)
        memset(se, 0, sizeof *se);
    pthread_mutex_unlock(&a->lock);
}

int
auth_check_user_name(const char *name, const char **reterr_why)
{
    size_t len = strlen(name);

    *reterr_why = "A user name is 1 to 64 letters, digits, '-', '_' or '.'.";
    if (len == 0 || len > BOUND_USER_NAME_BYTES || streq(name, ".") || streq(name, ".."))
        return -EINVAL;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return -EINVAL;
    if (streq(name, PERM_SID_ANONYMOUS) || streq(name, PERM_SID_AUTHENTICATED)) {
        *reterr_why = "'anonymous' and 'authenticated' name every caller without credentials "
                      "and every signed-in user in the authorization matrix: choose another name.";
        return -EINVAL;
    }
    return 0;
}

int
auth_check_password(const char *password, const char **reterr_why)
{
    size_t len = strlen(password);

    *reterr_why = "A password is 8 to 1024 bytes.";
    return len < AUTH_PASSWORD_MIN || len > BOUND_PASSWORD_BYTES ? -EINVAL : 0;
}

int
auth_check_token_name(const char *name, const char **reterr_why)
{
    size_t len = strlen(name);

    *reterr_why = "A token name is 1 to 100 bytes of UTF-8, without control characters.";
    if (len == 0 || len > BOUND_TOKEN_NAME_BYTES || !utf8_is_valid(name, len))
        return -EINVAL;
    for (const char *p = name; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            return -EINVAL;
    return 0;
}

#define TOKEN_SCOPES_SETTING "token_scopes"

bool
auth_token_scopes_required(struct store *s)
{
    _cleanup_free_ char *v = NULL;

    return store_setting_get(s, TOKEN_SCOPES_SETTING, &v) == 0 && streq(v, "required");
}

int
auth_token_limits(struct store *s, const char *scopes, const char *jobs, const char *expires,
                  int64_t now, struct token_limits *ret, const char **reterr_why)
{
    unsigned v;
    int64_t at;

    *ret = (struct token_limits){};
    if (scopes && *scopes) {
        if (scopes_parse(scopes, &v, reterr_why) < 0)
            return -EINVAL;
        ret->scopes = scopes;
    } else if (auth_token_scopes_required(s)) {
        *reterr_why = "This server requires scopes on new API tokens: give scopes (read, build, "
                      "cancel, configure, admin).";
        return -EINVAL;
    }
    if (jobs && *jobs) {
        if (token_jobs_check(jobs, reterr_why) < 0)
            return -EINVAL;
        ret->jobs = jobs;
    }
    if (expires && *expires && !streq(expires, "never")) {
        size_t len = strlen(expires);
        int64_t n;

        *reterr_why = "The expiry is a time to come: 30d, 12h, 2027-01-31, or milliseconds since "
                      "the epoch (or never).";
        if (len > 1 && strchr("hd", expires[len - 1])) {
            char num[24];

            if (len >= sizeof num)
                return -EINVAL;
            memcpy(num, expires, len - 1);
            num[len - 1] = '\0';
            if (parse_int64(num, 1, 36500 * 24, &n) < 0)
                return -EINVAL;
            at = now + n * (expires[len - 1] == 'h' ? 3600 * 1000LL : 24 * 3600 * 1000LL);
        } else if (audit_parse_time(expires, now, &at) < 0 || strchr("m", expires[len - 1]))
            return -EINVAL;
        if (at <= now)
            return -EINVAL;
        ret->expires_ms = at;
    }
    return 0;
}
