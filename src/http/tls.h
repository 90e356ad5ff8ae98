/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * TLS for the server (serve --tls-cert FILE --tls-key FILE), through
 * libmicrohttpd's GnuTLS. The certificate chain and key are read from
 * their files at start and again on tls_reload() (SIGHUP): a handshake
 * then gets the new ones, and the connections already open keep theirs.
 * One set per process.
 */

/* Reads the PEM files. 0, or -errno with *reterr_msg (to be freed) saying what is wrong. */
int tls_load(const char *cert_path, const char *key_path, char **reterr_msg);
/* Reads the same files again; on failure the old certificate stays. 0 or -errno, as above. */
int tls_reload(char **reterr_msg);
/* True once tls_load() succeeded. */
bool tls_enabled(void);
/* For MHD_OPTION_HTTPS_CERT_CALLBACK: GnuTLS's certificate retrieval function. */
void *tls_cert_callback(void);
/* Frees every certificate ever loaded (at exit, when no handshake can run). */
void tls_free(void);
