/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the transaction layer shared by tx.c (tables, lifetime, script seams), tx_uas.c
 * (the server side) and tx_uac.c (branches). */
#ifndef SB_TX_INT_H
#define SB_TX_INT_H

#include "sb/buf.h"
#include "sb/dns.h"
#include "sb/loop.h"
#include "sb/msg_build.h"
#include "sb/tx.h"

#define TX_MAX_BRANCHES (SB_MAX_BRANCHES * 4) /* serial forking adds branches */

enum tx_uas_state {
    UAS_TRYING = 0, /* no reply sent yet */
    UAS_PROCEEDING, /* a provisional sent */
    UAS_COMPLETED,  /* a final sent; INVITE non-2xx: waiting for the ACK (Timers G, H) */
    UAS_CONFIRMED,  /* INVITE: ACK received (Timer I) */
    UAS_ACCEPTED,   /* INVITE: 2xx sent (RFC 6026), kept for wt_timer */
    UAS_TERMINATED,
};

enum tx_uac_state {
    UAC_DNS = 0,    /* waiting for the resolver */
    UAC_CALLING,    /* sent; no reply (Timer A/E retransmit over UDP) */
    UAC_PROCEEDING, /* a provisional received */
    UAC_COMPLETED,  /* a final received (INVITE non-2xx: Timer D re-ACKs retransmissions) */
    UAC_TERMINATED, /* done (or never sent) */
};

struct tx_dnsw;  /* a branch waiting for the resolver */
struct tx_edits; /* edits of the request (lumps, removed headers) saved apart from it */
struct sb_script;

/* A route armed on a transaction. The index belongs to <script>; after a reload_routes the
 * route is found again by name in the script the worker runs then. */
struct tx_route {
    int idx; /* -1: not armed */
    const struct sb_script *script;
    char name[64];
};

struct tx_branch {
    struct sb_tx *tx;
    int idx;
    uint8_t state; /* enum tx_uac_state */
    bool is_reliable;
    bool got_prov;      /* a provisional reply arrived: a CANCEL may go */
    bool cancel_wanted; /* cancel as soon as a provisional arrives */
    bool cancel_sent;
    bool local_timeout;    /* the final is our 408 */
    bool replied;          /* a final reply exists (code) */
    int code;              /* last reply code, 0 none */
    char *ruri;            /* R-URI of this branch (heap, NUL-terminated) */
    char *duri;            /* destination URI when not the R-URI (heap) or NULL */
    struct sb_msg *reply;  /* the final reply kept for selection (owned), or NULL */
    struct sb_buf *req;    /* what we sent, for retransmissions */
    struct sb_buf *cancel; /* the CANCEL we sent, for its retransmissions */
    struct sb_dest dest;
    uint32_t bflags;
    char branch[SB_BRANCH_LEN + 1];
    struct tx_dnsw *dnsw;
    struct sb_dns_result *targets; /* the resolution, kept for DNS failover (heap) or NULL */
    unsigned tgt;                  /* the target in use */
    uint8_t tproto;                /* the transport the URI asked for, 0 any */
    struct sb_timer retr;          /* Timer A / E */
    uint64_t retr_ms;
    struct sb_timer fr;    /* Timer B / F / fr_timeout / fr_inv_timeout (C) */
    struct sb_timer cretr; /* retransmissions of our CANCEL over UDP */
    uint64_t cretr_ms;
    struct sb_timer wait;    /* Timer D / K */
    struct tx_branch *hnext; /* client hash chain (the free list when recycled) */
    uint32_t bhash;          /* sb__tx_hash_str of <branch> */
    char ruri_in[112];       /* <ruri> when it fits */
    struct sb_avps *avps;    /* $bavp values (heap, owned), or NULL */
    struct tx_edits *edits;  /* the branch route's edits kept while DNS resolves (heap) or NULL */
    /* force_send_socket() of this branch (its branch_route, its append_branch, else the
     * transaction's), or NULL: sb_tp_pick() decides */
    const struct sb_socket *sock;
};

struct sb_tx {
    struct sb_tx *hnext; /* server hash chain (the free list when recycled) */
    uint32_t hash;       /* server table bucket key */
    uint32_t label;      /* unique on this worker */
    uint64_t key;        /* branch keys derive from it */
    bool in_table;
    bool is_invite;
    bool is_local; /* a request we originated (no server side) */
    bool rfc3261;  /* matched by branch, else RFC 2543 rules */
    bool cancelled;
    bool local_replied; /* the last final reply sent upstream was ours */
    bool in_failure;    /* a failure route is running */
    bool in_script;     /* the request route still runs on it: do not finish yet */
    bool final_pending; /* all branches done while the script ran: decide when it returns */
    bool no_auto_477;
    bool no_dns_failover;
    bool deleting;
    bool in_xidx; /* registered in the cross-worker index under <xkey> */
    uint64_t xkey;
    uint8_t uas_state;         /* enum tx_uas_state */
    int status;                /* last reply code sent upstream, 0 none */
    struct sb_msg *req;        /* the request (owned) */
    struct sb_rcv rcv;         /* where it came from (peer refilled to point at itself) */
    struct sb_dest reply_dest; /* where replies go (RFC 3261 §18.2.2), fixed at creation */
    bool reply_dest_ok;
    struct sb_route_state rs; /* routing state of the request route (strings in req's arena) */
    struct sb_avps *avps;
    char to_tag[24];
    struct sb_buf *last_reply; /* for retransmissions of the request */
    struct sb_timer g;         /* Timer G: the final reply again over UDP */
    uint64_t g_ms;
    struct sb_timer wait; /* H / I / J / wt_timer, then the transaction goes */
    struct tx_route on_failure, on_reply, on_branch;
    int fr_ms, fr_inv_ms;
    char *add_hdrs; /* t_add_hdrs, heap */
    size_t add_hdrs_len;
    char *cancel_reason; /* Reason line for the branch CANCELs, heap */
    struct tx_branch *br[TX_MAX_BRANCHES];
    unsigned n_br;
    unsigned n_br_done; /* branches already considered by a failure route */
    int cur_branch;     /* the branch a route runs for, -1 */
    int cur_code;       /* the reply code a route runs for */
    struct sb_msg *cur_reply;
    sb_tx_uac_cb uac_cb;
    void *uac_arg;
    struct sb_avps *new_bavps; /* $bavp of the branch a branch route is building, or NULL */
};

/* Per-worker state: hash tables and counters. Thread-local (a worker is a thread). */
#define TX_HASH_SIZE 16384 /* chains stay short with ~10^4 transactions in their wait state */
struct tx_worker {
    struct sb_tx *uas[TX_HASH_SIZE];
    struct tx_branch *uac[TX_HASH_SIZE];
    unsigned n_tx;
    uint32_t next_label;
    struct sb_arena scratch;
    struct sb_tx_stats st;
    /* the execution that created a transaction: the pending one of t_on_* before t_relay */
    uint64_t pend_seq;
    int pend_on_failure, pend_on_reply, pend_on_branch, pend_fr_ms, pend_fr_inv_ms;
    struct sb_tx *cur_tx; /* the transaction created/seen in the running request route */
    uint64_t cur_seq;
    /* freed transactions and branches kept for the next ones: no malloc per call */
    struct sb_tx *free_tx;
    struct tx_branch *free_br;
    unsigned n_free_tx, n_free_br;
};

struct tx_worker *sb__tx_worker(void);
struct sb_loop *sb__tx_loop(void);
#define TX_COUNT(tw, f) __atomic_fetch_add(&(tw)->st.f, 1, __ATOMIC_RELAXED)

/* tables */
uint32_t sb__tx_hash_str(sb_str s);
void sb__tx_uas_insert(struct sb_tx *t);
void sb__tx_uac_insert(struct tx_branch *b);
struct tx_branch *sb__tx_uac_find(sb_str branch);
/* The server transaction <m> belongs to (RFC 3261 §17.2.3); <as_method>: match as if the method
 * were this one (CANCEL looks for its INVITE); 0: the request's own (ACK matches INVITE). */
struct sb_tx *sb__tx_uas_find(struct sb_msg *m, uint32_t as_method);

/* cross-worker index of INVITE server transactions (tx_xidx.c) */
uint64_t sb__tx_xkey(struct sb_msg *m);
void sb__tx_xidx_add(uint64_t key, unsigned worker);
void sb__tx_xidx_del(uint64_t key, unsigned worker);
/* A worker other than <not_worker> holding <key>, or -1. */
int sb__tx_xidx_find(uint64_t key, unsigned not_worker);

/* lifetime */
struct sb_tx *sb__tx_alloc(void);
/* A zeroed branch, from the worker's free list when it has one; sb__tx_branch_free returns it. */
struct tx_branch *sb__tx_branch_new(void);
void sb__tx_branch_recycle(struct tx_branch *b);
/* Start the timer that drops a transaction nobody finishes. */
void sb__tx_arm_guard(struct sb_tx *t);
/* Keep the transaction <wait_ms> more, then free it. */
void sb__tx_finish(struct sb_tx *t, uint64_t wait_ms);
/* The worker loop's clock (virtual in tests), else the monotonic one. */
uint64_t sb__tx_now(void);
/* Send through the test seam or the transport. */
int sb__tx_send(struct sb_dest *d, const char *p, size_t len);

/* server side (tx_uas.c) */
/* Send <b> (a whole reply) upstream as the transaction's reply <code>; keeps it for
 * retransmissions when final, starts G/H/J/wait. Takes <b>. */
int sb__tx_send_upstream(struct sb_tx *t, int code, struct sb_buf *b, bool local);
/* A local reply to the transaction's request. */
int sb__tx_local_reply(struct sb_tx *t, int code, sb_str reason, sb_str hdrs, sb_str body,
                       sb_str ctype);
/* CANCEL of <t>'s INVITE received: answer handled by the caller; cancel the branches. */
void sb__tx_cancel_all(struct sb_tx *t, sb_str reason_line);

/* client side (tx_uac.c) */
/* Create and send one branch to <ruri> (or <duri>), running the branch route. Returns 0 (sent or
 * waiting for DNS), 1 when the branch route dropped it, < 0 (t_relay codes). */
int sb__tx_branch_start(struct sb_tx *t, sb_str ruri, sb_str duri, uint32_t bflags,
                        const void *sock);
void sb__tx_branch_free(struct tx_branch *b);
/* t_replicate: a transaction of its own for a copy of <req> sent to <ruri> (or <duri>); its
 * replies are absorbed. Returns 0 or < 0 (t_relay codes or SB_E*). */
int sb__tx_replica_start(struct sb_msg *req, sb_str ruri, sb_str duri);
void sb__tx_branch_cancel(struct tx_branch *b);
/* A reply for branch <b>. */
void sb__tx_branch_reply(struct tx_branch *b, struct sb_msg *reply, const struct sb_rcv *rcv);
/* Every branch has a final: choose and relay the best, or run the failure route. */
void sb__tx_check_done(struct sb_tx *t);
/* Arm <r> with route <idx> of <type> in <s> (-1 disarms). */
void sb__tx_route_set(struct tx_route *r, const struct sb_script *s, uint32_t type, int idx);
/* The index of <r> in the script this worker runs now, or -1. */
int sb__tx_route_idx(struct tx_route *r, uint32_t type);
/* Run a route of <type> on the transaction's request. */
sb_res sb__tx_run_route(struct sb_tx *t, uint32_t type, int idx, struct sb_msg *reply);

#endif
