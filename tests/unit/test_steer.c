/* SPDX-License-Identifier: BSD-2-Clause */
/* UDP reply steering (src/core/tp/steer.c): the branch constants against sb_branch_make, the
 * classic BPF program run by the kernel on a real SO_REUSEPORT group on loopback (which socket
 * each kind of datagram reaches), and the transport's worker sockets with steering on and off. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/buf.h"
#include "sb/core_cfg.h"
#include "sb/loop.h"
#include "sb/msg_build.h"
#include "sb/tp.h"
#include "sb/worker.h"
#include "tp/tp_int.h"

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

#define SENDS 32 /* source ports per case: the hash puts all on one socket with p = 2^-31 */

/* ---- the constants ----------------------------------------------------------------------------
 */

static void test_constants_match_branch_make(void **state)
{
    (void)state;
    const unsigned ws[] = {0, 1, 5, 31, 32, 33, 255, 256, 1023};
    for (size_t i = 0; i < SB_ARRAY_LEN(ws); i++) {
        char b[SB_BRANCH_LEN + 1];
        assert_int_equal(sb_branch_make(b, sizeof(b), ws[i], 0x123456789abcdefull + i),
                         SB_BRANCH_LEN);
        assert_memory_equal(b, TP_STEER_COOKIE, 7);
        assert_memory_equal(b + 7, TP_STEER_MARK, 2);
        assert_int_equal(b[9], TP_STEER_DIGITS[ws[i] >> 5]);
        assert_int_equal(b[10], TP_STEER_DIGITS[ws[i] & 31]);
        assert_int_equal(sb_branch_worker((sb_str){b, SB_BRANCH_LEN}), (int)ws[i]);
    }
    /* the alphabet: every digit a branch can carry, in value order */
    for (unsigned v = 0; v < 32; v++) {
        char b[SB_BRANCH_LEN + 1];
        assert_int_equal(sb_branch_make(b, sizeof(b), v, 0), SB_BRANCH_LEN);
        assert_int_equal(b[10], TP_STEER_DIGITS[v]);
    }
}

static void test_prog_size(void **state)
{
    (void)state;
    struct sock_filter *ins = malloc(BPF_MAXINSNS * sizeof(*ins));
    assert_non_null(ins);
    for (unsigned n = 1; n <= 1024; n *= 4) {
        int len = sb__tp_steer_prog(ins, BPF_MAXINSNS, n, 1024);
        assert_true(len > 100);
        assert_true(len <= BPF_MAXINSNS);
        assert_int_equal(ins[len - 1].code, BPF_RET | BPF_K);
    }
    /* a window that does not fit is refused, not truncated */
    assert_true(sb__tp_steer_prog(ins, BPF_MAXINSNS, 2, 8192) < 0);
    assert_true(sb__tp_steer_prog(ins, BPF_MAXINSNS, 0, 1024) < 0);
    free(ins);
}

/* ---- the program on a real group --------------------------------------------------------------
 */

#define GROUP 3

struct group {
    int fam;
    int fd[GROUP];
    struct sockaddr_storage addr;
    socklen_t alen;
};

static bool group_open(struct group *g, int fam)
{
    g->fam = fam;
    memset(&g->addr, 0, sizeof(g->addr));
    if (fam == AF_INET) {
        struct sockaddr_in *sa = (struct sockaddr_in *)&g->addr;
        sa->sin_family = AF_INET;
        sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        g->alen = sizeof(*sa);
    } else {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&g->addr;
        sa->sin6_family = AF_INET6;
        sa->sin6_addr = in6addr_loopback;
        g->alen = sizeof(*sa);
    }
    for (int i = 0; i < GROUP; i++) {
        g->fd[i] = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(g->fd[i] >= 0);
        int one = 1;
        assert_int_equal(setsockopt(g->fd[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
        if (bind(g->fd[i], (struct sockaddr *)&g->addr, g->alen) != 0) {
            assert_true(fam == AF_INET6 && i == 0); /* no IPv6 loopback here */
            close(g->fd[i]);
            return false;
        }
        if (i == 0) /* the others join the port the first one got */
            assert_int_equal(getsockname(g->fd[0], (struct sockaddr *)&g->addr, &g->alen), 0);
    }
    struct sock_filter *ins = malloc(BPF_MAXINSNS * sizeof(*ins));
    assert_non_null(ins);
    int len = sb__tp_steer_prog(ins, BPF_MAXINSNS, GROUP, 1024);
    assert_true(len > 0);
    struct sock_fprog fp = {.len = (unsigned short)len, .filter = ins};
    int rc = setsockopt(g->fd[0], SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fp, sizeof(fp));
    if (rc != 0)
        fail_msg("SO_ATTACH_REUSEPORT_CBPF: %s", strerror(errno));
    free(ins);
    return true;
}

static void group_close(struct group *g)
{
    for (int i = 0; i < GROUP; i++)
        close(g->fd[i]);
}

/* Send <len> bytes from a fresh socket (a new source port, so a new hash); the index of the
 * socket that got them, -1 when none did. */
static int which(struct group *g, const char *msg, size_t len)
{
    int c = socket(g->fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(c >= 0);
    assert_int_equal(sendto(c, msg, len, 0, (struct sockaddr *)&g->addr, g->alen), (ssize_t)len);
    close(c);
    struct pollfd p[GROUP];
    for (int i = 0; i < GROUP; i++)
        p[i] = (struct pollfd){.fd = g->fd[i], .events = POLLIN};
    if (poll(p, GROUP, 1000) <= 0)
        return -1;
    for (int i = 0; i < GROUP; i++) {
        if (!(p[i].revents & POLLIN))
            continue;
        static char got[70000];
        ssize_t r = recv(g->fd[i], got, sizeof(got), MSG_DONTWAIT);
        assert_int_equal(r, (ssize_t)len);
        assert_memory_equal(got, msg, len);
        return i;
    }
    return -1;
}

/* A reply whose top Via carries <branch>, after <pad> bytes of a header placed before the Via
 * (moves the branch to any alignment and offset). */
static size_t reply(char *out, size_t cap, const char *branch, size_t pad)
{
    char dots[2048];
    assert_true(pad < sizeof(dots));
    memset(dots, '.', pad);
    int n = snprintf(out, cap,
                     "SIP/2.0 200 OK\r\nX-Pad: %.*s\r\n"
                     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
                     "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
                     "Call-ID: steer-test\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
                     (int)pad, dots, branch);
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

static void branch_for(char *b, unsigned w)
{
    assert_int_equal(sb_branch_make(b, SB_BRANCH_LEN + 1, w, (uint64_t)random()), SB_BRANCH_LEN);
}

/* Every send reached <want>. */
static void expect_steered(struct group *g, const char *msg, size_t len, int want)
{
    for (int i = 0; i < SENDS; i++)
        assert_int_equal(which(g, msg, len), want);
}

/* Nothing lost, and the kernel's hash spread them: more than one socket was used. A program that
 * loaded past the end of the datagram would have put them all on socket 0. */
static void expect_hashed(struct group *g, const char *msg, size_t len)
{
    unsigned hit[GROUP] = {0};
    for (int i = 0; i < SENDS; i++) {
        int k = which(g, msg, len);
        assert_true(k >= 0);
        hit[k]++;
    }
    unsigned used = 0;
    for (int i = 0; i < GROUP; i++)
        used += hit[i] > 0;
    assert_true(used >= 2);
}

static void run_program_cases(int fam)
{
    struct group g;
    if (!group_open(&g, fam))
        skip();
    char b[SB_BRANCH_LEN + 1], msg[4096];
    size_t len;
    /* each worker, the branch at each alignment and further in */
    for (unsigned w = 0; w < GROUP; w++) {
        for (size_t pad = 0; pad < 8; pad++) {
            branch_for(b, w);
            len = reply(msg, sizeof(msg), b, pad);
            for (int i = 0; i < 4; i++)
                assert_int_equal(which(&g, msg, len), (int)w);
        }
        branch_for(b, w);
        len = reply(msg, sizeof(msg), b, 700);
        expect_steered(&g, msg, len, (int)w);
    }
    /* either case, as sb_branch_worker takes it */
    branch_for(b, 1);
    for (char *p = b; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    len = reply(msg, sizeof(msg), b, 3);
    expect_steered(&g, msg, len, 1);

    /* a worker the group does not have */
    branch_for(b, GROUP);
    len = reply(msg, sizeof(msg), b, 0);
    expect_hashed(&g, msg, len);
    /* not one of ours */
    len = reply(msg, sizeof(msg), "z9hG4bK776asdhds", 0);
    expect_hashed(&g, msg, len);
    /* the first cookie decides: someone else's, then ours */
    branch_for(b, 1);
    int n = snprintf(msg, sizeof(msg),
                     "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx1\r\n"
                     "Via: SIP/2.0/UDP 192.0.2.1;branch=%s\r\nCall-ID: c\r\n"
                     "Content-Length: 0\r\n\r\n",
                     b);
    expect_hashed(&g, msg, (size_t)n);
    /* a request carries the sender's branch: never steered, even one that looks like ours */
    branch_for(b, 1);
    n = snprintf(msg, sizeof(msg),
                 "OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=%s\r\n"
                 "Call-ID: r\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
                 b);
    expect_hashed(&g, msg, (size_t)n);
    /* shorter than the scan window, than one group, than the first load */
    expect_hashed(&g, "SIP/2.0 200 OK\r\n\r\n", 18);
    expect_hashed(&g, "SIP/2.0 200 OK\r\nVia: x;branch=z9hG4bKsb1", 41);
    expect_hashed(&g, "SIP/", 4);
    expect_hashed(&g, "S", 1);
    /* the branch in the last bytes of the datagram: given up, not guessed */
    branch_for(b, 2);
    n = snprintf(msg, sizeof(msg), "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=%.11s", b);
    expect_hashed(&g, msg, (size_t)n);
    /* past the scan window */
    branch_for(b, 2);
    len = reply(msg, sizeof(msg), b, 1100);
    expect_hashed(&g, msg, len);
    /* a bad digit */
    branch_for(b, 1);
    b[10] = 'w';
    len = reply(msg, sizeof(msg), b, 0);
    expect_hashed(&g, msg, len);
    group_close(&g);
}

static void test_program_ipv4(void **state)
{
    (void)state;
    run_program_cases(AF_INET);
}

static void test_program_ipv6(void **state)
{
    (void)state;
    run_program_cases(AF_INET6);
}

/* ---- the transport's worker sockets -----------------------------------------------------------
 */

static struct sb_core_cfg cfg;
static struct sb_listen lst;
static struct sb_worker workers[2];
static unsigned per_worker[2];
static unsigned n_got;

static void receiver(struct sb_rcv *r, struct sb_buf *b, uint32_t len)
{
    (void)r;
    (void)b;
    (void)len;
    n_got++;
    per_worker[sb_worker_self ? sb_worker_self->id : 0]++;
}

static void start(bool steer, uint16_t *port)
{
    sb_core_cfg_defaults(&cfg);
    cfg.udp_reply_steering = steer;
    lst = (struct sb_listen){.proto = SB_PROTO_UDP, .host = "127.0.0.1", .port = 0, .text = "u"};
    /* a free port: bind one, let it go */
    int t = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(t, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(t, (struct sockaddr *)&sa, &sl), 0);
    close(t);
    lst.port = *port = ntohs(sa.sin_port);
    cfg.listeners = &lst;
    assert_int_equal(sb_tp_init(&cfg), 0);
    sb_tp_set_receiver(receiver);
    memset(workers, 0, sizeof(workers));
    sb_rt.n_workers = 2;
    sb_rt.workers = workers;
    for (unsigned i = 0; i < 2; i++) {
        workers[i].id = i;
        workers[i].loop = sb_loop_new();
        assert_non_null(workers[i].loop);
        sb_worker_self = &workers[i];
        assert_int_equal(sb_tp_worker_start(&workers[i]), 0);
    }
    sb_worker_self = NULL;
    n_got = per_worker[0] = per_worker[1] = 0;
}

static void stop(void)
{
    for (unsigned i = 0; i < 2; i++) {
        sb_worker_self = &workers[i];
        sb_tp_worker_exit(&workers[i]);
        sb_loop_free(workers[i].loop);
    }
    sb_worker_self = NULL;
    sb_rt.n_workers = 0;
    sb_rt.workers = NULL;
    sb_tp_destroy();
    sb_tp_set_receiver(NULL);
}

static void pump_until(unsigned want)
{
    uint64_t end = sb_now_ms() + 2000;
    while (n_got < want && sb_now_ms() < end)
        for (unsigned w = 0; w < 2; w++) {
            sb_worker_self = &workers[w];
            sb_loop_run_once(workers[w].loop, 5);
        }
    sb_worker_self = NULL;
}

/* Replies for worker 1 from SENDS source ports; returns how many worker 1 got (all arrive). */
static unsigned send_replies_for_1(uint16_t port)
{
    for (int i = 0; i < SENDS; i++) {
        char b[SB_BRANCH_LEN + 1], msg[1024];
        branch_for(b, 1);
        size_t len = reply(msg, sizeof(msg), b, (size_t)i % 4);
        int c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in to = {.sin_family = AF_INET,
                                 .sin_port = htons(port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(sendto(c, msg, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
        close(c);
    }
    pump_until(SENDS);
    assert_int_equal(n_got, SENDS);
    return per_worker[1];
}

static void test_workers_steered(void **state)
{
    (void)state;
    uint16_t port;
    start(true, &port);
    /* the start-up probes were taken out of the queues: nothing is delivered before ours */
    pump_until(1);
    assert_int_equal(n_got, 0);
    assert_int_equal(send_replies_for_1(port), SENDS);
    stop();
}

static void test_workers_not_steered(void **state)
{
    (void)state;
    uint16_t port;
    start(false, &port);
    unsigned got1 = send_replies_for_1(port);
    assert_true(got1 < SENDS);
    assert_true(got1 > 0);
    stop();
}

int main(void)
{
    srandom(7);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants_match_branch_make),
        cmocka_unit_test(test_prog_size),
        cmocka_unit_test(test_program_ipv4),
        cmocka_unit_test(test_program_ipv6),
        cmocka_unit_test(test_workers_steered),
        cmocka_unit_test(test_workers_not_steered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
