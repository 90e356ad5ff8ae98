/* SPDX-License-Identifier: MIT */
/*
 * A job's summary: what the registry keeps in memory and in its index
 * for every job, in one allocation, without the parsed document.
 *
 * The encoding is a private cache format (the index in steward.db), read
 * back by this build only: a blob of another version, or one that does
 * not decode, is refused, and the registry reads config.xml instead.
 * Every read is bounds-checked, so a damaged row cannot crash a start.
 *
 *   u32 version
 *   u32 flags, u8 network
 *   i32 quiet_period, keep_days, keep_builds, keep_artifact_days, keep_artifact_builds
 *   u32 n_shell_steps, n_params, n_choices (all parameters), n_grants
 *   32  trigger token hash (zeros without a token)
 *   str description, timer_spec, archive_artifacts, archive_excludes, other_discarder, unsupported,
 *       git_urls, git_branches, scm_poll_spec, custom_workspace, chain_down, chain_up,
 *       assigned_node
 *   u8  chain_up_when
 *   per parameter: u8 type, u8 trim, u32 n_choices, str name, description, default, choices...
 *   per grant: u8 kind, u8 perm, str sid
 *
 * where str is u8 present (0 or 1) and, when present, the bytes and a NUL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobcfg.h"
#include "util/bounds.h"
#include "util/buf.h"
#include "util/macro.h"
#include "util/secret.h"

#define SUMMARY_VERSION 0x53554d39u   /* "SUM9" */

enum {
    F_DISABLED = 1 << 0,
    F_CONCURRENT = 1 << 1,
    F_TOKEN = 1 << 2,
    F_ALLOW_EMPTY = 1 << 3,
    F_ONLY_IF_SUCCESSFUL = 1 << 4,
    F_MATRIX = 1 << 5,
    F_INHERIT = 1 << 6,
    F_GIT_IGNORE_NOTIFY = 1 << 7,
    F_SCM_IGNORE_HOOKS = 1 << 8,
    F_GITHUB_PUSH = 1 << 9,
    F_GITLAB = 1 << 10,
    F_BLOCK_UPSTREAM = 1 << 11,
    F_BLOCK_DOWNSTREAM = 1 << 12,
};

static int put_u8(struct buf *b, unsigned v)
{
    return buf_putc(b, (char) (unsigned char) v);
}

static int put_u32(struct buf *b, uint32_t v)
{
    return buf_append(b, &v, sizeof v);
}

static int put_str(struct buf *b, const char *s)
{
    int r = put_u8(b, s != NULL);

    if (r >= 0 && s)
        r = buf_append(b, s, strlen(s) + 1);
    return r;
}

int
jobcfg_summary_encode(const struct job_config *cfg, struct buf *out)
{
    unsigned char hash[32] = { 0 };
    unsigned flags = 0;
    size_t n_choices = 0;
    int r = 0;

    if (cfg->auth_token)
        secret_sha256(cfg->auth_token, hash);
    else if (cfg->has_token)
        memcpy(hash, cfg->token_hash, sizeof hash);
    flags |= cfg->disabled ? F_DISABLED : 0;
    flags |= cfg->concurrent_build ? F_CONCURRENT : 0;
    flags |= cfg->auth_token || cfg->has_token ? F_TOKEN : 0;
    flags |= cfg->archive_allow_empty ? F_ALLOW_EMPTY : 0;
    flags |= cfg->archive_only_if_successful ? F_ONLY_IF_SUCCESSFUL : 0;
    flags |= cfg->matrix.present ? F_MATRIX : 0;
    flags |= cfg->matrix.inherit ? F_INHERIT : 0;
    flags |= cfg->git_ignore_notify ? F_GIT_IGNORE_NOTIFY : 0;
    flags |= cfg->scm_ignore_hooks ? F_SCM_IGNORE_HOOKS : 0;
    flags |= cfg->github_push ? F_GITHUB_PUSH : 0;
    flags |= cfg->gitlab || cfg->has_gitlab ? F_GITLAB : 0;
    flags |= cfg->block_upstream ? F_BLOCK_UPSTREAM : 0;
    flags |= cfg->block_downstream ? F_BLOCK_DOWNSTREAM : 0;
    for (size_t i = 0; i < cfg->n_params; i++)
        n_choices += cfg->params[i].n_choices;

    r |= put_u32(out, SUMMARY_VERSION);
    r |= put_u32(out, flags);
    r |= put_u8(out, cfg->network);
    r |= put_u32(out, (uint32_t) cfg->quiet_period);
    r |= put_u32(out, (uint32_t) cfg->keep_days);
    r |= put_u32(out, (uint32_t) cfg->keep_builds);
    r |= put_u32(out, (uint32_t) cfg->keep_artifact_days);
    r |= put_u32(out, (uint32_t) cfg->keep_artifact_builds);
    r |= put_u32(out, (uint32_t) cfg->n_shell_steps);
    r |= put_u32(out, (uint32_t) cfg->n_params);
    r |= put_u32(out, (uint32_t) n_choices);
    r |= put_u32(out, (uint32_t) cfg->matrix.n_grants);
    r |= buf_append(out, hash, sizeof hash);
    r |= put_str(out, cfg->description);
    r |= put_str(out, cfg->timer_spec);
    r |= put_str(out, cfg->archive_artifacts);
    r |= put_str(out, cfg->archive_excludes);
    r |= put_str(out, cfg->other_discarder);
    r |= put_str(out, cfg->unsupported);
    r |= put_str(out, cfg->git_urls);
    r |= put_str(out, cfg->git_branches);
    r |= put_str(out, cfg->scm_poll_spec);
    r |= put_str(out, cfg->custom_workspace);
    r |= put_str(out, cfg->chain_down);
    r |= put_str(out, cfg->chain_up);
    r |= put_str(out, cfg->assigned_node);
    r |= put_u8(out, cfg->chain_up_when & CHAIN_ALL_RESULTS);
    for (size_t i = 0; i < cfg->n_params; i++) {
        const struct param_def *p = &cfg->params[i];

        r |= put_u8(out, p->type);
        r |= put_u8(out, p->trim);
        r |= put_u32(out, (uint32_t) p->n_choices);
        r |= put_str(out, p->name);
        r |= put_str(out, p->description);
        r |= put_str(out, p->default_value);
        for (size_t k = 0; k < p->n_choices; k++)
            r |= put_str(out, p->choices[k]);
    }
    for (size_t i = 0; i < cfg->matrix.n_grants; i++) {
        const struct grant *g = &cfg->matrix.grants[i];

        r |= put_u8(out, g->kind);
        r |= put_u8(out, g->perm);
        r |= put_str(out, g->sid);
    }
    /* every step returns 0 or a negative errno; any failure leaves a bit set */
    return r < 0 ? -ENOMEM : 0;
}

/* A reader over the copy of the blob; a read past the end sets `bad`. */
struct rd {
    char *p, *end;
    bool bad;
};

static unsigned rd_u8(struct rd *r)
{
    if (r->bad || r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return (unsigned char) *r->p++;
}

static uint32_t rd_u32(struct rd *r)
{
    uint32_t v = 0;

    if (r->bad || (size_t) (r->end - r->p) < sizeof v) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p, sizeof v);
    r->p += sizeof v;
    return v;
}

static char *rd_str(struct rd *r)
{
    char *s, *nul;

    if (rd_u8(r) == 0)
        return NULL;
    if (r->bad)
        return NULL;
    nul = memchr(r->p, '\0', (size_t) (r->end - r->p));
    if (!nul) {
        r->bad = true;
        return NULL;
    }
    s = r->p;
    r->p = nul + 1;
    return s;
}

static void *
alloc_zeroed(void *userdata _unused_, size_t size)
{
    return calloc(1, size);
}

int
jobcfg_summary_decode(const void *blob, size_t len, struct job_config **ret)
{
    return jobcfg_summary_decode_in(blob, len, alloc_zeroed, NULL, ret);
}

int
jobcfg_summary_decode_in(const void *blob, size_t len, void *(*alloc)(void *userdata, size_t size),
                         void *userdata, struct job_config **ret)
{
    struct job_config *cfg;
    struct param_def *params;
    char **choices;
    struct grant *grants;
    uint32_t n_params, n_choices, n_grants, n_steps;
    unsigned flags, network;
    int32_t quiet, keep[4];
    size_t size;
    struct rd r;
    char *copy;

    /* the header first, from the caller's bytes, to size the allocation */
    r = (struct rd){ .p = (char *) blob, .end = (char *) blob + len };
    if (rd_u32(&r) != SUMMARY_VERSION)
        return -EINVAL;
    flags = rd_u32(&r);
    network = rd_u8(&r);
    quiet = (int32_t) rd_u32(&r);
    for (size_t i = 0; i < 4; i++)
        keep[i] = (int32_t) rd_u32(&r);
    n_steps = rd_u32(&r);
    n_params = rd_u32(&r);
    n_choices = rd_u32(&r);
    n_grants = rd_u32(&r);
    if (r.bad || n_params > BOUND_JOB_PARAMS || n_choices > (uint32_t) BOUND_JOB_PARAMS * BOUND_CHOICES ||
        n_grants > BOUND_JOB_GRANTS || network > SANDBOX_NET_NONE || (size_t) (r.end - r.p) < 32)
        return -EINVAL;

    size = sizeof *cfg + n_params * sizeof *params + n_choices * sizeof *choices +
           n_grants * sizeof *grants + len;
    cfg = alloc(userdata, size);
    if (!cfg)
        return -ENOMEM;
    memset(cfg, 0, sizeof *cfg + n_params * sizeof *params);
    params = (struct param_def *) (cfg + 1);
    choices = (char **) (params + n_params);
    grants = (struct grant *) (choices + n_choices);
    copy = (char *) (grants + n_grants);
    memcpy(copy, blob, len);
    r = (struct rd){ .p = copy + (r.p - (char *) blob), .end = copy + len };

    cfg->summary = true;
    cfg->disabled = flags & F_DISABLED;
    cfg->concurrent_build = flags & F_CONCURRENT;
    cfg->has_token = flags & F_TOKEN;
    cfg->archive_allow_empty = flags & F_ALLOW_EMPTY;
    cfg->archive_only_if_successful = flags & F_ONLY_IF_SUCCESSFUL;
    cfg->matrix.present = flags & F_MATRIX;
    cfg->matrix.inherit = flags & F_INHERIT;
    cfg->git_ignore_notify = flags & F_GIT_IGNORE_NOTIFY;
    cfg->scm_ignore_hooks = flags & F_SCM_IGNORE_HOOKS;
    cfg->github_push = flags & F_GITHUB_PUSH;
    cfg->has_gitlab = flags & F_GITLAB;
    cfg->block_upstream = flags & F_BLOCK_UPSTREAM;
    cfg->block_downstream = flags & F_BLOCK_DOWNSTREAM;
    cfg->network = (enum sandbox_net) network;
    cfg->quiet_period = quiet;
    cfg->keep_days = keep[0];
    cfg->keep_builds = keep[1];
    cfg->keep_artifact_days = keep[2];
    cfg->keep_artifact_builds = keep[3];
    cfg->n_shell_steps = n_steps;
    memcpy(cfg->token_hash, r.p, 32);
    r.p += 32;
    cfg->description = rd_str(&r);
    cfg->timer_spec = rd_str(&r);
    cfg->archive_artifacts = rd_str(&r);
    cfg->archive_excludes = rd_str(&r);
    cfg->other_discarder = rd_str(&r);
    cfg->unsupported = rd_str(&r);
    cfg->git_urls = rd_str(&r);
    cfg->git_branches = rd_str(&r);
    cfg->scm_poll_spec = rd_str(&r);
    cfg->custom_workspace = rd_str(&r);
    cfg->chain_down = rd_str(&r);
    cfg->chain_up = rd_str(&r);
    cfg->assigned_node = rd_str(&r);
    cfg->chain_up_when = rd_u8(&r) & CHAIN_ALL_RESULTS;

    cfg->params = n_params ? params : NULL;
    cfg->n_params = n_params;
    for (uint32_t i = 0; i < n_params && !r.bad; i++) {
        struct param_def *p = &params[i];
        uint32_t nc;

        p->type = (enum param_type) rd_u8(&r);
        p->trim = rd_u8(&r) != 0;
        nc = rd_u32(&r);
        if (p->type > PARAM_FILE || nc > n_choices) {
            r.bad = true;
            break;
        }
        p->name = rd_str(&r);
        p->description = rd_str(&r);
        p->default_value = rd_str(&r);
        p->choices = nc ? choices : NULL;
        p->n_choices = nc;
        for (uint32_t k = 0; k < nc && !r.bad; k++)
            choices[k] = rd_str(&r);
        choices += nc;
        n_choices -= nc;
        if (!p->name)
            r.bad = true;
    }
    cfg->matrix.grants = n_grants ? grants : NULL;
    cfg->matrix.n_grants = n_grants;
    for (uint32_t i = 0; i < n_grants && !r.bad; i++) {
        grants[i].kind = (enum principal_kind) rd_u8(&r);
        grants[i].perm = (enum perm) rd_u8(&r);
        grants[i].sid = rd_str(&r);
        if (!grants[i].sid || grants[i].perm >= _PERM_MAX)
            r.bad = true;
    }
    if (r.bad || n_choices != 0 || r.p != r.end) {
        if (alloc == alloc_zeroed)
            free(cfg);
        return -EINVAL;
    }
    *ret = cfg;
    return 0;
}

int
jobcfg_summary(const struct job_config *cfg, struct job_config **ret)
{
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(BOUND_CONFIG_XML_BYTES * 2);
    int r;

    r = jobcfg_summary_encode(cfg, &b);
    if (r < 0)
        return r;
    r = jobcfg_summary_decode(b.ptr, b.len, ret);
    /* what was just encoded decodes; anything else is a bug, reported as such */
    return r == -EINVAL ? -EIO : r;
}

bool
jobcfg_has_token(const struct job_config *cfg)
{
    return cfg->auth_token || cfg->has_token;
}

bool
jobcfg_token_matches(const struct job_config *cfg, const char *token)
{
    if (!token)
        return false;
    if (cfg->auth_token)
        return secret_equal(token, cfg->auth_token);
    return cfg->has_token && secret_matches_hash(token, cfg->token_hash);
}
