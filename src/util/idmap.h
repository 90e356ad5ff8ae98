/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A multimap from 64-bit hashes to positive ids: open addressing with
 * linear probing, kept at most half full, and deletion by backward shift,
 * so lookups stay short however many entries come and go.
 *
 * The caller hashes; equal keys may carry several ids (a hash collision
 * or a repeated key), and idmap_next() visits each of them.
 */

#include <stddef.h>
#include <stdint.h>

struct idmap {
    struct idmap_slot {
        uint64_t key;
        int64_t id;     /* 0: empty */
    } *slots;
    size_t cap;         /* a power of two, or 0 */
    size_t n;
};

#define IDMAP_INIT ((struct idmap){ .slots = NULL, .cap = 0, .n = 0 })

void idmap_release(struct idmap *m);
/* Empties the map, keeping its memory. */
void idmap_clear(struct idmap *m);

/* Makes room for n entries in all, so that adding up to that many cannot fail. */
int idmap_reserve(struct idmap *m, size_t n);
/* Adds (key, id), id > 0. Returns 0, -EINVAL or -ENOMEM. */
int idmap_add(struct idmap *m, uint64_t key, int64_t id);
/* Removes (key, id). Returns 0, or -ENOENT when it is not there. */
int idmap_del(struct idmap *m, uint64_t key, int64_t id);

/*
 * The ids stored under key, one per call: start with *cursor = 0, stop
 * at 0. The map must not change during a walk.
 */
int64_t idmap_next(const struct idmap *m, uint64_t key, size_t *cursor);
