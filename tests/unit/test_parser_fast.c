/* SPDX-License-Identifier: BSD-2-Clause */
/* The parser's shortcuts against the general paths they stand in for: dotted quads in URIs and
 * Vias (accepted, refused, or handed on to the hostname rules), Via branch and name-addr tag
 * values that are not tokens, transports, rport values, and a To that repeats the Request-URI
 * (its parse taken from the Request-URI's, every view inside the To's own text); the header
 * index's block scans (line ends, colons, list commas, also at the end of the buffer) and its
 * name lookup on whole words, against a plain reference. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The type a header name must get: a case-insensitive compare with every full and compact name. */
static enum sb_hdr_type ref_type(const char *name, size_t len)
{
    for (int t = 1; t < SB_HDR__COUNT; t++) {
        const char *full = sb_hdr_info[t].name;
        if (strlen(full) == len && strncasecmp(full, name, len) == 0 && !memchr(name, 0, len))
            return (enum sb_hdr_type)t;
        char c = sb_hdr_info[t].compact;
        if (c && len == 1 && (name[0] | 0x20) == c)
            return (enum sb_hdr_type)t;
    }
    return SB_HDR_OTHER;
}

/* Parse "OPTIONS sip:a SIP/2.0\r\n<hdrs>" as a datagram from an exact-size heap copy (so that a
 * read past the end is caught under ASan) and return the result. */
static int parse_copy(struct sb_msg *m, const char *text, size_t len, char **copy)
{
    *copy = malloc(len ? len : 1);
    assert_non_null(*copy);
    memcpy(*copy, text, len);
    return sb_msg_parse(m, *copy, len, 0);
}

static void check_name(struct sb_msg *m, const char *name, size_t nlen, const char *sep,
                       const char *tail, bool token)
{
    /* built by pieces: a NUL inside the name is copied as is */
    char text[256];
    size_t len = 0, sl = strlen(sep), tl = strlen(tail);
    memcpy(text, "OPTIONS sip:a SIP/2.0\r\n", 23);
    len = 23;
    assert_true(len + nlen + sl + 1 + tl <= sizeof(text));
    memcpy(text + len, name, nlen);
    len += nlen;
    memcpy(text + len, sep, sl);
    len += sl;
    text[len++] = '0';
    memcpy(text + len, tail, tl);
    len += tl;
    char *copy;
    int rc = parse_copy(m, text, len, &copy);
    assert_int_equal(sb_hdr_lookup((sb_str){name, nlen}), ref_type(name, nlen));
    if (!token) {
        /* not a token: a bad header line, whatever it resembles */
        assert_int_equal(rc, SB_EPARSE);
        assert_int_equal(m->err.part, SB_MSG_ERRP_HEADER);
        assert_int_equal(m->err.offset, 23);
        free(copy);
        return;
    }
    if (rc != 0)
        fail_msg("'%.*s' + '%s': %d", (int)len, text, sep, rc);
    assert_int_equal(m->n_hdrs, 1);
    enum sb_hdr_type want = ref_type(name, nlen);
    if (m->hdrs[0].type != want)
        fail_msg("%.*s: type %d, want %d", (int)nlen, name, m->hdrs[0].type, want);
    assert_int_equal(m->hdrs[0].name.off, 23);
    assert_int_equal(m->hdrs[0].name.len, nlen);
    assert_int_equal(sb_hdr_lookup((sb_str){name, nlen}), want);
    free(copy);
}

static void test_header_names(void **state)
{
    (void)state;
    static struct sb_msg m;
    sb_msg_init(&m, NULL);
    /* every known name as written, in lower and upper case, with near misses around it; with a
     * long tail (whole-word reads) and at the very end of the buffer (the short forms) */
    const char *tails[] = {"\r\n\r\n0123456789abcdefghijklmnopqrstuvwxyz", "", "\r\n"};
    const char *seps[] = {":", ": ", " :", "\t: "};
    for (int t = 1; t < SB_HDR__COUNT; t++) {
        char forms[6][32];
        const char *n = sb_hdr_info[t].name;
        size_t len = strlen(n);
        for (size_t k = 0; k <= len; k++) {
            forms[0][k] = n[k];
            forms[1][k] = (char)sb_lower((unsigned char)n[k]);
            forms[2][k] = (char)(n[k] >= 'a' && n[k] <= 'z' ? n[k] - 32 : n[k]);
        }
        memcpy(forms[3], n, len);
        forms[3][len] = 'x'; /* one byte longer */
        memcpy(forms[4], n, len);
        forms[4][len - 1] = (char)(n[len - 1] ^ 1); /* last byte changed */
        memcpy(forms[5], n, len);
        forms[5][len] = '\0'; /* a NUL after the name: not the name */
        size_t lens[6] = {len, len, len, len + 1, len, len + 1};
        for (size_t f = 0; f < 6; f++)
            for (size_t ti = 0; ti < SB_ARRAY_LEN(tails); ti++)
                for (size_t si = 0; si < SB_ARRAY_LEN(seps); si++)
                    check_name(&m, forms[f], lens[f], seps[si], tails[ti], f != 5);
        if (sb_hdr_info[t].compact) {
            char c[2] = {sb_hdr_info[t].compact, (char)(sb_hdr_info[t].compact - 32)};
            check_name(&m, &c[0], 1, ": ", "\r\n", true);
            check_name(&m, &c[1], 1, ":", "", true);
        }
    }
    /* unknown names, short and longer than the 32 bytes the colon is looked for in */
    check_name(&m, "X-A", 3, ": ", "\r\n", true);
    check_name(&m, "X-A-Very-Long-Header-Name-Of-40-Bytes-Xy", 40, ": ", "\r\n\r\n", true);
    check_name(&m, "Content-Lengthy", 15, ":", "\r\n\r\nxxxxxxxxxxxxxxxxx", true);
    sb_msg_deinit(&m);
}

static void test_line_scans(void **state)
{
    (void)state;
    static struct sb_msg m;
    sb_msg_init(&m, NULL);
    char *copy;
    /* a Contact without a comma followed, inside the same 16 or 32 bytes, by a line with commas:
     * one entry; then the Allow list split; a quoted comma; a comma on a folded line; a value
     * longer than 64 bytes */
    static const char text[] =
        "OPTIONS sip:a SIP/2.0\r\n"
        "Contact: <sip:a@b>\r\n"
        "Allow: INVITE, ACK,BYE\r\n"
        "Contact: \"x,y\" <sip:c@d>\r\n"
        "Supported: a\r\n , b\r\n"
        "Subject: 0123456789012345678901234567890123456789012345678901234567890123"
        "456789, a\r\n"
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1,SIP/2.0/UDP g\r\n"
        "\r\n";
    assert_int_equal(parse_copy(&m, text, sizeof(text) - 1, &copy), 0);
    static const struct {
        uint16_t type, flags;
        const char *value;
    } want[] = {
        {SB_HDR_CONTACT, SB_HDRF_LIST_FIRST | SB_HDRF_LIST_LAST, "<sip:a@b>"},
        {SB_HDR_ALLOW, SB_HDRF_LIST_FIRST, "INVITE"},
        {SB_HDR_ALLOW, 0, "ACK"},
        {SB_HDR_ALLOW, SB_HDRF_LIST_LAST, "BYE"},
        {SB_HDR_CONTACT, SB_HDRF_LIST_FIRST | SB_HDRF_LIST_LAST, "\"x,y\" <sip:c@d>"},
        {SB_HDR_SUPPORTED, SB_HDRF_LIST_FIRST, "a"}, /* the fold is in the LWS after it */
        {SB_HDR_SUPPORTED, SB_HDRF_LIST_LAST, "b"},
        {SB_HDR_SUBJECT, 0,
         "0123456789012345678901234567890123456789012345678901234567890123456789, a"},
        {SB_HDR_VIA, SB_HDRF_LIST_FIRST, "SIP/2.0/UDP h;branch=z9hG4bK1"},
        {SB_HDR_VIA, SB_HDRF_LIST_LAST, "SIP/2.0/UDP g"},
    };
    assert_int_equal(m.n_hdrs, SB_ARRAY_LEN(want));
    for (size_t i = 0; i < SB_ARRAY_LEN(want); i++) {
        const struct sb_hdr *h = &m.hdrs[i];
        sb_str v = sb_msg_span(&m, h->value);
        assert_int_equal(h->type, want[i].type);
        if (h->flags != want[i].flags || !str_is(v, want[i].value))
            fail_msg("entry %zu: flags %u value '%.*s'", i, h->flags, (int)v.len, v.p);
    }
    assert_int_equal(m.hdrs_end, sizeof(text) - 3);
    free(copy);

    /* the last line without its LF at every length near 16 and 32 bytes: the value runs to the
     * end of the datagram, and nothing past it is read */
    for (size_t pad = 0; pad < 40; pad++) {
        char buf[128];
        int len = snprintf(buf, sizeof(buf), "SIP/2.0 200 OK\r\nAllow: A,%.*s", (int)pad,
                           "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
        assert_int_equal(parse_copy(&m, buf, (size_t)len, &copy), 0);
        assert_int_equal(m.n_hdrs, 2);
        assert_int_equal(m.hdrs[1].value.len, pad);
        assert_int_equal(m.hdrs[1].flags, SB_HDRF_LIST_LAST);
        assert_int_equal(m.hdrs_end, (uint32_t)len);
        free(copy);
        /* no colon at all on the last line */
        len = snprintf(buf, sizeof(buf), "SIP/2.0 200 OK\r\nAllow%.*s", (int)pad,
                       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
        assert_int_equal(parse_copy(&m, buf, (size_t)len, &copy), SB_EPARSE);
        assert_int_equal(m.err.offset, 16);
        free(copy);
    }
    sb_msg_deinit(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_ipv4),     cmocka_unit_test(test_via_fast_paths),
        cmocka_unit_test(test_tag_token),    cmocka_unit_test(test_to_repeats_ruri),
        cmocka_unit_test(test_header_names), cmocka_unit_test(test_line_scans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
