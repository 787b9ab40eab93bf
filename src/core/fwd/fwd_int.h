/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the core SIP layer shared by receive.c, reply.c, forward.c and myself.c. */
#ifndef SB_FWD_INT_H
#define SB_FWD_INT_H

#include "sb/arena.h"
#include "sb/fwd.h"
#include "sb/msg.h"

struct sb_avps;
struct sb_core_cfg;

/* Per-worker state (w->fwd), or a thread-local one where no worker runs (tests, tools). */
struct sb__fwd_state {
    struct sb_core_stats st;
    uint64_t sl_acks;  /* ACKs to our stateless replies, absorbed */
    struct sb_msg msg; /* unused: messages come from <free_msgs> (kept for layout users) */
    bool msg_ready;
    /* The message being handled and the buffer it was parsed from. A transaction may take the
     * message (sb__fwd_msg_take): it is then not reset here but released by its new owner. */
    struct sb_msg *cur;
    struct sb_buf *cur_buf;
    bool cur_taken;
    struct sb_msg *free_msgs[16];
    unsigned n_free;
    struct sb_arena scratch;
    struct sb_avps *avps;
    /* what error_route sees as $err.* */
    int err_class, err_level, err_rcode;
    const char *err_info;
    char err_reason[96];
    /* rate limit of packet-triggered warnings */
    int64_t warn_sec;
    unsigned warn_n;
    _Alignas(16) char scratch_inline[4096];
};

struct sb__fwd_state *sb__fwd_state(void);

/* Take the message being received on this worker (with a reference on its buffer): the receive
 * path will not reset or reuse it. NULL when no message is being handled. Worker-local. */
struct sb_msg *sb__fwd_msg_take(void);
/* Give back a taken message (reset, then kept for reuse or freed). NULL is accepted. */
void sb__fwd_msg_release(struct sb_msg *m);
/* Take the AVP list of the running execution (a transaction keeps it); the receive path starts
 * a new one for the next message. */
struct sb_avps *sb__fwd_avps_take(void);
/* Free this state's spare messages (worker exit). */
void sb__fwd_msgs_free(struct sb__fwd_state *st);

/* Hand a received message (<len> bytes at <p>, copied) with its receive context to worker <wid>,
 * whose loop runs the whole receive path on it. Returns 0 or < 0 (SB_EINVAL: no such worker). */
int sb__fwd_move(unsigned wid, const struct sb_rcv *rcv, const char *p, uint32_t len);

/* Request seam of the transaction layer: called for every well-formed request before the script.
 * Returns 1 when the request was consumed (a retransmission absorbed, an ACK or CANCEL handled),
 * 0 to run the script. Set at start-up. */
typedef int (*sb_fwd_request_fn)(struct sb_msg *req, const struct sb_rcv *rcv);
extern sb_fwd_request_fn sb_fwd_request_hook;

/* A host without the brackets of an IPv6 reference. */
static inline sb_str sb__unbracket(sb_str h)
{
    if (h.len >= 2 && h.p[0] == '[' && h.p[h.len - 1] == ']')
        return (sb_str){h.p + 1, h.len - 2};
    return h;
}

static inline bool sb__is_stream(uint8_t proto)
{
    return proto == SB_PROTO_TCP || proto == SB_PROTO_TLS || proto == SB_PROTO_WS ||
           proto == SB_PROTO_WSS;
}

/* Counters are written by their worker and summed by any thread: relaxed atomics keep the reads
 * whole without a lock. */
#define SB_FWD_COUNT(st, field) __atomic_fetch_add(&(st)->field, 1, __ATOMIC_RELAXED)

/* The configuration in force: the calling worker's script, else the published one, else the
 * runtime's; NULL when none. */
const struct sb_core_cfg *sb__fwd_cfg(void);
/* One more packet-triggered warning allowed now? */
bool sb__fwd_warn_ok(void);

/* RFC3261-18.2.1 / RFC3581-4: record ;received= and ;rport= on the top Via of <req> received on
 * <rcv> (once per message). <force_rport>: force_rport() was called. Returns 0 or < 0. */
int sb__fwd_via_fix(struct sb_msg *req, const struct sb_rcv *rcv, bool force_rport);
/* Did sb__fwd_via_fix fill an rport for <req>? */
bool sb__fwd_rport_done(const struct sb_msg *req);

/* Connection reuse (tcp_alias.c): make the stream connection <req> arrived on reachable at the
 * sender's address with <port> (0: the top Via's sent-by port, else the transport's default).
 * SB_EINVAL for a datagram transport. sb__fwd_accept_alias: the same when the top Via carries
 * RFC 5923 ";alias" and tcp_accept_aliases is set; 0 when there was nothing to do. */
int sb__fwd_tcp_alias(struct sb_msg *req, const struct sb_rcv *rcv, uint16_t port);
int sb__fwd_accept_alias(struct sb_msg *req, const struct sb_rcv *rcv);

/* The stateless to-tag of <req> into <out> (SB__SL_TAG_LEN + 1 bytes). Returns its length. */
#define SB__SL_TAG_PREFIX "sbsl"
#define SB__SL_TAG_LEN    (sizeof(SB__SL_TAG_PREFIX) - 1 + 16)
size_t sb__sl_tag(struct sb_msg *req, char *out);
/* Is <tag> one of our stateless to-tags? */
bool sb__sl_tag_is_ours(sb_str tag);

/* A stateless reply to <req> received on <rcv> (may be NULL), with <rs>'s reply lines when given.
 */
int sb__sl_send(struct sb_msg *req, const struct sb_rcv *rcv, struct sb_route_state *rs,
                const struct sb_reply_opts *o);

/* 64-bit FNV-1a, chained from <h> (start with SB__FNV_INIT). */
#define SB__FNV_INIT 0xcbf29ce484222325ULL
uint64_t sb__fnv(uint64_t h, sb_str s);

/* The stateless branch key of the request <m> relayed with Request-URI <ruri> (RFC 3261 §16.11):
 * the same for a retransmission and for the CANCEL / non-2xx ACK of a forwarded INVITE. */
uint64_t sb__fwd_branch_key(struct sb_msg *m, sb_str ruri);

/* Address matching behind sb_is_myself, over an explicit socket table and alias list. */
bool sb__is_myself_in(const struct sb_socket *const *socks, unsigned n_socks,
                      const char *const *aliases, unsigned n_aliases, sb_str host, uint16_t port,
                      uint8_t proto);

/* Next hop of a reply by the Via <v> when the source is not known (relaying a reply by its second
 * Via, RFC 3261 §18.2.2): received/rport, maddr, sent-by. Port 0: a name without port (SRV). */
void sb__via_hop(const struct sb_via *v, struct sb_hop *out);
/* The same as an address. Stream transports get conn_id 0 (by address). SB_EAGAIN when the host
 * is a name the resolver has to ask the network for (a later retransmission finds it cached). */
int sb__via_dest(const struct sb_via *v, struct sb_dest *out);

#endif
