/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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

/*
 * Grows an array of `n` items of `size` to hold one more: to 4, then to
 * each next power of two, so that n fields cost log n reallocations.
 */
static void *
grow(void *v, size_t n, size_t size)
{
    if (n > 0 && (n < 4 || (n & (n - 1)) != 0))
        return v;
    return realloc(v, (n < 4 ? 4 : 2 * n) * size);
}

int
http_add_param(struct req *req, const char *key, size_t klen, const char *value, size_t vlen)
{
    struct kv *v;
    char *k, *val;
    int r1, r2;

    if (req->n_params >= BOUND_FORM_FIELDS)
        return -E2BIG;
    /* key and value in one block, as strndup() would have cut them */
    klen = strnlen(key, klen);
    vlen = value ? strnlen(value, vlen) : 0;
    k = malloc(klen + 1 + vlen + 1);
    if (!k)
        return -ENOMEM;
    val = k + klen + 1;
    memcpy(k, key, klen);
    k[klen] = '\0';
    if (vlen)
        memcpy(val, value, vlen);
    val[vlen] = '\0';
    r1 = url_decode_inplace(k, klen);
    r2 = url_decode_inplace(val, vlen);
    if (r1 < 0 || r2 < 0) {
        free(k);
        return -EINVAL;
    }
    v = grow(req->params, req->n_params, sizeof *v);
    if (!v) {
        free(k);
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
    size_t len = strlen(url), n = 0;
    char **v, *text;

    req->trailing_slash = len > 1 && url[len - 1] == '/';
    for (const char *p = url; *p; p++)
        if (*p != '/' && (p == url || p[-1] == '/'))
            n++;
    if (n == 0)
        return 0;
    /* the pointers and the segments' text in one block: one free() for all */
    v = malloc(n * sizeof *v + len + 1);
    if (!v)
        return -ENOMEM;
    text = (char *) (v + n);
    req->seg = v;
    for (const char *p = url; *p;) {
        size_t seg;

        while (*p == '/')
            p++;
        if (!*p)
            break;
        seg = strcspn(p, "/");
        memcpy(text, p, seg);
        text[seg] = '\0';
        if (url_decode_path_inplace(text, seg) < 0)
            return -EINVAL;
        v[req->n_seg++] = text;
        text += seg + 1;
        p += seg;
    }
    return 0;
}

bool
http_upload_refusal(const struct req *req, struct upload_refusal *ret)
{
    switch (req->body_problem) {
    case BODY_UPLOAD_TOO_LARGE:
        *ret = (struct upload_refusal){
            .status = 413, .error = "Upload too large",
            .presented = strdup_printf("The files of this request pass the server's upload "
                                       "limit of %llu MiB (steward serve --max-upload); "
                                       "nothing was queued.",
                                       (unsigned long long) (req->max_upload >> 20)),
            .fix = "Send a smaller file, or ask an administrator to raise --max-upload." };
        return true;
    case BODY_BAD_MULTIPART:
        *ret = (struct upload_refusal){
            .status = 400, .error = "Malformed multipart form",
            .presented = strdup("The multipart/form-data body could not be read: a missing "
                                "or bad boundary, a malformed part, or a body cut short. "
                                "Nothing was queued."),
            .fix = "Send the form as curl -F NAME=@FILE does." };
        return true;
    case BODY_TOO_MANY_PARTS:
        *ret = (struct upload_refusal){
            .status = 400, .error = "Too many parts",
            .presented = strdup_printf("The multipart form has more than %d parts, or more "
                                       "than %d files. Nothing was queued.",
                                       BOUND_UPLOAD_PARTS, BOUND_UPLOAD_FILES),
            .fix = "Send only the job's parameters, one file per file parameter." };
        return true;
    case BODY_NO_UPLOADS:
        *ret = (struct upload_refusal){
            .status = 415, .error = "This URL takes no multipart form",
            .presented = strdup("The request sent multipart/form-data; only the trigger URLs "
                                "(.../build, .../buildWithParameters) take one, for file "
                                "parameters."),
            .fix = "Send an application/x-www-form-urlencoded form (curl --data-urlencode)." };
        return true;
    case BODY_UPLOADS_BUSY:
        *ret = (struct upload_refusal){
            .status = 503, .error = "Too many uploads at once", .retry_after_s = 10,
            .presented = strdup_printf("Other requests are uploading files right now, and this "
                                       "one would bring the server past its bound of %llu MiB "
                                       "of uploads in flight (%d times --max-upload). Nothing "
                                       "was read or queued.",
                                       (unsigned long long) ((req->max_upload >> 20) *
                                                             BOUND_UPLOAD_IN_FLIGHT),
                                       BOUND_UPLOAD_IN_FLIGHT),
            .fix = "Retry in a few seconds (Retry-After)." };
        return true;
    case BODY_UPLOAD_NO_SPACE:
        *ret = (struct upload_refusal){
            .status = 507, .error = "Not enough disk space for the upload",
            .presented = strdup_printf("The file system of Steward's upload directory has less "
                                       "free space than this request's body plus %d MiB. "
                                       "Nothing was read or queued.", BOUND_UPLOAD_FREE_MIB),
            .fix = "Send a smaller file, or ask an administrator to free space in Steward's "
                   "home directory." };
        return true;
    default:
        return false;
    }
}

void
http_req_release(struct req *req)
{
    free(req->seg);
    req->seg = NULL;
    req->n_seg = 0;
    for (size_t i = 0; i < req->n_params; i++) {
        secret_wipe(req->params[i].value, strlen(req->params[i].value));
        free(req->params[i].key);   /* the value shares its block */
    }
    free(req->params);
    req->params = NULL;
    req->n_params = 0;
    if (req->body.ptr)
        secret_wipe(req->body.ptr, req->body.len);
    buf_release(&req->body);
    for (size_t i = 0; i < req->n_files; i++) {
        if (req->files[i].path)
            (void) unlink(req->files[i].path);
        free(req->files[i].path);
        free(req->files[i].field);
        free(req->files[i].filename);
    }
    free(req->files);
    req->files = NULL;
    req->n_files = 0;
}
