/* SPDX-License-Identifier: BSD-2-Clause */
/* Fixed work through the real code, for the instruction-count check of tests/perf/run.sh, which
 * runs this program under valgrind --tool=callgrind --collect-atstart=no. Each phase runs its
 * operation a fixed number of times with collection switched on around the operation only, then
 * dumps the counts under the phase's name; run.sh divides by the count printed here.
 *
 *   parse   sb_msg_parse() of an INVITE with SDP and the values a proxy reads on every message
 *   script  a residential request route (about 30 statements) over a parsed INVITE
 *   relay   a stateless receive -> forward: a datagram handed to sb_receive() as the UDP
 *           transport does, parsed, checked, run through the stateless bench route
 *           (mf_process_maxfwd_header, forward()) and sent from a real worker socket to a sink
 *           socket on loopback
 *
 * Every phase checks its answer (values parsed, flags set by the script, datagrams received by
 * the sink, Max-Forwards decremented) and the program exits non-zero when one is wrong, so that
 * a broken path cannot pass as a fast one. Without valgrind it runs the same work uncounted. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "sb/avp.h"
#include "sb/core_cfg.h"
#include "sb/fwd.h"
#include "sb/loop.h"
#include "sb/msg.h"
#include "sb/script.h"
#include "sb/tp.h"
#include "sb/worker.h"
#include "script/action.h"

#include "residential.h"

#define N_PARSE  2000
#define N_SCRIPT 2000
#define N_RELAY  1000
#define WARMUP   50

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
    "a=sendrecv\r\n"

/* 224 bytes of SDP */
#define INVITE_HDRS(uri, via)                                                                      \
    "INVITE " uri " SIP/2.0\r\n"                                                                   \
    "Via: SIP/2.0/UDP " via ";branch=z9hG4bK74bf9;rport\r\n"                                       \
    "Max-Forwards: 70\r\n"                                                                         \
    "To: Bob <sip:bob@biloxi.example.com>\r\n"                                                     \
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"                               \
    "Call-ID: 3848276298220188511@pc33.atlanta.example.com\r\n"                                    \
    "CSeq: 31862 INVITE\r\n"                                                                       \
    "Contact: <sip:alice@10.1.2.3:5060;transport=udp>\r\n"                                         \
    "User-Agent: perf\r\n"                                                                         \
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"                                                 \
    "Content-Type: application/sdp\r\n"                                                            \
    "Content-Length: 224\r\n"                                                                      \
    "\r\n" SDP

static const char invite[] = INVITE_HDRS("sip:bob@biloxi.example.com", "10.1.2.3:5060");
static const char relay_invite[] = INVITE_HDRS("sip:bob@127.0.0.1", "127.0.0.1:5999");

static int failures;

static void fail(const char *phase, const char *what)
{
    fprintf(stderr, "perf_driver: %s: %s\n", phase, what);
    failures++;
}

static bool str_is(sb_str s, const char *lit)
{
    return s.p && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* ---- parse --------------------------------------------------------------------------------- */

static volatile size_t sink;

static bool parse_one(struct sb_msg *m)
{
    if (sb_msg_parse(m, invite, sizeof(invite) - 1, 0) != 0)
        return false;
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

static void phase_parse(void)
{
    struct sb_msg m;
    sb_msg_init(&m, NULL);
    int bad = 0;
    for (int i = 0; i < WARMUP; i++)
        bad += !parse_one(&m);
    for (int i = 0; i < N_PARSE; i++) {
        CALLGRIND_TOGGLE_COLLECT;
        bool ok = parse_one(&m);
        CALLGRIND_TOGGLE_COLLECT;
        bad += !ok;
    }
    CALLGRIND_DUMP_STATS_AT("parse");
    if (bad)
        fail("parse", "the INVITE did not parse");
    else if (!str_is(sb_msg_via1(&m)->branch, "z9hG4bK74bf9") ||
             !str_is(sb_msg_from(&m)->tag, "9fxced76sl") || sb_msg_cseq(&m)->num != 31862)
        fail("parse", "values read wrong");
    sb_msg_deinit(&m);
    printf("parse %d\n", N_PARSE);
}

/* ---- script -------------------------------------------------------------------------------- */

static struct sb_script *load(const char *name, const char *text, size_t len)
{
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    if (sb_script_load_text(name, text, len, &d, &s) != 0 || d.n_errors) {
        sb_diag_print(&d, stderr);
        sb_script_free(s);
        s = NULL;
    }
    sb_diag_free(&d);
    return s;
}

static void phase_script(void)
{
    sb__script_extra_module = &perf_mod;
    struct sb_script *s = load("residential.cfg", residential, sizeof(residential) - 1);
    sb__script_extra_module = NULL;
    if (!s) {
        fail("script", "the residential script did not load");
        return;
    }
    struct sb_msg msg;
    sb_msg_init(&msg, NULL);
    if (sb_msg_parse(&msg, invite, sizeof(invite) - 1, 0) != 0)
        fail("script", "the INVITE did not parse");
    struct sb_peer peer = {.src_ip = SB_STR("10.1.2.3"), .src_port = 5060};
    struct sb_arena scratch;
    sb_arena_init(&scratch, NULL, 0, 1 << 20);
    struct sb_avps *avps = sb_avps_new();
    struct sb_route_state rs;
    int idx = sb_script_route(s, SB_ROUTE_REQUEST, SB_STR_NULL);
    sb_res r = {0, 0};
    int bad = 0;
    for (int i = 0; i < WARMUP + N_SCRIPT; i++) {
        bool counted = i >= WARMUP;
        if (counted)
            CALLGRIND_TOGGLE_COLLECT;
        memset(&rs, 0, sizeof(rs));
        sb_arena_reset(&scratch);
        struct sb_sctx ctx = {
            .msg = &msg, .peer = &peer, .script = s, .rs = &rs, .avps = avps, .scratch = &scratch};
        r = sb_script_run(&ctx, SB_ROUTE_REQUEST, idx);
        if (counted)
            CALLGRIND_TOGGLE_COLLECT;
        /* INVITE to a local user: flags 1 (private source) and 2 (INVITE), route[local] -> -2 */
        bad += r.ctl != SB_CTL_EXIT || (rs.flags & 6u) != 6u;
    }
    CALLGRIND_DUMP_STATS_AT("script");
    if (bad)
        fail("script", "unexpected result of the route");
    sb_avps_free(avps);
    sb_msg_deinit(&msg);
    sb_arena_deinit(&scratch);
    sb_script_free(s);
    sb_pv_worker_exit();
    sb_script_worker_exit();
    printf("script %d\n", N_SCRIPT);
}

/* ---- relay --------------------------------------------------------------------------------- */

static int udp_socket(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* One datagram of the sink within 1 s into buf; its length, or -1. */
static ssize_t sink_recv(int fd, char *buf, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 1000) != 1)
        return -1;
    return recv(fd, buf, cap - 1, 0);
}

static void phase_relay(void)
{
    uint16_t sink_port, listen_port;
    int sink_fd = udp_socket(&sink_port);
    int probe = udp_socket(&listen_port); /* a port that was free a moment ago */
    if (sink_fd < 0 || probe < 0) {
        fail("relay", "no UDP socket on 127.0.0.1");
        return;
    }
    close(probe);

    struct sb_arena arena;
    sb_arena_init(&arena, NULL, 0, 0);
    struct sb_core_cfg core;
    sb_core_cfg_defaults(&core);
    struct sb_listen *l = sb_arena_zalloc(&arena, sizeof(*l));
    char spec[64];
    snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", listen_port);
    const char *err = NULL;
    if (!l || sb_listen_parse(sb_str_cstr(spec), l, &arena, &err) != 0) {
        fail("relay", err ? err : "listener");
        return;
    }
    core.listeners = l;
    if (sb_tp_init(&core) != 0) {
        fail("relay", "sb_tp_init");
        return;
    }
    sb_rt.cfg = &core;
    struct sb_worker w = {.id = 0};
    w.loop = sb_loop_new();
    sb_worker_self = &w;
    if (!w.loop || sb_tp_worker_start(&w) != 0) {
        fail("relay", "worker start");
        return;
    }
    /* the routing of bench/stateless.cfg */
    char text[512];
    int n = snprintf(text, sizeof(text),
                     "loadmodule \"maxfwd.so\"\nloadmodule \"sl.so\"\n"
                     "route {\n"
                     "    if (!mf_process_maxfwd_header(10)) {\n"
                     "        sl_send_reply(483, \"Too Many Hops\");\n"
                     "        exit;\n"
                     "    }\n"
                     "    forward(\"udp:127.0.0.1:%u\");\n"
                     "    exit;\n"
                     "}\n",
                     sink_port);
    struct sb_script *s = load("stateless.cfg", text, (size_t)n);
    if (!s || sb_modset_start(sb_script_modset(s)) != 0) {
        fail("relay", "the stateless script did not load or start");
        return;
    }
    w.script = s;

    struct sb_rcv r;
    memset(&r, 0, sizeof(r));
    r.sock = sb_tp_socket(0);
    sb_addr_set(&r.src, SB_STR("127.0.0.1"), 5999);
    sb_rcv_fill_peer(&r);
    const size_t len = sizeof(relay_invite) - 1;
    char got[4096];
    int lost = 0, wrong = 0;
    for (int i = 0; i < WARMUP + N_RELAY; i++) {
        bool counted = i >= WARMUP;
        if (counted)
            CALLGRIND_TOGGLE_COLLECT;
        /* what the UDP transport does per datagram: a fresh buffer, the receiver, release */
        struct sb_buf *b = sb_buf_new(len);
        memcpy(b->data, relay_invite, len);
        b->len = (uint32_t)len;
        sb_receive(&r, b, (uint32_t)len);
        sb_buf_unref(b);
        if (counted)
            CALLGRIND_TOGGLE_COLLECT;
        ssize_t k = sink_recv(sink_fd, got, sizeof(got));
        if (k <= 0) {
            lost++;
            continue;
        }
        got[k] = '\0';
        wrong += strncmp(got, "INVITE sip:bob@127.0.0.1 SIP/2.0\r\n", 34) != 0 ||
                 !strstr(got, "\r\nMax-Forwards: 69\r\n") || !strstr(got, ";branch=z9hG4bK74bf9");
    }
    CALLGRIND_DUMP_STATS_AT("relay");
    if (lost)
        fail("relay", "forwarded INVITEs did not reach the sink");
    if (wrong)
        fail("relay", "a forwarded INVITE was not the relayed request");

    w.script = NULL;
    sb_modset_stop(sb_script_modset(s));
    sb_fwd_worker_exit(&w);
    sb_script_free(s);
    sb_tp_worker_exit(&w);
    sb_worker_self = NULL;
    sb_loop_free(w.loop);
    sb_tp_destroy();
    sb_rt.cfg = NULL;
    sb_arena_deinit(&arena);
    close(sink_fd);
    printf("relay %d\n", N_RELAY);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    phase_parse();
    phase_script();
    phase_relay();
    if (failures)
        fprintf(stderr, "perf_driver: %d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
