/* SPDX-License-Identifier: BSD-2-Clause */
/* Threads seen by the management interface: running a function on every worker with a bounded
 * wait, and the registry of management threads that `ps` lists. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "mi/mi_int.h"
#include "sb/loop.h"
#include "sb/worker.h"

/* One sb_mi_on_workers() round. Referenced by the waiter and by every posted job; the last one
 * out frees it, so that a job running after the waiter gave up finds valid memory. */
struct round {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned refs;
    unsigned pending;
    unsigned done;
    bool cancelled;
    void (*fn)(unsigned worker, void *arg);
    void *arg;
};

struct job {
    struct round *r;
    unsigned worker;
};

/* Drop one reference; called with r->lock held, which it releases. */
static void round_unref_unlock(struct round *r)
{
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last) {
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        free(r);
    }
}

static void job_run(void *p)
{
    struct job *j = p;
    struct round *r = j->r;
    pthread_mutex_lock(&r->lock);
    if (!r->cancelled) {
        r->fn(j->worker, r->arg);
        r->done++;
    }
    r->pending--;
    pthread_cond_broadcast(&r->cond);
    free(j);
    round_unref_unlock(r);
}

static void job_drop(void *p)
{
    struct job *j = p;
    struct round *r = j->r;
    pthread_mutex_lock(&r->lock);
    r->pending--;
    pthread_cond_broadcast(&r->cond);
    free(j);
    round_unref_unlock(r);
}

int sb_mi_on_workers(void (*fn)(unsigned worker, void *arg), void *arg, unsigned timeout_ms)
{
    if (sb_worker_self)
        return SB_EINVAL;
    struct round *r = calloc(1, sizeof(*r));
    if (!r)
        return SB_ENOMEM;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    r->fn = fn;
    r->arg = arg;
    r->refs = 1;

    pthread_mutex_lock(&r->lock);
    /* a stopping server frees its loops: post nothing then */
    unsigned n = atomic_load(&sb_rt.stopping) ? 0 : sb_rt.n_workers;
    for (unsigned i = 0; i < n; i++) {
        /* published by the worker itself once created (release in worker_start) */
        struct sb_loop *l =
            sb_rt.workers ? __atomic_load_n(&sb_rt.workers[i].loop, __ATOMIC_ACQUIRE) : NULL;
        struct job *j = l ? malloc(sizeof(*j)) : NULL;
        if (!j)
            continue;
        j->r = r;
        j->worker = i;
        r->refs++;
        r->pending++;
        if (sb_loop_post(l, job_run, job_drop, j) != 0) {
            r->refs--;
            r->pending--;
            free(j);
        }
    }
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    while (r->pending > 0)
        if (pthread_cond_timedwait(&r->cond, &r->lock, &dl) != 0)
            break;
    r->cancelled = true;
    int done = (int)r->done;
    round_unref_unlock(r);
    return done;
}

/* ---- management threads -------------------------------------------------------------------- */

#define MI_MAX_THREADS 32

static struct {
    pthread_mutex_t lock;
    struct sb__mi_thread t[MI_MAX_THREADS];
} threads = {.lock = PTHREAD_MUTEX_INITIALIZER};

void sb_mi_thread_register(const char *type)
{
    int tid = (int)gettid();
    pthread_mutex_lock(&threads.lock);
    for (unsigned i = 0; i < MI_MAX_THREADS; i++)
        if (!threads.t[i].tid) {
            threads.t[i].type = type;
            threads.t[i].tid = tid;
            break;
        }
    pthread_mutex_unlock(&threads.lock);
}

void sb_mi_thread_gone(void)
{
    int tid = (int)gettid();
    pthread_mutex_lock(&threads.lock);
    for (unsigned i = 0; i < MI_MAX_THREADS; i++)
        if (threads.t[i].tid == tid)
            threads.t[i].tid = 0;
    pthread_mutex_unlock(&threads.lock);
}

unsigned sb__mi_threads(struct sb__mi_thread *out, unsigned cap)
{
    unsigned n = 0;
    pthread_mutex_lock(&threads.lock);
    for (unsigned i = 0; i < MI_MAX_THREADS && n < cap; i++)
        if (threads.t[i].tid)
            out[n++] = threads.t[i];
    pthread_mutex_unlock(&threads.lock);
    return n;
}
