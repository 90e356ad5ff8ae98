/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/parse.h"
#include "util/bounds.h"
#include "util/secret.h"
#include "util/strutil.h"

int
http_parse_basic(const char *header_value, char **ret_user, char **ret_secret)
{
    char *decoded = NULL, *colon, *user, *secret;
    const char *v;
    size_t len;
    int r;

    if (strncasecmp(header_value, "Basic ", 6) != 0)
        return -ENOENT;
    v = header_value + 6;
    while (*v == ' ')
        v++;
    r = base64_decode(v, &decoded, &len);
    if (r < 0)
        return r;
    /* an embedded NUL would cut the user or the secret short */
    if (strlen(decoded) != len || !(colon = strchr(decoded, ':')) || colon == decoded) {
        secret_wipe(decoded, len);
        free(decoded);
        return -EINVAL;
    }
    user = strndup(decoded, (size_t) (colon - decoded));
    secret = strdup(colon + 1);
    secret_wipe(decoded, len);
    free(decoded);
    if (!user || !secret) {
        free(user);
        if (secret)
            secret_wipe(secret, strlen(secret));
        free(secret);
        return -ENOMEM;
    }
    *ret_user = user;
    *ret_secret = secret;
    return 0;
}

int
http_add_param(struct req *req, const char *key, size_t klen, const char *value, size_t vlen)
{
    struct kv *v;
    char *k, *val;
    int r1, r2;

    if (req->n_params >= BOUND_FORM_FIELDS)
        return -E2BIG;
    k = strndup(key, klen);
    val = strndup(value ? value : "", value ? vlen : 0);
    if (!k || !val) {
        free(k);
        free(val);
        return -ENOMEM;
    }
    r1 = url_decode_inplace(k, strlen(k));
    r2 = url_decode_inplace(val, strlen(val));
    if (r1 < 0 || r2 < 0) {
        free(k);
        free(val);
        return -EINVAL;
    }
    v = realloc(req->params, (req->n_params + 1) * sizeof *v);
    if (!v) {
        free(k);
        free(val);
        return -ENOMEM;
    }
    req->params = v;
    v[req->n_params].key = k;
    v[req->n_params].value = val;
    req->n_params++;
    return 0;
}

int
http_parse_form(struct req *req, const char *s, size_t len)
{
    const char *end = s + len;

    while (s < end) {
        const char *amp = memchr(s, '&', (size_t) (end - s));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t) (stop - s));
        int r;

        if (stop > s) {
            if (eq)
                r = http_add_param(req, s, (size_t) (eq - s), eq + 1, (size_t) (stop - eq - 1));
            else
                r = http_add_param(req, s, (size_t) (stop - s), NULL, 0);
            if (r < 0)
                return r;
        }
        s = stop + 1;
    }
    return 0;
}

int
http_split_path(struct req *req, const char *url)
{
    const char *p = url;

    req->trailing_slash = strlen(url) > 1 && url[strlen(url) - 1] == '/';
    while (*p) {
        const char *slash;
        char *seg, **v;
        size_t len;

        while (*p == '/')
            p++;
        if (!*p)
            break;
        slash = strchr(p, '/');
        len = slash ? (size_t) (slash - p) : strlen(p);
        seg = strndup(p, len);
        if (!seg)
            return -ENOMEM;
        if (url_decode_path_inplace(seg, len) < 0) {
            free(seg);
            return -EINVAL;
        }
        v = realloc(req->seg, (req->n_seg + 1) * sizeof *v);
        if (!v) {
            free(seg);
            return -ENOMEM;
        }
        req->seg = v;
        v[req->n_seg++] = seg;
        p += len;
    }
    return 0;
}

void
http_req_release(struct req *req)
{
    for (size_t i = 0; i < req->n_seg; i++)
        free(req->seg[i]);
    free(req->seg);
    for (size_t i = 0; i < req->n_params; i++) {
        free(req->params[i].key);
        secret_wipe(req->params[i].value, strlen(req->params[i].value));
        free(req->params[i].value);
    }
    free(req->params);
    if (req->body.ptr)
        secret_wipe(req->body.ptr, req->body.len);
    buf_release(&req->body);
}
