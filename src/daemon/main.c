/* SPDX-License-Identifier: MIT */
/*
 * steward: the server (serve) and the offline admin commands that work on
 * a home directory directly (user, token, security; backup and restore in
 * backup.c).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pwd.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/credentials.h"
#include "api/nodes.h"
#include "api/hooks.h"
#include "api/dispatch.h"
#include "cli/cli.h"
#include "core/auth.h"
#include "core/credentials.h"
#include "core/engine.h"
#include "core/home.h"
#include "core/jobs.h"
#include "core/notify.h"
#include "core/metrics.h"
#include "core/sandbox.h"
#include "core/upload.h"
#include "daemon/backup.h"
#include "daemon/offline.h"
#include "daemon/service.h"
#include "http/app.h"
#include "http/tls.h"
#include "store/store.h"
#include "util/bounds.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/net.h"
#include "util/secret.h"
#include "util/strutil.h"
#include "web/web.h"

/* what glibc made of _FORTIFY_SOURCE, for tests/hardening/check.sh to read in the binary */
#define STR_(x) #x
#define STR(x) STR_(x)
#ifdef __USE_FORTIFY_LEVEL
__attribute__((used)) static const char fortify_level[] =
    "steward-fortify-level=" STR(__USE_FORTIFY_LEVEL);
#endif

static const char usage_text[] =
    "Usage: steward [--home DIR] COMMAND [ARGS]\n"
    "\n"
    "Server:\n"
    "  serve [--listen ADDR:PORT] [--executors N] [--url URL] [--quiet-period SECONDS]\n"
    "        [--threads N] [--queue-limit N] [--shutdown-grace SECONDS]\n"
    "        [--build-timeout DURATION] [--build-timeout-minimum DURATION]\n"
    "        [--build-user NAME] [--build-network host|none] [--build-env K=V]...\n"
    "        [--build-bind DIR]... [--no-sandbox]\n"
    "        [--node-connect-timeout SECONDS] [--node-keepalive SECONDS]\n"
    "\n"
    "Offline administration of a home directory (safe while the server runs):\n"
    "  user add NAME (--password P | --password-stdin) [--admin]\n"
    "  user passwd NAME (--password P | --password-stdin)\n"
    "  user remove NAME                    also revokes their API tokens\n"
    "  user admin NAME on|off\n"
    "  token new USER --name TOKENNAME [--scopes S] [--jobs J] [--expires E]\n"
    "                                      prints the new API token alone\n"
    "  token list USER\n"
    "  token revoke USER TOKENNAME\n"
    "  security anonymous-read on|off\n"
    "  security authorization logged-in|matrix|project-matrix\n"
    "  security token-scopes required|optional\n"
    "  security matrix grant|revoke PRINCIPAL PERMISSION [JOB]\n"
    "  security matrix show [JOB]\n"
    "  audit [--since T] [--until T] [--user U] [--job J] [--action A] [--limit N]\n"
    "  credentials add --id ID --kind secret-text|username-password|ssh-key|file\n"
    "        [--description D] [--username U] [--scope GLOBAL|SYSTEM] [--file-name NAME]\n"
    "        [--secret-file PATH|-] [--passphrase-file PATH|-]\n"
    "                                      the secret from a file or stdin, never argv\n"
    "  credentials list\n"
    "  credentials remove ID\n"
    "  node add NAME --host H [--port P] --credentials ID --remote-fs DIR\n"
    "        [--executors N] [--labels \"a b\"] [--exclusive] [--description D]\n"
    "        [--host-key \"ssh-ed25519 AAAA...\"]\n"
    "                                      an agent reached over SSH; the user is the\n"
    "                                      credential's username\n"
    "  node list\n"
    "  node remove NAME\n"
    "  metrics token new                   prints the /prometheus/ scrape token alone\n"
    "  metrics token revoke\n"
    "  git notify-token new NAME           prints a /git/notifyCommit access token alone\n"
    "  git notify-token list\n"
    "  git notify-token revoke UUID\n"
    "  git notify-access required|sha1-only|off\n"
    "  github hook-secret CREDENTIAL_ID|--remove\n"
    "                                      the secret text GitHub signs webhook deliveries with\n"
    "  backup DEST                         the database, jobs and secrets, into a new directory\n"
    "\n"
    "Offline, with the server stopped:\n"
    "  restore SRC                         replaces the home's state with a backup's\n"
    "\n"
    "The home directory defaults to $STEWARD_HOME, else ./steward-home.\n"
    "\n"
    "Client commands (over HTTP, to Steward or Jenkins; no home directory):\n"
    "  build, log, jobs, queue, stop, cancel, whoami, token, hooks\n"
    "`steward help` shows them all, `steward help COMMAND` one of them.\n";

int
usage_error(const char *msg)
{
    fprintf(stderr, "steward: %s\n\n%s", msg, usage_text);
    return 2;
}

/* ---- the server ---- */

static const char sample_job[] =
    "<?xml version='1.1' encoding='UTF-8'?>\n"
    "<project>\n"
    "  <actions/>\n"
    "  <description>A sample job: greets someone. Trigger it with either secret, see the README.</description>\n"
    "  <keepDependencies>false</keepDependencies>\n"
    "  <properties>\n"
    "    <hudson.model.ParametersDefinitionProperty>\n"
    "      <parameterDefinitions>\n"
    "        <hudson.model.StringParameterDefinition>\n"
    "          <name>WHO</name>\n"
    "          <description>Whom to greet</description>\n"
    "          <defaultValue>world</defaultValue>\n"
    "          <trim>true</trim>\n"
    "        </hudson.model.StringParameterDefinition>\n"
    "        <hudson.model.ChoiceParameterDefinition>\n"
    "          <name>GREETING</name>\n"
    "          <description>How to greet</description>\n"
    "          <choices class=\"java.util.Arrays$ArrayList\">\n"
    "            <a class=\"string-array\"><string>Hello</string><string>Hi</string><string>Good morning</string></a>\n"
    "          </choices>\n"
    "        </hudson.model.ChoiceParameterDefinition>\n"
    "      </parameterDefinitions>\n"
    "    </hudson.model.ParametersDefinitionProperty>\n"
    "  </properties>\n"
    "  <scm class=\"hudson.scm.NullSCM\"/>\n"
    "  <canRoam>true</canRoam>\n"
    "  <disabled>false</disabled>\n"
    "  <blockBuildWhenDownstreamBuilding>false</blockBuildWhenDownstreamBuilding>\n"
    "  <blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>\n"
    "  <authToken>%s</authToken>\n"
    "  <triggers/>\n"
    "  <concurrentBuild>false</concurrentBuild>\n"
    "  <quietPeriod>0</quietPeriod>\n"
    "  <builders>\n"
    "    <hudson.tasks.Shell>\n"
    "      <command>echo \"$GREETING, $WHO!\"\n"
    "echo \"This is build $BUILD_NUMBER of $JOB_NAME.\"\n"
    "</command>\n"
    "    </hudson.tasks.Shell>\n"
    "  </builders>\n"
    "  <publishers/>\n"
    "  <buildWrappers/>\n"
    "</project>\n";

/*
 * First start of an empty home: an admin with a one-time password, an API
 * token for it, and a sample job with a trigger token, then the two curl
 * commands that trigger it.
 */
static int
first_start(struct home *h, struct store *db, struct jobs *jobs, const char *root)
{
    char password[33], token[API_TOKEN_LEN + 1], uuid[37], trigger[25];
    _cleanup_free_ char *hash = NULL, *pwfile = NULL, *xml = NULL, *err = NULL;
    _cleanup_(job_unrefp) struct job *existing = NULL;
    int64_t count = 0, admin_id;
    int r;

    r = store_user_count(db, &count);
    if (r < 0 || count > 0)
        return r;

    secret_random_hex(password, 16);
    r = secret_hash_password(password, &hash);
    if (r < 0)
        return r;
    r = store_user_add(db, "admin", hash, true, &admin_id);
    if (r < 0)
        return r;
    pwfile = path_join(h->secrets_dir, "initialAdminPassword");
    if (!pwfile)
        return -ENOMEM;
    {
        char line[40];
        snprintf(line, sizeof line, "%s\n", password);
        r = fs_write_atomic(pwfile, line, strlen(line), 0600);
        if (r < 0)
            return r;
    }
    r = auth_token_new(db, admin_id, "first-start", NULL, token, uuid);
    if (r < 0)
        return r;

    existing = jobs_get(jobs, "hello");
    secret_random_hex(trigger, 12);
    if (!existing) {
        if (asprintf(&xml, sample_job, trigger) < 0)
            return -ENOMEM;
        r = jobs_create(jobs, "hello", xml, strlen(xml), &err);
        if (r < 0) {
            log_error("cannot create the sample job: %s", err ? err : strerror(-r));
            return r;
        }
    }

    printf("\n"
           "*************************************************************\n"
           "Steward's first start: an administrator account was created.\n"
           "\n"
           "  user:     admin\n"
           "  password: %s\n"
           "  (also in %s, readable by you only)\n"
           "\n"
           "An API token for admin, shown this once:\n"
           "\n"
           "  %s\n",
           password, pwfile, token);
    if (!existing)
        printf("\n"
               "The sample job 'hello' takes WHO and GREETING and has a trigger token.\n"
               "Trigger it with the user API token (HTTP Basic auth, POST):\n"
               "\n"
               "  curl -X POST -u admin:%s '%sjob/hello/buildWithParameters?WHO=Steward'\n"
               "\n"
               "or with the job's trigger token (no user needed, GET or POST):\n"
               "\n"
               "  curl '%sjob/hello/buildWithParameters?token=%s&WHO=Steward'\n",
               token, root, root, trigger);
    printf("*************************************************************\n\n");
    fflush(stdout);
    secret_wipe(password, sizeof password);
    secret_wipe(token, sizeof token);
    return 0;
}

/*
 * What nobody waits for at the start: reading the job index and checking
 * every config.xml, and the sandbox's probe. They begin once the first
 * answer has gone, or a second after the server listens, so that they do
 * not compete with the start (whoever needs them sooner starts them).
 */
struct background {
    struct jobs *jobs;
    struct sandbox *sandbox;
};

static void
begin_background(void *data)
{
    struct background *b = data;

    jobs_begin_background(b->jobs);
    sandbox_start_probe(b->sandbox);
}

/* The next signal of `sigs`; SIGTERM if waiting fails. */
static int
next_signal(const sigset_t *sigs)
{
    int sig;

    return sigwait(sigs, &sig) == 0 ? sig : SIGTERM;
}

/* Every request: the pages' routes first (some are for browsers only), then the API's. */
static void
handle(void *userdata, struct req *req, struct resp *resp)
{
    const struct route_table tables[] = { web_routes, api_routes, node_routes, credentials_routes };

    route_dispatch(userdata, req, resp, tables, ELEMENTSOF(tables));
}

/* A safe exit found no build running: the server stops as on SIGTERM. */
static void
safe_exit_now(void *userdata)
{
    (void) userdata;
    (void) kill(getpid(), SIGTERM);
}

/*
 * glibc gives each thread that allocates an arena of its own, up to eight
 * per CPU: the server's dozen threads each kept a heap of freed memory and
 * 64 MiB of address space. One arena for each thread that allocates on the
 * trigger path (the HTTP workers, the engine, the one that accepts, main)
 * and one more. With as many as CPUs (two on 2 CPUs) a trigger flood made
 * 0.6-1.0 futex calls per trigger on the arenas' locks (a worker allocates
 * a trigger, the engine frees it); with 8, 0.03-0.05, for 0.2 MB more of
 * idle RSS. An administrator's MALLOC_ARENA_MAX or glibc.malloc.arena_max
 * tunable wins.
 */
static void
limit_malloc_arenas(int http_threads)
{
    const char *tunables = getenv("GLIBC_TUNABLES");

    if (getenv("MALLOC_ARENA_MAX") || (tunables && strstr(tunables, "malloc.arena_max")))
        return;
    (void) mallopt(M_ARENA_MAX, http_threads + 4);
}

/* "30" (minutes), "90s", "30m", "2h": at most 10 years. 0 or -EINVAL. */
static int
parse_duration_ms(const char *s, int64_t *ret)
{
    size_t n = strlen(s);
    int64_t unit = 60000, v;
    _cleanup_free_ char *num = NULL;

    if (n > 1 && strchr("smh", s[n - 1])) {
        unit = s[n - 1] == 's' ? 1000 : s[n - 1] == 'm' ? 60000 : 3600000;
        n--;
    }
    num = strndup(s, n);
    if (!num || parse_int64(num, 0, 10LL * 366 * 24 * 3600 * 1000 / unit, &v) < 0)
        return -EINVAL;
    *ret = v * unit;
    return 0;
}

static int
cmd_serve(const char *home_dir, int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "executors", required_argument, NULL, 'e' },
        { "url", required_argument, NULL, 'u' },
        { "quiet-period", required_argument, NULL, 'q' },
        { "threads", required_argument, NULL, 't' },
        { "queue-limit", required_argument, NULL, 'Q' },
        { "shutdown-grace", required_argument, NULL, 'g' },
        { "build-user", required_argument, NULL, 'U' },
        { "build-network", required_argument, NULL, 'N' },
        { "build-env", required_argument, NULL, 'E' },
        { "build-bind", required_argument, NULL, 'B' },
        { "no-sandbox", no_argument, NULL, 'S' },
        { "connections-per-address", required_argument, NULL, 'C' },
        { "queue-memory", required_argument, NULL, 'M' },
        { "max-upload", required_argument, NULL, 'X' },
        { "trusted-proxy", required_argument, NULL, 'P' },
        { "audit-days", required_argument, NULL, 'A' },
        { "tls-cert", required_argument, NULL, 'c' },
        { "tls-key", required_argument, NULL, 'k' },
        { "build-timeout", required_argument, NULL, 'T' },
        { "build-timeout-minimum", required_argument, NULL, 'm' },
        { "node-connect-timeout", required_argument, NULL, 'n' },
        { "node-keepalive", required_argument, NULL, 'K' },
        {},
    };
    struct sandbox_opts sandbox_opts = {};
    int64_t node_connect_s = 10, node_alive_s = 10;
    const char *build_env[BOUND_BUILD_ENV], *binds[SANDBOX_MAX_BINDS];
    struct cidr proxies[16];
    size_t n_proxies = 0;
    size_t n_build_env = 0, n_binds = 0;
    struct sandbox *sandbox = NULL;
    _cleanup_free_ char *sandbox_err = NULL;
    const char *listen = "127.0.0.1:8080", *url = NULL;
    int64_t executors = sysconf(_SC_NPROCESSORS_ONLN), quiet = 5, threads = 0;
    int64_t queue_limit = BOUND_QUEUE_ITEMS, grace = 0;
    int64_t per_address = HTTP_CONNECTIONS_PER_ADDRESS, queue_mib = BOUND_QUEUE_BYTES >> 20;
    int64_t build_timeout_ms = 0, timeout_minimum_ms = 3 * 60 * 1000;
    int64_t audit_days = AUDIT_DEFAULT_DAYS, max_upload_mib = BOUND_UPLOAD_DEFAULT_MIB;
    _cleanup_free_ char *uploads = NULL;
    const char *tls_cert = NULL, *tls_key = NULL;
    _cleanup_(store_closep) struct store *db = NULL;
    _cleanup_free_ char *root = NULL;
    struct home *h = NULL;
    struct jobs *jobs = NULL;
    struct nodes *nodes = NULL;
    struct auth *auth = NULL;
    struct engine *engine = NULL;
    struct http *http = NULL;
    struct app app = {};
    struct background background = {};
    _cleanup_close_ int lock_fd = -1;
    pid_t holder = 0;
    sigset_t sigs;
    int c, r, sig, listen_fd, port;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'e':
            if (parse_int64(optarg, 1, 1024, &executors) < 0)
                return usage_error("--executors takes a number from 1 to 1024");
            break;
        case 'u':
            url = optarg;
            break;
        case 'q':
            if (parse_int64(optarg, 0, 3600, &quiet) < 0)
                return usage_error("--quiet-period takes seconds, 0 to 3600");
            break;
        case 't':
            if (parse_int64(optarg, 1, 256, &threads) < 0)
                return usage_error("--threads takes a number from 1 to 256");
            break;
        case 'Q':
            if (parse_int64(optarg, 1, BOUND_QUEUE_ITEMS_MAX, &queue_limit) < 0)
                return usage_error("--queue-limit takes a number from 1 to 1000000");
            break;
        case 'c':
            tls_cert = optarg;
            break;
        case 'k':
            tls_key = optarg;
            break;
        case 'A':
            if (parse_int64(optarg, 1, 36500, &audit_days) < 0)
                return usage_error("--audit-days takes days, 1 to 36500");
            break;
        case 'P':
            if (n_proxies == ELEMENTSOF(proxies))
                return usage_error("--trusted-proxy: at most 16 ranges");
            if (cidr_parse(optarg, &proxies[n_proxies]) < 0)
                return usage_error("--trusted-proxy takes an address or a range: 10.0.0.5, "
                                   "10.0.0.0/8, fd00::/8");
            n_proxies++;
            break;
        case 'X':
            if (parse_int64(optarg, 1, BOUND_UPLOAD_MAX_MIB, &max_upload_mib) < 0)
                return usage_error("--max-upload takes MiB, 1 to 65536");
            break;
        case 'M':
            if (parse_int64(optarg, 1, 65536, &queue_mib) < 0)
                return usage_error("--queue-memory takes MiB, 1 to 65536");
            break;
        case 'C':
            if (parse_int64(optarg, 0, 100000, &per_address) < 0)
                return usage_error("--connections-per-address takes a number, 0 (no limit) to "
                                   "100000");
            break;
        case 'g':
            if (parse_int64(optarg, 0, 86400, &grace) < 0)
                return usage_error("--shutdown-grace takes seconds, 0 to 86400");
            break;
        case 'U':
            sandbox_opts.build_user = optarg;
            break;
        case 'N':
            if (streq(optarg, "none"))
                sandbox_opts.network = SANDBOX_NET_NONE;
            else if (streq(optarg, "host"))
                sandbox_opts.network = SANDBOX_NET_HOST;
            else
                return usage_error("--build-network is host or none");
            break;
        case 'E': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || (optarg[0] >= '0' && optarg[0] <= '9') ||
                strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
                    (size_t) (eq - optarg))
                return usage_error("--build-env takes NAME=VALUE, NAME of letters, digits and _, "
                                   "not starting with a digit");
            if (n_build_env == ELEMENTSOF(build_env))
                return usage_error("--build-env: at most 64 variables");
            build_env[n_build_env++] = optarg;
            break;
        }
        case 'B':
            if (n_binds == ELEMENTSOF(binds))
                return usage_error("--build-bind: at most 8 directories");
            if (optarg[0] != '/')
                return usage_error("--build-bind takes an absolute path");
            binds[n_binds++] = optarg;
            break;
        case 'S':
            sandbox_opts.disabled = true;
            break;
        case 'T':
            if (parse_duration_ms(optarg, &build_timeout_ms) < 0 || build_timeout_ms <= 0)
                return usage_error("--build-timeout takes a duration above 0: minutes (30), or "
                                   "a number with s, m or h (90s, 2h); leave it out for none");
            break;
        case 'm':
            if (parse_duration_ms(optarg, &timeout_minimum_ms) < 0)
                return usage_error("--build-timeout-minimum takes a duration: minutes (3), or "
                                   "a number with s, m or h (0s, 90s)");
            break;
        case 'n':
            if (parse_int64(optarg, 1, 600, &node_connect_s) < 0)
                return usage_error("--node-connect-timeout takes seconds from 1 to 600");
            break;
        case 'K':
            if (parse_int64(optarg, 1, 600, &node_alive_s) < 0)
                return usage_error("--node-keepalive takes seconds from 1 to 600");
            break;
        default:
            return usage_error("unknown option for serve");
        }
    }
    if (executors < 1)
        executors = 1;
    if (!tls_cert != !tls_key)
        return usage_error("--tls-cert and --tls-key go together");
    if (tls_cert) {
        _cleanup_free_ char *why = NULL;

        r = tls_load(tls_cert, tls_key, &why);
        if (r < 0) {
            fprintf(stderr, "steward: TLS: %s\n", why ? why : strerror(-r));
            return 1;
        }
    }
    r = http_bind(listen, &listen_fd, &port);
    if (r < 0) {
        fprintf(stderr, "steward: cannot listen on %s: %s\n", listen,
                r == -EINVAL ? "give ADDRESS:PORT, e.g. 127.0.0.1:8080" : strerror(-r));
        return 1;
    }
    if (url) {
        if (!startswith(url, "http://") && !startswith(url, "https://"))
            return usage_error("--url must start with http:// or https://");
        /* it is pasted into Location, BUILD_URL and the session cookie's Path */
        for (const char *p = url; *p; p++)
            if ((unsigned char) *p <= ' ' || *p == 0x7f || strchr("?#;,\"\\<>", *p))
                return usage_error("--url must be a plain URL: no spaces, control characters, "
                                   "query (?) or fragment (#)");
        if (asprintf(&root, "%s%s", url, url[strlen(url) - 1] == '/' ? "" : "/") < 0)
            return 1;
    } else {
        _cleanup_free_ char *host = strndup(listen, (size_t) (strrchr(listen, ':') - listen));
        if (!host || asprintf(&root, "%s://%s:%d/", tls_enabled() ? "https" : "http", host, port) < 0)
            return 1;
    }

    /*
     * HTTP threads: twice the CPUs, at least 4 and at most 16. A handler
     * that blocks (a password's argon2id, at most 2 at once; a config.xml
     * written and synced) holds only the connections of its own thread. More
     * threads than that cost every trigger: a group commit resumes its
     * connections on every thread that holds one, and each wakes for its
     * few (on 2 CPUs, 32 wrk connections: 59 us of server CPU per
     * keep-alive trigger with 8 threads, 52 with 4; perf.sh's rates moved
     * less than its noise, docs/PERFORMANCE.md).
     */
    if (threads == 0) {
        threads = 2 * (int64_t) sysconf(_SC_NPROCESSORS_ONLN);
        threads = threads < 4 ? 4 : threads > 16 ? 16 : threads;
    }
    limit_malloc_arenas((int) threads);
    /* signals go to sigwait below, not to whichever thread */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    r = home_open(home_dir, &h);
    if (r < 0) {
        fprintf(stderr, "steward: cannot use home directory %s: %s\n", home_dir, strerror(-r));
        return 1;
    }
    /* one server per home: two engines would run every build twice */
    r = home_lock(h, &lock_fd, &holder);
    if (r < 0) {
        if (r == -EBUSY)
            fprintf(stderr, "steward: home directory %s is in use by process %d, which holds "
                    "%s/.lock (another steward serve, or a restore)\n", h->root, (int) holder,
                    h->root);
        else
            fprintf(stderr, "steward: cannot lock %s/.lock: %s\n", h->root, strerror(-r));
        home_free(h);
        return 1;
    }
    if (restore_check_interrupted(h->root) < 0) {
        home_free(h);
        return 1;
    }
    r = store_open(h->db_path, &db);
    if (r < 0) {
        fprintf(stderr, "steward: cannot open %s: %s\n", h->db_path,
                r == -EPROTO ? "made by a newer Steward" : strerror(-r));
        return 1;
    }
    if (jobs_load(h, &jobs) < 0 || auth_new(&auth) < 0)
        return 1;
    r = jobs_watch(jobs);
    if (r < 0)
        log_warn("jobs: cannot watch %s for changes made on disk (%s); they are read at the "
                 "next restart", h->jobs_dir, strerror(-r));
    r = nodes_open(h->root, &nodes);
    if (r < 0) {
        fprintf(stderr, "steward: cannot read %s/nodes: %s\n", h->root, strerror(-r));
        return 1;
    }
    r = first_start(h, db, jobs, root);
    if (r < 0) {
        fprintf(stderr, "steward: first start failed: %s\n", strerror(-r));
        return 1;
    }
    sandbox_opts.binds = binds;
    sandbox_opts.n_binds = n_binds;
    r = sandbox_new(&sandbox_opts, h->root, &sandbox, &sandbox_err);
    if (r < 0) {
        fprintf(stderr, "steward: %s\n", sandbox_err ? sandbox_err : strerror(-r));
        return 1;
    }
    if (!sandbox_on(sandbox))
        log_warn("builds run without a sandbox, as %s (--no-sandbox): whoever may configure a "
                 "job can read the database and the secrets of this server",
                 sandbox_user(sandbox));
    r = engine_new(h, jobs, auth,
                   &(struct engine_opts){ .executors = (int) executors,
                                          .quiet_period_s = (int) quiet,
                                          .root_url = root,
                                          .stop_grace_ms = 5000,
                                          .queue_limit = (int) queue_limit,
                                          .queue_bytes = queue_mib << 20,
                                          .audit_days = (int) audit_days,
                                          .shutdown_grace_ms = (int) grace * 1000,
                                          .sandbox = sandbox,
                                          .build_env = build_env,
                                          .n_build_env = n_build_env,
                                          .build_timeout_ms = build_timeout_ms,
                                          .timeout_minimum_ms = timeout_minimum_ms,
                                          .node_connect_timeout_s = (int) node_connect_s,
                                          .node_alive_interval_s = (int) node_alive_s,
                                          .nodes = nodes,
                                          .on_idle_exit = safe_exit_now },
                   &engine);
    /* each HTTP thread opens a connection of its own; this one is the engine's now */
    if (r >= 0)
        r = engine_start(engine, TAKE_PTR(db));
    if (r < 0) {
        fprintf(stderr, "steward: cannot start the queue: %s\n", strerror(-r));
        return 1;
    }
    /* file parameters: uploads arrive here, and wait here for their builds */
    uploads = upload_dir(h->root);
    if (!uploads || fs_mkdir_p(uploads, 0700) < 0) {
        fprintf(stderr, "steward: cannot make %s/uploads\n", h->root);
        engine_stop(engine);
        return 1;
    }
    background = (struct background){ .jobs = jobs, .sandbox = sandbox };
    app = (struct app){ .home = h, .jobs = jobs, .nodes = nodes, .engine = engine, .auth = auth,
                        .root_url = url ? root : NULL, .executors = (int) executors };
    r = http_start(&(struct http_opts){ .listen_fd = listen_fd, .port = port, .threads = (int) threads,
                                        .per_address = (unsigned) per_address, .tls = tls_enabled(),
                                        .trusted = proxies, .n_trusted = n_proxies,
                                        .db_path = h->db_path, .auth = auth,
                                        .session_cookie = SESSION_COOKIE,
                                        .upload_dir = uploads,
                                        .max_upload = (uint64_t) max_upload_mib << 20,
                                        .handler = handle,
                                        .userdata = &app,
                                        .on_first_answer = begin_background,
                                        .first_answer_data = &background },
                   &http);
    if (r < 0) {
        fprintf(stderr, "steward: cannot listen on %s: %s\n", listen, strerror(-r));
        engine_stop(engine);
        return 1;
    }
    metrics_mark_start();
    log_info("Steward %s listening on %s (port %d), %d executors, home %s", STEWARD_VERSION,
             listen, http_port(http), (int) executors, h->root);
    service_ready(listen, http_port(http), (int) executors);

    /* the background work begins at the first answer, or a second from now (not to stop) */
    do
        sig = sigtimedwait(&sigs, NULL, &(struct timespec){ .tv_sec = 1 });
    while (sig < 0 && errno == EINTR);
    if (sig < 0 || sig == SIGHUP)
        begin_background(&background);
    if (sig < 0)
        sig = next_signal(&sigs);
    for (; sig == SIGHUP; sig = next_signal(&sigs)) {
        service_reload(jobs);
        if (tls_enabled()) {
            _cleanup_free_ char *why = NULL;

            if (tls_reload(&why) < 0)
                log_error("TLS: %s; the certificate in use stays", why ? why : "cannot reload");
            else
                log_info("TLS: the certificate and key were read again");
        }
    }
    log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal");
    service_stopping();
    /*
     * No new connections; the answers in flight are finished. Running builds
     * get --shutdown-grace to end; a second signal aborts them at once (a
     * reload asked for meanwhile has nothing left to do).
     */
    http_quiesce(http);
    (void) engine_request_stop(engine);
    while (!engine_wait_stopped(engine, 200)) {
        struct timespec now = { 0 };
        int s = sigtimedwait(&sigs, NULL, &now);
        if (s == SIGTERM || s == SIGINT) {
            log_info("a second signal: running builds are aborted now");
            (void) engine_abort_all(engine);
        }
    }
    http_stop(http);
    tls_free();
    engine_stop(engine);
    engine_free(engine);
    sandbox_free(sandbox);
    auth_free(auth);
    nodes_free(nodes);
    jobs_free(jobs);
    home_free(h);
    return 0;
}

/* ---- offline admin commands ---- */

int
open_home(const char *home_dir, struct home **h, struct store **db)
{
    int r = home_open(home_dir, h);

    if (r >= 0)
        r = store_open((*h)->db_path, db);
    if (r < 0)
        fprintf(stderr, "steward: cannot open home %s: %s\n", home_dir, strerror(-r));
    return r;
}

/* An entry of the audit log for an offline command: the actor is the system user running it. */
void
offline_audit(struct store *db, const char *action, const char *job, const char *fmt, ...)
{
    const struct passwd *pw = getpwuid(geteuid());
    _cleanup_free_ char *detail = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    if (vasprintf(&detail, fmt, ap) < 0)
        detail = NULL;
    va_end(ap);
    r = store_audit_add(db, &(struct audit_entry){ .actor = pw ? pw->pw_name : "?", .via = "offline",
                                                   .action = action, .job = job, .detail = detail });
    if (r < 0)
        fprintf(stderr, "steward: warning: the audit log could not record this: %s\n",
                strerror(-r));
}

static int
read_password(const char *given, bool from_stdin, char **ret)
{
    char line[BOUND_PASSWORD_BYTES + 2];
    size_t n;

    if (given) {
        *ret = strdup(given);
        return *ret ? 0 : -ENOMEM;
    }
    if (!from_stdin)
        return -EINVAL;
    if (!fgets(line, sizeof line, stdin))
        return -EINVAL;
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    *ret = strdup(line);
    secret_wipe(line, sizeof line);
    return *ret ? 0 : -ENOMEM;
}

/* user remove NAME; user admin NAME on|off. The user's API tokens go with them. */
static int
cmd_user_manage(const char *home_dir, const char *sub, const char *name, const char *flag)
{
    _cleanup_(store_closep) struct store *db = NULL;
    struct user_row u = {};
    struct home *h = NULL;
    int r;

    if (streq(sub, "admin") && (!flag || (!streq(flag, "on") && !streq(flag, "off"))))
        return usage_error("user admin takes NAME on|off");
    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    r = store_begin(db);
    if (r >= 0)
        r = store_user_get(db, name, &u);
    if (r >= 0)
        r = streq(sub, "remove") ? store_user_delete(db, u.id)
                                 : store_user_set_admin(db, u.id, streq(flag, "on"));
    if (r >= 0)
        r = store_commit(db);
    else
        (void) store_rollback(db);
    if (r >= 0)
        offline_audit(db, streq(sub, "remove") ? "user-remove" : "user-admin", NULL, "user '%s'%s",
                      name, streq(sub, "remove") ? "" : streq(flag, "on") ? " on" : " off");
    user_row_release(&u);
    home_free(h);
    if (r == -ENOENT) {
        fprintf(stderr, "steward: no user %s\n", name);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "steward: cannot change the user: %s\n", strerror(-r));
        return 1;
    }
    if (streq(sub, "remove"))
        fprintf(stderr, "Removed user %s and their API tokens\n", name);
    else
        fprintf(stderr, "User %s is %s an administrator\n", name, streq(flag, "on") ? "now" : "no longer");
    return 0;
}

static int
cmd_user(const char *home_dir, int argc, char **argv)
{
    static const struct option opts[] = {
        { "password", required_argument, NULL, 'p' },
        { "password-stdin", no_argument, NULL, 's' },
        { "admin", no_argument, NULL, 'a' },
        {},
    };
    _cleanup_(store_closep) struct store *db = NULL;
    _cleanup_secret_ char *password = NULL;
    _cleanup_free_ char *hash = NULL;
    const char *given = NULL, *sub, *name, *why;
    bool from_stdin = false, admin = false;
    struct home *h = NULL;
    int c, r;

    if (argc < 3)
        return usage_error("user needs a subcommand and a name");
    sub = argv[1];
    name = argv[2];
    optind = 3;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
        switch (c) {
        case 'p':
            given = optarg;
            break;
        case 's':
            from_stdin = true;
            break;
        case 'a':
            admin = true;
            break;
        default:
            return usage_error("unknown option for user");
        }
    }
    if (streq(sub, "remove") || streq(sub, "admin"))
        return cmd_user_manage(home_dir, sub, name, argc > 3 ? argv[3] : NULL);
    if (!streq(sub, "add") && !streq(sub, "passwd"))
        return usage_error("user takes add, passwd, remove or admin");
    if (auth_check_user_name(name, &why) < 0)
        return usage_error(why);
    if (read_password(given, from_stdin, &password) < 0 || !*password)
        return usage_error("give a password with --password P or --password-stdin");
    if (auth_check_password(password, &why) < 0)
        return usage_error(why);
    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    r = secret_hash_password(password, &hash);
    if (r >= 0) {
        if (streq(sub, "add"))
            r = store_user_add(db, name, hash, admin, NULL);
        else {
            struct user_row u = {};
            r = store_user_get(db, name, &u);
            if (r >= 0)
                r = store_user_set_password(db, u.id, hash);
            if (r >= 0)
                home_forget_initial_password(h, u.password_hash);
            user_row_release(&u);
        }
    }
    if (r >= 0)
        offline_audit(db, streq(sub, "add") ? "user-add" : "user-password", NULL, "user '%s'%s",
                      name, admin ? ", administrator" : "");
    home_free(h);
    if (r == -EEXIST) {
        fprintf(stderr, "steward: user %s already exists\n", name);
        return 1;
    }
    if (r == -ENOENT) {
        fprintf(stderr, "steward: no user %s\n", name);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "steward: cannot store the user: %s\n", strerror(-r));
        return 1;
    }
    fprintf(stderr, "%s user %s%s\n", streq(sub, "add") ? "Added" : "Changed the password of",
            name, admin ? " (administrator)" : "");
    return 0;
}

static void
print_time(int64_t ms)
{
    char s[32];
    time_t t = (time_t) (ms / 1000);
    struct tm tm;

    if (ms <= 0) {
        printf("%-20s", "never");
        return;
    }
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-20s", s);
}

static int
cmd_token(const char *home_dir, int argc, char **argv)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },
        { "scopes", required_argument, NULL, 's' },
        { "jobs", required_argument, NULL, 'j' },
        { "expires", required_argument, NULL, 'e' },
        {},
    };
    _cleanup_(store_closep) struct store *db = NULL;
    const char *sub, *user, *name = NULL, *scopes = NULL, *jobs = NULL, *expires = NULL;
    struct user_row u = {};
    struct home *h = NULL;
    int c, r;

    if (argc < 3)
        return usage_error("token needs a subcommand and a user");
    sub = argv[1];
    user = argv[2];
    optind = 3;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
        switch (c) {
        case 'n':
            name = optarg;
            break;
        case 's':
            scopes = optarg;
            break;
        case 'j':
            jobs = optarg;
            break;
        case 'e':
            expires = optarg;
            break;
        default:
            return usage_error("unknown option for token");
        }
    }
    if (streq(sub, "revoke") && !name && optind < argc)
        name = argv[optind];
    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    r = store_user_get(db, user, &u);
    if (r < 0) {
        fprintf(stderr, "steward: no user %s\n", user);
        home_free(h);
        return 1;
    }
    if (streq(sub, "new")) {
        char value[API_TOKEN_LEN + 1], uuid[37];
        const char *why;

        if (!name) {
            r = usage_error("token new needs --name TOKENNAME");
            goto out;
        }
        struct token_limits lim;

        if (auth_check_token_name(name, &why) < 0) {
            r = usage_error(why);
            goto out;
        }
        if (auth_token_limits(db, scopes, jobs, expires, now_ms(), &lim, &why) < 0) {
            r = usage_error(why);
            goto out;
        }
        r = auth_token_new(db, u.id, name, &lim, value, uuid);
        if (r == -EEXIST) {
            fprintf(stderr, "steward: user %s already has a token named %s\n", user, name);
            r = 1;
            goto out;
        }
        if (r < 0) {
            fprintf(stderr, "steward: cannot store the token: %s\n", strerror(-r));
            r = 1;
            goto out;
        }
        printf("%s\n", value);
        secret_wipe(value, sizeof value);
        offline_audit(db, "token-new", NULL, "API token '%s' of user '%s'%s%s", name, user,
                      scopes && *scopes ? ", scopes " : "", scopes && *scopes ? scopes : "");
        r = 0;
    } else if (streq(sub, "list")) {
        struct token_row *rows = NULL;
        size_t n = 0;
        r = store_token_list(db, u.id, &rows, &n);
        if (r < 0) {
            fprintf(stderr, "steward: cannot list tokens: %s\n", strerror(-r));
            r = 1;
            goto out;
        }
        printf("%-24s %-36s %-20s %-20s %-6s %-20s %s\n", "NAME", "UUID", "CREATED", "LAST USED",
               "USES", "EXPIRES", "LIMITS");
        for (size_t i = 0; i < n; i++) {
            printf("%-24s %-36s ", rows[i].name, rows[i].uuid);
            print_time(rows[i].created_ms);
            printf(" ");
            print_time(rows[i].last_use_ms);
            printf(" %-6lld ", (long long) rows[i].use_count);
            print_time(rows[i].expires_ms);
            printf(" %s%s%s\n", rows[i].scopes ? rows[i].scopes : rows[i].jobs ? "" : "every right",
                   rows[i].jobs ? (rows[i].scopes ? "; jobs " : "jobs ") : "",
                   rows[i].jobs ? rows[i].jobs : "");
        }
        token_rows_free(rows, n);
        r = 0;
    } else if (streq(sub, "revoke")) {
        if (!name) {
            r = usage_error("token revoke needs USER TOKENNAME");
            goto out;
        }
        r = store_token_delete(db, u.id, NULL, name);
        if (r < 0) {
            fprintf(stderr, "steward: user %s has no token named %s\n", user, name);
            r = 1;
            goto out;
        }
        offline_audit(db, "token-revoke", NULL, "API token %s of user '%s'", name, user);
        fprintf(stderr, "Revoked token %s of user %s\n", name, user);
        r = 0;
    } else
        r = usage_error("token takes new, list or revoke");
out:
    user_row_release(&u);
    home_free(h);
    return r;
}

/* The job's own matrix, offline: its config.xml is read, changed and written back. */
static int
job_matrix_change(struct home *h, const char *job, const struct grant *g, bool grant)
{
    _cleanup_free_ char *path = home_job_config(h, job), *xml = NULL, *out = NULL, *err = NULL;
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    struct grant *v = NULL;
    size_t len = 0, n = 0;
    bool found = false;
    int r;

    if (!path)
        return -ENOMEM;
    r = fs_read_all(path, BOUND_CONFIG_XML_BYTES, &xml, &len);
    if (r < 0) {
        fprintf(stderr, "steward: cannot read %s: %s\n", path, strerror(-r));
        return r;
    }
    r = jobcfg_parse(xml, len, &cfg, &err);
    if (r < 0) {
        fprintf(stderr, "steward: %s: %s\n", path, err ? err : strerror(-r));
        return r;
    }
    v = calloc(cfg->matrix.n_grants + 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < cfg->matrix.n_grants; i++) {
        const struct grant *c = &cfg->matrix.grants[i];
        bool same = c->perm == g->perm && streq(c->sid, g->sid);

        found |= same;
        if (!same || grant)
            v[n++] = *c;
    }
    if (grant && !found)
        v[n++] = *g;
    if (!grant && !found) {
        free(v);
        fprintf(stderr, "steward: job %s does not grant %s to %s\n", job, perm_name(g->perm),
                g->sid);
        return -ENOENT;
    }
    r = jobcfg_set_matrix(cfg, cfg->matrix.present ? cfg->matrix.inherit : true, v, n);
    free(v);
    if (r >= 0)
        r = jobcfg_write(cfg, &out, &len);
    if (r >= 0)
        r = fs_write_atomic(path, out, len, 0600);
    if (r < 0)
        fprintf(stderr, "steward: cannot write %s: %s\n", path, strerror(-r));
    return r;
}

static void
print_grants_of_job(struct home *h, const char *job)
{
    _cleanup_free_ char *path = home_job_config(h, job), *xml = NULL, *err = NULL;
    _cleanup_(jobcfg_freep) struct job_config *cfg = NULL;
    size_t len = 0;

    if (!path || fs_read_all(path, BOUND_CONFIG_XML_BYTES, &xml, &len) < 0 ||
        jobcfg_parse(xml, len, &cfg, &err) < 0) {
        fprintf(stderr, "steward: cannot read the config.xml of job %s%s%s\n", job,
                err ? ": " : "", err ? err : "");
        return;
    }
    if (!cfg->matrix.present) {
        printf("job %s has no matrix of its own\n", job);
        return;
    }
    printf("job %s (%s the global grants):\n", job, cfg->matrix.inherit ? "adds to" : "replaces");
    for (size_t i = 0; i < cfg->matrix.n_grants; i++)
        printf("  %-24s %s\n", cfg->matrix.grants[i].sid, perm_name(cfg->matrix.grants[i].perm));
}

static int
cmd_matrix(struct home *h, struct store *db, int argc, char **argv)
{
    const char *sub = argc > 2 ? argv[2] : "";
    _cleanup_free_ char *entry = NULL;
    struct grant g = {};
    enum perm p;
    int r;

    if (streq(sub, "show") && argc <= 4) {
        char **entries = NULL;
        size_t n = 0;

        printf("strategy: %s\n", authz_name(app_strategy(db)));
        if (argc == 4) {
            print_grants_of_job(h, argv[3]);
            return 0;
        }
        if (store_grant_list(db, &entries, &n) < 0) {
            fprintf(stderr, "steward: cannot read the matrix\n");
            return 1;
        }
        printf("global:%s\n", n ? "" : " nothing is granted");
        for (size_t i = 0; i < n; i++) {
            if (grant_parse(entries[i], &g) == 0) {
                printf("  %-24s %s\n", g.sid, perm_name(g.perm));
                free(g.sid);
            } else
                printf("  %s (not a permission Steward uses)\n", entries[i]);
        }
        store_grants_free(entries, n);
        return 0;
    }
    if ((!streq(sub, "grant") && !streq(sub, "revoke")) || argc < 5 || argc > 6)
        return usage_error("security matrix takes: grant|revoke PRINCIPAL PERMISSION [JOB], "
                           "or show [JOB]");
    r = perm_parse(argv[4], &p);
    if (r < 0)
        return usage_error(rfmt("%s is not a permission%s: use a name like Job/Build or an id "
                                "like hudson.model.Item.Build", argv[4],
                                r == -ENOENT ? " Steward uses" : ""));
    if (grant_new(argv[3], p, &g) < 0)
        return usage_error("PRINCIPAL is a user name, authenticated or anonymous");
    if (argc == 6) {
        if (!perm_is_item(p)) {
            free(g.sid);
            return usage_error(rfmt("%s is not a job's permission: grant it globally (without "
                                    "JOB)", perm_name(p)));
        }
        r = job_matrix_change(h, argv[5], &g, streq(sub, "grant"));
        free(g.sid);
        if (r < 0)
            return 1;
        offline_audit(db, sub, argv[5], "%s to %s on the job", perm_name(p), argv[3]);
        fprintf(stderr, "%s %s %s on job %s.\n", streq(sub, "grant") ? "Granted" : "Revoked",
                argv[3], perm_name(p), argv[5]);
        return 0;
    }
    entry = grant_format(&g);
    free(g.sid);
    if (!entry)
        return 1;
    if (streq(sub, "grant"))
        r = store_grant_add(db, entry);
    else {
        r = store_grant_remove(db, entry);
        /* the form JJB and older matrix-auth write, without USER: */
        if (r == -ENOENT && (startswith(entry, "USER:") || startswith(entry, "GROUP:")))
            r = store_grant_remove(db, strchr(entry, ':') + 1);
    }
    if (r == -ENOENT) {
        fprintf(stderr, "steward: the global matrix does not grant %s to %s\n", perm_name(p),
                argv[3]);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "steward: cannot change the matrix: %s\n", strerror(-r));
        return 1;
    }
    offline_audit(db, sub, NULL, "%s to %s", perm_name(p), argv[3]);
    fprintf(stderr, "%s %s %s.\n", streq(sub, "grant") ? "Granted" : "Revoked", argv[3],
            perm_name(p));
    return 0;
}

/*
 * Stores one security setting offline and records it in the audit log
 * (`detail`); `said` is what the command tells on success. 0, or 1 after
 * saying why not.
 */
static int
set_security_setting(const char *home_dir, const char *key, const char *value,
                     const char *detail, const char *said)
{
    _cleanup_(store_closep) struct store *db = NULL;
    struct home *h = NULL;
    int r;

    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    r = store_setting_set(db, key, value);
    if (r >= 0)
        offline_audit(db, "strategy", NULL, "%s", detail);
    home_free(h);
    if (r < 0) {
        fprintf(stderr, "steward: cannot store the setting: %s\n", strerror(-r));
        return 1;
    }
    fprintf(stderr, "%s\n", said);
    return 0;
}

static int
cmd_security(const char *home_dir, int argc, char **argv)
{
    _cleanup_(store_closep) struct store *db = NULL;
    enum authz_strategy strategy;
    struct home *h = NULL;
    int r;

    if (argc == 3 && streq(argv[1], "anonymous-read") &&
        (streq(argv[2], "on") || streq(argv[2], "off")))
        return set_security_setting(home_dir, "anonymous_read", argv[2],
                                    rfmt("anonymous read %s", argv[2]),
                                    rfmt("Anonymous read access is %s.", argv[2]));
    if (argc == 3 && streq(argv[1], "authorization")) {
        if (authz_parse(argv[2], &strategy) < 0)
            return usage_error("security authorization takes logged-in, matrix or project-matrix");
        return set_security_setting(
            home_dir, "authorization", authz_name(strategy), authz_name(strategy),
            rfmt("The authorization strategy is %s%s.", authz_name(strategy),
                 strategy == AUTHZ_LOGGED_IN ? ""
                 : ": only administrators and what the matrix grants (steward security matrix "
                   "show) may do anything"));
    }
    if (argc == 3 && streq(argv[1], "token-scopes") &&
        (streq(argv[2], "required") || streq(argv[2], "optional")))
        return set_security_setting(home_dir, "token_scopes", argv[2],
                                    rfmt("token scopes %s", argv[2]),
                                    rfmt("New API tokens %s scopes.",
                                         streq(argv[2], "required") ? "must have"
                                                                    : "may go without"));
    if (argc >= 3 && streq(argv[1], "matrix")) {
        if (open_home(home_dir, &h, &db) < 0)
            return 1;
        r = cmd_matrix(h, db, argc, argv);
        home_free(h);
        return r;
    }
    return usage_error("security takes: anonymous-read on|off, authorization "
                       "logged-in|matrix|project-matrix, token-scopes required|optional, or "
                       "matrix grant|revoke|show ...");
}

/* audit [--since T] [--until T] [--user U] [--job J] [--action A] [--limit N]: newest first */
static int
cmd_audit(const char *home_dir, int argc, char **argv)
{
    static const struct option opts[] = {
        { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' },
        { "user", required_argument, NULL, 'U' },
        { "job", required_argument, NULL, 'j' },
        { "action", required_argument, NULL, 'a' },
        { "limit", required_argument, NULL, 'n' },
        {},
    };
    _cleanup_(store_closep) struct store *db = NULL;
    struct audit_filter f = { .limit = 100 };
    struct audit_row *rows = NULL;
    struct home *h = NULL;
    int64_t now = now_ms(), v;
    size_t n = 0;
    int c, r;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
        switch (c) {
        case 's':
        case 'u':
            if (audit_parse_time(optarg, now, c == 's' ? &f.since_ms : &f.until_ms) < 0)
                return usage_error("--since and --until take a time: milliseconds since the "
                                   "epoch, 2026-12-05, 2026-12-05T14:30Z, or 30m, 12h, 7d ago");
            break;
        case 'U':
            f.actor = optarg;
            break;
        case 'j':
            f.job = optarg;
            break;
        case 'a':
            f.action = optarg;
            break;
        case 'n':
            if (parse_int64(optarg, 1, 1000000, &v) < 0)
                return usage_error("--limit takes a number of entries");
            f.limit = (int) v;
            break;
        default:
            return usage_error("audit takes --since, --until, --user, --job, --action, --limit");
        }
    }
    if (optind != argc)
        return usage_error("audit takes options only");
    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    r = store_audit_list(db, &f, &rows, &n);
    home_free(h);
    if (r < 0) {
        fprintf(stderr, "steward: cannot read the audit log: %s\n", strerror(-r));
        return 1;
    }
    printf("TIME\tUSER\tVIA\tTOKEN\tADDRESS\tACTION\tJOB\tDETAIL\n");
    for (size_t i = 0; i < n; i++) {
        const struct audit_row *a = &rows[i];
        char t[32];
        time_t s = (time_t) (a->time_ms / 1000);
        struct tm tm;

        gmtime_r(&s, &tm);
        strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t, a->actor, a->via,
               a->token_name ? a->token_name : "-", a->addr ? a->addr : "-", a->action,
               a->job ? a->job : "-", a->detail ? a->detail : "-");
    }
    audit_rows_free(rows, n);
    return 0;
}

/* metrics token new|revoke: the Bearer token a Prometheus server scrapes /prometheus/ with. */
static int
cmd_metrics(const char *home_dir, int argc, char **argv)
{
    _cleanup_(store_closep) struct store *db = NULL;
    char value[METRICS_TOKEN_LEN + 1];
    struct home *h = NULL;
    int r;

    if (argc != 3 || !streq(argv[1], "token") ||
        (!streq(argv[2], "new") && !streq(argv[2], "revoke")))
        return usage_error("metrics takes: token new|revoke");
    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    if (streq(argv[2], "new")) {
        r = auth_metrics_token_new(db, value);
        home_free(h);
        if (r < 0) {
            fprintf(stderr, "steward: cannot store the metrics token: %s\n", strerror(-r));
            return 1;
        }
        printf("%s\n", value);
        secret_wipe(value, sizeof value);
        fprintf(stderr, "%sScrapers send it as 'Authorization: Bearer TOKEN' to /prometheus/. "
                        "Only its hash is kept: this is the one time it is shown.\n",
                r > 0 ? "This replaces the previous metrics token, which no longer works. " : "");
        return 0;
    }
    r = auth_metrics_token_revoke(db);
    home_free(h);
    if (r == -ENOENT) {
        fprintf(stderr, "steward: there is no metrics token to revoke\n");
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "steward: cannot revoke the metrics token: %s\n", strerror(-r));
        return 1;
    }
    fprintf(stderr, "Revoked the metrics token: /prometheus/ now takes only users who may read.\n");
    return 0;
}

/* git notify-token new|list|revoke, git notify-access: /git/notifyCommit's access (core/notify.h). */
static int
cmd_git(const char *home_dir, int argc, char **argv)
{
    _cleanup_(store_closep) struct store *db = NULL;
    _cleanup_free_ char *value = NULL, *uuid = NULL, *list = NULL;
    struct home *h = NULL;
    int r;

    if (!((argc == 4 && streq(argv[1], "notify-token") &&
           (streq(argv[2], "new") || streq(argv[2], "revoke"))) ||
          (argc == 3 && streq(argv[1], "notify-token") && streq(argv[2], "list")) ||
          (argc == 3 && streq(argv[1], "notify-access") &&
           (streq(argv[2], "required") || streq(argv[2], "sha1-only") || streq(argv[2], "off")))))
        return usage_error("git takes: notify-token new NAME | notify-token list | "
                           "notify-token revoke UUID | notify-access required|sha1-only|off");
    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    if (streq(argv[1], "notify-access")) {
        r = store_setting_set(db, GIT_NOTIFY_ACCESS_KEY, argv[2]);
        home_free(h);
        if (r < 0) {
            fprintf(stderr, "steward: cannot save the setting: %s\n", strerror(-r));
            return 1;
        }
        fprintf(stderr, "/git/notifyCommit now %s.\n",
                streq(argv[2], "required") ? "needs an access token"
                : streq(argv[2], "off")    ? "takes requests without an access token"
                                           : "needs an access token only with sha1=");
        return 0;
    }
    if (streq(argv[2], "new")) {
        r = notify_token_new(db, argv[3], &value, &uuid);
        home_free(h);
        if (r == -EINVAL) {
            fprintf(stderr, "steward: a token's name is 1 to %d printable characters\n",
                    GIT_NOTIFY_TOKEN_NAME_MAX);
            return 1;
        }
        if (r < 0) {
            fprintf(stderr, "steward: cannot store the token: %s\n", strerror(-r));
            return 1;
        }
        printf("%s\n", value);
        secret_wipe(value, strlen(value));
        fprintf(stderr, "A notifyCommit access token (%s): hooks add &token=TOKEN to "
                        "/git/notifyCommit?url=... Only its hash is kept: this is the one time it "
                        "is shown. Revoke it with `git notify-token revoke %s`.\n", argv[3], uuid);
        return 0;
    }
    if (streq(argv[2], "list")) {
        r = notify_token_list(db, &list);
        home_free(h);
        if (r < 0) {
            fprintf(stderr, "steward: cannot read the tokens: %s\n", strerror(-r));
            return 1;
        }
        fputs(list, stdout);
        return 0;
    }
    r = notify_token_revoke(db, argv[3]);
    home_free(h);
    if (r == -ENOENT) {
        fprintf(stderr, "steward: no notifyCommit token has the UUID %s (`git notify-token list` "
                        "shows them)\n", argv[3]);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "steward: cannot revoke the token: %s\n", strerror(-r));
        return 1;
    }
    return 0;
}

/* github hook-secret ID|--remove: the credential GitHub signs /github-webhook/ deliveries with. */
static int
cmd_github(const char *home_dir, int argc, char **argv)
{
    _cleanup_(store_closep) struct store *db = NULL;
    struct cred_info info = { 0 };
    struct home *h = NULL;
    int r;

    if (argc != 3 || !streq(argv[1], "hook-secret"))
        return usage_error("github takes: hook-secret CREDENTIAL_ID | hook-secret --remove");
    if (open_home(home_dir, &h, &db) < 0)
        return 1;
    if (streq(argv[2], "--remove")) {
        r = store_setting_delete(db, GITHUB_HOOK_SECRET_KEY);
        home_free(h);
        if (r < 0 && r != -ENOENT) {
            fprintf(stderr, "steward: cannot save the setting: %s\n", strerror(-r));
            return 1;
        }
        fprintf(stderr, "/github-webhook/ now takes unsigned deliveries, as the github plugin "
                        "does without a shared secret.\n");
        return 0;
    }
    r = cred_get_info(db, argv[2], &info);
    if (r == -ENOENT) {
        home_free(h);
        fprintf(stderr, "steward: there is no credential '%s'; add one first with `steward "
                        "credentials add --id %s --kind secret-text --secret-file -`\n",
                argv[2], argv[2]);
        return 1;
    }
    if (r >= 0 && info.kind != CRED_SECRET_TEXT) {
        fprintf(stderr, "steward: the credential '%s' is a %s; the hook secret is a secret text\n",
                argv[2], cred_kind_type_name(info.kind));
        cred_info_release(&info);
        home_free(h);
        return 1;
    }
    cred_info_release(&info);
    if (r >= 0)
        r = store_setting_set(db, GITHUB_HOOK_SECRET_KEY, argv[2]);
    home_free(h);
    if (r < 0) {
        fprintf(stderr, "steward: cannot save the setting: %s\n", strerror(-r));
        return 1;
    }
    fprintf(stderr, "/github-webhook/ now takes only deliveries signed with the secret text of "
                    "'%s' (X-Hub-Signature-256). Give the GitHub webhook the same Secret.\n",
            argv[2]);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *home_dir = getenv("STEWARD_HOME");
    bool home_given = home_dir && *home_dir;
    int i = 1;

    /* what the caller left open is not passed on to anything this process starts */
    (void) close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (secret_init() < 0) {
        fprintf(stderr, "steward: libsodium failed to start\n");
        return 1;
    }
    if (!home_dir || !*home_dir)
        home_dir = "steward-home";
    while (i < argc && argv[i][0] == '-') {
        if (streq(argv[i], "--home") && i + 1 < argc) {
            home_dir = argv[i + 1];
            home_given = true;
            i += 2;
        } else if (startswith(argv[i], "--home=")) {
            home_dir = argv[i] + 7;
            home_given = true;
            i++;
        } else if (streq(argv[i], "--version")) {
            printf("steward %s\n", STEWARD_VERSION);
            return 0;
        } else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
            /* the client's help covers every command, the server's too */
            return cli_main(1, (char *[]){ (char *) "help", NULL });
        } else {
            /* `steward --url U build J`: client options go after the command */
            for (int k = i + 1; k < argc; k++)
                if (cli_is_command(argv[k]))
                    return usage_error(rfmt("unknown option %s: client options go after the "
                                            "command, as in steward %s %s ...",
                                            argv[i], argv[k], argv[i]));
            return usage_error(rfmt("unknown option %s", argv[i]));
        }
    }
    if (i >= argc)
        return usage_error("no command given");
    argc -= i;
    argv += i;
    /*
     * `token` is both an offline admin command (on a home directory) and a
     * client command (over HTTP): with --home or STEWARD_HOME it is the
     * offline one.
     */
    if (cli_is_command(argv[0]) && !(streq(argv[0], "token") && home_given))
        return cli_main(argc, argv);
    if (streq(argv[0], "serve"))
        return cmd_serve(home_dir, argc, argv);
    if (streq(argv[0], "user"))
        return cmd_user(home_dir, argc, argv);
    if (streq(argv[0], "token"))
        return cmd_token(home_dir, argc, argv);
    if (streq(argv[0], "security"))
        return cmd_security(home_dir, argc, argv);
    if (streq(argv[0], "backup"))
        return cmd_backup(home_dir, argc, argv);
    if (streq(argv[0], "restore"))
        return cmd_restore(home_dir, argc, argv);
    if (streq(argv[0], "metrics"))
        return cmd_metrics(home_dir, argc, argv);
    if (streq(argv[0], "audit"))
        return cmd_audit(home_dir, argc, argv);
    if (streq(argv[0], "git"))
        return cmd_git(home_dir, argc, argv);
    if (streq(argv[0], "github"))
        return cmd_github(home_dir, argc, argv);
    if (streq(argv[0], "credentials"))
        return cmd_credentials(home_dir, argc, argv);
    if (streq(argv[0], "node"))
        return cmd_node(home_dir, argc, argv);
    return usage_error(rfmt("unknown command %s", argv[0]));
}
