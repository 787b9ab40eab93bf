/* SPDX-License-Identifier: BSD-2-Clause */
/* The core SIP layer between the transports and the script: receiving a message (sanity checks,
 * the 400/416/420/483/505 answers, error_route, running the script), stateless replies, stateless
 * forwarding of requests (forward()) and of replies (by Via), and "is this address ours". */
#ifndef SB_FWD_H
#define SB_FWD_H

#include <stddef.h>

#include "sb/msg_build.h"
#include "sb/script-t.h"
#include "sb/tp.h"

struct sb_uri;

/* The transport's receiver (tp.h sb_rcv_fn): parse, check, run the script's request route (or
 * onreply_route for a reply, which is then relayed by Via unless dropped), count, reset. Never
 * fails: a message that cannot be handled is answered (when possible) or dropped, and counted. */
void sb_receive(struct sb_rcv *rcv, struct sb_buf *buf, uint32_t len);
/* Release the calling worker's state of this layer (its reusable message, arenas, AVP list).
 * Called by the runtime when a worker exits; <w> may be NULL (the thread-local test state). */
void sb_fwd_worker_exit(struct sb_worker *w);

/* The transaction layer's seam: when set, every received reply that the onreply_route did not
 * drop goes to it first. It returns 1 when it took the reply (matched a transaction), 0 to let
 * the stateless relay (sb_forward_reply) handle it, < 0 to drop it. Set at start-up. */
typedef int (*sb_fwd_reply_fn)(struct sb_msg *reply, const struct sb_rcv *rcv);
extern sb_fwd_reply_fn sb_fwd_reply_hook;

/* The receive context of a script execution that runs on a received message. */
static inline const struct sb_rcv *sb_sctx_rcv(const struct sb_sctx *ctx)
{
    return ctx->peer ? (const struct sb_rcv *)(const void *)((const char *)ctx->peer -
                                                             offsetof(struct sb_rcv, peer))
                     : NULL;
}

/* ---- replies ------------------------------------------------------------------------------- */

/* Where a reply to <req> goes (RFC 3261 §18.2.2, RFC 3581): the connection it came on for
 * streams; for datagrams the received/rport address of the top Via, maddr, or the sent-by. */
int sb_reply_dest(struct sb_msg *req, const struct sb_rcv *rcv, struct sb_dest *out);

/* Stateless reply to the request of <ctx> (sl_send_reply): the to-tag is our stateless tag, the
 * lines collected by append_to_reply (ctx->rs->reply_hdrs) are added, Server is added when
 * configured. Sets ctx->rs->replied. Refuses (SB_EINVAL) an ACK. Returns 0 or < 0. */
int sb_sl_reply(struct sb_sctx *ctx, int code, sb_str reason);
/* The same with every option (extra headers, body); o->to_tag empty: the stateless tag. */
int sb_sl_reply_opts(struct sb_sctx *ctx, const struct sb_reply_opts *o);
/* Before or without a script: answer <req> received on <rcv> (400 to a broken request ...). */
int sb_sl_reply_rcv(struct sb_msg *req, const struct sb_rcv *rcv, int code, sb_str reason);

/* ---- forwarding ---------------------------------------------------------------------------- */

/* Next hop of a SIP URI (RFC 3263 §4: maddr, transport parameter, sips, port). proto 0 when the
 * URI does not fix one (the resolver may then use NAPTR); port 0 when absent (SRV allowed). */
struct sb_hop {
    sb_str host; /* IPv6 without brackets */
    uint16_t port;
    uint8_t proto;
    bool secure;
};
int sb_uri_hop(const struct sb_uri *u, struct sb_hop *out);

/* forward() / forward(uri): relay the request of <ctx> statelessly to <uri> (p == NULL: $du if
 * set, else $ru). Pushes our Via (a branch derived from the request, so a retransmission gets the
 * same one, RFC 3261 §16.11), decrements Max-Forwards, applies the lumps, fixes Content-Length.
 * The destination is resolved (RFC 3263); when the resolver has to ask the network the message is
 * built at once and sent when the answer comes. <proto_force> 0: from the URI. Returns 1 on
 * success (sent or queued), < 0 on failure (logged). */
int sb_forward(struct sb_sctx *ctx, sb_str uri, uint8_t proto_force);
/* send(uri): send the message as it is (lumps applied, no Via pushed) to <uri>. */
int sb_send_to(struct sb_sctx *ctx, sb_str uri, uint8_t proto_force);
/* Relay a reply statelessly by its second Via (RFC 3261 §18.2.2 applied upstream). The top Via
 * must be ours; it is removed. Returns 0 or < 0. */
int sb_forward_reply(struct sb_msg *reply, const struct sb_rcv *rcv);

/* Hook run for every request the core or a transaction sends, once the destination and local
 * socket are known: it may write header lines into <top> ("Record-Route: <...>\r\n"), which go
 * just below our Via (sb_fwd_opts.top_hdrs). Used by rr for RFC 5658 double record-routing. One
 * hook; set at module init. */
typedef int (*sb_fwd_hook)(struct sb_sctx *ctx, const struct sb_dest *d, struct sb_wbuf *top);
void sb_fwd_set_hook(sb_fwd_hook fn);
sb_fwd_hook sb_fwd_get_hook(void);

/* Local socket for a request about to go to <to> over <proto>: the one forced by the script
 * (force_send_socket, later), else sb_tp_pick() with the receiving socket as hint. */
const struct sb_socket *sb_fwd_socket(struct sb_sctx *ctx, uint8_t proto, const struct sb_addr *to);

/* Our Via value for a request leaving on <sock> over <proto> with <branch>. */
int sb_via_make(struct sb_wbuf *w, const struct sb_socket *sock, uint8_t proto, sb_str branch);

/* ---- myself -------------------------------------------------------------------------------- */

/* Is <host>:<port> (port 0: any) over <proto> (0: any) this server: a listening or advertised
 * address, an alias= entry, or (auto_aliases) the host name of a listener. */
bool sb_is_myself(sb_str host, uint16_t port, uint8_t proto);
/* Is the URI ours (host and port, transport from its parameter)? */
bool sb_uri_is_myself(const struct sb_uri *u);

/* ---- memory (mem_info) -------------------------------------------------------------------- */

/* What the calling worker holds for receiving messages: the per-message scratch arena and the
 * pool of message structs kept for reuse. Call on the worker's own thread. */
struct sb_fwd_mem {
    size_t scratch_heap;  /* heap bytes the scratch arena holds beyond its inline block */
    unsigned pooled_msgs; /* parsed-message structs kept for reuse */
    size_t pooled_bytes;  /* their size, arenas' heap included */
};
void sb_fwd_mem(struct sb_fwd_mem *out);

/* ---- counters (core: group) ---------------------------------------------------------------- */

struct sb_core_stats {
    uint64_t rcv_requests, rcv_replies, fwd_requests, fwd_replies, drop_requests, drop_replies,
        err_requests, err_replies, bad_msg_hdr, bad_URIs_rcvd, unsupported_methods, sl_replies;
    uint64_t replies_moved; /* replies handed to the worker that owns their transaction */
};
void sb_core_stats(struct sb_core_stats *out);
/* sl:received_ACKs: ACKs to our stateless replies, absorbed before the script (summed). */
uint64_t sb_sl_received_acks(void);

#endif
