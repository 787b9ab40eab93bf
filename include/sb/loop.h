/* SPDX-License-Identifier: BSD-2-Clause */
/* The event loop of a worker: epoll readiness callbacks, a millisecond timer wheel and a
 * cross-thread job queue (MPSC list + eventfd). One loop per thread; everything here is for the
 * loop's own thread except sb_loop_post() and sb_loop_stop(), which any thread may call. */
#ifndef SB_LOOP_H
#define SB_LOOP_H

#include "sb/base-t.h"

struct sb_loop;

/* ---- file descriptors ---------------------------------------------------------------------- */

enum {
    SB_IO_READ = 1 << 0,
    SB_IO_WRITE = 1 << 1,
    SB_IO_ERR = 1 << 2, /* reported only: error or hang-up (EPOLLERR / EPOLLHUP / EPOLLRDHUP) */
};

struct sb_io;
typedef void (*sb_io_cb)(struct sb_io *io, uint32_t events);

/* Embedded in the owner's struct (container_of to get back). Level-triggered. */
struct sb_io {
    int fd;
    uint32_t events; /* SB_IO_READ | SB_IO_WRITE currently watched */
    sb_io_cb cb;
    void *data;
    struct sb_loop *loop; /* NULL when not started */
};

int sb_io_start(struct sb_loop *l, struct sb_io *io, int fd, uint32_t events, sb_io_cb cb,
                void *data);
int sb_io_modify(struct sb_io *io, uint32_t events);
/* Stop watching (the fd is not closed). Safe from inside the io's own callback. */
void sb_io_stop(struct sb_io *io);

/* ---- timers -------------------------------------------------------------------------------- */

struct sb_timer;
typedef void (*sb_timer_cb)(struct sb_timer *t);

/* Embedded in the owner's struct. Millisecond resolution; a timer fires at the first loop
 * iteration at or after its expiry, never early. A callback may restart or stop any timer,
 * itself included. */
struct sb_timer {
    struct sb_timer *next, *prev; /* wheel slot list */
    uint64_t expires;             /* loop clock, ms */
    sb_timer_cb cb;
    void *data;
    struct sb_loop *loop; /* NULL when not armed */
};

void sb_timer_init(struct sb_timer *t, sb_timer_cb cb, void *data);
/* Arm (or re-arm) to fire <ms> milliseconds from the loop's current time. */
void sb_timer_start(struct sb_loop *l, struct sb_timer *t, uint64_t ms);
void sb_timer_stop(struct sb_timer *t);
static inline bool sb_timer_active(const struct sb_timer *t)
{
    return t->loop != NULL;
}

/* ---- the loop ------------------------------------------------------------------------------ */

/* A clock for tests: returns milliseconds. NULL means CLOCK_MONOTONIC. */
typedef uint64_t (*sb_clock_fn)(void *arg);

struct sb_loop *sb_loop_new(void);
/* Free the loop: pending posted jobs are dropped after calling their <drop> function (see
 * sb_loop_post), armed timers are disarmed; fds are not closed. */
void sb_loop_free(struct sb_loop *l);
void sb_loop_set_clock(struct sb_loop *l, sb_clock_fn fn, void *arg);
/* Milliseconds on the loop clock, cached at the start of each iteration. */
uint64_t sb_loop_now(const struct sb_loop *l);
/* Refresh the cached time (after a long callback). */
void sb_loop_update_time(struct sb_loop *l);
/* CLOCK_MONOTONIC in ms, any thread. */
uint64_t sb_now_ms(void);
/* CLOCK_MONOTONIC in microseconds, any thread. */
uint64_t sb_now_us(void);

/* Run until sb_loop_stop(). Returns 0. */
int sb_loop_run(struct sb_loop *l);
/* One iteration: wait at most <timeout_ms> (-1: until an event or the next timer; 0: poll) for
 * events, run ready callbacks, due timers and posted jobs. Returns the number of callbacks run. */
int sb_loop_run_once(struct sb_loop *l, int timeout_ms);
/* Any thread: make sb_loop_run() return after the current iteration. */
void sb_loop_stop(struct sb_loop *l);

/* Any thread: run fn(arg) on <l>'s thread, in posting order per posting thread. <drop>, when not
 * NULL, is called instead of <fn> if the loop is freed before the job runs (to release <arg>).
 * Returns 0, or SB_ENOMEM. */
typedef void (*sb_job_fn)(void *arg);
int sb_loop_post(struct sb_loop *l, sb_job_fn fn, sb_job_fn drop, void *arg);

#endif
