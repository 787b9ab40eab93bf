/* SPDX-License-Identifier: BSD-2-Clause */
/* Cross-thread jobs: a FIFO under a mutex, an eventfd to wake the loop. Any thread posts; the
 * loop's thread runs the jobs in posting order. */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop/loop-int.h"
#include "sb/base.h"

void sb__queue_wake(struct sb_loop *l)
{
    uint64_t one = 1;
    /* Nothing to do on EAGAIN: the counter would be at its limit, out of reach (see below). */
    while (write(l->evfd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

int sb__queue_run(struct sb_loop *l)
{
    /* The eventfd is watched edge-triggered and never read: every write is a new edge, so there
     * is no readiness to consume (one syscall less per wake-up; its counter, at one per write,
     * cannot reach its limit). Clear the flag, then take the list: a poster that found the flag
     * set appended its job before the clear, so the take sees it; one that comes after the clear
     * writes the eventfd again, and that edge brings the loop back. */
    atomic_store(&l->signalled, false);
    pthread_mutex_lock(&l->qlock);
    struct sb__job *j = l->qhead;
    l->qhead = NULL;
    l->qtail = &l->qhead;
    pthread_mutex_unlock(&l->qlock);

    int n = 0;
    while (j != NULL) {
        struct sb__job *next = j->next;
        j->fn(j->arg);
        free(j);
        j = next;
        n++;
    }
    return n;
}

/* sb_loop_run_once() spots this io and calls sb__queue_run() itself, to count the jobs. */
static void wake_cb(struct sb_io *io, uint32_t events)
{
    (void)events;
    struct sb_loop *l = io->data;
    sb__queue_run(l);
}

int sb__queue_init(struct sb_loop *l)
{
    l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->evfd < 0)
        return -errno;
    pthread_mutex_init(&l->qlock, NULL);
    l->qhead = NULL;
    l->qtail = &l->qhead;
    atomic_init(&l->signalled, false);
    int rc = sb_io_start(l, &l->wake, l->evfd, SB_IO_READ, wake_cb, l);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = &l->wake};
    if (rc == 0 && epoll_ctl(l->epfd, EPOLL_CTL_MOD, l->evfd, &ev) < 0) {
        rc = -errno;
        sb_io_stop(&l->wake);
    }
    if (rc < 0) {
        close(l->evfd);
        pthread_mutex_destroy(&l->qlock);
        return rc;
    }
    return 0;
}

void sb__queue_deinit(struct sb_loop *l)
{
    sb_io_stop(&l->wake);
    pthread_mutex_lock(&l->qlock);
    struct sb__job *j = l->qhead;
    l->qhead = NULL;
    l->qtail = &l->qhead;
    pthread_mutex_unlock(&l->qlock);
    while (j != NULL) {
        struct sb__job *next = j->next;
        if (j->drop)
            j->drop(j->arg);
        free(j);
        j = next;
    }
    close(l->evfd);
    pthread_mutex_destroy(&l->qlock);
}

int sb_loop_post(struct sb_loop *l, sb_job_fn fn, sb_job_fn drop, void *arg)
{
    if (l == NULL || fn == NULL)
        return SB_EINVAL;
    struct sb__job *j = malloc(sizeof(*j));
    if (j == NULL)
        return SB_ENOMEM;
    j->next = NULL;
    j->fn = fn;
    j->drop = drop;
    j->arg = arg;
    pthread_mutex_lock(&l->qlock);
    *l->qtail = j;
    l->qtail = &j->next;
    pthread_mutex_unlock(&l->qlock);
    if (!atomic_exchange(&l->signalled, true))
        sb__queue_wake(l);
    return 0;
}
