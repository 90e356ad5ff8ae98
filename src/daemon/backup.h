/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * `steward backup DEST` and `steward restore SRC` (src/daemon/backup.c).
 * Each returns the process's exit code: 0, 1 on failure, 2 on a usage
 * error, after saying on stderr what happened.
 */

int cmd_backup(const char *home_dir, int argc, char **argv);
int cmd_restore(const char *home_dir, int argc, char **argv);

/*
 * 0 when nothing is left of an interrupted restore in the home at `root`;
 * otherwise says on stderr what is left and what to do, and returns -EBUSY.
 * `steward serve` calls it before it uses the home.
 */
int restore_check_interrupted(const char *root);
