/* SPDX-License-Identifier: BSD-2-Clause */
/* Transports: listening sockets, sending, and the hand-off of every received message to the SIP
 * layer. UDP: one SO_REUSEPORT socket per worker per listening address, recvmmsg batching. TCP:
 * accepted on every worker, framed by Content-Length, connections kept in a table and reused to
 * the same peer. */
#ifndef SB_TP_H
#define SB_TP_H

#include <sys/uio.h>

#include "sb/hdr-t.h"
#include "sb/net.h"
#include "sb/script-t.h"

struct sb_buf;
struct sb_listen;
struct sb_core_cfg;
struct sb_worker;

/* A listening address, from socket= / listen= / -l. Read-only once the server runs. */
struct sb_socket {
    unsigned id;           /* index in the socket table */
    uint8_t proto;         /* SB_PROTO_UDP, SB_PROTO_TCP */
    struct sb_addr addr;   /* bound address (port resolved when 0 was asked) */
    char ip[SB_IP_STRLEN]; /* bound address as text, IPv6 without brackets */
    uint16_t port;
    /* What we put in Via and Record-Route: the "as" address, else advertised_address /
     * advertised_port, else the bound one. IPv6 in brackets. NUL-terminated. */
    char adv_host[SB_IP_STRLEN + 256];
    uint16_t adv_port;
    const struct sb_listen *cfg;
};

/* Where to send a message. */
struct sb_dest {
    uint8_t proto; /* SB_PROTO_UDP, SB_PROTO_TCP */
    struct sb_addr to;
    const struct sb_socket *sock; /* the local socket to send from; NULL: sb_tp_pick() */
    uint32_t conn_id;             /* streams: this connection if still open, else one to <to>
                                     (opened when none exists); 0: by address only */
    bool no_new_conn;             /* streams: only an open connection (tcp_no_new_conn_bflag);
                                     none: the send fails with SB_ENOENT */
};

/* A received message, as the transport hands it to the SIP layer. Lives on the receiving
 * worker's stack for the duration of the call. ctx->peer of the script points at <peer>, so
 * sb_rcv_of() gets back from a script context. */
struct sb_rcv {
    struct sb_peer peer;          /* $si $sp $Ri $Rp $pr: strings point into the fields below */
    const struct sb_socket *sock; /* the socket it arrived on */
    struct sb_addr src;
    uint32_t conn_id; /* streams: the connection, 0 for UDP */
    char src_ip[SB_IP_STRLEN];
};

/* The SIP layer's entry point: called once per received datagram / framed stream message, on the
 * receiving worker. <buf> holds the message in data[0..len); the callee takes a reference if it
 * keeps it. Default: sb_receive() (fwd.h); tests may install their own. */
typedef void (*sb_rcv_fn)(struct sb_rcv *rcv, struct sb_buf *buf, uint32_t len);
void sb_tp_set_receiver(sb_rcv_fn fn);

/* Fill <r->peer> from <r->sock>, <r->src> and <r->src_ip>. */
void sb_rcv_fill_peer(struct sb_rcv *r);

/* ---- setup (main, control thread) ---------------------------------------------------------- */

/* Create the socket table from the configured listeners: resolve each address (interface names,
 * "*", host names through the system resolver, once), check that it can be bound, and fix the
 * advertised address. Errors name the listener. Returns 0 or < 0. */
int sb_tp_init(const struct sb_core_cfg *cfg);
/* On each worker thread: open its UDP sockets (SO_REUSEPORT) and TCP listeners and register them
 * with w->loop. */
int sb_tp_worker_start(struct sb_worker *w);
/* Graceful stop: close listeners (no new connections/datagrams are taken). */
void sb_tp_worker_stop_listening(struct sb_worker *w);
/* Close everything of this worker. */
void sb_tp_worker_exit(struct sb_worker *w);
void sb_tp_destroy(void);

/* ---- the socket table ---------------------------------------------------------------------- */

const struct sb_socket *sb_tp_socket(unsigned id);
unsigned sb_tp_n_sockets(void);
/* The socket to send to <to> over <proto> from: same protocol and family, preferring the one a
 * message arrived on (<hint>, may be NULL) when it fits. NULL when there is none. */
const struct sb_socket *sb_tp_pick(uint8_t proto, const struct sb_addr *to,
                                   const struct sb_socket *hint);
/* Is <host>:<port> over <proto> one of our sockets (bound or advertised address)? <port> 0
 * means 5060; <proto> 0 means any. Aliases are the SIP layer's business (sb_is_myself). */
bool sb_tp_is_local(sb_str host, uint16_t port, uint8_t proto);

/* Lower-case name of an enum sb_proto ("udp", "tcp", "tls" ...), "?" for an unknown one. */
const char *sb_tp_proto_name(uint8_t proto);

/* ---- sending (worker thread) --------------------------------------------------------------- */

/* Send one message. UDP: one datagram from the worker's socket of d->sock. TCP: on the
 * connection (opened asynchronously when needed, bounded by tcp_connect_timeout; data is queued
 * meanwhile, bounded); a connection owned by another worker gets a copy over the cross-thread
 * queue. Returns 0 when the message was sent or queued, < 0 on an immediate failure. If
 * d->sock is NULL it is set with sb_tp_pick(). */
int sb_tp_send(struct sb_dest *d, const struct iovec *iov, int n_iov);
int sb_tp_send_buf(struct sb_dest *d, const char *p, size_t len);

/* ---- connections (any thread) -------------------------------------------------------------- */

/* One stream connection, as sb_tp_conns() reports it. */
struct sb_tp_conn_info {
    uint32_t id;     /* the connection id of sb_dest / sb_rcv */
    uint8_t proto;   /* SB_PROTO_TCP */
    bool outgoing;   /* we opened it */
    bool connecting; /* the connect has not completed yet */
    unsigned worker; /* the worker that owns it */
    struct sb_addr local, remote;
    char local_ip[SB_IP_STRLEN], remote_ip[SB_IP_STRLEN]; /* IPv6 without brackets */
    uint16_t local_port, remote_port;
    uint64_t age_s;      /* since it was accepted / opened */
    uint64_t idle_s;     /* since it last carried data either way */
    uint64_t lifetime_s; /* until the idle timer closes it (tcp_connection_lifetime) */
    size_t queued;       /* bytes waiting in its output queue (chunk overhead included) */
};

/* Make stream connection <conn_id> reachable at <alias> too (RFC 5923 connection reuse,
 * force_tcp_alias(), tcp_accept_aliases): a message sent to <alias> over the connection's
 * transport goes on it while it is open, from any worker. <alias> must be the connection's peer
 * address with another port (SB_EINVAL otherwise: a host may not claim another host's address).
 * An alias held by another connection moves to this one; at most a few per connection
 * (SB_ELIMIT). SB_ENOENT when the connection is gone. Any thread. */
int sb_tp_conn_alias(uint32_t conn_id, const struct sb_addr *alias);

/* Call <each> for every open stream connection of every worker. The list is a snapshot copied
 * under the connection index lock; <each> runs after the lock is released, so it may block or
 * call back into the transport layer. Returns the number of connections reported, or SB_ENOMEM. */
int sb_tp_conns(void (*each)(const struct sb_tp_conn_info *info, void *arg), void *arg);

/* Per-transport counters for statistics (summed over workers on read). */
struct sb_tp_stats {
    uint64_t rcv_msgs, rcv_bytes, snd_msgs, snd_bytes, snd_errors;
    uint64_t tcp_conns_open, tcp_conns_total, tcp_rejected, tcp_timeouts, too_big;
};
void sb_tp_stats(struct sb_tp_stats *out);

#endif
