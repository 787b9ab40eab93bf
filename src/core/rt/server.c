/* SPDX-License-Identifier: BSD-2-Clause */
/* The server process: worker threads with their loops, startup and timer routes, and the control
 * thread that takes signals (stop, reload). DESIGN.md §1, §5. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "sb/arena.h"
#include "sb/avp.h"
#include "sb/core_cfg.h"
#include "sb/dns.h"
#include "sb/fwd.h"
#include "sb/stats.h"
#include "sb/log.h"
#include "sb/loop.h"
#include "sb/mod.h"
#include "sb/runtime.h"
#include "sb/script.h"
#include "sb/tp.h"
#include "sb/worker.h"

#define STOP_GRACE_MS 2000
#define SCRATCH_CAP   (1u << 20)

/* A timer_route, armed on one worker. Found again by name at each run so that a reload that
 * changes the route's body takes effect; the interval is the one at start-up. */
struct troute {
    struct troute *next;
    struct sb_timer timer;
    struct sb_worker *w;
    struct wstate *ws;
    const char *name;
    uint64_t interval_ms;
};

/* What a worker thread needs besides struct sb_worker. Lives in the thread's stack frame. */
struct wstate {
    struct sb_arena scratch;
    struct sb_avps *avps;
    struct troute *timers;
};

static struct {
    pthread_t *threads;
    const struct sb_modset *mods;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned n_ready; /* workers done with their start-up (good or bad) */
    int start_err;    /* first failure */
    bool go;          /* every worker is ready: enter the loops */
    _Atomic unsigned n_drained;
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void log_diag(const struct sb_diag *d, int level)
{
    for (const struct sb_diag_entry *e = d->head; e; e = e->next) {
        const char *sev = e->sev == SB_DIAG_ERROR ? "error" : "warning";
        if (e->line)
            sb_log(level, "%s:%u:%u: %s: %s", e->file ? e->file : "<config>", e->line, e->col, sev,
                   e->msg);
        else
            sb_log(level, "%s: %s: %s", e->file ? e->file : "<config>", sev, e->msg);
    }
}

/* ---- routes without a message -------------------------------------------------------------- */

static void run_route(struct wstate *ws, uint32_t type, int idx, const struct sb_script *s)
{
    sb_arena_reset(&ws->scratch);
    if (ws->avps)
        sb_avps_clear(ws->avps);
    struct sb_sctx ctx = {
        .script = s, .avps = ws->avps, .scratch = &ws->scratch, .route_type = type};
    sb_res r = sb_script_run(&ctx, type, idx);
    (void)r;
    sb_arena_reset(&ws->scratch);
}

static void troute_fire(struct sb_timer *t)
{
    struct troute *tr = t->data;
    struct sb_worker *w = tr->w;
    sb_worker_adopt_script(w);
    if (!atomic_load(&sb_rt.stopping)) {
        int idx = sb_script_route(w->script, SB_ROUTE_TIMER, sb_str_cstr(tr->name));
        if (idx >= 0)
            run_route(tr->ws, SB_ROUTE_TIMER, idx, w->script);
    }
    sb_timer_start(w->loop, &tr->timer, tr->interval_ms);
}

/* timer_route[name, secs]: spread round-robin over the workers. */
static int arm_timer_routes(struct sb_worker *w, struct wstate *ws)
{
    const struct sb_script *s = w->script;
    unsigned n = sb_script_n_routes(s, SB_ROUTE_TIMER);
    for (unsigned i = 0; i < n; i++) {
        if (i % sb_rt.n_workers != w->id)
            continue;
        int secs = sb_script_timer_interval(s, (int)i);
        if (secs <= 0)
            continue;
        struct troute *tr = calloc(1, sizeof(*tr));
        if (!tr)
            return SB_ENOMEM;
        tr->w = w;
        tr->ws = ws;
        tr->name = sb_script_route_name(s, SB_ROUTE_TIMER, (int)i);
        tr->interval_ms = (uint64_t)secs * 1000;
        sb_timer_init(&tr->timer, troute_fire, tr);
        sb_timer_start(w->loop, &tr->timer, tr->interval_ms);
        tr->next = ws->timers;
        ws->timers = tr;
    }
    return 0;
}

/* ---- worker threads ------------------------------------------------------------------------ */

static void report_ready(int err)
{
    pthread_mutex_lock(&srv.lock);
    if (err && !srv.start_err)
        srv.start_err = err;
    srv.n_ready++;
    pthread_cond_broadcast(&srv.cond);
    pthread_mutex_unlock(&srv.lock);
}

/* Wait for the control thread's verdict: true to run, false when start-up failed somewhere. */
static bool wait_go(void)
{
    pthread_mutex_lock(&srv.lock);
    while (!srv.go && !srv.start_err)
        pthread_cond_wait(&srv.cond, &srv.lock);
    bool go = srv.go;
    pthread_mutex_unlock(&srv.lock);
    return go;
}

static int worker_start(struct sb_worker *w, struct wstate *ws)
{
    int rc;
    struct sb_loop *loop = sb_loop_new();
    if (!loop)
        return SB_ENOMEM;
    /* management threads post to this loop while the worker is still starting (sb_mi_on_workers) */
    __atomic_store_n(&w->loop, loop, __ATOMIC_RELEASE);
    sb_worker_adopt_script(w);
    if (!(ws->avps = sb_avps_new()))
        return SB_ENOMEM;
    if ((rc = sb_tp_worker_start(w)) != 0) {
        SB_ERR("worker %u: transports failed to start (%d)", w->id, rc);
        return rc;
    }
    if ((rc = sb_dns_worker_start(w)) != 0) {
        SB_ERR("worker %u: resolver failed to start (%d)", w->id, rc);
        return rc;
    }
    if ((rc = sb_modset_start_worker(srv.mods, w->id)) != 0) {
        SB_ERR("worker %u: module worker init failed (%d)", w->id, rc);
        return rc;
    }
    /* as OpenSIPS: startup_route runs once, before any message is handled */
    if (w->id == 0) {
        int idx = sb_script_route(w->script, SB_ROUTE_STARTUP, SB_STR_NULL);
        if (idx >= 0)
            run_route(ws, SB_ROUTE_STARTUP, idx, w->script);
    }
    return arm_timer_routes(w, ws);
}

static void *worker_main(void *arg)
{
    struct sb_worker *w = arg;
    struct wstate ws = {0};
    sb_worker_self = w;
    sb_log_set_worker((int)w->id);
    sb_stats_worker_start(w->id);
    sb_arena_init(&ws.scratch, NULL, 0, SCRATCH_CAP);

    int rc = worker_start(w, &ws);
    report_ready(rc);
    if (rc == 0 && wait_go())
        sb_loop_run(w->loop);
    else
        wait_go();

    for (struct troute *tr = ws.timers, *next; tr; tr = next) {
        next = tr->next;
        sb_timer_stop(&tr->timer);
        free(tr);
    }
    sb_modset_stop_worker(srv.mods, w->id);
    sb_dns_worker_exit(w);
    sb_tp_worker_exit(w);
    sb_script_worker_exit();
    sb_pv_worker_exit();
    sb_stats_worker_exit();
    sb_avps_free(ws.avps);
    sb_arena_deinit(&ws.scratch);
    /* the loop and the forwarding state (its counters) stay until sb_server_run() has stopped the
     * modules: a management thread may still post to the loop or sum the counters */
    sb_worker_self = NULL;
    return NULL;
}

static void stop_listening_job(void *arg)
{
    struct sb_worker *w = arg;
    sb_tp_worker_stop_listening(w);
    atomic_fetch_add(&srv.n_drained, 1);
}

static void stop_job(void *arg)
{
    struct sb_worker *w = arg;
    sb_loop_stop(w->loop);
}

/* ---- the control thread -------------------------------------------------------------------- */

void sb_server_stop(void)
{
    kill(getpid(), SIGTERM);
}

static void graceful_stop(unsigned n_started)
{
    atomic_store(&sb_rt.stopping, true);
    for (unsigned i = 0; i < n_started; i++)
        if (sb_loop_post(sb_rt.workers[i].loop, stop_listening_job, NULL, &sb_rt.workers[i]))
            atomic_fetch_add(&srv.n_drained, 1);
    /* the listeners close on each worker; what is already in a loop's queue still runs */
    uint64_t deadline = sb_now_ms() + STOP_GRACE_MS;
    while (atomic_load(&srv.n_drained) < n_started && sb_now_ms() < deadline)
        usleep(5000);
    for (unsigned i = 0; i < n_started; i++)
        if (sb_loop_post(sb_rt.workers[i].loop, stop_job, NULL, &sb_rt.workers[i]))
            sb_loop_stop(sb_rt.workers[i].loop);
}

static void control_loop(int sfd)
{
    for (;;) {
        struct signalfd_siginfo si;
        ssize_t n = read(sfd, &si, sizeof(si));
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof(si)) {
            SB_ERR("signalfd read failed: %s; stopping", strerror(errno));
            return;
        }
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT:
            SB_NOTICE("%s received: stopping", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            return;
        case SIGHUP: {
            struct sb_diag d;
            sb_diag_init(&d);
            SB_NOTICE("SIGHUP received: reloading routes");
            if (sb_reload_routes(&d) != 0)
                log_diag(&d, SB_LOG_ERR);
            else if (d.n_warnings)
                log_diag(&d, SB_LOG_WARN);
            sb_diag_free(&d);
            break;
        }
        default: break;
        }
    }
}

static unsigned start_workers(unsigned n)
{
    unsigned started = 0;
    for (; started < n; started++) {
        struct sb_worker *w = &sb_rt.workers[started];
        int rc = pthread_create(&srv.threads[started], NULL, worker_main, w);
        if (rc != 0) {
            SB_ERR("cannot start worker %u: %s", started, strerror(rc));
            pthread_mutex_lock(&srv.lock);
            if (!srv.start_err)
                srv.start_err = SB_ENOMEM;
            pthread_cond_broadcast(&srv.cond);
            pthread_mutex_unlock(&srv.lock);
            break;
        }
    }
    pthread_mutex_lock(&srv.lock);
    while (srv.n_ready < started)
        pthread_cond_wait(&srv.cond, &srv.lock);
    if (!srv.start_err)
        srv.go = true;
    pthread_cond_broadcast(&srv.cond);
    pthread_mutex_unlock(&srv.lock);
    return started;
}

static void log_started(void)
{
    char socks[1024];
    size_t o = 0;
    socks[0] = '\0';
    for (unsigned i = 0; i < sb_tp_n_sockets(); i++) {
        const struct sb_socket *s = sb_tp_socket(i);
        bool v6 = strchr(s->ip, ':') != NULL;
        int n = snprintf(socks + o, sizeof(socks) - o, " %s:%s%s%s:%u", sb_tp_proto_name(s->proto),
                         v6 ? "[" : "", s->ip, v6 ? "]" : "", (unsigned)s->port);
        if (n < 0 || (size_t)n >= sizeof(socks) - o)
            break;
        o += (size_t)n;
    }
    SB_NOTICE("switchboard %s started: %u worker%s, listening on%s", SB_VERSION, sb_rt.n_workers,
              sb_rt.n_workers == 1 ? "" : "s", o ? socks : " nothing");
}

static void signal_ready(int fd)
{
    if (fd < 0)
        return;
    char c = 1;
    while (write(fd, &c, 1) < 0 && errno == EINTR) {
    }
    close(fd);
}

static int block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    /* before any thread exists, so that every thread inherits the mask */
    if (pthread_sigmask(SIG_BLOCK, set, NULL) != 0)
        return SB_EINVAL;
    int fd = signalfd(-1, set, SFD_CLOEXEC);
    return fd < 0 ? SB_EINVAL : fd;
}

int sb_server_run(struct sb_script *script, const struct sb_server_opts *o)
{
    int status = 1, rc;
    unsigned started = 0;
    bool tp_up = false, dns_up = false, mods_up = false, ready_sent = false;
    sigset_t set;
    int sfd = block_signals(&set);
    if (sfd < 0) {
        SB_ERR("cannot set up signal handling: %s", strerror(errno));
        sb_script_free(script);
        return 1;
    }
    const struct sb_core_cfg *cfg = sb_script_core(script);
    sb_runtime_set_script_path(o->script_path);
    sb_rt.cfg = cfg;
    sb_rt.start_ms = sb_now_ms();
    srv.mods = sb_script_modset(script);
    sb_publish_script(script); /* no workers yet: returns at once, and pins it */

    struct sb_dns_cfg dc = {.try_ipv6 = cfg->dns_try_ipv6,
                            .try_naptr = cfg->dns_try_naptr,
                            .retr_time = cfg->dns_retr_time,
                            .retr_no = cfg->dns_retr_no};
    if ((rc = sb_dns_init(&dc)) != 0) {
        SB_ERR("resolver initialisation failed (%d)", rc);
        goto out;
    }
    dns_up = true;
    if ((rc = sb_tp_init(cfg)) != 0) {
        SB_ERR("transport initialisation failed (%d)", rc);
        goto out;
    }
    tp_up = true;
    sb_tp_set_receiver(sb_receive);
    /* The worker table and the statistics slots exist before any module starts a thread (httpd,
     * mi_fifo, usrloc, event senders): those read both without a lock. */
    unsigned n = o->n_workers ? o->n_workers : 1;
    if (n > SB_MAX_WORKERS)
        n = SB_MAX_WORKERS;
    struct sb_worker *workers = calloc(n, sizeof(*workers));
    srv.threads = calloc(n, sizeof(*srv.threads));
    if (!workers || !srv.threads) {
        free(workers);
        SB_ERR("out of memory starting %u workers", n);
        goto out;
    }
    for (unsigned i = 0; i < n; i++) {
        workers[i].id = i;
        workers[i].script = script;
        atomic_store(&workers[i].script_gen, atomic_load(&sb_rt.script_gen));
    }
    sb_rt.workers = workers;
    sb_rt.n_workers = n;
    if (sb_stats_init(n) != 0) {
        SB_ERR("out of memory for statistics");
        goto out;
    }
    if ((rc = sb_modset_start(srv.mods)) != 0) {
        SB_ERR("module initialisation failed (%d)", rc);
        goto out;
    }
    mods_up = true;

    started = start_workers(n);
    if (srv.start_err) {
        SB_ERR("start-up failed; stopping");
        goto out;
    }
    /* readiness before the line that operators and tests wait for */
    signal_ready(o->ready_fd);
    ready_sent = true;
    log_started();
    control_loop(sfd);
    graceful_stop(started);
    status = 0;
out:
    if (status != 0 && started) {
        /* the workers are parked in wait_go() or already running: release and stop them */
        pthread_mutex_lock(&srv.lock);
        if (!srv.start_err)
            srv.start_err = SB_EINVAL;
        pthread_cond_broadcast(&srv.cond);
        pthread_mutex_unlock(&srv.lock);
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(srv.threads[i], NULL);
    if (mods_up)
        sb_modset_stop(srv.mods);
    for (unsigned i = 0; sb_rt.workers && i < sb_rt.n_workers; i++) {
        struct sb_worker *w = &sb_rt.workers[i];
        sb_fwd_worker_exit(w);
        if (w->loop)
            sb_loop_free(w->loop);
        w->loop = NULL;
    }
    if (tp_up)
        sb_tp_destroy();
    if (dns_up)
        sb_dns_destroy();
    sb_rt.n_workers = 0;
    free(sb_rt.workers);
    sb_rt.workers = NULL;
    free(srv.threads);
    srv.threads = NULL;
    sb__rt_scripts_free();
    sb_mod_params_free();
    sb_stats_destroy();
    sb_runtime_set_script_path(NULL);
    close(sfd);
    if (!ready_sent && o->ready_fd >= 0)
        close(o->ready_fd); /* the waiting side sees EOF: start-up failed */
    if (status == 0)
        SB_NOTICE("switchboard stopped");
    return status;
}
