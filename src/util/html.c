/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "util/html.h"
#include "util/strutil.h"

int
html_raw(struct buf *out, const char *markup)
{
    return buf_puts(out, markup);
}

int
html_text(struct buf *out, const char *text)
{
    int r = 0;

    if (!text)
        return 0;
    for (const char *p = text; *p && r >= 0; p++) {
        switch (*p) {
        case '&':
            r = buf_puts(out, "&amp;");
            break;
        case '<':
            r = buf_puts(out, "&lt;");
            break;
        case '>':
            r = buf_puts(out, "&gt;");
            break;
        case '"':
            r = buf_puts(out, "&quot;");
            break;
        case '\'':
            r = buf_puts(out, "&#39;");
            break;
        default:
            r = buf_putc(out, *p);
        }
    }
    return r;
}

int
html_attr(struct buf *out, const char *value)
{
    return html_text(out, value);
}

int
html_url_arg(struct buf *out, const char *value)
{
    return url_encode(out, value ? value : "");
}

int
html_int(struct buf *out, long long v)
{
    return buf_printf(out, "%lld", v);
}

const char *
html_root_path(const char *root_url)
{
    const char *p = root_url ? strstr(root_url, "://") : NULL;

    if (!p)
        return "/";
    p = strchr(p + 3, '/');
    return p ? p : "/";
}

static int
nav_link(struct buf *out, const struct html_page *p, const char *id, const char *path,
         const char *label)
{
    int r = html_raw(out, "<a href=\"");

    if (r >= 0)
        r = html_attr(out, p->base ? p->base : "/");
    if (r >= 0)
        r = html_attr(out, path);
    if (r >= 0)
        r = html_raw(out, p->current && streq(p->current, id) ? "\" aria-current=\"page\">"
                                                              : "\">");
    if (r >= 0)
        r = html_text(out, label);
    if (r >= 0)
        r = html_raw(out, "</a>");
    return r;
}

int
html_page_start(struct buf *out, const struct html_page *p)
{
    const char *base = p->base ? p->base : "/";
    int r = 0;

    r |= html_raw(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                       "<title>");
    r |= html_text(out, p->title);
    r |= html_raw(out, " - Steward</title><link rel=\"stylesheet\" href=\"");
    r |= html_attr(out, base);
    r |= html_attr(out, p->css ? p->css : "static/style.css");
    r |= html_raw(out, "\"><script defer src=\"");
    r |= html_attr(out, base);
    r |= html_attr(out, p->js ? p->js : "static/app.js");
    r |= html_raw(out, "\"></script>");
    if (p->crumb) {
        r |= html_raw(out, "<meta name=\"crumb\" content=\"");
        r |= html_attr(out, p->crumb);
        r |= html_raw(out, "\">");
    }
    r |= html_raw(out, "</head><body><a class=\"skip\" href=\"#main\">Skip to content</a>"
                       "<header class=\"top\"><a class=\"brand\" href=\"");
    r |= html_attr(out, base);
    r |= html_raw(out, "\"><span class=\"logo\" aria-hidden=\"true\"></span>Steward</a>"
                       "<nav aria-label=\"Main\">");
    r |= nav_link(out, p, "dashboard", "", "Dashboard");
    if (p->user) {
        r |= nav_link(out, p, "new", "newJob", "New job");
        if (p->is_admin) {
            r |= nav_link(out, p, "users", "manage/users", "Users");
            r |= nav_link(out, p, "security", "manage/security", "Security");
            r |= nav_link(out, p, "credentials", "manage/credentials", "Credentials");
            r |= nav_link(out, p, "nodes", "manage/nodes", "Nodes");
            r |= nav_link(out, p, "hooks", "manage/hooks", "Hooks");
            r |= nav_link(out, p, "audit", "manage/audit", "Audit");
        }
    }
    r |= html_raw(out, "</nav><div class=\"who\">");
    if (p->user) {
        r |= html_raw(out, "<a href=\"");
        r |= html_attr(out, base);
        r |= html_raw(out, "me/configure\"");
        if (p->current && streq(p->current, "me"))
            r |= html_raw(out, " aria-current=\"page\"");
        r |= html_raw(out, " title=\"Your API tokens and password\">");
        r |= html_text(out, p->user);
        /* signing out is a POST with the crumb: no other site can sign anyone out */
        r |= html_raw(out, "</a> <form method=\"post\" action=\"");
        r |= html_attr(out, base);
        r |= html_raw(out, "logout\">");
        if (p->crumb) {
            r |= html_raw(out, "<input type=\"hidden\" name=\"Jenkins-Crumb\" value=\"");
            r |= html_attr(out, p->crumb);
            r |= html_raw(out, "\">");
        }
        r |= html_raw(out, "<button type=\"submit\" class=\"link\">Sign out</button></form>");
    } else {
        r |= html_raw(out, "<a href=\"");
        r |= html_attr(out, base);
        r |= html_raw(out, "login");
        if (p->login_from) {
            r |= html_raw(out, "?from=");
            r |= html_url_arg(out, p->login_from);
        }
        r |= html_raw(out, "\">Sign in</a>");
    }
    r |= html_raw(out, "</div></header><main id=\"main\" tabindex=\"-1\">");
    /* each piece returns 0 or a negative errno; any failure makes r negative */
    return r < 0 ? -E2BIG : 0;
}

int
html_page_end(struct buf *out)
{
    return html_raw(out, "</main><footer class=\"foot\">Steward " STEWARD_VERSION
                         " &middot; speaks the Jenkins remote API</footer></body></html>\n");
}
