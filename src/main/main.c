/* SPDX-License-Identifier: BSD-2-Clause */
/* switchboard: command line, configuration check, daemon mode; then the supervisor or the server
 * itself. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "main.h"
#include "sb/arena.h"
#include "sb/base.h"
#include "sb/core_cfg.h"
#include "sb/diag.h"
#include "sb/log.h"
#include "sb/runtime.h"
#include "sb/script.h"
#include "sb/worker.h"

#define DEFAULT_CFG        "etc/switchboard.cfg"
#define DEFAULT_SYSTEM_CFG "/etc/switchboard/switchboard.cfg"

/* -l listeners live as long as the process: every script loaded from the file gets them. */
static struct sb_arena cli_arena;

static void usage(FILE *out)
{
    fprintf(out, "usage: switchboard [options]\n"
                 "  -f FILE            routing script (default " DEFAULT_CFG
                 ", else " DEFAULT_SYSTEM_CFG ")\n"
                 "  -c                 check the configuration and exit (0: ok, 1: errors)\n"
                 "  --dump-script      check, print the compiled script and exit\n"
                 "  -F                 stay in the foreground (no daemon)\n"
                 "  -E                 log to stderr (else syslog, unless stderror_enabled)\n"
                 "  -P FILE            write the PID to signal into FILE\n"
                 "  -w N               worker threads (default: udp_workers, else the CPU count)\n"
                 "  -l PROTO:ADDR:PORT extra listener (repeatable)\n"
                 "  --no-supervisor    run the server without a restarting parent process\n"
                 "  -V                 print the version and exit\n"
                 "  -h                 this help\n");
}

struct sb_script *sb__main_load(const struct sb_cli *cli)
{
    struct sb_diag d;
    struct sb_script *script = NULL;
    sb_diag_init(&d);
    int rc = sb_script_load(cli->cfg_path, &d, &script);
    sb_diag_print(&d, stderr);
    sb_diag_free(&d);
    if (rc != 0) {
        fprintf(stderr, "%s: configuration has errors\n", cli->cfg_path);
        return NULL;
    }
    /* nothing runs yet: the command line may still add to the script's listener list */
    struct sb_core_cfg *cfg = (struct sb_core_cfg *)sb_script_core(script);
    struct sb_listen **tail = &cfg->listeners;
    while (*tail)
        tail = &(*tail)->next;
    for (unsigned i = 0; i < cli->n_listeners; i++) {
        struct sb_listen *l = sb_arena_zalloc(&cli_arena, sizeof(*l));
        const char *err = "out of memory";
        if (!l || sb_listen_parse(sb_str_cstr(cli->listeners[i]), l, &cli_arena, &err) != 0) {
            fprintf(stderr, "-l %s: %s\n", cli->listeners[i], err);
            sb_script_free(script);
            return NULL;
        }
        l->next = NULL;
        *tail = l;
        tail = &l->next;
    }
    return script;
}

unsigned sb__main_workers(const struct sb_cli *cli, const struct sb_script *s)
{
    long n = cli->n_workers;
    if (n <= 0)
        n = sb_script_core(s)->udp_workers;
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    return n > SB_MAX_WORKERS ? SB_MAX_WORKERS : (unsigned)n;
}

int sb__pidfile_write(const char *path, int pid)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, pid) >= (int)sizeof(tmp)) {
        SB_ERR("pidfile %s: path too long", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", pid) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        SB_ERR("pidfile %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int setup_logging(const struct sb_cli *cli, const struct sb_script *s)
{
    const struct sb_core_cfg *c = sb_script_core(s);
    struct sb_log_cfg lc = {
        .to_stderr = cli->log_stderr || c->stderror_enabled,
        .json = c->stderror_log_format && strcasecmp(c->stderror_log_format, "json") == 0,
        .prefix = c->log_prefix,
        .syslog_name = c->syslog_name,
        .syslog_facility = LOG_DAEMON,
    };
    if (c->syslog_facility && sb_log_facility_parse(c->syslog_facility, &lc.syslog_facility)) {
        fprintf(stderr, "syslog_facility: unknown facility \"%s\"\n", c->syslog_facility);
        return -1;
    }
    sb_log_level = c->log_level;
    return sb_log_setup(&lc) == 0 ? 0 : -1;
}

/* Paths are kept absolute because the daemon moves to "/". */
static const char *absolute(const char *p)
{
    char *r;
    if (!p || p[0] == '/')
        return p;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)) || asprintf(&r, "%s/%s", cwd, p) < 0)
        return p;
    return r;
}

/* Double fork. Returns in the daemon with the write end of a pipe on which to report a
 * successful start; the original process exits 0 when that byte arrives, 1 on EOF. */
static int daemonize(bool keep_stderr)
{
    int p[2];
    if (pipe(p) != 0) {
        perror("pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid > 0) {
        close(p[1]);
        char c;
        ssize_t n;
        while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR) {
        }
        _exit(n == 1 ? 0 : 1);
    }
    close(p[0]);
    if (setsid() < 0) {
        perror("setsid");
        _exit(1);
    }
    pid = fork();
    if (pid < 0) {
        perror("fork");
        _exit(1);
    }
    if (pid > 0)
        _exit(0); /* the daemon is not a session leader: it never regains a terminal */
    if (chdir("/") != 0) {
        perror("chdir /");
        _exit(1);
    }
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        if (!keep_stderr)
            dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
    return p[1];
}

enum { OPT_DUMP = 256, OPT_NO_SUPERVISOR };

static int parse_args(int argc, char **argv, struct sb_cli *cli)
{
    static const struct option longopts[] = {
        {"dump-script", no_argument, NULL, OPT_DUMP},
        {"no-supervisor", no_argument, NULL, OPT_NO_SUPERVISOR},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "f:cFEP:w:l:Vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f': cli->cfg_path = optarg; break;
        case 'c': cli->check_only = true; break;
        case OPT_DUMP: cli->dump_script = true; break;
        case 'F': cli->foreground = true; break;
        case 'E': cli->log_stderr = true; break;
        case 'P': cli->pidfile = optarg; break;
        case OPT_NO_SUPERVISOR: cli->no_supervisor = true; break;
        case 'w': {
            char *end;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (errno || *end || n < 1 || n > SB_MAX_WORKERS) {
                fprintf(stderr, "-w: expected a number of workers from 1 to %d\n", SB_MAX_WORKERS);
                return 2;
            }
            cli->n_workers = (unsigned)n;
            break;
        }
        case 'l':
            if (cli->n_listeners == SB_MAX_CLI_LISTENERS) {
                fprintf(stderr, "-l: at most %d listeners\n", SB_MAX_CLI_LISTENERS);
                return 2;
            }
            cli->listeners[cli->n_listeners++] = optarg;
            break;
        case 'V': printf("switchboard %s\n", SB_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchboard: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct sb_cli cli = {0};
    int rc = parse_args(argc, argv, &cli);
    if (rc >= 0)
        return rc;
    if (!cli.cfg_path)
        cli.cfg_path = access(DEFAULT_CFG, F_OK) == 0 ? DEFAULT_CFG : DEFAULT_SYSTEM_CFG;
    sb_arena_init(&cli_arena, NULL, 0, 0);

    struct sb_script *script = sb__main_load(&cli);
    if (!script)
        return 1;
    if (cli.check_only || cli.dump_script) {
        if (cli.dump_script)
            sb_script_dump(script, stdout);
        else
            printf("%s: configuration ok\n", cli.cfg_path);
        sb_script_free(script);
        sb_arena_deinit(&cli_arena);
        return 0;
    }
    if (setup_logging(&cli, script) != 0) {
        sb_script_free(script);
        return 1;
    }

    int ready_fd = -1;
    if (!cli.foreground) {
        cli.cfg_path = absolute(cli.cfg_path);
        cli.pidfile = absolute(cli.pidfile);
        ready_fd = daemonize(cli.log_stderr || sb_script_core(script)->stderror_enabled);
    }
    if (!cli.no_supervisor)
        return sb__supervise(&cli, script, ready_fd);

    if (cli.pidfile && sb__pidfile_write(cli.pidfile, (int)getpid()) != 0)
        return 1;
    struct sb_server_opts so = {.script_path = cli.cfg_path,
                                .n_workers = sb__main_workers(&cli, script),
                                .ready_fd = ready_fd};
    rc = sb_server_run(script, &so);
    if (cli.pidfile)
        unlink(cli.pidfile);
    sb_arena_deinit(&cli_arena);
    return rc;
}
