/* SPDX-License-Identifier: MIT */
/*
 * /manage/credentials: the credentials store's ids, kinds and descriptions
 * for whoever holds Credentials/View (never a secret), and adding and
 * removing them for whoever holds Credentials/Create and /Delete.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/credentials.h"
#include "util/bounds.h"
#include "util/strutil.h"
#include "web/page.h"

#define SELF "manage/credentials"

static const struct web_message messages[] = {
    { "added", "The credential was added." },
    { "removed", "The credential was removed." },
};

static void
row(struct buf *b, struct web *w, const struct cred_info *c, bool may_delete)
{
    html_raw(b, "<tr><td class=\"nowrap\"><code>");
    html_text(b, c->id);
    html_raw(b, "</code></td><td class=\"nowrap\">");
    html_text(b, cred_kind_type_name(c->kind));
    html_raw(b, "</td><td class=\"opt\">");
    html_text(b, c->scope);
    html_raw(b, "</td><td>");
    if (c->username)
        html_text(b, c->username_secret ? "****" : c->username);
    else if (c->file_name)
        html_text(b, c->file_name);
    html_raw(b, "</td><td>");
    html_text(b, c->description);
    html_raw(b, "</td><td class=\"nowrap\">");
    if (may_delete) {
        web_form_open(b, w, true, SELF, "remove",
                      rfmt("Remove the credential %s? Jobs that use it will fail.", c->id));
        html_raw(b, "<input type=\"hidden\" name=\"id\" value=\"");
        html_attr(b, c->id);
        html_raw(b, "\"><button class=\"btn small\" type=\"submit\" aria-label=\"Remove ");
        html_attr(b, c->id);
        html_raw(b, "\">Remove</button></form>");
    }
    html_raw(b, "</td></tr>");
}

static void
add_form(struct buf *b, struct web *w)
{
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-add\"><h2 id=\"h-add\">Add a "
                "credential</h2>");
    web_form_open(b, w, false, SELF, "add", NULL);
    html_raw(b, "<label for=\"c-kind\">Kind</label><select id=\"c-kind\" name=\"kind\">");
    for (enum cred_kind k = 0; k < _CRED_KIND_MAX; k++) {
        html_raw(b, "<option value=\"");
        html_attr(b, cred_kind_name(k));
        html_raw(b, "\">");
        html_text(b, cred_kind_type_name(k));
        html_raw(b, "</option>");
    }
    html_raw(b, "</select><label for=\"c-id\">ID</label><input type=\"text\" id=\"c-id\" "
                "name=\"id\" autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" "
                "pattern=\"[A-Za-z0-9_.\\-]*\"");
    buf_printf(b, " maxlength=\"%d\"", BOUND_CREDENTIAL_ID_BYTES);
    html_raw(b, "><p class=\"hint\">Letters, digits, '_', '.' and '-'; left empty, a random "
                "UUID. Jobs name the credential by it.</p><label for=\"c-desc\">Description"
                "</label><input type=\"text\" id=\"c-desc\" name=\"description\"");
    buf_printf(b, " maxlength=\"%d\"", BOUND_CREDENTIAL_DESCRIPTION_BYTES);
    html_raw(b, "><label for=\"c-user\">Username <span class=\"muted\">(username with password, "
                "SSH key)</span></label><input type=\"text\" id=\"c-user\" name=\"username\" "
                "autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\"");
    buf_printf(b, " maxlength=\"%d\"", BOUND_CREDENTIAL_USERNAME_BYTES);
    html_raw(b, "><label for=\"c-file\">File name <span class=\"muted\">(secret file)</span>"
                "</label><input type=\"text\" id=\"c-file\" name=\"fileName\" "
                "autocomplete=\"off\" spellcheck=\"false\"");
    buf_printf(b, " maxlength=\"%d\"", BOUND_CREDENTIAL_FILE_NAME_BYTES);
    html_raw(b, "><label for=\"c-secret\">Secret</label><textarea id=\"c-secret\" "
                "name=\"secret\" rows=\"5\" autocomplete=\"off\" spellcheck=\"false\" required>"
                "</textarea><p class=\"hint\">The password, the secret text, the private key "
                "(PEM or OpenSSH) or the file's text. It is encrypted when stored and never "
                "shown again. For a binary file use <code>steward credentials add --kind file "
                "--secret-file PATH</code>.</p><label for=\"c-pass\">Passphrase <span "
                "class=\"muted\">(SSH key, if it has one)</span></label><input "
                "type=\"password\" id=\"c-pass\" name=\"passphrase\" "
                "autocomplete=\"new-password\"><label for=\"c-scope\">Scope</label><select "
                "id=\"c-scope\" name=\"scope\"><option value=\"GLOBAL\">Global (jobs may use "
                "it)</option><option value=\"SYSTEM\">System (Steward itself only)</option>"
                "</select><p class=\"actions\"><button class=\"btn primary\" type=\"submit\">"
                "Add credential</button></p></form></section>");
}

static void
page(struct web *w, const char *error_lent, int status)
{
    /* a message from rfmt() would not outlive the frame's own uses of it */
    _cleanup_free_ char *error = error_lent ? strdup(error_lent) : NULL;
    struct buf *b = web_begin(w, "Credentials", "credentials");
    bool may_create = web_may(w, PERM_CREDENTIALS_CREATE, NULL);
    bool may_delete = web_may(w, PERM_CREDENTIALS_DELETE, NULL);
    struct cred_info *v = NULL;
    size_t n = 0;

    html_raw(b, "<h1>Credentials</h1>");
    web_notices(b, w, messages, ELEMENTSOF(messages), error);
    html_raw(b, "<div class=\"grid\"><section class=\"card\" aria-labelledby=\"h-list\"><h2 "
                "id=\"h-list\">Global credentials</h2>");
    if (cred_list(w->req->db, &v, &n) < 0)
        web_notices(b, NULL, NULL, 0, "The credentials could not be read from the database.");
    if (n == 0)
        html_raw(b, "<p class=\"muted\">There are no credentials yet.</p>");
    else {
        html_raw(b, "<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">ID</th><th "
                    "scope=\"col\">Kind</th><th scope=\"col\" class=\"opt\">Scope</th><th "
                    "scope=\"col\">Username or file</th><th scope=\"col\">Description</th><th "
                    "scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr>"
                    "</thead><tbody>");
        for (size_t i = 0; i < n; i++)
            row(b, w, &v[i], may_delete);
        html_raw(b, "</tbody></table></div>");
    }
    cred_infos_free(v, n);
    html_raw(b, "<p class=\"hint\">Secrets are never shown. The same store answers the "
                "credentials plugin's URLs under <code>credentials/store/system/domain/_/</code>"
                " and the offline command <code>steward credentials</code>.</p></section>");
    if (may_create)
        add_form(b, w);
    html_raw(b, "</div>");
    web_end(w, status);
}

/* A copy of form field `name`, NULL when it is absent or empty. */
static int
field(struct web *w, const char *name, char **ret)
{
    const char *v = req_param(w->req, name);

    *ret = NULL;
    if (!v || !*v)
        return 0;
    *ret = strdup(v);
    return *ret ? 0 : -ENOMEM;
}

/* A textarea's text: CR LF (as browsers send it) as LF. */
static unsigned char *
secret_field(struct web *w, const char *name, bool one_line, size_t *ret_len)
{
    const char *v = req_param(w->req, name);
    size_t len, k = 0;
    char *s;

    if (!v)
        return NULL;
    len = strlen(v);
    s = malloc(len + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (!(v[i] == '\r' && v[i + 1] == '\n'))
            s[k++] = v[i];
    if (one_line && k && s[k - 1] == '\n')
        k--;
    s[k] = '\0';
    *ret_len = k;
    return (unsigned char *) s;
}

static void
add(struct web *w)
{
    _cleanup_(cred_fields_release) struct cred_fields f = {};
    const char *kind = req_param(w->req, "kind"), *why = NULL;
    int r;

    if (!web_may(w, PERM_CREDENTIALS_CREATE, NULL)) {
        web_error(w, 403, "Credentials/Create is missing",
                  rfmt("User '%s' may list credentials, not add them.", w->req->id.name),
                  "Ask an administrator to add it, or to grant you Credentials/Create.", SELF,
                  "Back to the credentials");
        return;
    }
    if (!kind || cred_kind_parse(kind, &f.kind) < 0) {
        page(w, "Choose a kind of credential.", 400);
        return;
    }
    r = field(w, "id", &f.id);
    if (r >= 0)
        r = field(w, "description", &f.description);
    if (r >= 0 && (f.kind == CRED_USERNAME_PASSWORD || f.kind == CRED_SSH_KEY))
        r = field(w, "username", &f.username);
    if (r >= 0 && f.kind == CRED_FILE)
        r = field(w, "fileName", &f.file_name);
    if (r >= 0)
        r = field(w, "scope", &f.scope);
    f.secret = secret_field(w, "secret",
                            f.kind == CRED_USERNAME_PASSWORD || f.kind == CRED_SECRET_TEXT,
                            &f.secret_len);
    if (f.kind == CRED_SSH_KEY && req_param(w->req, "passphrase"))
        f.passphrase = secret_field(w, "passphrase", true, &f.passphrase_len);
    if (r >= 0)
        r = cred_add(w->app->home, w->req->db, &f, &why);
    if (r == -EINVAL || r == -ENOSPC) {
        page(w, why, 400);
        return;
    }
    if (r < 0) {
        page(w, r == -EEXIST ? rfmt("A credential with the id '%s' exists already: choose "
                                    "another id, or remove that one first.", f.id)
                             : cred_strerror(r),
             r == -EEXIST ? 409 : 500);
        return;
    }
    app_audit(w->req, "credential-add", NULL, "credential '%s' (%s)", f.id,
              cred_kind_name(f.kind));
    web_redirect(w, SELF "?msg=added");
}

static void
remove_one(struct web *w)
{
    const char *id = req_param(w->req, "id");
    int r;

    if (!web_may(w, PERM_CREDENTIALS_DELETE, NULL)) {
        web_error(w, 403, "Credentials/Delete is missing",
                  rfmt("User '%s' may list credentials, not remove them.", w->req->id.name),
                  "Ask an administrator.", SELF, "Back to the credentials");
        return;
    }
    r = id ? cred_remove(w->req->db, id) : -ENOENT;
    if (r < 0) {
        page(w, r == -ENOENT ? "There is no such credential (removed meanwhile?)."
                             : cred_strerror(r),
             r == -ENOENT ? 404 : 500);
        return;
    }
    app_audit(w->req, "credential-remove", NULL, "credential '%s'", id);
    web_redirect(w, SELF "?msg=removed");
}

void
web_credentials_page(struct web *w)
{
    const char *action;

    if (!w->req->is_post) {
        page(w, NULL, 200);
        return;
    }
    if (!web_check_post(w))
        return;
    action = req_param(w->req, "action");
    if (action && streq(action, "add"))
        add(w);
    else if (action && streq(action, "remove"))
        remove_one(w);
    else
        page(w, "The form asked for nothing Steward knows.", 400);
}
