/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the printf-free text of the relay's hot path: received/rport values written on
 * the top Via (with and without the transport's address text), the sent-by comparison, our Via. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd/fwd_int.h"
#include "sb/buf.h"
#include "sb/fwd.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/net.h"

static struct sb_socket sock;

static int setup(void **state)
{
    (void)state;
    memset(&sock, 0, sizeof(sock));
    sock.proto = SB_PROTO_UDP;
    assert_int_equal(sb_addr_set(&sock.addr, SB_STR("127.0.0.1"), 5060), 0);
    snprintf(sock.ip, sizeof(sock.ip), "127.0.0.1");
    sock.port = 5060;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sb_fwd_worker_exit(NULL);
    return 0;
}

/* The top Via of a request received from <ip>:<port> once received/rport are recorded. <text>:
 * whether the receive context carries the address text (the transports fill it; contexts built
 * elsewhere may not). */
static void fixed_via(const char *via, const char *ip, uint16_t port, bool text, bool force,
                      char *out, size_t n)
{
    char req[1024];
    snprintf(req, sizeof(req),
             "OPTIONS sip:b@x SIP/2.0\r\nVia: %s\r\nTo: <sip:b@x>\r\nFrom: <sip:a@x>;tag=1\r\n"
             "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
             via);
    struct sb_msg m;
    sb_msg_init(&m, NULL);
    assert_int_equal(sb_msg_parse(&m, req, strlen(req), 0), 0);
    struct sb_rcv r;
    memset(&r, 0, sizeof(r));
    r.sock = &sock;
    assert_int_equal(sb_addr_set(&r.src, sb_str_cstr(ip), port), 0);
    if (text)
        sb_addr_ip(&r.src, r.src_ip);
    assert_int_equal(sb__fwd_via_fix(&m, &r, force), 0);
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_request(&m, NULL, &b), 0);
    b->data[b->len] = '\0';
    char *s = strstr(b->data, "Via: ");
    assert_non_null(s);
    char *e = strstr(s, "\r\n");
    snprintf(out, n, "%.*s", (int)(e - s), s);
    sb_buf_unref(b);
    sb_msg_deinit(&m);
}

static void test_received_text(void **state)
{
    (void)state;
    char v[512];
    for (int text = 0; text < 2; text++) {
        fixed_via("SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK1", "192.0.2.1", 5060, text, false, v,
                  sizeof(v));
        assert_string_equal(v, "Via: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK1;received=192.0.2.1");
        fixed_via("SIP/2.0/UDP 10.0.0.7;branch=z9hG4bK1", "10.0.0.7", 5060, text, false, v,
                  sizeof(v));
        assert_string_equal(v, "Via: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bK1");
        /* the same address written another way is still the source: no received */
        fixed_via("SIP/2.0/UDP [2001:DB8::1];branch=z9hG4bK1", "2001:db8::1", 5060, text, false, v,
                  sizeof(v));
        assert_string_equal(v, "Via: SIP/2.0/UDP [2001:DB8::1];branch=z9hG4bK1");
        fixed_via("SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1", "2001:db8::2", 5060, text, false, v,
                  sizeof(v));
        assert_string_equal(v,
                            "Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1;received=2001:db8::2");
        /* an old received value is replaced by the source address */
        fixed_via("SIP/2.0/UDP h.example;received=10.9.9.9;branch=z9hG4bK1", "198.51.100.200", 5060,
                  text, false, v, sizeof(v));
        assert_string_equal(v,
                            "Via: SIP/2.0/UDP h.example;received=198.51.100.200;branch=z9hG4bK1");
    }
}

static void test_rport_values(void **state)
{
    (void)state;
    char v[512];
    /* an empty rport gets "=port" (RFC3581-4), the widest port too */
    fixed_via("SIP/2.0/UDP 10.0.0.7;rport;branch=z9hG4bK1", "10.0.0.7", 65535, true, false, v,
              sizeof(v));
    assert_string_equal(v,
                        "Via: SIP/2.0/UDP 10.0.0.7;rport=65535;branch=z9hG4bK1;received=10.0.0.7");
    /* a value already there is replaced */
    fixed_via("SIP/2.0/UDP 10.0.0.7;rport=1;branch=z9hG4bK1", "10.0.0.7", 7, true, false, v,
              sizeof(v));
    assert_string_equal(v, "Via: SIP/2.0/UDP 10.0.0.7;rport=7;branch=z9hG4bK1;received=10.0.0.7");
    /* force_rport on a Via without one appends it */
    fixed_via("SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK1", "10.0.0.7", 40000, false, true, v,
              sizeof(v));
    assert_string_equal(
        v, "Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK1;rport=40000;received=10.0.0.7");
}

static void test_via_text(void **state)
{
    (void)state;
    char b[256];
    struct sb_wbuf w;
    snprintf(sock.adv_host, sizeof(sock.adv_host), "proxy.example.com");
    uint16_t ports[] = {1, 5060, 65535};
    const char *want[] = {
        "SIP/2.0/UDP proxy.example.com:1;branch=z9hG4bKx",
        "SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bKx",
        "SIP/2.0/TCP proxy.example.com:65535;branch=z9hG4bKx",
    };
    for (int i = 0; i < 3; i++) {
        sock.adv_port = ports[i];
        sb_wbuf_init(&w, b, sizeof(b));
        assert_int_equal(sb_via_make(&w, &sock, i == 2 ? SB_PROTO_TCP : 0, SB_STR("z9hG4bKx")), 0);
        assert_int_equal(w.len, strlen(want[i]));
        assert_memory_equal(b, want[i], w.len);
    }
    /* too small a buffer is an error, not a cut Via */
    sb_wbuf_init(&w, b, 20);
    assert_int_equal(sb_via_make(&w, &sock, 0, SB_STR("z9hG4bKx")), SB_ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_received_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rport_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_via_text, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
