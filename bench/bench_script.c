/* SPDX-License-Identifier: BSD-2-Clause */
/* Script engine benchmark: nanoseconds to run a residential-style request route (about 30
 * statements, no I/O; the script and its stand-ins are tests/perf/residential.h, shared with the
 * instruction-count check) over a parsed INVITE. Median of several rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/avp.h"
#include "sb/msg.h"
#include "sb/script.h"
#include "../src/core/script/action.h"
#include "../tests/perf/residential.h"

#define INVITE                                                                                     \
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"                                                \
    "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds;rport\r\n"                             \
    "Max-Forwards: 70\r\n"                                                                         \
    "To: Bob <sip:bob@biloxi.example.com>\r\n"                                                     \
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                                       \
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"                                                 \
    "CSeq: 314159 INVITE\r\n"                                                                      \
    "Contact: <sip:alice@10.1.2.3:5060>\r\n"                                                       \
    "User-Agent: bench\r\n"                                                                        \
    "Content-Type: application/sdp\r\n"                                                            \
    "Content-Length: 0\r\n\r\n"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    sb__script_extra_module = &perf_mod;
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    if (sb_script_load_text("bench.cfg", residential, sizeof(residential) - 1, &d, &s) != 0) {
        sb_diag_print(&d, stderr);
        return 1;
    }
    sb_diag_free(&d);

    struct sb_msg msg;
    sb_msg_init(&msg, NULL);
    if (sb_msg_parse(&msg, INVITE, strlen(INVITE), 0) != 0)
        return 1;
    struct sb_peer peer = {.src_ip = SB_STR("10.1.2.3"), .src_port = 5060};
    static char scratch_buf[16384];
    struct sb_arena scratch;
    sb_arena_init(&scratch, scratch_buf, sizeof(scratch_buf), 1 << 20);
    struct sb_avps *avps = sb_avps_new();
    struct sb_route_state rs;
    int idx = sb_script_route(s, SB_ROUTE_REQUEST, SB_STR_NULL);

    enum { ROUNDS = 9, RUNS = 100000 };
    double per_run[ROUNDS];
    sb_res r = {0, 0};
    for (int round = 0; round < ROUNDS; round++) {
        double t0 = now_ns();
        for (int i = 0; i < RUNS; i++) {
            memset(&rs, 0, sizeof(rs));
            sb_arena_reset(&scratch);
            struct sb_sctx ctx = {.msg = &msg,
                                  .peer = &peer,
                                  .script = s,
                                  .rs = &rs,
                                  .avps = avps,
                                  .scratch = &scratch};
            r = sb_script_run(&ctx, SB_ROUTE_REQUEST, idx);
        }
        per_run[round] = (now_ns() - t0) / RUNS;
    }
    qsort(per_run, ROUNDS, sizeof(per_run[0]), cmp_double);
    if (r.ctl != SB_CTL_EXIT || !(rs.flags & (1u << 2))) {
        fprintf(stderr, "bench_script: unexpected result {%d, %d}, flags %#x\n", (int)r.code, r.ctl,
                rs.flags);
        return 1;
    }
    printf("bench_script: residential request route (~30 statements, INVITE): %.0f ns/run "
           "(median of %d rounds of %d)\n",
           per_run[ROUNDS / 2], ROUNDS, RUNS);
    sb_avps_free(avps);
    sb_msg_deinit(&msg);
    sb_arena_deinit(&scratch);
    sb_script_free(s);
    sb_pv_worker_exit();
    sb_script_worker_exit();
    return 0;
}
