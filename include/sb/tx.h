/* SPDX-License-Identifier: BSD-2-Clause */
/* The transaction layer (RFC 3261 §17, proxy behaviour of §16): server transactions that absorb
 * retransmissions and keep the last reply, client transactions (branches) with their timers,
 * forking, CANCEL, hop-by-hop ACK, best-response selection and failure routes, and a local UAC.
 * See docs/internals/transactions.md. Everything here is worker-local unless said otherwise: a
 * transaction belongs to the worker that created it (DESIGN.md §5). */
#ifndef SB_TX_H
#define SB_TX_H

#include <sys/uio.h>

#include "sb/msg_build.h"
#include "sb/script-t.h"
#include "sb/tp.h"

struct sb_tx;
struct sb_avps;

/* Configuration (tm module parameters). Written at start-up on the control thread, read by the
 * workers afterwards. Times in milliseconds unless named otherwise. */
struct sb_tx_conf {
    int t1_ms;          /* T1_timer: RTT estimate, 500 */
    int t2_ms;          /* T2_timer: retransmission cap for non-INVITE / replies, 4000 */
    int t4_ms;          /* T4: how long the network keeps a message, 5000 */
    int fr_timeout;     /* seconds: no final reply (nor a provisional for INVITE), 30 */
    int fr_inv_timeout; /* seconds: INVITE final reply after a provisional (Timer C), 120 */
    int wt_timer;       /* seconds: a finished transaction kept to absorb retransmissions, 5 */
    int restart_fr_on_each_reply; /* a provisional restarts fr_inv_timeout, 1 */
    int auto_100trying;           /* 100 Trying when an INVITE transaction is created, 1 */
    int disable_6xx_block;        /* a 6xx does not cancel the other branches, 0 */
};
extern struct sb_tx_conf sb_tx_conf;

/* ---- transactions from the script ----------------------------------------------------------- */

/* The transaction of the request in <ctx> (one created by sb_tx_new, or the one a failure/branch/
 * onreply route runs for), or NULL. */
struct sb_tx *sb_tx_of(struct sb_sctx *ctx);

/* Create the server transaction for the request of <ctx> (t_newtran). The transaction takes the
 * message (the receive path no longer resets it) and the execution's AVP list. An INVITE gets a
 * 100 Trying (auto_100trying) unless the script already replied. Returns 1 created, 0 when it
 * already existed, < 0 (SB_EINVAL for an ACK or a reply, SB_ENOMEM). */
int sb_tx_new(struct sb_sctx *ctx);

/* t_relay flags. */
enum {
    SB_TX_RELAY_NO_AUTO_477 = 1 << 0, /* no local 477 when every branch failed to send */
    SB_TX_RELAY_NO_DNS_FAILOVER = 1 << 1,
    SB_TX_RELAY_PASS_REASON = 1 << 2, /* copy a received CANCEL's Reason to the branch CANCELs */
};

/* Relay the request of <ctx> statefully (t_relay): create the transaction if needed, then one
 * branch per destination: branch 0 is $du (or $ru), then ctx->rs->branches. In a failure route
 * the new branches are added to the transaction. Returns 1 when at least one branch was sent or is
 * waiting for DNS, else a negative OpenSIPS t_relay code: -1 internal error, -2 bad message,
 * -3 no destination, -4 bad destination, -6 send failed. */
int sb_tx_relay(struct sb_sctx *ctx, unsigned flags);

/* Reply within the transaction of <ctx> (t_reply, stateful send_reply), creating it if needed.
 * <hdrs>: extra "Name: value\r\n" lines; <body>/<ctype> optional. Returns 0 or < 0. */
int sb_tx_reply(struct sb_sctx *ctx, int code, sb_str reason, sb_str hdrs, sb_str body,
                sb_str ctype);

/* Route indexes armed on the transaction of <ctx> (or on the pending one when created later by
 * t_relay in the same execution): -1 disarms. */
enum sb_tx_route { SB_TX_ON_FAILURE, SB_TX_ON_REPLY, SB_TX_ON_BRANCH };
int sb_tx_arm(struct sb_sctx *ctx, enum sb_tx_route which, int route_idx);

/* Per-transaction timeouts ($T_fr_timeout, $T_fr_inv_timeout), seconds. */
int sb_tx_get_timeout(struct sb_sctx *ctx, bool inv, int *out);
int sb_tx_set_timeout(struct sb_sctx *ctx, bool inv, int seconds);

/* Was the INVITE transaction of <ctx> cancelled (t_was_cancelled)? */
bool sb_tx_was_cancelled(struct sb_sctx *ctx);
/* Did we generate the final reply locally (t_local_replied "last")? 1 yes, 0 no, < 0 none. */
int sb_tx_local_replied(struct sb_sctx *ctx);
/* Cancel every pending branch except the current one (t_cancel_branch in onreply route), or all
 * when <all>. Returns the number of branches cancelled. */
int sb_tx_cancel_branches(struct sb_sctx *ctx, bool all);
/* The Reason header line ("Reason: ...", CRLF added when missing) of the CANCELs the transaction
 * of <ctx> sends from now on (t_add_cancel_reason); it replaces a Reason taken from a received
 * CANCEL or the "Call completed elsewhere" of a 2xx. Copied. 0, SB_ENOENT without a transaction,
 * SB_EINVAL for a line that is not a Reason header. */
int sb_tx_set_cancel_reason(struct sb_sctx *ctx, sb_str hdr);
/* Extra header lines for every new branch (t_add_hdrs). Copied. */
int sb_tx_add_hdrs(struct sb_sctx *ctx, sb_str hdrs);
/* Send a copy of the request statefully to <uri> (t_replicate): a separate transaction whose
 * replies are absorbed. Returns 1 or < 0. */
int sb_tx_replicate(struct sb_sctx *ctx, sb_str uri);
/* Store the message flags of <ctx> into the transaction (t_flush_flags). */
int sb_tx_flush_flags(struct sb_sctx *ctx);

/* The $bavp list of the branch the route of <ctx> runs for: in branch_route the branch being
 * built, in onreply_route the branch of the reply, in failure_route the branch whose final reply
 * the route handles. <create>: make the list when the branch has none yet. NULL when the route
 * runs for no branch (request route, a local reply) or when out of memory. Worker thread. */
struct sb_avps *sb_tx_branch_avps(struct sb_sctx *ctx, bool create);

/* What the $T_* variables read. */
struct sb_tx_info {
    int reply_code; /* $T_reply_code: the reply being handled, or the final one; 0 when none */
    int branch_idx; /* $T_branch_idx: the branch being handled, -1 when none */
    sb_str ruri;    /* $T_ruri: the R-URI of the current branch (borrowed) */
    uint32_t hash, label; /* $T_id */
};
int sb_tx_info(struct sb_sctx *ctx, struct sb_tx_info *out);

/* Seams for the receive path (installed by sb_tx_enable). */
int sb_tx_on_request(struct sb_msg *req, const struct sb_rcv *rcv);
int sb_tx_on_reply(struct sb_msg *reply, const struct sb_rcv *rcv);

/* Start-up, control thread: install the receive-path hooks (tm init). */
void sb_tx_enable(void);
/* Worker thread: drop every transaction of this worker (timers stopped, messages released). */
void sb_tx_worker_exit(void);
/* Transactions alive on this worker. */
unsigned sb_tx_count(void);

/* Counters (tm: group), summed over workers on read. */
struct sb_tx_stats {
    uint64_t uas_transactions, uac_transactions, inuse, replies_2xx, replies_3xx, replies_4xx,
        replies_5xx, replies_6xx, received_replies, relayed_replies, local_replies, retrans_req,
        timeout_finalresponse;
};
void sb_tx_stats(struct sb_tx_stats *out);

/* ---- destination blacklist (DNS failover) --------------------------------------------------- */

/* How long a target that timed out or answered 503 is avoided (OpenSIPS dst_blacklist). */
#define SB_TX_BLACKLIST_MS 60000
/* Shared by the workers (one mutex). <a> with its port; times on the caller's loop clock. */
void sb_tx_blacklist_add(uint8_t proto, const struct sb_addr *a, uint64_t for_ms);
bool sb_tx_blacklist_has(uint8_t proto, const struct sb_addr *a);
void sb_tx_blacklist_clear(void);
unsigned sb_tx_blacklist_count(void); /* live entries */

/* ---- sending (test seam) ------------------------------------------------------------------- */

/* Every message the transaction layer sends goes through sb_tp_send, or through this function
 * when set (component tests capture the wire this way). Returns 0 or < 0 like sb_tp_send. */
typedef int (*sb_tx_send_fn)(struct sb_dest *d, const struct iovec *iov, int n_iov);
extern sb_tx_send_fn sb__tx_send_hook;

/* ---- local UAC ----------------------------------------------------------------------------- */

/* Result of a request we originated: the final reply (NULL on a local timeout or a send error),
 * its code (408 for a timeout, 503 when nothing could be sent). The reply borrows for the call. */
typedef void (*sb_tx_uac_cb)(void *arg, int code, struct sb_msg *reply);

/* Send a request of our own (t_uac_dlg): <method> to <ruri>, with From <from> and To <to> (full
 * header values; a From without a tag gets one), Call-ID and CSeq generated unless <headers>
 * carry them, <headers> raw "Name: value\r\n" lines (Route, Contact, Event...), <body> with its
 * Content-Type line in <headers>. <next_hop>: a URI to send to instead of <ruri> (p == NULL: the
 * R-URI). local_route runs on the request first (it may add headers, or drop it: SB_ENOENT). <cb>
 * runs once on this worker with the final reply; a 2xx of an INVITE is ACKed here. Returns 0 (the
 * callback will run) or < 0 (it will not). Worker thread. */
int sb_tx_uac_request(sb_str method, sb_str ruri, sb_str from, sb_str to, sb_str headers,
                      sb_str body, sb_str next_hop, sb_tx_uac_cb cb, void *arg);
/* The same, sent from the listening socket <sock> (t_uac_dlg's socket parameter; NULL: the
 * socket follows the destination). <sock> must be one of sb_tp_socket()'s; when its transport or
 * address family does not fit the destination it is not used. local_route may change it
 * (force_send_socket). */
int sb_tx_uac_request_from(const struct sb_socket *sock, sb_str method, sb_str ruri, sb_str from,
                           sb_str to, sb_str headers, sb_str body, sb_str next_hop, sb_tx_uac_cb cb,
                           void *arg);

/* Cancel the pending INVITE we originated with <callid> and CSeq number <cseq> on this worker
 * (RFC 3261 §9.1: the CANCEL goes once a provisional arrived). Its callback then gets the
 * 487 (or the final that crossed the CANCEL). Returns how many branches were cancelled. */
int sb_tx_uac_cancel(sb_str callid, uint32_t cseq);

#endif
