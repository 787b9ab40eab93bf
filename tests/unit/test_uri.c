/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the URI parser and comparison: RFC 3261 §19.1.3/§19.1.4 examples, RFC 4475 and
 * RFC 5118 torture URIs, tel URIs (RFC 3966), opaque schemes, escapes, and URI parameter lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sb/base.h"
#include "sb/uri.h"

/* Expected fields; a NULL string means absent (p == NULL), "" means present but empty. */
struct want {
    uint8_t scheme, host_kind;
    bool lr;
    uint16_t port_no;
    const char *scheme_str, *user, *passwd, *host, *port, *params, *headers, *opaque;
    const char *transport, *user_param, *method, *ttl, *maddr;
};

static void check_view(sb_str v, const char *lit, const char *what, sb_str in, int line)
{
    if (lit == NULL) {
        if (v.p != NULL || v.len != 0)
            fail_msg("line %d: %s: expected absent, got \"%.*s\"", line, what, SB_STR_ARG(v));
        return;
    }
    if (v.p == NULL)
        fail_msg("line %d: %s: expected \"%s\", got absent", line, what, lit);
    if (v.len != strlen(lit) || memcmp(v.p, lit, v.len) != 0)
        fail_msg("line %d: %s: expected \"%s\", got \"%.*s\"", line, what, lit, SB_STR_ARG(v));
    if (v.p < in.p || v.p + v.len > in.p + in.len)
        fail_msg("line %d: %s: view outside the input", line, what);
}

static void uri_ok(const char *s, const struct want *w, int line)
{
    struct sb_uri u;
    memset(&u, 0xa5, sizeof(u));
    sb_str in = sb_str_cstr(s);
    int rc = sb_uri_parse(in, &u);
    if (rc != 0)
        fail_msg("line %d: \"%s\": rc %d", line, s, rc);
    if (u.scheme != w->scheme || u.host_kind != w->host_kind || u.lr != w->lr ||
        u.port_no != w->port_no)
        fail_msg("line %d: \"%s\": scheme/host_kind/lr/port_no %d/%d/%d/%u, expected %d/%d/%d/%u",
                 line, s, u.scheme, u.host_kind, u.lr, u.port_no, w->scheme, w->host_kind, w->lr,
                 w->port_no);
    if (u.raw.p != in.p || u.raw.len != in.len)
        fail_msg("line %d: raw is not the input", line);
#define V(f) check_view(u.f, w->f, #f, in, line)
    V(scheme_str), V(user), V(passwd), V(host), V(port), V(params), V(headers), V(opaque);
    V(transport), V(user_param), V(method), V(ttl), V(maddr);
#undef V
}
#define URI_OK(s, ...) uri_ok((s), &(struct want){__VA_ARGS__}, __LINE__)

static void uri_bad_n(const char *s, size_t n, int line)
{
    struct sb_uri u;
    memset(&u, 0xa5, sizeof(u));
    int rc = sb_uri_parse(sb_str_make(s, n), &u);
    if (rc != SB_EPARSE)
        fail_msg("line %d: \"%.*s\": rc %d, expected SB_EPARSE", line, (int)n, s, rc);
}
#define URI_BAD(s) uri_bad_n((s), strlen(s), __LINE__)

static struct sb_uri parse_at(const char *s, int line)
{
    struct sb_uri u;
    int rc = sb_uri_parse(sb_str_cstr(s), &u);
    if (rc != 0)
        fail_msg("line %d: \"%s\": rc %d", line, s, rc);
    return u;
}

/* Compare both ways; the two directions must agree. */
static bool uri_equal(const char *a, const char *b, int line)
{
    struct sb_uri x = parse_at(a, line), y = parse_at(b, line);
    bool xy = sb_uri_cmp(&x, &y) == 0, yx = sb_uri_cmp(&y, &x) == 0;
    if (xy != yx)
        fail_msg("line %d: cmp not symmetric: \"%s\" vs \"%s\"", line, a, b);
    return xy;
}
#define URI_EQ(a, b)                                                                               \
    do {                                                                                           \
        if (!uri_equal((a), (b), __LINE__))                                                        \
            fail_msg("line %d: expected equal: \"%s\" vs \"%s\"", __LINE__, (a), (b));             \
    } while (0)
#define URI_NE(a, b)                                                                               \
    do {                                                                                           \
        if (uri_equal((a), (b), __LINE__))                                                         \
            fail_msg("line %d: expected different: \"%s\" vs \"%s\"", __LINE__, (a), (b));         \
    } while (0)

#define SIP   SB_URI_SIP
#define SIPS  SB_URI_SIPS
#define TEL   SB_URI_TEL
#define OTHER SB_URI_OTHER
#define NAME  SB_HOST_NAME
#define IPV4  SB_HOST_IPV4
#define IPV6  SB_HOST_IPV6

/* RFC3261-19.1.3: every example URI, field by field. */
static void test_rfc3261_examples(void **state)
{
    (void)state;
    URI_OK("sip:alice@atlanta.com", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .user = "alice", .host = "atlanta.com");
    URI_OK("sip:alice:secretword@atlanta.com;transport=tcp", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .user = "alice", .passwd = "secretword", .host = "atlanta.com",
           .params = "transport=tcp", .transport = "tcp");
    URI_OK("sips:alice@atlanta.com?subject=project%20x&priority=urgent", .scheme = SIPS,
           .host_kind = NAME, .scheme_str = "sips", .user = "alice", .host = "atlanta.com",
           .headers = "subject=project%20x&priority=urgent");
    URI_OK("sip:+1-212-555-1212:1234@gateway.com;user=phone", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .user = "+1-212-555-1212", .passwd = "1234", .host = "gateway.com",
           .params = "user=phone", .user_param = "phone");
    URI_OK("sips:1212@gateway.com", .scheme = SIPS, .host_kind = NAME, .scheme_str = "sips",
           .user = "1212", .host = "gateway.com");
    URI_OK("sip:alice@192.0.2.4", .scheme = SIP, .host_kind = IPV4, .scheme_str = "sip",
           .user = "alice", .host = "192.0.2.4");
    URI_OK("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", .scheme = SIP,
           .host_kind = NAME, .scheme_str = "sip", .host = "atlanta.com",
           .params = "method=REGISTER", .method = "REGISTER", .headers = "to=alice%40atlanta.com");
    URI_OK("sip:alice;day=tuesday@atlanta.com", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .user = "alice;day=tuesday", .host = "atlanta.com");
}

static void test_scheme_case(void **state)
{
    (void)state;
    URI_OK("SIP:alice@example.com", .scheme = SIP, .host_kind = NAME, .scheme_str = "SIP",
           .user = "alice", .host = "example.com");
    URI_OK("SiPs:example.com", .scheme = SIPS, .host_kind = NAME, .scheme_str = "SiPs",
           .host = "example.com");
    URI_OK("TEL:+1", .scheme = TEL, .scheme_str = "TEL", .user = "+1");
    /* near misses are other schemes, kept opaque */
    URI_OK("sipx:a@b", .scheme = OTHER, .scheme_str = "sipx", .opaque = "a@b");
    URI_OK("si:a", .scheme = OTHER, .scheme_str = "si", .opaque = "a");
    URI_OK("tels:1", .scheme = OTHER, .scheme_str = "tels", .opaque = "1");
    URI_BAD("");
    URI_BAD("sip");
    URI_BAD(":alice@example.com");
    URI_BAD("1sip:alice@example.com");
    URI_BAD("s_p:x");
    URI_BAD("sip:");
    URI_BAD("sips:");
    URI_BAD("tel:");
}

/* Userinfo: passwords, empty parts, user-unreserved characters. */
static void test_userinfo(void **state)
{
    (void)state;
    URI_OK("sip:alice:@example.com", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .user = "alice", .passwd = "", .host = "example.com");
    URI_OK("sip:a:&=+$,@example.com", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .user = "a", .passwd = "&=+$,", .host = "example.com");
    /* uri-t.h contract: an empty-but-present user keeps a non-NULL view */
    URI_OK("sip:@h.example", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip", .user = "",
           .host = "h.example");
    URI_OK("sip:u?x/y,z=1&$+@h.example", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .user = "u?x/y,z=1&$+", .host = "h.example");
    /* RFC4475-3.1.1.1 wsinv / 3.1.1.2 intmeth: the unusual user and password */
    URI_OK("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
           "(doesn't-it)@example.com",
           .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .user = "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
           .passwd = "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)", .host = "example.com");
    URI_OK("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com", .scheme = SIP,
           .host_kind = NAME, .scheme_str = "sip",
           .user = "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", .host = "example.com");
    URI_BAD("sip:a:b:c@example.com"); /* ':' is not a password character */
    URI_BAD("sip:a:b;c@example.com"); /* nor is ';' */
    URI_BAD("sip:a[b@example.com");   /* '[' is not a user character */
    URI_BAD("sip:a@b@example.com");   /* a second '@' lands in the host */
    URI_BAD("sip:alice@");
    URI_BAD("sip:alice:pw@");
}

/* RFC4475-3.1.1.10 semiuri and RFC4475-3.1.1.4 esc01: escapes and ';' in the user part. */
static void test_rfc4475_user_parts(void **state)
{
    (void)state;
    URI_OK("sip:user;par=u%40example.net@example.com", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .user = "user;par=u%40example.net", .host = "example.com");
    URI_OK("sip:sips%3Auser%40example.com@example.net", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .user = "sips%3Auser%40example.com", .host = "example.net");
    URI_OK("sip:%75se%72@example.com", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .user = "%75se%72", .host = "example.com");
    URI_OK("sip:I%20have%20spaces@example.net", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .user = "I%20have%20spaces", .host = "example.net");
    /* RFC4475-3.1.1.6 escnull: %00 in the user part is valid */
    URI_OK("sip:null-%00-null@example.com", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .user = "null-%00-null", .host = "example.com");
    URI_OK("sip:%00%00@host5.example.com", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .user = "%00%00", .host = "host5.example.com");
    /* RFC4475-3.1.1.4: user=phone style numbers and the long request URI */
    URI_OK("sip:+19725552222@gw1.example.net;unknownparam", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .user = "+19725552222", .host = "gw1.example.net",
           .params = "unknownparam");

    char out[64];
    struct sb_uri u = parse_at("sip:sips%3Auser%40example.com@example.net", __LINE__);
    long n = sb_uri_unescape(u.user, out);
    assert_int_equal(n, 21);
    assert_memory_equal(out, "sips:user@example.com", 21);
    u = parse_at("sip:null-%00-null@example.com", __LINE__);
    n = sb_uri_unescape(u.user, out);
    assert_int_equal(n, 11);
    assert_memory_equal(out, "null-\0-null", 11);
}

/* RFC4475-3.1.1.5 escruri and 3.1.1.4 (escaped parameters). */
static void test_rfc4475_params_headers(void **state)
{
    (void)state;
    URI_OK("sip:user@example.com?Route=%3Csip:example.com%3E", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .user = "user", .host = "example.com",
           .headers = "Route=%3Csip:example.com%3E");
    URI_OK("sip:user@example.com?Route=%3Csip:sip.example.com%3E", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .user = "user", .host = "example.com",
           .headers = "Route=%3Csip:sip.example.com%3E");
    /* an escaped "lr" is still lr (RFC3261-19.1.4: compared after unescaping) */
    URI_OK("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", .scheme = SIP,
           .host_kind = NAME, .lr = true, .scheme_str = "sip", .user = "cal%6Cer",
           .host = "host5.example.net", .params = "%6C%72;n%61me=v%61lue%25%34%31");
    URI_OK("sip:services.example.com;lr;unknownwith=value;unknown-no-value", .scheme = SIP,
           .host_kind = NAME, .lr = true, .scheme_str = "sip", .host = "services.example.com",
           .params = "lr;unknownwith=value;unknown-no-value");
    URI_OK("sip:UserB@example.com;maddr=ss1.example.com", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .user = "UserB", .host = "example.com",
           .params = "maddr=ss1.example.com", .maddr = "ss1.example.com");
    URI_OK("sip:user@example.com:6000;unknownparam1=verylonglonglonglongvalue;"
           "longparamnamenamenamename=shortvalue;verylongParameterNameWithNoValue",
           .scheme = SIP, .host_kind = NAME, .port_no = 6000, .scheme_str = "sip", .user = "user",
           .host = "example.com", .port = "6000",
           .params = "unknownparam1=verylonglonglonglongvalue;longparamnamenamenamename=shortvalue;"
                     "verylongParameterNameWithNoValue");
}

/* RFC4475-3.1.1.12 unkscm, 3.1.1.13 novelsc, 3.1.2.17 unksm2: other schemes stay opaque. */
static void test_other_schemes(void **state)
{
    (void)state;
    URI_OK("nobodyKnowsThisScheme:totallyopaquecontent", .scheme = OTHER,
           .scheme_str = "nobodyKnowsThisScheme", .opaque = "totallyopaquecontent");
    URI_OK("nobodyknowsthisscheme:totallyopaque", .scheme = OTHER,
           .scheme_str = "nobodyknowsthisscheme", .opaque = "totallyopaque");
    URI_OK("soap.beep://192.0.2.103:3002", .scheme = OTHER, .scheme_str = "soap.beep",
           .opaque = "//192.0.2.103:3002");
    URI_OK("isbn:2983792873", .scheme = OTHER, .scheme_str = "isbn", .opaque = "2983792873");
    URI_OK("http://www.example.com", .scheme = OTHER, .scheme_str = "http",
           .opaque = "//www.example.com");
    URI_OK("name:John_Smith", .scheme = OTHER, .scheme_str = "name", .opaque = "John_Smith");
    URI_OK("mailto:a@b.example?subject=hi%20there", .scheme = OTHER, .scheme_str = "mailto",
           .opaque = "a@b.example?subject=hi%20there");
    URI_OK("urn:x-y+z.1:a;b=c#frag", .scheme = OTHER, .scheme_str = "urn",
           .opaque = "x-y+z.1:a;b=c#frag");
    URI_OK("x-y+z.1:[::1]", .scheme = OTHER, .scheme_str = "x-y+z.1", .opaque = "[::1]");
    URI_BAD("urn:");
    URI_BAD("urn:a b");
    URI_BAD("urn:a<b");
    URI_BAD("urn:a>b");
    URI_BAD("urn:a\"b");
    URI_BAD("urn:a\tb");
    URI_BAD("urn:a\x7f");
    URI_BAD("urn:a\x80");
    URI_BAD("urn:a%4");
    URI_BAD("urn:a%zz");
    URI_BAD("ur n:a");
}

/* RFC4475-3.1.2.5 ltgtruri, 3.1.2.6 lwsruri, 3.1.2.9 badaspec: URIs that are not URIs. */
static void test_rfc4475_bad_uris(void **state)
{
    (void)state;
    URI_BAD("<sip:user@example.com>");
    URI_BAD("sip:user@example.com; lr");
    URI_BAD(" sip:t.watson@example.org ");
    URI_BAD("sip:t.watson@example.org ");
    URI_BAD(" sip:t.watson@example.org");
    URI_BAD("sip:I have spaces@example.net");
    URI_BAD("sip:user@example.com>");
    URI_BAD("sip:\"user\"@example.com");
    URI_BAD("sip:user@example.com;a=\"b\"");
    URI_BAD("sip:user@example.com?Route=<sip:example.com>");
    URI_BAD("sip:user@example.com\r\n");
    URI_BAD("sip:u%ZZ@example.com");
}

/* Every byte that no sip URI component allows, at every position, makes the URI invalid. */
static void test_invalid_chars_everywhere(void **state)
{
    (void)state;
    static const char base[] = "sip:us%41er:pw@host.example.com:5060;transport=tcp;x=y?h=v&i=w";
    static const unsigned char bad[] = {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f, ' ',  '"',  '<', '>',
                                        '\\', '^',  '`',  '{',  '|',  '}',  0x7f, 0x80, 0xff};
    char buf[sizeof(base) + 1];
    size_t n = sizeof(base) - 1;
    (void)parse_at(base, __LINE__);
    for (size_t b = 0; b < sizeof(bad); b++) {
        for (size_t pos = 0; pos <= n; pos++) {
            memcpy(buf, base, pos);
            buf[pos] = (char)bad[b];
            memcpy(buf + pos + 1, base + pos, n - pos);
            uri_bad_n(buf, n + 1, __LINE__);
        }
    }
}

static void test_bad_escapes(void **state)
{
    (void)state;
    URI_BAD("sip:%G1@example.com");
    URI_BAD("sip:%4@example.com");
    URI_BAD("sip:a%@example.com");
    URI_BAD("sip:a:p%4x@example.com");
    URI_BAD("sip:example.com;a=%4");
    URI_BAD("sip:example.com;a=%G1");
    URI_BAD("sip:example.com;%x1=1");
    URI_BAD("sip:example.com?a=%4");
    URI_BAD("sip:example.com?a%=1");
    URI_BAD("sip:ex%61mple.com"); /* no escapes in a host */
    URI_BAD("tel:+1;isub=%Z1");
    URI_OK("sip:%aF%Af@example.com", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .user = "%aF%Af", .host = "example.com");
}

static void test_hosts(void **state)
{
    (void)state;
    URI_OK("sip:example.com.", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .host = "example.com.");
    URI_OK("sip:localhost", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .host = "localhost");
    URI_OK("sip:a-b.c-d9.x1", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .host = "a-b.c-d9.x1");
    URI_OK("sip:1.2.3.example", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .host = "1.2.3.example");
    URI_OK("sip:127.0.0.1:5080", .scheme = SIP, .host_kind = IPV4, .port_no = 5080,
           .scheme_str = "sip", .host = "127.0.0.1", .port = "5080");
    URI_OK("sip:fluffy@127.0.0.1:5070", .scheme = SIP, .host_kind = IPV4, .port_no = 5070,
           .scheme_str = "sip", .user = "fluffy", .host = "127.0.0.1", .port = "5070");
    URI_OK("sip:255.255.255.255", .scheme = SIP, .host_kind = IPV4, .scheme_str = "sip",
           .host = "255.255.255.255");
    URI_OK("sip:010.0.0.1", .scheme = SIP, .host_kind = IPV4, .scheme_str = "sip",
           .host = "010.0.0.1");
    URI_OK("sip:A.Example.COM", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .host = "A.Example.COM");
    URI_BAD("sip:256.0.0.1");
    URI_BAD("sip:1.2.3");
    URI_BAD("sip:1.2.3.4.5");
    URI_BAD("sip:1.2.3.4.");
    URI_BAD("sip:1234.1.1.1");
    URI_BAD("sip:12345");
    URI_BAD("sip:example.123"); /* RFC3261-25.1: toplabel starts with ALPHA */
    URI_BAD("sip:-a.example");
    URI_BAD("sip:a-.example");
    URI_BAD("sip:a.example-");
    URI_BAD("sip:a..example");
    URI_BAD(".example.com");
    URI_BAD("sip:.example.com");
    URI_BAD("sip:example.com..");
    URI_BAD("sip:ex_ample.com");
    URI_BAD("sip:user@");
    URI_BAD("sip:;lr");
    URI_BAD("sip:?a=b");
    URI_BAD("sip::5060");
}

/* RFC5118-4.1, 4.3, 4.4, 4.9, 4.10: IPv6 references that must parse. */
static void test_ipv6_good(void **state)
{
    (void)state;
    /* RFC5118-4.1 ipv6-good */
    URI_OK("sip:[2001:db8::10]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .host = "[2001:db8::10]");
    URI_OK("sip:user@[2001:db8::10]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .user = "user", .host = "[2001:db8::10]");
    /* RFC5118-4.3 port-ambiguous: ":5070" inside the brackets is an address group */
    URI_OK("sip:[2001:db8::10:5070]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .host = "[2001:db8::10:5070]");
    /* RFC5118-4.4 port-unambiguous */
    URI_OK("sip:[2001:db8::10]:5070", .scheme = SIP, .host_kind = IPV6, .port_no = 5070,
           .scheme_str = "sip", .host = "[2001:db8::10]", .port = "5070");
    /* RFC5118-4.10 ipv6-correct-abnf-2-colons and RFC5118-4.9 ipv4-mapped-ipv6 */
    URI_OK("sip:user@[2001:db8::192.0.2.1]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .user = "user", .host = "[2001:db8::192.0.2.1]");
    /* RFC5118-4.10 ipv6-bug-abnf-3-colons: RFC 3261's ABNF derives ":::" before a dotted quad, and
     * receivers must tolerate it */
    URI_OK("sip:user@[2001:db8:::192.0.2.1]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .user = "user", .host = "[2001:db8:::192.0.2.1]");
    URI_OK("sip:[:::192.0.2.1]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .host = "[:::192.0.2.1]");
    URI_OK("sip:[1:2:3:4:5:::1.2.3.4]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .host = "[1:2:3:4:5:::1.2.3.4]");
    URI_OK("sip:ted@[::ffff:192.0.2.2]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .user = "ted", .host = "[::ffff:192.0.2.2]");
    URI_OK("sip:caller@[2001:db8::9:1];transport=udp", .scheme = SIP, .host_kind = IPV6,
           .scheme_str = "sip", .user = "caller", .host = "[2001:db8::9:1]",
           .params = "transport=udp", .transport = "udp");
    URI_OK("sip:[::]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip", .host = "[::]");
    URI_OK("sip:[::1]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip", .host = "[::1]");
    URI_OK("sip:[1::]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip", .host = "[1::]");
    URI_OK("sip:[1:2:3:4:5:6:7:8]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .host = "[1:2:3:4:5:6:7:8]");
    URI_OK("sip:[1:2:3:4:5:6:7::]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .host = "[1:2:3:4:5:6:7::]");
    URI_OK("sip:[::2:3:4:5:6:7:8]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .host = "[::2:3:4:5:6:7:8]");
    URI_OK("sip:[1:2:3:4:5:6:1.2.3.4]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .host = "[1:2:3:4:5:6:1.2.3.4]");
    URI_OK("sip:[FFFF:abcd::0DB8]", .scheme = SIP, .host_kind = IPV6, .scheme_str = "sip",
           .host = "[FFFF:abcd::0DB8]");
    URI_OK("sip:[2001:db8::10];maddr=[2001:db8::11]", .scheme = SIP, .host_kind = IPV6,
           .scheme_str = "sip", .host = "[2001:db8::10]", .params = "maddr=[2001:db8::11]",
           .maddr = "[2001:db8::11]");
}

/* RFC5118-4.2, 4.3 and RFC 4291: IPv6 references that must not parse. */
static void test_ipv6_bad(void **state)
{
    (void)state;
    URI_BAD("sip:2001:db8::10");    /* RFC5118-4.2 ipv6-bad: no brackets */
    URI_BAD("sip:[2001:db8:::10]"); /* three colons, no dotted quad after them */
    URI_BAD("sip:[1:::2]");
    URI_BAD("sip:[:::1]");
    URI_BAD("sip:[::::1.2.3.4]");
    URI_BAD("sip:[1::2:::1.2.3.4]");
    URI_BAD("sip:[1:2:3:4:5:6:::1.2.3.4]");
    URI_BAD("sip:[2001:db8:::192.0.2]");
    URI_BAD("sip:[2001:db8::10");
    URI_BAD("sip:2001:db8::10]");
    URI_BAD("sip:[]");
    URI_BAD("sip:[:]");
    URI_BAD("sip:[:::]");
    URI_BAD("sip:[1:2]");
    URI_BAD("sip:[:1::2]");
    URI_BAD("sip:[1::2:]");
    URI_BAD("sip:[1::2::3]");
    URI_BAD("sip:[1:2:3:4:5:6:7]");
    URI_BAD("sip:[1:2:3:4:5:6:7:8:9]");
    URI_BAD("sip:[1:2:3:4:5:6:7:8::]");
    URI_BAD("sip:[::1:2:3:4:5:6:7:8]");
    URI_BAD("sip:[12345::1]");
    URI_BAD("sip:[::g]");
    URI_BAD("sip:[1:2:3:4:5:6:7:1.2.3.4]");
    URI_BAD("sip:[::1.2.3]");
    URI_BAD("sip:[::1.2.3.256]");
    URI_BAD("sip:[::1.2.3.4:5]");
    URI_BAD("sip:[1.2.3.4]");
    URI_BAD("sip:[::1%25eth0]");
    URI_BAD("sip:[::1]x");
    URI_BAD("sip:[::1]:");
    URI_BAD("sip:[::1]]");
    URI_BAD("sip:[[::1]]");
}

static void test_ports(void **state)
{
    (void)state;
    URI_OK("sip:h.example:65535", .scheme = SIP, .host_kind = NAME, .port_no = 65535,
           .scheme_str = "sip", .host = "h.example", .port = "65535");
    URI_OK("sip:h.example:0", .scheme = SIP, .host_kind = NAME, .port_no = 0, .scheme_str = "sip",
           .host = "h.example", .port = "0");
    URI_OK("sip:h.example:005060", .scheme = SIP, .host_kind = NAME, .port_no = 5060,
           .scheme_str = "sip", .host = "h.example", .port = "005060");
    URI_OK("sips:u:p@h.example:5061;lr?a=b", .scheme = SIPS, .host_kind = NAME, .lr = true,
           .port_no = 5061, .scheme_str = "sips", .user = "u", .passwd = "p", .host = "h.example",
           .port = "5061", .params = "lr", .headers = "a=b");
    URI_BAD("sip:h.example:65536");
    URI_BAD("sip:h.example:99999");
    URI_BAD("sip:h.example:4294967296");
    URI_BAD("sip:h.example:18446744073709551617");
    URI_BAD("sip:h.example:");
    URI_BAD("sip:h.example:-1");
    URI_BAD("sip:h.example:+1");
    URI_BAD("sip:h.example:50a");
    URI_BAD("sip:h.example:5060:5061");
    URI_BAD("sip:h.example: 5060");
}

static void test_params(void **state)
{
    (void)state;
    URI_OK("sip:h.example;transport=TCP;user=phone;method=INVITE;ttl=15;maddr=239.255.255.1;lr",
           .scheme = SIP, .host_kind = NAME, .lr = true, .scheme_str = "sip", .host = "h.example",
           .params = "transport=TCP;user=phone;method=INVITE;ttl=15;maddr=239.255.255.1;lr",
           .transport = "TCP", .user_param = "phone", .method = "INVITE", .ttl = "15",
           .maddr = "239.255.255.1");
    /* names are case-insensitive; the first of a duplicate wins; lr may carry a value */
    URI_OK("sip:h.example;TRANSPORT=udp;Transport=tcp;LR=on", .scheme = SIP, .host_kind = NAME,
           .lr = true, .scheme_str = "sip", .host = "h.example",
           .params = "TRANSPORT=udp;Transport=tcp;LR=on", .transport = "udp");
    /* a valueless well-known parameter is present with an empty value */
    URI_OK("sip:h.example;maddr", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .host = "h.example", .params = "maddr", .maddr = "");
    /* escaped names are matched after decoding */
    URI_OK("sip:h.example;%74tl=1", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .host = "h.example", .params = "%74tl=1", .ttl = "1");
    /* names that only look like well-known ones */
    URI_OK("sip:h.example;lrx;xlr;transports=a;usr=b", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .host = "h.example", .params = "lrx;xlr;transports=a;usr=b");
    URI_OK("sip:h.example;a=[]/:&+$-_.!~*'()%41", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .host = "h.example", .params = "a=[]/:&+$-_.!~*'()%41");
    URI_BAD("sip:h.example;");
    URI_BAD("sip:h.example;;lr");
    URI_BAD("sip:h.example;lr;");
    URI_BAD("sip:h.example;lr;;x");
    URI_BAD("sip:h.example;a=");
    URI_BAD("sip:h.example;=a");
    URI_BAD("sip:h.example;a=b=c");
    URI_BAD("sip:h.example;a=b,c");
    URI_BAD("sip:h.example;a=[b c]");
    URI_BAD("sip:h.example;a=@");
    URI_BAD("sip:h.example;?a=b");
}

static void test_headers(void **state)
{
    (void)state;
    URI_OK("sip:h.example?a=", .scheme = SIP, .host_kind = NAME, .scheme_str = "sip",
           .host = "h.example", .headers = "a=");
    URI_OK("sip:h.example?a=b&c=d&e=[]/?:+$%20", .scheme = SIP, .host_kind = NAME,
           .scheme_str = "sip", .host = "h.example", .headers = "a=b&c=d&e=[]/?:+$%20");
    URI_OK("sip:h.example;lr?to=sip:bob%40biloxi.com", .scheme = SIP, .host_kind = NAME, .lr = true,
           .scheme_str = "sip", .host = "h.example", .params = "lr",
           .headers = "to=sip:bob%40biloxi.com");
    URI_BAD("sip:h.example?");
    URI_BAD("sip:h.example?a");
    URI_BAD("sip:h.example?=b");
    URI_BAD("sip:h.example?a=b&");
    URI_BAD("sip:h.example?a=b&&c=d");
    URI_BAD("sip:h.example?a=b=c");
    URI_BAD("sip:h.example?a=b;c=d");
    URI_BAD("sip:u@h.example?a=b@c");
    /* without a userinfo, the '@' makes everything before it the user part */
    URI_OK("sip:h.example?a=b@c", .scheme = SIP, .host_kind = SB_HOST_NAME, .scheme_str = "sip",
           .user = "h.example?a=b", .host = "c");
    URI_BAD("sip:h.example?a=b,c");
}

/* RFC 3966 tel URIs. */
static void test_tel(void **state)
{
    (void)state;
    URI_OK("tel:+1-201-555-0123", .scheme = TEL, .scheme_str = "tel", .user = "+1-201-555-0123");
    URI_OK("tel:+1(201)555.0123", .scheme = TEL, .scheme_str = "tel", .user = "+1(201)555.0123");
    URI_OK("tel:7042;phone-context=example.com", .scheme = TEL, .scheme_str = "tel", .user = "7042",
           .params = "phone-context=example.com");
    URI_OK("tel:863-1234;phone-context=+1-914-555", .scheme = TEL, .scheme_str = "tel",
           .user = "863-1234", .params = "phone-context=+1-914-555");
    URI_OK("tel:*21#;phone-context=+1", .scheme = TEL, .scheme_str = "tel", .user = "*21#",
           .params = "phone-context=+1");
    URI_OK("tel:aB12;phone-context=x.example", .scheme = TEL, .scheme_str = "tel", .user = "aB12",
           .params = "phone-context=x.example");
    URI_OK("tel:+1-201-555-0123;ext=1234;isub=%41b;foo-bar;baz=q", .scheme = TEL,
           .scheme_str = "tel", .user = "+1-201-555-0123",
           .params = "ext=1234;isub=%41b;foo-bar;baz=q");
    URI_BAD("tel:");
    URI_BAD("tel:+");
    URI_BAD("tel:+-");
    URI_BAD("tel:+1a");
    URI_BAD("tel:+1*");
    URI_BAD("tel:1234");       /* local, no phone-context */
    URI_BAD("tel:1234;ext=1"); /* still no phone-context */
    URI_BAD("tel:1234;phone-context");
    URI_BAD("tel:1234;phone-context=");
    URI_BAD("tel:1234;phone-context=+");
    URI_BAD("tel:1234;phone-context=ex_ample.com");
    URI_BAD("tel:+1 201");
    URI_BAD("tel:+1;");
    URI_BAD("tel:+1;ext=12a");
    URI_BAD("tel:+1;ext");
    URI_BAD("tel:+1;isub");
    URI_BAD("tel:+1;a_b=c");
    URI_BAD("tel:+1?a=b");
    URI_BAD("tel:+1@example.com");
}

static void test_unescape(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(sb_uri_unescape(SB_STR("abc"), out), 3);
    assert_memory_equal(out, "abc", 3);
    assert_int_equal(sb_uri_unescape(SB_STR("%41%62c%2525"), out), 6);
    assert_memory_equal(out, "Abc%25", 6);
    assert_int_equal(sb_uri_unescape(SB_STR("%fF%00"), out), 2);
    assert_memory_equal(out, "\xff\x00", 2);
    assert_int_equal(sb_uri_unescape(SB_STR(""), out), 0);
    assert_int_equal(sb_uri_unescape(SB_STR("%"), out), SB_EPARSE);
    assert_int_equal(sb_uri_unescape(SB_STR("a%4"), out), SB_EPARSE);
    assert_int_equal(sb_uri_unescape(SB_STR("%G1"), out), SB_EPARSE);
    assert_int_equal(sb_uri_unescape(SB_STR("%1G"), out), SB_EPARSE);
    assert_int_equal(sb_uri_unescape(SB_STR("ok%"), out), SB_EPARSE);
}

/* RFC3261-19.1.4: the equivalent pairs, and the intransitive example. */
static void test_cmp_rfc3261_equal(void **state)
{
    (void)state;
    URI_EQ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp");
    URI_EQ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5");
    URI_EQ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on");
    URI_EQ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on");
    URI_EQ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
           "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com");
    URI_EQ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
           "sip:alice@atlanta.com?priority=urgent&subject=project%20x");
    URI_EQ("sip:carol@chicago.com", "sip:carol@chicago.com;security=off");
    URI_NE("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off");
}

/* RFC3261-19.1.4: the non-equivalent pairs. */
static void test_cmp_rfc3261_not_equal(void **state)
{
    (void)state;
    URI_NE("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP");
    URI_NE("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060");
    URI_NE("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp");
    URI_NE("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp");
    URI_NE("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting");
    URI_NE("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4");
}

static void test_cmp_components(void **state)
{
    (void)state;
    /* scheme: sip never equals sips; the scheme itself is case-insensitive */
    URI_NE("sip:alice@atlanta.com", "sips:alice@atlanta.com");
    URI_EQ("SIP:alice@atlanta.com", "sip:alice@atlanta.com");
    URI_EQ("SIPS:alice@atlanta.com", "sips:alice@ATLANTA.com");
    /* userinfo: case-sensitive, escapes decoded, presence matters */
    URI_NE("sip:Alice@atlanta.com", "sip:alice@atlanta.com");
    URI_EQ("sip:%41lice@atlanta.com", "sip:Alice@atlanta.com");
    URI_EQ("sip:%75se%72@example.com", "sip:user@example.com");
    URI_EQ("sip:null-%00-null@example.com", "sip:null-%00-null@example.com");
    URI_NE("sip:null-%00-null@example.com", "sip:null--null@example.com");
    URI_NE("sip:alice@atlanta.com", "sip:atlanta.com");
    URI_NE("sip:alice:pw@atlanta.com", "sip:alice@atlanta.com");
    URI_NE("sip:alice:pw@atlanta.com", "sip:alice:PW@atlanta.com");
    URI_EQ("sip:alice:p%77@atlanta.com", "sip:alice:pw@atlanta.com");
    URI_NE("sip:alice:@atlanta.com", "sip:alice@atlanta.com");
    URI_NE("sip:alice@atlanta.com", "sip:alice2@atlanta.com");
    URI_NE("sip:alic@atlanta.com", "sip:alice@atlanta.com");
    /* RFC3261-19.1.4: an escaped reserved character differs from the literal one */
    URI_NE("sip:a%3Bb@atlanta.com", "sip:a;b@atlanta.com");
    URI_EQ("sip:a%3bb@atlanta.com", "sip:a%3Bb@atlanta.com");
    URI_EQ("sip:sips%3Auser%40example.com@example.net",
           "sip:sips%3auser%40example.com@EXAMPLE.net");
    /* host */
    URI_NE("sip:atlanta.com", "sip:atlanta.com.");
    URI_NE("sip:atlanta.com", "sip:atlanta.co");
    URI_EQ("sip:192.0.2.4", "sip:192.000.002.004");
    URI_NE("sip:192.0.2.4", "sip:192.0.2.5");
    URI_EQ("sip:[2001:db8::10]", "sip:[2001:DB8:0:0:0:0:0:10]");
    URI_EQ("sip:[2001:db8::10]", "sip:[2001:0db8::0010]");
    URI_EQ("sip:[::ffff:192.0.2.1]", "sip:[::FFFF:c000:0201]");
    URI_NE("sip:[2001:db8::10]", "sip:[2001:db8::11]");
    URI_EQ("sip:[2001:db8:::192.0.2.1]", "sip:[2001:db8::192.0.2.1]");
    URI_EQ("sip:[2001:db8:::192.0.2.1]", "sip:[2001:db8::c000:201]");
    URI_NE("sip:[::ffff:192.0.2.1]", "sip:192.0.2.1");
    /* port */
    URI_EQ("sip:atlanta.com:5060", "sip:atlanta.com:05060");
    URI_NE("sip:atlanta.com:5060", "sip:atlanta.com:5061");
    URI_NE("sip:atlanta.com:0", "sip:atlanta.com");
    URI_NE("sips:atlanta.com", "sips:atlanta.com:5061");
}

/* RFC3261-19.1.4 uri-parameter rules. */
static void test_cmp_params(void **state)
{
    (void)state;
    static const char *const must[] = {"user=phone", "ttl=1", "method=INVITE", "maddr=239.0.0.1",
                                       "transport=udp"};
    char a[128], b[128];
    for (size_t i = 0; i < SB_ARRAY_LEN(must); i++) {
        snprintf(a, sizeof(a), "sip:carol@chicago.com;%s", must[i]);
        URI_NE("sip:carol@chicago.com", a);
        snprintf(b, sizeof(b), "sip:carol@chicago.com;x=1;%s;y=2", must[i]);
        URI_EQ(a, b);
    }
    URI_EQ("sip:carol@chicago.com;lr", "sip:carol@chicago.com");
    URI_EQ("sip:carol@chicago.com;lr", "sip:carol@chicago.com;LR");
    URI_NE("sip:carol@chicago.com;lr", "sip:carol@chicago.com;lr=on");
    URI_EQ("sip:h.example;user=Phone;Method=invite", "sip:h.example;USER=phone;method=INVITE");
    URI_NE("sip:h.example;ttl=1", "sip:h.example;ttl=2");
    URI_NE("sip:h.example;maddr=a.example", "sip:h.example;maddr=b.example");
    URI_NE("sip:h.example;transport=tcp", "sip:h.example;transport=tls");
    URI_NE("sip:h.example;foo=1", "sip:h.example;foo=2");
    URI_NE("sip:h.example;foo", "sip:h.example;foo=1");
    URI_EQ("sip:h.example;foo=1", "sip:h.example;bar=2");
    /* RFC4475-3.1.1.4: escaped names and values compare decoded */
    URI_EQ("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
           "sip:caller@host5.example.net;lr;name=value%2541");
    URI_EQ("sip:h.example;%74ransport=tcp", "sip:h.example;transport=TCP");
    URI_NE("sip:h.example;%74ransport=tcp", "sip:h.example");
    URI_NE("sip:h.example;x=a%3Bb", "sip:h.example;x=a%3Ab");
    /* a duplicate keeps the relation reflexive and symmetric */
    URI_EQ("sip:h.example;x=1;x=2", "sip:h.example;x=1;x=2");
    URI_NE("sip:h.example;x=1;x=2", "sip:h.example;x=1");
}

static void test_cmp_headers(void **state)
{
    (void)state;
    URI_EQ("sip:h.example?a=1&b=2", "sip:h.example?b=2&a=1");
    URI_EQ("sip:h.example?Subject=x", "sip:h.example?subject=x");
    URI_EQ("sip:h.example?subject=%70roject", "sip:h.example?subject=project");
    URI_NE("sip:h.example?subject=Project", "sip:h.example?subject=project");
    URI_NE("sip:h.example?a=1&b=2", "sip:h.example?a=1");
    URI_NE("sip:h.example?a=1", "sip:h.example?a=2");
    URI_NE("sip:h.example?a=1", "sip:h.example?b=1");
    URI_NE("sip:h.example?a=", "sip:h.example");
    URI_NE("sip:h.example?to=sip:bob%40biloxi.com", "sip:h.example?to=sip:bob%40biloxi.org");
}

/* RFC3966-4 tel URI comparison. */
static void test_cmp_tel(void **state)
{
    (void)state;
    URI_EQ("tel:+1-201-555-0123", "tel:+12015550123");
    URI_EQ("tel:+1(201)555.0123", "TEL:+1-201-555-0123");
    URI_NE("tel:+1-201-555-0123", "tel:+1-201-555-0124");
    URI_NE("tel:+1-201-555-0123", "tel:+1-201-555-012");
    URI_NE("tel:+1234;phone-context=+1", "tel:1234;phone-context=+1");
    URI_EQ("tel:7042;phone-context=example.com", "tel:70-42;phone-context=EXAMPLE.com");
    URI_NE("tel:7042;phone-context=example.com", "tel:7042;phone-context=example.org");
    URI_EQ("tel:863-1234;phone-context=+1-914-555", "tel:8631234;phone-context=+1914555");
    URI_EQ("tel:aB1;phone-context=+1", "tel:ab1;phone-context=+1");
    URI_EQ("tel:+1;ext=12-34;foo=Bar", "tel:+1;FOO=bar;ext=1234");
    URI_NE("tel:+1;ext=1234", "tel:+1;ext=1235");
    URI_NE("tel:+1;ext=1234", "tel:+1");
    URI_NE("tel:+1;foo", "tel:+1");
    URI_NE("tel:+1;foo", "tel:+1;foo=1");
    URI_EQ("tel:+1;isub=%41b", "tel:+1;isub=aB");
    URI_NE("tel:+12015550123", "sip:+12015550123@example.com;user=phone");
}

static void test_cmp_other(void **state)
{
    (void)state;
    URI_EQ("nobodyKnowsThisScheme:totallyopaque", "NOBODYKNOWSTHISSCHEME:totallyopaque");
    URI_NE("nobodyKnowsThisScheme:totallyopaque", "nobodyKnowsThisScheme:TotallyOpaque");
    URI_NE("isbn:1", "urn:1");
    URI_NE("http://www.example.com", "sip:www.example.com");
    URI_EQ("soap.beep://192.0.2.103:3002", "SOAP.BEEP://192.0.2.103:3002");
}

/* A failed parse leaves no stale views behind. */
static void test_failure_clears_output(void **state)
{
    (void)state;
    struct sb_uri u;
    memset(&u, 0xa5, sizeof(u));
    assert_int_equal(sb_uri_parse(SB_STR("sip:alice@example.com;lr;"), &u), SB_EPARSE);
    assert_null(u.raw.p);
    assert_null(u.user.p);
    assert_null(u.host.p);
    assert_false(u.lr);
    assert_int_equal(u.scheme, SB_URI_OTHER);
    assert_int_equal(sb_uri_parse((sb_str){NULL, 3}, &u), SB_EINVAL);
    assert_int_equal(sb_uri_parse(SB_STR("sip:a"), NULL), SB_EINVAL);
}

/* sb_param_next on URI parameters (no LWS), including the malformed-escape fix. */
static void test_param_next_uri(void **state)
{
    (void)state;
    struct sb_param p;
    sb_str s = SB_STR(";a=1;b;c=[::1]");
    assert_int_equal(sb_param_next(&s, &p, false), 1);
    assert_true(sb_str_eq(p.name, SB_STR("a")) && sb_str_eq(p.value, SB_STR("1")) && p.has_value);
    assert_int_equal(sb_param_next(&s, &p, false), 1);
    assert_true(sb_str_eq(p.name, SB_STR("b")) && !p.has_value && p.value.p == NULL);
    assert_int_equal(sb_param_next(&s, &p, false), 1);
    assert_true(sb_str_eq(p.name, SB_STR("c")) && sb_str_eq(p.value, SB_STR("[::1]")));
    assert_int_equal(sb_param_next(&s, &p, false), 0);

    s = SB_STR("a=%4");
    assert_int_equal(sb_param_next(&s, &p, false), SB_EPARSE);
    s = SB_STR("a%G=1");
    assert_int_equal(sb_param_next(&s, &p, false), SB_EPARSE);
    s = SB_STR("a=[b c]");
    assert_int_equal(sb_param_next(&s, &p, false), SB_EPARSE);
    s = SB_STR("a=[<x>]");
    assert_int_equal(sb_param_next(&s, &p, false), SB_EPARSE);
    s = SB_STR(";;a");
    assert_int_equal(sb_param_next(&s, &p, false), SB_EPARSE);
    s = SB_STR_NULL;
    assert_int_equal(sb_param_next(&s, &p, false), 0);
    assert_int_equal(sb_param_find(SB_STR("x=1;%6Cr;lr=2"), "lr", &p, false), 1);
    assert_true(sb_str_eq(p.value, SB_STR("2")));
}

/* sb_param_next on header parameters (LWS allowed): the fixes made along with the URI parser. */
static void test_param_next_hdr_fixes(void **state)
{
    (void)state;
    struct sb_param p;
    sb_str s = SB_STR(" ; received = [2001:db8::9:255] ; x");
    assert_int_equal(sb_param_next(&s, &p, true), 1);
    assert_true(sb_str_eq(p.value, SB_STR("[2001:db8::9:255]")));
    assert_int_equal(sb_param_next(&s, &p, true), 1);
    assert_true(sb_str_eq(p.name, SB_STR("x")));
    assert_int_equal(sb_param_next(&s, &p, true), 0);
    /* a trailing ';' is an error whether LWS follows it or not */
    s = SB_STR(";a=1; ");
    assert_int_equal(sb_param_next(&s, &p, true), 1);
    assert_int_equal(sb_param_next(&s, &p, true), SB_EPARSE);
    s = SB_STR(";a=1;");
    assert_int_equal(sb_param_next(&s, &p, true), 1);
    assert_int_equal(sb_param_next(&s, &p, true), SB_EPARSE);
    /* a bracketed value holds an IPv6 reference, nothing else */
    s = SB_STR(";received=[<script> ;x]");
    assert_int_equal(sb_param_next(&s, &p, true), SB_EPARSE);
    s = SB_STR(";received=[::1");
    assert_int_equal(sb_param_next(&s, &p, true), SB_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3261_examples),
        cmocka_unit_test(test_scheme_case),
        cmocka_unit_test(test_userinfo),
        cmocka_unit_test(test_rfc4475_user_parts),
        cmocka_unit_test(test_rfc4475_params_headers),
        cmocka_unit_test(test_other_schemes),
        cmocka_unit_test(test_rfc4475_bad_uris),
        cmocka_unit_test(test_invalid_chars_everywhere),
        cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_ipv6_good),
        cmocka_unit_test(test_ipv6_bad),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_tel),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_cmp_rfc3261_equal),
        cmocka_unit_test(test_cmp_rfc3261_not_equal),
        cmocka_unit_test(test_cmp_components),
        cmocka_unit_test(test_cmp_params),
        cmocka_unit_test(test_cmp_headers),
        cmocka_unit_test(test_cmp_tel),
        cmocka_unit_test(test_cmp_other),
        cmocka_unit_test(test_failure_clears_output),
        cmocka_unit_test(test_param_next_uri),
        cmocka_unit_test(test_param_next_hdr_fixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
