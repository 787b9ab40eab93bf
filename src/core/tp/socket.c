/* SPDX-License-Identifier: BSD-2-Clause */
/* The socket table: listeners resolved once at start, advertised addresses, socket choice for
 * sending, "is this address ours", and the per-worker transport lifecycle. */
#include <pthread.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/buf.h"
#include "sb/core_cfg.h"
#include "sb/log.h"
#include "sb/worker.h"
#include "tp/tp_int.h"

struct tp_global sb__tp = {.idx_lock = PTHREAD_MUTEX_INITIALIZER};

/* OpenSIPS listens on every interface when nothing is configured. */
static const struct sb_listen default_listen = {
    .proto = SB_PROTO_UDP, .host = "0.0.0.0", .port = 5060, .text = "udp:0.0.0.0:5060"};

void sb_tp_set_receiver(sb_rcv_fn fn)
{
    sb__tp.rcv = fn;
}

void sb_rcv_fill_peer(struct sb_rcv *r)
{
    if (r->src.len)
        sb_addr_ip(&r->src, r->src_ip);
    r->peer.src_ip = sb_str_cstr(r->src_ip);
    r->peer.src_port = sb_addr_port(&r->src);
    r->peer.dst_ip = r->sock ? sb_str_cstr(r->sock->ip) : SB_STR_NULL;
    r->peer.dst_port = r->sock ? r->sock->port : 0;
    r->peer.proto = r->sock ? r->sock->proto : SB_PROTO_OTHER;
}

void sb__tp_deliver(struct tp_worker *tw, const struct sb_socket *s, const struct sb_addr *src,
                    uint32_t conn_id, const char *p, size_t len)
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
    struct sb_rcv r = {.sock = s, .src = *src, .conn_id = conn_id};
    sb_rcv_fill_peer(&r);
    fn(&r, b, (uint32_t)len);
    sb_buf_unref(b);
}

void sb__tp_fds_close(struct tp_fd *fds)
{
    for (unsigned i = 0; i < sb__tp.n_socks; i++) {
        struct tp_fd *f = &fds[i];
        if (f->io.fd < 0)
            continue;
        if (f->io.loop)
            sb_io_stop(&f->io);
        close(f->io.fd);
        f->io.fd = -1;
    }
}

const char *sb_tp_proto_name(uint8_t p)
{
    switch (p) {
    case SB_PROTO_UDP: return "udp";
    case SB_PROTO_TCP: return "tcp";
    case SB_PROTO_TLS: return "tls";
    case SB_PROTO_SCTP: return "sctp";
    case SB_PROTO_WS: return "ws";
    case SB_PROTO_WSS: return "wss";
    default: return "?";
    }
}

static bool is_wildcard(const struct sb_addr *a)
{
    if (sb_addr_family(a) == AF_INET)
        return a->u.sin.sin_addr.s_addr == htonl(INADDR_ANY);
    if (sb_addr_family(a) == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&a->u.sin6.sin6_addr);
    return false;
}

static bool is_loopback(const struct sb_addr *a)
{
    if (sb_addr_family(a) == AF_INET)
        return (ntohl(a->u.sin.sin_addr.s_addr) >> 24) == 127;
    if (sb_addr_family(a) == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&a->u.sin6.sin6_addr);
    return false;
}

static int from_ifname(const char *name, struct sb_addr *out)
{
    struct ifaddrs *list, *i;
    if (getifaddrs(&list) != 0)
        return SB_ENOENT;
    int rc = SB_ENOENT;
    /* an interface's IPv4 address first, as OpenSIPS does for "udp:eth0" */
    for (int pass = 0; pass < 2 && rc != 0; pass++) {
        int fam = pass == 0 ? AF_INET : AF_INET6;
        for (i = list; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != fam || strcmp(i->ifa_name, name) != 0)
                continue;
            sb_addr_from_sa(out, i->ifa_addr,
                            fam == AF_INET ? sizeof(struct sockaddr_in)
                                           : sizeof(struct sockaddr_in6));
            rc = 0;
            break;
        }
    }
    freeifaddrs(list);
    return rc;
}

static int from_hostname(const char *name, uint8_t proto, struct sb_addr *out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = proto == SB_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res)
        return SB_ENOENT;
    sb_addr_from_sa(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return sb_addr_family(out) ? 0 : SB_ENOENT;
}

static int resolve(const struct sb_listen *l, struct sb_addr *out)
{
    const char *h = l->host;
    if (!h || !*h || strcmp(h, "*") == 0)
        h = "0.0.0.0";
    if (sb_addr_set(out, sb_str_cstr(h), 0) == 0)
        return 0;
    if (from_ifname(h, out) == 0)
        return 0;
    return from_hostname(h, l->proto, out);
}

static void set_adv(struct sb_socket *s, const struct sb_listen *l, const struct sb_core_cfg *cfg)
{
    const char *host = NULL;
    uint16_t port = s->port;
    if (l->adv_host && *l->adv_host) {
        host = l->adv_host;
        if (l->adv_port)
            port = l->adv_port;
    } else {
        if (cfg && cfg->advertised_address && *cfg->advertised_address)
            host = cfg->advertised_address;
        if (cfg && cfg->advertised_port > 0 && cfg->advertised_port <= 65535)
            port = (uint16_t)cfg->advertised_port;
    }
    if (!host)
        host = s->ip;
    sb_str h = sb_str_cstr(host);
    bool brackets = h.p[0] != '[' && sb_is_ip6(h);
    snprintf(s->adv_host, sizeof(s->adv_host), "%s%s%s", brackets ? "[" : "", host,
             brackets ? "]" : "");
    s->adv_port = port;
}

static int collect_local_ips(void)
{
    struct ifaddrs *list, *i;
    if (getifaddrs(&list) != 0)
        return 0;
    unsigned n = 0;
    for (i = list; i; i = i->ifa_next)
        if (i->ifa_addr &&
            (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
            n++;
    sb__tp.local_ips = calloc(n ? n : 1, sizeof(struct sb_addr));
    if (!sb__tp.local_ips) {
        freeifaddrs(list);
        return SB_ENOMEM;
    }
    for (i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr)
            continue;
        int f = i->ifa_addr->sa_family;
        if (f != AF_INET && f != AF_INET6)
            continue;
        sb_addr_from_sa(&sb__tp.local_ips[sb__tp.n_local_ips++], i->ifa_addr,
                        f == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    }
    freeifaddrs(list);
    return 0;
}

static int check_bind(const struct sb_socket *s)
{
    if (s->proto != SB_PROTO_UDP && s->proto != SB_PROTO_TCP)
        return 0;
    int fd = sb__tp_bind_fd(s, s->proto == SB_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

static int nonneg(int v)
{
    return v > 0 ? v : 0;
}

int sb_tp_init(const struct sb_core_cfg *cfg)
{
    sb_tp_destroy();
    const struct sb_listen *first = cfg ? cfg->listeners : NULL;
    if (!first)
        first = &default_listen;
    unsigned n = 0;
    for (const struct sb_listen *l = first; l; l = l->next)
        n++;
    sb__tp.socks = calloc(n, sizeof(*sb__tp.socks));
    if (!sb__tp.socks)
        return SB_ENOMEM;

    bool wild = false;
    int rc = 0;
    for (const struct sb_listen *l = first; l; l = l->next) {
        struct sb_socket *s = &sb__tp.socks[sb__tp.n_socks];
        const char *text = l->text ? l->text : (l->host ? l->host : "*");
        s->id = sb__tp.n_socks;
        s->proto = l->proto ? l->proto : SB_PROTO_UDP;
        s->cfg = l;
        s->port = l->port ? l->port
                          : (s->proto == SB_PROTO_TLS || s->proto == SB_PROTO_WSS ? 5061 : 5060);
        if (resolve(l, &s->addr) != 0) {
            SB_ERR("listener %s: cannot resolve \"%s\" (not an address, interface or host name)",
                   text, l->host ? l->host : "");
            rc = SB_ENOENT;
            continue;
        }
        sb_addr_set_port(&s->addr, s->port);
        sb_addr_ip(&s->addr, s->ip);
        set_adv(s, l, cfg);
        if (is_wildcard(&s->addr)) {
            wild = true;
            if (!(l->adv_host && *l->adv_host) && !(cfg && cfg->advertised_address))
                SB_WARN("listener %s: bound to all interfaces and advertised as %s; set \"as\" "
                        "or advertised_address to a reachable address",
                        text, s->adv_host);
        }
        if (s->proto != SB_PROTO_UDP && s->proto != SB_PROTO_TCP)
            SB_WARN("listener %s: %s is not served by the core transports", text,
                    sb_tp_proto_name(s->proto));
        int brc = check_bind(s);
        if (brc != 0) {
            SB_ERR("listener %s: cannot bind %s:%u", text, s->ip, s->port);
            rc = brc;
            continue;
        }
        sb__tp.n_socks++;
    }
    if (rc == 0 && wild)
        rc = collect_local_ips();
    if (rc != 0) {
        sb_tp_destroy();
        return rc;
    }

    sb__tp.max_conns =
        cfg && cfg->tcp_max_connections > 0 ? (unsigned)cfg->tcp_max_connections : 2048;
    sb__tp.lifetime_ms =
        (uint64_t)(cfg && cfg->tcp_connection_lifetime > 0 ? cfg->tcp_connection_lifetime : 120) *
        1000;
    sb__tp.max_msg_ms =
        (uint64_t)(cfg && cfg->tcp_max_msg_time > 0 ? cfg->tcp_max_msg_time : 4) * 1000;
    sb__tp.connect_ms =
        (uint64_t)(cfg && cfg->tcp_connect_timeout > 0 ? cfg->tcp_connect_timeout : 100);
    sb__tp.rcvbuf = cfg ? cfg->maxbuffer : 0;
    sb__tp.steer = cfg ? cfg->udp_reply_steering : true;
    sb__tp.max_out = 1u << 20;
    /* the limits against hostile peers: 0 (or less) turns one off */
    sb__tp.max_per_ip = (unsigned)(cfg ? nonneg(cfg->tcp_max_connections_per_ip) : 64);
    sb__tp.first_msg_ms = (uint64_t)(cfg ? nonneg(cfg->tcp_first_msg_timeout) : 10) * 1000;
    sb__tp.max_out_worker = (size_t)(cfg ? nonneg(cfg->tcp_max_output) : 64 << 20);
    sb__tp.drain_ms = (uint64_t)(cfg ? nonneg(cfg->tcp_drain_timeout) : 10) * 1000;
    return 0;
}

/* Workers' transport state after sb_tp_worker_exit, freed by sb_tp_destroy. */
static pthread_mutex_t retired_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tp_worker *retired;

void sb_tp_destroy(void)
{
    pthread_mutex_lock(&retired_mu);
    while (retired) {
        struct tp_worker *next = retired->retired_next;
        free(retired);
        retired = next;
    }
    pthread_mutex_unlock(&retired_mu);
    sb__tp_steer_reset();
    free(sb__tp.socks);
    sb__tp.socks = NULL;
    sb__tp.n_socks = 0;
    free(sb__tp.local_ips);
    sb__tp.local_ips = NULL;
    sb__tp.n_local_ips = 0;
}

const struct sb_socket *sb_tp_socket(unsigned id)
{
    return id < sb__tp.n_socks ? &sb__tp.socks[id] : NULL;
}

unsigned sb_tp_n_sockets(void)
{
    return sb__tp.n_socks;
}

const struct sb_socket *sb_tp_pick(uint8_t proto, const struct sb_addr *to,
                                   const struct sb_socket *hint)
{
    int fam = sb_addr_family(to);
    if (hint && hint->proto == proto && (!fam || sb_addr_family(&hint->addr) == fam))
        return hint;
    const struct sb_socket *best = NULL;
    int best_score = -1;
    for (unsigned i = 0; i < sb__tp.n_socks; i++) {
        const struct sb_socket *s = &sb__tp.socks[i];
        if (s->proto != proto || (fam && sb_addr_family(&s->addr) != fam))
            continue;
        /* a loopback destination from a loopback socket and the other way round: anything else
         * would put an unreachable address in Via */
        int score = !fam || is_loopback(to) == is_loopback(&s->addr) ? 1 : 0;
        if (score > best_score) {
            best = s;
            best_score = score;
        }
    }
    return best;
}

static bool is_local_ip(const struct sb_addr *a)
{
    for (unsigned i = 0; i < sb__tp.n_local_ips; i++)
        if (sb_addr_ip_eq(a, &sb__tp.local_ips[i]))
            return true;
    return false;
}

static sb_str unbracket(sb_str s)
{
    if (s.len >= 2 && s.p[0] == '[' && s.p[s.len - 1] == ']')
        return (sb_str){s.p + 1, s.len - 2};
    return s;
}

bool sb_tp_is_local(sb_str host, uint16_t port, uint8_t proto)
{
    if (port == 0)
        port = 5060;
    struct sb_addr a;
    bool lit = sb_addr_set(&a, host, 0) == 0;
    for (unsigned i = 0; i < sb__tp.n_socks; i++) {
        const struct sb_socket *s = &sb__tp.socks[i];
        if (proto && s->proto != proto)
            continue;
        if (lit && port == s->port) {
            if (sb_addr_ip_eq(&a, &s->addr))
                return true;
            if (is_wildcard(&s->addr) &&
                (sb_addr_family(&a) == sb_addr_family(&s->addr) ||
                 sb_addr_family(&s->addr) == AF_INET6) &&
                is_local_ip(&a))
                return true;
        }
        if (port == s->adv_port &&
            sb_str_caseeq(unbracket(host), unbracket(sb_str_cstr(s->adv_host))))
            return true;
    }
    return false;
}

void sb_tp_stats(struct sb_tp_stats *out)
{
    *out = (struct sb_tp_stats){0};
    for (unsigned i = 0; sb_rt.workers && i < sb_rt.n_workers; i++) {
        const struct tp_worker *tw = __atomic_load_n(&sb_rt.workers[i].tp, __ATOMIC_ACQUIRE);
        if (!tw)
            continue;
#define SUM(f) out->f += atomic_load_explicit(&tw->stats.f, memory_order_relaxed)
        SUM(rcv_msgs);
        SUM(rcv_bytes);
        SUM(snd_msgs);
        SUM(snd_bytes);
        SUM(snd_errors);
        SUM(tcp_conns_open);
        SUM(tcp_conns_total);
        SUM(tcp_rejected);
        SUM(tcp_timeouts);
        SUM(too_big);
#undef SUM
    }
}

int sb_tp_worker_start(struct sb_worker *w)
{
    if (!w || !w->loop || w->id >= (1u << (32 - TP_WORKER_BITS)))
        return SB_EINVAL;
    struct tp_worker *tw = calloc(1, sizeof(*tw));
    if (!tw)
        return SB_ENOMEM;
    tw->w = w;
    tw->loop = w->loop;
    tw->wid = w->id;
    unsigned n = sb__tp.n_socks ? sb__tp.n_socks : 1;
    tw->udp = calloc(n, sizeof(*tw->udp));
    tw->lsn = calloc(n, sizeof(*tw->lsn));
    __atomic_store_n(&w->tp, tw, __ATOMIC_RELEASE);
    if (!tw->udp || !tw->lsn) {
        sb_tp_worker_exit(w);
        return SB_ENOMEM;
    }
    for (unsigned i = 0; i < n; i++)
        tw->udp[i].io.fd = tw->lsn[i].io.fd = -1;
    int rc = sb__tp_udp_start(tw);
    if (rc == 0)
        rc = sb__tp_tcp_start(tw);
    if (rc != 0)
        sb_tp_worker_exit(w);
    return rc;
}

void sb_tp_worker_stop_listening(struct sb_worker *w)
{
    struct tp_worker *tw = w ? w->tp : NULL;
    if (!tw)
        return;
    sb__tp_fds_close(tw->udp);
    sb__tp_fds_close(tw->lsn);
}

void sb_tp_worker_exit(struct sb_worker *w)
{
    struct tp_worker *tw = w ? w->tp : NULL;
    if (!tw)
        return;
    sb_tp_worker_stop_listening(w);
    sb__tp_conn_close_all(tw);
    sb__tp_conn_reap(tw);
    free(tw->mm);
    free(tw->mm_iov);
    free(tw->mm_addr);
    free(tw->mm_buf);
    free(tw->udp);
    free(tw->lsn);
    tw->mm = NULL;
    tw->mm_iov = NULL;
    tw->mm_addr = NULL;
    tw->mm_buf = NULL;
    tw->udp = tw->lsn = NULL;
    /* sb_tp_stats may be summing this worker's counters on a management thread: the struct is
     * retired, not freed, until sb_tp_destroy (after the management threads have stopped) */
    __atomic_store_n(&w->tp, NULL, __ATOMIC_RELEASE);
    pthread_mutex_lock(&retired_mu);
    tw->retired_next = retired;
    retired = tw;
    pthread_mutex_unlock(&retired_mu);
}
