/* SPDX-License-Identifier: BSD-2-Clause */
/* The published script and its adoption by the workers (hot reload), and per-worker unique
 * values. A script is freed only once every worker has moved past it. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "sb/log.h"
#include "sb/loop.h"
#include "sb/runtime.h"
#include "sb/script.h"
#include "sb/worker.h"

_Thread_local struct sb_worker *sb_worker_self;
struct sb_runtime sb_rt;

/* Scripts replaced while some worker still ran them: freed once every worker's generation has
 * reached <gen> (the generation that replaced them). Guarded by pub_lock. */
struct retired {
    struct retired *next;
    struct sb_script *script;
    uint64_t gen;
};
static pthread_mutex_t pub_lock = PTHREAD_MUTEX_INITIALIZER;
static struct retired *graveyard;
/* The script the server started with: its core config (sockets) and module set stay in use for
 * the life of the process, so it is never freed by a reload. */
static struct sb_script *pinned;

unsigned sb__rt_publish_wait_ms = 2000;

const struct sb_script *sb_current_script(void)
{
    struct sb_worker *w = sb_worker_self;
    if (w && w->script)
        return w->script;
    return atomic_load_explicit(&sb_rt.script, memory_order_acquire);
}

void sb_worker_adopt_script(struct sb_worker *w)
{
    /* the publisher stores the script before bumping the generation, so the script read after
     * the generation is at least that new: recording an older generation only means one more
     * (harmless) adoption later */
    uint64_t gen = atomic_load_explicit(&sb_rt.script_gen, memory_order_acquire);
    if (w->script && gen == atomic_load_explicit(&w->script_gen, memory_order_relaxed))
        return;
    w->script = atomic_load_explicit(&sb_rt.script, memory_order_acquire);
    atomic_store_explicit(&w->script_gen, gen, memory_order_release);
}

static void adopt_job(void *arg)
{
    sb_worker_adopt_script(arg);
}

static uint64_t min_worker_gen(void)
{
    uint64_t min = UINT64_MAX;
    for (unsigned i = 0; i < sb_rt.n_workers; i++) {
        uint64_t g = atomic_load_explicit(&sb_rt.workers[i].script_gen, memory_order_acquire);
        if (g < min)
            min = g;
    }
    return min;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void bury(struct sb_script *s, uint64_t gen)
{
    if (!s || s == pinned)
        return;
    struct retired *r = malloc(sizeof(*r));
    if (!r) {
        SB_ERR("reload: out of memory tracking the previous script; it is kept");
        return;
    }
    *r = (struct retired){.next = graveyard, .script = s, .gen = gen};
    graveyard = r;
}

static unsigned collect(uint64_t min_gen)
{
    unsigned left = 0;
    for (struct retired **pp = &graveyard; *pp;) {
        struct retired *r = *pp;
        if (r->gen <= min_gen) {
            *pp = r->next;
            sb_script_free(r->script);
            free(r);
        } else {
            pp = &r->next;
            left++;
        }
    }
    return left;
}

int sb_publish_script(struct sb_script *s)
{
    pthread_mutex_lock(&pub_lock);
    struct sb_script *old = atomic_exchange_explicit(&sb_rt.script, s, memory_order_acq_rel);
    uint64_t gen = atomic_fetch_add_explicit(&sb_rt.script_gen, 1, memory_order_acq_rel) + 1;
    if (!pinned && !old)
        pinned = s;
    if (old != s)
        bury(old, gen);

    /* idle workers sit in epoll: wake each one to adopt now rather than at its next message */
    for (unsigned i = 0; i < sb_rt.n_workers; i++) {
        struct sb_worker *w = &sb_rt.workers[i];
        /* published by the worker itself with a release store */
        struct sb_loop *wl = __atomic_load_n(&w->loop, __ATOMIC_ACQUIRE);
        if (wl && sb_loop_post(wl, adopt_job, NULL, w) != 0)
            SB_WARN("reload: cannot wake worker %u; it adopts the new script at its next message",
                    w->id);
    }
    unsigned waited = 0;
    while (min_worker_gen() < gen && waited < sb__rt_publish_wait_ms) {
        sleep_ms(5);
        waited += 5;
    }
    uint64_t min = min_worker_gen();
    unsigned left = collect(min);
    if (min < gen) {
        for (unsigned i = 0; i < sb_rt.n_workers; i++)
            if (atomic_load_explicit(&sb_rt.workers[i].script_gen, memory_order_acquire) < gen)
                SB_WARN("reload: worker %u has not adopted script generation %llu after %u ms; "
                        "%u previous script(s) kept until it does",
                        i, (unsigned long long)gen, waited, left);
    }
    pthread_mutex_unlock(&pub_lock);
    return 0;
}

/* Shutdown, after the workers are gone: free every script, the published one included. */
void sb__rt_scripts_free(void)
{
    pthread_mutex_lock(&pub_lock);
    collect(UINT64_MAX);
    struct sb_script *cur = atomic_exchange(&sb_rt.script, NULL);
    if (pinned && pinned != cur)
        sb_script_free(pinned);
    sb_script_free(cur);
    pinned = NULL;
    pthread_mutex_unlock(&pub_lock);
}

uint64_t sb_worker_unique(void)
{
    static _Atomic uint64_t ctl_seq;
    struct sb_worker *w = sb_worker_self;
    const uint64_t low = (UINT64_C(1) << 56) - 1;
    if (w)
        return (uint64_t)w->id << 56 | (++w->seq & low);
    /* off the workers: id 0xff with bit 55 set, apart from any worker's sequence */
    uint64_t n = atomic_fetch_add(&ctl_seq, 1) + 1;
    return UINT64_C(0xff) << 56 | UINT64_C(1) << 55 | (n & ((UINT64_C(1) << 55) - 1));
}
