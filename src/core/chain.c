/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/chain.h"
#include "core/params.h"
#include "util/bounds.h"
#include "util/macro.h"
#include "util/strutil.h"

/* jobs a blockage search looks at, at most: the graph may be large, the queue must go on */
#define CHAIN_VISIT_MAX 1000

/* ---- the graph ---- */

/* Whether `from` triggers `to`: to is in from's triggers, or to's reverse trigger names from. */
static bool
edge(const struct job *from, const struct job *to)
{
    return jobcfg_lines_have(from->cfg->chain_down, to->name) ||
           jobcfg_lines_have(to->cfg->chain_up, from->name);
}

struct neighbours {
    const struct job *job;
    bool downstream;
    struct job **list;
    size_t n;
};

static int
add_neighbour(void *userdata, struct job *other)
{
    struct neighbours *nb = userdata;
    struct job **v;

    if (streq(other->name, nb->job->name) ||
        !(nb->downstream ? edge(nb->job, other) : edge(other, nb->job)))
        return 0;
    v = reallocarray(nb->list, nb->n + 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    nb->list = v;
    nb->list[nb->n++] = job_ref(other);
    return 0;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp((*(struct job *const *) a)->name, (*(struct job *const *) b)->name);
}

int
chain_neighbours(struct jobs *jobs, const struct job *job, bool downstream,
                 struct job ***ret_list, size_t *ret_n)
{
    struct neighbours nb = { .job = job, .downstream = downstream };
    int r;

    *ret_list = NULL;
    *ret_n = 0;
    /* one pass without references: most jobs are in no chain */
    r = jobs_each(jobs, add_neighbour, &nb);
    if (r < 0) {
        jobs_list_free(nb.list, nb.n);
        return r;
    }
    if (nb.n > 1)
        qsort(nb.list, nb.n, sizeof *nb.list, by_name);
    *ret_list = nb.list;
    *ret_n = nb.n;
    return 0;
}

/*
 * A breadth-first walk from `job` along the edges one way, over the list
 * of all jobs; the first job found building is the answer.
 *
 * NEEDSWORK: each step looks at every job (the reverse edges are in the
 * other jobs' summaries); an index of the graph in the registry would make
 * it a walk of the edges only. Only jobs with a blockBuildWhen... flag pay
 * it, while an item of theirs waits.
 */
static char *
find_building(struct job **list, size_t n, const struct job *job, bool upstream,
              bool (*building)(void *userdata, const char *name), void *userdata)
{
    size_t *queue = calloc(n ? n : 1, sizeof *queue), head = 0, tail = 0;
    bool *seen = calloc(n ? n : 1, sizeof *seen);
    char *found = NULL;
    size_t visited = 0;

    if (!queue || !seen)
        goto out;
    /* the start: the jobs next to `job` */
    for (size_t i = 0; i < n; i++)
        if (!streq(list[i]->name, job->name) &&
            (upstream ? edge(list[i], job) : edge(job, list[i]))) {
            seen[i] = true;
            queue[tail++] = i;
        }
    while (head < tail && !found && visited++ < CHAIN_VISIT_MAX) {
        const struct job *at = list[queue[head++]];

        if (building(userdata, at->name)) {
            found = strdup(at->name);
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (!seen[i] && !streq(list[i]->name, job->name) &&
                (upstream ? edge(list[i], at) : edge(at, list[i]))) {
                seen[i] = true;
                queue[tail++] = i;
            }
    }
out:
    free(queue);
    free(seen);
    return found;
}

bool
chain_blocked(struct jobs *jobs, const struct job *job,
              bool (*building)(void *userdata, const char *name), void *userdata,
              char **ret_name, bool *ret_upstream)
{
    struct job **list = NULL;
    size_t n = 0;
    char *name = NULL;

    if (!job->cfg->block_downstream && !job->cfg->block_upstream)
        return false;
    if (jobs_list(jobs, &list, &n) < 0)
        return false;
    /* Jenkins looks downstream first */
    if (job->cfg->block_downstream)
        name = find_building(list, n, job, false, building, userdata);
    if (name)
        *ret_upstream = false;
    else if (job->cfg->block_upstream) {
        name = find_building(list, n, job, true, building, userdata);
        *ret_upstream = true;
    }
    jobs_list_free(list, n);
    if (!name)
        return false;
    *ret_name = name;
    return true;
}

char *
chain_why(const char *name, bool upstream)
{
    return strdup_printf("%s project %s is already building.", upstream ? "Upstream" : "Downstream",
                         name);
}

/* ---- text: properties, ${NAME}, workspace files ---- */

static const char *
env_lookup(char *const *env, const char *name, size_t len)
{
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
            return env[i] + len + 1;
    return NULL;
}

static bool
name_char(char c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (!first && c >= '0' && c <= '9');
}

char *
chain_expand(const char *s, char *const *env, size_t max)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(max);
    int r = 0;

    while (*s && r >= 0) {
        const char *name, *value;
        size_t len = 0, skip;

        if (*s != '$') {
            r = buf_putc(&b, *s++);
            continue;
        }
        if (s[1] == '{') {
            name = s + 2;
            while (name[len] && name[len] != '}')
                len++;
            skip = 2 + len + 1;
            if (!name[len])
                len = 0;
        } else {
            name = s + 1;
            while (name_char(name[len], len == 0))
                len++;
            skip = 1 + len;
        }
        value = len ? env_lookup(env, name, len) : NULL;
        if (value) {
            r = buf_puts(&b, value);
            s += skip;
        } else
            r = buf_putc(&b, *s++);
    }
    if (r < 0)
        return NULL;
    return b.ptr ? buf_detach(&b) : strdup("");
}

static int
put_utf8(struct buf *b, unsigned cp)
{
    char out[4];
    size_t n;

    if (cp < 0x80) {
        out[0] = (char) cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char) (0xc0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3f));
        n = 2;
    } else {
        out[0] = (char) (0xe0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char) (0x80 | (cp & 0x3f));
        n = 3;
    }
    return buf_append(b, out, n);
}

/*
 * One logical line of properties text (continuations joined, escapes
 * decoded) into `key` and `value`. *s moves to the next line.
 */
static int
next_pair(const char **s, struct buf *key, struct buf *value, bool *ret_any)
{
    const char *p = *s;
    struct buf *into = key;
    bool sep_seen = false, in_value_lead = false;
    int r = 0;

    buf_clear(key);
    buf_clear(value);
    *ret_any = false;
    /* leading blanks, blank lines and comments */
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\f')
            p++;
        if (*p == '#' || *p == '!') {
            while (*p && *p != '\n' && *p != '\r')
                p++;
        }
        if (*p == '\r' || *p == '\n') {
            p++;
            continue;
        }
        break;
    }
    if (!*p) {
        *s = p;
        return 0;
    }
    *ret_any = true;
    while (*p && *p != '\n' && *p != '\r' && r >= 0) {
        char c = *p++;

        if (in_value_lead) {
            if (c == ' ' || c == '\t' || c == '\f')
                continue;
            if (!sep_seen && (c == '=' || c == ':')) {
                sep_seen = true;
                continue;
            }
            in_value_lead = false;
        }
        if (c == '\\') {
            char e = *p;
            if (!e)
                break;
            p++;
            if (e == '\r' || e == '\n') {
                /* a continuation: the next line's leading blanks go */
                if (e == '\r' && *p == '\n')
                    p++;
                while (*p == ' ' || *p == '\t' || *p == '\f')
                    p++;
                continue;
            }
            if (e == 'u') {
                unsigned cp = 0;
                int k;
                for (k = 0; k < 4 && isxdigit((unsigned char) p[k]); k++)
                    cp = cp * 16 + (unsigned) (isdigit((unsigned char) p[k])
                                                   ? p[k] - '0'
                                                   : (tolower((unsigned char) p[k]) - 'a' + 10));
                if (k == 4) {
                    p += 4;
                    r = put_utf8(into, cp);
                    continue;
                }
            }
            r = buf_putc(into, e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r'
                                      : e == 'f' ? '\f' : e);
            continue;
        }
        if (into == key && (c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f')) {
            into = value;
            in_value_lead = true;
            sep_seen = c == '=' || c == ':';
            continue;
        }
        r = buf_putc(into, c);
    }
    *s = p;
    return r < 0 ? -ENOMEM : 0;
}

int
chain_parse_properties(const char *text, int (*fn)(void *userdata, const char *key,
                                                       const char *value),
                       void *userdata)
{
    _cleanup_(buf_releasep) struct buf key = BUF_INIT(BOUND_CHAIN_FILE_BYTES * 2);
    _cleanup_(buf_releasep) struct buf value = BUF_INIT(BOUND_CHAIN_FILE_BYTES * 2);
    const char *p = text;

    for (;;) {
        bool any;
        int r = next_pair(&p, &key, &value, &any);

        if (r < 0)
            return r;
        if (!any)
            return 0;
        r = fn(userdata, buf_str(&key), buf_str(&value));
        if (r < 0)
            return r;
    }
}

int
chain_read_workspace_file(const char *workspace, const char *rel, size_t max, char **ret,
                          size_t *ret_len)
{
    _cleanup_free_ char *path = strdup(rel);
    _cleanup_free_ char *data = NULL;
    char *save = NULL, *part, *next;
    int dfd, fd, r = 0;
    struct stat st;
    size_t len = 0;

    if (!path)
        return -ENOMEM;
    if (rel[0] == '/' || !rel[0])
        return -EPERM;
    dfd = open(workspace, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    /* one component at a time, none a link: nothing leads out of the workspace */
    part = strtok_r(path, "/", &save);
    while (part) {
        next = strtok_r(NULL, "/", &save);
        if (streq(part, "..")) {
            close(dfd);
            return -EPERM;
        }
        if (streq(part, ".")) {
            part = next;
            continue;
        }
        fd = openat(dfd, part, (next ? O_DIRECTORY : O_NONBLOCK) | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        r = fd < 0 ? -errno : 0;
        /* O_DIRECTORY says ENOTDIR for a link to a directory: it is a link all the same */
        if (r == -ENOTDIR && next)
            r = fstatat(dfd, part, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) ? -ELOOP
                                                                                        : -ENOENT;
        close(dfd);
        if (r < 0)
            return r;
        dfd = fd;
        part = next;
    }
    fd = dfd;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    }
    if ((size_t) st.st_size > max) {
        close(fd);
        return -EFBIG;
    }
    data = malloc(max + 1);
    if (!data) {
        close(fd);
        return -ENOMEM;
    }
    /* the file may grow meanwhile: never past max */
    while (len <= max) {
        ssize_t got = read(fd, data + len, max + 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = -errno;
            break;
        }
        if (got == 0)
            break;
        len += (size_t) got;
    }
    close(fd);
    if (r < 0)
        return r;
    if (len > max)
        return -EFBIG;
    data[len] = '\0';
    *ret = TAKE_PTR(data);
    if (ret_len)
        *ret_len = len;
    return 0;
}

/* ---- what a build triggers ---- */

/* Name=value pairs, the later ones winning: what the parameter sources give. */
struct pairs {
    char **names, **values;
    size_t n;
};

static void
pairs_release(struct pairs *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->names[i]);
        free(p->values[i]);
    }
    free(p->names);
    free(p->values);
    *p = (struct pairs){ 0 };
}

static int
pairs_set(void *userdata, const char *name, const char *value)
{
    struct pairs *p = userdata;
    char **nv, **vv, *n, *v;

    if (!*name)
        return 0;
    for (size_t i = 0; i < p->n; i++)
        if (streq(p->names[i], name)) {
            v = strdup(value);
            if (!v)
                return -ENOMEM;
            free(p->values[i]);
            p->values[i] = v;
            return 0;
        }
    if (p->n >= BOUND_FORM_FIELDS)
        return 0;
    nv = reallocarray(p->names, p->n + 1, sizeof *nv);
    if (nv)
        p->names = nv;
    vv = reallocarray(p->values, p->n + 1, sizeof *vv);
    if (vv)
        p->values = vv;
    n = strdup(name);
    v = strdup(value);
    if (!nv || !vv || !n || !v) {
        free(n);
        free(v);
        return -ENOMEM;
    }
    p->names[p->n] = n;
    p->values[p->n++] = v;
    return 0;
}

static const char *
pairs_given(void *userdata, const struct param_def *def)
{
    const struct pairs *p = userdata;

    for (size_t i = 0; p && i < p->n; i++)
        if (streq(p->names[i], def->name))
            return p->values[i];
    return NULL;
}

/*
 * The same, but never for a file parameter: a chain passes no file (the
 * upstream's upload is gone once it is in its workspace, and a value
 * naming a kept upload by its hash must not reach another job's).
 */
static const char *
pairs_given_no_files(void *userdata, const struct param_def *def)
{
    return def->type == PARAM_FILE ? NULL : pairs_given(userdata, def);
}

/* The upstream jobs of the build's chain: the jobs of its upstream causes and theirs. */
static int
ancestors_of(const struct chain_ended *b, struct buf *out)
{
    int r = 0;

    for (size_t i = 0; b->row && i < b->row->n_causes && r >= 0; i++) {
        const struct cause *c = &b->row->causes[i];
        const char *p;

        if (c->kind != CAUSE_UPSTREAM || !c->addr)
            continue;
        if (!jobcfg_lines_have(buf_str(out), c->addr))
            r = buf_printf(out, "%s\n", c->addr);
        /* the note's first line is the build number */
        p = c->note ? strchr(c->note, '\n') : NULL;
        while (p && *++p && r >= 0) {
            const char *nl = strchr(p, '\n');
            _cleanup_free_ char *name = strndup(p, nl ? (size_t) (nl - p) : strlen(p));
            if (!name)
                return -ENOMEM;
            if (*name && !jobcfg_lines_have(buf_str(out), name))
                r = buf_printf(out, "%s\n", name);
            p = nl;
        }
    }
    return r;
}

struct planner {
    struct jobs *jobs;
    const struct chain_ended *b;
    struct chain_plan *plan;
    const char *ancestors;   /* lines */
    size_t depth;            /* jobs in the chain, this one included */
    bool cut;                /* the chain is at its longest: nothing is triggered */
    bool cut_said;
};

static int
log_line(struct planner *pl, const char *fmt, ...) _printf_(2, 3);

static int
log_line(struct planner *pl, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = buf_vprintf(&pl->plan->log, fmt, ap);
    va_end(ap);
    return r < 0 ? r : buf_putc(&pl->plan->log, '\n');
}

/*
 * Adds a request for job `name` with the values in `given` (NULL: the
 * defaults); `dedupe` drops a second request of the same job with the
 * defaults. Refusals are logged, not returned.
 */
static int
request(struct planner *pl, const char *name, const struct pairs *given, bool dedupe)
{
    _cleanup_(job_unrefp) struct job *job = NULL;
    struct chain_plan *plan = pl->plan;
    struct param_refusal refusal = { 0 };
    struct chain_request *v, req = { 0 };
    int r;

    if (pl->cut && pl->cut_said)
        return 0;
    if (pl->cut) {
        pl->cut_said = true;
        return log_line(pl, "This build ends a chain of %zu jobs, the most Steward runs: no "
                            "downstream build is triggered", pl->depth);
    }
    if (streq(name, pl->b->job) || jobcfg_lines_have(pl->ancestors, name))
        return log_line(pl, "%s is upstream of this build already: not triggered again, which "
                            "would make the chain loop", name);
    job = jobs_get(pl->jobs, name);
    if (!job)
        return log_line(pl, "No such job %s: not triggered", name);
    if (job->cfg->disabled)
        return log_line(pl, "%s is disabled. Triggering skipped", name);
    /* a plain trigger and a reverse one of the same job: one request, as in Jenkins' graph */
    for (size_t i = 0; dedupe && i < plan->n; i++)
        if (plan->reqs[i].defaults && streq(plan->reqs[i].job, name))
            return 0;
    req.params = calloc(job->cfg->n_params ? job->cfg->n_params : 1, sizeof *req.params);
    req.job = strdup(name);
    if (!req.params || !req.job) {
        free(req.params);
        free(req.job);
        return -ENOMEM;
    }
    for (size_t i = 0; given && i < job->cfg->n_params; i++)
        if (job->cfg->params[i].type == PARAM_FILE && pairs_given((void *) given, &job->cfg->params[i]) &&
            (r = log_line(pl, "[parameterized-trigger] %s: file parameter %s is not passed "
                              "(Steward passes no file parameters down a chain)",
                          name, job->cfg->params[i].name)) < 0) {
            free(req.params);
            free(req.job);
            return r;
        }
    r = params_resolve(job->cfg, pairs_given_no_files, (void *) given, req.params, &refusal);
    if (r == -EINVAL) {
        r = log_line(pl, "Cannot trigger %s: %s: %s. %s", name, refusal.title,
                     refusal.presented ? refusal.presented : "", refusal.fix ? refusal.fix : "");
        param_refusal_release(&refusal);
        free(req.params);
        free(req.job);
        return r;
    }
    if (r < 0) {
        free(req.params);
        free(req.job);
        return r;
    }
    req.n_params = job->cfg->n_params;
    req.defaults = !given;
    /* the names are the summary's, which goes with `job`: the request keeps copies */
    for (size_t i = 0; i < req.n_params; i++)
        if (!(req.params[i].name = strdup(req.params[i].name))) {
            for (size_t k = 0; k < i; k++)
                free(req.params[k].name);
            params_free(req.params, req.n_params);
            free(req.params);
            free(req.job);
            return -ENOMEM;
        }
    v = reallocarray(plan->reqs, plan->n + 1, sizeof *v);
    if (!v) {
        for (size_t k = 0; k < req.n_params; k++)
            free(req.params[k].name);
        params_free(req.params, req.n_params);
        free(req.params);
        free(req.job);
        return -ENOMEM;
    }
    plan->reqs = v;
    plan->reqs[plan->n++] = req;
    return log_line(pl, "Triggering a new build of %s", name);
}

/* Each name of a comma list. */
static int
each_name(struct planner *pl, const char *list, const struct pairs *given, bool dedupe)
{
    _cleanup_free_ char *copy = strdup(list ? list : "");
    char *save = NULL;
    int r = 0;

    if (!copy)
        return -ENOMEM;
    for (char *t = strtok_r(copy, ",", &save); t && r >= 0; t = strtok_r(NULL, ",", &save)) {
        char *e = t + strlen(t);
        while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
            t++;
        while (e > t && strchr(" \t\r\n", e[-1]))
            *--e = '\0';
        if (*t)
            r = request(pl, t, given, dedupe);
    }
    return r;
}

/* The parameter sources of a parameterized trigger; false when it must not fire. */
static int
gather(struct planner *pl, const struct chain_trigger *t, struct pairs *p, bool *ret_fire)
{
    const struct chain_ended *b = pl->b;
    int r = 0;

    *ret_fire = true;
    if (t->current_params)
        for (size_t i = 0; b->row && i < b->row->n_params && r >= 0; i++)
            r = b->row->params[i].type == PARAM_FILE
                    ? log_line(pl, "[parameterized-trigger] The current build's file parameter "
                                   "%s is not passed (Steward passes no file parameters down a "
                                   "chain)", b->row->params[i].name)
                    : pairs_set(p, b->row->params[i].name, b->row->params[i].value);
    if (r >= 0 && t->predefined) {
        _cleanup_free_ char *text = chain_expand(t->predefined, b->env, BOUND_CHAIN_FILE_BYTES * 2);
        if (!text) {
            *ret_fire = false;
            return log_line(pl, "[parameterized-trigger] The predefined parameters are larger "
                                "than 2 MiB once ${NAME} are expanded: downstream builds will "
                                "not be triggered.");
        }
        r = chain_parse_properties(text, pairs_set, p);
    }
    if (r >= 0 && t->prop_files) {
        _cleanup_free_ char *list = chain_expand(t->prop_files, b->env, BOUND_CHAIN_FILE_BYTES);
        char *save = NULL;

        if (!list)
            return -ENOMEM;
        for (char *f = strtok_r(list, ",", &save); f && r >= 0; f = strtok_r(NULL, ",", &save)) {
            _cleanup_free_ char *data = NULL, *text = NULL;
            char *e = f + strlen(f);
            int rr;

            while (*f == ' ' || *f == '\t')
                f++;
            while (e > f && strchr(" \t\r\n", e[-1]))
                *--e = '\0';
            if (!*f)
                continue;
            rr = b->workspace ? chain_read_workspace_file(b->workspace, f, BOUND_CHAIN_FILE_BYTES,
                                                          &data, NULL)
                              : -ENOENT;
            if (rr == -ENOMEM)
                return rr;
            if (rr == -ENOENT) {
                if (t->fail_on_missing) {
                    *ret_fire = false;
                    return log_line(pl, "[parameterized-trigger] Properties file %s did not "
                                        "exist: downstream builds will not be triggered.", f);
                }
                r = log_line(pl, "[parameterized-trigger] Properties file %s did not exist.", f);
                continue;
            }
            if (rr < 0) {
                *ret_fire = false;
                return log_line(pl, "[parameterized-trigger] Properties file %s cannot be read "
                                    "(%s%s): downstream builds will not be triggered.", f,
                                rr == -ELOOP ? "a symbolic link, which is not followed"
                                : rr == -EPERM ? "it must be a path inside the workspace"
                                : rr == -EFBIG ? "larger than 1 MiB"
                                               : strerror(-rr), "");
            }
            text = chain_expand(data, b->env, BOUND_CHAIN_FILE_BYTES * 2);
            if (!text) {
                *ret_fire = false;
                return log_line(pl, "[parameterized-trigger] Properties file %s is larger than "
                                    "2 MiB once ${NAME} are expanded: downstream builds will "
                                    "not be triggered.", f);
            }
            r = chain_parse_properties(text, pairs_set, p);
        }
    }
    if (r >= 0 && t->other_source)
        r = log_line(pl, "note: the parameter source %s is not run by Steward", t->other_source);
    if (r >= 0 && p->n == 0 && !t->with_no_params) {
        *ret_fire = false;
        return log_line(pl, "[parameterized-trigger] Downstream builds will not be triggered as "
                            "no parameter is set.");
    }
    return r;
}

static int
run_trigger(struct planner *pl, const struct chain_trigger *t)
{
    _cleanup_free_ char *projects = NULL;
    struct pairs p = { 0 };
    bool fire = true;
    int r;

    if (!t->parameterized)
        return each_name(pl, t->projects, NULL, true);
    projects = chain_expand(t->projects ? t->projects : "", pl->b->env, BOUND_CHAIN_FILE_BYTES);
    if (!projects)
        return -ENOMEM;
    r = gather(pl, t, &p, &fire);
    if (r >= 0 && fire)
        r = each_name(pl, projects, &p, false);
    pairs_release(&p);
    return r;
}

/* The jobs whose reverse trigger names this one, when its result is good enough for them. */
struct reverse {
    const char *job;
    unsigned bit;
    struct buf names;
};

static int
add_reverse(void *userdata, struct job *other)
{
    struct reverse *rv = userdata;

    if (!jobcfg_lines_have(other->cfg->chain_up, rv->job) || !(other->cfg->chain_up_when & rv->bit))
        return 0;
    return buf_printf(&rv->names, "%s\n", other->name);
}

static int
reverse_triggers(struct planner *pl, int ordinal)
{
    struct reverse rv = { .job = pl->b->job, .bit = 1u << ordinal,
                          .names = BUF_INIT(BOUND_CONFIG_XML_BYTES * 4) };
    /* the names first: request() looks jobs up, which jobs_each() must not */
    int r = jobs_each(pl->jobs, add_reverse, &rv);

    for (const char *p = buf_str(&rv.names); r >= 0 && *p;) {
        const char *nl = strchr(p, '\n');
        _cleanup_free_ char *name = strndup(p, (size_t) (nl - p));

        r = name ? request(pl, name, NULL, true) : -ENOMEM;
        p = nl + 1;
    }
    buf_release(&rv.names);
    return r;
}

static int
make_cause(struct planner *pl, struct buf *ancestors)
{
    const struct chain_ended *b = pl->b;
    struct cause *c = &pl->plan->cause;

    *c = (struct cause){ .kind = CAUSE_UPSTREAM, .count = 1 };
    c->addr = strdup(b->job);
    c->note = strdup_printf("%lld\n%s", (long long) b->number, buf_str(ancestors));
    return c->addr && c->note ? 0 : -ENOMEM;
}

int
chain_plan_make(struct jobs *jobs, const struct chain_ended *b, struct chain_plan *ret)
{
    _cleanup_(buf_releasep) struct buf ancestors = BUF_INIT(BOUND_CHAIN_DEPTH * (BOUND_JOB_NAME_BYTES + 1) * 4);
    struct planner pl = { .jobs = jobs, .b = b, .plan = ret };
    int ordinal = jobcfg_result_ordinal(b->result);
    int r;

    *ret = (struct chain_plan){ .log = BUF_INIT(1 << 20) };
    if (ordinal < 0)
        return 0;
    r = ancestors_of(b, &ancestors);
    if (r < 0)
        return -ENOMEM;
    pl.ancestors = buf_str(&ancestors);
    r = make_cause(&pl, &ancestors);
    if (r < 0)
        return r;
    for (const char *p = pl.ancestors; (p = strchr(p, '\n')); p++)
        pl.depth++;
    pl.depth++;
    pl.cut = pl.depth >= BOUND_CHAIN_DEPTH;
    for (size_t i = 0; b->cfg && i < b->cfg->n_chain && r >= 0; i++)
        if (b->cfg->chain[i].when & (1u << ordinal))
            r = run_trigger(&pl, &b->cfg->chain[i]);
    if (r >= 0)
        r = reverse_triggers(&pl, ordinal);
    return r;
}

void
chain_plan_release(struct chain_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        for (size_t k = 0; k < p->reqs[i].n_params; k++)
            free(p->reqs[i].params[k].name);
        params_free(p->reqs[i].params, p->reqs[i].n_params);
        free(p->reqs[i].params);
        free(p->reqs[i].job);
    }
    free(p->reqs);
    cause_release(&p->cause);
    buf_release(&p->log);
    *p = (struct chain_plan){ 0 };
}

/* ---- renames ---- */

struct naming {
    const char *from;
    struct buf names;
};

static int
add_naming(void *userdata, struct job *job)
{
    struct naming *nm = userdata;

    if (!jobcfg_lines_have(job->cfg->chain_down, nm->from) &&
        !jobcfg_lines_have(job->cfg->chain_up, nm->from))
        return 0;
    return buf_printf(&nm->names, "%s\n", job->name);
}

int
chain_rename(struct jobs *jobs, const char *from, const char *to, size_t *ret_changed)
{
    struct naming nm = { .from = from, .names = BUF_INIT(BOUND_CONFIG_XML_BYTES * 4) };
    size_t changed = 0;
    int r = jobs_each(jobs, add_naming, &nm), first = 0;

    for (const char *p = buf_str(&nm.names); r >= 0 && *p;) {
        const char *nl = strchr(p, '\n');
        _cleanup_free_ char *name = strndup(p, (size_t) (nl - p));
        struct job_config *cfg = NULL;

        p = nl + 1;
        if (!name) {
            r = -ENOMEM;
            break;
        }
        r = jobs_read_config(jobs, name, &cfg, NULL);
        if (r >= 0)
            r = jobcfg_rename_project(cfg, from, to);
        if (r > 0) {
            r = jobs_update_cfg(jobs, name, TAKE_PTR(cfg));
            changed += r >= 0;
        }
        jobcfg_free(cfg);
        /* one job that cannot be changed (a broken file) does not stop the others */
        if (r < 0 && r != -ENOMEM) {
            first = first ? first : r;
            r = 0;
        }
    }
    buf_release(&nm.names);
    if (ret_changed)
        *ret_changed = changed;
    return r < 0 ? r : first;
}
