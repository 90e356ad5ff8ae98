/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/settings.h"
#include "util/fs.h"
#include "util/macro.h"

struct files {
    char dir[64];
    char config[128];
    char netrc[128];
};

static int
setup(void **state)
{
    struct files *f = calloc(1, sizeof *f);

    snprintf(f->dir, sizeof f->dir, "/tmp/steward-test-settings-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->config, sizeof f->config, "%s/config", f->dir);
    snprintf(f->netrc, sizeof f->netrc, "%s/netrc", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct files *f = *state;

    (void) fs_rm_rf(f->dir);
    free(f);
    return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
}

/* Every source of every setting filled, each with its own value. */
static struct settings_input
all_sources(struct files *f)
{
    write_file(f->config, "url = http://config:1/\nuser = config-user\ntoken = config-token\n",
               0600);
    write_file(f->netrc, "machine flag login netrc-user password netrc-token\n", 0600);
    return (struct settings_input){
        .flag_url = "http://flag:1",
        .flag_user = "flag-user",
        .flag_token = "flag-token",
        .steward_url = "http://steward:1/",
        .steward_user = "steward-user",
        .steward_token = "steward-token",
        .jenkins_url = "http://jenkins:1/",
        .jenkins_user = "jenkins-user",
        .jenkins_token = "jenkins-token",
        .config_path = f->config,
        .netrc_path = f->netrc,
    };
}

static void
resolve_ok(const struct settings_input *in, struct settings *s)
{
    char *err = NULL;
    int r = settings_resolve(in, s, &err);

    if (r < 0)
        fail_msg("settings_resolve: %d %s", r, err ? err : "");
}

static void
precedence__flags_then_steward_then_jenkins_then_config_then_netrc(void **state)
{
    struct settings_input in = all_sources(*state);
    struct settings s;

    /* flags win */
    resolve_ok(&in, &s);
    assert_string_equal(s.url, "http://flag:1/");
    assert_string_equal(s.user, "flag-user");
    assert_string_equal(s.token, "flag-token");
    assert_int_equal(s.url_src, SRC_FLAG);
    assert_string_equal(settings_source_name(&s, 'n'), "--user");
    settings_release(&s);

    /* then STEWARD_* */
    in.flag_url = in.flag_user = in.flag_token = NULL;
    resolve_ok(&in, &s);
    assert_string_equal(s.url, "http://steward:1/");
    assert_string_equal(s.user, "steward-user");
    assert_string_equal(s.token, "steward-token");
    assert_string_equal(settings_source_name(&s, 't'), "STEWARD_TOKEN");
    settings_release(&s);

    /* then JENKINS_* */
    in.steward_url = in.steward_user = in.steward_token = NULL;
    resolve_ok(&in, &s);
    assert_string_equal(s.url, "http://jenkins:1/");
    assert_string_equal(s.user, "jenkins-user");
    assert_string_equal(s.token, "jenkins-token");
    assert_string_equal(settings_source_name(&s, 'n'), "JENKINS_USER_ID");
    assert_string_equal(settings_source_name(&s, 't'), "JENKINS_API_TOKEN");
    settings_release(&s);

    /* then the config file */
    in.jenkins_url = in.jenkins_user = in.jenkins_token = NULL;
    resolve_ok(&in, &s);
    assert_string_equal(s.url, "http://config:1/");
    assert_string_equal(s.user, "config-user");
    assert_string_equal(s.token, "config-token");
    assert_int_equal(s.token_src, SRC_CONFIG);
    assert_non_null(strstr(settings_source_name(&s, 't'), "config file"));
    settings_release(&s);
}

static void
precedence__is_per_setting(void **state)
{
    struct settings_input in = all_sources(*state);
    struct settings s;

    in.flag_url = NULL;
    in.flag_token = NULL;
    in.steward_user = in.steward_token = NULL;
    in.jenkins_url = NULL;
    resolve_ok(&in, &s);
    assert_string_equal(s.url, "http://steward:1/");
    assert_string_equal(s.user, "flag-user");
    assert_string_equal(s.token, "jenkins-token");
    assert_int_equal(s.url_src, SRC_ENV_STEWARD);
    assert_int_equal(s.user_src, SRC_FLAG);
    assert_int_equal(s.token_src, SRC_ENV_JENKINS);
    /* the token's own source names another user: kept for the 401 hint */
    assert_string_equal(s.token_source_user, "jenkins-user");
    settings_release(&s);
}

static void
stdin_token__ranks_with_the_flags(void **state)
{
    struct settings_input in = all_sources(*state);
    struct settings s;

    in.flag_token = NULL;
    in.stdin_token = "stdin-token";
    resolve_ok(&in, &s);
    assert_string_equal(s.token, "stdin-token");
    assert_int_equal(s.token_src, SRC_STDIN);
    assert_string_equal(settings_source_name(&s, 't'), "--token-stdin");
    settings_release(&s);
}

static void
netrc__fills_what_is_missing_for_the_urls_host(void **state)
{
    struct files *f = *state;
    struct settings_input in = { .flag_url = "http://ci.example.com:8080/jenkins",
                                 .netrc_path = f->netrc };
    struct settings s;

    write_file(f->netrc,
               "machine other.example.com login nobody password nothing\n"
               "machine ci.example.com\n  login alice\n  password \"11aa bb\"\n"
               "default login anon password anonpw\n",
               0600);
    resolve_ok(&in, &s);
    assert_string_equal(s.url, "http://ci.example.com:8080/jenkins/");
    assert_string_equal(s.user, "alice");
    assert_string_equal(s.token, "11aa bb");
    assert_int_equal(s.user_src, SRC_NETRC);
    assert_int_equal(s.token_src, SRC_NETRC);
    settings_release(&s);

    /* a user from a higher source must match the entry's login */
    in.flag_user = "bob";
    resolve_ok(&in, &s);
    assert_string_equal(s.user, "bob");
    assert_null(s.token);
    settings_release(&s);

    /* the config file outranks the netrc */
    in.flag_user = NULL;
    in.config_path = f->config;
    write_file(f->config, "token = from-config\n", 0600);
    resolve_ok(&in, &s);
    assert_string_equal(s.user, "alice");
    assert_string_equal(s.token, "from-config");
    assert_int_equal(s.token_src, SRC_CONFIG);
    settings_release(&s);
}

static void
netrc_lookup__reads_the_format(void **state)
{
    char *login = NULL, *password = NULL;

    (void) state;
    assert_int_equal(settings_netrc_lookup("machine a login x password y\n"
                                           "macdef init\ncd /\nls\n\n"
                                           "machine B account acct login u password p\n",
                                           "b", NULL, &login, &password),
                     0);
    assert_string_equal(login, "u");
    assert_string_equal(password, "p");
    free(login);
    free(password);
    assert_int_equal(settings_netrc_lookup("machine a login x password y\n", "c", NULL, &login,
                                           &password),
                     -ENOENT);
    assert_int_equal(settings_netrc_lookup("machine a login x password y\ndefault password d\n",
                                           "c", "someone", &login, &password),
                     0);
    assert_null(login);
    assert_string_equal(password, "d");
    free(password);
    assert_int_equal(settings_netrc_lookup("machine a login x password y\n", "a", "z", &login,
                                           &password),
                     -ENOENT);
}

static void
config__refused_when_others_may_read_its_token(void **state)
{
    struct files *f = *state;
    struct settings_input in = { .config_path = f->config };
    struct settings s;
    char *err = NULL;

    write_file(f->config, "url = http://h/\ntoken = secret\n", 0644);
    assert_int_equal(settings_resolve(&in, &s, &err), -EACCES);
    assert_non_null(strstr(err, "chmod 600"));
    assert_non_null(strstr(err, "may read it"));
    assert_null(strstr(err, "secret"));
    free(err);

    /* without a token, readable is fine */
    write_file(f->config, "url = http://h/\n", 0644);
    resolve_ok(&in, &s);
    assert_string_equal(s.url, "http://h/");
    settings_release(&s);
}

static void
config__refused_when_others_may_change_it(void **state)
{
    struct files *f = *state;
    struct settings_input in = { .config_path = f->config };
    struct settings s;
    char *err = NULL;

    write_file(f->config, "url = http://h/\n", 0660);
    assert_int_equal(settings_resolve(&in, &s, &err), -EACCES);
    assert_non_null(strstr(err, "may change it"));
    assert_non_null(strstr(err, "chmod 600"));
    free(err);
}

static void
config__missing_is_fine_and_malformed_is_not(void **state)
{
    struct files *f = *state;
    struct settings_input in = { .config_path = f->config, .flag_url = "https://h" };
    struct settings s;
    char *err = NULL;

    resolve_ok(&in, &s);
    assert_string_equal(s.url, "https://h/");
    assert_null(s.user);
    settings_release(&s);

    write_file(f->config, "# comment\n\nurl = http://h/\nthis line has no equals sign\n", 0600);
    assert_int_equal(settings_resolve(&in, &s, &err), -EINVAL);
    assert_non_null(strstr(err, ":4:"));
    free(err);
}

static void
config__values_may_be_quoted(void **state)
{
    struct files *f = *state;
    struct settings_input in = { .config_path = f->config };
    struct settings s;

    write_file(f->config, "  url=http://h:8080  \nuser = \" spaced \"\n", 0600);
    resolve_ok(&in, &s);
    assert_string_equal(s.url, "http://h:8080/");
    assert_string_equal(s.user, " spaced ");
    settings_release(&s);
}

static void
url__must_be_http(void **state)
{
    struct settings_input in = { .flag_url = "ftp://h/" };
    struct settings s;
    char *err = NULL;
    char *u;

    (void) state;
    assert_int_equal(settings_resolve(&in, &s, &err), -EINVAL);
    assert_non_null(strstr(err, "not an http:// or https:// URL"));
    free(err);
    assert_null(settings_normalise_url("localhost:8080"));
    assert_null(settings_normalise_url("http://"));
    assert_null(settings_normalise_url("http://h/x?y"));
    u = settings_normalise_url("http://h:1/ctx");
    assert_string_equal(u, "http://h:1/ctx/");
    free(u);
    u = settings_url_host("https://user@[::1]:8443/x");
    assert_string_equal(u, "::1");
    free(u);
    u = settings_url_host("http://Ci.Example.com:8080/");
    assert_string_equal(u, "Ci.Example.com");
    free(u);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            precedence__flags_then_steward_then_jenkins_then_config_then_netrc, setup, teardown),
        cmocka_unit_test_setup_teardown(precedence__is_per_setting, setup, teardown),
        cmocka_unit_test_setup_teardown(stdin_token__ranks_with_the_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(netrc__fills_what_is_missing_for_the_urls_host, setup,
                                        teardown),
        cmocka_unit_test(netrc_lookup__reads_the_format),
        cmocka_unit_test_setup_teardown(config__refused_when_others_may_read_its_token, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(config__refused_when_others_may_change_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(config__missing_is_fine_and_malformed_is_not, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(config__values_may_be_quoted, setup, teardown),
        cmocka_unit_test(url__must_be_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
