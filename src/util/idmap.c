/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/idmap.h"

/* the key's bits are a hash already; a multiply spreads sequential ones */
static size_t
home_slot(const struct idmap *m, uint64_t key)
{
    return (size_t) ((key * 0x9E3779B97F4A7C15ULL) >> 16) & (m->cap - 1);
}

void
idmap_release(struct idmap *m)
{
    free(m->slots);
    *m = IDMAP_INIT;
}

void
idmap_clear(struct idmap *m)
{
    if (m->slots)
        memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->n = 0;
}

static void
put(struct idmap *m, uint64_t key, int64_t id)
{
    size_t i = home_slot(m, key);

    while (m->slots[i].id != 0)
        i = (i + 1) & (m->cap - 1);
    m->slots[i].key = key;
    m->slots[i].id = id;
    m->n++;
}

static int
grow(struct idmap *m)
{
    struct idmap bigger = { .cap = m->cap ? m->cap * 2 : 64 };

    if (bigger.cap > SIZE_MAX / 2 / sizeof *bigger.slots)
        return -ENOMEM;
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (!bigger.slots)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].id != 0)
            put(&bigger, m->slots[i].key, m->slots[i].id);
    free(m->slots);
    *m = bigger;
    return 0;
}

int
idmap_reserve(struct idmap *m, size_t n)
{
    int r;

    while (n > m->cap / 2) {
        r = grow(m);
        if (r < 0)
            return r;
    }
    return 0;
}

int
idmap_add(struct idmap *m, uint64_t key, int64_t id)
{
    int r;

    if (id <= 0)
        return -EINVAL;
    r = idmap_reserve(m, m->n + 1);
    if (r < 0)
        return r;
    put(m, key, id);
    return 0;
}

int
idmap_del(struct idmap *m, uint64_t key, int64_t id)
{
    size_t mask = m->cap - 1, i, j;

    if (m->cap == 0)
        return -ENOENT;
    for (i = home_slot(m, key); m->slots[i].id != 0; i = (i + 1) & mask)
        if (m->slots[i].key == key && m->slots[i].id == id)
            break;
    if (m->slots[i].id == 0)
        return -ENOENT;

    /*
     * Backward shift: move later entries of the run into the hole when
     * their home slot does not lie (cyclically) between the hole and them.
     */
    for (j = (i + 1) & mask; m->slots[j].id != 0; j = (j + 1) & mask) {
        size_t h = home_slot(m, m->slots[j].key);
        if (((j - h) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].id = 0;
    m->slots[i].key = 0;
    m->n--;
    return 0;
}

int64_t
idmap_next(const struct idmap *m, uint64_t key, size_t *cursor)
{
    size_t mask = m->cap - 1, i;

    if (m->cap == 0)
        return 0;
    /* the cursor counts the slots already looked at from the key's home */
    for (; *cursor <= mask; (*cursor)++) {
        i = (home_slot(m, key) + *cursor) & mask;
        if (m->slots[i].id == 0)
            return 0;
        if (m->slots[i].key == key) {
            (*cursor)++;
            return m->slots[i].id;
        }
    }
    return 0;
}
