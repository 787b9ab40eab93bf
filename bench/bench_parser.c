/* SPDX-License-Identifier: BSD-2-Clause */
/* Parser micro-benchmark: ns per message for the header index alone and for the index plus the
 * values a proxy reads on every message (top Via, From, To, CSeq, Call-ID), one reused sb_msg.
 *
 * `bench_parser --callgrind [N]` instead runs, under valgrind --tool=callgrind
 * --collect-atstart=no, what the receive path does with each message of a relayed call
 * (sb_msg_parse, sb_msg_check and for a reply the second Via) N times per message type, collection
 * switched on around that work only, one dump per type named after it; it prints "type N" lines, so
 * that the instructions per message are each dump's total divided by N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/msg.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define CALLGRIND_TOGGLE_COLLECT      ((void)0)
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#endif

#define SDP                                                                                        \
    "v=0\r\n"                                                                                      \
    "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"                            \
    "s=-\r\n"                                                                                      \
    "c=IN IP4 192.0.2.101\r\n"                                                                     \
    "t=0 0\r\n"                                                                                    \
    "m=audio 49172 RTP/AVP 0 8 101\r\n"                                                            \
    "a=rtpmap:0 PCMU/8000\r\n"                                                                     \
    "a=rtpmap:8 PCMA/8000\r\n"                                                                     \
    "a=rtpmap:101 telephone-event/8000\r\n"                                                        \
    "a=fmtp:101 0-16\r\n"                                                                          \
    "a=ptime:20\r\n"                                                                               \
    "a=sendrecv\r\n"

static const char invite[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP proxy.atlanta.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.5\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport=5060\r\n"
    "Max-Forwards: 69\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "Call-ID: 3848276298220188511@pc33.atlanta.example.com\r\n"
    "CSeq: 31862 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>\r\n"
    "Content-Type: application/sdp\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, REFER, NOTIFY\r\n"
    "Supported: replaces, timer\r\n"
    "Content-Length: 253\r\n"
    "\r\n" SDP;

static const char reg[] =
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n"
    "Call-ID: 843817637684230@998sdasdh09\r\n"
    "CSeq: 1826 REGISTER\r\n"
    "Contact: <sip:bob@192.0.2.4:5060;transport=udp>;expires=3600\r\n"
    "Expires: 7200\r\n"
    "User-Agent: Example Phone 1.2\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char ok[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP proxy.atlanta.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.5\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport=5060\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=8321234356\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "Call-ID: 3848276298220188511@pc33.atlanta.example.com\r\n"
    "CSeq: 31862 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.4:5060;transport=udp>\r\n"
    "Content-Type: application/sdp\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, REFER, NOTIFY\r\n"
    "Supported: replaces\r\n"
    "Content-Length: 253\r\n"
    "\r\n" SDP;

/* A relayed call as the stateless proxy of bench/stateless.cfg receives it from sipp (UAC
 * ../shared/bench/scenarios/uac_call.xml, UAS sipp -sn uas), plus OPTIONS and REGISTER. */
#define CALL_VIA_UAC  "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4471-1-0\r\n"
#define CALL_VIA_PX   "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK8c1f.a0e63b94.0;rport=5061\r\n"
#define CALL_FROM     "From: \"bench caller\" <sip:caller1@127.0.0.1:5061>;tag=4471SIPpTag001\r\n"
#define CALL_TO       "To: <sip:service@127.0.0.1:5060>"
#define CALL_ID       "Call-ID: 1-4471@127.0.0.1\r\n"
#define CALL_UAS_HDRS CALL_FROM CALL_TO ";tag=4480SIPpTag011\r\n" CALL_ID

static const char call_invite[] =
    "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n" CALL_VIA_UAC
    "Max-Forwards: 70\r\n" CALL_FROM CALL_TO "\r\n" CALL_ID "CSeq: 1 INVITE\r\n"
    "Contact: <sip:caller1@127.0.0.1:5061>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
    "User-Agent: bench-uac\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 253\r\n"
    "\r\n" SDP;

static const char call_180[] =
    "SIP/2.0 180 Ringing\r\n" CALL_VIA_PX CALL_VIA_UAC CALL_UAS_HDRS "CSeq: 1 INVITE\r\n"
    "Contact: <sip:127.0.0.1:5062;transport=UDP>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char call_200[] =
    "SIP/2.0 200 OK\r\n" CALL_VIA_PX CALL_VIA_UAC CALL_UAS_HDRS "CSeq: 1 INVITE\r\n"
    "Contact: <sip:127.0.0.1:5062;transport=UDP>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 253\r\n"
    "\r\n" SDP;

static const char call_ack[] =
    "ACK sip:127.0.0.1:5062;transport=UDP SIP/2.0\r\n" CALL_VIA_UAC
    "Max-Forwards: 70\r\n" CALL_FROM CALL_TO ";tag=4480SIPpTag011\r\n" CALL_ID "CSeq: 1 ACK\r\n"
    "Contact: <sip:caller1@127.0.0.1:5061>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char call_bye[] =
    "BYE sip:127.0.0.1:5062;transport=UDP SIP/2.0\r\n" CALL_VIA_UAC
    "Max-Forwards: 70\r\n" CALL_FROM CALL_TO ";tag=4480SIPpTag011\r\n" CALL_ID "CSeq: 2 BYE\r\n"
    "Contact: <sip:caller1@127.0.0.1:5061>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char call_bye200[] =
    "SIP/2.0 200 OK\r\n" CALL_VIA_PX CALL_VIA_UAC CALL_UAS_HDRS "CSeq: 2 BYE\r\n"
    "Contact: <sip:127.0.0.1:5062;transport=UDP>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char options[] =
    "OPTIONS sip:service@127.0.0.1:5060 SIP/2.0\r\n" CALL_VIA_UAC
    "Max-Forwards: 70\r\n" CALL_FROM CALL_TO "\r\n" CALL_ID "CSeq: 1 OPTIONS\r\n"
    "Accept: application/sdp\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

struct sample {
    const char *name;
    const char *text;
    size_t len;
    /* what the values must read, to catch a parser that "succeeds" with the wrong answer */
    const char *branch, *from_tag, *callid;
    uint32_t cseq;
};

static const struct sample samples[] = {
    {"INVITE+SDP", invite, sizeof(invite) - 1, "z9hG4bK2d4790.1", "9fxced76sl",
     "3848276298220188511@pc33.atlanta.example.com", 31862},
    {"REGISTER", reg, sizeof(reg) - 1, "z9hG4bKnashds7", "456248", "843817637684230@998sdasdh09",
     1826},
    {"200 OK", ok, sizeof(ok) - 1, "z9hG4bK2d4790.1", "9fxced76sl",
     "3848276298220188511@pc33.atlanta.example.com", 31862},
};

/* The receive path's messages, for --callgrind: name (no spaces), text, is it a reply. */
static const struct {
    const char *name;
    const char *text;
    size_t len;
} rx_samples[] = {
    {"INVITE", call_invite, sizeof(call_invite) - 1},
    {"180", call_180, sizeof(call_180) - 1},
    {"200-INVITE", call_200, sizeof(call_200) - 1},
    {"ACK", call_ack, sizeof(call_ack) - 1},
    {"BYE", call_bye, sizeof(call_bye) - 1},
    {"200-BYE", call_bye200, sizeof(call_bye200) - 1},
    {"OPTIONS", options, sizeof(options) - 1},
    {"REGISTER", reg, sizeof(reg) - 1},
    {"INVITE-3261", invite, sizeof(invite) - 1},
};

static volatile size_t sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static bool str_is(sb_str s, const char *lit)
{
    return s.p && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* One parse as a worker does it; returns false when anything failed. */
static inline bool one(struct sb_msg *m, const struct sample *s, bool values)
{
    if (sb_msg_parse(m, s->text, s->len, 0) != 0)
        return false;
    if (!values) {
        sink += m->n_hdrs;
        return true;
    }
    const struct sb_via *v = sb_msg_via1(m);
    const struct sb_nameaddr *f = sb_msg_from(m);
    const struct sb_nameaddr *t = sb_msg_to(m);
    const struct sb_cseq *c = sb_msg_cseq(m);
    sb_str id = sb_msg_callid(m);
    if (!v || !f || !t || !c || !id.p)
        return false;
    sink += v->branch.len + f->tag.len + t->uri_str.len + c->num + id.len;
    return true;
}

/* Check the answers once, outside the timed loops. */
static bool verify(struct sb_msg *m, const struct sample *s)
{
    if (!one(m, s, true)) {
        char why[128];
        sb_msg_err_describe(m, why, sizeof(why));
        fprintf(stderr, "bench_parser: %s: parse failed: %s\n", s->name, why);
        return false;
    }
    const struct sb_via *v = sb_msg_via1(m);
    if (!str_is(v->branch, s->branch) || !str_is(sb_msg_from(m)->tag, s->from_tag) ||
        !str_is(sb_msg_callid(m), s->callid) || sb_msg_cseq(m)->num != s->cseq) {
        fprintf(stderr, "bench_parser: %s: values read wrong\n", s->name);
        return false;
    }
    return true;
}

/* What the receive path does with a message before its script runs (src/core/fwd/receive.c:
 * parse, sb_msg_check, a REGISTER's Contacts) and, for a reply, the second Via that
 * sb_forward_reply() relays it by. */
static bool rx_one(struct sb_msg *m, const char *text, size_t len)
{
    if (sb_msg_parse(m, text, len, 0) != 0 || sb_msg_check(m) != 0)
        return false;
    if (m->kind == SB_MSG_REPLY)
        return sb_msg_via2(m) != NULL;
    if (m->method_id == SB_METHOD_REGISTER)
        for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_CONTACT); h; h = sb_msg_hdr_next(m, h))
            if (!sb_msg_hdr_parsed(m, h))
                return false;
    sink += m->n_hdrs;
    return true;
}

static int run_callgrind(struct sb_msg *m, long iters)
{
    int rc = 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(rx_samples); i++) {
        long bad = 0;
        for (long k = 0; k < 20; k++)
            bad += !rx_one(m, rx_samples[i].text, rx_samples[i].len);
        for (long k = 0; k < iters; k++) {
            CALLGRIND_TOGGLE_COLLECT;
            bool good = rx_one(m, rx_samples[i].text, rx_samples[i].len);
            CALLGRIND_TOGGLE_COLLECT;
            bad += !good;
        }
        CALLGRIND_DUMP_STATS_AT(rx_samples[i].name);
        if (bad) {
            char why[128];
            sb_msg_err_describe(m, why, sizeof(why));
            fprintf(stderr, "bench_parser: %s: receive-path check failed: %s\n", rx_samples[i].name,
                    why);
            rc = 1;
        }
        printf("%s %ld\n", rx_samples[i].name, iters);
    }
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ns/msg over <rounds> rounds of <iters> parses: the median, and the best round in *best (the
 * least disturbed by other load on the machine). */
static double measure(struct sb_msg *m, const struct sample *s, bool values, int rounds, long iters,
                      long *failures, double *best)
{
    double r[16];
    for (long i = 0; i < iters / 10; i++) /* warm-up: caches, branch predictors, arena */
        *failures += !one(m, s, values);
    for (int k = 0; k < rounds; k++) {
        double t0 = now_ns();
        for (long i = 0; i < iters; i++)
            *failures += !one(m, s, values);
        r[k] = (now_ns() - t0) / (double)iters;
    }
    qsort(r, (size_t)rounds, sizeof(r[0]), cmp_double);
    *best = r[0];
    return r[rounds / 2];
}

int main(int argc, char **argv)
{
    bool cg = argc > 1 && strcmp(argv[1], "--callgrind") == 0;
    if (cg) {
        argc--;
        argv++;
    }
    long iters = argc > 1 ? atol(argv[1]) : (cg ? 1000 : 1000000);
    const int rounds = 5;
    if (iters < 10)
        iters = 10;
    struct sb_msg *m = malloc(sizeof(*m));
    if (!m)
        return 1;
    sb_msg_init(m, NULL);
    if (cg) {
        int crc = run_callgrind(m, iters);
        sb_msg_deinit(m);
        free(m);
        return crc;
    }

    int rc = 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(samples); i++)
        if (!verify(m, &samples[i]))
            rc = 1;
    if (rc) {
        fprintf(stderr,
                "bench_parser: WARNING: value parsing fails, timings would be meaningless\n");
        sb_msg_deinit(m);
        free(m);
        return 1;
    }

    printf("parser: ns/msg, median (best) of %d rounds x %ld messages, one reused struct sb_msg\n",
           rounds, iters);
    printf("%-12s %6s %8s %18s %24s\n", "message", "bytes", "entries", "index only",
           "+ Via/From/To/CSeq/ID");
    long failures = 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(samples); i++) {
        const struct sample *s = &samples[i];
        double idx_best, full_best;
        double idx = measure(m, s, false, rounds, iters, &failures, &idx_best);
        double full = measure(m, s, true, rounds, iters, &failures, &full_best);
        sb_msg_parse(m, s->text, s->len, 0);
        printf("%-12s %6zu %8u %10.0f (%5.0f) %16.0f (%5.0f)\n", s->name, s->len, m->n_hdrs, idx,
               idx_best, full, full_best);
    }
    if (failures) {
        fprintf(stderr, "bench_parser: %ld parses failed during the runs\n", failures);
        rc = 1;
    }
    sb_msg_deinit(m);
    free(m);
    return rc;
}
