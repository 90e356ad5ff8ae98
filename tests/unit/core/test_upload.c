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

#include "core/jobcfg.h"
#include "core/upload.h"
#include "util/fs.h"
#include "util/macro.h"

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void upload_location_check__takes_only_paths_inside_a_workspace(void **state)
{
    (void) state;
    assert_int_equal(upload_location_check("x.txt"), 0);
    assert_int_equal(upload_location_check("in/dir/data.bin"), 0);
    assert_int_equal(upload_location_check(".hidden"), 0);
    assert_int_equal(upload_location_check("a..b"), 0);
    const char *bad[] = { "", "/etc/passwd", "../x", "a/../../x", "a/..", "..", ".", "./x",
                          "a//b", "a/", "a\\b", "a\nb" };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        assert_int_equal(upload_location_check(bad[i]), -EINVAL);
}

static void upload_value__keeps_the_hash_and_only_a_clean_file_name(void **state)
{
    char h[UPLOAD_HASH_LEN + 1];
    const char *name;
    char *v;

    (void) state;
    v = upload_value(HASH, "../../etc/evil");
    assert_string_equal(v, "sha256:" HASH ":evil");
    assert_int_equal(upload_value_parse(v, h, &name), 0);
    assert_string_equal(h, HASH);
    assert_string_equal(name, "evil");
    free(v);
    v = upload_value(HASH, "C:\\Users\\me\\report.pdf");
    assert_string_equal(upload_shown_name(v), "report.pdf");
    free(v);
    v = upload_value(HASH, "a\nb\x1b[31m");
    assert_string_equal(upload_shown_name(v), "ab[31m");
    free(v);
    v = upload_value(HASH, "..");
    assert_string_equal(upload_shown_name(v), "upload");
    free(v);
    assert_int_equal(upload_value_parse("", h, &name), -ENOENT);
    assert_int_equal(upload_value_parse("plain", h, &name), -EINVAL);
    assert_int_equal(upload_value_parse("sha256:abc:x", h, &name), -EINVAL);
    assert_string_equal(upload_shown_name("sha256:xyz"), "");
}

static void upload_install__never_goes_through_a_link(void **state)
{
    char tmpl[] = "/tmp/steward-upload-XXXXXX";
    char *root = mkdtemp(tmpl), path[512], buf[64];
    int fd;

    (void) state;
    assert_non_null(root);
    snprintf(path, sizeof path, "%s/uploads", root);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/ws", root);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/outside", root);
    assert_int_equal(mkdir(path, 0700), 0);
    /* the kept upload */
    snprintf(path, sizeof path, "%s/uploads/.part-1", root);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_int_equal(write(fd, "bytes", 5), 5);
    close(fd);
    snprintf(buf, sizeof buf, "%s/uploads", root);
    assert_int_equal(upload_keep(buf, path, HASH), 0);
    assert_int_equal(access(path, F_OK), -1);

    /* a directory made, the file written */
    snprintf(path, sizeof path, "%s/ws", root);
    assert_int_equal(upload_install(buf, HASH, path, "a/b/f.txt", false, 0, 0), 0);
    snprintf(path, sizeof path, "%s/ws/a/b/f.txt", root);
    fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, buf + 32, 16), 5);
    close(fd);

    /* a link as a directory: refused; as the file: replaced */
    snprintf(path, sizeof path, "%s/ws/l", root);
    snprintf(buf + 32, 32, "../outside");
    assert_int_equal(symlink(buf + 32, path), 0);
    snprintf(buf, sizeof buf, "%s/uploads", root);
    snprintf(path, sizeof path, "%s/ws", root);
    assert_int_equal(upload_install(buf, HASH, path, "l/f.txt", false, 0, 0), -ELOOP);
    snprintf(path, sizeof path, "%s/outside/f.txt", root);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof path, "%s/ws", root);
    assert_int_equal(upload_install(buf, HASH, path, "l", false, 0, 0), 0);
    snprintf(path, sizeof path, "%s/ws/l", root);
    {
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
    }
    snprintf(path, sizeof path, "%s/ws", root);
    assert_int_equal(upload_install(buf, HASH, path, "../x", false, 0, 0), -EINVAL);
    upload_forget(buf, HASH);
    assert_int_equal(upload_install(buf, HASH, path, "g", false, 0, 0), -ENOENT);
    assert_int_equal(fs_rm_rf(root), 0);
}

static void jobcfg_parse__reads_a_file_parameter(void **state)
{
    static const char xml[] =
        "<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
        "<hudson.model.FileParameterDefinition><name>in/data.bin</name><description>d"
        "</description></hudson.model.FileParameterDefinition>"
        "</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties>"
        "</project>";
    struct job_config *cfg = NULL;
    char *msg = NULL, *out = NULL;
    size_t len;

    (void) state;
    assert_int_equal(jobcfg_parse(xml, strlen(xml), &cfg, &msg), 0);
    assert_int_equal(cfg->n_params, 1);
    assert_int_equal(cfg->params[0].type, PARAM_FILE);
    assert_string_equal(cfg->params[0].name, "in/data.bin");
    assert_int_equal(jobcfg_write(cfg, &out, &len), 0);
    assert_non_null(strstr(out, "<hudson.model.FileParameterDefinition>"));
    assert_null(strstr(out, "defaultValue"));
    free(out);
    jobcfg_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(upload_location_check__takes_only_paths_inside_a_workspace),
        cmocka_unit_test(upload_value__keeps_the_hash_and_only_a_clean_file_name),
        cmocka_unit_test(upload_install__never_goes_through_a_link),
        cmocka_unit_test(jobcfg_parse__reads_a_file_parameter),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
