/* SPDX-License-Identifier: BSD-2-Clause */
/* UDP: one SO_REUSEPORT socket per worker and listening address (the kernel hashes a peer to one
 * worker), datagrams read in recvmmsg batches and handed to the receiver one by one. What the
 * worker sends while it handles a batch is queued and leaves in one sendmmsg at the batch's end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/buf.h"
#include "sb/log.h"
#include "sb/tkey.h"
#include "tp/tp_int.h"

/* Batches per readiness callback: bounded so that one flooded socket cannot starve the others. */
#define UDP_BATCHES_PER_WAKEUP 8

/* RFC5626-4.4.1 / RFC3261-7.5: CRLF keep-alives carry no message. */
static bool is_keepalive(const char *p, size_t len)
{
    return (len == 2 && memcmp(p, "\r\n", 2) == 0) || (len == 4 && memcmp(p, "\r\n\r\n", 4) == 0);
}

/* The text of the last source address seen by this worker: a proxy hears from few peers, and
 * formatting an address (inet_ntop) per datagram was a visible share of the relay's CPU. */
struct ip_text {
    struct sb_addr addr;
    size_t len;
    char text[SB_IP_STRLEN];
};

static _Thread_local struct ip_text last_ip;

/* sb__tp_deliver for a datagram: the same receive context, with the address text cached. */
static void deliver(struct tp_worker *tw, const struct sb_socket *s, const struct sb_addr *src,
                    const char *p, size_t len)
{
    TP_STAT_ADD(tw, rcv_msgs, 1);
    TP_STAT_ADD(tw, rcv_bytes, len);
    sb_rcv_fn fn = sb__tp.rcv;
    if (!fn)
        return;
    struct sb_buf *b = sb_buf_new(len);
    if (!b)
        return;
    memcpy(b->data, p, len);
    b->data[len] = '\0';
    b->len = (uint32_t)len;
    struct sb_rcv r = {.sock = s, .src = *src};
    if (!last_ip.addr.len || !sb_addr_ip_eq(&last_ip.addr, src)) {
        last_ip.addr = *src;
        last_ip.len = sb_addr_ip(src, last_ip.text);
    }
    memcpy(r.src_ip, last_ip.text, last_ip.len + 1);
    r.peer.src_ip = (sb_str){r.src_ip, last_ip.len};
    r.peer.src_port = sb_addr_port(src);
    r.peer.dst_ip = sb_str_cstr(s->ip);
    r.peer.dst_port = s->port;
    r.peer.proto = s->proto;
    fn(&r, b, (uint32_t)len);
    sb_buf_unref(b);
}

/* ---- send queue ------------------------------------------------------------------------------
 * Datagrams sent while a receive batch is handled are copied here (the callers free their buffers
 * on return) and flushed with one sendmmsg when the batch is done: one syscall per batch instead of
 * one per datagram. Sends outside a batch (timers, cross-worker posts) leave at once. Queued
 * datagrams keep their order; any send that bypasses the queue flushes it first. */
#define SENDQ_MSGS  TP_UDP_BATCH
#define SENDQ_BYTES (64 * 1024)

struct sendq {
    struct tp_worker *tw;
    int fd;
    unsigned n;
    size_t used;
    struct mmsghdr mm[SENDQ_MSGS];
    struct iovec iov[SENDQ_MSGS];
    struct sb_addr to[SENDQ_MSGS];
    char data[SENDQ_BYTES];
};

static _Thread_local struct sendq *sq;
static _Thread_local unsigned sq_depth; /* > 0 while a receive batch is being handled */

/* At thread exit; a send from a later destructor then goes directly. */
static void sq_free(void *p)
{
    sq = NULL;
    sq_depth = 0;
    free(p);
}

static struct sb_tkey sq_key = SB_TKEY_INIT(sq_free);

static struct sendq *sq_get(void)
{
    if (sq)
        return sq;
    struct sendq *q = malloc(sizeof(*q));
    if (!q)
        return NULL;
    if (sb_tkey_set(&sq_key, q) != 0) {
        free(q);
        return NULL;
    }
    q->n = 0;
    q->used = 0;
    q->fd = -1;
    sq = q;
    return q;
}

static void sq_flush(void)
{
    struct sendq *q = sq;
    if (!q || !q->n)
        return;
    unsigned done = 0;
    while (done < q->n) {
        int r = sendmmsg(q->fd, q->mm + done, q->n - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            /* the first datagram not sent failed: like a lost one, the rest still go */
            TP_STAT_ADD(q->tw, snd_errors, 1);
            SB_DEBUG("udp send (queued): %s", strerror(errno));
            done++;
            continue;
        }
        for (unsigned i = done; i < done + (unsigned)r; i++) {
            TP_STAT_ADD(q->tw, snd_msgs, 1);
            TP_STAT_ADD(q->tw, snd_bytes, q->mm[i].msg_len);
        }
        done += (unsigned)r;
    }
    q->n = 0;
    q->used = 0;
}

/* Destinations a direct send reached lately. Only those are queued: a send error (no route, bad
 * address) is then reported to the caller when a destination is new, since failover needs it,
 * while the peers of a busy relay are batched. */
#define KNOWN_DESTS 8
static _Thread_local struct {
    struct sb_addr a[KNOWN_DESTS];
    unsigned next;
} known;

static bool dest_known(const struct sb_addr *to)
{
    for (unsigned i = 0; i < KNOWN_DESTS; i++)
        if (known.a[i].len == to->len && sb_addr_eq(&known.a[i], to))
            return true;
    return false;
}

static void dest_remember(const struct sb_addr *to)
{
    if (dest_known(to))
        return;
    known.a[known.next] = *to;
    known.next = (known.next + 1) % KNOWN_DESTS;
}

/* Queue a datagram: 0, or SB_EAGAIN when it must be sent directly. */
static int sq_put(struct tp_worker *tw, int fd, const struct sb_addr *to, const struct iovec *iov,
                  int n_iov)
{
    size_t total = 0;
    for (int i = 0; i < n_iov; i++)
        total += iov[i].iov_len;
    struct sendq *q = sq_get();
    if (!q || total > SENDQ_BYTES)
        return SB_EAGAIN;
    if (q->n && (q->fd != fd || q->n == SENDQ_MSGS || q->used + total > SENDQ_BYTES))
        sq_flush();
    char *p = q->data + q->used;
    size_t at = 0;
    for (int i = 0; i < n_iov; i++) {
        if (iov[i].iov_len)
            memcpy(p + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    unsigned k = q->n++;
    q->tw = tw;
    q->fd = fd;
    q->used += total;
    q->to[k] = *to;
    q->iov[k] = (struct iovec){.iov_base = p, .iov_len = total};
    q->mm[k] = (struct mmsghdr){.msg_hdr = {.msg_name = &q->to[k].u.sa,
                                            .msg_namelen = to->len,
                                            .msg_iov = &q->iov[k],
                                            .msg_iovlen = 1}};
    return 0;
}

static void read_batches(struct tp_fd *f, struct sb_io *io)
{
    struct tp_worker *tw = f->tw;
    for (int batch = 0; batch < UDP_BATCHES_PER_WAKEUP; batch++) {
        for (unsigned i = 0; i < TP_UDP_BATCH; i++) {
            tw->mm[i].msg_hdr.msg_namelen = sizeof(tw->mm_addr[i]);
            tw->mm[i].msg_hdr.msg_flags = 0;
        }
        int n = recvmmsg(io->fd, tw->mm, TP_UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                SB_DEBUG("udp %s:%u: recvmmsg: %s", f->sock->ip, f->sock->port, strerror(errno));
            return;
        }
        for (int i = 0; i < n; i++) {
            const char *p = tw->mm_iov[i].iov_base;
            size_t len = tw->mm[i].msg_len;
            if (tw->mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
                TP_STAT_ADD(tw, too_big, 1);
                continue;
            }
            if (len == 0 || is_keepalive(p, len))
                continue;
            struct sb_addr src;
            sb_addr_from_sa(&src, (const struct sockaddr *)&tw->mm_addr[i],
                            tw->mm[i].msg_hdr.msg_namelen);
            deliver(tw, f->sock, &src, p, len);
        }
        sq_flush();
        if (n < (int)TP_UDP_BATCH)
            return;
    }
}

static void on_readable(struct sb_io *io, uint32_t events)
{
    (void)events;
    sq_depth++;
    read_batches(io->data, io);
    if (--sq_depth == 0)
        sq_flush();
}

static int alloc_batch(struct tp_worker *tw)
{
    if (tw->mm)
        return 0;
    tw->mm = calloc(TP_UDP_BATCH, sizeof(*tw->mm));
    tw->mm_iov = calloc(TP_UDP_BATCH, sizeof(*tw->mm_iov));
    tw->mm_addr = calloc(TP_UDP_BATCH, sizeof(*tw->mm_addr));
    tw->mm_buf = malloc((size_t)TP_UDP_BATCH * TP_UDP_BUFSZ);
    if (!tw->mm || !tw->mm_iov || !tw->mm_addr || !tw->mm_buf)
        return SB_ENOMEM;
    for (unsigned i = 0; i < TP_UDP_BATCH; i++) {
        tw->mm_iov[i].iov_base = tw->mm_buf + (size_t)i * TP_UDP_BUFSZ;
        tw->mm_iov[i].iov_len = TP_UDP_BUFSZ;
        tw->mm[i].msg_hdr.msg_iov = &tw->mm_iov[i];
        tw->mm[i].msg_hdr.msg_iovlen = 1;
        tw->mm[i].msg_hdr.msg_name = &tw->mm_addr[i];
    }
    return 0;
}

int sb__tp_udp_start(struct tp_worker *tw)
{
    for (unsigned i = 0; i < sb__tp.n_socks; i++) {
        const struct sb_socket *s = &sb__tp.socks[i];
        if (s->proto != SB_PROTO_UDP)
            continue;
        int rc = alloc_batch(tw);
        if (rc != 0)
            return rc;
        int fd = sb__tp_udp_fd(tw->wid, s);
        if (fd < 0)
            return fd;
        struct tp_fd *f = &tw->udp[i];
        f->sock = s;
        f->tw = tw;
        rc = sb_io_start(tw->loop, &f->io, fd, SB_IO_READ, on_readable, f);
        if (rc != 0) {
            close(fd);
            f->io.fd = -1;
            return rc;
        }
    }
    return 0;
}

int sb__tp_udp_send(struct tp_worker *tw, const struct sb_socket *s, const struct sb_addr *to,
                    const struct iovec *iov, int n_iov)
{
    if (s->id >= sb__tp.n_socks || tw->udp[s->id].io.fd < 0 || !sb_addr_family(to))
        return SB_EINVAL;
    int fd = tw->udp[s->id].io.fd;
    if (sq_depth && dest_known(to) && sq_put(tw, fd, to, iov, n_iov) == 0)
        return 0;
    sq_flush();
    struct msghdr mh = {.msg_name = (void *)&to->u.sa,
                        .msg_namelen = to->len,
                        .msg_iov = (struct iovec *)iov,
                        .msg_iovlen = (size_t)n_iov};
    ssize_t n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
        int e = errno;
        TP_STAT_ADD(tw, snd_errors, 1);
        SB_DEBUG("udp send from %s:%u: %s", s->ip, s->port, strerror(e));
        return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS ? SB_EAGAIN : SB_EINVAL;
    }
    TP_STAT_ADD(tw, snd_msgs, 1);
    TP_STAT_ADD(tw, snd_bytes, (uint64_t)n);
    if (sq_depth)
        dest_remember(to);
    return 0;
}
