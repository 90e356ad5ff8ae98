/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One-line log records on stderr: "2026-11-27T21:40:00Z steward[123]: level: message".
 * Never pass a secret to these.
 */

#include "util/macro.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR };

void log_set_level(enum log_level l);
void log_msg(enum log_level l, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
