/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Shared by the fuzz targets: CHECK, which aborts so that libFuzzer reports
 * the input, and, with -DFUZZ_REPLAY_MAIN, a main() that runs the target
 * over the files it is given (how `make test` replays every corpus).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef FUZZ_REPLAY_MAIN
int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        char *buf;
        long n;

        CHECK(f);
        CHECK(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0);
        buf = malloc((size_t) n + 1);
        CHECK(buf && fread(buf, 1, (size_t) n, f) == (size_t) n);
        fclose(f);
        LLVMFuzzerTestOneInput((const uint8_t *) buf, (size_t) n);
        free(buf);
    }
    return 0;
}
#endif
