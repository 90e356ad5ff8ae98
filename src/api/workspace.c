/* SPDX-License-Identifier: MIT */
/*
 * A job's workspace over HTTP, as Jenkins has it:
 *
 *   GET  /job/NAME/ws/PATH             (Job/Workspace) a directory's listing, or a file
 *   POST /job/NAME/doWipeOutWorkspace  (Job/WipeOut)   the workspace goes; 302 to the job
 *
 * The workspace is written by build code: the browser walks it one
 * segment at a time without following a link (core/workspace.h), so a
 * link a build left there, '..' or its encoded forms never lead out.
 * It shows the job's workspace (its custom one when it has one); those of
 * concurrent builds (NAME@2...) are not browsed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/workspace.h"
#include "core/engine.h"
#include "core/workspace.h"
#include "util/bounds.h"
#include "util/html.h"
#include "util/macro.h"

/* The first segment of the path below /job/NAME/ws. */
#define WS_FIRST_SEG 3

struct entry {
    char *name;
    mode_t mode;
    off_t size;
};

static int
cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *) a)->name, ((const struct entry *) b)->name);
}

/* One path segment, percent-encoded but for the unreserved characters. */
static void
put_segment(struct buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            (void) buf_putc(b, (char) *p);
        else
            (void) buf_printf(b, "%%%02X", *p);
    }
}

static void
send_listing(const struct app *app, struct req *req, struct resp *resp, const struct job *job,
             int fd)
{
    struct buf *b = &resp->body;
    struct entry *list = NULL;
    size_t n = 0, cap = 0;
    bool cut = false;
    DIR *d = fdopendir(fd);

    (void) app;
    if (!d) {
        close(fd);
        api_send_text(resp, 500, "The workspace directory cannot be read.\n");
        return;
    }
    for (struct dirent *de; (de = readdir(d));) {
        struct stat st;

        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (n == BOUND_WS_LIST_ENTRIES) {
            cut = true;
            break;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct entry *nl = realloc(list, ncap * sizeof *nl);
            if (!nl)
                break;
            list = nl;
            cap = ncap;
        }
        list[n].name = strdup(de->d_name);
        if (!list[n].name)
            break;
        list[n].mode = st.st_mode;
        list[n].size = st.st_size;
        n++;
    }
    closedir(d);
    if (n)
        qsort(list, n, sizeof *list, cmp_entry);

    resp->status = 200;
    resp_header(resp, "Content-Type", "text/html;charset=UTF-8");
    html_raw(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    html_text(b, job->name);
    html_raw(b, " workspace</title></head><body><h1>Workspace of ");
    html_text(b, job->name);
    html_raw(b, "</h1><p>/");
    for (size_t i = WS_FIRST_SEG; i < req->n_seg; i++) {
        html_text(b, req->seg[i]);
        html_raw(b, "/");
    }
    html_raw(b, "</p><table class=\"fileList\">");
    if (req->n_seg > WS_FIRST_SEG)
        html_raw(b, "<tr><td><a href=\"../\">..</a></td><td></td></tr>");
    for (size_t i = 0; i < n; i++) {
        struct buf href = BUF_INIT(4096);
        bool dir = S_ISDIR(list[i].mode);

        put_segment(&href, list[i].name);
        if (dir)
            (void) buf_putc(&href, '/');
        html_raw(b, "<tr><td>");
        if (dir || S_ISREG(list[i].mode)) {
            html_raw(b, "<a href=\"");
            html_attr(b, href.ptr ? href.ptr : "");
            html_raw(b, "\">");
            html_text(b, list[i].name);
            html_raw(b, dir ? "/</a></td><td></td></tr>" : "</a></td><td class=\"fileSize\">");
            if (!dir) {
                html_int(b, (long long) list[i].size);
                html_raw(b, " B</td></tr>");
            }
        } else {
            html_text(b, list[i].name);
            html_raw(b, S_ISLNK(list[i].mode) ? "</td><td>a symbolic link: not followed</td></tr>"
                                              : "</td><td>not a file</td></tr>");
        }
        buf_release(&href);
        free(list[i].name);
    }
    free(list);
    html_raw(b, "</table>");
    if (cut)
        html_raw(b, "<p>The directory holds more entries than are shown here.</p>");
    html_raw(b, "</body></html>\n");
}

void
api_workspace(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_free_ char *base = NULL;
    const char *why = NULL;
    struct stat st;
    int fd = -1, r;

    r = workspace_base(app->home, app->jobs, job->name, job->cfg->custom_workspace, &base, &why);
    if (r < 0) {
        refuse(app, req, resp, &(struct refusal){
            .status = r == -EINVAL ? 409 : 500, .error = "No workspace",
            .presented = rfmt("The custom workspace of '%s' cannot be used: %s.", job->name,
                              why ? why : strerror(-r)),
            .fix = "Change <customWorkspace> in the job's config.xml." });
        return;
    }
    r = workspace_open(base, (const char *const *) req->seg + WS_FIRST_SEG,
                       req->n_seg - WS_FIRST_SEG, &fd, &st);
    if (r == -ENOENT && req->n_seg == WS_FIRST_SEG) {
        refuse(app, req, resp, &(struct refusal){
            .status = 404, .error = "No workspace",
            .presented = rfmt("The job '%s' has no workspace: no build has run since it was "
                              "made or its workspace was wiped out.", job->name),
            .fix = "Run a build; its workspace can be browsed here." });
        return;
    }
    if (r == -ELOOP || r == -EACCES) {
        refuse(app, req, resp, &(struct refusal){
            .status = 403, .error = "Not shown",
            .presented = r == -ELOOP ? "The path goes through a symbolic link, which the "
                                       "workspace browser does not follow."
                                     : "The path names '.', '..', or something that is neither "
                                       "a file nor a directory.",
            .fix = "Browse the workspace from /job/NAME/ws/ and follow its links." });
        return;
    }
    if (r < 0) {
        refuse(app, req, resp, &(struct refusal){
            .status = 404, .error = "Not found",
            .presented = "That file does not exist in the workspace." });
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (!req->trailing_slash) {
            /* relative links need the slash, as Jenkins' directory browser does */
            /* an owned string: a path may be longer than a scratch string holds */
            _cleanup_free_ char *location = NULL;

            close(fd);
            if (asprintf(&location, "%s/", req->raw_path) < 0) {
                api_send_text(resp, 500, "Out of memory.\n");
                return;
            }
            api_redirect(resp, 302, location);
            return;
        }
        send_listing(app, req, resp, job, fd);
        return;
    }
    resp->status = 200;
    resp_header(resp, "Content-Type", "application/octet-stream");
    resp_header(resp, "X-Content-Type-Options", "nosniff");
    resp->fd = fd;
    resp->fd_off = 0;
    resp->fd_len = (uint64_t) st.st_size;
}

void
api_wipe_workspace(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_free_ char *root = app_root_url(app, req);
    _cleanup_free_ char *ju = root ? job_url(root, job->name) : NULL;
    int r;

    r = engine_wipe_workspace(app->engine, job->name);
    if (r == -EBUSY) {
        refuse(app, req, resp, &(struct refusal){
            .status = 409, .error = "Workspace in use",
            .presented = rfmt("A build of '%s' is running in its workspace; Steward does not "
                              "delete a workspace from under a running build.", job->name),
            .fix = "Wait for the build to end, or stop it (POST /job/NAME/N/stop), then wipe "
                   "out the workspace again." });
        return;
    }
    if (r == -ENOENT) {
        refuse_no_job(app, req, resp, job->name);
        return;
    }
    if (r < 0) {
        refuse(app, req, resp, &(struct refusal){
            .status = r == -EINVAL ? 409 : 500, .error = "Workspace not wiped out",
            .presented = rfmt("The workspace of '%s' could not be deleted: %s.", job->name,
                              r == -EINVAL ? "its custom workspace cannot be used"
                                           : strerror(-r)),
            .fix = "Look at the server's log; try again." });
        return;
    }
    app_audit(req, "workspace-wipe", job->name, NULL);
    api_redirect(resp, 302, ju ? ju : "/");
}
