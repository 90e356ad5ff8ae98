/* SPDX-License-Identifier: MIT */
/*
 * notifyCommit's access tokens (see core/notify.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/notify.h"
#include "util/buf.h"
#include "util/macro.h"
#include "util/secret.h"

static bool name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > GIT_NOTIFY_TOKEN_NAME_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *) name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

int
notify_token_new(struct store *s, const char *name, char **ret_value, char **ret_uuid)
{
    _cleanup_free_ char *old = NULL, *lines = NULL;
    char value[33], hash[65], raw[33], uuid[37];
    int r;

    if (!name_ok(name))
        return -EINVAL;
    secret_random_hex(value, 16);
    secret_sha256_hex(value, 32, hash);
    secret_random_hex(raw, 16);
    snprintf(uuid, sizeof uuid, "%.8s-%.4s-%.4s-%.4s-%.12s", raw, raw + 8, raw + 12, raw + 16,
             raw + 20);
    r = store_setting_get(s, GIT_NOTIFY_TOKENS_KEY, &old);
    if (r < 0 && r != -ENOENT)
        return r;
    if (asprintf(&lines, "%s%s %s %s\n", old ? old : "", uuid, hash, name) < 0) {
        lines = NULL;
        return -ENOMEM;
    }
    r = store_setting_set(s, GIT_NOTIFY_TOKENS_KEY, lines);
    if (r < 0)
        return r;
    *ret_value = strdup(value);
    *ret_uuid = strdup(uuid);
    secret_wipe(value, sizeof value);
    if (!*ret_value || !*ret_uuid) {
        free(*ret_value);
        free(*ret_uuid);
        return -ENOMEM;
    }
    return 0;
}

int
notify_token_revoke(struct store *s, const char *uuid)
{
    _cleanup_free_ char *old = NULL;
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(1 << 20);
    bool found = false;
    int r;

    r = store_setting_get(s, GIT_NOTIFY_TOKENS_KEY, &old);
    if (r == -ENOENT)
        return -ENOENT;
    if (r < 0)
        return r;
    for (char *line = old, *nl; line && *line; line = nl) {
        nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        if (strncmp(line, uuid, strlen(uuid)) == 0 && line[strlen(uuid)] == ' ') {
            found = true;
            continue;
        }
        if (buf_printf(&b, "%s\n", line) < 0)
            return -ENOMEM;
    }
    if (!found)
        return -ENOENT;
    return store_setting_set(s, GIT_NOTIFY_TOKENS_KEY, buf_str(&b));
}

bool
notify_token_valid(struct store *s, const char *token)
{
    _cleanup_free_ char *lines = NULL;
    char hash[65];
    bool ok = false;

    if (!token || strlen(token) > 256 || store_setting_get(s, GIT_NOTIFY_TOKENS_KEY, &lines) < 0)
        return false;
    secret_sha256_hex(token, strlen(token), hash);
    for (char *line = lines, *nl; line && *line; line = nl) {
        char stored[65];

        nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        if (sscanf(line, "%*36s %64s", stored) == 1)
            ok |= secret_equal(stored, hash);
    }
    return ok;
}

int
notify_token_list(struct store *s, char **ret)
{
    _cleanup_free_ char *lines = NULL;
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(1 << 20);
    int r;

    r = store_setting_get(s, GIT_NOTIFY_TOKENS_KEY, &lines);
    if (r < 0 && r != -ENOENT)
        return r;
    for (char *line = lines, *nl; line && *line; line = nl) {
        char *sp1, *sp2;

        nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        sp1 = strchr(line, ' ');
        sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (!sp2)
            continue;
        if (buf_printf(&b, "%.*s %s\n", (int) (sp1 - line), line, sp2 + 1) < 0)
            return -ENOMEM;
    }
    *ret = buf_detach(&b);
    return *ret ? 0 : -ENOMEM;
}

enum notify_access
notify_access(struct store *s)
{
    _cleanup_free_ char *v = NULL;

    if (store_setting_get(s, GIT_NOTIFY_ACCESS_KEY, &v) < 0)
        return NOTIFY_REQUIRED;
    if (streq(v, "off"))
        return NOTIFY_OFF;
    if (streq(v, "sha1-only"))
        return NOTIFY_SHA1_ONLY;
    return NOTIFY_REQUIRED;
}
