/* SPDX-License-Identifier: BSD-2-Clause */
/* sb_branch_reply_worker: the owner of a reply read from its bytes, without the parser.
 * Hand-written replies give the expected worker or "cannot tell"; generated variants of the top Via
 * (spacing, compact form, parameter order, case, headers before it) must name the worker the parsed
 * top Via names whenever the quick look answers at all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/msg.h"
#include "sb/msg_build.h"

static int quick(const char *text)
{
    return sb_branch_reply_worker(text, strlen(text));
}

/* The worker sb_branch_worker finds in the parsed top Via, -1 without one, -2 when the parser
 * rejects the message. */
static int parsed(const char *text)
{
    struct sb_msg m;
    sb_msg_init(&m, NULL);
    int w = -2;
    if (sb_msg_parse(&m, text, strlen(text), 0) == 0) {
        const struct sb_via *v = sb_msg_via1(&m);
        w = v ? sb_branch_worker(v->branch) : -1;
    }
    sb_msg_deinit(&m);
    return w;
}

/* <fmt> with its first "%s" replaced by <a> and its second by <b> (a template, not a format). */
static void subst(char *out, size_t cap, const char *fmt, const char *a, const char *b)
{
    size_t n = 0;
    const char *args[2] = {a, b};
    unsigned used = 0;
    for (const char *f = fmt; *f; f++) {
        const char *piece = f;
        size_t len = 1;
        if (f[0] == '%' && f[1] == 's' && used < 2) {
            piece = args[used++];
            len = strlen(piece);
            f++;
        }
        assert_true(n + len < cap);
        memcpy(out + n, piece, len);
        n += len;
    }
    out[n] = '\0';
}

#define TAIL                                                                                       \
    "From: <sip:a@example.com>;tag=1\r\n"                                                          \
    "To: <sip:b@example.com>;tag=2\r\n"                                                            \
    "Call-ID: c1@example.com\r\n"                                                                  \
    "CSeq: 1 INVITE\r\n"                                                                           \
    "Content-Length: 0\r\n\r\n"

static void test_hand_written(void **state)
{
    (void)state;
    char br[SB_BRANCH_LEN + 1], other[SB_BRANCH_LEN + 1], buf[2048];
    assert_int_equal(sb_branch_make(br, sizeof(br), 7, 0x1234), SB_BRANCH_LEN);
    assert_int_equal(sb_branch_make(other, sizeof(other), 2, 99), SB_BRANCH_LEN);
    struct {
        const char *fmt; /* %s: our branch; a second %s: another worker's branch */
        int want;
    } cases[] = {
        {"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n" TAIL, 7},
        {"SIP/2.0 200 OK\r\nv:SIP/2.0/UDP 192.0.2.1;rport=5060;branch=%s;received=1.2.3.4\r\n" TAIL,
         7},
        {"SIP/2.0 200 OK\r\nVIA : SIP/2.0/UDP [2001:db8::1]:5060 ; BRANCH = %s ;rport\r\n" TAIL, 7},
        {"SIP/2.0 200 OK\r\nVary: x\r\nVia-Ext: y;branch=%s\r\nvia: SIP/2.0/TCP "
         "h;branch=%s\r\n" TAIL,
         2},
        {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=%s, SIP/2.0/UDP g;branch=%s\r\n" TAIL, 7},
        {"SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=%s\n" TAIL, 7},
        /* the first Via header is the top one, whatever follows */
        {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=%s\r\nVia: SIP/2.0/UDP g;branch=%s\r\n" TAIL,
         7},
        /* cannot tell: the parser decides */
        {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;x=\"a;branch=%s\";branch=%s\r\n" TAIL, -1},
        {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h,\r\n SIP/2.0/UDP g;branch=%s\r\n" TAIL, -1},
        {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n ;branch=%s\r\n" TAIL, -1},
        {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK776asdhds\r\n" TAIL, -1},
        {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branchx=%s\r\n" TAIL, -1},
        {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;xbranch=%s\r\n" TAIL, -1},
        {"SIP/2.0 200 OK\r\nFrom: <sip:a@example.com>;tag=1\r\n\r\nVia: SIP/2.0/UDP "
         "h;branch=%s\r\n",
         -1},
        {"INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=%s\r\n" TAIL, -1},
        {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=%s", -1}, /* no end of line */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        subst(buf, sizeof(buf), cases[i].fmt, br, other);
        int got = quick(buf);
        if (got != cases[i].want)
            fail_msg("case %zu: %d, want %d:\n%s", i, got, cases[i].want, buf);
        if (got >= 0)
            assert_int_equal(parsed(buf), got);
    }
    assert_int_equal(sb_branch_reply_worker("", 0), -1);
    assert_int_equal(sb_branch_reply_worker("SIP/2.0 200", 11), -1);
}

/* Every combination of the forms below: where the quick look answers, the parser agrees. */
static void test_agrees_with_parser(void **state)
{
    (void)state;
    static const char *names[] = {"Via", "via", "VIA", "v", "V", "Via ", "v\t"};
    static const char *before[] = {"", "Max-Forwards: 70\r\n", "Vary: x\r\n",
                                   "Record-Route: <sip:p;lr>\r\n", "Via-X: 1\r\n"};
    static const char *params[] = {";branch=%s",
                                   ";rport=5060;branch=%s",
                                   ";received=192.0.2.9 ; branch = %s",
                                   ";Branch=%s;rport",
                                   " ;branch=%s;ttl=1",
                                   ";maddr=10.0.0.1;branch=%s, SIP/2.0/UDP g;branch=z9hG4bKx",
                                   ";branch=%s;x=\"q\""};
    static const unsigned workers[] = {0, 1, 31, 32, 1023};
    char br[SB_BRANCH_LEN + 1], via[256], buf[2048];
    unsigned answered = 0, total = 0;
    for (size_t w = 0; w < sizeof(workers) / sizeof(workers[0]); w++) {
        assert_int_equal(sb_branch_make(br, sizeof(br), workers[w], 77 + w), SB_BRANCH_LEN);
        for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++)
            for (size_t b = 0; b < sizeof(before) / sizeof(before[0]); b++)
                for (size_t p = 0; p < sizeof(params) / sizeof(params[0]); p++) {
                    subst(via, sizeof(via), params[p], br, NULL);
                    snprintf(
                        buf, sizeof(buf),
                        "SIP/2.0 183 Session Progress\r\n%s%s: SIP/2.0/UDP 192.0.2.1:5060%s\r\n"
                        "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKother\r\n" TAIL,
                        before[b], names[n], via);
                    int q = quick(buf), full = parsed(buf);
                    total++;
                    if (q < 0)
                        continue;
                    answered++;
                    if (q != full || q != (int)workers[w])
                        fail_msg("quick %d, parsed %d, made for %u:\n%s", q, full, workers[w], buf);
                }
    }
    /* the quick look must answer for the ordinary forms, or it saves nothing */
    assert_true(answered * 10 >= total * 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_written),
        cmocka_unit_test(test_agrees_with_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
