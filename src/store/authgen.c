/* SPDX-License-Identifier: MIT */
/*
 * The auth generation: a counter that every committed change to users, API
 * tokens, the global matrix or settings moves on, whichever process made
 * it (the server, or an offline command on the same home). The server's
 * caches of those rows (core/auth) stay valid while it stays the same.
 *
 * SQLite has no cheap way to say "these tables changed": PRAGMA
 * data_version moves with every commit of another connection, and the core
 * loop commits queue rows all the time, so it would empty the caches on
 * every trigger; and reading a counter row is a read transaction, the very
 * cost the caches exist to save. So the counter lives in a small file
 * beside the database (steward.db-authgen), shared and mapped by every
 * connection: reading it is one load from memory.
 *
 * The order is what makes it safe: a writer moves the counter on after its
 * commit; a reader takes the counter before it reads the rows and files
 * them under that value. A row read before a change is then always filed
 * under an older value than the one the change leaves.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"
#include "util/strutil.h"

#define AUTHGEN_SUFFIX "-authgen"
#define AUTHGEN_BYTES 4096

void
authgen_init(struct store *s, const char *db_path)
{
    /* an in-memory or URI database has no place beside it: nothing is shared, nothing cached */
    if (!*db_path || streq(db_path, ":memory:") || startswith(db_path, "file:"))
        return;
    s->db_path = strdup(db_path);
}

/*
 * Maps the counter, making the file when it is missing, once per
 * connection. The file's blocks are reserved before it is mapped: a
 * write to a hole of a shared mapping on a full disk would be a SIGBUS.
 */
static uint64_t *
authgen_map(struct store *s)
{
    char path[4096];
    struct stat st, db_st;
    void *p;
    int fd;

    if (s->gen || s->gen_tried || !s->db_path)
        return s->gen;
    s->gen_tried = true;
    if ((size_t) snprintf(path, sizeof path, "%s%s", s->db_path, AUTHGEN_SUFFIX) >= sizeof path)
        return NULL;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (st.st_size < AUTHGEN_BYTES && posix_fallocate(fd, 0, AUTHGEN_BYTES) != 0)) {
        close(fd);
        return NULL;
    }
    /* root (an offline command) gives it to the database's owner, as SQLite does its -wal and -shm */
    if (geteuid() == 0 && stat(s->db_path, &db_st) == 0 &&
        (st.st_uid != db_st.st_uid || st.st_gid != db_st.st_gid))
        (void) !fchown(fd, db_st.st_uid, db_st.st_gid);
    p = mmap(NULL, AUTHGEN_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    s->gen = p;
    return s->gen;
}

void
authgen_release(struct store *s)
{
    if (s->gen)
        (void) munmap(s->gen, AUTHGEN_BYTES);
    s->gen = NULL;
    free(s->db_path);
    s->db_path = NULL;
}

static void
bump(struct store *s)
{
    uint64_t *g = authgen_map(s);

    if (g)
        (void) __atomic_add_fetch(g, 1, __ATOMIC_SEQ_CST);
}

void
authgen_changed(struct store *s)
{
    /* inside a transaction the change is not visible before the commit: count it then */
    if (sqlite3_get_autocommit(s->db))
        bump(s);
    else
        s->gen_dirty = true;
}

void
authgen_committed(struct store *s)
{
    if (s->gen_dirty)
        bump(s);
    s->gen_dirty = false;
}

void
authgen_rolled_back(struct store *s)
{
    s->gen_dirty = false;
}

int
store_auth_generation(struct store *s, uint64_t *ret)
{
    uint64_t *g = authgen_map(s);

    if (!g)
        return -ENOTSUP;
    *ret = __atomic_load_n(g, __ATOMIC_ACQUIRE);
    return 0;
}
