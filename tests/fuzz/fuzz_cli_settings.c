/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the client's two settings parsers: the config file
 * (settings_parse_config) and ~/.netrc (settings_netrc_lookup).
 *
 * Any input either parses or fails with -EINVAL and a line number inside
 * the input; every key and value handed out is a string within the line it
 * came from. A netrc lookup finds an entry or says -ENOENT, and what it
 * finds is text of the input.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *           src/cli/settings.c src/util/fs.c src/util/strutil.c src/util/buf.c \
 *           tests/fuzz/fuzz_cli_settings.c
 * Replay without libFuzzer (e.g. the corpus in the normal test run): add
 * -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/settings.h"
#include "fuzz.h"

struct seen {
    const char *text;
    int lines;
    int last_line;
};

static void
on_value(void *userdata, const char *key, const char *value, int line)
{
    struct seen *s = userdata;

    CHECK(key && *key && value);
    CHECK(!strchr(key, '\n') && !strchr(value, '\n'));
    CHECK(strlen(key) + strlen(value) <= strlen(s->text));
    CHECK(line >= 1 && line <= s->lines && line > s->last_line);
    s->last_line = line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct seen s = { .text = text, .lines = 1 };
    char *login = NULL, *password = NULL;
    int line = 0, r;

    CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0'; /* the readers see NUL-terminated files */
    for (const char *p = text; *p; p++)
        s.lines += *p == '\n';

    r = settings_parse_config(text, on_value, &s, &line);
    CHECK(r == 0 || (r == -EINVAL && line >= 1 && line <= s.lines));

    r = settings_netrc_lookup(text, "ci.example.com", NULL, &login, &password);
    CHECK(r == 0 || r == -ENOENT);
    if (r == 0) {
        CHECK(password && strlen(password) <= size);
        CHECK(!login || strlen(login) <= size);
    }
    free(login);
    free(password);
    login = password = NULL;
    r = settings_netrc_lookup(text, "ci.example.com", "alice", &login, &password);
    CHECK(r == 0 || r == -ENOENT);
    CHECK(r != 0 || !login || strcmp(login, "alice") == 0);
    free(login);
    free(password);
    free(text);
    return 0;
}
