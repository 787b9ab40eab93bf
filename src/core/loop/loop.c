/* SPDX-License-Identifier: BSD-2-Clause */
/* The loop itself: level-triggered epoll dispatch, the cached clock and run/stop. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "loop/loop-int.h"
#include "sb/base.h"

uint64_t sb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t sb_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t read_clock(const struct sb_loop *l)
{
    return l->clock ? l->clock(l->clock_arg) : sb_now_ms();
}

struct sb_loop *sb_loop_new(void)
{
    struct sb_loop *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    l->now = sb_now_ms();
    atomic_init(&l->stop, false);
    sb__wheel_init(&l->wheel, l->now);
    if (sb__queue_init(l) < 0) {
        close(l->epfd);
        free(l);
        return NULL;
    }
    return l;
}

void sb_loop_free(struct sb_loop *l)
{
    if (l == NULL)
        return;
    sb__queue_deinit(l);
    sb__wheel_clear(&l->wheel);
    close(l->epfd);
    free(l);
}

void sb_loop_set_clock(struct sb_loop *l, sb_clock_fn fn, void *arg)
{
    uint64_t old = l->now;
    l->clock = fn;
    l->clock_arg = arg;
    l->now = read_clock(l);
    sb__wheel_rebase(&l->wheel, old, l->now);
}

uint64_t sb_loop_now(const struct sb_loop *l)
{
    return l->now;
}

void sb_loop_update_time(struct sb_loop *l)
{
    uint64_t t = read_clock(l);
    /* The cached time never goes back, so that timers armed from it keep their order. */
    if (t > l->now)
        l->now = t;
}

static uint32_t to_epoll(uint32_t events)
{
    uint32_t e = 0;
    if (events & SB_IO_READ)
        e |= EPOLLIN | EPOLLRDHUP;
    if (events & SB_IO_WRITE)
        e |= EPOLLOUT;
    return e;
}

static uint32_t from_epoll(uint32_t e)
{
    uint32_t events = 0;
    if (e & (EPOLLIN | EPOLLPRI))
        events |= SB_IO_READ;
    if (e & EPOLLOUT)
        events |= SB_IO_WRITE;
    if (e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
        events |= SB_IO_ERR;
    return events;
}

int sb_io_start(struct sb_loop *l, struct sb_io *io, int fd, uint32_t events, sb_io_cb cb,
                void *data)
{
    if (l == NULL || fd < 0 || cb == NULL)
        return SB_EINVAL;
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = io};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    io->fd = fd;
    io->events = events & (SB_IO_READ | SB_IO_WRITE);
    io->cb = cb;
    io->data = data;
    io->loop = l;
    return 0;
}

int sb_io_modify(struct sb_io *io, uint32_t events)
{
    if (io->loop == NULL)
        return SB_EINVAL;
    events &= SB_IO_READ | SB_IO_WRITE;
    if (events == io->events)
        return 0;
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = io};
    if (epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
        return -errno;
    io->events = events;
    return 0;
}

void sb_io_stop(struct sb_io *io)
{
    struct sb_loop *l = io->loop;
    if (l == NULL)
        return;
    /* The fd may already be closed (then epoll dropped it itself): ignore the error. */
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    for (int i = l->ev_next; i < l->ev_n; i++)
        if (l->events[i].data.ptr == io)
            l->events[i].data.ptr = NULL;
    io->loop = NULL;
}

int sb_loop_run_once(struct sb_loop *l, int timeout_ms)
{
    int n = 0;
    sb_loop_update_time(l);
    int tt = sb__wheel_timeout(&l->wheel, l->now);
    if (tt >= 0 && (timeout_ms < 0 || tt < timeout_ms))
        timeout_ms = tt;
    if (atomic_load_explicit(&l->stop, memory_order_relaxed))
        timeout_ms = 0;

    int got = epoll_wait(l->epfd, l->events, SB__LOOP_MAX_EVENTS, timeout_ms);
    sb_loop_update_time(l);
    if (got > 0) {
        l->ev_n = got;
        for (l->ev_next = 0; l->ev_next < l->ev_n;) {
            struct epoll_event *ev = &l->events[l->ev_next++];
            struct sb_io *io = ev->data.ptr;
            if (io == NULL)
                continue; /* stopped by an earlier callback of this batch */
            uint32_t events = from_epoll(ev->events);
            /* Level-triggered: a watch narrowed by an earlier callback only reports what it
             * still asks for. */
            events &= io->events | SB_IO_ERR;
            if (events == 0)
                continue;
            if (io == &l->wake) {
                n += sb__queue_run(l);
                continue;
            }
            io->cb(io, events);
            n++;
        }
        l->ev_next = l->ev_n = 0;
    }
    n += sb__wheel_run(&l->wheel, l->now);
    return n;
}

int sb_loop_run(struct sb_loop *l)
{
    while (!atomic_exchange(&l->stop, false))
        sb_loop_run_once(l, -1);
    return 0;
}

void sb_loop_stop(struct sb_loop *l)
{
    atomic_store(&l->stop, true);
    sb__queue_wake(l);
}
