/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals shared by the files of the event loop: the loop struct, the timer wheel and the
 * cross-thread queue. Not for use outside src/core/loop/. */
#ifndef SB_LOOP_INT_H
#define SB_LOOP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "sb/loop.h"

/* Hierarchical wheel: level 0 has 256 slots of 1 ms, levels 1..4 have 64 slots each, every slot
 * of level k covering 2^(8 + 6(k-1)) ms. Together they span 2^32 ms (~49 days); a longer timer is
 * parked in the last level and re-filed each time it cascades, until it comes into range. */
#define SB__WHEEL_L0_BITS 8
#define SB__WHEEL_LN_BITS 6
#define SB__WHEEL_L0      (1u << SB__WHEEL_L0_BITS)
#define SB__WHEEL_LN      (1u << SB__WHEEL_LN_BITS)
#define SB__WHEEL_LEVELS  5
#define SB__WHEEL_SLOTS   (SB__WHEEL_L0 + (SB__WHEEL_LEVELS - 1) * SB__WHEEL_LN)

struct sb__wheel {
    /* Next millisecond to process: everything before it has been handled. */
    uint64_t tick;
    /* Slot lists are circular with these sentinels as heads; level 0 first, then levels 1..4. */
    struct sb_timer slot[SB__WHEEL_SLOTS];
    /* One bit per non-empty slot, so that idle levels are skipped and the next expiry is found
     * without walking empty slots. */
    uint64_t busy0[SB__WHEEL_L0 / 64];
    uint64_t busy[SB__WHEEL_LEVELS - 1];
    /* Timers armed for a time the wheel has already passed: they run on the next pass. */
    struct sb_timer due;
    size_t n_armed;
};

struct sb__job {
    struct sb__job *next;
    sb_job_fn fn, drop;
    void *arg;
};

#define SB__LOOP_MAX_EVENTS 64

struct sb_loop {
    int epfd;
    uint64_t now;
    sb_clock_fn clock;
    void *clock_arg;
    atomic_bool stop;

    /* The batch of epoll events being dispatched; sb_io_stop() clears the entries of an io that
     * are still ahead so that a stopped (and possibly reused) io never sees a stale event. */
    struct epoll_event events[SB__LOOP_MAX_EVENTS];
    int ev_next, ev_n;

    struct sb__wheel wheel;

    /* Cross-thread queue: FIFO under <qlock>; <evfd> wakes the loop. */
    struct sb_io wake;
    int evfd;
    pthread_mutex_t qlock;
    struct sb__job *qhead, **qtail;
    atomic_bool signalled;
};

void sb__wheel_init(struct sb__wheel *w, uint64_t now);
/* Disarm every timer (loop teardown). */
void sb__wheel_clear(struct sb__wheel *w);
/* Move the wheel to a new time base: armed timers keep their remaining time. */
void sb__wheel_rebase(struct sb__wheel *w, uint64_t old_now, uint64_t new_now);
/* Run every timer due at or before <now>; returns the number of callbacks run. */
int sb__wheel_run(struct sb__wheel *w, uint64_t now);
/* Milliseconds from <now> until the wheel needs attention, or -1 when no timer is armed. The
 * answer may be early (a cascade point), never late. */
int sb__wheel_timeout(const struct sb__wheel *w, uint64_t now);

int sb__queue_init(struct sb_loop *l);
void sb__queue_deinit(struct sb_loop *l);
/* Wake the loop from any thread. */
void sb__queue_wake(struct sb_loop *l);
/* On the loop's thread: run the jobs posted so far; returns how many ran. */
int sb__queue_run(struct sb_loop *l);

#endif
