/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP connections: reading and framing, CRLF keep-alives, bounded output queues (per connection
 * and per worker), timeouts (idle lifetime, first message, slow messages, stalled output,
 * connects), and the shared index that lets any worker find an open connection by id or by peer
 * address, count a peer's connections and list them all. */
#include <errno.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/log.h"
#include "sb/msg.h"
#include "tp/tp_int.h"

/* Reads per readiness callback: a fast sender cannot keep the worker to itself. */
#define READS_PER_WAKEUP 8
#define READ_MIN         4096

/* ---- shared index ------------------------------------------------------------------------ */

static unsigned hash_id(uint32_t id)
{
    return (id * 2654435761u) >> 20 & (TP_IDX_BUCKETS - 1);
}

static uint32_t hash_ip(uint32_t h, const struct sb_addr *a)
{
    const unsigned char *p;
    size_t n;
    if (sb_addr_family(a) == AF_INET) {
        p = (const unsigned char *)&a->u.sin.sin_addr;
        n = sizeof(a->u.sin.sin_addr);
    } else {
        p = (const unsigned char *)&a->u.sin6.sin6_addr;
        n = sizeof(a->u.sin6.sin6_addr);
    }
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static unsigned hash_addr(uint8_t proto, const struct sb_addr *a)
{
    uint32_t h = hash_ip(2166136261u ^ proto, a);
    h = (h ^ sb_addr_port(a)) * 16777619u;
    return h & (TP_IDX_BUCKETS - 1);
}

/* Accepted connections only: those are what a remote host can make us hold. */
static bool counts_per_ip(const struct tp_conn *c)
{
    return !c->outgoing;
}

static struct tp_conn **ip_bucket(const struct sb_addr *a)
{
    return &sb__tp.by_ip[hash_ip(2166136261u, a) & (TP_IDX_BUCKETS - 1)];
}

/* Under idx_lock: has <peer> reached tcp_max_connections_per_ip? The walk stops at the limit, so
 * a host at its cap costs at most that many steps per refused accept. */
static bool ip_full_locked(const struct sb_addr *peer)
{
    unsigned n = 0;
    for (const struct tp_conn *c = *ip_bucket(peer); c; c = c->next_ip)
        if (sb_addr_ip_eq(&c->peer, peer) && ++n >= sb__tp.max_per_ip)
            return true;
    return false;
}

/* Index <c>; an accepted one is refused (SB_ELIMIT) when its peer is at its limit, checked under
 * the same lock so that workers accepting from one host at once cannot overshoot. */
static int idx_add(struct tp_conn *c)
{
    pthread_mutex_lock(&sb__tp.idx_lock);
    if (counts_per_ip(c)) {
        if (sb__tp.max_per_ip && ip_full_locked(&c->peer)) {
            pthread_mutex_unlock(&sb__tp.idx_lock);
            return SB_ELIMIT;
        }
        struct tp_conn **bp = ip_bucket(&c->peer);
        c->next_ip = *bp;
        *bp = c;
    }
    struct tp_conn **bi = &sb__tp.by_id[hash_id(c->id)];
    struct tp_conn **ba = &sb__tp.by_addr[hash_addr(c->proto, &c->peer)];
    c->next_id = *bi;
    *bi = c;
    c->next_addr = *ba;
    *ba = c;
    c->in_index = true;
    pthread_mutex_unlock(&sb__tp.idx_lock);
    return 0;
}

static struct tp_alias **alias_bucket(uint8_t proto, const struct sb_addr *a)
{
    return &sb__tp.by_alias[hash_addr(proto, a)];
}

/* Under idx_lock: take <al> out of the alias table (not off its conn's list). */
static void alias_unhash_locked(struct tp_alias *al)
{
    struct tp_alias **pp = alias_bucket(al->conn->proto, &al->addr);
    while (*pp && *pp != al)
        pp = &(*pp)->next_hash;
    if (*pp)
        *pp = al->next_hash;
}

static void idx_del(struct tp_conn *c)
{
    if (!c->in_index)
        return;
    pthread_mutex_lock(&sb__tp.idx_lock);
    while (c->aliases) {
        struct tp_alias *al = c->aliases;
        c->aliases = al->next_conn;
        alias_unhash_locked(al);
        free(al);
    }
    c->n_aliases = 0;
    struct tp_conn **pp = &sb__tp.by_id[hash_id(c->id)];
    while (*pp && *pp != c)
        pp = &(*pp)->next_id;
    if (*pp)
        *pp = c->next_id;
    pp = &sb__tp.by_addr[hash_addr(c->proto, &c->peer)];
    while (*pp && *pp != c)
        pp = &(*pp)->next_addr;
    if (*pp)
        *pp = c->next_addr;
    if (counts_per_ip(c)) {
        pp = ip_bucket(&c->peer);
        while (*pp && *pp != c)
            pp = &(*pp)->next_ip;
        if (*pp)
            *pp = c->next_ip;
    }
    c->in_index = false;
    pthread_mutex_unlock(&sb__tp.idx_lock);
}

void sb__tp_idx_lock(void)
{
    pthread_mutex_lock(&sb__tp.idx_lock);
}

void sb__tp_idx_unlock(void)
{
    pthread_mutex_unlock(&sb__tp.idx_lock);
}

struct tp_conn *sb__tp_idx_find_locked(struct tp_worker *tw, uint32_t id, uint8_t proto,
                                       const struct sb_addr *peer, unsigned *owner,
                                       uint32_t *found_id)
{
    struct tp_conn *mine = NULL, *other = NULL;
    if (id) {
        for (struct tp_conn *c = sb__tp.by_id[hash_id(id)]; c; c = c->next_id) {
            if (c->id == id) {
                if (c->tw == tw)
                    mine = c;
                else
                    other = c;
                break;
            }
        }
    }
    if (!mine && !other && peer && sb_addr_family(peer)) {
        for (struct tp_conn *c = sb__tp.by_addr[hash_addr(proto, peer)]; c; c = c->next_addr) {
            if (c->proto != proto || !sb_addr_eq(&c->peer, peer))
                continue;
            if (c->tw == tw) {
                mine = c;
                break;
            }
            if (!other)
                other = c;
        }
    }
    if (!mine && !other && peer && sb_addr_family(peer)) {
        for (struct tp_alias *al = *alias_bucket(proto, peer); al; al = al->next_hash) {
            if (al->conn->proto == proto && sb_addr_eq(&al->addr, peer)) {
                if (al->conn->tw == tw)
                    mine = al->conn;
                else
                    other = al->conn;
                break;
            }
        }
    }
    *owner = UINT_MAX;
    *found_id = 0;
    if (!mine && other) {
        *owner = other->id >> TP_WORKER_BITS;
        *found_id = other->id;
    }
    return mine;
}

int sb_tp_conn_alias(uint32_t conn_id, const struct sb_addr *alias)
{
    if (!conn_id || !alias || !sb_addr_family(alias) || !sb_addr_port(alias))
        return SB_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&sb__tp.idx_lock);
    struct tp_conn *c = sb__tp.by_id[hash_id(conn_id)];
    while (c && c->id != conn_id)
        c = c->next_id;
    if (!c || c->state == CONN_CLOSED) {
        rc = SB_ENOENT;
        goto out;
    }
    /* only ports of the peer's own address: a host must not draw another host's traffic */
    if (!sb_addr_ip_eq(&c->peer, alias)) {
        rc = SB_EINVAL;
        goto out;
    }
    if (sb_addr_eq(&c->peer, alias))
        goto out;
    struct tp_alias *al = *alias_bucket(c->proto, alias);
    while (al && !(al->conn->proto == c->proto && sb_addr_eq(&al->addr, alias)))
        al = al->next_hash;
    if (al && al->conn == c)
        goto out;
    if (c->n_aliases >= TP_MAX_ALIASES) {
        rc = SB_ELIMIT;
        goto out;
    }
    if (al) {
        /* the newest connection wins: the peer reconnected (NAT rebinding, a restart) */
        struct tp_conn *old = al->conn;
        struct tp_alias **pp = &old->aliases;
        while (*pp != al)
            pp = &(*pp)->next_conn;
        *pp = al->next_conn;
        old->n_aliases--;
    } else {
        al = calloc(1, sizeof(*al));
        if (!al) {
            rc = SB_ENOMEM;
            goto out;
        }
        al->addr = *alias;
        struct tp_alias **b = alias_bucket(c->proto, alias);
        al->next_hash = *b;
        *b = al;
    }
    al->conn = c;
    al->next_conn = c->aliases;
    c->aliases = al;
    c->n_aliases++;
out:
    pthread_mutex_unlock(&sb__tp.idx_lock);
    return rc;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static void conn_free(void *arg)
{
    struct tp_conn *c = arg;
    struct tp_chunk *k = c->outq;
    while (k) {
        struct tp_chunk *n = k->next;
        free(k);
        k = n;
    }
    free(c->rbuf);
    free(c);
}

void sb__tp_conn_close(struct tp_conn *c, const char *why)
{
    if (c->state == CONN_CLOSED)
        return;
    struct tp_worker *tw = c->tw;
    char ip[SB_IP_STRLEN];
    sb_addr_ip(&c->peer, ip);
    SB_DEBUG("tcp conn %u %s:%u closed: %s", c->id, ip, sb_addr_port(&c->peer), why);
    c->state = CONN_CLOSED;
    tw->out_bytes -= c->out_bytes;
    sb_timer_stop(&c->timer);
    if (c->io.loop)
        sb_io_stop(&c->io);
    if (c->io.fd >= 0)
        close(c->io.fd);
    c->io.fd = -1;
    idx_del(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        tw->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
    tw->n_conns--;
    TP_STAT_ADD(tw, tcp_conns_open, (uint64_t)-1);
    /* We may be inside this connection's own callback, or the caller may still look at it (a
     * receiver that sent on it): free it once the loop is back at its top. */
    if (sb_loop_post(tw->loop, conn_free, conn_free, c) != 0) {
        c->next = tw->grave;
        tw->grave = c;
    }
}

/* Close with a reset: what the kernel still holds for a peer that does not read is dropped at
 * once instead of lingering in its buffers. */
static void conn_reset(struct tp_conn *c, const char *why)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    if (c->io.fd >= 0)
        (void)setsockopt(c->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    sb__tp_conn_close(c, why);
}

void sb__tp_conn_close_all(struct tp_worker *tw)
{
    while (tw->conns)
        sb__tp_conn_close(tw->conns, "worker exit");
}

void sb__tp_conn_reap(struct tp_worker *tw)
{
    while (tw->grave) {
        struct tp_conn *c = tw->grave;
        tw->grave = c->next;
        conn_free(c);
    }
}

static bool first_msg_due(const struct tp_conn *c)
{
    return !c->outgoing && !c->got_msg && sb__tp.first_msg_ms;
}

static bool drain_due(const struct tp_conn *c)
{
    return c->state == CONN_OPEN && c->drain_since && sb__tp.drain_ms;
}

/* Bytes the kernel has not yet sent on <c>; SIZE_MAX when unknown. */
static size_t kernel_outq(const struct tp_conn *c)
{
    int n = 0;
    if (ioctl(c->io.fd, SIOCOUTQ, &n) != 0 || n < 0)
        return SIZE_MAX;
    return (size_t)n;
}

/* The output queue made progress (or started) at <now>. */
static void drain_mark(struct tp_conn *c, uint64_t now)
{
    c->drain_since = now;
    c->drain_kq = kernel_outq(c);
}

static void conn_arm(struct tp_conn *c)
{
    uint64_t now = sb_loop_now(c->tw->loop);
    uint64_t next = c->last_active + sb__tp.lifetime_ms;
    if (c->msg_start && c->msg_start + sb__tp.max_msg_ms < next)
        next = c->msg_start + sb__tp.max_msg_ms;
    if (first_msg_due(c) && c->created + sb__tp.first_msg_ms < next)
        next = c->created + sb__tp.first_msg_ms;
    if (drain_due(c) && c->drain_since + sb__tp.drain_ms < next)
        next = c->drain_since + sb__tp.drain_ms;
    if (c->state == CONN_CONNECTING && c->connect_deadline < next)
        next = c->connect_deadline;
    sb_timer_start(c->tw->loop, &c->timer, next > now ? next - now : 0);
}

static void on_timer(struct sb_timer *t)
{
    struct tp_conn *c = t->data;
    struct tp_worker *tw = c->tw;
    uint64_t now = sb_loop_now(tw->loop);
    if (c->state == CONN_CONNECTING && now >= c->connect_deadline) {
        TP_STAT_ADD(tw, tcp_timeouts, 1);
        sb__tp_conn_close(c, "connect timeout");
    } else if (first_msg_due(c) && now >= c->created + sb__tp.first_msg_ms) {
        /* pings keep a connection alive only once it has carried SIP: an idle or pinging host
         * must not hold connection slots for free */
        TP_STAT_ADD(tw, tcp_timeouts, 1);
        sb__tp_conn_close(c, "no message in time");
    } else if (drain_due(c) && now >= c->drain_since + sb__tp.drain_ms &&
               kernel_outq(c) >= c->drain_kq) {
        /* neither our queue nor the kernel's shrank: the peer does not read. (Our queue moves
         * only when the socket buffer is half empty again, so a slow but steady reader shows
         * up in the kernel's count first.) */
        TP_STAT_ADD(tw, tcp_timeouts, 1);
        conn_reset(c, "output not drained in time");
    } else if (drain_due(c) && now >= c->drain_since + sb__tp.drain_ms) {
        drain_mark(c, now);
        conn_arm(c);
    } else if (c->msg_start && now >= c->msg_start + sb__tp.max_msg_ms) {
        /* slowloris: a message must arrive whole within tcp_max_msg_time of its first byte */
        TP_STAT_ADD(tw, tcp_timeouts, 1);
        sb__tp_conn_close(c, "message not complete in time");
    } else if (now >= c->last_active + sb__tp.lifetime_ms) {
        sb__tp_conn_close(c, "idle");
    } else {
        conn_arm(c);
    }
}

static void on_io(struct sb_io *io, uint32_t events);

static uint32_t next_id(struct tp_worker *tw)
{
    for (;;) {
        tw->conn_seq = (tw->conn_seq + 1) & ((1u << TP_WORKER_BITS) - 1);
        if (tw->conn_seq == 0)
            continue;
        uint32_t id = tw->wid << TP_WORKER_BITS | tw->conn_seq;
        unsigned owner;
        uint32_t fid;
        /* after 16M connections the sequence wraps: skip ids still in use */
        sb__tp_idx_lock();
        bool used = sb__tp_idx_find_locked(tw, id, 0, NULL, &owner, &fid) || owner != UINT_MAX;
        sb__tp_idx_unlock();
        if (!used)
            return id;
    }
}

/* The local end of <fd>: the listener's address unless the kernel says better (a wildcard
 * listener, an ephemeral port). */
static void local_addr(int fd, const struct sb_socket *s, struct sb_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    *out = s->addr;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        ss.ss_family == sb_addr_family(&s->addr))
        sb_addr_from_sa(out, (struct sockaddr *)&ss, sl);
}

static struct tp_conn *conn_new(struct tp_worker *tw, int fd, const struct sb_socket *s,
                                const struct sb_addr *peer, uint8_t state, bool outgoing)
{
    struct tp_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->id = next_id(tw);
    c->proto = s->proto;
    c->outgoing = outgoing;
    c->peer = *peer;
    local_addr(fd, s, &c->local);
    c->tw = tw;
    c->sock = s;
    c->state = state;
    c->outq_tail = &c->outq;
    c->io.fd = -1;
    sb_timer_init(&c->timer, on_timer, c);
    c->created = sb_loop_now(tw->loop);
    c->last_active = c->created;
    c->connect_deadline = c->created + sb__tp.connect_ms;
    if (idx_add(c) != 0) {
        char ip[SB_IP_STRLEN];
        sb_addr_ip(peer, ip);
        SB_DEBUG("tcp: %s reached tcp_max_connections_per_ip (%u): refused", ip, sb__tp.max_per_ip);
        TP_STAT_ADD(tw, tcp_rejected, 1);
        free(c);
        return NULL;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    uint32_t ev = state == CONN_CONNECTING ? SB_IO_WRITE : SB_IO_READ;
    if (sb_io_start(tw->loop, &c->io, fd, ev, on_io, c) != 0) {
        idx_del(c);
        free(c);
        return NULL;
    }
    c->next = tw->conns;
    if (tw->conns)
        tw->conns->prev = c;
    tw->conns = c;
    tw->n_conns++;
    TP_STAT_ADD(tw, tcp_conns_open, 1);
    TP_STAT_ADD(tw, tcp_conns_total, 1);
    conn_arm(c);
    return c;
}

struct tp_conn *sb__tp_conn_accepted(struct tp_worker *tw, int fd, const struct sb_socket *s,
                                     const struct sb_addr *peer)
{
    return conn_new(tw, fd, s, peer, CONN_OPEN, false);
}

struct tp_conn *sb__tp_conn_connect(struct tp_worker *tw, const struct sb_socket *s,
                                    const struct sb_addr *to)
{
    int fam = sb_addr_family(to);
    if (!fam || fam != sb_addr_family(&s->addr))
        return NULL;
    if (tw->n_conns >= sb__tp.max_conns) {
        TP_STAT_ADD(tw, tcp_rejected, 1);
        return NULL;
    }
    int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    /* leave from the listener's address (its Via), on an ephemeral port */
    struct sb_addr local = s->addr;
    sb_addr_set_port(&local, 0);
    bool wild = fam == AF_INET ? local.u.sin.sin_addr.s_addr == 0
                               : IN6_IS_ADDR_UNSPECIFIED(&local.u.sin6.sin6_addr);
    if (!wild && bind(fd, &local.u.sa, local.len) != 0) {
        SB_DEBUG("tcp connect: bind %s: %s", s->ip, strerror(errno));
        close(fd);
        return NULL;
    }
    uint8_t state = CONN_OPEN;
    if (connect(fd, &to->u.sa, to->len) != 0) {
        if (errno != EINPROGRESS) {
            TP_STAT_ADD(tw, snd_errors, 1);
            close(fd);
            return NULL;
        }
        state = CONN_CONNECTING;
    }
    struct tp_conn *c = conn_new(tw, fd, s, to, state, true);
    if (!c)
        close(fd);
    return c;
}

/* ---- output ------------------------------------------------------------------------------ */

static void want_write(struct tp_conn *c, bool on)
{
    uint32_t ev = SB_IO_READ | (on ? SB_IO_WRITE : 0);
    if (c->io.loop && c->io.events != ev)
        (void)sb_io_modify(&c->io, ev);
}

static void flush(struct tp_conn *c)
{
    bool moved = false;
    while (c->outq) {
        struct tp_chunk *k = c->outq;
        ssize_t n = send(c->io.fd, k->data + k->off, k->len - k->off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            TP_STAT_ADD(c->tw, snd_errors, 1);
            sb__tp_conn_close(c, strerror(errno));
            return;
        }
        c->last_active = sb_loop_now(c->tw->loop);
        moved = true;
        k->off += (size_t)n;
        c->out_bytes -= (size_t)n;
        c->tw->out_bytes -= (size_t)n;
        if (k->off < k->len)
            break;
        c->outq = k->next;
        if (!c->outq) {
            c->outq_tail = &c->outq;
            c->drain_since = 0;
        }
        c->out_bytes -= sizeof(*k);
        c->tw->out_bytes -= sizeof(*k);
        free(k);
    }
    if (moved && c->outq)
        drain_mark(c, c->last_active);
    want_write(c, c->outq != NULL);
}

/* Keep the worker's queued output within tcp_max_output before <c> queues <need> more bytes:
 * close the connections holding the most first (a peer that does not read is the likely one),
 * <c> included. Returns SB_ELIMIT when <c> itself had to go. */
static int make_room(struct tp_conn *c, size_t need)
{
    struct tp_worker *tw = c->tw;
    while (sb__tp.max_out_worker && tw->out_bytes + need > sb__tp.max_out_worker) {
        struct tp_conn *victim = c;
        for (struct tp_conn *o = tw->conns; o; o = o->next)
            if (o->out_bytes > victim->out_bytes)
                victim = o;
        TP_STAT_ADD(tw, snd_errors, 1);
        conn_reset(victim, "worker output budget exceeded");
        if (victim == c)
            return SB_ELIMIT;
    }
    return 0;
}

int sb__tp_conn_write(struct tp_conn *c, const struct iovec *iov, int n_iov)
{
    if (c->state == CONN_CLOSED)
        return SB_ENOENT;
    struct tp_worker *tw = c->tw;
    size_t total = 0;
    for (int i = 0; i < n_iov; i++)
        total += iov[i].iov_len;
    if (total == 0)
        return 0;
    /* the limit counts what the queue costs, so that many tiny writes (pongs) cannot hold far
     * more memory than it */
    if (c->out_bytes + total + sizeof(struct tp_chunk) > sb__tp.max_out) {
        /* a peer that does not read must not hold our memory */
        TP_STAT_ADD(tw, snd_errors, 1);
        conn_reset(c, "output queue full");
        return SB_ELIMIT;
    }
    size_t done = 0;
    if (c->state == CONN_OPEN && !c->outq) {
        struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n_iov};
        ssize_t n = sendmsg(c->io.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                TP_STAT_ADD(tw, snd_errors, 1);
                sb__tp_conn_close(c, strerror(errno));
                return SB_ENOENT;
            }
            n = 0;
        }
        if (n > 0)
            c->last_active = sb_loop_now(tw->loop);
        done = (size_t)n;
    }
    if (done < total) {
        if (make_room(c, sizeof(struct tp_chunk) + total - done) != 0)
            return SB_ELIMIT;
        struct tp_chunk *k = malloc(sizeof(*k) + total - done);
        if (!k) {
            TP_STAT_ADD(tw, snd_errors, 1);
            sb__tp_conn_close(c, "out of memory");
            return SB_ENOMEM;
        }
        k->next = NULL;
        k->len = total - done;
        k->off = 0;
        size_t skip = done, at = 0;
        for (int i = 0; i < n_iov; i++) {
            size_t l = iov[i].iov_len;
            if (skip >= l) {
                skip -= l;
                continue;
            }
            memcpy(k->data + at, (const char *)iov[i].iov_base + skip, l - skip);
            at += l - skip;
            skip = 0;
        }
        bool was_empty = !c->outq;
        *c->outq_tail = k;
        c->outq_tail = &k->next;
        c->out_bytes += k->len + sizeof(*k);
        tw->out_bytes += k->len + sizeof(*k);
        if (c->state == CONN_OPEN) {
            want_write(c, true);
            if (was_empty) {
                drain_mark(c, sb_loop_now(tw->loop));
                conn_arm(c);
            }
        }
    }
    TP_STAT_ADD(tw, snd_msgs, 1);
    TP_STAT_ADD(tw, snd_bytes, total);
    return 0;
}

/* ---- input ------------------------------------------------------------------------------- */

static bool has_blank_line(const char *p, size_t n)
{
    return memmem(p, n, "\n\r\n", 3) || memmem(p, n, "\n\n", 2);
}

/* Answer <*n> pings at once. */
static void pong(struct tp_conn *c, size_t *n)
{
    static const char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
    enum { PER_IOV = (sizeof(crlfs) - 1) / 2, N_IOV = 16 };
    while (*n && c->state != CONN_CLOSED) {
        struct iovec iov[N_IOV];
        int k = 0;
        while (*n && k < N_IOV) {
            size_t m = *n < PER_IOV ? *n : PER_IOV;
            iov[k++] = (struct iovec){.iov_base = (void *)crlfs, .iov_len = 2 * m};
            *n -= m;
        }
        (void)sb__tp_conn_write(c, iov, k);
    }
    *n = 0;
}

/* Frame and hand out every complete message in the read buffer. */
static void process(struct tp_conn *c)
{
    size_t off = 0, pings = 0;
    while (off < c->rlen && c->state != CONN_CLOSED) {
        const char *p = c->rbuf + off;
        size_t n = c->rlen - off;
        if (p[0] == '\r' || p[0] == '\n') {
            if (n >= 4 && memcmp(p, "\r\n\r\n", 4) == 0) {
                /* RFC5626-3.5.1: a double-CRLF ping is answered with a single CRLF pong */
                off += 4;
                pings++;
                continue;
            }
            if (n < 4 && memcmp(p, "\r\n\r\n", n) == 0)
                break; /* maybe the start of a ping: wait for the rest */
            off += p[0] == '\r' && n >= 2 && p[1] == '\n' ? 2 : 1;
            continue;
        }
        /* A peer dripping a header byte by byte must not make us rescan it on every read: the
         * framer's answer cannot change before a line ends (a blank line, too, ends in LF) or
         * before the first byte after a line end shows whether that line is folded (a bad
         * Content-Length is known then). */
        if (off == 0 && c->framed_len && c->framed_len < n && !c->in_body &&
            !memchr(p + c->framed_len - 1, '\n', n - c->framed_len + 1))
            break;
        /* pongs go out before anything the next message makes us send; a read full of pings
         * costs one write, not one per ping */
        if (pings)
            pong(c, &pings);
        if (c->state == CONN_CLOSED)
            return;
        long m = sb_msg_frame(p, n, NULL);
        if (m == SB_EAGAIN) {
            size_t from = c->framed_len > 3 ? c->framed_len - 3 : 0;
            c->in_body = c->in_body || has_blank_line(p + from, n - from);
            c->framed_len = n;
        } else {
            c->framed_len = 0;
            c->in_body = false;
        }
        if (m > 0) {
            c->msg_start = 0;
            c->got_msg = true;
            sb__tp_deliver(c->tw, c->sock, &c->peer, c->id, p, (size_t)m);
            off += (size_t)m;
            continue;
        }
        if (m == SB_EAGAIN) {
            if (!c->msg_start) {
                c->msg_start = sb_loop_now(c->tw->loop);
                conn_arm(c);
            }
            break;
        }
        if (m == SB_ELIMIT)
            TP_STAT_ADD(c->tw, too_big, 1);
        sb__tp_conn_close(c, m == SB_ELIMIT ? "message too big" : "no usable Content-Length");
        return;
    }
    if (pings && c->state != CONN_CLOSED)
        pong(c, &pings);
    if (c->state == CONN_CLOSED)
        return;
    if (off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
}

static void do_read(struct tp_conn *c)
{
    /* room for one whole message and the byte that shows it is too big */
    size_t cap_max = (size_t)sb_msg_limits_default.max_size + 1;
    for (int r = 0; r < READS_PER_WAKEUP && c->state != CONN_CLOSED; r++) {
        if (c->rcap - c->rlen < READ_MIN && c->rcap < cap_max) {
            size_t nc = c->rcap ? c->rcap * 2 : 8192;
            if (nc > cap_max)
                nc = cap_max;
            char *nb = realloc(c->rbuf, nc);
            if (!nb) {
                sb__tp_conn_close(c, "out of memory");
                return;
            }
            c->rbuf = nb;
            c->rcap = nc;
        }
        size_t room = c->rcap - c->rlen;
        if (room == 0) {
            TP_STAT_ADD(c->tw, too_big, 1);
            sb__tp_conn_close(c, "message too big");
            return;
        }
        ssize_t n = recv(c->io.fd, c->rbuf + c->rlen, room, MSG_DONTWAIT);
        if (n == 0) {
            sb__tp_conn_close(c, "closed by peer");
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                sb__tp_conn_close(c, strerror(errno));
            return;
        }
        c->rlen += (size_t)n;
        c->last_active = sb_loop_now(c->tw->loop);
        process(c);
        if ((size_t)n < room)
            return;
    }
}

static void on_connected(struct tp_conn *c)
{
    int err = 0;
    socklen_t el = sizeof(err);
    if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
    if (err != 0) {
        TP_STAT_ADD(c->tw, snd_errors, 1);
        sb__tp_conn_close(c, strerror(err));
        return;
    }
    c->state = CONN_OPEN;
    c->last_active = sb_loop_now(c->tw->loop);
    if (c->outq)
        drain_mark(c, c->last_active);
    conn_arm(c);
    flush(c);
}

static void on_io(struct sb_io *io, uint32_t events)
{
    struct tp_conn *c = io->data;
    if (c->state == CONN_CONNECTING) {
        on_connected(c);
        return;
    }
    if (events & (SB_IO_READ | SB_IO_ERR))
        do_read(c);
    if (c->state == CONN_OPEN && (events & SB_IO_WRITE))
        flush(c);
}

/* ---- listing ----------------------------------------------------------------------------- */

static void info_fill(const struct tp_conn *c, uint64_t now, struct sb_tp_conn_info *i)
{
    uint64_t active = c->last_active;
    *i = (struct sb_tp_conn_info){
        .id = c->id,
        .proto = c->proto,
        .outgoing = c->outgoing,
        .connecting = c->state == CONN_CONNECTING,
        .worker = c->id >> TP_WORKER_BITS,
        .local = c->local,
        .remote = c->peer,
        .local_port = sb_addr_port(&c->local),
        .remote_port = sb_addr_port(&c->peer),
        .queued = c->out_bytes,
    };
    i->age_s = now > c->created ? (now - c->created) / 1000 : 0;
    i->idle_s = now > active ? (now - active) / 1000 : 0;
    uint64_t end = active + sb__tp.lifetime_ms;
    i->lifetime_s = end > now ? (end - now + 999) / 1000 : 0;
}

int sb_tp_conns(void (*each)(const struct sb_tp_conn_info *info, void *arg), void *arg)
{
    /* every worker's loop clock is CLOCK_MONOTONIC in ms unless a test installed its own */
    uint64_t now = sb_now_ms();
    size_t n = 0, cap = 0;
    struct sb_tp_conn_info *list = NULL;
    sb__tp_idx_lock();
    for (unsigned b = 0; b < TP_IDX_BUCKETS; b++)
        for (const struct tp_conn *c = sb__tp.by_id[b]; c; c = c->next_id)
            cap++;
    if (cap)
        list = malloc(cap * sizeof(*list));
    if (cap && !list) {
        sb__tp_idx_unlock();
        return SB_ENOMEM;
    }
    for (unsigned b = 0; b < TP_IDX_BUCKETS; b++) {
        for (const struct tp_conn *c = sb__tp.by_id[b]; c; c = c->next_id) {
            if (c->state == CONN_CLOSED)
                continue;
            info_fill(c, now, &list[n++]);
        }
    }
    sb__tp_idx_unlock();
    for (size_t i = 0; i < n; i++) {
        sb_addr_ip(&list[i].local, list[i].local_ip);
        sb_addr_ip(&list[i].remote, list[i].remote_ip);
        each(&list[i], arg);
    }
    free(list);
    return (int)n;
}
