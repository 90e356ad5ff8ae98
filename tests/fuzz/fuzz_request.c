/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the request path from raw HTTP to the handlers:
 * the input is sent as it is, over a loopback TCP connection, to a real
 * server started with http_start() (libmicrohttpd, one worker thread),
 * whose handler is route_dispatch() with the web's and the API's route
 * tables, as `steward serve` has them, on a `struct app` of its own
 * (home, store, jobs, auth, engine) in a temporary directory.
 *
 * The home holds an administrator `admin` and a user `bob`, each with an
 * API token the corpus uses (see below), and one job, `hello` (a string
 * parameter WHO and a file parameter in/data.txt; uploads of at most 1 MiB
 * go to HOME/uploads), whose one step is `true`, run without a sandbox, and whose quiet period of an
 * hour keeps a triggered build waiting unless the trigger asks for no
 * delay; the engine has one executor and a queue of at most 20 items.
 *
 * Whatever the input, the server closes the connection within 10 seconds
 * of the client's end of input, and every answer it sends (none, for a
 * request libmicrohttpd gives up on) starts with an HTTP/1.x status line
 * whose status is not 500. ASan and UBSan watch both threads. The state
 * the requests change (jobs, users, tokens, settings, the queue, the
 * failed-login counts) carries over to the next input, as on a real
 * server, so a finding may need the inputs before it to show again; the
 * memory of a request must not outlive it, and everything is freed at
 * exit, where LeakSanitizer looks.
 *
 * Build (every layer but the daemon and the CLI):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -DSTEWARD_VERSION='"fuzz"' -Isrc \
 *     $(pkg-config --cflags libmicrohttpd sqlite3 libxml-2.0 jansson libsodium) \
 *     src/util/[a-z]*.c src/store/[a-z]*.c src/core/[a-z]*.c src/http/[a-z]*.c \
 *     src/api/[a-z]*.c src/web/[a-z]*.c tests/fuzz/fuzz_request.c \
 *     $(pkg-config --libs libmicrohttpd sqlite3 libxml-2.0 jansson libsodium) -lpthread
 * Replay without libFuzzer (e.g. the corpus in the normal test run): add
 * -DFUZZ_REPLAY_MAIN and pass files as arguments.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/dispatch.h"
#include "api/nodes.h"
#include "core/auth.h"
#include "core/engine.h"
#include "core/home.h"
#include "core/jobs.h"
#include "core/nodes.h"
#include "core/upload.h"
#include "http/app.h"
#include "http/http.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/secret.h"
#include "util/strutil.h"
#include "web/web.h"
#include "fuzz.h"

/* The API tokens the corpus uses: "11" and the 32 hex digits whose SHA-256 is stored. */
#define ADMIN_TOKEN_HEX "0123456789abcdef0123456789abcdef"
#define BOB_TOKEN_HEX "fedcba9876543210fedcba9876543210"

static const char job_xml[] =
    "<?xml version='1.1' encoding='UTF-8'?>\n"
    "<project>\n"
    "  <description>fuzz</description>\n"
    "  <properties>\n"
    "    <hudson.model.ParametersDefinitionProperty>\n"
    "      <parameterDefinitions>\n"
    "        <hudson.model.StringParameterDefinition>\n"
    "          <name>WHO</name>\n"
    "          <defaultValue>world</defaultValue>\n"
    "        </hudson.model.StringParameterDefinition>\n"
    "        <hudson.model.FileParameterDefinition>\n"
    "          <name>in/data.txt</name>\n"
    "        </hudson.model.FileParameterDefinition>\n"
    "      </parameterDefinitions>\n"
    "    </hudson.model.ParametersDefinitionProperty>\n"
    "  </properties>\n"
    "  <authToken>trigger-me</authToken>\n"
    "  <quietPeriod>3600</quietPeriod>\n"
    "  <builders><hudson.tasks.Shell><command>true</command></hudson.tasks.Shell></builders>\n"
    "</project>\n";

static struct {
    char dir[64];
    struct home *home;
    struct jobs *jobs;
    struct nodes *nodes;
    struct auth *auth;
    struct engine *engine;
    struct http *http;
    struct app app;
    struct sockaddr_in addr;
} server;

static void
handle(void *userdata, struct req *req, struct resp *resp)
{
    const struct route_table tables[] = { web_routes, api_routes, node_routes };

    route_dispatch(userdata, req, resp, tables, ELEMENTSOF(tables));
}

static void
add_user(struct store *db, const char *name, bool admin, const char *token_hex, const char *uuid)
{
    char hash[SECRET_SHA256_HEX_LEN + 1], pw[crypto_pwhash_STRBYTES];
    int64_t id;

    /*
     * The cheapest Argon2 libsodium makes: a wrong password costs what
     * verifying it costs, which at the server's strength would leave the
     * fuzzer waiting on the hash.
     */
    CHECK(crypto_pwhash_str_alg(pw, "fuzz-password", 13, crypto_pwhash_OPSLIMIT_MIN,
                                crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13) == 0);
    CHECK(store_user_add(db, name, pw, admin, &id) == 0);
    secret_sha256_hex(token_hex, strlen(token_hex), hash);
    CHECK(store_token_add(db, id, uuid, "fuzz", hash, NULL) == 0);
}

static void
stop_server(void)
{
    http_stop(server.http);
    engine_stop(server.engine);
    server.engine = engine_free(server.engine);
    server.jobs = jobs_free(server.jobs);
    server.nodes = nodes_free(server.nodes);
    server.auth = auth_free(server.auth);
    server.home = home_free(server.home);
    (void) fs_rm_rf(server.dir);
}

static void
start_server(void)
{
    _cleanup_(store_closep) struct store *db = NULL;
    _cleanup_free_ char *err = NULL;
    char listen[32];
    static char *uploads;
    int fd, port;

    signal(SIGPIPE, SIG_IGN);
    log_set_level(LOG_ERR + 1); /* the server's records are noise here */
    snprintf(server.dir, sizeof server.dir, "/tmp/steward-fuzz-request-XXXXXX");
    CHECK(mkdtemp(server.dir));
    CHECK(home_open(server.dir, &server.home) == 0);
    CHECK(store_open(server.home->db_path, &db) == 0);
    add_user(db, "admin", true, ADMIN_TOKEN_HEX, "11111111-1111-4111-8111-111111111111");
    add_user(db, "bob", false, BOB_TOKEN_HEX, "22222222-2222-4222-8222-222222222222");
    CHECK(jobs_load(server.home, &server.jobs) == 0);
    CHECK(jobs_create(server.jobs, "hello", job_xml, strlen(job_xml), &err) == 0);
    CHECK(nodes_open(server.home->root, &server.nodes) == 0);
    CHECK(auth_new(&server.auth) == 0);
    CHECK(http_bind("127.0.0.1:0", &fd, &port) == 0);
    snprintf(listen, sizeof listen, "http://127.0.0.1:%d/", port);
    CHECK(engine_new(server.home, server.jobs, server.auth,
                     &(struct engine_opts){ .executors = 1, .quiet_period_s = 3600,
                                            .root_url = listen, .stop_grace_ms = 1000,
                                            .queue_limit = 20 },
                     &server.engine) == 0);
    CHECK(engine_start(server.engine, NULL) == 0);
    server.app = (struct app){ .home = server.home, .jobs = server.jobs, .nodes = server.nodes,
                               .engine = server.engine, .auth = server.auth, .executors = 1 };
    uploads = upload_dir(server.home->root);
    CHECK(uploads && fs_mkdir_p(uploads, 0700) == 0);
    CHECK(http_start(&(struct http_opts){ .listen_fd = fd, .port = port, .threads = 1,
                                          .db_path = server.home->db_path, .auth = server.auth,
                                          .session_cookie = SESSION_COOKIE,
                                          .upload_dir = uploads, .max_upload = 1 << 20,
                                          .handler = handle,
                                          .userdata = &server.app },
                     &server.http) == 0);
    server.addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    atexit(stop_server);
}

/* Every answer in `s` (pipelined requests get several) starts with a status line. */
static void
check_answers(const char *s, size_t len)
{
    if (len == 0)
        return; /* closed without an answer: a request libmicrohttpd gave up on */
    if (len < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[8] != ' ')
        fprintf(stderr, "not an HTTP answer: %.*s\n", (int) (len < 200 ? len : 200), s);
    CHECK(len >= 12 && memcmp(s, "HTTP/1.", 7) == 0 && s[8] != '\0');
    for (const char *p = s; (p = memmem(p, len - (size_t) (p - s), "HTTP/1.", 7)); p += 7) {
        /* only where a line begins: the first, or after the previous answer */
        if (p != s && p[-1] != '\n')
            continue;
        if ((size_t) (p - s) + 12 <= len && memcmp(p + 8, " 500", 4) == 0)
            fprintf(stderr, "a 500 answer:\n%.*s\n", (int) (len - (size_t) (p - s)), p);
        CHECK(!((size_t) (p - s) + 12 <= len && memcmp(p + 8, " 500", 4) == 0));
    }
}

/* memmem(), but for ASCII in any case. */
static const char *
strcasestr_n(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);

    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(s + i, word, n) == 0)
            return s + i;
    return NULL;
}

/*
 * Does the input end with a whole request, which the server will answer?
 * An answer may be deferred (a trigger waits for its queue item to be
 * stored), and libmicrohttpd drops a parked request whose client has shut
 * down its side, so the input's end is held back until the first answer
 * comes, for at most HOLD_MS; a request that is not whole may never be
 * answered, so for one of those the end goes at once. A guess (a request
 * line, the headers' end, then Content-Length or the last chunk): a wrong
 * one costs a wait or an answer, not a false finding.
 */
#define HOLD_MS 300

static bool
looks_whole(const uint8_t *data, size_t size)
{
    const char *s = (const char *) data, *end = memmem(s, size, "\r\n\r\n", 4), *line_end, *cl;
    size_t body, method = 0;

    while (method < size && s[method] >= 'A' && s[method] <= 'Z')
        method++;
    if (!end || method == 0 || s[method] != ' ' || s[method + 1] != '/')
        return false;
    line_end = memmem(s, size, "\r\n", 2);
    if (line_end - s < 9 || memcmp(line_end - 9, " HTTP/1.", 8) != 0)
        return false;
    body = size - (size_t) (end + 4 - s);
    if (memmem(s, (size_t) (end - s), "chunked", 7))
        return size >= 5 && memcmp(s + size - 5, "0\r\n\r\n", 5) == 0;
    cl = strcasestr_n(s, (size_t) (end - s), "\nContent-Length:");
    return !cl || strtoull(cl + 16, NULL, 10) <= body;
}

/*
 * A new connection. Every input leaves one in TIME_WAIT on this side,
 * and other programs share the loopback ports, so a moment without a
 * free port is waited out; a refusal is the server's fault.
 */
static int
connect_to_server(void)
{
    for (int tries = 0;; tries++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        CHECK(fd >= 0);
        if (connect(fd, (struct sockaddr *) &server.addr, sizeof server.addr) == 0)
            return fd;
        if (tries == 500 || (errno != EADDRNOTAVAIL && errno != EAGAIN && errno != EINTR))
            fprintf(stderr, "cannot connect to the server: %s\n", strerror(errno));
        CHECK(tries < 500 && (errno == EADDRNOTAVAIL || errno == EAGAIN || errno == EINTR));
        close(fd);
        usleep(10 * 1000);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char answer[4 * 1024 * 1024 + 1];
    size_t got = 0, sent = 0;
    int64_t deadline, hold_until;
    bool shut = false;
    int fd;

    if (!server.http)
        start_server();
    if (size > 64 * 1024)
        return 0;

    fd = connect_to_server();
    deadline = now_ms() + 10000;
    hold_until = looks_whole(data, size) ? now_ms() + HOLD_MS : 0;
    /* send it all, reading meanwhile so that a large answer cannot block both sides */
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN | (sent < size ? POLLOUT : 0) };
        int64_t left = deadline - now_ms();
        ssize_t n;

        if (left <= 0)
            fprintf(stderr, "no end of the answer after 10 s (%zu bytes of it)\n%.*s\n", got,
                    (int) (got < 500 ? got : 500), answer);
        CHECK(left > 0);
        if (!shut && sent == size && (got > 0 || now_ms() >= hold_until)) {
            (void) shutdown(fd, SHUT_WR);
            shut = true;
        }
        if (!shut && sent == size)
            left = MIN(left, MAX(hold_until - now_ms(), 1));
        if (poll(&p, 1, (int) left) <= 0)
            continue;
        if (p.revents & POLLOUT) {
            n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t) n;
            else
                sent = size; /* the server closed: the rest cannot go */
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            n = recv(fd, answer + got, sizeof answer - 1 - got, 0);
            if (n == 0 && got == sizeof answer - 1) {
                char sink[4096];
                n = recv(fd, sink, sizeof sink, 0);
            } else if (n > 0) {
                got += (size_t) n;
            }
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                break;
        }
    }
    close(fd);
    answer[got] = '\0';
    if (getenv("FUZZ_REQUEST_SHOW")) /* what a corpus reaches: each input's first status line */
        fprintf(stderr, "%.*s\n", (int) strcspn(answer, "\r\n"), answer);
    check_answers(answer, got);
    return 0;
}
