/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for cred_xml_parse() and cred_xml_write_redacted(): a
 * credential's XML as the credentials plugins write it.
 *
 * Whatever parses either passes cred_check() or is refused with a reason;
 * the redacted XML of what parsed parses again to the same fields, with
 * every secret "not given" (so nothing of a secret survives the writing).
 * Whatever does not parse says why.
 *
 * Build:  tests/fuzz/run.sh (FUZZ_TARGETS=credxml)
 * Replay without libFuzzer (e.g. the corpus in the normal test run): add
 * -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/credentials.h"
#include "util/buf.h"
#include "fuzz.h"

static bool
same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cred_fields f = {}, g = {};
    struct buf out = BUF_INIT(1 << 20);
    const char *why = NULL;
    char *msg = NULL;
    int r;

    r = cred_xml_parse((const char *) data, size, &f, &msg);
    CHECK(r == 0 || r == -ENOMEM || (r == -EINVAL && msg && *msg));
    free(msg);
    msg = NULL;
    if (r < 0)
        return 0;
    CHECK((unsigned) f.kind < _CRED_KIND_MAX);
    r = cred_check(&f, false, &why);
    CHECK(r == 0 || (r == -EINVAL && why && *why));
    if (r == 0) {
        struct cred_info info = { .id = f.id ? f.id : (char *) "generated", .kind = f.kind,
                                  .scope = f.scope ? f.scope : (char *) "GLOBAL",
                                  .description = f.description ? f.description : (char *) "",
                                  .username = f.username, .username_secret = f.username_secret,
                                  .file_name = f.file_name };

        CHECK(cred_xml_write_redacted(&info, &out) == 0);
        CHECK(cred_xml_parse(out.ptr, out.len, &g, &msg) == 0);
        CHECK(g.kind == f.kind && same(g.id, info.id) && same(g.scope, info.scope));
        CHECK(same(g.description, info.description) && same(g.username, f.username));
        CHECK(same(g.file_name, f.file_name) && g.username_secret == f.username_secret);
        CHECK(!g.secret && !g.passphrase);
        CHECK(!f.secret || f.secret_len < 4 ||
              !memmem(out.ptr, out.len, f.secret, f.secret_len));
    }
    cred_fields_release(&f);
    cred_fields_release(&g);
    free(msg);
    buf_release(&out);
    return 0;
}
