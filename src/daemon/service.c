/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "core/jobs.h"
#include "daemon/service.h"
#include "util/log.h"

/* what `systemctl status` shows while the server runs; said again after a reload */
static char status[256];

void
service_ready(const char *listen, int port, int executors)
{
    snprintf(status, sizeof status, "Listening on %s (port %d), %d executors", listen, port,
             executors);
    (void) sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void
service_stopping(void)
{
    (void) sd_notify(0, "STOPPING=1\nSTATUS=Shutting down");
}

void
service_reload(struct jobs *jobs)
{
    struct timespec ts;
    int r;

    /* systemd 253's Type=notify-reload wants the time the reload began */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    (void) sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading job configurations",
                      (unsigned long long) ts.tv_sec * 1000000ULL +
                          (unsigned long long) ts.tv_nsec / 1000ULL);
    log_info("reload: re-reading every job's config.xml from disk");
    r = jobs_rescan(jobs);
    if (r < 0)
        log_error("reload: cannot read the jobs directory: %s; the jobs stay as they were",
                  strerror(-r));
    else
        log_info("reload: done (each job that changed said so above)");
    (void) sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}
