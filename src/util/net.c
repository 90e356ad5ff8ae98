/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util/net.h"
#include "util/strutil.h"

/* Reads an address into `out` (16 bytes); its family, or -1. IPv4-mapped IPv6 counts as IPv4. */
static int
read_addr(const char *s, uint8_t out[16])
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, out) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, s, out) != 1)
        return -1;
    if (memcmp(out, mapped, sizeof mapped) == 0) {
        memmove(out, out + 12, 4);
        memset(out + 4, 0, 12);
        return AF_INET;
    }
    return AF_INET6;
}

int
cidr_parse(const char *s, struct cidr *ret)
{
    char host[64];
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t) (slash - s) : strlen(s);
    int64_t bits;
    int family;

    if (len == 0 || len >= sizeof host)
        return -EINVAL;
    memcpy(host, s, len);
    host[len] = '\0';
    family = read_addr(host, ret->addr);
    if (family < 0)
        return -EINVAL;
    ret->family = family;
    bits = family == AF_INET ? 32 : 128;
    if (slash && parse_int64(slash + 1, 0, bits, &bits) < 0)
        return -EINVAL;
    ret->prefix = (unsigned) bits;
    return 0;
}

bool
cidr_contains(const struct cidr *c, const char *addr)
{
    uint8_t a[16];
    unsigned full = c->prefix / 8, rest = c->prefix % 8;

    if (read_addr(addr, a) != c->family)
        return false;
    if (memcmp(a, c->addr, full) != 0)
        return false;
    return rest == 0 || ((a[full] ^ c->addr[full]) & (uint8_t) (0xff << (8 - rest))) == 0;
}
