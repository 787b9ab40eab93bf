/* SPDX-License-Identifier: BSD-2-Clause */
/* The parser's shortcuts against the general paths they stand in for: dotted quads in URIs and
 * Vias (accepted, refused, or handed on to the hostname rules), Via branch and name-addr tag
 * values that are not tokens, transports, rport values, and a To that repeats the Request-URI
 * (its parse taken from the Request-URI's, every view inside the To's own text). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sb/base.h"
#include "sb/hdr.h"
#include "sb/msg.h"
#include "sb/uri.h"

static bool str_is(sb_str s, const char *lit)
{
    return s.p && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static int uri(const char *text, struct sb_uri *u)
{
    return sb_uri_parse((sb_str){text, strlen(text)}, u);
}

static void test_uri_ipv4(void **state)
{
    (void)state;
    struct sb_uri u;
    assert_int_equal(uri("sip:bob@127.0.0.1:5060;transport=udp", &u), 0);
    assert_int_equal(u.host_kind, SB_HOST_IPV4);
    assert_true(str_is(u.host, "127.0.0.1"));
    assert_int_equal(u.port_no, 5060);
    assert_true(str_is(u.transport, "udp"));
    assert_int_equal(uri("sip:255.255.255.255", &u), 0);
    assert_int_equal(u.host_kind, SB_HOST_IPV4);
    assert_true(str_is(u.host, "255.255.255.255"));
    assert_int_equal(uri("sip:001.02.3.4?x=y", &u), 0);
    assert_true(str_is(u.host, "001.02.3.4"));
    assert_true(str_is(u.headers, "x=y"));

    /* out of range, too many digits or parts, trailing dot: refused as before */
    const char *bad[] = {"sip:256.1.1.1",  "sip:1.2.3.1000", "sip:1.2.3.4.5", "sip:1.2.3.4.",
                         "sip:1.2.3",      "sip:1..2.3",     "sip:1.2.3.4-x", "sip:1.2.3.4a",
                         "sip:1.2.3.4%41", "sip:1.2.3.4 "};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        if (uri(bad[i], &u) != SB_EPARSE)
            fail_msg("%s parsed", bad[i]);
    }
    /* a name that starts like an address still goes by the hostname rules */
    assert_int_equal(uri("sip:1.2.3.example.com", &u), 0);
    assert_int_equal(u.host_kind, SB_HOST_NAME);
    assert_true(str_is(u.host, "1.2.3.example.com"));
}

static int via(const char *text, struct sb_via *v)
{
    return sb_via_parse((sb_str){text, strlen(text)}, v);
}

static void test_via_fast_paths(void **state)
{
    (void)state;
    struct sb_via v;
    assert_int_equal(via("SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK.1-x;rport=05061", &v), 0);
    assert_int_equal(v.host_kind, SB_HOST_IPV4);
    assert_true(str_is(v.host, "10.0.0.1"));
    assert_int_equal(v.port_no, 5062);
    assert_int_equal(v.proto, SB_PROTO_UDP);
    assert_true(str_is(v.transport, "UDP"));
    assert_true(str_is(v.branch, "z9hG4bK.1-x"));
    assert_true(v.has_rport);
    assert_true(str_is(v.rport, "05061"));

    assert_int_equal(via("SIP/2.0/udp 10.0.0.1", &v), 0);
    assert_int_equal(v.proto, SB_PROTO_UDP);
    assert_int_equal(via("SIP/2.0/UDPX 10.0.0.1", &v), 0);
    assert_int_equal(v.proto, SB_PROTO_OTHER);
    assert_int_equal(via("SIP/2.0/TCP host.example.com", &v), 0);
    assert_int_equal(v.proto, SB_PROTO_TCP);
    assert_int_equal(v.host_kind, SB_HOST_NAME);
    assert_int_equal(via("SIP/2.0/UDP 10.0.0.1.example.com;branch=z9hG4bKa", &v), 0);
    assert_int_equal(v.host_kind, SB_HOST_NAME);

    const char *bad[] = {
        "SIP/2.0/UDP 10.0.0.256",
        "SIP/2.0/UDP 10.0.0.1.2",
        "SIP/2.0/UDP 10.0.0.1-a",
        "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK:1",   /* a host-like value, not a token */
        "SIP/2.0/UDP 10.0.0.1;branch=\"z9hG4bK\"", /* quoted */
        "SIP/2.0/UDP 10.0.0.1;branch=[::1]",
        "SIP/2.0/UDP 10.0.0.1;rport=65536",
        "SIP/2.0/UDP 10.0.0.1;rport=5x",
        "SIP/2.0/UDP 10.0.0.1;rport=",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        if (via(bad[i], &v) != SB_EPARSE)
            fail_msg("%s parsed", bad[i]);
    }
    /* a generic parameter may still carry a host with a colon */
    assert_int_equal(via("SIP/2.0/UDP 10.0.0.1;x=a:b;branch=z9hG4bKq", &v), 0);
    assert_true(str_is(v.branch, "z9hG4bKq"));
    assert_true(str_is(v.params, "x=a:b;branch=z9hG4bKq"));
}

static void test_tag_token(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    const char *ok = "<sip:a@10.0.0.1>;x=h:1;tag=ab.c-1";
    assert_int_equal(sb_nameaddr_parse((sb_str){ok, strlen(ok)}, &na), 0);
    assert_true(str_is(na.tag, "ab.c-1"));
    assert_int_equal(na.uri.host_kind, SB_HOST_IPV4);
    const char *bad[] = {"<sip:a@10.0.0.1>;tag=a:b", "<sip:a@10.0.0.1>;tag=\"ab\"",
                         "<sip:a@10.0.0.1>;tag=", "<sip:a@10.0.0.1>;tag"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        if (sb_nameaddr_parse((sb_str){bad[i], strlen(bad[i])}, &na) != SB_EPARSE)
            fail_msg("%s parsed", bad[i]);
    }
}

#define REQ(ruri, to)                                                                              \
    "INVITE " ruri " SIP/2.0\r\n"                                                                  \
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"                                           \
    "From: <sip:a@10.0.0.1>;tag=1\r\n"                                                             \
    "To: " to "\r\n"                                                                               \
    "Call-ID: x@y\r\n"                                                                             \
    "CSeq: 1 INVITE\r\n"                                                                           \
    "Content-Length: 0\r\n"                                                                        \
    "\r\n"

/* every view of <u> lies inside the To field's value */
static void assert_inside(const struct sb_msg *m, const struct sb_uri *u)
{
    const struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_TO);
    const char *v0 = m->buf + h->value.off, *v1 = v0 + h->value.len;
    const sb_str *all[] = {&u->raw,        &u->scheme_str, &u->user,    &u->passwd, &u->host,
                           &u->port,       &u->params,     &u->headers, &u->opaque, &u->transport,
                           &u->user_param, &u->method,     &u->ttl,     &u->maddr};
    for (size_t i = 0; i < SB_ARRAY_LEN(all); i++)
        if (all[i]->p)
            assert_true(all[i]->p >= v0 && all[i]->p + all[i]->len <= v1);
}

static void test_to_repeats_ruri(void **state)
{
    (void)state;
    static const char same[] =
        REQ("sip:bob@10.0.0.2:5070;transport=tcp;maddr=10.0.0.3;lr?h=v",
            "\"Bob\" <sip:bob@10.0.0.2:5070;transport=tcp;maddr=10.0.0.3;lr?h=v>;tag=9");
    struct sb_msg m;
    sb_msg_init(&m, NULL);
    assert_int_equal(sb_msg_parse(&m, same, sizeof(same) - 1, 0), 0);
    assert_int_equal(sb_msg_check(&m), 0);
    const struct sb_nameaddr *to = sb_msg_to(&m);
    const struct sb_uri *ru = sb_msg_ruri(&m);
    assert_non_null(to);
    assert_non_null(ru);
    assert_true(str_is(to->tag, "9"));
    assert_true(str_is(to->display, "Bob"));
    assert_int_equal(to->uri.scheme, SB_URI_SIP);
    assert_int_equal(to->uri.host_kind, SB_HOST_IPV4);
    assert_true(to->uri.lr);
    assert_int_equal(to->uri.port_no, 5070);
    assert_true(str_is(to->uri.user, "bob"));
    assert_true(str_is(to->uri.host, "10.0.0.2"));
    assert_true(str_is(to->uri.transport, "tcp"));
    assert_true(str_is(to->uri.maddr, "10.0.0.3"));
    assert_true(str_is(to->uri.headers, "h=v"));
    assert_true(str_is(to->uri.raw, "sip:bob@10.0.0.2:5070;transport=tcp;maddr=10.0.0.3;lr?h=v"));
    assert_null(to->uri.passwd.p);
    assert_null(to->uri.ttl.p);
    assert_inside(&m, &to->uri);
    assert_true(to->uri.host.p != ru->host.p);

    /* a different To still gets a parse of its own, and a bad one is still refused */
    static const char other[] = REQ("sip:bob@10.0.0.2", "<sip:carol@example.com>");
    assert_int_equal(sb_msg_parse(&m, other, sizeof(other) - 1, 0), 0);
    assert_int_equal(sb_msg_check(&m), 0);
    to = sb_msg_to(&m);
    assert_true(str_is(to->uri.host, "example.com"));
    assert_int_equal(to->uri.host_kind, SB_HOST_NAME);
    assert_inside(&m, &to->uri);

    static const char bad[] = REQ("sip:bob@10.0.0.2", "<sip:bob@10.0.0.2 >");
    assert_int_equal(sb_msg_parse(&m, bad, sizeof(bad) - 1, 0), 0);
    assert_int_equal(sb_msg_check(&m), SB_EPARSE);
    assert_int_equal(m.err.hdr_type, SB_HDR_TO);
    sb_msg_deinit(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_ipv4),
        cmocka_unit_test(test_via_fast_paths),
        cmocka_unit_test(test_tag_token),
        cmocka_unit_test(test_to_repeats_ruri),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
