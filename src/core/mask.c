/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mask.h"
#include "util/buf.h"
#include "util/macro.h"
#include "util/secret.h"

struct mask {
    int logfd;
    int pipe[2];
    char **secrets;
    size_t *lens;
    size_t n;
    size_t longest;
    bool first[256];     /* the bytes a secret starts with */
    char *hold;          /* bytes that may begin a secret, awaiting more */
    size_t n_hold;
};

int
mask_new(int logfd, const char *const *secrets, size_t n, struct mask **ret, int *ret_write_fd)
{
    struct mask *m = calloc(1, sizeof *m);

    if (!m)
        return -ENOMEM;
    m->logfd = logfd;
    m->pipe[0] = m->pipe[1] = -1;
    m->secrets = calloc(n ? n : 1, sizeof *m->secrets);
    m->lens = calloc(n ? n : 1, sizeof *m->lens);
    if (!m->secrets || !m->lens)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(secrets[i]);
        if (len == 0)
            continue;
        m->secrets[m->n] = strdup(secrets[i]);
        if (!m->secrets[m->n])
            goto fail;
        m->first[(unsigned char) secrets[i][0]] = true;
        m->lens[m->n++] = len;
        m->longest = MAX(m->longest, len);
    }
    m->hold = malloc(m->longest + 1);
    if (!m->hold || pipe2(m->pipe, O_CLOEXEC) < 0)
        goto fail;
    if (fcntl(m->pipe[0], F_SETFL, O_NONBLOCK) < 0)
        goto fail;
    *ret = m;
    *ret_write_fd = m->pipe[1];
    return 0;
fail:
    mask_free(m);
    return -ENOMEM;
}

int
mask_read_fd(const struct mask *m)
{
    return m->pipe[0];
}

static int
write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t) w;
    }
    return 0;
}

/*
 * Masks `len` bytes of `in` into `out`; at `end`, nothing is held back,
 * else the tail that could begin a secret is kept in m->hold.
 */
static int
mask_into(struct mask *m, const char *in, size_t len, bool end, struct buf *out)
{
    size_t i = 0;
    int r = 0;

    m->n_hold = 0;
    while (i < len && r >= 0) {
        size_t best = 0, start = i;
        bool may_begin = false;

        /* the bytes no secret starts with go as they are, in one piece */
        while (i < len && !m->first[(unsigned char) in[i]])
            i++;
        if (i > start)
            r = buf_append(out, in + start, i - start);
        if (i == len || r < 0)
            break;

        for (size_t k = 0; k < m->n; k++) {
            size_t l = m->lens[k], left = len - i;
            if (in[i] != m->secrets[k][0])
                continue;
            if (l <= left && memcmp(in + i, m->secrets[k], l) == 0)
                best = MAX(best, l);
            else if (l > left && memcmp(in + i, m->secrets[k], left) == 0)
                may_begin = true;
        }
        if (may_begin && !end) {
            /* the rest may be a secret cut by the read: wait for more */
            m->n_hold = len - i;
            memmove(m->hold, in + i, m->n_hold);
            break;
        }
        if (best) {
            r = buf_append(out, MASK_TEXT, strlen(MASK_TEXT));
            i += best;
        } else
            r = buf_append(out, in + i++, 1);
    }
    return r;
}

int
mask_pump(struct mask *m)
{
    char chunk[16384];
    struct buf in = BUF_INIT(1 << 20), out = BUF_INIT(1 << 21);
    int r = 0;

    for (;;) {
        ssize_t n = read(m->pipe[0], chunk, sizeof chunk);
        bool eof = n == 0;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = errno == EAGAIN ? 0 : -errno;
            break;
        }
        in.len = out.len = 0;
        r = buf_append(&in, m->hold, m->n_hold);
        if (r >= 0 && n > 0)
            r = buf_append(&in, chunk, (size_t) n);
        if (r >= 0)
            r = mask_into(m, in.ptr, in.len, eof, &out);
        if (r >= 0)
            r = write_all(m->logfd, out.ptr, out.len);
        if (r < 0 || eof) {
            r = r < 0 ? r : 1;
            break;
        }
    }
    if (in.ptr)
        secret_wipe(in.ptr, in.cap);
    buf_release(&in);
    buf_release(&out);
    return r;
}

void
mask_flush(struct mask *m)
{
    struct buf out = BUF_INIT(1 << 20);
    _cleanup_free_ char *copy = m->n_hold ? malloc(m->n_hold) : NULL;
    size_t n = m->n_hold;

    if (!n || !copy)
        return;
    memcpy(copy, m->hold, n);
    if (mask_into(m, copy, n, true, &out) >= 0)
        (void) write_all(m->logfd, out.ptr, out.len);
    buf_release(&out);
}

void
mask_free(struct mask *m)
{
    if (!m)
        return;
    for (int i = 0; i < 2; i++)
        if (m->pipe[i] >= 0)
            close(m->pipe[i]);
    for (size_t i = 0; i < m->n; i++) {
        secret_wipe(m->secrets[i], m->lens[i]);
        free(m->secrets[i]);
    }
    if (m->hold)
        secret_wipe(m->hold, m->longest + 1);
    free(m->hold);
    free(m->secrets);
    free(m->lens);
    free(m);
}
