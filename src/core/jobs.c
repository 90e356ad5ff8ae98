/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cron.h"
#include "core/jobs.h"
#include "util/bounds.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strutil.h"

struct job_watch {
    int wd;
    char *name;
};

struct job_settle {
    char *name;
    int64_t due;    /* mono_ms() */
};

struct jobs {
    const struct home *home;
    pthread_rwlock_t lock;
    pthread_mutex_t write_lock;  /* serializes changes, file writes included */
    struct job **v;              /* sorted by name */
    size_t n;

    /* the watcher (jobs_watch): inotify on jobs/ and on each job's directory */
    bool watching;
    pthread_t watcher;
    int ifd, stop_fd, jobs_wd;
    struct job_watch *watches;   /* owned by the watcher thread */
    size_t n_watches, cap_watches;
    struct job_settle *settle;   /* changed files not read yet (the watcher's own) */
    size_t n_settle;
    bool watch_warned;
    uint64_t last_refused;       /* under write_lock: the last refused content, said once */
};

static uint64_t
fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

struct job *
job_ref(struct job *job)
{
    if (job)
        __atomic_add_fetch(&job->refs, 1, __ATOMIC_RELAXED);
    return job;
}

struct job *
job_unref(struct job *job)
{
    if (job && __atomic_sub_fetch(&job->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(job->name);
        jobcfg_free(job->cfg);
        free(job->xml);
        free(job);
    }
    return NULL;
}

static int
job_new(const char *name, const char *xml, size_t len, struct job **ret, char **reterr_msg)
{
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    struct job *job;
    int r;

    r = jobcfg_parse(xml, len, &cfg, reterr_msg);
    if (r < 0)
        return r;
    if (cfg->timer_spec) {
        struct cron *c = NULL;
        const char *why = NULL;

        r = cron_parse(cfg->timer_spec, name, &c, &why);
        cron_free(c);
        if (r < 0) {
            if (r == -EINVAL && reterr_msg && asprintf(reterr_msg, "the timer trigger's spec is "
                                                       "not valid: %s", why) < 0)
                *reterr_msg = NULL;
            return r;
        }
    }
    job = calloc(1, sizeof *job);
    if (!job)
        return -ENOMEM;
    job->refs = 1;
    job->name = strdup(name);
    job->xml = malloc(len + 1);
    if (!job->name || !job->xml) {
        job_unref(job);
        return -ENOMEM;
    }
    memcpy(job->xml, xml, len);
    job->xml[len] = '\0';
    job->xml_len = len;
    job->cfg = TAKE_PTR(cfg);
    *ret = job;
    return 0;
}

int
job_name_check(const char *name, const char **reterr_msg)
{
    size_t len = strlen(name);

    if (len == 0) {
        *reterr_msg = "A job name must not be empty.";
        return -EINVAL;
    }
    if (len > BOUND_JOB_NAME_BYTES) {
        *reterr_msg = "A job name must be at most 200 bytes long.";
        return -EINVAL;
    }
    if (streq(name, ".") || streq(name, "..")) {
        *reterr_msg = "\".\" and \"..\" are not job names.";
        return -EINVAL;
    }
    if (!utf8_is_valid(name, len)) {
        *reterr_msg = "A job name must be valid UTF-8.";
        return -EINVAL;
    }
    for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
        /* C0, DEL, and C1 (U+0080-U+009F, encoded as C2 80-9F), as Jenkins refuses */
        if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
            *reterr_msg = "A job name must not contain control characters.";
            return -EINVAL;
        }
        if (strchr("/\\?*%<>|:;!@#$&[]^'\"", *p)) {
            *reterr_msg = "A job name must not contain any of / \\ ? * % < > | : ; ! @ # $ & [ ] ^ ' \".";
            return -EINVAL;
        }
    }
    if (name[0] == ' ' || name[len - 1] == ' ' || name[0] == '.') {
        *reterr_msg = "A job name must not start with a dot or start or end with a space.";
        return -EINVAL;
    }
    return 0;
}

static int
find_index(const struct jobs *j, const char *name, size_t *ret_pos)
{
    size_t lo = 0, hi = j->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(j->v[mid]->name, name);
        if (c == 0) {
            *ret_pos = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *ret_pos = lo;
    return 0;
}

/* Inserts or replaces; takes the reference. Caller holds the write lock. */
static int
publish(struct jobs *j, struct job *job)
{
    size_t pos;

    pthread_rwlock_wrlock(&j->lock);
    if (find_index(j, job->name, &pos)) {
        job_unref(j->v[pos]);
        j->v[pos] = job;
    } else {
        struct job **v = realloc(j->v, (j->n + 1) * sizeof *v);
        if (!v) {
            pthread_rwlock_unlock(&j->lock);
            job_unref(job);
            return -ENOMEM;
        }
        j->v = v;
        memmove(&v[pos + 1], &v[pos], (j->n - pos) * sizeof *v);
        v[pos] = job;
        j->n++;
    }
    pthread_rwlock_unlock(&j->lock);
    return 0;
}

static void
unpublish(struct jobs *j, const char *name)
{
    size_t pos;

    pthread_rwlock_wrlock(&j->lock);
    if (find_index(j, name, &pos)) {
        job_unref(j->v[pos]);
        memmove(&j->v[pos], &j->v[pos + 1], (j->n - pos - 1) * sizeof *j->v);
        j->n--;
    }
    pthread_rwlock_unlock(&j->lock);
}

int
jobs_load(const struct home *h, struct jobs **ret_jobs)
{
    struct jobs *j = calloc(1, sizeof *j);
    struct dirent *de;
    DIR *d;

    if (!j)
        return -ENOMEM;
    j->home = h;
    j->ifd = j->stop_fd = -1;
    pthread_rwlock_init(&j->lock, NULL);
    pthread_mutex_init(&j->write_lock, NULL);

    d = opendir(h->jobs_dir);
    if (!d) {
        jobs_free(j);
        return -errno;
    }
    while ((de = readdir(d))) {
        _cleanup_free_ char *path = NULL, *xml = NULL, *err = NULL;
        const char *why;
        struct job *job;
        size_t len;
        int r;

        if (de->d_name[0] == '.' || job_name_check(de->d_name, &why) < 0)
            continue;
        path = home_job_config(h, de->d_name);
        if (!path)
            continue;
        r = fs_read_all(path, BOUND_CONFIG_XML_BYTES, &xml, &len);
        if (r < 0) {
            if (r != -ENOENT)
                log_warn("job %s: cannot read config.xml: %s", de->d_name, strerror(-r));
            continue;
        }
        r = job_new(de->d_name, xml, len, &job, &err);
        if (r < 0) {
            log_warn("job %s: config.xml skipped: %s", de->d_name, err ? err : strerror(-r));
            continue;
        }
        (void) publish(j, job);
    }
    closedir(d);
    *ret_jobs = j;
    return 0;
}

struct jobs *
jobs_free(struct jobs *j)
{
    if (j) {
        if (j->watching) {
            uint64_t one = 1;
            (void) !write(j->stop_fd, &one, sizeof one);
            pthread_join(j->watcher, NULL);
        }
        if (j->ifd >= 0)
            close(j->ifd);
        if (j->stop_fd >= 0)
            close(j->stop_fd);
        for (size_t i = 0; i < j->n_watches; i++)
            free(j->watches[i].name);
        free(j->watches);
        for (size_t i = 0; i < j->n_settle; i++)
            free(j->settle[i].name);
        free(j->settle);
        for (size_t i = 0; i < j->n; i++)
            job_unref(j->v[i]);
        free(j->v);
        pthread_rwlock_destroy(&j->lock);
        pthread_mutex_destroy(&j->write_lock);
        free(j);
    }
    return NULL;
}

struct job *
jobs_get(struct jobs *j, const char *name)
{
    struct job *job = NULL;
    size_t pos;

    pthread_rwlock_rdlock(&j->lock);
    if (find_index(j, name, &pos))
        job = job_ref(j->v[pos]);
    pthread_rwlock_unlock(&j->lock);
    return job;
}

int
jobs_list(struct jobs *j, struct job ***ret_list, size_t *ret_n)
{
    struct job **list;

    pthread_rwlock_rdlock(&j->lock);
    list = calloc(j->n ? j->n : 1, sizeof *list);
    if (!list) {
        pthread_rwlock_unlock(&j->lock);
        return -ENOMEM;
    }
    for (size_t i = 0; i < j->n; i++)
        list[i] = job_ref(j->v[i]);
    *ret_n = j->n;
    pthread_rwlock_unlock(&j->lock);
    *ret_list = list;
    return 0;
}

void
jobs_list_free(struct job **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        job_unref(list[i]);
    free(list);
}

static int
write_config(struct jobs *j, const char *name, const char *xml, size_t len)
{
    _cleanup_free_ char *dir = home_job_dir(j->home, name);
    _cleanup_free_ char *path = home_job_config(j->home, name);
    int r;

    if (!dir || !path)
        return -ENOMEM;
    r = fs_mkdir_p(dir, 0700);
    if (r < 0)
        return r;
    return fs_write_atomic(path, xml, len, 0600);
}

static int
store_and_publish(struct jobs *j, const char *name, const char *xml, size_t len,
                  bool must_exist, char **reterr_msg)
{
    struct job *job = NULL, *old;
    const char *why;
    int r;

    if (job_name_check(name, &why) < 0) {
        if (reterr_msg)
            *reterr_msg = strdup(why);
        return -EINVAL;
    }
    r = job_new(name, xml, len, &job, reterr_msg);
    if (r < 0)
        return r;

    pthread_mutex_lock(&j->write_lock);
    old = jobs_get(j, name);
    if (must_exist && !old)
        r = -ENOENT;
    else if (!must_exist && old)
        r = -EEXIST;
    else {
        r = write_config(j, name, xml, len);
        if (r < 0 && !must_exist) {
            /* a create that could not write leaves no empty directory behind */
            _cleanup_free_ char *dir = home_job_dir(j->home, name);
            if (dir)
                (void) rmdir(dir);
        }
    }
    if (r >= 0)
        r = publish(j, TAKE_PTR(job));
    pthread_mutex_unlock(&j->write_lock);
    job_unref(old);
    job_unref(job);
    return r;
}

int
jobs_create(struct jobs *j, const char *name, const char *xml, size_t len, char **reterr_msg)
{
    return store_and_publish(j, name, xml, len, false, reterr_msg);
}

int
jobs_update_xml(struct jobs *j, const char *name, const char *xml, size_t len, char **reterr_msg)
{
    return store_and_publish(j, name, xml, len, true, reterr_msg);
}

int
jobs_update_cfg(struct jobs *j, const char *name, struct job_config *cfg)
{
    _cleanup_(jobcfg_freep) struct job_config *c = cfg;
    _cleanup_free_ char *xml = NULL;
    size_t len;
    int r;

    r = jobcfg_write(c, &xml, &len);
    if (r < 0)
        return r;
    return store_and_publish(j, name, xml, len, true, NULL);
}

int
jobs_set_disabled(struct jobs *j, const char *name, bool disabled)
{
    _cleanup_(job_unrefp) struct job *job = jobs_get(j, name);
    struct job_config *cfg = NULL;
    int r;

    if (!job)
        return -ENOENT;
    r = jobcfg_parse(job->xml, job->xml_len, &cfg, NULL);
    if (r < 0)
        return r;
    cfg->disabled = disabled;
    return jobs_update_cfg(j, name, cfg);
}

int
jobs_delete(struct jobs *j, const char *name)
{
    _cleanup_free_ char *dir = home_job_dir(j->home, name);
    _cleanup_free_ char *ws = home_workspace(j->home, name);
    struct job *job;
    int r = 0;

    if (!dir || !ws)
        return -ENOMEM;
    pthread_mutex_lock(&j->write_lock);
    job = jobs_get(j, name);
    if (!job)
        r = -ENOENT;
    else {
        unpublish(j, name);
        r = fs_rm_rf(dir);
        (void) fs_rm_rf(ws);
    }
    pthread_mutex_unlock(&j->write_lock);
    job_unref(job);
    return r;
}

int
jobs_rename(struct jobs *j, const char *from, const char *to)
{
    _cleanup_free_ char *dfrom = home_job_dir(j->home, from), *dto = home_job_dir(j->home, to);
    _cleanup_free_ char *wfrom = home_workspace(j->home, from), *wto = home_workspace(j->home, to);
    struct job *job = NULL, *other = NULL, *renamed = NULL;
    const char *why;
    int r;

    if (!dfrom || !dto || !wfrom || !wto)
        return -ENOMEM;
    if (job_name_check(to, &why) < 0)
        return -EINVAL;
    pthread_mutex_lock(&j->write_lock);
    job = jobs_get(j, from);
    other = jobs_get(j, to);
    if (!job)
        r = -ENOENT;
    else if (other)
        r = -EEXIST;
    else if (rename(dfrom, dto) < 0)
        r = -errno;
    else {
        (void) rename(wfrom, wto);
        r = job_new(to, job->xml, job->xml_len, &renamed, NULL);
        if (r >= 0) {
            unpublish(j, from);
            r = publish(j, renamed);
        }
    }
    pthread_mutex_unlock(&j->write_lock);
    job_unref(job);
    job_unref(other);
    return r;
}

/* ---- changes made on disk, by hand or by a tool ---- */

/*
 * Reads NAME's config.xml again. The registry's own writes read back the
 * bytes it holds and change nothing; a valid new file is published; a
 * broken one is refused with one log line (per content) and the old
 * definition is kept. A new directory with a config.xml is a new job.
 */
static void
reload_one(struct jobs *j, const char *name)
{
    _cleanup_free_ char *path = home_job_config(j->home, name), *xml = NULL, *err = NULL;
    struct job *old, *job = NULL;
    const char *why;
    uint64_t hash;
    size_t len;
    int r;

    if (!path || job_name_check(name, &why) < 0)
        return;
    pthread_mutex_lock(&j->write_lock);
    old = jobs_get(j, name);
    r = fs_read_all(path, BOUND_CONFIG_XML_BYTES, &xml, &len);
    if (r == -ENOENT)
        goto out;   /* removed by hand: the job stays until a restart or doDelete */
    if (r < 0) {
        log_warn("job %s: config.xml changed on disk but cannot be read (%s); the old "
                 "definition is kept", name, r == -E2BIG ? "larger than the 1 MiB limit" : strerror(-r));
        goto out;
    }
    if (old && old->xml_len == len && memcmp(old->xml, xml, len) == 0)
        goto out;
    if (len == 0)
        goto out;   /* a file caught between its truncation and its write */
    hash = fnv1a(xml, len) ^ fnv1a(name, strlen(name));
    r = job_new(name, xml, len, &job, &err);
    if (r < 0) {
        if (hash != j->last_refused) {
            j->last_refused = hash;
            log_warn("job %s: config.xml changed on disk and is refused: %s; %s", name,
                     err ? err : strerror(-r),
                     old ? "the old definition is kept until the file is fixed"
                         : "the job is not loaded until the file is fixed");
        }
        goto out;
    }
    if (publish(j, job) >= 0)
        log_info("job %s: config.xml %s on disk; %s", name, old ? "changed" : "appeared",
                 old ? "reloaded" : "loaded");
out:
    pthread_mutex_unlock(&j->write_lock);
    job_unref(old);
}

int
jobs_rescan(struct jobs *j)
{
    DIR *d = opendir(j->home->jobs_dir);
    struct dirent *de;

    if (!d)
        return -errno;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            reload_one(j, de->d_name);
    closedir(d);
    return 0;
}

/* The watch on one job's directory; names are kept per watch descriptor. */
static int
watch_dir(struct jobs *j, const char *name)
{
    _cleanup_free_ char *dir = home_job_dir(j->home, name);
    char *copy;
    int wd;

    if (!dir)
        return -ENOMEM;
    wd = inotify_add_watch(j->ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR);
    if (wd < 0) {
        if (!j->watch_warned && (errno == ENOSPC || errno == ENOMEM)) {
            j->watch_warned = true;
            log_warn("jobs: cannot watch more job directories (%s): changes made on disk to "
                     "the others are read at the next SIGHUP or restart", strerror(errno));
        }
        return -errno;
    }
    copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i < j->n_watches; i++)
        if (j->watches[i].wd == wd) {
            free(j->watches[i].name);
            j->watches[i].name = copy;
            return 0;
        }
    if (j->n_watches == j->cap_watches) {
        size_t cap = j->cap_watches ? j->cap_watches * 2 : 64;
        struct job_watch *v = realloc(j->watches, cap * sizeof *v);
        if (!v) {
            free(copy);
            return -ENOMEM;
        }
        j->watches = v;
        j->cap_watches = cap;
    }
    j->watches[j->n_watches++] = (struct job_watch){ .wd = wd, .name = copy };
    return 0;
}

static const char *
watched_name(struct jobs *j, int wd)
{
    for (size_t i = 0; i < j->n_watches; i++)
        if (j->watches[i].wd == wd)
            return j->watches[i].name;
    return NULL;
}

static void
unwatch(struct jobs *j, int wd)
{
    for (size_t i = 0; i < j->n_watches; i++)
        if (j->watches[i].wd == wd) {
            free(j->watches[i].name);
            j->watches[i] = j->watches[--j->n_watches];
            return;
        }
}

static void
watch_all(struct jobs *j)
{
    DIR *d = opendir(j->home->jobs_dir);
    struct dirent *de;
    const char *why;

    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.' && job_name_check(de->d_name, &why) >= 0)
            (void) watch_dir(j, de->d_name);
    if (d)
        closedir(d);
}

static void settle_later(struct jobs *j, const char *name);

static void
handle_event(struct jobs *j, const struct inotify_event *ev)
{
    const char *why;

    if (ev->mask & IN_Q_OVERFLOW) {
        /* events were lost: look at everything */
        watch_all(j);
        (void) jobs_rescan(j);
        return;
    }
    if (ev->mask & IN_IGNORED) {
        unwatch(j, ev->wd);
        return;
    }
    if (ev->wd == j->jobs_wd) {
        /* a job directory appeared (made, copied or renamed in) */
        if (ev->len && (ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
            job_name_check(ev->name, &why) >= 0 && watch_dir(j, ev->name) >= 0)
            settle_later(j, ev->name);
        return;
    }
    if (ev->len && streq(ev->name, "config.xml")) {
        const char *n = watched_name(j, ev->wd);
        if (n)
            settle_later(j, n);
    }
}

/*
 * A file being written in steps (truncated, then written; several saves)
 * is read once it has been still for SETTLE_MS: one reading, one verdict.
 */
#define SETTLE_MS 200

static void
settle_later(struct jobs *j, const char *name)
{
    int64_t due = mono_ms() + SETTLE_MS;
    struct job_settle *v;

    for (size_t i = 0; i < j->n_settle; i++)
        if (streq(j->settle[i].name, name)) {
            j->settle[i].due = due;
            return;
        }
    v = realloc(j->settle, (j->n_settle + 1) * sizeof *v);
    if (!v)
        return;
    j->settle = v;
    j->settle[j->n_settle].name = strdup(name);
    j->settle[j->n_settle].due = due;
    if (j->settle[j->n_settle].name)
        j->n_settle++;
}

/* Reads what has settled; returns the ms until the next one settles, or -1. */
static int
settle_due(struct jobs *j)
{
    int64_t now = mono_ms(), next = -1;
    size_t k = 0;

    for (size_t i = 0; i < j->n_settle; i++) {
        struct job_settle *e = &j->settle[i];
        if (e->due <= now) {
            reload_one(j, e->name);
            free(e->name);
        } else {
            next = next < 0 ? e->due - now : MIN(next, e->due - now);
            j->settle[k++] = *e;
        }
    }
    j->n_settle = k;
    return (int) next;
}

static void *
watch_thread(void *arg)
{
    struct jobs *j = arg;
    _Alignas(struct inotify_event) char buf[16 * 1024];

    /* here, not in jobs_watch: a large jobs/ must not hold up the start */
    watch_all(j);
    /* what changed between the load and the watches */
    (void) jobs_rescan(j);
    for (;;) {
        struct pollfd p[2] = { { .fd = j->ifd, .events = POLLIN },
                               { .fd = j->stop_fd, .events = POLLIN } };
        ssize_t n;

        if (poll(p, 2, settle_due(j)) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        n = read(j->ifd, buf, sizeof buf);
        if (n <= 0)
            continue;
        for (char *q = buf; q < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *) q;
            handle_event(j, ev);
            q += sizeof *ev + ev->len;
        }
    }
    return NULL;
}

int
jobs_watch(struct jobs *j)
{
    j->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    j->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (j->ifd < 0 || j->stop_fd < 0)
        return -errno;
    j->jobs_wd = inotify_add_watch(j->ifd, j->home->jobs_dir,
                                   IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    if (j->jobs_wd < 0)
        return -errno;
    if (pthread_create(&j->watcher, NULL, watch_thread, j) != 0)
        return -EAGAIN;
    j->watching = true;
    return 0;
}
