/* SPDX-License-Identifier: MIT */
#pragma once

/* Address ranges (CIDR), for serve --trusted-proxy. */

#include <stdbool.h>
#include <stdint.h>

struct cidr {
    int family;          /* AF_INET or AF_INET6 */
    uint8_t addr[16];    /* network order; 4 bytes used for AF_INET */
    unsigned prefix;     /* bits */
};

/*
 * Reads "192.0.2.0/24", "2001:db8::/32", or an address alone (a /32 or
 * /128). 0, or -EINVAL.
 */
int cidr_parse(const char *s, struct cidr *ret);
/* Is the address in text form `addr` (IPv4, IPv6 or IPv4-mapped IPv6) inside `c`? */
bool cidr_contains(const struct cidr *c, const char *addr);
