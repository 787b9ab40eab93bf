/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the message core: start line, header index (names, compact forms, folding, comma
 * lists, duplicates), Content-Length framing, limits, the stream framer and arena behaviour. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/arena.h"
#include "sb/buf.h"
#include "sb/msg.h"

/* The header lines every request below carries, 6 index entries. */
#define REQ_HDRS                                                                                   \
    "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n"                                \
    "Max-Forwards: 70\r\n"                                                                         \
    "To: Bob <sip:bob@example.com>\r\n"                                                            \
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                                       \
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"                                                 \
    "CSeq: 314159 INVITE\r\n"

#define RESP_HDRS                                                                                  \
    "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n"                                \
    "To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n"                                                \
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                                       \
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"                                                 \
    "CSeq: 314159 INVITE\r\n"

/* Each test gets a fresh message with default limits. */
static int msg_setup(void **state)
{
    struct sb_msg *m = malloc(sizeof(*m));
    if (!m)
        return -1;
    sb_msg_init(m, NULL);
    *state = m;
    return 0;
}

static int msg_teardown(void **state)
{
    struct sb_msg *m = *state;
    sb_msg_deinit(m);
    free(m);
    sb_arena_fail_after = 0;
    return 0;
}

static int parse(struct sb_msg *m, const char *s, unsigned flags)
{
    return sb_msg_parse(m, s, strlen(s), flags);
}

static void check_str(sb_str v, const char *expect)
{
    size_t n = strlen(expect);
    if (v.len != n || (n && memcmp(v.p, expect, n) != 0))
        fail_msg("got \"%.*s\" (%zu bytes), expected \"%s\" (%zu bytes)", (int)v.len,
                 v.p ? v.p : "", v.len, expect, n);
}

static void check_span(const struct sb_msg *m, sb_span s, const char *expect)
{
    check_str(sb_msg_span(m, s), expect);
}

static void check_value(const struct sb_msg *m, const struct sb_hdr *h, const char *expect)
{
    assert_non_null(h);
    check_str(sb_msg_hdr_value(m, h), expect);
}

static void check_reason(const struct sb_msg *m, const char *expect)
{
    char r[128];
    size_t n = sb_msg_err_reason(m, r, sizeof(r));
    assert_int_equal(n, strlen(r));
    assert_string_equal(r, expect);
}

/* ---- start line ---------------------------------------------------------------------------- */

static void test_request_line(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] = "INVITE sip:bob@example.com SIP/2.0\r\n" REQ_HDRS "\r\n";
    assert_int_equal(parse(m, msg, 0), 0);
    assert_int_equal(m->kind, SB_MSG_REQUEST);
    assert_true(sb_msg_is_request(m));
    check_str(sb_msg_method(m), "INVITE");
    assert_int_equal(m->method_id, SB_METHOD_INVITE);
    check_span(m, m->ruri, "sip:bob@example.com");
    check_span(m, m->version, "SIP/2.0");
    check_span(m, m->start_line, "INVITE sip:bob@example.com SIP/2.0");
    assert_int_equal(m->status, 0);
    assert_int_equal(m->n_hdrs, 6);
    assert_int_equal(m->len, sizeof(msg) - 1);
    assert_int_equal(m->rcv_len, sizeof(msg) - 1);
    assert_int_equal(m->hdrs_end, sizeof(msg) - 3);
    assert_int_equal(m->body.off, sizeof(msg) - 1);
    assert_int_equal(m->body.len, 0);
    assert_false(m->has_clen);
    assert_int_equal(m->err.code, 0);
    assert_int_equal(sb_msg_err_status(m), 0);
}

static void test_request_methods(void **state)
{
    struct sb_msg *m = *state;
    static const struct {
        const char *line;
        const char *method;
        uint32_t id;
    } cases[] = {
        {"ACK sip:a@b SIP/2.0\r\n", "ACK", SB_METHOD_ACK},
        {"BYE sip:a@b SIP/2.0\r\n", "BYE", SB_METHOD_BYE},
        {"CANCEL sip:a@b SIP/2.0\r\n", "CANCEL", SB_METHOD_CANCEL},
        {"REGISTER sip:b SIP/2.0\r\n", "REGISTER", SB_METHOD_REGISTER},
        {"OPTIONS sip:a@b SIP/2.0\r\n", "OPTIONS", SB_METHOD_OPTIONS},
        {"SUBSCRIBE sip:a@b SIP/2.0\r\n", "SUBSCRIBE", SB_METHOD_SUBSCRIBE},
        {"NOTIFY sip:a@b SIP/2.0\r\n", "NOTIFY", SB_METHOD_NOTIFY},
        {"MESSAGE sip:a@b SIP/2.0\r\n", "MESSAGE", SB_METHOD_MESSAGE},
        {"PRACK sip:a@b SIP/2.0\r\n", "PRACK", SB_METHOD_PRACK},
        {"REFER sip:a@b SIP/2.0\r\n", "REFER", SB_METHOD_REFER},
        /* RFC 4475 §3.1.1.2 (intmeth.dat): extension methods are tokens, unknown to us */
        {"NEWMETHOD sip:a@b SIP/2.0\r\n", "NEWMETHOD", SB_METHOD_OTHER},
        {"!interesting-Method0123456789_*+`.%indeed'~ sip:a@b SIP/2.0\r\n",
         "!interesting-Method0123456789_*+`.%indeed'~", SB_METHOD_OTHER},
        /* RFC3261-7.1: the method is case-sensitive: "invite" is an extension method */
        {"invite sip:a@b SIP/2.0\r\n", "invite", SB_METHOD_OTHER},
        {"INVITEX sip:a@b SIP/2.0\r\n", "INVITEX", SB_METHOD_OTHER},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        char buf[512];
        snprintf(buf, sizeof(buf), "%s%s\r\n", cases[i].line, REQ_HDRS);
        assert_int_equal(parse(m, buf, 0), 0);
        assert_int_equal(m->kind, SB_MSG_REQUEST);
        check_str(sb_msg_method(m), cases[i].method);
        assert_int_equal(m->method_id, cases[i].id);
    }
    /* a method with a non-token character */
    assert_int_equal(parse(m, "INV@ITE sip:a@b SIP/2.0\r\n" REQ_HDRS "\r\n", 0), SB_EPARSE);
    assert_int_equal(m->err.part, SB_MSG_ERRP_METHOD);
    assert_int_equal(sb_msg_err_status(m), 400);
}

static void test_ruri_kept_raw(void **state)
{
    struct sb_msg *m = *state;
    /* The index does not judge the Request-URI: any scheme, escapes and odd characters are kept
     * byte for byte; sb_msg_ruri() parses it later. */
    static const char *const uris[] = {
        "sip:bob@example.com",
        "sips:bob@example.com:5061;transport=tcp?subject=hi",
        "tel:+1-201-555-0123;phone-context=example.com",
        "urn:service:sos",
        "http://www.example.com/a?b=c",
        "im:alice@example.com",
        "sip:%61lice@[2001:db8::10]:5070;lr",
        "*",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(uris); i++) {
        char buf[512];
        snprintf(buf, sizeof(buf), "OPTIONS %s SIP/2.0\r\n%s\r\n", uris[i], REQ_HDRS);
        assert_int_equal(parse(m, buf, 0), 0);
        check_span(m, m->ruri, uris[i]);
        assert_int_equal(m->ruri.off, 8);
    }
}

static void test_multiple_sp(void **state)
{
    struct sb_msg *m = *state;
    /* RFC 4475 §3.1.2.9-10 style: extra SP between the elements and at the end are tolerated */
    assert_int_equal(parse(m, "INVITE   sip:bob@example.com \t SIP/2.0  \r\n" REQ_HDRS "\r\n", 0),
                     0);
    check_str(sb_msg_method(m), "INVITE");
    check_span(m, m->ruri, "sip:bob@example.com");
    check_span(m, m->version, "SIP/2.0");

    assert_int_equal(parse(m, "SIP/2.0   180   Ringing\r\n" RESP_HDRS "\r\n", 0), 0);
    assert_int_equal(m->kind, SB_MSG_REPLY);
    assert_int_equal(m->status, 180);
}

static void test_status_line(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] = "SIP/2.0 200 OK\r\n" RESP_HDRS "Content-Length: 0\r\n\r\n";
    assert_int_equal(parse(m, msg, 0), 0);
    assert_int_equal(m->kind, SB_MSG_REPLY);
    assert_false(sb_msg_is_request(m));
    assert_int_equal(m->status, 200);
    check_span(m, m->reason, "OK");
    check_span(m, m->version, "SIP/2.0");
    check_span(m, m->start_line, "SIP/2.0 200 OK");
    assert_int_equal(m->method.len, 0);
    assert_int_equal(m->ruri.len, 0);
    assert_int_equal(m->n_hdrs, 6);
}

static void test_status_codes(void **state)
{
    struct sb_msg *m = *state;
    static const struct {
        const char *code;
        int status; /* 0: rejected */
    } cases[] = {
        {"100", 100}, {"101", 101}, {"199", 199}, {"200", 200}, {"302", 302}, {"404", 404},
        {"599", 599}, {"600", 600}, {"699", 699}, {"099", 0},   {"000", 0},   {"700", 0},
        {"999", 0},   {"1000", 0},  {"20", 0},    {"2", 0},     {"2x0", 0},   {"20a", 0},
        {"-200", 0},  {"+200", 0},  {"0200", 0},  {"", 0},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        char buf[512];
        snprintf(buf, sizeof(buf), "SIP/2.0 %s Whatever\r\n%s\r\n", cases[i].code, RESP_HDRS);
        int rc = parse(m, buf, 0);
        if (cases[i].status) {
            assert_int_equal(rc, 0);
            assert_int_equal(m->status, cases[i].status);
        } else {
            if (rc != SB_EPARSE)
                fail_msg("status \"%s\" gave %d", cases[i].code, rc);
            assert_int_equal(m->err.part, SB_MSG_ERRP_STATUS);
            assert_int_equal(sb_msg_err_status(m), 400);
            check_reason(m, "Bad Status Line");
        }
    }
}

static void test_reason_phrase(void **state)
{
    struct sb_msg *m = *state;
    /* RFC3261-25.1: Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII /
     * UTF8-CONT / SP / HTAB): it may be empty and carry UTF-8 */
    assert_int_equal(parse(m, "SIP/2.0 200\r\n" RESP_HDRS "\r\n", 0), 0);
    assert_int_equal(m->status, 200);
    assert_int_equal(m->reason.len, 0);
    check_span(m, m->start_line, "SIP/2.0 200");

    assert_int_equal(parse(m, "SIP/2.0 200 \r\n" RESP_HDRS "\r\n", 0), 0);
    assert_int_equal(m->reason.len, 0);

    assert_int_equal(parse(m, "SIP/2.0 183 Session Progress\r\n" RESP_HDRS "\r\n", 0), 0);
    check_span(m, m->reason, "Session Progress");

    /* RFC 4475 §3.1.1.12 (unreason.dat): a UTF-8 reason phrase */
    static const char utf8[] = "\xe2\x80\x9c\xe2\x80\x9c\xe5\x8f\x8b";
    char buf[512];
    snprintf(buf, sizeof(buf), "SIP/2.0 200 = 2**3 * 5**2 %s\r\n%s\r\n", utf8, RESP_HDRS);
    assert_int_equal(parse(m, buf, 0), 0);
    char expect[64];
    snprintf(expect, sizeof(expect), "= 2**3 * 5**2 %s", utf8);
    check_span(m, m->reason, expect);

    /* control characters have no place in a reason phrase */
    assert_int_equal(parse(m, "SIP/2.0 200 O\x01K\r\n" RESP_HDRS "\r\n", 0), SB_EPARSE);
    assert_int_equal(sb_msg_err_status(m), 400);
}

static void test_version_case(void **state)
{
    struct sb_msg *m = *state;
    /* RFC3261-7.1: the SIP-Version string is case-insensitive */
    assert_int_equal(parse(m, "INVITE sip:bob@example.com sip/2.0\r\n" REQ_HDRS "\r\n", 0), 0);
    assert_int_equal(m->kind, SB_MSG_REQUEST);
    check_span(m, m->version, "sip/2.0");
    assert_int_equal(parse(m, "INVITE sip:bob@example.com Sip/2.0\r\n" REQ_HDRS "\r\n", 0), 0);

    assert_int_equal(parse(m, "sip/2.0 200 OK\r\n" RESP_HDRS "\r\n", 0), 0);
    assert_int_equal(m->kind, SB_MSG_REPLY);
    assert_int_equal(m->status, 200);
    check_span(m, m->reason, "OK");
    assert_int_equal(parse(m, "sIP/2.0 486 Busy Here\r\n" RESP_HDRS "\r\n", 0), 0);
    assert_int_equal(m->kind, SB_MSG_REPLY);
    assert_int_equal(m->status, 486);
}

static void test_version_unsupported(void **state)
{
    struct sb_msg *m = *state;
    /* RFC 4475 §3.1.2.16 (badvers.dat): SIP/7.0 → 505 */
    static const char *const reqs[] = {
        "INVITE sip:bob@example.com SIP/3.0\r\n" REQ_HDRS "\r\n",
        "OPTIONS sip:t.watson@example.org SIP/7.0\r\n" REQ_HDRS "\r\n",
        "INVITE sip:bob@example.com SIP/2.1\r\n" REQ_HDRS "\r\n",
        "INVITE sip:bob@example.com SIP/20.0\r\n" REQ_HDRS "\r\n",
        "SIP/3.0 200 OK\r\n" RESP_HDRS "\r\n",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(reqs); i++) {
        assert_int_equal(parse(m, reqs[i], 0), SB_EVERSION);
        assert_int_equal(m->err.code, SB_EVERSION);
        assert_int_equal(m->err.part, SB_MSG_ERRP_VERSION);
        assert_int_equal(sb_msg_err_status(m), 505);
        check_reason(m, "Version Not Supported");
    }
}

static void test_start_line_junk(void **state)
{
    struct sb_msg *m = *state;
    static const char *const junk[] = {
        "hello\r\n" REQ_HDRS "\r\n",
        "hello world\r\n" REQ_HDRS "\r\n",
        "INVITE sip:bob@example.com\r\n" REQ_HDRS "\r\n",
        "INVITE sip:bob@example.com SIP/2.0 extra\r\n" REQ_HDRS "\r\n",
        /* RFC 4475 §3.1.2.8 (lwsruri.dat): LWS inside the Request-URI */
        "INVITE sip:user@example.com; lr SIP/2.0\r\n" REQ_HDRS "\r\n",
        "INVITE sip:bob@example.com HTTP/1.1\r\n" REQ_HDRS "\r\n",
        "INVITE sip:bob@example.com SIP/2\r\n" REQ_HDRS "\r\n",
        "INVITE sip:bob@example.com SIP/.0\r\n" REQ_HDRS "\r\n",
        "INVITE sip:bob@example.com SIP/2.\r\n" REQ_HDRS "\r\n",
        "INVITE sip:bob@example.com SIP2.0\r\n" REQ_HDRS "\r\n",
        "SIP/2.0\r\n" RESP_HDRS "\r\n",
        "SIP/2.0 OK\r\n" RESP_HDRS "\r\n",
        "SIP/x.y 200 OK\r\n" RESP_HDRS "\r\n",
        "\x01\x02\x03\r\n\r\n",
        " \r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(junk); i++) {
        int rc = parse(m, junk[i], 0);
        if (rc != SB_EPARSE)
            fail_msg("case %zu gave %d", i, rc);
        assert_int_equal(m->err.code, SB_EPARSE);
        assert_int_equal(sb_msg_err_status(m), 400);
    }
    /* an empty datagram and one of CRLFs only */
    assert_int_equal(sb_msg_parse(m, "", 0, 0), SB_EPARSE);
    assert_int_equal(sb_msg_err_status(m), 400);
    assert_int_equal(parse(m, "\r\n\r\n", 0), SB_EPARSE);
    assert_int_equal(m->err.part, SB_MSG_ERRP_START_LINE);
}

static void test_leading_crlf(void **state)
{
    struct sb_msg *m = *state;
    /* RFC3261-7.5: CRLFs before the start line are ignored */
    static const char msg[] = "\r\n\r\n\nOPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "\r\n";
    assert_int_equal(parse(m, msg, 0), 0);
    assert_int_equal(m->start_line.off, 5);
    check_span(m, m->start_line, "OPTIONS sip:a@b SIP/2.0");
    assert_int_equal(m->n_hdrs, 6);
}

static void test_bare_lf(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] = "MESSAGE sip:bob@example.com SIP/2.0\n"
                              "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\n"
                              "From: <sip:alice@example.com>;tag=1\n"
                              "To: <sip:bob@example.com>\r\n"
                              "Call-ID: lf@a.example.com\n"
                              "Subject: two\n words\n"
                              "CSeq: 1 MESSAGE\n"
                              "Content-Length: 5\n"
                              "\n"
                              "hello";
    assert_int_equal(parse(m, msg, 0), 0);
    check_span(m, m->start_line, "MESSAGE sip:bob@example.com SIP/2.0");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_VIA), "SIP/2.0/UDP a.example.com;branch=z9hG4bK1");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_TO), "<sip:bob@example.com>");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_CALL_ID), "lf@a.example.com");
    struct sb_hdr *subj = sb_msg_hdr_first(m, SB_HDR_SUBJECT);
    check_value(m, subj, "two words");
    assert_true(subj->flags & SB_HDRF_FOLDED);
    check_value(m, sb_msg_hdr_first(m, SB_HDR_CONTENT_LENGTH), "5");
    assert_int_equal(m->n_hdrs, 7);
    check_span(m, m->body, "hello");
    assert_int_equal(m->len, sizeof(msg) - 1);
    assert_int_equal(m->hdrs_end, sizeof(msg) - 1 - 5 - 1);
}

/* ---- header names --------------------------------------------------------------------------- */

static void test_hdr_lookup(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum sb_hdr_type t;
    } cases[] = {
        {"Via", SB_HDR_VIA},
        {"VIA", SB_HDR_VIA},
        {"via", SB_HDR_VIA},
        {"vIa", SB_HDR_VIA},
        {"From", SB_HDR_FROM},
        {"TO", SB_HDR_TO},
        {"call-id", SB_HDR_CALL_ID},
        {"CALL-ID", SB_HDR_CALL_ID},
        {"cseq", SB_HDR_CSEQ},
        {"Contact", SB_HDR_CONTACT},
        {"max-forwards", SB_HDR_MAX_FORWARDS},
        {"Route", SB_HDR_ROUTE},
        {"record-route", SB_HDR_RECORD_ROUTE},
        {"Content-Length", SB_HDR_CONTENT_LENGTH},
        {"content-type", SB_HDR_CONTENT_TYPE},
        {"WWW-Authenticate", SB_HDR_WWW_AUTHENTICATE},
        {"www-authenticate", SB_HDR_WWW_AUTHENTICATE},
        {"Proxy-Authorization", SB_HDR_PROXY_AUTHORIZATION},
        {"Authorization", SB_HDR_AUTHORIZATION},
        {"Supported", SB_HDR_SUPPORTED},
        {"Session-Expires", SB_HDR_SESSION_EXPIRES},
        {"P-Asserted-Identity", SB_HDR_P_ASSERTED_IDENTITY},
        {"sip-etag", SB_HDR_SIP_ETAG},
        {"RAck", SB_HDR_RACK},
        {"Privacy", SB_HDR_PRIVACY},
        /* compact forms, RFC3261-7.3.3 and the IANA registry */
        {"i", SB_HDR_CALL_ID},
        {"m", SB_HDR_CONTACT},
        {"e", SB_HDR_CONTENT_ENCODING},
        {"l", SB_HDR_CONTENT_LENGTH},
        {"f", SB_HDR_FROM},
        {"t", SB_HDR_TO},
        {"v", SB_HDR_VIA},
        {"s", SB_HDR_SUBJECT},
        {"k", SB_HDR_SUPPORTED},
        {"c", SB_HDR_CONTENT_TYPE},
        {"o", SB_HDR_EVENT},
        {"u", SB_HDR_ALLOW_EVENTS},
        {"r", SB_HDR_REFER_TO},
        {"b", SB_HDR_REFERRED_BY},
        {"x", SB_HDR_SESSION_EXPIRES},
        {"y", SB_HDR_IDENTITY},
        {"a", SB_HDR_ACCEPT_CONTACT},
        {"j", SB_HDR_REJECT_CONTACT},
        {"d", SB_HDR_REQUEST_DISPOSITION},
        {"I", SB_HDR_CALL_ID},
        {"V", SB_HDR_VIA},
        {"L", SB_HDR_CONTENT_LENGTH},
        /* not headers we know */
        {"q", SB_HDR_OTHER},
        {"z", SB_HDR_OTHER},
        {"1", SB_HDR_OTHER},
        {"\xe9", SB_HDR_OTHER},
        {"Vias", SB_HDR_OTHER},
        {"Vi", SB_HDR_OTHER},
        {"Call_ID", SB_HDR_OTHER},
        {"X-Custom", SB_HDR_OTHER},
        {"Content-Lengt", SB_HDR_OTHER},
        {"Content-Lengthh", SB_HDR_OTHER},
        {"", SB_HDR_OTHER},
        /* only letters fold: CR is not '-' and '@' is not '`' */
        {"Call\rID", SB_HDR_OTHER},
        {"Content\rLength", SB_HDR_OTHER},
        {"Max\rForwards", SB_HDR_OTHER},
        {"Vi\x01", SB_HDR_OTHER},
        {"Supp\xefrted", SB_HDR_OTHER},
        {"P-Preferred-Identity-X", SB_HDR_OTHER},
        {"A-Name-Longer-Than-Any-Known-Header", SB_HDR_OTHER},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        enum sb_hdr_type t = sb_hdr_lookup(sb_str_cstr(cases[i].name));
        if (t != cases[i].t)
            fail_msg("\"%s\" gave %d, expected %d", cases[i].name, t, cases[i].t);
    }
    assert_int_equal(sb_hdr_lookup((sb_str){"To\0", 3}), SB_HDR_OTHER);
    assert_int_equal(sb_hdr_lookup((sb_str){"Via\0\0\0\0\0", 8}), SB_HDR_OTHER);
    /* every canonical name maps back to its type, in any case */
    for (int t = 1; t < SB_HDR__COUNT; t++) {
        char up[64];
        const char *n = sb_hdr_info[t].name;
        size_t k = 0;
        for (; n[k] && k < sizeof(up) - 1; k++)
            up[k] = (char)((n[k] >= 'a' && n[k] <= 'z') ? n[k] - 32 : n[k]);
        up[k] = '\0';
        assert_int_equal(sb_hdr_lookup(sb_str_cstr(n)), t);
        assert_int_equal(sb_hdr_lookup(sb_str_cstr(up)), t);
        /* alternate case, and every one-byte change of the name misses */
        for (size_t j = 0; j < k; j += 2)
            up[j] = (char)(up[j] | 0x20);
        assert_int_equal(sb_hdr_lookup(sb_str_cstr(up)), t);
        for (size_t j = 0; j < k; j++) {
            char c = up[j];
            up[j] = c == '-' ? '_' : '-';
            assert_int_not_equal(sb_hdr_lookup((sb_str){up, k}), t);
            up[j] = c;
        }
    }
}

static void test_hdr_names_in_index(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
                              "v: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1\r\n"
                              "f: <sip:alice@example.com>;tag=1\r\n"
                              "T: <sip:bob@example.com>\r\n"
                              "i: compact@example.com\r\n"
                              "CSEQ: 1 INVITE\r\n"
                              "m: <sip:alice@pc33.example.com>\r\n"
                              "c: application/sdp\r\n"
                              "e: gzip\r\n"
                              "s: compact subject\r\n"
                              "k: 100rel\r\n"
                              "o: presence\r\n"
                              "u: dialog\r\n"
                              "r: <sip:carol@example.com>\r\n"
                              "b: <sip:dave@example.com>\r\n"
                              "x: 1800\r\n"
                              "y: abc\r\n"
                              "a: *;audio\r\n"
                              "j: *;video\r\n"
                              "d: proxy\r\n"
                              "mAX-fORWARDS : 70\r\n"
                              "X-Custom\t:  yes\r\n"
                              "l: 0\r\n"
                              "\r\n";
    static const enum sb_hdr_type order[] = {
        SB_HDR_VIA,
        SB_HDR_FROM,
        SB_HDR_TO,
        SB_HDR_CALL_ID,
        SB_HDR_CSEQ,
        SB_HDR_CONTACT,
        SB_HDR_CONTENT_TYPE,
        SB_HDR_CONTENT_ENCODING,
        SB_HDR_SUBJECT,
        SB_HDR_SUPPORTED,
        SB_HDR_EVENT,
        SB_HDR_ALLOW_EVENTS,
        SB_HDR_REFER_TO,
        SB_HDR_REFERRED_BY,
        SB_HDR_SESSION_EXPIRES,
        SB_HDR_IDENTITY,
        SB_HDR_ACCEPT_CONTACT,
        SB_HDR_REJECT_CONTACT,
        SB_HDR_REQUEST_DISPOSITION,
        SB_HDR_MAX_FORWARDS,
        SB_HDR_OTHER,
        SB_HDR_CONTENT_LENGTH,
    };
    assert_int_equal(parse(m, msg, SB_MSG_STREAM), 0);
    assert_int_equal(m->n_hdrs, SB_ARRAY_LEN(order));
    for (size_t i = 0; i < SB_ARRAY_LEN(order); i++) {
        const struct sb_hdr *h = &m->hdrs[i];
        assert_int_equal(h->type, order[i]);
        assert_int_equal(h->idx, i);
        assert_ptr_equal(sb_msg_hdr_first(m, order[i]), h);
        /* a one-letter name of a known header is its compact form */
        bool compact = h->name.len == 1;
        assert_int_equal(!!(h->flags & SB_HDRF_COMPACT), compact);
    }
    check_str(sb_msg_hdr_name(m, sb_msg_hdr_first(m, SB_HDR_TO)), "T");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_CALL_ID), "compact@example.com");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_SUBJECT), "compact subject");
    /* "Name SP* :" is allowed (RFC3261-7.3.1 HCOLON) */
    check_str(sb_msg_hdr_name(m, sb_msg_hdr_first(m, SB_HDR_MAX_FORWARDS)), "mAX-fORWARDS");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_MAX_FORWARDS), "70");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_OTHER), "yes");
    assert_true(m->has_clen);
    assert_int_equal(m->clen, 0);

    /* sb_msg_hdr_find takes long and compact names of known headers, in any case */
    assert_ptr_equal(sb_msg_hdr_find(m, SB_STR("Call-ID")), &m->hdrs[3]);
    assert_ptr_equal(sb_msg_hdr_find(m, SB_STR("CALL-ID")), &m->hdrs[3]);
    assert_ptr_equal(sb_msg_hdr_find(m, SB_STR("i")), &m->hdrs[3]);
    assert_ptr_equal(sb_msg_hdr_find(m, SB_STR("via")), &m->hdrs[0]);
    assert_ptr_equal(sb_msg_hdr_find(m, SB_STR("Content-Length")), &m->hdrs[21]);
}

static void test_hdr_find_unknown(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "X-First: 1\r\n"
                              "P-Charging-Vector: icid-value=1\r\n"
                              "x-first: 2\r\n"
                              "X-Second: 3\r\n"
                              "Z: compact-looking but unknown\r\n"
                              "\r\n";
    assert_int_equal(parse(m, msg, 0), 0);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_OTHER), 5);
    struct sb_hdr *h = sb_msg_hdr_find(m, SB_STR("x-FIRST"));
    check_value(m, h, "1");
    check_str(sb_msg_hdr_name(m, h), "X-First");
    /* the other entries of the same name follow on the OTHER chain */
    h = sb_msg_hdr_next(m, h);
    check_str(sb_msg_hdr_name(m, h), "P-Charging-Vector");
    h = sb_msg_hdr_next(m, h);
    check_value(m, h, "2");
    check_value(m, sb_msg_hdr_find(m, SB_STR("X-SECOND")), "3");
    check_value(m, sb_msg_hdr_find(m, SB_STR("p-charging-vector")), "icid-value=1");
    check_value(m, sb_msg_hdr_find(m, SB_STR("z")), "compact-looking but unknown");
    assert_null(sb_msg_hdr_find(m, SB_STR("X-Third")));
    assert_null(sb_msg_hdr_find(m, SB_STR("X-Firs")));
    assert_null(sb_msg_hdr_find(m, SB_STR("X-First2")));
    assert_null(sb_msg_hdr_find(m, SB_STR("")));
    /* known but absent */
    assert_null(sb_msg_hdr_find(m, SB_STR("Route")));
    assert_null(sb_msg_hdr_find(m, SB_STR("k")));
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_ROUTE), 0);
}

/* ---- folding, repeats, comma lists ---------------------------------------------------------- */

static void test_folding(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] =
        "INVITE sip:bob@example.com SIP/2.0\r\n" REQ_HDRS "Subject: I know you're there,\r\n"
        "         pick up the phone\r\n"
        "\t \tand talk to me!\r\n"
        "Via: SIP/2.0/UDP\r\n"
        "  second.example.com;branch=z9hG4bK2\r\n"
        "User-Agent: plain\r\n"
        "\r\n";
    assert_int_equal(parse(m, msg, 0), 0);
    struct sb_hdr *s = sb_msg_hdr_first(m, SB_HDR_SUBJECT);
    assert_non_null(s);
    assert_true(s->flags & SB_HDRF_FOLDED);
    /* RFC3261-7.3.1: each fold reads as a single SP */
    check_value(m, s, "I know you're there, pick up the phone and talk to me!");
    /* the raw span still points into the buffer and keeps the line breaks */
    assert_true(s->value.off > 0 && s->value.off + s->value.len <= m->len);
    check_span(m, s->value,
               "I know you're there,\r\n         pick up the phone\r\n\t \tand talk "
               "to me!");
    check_span(m, s->field,
               "Subject: I know you're there,\r\n         pick up the phone\r\n"
               "\t \tand talk to me!\r\n");
    check_span(m, s->name, "Subject");
    /* the unfolded copy lives outside the received buffer */
    assert_true(s->unfolded < m->buf || s->unfolded >= m->buf + m->rcv_len);

    struct sb_hdr *v = sb_msg_hdr_next(m, sb_msg_hdr_first(m, SB_HDR_VIA));
    assert_non_null(v);
    assert_true(v->flags & SB_HDRF_FOLDED);
    check_value(m, v, "SIP/2.0/UDP second.example.com;branch=z9hG4bK2");
    assert_true(v->flags & SB_HDRF_LIST_FIRST);
    assert_true(v->flags & SB_HDRF_LIST_LAST);

    struct sb_hdr *ua = sb_msg_hdr_first(m, SB_HDR_USER_AGENT);
    assert_false(ua->flags & SB_HDRF_FOLDED);
    assert_null(ua->unfolded);
    check_value(m, ua, "plain");
    /* the field after a folded one starts right after its last continuation line */
    check_span(m, ua->field, "User-Agent: plain\r\n");
}

static void test_folding_list(void **state)
{
    struct sb_msg *m = *state;
    /* a fold between list values belongs to neither value */
    static const char msg[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,\r\n"
                              "     SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n"
                              "  , SIP/2.0/UDP c.example.com\r\n"
                              " ;branch=z9hG4bK3\r\n"
                              "From: <sip:alice@example.com>;tag=1\r\n"
                              "To: <sip:bob@example.com>\r\n"
                              "Call-ID: fold@a\r\n"
                              "CSeq: 1 INVITE\r\n"
                              "Content-Length:\r\n"
                              " 0\r\n"
                              "\r\n";
    assert_int_equal(parse(m, msg, SB_MSG_STREAM), 0);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_VIA), 3);
    struct sb_hdr *v = sb_msg_hdr_first(m, SB_HDR_VIA);
    check_value(m, v, "SIP/2.0/UDP a.example.com;branch=z9hG4bK1");
    assert_false(v->flags & SB_HDRF_FOLDED);
    v = sb_msg_hdr_next(m, v);
    check_value(m, v, "SIP/2.0/TCP b.example.com;branch=z9hG4bK2");
    assert_false(v->flags & SB_HDRF_FOLDED);
    v = sb_msg_hdr_next(m, v);
    assert_true(v->flags & SB_HDRF_FOLDED);
    check_value(m, v, "SIP/2.0/UDP c.example.com ;branch=z9hG4bK3");
    /* all three share one field */
    assert_int_equal(v->field.off, m->hdrs[0].field.off);
    assert_int_equal(v->field.len, m->hdrs[0].field.len);
    assert_true(m->has_clen);
    assert_int_equal(m->clen, 0);
}

static void test_repeated_headers(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] = "SIP/2.0 200 OK\r\n"
                              "Via: SIP/2.0/UDP one.example.com;branch=z9hG4bK1\r\n"
                              "Record-Route: <sip:p1.example.com;lr>\r\n"
                              "Via: SIP/2.0/UDP two.example.com;branch=z9hG4bK2\r\n"
                              "From: <sip:alice@example.com>;tag=1\r\n"
                              "Record-Route: <sip:p2.example.com;lr>\r\n"
                              "v: SIP/2.0/UDP three.example.com;branch=z9hG4bK3\r\n"
                              "To: <sip:bob@example.com>;tag=2\r\n"
                              "Call-ID: rep@example.com\r\n"
                              "CSeq: 7 INVITE\r\n"
                              "Record-Route: <sip:p3.example.com;lr>\r\n"
                              "\r\n";
    assert_int_equal(parse(m, msg, 0), 0);
    assert_int_equal(m->n_hdrs, 10);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_VIA), 3);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_RECORD_ROUTE), 3);
    static const char *const vias[] = {
        "SIP/2.0/UDP one.example.com;branch=z9hG4bK1",
        "SIP/2.0/UDP two.example.com;branch=z9hG4bK2",
        "SIP/2.0/UDP three.example.com;branch=z9hG4bK3",
    };
    static const unsigned via_idx[] = {0, 2, 5};
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_VIA);
    for (size_t i = 0; i < 3; i++) {
        assert_non_null(h);
        assert_int_equal(h->idx, via_idx[i]);
        check_value(m, h, vias[i]);
        h = sb_msg_hdr_next(m, h);
    }
    assert_null(h);
    assert_int_equal(m->last[SB_HDR_VIA], 6);
    static const unsigned rr_idx[] = {1, 4, 9};
    h = sb_msg_hdr_first(m, SB_HDR_RECORD_ROUTE);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(h->idx, rr_idx[i]);
        h = sb_msg_hdr_next(m, h);
    }
    assert_null(h);
    assert_null(sb_msg_hdr_first(m, SB_HDR_ROUTE));
    assert_null(sb_msg_hdr_first(m, SB_HDR_OTHER));
    /* the index is in order of appearance */
    for (uint32_t i = 1; i < m->n_hdrs; i++)
        assert_true(m->hdrs[i].field.off > m->hdrs[i - 1].field.off);
}

static void test_comma_lists(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] =
        "REGISTER sip:example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1 , SIP/2.0/UDP b.example.com;branch=2,"
        "SIP/2.0/UDP c.example.com (comment, with comma);branch=3\r\n"
        "Contact: <sip:a@x>;q=0.5, \"Bob, Jr.\" <sip:b@y>, <sip:c,d@z>;x=\"1,2\" ,"
        " \"say \\\"hi, there\\\"\" <sip:e@w>\r\n"
        "Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>\r\n"
        "Supported: 100rel, timer ,replaces,path\r\n"
        "Allow: INVITE\r\n"
        "Require:\r\n"
        "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"abc\", qop=\"auth,auth-int\"\r\n"
        "Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"abc\"\r\n"
        "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
        "Subject: one, two, three\r\n"
        "User-Agent: Foo/1.0 (Linux, x86)\r\n"
        "From: <sip:alice@example.com>;tag=1\r\n"
        "To: <sip:alice@example.com>\r\n"
        "Call-ID: list@example.com\r\n"
        "CSeq: 2 REGISTER\r\n"
        "\r\n";
    assert_int_equal(parse(m, msg, 0), 0);

    static const char *const vias[] = {
        "SIP/2.0/UDP a.example.com;branch=z9hG4bK1",
        "SIP/2.0/UDP b.example.com;branch=2",
        "SIP/2.0/UDP c.example.com (comment, with comma);branch=3",
    };
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_VIA);
    for (size_t i = 0; i < SB_ARRAY_LEN(vias); i++, h = sb_msg_hdr_next(m, h))
        check_value(m, h, vias[i]);
    assert_null(h);

    static const char *const contacts[] = {
        "<sip:a@x>;q=0.5",
        "\"Bob, Jr.\" <sip:b@y>",
        "<sip:c,d@z>;x=\"1,2\"",
        "\"say \\\"hi, there\\\"\" <sip:e@w>",
    };
    static const uint16_t cflags[] = {SB_HDRF_LIST_FIRST, 0, 0, SB_HDRF_LIST_LAST};
    h = sb_msg_hdr_first(m, SB_HDR_CONTACT);
    for (size_t i = 0; i < SB_ARRAY_LEN(contacts); i++, h = sb_msg_hdr_next(m, h)) {
        check_value(m, h, contacts[i]);
        assert_int_equal(h->flags & (SB_HDRF_LIST_FIRST | SB_HDRF_LIST_LAST), cflags[i]);
        assert_int_equal(h->field.off, m->hdrs[3].field.off);
    }
    assert_null(h);

    h = sb_msg_hdr_first(m, SB_HDR_ROUTE);
    check_value(m, h, "<sip:p1.example.com;lr>");
    check_value(m, sb_msg_hdr_next(m, h), "<sip:p2.example.com;lr>");

    static const char *const sup[] = {"100rel", "timer", "replaces", "path"};
    h = sb_msg_hdr_first(m, SB_HDR_SUPPORTED);
    for (size_t i = 0; i < SB_ARRAY_LEN(sup); i++, h = sb_msg_hdr_next(m, h))
        check_value(m, h, sup[i]);
    assert_null(h);

    /* a one-value list is both first and last; an empty one is one empty value */
    h = sb_msg_hdr_first(m, SB_HDR_ALLOW);
    assert_int_equal(h->flags & (SB_HDRF_LIST_FIRST | SB_HDRF_LIST_LAST),
                     SB_HDRF_LIST_FIRST | SB_HDRF_LIST_LAST);
    check_value(m, sb_msg_hdr_first(m, SB_HDR_REQUIRE), "");
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_REQUIRE), 1);

    /* headers that are not lists keep their commas */
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_WWW_AUTHENTICATE), 1);
    check_value(m, sb_msg_hdr_first(m, SB_HDR_WWW_AUTHENTICATE),
                "Digest realm=\"example.com\", nonce=\"abc\", qop=\"auth,auth-int\"");
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_AUTHORIZATION), 1);
    check_value(m, sb_msg_hdr_first(m, SB_HDR_AUTHORIZATION),
                "Digest username=\"alice\", realm=\"example.com\", nonce=\"abc\"");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_DATE), "Sat, 13 Nov 2010 23:29:00 GMT");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_SUBJECT), "one, two, three");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_USER_AGENT), "Foo/1.0 (Linux, x86)");
    assert_int_equal(m->n_hdrs, 3 + 4 + 2 + 4 + 1 + 1 + 5 + 4);
}

static void test_duplicate_single(void **state)
{
    struct sb_msg *m = *state;
    static const struct {
        const char *line1, *line2;
        enum sb_hdr_type t;
        const char *reason;
    } cases[] = {
        {"From: <sip:a@b>;tag=1", "From: <sip:c@d>;tag=2", SB_HDR_FROM, "Duplicate From"},
        {"f: <sip:a@b>;tag=1", "FROM: <sip:c@d>;tag=2", SB_HDR_FROM, "Duplicate From"},
        {"To: <sip:a@b>", "t: <sip:c@d>", SB_HDR_TO, "Duplicate To"},
        {"Call-ID: one@x", "Call-ID: two@x", SB_HDR_CALL_ID, "Duplicate Call-ID"},
        {"i: one@x", "call-id: two@x", SB_HDR_CALL_ID, "Duplicate Call-ID"},
        /* RFC 4475 §3.3.8 (multi01.dat): two values for a single-value field */
        {"CSeq: 1 OPTIONS", "CSeq: 2 OPTIONS", SB_HDR_CSEQ, "Duplicate CSeq"},
        {"Max-Forwards: 70", "Max-Forwards: 69", SB_HDR_MAX_FORWARDS, "Duplicate Max-Forwards"},
        {"Content-Length: 0", "l: 0", SB_HDR_CONTENT_LENGTH, "Duplicate Content-Length"},
        {"Content-Type: text/plain", "c: text/plain", SB_HDR_CONTENT_TYPE,
         "Duplicate Content-Type"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        char buf[512];
        int n = snprintf(buf, sizeof(buf),
                         "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\n"
                         "%s\r\nX-Between: 1\r\n",
                         cases[i].line1);
        size_t off2 = (size_t)n;
        snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\r\n\r\n", cases[i].line2);
        assert_int_equal(parse(m, buf, 0), SB_EPARSE);
        assert_int_equal(m->err.part, SB_MSG_ERRP_HEADER);
        assert_int_equal(m->err.hdr_type, cases[i].t);
        assert_int_equal(m->err.offset, off2);
        assert_int_equal(sb_msg_err_status(m), 400);
        check_reason(m, cases[i].reason);
    }
    char d[128];
    sb_msg_err_describe(m, d, sizeof(d));
    assert_string_equal(d, "duplicate Content-Type at offset 101");

    /* list headers and extension headers may repeat */
    assert_int_equal(parse(m,
                           "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "Contact: <sip:a@b>\r\n"
                           "Contact: <sip:c@d>\r\nX-A: 1\r\nX-A: 2\r\n"
                           "Subject: a\r\nSubject: b\r\n\r\n",
                           0),
                     0);
}

/* ---- Content-Length and the body ------------------------------------------------------------ */

static void test_clen_datagram_extra(void **state)
{
    struct sb_msg *m = *state;
    /* RFC3261-18.3: octets of a datagram beyond Content-Length are discarded */
    static const char msg[] = "MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_HDRS
                              "Content-Length: 5\r\n\r\nhello, and some trailing junk";
    assert_int_equal(parse(m, msg, 0), 0);
    assert_true(m->has_clen);
    assert_int_equal(m->clen, 5);
    check_span(m, m->body, "hello");
    assert_int_equal(m->rcv_len, sizeof(msg) - 1);
    assert_int_equal(m->len, sizeof(msg) - 1 - strlen(", and some trailing junk"));
    assert_int_equal(m->body.off + m->body.len, m->len);
}

static void test_clen_rules(void **state)
{
    struct sb_msg *m = *state;
    /* body exactly as long as announced, compact form */
    assert_int_equal(parse(m, "MESSAGE sip:a@b SIP/2.0\r\n" REQ_HDRS "l: 3\r\n\r\nabc", 0), 0);
    check_span(m, m->body, "abc");
    assert_int_equal(m->len, m->rcv_len);

    /* Content-Length: 0 with trailing bytes: no body */
    assert_int_equal(
        parse(m, "MESSAGE sip:a@b SIP/2.0\r\n" REQ_HDRS "Content-Length: 0\r\n\r\nxyz", 0), 0);
    assert_int_equal(m->body.len, 0);
    assert_int_equal(m->rcv_len - m->len, 3);

    /* RFC 4475 §3.1.2.2-3 (clerr.dat, ncl.dat): too long, negative and absurd values */
    static const char *const bad[] = {"10",  "-1", "-0", "1x", "4294967296", "99999999999999999999",
                                      "3 4", "+3", "0x3"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        char buf[512];
        snprintf(buf, sizeof(buf), "MESSAGE sip:a@b SIP/2.0\r\n%sContent-Length: %s\r\n\r\nabc",
                 REQ_HDRS, bad[i]);
        if (parse(m, buf, 0) != SB_EPARSE)
            fail_msg("Content-Length \"%s\" accepted", bad[i]);
        assert_int_equal(sb_msg_err_status(m), 400);
        check_reason(m, "Bad Content-Length");
    }
    /* a short body is a framing error pointing at the body */
    parse(m, "MESSAGE sip:a@b SIP/2.0\r\n" REQ_HDRS "Content-Length: 10\r\n\r\nabc", 0);
    assert_int_equal(m->err.part, SB_MSG_ERRP_BODY);

    /* leading zeros and surrounding LWS are fine */
    assert_int_equal(parse(m,
                           "MESSAGE sip:a@b SIP/2.0\r\n" REQ_HDRS "Content-Length:  003 \r\n\r\n"
                           "abcdef",
                           0),
                     0);
    assert_int_equal(m->clen, 3);
    check_span(m, m->body, "abc");
}

static void test_clen_absent(void **state)
{
    struct sb_msg *m = *state;
    /* datagram: the body is the rest of the datagram */
    static const char msg[] = "MESSAGE sip:a@b SIP/2.0\r\n" REQ_HDRS "\r\nthe whole rest\r\n";
    assert_int_equal(parse(m, msg, 0), 0);
    assert_false(m->has_clen);
    check_span(m, m->body, "the whole rest\r\n");
    assert_int_equal(m->len, sizeof(msg) - 1);

    /* RFC3261-18.3: on a stream, Content-Length is mandatory */
    assert_int_equal(parse(m, msg, SB_MSG_STREAM), SB_EPARSE);
    assert_int_equal(m->err.part, SB_MSG_ERRP_BODY);
    assert_int_equal(sb_msg_err_status(m), 400);
    assert_true(m->is_stream);

    /* stream with Content-Length */
    static const char smsg[] =
        "MESSAGE sip:a@b SIP/2.0\r\n" REQ_HDRS "Content-Length: 4\r\n\r\nbody";
    assert_int_equal(parse(m, smsg, SB_MSG_STREAM), 0);
    check_span(m, m->body, "body");
    assert_int_equal(m->len, sizeof(smsg) - 1);

    /* a datagram that ends after its last header line, without the empty line */
    static const char nohdrend[] = "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS;
    assert_int_equal(parse(m, nohdrend, 0), 0);
    assert_int_equal(m->n_hdrs, 6);
    assert_int_equal(m->body.len, 0);
    assert_int_equal(m->hdrs_end, sizeof(nohdrend) - 1);
    assert_int_equal(parse(m, nohdrend, SB_MSG_STREAM), SB_EPARSE);
}

/* ---- limits --------------------------------------------------------------------------------- */

static void test_limit_size(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "\r\n";
    const uint32_t n = sizeof(msg) - 1;
    struct sb_msg_limits lim = sb_msg_limits_default;
    struct sb_msg lm;
    lim.max_size = n;
    sb_msg_init(&lm, &lim);
    assert_int_equal(parse(&lm, msg, 0), 0);
    lim.max_size = n - 1;
    assert_int_equal(parse(&lm, msg, 0), SB_ELIMIT);
    assert_int_equal(lm.err.part, SB_MSG_ERRP_LIMIT);
    assert_int_equal(sb_msg_err_status(&lm), 513);
    check_reason(&lm, "Message Too Large");
    sb_msg_deinit(&lm);

    /* the default limit */
    size_t big = sb_msg_limits_default.max_size + 1;
    char *buf = malloc(big);
    assert_non_null(buf);
    memcpy(buf, msg, n);
    memset(buf + n, 'x', big - n);
    assert_int_equal(sb_msg_parse(m, buf, big, 0), SB_ELIMIT);
    assert_int_equal(sb_msg_err_status(m), 513);
    free(buf);
}

static void test_limit_headers(void **state)
{
    (void)state;
    struct sb_msg_limits lim = sb_msg_limits_default;
    struct sb_msg lm;
    lim.max_headers = 8;
    sb_msg_init(&lm, &lim);
    /* 6 + 2 list values = 8 entries: fits */
    assert_int_equal(parse(&lm, "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "k: a, b\r\n\r\n", 0), 0);
    assert_int_equal(lm.n_hdrs, 8);
    /* the ninth entry, here the third value of a list, is over */
    assert_int_equal(parse(&lm, "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "k: a, b, c\r\n\r\n", 0),
                     SB_ELIMIT);
    assert_int_equal(lm.err.part, SB_MSG_ERRP_LIMIT);
    assert_int_equal(lm.err.hdr_type, SB_HDR_SUPPORTED);
    assert_int_equal(sb_msg_err_status(&lm), 400);
    check_reason(&lm, "Bad Supported (too many headers)");
    sb_msg_deinit(&lm);

    /* more than the default 512 */
    size_t cap = 600 * 16 + 512;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n = (size_t)snprintf(buf, cap, "OPTIONS sip:a@b SIP/2.0\r\n%s", REQ_HDRS);
    for (int i = 0; i < 600; i++)
        n += (size_t)snprintf(buf + n, cap - n, "X-H%03d: %d\r\n", i, i);
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    struct sb_msg dm;
    sb_msg_init(&dm, NULL);
    assert_int_equal(sb_msg_parse(&dm, buf, n, 0), SB_ELIMIT);
    assert_int_equal(dm.n_hdrs, 512);
    assert_int_equal(sb_msg_err_status(&dm), 400);
    sb_msg_deinit(&dm);
    free(buf);
}

static void test_limit_line(void **state)
{
    (void)state;
    struct sb_msg_limits lim = sb_msg_limits_default;
    struct sb_msg lm;
    lim.max_line = 64;
    sb_msg_init(&lm, &lim);
    /* "Subject: " + 53 bytes + CRLF = 64: fits */
    char buf[1024];
    char val[128];
    memset(val, 's', 53);
    val[53] = '\0';
    snprintf(buf, sizeof(buf), "OPTIONS sip:a@b SIP/2.0\r\n%sSubject: %s\r\n\r\n", REQ_HDRS, val);
    assert_int_equal(parse(&lm, buf, 0), 0);
    val[53] = 's';
    val[54] = '\0';
    snprintf(buf, sizeof(buf), "OPTIONS sip:a@b SIP/2.0\r\n%sSubject: %s\r\n\r\n", REQ_HDRS, val);
    assert_int_equal(parse(&lm, buf, 0), SB_ELIMIT);
    assert_int_equal(lm.err.hdr_type, SB_HDR_SUBJECT);
    assert_int_equal(sb_msg_err_status(&lm), 400);
    check_reason(&lm, "Bad Subject (header too long)");

    /* folded lines count together */
    snprintf(buf, sizeof(buf),
             "OPTIONS sip:a@b SIP/2.0\r\n%sX-Folded: 0123456789012345678901234567890\r\n"
             " 0123456789012345678901234567890\r\n\r\n",
             REQ_HDRS);
    assert_int_equal(parse(&lm, buf, 0), SB_ELIMIT);
    check_reason(&lm, "Bad X-Folded (header too long)");

    /* the start line too */
    snprintf(buf, sizeof(buf), "OPTIONS sip:%s@example.com SIP/2.0\r\n%s\r\n", val, REQ_HDRS);
    assert_int_equal(parse(&lm, buf, 0), SB_ELIMIT);
    assert_int_equal(sb_msg_err_status(&lm), 400);
    sb_msg_deinit(&lm);
}

static void test_limit_uri(void **state)
{
    (void)state;
    struct sb_msg_limits lim = sb_msg_limits_default;
    struct sb_msg lm;
    lim.max_uri = 19;
    sb_msg_init(&lm, &lim);
    assert_int_equal(parse(&lm, "OPTIONS sip:bob@example.com SIP/2.0\r\n" REQ_HDRS "\r\n", 0), 0);
    assert_int_equal(parse(&lm, "OPTIONS sip:bob@example.coms SIP/2.0\r\n" REQ_HDRS "\r\n", 0),
                     SB_ELIMIT);
    assert_int_equal(sb_msg_err_status(&lm), 414);
    check_reason(&lm, "Request-URI Too Long");
    sb_msg_deinit(&lm);
}

static void test_header_without_colon(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "Subject no colon here\r\n"
                              "\r\n";
    assert_int_equal(parse(m, msg, 0), SB_EPARSE);
    assert_int_equal(m->err.part, SB_MSG_ERRP_HEADER);
    check_span(m, m->err.hdr_name, "Subject");
    assert_int_equal(m->err.offset, sizeof(msg) - 1 - strlen("Subject no colon here\r\n\r\n"));
    assert_int_equal(sb_msg_err_status(m), 400);
    char r[128];
    sb_msg_err_reason(m, r, sizeof(r));
    assert_non_null(strstr(r, "Subject"));

    /* an unknown name is named as written */
    assert_int_equal(parse(m, "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "X-Broken-Thing\r\n\r\n", 0),
                     SB_EPARSE);
    sb_msg_err_reason(m, r, sizeof(r));
    assert_non_null(strstr(r, "X-Broken-Thing"));

    /* no name at all */
    assert_int_equal(parse(m, "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS ": value\r\n\r\n", 0),
                     SB_EPARSE);
    assert_int_equal(m->err.hdr_name.len, 0);
    /* a continuation line right after the start line has no field to continue */
    assert_int_equal(parse(m, "OPTIONS sip:a@b SIP/2.0\r\n  folded: x\r\n" REQ_HDRS "\r\n", 0),
                     SB_EPARSE);
    assert_int_equal(sb_msg_err_status(m), 400);
    assert_int_equal(parse(m, "OPTIONS sip:a@b SIP/2.0\r\n : x\r\n" REQ_HDRS "\r\n", 0), SB_EPARSE);
    assert_int_equal(m->err.hdr_name.len, 0);
    assert_int_equal(parse(m, "OPTIONS sip:a@b SIP/2.0\r\n\t:\r\n" REQ_HDRS "\r\n", 0), SB_EPARSE);
    /* a name with a non-token character */
    assert_int_equal(parse(m, "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "X[1]: v\r\n\r\n", 0),
                     SB_EPARSE);
}

/* ---- stream framing ------------------------------------------------------------------------- */

static long frame(const char *s)
{
    return sb_msg_frame(s, strlen(s), NULL);
}

static void test_frame(void **state)
{
    (void)state;
    static const char one[] =
        "INVITE sip:bob@example.com SIP/2.0\r\n" REQ_HDRS "Content-Length: 4\r\n\r\nbody";
    const long n1 = (long)sizeof(one) - 1;
    assert_int_equal(frame(one), n1);
    /* every proper prefix needs more bytes */
    for (long k = 1; k < n1; k++)
        if (sb_msg_frame(one, (size_t)k, NULL) != SB_EAGAIN)
            fail_msg("prefix %ld framed as %ld", k, sb_msg_frame(one, (size_t)k, NULL));

    /* two pipelined messages: the first one's length */
    char two[2048];
    snprintf(two, sizeof(two), "%s%s", one, one);
    assert_int_equal(frame(two), n1);
    assert_int_equal(sb_msg_frame(two + n1, strlen(two + n1), NULL), n1);

    /* compact form, case, LWS before the colon, bare LF */
    assert_int_equal(frame("SIP/2.0 200 OK\r\nl: 2\r\n\r\nokNEXT"), 26);
    assert_int_equal(frame("SIP/2.0 200 OK\r\nL : 2\r\n\r\nokNEXT"), 27);
    assert_int_equal(frame("SIP/2.0 200 OK\r\ncontent-LENGTH:2\r\n\r\nok"), 38);
    assert_int_equal(frame("SIP/2.0 200 OK\nContent-Length: 2\n\nokNEXT"), 36);
    assert_int_equal(frame("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"), 37);

    /* names that only start like Content-Length do not count */
    assert_int_equal(frame("SIP/2.0 200 OK\r\nlx: 5\r\nContent-Length: 0\r\n\r\n"), 44);
    assert_int_equal(frame("SIP/2.0 200 OK\r\nContent-Lengthy: 5\r\n\r\n"), SB_EPARSE);

    /* a missing, repeated or malformed Content-Length */
    assert_int_equal(frame("SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n"), SB_EPARSE);
    assert_int_equal(frame("SIP/2.0 200 OK\r\nl: 1\r\nContent-Length: 1\r\n\r\nx"), SB_EPARSE);
    assert_int_equal(frame("SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n"), SB_EPARSE);
    assert_int_equal(frame("SIP/2.0 200 OK\r\nContent-Length: 1 2\r\n\r\n"), SB_EPARSE);

    /* incomplete header section and incomplete body */
    assert_int_equal(frame("SIP/2.0 200 OK\r\nContent-Length: 10\r\n"), SB_EAGAIN);
    assert_int_equal(frame("SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r"), SB_EAGAIN);
    assert_int_equal(frame("SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r\n12345"), SB_EAGAIN);
    assert_int_equal(frame("SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r\n1234567890"), 48);
    assert_int_equal(frame("SIP/2.0 200 OK"), SB_EAGAIN);
}

static void test_frame_folded_clen(void **state)
{
    struct sb_msg *m = *state;
    /* RFC3261-7.3.1: a folded Content-Length must frame the way the parser reads it */
    static const char msg[] = "SIP/2.0 200 OK\r\n" RESP_HDRS "Content-Length:\r\n 3\r\n\r\nabcNEXT";
    const long n = (long)sizeof(msg) - 1 - 4;
    assert_int_equal(sb_msg_parse(m, msg, (size_t)n, SB_MSG_STREAM), 0);
    assert_int_equal(m->clen, 3);
    assert_int_equal(frame(msg), n);
    assert_int_equal(frame("SIP/2.0 200 OK\r\nl:\r\n\t2\r\n \r\n\r\nokNEXT"), 31);
    /* folded into something that is not a number */
    assert_int_equal(frame("SIP/2.0 200 OK\r\nl: 1\r\n 2\r\n\r\n12"), SB_EPARSE);
}

static void test_frame_limits(void **state)
{
    (void)state;
    struct sb_msg_limits lim = sb_msg_limits_default;
    lim.max_size = 64;
    /* the announced body would take the message over the limit */
    static const char big_body[] = "SIP/2.0 200 OK\r\nContent-Length: 100\r\n\r\n";
    assert_int_equal(sb_msg_frame(big_body, strlen(big_body), &lim), SB_ELIMIT);
    /* exactly at the limit: 38 bytes of headers + 26 of body */
    static const char at[] =
        "SIP/2.0 200 OK\r\nContent-Length: 26\r\n\r\nabcdefghijklmnopqrstuvwxyz";
    assert_int_equal(sb_msg_frame(at, strlen(at), &lim), 64);
    /* a header section that never ends */
    char hdrs[256];
    memset(hdrs, 'a', sizeof(hdrs));
    memcpy(hdrs, "SIP/2.0 200 OK\r\nX: ", 19);
    assert_int_equal(sb_msg_frame(hdrs, sizeof(hdrs), &lim), SB_ELIMIT);
    assert_int_equal(sb_msg_frame(hdrs, 63, &lim), SB_EAGAIN);
    /* complete lines, but more of them than the limit allows */
    for (size_t i = 19; i + 4 <= sizeof(hdrs); i += 4)
        memcpy(hdrs + i, "a\r\nb", 4);
    assert_int_equal(sb_msg_frame(hdrs, sizeof(hdrs), &lim), SB_ELIMIT);
    /* a bad Content-Length is reported as soon as the next line shows it is complete, so that a
     * reader fed in pieces gets the same answer as one fed everything */
    static const char badcl[] = "SIP/2.0 200 OK\r\nContent-Length: x\r\n"
                                "Tooooooooooooooooooooooooooooooooooooooooooooooo: long\r\n\r\n";
    assert_int_equal(sb_msg_frame(badcl, 35, &lim), SB_EAGAIN); /* could still be folded */
    assert_int_equal(sb_msg_frame(badcl, 36, &lim), SB_EPARSE); /* it is not */
    assert_int_equal(sb_msg_frame(badcl, 64, &lim), SB_EPARSE); /* at the limit, no LF yet */
    assert_int_equal(sb_msg_frame(badcl, strlen(badcl), &lim), SB_EPARSE);
    /* a line whose LF lies beyond the limit is over it, whatever the line holds (here the empty
     * line of a message without Content-Length, at offsets 63-64) */
    static const char late[] = "SIP/2.0 200 OK\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                               "\r\n";
    assert_int_equal(sb_msg_frame(late, 64, &lim), SB_ELIMIT);
    assert_int_equal(sb_msg_frame(late, strlen(late), &lim), SB_ELIMIT);
    /* the default limit */
    static const char huge[] = "SIP/2.0 200 OK\r\nContent-Length: 4294967295\r\n\r\n";
    assert_int_equal(sb_msg_frame(huge, strlen(huge), NULL), SB_ELIMIT);
}

/* ---- message lifetime and memory ------------------------------------------------------------ */

static size_t build_many(char *buf, size_t cap, int n_extra)
{
    size_t n = (size_t)snprintf(buf, cap, "INVITE sip:bob@example.com SIP/2.0\r\n%s", REQ_HDRS);
    for (int i = 0; i < n_extra; i++)
        n += (size_t)snprintf(
            buf + n, cap - n,
            i % 10 == 3 ? "X-Fold-%d: first\r\n second %d\r\n" : "X-Header-%d: value %d\r\n", i, i);
    n += (size_t)snprintf(buf + n, cap - n, "Content-Length: 4\r\n\r\nbody");
    return n;
}

static void test_many_headers_spill(void **state)
{
    struct sb_msg *m = *state;
    static char buf[16384];
    size_t n = build_many(buf, sizeof(buf), 100);
    assert_int_equal(sb_msg_parse(m, buf, n, 0), 0);
    assert_int_equal(m->n_hdrs, 6 + 100 + 1);
    assert_true(m->cap_hdrs >= m->n_hdrs);
    assert_ptr_not_equal(m->hdrs, m->hdr_inline);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_OTHER), 100);
    int i = 0;
    for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_OTHER); h; h = sb_msg_hdr_next(m, h), i++) {
        char name[32], value[32];
        if (i % 10 == 3) {
            snprintf(name, sizeof(name), "X-Fold-%d", i);
            snprintf(value, sizeof(value), "first second %d", i);
            assert_true(h->flags & SB_HDRF_FOLDED);
        } else {
            snprintf(name, sizeof(name), "X-Header-%d", i);
            snprintf(value, sizeof(value), "value %d", i);
        }
        check_str(sb_msg_hdr_name(m, h), name);
        check_value(m, h, value);
        assert_int_equal(h->idx, 6 + i);
    }
    assert_int_equal(i, 100);
    check_value(m, sb_msg_hdr_find(m, SB_STR("x-header-99")), "value 99");
    check_value(m, sb_msg_hdr_first(m, SB_HDR_CONTENT_LENGTH), "4");
    check_span(m, m->body, "body");
}

static void test_reuse(void **state)
{
    struct sb_msg *m = *state;
    static char big[16384];
    size_t nbig = build_many(big, sizeof(big), 100);
    static const char small[] = "SIP/2.0 180 Ringing\r\n" RESP_HDRS "\r\n";
    static const char bad[] = "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "CSeq: 2 OPTIONS\r\n\r\n";
    for (int round = 0; round < 200; round++) {
        /* no reset between parses: each parse starts from a clean state */
        assert_int_equal(sb_msg_parse(m, big, nbig, 0), 0);
        assert_int_equal(m->n_hdrs, 107);
        assert_int_equal(m->kind, SB_MSG_REQUEST);
        assert_true(m->has_clen);
        assert_int_equal(parse(m, bad, 0), SB_EPARSE);
        assert_int_equal(parse(m, small, 0), 0);
        assert_int_equal(m->kind, SB_MSG_REPLY);
        assert_int_equal(m->status, 180);
        assert_int_equal(m->n_hdrs, 5);
        assert_int_equal(m->err.code, 0);
        assert_false(m->has_clen);
        assert_int_equal(m->method.len, 0);
        assert_ptr_equal(m->hdrs, m->hdr_inline);
        assert_null(sb_msg_hdr_first(m, SB_HDR_OTHER));
        assert_null(sb_msg_hdr_first(m, SB_HDR_CONTENT_LENGTH));
        assert_null(sb_msg_hdr_first(m, SB_HDR_MAX_FORWARDS));
        assert_int_equal(sb_msg_hdr_count(m, SB_HDR_VIA), 1);
    }
}

static void test_reset_clears(void **state)
{
    struct sb_msg *m = *state;
    static char big[16384];
    size_t nbig = build_many(big, sizeof(big), 100);
    assert_int_equal(sb_msg_parse(m, big, nbig, 0), 0);
    sb_msg_reset(m);
    /* nothing of the old message may be reachable after a reset */
    assert_int_equal(m->n_hdrs, 0);
    assert_int_equal(m->kind, 0);
    assert_null(sb_msg_hdr_first(m, SB_HDR_VIA));
    assert_null(sb_msg_hdr_first(m, SB_HDR_OTHER));
    assert_null(sb_msg_hdr_find(m, SB_STR("X-Header-1")));
    assert_null(sb_msg_ruri(m));
    assert_int_equal(m->body.len, 0);
    assert_int_equal(m->len, 0);
    assert_int_equal(m->err.code, 0);
    /* reset twice is harmless; the message parses again */
    sb_msg_reset(m);
    assert_int_equal(parse(m, "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "\r\n", 0), 0);
}

static void test_parse_buf_owner(void **state)
{
    struct sb_msg *m = *state;
    static const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "\r\n";
    struct sb_buf *b = sb_buf_new(sizeof(msg));
    assert_non_null(b);
    memcpy(b->data, msg, sizeof(msg) - 1);
    b->len = sizeof(msg) - 1;
    assert_int_equal(sb_msg_parse_buf(m, b, 0), 0);
    assert_int_equal(b->refs, 2);
    assert_ptr_equal(m->buf, b->data);
    /* a new parse drops the reference on the old buffer */
    assert_int_equal(parse(m, msg, 0), 0);
    assert_int_equal(b->refs, 1);
    assert_int_equal(sb_msg_parse_buf(m, b, 0), 0);
    sb_msg_reset(m);
    assert_int_equal(b->refs, 1);
    assert_null(m->owner);
    sb_buf_unref(b);
}

static void test_alloc_failure(void **state)
{
    struct sb_msg *m = *state;
    static char big[16384];
    size_t n = build_many(big, sizeof(big), 150);
    bool failed = false, passed = false;
    for (int k = 1; k <= 64; k++) {
        sb_arena_fail_after = k;
        int rc = sb_msg_parse(m, big, n, 0);
        int left = sb_arena_fail_after;
        sb_arena_fail_after = 0;
        if (rc == 0) {
            /* the injected failure was not reached: the parse must be complete */
            assert_int_equal(m->n_hdrs, 6 + 150 + 1);
            check_span(m, m->body, "body");
            assert_true(left > 0);
            passed = true;
        } else {
            assert_int_equal(rc, SB_ENOMEM);
            assert_int_equal(m->err.code, SB_ENOMEM);
            assert_int_equal(sb_msg_err_status(m), 500);
            assert_int_equal(left, 0);
            failed = true;
        }
        /* whatever happened, the message is reusable */
        assert_int_equal(parse(m, "OPTIONS sip:a@b SIP/2.0\r\n" REQ_HDRS "\r\n", 0), 0);
    }
    assert_true(failed);
    assert_true(passed);

    /* the lazily parsed values take arena memory too: 40 Contacts fill several heap chunks */
    n = (size_t)snprintf(big, sizeof(big), "INVITE sip:bob@example.com SIP/2.0\r\n%s", REQ_HDRS);
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n,
                              "Contact: <sip:user%d@host%d.example.com>;expires=60\r\n", i, i);
    n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
    assert_int_equal(sb_msg_parse(m, big, n, 0), 0);
    if (sb_msg_parse_all(m) != 0)
        skip(); /* a value parser refuses these headers: test_nameaddr and friends say why */
    failed = passed = false;
    for (int k = 1; k <= 64; k++) {
        assert_int_equal(sb_msg_parse(m, big, n, 0), 0);
        sb_arena_fail_after = k;
        int rc = sb_msg_parse_all(m);
        sb_arena_fail_after = 0;
        if (rc == 0) {
            assert_int_equal(sb_msg_hdr_count(m, SB_HDR_CONTACT), 40);
            passed = true;
            continue;
        }
        assert_int_equal(rc, SB_ENOMEM);
        assert_int_equal(sb_msg_err_status(m), 500);
        /* the error sticks, and the entry that could not be parsed reads as absent */
        assert_int_equal(sb_msg_parse_all(m), SB_ENOMEM);
        bool bad = false;
        for (uint32_t i = 0; i < m->n_hdrs; i++)
            if (m->hdrs[i].flags & SB_HDRF_BAD) {
                assert_null(sb_msg_hdr_parsed(m, &m->hdrs[i]));
                bad = true;
            }
        assert_true(bad);
        failed = true;
    }
    assert_true(failed);
    assert_true(passed);

    /* the arena cap is a limit like the others */
    struct sb_msg_limits lim = sb_msg_limits_default;
    struct sb_msg lm;
    lim.arena_cap = 4096;
    sb_msg_init(&lm, &lim);
    n = build_many(big, sizeof(big), 150);
    int rc = sb_msg_parse(&lm, big, n, 0);
    int status = sb_msg_err_status(&lm);
    sb_msg_deinit(&lm);
    assert_int_equal(rc, SB_ENOMEM);
    assert_int_equal(status, 500);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, msg_setup, msg_teardown)
    const struct CMUnitTest tests[] = {
        T(test_request_line),
        T(test_request_methods),
        T(test_ruri_kept_raw),
        T(test_multiple_sp),
        T(test_status_line),
        T(test_status_codes),
        T(test_reason_phrase),
        T(test_version_case),
        T(test_version_unsupported),
        T(test_start_line_junk),
        T(test_leading_crlf),
        T(test_bare_lf),
        T(test_hdr_lookup),
        T(test_hdr_names_in_index),
        T(test_hdr_find_unknown),
        T(test_folding),
        T(test_folding_list),
        T(test_repeated_headers),
        T(test_comma_lists),
        T(test_duplicate_single),
        T(test_clen_datagram_extra),
        T(test_clen_rules),
        T(test_clen_absent),
        T(test_limit_size),
        T(test_limit_headers),
        T(test_limit_line),
        T(test_limit_uri),
        T(test_header_without_colon),
        T(test_frame),
        T(test_frame_folded_clen),
        T(test_frame_limits),
        T(test_many_headers_spill),
        T(test_reuse),
        T(test_reset_clears),
        T(test_parse_buf_owner),
        T(test_alloc_failure),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
