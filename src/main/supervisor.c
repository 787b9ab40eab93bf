/* SPDX-License-Identifier: BSD-2-Clause */
/* The supervisor: a parent process that runs the server in a child and starts a new one when the
 * child crashes (nginx master/worker). It forwards SIGTERM/SIGINT/SIGHUP to the child and exits
 * with the child's status after a requested stop. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "main.h"
#include "sb/log.h"
#include "sb/loop.h"
#include "sb/runtime.h"
#include "sb/script.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS   30000
#define STABLE_MS        60000 /* a child that lived this long resets the back-off */

/* In the child: the script to serve. A restart reads the file again (it picks up reloads and
 * edits); if the file no longer loads, the copy checked at start-up is served. */
static struct sb_script *child_script(const struct sb_cli *cli, struct sb_script *first,
                                      bool restart)
{
    if (!restart)
        return first;
    struct sb_script *s = sb__main_load(cli);
    if (s)
        return s;
    SB_ERR("%s no longer loads; restarting with the configuration checked at start-up",
           cli->cfg_path);
    return first;
}

static pid_t spawn(const struct sb_cli *cli, struct sb_script *first, bool restart,
                   const sigset_t *mask, int sfd, int *ready_rd)
{
    int p[2];
    if (pipe(p) != 0) {
        SB_ERR("supervisor: pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        SB_ERR("supervisor: fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        close(sfd);
        sigprocmask(SIG_UNBLOCK, mask, NULL);
        struct sb_script *s = child_script(cli, first, restart);
        struct sb_server_opts so = {
            .script_path = cli->cfg_path, .n_workers = sb__main_workers(cli, s), .ready_fd = p[1]};
        int rc = sb_server_run(s, &so);
        fflush(NULL);
        _exit(rc);
    }
    close(p[1]);
    *ready_rd = p[0];
    return pid;
}

static void report_ready(int *fd)
{
    if (*fd < 0)
        return;
    char c = 1;
    while (write(*fd, &c, 1) < 0 && errno == EINTR) {
    }
    close(*fd);
    *fd = -1;
}

static int exit_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 1;
}

static void describe(int st, char *buf, size_t n)
{
    if (WIFSIGNALED(st))
        snprintf(buf, n, "was killed by signal %d (%s)%s", WTERMSIG(st), strsignal(WTERMSIG(st)),
                 WCOREDUMP(st) ? ", core dumped" : "");
    else
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(st));
}

int sb__supervise(const struct sb_cli *cli, struct sb_script *s, int ready_fd)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    signal(SIGPIPE, SIG_IGN);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) {
        SB_ERR("supervisor: signalfd: %s", strerror(errno));
        return 1;
    }
    if (cli->pidfile && sb__pidfile_write(cli->pidfile, (int)getpid()) != 0)
        return 1;

    int status = 1, ready_rd = -1;
    bool stopping = false, ever_ready = false, restart = false;
    unsigned backoff = BACKOFF_FIRST_MS;
    pid_t child = -1;
    uint64_t born = 0, wake_at = 0; /* wake_at: when to start the next child (back-off) */

    for (;;) {
        if (child < 0 && !stopping && sb_now_ms() >= wake_at) {
            child = spawn(cli, s, restart, &mask, sfd, &ready_rd);
            born = sb_now_ms();
            if (child < 0) {
                wake_at = born + backoff;
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            }
        }
        if (child < 0 && stopping)
            break;
        struct pollfd pf[2] = {{.fd = sfd, .events = POLLIN}, {.fd = ready_rd, .events = POLLIN}};
        int timeout = -1;
        if (child < 0) {
            uint64_t now = sb_now_ms();
            timeout = wake_at > now ? (int)(wake_at - now) : 0;
        }
        int n = poll(pf, ready_rd >= 0 ? 2 : 1, timeout);
        if (n < 0 && errno != EINTR) {
            SB_ERR("supervisor: poll: %s", strerror(errno));
            break;
        }
        if (ready_rd >= 0 && pf[1].revents) {
            char c;
            ssize_t r = read(ready_rd, &c, 1);
            if (r == 1) {
                ever_ready = true;
                report_ready(&ready_fd);
            }
            close(ready_rd);
            ready_rd = -1;
        }
        if (!(pf[0].revents & POLLIN))
            continue;
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
            continue;
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP) {
            if (si.ssi_signo != SIGHUP)
                stopping = true;
            if (child > 0)
                kill(child, (int)si.ssi_signo);
            else if (stopping)
                status = 0;
            continue;
        }
        /* SIGCHLD: reap (signals coalesce, so loop) */
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            if (pid != child)
                continue;
            child = -1;
            if (ready_rd >= 0) {
                /* it may have reported its start just before dying */
                struct pollfd rp = {.fd = ready_rd, .events = POLLIN};
                char c;
                if (poll(&rp, 1, 0) == 1 && read(ready_rd, &c, 1) == 1) {
                    ever_ready = true;
                    report_ready(&ready_fd);
                }
                close(ready_rd);
                ready_rd = -1;
            }
            char what[128];
            describe(st, what, sizeof(what));
            status = exit_status(st);
            if (stopping || (WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
                stopping = true;
                break;
            }
            if (!ever_ready) {
                /* the first start failed: a restart would fail the same way */
                SB_ERR("supervisor: the server %s during start-up; giving up", what);
                stopping = true;
                break;
            }
            uint64_t now = sb_now_ms();
            if (now - born >= STABLE_MS)
                backoff = BACKOFF_FIRST_MS;
            SB_ERR("supervisor: the server (pid %d) %s; restarting in %u ms", (int)pid, what,
                   backoff);
            wake_at = now + backoff;
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            restart = true;
        }
    }
    close(sfd);
    if (ready_fd >= 0)
        close(ready_fd);
    if (cli->pidfile)
        unlink(cli->pidfile);
    sb_script_free(s);
    return status;
}
