/* SPDX-License-Identifier: BSD-2-Clause */
/* The database layer's datetime text against the C library's gmtime_r/strftime, over the range
 * it accepts (years 1000 to 9999, where %Y has four digits), years below 1000 zero-padded, and the
 * fallback outside 0 to 9999. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sb/db.h"

static void expect_libc(time_t t)
{
    char want[32], got[20];
    struct tm tm;
    assert_non_null(gmtime_r(&t, &tm));
    strftime(want, sizeof want, "%Y-%m-%d %H:%M:%S", &tm);
    sb_db_time_format(t, got);
    assert_string_equal(got, want);
    /* and back */
    time_t back = 0;
    assert_int_equal(sb_db_time_parse(got, strlen(got), &back), 0);
    assert_int_equal(back, t);
}

static void test_matches_libc(void **state)
{
    (void)state;
    static const time_t fixed[] = {
        0,
        -1,
        1,
        86399,
        86400,
        951782400, /* 2000-02-29 */
        951868800,
        1700000000,
        4102444799,
        -2208988800,
        253402300799 /* 9999-12-31 23:59:59 */,
        -30610224000 /* 1000-01-01 */,
        68256000 /* 1972-03-01 */,
        1709164800 /* 2024-02-29 */,
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        expect_libc(fixed[i]);
    /* every day from 1600 to 2500 at a moving time of day, and a pseudo-random spread */
    for (int64_t t = -11676096000; t < 16725225600; t += 86400 + 3607)
        expect_libc((time_t)t);
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        expect_libc((time_t)(int64_t)(x % 284012524800ull) - 30610224000);
    }
}

static void test_out_of_range(void **state)
{
    (void)state;
    char got[20];
    sb_db_time_format((time_t)-62167219200, got);
    assert_string_equal(got, "0000-01-01 00:00:00");
    sb_db_time_format((time_t)-59011459200 + 3723, got); /* 0100-01-01 01:02:03 */
    assert_string_equal(got, "0100-01-01 01:02:03");
    sb_db_time_format((time_t)253402300800, got); /* 10000-01-01 */
    assert_string_equal(got, "1970-01-01 00:00:00");
    sb_db_time_format((time_t)-62167219201, got); /* before year 0 */
    assert_string_equal(got, "1970-01-01 00:00:00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_libc),
        cmocka_unit_test(test_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
