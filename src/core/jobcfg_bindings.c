/* SPDX-License-Identifier: MIT */
/*
 * The Credentials Binding plugin's build wrapper, as the plugin and
 * jenkins-job-builder's `credentials-binding` write it:
 *
 *   <buildWrappers>
 *     <org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper>
 *       <bindings>
 *         <org.jenkinsci.plugins.credentialsbinding.impl.StringBinding>
 *           <credentialsId>ID</credentialsId><variable>NAME</variable>
 *         ...
 *
 * into cfg->bindings. A binding of another class (a zip file, a
 * certificate, a plugin's) is kept as BINDING_OTHER: the build fails and
 * says so, rather than running without the variables the steps expect.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobcfg_int.h"
#include "util/strutil.h"

#define WRAPPER "org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper"
#define IMPL "org.jenkinsci.plugins.credentialsbinding.impl."

void cfg_bindings_free(struct cred_binding *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(b[i].credentials_id);
        free(b[i].variable);
        free(b[i].username_variable);
        free(b[i].password_variable);
        free(b[i].other);
    }
    free(b);
}

/* A variable's name, as a shell takes it: [A-Za-z_][A-Za-z0-9_]*. */
static int check_name(const char *what, const char *v, char **msg)
{
    bool ok = v && (isalpha((unsigned char) v[0]) || v[0] == '_') &&
              strlen(v) < BOUND_PARAM_NAME_BYTES;

    for (const char *p = v; ok && *p; p++)
        ok = isalnum((unsigned char) *p) || *p == '_';
    if (!ok)
        return cfg_fail(msg, "the credentials binding's <%s> must be a variable name (letters, "
                             "digits and _), not '%s'", what, v ? CLIP(v) : "");
    return 0;
}

static int read_binding(const xmlNode *n, struct cred_binding *b, char **msg)
{
    const char *cls = (const char *) n->name;
    int r;

    if (cfg_node_is(n, IMPL "UsernamePasswordMultiBinding"))
        b->kind = BINDING_USERNAME_PASSWORD_MULTI;
    else if (cfg_node_is(n, IMPL "UsernamePasswordBinding"))
        b->kind = BINDING_USERNAME_PASSWORD;
    else if (cfg_node_is(n, IMPL "StringBinding"))
        b->kind = BINDING_STRING;
    else if (cfg_node_is(n, IMPL "FileBinding"))
        b->kind = BINDING_FILE;
    else if (cfg_node_is(n, IMPL "SSHUserPrivateKeyBinding"))
        b->kind = BINDING_SSH_KEY;
    else {
        b->kind = BINDING_OTHER;
        b->other = strdup(cls);
        return b->other ? 0 : -ENOMEM;
    }
    r = cfg_child_text(n, "credentialsId", &b->credentials_id, msg);
    if (r >= 0 && !b->credentials_id)
        return cfg_fail(msg, "a credentials binding (%s) has no <credentialsId>", CLIP(cls));
    switch (b->kind) {
    case BINDING_USERNAME_PASSWORD_MULTI:
        r = cfg_child_text(n, "usernameVariable", &b->username_variable, msg);
        if (r >= 0)
            r = cfg_child_text(n, "passwordVariable", &b->password_variable, msg);
        if (r >= 0)
            r = check_name("usernameVariable", b->username_variable, msg);
        if (r >= 0)
            r = check_name("passwordVariable", b->password_variable, msg);
        return r;
    case BINDING_SSH_KEY:
        r = cfg_child_text(n, "keyFileVariable", &b->variable, msg);
        if (r >= 0)
            r = cfg_child_text(n, "usernameVariable", &b->username_variable, msg);
        if (r >= 0)
            r = cfg_child_text(n, "passphraseVariable", &b->password_variable, msg);
        if (r >= 0)
            r = check_name("keyFileVariable", b->variable, msg);
        if (r >= 0 && b->username_variable)
            r = check_name("usernameVariable", b->username_variable, msg);
        if (r >= 0 && b->password_variable)
            r = check_name("passphraseVariable", b->password_variable, msg);
        return r;
    default:
        r = cfg_child_text(n, "variable", &b->variable, msg);
        if (r >= 0)
            r = check_name("variable", b->variable, msg);
        return r;
    }
}

int cfg_read_bindings(struct job_config *cfg, const xmlNode *root, char **msg)
{
    xmlNode *wrappers = cfg_first_child(root, "buildWrappers");
    size_t n = 0;
    int r = 0;

    for (xmlNode *w = wrappers ? wrappers->children : NULL; w; w = w->next) {
        xmlNode *list;

        if (w->type != XML_ELEMENT_NODE || !cfg_node_is(w, WRAPPER))
            continue;
        list = cfg_first_child(w, "bindings");
        n += list ? cfg_count_elements(list) : 0;
    }
    if (n == 0)
        return 0;
    if (n > BOUND_BINDINGS)
        return cfg_fail(msg, "a job may have at most %d credentials bindings", BOUND_BINDINGS);
    cfg->bindings = calloc(n, sizeof *cfg->bindings);
    if (!cfg->bindings)
        return -ENOMEM;
    for (xmlNode *w = wrappers->children; w && r >= 0; w = w->next) {
        xmlNode *list;

        if (w->type != XML_ELEMENT_NODE || !cfg_node_is(w, WRAPPER))
            continue;
        list = cfg_first_child(w, "bindings");
        for (xmlNode *c = list ? list->children : NULL; c && r >= 0; c = c->next)
            if (c->type == XML_ELEMENT_NODE)
                r = read_binding(c, &cfg->bindings[cfg->n_bindings++], msg);
    }
    return r;
}
