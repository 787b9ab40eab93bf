/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the core SIP layer: reply destinations (RFC 3261 §18.2.2, RFC 3581), next hops
 * of URIs (RFC 3263 §4), our Via, the stateless branch and to-tag, received/rport, "myself". */
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
#include "sb/uri.h"

#define REQ(method, ruri, via, extra)                                                              \
    method " " ruri " SIP/2.0\r\n"                                                                 \
           "Via: " via "\r\n"                                                                      \
           "Max-Forwards: 70\r\n"                                                                  \
           "To: Bob <sip:bob@example.com>" extra "\r\n"                                            \
           "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                                \
           "Call-ID: a84b4c76e66710@pc33.example.com\r\n"                                          \
           "CSeq: 314159 " method "\r\n"                                                           \
           "Content-Length: 0\r\n\r\n"

static struct sb_socket udp_sock, tcp_sock;

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

static void make_rcv(struct sb_rcv *r, const struct sb_socket *sock, const char *ip, uint16_t port,
                     uint32_t conn)
{
    memset(r, 0, sizeof(*r));
    r->sock = sock;
    assert_int_equal(sb_addr_set(&r->src, sb_str_cstr(ip), port), 0);
    snprintf(r->src_ip, sizeof(r->src_ip), "%s", ip);
    r->conn_id = conn;
    r->peer =
        (struct sb_peer){.src_ip = sb_str_cstr(r->src_ip), .src_port = port, .proto = sock->proto};
}

struct parsed {
    struct sb_msg m;
    char *text;
};

static struct parsed *parse(const char *text)
{
    struct parsed *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    p->text = strdup(text);
    sb_msg_init(&p->m, NULL);
    assert_int_equal(sb_msg_parse(&p->m, p->text, strlen(p->text), 0), 0);
    return p;
}

static void release(struct parsed *p)
{
    sb_msg_deinit(&p->m);
    free(p->text);
    free(p);
}

static void want_addr(const struct sb_addr *a, const char *ip, uint16_t port)
{
    char got[SB_IP_STRLEN];
    sb_addr_ip(a, got);
    if (strcmp(got, ip) != 0 || sb_addr_port(a) != port)
        fail_msg("expected %s:%u, got %s:%u", ip, port, got, sb_addr_port(a));
}

static int setup(void **state)
{
    (void)state;
    make_sock(&udp_sock, SB_PROTO_UDP, "127.0.0.1", 5060);
    make_sock(&tcp_sock, SB_PROTO_TCP, "127.0.0.1", 5060);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sb_fwd_worker_exit(NULL);
    return 0;
}

/* ---- sb_reply_dest ------------------------------------------------------------------------- */

static void dest_of(const char *via, const struct sb_socket *sock, const char *src, uint16_t sport,
                    uint32_t conn, struct sb_dest *d)
{
    char text[1024];
    snprintf(text, sizeof(text), REQ("OPTIONS", "sip:bob@example.com", "%s", ""), via);
    struct parsed *p = parse(text);
    struct sb_rcv r;
    make_rcv(&r, sock, src, sport, conn);
    assert_int_equal(sb_reply_dest(&p->m, &r, d), 0);
    release(p);
}

static void test_reply_dest_udp(void **state)
{
    (void)state;
    struct sb_dest d;
    /* RFC3261-18.2.2: sent-by is the source: its port */
    dest_of("SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK1", &udp_sock, "10.0.0.7", 40000, 0, &d);
    want_addr(&d.to, "10.0.0.7", 5070);
    assert_int_equal(d.proto, SB_PROTO_UDP);
    assert_ptr_equal(d.sock, &udp_sock);
    /* no port in sent-by: 5060 */
    dest_of("SIP/2.0/UDP 10.0.0.7;branch=z9hG4bK1", &udp_sock, "10.0.0.7", 40000, 0, &d);
    want_addr(&d.to, "10.0.0.7", 5060);
    /* a host name sent-by: the received address (the source), the sent-by port */
    dest_of("SIP/2.0/UDP pc33.example.com:5071;branch=z9hG4bK1", &udp_sock, "10.0.0.8", 40000, 0,
            &d);
    want_addr(&d.to, "10.0.0.8", 5071);
    /* RFC3581-4: rport asked: the source port */
    dest_of("SIP/2.0/UDP 10.0.0.7:5070;rport;branch=z9hG4bK1", &udp_sock, "192.0.2.9", 40000, 0,
            &d);
    want_addr(&d.to, "192.0.2.9", 40000);
    /* maddr naming a third party (here a multicast group) is not followed: a forged Via must
     * not aim our replies elsewhere; the source gets the reply */
    dest_of("SIP/2.0/UDP 10.0.0.7:5072;maddr=239.1.1.1;ttl=1;branch=z9hG4bK1", &udp_sock,
            "10.0.0.7", 40000, 0, &d);
    want_addr(&d.to, "10.0.0.7", 5072);
    /* maddr that is the source itself: followed, with the sent-by port */
    dest_of("SIP/2.0/UDP host.example.com:5073;maddr=10.0.0.9;branch=z9hG4bK1", &udp_sock,
            "10.0.0.9", 40000, 0, &d);
    want_addr(&d.to, "10.0.0.9", 5073);
    /* IPv6 sent-by */
    dest_of("SIP/2.0/UDP [2001:db8::9]:5080;branch=z9hG4bK1", &udp_sock, "2001:db8::9", 40000, 0,
            &d);
    want_addr(&d.to, "2001:db8::9", 5080);
}

static void test_reply_dest_tcp(void **state)
{
    (void)state;
    struct sb_dest d;
    /* RFC3261-18.2.2: a stream reply goes back on the connection */
    dest_of("SIP/2.0/TCP 10.0.0.7:5070;branch=z9hG4bK1", &tcp_sock, "10.0.0.7", 41000, 77, &d);
    assert_int_equal(d.proto, SB_PROTO_TCP);
    assert_int_equal(d.conn_id, 77);
    want_addr(&d.to, "10.0.0.7", 41000);
}

static void test_reply_dest_by_via(void **state)
{
    (void)state;
    /* without a receive context (relaying a reply by Via) */
    struct parsed *p = parse(REQ("OPTIONS", "sip:b@x",
                                 "SIP/2.0/UDP h.example.com:5070;branch=z9hG4bK1;"
                                 "received=192.0.2.4;rport=6000",
                                 ""));
    struct sb_dest d;
    assert_int_equal(sb_reply_dest(&p->m, NULL, &d), 0);
    want_addr(&d.to, "192.0.2.4", 6000);
    release(p);
    p = parse(REQ("OPTIONS", "sip:b@x", "SIP/2.0/UDP 192.0.2.5:5070;branch=z9hG4bK1", ""));
    assert_int_equal(sb_reply_dest(&p->m, NULL, &d), 0);
    want_addr(&d.to, "192.0.2.5", 5070);
    release(p);
    p = parse(
        REQ("OPTIONS", "sip:b@x", "SIP/2.0/UDP 192.0.2.5;received=192.0.2.6;branch=z9hG4bK1", ""));
    assert_int_equal(sb_reply_dest(&p->m, NULL, &d), 0);
    want_addr(&d.to, "192.0.2.6", 5060);
    release(p);
    p = parse(REQ("OPTIONS", "sip:b@x", "SIP/2.0/TCP 192.0.2.5:5090;branch=z9hG4bK1", ""));
    assert_int_equal(sb_reply_dest(&p->m, NULL, &d), 0);
    assert_int_equal(d.proto, SB_PROTO_TCP);
    assert_int_equal(d.conn_id, 0);
    want_addr(&d.to, "192.0.2.5", 5090);
    release(p);
}

/* ---- sb_uri_hop ---------------------------------------------------------------------------- */

static void hop(const char *uri, struct sb_hop *h)
{
    struct sb_uri u;
    assert_int_equal(sb_uri_parse(sb_str_cstr(uri), &u), 0);
    assert_int_equal(sb_uri_hop(&u, h), 0);
}

static void want_host(const struct sb_hop *h, const char *host)
{
    if (h->host.len != strlen(host) || memcmp(h->host.p, host, h->host.len) != 0)
        fail_msg("host: expected %s, got %.*s", host, SB_STR_ARG(h->host));
}

static void test_uri_hop(void **state)
{
    (void)state;
    struct sb_hop h;
    hop("sip:bob@example.com", &h);
    want_host(&h, "example.com");
    assert_int_equal(h.port, 0);
    assert_int_equal(h.proto, 0);
    assert_false(h.secure);
    hop("sip:bob@example.com:5070;transport=tcp", &h);
    want_host(&h, "example.com");
    assert_int_equal(h.port, 5070);
    assert_int_equal(h.proto, SB_PROTO_TCP);
    hop("sip:bob@example.com;maddr=192.0.2.1;transport=UDP", &h);
    want_host(&h, "192.0.2.1");
    assert_int_equal(h.proto, SB_PROTO_UDP);
    hop("sips:bob@example.com", &h);
    assert_int_equal(h.proto, SB_PROTO_TLS);
    assert_true(h.secure);
    hop("sips:bob@example.com;transport=tcp", &h);
    assert_int_equal(h.proto, SB_PROTO_TLS);
    hop("sip:[2001:db8::1]:5062", &h);
    want_host(&h, "2001:db8::1");
    assert_int_equal(h.port, 5062);
    struct sb_uri u;
    assert_int_equal(sb_uri_parse(SB_STR("tel:+15551234"), &u), 0);
    assert_int_not_equal(sb_uri_hop(&u, &h), 0);
}

/* ---- our Via ------------------------------------------------------------------------------- */

static void test_via_make(void **state)
{
    (void)state;
    char b[256];
    struct sb_wbuf w;
    struct sb_socket s;
    make_sock(&s, SB_PROTO_UDP, "127.0.0.1", 5060);
    snprintf(s.adv_host, sizeof(s.adv_host), "192.0.2.1");
    s.adv_port = 5090;
    sb_wbuf_init(&w, b, sizeof(b));
    assert_int_equal(sb_via_make(&w, &s, SB_PROTO_UDP, SB_STR("z9hG4bKabc")), 0);
    assert_int_equal(w.len, strlen("SIP/2.0/UDP 192.0.2.1:5090;branch=z9hG4bKabc"));
    assert_memory_equal(b, "SIP/2.0/UDP 192.0.2.1:5090;branch=z9hG4bKabc", w.len);
    snprintf(s.adv_host, sizeof(s.adv_host), "[2001:db8::1]");
    s.proto = SB_PROTO_TCP;
    sb_wbuf_init(&w, b, sizeof(b));
    assert_int_equal(sb_via_make(&w, &s, SB_PROTO_TCP, SB_STR("z9hG4bKx")), 0);
    assert_memory_equal(b, "SIP/2.0/TCP [2001:db8::1]:5090;branch=z9hG4bKx", w.len);
    /* too small: the sticky error comes back */
    sb_wbuf_init(&w, b, 10);
    assert_int_equal(sb_via_make(&w, &s, SB_PROTO_TCP, SB_STR("z9hG4bKx")), SB_ENOSPC);
}

/* ---- the stateless branch ------------------------------------------------------------------ */

static uint64_t key_of(const char *text, const char *ruri)
{
    struct parsed *p = parse(text);
    uint64_t k = sb__fwd_branch_key(&p->m, sb_str_cstr(ruri));
    release(p);
    return k;
}

static void test_branch_stable(void **state)
{
    (void)state;
#define V1 "SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKnashds8"
#define V2 "SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKother1"
    uint64_t inv = key_of(REQ("INVITE", "sip:bob@example.com", V1, ""), "sip:bob@10.0.0.9");
    uint64_t inv2 = key_of(REQ("INVITE", "sip:bob@example.com", V1, ""), "sip:bob@10.0.0.9");
    uint64_t can = key_of(REQ("CANCEL", "sip:bob@example.com", V1, ""), "sip:bob@10.0.0.9");
    uint64_t ack = key_of(REQ("ACK", "sip:bob@example.com", V1, ";tag=xyz"), "sip:bob@10.0.0.9");
    uint64_t other = key_of(REQ("INVITE", "sip:bob@example.com", V2, ""), "sip:bob@10.0.0.9");
    uint64_t other_ruri = key_of(REQ("INVITE", "sip:bob@example.com", V1, ""), "sip:bob@10.0.0.8");
    assert_true(inv == inv2);
    assert_true(inv == can);
    assert_true(inv == ack);
    assert_true(inv != other);
    assert_true(inv != other_ruri);
    /* RFC 2543 branch: Call-ID, From tag, CSeq number decide */
#define V3 "SIP/2.0/UDP 10.0.0.7:5060;branch=old1"
    uint64_t o_inv = key_of(REQ("INVITE", "sip:b@x", V3, ""), "sip:b@x");
    uint64_t o_can = key_of(REQ("CANCEL", "sip:b@x", V3, ""), "sip:b@x");
    assert_true(o_inv == o_can);
    char text[1024];
    snprintf(text, sizeof(text), "%s", REQ("INVITE", "sip:b@x", V3, ""));
    char *cs = strstr(text, "314159");
    cs[5] = '8';
    assert_true(key_of(text, "sip:b@x") != o_inv);
    /* the branch itself: ours, for this worker, same text for the same key */
    char b1[SB_BRANCH_LEN + 1], b2[SB_BRANCH_LEN + 1];
    assert_int_equal(sb_branch_make(b1, sizeof(b1), 3, inv), SB_BRANCH_LEN);
    assert_int_equal(sb_branch_make(b2, sizeof(b2), 3, can), SB_BRANCH_LEN);
    assert_string_equal(b1, b2);
    assert_int_equal(sb_branch_worker(sb_str_cstr(b1)), 3);
}

/* ---- the stateless to-tag ------------------------------------------------------------------ */

static void tag_of(const char *text, char *out)
{
    struct parsed *p = parse(text);
    sb__sl_tag(&p->m, out);
    release(p);
}

static void test_sl_tag(void **state)
{
    (void)state;
    char t1[SB__SL_TAG_LEN + 1], t2[SB__SL_TAG_LEN + 1], t3[SB__SL_TAG_LEN + 1];
    tag_of(REQ("INVITE", "sip:b@x", V1, ""), t1);
    tag_of(REQ("INVITE", "sip:b@x", V1, ""), t2);
    tag_of(REQ("INVITE", "sip:b@x", V2, ""), t3);
    assert_int_equal(strlen(t1), SB__SL_TAG_LEN);
    assert_string_equal(t1, t2);
    assert_string_not_equal(t1, t3);
    assert_true(strncmp(t1, SB__SL_TAG_PREFIX, strlen(SB__SL_TAG_PREFIX)) == 0);
    /* the non-2xx ACK (same branch) carries the tag we computed for the INVITE */
    char t4[SB__SL_TAG_LEN + 1];
    tag_of(REQ("ACK", "sip:b@x", V1, ";tag=zz"), t4);
    assert_string_equal(t1, t4);
    assert_true(sb__sl_tag_is_ours(sb_str_cstr(t1)));
    assert_false(sb__sl_tag_is_ours(SB_STR("a6c85cf")));
    assert_false(sb__sl_tag_is_ours(SB_STR("sbslzzzzzzzzzzzzzzzz")));
}

/* ---- received / rport ---------------------------------------------------------------------- */

/* The Via line of a 200 built for <via> received from <src>:<port>. */
static void reply_via(const char *via, const char *src, uint16_t port, bool force, char *out,
                      size_t n)
{
    char text[1024];
    snprintf(text, sizeof(text), REQ("OPTIONS", "sip:b@x", "%s", ""), via);
    struct parsed *p = parse(text);
    struct sb_rcv r;
    make_rcv(&r, &udp_sock, src, port, 0);
    assert_int_equal(sb__fwd_via_fix(&p->m, &r, false), 0);
    if (force)
        assert_int_equal(sb__fwd_via_fix(&p->m, &r, true), 0);
    /* a second call records nothing twice */
    assert_int_equal(sb__fwd_via_fix(&p->m, &r, force), 0);
    struct sb_reply_opts o = {.code = 200, .to_tag = SB_STR("t1")};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_reply(&p->m, &o, &b), 0);
    char *s = strstr(b->data, "Via: ");
    assert_non_null(s);
    char *e = strstr(s, "\r\n");
    snprintf(out, n, "%.*s", (int)(e - s), s);
    sb_buf_unref(b);
    release(p);
}

static void test_received_rport(void **state)
{
    (void)state;
    char v[512];
    reply_via("SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK1", "10.0.0.7", 5060, false, v, sizeof(v));
    assert_string_equal(v, "Via: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK1");
    reply_via("SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK1", "192.0.2.1", 5060, false, v, sizeof(v));
    assert_string_equal(v, "Via: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bK1;received=192.0.2.1");
    reply_via("SIP/2.0/UDP pc.example.com;branch=z9hG4bK1", "192.0.2.1", 5060, false, v, sizeof(v));
    assert_string_equal(v, "Via: SIP/2.0/UDP pc.example.com;branch=z9hG4bK1;received=192.0.2.1");
    /* RFC3581-4 example: rport filled, received added even when the address is the same */
    reply_via("SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff", "10.1.1.1", 9988, false, v,
              sizeof(v));
    assert_string_equal(v, "Via: SIP/2.0/UDP 10.1.1.1:4540;rport=9988;branch=z9hG4bKkjshdyff;"
                           "received=10.1.1.1");
    reply_via("SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK2;rport", "192.0.2.2", 9988, false, v,
              sizeof(v));
    assert_string_equal(
        v, "Via: SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK2;rport=9988;received=192.0.2.2");
    /* force_rport() on a Via without rport */
    reply_via("SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK3", "10.1.1.1", 9988, true, v, sizeof(v));
    assert_string_equal(
        v, "Via: SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK3;rport=9988;received=10.1.1.1");
    /* IPv6 source: received without brackets */
    reply_via("SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK4", "2001:db8::2", 5060, false, v,
              sizeof(v));
    assert_string_equal(v,
                        "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK4;received=2001:db8::2");
    reply_via("SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK4", "2001:db8::1", 5060, false, v,
              sizeof(v));
    assert_string_equal(v, "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK4");
}

/* ---- myself -------------------------------------------------------------------------------- */

static void test_myself(void **state)
{
    (void)state;
    struct sb_socket a, b;
    make_sock(&a, SB_PROTO_UDP, "127.0.0.1", 5060);
    make_sock(&b, SB_PROTO_TCP, "::1", 5070);
    snprintf(b.adv_host, sizeof(b.adv_host), "[::1]");
    snprintf(a.adv_host, sizeof(a.adv_host), "sip.example.net");
    a.adv_port = 5066;
    const struct sb_socket *socks[] = {&a, &b};
    const char *aliases[] = {"Example.COM", "tcp:proxy.example.org:5080", "[2001:db8::5]:5090",
                             "2001:db8::6"};
#define ME(h, port, proto) sb__is_myself_in(socks, 2, aliases, 4, SB_STR(h), port, proto)
    assert_true(ME("127.0.0.1", 5060, SB_PROTO_UDP));
    assert_true(ME("127.0.0.1", 0, 0));
    assert_false(ME("127.0.0.1", 5061, SB_PROTO_UDP));
    assert_false(ME("127.0.0.1", 5060, SB_PROTO_TCP));
    assert_true(ME("SIP.example.net", 5066, SB_PROTO_UDP));
    assert_false(ME("sip.example.net", 5060, SB_PROTO_UDP));
    assert_true(ME("::1", 5070, SB_PROTO_TCP));
    assert_true(ME("[::1]", 5070, 0));
    assert_true(ME("[0:0::1]", 5070, 0));
    assert_false(ME("::2", 5070, 0));
    /* aliases: no port means any, no transport means any */
    assert_true(ME("example.com", 1234, SB_PROTO_UDP));
    assert_true(ME("proxy.example.org", 5080, SB_PROTO_TCP));
    assert_false(ME("proxy.example.org", 5080, SB_PROTO_UDP));
    assert_false(ME("proxy.example.org", 5081, SB_PROTO_TCP));
    assert_true(ME("2001:db8::5", 5090, 0));
    assert_true(ME("[2001:db8:0::5]", 5090, 0));
    assert_false(ME("2001:db8::5", 5091, 0));
    assert_true(ME("2001:db8::6", 7000, 0));
    assert_false(ME("other.example.com", 0, 0));
    assert_false(ME("", 0, 0));
}

/* ---- sb_receive without sending: absorbed ACKs and counters -------------------------------- */

static void feed(const char *text, const struct sb_rcv *r)
{
    size_t n = strlen(text);
    struct sb_buf *b = sb_buf_new(n);
    memcpy(b->data, text, n);
    b->len = (uint32_t)n;
    sb_receive((struct sb_rcv *)r, b, (uint32_t)n);
    sb_buf_unref(b);
}

static void test_receive_counts(void **state)
{
    (void)state;
    struct sb_rcv r;
    make_rcv(&r, &udp_sock, "127.0.0.1", 40000, 0);
    struct sb_core_stats s0, s1;
    sb_core_stats(&s0);
    uint64_t acks0 = sb_sl_received_acks();

    /* the ACK of one of our stateless replies is absorbed */
    char tag[SB__SL_TAG_LEN + 1];
    tag_of(REQ("INVITE", "sip:b@x", V1, ""), tag);
    char text[1024];
    snprintf(text, sizeof(text), REQ("ACK", "sip:b@x", V1, ";tag=%s"), tag);
    feed(text, &r);
    assert_int_equal(sb_sl_received_acks(), acks0 + 1);
    /* another ACK is not */
    feed(REQ("ACK", "sip:b@x", V1, ";tag=foreign"), &r);
    assert_int_equal(sb_sl_received_acks(), acks0 + 1);

    /* a reply whose top Via is not ours is dropped */
    feed("SIP/2.0 200 OK\r\n"
         "Via: SIP/2.0/UDP 192.0.2.77:5060;branch=z9hG4bKnotours\r\n"
         "To: <sip:b@x>;tag=1\r\nFrom: <sip:a@x>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n",
         &r);
    /* a forged reply: one of our branches, but a sent-by that is not us, and a second Via
     * naming a third party: dropped, never relayed there */
    char br[SB_BRANCH_LEN + 1], forged[1024];
    assert_int_equal(sb_branch_make(br, sizeof(br), 0, 42), SB_BRANCH_LEN);
    snprintf(forged, sizeof(forged),
             "SIP/2.0 200 OK\r\n"
             "Via: SIP/2.0/UDP 192.0.2.78:5060;branch=%s\r\n"
             "Via: SIP/2.0/UDP 198.51.100.9:5060;branch=z9hG4bKvictim\r\n"
             "To: <sip:b@x>;tag=1\r\nFrom: <sip:a@x>;tag=2\r\nCall-ID: c2\r\nCSeq: 1 OPTIONS\r\n"
             "Content-Length: 0\r\n\r\n",
             br);
    feed(forged, &r);
    struct parsed *fp = parse(forged);
    assert_int_equal(sb_forward_reply(&fp->m, &r), SB_EINVAL); /* refused as not ours */
    release(fp);
    /* a broken ACK: counted, never answered */
    feed("ACK sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
         "CSeq: x ACK\r\nContent-Length: 0\r\n\r\n",
         &r);
    sb_core_stats(&s1);
    assert_int_equal(s1.rcv_requests - s0.rcv_requests, 2);
    assert_int_equal(s1.rcv_replies - s0.rcv_replies, 2);
    assert_int_equal(s1.drop_replies - s0.drop_replies, 2);
    assert_int_equal(s1.fwd_replies - s0.fwd_replies, 0);
    assert_int_equal(s1.bad_msg_hdr - s0.bad_msg_hdr, 1);
    assert_int_equal(s1.sl_replies - s0.sl_replies, 0);
}

/* ---- sb_forward's checks before anything is sent -------------------------------------------- */

static void test_forward_checks(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof(text), "%s", REQ("OPTIONS", "sip:b@127.0.0.1", V1, ""));
    char *mf = strstr(text, "Max-Forwards: 70");
    memcpy(mf, "Max-Forwards: 00", 16);
    struct parsed *p = parse(text);
    struct sb_rcv r;
    make_rcv(&r, &udp_sock, "127.0.0.1", 40000, 0);
    struct sb_route_state rs = {0};
    struct sb_arena scratch;
    sb_arena_init(&scratch, NULL, 0, 0);
    struct sb_sctx ctx = {.msg = &p->m, .peer = &r.peer, .rs = &rs, .scratch = &scratch};
    /* RFC3261-16.3 step 2: Max-Forwards 0 is not forwarded */
    assert_int_equal(sb_forward(&ctx, SB_STR("sip:127.0.0.1:5099"), 0), SB_ERANGE);
    assert_false(rs.forwarded);
    /* a URI that names no SIP hop */
    assert_int_not_equal(sb_forward(&ctx, SB_STR("tel:+123"), 0), 1);
    assert_int_equal(sb_forward(&ctx, SB_STR("sip:b@example.com;transport=foo"), 0), SB_EINVAL);
    sb_arena_deinit(&scratch);
    release(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reply_dest_udp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_dest_tcp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_dest_by_via, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_hop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_via_make, setup, teardown),
        cmocka_unit_test_setup_teardown(test_branch_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sl_tag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_received_rport, setup, teardown),
        cmocka_unit_test_setup_teardown(test_myself, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_checks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
