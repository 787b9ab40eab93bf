/* SPDX-License-Identifier: BSD-2-Clause */
/* Transport tests on loopback: a real event loop and a fake worker, the transports' sockets
 * exercised from plain sockets (UDP datagrams, TCP framing, keep-alives, limits, replies by
 * connection id, outbound connects, hand-over between workers). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/buf.h"
#include "sb/core_cfg.h"
#include "sb/loop.h"
#include "sb/tp.h"
#include "sb/worker.h"

#define MAX_GOT 8

struct got {
    char data[70000];
    uint32_t len;
    uint32_t conn_id;
    uint8_t proto;
    uint16_t src_port, dst_port;
    char src_ip[SB_IP_STRLEN];
    const struct sb_socket *sock;
    unsigned worker;
};

static struct got got[MAX_GOT];
static unsigned n_got;

static void receiver(struct sb_rcv *r, struct sb_buf *b, uint32_t len)
{
    assert_true(b->refs >= 1);
    assert_int_equal(b->len, len);
    if (n_got >= MAX_GOT)
        return;
    struct got *g = &got[n_got++];
    memcpy(g->data, b->data, len);
    g->data[len] = '\0';
    g->len = len;
    g->conn_id = r->conn_id;
    g->proto = r->peer.proto;
    g->src_port = r->peer.src_port;
    g->dst_port = r->peer.dst_port;
    memcpy(g->src_ip, r->peer.src_ip.p, r->peer.src_ip.len);
    g->src_ip[r->peer.src_ip.len] = '\0';
    g->sock = r->sock;
    g->worker = sb_worker_self ? sb_worker_self->id : 99;
}

/* ---- fixture ----------------------------------------------------------------------------- */

static struct sb_core_cfg cfg;
static struct sb_listen lst[2];
static struct sb_worker workers[2];
static uint16_t port;

/* A port free for both UDP and TCP on 127.0.0.1. */
static uint16_t free_port(void)
{
    for (int tries = 0; tries < 50; tries++) {
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(sa);
        assert_int_equal(bind(u, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(u, (struct sockaddr *)&sa, &sl), 0);
        int t = socket(AF_INET, SOCK_STREAM, 0);
        int ok = bind(t, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(t);
        close(u);
        if (ok)
            return ntohs(sa.sin_port);
    }
    fail_msg("no free port");
    return 0;
}

static void cfg_reset(void)
{
    sb_core_cfg_defaults(&cfg);
    port = free_port();
    lst[0] = (struct sb_listen){.proto = SB_PROTO_UDP,
                                .host = "127.0.0.1",
                                .port = port,
                                .next = &lst[1],
                                .text = "udp test"};
    lst[1] = (struct sb_listen){
        .proto = SB_PROTO_TCP, .host = "127.0.0.1", .port = port, .text = "tcp test"};
    cfg.listeners = &lst[0];
}

static void start(unsigned n_workers)
{
    assert_int_equal(sb_tp_init(&cfg), 0);
    sb_tp_set_receiver(receiver);
    memset(workers, 0, sizeof(workers));
    sb_rt.n_workers = n_workers;
    sb_rt.workers = workers;
    for (unsigned i = 0; i < n_workers; i++) {
        workers[i].id = i;
        workers[i].loop = sb_loop_new();
        assert_non_null(workers[i].loop);
        sb_worker_self = &workers[i];
        assert_int_equal(sb_tp_worker_start(&workers[i]), 0);
    }
    sb_worker_self = &workers[0];
    n_got = 0;
}

static int setup(void **state)
{
    (void)state;
    cfg_reset();
    start(1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (unsigned i = 0; i < sb_rt.n_workers; i++) {
        sb_worker_self = &workers[i];
        sb_tp_worker_exit(&workers[i]);
        sb_loop_free(workers[i].loop);
    }
    sb_worker_self = NULL;
    sb_rt.n_workers = 0;
    sb_rt.workers = NULL;
    sb_tp_destroy();
    sb_tp_set_receiver(NULL);
    return 0;
}

/* Run worker <w>'s loop until <n_got> reaches <want> or <ms> pass. */
static void pump_w(unsigned w, unsigned want, unsigned ms)
{
    struct sb_worker *saved = sb_worker_self;
    sb_worker_self = &workers[w];
    uint64_t end = sb_now_ms() + ms;
    while (n_got < want && sb_now_ms() < end)
        sb_loop_run_once(workers[w].loop, 10);
    sb_worker_self = saved;
}

static void pump(unsigned want, unsigned ms)
{
    pump_w(0, want, ms);
}

static struct sockaddr_in lo(uint16_t p)
{
    return (struct sockaddr_in){
        .sin_family = AF_INET, .sin_port = htons(p), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
}

static uint16_t local_port(int fd)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    return ntohs(sa.sin_port);
}

static int tcp_client(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = lo(port);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_all(int fd, const char *s)
{
    size_t len = strlen(s);
    assert_int_equal(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read from <fd> while running the loop, until <len> bytes, EOF, or <ms>. Returns the count or -1
 * on EOF / reset before any byte. */
static ssize_t read_pumping(int fd, char *out, size_t len, unsigned ms, unsigned w)
{
    size_t at = 0;
    uint64_t end = sb_now_ms() + ms;
    while (at < len && sb_now_ms() < end) {
        pump_w(w, UINT32_MAX, 10);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            continue;
        ssize_t n = recv(fd, out + at, len - at, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN))
            return at ? (ssize_t)at : -1;
        if (n > 0)
            at += (size_t)n;
    }
    return (ssize_t)at;
}

static const char MSG1[] = "OPTIONS sip:a@example.com SIP/2.0\r\n"
                           "Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1\r\n"
                           "Call-ID: one\r\nCSeq: 1 OPTIONS\r\nContent-Length: 5\r\n\r\nhello";
static const char MSG2[] = "OPTIONS sip:b@example.com SIP/2.0\r\n"
                           "Call-ID: two\r\nCSeq: 2 OPTIONS\r\nContent-Length: 0\r\n\r\n";

/* ---- UDP --------------------------------------------------------------------------------- */

static void test_udp_receive(void **state)
{
    (void)state;
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in cl = lo(0), srv = lo(port);
    assert_int_equal(bind(c, (struct sockaddr *)&cl, sizeof(cl)), 0);
    uint16_t cport = local_port(c);
    assert_int_equal(sendto(c, MSG1, strlen(MSG1), 0, (struct sockaddr *)&srv, sizeof(srv)),
                     (ssize_t)strlen(MSG1));
    assert_int_equal(sendto(c, "\r\n\r\n", 4, 0, (struct sockaddr *)&srv, sizeof(srv)), 4);
    assert_int_equal(sendto(c, "", 0, 0, (struct sockaddr *)&srv, sizeof(srv)), 0);
    assert_int_equal(sendto(c, MSG2, strlen(MSG2), 0, (struct sockaddr *)&srv, sizeof(srv)),
                     (ssize_t)strlen(MSG2));
    pump(2, 2000);
    pump(3, 100); /* nothing else may come: the keep-alive and the empty datagram are skipped */
    assert_int_equal(n_got, 2);
    assert_string_equal(got[0].data, MSG1);
    assert_string_equal(got[1].data, MSG2);
    assert_int_equal(got[0].proto, SB_PROTO_UDP);
    assert_int_equal(got[0].conn_id, 0);
    assert_string_equal(got[0].src_ip, "127.0.0.1");
    assert_int_equal(got[0].src_port, cport);
    assert_int_equal(got[0].dst_port, port);
    assert_ptr_equal(got[0].sock, sb_tp_socket(0));

    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.rcv_msgs, 2);
    assert_int_equal(st.rcv_bytes, strlen(MSG1) + strlen(MSG2));
    close(c);
}

static void test_udp_send(void **state)
{
    (void)state;
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in cl = lo(0);
    assert_int_equal(bind(c, (struct sockaddr *)&cl, sizeof(cl)), 0);
    struct sb_dest d = {.proto = SB_PROTO_UDP};
    assert_int_equal(sb_addr_set(&d.to, SB_STR("127.0.0.1"), local_port(c)), 0);
    struct iovec iov[2] = {{.iov_base = (void *)"SIP/2.0 200 OK\r\n", .iov_len = 16},
                           {.iov_base = (void *)"Content-Length: 0\r\n\r\n", .iov_len = 21}};
    assert_int_equal(sb_tp_send(&d, iov, 2), 0);
    assert_ptr_equal(d.sock, sb_tp_socket(0));
    char buf[128];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    struct pollfd p = {.fd = c, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
    ssize_t n = recvfrom(c, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
    assert_int_equal(n, 37);
    buf[n] = '\0';
    assert_string_equal(buf, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    /* from the listening address: replies must come from the port the request went to */
    assert_int_equal(ntohs(from.sin_port), port);

    /* off a worker thread there is no socket to send from */
    sb_worker_self = NULL;
    assert_int_equal(sb_tp_send_buf(&d, "x", 1), SB_EINVAL);
    sb_worker_self = &workers[0];
    close(c);
}

/* ---- TCP --------------------------------------------------------------------------------- */

static void test_tcp_pipelined(void **state)
{
    (void)state;
    int c = tcp_client();
    char both[1024];
    strcpy(both, MSG1);
    strcat(both, "\r\n"); /* a single CRLF between messages is skipped */
    strcat(both, MSG2);
    send_all(c, both);
    pump(2, 2000);
    assert_int_equal(n_got, 2);
    assert_string_equal(got[0].data, MSG1);
    assert_string_equal(got[1].data, MSG2);
    assert_int_equal(got[0].proto, SB_PROTO_TCP);
    assert_int_not_equal(got[0].conn_id, 0);
    assert_int_equal(got[0].conn_id, got[1].conn_id);
    assert_int_equal(got[0].src_port, local_port(c));
    assert_ptr_equal(got[0].sock, sb_tp_socket(1));
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_open, 1);
    assert_int_equal(st.tcp_conns_total, 1);
    close(c);
}

static void test_tcp_split(void **state)
{
    (void)state;
    int c = tcp_client();
    char part[256];
    size_t l = strlen(MSG1);
    /* the header section, the rest of the header, then the body in two pieces */
    memcpy(part, MSG1, 20);
    part[20] = '\0';
    send_all(c, part);
    pump(1, 150);
    assert_int_equal(n_got, 0);
    memcpy(part, MSG1 + 20, l - 40);
    part[l - 40] = '\0';
    send_all(c, part);
    pump(1, 150);
    assert_int_equal(n_got, 0);
    send_all(c, MSG1 + l - 20);
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    assert_string_equal(got[0].data, MSG1);
    close(c);
}

/* Pieces that end mid-line and a body that arrives after its header, in small writes. */
static void test_tcp_drip(void **state)
{
    (void)state;
    int c = tcp_client();
    const char *pieces[] = {"OPTI", "ONS sip:x SIP/2.0\r\nContent-Len", "gth: 5\r\n\r", "\nhe", "l",
                            "lo"};
    for (size_t i = 0; i < SB_ARRAY_LEN(pieces); i++) {
        assert_int_equal(n_got, 0);
        send_all(c, pieces[i]);
        pump(1, i + 1 < SB_ARRAY_LEN(pieces) ? 60 : 2000);
    }
    assert_int_equal(n_got, 1);
    assert_string_equal(got[0].data, "OPTIONS sip:x SIP/2.0\r\nContent-Length: 5\r\n\r\nhello");
    close(c);
}

static void test_tcp_ping(void **state)
{
    (void)state;
    int c = tcp_client();
    send_all(c, "\r\n\r\n");
    char buf[8] = {0};
    assert_int_equal(read_pumping(c, buf, 2, 2000, 0), 2);
    assert_memory_equal(buf, "\r\n", 2);
    /* the ping in two pieces, then a message: one pong, one message */
    send_all(c, "\r\n");
    pump(1, 50);
    send_all(c, "\r\n");
    assert_int_equal(read_pumping(c, buf, 2, 2000, 0), 2);
    assert_memory_equal(buf, "\r\n", 2);
    send_all(c, MSG2);
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    assert_string_equal(got[0].data, MSG2);
    /* no further bytes were sent back */
    assert_int_equal(recv(c, buf, sizeof(buf), MSG_DONTWAIT), -1);
    close(c);
}

static void test_tcp_oversize(void **state)
{
    (void)state;
    int c = tcp_client();
    send_all(c, "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 70000\r\n\r\n");
    char buf[16];
    assert_int_equal(read_pumping(c, buf, sizeof(buf), 2000, 0), -1);
    close(c);

    /* a header section that never ends */
    c = tcp_client();
    char *big = malloc(70001);
    memcpy(big, "MESSAGE sip:a@b SIP/2.0\r\nX: ", 28);
    memset(big + 28, 'a', 70000 - 28);
    big[70000] = '\0';
    size_t at = 0;
    uint64_t end = sb_now_ms() + 2000;
    while (at < 70000 && sb_now_ms() < end) {
        ssize_t n = send(c, big + at, 70000 - at, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            at += (size_t)n;
        else if (errno != EAGAIN)
            break;
        pump(1, 10);
    }
    free(big);
    assert_int_equal(read_pumping(c, buf, sizeof(buf), 2000, 0), -1);
    assert_int_equal(n_got, 0);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.too_big, 2);
    assert_int_equal(st.tcp_conns_open, 0);
    close(c);
}

static void test_tcp_reply_by_conn_id(void **state)
{
    (void)state;
    int c = tcp_client();
    send_all(c, MSG2);
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    static const char reply[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
    struct sb_dest d = {.proto = SB_PROTO_TCP, .conn_id = got[0].conn_id};
    /* a wrong port: the connection id wins while the connection is open */
    assert_int_equal(sb_addr_set(&d.to, SB_STR("127.0.0.1"), 1), 0);
    assert_int_equal(sb_tp_send_buf(&d, reply, strlen(reply)), 0);
    char buf[128] = {0};
    assert_int_equal(read_pumping(c, buf, strlen(reply), 2000, 0), (ssize_t)strlen(reply));
    assert_string_equal(buf, reply);
    /* by address only (Via received/rport): the same connection */
    struct sb_dest d2 = {.proto = SB_PROTO_TCP};
    assert_int_equal(sb_addr_set(&d2.to, SB_STR("127.0.0.1"), local_port(c)), 0);
    assert_int_equal(sb_tp_send_buf(&d2, reply, strlen(reply)), 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(read_pumping(c, buf, strlen(reply), 2000, 0), (ssize_t)strlen(reply));
    assert_string_equal(buf, reply);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_total, 1);
    close(c);
}

/* A plain listening socket on loopback; returns the fd and its port. */
static int plain_listener(uint16_t *p)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = lo(0);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l, 8), 0);
    *p = local_port(l);
    fcntl(l, F_SETFL, O_NONBLOCK);
    return l;
}

static int accept_pumping(int l, unsigned w)
{
    uint64_t end = sb_now_ms() + 2000;
    while (sb_now_ms() < end) {
        pump_w(w, UINT32_MAX, 10);
        int a = accept(l, NULL, NULL);
        if (a >= 0)
            return a;
    }
    return -1;
}

static void test_tcp_outbound(void **state)
{
    (void)state;
    uint16_t lp;
    int l = plain_listener(&lp);
    struct sb_dest d = {.proto = SB_PROTO_TCP};
    assert_int_equal(sb_addr_set(&d.to, SB_STR("127.0.0.1"), lp), 0);
    assert_int_equal(sb_tp_send_buf(&d, MSG1, strlen(MSG1)), 0);
    /* queued while connecting, then the second message on the same connection */
    assert_int_equal(sb_tp_send_buf(&d, MSG2, strlen(MSG2)), 0);
    int a = accept_pumping(l, 0);
    assert_true(a >= 0);
    size_t want = strlen(MSG1) + strlen(MSG2);
    char buf[1024] = {0};
    assert_int_equal(read_pumping(a, buf, want, 2000, 0), (ssize_t)want);
    assert_memory_equal(buf, MSG1, strlen(MSG1));
    assert_string_equal(buf + strlen(MSG1), MSG2);
    /* left from the listener's address */
    struct sockaddr_in peer;
    socklen_t pl = sizeof(peer);
    assert_int_equal(getpeername(a, (struct sockaddr *)&peer, &pl), 0);
    assert_int_equal(ntohl(peer.sin_addr.s_addr), INADDR_LOOPBACK);

    /* the peer sends a request back on the connection we opened */
    send_all(a, MSG2);
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    assert_string_equal(got[0].data, MSG2);
    assert_int_equal(got[0].src_port, lp);
    assert_int_not_equal(got[0].conn_id, 0);
    assert_int_equal(accept(l, NULL, NULL), -1); /* no second connection */
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_total, 1);
    close(a);
    close(l);
}

static void test_tcp_connect_refused(void **state)
{
    (void)state;
    uint16_t lp;
    int l = plain_listener(&lp);
    close(l); /* nobody listens there now */
    struct sb_dest d = {.proto = SB_PROTO_TCP};
    assert_int_equal(sb_addr_set(&d.to, SB_STR("127.0.0.1"), lp), 0);
    int rc = sb_tp_send_buf(&d, MSG2, strlen(MSG2));
    if (rc == 0) {
        pump(1, 300);
        struct sb_tp_stats st;
        sb_tp_stats(&st);
        assert_int_equal(st.tcp_conns_open, 0);
        assert_true(st.snd_errors >= 1);
    } else {
        assert_true(rc < 0);
    }
}

/* Restart with two workers and make worker 1 open a connection to a plain listener (returned in
 * *l): MSG1 is sent and read. Returns the accepted end; <d> is the destination used. */
static int two_workers_conn_from_1(void **state, int *l, struct sb_dest *d)
{
    teardown(state);
    cfg_reset();
    start(2);
    uint16_t lp;
    *l = plain_listener(&lp);
    *d = (struct sb_dest){.proto = SB_PROTO_TCP};
    assert_int_equal(sb_addr_set(&d->to, SB_STR("127.0.0.1"), lp), 0);
    sb_worker_self = &workers[1];
    assert_int_equal(sb_tp_send_buf(d, MSG1, strlen(MSG1)), 0);
    int a = accept_pumping(*l, 1);
    assert_true(a >= 0);
    char buf[1024] = {0};
    assert_int_equal(read_pumping(a, buf, strlen(MSG1), 2000, 1), (ssize_t)strlen(MSG1));
    return a;
}

static void test_tcp_cross_worker(void **state)
{
    int l;
    struct sb_dest d;
    int a = two_workers_conn_from_1(state, &l, &d);
    char buf[1024] = {0};
    /* worker 0 sends to the same peer: the bytes go over worker 1's connection */
    sb_worker_self = &workers[0];
    struct sb_dest d0 = {.proto = SB_PROTO_TCP, .to = d.to};
    assert_int_equal(sb_tp_send_buf(&d0, MSG2, strlen(MSG2)), 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(read_pumping(a, buf, strlen(MSG2), 2000, 1), (ssize_t)strlen(MSG2));
    assert_string_equal(buf, MSG2);
    assert_int_equal(accept(l, NULL, NULL), -1);
    /* and the peer's message arrives on worker 1 */
    send_all(a, MSG2);
    pump_w(1, 1, 2000);
    assert_int_equal(n_got, 1);
    assert_int_equal(got[0].worker, 1);
    assert_int_equal(got[0].conn_id >> 24, 1);
    /* a reply by that connection id from worker 0 */
    struct sb_dest d1 = {.proto = SB_PROTO_TCP, .conn_id = got[0].conn_id, .to = d.to};
    assert_int_equal(sb_tp_send_buf(&d1, "\r\n", 2), 0);
    assert_int_equal(read_pumping(a, buf, 2, 2000, 1), 2);
    assert_memory_equal(buf, "\r\n", 2);
    close(a);
    close(l);
}

/* Run the loop until the transport counts <n> open connections, or 2 s pass. */
static void pump_until_open(uint64_t n)
{
    struct sb_tp_stats st;
    uint64_t end = sb_now_ms() + 2000;
    do {
        pump(UINT32_MAX, 10);
        sb_tp_stats(&st);
    } while (st.tcp_conns_open != n && sb_now_ms() < end);
    assert_int_equal(st.tcp_conns_open, n);
}

static void test_tcp_alias(void **state)
{
    (void)state;
    static const char req[] = "OPTIONS sip:ua@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    int c = tcp_client();
    send_all(c, MSG2);
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    uint32_t id = got[0].conn_id;
    /* a port nobody listens on: only the alias can deliver there */
    uint16_t ap = free_port();
    struct sb_addr alias;
    assert_int_equal(sb_addr_set(&alias, SB_STR("127.0.0.1"), ap), 0);
    assert_int_equal(sb_tp_conn_alias(id, &alias), 0);
    assert_int_equal(sb_tp_conn_alias(id, &alias), 0); /* again: no change */

    struct sb_dest d = {.proto = SB_PROTO_TCP, .to = alias};
    assert_int_equal(sb_tp_send_buf(&d, req, strlen(req)), 0);
    char buf[256] = {0};
    assert_int_equal(read_pumping(c, buf, strlen(req), 2000, 0), (ssize_t)strlen(req));
    assert_string_equal(buf, req);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_total, 1);
    struct sb_addr other_host;
    assert_int_equal(sb_addr_set(&other_host, SB_STR("127.0.0.2"), ap), 0);
    assert_int_equal(sb_tp_conn_alias(id, &other_host), SB_EINVAL);
    assert_int_equal(sb_tp_conn_alias(id + 1000, &alias), SB_ENOENT);
    struct sb_addr no_port;
    assert_int_equal(sb_addr_set(&no_port, SB_STR("127.0.0.1"), 0), 0);
    assert_int_equal(sb_tp_conn_alias(id, &no_port), SB_EINVAL);

    /* a few aliases per connection, not more */
    unsigned ok = 1;
    for (uint16_t i = 1; i <= 8; i++) {
        struct sb_addr a2;
        assert_int_equal(sb_addr_set(&a2, SB_STR("127.0.0.1"), (uint16_t)(ap + i)), 0);
        int rc = sb_tp_conn_alias(id, &a2);
        if (rc == 0)
            ok++;
        else
            assert_int_equal(rc, SB_ELIMIT);
    }
    assert_int_equal(ok, 4);

    /* the peer reconnects: the alias moves to the newest connection */
    int c2 = tcp_client();
    send_all(c2, MSG2);
    pump(2, 2000);
    assert_int_equal(n_got, 2);
    uint32_t id2 = got[1].conn_id;
    assert_int_not_equal(id2, id);
    assert_int_equal(sb_tp_conn_alias(id2, &alias), 0);
    assert_int_equal(sb_tp_send_buf(&d, req, strlen(req)), 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(read_pumping(c2, buf, strlen(req), 2000, 0), (ssize_t)strlen(req));
    assert_string_equal(buf, req);
    struct pollfd pf = {.fd = c, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 50), 0); /* nothing more on the first one */

    /* once the connection is gone, so is its alias: with no_new_conn nothing is opened */
    close(c2);
    pump_until_open(1);
    struct sb_dest d3 = {.proto = SB_PROTO_TCP, .to = alias, .no_new_conn = true};
    assert_int_equal(sb_tp_send_buf(&d3, req, strlen(req)), SB_ENOENT);
    /* the first connection still answers for its other aliases */
    struct sb_dest d4 = {.proto = SB_PROTO_TCP, .no_new_conn = true};
    bool sent = false;
    for (uint16_t i = 1; i <= 8 && !sent; i++) {
        assert_int_equal(sb_addr_set(&d4.to, SB_STR("127.0.0.1"), (uint16_t)(ap + i)), 0);
        sent = sb_tp_send_buf(&d4, req, strlen(req)) == 0;
    }
    assert_true(sent);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(read_pumping(c, buf, strlen(req), 2000, 0), (ssize_t)strlen(req));
    assert_string_equal(buf, req);
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_total, 2);
    close(c);
    pump_until_open(0);
}

static void test_tcp_alias_cross_worker(void **state)
{
    static const char req[] = "OPTIONS sip:ua@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    /* worker 1 opens a connection; the peer's alias is registered from worker 0 */
    int l;
    struct sb_dest d;
    int a = two_workers_conn_from_1(state, &l, &d);
    char buf[256] = {0};
    send_all(a, MSG2);
    pump_w(1, 1, 2000);
    assert_int_equal(n_got, 1);
    sb_worker_self = &workers[0];
    uint16_t ap = free_port();
    struct sb_addr alias;
    assert_int_equal(sb_addr_set(&alias, SB_STR("127.0.0.1"), ap), 0);
    assert_int_equal(sb_tp_conn_alias(got[0].conn_id, &alias), 0);
    struct sb_dest d0 = {.proto = SB_PROTO_TCP, .to = alias, .no_new_conn = true};
    assert_int_equal(sb_tp_send_buf(&d0, req, strlen(req)), 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(read_pumping(a, buf, strlen(req), 2000, 1), (ssize_t)strlen(req));
    assert_string_equal(buf, req);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_total, 1);
    close(a);
    close(l);
}

static void test_tcp_max_msg_time(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    cfg.tcp_max_msg_time = 1;
    start(1);
    int c = tcp_client();
    send_all(c, "OPTIONS sip:a@b SIP/2.0\r\n");
    uint64_t t0 = sb_now_ms();
    char buf[8];
    assert_int_equal(read_pumping(c, buf, sizeof(buf), 3000, 0), -1);
    uint64_t took = sb_now_ms() - t0;
    assert_true(took >= 900 && took < 2500);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_timeouts, 1);
    close(c);
}

static void test_tcp_max_connections(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    cfg.tcp_max_connections = 1;
    start(1);
    int c1 = tcp_client();
    pump(1, 100);
    int c2 = tcp_client();
    char buf[8];
    assert_int_equal(read_pumping(c2, buf, sizeof(buf), 1000, 0), -1);
    send_all(c1, MSG2);
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_rejected, 1);
    assert_int_equal(st.tcp_conns_open, 1);
    close(c1);
    close(c2);
}

static void test_tcp_idle_lifetime(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    cfg.tcp_connection_lifetime = 1;
    start(1);
    int c = tcp_client();
    send_all(c, MSG2);
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    uint64_t t0 = sb_now_ms();
    char buf[8];
    assert_int_equal(read_pumping(c, buf, sizeof(buf), 3000, 0), -1);
    uint64_t took = sb_now_ms() - t0;
    assert_true(took >= 800 && took < 2500);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_open, 0);
    close(c);
}

/* A peer that never reads: the output queue is bounded, then the connection is dropped. */
static void test_tcp_output_cap(void **state)
{
    (void)state;
    int c = tcp_client();
    int small = 4096;
    setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    send_all(c, MSG2);
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    static char chunk[65536];
    memset(chunk, 'x', sizeof(chunk));
    struct sb_dest d = {.proto = SB_PROTO_TCP, .conn_id = got[0].conn_id};
    int rc = 0;
    for (int i = 0; i < 1000 && rc == 0; i++)
        rc = sb_tp_send_buf(&d, chunk, sizeof(chunk));
    assert_int_equal(rc, SB_ELIMIT);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_open, 0);
    /* the id is gone: a send by that id alone finds nothing and cannot connect */
    struct sb_dest d2 = {.proto = SB_PROTO_TCP, .conn_id = got[0].conn_id};
    assert_int_equal(sb_tp_send_buf(&d2, "x", 1), SB_ENOENT);
    close(c);
}

/* ---- limits against hostile peers --------------------------------------------------------- */

/* Run every worker's loop for <ms>. */
static void pump_all(unsigned ms)
{
    struct sb_worker *saved = sb_worker_self;
    uint64_t end = sb_now_ms() + ms;
    do {
        for (unsigned w = 0; w < sb_rt.n_workers; w++) {
            sb_worker_self = &workers[w];
            sb_loop_run_once(workers[w].loop, 2);
        }
    } while (sb_now_ms() < end);
    sb_worker_self = saved;
}

/* A client to our TCP port from source address <src> ("127.0.0.2" ...). */
static int tcp_client_from(const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in me = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, src, &me.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
    struct sockaddr_in sa = lo(port);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Has the server closed <fd>? Runs every worker meanwhile, up to <ms>. */
static bool closed_by_server(int fd, unsigned ms)
{
    uint64_t end = sb_now_ms() + ms;
    while (sb_now_ms() < end) {
        pump_all(10);
        /* read past whatever was sent before the close */
        static char b[65536];
        ssize_t n;
        while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
            ;
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
    }
    return false;
}

struct conn_seen {
    unsigned n;
    struct sb_tp_conn_info info[8];
};

static void collect(const struct sb_tp_conn_info *i, void *arg)
{
    struct conn_seen *s = arg;
    if (s->n < 8)
        s->info[s->n] = *i;
    s->n++;
}

static const struct sb_tp_conn_info *conn_by_id(struct conn_seen *s, uint32_t id)
{
    s->n = 0;
    assert_true(sb_tp_conns(collect, s) >= 0);
    for (unsigned i = 0; i < s->n && i < 8; i++)
        if (s->info[i].id == id)
            return &s->info[i];
    return NULL;
}

/* The N+1th connection from one host is refused whichever worker takes it; another host still
 * gets in, and a refused slot comes back when one of the host's connections closes. */
static void test_tcp_per_ip_cap(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    cfg.tcp_max_connections_per_ip = 2;
    start(2);
    int c1 = tcp_client(), c2 = tcp_client();
    pump_all(100);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_open, 2);
    int c3 = tcp_client();
    assert_true(closed_by_server(c3, 1000));
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_rejected, 1);
    assert_int_equal(st.tcp_conns_open, 2);

    int o = tcp_client_from("127.0.0.2");
    send_all(o, MSG2);
    uint64_t end = sb_now_ms() + 2000;
    while (n_got < 1 && sb_now_ms() < end)
        pump_all(10);
    assert_int_equal(n_got, 1);
    assert_string_equal(got[0].src_ip, "127.0.0.2");
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_open, 3);

    /* the first two still work */
    send_all(c1, MSG2);
    send_all(c2, MSG2);
    end = sb_now_ms() + 2000;
    while (n_got < 3 && sb_now_ms() < end)
        pump_all(10);
    assert_int_equal(n_got, 3);

    close(c1);
    pump_all(100);
    int c4 = tcp_client();
    assert_false(closed_by_server(c4, 300));
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_rejected, 1);
    assert_int_equal(st.tcp_conns_open, 3);
    close(c2);
    close(c3);
    close(c4);
    close(o);
}

/* Our own connections to a host do not count against its cap. */
static void test_tcp_per_ip_outgoing(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    cfg.tcp_max_connections_per_ip = 1;
    start(1);
    uint16_t lp;
    int l = plain_listener(&lp);
    struct sb_dest d = {.proto = SB_PROTO_TCP};
    assert_int_equal(sb_addr_set(&d.to, SB_STR("127.0.0.1"), lp), 0);
    assert_int_equal(sb_tp_send_buf(&d, MSG2, strlen(MSG2)), 0);
    int a = accept_pumping(l, 0);
    assert_true(a >= 0);
    int c = tcp_client();
    send_all(c, MSG2);
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_rejected, 0);
    assert_int_equal(st.tcp_conns_open, 2);
    close(a);
    close(c);
    close(l);
}

/* A connection that only pings (or says nothing) is closed tcp_first_msg_timeout after accept;
 * one that delivered a message lives on. */
static void test_tcp_first_msg_timeout(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    cfg.tcp_first_msg_timeout = 1;
    start(1);
    int pinger = tcp_client(), silent = tcp_client(), good = tcp_client();
    send_all(good, MSG2);
    pump(1, 500);
    assert_int_equal(n_got, 1);
    uint64_t t0 = sb_now_ms();
    bool pinger_closed = false;
    while (!pinger_closed && sb_now_ms() < t0 + 3000) {
        send(pinger, "\r\n\r\n", 4, MSG_NOSIGNAL);
        pinger_closed = closed_by_server(pinger, 200);
    }
    assert_true(pinger_closed);
    assert_true(sb_now_ms() - t0 < 2500);
    assert_true(closed_by_server(silent, 1000));
    /* past the deadline, the one that sent a message is still open */
    pump_all(300);
    assert_false(closed_by_server(good, 100));
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_open, 1);
    assert_int_equal(st.tcp_timeouts, 2);
    struct conn_seen seen;
    assert_non_null(conn_by_id(&seen, got[0].conn_id));
    close(pinger);
    close(silent);
    close(good);
}

/* Queue on <id> 64 KiB writes until its output queue holds at least <want> bytes (the kernel's
 * buffers fill first). Returns the last send's result. */
static int fill_queue(uint32_t id, size_t want, size_t *queued)
{
    static char chunk[65536];
    memset(chunk, 'x', sizeof(chunk));
    struct sb_dest d = {.proto = SB_PROTO_TCP, .conn_id = id};
    struct conn_seen seen;
    int rc = 0;
    *queued = 0;
    for (int i = 0; i < 2000 && rc == 0; i++) {
        const struct sb_tp_conn_info *ci = conn_by_id(&seen, id);
        assert_non_null(ci);
        *queued = ci->queued;
        if (*queued >= want)
            break;
        rc = sb_tp_send_buf(&d, chunk, sizeof(chunk));
    }
    return rc;
}

/* Two peers that never read, a worker budget smaller than their queues together: the biggest
 * queue is dropped to make room; a connection that would exceed the budget alone drops itself. */
static void test_tcp_output_budget(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    cfg.tcp_max_output = 600 * 1024;
    start(1);
    int small = 4096;
    int a = tcp_client(), b = tcp_client();
    setsockopt(a, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    setsockopt(b, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    send_all(a, MSG2);
    pump(1, 2000);
    send_all(b, MSG2);
    pump(2, 2000);
    assert_int_equal(n_got, 2);
    uint32_t ida = got[0].conn_id, idb = got[1].conn_id;
    size_t qa, qb;
    assert_int_equal(fill_queue(ida, 400 * 1024, &qa), 0);
    assert_true(qa >= 400 * 1024 && qa <= 600 * 1024);
    /* b's queue grows past what is left: a, the bigger, goes; b's sends all succeed */
    assert_int_equal(fill_queue(idb, 250 * 1024, &qb), 0);
    struct conn_seen seen;
    assert_null(conn_by_id(&seen, ida));
    assert_non_null(conn_by_id(&seen, idb));
    assert_true(closed_by_server(a, 1000));
    /* b alone up to the budget, then its own next write is refused and it is closed */
    assert_int_equal(fill_queue(idb, 1u << 20, &qb), SB_ELIMIT);
    assert_true(qb <= 600 * 1024);
    assert_null(conn_by_id(&seen, idb));
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_conns_open, 0);
    close(a);
    close(b);
}

/* A queue that does not shrink for tcp_drain_timeout closes the connection. */
static void test_tcp_drain_timeout(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    cfg.tcp_drain_timeout = 1;
    cfg.tcp_first_msg_timeout = 0;
    start(1);
    int small = 4096;
    int c = tcp_client();
    setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    send_all(c, MSG2);
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    size_t q;
    assert_int_equal(fill_queue(got[0].conn_id, 1, &q), 0);
    assert_true(q > 0);
    uint64_t t0 = sb_now_ms();
    struct conn_seen seen;
    while (conn_by_id(&seen, got[0].conn_id) && sb_now_ms() < t0 + 3000)
        pump_all(20);
    uint64_t took = sb_now_ms() - t0;
    assert_null(conn_by_id(&seen, got[0].conn_id));
    assert_true(took >= 800 && took < 2500);
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.tcp_timeouts, 1);
    assert_int_equal(st.tcp_conns_open, 0);
    close(c);
}

/* A peer that reads slower than we write, but steadily, is not a stalled one even though its
 * queue never empties. */
static void test_tcp_drain_progress(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    cfg.tcp_drain_timeout = 1;
    start(1);
    int small = 4096;
    int c = tcp_client();
    setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    send_all(c, MSG2);
    pump(1, 2000);
    uint32_t id = got[0].conn_id;
    size_t q;
    assert_int_equal(fill_queue(id, 1, &q), 0);
    static char chunk[65536];
    struct sb_dest d = {.proto = SB_PROTO_TCP, .conn_id = id};
    struct conn_seen seen;
    unsigned iters = 0, backlog = 0;
    uint64_t t0 = sb_now_ms();
    while (sb_now_ms() < t0 + 3000) {
        pump_all(10);
        size_t got_now = 0;
        ssize_t n;
        while (got_now < 48 * 1024 && (n = recv(c, chunk, 48 * 1024 - got_now, MSG_DONTWAIT)) > 0)
            got_now += (size_t)n;
        const struct sb_tp_conn_info *ci = conn_by_id(&seen, id);
        assert_non_null(ci);
        iters++;
        backlog += ci->queued > 0;
        if (ci->queued < 512 * 1024)
            assert_int_equal(sb_tp_send_buf(&d, chunk, sizeof(chunk)), 0);
    }
    assert_true(backlog > iters / 2);
    close(c);
}

/* The listing: an accepted and an outgoing connection, with their addresses, owner and age. */
static void test_tcp_conns_list(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    start(2);
    int c = tcp_client();
    send_all(c, MSG2);
    uint64_t end = sb_now_ms() + 2000;
    while (n_got < 1 && sb_now_ms() < end)
        pump_all(10);
    assert_int_equal(n_got, 1);
    uint16_t lp;
    int l = plain_listener(&lp);
    sb_worker_self = &workers[1];
    struct sb_dest d = {.proto = SB_PROTO_TCP};
    assert_int_equal(sb_addr_set(&d.to, SB_STR("127.0.0.1"), lp), 0);
    assert_int_equal(sb_tp_send_buf(&d, MSG2, strlen(MSG2)), 0);
    int a = accept_pumping(l, 1);
    assert_true(a >= 0);
    sb_worker_self = &workers[0];
    pump_all(50);

    struct conn_seen seen = {0};
    assert_int_equal(sb_tp_conns(collect, &seen), 2);
    assert_int_equal(seen.n, 2);
    const struct sb_tp_conn_info *in = NULL, *out = NULL;
    for (unsigned i = 0; i < 2; i++) {
        if (seen.info[i].outgoing)
            out = &seen.info[i];
        else
            in = &seen.info[i];
    }
    assert_non_null(in);
    assert_non_null(out);
    assert_int_equal(in->id, got[0].conn_id);
    assert_int_equal(in->proto, SB_PROTO_TCP);
    assert_int_equal(in->worker, got[0].worker);
    assert_string_equal(in->remote_ip, "127.0.0.1");
    assert_int_equal(in->remote_port, local_port(c));
    assert_string_equal(in->local_ip, "127.0.0.1");
    assert_int_equal(in->local_port, port);
    assert_false(in->connecting);
    assert_true(in->age_s <= 1 && in->idle_s <= 1);
    assert_true(in->lifetime_s >= 119 && in->lifetime_s <= 120);
    assert_int_equal(in->queued, 0);

    assert_int_equal(out->worker, 1);
    assert_int_equal(out->id >> 24, 1);
    assert_string_equal(out->remote_ip, "127.0.0.1");
    assert_int_equal(out->remote_port, lp);
    assert_string_equal(out->local_ip, "127.0.0.1");
    struct sockaddr_in pa;
    socklen_t pl = sizeof(pa);
    assert_int_equal(getpeername(a, (struct sockaddr *)&pa, &pl), 0);
    assert_int_equal(out->local_port, ntohs(pa.sin_port));
    assert_int_not_equal(out->local_port, port);

    /* closed ones leave the list */
    close(c);
    end = sb_now_ms() + 2000;
    do {
        pump_all(10);
        seen.n = 0;
        sb_tp_conns(collect, &seen);
    } while (seen.n != 1 && sb_now_ms() < end);
    assert_int_equal(seen.n, 1);
    assert_true(seen.info[0].outgoing);
    close(a);
    close(l);
}

static void test_stop_listening(void **state)
{
    (void)state;
    sb_tp_worker_stop_listening(&workers[0]);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in srv = lo(port);
    sendto(u, MSG2, strlen(MSG2), 0, (struct sockaddr *)&srv, sizeof(srv));
    pump(1, 100);
    assert_int_equal(n_got, 0);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(t, (struct sockaddr *)&srv, sizeof(srv)), -1);
    assert_int_equal(errno, ECONNREFUSED);
    close(t);
    close(u);
}

static void test_ipv6(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (probe < 0 || bind(probe, (struct sockaddr *)&a6, sizeof(a6)) != 0) {
        if (probe >= 0)
            close(probe);
        skip();
    }
    socklen_t sl = sizeof(a6);
    getsockname(probe, (struct sockaddr *)&a6, &sl);
    teardown(state);
    cfg_reset();
    lst[0].host = "::1";
    lst[0].next = NULL;
    start(1);
    assert_string_equal(sb_tp_socket(0)->adv_host, "[::1]");
    assert_true(sb_tp_is_local(SB_STR("[::1]"), port, SB_PROTO_UDP));
    struct sockaddr_in6 srv = {
        .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT, .sin6_port = htons(port)};
    sendto(probe, MSG2, strlen(MSG2), 0, (struct sockaddr *)&srv, sizeof(srv));
    pump(1, 2000);
    assert_int_equal(n_got, 1);
    assert_string_equal(got[0].src_ip, "::1");
    assert_int_equal(got[0].src_port, ntohs(a6.sin6_port));
    struct sb_dest d = {.proto = SB_PROTO_UDP};
    assert_int_equal(sb_addr_set(&d.to, SB_STR("[::1]"), ntohs(a6.sin6_port)), 0);
    assert_int_equal(sb_tp_send_buf(&d, "pong", 4), 0);
    char buf[8] = {0};
    struct pollfd p = {.fd = probe, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_int_equal(recv(probe, buf, sizeof(buf), 0), 4);
    assert_string_equal(buf, "pong");
    close(probe);
}

/* ---- socket table ------------------------------------------------------------------------ */

static void test_table(void **state)
{
    (void)state;
    teardown(state);
    cfg_reset();
    lst[1].adv_host = "sip.example.com";
    lst[1].adv_port = 5070;
    assert_int_equal(sb_tp_init(&cfg), 0);
    assert_int_equal(sb_tp_n_sockets(), 2);
    const struct sb_socket *u = sb_tp_socket(0), *t = sb_tp_socket(1);
    assert_null(sb_tp_socket(2));
    assert_string_equal(u->ip, "127.0.0.1");
    assert_int_equal(u->port, port);
    assert_string_equal(u->adv_host, "127.0.0.1");
    assert_int_equal(u->adv_port, port);
    assert_string_equal(t->adv_host, "sip.example.com");
    assert_int_equal(t->adv_port, 5070);

    assert_true(sb_tp_is_local(SB_STR("127.0.0.1"), port, SB_PROTO_UDP));
    assert_true(sb_tp_is_local(SB_STR("127.0.0.1"), port, 0));
    assert_false(sb_tp_is_local(SB_STR("127.0.0.1"), (uint16_t)(port + 1), 0));
    assert_false(sb_tp_is_local(SB_STR("127.0.0.2"), port, 0));
    assert_true(sb_tp_is_local(SB_STR("SIP.example.com"), 5070, SB_PROTO_TCP));
    assert_false(sb_tp_is_local(SB_STR("sip.example.com"), 5070, SB_PROTO_UDP));
    assert_false(sb_tp_is_local(SB_STR("sip.example.com"), 0, 0));

    struct sb_addr to4, to6;
    assert_int_equal(sb_addr_set(&to4, SB_STR("127.0.0.9"), 5060), 0);
    assert_int_equal(sb_addr_set(&to6, SB_STR("::1"), 5060), 0);
    assert_ptr_equal(sb_tp_pick(SB_PROTO_UDP, &to4, NULL), u);
    assert_ptr_equal(sb_tp_pick(SB_PROTO_TCP, &to4, u), t);
    assert_null(sb_tp_pick(SB_PROTO_UDP, &to6, NULL));
    assert_null(sb_tp_pick(SB_PROTO_TLS, &to4, NULL));
    sb_tp_destroy();

    /* advertised_address / advertised_port apply where a listener has no "as" */
    cfg_reset();
    cfg.advertised_address = "192.0.2.7";
    cfg.advertised_port = 5999;
    lst[1].adv_host = "2001:db8::5";
    lst[1].adv_port = 0;
    assert_int_equal(sb_tp_init(&cfg), 0);
    assert_string_equal(sb_tp_socket(0)->adv_host, "192.0.2.7");
    assert_int_equal(sb_tp_socket(0)->adv_port, 5999);
    assert_string_equal(sb_tp_socket(1)->adv_host, "[2001:db8::5]");
    assert_int_equal(sb_tp_socket(1)->adv_port, port);
    assert_true(sb_tp_is_local(SB_STR("[2001:db8::5]"), port, SB_PROTO_TCP));
    sb_tp_destroy();

    /* a name that is neither an address, an interface nor a resolvable host */
    cfg_reset();
    lst[0].host = "no-such-host.invalid";
    assert_true(sb_tp_init(&cfg) < 0);
    assert_int_equal(sb_tp_n_sockets(), 0);

    /* the loopback interface by name */
    cfg_reset();
    lst[0].host = "lo";
    lst[0].next = NULL;
    assert_int_equal(sb_tp_init(&cfg), 0);
    assert_string_equal(sb_tp_socket(0)->ip, "127.0.0.1");
    sb_tp_destroy();

    /* nothing configured: UDP on every interface, port 5060 */
    cfg_reset();
    cfg.listeners = NULL;
    if (sb_tp_init(&cfg) == 0) { /* 5060 may be taken on this machine */
        assert_int_equal(sb_tp_n_sockets(), 1);
        assert_string_equal(sb_tp_socket(0)->ip, "0.0.0.0");
        assert_int_equal(sb_tp_socket(0)->port, 5060);
        assert_int_equal(sb_tp_socket(0)->proto, SB_PROTO_UDP);
        assert_true(sb_tp_is_local(SB_STR("127.0.0.1"), 5060, SB_PROTO_UDP));
        assert_true(sb_tp_is_local(SB_STR("127.0.0.1"), 0, 0));
    }
    cfg_reset();
    start(1); /* for teardown */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_udp_receive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_pipelined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_drip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_ping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_oversize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_reply_by_conn_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_outbound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_connect_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_cross_worker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_alias_cross_worker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_max_msg_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_max_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_idle_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_output_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_per_ip_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_per_ip_outgoing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_first_msg_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_output_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_drain_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_drain_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_conns_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_listening, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
