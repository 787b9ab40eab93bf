/* SPDX-License-Identifier: BSD-2-Clause */
/* Transactions: per-worker tables and matching (RFC 3261 §17.2.3 with the RFC 2543 fallback),
 * lifetime, the receive-path seams and the entry points the tm module calls. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd/fwd_int.h"
#include "sb/avp.h"
#include "sb/log.h"
#include "sb/script.h"
#include "sb/worker.h"
#include "tx/tx_int.h"

struct sb_tx_conf sb_tx_conf = {
    .t1_ms = 500,
    .t2_ms = 4000,
    .t4_ms = 5000,
    .fr_timeout = 30,
    .fr_inv_timeout = 120,
    .wt_timer = 5,
    .restart_fr_on_each_reply = 1,
    .auto_100trying = 1,
    .disable_6xx_block = 0,
};

sb_tx_send_fn sb__tx_send_hook;

static _Thread_local struct tx_worker *local_tw;

/* Counters of every worker, for sb_tx_stats; a worker registers its state on first use. */
static struct tx_worker *all_tw[SB_MAX_WORKERS + 1];
/* Held by sb_tx_stats while it reads other workers' counters and by an exiting worker while it
 * takes itself out of all_tw, so that no reader sums a struct being freed. */
static pthread_mutex_t all_tw_mu = PTHREAD_MUTEX_INITIALIZER;

struct tx_worker *sb__tx_worker(void)
{
    if (!local_tw) {
        local_tw = calloc(1, sizeof(*local_tw));
        if (!local_tw)
            return NULL;
        sb_arena_init(&local_tw->scratch, NULL, 0, 1u << 20);
        local_tw->pend_on_failure = local_tw->pend_on_reply = local_tw->pend_on_branch = -1;
        unsigned id = sb_worker_self ? sb_worker_self->id : SB_MAX_WORKERS;
        if (id > SB_MAX_WORKERS)
            id = SB_MAX_WORKERS;
        __atomic_store_n(&all_tw[id], local_tw, __ATOMIC_RELEASE);
    }
    return local_tw;
}

struct sb_loop *sb__tx_loop(void)
{
    return sb_worker_self ? sb_worker_self->loop : NULL;
}

int sb__tx_send(struct sb_dest *d, const char *p, size_t len)
{
    if (sb__tx_send_hook) {
        struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
        return sb__tx_send_hook(d, &iov, 1);
    }
    return sb_tp_send_buf(d, p, len);
}

void sb_tx_stats(struct sb_tx_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&all_tw_mu);
    for (unsigned i = 0; i <= SB_MAX_WORKERS; i++) {
        struct tx_worker *tw = __atomic_load_n(&all_tw[i], __ATOMIC_ACQUIRE);
        if (!tw)
            continue;
        const uint64_t *src = (const uint64_t *)&tw->st;
        uint64_t *dst = (uint64_t *)out;
        for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
            dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&all_tw_mu);
}

unsigned sb_tx_count(void)
{
    return local_tw ? local_tw->n_tx : 0;
}

/* ---- tables -------------------------------------------------------------------------------- */

uint32_t sb__tx_hash_str(sb_str s)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < s.len; i++) {
        h ^= sb_lower((unsigned char)s.p[i]);
        h *= 16777619u;
    }
    return h;
}

static bool is_3261_branch(sb_str b)
{
    return b.len > 7 && sb_str_caseeq_lit((sb_str){b.p, 7}, "z9hg4bk");
}

static uint32_t hash_2543(struct sb_msg *m)
{
    const struct sb_cseq *cs = sb_msg_cseq(m);
    return sb__tx_hash_str(sb_msg_callid(m)) ^ (cs ? cs->num * 2654435761u : 0);
}

void sb__tx_uas_insert(struct sb_tx *t)
{
    struct tx_worker *tw = sb__tx_worker();
    const struct sb_via *v = sb_msg_via1(t->req);
    t->rfc3261 = v && is_3261_branch(v->branch);
    t->hash = t->rfc3261 ? sb__tx_hash_str(v->branch) : hash_2543(t->req);
    struct sb_tx **slot = &tw->uas[t->hash % TX_HASH_SIZE];
    t->hnext = *slot;
    *slot = t;
    t->in_table = true;
}

static void uas_remove(struct sb_tx *t)
{
    struct tx_worker *tw = sb__tx_worker();
    if (!t->in_table)
        return;
    for (struct sb_tx **p = &tw->uas[t->hash % TX_HASH_SIZE]; *p; p = &(*p)->hnext) {
        if (*p == t) {
            *p = t->hnext;
            break;
        }
    }
    t->in_table = false;
}

void sb__tx_uac_insert(struct tx_branch *b)
{
    struct tx_worker *tw = sb__tx_worker();
    b->bhash = sb__tx_hash_str(sb_str_cstr(b->branch));
    uint32_t h = b->bhash % TX_HASH_SIZE;
    b->hnext = tw->uac[h];
    tw->uac[h] = b;
}

static void uac_remove(struct tx_branch *b)
{
    struct tx_worker *tw = sb__tx_worker();
    uint32_t h = b->bhash % TX_HASH_SIZE;
    for (struct tx_branch **p = &tw->uac[h]; *p; p = &(*p)->hnext) {
        if (*p == b) {
            *p = b->hnext;
            return;
        }
    }
}

struct tx_branch *sb__tx_uac_find(sb_str branch)
{
    struct tx_worker *tw = sb__tx_worker();
    if (!tw || !branch.len)
        return NULL;
    uint32_t h = sb__tx_hash_str(branch);
    for (struct tx_branch *b = tw->uac[h % TX_HASH_SIZE]; b; b = b->hnext)
        if (b->bhash == h && sb_str_caseeq(sb_str_cstr(b->branch), branch))
            return b;
    return NULL;
}

static bool sent_by_eq(const struct sb_via *a, const struct sb_via *b)
{
    return sb_str_caseeq(a->host, b->host) && a->port_no == b->port_no;
}

static bool method_matches(struct sb_msg *m, const struct sb_tx *t, uint32_t as_method)
{
    uint32_t mid = as_method ? as_method : m->method_id;
    if (mid == SB_METHOD_ACK)
        return t->is_invite;
    if (mid == SB_METHOD_INVITE)
        return t->is_invite;
    if (mid != t->req->method_id)
        return false;
    return mid != SB_METHOD_OTHER || sb_str_eq(sb_msg_method(m), sb_msg_method(t->req));
}

static sb_str tag_of(const struct sb_nameaddr *na)
{
    return na ? na->tag : SB_STR_NULL;
}

/* RFC3261-17.2.3 end: the RFC 2543 rules. An ACK's To tag is the one of our reply. */
static bool match_2543(struct sb_msg *m, struct sb_tx *t, uint32_t as_method)
{
    struct sb_msg *r = t->req;
    const struct sb_cseq *c1 = sb_msg_cseq(m), *c2 = sb_msg_cseq(r);
    if (!c1 || !c2 || c1->num != c2->num || !sb_str_eq(sb_msg_callid(m), sb_msg_callid(r)))
        return false;
    if (!method_matches(m, t, as_method))
        return false;
    if (!sb_str_eq(tag_of(sb_msg_from(m)), tag_of(sb_msg_from(r))))
        return false;
    sb_str tt = tag_of(sb_msg_to(m));
    if (m->method_id == SB_METHOD_ACK && !as_method) {
        if (!sb_str_eq(tt, tag_of(sb_msg_to(r))) && !sb_str_eq(tt, sb_str_cstr(t->to_tag)))
            return false;
    } else {
        if (!sb_str_eq(tt, tag_of(sb_msg_to(r))))
            return false;
        if (!sb_str_eq(sb_msg_span(m, m->ruri), sb_msg_span(r, r->ruri)))
            return false;
    }
    const struct sb_via *v1 = sb_msg_via1(m), *v2 = sb_msg_via1(r);
    return v1 && v2 && sb_str_eq(v1->raw, v2->raw);
}

struct sb_tx *sb__tx_uas_find(struct sb_msg *m, uint32_t as_method)
{
    struct tx_worker *tw = sb__tx_worker();
    const struct sb_via *v = sb_msg_via1(m);
    if (!tw || !v)
        return NULL;
    if (is_3261_branch(v->branch)) {
        uint32_t h = sb__tx_hash_str(v->branch);
        for (struct sb_tx *t = tw->uas[h % TX_HASH_SIZE]; t; t = t->hnext) {
            /* the full hash first: the chains hold every transaction in its wait state, and
             * looking at one's request costs cache misses */
            if (t->hash != h || !t->rfc3261 || t->uas_state == UAS_TERMINATED)
                continue;
            const struct sb_via *tv = sb_msg_via1(t->req);
            /* RFC3261-17.2.3: branch, sent-by, and the method (ACK matches its INVITE) */
            if (tv && sb_str_caseeq(tv->branch, v->branch) && sent_by_eq(tv, v) &&
                method_matches(m, t, as_method))
                return t;
        }
        return NULL;
    }
    uint32_t h = hash_2543(m);
    for (struct sb_tx *t = tw->uas[h % TX_HASH_SIZE]; t; t = t->hnext)
        if (t->hash == h && !t->rfc3261 && match_2543(m, t, as_method))
            return t;
    return NULL;
}

/* ---- lifetime ------------------------------------------------------------------------------ */

static void tx_free(struct sb_tx *t);

static uint64_t guard_ms(void)
{
    int fr = sb_tx_conf.fr_timeout > sb_tx_conf.fr_inv_timeout ? sb_tx_conf.fr_timeout
                                                               : sb_tx_conf.fr_inv_timeout;
    return (uint64_t)(fr + sb_tx_conf.wt_timer + 5) * 1000;
}

/* A transaction nobody finishes (t_newtran and no reply) must not stay forever: it is checked
 * once every guard period and dropped when no branch is left pending. */
void sb__tx_arm_guard(struct sb_tx *t)
{
    struct sb_loop *l = sb__tx_loop();
    if (l)
        sb_timer_start(l, &t->wait, guard_ms());
}

static void wait_done(struct sb_timer *tm)
{
    struct sb_tx *t = tm->data;
    if (!t->deleting) {
        for (unsigned i = 0; i < t->n_br; i++) {
            if (!t->br[i]->replied) {
                sb__tx_arm_guard(t);
                return;
            }
        }
        SB_INFO("tm: transaction %u dropped without a final reply", t->label);
    }
    if (t->uas_state == UAS_COMPLETED && t->is_invite && t->status >= 300 && !t->is_local) {
        /* RFC3261-17.2.1: Timer H, no ACK came */
        SB_DEBUG("tm: no ACK for the %d reply of transaction %u", t->status, t->label);
    }
    t->uas_state = UAS_TERMINATED;
    tx_free(t);
}

void sb__tx_route_set(struct tx_route *r, const struct sb_script *s, uint32_t type, int idx)
{
    r->idx = idx;
    r->script = s;
    r->name[0] = '\0';
    const char *n = idx >= 0 && s ? sb_script_route_name(s, type, idx) : NULL;
    if (n)
        snprintf(r->name, sizeof(r->name), "%s", n);
}

int sb__tx_route_idx(struct tx_route *r, uint32_t type)
{
    if (r->idx < 0)
        return -1;
    const struct sb_script *cur = sb_worker_self ? sb_worker_self->script : sb_current_script();
    if (cur != r->script) {
        r->idx = cur ? sb_script_route(cur, type, sb_str_cstr(r->name)) : -1;
        r->script = cur;
    }
    return r->idx;
}

/* Recycled structs kept per worker: enough for a burst of calls, bounded so that a peak does
 * not pin its memory for good. */
#define TX_FREE_MAX 512
#if defined(__SANITIZE_ADDRESS__)
#define TX_RECYCLE 0 /* every struct freed: a use after free stays visible */
#else
#define TX_RECYCLE 1
#endif

struct sb_tx *sb__tx_alloc(void)
{
    struct tx_worker *tw = sb__tx_worker();
    if (!tw)
        return NULL;
    struct sb_tx *t = tw->free_tx;
    if (t) {
        tw->free_tx = t->hnext;
        tw->n_free_tx--;
        memset(t, 0, sizeof(*t));
    } else if (!(t = calloc(1, sizeof(*t)))) {
        return NULL;
    }
    t->label = ++tw->next_label;
    t->key = sb_worker_unique();
    t->on_failure.idx = t->on_reply.idx = t->on_branch.idx = -1;
    t->cur_branch = -1;
    t->fr_ms = sb_tx_conf.fr_timeout * 1000;
    t->fr_inv_ms = sb_tx_conf.fr_inv_timeout * 1000;
    sb_timer_init(&t->g, NULL, t);
    sb_timer_init(&t->wait, wait_done, t);
    tw->n_tx++;
    __atomic_fetch_add(&tw->st.inuse, 1, __ATOMIC_RELAXED);
    return t;
}

static void tx_free(struct sb_tx *t)
{
    struct tx_worker *tw = sb__tx_worker();
    sb_timer_stop(&t->g);
    sb_timer_stop(&t->wait);
    uas_remove(t);
    for (unsigned i = 0; i < t->n_br; i++) {
        uac_remove(t->br[i]);
        sb__tx_branch_free(t->br[i]);
    }
    if (t->in_xidx)
        sb__tx_xidx_del(t->xkey, sb_worker_self ? sb_worker_self->id : 0);
    if (tw->cur_tx == t)
        tw->cur_tx = NULL;
    if (t->last_reply)
        sb_buf_unref(t->last_reply);
    if (t->avps)
        sb_avps_free(t->avps);
    sb__fwd_msg_release(t->req);
    free(t->add_hdrs);
    free(t->cancel_reason);
    tw->n_tx--;
    __atomic_fetch_sub(&tw->st.inuse, 1, __ATOMIC_RELAXED);
    if (TX_RECYCLE && tw->n_free_tx < TX_FREE_MAX) {
        t->hnext = tw->free_tx;
        tw->free_tx = t;
        tw->n_free_tx++;
    } else {
        free(t);
    }
}

struct tx_branch *sb__tx_branch_new(void)
{
    struct tx_worker *tw = sb__tx_worker();
    struct tx_branch *b = tw ? tw->free_br : NULL;
    if (!b)
        return calloc(1, sizeof(*b));
    tw->free_br = b->hnext;
    tw->n_free_br--;
    memset(b, 0, sizeof(*b));
    return b;
}

void sb__tx_branch_recycle(struct tx_branch *b)
{
    struct tx_worker *tw = sb__tx_worker();
    if (TX_RECYCLE && tw && tw->n_free_br < TX_FREE_MAX) {
        b->hnext = tw->free_br;
        tw->free_br = b;
        tw->n_free_br++;
    } else {
        free(b);
    }
}

void sb__tx_finish(struct sb_tx *t, uint64_t wait_ms)
{
    struct sb_loop *l = sb__tx_loop();
    t->deleting = true;
    if (!l) {
        /* no loop (a tool): nothing can absorb retransmissions later */
        t->uas_state = UAS_TERMINATED;
        return;
    }
    sb_timer_start(l, &t->wait, wait_ms);
}

void sb_tx_worker_exit(void)
{
    struct tx_worker *tw = local_tw;
    if (!tw)
        return;
    for (unsigned i = 0; i < TX_HASH_SIZE; i++) {
        while (tw->uas[i])
            tx_free(tw->uas[i]);
    }
    /* transactions out of the server table: local requests. One still waiting for its final
     * reply is answered first (a local 503, no reply), so that its caller is not left waiting
     * and frees what it holds; a callback may touch the chain, so the bucket is rescanned. */
    for (unsigned i = 0; i < TX_HASH_SIZE; i++) {
        for (struct tx_branch *b = tw->uac[i]; b;) {
            struct sb_tx *t = b->tx;
            sb_tx_uac_cb cb = t->uac_cb;
            if (!cb) {
                b = b->hnext;
                continue;
            }
            t->uac_cb = NULL;
            cb(t->uac_arg, 503, NULL);
            b = tw->uac[i];
        }
    }
    for (unsigned i = 0; i < TX_HASH_SIZE; i++) {
        while (tw->uac[i])
            tx_free(tw->uac[i]->tx);
    }
    while (tw->free_tx) {
        struct sb_tx *t = tw->free_tx;
        tw->free_tx = t->hnext;
        free(t);
    }
    while (tw->free_br) {
        struct tx_branch *b = tw->free_br;
        tw->free_br = b->hnext;
        free(b);
    }
    sb_arena_deinit(&tw->scratch);
    pthread_mutex_lock(&all_tw_mu);
    for (unsigned i = 0; i <= SB_MAX_WORKERS; i++)
        if (__atomic_load_n(&all_tw[i], __ATOMIC_ACQUIRE) == tw)
            __atomic_store_n(&all_tw[i], NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&all_tw_mu);
    free(tw);
    local_tw = NULL;
}

/* ---- the receive-path seams ---------------------------------------------------------------- */

static const char *reason_line(struct sb_msg *cancel, struct sb_wbuf *w)
{
    struct sb_hdr *h = sb_msg_hdr_first(cancel, SB_HDR_REASON);
    if (!h)
        return NULL;
    sb_wbuf_str(w, sb_msg_span(cancel, h->field));
    return w->err ? NULL : w->p;
}

/* A CANCEL, ACK or INVITE retransmission whose INVITE transaction lives on another worker goes
 * there. */
static bool move_to_owner(struct sb_msg *req, const struct sb_rcv *rcv)
{
    struct sb_worker *self = sb_worker_self;
    if (!self || sb_rt.n_workers < 2 || !rcv)
        return false;
    int w = sb__tx_xidx_find(sb__tx_xkey(req), self->id);
    return w >= 0 && sb__fwd_move((unsigned)w, rcv, req->buf, req->len) == 0;
}

int sb_tx_on_request(struct sb_msg *req, const struct sb_rcv *rcv)
{
    struct tx_worker *tw = sb__tx_worker();
    if (!tw)
        return 0;
    /* requests that may belong to an INVITE server transaction of another worker: a CANCEL or
     * ACK (the caller's branch says nothing of the owner) and a retransmitted INVITE (rare: the
     * kernel keeps a UDP peer on one worker); one shard lock, with more than one worker only */
    bool hop = req->method_id == SB_METHOD_CANCEL || req->method_id == SB_METHOD_ACK ||
               req->method_id == SB_METHOD_INVITE;
    if (req->method_id == SB_METHOD_CANCEL) {
        struct sb_tx *t = sb__tx_uas_find(req, SB_METHOD_INVITE);
        if (!t && hop && move_to_owner(req, rcv))
            return 1;
        if (!t || t->is_local)
            return 0;
        /* RFC3261-16.10: answer the CANCEL at once (200, our tag), then cancel the branches */
        struct sb_reply_opts o = {.code = 200, .to_tag = sb_str_cstr(t->to_tag)};
        struct sb_buf *b = NULL;
        struct sb_dest d;
        sb__fwd_via_fix(req, rcv, false);
        if (sb_reply_dest(req, rcv, &d) == 0 && sb_msg_build_reply(req, &o, &b) == 0)
            sb__tx_send(&d, b->data, b->len);
        else
            SB_DEBUG("tm: cannot answer a CANCEL");
        if (b)
            sb_buf_unref(b);
        if (t->status < 200) {
            char rb[512];
            struct sb_wbuf w;
            sb_wbuf_init(&w, rb, sizeof(rb));
            reason_line(req, &w);
            sb__tx_cancel_all(t, w.err ? SB_STR_NULL : (sb_str){rb, w.len});
        }
        return 1;
    }
    struct sb_tx *t = sb__tx_uas_find(req, 0);
    if (!t && hop && move_to_owner(req, rcv))
        return 1;
    if (!t || t->is_local)
        return 0;
    if (req->method_id == SB_METHOD_ACK) {
        if (t->status < 300)
            return 0; /* RFC3261-13.3.1.4: the ACK of a 2xx is end to end, the script routes it */
        if (t->uas_state == UAS_COMPLETED) {
            /* RFC3261-17.2.1: Confirmed; Timer I absorbs the ACK retransmissions */
            t->uas_state = UAS_CONFIRMED;
            sb_timer_stop(&t->g);
            bool rel = sb__is_stream(t->reply_dest.proto);
            struct sb_loop *l = sb__tx_loop();
            if (l)
                sb_timer_start(l, &t->wait, rel ? 0 : (uint64_t)sb_tx_conf.t4_ms);
        }
        return 1;
    }
    /* RFC3261-17.2.1 / 17.2.2: a retransmission gets the last reply again, or nothing */
    TX_COUNT(tw, retrans_req);
    /* RFC6026-7.1: in Accepted the 2xx is the UAS's to retransmit, not ours */
    if (t->last_reply && t->uas_state != UAS_ACCEPTED)
        sb__tx_send(&t->reply_dest, t->last_reply->data, t->last_reply->len);
    return 1;
}

int sb_tx_on_reply(struct sb_msg *reply, const struct sb_rcv *rcv)
{
    const struct sb_via *v = sb_msg_via1(reply);
    if (!v)
        return 0;
    struct tx_branch *b = sb__tx_uac_find(v->branch);
    if (!b)
        return 0;
    struct tx_worker *tw = sb__tx_worker();
    TX_COUNT(tw, received_replies);
    const struct sb_cseq *cs = sb_msg_cseq(reply);
    if (cs && cs->method_id == SB_METHOD_CANCEL) {
        /* the reply to our CANCEL ends its retransmissions; nothing goes upstream */
        sb_timer_stop(&b->cretr);
        return 1;
    }
    if (cs && b->tx->req && cs->method_id != b->tx->req->method_id)
        return 1;
    sb__tx_branch_reply(b, reply, rcv);
    return 1;
}

void sb_tx_enable(void)
{
    sb_fwd_request_hook = sb_tx_on_request;
    sb_fwd_reply_hook = sb_tx_on_reply;
}

/* ---- script entry points ------------------------------------------------------------------- */

struct sb_tx *sb_tx_of(struct sb_sctx *ctx)
{
    struct tx_worker *tw = sb__tx_worker();
    if (!tw || !tw->cur_tx || !ctx->rs)
        return NULL;
    if (tw->cur_seq != ctx->rs->seq)
        return NULL;
    return tw->cur_tx;
}

static void to_tag_make(struct sb_tx *t)
{
    static const char hex[] = "0123456789abcdef";
    _Static_assert(sizeof(t->to_tag) > 4 + 16, "to_tag holds sbtm and 16 hex digits");
    memcpy(t->to_tag, "sbtm", 4);
    for (int i = 0; i < 16; i++)
        t->to_tag[4 + i] = hex[(t->key >> (60 - 4 * i)) & 0xf];
    t->to_tag[20] = '\0';
}

int sb_tx_new(struct sb_sctx *ctx)
{
    struct tx_worker *tw = sb__tx_worker();
    if (!tw)
        return SB_ENOMEM;
    if (sb_tx_of(ctx))
        return 0;
    struct sb_msg *m = ctx->msg;
    if (!m || !ctx->rs || !sb_msg_is_request(m) || m->method_id == SB_METHOD_ACK)
        return SB_EINVAL;
    if (ctx->route_type != SB_ROUTE_REQUEST)
        return SB_EINVAL;
    struct sb_msg *taken = sb__fwd_msg_take();
    if (taken != m) {
        SB_ERR("tm: the request is not the one being received; no transaction");
        return SB_EINVAL;
    }
    struct sb_tx *t = sb__tx_alloc();
    if (!t)
        return SB_ENOMEM;
    t->req = m;
    t->is_invite = m->method_id == SB_METHOD_INVITE;
    const struct sb_rcv *rcv = sb_sctx_rcv(ctx);
    if (rcv) {
        t->rcv = *rcv;
        /* the peer's strings must point into the copy; the address text is there already when
         * the original's pointed into its own (no second inet_ntop) */
        if (rcv->peer.src_ip.p == rcv->src_ip && rcv->peer.src_ip.len < sizeof(rcv->src_ip)) {
            t->rcv.peer.src_ip.p = t->rcv.src_ip;
        } else {
            sb_rcv_fill_peer(&t->rcv);
            t->rcv.peer.proto = rcv->peer.proto;
        }
        sb__fwd_via_fix(m, rcv, ctx->rs->force_rport);
        t->reply_dest_ok = sb_reply_dest(m, rcv, &t->reply_dest) == 0;
    } else {
        const struct sb_via *v = sb_msg_via1(m);
        t->reply_dest_ok = v && sb__via_dest(v, &t->reply_dest) == 0;
    }
    struct sb__fwd_state *st = sb__fwd_state();
    if (st && ctx->avps && ctx->avps == st->avps)
        t->avps = sb__fwd_avps_take();
    else
        t->avps = sb_avps_new();
    to_tag_make(t);
    t->rs = *ctx->rs;
    if (tw->pend_seq == ctx->rs->seq) {
        sb__tx_route_set(&t->on_failure, ctx->script, SB_ROUTE_FAILURE, tw->pend_on_failure);
        sb__tx_route_set(&t->on_reply, ctx->script, SB_ROUTE_ONREPLY, tw->pend_on_reply);
        sb__tx_route_set(&t->on_branch, ctx->script, SB_ROUTE_BRANCH, tw->pend_on_branch);
        if (tw->pend_fr_ms)
            t->fr_ms = tw->pend_fr_ms;
        if (tw->pend_fr_inv_ms)
            t->fr_inv_ms = tw->pend_fr_inv_ms;
    }
    tw->pend_seq = 0;
    sb__tx_uas_insert(t);
    sb__tx_arm_guard(t);
    if (t->is_invite && sb_worker_self && sb_rt.n_workers > 1) {
        t->xkey = sb__tx_xkey(m);
        t->in_xidx = true;
        sb__tx_xidx_add(t->xkey, sb_worker_self->id);
    }
    tw->cur_tx = t;
    tw->cur_seq = ctx->rs->seq;
    TX_COUNT(tw, uas_transactions);
    /* RFC3261-16.2 / 17.2.1: a 100 Trying keeps the INVITE from being retransmitted */
    if (t->is_invite && sb_tx_conf.auto_100trying && !ctx->rs->replied)
        sb__tx_local_reply(t, 100, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL);
    return 1;
}

int sb_tx_arm(struct sb_sctx *ctx, enum sb_tx_route which, int idx)
{
    struct tx_worker *tw = sb__tx_worker();
    if (!tw || !ctx->rs)
        return SB_EINVAL;
    struct sb_tx *t = sb_tx_of(ctx);
    int *slot;
    if (t) {
        struct tx_route *r = which == SB_TX_ON_FAILURE ? &t->on_failure
                             : which == SB_TX_ON_REPLY ? &t->on_reply
                                                       : &t->on_branch;
        uint32_t type = which == SB_TX_ON_FAILURE ? SB_ROUTE_FAILURE
                        : which == SB_TX_ON_REPLY ? SB_ROUTE_ONREPLY
                                                  : SB_ROUTE_BRANCH;
        sb__tx_route_set(r, ctx->script, type, idx);
        return 0;
    } else {
        if (tw->pend_seq != ctx->rs->seq) {
            tw->pend_seq = ctx->rs->seq;
            tw->pend_on_failure = tw->pend_on_reply = tw->pend_on_branch = -1;
            tw->pend_fr_ms = tw->pend_fr_inv_ms = 0;
        }
        slot = which == SB_TX_ON_FAILURE ? &tw->pend_on_failure
               : which == SB_TX_ON_REPLY ? &tw->pend_on_reply
                                         : &tw->pend_on_branch;
    }
    *slot = idx;
    return 0;
}

int sb_tx_get_timeout(struct sb_sctx *ctx, bool inv, int *out)
{
    struct tx_worker *tw = sb__tx_worker();
    struct sb_tx *t = sb_tx_of(ctx);
    int ms;
    if (t)
        ms = inv ? t->fr_inv_ms : t->fr_ms;
    else if (tw && ctx->rs && tw->pend_seq == ctx->rs->seq &&
             (inv ? tw->pend_fr_inv_ms : tw->pend_fr_ms))
        ms = inv ? tw->pend_fr_inv_ms : tw->pend_fr_ms;
    else
        ms = (inv ? sb_tx_conf.fr_inv_timeout : sb_tx_conf.fr_timeout) * 1000;
    *out = ms / 1000;
    return 0;
}

int sb_tx_set_timeout(struct sb_sctx *ctx, bool inv, int seconds)
{
    struct tx_worker *tw = sb__tx_worker();
    if (!tw || !ctx->rs || seconds < 0)
        return SB_EINVAL;
    int ms =
        seconds ? seconds * 1000 : (inv ? sb_tx_conf.fr_inv_timeout : sb_tx_conf.fr_timeout) * 1000;
    struct sb_tx *t = sb_tx_of(ctx);
    if (t) {
        *(inv ? &t->fr_inv_ms : &t->fr_ms) = ms;
        return 0;
    }
    if (tw->pend_seq != ctx->rs->seq) {
        tw->pend_seq = ctx->rs->seq;
        tw->pend_on_failure = tw->pend_on_reply = tw->pend_on_branch = -1;
        tw->pend_fr_ms = tw->pend_fr_inv_ms = 0;
    }
    *(inv ? &tw->pend_fr_inv_ms : &tw->pend_fr_ms) = ms;
    return 0;
}

bool sb_tx_was_cancelled(struct sb_sctx *ctx)
{
    struct sb_tx *t = sb_tx_of(ctx);
    return t && t->cancelled;
}

int sb_tx_local_replied(struct sb_sctx *ctx)
{
    struct sb_tx *t = sb_tx_of(ctx);
    if (!t)
        return -1;
    return t->local_replied ? 1 : 0;
}

int sb_tx_cancel_branches(struct sb_sctx *ctx, bool all)
{
    struct sb_tx *t = sb_tx_of(ctx);
    if (!t)
        return SB_ENOENT;
    int n = 0;
    for (unsigned i = 0; i < t->n_br; i++) {
        if (!all && (int)i == t->cur_branch)
            continue;
        if (t->br[i]->state < UAC_COMPLETED) {
            sb__tx_branch_cancel(t->br[i]);
            n++;
        }
    }
    return n;
}

int sb_tx_add_hdrs(struct sb_sctx *ctx, sb_str hdrs)
{
    struct sb_tx *t = sb_tx_of(ctx);
    if (!t) {
        int rc = sb_tx_new(ctx);
        if (rc < 0)
            return rc;
        t = sb_tx_of(ctx);
    }
    char *p = realloc(t->add_hdrs, t->add_hdrs_len + hdrs.len + 2);
    if (!p)
        return SB_ENOMEM;
    memcpy(p + t->add_hdrs_len, hdrs.p, hdrs.len);
    t->add_hdrs_len += hdrs.len;
    if (hdrs.len < 2 || memcmp(hdrs.p + hdrs.len - 2, "\r\n", 2) != 0) {
        memcpy(p + t->add_hdrs_len, "\r\n", 2);
        t->add_hdrs_len += 2;
    }
    t->add_hdrs = p;
    return 0;
}

int sb_tx_flush_flags(struct sb_sctx *ctx)
{
    struct sb_tx *t = sb_tx_of(ctx);
    if (!t || !ctx->rs)
        return SB_ENOENT;
    if (ctx->rs != &t->rs) {
        t->rs.flags = ctx->rs->flags;
        t->rs.bflags = ctx->rs->bflags;
    }
    return 0;
}

int sb_tx_info(struct sb_sctx *ctx, struct sb_tx_info *out)
{
    struct sb_tx *t = sb_tx_of(ctx);
    memset(out, 0, sizeof(*out));
    out->branch_idx = -1;
    if (!t)
        return SB_ENOENT;
    out->hash = t->hash % TX_HASH_SIZE;
    out->label = t->label;
    out->branch_idx = t->cur_branch;
    out->reply_code = t->cur_code ? t->cur_code : t->status;
    if (t->cur_branch >= 0 && (unsigned)t->cur_branch < t->n_br)
        out->ruri = sb_str_cstr(t->br[t->cur_branch]->ruri);
    else if (ctx->route_type == SB_ROUTE_REQUEST)
        out->ruri = sb_ruri_get(ctx);
    return 0;
}

static bool ruri_of(struct sb_sctx *ctx, struct sb_route_state *rs, sb_str *ruri, sb_str *duri)
{
    (void)rs;
    *ruri = sb_ruri_get(ctx);
    *duri = sb_duri_get(ctx);
    return ruri->p != NULL;
}

int sb_tx_relay(struct sb_sctx *ctx, unsigned flags)
{
    struct sb_msg *m = ctx->msg;
    if (!m || !ctx->rs || !sb_msg_is_request(m))
        return -2;
    struct sb_tx *t = sb_tx_of(ctx);
    if (!t && (m->method_id == SB_METHOD_ACK || m->method_id == SB_METHOD_CANCEL)) {
        /* an ACK of a 2xx, or a CANCEL without its INVITE here: relayed statelessly */
        int rc = sb_forward(ctx, SB_STR_NULL, 0);
        return rc > 0 ? 1 : -6;
    }
    if (!t) {
        int rc = sb_tx_new(ctx);
        if (rc < 0)
            return -1;
        t = sb_tx_of(ctx);
        if (!t)
            return -1;
    }
    if (t->cancelled || t->status >= 200)
        return -1;
    if (flags & SB_TX_RELAY_NO_AUTO_477)
        t->no_auto_477 = true;
    if (flags & SB_TX_RELAY_NO_DNS_FAILOVER)
        t->no_dns_failover = true;
    if (ctx->rs != &t->rs)
        t->rs = *ctx->rs;
    sb_str ruri, duri;
    if (!ruri_of(ctx, &t->rs, &ruri, &duri))
        return -3;
    struct tx_worker *tw = sb__tx_worker();
    struct sb_tx *saved = tw->cur_tx;
    uint64_t saved_seq = tw->cur_seq;
    bool was = t->in_script;
    t->in_script = true;
    int ok = 0, last_err = -3;
    int rc = sb__tx_branch_start(t, ruri, duri, t->rs.bflags, t->rs.send_sock);
    if (rc >= 0)
        ok++;
    else
        last_err = rc;
    for (uint32_t i = 0; i < t->rs.n_branches; i++) {
        const struct sb_branch_ent *e = &t->rs.branches[i];
        rc = sb__tx_branch_start(t, e->uri, e->dst_uri, e->bflags, e->sock);
        if (rc >= 0)
            ok++;
        else
            last_err = rc;
    }
    /* appended branches are used: a later t_relay (failure route) sends only new ones */
    t->rs.n_branches = 0;
    if (ctx->rs != &t->rs)
        ctx->rs->n_branches = 0;
    t->in_script = was;
    tw->cur_tx = saved;
    tw->cur_seq = saved_seq;
    ctx->rs->forwarded = ok > 0;
    if (ok == 0) {
        if (!t->in_failure && !t->no_auto_477 && t->status < 200)
            sb__tx_local_reply(t, 477,
                               SB_STR("Unfortunately error on sending to next hop occurred"),
                               SB_STR_NULL, SB_STR_NULL, SB_STR_NULL);
        return last_err;
    }
    if (!t->in_failure)
        sb__tx_check_done(t);
    return 1;
}

int sb_tx_reply(struct sb_sctx *ctx, int code, sb_str reason, sb_str hdrs, sb_str body,
                sb_str ctype)
{
    if (code < 100 || code > 699)
        return SB_EINVAL;
    struct sb_tx *t = sb_tx_of(ctx);
    if (!t) {
        int rc = sb_tx_new(ctx);
        if (rc < 0)
            return rc;
        t = sb_tx_of(ctx);
        if (!t)
            return SB_EINVAL;
    }
    if (ctx->rs && ctx->rs->reply_hdrs.len && ctx->rs != &t->rs) {
        /* append_to_reply lines come with the reply */
        size_t n = hdrs.len + ctx->rs->reply_hdrs.len;
        char *p = sb_arena_alloc(ctx->scratch, n);
        if (p) {
            memcpy(p, hdrs.p ? hdrs.p : "", hdrs.len);
            memcpy(p + hdrs.len, ctx->rs->reply_hdrs.p, ctx->rs->reply_hdrs.len);
            hdrs = (sb_str){p, n};
        }
    }
    int rc = sb__tx_local_reply(t, code, reason, hdrs, body, ctype);
    if (rc == 0 && ctx->rs)
        ctx->rs->replied = true;
    return rc;
}

int sb_tx_replicate(struct sb_sctx *ctx, sb_str uri)
{
    if (!ctx->msg || !sb_msg_is_request(ctx->msg) || ctx->msg->method_id == SB_METHOD_ACK ||
        ctx->msg->method_id == SB_METHOD_CANCEL || !uri.len)
        return -2;
    sb_str ruri = sb_ruri_get(ctx);
    int rc = sb__tx_replica_start(ctx->msg, ruri, uri);
    return rc == 0 ? 1 : rc;
}
