/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * `steward serve` as a systemd service (Type=notify, data/steward.service):
 * sd_notify(3) messages at the points systemd waits for, and the reload
 * that SIGHUP asks for. Without $NOTIFY_SOCKET the messages go nowhere,
 * so a server started by hand behaves the same.
 */

struct jobs;

/* READY=1, once the listener is up and the engine started. */
void service_ready(const char *listen, int port, int executors);
/* STOPPING=1, when shutdown begins. */
void service_stopping(void);
/*
 * The SIGHUP reload, between RELOADING=1 and READY=1: re-reads every job's
 * config.xml from disk (jobs_rescan), for what the jobs/ watcher missed
 * (no inotify watch left, or a lost event). Nothing else is re-read: the
 * command line stays as it was, and users, tokens and settings live in
 * steward.db, which every request reads anyway.
 */
void service_reload(struct jobs *jobs);
