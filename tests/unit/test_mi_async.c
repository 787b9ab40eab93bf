/* SPDX-License-Identifier: BSD-2-Clause */
/* Asynchronous management commands: completion from another thread while the management lock is
 * free, the time limit, late and double completions refused, batches, notifications, shutdown. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

static const struct sb_mi_cmd cmds[] = {
    {.name = "later", .recipes = {{.fn = t_later, .params = {NULL}}}},
    {.name = "now", .recipes = {{.fn = t_now, .params = {NULL}}}},
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
