/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/idmap.h"
#include "util/macro.h"

/* the ids under key, as a bitmap over 1..n (ids here stay below 1024) */
static void
collect(const struct idmap *m, uint64_t key, unsigned char *seen, size_t n)
{
    size_t cursor = 0;
    int64_t id;

    memset(seen, 0, n);
    while ((id = idmap_next(m, key, &cursor)) != 0) {
        assert_true(id > 0 && (size_t) id < n);
        assert_int_equal(seen[id], 0); /* each id once */
        seen[id] = 1;
    }
}

static void idmap_next__of_an_empty_map_finds_nothing(void **state)
{
    struct idmap m = IDMAP_INIT;
    size_t cursor = 0;

    (void) state;
    assert_int_equal(idmap_next(&m, 42, &cursor), 0);
    assert_int_equal(idmap_del(&m, 42, 1), -ENOENT);
    idmap_release(&m);
}

static void idmap_add__refuses_ids_that_are_not_positive(void **state)
{
    struct idmap m = IDMAP_INIT;

    (void) state;
    assert_int_equal(idmap_add(&m, 1, 0), -EINVAL);
    assert_int_equal(idmap_add(&m, 1, -5), -EINVAL);
    assert_int_equal(m.n, 0);
    idmap_release(&m);
}

static void idmap_next__visits_every_id_of_a_repeated_key(void **state)
{
    struct idmap m = IDMAP_INIT;
    unsigned char seen[16];

    (void) state;
    for (int64_t id = 1; id <= 5; id++)
        assert_int_equal(idmap_add(&m, 7, id), 0);
    assert_int_equal(idmap_add(&m, 8, 9), 0);
    collect(&m, 7, seen, sizeof seen);
    for (int64_t id = 1; id < 16; id++)
        assert_int_equal(seen[id], id <= 5);
    assert_int_equal(idmap_del(&m, 7, 3), 0);
    assert_int_equal(idmap_del(&m, 7, 3), -ENOENT);
    collect(&m, 7, seen, sizeof seen);
    assert_int_equal(seen[3], 0);
    assert_int_equal(seen[1] + seen[2] + seen[4] + seen[5], 4);
    collect(&m, 8, seen, sizeof seen);
    assert_int_equal(seen[9], 1);
    idmap_release(&m);
}

/*
 * Random adds and deletes over few keys (long probe runs, wrap-around,
 * growth), checked after every step against a plain array.
 */
static void idmap__agrees_with_a_plain_array_under_random_churn(void **state)
{
    enum { IDS = 1024, KEYS = 37 };
    struct idmap m = IDMAP_INIT;
    uint64_t *model = calloc(IDS, sizeof *model); /* key + 1, 0: absent */
    unsigned char seen[IDS];
    unsigned seed = 12345;
    size_t live = 0;

    (void) state;
    assert_non_null(model);
    for (int step = 0; step < 30000; step++) {
        int64_t id = 1 + (int64_t) (rand_r(&seed) % (IDS - 1));
        /* keys far apart and close together, some equal modulo the table */
        uint64_t key = (uint64_t) (rand_r(&seed) % KEYS) * (step % 3 ? 1 : 0x10000);

        if (model[id]) {
            assert_int_equal(idmap_del(&m, model[id] - 1, id), 0);
            model[id] = 0;
            live--;
        } else {
            assert_int_equal(idmap_add(&m, key, id), 0);
            model[id] = key + 1;
            live++;
        }
        assert_int_equal(m.n, live);
        assert_true(m.n * 2 <= m.cap);
        if (step % 997 == 0 || step == 29999) {
            for (int64_t i = 1; i < IDS; i++)
                if (model[i]) {
                    collect(&m, model[i] - 1, seen, sizeof seen);
                    assert_int_equal(seen[i], 1);
                    for (int64_t k = 1; k < IDS; k++)
                        if (seen[k])
                            assert_int_equal(model[k], model[i]);
                }
        }
    }
    idmap_clear(&m);
    assert_int_equal(m.n, 0);
    collect(&m, 0, seen, sizeof seen);
    for (size_t i = 0; i < sizeof seen; i++)
        assert_int_equal(seen[i], 0);
    idmap_release(&m);
    free(model);
}

static void idmap_reserve__makes_later_adds_allocate_nothing(void **state)
{
    struct idmap m = IDMAP_INIT;
    struct idmap_slot *slots;

    (void) state;
    assert_int_equal(idmap_reserve(&m, 1000), 0);
    slots = m.slots;
    for (int64_t id = 1; id <= 1000; id++)
        assert_int_equal(idmap_add(&m, (uint64_t) id % 7, id), 0);
    assert_ptr_equal(m.slots, slots);
    assert_int_equal(m.n, 1000);
    idmap_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idmap_next__of_an_empty_map_finds_nothing),
        cmocka_unit_test(idmap_add__refuses_ids_that_are_not_positive),
        cmocka_unit_test(idmap_next__visits_every_id_of_a_repeated_key),
        cmocka_unit_test(idmap__agrees_with_a_plain_array_under_random_churn),
        cmocka_unit_test(idmap_reserve__makes_later_adds_allocate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
