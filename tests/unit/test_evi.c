/* SPDX-License-Identifier: BSD-2-Clause */
/* The event interface: registry, event_route with $param(name), raise_event from the script,
 * subscribers on a UDP socket and a TCP listener, expiry and the queue limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "sb/base.h"
#include "sb/evi.h"
#include "sb/script.h"
#include "sb/worker.h"

static const char *CFG = "route { exit; }\n"
                         "event_route[E_TEST] {\n"
                         "    $avp(n) = \"got_str\"; $avp(v) = $param(s);\n"
                         "    $avp(n) = \"got_int\"; $avp(v) = $param(i) + 1;\n"
                         "    raise_event(\"E_ECHO\", $avp(n), $avp(v));\n"
                         "}\n";

static struct sb_script *script;

static int setup(void **state)
{
    (void)state;
    struct sb_diag d;
    sb_diag_init(&d);
    int rc = sb_script_load_text("evi.cfg", CFG, strlen(CFG), &d, &script);
    if (rc != 0)
        sb_diag_print(&d, stderr);
    sb_diag_free(&d);
    if (rc != 0)
        return -1;
    atomic_store(&sb_rt.script, script);
    return sb_evi_enable_socket(SB_EVI_SOCK_UDP) || sb_evi_enable_socket(SB_EVI_SOCK_TCP);
}

static int teardown(void **state)
{
    (void)state;
    sb_evi_shutdown();
    atomic_store(&sb_rt.script, NULL);
    sb_script_free(script);
    return 0;
}

static int udp_listener(char *sock, size_t cap)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    getsockname(fd, (struct sockaddr *)&a, &l);
    snprintf(sock, cap, "udp:127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}

static int tcp_listener(char *sock, size_t cap, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 4), 0);
    getsockname(fd, (struct sockaddr *)&a, &l);
    snprintf(sock, cap, "tcp:127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}

/* One datagram within <ms>, NUL-terminated; "" when none came. */
static void recv_within(int fd, char *buf, size_t cap, int ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    buf[0] = '\0';
    if (poll(&pf, 1, ms) == 1) {
        ssize_t n = recv(fd, buf, cap - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
    }
}

static void test_registry(void **state)
{
    (void)state;
    sb_evi_id a, b, c;
    assert_int_equal(sb_evi_find(SB_STR("E_CORE_THRESHOLD")), 1);
    assert_string_equal(sb_evi_name(1), "E_CORE_THRESHOLD");
    assert_int_equal(sb_evi_register("E_UNIT_ONE", &a), 0);
    assert_int_equal(sb_evi_register("E_UNIT_TWO", &b), 0);
    assert_int_not_equal(a, b);
    assert_int_equal(sb_evi_register("E_UNIT_ONE", &c), 0);
    assert_int_equal(a, c);
    assert_int_equal(sb_evi_find(SB_STR("E_UNIT_TWO")), b);
    assert_int_equal(sb_evi_find(SB_STR("E_UNIT_THREE")), 0);
    assert_int_equal(sb_evi_register("UNIT", NULL), SB_EINVAL);
    assert_int_equal(sb_evi_register("E_bad-name", NULL), SB_EINVAL);
    assert_int_equal(sb_evi_register("E_", NULL), SB_EINVAL);
    /* the script's raise_event registered its constant name when it was checked */
    assert_int_not_equal(sb_evi_find(SB_STR("E_ECHO")), 0);
    assert_int_equal(sb_evi_raise(0, NULL), SB_ENOENT);
    assert_int_equal(sb_evi_raise(SB_EVI_MAX + 1, NULL), SB_ENOENT);
}

/* Raising E_TEST runs its event_route with $param(s) and $param(i), which raises E_ECHO with
 * what it read: the UDP subscriber of E_ECHO sees the values pass through the script. */
static void test_route_params_and_udp(void **state)
{
    (void)state;
    char sock[64], buf[2048];
    int fd = udp_listener(sock, sizeof(sock));
    sb_evi_id test;
    assert_int_equal(sb_evi_register("E_TEST", &test), 0);
    const char *err = NULL;
    assert_int_equal(sb_evi_subscribe(SB_STR("E_ECHO"), sb_str_cstr(sock), 0, &err), 0);
    assert_true(sb_evi_wanted(sb_evi_find(SB_STR("E_ECHO"))));
    assert_true(sb_evi_wanted(test)); /* it has an event_route */

    struct sb_evi_params p = {0};
    assert_int_equal(sb_evi_param_str(&p, "s", SB_STR("abc \"q\"")), 0);
    assert_int_equal(sb_evi_param_int(&p, "i", 41), 0);
    assert_int_equal(sb_evi_raise(test, &p), 0);
    recv_within(fd, buf, sizeof(buf), 2000);
    assert_string_equal(buf, "{\"jsonrpc\":\"2.0\",\"method\":\"E_ECHO\",\"params\":{\"got_str\":"
                             "\"abc \\\"q\\\"\",\"got_int\":42}}");
    assert_int_equal(sb_evi_unsubscribe(SB_STR("E_ECHO"), sb_str_cstr(sock)), 0);
    assert_int_equal(sb_evi_unsubscribe(SB_STR("E_ECHO"), sb_str_cstr(sock)), SB_ENOENT);
    assert_int_equal(sb_evi_raise(test, &p), 0);
    recv_within(fd, buf, sizeof(buf), 200);
    assert_string_equal(buf, "");
    close(fd);
}

static void test_tcp_stream(void **state)
{
    (void)state;
    char sock[64], buf[4096];
    int lfd = tcp_listener(sock, sizeof(sock), 0);
    sb_evi_id ev;
    assert_int_equal(sb_evi_register("E_UNIT_STREAM", &ev), 0);
    assert_int_equal(sb_evi_subscribe(SB_STR("E_UNIT_STREAM"), sb_str_cstr(sock), 60, NULL), 0);
    for (int i = 0; i < 2; i++) {
        struct sb_evi_params p = {0};
        sb_evi_param_int(&p, "n", i);
        assert_int_equal(sb_evi_raise(ev, &p), 0);
    }
    assert_int_equal(sb_evi_flush(3000), 0);
    int c = accept(lfd, NULL, NULL);
    assert_true(c >= 0);
    size_t len = 0;
    const char *want = "{\"jsonrpc\":\"2.0\",\"method\":\"E_UNIT_STREAM\",\"params\":{\"n\":0}}\n"
                       "{\"jsonrpc\":\"2.0\",\"method\":\"E_UNIT_STREAM\",\"params\":{\"n\":1}}\n";
    struct pollfd pf = {.fd = c, .events = POLLIN};
    while (len < strlen(want) && poll(&pf, 1, 2000) == 1) {
        ssize_t n = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    assert_string_equal(buf, want);
    close(c);
    close(lfd);
    sb_evi_unsubscribe(SB_STR("E_UNIT_STREAM"), sb_str_cstr(sock));
}

static void test_expiry_and_errors(void **state)
{
    (void)state;
    char sock[64], buf[1024];
    int fd = udp_listener(sock, sizeof(sock));
    sb_evi_id ev;
    assert_int_equal(sb_evi_register("E_UNIT_EXP", &ev), 0);
    const char *err = NULL;
    assert_int_equal(sb_evi_subscribe(SB_STR("E_UNIT_NONE"), sb_str_cstr(sock), 0, &err),
                     SB_ENOENT);
    assert_int_equal(sb_evi_subscribe(SB_STR("E_UNIT_EXP"), SB_STR("udp:host:1"), 0, &err),
                     SB_EPARSE);
    assert_int_equal(sb_evi_subscribe(SB_STR("E_UNIT_EXP"), SB_STR("tls:127.0.0.1:1"), 0, &err),
                     SB_EPARSE);
    assert_int_equal(sb_evi_subscribe(SB_STR("E_UNIT_EXP"), sb_str_cstr(sock), 10, &err), 0);
    assert_int_equal(sb_evi_raise(ev, NULL), 0);
    recv_within(fd, buf, sizeof(buf), 2000);
    assert_string_equal(buf, "{\"jsonrpc\":\"2.0\",\"method\":\"E_UNIT_EXP\",\"params\":{}}");
    /* eleven seconds later the subscription is gone */
    sb_evi_set_clock_skew(11);
    assert_int_equal(sb_evi_raise(ev, NULL), 0);
    recv_within(fd, buf, sizeof(buf), 300);
    assert_string_equal(buf, "");
    assert_false(sb_evi_wanted(ev));
    sb_evi_set_clock_skew(0);
    close(fd);
}

/* A stream subscriber that never reads stalls the sender on a large notification; meanwhile the
 * queue takes its limit and the rest are dropped and counted, without the raiser waiting. */
static void test_queue_limit(void **state)
{
    (void)state;
    char sock[64];
    int lfd = tcp_listener(sock, sizeof(sock), 4096);
    sb_evi_id ev;
    assert_int_equal(sb_evi_register("E_UNIT_FLOOD", &ev), 0);
    assert_int_equal(sb_evi_subscribe(SB_STR("E_UNIT_FLOOD"), sb_str_cstr(sock), 0, NULL), 0);
    size_t big_len = 8u << 20;
    char *big = malloc(big_len);
    assert_non_null(big);
    memset(big, 'x', big_len);
    struct sb_evi_params p = {0};
    sb_evi_param_str(&p, "blob", sb_str_make(big, big_len));
    sb_evi_set_queue_max(3);
    uint64_t dropped = sb_evi_dropped();
    assert_int_equal(sb_evi_raise(ev, &p), 0);
    usleep(300 * 1000); /* the sender takes it and blocks on the full connection */
    struct sb_evi_params small = {0};
    for (int i = 0; i < 10; i++)
        assert_int_equal(sb_evi_raise(ev, &small), 0);
    assert_int_equal(sb_evi_dropped() - dropped, 7);
    close(lfd);
    assert_int_equal(sb_evi_flush(10000), 0);
    sb_evi_set_queue_max(0);
    sb_evi_unsubscribe(SB_STR("E_UNIT_FLOOD"), sb_str_cstr(sock));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),    cmocka_unit_test(test_route_params_and_udp),
        cmocka_unit_test(test_tcp_stream),  cmocka_unit_test(test_expiry_and_errors),
        cmocka_unit_test(test_queue_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
