/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for sb_via_parse: RFC 3261 §20.42 and §24 examples, RFC 4475 torture values, RFC 5118
 * IPv6 Vias, RFC 3581 rport, comments and malformed via-parms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sb/base.h"
#include "sb/hdr.h"
#include "sb/uri.h"

/* <v> must equal the literal <lit>; a NULL <lit> means the view must be absent. */
static void check_sv(sb_str v, const char *lit, const char *file, int line)
{
    if (lit == NULL) {
        if (v.p != NULL || v.len != 0) {
            print_error("expected an absent view, got \"%.*s\"\n", (int)v.len, v.p ? v.p : "");
            _fail(file, line);
        }
        return;
    }
    if (v.p == NULL || v.len != strlen(lit) || memcmp(v.p, lit, v.len) != 0) {
        print_error("expected \"%s\", got %s\"%.*s\"\n", lit, v.p ? "" : "(absent) ", (int)v.len,
                    v.p ? v.p : "");
        _fail(file, line);
    }
}
#define assert_sv(v, lit) check_sv((v), (lit), __FILE__, __LINE__)

static int parse(const char *s, struct sb_via *v)
{
    return sb_via_parse(sb_str_cstr(s), v);
}

static void ok(const char *s, struct sb_via *v, const char *file, int line)
{
    int rc = parse(s, v);
    if (rc != 0) {
        print_error("sb_via_parse(\"%s\") = %d, expected 0\n", s, rc);
        _fail(file, line);
    }
}
#define assert_via_ok(s, v) ok((s), (v), __FILE__, __LINE__)

static void bad(const char *s, const char *file, int line)
{
    struct sb_via v;
    int rc = parse(s, &v);
    if (rc != SB_EPARSE) {
        print_error("sb_via_parse(\"%s\") = %d, expected SB_EPARSE\n", s, rc);
        _fail(file, line);
    }
}
#define assert_via_bad(s) bad((s), __FILE__, __LINE__)

/* RFC3261-20.42: the first example, with every field checked. */
static void test_rfc3261_basic(void **state)
{
    (void)state;
    const char *s = "SIP/2.0/UDP erlang.bell-telephone.com:5060;branch=z9hG4bK87asdks7";
    struct sb_via v;
    assert_via_ok(s, &v);
    assert_ptr_equal(v.raw.p, s);
    assert_int_equal(v.raw.len, strlen(s));
    assert_sv(v.proto_name, "SIP");
    assert_sv(v.proto_ver, "2.0");
    assert_sv(v.transport, "UDP");
    assert_int_equal(v.proto, SB_PROTO_UDP);
    assert_sv(v.host, "erlang.bell-telephone.com");
    assert_int_equal(v.host_kind, SB_HOST_NAME);
    assert_sv(v.port, "5060");
    assert_int_equal(v.port_no, 5060);
    assert_sv(v.params, "branch=z9hG4bK87asdks7");
    assert_sv(v.branch, "z9hG4bK87asdks7");
    assert_sv(v.received, NULL);
    assert_sv(v.rport, NULL);
    assert_false(v.has_rport);
    assert_sv(v.maddr, NULL);
    assert_sv(v.ttl, NULL);
    assert_sv(v.comment, NULL);
}

/* RFC3261-20.42: SWS before ';' and a received parameter. */
static void test_rfc3261_received(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP/2.0/UDP 192.0.2.1:5060 ;received=192.0.2.207 ;branch=z9hG4bK77asjd", &v);
    assert_sv(v.host, "192.0.2.1");
    assert_int_equal(v.host_kind, SB_HOST_IPV4);
    assert_int_equal(v.port_no, 5060);
    assert_sv(v.params, "received=192.0.2.207 ;branch=z9hG4bK77asjd");
    assert_sv(v.received, "192.0.2.207");
    assert_sv(v.branch, "z9hG4bK77asjd");
}

/* RFC3261-20.42: LWS around both SLASHes and after the COLON, ttl and maddr. */
static void test_rfc3261_lws_ttl_maddr(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP / 2.0 / UDP first.example.com: 4000;ttl=16 ;maddr=224.2.0.1 "
                  ";branch=z9hG4bKa7c6a8dlze.1",
                  &v);
    assert_sv(v.proto_name, "SIP");
    assert_sv(v.proto_ver, "2.0");
    assert_sv(v.transport, "UDP");
    assert_sv(v.host, "first.example.com");
    assert_sv(v.port, "4000");
    assert_int_equal(v.port_no, 4000);
    assert_sv(v.ttl, "16");
    assert_sv(v.maddr, "224.2.0.1");
    assert_sv(v.branch, "z9hG4bKa7c6a8dlze.1");
}

/* RFC3261-24.2: Vias of the basic call flow, as a proxy sees them in the 180 and 200. */
static void test_rfc3261_flows(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bK4b43c2ff8.1", &v);
    assert_sv(v.host, "server10.biloxi.com");
    assert_sv(v.port, NULL);
    assert_int_equal(v.port_no, 0);
    assert_sv(v.branch, "z9hG4bK4b43c2ff8.1");

    assert_via_ok("SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1"
                  ";received=192.0.2.2",
                  &v);
    assert_sv(v.branch, "z9hG4bK77ef4c2312983.1");
    assert_sv(v.received, "192.0.2.2");

    assert_via_ok("SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7"
                  ";received=192.0.2.4",
                  &v);
    assert_sv(v.host, "bobspc.biloxi.com");
    assert_int_equal(v.port_no, 5060);
    assert_sv(v.received, "192.0.2.4");
}

/* RFC4475-3.1.1.1 wsinv: the three Via values after unfolding and list splitting. */
static void test_rfc4475_wsinv(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw", &v);
    assert_sv(v.proto_name, "SIP");
    assert_sv(v.proto_ver, "2.0");
    assert_sv(v.transport, "UDP");
    assert_sv(v.host, "192.0.2.2");
    assert_sv(v.branch, "390skdjuw");

    assert_via_ok("SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8", &v);
    assert_sv(v.transport, "TCP");
    assert_int_equal(v.proto, SB_PROTO_TCP);
    assert_sv(v.host, "spindle.example.com");
    assert_sv(v.params, "branch  =   z9hG4bK9ikj8");
    assert_sv(v.branch, "z9hG4bK9ikj8");

    assert_via_ok("SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239", &v);
    assert_sv(v.host, "192.168.255.111");
    assert_sv(v.branch, "z9hG4bK30239");
}

/* RFC4475-3.1.1.1 wsinv: the same values with their folds still in place are LWS too. */
static void test_rfc4475_wsinv_folded(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw", &v);
    assert_sv(v.proto_ver, "2.0");
    assert_sv(v.transport, "UDP");
    assert_sv(v.host, "192.0.2.2");
    assert_sv(v.branch, "390skdjuw");

    assert_via_ok("SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239", &v);
    assert_sv(v.branch, "z9hG4bK30239");

    /* a bare CR or LF is not a fold */
    assert_via_bad("SIP/2.0/UDP\rhost.example.com");
    assert_via_bad("SIP/2.0/UDP\nhost.example.com");
    assert_via_bad("SIP/2.0/UDP\r\nhost.example.com");
}

/* RFC4475-3.1.1.10 transports: unknown transports are valid and keep their token. */
static void test_rfc4475_transports(void **state)
{
    (void)state;
    static const struct {
        const char *in, *transport;
        uint8_t proto;
    } cases[] = {
        {"SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw", "UDP", SB_PROTO_UDP},
        {"SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf", "SCTP", SB_PROTO_SCTP},
        {"SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj", "TLS", SB_PROTO_TLS},
        {"SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en", "UNKNOWN", SB_PROTO_OTHER},
        {"SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee", "TCP", SB_PROTO_TCP},
        {"SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks", "WS", SB_PROTO_WS},
        {"sip/2.0/wss h.example.com", "wss", SB_PROTO_WSS},
        {"SIP/2.0/DTLS-SCTP h.example.com", "DTLS-SCTP", SB_PROTO_OTHER},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        struct sb_via v;
        assert_via_ok(cases[i].in, &v);
        assert_sv(v.transport, cases[i].transport);
        assert_int_equal(v.proto, cases[i].proto);
    }
}

/* RFC4475-3.1.1.2 intmeth, 3.1.1.5 esc02, 3.2.1 badbranch, 3.4.1 inv2543, 3.1.2.16 badvers,
 * 3.3.10 bcast and 3.1.1.7 longreq: odd but well-formed Vias. */
static void test_rfc4475_valid(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~", &v);
    assert_sv(v.branch, "z9hG4bK-.!%66*_+`'~");

    assert_via_ok("SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234", &v);
    assert_sv(v.branch, "z9hG4bK209%fzsnel234");

    assert_via_ok("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK", &v);
    assert_sv(v.branch, "z9hG4bK");

    assert_via_ok("SIP/2.0/UDP iftgw.example.com", &v);
    assert_sv(v.host, "iftgw.example.com");
    assert_sv(v.params, NULL);
    assert_sv(v.branch, NULL);

    /* the version is the caller's to refuse (505), not a syntax error */
    assert_via_ok("SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw", &v);
    assert_sv(v.proto_ver, "7.0");

    assert_via_ok("SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23", &v);
    assert_sv(v.host, "255.255.255.255");
    assert_int_equal(v.host_kind, SB_HOST_IPV4);

    char longv[600];
    char branch[400];
    memset(branch, 'g', sizeof(branch) - 1);
    branch[sizeof(branch) - 1] = '\0';
    snprintf(longv, sizeof(longv), "SIP/2.0/TCP host.example.com;received=192.0.2.5;branch=%s",
             branch);
    assert_via_ok(longv, &v);
    assert_sv(v.received, "192.0.2.5");
    assert_sv(v.branch, branch);
}

/* RFC4475-3.1.2.1 badinv01: "Via: SIP/2.0/UDP 192.0.2.15;;,;,," splits into four bad values. */
static void test_rfc4475_badinv01(void **state)
{
    (void)state;
    assert_via_bad("SIP/2.0/UDP 192.0.2.15;;");
    assert_via_bad(";");
    assert_via_bad("");
    assert_via_bad("   ");
}

/* RFC5118-4.1, 4.7, 4.9: IPv6 references in sent-by keep their brackets. */
static void test_rfc5118_ipv6_sent_by(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111", &v);
    assert_sv(v.host, "[2001:db8::9:1]");
    assert_int_equal(v.host_kind, SB_HOST_IPV6);
    assert_sv(v.port, NULL);
    assert_sv(v.branch, "z9hG4bKas3-111");

    assert_via_ok("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111", &v);
    assert_sv(v.host, "[2001:db8::9:1]");
    assert_sv(v.port, "6050");
    assert_int_equal(v.port_no, 6050);

    assert_via_ok("SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200", &v);
    assert_sv(v.host, "[2001:db8::9:255]");
    assert_sv(v.received, "192.0.2.200");

    assert_via_ok("SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19", &v);
    assert_sv(v.host, "[::ffff:192.0.2.10]");
    assert_int_equal(v.host_kind, SB_HOST_IPV6);
    assert_int_equal(v.port_no, 19823);
}

/* RFC5118-4.5: received carries an IPv6 address with or without brackets; both are accepted. */
static void test_rfc5118_received(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111",
                  &v);
    assert_sv(v.received, "[2001:db8::9:255]");
    assert_sv(v.branch, "z9hG4bKas3-111");

    assert_via_ok("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3", &v);
    assert_sv(v.received, "2001:db8::9:255");
    assert_sv(v.branch, "z9hG4bKas3");

    assert_via_bad("SIP/2.0/UDP h.example.com;received=[2001:db8:::9]");
    assert_via_bad("SIP/2.0/UDP h.example.com;received=2001:db8:::9");
    assert_via_bad("SIP/2.0/UDP h.example.com;received=host.example.com");
    assert_via_bad("SIP/2.0/UDP h.example.com;received=192.0.2.256");
    assert_via_bad("SIP/2.0/UDP h.example.com;received");
    assert_via_bad("SIP/2.0/UDP h.example.com;received=\"192.0.2.1\"");
}

/* RFC 4291 §2.2: IPv6 text is validated; RFC5118-4.10: a third colon is tolerated only where
 * RFC 3261's ABNF derives it, between "::" and a final dotted quad. */
static void test_ipv6_text(void **state)
{
    (void)state;
    static const char *const good[] = {
        "[2001:db8::192.0.2.1]",
        "[2001:db8:::192.0.2.1]",
        "[:::192.0.2.1]",
        "[1:2:3:4:5:::192.0.2.1]",
        "[::]",
        "[::1]",
        "[1::]",
        "[1:2:3:4:5:6:7:8]",
        "[1:2:3:4:5:6:7::]",
        "[::2:3:4:5:6:7:8]",
        "[1:2:3:4:5:6:192.0.2.1]",
        "[::ffff:1.2.3.4]",
        "[ABCD:ef01::]",
        "[fe80::0000:1]",
    };
    static const char *const badv[] = {
        "[2001:db8:::1]",
        "[2001:db8:::]",
        "[1:::2]",
        "[::::192.0.2.1]",
        "[1::::192.0.2.1]",
        "[1:2:3:4:5:6:::192.0.2.1]",
        "[2001:db8:::192.0.2]",
        "[1:2:3:4:5:6:7:8:9]",
        "[1::2::3]",
        "[12345::1]",
        "[::ffff:192.0.2.256]",
        "[]",
        "[1:2:3:4:5:6:7]",
        "[:1::]",
        "[1:]",
        "[:::]",
        "[fe80::1%eth0]",
        "[1:2:3:4:5:6:7:192.0.2.1]",
        "[192.0.2.1]",
        "[::1.2.3]",
        "[::g]",
        "[2001:db8::1",
        "2001:db8::1",
        "[1:2:3:4:5:6:7:8::]",
    };
    char buf[128];
    struct sb_via v;
    for (size_t i = 0; i < SB_ARRAY_LEN(good); i++) {
        snprintf(buf, sizeof(buf), "SIP/2.0/UDP %s;branch=z9hG4bK1", good[i]);
        assert_via_ok(buf, &v);
        assert_sv(v.host, good[i]);
        assert_int_equal(v.host_kind, SB_HOST_IPV6);
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(badv); i++) {
        snprintf(buf, sizeof(buf), "SIP/2.0/UDP %s;branch=z9hG4bK1", badv[i]);
        assert_via_bad(buf);
    }
}

/* RFC3581-3/4: rport bare in the request, valued in the response. */
static void test_rfc3581_rport(void **state)
{
    (void)state;
    const char *s = "SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff";
    struct sb_via v;
    assert_via_ok(s, &v);
    assert_true(v.has_rport);
    assert_non_null(v.rport.p);
    assert_int_equal(v.rport.len, 0);
    assert_true(v.rport.p >= s && v.rport.p <= s + strlen(s));
    assert_sv(v.branch, "z9hG4bKkjshdyff");

    assert_via_ok("SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988"
                  ";branch=z9hG4bKkjshdyff",
                  &v);
    assert_true(v.has_rport);
    assert_sv(v.rport, "9988");
    assert_sv(v.received, "192.0.2.1");

    assert_via_ok("SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;RPort", &v);
    assert_true(v.has_rport);
    assert_int_equal(v.rport.len, 0);

    assert_via_ok("SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1", &v);
    assert_false(v.has_rport);
    assert_sv(v.rport, NULL);

    assert_via_bad("SIP/2.0/UDP 10.1.1.1;rport=");
    assert_via_bad("SIP/2.0/UDP 10.1.1.1;rport=abc");
    assert_via_bad("SIP/2.0/UDP 10.1.1.1;rport=65536");
}

/* A trailing comment: kept with its parentheses, not part of the parameters. */
static void test_comment(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP/2.0/UDP host.example.com;branch=z9hG4bK1 (a comment)", &v);
    assert_sv(v.params, "branch=z9hG4bK1");
    assert_sv(v.branch, "z9hG4bK1");
    assert_sv(v.comment, "(a comment)");

    assert_via_ok("SIP/2.0/UDP host.example.com:5060 (nested (comment) \\) here)", &v);
    assert_sv(v.port, "5060");
    assert_sv(v.params, NULL);
    assert_sv(v.comment, "(nested (comment) \\) here)");

    assert_via_ok("SIP/2.0/UDP host.example.com(tight)", &v);
    assert_sv(v.host, "host.example.com");
    assert_sv(v.comment, "(tight)");

    /* a '(' inside a quoted parameter value does not open the comment */
    assert_via_ok("SIP/2.0/UDP h.example.com;x=\"a (b\";branch=z9hG4bK2 (c)", &v);
    assert_sv(v.params, "x=\"a (b\";branch=z9hG4bK2");
    assert_sv(v.branch, "z9hG4bK2");
    assert_sv(v.comment, "(c)");

    assert_via_ok("SIP/2.0/UDP h.example.com;x=\"a (b)\"", &v);
    assert_sv(v.params, "x=\"a (b)\"");
    assert_sv(v.comment, NULL);

    assert_via_bad("SIP/2.0/UDP host.example.com;branch=z9hG4bK1 (unclosed");
    assert_via_bad("SIP/2.0/UDP host.example.com;branch=z9hG4bK1 (a) junk");
    assert_via_bad("SIP/2.0/UDP host.example.com;branch=z9hG4bK1 (a))");
    assert_via_bad("SIP/2.0/UDP host.example.com;branch=z9hG4bK1 (a)(b)");
    assert_via_bad("SIP/2.0/UDP host.example.com;branch=z9hG4bK1 ( \\");
    assert_via_bad("SIP/2.0/UDP host.example.com (ctl \x01)");
    assert_via_bad("SIP/2.0/UDP host.example.com;branch=z9hG4bK1 )");
    assert_via_bad("SIP/2.0/UDP host.example.com; (c)");
}

/* via-ttl and via-maddr values are checked. */
static void test_ttl_maddr(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP/2.0/UDP h.example.com;ttl=0", &v);
    assert_sv(v.ttl, "0");
    assert_via_ok("SIP/2.0/UDP h.example.com;ttl=255;maddr=[2001:db8::1]", &v);
    assert_sv(v.ttl, "255");
    assert_sv(v.maddr, "[2001:db8::1]");
    assert_via_ok("SIP/2.0/UDP h.example.com;maddr=sip.example.com.", &v);
    assert_sv(v.maddr, "sip.example.com.");

    assert_via_bad("SIP/2.0/UDP h.example.com;ttl=256");
    assert_via_bad("SIP/2.0/UDP h.example.com;ttl=0016");
    assert_via_bad("SIP/2.0/UDP h.example.com;ttl=");
    assert_via_bad("SIP/2.0/UDP h.example.com;ttl");
    assert_via_bad("SIP/2.0/UDP h.example.com;ttl=1a");
    assert_via_bad("SIP/2.0/UDP h.example.com;maddr=-bad.example.com");
    assert_via_bad("SIP/2.0/UDP h.example.com;maddr=[::1::]");
    assert_via_bad("SIP/2.0/UDP h.example.com;maddr");
}

/* via-extension = generic-param; names compare case-insensitively; the first duplicate wins. */
static void test_generic_params(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP/2.0/UDP h.example.com;alias;x=\"quoted; value\";BRANCH=z9hG4bKup;"
                  "i=[2001:db8::1];keep=1",
                  &v);
    assert_sv(v.branch, "z9hG4bKup");
    assert_sv(v.params, "alias;x=\"quoted; value\";BRANCH=z9hG4bKup;i=[2001:db8::1];keep=1");

    assert_via_ok("SIP/2.0/UDP h.example.com;branch=z9hG4bKfirst;branch=z9hG4bKsecond", &v);
    assert_sv(v.branch, "z9hG4bKfirst");

    assert_via_bad("SIP/2.0/UDP h.example.com;branch");
    assert_via_bad("SIP/2.0/UDP h.example.com;branch=");
    assert_via_bad("SIP/2.0/UDP h.example.com;branch=\"z9hG4bK1\"");
    assert_via_bad("SIP/2.0/UDP h.example.com;branch=a:b");
    assert_via_bad("SIP/2.0/UDP h.example.com;branch=z9hG4bK1;branch");
    assert_via_bad("SIP/2.0/UDP h.example.com;=x");
    assert_via_bad("SIP/2.0/UDP h.example.com;;branch=z9hG4bK1");
    assert_via_bad("SIP/2.0/UDP h.example.com;branch=z9hG4bK1;");
    assert_via_bad("SIP/2.0/UDP h.example.com;branch=a b");
    assert_via_bad("SIP/2.0/UDP h.example.com;x=\"unterminated");
}

/* sent-by port: 0..65535, COLON = SWS ":" SWS. */
static void test_port(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP/2.0/UDP h.example.com:0", &v);
    assert_sv(v.port, "0");
    assert_int_equal(v.port_no, 0);
    assert_via_ok("SIP/2.0/UDP h.example.com:65535", &v);
    assert_int_equal(v.port_no, 65535);
    assert_via_ok("SIP/2.0/UDP h.example.com : 5062 ;branch=z9hG4bK1", &v);
    assert_sv(v.host, "h.example.com");
    assert_sv(v.port, "5062");
    assert_int_equal(v.port_no, 5062);
    assert_via_ok("SIP/2.0/UDP 192.0.2.1:05060", &v);
    assert_int_equal(v.port_no, 5060);

    assert_via_bad("SIP/2.0/UDP h.example.com:65536");
    assert_via_bad("SIP/2.0/UDP h.example.com:99999999999999999999999");
    assert_via_bad("SIP/2.0/UDP h.example.com:");
    assert_via_bad("SIP/2.0/UDP h.example.com:;branch=z9hG4bK1");
    assert_via_bad("SIP/2.0/UDP h.example.com:abc");
    assert_via_bad("SIP/2.0/UDP h.example.com:50 60");
    assert_via_bad("SIP/2.0/UDP h.example.com:-1");
    assert_via_bad("SIP/2.0/UDP [2001:db8::1]:");
}

/* sent-by host: hostname, IPv4address or IPv6reference, nothing else. */
static void test_host(void **state)
{
    (void)state;
    struct sb_via v;
    assert_via_ok("SIP/2.0/UDP example.com.", &v);
    assert_sv(v.host, "example.com.");
    assert_int_equal(v.host_kind, SB_HOST_NAME);
    assert_via_ok("SIP/2.0/UDP 123host.example.com", &v);
    assert_int_equal(v.host_kind, SB_HOST_NAME);
    assert_via_ok("SIP/2.0/UDP localhost", &v);
    assert_sv(v.host, "localhost");
    assert_via_ok("SIP/2.0/UDP a-b.c-d.example", &v);
    assert_sv(v.host, "a-b.c-d.example");
    assert_via_ok("SIP/2.0/UDP Host.Example.COM;Branch=z9hG4bKx", &v);
    assert_sv(v.host, "Host.Example.COM");
    assert_sv(v.branch, "z9hG4bKx");

    static const char *const badh[] = {
        "host_1.example.com", "-bad.example.com", "bad-.example.com", "a..b",
        ".example.com",       "192.0.2",          "192.0.2.1.5",      "192.0.2.256",
        "1.2.3.4.",           "host.123",         "exa mple.com",     "ex@mple.com",
        "[2001:db8::1]x",
    };
    char buf[128];
    for (size_t i = 0; i < SB_ARRAY_LEN(badh); i++) {
        snprintf(buf, sizeof(buf), "SIP/2.0/UDP %s;branch=z9hG4bK1", badh[i]);
        assert_via_bad(buf);
    }
}

/* sent-protocol: three tokens; the LWS before sent-by is mandatory. */
static void test_sent_protocol_errors(void **state)
{
    (void)state;
    assert_via_bad("SIP/2.0 host.example.com;branch=z9hG4bK1");
    assert_via_bad("SIP/2.0/ host.example.com");
    assert_via_bad("SIP//UDP host.example.com");
    assert_via_bad("/2.0/UDP host.example.com");
    assert_via_bad("SIP/2.0/UDPhost.example.com");
    assert_via_bad("SIP/2.0/UDP[2001:db8::1]");
    assert_via_bad("SIP/2.0/UDP");
    assert_via_bad("SIP/2.0/UDP ");
    assert_via_bad("SIP 2.0/UDP host.example.com");
    assert_via_bad("SIP/2.0/UDP/X host.example.com");
    assert_via_bad("SIP/2.0/UDP host.example.com, SIP/2.0/UDP other.example.com");
    assert_via_bad("SIP/2.0/UDP host.example.com junk");
    assert_via_bad("SIP/2.0/UDP host.example.com ;");
    assert_via_bad("SIP/2.0/U\"DP host.example.com");
}

/* The value is trimmed defensively; <raw> is the via-parm itself. */
static void test_trim(void **state)
{
    (void)state;
    const char *s = "  SIP/2.0/UDP h.example.com;branch=z9hG4bK1 \t";
    struct sb_via v;
    assert_via_ok(s, &v);
    assert_sv(v.raw, "SIP/2.0/UDP h.example.com;branch=z9hG4bK1");
    assert_sv(v.branch, "z9hG4bK1");
}

/* The input need not be NUL-terminated: nothing past <len> is read. */
static void test_not_terminated(void **state)
{
    (void)state;
    const char buf[] = "SIP/2.0/UDP h.example.com;branch=z9hG4bK1;rportXYZ";
    struct sb_via v;
    assert_int_equal(sb_via_parse(sb_str_make(buf, sizeof(buf) - 1 - 3), &v), 0);
    assert_true(v.has_rport);
    assert_int_equal(v.rport.len, 0);
    assert_sv(v.branch, "z9hG4bK1");
    assert_int_equal(sb_via_parse(sb_str_make(buf, 12), &v), SB_EPARSE); /* no sent-by yet */
    assert_int_equal(sb_via_parse(sb_str_make(buf, 13), &v), 0);
    assert_sv(v.host, "h");
    assert_int_equal(sb_via_parse(sb_str_make(buf, 14), &v), 0);
    assert_sv(v.host, "h.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3261_basic),
        cmocka_unit_test(test_rfc3261_received),
        cmocka_unit_test(test_rfc3261_lws_ttl_maddr),
        cmocka_unit_test(test_rfc3261_flows),
        cmocka_unit_test(test_rfc4475_wsinv),
        cmocka_unit_test(test_rfc4475_wsinv_folded),
        cmocka_unit_test(test_rfc4475_transports),
        cmocka_unit_test(test_rfc4475_valid),
        cmocka_unit_test(test_rfc4475_badinv01),
        cmocka_unit_test(test_rfc5118_ipv6_sent_by),
        cmocka_unit_test(test_rfc5118_received),
        cmocka_unit_test(test_ipv6_text),
        cmocka_unit_test(test_rfc3581_rport),
        cmocka_unit_test(test_comment),
        cmocka_unit_test(test_ttl_maddr),
        cmocka_unit_test(test_generic_params),
        cmocka_unit_test(test_port),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_sent_protocol_errors),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_not_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
