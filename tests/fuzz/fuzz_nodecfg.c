/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for nodecfg_parse() and nodecfg_write(): a node's
 * config.xml.
 *
 * Whatever parses is written again by nodecfg_write(), and that parses to
 * the same fields; whatever does not parse says why.
 *
 * Build:  tests/fuzz/run.sh (FUZZ_TARGETS=nodecfg)
 * Replay without libFuzzer: add -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/nodes.h"
#include "fuzz.h"

static bool
same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct node_config c = {}, d = {};
    char *why = NULL, *xml;
    int r;

    r = nodecfg_parse((const char *) data, size, &c, &why);
    CHECK(r == 0 || r == -ENOMEM || (r == -EINVAL && why && *why));
    free(why);
    why = NULL;
    if (r < 0)
        return 0;
    CHECK(c.executors >= 1 && c.executors <= 64 && c.name && c.description && c.remote_fs);
    xml = nodecfg_write(&c);
    CHECK(xml);
    r = nodecfg_parse(xml, strlen(xml), &d, &why);
    if (r != 0)
        fprintf(stderr, "%s\n%s\n", why, xml);
    CHECK(r == 0);
    CHECK(same(c.name, d.name) && same(c.description, d.description) &&
          same(c.remote_fs, d.remote_fs) && c.executors == d.executors && c.mode == d.mode);
    CHECK(c.n_labels == d.n_labels && c.launcher == d.launcher);
    for (size_t i = 0; i < c.n_labels; i++)
        CHECK(same(c.labels[i], d.labels[i]));
    if (c.launcher == NODE_LAUNCHER_SSH)
        CHECK(same(c.host, d.host) && c.port == d.port &&
              same(c.credentials_id, d.credentials_id) &&
              c.host_key_strategy == d.host_key_strategy && same(c.host_key, d.host_key));
    free(xml);
    node_config_release(&c);
    node_config_release(&d);
    return 0;
}
