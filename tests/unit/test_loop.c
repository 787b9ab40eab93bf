/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the event loop: fd readiness, stopping inside callbacks, the timer wheel under a
 * virtual clock, and the cross-thread job queue. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "loop/loop-int.h"
#include "sb/base.h"
#include "sb/loop.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static uint64_t vclock(void *arg)
{
    return *(uint64_t *)arg;
}

struct vloop {
    struct sb_loop *l;
    uint64_t now;
};

static void vloop_init(struct vloop *v, uint64_t start)
{
    v->l = sb_loop_new();
    assert_non_null(v->l);
    v->now = start;
    sb_loop_set_clock(v->l, vclock, &v->now);
    assert_int_equal(sb_loop_now(v->l), start);
}

/* Move the virtual clock to <t> and run one non-blocking iteration. */
static int vloop_at(struct vloop *v, uint64_t t)
{
    v->now = t;
    return sb_loop_run_once(v->l, 0);
}

/* ---- fds ----------------------------------------------------------------------------------- */

struct rec_io {
    struct sb_io io;
    int calls;
    uint32_t last;
    struct rec_io *other; /* stopped by this one's callback */
    int reuse_fd;         /* when >= 0, the other's struct is restarted on this fd */
};

static void rec_cb(struct sb_io *io, uint32_t events)
{
    struct rec_io *r = io->data;
    r->calls++;
    r->last = events;
}

static void test_io_pipe(void **state)
{
    (void)state;
    struct sb_loop *l = sb_loop_new();
    assert_non_null(l);
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct rec_io r = {0};
    assert_int_equal(sb_io_start(l, &r.io, p[0], SB_IO_READ, rec_cb, &r), 0);
    assert_ptr_equal(r.io.loop, l);

    assert_int_equal(sb_loop_run_once(l, 0), 0);
    assert_int_equal(r.calls, 0);

    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(sb_loop_run_once(l, 100), 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last, SB_IO_READ);
    /* Level-triggered: still readable until drained. */
    assert_int_equal(sb_loop_run_once(l, 0), 1);
    assert_int_equal(r.calls, 2);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(sb_loop_run_once(l, 0), 0);
    assert_int_equal(r.calls, 2);

    /* Write side: a pipe with room is writable; narrowing the watch to nothing silences it. */
    struct rec_io w = {0};
    assert_int_equal(sb_io_start(l, &w.io, p[1], SB_IO_WRITE, rec_cb, &w), 0);
    assert_int_equal(sb_loop_run_once(l, 0), 1);
    assert_int_equal(w.last, SB_IO_WRITE);
    assert_int_equal(sb_io_modify(&w.io, 0), 0);
    assert_int_equal(sb_loop_run_once(l, 0), 0);
    assert_int_equal(sb_io_modify(&w.io, SB_IO_WRITE), 0);
    assert_int_equal(sb_loop_run_once(l, 0), 1);
    assert_int_equal(w.calls, 2);
    sb_io_stop(&w.io);
    assert_null(w.io.loop);

    /* Hang-up of the writer is reported as an error on the reader. */
    close(p[1]);
    assert_int_equal(sb_loop_run_once(l, 100), 1);
    assert_true(r.last & SB_IO_ERR);
    sb_io_stop(&r.io);
    sb_io_stop(&r.io); /* twice is harmless */
    assert_int_equal(sb_loop_run_once(l, 0), 0);
    close(p[0]);
    sb_loop_free(l);
}

static void stop_self_cb(struct sb_io *io, uint32_t events)
{
    rec_cb(io, events);
    sb_io_stop(io);
}

static void stop_other_cb(struct sb_io *io, uint32_t events)
{
    struct rec_io *r = io->data;
    rec_cb(io, events);
    if (r->other == NULL || r->other->io.loop == NULL)
        return;
    struct sb_loop *l = r->other->io.loop;
    sb_io_stop(&r->other->io);
    if (r->reuse_fd >= 0) {
        /* Same memory, now a different (idle) watch: the stale event must not reach it. */
        struct rec_io *o = r->other;
        o->calls = 0;
        assert_int_equal(sb_io_start(l, &o->io, r->reuse_fd, SB_IO_READ, rec_cb, o), 0);
    }
}

static void test_io_stop_in_callback(void **state)
{
    (void)state;
    struct sb_loop *l = sb_loop_new();
    int efd = eventfd(1, EFD_NONBLOCK);
    struct rec_io r = {0};
    assert_int_equal(sb_io_start(l, &r.io, efd, SB_IO_READ, stop_self_cb, &r), 0);
    assert_int_equal(sb_loop_run_once(l, 0), 1);
    assert_null(r.io.loop);
    /* Still readable, but no longer watched. */
    assert_int_equal(sb_loop_run_once(l, 0), 0);
    assert_int_equal(r.calls, 1);

    /* Two readable fds in one batch, each callback stops the other: exactly one runs. */
    for (int reuse = 0; reuse < 2; reuse++) {
        int a = eventfd(1, EFD_NONBLOCK), b = eventfd(1, EFD_NONBLOCK);
        int idle = eventfd(0, EFD_NONBLOCK);
        struct rec_io ra = {0}, rb = {0};
        ra.other = &rb;
        rb.other = &ra;
        ra.reuse_fd = rb.reuse_fd = reuse ? idle : -1;
        assert_int_equal(sb_io_start(l, &ra.io, a, SB_IO_READ, stop_other_cb, &ra), 0);
        assert_int_equal(sb_io_start(l, &rb.io, b, SB_IO_READ, stop_other_cb, &rb), 0);
        assert_int_equal(sb_loop_run_once(l, 0), 1);
        if (reuse) {
            /* One ran; the other was restarted on the idle fd and saw nothing. */
            assert_int_equal(ra.calls + rb.calls, 1);
            struct rec_io *restarted = ra.calls ? &rb : &ra;
            assert_int_equal(restarted->io.fd, idle);
            assert_int_equal(restarted->calls, 0);
        } else {
            assert_int_equal(ra.calls + rb.calls, 1);
        }
        if (ra.io.loop)
            sb_io_stop(&ra.io);
        if (rb.io.loop)
            sb_io_stop(&rb.io);
        close(a);
        close(b);
        close(idle);
    }
    sb_io_stop(&r.io);
    close(efd);
    sb_loop_free(l);
}

/* ---- timers -------------------------------------------------------------------------------- */

#define LOG_MAX 64
struct tlog {
    int ids[LOG_MAX];
    uint64_t at[LOG_MAX];
    int n;
    struct sb_loop *l;
};

struct ttimer {
    struct sb_timer t;
    int id;
    struct tlog *log;
    uint64_t rearm;        /* re-arm itself with this delay (0: no) */
    int rearm_left;        /* how many times */
    struct ttimer *victim; /* stopped (or moved) by this one's callback */
    uint64_t victim_ms;    /* when not 0, the victim is re-armed at this delay instead */
};

static void ttimer_cb(struct sb_timer *t)
{
    struct ttimer *x = t->data;
    struct tlog *g = x->log;
    assert_false(sb_timer_active(t));
    assert_true(g->n < LOG_MAX);
    g->ids[g->n] = x->id;
    g->at[g->n] = sb_loop_now(g->l);
    g->n++;
    if (x->rearm_left > 0) {
        x->rearm_left--;
        sb_timer_start(g->l, t, x->rearm);
    }
    if (x->victim) {
        if (x->victim_ms)
            sb_timer_start(g->l, &x->victim->t, x->victim_ms);
        else
            sb_timer_stop(&x->victim->t);
    }
}

static void ttimer_init(struct ttimer *x, int id, struct tlog *log)
{
    memset(x, 0, sizeof(*x));
    x->id = id;
    x->log = log;
    sb_timer_init(&x->t, ttimer_cb, x);
}

static void test_timer_order(void **state)
{
    (void)state;
    struct vloop v;
    vloop_init(&v, 1000);
    struct tlog g = {.l = v.l};
    struct ttimer t[5];
    for (int i = 0; i < 5; i++)
        ttimer_init(&t[i], i, &g);
    sb_timer_start(v.l, &t[0].t, 30);
    sb_timer_start(v.l, &t[1].t, 10);
    sb_timer_start(v.l, &t[2].t, 20);
    sb_timer_start(v.l, &t[3].t, 10);
    sb_timer_start(v.l, &t[4].t, 300); /* beyond level 0 */
    assert_true(sb_timer_active(&t[0].t));
    assert_int_equal(t[1].t.expires, 1010);

    assert_int_equal(vloop_at(&v, 1009), 0);
    assert_int_equal(vloop_at(&v, 1010), 2);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.ids[0], 1);
    assert_int_equal(g.ids[1], 3);
    /* A late iteration runs everything due, in expiry order. */
    assert_int_equal(vloop_at(&v, 1299), 2);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.ids[2], 2);
    assert_int_equal(g.ids[3], 0);
    assert_true(sb_timer_active(&t[4].t));
    assert_int_equal(vloop_at(&v, 1300), 1);
    assert_int_equal(g.ids[4], 4);
    assert_int_equal(g.at[4], 1300);
    assert_false(sb_timer_active(&t[4].t));

    /* A zero delay fires at the next iteration, even when the clock has not moved. */
    sb_timer_start(v.l, &t[0].t, 0);
    assert_int_equal(vloop_at(&v, 1300), 1);
    assert_int_equal(g.ids[5], 0);

    /* Stop before expiry; restart moves the expiry. */
    sb_timer_start(v.l, &t[1].t, 5);
    sb_timer_stop(&t[1].t);
    sb_timer_stop(&t[1].t);
    sb_timer_start(v.l, &t[2].t, 5);
    sb_timer_start(v.l, &t[2].t, 50);
    assert_int_equal(vloop_at(&v, 1349), 0);
    assert_int_equal(vloop_at(&v, 1350), 1);
    assert_int_equal(g.ids[6], 2);
    assert_int_equal(g.n, 7);
    sb_loop_free(v.l);
}

static void test_timer_rearm(void **state)
{
    (void)state;
    struct vloop v;
    vloop_init(&v, 0);
    struct tlog g = {.l = v.l};
    struct ttimer p;
    ttimer_init(&p, 7, &g);
    p.rearm = 10;
    p.rearm_left = 9;
    sb_timer_start(v.l, &p.t, 10);
    for (uint64_t ms = 1; ms <= 200; ms++)
        vloop_at(&v, ms);
    assert_int_equal(g.n, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(g.at[i], (uint64_t)(i + 1) * 10);
    assert_false(sb_timer_active(&p.t));

    /* Re-arming with 0 inside the callback runs once per iteration, never in a loop. */
    struct tlog g2 = {.l = v.l};
    struct ttimer z;
    ttimer_init(&z, 8, &g2);
    z.rearm = 0;
    z.rearm_left = 3;
    sb_timer_start(v.l, &z.t, 0);
    assert_int_equal(vloop_at(&v, 200), 1);
    assert_int_equal(vloop_at(&v, 200), 1);
    assert_int_equal(vloop_at(&v, 200), 1);
    assert_int_equal(vloop_at(&v, 200), 1);
    assert_int_equal(vloop_at(&v, 200), 0);
    assert_int_equal(g2.n, 4);
    sb_loop_free(v.l);
}

static void test_timer_stop_other_same_tick(void **state)
{
    (void)state;
    struct vloop v;
    vloop_init(&v, 500);
    struct tlog g = {.l = v.l};
    struct ttimer a, b, c, d;
    ttimer_init(&a, 1, &g);
    ttimer_init(&b, 2, &g);
    ttimer_init(&c, 3, &g);
    ttimer_init(&d, 4, &g);
    /* Both orders: the first to run stops the other. */
    a.victim = &b;
    b.victim = &a;
    sb_timer_start(v.l, &a.t, 10);
    sb_timer_start(v.l, &b.t, 10);
    /* c moves d, due in the same tick, 40 ms later. */
    c.victim = &d;
    c.victim_ms = 40;
    sb_timer_start(v.l, &c.t, 10);
    sb_timer_start(v.l, &d.t, 10);
    assert_int_equal(vloop_at(&v, 600), 2);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.ids[0], 1);
    assert_int_equal(g.ids[1], 3);
    assert_false(sb_timer_active(&b.t));
    assert_true(sb_timer_active(&d.t));
    assert_int_equal(d.t.expires, 640);
    assert_int_equal(vloop_at(&v, 639), 0);
    assert_int_equal(vloop_at(&v, 640), 1);
    assert_int_equal(g.ids[2], 4);
    sb_loop_free(v.l);
}

static void test_timer_long(void **state)
{
    (void)state;
    const uint64_t H = 3600 * 1000;
    const uint64_t spans[] = {3 * H, 25 * H, 24 * H * 60, 24 * H * 400};
    for (size_t k = 0; k < SB_ARRAY_LEN(spans); k++) {
        /* A start that is not aligned to any wheel boundary. */
        struct vloop v;
        vloop_init(&v, 123456789);
        struct tlog g = {.l = v.l};
        struct ttimer t;
        ttimer_init(&t, 1, &g);
        sb_timer_start(v.l, &t.t, spans[k]);
        uint64_t due = 123456789 + spans[k];
        /* Large steps, then straight to one millisecond before. */
        for (uint64_t at = 123456789; at < due - 1; at += spans[k] / 7)
            vloop_at(&v, at);
        assert_int_equal(vloop_at(&v, due - 1), 0);
        assert_int_equal(g.n, 0);
        assert_int_equal(vloop_at(&v, due), 1);
        assert_int_equal(g.at[0], due);
        sb_loop_free(v.l);
    }

    /* Driven only by the loop's own wait hint, a far timer is reached without being late. */
    struct vloop v;
    vloop_init(&v, 77);
    struct tlog g = {.l = v.l};
    struct ttimer t;
    ttimer_init(&t, 1, &g);
    sb_timer_start(v.l, &t.t, 5 * H + 17);
    int wakes = 0;
    while (g.n == 0) {
        int ms = sb__wheel_timeout(&v.l->wheel, v.now);
        assert_true(ms >= 0);
        vloop_at(&v, v.now + (uint64_t)ms);
        assert_true(++wakes < 1000);
    }
    assert_int_equal(g.at[0], 77 + 5 * H + 17);
    assert_int_equal(sb__wheel_timeout(&v.l->wheel, v.now), -1);
    sb_loop_free(v.l);
}

#define NT 10000
struct many {
    struct sb_timer t;
    uint64_t due;
    uint64_t fired_at;
    int fired;
    struct sb_loop *l;
};

static void many_cb(struct sb_timer *t)
{
    struct many *m = t->data;
    m->fired++;
    m->fired_at = sb_loop_now(m->l);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_timer_many(void **state)
{
    (void)state;
    struct vloop v;
    vloop_init(&v, 1 << 20);
    struct many *m = calloc(NT, sizeof(*m));
    assert_non_null(m);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < NT; i++) {
        uint64_t r = rng_next(&seed);
        /* Mostly short, some minutes, a few hours away. */
        uint64_t ms = i % 10 == 0 ? r % (6 * 3600 * 1000) : i % 3 == 0 ? r % 600000 : r % 2000;
        sb_timer_init(&m[i].t, many_cb, &m[i]);
        m[i].l = v.l;
        m[i].due = v.now + ms;
        sb_timer_start(v.l, &m[i].t, ms);
    }
    /* Stop every 7th. */
    for (int i = 0; i < NT; i += 7)
        sb_timer_stop(&m[i].t);

    /* Follow the loop's wait hint, with random extra lateness, until nothing is armed. */
    int iters = 0;
    for (;;) {
        int ms = sb__wheel_timeout(&v.l->wheel, v.now);
        if (ms < 0)
            break;
        uint64_t next =
            v.now + (uint64_t)ms + (rng_next(&seed) % 4 == 0 ? rng_next(&seed) % 50 : 0);
        vloop_at(&v, next);
        assert_true(++iters < 1000000);
    }
    for (int i = 0; i < NT; i++) {
        if (i % 7 == 0) {
            assert_int_equal(m[i].fired, 0);
            continue;
        }
        assert_int_equal(m[i].fired, 1);
        /* Never early, and late only by the random lateness of the iteration that ran it. */
        assert_true(m[i].fired_at >= m[i].due);
        assert_true(m[i].fired_at < m[i].due + 50);
        assert_false(sb_timer_active(&m[i].t));
    }

    /* Timers armed at loop teardown are disarmed. */
    for (int i = 0; i < 100; i++)
        sb_timer_start(v.l, &m[i].t, 1000 + (uint64_t)i * 100000);
    sb_loop_free(v.l);
    for (int i = 0; i < 100; i++)
        assert_false(sb_timer_active(&m[i].t));
    free(m);
}

/* ---- cross-thread queue -------------------------------------------------------------------- */

#define NJOBS 20000
struct poster {
    struct sb_loop *l;
    int id;
    int *seen; /* per-poster last sequence number seen by the loop */
    int *order_errors;
    int *done;
};

struct job {
    struct poster *p;
    int seq;
};

static void job_fn(void *arg)
{
    struct job *j = arg;
    if (j->seq != j->p->seen[j->p->id] + 1)
        (*j->p->order_errors)++;
    j->p->seen[j->p->id] = j->seq;
    if (j->seq == NJOBS - 1 && ++*j->p->done == 2)
        sb_loop_stop(j->p->l);
    free(j);
}

static void *poster_main(void *arg)
{
    struct poster *p = arg;
    for (int i = 0; i < NJOBS; i++) {
        struct job *j = malloc(sizeof(*j));
        j->p = p;
        j->seq = i;
        if (sb_loop_post(p->l, job_fn, free, j) != 0)
            abort();
    }
    return NULL;
}

static void watchdog_cb(struct sb_timer *t)
{
    (void)t;
    fail_msg("loop did not stop in time");
}

static void test_post_threads(void **state)
{
    (void)state;
    struct sb_loop *l = sb_loop_new();
    struct sb_timer dog;
    sb_timer_init(&dog, watchdog_cb, NULL);
    sb_timer_start(l, &dog, 20000);
    int seen[2] = {-1, -1}, errors = 0, done = 0;
    struct poster p[2] = {{l, 0, seen, &errors, &done}, {l, 1, seen, &errors, &done}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, poster_main, &p[i]), 0);
    assert_int_equal(sb_loop_run(l), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(errors, 0);
    assert_int_equal(seen[0], NJOBS - 1);
    assert_int_equal(seen[1], NJOBS - 1);
    sb_timer_stop(&dog);
    sb_loop_free(l);
}

static void *stopper_main(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    sb_loop_stop(arg);
    return NULL;
}

static void test_stop_other_thread(void **state)
{
    (void)state;
    struct sb_loop *l = sb_loop_new();
    struct sb_timer dog;
    sb_timer_init(&dog, watchdog_cb, NULL);
    sb_timer_start(l, &dog, 10000);
    uint64_t t0 = sb_now_ms();
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stopper_main, l), 0);
    /* Nothing else to do: the loop sleeps in epoll until the other thread stops it. */
    assert_int_equal(sb_loop_run(l), 0);
    pthread_join(th, NULL);
    uint64_t took = sb_now_ms() - t0;
    assert_true(took >= 40 && took < 5000);
    assert_true(sb_timer_active(&dog));

    /* A stop before run makes run return after one iteration. */
    sb_loop_stop(l);
    assert_int_equal(sb_loop_run(l), 0);
    sb_loop_free(l);
    assert_false(sb_timer_active(&dog));
}

static int n_ran, n_dropped;

static void count_run(void *arg)
{
    n_ran++;
    free(arg);
}

static void count_drop(void *arg)
{
    n_dropped++;
    free(arg);
}

static void never_run(void *arg)
{
    (void)arg;
    fail_msg("a job ran after its loop was freed");
}

static void test_free_drops_pending(void **state)
{
    (void)state;
    struct sb_loop *l = sb_loop_new();
    n_ran = n_dropped = 0;
    assert_int_equal(sb_loop_post(l, count_run, count_drop, malloc(8)), 0);
    assert_int_equal(sb_loop_run_once(l, 0), 1);
    assert_int_equal(n_ran, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sb_loop_post(l, count_run, count_drop, malloc(8)), 0);
    /* Without a drop function the job is simply discarded. */
    assert_int_equal(sb_loop_post(l, never_run, NULL, NULL), 0);
    sb_loop_free(l);
    assert_int_equal(n_ran, 1);
    assert_int_equal(n_dropped, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_pipe),
        cmocka_unit_test(test_io_stop_in_callback),
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_timer_rearm),
        cmocka_unit_test(test_timer_stop_other_same_tick),
        cmocka_unit_test(test_timer_long),
        cmocka_unit_test(test_timer_many),
        cmocka_unit_test(test_post_threads),
        cmocka_unit_test(test_stop_other_thread),
        cmocka_unit_test(test_free_drops_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
