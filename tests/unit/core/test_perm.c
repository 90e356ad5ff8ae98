/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/perm.h"

static const struct perm_subject bob = { .user = "bob" };
static const struct perm_subject alice = { .user = "alice" };
static const struct perm_subject admin = { .user = "root", .is_admin = true };
static const struct perm_subject anon = { .anonymous = true };

static void test_parse_every_form(void **state)
{
    enum perm p;

    (void) state;
    assert_int_equal(perm_parse("hudson.model.Item.Build", &p), 0);
    assert_int_equal(p, PERM_JOB_BUILD);
    assert_int_equal(perm_parse("job/build", &p), 0);
    assert_int_equal(p, PERM_JOB_BUILD);
    assert_int_equal(perm_parse("job-extended-read", &p), 0);
    assert_int_equal(p, PERM_JOB_EXTENDED_READ);
    assert_int_equal(perm_parse("Overall/Administer", &p), 0);
    assert_int_equal(p, PERM_ADMINISTER);
    assert_int_equal(perm_parse("com.cloudbees.plugins.credentials.CredentialsProvider.View", &p), 0);
    assert_int_equal(p, PERM_CREDENTIALS_VIEW);
    /* Jenkins' or a plugin's, not used here */
    assert_int_equal(perm_parse("hudson.model.Item.Discover", &p), -ENOENT);
    assert_int_equal(perm_parse("job-discover", &p), -ENOENT);
    assert_int_equal(perm_parse("Job/Discover", &p), -ENOENT);
    /* not a permission at all */
    assert_int_equal(perm_parse("", &p), -EINVAL);
    assert_int_equal(perm_parse("build", &p), -EINVAL);
    assert_int_equal(perm_parse("rm -rf /", &p), -EINVAL);
    assert_int_equal(perm_parse("a/b/c", &p), -EINVAL);
}

static void test_grant_forms(void **state)
{
    struct grant g;
    char *s;

    (void) state;
    assert_int_equal(grant_parse("USER:hudson.model.Item.Build:bob", &g), 0);
    assert_int_equal(g.kind, PRINCIPAL_USER);
    assert_int_equal(g.perm, PERM_JOB_BUILD);
    assert_string_equal(g.sid, "bob");
    s = grant_format(&g);
    assert_string_equal(s, "USER:hudson.model.Item.Build:bob");
    free(s);
    free(g.sid);

    /* the form before matrix-auth 3, which jenkins-job-builder writes */
    assert_int_equal(grant_parse("hudson.model.Item.Read:some:one", &g), 0);
    assert_int_equal(g.kind, PRINCIPAL_EITHER);
    assert_string_equal(g.sid, "some:one");
    s = grant_format(&g);
    assert_string_equal(s, "hudson.model.Item.Read:some:one");
    free(s);
    free(g.sid);

    assert_int_equal(grant_parse("GROUP:hudson.model.Hudson.Read:authenticated", &g), 0);
    assert_int_equal(g.kind, PRINCIPAL_GROUP);
    free(g.sid);

    assert_int_equal(grant_parse("USER:hudson.model.Item.Discover:bob", &g), -ENOENT);
    assert_int_equal(grant_parse("USER:hudson.model.Item.Build:", &g), -EINVAL);
    assert_int_equal(grant_parse("USER::bob", &g), -EINVAL);
    assert_int_equal(grant_parse("bob", &g), -EINVAL);
}

static void test_matching(void **state)
{
    struct grant g[] = {
        { PRINCIPAL_USER, PERM_JOB_BUILD, (char *) "bob" },
        { PRINCIPAL_GROUP, PERM_READ, (char *) "authenticated" },
        { PRINCIPAL_EITHER, PERM_JOB_READ, (char *) "anonymous" },
        { PRINCIPAL_GROUP, PERM_JOB_DELETE, (char *) "alice" }, /* no groups: nobody */
    };
    perm_set s;

    (void) state;
    s = perm_granted(g, 4, &bob);
    assert_true(s & PERM_BIT(PERM_JOB_BUILD));
    assert_true(s & PERM_BIT(PERM_JOB_CANCEL)); /* Build implies Cancel */
    assert_true(s & PERM_BIT(PERM_READ));
    assert_false(s & PERM_BIT(PERM_JOB_READ));
    s = perm_granted(g, 4, &alice);
    assert_int_equal(s, PERM_BIT(PERM_READ));
    s = perm_granted(g, 4, &anon);
    assert_int_equal(s, PERM_BIT(PERM_JOB_READ));
}

static void test_strategies(void **state)
{
    struct grant global[] = {
        { PRINCIPAL_GROUP, PERM_READ, (char *) "authenticated" },
        { PRINCIPAL_GROUP, PERM_JOB_READ, (char *) "authenticated" },
        { PRINCIPAL_USER, PERM_JOB_CONFIGURE, (char *) "alice" },
    };
    struct grant own[] = { { PRINCIPAL_USER, PERM_JOB_BUILD, (char *) "bob" } };
    struct job_matrix m = { .present = true, .inherit = true, .grants = own, .n_grants = 1 };
    perm_set g;

    (void) state;
    /*
     * logged-in: users everything but Administer, managing credentials
     * (they may list them) and managing nodes (they may take one offline),
     * anonymous per the setting
     */
    g = perm_global(AUTHZ_LOGGED_IN, NULL, 0, false, &bob);
    assert_int_equal(g, PERM_ALL & ~(PERM_BIT(PERM_ADMINISTER) | PERM_BIT(PERM_CREDENTIALS_CREATE) |
                                     PERM_BIT(PERM_CREDENTIALS_UPDATE) |
                                     PERM_BIT(PERM_CREDENTIALS_DELETE) |
                                     PERM_BIT(PERM_COMPUTER_CREATE) |
                                     PERM_BIT(PERM_COMPUTER_CONFIGURE) |
                                     PERM_BIT(PERM_COMPUTER_DELETE)));
    assert_true(g & PERM_BIT(PERM_COMPUTER_DISCONNECT));
    {
        enum perm p;

        assert_int_equal(perm_parse("hudson.model.Computer.Create", &p), 0);
        assert_int_equal(p, PERM_COMPUTER_CREATE);
        assert_int_equal(perm_parse("Computer/Configure", &p), 0);
        assert_int_equal(p, PERM_COMPUTER_CONFIGURE);
        assert_int_equal(perm_parse("agent/delete", &p), 0);
        assert_int_equal(p, PERM_COMPUTER_DELETE);
        assert_false(perm_is_item(PERM_COMPUTER_BUILD));
        assert_true(perm_implied(PERM_COMPUTER_CONFIGURE) & PERM_BIT(PERM_COMPUTER_EXTENDED_READ));
    }
    assert_true(g & PERM_BIT(PERM_CREDENTIALS_VIEW));
    assert_int_equal(perm_global(AUTHZ_LOGGED_IN, NULL, 0, false, &anon), 0);
    assert_int_equal(perm_global(AUTHZ_LOGGED_IN, NULL, 0, true, &anon),
                     PERM_BIT(PERM_READ) | PERM_BIT(PERM_JOB_READ));
    assert_int_equal(perm_global(AUTHZ_MATRIX, NULL, 0, true, &admin), PERM_ALL);

    /* matrix: the job's own grants do not count */
    g = perm_global(AUTHZ_MATRIX, global, 3, true, &bob);
    assert_int_equal(g, PERM_BIT(PERM_READ) | PERM_BIT(PERM_JOB_READ));
    assert_int_equal(perm_on_job(AUTHZ_MATRIX, g, &m, &bob), g);
    /* project-matrix: they add to the global ones */
    g = perm_global(AUTHZ_PROJECT_MATRIX, global, 3, true, &bob);
    assert_true(perm_on_job(AUTHZ_PROJECT_MATRIX, g, &m, &bob) & PERM_BIT(PERM_JOB_BUILD));
    assert_true(perm_on_job(AUTHZ_PROJECT_MATRIX, g, &m, &bob) & PERM_BIT(PERM_JOB_READ));
    /* ... or replace them, when the job does not inherit (Overall/Read stays) */
    m.inherit = false;
    assert_int_equal(perm_on_job(AUTHZ_PROJECT_MATRIX, g, &m, &bob),
                     PERM_BIT(PERM_READ) | PERM_BIT(PERM_JOB_BUILD) | PERM_BIT(PERM_JOB_CANCEL));
    g = perm_global(AUTHZ_PROJECT_MATRIX, global, 3, true, &alice);
    assert_int_equal(perm_on_job(AUTHZ_PROJECT_MATRIX, g, &m, &alice), PERM_BIT(PERM_READ));
    /* a job's matrix cannot make anyone an administrator */
    {
        struct grant up[] = { { PRINCIPAL_USER, PERM_ADMINISTER, (char *) "bob" },
                              { PRINCIPAL_USER, PERM_JOB_CREATE, (char *) "bob" } };
        struct job_matrix bad = { .present = true, .inherit = true, .grants = up, .n_grants = 2 };

        g = perm_global(AUTHZ_PROJECT_MATRIX, global, 3, true, &bob);
        assert_int_equal(perm_on_job(AUTHZ_PROJECT_MATRIX, g, &bad, &bob), g);
    }
    /* an administrator keeps everything */
    assert_int_equal(perm_on_job(AUTHZ_PROJECT_MATRIX, PERM_ALL, &m, &admin), PERM_ALL);
}

static void test_token_scopes_and_jobs(void **state)
{
    const char *why;
    unsigned v;
    char out[64];

    (void) state;
    assert_int_equal(scopes_parse("build,read", &v, &why), 0);
    assert_int_equal(v, SCOPE_BUILD | SCOPE_READ);
    assert_string_equal(scopes_format(v, out, sizeof out), "read,build");
    assert_int_equal(scopes_parse("", &v, &why), -EINVAL);
    assert_int_equal(scopes_parse("read,", &v, &why), -EINVAL);
    assert_int_equal(scopes_parse("Read", &v, &why), -EINVAL);
    assert_int_equal(scopes_parse("readbuild", &v, &why), -EINVAL);
    /* every scope sees; build builds and cancels; only admin administers */
    assert_true(scopes_allow(SCOPE_BUILD) & PERM_BIT(PERM_JOB_READ));
    assert_true(scopes_allow(SCOPE_BUILD) & PERM_BIT(PERM_JOB_CANCEL));
    assert_false(scopes_allow(SCOPE_BUILD) & PERM_BIT(PERM_JOB_CONFIGURE));
    assert_false(scopes_allow(SCOPE_CONFIGURE) & PERM_BIT(PERM_ADMINISTER));
    assert_int_equal(scopes_allow(SCOPE_ADMIN), PERM_ALL);
    assert_int_equal(scopes_allow(0), PERM_ALL);
    assert_string_equal(scope_for(PERM_JOB_BUILD), "build");
    assert_string_equal(scope_for(PERM_ADMINISTER), "admin");

    assert_int_equal(token_jobs_check("deploy-*,web", &why), 0);
    assert_int_equal(token_jobs_check("a,,b", &why), -EINVAL);
    assert_int_equal(token_jobs_check("a\nb", &why), -EINVAL);
    assert_true(token_job_ok("deploy-*,web", "deploy-db"));
    assert_true(token_job_ok("deploy-*,web", "web"));
    assert_false(token_job_ok("deploy-*,web", "web2"));
    assert_false(token_job_ok("deploy-*,web", "x-deploy-db"));
    assert_true(token_job_ok(NULL, "anything"));
    assert_true(token_job_ok("", "anything"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_every_form),
        cmocka_unit_test(test_grant_forms),
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_strategies),
        cmocka_unit_test(test_token_scopes_and_jobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
