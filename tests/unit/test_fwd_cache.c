/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the per-worker caches of stateless forwarding: forward() destinations (script
 * argument, URI, literal address) and our Via prefix must follow every change of destination,
 * transport and socket, also past the caches' capacity. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd/fwd_int.h"
#include "mod/core_fns.h"
#include "sb/fwd.h"
#include "sb/msg.h"
#include "sb/net.h"
#include "tp/tp_int.h"

#define REQ                                                                                        \
    "OPTIONS sip:bob@example.com SIP/2.0\r\n"                                                      \
    "Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKcache1\r\n"                                    \
    "Max-Forwards: 70\r\n"                                                                         \
    "To: Bob <sip:bob@example.com>\r\n"                                                            \
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                                       \
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"                                                 \
    "CSeq: 314159 OPTIONS\r\n"                                                                     \
    "Content-Length: 0\r\n\r\n"

static struct sb_socket udp_sock, tcp_sock;

/* what the last send carried */
static struct {
    unsigned n;
    uint8_t proto;
    const struct sb_socket *sock;
    char ip[SB_IP_STRLEN];
    uint16_t port;
    char text[2048];
} sent;

static int capture(const struct sb_dest *d, const struct iovec *iov, int n_iov)
{
    sent.n++;
    sent.proto = d->proto;
    sent.sock = d->sock;
    sb_addr_ip(&d->to, sent.ip);
    sent.port = sb_addr_port(&d->to);
    size_t at = 0;
    for (int i = 0; i < n_iov; i++) {
        assert_true(at + iov[i].iov_len < sizeof(sent.text));
        memcpy(sent.text + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    sent.text[at] = '\0';
    return 0;
}

static void make_sock(struct sb_socket *s, uint8_t proto, const char *ip, uint16_t port)
{
    memset(s, 0, sizeof(*s));
    s->proto = proto;
    assert_int_equal(sb_addr_set(&s->addr, sb_str_cstr(ip), port), 0);
    snprintf(s->ip, sizeof(s->ip), "%s", ip);
    s->port = port;
    snprintf(s->adv_host, sizeof(s->adv_host), "%s", ip);
    s->adv_port = port;
}

struct env {
    struct sb_msg m;
    char *text;
    struct sb_rcv r;
    struct sb_route_state rs;
    struct sb_arena scratch;
    struct sb_sctx ctx;
};

static int setup(void **state)
{
    make_sock(&udp_sock, SB_PROTO_UDP, "127.0.0.1", 5060);
    make_sock(&tcp_sock, SB_PROTO_TCP, "127.0.0.1", 5070);
    sb__tp_set_send_hook(capture);
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->text = strdup(REQ);
    sb_msg_init(&e->m, NULL);
    assert_int_equal(sb_msg_parse(&e->m, e->text, strlen(e->text), 0), 0);
    e->r.sock = &udp_sock;
    assert_int_equal(sb_addr_set(&e->r.src, SB_STR("127.0.0.1"), 40000), 0);
    snprintf(e->r.src_ip, sizeof(e->r.src_ip), "127.0.0.1");
    e->r.peer = (struct sb_peer){
        .src_ip = sb_str_cstr(e->r.src_ip), .src_port = 40000, .proto = SB_PROTO_UDP};
    sb_arena_init(&e->scratch, NULL, 0, 0);
    e->ctx =
        (struct sb_sctx){.msg = &e->m, .peer = &e->r.peer, .rs = &e->rs, .scratch = &e->scratch};
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    sb__tp_set_send_hook(NULL);
    sb_arena_deinit(&e->scratch);
    sb_msg_deinit(&e->m);
    free(e->text);
    free(e);
    sb_fwd_worker_exit(NULL);
    return 0;
}

static void want_sent(const char *ip, uint16_t port, const char *via)
{
    if (strcmp(sent.ip, ip) != 0 || sent.port != port)
        fail_msg("sent to %s:%u, expected %s:%u", sent.ip, sent.port, ip, port);
    char line[256];
    snprintf(line, sizeof(line), "\r\nVia: %s;branch=z9hG4bKsb", via);
    if (!strstr(sent.text, line))
        fail_msg("no \"%s\" in:\n%s", line + 2, sent.text);
    /* exactly one Via of ours, on top */
    assert_non_null(strstr(sent.text, "Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKcache1"));
    assert_ptr_equal(strstr(sent.text, "branch=z9hG4bKsb"),
                     strstr(strstr(sent.text, "\r\nVia: ") + 2, "branch=z9hG4bKsb"));
}

/* More URIs than the caches hold, twice round, each send going where its URI says. */
static void test_uri_destinations(void **state)
{
    struct env *e = *state;
    for (int round = 0; round < 2; round++) {
        for (unsigned port = 5091; port <= 5097; port++) {
            char uri[64];
            snprintf(uri, sizeof(uri), "sip:127.0.0.%u:%u", port - 5090, port);
            unsigned n = sent.n;
            e->rs.forwarded = false;
            assert_int_equal(sb_forward(&e->ctx, sb_str_cstr(uri), 0), 1);
            assert_true(e->rs.forwarded);
            assert_int_equal(sent.n, n + 1);
            char ip[16];
            snprintf(ip, sizeof(ip), "127.0.0.%u", port - 5090);
            want_sent(ip, (uint16_t)port, "SIP/2.0/UDP 127.0.0.1:5060");
        }
    }
    /* the same host and port, the default port, another transport: not taken for one another */
    assert_int_equal(sb_forward(&e->ctx, SB_STR("sip:127.0.0.1"), 0), 1);
    want_sent("127.0.0.1", 5060, "SIP/2.0/UDP 127.0.0.1:5060");
    assert_int_equal(sb_forward(&e->ctx, SB_STR("sip:127.0.0.1:5093"), 0), 1);
    want_sent("127.0.0.1", 5093, "SIP/2.0/UDP 127.0.0.1:5060");
    e->rs.send_sock = &tcp_sock;
    assert_int_equal(sb_forward(&e->ctx, SB_STR("sip:127.0.0.1:5093;transport=tcp"), 0), 1);
    assert_int_equal(sent.proto, SB_PROTO_TCP);
    assert_ptr_equal(sent.sock, &tcp_sock);
    want_sent("127.0.0.1", 5093, "SIP/2.0/TCP 127.0.0.1:5070");
    e->rs.send_sock = NULL;
    assert_int_equal(sb_forward(&e->ctx, SB_STR("sip:127.0.0.1:5093"), 0), 1);
    assert_int_equal(sent.proto, SB_PROTO_UDP);
    want_sent("127.0.0.1", 5093, "SIP/2.0/UDP 127.0.0.1:5060");
    /* maddr overrides the host (RFC 3263 §4.1), also for a URI seen before without it */
    assert_int_equal(sb_forward(&e->ctx, SB_STR("sip:127.0.0.1:5093;maddr=127.0.0.9"), 0), 1);
    want_sent("127.0.0.9", 5093, "SIP/2.0/UDP 127.0.0.1:5060");
}

static sb_res script_forward(struct env *e, const char *arg)
{
    struct sb_arg a[1] = {{.present = true, .v = {.type = SB_VAL_STR, .s = sb_str_cstr(arg)}}};
    return sb__cf_forward(&e->ctx, a);
}

/* forward("[proto:]host[:port]") as scripts write it, past the argument cache's capacity. */
static void test_script_destinations(void **state)
{
    struct env *e = *state;
    for (int round = 0; round < 2; round++) {
        for (unsigned port = 5081; port <= 5086; port++) {
            char arg[64];
            snprintf(arg, sizeof(arg), "%s127.0.0.%u:%u", port & 1 ? "udp:" : "", port - 5080,
                     port);
            sb_res r = script_forward(e, arg);
            assert_int_equal(r.ctl, sb_res_true().ctl);
            assert_int_equal(r.code, sb_res_true().code);
            char ip[16];
            snprintf(ip, sizeof(ip), "127.0.0.%u", port - 5080);
            want_sent(ip, (uint16_t)port, "SIP/2.0/UDP 127.0.0.1:5060");
        }
    }
    assert_int_equal(script_forward(e, "127.0.0.4").code, sb_res_true().code);
    want_sent("127.0.0.4", 5060, "SIP/2.0/UDP 127.0.0.1:5060");
    e->rs.send_sock = &tcp_sock;
    assert_int_equal(script_forward(e, "tcp:127.0.0.4:5084").code, sb_res_true().code);
    assert_int_equal(sent.proto, SB_PROTO_TCP);
    want_sent("127.0.0.4", 5084, "SIP/2.0/TCP 127.0.0.1:5070");
    e->rs.send_sock = NULL;
    assert_int_equal(script_forward(e, "127.0.0.4:5084").code, sb_res_true().code);
    assert_int_equal(sent.proto, SB_PROTO_UDP);
    want_sent("127.0.0.4", 5084, "SIP/2.0/UDP 127.0.0.1:5060");
    /* a bad destination stays one, also after good ones were cached */
    unsigned n = sent.n;
    assert_int_equal(script_forward(e, "127.0.0.4:99999").code, sb_res_false().code);
    assert_int_equal(sent.n, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_uri_destinations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_script_destinations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
