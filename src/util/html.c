/* SPDX-License-Identifier: MIT */
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
