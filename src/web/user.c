/* SPDX-License-Identifier: MIT */
/*
 * A user's page (/me/configure, /user/NAME/configure): API tokens with
 * their use, a new token shown once, revoking, and the password. And the
 * administrators' users page (/manage/users).
 *
 * The value of a new token (or of a reset password) appears only in the
 * answer to the POST that made it; the page is never cached, and only
 * the token's hash is stored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobs.h"
#include "util/bounds.h"
#include "util/strutil.h"
#include "web/page.h"

/* What a finished POST says on the page it redirects to (?msg=). */
static const struct {
    const char *code, *text;
} messages[] = {
    { "revoked", "The token is revoked: requests that send it now get 401." },
    { "password", "The password is changed." },
    { "added", "The user is added." },
};

static void
message(struct buf *b, struct web *w)
{
    const char *m = req_param(w->req, "msg");

    for (size_t i = 0; m && i < ELEMENTSOF(messages); i++)
        if (streq(m, messages[i].code)) {
            html_raw(b, "<p class=\"notice good\" role=\"status\">");
            html_text(b, messages[i].text);
            html_raw(b, "</p>");
        }
}

static void
problem(struct buf *b, const char *error)
{
    if (!error)
        return;
    html_raw(b, "<p class=\"notice bad\" role=\"alert\">");
    html_text(b, error);
    html_raw(b, "</p>");
}

/* The page's own address below the root. */
static const char *
self_path(const struct user_row *u, bool me)
{
    struct buf b = BUF_INIT(BOUND_USER_NAME_BYTES * 3 + 1);
    const char *s;

    if (me)
        return "me/configure";
    (void) url_encode(&b, u->name);
    s = rfmt("user/%s/configure", buf_str(&b));
    buf_release(&b);
    return s;
}

static void
form_open(struct buf *b, struct web *w, const char *action_path, const char *action,
          const char *confirm)
{
    html_raw(b, "<form method=\"post\" action=\"");
    html_attr(b, w->base);
    html_attr(b, action_path);
    html_raw(b, "\"");
    if (confirm) {
        html_raw(b, " data-confirm=\"");
        html_attr(b, confirm);
        html_raw(b, "\"");
    }
    html_raw(b, ">");
    web_crumb_field(b, w);
    html_raw(b, "<input type=\"hidden\" name=\"action\" value=\"");
    html_attr(b, action);
    html_raw(b, "\">");
}

static void
tokens_card(struct buf *b, struct web *w, const struct user_row *u, const char *path)
{
    struct token_row *rows = NULL;
    size_t n = 0;

    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-tokens\"><h2 id=\"h-tokens\">API "
                "tokens</h2><p>An API token is the password of <code>");
    html_text(b, u->name);
    html_raw(b, "</code> for scripts and clients: send it with HTTP Basic auth, "
                "<code>curl -u ");
    html_text(b, u->name);
    html_raw(b, ":APITOKEN</code>. The request then acts as this user. It is not a job&rsquo;s "
                "trigger token, which goes in the URL as <code>token=</code>.</p>");
    if (store_token_list(w->req->db, u->id, &rows, &n) < 0 || n == 0)
        html_raw(b, "<p class=\"empty\">No API tokens.</p>");
    else {
        html_raw(b, "<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">Name</th>"
                    "<th scope=\"col\">Created</th><th scope=\"col\">Last used</th><th "
                    "scope=\"col\">Uses</th><th scope=\"col\"><span class=\"visually-hidden\">"
                    "Actions</span></th></tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
            html_raw(b, "<tr><td class=\"key\">");
            html_text(b, rows[i].name);
            html_raw(b, "</td><td class=\"nowrap\">");
            web_time_ago(b, w->now, rows[i].created_ms);
            html_raw(b, "</td><td class=\"nowrap\">");
            web_time_ago(b, w->now, rows[i].last_use_ms);
            html_raw(b, "</td><td class=\"num\">");
            html_int(b, rows[i].use_count);
            html_raw(b, "</td><td>");
            form_open(b, w, path, "revoke",
                      rfmt("Revoke the token \"%s\"? Scripts that use it will get 401.",
                           rows[i].name));
            html_raw(b, "<input type=\"hidden\" name=\"uuid\" value=\"");
            html_attr(b, rows[i].uuid);
            html_raw(b, "\"><button class=\"btn small danger\" type=\"submit\" aria-label=\""
                        "Revoke token ");
            html_attr(b, rows[i].name);
            html_raw(b, "\">Revoke</button></form></td></tr>");
        }
        html_raw(b, "</tbody></table></div><p class=\"hint\">Use counts are written about once "
                    "a second.</p>");
    }
    token_rows_free(rows, n);
    form_open(b, w, path, "generate", NULL);
    html_raw(b, "<label for=\"token-name\">Add new token: its name</label><div class=\"secret\">"
                "<input type=\"text\" id=\"token-name\" name=\"name\" maxlength=\"100\" "
                "placeholder=\"e.g. ci-server\" required><button class=\"btn primary\" "
                "type=\"submit\" id=\"generate\">Generate</button></div><p class=\"hint\">Name it "
                "after where it will be used, so you know what breaks when you revoke it.</p>"
                "</form></section>");
}

static void
password_card(struct buf *b, struct web *w, const struct user_row *u, const char *path, bool me)
{
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-pw\"><h2 id=\"h-pw\">");
    html_raw(b, me ? "Change your password" : "Set a new password");
    html_raw(b, "</h2>");
    form_open(b, w, path, "password", NULL);
    /* a hidden user name field helps password managers */
    html_raw(b, "<input type=\"text\" name=\"username\" autocomplete=\"username\" hidden "
                "value=\"");
    html_attr(b, u->name);
    html_raw(b, "\">");
    if (me)
        html_raw(b, "<label for=\"pw-old\">Current password</label><input type=\"password\" "
                    "id=\"pw-old\" name=\"current\" autocomplete=\"current-password\" required>");
    html_raw(b, "<label for=\"pw-new\">New password</label><input type=\"password\" id=\"pw-new\" "
                "name=\"password\" autocomplete=\"new-password\" minlength=\"8\" required>"
                "<label for=\"pw-again\">New password, again</label><input type=\"password\" "
                "id=\"pw-again\" name=\"again\" autocomplete=\"new-password\" minlength=\"8\" "
                "required><p class=\"hint\">At least 8 characters. API tokens keep working.</p>"
                "<p class=\"actions\"><button class=\"btn\" type=\"submit\">Change password"
                "</button></p></form></section>");
}

/* Shows the page; `fresh` is a new token's value, shown this once. */
static void
user_page(struct web *w, const struct user_row *u, bool me, const char *fresh,
          const char *fresh_name, const char *error, int status)
{
    const char *path = self_path(u, me);
    char path_copy[BOUND_USER_NAME_BYTES * 3 + 32];
    struct buf *b;

    snprintf(path_copy, sizeof path_copy, "%s", path);
    b = web_begin(w, me ? "Your API tokens and password" : rfmt("User %s", u->name),
                  me ? "me" : NULL);
    html_raw(b, "<h1>");
    if (me)
        html_raw(b, "Your API tokens and password");
    else {
        html_raw(b, "User ");
        html_text(b, u->name);
    }
    if (u->is_admin)
        html_raw(b, " <span class=\"st st-none\">administrator</span>");
    html_raw(b, "</h1>");
    if (!me)
        html_raw(b, "<p class=\"notice warn\">You are managing another user&rsquo;s tokens and "
                    "password as an administrator.</p>");
    message(b, w);
    problem(b, error);
    if (fresh) {
        _cleanup_free_ char *root = strdup(w->root);
        html_raw(b, "<section class=\"once\" aria-labelledby=\"h-once\" id=\"new-token\"><h2 "
                    "id=\"h-once\">New API token &ldquo;");
        html_text(b, fresh_name);
        html_raw(b, "&rdquo;</h2><p><strong>Copy it now: it will not be shown again.</strong> "
                    "Steward keeps only a hash of it; if you lose it, revoke it and make another."
                    "</p><div class=\"secret\"><code id=\"token-value\">");
        html_text(b, fresh);
        html_raw(b, "</code><button class=\"btn primary\" type=\"button\" data-copy=\"token-value\" "
                    "id=\"copy-token\">Copy</button></div><p class=\"hint\">Try it: <code>curl -u ");
        html_text(b, u->name);
        html_raw(b, ":");
        html_text(b, fresh);
        html_raw(b, " ");
        html_text(b, root ? root : "");
        html_raw(b, "whoAmI/api/json</code></p></section>");
    }
    tokens_card(b, w, u, path_copy);
    password_card(b, w, u, path_copy, me);
    web_end(w, status);
}

/* Loads the page's user; answers and returns false when it cannot be shown. */
static bool
load_user(struct web *w, const char *name, struct user_row *u)
{
    if (!web_gate_write(w))
        return false;
    if (name && !streq(name, w->req->id.name) && !w->req->id.is_admin) {
        web_error(w, 403, "Not your user",
                  rfmt("User '%s' may not manage the tokens or password of user '%s'.",
                       w->req->id.name, name),
                  "Manage your own on your page.", "me/configure", "Your page");
        return false;
    }
    if (store_user_get(w->req->db, name ? name : w->req->id.name, u) < 0) {
        web_not_found(w, rfmt("User '%s'", name ? name : w->req->id.name));
        return false;
    }
    return true;
}

static void
generate(struct web *w, const struct user_row *u, bool me)
{
    _cleanup_free_ char *name = strdup(req_param(w->req, "name") ? req_param(w->req, "name") : "");
    char value[API_TOKEN_LEN + 1], uuid[37];
    int r;

    if (!name)
        return;
    if (!*name || strlen(name) > BOUND_TOKEN_NAME_BYTES || !utf8_is_valid(name, strlen(name))) {
        user_page(w, u, me, NULL, NULL, "A token needs a name of 1 to 100 bytes.", 400);
        return;
    }
    r = auth_token_new(w->req->db, u->id, name, value, uuid);
    if (r == -EEXIST) {
        user_page(w, u, me, NULL, NULL,
                  rfmt("There is already a token named '%s'. Choose another name.", name), 409);
        return;
    }
    if (r < 0) {
        user_page(w, u, me, NULL, NULL, "The token could not be stored.", 500);
        return;
    }
    user_page(w, u, me, value, name, NULL, 200);
    secret_wipe(value, sizeof value);
}

static void
change_password(struct web *w, const struct user_row *u, bool me)
{
    const char *cur = req_param(w->req, "current"), *pw = req_param(w->req, "password");
    const char *again = req_param(w->req, "again");
    _cleanup_free_ char *hash = NULL;

    if (me && (!cur || !secret_verify_password(u->password_hash, cur))) {
        user_page(w, u, me, NULL, NULL, "The current password is wrong; nothing was changed.",
                  403);
        return;
    }
    if (!pw || strlen(pw) < 8 || strlen(pw) > BOUND_PASSWORD_BYTES) {
        user_page(w, u, me, NULL, NULL, "A password is 8 to 1024 bytes; nothing was changed.",
                  400);
        return;
    }
    if (!again || !streq(pw, again)) {
        user_page(w, u, me, NULL, NULL, "The two new passwords differ; nothing was changed.",
                  400);
        return;
    }
    if (secret_hash_password(pw, &hash) < 0 || store_user_set_password(w->req->db, u->id, hash) < 0) {
        user_page(w, u, me, NULL, NULL, "The password could not be stored.", 500);
        return;
    }
    web_redirect(w, rfmt("%s?msg=password", self_path(u, me)));
}

void
web_user_page(struct web *w, const char *name)
{
    struct user_row u = {};
    bool me = name == NULL;
    const char *action;

    if (!load_user(w, name, &u))
        return;
    if (!w->req->is_post) {
        user_page(w, &u, me, NULL, NULL, NULL, 200);
        goto out;
    }
    if (!web_check_post(w))
        goto out;
    action = req_param(w->req, "action");
    if (action && streq(action, "generate"))
        generate(w, &u, me);
    else if (action && streq(action, "revoke")) {
        const char *uuid = req_param(w->req, "uuid");
        if (!uuid || store_token_delete(w->req->db, u.id, uuid, NULL) < 0)
            user_page(w, &u, me, NULL, NULL, "There is no such token (already revoked?).", 404);
        else
            web_redirect(w, rfmt("%s?msg=revoked", self_path(&u, me)));
    } else if (action && streq(action, "password"))
        change_password(w, &u, me);
    else
        user_page(w, &u, me, NULL, NULL, "The form asked for nothing Steward knows.", 400);
out:
    user_row_release(&u);
}

/* ---- /manage/users ---- */

/*
 * NEEDSWORK: the store has no user listing. Ids come from AUTOINCREMENT
 * and users are never deleted yet, so 1..count finds them all; the scan
 * stops after a run of missing ids. Replace with store_user_list().
 */
static int
list_users(struct store *db, struct user_row **ret, size_t *ret_n)
{
    int64_t count = 0, id, misses = 0;
    struct user_row *v = NULL;
    size_t n = 0;

    if (store_user_count(db, &count) < 0)
        return -EIO;
    for (id = 1; (int64_t) n < count && misses < 1000; id++) {
        struct user_row u = {}, *nv;
        if (store_user_get_by_id(db, id, &u) < 0) {
            misses++;
            continue;
        }
        misses = 0;
        nv = realloc(v, (n + 1) * sizeof *v);
        if (!nv) {
            user_row_release(&u);
            break;
        }
        v = nv;
        v[n++] = u;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

static void
users_page(struct web *w, const char *error, const char *reset_user, const char *reset_pw,
           int status)
{
    struct buf *b = web_begin(w, "Users", "users");
    struct user_row *users = NULL;
    size_t n = 0;

    html_raw(b, "<h1>Users</h1>");
    message(b, w);
    problem(b, error);
    if (reset_pw) {
        html_raw(b, "<section class=\"once\" aria-labelledby=\"h-reset\"><h2 id=\"h-reset\">New "
                    "password for ");
        html_text(b, reset_user);
        html_raw(b, "</h2><p><strong>Give it to them now: it will not be shown again.</strong> "
                    "Their old password no longer works; their API tokens still do.</p><div "
                    "class=\"secret\"><code id=\"reset-value\">");
        html_text(b, reset_pw);
        html_raw(b, "</code><button class=\"btn primary\" type=\"button\" data-copy=\"reset-value\">"
                    "Copy</button></div></section>");
    }
    html_raw(b, "<div class=\"grid\"><section class=\"card\" aria-labelledby=\"h-users\"><h2 "
                "id=\"h-users\">Everyone</h2>");
    (void) list_users(w->req->db, &users, &n);
    html_raw(b, "<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">User</th><th "
                "scope=\"col\">Role</th><th scope=\"col\" class=\"opt\">Since</th><th "
                "scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr></thead>"
                "<tbody>");
    for (size_t i = 0; i < n; i++) {
        html_raw(b, "<tr><td><a class=\"key\" href=\"");
        html_attr(b, w->base);
        html_raw(b, "user/");
        html_url_arg(b, users[i].name);
        html_raw(b, "/configure\">");
        html_text(b, users[i].name);
        html_raw(b, "</a></td><td>");
        html_raw(b, users[i].is_admin ? "administrator" : "user");
        html_raw(b, "</td><td class=\"opt\">");
        web_time_ago(b, w->now, users[i].created_ms);
        html_raw(b, "</td><td class=\"nowrap\">");
        form_open(b, w, "manage/users", "reset",
                  rfmt("Reset the password of %s? Their current password stops working.",
                       users[i].name));
        html_raw(b, "<input type=\"hidden\" name=\"user\" value=\"");
        html_attr(b, users[i].name);
        html_raw(b, "\"><button class=\"btn small\" type=\"submit\" aria-label=\"Reset the "
                    "password of ");
        html_attr(b, users[i].name);
        html_raw(b, "\">Reset password</button></form></td></tr>");
        user_row_release(&users[i]);
    }
    free(users);
    html_raw(b, "</tbody></table></div><p class=\"hint\">Open a user to see or revoke their API "
                "tokens. Removing users and changing the administrator flag are not available "
                "yet; the offline command <code>steward user</code> adds and changes users.</p>"
                "</section><section class=\"card\" aria-labelledby=\"h-add\"><h2 id=\"h-add\">Add "
                "a user</h2>");
    form_open(b, w, "manage/users", "add", NULL);
    html_raw(b, "<label for=\"nu-name\">User name</label><input type=\"text\" id=\"nu-name\" "
                "name=\"name\" maxlength=\"64\" autocomplete=\"off\" autocapitalize=\"none\" "
                "spellcheck=\"false\" required><label for=\"nu-pw\">Password</label><input "
                "type=\"password\" id=\"nu-pw\" name=\"password\" autocomplete=\"new-password\" "
                "minlength=\"8\" required>");
    html_raw(b, "<label class=\"check\"><input type=\"checkbox\" name=\"admin\" value=\"1\"> "
                "Administrator (manages users)</label><p class=\"actions\"><button class=\"btn "
                "primary\" type=\"submit\">Add user</button></p></form></section></div>");
    web_end(w, status);
}

static bool
user_name_ok(const char *name)
{
    const char *why;

    if (!*name || strlen(name) > BOUND_USER_NAME_BYTES || job_name_check(name, &why) < 0)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

void
web_users_page(struct web *w)
{
    const char *action, *name, *pw;
    _cleanup_free_ char *hash = NULL;
    int r;

    if (!web_gate_admin(w))
        return;
    if (!w->req->is_post) {
        users_page(w, NULL, NULL, NULL, 200);
        return;
    }
    if (!web_check_post(w))
        return;
    action = req_param(w->req, "action");
    name = req_param(w->req, "name");
    pw = req_param(w->req, "password");
    if (action && streq(action, "add")) {
        if (!name || !user_name_ok(name)) {
            users_page(w, "A user name is 1 to 64 letters, digits, '-', '_' or '.'.", NULL, NULL,
                       400);
            return;
        }
        if (!pw || strlen(pw) < 8 || strlen(pw) > BOUND_PASSWORD_BYTES) {
            users_page(w, "A password is 8 to 1024 bytes.", NULL, NULL, 400);
            return;
        }
        r = secret_hash_password(pw, &hash);
        if (r >= 0)
            r = store_user_add(w->req->db, name, hash, req_param(w->req, "admin") != NULL, NULL);
        if (r == -EEXIST)
            users_page(w, rfmt("There is already a user named '%s'.", name), NULL, NULL, 409);
        else if (r < 0)
            users_page(w, "The user could not be stored.", NULL, NULL, 500);
        else
            web_redirect(w, "manage/users?msg=added");
    } else if (action && streq(action, "reset")) {
        const char *who = req_param(w->req, "user");
        struct user_row u = {};
        char fresh[17];

        if (!who || store_user_get(w->req->db, who, &u) < 0) {
            users_page(w, "There is no such user.", NULL, NULL, 404);
            return;
        }
        secret_random_hex(fresh, 8);
        r = secret_hash_password(fresh, &hash);
        if (r >= 0)
            r = store_user_set_password(w->req->db, u.id, hash);
        if (r < 0)
            users_page(w, "The password could not be stored.", NULL, NULL, 500);
        else
            users_page(w, NULL, u.name, fresh, 200);
        secret_wipe(fresh, sizeof fresh);
        user_row_release(&u);
    } else
        users_page(w, "The form asked for nothing Steward knows.", NULL, NULL, 400);
}
