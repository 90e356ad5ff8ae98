/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The credentials plugin's URLs for the system store's global domain,
 * /credentials/store/system/domain/_/...: api/json, createCredentials,
 * credential/ID/{api/json,config.xml,doDelete} (api/credentials.c).
 */

#include "http/route.h"

extern const struct route_table credentials_routes;
