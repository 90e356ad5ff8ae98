/* SPDX-License-Identifier: MIT */
/*
 * Polling a Git job's remotes (see core/poll.h).
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/git.h"
#include "core/poll.h"
#include "util/macro.h"
#include "util/strutil.h"

const char poll_script[] =
    "set -e\n"
    "cd /tmp\n"
    "GC='-c core.hooksPath=/dev/null -c core.fsmonitor=false -c credential.helper='\n"
    GIT_CREDS_SH
    "rm -f -- \"$STEWARD_POLL_OUT\"\n"
    ": > \"$STEWARD_POLL_OUT\"\n"
    "i=1\n"
    "while [ \"$i\" -le \"$STEWARD_GIT_REMOTES\" ]; do\n"
    "  eval \"name=\\$STEWARD_GIT_NAME_$i url=\\$STEWARD_GIT_URL_$i\"\n"
    "  printf ' > git ls-remote --heads --tags -- %s\\n' \"$url\"\n"
    "  printf 'remote %s\\n' \"$name\" >> \"$STEWARD_POLL_OUT\"\n"
    "  creds \"$i\"\n"
    "  timeout -k 10s 10m git $GC ls-remote --heads --tags -- \"$url\" >> \"$STEWARD_POLL_OUT\" "
    "|| { creds_hint \"$i\"; exit 1; }\n"
    "  creds 0\n"
    "  i=$((i + 1))\n"
    "done\n";

/* The commit the newest earlier build of `branch` built; NULL when none. */
static const char *previous_of(const char *previous, const char *branch, size_t *ret_len)
{
    size_t bl = strlen(branch);

    for (const char *p = previous; p && *p;) {
        const char *nl = strchrnul(p, '\n');

        if ((size_t) (nl - p) > bl + 1 && strncmp(p, branch, bl) == 0 && p[bl] == ' ') {
            *ret_len = (size_t) (nl - p) - bl - 1;
            return p + bl + 1;
        }
        p = *nl ? nl + 1 : nl;
    }
    return NULL;
}

struct spec {
    regex_t re;
    bool compiled;
    bool tag;
};

static void free_specs(struct spec *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].compiled)
            regfree(&s[i].re);
    free(s);
}

/* The job's branch specs as anchored regular expressions (commits are left out: they do not move). */
static int compile_specs(const struct git_scm *g, const char *const *params, struct spec **ret,
                         size_t *ret_n)
{
    struct spec *specs = calloc(g->n_branches * 2 + 1, sizeof *specs);
    size_t n = 0;
    int r = 0;

    if (!specs)
        return -ENOMEM;
    for (size_t i = 0; i < g->n_branches && r >= 0; i++) {
        _cleanup_free_ char *expanded = NULL, *pattern = NULL;

        r = git_expand(g->branches[i], params, &expanded);
        if (r >= 0) {
            expanded[strcspn(expanded, "\n")] = '\0';
            r = git_spec_pattern(expanded, g->remotes[0].name, &pattern);
        }
        for (char *line = pattern, *nl; r >= 0 && line && *line; line = nl) {
            _cleanup_free_ char *anchored = NULL;
            bool tag;

            nl = strchr(line, '\n');
            if (nl)
                *nl++ = '\0';
            if (startswith(line, "sha:"))
                continue;
            tag = startswith(line, "tag:");
            if (asprintf(&anchored, "^(%s)$", tag ? line + 4 : line) < 0) {
                anchored = NULL;
                r = -ENOMEM;
                break;
            }
            /* a pattern regcomp refuses matches nothing */
            if (regcomp(&specs[n].re, anchored, REG_EXTENDED | REG_NOSUB) == 0) {
                specs[n].compiled = true;
                specs[n].tag = tag;
                n++;
            }
        }
    }
    if (r < 0) {
        free_specs(specs, n);
        return r;
    }
    *ret = specs;
    *ret_n = n;
    return 0;
}

int
poll_decide(const struct git_scm *g, const char *lsremote, const char *const *params,
            const char *previous, bool has_builds, struct buf *log, bool *ret_changed)
{
    _cleanup_free_ char *copy = strdup(lsremote);
    struct spec *specs = NULL;
    size_t n_specs = 0, matched = 0;
    const char *remote = NULL;
    bool changed = false;
    int r;

    if (!copy)
        return -ENOMEM;
    r = compile_specs(g, params, &specs, &n_specs);
    if (r < 0)
        return r;
    for (char *line = copy, *nl; line && *line && r >= 0; line = nl) {
        _cleanup_free_ char *name = NULL, *branch = NULL;
        char *tab;
        bool tag;

        nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        if (startswith(line, "remote ")) {
            remote = line + 7;
            continue;
        }
        tab = strchr(line, '\t');
        if (!remote || !tab || tab - line != 40) {
            r = -EINVAL;
            break;
        }
        *tab = '\0';
        tag = startswith(tab + 1, "refs/tags/");
        if (tag && strlen(tab + 1) > 3 && streq(tab + 1 + strlen(tab + 1) - 3, "^{}"))
            continue;   /* a peeled tag: the tag's own line counts */
        if (tag)
            name = strdup(tab + 1), branch = strdup(tab + 1);
        else if (startswith(tab + 1, "refs/heads/")) {
            if (asprintf(&name, "refs/remotes/%s/%s", remote, tab + 1 + 11) < 0)
                name = NULL;
            if (asprintf(&branch, "%s/%s", remote, tab + 1 + 11) < 0)
                branch = NULL;
        } else
            continue;
        if (!name || !branch) {
            r = -ENOMEM;
            break;
        }
        for (size_t i = 0; i < n_specs; i++) {
            const char *prev;
            size_t prev_len = 0;

            if (specs[i].tag != tag || regexec(&specs[i].re, name, 0, NULL, 0) != 0)
                continue;
            matched++;
            prev = previous_of(previous, branch, &prev_len);
            if (!prev) {
                if (has_builds)
                    buf_printf(log, "Changes found: %s at %s, never built\n", branch, line);
                changed |= has_builds;
            } else if (prev_len != 40 || strncmp(prev, line, 40) != 0) {
                buf_printf(log, "Changes found: %s at %s (last built %.*s)\n", branch, line,
                           (int) MIN(prev_len, 40), prev);
                changed = true;
            }
            break;
        }
    }
    free_specs(specs, n_specs);
    if (r < 0)
        return r;
    if (!has_builds) {
        buf_puts(log, "No existing build. Scheduling a new one.\n");
        changed = true;
    } else if (matched == 0)
        buf_puts(log, "No branch of the remotes matches the job's branch specs\n");
    *ret_changed = changed;
    return 0;
}
