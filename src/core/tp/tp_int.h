/* SPDX-License-Identifier: BSD-2-Clause */
/* Transport internals shared by the files of src/core/tp: the process-wide socket table, the
 * per-worker state (struct sb_worker.tp), TCP connections and the shared connection index. */
#ifndef SB_TP_INT_H
#define SB_TP_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "sb/loop.h"
#include "sb/tp.h"

struct sb_worker;

/* Per-worker counters. Only the owning worker writes them (load + store, no locked add); other
 * threads read them with relaxed loads when summing. */
struct tp_stats {
    _Atomic uint64_t rcv_msgs, rcv_bytes, snd_msgs, snd_bytes, snd_errors;
    _Atomic uint64_t tcp_conns_open, tcp_conns_total, tcp_rejected, tcp_timeouts, too_big;
};
#define TP_STAT_ADD(tw, field, n)                                                                  \
    atomic_store_explicit(&(tw)->stats.field,                                                      \
                          atomic_load_explicit(&(tw)->stats.field, memory_order_relaxed) + (n),    \
                          memory_order_relaxed)

/* A listening fd of one worker: a UDP socket or a TCP listener for one sb_socket. */
struct tp_fd {
    struct sb_io io;
    const struct sb_socket *sock;
    struct tp_worker *tw;
};

enum { CONN_CONNECTING = 1, CONN_OPEN, CONN_CLOSED };

/* Another address a connection answers for (RFC 5923 alias, force_tcp_alias()): requests sent
 * to it reuse the connection. Lives in sb__tp.by_alias and on its conn's list, under idx_lock. */
struct tp_alias {
    struct tp_alias *next_hash, *next_conn;
    struct tp_conn *conn;
    struct sb_addr addr;
};
#define TP_MAX_ALIASES 4 /* per connection: a peer cannot grow the table without bound */

/* Pending output of a stream connection. */
struct tp_chunk {
    struct tp_chunk *next;
    size_t len, off;
    char data[];
};

struct tp_conn {
    /* Read by other workers under sb__tp.idx_lock (shared index); fixed before it is indexed: */
    uint32_t id;
    uint8_t proto;
    bool outgoing;
    struct sb_addr peer;
    struct sb_addr local;
    const struct sb_socket *sock; /* the listener it came in on, or the local socket it left from */
    uint64_t created;             /* loop ms */
    struct tp_conn *next_id, *next_addr, *next_ip; /* index chains */
    struct tp_alias *aliases;                      /* under idx_lock */
    unsigned n_aliases;
    /* Written by the owner only, also read by sb_tp_conns() (hence atomic): */
    _Atomic uint8_t state;
    _Atomic uint64_t last_active; /* loop ms */
    _Atomic size_t out_bytes;     /* what the output queue costs, chunk headers included */
    /* Owner only: */
    struct tp_worker *tw;
    bool in_index;
    bool got_msg; /* a whole SIP message has arrived (pings do not count) */
    struct sb_io io;
    struct sb_timer timer;
    uint64_t drain_since; /* loop ms of the output queue's last progress; 0: queue empty */
    size_t drain_kq;      /* the kernel's unsent bytes then (SIOCOUTQ) */
    uint64_t msg_start;   /* loop ms of the first byte of a partial message; 0: none */
    size_t framed_len;    /* bytes the framer last saw of the partial message; 0: none */
    bool in_body;         /* its header section is complete */
    uint64_t connect_deadline;
    char *rbuf;
    size_t rlen, rcap;
    struct tp_chunk *outq, **outq_tail;
    struct tp_conn *next, *prev; /* the worker's live connections; <next>: graveyard link */
};

struct tp_worker {
    struct sb_worker *w;
    struct sb_loop *loop;
    unsigned wid;
    struct tp_fd *udp;     /* [n_socks]; io.fd -1 where the socket is not UDP */
    struct tp_fd *lsn;     /* [n_socks]; io.fd -1 where the socket is not TCP */
    struct tp_conn *conns; /* live */
    struct tp_conn *grave; /* closed ones whose deferred free could not be posted */
    unsigned n_conns;
    uint32_t conn_seq;
    size_t out_bytes; /* sum of its connections' out_bytes, against sb__tp.max_out_worker */
    /* recvmmsg batch */
    struct mmsghdr *mm;
    struct iovec *mm_iov;
    struct sockaddr_storage *mm_addr;
    char *mm_buf;
    struct tp_stats stats;
    struct tp_worker *retired_next; /* after sb_tp_worker_exit: see sb_tp_destroy */
};

#define TP_IDX_BUCKETS 4096u

/* Process-wide state: written by sb_tp_init / sb_tp_destroy (control thread, no worker running),
 * read-only while workers run, except the connection index behind <idx_lock>. */
struct tp_global {
    struct sb_socket *socks;
    unsigned n_socks;
    sb_rcv_fn rcv;
    /* limits, from the configuration */
    unsigned max_conns;
    unsigned max_per_ip; /* accepted connections from one address, all workers; 0: no limit */
    uint64_t lifetime_ms, max_msg_ms, connect_ms;
    uint64_t first_msg_ms; /* accepted connection: first whole message within; 0: no limit */
    uint64_t drain_ms;     /* output queue must make progress within; 0: no limit */
    int rcvbuf;
    bool steer;            /* udp_reply_steering */
    size_t max_out;        /* output queue of one connection */
    size_t max_out_worker; /* output queues of one worker, together; 0: no limit */
    /* interface addresses, for sb_tp_is_local() with a wildcard socket */
    struct sb_addr *local_ips;
    unsigned n_local_ips;
    /* shared connection index: id -> conn, (proto, peer) -> conn, peer IP -> accepted conns
     * (for max_per_ip). The conn's owner inserts and removes; anyone looks up, reading only the
     * fields marked as such in struct tp_conn. */
    pthread_mutex_t idx_lock;
    struct tp_conn *by_id[TP_IDX_BUCKETS];
    struct tp_conn *by_addr[TP_IDX_BUCKETS];
    struct tp_conn *by_ip[TP_IDX_BUCKETS];
    struct tp_alias *by_alias[TP_IDX_BUCKETS]; /* (proto, alias address) -> conn */
};

extern struct tp_global sb__tp;

#define TP_UDP_BATCH   32
#define TP_UDP_BUFSZ   65536
#define TP_WORKER_BITS 24 /* conn id: worker << 24 | sequence */

/* socket.c */
/* Hand <len> bytes at <p> to the receiver in a fresh sb_buf, and count them. */
void sb__tp_deliver(struct tp_worker *tw, const struct sb_socket *s, const struct sb_addr *src,
                    uint32_t conn_id, const char *p, size_t len);
/* Stop and close a worker's listening fds (<fds>[n_socks]). */
void sb__tp_fds_close(struct tp_fd *fds);

/* send.c */
/* Tests and fuzz targets: when set, sb_tp_send() hands every message to <fn> (with d->sock
 * resolved) instead of a socket, and returns what it returns. Set before the workers run. */
typedef int (*sb__tp_send_hook_fn)(const struct sb_dest *d, const struct iovec *iov, int n_iov);
void sb__tp_set_send_hook(sb__tp_send_hook_fn fn);

/* udp.c */
int sb__tp_udp_start(struct tp_worker *tw);
int sb__tp_udp_send(struct tp_worker *tw, const struct sb_socket *s, const struct sb_addr *to,
                    const struct iovec *iov, int n_iov);

/* steer.c: the UDP sockets of each address for all workers, in worker order, and the program
 * that steers replies to the worker named in their top Via branch. */
/* The branch format belongs to sb_branch_make (src/core/msg/build.c): "z9hG4bK" "sb", then the
 * worker in two base-32 digits (worker >> 5, worker & 31), key digits and a check digit. The
 * program reads it in the kernel; tests/unit/test_steer.c checks these against sb_branch_make. */
#define TP_STEER_COOKIE   "z9hG4bK"
#define TP_STEER_MARK     "sb"
#define TP_STEER_DIGITS   "0123456789abcdefghijklmnopqrstuv"
#define TP_STEER_FALLBACK 0xffffffffu /* past the group: the kernel's hash picks the socket */
struct sock_filter;
/* Write the classic BPF program for <n_workers> workers (group index = worker id) scanning the
 * first <window> bytes of a datagram into <out>[cap]. Returns its length or < 0. */
int sb__tp_steer_prog(struct sock_filter *out, unsigned cap, unsigned n_workers, unsigned window);
/* Worker <wid>'s UDP socket for <s>: with steering on and two workers or more, the first call
 * binds every worker's socket of every UDP address in worker order and attaches the program;
 * otherwise a socket bound now. < 0 on error (logged). */
int sb__tp_udp_fd(unsigned wid, const struct sb_socket *s);
/* A UDP socket bound to <s> with the receive buffer set; < 0 on error (logged). */
int sb__tp_udp_bind(const struct sb_socket *s);
/* Close the sockets no worker took (sb_tp_destroy). */
void sb__tp_steer_reset(void);

/* tcp.c: listeners */
int sb__tp_tcp_start(struct tp_worker *tw);
/* An fd bound to <s> with SO_REUSEADDR + SO_REUSEPORT, non-blocking; < 0 on error (logged). */
int sb__tp_bind_fd(const struct sb_socket *s, int type);

/* conn.c */
/* Take an accepted fd. NULL when it is refused (tcp_max_connections_per_ip, counted in
 * tcp_rejected) or on failure; the caller closes <fd> then. */
struct tp_conn *sb__tp_conn_accepted(struct tp_worker *tw, int fd, const struct sb_socket *s,
                                     const struct sb_addr *peer);
struct tp_conn *sb__tp_conn_connect(struct tp_worker *tw, const struct sb_socket *s,
                                    const struct sb_addr *to);
int sb__tp_conn_write(struct tp_conn *c, const struct iovec *iov, int n_iov);
void sb__tp_conn_close(struct tp_conn *c, const char *why);
void sb__tp_conn_close_all(struct tp_worker *tw);
/* Free the connections whose deferred free could not be posted. */
void sb__tp_conn_reap(struct tp_worker *tw);
/* Shared index lookups (any thread, between sb__tp_idx_lock and _unlock). <id> 0 or <peer> NULL:
 * that key is not used. Returns the conn when it belongs to <tw>; otherwise NULL, with *owner and
 * *found_id set when a foreign conn matched (*owner = UINT_MAX when none did). By address, a conn
 * of <tw> is preferred, and a conn whose peer is <peer> comes before one aliased to it. A worker
 * removes its conns from the index before its loop is freed, so a job posted to an owner found
 * here, with the lock still held, reaches a live loop. */
void sb__tp_idx_lock(void);
void sb__tp_idx_unlock(void);
struct tp_conn *sb__tp_idx_find_locked(struct tp_worker *tw, uint32_t id, uint8_t proto,
                                       const struct sb_addr *peer, unsigned *owner,
                                       uint32_t *found_id);

#endif
