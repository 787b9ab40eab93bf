/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the TCP connection read path (src/core/tp/conn.c): a stream written in
 * chunks into one end of a socketpair whose other end is a real accepted connection of a worker.
 * The messages handed to the receiver, the CRLF pongs and whether the connection was closed must
 * be what a plain model of the framing (sb_msg_frame over the whole stream) predicts.
 * Input: byte 0 = k (mod 16), k chunk-plan bytes, then the stream bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../src/core/tp/tp_int.h"
#include "sb/buf.h"
#include "sb/core_cfg.h"
#include "sb/log.h"
#include "sb/loop.h"
#include "sb/msg.h"
#include "sb/worker.h"

#include "fuzz_check.h"

#define MAX_MSGS 1024

struct seen {
    long lens[MAX_MSGS];
    uint64_t sums[MAX_MSGS];
    size_t n;
    size_t pongs;
    bool closed; /* the server gave up on the stream (bad framing, too big) */
};

static struct {
    struct sb_worker w;
    struct sb_arena arena;
    struct sb_core_cfg cfg;
    const struct sb_socket *sock;
    uint32_t conn_id;
    struct seen got;
} G;

static uint64_t sum(const char *p, size_t n)
{
    sb_str s = {p, n};
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < s.len; i++)
        h = (h ^ (unsigned char)s.p[i]) * 0x100000001b3ULL;
    return h;
}

static void receiver(struct sb_rcv *rcv, struct sb_buf *buf, uint32_t len)
{
    CHECK(rcv->sock == G.sock);
    CHECK(rcv->conn_id == G.conn_id);
    CHECK(len > 0 && len <= sb_msg_limits_default.max_size);
    CHECK(buf->len == len);
    /* what the connection cut is one whole message by itself */
    CHECK(sb_msg_frame(buf->data, len, NULL) == (long)len);
    if (G.got.n < MAX_MSGS) {
        G.got.lens[G.got.n] = len;
        G.got.sums[G.got.n] = sum(buf->data, len);
    }
    G.got.n++;
}

static void check_unread_pongs(void);

static void setup(void)
{
    sb_log_level = SB_LOG_ERR;
    sb_arena_init(&G.arena, NULL, 0, 0);
    sb_core_cfg_defaults(&G.cfg);
    struct sb_listen *l = sb_arena_zalloc(&G.arena, sizeof(*l));
    const char *err = NULL;
    CHECK(sb_listen_parse(SB_STR("tcp:127.0.0.78:5060"), l, &G.arena, &err) == 0);
    G.cfg.listeners = l;
    CHECK(sb_tp_init(&G.cfg) == 0);
    G.sock = sb_tp_socket(0);
    CHECK(G.sock != NULL);
    sb_tp_set_receiver(receiver);
    G.w.id = 0;
    G.w.loop = sb_loop_new();
    CHECK(G.w.loop != NULL);
    sb_rt.n_workers = 1;
    sb_rt.workers = &G.w;
    sb_worker_self = &G.w;
    CHECK(sb_tp_worker_start(&G.w) == 0);
    check_unread_pongs();
}

/* A peer that pings without ever reading must not make the connection hold much more memory than
 * the output limit: each pong is a queued chunk, and the chunks' cost counts. */
static void check_unread_pongs(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    int small = 4096;
    (void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    (void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sb_addr peer;
    CHECK(sb_addr_set(&peer, SB_STR("192.0.2.34"), 40001) == 0);
    struct tp_conn *c = sb__tp_conn_accepted(G.w.tp, sv[0], G.sock, &peer);
    CHECK(c != NULL);
    G.conn_id = c->id;
    /* each chunk costs more than its two bytes: far fewer pings than max_out / 2 fill it */
    size_t limit = sb__tp.max_out / (2 + sizeof(struct tp_chunk)) + 65536;
    size_t i;
    bool closed = false;
    for (i = 0; i < limit && !closed; i++) {
        if (send(sv[1], "\r\n\r\n", 4, MSG_DONTWAIT | MSG_NOSIGNAL) != 4)
            closed = true;
        else
            sb_loop_run_once(G.w.loop, 0);
    }
    if (!closed)
        fprintf(stderr, "fuzz_tcp: %zu unread pongs did not fill the output queue\n", i);
    CHECK(closed);
    close(sv[1]);
    for (int k = 0; k < 4; k++)
        sb_loop_run_once(G.w.loop, 0);
    CHECK(((struct tp_worker *)G.w.tp)->n_conns == 0);
}

/* The model: what a reader of the whole stream does (conn.c's contract, without its buffering and
 * its shortcuts for slow peers). */
static void model(const char *p, size_t len, struct seen *m)
{
    memset(m, 0, sizeof(*m));
    size_t off = 0;
    while (off < len) {
        const char *q = p + off;
        size_t n = len - off;
        if (q[0] == '\r' || q[0] == '\n') {
            if (n >= 4 && memcmp(q, "\r\n\r\n", 4) == 0) {
                m->pongs++;
                off += 4;
                continue;
            }
            if (n < 4 && memcmp(q, "\r\n\r\n", n) == 0)
                return;
            off += q[0] == '\r' && n >= 2 && q[1] == '\n' ? 2 : 1;
            continue;
        }
        long k = sb_msg_frame(q, n, NULL);
        if (k == SB_EAGAIN)
            return;
        if (k < 0) {
            m->closed = true;
            return;
        }
        if (m->n < MAX_MSGS) {
            m->lens[m->n] = k;
            m->sums[m->n] = sum(q, (size_t)k);
        }
        m->n++;
        off += (size_t)k;
    }
}

static size_t pending(int fd)
{
    int n = 0;
    if (ioctl(fd, FIONREAD, &n) != 0)
        return 0;
    return n > 0 ? (size_t)n : 0;
}

/* Let the worker read everything written so far. */
static void pump(int server_fd)
{
    for (int i = 0; i < 64 && pending(server_fd) > 0; i++)
        sb_loop_run_once(G.w.loop, 0);
    sb_loop_run_once(G.w.loop, 0);
}

/* Read the pongs the server wrote; anything else on the wire is an error. */
static void read_pongs(int peer, size_t *pongs)
{
    char b[512];
    for (;;) {
        ssize_t n = recv(peer, b, sizeof(b), MSG_DONTWAIT);
        if (n <= 0)
            return;
        for (ssize_t i = 0; i < n; i++)
            CHECK(b[i] == (i % 2 == 0 ? '\r' : '\n'));
        CHECK(n % 2 == 0);
        *pongs += (size_t)n / 2;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        setup();
        init = true;
    }
    if (size < 1)
        return 0;
    size_t k = data[0] % 16;
    if (size < 1 + k)
        return 0;
    const uint8_t *plan = data + 1;
    const char *in = (const char *)data + 1 + k;
    size_t len = size - 1 - k;

    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    struct tp_worker *tw = G.w.tp;
    struct sb_addr peer;
    CHECK(sb_addr_set(&peer, SB_STR("192.0.2.33"), 40000) == 0);
    struct tp_conn *c = sb__tp_conn_accepted(tw, sv[0], G.sock, &peer);
    CHECK(c != NULL);
    G.conn_id = c->id;
    memset(&G.got, 0, sizeof(G.got));

    size_t at = 0, j = 0;
    bool open = true;
    while (at < len && open) {
        size_t step = k ? (size_t)plan[j++ % k] + 1 : 1 + (at % 7);
        if (step > len - at)
            step = len - at;
        ssize_t n = send(sv[1], in + at, step, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            /* EAGAIN cannot last: the worker reads below; anything else means it closed */
            CHECK(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET);
            if (errno != EAGAIN)
                open = false;
        } else {
            at += (size_t)n;
        }
        pump(sv[0]);
        read_pongs(sv[1], &G.got.pongs);
        /* a closed connection shows as end of stream on our side */
        char probe;
        ssize_t r = recv(sv[1], &probe, 1, MSG_DONTWAIT | MSG_PEEK);
        if (r == 0)
            open = false;
    }
    pump(sv[0]);
    read_pongs(sv[1], &G.got.pongs);
    char probe;
    G.got.closed = recv(sv[1], &probe, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
    unsigned conns_before = tw->n_conns;

    struct seen want;
    model(in, len, &want);
    if (G.got.n != want.n || G.got.pongs != want.pongs || G.got.closed != want.closed)
        fprintf(stderr, "fuzz_tcp: got %zu messages, %zu pongs, %s; the model: %zu, %zu, %s\n",
                G.got.n, G.got.pongs, G.got.closed ? "closed" : "open", want.n, want.pongs,
                want.closed ? "closed" : "open");
    CHECK(G.got.n == want.n);
    size_t n = want.n < MAX_MSGS ? want.n : MAX_MSGS;
    for (size_t i = 0; i < n; i++) {
        CHECK(G.got.lens[i] == want.lens[i]);
        CHECK(G.got.sums[i] == want.sums[i]);
    }
    CHECK(G.got.pongs == want.pongs);
    CHECK(G.got.closed == want.closed);

    /* the peer hangs up: the connection goes, and its memory with it */
    close(sv[1]);
    pump(sv[0]);
    for (int i = 0; i < 4; i++)
        sb_loop_run_once(G.w.loop, 0);
    CHECK(tw->n_conns == conns_before - (want.closed ? 0 : 1));
    CHECK(tw->n_conns == 0);
    return 0;
}
