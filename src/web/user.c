/* SPDX-License-Identifier: MIT */
/*
 * A user's page (/me/configure, /user/NAME/configure): API tokens with
 * their use, a new token shown once, revoking, and the password. And the
 * administrators' users page (/manage/users): adding users, resetting a
 * password, the administrator flag, and removing a user after a
 * confirmation page (GET /manage/users?remove=NAME).
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
static const struct web_message messages[] = {
    { "revoked", "The token is revoked: requests that send it now get 401." },
    { "password", "The password is changed." },
    { "added", "The user is added." },
    { "removed", "The user is removed: they can no longer sign in, and their API tokens are "
                 "deleted." },
    { "admin", "The user is now an administrator." },
    { "not-admin", "The user is no longer an administrator." },
    { "self-not-admin", "You are no longer an administrator." },
};

static void
message(struct buf *b, struct web *w)
{
    web_notices(b, w, messages, ELEMENTSOF(messages), NULL);
}

static void
problem(struct buf *b, const char *error)
{
    web_notices(b, NULL, NULL, 0, error);
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
form_open_as(struct buf *b, struct web *w, bool in_row, const char *action_path,
             const char *action, const char *confirm)
{
    web_form_open(b, w, in_row, action_path, action, confirm);
}

static void
form_open(struct buf *b, struct web *w, const char *action_path, const char *action,
          const char *confirm)
{
    form_open_as(b, w, false, action_path, action, confirm);
}

/* What limits a token: its scopes, jobs and expiry, or that it has every right. */
static void
token_limits_cell(struct buf *b, struct web *w, const struct token_row *t)
{
    bool any = false;

    if (t->scopes) {
        html_text(b, t->scopes);
        any = true;
    }
    if (t->jobs) {
        html_raw(b, any ? "; jobs " : "jobs ");
        html_text(b, t->jobs);
        any = true;
    }
    if (t->expires_ms) {
        html_raw(b, any ? "; " : "");
        html_raw(b, t->expires_ms <= w->now ? "expired " : "expires ");
        web_time_ago(b, w->now, t->expires_ms);
        any = true;
    }
    if (!any)
        html_raw(b, "<span class=\"muted\">every right</span>");
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
                    "<th scope=\"col\">Limits</th><th scope=\"col\">Created</th><th "
                    "scope=\"col\">Last used</th><th scope=\"col\">Uses</th><th scope=\"col\">"
                    "<span class=\"visually-hidden\">Actions</span></th></tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
            html_raw(b, "<tr><td class=\"key\">");
            html_text(b, rows[i].name);
            html_raw(b, "</td><td>");
            token_limits_cell(b, w, &rows[i]);
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
                "<details><summary>Limit it (optional)</summary><label for=\"token-scopes\">"
                "Scopes</label><input type=\"text\" id=\"token-scopes\" name=\"scopes\" "
                "placeholder=\"read,build\"><p class=\"hint\">read, build, cancel, configure, "
                "admin. Empty: every right you have, as a Jenkins token.</p><label "
                "for=\"token-jobs\">Jobs</label><input type=\"text\" id=\"token-jobs\" "
                "name=\"jobs\" placeholder=\"deploy-*,web\"><label for=\"token-expires\">Expires"
                "</label><input type=\"text\" id=\"token-expires\" name=\"expires\" "
                "placeholder=\"30d, 2027-01-31, or empty for never\"></details></form></section>");
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
    const char *why;
    int r;

    if (!name)
        return;
    struct token_limits lim;

    if (auth_check_token_name(name, &why) < 0) {
        user_page(w, u, me, NULL, NULL, why, 400);
        return;
    }
    if (auth_token_limits(w->req->db, req_param(w->req, "scopes"), req_param(w->req, "jobs"),
                          req_param(w->req, "expires"), w->now, &lim, &why) < 0) {
        user_page(w, u, me, NULL, NULL, why, 400);
        return;
    }
    r = auth_token_new(w->req->db, u->id, name, &lim, value, uuid);
    if (r == -EEXIST) {
        user_page(w, u, me, NULL, NULL,
                  rfmt("There is already a token named '%s'. Choose another name.", name), 409);
        return;
    }
    if (r < 0) {
        user_page(w, u, me, NULL, NULL, "The token could not be stored.", 500);
        return;
    }
    app_audit(w->req, "token-new", NULL, "API token '%s' of user '%s'", name, u->name);
    user_page(w, u, me, value, name, NULL, 200);
    secret_wipe(value, sizeof value);
}

static void
change_password(struct web *w, const struct user_row *u, bool me)
{
    const char *cur = req_param(w->req, "current"), *pw = req_param(w->req, "password");
    const char *again = req_param(w->req, "again");
    _cleanup_free_ char *hash = NULL;
    enum auth_failure why = AUTH_FAIL_NONE;
    const char *bad;
    struct identity id;

    /*
     * The sign-in's own check: throttled per address like every other
     * password, and at most a couple of argon2id at once
     */
    if (me && (!cur || auth_password(w->app->auth, w->req->db, u->name, cur, w->req->addr, &id,
                                     &why) < 0)) {
        if (why == AUTH_FAIL_THROTTLED) {
            int wait = auth_throttle_wait(w->app->auth, w->req->addr, u->name);
            resp_header(w->resp, "Retry-After", rfmt("%d", wait > 0 ? wait : 1));
            user_page(w, u, me, NULL, NULL,
                      rfmt("Too many wrong passwords from this address; try again in %d s. "
                           "Nothing was changed.", wait > 0 ? wait : 1), 429);
        } else
            user_page(w, u, me, NULL, NULL, "The current password is wrong; nothing was changed.",
                      403);
        return;
    }
    if (!pw || auth_check_password(pw, &bad) < 0) {
        user_page(w, u, me, NULL, NULL, rfmt("%s Nothing was changed.", pw ? bad : "The form has no new password."), 400);
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
    home_forget_initial_password(w->app->home, u->password_hash);
    app_audit(w->req, "user-password", NULL, "of user '%s'", u->name);
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
        else {
            app_audit(w->req, "token-revoke", NULL, "API token %s of user '%s'", uuid, u.name);
            web_redirect(w, rfmt("%s?msg=revoked", self_path(&u, me)));
        }
    } else if (action && streq(action, "password"))
        change_password(w, &u, me);
    else
        user_page(w, &u, me, NULL, NULL, "The form asked for nothing Steward knows.", 400);
out:
    user_row_release(&u);
}

/* ---- /manage/users ---- */

/* One row of the users table: who, their role, and what an administrator may do to them. */
static void
users_row(struct buf *b, struct web *w, const struct user_row *u, size_t admins)
{
    bool me = u->id == w->req->id.user_id, last_admin = u->is_admin && admins == 1;

    html_raw(b, "<tr><td><a class=\"key\" href=\"");
    html_attr(b, w->base);
    html_raw(b, "user/");
    html_url_arg(b, u->name);
    html_raw(b, "/configure\">");
    html_text(b, u->name);
    html_raw(b, "</a>");
    if (me)
        html_raw(b, "&nbsp;<span class=\"muted\">(you)</span>");
    html_raw(b, "</td><td class=\"nowrap\">");
    html_raw(b, u->is_admin ? "administrator" : "user");
    if (last_admin)
        html_raw(b, " <span class=\"muted\">(the only one)</span>");
    html_raw(b, "</td><td class=\"opt nowrap\">");
    web_time_ago(b, w->now, u->created_ms);
    html_raw(b, "</td><td class=\"nowrap\">");

    form_open_as(b, w, true, "manage/users", "reset",
                 rfmt("Reset the password of %s? Their current password stops working.", u->name));
    html_raw(b, "<input type=\"hidden\" name=\"user\" value=\"");
    html_attr(b, u->name);
    html_raw(b, "\"><button class=\"btn small\" type=\"submit\" data-role=\"reset\" aria-label=\""
                "Reset the password of ");
    html_attr(b, u->name);
    html_raw(b, "\">Reset password</button></form> ");

    /* the last administrator is not offered a demotion the server would refuse */
    if (!last_admin) {
        form_open_as(b, w, true, "manage/users", "set-admin",
                     me && u->is_admin ? "Give up your own administrator rights? You will no "
                                         "longer be able to manage users."
                                       : NULL);
        html_raw(b, "<input type=\"hidden\" name=\"user\" value=\"");
        html_attr(b, u->name);
        html_raw(b, u->is_admin ? "\"><input type=\"hidden\" name=\"admin\" value=\"0\"><button "
                                  "class=\"btn small\" type=\"submit\" data-role=\"admin\" "
                                  "aria-label=\"Take the administrator flag from "
                                : "\"><input type=\"hidden\" name=\"admin\" value=\"1\"><button "
                                  "class=\"btn small\" type=\"submit\" data-role=\"admin\" "
                                  "aria-label=\"Make an administrator of ");
        html_attr(b, u->name);
        html_raw(b, u->is_admin ? "\">Remove admin</button></form> "
                                : "\">Make admin</button></form> ");
    }

    /* nobody removes themselves: the confirmation page would only refuse */
    if (!me) {
        html_raw(b, "<a class=\"btn small danger\" data-role=\"remove\" href=\"");
        html_attr(b, w->base);
        html_raw(b, "manage/users?remove=");
        html_url_arg(b, u->name);
        html_raw(b, "\" aria-label=\"Remove user ");
        html_attr(b, u->name);
        html_raw(b, "\">Remove&hellip;</a>");
    }
    html_raw(b, "</td></tr>");
}

static void
users_page(struct web *w, const char *error, const char *reset_user, const char *reset_pw,
           int status)
{
    struct buf *b = web_begin(w, "Users", "users");
    struct user_row *users = NULL;
    size_t n = 0, admins = 0;

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
    if (store_user_list(w->req->db, &users, &n) < 0)
        problem(b, "The list of users could not be read from the database.");
    for (size_t i = 0; i < n; i++)
        admins += users[i].is_admin;
    html_raw(b, "<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">User</th><th "
                "scope=\"col\">Role</th><th scope=\"col\" class=\"opt\">Since</th><th "
                "scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr></thead>"
                "<tbody>");
    for (size_t i = 0; i < n; i++)
        users_row(b, w, &users[i], admins);
    user_rows_free(users, n);
    html_raw(b, "</tbody></table></div><p class=\"hint\">Open a user to see or revoke their API "
                "tokens. Administrators manage users; there is always at least one. Removing a "
                "user deletes their API tokens. The offline command <code>steward user</code> "
                "adds users and sets passwords too.</p></section><section class=\"card\" "
                "aria-labelledby=\"h-add\"><h2 id=\"h-add\">Add a user</h2>");
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

/* ---- removing users and the administrator flag ---- */

enum change {
    CHANGE_REMOVE,
    CHANGE_GRANT_ADMIN,
    CHANGE_TAKE_ADMIN,
};

/* Everyone, and the two users a change is about; the pointers point into `users`. */
struct roster {
    struct user_row *users;
    size_t n, admins;
    const struct user_row *target;   /* NULL: no such user */
    const struct user_row *actor;    /* the signed-in administrator; NULL: gone */
};

static void
roster_release(struct roster *ro)
{
    user_rows_free(ro->users, ro->n);
    *ro = (struct roster){};
}

static int
roster_load(struct store *db, const char *who, int64_t actor_id, struct roster *ret)
{
    struct roster ro = {};
    int r;

    r = store_user_list(db, &ro.users, &ro.n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < ro.n; i++) {
        ro.admins += ro.users[i].is_admin;
        if (streq(ro.users[i].name, who))
            ro.target = &ro.users[i];
        if (ro.users[i].id == actor_id)
            ro.actor = &ro.users[i];
    }
    *ret = ro;
    return 0;
}

/* Why a change is refused, for web_error(). */
struct refusal {
    int status;
    const char *title, *presented, *fix;
};

/*
 * The rules, decided from what the transaction read: the acting user is
 * still an administrator (another one may have just demoted them), nobody
 * removes themselves, and the last administrator is neither removed nor
 * demoted, since then nobody could manage users from the web any more.
 * Returns true and fills *ret_why when the change is refused. The strings
 * may come from rfmt().
 */
static bool
change_refused(const struct web *w, const struct roster *ro, const char *who, enum change what,
               struct refusal *ret_why)
{
    if (!ro->actor || !ro->actor->is_admin) {
        *ret_why = (struct refusal){
            403, "Administrators only",
            rfmt("User '%s' is no longer an administrator.", w->req->id.name),
            "Ask an administrator."
        };
        return true;
    }
    if (!ro->target) {
        *ret_why = (struct refusal){ 404, "Not found", rfmt("User '%s' does not exist.", who),
                                     "It may have been removed already; the users page lists "
                                     "everyone." };
        return true;
    }
    if (what == CHANGE_REMOVE && ro->target == ro->actor) {
        *ret_why = (struct refusal){
            409, "You cannot remove yourself",
            rfmt("User '%s' is the one signed in here. Removing it would lock you out, and "
                 "nothing was changed.",
                 who),
            "Ask another administrator to remove this user."
        };
        return true;
    }
    if (what != CHANGE_GRANT_ADMIN && ro->target->is_admin && ro->admins <= 1) {
        *ret_why = (struct refusal){
            409, "The last administrator stays",
            rfmt("'%s' is the only administrator. Without one, nobody could add or remove "
                 "users or reset passwords from the web; nothing was changed.",
                 who),
            "Make another user an administrator first, then try again."
        };
        return true;
    }
    return false;
}

static void
refuse(struct web *w, const struct refusal *why)
{
    web_error(w, why->status, why->title, why->presented, why->fix, "manage/users",
              "Back to users");
}

static void
store_failed(struct web *w, int r)
{
    web_error(w, r == -EBUSY ? 503 : 500, "The change could not be stored",
              "The database did not take it; nothing was changed.", "Try again in a moment.",
              "manage/users", "Back to users");
}

/* GET /manage/users?remove=NAME: are you sure? */
static void
remove_page(struct web *w, const char *who)
{
    struct roster ro = {};
    struct refusal why;
    struct token_row *tokens = NULL;
    size_t n_tokens = 0;
    struct buf *b;
    int r;

    r = roster_load(w->req->db, who, w->req->id.user_id, &ro);
    if (r < 0) {
        store_failed(w, r);
        return;
    }
    if (change_refused(w, &ro, who, CHANGE_REMOVE, &why)) {
        refuse(w, &why);
        goto out;
    }
    (void) store_token_list(w->req->db, ro.target->id, &tokens, &n_tokens);
    b = web_begin(w, rfmt("Remove %s", who), "users");
    html_raw(b, "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"");
    html_attr(b, w->base);
    html_raw(b, "manage/users\">Users</a> &rsaquo; ");
    html_text(b, who);
    html_raw(b, "</nav><div class=\"card narrow\"><h1>Remove user &ldquo;");
    html_text(b, who);
    html_raw(b, "&rdquo;?</h1><p>");
    html_raw(b, ro.target->is_admin ? "This administrator " : "This user ");
    html_raw(b, "can no longer sign in, and their web sessions end. ");
    if (n_tokens == 0)
        html_raw(b, "They have no API tokens.");
    else {
        html_raw(b, "Their ");
        html_int(b, (int64_t) n_tokens);
        html_raw(b, n_tokens == 1 ? " API token (" : " API tokens (");
        for (size_t i = 0; i < n_tokens; i++) {
            if (i)
                html_raw(b, ", ");
            html_raw(b, "&ldquo;");
            html_text(b, tokens[i].name);
            html_raw(b, "&rdquo;");
        }
        html_raw(b, n_tokens == 1 ? ") is deleted: scripts that send it get 401 at once."
                                  : ") are deleted: scripts that send them get 401 at once.");
    }
    html_raw(b, " Builds they started keep saying who started them. <strong>This cannot be "
                "undone</strong>; a new user of the same name starts without tokens.</p>");
    form_open(b, w, "manage/users", "remove", NULL);
    html_raw(b, "<input type=\"hidden\" name=\"user\" value=\"");
    html_attr(b, who);
    html_raw(b, "\"><p class=\"actions\"><button class=\"btn danger\" type=\"submit\" "
                "id=\"confirm-remove\">Remove ");
    html_text(b, who);
    html_raw(b, "</button> <a class=\"btn\" href=\"");
    html_attr(b, w->base);
    html_raw(b, "manage/users\">Cancel</a></p></form></div>");
    web_end(w, 200);
out:
    token_rows_free(tokens, n_tokens);
    roster_release(&ro);
}

/*
 * POST action=remove or action=set-admin. The rules read the users and
 * the change writes them, so both happen in one IMMEDIATE transaction:
 * two administrators demoting each other at the same moment cannot both
 * succeed and leave nobody in charge.
 */
static void
change_user(struct web *w, enum change what)
{
    struct store *db = w->req->db;
    const char *who = req_param(w->req, "user");
    struct roster ro = {};
    struct refusal why;
    bool self;
    int r;

    if (!who || !*who) {
        refuse(w, &(struct refusal){ 400, "No user given",
                                     "The form named no user; nothing was changed.",
                                     "Use the buttons on the users page." });
        return;
    }
    r = store_begin(db);
    if (r < 0) {
        store_failed(w, r);
        return;
    }
    r = roster_load(db, who, w->req->id.user_id, &ro);
    if (r < 0)
        goto fail;
    if (change_refused(w, &ro, who, what, &why)) {
        (void) store_rollback(db);
        refuse(w, &why);
        roster_release(&ro);
        return;
    }
    if (what == CHANGE_REMOVE)
        r = store_user_delete(db, ro.target->id);
    else
        r = store_user_set_admin(db, ro.target->id, what == CHANGE_GRANT_ADMIN);
    if (r >= 0)
        r = store_commit(db);
    if (r < 0)
        goto fail;
    self = ro.target == ro.actor;
    app_audit(w->req, what == CHANGE_REMOVE ? "user-remove" : "user-admin", NULL, "user '%s'%s",
              ro.target->name, what == CHANGE_REMOVE ? "" : what == CHANGE_GRANT_ADMIN ? " on" : " off");
    roster_release(&ro);
    if (what == CHANGE_REMOVE)
        web_redirect(w, "manage/users?msg=removed");
    else if (what == CHANGE_GRANT_ADMIN)
        web_redirect(w, "manage/users?msg=admin");
    else
        /* the users page is for administrators: send a demoted self to their own page */
        web_redirect(w, self ? "me/configure?msg=self-not-admin" : "manage/users?msg=not-admin");
    return;
fail:
    (void) store_rollback(db);
    roster_release(&ro);
    store_failed(w, r);
}

static void
add_user(struct web *w)
{
    const char *name = req_param(w->req, "name"), *pw = req_param(w->req, "password"), *why;
    _cleanup_free_ char *hash = NULL;
    int r;

    if (!name || auth_check_user_name(name, &why) < 0) {
        users_page(w, name ? why : "The form has no user name.", NULL, NULL, 400);
        return;
    }
    if (!pw || auth_check_password(pw, &why) < 0) {
        users_page(w, pw ? why : "The form has no password.", NULL, NULL, 400);
        return;
    }
    r = secret_hash_password(pw, &hash);
    if (r >= 0)
        r = store_user_add(w->req->db, name, hash, req_param(w->req, "admin") != NULL, NULL);
    if (r == -EEXIST)
        users_page(w, rfmt("There is already a user named '%s'.", name), NULL, NULL, 409);
    else if (r < 0)
        users_page(w, "The user could not be stored.", NULL, NULL, 500);
    else {
        app_audit(w->req, "user-add", NULL, "user '%s'%s", name,
                  req_param(w->req, "admin") ? ", administrator" : "");
        web_redirect(w, "manage/users?msg=added");
    }
}

static void
reset_password(struct web *w)
{
    const char *who = req_param(w->req, "user");
    _cleanup_free_ char *hash = NULL;
    struct user_row u = {};
    char fresh[17];
    int r;

    if (!who || store_user_get(w->req->db, who, &u) < 0) {
        users_page(w, "There is no such user.", NULL, NULL, 404);
        return;
    }
    secret_random_hex(fresh, 8);
    r = secret_hash_password(fresh, &hash);
    if (r >= 0)
        r = store_user_set_password(w->req->db, u.id, hash);
    if (r >= 0)
        home_forget_initial_password(w->app->home, u.password_hash);
    if (r < 0)
        users_page(w, "The password could not be stored.", NULL, NULL, 500);
    else {
        app_audit(w->req, "user-password", NULL, "of user '%s', reset", u.name);
        users_page(w, NULL, u.name, fresh, 200);
    }
    secret_wipe(fresh, sizeof fresh);
    user_row_release(&u);
}

void
web_users_page(struct web *w)
{
    const char *action, *admin;

    if (!w->req->is_post) {
        const char *remove = req_param(w->req, "remove");
        if (remove)
            remove_page(w, remove);
        else
            users_page(w, NULL, NULL, NULL, 200);
        return;
    }
    if (!web_check_post(w))
        return;
    action = req_param(w->req, "action");
    admin = req_param(w->req, "admin");
    if (action && streq(action, "add"))
        add_user(w);
    else if (action && streq(action, "reset"))
        reset_password(w);
    else if (action && streq(action, "remove"))
        change_user(w, CHANGE_REMOVE);
    else if (action && streq(action, "set-admin") && admin && (streq(admin, "1") || streq(admin, "0")))
        change_user(w, streq(admin, "1") ? CHANGE_GRANT_ADMIN : CHANGE_TAKE_ADMIN);
    else
        users_page(w, "The form asked for nothing Steward knows.", NULL, NULL, 400);
}
