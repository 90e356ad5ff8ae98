/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The stylesheet and the script, embedded in the binary and served under
 * /static/. Their URLs carry a hash of their content, so browsers may keep
 * them for a year; an unversioned or stale URL is revalidated by ETag.
 */

/* "static/NAME?v=HASH", a path below the root; lent, static. NULL for an unknown name. */
const char *web_asset_path(const char *name);
