/* SPDX-License-Identifier: MIT */
/*
 * perf-steward -- the steward binary as ../shared/bench/perf.sh runs it
 * from `make bench` (bench/run.sh builds this file, static).
 *
 * perf.sh's latency job writes its marks into W/lat, beside its homes
 * W/stw-NAME/home, and builds run in a sandbox that hides /tmp, as the
 * build user. As an administrator shares a directory with builds, a
 * `serve` on such a home gets `--build-bind W/lat`, made first, writable by
 * every user as /tmp is (mode 1777); the sandbox stays on. Every other
 * command line is the real binary's, unchanged. The real binary:
 * $BENCH_STEWARD_REAL.
 *
 * A program of its own, static, rather than a shell script: perf.sh times
 * a start from the exec of what it is given, and a /bin/sh before the
 * server's own exec added about 3 ms to that figure here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* W/lat for a home W/stw-NAME/home, or NULL for any other home */
static char *
lat_dir(const char *home)
{
    size_t n = strlen(home);
    const char *tail = "/home", *p;
    char *w;

    if (n < strlen(tail) || strcmp(home + n - strlen(tail), tail) != 0)
        return NULL;
    w = strndup(home, n - strlen(tail));
    if (!w)
        return NULL;
    p = strrchr(w, '/');
    if (!p || strncmp(p, "/stw-", 5) != 0 || p[5] == '\0') {
        free(w);
        return NULL;
    }
    strcpy(w + (p - w), "/lat");
    return w;
}

int
main(int argc, char **argv)
{
    const char *real = getenv("BENCH_STEWARD_REAL"), *home = NULL;
    char **args, *lat;
    struct stat st;
    int serve = 0;

    if (!real || !*real) {
        fprintf(stderr, "perf-steward: BENCH_STEWARD_REAL names the steward binary\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i - 1], "--home") == 0)
            home = argv[i];
        else if (strncmp(argv[i], "--home=", 7) == 0)
            home = argv[i] + 7;
        if (strcmp(argv[i], "serve") == 0)
            serve = 1;
    }
    args = calloc((size_t) argc + 3, sizeof *args);
    if (!args)
        return 2;
    memcpy(args, argv, (size_t) argc * sizeof *args);
    args[0] = (char *) real;
    lat = serve && home ? lat_dir(home) : NULL;
    if (lat) {
        /* sticky, as /tmp: made once, by the first serve on a home beside it */
        if (stat(lat, &st) < 0 || !(st.st_mode & S_ISVTX)) {
            if ((mkdir(lat, 0755) < 0 && errno != EEXIST) || chmod(lat, 01777) < 0) {
                fprintf(stderr, "perf-steward: cannot make %s: %s\n", lat, strerror(errno));
                return 1;
            }
        }
        args[argc] = (char *) "--build-bind";
        args[argc + 1] = lat;
    }
    execv(real, args);
    fprintf(stderr, "perf-steward: cannot run %s: %s\n", real, strerror(errno));
    return 127;
}
