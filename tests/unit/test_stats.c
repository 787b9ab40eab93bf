/* SPDX-License-Identifier: BSD-2-Clause */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sb/stats.h"

static int teardown(void **state)
{
    (void)state;
    sb_stats_destroy();
    return 0;
}

static void test_register_find(void **state)
{
    (void)state;
    sb_stat_t a = sb_stat_register("core", "rcv_requests", 0, NULL);
    sb_stat_t b = sb_stat_register("tm", "UAS_transactions", 0, NULL);
    assert_true(a > 0 && b > 0 && a != b);
    assert_int_equal(sb_stat_register("core", "rcv_requests", 0, NULL), a); /* same id again */
    assert_int_equal(sb_stat_register("core", "bad:name", 0, NULL), 0);
    assert_int_equal(sb_stat_register("", "x", 0, NULL), 0);
    assert_int_equal(sb_stat_count(), 2);
    assert_string_equal(sb_stat_group(b), "tm");
    assert_string_equal(sb_stat_name(b), "UAS_transactions");
    assert_int_equal(sb_stat_find_full((sb_str){"tm:UAS_transactions", 19}), b);
    assert_int_equal(sb_stat_find_full((sb_str){"rcv_requests", 12}), a);
    assert_int_equal(sb_stat_find_full((sb_str){"tm:rcv_requests", 15}), 0);
    assert_null(sb_stat_name(99));
    sb_stat_inc(0); /* no statistic: nothing happens */
}

static sb_stat_t shared_id;

static void *worker(void *arg)
{
    sb_stats_worker_start((unsigned)(uintptr_t)arg);
    for (int i = 0; i < 100000; i++)
        sb_stat_inc(shared_id);
    sb_stats_worker_exit();
    return NULL;
}

static void test_workers_sum_and_reset(void **state)
{
    (void)state;
    shared_id = sb_stat_register("core", "fwd_requests", 0, NULL);
    sb_stat_add(shared_id, 5); /* before the slots exist: kept */
    assert_int_equal(sb_stats_init(2), 0);
    pthread_t t[2];
    for (uintptr_t i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    sb_stat_add(shared_id, 3); /* control thread: the shared slot */
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(sb_stat_get(shared_id), 200008);
    sb_stat_reset(shared_id);
    assert_int_equal(sb_stat_get(shared_id), 0);
    sb_stat_add(shared_id, 2);
    assert_int_equal(sb_stat_get(shared_id), 2);
}

static int64_t computed(void)
{
    return 42;
}

static void test_gauges(void **state)
{
    (void)state;
    sb_stat_t g = 0, c = 0;
    const struct sb_stat_def defs[] = {
        {.name = "registered_users", .flags = SB_STAT_GAUGE | SB_STAT_NO_RESET, .id = &g},
        {.name = "computed", .flags = SB_STAT_GAUGE, .get = computed, .id = &c},
        {.name = NULL},
    };
    assert_int_equal(sb_stat_register_defs("usrloc", defs), 0);
    assert_true(g > 0 && c > 0);
    sb_stat_inc(g);
    sb_stat_inc(g);
    sb_stat_dec(g);
    assert_int_equal(sb_stat_get(g), 1);
    sb_stat_reset(g); /* NO_RESET */
    assert_int_equal(sb_stat_get(g), 1);
    assert_int_equal(sb_stat_get(c), 42);
    assert_true(sb_stat_flags(g) & SB_STAT_GAUGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_register_find, teardown),
        cmocka_unit_test_teardown(test_workers_sum_and_reset, teardown),
        cmocka_unit_test_teardown(test_gauges, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
