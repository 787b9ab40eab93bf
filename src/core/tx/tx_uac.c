/* SPDX-License-Identifier: BSD-2-Clause */
/* Client transactions (branches) of a proxy (RFC 3261 §16.6 - §16.10, §17.1): building and
 * sending each branch, Timers A/B/E/F and fr_timeout/fr_inv_timeout (Timer C), the hop-by-hop
 * ACK of a non-2xx final, CANCEL, best-response selection and the failure route. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd/fwd_int.h"
#include "sb/avp.h"
#include "sb/core_cfg.h"
#include "sb/dns.h"
#include "sb/log.h"
#include "sb/script.h"
#include "sb/uri.h"
#include "sb/worker.h"
#include "tx/tx_int.h"

struct tx_dnsw {
    struct tx_branch *b; /* NULL once the branch is gone */
    uint8_t proto;
};

static void edits_free(struct tx_edits *e);

static char *dup_str(sb_str s)
{
    char *p = malloc(s.len + 1);
    if (p) {
        memcpy(p, s.p ? s.p : "", s.len);
        p[s.len] = '\0';
    }
    return p;
}

void sb__tx_branch_free(struct tx_branch *b)
{
    sb_timer_stop(&b->retr);
    sb_timer_stop(&b->fr);
    sb_timer_stop(&b->cretr);
    sb_timer_stop(&b->wait);
    if (b->dnsw)
        b->dnsw->b = NULL;
    if (b->reply)
        sb__fwd_msg_release(b->reply);
    if (b->req)
        sb_buf_unref(b->req);
    if (b->cancel)
        sb_buf_unref(b->cancel);
    free(b->targets);
    if (b->ruri != b->ruri_in)
        free(b->ruri);
    free(b->duri);
    sb_avps_free(b->avps);
    if (b->edits)
        edits_free(b->edits);
    sb__tx_branch_recycle(b);
}

/* ---- routes on the transaction ------------------------------------------------------------- */

static _Thread_local unsigned route_depth;

sb_res sb__tx_run_route(struct sb_tx *t, uint32_t type, int idx, struct sb_msg *reply)
{
    struct tx_worker *tw = sb__tx_worker();
    const struct sb_script *s = sb_worker_self ? sb_worker_self->script : sb_current_script();
    if (!s || idx < 0 || !t->req)
        return sb_res_true();
    struct sb_sctx ctx = {
        .msg = type == SB_ROUTE_ONREPLY ? reply : t->req,
        .reply = reply,
        .request = type == SB_ROUTE_ONREPLY ? t->req : NULL,
        .peer = t->rcv.sock ? &t->rcv.peer : NULL,
        .script = s,
        .rs = &t->rs,
        .avps = t->avps,
        .scratch = &tw->scratch,
        .route_type = type,
    };
    struct sb_tx *saved = tw->cur_tx;
    uint64_t saved_seq = tw->cur_seq;
    tw->cur_tx = t;
    tw->cur_seq = t->rs.seq;
    route_depth++;
    sb_res r = sb_script_run(&ctx, type, idx);
    route_depth--;
    tw->cur_tx = saved;
    tw->cur_seq = saved_seq;
    if (!route_depth)
        sb_arena_reset(&tw->scratch);
    return r;
}

struct sb_avps *sb_tx_branch_avps(struct sb_sctx *ctx, bool create)
{
    struct sb_tx *t = sb_tx_of(ctx);
    if (!t || t->cur_branch < 0)
        return NULL;
    struct sb_avps **l;
    if (ctx->route_type == SB_ROUTE_BRANCH && (unsigned)t->cur_branch == t->n_br)
        l = &t->new_bavps;
    else if ((unsigned)t->cur_branch < t->n_br)
        l = &t->br[t->cur_branch]->avps;
    else
        return NULL;
    if (!*l && create)
        *l = sb_avps_new();
    return *l;
}

/* ---- building ------------------------------------------------------------------------------ */

/* A CANCEL or ACK for branch <b>, from the request we sent (RFC3261-9.1, 17.1.1.3): its
 * Request-URI, top Via, Route, From, Call-ID and CSeq number; To from <to> when given (the
 * reply's, for an ACK) else from the request. */
static struct sb_buf *build_hop(struct tx_branch *b, const char *method, struct sb_msg *reply,
                                const char *extra)
{
    if (!b->req)
        return NULL;
    struct sb_msg sent;
    sb_msg_init(&sent, NULL);
    struct sb_buf *out = NULL;
    if (sb_msg_parse(&sent, b->req->data, b->req->len, 0) < 0)
        goto done;
    const struct sb_cseq *cs = sb_msg_cseq(&sent);
    struct sb_hdr *via = sb_msg_hdr_first(&sent, SB_HDR_VIA);
    struct sb_hdr *from = sb_msg_hdr_first(&sent, SB_HDR_FROM);
    struct sb_hdr *to =
        reply ? sb_msg_hdr_first(reply, SB_HDR_TO) : sb_msg_hdr_first(&sent, SB_HDR_TO);
    struct sb_hdr *cid = sb_msg_hdr_first(&sent, SB_HDR_CALL_ID);
    if (!cs || !via || !from || !to || !cid)
        goto done;
    size_t cap = b->req->len + (reply ? reply->len : 0) + (extra ? strlen(extra) : 0) + 256;
    out = sb_buf_new(cap);
    if (!out)
        goto done;
    struct sb_wbuf w;
    sb_wbuf_init(&w, out->data, cap);
    sb_wbuf_cstr(&w, method);
    sb_wbuf_put(&w, " ", 1);
    sb_wbuf_str(&w, sb_msg_span(&sent, sent.ruri));
    sb_wbuf_cstr(&w, " SIP/2.0\r\nVia: ");
    sb_wbuf_str(&w, sb_msg_hdr_value(&sent, via));
    sb_wbuf_put(&w, "\r\n", 2);
    for (struct sb_hdr *h = sb_msg_hdr_first(&sent, SB_HDR_ROUTE); h; h = sb_msg_hdr_next(&sent, h))
        if (h->flags & SB_HDRF_LIST_FIRST)
            sb_wbuf_str(&w, sb_msg_span(&sent, h->field));
    sb_wbuf_str(&w, sb_msg_span(&sent, from->field));
    sb_wbuf_str(&w, reply ? sb_msg_span(reply, to->field) : sb_msg_span(&sent, to->field));
    sb_wbuf_str(&w, sb_msg_span(&sent, cid->field));
    sb_wbuf_printf(&w, "CSeq: %u %s\r\nMax-Forwards: 70\r\n", (unsigned)cs->num, method);
    if (extra)
        sb_wbuf_cstr(&w, extra);
    sb_wbuf_cstr(&w, "Content-Length: 0\r\n\r\n");
    if (w.err) {
        sb_buf_unref(out);
        out = NULL;
        goto done;
    }
    out->len = (uint32_t)w.len;
done:
    sb_msg_deinit(&sent);
    return out;
}

static void send_ack(struct tx_branch *b, struct sb_msg *reply)
{
    struct sb_buf *ack = build_hop(b, "ACK", reply, NULL);
    if (!ack)
        return;
    sb__tx_send(&b->dest, ack->data, ack->len);
    sb_buf_unref(ack);
}

static void cancel_retr(struct sb_timer *tm)
{
    struct tx_branch *b = tm->data;
    struct sb_loop *l = sb__tx_loop();
    if (!b->cancel || !l || b->cretr_ms > 32u * (uint64_t)sb_tx_conf.t1_ms)
        return;
    sb__tx_send(&b->dest, b->cancel->data, b->cancel->len);
    b->cretr_ms *= 2;
    uint64_t next =
        b->cretr_ms < (uint64_t)sb_tx_conf.t2_ms ? b->cretr_ms : (uint64_t)sb_tx_conf.t2_ms;
    sb_timer_start(l, &b->cretr, next);
}

static void send_cancel(struct tx_branch *b)
{
    b->cancel_sent = true;
    b->cancel = build_hop(b, "CANCEL", NULL, b->tx->cancel_reason);
    if (!b->cancel)
        return;
    sb__tx_send(&b->dest, b->cancel->data, b->cancel->len);
    struct sb_loop *l = sb__tx_loop();
    if (!b->is_reliable && l) {
        b->cretr_ms = (uint64_t)sb_tx_conf.t1_ms;
        sb_timer_start(l, &b->cretr, b->cretr_ms);
    }
}

/* Branch <b> ends without a reply of its own: a local <code> takes part in the selection. */
static void branch_local_final(struct tx_branch *b, int code)
{
    sb_timer_stop(&b->retr);
    sb_timer_stop(&b->fr);
    b->replied = true;
    b->local_timeout = true;
    b->code = code;
    b->state = UAC_TERMINATED;
}

void sb__tx_branch_cancel(struct tx_branch *b)
{
    if (b->state >= UAC_COMPLETED || b->cancel_sent)
        return;
    if (!b->tx->is_invite) {
        /* RFC3261-9.1: a CANCEL of a non-INVITE has no use; let it end */
        return;
    }
    if (b->state == UAC_DNS) {
        branch_local_final(b, 487);
        return;
    }
    if (!b->got_prov) {
        /* RFC3261-9.1: no CANCEL before a provisional reply; it goes when one comes */
        b->cancel_wanted = true;
        return;
    }
    send_cancel(b);
}

static bool failover(struct tx_branch *b);
static void send_ack_2xx(struct tx_branch *b, struct sb_msg *reply);

/* ---- timers -------------------------------------------------------------------------------- */

static void timer_retr(struct sb_timer *tm)
{
    struct tx_branch *b = tm->data;
    struct sb_loop *l = sb__tx_loop();
    if (!b->req || !l)
        return;
    bool inv = b->tx->is_invite;
    if (b->state == UAC_CALLING || (!inv && b->state == UAC_PROCEEDING)) {
        sb__tx_send(&b->dest, b->req->data, b->req->len);
        if (inv) {
            b->retr_ms *= 2; /* RFC3261-17.1.1.2: Timer A doubles */
        } else if (b->state == UAC_PROCEEDING) {
            b->retr_ms = (uint64_t)sb_tx_conf.t2_ms; /* RFC3261-17.1.2.2 */
        } else {
            b->retr_ms *= 2; /* Timer E: up to T2 */
            if (b->retr_ms > (uint64_t)sb_tx_conf.t2_ms)
                b->retr_ms = (uint64_t)sb_tx_conf.t2_ms;
        }
        sb_timer_start(l, &b->retr, b->retr_ms);
    }
}

static void timer_fr(struct sb_timer *tm)
{
    struct tx_branch *b = tm->data;
    struct sb_tx *t = b->tx;
    struct tx_worker *tw = sb__tx_worker();
    if (b->state >= UAC_COMPLETED)
        return;
    TX_COUNT(tw, timeout_finalresponse);
    /* RFC3261-16.8: Timer C after a provisional: CANCEL the branch and treat it as 408;
     * RFC3261-17.1.1.2 / 17.1.2.2: Timer B / F without a reply: 408 to the TU */
    if (t->is_invite && b->got_prov && !b->cancel_sent)
        send_cancel(b);
    bool silent = !b->got_prov && b->state == UAC_CALLING;
    branch_local_final(b, 408);
    if (silent && failover(b))
        return;
    sb__tx_check_done(t);
}

/* ---- sending ------------------------------------------------------------------------------- */

static const struct sb_socket *pick_sock(const struct sb_socket *forced,
                                         const struct sb_socket *hint, uint8_t proto,
                                         const struct sb_addr *to)
{
    if (forced && forced->proto == proto && sb_addr_family(&forced->addr) == sb_addr_family(to))
        return forced;
    return sb_tp_pick(proto, to, hint);
}

static const struct sb_core_cfg *core_cfg(void)
{
    /* global parameters are fixed at start (reload_routes changes routes only) */
    if (sb_rt.cfg)
        return sb_rt.cfg;
    const struct sb_script *s = sb_worker_self ? sb_worker_self->script : sb_current_script();
    return s ? sb_script_core(s) : NULL;
}

/* Build the branch for target <d> (its socket decides our Via) and send it. */
static int send_to(struct tx_branch *b, struct sb_dest *d)
{
    struct sb_tx *t = b->tx;
    char vb[SB_IP_STRLEN + 256 + 96];
    struct sb_wbuf w;
    sb_wbuf_init(&w, vb, sizeof(vb));
    if (sb_via_make(&w, d->sock, d->proto, sb_str_cstr(b->branch)) < 0)
        return SB_ENOSPC;
    char top[2048];
    struct sb_wbuf tw;
    sb_wbuf_init(&tw, top, sizeof(top));
    sb_fwd_hook hook = sb_fwd_get_hook();
    if (hook && !t->is_local) {
        struct sb_sctx ctx = {
            .msg = t->req,
            .peer = t->rcv.sock ? &t->rcv.peer : NULL,
            .rs = &t->rs,
            .avps = t->avps,
            .route_type = SB_ROUTE_REQUEST,
        };
        int rc = hook(&ctx, d, &tw);
        if (rc < 0 || tw.err)
            return rc < 0 ? rc : tw.err;
    }
    struct sb_fwd_opts o = {
        .ruri = sb_str_cstr(b->ruri),
        .via = (sb_str){vb, w.len},
        .top_hdrs = (sb_str){top, tw.len},
        .add_hdrs = (sb_str){t->add_hdrs, t->add_hdrs_len},
        .maxfwd_dec = t->rs.maxfwd_done ? 0 : 1,
    };
    struct sb_buf *out = NULL;
    int rc = sb_msg_build_request(t->req, &o, &out);
    if (rc < 0)
        return rc;
    d->no_new_conn = sb_core_no_new_conn(core_cfg(), b->bflags);
    rc = sb__tx_send(d, out->data, out->len);
    if (rc < 0) {
        sb_buf_unref(out);
        return rc;
    }
    if (b->req)
        sb_buf_unref(b->req);
    b->req = out;
    b->dest = *d;
    return 0;
}

static void arm_after_send(struct tx_branch *b)
{
    struct sb_loop *l = sb__tx_loop();
    b->state = UAC_CALLING;
    b->is_reliable = sb__is_stream(b->dest.proto);
    if (!l)
        return;
    if (!b->is_reliable) {
        b->retr_ms = (uint64_t)sb_tx_conf.t1_ms;
        sb_timer_start(l, &b->retr, b->retr_ms);
    }
    if (!sb_timer_active(&b->fr))
        sb_timer_start(l, &b->fr, (uint64_t)b->tx->fr_ms);
}

static bool failover_on(const struct sb_tx *t)
{
    const struct sb_core_cfg *c = core_cfg();
    return !t->no_dns_failover && !(c && c->disable_dns_failover);
}

static bool blacklist_on(void)
{
    const struct sb_core_cfg *c = core_cfg();
    return !(c && c->disable_dns_blacklist);
}

static struct sb_dest target_dest(const struct tx_branch *b, const struct sb_dns_result *res,
                                  unsigned i, uint8_t proto)
{
    struct sb_dest d = {.proto = proto ? proto : (res->t[i].proto ? res->t[i].proto : SB_PROTO_UDP),
                        .to = res->t[i].addr};
    d.sock = pick_sock(b->sock, b->tx->rcv.sock, d.proto, &d.to);
    return d;
}

/* Send <b> to the first usable target of <res> from <start> on, blacklisted targets last. With
 * failover allowed the list stays with the branch so that a timeout or a 503 can move on to the
 * next target (RFC3263-4.3). */
static int send_targets(struct tx_branch *b, const struct sb_dns_result *res, uint8_t proto,
                        unsigned start)
{
    struct sb_tx *t = b->tx;
    int rc = SB_ENOENT;
    bool fo = failover_on(t);
    bool bl = blacklist_on();
    bool black[SB_DNS_MAX_TARGETS] = {0};
    /* the order only matters with more than one target left */
    for (unsigned i = start; bl && res->n - start > 1 && i < res->n; i++) {
        struct sb_dest d = target_dest(b, res, i, proto);
        black[i] = sb_tx_blacklist_has(d.proto, &d.to);
    }
    /* the targets that are not blacklisted first, in order; the blacklisted ones last */
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = start; i < res->n; i++) {
            if (black[i] != (pass == 1))
                continue;
            struct sb_dest d = target_dest(b, res, i, proto);
            if (!d.sock)
                continue;
            rc = send_to(b, &d);
            if (rc == 0) {
                b->tgt = i;
                b->tproto = proto;
                if (fo && i + 1 < res->n && b->targets != res) {
                    free(b->targets);
                    b->targets = malloc(sizeof(*res));
                    if (b->targets)
                        *b->targets = *res;
                }
                arm_after_send(b);
                return 0;
            }
            /* RFC3263-4.3: the next target when one fails, unless no-dns-failover */
            if (!fo || rc == SB_ERANGE || rc == SB_EPARSE)
                return rc;
        }
    }
    return rc;
}

/* The request's edits before a branch route, put back once the branch is built so that what
 * one branch route adds does not show in the next branch. */
struct tx_edits {
    struct sb_lump *lumps;
    uint32_t n_lumps;
    int lump_err;
    uint16_t *hflags;
    uint32_t n_hdrs;
};

static bool edits_save(struct sb_msg *m, struct tx_edits *e)
{
    *e = (struct tx_edits){.n_lumps = m->n_lumps, .lump_err = m->lump_err, .n_hdrs = m->n_hdrs};
    e->lumps = malloc(sizeof(*e->lumps) * (m->n_lumps ? m->n_lumps : 1));
    e->hflags = malloc(sizeof(*e->hflags) * (m->n_hdrs ? m->n_hdrs : 1));
    if (!e->lumps || !e->hflags) {
        free(e->lumps);
        free(e->hflags);
        return false;
    }
    if (m->n_lumps)
        memcpy(e->lumps, m->lumps, sizeof(*e->lumps) * m->n_lumps);
    for (uint32_t i = 0; i < m->n_hdrs; i++)
        e->hflags[i] = m->hdrs[i].flags;
    return true;
}

/* Put <e> on <m>. The lump array only grows (in the arena): saved lumps fit where they were. */
static void edits_apply(struct sb_msg *m, const struct tx_edits *e)
{
    if (e->n_lumps)
        memcpy(m->lumps, e->lumps, sizeof(*e->lumps) * e->n_lumps);
    m->n_lumps = e->n_lumps;
    m->lump_err = e->lump_err;
    for (uint32_t i = 0; i < e->n_hdrs && i < m->n_hdrs; i++)
        m->hdrs[i].flags =
            (uint16_t)((m->hdrs[i].flags & ~SB_HDRF_REMOVED) | (e->hflags[i] & SB_HDRF_REMOVED));
}

static void edits_restore(struct sb_msg *m, struct tx_edits *e)
{
    edits_apply(m, e);
    free(e->lumps);
    free(e->hflags);
}

static void edits_free(struct tx_edits *e)
{
    free(e->lumps);
    free(e->hflags);
    free(e);
}

/* A branch that waits for DNS is built when the answer comes, after the request has been put
 * back for the next branches: what its branch route did to the headers is kept with it. The
 * inserted text lives in the request's arena, which lasts as long as the transaction. */
static void edits_keep(struct tx_branch *b)
{
    struct tx_edits *e = malloc(sizeof(*e));
    if (!e || !edits_save(b->tx->req, e)) {
        free(e);
        SB_WARN("tm: branch %d: out of memory, its branch route edits are lost", b->idx);
        return;
    }
    b->edits = e;
}

/* Show the kept edits of <b> on the request, saving what it had into <cur> for edits_restore.
 * Returns false when there is nothing to show or it cannot be done. */
static bool edits_swap_in(struct tx_branch *b, struct tx_edits *cur)
{
    struct sb_msg *m = b->tx->req;
    if (!b->edits || !m || b->edits->n_lumps > m->cap_lumps || !edits_save(m, cur))
        return false;
    edits_apply(m, b->edits);
    return true;
}

static void dns_done(void *arg, const struct sb_dns_result *res)
{
    struct tx_dnsw *dw = arg;
    struct tx_branch *b = dw->b;
    uint8_t proto = dw->proto;
    free(dw);
    if (!b)
        return;
    b->dnsw = NULL;
    if (b->state != UAC_DNS)
        return;
    struct tx_edits cur;
    bool swapped = !res->err && res->n && edits_swap_in(b, &cur);
    int rc = res->err || !res->n ? SB_ENOENT : send_targets(b, res, proto, 0);
    if (swapped)
        edits_restore(b->tx->req, &cur);
    if (b->edits) {
        edits_free(b->edits);
        b->edits = NULL;
    }
    if (rc < 0) {
        SB_INFO("tm: branch %d not sent after resolving (%d)", b->idx, rc);
        branch_local_final(b, 503);
        sb__tx_check_done(b->tx);
    }
}

static void branch_remove_last(struct sb_tx *t)
{
    struct tx_branch *b = t->br[--t->n_br];
    struct tx_worker *tw = sb__tx_worker();
    uint32_t h = b->bhash % TX_HASH_SIZE;
    for (struct tx_branch **p = &tw->uac[h]; *p; p = &(*p)->hnext) {
        if (*p == b) {
            *p = b->hnext;
            break;
        }
    }
    sb__tx_branch_free(b);
}

/* A branch that continues another one on the next DNS target (no new resolution). */
struct failover {
    const struct sb_dns_result *res;
    unsigned start;
    uint8_t proto;
};

static int branch_start(struct sb_tx *t, sb_str ruri, sb_str duri, uint32_t bflags,
                        const struct sb_socket *sock, const struct failover *fo);

static int branch_start_saved(struct sb_tx *t, sb_str ruri, sb_str duri, uint32_t bflags,
                              const struct sb_socket *sock, const struct failover *fo)
{
    if (t->n_br >= TX_MAX_BRANCHES || !ruri.p)
        return -1;
    struct tx_edits e;
    bool saved = t->on_branch.idx >= 0 && edits_save(t->req, &e);
    int rc = branch_start(t, ruri, duri, bflags, sock, fo);
    if (saved)
        edits_restore(t->req, &e);
    return rc;
}

int sb__tx_branch_start(struct sb_tx *t, sb_str ruri, sb_str duri, uint32_t bflags,
                        const void *sock)
{
    /* a branch without a socket of its own goes out from the transaction's choice */
    const struct sb_socket *s = sock ? sock : t->rs.send_sock;
    return branch_start_saved(t, ruri, duri, bflags, s, NULL);
}

/* Branch <b> timed out without any reply or answered 503: blacklist its target and, when the
 * resolution has more, continue on a new branch (new branch parameter, same destination) with
 * the next one. Returns true when that branch went out. */
static bool failover(struct tx_branch *b)
{
    struct sb_tx *t = b->tx;
    if (b->state == UAC_DNS || !b->req)
        return false;
    if (blacklist_on())
        sb_tx_blacklist_add(b->dest.proto, &b->dest.to, SB_TX_BLACKLIST_MS);
    if (!b->targets || b->tgt + 1 >= b->targets->n || !failover_on(t) || t->cancelled ||
        (!t->is_local && t->status >= 200) || (t->is_local && !t->uac_cb))
        return false;
    struct failover fo = {.res = b->targets, .start = b->tgt + 1, .proto = b->tproto};
    /* the list moves to the new branch (freed with the old one otherwise) */
    sb_str ruri = sb_str_cstr(b->ruri), duri = b->duri ? sb_str_cstr(b->duri) : SB_STR_NULL;
    int rc = branch_start_saved(t, ruri, duri, b->bflags, b->sock, &fo);
    if (rc != 0)
        return false;
    SB_INFO("tm: branch %d failed (%d), DNS failover to branch %u", b->idx, b->code, t->n_br - 1);
    return true;
}

static int branch_start(struct sb_tx *t, sb_str ruri, sb_str duri, uint32_t bflags,
                        const struct sb_socket *sock, const struct failover *fo)
{
    struct tx_worker *tw = sb__tx_worker();
    int br_idx = sb__tx_route_idx(&t->on_branch, SB_ROUTE_BRANCH);
    struct sb_avps *bavps = NULL;
    if (br_idx >= 0) {
        /* branch_route: $ru / $du / the socket are the branch's; drop discards it */
        sb_str keep_ru = t->rs.new_ruri, keep_du = t->rs.dst_uri;
        uint32_t keep_bf = t->rs.bflags;
        const void *keep_sock = t->rs.send_sock;
        int keep_cur = t->cur_branch; /* a failure route's branch, for after its t_relay */
        struct sb_avps *keep_bavps = t->new_bavps;
        t->rs.new_ruri = ruri;
        t->rs.dst_uri = duri.len ? duri : SB_STR_NULL;
        t->rs.bflags = bflags;
        t->rs.send_sock = sock;
        t->new_bavps = NULL;
        t->cur_branch = (int)t->n_br;
        sb_res r = sb__tx_run_route(t, SB_ROUTE_BRANCH, br_idx, NULL);
        t->cur_branch = keep_cur;
        bavps = t->new_bavps;
        t->new_bavps = keep_bavps;
        ruri = t->rs.new_ruri.p ? t->rs.new_ruri : ruri;
        duri = t->rs.dst_uri;
        bflags = t->rs.bflags;
        sock = t->rs.send_sock;
        t->rs.new_ruri = keep_ru;
        t->rs.dst_uri = keep_du;
        t->rs.bflags = keep_bf;
        t->rs.send_sock = keep_sock;
        if (r.ctl == SB_CTL_DROP) {
            sb_avps_free(bavps);
            return 1;
        }
    }
    struct tx_branch *b = sb__tx_branch_new();
    if (!b) {
        sb_avps_free(bavps);
        return -1;
    }
    b->tx = t;
    b->idx = (int)t->n_br;
    b->bflags = bflags;
    b->sock = sock;
    b->avps = bavps;
    if (ruri.len < sizeof(b->ruri_in)) {
        memcpy(b->ruri_in, ruri.p, ruri.len);
        b->ruri_in[ruri.len] = '\0';
        b->ruri = b->ruri_in;
    } else {
        b->ruri = dup_str(ruri);
    }
    b->duri = duri.len ? dup_str(duri) : NULL;
    sb_timer_init(&b->retr, timer_retr, b);
    sb_timer_init(&b->fr, timer_fr, b);
    sb_timer_init(&b->cretr, cancel_retr, b);
    sb_timer_init(&b->wait, NULL, b);
    unsigned wid = sb_worker_self ? sb_worker_self->id : 0;
    if (!b->ruri || (duri.len && !b->duri) ||
        !sb_branch_make(b->branch, sizeof(b->branch), wid, sb_worker_unique())) {
        sb__tx_branch_free(b);
        return -1;
    }
    t->br[t->n_br++] = b;
    sb__tx_uac_insert(b);
    if (t->is_local)
        TX_COUNT(tw, uac_transactions);

    const char *target = b->duri ? b->duri : b->ruri;
    if (fo) {
        int frc = send_targets(b, fo->res, fo->proto, fo->start);
        if (frc < 0) {
            branch_remove_last(t);
            return -6;
        }
        return 0;
    }
    struct sb_uri u;
    struct sb_hop hop;
    if (sb_uri_parse(sb_str_cstr(target), &u) < 0 || sb_uri_hop(&u, &hop) < 0) {
        SB_INFO("tm: cannot relay to \"%s\": not a usable SIP URI", target);
        branch_remove_last(t);
        return -4;
    }
    struct tx_dnsw *dw = calloc(1, sizeof(*dw));
    if (!dw) {
        branch_remove_last(t);
        return -1;
    }
    dw->b = b;
    dw->proto = hop.proto;
    struct sb_dns_result res;
    int rc = sb_dns_resolve(hop.host, hop.port, hop.proto, hop.secure, &res, dns_done, dw);
    if (rc == SB_EAGAIN) {
        b->dnsw = dw;
        b->state = UAC_DNS;
        if (br_idx >= 0)
            edits_keep(b);
        struct sb_loop *l = sb__tx_loop();
        if (l)
            sb_timer_start(l, &b->fr, (uint64_t)t->fr_ms);
        return 0;
    }
    free(dw);
    if (rc < 0 || res.err || !res.n) {
        SB_INFO("tm: cannot resolve \"" SB_STR_FMT "\"", SB_STR_ARG(hop.host));
        branch_remove_last(t);
        return -4;
    }
    rc = send_targets(b, &res, hop.proto, 0);
    if (rc < 0) {
        SB_INFO("tm: cannot send branch %d to \"%s\" (%d)", b->idx, target, rc);
        branch_remove_last(t);
        return rc == SB_ERANGE || rc == SB_EPARSE ? -2 : -6;
    }
    return 0;
}

/* ---- replies ------------------------------------------------------------------------------- */

/* Relay <reply> upstream: our Via off (RFC3261-16.7 step 9), <extra> header lines added. */
static void relay_reply(struct sb_tx *t, struct sb_msg *reply, sb_str extra)
{
    struct sb_hdr *via = sb_msg_hdr_first(reply, SB_HDR_VIA);
    if (!via || t->is_local)
        return;
    if (!(via->flags & SB_HDRF_REMOVED) && sb_msg_hdr_remove(reply, via) < 0)
        return;
    struct sb_fwd_opts o = {.add_hdrs = extra};
    struct sb_buf *out = NULL;
    if (sb_msg_build_request(reply, &o, &out) < 0) {
        SB_INFO("tm: cannot rebuild a %u reply for relaying", (unsigned)reply->status);
        return;
    }
    sb__tx_send_upstream(t, reply->status, out, false);
}

void sb__tx_branch_reply(struct tx_branch *b, struct sb_msg *reply, const struct sb_rcv *rcv)
{
    (void)rcv;
    struct sb_tx *t = b->tx;
    int code = reply->status;
    struct sb_loop *l = sb__tx_loop();
    bool relay = true;
    int rp_idx = t->is_local ? -1 : sb__tx_route_idx(&t->on_reply, SB_ROUTE_ONREPLY);
    if (rp_idx >= 0) {
        t->cur_branch = b->idx;
        t->cur_code = code;
        sb_res r = sb__tx_run_route(t, SB_ROUTE_ONREPLY, rp_idx, reply);
        t->cur_branch = -1;
        t->cur_code = 0;
        if (r.ctl == SB_CTL_DROP && code < 200)
            relay = false;
    }
    if (code < 200) {
        if (b->state >= UAC_COMPLETED)
            return;
        bool first = !b->got_prov;
        b->got_prov = true;
        b->state = UAC_PROCEEDING;
        if (t->is_invite) {
            sb_timer_stop(&b->retr); /* RFC3261-17.1.1.2 */
            if (l && (first || sb_tx_conf.restart_fr_on_each_reply))
                sb_timer_start(l, &b->fr, (uint64_t)t->fr_inv_ms); /* Timer C */
        } else if (l && !b->is_reliable) {
            b->retr_ms = (uint64_t)sb_tx_conf.t2_ms;
            sb_timer_start(l, &b->retr, b->retr_ms);
        }
        if (b->cancel_wanted && !b->cancel_sent)
            send_cancel(b);
        /* RFC3261-16.7 step 5: 100 is hop by hop */
        if (relay && code > 100 && t->status < 200)
            relay_reply(t, reply, SB_STR_NULL);
        return;
    }
    if (b->replied) {
        if (b->local_timeout || code >= 300 || !t->is_invite) {
            /* RFC3261-17.1.1.2: a retransmitted non-2xx gets the ACK again */
            if (t->is_invite && code >= 300)
                send_ack(b, reply);
            return;
        }
        /* RFC3261-16.7 step 5: every 2xx of an INVITE goes upstream; RFC3261-13.2.2.4: a
         * retransmitted 2xx of our own INVITE is ACKed again */
        if (t->is_local)
            send_ack_2xx(b, reply);
        relay_reply(t, reply, SB_STR_NULL);
        return;
    }
    sb_timer_stop(&b->retr);
    sb_timer_stop(&b->fr);
    b->replied = true;
    b->code = code;
    if (t->is_invite && code >= 300) {
        send_ack(b, reply);
        b->state = UAC_COMPLETED; /* Timer D: retransmissions re-ACKed while the tx lives */
    } else {
        b->state = UAC_TERMINATED;
        if (!t->is_local && code < 300 && b->req) {
            /* nothing is sent on this branch again (no retransmission, ACK or CANCEL): the
             * copy goes now rather than when the transaction's wait ends */
            sb_buf_unref(b->req);
            b->req = NULL;
        }
    }
    if (code < 300) {
        if (t->is_local) {
            if (t->is_invite && code >= 200)
                send_ack_2xx(b, reply);
            if (t->uac_cb) {
                sb_tx_uac_cb cb = t->uac_cb;
                t->uac_cb = NULL;
                t->status = code;
                cb(t->uac_arg, code, reply);
                sb__tx_finish(t, (uint64_t)sb_tx_conf.wt_timer * 1000);
            }
            return;
        }
        relay_reply(t, reply, SB_STR_NULL);
        return;
    }
    struct sb_msg *kept = sb__fwd_msg_take();
    if (kept == reply)
        b->reply = kept;
    if (code == 503 && failover(b))
        return;
    if (code >= 600 && !sb_tx_conf.disable_6xx_block) {
        /* RFC3261-16.7 step 5: a 6xx ends the other branches */
        for (unsigned i = 0; i < t->n_br; i++)
            if (t->br[i] != b && t->br[i]->state < UAC_COMPLETED)
                sb__tx_branch_cancel(t->br[i]);
    }
    sb__tx_check_done(t);
}

/* ---- the ACK of a 2xx to a request we originated --------------------------------------------- */

/* RFC3261-13.2.2.4: a new transaction: Request-URI from the Contact of the 2xx, Route from its
 * Record-Route reversed, CSeq number of the INVITE. The destination is the first Route (or the
 * Contact) when it resolves without waiting, else the hop the INVITE went to. */
static void send_ack_2xx(struct tx_branch *b, struct sb_msg *reply)
{
    struct sb_msg *req = b->tx->req;
    struct sb_hdr *ct = sb_msg_hdr_first(reply, SB_HDR_CONTACT);
    struct sb_hdr *to = sb_msg_hdr_first(reply, SB_HDR_TO);
    struct sb_hdr *from = sb_msg_hdr_first(req, SB_HDR_FROM);
    struct sb_hdr *cid = sb_msg_hdr_first(req, SB_HDR_CALL_ID);
    const struct sb_cseq *cs = sb_msg_cseq(req);
    if (!to || !from || !cid || !cs)
        return;
    struct sb_nameaddr cna;
    sb_str ruri = sb_str_cstr(b->ruri);
    if (ct && sb_nameaddr_parse(sb_msg_hdr_value(reply, ct), &cna) == 0 && cna.uri_str.len)
        ruri = cna.uri_str;
    struct sb_hdr *rr[32];
    unsigned n_rr = 0;
    for (struct sb_hdr *h = sb_msg_hdr_first(reply, SB_HDR_RECORD_ROUTE); h && n_rr < 32;
         h = sb_msg_hdr_next(reply, h))
        rr[n_rr++] = h;
    sb_str hop_uri = ruri;
    struct sb_nameaddr rna;
    if (n_rr && sb_nameaddr_parse(sb_msg_hdr_value(reply, rr[n_rr - 1]), &rna) == 0)
        hop_uri = rna.uri_str;
    struct sb_dest d = b->dest;
    struct sb_uri u;
    struct sb_hop hop;
    struct sb_dns_result res;
    if (sb_uri_parse(hop_uri, &u) == 0 && sb_uri_hop(&u, &hop) == 0 &&
        sb_dns_resolve(hop.host, hop.port, hop.proto, hop.secure, &res, NULL, NULL) == 0 &&
        !res.err && res.n) {
        struct sb_dest nd = target_dest(b, &res, 0, hop.proto);
        if (nd.sock)
            d = nd;
    }
    char branch[SB_BRANCH_LEN + 1];
    unsigned wid = sb_worker_self ? sb_worker_self->id : 0;
    if (!sb_branch_make(branch, sizeof(branch), wid, sb_worker_unique()))
        return;
    size_t cap = reply->len + req->len + 512;
    struct sb_buf *out = sb_buf_new(cap);
    if (!out)
        return;
    struct sb_wbuf w;
    sb_wbuf_init(&w, out->data, cap);
    sb_wbuf_printf(&w, "ACK " SB_STR_FMT " SIP/2.0\r\nVia: ", SB_STR_ARG(ruri));
    if (sb_via_make(&w, d.sock, d.proto, sb_str_cstr(branch)) < 0)
        w.err = SB_ENOSPC;
    sb_wbuf_put(&w, "\r\n", 2);
    for (unsigned i = n_rr; i-- > 0;) {
        sb_wbuf_cstr(&w, "Route: ");
        sb_wbuf_str(&w, sb_msg_hdr_value(reply, rr[i]));
        sb_wbuf_put(&w, "\r\n", 2);
    }
    sb_wbuf_str(&w, sb_msg_span(req, from->field));
    sb_wbuf_str(&w, sb_msg_span(reply, to->field));
    sb_wbuf_str(&w, sb_msg_span(req, cid->field));
    sb_wbuf_printf(&w, "CSeq: %u ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                   (unsigned)cs->num);
    if (!w.err)
        sb__tx_send(&d, out->data, w.len);
    sb_buf_unref(out);
}

/* ---- selection ----------------------------------------------------------------------------- */

static int class_rank(int code)
{
    /* RFC3261-16.7 step 6: 6xx first, then the lowest class */
    if (code >= 600)
        return 0;
    return code / 100;
}

static int pick_best(struct sb_tx *t)
{
    int best = -1;
    for (unsigned i = 0; i < t->n_br; i++) {
        struct tx_branch *b = t->br[i];
        if (!b->replied || b->code < 300)
            continue;
        if (best < 0) {
            best = (int)i;
            continue;
        }
        struct tx_branch *c = t->br[best];
        int rb = class_rank(b->code), rc = class_rank(c->code);
        if (rb < rc || (rb == rc && c->local_timeout && !b->local_timeout))
            best = (int)i;
    }
    return best;
}

static bool all_done(const struct sb_tx *t)
{
    for (unsigned i = 0; i < t->n_br; i++)
        if (!t->br[i]->replied)
            return false;
    return true;
}

/* RFC3261-16.7 step 7: the challenges of every 401/407 go up together. */
static size_t merge_auth(struct sb_tx *t, int best, char *out, size_t cap)
{
    struct sb_wbuf w;
    sb_wbuf_init(&w, out, cap);
    for (unsigned i = 0; i < t->n_br; i++) {
        struct tx_branch *b = t->br[i];
        if ((int)i == best || !b->reply || (b->code != 401 && b->code != 407))
            continue;
        for (int k = 0; k < 2; k++) {
            uint16_t type = k ? SB_HDR_PROXY_AUTHENTICATE : SB_HDR_WWW_AUTHENTICATE;
            for (struct sb_hdr *h = sb_msg_hdr_first(b->reply, type); h;
                 h = sb_msg_hdr_next(b->reply, h)) {
                sb_wbuf_cstr(&w, k ? "Proxy-Authenticate: " : "WWW-Authenticate: ");
                sb_wbuf_str(&w, sb_msg_hdr_value(b->reply, h));
                sb_wbuf_put(&w, "\r\n", 2);
            }
        }
    }
    return w.err ? 0 : w.len;
}

void sb__tx_check_done(struct sb_tx *t)
{
    if (t->in_failure || t->in_script || (t->status >= 200 && !t->is_local) || !all_done(t))
        return;
    if (t->is_local && !t->uac_cb)
        return;
    int best = pick_best(t);
    if (best < 0) {
        if (!t->is_local && t->status < 200 && t->n_br)
            sb__tx_local_reply(t, 500, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL);
        return;
    }
    struct tx_branch *b = t->br[best];
    int idx = t->is_local || t->cancelled ? -1 : sb__tx_route_idx(&t->on_failure, SB_ROUTE_FAILURE);
    if (idx >= 0) {
        t->on_failure.idx = -1; /* re-armed by t_on_failure inside the route */
        unsigned before = t->n_br;
        t->in_failure = true;
        t->cur_branch = best;
        t->cur_code = b->code;
        /* the route starts from the request as relayed: no extra branches yet */
        t->rs.n_branches = 0;
        sb__tx_run_route(t, SB_ROUTE_FAILURE, idx, b->reply);
        t->in_failure = false;
        t->cur_branch = -1;
        t->cur_code = 0;
        if (t->status >= 200)
            return; /* the route replied */
        if (t->n_br > before) {
            sb__tx_check_done(t); /* new branches: wait for them (or they failed at once) */
            return;
        }
        best = pick_best(t);
        b = t->br[best];
    }
    if (t->is_local) {
        sb_tx_uac_cb cb = t->uac_cb;
        t->uac_cb = NULL;
        t->status = b->code;
        cb(t->uac_arg, b->code, b->reply);
        sb__tx_finish(t, 0);
        return;
    }
    if (t->cancelled && (b->local_timeout || !b->reply)) {
        /* RFC3261-16.10: the INVITE of a cancelled transaction ends with 487 */
        sb__tx_local_reply(t, 487, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL);
        return;
    }
    if (!b->reply) {
        sb__tx_local_reply(t, b->code, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL);
        return;
    }
    if (b->code == 503) {
        /* RFC3261-16.7 step 6: a 503 becomes 500 upstream */
        sb__tx_local_reply(t, 500, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL);
        return;
    }
    char auth[4096];
    size_t n = (b->code == 401 || b->code == 407) ? merge_auth(t, best, auth, sizeof(auth)) : 0;
    relay_reply(t, b->reply, (sb_str){auth, n});
}

/* ---- script: t_add_cancel_reason ---------------------------------------------------------- */

int sb_tx_set_cancel_reason(struct sb_sctx *ctx, sb_str hdr)
{
    hdr = sb_str_trim(hdr);
    long colon = sb_str_chr(hdr, ':');
    if (colon <= 0 || !sb_str_caseeq_lit(sb_str_trim((sb_str){hdr.p, (size_t)colon}), "reason"))
        return SB_EINVAL;
    struct sb_tx *t = sb_tx_of(ctx);
    /* A CANCEL seen by the script has no INVITE transaction here (a matching one is absorbed
     * before the script): a transaction of its own would make t_relay() send it statefully, with
     * a branch of ours and to every appended branch, not hop by hop (RFC3261-16.10, 16.11). */
    bool stray_cancel = ctx->msg && ctx->msg->method_id == SB_METHOD_CANCEL;
    if (!t && ctx->route_type == SB_ROUTE_REQUEST && !stray_cancel) {
        int rc = sb_tx_new(ctx);
        if (rc < 0)
            return rc;
        t = sb_tx_of(ctx);
    }
    if (!t)
        return SB_ENOENT;
    char *p = malloc(hdr.len + 3);
    if (!p)
        return SB_ENOMEM;
    memcpy(p, hdr.p, hdr.len);
    memcpy(p + hdr.len, "\r\n", 3);
    free(t->cancel_reason);
    t->cancel_reason = p;
    return 0;
}

/* ---- local UAC ----------------------------------------------------------------------------- */

static bool has_hdr(sb_str hdrs, const char *name)
{
    size_t n = strlen(name);
    const char *p = hdrs.p, *end = hdrs.p + hdrs.len;
    while (p && p < end) {
        if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':')
            return true;
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        p = lf ? lf + 1 : NULL;
    }
    return false;
}

/* A transaction without a server side for the request in <buf> (parsed into a message it owns).
 * Returns it, or NULL with *rc set. */
static struct sb_tx *local_tx(struct sb_buf *buf, sb_tx_uac_cb cb, void *arg, int *rc)
{
    struct sb_msg *m = malloc(sizeof(*m));
    if (!m) {
        *rc = SB_ENOMEM;
        return NULL;
    }
    sb_msg_init(m, NULL);
    *rc = sb_msg_parse_buf(m, buf, 0);
    if (*rc < 0)
        SB_INFO("tm: a local request does not parse (%d): %.*s", *rc, (int)buf->len, buf->data);
    struct sb_tx *t = *rc < 0 ? NULL : sb__tx_alloc();
    if (!t) {
        sb_msg_deinit(m);
        free(m);
        if (*rc >= 0)
            *rc = SB_ENOMEM;
        return NULL;
    }
    t->req = m;
    t->is_local = true;
    t->is_invite = m->method_id == SB_METHOD_INVITE;
    t->rs.seq = sb_worker_unique();
    t->uac_cb = cb;
    t->uac_arg = arg;
    sb__tx_arm_guard(t);
    return t;
}

/* Send the local transaction <t> as one branch; on failure it ends without its callback. */
static int local_send(struct sb_tx *t, sb_str ruri, sb_str duri)
{
    int rc = sb__tx_branch_start(t, ruri, duri, 0, NULL);
    if (rc == 0)
        return 0;
    t->uac_cb = NULL;
    sb__tx_finish(t, 0);
    return rc < 0 ? rc : SB_EINVAL;
}

int sb_tx_uac_request(sb_str method, sb_str ruri, sb_str from, sb_str to, sb_str headers,
                      sb_str body, sb_str next_hop, sb_tx_uac_cb cb, void *arg)
{
    return sb_tx_uac_request_from(NULL, method, ruri, from, to, headers, body, next_hop, cb, arg);
}

int sb_tx_uac_request_from(const struct sb_socket *sock, sb_str method, sb_str ruri, sb_str from,
                           sb_str to, sb_str headers, sb_str body, sb_str next_hop, sb_tx_uac_cb cb,
                           void *arg)
{
    if (!method.len || !ruri.len || !from.len || !to.len || !cb)
        return SB_EINVAL;
    size_t cap = method.len * 2 + ruri.len + from.len + to.len + headers.len + body.len + 256;
    struct sb_buf *buf = sb_buf_new(cap);
    if (!buf)
        return SB_ENOMEM;
    uint64_t u = sb_worker_unique();
    struct sb_wbuf w;
    sb_wbuf_init(&w, buf->data, cap);
    sb_wbuf_printf(&w, SB_STR_FMT " " SB_STR_FMT " SIP/2.0\r\n", SB_STR_ARG(method),
                   SB_STR_ARG(ruri));
    sb_wbuf_printf(&w, "From: " SB_STR_FMT, SB_STR_ARG(from));
    struct sb_nameaddr na;
    if (sb_nameaddr_parse(from, &na) < 0 || !na.tag.p)
        sb_wbuf_printf(&w, ";tag=sbuac%llx", (unsigned long long)u);
    sb_wbuf_printf(&w, "\r\nTo: " SB_STR_FMT "\r\n", SB_STR_ARG(to));
    if (!has_hdr(headers, "Call-ID") && !has_hdr(headers, "i"))
        sb_wbuf_printf(&w, "Call-ID: sbuac-%llx\r\n", (unsigned long long)u);
    if (!has_hdr(headers, "CSeq"))
        sb_wbuf_printf(&w, "CSeq: 1 " SB_STR_FMT "\r\n", SB_STR_ARG(method));
    sb_wbuf_str(&w, headers);
    sb_wbuf_printf(&w, "Content-Length: %zu\r\n\r\n", body.len);
    sb_wbuf_str(&w, body);
    if (w.err) {
        sb_buf_unref(buf);
        return w.err;
    }
    buf->len = (uint32_t)w.len;
    int rc;
    struct sb_tx *t = local_tx(buf, cb, arg, &rc);
    sb_buf_unref(buf);
    if (!t)
        return rc;
    t->rs.send_sock = sock;
    /* local_route: may add or remove headers (lumps applied when each branch is built) or drop */
    const struct sb_script *s = sb_worker_self ? sb_worker_self->script : sb_current_script();
    int lr = s ? sb_script_route(s, SB_ROUTE_LOCAL, SB_STR_NULL) : -1;
    if (lr >= 0) {
        sb_res r = sb__tx_run_route(t, SB_ROUTE_LOCAL, lr, NULL);
        if (r.ctl == SB_CTL_DROP) {
            t->uac_cb = NULL;
            sb__tx_finish(t, 0);
            return SB_ENOENT;
        }
    }
    return local_send(t, ruri, next_hop);
}

static void replica_done(void *arg, int code, struct sb_msg *reply)
{
    (void)arg;
    (void)reply;
    SB_DEBUG("tm: replicated request ended with %d", code);
}

int sb__tx_replica_start(struct sb_msg *req, sb_str ruri, sb_str duri)
{
    /* a copy of the request as it stands (script edits applied): the replica's transaction
     * owns it and lives on its own, its replies go nowhere */
    struct sb_fwd_opts o = {.ruri = ruri};
    struct sb_buf *out = NULL;
    int rc = sb_msg_build_request(req, &o, &out);
    if (rc < 0)
        return rc;
    struct sb_tx *t = local_tx(out, replica_done, NULL, &rc);
    sb_buf_unref(out);
    return t ? local_send(t, ruri, duri) : rc;
}

int sb_tx_uac_cancel(sb_str callid, uint32_t cseq)
{
    struct tx_worker *tw = sb__tx_worker();
    int n = 0;
    for (unsigned h = 0; h < TX_HASH_SIZE; h++) {
        for (struct tx_branch *b = tw->uac[h]; b; b = b->hnext) {
            struct sb_tx *t = b->tx;
            if (!t->is_local || !t->is_invite || !t->req || b->state >= UAC_COMPLETED ||
                b->cancel_sent || b->cancel_wanted)
                continue;
            struct sb_hdr *cid = sb_msg_hdr_first(t->req, SB_HDR_CALL_ID);
            const struct sb_cseq *cs = sb_msg_cseq(t->req);
            if (!cid || !cs || cs->num != cseq || !sb_str_eq(sb_msg_hdr_value(t->req, cid), callid))
                continue;
            t->cancelled = true;
            sb__tx_branch_cancel(b);
            n++;
            if (b->state == UAC_TERMINATED) {
                /* still resolving: ended with a local 487 */
                sb__tx_check_done(t);
                break; /* the chain may have changed */
            }
        }
    }
    return n;
}
