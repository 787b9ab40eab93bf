/* SPDX-License-Identifier: BSD-2-Clause */
/* The builders: a request forwarded by a proxy (Via, Request-URI, Max-Forwards, removals, body and
 * Content-Length), a reply made from a request, reason phrases and branch parameters. Every built
 * message is compared with hand-written bytes and parsed again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/msg_build.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static struct sb_msg *msg_parse(const char *text, size_t len)
{
    struct sb_msg *m = malloc(sizeof(*m));
    assert_non_null(m);
    sb_msg_init(m, NULL);
    assert_int_equal(sb_msg_parse(m, text, len, 0), 0);
    return m;
}

static struct sb_msg *msg_new(const char *text)
{
    return msg_parse(text, strlen(text));
}

static void msg_free(struct sb_msg *m)
{
    sb_msg_deinit(m);
    free(m);
}

static uint32_t off_of(const struct sb_msg *m, const char *needle)
{
    const char *p = memmem(m->buf, m->len, needle, strlen(needle));
    assert_non_null(p);
    return (uint32_t)(p - m->buf);
}

/* <b> must hold exactly <want>; then it is parsed as a receiver would, over a stream (so that a
 * wrong Content-Length shows) and fully. The returned message borrows from <b>. */
static struct sb_msg *expect_built(const struct sb_buf *b, const char *want)
{
    assert_non_null(b);
    char *got = strndup(b->data, b->len);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(b->len, strlen(want));
    free(got);
    assert_int_equal(sb_msg_frame(b->data, b->len, NULL), (long)b->len);
    struct sb_msg *r = malloc(sizeof(*r));
    assert_non_null(r);
    sb_msg_init(r, NULL);
    assert_int_equal(sb_msg_parse(r, b->data, b->len, SB_MSG_STREAM), 0);
    assert_int_equal(sb_msg_parse_all(r), 0);
    return r;
}

static void assert_str(sb_str got, const char *want)
{
    if (!got.p || !sb_str_eq(got, sb_str_cstr(want)))
        fail_msg("got \"%.*s\", expected \"%s\"", (int)got.len, got.p ? got.p : "(null)", want);
}

/* The branch of the <n>th Via entry. */
static sb_str via_branch(struct sb_msg *m, int n)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_VIA);
    while (h && n--)
        h = sb_msg_hdr_next(m, h);
    assert_non_null(h);
    const struct sb_via *v = sb_msg_hdr_parsed(m, h);
    assert_non_null(v);
    return v->branch;
}

static uint32_t num_of(struct sb_msg *m, enum sb_hdr_type t)
{
    uint32_t v = 0;
    assert_int_equal(sb_msg_num(m, t, &v), 0);
    return v;
}

/* ---- forwarding ----------------------------------------------------------------------------- */

#define INV_START "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
#define INV_VIA   "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
#define INV_REST                                                                                   \
    "To: Bob <sip:bob@biloxi.example.com>\r\n"                                                     \
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"                               \
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"                                         \
    "CSeq: 314159 INVITE\r\n"                                                                      \
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"                                            \
    "Content-Type: application/sdp\r\n"
#define NEW_VIA "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnew1;rport"

static void test_fwd_via_ruri_maxfwd(void **state)
{
    (void)state;
    struct sb_msg *m = msg_new(INV_START INV_VIA "Max-Forwards: 70\r\n" INV_REST
                                                 "Content-Length: 5\r\n\r\nv=0\r\n");
    struct sb_fwd_opts o = {
        .ruri = SB_STR("sip:bob@192.0.2.4:5062"),
        .via = SB_STR(NEW_VIA),
        .maxfwd_dec = 1,
    };
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    struct sb_msg *r = expect_built(b, "INVITE sip:bob@192.0.2.4:5062 SIP/2.0\r\n"
                                       "Via: " NEW_VIA "\r\n" INV_VIA
                                       "Max-Forwards: 69\r\n" INV_REST "Content-Length: 5\r\n"
                                       "\r\n"
                                       "v=0\r\n");
    /* RFC 3261 §16.6: our Via on top, the R-URI rewritten, Max-Forwards one less */
    assert_int_equal(sb_msg_hdr_count(r, SB_HDR_VIA), 2);
    assert_str(via_branch(r, 0), "z9hG4bKnew1");
    assert_true(sb_msg_via1(r)->has_rport);
    assert_str(via_branch(r, 1), "z9hG4bK776asdhds");
    const struct sb_uri *u = sb_msg_ruri(r);
    assert_non_null(u);
    assert_str(u->host, "192.0.2.4");
    assert_int_equal(u->port_no, 5062);
    assert_int_equal(num_of(r, SB_HDR_MAX_FORWARDS), 69);
    assert_int_equal(r->clen, 5);
    assert_memory_equal(r->buf + r->body.off, "v=0\r\n", 5);
    /* the build recorded nothing in the request */
    assert_int_equal(m->n_lumps, 0);
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);
}

static void test_fwd_maxfwd_added_zero_refused(void **state)
{
    (void)state;
    struct sb_msg *m = msg_new(INV_START INV_VIA INV_REST "Content-Length: 5\r\n\r\nv=0\r\n");
    struct sb_fwd_opts o = {.maxfwd_dec = 1};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    /* RFC 3261 §16.6 step 3: a request without Max-Forwards gets one of 70 */
    struct sb_msg *r = expect_built(b, INV_START INV_VIA INV_REST "Content-Length: 5\r\n"
                                                                  "Max-Forwards: 70\r\n"
                                                                  "\r\n"
                                                                  "v=0\r\n");
    assert_int_equal(num_of(r, SB_HDR_MAX_FORWARDS), 70);
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);

    m = msg_new(INV_START INV_VIA "Max-Forwards: 0\r\n" INV_REST
                                  "Content-Length: 5\r\n\r\nv=0\r\n");
    b = (struct sb_buf *)&o; /* must be reset on failure */
    assert_int_equal(sb_msg_build_request(m, &o, &b), SB_ERANGE);
    assert_null(b);
    msg_free(m);

    m = msg_new(INV_START INV_VIA "Max-Forwards: 1\r\n" INV_REST
                                  "Content-Length: 5\r\n\r\nv=0\r\n");
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    r = expect_built(b, INV_START INV_VIA "Max-Forwards: 0\r\n" INV_REST
                                          "Content-Length: 5\r\n\r\nv=0\r\n");
    assert_int_equal(num_of(r, SB_HDR_MAX_FORWARDS), 0);
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);

    /* Max-Forwards and Content-Length removed by the caller: new ones are written */
    m = msg_new(INV_START INV_VIA "Max-Forwards: 9\r\n" INV_REST
                                  "Content-Length: 5\r\n\r\nv=0\r\n");
    assert_int_equal(sb_msg_hdr_remove(m, sb_msg_hdr_first(m, SB_HDR_MAX_FORWARDS)), 0);
    assert_int_equal(sb_msg_hdr_remove(m, sb_msg_hdr_first(m, SB_HDR_CONTENT_LENGTH)), 0);
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    r = expect_built(b, INV_START INV_VIA INV_REST "Max-Forwards: 70\r\n"
                                                   "Content-Length: 5\r\n"
                                                   "\r\n"
                                                   "v=0\r\n");
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);

    /* without maxfwd_dec nothing is touched */
    m = msg_new(INV_START INV_VIA INV_REST "Content-Length: 5\r\n\r\nv=0\r\n");
    assert_int_equal(sb_msg_build_request(m, NULL, &b), 0);
    r = expect_built(b, INV_START INV_VIA INV_REST "Content-Length: 5\r\n\r\nv=0\r\n");
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);
}

#define SDP2 "v=0\r\ns=new\r\n"

static void test_fwd_body_replaced(void **state)
{
    (void)state;
    assert_int_equal(strlen(SDP2), 12);
    struct sb_msg *m = msg_new(INV_START INV_VIA INV_REST "Content-Length: 5\r\n\r\nv=0\r\n");
    struct sb_fwd_opts o = {.body = SB_STR(SDP2), .replace_body = true};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    struct sb_msg *r = expect_built(b, INV_START INV_VIA INV_REST "Content-Length: 12\r\n"
                                                                  "\r\n" SDP2);
    assert_int_equal(r->clen, 12);
    msg_free(r);
    sb_buf_unref(b);

    /* an empty new body */
    o.body = SB_STR("");
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    r = expect_built(b, INV_START INV_VIA INV_REST "Content-Length: 0\r\n\r\n");
    assert_int_equal(r->body.len, 0);
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);

    /* no Content-Length in the datagram: one is added after the other headers */
    m = msg_new(INV_START INV_VIA INV_REST "\r\nv=0\r\n");
    o.body = SB_STR(SDP2);
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    r = expect_built(b, INV_START INV_VIA INV_REST "Content-Length: 12\r\n\r\n" SDP2);
    msg_free(r);
    sb_buf_unref(b);
    /* ... and also when the body is kept */
    assert_int_equal(sb_msg_build_request(m, NULL, &b), 0);
    r = expect_built(b, INV_START INV_VIA INV_REST "Content-Length: 5\r\n\r\nv=0\r\n");
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);
}

static void test_fwd_body_lumps_fix_clen(void **state)
{
    (void)state;
    struct sb_msg *m = msg_new(INV_START INV_VIA INV_REST "Content-Length: 5\r\n\r\nv=0\r\n");
    /* an edit inside the body that keeps its length, then one that grows it */
    assert_int_equal(sb_msg_lump_replace(m, (sb_span){off_of(m, "v=0") + 2, 1}, SB_STR("1")), 0);
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_request(m, NULL, &b), 0);
    struct sb_msg *r =
        expect_built(b, INV_START INV_VIA INV_REST "Content-Length: 5\r\n\r\nv=1\r\n");
    msg_free(r);
    sb_buf_unref(b);
    assert_int_equal(sb_msg_lump_insert(m, m->len, SB_STR("a=x\r\n")), 0);
    assert_int_equal(sb_msg_build_request(m, NULL, &b), 0);
    r = expect_built(b, INV_START INV_VIA INV_REST "Content-Length: 10\r\n\r\nv=1\r\na=x\r\n");
    assert_int_equal(r->clen, 10);
    msg_free(r);
    sb_buf_unref(b);
    /* a replaced body drops the edits of the old one */
    struct sb_fwd_opts o = {.body = SB_STR(SDP2), .replace_body = true};
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    r = expect_built(b, INV_START INV_VIA INV_REST "Content-Length: 12\r\n\r\n" SDP2);
    msg_free(r);
    sb_buf_unref(b);
    assert_int_equal(m->n_lumps, 2);
    msg_free(m);
}

static void test_fwd_trailing_garbage_cut(void **state)
{
    (void)state;
    static const char text[] = INV_START INV_VIA
        "Max-Forwards: 70\r\n" INV_REST "Content-Length: 5\r\n\r\nv=0\r\nGARBAGE AFTER THE BODY";
    struct sb_msg *m = msg_parse(text, sizeof(text) - 1);
    assert_true(m->rcv_len > m->len);
    struct sb_fwd_opts o = {.via = SB_STR(NEW_VIA), .maxfwd_dec = 1};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    struct sb_msg *r =
        expect_built(b, INV_START "Via: " NEW_VIA "\r\n" INV_VIA "Max-Forwards: 69\r\n" INV_REST
                                  "Content-Length: 5\r\n\r\nv=0\r\n");
    assert_int_equal(r->len, r->rcv_len);
    assert_int_equal(r->body.len, 5);
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);
}

#define FOLDED_OPTIONS                                                                             \
    "OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"                                            \
    "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKf1,\r\n"                                             \
    "  SIP/2.0/TCP 192.0.2.8;branch=z9hG4bKf2\r\n"                                                 \
    "Subject: a folded\r\n"                                                                        \
    "\tsubject line\r\n"                                                                           \
    "From: <sip:alice@atlanta.example.com>;tag=f\r\n"                                              \
    "To:\r\n"                                                                                      \
    " <sip:carol@chicago.example.com>\r\n"                                                         \
    "Call-ID: folded-1\r\n"                                                                        \
    "CSeq: 7 OPTIONS\r\n"                                                                          \
    "Max-Forwards:\r\n"                                                                            \
    " 10\r\n"                                                                                      \
    "\r\n"

static void test_fwd_folded_headers(void **state)
{
    (void)state;
    struct sb_msg *m = msg_new(FOLDED_OPTIONS);
    struct sb_fwd_opts o = {.via = SB_STR("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnew2"),
                            .maxfwd_dec = 1};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    struct sb_msg *r = expect_built(b, "OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
                                       "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnew2\r\n"
                                       "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKf1,\r\n"
                                       "  SIP/2.0/TCP 192.0.2.8;branch=z9hG4bKf2\r\n"
                                       "Subject: a folded\r\n"
                                       "\tsubject line\r\n"
                                       "From: <sip:alice@atlanta.example.com>;tag=f\r\n"
                                       "To:\r\n"
                                       " <sip:carol@chicago.example.com>\r\n"
                                       "Call-ID: folded-1\r\n"
                                       "CSeq: 7 OPTIONS\r\n"
                                       "Max-Forwards:\r\n"
                                       " 9\r\n"
                                       "Content-Length: 0\r\n"
                                       "\r\n");
    assert_int_equal(sb_msg_hdr_count(r, SB_HDR_VIA), 3);
    assert_str(via_branch(r, 0), "z9hG4bKnew2");
    assert_str(via_branch(r, 1), "z9hG4bKf1");
    assert_str(via_branch(r, 2), "z9hG4bKf2");
    assert_int_equal(sb_msg_via2(r)->proto, SB_PROTO_UDP);
    assert_int_equal(num_of(r, SB_HDR_MAX_FORWARDS), 9);
    assert_str(sb_msg_hdr_value(r, sb_msg_hdr_find(r, SB_STR("Subject"))), "a folded subject line");
    assert_str(sb_msg_to(r)->uri.host, "chicago.example.com");
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);
}

#define ROUTED_INVITE                                                                              \
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"                                                \
    "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"                     \
    "Max-Forwards: 70\r\n"                                                                         \
    "Route: <sip:192.0.2.1;lr>, <sip:p2.example.com;lr>\r\n"                                       \
    "Route: <sip:p3.example.com;lr>\r\n"                                                           \
    "Proxy-Authorization: Digest username=\"alice\", realm=\"atlanta.example.com\",\r\n"           \
    " nonce=\"84a4cc6f3082121f32b42a2187831a9e\", uri=\"sip:bob@biloxi.example.com\",\r\n"         \
    " response=\"7587245234b3434cc3412213e5f113a5\"\r\n"                                           \
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"                               \
    "To: Bob <sip:bob@biloxi.example.com>\r\n"                                                     \
    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"                                         \
    "CSeq: 2 INVITE\r\n"                                                                           \
    "Content-Length: 0\r\n"                                                                        \
    "\r\n"

static void test_fwd_removals_and_message_lumps(void **state)
{
    (void)state;
    struct sb_msg *m = msg_new(ROUTED_INVITE);
    /* loose routing by the caller (RFC 3261 §16.4): pop our Route entry; record-route */
    assert_int_equal(sb_msg_hdr_remove(m, sb_msg_hdr_first(m, SB_HDR_ROUTE)), 0);
    assert_int_equal(sb_msg_hdr_prepend(m, SB_STR("Record-Route: <sip:192.0.2.1;lr>")), 0);
    static const uint16_t rm[] = {SB_HDR_PROXY_AUTHORIZATION};
    struct sb_fwd_opts o = {
        .ruri = SB_STR("sip:bob@192.0.2.4"),
        .via = SB_STR("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKr1"),
        .remove_types = rm,
        .n_remove = 1,
        .add_hdrs = SB_STR("X-Added: 1\r\nX-Added: 2\r\n"),
        .maxfwd_dec = 1,
    };
    const char *want = "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKr1\r\n"
                       "Record-Route: <sip:192.0.2.1;lr>\r\n"
                       "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"
                       "Max-Forwards: 69\r\n"
                       "Route: <sip:p2.example.com;lr>\r\n"
                       "Route: <sip:p3.example.com;lr>\r\n"
                       "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
                       "To: Bob <sip:bob@biloxi.example.com>\r\n"
                       "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
                       "CSeq: 2 INVITE\r\n"
                       "Content-Length: 0\r\n"
                       "X-Added: 1\r\n"
                       "X-Added: 2\r\n"
                       "\r\n";
    for (int round = 0; round < 2; round++) { /* building again gives the same bytes */
        struct sb_buf *b = NULL;
        assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
        struct sb_msg *r = expect_built(b, want);
        assert_null(sb_msg_hdr_first(r, SB_HDR_PROXY_AUTHORIZATION));
        assert_int_equal(sb_msg_hdr_count(r, SB_HDR_ROUTE), 2);
        const struct sb_nameaddr *rt = sb_msg_hdr_parsed(r, sb_msg_hdr_first(r, SB_HDR_ROUTE));
        assert_non_null(rt);
        assert_str(rt->uri.host, "p2.example.com");
        assert_int_equal(sb_msg_hdr_count(r, SB_HDR_RECORD_ROUTE), 1);
        msg_free(r);
        sb_buf_unref(b);
    }
    assert_int_equal(m->lump_err, 0);

    /* removing every Route in bulk swallows the caller's partial removal */
    static const uint16_t rm2[] = {SB_HDR_ROUTE, SB_HDR_PROXY_AUTHORIZATION, SB_HDR_ROUTE};
    struct sb_fwd_opts o2 = {.remove_types = rm2, .n_remove = 3};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_request(m, &o2, &b), 0);
    struct sb_msg *r =
        expect_built(b, "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
                        "Record-Route: <sip:192.0.2.1;lr>\r\n"
                        "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"
                        "Max-Forwards: 70\r\n"
                        "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
                        "To: Bob <sip:bob@biloxi.example.com>\r\n"
                        "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
                        "CSeq: 2 INVITE\r\n"
                        "Content-Length: 0\r\n"
                        "\r\n");
    assert_null(sb_msg_hdr_first(r, SB_HDR_ROUTE));
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);
}

static void test_fwd_per_branch(void **state)
{
    (void)state;
    struct sb_msg *m = msg_new(INV_START INV_VIA "Max-Forwards: 70\r\n" INV_REST
                                                 "Content-Length: 5\r\n\r\nv=0\r\n");
    /* the transport noted where the request came from (RFC 3261 §18.2.1) */
    struct sb_hdr *v = sb_msg_hdr_first(m, SB_HDR_VIA);
    assert_int_equal(
        sb_msg_lump_insert(m, v->value.off + v->value.len, SB_STR(";received=192.0.2.99")), 0);
    static const char *uris[] = {"sip:bob@192.0.2.4", "sip:bob@[2001:db8::4]:5070;transport=tcp"};
    static const char *vias[] = {"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb1",
                                 "SIP/2.0/TCP [2001:db8::1];branch=z9hG4bKb2"};
    static const char *wants[] = {
        "INVITE sip:bob@192.0.2.4 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb1\r\n"
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.99\r\n"
        "Max-Forwards: 69\r\n" INV_REST "Content-Length: 5\r\n\r\nv=0\r\n",
        "INVITE sip:bob@[2001:db8::4]:5070;transport=tcp SIP/2.0\r\n"
        "Via: SIP/2.0/TCP [2001:db8::1];branch=z9hG4bKb2\r\n"
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.99\r\n"
        "Max-Forwards: 69\r\n" INV_REST "Content-Length: 5\r\n\r\nv=0\r\n",
    };
    for (int i = 0; i < 2; i++) {
        struct sb_fwd_opts o = {
            .ruri = sb_str_cstr(uris[i]), .via = sb_str_cstr(vias[i]), .maxfwd_dec = 1};
        struct sb_buf *b = NULL;
        assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
        struct sb_msg *r = expect_built(b, wants[i]);
        assert_str(sb_msg_via2(r)->received, "192.0.2.99");
        assert_int_equal(sb_msg_ruri(r)->host_kind, i ? SB_HOST_IPV6 : SB_HOST_IPV4);
        msg_free(r);
        sb_buf_unref(b);
    }
    assert_int_equal(m->n_lumps, 1);
    msg_free(m);
}

/* RFC 4475 §3.1.2.9 / §3.1.2.10: extra SP in the request line are accepted, and the request is
 * forwarded with the strict form of RFC 3261 §7.1. top_hdrs land just below our Via. */
static void test_fwd_request_line_rebuilt_top_hdrs(void **state)
{
    (void)state;
    static const char *ins[] = {
        "OPTIONS  sip:bob@example.com  SIP/2.0\r\n",
        "OPTIONS sip:bob@example.com sip/2.0  \r\n",
    };
    static const char *rest = "Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKx1\r\n"
                              "Record-Route: <sip:192.0.2.5;lr>\r\n"
                              "Call-ID: c1\r\nFrom: <sip:a@example.com>;tag=1\r\n"
                              "To: <sip:bob@example.com>\r\nCSeq: 1 OPTIONS\r\n\r\n";
    for (int i = 0; i < 2; i++) {
        char text[512];
        snprintf(text, sizeof(text), "%s%s", ins[i], rest);
        struct sb_msg *m = msg_new(text);
        assert_int_equal(sb_msg_hdr_prepend(m, SB_STR("Record-Route: <sip:192.0.2.1;lr>")), 0);
        for (int k = 0; k < 2; k++) {
            struct sb_fwd_opts o = {
                .via = SB_STR("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb1"),
                .top_hdrs = SB_STR("Record-Route: <sip:198.51.100.1;transport=tcp;lr>\r\n"),
                .ruri = k ? SB_STR("sip:bob@192.0.2.9") : SB_STR_NULL,
            };
            char want[768];
            snprintf(want, sizeof(want),
                     "OPTIONS %s SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb1\r\n"
                     "Record-Route: <sip:198.51.100.1;transport=tcp;lr>\r\n"
                     "Record-Route: <sip:192.0.2.1;lr>\r\n%.*sContent-Length: 0\r\n\r\n",
                     k ? "sip:bob@192.0.2.9" : "sip:bob@example.com", (int)strlen(rest) - 2, rest);
            struct sb_buf *b = NULL;
            assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
            struct sb_msg *r = expect_built(b, want);
            msg_free(r);
            sb_buf_unref(b);
        }
        msg_free(m);
    }
}

static void test_fwd_reply_upstream(void **state)
{
    (void)state;
    struct sb_msg *m = msg_new("SIP/2.0 200 OK\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKours, "
                               "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKtheirs\r\n"
                               "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
                               "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
                               "Call-ID: a84b4c76e66710\r\n"
                               "CSeq: 314159 INVITE\r\n"
                               "Content-Length: 0\r\n"
                               "\r\n");
    /* RFC 3261 §16.7 step 3: the proxy removes its own Via before forwarding the response */
    assert_int_equal(sb_msg_hdr_remove(m, sb_msg_hdr_first(m, SB_HDR_VIA)), 0);
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_request(m, NULL, &b), 0);
    struct sb_msg *r = expect_built(b, "SIP/2.0 200 OK\r\n"
                                       "Via: SIP/2.0/UDP pc33.atlanta.example.com;"
                                       "branch=z9hG4bKtheirs\r\n"
                                       "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
                                       "From: Alice <sip:alice@atlanta.example.com>;"
                                       "tag=1928301774\r\n"
                                       "Call-ID: a84b4c76e66710\r\n"
                                       "CSeq: 314159 INVITE\r\n"
                                       "Content-Length: 0\r\n"
                                       "\r\n");
    assert_int_equal(r->status, 200);
    assert_str(via_branch(r, 0), "z9hG4bKtheirs");
    msg_free(r);
    sb_buf_unref(b);
    /* request-only options on a reply */
    struct sb_fwd_opts o = {.via = SB_STR(NEW_VIA)};
    assert_int_equal(sb_msg_build_request(m, &o, &b), SB_EINVAL);
    msg_free(m);
}

static void test_fwd_bad_options(void **state)
{
    (void)state;
    struct sb_msg *m = msg_new(ROUTED_INVITE);
    struct sb_buf *b = NULL;
    static const uint16_t other[] = {SB_HDR_OTHER};
    struct sb_fwd_opts bad[] = {
        {.ruri = SB_STR("sip:bob@x SIP/2.0")},
        {.ruri = SB_STR("")},
        {.via = SB_STR("SIP/2.0/UDP h;branch=z9hG4bKx\r\nX: y")},
        {.add_hdrs = SB_STR("X-No-Line-End: 1")},
        {.remove_types = other, .n_remove = 1},
        {.n_remove = 1},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++)
        assert_int_equal(sb_msg_build_request(m, &bad[i], &b), SB_EINVAL);
    assert_null(b);
    /* a caller's edit straddling the Request-URI conflicts with the new one */
    assert_int_equal(sb_msg_lump_delete(m, (sb_span){m->ruri.off - 1, 5}), 0);
    struct sb_fwd_opts o = {.ruri = SB_STR("sip:x@192.0.2.4")};
    assert_int_equal(sb_msg_build_request(m, &o, &b), SB_EINVAL);
    assert_int_equal(m->lump_err, 0);
    /* a request whose own edits failed is not built */
    assert_int_equal(sb_msg_lump_delete(m, (sb_span){m->ruri.off, 5}), SB_EINVAL);
    assert_int_equal(sb_msg_build_request(m, NULL, &b), SB_EINVAL);
    assert_null(b);
    msg_free(m);

    /* a malformed Max-Forwards */
    m = msg_new(INV_START INV_VIA "Max-Forwards: many\r\n" INV_REST "Content-Length: 0\r\n\r\n");
    o = (struct sb_fwd_opts){.maxfwd_dec = 1};
    assert_int_equal(sb_msg_build_request(m, &o, &b), SB_EPARSE);
    msg_free(m);
}

static void test_fwd_no_empty_line(void **state)
{
    (void)state;
    static const char head[] = "OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKe1\r\n"
                               "From: <sip:alice@atlanta.example.com>;tag=e\r\n"
                               "To: <sip:carol@chicago.example.com>\r\n"
                               "Call-ID: e-1\r\n"
                               "CSeq: 1 OPTIONS";
    struct sb_msg *m = msg_new(head);
    struct sb_fwd_opts o = {.maxfwd_dec = 1};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    struct sb_msg *r = expect_built(b, "OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
                                       "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKe1\r\n"
                                       "From: <sip:alice@atlanta.example.com>;tag=e\r\n"
                                       "To: <sip:carol@chicago.example.com>\r\n"
                                       "Call-ID: e-1\r\n"
                                       "CSeq: 1 OPTIONS\r\n"
                                       "Max-Forwards: 70\r\n"
                                       "Content-Length: 0\r\n"
                                       "\r\n");
    msg_free(r);
    sb_buf_unref(b);
    o = (struct sb_fwd_opts){.body = SB_STR("hi"), .replace_body = true};
    assert_int_equal(sb_msg_build_request(m, &o, &b), 0);
    r = expect_built(b, "OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
                        "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKe1\r\n"
                        "From: <sip:alice@atlanta.example.com>;tag=e\r\n"
                        "To: <sip:carol@chicago.example.com>\r\n"
                        "Call-ID: e-1\r\n"
                        "CSeq: 1 OPTIONS\r\n"
                        "Content-Length: 2\r\n"
                        "\r\n"
                        "hi");
    msg_free(r);
    sb_buf_unref(b);
    msg_free(m);
}

/* ---- branch --------------------------------------------------------------------------------- */

static void test_branch(void **state)
{
    (void)state;
    char br[SB_BRANCH_LEN + 1];
    assert_int_equal(sb_branch_make(br, sizeof(br), 5, 0), SB_BRANCH_LEN);
    /* cookie, "sb", worker 5 in two base-32 digits, key 0 in thirteen, then the check digit:
     * (11 + sum of digit * (2i + 1)) mod 32 = (11 + 5 * 3) mod 32 = 26, 'q' */
    assert_string_equal(br, "z9hG4bKsb05"
                            "0000000000000"
                            "q");
    assert_int_equal(br[SB_BRANCH_LEN], '\0');
    assert_int_equal(sb_branch_make(br, sizeof(br), 1023, UINT64_MAX), SB_BRANCH_LEN);
    assert_string_equal(br, "z9hG4bKsbvv"
                            "fvvvvvvvvvvvv"
                            "q");
    assert_int_equal(sb_branch_worker(sb_str_cstr(br)), 1023);
    assert_int_equal(sb_branch_make(br, sizeof(br), 33, 0x123456789abcdefull), SB_BRANCH_LEN);
    assert_string_equal(br, "z9hG4bKsb11"
                            "028q5cu4qnjff"
                            "o");

    static const unsigned workers[] = {0, 1, 7, 31, 32, 500, 1023};
    static const uint64_t keys[] = {0, 1, 42, 0xdeadbeefcafef00dull, UINT64_MAX};
    for (size_t i = 0; i < SB_ARRAY_LEN(workers); i++) {
        for (size_t k = 0; k < SB_ARRAY_LEN(keys); k++) {
            assert_int_equal(sb_branch_make(br, sizeof(br), workers[i], keys[k]), SB_BRANCH_LEN);
            sb_str s = {br, SB_BRANCH_LEN};
            assert_int_equal(sb_branch_worker(s), (int)workers[i]);
            /* a peer may change the case of parameter values (RFC 3261 §7.3.1) */
            char up[SB_BRANCH_LEN];
            for (int c = 0; c < SB_BRANCH_LEN; c++)
                up[c] = (char)(br[c] >= 'a' && br[c] <= 'z' ? br[c] - 32 : br[c]);
            assert_int_equal(sb_branch_worker((sb_str){up, SB_BRANCH_LEN}), (int)workers[i]);
            /* any other check character is not ours */
            char save = br[SB_BRANCH_LEN - 1];
            for (const char *d = "0123456789abcdefghijklmnopqrstuv"; *d; d++) {
                br[SB_BRANCH_LEN - 1] = *d;
                if (*d != save)
                    assert_int_equal(sb_branch_worker(s), -1);
            }
            br[SB_BRANCH_LEN - 1] = save;
            /* nor a changed key digit */
            br[15] = br[15] == '0' ? '1' : '0';
            assert_int_equal(sb_branch_worker(s), -1);
        }
    }
    assert_int_equal(sb_branch_worker(SB_STR("z9hG4bK776asdhds")), -1);
    assert_int_equal(sb_branch_worker(SB_STR("z9hG4bKsb05g0000000000000")), -1);
    assert_int_equal(sb_branch_worker(SB_STR("z9hG4bKsb0w00000000000000")), -1);
    assert_int_equal(sb_branch_worker(SB_STR_NULL), -1);
    assert_int_equal(sb_branch_make(br, SB_BRANCH_LEN - 1, 1, 1), 0);
    assert_int_equal(sb_branch_make(br, sizeof(br), SB_BRANCH_MAX_WORKER + 1, 1), 0);
    char exact[SB_BRANCH_LEN];
    assert_int_equal(sb_branch_make(exact, sizeof(exact), 2, 9), SB_BRANCH_LEN);
    assert_int_equal(sb_branch_worker((sb_str){exact, sizeof(exact)}), 2);
}

/* ---- replies -------------------------------------------------------------------------------- */

#define RR_FIELDS                                                                                  \
    "Record-Route: <sip:proxy2.example.com;lr>\r\n"                                                \
    "Record-Route: <sip:proxy1.example.com;lr>, <sip:edge.example.com;lr>\r\n"
#define REQ_VIAS                                                                                   \
    "Via: SIP/2.0/UDP proxy2.example.com:5060;branch=z9hG4bK721e4.1\r\n"                           \
    "v: SIP/2.0/UDP proxy1.example.com;branch=z9hG4bKa1, "                                         \
    "SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bKa2;received=192.0.2.3\r\n"                            \
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
#define REQ_FROM    "f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
#define REQ_CALL_ID "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
#define REQ_CSEQ    "CSeq: 314159 INVITE\r\n"
#define REQ                                                                                        \
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n" REQ_VIAS "Max-Forwards: 68\r\n" RR_FIELDS      \
    "To: Bob <sip:bob@biloxi.example.com>\r\n" REQ_FROM REQ_CALL_ID REQ_CSEQ                       \
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"                                            \
    "Content-Type: application/sdp\r\n"                                                            \
    "Content-Length: 5\r\n"                                                                        \
    "\r\n"                                                                                         \
    "v=0\r\n"

static void check_reply_vias(struct sb_msg *r)
{
    assert_int_equal(sb_msg_hdr_count(r, SB_HDR_VIA), 4);
    assert_str(via_branch(r, 0), "z9hG4bK721e4.1");
    assert_str(via_branch(r, 1), "z9hG4bKa1");
    assert_str(via_branch(r, 2), "z9hG4bKa2");
    assert_str(via_branch(r, 3), "z9hG4bK776asdhds");
}

static void test_reply_ringing_vias_and_tag(void **state)
{
    (void)state;
    struct sb_msg *req = msg_new(REQ);
    struct sb_reply_opts o = {.code = 180, .to_tag = SB_STR("a6c85cf")};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    struct sb_msg *r =
        expect_built(b, "SIP/2.0 180 Ringing\r\n" REQ_VIAS REQ_FROM
                        "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n" REQ_CALL_ID REQ_CSEQ
                        "Content-Length: 0\r\n"
                        "\r\n");
    assert_int_equal(r->kind, SB_MSG_REPLY);
    assert_int_equal(r->status, 180);
    assert_int_equal(r->method_id, SB_METHOD_INVITE);
    check_reply_vias(r);
    assert_str(sb_msg_to(r)->tag, "a6c85cf");
    assert_str(sb_msg_from(r)->tag, "1928301774");
    assert_str(sb_msg_callid(r), "a84b4c76e66710@pc33.atlanta.example.com");
    assert_int_equal(sb_msg_cseq(r)->num, 314159);
    assert_null(sb_msg_hdr_first(r, SB_HDR_RECORD_ROUTE));
    msg_free(r);
    sb_buf_unref(b);
    msg_free(req);
}

static void test_reply_trying_no_tag(void **state)
{
    (void)state;
    struct sb_msg *req = msg_new(REQ);
    /* RFC 3261 §8.2.6.2: a 100 may carry a tag; ours does not */
    struct sb_reply_opts o = {.code = 100, .to_tag = SB_STR("a6c85cf")};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    struct sb_msg *r = expect_built(
        b, "SIP/2.0 100 Trying\r\n" REQ_VIAS REQ_FROM
           "To: Bob <sip:bob@biloxi.example.com>\r\n" REQ_CALL_ID REQ_CSEQ "Content-Length: 0\r\n"
           "\r\n");
    assert_null(sb_msg_to(r)->tag.p);
    check_reply_vias(r);
    msg_free(r);
    sb_buf_unref(b);
    /* no tag given: none added, whatever the code */
    o = (struct sb_reply_opts){.code = 486};
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    r = expect_built(b, "SIP/2.0 486 Busy Here\r\n" REQ_VIAS REQ_FROM
                        "To: Bob <sip:bob@biloxi.example.com>\r\n" REQ_CALL_ID REQ_CSEQ
                        "Content-Length: 0\r\n"
                        "\r\n");
    msg_free(r);
    sb_buf_unref(b);
    msg_free(req);
}

static void test_reply_existing_tag_kept(void **state)
{
    (void)state;
    static const char *tos[] = {
        "To: Bob <sip:bob@biloxi.example.com>;tag=xyz\r\n",
        "To: sip:bob@biloxi.example.com;tag=xyz\r\n",
        "t: <sip:bob@biloxi.example.com> ; TAG = xyz\r\n",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(tos); i++) {
        char req_text[1024], want[1024];
        snprintf(req_text, sizeof(req_text),
                 "BYE sip:bob@192.0.2.4 SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKbye\r\n"
                 "%s" REQ_FROM "Call-ID: c9\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
                 tos[i]);
        snprintf(want, sizeof(want),
                 "SIP/2.0 200 OK\r\n"
                 "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKbye\r\n" REQ_FROM
                 "%sCall-ID: c9\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
                 tos[i]);
        struct sb_msg *req = msg_new(req_text);
        struct sb_reply_opts o = {.code = 200, .to_tag = SB_STR("other")};
        struct sb_buf *b = NULL;
        assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
        struct sb_msg *r = expect_built(b, want);
        assert_str(sb_msg_to(r)->tag, "xyz");
        assert_int_equal(r->method_id, SB_METHOD_BYE);
        msg_free(r);
        sb_buf_unref(b);
        msg_free(req);
    }
}

static void test_reply_reason_phrases(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *phrase;
    } t[] = {
        {100, "Trying"},
        {180, "Ringing"},
        {181, "Call Is Being Forwarded"},
        {182, "Queued"},
        {183, "Session Progress"},
        {200, "OK"},
        {202, "Accepted"},
        {302, "Moved Temporarily"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {407, "Proxy Authentication Required"},
        {408, "Request Timeout"},
        {415, "Unsupported Media Type"},
        {420, "Bad Extension"},
        {422, "Session Interval Too Small"},
        {423, "Interval Too Brief"},
        {480, "Temporarily Unavailable"},
        {481, "Call/Transaction Does Not Exist"},
        {482, "Loop Detected"},
        {483, "Too Many Hops"},
        {486, "Busy Here"},
        {487, "Request Terminated"},
        {488, "Not Acceptable Here"},
        {489, "Bad Event"},
        {491, "Request Pending"},
        {500, "Server Internal Error"},
        {503, "Service Unavailable"},
        {504, "Server Time-out"},
        {505, "Version Not Supported"},
        {513, "Message Too Large"},
        {600, "Busy Everywhere"},
        {603, "Decline"},
        {604, "Does Not Exist Anywhere"},
        {606, "Not Acceptable"},
        {499, "Client Error"},
        {299, "Success"},
        {199, "Early Dialog Terminated"},
        {150, "Provisional"},
        {650, "Global Failure"},
        {99, "Unknown"},
        {700, "Unknown"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(t); i++)
        assert_str(sb_reason_phrase(t[i].code), t[i].phrase);

    /* the default in a reply, and a caller's own phrase */
    struct sb_msg *req = msg_new(REQ);
    struct sb_reply_opts o = {.code = 481};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    assert_memory_equal(b->data, "SIP/2.0 481 Call/Transaction Does Not Exist\r\nVia: ", 50);
    sb_buf_unref(b);
    o = (struct sb_reply_opts){.code = 403, .reason = SB_STR("Go Away"), .to_tag = SB_STR("t1")};
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    struct sb_msg *r =
        expect_built(b, "SIP/2.0 403 Go Away\r\n" REQ_VIAS REQ_FROM
                        "To: Bob <sip:bob@biloxi.example.com>;tag=t1\r\n" REQ_CALL_ID REQ_CSEQ
                        "Content-Length: 0\r\n\r\n");
    assert_memory_equal(r->buf + r->reason.off, "Go Away", 7);
    msg_free(r);
    sb_buf_unref(b);
    msg_free(req);
}

static void test_reply_extras_body_rr(void **state)
{
    (void)state;
    struct sb_msg *req = msg_new(REQ);
    struct sb_reply_opts o = {
        .code = 200,
        .to_tag = SB_STR("9a8b7c"),
        .hdrs = SB_STR("Contact: <sip:bob@192.0.2.4>\r\nAllow: INVITE, ACK, BYE\r\n"),
        .body = SB_STR("v=0\r\ns=-\r\n"),
        .content_type = SB_STR("application/sdp"),
        .copy_record_route = true,
        .server = SB_STR("Switchboard"),
    };
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    struct sb_msg *r = expect_built(
        b, "SIP/2.0 200 OK\r\n" REQ_VIAS REQ_FROM
           "To: Bob <sip:bob@biloxi.example.com>;tag=9a8b7c\r\n" REQ_CALL_ID REQ_CSEQ RR_FIELDS
           "Server: Switchboard\r\n"
           "Contact: <sip:bob@192.0.2.4>\r\n"
           "Allow: INVITE, ACK, BYE\r\n"
           "Content-Type: application/sdp\r\n"
           "Content-Length: 10\r\n"
           "\r\n"
           "v=0\r\ns=-\r\n");
    check_reply_vias(r);
    /* RFC 3261 §12.1.1: Record-Route values in the order of the request */
    assert_int_equal(sb_msg_hdr_count(r, SB_HDR_RECORD_ROUTE), 3);
    struct sb_hdr *h = sb_msg_hdr_first(r, SB_HDR_RECORD_ROUTE);
    static const char *hosts[] = {"proxy2.example.com", "proxy1.example.com", "edge.example.com"};
    for (int i = 0; i < 3; i++, h = sb_msg_hdr_next(r, h)) {
        const struct sb_nameaddr *na = sb_msg_hdr_parsed(r, h);
        assert_non_null(na);
        assert_str(na->uri.host, hosts[i]);
    }
    assert_true(sb_msg_has_token(r, SB_HDR_ALLOW, SB_STR("BYE")));
    assert_int_equal(r->clen, 10);
    msg_free(r);
    sb_buf_unref(b);

    /* a Content-Type without a body is not written */
    o = (struct sb_reply_opts){
        .code = 200, .to_tag = SB_STR("t"), .content_type = SB_STR("application/sdp")};
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    r = expect_built(b, "SIP/2.0 200 OK\r\n" REQ_VIAS REQ_FROM
                        "To: Bob <sip:bob@biloxi.example.com>;tag=t\r\n" REQ_CALL_ID REQ_CSEQ
                        "Content-Length: 0\r\n\r\n");
    assert_null(sb_msg_hdr_first(r, SB_HDR_CONTENT_TYPE));
    msg_free(r);
    sb_buf_unref(b);

    /* a body without a Content-Type: the caller's choice, no header invented */
    o = (struct sb_reply_opts){.code = 200, .to_tag = SB_STR("t"), .body = SB_STR("x")};
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    r = expect_built(b, "SIP/2.0 200 OK\r\n" REQ_VIAS REQ_FROM
                        "To: Bob <sip:bob@biloxi.example.com>;tag=t\r\n" REQ_CALL_ID REQ_CSEQ
                        "Content-Length: 1\r\n\r\nx");
    msg_free(r);
    sb_buf_unref(b);
    msg_free(req);
}

static void test_reply_folded_and_received(void **state)
{
    (void)state;
    struct sb_msg *req = msg_new(FOLDED_OPTIONS);
    /* the transport adds received/rport to the top Via (RFC 3261 §18.2.1, RFC 3581 §4), and a line
     * at the top of the headers that has nothing to do with the reply */
    struct sb_hdr *v = sb_msg_hdr_first(req, SB_HDR_VIA);
    assert_int_equal(
        sb_msg_lump_insert(req, v->value.off + v->value.len, SB_STR(";received=198.51.100.7")), 0);
    assert_int_equal(sb_msg_hdr_prepend(req, SB_STR("X-Top: 1")), 0);
    struct sb_reply_opts o = {.code = 200, .to_tag = SB_STR("t9")};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    struct sb_msg *r = expect_built(b, "SIP/2.0 200 OK\r\n"
                                       "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKf1"
                                       ";received=198.51.100.7,\r\n"
                                       "  SIP/2.0/TCP 192.0.2.8;branch=z9hG4bKf2\r\n"
                                       "From: <sip:alice@atlanta.example.com>;tag=f\r\n"
                                       "To:\r\n"
                                       " <sip:carol@chicago.example.com>;tag=t9\r\n"
                                       "Call-ID: folded-1\r\n"
                                       "CSeq: 7 OPTIONS\r\n"
                                       "Content-Length: 0\r\n"
                                       "\r\n");
    assert_str(sb_msg_via1(r)->received, "198.51.100.7");
    assert_str(via_branch(r, 1), "z9hG4bKf2");
    assert_str(sb_msg_to(r)->tag, "t9");
    msg_free(r);
    sb_buf_unref(b);
    msg_free(req);
}

static void test_reply_write_caller_buffer(void **state)
{
    (void)state;
    struct sb_msg *req = msg_new(REQ);
    struct sb_reply_opts o = {.code = 183,
                              .to_tag = SB_STR("ee1"),
                              .body = SB_STR("v=0\r\n"),
                              .content_type = SB_STR("application/sdp"),
                              .copy_record_route = true};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    assert_int_equal(sb_msg_reply_len(req, &o), b->len);
    char buf[2048];
    struct sb_wbuf w;
    sb_wbuf_init(&w, buf, sizeof(buf));
    assert_int_equal(sb_msg_reply_write(req, &o, &w), 0);
    assert_int_equal(w.len, b->len);
    assert_memory_equal(buf, b->data, b->len);
    sb_wbuf_init(&w, buf, b->len - 1);
    assert_int_equal(sb_msg_reply_write(req, &o, &w), SB_ENOSPC);
    sb_buf_unref(b);
    msg_free(req);
}

static void test_reply_refused(void **state)
{
    (void)state;
    struct sb_msg *req = msg_new(REQ);
    struct sb_buf *b = NULL;
    struct sb_reply_opts bad[] = {
        {.code = 99},
        {.code = 700},
        {.code = 200, .to_tag = SB_STR("a b")},
        {.code = 200, .to_tag = SB_STR("")},
        {.code = 200, .reason = SB_STR("OK\r\nX-Injected: 1")},
        {.code = 200, .server = SB_STR("x\ny")},
        {.code = 200, .hdrs = SB_STR("X-No-Line-End: 1")},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        assert_int_equal(sb_msg_build_reply(req, &bad[i], &b), SB_EINVAL);
        assert_int_equal(sb_msg_reply_len(req, &bad[i]), 0);
    }
    assert_null(b);
    msg_free(req);

    /* RFC 3261 §17: an ACK gets no reply; nor does a reply */
    struct sb_reply_opts o = {.code = 200};
    req = msg_new("ACK sip:bob@192.0.2.4 SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKack\r\n" REQ_FROM
                  "To: <sip:bob@biloxi.example.com>;tag=x\r\nCall-ID: c\r\nCSeq: 1 ACK\r\n\r\n");
    assert_int_equal(sb_msg_build_reply(req, &o, &b), SB_EINVAL);
    msg_free(req);
    req = msg_new("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKr\r\n\r\n");
    assert_int_equal(sb_msg_build_reply(req, &o, &b), SB_EINVAL);
    msg_free(req);
}

static void test_reply_to_broken_request(void **state)
{
    (void)state;
    /* no CSeq and a To the parser refuses, with a tag in it: the 400 still goes out, without a
     * second tag */
    struct sb_msg *req = msg_new("OPTIONS sip:bob@192.0.2.4 SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKbr\r\n"
                                 "From: <sip:alice@atlanta.example.com>;tag=f\r\n"
                                 "To: <sip:bob@ex ample.com>;tag=abc\r\n"
                                 "Call-ID: broken-1\r\n"
                                 "\r\n");
    assert_int_equal(sb_msg_parse_all(req), SB_EPARSE);
    assert_null(sb_msg_to(req));
    struct sb_reply_opts o = {
        .code = 400, .reason = SB_STR("Missing CSeq"), .to_tag = SB_STR("t400")};
    struct sb_buf *b = NULL;
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    char *got = strndup(b->data, b->len);
    assert_string_equal(got, "SIP/2.0 400 Missing CSeq\r\n"
                             "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKbr\r\n"
                             "From: <sip:alice@atlanta.example.com>;tag=f\r\n"
                             "To: <sip:bob@ex ample.com>;tag=abc\r\n"
                             "Call-ID: broken-1\r\n"
                             "Content-Length: 0\r\n"
                             "\r\n");
    free(got);
    struct sb_msg *r = msg_parse(b->data, b->len);
    assert_int_equal(r->status, 400);
    assert_int_equal(sb_msg_hdr_count(r, SB_HDR_VIA), 1);
    msg_free(r);
    sb_buf_unref(b);
    msg_free(req);

    /* ";tag=" inside the <URI> of a refused To is a URI parameter, not the tag; and a last header
     * line without its line end (no empty line in the datagram) gets one */
    req = msg_new("OPTIONS sip:bob@192.0.2.4 SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKbr2\r\n"
                  "To: <sip:bob@ex ample.com;tag=u>\r\n"
                  "From: <sip:alice@atlanta.example.com>;tag=f\r\n"
                  "Call-ID: broken-2\r\n"
                  "CSeq: 1 OPTIONS");
    assert_null(sb_msg_to(req));
    o.to_tag = SB_STR("t401");
    o.reason = SB_STR("Bad To");
    assert_int_equal(sb_msg_build_reply(req, &o, &b), 0);
    assert_int_equal(sb_msg_reply_len(req, &o), b->len);
    got = strndup(b->data, b->len);
    assert_string_equal(got, "SIP/2.0 400 Bad To\r\n"
                             "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKbr2\r\n"
                             "From: <sip:alice@atlanta.example.com>;tag=f\r\n"
                             "To: <sip:bob@ex ample.com;tag=u>;tag=t401\r\n"
                             "Call-ID: broken-2\r\n"
                             "CSeq: 1 OPTIONS\r\n"
                             "Content-Length: 0\r\n"
                             "\r\n");
    free(got);
    sb_buf_unref(b);
    msg_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fwd_via_ruri_maxfwd),
        cmocka_unit_test(test_fwd_request_line_rebuilt_top_hdrs),
        cmocka_unit_test(test_fwd_maxfwd_added_zero_refused),
        cmocka_unit_test(test_fwd_body_replaced),
        cmocka_unit_test(test_fwd_body_lumps_fix_clen),
        cmocka_unit_test(test_fwd_trailing_garbage_cut),
        cmocka_unit_test(test_fwd_folded_headers),
        cmocka_unit_test(test_fwd_removals_and_message_lumps),
        cmocka_unit_test(test_fwd_per_branch),
        cmocka_unit_test(test_fwd_reply_upstream),
        cmocka_unit_test(test_fwd_bad_options),
        cmocka_unit_test(test_fwd_no_empty_line),
        cmocka_unit_test(test_branch),
        cmocka_unit_test(test_reply_ringing_vias_and_tag),
        cmocka_unit_test(test_reply_trying_no_tag),
        cmocka_unit_test(test_reply_existing_tag_kept),
        cmocka_unit_test(test_reply_reason_phrases),
        cmocka_unit_test(test_reply_extras_body_rr),
        cmocka_unit_test(test_reply_folded_and_received),
        cmocka_unit_test(test_reply_write_caller_buffer),
        cmocka_unit_test(test_reply_refused),
        cmocka_unit_test(test_reply_to_broken_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
