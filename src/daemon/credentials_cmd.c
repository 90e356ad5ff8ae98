/* SPDX-License-Identifier: MIT */
/*
 * steward credentials add|list|remove: the credentials store, offline.
 * Secrets come from a file or stdin, never from the command line, where
 * every user of the machine could read them in /proc.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/table.h"
#include "core/credentials.h"
#include "daemon/offline.h"
#include "util/bounds.h"
#include "util/secret.h"
#include "util/strutil.h"

/*
 * Reads all of `path` ("-": stdin) up to `max` bytes into a new buffer
 * (a NUL follows). 0, -E2BIG past max, -errno.
 */
static int
read_secret_file(const char *path, size_t max, unsigned char **ret, size_t *ret_len)
{
    int fd = streq(path, "-") ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    unsigned char *b;
    size_t len = 0;
    int r = 0;

    if (fd < 0)
        return -errno;
    b = malloc(max + 2);
    if (!b)
        r = -ENOMEM;
    while (r == 0) {
        ssize_t n = read(fd, b + len, max + 1 - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            r = -errno;
        else if (n == 0)
            break;
        else if ((len += (size_t) n) > max)
            r = -E2BIG;
    }
    if (fd != STDIN_FILENO)
        (void) close(fd);
    if (r < 0) {
        secret_bytes_free(b, b ? max + 2 : 0);
        return r;
    }
    b[len] = '\0';
    *ret = b;
    *ret_len = len;
    return 0;
}

/* A password or a line of text ends at its line break, as `echo` and `read` write it. */
static void
drop_final_newline(unsigned char *s, size_t *len)
{
    if (*len && s[*len - 1] == '\n')
        s[--*len] = '\0';
    if (*len && s[*len - 1] == '\r')
        s[--*len] = '\0';
}

static int
credentials_add(const char *home_dir, int argc, char **argv)
{
    static const struct option opts[] = {
        { "id", required_argument, NULL, 'i' },
        { "kind", required_argument, NULL, 'k' },
        { "description", required_argument, NULL, 'd' },
        { "username", required_argument, NULL, 'u' },
        { "username-secret", no_argument, NULL, 'U' },
        { "scope", required_argument, NULL, 's' },
        { "file-name", required_argument, NULL, 'f' },
        { "secret-file", required_argument, NULL, 'S' },
        { "passphrase-file", required_argument, NULL, 'P' },
        {},
    };
    _cleanup_(store_closep) struct store *db = NULL;
    _cleanup_(cred_fields_release) struct cred_fields f = {};
    const char *kind = NULL, *secret_file = "-", *pass_file = NULL, *why = NULL;
    struct home *h = NULL;
    int c, r;

    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
        char **field = NULL;

        switch (c) {
        case 'i':
            field = &f.id;
            break;
        case 'k':
            kind = optarg;
            break;
        case 'd':
            field = &f.description;
            break;
        case 'u':
            field = &f.username;
            break;
        case 'U':
            f.username_secret = true;
            break;
        case 's':
            field = &f.scope;
            break;
        case 'f':
            field = &f.file_name;
            break;
        case 'S':
            secret_file = optarg;
            break;
        case 'P':
            pass_file = optarg;
            break;
        default:
            return usage_error("unknown option for credentials add");
        }
        if (field) {
            free(*field);
            *field = strdup(optarg);
            if (!*field)
                return 1;
        }
    }
    if (optind < argc)
        return usage_error(rfmt("credentials add takes options only, not %s (a secret goes in "
                                "a file or on stdin: --secret-file PATH|-)", argv[optind]));
    if (!kind || cred_kind_parse(kind, &f.kind) < 0)
        return usage_error("credentials add needs --kind secret-text, username-password, "
                           "ssh-key or file");
    if (pass_file && streq(pass_file, "-") && streq(secret_file, "-"))
        return usage_error("the secret and the passphrase cannot both come from stdin: give "
                           "--secret-file PATH or --passphrase-file PATH");
    if (f.kind == CRED_FILE && !f.file_name && !streq(secret_file, "-")) {
        const char *base = strrchr(secret_file, '/');
        f.file_name = strdup(base ? base + 1 : secret_file);
        if (!f.file_name)
            return 1;
    }
    if (streq(secret_file, "-") && isatty(STDIN_FILENO))
        fprintf(stderr, "Reading the secret from stdin (end it with Ctrl-D)...\n");
    r = read_secret_file(secret_file, f.kind == CRED_FILE ? BOUND_CREDENTIAL_FILE_BYTES
                                                          : BOUND_CREDENTIAL_SECRET_BYTES,
                         &f.secret, &f.secret_len);
    if (r < 0) {
        fprintf(stderr, "steward: cannot read the secret from %s: %s\n",
                streq(secret_file, "-") ? "stdin" : secret_file,
                r == -E2BIG ? "it is longer than Steward keeps" : strerror(-r));
        return 1;
    }
    if (f.kind == CRED_USERNAME_PASSWORD || f.kind == CRED_SECRET_TEXT)
        drop_final_newline(f.secret, &f.secret_len);
    if (pass_file) {
        r = read_secret_file(pass_file, BOUND_CREDENTIAL_SECRET_BYTES, &f.passphrase,
                             &f.passphrase_len);
        if (r < 0) {
            fprintf(stderr, "steward: cannot read the passphrase from %s: %s\n",
                    streq(pass_file, "-") ? "stdin" : pass_file,
                    r == -E2BIG ? "it is longer than Steward keeps" : strerror(-r));
            return 1;
        }
        drop_final_newline(f.passphrase, &f.passphrase_len);
    }
    if (cred_check(&f, false, &why) < 0)
        return usage_error(why);
    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    r = cred_add(h, db, &f, &why);
    if (r >= 0)
        offline_audit(db, "credential-add", NULL, "credential '%s' (%s)", f.id,
                      cred_kind_name(f.kind));
    home_free(h);
    if (r == -EINVAL || r == -ENOSPC) {
        fprintf(stderr, "steward: %s\n", why ? why : cred_strerror(r));
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "steward: cannot add credential %s: %s\n", f.id ? f.id : "",
                cred_strerror(r));
        return 1;
    }
    printf("%s\n", f.id);
    fprintf(stderr, "Added %s credential %s\n", cred_kind_name(f.kind), f.id);
    return 0;
}

static int
credentials_list(const char *home_dir)
{
    static const char *const headers[] = { "ID", "KIND", "SCOPE", "USERNAME", "FILE",
                                           "DESCRIPTION" };
    _cleanup_(store_closep) struct store *db = NULL;
    struct cred_info *v = NULL;
    struct table *t = NULL;
    struct home *h = NULL;
    size_t n = 0;
    int r;

    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    r = cred_list(db, &v, &n);
    home_free(h);
    if (r < 0) {
        fprintf(stderr, "steward: cannot list the credentials: %s\n", cred_strerror(r));
        return 1;
    }
    t = table_new(ELEMENTSOF(headers), headers);
    for (size_t i = 0; t && r >= 0 && i < n; i++) {
        const char *cells[] = { v[i].id, cred_kind_name(v[i].kind), v[i].scope,
                                v[i].username_secret ? "****" : v[i].username, v[i].file_name,
                                v[i].description };
        r = table_add(t, cells);
    }
    if (t && r >= 0)
        table_print(t, stdout);
    else
        fprintf(stderr, "steward: out of memory\n");
    r = t && r >= 0 ? 0 : 1;
    table_free(t);
    cred_infos_free(v, n);
    return r;
}

static int
credentials_remove(const char *home_dir, const char *id)
{
    _cleanup_(store_closep) struct store *db = NULL;
    struct home *h = NULL;
    int r;

    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    r = cred_remove(db, id);
    if (r >= 0)
        offline_audit(db, "credential-remove", NULL, "credential '%s'", id);
    home_free(h);
    if (r < 0) {
        fprintf(stderr, "steward: cannot remove credential %s: %s\n", id, cred_strerror(r));
        return 1;
    }
    fprintf(stderr, "Removed credential %s\n", id);
    return 0;
}

int
cmd_credentials(const char *home_dir, int argc, char **argv)
{
    if (argc >= 2 && streq(argv[1], "add"))
        return credentials_add(home_dir, argc, argv);
    if (argc == 2 && streq(argv[1], "list"))
        return credentials_list(home_dir);
    if (argc == 3 && streq(argv[1], "remove"))
        return credentials_remove(home_dir, argv[2]);
    return usage_error("credentials takes: add --id ID --kind KIND ..., list, or remove ID");
}
