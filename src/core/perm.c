/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/perm.h"
#include "util/bounds.h"
#include "util/macro.h"
#include "util/strutil.h"

static const struct {
    const char *name;   /* as Jenkins' pages show it */
    const char *id;     /* as matrix-auth stores it */
    const char *jjb;    /* jenkins-job-builder's `authorization:` name */
} perms[_PERM_MAX] = {
    [PERM_ADMINISTER] = { "Overall/Administer", "hudson.model.Hudson.Administer", NULL },
    [PERM_READ] = { "Overall/Read", "hudson.model.Hudson.Read", NULL },
    [PERM_JOB_READ] = { "Job/Read", "hudson.model.Item.Read", "job-read" },
    [PERM_JOB_EXTENDED_READ] = { "Job/ExtendedRead", "hudson.model.Item.ExtendedRead",
                                 "job-extended-read" },
    [PERM_JOB_BUILD] = { "Job/Build", "hudson.model.Item.Build", "job-build" },
    [PERM_JOB_CANCEL] = { "Job/Cancel", "hudson.model.Item.Cancel", "job-cancel" },
    [PERM_JOB_CONFIGURE] = { "Job/Configure", "hudson.model.Item.Configure", "job-configure" },
    [PERM_JOB_CREATE] = { "Job/Create", "hudson.model.Item.Create", NULL },
    [PERM_JOB_DELETE] = { "Job/Delete", "hudson.model.Item.Delete", "job-delete" },
    [PERM_JOB_WORKSPACE] = { "Job/Workspace", "hudson.model.Item.Workspace", "job-workspace" },
    [PERM_RUN_DELETE] = { "Run/Delete", "hudson.model.Run.Delete", "run-delete" },
    [PERM_RUN_UPDATE] = { "Run/Update", "hudson.model.Run.Update", "run-update" },
    [PERM_CREDENTIALS_VIEW] = { "Credentials/View",
                                "com.cloudbees.plugins.credentials.CredentialsProvider.View",
                                "credentials-view" },
    [PERM_CREDENTIALS_CREATE] = { "Credentials/Create",
                                  "com.cloudbees.plugins.credentials.CredentialsProvider.Create",
                                  "credentials-create" },
    [PERM_CREDENTIALS_UPDATE] = { "Credentials/Update",
                                  "com.cloudbees.plugins.credentials.CredentialsProvider.Update",
                                  "credentials-update" },
    [PERM_CREDENTIALS_DELETE] = { "Credentials/Delete",
                                  "com.cloudbees.plugins.credentials.CredentialsProvider.Delete",
                                  "credentials-delete" },
    [PERM_JOB_WIPEOUT] = { "Job/WipeOut", "hudson.model.Item.WipeOut", "job-wipeout" },
    /* Jenkins' pages say "Agent/..." for hudson.model.Computer's permissions */
    [PERM_COMPUTER_BUILD] = { "Agent/Build", "hudson.model.Computer.Build", NULL },
    [PERM_COMPUTER_CONFIGURE] = { "Agent/Configure", "hudson.model.Computer.Configure", NULL },
    [PERM_COMPUTER_CONNECT] = { "Agent/Connect", "hudson.model.Computer.Connect", NULL },
    [PERM_COMPUTER_CREATE] = { "Agent/Create", "hudson.model.Computer.Create", NULL },
    [PERM_COMPUTER_DELETE] = { "Agent/Delete", "hudson.model.Computer.Delete", NULL },
    [PERM_COMPUTER_DISCONNECT] = { "Agent/Disconnect", "hudson.model.Computer.Disconnect", NULL },
    [PERM_COMPUTER_EXTENDED_READ] = { "Agent/ExtendedRead", "hudson.model.Computer.ExtendedRead",
                                      NULL },
};

/* What the logged-in strategy keeps for administrators. */
#define PERM_ADMIN_ONLY                                                                      \
    (PERM_BIT(PERM_ADMINISTER) | PERM_BIT(PERM_CREDENTIALS_CREATE) |                          \
     PERM_BIT(PERM_CREDENTIALS_UPDATE) | PERM_BIT(PERM_CREDENTIALS_DELETE) |                   \
     PERM_BIT(PERM_COMPUTER_CREATE) | PERM_BIT(PERM_COMPUTER_CONFIGURE) |                      \
     PERM_BIT(PERM_COMPUTER_DELETE))

const char *
perm_name(enum perm p)
{
    return p < _PERM_MAX ? perms[p].name : "?";
}

const char *
perm_id(enum perm p)
{
    return p < _PERM_MAX ? perms[p].id : "?";
}

/* Jenkins' implications (core Item.java, Permission.java): Administer implies all. */
perm_set
perm_implied(enum perm p)
{
    switch (p) {
    case PERM_ADMINISTER:
        return PERM_ALL;
    case PERM_JOB_CONFIGURE:
        return PERM_BIT(p) | PERM_BIT(PERM_JOB_EXTENDED_READ);
    case PERM_JOB_BUILD:
        return PERM_BIT(p) | PERM_BIT(PERM_JOB_CANCEL);
    case PERM_COMPUTER_CONFIGURE:
        return PERM_BIT(p) | PERM_BIT(PERM_COMPUTER_EXTENDED_READ);
    default:
        return p < _PERM_MAX ? PERM_BIT(p) : 0;
    }
}

bool
perm_is_item(enum perm p)
{
    return p >= PERM_JOB_READ && p <= PERM_JOB_WIPEOUT && p != PERM_JOB_CREATE;
}

/* A Java-style dotted class and field name, as a plugin's permission id has. */
static bool
looks_like_id(const char *s)
{
    const char *dot = strrchr(s, '.');

    if (!dot || dot == s || !dot[1] || strlen(s) > 200)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '$'))
            return false;
    return true;
}

/* "Job/Discover" or jenkins-job-builder's "job-discover": a word, a '/' or '-', a word */
static bool
looks_like_name(const char *s)
{
    size_t a = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    size_t b;

    if (!a || (s[a] != '/' && s[a] != '-'))
        return false;
    b = strspn(s + a + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-");
    return b && !s[a + 1 + b] && a + b < 64;
}

int
perm_parse(const char *s, enum perm *ret)
{
    /* "Computer/Create", as the API's class names it, for Jenkins' "Agent/Create" */
    if (strncasecmp(s, "Computer/", 9) == 0 && strlen(s) < 64) {
        char agent[80];

        snprintf(agent, sizeof(agent), "Agent/%s", s + 9);
        for (enum perm p = PERM_COMPUTER_BUILD; p <= PERM_COMPUTER_EXTENDED_READ; p++)
            if (strcasecmp(agent, perms[p].name) == 0) {
                *ret = p;
                return 0;
            }
    }
    for (enum perm p = 0; p < _PERM_MAX; p++)
        if (streq(s, perms[p].id) || strcasecmp(s, perms[p].name) == 0 ||
            (perms[p].jjb && streq(s, perms[p].jjb))) {
            *ret = p;
            return 0;
        }
    /* a plugin's id, or one of Jenkins' that Steward does not use (Job/Discover, job-move) */
    if (looks_like_id(s) || looks_like_name(s))
        return -ENOENT;
    return -EINVAL;
}

int
grant_parse(const char *s, struct grant *ret)
{
    _cleanup_free_ char *perm = NULL;
    const char *rest = s, *colon;
    int r;

    *ret = (struct grant){ .kind = PRINCIPAL_EITHER };
    if (startswith(s, "USER:")) {
        ret->kind = PRINCIPAL_USER;
        rest = s + 5;
    } else if (startswith(s, "GROUP:")) {
        ret->kind = PRINCIPAL_GROUP;
        rest = s + 6;
    }
    colon = strchr(rest, ':');
    if (!colon || colon == rest || !colon[1])
        return -EINVAL;
    perm = strndup(rest, (size_t) (colon - rest));
    if (!perm)
        return -ENOMEM;
    r = perm_parse(perm, &ret->perm);
    if (r < 0)
        return r;
    ret->sid = strdup(colon + 1);
    return ret->sid ? 0 : -ENOMEM;
}

int
grant_new(const char *sid, enum perm p, struct grant *ret)
{
    size_t len = strlen(sid);

    if (len == 0 || len > BOUND_USER_NAME_BYTES || p >= _PERM_MAX)
        return -EINVAL;
    for (const char *c = sid; *c; c++)
        if (*c <= ' ' || *c > '~')
            return -EINVAL;
    *ret = (struct grant){ .kind = streq(sid, PERM_SID_AUTHENTICATED) ? PRINCIPAL_GROUP
                                                                      : PRINCIPAL_USER,
                           .perm = p, .sid = strdup(sid) };
    return ret->sid ? 0 : -ENOMEM;
}

char *
grant_format(const struct grant *g)
{
    static const char *const prefix[] = { [PRINCIPAL_USER] = "USER:",
                                          [PRINCIPAL_GROUP] = "GROUP:",
                                          [PRINCIPAL_EITHER] = "" };
    char *s;

    if (asprintf(&s, "%s%s:%s", prefix[g->kind], perm_id(g->perm), g->sid) < 0)
        return NULL;
    return s;
}

void
grants_free(struct grant *g, size_t n)
{
    for (size_t i = 0; g && i < n; i++)
        free(g[i].sid);
    free(g);
}

bool
grant_matches(const struct grant *g, const struct perm_subject *who)
{
    if (streq(g->sid, PERM_SID_ANONYMOUS))
        return who->anonymous;
    if (streq(g->sid, PERM_SID_AUTHENTICATED))
        return !who->anonymous;
    /* Steward has no groups of its own */
    return g->kind != PRINCIPAL_GROUP && !who->anonymous && who->user && streq(g->sid, who->user);
}

perm_set
perm_granted(const struct grant *g, size_t n, const struct perm_subject *who)
{
    perm_set s = 0;

    for (size_t i = 0; i < n; i++)
        if (grant_matches(&g[i], who))
            s |= perm_implied(g[i].perm);
    return s;
}

static const char *const strategy_names[] = {
    [AUTHZ_LOGGED_IN] = "logged-in",
    [AUTHZ_MATRIX] = "matrix",
    [AUTHZ_PROJECT_MATRIX] = "project-matrix",
};

const char *
authz_name(enum authz_strategy s)
{
    return (size_t) s < ELEMENTSOF(strategy_names) ? strategy_names[s] : "?";
}

int
authz_parse(const char *s, enum authz_strategy *ret)
{
    for (size_t i = 0; i < ELEMENTSOF(strategy_names); i++)
        if (streq(s, strategy_names[i])) {
            *ret = (enum authz_strategy) i;
            return 0;
        }
    return -EINVAL;
}

perm_set
perm_global(enum authz_strategy s, const struct grant *global, size_t n_global,
            bool anonymous_read, const struct perm_subject *who)
{
    if (!who->anonymous && who->is_admin)
        return PERM_ALL;
    if (s == AUTHZ_LOGGED_IN) {
        if (!who->anonymous)
            return PERM_ALL & ~PERM_ADMIN_ONLY;
        return anonymous_read ? PERM_BIT(PERM_READ) | PERM_BIT(PERM_JOB_READ) : 0;
    }
    return perm_granted(global, n_global, who);
}

perm_set
perm_on_job(enum authz_strategy s, perm_set global, const struct job_matrix *m,
            const struct perm_subject *who)
{
    perm_set own;

    if (s != AUTHZ_PROJECT_MATRIX || !m || !m->present || (global & PERM_BIT(PERM_ADMINISTER)))
        return global;
    /* as matrix-auth does, a job's matrix grants only what applies to a job */
    own = 0;
    for (size_t i = 0; i < m->n_grants; i++)
        if (perm_is_item(m->grants[i].perm) && grant_matches(&m->grants[i], who))
            own |= perm_implied(m->grants[i].perm);
    if (m->inherit)
        return global | own;
    return (global & PERM_BIT(PERM_READ)) | own;
}

static const struct {
    const char *name;
    unsigned scope;
    perm_set allows;
} scopes[] = {
    { "read", SCOPE_READ,
      PERM_BIT(PERM_JOB_EXTENDED_READ) | PERM_BIT(PERM_JOB_WORKSPACE) |
          PERM_BIT(PERM_CREDENTIALS_VIEW) | PERM_BIT(PERM_COMPUTER_EXTENDED_READ) },
    { "build", SCOPE_BUILD, PERM_BIT(PERM_JOB_BUILD) | PERM_BIT(PERM_JOB_CANCEL) },
    { "cancel", SCOPE_CANCEL, PERM_BIT(PERM_JOB_CANCEL) },
    { "configure", SCOPE_CONFIGURE,
      PERM_BIT(PERM_JOB_CONFIGURE) | PERM_BIT(PERM_JOB_CREATE) | PERM_BIT(PERM_JOB_DELETE) |
          PERM_BIT(PERM_JOB_EXTENDED_READ) | PERM_BIT(PERM_RUN_DELETE) | PERM_BIT(PERM_RUN_UPDATE) },
    { "admin", SCOPE_ADMIN, PERM_ALL },
};

int
scopes_parse(const char *s, unsigned *ret, const char **reterr_why)
{
    unsigned v = 0;

    *reterr_why = "Scopes are a comma-separated list of read, build, cancel, configure, admin.";
    while (*s) {
        size_t len = strcspn(s, ","), i;

        for (i = 0; i < ELEMENTSOF(scopes); i++)
            if (strlen(scopes[i].name) == len && strncmp(s, scopes[i].name, len) == 0)
                break;
        if (i == ELEMENTSOF(scopes))
            return -EINVAL;
        v |= scopes[i].scope;
        s += len;
        if (*s == ',' && !*++s)
            return -EINVAL;
    }
    if (!v)
        return -EINVAL;
    *ret = v;
    return 0;
}

const char *
scopes_format(unsigned v, char *out, size_t size)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < ELEMENTSOF(scopes); i++)
        if (v & scopes[i].scope)
            n += (size_t) snprintf(out + MIN(n, size - 1), size - MIN(n, size - 1), "%s%s",
                                   n ? "," : "", scopes[i].name);
    return out;
}

perm_set
scopes_allow(unsigned v)
{
    perm_set allow = PERM_BIT(PERM_READ) | PERM_BIT(PERM_JOB_READ);

    if (!v)
        return PERM_ALL;
    for (size_t i = 0; i < ELEMENTSOF(scopes); i++)
        if (v & scopes[i].scope)
            allow |= scopes[i].allows;
    return allow;
}

const char *
scope_for(enum perm p)
{
    for (size_t i = 0; i < ELEMENTSOF(scopes); i++)
        if (scopes[i].allows & PERM_BIT(p))
            return scopes[i].name;
    return "admin";
}

int
token_jobs_check(const char *jobs, const char **reterr_why)
{
    *reterr_why = "The job list is comma-separated job names or patterns (deploy-*), at most "
                  "512 bytes, without control characters.";
    if (strlen(jobs) > BOUND_TOKEN_JOBS_BYTES)
        return -EINVAL;
    for (const char *p = jobs; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            return -EINVAL;
    for (const char *p = jobs; *p;) {
        size_t len = strcspn(p, ",");

        if (len == 0)
            return -EINVAL;
        p += len;
        if (*p == ',' && !*++p)
            return -EINVAL;
    }
    return 0;
}

bool
token_job_ok(const char *jobs, const char *job)
{
    char one[BOUND_TOKEN_JOBS_BYTES + 1];

    if (!jobs || !*jobs)
        return true;
    while (*jobs) {
        size_t len = strcspn(jobs, ",");

        if (len < sizeof one) {
            memcpy(one, jobs, len);
            one[len] = '\0';
            if (fnmatch(one, job, 0) == 0)
                return true;
        }
        jobs += len;
        if (*jobs == ',')
            jobs++;
    }
    return false;
}
