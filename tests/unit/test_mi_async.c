/* SPDX-License-Identifier: BSD-2-Clause */
/* Asynchronous management commands: completion from another thread while the management lock is
 * free, the time limit, late and double completions refused, batches, notifications, shutdown. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/base.h"
#include "sb/loop.h"
#include "sb/mi.h"

/* ---- test commands ------------------------------------------------------------------------- */

/* The completer of the last "later" call, and what the handler should do. */
static struct sb_mi_async *held;
static unsigned held_timeout_ms;
static int handler_mode; /* 0 pending, 1 complete inside then pending, 2 error after start */

static json_t *t_later(struct sb_mi_call *c)
{
    struct sb_mi_async *a = sb_mi_async_start(c, held_timeout_ms);
    if (!a)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "cannot go async");
    if (handler_mode == 1) {
        sb_mi_async_done(a, json_string("at once"));
        return SB_MI_PENDING;
    }
    /* published for the completer threads of the tests */
    __atomic_store_n(&held, a, __ATOMIC_RELEASE);
    if (handler_mode == 2)
        return sb_mi_error(c, 499, "changed my mind");
    return SB_MI_PENDING;
}

static json_t *t_now(struct sb_mi_call *c)
{
    (void)c;
    return json_string("now");
}

/* "racy": two completers (as tm has a reply callback and a timer) race each other and a 3 ms
 * time limit; the handler queues both references for the completer threads. */
#define RACE_LIMIT_MS 3

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct {
        struct sb_mi_async *a;
        uint64_t at_us; /* when to complete it */
    } q[4096];
    unsigned head, tail; /* q[head..tail) waits for a completer */
    bool stop;
    unsigned won;  /* completions accepted */
    unsigned lost; /* refused (SB_ENOENT) */
    unsigned seed;
} race = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static json_t *t_racy(struct sb_mi_call *c)
{
    struct sb_mi_async *a = sb_mi_async_start(c, RACE_LIMIT_MS);
    if (!a)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "cannot go async");
    struct sb_mi_async *b = sb_mi_async_ref(a);
    pthread_mutex_lock(&race.lock);
    if (race.tail + 2 > SB_ARRAY_LEN(race.q)) {
        pthread_mutex_unlock(&race.lock);
        sb_mi_async_unref(b);
        sb_mi_async_unref(a);
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "queue full");
    }
    /* around the time limit: some completions win, some come too late */
    uint64_t now = now_us();
    race.q[race.tail].a = a;
    race.q[race.tail++].at_us = now + (uint64_t)(rand_r(&race.seed) % (2 * RACE_LIMIT_MS * 1000));
    race.q[race.tail].a = b;
    race.q[race.tail++].at_us = now + (uint64_t)(rand_r(&race.seed) % (2 * RACE_LIMIT_MS * 1000));
    pthread_cond_broadcast(&race.cond);
    pthread_mutex_unlock(&race.lock);
    return SB_MI_PENDING;
}

static const struct sb_mi_cmd cmds[] = {
    {.name = "later", .recipes = {{.fn = t_later, .params = {NULL}}}},
    {.name = "now", .recipes = {{.fn = t_now, .params = {NULL}}}},
    {.name = "racy", .recipes = {{.fn = t_racy, .params = {NULL}}}},
    {.name = NULL},
};

/* ---- a transport's reply callback ---------------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned calls;
    json_t *reply;
} got = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL};

static void on_reply(void *arg, json_t *reply)
{
    assert_ptr_equal(arg, &got);
    pthread_mutex_lock(&got.lock);
    got.calls++;
    json_decref(got.reply);
    got.reply = reply;
    pthread_cond_broadcast(&got.cond);
    pthread_mutex_unlock(&got.lock);
}

/* Wait up to <ms> for the reply callback; returns how many calls there were. */
static unsigned wait_reply(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&got.lock);
    while (!got.calls)
        if (pthread_cond_timedwait(&got.cond, &got.lock, &ts) != 0)
            break;
    unsigned n = got.calls;
    pthread_mutex_unlock(&got.lock);
    return n;
}

static int submit(const char *text, json_t **reply)
{
    return sb_mi_handle_async(text, strlen(text), on_reply, &got, reply);
}

static int setup(void **state)
{
    (void)state;
    held = NULL;
    held_timeout_ms = 0;
    handler_mode = 0;
    got.calls = 0;
    got.reply = NULL;
    return sb_mi_init() == 0 && sb_mi_register("testmod", cmds) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sb_mi_async_shutdown();
    sb_mi_destroy();
    json_decref(got.reply);
    got.reply = NULL;
    return 0;
}

/* ---- completion from another thread -------------------------------------------------------- */

struct late {
    struct sb_mi_async *a;
    unsigned delay_ms;
    int rc;
};

static void *complete_later(void *arg)
{
    struct late *l = arg;
    usleep(l->delay_ms * 1000);
    l->rc = sb_mi_async_done(l->a, json_pack("{s:s}", "Status", "200 OK"));
    return NULL;
}

static void test_completion_from_thread(void **state)
{
    (void)state;
    json_t *reply = NULL;
    int rc = submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":\"abc\"}", &reply);
    assert_int_equal(rc, 1);
    assert_null(reply);
    assert_non_null(held);
    assert_int_equal(sb_mi_async_pending(), 1);

    /* the management lock is free meanwhile: a synchronous command runs at once */
    struct sb_mi_call c;
    uint64_t t0 = sb_now_ms();
    json_t *now = sb_mi_run("now", NULL, &c);
    assert_string_equal(json_string_value(now), "now");
    json_decref(now);
    assert_true(sb_now_ms() - t0 < 100);
    assert_int_equal(got.calls, 0);

    struct late l = {.a = held, .delay_ms = 50, .rc = 99};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, complete_later, &l), 0);
    assert_int_equal(wait_reply(2000), 1);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(sb_mi_async_pending(), 0);
    assert_string_equal(json_string_value(json_object_get(got.reply, "id")), "abc");
    assert_string_equal(json_string_value(json_object_get(got.reply, "jsonrpc")), "2.0");
    json_t *res = json_object_get(got.reply, "result");
    assert_string_equal(json_string_value(json_object_get(res, "Status")), "200 OK");
    assert_null(json_object_get(got.reply, "error"));
}

/* ---- the time limit, then a completion after the caller gave up ---------------------------- */

static void test_timeout_then_late_completion(void **state)
{
    (void)state;
    held_timeout_ms = 150;
    json_t *reply = NULL;
    uint64_t t0 = sb_now_ms();
    assert_int_equal(submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":7}", &reply), 1);
    assert_int_equal(wait_reply(3000), 1);
    uint64_t took = sb_now_ms() - t0;
    assert_true(took >= 140 && took < 2000);
    json_t *err = json_object_get(got.reply, "error");
    assert_non_null(err);
    assert_int_equal(json_integer_value(json_object_get(err, "code")), SB_MI_SERVER_ERROR);
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        "no result within 150 ms");
    assert_int_equal(json_integer_value(json_object_get(got.reply, "id")), 7);
    assert_int_equal(sb_mi_async_pending(), 0);

    /* the worker's reply comes after the client was answered: refused, freed, not delivered */
    assert_int_equal(sb_mi_async_done(held, json_string("too late")), SB_ENOENT);
    usleep(20000);
    assert_int_equal(got.calls, 1);
}

/* ---- double completion --------------------------------------------------------------------- */

static void test_double_completion_refused(void **state)
{
    (void)state;
    json_t *reply = NULL;
    assert_int_equal(submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":1}", &reply), 1);
    /* two completers: a reply callback and a timer of the module */
    struct sb_mi_async *second = sb_mi_async_ref(held);
    assert_int_equal(sb_mi_async_done(held, json_string("first")), 0);
    assert_int_equal(sb_mi_async_error(second, 500, "second %d", 2), SB_ENOENT);
    assert_int_equal(wait_reply(1000), 1);
    assert_string_equal(json_string_value(json_object_get(got.reply, "result")), "first");
    usleep(20000);
    assert_int_equal(got.calls, 1);
}

static void test_error_completion(void **state)
{
    (void)state;
    json_t *reply = NULL;
    assert_int_equal(submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":2}", &reply), 1);
    assert_int_equal(sb_mi_async_error(held, 408, "no answer from %s", "bob"), 0);
    assert_int_equal(wait_reply(1000), 1);
    json_t *err = json_object_get(got.reply, "error");
    assert_int_equal(json_integer_value(json_object_get(err, "code")), 408);
    assert_string_equal(json_string_value(json_object_get(err, "message")), "no answer from bob");
}

/* ---- completion before the handler returned; the handler answering itself ------------------ */

static void test_completed_inside_handler(void **state)
{
    (void)state;
    handler_mode = 1;
    json_t *reply = NULL;
    assert_int_equal(submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":3}", &reply), 0);
    assert_non_null(reply);
    assert_string_equal(json_string_value(json_object_get(reply, "result")), "at once");
    json_decref(reply);
    assert_int_equal(got.calls, 0);
    assert_int_equal(sb_mi_async_pending(), 0);
}

static void test_handler_error_after_start(void **state)
{
    (void)state;
    handler_mode = 2;
    json_t *reply = NULL;
    assert_int_equal(submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":4}", &reply), 0);
    json_t *err = json_object_get(reply, "error");
    assert_int_equal(json_integer_value(json_object_get(err, "code")), 499);
    json_decref(reply);
    /* the completer's handle is still valid, its completion refused */
    assert_int_equal(sb_mi_async_done(held, json_string("x")), SB_ENOENT);
    assert_int_equal(got.calls, 0);
}

/* ---- batches, notifications, the synchronous entry points ---------------------------------- */

static void test_batch_waits_for_all(void **state)
{
    (void)state;
    json_t *reply = NULL;
    const char *req = "[{\"jsonrpc\":\"2.0\",\"method\":\"now\",\"id\":1},"
                      "{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":\"two\"},"
                      "{\"jsonrpc\":\"2.0\",\"method\":\"now\"},"
                      "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":3}]";
    assert_int_equal(submit(req, &reply), 1);
    assert_int_equal(got.calls, 0);
    assert_int_equal(sb_mi_async_done(held, json_integer(42)), 0);
    assert_int_equal(wait_reply(1000), 1);
    assert_true(json_is_array(got.reply));
    assert_int_equal(json_array_size(got.reply), 3); /* the notification has no reply */
    json_t *r0 = json_array_get(got.reply, 0), *r1 = json_array_get(got.reply, 1),
           *r2 = json_array_get(got.reply, 2);
    assert_int_equal(json_integer_value(json_object_get(r0, "id")), 1);
    assert_string_equal(json_string_value(json_object_get(r0, "result")), "now");
    assert_string_equal(json_string_value(json_object_get(r1, "id")), "two");
    assert_int_equal(json_integer_value(json_object_get(r1, "result")), 42);
    assert_int_equal(json_integer_value(json_object_get(r2, "id")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r2, "error"), "code")),
                     SB_MI_METHOD_NOT_FOUND);
}

static void test_async_notification(void **state)
{
    (void)state;
    json_t *reply = NULL;
    assert_int_equal(submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\"}", &reply), 1);
    assert_int_equal(sb_mi_async_done(held, json_string("unheard")), 0);
    assert_int_equal(wait_reply(1000), 1);
    assert_null(got.reply);
}

/* Completes the call whose handler is about to store <held>, from this thread. */
static void *complete_when_held(void *arg)
{
    struct late *l = arg;
    struct sb_mi_async *a;
    while (!(a = __atomic_load_n(&held, __ATOMIC_ACQUIRE)))
        usleep(1000);
    __atomic_store_n(&held, NULL, __ATOMIC_RELEASE);
    l->a = a;
    return complete_later(l);
}

static void test_sync_entry_points_wait(void **state)
{
    (void)state;
    /* sb_mi_handle (text in, text out) blocks until the completion */
    struct late l = {.delay_ms = 50, .rc = 99};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, complete_when_held, &l), 0);
    const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":5}";
    uint64_t t0 = sb_now_ms();
    char *text = sb_mi_handle(req, strlen(req));
    pthread_join(th, NULL);
    assert_true(sb_now_ms() - t0 >= 45);
    assert_int_equal(l.rc, 0);
    assert_string_equal(text, "{\"jsonrpc\":\"2.0\",\"result\":{\"Status\":\"200 OK\"},\"id\":5}");
    free(text);

    /* and sb_mi_run */
    l.rc = 99;
    assert_int_equal(pthread_create(&th, NULL, complete_when_held, &l), 0);
    struct sb_mi_call c;
    json_t *res = sb_mi_run("later", NULL, &c);
    pthread_join(th, NULL);
    assert_non_null(res);
    assert_string_equal(json_string_value(json_object_get(res, "Status")), "200 OK");
    json_decref(res);
    assert_int_equal(got.calls, 0);
}

static void test_shutdown_answers_pending(void **state)
{
    (void)state;
    json_t *reply = NULL;
    assert_int_equal(submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":9}", &reply), 1);
    struct sb_mi_async *a = held;
    sb_mi_async_shutdown();
    assert_int_equal(got.calls, 1); /* delivered before shutdown returned */
    json_t *err = json_object_get(got.reply, "error");
    assert_string_equal(json_string_value(json_object_get(err, "message")), "shutting down");
    assert_int_equal(json_integer_value(json_object_get(got.reply, "id")), 9);
    assert_int_equal(sb_mi_async_done(a, json_string("late")), SB_ENOENT);
    /* no new asynchronous calls: answered at once with an error */
    assert_int_equal(submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":10}", &reply), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(reply, "error"), "message")),
        "cannot go async");
    json_decref(reply);
    /* sb_mi_init allows them again */
    assert_int_equal(sb_mi_init(), 0);
    assert_int_equal(sb_mi_register("testmod", cmds), 0);
    assert_int_equal(submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":11}", &reply), 1);
    assert_int_equal(sb_mi_async_done(held, json_true()), 0);
    assert_int_equal(wait_reply(1000), 2);
    assert_true(json_is_true(json_object_get(got.reply, "result")));
}

/* ---- sb_mi_init() while a shutdown still delivers ------------------------------------------ */

/* A transport whose reply callback takes its time (blocks until released). */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered, release;
} slow = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void slow_reply(void *arg, json_t *reply)
{
    (void)arg;
    json_decref(reply);
    pthread_mutex_lock(&slow.lock);
    slow.entered = true;
    pthread_cond_broadcast(&slow.cond);
    while (!slow.release)
        pthread_cond_wait(&slow.cond, &slow.lock);
    pthread_mutex_unlock(&slow.lock);
}

static void *shutdown_thread(void *arg)
{
    (void)arg;
    sb_mi_async_shutdown();
    return NULL;
}

static void test_reinit_during_shutdown(void **state)
{
    (void)state;
    slow.entered = slow.release = false;
    const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":1}";
    json_t *reply = NULL;
    assert_int_equal(sb_mi_handle_async(req, strlen(req), slow_reply, NULL, &reply), 1);
    struct sb_mi_async *first = held;
    /* the shutdown answers the first call through the slow callback, and stays in it */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, shutdown_thread, NULL), 0);
    pthread_mutex_lock(&slow.lock);
    while (!slow.entered)
        pthread_cond_wait(&slow.cond, &slow.lock);
    pthread_mutex_unlock(&slow.lock);

    /* meanwhile the interface starts again: a new call gets its time limit */
    assert_int_equal(sb_mi_init(), 0);
    assert_int_equal(sb_mi_register("testmod", cmds), 0);
    held_timeout_ms = 100;
    assert_int_equal(submit("{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"id\":2}", &reply), 1);
    pthread_mutex_lock(&slow.lock);
    slow.release = true;
    pthread_cond_broadcast(&slow.cond);
    pthread_mutex_unlock(&slow.lock);
    pthread_join(th, NULL);

    /* not answered by the shutdown that was already running, but by its own time limit */
    assert_int_equal(wait_reply(2000), 1);
    json_t *err = json_object_get(got.reply, "error");
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        "no result within 100 ms");
    assert_int_equal(json_integer_value(json_object_get(got.reply, "id")), 2);
    assert_int_equal(sb_mi_async_done(first, json_null()), SB_ENOENT);
    assert_int_equal(sb_mi_async_done(held, json_null()), SB_ENOENT);
}

/* ---- many calls racing their completers and the time limit -------------------------------- */

static void *race_completer(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    pthread_mutex_lock(&race.lock);
    for (;;) {
        while (race.head == race.tail && !race.stop)
            pthread_cond_wait(&race.cond, &race.lock);
        if (race.head == race.tail)
            break;
        struct sb_mi_async *a = race.q[race.head].a;
        uint64_t at = race.q[race.head++].at_us, now = now_us();
        pthread_mutex_unlock(&race.lock);
        if (at > now)
            usleep((useconds_t)(at - now));
        int rc = rand_r(&seed) % 3 ? sb_mi_async_done(a, json_string("won"))
                                   : sb_mi_async_error(a, 486, "busy");
        pthread_mutex_lock(&race.lock);
        if (rc == 0)
            race.won++;
        else if (rc == SB_ENOENT)
            race.lost++;
    }
    pthread_mutex_unlock(&race.lock);
    return NULL;
}

#define RACE_CLIENTS  3
#define RACE_REQUESTS 120 /* per client; every 4th is a batch of two racy calls and a now */

/* One request of a client: its reply, from whichever thread delivered it. */
struct race_req {
    pthread_mutex_t lock;
    unsigned calls;
    json_t *reply;
};

static void race_reply(void *arg, json_t *reply)
{
    struct race_req *r = arg;
    pthread_mutex_lock(&r->lock);
    r->calls++;
    json_decref(r->reply);
    r->reply = reply;
    pthread_mutex_unlock(&r->lock);
}

static void *race_client(void *arg)
{
    struct race_req *reqs = arg;
    for (unsigned i = 0; i < RACE_REQUESTS; i++) {
        char text[256];
        if (i % 4 == 3)
            snprintf(text, sizeof(text),
                     "[{\"jsonrpc\":\"2.0\",\"method\":\"racy\",\"id\":%u},"
                     "{\"jsonrpc\":\"2.0\",\"method\":\"now\",\"id\":\"n\"},"
                     "{\"jsonrpc\":\"2.0\",\"method\":\"racy\",\"id\":%u}]",
                     i, i + 1000);
        else
            snprintf(text, sizeof(text), "{\"jsonrpc\":\"2.0\",\"method\":\"racy\",\"id\":%u}", i);
        json_t *reply = NULL;
        int rc = sb_mi_handle_async(text, strlen(text), race_reply, &reqs[i], &reply);
        if (rc == 0)
            race_reply(&reqs[i], reply);
        else if (rc < 0)
            return NULL; /* the main thread finds the request unanswered */
        usleep(300);     /* keeps the completers near their schedule */
    }
    return NULL;
}

/* A racy call's reply: its id, and either the winner's answer or the time limit's error.
 * Returns 1 when a completer won, 0 when the time limit answered, -1 when it is wrong. */
static int race_outcome(json_t *r, json_int_t id)
{
    if (json_integer_value(json_object_get(r, "id")) != id)
        return -1;
    json_t *res = json_object_get(r, "result");
    json_t *err = json_object_get(r, "error");
    if (res)
        return json_is_string(res) && !strcmp(json_string_value(res), "won") ? 1 : -1;
    const char *msg = json_string_value(json_object_get(err, "message"));
    json_int_t code = json_integer_value(json_object_get(err, "code"));
    if (code == 486 && msg && !strcmp(msg, "busy"))
        return 1;
    if (code == SB_MI_SERVER_ERROR && msg && !strcmp(msg, "no result within 3 ms"))
        return 0;
    return -1;
}

static void test_completers_race_time_limit(void **state)
{
    (void)state;
    race.head = race.tail = 0;
    race.stop = false;
    race.won = race.lost = 0;
    race.seed = 7;
    pthread_t comp[2], cli[RACE_CLIENTS];
    struct race_req *reqs = calloc(RACE_CLIENTS * RACE_REQUESTS, sizeof(*reqs));
    assert_non_null(reqs);
    for (unsigned i = 0; i < RACE_CLIENTS * RACE_REQUESTS; i++)
        pthread_mutex_init(&reqs[i].lock, NULL);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&comp[i], NULL, race_completer, (void *)(uintptr_t)(i + 1)),
                         0);
    for (unsigned i = 0; i < RACE_CLIENTS; i++)
        assert_int_equal(pthread_create(&cli[i], NULL, race_client, &reqs[i * RACE_REQUESTS]), 0);
    for (unsigned i = 0; i < RACE_CLIENTS; i++)
        pthread_join(cli[i], NULL);
    pthread_mutex_lock(&race.lock);
    race.stop = true;
    pthread_cond_broadcast(&race.cond);
    pthread_mutex_unlock(&race.lock);
    for (unsigned i = 0; i < 2; i++)
        pthread_join(comp[i], NULL);
    /* every completer has given its reference back; the time limit answers what is left */
    uint64_t until = sb_now_ms() + 2000;
    while (sb_mi_async_pending() && sb_now_ms() < until)
        usleep(1000);
    assert_int_equal(sb_mi_async_pending(), 0);

    unsigned calls = 0, won = 0, timed_out = 0;
    for (unsigned k = 0; k < RACE_CLIENTS * RACE_REQUESTS; k++) {
        unsigned i = k % RACE_REQUESTS;
        struct race_req *r = &reqs[k];
        pthread_mutex_lock(&r->lock);
        assert_int_equal(r->calls, 1); /* answered once, never twice */
        json_t *reply = r->reply;
        r->reply = NULL;
        pthread_mutex_unlock(&r->lock);
        int o[2];
        unsigned n = 1;
        if (i % 4 == 3) {
            assert_int_equal(json_array_size(reply), 3); /* in the order of the batch */
            o[0] = race_outcome(json_array_get(reply, 0), i);
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(reply, 1), "result")), "now");
            o[1] = race_outcome(json_array_get(reply, 2), i + 1000);
            n = 2;
        } else {
            o[0] = race_outcome(reply, i);
        }
        for (unsigned j = 0; j < n; j++) {
            assert_int_not_equal(o[j], -1);
            won += o[j] == 1;
            timed_out += o[j] == 0;
        }
        calls += n;
        json_decref(reply);
        pthread_mutex_destroy(&r->lock);
    }
    free(reqs);
    /* one answer per call: a completer's (the other one refused) or the time limit's (both
     * refused) */
    assert_int_equal(won + timed_out, calls);
    assert_int_equal(race.won, won);
    assert_int_equal(race.won + race.lost, 2 * calls);
    /* the delays straddle the limit: both outcomes happen (not a flaky bound: 0..6 ms vs 3) */
    assert_true(won > 0);
    assert_true(timed_out > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_completion_from_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_then_late_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_completion_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_completed_inside_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_error_after_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_waits_for_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_notification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_entry_points_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_answers_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reinit_during_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_completers_race_time_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
