/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

static enum log_level min_level = LOG_INFO;

void
log_set_level(enum log_level l)
{
    min_level = l;
}

void
log_msg(enum log_level l, const char *fmt, ...)
{
    static const char *const names[] = { "debug", "info", "warning", "error" };
    char line[2048], stamp[32];
    struct tm tm;
    time_t now;
    va_list ap;
    int n;

    if (l < min_level)
        return;
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    n = snprintf(line, sizeof line, "%s steward[%d]: %s: ", stamp, (int) getpid(), names[l]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t) n, fmt, ap);
    va_end(ap);
    /* one write per record, so lines from several threads do not mix */
    fprintf(stderr, "%s\n", line);
}
