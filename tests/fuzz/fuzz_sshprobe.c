/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for core/ssh.h's ssh_probe_parse() (what a node's
 * master prints, so what the node controls) and ssh_quote().
 *
 * The probe parses or fails with -EAGAIN (no ready line), -EBADMSG or
 * -E2BIG; what parses has a uname and a home without a newline. Every
 * prefix of an input that parses without its ready line is -EAGAIN.
 *
 * ssh_quote() of input without NUL is one single-quoted word: unquoting
 * it (outside quotes only '\'' may occur) gives the input back.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *           src/core/ssh.c src/util/buf.c src/util/fs.c src/util/strutil.c \
 *           src/util/secret.c tests/fuzz/fuzz_sshprobe.c $(pkg-config --libs libsodium)
 * Replay without libFuzzer (e.g. the corpus in the normal test run): add
 * -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ssh.h"
#include "util/buf.h"
#include "fuzz.h"

static void
check_quote(const char *s, size_t len)
{
    struct buf b = BUF_INIT(4 * len + 16);
    size_t j = 0;
    int r = ssh_quote(&b, s, len);

    if (memchr(s, '\0', len)) {
        CHECK(r == -EINVAL && b.len == 0);
        buf_release(&b);
        return;
    }
    CHECK(r == 0);
    CHECK(b.len >= 2 && b.ptr[0] == '\'' && b.ptr[b.len - 1] == '\'');
    /* unquote: inside '...' everything is literal; between, only \' */
    for (size_t i = 0; i < b.len;) {
        CHECK(b.ptr[i] == '\'');
        i++;
        while (i < b.len && b.ptr[i] != '\'') {
            CHECK(j < len && s[j] == b.ptr[i]);
            i++, j++;
        }
        CHECK(i < b.len);
        i++;
        if (i < b.len) {
            CHECK(b.len - i >= 3 && b.ptr[i] == '\\' && b.ptr[i + 1] == '\'');
            CHECK(j < len && s[j] == '\'');
            j++;
            i += 2;
        }
    }
    CHECK(j == len);
    buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    struct ssh_probe p;
    int r = ssh_probe_parse(text, size, &p);

    CHECK(r == 0 || r == -EAGAIN || r == -EBADMSG || r == -E2BIG || r == -ENOMEM);
    if (r == 0) {
        const char *ready = memmem(text, size, "steward-ready", 13);

        CHECK(p.uname && p.home && !strchr(p.uname, '\n') && !strchr(p.home, '\n'));
        ssh_probe_release(&p);
        CHECK(ready);
        /* cut before the ready line's end, the probe is not complete */
        CHECK(ssh_probe_parse(text, (size_t) (ready - text), &p) == -EAGAIN);
    }
    if (size <= 4096)
        check_quote(text, size);
    return 0;
}
