/* SPDX-License-Identifier: MIT */
/*
 * /manage/security, for administrators: the authorization strategy and
 * the global matrix (what `steward security authorization` and `steward
 * security matrix` change offline).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/strutil.h"
#include "web/page.h"

static const struct web_message messages[] = {
    { "strategy", "The authorization strategy is saved. It applies from the next request." },
    { "granted", "Granted." },
    { "revoked", "Revoked." },
};

static const struct {
    enum authz_strategy s;
    const char *label, *hint;
} strategies[] = {
    { AUTHZ_LOGGED_IN, "Logged-in users can do anything",
      "Every signed-in user may do everything but administer; administrators may do that too. "
      "Anonymous callers may read when the box below is ticked. The matrix is kept but not used." },
    { AUTHZ_MATRIX, "Matrix-based security",
      "Only what the matrix below grants, to a user, to authenticated (every signed-in user) or "
      "to anonymous. Administrators may do everything." },
    { AUTHZ_PROJECT_MATRIX, "Project-based matrix authorization",
      "The matrix below, plus each job's own grants (the Authorization section of its configure "
      "page, or its config.xml's AuthorizationMatrixProperty)." },
};

static void
form_open(struct buf *b, struct web *w, const char *action, bool inline_form)
{
    html_raw(b, inline_form ? "<form class=\"inline\" method=\"post\" action=\""
                            : "<form method=\"post\" action=\"");
    html_attr(b, w->base);
    html_raw(b, "manage/security\">");
    web_crumb_field(b, w);
    html_raw(b, "<input type=\"hidden\" name=\"action\" value=\"");
    html_attr(b, action);
    html_raw(b, "\">");
}

/* A <select> of every permission; `global` leaves out none, else only a job's. */
void
web_permission_select(struct buf *b, const char *id, const char *name, bool global)
{
    html_raw(b, "<select id=\"");
    html_attr(b, id);
    html_raw(b, "\" name=\"");
    html_attr(b, name);
    html_raw(b, "\">");
    for (enum perm p = 0; p < _PERM_MAX; p++) {
        if (!global && !perm_is_item(p))
            continue;
        html_raw(b, "<option value=\"");
        html_attr(b, perm_name(p));
        html_raw(b, "\">");
        html_text(b, perm_name(p));
        html_raw(b, "</option>");
    }
    html_raw(b, "</select>");
}

static void
strategy_card(struct buf *b, struct web *w, enum authz_strategy cur)
{
    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-strategy\"><h2 id=\"h-strategy\">"
                "Authorization</h2>");
    form_open(b, w, "strategy", false);
    html_raw(b, "<fieldset><legend>Strategy</legend>");
    for (size_t i = 0; i < ELEMENTSOF(strategies); i++) {
        html_raw(b, "<label class=\"check\"><input type=\"radio\" name=\"strategy\" value=\"");
        html_attr(b, authz_name(strategies[i].s));
        html_raw(b, "\"");
        if (strategies[i].s == cur)
            html_raw(b, " checked");
        html_raw(b, "> ");
        html_text(b, strategies[i].label);
        html_raw(b, " <code>");
        html_text(b, authz_name(strategies[i].s));
        html_raw(b, "</code></label><p class=\"hint\">");
        html_text(b, strategies[i].hint);
        html_raw(b, "</p>");
    }
    html_raw(b, "</fieldset><label class=\"check\"><input type=\"checkbox\" name=\"anonymous_read\" "
                "value=\"on\"");
    if (app_anonymous_read(w->req))
        html_raw(b, " checked");
    html_raw(b, "> Anonymous callers may read (under the logged-in strategy)</label><p "
                "class=\"actions\"><button class=\"btn primary\" type=\"submit\" id=\"save-strategy\">"
                "Save</button></p></form></section>");
}

static void
matrix_card(struct buf *b, struct web *w, enum authz_strategy cur)
{
    char **entries = NULL;
    size_t n = 0;

    html_raw(b, "<section class=\"card\" aria-labelledby=\"h-matrix\"><h2 id=\"h-matrix\">"
                "Global matrix</h2>");
    if (cur == AUTHZ_LOGGED_IN)
        html_raw(b, "<p class=\"hint\">Not in use: the strategy is logged-in.</p>");
    if (store_grant_list(w->req->db, &entries, &n) < 0)
        html_raw(b, "<p class=\"notice bad\" role=\"alert\">The matrix could not be read.</p>");
    if (n == 0)
        html_raw(b, "<p class=\"empty\">Nothing is granted: under a matrix strategy only "
                    "administrators may do anything.</p>");
    else
        html_raw(b, "<div class=\"tablewrap\"><table id=\"matrix\"><thead><tr><th scope=\"col\">"
                    "Who</th><th scope=\"col\">Permission</th><th scope=\"col\"><span class=\""
                    "visually-hidden\">Actions</span></th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        struct grant g;

        html_raw(b, "<tr><td>");
        if (grant_parse(entries[i], &g) == 0) {
            html_text(b, g.sid);
            if (g.kind == PRINCIPAL_GROUP && !streq(g.sid, PERM_SID_AUTHENTICATED))
                html_raw(b, " <span class=\"hint\">(a group: Steward has none)</span>");
            html_raw(b, "</td><td>");
            html_text(b, perm_name(g.perm));
            free(g.sid);
        } else {
            html_text(b, entries[i]);
            html_raw(b, "</td><td><span class=\"hint\">not a permission Steward uses</span>");
        }
        html_raw(b, "</td><td>");
        form_open(b, w, "revoke", true);
        html_raw(b, "<input type=\"hidden\" name=\"entry\" value=\"");
        html_attr(b, entries[i]);
        html_raw(b, "\"><button class=\"btn small danger\" type=\"submit\">Revoke</button></form>"
                    "</td></tr>");
    }
    if (n)
        html_raw(b, "</tbody></table></div>");
    store_grants_free(entries, n);

    html_raw(b, "<h3>Grant</h3>");
    form_open(b, w, "grant", false);
    html_raw(b, "<label for=\"g-sid\">To</label><input type=\"text\" id=\"g-sid\" name=\"sid\" "
                "maxlength=\"64\" autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" "
                "required list=\"g-sids\"><datalist id=\"g-sids\"><option value=\"authenticated\">"
                "<option value=\"anonymous\"></datalist><p class=\"hint\">A user name, "
                "<code>authenticated</code> (every signed-in user) or <code>anonymous</code>."
                "</p><label for=\"g-perm\">Permission</label>");
    web_permission_select(b, "g-perm", "permission", true);
    html_raw(b, "<p class=\"actions\"><button class=\"btn primary\" type=\"submit\" id=\"grant\">"
                "Grant</button></p></form><p class=\"hint\">Offline: <code>steward --home DIR "
                "security matrix grant|revoke|show</code>. Overall/Read is needed to see "
                "anything; Job/Read to see a job.</p></section>");
}

static void
page(struct web *w, const char *error, int status)
{
    enum authz_strategy cur = app_strategy(w->req->db);
    struct buf *b = web_begin(w, "Security", "security");

    html_raw(b, "<h1>Security</h1>");
    web_notices(b, w, messages, ELEMENTSOF(messages), error);
    html_raw(b, "<div class=\"grid\">");
    strategy_card(b, w, cur);
    matrix_card(b, w, cur);
    html_raw(b, "</div>");
    web_end(w, status);
}

static void
save_strategy(struct web *w)
{
    const char *name = req_param(w->req, "strategy"), *anon = req_param(w->req, "anonymous_read");
    enum authz_strategy s;
    int r;

    if (!name || authz_parse(name, &s) < 0) {
        page(w, "Choose one of the three strategies.", 400);
        return;
    }
    r = store_setting_set(w->req->db, "authorization", authz_name(s));
    if (r >= 0)
        r = store_setting_set(w->req->db, "anonymous_read", anon && streq(anon, "on") ? "on" : "off");
    if (r < 0) {
        page(w, rfmt("The setting could not be stored: %s.", strerror(-r)), 500);
        return;
    }
    app_audit(w->req, "strategy", NULL, "%s, anonymous read %s", authz_name(s),
              anon && streq(anon, "on") ? "on" : "off");
    web_redirect(w, "manage/security?msg=strategy");
}

static void
change_grant(struct web *w, bool grant)
{
    const char *sid = req_param(w->req, "sid"), *pname = req_param(w->req, "permission");
    const char *entry = req_param(w->req, "entry");
    _cleanup_free_ char *formatted = NULL;
    struct grant g = {};
    enum perm p;
    int r;

    if (grant) {
        if (!sid || !pname || perm_parse(pname, &p) < 0) {
            page(w, "Name who gets it and choose a permission.", 400);
            return;
        }
        r = grant_new(sid, p, &g);
        if (r < 0) {
            page(w, "Who gets it is a user name, authenticated or anonymous.", 400);
            return;
        }
        formatted = grant_format(&g);
        free(g.sid);
        r = formatted ? store_grant_add(w->req->db, formatted) : -ENOMEM;
    } else
        r = entry ? store_grant_remove(w->req->db, entry) : -ENOENT;
    if (r == -ENOENT) {
        page(w, "That grant is not in the matrix (revoked already?).", 404);
        return;
    }
    if (r < 0) {
        page(w, rfmt("The matrix could not be changed: %s.", strerror(-r)), 500);
        return;
    }
    app_audit(w->req, grant ? "grant" : "revoke", NULL, "%s", grant ? formatted : entry);
    web_redirect(w, grant ? "manage/security?msg=granted" : "manage/security?msg=revoked");
}

void
web_security_page(struct web *w)
{
    const char *action;

    if (!w->req->is_post) {
        page(w, NULL, 200);
        return;
    }
    if (!web_check_post(w))
        return;
    action = req_param(w->req, "action");
    if (action && streq(action, "strategy"))
        save_strategy(w);
    else if (action && streq(action, "grant"))
        change_grant(w, true);
    else if (action && streq(action, "revoke"))
        change_grant(w, false);
    else
        page(w, "The form did not say what to do.", 400);
}
