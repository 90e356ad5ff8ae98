/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/net.h"

static void cidr__reads_ranges_and_matches_addresses(void **state)
{
    struct cidr c;

    (void) state;
    assert_int_equal(cidr_parse("10.1.0.0/16", &c), 0);
    assert_true(cidr_contains(&c, "10.1.200.3"));
    assert_false(cidr_contains(&c, "10.2.0.1"));
    assert_true(cidr_contains(&c, "::ffff:10.1.0.9"));   /* IPv4-mapped */
    assert_false(cidr_contains(&c, "2001:db8::1"));
    assert_false(cidr_contains(&c, "not an address"));

    assert_int_equal(cidr_parse("192.0.2.7", &c), 0);     /* one address */
    assert_true(cidr_contains(&c, "192.0.2.7"));
    assert_false(cidr_contains(&c, "192.0.2.8"));

    assert_int_equal(cidr_parse("192.0.2.0/25", &c), 0);  /* a prefix off a byte boundary */
    assert_true(cidr_contains(&c, "192.0.2.127"));
    assert_false(cidr_contains(&c, "192.0.2.128"));

    assert_int_equal(cidr_parse("2001:db8::/32", &c), 0);
    assert_true(cidr_contains(&c, "2001:db8:ffff::1"));
    assert_false(cidr_contains(&c, "2001:db9::1"));

    assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
    assert_true(cidr_contains(&c, "203.0.113.1"));

    assert_int_equal(cidr_parse("10.0.0.0/33", &c), -EINVAL);
    assert_int_equal(cidr_parse("10.0.0.0/", &c), -EINVAL);
    assert_int_equal(cidr_parse("/8", &c), -EINVAL);
    assert_int_equal(cidr_parse("10.0.0/8", &c), -EINVAL);
    assert_int_equal(cidr_parse("example.com", &c), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cidr__reads_ranges_and_matches_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
