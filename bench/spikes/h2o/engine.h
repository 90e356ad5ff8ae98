/* SPDX-License-Identifier: MIT */
/* engine.h: shared trigger logic for mhd_trig and h2o_trig (header-only).
 * - auth_ok(): "Basic base64(user:token)", token checked by BLAKE2b hash
 * - engine thread: mutex list + eventfd; takes everything pending, one
 *   BEGIN IMMEDIATE / N INSERTs / COMMIT (WAL, synchronous=FULL), then hands
 *   the whole batch back to the HTTP layer through deliver(). */
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

typedef struct item {
    struct item *next;
    char job[64];
    char params[128];
    long long id;
    void *conn;  /* MHD_Connection* or h2o_req_t* */
    void *owner; /* h2o: the loop the request belongs to */
} item;

static unsigned char g_hash[crypto_generichash_BYTES];
static const char *g_user = "admin";

static void auth_init(void)
{
    if (sodium_init() < 0) abort();
    const char *tok = "110123456789abcdef0123456789abcdef";
    crypto_generichash(g_hash, sizeof g_hash, (const unsigned char *)tok, strlen(tok), NULL, 0);
}

/* v: header value (not NUL terminated), n: its length */
static int auth_ok(const char *v, size_t n)
{
    if (n < 7 || strncasecmp(v, "Basic ", 6) != 0) return 0;
    unsigned char bin[256];
    size_t blen = 0;
    if (sodium_base642bin(bin, sizeof bin - 1, v + 6, n - 6, " ", &blen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return 0;
    unsigned char *colon = memchr(bin, ':', blen);
    if (!colon) return 0;
    size_t ulen = colon - bin;
    if (ulen != strlen(g_user) || memcmp(bin, g_user, ulen) != 0) return 0;
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, colon + 1, blen - ulen - 1, NULL, 0);
    return sodium_memcmp(h, g_hash, sizeof h) == 0;
}

/* "/job/NAME/buildWithParameters?Q" -> job NAME, params Q; 0 if not a trigger */
static int parse_trigger(const char *p, size_t n, item *it)
{
    if (n < 5 || memcmp(p, "/job/", 5) != 0) return 0;
    const char *s = p + 5, *e = p + n;
    const char *sl = memchr(s, '/', e - s);
    if (!sl || sl == s || (size_t)(sl - s) >= sizeof it->job) return 0;
    const char *q = memchr(sl, '?', e - sl);
    size_t rest = (q ? q : e) - sl;
    if (rest != 20 || memcmp(sl, "/buildWithParameters", 20) != 0) return 0;
    memcpy(it->job, s, sl - s);
    it->job[sl - s] = 0;
    size_t ql = q ? (size_t)(e - q - 1) : 0;
    if (ql >= sizeof it->params) ql = sizeof it->params - 1;
    if (q) memcpy(it->params, q + 1, ql);
    it->params[ql] = 0;
    return 1;
}

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static item *g_head, **g_tail = &g_head;
static int g_efd;
static sqlite3 *g_db;
static sqlite3_stmt *g_ins, *g_begin, *g_commit;
static void (*g_deliver)(item *batch);
unsigned long g_batches, g_items; /* stats */

static void engine_submit(item *it)
{
    it->next = NULL;
    pthread_mutex_lock(&g_mu);
    int was_empty = g_head == NULL;
    *g_tail = it;
    g_tail = &it->next;
    pthread_mutex_unlock(&g_mu);
    if (was_empty) {
        uint64_t one = 1;
        if (write(g_efd, &one, 8) != 8) abort();
    }
}

static void db_step(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) { fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(g_db)); abort(); }
    sqlite3_reset(s);
}

static void *engine_main(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t v;
        if (read(g_efd, &v, 8) != 8) continue;
        pthread_mutex_lock(&g_mu);
        item *batch = g_head;
        g_head = NULL;
        g_tail = &g_head;
        pthread_mutex_unlock(&g_mu);
        if (!batch) continue;
        long long now = time(NULL);
        db_step(g_begin);
        for (item *it = batch; it; it = it->next) {
            sqlite3_bind_text(g_ins, 1, it->job, -1, SQLITE_STATIC);
            sqlite3_bind_text(g_ins, 2, it->params, -1, SQLITE_STATIC);
            sqlite3_bind_int64(g_ins, 3, now);
            db_step(g_ins);
            it->id = sqlite3_last_insert_rowid(g_db);
            g_items++;
        }
        db_step(g_commit); /* fdatasync of the WAL (synchronous=FULL) */
        g_batches++;
        g_deliver(batch);
    }
    return NULL;
}

#include <signal.h>
static void on_term(int sig)
{
    char b[96];
    int n = snprintf(b, sizeof b, "stats items=%lu batches=%lu\n", g_items, g_batches);
    if (write(2, b, n) < 0) {}
    _exit(0);
}

static void engine_start(const char *dbpath, void (*deliver)(item *))
{
    signal(SIGTERM, on_term);
    g_deliver = deliver;
    g_efd = eventfd(0, EFD_CLOEXEC);
    if (sqlite3_open(dbpath, &g_db) != SQLITE_OK) abort();
    char *err = NULL;
    /* TRIG_SYNC=OFF (spike only): same WAL + group commit, no fdatasync,
     * to separate HTTP-layer cost from disk latency */
    const char *sync = getenv("TRIG_SYNC");
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s;", sync && !strcmp(sync, "OFF") ? "OFF" : "FULL");
    sqlite3_exec(g_db, pragma, NULL, NULL, NULL);
    if (sqlite3_exec(g_db,
                     "PRAGMA journal_mode=WAL;"
                     "CREATE TABLE IF NOT EXISTS queue(id integer primary key, job text, params text, created integer);",
                     NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s\n", err);
        abort();
    }
    sqlite3_prepare_v2(g_db, "INSERT INTO queue(job,params,created) VALUES(?,?,?)", -1, &g_ins, NULL);
    sqlite3_prepare_v2(g_db, "BEGIN IMMEDIATE", -1, &g_begin, NULL);
    sqlite3_prepare_v2(g_db, "COMMIT", -1, &g_commit, NULL);
    pthread_t t;
    pthread_create(&t, NULL, engine_main, NULL);
}
