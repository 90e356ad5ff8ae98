/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/tree.h"
#include "api/xmlout.h"
#include "util/bounds.h"
#include "util/strutil.h"

void
api_send_text(struct resp *resp, int status, const char *text)
{
    resp_set(resp, status, "text/plain;charset=UTF-8", text, strlen(text));
}

void
api_redirect(struct resp *resp, int status, const char *location)
{
    resp->status = status;
    resp_header(resp, "Location", location);
    buf_clear(&resp->body);
}

static void
bad_query(struct resp *resp, const char *msg)
{
    resp->status = 400;
    resp_header(resp, "X-Error", msg);
    api_send_text(resp, 400, msg);
}

/* Applies tree= to v (taking v); returns the value to send, or NULL after answering 400. */
static json_t *
filter(struct req *req, struct resp *resp, json_t *v)
{
    const char *tree = req_param(req, "tree");
    _cleanup_(tree_freep) struct tree *t = NULL;
    _cleanup_free_ char *err = NULL;
    json_t *out;
    int r;

    if (!tree)
        return v;
    r = tree_parse(tree, &t, &err);
    if (r < 0) {
        json_decref(v);
        bad_query(resp, r == -E2BIG ? "The tree expression is too long or too deeply nested."
                                    : (err ? err : "Malformed tree expression."));
        return NULL;
    }
    out = tree_apply(t, v);
    json_decref(v);
    return out;
}

void
api_send_json(struct req *req, struct resp *resp, json_t *v)
{
    char *s;

    v = filter(req, resp, v);
    if (!v)
        return;
    s = json_dumps(v, JSON_COMPACT | (req_param(req, "pretty") ? JSON_INDENT(2) : 0));
    json_decref(v);
    if (!s) {
        api_send_text(resp, 500, "Could not encode the answer.\n");
        return;
    }
    resp_set(resp, 200, "application/json;charset=utf-8", s, strlen(s));
    free(s);
}

struct append {
    struct buf *out;
    int r;
};

static int
append_chunk(const char *buffer, size_t size, void *data)
{
    struct append *a = data;

    a->r = buf_append(a->out, buffer, size);
    return a->r < 0 ? -1 : 0;
}

int
api_append_json(struct buf *out, json_t *v)
{
    struct append a = { .out = out };

    if (json_dump_callback(v, append_chunk, &a, JSON_COMPACT | JSON_ENCODE_ANY) < 0)
        return a.r < 0 ? a.r : -ENOMEM;
    return 0;
}

void
api_send_json_with(struct req *req, struct resp *resp, json_t *v, const char *field,
                   int (*write)(void *ctx, struct buf *out), void *ctx)
{
    _cleanup_free_ char *s = NULL, *key = NULL;
    const char *at;
    int r;

    if (!v) {
        api_send_text(resp, 500, "Could not build the answer.\n");
        return;
    }
    v = filter(req, resp, v);
    if (!v)
        return;
    s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    key = strdup_printf("\"%s\":[]", field);
    if (!s || !key) {
        api_send_text(resp, 500, "Could not encode the answer.\n");
        return;
    }
    /*
     * The model's own keys are fixed names, and a '"' inside a string is
     * escaped, so the first `"field":[]` is the field's empty array.
     */
    resp_set(resp, 200, "application/json;charset=utf-8", NULL, 0);
    at = strstr(s, key);
    if (!at) {
        r = buf_puts(&resp->body, s);
    } else {
        size_t head = (size_t) (at - s) + strlen(key) - 2;

        r = buf_append(&resp->body, s, head);
        r = r < 0 ? r : write(ctx, &resp->body);
        r = r < 0 ? r : buf_puts(&resp->body, at + strlen(key));
    }
    if (r == -E2BIG)
        resp_too_large(resp);
    else if (r < 0)
        api_send_text(resp, 500, "Could not build the answer.\n");
}

/*
 * api/python: Python literals (True, False, None), which json.dumps gives us
 * once the three keywords are translated outside of strings.
 */
static char *
to_python(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII), *o;
    struct buf b = BUF_INIT(HTTP_MAX_ANSWER_BYTES);
    bool in_str = false;
    int r = 0;

    if (!s)
        return NULL;
    for (char *p = s; *p; p++) {
        if (in_str) {
            r |= buf_putc(&b, *p);
            if (*p == '\\' && p[1]) {
                r |= buf_putc(&b, *++p);
            } else if (*p == '"')
                in_str = false;
        } else if (*p == '"') {
            in_str = true;
            r |= buf_putc(&b, '"');
        } else if (strncmp(p, "true", 4) == 0) {
            r |= buf_puts(&b, "True");
            p += 3;
        } else if (strncmp(p, "false", 5) == 0) {
            r |= buf_puts(&b, "False");
            p += 4;
        } else if (strncmp(p, "null", 4) == 0) {
            r |= buf_puts(&b, "None");
            p += 3;
        } else
            r |= buf_putc(&b, *p);
    }
    free(s);
    /* a cut-off answer is no answer: the caller says it could not be made */
    if (r < 0) {
        buf_release(&b);
        return NULL;
    }
    o = buf_detach(&b);
    return o;
}

void
api_send_model(struct req *req, struct resp *resp, const char *format, json_t *v)
{
    if (streq(format, "json")) {
        api_send_json(req, resp, v);
        return;
    }
    v = filter(req, resp, v);
    if (!v)
        return;
    if (streq(format, "python")) {
        char *s = to_python(v);
        json_decref(v);
        if (!s) {
            api_send_text(resp, 500, "Could not encode the answer.\n");
            return;
        }
        resp_set(resp, 200, "text/x-python;charset=UTF-8", s, strlen(s));
        free(s);
        return;
    }
    /* xml */
    {
        struct buf out = BUF_INIT(HTTP_MAX_ANSWER_BYTES);
        const char *xpath = req_param(req, "xpath");
        const char *cls = json_string_value(json_object_get(v, "_class"));
        /* as Jenkins: a bare-text answer only from the crumb issuer (the curl recipe) */
        bool text_allowed = cls && streq(cls, "hudson.security.csrf.DefaultCrumbIssuer");
        _cleanup_free_ char *err = NULL;
        bool is_text = false;
        int r;

        if (xpath)
            r = xmlout_xpath(v, NULL, xpath, req_param(req, "wrapper"), &out, &is_text, &err);
        else
            r = xmlout_render(v, NULL, &out);
        json_decref(v);
        if (r == -ENOENT) {
            buf_release(&out);
            api_send_text(resp, 404, rfmt("XPath %s didn't match\n", xpath));
            return;
        }
        if (r < 0) {
            buf_release(&out);
            bad_query(resp, err ? err : "Could not render XML.");
            return;
        }
        if (is_text && !text_allowed) {
            buf_release(&out);
            resp_header(resp, "X-Error", "primitive XPath result sets forbidden; use wrapper=NAME");
            api_send_text(resp, 403, "primitive XPath result sets forbidden; can use the 'wrapper' "
                                     "query parameter to wrap the result in an element\n");
            return;
        }
        resp_set(resp, 200, is_text ? "text/plain;charset=UTF-8" : "application/xml;charset=UTF-8",
                 out.ptr, out.len);
        buf_release(&out);
    }
}
