/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the small header parsers: CSeq, Call-ID, numbers, Max-Forwards, tokens,
 * Content-Type, Event and Session-Expires. Expected values come from the RFC texts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sb/base.h"
#include "sb/hdr.h"

/* A view that must be present and equal to <lit>, or absent (p == NULL) when <lit> is NULL. */
static void check_view(sb_str v, const char *lit, const char *what, int line)
{
    if (lit == NULL) {
        if (v.p != NULL)
            fail_msg("line %d: %s: expected absent, got \"%.*s\"", line, what, SB_STR_ARG(v));
        return;
    }
    if (v.p == NULL)
        fail_msg("line %d: %s: expected \"%s\", got absent", line, what, lit);
    if (v.len != strlen(lit) || memcmp(v.p, lit, v.len) != 0)
        fail_msg("line %d: %s: expected \"%s\", got \"%.*s\"", line, what, lit, SB_STR_ARG(v));
}

/* The view lies inside the input (zero-copy contract). */
static void check_inside(sb_str v, sb_str in, int line)
{
    if (v.p && (v.p < in.p || v.p + v.len > in.p + in.len))
        fail_msg("line %d: view outside its input", line);
}

/* ---- CSeq ---------------------------------------------------------------------------------- */

static void cseq_ok(const char *s, uint32_t num, const char *method, uint32_t id, int line)
{
    struct sb_cseq c;
    memset(&c, 0xa5, sizeof(c));
    sb_str in = sb_str_cstr(s);
    int rc = sb_cseq_parse(in, &c);
    if (rc != 0)
        fail_msg("line %d: CSeq \"%s\": rc %d", line, s, rc);
    if (c.num != num)
        fail_msg("line %d: CSeq \"%s\": num %u, expected %u", line, s, c.num, num);
    check_view(c.method, method, "method", line);
    if (c.method_id != id)
        fail_msg("line %d: CSeq \"%s\": method_id %#x, expected %#x", line, s, c.method_id, id);
    check_inside(c.method, in, line);
}
#define CSEQ_OK(s, num, m, id) cseq_ok((s), (num), (m), (id), __LINE__)

/* <fn> must refuse <len> bytes of <s> with SB_EPARSE. */
#define BAD_LEN(fn, type, s, len)                                                                  \
    do {                                                                                           \
        type o_;                                                                                   \
        int rc_ = fn((sb_str){(s), (len)}, &o_);                                                   \
        if (rc_ != SB_EPARSE)                                                                      \
            fail_msg("line %d: \"%.*s\" accepted (rc %d), expected SB_EPARSE", __LINE__,           \
                     (int)(len), (s), rc_);                                                        \
    } while (0)
#define BAD(fn, type, s)  BAD_LEN(fn, type, (s), strlen(s))
#define BADN(fn, type, s) BAD_LEN(fn, type, (s), sizeof(s) - 1) /* literal with an embedded NUL */

static void test_cseq_valid(void **state)
{
    (void)state;
    /* RFC3261-20.16 example */
    CSEQ_OK("4711 INVITE", 4711, "INVITE", SB_METHOD_INVITE);
    /* RFC 4475 torture messages */
    CSEQ_OK("1 MESSAGE", 1, "MESSAGE", SB_METHOD_MESSAGE);                 /* mpart01 */
    CSEQ_OK("9338 REGISTER", 9338, "REGISTER", SB_METHOD_REGISTER);        /* regaut01 */
    CSEQ_OK("0 INVITE", 0, "INVITE", SB_METHOD_INVITE);                    /* ncl */
    CSEQ_OK("2130706432 INVITE", 2130706432u, "INVITE", SB_METHOD_INVITE); /* lwsruri */
    CSEQ_OK("39234321 OPTIONS", 39234321, "OPTIONS", SB_METHOD_OPTIONS);   /* zeromf */
    /* wsinv: "cseq: 0009\r\n  INVITE" once unfolded, with either one or several spaces */
    CSEQ_OK("0009 INVITE", 9, "INVITE", SB_METHOD_INVITE);
    CSEQ_OK("0009   INVITE", 9, "INVITE", SB_METHOD_INVITE);
    CSEQ_OK("0009\r\n  INVITE", 9, "INVITE", SB_METHOD_INVITE);
    CSEQ_OK("12\tACK", 12, "ACK", SB_METHOD_ACK);
    /* intmeth: an extension method made of every token character */
    CSEQ_OK("139122385 !interesting-Method0123456789_*+`.%indeed'~", 139122385,
            "!interesting-Method0123456789_*+`.%indeed'~", SB_METHOD_OTHER);
    /* esc02: escapes are not decoded in a method, it is just another token */
    CSEQ_OK("29344 RE%47IST%45R", 29344, "RE%47IST%45R", SB_METHOD_OTHER);
    /* RFC3261-7.1: method names are case-sensitive */
    CSEQ_OK("5 invite", 5, "invite", SB_METHOD_OTHER);
    CSEQ_OK("5 BYE", 5, "BYE", SB_METHOD_BYE);
    CSEQ_OK("5 CANCEL", 5, "CANCEL", SB_METHOD_CANCEL);
    CSEQ_OK("5 INFO", 5, "INFO", SB_METHOD_INFO);
    CSEQ_OK("5 UPDATE", 5, "UPDATE", SB_METHOD_UPDATE);
    CSEQ_OK("5 PRACK", 5, "PRACK", SB_METHOD_PRACK);
    CSEQ_OK("5 SUBSCRIBE", 5, "SUBSCRIBE", SB_METHOD_SUBSCRIBE);
    CSEQ_OK("5 NOTIFY", 5, "NOTIFY", SB_METHOD_NOTIFY);
    CSEQ_OK("5 PUBLISH", 5, "PUBLISH", SB_METHOD_PUBLISH);
    CSEQ_OK("5 REFER", 5, "REFER", SB_METHOD_REFER);
    /* tolerated: LWS the caller should have trimmed */
    CSEQ_OK("  7 BYE \t", 7, "BYE", SB_METHOD_BYE);
}

static void test_cseq_bounds(void **state)
{
    (void)state;
    /* RFC3261-8.1.1.5: a parser takes any 32-bit value */
    CSEQ_OK("2147483647 INVITE", 2147483647u, "INVITE", SB_METHOD_INVITE);
    CSEQ_OK("2147483648 INVITE", 2147483648u, "INVITE", SB_METHOD_INVITE);
    CSEQ_OK("4294967295 REGISTER", 4294967295u, "REGISTER", SB_METHOD_REGISTER);
    CSEQ_OK("000000000000000000004294967295 ACK", 4294967295u, "ACK", SB_METHOD_ACK);
    CSEQ_OK("0000000000000000000000000000001 ACK", 1, "ACK", SB_METHOD_ACK);
    BAD(sb_cseq_parse, struct sb_cseq, "4294967296 REGISTER");
    BAD(sb_cseq_parse, struct sb_cseq, "4294967300 REGISTER");
    BAD(sb_cseq_parse, struct sb_cseq, "9999999999 REGISTER");
    BAD(sb_cseq_parse, struct sb_cseq, "18446744073709551616 REGISTER"); /* 2^64 */
    /* RFC 4475 scalar02 and scalarlg */
    BAD(sb_cseq_parse, struct sb_cseq, "36893488147419103232 REGISTER");
    BAD(sb_cseq_parse, struct sb_cseq, "9292394834772304023312 OPTIONS");
}

static void test_cseq_invalid(void **state)
{
    (void)state;
    BAD(sb_cseq_parse, struct sb_cseq, "");
    BAD(sb_cseq_parse, struct sb_cseq, "   ");
    BAD(sb_cseq_parse, struct sb_cseq, "INVITE");
    BAD(sb_cseq_parse, struct sb_cseq, "4711");
    BAD(sb_cseq_parse, struct sb_cseq, "4711 ");
    BAD(sb_cseq_parse, struct sb_cseq, "4711INVITE"); /* LWS is required */
    BAD(sb_cseq_parse, struct sb_cseq, "-1 INVITE");
    BAD(sb_cseq_parse, struct sb_cseq, "+1 INVITE");
    BAD(sb_cseq_parse, struct sb_cseq, "1.5 INVITE");
    BAD(sb_cseq_parse, struct sb_cseq, "0x10 INVITE");
    BAD(sb_cseq_parse, struct sb_cseq, "4711 INVITE extra");
    BAD(sb_cseq_parse, struct sb_cseq, "4711 INV ITE");
    BAD(sb_cseq_parse, struct sb_cseq, "4711 INVITE;x");
    BAD(sb_cseq_parse, struct sb_cseq, "4711 INVITE,");
    BAD(sb_cseq_parse, struct sb_cseq, "4711 INV@TE");
    BAD(sb_cseq_parse, struct sb_cseq, "4711 \"INVITE\"");
    BAD(sb_cseq_parse, struct sb_cseq, "4711 INVIT\xc3\x89");
    BADN(sb_cseq_parse, struct sb_cseq, "4711 INVITE\0");
    BADN(sb_cseq_parse, struct sb_cseq,
         "47\0"
         "11 INVITE");
    BAD(sb_cseq_parse, struct sb_cseq, "4711 , INVITE");
}

/* ---- Call-ID ------------------------------------------------------------------------------- */

static void callid_ok(const char *s, const char *want, int line)
{
    sb_str out = SB_STR_NULL;
    sb_str in = sb_str_cstr(s);
    int rc = sb_callid_parse(in, &out);
    if (rc != 0)
        fail_msg("line %d: Call-ID \"%s\": rc %d", line, s, rc);
    check_view(out, want, "Call-ID", line);
    check_inside(out, in, line);
}
#define CALLID_OK(s, want) callid_ok((s), (want), __LINE__)

static void test_callid(void **state)
{
    (void)state;
    /* RFC3261-20.8 examples */
    CALLID_OK("f81d4fae-7dec-11d0-a765-00a0c91e6bf6@biloxi.com",
              "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@biloxi.com");
    CALLID_OK("f81d4fae-7dec-11d0-a765-00a0c91e6bf6@192.0.2.4",
              "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@192.0.2.4");
    /* RFC 4475 */
    CALLID_OK("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
              "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    CALLID_OK("3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..",
              "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..");
    CALLID_OK("esc01.239409asdfakjkn23onasd0-3234", "esc01.239409asdfakjkn23onasd0-3234");
    CALLID_OK("a", "a");
    CALLID_OK("a@b", "a@b");
    CALLID_OK("abc@[2001:db8::1]", "abc@[2001:db8::1]");
    /* transports.dat has two spaces after the colon; the surrounding LWS never enters the view */
    CALLID_OK("  transports.kijh4akdnaqjkwendsasfdj ", "transports.kijh4akdnaqjkwendsasfdj");

    BAD(sb_callid_parse, sb_str, "");
    BAD(sb_callid_parse, sb_str, " ");
    BAD(sb_callid_parse, sb_str, "@");
    BAD(sb_callid_parse, sb_str, "abc@");
    BAD(sb_callid_parse, sb_str, "@abc");
    BAD(sb_callid_parse, sb_str, "a@b@c");
    BAD(sb_callid_parse, sb_str, "a b");
    BAD(sb_callid_parse, sb_str, "a\tb");
    BAD(sb_callid_parse, sb_str, "a@b c");
    BAD(sb_callid_parse, sb_str, "a;b");
    BAD(sb_callid_parse, sb_str, "a,b");
    BAD(sb_callid_parse, sb_str, "a=b");
    BAD(sb_callid_parse, sb_str, "a#b");
    BAD(sb_callid_parse, sb_str, "a\x80z");
    BADN(sb_callid_parse, sb_str, "ab\0cd");
}

/* ---- numbers ------------------------------------------------------------------------------- */

static void num_ok(int (*fn)(sb_str, struct sb_hdr_num *), const char *s, uint32_t v, int line)
{
    struct sb_hdr_num out = {0xdeadbeef};
    int rc = fn(sb_str_cstr(s), &out);
    if (rc != 0)
        fail_msg("line %d: \"%s\": rc %d", line, s, rc);
    if (out.v != v)
        fail_msg("line %d: \"%s\": %u, expected %u", line, s, out.v, v);
}
#define NUM_OK(s, v)    num_ok(sb_num_parse, (s), (v), __LINE__)
#define MAXFWD_OK(s, v) num_ok(sb_maxfwd_parse, (s), (v), __LINE__)

static void test_num(void **state)
{
    (void)state;
    NUM_OK("349", 349); /* RFC3261-20.14 */
    NUM_OK("173", 173);
    NUM_OK("5", 5);   /* RFC3261-20.19 */
    NUM_OK("60", 60); /* RFC3261-20.23 */
    NUM_OK("0", 0);
    NUM_OK("00", 0);
    NUM_OK("0150", 150);
    NUM_OK("4294967295", 4294967295u);
    NUM_OK("00000000000000000000000000004294967295", 4294967295u);
    NUM_OK(" 553\t", 553);

    BAD(sb_num_parse, struct sb_hdr_num, "");
    BAD(sb_num_parse, struct sb_hdr_num, " ");
    BAD(sb_num_parse, struct sb_hdr_num, "-999"); /* RFC 4475 ncl */
    BAD(sb_num_parse, struct sb_hdr_num, "+5");
    BAD(sb_num_parse, struct sb_hdr_num, "5s");
    BAD(sb_num_parse, struct sb_hdr_num, "1 2");
    BAD(sb_num_parse, struct sb_hdr_num, "0x10");
    BAD(sb_num_parse, struct sb_hdr_num, "1.0");
    BAD(sb_num_parse, struct sb_hdr_num, "4294967296");
    BAD(sb_num_parse, struct sb_hdr_num, "18446744073709551616");
    /* RFC 4475 scalar02 Expires */
    BAD(sb_num_parse, struct sb_hdr_num,
        "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000");
    BAD(sb_num_parse, struct sb_hdr_num, "949302838503028349304023988"); /* scalarlg */
    /* RFC 2543 date form of Expires */
    BAD(sb_num_parse, struct sb_hdr_num, "Thu, 01 Dec 1994 16:00:00 GMT");
    BAD(sb_num_parse, struct sb_hdr_num, "3600;foo");
    BADN(sb_num_parse, struct sb_hdr_num,
         "36\0"
         "00");
}

static void test_maxfwd(void **state)
{
    (void)state;
    MAXFWD_OK("6", 6); /* RFC3261-20.22 */
    MAXFWD_OK("70", 70);
    MAXFWD_OK("0", 0);     /* RFC 4475 zeromf */
    MAXFWD_OK("0068", 68); /* RFC 4475 wsinv, test.dat */
    MAXFWD_OK("254", 254); /* ncl */
    MAXFWD_OK("255", 255); /* intmeth */
    MAXFWD_OK("0000000000000000000255", 255);

    BAD(sb_maxfwd_parse, struct sb_hdr_num, "256");
    BAD(sb_maxfwd_parse, struct sb_hdr_num, "300"); /* RFC 4475 scalar02 */
    BAD(sb_maxfwd_parse, struct sb_hdr_num, "1000");
    BAD(sb_maxfwd_parse, struct sb_hdr_num, "4294967296");
    BAD(sb_maxfwd_parse, struct sb_hdr_num, "99999999999999999999999");
    BAD(sb_maxfwd_parse, struct sb_hdr_num, "-1");
    BAD(sb_maxfwd_parse, struct sb_hdr_num, "");
    BAD(sb_maxfwd_parse, struct sb_hdr_num, "7a");
    BAD(sb_maxfwd_parse, struct sb_hdr_num, "7 0");
}

/* ---- tokens -------------------------------------------------------------------------------- */

static void token_ok(const char *s, const char *want, int line)
{
    struct sb_hdr_token out = {SB_STR_NULL};
    sb_str in = sb_str_cstr(s);
    int rc = sb_token_parse(in, &out);
    if (rc != 0)
        fail_msg("line %d: token \"%s\": rc %d", line, s, rc);
    check_view(out.v, want, "token", line);
    check_inside(out.v, in, line);
}
#define TOKEN_OK(s, w) token_ok((s), (w), __LINE__)

static void test_token(void **state)
{
    (void)state;
    TOKEN_OK("100rel", "100rel"); /* RFC3261-20.37 */
    TOKEN_OK("foo", "foo");       /* RFC3261-20.29 */
    TOKEN_OK("INVITE", "INVITE"); /* RFC3261-20.5 */
    TOKEN_OK("timer", "timer");
    TOKEN_OK("nothingSupportsThis", "nothingSupportsThis"); /* RFC 4475 bext01 */
    TOKEN_OK("norDoAnyProxiesSupportThis", "norDoAnyProxiesSupportThis");
    TOKEN_OK("!interesting-Method0123456789_*+`.%indeed'~",
             "!interesting-Method0123456789_*+`.%indeed'~");
    TOKEN_OK(" gzip ", "gzip");

    BAD(sb_token_parse, struct sb_hdr_token, "");
    BAD(sb_token_parse, struct sb_hdr_token, "  ");
    BAD(sb_token_parse, struct sb_hdr_token, "a b");
    BAD(sb_token_parse, struct sb_hdr_token, "a,b");
    BAD(sb_token_parse, struct sb_hdr_token, "a;b");
    BAD(sb_token_parse, struct sb_hdr_token, "a/b");
    BAD(sb_token_parse, struct sb_hdr_token, "a=b");
    BAD(sb_token_parse, struct sb_hdr_token, "\"quoted\"");
    BAD(sb_token_parse, struct sb_hdr_token, "(x)");
    BAD(sb_token_parse, struct sb_hdr_token, "caf\xc3\xa9");
}

/* ---- Content-Type -------------------------------------------------------------------------- */

static void ctype_ok(const char *s, const char *type, const char *subtype, const char *params,
                     int line)
{
    struct sb_ctype out;
    memset(&out, 0xa5, sizeof(out));
    sb_str in = sb_str_cstr(s);
    int rc = sb_ctype_parse(in, &out);
    if (rc != 0)
        fail_msg("line %d: Content-Type \"%s\": rc %d", line, s, rc);
    check_view(out.type, type, "type", line);
    check_view(out.subtype, subtype, "subtype", line);
    check_view(out.params, params, "params", line);
    check_inside(out.type, in, line);
    check_inside(out.subtype, in, line);
    check_inside(out.params, in, line);
}
#define CTYPE_OK(s, t, st, p) ctype_ok((s), (t), (st), (p), __LINE__)

static void test_ctype_valid(void **state)
{
    (void)state;
    /* RFC3261-20.15 examples */
    CTYPE_OK("application/sdp", "application", "sdp", NULL);
    CTYPE_OK("text/html; charset=ISO-8859-4", "text", "html", "charset=ISO-8859-4");
    /* RFC 4475 */
    CTYPE_OK("multipart/mixed;boundary=7a9cbec02ceef655", "multipart", "mixed",
             "boundary=7a9cbec02ceef655");                                       /* mpart01 */
    CTYPE_OK("application/unknownformat", "application", "unknownformat", NULL); /* invut */
    CTYPE_OK("text/plain", "text", "plain", NULL);
    CTYPE_OK("application/octet-stream", "application", "octet-stream", NULL);
    /* quoted parameter values, LWS around '/' and ';', case kept as written */
    CTYPE_OK("multipart/mixed; boundary=\"simple boundary; with, specials\"", "multipart", "mixed",
             "boundary=\"simple boundary; with, specials\"");
    CTYPE_OK("APPLICATION / SDP", "APPLICATION", "SDP", NULL);
    CTYPE_OK("message/sipfrag ;version=2.0", "message", "sipfrag", "version=2.0");
    CTYPE_OK("application/pidf+xml ; charset = \"utf-8\" ; x=1", "application", "pidf+xml",
             "charset = \"utf-8\" ; x=1");
    CTYPE_OK("multipart/related;type=\"application/resource-lists+xml\";start=\"<nXYxAE@pres>\"",
             "multipart", "related",
             "type=\"application/resource-lists+xml\";start=\"<nXYxAE@pres>\"");
    /* a value-less parameter is outside the ABNF but harmless; tolerated */
    CTYPE_OK("application/sdp;foo", "application", "sdp", "foo");
}

static void test_ctype_invalid(void **state)
{
    (void)state;
    BAD(sb_ctype_parse, struct sb_ctype, "");
    BAD(sb_ctype_parse, struct sb_ctype, "application");
    BAD(sb_ctype_parse, struct sb_ctype, "application/");
    BAD(sb_ctype_parse, struct sb_ctype, "/sdp");
    BAD(sb_ctype_parse, struct sb_ctype, "application//sdp");
    BAD(sb_ctype_parse, struct sb_ctype, "application/sdp/x");
    BAD(sb_ctype_parse, struct sb_ctype, "appli cation/sdp");
    BAD(sb_ctype_parse, struct sb_ctype, "application/sdp extra");
    BAD(sb_ctype_parse, struct sb_ctype, "application/sdp;");
    BAD(sb_ctype_parse, struct sb_ctype, "application/sdp; ");
    BAD(sb_ctype_parse, struct sb_ctype, "application/sdp;;a=b");
    BAD(sb_ctype_parse, struct sb_ctype, "application/sdp;a=b;");
    BAD(sb_ctype_parse, struct sb_ctype, "text/html; charset=");
    BAD(sb_ctype_parse, struct sb_ctype, "multipart/mixed; boundary=\"unterminated");
    BAD(sb_ctype_parse, struct sb_ctype, "application/sdp, text/html");
    BAD(sb_ctype_parse, struct sb_ctype, "application/sdp;a b");
    BAD(sb_ctype_parse, struct sb_ctype, "text/\"html\"");
}

/* ---- Event --------------------------------------------------------------------------------- */

static void event_ok(const char *s, const char *package, const char *id, const char *params,
                     int line)
{
    struct sb_event out;
    memset(&out, 0xa5, sizeof(out));
    sb_str in = sb_str_cstr(s);
    int rc = sb_event_parse(in, &out);
    if (rc != 0)
        fail_msg("line %d: Event \"%s\": rc %d", line, s, rc);
    check_view(out.package, package, "package", line);
    check_view(out.id, id, "id", line);
    check_view(out.params, params, "params", line);
    check_inside(out.package, in, line);
    check_inside(out.id, in, line);
    check_inside(out.params, in, line);
}
#define EVENT_OK(s, pk, id, p) event_ok((s), (pk), (id), (p), __LINE__)

static void test_event(void **state)
{
    (void)state;
    EVENT_OK("presence", "presence", NULL, NULL);                      /* RFC 3856 */
    EVENT_OK("presence.winfo", "presence.winfo", NULL, NULL);          /* RFC 3857 template */
    EVENT_OK("message-summary", "message-summary", NULL, NULL);        /* RFC 3842 */
    EVENT_OK("refer;id=93809824", "refer", "93809824", "id=93809824"); /* RFC 3515 §2.4.6 */
    EVENT_OK("dialog;id=1;foo=bar", "dialog", "1", "id=1;foo=bar");
    EVENT_OK("foo ; ID = 1234 ; bar", "foo", "1234", "ID = 1234 ; bar");
    EVENT_OK("dialog;sla;include-session-description", "dialog", NULL,
             "sla;include-session-description");
    EVENT_OK("reg", "reg", NULL, NULL);
    EVENT_OK("x-Vendor_ev!.sub-pkg", "x-Vendor_ev!.sub-pkg", NULL, NULL);

    BAD(sb_event_parse, struct sb_event, "");
    BAD(sb_event_parse, struct sb_event, ".presence");
    BAD(sb_event_parse, struct sb_event, "presence.");
    BAD(sb_event_parse, struct sb_event, "presence..winfo");
    BAD(sb_event_parse, struct sb_event, "pres ence");
    BAD(sb_event_parse, struct sb_event, "presence/x");
    BAD(sb_event_parse, struct sb_event, "refer;");
    BAD(sb_event_parse, struct sb_event, "refer;id");
    BAD(sb_event_parse, struct sb_event, "refer;id=");
    BAD(sb_event_parse, struct sb_event, "refer;id=1;id=2");
    BAD(sb_event_parse, struct sb_event, "refer;id=1;Id=1");
    BAD(sb_event_parse, struct sb_event, ";id=1");
    BAD(sb_event_parse, struct sb_event, "refer, presence");
}

/* ---- Session-Expires ----------------------------------------------------------------------- */

static void se_ok(const char *s, uint32_t delta, const char *refresher, const char *params,
                  int line)
{
    struct sb_session_expires out;
    memset(&out, 0xa5, sizeof(out));
    sb_str in = sb_str_cstr(s);
    int rc = sb_session_expires_parse(in, &out);
    if (rc != 0)
        fail_msg("line %d: Session-Expires \"%s\": rc %d", line, s, rc);
    if (out.delta != delta)
        fail_msg("line %d: \"%s\": delta %u, expected %u", line, s, out.delta, delta);
    check_view(out.refresher, refresher, "refresher", line);
    check_view(out.params, params, "params", line);
    check_inside(out.refresher, in, line);
    check_inside(out.params, in, line);
}
#define SE_OK(s, d, r, p) se_ok((s), (d), (r), (p), __LINE__)

static void test_session_expires(void **state)
{
    (void)state;
    /* RFC4028-4 examples */
    SE_OK("4000;refresher=uac", 4000, "uac", "refresher=uac");
    SE_OK("1800", 1800, NULL, NULL);
    SE_OK("90;refresher=UAS", 90, "UAS", "refresher=UAS");
    SE_OK("3600 ; refresher = uas ; foo=bar", 3600, "uas", "refresher = uas ; foo=bar");
    SE_OK("1800;foo;Refresher=uac", 1800, "uac", "foo;Refresher=uac");
    SE_OK("0", 0, NULL, NULL);
    SE_OK("4294967295", 4294967295u, NULL, NULL);
    SE_OK("000120;x=\"y;z\"", 120, NULL, "x=\"y;z\"");

    BAD(sb_session_expires_parse, struct sb_session_expires, "");
    BAD(sb_session_expires_parse, struct sb_session_expires, "abc");
    BAD(sb_session_expires_parse, struct sb_session_expires, "-1");
    BAD(sb_session_expires_parse, struct sb_session_expires, "4294967296");
    BAD(sb_session_expires_parse, struct sb_session_expires, "1800;");
    BAD(sb_session_expires_parse, struct sb_session_expires, "1800;refresher");
    BAD(sb_session_expires_parse, struct sb_session_expires, "1800;refresher=");
    BAD(sb_session_expires_parse, struct sb_session_expires, "1800;refresher=uac;refresher=uas");
    BAD(sb_session_expires_parse, struct sb_session_expires, "1800 x");
    BAD(sb_session_expires_parse, struct sb_session_expires, "18 00");
    BAD(sb_session_expires_parse, struct sb_session_expires, ";refresher=uac");
    BAD(sb_session_expires_parse, struct sb_session_expires, "1800,refresher=uac");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cseq_valid),
        cmocka_unit_test(test_cseq_bounds),
        cmocka_unit_test(test_cseq_invalid),
        cmocka_unit_test(test_callid),
        cmocka_unit_test(test_num),
        cmocka_unit_test(test_maxfwd),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_ctype_valid),
        cmocka_unit_test(test_ctype_invalid),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_session_expires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
