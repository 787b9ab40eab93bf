/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for socket addresses (include/sb/net.h): literal parsing, formatting, comparison. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "sb/base.h"
#include "sb/net.h"

static void test_ip4(void **state)
{
    (void)state;
    struct sb_addr a;
    char ip[SB_IP_STRLEN];
    assert_int_equal(sb_addr_set(&a, SB_STR("192.0.2.1"), 5060), 0);
    assert_int_equal(sb_addr_family(&a), AF_INET);
    assert_int_equal(a.len, sizeof(struct sockaddr_in));
    assert_int_equal(ntohl(a.u.sin.sin_addr.s_addr), 0xC0000201u);
    assert_int_equal(sb_addr_port(&a), 5060);
    assert_int_equal(sb_addr_ip(&a, ip), 9);
    assert_string_equal(ip, "192.0.2.1");
    sb_addr_set_port(&a, 5080);
    assert_int_equal(ntohs(a.u.sin.sin_port), 5080);
    assert_int_equal(sb_addr_port(&a), 5080);
}

static void test_ip6(void **state)
{
    (void)state;
    struct sb_addr a, b;
    char ip[SB_IP_STRLEN];
    assert_int_equal(sb_addr_set(&a, SB_STR("[2001:db8::1]"), 5061), 0);
    assert_int_equal(sb_addr_family(&a), AF_INET6);
    assert_int_equal(a.len, sizeof(struct sockaddr_in6));
    assert_int_equal(a.u.sin6.sin6_addr.s6_addr[0], 0x20);
    assert_int_equal(a.u.sin6.sin6_addr.s6_addr[1], 0x01);
    assert_int_equal(a.u.sin6.sin6_addr.s6_addr[15], 0x01);
    assert_int_equal(sb_addr_port(&a), 5061);
    sb_addr_ip(&a, ip);
    assert_string_equal(ip, "2001:db8::1");
    /* the same address written out in full */
    assert_int_equal(sb_addr_set(&b, SB_STR("2001:0db8:0:0:0:0:0:0001"), 5061), 0);
    assert_true(sb_addr_eq(&a, &b));
    assert_int_equal(sb_addr_set(&b, SB_STR("::ffff:192.0.2.1"), 1), 0);
    sb_addr_ip(&b, ip);
    assert_string_equal(ip, "::ffff:192.0.2.1");
    assert_int_equal(sb_addr_set(&b, SB_STR("fe80::1%1"), 1), 0);
    assert_int_equal(b.u.sin6.sin6_scope_id, 1);
}

static void test_invalid(void **state)
{
    (void)state;
    struct sb_addr a;
    const char *bad[] = {
        "",     "example.com", "192.0.2", "192.0.2.256", "192.0.2.1.1", "[192.0.2.1]", "[::1",
        "::1]", "1::2::3",     "::g",     "192.0.2.1 ",  "[]",          "fe80::1%"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        a.len = 99;
        assert_int_equal(sb_addr_set(&a, sb_str_cstr(bad[i]), 1), SB_EPARSE);
        assert_int_equal(a.len, 0);
        assert_int_equal(sb_addr_family(&a), 0);
    }
    assert_int_equal(sb_addr_set(&a, SB_STR_NULL, 1), SB_EPARSE);
    /* a view is not NUL-terminated: only its bytes count */
    assert_int_equal(sb_addr_set(&a, (sb_str){"10.0.0.1234", 8}, 7), 0);
    char ip[SB_IP_STRLEN];
    sb_addr_ip(&a, ip);
    assert_string_equal(ip, "10.0.0.1");
}

static void test_eq(void **state)
{
    (void)state;
    struct sb_addr a, b, c, d;
    assert_int_equal(sb_addr_set(&a, SB_STR("10.0.0.1"), 5060), 0);
    assert_int_equal(sb_addr_set(&b, SB_STR("10.0.0.1"), 5062), 0);
    assert_int_equal(sb_addr_set(&c, SB_STR("10.0.0.2"), 5060), 0);
    assert_int_equal(sb_addr_set(&d, SB_STR("::ffff:10.0.0.1"), 5060), 0);
    assert_true(sb_addr_ip_eq(&a, &b));
    assert_false(sb_addr_eq(&a, &b));
    assert_false(sb_addr_ip_eq(&a, &c));
    assert_false(sb_addr_eq(&a, &d)); /* different families are different addresses */
    sb_addr_set_port(&b, 5060);
    assert_true(sb_addr_eq(&a, &b));
    struct sb_addr unset = {0};
    assert_false(sb_addr_eq(&unset, &unset));
    assert_int_equal(sb_addr_port(&unset), 0);
}

static void test_from_sa(void **state)
{
    (void)state;
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(7000)};
    s6.sin6_addr.s6_addr[15] = 1;
    struct sb_addr a;
    sb_addr_from_sa(&a, (struct sockaddr *)&s6, sizeof(s6));
    char ip[SB_IP_STRLEN];
    sb_addr_ip(&a, ip);
    assert_string_equal(ip, "::1");
    assert_int_equal(sb_addr_port(&a), 7000);
    /* too short for its family: unset */
    sb_addr_from_sa(&a, (struct sockaddr *)&s6, sizeof(struct sockaddr_in));
    assert_int_equal(sb_addr_family(&a), 0);
    struct sockaddr_in s4 = {
        .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(0x7f000001)};
    sb_addr_from_sa(&a, (struct sockaddr *)&s4, sizeof(s4));
    sb_addr_ip(&a, ip);
    assert_string_equal(ip, "127.0.0.1");
    assert_int_equal(sb_addr_port(&a), 9);
}

static void test_is_ip(void **state)
{
    (void)state;
    assert_true(sb_is_ip4(SB_STR("127.0.0.1")));
    assert_true(sb_is_ip4(SB_STR("0.0.0.0")));
    assert_false(sb_is_ip4(SB_STR("127.0.0")));
    assert_false(sb_is_ip4(SB_STR("127.0.0.1a")));
    assert_false(sb_is_ip4(SB_STR("::1")));
    assert_false(sb_is_ip4(SB_STR("host.example")));
    assert_false(sb_is_ip4(SB_STR("")));
    assert_true(sb_is_ip6(SB_STR("::1")));
    assert_true(sb_is_ip6(SB_STR("[::1]")));
    assert_true(sb_is_ip6(SB_STR("2001:db8::10:1")));
    assert_true(sb_is_ip6(SB_STR("::ffff:1.2.3.4")));
    assert_false(sb_is_ip6(SB_STR("[::1")));
    assert_false(sb_is_ip6(SB_STR("1.2.3.4")));
    assert_false(sb_is_ip6(SB_STR("2001:db8::g")));
    assert_false(sb_is_ip6(SB_STR("")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip4), cmocka_unit_test(test_ip6),     cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_eq),  cmocka_unit_test(test_from_sa), cmocka_unit_test(test_is_ip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
