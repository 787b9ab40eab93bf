/* SPDX-License-Identifier: BSD-2-Clause */
/* Asynchronous management commands: the completion object shared by the envelope and the
 * completer (a worker callback), the time limit (one thread, started on first use) and the
 * shutdown that answers what is still pending. See include/sb/mi.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mi/mi_int.h"
#include "sb/log.h"
#include "sb/loop.h"

json_t sb__mi_pending;

struct sb_mi_async {
    /* every field below is guarded by <lock> (the global one) */
    int refs;
    bool finished;
    bool attached; /* in the pending list, waiting with a sink */
    unsigned timeout_ms;
    uint64_t deadline;
    json_t *res;
    int err_code;
    char err_msg[256];
    json_t *err_data;
    void (*sink)(struct sb_mi_async *a, void *arg);
    void *sink_arg;
    struct sb_mi_async *prev, *next; /* pending list */
    struct sb_mi_async *expired;     /* the local list of the timer or of the shutdown */
};

/* One lock for every call's state: completions are rare and short, and it keeps the list, the
 * reference counts and the finished flags consistent with each other. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond; /* timer wake-ups and the end of deliveries; CLOCK_MONOTONIC */
static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
static struct sb_mi_async *pending;
static unsigned n_pending;
static unsigned n_delivering;
static bool closing;
static bool timer_running;
/* A time-limit thread runs until the generation it started in ends (a shutdown), so that one
 * started after sb_mi_init() is not stopped by a shutdown that is still joining the old one. */
static uintptr_t timer_gen;
static pthread_t timer;

static void cond_init(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cond, &ca);
    pthread_condattr_destroy(&ca);
}

/* Drop one reference; <lock> held. */
static void unref_locked(struct sb_mi_async *a)
{
    if (--a->refs > 0)
        return;
    json_decref(a->res);
    json_decref(a->err_data);
    free(a);
}

static void unlink_locked(struct sb_mi_async *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        pending = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
    a->attached = false;
    n_pending--;
}

/* Hand a finished, unlinked call to its sink; <lock> held on entry and on return, released in
 * between so that the sink may take as long as a transport needs. */
static void deliver_locked(struct sb_mi_async *a)
{
    n_delivering++;
    pthread_mutex_unlock(&lock);
    a->sink(a, a->sink_arg);
    pthread_mutex_lock(&lock);
    n_delivering--;
    pthread_cond_broadcast(&cond);
}

static void set_error(struct sb_mi_async *a, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void set_error(struct sb_mi_async *a, int code, const char *fmt, va_list ap)
{
    a->err_code = code ? code : SB_MI_SERVER_ERROR;
    vsnprintf(a->err_msg, sizeof(a->err_msg), fmt, ap);
}

static void set_error_f(struct sb_mi_async *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error_f(struct sb_mi_async *a, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(a, code, fmt, ap);
    va_end(ap);
}

struct sb_mi_async *sb_mi_async_start(struct sb_mi_call *c, unsigned timeout_ms)
{
    if (c->async)
        return NULL; /* one per call */
    pthread_once(&cond_once, cond_init);
    struct sb_mi_async *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->refs = 2; /* the envelope's and the completer's */
    a->timeout_ms = timeout_ms ? timeout_ms : SB_MI_ASYNC_TIMEOUT_MS;
    pthread_mutex_lock(&lock);
    bool refused = closing;
    pthread_mutex_unlock(&lock);
    if (refused) {
        free(a);
        return NULL;
    }
    c->async = a;
    return a;
}

struct sb_mi_async *sb_mi_async_ref(struct sb_mi_async *a)
{
    pthread_mutex_lock(&lock);
    a->refs++;
    pthread_mutex_unlock(&lock);
    return a;
}

void sb_mi_async_unref(struct sb_mi_async *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&lock);
    unref_locked(a);
    pthread_mutex_unlock(&lock);
}

/* Complete <a> with what the caller filled in through <fill>, unless it already is. */
static int complete(struct sb_mi_async *a, json_t *res, int code, const char *msg)
{
    pthread_mutex_lock(&lock);
    if (a->finished) {
        unref_locked(a);
        pthread_mutex_unlock(&lock);
        json_decref(res);
        return SB_ENOENT;
    }
    a->finished = true;
    if (msg)
        set_error_f(a, code, "%s", msg);
    else if (res)
        a->res = res;
    else
        set_error_f(a, SB_MI_SERVER_ERROR, "Server error");
    if (a->attached) {
        unlink_locked(a);
        deliver_locked(a);
    }
    unref_locked(a);
    pthread_mutex_unlock(&lock);
    return 0;
}

int sb_mi_async_done(struct sb_mi_async *a, json_t *result)
{
    return complete(a, result, 0, NULL);
}

int sb_mi_async_error(struct sb_mi_async *a, int code, const char *fmt, ...)
{
    char msg[sizeof(a->err_msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return complete(a, NULL, code, msg);
}

unsigned sb_mi_async_pending(void)
{
    pthread_mutex_lock(&lock);
    unsigned n = n_pending;
    pthread_mutex_unlock(&lock);
    return n;
}

/* ---- the time limit ------------------------------------------------------------------------ */

static void *timer_main(void *arg)
{
    uintptr_t gen = (uintptr_t)arg;
    pthread_mutex_lock(&lock);
    while (timer_gen == gen) {
        uint64_t now = sb_now_ms(), next = 0;
        struct sb_mi_async *exp = NULL;
        for (struct sb_mi_async *a = pending, *nx; a; a = nx) {
            nx = a->next;
            if (a->deadline <= now) {
                unlink_locked(a);
                a->finished = true;
                set_error_f(a, SB_MI_SERVER_ERROR, "no result within %u ms", a->timeout_ms);
                a->expired = exp;
                exp = a;
            } else if (!next || a->deadline < next) {
                next = a->deadline;
            }
        }
        if (exp) {
            /* delivered in the order they were found; each sink releases the lock briefly */
            while (exp) {
                struct sb_mi_async *a = exp;
                exp = a->expired;
                deliver_locked(a);
            }
            continue; /* the list may have changed meanwhile */
        }
        if (!next) {
            pthread_cond_wait(&cond, &lock);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t wait = next - now;
        ts.tv_sec += (time_t)(wait / 1000);
        ts.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cond, &lock, &ts);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

bool sb__mi_async_attach(struct sb_mi_async *a, void (*sink)(struct sb_mi_async *a, void *arg),
                         void *arg)
{
    pthread_mutex_lock(&lock);
    if (!a->finished && closing) {
        /* went pending while the transports shut down: nobody would be left to answer */
        a->finished = true;
        set_error_f(a, SB_MI_SERVER_ERROR, "shutting down");
    }
    if (a->finished) {
        pthread_mutex_unlock(&lock);
        return false;
    }
    if (!timer_running) {
        if (pthread_create(&timer, NULL, timer_main, (void *)timer_gen) == 0)
            timer_running = true;
        else
            SB_WARN("mi: cannot start the time-limit thread; pending commands wait unbounded");
    }
    a->sink = sink;
    a->sink_arg = arg;
    a->deadline = sb_now_ms() + a->timeout_ms;
    a->attached = true;
    a->next = pending;
    if (pending)
        pending->prev = a;
    pending = a;
    n_pending++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    return true;
}

json_t *sb__mi_async_take(struct sb_mi_async *a, struct sb_mi_call *c)
{
    pthread_mutex_lock(&lock);
    json_t *res = a->res;
    a->res = NULL;
    if (!res) {
        c->err_code = a->err_code ? a->err_code : SB_MI_SERVER_ERROR;
        memcpy(c->err_msg, a->err_msg, sizeof(c->err_msg));
        c->err_data = a->err_data;
        a->err_data = NULL;
    }
    c->async = NULL;
    unref_locked(a);
    pthread_mutex_unlock(&lock);
    return res;
}

void sb__mi_async_settle(struct sb_mi_async *a)
{
    pthread_mutex_lock(&lock);
    a->finished = true;
    unref_locked(a);
    pthread_mutex_unlock(&lock);
}

void sb__mi_async_reopen(void)
{
    pthread_mutex_lock(&lock);
    closing = false;
    pthread_mutex_unlock(&lock);
}

void sb_mi_async_shutdown(void)
{
    pthread_once(&cond_once, cond_init);
    pthread_mutex_lock(&lock);
    closing = true;
    /* The time-limit thread stops now, and what is pending is taken at once: calls attached
     * after an sb_mi_init() that comes while this still delivers belong to a new time-limit
     * thread and are not answered here. */
    bool join = timer_running;
    pthread_t old = timer;
    timer_gen++;
    timer_running = false;
    pthread_cond_broadcast(&cond);
    struct sb_mi_async *doomed = NULL;
    while (pending) {
        struct sb_mi_async *a = pending;
        unlink_locked(a);
        a->finished = true;
        set_error_f(a, SB_MI_SERVER_ERROR, "shutting down");
        a->expired = doomed;
        doomed = a;
    }
    while (doomed) {
        struct sb_mi_async *a = doomed;
        doomed = a->expired;
        deliver_locked(a);
    }
    while (n_delivering)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    if (join)
        pthread_join(old, NULL);
}
