/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A job's definition, read from and written to Jenkins' freestyle
 * config.xml. The parsed document is kept with the struct, so that writing
 * the config back changes only the elements Steward manages and keeps every
 * other element (plugins, publishers, triggers) untouched.
 *
 * Hostile input is refused: no DOCTYPE (so no entities, internal or
 * external), no network, bounded size and depth, and a root element that
 * must be <project>.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/perm.h"
#include "core/support.h"

enum param_type {
    PARAM_STRING,
    PARAM_TEXT,
    PARAM_BOOLEAN,
    PARAM_CHOICE,
    PARAM_PASSWORD,
    /*
     * hudson.model.FileParameterDefinition: `name` is where the file goes,
     * relative to the workspace. Its value is "" (no file) or, once
     * uploaded, "sha256:HEX:FILENAME" (core/upload.h).
     */
    PARAM_FILE,
};

struct param_def {
    enum param_type type;
    char *name;
    char *description;   /* NULL when absent */
    /*
     * string, text, password: the default ("" when absent);
     * boolean: "true" or "false";
     * choice: NULL (the first choice is the default).
     */
    char *default_value;
    bool trim;           /* string parameters only */
    char **choices;      /* choice parameters only */
    size_t n_choices;
};

/* <steward.sandbox network="..."/>: the build's network */
enum sandbox_net {
    SANDBOX_NET_DEFAULT,   /* the job does not say: the server's default */
    SANDBOX_NET_HOST,      /* network="host" */
    SANDBOX_NET_NONE,      /* network="none": a loopback of its own */
};

/* One hudson.plugins.git.UserRemoteConfig. */
struct git_remote {
    char *name;            /* "origin" when empty */
    char *url;
    char *refspec;         /* +refs/heads/STAR:refs/remotes/NAME/STAR when empty */
    char *credentials_id;  /* NULL when absent */
};

/* hudson.plugins.git.GitSCM, with the extensions Steward runs. */
struct git_scm {
    struct git_remote *remotes;
    size_t n_remotes;
    char **branches;       /* BranchSpec names as written (${PARAM} expanded at build time) */
    size_t n_branches;
    bool wipe;             /* WipeWorkspace */
    bool clean_before;     /* CleanBeforeCheckout */
    bool clean_after;      /* CleanCheckout */
    bool prune;            /* PruneStaleBranch */
    bool shallow, no_tags; /* CloneOption */
    int depth;             /* CloneOption: 0 for none */
    int fetch_timeout;     /* CloneOption: minutes, 0 for none */
    char *reference;       /* CloneOption: a reference repository, NULL when none */
    bool submodules, recursive_submodules, tracking_submodules; /* SubmoduleOption */
    int submodule_timeout; /* minutes, 0 for none */
    int checkout_timeout;  /* CheckoutOption: minutes, 0 for none */
    char *relative_dir;    /* RelativeTargetDirectory, NULL when none */
    bool local_branch_set; /* LocalBranch */
    char *local_branch;    /* its name; "" or "**": the remote branch's own */
    bool ignore_notify;    /* IgnoreNotifyCommit */
    bool author_in_changelog; /* AuthorInChangelog */
    char *scm_name;        /* ScmName, NULL when none */
    char *user_name, *user_email; /* UserIdentity, NULL when absent */
};

/* com.dabsquared.gitlabjenkins.GitLabPushTrigger, as the gitlab plugin and JJB write it. */
enum gitlab_filter { GITLAB_ALL_BRANCHES, GITLAB_NAME_FILTER, GITLAB_REGEX_FILTER };

struct gitlab_trigger {
    bool on_push;              /* triggerOnPush (true) */
    bool on_merge_request;     /* triggerOnMergeRequest (true) */
    bool on_accepted_mr;       /* triggerOnAcceptedMergeRequest (false) */
    bool on_closed_mr;         /* triggerOnClosedMergeRequest (false) */
    bool on_branch_delete;     /* triggerToBranchDeleteRequest (false) */
    bool ci_skip;              /* ciSkip (true): "[ci-skip]" in a message skips the push */
    enum gitlab_filter filter; /* branchFilterType */
    char *include, *exclude;   /* includeBranchesSpec, excludeBranchesSpec: comma lists, NULL when empty */
    char *source_regex, *target_regex; /* NULL when empty */
    char *secret_token;        /* secretToken, NULL when none */
    bool secret_encrypted;     /* it is a Jenkins-encrypted {...}: only that Jenkins can read it */
};

/*
 * One binding of the Credentials Binding plugin's build wrapper
 * (buildWrappers/org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper/bindings).
 */
enum binding_kind {
    BINDING_USERNAME_PASSWORD_MULTI, /* usernameVariable, passwordVariable */
    BINDING_USERNAME_PASSWORD,       /* variable = user:pass */
    BINDING_STRING,                  /* variable = the secret text */
    BINDING_FILE,                    /* variable = the path of a copy of the file */
    BINDING_SSH_KEY,                 /* keyFileVariable, usernameVariable, passphraseVariable */
    BINDING_OTHER,                   /* a binding Steward does not run: `other` names it */
};

struct cred_binding {
    enum binding_kind kind;
    char *credentials_id;            /* NULL when absent */
    char *variable;                  /* variable, or keyFileVariable; NULL when absent */
    char *username_variable;         /* NULL when absent */
    char *password_variable;         /* passwordVariable or passphraseVariable; NULL when absent */
    char *other;                     /* BINDING_OTHER: its class */
};

/*
 * The build-timeout plugin's wrapper
 * (buildWrappers/hudson.plugins.build__timeout.BuildTimeoutWrapper), as
 * the plugin and jenkins-job-builder's `timeout` write it.
 */
enum timeout_strategy {
    TIMEOUT_ABSOLUTE,      /* AbsoluteTimeOutStrategy: timeoutMinutes since the start */
    TIMEOUT_NO_ACTIVITY,   /* NoActivityTimeOutStrategy: timeoutSecondsString without output */
    TIMEOUT_OTHER,         /* a strategy Steward does not run: `other` names it */
};

struct build_timeout {
    enum timeout_strategy strategy;
    /* minutes (absolute) or seconds (no activity), as written: digits, or one ${NAME} */
    char *value;
    char *other;             /* TIMEOUT_OTHER: the strategy's class */
    bool abort;              /* AbortOperation, or an empty operation list */
    bool fail;               /* FailOperation (or the older failBuild) */
    bool write_description;  /* WriteDescriptionOperation (or the older writingDescription) */
    char *description;       /* its text, {0} standing for the minutes; NULL when none */
    char *env_var;           /* timeoutEnvVar: gets the timeout in milliseconds; NULL when none */
};

/*
 * A timeout's value: jobcfg_timeout_var() gives the NAME of a value that
 * is one ${NAME} (or $NAME) into `name` (0, else -EINVAL);
 * jobcfg_timeout_number() reads a whole number from 1 to `max` (0, -ERANGE
 * for 0, -EINVAL for anything else).
 */
int jobcfg_timeout_var(const char *value, char *name, size_t size);
int jobcfg_timeout_number(const char *value, int max, int *ret);

/* One hudson.plugins.ws__cleanup.Pattern. */
struct ws_pattern {
    char *pattern;           /* an Ant pattern, relative to the workspace */
    bool exclude;            /* type EXCLUDE (else INCLUDE) */
};

/*
 * The Workspace Cleanup plugin: the wrapper
 * hudson.plugins.ws__cleanup.PreBuildCleanup before the build, and the
 * publisher hudson.plugins.ws__cleanup.WsCleanup after it.
 */
enum { WS_WHEN_SUCCESS, WS_WHEN_UNSTABLE, WS_WHEN_FAILURE, WS_WHEN_NOT_BUILT, WS_WHEN_ABORTED,
       _WS_WHEN_MAX };

struct ws_cleanup {
    struct ws_pattern *patterns;  /* none: the whole workspace */
    size_t n_patterns;
    bool delete_dirs;        /* deleteDirs: patterns match directories too */
    char *parameter;         /* cleanupParameter: clean only when this variable is true; NULL */
    char *external;          /* externalDelete: not run (Steward deletes by itself); NULL */
    /* the publisher only: cleanWhenSuccess ... cleanWhenAborted (true when absent) */
    bool when[_WS_WHEN_MAX];
    bool not_fail_build;     /* notFailBuild: a failed cleanup leaves the result alone */
};

/*
 * A post-build trigger of other jobs: hudson.tasks.BuildTrigger, or one
 * BuildTriggerConfig of the Parameterized Trigger plugin's
 * hudson.plugins.parameterizedtrigger.BuildTrigger (core/chain.h runs them).
 */
struct chain_trigger {
    char *projects;          /* the comma list as written (${VAR} expanded when it fires) */
    unsigned when;           /* bit (1 << ordinal) of each result that fires it (chain.h) */
    bool parameterized;      /* the parameterized trigger's rules for parameters below */
    bool current_params;     /* CurrentBuildParameters */
    char *predefined;        /* PredefinedBuildParameters/properties, NULL when none */
    char *prop_files;        /* FileBuildParameters/propertiesFile (comma list), NULL when none */
    bool fail_on_missing;    /* its failTriggerOnMissing */
    bool with_no_params;     /* triggerWithNoParameters */
    char *other_source;      /* the first parameter source Steward does not run, NULL when none */
};

struct job_config {
    char *description;   /* decoded text, exactly as stored; NULL when absent */
    bool disabled;
    bool concurrent_build;
    int quiet_period;    /* seconds; -1 when absent (the global default applies) */
    char *auth_token;    /* the trigger token; NULL when absent or empty */
    struct param_def *params;
    size_t n_params;
    char **shell_steps;  /* the <command> of each hudson.tasks.Shell builder, in order */
    size_t n_shell_steps;

    /*
     * Discard old builds: hudson.tasks.LogRotator, as the strategy of
     * jenkins.model.BuildDiscarderProperty or as the older <logRotator>.
     * -1 when not set. Changed with jobcfg_set_discarder().
     */
    int keep_days;            /* daysToKeep */
    int keep_builds;          /* numToKeep */
    int keep_artifact_days;   /* artifactDaysToKeep */
    int keep_artifact_builds; /* artifactNumToKeep */

    /* Read only (kept in the document as written): */
    char *timer_spec;    /* triggers/hudson.triggers.TimerTrigger/spec, NULL when absent */
    /*
     * triggers/hudson.triggers.SCMTrigger/spec: NULL without the trigger;
     * "" polls only when notified (/git/notifyCommit).
     */
    char *scm_poll_spec;
    bool scm_ignore_hooks;  /* its ignorePostCommitHooks */
    bool github_push;       /* triggers/com.cloudbees.jenkins.GitHubPushTrigger */
    /* triggers/com.dabsquared.gitlabjenkins.GitLabPushTrigger: NULL without; a summary has only has_gitlab */
    struct gitlab_trigger *gitlab;
    bool has_gitlab;
    char *archive_artifacts;  /* publishers/hudson.tasks.ArtifactArchiver/artifacts, NULL when absent */
    char *archive_excludes;   /* its <excludes>, NULL when absent */
    bool archive_allow_empty;
    bool archive_only_if_successful;
    /*
     * publishers/hudson.tasks.junit.JUnitResultArchiver/testResults, NULL
     * without the publisher. Read only; not in a summary (the engine reads
     * the whole config.xml at a build's start).
     */
    char *junit_results;
    bool junit_allow_empty;   /* its allowEmptyResults */
    bool junit_keep_long_stdio; /* its keepLongStdio */
    double junit_health_scale;  /* its healthScaleFactor: 1.0 when absent, 0 turns test health off */
    bool junit_skip_unstable;   /* its skipMarkingBuildUnstable: failed tests leave the result alone */
    /*
     * The class of a discarder strategy other than LogRotator (a plugin's),
     * as jobcfg_parse() read it; the keep_* fields are then -1. NULL when
     * there is none.
     */
    char *other_discarder;
    enum sandbox_net network;  /* top-level <steward.sandbox network="none|host"/> */
    /*
     * <scm class="hudson.plugins.git.GitSCM">; NULL for another SCM. Read
     * only; a summary keeps it too.
     */
    struct git_scm *git;
    /* Read only, not in a summary (core/jobcfg_wrappers.c): NULL when absent. */
    struct build_timeout *timeout;
    struct ws_cleanup *pre_cleanup;   /* the PreBuildCleanup wrapper */
    struct ws_cleanup *post_cleanup;  /* the WsCleanup publisher */
    /*
     * <customWorkspace>, checked (jobcfg_wrappers.c says what may be
     * there); NULL when absent or empty. A summary keeps it.
     */
    char *custom_workspace;
    /*
     * Where builds run: <assignedNode>, a label expression (core/label.h),
     * unless <canRoam> is true (Jenkins then ignores it); NULL: any node
     * that takes every job. A summary keeps it.
     */
    char *assigned_node;
    /*
     * Chains, read only: the triggers of other jobs in <publishers>, in
     * order (not in a summary); what a summary keeps of them and of
     * jenkins.triggers.ReverseBuildTrigger for the graph: the job names
     * each ended by '\n' (chain_down: those its publishers trigger, as
     * written; chain_up: its reverse trigger's upstreamProjects), NULL
     * when none, and the results of an upstream build that fire it.
     */
    struct chain_trigger *chain;
    size_t n_chain;
    char *chain_down;
    char *chain_up;
    unsigned chain_up_when;
    bool block_upstream;     /* blockBuildWhenUpstreamBuilding */
    bool block_downstream;   /* blockBuildWhenDownstreamBuilding */
    /* The Credentials Binding wrapper's bindings, in order; read only, not in a summary. */
    struct cred_binding *bindings;
    size_t n_bindings;
    /*
     * What a summary keeps of it (git is NULL there): the remotes ("NAME
     * URL") and the branch specs, each line ended by '\n'; NULL without Git.
     * A URL or a spec with a newline in it cannot be told apart here.
     */
    char *git_urls;
    char *git_branches;
    bool git_ignore_notify;
    /*
     * The elements Steward does not run (core/support.h): read them with
     * jobcfg_next_unsupported(). NULL when every element runs or is
     * harmless. Derived from the document; the setters do not change it.
     */
    char *unsupported;
    /*
     * properties/hudson.security.AuthorizationMatrixProperty: the job's own
     * grants (entries naming a permission Steward does not use stay in the
     * document only). Changed with jobcfg_set_matrix().
     */
    struct job_matrix matrix;

    bool matrix_set;     /* jobcfg_set_matrix() was called; private to jobcfg.c */

    /*
     * A summary (jobcfg_summary()) is what the registry keeps of a job: one
     * allocation, without the document, the shell steps (n_shell_steps
     * stays) or the trigger token in clear (auth_token is NULL, has_token
     * and token_hash say it). It cannot be changed or written back.
     */
    bool summary;
    bool has_token;
    unsigned char token_hash[32];  /* SHA-256 of the trigger token */

    bool discarder_set;  /* jobcfg_set_discarder() was called; private to jobcfg.c */
    void *doc;           /* the parsed document, private to jobcfg.c; NULL once dropped */
    unsigned refs;       /* owners besides the first (jobcfg_ref()) */
};

/* The largest number of days or builds a LogRotator setting may say. */
#define JOBCFG_KEEP_MAX 1000000

/* Returns the Jenkins class name of a parameter type, e.g. "StringParameterDefinition". */
const char *param_type_to_string(enum param_type t);

/*
 * Parses config.xml. Returns 0 and sets *ret_cfg, -EINVAL for XML that is
 * malformed, hostile or not a freestyle <project> (then *reterr_msg, when
 * not NULL, gets a one-line explanation for the client, to be freed),
 * -E2BIG for input over BOUND_CONFIG_XML_BYTES, -ENOMEM.
 */
int jobcfg_parse(const char *xml, size_t len, struct job_config **ret_cfg, char **reterr_msg);

/* A new, empty freestyle job (what a blank "New Item" creates). */
int jobcfg_new(struct job_config **ret_cfg);

/*
 * Serializes the config, after writing the managed fields (description,
 * disabled, concurrentBuild, quietPeriod, authToken, parameter definitions,
 * shell builders, and the discarder once jobcfg_set_discarder() was called)
 * back into the kept document. Other elements are kept.
 * The output is always UTF-8. Returns 0 and sets *ret_xml (NUL-terminated,
 * to be freed) and *ret_len; -EINVAL when a field could not be read back
 * (invalid UTF-8 or control characters, a parameter without a name or a
 * duplicate one, counts past the bounds, a keep_* value that is neither -1
 * nor 0..JOBCFG_KEEP_MAX), checked before the document is touched; -E2BIG
 * when the output would pass BOUND_CONFIG_XML_BYTES.
 */
int jobcfg_write(struct job_config *cfg, char **ret_xml, size_t *ret_len);

/* Setters for the managed fields; each copies its arguments. 0 or -ENOMEM. */
int jobcfg_set_description(struct job_config *cfg, const char *description);
int jobcfg_set_auth_token(struct job_config *cfg, const char *token /* NULL removes */);
int jobcfg_set_params(struct job_config *cfg, const struct param_def *params, size_t n);
int jobcfg_set_shell_steps(struct job_config *cfg, const char *const *steps, size_t n);

/*
 * Sets "Discard old builds" (hudson.tasks.LogRotator): days and number of
 * builds to keep, and the same for builds that keep their artifacts; -1 is
 * "not set". jobcfg_write() then brings the document in line, as Jenkins
 * saves it: all -1 removes a LogRotator's BuildDiscarderProperty and an
 * older top-level <logRotator>, but leaves another class's strategy (a
 * plugin's) as it is; any other value writes the LogRotator into
 * <properties>, in place of what the property held, and drops an older
 * <logRotator>. Until this is called, the discarder is written as it was
 * read. 0, or -EINVAL (cfg unchanged) for a value that is neither -1 nor
 * 0..JOBCFG_KEEP_MAX.
 */
int jobcfg_set_discarder(struct job_config *cfg, int days, int builds, int artifact_days,
                         int artifact_builds);

/*
 * Sets the job's own matrix: `inherit` (InheritParentStrategy, or
 * NonInheritingStrategy) and its grants, which jobcfg_write() puts in
 * place of the property's entries for permissions Steward uses (other
 * entries stay). No grants and nothing else kept removes the property.
 * 0, -EINVAL for a grant with an empty sid, one that is not XML text or
 * that begins or ends with whitespace, or past BOUND_JOB_GRANTS (cfg
 * unchanged), -ENOMEM.
 */
int jobcfg_set_matrix(struct job_config *cfg, bool inherit, const struct grant *grants, size_t n);

/*
 * The config.xml to show a caller who may read the configuration but not
 * change it (Job/ExtendedRead): the document with its trigger token
 * replaced by JOBCFG_MASK. Newly allocated into *ret_xml; 0, -ENOMEM, -E2BIG.
 */
#define JOBCFG_MASK "********"
int jobcfg_masked_xml(const struct job_config *cfg, char **ret_xml, size_t *ret_len);

/*
 * The value a build gets for a parameter, by Jenkins' rules: `given` (NULL
 * when the request has none) for a boolean is "true" when it says true in
 * any case, else "false"; a string is trimmed when the definition asks; a
 * choice must be one of the choices; an absent value takes the default (a
 * choice's first). Returns 0 and a newly allocated *ret_value, -EINVAL for
 * a value that is not one of a choice's choices, -ENOMEM.
 */
int param_value_for(const struct param_def *d, const char *given, char **ret_value);

/*
 * The summary of a full config, newly allocated (see `summary` above).
 * 0, -ENOMEM.
 */
int jobcfg_summary(const struct job_config *cfg, struct job_config **ret);
/* A summary as bytes for the registry's index, and back (-EINVAL for bytes that do not decode). */
struct buf;
int jobcfg_summary_encode(const struct job_config *cfg, struct buf *out);
int jobcfg_summary_decode(const void *blob, size_t len, struct job_config **ret);
/*
 * The same into memory from `alloc` (one call; the memory need not be
 * zeroed, and is the caller's to release: not with jobcfg_free()).
 */
int jobcfg_summary_decode_in(const void *blob, size_t len, void *(*alloc)(void *userdata, size_t size),
                             void *userdata, struct job_config **ret);

/* Whether the job has a trigger token, and whether `token` is it (in constant time). */
bool jobcfg_has_token(const struct job_config *cfg);
bool jobcfg_token_matches(const struct job_config *cfg, const char *token);

/* One element of a job that Steward does not run. */
struct unsupported {
    enum support verdict;  /* SUPPORT_SKIPPED or SUPPORT_FAILS */
    char slot[16];         /* "project", "scm", "builders"... (core/support.h) */
    char name[208];        /* the element, or the class for "scm"; cut at 200 bytes */
    char element[228];     /* as people read it: "builders/hudson.tasks.Maven", "assignedNode" */
    const char *note;      /* what it is, and what to do instead (static) */
};

/*
 * The next element the job does not run, in document order: start with
 * *pos = 0; false after the last. A list of more than 64 ends with one
 * named "(N more)".
 */
bool jobcfg_next_unsupported(const struct job_config *cfg, size_t *pos, struct unsupported *ret);
/* Whether an element makes the job's builds fail (SUPPORT_FAILS). */
bool jobcfg_fails_unsupported(const struct job_config *cfg);

/* Finds a parameter definition by exact name; NULL when there is none. */
const struct param_def *jobcfg_find_param(const struct job_config *cfg, const char *name);

/*
 * Jenkins' Result ordinal of a result's name: SUCCESS 0, UNSTABLE 1,
 * FAILURE 2, NOT_BUILT 3, ABORTED 4; -1 for any other.
 */
int jobcfg_result_ordinal(const char *name);
#define CHAIN_ALL_RESULTS 0x1fu
/*
 * A job was renamed from `from` to `to`: the names in this config's
 * post-build triggers and reverse trigger that were `from` become `to`
 * in the document (jobcfg_write() writes them), as Jenkins does. The
 * number of lists changed, -EINVAL for a summary, -ENOMEM.
 */
int jobcfg_rename_project(struct job_config *cfg, const char *from, const char *to);
/* Whether `name` is one of the '\n'-ended lines of `lines` (chain_down, chain_up); NULL has none. */
bool jobcfg_lines_have(const char *lines, const char *name);

struct job_config *jobcfg_free(struct job_config *cfg);
static inline void jobcfg_freep(struct job_config **p) { jobcfg_free(*p); }
/*
 * One more owner of `cfg`, which each jobcfg_free() lets go of; the last
 * one frees it. For a config one thread shares between its owners (the
 * engine's cache and its builds): the count is not atomic.
 */
struct job_config *jobcfg_ref(struct job_config *cfg);
/*
 * Frees the parsed document, and with it what holds libxml2 loaded: every
 * field reads as before, but the config can no longer be written
 * (jobcfg_write() and jobcfg_rename_project() fail with -EINVAL).
 */
void jobcfg_drop_document(struct job_config *cfg);

/*
 * libxml2 is loaded at its first use (core/jobcfg_libxml.c). A server with
 * nothing to do unloads it: true when it did, because no call, parser
 * context, document or hold was alive and the last call was at least
 * `idle_ms` ago. Any later use loads it again.
 */
bool xml_unload_idle(int idle_ms);
/*
 * Keeps libxml2 loaded between the two calls, for state libxml2 keeps per
 * thread that a caller sets and later puts back (its error handler).
 */
void xml_hold(void);
void xml_unhold(void);
