/* SPDX-License-Identifier: MIT */
/*
 * steward backup DEST, steward restore SRC.
 *
 * A backup is a directory:
 *
 *   steward.db       the database as of one commit (SQLite's online backup API)
 *   jobs/            config.xml files, build logs and archived artifacts
 *   secrets/
 *   uploads/         file parameters' files that waiting builds need
 *   nodes/           the nodes' config.xml and offline marks
 *   known_hosts      the host keys Git over ssh trusts (when the home has one)
 *   steward-backup   the manifest, written last: a directory without one is
 *                    a backup that did not finish, and restore refuses it
 *
 * Workspaces are not in it: they are a build's scratch space.
 *
 * The backup is taken while the server runs. The database snapshot comes
 * first and the files after it, so that every build in the snapshot finds
 * its log (one may be longer than its row says: a build that was running
 * at the snapshot goes on writing). A build whose directory went away in
 * between (discarded by its job's "Discard old builds", or its job
 * deleted) is left out of the backup's database too.
 *
 * A restore builds the new state in HOME/.restore-new, then swaps it in
 * with a few renames (old files to HOME/.restore-old first). A failure
 * before or during the swap puts the old files back; only a crash in the
 * middle of the renames leaves .restore-old behind, and then both restore
 * and serve refuse to go on until someone decides (restore_check_interrupted).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/home.h"
#include "core/jobs.h"
#include "daemon/backup.h"
#include "store/store.h"
#include "util/bounds.h"
#include "util/fs.h"
#include "util/macro.h"
#include "util/strutil.h"

#define MANIFEST "steward-backup"
#define MANIFEST_FORMAT "format=steward-backup-1"
#define MANIFEST_MAX_BYTES 4096
#define RESTORE_NEW ".restore-new"
#define RESTORE_OLD ".restore-old"

/* What a home holds that a backup carries, in the order a restore swaps them. */
static const char *const swapped[] = { "jobs", "secrets", "uploads", "nodes", "known_hosts",
                                       "steward.db" };
/*
 * The first of them are directories every backup has; the next ones
 * older backups may lack (a restore then keeps the home's own).
 */
#define SWAPPED_DIRS 2
#define SWAPPED_UPLOADS 2
#define SWAPPED_NODES 3
#define SWAPPED_KNOWN_HOSTS 4
/* The database's companions: an old WAL must never meet a new database file. */
static const char *const db_companions[] = { "steward.db-wal", "steward.db-shm",
                                             "steward.db-journal" };

static int
usage(const char *msg, const char *line)
{
    fprintf(stderr, "steward: %s\nUsage: steward [--home DIR] %s\n", msg, line);
    return 2;
}

static bool
exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static bool
is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The file system's buffers to disk, once for a whole tree rather than per file. */
static int
sync_tree(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    return syncfs(fd) < 0 ? -errno : 0;
}

/* Is `path` (absolute, real) `dir` or inside it? */
static bool
is_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);

    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void
format_utc(time_t t, char *s, size_t size)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(s, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *
mib(unsigned long long bytes)
{
    return rfmt("%.1f MiB", (double) bytes / (1024.0 * 1024.0));
}

/* ---- backup ---- */

struct backup {
    const char *home;       /* real path */
    const char *dest;       /* real path */
    struct fs_copy_stats copied;
    int err;                /* the first error of a late copy */
};

/*
 * store_prune_builds() asks this for every build row of the snapshot:
 * does the backup hold the build's log? A build started just before the
 * snapshot may have had no directory yet when the tree was copied: copy
 * it now. What is still missing was discarded or deleted meanwhile.
 */
static bool
backup_keeps_build(void *userdata, const char *job, int64_t number)
{
    struct backup *b = userdata;
    _cleanup_free_ char *rel = NULL, *dest_dir = NULL, *dest_log = NULL, *src_dir = NULL;
    _cleanup_free_ char *parent = NULL;
    const char *why;
    int r;

    if (job_name_check(job, &why) < 0)
        return false;
    rel = strdup_printf("jobs/%s/builds/%lld", job, (long long) number);
    if (!rel)
        goto oom;
    dest_dir = path_join(b->dest, rel);
    dest_log = strdup_printf("%s/%s/log", b->dest, rel);
    src_dir = path_join(b->home, rel);
    parent = strdup_printf("%s/jobs/%s/builds", b->dest, job);
    if (!dest_dir || !dest_log || !src_dir || !parent)
        goto oom;
    if (exists(dest_log))
        return true;
    if (!is_dir(src_dir))
        return false;
    (void) fs_rm_rf(dest_dir);
    r = fs_mkdir_p(parent, 0700);
    if (r >= 0)
        r = fs_copy_tree(src_dir, dest_dir, &b->copied);
    if (r < 0 && r != -ENOENT && b->err == 0)
        b->err = r;
    if (exists(dest_log))
        return true;
    (void) fs_rm_rf(dest_dir);
    return false;
oom:
    if (b->err == 0)
        b->err = -ENOMEM;
    return true;
}

/* DEST must not exist, or be an empty directory. Sets *ret_created when it made it. */
static int
prepare_dest(const char *dest, bool *ret_created)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    int err;

    if (lstat(dest, &st) < 0) {
        err = errno;
        if (err != ENOENT) {
            fprintf(stderr, "steward: cannot use %s for the backup: %s\n", dest, strerror(err));
            return -err;
        }
        if (mkdir(dest, 0700) < 0) {
            err = errno;
            fprintf(stderr, "steward: cannot create %s for the backup: %s\n", dest, strerror(err));
            return -err;
        }
        *ret_created = true;
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "steward: %s exists and is not a directory; a backup goes into a new "
                        "directory or an empty one\n", dest);
        return -ENOTDIR;
    }
    d = opendir(dest);
    if (!d) {
        err = errno;
        fprintf(stderr, "steward: cannot read %s: %s\n", dest, strerror(err));
        return -err;
    }
    while ((de = readdir(d)))
        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
            break;
    closedir(d);
    if (de) {
        fprintf(stderr, "steward: %s exists and is not empty; a backup goes into a new directory "
                        "or an empty one, so that it never mixes with other files\n", dest);
        return -ENOTEMPTY;
    }
    *ret_created = false;
    return 0;
}

/* Copies HOME/name to DEST/name; an empty directory when the home has none. */
static int
copy_part(struct backup *b, const char *name)
{
    _cleanup_free_ char *src = path_join(b->home, name), *dst = path_join(b->dest, name);
    int r;

    if (!src || !dst)
        return -ENOMEM;
    r = fs_copy_tree(src, dst, &b->copied);
    if (r == -ENOENT && !exists(dst))
        r = mkdir(dst, 0700) < 0 ? -errno : 0;
    if (r < 0)
        fprintf(stderr, "steward: cannot copy %s to %s: %s\n", src, dst, strerror(-r));
    return r;
}

/* Copies the file `src` to `dst` when there is one (0 when not): HOME/known_hosts. */
static int
copy_small_file(const char *src, const char *dst, struct fs_copy_stats *stats)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    struct stat st;
    int r;

    r = fs_read_all_stat(src, BOUND_GIT_KNOWN_HOSTS_BYTES, &data, &len, &st);
    if (r == -ENOENT)
        return 0;
    if (r >= 0)
        r = fs_write_atomic(dst, data ? data : "", len, st.st_mode & 0777);
    if (r >= 0 && stats) {
        stats->files++;
        stats->bytes += len;
    }
    return r;
}

static int
write_manifest(const struct backup *b, int schema, time_t started, size_t left_out)
{
    _cleanup_free_ char *path = path_join(b->dest, MANIFEST), *text = NULL;
    char when[32];

    format_utc(started, when, sizeof when);
    text = strdup_printf(MANIFEST_FORMAT "\n"
                         "steward-version=%s\n"
                         "created=%s\n"
                         "schema-version=%d\n"
                         "home=%s\n"
                         "builds-left-out=%zu\n",
                         STEWARD_VERSION, when, schema, b->home, left_out);
    if (!path || !text)
        return -ENOMEM;
    return fs_write_atomic(path, text, strlen(text), 0600);
}

static int
run_backup(struct backup *b)
{
    _cleanup_free_ char *src_db = path_join(b->home, "steward.db");
    _cleanup_free_ char *dest_db = path_join(b->dest, "steward.db");
    time_t started = time(NULL);
    size_t left_out = 0;
    int schema = 0, r;

    if (!src_db || !dest_db)
        return -ENOMEM;

    /* the database first: a snapshot of one commit */
    r = store_backup(src_db, dest_db, &schema);
    if (r >= 0 && chmod(dest_db, 0600) < 0)  /* password and token hashes */
        r = -errno;
    if (r < 0) {
        fprintf(stderr, "steward: cannot copy the database %s: %s\n", src_db,
                r == -EBUSY ? "it stayed busy" : strerror(-r));
        return r;
    }

    /* then the files, so that they are at least as new as the snapshot */
    r = copy_part(b, "jobs");
    if (r >= 0)
        r = copy_part(b, "secrets");
    if (r >= 0)
        r = copy_part(b, "uploads");
    if (r >= 0)
        r = copy_part(b, "nodes");
    if (r >= 0) {
        _cleanup_free_ char *src = path_join(b->home, "known_hosts");
        _cleanup_free_ char *dst = path_join(b->dest, "known_hosts");

        r = src && dst ? copy_small_file(src, dst, &b->copied) : -ENOMEM;
        if (r < 0)
            fprintf(stderr, "steward: cannot copy %s: %s\n", src ? src : "known_hosts",
                    strerror(-r));
    }
    if (r < 0)
        return r;

    /* builds of the snapshot whose files are not there: copy late, or leave out */
    r = store_prune_builds(dest_db, backup_keeps_build, b, &left_out);
    if (r >= 0 && b->err < 0)
        r = b->err;
    if (r < 0) {
        fprintf(stderr, "steward: cannot check the builds of the backup: %s\n", strerror(-r));
        return r;
    }

    r = sync_tree(b->dest);
    if (r >= 0)
        r = write_manifest(b, schema, started, left_out);
    if (r < 0) {
        fprintf(stderr, "steward: cannot write the backup to disk: %s\n", strerror(-r));
        return r;
    }
    fprintf(stderr,
            "Backed up %s to %s: the database (schema version %d) and %zu files (%s) of jobs, "
            "build logs, artifacts, secrets, uploaded files, nodes and known host keys.\n",
            b->home, b->dest, schema, b->copied.files, mib(b->copied.bytes));
    if (left_out > 0)
        fprintf(stderr, "%zu %s discarded or deleted while the backup ran: left out.\n",
                left_out, left_out == 1 ? "build was" : "builds were");
    fprintf(stderr, "Workspaces are not backed up.\n");
    return 0;
}

int
cmd_backup(const char *home_dir, int argc, char **argv)
{
    static const char line[] = "backup DEST";
    _cleanup_free_ char *home = NULL, *db = NULL, *dest = NULL;
    struct backup b = {};
    bool created = false;
    int r;

    if (argc != 2)
        return usage("backup takes one argument: the directory to write the backup into", line);
    home = realpath(home_dir, NULL);
    db = home ? path_join(home, "steward.db") : NULL;
    if (!home || !db || !exists(db)) {
        fprintf(stderr, "steward: %s is not a Steward home directory (%s)\n", home_dir,
                !home ? strerror(errno) : "it has no steward.db");
        return 1;
    }
    if (prepare_dest(argv[1], &created) < 0)
        return 1;
    dest = realpath(argv[1], NULL);
    if (!dest) {
        r = -errno;
        fprintf(stderr, "steward: cannot resolve %s: %s\n", argv[1], strerror(-r));
        goto fail;
    }
    if (is_within(dest, home)) {
        fprintf(stderr, "steward: %s is inside the home directory %s; put backups elsewhere\n",
                argv[1], home);
        r = -EINVAL;
        goto fail;
    }
    b.home = home;
    b.dest = dest;
    r = run_backup(&b);
    if (r >= 0)
        return 0;
fail:
    /* no half backup left behind, and never anything that was there before */
    if (created)
        (void) fs_rm_rf(argv[1]);
    else if (dest) {
        (void) fs_rm_rf(rfmt("%s/steward.db", dest));
        (void) fs_rm_rf(rfmt("%s/jobs", dest));
        (void) fs_rm_rf(rfmt("%s/secrets", dest));
        (void) fs_rm_rf(rfmt("%s/uploads", dest));
        (void) fs_rm_rf(rfmt("%s/nodes", dest));
        (void) fs_rm_rf(rfmt("%s/known_hosts", dest));
    }
    fprintf(stderr, "steward: the backup failed; nothing was left in %s\n", argv[1]);
    return 1;
}

/* ---- restore ---- */

int
restore_check_interrupted(const char *root)
{
    _cleanup_free_ char *old = path_join(root, RESTORE_OLD);

    if (!old || !exists(old))
        return 0;
    fprintf(stderr,
            "steward: %s exists: a restore was interrupted while it swapped the home's files, "
            "and that directory holds what the home had before.\n"
            "To finish the restore, remove %s and run the restore again. To go back instead, "
            "move its contents into %s (replacing what is there) and remove it.\n",
            old, old, root);
    return -EBUSY;
}

/* Reads SRC's manifest: 0 and the value of `created` and `schema-version`, or says why not. */
static int
read_manifest(const char *src, char **ret_created, int *ret_schema)
{
    _cleanup_free_ char *path = path_join(src, MANIFEST), *text = NULL;
    int64_t schema = -1;
    char *created = NULL;
    size_t len;
    int r;

    if (!path)
        return -ENOMEM;
    r = fs_read_all(path, MANIFEST_MAX_BYTES, &text, &len);
    if (r < 0) {
        fprintf(stderr, "steward: %s is not a Steward backup: %s\n", src,
                r == -ENOENT ? "it has no " MANIFEST " manifest (a backup that did not finish "
                               "has none)"
                             : strerror(-r));
        return -EINVAL;
    }
    if (!startswith(text, MANIFEST_FORMAT "\n")) {
        fprintf(stderr, "steward: %s is not a backup this Steward can read: its manifest does "
                        "not start with " MANIFEST_FORMAT "\n", src);
        return -EINVAL;
    }
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (startswith(line, "schema-version=") &&
            parse_int64(line + strlen("schema-version="), 0, INT32_MAX, &schema) < 0)
            schema = -1;
        else if (startswith(line, "created=") && !created)
            created = strdup(line + strlen("created="));
    }
    if (schema < 0) {
        fprintf(stderr, "steward: the manifest of %s has no valid schema-version line\n", src);
        free(created);
        return -EINVAL;
    }
    *ret_created = created ? created : strdup("(unknown time)");
    *ret_schema = (int) schema;
    return *ret_created ? 0 : -ENOMEM;
}

static int
check_source(const char *src, char **ret_created)
{
    _cleanup_free_ char *db = path_join(src, "steward.db");
    _cleanup_free_ char *created = NULL;
    int schema = -1, version = -1, r;

    if (!db)
        return -ENOMEM;
    if (!is_dir(src)) {
        fprintf(stderr, "steward: %s is not a Steward backup: not a directory\n", src);
        return -EINVAL;
    }
    r = read_manifest(src, &created, &schema);
    if (r < 0)
        return r;
    r = store_check(db, &version);
    if (r == -EPROTO) {
        fprintf(stderr, "steward: %s was made by a newer Steward (its database is past schema "
                        "version %d, the newest this one knows)\n", src, store_schema_version());
        return r;
    }
    if (r < 0 || version < 1) {
        fprintf(stderr, "steward: %s is not a usable Steward backup: %s\n", src,
                r == -ENOENT ? "it has no steward.db"
                : r == -EINVAL ? "steward.db is not a readable SQLite database (damaged?)"
                : r < 0 ? strerror(-r) : "steward.db holds no Steward schema");
        return r < 0 ? r : -EINVAL;
    }
    if (version != schema) {
        fprintf(stderr, "steward: %s is not a consistent backup: its manifest says schema "
                        "version %d, its steward.db has %d\n", src, schema, version);
        return -EINVAL;
    }
    for (size_t i = 0; i < 2; i++) {
        _cleanup_free_ char *dir = path_join(src, swapped[i]);
        if (!dir || !is_dir(dir)) {
            fprintf(stderr, "steward: %s is not a complete Steward backup: it has no %s/\n", src,
                    swapped[i]);
            return -EINVAL;
        }
    }
    *ret_created = TAKE_PTR(created);
    return 0;
}

/*
 * Files a restore run by root creates belong to the home's owner, so that
 * the server (a service user) can write them.
 */
static uid_t chown_uid;
static gid_t chown_gid;

static int
chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return lchown(path, chown_uid, chown_gid) < 0 ? -1 : 0;
}

/* Sets chown_uid and chown_gid; false when there is nothing to give (not root, or a root's home). */
static bool
home_owner_differs(const char *home)
{
    struct stat st;

    if (geteuid() != 0 || stat(home, &st) < 0 || (st.st_uid == 0 && st.st_gid == 0))
        return false;
    chown_uid = st.st_uid;
    chown_gid = st.st_gid;
    return true;
}

static int
give_to_home_owner(const char *home, const char *tree)
{
    if (!home_owner_differs(home))
        return 0;
    return nftw(tree, chown_one, 16, FTW_PHYS) < 0 ? -errno : 0;
}

/* Builds the new state in `stage` (HOME/.restore-new), migrated to this Steward's schema. */
static int
stage_restore(const char *src, const char *home, const char *stage)
{
    _cleanup_free_ char *src_db = path_join(src, "steward.db");
    _cleanup_free_ char *stage_db = path_join(stage, "steward.db");
    struct store *db = NULL;
    int version, r;

    if (!src_db || !stage_db)
        return -ENOMEM;
    r = fs_rm_rf(stage);  /* what an earlier failed restore left */
    if (r >= 0 && mkdir(stage, 0700) < 0)
        r = -errno;
    if (r < 0) {
        fprintf(stderr, "steward: cannot make %s: %s\n", stage, strerror(-r));
        return r;
    }
    r = store_backup(src_db, stage_db, &version);
    if (r >= 0)
        r = store_open(stage_db, &db);  /* runs the migrations of a backup from an older Steward */
    store_close(db);
    if (r < 0) {
        fprintf(stderr, "steward: cannot copy the backup's database: %s\n", strerror(-r));
        return r;
    }
    for (size_t i = 0; i < SWAPPED_KNOWN_HOSTS + 1; i++) {
        _cleanup_free_ char *from = path_join(src, swapped[i]);
        _cleanup_free_ char *to = path_join(stage, swapped[i]);

        /* a backup from before it carried uploads, nodes and host keys: the home keeps its own */
        if (from && i >= SWAPPED_DIRS && !exists(from)) {
            free(from);
            from = path_join(home, swapped[i]);
        }
        if (!from || !to)
            r = -ENOMEM;
        else if (i == SWAPPED_KNOWN_HOSTS)
            r = copy_small_file(from, to, NULL);
        else if ((i == SWAPPED_UPLOADS || i == SWAPPED_NODES) && !exists(from))
            r = 0;
        else
            r = fs_copy_tree(from, to, NULL);
        if (r < 0) {
            fprintf(stderr, "steward: cannot copy %s: %s\n", from ? from : swapped[i],
                    strerror(-r));
            return r;
        }
    }
    r = give_to_home_owner(home, stage);
    if (r >= 0)
        r = sync_tree(stage);
    if (r < 0)
        fprintf(stderr, "steward: cannot prepare %s: %s\n", stage, strerror(-r));
    return r;
}

struct move {
    char *from;
    char *to;
};

/* Renames `from` to `to` when `from` exists, and records it for an undo. */
static int
move_one(struct move *done, size_t *n, const char *from_dir, const char *to_dir, const char *name)
{
    _cleanup_free_ char *from = path_join(from_dir, name), *to = path_join(to_dir, name);

    if (!from || !to)
        return -ENOMEM;
    if (rename(from, to) < 0)
        return errno == ENOENT ? 0 : -errno;
    done[*n].from = TAKE_PTR(from);
    done[*n].to = TAKE_PTR(to);
    (*n)++;
    return 0;
}

/*
 * The swap: the home's database (with its WAL), jobs/ and secrets/ go to
 * HOME/.restore-old, then the staged ones take their place. On a failure
 * every rename done so far is undone, newest first.
 */
static int
swap_in(const char *home, const char *stage, const char *old)
{
    struct move done[ELEMENTSOF(swapped) * 2 + ELEMENTSOF(db_companions) * 2];
    size_t n = 0;
    int r;

    if (mkdir(old, 0700) < 0)
        return -errno;
    r = 0;
    for (size_t i = 0; r >= 0 && i < ELEMENTSOF(db_companions); i++)
        r = move_one(done, &n, home, old, db_companions[i]);
    for (size_t i = 0; r >= 0 && i < ELEMENTSOF(swapped); i++)
        r = move_one(done, &n, home, old, swapped[i]);
    for (size_t i = 0; r >= 0 && i < ELEMENTSOF(swapped); i++)
        r = move_one(done, &n, stage, home, swapped[i]);
    /* none once the staged database is closed, but a WAL must go with its database */
    for (size_t i = 0; r >= 0 && i < ELEMENTSOF(db_companions); i++)
        r = move_one(done, &n, stage, home, db_companions[i]);
    if (r >= 0)
        r = sync_tree(home);
    if (r < 0)
        for (size_t i = n; i-- > 0;)
            (void) rename(done[i].to, done[i].from);
    for (size_t i = 0; i < n; i++) {
        free(done[i].from);
        free(done[i].to);
    }
    if (r < 0)
        (void) rmdir(old);
    return r;
}

int
cmd_restore(const char *home_dir, int argc, char **argv)
{
    static const char line[] = "restore SRC";
    _cleanup_free_ char *src = NULL, *created = NULL, *stage = NULL, *old = NULL;
    _cleanup_close_ int lock_fd = -1;
    struct home *h = NULL;
    pid_t holder = 0;
    int r, ret = 1;

    if (argc != 2)
        return usage("restore takes one argument: the backup directory to restore from", line);
    src = realpath(argv[1], NULL);
    if (!src) {
        fprintf(stderr, "steward: %s is not a Steward backup: %s\n", argv[1], strerror(errno));
        return 1;
    }
    if (check_source(src, &created) < 0)
        return 1;

    r = home_open(home_dir, &h);
    if (r < 0) {
        fprintf(stderr, "steward: cannot use home directory %s: %s\n", home_dir, strerror(-r));
        return 1;
    }
    /* what home_open made as root: the workspace directory is the one a restore keeps */
    if (home_owner_differs(h->root))
        (void) !chown(h->workspace_dir, chown_uid, chown_gid);
    if (is_within(src, h->root)) {
        fprintf(stderr, "steward: the backup %s is inside the home directory %s; restore from a "
                        "backup kept elsewhere\n", src, h->root);
        goto out;
    }
    /* the lock keeps a server from starting on the home while it changes */
    r = home_lock(h, &lock_fd, &holder);
    if (r == -EBUSY) {
        fprintf(stderr, "steward: cannot restore into %s: it is in use by process %d, which "
                        "holds %s/.lock (a running steward serve, or another restore). Stop the "
                        "server first.\n", h->root, (int) holder, h->root);
        goto out;
    }
    if (r < 0) {
        fprintf(stderr, "steward: cannot lock %s/.lock: %s\n", h->root, strerror(-r));
        goto out;
    }
    if (restore_check_interrupted(h->root) < 0)
        goto out;

    stage = path_join(h->root, RESTORE_NEW);
    old = path_join(h->root, RESTORE_OLD);
    if (!stage || !old)
        goto out;
    if (stage_restore(src, h->root, stage) < 0) {
        (void) fs_rm_rf(stage);
        fprintf(stderr, "steward: nothing was restored; %s is as it was\n", h->root);
        goto out;
    }
    r = swap_in(h->root, stage, old);
    if (r < 0) {
        (void) fs_rm_rf(stage);
        fprintf(stderr, "steward: cannot swap the restored files into %s: %s; the home is as it "
                        "was\n", h->root, strerror(-r));
        goto out;
    }
    (void) fs_rm_rf(old);
    (void) fs_rm_rf(stage);
    fprintf(stderr, "Restored %s (a backup taken %s) into %s.\n"
                    "Workspaces are not in backups: those already in the home were left as they "
                    "were.\n", src, created, h->root);
    ret = 0;
out:
    home_free(h);
    return ret;
}
