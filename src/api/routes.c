/* SPDX-License-Identifier: MIT */
/*
 * The URL space: the handlers, and at the end the table of every route,
 * the web layer's pages included. The dispatcher (api/dispatch.c) checks
 * credentials, permissions, the job's existence, the method and the crumb
 * before a handler runs; a handler checks only what depends on the object
 * it finds itself (a queue item's job).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/model.h"
#include "api/prometheus.h"
#include "api/hooks.h"
#include "api/scm.h"
#include "api/dispatch.h"
#include "api/tree.h"
#include "api/trigger.h"
#include "core/buildmeta.h"
#include "api/workspace.h"
#include "core/chain.h"
#include "util/bounds.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/strutil.h"

#define SEG(i) req_seg(req, (i))
#define SEG_IS(i, s) req_seg_is(req, (i), (s))


static void
not_found(const struct app *app, struct req *req, struct resp *resp, const char *what)
{
    refuse(app, req, resp,
           &(struct refusal){ .status = 404, .error = "Not found",
                              .presented = rfmt("%s does not exist.", what) });
}

static void
not_supported(const struct app *app, struct req *req, struct resp *resp, const char *feature)
{
    refuse(app, req, resp,
           &(struct refusal){ .status = 501, .error = "Not supported by Steward",
                              .presented = rfmt("%s is a Jenkins feature that Steward does not "
                                                "have.", feature),
                              .fix = "See docs/COMPAT.md for what Steward supports." });
}

static int
depth_param(struct req *req, struct resp *resp)
{
    const char *d = req_param(req, "depth");
    int64_t v = 0;

    if (d && parse_int64(d, 0, 1000000, &v) < 0) {
        api_send_text(resp, 400, "depth must be a whole number.\n");
        return -1;
    }
    return (int) MIN(v, BOUND_DEPTH);
}

static void
send_model(const struct app *app, struct req *req, struct resp *resp, const char *fmt, json_t *v)
{
    (void) app;
    if (!v) {
        api_send_text(resp, 500, "Could not build the answer.\n");
        return;
    }
    api_send_model(req, resp, fmt, v);
}

/* ---- root, identity, crumbs, nodes ---- */

static void
root_api(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    const char *fmt = SEG(1);
    struct model m;
    int depth;

    (void) unused;
    if ((depth = depth_param(req, resp)) < 0)
        return;
    if (model_init(&m, app, req) < 0)
        return;
    if (model_jobs_as_text(&m, fmt, depth))
        api_send_json_with(req, resp, model_root(&m, depth), "jobs", model_write_jobs, &m);
    else
        send_model(app, req, resp, fmt, model_root(&m, depth));
    model_release(&m);
}

static void
who_am_i(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    const char *fmt = SEG(2);
    json_t *v;

    (void) unused;
    if (req->basic_failed) {
        refuse_bad_credentials(app, req, resp);
        return;
    }
    if (req->id.anonymous)
        v = json_pack("{s:s, s:b, s:b, s:[s], s:s}", "_class", "hudson.security.WhoAmI",
                      "anonymous", true, "authenticated", true, "authorities", "anonymous",
                      "name", "anonymous");
    else
        v = json_pack("{s:s, s:b, s:b, s:[s], s:s}", "_class", "hudson.security.WhoAmI",
                      "anonymous", false, "authenticated", true, "authorities", "authenticated",
                      "name", req->id.name);
    if (v && !req->id.anonymous) {
        /* Steward's own fields: how the caller authenticated */
        static const char *const via[] = { "none", "apiToken", "password", "session" };
        json_object_set_new(v, "authenticatedBy", json_string(via[req->id.via]));
        if (req->id.via == VIA_TOKEN)
            json_object_set_new(v, "apiTokenName", json_string(req->id.token_name));
    }
    send_model(app, req, resp, fmt, v);
}

static json_t *
user_json(struct model *m, const char *name)
{
    return json_pack("{s:s, s:o, s:n, s:s, s:s, s:[]}", "_class", "hudson.model.User",
                     "absoluteUrl", json_sprintf("%suser/%s", m->root, name), "description",
                     "fullName", name, "id", name, "property");
}

static void
user_api(const struct app *app, struct req *req, struct resp *resp, const char *name,
         const char *fmt)
{
    struct user_row u = { 0 };
    struct model m;

    if (!name)
        name = req->id.name;
    if (store_user_get(req->db, name, &u) < 0) {
        not_found(app, req, resp, rfmt("User '%s'", name));
        return;
    }
    user_row_release(&u);
    if (model_init(&m, app, req) < 0)
        return;
    send_model(app, req, resp, fmt, user_json(&m, name));
    model_release(&m);
}

static void
crumb_api(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    const char *fmt = SEG(2);
    char crumb[SECRET_HMAC_HEX_LEN + 1];

    (void) unused;
    if (req->basic_failed) {
        refuse_bad_credentials(app, req, resp);
        return;
    }
    /*
     * The crumb of the caller's web session, if it has one. Unlike Jenkins,
     * a Basic request never starts a session (so a script cannot fill the
     * session table), and it needs no crumb: the crumb it gets here is
     * accepted and ignored.
     */
    auth_crumb(app->auth, req->id.name, req->session_id[0] ? req->session_id : NULL, crumb);
    send_model(app, req, resp, fmt,
               json_pack("{s:s, s:s, s:s}", "_class", "hudson.security.csrf.DefaultCrumbIssuer",
                         "crumb", crumb, "crumbRequestField", CRUMB_FIELD));
}

bool
api_is_builtin_node(const char *name)
{
    return streq(name, "(master)") || streq(name, "(built-in)") || streq(name, "built-in") ||
           streq(name, "master") || streq(name, "Built-In Node");
}

static void
computer_api(const struct app *app, struct req *req, struct resp *resp, const char *node,
             const char *fmt)
{
    _cleanup_(node_freep) struct node *agent = NULL;
    struct model m;
    int depth;

    if ((depth = depth_param(req, resp)) < 0)
        return;
    /* python-jenkins 1.4 asks by the display name; older clients by "(master)" */
    if (node && !api_is_builtin_node(node) &&
        (!app->nodes || nodes_get(app->nodes, node, &agent) < 0)) {
        not_found(app, req, resp, rfmt("Node '%s'", node));
        return;
    }
    if (model_init(&m, app, req) < 0)
        return;
    send_model(app, req, resp, fmt,
               agent ? model_node(&m, agent, depth)
               : node ? model_computer(&m, depth) : model_computer_set(&m, depth));
    model_release(&m);
}

/* ---- API tokens over HTTP ---- */

/* An expiry as Jenkins' token JSON writes it: an ISO date, or "never". */
static json_t *
expiry_json(int64_t ms)
{
    char s[32];
    time_t t = (time_t) (ms / 1000);
    struct tm tm;

    if (ms <= 0)
        return json_string("never");
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(s);
}

static void
token_endpoint(const struct app *app, struct req *req, struct resp *resp, const char *user,
               const char *action)
{
    struct user_row u = { 0 };
    json_t *v;
    int r;

    /* listing only reads: GET works for it; the rest are POST */
    if (!(streq(action, "list") && req_is_get(req))) {
        if (!req->is_post) {
            resp_header(resp, "Allow", "POST");
            refuse(app, req, resp, &(struct refusal){ .status = 405, .error = "Method not allowed",
                                                      .presented = rfmt("The request used %s.", req->method),
                                                      .fix = "Use POST for this URL." });
            return;
        }
        if (!crumb_check(app, req, resp))
            return;
    }
    if (!user)
        user = req->id.name;
    if (store_user_get(req->db, user, &u) < 0) {
        not_found(app, req, resp, rfmt("User '%s'", user));
        return;
    }
    if (streq(action, "generateNewToken")) {
        const char *name = req_param(req, "newTokenName"), *why;
        char value[API_TOKEN_LEN + 1], uuid[37], dflt[64];

        if (!name || !*name) {
            snprintf(dflt, sizeof dflt, "Token created on %lld", (long long) now_ms());
            name = dflt;
        }
        struct token_limits lim;

        if (auth_check_token_name(name, &why) < 0) {
            refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Bad token name",
                                                      .presented = why,
                                                      .fix = "Use a name of at most 100 bytes of UTF-8." });
            goto out;
        }
        /* Steward's own fields; without them a token has every right of its user, as in Jenkins */
        if (auth_token_limits(req->db, req_param(req, "scopes"), req_param(req, "jobs"),
                              req_param(req, "expires"), now_ms(), &lim, &why) < 0) {
            refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Bad token limits",
                                                      .presented = why,
                                                      .fix = "Send scopes=read,build, jobs=deploy-*, "
                                                             "expires=30d, or none of them." });
            goto out;
        }
        r = auth_token_new(req->db, u.id, name, &lim, value, uuid);
        if (r == -EEXIST) {
            refuse(app, req, resp,
                   &(struct refusal){ .status = 400, .error = "Token name taken",
                                      .presented = rfmt("User '%s' already has a token named '%s'.",
                                                        user, name),
                                      .fix = "Choose another name, or revoke the old token first." });
            goto out;
        }
        if (r < 0) {
            api_send_text(resp, 500, "Could not store the token.\n");
            goto out;
        }
        v = json_pack("{s:s, s:{s:s, s:s, s:s, s:o, s:b, s:s?, s:s?}}", "status", "ok", "data",
                      "tokenUuid", uuid, "tokenName", name, "tokenValue", value, "expirationDate",
                      expiry_json(lim.expires_ms), "aboutToExpire", false, "scopes", lim.scopes,
                      "jobs", lim.jobs);
        secret_wipe(value, sizeof value);
        app_audit(req, "token-new", NULL, "API token '%s' of user '%s'", name, user);
        api_send_json(req, resp, v);
    } else if (streq(action, "revoke")) {
        const char *uuid = req_param(req, "tokenUuid");
        const char *name = req_param(req, "tokenName");

        if (!uuid && !name) {
            refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Missing tokenUuid",
                                                      .presented = "The request named no token.",
                                                      .fix = "Send tokenUuid= (from the token list) or tokenName=." });
            goto out;
        }
        r = store_token_delete(req->db, u.id, uuid, uuid ? NULL : name);
        if (r == -ENOENT) {
            not_found(app, req, resp, rfmt("A token %s of user '%s'", uuid ? uuid : name, user));
            goto out;
        }
        app_audit(req, "token-revoke", NULL, "API token %s of user '%s'", uuid ? uuid : name, user);
        api_send_json(req, resp, json_pack("{s:s, s:n}", "status", "ok", "data"));
    } else if (streq(action, "list")) {
        /* Steward's own listing, for scripts: names, dates and use, never values */
        struct token_row *rows = NULL;
        size_t n = 0;
        json_t *a = json_array();
        if (store_token_list(req->db, u.id, &rows, &n) == 0) {
            for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:I, s:s?, s:s?, s:o}",
                                                   "uuid", rows[i].uuid, "name", rows[i].name,
                                                   "creationDate", (json_int_t) rows[i].created_ms,
                                                   "lastUseDate", (json_int_t) rows[i].last_use_ms,
                                                   "useCounter", (json_int_t) rows[i].use_count,
                                                   "scopes", rows[i].scopes, "jobs", rows[i].jobs,
                                                   "expirationDate", expiry_json(rows[i].expires_ms)));
            token_rows_free(rows, n);
        }
        api_send_json(req, resp, json_pack("{s:s, s:{s:o}}", "status", "ok", "data", "tokens", a));
    } else
        not_found(app, req, resp, rfmt("The token action '%s'", action));
out:
    user_row_release(&u);
}

/* ---- queue ---- */

/* May the caller do `p` on the job named `name` (which may be gone: then the global rights count)? */
static bool
may_on_job(const struct app *app, struct req *req, const char *name, enum perm p)
{
    _cleanup_(job_unrefp) struct job *job = jobs_get(app->jobs, name);
    perm_set have = app_perms(req, job);

    return (have & PERM_BIT(PERM_JOB_READ)) && (have & PERM_BIT(p));
}

struct queue_text {
    const struct app *app;
    struct model *m;
    const struct queue_row *rows;
    size_t n;
};

static int
write_queue_items(void *ctx, struct buf *out)
{
    struct queue_text *q = ctx;
    bool first = true;
    int r = buf_putc(out, '[');

    for (size_t i = 0; r >= 0 && i < q->n; i++) {
        json_t *v;

        if (!may_on_job(q->app, q->m->req, q->rows[i].job, PERM_JOB_READ))
            continue;
        if (!(v = model_queue_item(q->m, &q->rows[i])))
            return -ENOMEM;
        r = first ? 0 : buf_putc(out, ',');
        r = r < 0 ? r : api_append_json(out, v);
        json_decref(v);
        first = false;
    }
    return r < 0 ? r : buf_putc(out, ']');
}

/*
 * GET /queue/api/json. Its memory is bounded: the items' parameter values,
 * which make most of a big queue, are read only when tree= may show them
 * (no tree=, or one naming actions or params), and then only when the
 * answer fits HTTP_MAX_ANSWER_BYTES; else a 503 says how to ask for less.
 */
static void
queue_api(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    const char *fmt = SEG(2), *tree = req_param(req, "tree");
    struct queue_row *rows = NULL;
    size_t n = 0;
    struct model m;
    json_t *items;
    int64_t bytes = 0;
    int r;

    (void) unused;
    if (model_init(&m, app, req) < 0)
        return;
    m.brief_queue = tree && !strstr(tree, "actions") && !strstr(tree, "params");
    /* each value is in the answer twice (actions, params), escaped */
    if (!m.brief_queue && store_queue_waiting_bytes(req->db, &bytes) == 0 &&
        bytes * 3 > HTTP_MAX_ANSWER_BYTES) {
        model_release(&m);
        refuse(app, req, resp,
               &(struct refusal){
                   .status = 503, .error = "The queue is too large to answer with its parameters",
                   .presented = rfmt("The waiting items' parameters hold %lld MiB; with them the "
                                     "answer would pass the %s Steward sends at once.",
                                     (long long) (bytes >> 20), HTTP_MAX_ANSWER_TEXT),
                   .fix = "Ask without the parameters, e.g. "
                          "queue/api/json?tree=items[id,inQueueSince,why,task[name]], and read "
                          "the items you need one by one (queue/item/ID/api/json)." });
        return;
    }
    items = json_array();
    r = m.brief_queue ? store_queue_list_waiting_brief(req->db, &rows, &n)
                      : store_queue_list_waiting(req->db, NULL, &rows, &n);
    if (r < 0) {
        json_decref(items);
        model_release(&m);
        api_send_text(resp, 503, rfmt("The queue could not be read: %s.\n", strerror(-r)));
        return;
    }
    /* a long queue: every job's color and running build in two queries, not two an item */
    if (n > 64)
        model_prepare_colors(&m);
    if (streq(fmt, "json") && !tree && !req_param(req, "pretty")) {
        /* each item is made, written into the answer and freed in turn */
        struct queue_text q = { .app = app, .m = &m, .rows = rows, .n = n };

        api_send_json_with(req, resp,
                           json_pack("{s:s, s:[], s:o}", "_class", "hudson.model.Queue",
                                     "discoverableItems", "items", items),
                           "items", write_queue_items, &q);
    } else {
        for (size_t i = 0; i < n; i++)
            if (may_on_job(app, req, rows[i].job, PERM_JOB_READ))
                json_array_append_new(items, model_queue_item(&m, &rows[i]));
        send_model(app, req, resp, fmt,
                   json_pack("{s:s, s:[], s:o}", "_class", "hudson.model.Queue",
                             "discoverableItems", "items", items));
    }
    queue_rows_free(rows, n);
    model_release(&m);
}

static bool
queue_id_arg(const struct app *app, struct req *req, struct resp *resp, const char *s, int64_t *id)
{
    if (!s || parse_int64(s, 1, INT64_MAX, id) < 0) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Bad queue id",
                                                  .presented = rfmt("'%.64s' is not a queue item id.",
                                                                    s ? s : ""),
                                                  .fix = "Use the number from the Location of the trigger's answer." });
        return false;
    }
    return true;
}

/*
 * Cancels a waiting item whose job the caller may cancel builds of. An
 * item the caller may not see is refused as a missing one. False after
 * answering 404 or 403.
 */
static bool
queue_cancel_item(const struct app *app, struct req *req, struct resp *resp, int64_t id)
{
    static const char *const gone = "Read the item at /queue/item/ID/api/json to see what "
                                    "became of it.";
    struct queue_row q = { 0 };
    bool seen, may;

    seen = store_queue_get(req->db, id, &q) == 0 && may_on_job(app, req, q.job, PERM_JOB_READ);
    may = seen && may_on_job(app, req, q.job, PERM_JOB_CANCEL);
    if (seen && !may)
        refuse_permission(app, req, resp, PERM_JOB_CANCEL, q.job);
    queue_row_release(&q);
    if (!may) {
        if (!seen)
            refuse(app, req, resp,
                   &(struct refusal){ .status = 404, .error = "Not found",
                                      .presented = rfmt("Provided id (%lld) is not a waiting queue "
                                                        "item: it does not exist, has started, or "
                                                        "was cancelled.", (long long) id),
                                      .fix = gone });
        return false;
    }
    if (engine_cancel(app->engine, id) < 0) {
        refuse(app, req, resp,
               &(struct refusal){ .status = 404, .error = "Not found",
                                  .presented = rfmt("Provided id (%lld) is not a waiting queue "
                                                    "item: it does not exist, has started, or "
                                                    "was cancelled.", (long long) id),
                                  .fix = gone });
        return false;
    }
    app_audit(req, "queue-cancel", NULL, "queue item %lld", (long long) id);
    return true;
}

static void
queue_item(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    struct queue_row q = { 0 };
    const char *rest = SEG(3);
    struct model m;
    int64_t id;

    (void) unused;
    if (!queue_id_arg(app, req, resp, SEG(2), &id))
        return;
    if (store_queue_get(req->db, id, &q) < 0 || !may_on_job(app, req, q.job, PERM_JOB_READ)) {
        not_found(app, req, resp, rfmt("Queue item %lld", (long long) id));
        queue_row_release(&q);
        return;
    }
    if (rest && streq(rest, "api") && route_is_api_format(SEG(4))) {
        if (model_init(&m, app, req) == 0) {
            send_model(app, req, resp, SEG(4), model_queue_item(&m, &q));
            model_release(&m);
        }
    } else if (!rest)
        api_send_text(resp, 200, rfmt("Queue item exists. For details check, for example, "
                                      "%squeue/item/%lld/api/json?tree=cancelled,executable[url]\n",
                                      app->root_url ? app->root_url : "/", (long long) id));
    else
        not_found(app, req, resp, rfmt("The page '%s' of a queue item", rest));
    queue_row_release(&q);
}

static void
queue_item_cancel(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    int64_t id;

    (void) unused;
    if (!queue_id_arg(app, req, resp, SEG(2), &id) || !queue_cancel_item(app, req, resp, id))
        return;
    api_redirect(resp, 302, rfmt("%squeue/", app->root_url ? app->root_url : "/"));
}

static void
queue_cancel(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    int64_t id;

    (void) unused;
    if (!queue_id_arg(app, req, resp, req_param(req, "id"), &id) ||
        !queue_cancel_item(app, req, resp, id))
        return;
    /* 302 with an empty body: npm's client needs a 302, python-jenkins a body-less answer it can read */
    {
        _cleanup_free_ char *root = app_root_url(app, req);
        api_redirect(resp, 302, rfmt("%squeue/", root ? root : "/"));
    }
}

/* ---- builds ---- */

static int
build_number(struct req *req, const char *job, const char *s, int64_t *ret)
{
    if (parse_int64(s, 1, INT64_MAX, ret) == 0)
        return 0;
    return store_build_permalink(req->db, job, s, ret);
}

static void
serve_log(const struct app *app, struct req *req, struct resp *resp, const struct job *job,
          const struct build_row *b, bool progressive)
{
    _cleanup_free_ char *path = home_build_log(app->home, job->name, b->number);
    struct stat st;
    int64_t start = 0;
    uint64_t size, len;
    int fd;

    fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        size = 0;
    } else
        size = (uint64_t) st.st_size;

    if (!progressive) {
        resp->status = 200;
        resp_header(resp, "Content-Type", "text/plain;charset=UTF-8");
        if (fd >= 0) {
            resp->fd = fd;
            resp->fd_off = 0;
            resp->fd_len = size;
        }
        return;
    }
    if (req_param(req, "start") &&
        parse_int64(req_param(req, "start"), 0, INT64_MAX, &start) < 0) {
        if (fd >= 0)
            close(fd);
        api_send_text(resp, 400, "start must be a byte offset (a whole number).\n");
        return;
    }
    if ((uint64_t) start > size)
        start = 0; /* as Jenkins does: a start past the end restarts */
    len = MIN(size - (uint64_t) start, (uint64_t) BOUND_LOG_PAGE_BYTES);
    resp->status = 200;
    resp_header(resp, "Content-Type", "text/plain;charset=UTF-8");
    resp_header(resp, "X-Text-Size", rfmt("%llu", (unsigned long long) ((uint64_t) start + len)));
    if (!b->result || (uint64_t) start + len < size)
        resp_header(resp, "X-More-Data", "true");
    if (fd >= 0) {
        resp->fd = fd;
        resp->fd_off = (uint64_t) start;
        resp->fd_len = len;
    }
}

/*
 * /job/NAME/N/artifact/PATH: a file of the build's archive. Every segment
 * is checked, and the file is opened without following links. Artifacts
 * the row says were discarded are gone, though their files may not have
 * reached the trash yet.
 */
static void
serve_artifact(const struct app *app, struct req *req, struct resp *resp, const struct job *job,
               const struct build_row *b)
{
    _cleanup_free_ char *dir = b->archived ? home_build_dir(app->home, job->name, b->number)
                                           : NULL;
    struct buf path = BUF_INIT(BOUND_URL_BYTES);
    struct stat st;
    int fd = -1;

    if (!dir || buf_printf(&path, "%s/archive", dir) < 0)
        goto out;
    for (size_t i = 4; i < req->n_seg; i++) {
        const char *seg = req->seg[i];
        if (streq(seg, ".") || streq(seg, "..") || strchr(seg, '/') || buf_printf(&path, "/%s", seg) < 0)
            goto out;
    }
    fd = open(path.ptr, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
out:
    buf_release(&path);
    if (fd < 0) {
        not_found(app, req, resp, "That artifact");
        return;
    }
    resp->status = 200;
    resp_header(resp, "Content-Type", "application/octet-stream");
    resp->fd = fd;
    resp->fd_off = 0;
    resp->fd_len = (uint64_t) st.st_size;
}

static void
build_stop(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_free_ char *root = app_root_url(app, req);
    _cleanup_free_ char *ju = root ? job_url(root, job->name) : NULL;
    int64_t number;

    if (build_number(req, job->name, SEG(2), &number) < 0) {
        not_found(app, req, resp, rfmt("Build %s of job '%s'", SEG(2), job->name));
        return;
    }
    (void) engine_stop_build(app->engine, job->name, number, req->id.name);
    app_audit(req, "build-stop", job->name, "build #%lld", (long long) number);
    api_redirect(resp, 302, rfmt("%s%lld/", ju ? ju : "/", (long long) number));
}

/* /job/X/N/testReport/api/json: the JUnit publisher's results (404 without any) */
static void
build_test_report(const struct app *app, struct req *req, struct resp *resp, struct job *job,
                  int64_t number)
{
    const char *format = SEG(5) ? SEG(5) : "json", *expr = req_param(req, "tree");
    _cleanup_(tree_freep) struct tree *t = NULL;
    struct model m;
    json_t *v;
    int r;

    if (model_init(&m, app, req) < 0) {
        api_send_text(resp, 500, "Out of memory.\n");
        return;
    }
    /* compact JSON is written as the cases are read; a malformed tree= gets its 400 below */
    if (streq(format, "json") && !req_param(req, "pretty") &&
        (!expr || tree_parse(expr, &t, NULL) == 0)) {
        buf_clear(&resp->body);
        r = model_write_test_report(&m, job, number, t, &resp->body);
        if (r >= 0) {
            resp->status = 200;
            resp_header(resp, "Content-Type", "application/json;charset=utf-8");
        } else if (r == -E2BIG)
            resp_too_large(resp);
        else if (r != -ENOENT)
            api_send_text(resp, 500, "Could not build the answer.\n");
        else
            not_found(app, req, resp, rfmt("Test results of build #%lld of job '%s' (the build "
                                           "recorded none)", (long long) number, job->name));
        model_release(&m);
        return;
    }
    v = model_test_report(&m, job, number);
    if (v)
        send_model(app, req, resp, format, v);
    else
        not_found(app, req, resp, rfmt("Test results of build #%lld of job '%s' (the build "
                                       "recorded none)", (long long) number, job->name));
    model_release(&m);
}

static void
build_route(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    struct build_row b = { 0 };
    const char *what = SEG(3);
    struct model m;
    int64_t number;

    if (build_number(req, job->name, SEG(2), &number) < 0 ||
        store_build_get(req->db, job->name, number, &b) < 0) {
        not_found(app, req, resp, rfmt("Build %s of job '%s'", SEG(2), job->name));
        return;
    }
    if (!what || (streq(what, "api") && route_is_api_format(SEG(4)))) {
        if (model_init(&m, app, req) == 0) {
            send_model(app, req, resp, what ? SEG(4) : "json", model_build(&m, job, &b, 0));
            model_release(&m);
        }
    } else if (streq(what, "consoleText") || streq(what, "console")) {
        serve_log(app, req, resp, job, &b, false);
    } else if (streq(what, "logText") && SEG_IS(4, "progressiveText")) {
        serve_log(app, req, resp, job, &b, true);
    } else if (streq(what, "artifact") && req->n_seg > 4) {
        serve_artifact(app, req, resp, job, &b);
    } else if (streq(what, "buildNumber")) {
        api_send_text(resp, 200, rfmt("%lld", (long long) number));
    } else if (streq(what, "stop") || streq(what, "submitDescription") ||
               streq(what, "configSubmit") || streq(what, "toggleLogKeep") ||
               streq(what, "doDelete")) {
        /* a POST went to its own route */
        resp_header(resp, "Allow", "POST");
        refuse(app, req, resp, &(struct refusal){ .status = 405, .error = "Method not allowed",
                                                  .presented = rfmt("The request used %s.", req->method),
                                                  .fix = rfmt("Use POST for %s.", what) });
    } else if (streq(what, "testReport") &&
               (!SEG(4) || (streq(SEG(4), "api") && route_is_api_format(SEG(5))))) {
        build_test_report(app, req, resp, job, number);
    } else if (streq(what, "injectedEnvVars")) {
        not_found(app, req, resp, rfmt("'%s' (a plugin's page)", what));
    } else
        not_found(app, req, resp, rfmt("The page '%s' of a build", what));
    build_row_release(&b);
}

/* ---- a build's description, display name and keep-forever flag ---- */

static bool job_urls(const struct app *app, struct req *req, struct resp *resp, const char *name,
                     char **ret_root, char **ret_ju);

/* The build the URL names, as a number; false after answering 404. */
static bool
build_named(const struct app *app, struct req *req, struct resp *resp, const struct job *job,
            int64_t *ret_number)
{
    struct build_row b = { 0 };

    if (build_number(req, job->name, SEG(2), ret_number) < 0 ||
        store_build_get(req->db, job->name, *ret_number, &b) < 0) {
        not_found(app, req, resp, rfmt("Build %s of job '%s'", SEG(2), job->name));
        return false;
    }
    build_row_release(&b);
    return true;
}

/* False after answering 400 when a text does not pass core/buildmeta's rules. */
static bool
meta_text_ok(const struct app *app, struct req *req, struct resp *resp, const char *text,
             bool display_name)
{
    const char *why = NULL;
    int r;

    if (!text)
        return true;
    r = display_name ? buildmeta_check_display_name(text, &why)
                     : buildmeta_check_description(text, &why);
    if (r == 0)
        return true;
    refuse(app, req, resp,
           &(struct refusal){ .status = r == -E2BIG ? 413 : 400,
                              .error = display_name ? "Invalid display name" : "Invalid description",
                              .presented = why,
                              .fix = rfmt("Send UTF-8 text of at most %d bytes%s. Nothing was changed.",
                                          display_name ? BOUND_BUILD_DISPLAY_NAME_BYTES
                                                       : BOUND_BUILD_DESCRIPTION_BYTES,
                                          display_name ? " on one line" : "") });
    return false;
}

/* Where the answer to a change sends the browser, as Jenkins does. */
enum change_goes_to {
    TO_BUILD,      /* the build's page */
    TO_REFERER,    /* the page it came from, when it is one of this server's; else the build's */
    TO_JOB,        /* the job's page (the build is gone) */
};

/* Has the engine make the change, and answers 302 (or why not). */
static void
answer_build_change(const struct app *app, struct req *req, struct resp *resp, const struct job *job,
                    int64_t number, const struct build_change *c, const char *action,
                    enum change_goes_to to)
{
    _cleanup_free_ char *root = NULL, *ju = NULL;
    const char *referer = req_header(req, "Referer");
    const char *name = rfmt("%s #%lld", job->name, (long long) number);
    int r;

    if (!job_urls(app, req, resp, job->name, &root, &ju))
        return;
    r = engine_change_build(app->engine, job->name, number, c);
    switch (r) {
    case 0:
        break;
    case -ENOENT:
        not_found(app, req, resp, rfmt("Build #%lld of job '%s'", (long long) number, job->name));
        return;
    case -EBUSY:
        refuse(app, req, resp, &(struct refusal){ .status = 409, .error = "The build is running",
                                                  .presented = rfmt("Unable to delete %s: it has not finished.", name),
                                                  .fix = "Stop it (POST .../stop) or wait until it ends, then delete it." });
        return;
    case -EPERM:
        refuse(app, req, resp, &(struct refusal){ .status = 409, .error = "The build is kept forever",
                                                  .presented = rfmt("Unable to delete %s: it is marked to be kept forever.", name),
                                                  .fix = "Remove the mark first (POST .../toggleLogKeep, which takes Run/Delete), then delete it." });
        return;
    case -ECANCELED:
        refuse(app, req, resp, &(struct refusal){ .status = 503, .error = "Steward is stopping",
                                                  .presented = "The server is shutting down: nothing was changed.",
                                                  .fix = "Retry once it is back." });
        return;
    default:
        refuse(app, req, resp, &(struct refusal){ .status = r == -ENOSPC ? 507 : 500,
                                                  .error = "Could not change the build",
                                                  .presented = rfmt("Writing to the database failed: %s.", strerror(-r)),
                                                  .fix = "Nothing was changed. The server's log may say more." });
        return;
    }
    app_audit(req, action, job->name, "build #%lld", (long long) number);
    if (to == TO_REFERER && referer && startswith(referer, root) && !strpbrk(referer, "\r\n"))
        api_redirect(resp, 302, referer);
    else if (to == TO_JOB)
        api_redirect(resp, 302, ju);
    else
        api_redirect(resp, 302, rfmt("%s%lld/", ju, (long long) number));
}

/* POST /job/NAME/N/submitDescription with description= (absent: none), Run/Update. */
static void
build_submit_description(const struct app *app, struct req *req, struct resp *resp,
                         struct job *job)
{
    const char *text = req_param(req, "description");
    int64_t number;

    if (!build_named(app, req, resp, job, &number) || !meta_text_ok(app, req, resp, text, false))
        return;
    answer_build_change(app, req, resp, job, number,
                 &(struct build_change){ .set_description = true, .description = text, .keep = -1 },
                 "build-describe", TO_BUILD);
}

/* A string member of the form's JSON: false after answering 400 for another type. */
static bool
json_text_member(const struct app *app, struct req *req, struct resp *resp, json_t *o,
                 const char *key, bool *ret_set, const char **ret_text)
{
    json_t *v = json_object_get(o, key);

    *ret_set = v != NULL;
    *ret_text = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Malformed form",
                                                  .presented = rfmt("In the json field, %s is not a string.", key),
                                                  .fix = "Send json={\"displayName\":\"...\",\"description\":\"...\"}." });
        return false;
    }
    *ret_text = json_string_value(v);
    return true;
}

/*
 * POST /job/NAME/N/configSubmit, Run/Update: Jenkins' form sends
 * json={"displayName": ..., "description": ...}; the fields may also come
 * as plain form fields. A display name is trimmed, and an empty one is the
 * default "#N". A field not sent is left as it is.
 */
static void
build_config_submit(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    const char *form = req_param(req, "json");
    json_t *o = NULL;
    _cleanup_free_ char *name = NULL;
    struct build_change c = { .keep = -1 };
    int64_t number;

    if (!build_named(app, req, resp, job, &number))
        return;
    if (form) {
        o = json_loads(form, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Malformed form",
                                                      .presented = "The json field is not a JSON object.",
                                                      .fix = "Send json={\"displayName\":\"...\",\"description\":\"...\"}." });
            return;
        }
        if (!json_text_member(app, req, resp, o, "displayName", &c.set_display_name, &c.display_name) ||
            !json_text_member(app, req, resp, o, "description", &c.set_description, &c.description))
            goto out;
    } else {
        c.display_name = req_param(req, "displayName");
        c.description = req_param(req, "description");
        c.set_display_name = c.display_name != NULL;
        c.set_description = c.description != NULL;
    }
    if (c.display_name) {
        /* Jenkins trims it (Util.fixEmptyAndTrim) */
        const char *t = c.display_name;
        size_t len;

        while (*t == ' ' || *t == '\t')
            t++;
        len = strlen(t);
        while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
            len--;
        name = strndup(t, len);
        if (!name) {
            api_send_text(resp, 500, "Out of memory.\n");
            goto out;
        }
        c.display_name = *name ? name : NULL;
    }
    if (meta_text_ok(app, req, resp, c.display_name, true) &&
        meta_text_ok(app, req, resp, c.description, false))
        answer_build_change(app, req, resp, job, number, &c, "build-configure", TO_BUILD);
out:
    json_decref(o);
}

/*
 * POST /job/NAME/N/toggleLogKeep: keeping takes Run/Update, and no longer
 * keeping Run/Delete (it lets the build be discarded), as in Jenkins.
 */
static void
build_toggle_keep(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    struct build_row b = { 0 };
    int64_t number;
    bool keep;

    if (build_number(req, job->name, SEG(2), &number) < 0 ||
        store_build_get(req->db, job->name, number, &b) < 0) {
        not_found(app, req, resp, rfmt("Build %s of job '%s'", SEG(2), job->name));
        return;
    }
    keep = !b.keep_log;
    build_row_release(&b);
    if (!route_check_job(app, req, resp, job, job->name, keep ? PERM_RUN_UPDATE : PERM_RUN_DELETE))
        return;
    answer_build_change(app, req, resp, job, number, &(struct build_change){ .keep = keep },
                 keep ? "build-keep" : "build-unkeep", TO_REFERER);
}

/* POST /job/NAME/N/doDelete, Run/Delete: refused while it runs or is kept forever. */
static void
build_delete(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    int64_t number;

    if (build_named(app, req, resp, job, &number))
        answer_build_change(app, req, resp, job, number,
                            &(struct build_change){ .delete = true, .keep = -1 }, "build-delete",
                            TO_JOB);
}

/* ---- jobs ---- */

static bool
xml_content_type_ok(const struct app *app, struct req *req, struct resp *resp)
{
    (void) app;
    (void) resp;
    (void) req;
    /* Jenkins requires a Content-Type; curl --data-binary sends a form type, which we accept too */
    return true;
}

static void
send_job_error(const struct app *app, struct req *req, struct resp *resp, int r, const char *name,
               const char *msg)
{
    if (r == -EEXIST)
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Job exists",
                                                  .presented = rfmt("A job already exists with the name '%s'.", name),
                                                  .fix = "Choose another name, or POST to /job/NAME/config.xml to change it." });
    else if (r == -EINVAL || r == -E2BIG)
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Invalid job",
                                                  .presented = msg ? msg : "The job's name or config.xml is not valid.",
                                                  .fix = "Send a freestyle <project> config.xml; see docs/COMPAT.md." });
    else if (r == -ENOENT)
        not_found(app, req, resp, rfmt("Job '%s'", name));
    else if (r == -ENOSPC || r == -EDQUOT)
        refuse(app, req, resp, &(struct refusal){ .status = 507, .error = "The server's disk is full",
                                                  .presented = rfmt("Steward could not write the config.xml of '%s': %s.", name, strerror(-r)),
                                                  .fix = "Nothing was changed. Retry once an administrator has made room on the disk." });
    else
        refuse(app, req, resp, &(struct refusal){ .status = 500, .error = "Could not store the job",
                                                  .presented = rfmt("Writing the config.xml of '%s' failed: %s.", name, strerror(-r)),
                                                  .fix = "Nothing was changed. The server's log may say more." });
}

/* False after answering 400 for a name that cannot be a job's. */
static bool
bad_job_name(const struct app *app, struct req *req, struct resp *resp, const char *name)
{
    const char *why;

    if (job_name_check(name, &why) == 0)
        return true;
    refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Invalid job name",
                                              .presented = why,
                                              .fix = "Choose a name of letters, digits, spaces, '-', '_' and '.', at most 200 bytes." });
    return false;
}

/*
 * The answer to a saved config.xml names the parts of the job Steward does
 * not run, in X-Steward-Unsupported: "builders/hudson.tasks.Maven (fails),
 * publishers/hudson.tasks.Mailer (skipped)". Bytes outside printable
 * ASCII become '?', and the list stops at 4 KB with "...".
 */
static void
say_unsupported(const struct app *app, struct resp *resp, const char *name)
{
    _cleanup_(job_unrefp) struct job *job = jobs_get(app->jobs, name);
    _cleanup_(buf_releasep) struct buf b = BUF_INIT(8192);
    struct unsupported u;
    size_t pos = 0;

    while (job && jobcfg_next_unsupported(job->cfg, &pos, &u)) {
        size_t start = b.len;

        if (b.len > 4096) {
            (void) buf_puts(&b, ", ...");
            break;
        }
        if (buf_printf(&b, "%s%s (%s)", start ? ", " : "", u.element,
                       support_to_string(u.verdict)) < 0)
            return;
        for (size_t i = start; i < b.len; i++)
            if (b.ptr[i] < 0x20 || b.ptr[i] > 0x7e)
                b.ptr[i] = '?';
    }
    if (b.len)
        resp_header(resp, "X-Steward-Unsupported", buf_str(&b));
}

static void
create_item(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    const char *name = req_param(req, "name"), *mode = req_param(req, "mode");
    _cleanup_free_ char *err = NULL;
    int r;

    (void) unused;
    if (req->body_problem == BODY_TOO_LARGE) {
        refuse(app, req, resp, &(struct refusal){ .status = 413, .error = "Request body too large",
                                                  .presented = rfmt("The limit is %d bytes.", BOUND_BODY_BYTES) });
        return;
    }
    if (!name) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Query parameter 'name' is required",
                                                  .fix = "POST /createItem?name=NAME with the config.xml as the body." });
        return;
    }
    if (!bad_job_name(app, req, resp, name))
        return;
    if (app_token_hides(req, name)) {
        refuse(app, req, resp,
               &(struct refusal){ .status = 403, .error = "Outside this API token's jobs",
                                  .presented = rfmt("The API token '%s' is limited to the jobs %s, "
                                                    "and '%s' is not one of them.",
                                                    req->id.token_name, req->id.token_jobs, name),
                                  .fix = "Choose a name the token's jobs match, or another token." });
        return;
    }
    if (mode && streq(mode, "copy")) {
        const char *from = req_param(req, "from");
        _cleanup_(job_unrefp) struct job *src = from ? jobs_get(app->jobs, from) : NULL;
        if (!src || !app_may(req, PERM_JOB_READ, src)) {
            refuse(app, req, resp, &(struct refusal){ .status = 400, .error = rfmt("No such job: %s", from ? from : ""),
                                                      .fix = "Give the job to copy as from=NAME." });
            return;
        }
        /* a copy shows the whole configuration, trigger token included */
        if (!app_may(req, PERM_JOB_CONFIGURE, src)) {
            refuse_permission(app, req, resp, PERM_JOB_CONFIGURE, src->name);
            return;
        }
        _cleanup_free_ char *xml = NULL;
        size_t len;
        r = jobs_read_xml(app->jobs, src->name, &xml, &len);
        if (r < 0) {
            api_send_text(resp, 500, rfmt("Could not read the config.xml of '%s': %s\n", src->name,
                                          strerror(-r)));
            return;
        }
        r = jobs_create(app->jobs, name, xml, len, &err);
        if (r < 0) {
            send_job_error(app, req, resp, r, name, err);
            return;
        }
        app_audit(req, "job-create", name, "a copy of '%s'", src->name);
        _cleanup_free_ char *root = app_root_url(app, req);
        _cleanup_free_ char *ju = root ? job_url(root, name) : NULL;
        api_redirect(resp, 302, ju ? ju : "/");
        return;
    }
    if (!xml_content_type_ok(app, req, resp))
        return;
    if (req->body.len == 0) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Missing config.xml",
                                                  .presented = "The request body is empty.",
                                                  .fix = "Send the job's config.xml as the body, with Content-Type: application/xml." });
        return;
    }
    r = jobs_create(app->jobs, name, req->body.ptr, req->body.len, &err);
    if (r < 0) {
        send_job_error(app, req, resp, r, name, err);
        return;
    }
    app_audit(req, "job-create", name, NULL);
    say_unsupported(app, resp, name);
    api_send_text(resp, 200, "");
}

static void
job_config_get(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    _cleanup_free_ char *xml = NULL, *masked = NULL;
    size_t len = 0;
    int r;

    r = jobs_read_xml(app->jobs, job->name, &xml, &len);
    if (r < 0) {
        api_send_text(resp, 500, rfmt("Could not read the config.xml: %s\n", strerror(-r)));
        return;
    }
    if (app_may(req, PERM_JOB_CONFIGURE, job)) {
        resp_set(resp, 200, "application/xml", xml, len);
        return;
    }
    /* Job/ExtendedRead alone: everything but the trigger token */
    if (jobcfg_parse(xml, len, &cfg, NULL) < 0 || jobcfg_masked_xml(cfg, &masked, &len) < 0) {
        api_send_text(resp, 500, "Could not prepare the config.xml.\n");
        return;
    }
    resp_set(resp, 200, "application/xml", masked, len);
}

static void
job_config_post(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_free_ char *err = NULL;
    int r;

    if (req->body_problem == BODY_TOO_LARGE) {
        refuse(app, req, resp, &(struct refusal){ .status = 413, .error = "Request body too large",
                                                  .presented = rfmt("The limit is %d bytes.", BOUND_BODY_BYTES) });
        return;
    }
    r = jobs_update_xml(app->jobs, job->name, req->body.ptr ? req->body.ptr : "", req->body.len, &err);
    if (r < 0) {
        send_job_error(app, req, resp, r, job->name, err);
        return;
    }
    app_audit(req, "job-configure", job->name, "config.xml");
    say_unsupported(app, resp, job->name);
    api_send_text(resp, 200, "");
}

/* The job's URL for this request's root, in *ret; false after answering 500. */
static bool
job_urls(const struct app *app, struct req *req, struct resp *resp, const char *name, char **ret_root,
         char **ret_ju)
{
    *ret_root = app_root_url(app, req);
    *ret_ju = *ret_root ? job_url(*ret_root, name) : NULL;
    if (!*ret_ju) {
        api_send_text(resp, 500, "Out of memory.\n");
        return false;
    }
    return true;
}

static void
job_root(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_free_ char *root = NULL, *ju = NULL;

    if (job_urls(app, req, resp, job->name, &root, &ju))
        api_redirect(resp, 302, rfmt("%sapi/json", ju));
}

static void
job_api(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    struct model m;
    int depth;

    if ((depth = depth_param(req, resp)) < 0 || model_init(&m, app, req) < 0)
        return;
    if (model_all_builds_as_text(&m, job, SEG(3)))
        api_send_json_with(req, resp, model_job(&m, job, depth, true), "allBuilds",
                           model_write_all_builds, &m);
    else
        send_model(app, req, resp, SEG(3), model_job(&m, job, depth, true));
    model_release(&m);
}

static void
job_description(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    (void) app;
    (void) req;
    api_send_text(resp, 200, job->cfg->description ? job->cfg->description : "");
}

static void
job_trigger(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    trigger_handle(app, req, resp, SEG(1), false);
}

static void
job_delete(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_free_ char *root = app_root_url(app, req);
    int r;

    (void) engine_forget_job(app->engine, job->name);
    r = jobs_delete(app->jobs, job->name);
    if (r < 0) {
        send_job_error(app, req, resp, r, job->name, NULL);
        return;
    }
    app_audit(req, "job-delete", job->name, NULL);
    api_redirect(resp, 302, root ? root : "/");
}

static void
job_enable(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    _cleanup_free_ char *root = NULL, *ju = NULL;
    int r;

    if (!job_urls(app, req, resp, job->name, &root, &ju))
        return;
    r = jobs_set_disabled(app->jobs, job->name, SEG_IS(2, "disable"));
    if (r < 0) {
        send_job_error(app, req, resp, r, job->name, NULL);
        return;
    }
    app_audit(req, SEG_IS(2, "disable") ? "job-disable" : "job-enable", job->name, NULL);
    api_redirect(resp, 302, ju);
}

static void
job_rename(const struct app *app, struct req *req, struct resp *resp, struct job *job)
{
    const char *name = job->name, *to = req_param(req, "newName");
    _cleanup_free_ char *root = app_root_url(app, req), *nju = NULL;
    int r;

    if (!to) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Missing newName",
                                                  .fix = "POST /job/NAME/doRename?newName=NEW." });
        return;
    }
    if (!bad_job_name(app, req, resp, to))
        return;
    r = engine_rename_job(app->engine, name, to);
    if (r == -EBUSY) {
        refuse(app, req, resp, &(struct refusal){ .status = 409, .error = "Job is busy",
                                                  .presented = rfmt("Job '%s' is building or queued.", name),
                                                  .fix = "Wait until it is idle, then rename it." });
        return;
    }
    if (r >= 0)
        r = jobs_rename(app->jobs, name, to);
    if (r < 0) {
        (void) engine_rename_job(app->engine, to, name);
        send_job_error(app, req, resp, r, to, "The new name is not a valid job name.");
        return;
    }
    /* the chains that named it follow it, as in Jenkins */
    r = chain_rename(app->jobs, name, to, NULL);
    if (r < 0)
        log_warn("%s: renamed to %s, but a job whose triggers name it could not be changed: %s",
                 name, to, strerror(-r));
    app_audit(req, "job-rename", name, "to '%s'", to);
    nju = root ? job_url(root, to) : NULL;
    api_redirect(resp, 302, nju ? nju : root ? root : "/");
}

/*
 * Steward has one view, "all", with every job. Other views do not exist
 * (404, which jenkins-job-builder needs when it looks for a view after
 * deleting a job); creating or changing views is not supported (501).
 */
static void
view_api(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    struct model m;
    bool text;
    json_t *v;

    (void) unused;
    if (!SEG_IS(1, "all")) {
        not_found(app, req, resp, rfmt("View '%s' (Steward has one view, 'all')", req->seg[1]));
        return;
    }
    if (req->n_seg == 2) {
        _cleanup_free_ char *root = app_root_url(app, req);
        api_redirect(resp, 302, root ? root : "/");
        return;
    }
    if (!SEG_IS(2, "api") || !route_is_api_format(SEG(3)) || model_init(&m, app, req) < 0) {
        not_found(app, req, resp, rfmt("The page %s", req->raw_path));
        return;
    }
    text = model_jobs_as_text(&m, SEG(3), 0);
    v = json_pack("{s:s, s:n, s:o, s:s, s:[], s:s}", "_class", "hudson.model.AllView",
                  "description", "jobs", model_job_list(&m, 0), "name", "all", "property", "url",
                  m.root);
    if (text)
        api_send_json_with(req, resp, v, "jobs", model_write_jobs, &m);
    else
        send_model(app, req, resp, SEG(3), v);
    model_release(&m);
}

/* ---- quiet-down and safe exit (Jenkins' Overall/Administer actions) ---- */

/*
 * POST /quietDown[?reason=R] (Jenkins also takes message=): triggers still
 * queue, no new build starts. POST /cancelQuietDown ends it; both answer
 * 302 to the root as Jenkins does. POST /safeExit quiets down and stops
 * the server once no build runs.
 */
static void
quiet_down(const struct app *app, struct req *req, struct resp *resp, enum quiet_mode mode)
{
    static const char *const what[] = { [QUIET_OFF] = "Cancelling a quiet-down",
                                        [QUIET_DOWN] = "Quieting down",
                                        [QUIET_SAFE_EXIT] = "A safe exit" };
    const char *reason = req_param(req, "reason");
    _cleanup_free_ char *root = NULL;
    int r;

    if (!reason)
        reason = req_param(req, "message");
    if (reason && !utf8_is_valid(reason, strlen(reason))) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Bad reason",
                                                  .presented = "The reason is not valid UTF-8.",
                                                  .fix = "Send the reason as UTF-8, percent-encoded." });
        return;
    }
    r = engine_quiet_down(app->engine, mode, reason);
    if (r == -ECANCELED) {
        refuse(app, req, resp, &(struct refusal){ .status = 503, .error = "Shutting down",
                                                  .presented = "Steward is already stopping (a stop, "
                                                               "or a safe exit that found no build running).",
                                                  .fix = "Wait for it to stop." });
        return;
    }
    if (r < 0) {
        api_send_text(resp, 500, rfmt("%s failed: %s\n", what[mode], strerror(-r)));
        return;
    }
    log_info("%s by %s%s%s", what[mode], req->id.name, reason && *reason ? ": " : "",
             reason && *reason ? reason : "");
    app_audit(req, mode == QUIET_DOWN ? "quiet-down" : mode == QUIET_OFF ? "cancel-quiet-down"
                                                                          : "safe-exit",
              NULL, "%s", reason ? reason : "");
    if (mode == QUIET_SAFE_EXIT) {
        api_send_text(resp, 200, "Shutting down as soon as all jobs are complete\n");
        return;
    }
    root = app_root_url(app, req);
    api_redirect(resp, 302, root ? root : "/");
}

/* ---- the audit log ---- */

/*
 * GET /manage/audit/api/json: the newest entries first, filtered and paged
 * (app_audit_filter()); "next" is the URL of the next page, null at the end.
 */
static void
audit_api(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    _cleanup_free_ char *root = app_root_url(app, req);
    struct audit_row *rows = NULL;
    struct audit_filter f;
    struct buf next = BUF_INIT(BOUND_URL_BYTES * 4);
    const char *why;
    json_t *entries;
    size_t n = 0;
    int r;

    (void) unused;
    if (app_audit_filter(req, &f, &why) < 0) {
        refuse(app, req, resp, &(struct refusal){ .status = 400, .error = "Bad filter",
                                                  .presented = why });
        return;
    }
    r = store_audit_list(req->db, &f, &rows, &n);
    if (r < 0) {
        api_send_text(resp, 503, rfmt("The audit log could not be read: %s.\n", strerror(-r)));
        return;
    }
    entries = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct audit_row *a = &rows[i];
        json_array_append_new(entries,
                              json_pack("{s:I, s:I, s:s, s:s, s:s?, s:s?, s:s, s:s?, s:s?}", "id",
                                        (json_int_t) a->id, "timestamp", (json_int_t) a->time_ms,
                                        "user", a->actor, "via", a->via, "tokenName",
                                        a->token_name, "address", a->addr, "action", a->action,
                                        "job", a->job, "detail", a->detail));
    }
    /* the same filter, older entries */
    if (n == (size_t) f.limit) {
        const char *keys[] = { "since", "until", "user", "job", "action", "limit" };
        buf_printf(&next, "%smanage/audit/api/json?before=%lld", root ? root : "/",
                   (long long) rows[n - 1].id);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
            if (req_param(req, keys[i]) && *req_param(req, keys[i])) {
                buf_printf(&next, "&%s=", keys[i]);
                url_encode(&next, req_param(req, keys[i]));
            }
    }
    audit_rows_free(rows, n);
    api_send_json(req, resp, json_pack("{s:s, s:o, s:o}", "_class", "steward.AuditLog", "entries",
                                       entries, "next",
                                       next.len ? json_string(buf_str(&next)) : json_null()));
    buf_release(&next);
}

static void
quiet_down_on(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    quiet_down(app, req, resp, QUIET_DOWN);
}

static void
quiet_down_off(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    quiet_down(app, req, resp, QUIET_OFF);
}

static void
safe_exit(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    quiet_down(app, req, resp, QUIET_SAFE_EXIT);
}

/* ---- the rest of the URL space ---- */

/*
 * GET / answers everyone (it tells nothing but that Steward runs, and the
 * version is in every answer's headers anyway): python-jenkins' get_version
 * reads X-Jenkins from it before it has sent any credentials.
 */
static void
home_page(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    if (req->basic_failed) {
        refuse_bad_credentials(app, req, resp);
        return;
    }
    api_send_text(resp, 200, "Steward is running. The Jenkins-compatible API is under /api/json.\n");
}

static void
me_api(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    user_api(app, req, resp, NULL, SEG(2));
}

static void
user_api_route(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    user_api(app, req, resp, SEG(1), SEG(3));
}

static void
my_tokens(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    token_endpoint(app, req, resp, NULL, SEG(3));
}

static void
user_tokens(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    token_endpoint(app, req, resp, SEG(1), SEG(4));
}

static void
computers(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    computer_api(app, req, resp, NULL, SEG(2));
}

static void
computer(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    computer_api(app, req, resp, SEG(1), SEG(3));
}

static void
queue_page(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) app;
    (void) req;
    (void) unused;
    api_send_text(resp, 200, "The queue. For details see queue/api/json.\n");
}

static void
by_token(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    trigger_handle(app, req, resp, req_param(req, "job"), true);
}

static void
plugins(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    send_model(app, req, resp, SEG(2),
               json_pack("{s:s, s:[]}", "_class", "hudson.LocalPluginManager", "plugins"));
}

static void
metrics(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    prometheus_handle(app, req, resp);
}

static void
script_console(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    not_supported(app, req, resp, "The Groovy script console");
}

static void
other_views(const struct app *app, struct req *req, struct resp *resp, struct job *unused)
{
    (void) unused;
    not_supported(app, req, resp, "Views other than the default one");
}

#define GET ROUTE_GET
#define POST ROUTE_POST
#define ANY ROUTE_ANY
#define JOB ROUTE_JOB
#define FORM ROUTE_FORM
#define OPEN ROUTE_NOBODY_CHECKS
#define UPLOADS ROUTE_PREFLIGHT
#define SIGNED_IN ROUTE_SIGNED_IN, 0
#define SELF_OR_ADMIN ROUTE_SELF_OR_ADMIN, 0
#define NEEDS ROUTE_NEEDS

/*
 * The Jenkins API, after the pages' table (web/web.c), the first match
 * winning. A path that matches with another method is answered 405 (after
 * the access checks of its first route). Reads take any method, as
 * Jenkins' do; a route that changes something takes POST, and a session's
 * POST needs the crumb.
 */
static const struct route routes[] = {
    { "", ANY, OPEN, home_page },
    { "api/{api}", ANY, NEEDS(READ), root_api },
    /* the trigger token stands in for a user: trigger.c checks everything itself */
    { "job/*/build", ANY | UPLOADS, OPEN, job_trigger },
    { "job/*/buildWithParameters", ANY | UPLOADS, OPEN, job_trigger },
    /* Jenkins' dispatch ignores an api/json after an action (npm jenkins-api posts to build/api/json) */
    { "job/*/build/api/{api}", ANY, OPEN, job_trigger },
    { "job/*/buildWithParameters/api/{api}", ANY, OPEN, job_trigger },
    { "buildByToken/build", ANY | UPLOADS, OPEN, by_token },
    { "buildByToken/buildWithParameters", ANY | UPLOADS, OPEN, by_token },
    { "job/*", ANY | JOB, NEEDS(JOB_READ), job_root },
    { "job/*/api/{api}", ANY | JOB, NEEDS(JOB_READ), job_api },
    { "job/*/config.xml", GET | JOB, NEEDS(JOB_EXTENDED_READ), job_config_get },
    { "job/*/config.xml", POST | FORM | JOB, NEEDS(JOB_CONFIGURE), job_config_post },
    { "job/*/description", GET | JOB, NEEDS(JOB_READ), job_description },
    { "job/*/doDelete", POST | JOB, NEEDS(JOB_DELETE), job_delete },
    { "job/*/disable", POST | JOB, NEEDS(JOB_CONFIGURE), job_enable },
    { "job/*/enable", POST | JOB, NEEDS(JOB_CONFIGURE), job_enable },
    { "job/*/doRename", POST | JOB, NEEDS(JOB_CONFIGURE), job_rename },
    { "job/*/confirmRename", POST | JOB, NEEDS(JOB_CONFIGURE), job_rename },
    { "job/*/scmPollLog", GET | JOB, NEEDS(JOB_READ), api_poll_log },
    { "job/*/polling", POST | JOB, NEEDS(JOB_BUILD), api_poll_now },
    { "job/*/polling/api/{api}", POST | JOB, NEEDS(JOB_BUILD), api_poll_now },
    { "job/*/hooks/api/json", GET | JOB, NEEDS(JOB_READ), api_job_hooks },
    { "job/*/doWipeOutWorkspace", POST | JOB, NEEDS(JOB_WIPEOUT), api_wipe_workspace },
    { "job/*/ws", GET | JOB, NEEDS(JOB_WORKSPACE), api_workspace },
    { "job/*/ws/**", GET | JOB, NEEDS(JOB_WORKSPACE), api_workspace },
    { "job/*/*/stop", POST | JOB, NEEDS(JOB_CANCEL), build_stop },
    { "job/*/{build}/submitDescription", POST | JOB, NEEDS(RUN_UPDATE), build_submit_description },
    { "job/*/{build}/configSubmit", POST | JOB, NEEDS(RUN_UPDATE), build_config_submit },
    /* keeping takes Run/Update, unkeeping Run/Delete: build_toggle_keep() checks which */
    { "job/*/{build}/toggleLogKeep", POST | JOB, NEEDS(JOB_READ), build_toggle_keep },
    { "job/*/{build}/doDelete", POST | JOB, NEEDS(RUN_DELETE), build_delete },
    { "job/*/*/**", ANY | JOB, NEEDS(JOB_READ), build_route },
    { "queue", ANY, NEEDS(READ), queue_page },
    { "queue/api/{api}", ANY, NEEDS(READ), queue_api },
    /* the item's job is known once the item is found: queue_cancel_item() checks Job/Cancel */
    { "queue/item/*/cancelQueue", POST, NEEDS(READ), queue_item_cancel },
    { "queue/item/*/**", ANY, NEEDS(READ), queue_item },
    { "queue/cancelItem", POST, NEEDS(READ), queue_cancel },
    { "whoAmI/api/{api}", ANY, OPEN, who_am_i },
    { "me/api/{api}", ANY, SIGNED_IN, me_api },
    { "user/*/api/{api}", ANY, NEEDS(READ), user_api_route },
    /* list takes GET, the rest POST: token_endpoint() checks */
    { "me/descriptorByName/jenkins.security.ApiTokenProperty/*", ANY, SIGNED_IN, my_tokens },
    { "user/*/descriptorByName/jenkins.security.ApiTokenProperty/*", ANY, SELF_OR_ADMIN,
      user_tokens },
    { "crumbIssuer/api/{api}", ANY, OPEN, crumb_api },
    { "computer/api/{api}", ANY, NEEDS(READ), computers },
    { "computer/*/api/{api}", ANY, NEEDS(READ), computer },
    { "createItem", POST | FORM, NEEDS(JOB_CREATE), create_item },
    { "quietDown", POST, NEEDS(ADMINISTER), quiet_down_on },
    { "cancelQuietDown", POST, NEEDS(ADMINISTER), quiet_down_off },
    { "safeExit", POST, NEEDS(ADMINISTER), safe_exit },
    { "pluginManager/api/{api}", ANY, NEEDS(READ), plugins },
    /* the access token, when the settings want one: scm.c checks */
    { "git/notifyCommit", ANY, OPEN, api_notify_commit },
    /* signed with the shared secret, when one is set: hooks.c checks */
    { "github-webhook", ANY | FORM, OPEN, api_github_webhook },
    /* the job's secret token, or a user who may build it: hooks.c checks */
    { "project/*", ANY | FORM, OPEN, api_gitlab_project },
    { "manage/hooks/api/json", GET, NEEDS(ADMINISTER), api_deliveries },
    { "descriptorByName/hudson.plugins.git.ApiTokenPropertyConfiguration/*", POST,
      NEEDS(ADMINISTER), api_notify_tokens },
    { "manage/audit/api/json", ANY, NEEDS(ADMINISTER), audit_api },
    /* the scrape token, or a user who may read: prometheus.c checks */
    { "prometheus", ANY, OPEN, metrics },
    { "scriptText", ANY, OPEN, script_console },
    { "script", ANY, OPEN, script_console },
    { "view/*/**", GET, NEEDS(READ), view_api },
    { "view/**", ANY, OPEN, other_views },
    { "createView", ANY, OPEN, other_views },
};

const struct route_table api_routes = { routes, ELEMENTSOF(routes) };
