/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for tz_parse() and tz_localtime(): TZif files (RFC 8536)
 * as found under /usr/share/zoneinfo.
 *
 * Any input either parses or fails with -EINVAL (malformed) or -ENOMEM.
 * What parses gives a broken-down time in range for any instant, however
 * far from 1970, with a UTC offset of less than two days.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *           src/util/tz.c src/util/fs.c src/util/strutil.c src/util/buf.c \
 *           tests/fuzz/fuzz_tz.c $(pkg-config --libs libsodium)
 * Replay without libFuzzer (e.g. the corpus in the normal test run): add
 * -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "util/macro.h"
#include "util/tz.h"
#include "fuzz.h"

static void
check_instant(const struct tz *z, time_t t)
{
    struct tm tm;

    memset(&tm, 0x55, sizeof tm);
    tz_localtime(z, t, &tm);
    CHECK(tm.tm_sec >= 0 && tm.tm_sec <= 60);
    CHECK(tm.tm_min >= 0 && tm.tm_min <= 59);
    CHECK(tm.tm_hour >= 0 && tm.tm_hour <= 23);
    CHECK(tm.tm_mday >= 1 && tm.tm_mday <= 31);
    CHECK(tm.tm_mon >= 0 && tm.tm_mon <= 11);
    CHECK(tm.tm_wday >= 0 && tm.tm_wday <= 6);
    CHECK(tm.tm_yday >= 0 && tm.tm_yday <= 365);
    CHECK(tm.tm_gmtoff > -86400 * 2 && tm.tm_gmtoff < 86400 * 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_(tz_freep) struct tz *z = NULL;
    static const time_t fixed[] = { 0, -1, 1, 2147483647, -2147483648LL, 4102444800LL,
                                    1711846800LL, 1729994400LL, INT64_MAX, INT64_MIN };
    int r;

    r = tz_parse(data, size, &z);
    if (r < 0) {
        CHECK(!z);
        CHECK(r == -EINVAL || r == -ENOMEM);
        return 0;
    }
    CHECK(z);
    for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
        check_instant(z, fixed[i]);
    /* and instants taken from the input, which land near its transitions */
    for (size_t i = 0; i + 8 <= size && i < 64 * 8; i += 8) {
        int64_t t;
        memcpy(&t, data + i, sizeof t);
        check_instant(z, (time_t) t);
        check_instant(z, (time_t) __builtin_bswap64((uint64_t) t));
    }
    return 0;
}
