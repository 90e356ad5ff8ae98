/* SPDX-License-Identifier: MIT */
/*
 * The credentials plugin's REST API for the system store's global domain
 * (CredentialsStoreAction's DomainWrapper and CredentialsWrapper), over
 * core/credentials. The dispatcher checks Overall/Read and the route's
 * Credentials permission before a handler runs; a handler checks only what
 * depends on the method (DELETE of config.xml).
 *
 * NEEDSWORK: a secret sent to these URLs (or to the page's form) is wiped
 * once core/credentials has sealed it, but the request's other copies are
 * only freed: libmicrohttpd's read buffer, the body and form fields of
 * struct req, and the libxml2 or jansson tree it was parsed into. A wipe
 * of those belongs in http/ (the request) and in the parsers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/credentials.h"
#include "api/dispatch.h"
#include "core/credentials.h"
#include "util/bounds.h"
#include "util/secret.h"
#include "util/strutil.h"

#define DOMAIN_PATH "credentials/store/system/domain/_/"
#define SEG_ID 6   /* credentials/store/system/domain/_/credential/ID/... */

/* ---- answers ---- */

static void
refuse_cred(const struct app *app, struct req *req, struct resp *resp, int r, const char *id,
            const char *why)
{
    switch (r) {
    case -EINVAL:
        refuse(app, req, resp,
               &(struct refusal){ .status = 400, .error = "Invalid credential",
                                  .presented = why ? why : "The credential is not valid.",
                                  .fix = "Nothing was changed. See docs/COMPAT.md (Credentials) "
                                         "for the fields of each kind." });
        break;
    case -EEXIST:
        refuse(app, req, resp,
               &(struct refusal){ .status = 409, .error = "Credentials with specified ID already exist",
                                  .presented = rfmt("A credential with the id '%s' exists.", id),
                                  .fix = rfmt("Nothing was changed. Choose another id, or POST to "
                                              DOMAIN_PATH "credential/%s/config.xml to change it.",
                                              id) });
        break;
    case -ENOENT:
        refuse(app, req, resp,
               &(struct refusal){ .status = 404, .error = "No such credential",
                                  .presented = rfmt("There is no credential with the id '%s' in "
                                                    "the global domain of the system store.", id),
                                  .fix = "List them at " DOMAIN_PATH "api/json." });
        break;
    case -ENOSPC:
        refuse(app, req, resp,
               &(struct refusal){ .status = 507, .error = "No room for the credential",
                                  .presented = why ? why : cred_strerror(r),
                                  .fix = "Nothing was changed. Remove credentials no longer used." });
        break;
    default:
        refuse(app, req, resp,
               &(struct refusal){ .status = 500, .error = "Could not store the credential",
                                  .presented = cred_strerror(r),
                                  .fix = "The server's administrator can fix this; nothing was "
                                         "changed." });
        break;
    }
}

static bool
accepts_json(const struct req *req)
{
    const char *a = req_header(req, "Accept");

    return a && strstr(a, "application/json");
}

/* The plugin's answer to a form post with Accept: application/json. */
static void
send_notification(struct req *req, struct resp *resp, const char *message, const char *type)
{
    api_send_json(req, resp, json_pack("{s:s, s:s}", "message", message, "notificationType", type));
}

static void
redirect_to_domain(const struct app *app, struct req *req, struct resp *resp)
{
    _cleanup_free_ char *root = app_root_url(app, req);

    api_redirect(resp, 302, rfmt("%s" DOMAIN_PATH, root ? root : "/"));
}

/*
 * The end of a change: the refusal for r < 0; else, as the plugin answers,
 * a redirect to the domain for a form post and an empty 200 for the rest.
 */
static void
done(const struct app *app, struct req *req, struct resp *resp, int r, const char *id,
     const char *why, bool form)
{
    if (r < 0)
        refuse_cred(app, req, resp, r, id, why);
    else if (form)
        redirect_to_domain(app, req, resp);
    else
        api_send_text(resp, 200, "");
}

/* ---- the JSON model ---- */

/* CredentialsNameProvider's usual forms: what the plugin's pages and api/json call it. */
static const char *
display_name(const struct cred_info *c)
{
    bool desc = c->description && *c->description;

    switch (c->kind) {
    case CRED_USERNAME_PASSWORD:
        return desc ? rfmt("%s/****** (%s)", c->username_secret ? "****" : c->username,
                           c->description)
                    : rfmt("%s/******", c->username_secret ? "****" : c->username);
    case CRED_SSH_KEY:
        return desc ? rfmt("%s (%s)", c->username, c->description) : c->username;
    case CRED_FILE:
        return desc ? rfmt("%s (%s)", c->file_name, c->description) : c->file_name;
    default:
        return desc ? c->description : c->id;
    }
}

static json_t *
credential_json(const struct cred_info *c)
{
    return json_pack("{s:s, s:s, s:s, s:n, s:s, s:s, s:s}", "_class",
                     "com.cloudbees.plugins.credentials.CredentialsStoreAction$CredentialsWrapper",
                     "description", c->description ? c->description : "", "displayName",
                     display_name(c), "fingerprint", "fullName", rfmt("system/_/%s", c->id), "id",
                     c->id, "typeName", cred_kind_type_name(c->kind));
}

static void
domain_api(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    struct cred_info *v = NULL;
    json_t *list, *o;
    size_t n = 0;
    int r;

    (void) unused;
    r = cred_list(req->db, &v, &n);
    if (r < 0) {
        refuse_cred(app, req, resp, r, "", NULL);
        return;
    }
    list = json_array();
    for (size_t i = 0; list && i < n; i++)
        json_array_append_new(list, credential_json(&v[i]));
    cred_infos_free(v, n);
    o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:b, s:s}", "_class",
                  "com.cloudbees.plugins.credentials.CredentialsStoreAction$DomainWrapper",
                  "credentials", list ? list : json_array(), "description",
                  "Credentials that should be available irrespective of domain specification to "
                  "requirements matching.",
                  "displayName", "Global credentials (unrestricted)", "fullDisplayName",
                  "System \xc2\xbb Global credentials (unrestricted)", "fullName", "system/_",
                  "global", 1, "urlName", "_");
    if (!o) {
        api_send_text(resp, 500, "Could not build the answer.\n");
        return;
    }
    api_send_model(req, resp, req_seg(req, 6), o);
}

static void
credential_api(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    const char *id = req_seg(req, SEG_ID);
    struct cred_info c = {};
    json_t *o;
    int r;

    (void) unused;
    r = cred_get_info(req->db, id, &c);
    if (r < 0) {
        refuse_cred(app, req, resp, r, id, NULL);
        return;
    }
    o = credential_json(&c);
    cred_info_release(&c);
    if (!o) {
        api_send_text(resp, 500, "Could not build the answer.\n");
        return;
    }
    api_send_model(req, resp, req_seg(req, 8), o);
}

/* ---- reading a credential from a request ---- */

/* A copy of a JSON string member, or NULL when absent; -EINVAL when it is not a string. */
static int
json_text(json_t *o, const char *key, char **ret)
{
    json_t *v = json_object_get(o, key);

    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -EINVAL;
    *ret = strndup(json_string_value(v), json_string_length(v));
    return *ret ? 0 : -ENOMEM;
}

/* A secret member: its bytes (base64-decoded with `base64`); NULL when absent. */
static int
json_secret(json_t *o, const char *key, bool base64, unsigned char **ret, size_t *ret_len)
{
    json_t *v = json_object_get(o, key);
    char *out = NULL;
    size_t len = 0;
    int r;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -EINVAL;
    if (base64) {
        r = base64_decode(json_string_value(v), &out, &len);
        if (r < 0)
            return r;
    } else {
        len = json_string_length(v);
        out = malloc(len + 1);
        if (!out)
            return -ENOMEM;
        memcpy(out, json_string_value(v), len);
        out[len] = '\0';
    }
    *ret = (unsigned char *) out;
    *ret_len = len;
    return 0;
}

/*
 * The form post: json={"credentials":{"$class":"...", ...}}, the fields
 * named as in the XML (a file's secretBytes in base64, an SSH key under
 * privateKeySource.privateKey or privateKey). 0, or -EINVAL with *why.
 */
static int
fields_from_form(const char *text, struct cred_fields *f, const char **why)
{
    _cleanup_(json_decrefp) json_t *root = NULL;
    json_t *c, *cls, *src;
    json_error_t err;
    int r = 0;

    root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        *why = rfmt("The field json is not JSON: %s (line %d).", err.text, err.line);
        return -EINVAL;
    }
    c = json_object_get(root, "credentials");
    if (!json_is_object(c)) {
        *why = "The field json holds no object \"credentials\".";
        return -EINVAL;
    }
    cls = json_object_get(c, "$class");
    if (!cls)
        cls = json_object_get(c, "stapler-class");
    if (!json_is_string(cls) || cred_kind_parse(json_string_value(cls), &f->kind) < 0 ||
        !strchr(json_string_value(cls), '.')) {
        *why = "\"credentials\" needs \"$class\": one of the four kinds Steward keeps "
               "(UsernamePasswordCredentialsImpl, BasicSSHUserPrivateKey, StringCredentialsImpl, "
               "FileCredentialsImpl, with their packages).";
        return -EINVAL;
    }
    if (r >= 0)
        r = json_text(c, "id", &f->id);
    if (r >= 0)
        r = json_text(c, "scope", &f->scope);
    if (r >= 0)
        r = json_text(c, "description", &f->description);
    if (r >= 0 && (f->kind == CRED_USERNAME_PASSWORD || f->kind == CRED_SSH_KEY))
        r = json_text(c, "username", &f->username);
    if (r >= 0 && f->kind == CRED_FILE)
        r = json_text(c, "fileName", &f->file_name);
    f->username_secret = json_is_true(json_object_get(c, "usernameSecret"));
    switch (f->kind) {
    case CRED_USERNAME_PASSWORD:
        if (r >= 0)
            r = json_secret(c, "password", false, &f->secret, &f->secret_len);
        break;
    case CRED_SSH_KEY:
        src = json_object_get(c, "privateKeySource");
        if (r >= 0)
            r = json_secret(json_is_object(src) ? src : c, "privateKey", false, &f->secret,
                            &f->secret_len);
        if (r >= 0)
            r = json_secret(c, "passphrase", false, &f->passphrase, &f->passphrase_len);
        break;
    case CRED_SECRET_TEXT:
        if (r >= 0)
            r = json_secret(c, "secret", false, &f->secret, &f->secret_len);
        break;
    case CRED_FILE:
        if (r >= 0)
            r = json_secret(c, "secretBytes", true, &f->secret, &f->secret_len);
        break;
    default:
        break;
    }
    if (r == -EINVAL)
        *why = "A field of \"credentials\" is not a string (or secretBytes is not base64).";
    return r;
}

static bool
is_xml_type(const char *ct)
{
    return strncasecmp(ct, "application/xml", 15) == 0 || strncasecmp(ct, "text/xml", 8) == 0;
}

/* ---- handlers ---- */

static void
create_credentials(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    _cleanup_(cred_fields_release) struct cred_fields f = {};
    const char *ct = req_header(req, "Content-Type"), *why = NULL, *json;
    _cleanup_free_ char *msg = NULL;
    bool form;
    int r;

    (void) unused;
    if (!ct || !*ct) {
        refuse(app, req, resp,
               &(struct refusal){ .status = 400, .error = "No Content-Type header set",
                                  .fix = "Send the credential's XML with Content-Type: "
                                         "application/xml, or a form (application/x-www-form-"
                                         "urlencoded) with the field json={\"credentials\":{...}}." });
        return;
    }
    form = !is_xml_type(ct);
    if (!form) {
        r = cred_xml_parse(req->body.ptr ? req->body.ptr : "", req->body.len, &f, &msg);
        why = msg;
    } else if (!(json = req_param(req, "json"))) {
        refuse(app, req, resp,
               &(struct refusal){ .status = 400, .error = "No credential in the request",
                                  .presented = rfmt("The request's Content-Type is %s, and it has "
                                                    "no form field json.", ct),
                                  .fix = "Send the credential's XML with Content-Type: "
                                         "application/xml, or the form field "
                                         "json={\"credentials\":{...}} (application/x-www-form-"
                                         "urlencoded)." });
        return;
    } else
        r = fields_from_form(json, &f, &why);
    if (r >= 0)
        r = cred_add(app->home, req->db, &f, &why);
    if (r >= 0)
        app_audit(req, "credential-add", NULL, "credential '%s' (%s)", f.id,
                  cred_kind_name(f.kind));
    if (form && accepts_json(req) && (r >= 0 || r == -EEXIST)) {
        send_notification(req, resp, r >= 0 ? "Credentials created"
                                            : "Credentials with specified ID already exist",
                          r >= 0 ? "SUCCESS" : "ERROR");
        return;
    }
    done(app, req, resp, r, f.id ? f.id : "", why, form);
}

static void
config_get(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    const char *id = req_seg(req, SEG_ID);
    struct cred_info c = {};
    struct buf out = BUF_INIT(64 * 1024);
    int r;

    (void) unused;
    r = cred_get_info(req->db, id, &c);
    if (r < 0) {
        refuse_cred(app, req, resp, r, id, NULL);
        return;
    }
    r = cred_xml_write_redacted(&c, &out);
    cred_info_release(&c);
    if (r < 0)
        api_send_text(resp, 500, "Could not write the credential's XML.\n");
    else
        resp_set(resp, 200, "application/xml", out.ptr, out.len);
    buf_release(&out);
}

static void
config_post(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    _cleanup_(cred_fields_release) struct cred_fields f = {};
    _cleanup_free_ char *msg = NULL;
    const char *id = req_seg(req, SEG_ID), *why = NULL;
    int r;

    (void) unused;
    r = cred_xml_parse(req->body.ptr ? req->body.ptr : "", req->body.len, &f, &msg);
    why = msg;
    if (r >= 0 && f.id && *f.id && !streq(f.id, id)) {
        why = rfmt("The XML's id is '%.128s', and the URL's is '%s': Steward does not change a "
                   "credential's id (remove it and add it under the new id).", f.id, id);
        r = -EINVAL;
    }
    if (r >= 0) {
        free(f.id);
        f.id = strdup(id);
        r = f.id ? cred_update(app->home, req->db, &f, &why) : -ENOMEM;
    }
    if (r < 0) {
        refuse_cred(app, req, resp, r, id, why);
        return;
    }
    app_audit(req, "credential-update", NULL, "credential '%s' (%s)%s", id,
              cred_kind_name(f.kind), f.secret ? ", with a new secret" : "");
    api_send_text(resp, 200, "");
}

static void
remove_credential(const struct app *app, struct req *req, struct resp *resp, bool form)
{
    const char *id = req_seg(req, SEG_ID);
    int r = cred_remove(req->db, id);

    if (r >= 0)
        app_audit(req, "credential-remove", NULL, "credential '%s'", id);
    if (form && accepts_json(req) && r != -ENOENT) {
        send_notification(req, resp, r >= 0 ? "Credentials deleted" : "Failed to delete credentials",
                          r >= 0 ? "SUCCESS" : "ERROR");
        return;
    }
    done(app, req, resp, r, id, NULL, form);
}

/* config.xml with DELETE (Credentials/Delete); any other method but GET and POST is 400. */
static void
config_other(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    if (!streq(req->method, "DELETE")) {
        refuse(app, req, resp,
               &(struct refusal){ .status = 400, .error = "Bad method for a credential's config.xml",
                                  .presented = rfmt("The request used %s.", req->method),
                                  .fix = "GET reads it, POST replaces it, DELETE removes it." });
        return;
    }
    if (!app_may(req, PERM_CREDENTIALS_DELETE, NULL)) {
        refuse_permission(app, req, resp, PERM_CREDENTIALS_DELETE, NULL);
        return;
    }
    /* a DELETE from a web session is as much a change as a POST */
    req->is_post = true;
    if (!crumb_check(app, req, resp))
        return;
    remove_credential(app, req, resp, false);
}

static void
do_delete(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    remove_credential(app, req, resp, true);
}

/* The plugin's pages of the store and its domain: for people, the credentials page. */
static void
to_page(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    _cleanup_free_ char *root = app_root_url(app, req);

    (void) unused;
    api_redirect(resp, 302, rfmt("%smanage/credentials", root ? root : "/"));
}

#define GET ROUTE_GET
#define POST ROUTE_POST
#define ANY ROUTE_ANY
#define NEEDS ROUTE_NEEDS

/* Consulted after the pages' table and the API's (daemon/main.c). */
static const struct route routes[] = {
    { "credentials", GET, NEEDS(CREDENTIALS_VIEW), to_page },
    { "credentials/store/system", GET, NEEDS(CREDENTIALS_VIEW), to_page },
    { "credentials/store/system/domain/_", GET, NEEDS(CREDENTIALS_VIEW), to_page },
    { DOMAIN_PATH "api/{api}", ANY, NEEDS(CREDENTIALS_VIEW), domain_api },
    { DOMAIN_PATH "createCredentials", POST, NEEDS(CREDENTIALS_CREATE), create_credentials },
    { DOMAIN_PATH "credential/*/api/{api}", ANY, NEEDS(CREDENTIALS_VIEW), credential_api },
    { DOMAIN_PATH "credential/*/config.xml", GET, NEEDS(CREDENTIALS_VIEW), config_get },
    { DOMAIN_PATH "credential/*/config.xml", POST, NEEDS(CREDENTIALS_UPDATE), config_post },
    /* DELETE: config_other() checks Credentials/Delete and the crumb */
    { DOMAIN_PATH "credential/*/config.xml", ANY, NEEDS(CREDENTIALS_VIEW), config_other },
    { DOMAIN_PATH "credential/*/doDelete", POST, NEEDS(CREDENTIALS_DELETE), do_delete },
};

const struct route_table credentials_routes = { routes, ELEMENTSOF(routes) };
