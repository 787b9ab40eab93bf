/* SPDX-License-Identifier: BSD-2-Clause */
/* Wake-ups of the cross-thread queue: the eventfd is watched edge-triggered and never read, so
 * every post made while the loop sleeps, is about to, or is running its queue must still bring it
 * back at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "sb/base.h"
#include "sb/loop.h"

/* Ping-pong with another thread: each job is posted while the loop sleeps (or is about to) and
 * must wake it at once; a lost wake-up shows as a run_once that waits for its whole timeout. */
#define PINGS 2000

struct pinger {
    struct sb_loop *l;
    atomic_int ran;
};

static void ping_job(void *arg)
{
    struct pinger *p = arg;
    atomic_fetch_add(&p->ran, 1);
}

static void *pinger_main(void *arg)
{
    struct pinger *p = arg;
    for (int i = 0; i < PINGS; i++) {
        if (sb_loop_post(p->l, ping_job, NULL, p) != 0)
            abort();
        while (atomic_load(&p->ran) <= i)
            sched_yield();
    }
    return NULL;
}

static void test_post_wakes_sleeper(void **state)
{
    (void)state;
    struct pinger p = {.l = sb_loop_new()};
    atomic_init(&p.ran, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, pinger_main, &p), 0);
    uint64_t t0 = sb_now_ms();
    int calls = 0;
    while (atomic_load(&p.ran) < PINGS) {
        uint64_t w0 = sb_now_ms();
        sb_loop_run_once(p.l, 3000);
        assert_true(sb_now_ms() - w0 < 2500);
        calls++;
    }
    pthread_join(th, NULL);
    assert_true(calls >= 1 && sb_now_ms() - t0 < 20000);
    /* nothing pending: a poll finds nothing, a posted job runs on the next one */
    assert_int_equal(sb_loop_run_once(p.l, 0), 0);
    assert_int_equal(sb_loop_post(p.l, ping_job, NULL, &p), 0);
    assert_int_equal(sb_loop_run_once(p.l, 0), 1);
    assert_int_equal(atomic_load(&p.ran), PINGS + 1);
    sb_loop_free(p.l);
}

/* A job that posts to its own loop: the post comes while the queue is being run, and the next
 * iteration must still see it without waiting. */
struct selfpost {
    struct sb_loop *l;
    int left;
};

static void selfpost_job(void *arg)
{
    struct selfpost *s = arg;
    if (--s->left > 0)
        assert_int_equal(sb_loop_post(s->l, selfpost_job, NULL, s), 0);
}

static void test_post_from_job(void **state)
{
    (void)state;
    struct selfpost s = {.l = sb_loop_new(), .left = 100};
    assert_int_equal(sb_loop_post(s.l, selfpost_job, NULL, &s), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sb_loop_run_once(s.l, 2000), 1);
    assert_int_equal(s.left, 0);
    assert_int_equal(sb_loop_run_once(s.l, 0), 0);
    sb_loop_free(s.l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_wakes_sleeper),
        cmocka_unit_test(test_post_from_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
