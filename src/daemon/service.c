/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/jobs.h"
#include "daemon/service.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strutil.h"

/* what `systemctl status` shows while the server runs; said again after a reload */
static char status[256];

/*
 * sd_notify(3), spoken directly: one datagram of NEWLINE-separated
 * assignments to the AF_UNIX socket that $NOTIFY_SOCKET names (a path, or
 * an abstract name written with a leading '@'). The systemd project keeps
 * this protocol stable as the interface itself and documents how to speak
 * it without libsystemd ("Standalone Implementations" in sd_notify(3));
 * linking libsystemd for these few messages mapped it and libgcrypt,
 * libgpg-error, liblz4, libzstd and libcap into every server, about
 * 0.9 MB of its idle memory. Without $NOTIFY_SOCKET nothing is sent.
 * 0 or -errno; callers ignore it, as a failed notification changes
 * nothing in what the server does.
 */
static int
notify(const char *fmt, ...) _printf_(1, 2);

static int
notify(const char *fmt, ...)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    _cleanup_close_ int fd = -1;
    char msg[1024];
    size_t len;
    va_list ap;
    int n;

    if (!path || !*path)
        return 0;
    /* systemd also knows vsock addresses, for virtual machines: not ours */
    if (path[0] != '/' && path[0] != '@')
        return -EAFNOSUPPORT;
    len = strlen(path);
    if (len >= sizeof sa.sun_path)
        return -E2BIG;
    memcpy(sa.sun_path, path, len);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= sizeof msg)
        return -E2BIG;

    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* an abstract name's length is all there is of it: no trailing NUL */
    if (sendto(fd, msg, (size_t) n, MSG_NOSIGNAL, (struct sockaddr *) &sa,
               (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len)) != n)
        return -errno;
    return 0;
}

void
service_ready(const char *listen, int port, int executors)
{
    snprintf(status, sizeof status, "Listening on %s (port %d), %d executors", listen, port,
             executors);
    (void) notify("READY=1\nSTATUS=%s", status);
}

void
service_stopping(void)
{
    (void) notify("STOPPING=1\nSTATUS=Shutting down");
}

void
service_reload(struct jobs *jobs)
{
    int r;

    /* systemd 253's Type=notify-reload wants the time the reload began */
    (void) notify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading job configurations",
                  (unsigned long long) mono_us());
    log_info("reload: re-reading every job's config.xml from disk");
    r = jobs_rescan(jobs);
    if (r < 0)
        log_error("reload: cannot read the jobs directory: %s; the jobs stay as they were",
                  strerror(-r));
    else
        log_info("reload: done (each job that changed said so above)");
    (void) notify("READY=1\nSTATUS=%s", status);
}
