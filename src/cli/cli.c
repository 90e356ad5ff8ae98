/* SPDX-License-Identifier: MIT */
/*
 * The client commands' entry point: parse the command line, resolve the
 * connection settings, and run a command against the server. Also the
 * help, which covers the server and admin commands too.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/internal.h"
#include "cli/urls.h"
#include "util/macro.h"
#include "util/strutil.h"

#define TOKEN_STDIN_MAX 4096

static const char help_overview[] =
    "Usage: steward COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Client commands (talk HTTP to a Steward or a Jenkins server):\n"
    "  build JOB [-p NAME=VALUE]... [--trigger-token T] [--wait] [--follow]\n"
    "                       trigger a build; --wait waits for its result, --follow\n"
    "                       also streams its console\n"
    "  log JOB [NUMBER|lastBuild] [--follow]\n"
    "                       print a build's console, or follow it as it grows\n"
    "  jobs [--json | -q]   the jobs, their status and last build\n"
    "  queue [--json]       the queue: what waits, and why\n"
    "  stop JOB NUMBER      stop a running build\n"
    "  cancel QUEUE_ID      cancel a waiting queue item\n"
    "  whoami [--json]      who the server takes you for, and where the settings came from\n"
    "  token new NAME | token list | token revoke NAME\n"
    "                       your own API tokens, over HTTP\n"
    "  hooks JOB [--json]   how to connect the job to GitHub, GitLab or a Git server's hook\n"
    "  help [COMMAND]       this text, or one command's\n"
    "\n"
    "Options of every client command:\n"
    "  --url URL            the server, e.g. http://ci.example.com:8080/\n"
    "  --user NAME          your user ID\n"
    "  --token TOKEN        your API token (or password); --token-stdin reads it from stdin\n"
    "  --timeout SECONDS    give up after this long (also 10m, 1h)\n"
    "  --cacert FILE        trust the CA certificates in FILE (PEM) for https\n"
    "                       (also STEWARD_CA_CERT)\n"
    "  -v, --verbose        show each request and its status on stderr\n"
    "\n"
    "Each setting comes from the first of: the flags; STEWARD_URL, STEWARD_USER,\n"
    "STEWARD_TOKEN; JENKINS_URL, JENKINS_USER_ID, JENKINS_API_TOKEN; the config file\n"
    "~/.config/steward/config (lines url = ..., user = ..., token = ...; refused when\n"
    "others may change it, or read it while it holds a token: chmod 600); ~/.netrc.\n"
    "\n"
    "Server and offline administration (work on the home directory itself):\n"
    "  [--home DIR] serve [--listen ADDR:PORT] [--executors N] [--url URL] [--quiet-period S]\n"
    "        [--threads N] [--queue-limit N]\n"
    "  [--home DIR] user add NAME (--password P | --password-stdin) [--admin]\n"
    "  [--home DIR] user passwd NAME (--password P | --password-stdin)\n"
    "  [--home DIR] user remove NAME\n"
    "  [--home DIR] user admin NAME on|off\n"
    "  [--home DIR] token new USER --name TOKENNAME     prints the new API token alone\n"
    "  [--home DIR] token list USER\n"
    "  [--home DIR] token revoke USER TOKENNAME\n"
    "  [--home DIR] security anonymous-read on|off\n"
    "  [--home DIR] security authorization logged-in|matrix|project-matrix\n"
    "  [--home DIR] security matrix grant|revoke PRINCIPAL PERMISSION [JOB]\n"
    "  [--home DIR] security matrix show [JOB]\n"
    "  [--home DIR] audit [--since T] [--user U] [--job J] [--action A] [--limit N]\n"
    "  [--home DIR] backup DEST         the database, jobs and secrets, while the server runs\n"
    "  [--home DIR] restore SRC         a backup into the home, with the server stopped\n"
    "  [--home DIR] metrics token new                   prints the /prometheus/ scrape token alone\n"
    "  [--home DIR] metrics token revoke\n"
    "The home directory defaults to $STEWARD_HOME, else ./steward-home. `token` is the\n"
    "offline command when --home or STEWARD_HOME is given, else the client command.\n"
    "\n"
    "Exit codes of the client commands:\n"
    "  0  success; for a build: SUCCESS       5  NOT_BUILT, or cancelled in the queue\n"
    "  1  the build's result is FAILURE       6  the server refused (HTTP 4xx)\n"
    "  2  usage or settings error             7  timed out (--timeout)\n"
    "  3  UNSTABLE                            8  the server could not be reached\n"
    "  4  ABORTED                             9  other error (HTTP 5xx, an odd answer)\n"
    "  130  interrupted (Ctrl-C) and detached: the build goes on\n"
    "\n"
    "See steward(1) for more.\n";

static const char *const help_commands[_CMD_MAX] = {
    [CMD_HELP] = "Usage: steward help [COMMAND]\n"
                 "\n"
                 "Shows the overview of all commands, or the help of one.\n",
    [CMD_BUILD] =
        "Usage: steward build JOB [-p NAME=VALUE]... [-F NAME=@PATH]... [--trigger-token T]\n"
        "                     [--wait] [--follow]\n"
        "                     [--timeout S] [--stop-on-interrupt] [--dry-run] [--json]\n"
        "\n"
        "Triggers a build of JOB (a folder job as FOLDER/JOB) and prints its queue item's URL.\n"
        "\n"
        "  -p, --param NAME=VALUE   a build parameter; repeat for more. Parameters not\n"
        "                           given take the job's defaults.\n"
        "  -F, --file NAME=@PATH    the file at PATH for file parameter NAME, sent as curl -F\n"
        "                           sends it (multipart/form-data); repeat for more\n"
        "  --trigger-token T        trigger with the job's trigger token (\"Trigger builds\n"
        "                           remotely\") instead of as a user; no account needed.\n"
        "  -w, --wait               wait for the build to start and end; exit with its result\n"
        "  -f, --follow             like --wait, and stream the console to stdout as it grows\n"
        "  --timeout S              give up after S seconds (exit 7); the build goes on\n"
        "  --stop-on-interrupt      on Ctrl-C (or SIGTERM, SIGHUP), stop the build (or cancel\n"
        "                           the queue item) without asking\n"
        "  --dry-run                ask a Steward server what the trigger would get (the\n"
        "                           identity and secret it sees, the parameters, a merge, the\n"
        "                           answer), changing nothing; exit 0 when it would be taken\n"
        "  --json                   print one JSON object at the end: job, queueId, queueUrl,\n"
        "                           number, url, result\n"
        "\n"
        "Standard output gets the queue item's URL, then with --wait the build's URL once it\n"
        "starts and its result once it ends, one per line. With --follow it gets the console\n"
        "text alone, exactly as consoleText has it. Progress goes to stderr; while the item\n"
        "waits in the queue, a terminal shows why (the queue's `why`) and for how long.\n"
        "\n"
        "Ctrl-C while waiting: on a terminal, asks whether to stop the build (cancel the\n"
        "queue item) or detach and leave it running. With --stop-on-interrupt it stops\n"
        "without asking. When stdin is not a terminal and that flag is not given, it detaches.\n"
        "Detaching exits 130; stopping waits for the build to end (exit 4, ABORTED).\n"
        "\n"
        "Exit codes: 0 SUCCESS, 1 FAILURE, 3 UNSTABLE, 4 ABORTED, 5 NOT_BUILT or cancelled,\n"
        "6 refused, 7 timeout, 8 cannot connect, 9 other error, 2 usage, 130 detached.\n"
        "Without --wait, 0 means the build was queued.\n",
    [CMD_JOBS] = "Usage: steward jobs [--json | -q]\n"
                 "\n"
                 "Lists the jobs: name, status, and the last build with its result, when it\n"
                 "started and how long it took.\n"
                 "\n"
                 "  --json       a JSON array: name, url, color, status, lastBuild (number,\n"
                 "               result, building, timestamp, duration, url) or null\n"
                 "  -q, --quiet  the names alone, one per line\n",
    [CMD_QUEUE] = "Usage: steward queue [--json]\n"
                  "\n"
                  "Lists the waiting queue items: id, job, how long they have waited and why.\n"
                  "\n"
                  "  --json   the server's items as a JSON array (id, task, why, inQueueSince,\n"
                  "           params, ...)\n",
    [CMD_LOG] = "Usage: steward log JOB [NUMBER|lastBuild|PERMALINK] [--follow]\n"
                "\n"
                "Prints the console text of a build (default: lastBuild). Permalinks:\n"
                "lastBuild, lastSuccessfulBuild, lastFailedBuild, lastCompletedBuild, ...\n"
                "\n"
                "  -f, --follow   keep printing as the console grows, until the build ends,\n"
                "                 then exit with its result (as build --wait does). Ctrl-C\n"
                "                 only stops following.\n",
    [CMD_STOP] = "Usage: steward stop JOB NUMBER\n"
                 "\n"
                 "Asks the server to stop a running build (POST .../NUMBER/stop). A build that\n"
                 "has ended is left as it is.\n",
    [CMD_CANCEL] = "Usage: steward cancel QUEUE_ID\n"
                   "\n"
                   "Cancels a waiting queue item. QUEUE_ID is the number, or the queue item's\n"
                   "URL as `steward build` prints it.\n",
    [CMD_WHOAMI] = "Usage: steward whoami [--json]\n"
                   "\n"
                   "Shows the user the server takes you for (GET /whoAmI/api/json), how you\n"
                   "authenticated, and where the URL, user and token settings came from.\n"
                   "\n"
                   "  --json   the server's answer, with \"serverUrl\" and \"sources\" added\n",
    [CMD_TOKEN] =
        "Usage: steward token new NAME [--json]\n"
        "       steward token list [--json]\n"
        "       steward token revoke NAME|UUID\n"
        "\n"
        "Manages your own API tokens over HTTP, as the user the settings name (the Jenkins\n"
        "endpoints .../descriptorByName/jenkins.security.ApiTokenProperty/...).\n"
        "`token new` prints the new token alone on stdout: it is shown only once. `token list`\n"
        "needs Steward (Jenkins has no such endpoint); `token revoke NAME` looks the name up in\n"
        "that list, and against Jenkins takes the token's UUID.\n"
        "\n"
        "With --home DIR (or STEWARD_HOME) `token` is the offline admin command instead:\n"
        "steward --home DIR token new USER --name TOKENNAME.\n",
    [CMD_QUIET_DOWN] =
        "Usage: steward quiet-down [REASON]\n"
        "       steward quiet-down --cancel\n"
        "       steward quiet-down --safe-exit [REASON]\n"
        "\n"
        "Quiets the server down (POST /quietDown): triggers still queue, running builds\n"
        "go on, and no new build starts until the quiet-down is cancelled. Every page\n"
        "shows a banner meanwhile. Needs an administrator.\n"
        "\n"
        "  --cancel      ends the quiet-down (POST /cancelQuietDown)\n"
        "  --safe-exit   quiets down, and stops the server once no build runs\n"
        "                (POST /safeExit)\n",
    [CMD_HOOKS] =
        "Usage: steward hooks JOB [--json]\n"
        "\n"
        "Prints what connects JOB to the forges' push hooks, as its configure page shows it\n"
        "(GET /job/NAME/hooks/api/json, Steward's own): for GitHub the payload URL, the\n"
        "content type, the events and the shared secret's credential; for GitLab the URL,\n"
        "the secret token (only to who may configure the job) and the events; for any Git\n"
        "server the /git/notifyCommit command. For a hook the job does not answer, it says\n"
        "what to add to the job. Needs Job/Read.\n"
        "\n"
        "  --json   the server's answer as it is\n",
};

bool
cli_is_command(const char *name)
{
    return args_find_command(name) >= 0;
}

static int
usage(const char *msg)
{
    fprintf(stderr, "steward: %s\n", msg);
    return CLI_EXIT_USAGE;
}

static int
cmd_help(const struct cli_args *a)
{
    int cmd;

    if (a->n_pos == 0) {
        fputs(help_overview, stdout);
        return 0;
    }
    cmd = args_find_command(a->pos[0]);
    if (cmd < 0) {
        if (streq(a->pos[0], "serve") || streq(a->pos[0], "user") ||
            streq(a->pos[0], "security") || streq(a->pos[0], "backup") ||
            streq(a->pos[0], "restore")) {
            fputs(help_overview, stdout);
            return 0;
        }
        return usage(rfmt("no command '%s'; steward help lists them", a->pos[0]));
    }
    fputs(help_commands[cmd], stdout);
    return 0;
}

/* ---- --token-stdin ---- */

static char *
read_token_stdin(void)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO), echo_off = false;
    char *line = calloc(1, TOKEN_STDIN_MAX + 1);
    size_t len;

    if (!line)
        return NULL;
    if (tty) {
        fputs("Token: ", stderr);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t) ECHO;
            echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
    }
    if (!fgets(line, TOKEN_STDIN_MAX + 1, stdin))
        line[0] = '\0';
    if (echo_off) {
        (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    len = strcspn(line, "\r\n");
    line[len] = '\0';
    return line;
}

/* ---- shared helpers ---- */

static volatile sig_atomic_t interrupt_signal;

static void
on_interrupt(int sig)
{
    if (client_interrupted) {
        /* a second Ctrl-C while the first is being handled: leave now */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    interrupt_signal = sig;
    client_interrupted = 1;
}

void
cli_catch_interrupts(void)
{
    struct sigaction sa = { .sa_handler = on_interrupt };

    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a sleep ends at once */
    (void) sigaction(SIGINT, &sa, NULL);
    (void) sigaction(SIGTERM, &sa, NULL);
    (void) sigaction(SIGHUP, &sa, NULL);
}

int
cli_interrupt_signal(void)
{
    return interrupt_signal ? interrupt_signal : SIGINT;
}

int
cli_sleep(struct cli_ctx *ctx, int64_t ms)
{
    struct timespec ts;

    if (ctx->deadline) {
        int64_t left = ctx->deadline - mono_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        ms = MIN(ms, left);
    }
    if (client_interrupted)
        return -EINTR;
    ts.tv_sec = (time_t) (ms / 1000);
    ts.tv_nsec = (long) (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        if (client_interrupted)
            return -EINTR;
    if (ctx->deadline && mono_ms() >= ctx->deadline)
        return -ETIMEDOUT;
    return 0;
}

struct hint_input
cli_hints(const struct cli_ctx *ctx)
{
    return (struct hint_input){ .settings = &ctx->settings };
}

int
cli_request(struct cli_ctx *ctx, const char *what, const char *path, const char *form,
            bool ok_redirect, struct http_resp *resp)
{
    struct hint_input h = cli_hints(ctx);
    int r;

    r = form ? client_post(ctx->client, path, form, resp) : client_get(ctx->client, path, resp);
    if (r < 0)
        return -report_transport(what, rfmt("%s%s", client_base(ctx->client), path), r, resp);
    if (resp->status == 200 || (ok_redirect && resp->status >= 200 && resp->status < 400))
        return 0;
    return -report_refusal(what, resp, &h);
}

static int
request_json(struct cli_ctx *ctx, const char *what, const char *path, const char *form,
             json_t **ret)
{
    struct http_resp resp = { 0 };
    json_error_t err;
    json_t *j;
    int r;

    r = cli_request(ctx, what, path, form, false, &resp);
    if (r < 0) {
        http_resp_release(&resp);
        return r;
    }
    j = json_loadb(buf_str(&resp.body), resp.body.len, 0, &err);
    if (!j) {
        fprintf(stderr, "steward: %s: the answer is not JSON (%s)%s\n", what, err.text,
                http_resp_is_json(&resp) ? "" : "; is the URL a Steward or Jenkins server?");
        http_resp_release(&resp);
        return -CLI_EXIT_ERROR;
    }
    http_resp_release(&resp);
    *ret = j;
    return 0;
}

int
cli_get_json(struct cli_ctx *ctx, const char *what, const char *path, json_t **ret)
{
    return request_json(ctx, what, path, NULL, ret);
}

int
cli_post_json(struct cli_ctx *ctx, const char *what, const char *path, const char *form,
              json_t **ret)
{
    return request_json(ctx, what, path, form ? form : "", ret);
}

void
cli_print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s) {
        puts(s);
        free(s);
    }
    fflush(stdout);
}

char *
cli_job_path(const char *name)
{
    struct buf b = BUF_INIT(64 * 1024);

    if (urls_job_path(&b, name) < 0) {
        fprintf(stderr, "steward: '%s' is not a job name\n", name);
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}

const char *
jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

int64_t
jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (int64_t) json_integer_value(v)
                              : json_is_real(v) ? (int64_t) json_real_value(v) : 0;
}

bool
jbool(json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

/* ---- entry ---- */

static bool
looks_offline_token(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (streq(argv[i], "--name") || startswith(argv[i], "--name="))
            return true;
    return false;
}

static int
setup(struct cli_ctx *ctx)
{
    struct settings_input in;
    _cleanup_free_ char *stdin_token = NULL, *err = NULL;
    const struct cli_args *a = &ctx->args;
    struct client_config cc;
    int r;

    if (a->token_stdin) {
        stdin_token = read_token_stdin();
        if (!stdin_token || !*stdin_token)
            return usage("--token-stdin: standard input held no token");
    }
    settings_input_from_env(&in, a->url, a->user, a->token, stdin_token);
    r = settings_resolve(&in, &ctx->settings, &err);
    settings_input_release(&in);
    if (stdin_token)
        explicit_bzero(stdin_token, strlen(stdin_token));
    if (r < 0)
        return usage(err ? err : "cannot read the settings");
    if (!ctx->settings.url)
        return usage("no server URL: give --url URL, or set STEWARD_URL (or JENKINS_URL), or "
                     "put url = URL in ~/.config/steward/config");
    if (ctx->settings.token && !ctx->settings.user)
        return usage(rfmt("a token was given (from %s) but no user name: give --user NAME, or "
                          "set STEWARD_USER (or JENKINS_USER_ID)",
                          settings_source_name(&ctx->settings, 't')));

    r = client_global_init();
    if (r == -ENOENT) {
        fprintf(stderr, "steward: the client commands need libcurl (Debian: apt-get install "
                "libcurl4)\nsteward: %s\n", client_load_error());
        return CLI_EXIT_ERROR;
    }
    if (r < 0) {
        fprintf(stderr, "steward: libcurl failed to start\n");
        return CLI_EXIT_ERROR;
    }
    cc = (struct client_config){
        .base_url = ctx->settings.url,
        .user = ctx->settings.token ? ctx->settings.user : NULL,
        .secret = ctx->settings.token,
        .verbose = a->verbose,
        .cacert = a->cacert ? a->cacert : getenv("STEWARD_CA_CERT"),
    };
    if (client_new(&cc, &ctx->client) < 0) {
        client_global_cleanup();
        fprintf(stderr, "steward: out of memory\n");
        return CLI_EXIT_ERROR;
    }
    ctx->started = mono_ms();
    if (a->timeout_ms) {
        ctx->deadline = ctx->started + a->timeout_ms;
        client_set_deadline(ctx->client, ctx->deadline);
    }
    ctx->tty_in = isatty(STDIN_FILENO);
    ctx->tty_out = isatty(STDOUT_FILENO);
    ctx->tty_err = isatty(STDERR_FILENO);
    return 0;
}

static int
run(struct cli_ctx *ctx)
{
    switch (ctx->args.cmd) {
    case CMD_BUILD:
        return cmd_build(ctx);
    case CMD_LOG:
        return cmd_log(ctx);
    case CMD_JOBS:
        return cmd_jobs(ctx);
    case CMD_QUEUE:
        return cmd_queue(ctx);
    case CMD_STOP:
        return cmd_stop(ctx);
    case CMD_CANCEL:
        return cmd_cancel(ctx);
    case CMD_WHOAMI:
        return cmd_whoami(ctx);
    case CMD_TOKEN:
        return cmd_token(ctx);
    case CMD_QUIET_DOWN:
        return cmd_quiet_down(ctx);
    case CMD_HOOKS:
        return cmd_hooks(ctx);
    case CMD_HELP:
    case _CMD_MAX:
        break;
    }
    return CLI_EXIT_USAGE;
}

int
cli_main(int argc, char **argv)
{
    struct cli_ctx ctx = { 0 };
    _cleanup_free_ char *err = NULL;
    int r;

    if (argc >= 1 && streq(argv[0], "token") && looks_offline_token(argc, argv))
        return usage("'token new USER --name TOKENNAME' is the offline admin command: give "
                     "--home DIR (or STEWARD_HOME) before it. Over HTTP, for yourself: "
                     "steward token new TOKENNAME");
    if (args_parse(argc, argv, &ctx.args, &err) < 0)
        return usage(err ? err : "cannot parse the command line");
    if (ctx.args.help || ctx.args.cmd == CMD_HELP) {
        struct cli_args h = { .pos = (const char *[]){ args_command_name(ctx.args.cmd) },
                              .n_pos = ctx.args.cmd == CMD_HELP ? 0 : 1 };
        r = cmd_help(ctx.args.cmd == CMD_HELP ? &ctx.args : &h);
        args_release(&ctx.args);
        return r;
    }
    r = setup(&ctx);
    if (r == 0)
        r = run(&ctx);
    fflush(stdout);
    if (ctx.client) {
        client_free(ctx.client);
        client_global_cleanup();
    }
    settings_release(&ctx.settings);
    args_release(&ctx.args);
    return r;
}
