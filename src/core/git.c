/* SPDX-License-Identifier: MIT */
/*
 * The Git checkout step, its inputs, and its report (see core/git.h).
 *
 * The report, as the step writes it and the engine keeps it:
 *
 *   remote URL          (one per remote; added by the engine)
 *   scm NAME            (ScmName; added by the engine)
 *   authors yes         (AuthorInChangelog; added by the engine)
 *   commit SHA
 *   branch NAME
 *   changelog yes|no
 *   then per commit, from git log: RS, then US-separated fields (hash,
 *   author name, email, time, date, committer name, email, time, date,
 *   message), a US, and git's --name-status lines.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/git.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/macro.h"
#include "util/strutil.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define RS "\x1e"
#define US "\x1f"

/*
 * The step. `set -e` ends it at the first failing command; the flags in
 * the first lines are the only part that varies, and are digits.
 */
static const char script_body[] =
    "GC='-c core.hooksPath=/dev/null -c core.fsmonitor=false -c core.quotepath=off "
    "-c gc.auto=0 -c advice.detachedHead=false -c init.defaultBranch=master -c credential.helper='\n"
    "say() { printf '%s\\n' \"$*\"; }\n"
    GIT_CREDS_SH
    /* g MINUTES ARGS...: one git command, shown as the git plugin shows it */
    "g() {\n"
    "  t=$1; shift\n"
    "  if [ \"$t\" -gt 0 ]; then\n"
    "    printf ' > git %s # timeout=%s\\n' \"$*\" \"$t\"\n"
    "    timeout -k 10s \"${t}m\" git $GC \"$@\"\n"
    "  else\n"
    "    printf ' > git %s\\n' \"$*\"\n"
    "    git $GC \"$@\"\n"
    "  fi\n"
    "}\n"
    "set -e\n"
    "rm -f -- \"$STEWARD_GIT_OUT\"\n"
    "if [ \"$WIPE\" = 1 ]; then\n"
    "  say 'Wiping out workspace first.'\n"
    "  chmod -R u+rwx . 2>/dev/null || :\n"
    "  find . -mindepth 1 -delete\n"
    "fi\n"
    "mkdir -p -- \"$STEWARD_GIT_DIR\"\n"
    "cd -- \"$STEWARD_GIT_DIR\"\n"
    "if [ ! -d .git ]; then\n"
    "  say 'Cloning the remote Git repository'\n"
    "  say \"Cloning repository $STEWARD_GIT_URL_1\"\n"
    "  g 0 init \"$PWD\"\n"
    "  if [ -n \"$STEWARD_GIT_REFERENCE\" ]; then\n"
    "    if [ -d \"$STEWARD_GIT_REFERENCE/objects\" ]; then\n"
    "      say \"Using reference repository: $STEWARD_GIT_REFERENCE\"\n"
    "      printf '%s/objects\\n' \"$STEWARD_GIT_REFERENCE\" >> .git/objects/info/alternates\n"
    "    elif [ -d \"$STEWARD_GIT_REFERENCE/.git/objects\" ]; then\n"
    "      say \"Using reference repository: $STEWARD_GIT_REFERENCE\"\n"
    "      printf '%s/.git/objects\\n' \"$STEWARD_GIT_REFERENCE\" >> .git/objects/info/alternates\n"
    "    else\n"
    "      say \"Reference path does not exist: $STEWARD_GIT_REFERENCE\"\n"
    "    fi\n"
    "  fi\n"
    "else\n"
    "  say 'Fetching changes from the remote Git repository'\n"
    "fi\n"
    "tags='--tags' extra=\n"
    "if [ \"$NOTAGS\" = 1 ]; then tags='--no-tags'; fi\n"
    "if [ \"$PRUNE\" = 1 ]; then extra=\"$extra --prune\"; fi\n"
    "if [ \"$SHALLOW\" = 1 ]; then extra=\"$extra --depth=$STEWARD_GIT_DEPTH\"; fi\n"
    "i=1\n"
    "while [ \"$i\" -le \"$STEWARD_GIT_REMOTES\" ]; do\n"
    "  eval \"name=\\$STEWARD_GIT_NAME_$i url=\\$STEWARD_GIT_URL_$i refspec=\\$STEWARD_GIT_REFSPEC_$i\"\n"
    "  say \"Fetching upstream changes from $url\"\n"
    "  set -f\n"
    "  creds \"$i\"\n"
    "  g \"$FETCH_TIMEOUT\" fetch $tags --force --progress $extra -- \"$url\" $refspec || "
    "{ creds_hint \"$i\"; exit 1; }\n"
    "  creds 0\n"
    "  g 0 config \"remote.$name.url\" \"$url\"\n"
    "  first=1\n"
    "  for s in $refspec; do\n"
    "    if [ $first = 1 ]; then g 0 config --replace-all \"remote.$name.fetch\" \"$s\"; first=0\n"
    "    else g 0 config --add \"remote.$name.fetch\" \"$s\"; fi\n"
    "  done\n"
    "  set +f\n"
    "  i=$((i + 1))\n"
    "done\n"
    /* the revision: a commit asked for, else the newest ref the first matching spec names */
    "sha= branch=\n"
    "if [ -n \"$STEWARD_GIT_SHA1\" ]; then\n"
    "  sha=$(git $GC rev-parse --verify --quiet \"$STEWARD_GIT_SHA1^{commit}\") || {\n"
    "    say \"ERROR: the commit $STEWARD_GIT_SHA1 is not in the fetched repositories.\"; exit 1; }\n"
    "  branch=$(git $GC for-each-ref --contains \"$sha\" --format='%(refname)' refs/remotes/ "
    "| grep -v '/HEAD$' | head -n 1) || :\n"
    "else\n"
    "  heads=$(git $GC for-each-ref --sort=-committerdate --format='%(refname)' refs/remotes/ "
    "| grep -v '/HEAD$') || :\n"
    "  tags=$(git $GC for-each-ref --sort=-creatordate --format='%(refname)' refs/tags/) || :\n"
    "  while IFS= read -r pat; do\n"
    "    case $pat in\n"
    "    sha:*) if c=$(git $GC rev-parse --verify --quiet \"${pat#sha:}^{commit}\"); then\n"
    "             sha=$c; branch=; break; fi ;;\n"
    "    tag:*) if ref=$(printf '%s\\n' \"$tags\" | grep -E -x -m 1 -e \"${pat#tag:}\"); then\n"
    "             sha=$(git $GC rev-parse \"$ref^{commit}\"); branch=$ref; break; fi ;;\n"
    "    *) if ref=$(printf '%s\\n' \"$heads\" | grep -E -x -m 1 -e \"$pat\"); then\n"
    "         sha=$(git $GC rev-parse \"$ref^{commit}\"); branch=$ref; break; fi ;;\n"
    "    esac\n"
    "  done <<EOF\n"
    "$STEWARD_GIT_SPECS\n"
    "EOF\n"
    "fi\n"
    "if [ -z \"$sha\" ]; then\n"
    "  say 'ERROR: Couldn'\"'\"'t find any revision to build. Verify the repository and branch "
    "configuration for this job.'\n"
    "  exit 1\n"
    "fi\n"
    "branch=${branch#refs/remotes/}\n"
    "if [ \"$CLEAN_BEFORE\" = 1 ] && git $GC rev-parse --verify --quiet HEAD >/dev/null; then\n"
    "  say 'Cleaning workspace'\n"
    "  g 0 reset --hard\n"
    "  g 0 clean -ffdx\n"
    "fi\n"
    "say \"Checking out Revision $sha (${branch:-detached})\"\n"
    "if [ \"$LOCAL_BRANCH\" = 1 ]; then\n"
    "  lb=$STEWARD_GIT_LOCAL_BRANCH\n"
    "  if [ -z \"$lb\" ] || [ \"$lb\" = '**' ]; then lb=${branch#*/}; fi\n"
    "  g \"$CHECKOUT_TIMEOUT\" checkout -f -B \"$lb\" \"$sha\"\n"
    "else\n"
    "  g \"$CHECKOUT_TIMEOUT\" checkout -f \"$sha\"\n"
    "fi\n"
    "if [ \"$CLEAN_AFTER\" = 1 ]; then\n"
    "  say 'Cleaning workspace'\n"
    "  g 0 clean -ffdx\n"
    "fi\n"
    "if [ \"$SUBMODULES\" = 1 ]; then\n"
    "  sub='--init'\n"
    "  [ \"$SUB_RECURSIVE\" = 1 ] && sub=\"$sub --recursive\"\n"
    "  [ \"$SUB_TRACKING\" = 1 ] && sub=\"$sub --remote\"\n"
    "  g 0 submodule sync\n"
    "  g \"$SUB_TIMEOUT\" submodule update $sub\n"
    "fi\n"
    "if [ -n \"$STEWARD_GIT_USER_NAME\" ]; then g 0 config user.name \"$STEWARD_GIT_USER_NAME\"; fi\n"
    "if [ -n \"$STEWARD_GIT_USER_EMAIL\" ]; then g 0 config user.email \"$STEWARD_GIT_USER_EMAIL\"; fi\n"
    "say \"Commit message: \\\"$(git $GC log -1 --format=%s \"$sha\")\\\"\"\n"
    "prev=\n"
    "while IFS=' ' read -r b s; do\n"
    "  if [ -n \"$b\" ] && [ \"$b\" = \"${branch:-detached}\" ]; then prev=$s; break; fi\n"
    "done <<EOF\n"
    "$STEWARD_GIT_PREVIOUS\n"
    "EOF\n"
    "out=$STEWARD_GIT_OUT\n"
    "printf 'commit %s\\nbranch %s\\n' \"$sha\" \"${branch:-detached}\" > \"$out\"\n"
    "if [ -z \"$prev\" ]; then\n"
    "  say 'First time build. Skipping changelog.'\n"
    "  printf 'changelog no\\n' >> \"$out\"\n"
    "elif ! git $GC cat-file -e \"$prev^{commit}\" 2>/dev/null; then\n"
    "  say \"The previous build's revision $prev is gone. Skipping changelog.\"\n"
    "  printf 'changelog no\\n' >> \"$out\"\n"
    "else\n"
    "  printf 'changelog yes\\n' >> \"$out\"\n"
    "  git $GC log --no-merges --no-color --no-renames -n " STR(BOUND_GIT_CHANGES)
    " --name-status --format='%x1e%H%x1f%an%x1f%ae%x1f%at%x1f%ai%x1f%cn%x1f%ce%x1f%ct%x1f%ci%x1f%B%x1f' "
    "\"$prev..$sha\" -- >> \"$out\"\n"
    "fi\n";

int
git_checkout_script(const struct git_scm *g, char **ret)
{
    /* the options, as digits only */
    if (asprintf(ret,
                 "WIPE=%d CLEAN_BEFORE=%d CLEAN_AFTER=%d PRUNE=%d NOTAGS=%d SHALLOW=%d\n"
                 "SUBMODULES=%d SUB_RECURSIVE=%d SUB_TRACKING=%d LOCAL_BRANCH=%d\n"
                 "FETCH_TIMEOUT=%d SUB_TIMEOUT=%d CHECKOUT_TIMEOUT=%d\n%s",
                 g->wipe, g->clean_before, g->clean_after, g->prune, g->no_tags, g->shallow,
                 g->submodules, g->recursive_submodules, g->tracking_submodules,
                 g->local_branch_set, g->fetch_timeout, g->submodule_timeout,
                 g->checkout_timeout, script_body) < 0) {
        *ret = NULL;
        return -ENOMEM;
    }
    return 0;
}

static const char *param_value(const char *const *params, const char *name, size_t len)
{
    for (size_t i = 0; params && params[i]; i++)
        if (strncmp(params[i], name, len) == 0 && params[i][len] == '=')
            return params[i] + len + 1;
    return NULL;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char) c) || c == '_';
}

int
git_expand(const char *s, const char *const *params, char **ret)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(BOUND_PARAM_VALUE_BYTES * 2);
    int r = 0;

    for (const char *p = s; *p && r >= 0;) {
        const char *name = NULL, *end = NULL, *v;
        size_t len = 0;

        if (p[0] == '$' && p[1] == '{' && (end = strchr(p + 2, '}'))) {
            name = p + 2;
            len = (size_t) (end - name);
            end++;
        } else if (p[0] == '$' && is_name_char(p[1])) {
            name = p + 1;
            for (end = name; is_name_char(*end); end++)
                ;
            len = (size_t) (end - name);
        }
        if (name && len && (v = param_value(params, name, len))) {
            r = buf_puts(&b, v);
            p = end;
        } else
            r = buf_putc(&b, *p++);
    }
    if (r < 0)
        return r == -E2BIG ? -E2BIG : -ENOMEM;
    *ret = buf_detach(&b);
    return *ret ? 0 : -ENOMEM;
}

/* `s` with * and ** as the git plugin reads them, everything else literal, as ERE. */
static int wildcard_ere(struct buf *b, const char *s)
{
    int r = 0;

    for (const char *p = s; *p && r >= 0; p++) {
        if (p[0] == '*' && p[1] == '*') {
            r = buf_puts(b, ".*");
            p++;
        } else if (*p == '*')
            r = buf_puts(b, "[^/]*");
        else if (strchr(".[]{}()+?^$|\\", *p)) {
            r = buf_putc(b, '\\');
            if (r >= 0)
                r = buf_putc(b, *p);
        } else
            r = buf_putc(b, *p);
    }
    return r;
}

static bool is_hex_revision(const char *s)
{
    size_t n = strlen(s);

    if (n < 7 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char) s[i]))
            return false;
    return true;
}

int
git_spec_pattern(const char *spec, const char *remote, char **ret)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(64 * 1024);
    const char *name = spec;
    int r;

    /* BranchSpec.getPattern: ":REGEX" is a regular expression as it is */
    if (name[0] == ':' && name[1])
        r = buf_puts(&b, name + 1);
    else if (startswith(name, "refs/tags/")) {
        r = buf_puts(&b, "tag:");
        if (r >= 0)
            r = wildcard_ere(&b, name);
    } else {
        _cleanup_free_ char *qualified = NULL;

        if (startswith(name, "refs/remotes/"))
            name += strlen("refs/remotes/");
        else if (startswith(name, "refs/heads/")) {
            if (asprintf(&qualified, "%s/%s", remote, name + strlen("refs/heads/")) < 0)
                return -ENOMEM;
            name = qualified;
        }
        /*
         * an unqualified name matches that branch of any remote; a name
         * with a '/' and no wildcard may also be a branch of a remote
         * (DefaultBuildChooser qualifies it with each remote's name)
         */
        if (!strstr(name, "**") && !strchr(name, '/'))
            r = buf_puts(&b, "(refs/heads/|refs/remotes/[^/]+/|remotes/[^/]+/|[^/]+/)?");
        else if (!strchr(name, '*'))
            r = buf_puts(&b, "(refs/heads/|refs/remotes/|remotes/|refs/remotes/[^/]+/)?");
        else
            r = buf_puts(&b, "(refs/heads/|refs/remotes/|remotes/)?");
        if (r >= 0)
            r = wildcard_ere(&b, name);
    }
    if (r < 0)
        return -ENOMEM;
    /* hex digits may name a commit, and else a branch: the checkout tries both, in order */
    if (is_hex_revision(spec)) {
        if (asprintf(ret, "sha:%s\n%s", spec, buf_str(&b)) < 0) {
            *ret = NULL;
            return -ENOMEM;
        }
        return 0;
    }
    *ret = buf_detach(&b);
    return *ret ? 0 : -ENOMEM;
}

int
git_checkout_vars(const struct git_scm *g, const char *const *params, const char *sha1,
                  const char *previous, const char *report_path,
                  int (*add)(void *userdata, const char *name, const char *value), void *userdata)
{
    _cleanup_(buf_releasep) struct buf specs = BUF_INIT(BOUND_GIT_BRANCHES * 128 * 1024);
    char key[64], num[16];
    int r;

    snprintf(num, sizeof num, "%zu", g->n_remotes);
    r = add(userdata, "STEWARD_GIT_REMOTES", num);
    for (size_t i = 0; i < g->n_remotes && r >= 0; i++) {
        snprintf(key, sizeof key, "STEWARD_GIT_NAME_%zu", i + 1);
        r = add(userdata, key, g->remotes[i].name);
        snprintf(key, sizeof key, "STEWARD_GIT_URL_%zu", i + 1);
        if (r >= 0)
            r = add(userdata, key, g->remotes[i].url);
        snprintf(key, sizeof key, "STEWARD_GIT_REFSPEC_%zu", i + 1);
        if (r >= 0)
            r = add(userdata, key, g->remotes[i].refspec);
    }
    for (size_t i = 0; i < g->n_branches && r >= 0; i++) {
        _cleanup_free_ char *expanded = NULL, *pattern = NULL;

        r = git_expand(g->branches[i], params, &expanded);
        /* a newline (from a parameter) would make one pattern two */
        if (r >= 0)
            expanded[strcspn(expanded, "\n")] = '\0';
        if (r >= 0)
            r = git_spec_pattern(expanded, g->remotes[0].name, &pattern);
        if (r >= 0)
            r = buf_printf(&specs, "%s%s", i ? "\n" : "", pattern) < 0 ? -ENOMEM : 0;
    }
    if (r >= 0)
        r = add(userdata, "STEWARD_GIT_SPECS", buf_str(&specs));
    if (r >= 0)
        r = add(userdata, "STEWARD_GIT_SHA1", sha1 ? sha1 : "");
    if (r >= 0)
        r = add(userdata, "STEWARD_GIT_PREVIOUS", previous ? previous : "");
    if (r >= 0)
        r = add(userdata, "STEWARD_GIT_OUT", report_path);
    if (r >= 0)
        r = add(userdata, "STEWARD_GIT_DIR", g->relative_dir ? g->relative_dir : ".");
    if (r >= 0)
        r = add(userdata, "STEWARD_GIT_REFERENCE", g->reference ? g->reference : "");
    snprintf(num, sizeof num, "%d", g->depth > 0 ? g->depth : 1);
    if (r >= 0)
        r = add(userdata, "STEWARD_GIT_DEPTH", num);
    if (r >= 0)
        r = add(userdata, "STEWARD_GIT_LOCAL_BRANCH", g->local_branch ? g->local_branch : "");
    if (r >= 0)
        r = add(userdata, "STEWARD_GIT_USER_NAME", g->user_name ? g->user_name : "");
    if (r >= 0)
        r = add(userdata, "STEWARD_GIT_USER_EMAIL", g->user_email ? g->user_email : "");
    return r;
}

/* ---- the report ---- */

int
git_report_take(const char *path, char **ret_text, size_t *ret_len)
{
    _cleanup_close_ int fd = -1;
    _cleanup_free_ char *text = NULL;
    size_t max = BOUND_GIT_CHANGELOG_BYTES + 4096, len = 0;
    struct stat st;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
        return -EINVAL;
    if ((size_t) st.st_size > max)
        return -E2BIG;
    text = malloc((size_t) st.st_size + 1);
    if (!text)
        return -ENOMEM;
    while (len < (size_t) st.st_size) {
        ssize_t n = read(fd, text + len, (size_t) st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        len += (size_t) n;
    }
    text[len] = '\0';
    (void) unlink(path);
    *ret_text = TAKE_PTR(text);
    *ret_len = len;
    return 0;
}

int
git_report_finish(const struct git_scm *g, const char *text, size_t len, char **ret,
                  size_t *ret_len)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(BOUND_GIT_CHANGELOG_BYTES * 2);
    int r = 0;

    for (size_t i = 0; i < g->n_remotes; i++)
        r |= buf_printf(&b, "remote %s\n", g->remotes[i].url);
    if (g->scm_name)
        r |= buf_printf(&b, "scm %s\n", g->scm_name);
    if (g->author_in_changelog)
        r |= buf_puts(&b, "authors yes\n");
    r |= buf_append(&b, text, len);
    if (r < 0)
        return -ENOMEM;
    *ret_len = b.len;
    *ret = buf_detach(&b);
    return *ret ? 0 : -ENOMEM;
}

static bool is_sha(const char *s)
{
    if (strlen(s) != 40)
        return false;
    for (size_t i = 0; i < 40; i++)
        if (!isxdigit((unsigned char) s[i]))
            return false;
    return true;
}

/* Splits `s` at each `sep` into at most `max` fields; returns how many. */
static size_t split(char *s, char sep, char **fields, size_t max)
{
    size_t n = 0;

    while (n < max) {
        char *p = strchr(s, sep);

        fields[n++] = s;
        if (!p)
            break;
        *p = '\0';
        s = p + 1;
    }
    return n;
}

static const char *edit_type(const char *status)
{
    switch (status[0]) {
    case 'A':
        return "add";
    case 'D':
        return "delete";
    default:
        return "edit";
    }
}

static int parse_change(char *rec, bool author, struct git_change *c)
{
    char *f[11], *line;
    size_t n = split(rec, US[0], f, ELEMENTSOF(f)), cap = 0;

    if (n != 11 || !is_sha(f[0]))
        return -EINVAL;
    c->commit = f[0];
    c->author = author ? f[1] : f[5];
    c->author_email = author ? f[2] : f[6];
    c->timestamp_ms = strtoll(author ? f[3] : f[7], NULL, 10) * 1000;
    c->date = author ? f[4] : f[8];
    c->comment = f[9];
    c->msg = strndup(f[9], strcspn(f[9], "\n"));
    if (!c->msg)
        return -ENOMEM;
    /* --name-status: "M\tpath" lines */
    for (char *p = f[10]; p && *p; p = line) {
        char *tab, *nl = strchr(p, '\n');

        line = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        tab = strchr(p, '\t');
        if (!tab || tab == p)
            continue;
        *tab = '\0';
        if (c->n_paths == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct git_path *np = reallocarray(c->paths, ncap, sizeof *np);
            if (!np)
                return -ENOMEM;
            c->paths = np;
            cap = ncap;
        }
        c->paths[c->n_paths++] = (struct git_path){ .edit = edit_type(p), .file = tab + 1 };
    }
    return 0;
}

static void free_changes(struct git_change *changes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(changes[i].paths);
        free((char *) changes[i].msg);
    }
    free(changes);
}

void
git_build_release(struct git_build *b)
{
    free_changes(b->changes, b->n_changes);
    free(b->text);
    *b = (struct git_build){ 0 };
}

int
git_build_parse(char *text, size_t len, struct git_build *ret)
{
    struct git_build b = { .scm_name = "" };
    bool authors = false;
    char *p = text, *changes;
    size_t n = 0;
    int r = 0;

    if (strlen(text) != len)
        return -EINVAL;
    changes = strstr(text, RS);
    if (changes)
        *changes++ = '\0';
    /* the header lines */
    while (p && *p) {
        char *nl = strchr(p, '\n'), *sp;

        if (nl)
            *nl = '\0';
        sp = strchr(p, ' ');
        if (sp) {
            *sp = '\0';
            if (streq(p, "commit"))
                b.sha = sp + 1;
            else if (streq(p, "branch"))
                b.branch = sp + 1;
            else if (streq(p, "changelog"))
                b.changelog = streq(sp + 1, "yes");
            else if (streq(p, "authors"))
                authors = streq(sp + 1, "yes");
            else if (streq(p, "scm"))
                b.scm_name = sp + 1;
            else if (streq(p, "remote") && b.n_remotes < ELEMENTSOF(b.remote_urls))
                b.remote_urls[b.n_remotes++] = sp + 1;
        }
        p = nl ? nl + 1 : NULL;
    }
    if (!b.sha || !is_sha(b.sha) || !b.branch || !*b.branch)
        return -EINVAL;
    for (char *c = changes; c; c = strstr(c, RS) ? strstr(c, RS) + 1 : NULL)
        n++;
    if (n > BOUND_GIT_CHANGES)
        return -EINVAL;
    b.changes = calloc(n ? n : 1, sizeof *b.changes);
    if (!b.changes)
        return -ENOMEM;
    for (char *c = changes; c && r >= 0;) {
        char *next = strstr(c, RS);

        if (next)
            *next++ = '\0';
        r = parse_change(c, authors, &b.changes[b.n_changes]);
        b.n_changes++;
        c = next;
    }
    if (r < 0) {
        free_changes(b.changes, b.n_changes);
        return r;
    }
    b.text = text;
    *ret = b;
    return 0;
}

int
git_build_load(const char *build_dir, struct git_build *ret)
{
    _cleanup_free_ char *path = path_join(build_dir, GIT_REPORT_FILE);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r;

    if (!path)
        return -ENOMEM;
    r = fs_read_all(path, BOUND_GIT_CHANGELOG_BYTES + 64 * 1024, &text, &len);
    if (r < 0)
        return r;
    r = git_build_parse(text, len, ret);
    if (r < 0)
        return r;
    TAKE_PTR(text);
    return 0;
}

int
git_build_head(const char *build_dir, char sha[41], char *branch, size_t branch_size)
{
    _cleanup_free_ char *path = path_join(build_dir, GIT_REPORT_FILE);
    _cleanup_close_ int fd = -1;
    char head[4096];
    ssize_t n;
    bool got_sha = false, got_branch = false;

    if (!path)
        return -ENOMEM;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = pread(fd, head, sizeof head - 1, 0);
    if (n < 0)
        return -errno;
    head[n] = '\0';
    head[strcspn(head, RS)] = '\0';
    for (char *p = head, *nl; p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (startswith(p, "commit ") && is_sha(p + 7)) {
            memcpy(sha, p + 7, 41);
            got_sha = true;
        } else if (startswith(p, "branch ") && strlen(p + 7) < branch_size) {
            strcpy(branch, p + 7);
            got_branch = true;
        }
    }
    return got_sha && got_branch ? 0 : -EINVAL;
}

/*
 * A repository URL as the git plugin compares them (GitStatus.looselyMatches):
 * the host without a leading "ssh." and the path without leading or
 * trailing slashes, a trailing ".git", a leading "vN/" or a "/_git/";
 * scheme, user and port left out. -EINVAL for what is not a URL or path.
 */
static int loose_url(const char *url, char **ret_host, char **ret_path)
{
    _cleanup_free_ char *host = NULL, *path = NULL;
    const char *p = url, *slash, *at, *colon;
    size_t n;

    if (!*url || strpbrk(url, " \t\r\n"))
        return -EINVAL;
    if (strstr(url, "://")) {
        p = strstr(url, "://") + 3;
        slash = strchrnul(p, '/');
        at = memchr(p, '@', (size_t) (slash - p));
        if (at)
            p = at + 1;
        colon = memchr(p, ':', (size_t) (slash - p));
        host = strndup(p, (size_t) ((colon ? colon : slash) - p));
        path = strdup(slash);
    } else if ((colon = strchr(url, ':')) && !memchr(url, '/', (size_t) (colon - url))) {
        /* scp-like: [user@]host:path */
        at = memchr(url, '@', (size_t) (colon - url));
        p = at ? at + 1 : url;
        host = strndup(p, (size_t) (colon - p));
        path = strdup(colon + 1);
    } else {
        host = strdup("");
        path = strdup(url);
    }
    if (!host || !path)
        return -ENOMEM;
    for (char *c = host; *c; c++)
        *c = (char) tolower((unsigned char) *c);
    if (startswith(host, "ssh."))
        memmove(host, host + 4, strlen(host + 4) + 1);
    /* the path's decorations */
    n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        path[--n] = '\0';
    if (n >= 4 && streq(path + n - 4, ".git"))
        path[n -= 4] = '\0';
    {
        char *q = path;
        while (*q == '/')
            q++;
        if (q[0] == 'v' && isdigit((unsigned char) q[1])) {
            char *r = q + 1;
            while (isdigit((unsigned char) *r))
                r++;
            if (*r == '/')
                q = r + 1;
        }
        memmove(path, q, strlen(q) + 1);
    }
    {
        char *g = strstr(path, "/_git/");
        if (g)
            memmove(g + 1, g + 6, strlen(g + 6) + 1);
    }
    *ret_host = TAKE_PTR(host);
    *ret_path = TAKE_PTR(path);
    return 0;
}

bool
git_url_matches(const char *a, const char *b)
{
    _cleanup_free_ char *ha = NULL, *pa = NULL, *hb = NULL, *pb = NULL;

    if (loose_url(a, &ha, &pa) < 0 || loose_url(b, &hb, &pb) < 0)
        return false;
    return streq(ha, hb) && streq(pa, pb);
}

int
git_github_name(const char *url, char **ret_host, char **ret_owner, char **ret_repo)
{
    _cleanup_free_ char *host = NULL, *rest = NULL;
    const char *p, *slash;
    char *owner_end, *repo;
    size_t n;

    if (!url || strpbrk(url, " \t\r\n"))
        return -EINVAL;
    if (startswith(url, "git@")) {
        /* git@host:owner/repo */
        const char *colon = strchr(url + 4, ':');
        if (!colon || colon == url + 4)
            return -EINVAL;
        host = strndup(url + 4, (size_t) (colon - url - 4));
        rest = strdup(colon + 1);
    } else {
        if (startswith(url, "https://"))
            p = url + 8;
        else if (startswith(url, "http://") || startswith(url, "ssh://"))
            p = strchr(url, '/') + 2;
        else if (startswith(url, "git://"))
            p = url + 6;
        else if (startswith(url, "git+ssh://"))
            p = url + 10;
        else
            return -EINVAL;
        slash = strchr(p, '/');
        if (!slash)
            return -EINVAL;
        {
            const char *at = memchr(p, '@', (size_t) (slash - p));
            const char *colon;
            if (at)
                p = at + 1;
            colon = memchr(p, ':', (size_t) (slash - p));
            host = strndup(p, (size_t) ((colon ? colon : slash) - p));
        }
        rest = strdup(slash + 1);
    }
    if (!host || !rest)
        return -ENOMEM;
    n = strlen(rest);
    if (n > 0 && rest[n - 1] == '/')
        rest[--n] = '\0';
    if (n >= 4 && streq(rest + n - 4, ".git"))
        rest[n -= 4] = '\0';
    owner_end = strchr(rest, '/');
    if (!*host || !owner_end || owner_end == rest || !owner_end[1] || strchr(owner_end + 1, '/'))
        return -EINVAL;
    *owner_end = '\0';
    repo = owner_end + 1;
    *ret_owner = strdup(rest);
    *ret_repo = strdup(repo);
    if (!*ret_owner || !*ret_repo) {
        free(*ret_owner);
        free(*ret_repo);
        return -ENOMEM;
    }
    *ret_host = TAKE_PTR(host);
    return 0;
}

bool
git_github_same(const char *a, const char *b)
{
    _cleanup_free_ char *ha = NULL, *oa = NULL, *ra = NULL, *hb = NULL, *ob = NULL, *rb = NULL;

    if (git_github_name(a, &ha, &oa, &ra) < 0 || git_github_name(b, &hb, &ob, &rb) < 0)
        return false;
    return streq(ha, hb) && streq(oa, ob) && streq(ra, rb);
}
