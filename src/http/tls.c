/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "http/tls.h"
#include "util/fs.h"
#include "util/secret.h"
#include "util/strutil.h"

#define TLS_MAX_CHAIN 16
#define TLS_MAX_FILE (1024 * 1024)

/*
 * One loaded certificate chain and key. A handshake may hold the pointers
 * GnuTLS got from the callback until it ends, so a reload keeps every
 * older generation until tls_free().
 */
struct tls_gen {
    gnutls_pcert_st pcert[TLS_MAX_CHAIN];
    unsigned n_pcert;
    gnutls_privkey_t key;
    struct tls_gen *older;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_gen *current;
static char *cert_file, *key_file;

static void
gen_free(struct tls_gen *g)
{
    for (unsigned i = 0; i < g->n_pcert; i++)
        gnutls_pcert_deinit(&g->pcert[i]);
    if (g->key)
        gnutls_privkey_deinit(g->key);
    free(g);
}

static int
fail(char **msg, int r, const char *what, const char *path, const char *why)
{
    if (msg)
        *msg = strdup_printf("%s %s: %s", what, path, why);
    return r;
}

static int
read_gen(struct tls_gen **ret, char **msg)
{
    _cleanup_free_ char *cert = NULL, *key = NULL;
    struct tls_gen *g;
    size_t cert_len, key_len;
    gnutls_datum_t d;
    int r;

    r = fs_read_all(cert_file, TLS_MAX_FILE, &cert, &cert_len);
    if (r < 0)
        return fail(msg, r, "cannot read the certificate", cert_file, strerror(-r));
    r = fs_read_all(key_file, TLS_MAX_FILE, &key, &key_len);
    if (r < 0)
        return fail(msg, r, "cannot read the key", key_file, strerror(-r));
    g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->n_pcert = TLS_MAX_CHAIN;
    d = (gnutls_datum_t){ .data = (unsigned char *) cert, .size = (unsigned) cert_len };
    r = gnutls_pcert_list_import_x509_raw(g->pcert, &g->n_pcert, &d, GNUTLS_X509_FMT_PEM, 0);
    if (r < 0 || g->n_pcert == 0) {
        g->n_pcert = 0;
        gen_free(g);
        return fail(msg, -EINVAL, "no PEM certificate in", cert_file, gnutls_strerror(r));
    }
    d = (gnutls_datum_t){ .data = (unsigned char *) key, .size = (unsigned) key_len };
    r = gnutls_privkey_init(&g->key);
    if (r >= 0)
        r = gnutls_privkey_import_x509_raw(g->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    secret_wipe(key, key_len);
    if (r < 0) {
        gen_free(g);
        return fail(msg, -EINVAL, "no PEM private key in", key_file, gnutls_strerror(r));
    }
    *ret = g;
    return 0;
}

int
tls_load(const char *cert_path, const char *key_path, char **reterr_msg)
{
    free(cert_file);
    free(key_file);
    cert_file = strdup(cert_path);
    key_file = strdup(key_path);
    if (!cert_file || !key_file)
        return -ENOMEM;
    return tls_reload(reterr_msg);
}

int
tls_reload(char **reterr_msg)
{
    struct tls_gen *g = NULL;
    int r;

    if (!cert_file)
        return 0;
    r = read_gen(&g, reterr_msg);
    if (r < 0)
        return r;
    pthread_mutex_lock(&lock);
    g->older = current;
    current = g;
    pthread_mutex_unlock(&lock);
    return 0;
}

bool
tls_enabled(void)
{
    return current != NULL;
}

static int
retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
         const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
         unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
    (void) session;
    (void) req_ca_rdn;
    (void) nreqs;
    (void) pk_algos;
    (void) pk_algos_length;
    pthread_mutex_lock(&lock);
    if (!current) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    *pcert = current->pcert;
    *pcert_length = current->n_pcert;
    *privkey = current->key;
    pthread_mutex_unlock(&lock);
    return 0;
}

void *
tls_cert_callback(void)
{
    return (void *) retrieve;
}

void
tls_free(void)
{
    pthread_mutex_lock(&lock);
    while (current) {
        struct tls_gen *older = current->older;
        gen_free(current);
        current = older;
    }
    pthread_mutex_unlock(&lock);
    free(cert_file);
    free(key_file);
    cert_file = key_file = NULL;
}
