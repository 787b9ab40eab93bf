/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-worker state of the core SIP layer, its counters, and small shared helpers. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwd/fwd_int.h"
#include "sb/avp.h"
#include "sb/core_cfg.h"
#include "sb/script.h"
#include "sb/worker.h"

sb_fwd_reply_fn sb_fwd_reply_hook;

static _Thread_local struct sb__fwd_state *local_state;

static struct sb__fwd_state *state_new(void)
{
    struct sb__fwd_state *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    sb_arena_init(&st->scratch, st->scratch_inline, sizeof(st->scratch_inline), 1u << 20);
    return st;
}

struct sb__fwd_state *sb__fwd_state(void)
{
    struct sb_worker *w = sb_worker_self;
    struct sb__fwd_state **slot = w ? (struct sb__fwd_state **)&w->fwd : &local_state;
    if (!*slot)
        __atomic_store_n(slot, state_new(), __ATOMIC_RELEASE);
    return *slot;
}

static void state_free(struct sb__fwd_state *st)
{
    if (!st)
        return;
    if (st->msg_ready)
        sb_msg_deinit(&st->msg);
    sb__fwd_msgs_free(st);
    sb_arena_deinit(&st->scratch);
    sb_avps_free(st->avps);
    free(st);
}

void sb_fwd_worker_exit(struct sb_worker *w)
{
    if (w) {
        state_free(w->fwd);
        w->fwd = NULL;
    } else {
        state_free(local_state);
        local_state = NULL;
    }
}

const struct sb_core_cfg *sb__fwd_cfg(void)
{
    const struct sb_script *s = sb_current_script();
    if (s)
        return sb_script_core(s);
    return sb_rt.cfg;
}

bool sb__fwd_warn_ok(void)
{
    struct sb__fwd_state *st = sb__fwd_state();
    if (!st)
        return false;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    if (ts.tv_sec != st->warn_sec) {
        st->warn_sec = ts.tv_sec;
        st->warn_n = 0;
    }
    /* a flood of broken packets must not turn into a flood of log lines */
    return ++st->warn_n <= 5;
}

uint64_t sb__fnv(uint64_t h, sb_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        h ^= (unsigned char)s.p[i];
        h *= 0x100000001b3ULL;
    }
    /* a separator, so that ("ab","c") and ("a","bc") differ */
    h ^= 0xff;
    h *= 0x100000001b3ULL;
    return h;
}

static void add_stats(struct sb_core_stats *out, const struct sb_core_stats *in)
{
    const uint64_t *src = (const uint64_t *)in;
    uint64_t *dst = (uint64_t *)out;
    for (size_t i = 0; i < sizeof(*in) / sizeof(uint64_t); i++)
        dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void sb_core_stats(struct sb_core_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; sb_rt.workers && i < sb_rt.n_workers; i++) {
        const struct sb__fwd_state *st =
            __atomic_load_n((struct sb__fwd_state *const *)&sb_rt.workers[i].fwd, __ATOMIC_ACQUIRE);
        if (st)
            add_stats(out, &st->st);
    }
    if (local_state)
        add_stats(out, &local_state->st);
}

uint64_t sb_sl_received_acks(void)
{
    uint64_t n = 0;
    for (unsigned i = 0; sb_rt.workers && i < sb_rt.n_workers; i++) {
        const struct sb__fwd_state *st =
            __atomic_load_n((struct sb__fwd_state *const *)&sb_rt.workers[i].fwd, __ATOMIC_ACQUIRE);
        if (st)
            n += __atomic_load_n(&st->sl_acks, __ATOMIC_RELAXED);
    }
    if (local_state)
        n += __atomic_load_n(&local_state->sl_acks, __ATOMIC_RELAXED);
    return n;
}

void sb_fwd_mem(struct sb_fwd_mem *out)
{
    *out = (struct sb_fwd_mem){0};
    struct sb_worker *w = sb_worker_self;
    const struct sb__fwd_state *st =
        w ? __atomic_load_n((struct sb__fwd_state **)&w->fwd, __ATOMIC_ACQUIRE) : NULL;
    if (!st)
        return;
    out->scratch_heap = st->scratch.total;
    out->pooled_msgs = st->n_free;
    for (unsigned i = 0; i < st->n_free; i++)
        out->pooled_bytes += sizeof(*st->free_msgs[i]) + st->free_msgs[i]->arena.total;
}
